#include "core/base/work_pool.h"

namespace danmu::core {

WorkPool::WorkPool(std::string name, int threads, int max_queued)
    : name_(std::move(name)), max_queued_(static_cast<size_t>(max_queued > 0 ? max_queued : 1)) {
  if (threads < 1) threads = 1;
  threads_.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

WorkPool::~WorkPool() { Stop(); }

bool WorkPool::TrySubmit(Task task, Task on_drop) {
  {
    std::lock_guard lock(mu_);
    if (stop_ || queue_.size() >= max_queued_) return false;
    queue_.emplace_back(std::move(task), std::move(on_drop));
  }
  cv_.notify_one();
  return true;
}

void WorkPool::Stop() {
  std::deque<std::pair<Task, Task>> dropped;
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
    dropped.swap(queue_);
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  for (auto& [task, on_drop] : dropped) {
    if (on_drop) on_drop();
  }
}

int64_t WorkPool::queued() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(queue_.size());
}

int64_t WorkPool::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

void WorkPool::Loop() {
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      task = std::move(queue_.front().first);
      queue_.pop_front();
      ++running_;
    }
    task();
    std::lock_guard lock(mu_);
    --running_;
  }
}

}  // namespace danmu::core
