#include "core/base/metric_family.h"

namespace danmu::core {

prometheus::Family<prometheus::Counter>& CounterFamily(Metrics& m, const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Labels({{"room", m.room()}}).Register(m.registry());
}

prometheus::Family<prometheus::Gauge>& GaugeFamily(Metrics& m, const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Labels({{"room", m.room()}}).Register(m.registry());
}

prometheus::Family<prometheus::Histogram>& HistogramFamily(Metrics& m, const std::string& name, const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Labels({{"room", m.room()}}).Register(m.registry());
}

}  // namespace danmu::core
