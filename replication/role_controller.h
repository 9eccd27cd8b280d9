#pragma once
// Promotion, demotion and the split-brain guard of one room (DESIGN §2, §8).
//
// Protocol (admin API of each danmud; danmuctl and Ansible drive it):
//   promote(force): REPLICAOF NO ONE on the local Redis; epoch := max(own,
//     store, peer's last known) + 1; SET danmu:epoch in the (now master)
//     store; become primary. Refused while the peer is an active, unfrozen
//     primary unless forced (unplanned failover with the peer unreachable).
//   demote(epoch): become secondary at `epoch` (writes now forward to the
//     peer, the processor idles), then REPLICAOF the peer's Redis.
//   planned switchover = freeze old primary, drain, promote new, demote old.
//
// Split-brain guard (peer watch, every ha.peer_watch_ms):
//   - a primary that sees the peer primary with a NEWER epoch demotes itself
//     at once (it was superseded while partitioned or down);
//   - a room restarted as primary (its state file says so) is unconfirmed:
//     it neither processes nor accepts writes until the peer answers and holds
//     no newer epoch; so an old primary that comes back can never write;
//   - a secondary whose local Redis is a master while the peer is primary
//     re-attaches it as a replica of the peer (rejoin);
//   - two primaries at the SAME epoch is a broken invariant (every
//     promotion takes a new epoch): both rooms see it and each refuses writes
//     (left unconfirmed: no processing, no accepted writes) while it lasts;
//     DanmuMultiplePrimaries pages. An operator resolves it by promoting one
//     room with force (a new epoch: the other one then demotes itself) or by
//     demoting one; the survivor confirms itself on the next round.
// The store-level fence (the apply script refusing older epochs) backs all
// of this up: even a processor that missed every signal cannot write.
#include <atomic>
#include <functional>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/base/config.h"
#include "core/base/periodic_task.h"
#include "core/store/redis_client.h"
#include "core/base/status.h"
#include "replication/room_state.h"
#include "replication/room_status.h"

namespace danmu::replication {

class PrimaryLease;

// GET <admin_url>/v1/admin/status of the other room.
core::Result<RoomStatus> FetchPeerView(const std::string& admin_url, int timeout_ms = 1000);

class RoleController {
 public:
  RoleController(const core::Config& config, RoomState* state);
  ~RoleController();

  core::Result<int64_t> Promote(const std::string& reason, bool force);
  // Promotion through the primary lease (primary_lease.h): steal revokes a
  // live holder's lease (and still waits out its TTL before acknowledging);
  // automatic = the lease's automatic failover (takes only an absent key).
  struct PromoteRequest {
    bool force = false;
    bool steal = false;
    bool automatic = false;
  };
  core::Result<int64_t> Promote(const std::string& reason, const PromoteRequest& request);
  // The lease that promotions take and demotions release (null: none).
  void SetLease(PrimaryLease* lease) { lease_ = lease; }
  // Called after this room demoted ITSELF (lease lost, superseded, fenced).
  void OnSelfDemotion(std::function<void(const std::string& why)> callback) { on_self_demotion_ = std::move(callback); }
  // The lease saw another room hold the key at `epoch`: demote to it.
  void OnLeaseLost(int64_t epoch, const std::string& holder, const std::string& why);
  core::Status Demote(int64_t epoch, const std::string& reason);
  // The processor reported that the store refused our epoch.
  void OnFenced(const std::string& detail);

  // restarted_as_primary: the state file (not the config) made us primary.
  void Start(bool restarted_as_primary);
  void Stop();
  // One peer-watch round (the loop's body; tests call it directly). Not ok
  // when the round found or left something wrong: the peer unreachable, a
  // demotion or rejoin whose REPLICAOF failed (retried next round), two
  // primaries at one epoch. The loop logs each distinct error once.
  core::Status WatchOnce();
  // The other room's replication lag as last reported (degradation signal).
  double peer_lag_seconds() const { return peer_lag_seconds_.load(); }

 private:
  core::Status ReplicaOf(const std::string& address);
  core::Status DemoteLocked(int64_t epoch, const std::string& reason);  // caller holds mu_

  const core::Config& config_;
  RoomState* state_;
  std::mutex mu_;  // serialises promote/demote/watch
  std::unique_ptr<core::RedisClient> redis_;  // guarded by mu_
  std::atomic<int64_t> peer_epoch_seen_{0};
  std::atomic<double> peer_lag_seconds_{0};
  PrimaryLease* lease_ = nullptr;
  std::function<void(const std::string&)> on_self_demotion_;
  std::string last_watch_error_;  // loop thread only: what it logged last
  core::PeriodicTask loop_;
};

}  // namespace danmu::replication
