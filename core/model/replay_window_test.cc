#include "core/model/replay_window.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <tuple>

#include "core/model/message.h"

namespace danmu::core {
namespace {

// Redis ZRANGEBYLEX over members that all have the same score, modelled with
// a std::set (bytewise order, as Redis's memcmp-then-length).
std::vector<std::string> RangeByLex(const std::set<std::string>& set, const std::string& min, const std::string& max,
                                    size_t limit) {
  auto lo = set.begin();
  if (min != "-") lo = min[0] == '[' ? set.lower_bound(min.substr(1)) : set.upper_bound(min.substr(1));
  std::vector<std::string> out;
  for (auto it = lo; it != set.end() && out.size() < limit; ++it) {
    if (max != "+") {
      const std::string bound = max.substr(1);
      if (max[0] == '[' ? *it > bound : *it >= bound) break;
    }
    out.push_back(*it);
  }
  return out;
}

using Tuple = std::tuple<int64_t, int, std::string>;

Tuple AsTuple(const ReplayPosition& p) { return {p.ts, p.type_index, p.id}; }

TEST(ReplayWindowTest, MemberRoundTripsAndSortsLikeItsTuple) {
  ReplayPosition p{1234, 2, "A-kx9-0123abcd-1"};
  std::string m = ReplayMember(p, "{\"ts\":1234,\"id\":\"x\"}");
  ReplayPosition q;
  std::string_view served;
  ASSERT_TRUE(ParseReplayMember(m, &q, &served));
  EXPECT_EQ(q, p);
  EXPECT_EQ(served, "{\"ts\":1234,\"id\":\"x\"}");
  EXPECT_FALSE(ParseReplayMember("garbage", &q, &served));
  EXPECT_FALSE(ParseReplayMember(std::string(17, '0') + "x", &q, &served));

  // Prefix ids, equal ts across types, multi-digit ts: bytes order as tuples.
  std::vector<ReplayPosition> ps = {{9, 0, "ab"}, {9, 0, "abc"}, {9, 0, "b"}, {9, 1, "a"}, {10, 0, "a"},
                                    {100, 3, "z"}, {99, 3, "zz"}, {9, 0, "a-"}, {0, 0, "0"}};
  for (const auto& a : ps) {
    for (const auto& b : ps) {
      EXPECT_EQ(ReplayMember(a, "{}") < ReplayMember(b, "{}"), AsTuple(a) < AsTuple(b))
          << a.ts << "/" << a.id << " vs " << b.ts << "/" << b.id;
    }
  }
}

TEST(ReplayWindowTest, SentinelRoundTripsAndSortsFirst) {
  ReplayRoomInfo info{1'000'000'000, 77, 12345, 3'600'000};
  std::string s = ReplaySentinel(info);
  EXPECT_TRUE(IsReplaySentinel(s));
  ReplayRoomInfo back;
  ASSERT_TRUE(ParseReplaySentinel(s, &back));
  EXPECT_EQ(back, info);
  EXPECT_LT(s, ReplayMember({0, 0, "a"}, "{}"));
  EXPECT_FALSE(ParseReplaySentinel(ReplayMember({0, 0, "a"}, "{}"), &back));
  // The sentinel is outside every window.
  std::set<std::string> set = {s, ReplayMember({0, 0, "a"}, "{}")};
  ReplayQuery q;
  auto r = ReplayLexRange(q);
  EXPECT_EQ(RangeByLex(set, r.min, r.max, 10).size(), 1u);
}

TEST(ReplayWindowTest, CursorRoundTripsAndRejectsForgeries) {
  ReplayPosition p{42, 3, "B-kx9-ffff0000-z"};
  auto back = DecodeReplayCursor(EncodeReplayCursor(p));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, p);
  for (const std::string& bad : std::vector<std::string>{"", "zz", "0", "00", EncodeReplayCursor(p) + "0", std::string(40, 'g'),
                          std::string(34, '0') /* no id */, "303030303030303030303030303030303961" /* type 9 */}) {
    EXPECT_FALSE(DecodeReplayCursor(bad).ok()) << bad;
  }
}

TEST(ReplayWindowTest, ParseQueryDefaultsAndErrors) {
  auto q = ParseReplayQuery("r1", {}, 500);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->from_ms, 0);
  EXPECT_FALSE(q->to_ms.has_value());
  EXPECT_EQ(q->limit, kReplayDefaultLimit);
  EXPECT_FALSE(q->after.has_value());

