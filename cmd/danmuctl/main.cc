// danmuctl: the operator's command line for a danmu-ha deployment.
//
//   danmuctl [--env FILE] [--a-admin URL] [--b-admin URL] [--token-file FILE] COMMAND
//   status [--json]                      both rooms: role, epoch, lag, backlog, read source
//   freeze|unfreeze --room A|B           stop/resume accepting writes in a primary
//   promote --room A|B [--force [--steal] [--no-catch-up]]
//                                        promote a room through the primary lease (force:
//                                        unplanned failover, waits for the old lease to
//                                        expire and re-ingests from the old primary's Kafka;
//                                        steal: revoke a live holder's lease, wait out its TTL)
//   demote --room A|B --epoch N          make a room a replica of the other
//   switchover                           planned switchover of the current primary
//   drill --planned|--unplanned [--json FILE] [--acked-ids FILE] [--warmup-ms N] [--after-ms N]
//   degrade set LEVEL [--room A|B|all] [--stream ID] [--for 10m] [--reason TEXT]
//   degrade clear [--room ...] [--stream ID]   |   degrade status
//   reconcile --from-kafka HOST:PORT [--since-ms N] [--lookback-ms N] [--room A|B]
//             [--live-room ID] [--reingest-unknown] [--deadline-ms N] [--json [FILE]]
//                                        after an unplanned failover: re-ingest into the
//                                        new primary what the old primary's Kafka acked
//                                        (exit 0 ok, 1 failed/incomplete, 3 unknown ids)
//   archive status LIVE_ROOM [--room A|B] [--json]
//                                        live sets, archive watermark, evicted, MySQL rows
//   archive run LIVE_ROOM [--mode auto|checkpoint|archive] [--room A|B] [--json]
//                                        archive (ended) or checkpoint (live) a room now
// Addresses come from flags, else the file named by --env, else the process
// environment, else run/stack.env (DANMU_A_ADMIN, DANMU_B_ADMIN,
// DANMU_A_HTTP, DANMU_B_HTTP, DANMU_TOKEN_FILE, DANMU_RUN_DIR).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>

#include "core/base/config.h"
#include "core/http/http_client.h"
#include "core/base/json_text.h"
#include "replication/ops/admin_client.h"
#include "replication/ops/drill.h"
#include "replication/reconciler.h"
#include "replication/ops/switchover.h"

