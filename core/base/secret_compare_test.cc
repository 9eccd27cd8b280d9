#include "core/base/secret_compare.h"

#include <gtest/gtest.h>

#include <string>

namespace danmu::core {
namespace {

TEST(ConstantTimeEquals, EqualOnlyWhenEveryByteAndTheLengthMatch) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("s3cret", "s3cret"));
  EXPECT_FALSE(ConstantTimeEquals("s3creT", "s3cret"));
  EXPECT_FALSE(ConstantTimeEquals("x3cret", "s3cret"));
  EXPECT_FALSE(ConstantTimeEquals("s3cre", "s3cret"));    // prefix
  EXPECT_FALSE(ConstantTimeEquals("s3crets", "s3cret"));  // longer
  EXPECT_FALSE(ConstantTimeEquals("", "s3cret"));
  EXPECT_FALSE(ConstantTimeEquals("s3cret", ""));
  // Bytes that are zero, and a NUL where the shorter side has no byte.
  EXPECT_FALSE(ConstantTimeEquals(std::string("ab\0", 3), "ab"));
  EXPECT_FALSE(ConstantTimeEquals("ab", std::string("ab\0", 3)));
  EXPECT_TRUE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0b", 3)));
}

TEST(BearerTokenMatches, ExactSchemeAndToken) {
  EXPECT_TRUE(BearerTokenMatches("Bearer tok", "tok"));
  EXPECT_FALSE(BearerTokenMatches("Bearer tok ", "tok"));
  EXPECT_FALSE(BearerTokenMatches("Bearer to", "tok"));
  EXPECT_FALSE(BearerTokenMatches("Basic tok", "tok"));
  EXPECT_FALSE(BearerTokenMatches("tok", "tok"));
  EXPECT_FALSE(BearerTokenMatches("Bearertok", "tok"));
  EXPECT_FALSE(BearerTokenMatches("", "tok"));
  // No token configured: even an empty bearer does not pass.
  EXPECT_FALSE(BearerTokenMatches("Bearer ", ""));
  EXPECT_FALSE(BearerTokenMatches("", ""));
}

}  // namespace
}  // namespace danmu::core
