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
    ASSERT_TRUE(s.BecomePrimary(2, "test").ok());
    EXPECT_TRUE(s.is_primary());
    EXPECT_EQ(s.epoch(), 2);
    s.SetFrozen(true, "switchover");
    EXPECT_FALSE(s.accepting_writes());
    ASSERT_TRUE(s.BecomeSecondary(3, "peer promoted").ok());
    EXPECT_TRUE(s.accepting_writes()) << "a demoted room forwards writes again";
    EXPECT_EQ(s.epoch(), 3);
    ASSERT_TRUE(s.ObserveEpoch(1).ok());
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
    ASSERT_TRUE(s.BecomePrimary(2, "forced failover").ok());
    promoted_at = clock.NowMs();
    EXPECT_EQ(s.promoted_at_ms(), promoted_at);
    clock.Advance(1000);
    s.SetFrozen(true, "switchover");
    ASSERT_TRUE(s.ObserveEpoch(2).ok());
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
    ASSERT_TRUE(s.BecomeSecondary(3, "peer promoted").ok());
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
    ASSERT_TRUE(s.BecomePrimary(4, "switchover").ok());
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
  ASSERT_TRUE(s.BecomePrimary(8, "promote").ok());
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

// The epoch is what fencing rests on: a role change whose state file cannot
// be written does not happen. The write fails here because the temporary
// file's name is taken by a directory (root ignores permissions).
TEST(RoomStateTest, AFailedStateWriteRefusesTheRoleChange) {
  const std::string file = StateFile("unwritable");
  std::filesystem::remove_all(file + ".tmp");
  RoomState s("B", file, core::Role::kSecondary, 1);
  ASSERT_TRUE(s.Save().ok());
  std::filesystem::create_directories(file + ".tmp");
  core::Status st = s.BecomePrimary(2, "promote");
  EXPECT_FALSE(st.ok()) << "the failed write is reported";
  EXPECT_NE(st.message().find(file + ".tmp"), std::string::npos) << st.message();
  EXPECT_FALSE(s.is_primary()) << "promoted although the epoch was not persisted";
  EXPECT_EQ(s.epoch(), 1);
  EXPECT_FALSE(s.ObserveEpoch(3).ok());
  EXPECT_EQ(s.epoch(), 1) << "the epoch in memory never runs ahead of the file";
  std::filesystem::remove_all(file + ".tmp");
  core::Role role;
  int64_t epoch = 0;
  ASSERT_TRUE(LoadRoomState(file, &role, &epoch));
  EXPECT_EQ(role, core::Role::kSecondary);
  EXPECT_EQ(epoch, 1);

  // A primary told to step down whose file cannot be replaced (here: the
  // state file's name is a non-empty directory, so the rename fails) stays
  // primary in name but takes no writes.
  ASSERT_TRUE(s.BecomePrimary(2, "promote").ok());
  ASSERT_TRUE(s.active_primary());
  std::filesystem::remove_all(file);
  std::filesystem::create_directories(file + "/x");
  st = s.BecomeSecondary(3, "peer promoted");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("rename"), std::string::npos) << st.message();
  EXPECT_TRUE(s.is_primary());
  EXPECT_FALSE(s.accepting_writes()) << "a primary that could not step down must not take writes";
  EXPECT_FALSE(s.active_primary()) << "... nor process them";
  std::filesystem::remove_all(file);
  ASSERT_TRUE(s.BecomeSecondary(3, "peer promoted").ok()) << "works once the file can be written";
  EXPECT_TRUE(s.accepting_writes());
  ASSERT_TRUE(LoadRoomState(file, &role, &epoch));
  EXPECT_EQ(role, core::Role::kSecondary);
  EXPECT_EQ(epoch, 3);
  std::filesystem::remove_all(file);
}

// What was written is durable and exact: the file holds one line and no
// temporary file is left beside it.
TEST(RoomStateTest, SaveWritesTheStateAndLeavesNoTemporaryFile) {
  const std::string file = StateFile("save");
  RoomState s("A", file, core::Role::kPrimary, 4);
  EXPECT_FALSE(std::filesystem::exists(file)) << "construction writes nothing";
  ASSERT_TRUE(s.Save().ok());
  EXPECT_EQ(ReadAll(file), "primary 4\n");
  EXPECT_FALSE(std::filesystem::exists(file + ".tmp"));
  RoomState bad("A", "/nonexistent-dir/room-A.state", core::Role::kPrimary, 4);
  EXPECT_FALSE(bad.Save().ok()) << "a run_dir that cannot hold the file refuses";
}

TEST(RoomStateDeathTest, EpochRegressionAborts) {
  RoomState s("A", "", core::Role::kSecondary, 5);
  EXPECT_DEATH((void)s.BecomePrimary(4, "bad"), "");
}

}  // namespace
}  // namespace danmu::replication
