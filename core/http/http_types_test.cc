#include "core/http/http_types.h"

#include <Poco/URI.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

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

TEST(HttpTypesTest, RateLimitedSaysWhenToRetry) {
  auto r = HttpResponse::RateLimited("too many messages from this uid");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers["Retry-After"], "1");
  EXPECT_EQ(r.body, R"({"error":{"code":"rate_limited","message":"too many messages from this uid"}})");
  EXPECT_EQ(HttpResponse::RateLimited("x", 5).headers["Retry-After"], "5");
}

TEST(HttpTypesTest, PathSegments) {
  EXPECT_EQ(PathSegments("/v1/rooms/r1/messages"), (std::vector<std::string>{"v1", "rooms", "r1", "messages"}));
  EXPECT_EQ(PathSegments("//a///b/"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(PathSegments("/").empty());
}

}  // namespace
}  // namespace danmu::core

namespace danmu::core {
namespace {

// The model: Poco::URI, which the server used for every request before.
void ExpectSameAsPoco(const std::string& target) {
  std::string path;
  std::map<std::string, std::string> query;
  if (!ParseSimpleTarget(target, &path, &query)) return;  // the server falls back to Poco::URI
  Poco::URI uri(target);
  std::map<std::string, std::string> expected;
  for (const auto& [k, v] : uri.getQueryParameters()) expected[k] = v;
  EXPECT_EQ(path, uri.getPath()) << target;
  EXPECT_EQ(query, expected) << target;
}

TEST(HttpTypesTest, SimpleTargetMatchesPocoUri) {
  for (const char* t : {"/", "/v1/rooms/r1/messages", "/v1/rooms/r1/messages?limit=20", "/x?a=1&b=2&a=3",
                        "/x?a", "/x?=v", "/x?&&a=&b", "/x?a=1&", "/x?a+b=c+d", "/x?a==b", "/x?", "/a/b/?c=d?e",
                        "/x?cursor=AQAAAAAAAAAAAAAAAAAAAA-_&uid=u.1"}) {
    ExpectSameAsPoco(t);
  }
  std::string path;
  std::map<std::string, std::string> query;
  EXPECT_TRUE(ParseSimpleTarget("/v1/rooms/r1/messages?limit=20&uid=a+b", &path, &query));
  EXPECT_EQ(path, "/v1/rooms/r1/messages");
  EXPECT_EQ(query, (std::map<std::string, std::string>{{"limit", "20"}, {"uid", "a b"}}));
  for (const char* t : {"/a%20b", "/x?a=%zz", "/x#frag", "//host/path", "http://h/x", "x", ""}) {
    EXPECT_FALSE(ParseSimpleTarget(t, &path, &query)) << t << " is left to Poco::URI";
  }
  // Random targets over the characters that matter.
  std::mt19937 rng(7);
  const std::string alphabet = "/?=&+ab1._-~:;,!$'()*@[]";
  for (int i = 0; i < 3000; ++i) {
    std::string t = "/";
    size_t n = rng() % 24;
    for (size_t j = 0; j < n; ++j) t.push_back(alphabet[rng() % alphabet.size()]);
    ExpectSameAsPoco(t);
  }
}

TEST(HttpTypesTest, PathSegmentViewsMatchPathSegments) {
  for (const char* p : {"/v1/rooms/r1/messages", "//a///b/", "/", "", "/a/b/c/d/e/f"}) {
    std::string_view views[4];
    size_t n = PathSegmentViews(p, views, 4);
    auto segs = PathSegments(p);
    ASSERT_EQ(n, segs.size()) << p;
    for (size_t i = 0; i < std::min<size_t>(n, 4); ++i) EXPECT_EQ(views[i], segs[i]) << p;
  }
}

}  // namespace
}  // namespace danmu::core
