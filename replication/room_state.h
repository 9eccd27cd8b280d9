#pragma once
// The role state machine of one room (datacenter).
//
//   secondary --promote(epoch+1)--> primary --demote/fenced--> secondary
//   primary --freeze--> primary(frozen) --promote peer--> secondary
//
// role:   primary = this room's Kafka takes every write and its processor
//         applies it to its Redis master; secondary = its Redis replicates the
//         primary's, its frontends serve reads locally and forward writes.
// epoch:  a fencing number. Every promotion increments it; the processor's
//         Redis writes carry it and the store refuses older ones (see
//         core/live/epoch_fence.h), so a superseded primary can never write.
//         The epoch only grows: a regression is a broken invariant and aborts.
// frozen: a primary that stopped accepting writes for a planned switchover
//         (clients get 503 + Retry-After; nothing half-written).
//
// promoted_at_ms: wall-clock time of this room's last promotion (whatever
//         drove it: admin promote, a switchover, a forced failover - all go
//         through BecomePrimary). The default start of a reconciliation of
//         the lost peer's log (reconciler.h) is derived from it. 0 = unknown
//         (never promoted, primary by config, or a state file written before
//         the field existed).
//
// State is persisted to <run_dir>/room-<name>.state so a restart keeps the
// runtime role, epoch and promotion time rather than the ones in the
// (static) config. Fencing rests on that epoch, so the file is replaced
// durably (temporary file, fsync, rename, fsync of the directory) and the
// state in memory never runs ahead of it: a transition whose write fails does
// not happen and returns the error (a failed demotion of a primary also stops
// its writes: it is left unconfirmed). The file is one line:
//   <role> <epoch> [promoted_at_ms=<unix ms>]
// Readers take the first two tokens and the key=value tokens they know, so
// a file without the field (older danmud) reads as "unknown", and an older
// danmud reads a newer file (it stops after the epoch). frozen and
// confirmed are not persisted: a restarted primary is unconfirmed by design
// (role_controller.h), and a freeze does not outlive the process.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "core/base/clock.h"
#include "core/base/config.h"
#include "core/base/status.h"

namespace danmu::core { class Metrics; }

namespace danmu::replication {

class RoomState {
 public:
  // Keeps the promotion time already in `state_file`, if any; `clock` gives
  // the time of later promotions (wall clock). Writes nothing: Save() does.
  RoomState(std::string room, std::string state_file, core::Role initial_role, int64_t initial_epoch,
            const core::Clock& clock = core::SystemClock::Instance());

  core::Role role() const { return role_.load(); }
  bool is_primary() const { return role() == core::Role::kPrimary; }
  int64_t epoch() const { return epoch_.load(); }
  bool frozen() const { return frozen_.load(); }
  // Unix ms of the last promotion of this room (kept across restarts and
  // demotions); 0 = unknown.
  int64_t promoted_at_ms() const { return promoted_at_ms_.load(); }
  // A room restarted as primary acts as one only after its peer confirmed it
  // holds no newer epoch (see role_controller.h); until then it neither
  // processes nor accepts writes.
  bool confirmed() const { return confirmed_.load(); }
  bool active_primary() const { return is_primary() && confirmed(); }
  bool accepting_writes() const { return !frozen() && (!is_primary() || confirmed()); }
  void SetConfirmed(bool confirmed, const std::string& reason);

  // Writes the current state to the file (at start: a run_dir that cannot
  // hold it refuses to start).
  [[nodiscard]] core::Status Save();
  // Records the promotion time (clock's now) with the role and epoch.
  [[nodiscard]] core::Status BecomePrimary(int64_t new_epoch, const std::string& reason);
  [[nodiscard]] core::Status BecomeSecondary(int64_t known_epoch, const std::string& reason);
  void SetFrozen(bool frozen, const std::string& reason);
  // Raises the epoch without a role change (a newer epoch was observed).
  [[nodiscard]] core::Status ObserveEpoch(int64_t epoch);
  void AttachMetrics(core::Metrics* metrics);

 private:
  // Writes these values to the state file (caller holds mu_).
  core::Status Persist(core::Role role, int64_t epoch, int64_t promoted_at_ms) const;
  void Publish();

  const std::string room_;
  const std::string state_file_;
  const core::Clock& clock_;
  std::mutex mu_;  // serialises transitions and persistence
  std::atomic<core::Role> role_;
  std::atomic<int64_t> epoch_;
  std::atomic<bool> frozen_{false};
  std::atomic<bool> confirmed_{true};
  std::atomic<int64_t> promoted_at_ms_{0};
  core::Metrics* metrics_ = nullptr;
};

// Loads role and epoch persisted by an earlier run; false when none (or
// unreadable). `promoted_at_ms`, when given, gets the last promotion time,
// 0 when the file does not record it.
bool LoadRoomState(const std::string& state_file, core::Role* role, int64_t* epoch,
                   int64_t* promoted_at_ms = nullptr);

}  // namespace danmu::replication
