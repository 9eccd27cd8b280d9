#include "core/base/utf8.h"

#include <gtest/gtest.h>

namespace danmu::core {
namespace {

TEST(Utf8Test, AcceptsWellFormed) {
  for (const std::string& s : std::vector<std::string>{"", "ascii", "é", "日本語", "😀", std::string("a\0b", 3), "\xF4\x8F\xBF\xBF"}) {
    EXPECT_TRUE(IsValidUtf8(s)) << s;
  }
}

TEST(Utf8Test, RejectsMalformed) {
  for (const std::string& s : std::vector<std::string>{"\xC3", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF", "\x80",
                        "abc\xE6\x97", "\xF0\x9F\x98"}) {
    EXPECT_FALSE(IsValidUtf8(s)) << testing::PrintToString(s);
  }
}

}  // namespace
}  // namespace danmu::core
