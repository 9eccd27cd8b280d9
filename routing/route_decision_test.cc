#include "routing/route_decision.h"

#include <gtest/gtest.h>

#include <string>

namespace danmu::routing {
namespace {

RouteRules With(std::initializer_list<const char*> changes) {
  RouteRules r;
  for (const char* c : changes) {
    auto parsed = RouteChange::Parse(c);
    EXPECT_TRUE(parsed.ok()) << c;
    auto next = parsed->Apply(r, 0);
    EXPECT_TRUE(next.ok()) << c;
    r = *next;
  }
  return r;
}

RouteClient Client(std::string uid, std::string device = "", std::string app = "", std::string platform = "") {
  return {std::move(uid), std::move(device), std::move(app), std::move(platform)};
}

std::string Say(const RouteDecision& d) { return std::string(TransportName(d.transport)) + "/" + d.reason; }

TEST(RouteDecision, TableOfEveryRuleKindAndTheirOrder) {
  const RouteRules everything = With({R"({"op":"set_percent","percent":0})", R"({"op":"allow","uid":"vip"})",
                                      R"({"op":"allow","device":"lab-phone"})", R"({"op":"allow","app_version":"6.0.0-6.9.9"})",
                                      R"({"op":"allow","platform":"web"})", R"({"op":"deny","uid":"banned"})",
                                      R"({"op":"deny","device":"broken-tv"})", R"({"op":"deny","app_version":"5.0.0-5.2.9"})",
                                      R"({"op":"deny","platform":"wp7"})"});
  struct Row {
    RouteClient client;
    const char* want;
  } rows[] = {
      {Client("someone"), "poll/percent_out"},
      {Client("vip"), "ws/allow_uid"},
      {Client("x", "lab-phone"), "ws/allow_device"},
      {Client("x", "", "6.1"), "ws/allow_app_version"},
      {Client("x", "", "", "web"), "ws/allow_platform"},
      {Client("banned"), "poll/deny_uid"},
      {Client("x", "broken-tv"), "poll/deny_device"},
      {Client("x", "", "5.2.1"), "poll/deny_app_version"},
      {Client("x", "", "", "wp7"), "poll/deny_platform"},
      // Deny beats allow, whichever fields match.
      {Client("vip", "broken-tv"), "poll/deny_device"},
      {Client("vip", "", "5.1"), "poll/deny_app_version"},
      {Client("x", "", "6.1", "wp7"), "poll/deny_platform"},
      // An unparseable version matches no range.
      {Client("x", "", "six"), "poll/percent_out"},
      {Client(""), "poll/no_id"},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(Say(Decide(everything, row.client, {})), row.want) << row.client.uid << "/" << row.client.device;
  }
  RouteRules killed = everything;
  killed.kill_switch = true;
  EXPECT_EQ(Say(Decide(killed, Client("vip"), {})), "poll/kill_switch");
}

TEST(RouteDecision, ZeroAndHundredPercent) {
  RouteRules r;
  r.percent = 0;
  RouteRules all;
  all.percent = 100;
  for (int i = 0; i < 2000; ++i) {
    const std::string uid = "user" + std::to_string(i);
    EXPECT_EQ(Decide(r, Client(uid), {}).transport, Transport::kPoll);
    EXPECT_EQ(Decide(all, Client(uid), {}).transport, Transport::kWebSocket);
  }
  EXPECT_EQ(Say(Decide(all, Client(""), {})), "ws/percent_in");
}

TEST(RouteDecision, PercentageIsStableAndMonotonic) {
  int in10 = 0, in20 = 0;
  RouteRules p10, p20;
  p10.percent = 10;
  p20.percent = 20;
  for (int i = 0; i < 20000; ++i) {
    const std::string uid = "u" + std::to_string(i);
    const bool a = Decide(p10, Client(uid), {}).transport == Transport::kWebSocket;
    const bool b = Decide(p20, Client(uid), {}).transport == Transport::kWebSocket;
    if (a) {
      ++in10;
      EXPECT_TRUE(b) << uid << " was in at 10 % and out at 20 %";
    }
    in20 += b;
    // Same answer every time (no randomness, no state).
    EXPECT_EQ(a, Decide(p10, Client(uid), {}).transport == Transport::kWebSocket);
  }
  // The hash spreads: 10 % and 20 % of 20,000 within 1.5 points.
  EXPECT_NEAR(in10, 2000, 300);
  EXPECT_NEAR(in20, 4000, 300);
}

TEST(RouteDecision, DeviceIdStandsInForAMissingUid) {
  RouteRules r;
  r.percent = 50;
  int in = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string dev = "dev" + std::to_string(i);
    auto by_device = Decide(r, Client("", dev), {});
    // A uid with the same text lands in the same bucket: one hash for both ids.
    EXPECT_EQ(by_device.transport, Decide(r, Client(dev), {}).transport);
    in += by_device.transport != Transport::kPoll;
  }
  EXPECT_GT(in, 350);
  EXPECT_LT(in, 650);
}

TEST(RouteDecision, DegradationSendsLongConnectionsToPolling) {
  RouteRules r = With({R"({"op":"set_percent","percent":100})", R"({"op":"set_poll_at_level","level":2})"});
  EXPECT_EQ(Say(Decide(r, Client("u"), {1, false})), "ws/percent_in");
  EXPECT_EQ(Say(Decide(r, Client("u"), {2, false})), "poll/degraded");
  EXPECT_EQ(Say(Decide(r, Client("u"), {3, false})), "poll/degraded");
  // The push layer's operator switch applies at any level, even with poll_at_level 0.
  RouteRules never = With({R"({"op":"set_percent","percent":100})"});
  EXPECT_EQ(Say(Decide(never, Client("u"), {3, false})), "ws/percent_in");
  EXPECT_EQ(Say(Decide(never, Client("u"), {0, true})), "poll/degraded");
  // A poll answer keeps its own reason.
  EXPECT_EQ(Say(Decide(With({R"({"op":"deny","uid":"u"})"}), Client("u"), {3, true})), "poll/deny_uid");
}

TEST(RouteDecision, TransportFollowsTheRuleSet) {
  RouteRules r = With({R"({"op":"set_percent","percent":100})", R"({"op":"set_transport","transport":"sse"})"});
  EXPECT_EQ(Say(Decide(r, Client("u"), {})), "sse/percent_in");
}

TEST(RouteDecision, StableBucketIsFixed) {
  // Pinned values: changing the hash would move users in and out of a rollout.
  EXPECT_EQ(StableBucket(""), static_cast<int>(1469598103934665603ULL % 10000));
  EXPECT_EQ(StableBucket("u1"), StableBucket("u1"));
  EXPECT_NE(StableBucket("u1"), StableBucket("u2"));
}

}  // namespace
}  // namespace danmu::routing
