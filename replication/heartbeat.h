#pragma once
// Replication lag by heartbeat (DESIGN §6).
//
// The primary writes danmu:hb = its clock in ms every 100 ms, through a Lua
// step that refuses a stale epoch (like every other primary write). Every room
// reads danmu:hb from its LOCAL Redis: lag = now - hb. On the primary that is
// ~0; on a secondary it is how far its replica trails, as seen by readers.
// The tracker also reads INFO replication on the local Redis: link status and
// the byte offset the replica trails by.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "core/base/periodic_task.h"

#include "core/base/clock.h"
#include "core/base/config.h"
#include "core/store/redis_client.h"

namespace danmu::core { class Metrics; }

namespace danmu::replication {

struct LagSample {
  double lag_seconds = 0;         // now - heartbeat in the local store
  bool link_up = true;            // replica link to the master (true on a master)
  int64_t offset_lag_bytes = 0;   // master_repl_offset - slave_repl_offset as known locally
  bool local_is_master = true;
  int64_t store_epoch = 0;
  int64_t repl_offset = 0;
  double roundtrip_ms = 0;        // the sample's Redis round trip (latency signal)        // master_repl_offset on a master, slave_repl_offset on a replica
  bool valid = false;             // false until the first successful read
};

class HeartbeatTracker {
 public:
  HeartbeatTracker(const core::RedisOptions& local, std::function<bool()> is_primary, std::function<int64_t()> epoch,
                   const core::Clock& clock, core::Metrics* metrics, std::string room);
  // Called on the tracker's thread after every sample (stale-read fallback).
  void OnSample(std::function<void(const LagSample&)> callback) { on_sample_ = std::move(callback); }
  ~HeartbeatTracker();
  void Start();
  void Stop();
  LagSample Latest() const;
  // One write (if primary) and one read, now. Used by the loop and by tests.
  LagSample Tick();

 private:
  core::RedisOptions local_;
  std::function<bool()> is_primary_;
  std::function<int64_t()> epoch_;
  const core::Clock& clock_;
  core::Metrics* metrics_;
  std::string room_;
  std::unique_ptr<core::RedisClient> redis_;
  std::function<void(const LagSample&)> on_sample_;
  mutable std::mutex mu_;
  LagSample latest_;  // guarded by mu_
  int64_t last_hb_ms_ = 0;  // last heartbeat value read (tracker thread only)
  core::PeriodicTask loop_{"heartbeat", 100, [this] { Tick(); }};
};

// Parses INFO replication text into the link/offset part of a sample.
void ParseInfoReplication(const std::string& info, LagSample* out);

}  // namespace danmu::replication
