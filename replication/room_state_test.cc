#include "replication/room_state.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace danmu::replication {
namespace {

TEST(RoomStateTest, TransitionsPersistAndEpochOnlyGrows) {
  auto file = (std::filesystem::temp_directory_path() / "danmu-room-state-test.state").string();
  std::filesystem::remove(file);
  {
    RoomState s("B", file, core::Role::kSecondary, 1);
    EXPECT_FALSE(s.is_primary());
    s.BecomePrimary(2, "test");
    EXPECT_TRUE(s.is_primary());
    EXPECT_EQ(s.epoch(), 2);
    s.SetFrozen(true, "switchover");
    EXPECT_FALSE(s.accepting_writes());
    s.BecomeSecondary(3, "peer promoted");
    EXPECT_TRUE(s.accepting_writes()) << "a demoted room forwards writes again";
    EXPECT_EQ(s.epoch(), 3);
    s.ObserveEpoch(1);
    EXPECT_EQ(s.epoch(), 3) << "observing an older epoch changes nothing";
  }
  core::Role role;
  int64_t epoch = 0;
  ASSERT_TRUE(LoadRoomState(file, &role, &epoch));
  EXPECT_EQ(role, core::Role::kSecondary);
  EXPECT_EQ(epoch, 3);
}

TEST(RoomStateDeathTest, EpochRegressionAborts) {
  RoomState s("A", "", core::Role::kSecondary, 5);
  EXPECT_DEATH(s.BecomePrimary(4, "bad"), "");
}

}  // namespace
}  // namespace danmu::replication
