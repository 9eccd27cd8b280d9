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
//   push poll-only on|off [--for 10m] [--reason TEXT]   |   push status [--room A|B|all]
//                                        fleet-wide switch: long-connection clients are
//                                        closed with 4001 and told to poll (DESIGN §12)
//   reconcile --from-kafka HOST:PORT [--since-ms N] [--lookback-ms N] [--room A|B]
//             [--live-room ID] [--reingest-unknown] [--deadline-ms N] [--json [FILE]]
//                                        after an unplanned failover: re-ingest into the
//                                        new primary what the old primary's Kafka acked
//                                        (exit 0 ok, 1 failed/incomplete, 3 unknown ids)
//   kafka partitions N [--topic NAME] [--json]
//                                        add partitions to the live topic online: the active
//                                        room's Kafka, then the standby's (exit 0: both have N)
//   archive status LIVE_ROOM [--room A|B] [--json]
//                                        live sets, archive watermark, evicted, MySQL rows
//   archive run LIVE_ROOM [--mode auto|checkpoint|archive] [--room A|B] [--json]
//                                        archive (ended) or checkpoint (live) a room now
// Every argument is checked against the command table (Commands() below)
// before anything is contacted: a bad one is a usage error, exit 2.
// Addresses come from flags, else the file named by --env, else the process
// environment, else run/stack.env (DANMU_A_ADMIN, DANMU_B_ADMIN,
// DANMU_A_HTTP, DANMU_B_HTTP, DANMU_TOKEN_FILE, DANMU_RUN_DIR; for `kafka`
// KAFKA_A, KAFKA_B, KAFKA_TOPIC or --kafka-a/--kafka-b/--topic; processor-only
// danmuds of the rooms, listed in `status`: DANMU_PROCESSOR_ADMINS or
// --processor-admins, comma-separated admin URLs).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>

#include "core/base/config.h"
#include "core/http/http_client.h"
#include "core/base/json_text.h"
#include "core/model/validation.h"
#include "core/store/redis_client.h"
#include "replication/ops/admin_client.h"
#include "replication/ops/drill.h"
#include "replication/ops/kafka_partitions.h"
#include "core/live/write_route.h"  // SplitList
#include "replication/reconciler.h"
#include "replication/ops/switchover.h"
#include "routing/route_cli.h"

namespace {

using danmu::replication::AdminClient;

// ---- Arguments ------------------------------------------------------------
// Every command declares its positional arguments and flags, each with a
// check; main validates the whole command line against that table before
// anything is contacted. Anything wrong is a usage error: exit 2, a message
// naming the argument, and the command's usage line. Handlers then read
// values that are known to be well-formed (no stoi on user input).

// Returns what is wrong with a value, "" when it is fine.
using Check = std::string (*)(const std::string&);

std::string AnyText(const std::string& v) { return v.empty() ? "must not be empty" : ""; }

std::string RoomAB(const std::string& v) {
  return v == "A" || v == "a" || v == "B" || v == "b" ? "" : "must be A or B";
}

std::string RoomABAll(const std::string& v) { return v == "all" || RoomAB(v).empty() ? "" : "must be A, B or all"; }

// Digits only, fits int64.
bool ToInt(const std::string& v, int64_t* out) {
  if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) return false;
  *out = std::stoll(v);  // cannot throw: at most 18 digits
  return true;
}

std::string NonNegative(const std::string& v) {
  int64_t n;
  return ToInt(v, &n) ? "" : "must be a non-negative integer";
}

// Milliseconds that fit the int fields of the options (at most a day).
std::string Millis(const std::string& v) {
  int64_t n;
  return ToInt(v, &n) && n <= 86400000 ? "" : "must be milliseconds 0..86400000";
}

std::string OnOff(const std::string& v) { return v == "on" || v == "off" ? "" : "must be on or off"; }
std::string Level(const std::string& v) { return v.size() == 1 && v[0] >= '0' && v[0] <= '3' ? "" : "must be 0..3"; }

// N, Ns, Nm or Nh; at most 30 days.
int64_t DurationSeconds(const std::string& v) {
  if (v.empty()) return -1;
  char unit = v.back();
  int64_t mult = unit == 'h' ? 3600 : unit == 'm' ? 60 : 1;
  std::string digits = std::isdigit(static_cast<unsigned char>(unit)) ? v : v.substr(0, v.size() - 1);
  int64_t n;
  if ((!std::isdigit(static_cast<unsigned char>(unit)) && unit != 's' && unit != 'm' && unit != 'h') ||
      !ToInt(digits, &n) || n > 30 * 86400)
    return -1;
  return n * mult > 30 * 86400 ? -1 : n * mult;
}
std::string Duration(const std::string& v) {
  return DurationSeconds(v) >= 0 ? "" : "must be a duration: N, Ns, Nm or Nh, at most 30 days";
}

