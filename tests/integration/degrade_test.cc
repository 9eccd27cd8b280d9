// Staged degradation through the real stack: manual levels 1-3, fleet-wide
// propagation and expiry, automatic control with hysteresis, and nothing
// acknowledged lost. The stack's danmud config uses short timings
// (scripts/stack: thin_limit 5 for rooms of >= 30 viewers, backoff step 1 s,
// auto thresholds on Kafka lag 1/2/3 s, dwell 3 s).
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/base/clock.h"
#include "core/degrade/degrade_watcher.h"
#include "core/http/http_client.h"
#include "core/model/live_keys.h"
#include "core/model/message.h"
#include "core/store/redis_client.h"
#include "tests/integration/stack_env.h"

namespace danmu {
namespace {

using testing::Env;
using testing::Get;
using testing::Post;
using testing::WaitFor;

Poco::JSON::Object::Ptr Json(const std::string& body) {
  Poco::JSON::Parser parser;
  return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
}

core::Result<core::HttpResponse> AdminPost(const char* admin_env, const std::string& path, const std::string& body) {
  return testing::AdminPost(Env(admin_env) + path, body);
}

struct Page {
  int status = 0;
  Poco::JSON::Object::Ptr obj;
};

Page PollPage(const std::string& base, const std::string& room, const std::string& cursor = "",
              const std::string& uid = "", int limit = 200) {
  std::string url = base + "/v1/rooms/" + room + "/messages?limit=" + std::to_string(limit);
  if (!cursor.empty()) url += "&cursor=" + cursor;
  if (!uid.empty()) url += "&uid=" + uid;
  Page p;
  auto r = Get(url);
  if (!r.ok()) return p;
  p.status = r->status;
  if (r->status == 200) p.obj = Json(r->body);
  return p;
}

int Level(const std::string& base, const std::string& room) {
  auto p = PollPage(base, room, "", "", 1);
  return p.obj ? p.obj->getObject("degrade")->getValue<int>("level") : -1;
}

std::string PostMsg(const std::string& base, const std::string& room, const std::string& body) {
  auto r = Post(base + "/v1/rooms/" + room + "/messages", body);
  if (!r.ok() || r->status != 202) return "";
  return Json(r->body)->getValue<std::string>("id");
}

class DegradeTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(AdminPost("DANMU_A_ADMIN", "/v1/admin/degrade/clear", "{}").ok()); }
  void TearDown() override {
    (void)AdminPost("DANMU_A_ADMIN", "/v1/admin/degrade/auto", "{\"enabled\":false}");
    (void)AdminPost("DANMU_A_ADMIN", "/v1/admin/processor/resume", "");
    (void)AdminPost("DANMU_A_ADMIN", "/v1/admin/degrade/clear", "{}");
    if (HasFailure()) std::cerr << "==== merged logs ====\n" << testing::MergedLogs(80) << std::endl;
  }
  std::string a_ = Env("DANMU_A_HTTP"), b_ = Env("DANMU_B_HTTP");
  std::set<std::string> acked_;  // comments and gifts acknowledged in this test
};

