#include "replication/read_fallback.h"

namespace danmu::replication {

bool ReadFallbackPolicy::Update(const LagSample& s, bool is_primary, int64_t now_ms) {
  if (is_primary || !options_.stale_read_fallback) {
    active_ = false;
    healthy_since_ms_ = -1;
    return false;
  }
  const bool stale = !s.link_up || s.lag_seconds > options_.fallback_lag_seconds;
  const bool healthy = s.valid && s.link_up && s.lag_seconds <= options_.recover_lag_seconds;
  if (!active_) {
    if (stale) {
      active_ = true;
      ++engagements_;
      healthy_since_ms_ = -1;
    }
    return active_;
  }
  if (!healthy) {
    healthy_since_ms_ = -1;
  } else if (healthy_since_ms_ < 0) {
    healthy_since_ms_ = now_ms;
  } else if (now_ms - healthy_since_ms_ >= options_.recover_dwell_ms) {
    active_ = false;
    healthy_since_ms_ = -1;
  }
  return active_;
}

}  // namespace danmu::replication