// A drain's spread: a duration of at most 10 minutes (push.drain_spread_ms's range).
std::string DrainSpread(const std::string& v) {
  int64_t s = DurationSeconds(v);
  return s >= 0 && s <= 600 ? "" : "must be a duration of at most 10m (N, Ns or Nm)";
}

std::string HostPort(const std::string& v) {
  std::string host;
  int port = 0;
  return danmu::core::SplitHostPort(v, &host, &port) && !host.empty() && port > 0 && port <= 65535 ? ""
                                                                                                   : "must be host:port";
}

std::string LiveRoom(const std::string& v) {
  return danmu::core::IsValidLiveRoom(v) ? "" : "must be a live room id ([A-Za-z0-9_-]{1,64})";
}

// A partition count for `kafka partitions`.
std::string PartitionCount(const std::string& v) {
  int64_t n;
  return ToInt(v, &n) && n >= 1 && n <= 10000 ? "" : "must be a partition count 1..10000";
}

// A Kafka topic name.
std::string TopicName(const std::string& v) {
  bool ok = !v.empty() && v.size() <= 249 && v.find_first_not_of(
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == std::string::npos;
  return ok ? "" : "must be a Kafka topic name ([A-Za-z0-9._-]{1,249})";
}

std::string ArchiveMode(const std::string& v) {
  return v == "auto" || v == "checkpoint" || v == "archive" ? "" : "must be auto, checkpoint or archive";
}

struct ArgSpec {
  std::string name;  // flag name without "--", or the positional's name in the usage
  Check check;
  bool required = false;
};

struct Args {
  std::map<std::string, std::string> flags;  // --name value (or "1" for switches)
  std::vector<std::string> positional;       // after the command's own words
  std::string Get(const std::string& k, const std::string& def = "") const {
    auto it = flags.find(k);
    return it == flags.end() ? def : it->second;
  }
  bool Has(const std::string& k) const { return flags.count(k) > 0; }
  // A validated integer flag.
  int64_t Int(const std::string& k, int64_t def) const {
    int64_t n = def;
    if (Has(k) && !ToInt(Get(k), &n)) n = def;
    return n;
  }
  // A validated --room: "A", "B" (or "all" where allowed), upper-cased.
  std::string Room(const std::string& def = "") const {
    std::string r = Get("room", def);
    return r == "a" ? "A" : r == "b" ? "B" : r;
  }
};

struct Context;
struct Command {
  std::string name;  // one or two words: "status", "degrade set"
  std::string usage;
  std::vector<ArgSpec> positional;
  std::vector<ArgSpec> flags;         // flags taking a value
  std::vector<std::string> switches;  // flags without one
  int (*run)(const Context&, const Args&);
  // --json: a switch, or also "--json FILE" (commands that write a report).
  bool json_file = false;
  // Everything after the command word (but the global flags) goes to the
  // handler as positional words, which it validates itself (route: the same
  // parser as the admin API's).
  bool raw_args = false;
};

// Flags every command takes (where the rooms are).
const std::vector<std::string> kGlobalFlags = {"env", "a-admin", "b-admin", "a-http", "b-http", "token-file", "run-dir",
                                               "kafka-a", "kafka-b", "processor-admins"};

struct Usage {
  std::string message;  // "" = fine
};

// Splits argv against `cmd`'s table; `words` = how many leading positionals
// name the command.
Usage ParseCommand(const Command& cmd, const std::vector<std::string>& argv, size_t words, Args* a) {
  auto find = [](const std::vector<ArgSpec>& v, const std::string& k) {
    return std::find_if(v.begin(), v.end(), [&](const ArgSpec& s) { return s.name == k; });
  };
  size_t seen_words = 0;
  if (cmd.raw_args) {
    for (size_t i = 0; i < argv.size(); ++i) {
      const std::string& s = argv[i];
      const bool global = s.rfind("--", 0) == 0 &&
                          std::find(kGlobalFlags.begin(), kGlobalFlags.end(), s.substr(2)) != kGlobalFlags.end();
      if (global) {
        if (i + 1 >= argv.size()) return {s + " needs a value"};
        a->flags[s.substr(2)] = argv[++i];
      } else if (seen_words < words && s.rfind("--", 0) != 0) {
        ++seen_words;
      } else {
        a->positional.push_back(s);
      }
    }
    return {};
  }
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& s = argv[i];
    if (s.rfind("--", 0) != 0) {
      if (seen_words < words) ++seen_words;
      else a->positional.push_back(s);
      continue;
    }
    std::string k = s.substr(2);
    if (k == "json") {
      bool value = cmd.json_file && i + 1 < argv.size() && argv[i + 1].rfind("--", 0) != 0;
      if (value) a->flags["json"] = argv[++i];
      else a->flags["json-out"] = "1";
      continue;
    }
    if (std::find(cmd.switches.begin(), cmd.switches.end(), k) != cmd.switches.end()) {
      a->flags[k] = "1";
      continue;
    }
    bool global = std::find(kGlobalFlags.begin(), kGlobalFlags.end(), k) != kGlobalFlags.end();
    if (!global && find(cmd.flags, k) == cmd.flags.end()) return {"unknown flag --" + k};
    if (i + 1 >= argv.size() || argv[i + 1].rfind("--", 0) == 0) return {"--" + k + " needs a value"};
    a->flags[k] = argv[++i];
  }
  for (const auto& f : cmd.flags) {
    if (!a->Has(f.name)) {
      if (f.required) return {"--" + f.name + " is required"};
      continue;
    }
    std::string wrong = f.check(a->Get(f.name));
    if (!wrong.empty()) return {"--" + f.name + " " + wrong + ", got '" + a->Get(f.name) + "'"};
  }
  if (a->positional.size() != cmd.positional.size()) {
    return {cmd.positional.empty() ? "takes no more arguments"
                                   : "needs " + std::to_string(cmd.positional.size()) + " argument(s)"};
  }
  for (size_t i = 0; i < cmd.positional.size(); ++i) {
    std::string wrong = cmd.positional[i].check(a->positional[i]);
    if (!wrong.empty()) return {cmd.positional[i].name + " " + wrong + ", got '" + a->positional[i] + "'"};
  }
  return {};
}

