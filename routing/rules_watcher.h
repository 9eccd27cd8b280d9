#pragma once
// Every router's copy of the rule set. A loop reloads it from the store every
// refresh_ms, so a change made anywhere is served everywhere within
// refresh_ms (+ one store round trip). When the store is unreachable the last
// rules stay in force and stale() says so (metric, status, one WARN per
// outage); a router that never loaded any serves the defaults (0 %: poll).
//
// Change() is the one way rules change: load, validate and apply, then a
// compare-and-swap write (retried on a concurrent change), a WARN line with
// the old and new rules, a counted result, and the new rules served at once
// by this router.
//
// Thread safety: all methods may be called from any thread. The current rules
// are an immutable snapshot swapped under mu_; Current() copies a shared_ptr.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "core/base/clock.h"
#include "core/base/periodic_task.h"
#include "core/base/status.h"
#include "routing/route_rules.h"
#include "routing/rule_store.h"

namespace danmu::routing {

struct RoutingMetrics;

class RulesWatcher {
 public:
  RulesWatcher(RuleStore* store, int refresh_ms, const core::Clock& clock, RoutingMetrics* metrics);
  ~RulesWatcher();
  void Start();
  void Stop();

  std::shared_ptr<const RouteRules> Current() const;
  bool stale() const;
  int64_t last_load_ms() const;  // wall clock of the last successful load; 0 = never

  // One reload now (the loop's body; tests call it directly).
  core::Status Refresh();
  // kInvalidArgument / kNotFound: the change is wrong, nothing changed;
  // kUnavailable: the store could not be written (nothing changed).
  core::Result<RouteRules> Change(const RouteChange& change, const std::string& actor);

 private:
  // `log`: whether a version change is logged here (a Change logs its own line).
  void Publish(const RouteRules& rules, bool log);

  RuleStore* store_;
  const core::Clock& clock_;
  RoutingMetrics* metrics_;
  mutable std::mutex mu_;
  std::shared_ptr<const RouteRules> current_;  // guarded by mu_
  bool stale_ = false;                          // guarded by mu_
  int64_t last_load_ms_ = 0;                    // guarded by mu_
  std::mutex change_mu_;                        // one change at a time per process
  core::PeriodicTask loop_;
};

}  // namespace danmu::routing
