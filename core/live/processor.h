#pragma once
// The processor: Kafka consumer group -> live store (DESIGN §4).
//
// Each worker is one member of the group, so partitions are processed in
// parallel while every (live room, type) - one partition - stays in order.
// A worker polls a batch, groups it by (live room, type) keeping record order,
// writes every group with the atomic apply script in ONE pipelined round trip,
// and commits the Kafka offsets only after Redis accepted the whole batch
// (at-least-once; the script drops ids it already applied). A Redis failure
// retries the same batch; a fenced epoch stops the worker loudly.
//
// Workers run only while `active()` is true (this room is the primary); the
// epoch they write with comes from `epoch()` (replication/ owns both).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/base/clock.h"
#include "core/base/config.h"
#include "core/base/status.h"

namespace danmu::core {

class Metrics;

struct ProcessorHooks {
  std::function<bool()> active;
  std::function<int64_t()> epoch;
  // Called when the store refused our epoch: another room was promoted.
  std::function<void(const Status&)> on_fenced;
};

class Processor {
 public:
  Processor(const Config& config, ProcessorHooks hooks, const Clock& clock, Metrics* metrics);
  ~Processor();
  void Start();
  void Stop();
  // The store refused this room's epoch; cleared once the room is active
  // again with a newer epoch (promoted since).
  bool fenced() const { return fenced_.load(); }
  // Messages applied since start (added, not duplicates).
  int64_t applied() const { return applied_.load(); }
  // Records in Kafka not yet applied, summed over this room's workers, and the
  // wall time of the OLDEST worker sample (-1 when no worker consumes).
  // A switchover waits for backlog 0 sampled after writes were frozen.
  struct Backlog {
    int64_t messages = -1;
    int64_t sampled_at_ms = -1;
  };
  Backlog backlog() const;
  // Age of the oldest unapplied record, max over partitions (seconds).
  double lag_seconds() const;
  // Ingest at the frontend until visible in Redis, of the newest message in
  // the last applied batch (seconds; -1 before the first batch). The
  // histogram danmu_processor_delay_seconds has the distribution.
  double last_delay_seconds() const { return last_delay_seconds_.load(); }
  // Drill hook: a paused processor stops applying (lag builds) but keeps
  // measuring its backlog.
  void SetPaused(bool paused);
  bool paused() const { return paused_.load(); }

 private:
  void Worker(int index);

  const Config& config_;
  ProcessorHooks hooks_;
  const Clock& clock_;
  Metrics* metrics_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> fenced_{false};
  // The epoch the store refused; a room active again with a newer epoch (it
  // was promoted since) clears fenced_ (else it would never apply again).
  std::atomic<int64_t> fenced_epoch_{0};
  std::atomic<bool> paused_{false};
  std::atomic<int64_t> applied_{0};
  std::atomic<int> active_workers_{0};
  static constexpr int kMaxWorkers = 64;
  std::atomic<int64_t> worker_backlog_[kMaxWorkers];
  std::atomic<int64_t> worker_sampled_at_[kMaxWorkers];
  std::atomic<double> worker_lag_seconds_[kMaxWorkers];
  std::atomic<double> last_delay_seconds_{-1};
  std::vector<std::thread> workers_;
};

}  // namespace danmu::core
