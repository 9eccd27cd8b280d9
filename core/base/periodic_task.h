#pragma once
// A background loop: runs `body` every `interval_ms` on its own thread until
// Stop(). The wait is sliced so that Stop() returns within ~25 ms, and an
// exception escaping `body` is logged and the loop goes on: a parse bug in a
// monitoring loop must not take the process down.
#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace danmu::core {

class PeriodicTask {
 public:
  PeriodicTask(std::string name, int interval_ms, std::function<void()> body)
      : name_(std::move(name)), interval_ms_(interval_ms), body_(std::move(body)) {}
  ~PeriodicTask() { Stop(); }
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  void Start();
  void Stop();

 private:
  const std::string name_;
  const int interval_ms_;
  std::function<void()> body_;
  std::atomic<bool> stop_{true};
  std::thread thread_;
};

}  // namespace danmu::core
