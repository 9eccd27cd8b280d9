// Admin routes of danmud: translate HTTP to calls on the room's components.
#include "cmd/danmud/parts.h"
#include "core/base/json_text.h"
#include "core/model/validation.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <set>

#include "monitoring/process_metrics.h"

namespace danmu::cmd {

using core::HttpRequest;
using core::HttpResponse;

namespace {

std::string StatusJson(Daemon::Parts& p) {
  auto lag = p.heartbeat ? p.heartbeat->Latest() : replication::LagSample{};
  std::string b = "{\"room\":";
  core::AppendJsonString(b, p.config.room);
  b += ",\"role\":\"" + std::string(core::RoleName(p.state->role())) + "\"";
  b += ",\"epoch\":" + std::to_string(p.state->epoch());
  b += ",\"writes_frozen\":" + std::string(p.state->frozen() ? "true" : "false");
  b += ",\"confirmed\":" + std::string(p.state->confirmed() ? "true" : "false");
  b += ",\"promoted_at_ms\":" + std::to_string(p.state->promoted_at_ms());  // 0: unknown
  b += ",\"writes_in_flight\":" + std::to_string(p.frontend ? p.frontend->writes_in_flight() : 0);
  b += ",\"read_source\":\"" + std::string(p.reading_from_peer ? "peer" : "local") + "\"";
  b += ",\"degrade_level\":" + std::to_string(p.degrade->room_level());
  b += ",\"now_ms\":" + std::to_string(p.clock->NowMs());
  b += ",\"replication\":{\"lag_seconds\":" + std::to_string(lag.lag_seconds);
  b += ",\"link_up\":" + std::string(lag.link_up ? "true" : "false");
  b += ",\"offset_lag_bytes\":" + std::to_string(lag.offset_lag_bytes);
  b += ",\"local_is_master\":" + std::string(lag.local_is_master ? "true" : "false");
  b += ",\"store_epoch\":" + std::to_string(lag.store_epoch);
  b += ",\"repl_offset\":" + std::to_string(lag.repl_offset) + "}";
  b += ",\"processor\":{\"running\":" + std::string(p.processor ? "true" : "false");
  b += ",\"fenced\":" + std::string(p.processor && p.processor->fenced() ? "true" : "false");
  b += ",\"paused\":" + std::string(p.processor && p.processor->paused() ? "true" : "false");
  b += ",\"lag_seconds\":" + std::to_string(p.processor ? p.processor->lag_seconds() : 0.0);
  b += ",\"delay_seconds\":" + std::to_string(p.processor ? p.processor->last_delay_seconds() : -1.0);
  b += ",\"applied\":" + std::to_string(p.processor ? p.processor->applied() : 0);
  auto backlog = p.processor ? p.processor->backlog() : core::Processor::Backlog{};
  b += ",\"backlog\":" + std::to_string(backlog.messages);
  b += ",\"backlog_sampled_at_ms\":" + std::to_string(backlog.sampled_at_ms) + "}";
  b += ",\"cache\":{\"hot_rooms\":" + std::to_string(p.cache ? p.cache->hot_rooms() : 0) + "}";
  b += ",\"lease\":" + p.lease->StatusJson();
  b += ",\"reconcile\":" + p.reconcile_prompt->StatusJson();
  b += "}";
  return b;
}

std::string DegradeJson(Daemon::Parts& p) {
  std::string b = "{\"room\":";
  core::AppendJsonString(b, p.config.room);
  b += ",\"room_level\":" + std::to_string(p.degrade->room_level());
  b += ",\"auto_enabled\":" + std::string(p.degrade->auto_enabled() ? "true" : "false") + ",\"settings\":{";
  bool first = true;
  for (const auto& [field, s] : p.degrade->Table()) {
    if (!first) b += ",";
    first = false;
    core::AppendJsonString(b, field);
    b += ":" + core::EncodeDegradeSetting(s);
  }
  return b + "}}";
}

// The primary room's Redis: where switches are written (it replicates them).
std::unique_ptr<core::RedisClient> PrimaryStore(Daemon::Parts& p) {
  core::RedisOptions o = p.config.redis;
  if (!p.state->active_primary() && !p.config.peer.redis.empty()) o.address = p.config.peer.redis;
  return std::make_unique<core::RedisClient>(o, "live", p.metrics.get());
}

// Reads an optional JSON body of an admin action: {"reason":..., "epoch":..., "force":...}.
struct ActionBody {
  std::string reason = "admin api";
  int64_t epoch = 0;
  bool force = false;
  bool steal = false;     // promote: revoke a live holder's lease (waits out its TTL)
  bool catch_up = false;  // promote: re-ingest from the old primary's Kafka (forced only)
};

core::Result<ActionBody> ParseAction(const HttpRequest& req) {
  ActionBody a;
  if (req.body.empty()) return a;
  try {
    Poco::JSON::Parser parser;
    auto o = parser.parse(req.body).extract<Poco::JSON::Object::Ptr>();
    if (o->has("reason")) a.reason = o->getValue<std::string>("reason");
    if (o->has("epoch")) a.epoch = o->getValue<int64_t>("epoch");
    if (o->has("force")) a.force = o->getValue<bool>("force");
    if (o->has("steal")) a.steal = o->getValue<bool>("steal");
    if (o->has("catch_up")) a.catch_up = o->getValue<bool>("catch_up");
  } catch (const std::exception& e) {
    return core::Status(core::Code::kInvalidArgument, std::string("admin action body: ") + e.what());
  }
  return a;
}

// POST /v1/admin/reconcile body (see replication/reconciler.h):
//   {"kafka": "host:port[,host:port]"   the old primary's Kafka (required)
//    "since_ms": N                      start of the scan (Kafka timestamp, ms)
//    "lookback_ms": N                   default start = this room's last promotion
//                                       time (RoomState, persisted) - this (600000)
//    "topic": "..."                     default: this room's kafka.topic
//    "live_room": "..."                 only this live room
//    "reingest_unknown": bool           also re-ingest ids outside the dedup window
//    "deadline_ms": N, "max_records": N bounds of the run}
constexpr int64_t kDefaultLookbackMs = 600000;

struct ReconcileRequest {
  replication::ReconcileOptions options;
  bool since_given = false;                  // else: promotion time - lookback_ms
  int64_t lookback_ms = kDefaultLookbackMs;
};

core::Result<ReconcileRequest> ParseReconcile(const HttpRequest& req, Daemon::Parts& p) {
  using core::Code;
  using core::Status;
  if (req.body.empty()) return Status(Code::kInvalidArgument, "reconcile needs a JSON body naming the old primary's kafka");
  if (core::JsonNestingDepth(req.body) > 2) return Status(Code::kInvalidArgument, "reconcile body: nested too deep");
  ReconcileRequest r;
  replication::ReconcileOptions& o = r.options;
  o.topic = p.config.kafka.topic;
  o.live_cap = p.config.processor.live_cap;  // sizes the apply script's dedup window (core::SeenWindow)
  int64_t& lookback_ms = r.lookback_ms;
  bool& has_since = r.since_given;
  try {
    Poco::JSON::Parser parser;
    auto v = parser.parse(req.body);
    if (v.type() != typeid(Poco::JSON::Object::Ptr)) return Status(Code::kInvalidArgument, "reconcile body must be a JSON object");
    auto obj = v.extract<Poco::JSON::Object::Ptr>();
    static const std::set<std::string> kKeys = {"kafka", "since_ms", "lookback_ms", "topic", "live_room",
                                                "reingest_unknown", "deadline_ms", "max_records"};
    for (const auto& name : obj->getNames()) {
      if (!kKeys.count(name)) return Status(Code::kInvalidArgument, "reconcile body: unknown field '" + name + "'");
    }
    if (!obj->has("kafka")) return Status(Code::kInvalidArgument, "reconcile body: field 'kafka' (the old primary's bootstrap host:port) is required");
    o.old_brokers = obj->getValue<std::string>("kafka");
    if (obj->has("topic")) o.topic = obj->getValue<std::string>("topic");
    if (obj->has("since_ms")) {
      o.since_ms = obj->getValue<int64_t>("since_ms");
      has_since = true;
    }
    if (obj->has("lookback_ms")) lookback_ms = obj->getValue<int64_t>("lookback_ms");
    if (obj->has("live_room")) o.live_room = obj->getValue<std::string>("live_room");
    if (obj->has("reingest_unknown")) o.reingest_unknown = obj->getValue<bool>("reingest_unknown");
    if (obj->has("deadline_ms")) o.deadline_ms = obj->getValue<int64_t>("deadline_ms");
    if (obj->has("max_records")) o.max_records = obj->getValue<int64_t>("max_records");
  } catch (const std::exception& e) {
    return Status(Code::kInvalidArgument, std::string("reconcile body: ") + e.what());
  }
  auto brokers = core::SplitList(o.old_brokers);
  if (brokers.empty()) return Status(Code::kInvalidArgument, "reconcile body: 'kafka' must be host:port[,host:port]");
  for (const auto& b : brokers) {
    std::string host;
    int port = 0;
    if (!core::SplitHostPort(b, &host, &port) || host.empty() || port <= 0 || port > 65535) {
      return Status(Code::kInvalidArgument, "reconcile body: 'kafka' entry '" + b + "' is not host:port");
    }
    for (const auto& own : core::SplitList(p.config.kafka.brokers)) {
      if (own == b) return Status(Code::kInvalidArgument, "reconcile body: " + b + " is this room's own Kafka, not the old primary's");
    }
  }
  if (o.topic.empty() || o.topic.size() > 249) return Status(Code::kInvalidArgument, "reconcile body: bad 'topic'");
  if (!o.live_room.empty() && !core::IsValidLiveRoom(o.live_room)) {
    return Status(Code::kInvalidArgument, "reconcile body: 'live_room' is not a valid live room id");
  }
  if (has_since && o.since_ms < 0) return Status(Code::kInvalidArgument, "reconcile body: 'since_ms' must be >= 0");
  if (lookback_ms <= 0) return Status(Code::kInvalidArgument, "reconcile body: 'lookback_ms' must be > 0");
  if (o.deadline_ms < 1000 || o.deadline_ms > 600000) {
    return Status(Code::kInvalidArgument, "reconcile body: 'deadline_ms' must be 1000..600000");
  }
  if (o.max_records <= 0) return Status(Code::kInvalidArgument, "reconcile body: 'max_records' must be > 0");
  return r;
}

}  // namespace

core::Result<int64_t> PromoteAndCatchUp(Daemon::Parts& p, const std::string& reason,
                                        const replication::RoleController::PromoteRequest& request, bool catch_up) {
  const bool was_primary = p.state->active_primary();
  auto epoch = p.controller->Promote(reason, request);
  if (!epoch.ok() || was_primary) return epoch;
  p.reconcile_prompt->Clear("this room was promoted (epoch " + std::to_string(*epoch) + ")");
  const bool forced = request.force || request.steal || request.automatic;
  if (forced && !p.config.peer.kafka.empty()) {
    if (catch_up) {
      replication::ReconcileOptions o;
      o.old_brokers = p.config.peer.kafka;
      o.topic = p.config.kafka.topic;
      o.live_cap = p.config.processor.live_cap;
      o.since_ms = std::max<int64_t>(0, p.clock->NowMs() - p.config.ha.catch_up_lookback_ms);
      o.deadline_ms = 15000;
      p.reconcile_prompt->StartCatchUp(p.reconciler.get(), o, p.config.room);
    } else {
      p.reconcile_prompt->Raise(p.config.peer.kafka, p.config.room,
                                "forced promotion without catch-up: the old primary's Kafka may hold acknowledged writes");
    }
  }
  return epoch;
}

std::string RoomStatusJson(Daemon::Parts& p) { return StatusJson(p); }

void RegisterAdminRoutes(Daemon::Parts& p) {
  Daemon::Parts* parts = &p;
  p.admin->Add("GET", "/healthz", false, [parts](const HttpRequest&) {
    std::string b = "{\"status\":\"ok\",\"room\":";
    core::AppendJsonString(b, parts->config.room);
    b += ",\"role\":\"" + std::string(core::RoleName(parts->state->role())) + "\",\"epoch\":" +
         std::to_string(parts->state->epoch()) + "}";
    return HttpResponse::Json(200, b);
  });
  p.admin->Add("GET", "/metrics", false, [parts](const HttpRequest&) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = monitoring::RenderMetrics(*parts->registry, parts->process_collector);
    return r;
  });
  p.admin->Add("GET", "/v1/admin/status", false, [parts](const HttpRequest&) {
    return HttpResponse::Json(200, StatusJson(*parts));
  });
  p.admin->Add("POST", "/v1/admin/freeze", true, [parts](const HttpRequest& req) {
    auto a = ParseAction(req);
    if (!a.ok()) return HttpResponse::Error(a.status());
    if (!parts->state->is_primary()) return HttpResponse::Error(409, "not_primary", "only a primary freezes writes");
    parts->state->SetFrozen(true, a->reason);
    return HttpResponse::Json(200, StatusJson(*parts));
  });
  p.admin->Add("POST", "/v1/admin/unfreeze", true, [parts](const HttpRequest& req) {
    auto a = ParseAction(req);
    if (!a.ok()) return HttpResponse::Error(a.status());
    parts->state->SetFrozen(false, a->reason);
    return HttpResponse::Json(200, StatusJson(*parts));
  });
  p.admin->Add("POST", "/v1/admin/promote", true, [parts](const HttpRequest& req) {
    auto a = ParseAction(req);
    if (!a.ok()) return HttpResponse::Error(a.status());
    // A promotion records its time in the room state (the default start of
    // a reconciliation scan), persisted with the epoch.
    replication::RoleController::PromoteRequest request;
    request.force = a->force;
    request.steal = a->steal;
    auto epoch = PromoteAndCatchUp(*parts, a->reason, request, a->catch_up);
    if (!epoch.ok()) {
      // A refusal by the lease (another room holds or renews the key) is a
      // conflict the operator resolves; etcd down is a retryable 503.
      if (epoch.status().code() == core::Code::kFencedEpoch) {
        return HttpResponse::Error(409, "lease_held", epoch.status().message());
      }
      return HttpResponse::Error(epoch.status());
    }
    return HttpResponse::Json(200, StatusJson(*parts));
  });
  p.admin->Add("POST", "/v1/admin/demote", true, [parts](const HttpRequest& req) {
    auto a = ParseAction(req);
    if (!a.ok()) return HttpResponse::Error(a.status());
    if (a->epoch <= 0) return HttpResponse::Error(400, "invalid_argument", "demote needs the new primary's epoch");
    auto s = parts->controller->Demote(a->epoch, a->reason);
    if (!s.ok()) return HttpResponse::Error(s);
    return HttpResponse::Json(200, StatusJson(*parts));
  });
  // Degradation: settings go to the primary room's Redis (replicated to the
  // other room); GET shows what this room sees.
  p.admin->Add("GET", "/v1/admin/degrade", false, [parts](const HttpRequest&) {
    return HttpResponse::Json(200, DegradeJson(*parts));
  });
  p.admin->Add("POST", "/v1/admin/degrade", true, [parts](const HttpRequest& req) {
    core::DegradeSetting s;
    std::string field;
    try {
      Poco::JSON::Parser parser;
      auto o = parser.parse(req.body).extract<Poco::JSON::Object::Ptr>();
      s.level = o->getValue<int>("level");
      std::string scope = o->has("scope") ? o->getValue<std::string>("scope") : "all";
      std::string stream = o->has("stream") ? o->getValue<std::string>("stream") : "";
      std::string room = o->has("room") ? o->getValue<std::string>("room") : parts->config.room;
      int64_t for_s = o->has("for_s") ? o->getValue<int64_t>("for_s") : 0;
      s.reason = o->has("reason") ? o->getValue<std::string>("reason") : "";
      if (s.level < 0 || s.level > 3) return HttpResponse::Error(400, "invalid_argument", "level must be 0..3");
      if (!stream.empty()) scope = "stream";
      if (scope == "all") field = "all";
      else if (scope == "room") field = "room:" + room;
      else if (scope == "stream" && core::IsValidLiveRoom(stream)) field = "stream:" + stream;
      else return HttpResponse::Error(400, "invalid_argument", "scope must be all, room, or stream with a valid stream id");
      if (for_s <= 0) for_s = parts->config.degrade.default_for_s;
      s.set_at_ms = parts->clock->NowMs();
      s.expires_at_ms = s.set_at_ms + for_s * 1000;
      s.source = "manual";
    } catch (const std::exception& e) {
      return HttpResponse::Error(400, "invalid_argument", std::string("degrade body: ") + e.what());
    }
    auto store = PrimaryStore(*parts);
    core::Status st = s.level == 0 ? core::DegradeWatcher::Clear(*store, field, "manual", parts->metrics.get(), parts->config.room)
                                   : core::DegradeWatcher::Write(*store, field, s, parts->metrics.get(), parts->config.room);
    if (!st.ok()) return HttpResponse::Error(st);
    (void)parts->degrade->Refresh();  // stored either way; the answer shows the last round
    return HttpResponse::Json(200, DegradeJson(*parts));
  });
  p.admin->Add("POST", "/v1/admin/degrade/clear", true, [parts](const HttpRequest& req) {
    std::vector<std::string> fields;
    try {
      Poco::JSON::Parser parser;
      auto o = req.body.empty() ? Poco::JSON::Object::Ptr(new Poco::JSON::Object)
                                : parser.parse(req.body).extract<Poco::JSON::Object::Ptr>();
      std::string scope = o->has("scope") ? o->getValue<std::string>("scope") : "all";
      std::string stream = o->has("stream") ? o->getValue<std::string>("stream") : "";
      if (!stream.empty()) fields = {"stream:" + stream};
      else if (scope == "room") fields = {"room:" + (o->has("room") ? o->getValue<std::string>("room") : parts->config.room)};
      else {
        // Fleet-wide clear: every manual setting.
        for (const auto& [f, setting] : parts->degrade->Table()) {
          if (f != "auto") fields.push_back(f);
        }
      }
    } catch (const std::exception& e) {
      return HttpResponse::Error(400, "invalid_argument", std::string("degrade clear body: ") + e.what());
    }
    auto store = PrimaryStore(*parts);
    for (const auto& f : fields) {
      auto st = core::DegradeWatcher::Clear(*store, f, "manual", parts->metrics.get(), parts->config.room);
      if (!st.ok()) return HttpResponse::Error(st);
    }
    (void)parts->degrade->Refresh();  // as above
    return HttpResponse::Json(200, DegradeJson(*parts));
  });
  p.admin->Add("POST", "/v1/admin/degrade/auto", true, [parts](const HttpRequest& req) {
    bool enabled = req.body.find("true") != std::string::npos;
    parts->degrade->SetAuto(enabled);
    return HttpResponse::Json(200, DegradeJson(*parts));
  });
  // Drill hooks: pause/resume this room's processor (Kafka lag builds).
  p.admin->Add("POST", "/v1/admin/processor/pause", true, [parts](const HttpRequest&) {
    if (!parts->processor) return HttpResponse::Error(409, "no_processor", "this danmud runs no processor");
    parts->processor->SetPaused(true);
    return HttpResponse::Json(200, StatusJson(*parts));
  });
  p.admin->Add("POST", "/v1/admin/processor/resume", true, [parts](const HttpRequest&) {
    if (!parts->processor) return HttpResponse::Error(409, "no_processor", "this danmud runs no processor");
    parts->processor->SetPaused(false);
    return HttpResponse::Json(200, StatusJson(*parts));
  });
  // Reconciliation (DESIGN §8): re-ingest what the old primary's Kafka
  // acknowledged and this room lacks. Synchronous, bounded by deadline_ms;
  // only the active, unfrozen primary runs it (its write path is the target).
  p.admin->Add("POST", "/v1/admin/reconcile", true, [parts](const HttpRequest& req) {
    auto r = ParseReconcile(req, *parts);
    if (!r.ok()) return HttpResponse::Error(r.status());
    replication::ReconcileOptions& o = r->options;
    if (!parts->state->active_primary() || parts->state->frozen()) {
      return HttpResponse::Error(409, "not_primary",
                                 "reconciliation runs on the active, unfrozen primary (this room is " +
                                     std::string(core::RoleName(parts->state->role())) +
                                     (parts->state->frozen() ? ", frozen" : "") +
                                     (parts->state->confirmed() ? "" : ", unconfirmed") + ")");
    }
    if (!r->since_given) {
      // The last promotion, as persisted in the room's state file: known
      // across danmud restarts; unknown for a room that is primary by its
      // config or whose state file predates the field.
      const int64_t promoted = parts->state->promoted_at_ms();
      if (promoted <= 0) {
        return HttpResponse::Error(400, "invalid_argument",
                                   "reconcile body: 'since_ms' is required: this room's promotion time is unknown "
                                   "(never promoted, primary by its config, or promoted before its state file "
                                   "recorded the time)");
      }
      o.since_ms = std::max<int64_t>(0, promoted - r->lookback_ms);
    }
    auto rep = parts->reconciler->Run(o);
    if (!rep.ok()) return HttpResponse::Error(rep.status());
    if (rep->ExitCode() == 0 && o.live_room.empty()) parts->reconcile_prompt->Clear("reconciled from " + o.old_brokers);
    return HttpResponse::Json(200, rep->ToJson());
  });
  // Clears the "reconciliation may be needed" prompt (danmuctl reconcile
  // calls it on both rooms after a complete run).
  p.admin->Add("POST", "/v1/admin/reconcile/clear", true, [parts](const HttpRequest& req) {
    auto a = ParseAction(req);
    if (!a.ok()) return HttpResponse::Error(a.status());
    parts->reconcile_prompt->Clear(a->reason);
    return HttpResponse::Json(200, StatusJson(*parts));
  });
  p.admin->Add("POST", "/v1/admin/ingest", true, [parts](const HttpRequest& req) {
    if (!parts->frontend) return HttpResponse::Error(503, "unavailable", "this danmud runs no frontend");
    if (!parts->state->active_primary()) {
      return HttpResponse::Error(core::Status(core::Code::kUnavailable, "this room is not the primary"));
    }
    return parts->frontend->HandleIngest(req);
  });
}

}  // namespace danmu::cmd