// The watcher's thread contract (degrade_watcher.h): every round - Redis
// reads and writes, expiry, the automatic controller - runs on its own loop
// thread; admin threads ask for a round and see its result. In-process, on
// the replay Redis so that the stack's rooms do not see these settings.
TEST(DegradeWatcherThreadTest, AdminRefreshesRunOnTheLoopThreadAndShowTheirWrite) {
  core::Config c;
  c.room = "T";
  c.redis.address = Env("REDIS_REPLAY");
  c.degrade.auto_enabled = true;
  c.degrade.eval_ms = 1;  // the controller evaluates on (almost) every round
  c.degrade.watch_ms = 50;
  core::RedisClient store(c.redis, "live", nullptr);
  ASSERT_TRUE(store.Command({"DEL", core::keys::kDegrade}).ok());
  std::mutex mu;
  std::set<std::thread::id> evaluated_on;  // guarded by mu
  core::DegradeWatcherHooks hooks;
  hooks.active_primary = [] { return true; };
  hooks.signals = [&] {
    std::lock_guard lock(mu);
    evaluated_on.insert(std::this_thread::get_id());
    return core::DegradeSignals{};
  };
  core::DegradeWatcher w(c, std::make_unique<core::RedisClient>(c.redis, "live", nullptr), hooks,
                         core::SystemClock::Instance(), nullptr);
  w.Start();

  // An admin write is visible as soon as its refresh returns.
  const int64_t now = core::SystemClock::Instance().NowMs();
  ASSERT_TRUE(core::DegradeWatcher::Write(store, "stream:wt", {2, now + 60000, "manual", "test", now}, nullptr, "T").ok());
  ASSERT_TRUE(w.Refresh());
  EXPECT_EQ(w.View("wt").level, 2);
  ASSERT_TRUE(core::DegradeWatcher::Clear(store, "stream:wt", "manual", nullptr, "T").ok());
  ASSERT_TRUE(w.Refresh());
  EXPECT_EQ(w.View("wt").level, 0);

  // Admin threads refreshing and toggling automatic control concurrently.
  std::vector<std::thread> admins;
  std::set<std::thread::id> admin_ids;
  for (int t = 0; t < 4; ++t) {
    admins.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        if (t == 0) w.SetAuto(i % 2 == 0);
        EXPECT_TRUE(w.Refresh());
      }
    });
    admin_ids.insert(admins.back().get_id());
  }
  for (auto& a : admins) a.join();
  w.SetAuto(true);
  EXPECT_TRUE(w.Refresh());
  w.Stop();
  (void)store.Command({"DEL", core::keys::kDegrade});
  std::lock_guard lock(mu);
  ASSERT_FALSE(evaluated_on.empty()) << "the automatic controller never ran";
  EXPECT_EQ(evaluated_on.size(), 1u) << "rounds ran on " << evaluated_on.size() << " threads";
  for (const auto& id : admin_ids) EXPECT_EQ(evaluated_on.count(id), 0u) << "a round ran on an admin thread";
}

// POST /v1/admin/degrade/auto takes exactly {"enabled": true|false}: a body
// that merely contains the word "true" never turns automatic control on.
TEST_F(DegradeTest, AutoSwitchParsesItsBody) {
  auto state = [] {
    auto g = Get(Env("DANMU_A_ADMIN") + "/v1/admin/degrade");
    return g.ok() && g->status == 200 ? g->body : std::string("unreachable");
  };
  ASSERT_NE(state().find("\"auto_enabled\":false"), std::string::npos) << state();
  for (const char* bad : {R"({"enabled":false,"reason":"true"})", R"({"enabled":"true"})", "true", "{}", ""}) {
    auto r = AdminPost("DANMU_A_ADMIN", "/v1/admin/degrade/auto", bad);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->status, 400) << bad << " -> " << r->body;
    EXPECT_NE(r->body.find("\"invalid_argument\""), std::string::npos) << r->body;
    EXPECT_NE(state().find("\"auto_enabled\":false"), std::string::npos) << bad << " -> " << state();
  }
  auto on = AdminPost("DANMU_A_ADMIN", "/v1/admin/degrade/auto", R"({"enabled":true})");
  ASSERT_TRUE(on.ok());
  EXPECT_EQ(on->status, 200) << on->body;
  EXPECT_NE(on->body.find("\"auto_enabled\":true"), std::string::npos) << on->body;
  auto off = AdminPost("DANMU_A_ADMIN", "/v1/admin/degrade/auto", R"({"enabled":false})");
  ASSERT_TRUE(off.ok());
  EXPECT_NE(off->body.find("\"auto_enabled\":false"), std::string::npos) << off->body;
}

