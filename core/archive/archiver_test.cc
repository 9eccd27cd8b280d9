#include "core/archive/archiver.h"

#include <gtest/gtest.h>

namespace danmu::core {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;

TEST(ArchiverPolicyTest, ParsesTheMetaHash) {
  RoomMeta m = ParseRoomMeta({"state", "ended", "start_ms", std::to_string(kStart), "last:comment", "900",
                              "last:system", "1000", "epoch", "3", "archived_ms", "1", "archived_last:comment", "900"});
  EXPECT_EQ(m.state, "ended");
  EXPECT_EQ(m.start_ms, kStart);
  EXPECT_EQ(m.last[0], 900);
  EXPECT_EQ(m.last[1], 0);
  EXPECT_EQ(m.last[3], 1000);
  EXPECT_TRUE(m.archived);
  EXPECT_EQ(m.archived_last[0], 900);
  EXPECT_EQ(m.archived_last[3], 0);
}

TEST(ArchiverPolicyTest, EndedOrIdleAndNotArchivedSinceTheLastMessage) {
  const int64_t idle = 60'000;
  RoomMeta live;
  live.state = "live";
  live.start_ms = kStart;
  live.last[0] = 1000;
  EXPECT_FALSE(NeedsArchive(live, kStart + 1000 + idle - 1, idle)) << "live and recently active";
  EXPECT_TRUE(NeedsArchive(live, kStart + 1000 + idle, idle)) << "idle for idle_end_ms";
  EXPECT_FALSE(NeedsArchive(live, kStart + 1000 + 100 * idle, 0)) << "idle_end_ms 0 disables idle archiving";

  RoomMeta ended = live;
  ended.state = "ended";
  EXPECT_TRUE(NeedsArchive(ended, kStart, idle));

  RoomMeta done = ended;
  done.archived = true;
  done.archived_last[0] = 1000;
  EXPECT_FALSE(NeedsArchive(done, kStart + 100 * idle, idle)) << "archived, nothing new";
  done.last[2] = 1500;  // a late join after the archive
  EXPECT_TRUE(NeedsArchive(done, kStart, idle));
}

}  // namespace
}  // namespace danmu::core
