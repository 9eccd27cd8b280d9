// Admin routes of danmud: translate HTTP to calls on the room's components.
#include "cmd/danmud/parts.h"
#include "core/json_text.h"
#include "core/validation.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
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
  b += ",\"applied\":" + std::to_string(p.processor ? p.processor->applied() : 0);
  auto backlog = p.processor ? p.processor->backlog() : core::Processor::Backlog{};
  b += ",\"backlog\":" + std::to_string(backlog.messages);
  b += ",\"backlog_sampled_at_ms\":" + std::to_string(backlog.sampled_at_ms) + "}";
  b += ",\"cache\":{\"hot_rooms\":" + std::to_string(p.cache ? p.cache->hot_rooms() : 0) + "}";
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
  } catch (const std::exception& e) {
    return core::Status(core::Code::kInvalidArgument, std::string("admin action body: ") + e.what());
  }
  return a;
}

}  // namespace

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
    auto epoch = parts->controller->Promote(a->reason, a->force);
    if (!epoch.ok()) return HttpResponse::Error(epoch.status());
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
    parts->degrade->Tick();
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
    parts->degrade->Tick();
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
  p.admin->Add("POST", "/v1/admin/ingest", true, [parts](const HttpRequest& req) {
    if (!parts->frontend) return HttpResponse::Error(503, "unavailable", "this danmud runs no frontend");
    if (!parts->state->active_primary()) {
      return HttpResponse::Error(core::Status(core::Code::kUnavailable, "this room is not the primary"));
    }
    return parts->frontend->HandleIngest(req);
  });
}

}  // namespace danmu::cmd
