// The naive-design switch that bench/run measures the read path against
// (DANMU_BENCH_NAIVE_READS, RoomCache::EnableNaiveReads): against the real Redis of the test stack,
// a RoomCache in naive mode answers every poll exactly as the cache does, and
// it does read Redis on every poll (a message written straight into Redis is
// served by the next naive poll, before any refresh of the window).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/model/live_keys.h"
#include "core/model/message.h"
#include "core/read/room_cache.h"
#include "core/store/redis_client.h"
#include "tests/integration/stack_env.h"

namespace danmu {
namespace {

using testing::Env;

// The stack's Redis master (failover tests may have moved it to room B).
core::RedisOptions Redis() {
  core::RedisOptions o;
  o.timeout_ms = 5000;
  for (const char* env : {"REDIS_A", "REDIS_B"}) {
    o.address = Env(env);
    core::RedisClient c(o, "test", nullptr);
    auto r = c.Command({"ROLE"});
    if (r.ok() && !r->elements.empty() && r->elements[0].str == "master") return o;
  }
  ADD_FAILURE() << "no Redis master among REDIS_A and REDIS_B";
  return o;
}

std::string Payload(const std::string& room, int i, core::MessageType type) {
  core::Message m;
  m.id = "naive" + std::to_string(i);
  m.type = type;
  m.live_room = room;
  m.uid = "u" + std::to_string(i % 7);
  if (type == core::MessageType::kGift) m.gift = core::Gift{"rose", 1};
  else m.text = "comment " + std::to_string(i);
  return core::EncodePayload(m);
}

std::unique_ptr<core::RoomCache> Cache(bool naive) {
  core::CacheOptions c;
  core::PollOptions p;
  auto cache = std::make_unique<core::RoomCache>(c, p, std::make_unique<core::RedisClient>(Redis(), "live", nullptr),
                                                 std::make_unique<core::RedisClient>(Redis(), "live", nullptr),
                                                 core::SystemClock::Instance(), nullptr);
  if (naive) {
    std::vector<std::unique_ptr<core::RedisClient>> pool;
    for (int i = 0; i < 2; ++i) pool.push_back(std::make_unique<core::RedisClient>(Redis(), "live", nullptr));
    cache->EnableNaiveReads(std::move(pool));
  }
  return cache;
}

TEST(NaiveReadTest, AnswersLikeTheCacheAndReadsRedisEveryPoll) {
  const std::string room = "naive" + std::to_string(core::SystemClock::Instance().NowMs());
  core::RedisClient redis(Redis(), "test", nullptr);
  // 30 messages, comments with a gift every 5th, strictly increasing scores.
  for (int i = 1; i <= 30; ++i) {
    auto type = i % 5 == 0 ? core::MessageType::kGift : core::MessageType::kComment;
    auto r = redis.Command({"ZADD", core::keys::Msg(room, type), std::to_string(i * 10), Payload(room, i, type)});
    ASSERT_TRUE(r.ok() && !r->is_error()) << (r.ok() ? r->str : r.status().ToString());
  }
  auto cached = Cache(false);
  auto naive = Cache(true);

  core::PollRequest tail;
  tail.live_room = room;
  tail.limit = 20;
  auto a = cached->Poll(tail);
  auto b = naive->Poll(tail);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->count, 20);
  EXPECT_EQ(b->messages_json, a->messages_json);
  EXPECT_EQ(b->next, a->next);

  core::PollRequest after = tail;
  core::Cursor c;
  c.after = {120, 100, 0, 0};  // comments after score 120, gifts after 100
  after.cursor = c;
  a = cached->Poll(after);
  b = naive->Poll(after);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->count, 18);  // 14 comments after 120, 4 gifts after 100
  EXPECT_EQ(b->messages_json, a->messages_json);
  EXPECT_EQ(b->next, a->next);

  // A message written now is served by the next naive poll at once, while
  // the cache (not refreshed: its refresher is not started) does not see it.
  ASSERT_TRUE(redis.Command({"ZADD", core::keys::Msg(room, core::MessageType::kComment), "310",
                             Payload(room, 31, core::MessageType::kComment)}).ok());
  after.cursor->after = b->next.after;
  b = naive->Poll(after);
  a = cached->Poll(after);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(b->count, 1);
  EXPECT_NE(b->messages_json.find("naive31"), std::string::npos);
  EXPECT_EQ(a->count, 0);
  for (auto t : core::kStoredTypes) ASSERT_TRUE(redis.Command({"DEL", core::keys::Msg(room, t)}).ok());
}

}  // namespace
}  // namespace danmu
