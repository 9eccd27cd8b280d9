#pragma once
// Every frontend's view of the degradation switches (see degrade.h for the
// hash and the levels). Re-reads danmu:degrade from the local Redis every
// degrade.watch_ms and answers, per live room, what the frontend must do.
// In the active primary it also retires expired settings (source=expiry) and
// runs the automatic controller, publishing its level as the "auto" field.
// Every change of a level is logged at WARN with old and new level, scope,
// source and reason, and counted in danmu_degrade_changes_total{source}.
//
// Thread contract. A round (the Redis read, expiry writes, the automatic
// controller) runs only on the watcher's own loop thread, which is thus the
// only user of its Redis client (not thread-safe), of the controller and of
// the evaluation time. Before Start() and after Stop() there is no loop:
// Refresh() then runs the round on the caller's thread, still one round at a
// time (round_mu_). Any thread may call:
//   View, Table, room_level  the last round's result;
//   SetAuto                  records the wish; the next round applies it
//                            (turning it off resets the controller there);
//   Refresh                  asks the loop for a round and waits until one
//                            that started after the call has finished, so an
//                            admin write is in force when it returns.
#include <atomic>
#include <condition_variable>
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
  // A round now (see the thread contract above); false when the loop did not
  // finish one within `timeout_ms` (the last table stays in force).
  [[nodiscard]] bool Refresh(int timeout_ms = 3000);

  // Writes or clears a setting in `store` (the primary room's Redis); counts
  // and logs the change as `source`.
  static Status Write(RedisClient& store, const std::string& field, const DegradeSetting& setting, Metrics* metrics,
                      const std::string& room);
  static Status Clear(RedisClient& store, const std::string& field, const std::string& source, Metrics* metrics,
                      const std::string& room);

 private:
  void Loop();
  void Round();  // the loop thread, or Refresh without a loop; takes round_mu_

  const Config& config_;
  std::unique_ptr<RedisClient> redis_;
  DegradeWatcherHooks hooks_;
  const Clock& clock_;
  Metrics* metrics_;
  DegradePolicy policy_;
  std::atomic<bool> auto_enabled_;  // the wish (any thread)
  std::atomic<int> room_level_{0};

  std::mutex round_mu_;        // one round at a time; guards redis_ and:
  AutoDegrader auto_;          // guarded by round_mu_
  bool auto_applied_;          // guarded by round_mu_
  int64_t last_eval_ms_ = 0;   // guarded by round_mu_

  std::mutex loop_mu_;  // the loop's state, for Refresh and Stop
  std::condition_variable loop_cv_;
  bool running_ = false;          // guarded by loop_mu_
  bool round_wanted_ = false;     // guarded by loop_mu_
  uint64_t rounds_started_ = 0;   // guarded by loop_mu_
  uint64_t rounds_finished_ = 0;  // guarded by loop_mu_
  std::thread thread_;

  mutable std::mutex mu_;
  DegradeTable table_;                          // guarded by mu_
  std::map<std::string, int> observed_;         // scope -> level last seen, guarded by mu_
  std::map<std::string, int64_t> level3_since_; // live room ("" = room-wide) -> since, guarded by mu_

};

}  // namespace danmu::core
