// Admin routes of danmud: translate HTTP to calls on the room's components.
#include "cmd/danmud/parts.h"
#include "core/base/json_text.h"

#include "monitoring/process_metrics.h"

namespace danmu::cmd {

using core::HttpRequest;
using core::HttpResponse;

namespace {

std::string StatusJson(Daemon::Parts& p) {
  replication::RoomStatusSources src;
  src.room = p.config.room;
  src.state = p.state.get();
  src.heartbeat = p.heartbeat.get();
  src.frontend = p.frontend.get();
  src.processor = p.processor.get();
  src.cache = p.cache.get();
  src.degrade = p.degrade.get();
  src.clock = p.clock;
  src.lease = p.lease.get();
  src.reconcile_prompt = p.reconcile_prompt.get();
  replication::StaleReadFallback* fallback = p.fallback.get();
  src.reading_from_peer = [fallback] { return fallback && fallback->reading_from_peer(); };
  if (edge::Server* server = p.public_server.get()) {
    src.edge_connections = [server] { return server->open_connections(); };
    src.edge_requests_in_flight = [server] { return server->requests_in_flight(); };
  }
  src.push = PushStatusSource(p);
  src.routing = RoutingStatusSource(p);
  return replication::CollectRoomStatus(src).ToJson();
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
    auto a = replication::ParseRoleAction(req.body);
    if (!a.ok()) return HttpResponse::Error(a.status());
    if (!parts->state->is_primary()) return HttpResponse::Error(409, "not_primary", "only a primary freezes writes");
    parts->state->SetFrozen(true, a->reason);
    return HttpResponse::Json(200, StatusJson(*parts));
  });
  p.admin->Add("POST", "/v1/admin/unfreeze", true, [parts](const HttpRequest& req) {
    auto a = replication::ParseRoleAction(req.body);
    if (!a.ok()) return HttpResponse::Error(a.status());
    parts->state->SetFrozen(false, a->reason);
    return HttpResponse::Json(200, StatusJson(*parts));
  });
  p.admin->Add("POST", "/v1/admin/promote", true, [parts](const HttpRequest& req) {
    auto a = replication::ParseRoleAction(req.body);
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
    auto a = replication::ParseRoleAction(req.body);
    if (!a.ok()) return HttpResponse::Error(a.status());
    if (a->epoch <= 0) return HttpResponse::Error(400, "invalid_argument", "demote needs the new primary's epoch");
    auto s = parts->controller->Demote(a->epoch, a->reason);
    if (!s.ok()) return HttpResponse::Error(s);
    return HttpResponse::Json(200, StatusJson(*parts));
  });
  // Degradation (core/degrade/degrade_admin.h): settings go to the primary
  // room's Redis (replicated to the other room); GET shows what this room sees.
  core::DegradeAdmin* degrade = parts->degrade_admin.get();
  p.admin->Add("GET", "/v1/admin/degrade", false, [degrade](const HttpRequest& r) { return degrade->Get(r); });
  p.admin->Add("POST", "/v1/admin/degrade", true, [degrade](const HttpRequest& r) { return degrade->Set(r); });
  p.admin->Add("POST", "/v1/admin/degrade/clear", true, [degrade](const HttpRequest& r) { return degrade->Clear(r); });
  p.admin->Add("POST", "/v1/admin/degrade/auto", true, [degrade](const HttpRequest& r) { return degrade->Auto(r); });
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
    replication::ReconcileDefaults defaults;
    defaults.topic = parts->config.kafka.topic;
    defaults.live_cap = parts->config.processor.live_cap;
    defaults.own_brokers = parts->config.kafka.brokers;
    auto r = replication::ParseReconcileRequest(req.body, defaults);
    if (!r.ok()) return HttpResponse::Error(r.status());
    if (!parts->state->active_primary() || parts->state->frozen()) {
      return HttpResponse::Error(409, "not_primary",
                                 "reconciliation runs on the active, unfrozen primary (this room is " +
                                     std::string(core::RoleName(parts->state->role())) +
                                     (parts->state->frozen() ? ", frozen" : "") +
                                     (parts->state->confirmed() ? "" : ", unconfirmed") + ")");
    }
    if (auto s = replication::ResolveScanStart(&*r, parts->state->promoted_at_ms()); !s.ok()) return HttpResponse::Error(s);
    auto rep = parts->reconciler->Run(r->options);
    if (!rep.ok()) return HttpResponse::Error(rep.status());
    if (rep->ExitCode() == 0 && r->options.live_room.empty()) parts->reconcile_prompt->Clear("reconciled from " + r->options.old_brokers);
    return HttpResponse::Json(200, rep->ToJson());
  });
  // Clears the "reconciliation may be needed" prompt (danmuctl reconcile
  // calls it on both rooms after a complete run).
  p.admin->Add("POST", "/v1/admin/reconcile/clear", true, [parts](const HttpRequest& req) {
    auto a = replication::ParseRoleAction(req.body);
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
