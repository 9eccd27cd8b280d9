#pragma once
// The components of a running danmud (private to cmd/danmud).
#include <atomic>
#include <memory>

#include "cmd/danmud/daemon.h"
#include "core/http/admin_router.h"
#include "core/base/clock.h"
#include "core/degrade/degrade_admin.h"
#include "core/degrade/degrade_watcher.h"
#include "core/api/frontend.h"
#include "core/http/http_server.h"
#include "core/store/kafka_producer.h"
#include "core/base/metrics.h"
#include "core/base/work_pool.h"
#include "edge/server.h"
#include "core/live/processor.h"
#include "core/read/room_cache.h"
#include "core/live/write_route.h"
#include "monitoring/probe.h"
#include "monitoring/status_board.h"
#include "replication/heartbeat.h"
#include "replication/primary_lease.h"
#include "replication/primary_redis.h"
#include "replication/read_fallback.h"
#include "replication/reconcile_prompt.h"
#include "replication/reconcile_request.h"
#include "replication/reconciler.h"
#include "replication/role_action.h"
#include "replication/role_controller.h"
#include "replication/role_write_route.h"
#include "replication/room_state.h"
#include "replication/room_status.h"

namespace danmu::cmd {

struct Daemon::Parts {
  core::Config config;
  const core::Clock* clock = &core::SystemClock::Instance();
  std::string admin_token;
  std::shared_ptr<prometheus::Registry> registry;
  std::shared_ptr<prometheus::Collectable> process_collector;
  std::unique_ptr<core::Metrics> metrics;
  std::unique_ptr<replication::RoomState> state;
  std::unique_ptr<core::KafkaProducer> producer;
  std::unique_ptr<core::KafkaWriteRoute> kafka_route;
  std::unique_ptr<core::ForwardWriteRoute> forward_route;
  // Runs the secondary's blocking forwards off the edge's I/O threads
  // (edge.blocking_workers threads, edge.blocking_queue waiting). Declared
  // after forward_route: destroyed (joined) before it.
  std::unique_ptr<core::WorkPool> forward_pool;
  std::unique_ptr<replication::RoleWriteRoute> write_route;
  std::unique_ptr<core::RoomCache> cache;
  std::unique_ptr<core::Frontend> frontend;
  std::unique_ptr<core::Processor> processor;
  std::unique_ptr<replication::HeartbeatTracker> heartbeat;
  std::unique_ptr<replication::RoleController> controller;
  // The primary lease in etcd (fences acknowledgements) and the
  // reconciliation prompt / catch-up after role changes.
  std::unique_ptr<replication::PrimaryLease> lease;
  std::unique_ptr<replication::ReconcilePrompt> reconcile_prompt;
  std::unique_ptr<replication::StaleReadFallback> fallback;
  std::unique_ptr<core::DegradeWatcher> degrade;
  std::unique_ptr<core::DegradeAdmin> degrade_admin;
  std::unique_ptr<monitoring::Probe> probe;
  // Re-ingests what a lost primary's Kafka acknowledged (POST /v1/admin/reconcile).
  std::unique_ptr<replication::Reconciler> reconciler;
  bool restarted_as_primary = false;
  std::unique_ptr<core::AdminRouter> admin;
  std::unique_ptr<edge::Server> public_server;  // the event-driven public port (edge/)
  std::unique_ptr<core::HttpServer> admin_server;

  // --- archive and replay (archive_wiring.cc) ---
  // The archiver (component "archiver", acts only while primary) and the
  // replay store + API (with the frontend when replay_redis is set). The
  // struct is defined in archive_wiring.cc; shared_ptr keeps this header free
  // of their includes (its deleter is bound where the struct is complete).
  std::shared_ptr<struct ArchiveParts> archive;
  // --- end archive and replay ---

  // The status page's aggregate (GET /v1/status; pages_wiring.cc).
  std::unique_ptr<monitoring::StatusBoard> status_board;

  std::shared_ptr<struct PushParts> push;  // push_wiring.cc; null without a frontend

