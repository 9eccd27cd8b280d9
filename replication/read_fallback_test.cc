#include "replication/read_fallback.h"

#include <gtest/gtest.h>

namespace danmu::replication {
namespace {

LagSample Sample(double lag, bool link = true) {
  LagSample s;
  s.lag_seconds = lag;
  s.link_up = link;
  s.valid = true;
  s.local_is_master = false;
  return s;
}

TEST(ReadFallbackTest, EngagesOnLagOrLinkDownAndReleasesAfterDwell) {
  core::HaOptions o;  // 2.0 s up, 0.5 s down, 3 s dwell
  ReadFallbackPolicy p(o);
  int64_t t = 0;
  EXPECT_FALSE(p.Update(Sample(0.1), false, t));
  EXPECT_FALSE(p.Update(Sample(1.9), false, t += 100));
  EXPECT_TRUE(p.Update(Sample(2.5), false, t += 100));
  EXPECT_TRUE(p.Update(Sample(1.0), false, t += 100)) << "between thresholds: stay";
  EXPECT_TRUE(p.Update(Sample(0.2), false, t += 100)) << "healthy, but the dwell has just begun";
  EXPECT_TRUE(p.Update(Sample(0.2), false, t += 2000));
  EXPECT_TRUE(p.Update(Sample(0.8), false, t += 500)) << "a relapse restarts the dwell";
  EXPECT_TRUE(p.Update(Sample(0.2), false, t += 100));
  EXPECT_TRUE(p.Update(Sample(0.2), false, t += 2999));
  EXPECT_FALSE(p.Update(Sample(0.2), false, t += 1));
  EXPECT_TRUE(p.Update(Sample(0.0, false), false, t += 100)) << "link down engages at once";
  EXPECT_EQ(p.engagements(), 2);
}

TEST(ReadFallbackTest, NoFlappingAroundTheThreshold) {
  core::HaOptions o;
  ReadFallbackPolicy p(o);
  int transitions = 0;
  bool last = false;
  for (int i = 0; i < 1000; ++i) {
    bool now = p.Update(Sample(i % 2 ? 2.1 : 1.9), false, i * 100);
    transitions += now != last;
    last = now;
  }
  EXPECT_EQ(transitions, 1);
}

TEST(ReadFallbackTest, PrimaryOrDisabledNeverFallsBack) {
  core::HaOptions o;
  ReadFallbackPolicy p(o);
  EXPECT_FALSE(p.Update(Sample(100, false), true, 0));
  o.stale_read_fallback = false;
  ReadFallbackPolicy off(o);
  EXPECT_FALSE(off.Update(Sample(100, false), false, 0));
}

}  // namespace
}  // namespace danmu::replication
