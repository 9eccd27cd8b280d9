#include "replication/room_status.h"

#include <gtest/gtest.h>

namespace danmu::replication {
namespace {

// The form danmud served before RoomStatus existed (keys Ansible and the
// peers read), plus the processor's group view (instance, batch_limit,
// partitions): it must keep parsing to the same values.
constexpr const char* kServedBefore =
    R"({"room":"A","role":"primary","epoch":7,"writes_frozen":true,"confirmed":false,"promoted_at_ms":1700,)"
    R"("writes_in_flight":3,"read_source":"peer","degrade_level":2,"now_ms":123456,)"
    R"("replication":{"lag_seconds":0.250000,"link_up":true,"offset_lag_bytes":42,"local_is_master":false,)"
    R"("store_epoch":6,"repl_offset":9000},)"
    R"("processor":{"running":true,"fenced":false,"paused":true,"lag_seconds":1.500000,"delay_seconds":0.020000,)"
    R"("applied":55,"backlog":12,"backlog_sampled_at_ms":123400,"instance":"A@h1:17001","batch_limit":400},)"
    R"("cache":{"hot_rooms":4},"edge":{"connections":5000,"requests_in_flight":17},)"
    R"("push":{"enabled":true,"poll_only":true,"connections":4200,"broadcast_rooms":3},)"
    R"("routing":{"rules_version":9,"percent":37,"kill_switch":true,"rules_stale":true,"edges":2,"registered":true},)"
    R"("partitions":[{"partition":0,"lag":5,"committed":10,"high":15,"owned":true,"worker":1,"lag_seconds":0.400000},)"
    R"({"partition":1,"lag":0,"committed":7,"high":7,"owned":false,"worker":-1,"lag_seconds":-1.000000}]})";

TEST(RoomStatus, ParsesTheServedForm) {
  auto s = RoomStatus::Parse(kServedBefore);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->room, "A");
  EXPECT_EQ(s->role, core::Role::kPrimary);
  EXPECT_EQ(s->epoch, 7);
  EXPECT_TRUE(s->writes_frozen);
  EXPECT_FALSE(s->confirmed);
  EXPECT_FALSE(s->active_primary());
  EXPECT_EQ(s->promoted_at_ms, 1700);
  EXPECT_EQ(s->writes_in_flight, 3);
  EXPECT_EQ(s->read_source, "peer");
  EXPECT_EQ(s->degrade_level, 2);
  EXPECT_EQ(s->now_ms, 123456);
  EXPECT_EQ(s->edge.connections, 5000);
  EXPECT_EQ(s->edge.requests_in_flight, 17);
  EXPECT_TRUE(s->push.enabled);
  EXPECT_TRUE(s->push.poll_only);
  EXPECT_EQ(s->push.connections, 4200);
  EXPECT_EQ(s->push.broadcast_rooms, 3);
  EXPECT_EQ(s->routing.rules_version, 9);
  EXPECT_EQ(s->routing.percent, 37);
  EXPECT_TRUE(s->routing.kill_switch);
  EXPECT_TRUE(s->routing.rules_stale);
  EXPECT_EQ(s->routing.edges, 2);
  EXPECT_TRUE(s->routing.registered);
  EXPECT_DOUBLE_EQ(s->replication.lag_seconds, 0.25);
  EXPECT_TRUE(s->replication.link_up);
  EXPECT_EQ(s->replication.offset_lag_bytes, 42);
  EXPECT_FALSE(s->replication.local_is_master);
  EXPECT_EQ(s->replication.store_epoch, 6);
  EXPECT_EQ(s->replication.repl_offset, 9000);
  EXPECT_TRUE(s->processor.running);
  EXPECT_TRUE(s->processor.paused);
  EXPECT_DOUBLE_EQ(s->processor.lag_seconds, 1.5);
  EXPECT_DOUBLE_EQ(s->processor.delay_seconds, 0.02);
  EXPECT_EQ(s->processor.applied, 55);
  EXPECT_EQ(s->processor.backlog, 12);
  EXPECT_EQ(s->processor.backlog_sampled_at_ms, 123400);
  EXPECT_EQ(s->cache.hot_rooms, 4);
  EXPECT_EQ(s->processor.instance, "A@h1:17001");
  EXPECT_EQ(s->processor.batch_limit, 400);
  ASSERT_EQ(s->partitions.size(), 2u);
  EXPECT_EQ(s->partitions[0].partition, 0);
  EXPECT_EQ(s->partitions[0].lag, 5);
  EXPECT_EQ(s->partitions[0].committed, 10);
  EXPECT_EQ(s->partitions[0].high, 15);
  EXPECT_TRUE(s->partitions[0].owned);
  EXPECT_EQ(s->partitions[0].worker, 1);
  EXPECT_DOUBLE_EQ(s->partitions[0].lag_seconds, 0.4);
  EXPECT_FALSE(s->partitions[1].owned);
  EXPECT_DOUBLE_EQ(s->partitions[1].lag_seconds, -1);
  EXPECT_EQ(s->raw, kServedBefore);
}

TEST(RoomStatus, WritesWhatItReads) {
  auto s = RoomStatus::Parse(kServedBefore);
  ASSERT_TRUE(s.ok());
  // Same keys, same order, same number formatting as the form served before.
  EXPECT_EQ(s->ToJson(), kServedBefore);
  auto again = RoomStatus::Parse(s->ToJson());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ToJson(), s->ToJson());
}