namespace {

using danmu::replication::AdminClient;

struct Args {
  std::map<std::string, std::string> flags;  // --name value (or "1" for switches)
  std::vector<std::string> positional;
  std::string Get(const std::string& k, const std::string& def = "") const {
    auto it = flags.find(k);
    return it == flags.end() ? def : it->second;
  }
  bool Has(const std::string& k) const { return flags.count(k) > 0; }
};

const std::vector<std::string> kSwitches = {"json-out", "force", "planned", "unplanned", "help", "reingest-unknown",
                                            "steal", "no-catch-up"};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) == 0) {
      std::string k = s.substr(2);
      bool is_switch = std::find(kSwitches.begin(), kSwitches.end(), k) != kSwitches.end();
      if (k == "json" && (i + 1 >= argc || std::string(argv[i + 1]).rfind("--", 0) == 0)) {
        a.flags["json-out"] = "1";
      } else if (is_switch || i + 1 >= argc) {
        a.flags[k] = "1";
      } else {
        a.flags[k] = argv[++i];
      }
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

std::map<std::string, std::string> LoadEnvFile(const std::string& path) {
  std::map<std::string, std::string> env;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos && line[0] != '#') env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

struct Context {
  std::string a_admin, b_admin, a_http, b_http, token, run_dir;
};

int Fail(const std::string& msg) {
  std::fprintf(stderr, "danmuctl: %s\n", msg.c_str());
  return 1;
}

const std::string& AdminOf(const Context& c, const std::string& room) { return room == "B" || room == "b" ? c.b_admin : c.a_admin; }

int PrintStatus(const Context& c, bool json) {
  int rc = 0;
  std::string out = "{";
  for (auto [name, url] : std::vector<std::pair<std::string, std::string>>{{"A", c.a_admin}, {"B", c.b_admin}}) {
    AdminClient client(url, c.token);
    auto s = client.Status();
    if (json) {
      out += (name == "A" ? "" : ",") + danmu::core::JsonString(name) + ":" + (s.ok() ? s->raw : "null");
      continue;
    }
    if (!s.ok()) {
      std::printf("room %s  UNREACHABLE  %s\n", name.c_str(), s.status().message().c_str());
      rc = 1;
      continue;
    }
    // Processor delay only where a processor applies (the primary).
    std::string delay = s->processor_delay_seconds >= 0
                            ? " delay " + std::to_string(static_cast<int64_t>(s->processor_delay_seconds * 1000)) + "ms"
                            : "";
    std::printf("room %s  %-9s epoch %-3lld %s%s lag %.3fs link %s offset %lld (%lld B behind) kafka backlog %lld (%.1fs)%s "
                "reads %s in-flight %lld degrade %d\n",
                s->room.c_str(), danmu::core::RoleName(s->role), static_cast<long long>(s->epoch),
                s->frozen ? "FROZEN " : "", s->confirmed ? "" : "UNCONFIRMED ", s->lag_seconds,
                s->link_up ? "up" : "DOWN", static_cast<long long>(s->repl_offset),
                static_cast<long long>(s->offset_lag_bytes), static_cast<long long>(s->backlog),
                s->kafka_lag_seconds, delay.c_str(), s->read_source.c_str(), static_cast<long long>(s->writes_in_flight),
                s->degrade_level);
    // The primary lease and the reconciliation prompt (DESIGN §8).
    if (!s->lease_enabled) {
      std::printf("        lease DISABLED (no etcd.endpoints: acknowledgements are not fenced)\n");
    } else {
      std::printf("        lease %s%s etcd %s renewed %lldms ago, valid %lldms more, acks refused %lld%s\n",
                  s->lease_held ? "held" : "not held", s->lease_valid ? "" : (s->role == danmu::core::Role::kPrimary ? " NOT VALID: writes refused" : ""),
                  s->etcd_reachable ? "ok" : "UNREACHABLE", static_cast<long long>(s->lease_renewal_age_ms),
                  static_cast<long long>(s->lease_remaining_ms), static_cast<long long>(s->acks_refused),
                  s->lease_holder.empty() ? "" : (" holder " + s->lease_holder).c_str());
    }
    if (s->reconcile_needed) {
      std::printf("        RECONCILE NEEDED: danmuctl reconcile --room %s --from-kafka %s (%s)\n", s->reconcile_into.c_str(),
                  s->reconcile_from.c_str(), s->reconcile_reason.c_str());
    }
  }
  if (json) std::printf("%s}\n", out.c_str());
  return rc;
}

int Action(const Context& c, const std::string& room, const std::string& action, const std::string& body) {
  if (room.empty()) return Fail(action + " needs --room A|B");
  AdminClient client(AdminOf(c, room), c.token);
  // A forced promotion may wait for the old primary's lease to expire.
  auto s = client.Action(action, body, action == "promote" ? 60000 : 10000);
  if (!s.ok()) return Fail(s.status().message());
  std::printf("%s\n", s->raw.c_str());
  return 0;
}

int Switchover(const Context& c) {
  AdminClient a(c.a_admin, c.token), b(c.b_admin, c.token);
  auto sa = a.Status();
  if (!sa.ok()) return Fail("room A unreachable: " + sa.status().message() + " (unplanned? use promote --force)");
  bool a_primary = sa->active_primary();
  auto res = danmu::replication::Switchover(a_primary ? a : b, a_primary ? b : a, {});
  for (const auto& s : res.steps) {
    std::printf("+%6lld ms  %-20s %5lld ms  %s\n", static_cast<long long>(s.at_ms), s.name.c_str(),
                static_cast<long long>(s.took_ms), s.detail.c_str());
  }
  if (!res.ok) return Fail("switchover failed: " + res.error);
  std::printf("switchover done: new epoch %lld\n", static_cast<long long>(res.new_epoch));
  return 0;
}

int Drill(const Context& c, const Args& args) {
  danmu::replication::DrillOptions o;
  o.planned = !args.Has("unplanned");
  o.a = {"A", c.a_http, c.a_admin};
  o.b = {"B", c.b_http, c.b_admin};
  o.token = c.token;
  o.run_dir = c.run_dir;
  o.acked_ids_file = args.Get("acked-ids");
  if (args.Has("warmup-ms")) o.warmup_ms = std::stoi(args.Get("warmup-ms"));
  if (args.Has("after-ms")) o.after_ms = std::stoi(args.Get("after-ms"));
  auto rep = danmu::replication::RunDrill(o);
  std::fputs(rep.ToText().c_str(), stdout);
  std::string json = rep.ToJson();
  if (args.Has("json-out")) std::printf("%s\n", json.c_str());
  if (args.Has("json") && args.Get("json") != "1") std::ofstream(args.Get("json")) << json << "\n";
  return rep.ExitCode();
}

int64_t ParseDuration(const std::string& s) {
  if (s.empty()) return 0;
  char unit = s.back();
  int64_t n = std::stoll(s.substr(0, std::isdigit(static_cast<unsigned char>(unit)) ? s.size() : s.size() - 1));
  switch (unit) {
    case 'h': return n * 3600;
    case 'm': return n * 60;
    default: return n;
  }
}

int Degrade(const Context& c, const Args& args) {
  std::string sub = args.positional.size() > 1 ? args.positional[1] : "status";
  std::string room = args.Get("room", "all");
  std::vector<std::string> targets;
  if (room == "all" || room == "A" || room == "a") targets.push_back(c.a_admin);
  if (room == "all" || room == "B" || room == "b") targets.push_back(c.b_admin);
  if (targets.empty()) return Fail("--room must be A, B or all");
  int rc = 0;
  for (const auto& url : targets) {
    danmu::core::HttpCall call;
    call.url = url + "/v1/admin/degrade";
    call.headers["Authorization"] = "Bearer " + c.token;
    if (sub == "set") {
      if (args.positional.size() < 3) return Fail("degrade set LEVEL");
      call.method = "POST";
      call.body = "{\"level\":" + args.positional[2] + ",\"scope\":" + danmu::core::JsonString(room == "all" ? "all" : "room") +
                  ",\"room\":" + danmu::core::JsonString(room == "b" ? "B" : room == "a" ? "A" : room) +
                  ",\"stream\":" + danmu::core::JsonString(args.Get("stream")) +
                  ",\"for_s\":" + std::to_string(ParseDuration(args.Get("for", "0"))) +
                  ",\"reason\":" + danmu::core::JsonString(args.Get("reason", "danmuctl")) + "}";
    } else if (sub == "clear") {
      call.method = "POST";
      call.url = url + "/v1/admin/degrade/clear";
      call.body = "{\"scope\":" + danmu::core::JsonString(room == "all" ? "all" : "room") +
                  ",\"room\":" + danmu::core::JsonString(room == "b" ? "B" : room == "a" ? "A" : room) +
                  ",\"stream\":" + danmu::core::JsonString(args.Get("stream")) + "}";
    } else if (sub != "status") {
      return Fail("degrade set|clear|status");
    }
    auto r = danmu::core::Fetch(call);
    if (!r.ok() || r->status != 200) {
      std::fprintf(stderr, "danmuctl: %s: %s\n", url.c_str(), r.ok() ? r->body.c_str() : r.status().message().c_str());
      rc = 1;
      continue;
    }
    std::printf("%s\n", r->body.c_str());
    if (room == "all" && sub != "status") break;  // fleet-wide: one room's key reaches both
  }
  return rc;
}


// Runs the reconciliation on the new primary (--room, else whichever room is
// the active primary) and prints its report.
// The room that answers as the active primary ("" when none does).
std::string ActivePrimary(const Context& c) {
  for (auto [name, url] : std::vector<std::pair<std::string, std::string>>{{"A", c.a_admin}, {"B", c.b_admin}}) {
    auto s = AdminClient(url, c.token).Status();
    if (s.ok() && s->active_primary()) return name;
  }
  return "";
}

int Reconcile(const Context& c, const Args& args) {
  std::string kafka = args.Get("from-kafka");
  if (kafka.empty() || kafka == "1") return Fail("reconcile needs --from-kafka HOST:PORT (the old primary's Kafka)");
  std::string room = args.Get("room", ActivePrimary(c));
  if (room.empty()) return Fail("no room answers as the active primary: promote one first, or pass --room");
  auto num = [&](const std::string& flag, std::string* body) -> bool {
    if (!args.Has(flag)) return true;
    const std::string v = args.Get(flag);
    if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) return false;
    std::string key = flag;
    std::replace(key.begin(), key.end(), '-', '_');
    *body += ",\"" + key + "\":" + v;
    return true;
  };
  std::string body = "{\"kafka\":" + danmu::core::JsonString(kafka);
  for (const char* flag : {"since-ms", "lookback-ms", "deadline-ms", "max-records"}) {
    if (!num(flag, &body)) return Fail(std::string("--") + flag + " needs a non-negative integer");
  }
  if (args.Has("live-room")) body += ",\"live_room\":" + danmu::core::JsonString(args.Get("live-room"));
  if (args.Has("reingest-unknown")) body += ",\"reingest_unknown\":true";
  body += "}";
  int64_t deadline_ms = args.Has("deadline-ms") ? std::stoll(args.Get("deadline-ms")) : 120000;
  danmu::core::HttpCall call;
  call.method = "POST";
  call.url = AdminOf(c, room) + "/v1/admin/reconcile";
  call.body = body;
  call.headers["Authorization"] = "Bearer " + c.token;
  call.headers["Content-Type"] = "application/json";
  call.timeout_ms = static_cast<int>(deadline_ms + 30000);  // the run plus opening the old log
  auto r = danmu::core::Fetch(call);
  if (!r.ok()) return Fail("room " + room + ": " + r.status().message());
  if (r->status != 200) return Fail("room " + room + " answered " + std::to_string(r->status) + ": " + r->body);
  auto rep = danmu::replication::ParseReconcileReport(r->body);
  if (!rep.ok()) return Fail(rep.status().message());
  // --json: the JSON report alone on stdout (for scripts); --json FILE: text
  // on stdout and the JSON into FILE.
  if (args.Has("json-out")) std::printf("%s\n", r->body.c_str());
  else std::fputs(rep->ToText().c_str(), stdout);
  if (args.Has("json") && args.Get("json") != "1") std::ofstream(args.Get("json")) << r->body << "\n";
  if (rep->ExitCode() == 0 && !args.Has("live-room")) {
    // Complete: the "reconciliation may be needed" prompt of both rooms is answered.
    for (const std::string& url : {c.a_admin, c.b_admin}) {
      (void)AdminClient(url, c.token).Action("reconcile/clear", "{\"reason\":" + danmu::core::JsonString("danmuctl reconcile from " + kafka) + "}");
    }
  }
  return rep->ExitCode();
}
// archive status|run LIVE_ROOM: the primary room's archiver (GET/POST
// /v1/admin/archive). Text for people, --json for scripts.
int Archive(const Context& c, const Args& args) {
  if (args.positional.size() < 3) return Fail("archive status|run LIVE_ROOM");
  const std::string& sub = args.positional[1];
  const std::string& live_room = args.positional[2];
  std::string room = args.Get("room", ActivePrimary(c));
  if (room.empty()) return Fail("no room answers as the active primary: pass --room");
  danmu::core::HttpCall call;
  call.headers["Authorization"] = "Bearer " + c.token;
  call.timeout_ms = 120000;  // a run copies the whole room in the request
  if (sub == "status") {
    Poco::URI uri(AdminOf(c, room) + "/v1/admin/archive");
    uri.addQueryParameter("room", live_room);
    call.url = uri.toString();
  } else if (sub == "run") {
    call.method = "POST";
    call.url = AdminOf(c, room) + "/v1/admin/archive";
    call.headers["Content-Type"] = "application/json";
    call.body = "{\"room\":" + danmu::core::JsonString(live_room) +
                ",\"mode\":" + danmu::core::JsonString(args.Get("mode", "auto")) + "}";
  } else {
    return Fail("archive status|run LIVE_ROOM");
  }
  auto r = danmu::core::Fetch(call);
  if (!r.ok()) return Fail("room " + room + ": " + r.status().message());
  if (args.Has("json-out")) {
    std::printf("%s\n", r->body.c_str());
    return r->status == 200 ? 0 : 1;
  }
  if (r->status != 200 && r->body.find("\"error\":{") != std::string::npos) {
    return Fail("room " + room + " answered " + std::to_string(r->status) + ": " + r->body);
  }
  try {
    Poco::JSON::Parser parser;
    auto o = parser.parse(r->body).extract<Poco::JSON::Object::Ptr>();
    if (sub == "run") {
      std::printf("room %s: %s of %s: %s, %lld rows copied (%lld new), %.3f s\n", room.c_str(),
                  o->getValue<std::string>("kind").c_str(), live_room.c_str(), o->getValue<std::string>("result").c_str(),
                  static_cast<long long>(o->getValue<int64_t>("rows")), static_cast<long long>(o->getValue<int64_t>("inserted")),
                  o->getValue<double>("seconds"));
      if (o->has("error")) std::printf("  error: %s\n", o->getValue<std::string>("error").c_str());
      return r->status == 200 ? 0 : 1;
    }
    auto live = o->getObject("live");
    std::string state = live->getValue<std::string>("state");
    std::printf("live room %s (archiver of room %s): live state %s%s%s\n", live_room.c_str(), room.c_str(),
                live->getValue<bool>("meta") ? (state.empty() ? "live" : state.c_str()) : "gone",
                live->getValue<bool>("archived") ? ", archived" : "",
                live->getValue<bool>("held_for_checkpoint") ? ", waiting for a checkpoint" : "");
    std::printf("  %-8s %12s %12s %12s %12s %12s\n", "type", "live", "last ts", "watermark", "evicted", "mysql rows");
    auto types = live->getObject("types");
    for (const char* t : {"comment", "gift", "join", "system"}) {
      auto v = types->getObject(t);
      std::printf("  %-8s %12lld %12lld %12lld %12lld %12lld\n", t, static_cast<long long>(v->getValue<int64_t>("live_messages")),
                  static_cast<long long>(v->getValue<int64_t>("last_score")),
                  static_cast<long long>(v->getValue<int64_t>("archive_watermark")),
                  static_cast<long long>(v->getValue<int64_t>("evicted_unarchived")),
                  static_cast<long long>(v->getValue<int64_t>("mysql_rows")));
    }
    if (o->isNull("archived_room")) {
      std::printf("  not archived yet (no archived_rooms row)\n");
    } else {
      auto a = o->getObject("archived_room");
      std::printf("  archived at %s: %lld messages, %lld likes, %lld viewers\n", a->getValue<std::string>("archived_at").c_str(),
                  static_cast<long long>(a->getValue<int64_t>("messages")), static_cast<long long>(a->getValue<int64_t>("likes")),
                  static_cast<long long>(a->getValue<int64_t>("viewers")));
    }
  } catch (const std::exception& e) {
    return Fail("unexpected answer from room " + room + ": " + e.what() + ": " + r->body);
  }
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  Args args = Parse(argc, argv);
  if (args.positional.empty() || args.Has("help")) {
    std::puts("usage: danmuctl [--env FILE] [--a-admin URL] [--b-admin URL] [--token-file FILE] "
              "status|freeze|unfreeze|promote|demote|switchover|drill|degrade|reconcile|archive ...");
    return args.positional.empty() && !args.Has("help") ? 2 : 0;
  }
  auto env = LoadEnvFile(args.Get("env", "run/stack.env"));
  // A flag wins; then a file named with --env (a deployment's file must not
  // be overridden by a local stack's variables that happen to be exported);
  // then the process environment; then run/stack.env.
  const bool env_named = args.Has("env");
  auto pick = [&](const std::string& flag, const char* key) {
    if (args.Has(flag)) return args.Get(flag);
    if (env_named && env.count(key)) return env[key];
    if (const char* v = std::getenv(key)) return std::string(v);
    return env.count(key) ? env[key] : std::string();
  };
  Context c;
  c.a_admin = pick("a-admin", "DANMU_A_ADMIN");
  c.b_admin = pick("b-admin", "DANMU_B_ADMIN");
  c.a_http = pick("a-http", "DANMU_A_HTTP");
  c.b_http = pick("b-http", "DANMU_B_HTTP");
  c.run_dir = pick("run-dir", "DANMU_RUN_DIR");
  std::string token_file = pick("token-file", "DANMU_TOKEN_FILE");
  if (c.a_admin.empty() || c.b_admin.empty()) return Fail("no room addresses: pass --a-admin/--b-admin or --env run/stack.env");
  if (!token_file.empty()) {
    auto t = danmu::core::ReadSecretFile(token_file);
    if (t.ok()) c.token = *t;
  }
  const std::string& cmd = args.positional[0];
  if (cmd == "status") return PrintStatus(c, args.Has("json-out"));
  if (cmd == "freeze" || cmd == "unfreeze") {
    return Action(c, args.Get("room"), cmd, "{\"reason\":" + danmu::core::JsonString(args.Get("reason", "danmuctl")) + "}");
  }
  if (cmd == "promote") {
    const bool force = args.Has("force") || args.Has("steal");
    return Action(c, args.Get("room"), "promote",
                  std::string("{\"force\":") + (force ? "true" : "false") +
                      ",\"steal\":" + (args.Has("steal") ? "true" : "false") +
                      ",\"catch_up\":" + (force && !args.Has("no-catch-up") ? "true" : "false") +
                      ",\"reason\":" + danmu::core::JsonString(args.Get("reason", "danmuctl promote")) + "}");
  }
  if (cmd == "demote") {
    return Action(c, args.Get("room"), "demote", "{\"epoch\":" + args.Get("epoch", "0") + ",\"reason\":\"danmuctl demote\"}");
  }
  if (cmd == "switchover") return Switchover(c);
  if (cmd == "drill") return Drill(c, args);
  if (cmd == "degrade") return Degrade(c, args);
  if (cmd == "reconcile") return Reconcile(c, args);
  if (cmd == "archive") return Archive(c, args);
  return Fail("unknown command " + cmd);
}
