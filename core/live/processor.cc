#include "core/live/processor.h"

#include <chrono>
#include <map>

#include "core/base/config_keys.h"
#include "core/store/kafka_consumer.h"
#include "core/live/live_writer.h"
#include "core/base/log.h"
#include "core/model/message.h"
#include "core/base/metrics.h"
#include "core/store/redis_client.h"

namespace danmu::core {

Processor::Processor(const Config& config, ProcessorHooks hooks, const Clock& clock, Metrics* metrics)
    : config_(config), hooks_(std::move(hooks)), clock_(clock), metrics_(metrics) {
  // The config refuses processor.workers above kMaxProcessorWorkers.
  static_assert(kMaxWorkers == kMaxProcessorWorkers, "per-worker arrays and the config check must agree");
  for (int i = 0; i < kMaxWorkers; ++i) {
    worker_backlog_[i] = -1;
    worker_sampled_at_[i] = -1;
    worker_lag_seconds_[i] = 0;
  }
  // Exported at 0 from the start, so that the alert on it has a series.
  if (metrics_) {
    for (MessageType t : kStoredTypes) metrics_->live_evicted_unarchived.Add({{"type", TypeName(t)}});
  }
}

double Processor::lag_seconds() const {
  double m = 0;
  for (int i = 0; i < std::min(config_.processor.workers, kMaxWorkers); ++i) m = std::max(m, worker_lag_seconds_[i].load());
  return m;
}

void Processor::SetPaused(bool paused) {
  if (paused_.exchange(paused) != paused) LogWarn(paused ? "processor_paused" : "processor_resumed", {{"reason", "admin drill hook"}});
}

Processor::Backlog Processor::backlog() const {
  Backlog b;
  int n = std::min(config_.processor.workers, kMaxWorkers);
  for (int i = 0; i < n; ++i) {
    int64_t m = worker_backlog_[i].load(), at = worker_sampled_at_[i].load();
    if (m < 0 || at < 0) return Backlog{};
    b.messages = std::max<int64_t>(b.messages, 0) + m;
    b.sampled_at_ms = b.sampled_at_ms < 0 ? at : std::min(b.sampled_at_ms, at);
  }
  return b;
}

Processor::~Processor() { Stop(); }

void Processor::Start() {
  stop_ = false;
  // The config refuses processor.workers above kMaxWorkers; the bound here
  // keeps the per-worker arrays safe for a Config built in code too.
  for (int i = 0; i < std::min(config_.processor.workers, kMaxWorkers); ++i) workers_.emplace_back([this, i] { Worker(i); });
}

void Processor::Stop() {
  stop_ = true;
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

void Processor::Worker(int index) {
  std::unique_ptr<KafkaConsumer> consumer;
  RedisClient redis(config_.redis, "live", metrics_);
  prometheus::Counter* batches_ok = metrics_ ? &metrics_->processor_batches.Add({{"result", "ok"}}) : nullptr;
  prometheus::Counter* batches_retry = metrics_ ? &metrics_->processor_batches.Add({{"result", "retry"}}) : nullptr;
  prometheus::Histogram* batch_size = metrics_ ? &metrics_->processor_batch_size.Add(
      {}, prometheus::Histogram::BucketBoundaries{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}) : nullptr;
  prometheus::Histogram* delay = metrics_ ? &metrics_->processor_delay.Add({}, Metrics::LatencyBuckets()) : nullptr;
  // partition -> (wall ms, high watermark then): records pending since that
  // time; reset once the committed offset passes that watermark.
  std::map<int32_t, std::pair<int64_t, int64_t>> lag_since;
  int64_t last_lag_check = 0;

  auto set_active = [&](bool on) {
    if (metrics_) metrics_->processor_active.Add({}).Set(on ? 1 : 0);
  };

  while (!stop_) {
    if (fenced_ && hooks_.active && hooks_.active() && hooks_.epoch() > fenced_epoch_.load()) {
      // Promoted since the fence: the new epoch is the store's newest.
      fenced_ = false;
      LogWarn("processor_unfenced", {{"worker", std::to_string(index)}, {"fenced_epoch", std::to_string(fenced_epoch_.load())},
                                     {"epoch", std::to_string(hooks_.epoch())}, {"reason", "room promoted since the fence"}});
    }
    if (fenced_ || !hooks_.active || !hooks_.active()) {
      if (consumer) {
        consumer->Close();
        consumer.reset();
        worker_backlog_[index] = -1;
        worker_sampled_at_[index] = -1;
        if (--active_workers_ == 0) set_active(false);
        LogWarn("processor_worker_idle", {{"worker", std::to_string(index)}, {"fenced", fenced_ ? "true" : "false"}});
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (!consumer) {
      auto c = KafkaConsumer::Create(config_.kafka, config_.room + "-processor-" + std::to_string(index));
      if (!c.ok()) {
        LogWarn("processor_consumer_failed", {{"error", c.status().ToString()}});
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      consumer = std::move(*c);
      if (active_workers_++ == 0) set_active(true);
      LogInfo("processor_worker_active", {{"worker", std::to_string(index)}, {"brokers", config_.kafka.brokers},
                                          {"epoch", std::to_string(hooks_.epoch())}});
    }
    std::vector<KafkaRecord> records;
    if (paused_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } else {
      records = consumer->PollBatch(config_.processor.batch_max, config_.processor.batch_wait_ms + 80);
    }

    int64_t now_mono = clock_.MonoMs();
    if (now_mono - last_lag_check > 200) {
      last_lag_check = now_mono;
      int64_t sampled_at = clock_.NowMs();
      int64_t total = 0;
      auto lags = consumer->Lag();
      for (const auto& lag : lags) total += lag.messages;
      worker_backlog_[index] = total;
      worker_sampled_at_[index] = sampled_at;
      double worst = 0;
      for (const auto& lag : lags) {
        // Lag in seconds: how long this partition has had unapplied records
        // (an upper bound on the age of the oldest one, sampled every 200 ms).
        double secs = 0;
        if (lag.messages > 0) {
          auto [it, fresh] = lag_since.emplace(lag.partition, std::make_pair(sampled_at, lag.high));
          if (lag.committed >= it->second.second) it->second = {sampled_at, lag.high};  // that backlog was applied
          secs = (sampled_at - it->second.first) / 1000.0;
        } else {
          lag_since.erase(lag.partition);
        }
        worst = std::max(worst, secs);
        if (!metrics_) continue;
        std::string p = std::to_string(lag.partition);
        metrics_->kafka_lag_messages.Add({{"partition", p}}).Set(static_cast<double>(lag.messages));
        metrics_->kafka_lag_seconds.Add({{"partition", p}}).Set(secs);
      }
      worker_lag_seconds_[index] = worst;
    }
    if (records.empty()) continue;

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
    int backoff = 50;
    bool applied = false;
    // A role or epoch change while this batch retries (e.g. READONLY after
    // a demotion) abandons it: applying it later with the old epoch would
    // fence a room promoted since.
    auto still_ours = [&] { return hooks_.active && hooks_.active() && hooks_.epoch() == epoch; };
    while (!stop_ && !applied && !fenced_ && still_ours()) {
      auto replies = redis.EvalPipeline(ApplyScript(), calls);
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
          if (metrics_) {
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
            for (const auto& m : msgs) delay->Observe(std::max<int64_t>(0, now - m.ingest_ms) / 1000.0);
            last_delay_seconds_.store(std::max<int64_t>(0, now - msgs.back().ingest_ms) / 1000.0);
          }
        }
      }
      if (failure.code() == Code::kFencedEpoch) {
        fenced_epoch_ = std::max(fenced_epoch_.load(), epoch);
        fenced_ = true;
        LogError("processor_fenced", {{"epoch", std::to_string(epoch)}, {"error", failure.message()}});
        if (hooks_.on_fenced) hooks_.on_fenced(failure);
        break;
      }
      if (!failure.ok()) {
        if (batches_retry) batches_retry->Increment();
        LogWarn("processor_apply_retry", {{"error", failure.ToString()}, {"backoff_ms", std::to_string(backoff)}});
        std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
        backoff = std::min(backoff * 2, 2000);
        continue;
      }
      applied = true;
    }
    if (!applied && !stop_ && !fenced_ && consumer) {
      // Abandoned (role or epoch changed): restart from the committed offsets.
      LogWarn("processor_batch_abandoned", {{"worker", std::to_string(index)}, {"epoch", std::to_string(epoch)},
                                            {"reason", "role or epoch changed while the batch was retried"}});
      consumer->Close();
      consumer.reset();
      worker_backlog_[index] = -1;
      worker_sampled_at_[index] = -1;
      if (--active_workers_ == 0) set_active(false);
    }
    if (!applied) continue;  // stopping or fenced: leave the offsets for the next owner
    if (batches_ok) {
      batches_ok->Increment();
      batch_size->Observe(static_cast<double>(records.size()));
    }
    Status c = consumer->Commit(records);
    if (!c.ok()) LogWarn("processor_commit_failed", {{"error", c.ToString()}});
  }
  if (consumer) {
    consumer->Close();
    if (--active_workers_ == 0) set_active(false);
  }
}

}  // namespace danmu::core
