#include "replication/primary_lease.h"

#include <time.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <chrono>
#include <map>
#include <thread>

#include "core/base/json_text.h"
#include "core/base/log.h"
#include "core/base/metrics.h"

namespace danmu::replication {

using core::Code;
using core::Status;

int64_t BootClock::MonoMs() const {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

const BootClock& BootClock::Instance() {
  static BootClock clock;
  return clock;
}

const char* AcquireModeName(AcquireMode mode) {
  switch (mode) {
    case AcquireMode::kPlanned: return "planned";
    case AcquireMode::kForce: return "force";
    case AcquireMode::kSteal: return "steal";
    case AcquireMode::kAuto: return "auto";
  }
  return "planned";
}

std::string LeaderValue::Encode() const {
  std::string b = "{\"room\":";
  core::AppendJsonString(b, room);
  b += ",\"epoch\":" + std::to_string(epoch) + ",\"danmud\":";
  core::AppendJsonString(b, danmud);
  b += ",\"repl_offset\":" + std::to_string(repl_offset) + ",\"at_ms\":" + std::to_string(at_ms) + "}";
  return b;
}

core::Result<LeaderValue> LeaderValue::Parse(const std::string& json) {
  try {
    Poco::JSON::Parser parser;
    auto v = parser.parse(json);
    if (v.type() != typeid(Poco::JSON::Object::Ptr)) return Status(Code::kInvalidArgument, "leader value is not an object");
    auto o = v.extract<Poco::JSON::Object::Ptr>();
    LeaderValue l;
    l.room = o->getValue<std::string>("room");
    l.epoch = o->getValue<int64_t>("epoch");
    l.danmud = o->optValue<std::string>("danmud", "");
    l.repl_offset = o->optValue<int64_t>("repl_offset", 0);
    l.at_ms = o->optValue<int64_t>("at_ms", 0);
    if (l.room.empty() || l.epoch <= 0) return Status(Code::kInvalidArgument, "leader value lacks room or epoch");
    return l;
  } catch (const std::exception& e) {
    return Status(Code::kInvalidArgument, std::string("leader value unreadable: ") + e.what());
  }
}

PrimaryLease::PrimaryLease(const core::Config& config, std::unique_ptr<core::EtcdClient> etcd, std::string danmud_id,
                           const core::Clock& clock, core::Metrics* metrics, LeaseHooks hooks)
    : config_(config),
      etcd_(std::move(etcd)),
      danmud_id_(std::move(danmud_id)),
      clock_(clock),
      hooks_(std::move(hooks)),
      ttl_ms_(static_cast<int64_t>(config.ha.lease_ttl_s) * 1000),
      window_(ttl_ms_, config.ha.lease_margin_ms),
      loop_("primary_lease", config.ha.lease_renew_ms, [this] { Tick(); }) {
  if (metrics) {
    auto& reg = metrics->registry();
    const std::map<std::string, std::string> room{{"room", config.room}};
    held_gauge_ = &prometheus::BuildGauge().Name("danmu_lease_held").Help("1 while this danmud holds the primary lease (leader key in etcd)").Labels(room).Register(reg).Add({});
    valid_gauge_ = &prometheus::BuildGauge().Name("danmu_lease_valid").Help("1 while the primary lease allows acknowledging writes").Labels(room).Register(reg).Add({});
    lost_gauge_ = &prometheus::BuildGauge().Name("danmu_lease_lost").Help("1 while this room is an active primary whose lease is not valid: it refuses writes").Labels(room).Register(reg).Add({});
    age_gauge_ = &prometheus::BuildGauge().Name("danmu_lease_renewal_age_seconds").Help("Seconds since the last successful lease renewal (0 when this room does not want the lease)").Labels(room).Register(reg).Add({});
    rtt_gauge_ = &prometheus::BuildGauge().Name("danmu_lease_renewal_duration_seconds").Help("Round trip of the last successful lease renewal").Labels(room).Register(reg).Add({});
    ttl_gauge_ = &prometheus::BuildGauge().Name("danmu_lease_ttl_seconds").Help("Configured TTL of the primary lease").Labels(room).Register(reg).Add({});
    ttl_gauge_->Set(static_cast<double>(config.ha.lease_ttl_s));
    auto& renewals = prometheus::BuildCounter().Name("danmu_lease_renewals_total").Help("Lease renewals by result (ok, failed: etcd unreachable, lost: lease gone)").Labels(room).Register(reg);
    renew_ok_ = &renewals.Add({{"result", "ok"}});
    renew_failed_ = &renewals.Add({{"result", "failed"}});
    renew_lost_ = &renewals.Add({{"result", "lost"}});
    refused_ = &prometheus::BuildCounter().Name("danmu_lease_acks_refused_total").Help("Writes acked by Kafka but answered 503: the lease was not valid at the moment of the answer").Labels(room).Register(reg).Add({});
    acquired_ = &prometheus::BuildCounter().Name("danmu_lease_acquisitions_total").Help("Times this danmud took the leader key").Labels(room).Register(reg).Add({});
  }
  if (!etcd_) {
    core::LogWarn("lease_disabled", {{"room", config.room}, {"reason", "etcd.endpoints is empty: acknowledgements are not fenced by a lease"}});
  }
}

PrimaryLease::~PrimaryLease() { Stop(); }

void PrimaryLease::Start() {
  if (etcd_) loop_.Start();
}

void PrimaryLease::Stop() { loop_.Stop(); }

void PrimaryLease::NoteRefused() {
  ++acks_refused_;
  if (refused_) refused_->Increment();
}

void PrimaryLease::PublishMetrics() {
  const int64_t now = clock_.MonoMs();
  const bool valid = MayAcknowledge();
  const bool wants = hooks_.wants_lease && hooks_.wants_lease();
  if (held_gauge_) held_gauge_->Set(held_ ? 1 : 0);
  if (valid_gauge_) valid_gauge_->Set(valid ? 1 : 0);
  if (lost_gauge_) lost_gauge_->Set(etcd_ && wants && !valid ? 1 : 0);
  if (age_gauge_) {
    const int64_t last = last_renewal_mono_.load();
    age_gauge_->Set(wants ? (last > 0 ? (now - last) / 1000.0 : static_cast<double>(ttl_ms_) / 1000.0) : 0.0);
  }
  if (rtt_gauge_) rtt_gauge_->Set(last_renewal_rtt_ms_.load() / 1000.0);
}

void PrimaryLease::DropLocked(const std::string& why) {
  window_.Clear();
  const bool was = held_;
  held_ = false;
  lease_id_ = 0;
  mod_revision_ = 0;
  if (was) {
    core::LogWarn("lease_lost", {{"room", config_.room}, {"epoch", std::to_string(held_epoch_)}, {"danmud", danmud_id_},
                                 {"reason", why}});
  }
}

core::Result<bool> PrimaryLease::TakeLocked(int64_t epoch, const std::string& reason) {
  LeaderValue v;
  v.room = config_.room;
  v.epoch = epoch;
  v.danmud = danmud_id_;
  v.repl_offset = hooks_.repl_offset ? hooks_.repl_offset() : 0;
  v.at_ms = clock_.NowMs();
  const int64_t sent = clock_.MonoMs();
  auto lease = etcd_->Grant(config_.ha.lease_ttl_s);
  if (!lease.ok()) return lease.status();
  auto txn = etcd_->CreateIfAbsent(config_.ha.lease_key, v.Encode(), *lease);
  if (!txn.ok()) {
    (void)etcd_->Revoke(*lease);
    return txn.status();
  }
  if (!txn->succeeded) {
    (void)etcd_->Revoke(*lease);
    return false;
  }
  held_ = true;
  lease_id_ = *lease;
  mod_revision_ = txn->revision;
  held_epoch_ = epoch;
  last_holder_ = v;
  holder_known_ = true;
  window_.Renewed(sent);
  last_renewal_mono_ = sent;
  if (acquired_) acquired_->Increment();
  core::LogWarn("lease_acquired", {{"room", config_.room}, {"epoch", std::to_string(epoch)}, {"danmud", danmud_id_},
                                   {"lease", std::to_string(*lease)}, {"ttl_s", std::to_string(config_.ha.lease_ttl_s)},
                                   {"reason", reason}});
  return true;
}

core::Result<AcquireReport> PrimaryLease::Acquire(int64_t epoch, AcquireMode mode, bool peer_frozen) {
  AcquireReport rep;
  if (!etcd_) return rep;
  const int64_t start = clock_.MonoMs();
  const int64_t deadline = start + 2 * ttl_ms_ + 3000;
  // Renewal detection of the holder's lease: its remaining TTL must fall;
  // a lease alive past its expected expiry (or whose TTL rose) was renewed.
  int64_t watched_lease = 0, first_seen_mono = 0, first_ttl_s = 0, last_ttl_s = 0;
  std::unique_lock lock(mu_);
  while (true) {
    auto kv = etcd_->Get(config_.ha.lease_key);
    if (!kv.ok()) return Status(Code::kUnavailable, "etcd unreachable, cannot take the leader key: " + kv.status().message());
    if (!kv->has_value()) {
      auto taken = TakeLocked(epoch, std::string("promotion (") + AcquireModeName(mode) + ")");
      if (!taken.ok()) return taken.status();
      if (*taken) {
        rep.waited_ms = clock_.MonoMs() - start;
        const int64_t nb = window_.not_before() - clock_.MonoMs();
        rep.ack_wait_ms = nb > 0 ? nb : 0;
        return rep;
      }
      continue;  // someone created it between our read and our create: look again
    }
    auto v = LeaderValue::Parse((*kv)->value);
    const int64_t holder_lease = (*kv)->lease;
    if (!v.ok()) {
      // Not ours to interpret: refuse rather than overwrite.
      return Status(Code::kInternal, "leader key " + config_.ha.lease_key + " holds an unreadable value: " + v.status().message());
    }
    if (v->room == config_.room) {
      if (held_ && holder_lease == lease_id_) {
        rep.previous_holder = v->room;
        rep.previous_epoch = v->epoch;
        held_epoch_ = epoch;  // the next renewal publishes the new epoch
        return rep;
      }
      // A key of this room from an earlier process or lease: ours to replace.
      (void)etcd_->Revoke(holder_lease);
      if (holder_lease == 0) (void)etcd_->Delete(config_.ha.lease_key);
      continue;
    }
    rep.previous_holder = v->room;
    rep.previous_epoch = v->epoch;
    if (v->epoch >= epoch) {
      return Status(Code::kFencedEpoch, "room " + v->room + " holds the leader key at epoch " + std::to_string(v->epoch) +
                                            " >= " + std::to_string(epoch) + ": this promotion is superseded");
    }
    if (mode == AcquireMode::kAuto) {
      return Status(Code::kFencedEpoch, "room " + v->room + " took the leader key first");
    }
    if (mode == AcquireMode::kPlanned) {
      if (!peer_frozen) {
        return Status(Code::kFencedEpoch, "room " + v->room + " holds the leader key (epoch " + std::to_string(v->epoch) +
                                              ") and is not frozen: use a planned switchover (danmuctl switchover), "
                                              "or --force for an unplanned failover");
      }
      // Switchover: the holder is frozen and drained; it acknowledges nothing.
      core::LogWarn("lease_revoke_frozen_holder", {{"room", config_.room}, {"holder", v->room}, {"holder_epoch", std::to_string(v->epoch)}});
      if (Status s = etcd_->Revoke(holder_lease); !s.ok()) return s;
      continue;
    }
    auto info = etcd_->TimeToLive(holder_lease);
    if (!info.ok()) return Status(Code::kUnavailable, "etcd: time to live of the holder's lease: " + info.status().message());
    if (mode == AcquireMode::kSteal) {
      const int64_t wait = std::max<int64_t>(std::max(info->granted_ttl_s, info->ttl_s) * 1000, ttl_ms_);
      core::LogWarn("lease_steal", {{"room", config_.room}, {"holder", v->room}, {"holder_epoch", std::to_string(v->epoch)},
                                    {"holder_danmud", v->danmud}, {"ack_wait_ms", std::to_string(wait)}});
      if (Status s = etcd_->Revoke(holder_lease); !s.ok()) return s;
      window_.NotBefore(clock_.MonoMs() + wait);
      continue;
    }
    // force: wait for the holder's lease to expire; refuse while it renews.
    const int64_t now = clock_.MonoMs();
    if (info->ttl_s > 0) {
      if (watched_lease != holder_lease) {
        watched_lease = holder_lease;
        first_seen_mono = now;
        first_ttl_s = last_ttl_s = info->ttl_s;
        core::LogWarn("lease_wait_for_expiry", {{"room", config_.room}, {"holder", v->room}, {"holder_epoch", std::to_string(v->epoch)},
                                                {"holder_danmud", v->danmud}, {"ttl_s", std::to_string(info->ttl_s)}});
      } else if (info->ttl_s > last_ttl_s || now > first_seen_mono + (first_ttl_s + 1) * 1000 + 2000) {
        return Status(Code::kFencedEpoch,
                      "room " + v->room + " is renewing its lease (it is alive, epoch " + std::to_string(v->epoch) +
                          "): a forced promotion would leave two rooms acknowledging; use a planned switchover, or "
                          "--steal (revokes its lease and still waits out the TTL before acknowledging)");
      } else {
        last_ttl_s = info->ttl_s;
      }
    }
    if (now > deadline) {
      return Status(Code::kUnavailable, "room " + v->room + "'s lease did not expire within " + std::to_string(deadline - start) + " ms");
    }
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    lock.lock();
  }
}

void PrimaryLease::Release(const std::string& reason) {
  if (!etcd_) return;
  std::lock_guard lock(mu_);
  if (!held_) {
    window_.Clear();
    return;
  }
  const int64_t lease = lease_id_;
  DropLocked("released: " + reason);
  if (Status s = etcd_->Revoke(lease); !s.ok()) {
    core::LogWarn("lease_revoke_failed", {{"room", config_.room}, {"lease", std::to_string(lease)}, {"error", s.message()},
                                          {"effect", "the key expires with its TTL"}});
  }
  PublishMetrics();
}

void PrimaryLease::Tick() {
  if (!etcd_) return;
  std::string lost_why;
  std::string auto_why;
  int64_t newer_epoch = 0;
  std::string newer_holder;
  {
    std::lock_guard lock(mu_);
    const bool wants = hooks_.wants_lease && hooks_.wants_lease();
    auto note_etcd = [&](const Status& s) {
      const bool ok = s.ok();
      if (ok != etcd_ok_) {
        if (ok) core::LogWarn("lease_etcd_reachable", {{"room", config_.room}});
        else core::LogWarn("lease_etcd_unreachable", {{"room", config_.room}, {"error", s.message()},
                                                      {"effect", wants ? "writes refused once the lease window closes" : "none while secondary"}});
      }
      etcd_ok_ = ok;
      if (!ok) last_error_ = s.message();
    };
    // A held key is given up only by Release (demotion): a promotion holds
    // the key a moment before the room becomes primary.
    if (held_) {
      const int64_t sent = clock_.MonoMs();
      auto ka = etcd_->KeepAlive(lease_id_);
      if (ka.ok()) {
        note_etcd(Status::Ok());
        window_.Renewed(sent);
        last_renewal_mono_ = sent;
        last_renewal_rtt_ms_ = clock_.MonoMs() - sent;
        if (renew_ok_) renew_ok_->Increment();
        // Publish the epoch and offset; the compare on the mod revision
        // notices a key that changed under us.
        LeaderValue v;
        v.room = config_.room;
        v.epoch = hooks_.epoch ? std::max(hooks_.epoch(), held_epoch_) : held_epoch_;
        v.danmud = danmud_id_;
        v.repl_offset = hooks_.repl_offset ? hooks_.repl_offset() : 0;
        v.at_ms = clock_.NowMs();
        core::EtcdCompare same;
        same.target = core::EtcdCompare::Target::kMod;
        same.key = config_.ha.lease_key;
        same.number = mod_revision_;
        core::EtcdOp put{core::EtcdOp::Kind::kPut, config_.ha.lease_key, v.Encode(), lease_id_, ""};
        core::EtcdOp read{core::EtcdOp::Kind::kRange, config_.ha.lease_key, "", 0, ""};
        auto txn = etcd_->Txn({same}, {put}, {read});
        if (txn.ok() && txn->succeeded) {
          mod_revision_ = txn->revision;
          held_epoch_ = v.epoch;
          last_holder_ = v;
        } else if (txn.ok() && !txn->kvs.empty() && txn->kvs[0].lease == lease_id_) {
          // Still ours: an earlier attempt of this put was applied by a
          // member whose answer was lost (the client then tried the next).
          mod_revision_ = txn->kvs[0].mod_revision;
        } else if (txn.ok()) {
          if (renew_lost_) renew_lost_->Increment();
          lost_why = "the leader key changed under this room's lease";
          DropLocked(lost_why);
        }
      } else if (ka.status().code() == Code::kNotFound) {
        note_etcd(Status::Ok());
        if (renew_lost_) renew_lost_->Increment();
        lost_why = "lease expired or revoked (renewal found no lease)";
        DropLocked(lost_why);
      } else {
        note_etcd(ka.status());
        if (renew_failed_) renew_failed_->Increment();
      }
    }
    if (!held_) {
      auto kv = etcd_->Get(config_.ha.lease_key);
      note_etcd(kv.ok() ? Status::Ok() : kv.status());
      if (kv.ok()) {
        if (kv->has_value()) {
          auto v = LeaderValue::Parse((*kv)->value);
          if (v.ok()) {
            last_holder_ = *v;
            holder_known_ = true;
            if (v->room != config_.room) {
              saw_other_holder_ = true;
              const int64_t own = hooks_.epoch ? hooks_.epoch() : 0;
              if (hooks_.is_primary && hooks_.is_primary() && v->epoch > own) {
                newer_epoch = v->epoch;
                newer_holder = v->room;
                if (lost_why.empty()) lost_why = "room " + v->room + " holds the leader key at a newer epoch";
              } else if (wants && v->epoch < own) {
                // The newer epoch wins: take the key from the older holder.
                core::LogWarn("lease_epoch_conflict", {{"room", config_.room}, {"epoch", std::to_string(own)},
                                                       {"holder", v->room}, {"holder_epoch", std::to_string(v->epoch)},
                                                       {"action", "revoke the older holder's lease, wait out its TTL"}});
                (void)etcd_->Revoke((*kv)->lease);
                window_.NotBefore(clock_.MonoMs() + ttl_ms_);
              }
            } else if (wants) {
              // This room's key from an earlier process or a lost lease.
              (void)etcd_->Revoke((*kv)->lease);
              if ((*kv)->lease == 0) (void)etcd_->Delete(config_.ha.lease_key);
            }
          }
        } else if (wants) {
          auto taken = TakeLocked(hooks_.epoch ? hooks_.epoch() : 1,
                                  lost_why.empty() ? "primary without the key" : "re-acquired after: " + lost_why);
          if (taken.ok() && *taken) lost_why.clear();
        } else if (config_.ha.auto_failover && hooks_.is_primary && !hooks_.is_primary() && saw_other_holder_) {
          const int64_t own = hooks_.repl_offset ? hooks_.repl_offset() : 0;
          const int64_t lag = std::max<int64_t>(0, last_holder_.repl_offset - own);
          if (lag <= config_.ha.auto_failover_max_lag_bytes) {
            auto_why = "automatic failover: room " + last_holder_.room + "'s lease expired (epoch " +
                       std::to_string(last_holder_.epoch) + "), replica " + std::to_string(lag) + " bytes behind its last offset";
          } else {
            core::LogWarn("auto_failover_refused", {{"room", config_.room}, {"holder", last_holder_.room},
                                                    {"lag_bytes", std::to_string(lag)},
                                                    {"max_lag_bytes", std::to_string(config_.ha.auto_failover_max_lag_bytes)}});
          }
        }
      }
    }
    PublishMetrics();
  }
  if (newer_epoch > 0 && hooks_.on_lost) hooks_.on_lost(newer_epoch, newer_holder, lost_why);
  if (!auto_why.empty() && hooks_.on_auto_failover) hooks_.on_auto_failover(auto_why);
}

std::string PrimaryLease::StatusJson() const {
  StatusFields f;
  bool waiting = true;  // a round holds mu_ (etcd slow or unreachable)
  {
    std::unique_lock lock(mu_, std::defer_lock);
    if (lock.try_lock_for(std::chrono::milliseconds(kStatusWaitMs))) {
      f = {held_, etcd_ok_, last_error_, last_holder_, holder_known_};
      waiting = false;
    }
  }
  {
    std::lock_guard sl(status_mu_);
    if (waiting) f = last_status_;
    else last_status_ = f;
  }
  if (waiting) {
    f.etcd_ok = false;
    f.last_error = "a lease round has waited over " + std::to_string(kStatusWaitMs) + " ms for etcd";
  }
  const int64_t now = clock_.MonoMs();
  std::string b = "{\"enabled\":" + std::string(etcd_ ? "true" : "false");
  b += ",\"held\":" + std::string(f.held ? "true" : "false");
  b += ",\"valid\":" + std::string(MayAcknowledge() ? "true" : "false");
  b += ",\"remaining_ms\":" + std::to_string(std::max<int64_t>(0, window_.RemainingMs(now)));
  const int64_t nb = window_.not_before() - now;
  b += ",\"ack_wait_ms\":" + std::to_string(nb > 0 ? nb : 0);
  const int64_t last = last_renewal_mono_.load();
  b += ",\"renewal_age_ms\":" + std::to_string(last > 0 ? now - last : -1);
  b += ",\"renewal_rtt_ms\":" + std::to_string(last_renewal_rtt_ms_.load());
  b += ",\"ttl_s\":" + std::to_string(config_.ha.lease_ttl_s);
  b += ",\"margin_ms\":" + std::to_string(config_.ha.lease_margin_ms);
  b += ",\"renew_ms\":" + std::to_string(config_.ha.lease_renew_ms);
  b += ",\"auto_failover\":" + std::string(config_.ha.auto_failover ? "true" : "false");
  b += ",\"acks_refused\":" + std::to_string(acks_refused_.load());
  b += ",\"etcd_reachable\":" + std::string(f.etcd_ok ? "true" : "false");
  if (!f.etcd_ok) {
    b += ",\"etcd_error\":";
    core::AppendJsonString(b, f.last_error);
  }
  b += ",\"round_waiting\":" + std::string(waiting ? "true" : "false");
  b += ",\"danmud\":";
  core::AppendJsonString(b, danmud_id_);
  b += ",\"holder\":" + (f.holder_known ? f.holder.Encode() : std::string("null"));
  return b + "}";
}

}  // namespace danmu::replication
