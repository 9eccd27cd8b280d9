// Push fan-out wiring (DESIGN §12): the hub reads the frontend's cache,
// listens to its refreshes, sees the degradation switches and the fleet-wide
// "move to polling" switch (field "push" of the degrade hash), and its two
// transports are registered on the public edge server.
#include <chrono>
#include <limits>
#include <thread>

#include "cmd/danmud/parts.h"
#include "core/api/edge_drain_request.h"
#include "core/api/push_hub.h"
#include "core/base/log.h"
#include "edge/sse_session.h"
#include "edge/upgrade.h"
#include "edge/ws_session.h"

namespace danmu::cmd {

using core::HttpRequest;
using core::HttpResponse;

namespace {
constexpr const char* kPushField = core::kPushPollOnlyField;

bool PollOnly(const core::DegradeTable& table, int64_t now_ms) {
  auto it = table.find(kPushField);
  return it != table.end() && it->second.level > 0 && it->second.expires_at_ms > now_ms;
}
}  // namespace

// Shared with the transport sessions, which may be destroyed after these parts.
struct PushParts {
  std::shared_ptr<core::PushMetrics> metrics;
  std::shared_ptr<core::PushHub> hub;
};

core::Status WirePush(Daemon::Parts& p) {
  if (!p.frontend || !p.cache || !p.public_server) return core::Status::Ok();
  auto push = std::make_shared<PushParts>();
  push->metrics = std::make_shared<core::PushMetrics>(p.metrics->registry(), p.config.room);
  core::PushHubHooks hooks;
  core::DegradeWatcher* degrade = p.degrade.get();
  const core::Clock* clock = p.clock;
  hooks.degrade = [degrade](const std::string& live_room) { return degrade->View(live_room); };
  hooks.poll_only = [degrade, clock] { return PollOnly(degrade->Table(), clock->NowMs()); };
  core::Frontend* fe = p.frontend.get();
  hooks.presence = [fe](const std::string& live_room, const std::string& uid) { fe->NotePresence(live_room, uid); };
  push->hub = std::make_shared<core::PushHub>(p.config, p.cache.get(), &p.frontend->cursors(), std::move(hooks),
                                              *p.clock, push->metrics.get());
  core::PushHub* hub = push->hub.get();
  p.cache->SetRefreshListener([hub](const std::vector<core::RefreshNote>& notes) { hub->OnRefresh(notes); });
  edge::PushSessionContext sessions;
  sessions.hub = push->hub;
  sessions.metrics = push->metrics;
  sessions.options = p.config.push;
  sessions.admin_token = p.admin_token;
  edge::RegisterWebSocket(p.public_server->upgrades(), sessions);
  edge::RegisterSse(p.public_server->upgrades(), sessions);
  p.push = push;
  return core::Status::Ok();
}

void StartPush(Daemon::Parts& p) {
  if (p.push) p.push->hub->Start();
}

void StopPush(Daemon::Parts& p) {
  if (p.push) p.push->hub->Stop();
}

std::string PushStatusJson(Daemon::Parts& p) {
  if (!p.push) return "{\"enabled\":false}";
  return p.push->hub->StatusJson(50);  // the biggest 50 rooms
}

std::function<void(replication::RoomStatus::PushStatus*)> PushStatusSource(Daemon::Parts& p) {
  if (!p.push) return {};
  std::shared_ptr<core::PushHub> hub = p.push->hub;
  const bool enabled = p.config.push.enabled;
  return [hub, enabled](replication::RoomStatus::PushStatus* s) {
    s->enabled = enabled;
    s->poll_only = hub->poll_only();
    s->connections = hub->connections();
    int64_t broadcast = 0;
    for (const auto& r : hub->Rooms(std::numeric_limits<size_t>::max())) broadcast += r.mode == core::FanoutMode::kBroadcast;
    s->broadcast_rooms = broadcast;
  };
}

void RegisterPushRoutes(Daemon::Parts& p) {
  Daemon::Parts* parts = &p;
  p.admin->Add("GET", "/v1/admin/push", false, [parts](const HttpRequest&) {
    return HttpResponse::Json(200, PushStatusJson(*parts));
  });
  // {"poll_only":true|false,"for_s":N,"reason":"..."}: written to the primary
  // room's Redis (replicated), seen by every frontend within degrade.watch_ms.
  p.admin->Add("POST", "/v1/admin/push", true, [parts](const HttpRequest& req) {
    auto c = core::ParsePushPollOnly(req.body, parts->config.degrade.default_for_s, parts->clock->NowMs());
    if (!c.ok()) return HttpResponse::Error(c.status());
    core::RedisOptions o = parts->config.redis;
    if (!parts->state->active_primary() && !parts->config.peer.redis.empty()) o.address = parts->config.peer.redis;
    core::RedisClient store(o, "live", parts->metrics.get());
    core::Status st = c->setting.level > 0
                          ? core::DegradeWatcher::Write(store, c->field, c->setting, parts->metrics.get(), parts->config.room)
                          : core::DegradeWatcher::Clear(store, c->field, "manual", parts->metrics.get(), parts->config.room);
    if (!st.ok()) return HttpResponse::Error(st);
    (void)parts->degrade->Refresh();  // stored either way; the hub sees it at its next round
    return HttpResponse::Json(200, PushStatusJson(*parts));
  });
  // {"draining":true,"over_ms":N} | {"draining":false} (danmuctl edge drain
  // | undrain): this frontend leaves the routers' lists first (its etcd
  // registration is revoked), then closes its long connections with 1001
  // ("reconnect elsewhere") evenly over N ms and refuses new ones; polls and
  // writes are still served. Undrain registers again and accepts again.
  p.admin->Add("POST", "/v1/admin/edge/drain", true, [parts](const HttpRequest& req) {
    auto d = core::ParseEdgeDrain(req.body, parts->config.push.drain_spread_ms);
    if (!d.ok()) return HttpResponse::Error(d.status());
    core::LogWarn(d->draining ? "edge_drain_requested" : "edge_undrain_requested",
                  {{"over_ms", std::to_string(d->over_ms)}, {"long_connections", std::to_string(PushConnections(*parts))}});
    if (d->draining) {
      DrainRouting(*parts);
      if (parts->push) parts->push->hub->Drain(d->over_ms);
    } else {
      if (parts->push) parts->push->hub->Undrain();
      UndrainRouting(*parts);
    }
    return HttpResponse::Json(200, "{\"draining\":" + std::string(d->draining ? "true" : "false") +
                                       ",\"over_ms\":" + std::to_string(d->draining ? d->over_ms : 0) +
                                       ",\"long_connections\":" + std::to_string(PushConnections(*parts)) + "}");
  });
}

void DrainPushAndWait(Daemon::Parts& p) {
  if (!p.push || p.push->hub->connections() == 0) return;
  const int64_t spread = p.config.push.drain_spread_ms;
  p.push->hub->Drain(spread);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(spread + 1000);
  while (p.push->hub->connections() > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

bool PushServing(Daemon::Parts& p) { return p.push && p.config.push.enabled && !p.push->hub->poll_only(); }

int64_t PushConnections(Daemon::Parts& p) { return p.push ? static_cast<int64_t>(p.push->hub->connections()) : 0; }

std::optional<std::map<std::string, int64_t>> PushConnectionsByTransport(Daemon::Parts& p) {
  if (!p.push) return std::nullopt;
  // danmu_push_connections{transport, class}: set by the hub's sweep (every second).
  std::map<std::string, int64_t> by{{"ws", 0}, {"sse", 0}};
  for (const auto& mf : p.push->metrics->connections.Collect()) {
    for (const auto& m : mf.metric) {
      for (const auto& l : m.label) {
        if (l.name == "transport") by[l.value] += static_cast<int64_t>(m.gauge.value);
      }
    }
  }
  return by;
}

}  // namespace danmu::cmd
