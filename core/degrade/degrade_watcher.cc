#include "core/degrade/degrade_watcher.h"

#include <chrono>

#include "core/model/live_keys.h"
#include "core/base/log.h"
#include "core/base/metrics.h"

namespace danmu::core {
namespace {

prometheus::Counter& Changes(Metrics* m, const std::string& room, const std::string& source) {
  return prometheus::BuildCounter().Name("danmu_degrade_changes_total").Help("Degradation level changes, by source")
      .Labels({{"room", room}}).Register(m->registry()).Add({{"source", source}});
}

}  // namespace

DegradeWatcher::DegradeWatcher(const Config& config, std::unique_ptr<RedisClient> local, DegradeWatcherHooks hooks,
                               const Clock& clock, Metrics* metrics)
    : config_(config),
      redis_(std::move(local)),
      hooks_(std::move(hooks)),
      clock_(clock),
      metrics_(metrics),
      policy_(config.room, config.degrade, config.poll),
      auto_enabled_(config.degrade.auto_enabled),
      auto_(config.degrade),
      auto_applied_(config.degrade.auto_enabled) {
  if (metrics_) {
    for (const char* s : {"manual", "auto", "expiry"}) Changes(metrics_, config_.room, s);
  }
}

DegradeWatcher::~DegradeWatcher() { Stop(); }

void DegradeWatcher::Start() {
  std::lock_guard lock(loop_mu_);
  if (running_) return;
  running_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void DegradeWatcher::Stop() {
  {
    std::lock_guard lock(loop_mu_);
    running_ = false;
  }
  loop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DegradeWatcher::Loop() {
  std::unique_lock lock(loop_mu_);
  while (running_) {
    ++rounds_started_;
    round_wanted_ = false;
    lock.unlock();
    try {
      Round();
    } catch (const std::exception& e) {
      LogError("degrade_watch_failed", {{"error", e.what()}});
    }
    lock.lock();
    rounds_finished_ = rounds_started_;
    loop_cv_.notify_all();
    loop_cv_.wait_for(lock, std::chrono::milliseconds(config_.degrade.watch_ms),
                      [this] { return !running_ || round_wanted_; });
  }
}

bool DegradeWatcher::Refresh(int timeout_ms) {
  {
    std::unique_lock lock(loop_mu_);
    if (running_) {
      const uint64_t want = rounds_started_ + 1;  // a round that starts after now
      round_wanted_ = true;
      loop_cv_.notify_all();
      loop_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                        [&] { return rounds_finished_ >= want || !running_; });
      if (rounds_finished_ >= want) return true;
      if (running_) return false;  // the loop is stuck (Redis?)
    }
  }
  Round();  // no loop (start-up, shutdown): this thread, one round at a time
  return true;
}

void DegradeWatcher::SetAuto(bool enabled) {
  if (auto_enabled_.exchange(enabled) != enabled) {
    LogWarn("degrade_auto", {{"enabled", enabled ? "true" : "false"}});
  }
}

Status DegradeWatcher::Write(RedisClient& store, const std::string& field, const DegradeSetting& s, Metrics* metrics,
                             const std::string& room) {
  auto r = store.Command({"HSET", keys::kDegrade, field, EncodeDegradeSetting(s)});
  if (!r.ok()) return r.status();
  if (r->is_error()) return Status(Code::kUnavailable, "HSET degrade: " + r->str);
  if (metrics) Changes(metrics, room, s.source).Increment();
  LogWarn("degrade_set", {{"scope", field}, {"new_level", std::to_string(s.level)}, {"source", s.source},
                          {"reason", s.reason}, {"expires_at_ms", std::to_string(s.expires_at_ms)}});
  return Status::Ok();
}

Status DegradeWatcher::Clear(RedisClient& store, const std::string& field, const std::string& source, Metrics* metrics,
                             const std::string& room) {
  auto r = store.Command({"HDEL", keys::kDegrade, field});
  if (!r.ok()) return r.status();
  if (r->is_error()) return Status(Code::kUnavailable, "HDEL degrade: " + r->str);
  if (r->integer > 0) {
    if (metrics) Changes(metrics, room, source).Increment();
    LogWarn("degrade_cleared", {{"scope", field}, {"new_level", "0"}, {"source", source}});
  }
  return Status::Ok();
}

void DegradeWatcher::Round() {
  std::lock_guard round(round_mu_);
  const bool auto_on = auto_enabled_.load();
  if (auto_applied_ != auto_on) {
    if (!auto_on) auto_.Reset();  // a fresh start when it is turned on again
    auto_applied_ = auto_on;
  }
  auto r = redis_->Command({"HGETALL", keys::kDegrade});
  if (!r.ok()) return;  // keep the last table: a Redis hiccup must not undo a degradation
  DegradeTable table;
  for (size_t i = 0; i + 1 < r->elements.size(); i += 2) {
    auto s = DecodeDegradeSetting(r->elements[i + 1].str);
    if (s.ok()) table[r->elements[i].str] = *s;
  }
  const int64_t now = clock_.NowMs();
  const bool primary = hooks_.active_primary && hooks_.active_primary();
  if (primary) {
    // Retire expired settings (a forgotten switch turns itself off).
    for (auto it = table.begin(); it != table.end();) {
      if (it->second.expires_at_ms <= now && it->first != "auto") {
        LogWarn("degrade_expired", {{"scope", it->first}, {"old_level", std::to_string(it->second.level)},
                                    {"new_level", "0"}, {"source", "expiry"}, {"reason", it->second.reason}});
        (void)Clear(*redis_, it->first, "expiry", metrics_, config_.room);
        it = table.erase(it);
      } else {
        ++it;
      }
    }
    if (auto_on && now - last_eval_ms_ >= config_.degrade.eval_ms) {
      last_eval_ms_ = now;
      int before = auto_.level();
      int level = auto_.Evaluate(hooks_.signals ? hooks_.signals() : DegradeSignals{}, clock_.MonoMs());
      DegradeSetting s{level, now + 10 * config_.degrade.eval_ms + 5000, "auto",
                       "automatic: level " + std::to_string(before) + " -> " + std::to_string(level), now};
      // Refresh the field every evaluation (its expiry outlives a dead primary
      // only briefly); count and log only real changes.
      auto w = redis_->Command({"HSET", keys::kDegrade, "auto", EncodeDegradeSetting(s)});
      if (w.ok() && level != before) {
        if (metrics_) Changes(metrics_, config_.room, "auto").Increment();
        LogWarn("degrade_auto_change", {{"scope", "all"}, {"old_level", std::to_string(before)},
                                        {"new_level", std::to_string(level)}, {"source", "auto"}, {"reason", s.reason}});
      }
      table["auto"] = s;
    }
  }
  auto room = policy_.RoomLevel(table, now);
  std::lock_guard lock(mu_);
  auto& seen = observed_[""];
  if (seen != room.room_level) {
    LogWarn("degrade_level_observed", {{"scope", "room"}, {"old_level", std::to_string(seen)},
                                       {"new_level", std::to_string(room.room_level)},
                                       {"source", room.source.empty() ? "cleared" : room.source}});
    seen = room.room_level;
  }
  room_level_ = room.room_level;
  if (metrics_) {
    prometheus::BuildGauge().Name("danmu_degrade_level").Help("Degradation level in effect for every live room of this room (0-3)")
        .Labels({{"room", config_.room}}).Register(metrics_->registry()).Add({}).Set(room.room_level);
    int streams = 0;
    for (const auto& [f, s] : table) streams += f.rfind("stream:", 0) == 0 && s.expires_at_ms > now;
    prometheus::BuildGauge().Name("danmu_degrade_streams").Help("Live rooms with a stream-scoped degradation")
        .Labels({{"room", config_.room}}).Register(metrics_->registry()).Add({}).Set(streams);
  }
  table_ = std::move(table);
}

DegradeTable DegradeWatcher::Table() const {
  std::lock_guard lock(mu_);
  return table_;
}

DegradeView DegradeWatcher::View(const std::string& live_room) {
  const int64_t now = clock_.NowMs();
  std::lock_guard lock(mu_);
  int level = policy_.Level(table_, live_room, now);
  int64_t since = now;
  if (level >= 3) {
    since = level3_since_.emplace(live_room, now).first->second;
  } else if (!level3_since_.empty()) {
    level3_since_.erase(live_room);
  }
  return policy_.View(level, since, now);
}

}  // namespace danmu::core
