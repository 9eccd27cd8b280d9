#include "replication/read_fallback.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <memory>
#include <string>
#include <vector>

#include "core/base/clock.h"
#include "core/base/metrics.h"

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

double Value(prometheus::Registry& r, const std::string& name) {
  for (const auto& family : r.Collect()) {
    if (family.name != name || family.metric.empty()) continue;
    const auto& m = family.metric.front();
    return family.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
  }
  return -1;
}

TEST(StaleReadFallbackTest, RepointsReadsOnceEachWayWithItsMetrics) {
  auto registry = std::make_shared<prometheus::Registry>();
  core::Metrics metrics(registry, "B");
  core::FakeClock clock;
  std::vector<std::string> pointed;
  bool primary = false;
  StaleReadFallback::Wiring w;
  w.local_redis = "local:1";
  w.peer_redis = "peer:2";
  w.is_primary = [&] { return primary; };
  w.read_from = [&](const std::string& a) { pointed.push_back(a); };
  StaleReadFallback f(core::HaOptions{}, std::move(w), clock, &metrics);
  EXPECT_EQ(Value(*registry, "danmu_stale_read_fallback_active"), 0) << "registered before the first sample";
  EXPECT_EQ(Value(*registry, "danmu_stale_read_fallbacks_total"), 0);

  f.OnSample(Sample(0.1));
  EXPECT_TRUE(pointed.empty()) << "no change, no re-pointing";
  f.OnSample(Sample(5.0));
  f.OnSample(Sample(6.0));
  EXPECT_EQ(pointed, std::vector<std::string>{"peer:2"});
  EXPECT_TRUE(f.reading_from_peer());
  EXPECT_EQ(Value(*registry, "danmu_stale_read_fallback_active"), 1);
  EXPECT_EQ(Value(*registry, "danmu_stale_read_fallbacks_total"), 1);

  f.OnSample(Sample(0.1));
  clock.Advance(core::HaOptions{}.recover_dwell_ms);
  f.OnSample(Sample(0.1));
  EXPECT_EQ(pointed, (std::vector<std::string>{"peer:2", "local:1"}));
  EXPECT_FALSE(f.reading_from_peer());
  EXPECT_EQ(Value(*registry, "danmu_stale_read_fallback_active"), 0);
  EXPECT_EQ(Value(*registry, "danmu_stale_read_fallbacks_total"), 1) << "counts engagements, not releases";

  primary = true;  // promoted: a primary reads its own Redis, whatever the lag
  f.OnSample(Sample(9.0, false));
  EXPECT_FALSE(f.reading_from_peer());
  EXPECT_EQ(pointed.size(), 2u);
}

TEST(StaleReadFallbackTest, WithoutAPeerNothingMoves) {
  core::FakeClock clock;
  std::vector<std::string> pointed;
  StaleReadFallback::Wiring w;
  w.local_redis = "local:1";
  w.is_primary = [] { return false; };
  w.read_from = [&](const std::string& a) { pointed.push_back(a); };
  StaleReadFallback f(core::HaOptions{}, std::move(w), clock, nullptr);
  f.OnSample(Sample(50, false));
  EXPECT_TRUE(pointed.empty());
  EXPECT_FALSE(f.reading_from_peer());
}

}  // namespace
}  // namespace danmu::replication