// JSON bodies are built with Poco's writer, never by pasting text.
std::string ToJson(const Poco::JSON::Object& o) {
  std::ostringstream out;
  o.stringify(out);
  return out.str();
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
  std::string kafka_a, kafka_b, topic;
  std::vector<std::string> processor_admins;  // processor-only danmuds (scale-out)
};

int Fail(const std::string& msg) {
  std::fprintf(stderr, "danmuctl: %s\n", msg.c_str());
  return 1;
}

// `room` is validated: "A" or "B".
const std::string& AdminOf(const Context& c, const std::string& room) { return room == "B" ? c.b_admin : c.a_admin; }

int PrintStatus(const Context& c, const Args& args) {
  const bool json = args.Has("json-out");
  int rc = 0;
  Poco::JSON::Object out;
  for (auto [name, url] : std::vector<std::pair<std::string, std::string>>{{"A", c.a_admin}, {"B", c.b_admin}}) {
    AdminClient client(url, c.token);
    auto s = client.Status();
    if (json) {
      Poco::Dynamic::Var v;  // null when the room does not answer
      if (s.ok()) {
        try {
          v = Poco::JSON::Parser().parse(s->raw);
        } catch (const std::exception&) {
        }
      }
      out.set(name, v);
      continue;
    }
    if (!s.ok()) {
      std::printf("room %s  UNREACHABLE  %s\n", name.c_str(), s.status().message().c_str());
      rc = 1;
      continue;
    }
    // Processor delay only where a processor applies (the primary).
    std::string delay = s->processor.delay_seconds >= 0
                            ? " delay " + std::to_string(static_cast<int64_t>(s->processor.delay_seconds * 1000)) + "ms"
                            : "";
    std::printf("room %s  %-9s epoch %-3lld %s%s lag %.3fs link %s offset %lld (%lld B behind) kafka backlog %lld (%.1fs)%s "
                "reads %s in-flight %lld degrade %d connections %lld\n",
                s->room.c_str(), danmu::core::RoleName(s->role), static_cast<long long>(s->epoch),
                s->writes_frozen ? "FROZEN " : "", s->confirmed ? "" : "UNCONFIRMED ", s->replication.lag_seconds,
                s->replication.link_up ? "up" : "DOWN", static_cast<long long>(s->replication.repl_offset),
                static_cast<long long>(s->replication.offset_lag_bytes), static_cast<long long>(s->processor.backlog),
                s->processor.lag_seconds, delay.c_str(), s->read_source.c_str(), static_cast<long long>(s->writes_in_flight),
                static_cast<int>(s->degrade_level), static_cast<long long>(s->edge.connections));
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
    // The routing service (DESIGN §13): the rule set this room's router serves.
    if (s->routing.rules_version >= 0) {
      std::printf("        routing rules v%lld percent %lld kill-switch %s%s edges %lld %s\n",
                  static_cast<long long>(s->routing.rules_version), static_cast<long long>(s->routing.percent),
                  s->routing.kill_switch ? "ON" : "off", s->routing.rules_stale ? " STALE (etcd unreadable)" : "",
                  static_cast<long long>(s->routing.edges), s->routing.registered ? "registered" : "NOT REGISTERED");
    }
    if (s->reconcile_needed) {
      std::printf("        RECONCILE NEEDED: danmuctl reconcile --room %s --from-kafka %s (%s)\n", s->reconcile_into.c_str(),
                  s->reconcile_from.c_str(), s->reconcile_reason.c_str());
    }
  }
  // Per partition of the live topic: lag and owner, merged from every
  // processor process (the rooms' danmuds and the processor-only ones).
  std::vector<danmu::replication::RoomStatus> procs;
  Poco::JSON::Object procs_json;
  auto add_processor = [&](const std::string& url) {
    auto s = AdminClient(url, c.token).Status();
    if (json) {
      Poco::Dynamic::Var v;  // null when it does not answer
      if (s.ok()) {
        try {
          v = Poco::JSON::Parser().parse(s->raw);
        } catch (const std::exception&) {
        }
      }
      procs_json.set(url, v);
    }
    if (!s.ok()) {
      if (!json) std::printf("processor %s  UNREACHABLE  %s\n", url.c_str(), s.status().message().c_str());
      return;
    }
    if (!s->processor.instance.empty() && !s->partitions.empty()) procs.push_back(*s);
  };
  for (const auto& url : {c.a_admin, c.b_admin}) add_processor(url);
  for (const auto& url : c.processor_admins) add_processor(url);
  if (json) {
    out.set("processors", procs_json);
    std::printf("%s\n", ToJson(out).c_str());
    return rc;
  }
  auto rows = danmu::replication::MergePartitionOwners(procs);
  if (!rows.empty()) {
    std::printf("kafka partitions of the active room (%zu processor processes):\n", procs.size());
    std::printf("  %9s %10s %10s  %s\n", "partition", "lag", "lag_s", "owner");
    for (const auto& r : rows) {
      std::string secs = r.lag_seconds >= 0 ? std::to_string(r.lag_seconds).substr(0, 6) : "-";
      std::printf("  %9d %10lld %10s  %s\n", r.partition, static_cast<long long>(r.lag), secs.c_str(), r.owner.c_str());
    }
  }
  return rc;
}

