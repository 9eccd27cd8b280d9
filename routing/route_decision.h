#pragma once
// Which transport one client gets (DESIGN §13). The decision order, first
// match wins, is the rollout contract:
//   1. kill switch on                     -> poll   (reason kill_switch)
//   2. denylist: uid, device, app version, platform -> poll (deny_<field>)
//   3. allowlist: uid, device, app version, platform -> long (allow_<field>)
//   4. percentage: StableBucket(uid, or device when there is no uid)
//      < percent * 100                    -> long   (percent_in), else poll (percent_out);
//      a client with neither id            -> poll   (no_id) unless percent is 100
// and then, for a long-connection answer only:
//   5. degradation: level >= poll_at_level (when set), or the operator's
//      "long connections to polling" switch -> poll (degraded)
//   6. no registered edge to hand out     -> poll   (no_edge)   [router.cc]
// "long" is the rule set's transport (ws or sse). Pure; thread-compatible.
#include <cstdint>
#include <string>
#include <string_view>

#include "routing/route_rules.h"

namespace danmu::routing {

struct RouteClient {
  std::string uid;
  std::string device;
  std::string app_version;  // unparseable: matches no version range
  std::string platform;
};

enum class Transport { kWebSocket, kSse, kPoll };
const char* TransportName(Transport t);  // "ws", "sse", "poll"

struct RouteDecision {
  Transport transport = Transport::kPoll;
  const char* reason = "";  // one of a fixed set (a metric label)
};

// The reasons, for metrics: every value Decide can return.
inline constexpr const char* kRouteReasons[] = {
    "kill_switch", "deny_uid", "deny_device", "deny_app_version", "deny_platform", "allow_uid",
    "allow_device", "allow_app_version", "allow_platform", "percent_in", "percent_out", "no_id",
    "degraded", "no_edge"};

// 0..9999, stable across processes, releases and rooms (FNV-1a 64 of the id),
// so a client inside the rollout at 10 % stays inside at 20 %.
int StableBucket(std::string_view id);

struct DegradeInput {
  int level = 0;
  bool push_to_polling = false;  // the operator switch of the push layer
};

RouteDecision Decide(const RouteRules& rules, const RouteClient& client, DegradeInput degrade);

}  // namespace danmu::routing
