#include "routing/routing_metrics.h"

namespace danmu::routing {

RoutingMetrics::RoutingMetrics(prometheus::Registry& r, const std::string& room)
    : decisions(prometheus::BuildCounter()
                    .Name("danmu_route_decisions_total")
                    .Help("GET /v1/route answers by transport and the rule that decided")
                    .Labels({{"room", room}})
                    .Register(r)),
      client_fallbacks(prometheus::BuildCounter()
                           .Name("danmu_route_client_fallbacks_total")
                           .Help("Long-connection fallbacks reported by clients, by reason")
                           .Labels({{"room", room}})
                    .Register(r)),
      rule_changes(prometheus::BuildCounter()
                       .Name("danmu_route_rule_changes_total")
                       .Help("Routing rule changes through the admin API by result")
                       .Labels({{"room", room}})
                    .Register(r)),
      rules_version(prometheus::BuildGauge()
                        .Name("danmu_route_rules_version")
                        .Help("Version of the routing rule set this router serves")
                        .Labels({{"room", room}})
                    .Register(r)
                        .Add({})),
      rules_stale(prometheus::BuildGauge()
                      .Name("danmu_route_rules_stale")
                      .Help("1 while the rule store is unreachable and the last rules are served")
                      .Labels({{"room", room}})
                    .Register(r)
                      .Add({})),
      rollout_percent(prometheus::BuildGauge()
                          .Name("danmu_route_rollout_percent")
                          .Help("Percentage of clients routed to long connections by the gray release")
                          .Labels({{"room", room}})
                    .Register(r)
                          .Add({})),
      kill_switch(prometheus::BuildGauge()
                      .Name("danmu_route_kill_switch")
                      .Help("1 while the routing kill switch sends every client to polling")
                      .Labels({{"room", room}})
                    .Register(r)
                      .Add({})),
      edges(prometheus::BuildGauge()
                .Name("danmu_route_edges")
                .Help("Edges registered in discovery, per room, as this router sees them")
                .Labels({{"room", room}})
                    .Register(r)),
      directory_stale(prometheus::BuildGauge()
                          .Name("danmu_route_directory_stale")
                          .Help("1 while the edge list could not be refreshed from discovery")
                          .Labels({{"room", room}})
                    .Register(r)
                          .Add({})),
      registered(prometheus::BuildGauge()
                     .Name("danmu_edge_registered")
                     .Help("1 while this edge is registered in discovery under a live lease")
                     .Labels({{"room", room}})
                    .Register(r)
                     .Add({})) {}

}  // namespace danmu::routing
