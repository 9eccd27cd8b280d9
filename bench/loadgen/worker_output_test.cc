#include <gtest/gtest.h>

#include "bench/loadgen/load.h"

namespace danmu::bench {
namespace {

// Worker processes hand their figures to the parent as text: what one worker
// recorded must come back whole, and two workers' figures add up.
TEST(WorkerOutput, SerializeParseMerge) {
  WorkerOutput a;
  a.hist["latency"].Record(1500);
  a.count["ok"] = 3;
  a.count["err_timeout"] = 1;
  a.acks.push_back({"small0", "id1", 100, "0w1", 0, "gift"});
  a.acks.push_back({"small0", "id2", 120, "0w1", 1, ""});
  a.follows.push_back({"poll1", "small0", 50, true, {"id1", "id2"}});
  a.follows.push_back({"poll2", "big", 60, false, {}});
  WorkerOutput back;
  ASSERT_TRUE(WorkerOutput::Parse(a.Serialize(), &back));
  EXPECT_EQ(back.count["ok"], 3);
  EXPECT_EQ(back.hist["latency"].count(), 1);
  ASSERT_EQ(back.acks.size(), 2u);
  EXPECT_EQ(back.acks[0].id, "id1");
  EXPECT_EQ(back.acks[0].ack_us, 100);
  EXPECT_EQ(back.acks[0].type, "gift");
  EXPECT_EQ(back.acks[1].seq, 1);
  EXPECT_EQ(back.acks[1].type, "");
  ASSERT_EQ(back.follows.size(), 2u);
  EXPECT_EQ(back.follows[0].ids, (std::vector<std::string>{"id1", "id2"}));
  EXPECT_TRUE(back.follows[0].complete);
  EXPECT_FALSE(back.follows[1].complete);
  EXPECT_TRUE(back.follows[1].ids.empty());
  WorkerOutput b;
  b.count["ok"] = 2;
  b.hist["latency"].Record(10);
  back.Merge(std::move(b));
  EXPECT_EQ(back.count["ok"], 5);
  EXPECT_EQ(back.hist["latency"].count(), 2);
  EXPECT_FALSE(WorkerOutput::Parse("X nonsense\n", &back));
}

}  // namespace
}  // namespace danmu::bench
