#include "core/base/json_text.h"

#include <gtest/gtest.h>

namespace danmu::core {
namespace {

TEST(JsonTextTest, EscapesEverythingThatCouldBreakOutOfAStringOrPage) {
  EXPECT_EQ(JsonString("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(JsonString("<script>&"), R"("\u003cscript\u003e\u0026")");
  EXPECT_EQ(JsonString(std::string("\0\n\x1f", 3)), R"("\u0000\n\u001f")");
  EXPECT_EQ(JsonString("日本😀"), "\"日本😀\"");
}

TEST(JsonTextTest, NestingDepthIgnoresBracketsInStrings) {
  EXPECT_EQ(JsonNestingDepth(R"({"a":"[[[[{{{{"})"), 1);
  EXPECT_EQ(JsonNestingDepth(R"({"a":[{"b":[1]}]})"), 4);
  EXPECT_EQ(JsonNestingDepth(std::string(100000, '[')), 100000);
  EXPECT_EQ(JsonNestingDepth(R"({"a":"\"[{"})"), 1);
}

TEST(JsonTextTest, ErrorShape) {
  EXPECT_EQ(JsonError("bad", "m<"), R"({"error":{"code":"bad","message":"m\u003c"}})");
}

}  // namespace
}  // namespace danmu::core