// kafka partitions N: grows the live topic in both rooms' Kafka, the active
// room's first (replication/ops/kafka_partitions.h). N is validated.
int KafkaPartitions(const Context& c, const Args& args) {
  const int n = static_cast<int>(std::stoll(args.positional[0]));  // 1..10000, checked
  if (c.kafka_a.empty() || c.kafka_b.empty()) return Fail("no Kafka addresses: pass --kafka-a/--kafka-b or KAFKA_A/KAFKA_B");
  std::vector<danmu::replication::PartitionRoom> rooms = {{"A", c.kafka_a, false}, {"B", c.kafka_b, false}};
  for (auto& r : rooms) {
    auto s = AdminClient(AdminOf(c, r.room), c.token).Status();
    r.active = s.ok() && s->active_primary();
  }
  auto admin = danmu::replication::MakeKafkaPartitionAdmin();
  auto g = danmu::replication::GrowPartitions(*admin, rooms, c.topic, n);
  if (args.Has("json-out")) {
    std::printf("%s\n", danmu::replication::PartitionGrowthJson(g).c_str());
    return g.ok ? 0 : 1;
  }
  if (!g.error.empty()) std::printf("refused: %s\n", g.error.c_str());
  for (const auto& r : g.rooms) {
    auto count = [](int n) { return n < 0 ? std::string("?") : std::to_string(n); };
    std::string change = g.error.empty() ? count(r.before) + " -> " + count(r.after) : count(r.before) + " (unchanged)";
    std::printf("room %s %-9s kafka %s topic %s: %s partitions%s%s\n", r.room.c_str(),
                r.active ? "(active)" : "(standby)", r.brokers.c_str(), c.topic.c_str(), change.c_str(),
                r.error.empty() ? "" : "  ERROR ", r.error.c_str());
  }
  if (g.ok) {
    std::printf("done: both rooms have %d partitions%s; producers and processors pick them up within "
                "kafka.metadata_refresh_ms\n", n, g.changed ? "" : " (nothing to change)");
  }
  return g.ok ? 0 : 1;
}

// An admin action on the room named by --room (required, validated).
int Action(const Context& c, const Args& args, const std::string& action, const Poco::JSON::Object& body) {
  AdminClient client(AdminOf(c, args.Room()), c.token);
  // A forced promotion may wait for the old primary's lease to expire.
  auto s = client.Action(action, ToJson(body), action == "promote" ? 60000 : 10000);
  if (!s.ok()) return Fail(s.status().message());
  std::printf("%s\n", s->raw.c_str());
  return 0;
}

