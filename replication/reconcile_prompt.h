#pragma once
// "Reconciliation may be needed" (DESIGN §8), and the catch-up that a forced
// promotion runs by itself.
//
// A room raises the prompt when acknowledged writes may sit in a Kafka log
// that the active primary does not consume:
//   - it demoted itself (lost the primary lease, fenced, or found superseded
//     by the other room): its own Kafka may hold acked records never applied;
//   - it was promoted by force and the old primary's log was not (completely)
//     re-ingested: the old room's Kafka.
// The prompt is a WARN log line with the command to run, a gauge
// (danmu_reconcile_needed{room} = 1, alert DanmuReconcileNeeded) and the
// "reconcile" object of /v1/admin/status. It is cleared by a complete
// reconciliation (this room's admin reconcile, danmuctl reconcile clears both
// rooms), a complete catch-up, or a later promotion of this room.
//
// Catch-up: after a forced promotion, the lease guarantees that the old
// primary acknowledges nothing any more (its lease expired or was revoked
// before this room took the key), so its Kafka log up to now is final: one
// reconciliation from it, started in the background right after the
// promotion, re-ingests every acked write the old room never applied (the
// processor's dedup by id makes it idempotent). If the old Kafka does not
// answer (the whole room is gone) the prompt stays raised.
//
// Thread safety: all methods may be called from any thread.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "core/base/clock.h"
#include "replication/reconciler.h"

namespace prometheus { class Gauge; }
namespace danmu::core { class Metrics; }

namespace danmu::replication {

class ReconcilePrompt {
 public:
  ReconcilePrompt(std::string room, const core::Clock& clock, core::Metrics* metrics);
  ~ReconcilePrompt();

  // from_kafka: the log to reconcile from; into: the room to run it on.
  void Raise(const std::string& from_kafka, const std::string& into, const std::string& reason);
  void Clear(const std::string& reason);
  bool needed() const;
  // {"needed":bool,"from_kafka":..,"into":..,"reason":..,"raised_at_ms":..,"catch_up":{...}}
  std::string StatusJson() const;

  // Starts a background catch-up (see above) with `options`; the prompt is
  // raised first and cleared only if the run is complete with nothing failed.
  void StartCatchUp(Reconciler* reconciler, ReconcileOptions options, const std::string& into);

 private:
  const std::string room_;
  const core::Clock& clock_;
  prometheus::Gauge* gauge_ = nullptr;
  mutable std::mutex mu_;  // guards the fields below
  bool needed_ = false;
  std::string from_, into_, reason_;
  int64_t raised_at_ms_ = 0;
  std::string catch_up_state_ = "none";  // none|running|done|failed
  std::string catch_up_detail_;
  std::thread catch_up_;
};

}  // namespace danmu::replication
