#pragma once
// Likes are counted, never stored one by one. The frontend sums like posts
// per live room and a flusher turns each sum into ONE record every
// likes.flush_ms. A like request is answered only after the record carrying
// it was acknowledged by Kafka (group commit), so that an acknowledged like
// is never lost and totals stay exact.
//
// Add() joins the open batch of a room and returns a ticket to wait on.
// TakeBatches() (flusher) closes every open batch; Complete() publishes the
// outcome to every waiter of that batch. Thread-safe.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/base/status.h"

namespace danmu::core {

class LikeBatch {
 public:
  // Blocks until the batch is flushed or `timeout_ms` passes (kUnavailable).
  Status Wait(int timeout_ms);
  // Calls `then` with the outcome once the batch is complete: at once when it
  // already is, else from the thread that calls Complete. Must not block.
  void Then(std::function<void(Status)> then);
  void Complete(Status status);
  int64_t total() const { return total_; }
  const std::string& live_room() const { return live_room_; }

 private:
  friend class LikeAggregator;
  std::string live_room_;
  int64_t total_ = 0;          // written only under the aggregator's lock, before TakeBatches
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;          // guarded by mu_
  Status status_;              // guarded by mu_
  std::vector<std::function<void(Status)>> then_;  // guarded by mu_
};

class LikeAggregator {
 public:
  std::shared_ptr<LikeBatch> Add(const std::string& live_room, int64_t count);
  // Closes and returns every open batch (one per live room with likes).
  std::vector<std::shared_ptr<LikeBatch>> TakeBatches();

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<LikeBatch>> open_;  // guarded by mu_
};

}  // namespace danmu::core
