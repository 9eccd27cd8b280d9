#pragma once
// How a component declares its own metrics (beside it, in its constructor,
// once): a family per name, carrying the room label of `metrics`, and every
// series of a bounded label created up front, so that each exports 0 before
// its first event and hot paths hold pointers instead of looking labels up.
//
//   auto& runs = CounterFamily(*metrics, "danmu_x_runs_total", "Runs, by result");
//   runs_ = SeriesPerValue(runs, "result", {"ok", "error"});
//   queued_ = &GaugeFamily(*metrics, "danmu_x_queued", "Waiting").Add({});
#include <initializer_list>
#include <map>
#include <string>

#include "core/base/metrics.h"

namespace danmu::core {

prometheus::Family<prometheus::Counter>& CounterFamily(Metrics& metrics, const std::string& name, const std::string& help);
prometheus::Family<prometheus::Gauge>& GaugeFamily(Metrics& metrics, const std::string& name, const std::string& help);
prometheus::Family<prometheus::Histogram>& HistogramFamily(Metrics& metrics, const std::string& name,
                                                           const std::string& help);

// One series per value of `label` (value -> series), created now.
template <class T>
std::map<std::string, T*> SeriesPerValue(prometheus::Family<T>& family, const std::string& label,
                                         std::initializer_list<const char*> values) {
  std::map<std::string, T*> out;
  for (const char* v : values) out[v] = &family.Add({{label, v}});
  return out;
}

}  // namespace danmu::core
