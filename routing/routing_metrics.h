#pragma once
// Every routing metric, declared once (DESIGN §9 names; bounded labels:
// transport and reason come from fixed sets, room is a datacenter).
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string>

namespace danmu::routing {

struct RoutingMetrics {
  // `room`: this process's datacenter, a constant label like core::Metrics.
  RoutingMetrics(prometheus::Registry& registry, const std::string& room);

  // GET /v1/route answers (transport, reason).
  prometheus::Family<prometheus::Counter>& decisions;
  // Why clients fell back from a long connection (reason: their report, from a fixed set).
  prometheus::Family<prometheus::Counter>& client_fallbacks;
  // Rule changes (result: ok, invalid, conflict, unavailable).
  prometheus::Family<prometheus::Counter>& rule_changes;
  prometheus::Gauge& rules_version;
  prometheus::Gauge& rules_stale;         // 1: the store is unreachable, serving the last rules
  prometheus::Gauge& rollout_percent;
  prometheus::Gauge& kill_switch;
  // Registered edges per room (room label = datacenter), as this router sees them.
  prometheus::Family<prometheus::Gauge>& edges;
  prometheus::Gauge& directory_stale;     // 1: the edge list could not be refreshed
  // This process's own registration (1 registered, 0 not: starting, draining or etcd down).
  prometheus::Gauge& registered;
};

}  // namespace danmu::routing
