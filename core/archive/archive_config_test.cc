// The archive: section of the config (core/base/config.h ArchiveOptions).
#include <gtest/gtest.h>

#include "core/base/config.h"

namespace danmu::core {
namespace {

const std::string kBase = R"(
room: A
role: primary
http: {public_port: 17000, admin_port: 17001}
redis: {address: "127.0.0.1:17010"}
kafka: {brokers: "127.0.0.1:17020"}
)";

TEST(ArchiveConfigTest, DefaultsAndOverrides) {
  auto c = ParseConfig(kBase);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->archive.batch_size, 500);
  EXPECT_EQ(c->archive.idle_end_ms, 7200000);
  EXPECT_EQ(c->archive.live_ttl_after_archive_s, 3600);
  EXPECT_EQ(c->archive.checkpoint_interval_ms, 5000);
  EXPECT_EQ(c->processor.unarchived_cap, 50000);
  auto off = ParseConfig(kBase + "processor: {unarchived_cap: 0}\n");
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_EQ(off->processor.unarchived_cap, 0);
  c = ParseConfig(kBase + "archive: {batch_size: 1000, idle_end_ms: 0, live_ttl_after_archive_s: 0, "
                          "replay_ttl_s: 60, replay_max_rooms: 3, replay_max_limit: 50}\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->archive.batch_size, 1000);
  EXPECT_EQ(c->archive.idle_end_ms, 0);
  EXPECT_EQ(c->archive.live_ttl_after_archive_s, 0);
  EXPECT_EQ(c->archive.replay_ttl_s, 60);
  EXPECT_EQ(c->archive.replay_max_rooms, 3);
  EXPECT_EQ(c->archive.replay_max_limit, 50);
}

TEST(ArchiveConfigTest, BadValuesNameTheKey) {
  std::vector<std::pair<std::string, std::string>> cases = {
      {"archive: {batch_size: 0}", "archive.batch_size"},
      {"archive: {batch_size: 20000}", "archive.batch_size"},
      {"archive: {idle_end_ms: -1}", "archive.idle_end_ms"},
      {"archive: {replay_max_rooms: 0}", "archive.replay_max_rooms"},
      {"archive: {replay_ttl_s: abc}", "archive.replay_ttl_s"},
      {"archive: {batchsize: 5}", "archive.batchsize"},
      {"archive: {live_ttl_after_archive_s: -5}", "archive.live_ttl_after_archive_s"},
      {"archive: {checkpoint_interval_ms: 0}", "archive.checkpoint_interval_ms"},
      // The unarchived hold must not be below the plain cap (0 turns it off).
      {"processor: {live_cap: 5000, unarchived_cap: 4999}", "processor.unarchived_cap"},
      {"processor: {unarchived_cap: -1}", "processor.unarchived_cap"},
  };
  for (const auto& [yaml, key] : cases) {
    auto c = ParseConfig(kBase + yaml + "\n");
    ASSERT_FALSE(c.ok()) << yaml;
    EXPECT_NE(c.status().message().find("'" + key + "'"), std::string::npos) << c.status().message();
  }
}

TEST(ArchiveConfigTest, ShippedConfigsCarryTheArchiveSection) {
  for (const char* f : {"/config/room-a.yaml", "/config/room-b.yaml"}) {
    auto c = LoadConfig(std::string(DANMU_SOURCE_DIR) + f);
    ASSERT_TRUE(c.ok()) << f << ": " << c.status().ToString();
    EXPECT_EQ(c->archive.replay_max_rooms, 100) << f;
    EXPECT_EQ(c->archive.scan_interval_ms, 30000) << f;
  }
}

}  // namespace
}  // namespace danmu::core
