#pragma once
// Open-loop arrivals, corrected for coordinated omission (wrk2's method).
//
// A load of R requests/s over C connections gives connection k the due times
//   due(i) = start + k/R + i·C/R        (seconds; i = 0, 1, 2, ...)
// whatever happened to request i-1. A connection sends request i at due(i),
// or at once if it is late (the previous answer came after due(i)); the
// request's latency is counted from due(i), not from when it was sent, so a
// server stall shows as latency for every request it delayed instead of as a
// client that quietly slowed down.
//
// Only requests due inside the measurement window [begin, end) are recorded.
// At stop time, requests of the window that were never answered (in flight
// or never sent because the connection was behind) are settled: recorded with
// the latency they had reached at stop time and counted as unanswered — an
// overloaded server cannot look good by not answering.
#include <cstdint>

#include "bench/loadgen/histogram.h"

namespace danmu::bench {

class OpenLoopSchedule {
 public:
  // `rate_per_s` is the total rate over `streams` connections; this is
  // connection `stream` (0-based).
  OpenLoopSchedule(int64_t start_us, double rate_per_s, int stream, int streams);

  int64_t Due(int64_t i) const;
  // First index whose due time is >= t.
  int64_t FirstDueAtOrAfter(int64_t t_us) const;
  double period_us() const { return period_us_; }

 private:
  int64_t start_us_;
  double period_us_;
  double phase_us_;
};

struct Window {
  int64_t begin_us = 0;
  int64_t end_us = 0;
  bool Contains(int64_t due_us) const { return due_us >= begin_us && due_us < end_us; }
};

// Records, for every index from `next_unanswered` on whose due time falls in
// `window`, the latency stop_us - due (the request was still unanswered at
// stop time). Returns how many were recorded.
int64_t SettleUnanswered(const OpenLoopSchedule& schedule, int64_t next_unanswered, const Window& window,
                         int64_t stop_us, Histogram* latency);

}  // namespace danmu::bench
