#include "monitoring/probe.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <chrono>
#include <thread>

#include "core/http/http_client.h"
#include "core/base/json_text.h"
#include "core/model/live_keys.h"
#include "core/base/log.h"
#include "core/model/message.h"
#include "core/base/metrics.h"
#include "core/store/redis_client.h"

namespace danmu::monitoring {

using core::Metrics;

struct Probe::Impl {
  const core::Config& config;
  std::string token;
  const core::Clock& clock;
  Metrics* metrics;
  std::unique_ptr<core::RedisClient> own_redis, peer_redis;
  int64_t seq = 0;

  Impl(const core::Config& c, std::string t, const core::Clock& k, Metrics* m)
      : config(c), token(std::move(t)), clock(k), metrics(m) {
    core::RedisOptions own = c.redis, peer = c.redis;
    own.timeout_ms = peer.timeout_ms = 500;
    peer.address = c.peer.redis;
    own_redis = std::make_unique<core::RedisClient>(own, "live", m);
    if (!c.peer.redis.empty()) peer_redis = std::make_unique<core::RedisClient>(peer, "peer", m);
    if (metrics) {
      // Create every series at 0 so that rates and alerts see them from the start.
      for (const char* stage : {"accept", "kafka", "processor", "replica", "frontend"}) Failures(stage);
      Success(c.room);
      if (!c.peer.room.empty()) Success(c.peer.room);
    }
  }

  prometheus::Counter& Failures(const std::string& stage) {
    return prometheus::BuildCounter().Name("danmu_probe_failures_total").Help("Probe rounds that failed, by the first stage that broke")
        .Labels({{"room", config.room}}).Register(metrics->registry()).Add({{"write_room", config.room}, {"stage", stage}});
  }
  prometheus::Counter& Success(const std::string& read_room) {
    return prometheus::BuildCounter().Name("danmu_probe_success_total").Help("Probe comments seen in a room's poll API in time")
        .Labels({{"room", config.room}}).Register(metrics->registry()).Add({{"write_room", config.room}, {"read_room", read_room}});
  }
  prometheus::Histogram& E2e(const std::string& read_room) {
    return prometheus::BuildHistogram().Name("danmu_probe_e2e_seconds").Help("Probe write accepted until visible in a room's poll API")
        .Labels({{"room", config.room}}).Register(metrics->registry())
        .Add({{"write_room", config.room}, {"read_room", read_room}}, Metrics::LatencyBuckets());
  }

  // Whether `id` is in the probe room's comment set of `redis`.
  static bool InStore(core::RedisClient* redis, const std::string& id) {
    if (!redis) return false;
    auto r = redis->Command({"ZREVRANGE", core::keys::Msg(kProbeRoom, core::MessageType::kComment), "0", "200"});
    if (!r.ok()) return false;
    for (const auto& m : r->elements) {
      if (core::PayloadId(m.str) == id) return true;
    }
    return false;
  }

  static bool IsMaster(core::RedisClient* redis) {
    if (!redis) return false;
    auto r = redis->Command({"ROLE"});
    return r.ok() && !r->elements.empty() && r->elements[0].str == "master";
  }