  q = ParseReplayQuery("r1", {{"from_ms", "10"}, {"to_ms", "10"}, {"limit", "100000"}}, 500);
  ASSERT_TRUE(q.ok()) << "from == to is an empty window, not an error";
  EXPECT_EQ(q->limit, 500) << "large limits are clamped";

  struct Bad {
    std::map<std::string, std::string> query;
    std::string field;
  };
  std::vector<Bad> bad = {
      {{{"from_ms", "abc"}}, "from_ms"},  {{{"from_ms", "-1"}}, "from_ms"},
      {{{"to_ms", "1e3"}}, "to_ms"},      {{{"to_ms", "99999999999999999999"}}, "to_ms"},
      {{{"from_ms", "11"}, {"to_ms", "10"}}, "from_ms"},
      {{{"limit", "0"}}, "limit"},        {{{"limit", "x"}}, "limit"},
      {{{"cursor", "nothex"}}, "cursor"}, {{{"from_ms", " 1"}}, "from_ms"},
  };
  for (const auto& b : bad) {
    auto r = ParseReplayQuery("r1", b.query, 500);
    ASSERT_FALSE(r.ok()) << b.field;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(b.field), std::string::npos) << r.status().message();
  }
}

// The model test: random rooms with many equal ts across types, random
// windows and page sizes; paging with next cursors must return exactly the
// model's messages in [from, to), in (ts, type, id) order, once each.
TEST(ReplayWindowTest, PaginationMatchesModelWithoutGapsOrRepeats) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::set<std::string> redis;
    std::set<Tuple> model;
    int n = std::uniform_int_distribution<int>(0, 80)(rng);
    int64_t span = std::uniform_int_distribution<int64_t>(1, 40)(rng);  // small span: many ties
    for (int i = 0; i < n; ++i) {
      ReplayPosition p;
      p.ts = std::uniform_int_distribution<int64_t>(1, span)(rng);
      p.type_index = std::uniform_int_distribution<int>(0, kStoredTypeCount - 1)(rng);
      int len = std::uniform_int_distribution<int>(1, 3)(rng);
      for (int k = 0; k < len; ++k) p.id.push_back("ab-_Z9"[std::uniform_int_distribution<int>(0, 5)(rng)]);
      if (!model.insert(AsTuple(p)).second) continue;
      std::string served = "{\"ts\":" + std::to_string(p.ts) + "}";
      redis.insert(ReplayMember(p, served));
    }
    redis.insert(ReplaySentinel({}));
    for (int w = 0; w < 10; ++w) {
      ReplayQuery q;
      q.from_ms = std::uniform_int_distribution<int64_t>(0, span + 1)(rng);
      if (rng() % 3) q.to_ms = q.from_ms + std::uniform_int_distribution<int64_t>(0, span)(rng);
      q.limit = std::uniform_int_distribution<int>(1, 7)(rng);
      std::vector<Tuple> want;
      for (const auto& t : model) {
        if (std::get<0>(t) >= q.from_ms && (!q.to_ms || std::get<0>(t) < *q.to_ms)) want.push_back(t);
      }
      std::vector<Tuple> got;
      for (int page = 0; page < 1000; ++page) {
        auto r = ReplayLexRange(q);
        auto members = RangeByLex(redis, r.min, r.max, q.limit + 1);
        size_t served = std::min(members.size(), static_cast<size_t>(q.limit));
        ReplayPosition last;
        for (size_t i = 0; i < served; ++i) {
          std::string_view json;
          ASSERT_TRUE(ParseReplayMember(members[i], &last, &json));
          got.push_back(AsTuple(last));
        }
        if (members.size() <= static_cast<size_t>(q.limit)) break;
        // The client round-trips the cursor as text.
        auto decoded = DecodeReplayCursor(EncodeReplayCursor(last));
        ASSERT_TRUE(decoded.ok());
        q.after = *decoded;
      }
      ASSERT_EQ(got, want) << "round " << round << " window [" << q.from_ms << ","
                           << (q.to_ms ? std::to_string(*q.to_ms) : "end") << ") limit " << q.limit;
    }
  }
}

TEST(ReplayWindowTest, CursorBeforeFromStartsAtFrom) {
  ReplayQuery q;
  q.from_ms = 100;
  q.after = ReplayPosition{50, 0, "x"};
  EXPECT_EQ(ReplayLexRange(q).min, "[0000000000000100");
  q.after = ReplayPosition{100, 0, "x"};
  EXPECT_EQ(ReplayLexRange(q).min[0], '(');
}

}  // namespace
}  // namespace danmu::core
