#include "routing/route_cli.h"

#include <gtest/gtest.h>

namespace danmu::routing {
namespace {

std::string Body(std::vector<std::string> w) {
  auto r = RouteChangeFromArgs(w);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : "";
}

TEST(RouteCli, EveryCommandToItsChange) {
  EXPECT_EQ(Body({"set-percent", "10"}), R"({"op":"set_percent","percent":10})");
  EXPECT_EQ(Body({"allow", "--uid", "u1"}), R"({"op":"allow","uid":"u1"})");
  EXPECT_EQ(Body({"deny", "--app-version", "5.0.0-5.2.9"}), R"({"op":"deny","app_version":"5.0.0-5.2.9"})");
  EXPECT_EQ(Body({"deny", "--platform", "ios"}), R"({"op":"deny","platform":"ios"})");
  EXPECT_EQ(Body({"allow", "--device", "d-1"}), R"({"op":"allow","device":"d-1"})");
  EXPECT_EQ(Body({"remove", "deny", "--uid", "u1"}), R"({"op":"remove","list":"deny","uid":"u1"})");
  EXPECT_EQ(Body({"clear"}), R"({"op":"clear"})");
  EXPECT_EQ(Body({"clear", "allow"}), R"({"op":"clear","list":"allow"})");
  EXPECT_EQ(Body({"kill-switch", "on"}), R"({"op":"kill_switch","on":true})");
  EXPECT_EQ(Body({"kill-switch", "off"}), R"({"op":"kill_switch","on":false})");
  EXPECT_EQ(Body({"transport", "sse"}), R"({"op":"set_transport","transport":"sse"})");
  EXPECT_EQ(Body({"poll-at-level", "2"}), R"({"op":"set_poll_at_level","level":2})");
}

TEST(RouteCli, RefusesWhatTheApiWouldRefuseAndNeverThrows) {
  for (std::vector<std::string> w : std::vector<std::vector<std::string>>{
           {}, {"bogus"}, {"set-percent"}, {"set-percent", "101"}, {"set-percent", "-1"}, {"set-percent", "ten"},
           {"set-percent", "99999999999999999999"}, {"set-percent", "10", "20"}, {"allow"}, {"allow", "--uid"},
           {"allow", "--email", "x"}, {"allow", "--uid", "a b"}, {"deny", "--app-version", "5.2.9-5.0.0"},
           {"deny", "--app-version", "five"}, {"remove", "--uid", "u"}, {"remove", "grey", "--uid", "u"},
           {"clear", "both"}, {"kill-switch"}, {"kill-switch", "maybe"}, {"transport", "quic"},
           {"poll-at-level", "4"}, {"allow", "--uid", "u", "--device", "d"}, {"allow", "--uid", "\"}"}}) {
    auto r = RouteChangeFromArgs(w);
    EXPECT_FALSE(r.ok()) << (w.empty() ? "(none)" : w[0]);
    EXPECT_EQ(r.status().code(), core::Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("usage: danmuctl route"), std::string::npos);
  }
}

}  // namespace
}  // namespace danmu::routing
