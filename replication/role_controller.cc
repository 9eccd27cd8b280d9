#include "replication/role_controller.h"

#include "core/http/http_client.h"
#include "core/model/live_keys.h"
#include "core/base/log.h"
#include "core/live/write_route.h"
#include "replication/primary_lease.h"

namespace danmu::replication {

using core::Code;
using core::Status;

core::Result<RoomStatus> FetchPeerView(const std::string& admin_url, int timeout_ms) {
  core::HttpCall call;
  call.url = admin_url + "/v1/admin/status";
  call.timeout_ms = timeout_ms;
  auto r = core::Fetch(call);
  if (!r.ok()) return r.status();
  if (r->status != 200) return Status(Code::kUnavailable, "peer status answered " + std::to_string(r->status));
  auto v = RoomStatus::Parse(r->body);
  if (!v.ok()) return Status(Code::kUnavailable, "peer status unreadable: " + v.status().message());
  return v;
}

RoleController::RoleController(const core::Config& config, RoomState* state)
    : config_(config),
      state_(state),
      redis_(std::make_unique<core::RedisClient>(config.redis, "live", nullptr)),
      loop_("peer_watch", config.ha.peer_watch_ms, [this] {
        Status s = WatchOnce();
        std::string error = s.ok() ? "" : s.ToString();
        if (error != last_watch_error_) {
          if (!error.empty()) core::LogError("peer_watch_failed", {{"error", error}});
          else core::LogInfo("peer_watch_recovered", {{"error", last_watch_error_}});
          last_watch_error_ = error;
        }
      }) {}

RoleController::~RoleController() { Stop(); }

Status RoleController::ReplicaOf(const std::string& address) {
  core::RedisArgs args = {"REPLICAOF", "NO", "ONE"};
  if (!address.empty()) {
    std::string host;
    int port = 0;
    if (!core::SplitHostPort(address, &host, &port)) return Status(Code::kInvalidArgument, "bad peer redis " + address);
    args = {"REPLICAOF", host, std::to_string(port)};
  }
  auto r = redis_->Command(args);
  if (!r.ok()) return r.status();
  if (r->is_error()) return Status(Code::kUnavailable, "REPLICAOF: " + r->str);
  return Status::Ok();
}

core::Result<int64_t> RoleController::Promote(const std::string& reason, bool force) {
  PromoteRequest request;
  request.force = force;
  return Promote(reason, request);
}

core::Result<int64_t> RoleController::Promote(const std::string& reason, const PromoteRequest& request) {
  const bool force = request.force || request.steal || request.automatic;
  std::lock_guard lock(mu_);
  if (state_->active_primary()) return state_->epoch();  // idempotent
  int64_t peer_epoch = peer_epoch_seen_.load();
  bool peer_frozen = false;
  if (!config_.peer.admin_url.empty()) {
    auto peer = FetchPeerView(core::SplitList(config_.peer.admin_url).front());
    if (peer.ok()) {
      peer_epoch = std::max(peer_epoch, peer->epoch);
      peer_frozen = peer->role == core::Role::kPrimary && peer->writes_frozen;
      if (peer->role == core::Role::kPrimary && !peer->writes_frozen && peer->confirmed && !force) {
        return Status(Code::kFencedEpoch,
                      "the peer room is an active primary (epoch " + std::to_string(peer->epoch) +
                          "): use a planned switchover, or force an unplanned failover");
      }
    } else if (!force) {
      return Status(Code::kUnavailable, "peer room unreachable (" + peer.status().message() +
                                            "): promote with force for an unplanned failover");
    }
  }
  // The store's epoch is readable on a replica too: the new epoch is known
  // before anything changes, so the leader key is taken with it first.
  auto stored = redis_->Command({"GET", core::keys::kEpoch});
  if (!stored.ok()) return stored.status();
  if (stored->is_error()) return Status(Code::kUnavailable, "GET epoch: " + stored->str);
  int64_t store_epoch = stored->AsInt(0);
  int64_t next = std::max({state_->epoch(), store_epoch, peer_epoch}) + 1;
  std::string how = request.automatic ? " (automatic failover)" : request.steal ? " (forced, lease stolen)" : force ? " (forced)" : "";
  if (lease_) {
    const AcquireMode mode = request.automatic ? AcquireMode::kAuto
                             : request.steal   ? AcquireMode::kSteal
                             : force           ? AcquireMode::kForce
                                               : AcquireMode::kPlanned;
    auto taken = lease_->Acquire(next, mode, peer_frozen);
    if (!taken.ok()) return taken.status();
    if (!taken->previous_holder.empty()) {
      how += " lease from room " + taken->previous_holder + " epoch " + std::to_string(taken->previous_epoch) +
             (taken->waited_ms > 0 ? ", waited " + std::to_string(taken->waited_ms) + " ms for its expiry" : "");
    }
  }
  auto undo = [&](Status s) {
    if (lease_) lease_->Release("promotion failed: " + s.message());
    return s;
  };
  if (Status s = ReplicaOf(""); !s.ok()) return undo(s);
  auto set = redis_->Command({"SET", core::keys::kEpoch, std::to_string(next)});
  if (!set.ok()) return undo(set.status());
  if (set->is_error()) return undo(Status(Code::kUnavailable, "SET epoch: " + set->str));
  // The store already holds the new epoch; a room that cannot persist it
  // stays secondary (its Redis, now a master, is re-attached by the rejoin
  // of the peer watch while the peer is primary).
  if (Status s = state_->BecomePrimary(next, reason + how); !s.ok()) return undo(s);
  return next;
}

void RoleController::OnLeaseLost(int64_t epoch, const std::string& holder, const std::string& why) {
  if (!state_->is_primary()) return;
  core::LogWarn("superseded_by_lease", {{"epoch", std::to_string(state_->epoch())}, {"holder", holder},
                                        {"holder_epoch", std::to_string(epoch)}, {"reason", why}});
  // A frozen primary is in a planned switchover: drained, nothing stranded.
  const bool frozen = state_->frozen();
  if (Status s = Demote(epoch, "lost the primary lease: " + why); !s.ok()) {
    core::LogError("demotion_incomplete", {{"reason", why}, {"error", s.ToString()}});
  }
  if (!frozen && on_self_demotion_) on_self_demotion_("lost the primary lease to room " + holder + " (epoch " + std::to_string(epoch) + ")");
}

Status RoleController::DemoteLocked(int64_t epoch, const std::string& reason) {
  if (lease_) lease_->Release(reason);  // acknowledgements stop before the role changes
  if (Status s = state_->BecomeSecondary(epoch, reason); !s.ok()) return s;
  if (Status s = ReplicaOf(config_.peer.redis); !s.ok()) {
    // Secondary now (writes forward to the peer), but the local Redis still
    // a master: the rejoin of the next peer-watch rounds retries.
    return Status(s.code(), "demoted, but the local Redis did not follow the peer (retried): " + s.message());
  }
  return Status::Ok();
}

Status RoleController::Demote(int64_t epoch, const std::string& reason) {
  std::lock_guard lock(mu_);
  return DemoteLocked(epoch, reason);
}

void RoleController::OnFenced(const std::string& detail) {
  // The store holds a newer epoch: another room was promoted. Stop being a
  // primary now; the peer watch re-attaches the Redis once the peer answers.
  int64_t peer = peer_epoch_seen_.load();
  {
    std::lock_guard lock(mu_);
    if (!state_->is_primary()) return;
    if (lease_) lease_->Release("fenced: " + detail);
    // On failure the room stays primary but unconfirmed (no writes); the
    // peer watch demotes it once the state can be written.
    (void)state_->BecomeSecondary(std::max(peer, state_->epoch() + 1), "fenced: " + detail);  // logged there
  }
  if (on_self_demotion_) on_self_demotion_("fenced by the store: " + detail);
}

Status RoleController::WatchOnce() {
  if (config_.peer.admin_url.empty()) return Status::Ok();
  auto peer = FetchPeerView(core::SplitList(config_.peer.admin_url).front());
  if (!peer.ok()) return peer.status();  // unreachable: an unconfirmed primary stays unconfirmed
  peer_epoch_seen_ = std::max(peer_epoch_seen_.load(), peer->epoch);
  peer_lag_seconds_ = peer->replication.lag_seconds;
  const bool peer_primary = peer->role == core::Role::kPrimary;
  if (state_->is_primary()) {
    if (peer_primary && peer->epoch > state_->epoch()) {
      core::LogWarn("superseded_by_peer", {{"epoch", std::to_string(state_->epoch())},
                                           {"peer_epoch", std::to_string(peer->epoch)}});
      const bool frozen = state_->frozen();
      Status demoted = Demote(peer->epoch, "peer room holds a newer epoch");
      if (!frozen && on_self_demotion_) on_self_demotion_("found superseded: the peer room is primary at epoch " + std::to_string(peer->epoch));
      return demoted;
    }
    if (peer_primary && peer->epoch == state_->epoch()) {
      // Broken invariant: refuse writes here (the peer does the same) and
      // let DanmuMultiplePrimaries page; never pick a winner silently.
      if (state_->confirmed()) {
        core::LogError("two_primaries_same_epoch", {{"room", config_.room}, {"epoch", std::to_string(state_->epoch())},
                                                    {"peer_room", config_.peer.room}, {"writes", "refused"}});
      }
      state_->SetConfirmed(false, "the peer room is a primary at the same epoch " + std::to_string(peer->epoch));
      return Status(Code::kInternal, "two primaries at epoch " + std::to_string(peer->epoch) +
                                         ": writes refused in this room until an operator promotes or demotes one");
    }
    if (!state_->confirmed()) {
      state_->SetConfirmed(true, "peer is " + std::string(peer_primary ? "an older primary" : "secondary") +
                                     " at epoch " + std::to_string(peer->epoch));
    }
    return Status::Ok();
  }
  // Secondary: make sure the local Redis follows the primary peer (rejoin).
  if (peer_primary && peer->confirmed) {
    if (Status s = state_->ObserveEpoch(peer->epoch); !s.ok()) return s;
    std::lock_guard lock(mu_);
    // A promotion (it holds mu_) may have run since this round read the role
    // and fetched the peer: a stale view must never point the new primary's
    // Redis at the old primary (seen in a switchover back to this room).
    if (state_->is_primary() || state_->epoch() > peer->epoch) return Status::Ok();
    auto role = redis_->Command({"ROLE"});
    if (!role.ok()) return Status(role.status().code(), "ROLE of the local Redis: " + role.status().message());
    if (!role->elements.empty() && role->elements[0].str == "master") {
      core::LogWarn("rejoin_as_replica", {{"primary_redis", config_.peer.redis}, {"epoch", std::to_string(peer->epoch)}});
      if (Status s = ReplicaOf(config_.peer.redis); !s.ok()) {
        return Status(s.code(), "rejoin as a replica of " + config_.peer.redis + " (retried): " + s.message());
      }
    }
  }
  return Status::Ok();
}

void RoleController::Start(bool restarted_as_primary) {
  if (restarted_as_primary) state_->SetConfirmed(false, "restarted as primary: waiting for the peer room to confirm");
  // One round before anything serves: a superseded primary demotes itself
  // before its frontend or processor start.
  if (Status s = WatchOnce(); !s.ok()) core::LogWarn("peer_watch_at_start", {{"error", s.ToString()}});
  loop_.Start();
}

void RoleController::Stop() { loop_.Stop(); }

}  // namespace danmu::replication
