#include "routing/rules_watcher.h"

#include "core/base/log.h"
#include "routing/routing_metrics.h"

namespace danmu::routing {

using core::Code;
using core::Result;
using core::Status;

namespace {
constexpr int kCasAttempts = 3;
}

RulesWatcher::RulesWatcher(RuleStore* store, int refresh_ms, const core::Clock& clock, RoutingMetrics* metrics)
    : store_(store),
      clock_(clock),
      metrics_(metrics),
      current_(std::make_shared<RouteRules>()),
      loop_("route_rules", refresh_ms, [this] { (void)Refresh(); }) {}

RulesWatcher::~RulesWatcher() { Stop(); }

void RulesWatcher::Start() { loop_.Start(); }
void RulesWatcher::Stop() { loop_.Stop(); }

std::shared_ptr<const RouteRules> RulesWatcher::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

bool RulesWatcher::stale() const {
  std::lock_guard lock(mu_);
  return stale_;
}

int64_t RulesWatcher::last_load_ms() const {
  std::lock_guard lock(mu_);
  return last_load_ms_;
}

void RulesWatcher::Publish(const RouteRules& rules, bool log) {
  auto next = std::make_shared<const RouteRules>(rules);
  std::shared_ptr<const RouteRules> old;
  {
    std::lock_guard lock(mu_);
    // Never go back to an older version (a slow load racing a change).
    if (current_->version > rules.version) return;
    old = current_;
    current_ = next;
  }
  if (log && old->version != rules.version) {
    core::LogWarn("route_rules_loaded", {{"old", old->Summary()}, {"new", rules.Summary()}});
  }
  if (metrics_) {
    metrics_->rules_version.Set(static_cast<double>(rules.version));
    metrics_->rollout_percent.Set(rules.percent);
    metrics_->kill_switch.Set(rules.kill_switch ? 1 : 0);
  }
}

Status RulesWatcher::Refresh() {
  auto loaded = store_->Load();
  bool was_stale;
  {
    std::lock_guard lock(mu_);
    was_stale = stale_;
    stale_ = !loaded.ok();
    if (loaded.ok()) last_load_ms_ = clock_.NowMs();
  }
  if (metrics_) metrics_->rules_stale.Set(loaded.ok() ? 0 : 1);
  if (!loaded.ok()) {
    // One line per outage, not one per tick.
    if (!was_stale) {
      core::LogWarn("route_rules_stale", {{"error", loaded.status().ToString()},
                                          {"serving", Current()->Summary()}});
    }
    return loaded.status();
  }
  if (was_stale) core::LogWarn("route_rules_fresh", {{"rules", loaded->rules.Summary()}});
  Publish(loaded->rules, true);
  return Status::Ok();
}

Result<RouteRules> RulesWatcher::Change(const RouteChange& change, const std::string& actor) {
  std::lock_guard change_lock(change_mu_);
  auto count = [&](const char* result) {
    if (metrics_) metrics_->rule_changes.Add({{"result", result}}).Increment();
  };
  for (int attempt = 0; attempt < kCasAttempts; ++attempt) {
    auto loaded = store_->Load();
    if (!loaded.ok()) {
      count("unavailable");
      return Status(Code::kUnavailable, "rule store unreachable, nothing changed: " + loaded.status().message());
    }
    auto next = change.Apply(loaded->rules, clock_.NowMs());
    if (!next.ok()) {
      count("invalid");
      return next.status();
    }
    auto stored = store_->Store(*next, loaded->revision);
    if (!stored.ok()) {
      count("unavailable");
      return Status(Code::kUnavailable, "rules not changed: " + stored.status().message());
    }
    if (*stored) {
      count("ok");
      core::LogWarn("route_rules_changed", {{"actor", actor},
                                            {"change", change.text()},
                                            {"old", loaded->rules.Summary()},
                                            {"new", next->Summary()}});
      Publish(*next, false);
      return *next;
    }
    // Someone changed the rules since the load: apply this change on top of theirs.
  }
  count("conflict");
  return Status(Code::kUnavailable, "rules not changed: they kept changing concurrently, try again");
}

}  // namespace danmu::routing