TEST(RoomStatus, EscapesStrings) {
  RoomStatus s;
  s.room = "a\"b<";
  const std::string j = s.ToJson();
  EXPECT_NE(j.find(R"("room":"a\"b\u003c")"), std::string::npos) << j;
  auto back = RoomStatus::Parse(j);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->room, "a\"b<");
}

TEST(RoomStatus, MissingFieldsTakeTheirDefaults) {
  auto s = RoomStatus::Parse(R"({"role":"secondary","epoch":3,"writes_frozen":false})");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->role, core::Role::kSecondary);
  EXPECT_EQ(s->epoch, 3);
  EXPECT_TRUE(s->confirmed);
  EXPECT_EQ(s->read_source, "local");
  EXPECT_EQ(s->processor.backlog, -1);
  EXPECT_EQ(s->processor.backlog_sampled_at_ms, -1);
  EXPECT_EQ(s->edge.connections, -1);  // an older danmud: no edge section
  EXPECT_EQ(s->push.connections, -1);  // nor a push section
  EXPECT_FALSE(s->push.enabled);
  EXPECT_EQ(s->routing.rules_version, -1);  // nor a routing one
  EXPECT_DOUBLE_EQ(s->processor.delay_seconds, -1);
}

TEST(RoomStatus, RefusesWhatItCannotRead) {
  struct Case {
    const char* json;
    const char* names;  // what the message must mention
  } cases[] = {
      {"", ""},
      {"[1,2]", "not a JSON object"},
      {R"({"epoch":1})", "'role'"},
      {R"({"role":"primary"})", "'epoch'"},
      {R"({"role":"leader","epoch":1})", "'role'"},
      {R"({"role":"primary","epoch":"x"})", "'epoch'"},
      {R"({"role":"primary","epoch":1,"replication":5})", "'replication'"},
      {R"({"role":"primary","epoch":1,"processor":{"backlog":"many"}})", "'backlog'"},
      {R"({"role":"primary","epoch":1,"partitions":{}})", "'partitions'"},
      {R"({"role":"primary","epoch":1,"partitions":[1]})", "'partitions'"},
      {R"({"role":"primary","epoch":1,"partitions":[{"lag":"x"}]})", "'lag'"},
  };
  for (const auto& c : cases) {
    auto s = RoomStatus::Parse(c.json);
    ASSERT_FALSE(s.ok()) << c.json;
    EXPECT_EQ(s.status().code(), core::Code::kInvalidArgument) << c.json;
    EXPECT_NE(s.status().message().find(c.names), std::string::npos) << c.json << ": " << s.status().message();
  }
}

}  // namespace
}  // namespace danmu::replication
