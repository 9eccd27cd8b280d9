#include "core/read/fanout_mode.h"

#include <gtest/gtest.h>

namespace danmu::core {
namespace {

TEST(FanoutMode, SwitchesOnceEachWayWithHysteresis) {
  FanoutThresholds t{10, 5};
  FanoutMode m = FanoutMode::kNotifyPull;
  int switches = 0;
  auto step = [&](size_t n) {
    FanoutMode next = NextFanoutMode(m, n, t);
    if (next != m) ++switches;
    m = next;
  };
  // Grow 0..12, with jitter around the upper threshold.
  for (size_t n : {0, 3, 9, 10, 9, 11, 10, 6, 12}) step(n);
  EXPECT_EQ(m, FanoutMode::kBroadcast);
  EXPECT_EQ(switches, 1);
  // Shrink, with jitter around the lower threshold.
  for (size_t n : {8, 5, 6, 5, 4, 5, 6, 9, 4, 0}) step(n);
  EXPECT_EQ(m, FanoutMode::kNotifyPull);
  EXPECT_EQ(switches, 2);
}

TEST(FanoutMode, Boundaries) {
  FanoutThresholds t{10, 5};
  EXPECT_EQ(NextFanoutMode(FanoutMode::kNotifyPull, 9, t), FanoutMode::kNotifyPull);
  EXPECT_EQ(NextFanoutMode(FanoutMode::kNotifyPull, 10, t), FanoutMode::kBroadcast);
  EXPECT_EQ(NextFanoutMode(FanoutMode::kBroadcast, 5, t), FanoutMode::kBroadcast);
  EXPECT_EQ(NextFanoutMode(FanoutMode::kBroadcast, 4, t), FanoutMode::kNotifyPull);
  EXPECT_EQ(FanoutModeName(FanoutMode::kBroadcast), "broadcast");
  EXPECT_EQ(FanoutModeName(FanoutMode::kNotifyPull), "notify_pull");
}

}  // namespace
}  // namespace danmu::core
