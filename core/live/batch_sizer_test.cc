#include "core/live/batch_sizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace danmu::core {
namespace {

BatchSizerOptions Opts(int base, int ceiling, int64_t bytes = 1 << 20) {
  BatchSizerOptions o;
  o.base_records = base;
  o.ceiling_records = ceiling;
  o.ceiling_bytes = bytes;
  return o;
}

TEST(BatchSizerTest, StartsAtTheBaseAndStaysThereWhileQuiet) {
  BatchSizer s(Opts(100, 5000));
  EXPECT_EQ(s.limit().records, 100);
  EXPECT_EQ(s.limit().bytes, 1 << 20);
  for (int i = 0; i < 50; ++i) s.Observe({3, 300, 0});
  EXPECT_EQ(s.limit().records, 100);
}

TEST(BatchSizerTest, GrowsGeometricallyWithABacklogUpToTheCeiling) {
  BatchSizer s(Opts(100, 5000));
  std::vector<int> seen;
  for (int i = 0; i < 10; ++i) seen.push_back(s.Observe({s.limit().records, 1000, 200000}).records);
  EXPECT_EQ(seen[0], 200);
  EXPECT_EQ(seen[1], 400);
  EXPECT_EQ(seen[2], 800);
  EXPECT_EQ(seen[5], 5000);
  EXPECT_EQ(seen.back(), 5000) << "never above the ceiling";
}

TEST(BatchSizerTest, AFullBatchGrowsEvenWhenTheBacklogIsUnknown) {
  BatchSizer s(Opts(100, 5000));
  EXPECT_EQ(s.Observe({100, 1000, -1}).records, 200);
  // A short batch with an unknown backlog holds: no evidence either way.
  EXPECT_EQ(s.Observe({10, 100, -1}).records, 200);
}

TEST(BatchSizerTest, ShrinksBackToTheBaseOnceTheBacklogIsGone) {
  BatchSizer s(Opts(100, 6400));
  while (s.limit().records < 6400) s.Observe({s.limit().records, 1000, 100000});
  std::vector<int> seen;
  for (int i = 0; i < 10; ++i) seen.push_back(s.Observe({5, 50, 0}).records);
  EXPECT_EQ(seen[0], 3200);
  EXPECT_EQ(seen[5], 100);
  EXPECT_EQ(seen.back(), 100) << "never below the base";
}

TEST(BatchSizerTest, HysteresisHoldsBetweenAQuarterAndTheLimit) {
  BatchSizer s(Opts(100, 6400));
  for (int i = 0; i < 3; ++i) s.Observe({s.limit().records, 1000, 100000});
  ASSERT_EQ(s.limit().records, 800);
  // A short batch, backlog between limit/4 and the limit: hold.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(s.Observe({300, 3000, 400}).records, 800);
  // Just below a quarter: halve.
  EXPECT_EQ(s.Observe({300, 3000, 199}).records, 400);
}

TEST(BatchSizerTest, ABatchCutByBytesDoesNotGrowTheRecordLimit) {
  BatchSizer s(Opts(100, 5000, 10000));
  EXPECT_EQ(s.Observe({50, 10000, 100000}).records, 100);
  EXPECT_EQ(s.limit().bytes, 10000);
  EXPECT_EQ(s.Observe({100, 9000, 100000}).records, 200);
}

TEST(BatchSizerTest, BadOptionsAreClampedNotTrusted) {
  BatchSizer s(Opts(0, -5, 0));
  EXPECT_EQ(s.limit().records, 1);
  EXPECT_EQ(s.limit().bytes, 1);
  BatchSizer big(Opts(1 << 30, 2147483647));
  for (int i = 0; i < 5; ++i) big.Observe({big.limit().records, 1, 1LL << 40});
  EXPECT_EQ(big.limit().records, 2147483647) << "doubling near INT_MAX saturates at the ceiling";
}

// Against a simple model: the limit is always within [base, ceiling], and a
// sustained backlog reaches the ceiling in log2(ceiling/base) batches.
TEST(BatchSizerTest, RandomWalkStaysWithinBounds) {
  BatchSizer s(Opts(64, 4096));
  uint32_t x = 12345;
  for (int i = 0; i < 10000; ++i) {
    x = x * 1103515245 + 12345;
    int64_t backlog = static_cast<int64_t>((x >> 8) % 20000) - 1;
    int recs = static_cast<int>(std::min<int64_t>(std::max<int64_t>(backlog, 0), s.limit().records));
    auto l = s.Observe({recs, recs * 100LL, backlog});
    ASSERT_GE(l.records, 64);
    ASSERT_LE(l.records, 4096);
  }
}

}  // namespace
}  // namespace danmu::core
