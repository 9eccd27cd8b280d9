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
// Scale-out: any number of danmud processes running the processor in the
// primary room join the same group (kafka.consumer_group); the group gives
// each partition to one member at a time. When a member dies (after
// kafka.session_timeout_ms) or leaves, its partitions move to the others and
// resume from the last committed offset: records applied but not committed
// are delivered again and dropped by id; scores are assigned by the apply
// script at apply time, so they stay strictly increasing per (room, type)
// whichever process applies (live_writer.h).
//
// Adaptive batching: each worker's batch limit comes from a BatchSizer fed
// with the backlog of its partitions (batch_sizer.h); the current limit is
// danmu_processor_batch_limit_records{worker}.
//
// Workers run only while `active()` is true (this room is the primary); the
// epoch they write with comes from `epoch()` (replication/ owns both).
//
// Thread safety: the public accessors may be called from any thread (the
// admin API, the degradation watcher); `views_` is guarded by `views_mu_`,
// the rest is atomic or set before Start().
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/base/clock.h"
#include "core/base/config.h"
#include "core/base/status.h"

namespace danmu::core {

class Metrics;
struct KafkaRecord;

struct ProcessorHooks {
  std::function<bool()> active;
  std::function<int64_t()> epoch;
  // Called when the store refused our epoch: another room was promoted.
  std::function<void(const Status&)> on_fenced;
};

// One partition of the topic as this process sees it.
struct PartitionStatus {
  int32_t partition = 0;
  int64_t lag_messages = 0;   // the group's: high watermark - committed
  int64_t committed = 0;
  int64_t high = 0;
  int worker = -1;            // this process's worker that owns it; -1: another process (or nobody)
  double lag_seconds = -1;    // how long it has had unapplied records (owner only; -1 elsewhere)
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
  // Names this process in the group (client ids "<instance>-w<N>") and in
  // the admin status: "<room>@<hostname>:<admin port>".
  const std::string& instance() const { return instance_; }
  // Messages applied since start (added, not duplicates).
  int64_t applied() const { return applied_.load(); }
  // Records in Kafka not yet applied by the GROUP (every partition, whoever
  // owns it), from the freshest worker sample, and that sample's wall time
  // (-1 when no worker consumes). A switchover waits for backlog 0 sampled
  // after writes were frozen; partitions owned by other processes count.
  struct Backlog {
    int64_t messages = -1;
    int64_t sampled_at_ms = -1;
  };
  Backlog backlog() const;
  // Every partition of the topic (freshest sample), owned ones marked.
  std::vector<PartitionStatus> partitions() const;
  // Age of the oldest unapplied record, max over this process's partitions (seconds).
  double lag_seconds() const;
  // Sum of the workers' current adaptive batch limits (records).
  int64_t batch_limit() const;
  // Ingest at the frontend until visible in Redis, of the newest message in
  // the last applied batch (seconds; -1 before the first batch). The
  // histogram danmu_processor_delay_seconds has the distribution.
  double last_delay_seconds() const { return last_delay_seconds_.load(); }
  // Drill hook: a paused processor stops applying (lag builds) but keeps
  // measuring its backlog.
  void SetPaused(bool paused);
  bool paused() const { return paused_.load(); }

 private:
  struct WorkerView {
    bool consuming = false;
    int64_t sampled_at_ms = -1;
    int batch_limit = 0;
    std::vector<PartitionStatus> partitions;
  };
  struct WorkerState;
  void Worker(int index);
  void SampleLag(int index, WorkerState& w);
  // Applies one batch; false when it was not (stopping, fenced, or abandoned:
  // the role or epoch changed while it was retried).
  bool Apply(WorkerState& w, std::vector<KafkaRecord>& records);
  void UnexportLocked(WorkerState& w, const std::set<int32_t>& keep);

  const Config& config_;
  ProcessorHooks hooks_;
  const Clock& clock_;
  Metrics* metrics_;
  std::string instance_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> fenced_{false};
  // The epoch the store refused; a room active again with a newer epoch (it
  // was promoted since) clears fenced_ (else it would never apply again).
  std::atomic<int64_t> fenced_epoch_{0};
  std::atomic<bool> paused_{false};
  std::atomic<int64_t> applied_{0};
  std::atomic<int> active_workers_{0};
  std::atomic<double> last_delay_seconds_{-1};
  mutable std::mutex views_mu_;
  std::vector<WorkerView> views_;  // one per worker; guarded by views_mu_
  std::vector<std::thread> workers_;
};

}  // namespace danmu::core
