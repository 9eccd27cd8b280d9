#pragma once
// When a draining frontend closes each of its long connections (DESIGN §13,
// discovery): evenly over a spread rather than all at once, so that N
// clients told "reconnect elsewhere" ask the router and reconnect as a
// stream the other edges can absorb, not as one stampede.
//
// Pure arithmetic on monotonic milliseconds; the hub keeps the connections
// in the order it will close them and asks, on every round, how many of
// them are due.
#include <cstddef>
#include <cstdint>

namespace danmu::core {

class DrainSchedule {
 public:
  // `total` connections from `start_ms`, the last one due at
  // start_ms + spread_ms (spread_ms <= 0: every one at once).
  DrainSchedule(size_t total, int64_t start_ms, int64_t spread_ms);
  // How many of the first connections are due by `now_ms`: the k-th (from
  // 1) at start + spread * k / total, rounded up; never more than total.
  size_t DueBy(int64_t now_ms) const;
  size_t total() const { return total_; }
  int64_t end_ms() const { return start_ms_ + spread_ms_; }

 private:
  size_t total_;
  int64_t start_ms_;
  int64_t spread_ms_;
};

}  // namespace danmu::core