int FreezeOrUnfreeze(const Context& c, const Args& args, const std::string& action) {
  Poco::JSON::Object body;
  body.set("reason", args.Get("reason", "danmuctl"));
  return Action(c, args, action, body);
}
int Freeze(const Context& c, const Args& args) { return FreezeOrUnfreeze(c, args, "freeze"); }
int Unfreeze(const Context& c, const Args& args) { return FreezeOrUnfreeze(c, args, "unfreeze"); }

int Promote(const Context& c, const Args& args) {
  const bool force = args.Has("force") || args.Has("steal");
  Poco::JSON::Object body;
  body.set("force", force);
  body.set("steal", args.Has("steal"));
  body.set("catch_up", force && !args.Has("no-catch-up"));
  body.set("reason", args.Get("reason", "danmuctl promote"));
  return Action(c, args, "promote", body);
}

int Demote(const Context& c, const Args& args) {
  Poco::JSON::Object body;
  body.set("epoch", args.Int("epoch", 0));
  body.set("reason", args.Get("reason", "danmuctl demote"));
  return Action(c, args, "demote", body);
}

int Switchover(const Context& c, const Args&) {
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
  o.warmup_ms = static_cast<int>(args.Int("warmup-ms", o.warmup_ms));
  o.after_ms = static_cast<int>(args.Int("after-ms", o.after_ms));
  auto rep = danmu::replication::RunDrill(o);
  std::fputs(rep.ToText().c_str(), stdout);
  std::string json = rep.ToJson();
  if (args.Has("json-out")) std::printf("%s\n", json.c_str());
  if (args.Has("json")) std::ofstream(args.Get("json")) << json << "\n";
  return rep.ExitCode();
}

