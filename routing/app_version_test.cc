#include "routing/app_version.h"

#include <gtest/gtest.h>

namespace danmu::routing {
namespace {

AppVersion V(const char* s) {
  auto v = AppVersion::Parse(s);
  EXPECT_TRUE(v.ok()) << s << ": " << v.status().message();
  return v.ok() ? *v : AppVersion();
}

TEST(AppVersion, ParsesAndCompares) {
  EXPECT_EQ(V("5.2"), V("5.2.0"));
  EXPECT_LT(V("5.2.0"), V("5.10.0"));  // numeric, not text order
  EXPECT_LT(V("5.2.9"), V("5.3"));
  EXPECT_GT(V("6"), V("5.99.99.99"));
  EXPECT_EQ(V("5.2.0.17").ToString(), "5.2.0.17");
}

TEST(AppVersion, RefusesWhatIsNotAVersion) {
  for (const char* bad : {"", ".", "5.", ".5", "5..2", "a.b", "5.2.0.1.2", "-1", "5.2-beta", "1234567", " 5"}) {
    EXPECT_FALSE(AppVersion::Parse(bad).ok()) << "'" << bad << "'";
  }
}

TEST(VersionRange, SingleAndClosedRanges) {
  auto one = VersionRange::Parse("5.2.0");
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(one->Contains(V("5.2")));
  EXPECT_FALSE(one->Contains(V("5.2.1")));
  auto range = VersionRange::Parse("5.0.0-5.2.9");
  ASSERT_TRUE(range.ok());
  EXPECT_TRUE(range->Contains(V("5.0.0")));
  EXPECT_TRUE(range->Contains(V("5.2.9")));
  EXPECT_TRUE(range->Contains(V("5.1.77")));
  EXPECT_FALSE(range->Contains(V("5.2.10")));
  EXPECT_FALSE(range->Contains(V("4.9.9")));
  EXPECT_EQ(range->ToString(), "5.0.0-5.2.9");
  auto again = VersionRange::Parse(range->ToString());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *range);
}

TEST(VersionRange, RefusesBackwardsAndMalformedRanges) {
  for (const char* bad : {"5.2.9-5.0.0", "5.0-", "-5.0", "5.0-x", "5.0--5.1", "5.0-5.1-5.2"}) {
    EXPECT_FALSE(VersionRange::Parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace danmu::routing
