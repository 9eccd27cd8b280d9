#include "core/base/periodic_task.h"

#include <chrono>

#include "core/base/log.h"

namespace danmu::core {

void PeriodicTask::Start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    while (!stop_) {
      try {
        body_();
      } catch (const std::exception& e) {
        LogError("periodic_task_failed", {{"task", name_}, {"error", e.what()}});
      }
      for (int waited = 0; waited < interval_ms_ && !stop_; waited += 25) {
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(25, interval_ms_ - waited)));
      }
    }
  });
}

void PeriodicTask::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

}  // namespace danmu::core
