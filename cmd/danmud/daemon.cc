#include "cmd/danmud/daemon.h"

#include <algorithm>
#include <cstdlib>
#include <unistd.h>

#include "cmd/danmud/parts.h"
#include "core/base/log.h"
#include "monitoring/process_metrics.h"

namespace danmu::cmd {

using core::Code;
using core::Status;

namespace {
// Identifies this danmud in the leader key: room, host, pid, start time.
std::string DanmudId(const core::Config& c) {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  return c.room + "/" + host + "/" + std::to_string(::getpid()) + "/" + std::to_string(core::SystemClock::Instance().NowMs());
}
}  // namespace

core::Result<std::unique_ptr<Daemon>> Daemon::Create(core::Config config) {
  std::unique_ptr<Daemon> d(new Daemon());
  d->parts_ = std::make_unique<Parts>();
  Parts& p = *d->parts_;
  p.config = std::move(config);
  const core::Config& c = p.config;

  if (!c.admin.token_file.empty()) {
    auto token = core::ReadSecretFile(c.admin.token_file);
    if (!token.ok()) return Status(Code::kInvalidArgument, "config key 'admin.token_file': " + token.status().message());
    p.admin_token = *token;
  }
  std::string cursor_secret;
  if (c.Runs("frontend")) {
    if (c.cursor.secret_file.empty()) return Status(Code::kInvalidArgument, "config key 'cursor.secret_file': is required with the frontend component");
    auto secret = core::ReadSecretFile(c.cursor.secret_file);
    if (!secret.ok()) return Status(Code::kInvalidArgument, "config key 'cursor.secret_file': " + secret.status().message());
    cursor_secret = *secret;
  }

  p.registry = std::make_shared<prometheus::Registry>();
  p.process_collector = monitoring::MakeProcessCollector();
  p.metrics = std::make_unique<core::Metrics>(p.registry, c.room);
  monitoring::RegisterBuildInfo(*p.registry, c.room, core::RoleName(c.role));

  // Runtime role and epoch survive restarts; the config gives the first ones.
  std::string state_file = c.run_dir + "/room-" + c.room + ".state";
  core::Role role = c.role;
  int64_t epoch = 1;
  bool had_state = replication::LoadRoomState(state_file, &role, &epoch);
  p.restarted_as_primary = had_state && role == core::Role::kPrimary;
  p.state = std::make_unique<replication::RoomState>(c.room, state_file, role, epoch);
  if (Status s = p.state->Save(); !s.ok()) return Status(Code::kInvalidArgument, "config key 'run_dir': " + s.message());
  p.state->AttachMetrics(p.metrics.get());
  p.controller = std::make_unique<replication::RoleController>(p.config, p.state.get());
  {
    // The primary lease: taken by promotions, renewed while primary, checked
    // at every acknowledgement (replication/primary_lease.h).
    std::unique_ptr<core::EtcdClient> etcd;
    if (!c.etcd.endpoints.empty()) etcd = std::make_unique<core::EtcdClient>(core::SplitList(c.etcd.endpoints), c.etcd.timeout_ms);
    replication::LeaseHooks lh;
    replication::RoomState* state = p.state.get();
    replication::RoleController* controller = p.controller.get();
    Parts* parts = &p;
    lh.wants_lease = [state] { return state->active_primary() && !state->frozen(); };
    lh.is_primary = [state] { return state->is_primary(); };
    lh.epoch = [state] { return state->epoch(); };
    lh.repl_offset = [parts] { return parts->heartbeat ? parts->heartbeat->Latest().repl_offset : 0; };
    lh.on_lost = [controller](int64_t epoch, const std::string& holder, const std::string& why) {
      controller->OnLeaseLost(epoch, holder, why);
    };
    lh.on_auto_failover = [parts](const std::string& why) { PromoteAndCatchUp(*parts, why, {false, false, true}, true); };
    p.lease = std::make_unique<replication::PrimaryLease>(p.config, std::move(etcd), DanmudId(c), replication::BootClock::Instance(),
                                                          p.metrics.get(), std::move(lh));
    p.controller->SetLease(p.lease.get());
    p.reconcile_prompt = std::make_unique<replication::ReconcilePrompt>(c.room, *p.clock, p.metrics.get());
    p.controller->OnSelfDemotion([parts](const std::string& why) {
      parts->reconcile_prompt->Raise(parts->config.kafka.brokers, parts->config.peer.room,
                                     "this room demoted itself (" + why + "): its Kafka may hold acknowledged writes never applied");
    });
  }

  auto producer = core::KafkaProducer::Create(c.kafka, p.metrics.get());
  if (!producer.ok()) return producer.status();
  p.producer = std::move(*producer);
  p.kafka_route = std::make_unique<core::KafkaWriteRoute>(p.producer.get());
  p.forward_route = std::make_unique<core::ForwardWriteRoute>(core::SplitList(c.peer.admin_url), p.admin_token,
                                                              c.kafka.produce_timeout_ms + 2000, p.metrics.get());
  p.forward_pool = std::make_unique<core::WorkPool>("forward", c.edge.blocking_workers, c.edge.blocking_queue);
  p.forward_route->SetPool(p.forward_pool.get());
  p.write_route = std::make_unique<replication::RoleWriteRoute>(p.state.get(), p.kafka_route.get(), p.forward_route.get());
  {
    replication::PrimaryLease* lease = p.lease.get();
    p.write_route->SetMayAcknowledge([lease] {
      if (lease->MayAcknowledge()) return true;
      lease->NoteRefused();
      return false;
    });
  }

  {
    // Degradation switches: every danmud watches them; the active primary
    // also retires expired ones and runs the automatic controller.
    core::DegradeWatcherHooks dh;
    replication::RoomState* state = p.state.get();
    dh.active_primary = [state] { return state->active_primary(); };
    Parts* parts = &p;
    dh.signals = [parts] {
      core::DegradeSignals s;
      if (parts->processor) s.kafka_lag_seconds = parts->processor->lag_seconds();
      if (parts->heartbeat) s.redis_latency_ms = parts->heartbeat->Latest().roundtrip_ms;
      s.replication_lag_seconds = parts->controller->peer_lag_seconds();
      s.in_flight_requests = parts->metrics->http_in_flight.Add({{"server", "public"}}).Value();
      return s;
    };
    p.degrade = std::make_unique<core::DegradeWatcher>(
        p.config, std::make_unique<core::RedisClient>(c.redis, "live", p.metrics.get()), std::move(dh), *p.clock,
        p.metrics.get());
    const core::Config* config = &p.config;
    core::Metrics* metrics = p.metrics.get();
    p.degrade_admin = std::make_unique<core::DegradeAdmin>(
        c.room, p.degrade.get(), c.degrade.default_for_s,
        [config, state, metrics] {
          return std::make_unique<core::RedisClient>(replication::PrimaryRoomRedis(*config, *state), "live", metrics);
        },
        *p.clock, p.metrics.get());
  }
  if (c.Runs("frontend")) {
    p.cache = std::make_unique<core::RoomCache>(
        c.cache, c.poll, std::make_unique<core::RedisClient>(c.redis, "live", p.metrics.get()),
        std::make_unique<core::RedisClient>(c.redis, "live", p.metrics.get()), *p.clock, p.metrics.get());
    // Benchmarks only: DANMU_BENCH_NAIVE_READS=N makes this frontend read
    // every poll's messages from Redis on N connections (bench/run's "naive
    // design" baseline; RoomCache::EnableNaiveReads). Never set in production.
    if (const char* naive = std::getenv("DANMU_BENCH_NAIVE_READS"); naive && std::atoi(naive) > 0) {
      const int n = std::min(std::atoi(naive), 256);
      std::vector<std::unique_ptr<core::RedisClient>> pool;
      for (int i = 0; i < n; ++i) pool.push_back(std::make_unique<core::RedisClient>(c.redis, "live", p.metrics.get()));
      p.cache->EnableNaiveReads(std::move(pool));
      core::LogWarn("bench_naive_reads", {{"connections", std::to_string(n)}, {"reason", "DANMU_BENCH_NAIVE_READS"}});
    }
    core::FrontendHooks hooks;
    replication::RoomState* state = p.state.get();
    hooks.accepting_writes = [state] { return state->accepting_writes(); };
    replication::PrimaryLease* lease = p.lease.get();
    // A forwarded write was judged by the primary's lease; our own by ours.
    hooks.may_acknowledge = [state, lease] { return !state->is_primary() || lease->MayAcknowledge(); };
    core::DegradeWatcher* degrade = p.degrade.get();
    hooks.degrade = [degrade](const std::string& live_room) { return degrade->View(live_room); };
    if (auto s = WireArchive(p, &hooks); !s.ok()) return s;
    if (auto s = WirePages(p, &hooks); !s.ok()) return s;
    if (auto s = WireRouting(p, &hooks); !s.ok()) return s;
    p.frontend = std::make_unique<core::Frontend>(
        c, p.write_route.get(), p.cache.get(), std::make_unique<core::RedisClient>(c.redis, "live", p.metrics.get()),
        core::CursorCodec(cursor_secret), p.admin_token, *p.clock, p.metrics.get(), std::move(hooks));
  }
  if (c.Runs("archiver") && !c.Runs("frontend")) {
    // Wired here too, before any thread starts, so that its MySQL preflight
    // refuses to start like every other check of Create.
    if (auto s = WireArchive(p, nullptr); !s.ok()) return s;
  }
  if (c.Runs("processor")) {
    core::ProcessorHooks hooks;
    replication::RoomState* state = p.state.get();
    hooks.active = [state] { return state->active_primary(); };
    hooks.epoch = [state] { return state->epoch(); };
    replication::RoleController* controller = p.controller.get();
    hooks.on_fenced = [controller](const core::Status& s) { controller->OnFenced(s.message()); };
    p.processor = std::make_unique<core::Processor>(c, std::move(hooks), *p.clock, p.metrics.get());
  }
  {
    replication::RoomState* state = p.state.get();
    p.heartbeat = std::make_unique<replication::HeartbeatTracker>(
        c.redis, [state] { return state->active_primary(); }, [state] { return state->epoch(); }, *p.clock,
        p.metrics.get(), c.room);
    // Stale-read fallback (replication/read_fallback.h): a secondary's cache
    // reads the primary room's Redis while the local replica is stale. Its
    // metrics exist in every danmud; without a frontend nothing reads.
    replication::StaleReadFallback::Wiring w;
    w.local_redis = c.redis.address;
    w.peer_redis = p.cache ? c.peer.redis : "";
    w.is_primary = [state] { return state->is_primary(); };
    core::RoomCache* cache = p.cache.get();
    w.read_from = [cache](const std::string& address) { cache->SetReadAddress(address); };
    p.fallback = std::make_unique<replication::StaleReadFallback>(c.ha, std::move(w), *p.clock, p.metrics.get());
    replication::StaleReadFallback* fallback = p.fallback.get();
    p.heartbeat->OnSample([fallback](const replication::LagSample& sample) { fallback->OnSample(sample); });
  }

  if (c.Runs("probe")) {
    if (!c.Runs("frontend") || p.admin_token.empty()) {
      return Status(Code::kInvalidArgument, "config key 'components': the probe needs the frontend and admin.token_file");
    }
    p.probe = std::make_unique<monitoring::Probe>(p.config, p.admin_token, *p.clock, p.metrics.get());
  }
  {
    // Reconciliation after an unplanned failover: re-ingests through this
    // room's acked write path; looks ids up in this room's live Redis.
    const core::RedisOptions redis = c.redis;
    core::Metrics* metrics = p.metrics.get();
    p.reconciler = std::make_unique<replication::Reconciler>(
        c.room, p.write_route.get(),
        [redis, metrics] { return replication::MakeRedisLiveStore(std::make_unique<core::RedisClient>(redis, "live", metrics)); },
        *p.clock, p.metrics.get());
  }
  p.admin = std::make_unique<core::AdminRouter>(p.admin_token, p.metrics.get());
  RegisterAdminRoutes(p);
  RegisterArchiveRoutes(p);
  RegisterPushRoutes(p);
  RegisterRoutingRoutes(p);
  core::AdminRouter* admin = p.admin.get();
  p.admin_server = std::make_unique<core::HttpServer>(
      c.http, c.http.admin_port, "admin", [admin](const core::HttpRequest& r) { return admin->Handle(r); },
      core::Frontend::RouteLabel, p.metrics.get());
  if (p.frontend) {
    core::Frontend* fe = p.frontend.get();
    try {
      p.public_server = std::make_unique<edge::Server>(
          c.http, c.edge,
          [fe](const core::HttpRequest& r, edge::Respond respond) { fe->HandleAsync(r, std::move(respond)); },
          core::Frontend::RouteLabel, p.metrics.get());
    } catch (const std::exception& e) {
      return Status(Code::kUnavailable, "config key 'http.public_port': cannot listen: " + std::string(e.what()));
    }
  }
  // Push (WebSocket, SSE) on the public server: push_wiring.cc.
  if (auto s = WirePush(p); !s.ok()) return s;
  return d;
}

Daemon::~Daemon() { Stop(); }

Status Daemon::Start() {
  Parts& p = *parts_;
  // The role controller first: a room restarted as primary must be
  // unconfirmed before its processor or frontend can act as a primary.
  p.controller->Start(p.restarted_as_primary);
  // The lease before the frontend: a primary takes (or re-takes) its key
  // first; until then its writes are refused, not acknowledged unfenced.
  p.lease->Tick();
  p.lease->Start();
  (void)p.degrade->Refresh();  // the switches in force from the first request (no loop yet: inline)
  p.degrade->Start();
  if (p.cache) p.cache->Start();
  if (p.frontend) p.frontend->Start();
  if (p.processor) p.processor->Start();
  StartArchive(p);
  p.heartbeat->Start();
  p.admin_server->Start();
  StartPush(p);
  if (p.public_server) p.public_server->Start();
  if (p.probe) p.probe->Start();
  StartPages(p);
  StartRouting(p);
  core::LogWarn("danmud_started", {{"room", p.config.room}, {"role", core::RoleName(p.state->role())},
                                   {"epoch", std::to_string(p.state->epoch())},
                                   {"public_port", std::to_string(p.config.http.public_port)},
                                   {"admin_port", std::to_string(p.config.http.admin_port)}});
  return Status::Ok();
}

void Daemon::Stop() {
  if (!parts_) return;
  Parts& p = *parts_;
  // Stop taking requests first, then the writers, then the readers. Each
  // step is logged so that a slow shutdown says where it is stuck.
  auto step = [](const char* what) { core::LogInfo("shutdown_step", {{"step", what}}); };
  // Drain first: routers stop handing this frontend out before it closes.
  step("routing_drain");
  DrainRouting(p);
  step("push_drain");  // long connections closed with 1001 over push.drain_spread_ms
  DrainPushAndWait(p);
  step("pages");
  StopPages(p);
  step("probe");
  if (p.probe) p.probe->Stop();
  step("push");  // closes every long connection with 1001 (reconnect with your cursor)
  StopPush(p);
  step("public_server");
  if (p.public_server) p.public_server->Stop();
  step("routing");
  StopRouting(p);
  step("frontend");
  if (p.frontend) p.frontend->Stop();
  step("forward_pool");
  if (p.forward_pool) p.forward_pool->Stop();
  step("processor");
  if (p.processor) p.processor->Stop();
  step("archive");
  StopArchive(p);
  step("controller");
  if (p.controller) p.controller->Stop();
  step("lease");
  if (p.lease) p.lease->Stop();
  step("heartbeat");
  if (p.heartbeat) p.heartbeat->Stop();
  step("degrade");
  if (p.degrade) p.degrade->Stop();
  step("cache");
  if (p.cache) p.cache->Stop();
  step("admin_server");
  if (p.admin_server) p.admin_server->Stop();
  step("release");
  parts_.reset();
}

}  // namespace danmu::cmd
