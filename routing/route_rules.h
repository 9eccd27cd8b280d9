#pragma once
// The routing rule set (DESIGN §13): who is sent to a long connection and
// who polls. One versioned rule set for the whole fleet, stored in etcd
// (both rooms read the same key; see rule_store.h) and changed only through
// RouteChange, which validates first and changes nothing on an error.
//
// JSON form (stored and shown by GET /v1/admin/route):
//   {"version":N, "kill_switch":false, "percent":0..100, "transport":"ws"|"sse",
//    "poll_at_level":0..3, "updated_ms":T,
//    "allow":{"uids":[],"devices":[],"app_versions":["5.2.0","5.0.0-5.2.9"],"platforms":[]},
//    "deny": {... the same ...}}
// Pure values; thread-compatible.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "routing/app_version.h"

namespace danmu::routing {

// One allow- or denylist.
struct RuleList {
  std::set<std::string> uids;
  std::set<std::string> devices;
  std::set<std::string> platforms;        // lower-case, e.g. "android", "ios", "web"
  std::vector<VersionRange> app_versions;  // kept in insertion order, no duplicates

  bool empty() const { return uids.empty() && devices.empty() && platforms.empty() && app_versions.empty(); }
  size_t size() const { return uids.size() + devices.size() + platforms.size() + app_versions.size(); }
};

struct RouteRules {
  int64_t version = 0;         // +1 on every accepted change
  bool kill_switch = false;    // on: everyone polls
  int percent = 0;             // gray release of long connections, by stable hash
  std::string transport = "ws";  // the long transport handed out: ws or sse
  int poll_at_level = 0;       // degradation level at which everyone polls; 0 = never
  int64_t updated_ms = 0;      // wall clock of the last change
  RuleList allow;
  RuleList deny;

  std::string ToJson() const;
  // Strict: unknown keys, wrong types or invalid entries are kInvalidArgument.
  static core::Result<RouteRules> FromJson(std::string_view json);
  // Short text for logs: "v3 percent=10 kill_switch=off allow=2 deny=0 transport=ws".
  std::string Summary() const;
};

// Entry validators shared by changes and the router's query parsing.
bool IsValidDeviceId(std::string_view device);  // 1-128 of [A-Za-z0-9_.:-]
bool IsValidPlatform(std::string_view platform);  // 1-32 of [a-z0-9_-]

// A change request, as the admin API receives it (JSON object):
//   {"op":"set_percent","percent":N}            N in 0..100
//   {"op":"kill_switch","on":true|false}
//   {"op":"set_transport","transport":"ws"|"sse"}
//   {"op":"set_poll_at_level","level":0..3}
//   {"op":"allow"|"deny", "uid"|"device"|"app_version"|"platform": "..."}   exactly one of them
//   {"op":"remove", "list":"allow"|"deny", one entry field as above}
//   {"op":"clear"} or {"op":"clear","list":"allow"|"deny"}   empties the list(s)
// Apply returns the new rule set (version + 1, updated_ms = now_ms) or
// kInvalidArgument naming what is wrong; `rules` itself is never modified.
class RouteChange {
 public:
  static core::Result<RouteChange> Parse(std::string_view json);
  core::Result<RouteRules> Apply(const RouteRules& rules, int64_t now_ms) const;
  // The request as canonical JSON (for the WARN log line).
  const std::string& text() const { return text_; }
  const std::string& op() const { return op_; }

 private:
  std::string op_;
  std::string list_;   // allow / deny (allow, deny, remove, clear)
  std::string field_;  // uid / device / app_version / platform
  std::string value_;
  int64_t number_ = 0;
  bool flag_ = false;
  std::string text_;
};

}  // namespace danmu::routing
