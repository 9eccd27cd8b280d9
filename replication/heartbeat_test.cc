#include "replication/heartbeat.h"

#include <gtest/gtest.h>

namespace danmu::replication {
namespace {

TEST(InfoReplicationTest, Replica) {
  LagSample s;
  ParseInfoReplication("# Replication\r\nrole:slave\r\nmaster_link_status:down\r\nslave_repl_offset:100\r\nmaster_repl_offset:160\r\n", &s);
  EXPECT_FALSE(s.local_is_master);
  EXPECT_FALSE(s.link_up);
  EXPECT_EQ(s.offset_lag_bytes, 60);
}

TEST(InfoReplicationTest, Master) {
  LagSample s;
  s.link_up = false;
  ParseInfoReplication("role:master\r\nmaster_repl_offset:500\r\n", &s);
  EXPECT_TRUE(s.local_is_master);
  EXPECT_TRUE(s.link_up);
  EXPECT_EQ(s.offset_lag_bytes, 0);
}

}  // namespace
}  // namespace danmu::replication
