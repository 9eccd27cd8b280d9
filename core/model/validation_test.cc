#include "core/model/validation.h"

#include <gtest/gtest.h>

namespace danmu::core {
namespace {

struct Case {
  const char* name;
  std::string body;
  Code want;  // kOk = accepted
};

TEST(ValidationTest, MessageTable) {
  LimitOptions limits;
  limits.max_text_bytes = 20;
  const int64_t max_body = 1024;
  std::vector<Case> cases = {
      {"comment", R"({"type":"comment","uid":"u1","text":"hello"})", Code::kOk},
      {"gift", R"({"type":"gift","uid":"u1","gift":{"id":"rose","count":3}})", Code::kOk},
      {"join", R"({"type":"join","uid":"u1"})", Code::kOk},
      {"emoji and quotes", R"({"type":"comment","uid":"u1","text":"😀'\";"})", Code::kOk},
      {"empty body", "", Code::kInvalidArgument},
      {"not json", "hello", Code::kInvalidArgument},
      {"truncated", R"({"type":"comment",)", Code::kInvalidArgument},
      {"array", R"([1,2])", Code::kInvalidArgument},
      {"invalid utf8", "{\"type\":\"comment\",\"uid\":\"u\",\"text\":\"\xC3\x28\"}", Code::kInvalidArgument},
      {"json bomb", std::string(500, '[') + std::string(500, ']'), Code::kInvalidArgument},
      {"too big body", std::string(2000, ' '), Code::kTooLarge},
      {"unknown type", R"({"type":"shout","uid":"u1","text":"x"})", Code::kInvalidArgument},
      {"system is not public", R"({"type":"system","uid":"u1","text":"x"})", Code::kInvalidArgument},
      {"type not string", R"({"type":5,"uid":"u1","text":"x"})", Code::kInvalidArgument},
      {"missing uid", R"({"type":"comment","text":"x"})", Code::kInvalidArgument},
      {"bad uid chars", R"({"type":"comment","uid":"a b","text":"x"})", Code::kInvalidArgument},
      {"uid too long", R"({"type":"comment","uid":")" + std::string(65, 'a') + R"(","text":"x"})", Code::kInvalidArgument},
      {"missing text", R"({"type":"comment","uid":"u1"})", Code::kInvalidArgument},
      {"text not string", R"({"type":"comment","uid":"u1","text":["x"]})", Code::kInvalidArgument},
      {"text too long", R"({"type":"comment","uid":"u1","text":")" + std::string(21, 'x') + R"("})", Code::kTooLarge},
      {"gift missing", R"({"type":"gift","uid":"u1"})", Code::kInvalidArgument},
      {"gift count zero", R"({"type":"gift","uid":"u1","gift":{"id":"r","count":0}})", Code::kInvalidArgument},
      {"gift count huge", R"({"type":"gift","uid":"u1","gift":{"id":"r","count":99999999999999999999}})", Code::kInvalidArgument},
      {"gift on comment", R"({"type":"comment","uid":"u1","text":"x","gift":{"id":"r","count":1}})", Code::kInvalidArgument},
      {"client_ts string", R"({"type":"comment","uid":"u1","text":"x","client_ts":"now"})", Code::kInvalidArgument},
  };
  for (const auto& c : cases) {
    auto r = ParseMessagePost(c.body, "room1", limits, max_body);
    if (c.want == Code::kOk) {
      EXPECT_TRUE(r.ok()) << c.name << ": " << r.status().ToString();
    } else {
      ASSERT_FALSE(r.ok()) << c.name;
      EXPECT_EQ(r.status().code(), c.want) << c.name << ": " << r.status().ToString();
    }
  }
}

TEST(ValidationTest, LikeTable) {
  LimitOptions limits;
  limits.max_like_burst = 100;
  EXPECT_EQ(ParseLikePost(R"({"uid":"u"})", limits, 1024)->count, 1);
  EXPECT_EQ(ParseLikePost(R"({"uid":"u","count":100})", limits, 1024)->count, 100);
  EXPECT_FALSE(ParseLikePost(R"({"uid":"u","count":101})", limits, 1024).ok());
  EXPECT_FALSE(ParseLikePost(R"({"uid":"u","count":-1})", limits, 1024).ok());
  EXPECT_FALSE(ParseLikePost(R"({"count":1})", limits, 1024).ok());
}

TEST(ValidationTest, Ids) {
  EXPECT_TRUE(IsValidLiveRoom("room_1-x"));
  EXPECT_FALSE(IsValidLiveRoom(""));
  EXPECT_FALSE(IsValidLiveRoom("a{b}"));
  EXPECT_FALSE(IsValidLiveRoom("a:b"));
  EXPECT_FALSE(IsValidLiveRoom(std::string(65, 'a')));
  EXPECT_TRUE(IsReservedLiveRoom("__probe"));
  EXPECT_TRUE(IsValidUid("user.name-1_2"));
  EXPECT_FALSE(IsValidUid("a/b"));
}

}  // namespace
}  // namespace danmu::core
