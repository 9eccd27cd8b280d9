#include "core/api/edge_drain_request.h"

#include <gtest/gtest.h>

namespace danmu::core {
namespace {

TEST(ParseEdgeDrain, DrainWithAndWithoutSpreadAndUndrain) {
  auto d = ParseEdgeDrain(R"({"draining":true,"over_ms":30000})", 10000);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_TRUE(d->draining);
  EXPECT_EQ(d->over_ms, 30000);
  auto def = ParseEdgeDrain(R"({"draining":true})", 10000);
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->over_ms, 10000) << "absent: push.drain_spread_ms";
  auto now = ParseEdgeDrain(R"({"draining":true,"over_ms":0})", 10000);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->over_ms, 0) << "0: every connection at once";
  auto undrain = ParseEdgeDrain(R"({"draining":false})", 10000);
  ASSERT_TRUE(undrain.ok());
  EXPECT_FALSE(undrain->draining);
}

TEST(ParseEdgeDrain, BadBodiesAreRefusedNamingTheField) {
  struct Case {
    const char* body;
    const char* names;
  };
  for (const Case& c : std::initializer_list<Case>{{"", "object"},
                                                   {"{}", "draining"},
                                                   {R"({"draining":"yes"})", "draining"},
                                                   {R"({"draining":1})", "draining"},
                                                   {R"({"draining":true,"over_ms":-1})", "over_ms"},
                                                   {R"({"draining":true,"over_ms":600001})", "over_ms"},
                                                   {R"({"draining":true,"over_ms":"30s"})", "over_ms"},
                                                   {R"({"draining":false,"over_ms":5})", "over_ms"},
                                                   {R"({"draining":true,"over":5})", "over"},
                                                   {"[true]", ""}}) {
    auto r = ParseEdgeDrain(c.body, 10000);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << c.body;
    EXPECT_NE(r.status().message().find(c.names), std::string::npos) << c.body << " -> " << r.status().message();
  }
}

}  // namespace
}  // namespace danmu::core
