#include "replication/role_action.h"

#include <gtest/gtest.h>

namespace danmu::replication {
namespace {

TEST(ParseRoleAction, EmptyBodyIsAllDefaults) {
  auto a = ParseRoleAction("");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->reason, "admin api");
  EXPECT_EQ(a->epoch, 0);
  EXPECT_FALSE(a->force);
}

TEST(ParseRoleAction, ReadsTheFields) {
  auto a = ParseRoleAction(R"({"reason":"switchover","epoch":8,"force":true})");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->reason, "switchover");
  EXPECT_EQ(a->epoch, 8);
  EXPECT_TRUE(a->force);
}

TEST(ParseRoleAction, RefusesBadBodies) {
  for (const char* body : {"x", "[]", R"({"force":"true"})", R"({"force":1})", R"({"epoch":"8"})", R"({"epoch":-1})",
                           R"({"epoch":1.5})", R"({"reason":{"a":1}})", R"({"forse":true})"}) {
    auto a = ParseRoleAction(body);
    EXPECT_FALSE(a.ok()) << body;
    EXPECT_EQ(a.status().code(), core::Code::kInvalidArgument) << body;
  }
}

}  // namespace
}  // namespace danmu::replication
