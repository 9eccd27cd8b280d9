// Wires the routing service (routing/, DESIGN §13) into danmud: the rule
// store and discovery in etcd, this edge's registration, the router behind
// GET /v1/route on the public port and /v1/admin/route on the admin port.
// Without etcd endpoints there is no shared rule set and no discovery: the
// router then answers with in-memory default rules (0 %: everyone polls) and
// says so in its log.
#include "cmd/danmud/parts.h"
#include "core/base/log.h"
#include "core/store/etcd_client.h"
#include "routing/discovery.h"
#include "routing/router.h"
#include "routing/routing_metrics.h"
#include "routing/rule_store.h"
#include "routing/rules_watcher.h"
#include "core/live/write_route.h"  // SplitList

#include <unistd.h>

namespace danmu::cmd {

struct RoutingParts {
  std::unique_ptr<core::EtcdClient> etcd;
  std::unique_ptr<routing::RoutingMetrics> metrics;
  std::unique_ptr<routing::RuleStore> rules_store;
  std::unique_ptr<routing::DiscoveryStore> discovery;
  std::unique_ptr<routing::RulesWatcher> rules;
  std::unique_ptr<routing::EdgeDirectory> directory;
  std::unique_ptr<routing::EdgeRegistrar> registrar;
  std::unique_ptr<routing::Router> router;
};

core::Status WireRouting(Daemon::Parts& p, core::FrontendHooks* hooks) {
  const core::Config& c = p.config;
  const core::RoutingOptions& o = c.routing;
  if (!o.enabled || !c.Runs("frontend")) return core::Status::Ok();
  auto r = std::shared_ptr<RoutingParts>(new RoutingParts());
  r->metrics = std::make_unique<routing::RoutingMetrics>(*p.registry, c.room);
  if (!c.etcd.endpoints.empty()) {
    r->etcd = std::make_unique<core::EtcdClient>(core::SplitList(c.etcd.endpoints), c.etcd.timeout_ms);
    r->rules_store = std::make_unique<routing::EtcdRuleStore>(r->etcd.get(), o.prefix);
    r->discovery = std::make_unique<routing::EtcdDiscoveryStore>(r->etcd.get());
  } else {
    core::LogWarn("routing_without_etcd", {{"effect", "rules are this process's defaults (0 %: everyone polls); no discovery"}});
    r->rules_store = std::make_unique<routing::MemoryRuleStore>();
  }
  r->rules = std::make_unique<routing::RulesWatcher>(r->rules_store.get(), o.rules_refresh_ms, *p.clock, r->metrics.get());
  const std::string self_url = !o.advertise_url.empty()
                                   ? o.advertise_url
                                   : "http://" + c.http.bind + ":" + std::to_string(c.http.public_port);
  if (r->discovery) {
    r->directory = std::make_unique<routing::EdgeDirectory>(r->discovery.get(), o.prefix, o.edge_refresh_ms, r->metrics.get());
    const std::string id = c.room + "-" + std::to_string(c.http.public_port) + "-" + std::to_string(::getpid());
    Daemon::Parts* parts = &p;
    const std::string room = c.room;
    r->registrar = std::make_unique<routing::EdgeRegistrar>(
        r->discovery.get(), o.prefix, o.edge_ttl_s, o.register_interval_ms,
        [parts, id, room, self_url] {
          routing::EdgeRecord rec;
          rec.id = id;
          rec.room = room;
          rec.url = self_url;
          rec.connections = parts->PublicConnections();
          rec.long_connections = PushConnections(*parts);  // WebSocket + SSE (push_wiring.cc)
          rec.draining = parts->draining.load();
          rec.push = PushServing(*parts);  // push_wiring.cc: enabled, switch off
          return rec;
        },
        r->metrics.get());
  }
  routing::RouterOptions ro;
  ro.room = c.room;
  ro.self_url = self_url;
  ro.max_endpoints = o.max_endpoints;
  ro.poll_recheck_ms = o.poll_recheck_ms;
  ro.reconnect_base_ms = o.reconnect_base_ms;
  Daemon::Parts* parts = &p;
  r->router = std::make_unique<routing::Router>(
      ro, r->rules.get(), r->directory.get(),
      [parts](const std::string& live_room) {
        routing::DegradeInput d;
        if (parts->degrade) d.level = parts->degrade->View(live_room).level;
        // Long connections only where the push layer serves them: with
        // push.enabled false, or the operator's "move to polling" switch on
        // (danmuctl push poll-only on), the router tells every client to
        // poll whatever the rules say, rather than hand out a long
        // connection that would be refused.
        d.push_to_polling = !PushServing(*parts);
        return d;
      },
      r->metrics.get());
  routing::Router* router = r->router.get();
  hooks->route = [router](const core::HttpRequest& req) { return router->Route(req); };
  p.routing = r;
  return core::Status::Ok();
}

void RegisterRoutingRoutes(Daemon::Parts& p) {
  if (!p.routing) return;
  routing::Router* router = p.routing->router.get();
  p.admin->Add("GET", "/v1/admin/route", false, [router](const core::HttpRequest&) { return router->AdminShow(); });
  p.admin->Add("POST", "/v1/admin/route", true, [router](const core::HttpRequest& req) { return router->AdminChange(req); });
}

void StartRouting(Daemon::Parts& p) {
  if (!p.routing) return;
  (void)p.routing->rules->Refresh();  // serve the fleet's rules from the first request
  p.routing->rules->Start();
  if (p.routing->directory) {
    (void)p.routing->directory->Refresh();
    p.routing->directory->Start();
  }
  if (p.routing->registrar) {
    (void)p.routing->registrar->Tick();
    p.routing->registrar->Start();
  }
}

void DrainRouting(Daemon::Parts& p) {
  p.draining = true;
  if (!p.routing || !p.routing->registrar) return;
  if (auto s = p.routing->registrar->Deregister(); !s.ok()) {
    // The lease then expires by itself within routing.edge_ttl_s.
    core::LogWarn("routing_deregister_failed", {{"error", s.ToString()}});
  } else {
    core::LogInfo("routing_deregistered", {{"room", p.config.room}});
  }
}

void UndrainRouting(Daemon::Parts& p) {
  p.draining = false;
  if (!p.routing || !p.routing->registrar) return;
  (void)p.routing->registrar->Tick();  // a failure is retried by the loop and shows in the registered gauge
  p.routing->registrar->Start();
  core::LogInfo("routing_reregistered", {{"room", p.config.room}});
}

void StopRouting(Daemon::Parts& p) {
  if (!p.routing) return;
  if (p.routing->registrar) p.routing->registrar->Stop();
  if (p.routing->directory) p.routing->directory->Stop();
  p.routing->rules->Stop();
}

std::function<replication::RoomStatus::RoutingStatus()> RoutingStatusSource(Daemon::Parts& p) {
  if (!p.routing) return {};
  RoutingParts* r = p.routing.get();
  return [r] {
    replication::RoomStatus::RoutingStatus s;
    auto rules = r->rules->Current();
    s.rules_version = rules->version;
    s.percent = rules->percent;
    s.kill_switch = rules->kill_switch;
    s.rules_stale = r->rules->stale();
    s.edges = r->directory ? static_cast<int64_t>(r->directory->All().size()) : 0;
    s.registered = r->registrar && r->registrar->registered();
    return s;
  };
}

}  // namespace danmu::cmd