TEST_F(DegradeTest, Level1DropsLikesButKeepsEverythingElse) {
  const std::string room = "dg1" + std::to_string(::getpid());
  auto like = [&](int n) {
    auto r = Post(a_ + "/v1/rooms/" + room + "/likes", "{\"uid\":\"fan\",\"count\":" + std::to_string(n) + "}");
    return r.ok() ? r->status : 0;
  };
  ASSERT_EQ(like(5), 202);
  ASSERT_TRUE(WaitFor([&] { auto p = PollPage(a_, room); return p.obj && p.obj->getValue<int64_t>("likes") == 5; }, 10000));
  auto set = AdminPost("DANMU_A_ADMIN", "/v1/admin/degrade", R"({"level":1,"scope":"all","for_s":60,"reason":"test level 1"})");
  ASSERT_TRUE(set.ok());
  ASSERT_EQ(set->status, 200) << set->body;
  ASSERT_TRUE(WaitFor([&] { return Level(a_, room) == 1 && Level(b_, room) == 1; }, 3000)) << "fleet-wide in both rooms";
  auto p = PollPage(b_, room);
  EXPECT_TRUE(p.obj->getObject("degrade")->getValue<bool>("likes_paused"));
  EXPECT_EQ(like(7), 202) << "likes are still acknowledged";
  std::string id = PostMsg(a_, room, R"({"type":"comment","uid":"c1","text":"still flowing"})");
  ASSERT_FALSE(id.empty()) << "comments are unaffected";
  ASSERT_TRUE(WaitFor([&] {
    auto q = PollPage(a_, room);
    return q.obj && q.obj->getArray("messages")->size() >= 1;
  }, 10000));
  EXPECT_EQ(PollPage(a_, room).obj->getValue<int64_t>("likes"), 5) << "the like total stopped moving";
  ASSERT_TRUE(AdminPost("DANMU_A_ADMIN", "/v1/admin/degrade/clear", "{}").ok());
  ASSERT_TRUE(WaitFor([&] { return Level(a_, room) == 0 && Level(b_, room) == 0; }, 3000));
  ASSERT_EQ(like(3), 202);
  EXPECT_TRUE(WaitFor([&] { auto q = PollPage(a_, room); return q.obj && q.obj->getValue<int64_t>("likes") == 8; }, 10000))
      << "likes resume after clear";
}

