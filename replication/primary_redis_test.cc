#include "replication/primary_redis.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace danmu::replication {
namespace {

std::string StateFile(const char* name) {
  std::string path = ::testing::TempDir() + "/primary_redis_" + name + ".state";
  std::remove(path.c_str());
  return path;
}

core::Config TwoRooms() {
  core::Config c;
  c.redis.address = "own:6379";
  c.redis.password = "pw";
  c.peer.redis = "peer:6379";
  return c;
}

TEST(PrimaryRoomRedis, ActivePrimaryWritesItsOwn) {
  RoomState state("A", StateFile("active"), core::Role::kPrimary, 3);
  auto o = PrimaryRoomRedis(TwoRooms(), state);
  EXPECT_EQ(o.address, "own:6379");
  EXPECT_EQ(o.password, "pw");
}

TEST(PrimaryRoomRedis, SecondaryAndUnconfirmedPrimaryWriteThePeers) {
  RoomState secondary("B", StateFile("secondary"), core::Role::kSecondary, 3);
  EXPECT_EQ(PrimaryRoomRedis(TwoRooms(), secondary).address, "peer:6379");
  RoomState restarted("A", StateFile("restarted"), core::Role::kPrimary, 3);
  restarted.SetConfirmed(false, "test: restarted as primary");
  EXPECT_EQ(PrimaryRoomRedis(TwoRooms(), restarted).address, "peer:6379");
}

TEST(PrimaryRoomRedis, WithoutAPeerEveryRoomWritesItsOwn) {
  core::Config c = TwoRooms();
  c.peer.redis.clear();
  RoomState secondary("B", StateFile("nopeer"), core::Role::kSecondary, 3);
  EXPECT_EQ(PrimaryRoomRedis(c, secondary).address, "own:6379");
}

}  // namespace
}  // namespace danmu::replication
