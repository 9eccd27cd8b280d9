#pragma once
// The primary lease (DESIGN §8; Patroni's leader key, Raft's leader lease).
//
// The epoch fences the store; the lease fences the ACKNOWLEDGEMENT. The
// primary room holds one key in etcd (ha.lease_key) under an etcd lease of
// ha.lease_ttl_s, whose value names the holder:
//   {"room":"A","epoch":7,"danmud":"A/host/pid/start","repl_offset":N,"at_ms":T}
// (repl_offset: the holder's Redis master offset at its last renewal, which a
// secondary compares with its own replica offset before an automatic
// failover).
//
// Protocol:
//   hold:     every ha.lease_renew_ms the holder sends a keepalive; a keepalive
//             SENT at monotonic time t that succeeds makes acknowledgements
//             valid until t + TTL - ha.lease_margin_ms (LeaseWindow). etcd
//             expires the lease no earlier than TTL after it RECEIVED the
//             keepalive, so the holder stops acknowledging before anyone else
//             can take the key. The holder then rewrites the value (epoch,
//             offset) in a transaction on the key's mod revision.
//   ack:      MayAcknowledge() is checked at the moment a write's 2xx is about
//             to be sent (after Kafka acked): false -> 503 + Retry-After. After
//             a pause (SIGSTOP, a stalled VM: the clock is CLOCK_BOOTTIME in
//             danmud) longer than the TTL the window has run out, so a woken
//             primary refuses until it renewed, or learned it lost the key.
//   lost:     a keepalive answering "no such lease", or the key changed under
//             us: the window is cleared at once; if another room holds the key
//             with a newer epoch, hooks.on_lost demotes this room; if nobody
//             holds it and this room is still an unfrozen primary, it takes
//             the key again (nobody took over: the create is atomic).
//   etcd down: renewals fail, the window runs out after TTL - margin and
//             writes are refused (reads go on) until etcd answers again.
//   promote:  Acquire(epoch, mode) takes the key with the new epoch before the
//             room becomes primary:
//               planned  the holder must be a frozen peer (switchover): its
//                        lease is revoked and the key taken at once;
//               force    waits until the holder's lease expired (it stopped
//                        renewing: dead, paused or cut off from etcd); refused
//                        with a clear message while the holder keeps renewing;
//               steal    revokes the holder's lease now, takes the key, and
//                        acknowledges nothing until the holder's TTL passed;
//               auto     only an absent key (the automatic failover).
//             The create is a transaction on create_revision == 0: one winner.
//   conflict: the newer epoch wins. A primary that sees another room's key
//             with a newer epoch demotes; a primary with a newer epoch than the
//             holder's takes the key as with steal.
//   auto failover (ha.auto_failover): a secondary that has seen another
//             room hold the key, finds it absent (expired), and trails the
//             holder's last published offset by at most
//             ha.auto_failover_max_lag_bytes calls hooks.on_auto_failover.
//
// Thread safety: MayAcknowledge() is lock-free (hot path, any thread). Tick(),
// Acquire() and Release() serialise on mu_; hooks are called without mu_
// held (they take the role controller's lock, which calls Acquire/Release).
// StatusJson() waits at most kStatusWaitMs for mu_: a round that holds it
// while etcd does not answer (up to timeout_ms per member) must not stall
// /v1/admin/status and danmuctl status, which the on-call needs most then;
// it answers from the fields the last status read, marked as waiting.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/base/clock.h"
#include "core/base/config.h"
#include "core/base/periodic_task.h"
#include "core/base/status.h"
#include "core/store/etcd_client.h"

namespace prometheus {
class Counter;
class Gauge;
}  // namespace prometheus

namespace danmu::core { class Metrics; }

namespace danmu::replication {

// When acknowledgements are allowed, on a monotonic clock (pure; tested).
class LeaseWindow {
 public:
  LeaseWindow(int64_t ttl_ms, int64_t margin_ms) : ttl_ms_(ttl_ms), margin_ms_(margin_ms) {}
  // A renewal (or grant) sent at `sent_mono` succeeded.
  void Renewed(int64_t sent_mono) { valid_until_ = sent_mono + ttl_ms_ - margin_ms_; }
  // No acknowledgement before `mono` (after a steal: the old holder's TTL).
  void NotBefore(int64_t mono) { not_before_ = mono; }
  void Clear() { valid_until_ = 0; }
  bool Valid(int64_t now_mono) const { return now_mono < valid_until_.load() && now_mono >= not_before_.load(); }
  // Until the window closes (<= 0: closed).
  int64_t RemainingMs(int64_t now_mono) const { return valid_until_.load() - now_mono; }
  int64_t not_before() const { return not_before_.load(); }

