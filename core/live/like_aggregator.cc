#include "core/live/like_aggregator.h"

#include <chrono>

namespace danmu::core {

Status LikeBatch::Wait(int timeout_ms) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return done_; })) {
    return Status(Code::kUnavailable, "like flush timed out");
  }
  return status_;
}

void LikeBatch::Then(std::function<void(Status)> then) {
  {
    std::lock_guard lock(mu_);
    if (!done_) {
      then_.push_back(std::move(then));
      return;
    }
  }
  then(status_);  // done_ is final: status_ no longer changes
}

void LikeBatch::Complete(Status status) {
  std::vector<std::function<void(Status)>> then;
  {
    std::lock_guard lock(mu_);
    done_ = true;
    status_ = std::move(status);
    then.swap(then_);
  }
  cv_.notify_all();
  for (auto& t : then) t(status_);
}

std::shared_ptr<LikeBatch> LikeAggregator::Add(const std::string& live_room, int64_t count) {
  std::lock_guard lock(mu_);
  auto& batch = open_[live_room];
  if (!batch) {
    batch = std::make_shared<LikeBatch>();
    batch->live_room_ = live_room;
  }
  batch->total_ += count;
  return batch;
}

std::vector<std::shared_ptr<LikeBatch>> LikeAggregator::TakeBatches() {
  std::map<std::string, std::shared_ptr<LikeBatch>> taken;
  {
    std::lock_guard lock(mu_);
    taken.swap(open_);
  }
  std::vector<std::shared_ptr<LikeBatch>> out;
  out.reserve(taken.size());
  for (auto& [room, batch] : taken) out.push_back(std::move(batch));
  return out;
}

}  // namespace danmu::core
