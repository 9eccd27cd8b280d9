#include "core/http_types.h"

#include <gtest/gtest.h>

namespace danmu::core {
namespace {

TEST(HttpTypesTest, StatusMapping) {
  EXPECT_EQ(HttpResponse::Error(Status(Code::kInvalidArgument, "x")).status, 400);
  EXPECT_EQ(HttpResponse::Error(Status(Code::kTooLarge, "x")).status, 413);
  EXPECT_EQ(HttpResponse::Error(Status(Code::kRateLimited, "x")).status, 429);
  auto r = HttpResponse::Error(Status(Code::kUnavailable, "kafka down"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.headers["Retry-After"], "1");
  EXPECT_EQ(r.body, R"({"error":{"code":"unavailable","message":"kafka down"}})");
}

TEST(HttpTypesTest, PathSegments) {
  EXPECT_EQ(PathSegments("/v1/rooms/r1/messages"), (std::vector<std::string>{"v1", "rooms", "r1", "messages"}));
  EXPECT_EQ(PathSegments("//a///b/"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(PathSegments("/").empty());
}

}  // namespace
}  // namespace danmu::core