  // --- routing (routing_wiring.cc): GET /v1/route, this frontend's
  // registration in etcd, /v1/admin/route. Defined there, like ArchiveParts.
  std::shared_ptr<struct RoutingParts> routing;
  // Set on SIGTERM before anything stops: the registration says draining
  // and is revoked, so routers stop handing this frontend out.
  std::atomic<bool> draining{false};
  // Open public connections, HTTP and long ones, as the edge counts them
  // (edge/connection_limits.h): what routers balance on; 0 without a frontend.
  int64_t PublicConnections() const { return public_server ? public_server->open_connections() : 0; }
};

// Promotes this room through the controller (and so the lease); with
// catch_up, re-ingests in the background what the old primary's Kafka
// acknowledged (replication/reconcile_prompt.h). admin_api.cc.
core::Result<int64_t> PromoteAndCatchUp(Daemon::Parts& parts, const std::string& reason,
                                        const replication::RoleController::PromoteRequest& request, bool catch_up);
// Registers every admin route (admin_api.cc).
void RegisterAdminRoutes(Daemon::Parts& parts);
// Builds the archiver and replay store when configured and sets the
// frontend hooks they need (archive_wiring.cc). Called before the frontend
// is built; StartArchive/StopArchive around the daemon's lifetime.
// `hooks` null: a process without the frontend (the archiver alone, no replay).
core::Status WireArchive(Daemon::Parts& parts, core::FrontendHooks* hooks);
void StartArchive(Daemon::Parts& parts);
// GET/POST /v1/admin/archive (archive_wiring.cc).
void RegisterArchiveRoutes(Daemon::Parts& parts);
void StopArchive(Daemon::Parts& parts);
// This room's GET /v1/admin/status body (admin_api.cc).
std::string RoomStatusJson(Daemon::Parts& parts);
// Loads the pages (web.static_dir) and builds the status board; sets the
// frontend hooks that serve them (pages_wiring.cc). Before the frontend.
core::Status WirePages(Daemon::Parts& parts, core::FrontendHooks* hooks);
void StartPages(Daemon::Parts& parts);
void StopPages(Daemon::Parts& parts);
// The routing service (routing_wiring.cc): wired before the frontend (sets
// hooks->route), admin routes with the others, started last, and on
// shutdown deregistered first (drain), stopped after the public server.
core::Status WireRouting(Daemon::Parts& parts, core::FrontendHooks* hooks);
void RegisterRoutingRoutes(Daemon::Parts& parts);
void StartRouting(Daemon::Parts& parts);
void DrainRouting(Daemon::Parts& parts);
// After an operator's undrain: register again (within routing.register_interval_ms).
void UndrainRouting(Daemon::Parts& parts);
void StopRouting(Daemon::Parts& parts);
// The status section of the router (rule set, edges, own registration);
// empty without a router.
std::function<replication::RoomStatus::RoutingStatus()> RoutingStatusSource(Daemon::Parts& parts);

// Push fan-out (push_wiring.cc): the hub on the frontend's cache, its
// WebSocket and SSE handlers on the public server (after it is built), the
// admin routes GET/POST /v1/admin/push, and the "push" part of the status.
core::Status WirePush(Daemon::Parts& parts);
void StartPush(Daemon::Parts& parts);
void StopPush(Daemon::Parts& parts);
void RegisterPushRoutes(Daemon::Parts& parts);
std::string PushStatusJson(Daemon::Parts& parts);
// Fills the "push" section of GET /v1/admin/status; empty without push.
std::function<void(replication::RoomStatus::PushStatus*)> PushStatusSource(Daemon::Parts& parts);
// For the router (routing_wiring.cc): whether this danmud serves long
// connections right now (push.enabled and the "move to polling" switch off),
// and how many it holds. Any thread.
bool PushServing(Daemon::Parts& parts);
int64_t PushConnections(Daemon::Parts& parts);
// SIGTERM: the hub drains over push.drain_spread_ms, and shutdown waits
// until every long connection is gone or the spread (plus a second) passed.
void DrainPushAndWait(Daemon::Parts& parts);
// Open long connections by transport ("ws", "sse"), as the hub last counted
// them (its 1 s sweep); nullopt without push. For the status page.
std::optional<std::map<std::string, int64_t>> PushConnectionsByTransport(Daemon::Parts& parts);

}  // namespace danmu::cmd
