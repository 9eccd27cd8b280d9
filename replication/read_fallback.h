#pragma once
// Stale-read fallback with hysteresis (DESIGN §6).
//
// A secondary room's frontends read their local replica. When it trails the
// primary by more than `fallback_lag_seconds` (heartbeat) or its link is down,
// they read the primary room's Redis instead; they return to local reads only
// after the lag stayed below `recover_lag_seconds` for `recover_dwell_ms`, so
// a lag hovering around the threshold does not flap. A primary never falls back.
// ReadFallbackPolicy is the pure decision; StaleReadFallback the component
// that feeds it heartbeat samples, applies it to the read model and owns its
// metrics (danmu_stale_read_fallback_active, danmu_stale_read_fallbacks_total).
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "core/base/config.h"
#include "replication/heartbeat.h"

namespace prometheus {
class Counter;
class Gauge;
}  // namespace prometheus

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

// Thread-safety: OnSample runs on the heartbeat thread only; reading_from_peer
// is safe from any thread.
class StaleReadFallback {
 public:
  struct Wiring {
    std::string local_redis;                               // the room's own replica
    std::string peer_redis;                                // the primary room's Redis ("": never fall back)
    std::function<bool()> is_primary;
    std::function<void(const std::string&)> read_from;     // point the read model at an address
  };
  // Registers its metrics once, in `metrics` (labelled with its room; may
  // be null in tests).
  StaleReadFallback(const core::HaOptions& options, Wiring wiring, const core::Clock& clock, core::Metrics* metrics);

  // One heartbeat sample: decide, and on a change re-point the reads, set the
  // metrics and log at WARN.
  void OnSample(const LagSample& sample);
  bool reading_from_peer() const { return reading_from_peer_.load(); }

 private:
  ReadFallbackPolicy policy_;
  Wiring wiring_;
  const core::Clock& clock_;
  prometheus::Gauge* active_ = nullptr;
  prometheus::Counter* engaged_ = nullptr;
  std::atomic<bool> reading_from_peer_{false};
};

}  // namespace danmu::replication
