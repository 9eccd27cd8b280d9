#include "replication/ops/kafka_partitions.h"

#include <gtest/gtest.h>

#include <map>

namespace danmu::replication {
namespace {

// A model of the rooms' brokers: topic partition counts, unreachable ones,
// and the order of the grow calls.
class FakeAdmin : public PartitionAdmin {
 public:
  std::map<std::string, int> counts;
  std::map<std::string, bool> down;
  std::vector<std::string> grown;
  core::Result<int> Count(const std::string& brokers, const std::string&) override {
    if (down[brokers]) return core::Status(core::Code::kUnavailable, brokers + " down");
    return counts[brokers];
  }
  core::Status Grow(const std::string& brokers, const std::string&, int total) override {
    if (down[brokers]) return core::Status(core::Code::kUnavailable, brokers + " down");
    grown.push_back(brokers);
    counts[brokers] = total;
    return core::Status::Ok();
  }
};

std::vector<PartitionRoom> Rooms(bool b_active) { return {{"A", "ka", !b_active}, {"B", "kb", b_active}}; }

TEST(KafkaPartitionsTest, GrowsTheActiveRoomFirstThenTheStandby) {
  FakeAdmin f;
  f.counts = {{"ka", 6}, {"kb", 6}};
  auto g = GrowPartitions(f, Rooms(/*b_active=*/true), "t", 12);
  EXPECT_TRUE(g.ok) << g.error;
  EXPECT_TRUE(g.changed);
  ASSERT_EQ(f.grown, (std::vector<std::string>{"kb", "ka"}));
  ASSERT_EQ(g.rooms.size(), 2u);
  EXPECT_EQ(g.rooms[0].room, "B");
  EXPECT_EQ(g.rooms[0].before, 6);
  EXPECT_EQ(g.rooms[0].after, 12);
  EXPECT_EQ(g.rooms[1].after, 12);
}

TEST(KafkaPartitionsTest, ARerunChangesNothing) {
  FakeAdmin f;
  f.counts = {{"ka", 12}, {"kb", 12}};
  auto g = GrowPartitions(f, Rooms(false), "t", 12);
  EXPECT_TRUE(g.ok);
  EXPECT_FALSE(g.changed);
  EXPECT_TRUE(f.grown.empty());
}

TEST(KafkaPartitionsTest, ShrinkingIsRefusedBeforeAnythingChanges) {
  FakeAdmin f;
  f.counts = {{"ka", 6}, {"kb", 16}};
  auto g = GrowPartitions(f, Rooms(false), "t", 12);
  EXPECT_FALSE(g.ok);
  EXPECT_NE(g.error.find("room B already has 16"), std::string::npos) << g.error;
  EXPECT_TRUE(f.grown.empty()) << "room A must not be grown when B cannot match";
  EXPECT_EQ(f.counts["ka"], 6);
}

TEST(KafkaPartitionsTest, OutOfRangeCountsAreRefused) {
  FakeAdmin f;
  f.counts = {{"ka", 6}, {"kb", 6}};
  for (int n : {0, -3, kMaxPartitions + 1}) {
    auto g = GrowPartitions(f, Rooms(false), "t", n);
    EXPECT_FALSE(g.ok);
    EXPECT_NE(g.error.find("partitions must be"), std::string::npos) << g.error;
  }
  EXPECT_TRUE(f.grown.empty());
}

TEST(KafkaPartitionsTest, ADownStandbyIsReportedAndTheActiveStillGrows) {
  FakeAdmin f;
  f.counts = {{"ka", 6}, {"kb", 6}};
  f.down["kb"] = true;
  auto g = GrowPartitions(f, Rooms(false), "t", 12);
  EXPECT_FALSE(g.ok) << "not every room has 12";
  EXPECT_TRUE(g.changed);
  EXPECT_EQ(f.counts["ka"], 12);
  EXPECT_NE(g.rooms[1].error.find("kb down"), std::string::npos);
  // Once it is back, a rerun completes the layout and leaves A alone.
  f.down["kb"] = false;
  f.grown.clear();
  auto again = GrowPartitions(f, Rooms(false), "t", 12);
  EXPECT_TRUE(again.ok);
  EXPECT_EQ(f.grown, (std::vector<std::string>{"kb"}));
}

TEST(KafkaPartitionsTest, ADownActiveRefusesTheOperation) {
  FakeAdmin f;
  f.counts = {{"ka", 6}, {"kb", 6}};
  f.down["ka"] = true;
  auto g = GrowPartitions(f, Rooms(false), "t", 12);
  EXPECT_FALSE(g.ok);
  EXPECT_NE(g.error.find("active room's Kafka"), std::string::npos) << g.error;
  EXPECT_TRUE(f.grown.empty());
}

TEST(KafkaPartitionsTest, JsonNamesEveryRoom) {
  FakeAdmin f;
  f.counts = {{"ka", 6}, {"kb", 6}};
  auto json = PartitionGrowthJson(GrowPartitions(f, Rooms(false), "t", 8));
  EXPECT_NE(json.find("\"ok\":true"), std::string::npos) << json;
  EXPECT_NE(json.find("{\"room\":\"A\",\"brokers\":\"ka\",\"active\":true,\"before\":6,\"after\":8,\"error\":\"\"}"),
            std::string::npos) << json;
}

TEST(KafkaPartitionsTest, OwnersMergeFromEveryProcessorStatus) {
  RoomStatus a, b;
  a.processor.instance = "A@h1:1";
  a.now_ms = 100;
  a.partitions = {{0, 5, 0, true, 0.4}, {1, 7, 0, false, -1}, {2, 0, 0, false, -1}};
  b.processor.instance = "A@h2:2";
  b.now_ms = 200;  // fresher: its lag wins
  b.partitions = {{0, 6, 0, false, -1}, {1, 9, 0, true, 1.5}, {2, 1, 0, false, -1}};
  auto rows = MergePartitionOwners({a, b});
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].owner, "A@h1:1");
  EXPECT_EQ(rows[0].lag, 6);
  EXPECT_DOUBLE_EQ(rows[0].lag_seconds, 0.4);
  EXPECT_EQ(rows[1].owner, "A@h2:2");
  EXPECT_EQ(rows[1].lag, 9);
  EXPECT_EQ(rows[2].owner, "-") << "nobody owns it: its owner died";
  EXPECT_EQ(rows[2].owners, 0);
  EXPECT_EQ(rows[2].lag, 1);
}

TEST(KafkaPartitionsTest, TwoOwnersOfOnePartitionAreBothShown) {
  RoomStatus a, b;
  a.processor.instance = "p1";
  b.processor.instance = "p2";
  a.partitions = {{3, 0, 0, true, 0}};
  b.partitions = {{3, 0, 0, true, 0}};
  auto rows = MergePartitionOwners({a, b});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].owners, 2);
  EXPECT_EQ(rows[0].owner, "p1,p2");
}

}  // namespace
}  // namespace danmu::replication
