#include "replication/room_state.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

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

std::string StateFile(const std::string& name) {
  auto file = (std::filesystem::temp_directory_path() / ("danmu-room-state-test-" + name + ".state")).string();
  std::filesystem::remove(file);
  return file;
}

std::string ReadAll(const std::string& file) {
  std::ifstream in(file);
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

TEST(RoomStateTest, PromotionTimeIsRecordedPersistedAndSurvivesRestartAndDemotion) {
  const std::string file = StateFile("promoted");
  core::FakeClock clock;
  int64_t promoted_at = 0;
  {
    RoomState s("B", file, core::Role::kSecondary, 1, clock);
    EXPECT_EQ(s.promoted_at_ms(), 0) << "never promoted: unknown";
    clock.Advance(5000);
    s.BecomePrimary(2, "forced failover");
    promoted_at = clock.NowMs();
    EXPECT_EQ(s.promoted_at_ms(), promoted_at);
    clock.Advance(1000);
    s.SetFrozen(true, "switchover");
    s.ObserveEpoch(2);
    EXPECT_EQ(s.promoted_at_ms(), promoted_at) << "only a promotion moves it";
  }
  core::Role role;
  int64_t epoch = 0, promoted = -1;
  ASSERT_TRUE(LoadRoomState(file, &role, &epoch, &promoted)) << ReadAll(file);
  EXPECT_EQ(role, core::Role::kPrimary);
  EXPECT_EQ(epoch, 2);
  EXPECT_EQ(promoted, promoted_at);

  // danmud restarts: the daemon loads role and epoch, the state keeps the
  // promotion time from the file (and writes it back).
  clock.Advance(60'000);
  {
    RoomState s("B", file, role, epoch, clock);
    EXPECT_EQ(s.promoted_at_ms(), promoted_at);
    s.BecomeSecondary(3, "peer promoted");
    EXPECT_EQ(s.promoted_at_ms(), promoted_at) << "the last promotion stays known after a demotion";
  }
  ASSERT_TRUE(LoadRoomState(file, &role, &epoch, &promoted));
  EXPECT_EQ(role, core::Role::kSecondary);
  EXPECT_EQ(epoch, 3);
  EXPECT_EQ(promoted, promoted_at);

  // Promoted again: the newer time replaces it.
  {
    RoomState s("B", file, role, epoch, clock);
    clock.Advance(1000);
    s.BecomePrimary(4, "switchover");
    EXPECT_EQ(s.promoted_at_ms(), clock.NowMs());
  }
  ASSERT_TRUE(LoadRoomState(file, &role, &epoch, &promoted));
  EXPECT_EQ(promoted, clock.NowMs());
  EXPECT_GT(promoted, promoted_at);

  // A danmud from before the field reads the first two tokens only.
  std::ifstream old_reader(file);
  std::string r;
  int64_t e = 0;
  ASSERT_TRUE(old_reader >> r >> e);
  EXPECT_EQ(r, "primary");
  EXPECT_EQ(e, 4);
}

TEST(RoomStateTest, StateFileWithoutThePromotionTimeReadsAsUnknown) {
  const std::string file = StateFile("old-format");
  {
    std::ofstream out(file);
    out << "primary 7\n";  // written by a danmud before the field existed
  }
  core::Role role;
  int64_t epoch = 0, promoted = -1;
  ASSERT_TRUE(LoadRoomState(file, &role, &epoch, &promoted));
  EXPECT_EQ(role, core::Role::kPrimary);
  EXPECT_EQ(epoch, 7);
  EXPECT_EQ(promoted, 0);
  ASSERT_TRUE(LoadRoomState(file, &role, &epoch)) << "callers that do not ask for it";

  core::FakeClock clock;
  RoomState s("A", file, role, epoch, clock);
  EXPECT_EQ(s.promoted_at_ms(), 0);
  EXPECT_EQ(ReadAll(file), "primary 7\n") << "an unknown time is not written";
  s.BecomePrimary(8, "promote");
  EXPECT_EQ(s.promoted_at_ms(), clock.NowMs());
}

TEST(RoomStateTest, UnknownFieldsAreSkippedAndABadTimeIsUnknown) {
  const std::string file = StateFile("fields");
  core::Role role;
  int64_t epoch = 0, promoted = -1;
  {
    std::ofstream out(file);
    out << "secondary 3 future_field=x promoted_at_ms=1700000000123\n";
  }
  ASSERT_TRUE(LoadRoomState(file, &role, &epoch, &promoted));
  EXPECT_EQ(role, core::Role::kSecondary);
  EXPECT_EQ(epoch, 3);
  EXPECT_EQ(promoted, 1700000000123);
  for (const char* bad : {"promoted_at_ms=", "promoted_at_ms=12abc", "promoted_at_ms=-5"}) {
    {
      std::ofstream out(file, std::ios::trunc);
      out << "secondary 3 " << bad << "\n";
    }
    promoted = -1;
    ASSERT_TRUE(LoadRoomState(file, &role, &epoch, &promoted)) << bad;
    EXPECT_EQ(promoted, 0) << bad;
  }
  {
    std::ofstream out(file, std::ios::trunc);
    out << "leader 3 promoted_at_ms=1700000000123\n";
  }
  EXPECT_FALSE(LoadRoomState(file, &role, &epoch, &promoted)) << "an unknown role is no state";
}

TEST(RoomStateDeathTest, EpochRegressionAborts) {
  RoomState s("A", "", core::Role::kSecondary, 5);
  EXPECT_DEATH(s.BecomePrimary(4, "bad"), "");
}

}  // namespace
}  // namespace danmu::replication
