#include "core/read/poll_selection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

namespace danmu::core {
namespace {

// The model: a store of messages per type (strictly increasing scores, as
// the apply script guarantees) and a client that polls with the cursor of
// the previous answer. Candidates are what the room cache would gather:
// every message above the cursor, sorted by (score, type).
struct Msg {
  int64_t score;
  int type;
  bool thinnable;
};

std::vector<Msg> RandomStore(std::mt19937_64& rng, int n) {
  std::vector<Msg> store;
  int64_t next[kStoredTypeCount] = {};
  std::uniform_int_distribution<int> type(0, kStoredTypeCount - 1), step(1, 3), coin(0, 3);
  for (int i = 0; i < n; ++i) {
    int t = type(rng);
    next[t] += step(rng);
    store.push_back({next[t], t, t == 0 && coin(rng) != 0});  // type 0 plays the comments
  }
  return store;
}

std::vector<PollCandidate> After(const std::vector<Msg>& store, const Cursor& c, std::vector<const Msg*>* refs) {
  std::vector<const Msg*> all;
  for (const Msg& m : store) {
    if (m.score > c.after[m.type]) all.push_back(&m);
  }
  std::sort(all.begin(), all.end(), [](const Msg* a, const Msg* b) {
    return a->score != b->score ? a->score < b->score : a->type < b->type;
  });
  std::vector<PollCandidate> out;
  for (const Msg* m : all) out.push_back({m->score, m->type, m->thinnable});
  *refs = all;
  return out;
}

Cursor Tops(const std::vector<Msg>& store) {
  Cursor t;
  for (const Msg& m : store) t.after[m.type] = std::max(t.after[m.type], m.score);
  return t;
}

TEST(SelectPoll, WithoutThinningACursorWalkSeesEverythingOnceInOrder) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    const auto store = RandomStore(rng, 1 + round % 97);
    const int limit = 1 + round % 13;
    Cursor cursor;  // from the start
    std::map<std::pair<int, int64_t>, int> seen;
    for (int polls = 0; polls < 1000; ++polls) {
      std::vector<const Msg*> refs;
      auto cands = After(store, cursor, &refs);
      if (cands.empty()) break;
      auto pick = SelectPoll(cands, cursor, limit, false, 0, Tops(store), rng);
      ASSERT_FALSE(pick.thinned);
      // The model: the oldest `limit` candidates, in order.
      ASSERT_EQ(pick.served.size(), std::min<size_t>(limit, cands.size()));
      for (size_t k = 0; k < pick.served.size(); ++k) {
        ASSERT_EQ(pick.served[k], k);
        ++seen[{refs[k]->type, refs[k]->score}];
      }
      cursor = pick.next;
    }
    ASSERT_EQ(seen.size(), store.size()) << "no gap";
    for (const auto& [key, n] : seen) ASSERT_EQ(n, 1) << "no repeat";
  }
}

TEST(SelectPoll, ThinningKeepsEveryProtectedMessageAndAtMostThinLimitOthers) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 300; ++round) {
    const auto store = RandomStore(rng, 20 + round % 150);
    const int limit = 5 + round % 40;
    const int thin = 1 + round % 7;
    Cursor cursor;
    std::map<std::pair<int, int64_t>, int> served;
    int64_t last_score[kStoredTypeCount] = {};
    for (int polls = 0; polls < 5000; ++polls) {
      std::vector<const Msg*> refs;
      auto cands = After(store, cursor, &refs);
      if (cands.empty()) break;
      auto pick = SelectPoll(cands, cursor, limit, false, thin, Tops(store), rng);
      ASSERT_LE(pick.served.size(), static_cast<size_t>(limit));
      int thinnable = 0;
      for (size_t i : pick.served) {
        const Msg* m = refs[i];
        thinnable += m->thinnable;
        ASSERT_GT(m->score, last_score[m->type]) << "served in order, never twice";
        last_score[m->type] = m->score;
        ++served[{m->type, m->score}];
      }
      if (pick.thinned) ASSERT_LE(thinnable, thin);
      for (int t = 0; t < kStoredTypeCount; ++t) ASSERT_GE(pick.next.after[t], cursor.after[t]) << "the cursor never goes back";
      ASSERT_NE(pick.next, cursor) << "every poll with candidates makes progress";
      cursor = pick.next;
    }
    for (const Msg& m : store) {
      if (!m.thinnable) ASSERT_EQ(served.count({m.type, m.score}), 1u) << "protected messages are never thinned away";
    }
  }
}

TEST(SelectPoll, TheRecentTailAndBigRoomSliceJumpToTheTop) {
  std::mt19937_64 rng(3);
  const auto store = RandomStore(rng, 60);
  const Cursor tops = Tops(store);
  std::vector<const Msg*> refs;
  auto cands = After(store, Cursor{}, &refs);
  auto tail = SelectPoll(cands, std::nullopt, 10, false, 3, tops, rng);
  ASSERT_EQ(tail.served.size(), 10u);
  EXPECT_EQ(tail.served.front(), cands.size() - 10) << "the newest 10";
  EXPECT_EQ(tail.next, tops);
  EXPECT_FALSE(tail.thinned) << "no thinning without a cursor";
  auto slice = SelectPoll(cands, Cursor{}, 10, true, 0, tops, rng);
  EXPECT_EQ(slice.served.front(), cands.size() - 10);
  EXPECT_EQ(slice.next, tops);
}

}  // namespace
}  // namespace danmu::core
