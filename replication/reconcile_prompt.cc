#include "replication/reconcile_prompt.h"

#include <prometheus/gauge.h>

#include "core/base/json_text.h"
#include "core/base/log.h"
#include "core/base/metrics.h"

namespace danmu::replication {

ReconcilePrompt::ReconcilePrompt(std::string room, const core::Clock& clock, core::Metrics* metrics)
    : room_(std::move(room)), clock_(clock) {
  if (metrics) {
    gauge_ = &prometheus::BuildGauge().Name("danmu_reconcile_needed").Help("1 while acknowledged writes may sit in a Kafka log the active primary does not consume (run danmuctl reconcile)").Labels({{"room", room_}}).Register(metrics->registry()).Add({});
  }
}

ReconcilePrompt::~ReconcilePrompt() {
  if (catch_up_.joinable()) catch_up_.join();
}

void ReconcilePrompt::Raise(const std::string& from_kafka, const std::string& into, const std::string& reason) {
  std::lock_guard lock(mu_);
  needed_ = true;
  from_ = from_kafka;
  into_ = into;
  reason_ = reason;
  raised_at_ms_ = clock_.NowMs();
  if (gauge_) gauge_->Set(1);
  core::LogWarn("reconcile_may_be_needed", {{"room", room_}, {"from_kafka", from_kafka}, {"run_on_room", into},
                                            {"reason", reason},
                                            {"command", "danmuctl reconcile --room " + into + " --from-kafka " + from_kafka}});
}

void ReconcilePrompt::Clear(const std::string& reason) {
  std::lock_guard lock(mu_);
  if (!needed_) return;
  needed_ = false;
  if (gauge_) gauge_->Set(0);
  core::LogWarn("reconcile_prompt_cleared", {{"room", room_}, {"from_kafka", from_}, {"reason", reason}});
}

bool ReconcilePrompt::needed() const {
  std::lock_guard lock(mu_);
  return needed_;
}

std::string ReconcilePrompt::StatusJson() const {
  std::lock_guard lock(mu_);
  std::string b = "{\"needed\":" + std::string(needed_ ? "true" : "false") + ",\"from_kafka\":";
  core::AppendJsonString(b, from_);
  b += ",\"into\":";
  core::AppendJsonString(b, into_);
  b += ",\"reason\":";
  core::AppendJsonString(b, reason_);
  b += ",\"raised_at_ms\":" + std::to_string(raised_at_ms_) + ",\"catch_up\":{\"state\":";
  core::AppendJsonString(b, catch_up_state_);
  b += ",\"detail\":";
  core::AppendJsonString(b, catch_up_detail_);
  return b + "}}";
}

void ReconcilePrompt::StartCatchUp(Reconciler* reconciler, ReconcileOptions options, const std::string& into) {
  Raise(options.old_brokers, into, "forced promotion: the old primary's Kafka may hold acknowledged writes");
  std::lock_guard lock(mu_);
  if (catch_up_state_ == "running") return;
  if (catch_up_.joinable()) catch_up_.join();
  catch_up_state_ = "running";
  catch_up_detail_.clear();
  catch_up_ = std::thread([this, reconciler, options] {
    auto rep = reconciler->Run(options);
    const bool ok = rep.ok() && rep->complete && rep->failed == 0 && rep->unknown == 0;
    std::string detail = rep.ok() ? "scanned " + std::to_string(rep->scanned) + ", re-ingested " +
                                        std::to_string(rep->reingested) + ", unknown " + std::to_string(rep->unknown) +
                                        ", failed " + std::to_string(rep->failed) +
                                        (rep->complete ? "" : ", incomplete: " + rep->error)
                                  : rep.status().message();
    core::LogWarn("catch_up_done", {{"room", room_}, {"from_kafka", options.old_brokers}, {"ok", ok ? "true" : "false"},
                                    {"detail", detail}});
    {
      std::lock_guard inner(mu_);
      catch_up_state_ = ok ? "done" : "failed";
      catch_up_detail_ = detail;
    }
    if (ok) Clear("catch-up from the old primary's Kafka complete");
  });
}

}  // namespace danmu::replication
