#include "core/live/processor.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "core/base/log.h"
#include "core/base/metrics.h"
#include "core/live/batch_sizer.h"
#include "core/live/live_writer.h"
#include "core/model/message.h"
#include "core/store/kafka_consumer.h"
#include "core/store/redis_client.h"

namespace danmu::core {

namespace {

std::string InstanceName(const Config& config) {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = 0;
  return config.room + "@" + (host[0] ? host : "localhost") + ":" + std::to_string(config.http.admin_port);
}

BatchSizerOptions SizerOptions(const ProcessorOptions& p) {
  BatchSizerOptions o;
  o.base_records = p.batch_max;
  o.ceiling_records = p.batch_ceiling;
  o.ceiling_bytes = p.batch_ceiling_bytes;
  return o;
}

}  // namespace

// What one worker thread owns (only that thread touches it).
struct Processor::WorkerState {
  explicit WorkerState(const Config& config, Metrics* metrics)
      : redis(config.redis, "live", metrics), sizer(SizerOptions(config.processor)) {}
  int index = 0;
  std::unique_ptr<KafkaConsumer> consumer;
  RedisClient redis;
  BatchSizer sizer;
  int64_t last_backlog = -1;  // records unapplied on this worker's partitions (last sample)
  int64_t last_lag_check = 0;
  // partition -> (wall ms, high watermark then): records pending since that
  // time; reset once the committed offset passes that watermark.
  std::map<int32_t, std::pair<int64_t, int64_t>> lag_since;
  std::set<int32_t> exported;  // partitions whose lag series this worker exports
  prometheus::Counter* batches_ok = nullptr;
  prometheus::Counter* batches_retry = nullptr;
  prometheus::Histogram* batch_size = nullptr;
  prometheus::Histogram* delay = nullptr;
  prometheus::Gauge* batch_limit = nullptr;
};

Processor::Processor(const Config& config, ProcessorHooks hooks, const Clock& clock, Metrics* metrics)
    : config_(config), hooks_(std::move(hooks)), clock_(clock), metrics_(metrics), instance_(InstanceName(config)) {
  views_.resize(static_cast<size_t>(std::max(0, config_.processor.workers)));
  // Exported at 0 from the start, so that the alert on it has a series.
  if (metrics_) {
    for (MessageType t : kStoredTypes) metrics_->live_evicted_unarchived.Add({{"type", TypeName(t)}});
  }
}

Processor::~Processor() { Stop(); }

void Processor::Start() {
  stop_ = false;
  for (int i = 0; i < config_.processor.workers; ++i) workers_.emplace_back([this, i] { Worker(i); });
}

void Processor::Stop() {
  stop_ = true;
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

void Processor::SetPaused(bool paused) {
  if (paused_.exchange(paused) != paused) LogWarn(paused ? "processor_paused" : "processor_resumed", {{"reason", "admin drill hook"}});
}

double Processor::lag_seconds() const {
  std::lock_guard lock(views_mu_);
  double m = 0;
  for (const auto& v : views_) {
    for (const auto& p : v.partitions) {
      if (p.worker >= 0) m = std::max(m, p.lag_seconds);
    }
  }
  return m;
}

int64_t Processor::batch_limit() const {
  std::lock_guard lock(views_mu_);
  int64_t n = 0;
  for (const auto& v : views_) n += v.consuming ? v.batch_limit : 0;
  return n;
}

Processor::Backlog Processor::backlog() const {
  std::lock_guard lock(views_mu_);
  const WorkerView* freshest = nullptr;
  for (const auto& v : views_) {
    if (v.consuming && v.sampled_at_ms >= 0 && (!freshest || v.sampled_at_ms > freshest->sampled_at_ms)) freshest = &v;
  }
  if (!freshest) return Backlog{};
  Backlog b;
  b.messages = 0;
  for (const auto& p : freshest->partitions) b.messages += p.lag_messages;
  b.sampled_at_ms = freshest->sampled_at_ms;
  return b;
}

std::vector<PartitionStatus> Processor::partitions() const {
  std::lock_guard lock(views_mu_);
  const WorkerView* freshest = nullptr;
  for (const auto& v : views_) {
    if (v.consuming && v.sampled_at_ms >= 0 && (!freshest || v.sampled_at_ms > freshest->sampled_at_ms)) freshest = &v;
  }
  if (!freshest) return {};
  std::vector<PartitionStatus> out = freshest->partitions;
  // Ownership and lag seconds come from the worker that owns each partition.
  for (auto& p : out) {
    p.worker = -1;
    p.lag_seconds = -1;
    for (const auto& v : views_) {
      if (!v.consuming) continue;
      for (const auto& q : v.partitions) {
        if (q.partition == p.partition && q.worker >= 0) {
          p.worker = q.worker;
          p.lag_seconds = q.lag_seconds;
        }
      }
    }
  }
  return out;
}

// Samples the group's lag (every 200 ms): the backlog and per-partition
// status, the lag series of the partitions this worker owns (removed when it
// no longer owns them: another process exports them then).
void Processor::SampleLag(int index, WorkerState& w) {
  int64_t now_mono = clock_.MonoMs();
  if (now_mono - w.last_lag_check <= 200) return;
  w.last_lag_check = now_mono;
  const int64_t sampled_at = clock_.NowMs();
  auto lags = w.consumer->Lag();
  if (lags.empty()) return;  // broker did not answer: keep the last sample
  std::vector<PartitionStatus> view;
  int64_t mine = 0;
  for (const auto& lag : lags) {
    PartitionStatus ps;
    ps.partition = lag.partition;
    ps.lag_messages = lag.messages;
    ps.committed = lag.committed;
    ps.high = lag.high;
    if (lag.assigned) {
      // Lag in seconds: how long this partition has had unapplied records
      // (an upper bound on the age of the oldest one, sampled every 200 ms).
      double secs = 0;
      if (lag.messages > 0) {
        auto [it, fresh] = w.lag_since.emplace(lag.partition, std::make_pair(sampled_at, lag.high));
        if (lag.committed >= it->second.second) it->second = {sampled_at, lag.high};  // that backlog was applied
        secs = (sampled_at - it->second.first) / 1000.0;
      } else {
        w.lag_since.erase(lag.partition);
      }
      ps.worker = index;
      ps.lag_seconds = secs;
      mine += lag.messages;
    } else {
      w.lag_since.erase(lag.partition);
    }
    view.push_back(ps);
  }
  w.last_backlog = mine;
  std::lock_guard lock(views_mu_);
  auto& v = views_[static_cast<size_t>(index)];
  v.partitions = view;
  v.sampled_at_ms = sampled_at;
  if (!metrics_) return;
  // Series are touched only under views_mu_: a worker may remove one another
  // worker of this process just added (a partition moved between them).
  std::set<int32_t> now_owned;
  for (const auto& ps : view) {
    if (ps.worker < 0) continue;
    now_owned.insert(ps.partition);
    std::string p = std::to_string(ps.partition);
    metrics_->kafka_lag_messages.Add({{"partition", p}}).Set(static_cast<double>(ps.lag_messages));
    metrics_->kafka_lag_seconds.Add({{"partition", p}}).Set(ps.lag_seconds);
  }
  UnexportLocked(w, now_owned);
}

// Removes the lag series of partitions `w` exported and no longer owns,
// unless another worker of this process owns them now. Caller holds views_mu_.
void Processor::UnexportLocked(WorkerState& w, const std::set<int32_t>& keep) {
  if (!metrics_) return;
  for (int32_t p : w.exported) {
    if (keep.count(p)) continue;
    bool other_worker_owns = false;
    for (size_t i = 0; i < views_.size(); ++i) {
      if (static_cast<int>(i) == w.index) continue;
      for (const auto& q : views_[i].partitions) other_worker_owns |= (q.partition == p && q.worker >= 0);
    }
    if (other_worker_owns) continue;
    std::string ps = std::to_string(p);
    metrics_->kafka_lag_messages.Remove(&metrics_->kafka_lag_messages.Add({{"partition", ps}}));
    metrics_->kafka_lag_seconds.Remove(&metrics_->kafka_lag_seconds.Add({{"partition", ps}}));
  }
  w.exported = keep;
}

void Processor::Worker(int index) {
  WorkerState w(config_, metrics_);
  w.index = index;
  if (metrics_) {
    w.batches_ok = &metrics_->processor_batches.Add({{"result", "ok"}});
    w.batches_retry = &metrics_->processor_batches.Add({{"result", "retry"}});
    w.batch_size = &metrics_->processor_batch_size.Add(
        {}, prometheus::Histogram::BucketBoundaries{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000});
    w.delay = &metrics_->processor_delay.Add({}, Metrics::LatencyBuckets());
    w.batch_limit = &metrics_->processor_batch_limit.Add({{"worker", std::to_string(index)}});
    w.batch_limit->Set(w.sizer.limit().records);
  }
  auto set_active = [&](bool on) {
    if (metrics_) metrics_->processor_active.Add({}).Set(on ? 1 : 0);
  };
  auto set_view = [&](bool consuming) {
    std::lock_guard lock(views_mu_);
    auto& v = views_[static_cast<size_t>(index)];
    v.consuming = consuming;
    v.batch_limit = w.sizer.limit().records;
    if (!consuming) {
      v.sampled_at_ms = -1;
      v.partitions.clear();
      UnexportLocked(w, {});  // an idle worker exports no stale lag
    }
  };

  while (!stop_) {
    if (fenced_ && hooks_.active && hooks_.active() && hooks_.epoch() > fenced_epoch_.load()) {
      // Promoted since the fence: the new epoch is the store's newest.
      fenced_ = false;
      LogWarn("processor_unfenced", {{"worker", std::to_string(index)}, {"fenced_epoch", std::to_string(fenced_epoch_.load())},
                                     {"epoch", std::to_string(hooks_.epoch())}, {"reason", "room promoted since the fence"}});
    }
    if (fenced_ || !hooks_.active || !hooks_.active()) {
      if (w.consumer) {
        w.consumer->Close();
        w.consumer.reset();
        set_view(false);
        if (--active_workers_ == 0) set_active(false);
        LogWarn("processor_worker_idle", {{"worker", std::to_string(index)}, {"fenced", fenced_ ? "true" : "false"}});
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (!w.consumer) {
      auto c = KafkaConsumer::Create(config_.kafka, instance_ + "-w" + std::to_string(index));
      if (!c.ok()) {
        LogWarn("processor_consumer_failed", {{"error", c.status().ToString()}});
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      w.consumer = std::move(*c);
      set_view(true);
      if (active_workers_++ == 0) set_active(true);
      LogInfo("processor_worker_active", {{"worker", std::to_string(index)}, {"instance", instance_},
                                          {"brokers", config_.kafka.brokers}, {"group", config_.kafka.consumer_group},
                                          {"epoch", std::to_string(hooks_.epoch())}});
    }
    std::vector<KafkaRecord> records;
    if (paused_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } else {
      BatchLimit limit = w.sizer.limit();
      records = w.consumer->PollBatch(limit.records, config_.processor.batch_wait_ms + 80, limit.bytes);
    }
    SampleLag(index, w);
    if (!paused_) {
      int64_t bytes = 0;
      for (const auto& r : records) bytes += static_cast<int64_t>(r.value.size());
      int before = w.sizer.limit().records;
      BatchLimit next = w.sizer.Observe({static_cast<int>(records.size()), bytes, w.last_backlog});
      if (next.records != before) {
        if (w.batch_limit) w.batch_limit->Set(next.records);
        std::lock_guard lock(views_mu_);
        views_[static_cast<size_t>(index)].batch_limit = next.records;
      }
    }
    if (records.empty()) continue;
    if (!Apply(w, records)) {
      if (!stop_ && !fenced_ && w.consumer) {
        // Abandoned (role or epoch changed): restart from the committed offsets.
        LogWarn("processor_batch_abandoned", {{"worker", std::to_string(index)},
                                              {"reason", "role or epoch changed while the batch was retried"}});
        w.consumer->Close();
        w.consumer.reset();
        set_view(false);
        if (--active_workers_ == 0) set_active(false);
      }
      continue;  // stopping, fenced or abandoned: leave the offsets for the next owner
    }
    Status c = w.consumer->Commit(records);
    if (!c.ok()) LogWarn("processor_commit_failed", {{"error", c.ToString()}});
  }
  if (w.consumer) {
    w.consumer->Close();
    set_view(false);
    if (--active_workers_ == 0) set_active(false);
  }
}

bool Processor::Apply(WorkerState& w, std::vector<KafkaRecord>& records) {
  // Group by (live room, type), keeping Kafka order inside each group.
  std::map<std::string, std::pair<std::vector<Message>, std::vector<std::string>>> groups;
  for (auto& r : records) {
    auto m = DecodePayload(r.value);
    if (!m.ok()) {
      // A record we cannot decode would block its partition forever.
      LogError("processor_bad_record", {{"partition", std::to_string(r.partition)},
                                        {"offset", std::to_string(r.offset)}, {"error", m.status().message()}});
      continue;
    }
    auto& g = groups[PartitionKey(*m)];
    g.first.push_back(std::move(*m));
    g.second.push_back(std::move(r.value));
  }
  std::vector<RedisArgs> calls;
  std::vector<const std::vector<Message>*> call_groups;
  const int64_t epoch = hooks_.epoch();
  for (auto& [key, g] : groups) {
    calls.push_back(BuildApplyCall(g.first, g.second, epoch, config_.processor.live_cap,
                                   config_.processor.unarchived_cap));
    call_groups.push_back(&g.first);
  }

  // Apply; retry the same batch until Redis takes it (offsets stay uncommitted).
  // A role or epoch change while this batch retries (e.g. READONLY after a
  // demotion) abandons it: applying it later with the old epoch would fence
  // a room promoted since.
  auto still_ours = [&] { return hooks_.active && hooks_.active() && hooks_.epoch() == epoch; };
  bool applied = false;
  int backoff = 50;
  while (!stop_ && !fenced_ && still_ours()) {
    if (calls.empty()) break;  // nothing decodable: commit past it
    auto replies = w.redis.EvalPipeline(ApplyScript(), calls);
    Status failure;
    if (!replies.ok()) {
      failure = replies.status();
    } else {
      for (size_t i = 0; i < replies->size(); ++i) {
        auto outcome = ParseApplyReply((*replies)[i]);
        if (!outcome.ok()) {
          failure = outcome.status();
          if (failure.code() == Code::kFencedEpoch) break;
          continue;
        }
        const auto& msgs = *call_groups[i];
        applied_ += outcome->added;
        if (!metrics_) continue;
        const char* type = TypeName(msgs.front().type);
        metrics_->processor_messages.Add({{"type", type}, {"result", "added"}}).Increment(static_cast<double>(outcome->added));
        if (outcome->duplicates) {
          metrics_->processor_messages.Add({{"type", type}, {"result", "duplicate"}}).Increment(static_cast<double>(outcome->duplicates));
        }
        if (outcome->evicted_unarchived) {
          metrics_->live_evicted_unarchived.Add({{"type", type}}).Increment(static_cast<double>(outcome->evicted_unarchived));
          LogError("live_evicted_unarchived", {{"live_room", msgs.front().live_room}, {"type", type},
                                               {"messages", std::to_string(outcome->evicted_unarchived)},
                                               {"reason", "processor.unarchived_cap reached before the archiver copied them"}});
        }
        int64_t now = clock_.NowMs();
        for (const auto& m : msgs) w.delay->Observe(std::max<int64_t>(0, now - m.ingest_ms) / 1000.0);
        last_delay_seconds_.store(std::max<int64_t>(0, now - msgs.back().ingest_ms) / 1000.0);
      }
    }
    if (failure.code() == Code::kFencedEpoch) {
      fenced_epoch_ = std::max(fenced_epoch_.load(), epoch);
      fenced_ = true;
      LogError("processor_fenced", {{"epoch", std::to_string(epoch)}, {"error", failure.message()}});
      if (hooks_.on_fenced) hooks_.on_fenced(failure);
      return false;
    }
    if (!failure.ok()) {
      if (w.batches_retry) w.batches_retry->Increment();
      LogWarn("processor_apply_retry", {{"error", failure.ToString()}, {"backoff_ms", std::to_string(backoff)}});
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
      backoff = std::min(backoff * 2, 2000);
      continue;
    }
    applied = true;
    break;
  }
  if (!applied && !calls.empty()) return false;
  if (w.batches_ok) {
    w.batches_ok->Increment();
    w.batch_size->Observe(static_cast<double>(records.size()));
  }
  return true;
}

}  // namespace danmu::core
