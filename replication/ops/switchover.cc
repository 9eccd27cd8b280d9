#include "replication/ops/switchover.h"

#include <chrono>
#include <thread>

#include "core/base/clock.h"
#include "core/base/json_text.h"

namespace danmu::replication {
namespace {

class Steps {
 public:
  explicit Steps(std::vector<DrillStep>* out) : out_(out), t0_(core::SystemClock::Instance().MonoMs()) {}
  void Begin() { begin_ = core::SystemClock::Instance().MonoMs(); }
  void End(const std::string& name, const std::string& detail = "") {
    out_->push_back({name, begin_ - t0_, core::SystemClock::Instance().MonoMs() - begin_, detail});
  }

 private:
  std::vector<DrillStep>* out_;
  int64_t t0_, begin_ = 0;
};

// Polls `status` until `done` holds or the timeout passes.
bool WaitStatus(const AdminClient& c, int timeout_ms, const std::function<bool(const RoomStatus&)>& done,
                RoomStatus* last) {
  int64_t deadline = core::SystemClock::Instance().MonoMs() + timeout_ms;
  while (core::SystemClock::Instance().MonoMs() < deadline) {
    auto s = c.Status();
    if (s.ok()) {
      *last = *s;
      if (done(*s)) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string Reason(const std::string& r) { return "{\"reason\":" + core::JsonString(r) + "}"; }

}  // namespace

SwitchoverResult Switchover(const AdminClient& primary, const AdminClient& secondary, const SwitchoverOptions& o) {
  SwitchoverResult res;
  Steps steps(&res.steps);
  auto fail = [&](const std::string& why, bool unfreeze) {
    res.error = why;
    if (unfreeze) (void)primary.Action("unfreeze", Reason("switchover aborted: " + why));
    return res;
  };
  steps.Begin();
  auto p = primary.Status();
  auto s = secondary.Status();
  if (!p.ok()) return fail("primary unreachable: " + p.status().message(), false);
  if (!s.ok()) return fail("secondary unreachable: " + s.status().message(), false);
  if (!p->active_primary()) return fail(p->room + " is not an active primary", false);
  if (s->role != core::Role::kSecondary) return fail(s->room + " is not a secondary", false);
  steps.End("check_roles", p->room + " -> " + s->room);

  steps.Begin();
  auto frozen = primary.Action("freeze", Reason(o.reason));
  if (!frozen.ok()) return fail("freeze: " + frozen.status().message(), true);
  steps.End("freeze_writes");

  RoomStatus last;
  steps.Begin();
  if (!WaitStatus(primary, o.drain_timeout_ms, [](const RoomStatus& st) { return st.writes_in_flight == 0; }, &last)) {
    return fail("writes still in flight after the drain timeout", true);
  }
  int64_t drained_at = last.now_ms;
  steps.End("drain_in_flight");

  steps.Begin();
  if (!WaitStatus(primary, o.drain_timeout_ms, [&](const RoomStatus& st) {
        return st.processor.backlog == 0 && st.processor.backlog_sampled_at_ms > drained_at;
      }, &last)) {
    return fail("processor backlog did not reach 0 (last " + std::to_string(last.processor.backlog) + ")", true);
  }
  int64_t target_offset = last.replication.repl_offset;
  steps.End("drain_kafka", "master offset " + std::to_string(target_offset));

  steps.Begin();
  if (!WaitStatus(secondary, o.drain_timeout_ms, [&](const RoomStatus& st) {
        return st.replication.link_up && st.replication.repl_offset >= target_offset;
      }, &last)) {
    return fail("replica did not catch up (offset " + std::to_string(last.replication.repl_offset) + " < " +
                    std::to_string(target_offset) + ")", true);
  }
  steps.End("replica_caught_up", "replica offset " + std::to_string(last.replication.repl_offset));

  steps.Begin();
  auto promoted = secondary.Action("promote", Reason(o.reason), 30000);
  if (!promoted.ok()) return fail("promote: " + promoted.status().message(), true);
  res.new_epoch = promoted->epoch;
  steps.End("promote", promoted->room + " epoch " + std::to_string(promoted->epoch));

  steps.Begin();
  auto demoted = primary.Action("demote", "{\"epoch\":" + std::to_string(res.new_epoch) + ",\"reason\":" +
                                              core::JsonString(o.reason) + "}");
  if (!demoted.ok()) {
    // The old primary stays frozen (and its processor idles once it sees the
    // newer epoch): no split brain, but say so.
    return fail("demote of the old primary failed (it stays frozen): " + demoted.status().message(), false);
  }
  steps.End("demote_old_primary");

  steps.Begin();
  auto a = primary.Status();
  auto b = secondary.Status();
  int primaries = (a.ok() && a->role == core::Role::kPrimary) + (b.ok() && b->role == core::Role::kPrimary);
  if (primaries != 1) return fail("after the switchover " + std::to_string(primaries) + " rooms claim primary", false);
  steps.End("verify_one_primary");
  res.ok = true;
  return res;
}

SwitchoverResult ForcePromote(const AdminClient& survivor, const std::string& reason) {
  SwitchoverResult res;
  Steps steps(&res.steps);
  steps.Begin();
  // Through the lease: waits for the lost primary's lease to expire, then
  // re-ingests from its Kafka in the background if that still answers.
  auto promoted = survivor.Action("promote", "{\"force\":true,\"catch_up\":true,\"reason\":" + core::JsonString(reason) + "}", 60000);
  if (!promoted.ok()) {
    res.error = promoted.status().message();
    return res;
  }
  res.new_epoch = promoted->epoch;
  steps.End("promote_forced", promoted->room + " epoch " + std::to_string(promoted->epoch));
  res.ok = true;
  return res;
}

SwitchoverResult WaitForAutoPromotion(const AdminClient& survivor, int timeout_ms) {
  SwitchoverResult res;
  Steps steps(&res.steps);
  steps.Begin();
  RoomStatus last;
  if (!WaitStatus(survivor, timeout_ms, [](const RoomStatus& st) { return st.active_primary() && st.lease_valid; }, &last)) {
    res.error = "room " + last.room + " did not promote itself within " + std::to_string(timeout_ms) + " ms";
    return res;
  }
  res.new_epoch = last.epoch;
  steps.End("auto_promoted", last.room + " epoch " + std::to_string(last.epoch) + " (took the expired leader key)");
  res.ok = true;
  return res;
}

}  // namespace danmu::replication
