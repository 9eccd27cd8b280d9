#include "bench/loadgen/schedule.h"

#include <algorithm>
#include <cmath>

namespace danmu::bench {

OpenLoopSchedule::OpenLoopSchedule(int64_t start_us, double rate_per_s, int stream, int streams)
    : start_us_(start_us),
      period_us_(1e6 * std::max(streams, 1) / std::max(rate_per_s, 1e-9)),
      phase_us_(1e6 * stream / std::max(rate_per_s, 1e-9)) {}

int64_t OpenLoopSchedule::Due(int64_t i) const {
  return start_us_ + static_cast<int64_t>(std::llround(phase_us_ + static_cast<double>(i) * period_us_));
}

int64_t OpenLoopSchedule::FirstDueAtOrAfter(int64_t t_us) const {
  double x = (static_cast<double>(t_us - start_us_) - phase_us_) / period_us_;
  int64_t i = std::max<int64_t>(0, static_cast<int64_t>(std::floor(x)) - 1);
  while (Due(i) < t_us) ++i;
  while (i > 0 && Due(i - 1) >= t_us) --i;
  return i;
}

int64_t SettleUnanswered(const OpenLoopSchedule& schedule, int64_t next_unanswered, const Window& window,
                         int64_t stop_us, Histogram* latency) {
  int64_t recorded = 0;
  for (int64_t i = std::max(next_unanswered, schedule.FirstDueAtOrAfter(window.begin_us));; ++i) {
    int64_t due = schedule.Due(i);
    if (due >= window.end_us) break;
    if (!window.Contains(due)) continue;
    latency->Record(stop_us - due);
    ++recorded;
  }
  return recorded;
}

}  // namespace danmu::bench
