#pragma once
// Automatic degradation with hysteresis (DESIGN §7). Pure logic; the active
// primary feeds it signals every degrade.eval_ms and publishes its level.
//   raise: when a signal passes the raise threshold of a higher level, go up
//          ONE level per evaluation (quick, but never a jump);
//   lower: only when every signal stayed below (threshold of the current
//          level x lower_ratio) for dwell_ms, go down ONE level; the dwell
//          restarts after every change.
// So a signal hovering near a threshold cannot make the level flap.
#include <cstdint>

#include "core/base/config.h"

namespace danmu::core {

struct DegradeSignals {
  double kafka_lag_seconds = 0;
  double redis_latency_ms = 0;
  double replication_lag_seconds = 0;
  double in_flight_requests = 0;
};

class AutoDegrader {
 public:
  explicit AutoDegrader(const DegradeOptions& options) : o_(options) {}
  // Returns the level after this evaluation.
  int Evaluate(const DegradeSignals& s, int64_t now_ms);
  int level() const { return level_; }
  int transitions() const { return transitions_; }
  void Reset() { level_ = 0; low_since_ms_ = -1; }

 private:
  int Target(const DegradeSignals& s) const;
  bool AllLow(const DegradeSignals& s, int level) const;

  DegradeOptions o_;
  int level_ = 0;
  int64_t low_since_ms_ = -1;
  int transitions_ = 0;
};

}  // namespace danmu::core
