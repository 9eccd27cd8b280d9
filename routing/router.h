#pragma once
// The routing service (DESIGN §13), served on the public port:
//   GET /v1/route?uid=&device=&app_version=&platform=&room=&fallback=
//   200 {"transport":"ws"|"sse"|"poll", "reason":"...", "endpoints":[...],
//        "poll_url":"...", "rules_version":N, "retry_after_ms":N}
// `endpoints` are registered edges (discovery.h), this room's first, least
// loaded first: full URLs of the chosen transport when `room` is given
// (ws://.../v1/rooms/R/ws, http://.../v1/rooms/R/events or .../messages),
// base URLs otherwise. With no registered edge the answer is poll (reason
// no_edge) with this frontend's own poll URL. `retry_after_ms` tells a
// polling client when to ask again (it may be let onto a long connection
// then) and a long-connection client the base of its reconnect backoff.
// `fallback=REASON` is a client telling why it fell back to polling (counted).
//
// and on the admin port:
//   GET  /v1/admin/route   rules, whether they are stale, registered edges
//   POST /v1/admin/route   a RouteChange (route_rules.h); bearer token (checked by the admin router)
//
// Thread safety: all handlers may run concurrently on any thread.
#include <functional>
#include <string>

#include "core/http/http_types.h"
#include "routing/discovery.h"
#include "routing/route_decision.h"
#include "routing/rules_watcher.h"

namespace danmu::routing {

struct RouterOptions {
  std::string room;                 // this datacenter
  std::string self_url;             // this frontend's public base URL (the no_edge fallback)
  int max_endpoints = 3;
  int poll_recheck_ms = 60000;      // a polling client asks the router again after this
  int reconnect_base_ms = 1000;     // a long-connection client's first reconnect delay
};

// Why clients may say they fell back (anything else counts as "other").
inline constexpr const char* kFallbackReasons[] = {"connect_failed", "handshake_refused", "closed", "timeout",
                                                   "unsupported", "other"};

class Router {
 public:
  Router(RouterOptions options, RulesWatcher* rules, EdgeDirectory* edges,
         std::function<DegradeInput(const std::string& live_room)> degrade, RoutingMetrics* metrics);

  core::HttpResponse Route(const core::HttpRequest& req) const;
  core::HttpResponse AdminShow() const;
  // Authenticated already; `actor` for the log line (e.g. the client address).
  core::HttpResponse AdminChange(const core::HttpRequest& req) const;

 private:
  RouterOptions options_;
  RulesWatcher* rules_;
  EdgeDirectory* edges_;
  std::function<DegradeInput(const std::string&)> degrade_;
  RoutingMetrics* metrics_;
};

}  // namespace danmu::routing
