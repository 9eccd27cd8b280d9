#pragma once
// A small bounded pool of threads for blocking work that must not run on an
// event loop's I/O threads (the edge, edge/server.h): forwarding a write to
// the primary room over a blocking HTTP client, Redis reads of the users
// list, replay loads. Bounded twice: `threads` run tasks, at most
// `max_queued` wait; TrySubmit refuses beyond that (the caller answers 503)
// instead of growing memory or latency without limit.
//
// Thread-safe. Stop() lets running tasks finish, runs nothing still queued
// (each dropped task's `on_drop`, if given, is called instead, so that its
// caller still gets an answer), and joins.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace danmu::core {

class WorkPool {
 public:
  using Task = std::function<void()>;
  WorkPool(std::string name, int threads, int max_queued);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // False (nothing queued) when `max_queued` tasks already wait or the pool stopped.
  [[nodiscard]] bool TrySubmit(Task task, Task on_drop = nullptr);
  void Stop();

  int64_t queued() const;
  int64_t running() const;

 private:
  void Loop();
  const std::string name_;
  const size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<Task, Task>> queue_;  // guarded by mu_ (task, on_drop)
  bool stop_ = false;                        // guarded by mu_
  int64_t running_ = 0;                      // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace danmu::core
