#include "cmd/danmu-bench/bench_flags.h"

#include <gtest/gtest.h>

#include <vector>

namespace danmu::bench {
namespace {

BenchFlags Parse(std::vector<const char*> words) {
  words.insert(words.begin(), {"danmu-bench", "gen"});
  return BenchFlags(static_cast<int>(words.size()), words.data(), 2);
}

TEST(BenchFlagsTest, ReadsValuesAndDefaults) {
  auto f = Parse({"--seconds", "12", "--big-share", "0.25", "--url", "http://127.0.0.1:1"});
  EXPECT_EQ(f.Int("seconds", 5, 1), 12);
  EXPECT_EQ(f.Int("procs", 1, 1), 1);
  EXPECT_DOUBLE_EQ(f.Number("big-share", 0, 0, 1), 0.25);
  EXPECT_EQ(f.Required("url"), "http://127.0.0.1:1");
  EXPECT_EQ(f.Str("peer", "danmu"), "danmu");
  EXPECT_TRUE(f.Has("url"));
  EXPECT_FALSE(f.Has("peer"));
  EXPECT_TRUE(f.ok()) << f.error();
}

TEST(BenchFlagsTest, ANonNumberIsAnErrorNamingTheFlag) {
  auto f = Parse({"--seconds", "ten"});
  f.Int("seconds", 5, 1);
  EXPECT_FALSE(f.ok());
  EXPECT_EQ(f.error(), "--seconds must be an integer from 1 to 2147483647, got 'ten'");
}

TEST(BenchFlagsTest, TrailingGarbageAndOutOfRangeAreErrors) {
  for (const char* bad : {"12x", "", "-1", "99999999999", "1.5"}) {
    auto f = Parse({"--conns", bad});
    f.Int("conns", 64, 0, 100000);
    EXPECT_FALSE(f.ok()) << bad;
  }
  for (const char* bad : {"abc", "0.5s", "", "2", "nan"}) {
    auto f = Parse({"--big-share", bad});
    f.Number("big-share", 0, 0, 1);
    EXPECT_FALSE(f.ok()) << bad;
    EXPECT_NE(f.error().find("--big-share"), std::string::npos);
  }
}

TEST(BenchFlagsTest, MissingRequiredFlagIsNamed) {
  auto f = Parse({"--seconds", "3"});
  f.Required("brokers");
  f.RequiredInt("in-flight", 1);
  EXPECT_EQ(f.error(), "--brokers is required");  // the first problem wins
}

TEST(BenchFlagsTest, MalformedWordsAreErrors) {
  EXPECT_EQ(Parse({"seconds", "3"}).error(), "expected a flag like --seconds, got 'seconds'");
  EXPECT_EQ(Parse({"--seconds", "3", "--procs"}).error(), "--procs has no value");
  EXPECT_TRUE(Parse({}).ok());
}

TEST(BenchFlagsTest, FailKeepsTheFirstProblem) {
  auto f = Parse({});
  f.Fail("--url must be http://host:port, got 'x'");
  f.Fail("second");
  EXPECT_EQ(f.error(), "--url must be http://host:port, got 'x'");
  EXPECT_EQ(f.UsageError("gen"), 2);
}

}  // namespace
}  // namespace danmu::bench