  bool VisibleInPoll(const std::string& base, const std::string& id) {
    core::HttpCall c;
    c.url = base + "/v1/rooms/" + kProbeRoom + "/messages?limit=50";
    c.headers["Authorization"] = "Bearer " + token;
    c.timeout_ms = 1000;
    auto r = core::Fetch(c);
    return r.ok() && r->status == 200 && r->body.find("\"id\":\"" + id + "\"") != std::string::npos;
  }
};

Probe::Probe(const core::Config& config, std::string admin_token, const core::Clock& clock, Metrics* metrics)
    : impl_(std::make_unique<Impl>(config, std::move(admin_token), clock, metrics)),
      loop_("probe", config.probe.interval_ms, [this] { RunOnce(); }) {}

Probe::~Probe() { Stop(); }

void Probe::Start() { loop_.Start(); }

void Probe::Stop() { loop_.Stop(); }

ProbeResult Probe::RunOnce() {
  ProbeResult r = Round();
  std::lock_guard lock(latest_mu_);
  latest_ = r;
  latest_at_ms_ = impl_->clock.NowMs();
  return r;
}

ProbeResult Probe::Latest(int64_t* at_ms) const {
  std::lock_guard lock(latest_mu_);
  if (at_ms) *at_ms = latest_at_ms_;
  return latest_;
}

ProbeResult Probe::Round() {
  Impl& p = *impl_;
  const auto& c = p.config;
  ProbeResult res;
  auto fail = [&](const std::string& stage) {
    res.failed_stage = stage;
    if (p.metrics) p.Failures(stage).Increment();
    core::LogWarn("probe_failed", {{"stage", stage}, {"write_room", c.room}});
    return res;
  };
  // 1. Write through this room's public API.
  core::HttpCall post;
  post.method = "POST";
  post.url = "http://" + c.http.bind + ":" + std::to_string(c.http.public_port) + "/v1/rooms/" + kProbeRoom + "/messages";
  post.headers["Authorization"] = "Bearer " + p.token;
  post.body = "{\"type\":\"comment\",\"uid\":\"probe-" + c.room + "\",\"text\":\"probe " + std::to_string(++p.seq) + "\"}";
  post.timeout_ms = c.kafka.produce_timeout_ms + 3000;
  auto start = std::chrono::steady_clock::now();
  auto r = core::Fetch(post);
  if (!r.ok()) return fail("accept");
  if (r->status == 503) return fail("kafka");
  if (r->status != 202) return fail("accept");
  std::string id;
  try {
    Poco::JSON::Parser parser;
    id = parser.parse(r->body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("id");
  } catch (const std::exception&) {
    return fail("accept");
  }
  // 2. Wait until visible in each room's poll API (bounded).
  struct Reader {
    std::string room, base;
    core::RedisClient* redis;
    double seen = -1;
  };
  std::vector<Reader> readers = {{c.room, "http://" + c.http.bind + ":" + std::to_string(c.http.public_port), p.own_redis.get()}};
  if (!c.peer.public_url.empty()) readers.push_back({c.peer.room, c.peer.public_url, p.peer_redis.get()});
  auto deadline = start + std::chrono::milliseconds(c.probe.timeout_ms);
  bool all = false;
  while (!all && std::chrono::steady_clock::now() < deadline) {
    all = true;
    for (auto& rd : readers) {
      if (rd.seen >= 0) continue;
      if (p.VisibleInPoll(rd.base, id)) {
        rd.seen = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (p.metrics) {
          p.E2e(rd.room).Observe(rd.seen);
          p.Success(rd.room).Increment();
        }
      } else {
        all = false;
      }
    }
    if (!all) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  res.e2e_own_seconds = readers[0].seen;
  if (readers.size() > 1) res.e2e_peer_seconds = readers[1].seen;
  // 3. Attribute what did not arrive, and check the replica directly (the
  //    stale-read fallback can hide a broken replica from the poll API).
  core::RedisClient* primary = Impl::IsMaster(p.own_redis.get()) ? p.own_redis.get() : p.peer_redis.get();
  core::RedisClient* replica = primary == p.own_redis.get() ? p.peer_redis.get() : p.own_redis.get();
  for (const auto& rd : readers) {
    if (rd.seen >= 0) continue;
    if (!Impl::InStore(primary, id)) return fail("processor");
    if (!Impl::InStore(rd.redis, id)) return fail("replica");
    return fail("frontend");
  }
  if (replica && !Impl::InStore(replica, id)) {
    // Everything polled fine, yet the replica lacks the comment: give it the
    // rest of the time budget before calling it a replica failure.
    bool arrived = false;
    while (!arrived && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      arrived = Impl::InStore(replica, id);
    }
    if (!arrived) return fail("replica");
  }
  res.ok = true;
  return res;
}

}  // namespace danmu::monitoring