TEST_F(DegradeTest, Level2ThinsBigRoomsFairlyKeepingGiftsOwnAndPriority) {
  const std::string room = "dg2" + std::to_string(::getpid());
  // Make the room big: 40 viewers poll it (presence is batched, then counted).
  for (int v = 0; v < 40; ++v) PollPage(a_, room, "", "viewer" + std::to_string(v), 1);
  ASSERT_TRUE(WaitFor([&] { auto p = PollPage(a_, room); return p.obj && p.obj->getValue<int64_t>("online") >= 30; }, 15000));
  std::string start = PollPage(a_, room, "", "", 1).obj->getValue<std::string>("cursor");
  ASSERT_TRUE(AdminPost("DANMU_A_ADMIN", "/v1/admin/degrade",
                        "{\"level\":2,\"scope\":\"stream\",\"stream\":\"" + room + "\",\"for_s\":60,\"reason\":\"hot\"}").ok());
  ASSERT_TRUE(WaitFor([&] { return Level(a_, room) == 2; }, 3000));
  EXPECT_EQ(Level(a_, "someotherroom"), 0) << "a stream scope touches one live room only";
  std::set<std::string> gifts, own;
  for (int i = 0; i < 120; ++i) {
    std::string id = PostMsg(a_, room, "{\"type\":\"comment\",\"uid\":\"w" + std::to_string(i) + "\",\"text\":\"n" + std::to_string(i) + "\"}");
    ASSERT_FALSE(id.empty());
    acked_.insert(id);
    if (i % 30 == 0) {
      std::string g = PostMsg(a_, room, "{\"type\":\"gift\",\"uid\":\"g" + std::to_string(i) + "\",\"gift\":{\"id\":\"rocket\",\"count\":1}}");
      ASSERT_FALSE(g.empty());
      gifts.insert(g);
      std::string o = PostMsg(a_, room, "{\"type\":\"comment\",\"uid\":\"me\",\"text\":\"mine " + std::to_string(i) + "\"}");
      ASSERT_FALSE(o.empty());
      own.insert(o);
    }
  }
  // Wait until everything is stored, and the cache refreshed twice since.
  core::RedisOptions ro;
  ro.address = Env("REDIS_A");
  core::RedisClient redis(ro, "live", nullptr);
  ASSERT_TRUE(WaitFor([&] {
    auto c = redis.Command({"ZCARD", core::keys::Msg(room, core::MessageType::kComment)});
    auto g = redis.Command({"ZCARD", core::keys::Msg(room, core::MessageType::kGift)});
    return c.ok() && g.ok() && c->integer == 124 && g->integer == 4;
  }, 15000)) << "everything is stored; only serving is thinned";
  const std::string refreshes = "danmu_cache_refresh_roundtrips_total{room=\"A\"}";
  double r0 = testing::MetricSample("DANMU_A_ADMIN", refreshes);
  ASSERT_TRUE(WaitFor([&] { return testing::MetricSample("DANMU_A_ADMIN", refreshes) >= r0 + 2; }, 5000));
  std::set<std::string> served_union;
  for (int v = 0; v < 20; ++v) {
    std::string viewer = v == 0 ? "me" : "viewer" + std::to_string(v);
    auto p = PollPage(a_, room, start, viewer, 200);
    ASSERT_TRUE(p.obj);
    EXPECT_TRUE(p.obj->getObject("degrade")->getValue<bool>("thinned"));
    auto arr = p.obj->getArray("messages");
    int others = 0;
    std::set<std::string> got;
    for (size_t i = 0; i < arr->size(); ++i) {
      auto m = arr->getObject(static_cast<unsigned>(i));
      std::string id = m->getValue<std::string>("id");
      got.insert(id);
      if (m->getValue<std::string>("type") == "comment" && m->getValue<std::string>("uid") != viewer) {
        ++others;
        served_union.insert(id);
      }
    }
    EXPECT_LE(others, 5) << "at most K comments per poll window";
    for (const auto& g : gifts) EXPECT_TRUE(got.count(g)) << "gift " << g << " always served";
    if (viewer == "me") {
      for (const auto& o : own) EXPECT_TRUE(got.count(o)) << "the viewer's own comment " << o << " always served";
    }
  }
  // 20 polls of the same window: a first-K bias would serve the same 5 comments.
  EXPECT_GE(served_union.size(), 40u) << "the selection is spread over the window";
  for (const auto& g : gifts) acked_.insert(g);
  for (const auto& o : own) acked_.insert(o);
  // Nothing acknowledged is lost: every comment and gift is in the live set.
  std::set<std::string> stored;
  for (auto t : {core::MessageType::kComment, core::MessageType::kGift}) {
    auto all = redis.Command({"ZRANGE", core::keys::Msg(room, t), "0", "-1"});
    ASSERT_TRUE(all.ok());
    for (const auto& m : all->elements) stored.insert(std::string(core::PayloadId(m.str)));
  }
  for (const auto& id : acked_) EXPECT_TRUE(stored.count(id)) << id << " acknowledged but not stored";
}

