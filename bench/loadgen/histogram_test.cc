#include "bench/loadgen/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace danmu::bench {
namespace {

TEST(Histogram, EmptyReportsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.Percentile(0.99), 0);
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  for (int v = 1; v <= 50; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(0.5), 25);
  EXPECT_EQ(h.Percentile(1.0), 50);
  EXPECT_EQ(h.max(), 50);
}

TEST(Histogram, BucketsCoverEveryValueWithinRelativeError) {
  for (int64_t v : {64LL, 65LL, 127LL, 128LL, 1000LL, 65535LL, 1234567LL, 50000000LL}) {
    int b = Histogram::BucketOf(v);
    EXPECT_GE(Histogram::BucketUpper(b), v) << v;
    EXPECT_LE(Histogram::BucketUpper(b) - v, v / 64 + 1) << v;
    if (b > 0) { EXPECT_LT(Histogram::BucketUpper(b - 1), v) << v; }
  }
}

// Against a model: the exact percentile of a sorted vector.
TEST(Histogram, PercentilesMatchSortedModel) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(7.0, 1.5);  // ~1 ms median, long tail
  std::vector<int64_t> values;
  Histogram h;
  for (int i = 0; i < 100000; ++i) {
    auto v = static_cast<int64_t>(dist(rng));
    values.push_back(v);
    h.Record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    int64_t exact = values[static_cast<size_t>(q * values.size()) - 1];
    int64_t got = h.Percentile(q);
    EXPECT_GE(got, exact) << q;
    EXPECT_LE(got - exact, exact / 64 + 1) << q;
  }
}

TEST(Histogram, SerializeParseMergeRoundTrip) {
  Histogram a, b;
  for (int i = 0; i < 1000; ++i) a.Record(i * 37);
  for (int i = 0; i < 10; ++i) b.Record(5000000);
  Histogram pa;
  ASSERT_TRUE(Histogram::Parse(a.Serialize(), &pa));
  EXPECT_EQ(pa.count(), a.count());
  EXPECT_EQ(pa.Percentile(0.9), a.Percentile(0.9));
  pa.Merge(b);
  EXPECT_EQ(pa.count(), 1010);
  EXPECT_EQ(pa.max(), 5000000);
  EXPECT_GE(pa.Percentile(0.999), 4900000);
}

TEST(Histogram, ParseRefusesMalformedText) {
  Histogram h;
  h.Record(3);
  EXPECT_FALSE(Histogram::Parse("", &h));
  EXPECT_FALSE(Histogram::Parse("1 3 3 x:1", &h));
  EXPECT_FALSE(Histogram::Parse("2 3 3 3:1", &h));  // counts do not add up
  EXPECT_FALSE(Histogram::Parse("1 3 3 999999:1", &h));
  EXPECT_EQ(h.count(), 1);
}

}  // namespace
}  // namespace danmu::bench
