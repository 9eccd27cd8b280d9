// Admin routes of danmud: translate HTTP to calls on the room's components.
#include "cmd/danmud/parts.h"
#include "core/json_text.h"
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
  b += ",\"replication\":{\"lag_seconds\":" + std::to_string(lag.lag_seconds);
  b += ",\"link_up\":" + std::string(lag.link_up ? "true" : "false");
  b += ",\"offset_lag_bytes\":" + std::to_string(lag.offset_lag_bytes);
  b += ",\"local_is_master\":" + std::string(lag.local_is_master ? "true" : "false");
  b += ",\"store_epoch\":" + std::to_string(lag.store_epoch) + "}";
  b += ",\"processor\":{\"running\":" + std::string(p.processor ? "true" : "false");
  b += ",\"fenced\":" + std::string(p.processor && p.processor->fenced() ? "true" : "false");
  b += ",\"applied\":" + std::to_string(p.processor ? p.processor->applied() : 0) + "}";
  b += ",\"cache\":{\"hot_rooms\":" + std::to_string(p.cache ? p.cache->hot_rooms() : 0) + "}";
  b += "}";
  return b;
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
  p.admin->Add("POST", "/v1/admin/ingest", true, [parts](const HttpRequest& req) {
    if (!parts->frontend) return HttpResponse::Error(503, "unavailable", "this danmud runs no frontend");
    if (!parts->state->is_primary()) {
      return HttpResponse::Error(core::Status(core::Code::kUnavailable, "this room is not the primary"));
    }
    return parts->frontend->HandleIngest(req);
  });
}

}  // namespace danmu::cmd
