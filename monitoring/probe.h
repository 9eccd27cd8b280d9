#pragma once
// Full-link business probe (DESIGN §6). Every probe.interval_ms this room's
// danmud writes a probe comment through its OWN room's public API into the
// reserved live room "__probe" (reserved rooms need the admin token, so no
// viewer ever reads or counts it), then times until the comment is visible in
// EACH room's poll API.
//
// Stages, in pipeline order; a failure names the first one that broke:
//   accept     the public API refused or did not answer the write
//   kafka      the write was refused as unavailable (Kafka did not ack)
//   processor  acknowledged, but never reached the primary room's Redis
//   replica    in the primary's Redis, but not in the other room's replica
//   frontend   in the reading room's Redis, but its poll API did not show it
// Metrics: danmu_probe_success_total{write_room,read_room},
//          danmu_probe_failures_total{write_room,stage},
//          danmu_probe_e2e_seconds{write_room,read_room} (histogram).
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/base/clock.h"
#include "core/base/config.h"
#include "core/base/periodic_task.h"
#include "core/base/status.h"

namespace danmu::core { class Metrics; }

namespace danmu::monitoring {

struct ProbeResult {
  bool ok = false;
  std::string failed_stage;          // empty when ok
  double e2e_own_seconds = -1;       // visible in this room's poll API
  double e2e_peer_seconds = -1;      // visible in the other room's poll API
};

class Probe {
 public:
  Probe(const core::Config& config, std::string admin_token, const core::Clock& clock, core::Metrics* metrics);
  ~Probe();
  void Start();
  void Stop();
  // One probe round now (the loop's body; tests call it directly).
  ProbeResult RunOnce();
  // The last round's result and when it ended (wall ms; 0: none yet).
  // Thread-safe (the status page reads it from request threads).
  ProbeResult Latest(int64_t* at_ms = nullptr) const;

 private:
  ProbeResult Round();
  mutable std::mutex latest_mu_;
  ProbeResult latest_;         // guarded by latest_mu_
  int64_t latest_at_ms_ = 0;   // guarded by latest_mu_
  struct Impl;
  std::unique_ptr<Impl> impl_;
  core::PeriodicTask loop_;
};

inline constexpr const char* kProbeRoom = "__probe";

}  // namespace danmu::monitoring
