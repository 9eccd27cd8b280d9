#include "core/read/drain_schedule.h"

#include <gtest/gtest.h>

namespace danmu::core {
namespace {

TEST(DrainSchedule, SpreadsClosesEvenlyOverTheSpread) {
  DrainSchedule s(1000, 5000, 10000);
  EXPECT_EQ(s.DueBy(4000), 0u) << "nothing before the start";
  EXPECT_EQ(s.DueBy(5000), 0u);
  EXPECT_EQ(s.DueBy(5010), 1u) << "the first at spread / total";
  EXPECT_EQ(s.DueBy(7500), 250u);
  EXPECT_EQ(s.DueBy(10000), 500u) << "half way: half of them";
  EXPECT_EQ(s.DueBy(14990), 999u);
  EXPECT_EQ(s.DueBy(15000), 1000u) << "every one by the end";
  EXPECT_EQ(s.DueBy(99999), 1000u);
  EXPECT_EQ(s.end_ms(), 15000);
}

TEST(DrainSchedule, NeverDecreasesAndEndsAtTotal) {
  DrainSchedule s(7, 0, 1000);
  size_t last = 0;
  for (int64_t t = -10; t <= 1100; t += 3) {
    size_t d = s.DueBy(t);
    ASSERT_GE(d, last) << t;
    ASSERT_LE(d, 7u) << t;
    last = d;
  }
  EXPECT_EQ(last, 7u);
}

TEST(DrainSchedule, NoSpreadClosesEveryoneAtOnceAndNoneIsNone) {
  EXPECT_EQ(DrainSchedule(50, 100, 0).DueBy(100), 50u);
  EXPECT_EQ(DrainSchedule(50, 100, -5).DueBy(0), 50u);
  EXPECT_EQ(DrainSchedule(0, 100, 1000).DueBy(600), 0u);
}

TEST(DrainSchedule, HugeCountsDoNotOverflow) {
  DrainSchedule s(size_t{1} << 40, 0, int64_t{1} << 40);
  EXPECT_EQ(s.DueBy(int64_t{1} << 39), size_t{1} << 39);
}

}  // namespace
}  // namespace danmu::core