TEST_F(DegradeTest, Level3BacksOffPollingAndObedientClientsPollLess) {
  const std::string room = "dg3" + std::to_string(::getpid());
  // Obedient clients: wait next_poll_ms (scaled by 1/10 to keep the test short).
  auto run_clients = [&](int seconds) {
    std::atomic<int> polls{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> ts;
    for (int c = 0; c < 10; ++c) {
      ts.emplace_back([&] {
        while (!stop) {
          auto p = PollPage(b_, room, "", "", 1);
          ++polls;
          int wait = p.obj ? p.obj->getValue<int>("next_poll_ms") / 10 : 100;
          for (int w = 0; w < wait && !stop; w += 10) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    stop = true;
    for (auto& t : ts) t.join();
    return polls.load();
  };
  int normal = run_clients(4);
  ASSERT_TRUE(AdminPost("DANMU_A_ADMIN", "/v1/admin/degrade", R"({"level":3,"scope":"room","room":"B","for_s":60,"reason":"backoff"})").ok());
  ASSERT_TRUE(WaitFor([&] { return Level(b_, room) == 3; }, 3000));
  EXPECT_EQ(Level(a_, room), 0) << "a room scope touches one datacenter only";
  std::vector<int> seen;
  ASSERT_TRUE(WaitFor([&] {
    int ms = PollPage(b_, room).obj->getValue<int>("next_poll_ms");
    if (seen.empty() || seen.back() != ms) seen.push_back(ms);
    return ms == 16000;
  }, 10000)) << "next_poll_ms grows to the cap";
  EXPECT_EQ(seen.front(), 4000);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_EQ(seen[i], seen[i - 1] * 2) << "stepwise doubling";
  int degraded = run_clients(4);
  std::printf("obedient clients: %d polls in 4 s at level 0, %d at level 3 (ratio %.2f)\n", normal, degraded,
              normal ? static_cast<double>(degraded) / normal : 0.0);
  EXPECT_LT(degraded * 2, normal) << "the measured poll rate falls";
}

TEST_F(DegradeTest, FleetWideSwitchExpiresByItself) {
  const std::string room = "dgx" + std::to_string(::getpid());
  double before = testing::MetricSample("DANMU_A_ADMIN", "danmu_degrade_changes_total{room=\"A\",source=\"expiry\"}");
  ASSERT_TRUE(AdminPost("DANMU_A_ADMIN", "/v1/admin/degrade", R"({"level":1,"scope":"all","for_s":2,"reason":"short"})").ok());
  ASSERT_TRUE(WaitFor([&] { return Level(a_, room) == 1 && Level(b_, room) == 1; }, 3000));
  ASSERT_TRUE(WaitFor([&] { return Level(a_, room) == 0 && Level(b_, room) == 0; }, 8000)) << "expired in both rooms";
  EXPECT_TRUE(WaitFor([&] { return testing::MetricSample("DANMU_A_ADMIN", "danmu_degrade_changes_total{room=\"A\",source=\"expiry\"}") == before + 1; }, 3000));
}

TEST_F(DegradeTest, AutomaticLevelRisesStepByStepAndFallsAfterDwellWithoutFlapping) {
  const std::string room = "dga" + std::to_string(::getpid());
  const std::string series = "danmu_degrade_changes_total{room=\"A\",source=\"auto\"}";
  double before = testing::MetricSample("DANMU_A_ADMIN", series);
  ASSERT_TRUE(AdminPost("DANMU_A_ADMIN", "/v1/admin/degrade/auto", "{\"enabled\":true}").ok());
  ASSERT_TRUE(AdminPost("DANMU_A_ADMIN", "/v1/admin/processor/pause", "").ok());
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      PostMsg(a_, room, "{\"type\":\"comment\",\"uid\":\"auto" + std::to_string(i % 50) + "\",\"text\":\"x\"}");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::vector<int> levels;
  bool reached = WaitFor([&] {
    int l = Level(a_, room);
    if (l >= 0 && (levels.empty() || levels.back() != l)) levels.push_back(l);
    return l == 3;
  }, 20000);
  stop = true;
  writer.join();
  ASSERT_TRUE(reached) << "Kafka lag raised the level to 3";
  for (size_t i = 1; i < levels.size(); ++i) EXPECT_EQ(levels[i], levels[i - 1] + 1) << "one step at a time";
  ASSERT_TRUE(AdminPost("DANMU_A_ADMIN", "/v1/admin/processor/resume", "").ok());
  auto resumed = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return Level(a_, room) < 3; }, 15000));
  auto first_step_down = std::chrono::steady_clock::now() - resumed;
  EXPECT_GE(std::chrono::duration_cast<std::chrono::milliseconds>(first_step_down).count(), 2500)
      << "the level falls only after the dwell time (3 s after the lag cleared)";
  ASSERT_TRUE(WaitFor([&] { return Level(a_, room) == 0 && Level(b_, room) == 0; }, 30000));
  EXPECT_TRUE(WaitFor([&] { return testing::MetricSample("DANMU_A_ADMIN", series) == before + 6; }, 3000))
      << "exactly 3 steps up and 3 down: no flapping (got " << testing::MetricSample("DANMU_A_ADMIN", series) - before << ")";
}

}  // namespace
}  // namespace danmu
