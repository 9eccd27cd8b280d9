#include "routing/client_contract.h"

#include <gtest/gtest.h>

#include <set>

namespace danmu::routing {
namespace {

using A = ClientContract::Action;
using M = ClientContract::Mode;

const std::vector<std::string> kEdges = {"ws://e1/v1/rooms/r/ws", "ws://e2/v1/rooms/r/ws"};

TEST(ClientContract, AsksTheRouterThenConnects) {
  ClientContract c({}, 1);
  EXPECT_EQ(c.Next().kind, A::kAskRouter);
  c.OnRoute(0, "ws", kEdges, "http://e1/v1/rooms/r/messages", 1000);
  EXPECT_EQ(c.Next().kind, A::kConnect);
  EXPECT_EQ(c.Next().endpoint, kEdges[0]);
  c.OnConnected(5);
  EXPECT_EQ(c.mode(), M::kLong);
  EXPECT_EQ(c.consecutive_failures(), 0);
}

TEST(ClientContract, FallsBackAfterExactlyThreeFailedConnects) {
  ClientContract c({}, 1);
  c.OnRoute(0, "ws", kEdges, "http://e1/poll", 1000);
  c.OnConnectFailed(10, "connect_failed");
  EXPECT_EQ(c.mode(), M::kConnecting);
  EXPECT_EQ(c.Next().endpoint, kEdges[1]);  // the next endpoint
  c.OnConnectFailed(20, "connect_failed");
  EXPECT_EQ(c.mode(), M::kConnecting);
  EXPECT_EQ(c.fallbacks(), 0);
  c.OnConnectFailed(30, "connect_failed");
  EXPECT_EQ(c.mode(), M::kPolling);
  EXPECT_EQ(c.fallbacks(), 1);
  EXPECT_EQ(c.Next().kind, A::kPoll);
  EXPECT_EQ(c.poll_url(), "http://e1/poll");
}

TEST(ClientContract, RetriesTheLongConnectionWithJitteredExponentialBackoff) {
  ClientContractOptions o;
  o.retry_base_ms = 1000;
  o.retry_cap_ms = 8000;
  ClientContract c(o, 7);
  c.OnRoute(0, "ws", kEdges, "http://p", 1000);
  for (int i = 0; i < 3; ++i) c.OnConnectFailed(0, "connect_failed");
  ASSERT_EQ(c.mode(), M::kPolling);
  int64_t now = 0;
  std::vector<int64_t> waits;
  for (int retry = 0; retry < 6; ++retry) {
    // Poll until the contract says: ask the router again.
    const int64_t fell_back_at = now;
    int polls = 0;
    while (c.Next().kind == A::kPoll) {
      now = std::max(now, c.Next().at_ms);
      c.OnPollAnswer(now, 500);
      ASSERT_LT(++polls, 1000);
    }
    ASSERT_EQ(c.Next().kind, A::kAskRouter);
    EXPECT_EQ(c.Next().fallback_reason, "connect_failed");  // told to the router
    waits.push_back(c.Next().at_ms - fell_back_at);
    now = c.Next().at_ms;
    c.OnRoute(now, "ws", kEdges, "http://p", 1000);
    ASSERT_EQ(c.Next().kind, A::kConnect);
    c.OnConnectFailed(now, "connect_failed");  // one try per retry
    ASSERT_EQ(c.mode(), M::kPolling);
  }
  // Backoff 1, 2, 4, 8, 8, 8 s, each x [0.5, 1.5).
  const int expect[] = {1000, 2000, 4000, 8000, 8000, 8000};
  for (size_t i = 0; i < waits.size(); ++i) {
    EXPECT_GE(waits[i], expect[i] / 2) << i;
    EXPECT_LT(waits[i], expect[i] * 3 / 2 + 500) << i;  // + one poll interval of slack
  }
  // Success resets: the next outage falls back after three failures again.
  c.OnRoute(now, "ws", kEdges, "http://p", 1000);
  c.OnConnected(now);
  EXPECT_EQ(c.mode(), M::kLong);
  c.OnClosed(now, CloseKind::kOther);
  c.OnConnectFailed(now, "x");
  c.OnConnectFailed(now, "x");
  EXPECT_EQ(c.mode(), M::kConnecting);
  c.OnConnectFailed(now, "x");
  EXPECT_EQ(c.mode(), M::kPolling);
}

TEST(ClientContract, JitterSpreadsClientsThatFailedTogether) {
  std::set<int64_t> retry_times;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    ClientContract c({}, seed);
    c.OnRoute(0, "ws", kEdges, "http://p", 1000);
    for (int i = 0; i < 3; ++i) c.OnConnectFailed(0, "connect_failed");
    int64_t now = 0;
    while (c.Next().kind == A::kPoll) {
      now = c.Next().at_ms;
      c.OnPollAnswer(now, 100);
    }
    retry_times.insert(c.Next().at_ms);
  }
  EXPECT_GT(retry_times.size(), 40u);
}

TEST(ClientContract, CloseCodes) {
  ClientContract c({}, 3);
  c.OnRoute(0, "ws", kEdges, "http://p", 1000);
  c.OnConnected(1);
  c.OnClosed(2, CloseKind::kResume);
  EXPECT_EQ(c.Next().kind, A::kConnect);
  EXPECT_EQ(c.Next().at_ms, 2);
  EXPECT_EQ(c.Next().endpoint, kEdges[0]);
  c.OnConnected(3);
  c.OnClosed(4, CloseKind::kElsewhere);
  EXPECT_EQ(c.Next().kind, A::kAskRouter);
  EXPECT_GE(c.Next().at_ms, 4);
  c.OnRoute(5, "ws", {kEdges[1]}, "http://p", 1000);
  c.OnConnected(6);
  c.OnClosed(7, CloseKind::kToPolling);
  EXPECT_EQ(c.mode(), M::kPolling);
  EXPECT_EQ(c.Next().kind, A::kPoll);
  EXPECT_EQ(c.fallbacks(), 0);  // told to poll: not a failure
}

TEST(ClientContract, RouterSaysPollThenAsksAgainAfterRetryAfter) {
  ClientContract c({}, 3);
  c.OnRoute(0, "poll", {"http://e1/poll"}, "http://e1/poll", 10000);
  EXPECT_EQ(c.mode(), M::kPolling);
  int64_t now = 0;
  while (c.Next().kind == A::kPoll) {
    now = c.Next().at_ms;
    c.OnPollAnswer(now, 2000);
  }
  EXPECT_EQ(c.Next().kind, A::kAskRouter);
  EXPECT_EQ(c.Next().at_ms, 10000);
  EXPECT_EQ(c.Next().fallback_reason, "");
}

TEST(ClientContract, PollsObeyNextPollMsAndBackOffOn503) {
  ClientContract c({}, 3);
  c.OnRoute(0, "poll", {"http://p"}, "http://p", 600000);
  c.OnPollAnswer(0, 4000);
  EXPECT_EQ(c.Next().at_ms, 4000);
  c.OnPollUnavailable(4000, 1000);
  const int64_t first = c.Next().at_ms - 4000;
  c.OnPollUnavailable(4000, 1000);
  const int64_t second = c.Next().at_ms - 4000;
  EXPECT_GE(first, 500);
  EXPECT_LT(first, 1500);
  EXPECT_GE(second, 1000);
  EXPECT_LT(second, 3000);
  c.OnPollAnswer(9000, 2000);
  EXPECT_EQ(c.Next().at_ms, 11000);
}

}  // namespace
}  // namespace danmu::routing