 private:
  const int64_t ttl_ms_, margin_ms_;
  std::atomic<int64_t> valid_until_{0};
  std::atomic<int64_t> not_before_{0};
};

struct LeaderValue {
  std::string room;
  int64_t epoch = 0;
  std::string danmud;
  int64_t repl_offset = 0;
  int64_t at_ms = 0;
  std::string Encode() const;
  static core::Result<LeaderValue> Parse(const std::string& json);
};

enum class AcquireMode { kPlanned, kForce, kSteal, kAuto };
const char* AcquireModeName(AcquireMode mode);

struct AcquireReport {
  std::string previous_holder;   // room that held the key before, "" = none
  int64_t previous_epoch = 0;
  int64_t waited_ms = 0;         // waiting for the old lease to expire
  int64_t ack_wait_ms = 0;       // steal: acknowledgements start this much later
};

struct LeaseHooks {
  // This room is an active, unfrozen primary: it should hold the key.
  std::function<bool()> wants_lease;
  std::function<bool()> is_primary;
  std::function<int64_t()> epoch;
  std::function<int64_t()> repl_offset;
  // Another room holds the key with a newer epoch: demote to it.
  std::function<void(int64_t epoch, const std::string& holder, const std::string& why)> on_lost;
  // Automatic failover: the holder's lease expired; promote this room.
  std::function<void(const std::string& why)> on_auto_failover;
};

class PrimaryLease {
 public:
  // `etcd` null = no lease configured: MayAcknowledge() is always true (and
  // the status says so).
  PrimaryLease(const core::Config& config, std::unique_ptr<core::EtcdClient> etcd, std::string danmud_id,
               const core::Clock& clock, core::Metrics* metrics, LeaseHooks hooks);
  ~PrimaryLease();

  bool enabled() const { return etcd_ != nullptr; }
  // The hot-path check at the moment of an acknowledgement.
  bool MayAcknowledge() const { return !etcd_ || window_.Valid(clock_.MonoMs()); }
  // Counts one acknowledgement refused because the lease was not valid.
  void NoteRefused();

  // Takes the leader key for `epoch` (see the protocol above). Blocks while
  // waiting for an old lease to expire (at most 2 x TTL + 3 s).
  core::Result<AcquireReport> Acquire(int64_t epoch, AcquireMode mode, bool peer_frozen);
  // Gives the key up (demotion): acknowledgements stop before the revoke.
  void Release(const std::string& reason);

  // One round: renew, publish, check, re-acquire, watch for auto failover.
  void Tick();
  void Start();
  void Stop();

  // {"enabled","held","valid","remaining_ms","holder":{...},"renewal_age_ms",...}
  std::string StatusJson() const;

 private:
  struct Lost {
    bool lost = false;
    std::string why;
  };
  // With mu_ held: grant + create-if-absent. True when the key is ours.
  core::Result<bool> TakeLocked(int64_t epoch, const std::string& reason);
  void DropLocked(const std::string& why);
  void PublishMetrics();
  // After losing the key (without mu_): demote, or take it again.
  void AfterLost(const std::string& why);

  const core::Config& config_;
  const std::unique_ptr<core::EtcdClient> etcd_;
  const std::string danmud_id_;
  const core::Clock& clock_;
  const LeaseHooks hooks_;
  const int64_t ttl_ms_;
  LeaseWindow window_;

  struct StatusFields {  // what StatusJson shows of the fields under mu_
    bool held = false;
    bool etcd_ok = true;
    std::string last_error;
    LeaderValue holder;
    bool holder_known = false;
  };
  static constexpr int kStatusWaitMs = 200;
  mutable std::mutex status_mu_;
  mutable StatusFields last_status_;  // guarded by status_mu_

  mutable std::timed_mutex mu_;  // guards the fields below
  bool held_ = false;
  int64_t lease_id_ = 0;
  int64_t mod_revision_ = 0;
  int64_t held_epoch_ = 0;
  bool saw_other_holder_ = false;
  LeaderValue last_holder_;        // last key value seen (any room)
  bool holder_known_ = false;
  bool etcd_ok_ = true;            // last call answered (for the status and one log line per change)
  std::string last_error_;

  std::atomic<int64_t> last_renewal_mono_{0};  // last successful renewal sent at
  std::atomic<int64_t> last_renewal_rtt_ms_{0};
  std::atomic<int64_t> acks_refused_{0};

  prometheus::Gauge* held_gauge_ = nullptr;
  prometheus::Gauge* valid_gauge_ = nullptr;
  prometheus::Gauge* lost_gauge_ = nullptr;
  prometheus::Gauge* age_gauge_ = nullptr;
  prometheus::Gauge* rtt_gauge_ = nullptr;
  prometheus::Gauge* ttl_gauge_ = nullptr;
  prometheus::Counter* renew_ok_ = nullptr;
  prometheus::Counter* renew_failed_ = nullptr;
  prometheus::Counter* renew_lost_ = nullptr;
  prometheus::Counter* refused_ = nullptr;
  prometheus::Counter* acquired_ = nullptr;

  core::PeriodicTask loop_;
};

// The clock danmud gives the lease: wall time, and CLOCK_BOOTTIME as the
// monotonic clock (it keeps counting while a VM is suspended).
class BootClock final : public core::Clock {
 public:
  int64_t NowMs() const override { return core::SystemClock::Instance().NowMs(); }
  int64_t MonoMs() const override;
  static const BootClock& Instance();
};

}  // namespace danmu::replication
