#include "bench/loadgen/schedule.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace danmu::bench {
namespace {

TEST(OpenLoopSchedule, SpreadsConnectionsEvenly) {
  // 1000/s over 4 connections: each every 4 ms, offset by 1 ms.
  OpenLoopSchedule c0(1000000, 1000, 0, 4), c1(1000000, 1000, 1, 4), c3(1000000, 1000, 3, 4);
  EXPECT_EQ(c0.Due(0), 1000000);
  EXPECT_EQ(c0.Due(1), 1004000);
  EXPECT_EQ(c1.Due(0), 1001000);
  EXPECT_EQ(c3.Due(2), 1011000);
}

TEST(OpenLoopSchedule, FirstDueAtOrAfter) {
  OpenLoopSchedule s(0, 100, 0, 1);  // every 10 ms
  EXPECT_EQ(s.FirstDueAtOrAfter(0), 0);
  EXPECT_EQ(s.FirstDueAtOrAfter(1), 1);
  EXPECT_EQ(s.FirstDueAtOrAfter(10000), 1);
  EXPECT_EQ(s.FirstDueAtOrAfter(10001), 2);
  EXPECT_EQ(s.FirstDueAtOrAfter(-5000), 0);
}

// A simulated client on one connection against a server that answers in 1 ms
// but stalls once for 200 ms: with latency counted from the due time, every
// request the stall delayed shows it, so p99 sees the stall; counted from the
// send time (what a closed-loop client reports) only one request does.
TEST(OpenLoopSchedule, StallShowsInEveryDelayedRequest) {
  OpenLoopSchedule s(0, 1000, 0, 1);  // one request per ms for 1 s
  Histogram corrected, naive;
  int64_t free_at = 0;
  for (int64_t i = 0; i < 1000; ++i) {
    int64_t due = s.Due(i);
    int64_t sent = std::max(due, free_at);
    int64_t service = (i == 100) ? 200000 : 1000;
    int64_t done = sent + service;
    free_at = done;
    corrected.Record(done - due);
    naive.Record(done - sent);
  }
  EXPECT_LT(naive.Percentile(0.99), 2000);
  EXPECT_GT(corrected.Percentile(0.99), 100000);
  EXPECT_GE(corrected.max(), 200000);
}

TEST(OpenLoopSchedule, SettleRecordsUnansweredRequestsOfTheWindow) {
  OpenLoopSchedule s(0, 1000, 0, 1);
  Window w{100000, 200000};  // 100 requests due in [100 ms, 200 ms)
  Histogram h;
  // Answered up to index 149; stopped at 300 ms: 50 left, oldest waited 150 ms.
  EXPECT_EQ(SettleUnanswered(s, 150, w, 300000, &h), 50);
  EXPECT_EQ(h.count(), 50);
  EXPECT_EQ(h.max(), 150000);
  EXPECT_NEAR(h.Percentile(0.0), 101000, 101000 / 64 + 1);  // bucket resolution
  // Requests before the window are not recorded even if unanswered.
  Histogram h2;
  EXPECT_EQ(SettleUnanswered(s, 0, w, 300000, &h2), 100);
  // Nothing left: nothing recorded.
  Histogram h3;
  EXPECT_EQ(SettleUnanswered(s, 200, w, 300000, &h3), 0);
  EXPECT_EQ(h3.count(), 0);
}

}  // namespace
}  // namespace danmu::bench