// degrade set|clear|status: --room A|B|all (default all: the fleet-wide key).
int Degrade(const Context& c, const Args& args, const std::string& sub) {
  const std::string room = args.Room("all");
  std::vector<std::string> targets;
  if (room == "all" || room == "A") targets.push_back(c.a_admin);
  if (room == "all" || room == "B") targets.push_back(c.b_admin);
  Poco::JSON::Object body;
  if (sub != "status") {
    body.set("scope", room == "all" ? "all" : "room");
    if (room != "all") body.set("room", room);
    if (args.Has("stream")) body.set("stream", args.Get("stream"));
  }
  if (sub == "set") {
    body.set("level", static_cast<int>(args.positional[0][0] - '0'));
    body.set("for_s", args.Has("for") ? DurationSeconds(args.Get("for")) : 0);
    body.set("reason", args.Get("reason", "danmuctl"));
  }
  int rc = 0;
  for (const auto& url : targets) {
    danmu::core::HttpCall call;
    call.url = url + (sub == "clear" ? "/v1/admin/degrade/clear" : "/v1/admin/degrade");
    call.headers["Authorization"] = "Bearer " + c.token;
    if (sub != "status") {
      call.method = "POST";
      call.headers["Content-Type"] = "application/json";
      call.body = ToJson(body);
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
int DegradeSet(const Context& c, const Args& args) { return Degrade(c, args, "set"); }
int DegradeClear(const Context& c, const Args& args) { return Degrade(c, args, "clear"); }
int DegradeStatus(const Context& c, const Args& args) { return Degrade(c, args, "status"); }

// The fleet-wide "move to polling" switch: one field of the degrade hash in
// the primary room's Redis (either room's admin API writes it there).
int PushPollOnly(const Context& c, const Args& args) {
  Poco::JSON::Object body;
  body.set("poll_only", args.positional[0] == "on");
  body.set("for_s", args.Has("for") ? DurationSeconds(args.Get("for")) : 0);
  body.set("reason", args.Get("reason", "danmuctl"));
  danmu::core::HttpCall call;
  call.method = "POST";
  call.url = c.a_admin + "/v1/admin/push";
  call.headers["Authorization"] = "Bearer " + c.token;
  call.headers["Content-Type"] = "application/json";
  call.body = ToJson(body);
  auto r = danmu::core::Fetch(call);
  if (!r.ok() || r->status != 200) {
    // Room A unreachable (failover): room B's admin API writes to the primary's Redis too.
    call.url = c.b_admin + "/v1/admin/push";
    r = danmu::core::Fetch(call);
  }
  if (!r.ok() || r->status != 200) return Fail("push poll-only: " + (r.ok() ? r->body : r.status().message()));
  std::printf("%s\n", r->body.c_str());
  return 0;
}

int PushStatus(const Context& c, const Args& args) {
  const std::string room = args.Room("all");
  int rc = 0;
  for (auto [name, url] : std::vector<std::pair<std::string, std::string>>{{"A", c.a_admin}, {"B", c.b_admin}}) {
    if (room != "all" && room != name) continue;
    danmu::core::HttpCall call;
    call.url = url + "/v1/admin/push";
    auto r = danmu::core::Fetch(call);
    if (!r.ok() || r->status != 200) {
      std::fprintf(stderr, "danmuctl: room %s: %s\n", name.c_str(), r.ok() ? r->body.c_str() : r.status().message().c_str());
      rc = 1;
      continue;
    }
    std::printf("%s %s\n", name.c_str(), r->body.c_str());
  }
  return rc;
}

// Takes one room's frontend out of the routers' lists and closes its long
// connections with 1001 ("reconnect elsewhere") over --over (default: its
// push.drain_spread_ms), or (undrain) puts it back.
int EdgeDrain(const Context& c, const Args& args, bool draining) {
  Poco::JSON::Object body;
  body.set("draining", draining);
  if (draining && args.Has("over")) body.set("over_ms", DurationSeconds(args.Get("over")) * 1000);
  danmu::core::HttpCall call;
  call.method = "POST";
  call.url = (args.Room() == "B" ? c.b_admin : c.a_admin) + "/v1/admin/edge/drain";
  call.headers["Authorization"] = "Bearer " + c.token;
  call.headers["Content-Type"] = "application/json";
  call.body = ToJson(body);
  auto r = danmu::core::Fetch(call);
  if (!r.ok() || r->status != 200) {
    return Fail(std::string("edge ") + (draining ? "drain" : "undrain") + ": " + (r.ok() ? r->body : r.status().message()));
  }
  std::printf("%s %s\n", args.Room().c_str(), r->body.c_str());
  return 0;
}
int EdgeDrainOn(const Context& c, const Args& args) { return EdgeDrain(c, args, true); }
int EdgeDrainOff(const Context& c, const Args& args) { return EdgeDrain(c, args, false); }

// The room that answers as the active primary ("" when none does).
std::string ActivePrimary(const Context& c) {
  for (auto [name, url] : std::vector<std::pair<std::string, std::string>>{{"A", c.a_admin}, {"B", c.b_admin}}) {
    auto s = AdminClient(url, c.token).Status();
    if (s.ok() && s->active_primary()) return name;
  }
  return "";
}

// Runs the reconciliation on the new primary (--room, else whichever room is
// the active primary) and prints its report.
int Reconcile(const Context& c, const Args& args) {
  std::string room = args.Has("room") ? args.Room() : ActivePrimary(c);
  if (room.empty()) return Fail("no room answers as the active primary: promote one first, or pass --room");
  Poco::JSON::Object body;
  body.set("kafka", args.Get("from-kafka"));
  for (const char* flag : {"since-ms", "lookback-ms", "deadline-ms", "max-records"}) {
    if (!args.Has(flag)) continue;
    std::string key = flag;
    std::replace(key.begin(), key.end(), '-', '_');
    body.set(key, args.Int(flag, 0));
  }
  if (args.Has("live-room")) body.set("live_room", args.Get("live-room"));
  if (args.Has("reingest-unknown")) body.set("reingest_unknown", true);
  int64_t deadline_ms = args.Int("deadline-ms", 120000);
  danmu::core::HttpCall call;
  call.method = "POST";
  call.url = AdminOf(c, room) + "/v1/admin/reconcile";
  call.body = ToJson(body);
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
  if (args.Has("json")) std::ofstream(args.Get("json")) << r->body << "\n";
  if (rep->ExitCode() == 0 && !args.Has("live-room")) {
    // Complete: the "reconciliation may be needed" prompt of both rooms is answered.
    Poco::JSON::Object clear;
    clear.set("reason", "danmuctl reconcile from " + args.Get("from-kafka"));
    for (const std::string& url : {c.a_admin, c.b_admin}) (void)AdminClient(url, c.token).Action("reconcile/clear", ToJson(clear));
  }
  return rep->ExitCode();
}
// archive status|run LIVE_ROOM: the primary room's archiver (GET/POST
// /v1/admin/archive). Text for people, --json for scripts.
int Archive(const Context& c, const Args& args, const std::string& sub) {
  const std::string& live_room = args.positional[0];
  std::string room = args.Has("room") ? args.Room() : ActivePrimary(c);
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
    Poco::JSON::Object body;
    body.set("room", live_room);
    body.set("mode", args.Get("mode", "auto"));
    call.body = ToJson(body);
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
int ArchiveStatus(const Context& c, const Args& args) { return Archive(c, args, "status"); }

// The fleet's routing rules (routing/, DESIGN §13): one rule set in etcd for
// both rooms, so a change goes to whichever room's admin API answers (A
// first) and both routers serve it within routing.rules_refresh_ms.
auto RouteCall(const Context& c, const std::string& url, const std::string& body) {
  danmu::core::HttpCall call;
  call.url = url + "/v1/admin/route";
  call.headers["Authorization"] = "Bearer " + c.token;
  if (!body.empty()) {
    call.method = "POST";
    call.headers["Content-Type"] = "application/json";
    call.body = body;
  }
  return danmu::core::Fetch(call);
}

int RouteShow(const Context& c, const Args& args) {
  const std::string url = args.Room("A") == "B" ? c.b_admin : c.a_admin;
  auto r = RouteCall(c, url, "");
  if (!r.ok()) return Fail(url + ": " + r.status().message());
  std::printf("%s\n", r->body.c_str());
  return r->status == 200 ? 0 : 1;
}

int RouteChange(const Context& c, const Args& args) {
  auto body = danmu::routing::RouteChangeFromArgs(args.positional);
  if (!body.ok()) {
    std::fprintf(stderr, "danmuctl: route: %s\n", body.status().message().c_str());
    return 2;
  }
  std::string last;
  for (const std::string& url : {c.a_admin, c.b_admin}) {
    auto r = RouteCall(c, url, *body);
    if (!r.ok() || r->status >= 500) {
      last = url + ": " + (r.ok() ? r->body : r.status().message());
      continue;  // the other room's router writes the same rule set
    }
    std::printf("%s\n", r->body.c_str());
    return r->status == 200 ? 0 : 1;
  }
  return Fail("no room accepted the change: " + last);
}
int ArchiveRun(const Context& c, const Args& args) { return Archive(c, args, "run"); }

// The commands. To add one: a handler above and a line here (its words, its
// usage, its positional arguments and flags with their checks).
const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"status", "status [--json]", {}, {}, {}, PrintStatus},
      {"freeze", "freeze --room A|B [--reason TEXT]", {}, {{"room", RoomAB, true}, {"reason", AnyText}}, {}, Freeze},
      {"unfreeze", "unfreeze --room A|B [--reason TEXT]", {}, {{"room", RoomAB, true}, {"reason", AnyText}}, {},
       Unfreeze},
      {"promote", "promote --room A|B [--force [--steal] [--no-catch-up]] [--reason TEXT]", {},
       {{"room", RoomAB, true}, {"reason", AnyText}}, {"force", "steal", "no-catch-up"}, Promote},
      {"demote", "demote --room A|B --epoch N [--reason TEXT]", {},
       {{"room", RoomAB, true}, {"epoch", NonNegative}, {"reason", AnyText}}, {}, Demote},
      {"switchover", "switchover", {}, {}, {}, Switchover},
      {"drill", "drill --planned|--unplanned [--json [FILE]] [--acked-ids FILE] [--warmup-ms N] [--after-ms N]", {},
       {{"acked-ids", AnyText}, {"warmup-ms", Millis}, {"after-ms", Millis}}, {"planned", "unplanned"}, Drill, true},
      {"degrade set", "degrade set LEVEL [--room A|B|all] [--stream ID] [--for 10m] [--reason TEXT]", {{"LEVEL", Level}},
       {{"room", RoomABAll}, {"stream", LiveRoom}, {"for", Duration}, {"reason", AnyText}}, {}, DegradeSet},
      {"degrade clear", "degrade clear [--room A|B|all] [--stream ID]", {}, {{"room", RoomABAll}, {"stream", LiveRoom}},
       {}, DegradeClear},
      {"degrade status", "degrade status [--room A|B|all]", {}, {{"room", RoomABAll}}, {}, DegradeStatus},
      {"push poll-only", "push poll-only on|off [--for 10m] [--reason TEXT]", {{"on|off", OnOff}},
       {{"for", Duration}, {"reason", AnyText}}, {}, PushPollOnly},
      {"push status", "push status [--room A|B|all]", {}, {{"room", RoomABAll}}, {}, PushStatus},
      {"edge drain", "edge drain --room A|B [--over 30s]", {}, {{"room", RoomAB, true}, {"over", DrainSpread}}, {},
       EdgeDrainOn},
      {"edge undrain", "edge undrain --room A|B", {}, {{"room", RoomAB, true}}, {}, EdgeDrainOff},
      {"reconcile",
       "reconcile --from-kafka HOST:PORT [--since-ms N] [--lookback-ms N] [--room A|B] [--live-room ID] "
       "[--max-records N] [--reingest-unknown] [--deadline-ms N] [--json [FILE]]",
       {},
       {{"from-kafka", HostPort, true}, {"since-ms", NonNegative}, {"lookback-ms", NonNegative}, {"room", RoomAB},
        {"live-room", LiveRoom}, {"max-records", NonNegative}, {"deadline-ms", Millis}},
       {"reingest-unknown"}, Reconcile, true},
      {"kafka partitions", "kafka partitions N [--topic NAME] [--json]", {{"N", PartitionCount}},
       {{"topic", TopicName}}, {}, KafkaPartitions},
      {"archive status", "archive status LIVE_ROOM [--room A|B] [--json]", {{"LIVE_ROOM", LiveRoom}},
       {{"room", RoomAB}}, {}, ArchiveStatus},
      {"archive run", "archive run LIVE_ROOM [--mode auto|checkpoint|archive] [--room A|B] [--json]",
       {{"LIVE_ROOM", LiveRoom}}, {{"mode", ArchiveMode}, {"room", RoomAB}}, {}, ArchiveRun},
      {"route show", "route show [--room A|B]", {}, {{"room", RoomAB}}, {}, RouteShow},
      {"route",
       "route set-percent N | allow|deny --uid U|--device D|--app-version A-B|--platform P | remove allow|deny ... | "
       "clear [allow|deny] | kill-switch on|off | transport ws|sse | poll-at-level 0..3",
       {}, {}, {}, RouteChange, false, true},
  };
  return commands;
}

void PrintUsage(FILE* to) {
  std::fputs("usage: danmuctl [--env FILE] [--a-admin URL] [--b-admin URL] [--token-file FILE] COMMAND\n", to);
  for (const auto& c : Commands()) std::fprintf(to, "  %s\n", c.usage.c_str());
}

int UsageError(const std::string& message, const Command* cmd) {
  std::fprintf(stderr, "danmuctl: %s\n", message.c_str());
  if (cmd) std::fprintf(stderr, "usage: danmuctl %s\n", cmd->usage.c_str());
  else PrintUsage(stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> argv_list(argv + 1, argv + argc);
  if (std::find(argv_list.begin(), argv_list.end(), "--help") != argv_list.end()) {
    PrintUsage(stdout);
    return 0;
  }
  // The command's words: the first argument that is neither a flag nor the
  // value of a global flag before it (DANMUCTL [--env FILE ...] COMMAND), and
  // the one right after it.
  std::vector<std::string> words;
  for (size_t i = 0; i < argv_list.size() && words.size() < 2; ++i) {
    const std::string& t = argv_list[i];
    if (t.rfind("--", 0) == 0) {
      if (!words.empty()) break;
      if (std::find(kGlobalFlags.begin(), kGlobalFlags.end(), t.substr(2)) != kGlobalFlags.end()) ++i;
      continue;
    }
    words.push_back(t);
  }
  if (words.empty()) return UsageError("no command", nullptr);
  // The longest command name the leading words spell.
  const Command* cmd = nullptr;
  size_t cmd_words = 0;
  for (const auto& c : Commands()) {
    size_t n = std::count(c.name.begin(), c.name.end(), ' ') + 1;
    std::string spelled = words[0] + (n > 1 && words.size() > 1 ? " " + words[1] : "");
    if (n <= words.size() && spelled == c.name && n > cmd_words) {
      cmd = &c;
      cmd_words = n;
    }
  }
  if (!cmd) {
    bool group = std::any_of(Commands().begin(), Commands().end(),
                             [&](const Command& c) { return c.name.rfind(words[0] + " ", 0) == 0; });
    return UsageError(group ? words[0] + " needs a subcommand" : "unknown command " + words[0], nullptr);
  }
  Args args;
  Usage u = ParseCommand(*cmd, argv_list, cmd_words, &args);
  if (!u.message.empty()) return UsageError(cmd->name + ": " + u.message, cmd);
  if (cmd->name == "drill" && args.Has("planned") && args.Has("unplanned")) {
    return UsageError("drill: --planned or --unplanned, not both", cmd);
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
  c.kafka_a = pick("kafka-a", "KAFKA_A");
  c.kafka_b = pick("kafka-b", "KAFKA_B");
  c.topic = pick("topic", "KAFKA_TOPIC");
  if (c.topic.empty()) c.topic = "danmu.messages";
  c.processor_admins = danmu::core::SplitList(pick("processor-admins", "DANMU_PROCESSOR_ADMINS"));
  std::string token_file = pick("token-file", "DANMU_TOKEN_FILE");
  if (c.a_admin.empty() || c.b_admin.empty()) return Fail("no room addresses: pass --a-admin/--b-admin or --env run/stack.env");
  if (!token_file.empty()) {
    auto t = danmu::core::ReadSecretFile(token_file);
    if (t.ok()) c.token = *t;
  }
  return cmd->run(c, args);
}
