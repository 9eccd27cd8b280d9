#include "routing/route_decision.h"

namespace danmu::routing {
namespace {

bool InVersions(const RuleList& list, const RouteClient& c) {
  if (list.app_versions.empty() || c.app_version.empty()) return false;
  auto v = AppVersion::Parse(c.app_version);
  if (!v.ok()) return false;
  for (const auto& r : list.app_versions) {
    if (r.Contains(*v)) return true;
  }
  return false;
}

// The field of `list` that matches `c`, or nullptr.
const char* Match(const RuleList& list, const RouteClient& c, bool deny) {
  if (!c.uid.empty() && list.uids.count(c.uid)) return deny ? "deny_uid" : "allow_uid";
  if (!c.device.empty() && list.devices.count(c.device)) return deny ? "deny_device" : "allow_device";
  if (InVersions(list, c)) return deny ? "deny_app_version" : "allow_app_version";
  if (!c.platform.empty() && list.platforms.count(c.platform)) return deny ? "deny_platform" : "allow_platform";
  return nullptr;
}

}  // namespace

const char* TransportName(Transport t) {
  switch (t) {
    case Transport::kWebSocket: return "ws";
    case Transport::kSse: return "sse";
    case Transport::kPoll: return "poll";
  }
  return "poll";
}

int StableBucket(std::string_view id) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : id) {
    h ^= ch;
    h *= 1099511628211ULL;
  }
  return static_cast<int>(h % 10000);
}

RouteDecision Decide(const RouteRules& rules, const RouteClient& client, DegradeInput degrade) {
  const Transport long_transport = rules.transport == "sse" ? Transport::kSse : Transport::kWebSocket;
  RouteDecision d;
  if (rules.kill_switch) return {Transport::kPoll, "kill_switch"};
  if (const char* why = Match(rules.deny, client, true)) return {Transport::kPoll, why};
  if (const char* why = Match(rules.allow, client, false)) {
    d = {long_transport, why};
  } else {
    const std::string& id = client.uid.empty() ? client.device : client.uid;
    if (id.empty()) {
      d = rules.percent >= 100 ? RouteDecision{long_transport, "percent_in"} : RouteDecision{Transport::kPoll, "no_id"};
    } else if (StableBucket(id) < rules.percent * 100) {
      d = {long_transport, "percent_in"};
    } else {
      return {Transport::kPoll, "percent_out"};
    }
  }
  if (d.transport != Transport::kPoll &&
      (degrade.push_to_polling || (rules.poll_at_level > 0 && degrade.level >= rules.poll_at_level))) {
    return {Transport::kPoll, "degraded"};
  }
  return d;
}

}  // namespace danmu::routing
