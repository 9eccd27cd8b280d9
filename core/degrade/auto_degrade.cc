#include "core/degrade/auto_degrade.h"

#include <algorithm>
#include <vector>

namespace danmu::core {
namespace {
int Exceeded(double v, const std::vector<double>& thresholds) {
  int n = 0;
  for (double t : thresholds) n += v >= t;
  return n;
}
}  // namespace

int AutoDegrader::Target(const DegradeSignals& s) const {
  return std::max({Exceeded(s.kafka_lag_seconds, o_.kafka_lag_seconds), Exceeded(s.redis_latency_ms, o_.redis_latency_ms),
                   Exceeded(s.replication_lag_seconds, o_.replication_lag_seconds),
                   Exceeded(s.in_flight_requests, o_.in_flight_requests)});
}

bool AutoDegrader::AllLow(const DegradeSignals& s, int level) const {
  const size_t i = static_cast<size_t>(level - 1);
  return s.kafka_lag_seconds < o_.kafka_lag_seconds[i] * o_.lower_ratio &&
         s.redis_latency_ms < o_.redis_latency_ms[i] * o_.lower_ratio &&
         s.replication_lag_seconds < o_.replication_lag_seconds[i] * o_.lower_ratio &&
         s.in_flight_requests < o_.in_flight_requests[i] * o_.lower_ratio;
}

int AutoDegrader::Evaluate(const DegradeSignals& s, int64_t now_ms) {
  int target = Target(s);
  if (target > level_) {
    ++level_;
    ++transitions_;
    low_since_ms_ = -1;
    return level_;
  }
  if (level_ == 0) return level_;
  if (!AllLow(s, level_)) {
    low_since_ms_ = -1;
    return level_;
  }
  if (low_since_ms_ < 0) {
    low_since_ms_ = now_ms;
  } else if (now_ms - low_since_ms_ >= o_.dwell_ms) {
    --level_;
    ++transitions_;
    low_since_ms_ = now_ms;  // the next step down needs a full dwell again
  }
  return level_;
}

}  // namespace danmu::core
