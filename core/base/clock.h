#pragma once
// Time comes through a Clock so that logic depending on it can be driven by tests.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace danmu::core {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall clock, Unix milliseconds.
  virtual int64_t NowMs() const = 0;
  // Monotonic milliseconds, for intervals and deadlines.
  virtual int64_t MonoMs() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch()).count();
  }
  int64_t MonoMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  static const SystemClock& Instance() {
    static SystemClock clock;
    return clock;
  }
};

// A clock that tests move by hand.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ms = 1'700'000'000'000) : now_(start_ms) {}
  int64_t NowMs() const override { return now_.load(); }
  int64_t MonoMs() const override { return now_.load(); }
  void Advance(int64_t ms) { now_ += ms; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace danmu::core
