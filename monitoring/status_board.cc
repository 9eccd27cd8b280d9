#include "monitoring/status_board.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/base/json_text.h"
#include "core/http/http_client.h"

namespace danmu::monitoring {
namespace {

using Obj = Poco::JSON::Object::Ptr;

// Thresholds above which a value is a problem on the page. They mirror the
// alert rules' intent (monitoring/rules), not their `for:` windows: the page
// shows the state now, the alert pages someone after it lasted.
constexpr double kLagProblemSeconds = 2.0;
constexpr int64_t kBacklogProblem = 1000;
constexpr double kDelayProblemSeconds = 2.0;

std::string Num(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  // Trim trailing zeros: "1.500" -> "1.5", "2.000" -> "2".
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  return s;
}

std::string Str(std::string_view s) { return core::JsonString(s); }
const char* Bool(bool b) { return b ? "true" : "false"; }

template <typename T>
T Get(const Obj& o, const std::string& key, T fallback) {
  if (!o || !o->has(key)) return fallback;
  try {
    return o->getValue<T>(key);
  } catch (const std::exception&) {
    return fallback;
  }
}

Obj Child(const Obj& o, const std::string& key) {
  if (!o || !o->has(key)) return nullptr;
  try {
    return o->getObject(key);
  } catch (const std::exception&) {
    return nullptr;
  }
}

Obj ParseObject(const std::string& text) {
  if (text.empty() || core::JsonNestingDepth(text) > 6) return nullptr;
  try {
    Poco::JSON::Parser parser;
    auto v = parser.parse(text);
    if (v.type() != typeid(Obj)) return nullptr;
    return v.extract<Obj>();
  } catch (const std::exception&) {
    return nullptr;
  }
}

struct Problems {
  std::string json = "[";
  void Add(const std::string& what, const std::string& fix, const std::string& runbook) {
    if (json.size() > 1) json += ",";
    json += "{\"what\":" + Str(what) + ",\"fix\":" + Str(fix) + ",\"runbook\":" + Str("monitoring/RUNBOOK.md#" + runbook) + "}";
  }
  std::string Done() const { return json + "]"; }
};

}  // namespace

StatusBoard::StatusBoard(std::string room, std::string peer_room, const core::WebOptions& options, InputsFn inputs,
                         PeerFetch peer, const core::Clock& clock)
    : room_(std::move(room)),
      peer_room_(std::move(peer_room)),
      options_(options),
      inputs_(std::move(inputs)),
      peer_(std::move(peer)),
      clock_(clock),
      loop_("status_board", options.status_sample_ms, [this] { SampleOnce(); }) {}

StatusBoard::~StatusBoard() { Stop(); }

void StatusBoard::Start() {
  SampleOnce();  // the first request after start already has data
  loop_.Start();
}

void StatusBoard::Stop() { loop_.Stop(); }

void StatusBoard::SampleOnce() {
  StatusInputs in = inputs_();
  const int64_t mono = clock_.MonoMs();
  double writes_rate = NAN, polls_rate = NAN;
  if (last_mono_ms_ >= 0 && mono > last_mono_ms_) {
    const double dt = static_cast<double>(mono - last_mono_ms_) / 1000.0;
    writes_rate = std::max(0.0, in.writes_total - last_writes_) / dt;
    polls_rate = std::max(0.0, in.polls_total - last_polls_) / dt;
  }
  last_mono_ms_ = mono;
  last_writes_ = in.writes_total;
  last_polls_ = in.polls_total;

  Obj st = ParseObject(in.admin_status_json);
  Sample s;
  s.t_ms = clock_.NowMs();
  s.lag_seconds = Get<double>(Child(st, "replication"), "lag_seconds", NAN);
  s.backlog = Get<int64_t>(Child(st, "processor"), "backlog", -1);
  double best = -1;
  if (in.probe_ran && in.probe.ok) {
    best = std::max(in.probe.e2e_own_seconds, in.probe.e2e_peer_seconds) * 1000.0;
  }
  s.probe_ms = best;
  {
    std::lock_guard lock(mu_);
    history_.push_back(s);
    while (history_.size() > static_cast<size_t>(options_.status_history)) history_.pop_front();
  }
  std::string room_json = RenderRoom(in, writes_rate, polls_rate);

  // The other room's part, from its own aggregate.
  std::string peer_json;
  Obj peer_obj;
  if (peer_ && !peer_room_.empty()) {
    auto r = peer_();
    if (r.ok()) {
      peer_obj = ParseObject(*r);
      if (!peer_obj || Get<std::string>(peer_obj, "room", "") != peer_room_) {
        peer_obj = nullptr;
        r = core::Status(core::Code::kInternal, "its answer is not a status of room " + peer_room_);
      } else {
        peer_json = *r;
      }
    }
    if (!r.ok()) {
      Problems p;
      p.Add("room " + peer_room_ + " does not answer its status (" + r.status().message() + ")",
            "danmuctl status (is its danmud up? scripts/stack status on the local stack)", "danmutargetdown");
      peer_json = "{\"room\":" + Str(peer_room_) + ",\"reachable\":false,\"error\":" + Str(r.status().message()) +
                  ",\"problems\":" + p.Done() + "}";
    }
  }

  // Problems only visible with both rooms side by side.
  Problems cross;
  auto active_primary = [](const Obj& o) {
    return o && Get<std::string>(o, "role", "") == "primary" && Get<bool>(o, "confirmed", false);
  };
  const bool peer_known = peer_obj != nullptr;
  const int primaries = (active_primary(st) ? 1 : 0) + (active_primary(peer_obj) ? 1 : 0);
  if (primaries > 1) {
    cross.Add("two active primaries (" + room_ + " epoch " + std::to_string(Get<int64_t>(st, "epoch", 0)) + ", " +
                  peer_room_ + " epoch " + std::to_string(Get<int64_t>(peer_obj, "epoch", 0)) + ")",
              "danmuctl status; demote the older epoch: danmuctl demote --room <older> --epoch <newer epoch>",
              "danmumultipleprimaries");
  } else if (primaries == 0 && st && (peer_known || peer_room_.empty())) {
    cross.Add("no active primary: writes are refused in every room",
              "danmuctl status; then danmuctl promote --room <room> (--force if the other is gone)",
              "danmuprimarymissing");
  }

  std::lock_guard lock(mu_);
  room_json_ = std::move(room_json);
  peer_json_ = std::move(peer_json);
  cross_problems_ = cross.Done();
}

std::string StatusBoard::RenderRoom(const StatusInputs& in, double writes_rate, double polls_rate) const {
  Obj st = ParseObject(in.admin_status_json);
  Problems problems;
  std::string b = "{\"room\":" + Str(room_);
  b += ",\"sampled_at_ms\":" + std::to_string(clock_.NowMs());
  if (!st) {
    b += ",\"reachable\":false,\"error\":\"this room's status could not be read\"";
    problems.Add("room " + room_ + " cannot read its own status", "danmuctl status", "danmutargetdown");
    return b + ",\"problems\":" + problems.Done() + "}";
  }
  b += ",\"reachable\":true";
  const std::string role = Get<std::string>(st, "role", "unknown");
  const bool confirmed = Get<bool>(st, "confirmed", true);
  const bool frozen = Get<bool>(st, "writes_frozen", false);
  b += ",\"role\":" + Str(role);
  b += ",\"epoch\":" + std::to_string(Get<int64_t>(st, "epoch", 0));
  b += ",\"confirmed\":" + std::string(Bool(confirmed));
  b += ",\"writes_frozen\":" + std::string(Bool(frozen));
  // The primary lease (issue 13), as this room's PrimaryLease reports it
  // (replication/primary_lease.h StatusJson): "held"/"valid"/"remaining_ms"
  // describe THIS room's hold (valid: it may acknowledge now), "holder" is
  // the leader key's value as this room last read it ({room, epoch, ...}).
  // A secondary never holds the key, so its "valid" is false while the
  // holder's lease is healthy: whether the holder's lease is live is the
  // holder's own part (the page reads it from the holder room's card).
  Obj lease = Child(st, "lease");
  if (lease) {
    std::string holder_room;
    int64_t holder_epoch = 0;
    if (Obj h = Child(lease, "holder")) {
      holder_room = Get<std::string>(h, "room", "");
      holder_epoch = Get<int64_t>(h, "epoch", 0);
    }
    b += ",\"lease\":{\"enabled\":" + std::string(Bool(Get<bool>(lease, "enabled", true))) +
         ",\"held\":" + Bool(Get<bool>(lease, "held", false)) + ",\"valid\":" + Bool(Get<bool>(lease, "valid", false)) +
         ",\"remaining_ms\":" + std::to_string(std::max<int64_t>(0, Get<int64_t>(lease, "remaining_ms", 0))) +
         ",\"etcd_reachable\":" + Bool(Get<bool>(lease, "etcd_reachable", true)) +
         ",\"holder_room\":" + (holder_room.empty() ? std::string("null") : Str(holder_room)) +
         ",\"holder_epoch\":" + std::to_string(holder_epoch) + "}";
  } else {
    b += ",\"lease\":null";
  }
  const std::string read_source = Get<std::string>(st, "read_source", "local");
  b += ",\"read_source\":" + Str(read_source);
  Obj repl = Child(st, "replication");
  const double lag = Get<double>(repl, "lag_seconds", 0);
  const bool link_up = Get<bool>(repl, "link_up", false);
  const bool local_master = Get<bool>(repl, "local_is_master", false);
  b += ",\"replication\":{\"lag_seconds\":" + Num(lag) + ",\"link_up\":" + Bool(link_up) +
       ",\"local_is_master\":" + Bool(local_master) +
       ",\"offset_lag_bytes\":" + std::to_string(Get<int64_t>(repl, "offset_lag_bytes", 0)) + "}";
  Obj proc = Child(st, "processor");
  const int64_t backlog = Get<int64_t>(proc, "backlog", -1);
  const double delay = Get<double>(proc, "delay_seconds", -1);
  const bool fenced = Get<bool>(proc, "fenced", false);
  const bool paused = Get<bool>(proc, "paused", false);
  b += ",\"processor\":{\"running\":" + std::string(Bool(Get<bool>(proc, "running", false))) +
       ",\"paused\":" + Bool(paused) + ",\"fenced\":" + Bool(fenced) + ",\"backlog\":" + std::to_string(backlog) +
       ",\"delay_seconds\":" + Num(delay) + ",\"lag_seconds\":" + Num(Get<double>(proc, "lag_seconds", 0)) + "}";

  b += ",\"degrade\":{\"level\":" + std::to_string(in.degrade_level) + ",\"settings\":[";
  bool first = true;
  for (const auto& [field, s] : in.degrade) {
    if (s.level <= 0) continue;
    if (!first) b += ",";
    first = false;
    b += "{\"scope\":" + Str(field) + ",\"level\":" + std::to_string(s.level) + ",\"source\":" + Str(s.source) +
         ",\"reason\":" + Str(s.reason) + ",\"set_at_ms\":" + std::to_string(s.set_at_ms) +
         ",\"expires_at_ms\":" + std::to_string(s.expires_at_ms) + "}";
  }
  b += "]}";

  b += ",\"probe\":{\"ran\":" + std::string(Bool(in.probe_ran));
  if (in.probe_ran) {
    b += ",\"ok\":" + std::string(Bool(in.probe.ok)) + ",\"failed_stage\":" + Str(in.probe.failed_stage) +
         ",\"at_ms\":" + std::to_string(in.probe_at_ms) + ",\"pairs\":[";
    b += "{\"write_room\":" + Str(room_) + ",\"read_room\":" + Str(room_) + ",\"seconds\":" +
         (in.probe.e2e_own_seconds >= 0 ? Num(in.probe.e2e_own_seconds) : "null") + "}";
    if (!peer_room_.empty()) {
      b += ",{\"write_room\":" + Str(room_) + ",\"read_room\":" + Str(peer_room_) + ",\"seconds\":" +
           (in.probe.e2e_peer_seconds >= 0 ? Num(in.probe.e2e_peer_seconds) : "null") + "}";
    }
    b += "]";
  }
  b += "}";

  b += ",\"rates\":{\"writes_per_second\":" + Num(writes_rate) + ",\"polls_per_second\":" + Num(polls_rate) + "}";
  // Connections by transport: WebSocket and SSE from the push layer's count
  // per transport (in.connections), polling as the public port's open HTTP
  // connections that are not long ones (the admin status: edge.connections
  // counts every open public connection, push.connections the long ones).
  // The push section also says whether long connections are served at all.
  Obj push = Child(st, "push");
  Obj edge = Child(st, "edge");
  const int64_t long_open = Get<int64_t>(push, "connections", -1);
  const int64_t edge_open = Get<int64_t>(edge, "connections", -1);
  std::map<std::string, int64_t> conns;
  if (in.connections) conns = *in.connections;
  if (edge_open >= 0) conns["http"] = std::max<int64_t>(0, edge_open - std::max<int64_t>(0, long_open));
  if (!in.connections && long_open >= 0) conns["long"] = long_open;  // no split by transport known
  if (!conns.empty()) {
    b += ",\"connections\":{";
    bool f = true;
    for (const auto& [transport, n] : conns) {
      if (!f) b += ",";
      f = false;
      b += Str(transport) + ":" + std::to_string(n);
    }
    b += "}";
  } else {
    b += ",\"connections\":null";
  }
  if (push) {
    b += ",\"push\":{\"enabled\":" + std::string(Bool(Get<bool>(push, "enabled", false))) +
         ",\"poll_only\":" + Bool(Get<bool>(push, "poll_only", false)) + "}";
  } else {
    b += ",\"push\":null";
  }
  if (in.route) {
    b += ",\"route\":{";
    bool f = true;
    for (const auto& [k, v] : *in.route) {
      if (!f) b += ",";
      f = false;
      b += Str(k) + ":" + Num(v);
    }
    b += "}";
  } else {
    b += ",\"route\":null";
  }

  {
    std::lock_guard lock(mu_);
    std::string t = "[", l = "[", bl = "[", pm = "[";
    for (size_t i = 0; i < history_.size(); ++i) {
      const Sample& s = history_[i];
      const char* sep = i ? "," : "";
      t += sep + std::to_string(s.t_ms);
      l += sep + Num(s.lag_seconds);
      bl += sep + (s.backlog >= 0 ? std::to_string(s.backlog) : std::string("null"));
      pm += sep + (s.probe_ms >= 0 ? Num(s.probe_ms) : std::string("null"));
    }
    b += ",\"history\":{\"t\":" + t + "],\"lag_seconds\":" + l + "],\"backlog\":" + bl + "],\"probe_ms\":" + pm + "]}";
  }

  // Problems, each with what addresses it.
  const std::string r = room_;
  if (frozen) {
    problems.Add("writes FROZEN in room " + r + " (a switchover is running or stuck): posts get 503",
                 "let danmuctl switchover finish; abort: danmuctl unfreeze --room " + r, "danmuwritesfrozentoolong");
  }
  if (role == "primary" && !confirmed) {
    problems.Add("room " + r + " is UNCONFIRMED: primary by its state but not confirmed by the other room; no writes",
                 "danmuctl status (the other room must answer; an older epoch demotes itself)", "danmuprimarymissing");
  }
  if (role != "primary" && !local_master && !link_up) {
    problems.Add("replica link of room " + r + " is down", "danmuctl status; check the primary's Redis", "danmureplicalinkdown");
  }
  if (role != "primary" && lag > kLagProblemSeconds) {
    problems.Add("replication lag " + Num(lag) + " s in room " + r, "danmuctl status; a switchover waits for it",
                 "danmureplicationlaghigh");
  }
  if (read_source == "peer") {
    problems.Add("room " + r + " reads the primary room's Redis (stale-read fallback)",
                 "fix the replica (lag, link); reads return to local by themselves", "danmureplicationlaghigh");
  }
  if (backlog > kBacklogProblem || delay > kDelayProblemSeconds) {
    problems.Add("Kafka backlog " + std::to_string(backlog) + " messages, processor delay " + Num(delay) + " s in room " + r,
                 "danmuctl status; shed load: danmuctl degrade set 1 --room all --for 10m", "danmukafkaconsumerlaggrowing");
  }
  if (fenced || paused) {
    problems.Add(std::string("processor of room ") + r + (fenced ? " is fenced (a newer epoch exists)" : " is paused (drill hook)"),
                 fenced ? "danmuctl status: this room must demote" : "POST /v1/admin/processor/resume on its admin port",
                 "danmuprocessorstalled");
  }
  if (in.degrade_level > 0) {
    problems.Add("degradation level " + std::to_string(in.degrade_level) + " in room " + r,
                 "danmuctl degrade status; when the cause is gone: danmuctl degrade clear", "danmudegradationactivelong");
  }
  if (lease && role == "primary" && confirmed && !frozen && Get<bool>(lease, "enabled", true) &&
      !Get<bool>(lease, "valid", false)) {
    problems.Add("room " + r + " is primary but its lease is not valid (" +
                     (Get<bool>(lease, "etcd_reachable", true) ? std::string("not renewed in time") : std::string("etcd unreachable")) +
                     "): writes get 503",
                 "danmuctl status (the lease line); restore etcd; or danmuctl promote --room <other> --force",
                 "danmuleaselost");
  }
  if (in.probe_ran && !in.probe.ok) {
    problems.Add("probe from room " + r + " failed at stage " + in.probe.failed_stage,
                 "danmuctl status; the stage names the broken hop", "danmuprobefailing");
  }
  b += ",\"problems\":" + problems.Done();
  return b + "}";
}

std::string StatusBoard::RoomJson() const {
  std::lock_guard lock(mu_);
  return room_json_;
}

std::string StatusBoard::FullJson() const {
  std::lock_guard lock(mu_);
  std::string b = "{\"generated_at_ms\":" + std::to_string(clock_.NowMs()) + ",\"rooms\":[";
  const bool peer_first = !peer_json_.empty() && peer_room_ < room_;
  if (peer_first) b += peer_json_ + ",";
  b += room_json_.empty() ? "{\"room\":" + Str(room_) + ",\"reachable\":false,\"problems\":[]}" : room_json_;
  if (!peer_first && !peer_json_.empty()) b += "," + peer_json_;
  b += "],\"problems\":" + (cross_problems_.empty() ? std::string("[]") : cross_problems_) + "}";
  return b;
}

core::HttpResponse StatusBoard::Handle(const core::HttpRequest& req) const {
  const std::string scope = req.Query("scope");
  if (!scope.empty() && scope != "room" && scope != "all") {
    return core::HttpResponse::Error(400, "invalid_argument", "scope must be room or all");
  }
  core::HttpResponse r = core::HttpResponse::Json(200, scope == "room" ? RoomJson() : FullJson());
  r.headers["Cache-Control"] = "no-store";
  return r;
}

StatusBoard::PeerFetch StatusBoard::HttpPeer(const std::string& peer_public_url, int timeout_ms) {
  std::string url = peer_public_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += "/v1/status?scope=room";
  return [url, timeout_ms]() -> core::Result<std::string> {
    core::HttpCall call;
    call.url = url;
    call.timeout_ms = timeout_ms;
    auto r = core::Fetch(call);
    if (!r.ok()) return r.status();
    if (r->status != 200) return core::Status(core::Code::kUnavailable, "HTTP " + std::to_string(r->status));
    return r->body;
  };
}

}  // namespace danmu::monitoring
