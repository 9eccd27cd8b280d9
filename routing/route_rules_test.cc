#include "routing/route_rules.h"

#include <gtest/gtest.h>

namespace danmu::routing {
namespace {

RouteRules Apply(const RouteRules& r, const std::string& change_json) {
  auto c = RouteChange::Parse(change_json);
  EXPECT_TRUE(c.ok()) << change_json << ": " << c.status().message();
  if (!c.ok()) return r;
  auto next = c->Apply(r, 1000);
  EXPECT_TRUE(next.ok()) << change_json << ": " << next.status().message();
  return next.ok() ? *next : r;
}

TEST(RouteRules, JsonRoundTrip) {
  RouteRules r;
  r = Apply(r, R"({"op":"set_percent","percent":10})");
  r = Apply(r, R"({"op":"allow","uid":"u1"})");
  r = Apply(r, R"({"op":"deny","app_version":"5.0.0-5.2.9"})");
  r = Apply(r, R"({"op":"deny","platform":"ios"})");
  r = Apply(r, R"({"op":"allow","device":"dev:1"})");
  r = Apply(r, R"({"op":"kill_switch","on":true})");
  r = Apply(r, R"({"op":"set_transport","transport":"sse"})");
  r = Apply(r, R"({"op":"set_poll_at_level","level":2})");
  EXPECT_EQ(r.version, 8);
  auto back = RouteRules::FromJson(r.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().message() << " in " << r.ToJson();
  EXPECT_EQ(back->ToJson(), r.ToJson());
  EXPECT_EQ(back->percent, 10);
  EXPECT_TRUE(back->kill_switch);
  EXPECT_EQ(back->transport, "sse");
  EXPECT_EQ(back->poll_at_level, 2);
  EXPECT_EQ(back->allow.uids.count("u1"), 1u);
  EXPECT_EQ(back->allow.devices.count("dev:1"), 1u);
  ASSERT_EQ(back->deny.app_versions.size(), 1u);
  EXPECT_EQ(back->deny.app_versions[0].ToString(), "5.0.0-5.2.9");
}

TEST(RouteRules, EmptyJsonObjectIsTheDefaultRuleSet) {
  auto r = RouteRules::FromJson("{}");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->version, 0);
  EXPECT_EQ(r->percent, 0);
  EXPECT_FALSE(r->kill_switch);
  EXPECT_EQ(r->transport, "ws");
}

TEST(RouteRules, StrictParsingOfStoredRules) {
  for (const char* bad : {
           "", "[]", "nope", R"({"percent":101})", R"({"percent":-1})", R"({"percent":"10"})", R"({"percent":10.5})",
           R"({"kill_switch":1})", R"({"transport":"grpc"})", R"({"colour":"red"})", R"({"allow":{"emails":[]}})",
           R"({"allow":{"uids":"u1"}})", R"({"allow":{"uids":[1]}})", R"({"deny":{"app_versions":["9-1"]}})",
           R"({"deny":{"uids":["has space"]}})", R"({"poll_at_level":4})", R"({"version":-2})",
           R"({"allow":{"uids":[[[[["deep"]]]]]}})"}) {
    EXPECT_FALSE(RouteRules::FromJson(bad).ok()) << bad;
  }
}

TEST(RouteChange, RefusesBadChangesAndNamesTheProblem) {
  struct Case {
    const char* json;
    const char* says;
  } cases[] = {
      {R"({"op":"set_percent","percent":101})", "0..100"},
      {R"({"op":"set_percent","percent":-5})", "0..100"},
      {R"({"op":"set_percent"})", "percent"},
      {R"({"op":"set_percent","percent":5,"extra":1})", "unknown field 'extra'"},
      {R"({"op":"deny","app_version":"5.2.9-5.0.0"})", "ends below"},
      {R"({"op":"deny","app_version":"5.x"})", "numbers"},
      {R"({"op":"allow"})", "exactly one"},
      {R"({"op":"allow","uid":"a","device":"b"})", "exactly one"},
      {R"({"op":"allow","uid":"<script>"})", "uid"},
      {R"({"op":"allow","platform":"iOS"})", "platform"},
      {R"({"op":"kill_switch","on":"yes"})", "true or false"},
      {R"({"op":"set_transport","transport":"quic"})", "ws or sse"},
      {R"({"op":"remove","uid":"u"})", "list"},
      {R"({"op":"clear","list":"grey"})", "allow or deny"},
      {R"({"op":"explode"})", "unknown op"},
      {R"({"percent":5})", "'op' is required"},
      {"not json", "not valid JSON"},
      {"[1]", "object"},
  };
  for (const auto& c : cases) {
    auto r = RouteChange::Parse(c.json);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.status().code(), core::Code::kInvalidArgument) << c.json;
    EXPECT_NE(r.status().message().find(c.says), std::string::npos) << c.json << " -> " << r.status().message();
  }
}

TEST(RouteChange, ApplyNeverModifiesTheInputAndBumpsTheVersion) {
  RouteRules r;
  r.version = 7;
  auto c = RouteChange::Parse(R"({"op":"allow","app_version":"5.2"})");
  ASSERT_TRUE(c.ok());
  auto next = c->Apply(r, 42);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->version, 8);
  EXPECT_EQ(next->updated_ms, 42);
  EXPECT_TRUE(r.allow.empty());
  ASSERT_EQ(next->allow.app_versions.size(), 1u);
  EXPECT_EQ(next->allow.app_versions[0].ToString(), "5.2");
}

TEST(RouteChange, RemoveAndClear) {
  RouteRules r;
  r = Apply(r, R"({"op":"allow","uid":"u1"})");
  r = Apply(r, R"({"op":"deny","uid":"u2"})");
  r = Apply(r, R"({"op":"deny","device":"d2"})");
  auto missing = RouteChange::Parse(R"({"op":"remove","list":"allow","uid":"nobody"})");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->Apply(r, 0).status().code(), core::Code::kNotFound);
  r = Apply(r, R"({"op":"remove","list":"deny","uid":"u2"})");
  EXPECT_EQ(r.deny.size(), 1u);
  r = Apply(r, R"({"op":"clear","list":"deny"})");
  EXPECT_TRUE(r.deny.empty());
  EXPECT_EQ(r.allow.size(), 1u);
  r = Apply(r, R"({"op":"clear"})");
  EXPECT_TRUE(r.allow.empty());
}

TEST(RouteChange, CanonicalTextForTheLog) {
  auto c = RouteChange::Parse(R"({ "percent" : 20, "op" : "set_percent" })");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->text(), R"({"op":"set_percent","percent":20})");
}

}  // namespace
}  // namespace danmu::routing
