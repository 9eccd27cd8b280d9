#include "bench/loadgen/exactness.h"

#include <gtest/gtest.h>

namespace danmu::bench {
namespace {

std::vector<Ack> Acks() {
  // Two writers in room r, acknowledged at 10..40; one in room s.
  return {{"r", "a1", 10, "w1", 0}, {"r", "b1", 20, "w2", 0}, {"r", "a2", 30, "w1", 1},
          {"r", "b2", 40, "w2", 1}, {"s", "c1", 15, "w3", 0}};
}

TEST(Exactness, AllSeenOnceInOrderIsOk) {
  std::vector<Follow> f = {{"v1", "r", 5, true, {"a1", "b1", "a2", "b2"}},
                           {"v2", "r", 5, true, {"a1", "b1", "a2", "b2"}},
                           {"v3", "s", 5, true, {"c1"}}};
  auto r = CheckExactness(Acks(), f);
  EXPECT_TRUE(r.ok()) << (r.examples.empty() ? "" : r.examples[0]);
  EXPECT_EQ(r.followers, 3);
  EXPECT_EQ(r.required, 9);
  EXPECT_EQ(r.delivered, 9);
}

TEST(Exactness, MissingDuplicateAndDisorderAreEachCaught) {
  auto missing = CheckExactness(Acks(), {{"v1", "r", 5, true, {"a1", "b1", "a2"}}});
  EXPECT_EQ(missing.missing, 1);
  EXPECT_FALSE(missing.ok());
  auto dup = CheckExactness(Acks(), {{"v1", "r", 5, true, {"a1", "b1", "b1", "a2", "b2"}}});
  EXPECT_EQ(dup.duplicates, 1);
  EXPECT_EQ(dup.missing, 0);
  // Writer order broken (a2 before a1).
  auto writer_order = CheckExactness(Acks(), {{"v1", "r", 5, true, {"a2", "b1", "a1", "b2"}}});
  EXPECT_GE(writer_order.out_of_order, 1);
  // Two followers disagree on the order of b1 and a2 (each writer's order kept).
  auto room_order = CheckExactness(Acks(), {{"v1", "r", 5, true, {"a1", "b1", "a2", "b2"}},
                                            {"v2", "r", 5, true, {"a1", "a2", "b1", "b2"}}});
  EXPECT_EQ(room_order.out_of_order, 1);
}

// Order is per (room, type): one writer's gift may become visible before its
// earlier comment (another sorted set, another partition), and two followers
// may interleave the types differently; inside one type nothing may move.
TEST(Exactness, OrderIsCheckedWithinEachTypeOnly) {
  std::vector<Ack> acks = {{"r", "c0", 10, "w", 0, "comment"}, {"r", "g1", 20, "w", 1, "gift"},
                           {"r", "c2", 30, "w", 2, "comment"}, {"r", "g3", 40, "w", 3, "gift"}};
  auto across = CheckExactness(acks, {{"v1", "r", 5, true, {"g1", "c0", "g3", "c2"}},
                                      {"v2", "r", 5, true, {"c0", "c2", "g1", "g3"}}});
  EXPECT_TRUE(across.ok()) << (across.examples.empty() ? "" : across.examples[0]);
  auto writer_within = CheckExactness(acks, {{"v1", "r", 5, true, {"c2", "c0", "g1", "g3"}}});
  EXPECT_EQ(writer_within.out_of_order, 1);
  // Two writers' comments in a different order in two followers.
  std::vector<Ack> two = {{"r", "a", 10, "w1", 0, "comment"}, {"r", "b", 20, "w2", 0, "comment"}};
  auto room_within = CheckExactness(two, {{"v1", "r", 5, true, {"a", "b"}}, {"v2", "r", 5, true, {"b", "a"}}});
  EXPECT_EQ(room_within.out_of_order, 1);
}

TEST(Exactness, MessagesAckedBeforeTheFirstAnswerAreNotRequired) {
  // v joined at 25: a1 and b1 were acknowledged before its first answer.
  auto r = CheckExactness(Acks(), {{"v", "r", 25, true, {"a2", "b2"}}});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.required, 2);
}

TEST(Exactness, IncompleteFollowerIsCheckedForOnceAndOrderOnly) {
  auto r = CheckExactness(Acks(), {{"v", "r", 5, false, {"b1", "b2"}}});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.required, 0);
  auto dup = CheckExactness(Acks(), {{"v", "r", 5, false, {"b1", "b1"}}});
  EXPECT_EQ(dup.duplicates, 1);
}

}  // namespace
}  // namespace danmu::bench
