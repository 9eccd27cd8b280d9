#pragma once
// Every frontend's view of the degradation switches (see degrade.h for the
// hash and the levels). Re-reads danmu:degrade from the local Redis every
// degrade.watch_ms and answers, per live room, what the frontend must do.
// In the active primary it also retires expired settings (source=expiry) and
// runs the automatic controller, publishing its level as the "auto" field.
// Every change of a level is logged at WARN with old and new level, scope,
// source and reason, and counted in danmu_degrade_changes_total{source}.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/degrade/auto_degrade.h"
#include "core/base/clock.h"
#include "core/degrade/degrade.h"
#include "core/base/periodic_task.h"
#include "core/store/redis_client.h"

namespace danmu::core {

class Metrics;

struct DegradeWatcherHooks {
  std::function<bool()> active_primary;
  std::function<DegradeSignals()> signals;
};

class DegradeWatcher {
 public:
  DegradeWatcher(const Config& config, std::unique_ptr<RedisClient> local, DegradeWatcherHooks hooks,
                 const Clock& clock, Metrics* metrics);
  ~DegradeWatcher();
  void Start();
  void Stop();

  DegradeView View(const std::string& live_room);
  DegradeTable Table() const;
  void SetAuto(bool enabled);
  bool auto_enabled() const { return auto_enabled_.load(); }
  int room_level() const { return room_level_.load(); }
  // One round now (the loop's body).
  void Tick();

  // Writes or clears a setting in `store` (the primary room's Redis); counts
  // and logs the change as `source`.
  static Status Write(RedisClient& store, const std::string& field, const DegradeSetting& setting, Metrics* metrics,
                      const std::string& room);
  static Status Clear(RedisClient& store, const std::string& field, const std::string& source, Metrics* metrics,
                      const std::string& room);

 private:
  const Config& config_;
  std::unique_ptr<RedisClient> redis_;
  DegradeWatcherHooks hooks_;
  const Clock& clock_;
  Metrics* metrics_;
  DegradePolicy policy_;
  AutoDegrader auto_;
  std::atomic<bool> auto_enabled_;
  std::atomic<int> room_level_{0};
  int64_t last_eval_ms_ = 0;

  mutable std::mutex mu_;
  DegradeTable table_;                          // guarded by mu_
  std::map<std::string, int> observed_;         // scope -> level last seen, guarded by mu_
  std::map<std::string, int64_t> level3_since_; // live room ("" = room-wide) -> since, guarded by mu_

  PeriodicTask loop_;
};

}  // namespace danmu::core
