#include "core/base/parse_int.h"

#include <gtest/gtest.h>

#include <limits>

namespace danmu::core {
namespace {

TEST(ParseInt64, StrictDecimal) {
  int64_t v = 7;
  EXPECT_TRUE(ParseInt64("0", &v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(ParseInt64("-42", &v));
  EXPECT_EQ(v, -42);
  EXPECT_TRUE(ParseInt64("9223372036854775807", &v));
  EXPECT_EQ(v, std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(ParseInt64("-9223372036854775808", &v));
  EXPECT_EQ(v, std::numeric_limits<int64_t>::min());
  v = 7;
  for (const char* bad : {"", "+1", " 1", "1 ", "1x", "x1", "1.0", "1e3", "0x10", "-", "9223372036854775808",
                          "99999999999999999999"}) {
    EXPECT_FALSE(ParseInt64(bad, &v)) << bad;
    EXPECT_EQ(v, 7) << "a failed parse leaves the output alone: " << bad;
  }
}

TEST(ParseInt64Or, ReadsWhatStoresReturn) {
  EXPECT_EQ(ParseInt64Or("1234"), 1234);
  EXPECT_EQ(ParseInt64Or("-5"), -5);
  EXPECT_EQ(ParseInt64Or("1.5e+3"), 1500);
  EXPECT_EQ(ParseInt64Or("1700000000123"), 1700000000123);
  EXPECT_EQ(ParseInt64Or("12.9"), 12);
  EXPECT_EQ(ParseInt64Or("-12.9"), -12);
  EXPECT_EQ(ParseInt64Or("", -1), -1);
  EXPECT_EQ(ParseInt64Or("nil", -1), -1);
  EXPECT_EQ(ParseInt64Or("12abc", -1), -1);
  EXPECT_EQ(ParseInt64Or("inf", -1), -1);
  EXPECT_EQ(ParseInt64Or("nan", -1), -1);
  EXPECT_EQ(ParseInt64Or("1e30", -1), -1);
  EXPECT_EQ(ParseInt64Or("+3", -1), -1);
}

}  // namespace
}  // namespace danmu::core
