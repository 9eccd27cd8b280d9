#include "core/base/metric_family.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <memory>

namespace danmu::core {
namespace {

std::string Render(prometheus::Registry& r) { return prometheus::TextSerializer().Serialize(r.Collect()); }

TEST(MetricFamily, EverySeriesCarriesTheRoomAndExistsBeforeItsFirstEvent) {
  auto registry = std::make_shared<prometheus::Registry>();
  Metrics metrics(registry, "A");
  auto runs = SeriesPerValue(CounterFamily(metrics, "danmu_test_runs_total", "Runs, by result"), "result", {"ok", "error"});
  prometheus::Gauge& queued = GaugeFamily(metrics, "danmu_test_queued", "Waiting").Add({});
  HistogramFamily(metrics, "danmu_test_duration_seconds", "Time").Add({}, prometheus::Histogram::BucketBoundaries{1});
  ASSERT_EQ(runs.size(), 2u);
  runs["ok"]->Increment();
  queued.Set(3);
  const std::string text = Render(*registry);
  EXPECT_NE(text.find("danmu_test_runs_total{room=\"A\",result=\"ok\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("danmu_test_runs_total{room=\"A\",result=\"error\"} 0"), std::string::npos) << text;
  EXPECT_NE(text.find("danmu_test_queued{room=\"A\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("danmu_test_duration_seconds_count{room=\"A\"} 0"), std::string::npos) << text;
  // Declaring the same family again (a second component instance) returns it.
  EXPECT_EQ(&CounterFamily(metrics, "danmu_test_runs_total", "Runs, by result"),
            &CounterFamily(metrics, "danmu_test_runs_total", "Runs, by result"));
}

}  // namespace
}  // namespace danmu::core
