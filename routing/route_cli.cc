#include "routing/route_cli.h"

#include "core/base/json_text.h"
#include "core/base/parse_int.h"
#include "routing/route_rules.h"

namespace danmu::routing {

using core::Code;
using core::Result;
using core::Status;

const char kRouteUsage[] =
    "usage: danmuctl route show [--json]\n"
    "       danmuctl route set-percent N                (0..100)\n"
    "       danmuctl route allow|deny (--uid U | --device D | --app-version RANGE | --platform P)\n"
    "       danmuctl route remove allow|deny (--uid U | --device D | --app-version RANGE | --platform P)\n"
    "       danmuctl route clear [allow|deny]\n"
    "       danmuctl route kill-switch on|off\n"
    "       danmuctl route transport ws|sse\n"
    "       danmuctl route poll-at-level 0..3           (0: never)\n"
    "  RANGE is a version like 5.2.0 or a range like 5.0.0-5.2.9";

namespace {

Status Usage(const std::string& what) { return Status(Code::kInvalidArgument, what + "\n" + kRouteUsage); }

// "--uid U" style: exactly one entry flag and its value, from words[from..].
Result<std::string> EntryField(const std::vector<std::string>& w, size_t from) {
  if (w.size() != from + 2) return Usage("give exactly one of --uid, --device, --app-version, --platform with a value");
  const std::string& flag = w[from];
  std::string field;
  if (flag == "--uid") field = "uid";
  else if (flag == "--device") field = "device";
  else if (flag == "--app-version") field = "app_version";
  else if (flag == "--platform") field = "platform";
  else return Usage("unknown option '" + flag + "'");
  return "," + core::JsonString(field) + ":" + core::JsonString(w[from + 1]);
}

}  // namespace

Result<std::string> RouteChangeFromArgs(const std::vector<std::string>& w) {
  if (w.empty()) return Usage("missing route command");
  const std::string& cmd = w[0];
  std::string body;
  if (cmd == "set-percent") {
    int64_t n = 0;
    if (w.size() != 2 || !core::ParseInt64(w[1], &n)) return Usage("set-percent takes one whole number 0..100");
    body = "{\"op\":\"set_percent\",\"percent\":" + std::to_string(n) + "}";
  } else if (cmd == "allow" || cmd == "deny") {
    auto f = EntryField(w, 1);
    if (!f.ok()) return f.status();
    body = "{\"op\":" + core::JsonString(cmd) + *f + "}";
  } else if (cmd == "remove") {
    if (w.size() < 2 || (w[1] != "allow" && w[1] != "deny")) return Usage("remove takes allow or deny, then one entry");
    auto f = EntryField(w, 2);
    if (!f.ok()) return f.status();
    body = "{\"op\":\"remove\",\"list\":" + core::JsonString(w[1]) + *f + "}";
  } else if (cmd == "clear") {
    if (w.size() > 2 || (w.size() == 2 && w[1] != "allow" && w[1] != "deny")) return Usage("clear takes nothing, allow or deny");
    body = w.size() == 2 ? "{\"op\":\"clear\",\"list\":" + core::JsonString(w[1]) + "}" : "{\"op\":\"clear\"}";
  } else if (cmd == "kill-switch") {
    if (w.size() != 2 || (w[1] != "on" && w[1] != "off")) return Usage("kill-switch takes on or off");
    body = std::string("{\"op\":\"kill_switch\",\"on\":") + (w[1] == "on" ? "true" : "false") + "}";
  } else if (cmd == "transport") {
    if (w.size() != 2) return Usage("transport takes ws or sse");
    body = "{\"op\":\"set_transport\",\"transport\":" + core::JsonString(w[1]) + "}";
  } else if (cmd == "poll-at-level") {
    int64_t n = 0;
    if (w.size() != 2 || !core::ParseInt64(w[1], &n)) return Usage("poll-at-level takes 0..3");
    body = "{\"op\":\"set_poll_at_level\",\"level\":" + std::to_string(n) + "}";
  } else {
    return Usage("unknown route command '" + cmd + "'");
  }
  // The API's own validation, before anything is sent.
  auto change = RouteChange::Parse(body);
  if (!change.ok()) return Usage(change.status().message());
  return change->text();
}

}  // namespace danmu::routing
