#pragma once
// Stale-read fallback with hysteresis (DESIGN §6).
//
// A secondary room's frontends read their local replica. When it trails the
// primary by more than `fallback_lag_seconds` (heartbeat) or its link is down,
// they read the primary room's Redis instead; they return to local reads only
// after the lag stayed below `recover_lag_seconds` for `recover_dwell_ms`, so
// a lag hovering around the threshold does not flap. A primary never falls back.
// Pure logic: the caller feeds samples and applies the decision.
#include <cstdint>

#include "core/base/config.h"
#include "replication/heartbeat.h"

namespace danmu::replication {

class ReadFallbackPolicy {
 public:
  explicit ReadFallbackPolicy(const core::HaOptions& options) : options_(options) {}
  // Returns true while reads should go to the primary room.
  bool Update(const LagSample& sample, bool is_primary, int64_t now_ms);
  bool active() const { return active_; }
  int64_t engagements() const { return engagements_; }

 private:
  core::HaOptions options_;
  bool active_ = false;
  int64_t healthy_since_ms_ = -1;
  int64_t engagements_ = 0;
};

}  // namespace danmu::replication
