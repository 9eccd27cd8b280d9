#include "core/read/send_queue.h"

namespace danmu::core {

void SendQueueTotals::Grew(size_t queue_bytes_now, size_t added) {
  bytes.fetch_add(static_cast<int64_t>(added), std::memory_order_relaxed);
  const auto now = static_cast<int64_t>(queue_bytes_now);
  int64_t seen = peak_one_queue.load(std::memory_order_relaxed);
  while (now > seen && !peak_one_queue.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
  }
}

void SendQueueTotals::Shrank(size_t removed) {
  bytes.fetch_sub(static_cast<int64_t>(removed), std::memory_order_relaxed);
}

SendQueue::SendQueue(size_t max_bytes, std::optional<Cursor> start, SendQueueTotals* totals)
    : max_bytes_(max_bytes), totals_(totals), delivered_(start) {}

SendQueue::~SendQueue() {
  std::lock_guard lock(mu_);
  DropLocked();
}

void SendQueue::DropLocked() {
  if (totals_ && bytes_) totals_->Shrank(bytes_);
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
  if (totals_) totals_->Grew(bytes_, n);
  frames_.push_back(std::move(frame));
  return PushResult::kQueued;
}

SendQueue::PushResult SendQueue::PushControl(OutFrame frame) {
  std::lock_guard lock(mu_);
  if (closed_) return PushResult::kClosed;
  const size_t n = frame.bytes ? frame.bytes->size() : 0;
  bytes_ += n;
  if (totals_) totals_->Grew(bytes_, n);
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
  if (totals_) totals_->Grew(bytes_, bytes_);
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
  if (totals_ && bytes_) totals_->Shrank(bytes_);
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
