#include "core/live/like_aggregator.h"

#include <gtest/gtest.h>

#include <thread>

namespace danmu::core {
namespace {

TEST(LikeAggregatorTest, SumsPerRoomAndCompletesWaiters) {
  LikeAggregator agg;
  auto a1 = agg.Add("r1", 3);
  auto a2 = agg.Add("r1", 4);
  auto b1 = agg.Add("r2", 1);
  EXPECT_EQ(a1, a2) << "likes of one room join one batch";
  auto batches = agg.TakeBatches();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0]->live_room(), "r1");
  EXPECT_EQ(batches[0]->total(), 7);
  EXPECT_EQ(batches[1]->total(), 1);
  batches[0]->Complete(Status::Ok());
  batches[1]->Complete(Status(Code::kUnavailable, "down"));
  EXPECT_TRUE(a1->Wait(1000).ok());
  EXPECT_EQ(b1->Wait(1000).code(), Code::kUnavailable);
  EXPECT_TRUE(agg.TakeBatches().empty());
  auto later = agg.Add("r1", 1);
  EXPECT_NE(later, a1) << "a closed batch takes no more likes";
}

TEST(LikeAggregatorTest, ThenRunsOnceWithTheOutcomeBeforeOrAfterCompletion) {
  LikeAggregator agg;
  auto early = agg.Add("r", 2);
  std::vector<Code> seen;
  early->Then([&](Status s) { seen.push_back(s.code()); });
  EXPECT_TRUE(seen.empty()) << "not complete yet";
  auto batches = agg.TakeBatches();
  ASSERT_EQ(batches.size(), 1u);
  batches[0]->Complete(Status(Code::kUnavailable, "down"));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], Code::kUnavailable);
  early->Then([&](Status s) { seen.push_back(s.code()); });  // already complete: at once
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1], Code::kUnavailable);
}

TEST(LikeAggregatorTest, ConcurrentAddsAreCountedExactly) {
  LikeAggregator agg;
  int64_t flushed = 0;
  std::atomic<bool> done{false};
  std::thread flusher([&] {
    while (!done) {
      for (auto& b : agg.TakeBatches()) { flushed += b->total(); b->Complete(Status::Ok()); }
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) ASSERT_TRUE(agg.Add("r", 2)->Wait(10000).ok());
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  flusher.join();
  for (auto& b : agg.TakeBatches()) flushed += b->total();
  EXPECT_EQ(flushed, 4 * 10000 * 2);
}

TEST(LikeAggregatorTest, WaitTimesOutWhenNeverFlushed) {
  LikeAggregator agg;
  EXPECT_EQ(agg.Add("r", 1)->Wait(10).code(), Code::kUnavailable);
}

}  // namespace
}  // namespace danmu::core
