#include "replication/heartbeat.h"

#include <chrono>
#include <sstream>

#include "core/live/epoch_fence.h"
#include "core/model/live_keys.h"
#include "core/base/log.h"
#include "core/base/metrics.h"

namespace danmu::replication {
namespace {

// KEYS: 1 heartbeat, 2 store epoch. ARGV: 1 epoch, 2 now (ms). The fence
// does not advance the store's epoch: only promotion and the apply script do.
const std::string& HeartbeatScript() {
  static const std::string kScript = core::EpochFenceLua(/*epoch_key=*/2, /*epoch_arg=*/1, /*advance=*/false) +
                                     "redis.call('SET', KEYS[1], ARGV[2])\nreturn 1\n";
  return kScript;
}

}  // namespace

void ParseInfoReplication(const std::string& info, LagSample* out) {
  std::istringstream in(info);
  std::string line;
  int64_t master_offset = -1, slave_offset = -1;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto eq = line.find(':');
    if (eq == std::string::npos) continue;
    std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "role") out->local_is_master = (v == "master");
    else if (k == "master_link_status") out->link_up = (v == "up");
    else if (k == "master_repl_offset") master_offset = std::strtoll(v.c_str(), nullptr, 10);
    else if (k == "slave_repl_offset") slave_offset = std::strtoll(v.c_str(), nullptr, 10);
  }
  out->repl_offset = out->local_is_master ? std::max<int64_t>(master_offset, 0) : std::max<int64_t>(slave_offset, 0);
  if (out->local_is_master) {
    out->link_up = true;
    out->offset_lag_bytes = 0;
  } else if (master_offset >= 0 && slave_offset >= 0) {
    // On a replica, master_repl_offset is the master's offset as last heard.
    out->offset_lag_bytes = std::max<int64_t>(0, master_offset - slave_offset);
  }
}

HeartbeatTracker::HeartbeatTracker(const core::RedisOptions& local, std::function<bool()> is_primary,
                                   std::function<int64_t()> epoch, const core::Clock& clock, core::Metrics* metrics,
                                   std::string room)
    : local_(local),
      is_primary_(std::move(is_primary)),
      epoch_(std::move(epoch)),
      clock_(clock),
      metrics_(metrics),
      room_(std::move(room)),
      redis_(std::make_unique<core::RedisClient>(local, "live", metrics)) {}

HeartbeatTracker::~HeartbeatTracker() { Stop(); }

void HeartbeatTracker::Start() { loop_.Start(); }

void HeartbeatTracker::Stop() { loop_.Stop(); }

LagSample HeartbeatTracker::Latest() const {
  std::lock_guard lock(mu_);
  return latest_;
}

LagSample HeartbeatTracker::Tick() {
  LagSample s;
  int64_t now = clock_.NowMs();
  std::vector<core::RedisArgs> cmds;
  if (is_primary_()) {
    cmds.push_back({"EVAL", HeartbeatScript(), "2", core::keys::kHeartbeat, core::keys::kEpoch,
                    std::to_string(epoch_()), std::to_string(now)});
  }
  cmds.push_back({"GET", core::keys::kHeartbeat});
  cmds.push_back({"INFO", "replication"});
  cmds.push_back({"GET", core::keys::kEpoch});
  auto rt_start = std::chrono::steady_clock::now();
  auto r = redis_->Pipeline(cmds);
  double rt_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - rt_start).count();
  {
    std::lock_guard lock(mu_);
    s = latest_;
  }
  if (r.ok()) {
    size_t i = cmds.size() - 3;
    const auto& hb = (*r)[i];
    ParseInfoReplication((*r)[i + 1].str, &s);
    // Replies may be errors (LOADING while a replica resyncs): never trust
    // them to be numbers.
    s.store_epoch = (*r)[i + 2].AsInt(s.store_epoch);
    if (hb.is_error()) {
      // LOADING: the replica is resyncing; it serves nothing fresh yet.
      s.link_up = false;
      if (last_hb_ms_ > 0) s.lag_seconds = std::max<int64_t>(0, clock_.NowMs() - last_hb_ms_) / 1000.0;
    } else if (hb.AsInt(0) > 0) {
      last_hb_ms_ = hb.AsInt(0);
      s.lag_seconds = std::max<int64_t>(0, clock_.NowMs() - last_hb_ms_) / 1000.0;
    } else {
      s.lag_seconds = 0;
    }
    s.valid = true;
    s.roundtrip_ms = rt_ms;
  } else {
    s.roundtrip_ms = rt_ms;
    // The local store is unreachable: a link down, and the lag grows from the
    // last heartbeat this room saw.
    s.link_up = false;
    if (last_hb_ms_ > 0) s.lag_seconds = std::max<int64_t>(0, clock_.NowMs() - last_hb_ms_) / 1000.0;
  }
  if (metrics_) {
    auto& reg = metrics_->registry();
    auto labels = std::map<std::string, std::string>{{"room", room_}};
    prometheus::BuildGauge().Name("danmu_replication_lag_seconds").Help("now - primary heartbeat as read from the local Redis").Labels(labels).Register(reg).Add({}).Set(s.lag_seconds);
    prometheus::BuildGauge().Name("danmu_replication_link_up").Help("1 when the local Redis replica link is up (or it is the master)").Labels(labels).Register(reg).Add({}).Set(s.link_up ? 1 : 0);
    prometheus::BuildGauge().Name("danmu_replication_offset_lag_bytes").Help("Replica byte offset behind the master").Labels(labels).Register(reg).Add({}).Set(static_cast<double>(s.offset_lag_bytes));
    prometheus::BuildGauge().Name("danmu_store_epoch").Help("Fencing epoch stored in the local Redis").Labels(labels).Register(reg).Add({}).Set(static_cast<double>(s.store_epoch));
  }
  {
    std::lock_guard lock(mu_);
    latest_ = s;
  }
  if (on_sample_) on_sample_(s);
  return s;
}

}  // namespace danmu::replication
