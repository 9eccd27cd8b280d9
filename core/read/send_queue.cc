#include "core/read/send_queue.h"

namespace danmu::core {

SendQueue::SendQueue(size_t max_bytes, std::optional<Cursor> start, std::atomic<int64_t>* total_bytes)
    : max_bytes_(max_bytes), total_bytes_(total_bytes), delivered_(start) {}

SendQueue::~SendQueue() {
  std::lock_guard lock(mu_);
  DropLocked();
}

void SendQueue::DropLocked() {
  if (total_bytes_ && bytes_) total_bytes_->fetch_sub(static_cast<int64_t>(bytes_), std::memory_order_relaxed);
  frames_.clear();
  bytes_ = 0;
}

SendQueue::PushResult SendQueue::PushData(OutFrame frame) {
  std::lock_guard lock(mu_);
  if (closed_) return PushResult::kClosed;
  const size_t n = frame.bytes ? frame.bytes->size() : 0;
  if (!frames_.empty() && bytes_ + n > max_bytes_) {
    DropLocked();
    return PushResult::kOverflow;
  }
  bytes_ += n;
  if (total_bytes_) total_bytes_->fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
  frames_.push_back(std::move(frame));
  return PushResult::kQueued;
}

SendQueue::PushResult SendQueue::PushControl(OutFrame frame) {
  std::lock_guard lock(mu_);
  if (closed_) return PushResult::kClosed;
  const size_t n = frame.bytes ? frame.bytes->size() : 0;
  bytes_ += n;
  if (total_bytes_) total_bytes_->fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
  if (frame.close_after) closed_ = true;
  frames_.push_back(std::move(frame));
  return PushResult::kQueued;
}

void SendQueue::Close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  DropLocked();
}

void SendQueue::CloseWith(OutFrame last) {
  std::lock_guard lock(mu_);
  DropLocked();
  closed_ = true;
  bytes_ = last.bytes ? last.bytes->size() : 0;
  if (total_bytes_) total_bytes_->fetch_add(static_cast<int64_t>(bytes_), std::memory_order_relaxed);
  frames_.push_back(std::move(last));
}

std::vector<OutFrame> SendQueue::TakeAll() {
  std::lock_guard lock(mu_);
  std::vector<OutFrame> out;
  out.reserve(frames_.size());
  for (auto& f : frames_) {
    if (f.cursor) delivered_ = f.cursor;
    out.push_back(std::move(f));
  }
  frames_.clear();
  if (total_bytes_ && bytes_) total_bytes_->fetch_sub(static_cast<int64_t>(bytes_), std::memory_order_relaxed);
  bytes_ = 0;
  return out;
}

std::optional<Cursor> SendQueue::delivered() const {
  std::lock_guard lock(mu_);
  return delivered_;
}

size_t SendQueue::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

bool SendQueue::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

}  // namespace danmu::core
