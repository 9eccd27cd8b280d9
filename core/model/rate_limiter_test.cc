#include "core/model/rate_limiter.h"

#include <gtest/gtest.h>

namespace danmu::core {
namespace {

TEST(RateLimiterTest, BurstThenRefillAtRate) {
  FakeClock clock;
  RateLimiter rl(2, 4, 100, clock);  // 2/s, burst 4
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(rl.Allow("u"));
  EXPECT_FALSE(rl.Allow("u"));
  EXPECT_TRUE(rl.Allow("other")) << "keys are independent";
  clock.Advance(500);
  EXPECT_TRUE(rl.Allow("u"));
  EXPECT_FALSE(rl.Allow("u"));
  clock.Advance(10000);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(rl.Allow("u")) << "refill caps at the burst";
  EXPECT_FALSE(rl.Allow("u"));
}

TEST(RateLimiterTest, MemoryIsBoundedUnderAFloodOfKeys) {
  FakeClock clock;
  RateLimiter rl(1, 1, 10, clock);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(rl.Allow("k" + std::to_string(i)));
  EXPECT_FALSE(rl.Allow("new")) << "full of busy buckets: refuse rather than grow";
  EXPECT_EQ(rl.size(), 10u);
  clock.Advance(5000);  // all buckets refill: idle ones are swept
  EXPECT_TRUE(rl.Allow("new"));
  EXPECT_LE(rl.size(), 10u);
}

}  // namespace
}  // namespace danmu::core
