// The live pipeline end to end against the real stack: client -> frontend ->
// Kafka -> processor -> Redis -> (replica) -> frontend cache -> poller, in
// both rooms. Every wait is bounded and says what it waited for; a failing
// test prints the merged logs of every process.
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "core/model/live_keys.h"
#include "core/store/redis_client.h"
#include "tests/integration/stack_env.h"

namespace danmu {
namespace {

using testing::Env;
using testing::Get;
using testing::Post;
using testing::WaitFor;

struct Polled {
  std::string id;
  std::string type;
  int64_t ts;
  std::string uid;
  std::string text;
};

struct PollPage {
  int status = 0;
  std::vector<Polled> messages;
  std::string cursor;
  int64_t likes = 0;
  int64_t online = 0;
  int64_t next_poll_ms = 0;
  std::string raw;
};

PollPage Poll(const std::string& base, const std::string& room, const std::string& cursor, int limit = 200,
              const std::string& uid = "") {
  std::string url = base + "/v1/rooms/" + room + "/messages?limit=" + std::to_string(limit);
  if (!cursor.empty()) url += "&cursor=" + cursor;
  if (!uid.empty()) url += "&uid=" + uid;
  PollPage page;
  auto r = Get(url);
  if (!r.ok()) return page;
  page.status = r->status;
  page.raw = r->body;
  if (r->status != 200) return page;
  Poco::JSON::Parser parser;
  auto obj = parser.parse(r->body).extract<Poco::JSON::Object::Ptr>();
  page.cursor = obj->getValue<std::string>("cursor");
  page.likes = obj->getValue<int64_t>("likes");
  page.online = obj->getValue<int64_t>("online");
  page.next_poll_ms = obj->getValue<int64_t>("next_poll_ms");
  auto arr = obj->getArray("messages");
  for (size_t i = 0; i < arr->size(); ++i) {
    auto m = arr->getObject(static_cast<unsigned>(i));
    Polled p{m->getValue<std::string>("id"), m->getValue<std::string>("type"), m->getValue<int64_t>("ts"),
             m->getValue<std::string>("uid"), m->has("text") ? m->getValue<std::string>("text") : ""};
    page.messages.push_back(std::move(p));
  }
  return page;
}

std::string PostComment(const std::string& base, const std::string& room, const std::string& uid,
                        const std::string& text, int* status = nullptr) {
  std::string body = R"({"type":"comment","uid":")" + uid + R"(","text":")" + text + R"("})";
  auto r = Post(base + "/v1/rooms/" + room + "/messages", body);
  if (status) *status = r.ok() ? r->status : 0;
  if (!r.ok() || r->status != 202) return "";
  Poco::JSON::Parser parser;
  return parser.parse(r->body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("id");
}

class PipelineTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) std::cerr << "==== merged logs ====\n" << testing::MergedLogs() << std::endl;
  }
  std::string a_ = Env("DANMU_A_HTTP");
  std::string b_ = Env("DANMU_B_HTTP");
};

TEST_F(PipelineTest, CommentWrittenInEitherRoomIsPolledInBoth) {
  const std::string room = "rt" + std::to_string(::getpid());
  auto start = Post(a_ + "/v1/rooms/" + room + "/start", "");
  ASSERT_TRUE(start.ok());
  ASSERT_EQ(start->status, 202) << start->body;
  std::string via_a = PostComment(a_, room, "alice", "hello from A");
  ASSERT_FALSE(via_a.empty());
  std::string via_b = PostComment(b_, room, "bob", "hello via B");
  ASSERT_FALSE(via_b.empty()) << "the secondary forwards writes to the primary";
  for (const auto& base : {a_, b_}) {
    std::set<std::string> seen;
    std::string cursor;
    ASSERT_TRUE(WaitFor([&] {
      auto page = Poll(base, room, cursor);
      if (page.status != 200) return false;
      cursor = page.cursor;
      for (auto& m : page.messages) seen.insert(m.id);
      return seen.count(via_a) && seen.count(via_b);
    }, 15000)) << "both comments visible in " << base;
  }
  // The cursor is valid in the other room: after everything in A, B has nothing new.
  auto tail_a = Poll(a_, room, "");
  ASSERT_EQ(tail_a.status, 200);
  auto next_b = Poll(b_, room, tail_a.cursor);
  EXPECT_EQ(next_b.status, 200) << next_b.raw;
  EXPECT_TRUE(next_b.messages.empty()) << "no repeats when moving rooms: " << next_b.raw;
  EXPECT_GT(tail_a.next_poll_ms, 0);
}

TEST_F(PipelineTest, BadInputGetsAClear4xxAndStoresNothing) {
  const std::string room = "bad" + std::to_string(::getpid());
  core::RedisOptions ro;
  ro.address = Env("REDIS_A");
  core::RedisClient redis(ro, "live", nullptr);
  struct Case {
    std::string name, method, path, body, content_type;
    int want;
  };
  const std::string msgs = "/v1/rooms/" + room + "/messages";
  std::string bomb = std::string(100000, '[') + std::string(100000, ']');
  std::vector<Case> cases = {
      {"invalid UTF-8", "POST", msgs, "{\"type\":\"comment\",\"uid\":\"u\",\"text\":\"\xff\xfe\"}", "application/json", 400},
      {"JSON bomb", "POST", msgs, bomb.substr(0, 15000), "application/json", 400},
      {"malformed JSON", "POST", msgs, "{\"type\":", "application/json", 400},
      {"unknown type", "POST", msgs, R"({"type":"shout","uid":"u","text":"x"})", "application/json", 400},
      {"missing uid", "POST", msgs, R"({"type":"comment","text":"x"})", "application/json", 400},
      {"hostile uid", "POST", msgs, R"({"type":"comment","uid":"<script>","text":"x"})", "application/json", 400},
      {"text too long", "POST", msgs, R"({"type":"comment","uid":"u","text":")" + std::string(400, 'x') + "\"}", "application/json", 413},
      {"wrong field type", "POST", msgs, R"({"type":"comment","uid":"u","text":12})", "application/json", 400},
      {"not JSON content type", "POST", msgs, "type=comment", "application/x-www-form-urlencoded", 415},
      {"bad room id", "POST", "/v1/rooms/a%7Bb%7D/messages", R"({"type":"comment","uid":"u","text":"x"})", "application/json", 400},
      {"reserved room", "POST", "/v1/rooms/__probe/messages", R"({"type":"comment","uid":"u","text":"x"})", "application/json", 404},
      {"forged cursor", "GET", msgs + "?cursor=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "", "", 400},
      {"garbage cursor", "GET", msgs + "?cursor=%00%01%02", "", "", 400},
      {"bad limit", "GET", msgs + "?limit=-5", "", "", 400},
      {"unknown route", "GET", "/v1/nothing", "", "", 404},
      {"unknown action", "GET", "/v1/rooms/" + room + "/teleport", "", "", 404},
      {"wrong method", "DELETE", msgs, "", "", 405},
      {"bad like count", "POST", "/v1/rooms/" + room + "/likes", R"({"uid":"u","count":1000000})", "application/json", 400},
      // The pages and the status aggregate on the same port (issue 15).
      {"page path traversal", "GET", "/static/..%2f..%2fetc%2fpasswd", "", "", 404},
      {"missing page file", "GET", "/static/nope.js", "", "", 404},
      {"post to a page", "POST", "/static/client.js", "{}", "application/json", 405},
      {"watch a reserved room", "GET", "/watch/__probe", "", "", 404},
      {"bad status scope", "GET", "/v1/status?scope=everything", "", "", 400},
      {"post to the status", "POST", "/v1/status", "{}", "application/json", 405},
  };
  for (const auto& c : cases) {
    core::HttpCall call;
    call.method = c.method;
    call.url = a_ + c.path;
    call.body = c.body;
    if (!c.content_type.empty()) call.headers["Content-Type"] = c.content_type;
    call.timeout_ms = 20000;
    auto r = core::Fetch(call);
    ASSERT_TRUE(r.ok()) << c.name << ": " << r.status().ToString();
    EXPECT_EQ(r->status, c.want) << c.name << ": " << r->body;
    EXPECT_NE(r->body.find("\"error\":{\"code\":"), std::string::npos) << c.name << ": " << r->body;
  }
  // The process is still up and nothing was stored for the room.
  ASSERT_TRUE(testing::Healthy(Env("DANMU_A_ADMIN")));
  auto n = redis.Command({"ZCARD", core::keys::Msg(room, core::MessageType::kComment)});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->integer, 0);
}

TEST_F(PipelineTest, TenMegabyteBodyIsRefusedWithoutReadingIt) {
  Poco::Net::StreamSocket s(Poco::Net::SocketAddress(a_.substr(7)));
  std::string req = "POST /v1/rooms/x/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: 10485760\r\n\r\n{\"type\":";
  s.sendBytes(req.data(), static_cast<int>(req.size()));
  char buf[512] = {};
  s.setReceiveTimeout(Poco::Timespan(5, 0));
  int n = s.receiveBytes(buf, sizeof buf - 1);
  ASSERT_GT(n, 0);
  EXPECT_NE(std::string(buf, n).find("413"), std::string::npos) << std::string(buf, n);
  EXPECT_NE(std::string(buf, n).find("too_large"), std::string::npos);
}

TEST_F(PipelineTest, ConcurrentLikeBurstsAddUpExactly) {
  const std::string room = "likes" + std::to_string(::getpid());
  std::atomic<int64_t> acked{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 12; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937 rng(c);
      const std::string& base = (c % 2) ? b_ : a_;
      for (int i = 0; i < 60; ++i) {
        int count = 1 + static_cast<int>(rng() % 50);
        std::string uid = "liker" + std::to_string(c * 1000 + i);
        auto r = Post(base + "/v1/rooms/" + room + "/likes", R"({"uid":")" + uid + R"(","count":)" + std::to_string(count) + "}");
        if (r.ok() && r->status == 202) acked += count;
      }
    });
  }
  for (auto& t : clients) t.join();
  ASSERT_GT(acked.load(), 0);
  int64_t last = -1;
  ASSERT_TRUE(WaitFor([&] {
    auto pa = Poll(a_, room, "");
    auto pb = Poll(b_, room, "");
    last = pa.likes;
    return pa.likes == acked.load() && pb.likes == acked.load();
  }, 20000)) << "like total " << last << " != acknowledged " << acked.load();
}

TEST_F(PipelineTest, UsersListsRecentViewersAndOnlineCounts) {
  const std::string room = "users" + std::to_string(::getpid());
  for (int i = 0; i < 5; ++i) ASSERT_EQ(Poll(a_, room, "", 10, "viewer" + std::to_string(i)).status, 200);
  ASSERT_TRUE(WaitFor([&] {
    auto r = Get(a_ + "/v1/rooms/" + room + "/users?limit=10");
    return r.ok() && r->status == 200 && r->body.find("viewer4") != std::string::npos &&
           Poll(b_, room, "").online == 5;
  }, 15000)) << "viewers recorded in batches and counted online in both rooms";
}

// Idle and slow clients hold a server thread at most receive_timeout_ms; they
// must not starve other clients.
TEST_F(PipelineTest, IdleAndSlowClientsDoNotStarveOthers) {
  std::vector<std::unique_ptr<Poco::Net::StreamSocket>> idle;
  for (int i = 0; i < 300; ++i) {
    auto s = std::make_unique<Poco::Net::StreamSocket>(Poco::Net::SocketAddress(a_.substr(7)));
    if (i % 2) {
      std::string partial = "GET /v1/rooms/x/messages HTTP/1.1\r\nHost: slow\r\n";  // never finished
      s->sendBytes(partial.data(), static_cast<int>(partial.size()));
    }
    idle.push_back(std::move(s));
  }
  int ok = 0;
  ASSERT_TRUE(WaitFor([&] {
    auto r = Get(a_ + "/v1/rooms/starve/messages?limit=1", 2000);
    if (r.ok() && r->status == 200) ++ok;
    return ok >= 3;
  }, 20000)) << "a normal client got answers while 300 idle/slow connections were open";
}

// ---- Ordering torture -------------------------------------------------------

struct Acked {
  std::string room;
  int64_t acked_at_ms;
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

TEST_F(PipelineTest, OrderingTortureEveryAckedMessageSeenOnceInOrder) {
  const int kWriters = 8, kRooms = 3, kPollersPerRoom = 4, kTarget = 20000;
  std::vector<std::string> rooms;
  for (int r = 0; r < kRooms; ++r) rooms.push_back("tort" + std::to_string(::getpid()) + "x" + std::to_string(r));

  struct Poller {
    std::string room, base;
    std::vector<Polled> seen;                     // owned by its thread until joined
    std::map<std::string, int64_t> first_seen_ms;
    std::atomic<size_t> distinct{0};
    std::atomic<int> poll_errors{0};
  };
  std::vector<std::unique_ptr<Poller>> pollers;
  for (const auto& room : rooms) {
    for (int p = 0; p < kPollersPerRoom; ++p) {
      auto ps = std::make_unique<Poller>();
      ps->room = room;
      ps->base = p % 2 ? b_ : a_;  // half follow room A, half room B
      pollers.push_back(std::move(ps));
    }
  }
  std::atomic<bool> stop{false};
  std::atomic<int> ready{0};
  std::vector<std::thread> poll_threads;
  for (auto& ps : pollers) {
    poll_threads.emplace_back([&, st = ps.get()] {
      // The rooms are fresh: the tail cursor taken now precedes every write.
      // Bounded (the wait for `ready` below fails if a poller never gets
      // one), with a pause between failed tries.
      std::string cursor;
      for (const int64_t give_up = NowMs() + 20000; cursor.empty() && !stop && NowMs() < give_up;) {
        cursor = Poll(st->base, st->room, "", 1).cursor;
        if (cursor.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (cursor.empty()) return;
      ++ready;
      while (!stop) {
        auto page = Poll(st->base, st->room, cursor, 200);
        if (page.status != 200) {
          ++st->poll_errors;
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          continue;
        }
        cursor = page.cursor;
        int64_t t = NowMs();
        for (auto& m : page.messages) {
          st->first_seen_ms.emplace(m.id, t);
          st->seen.push_back(std::move(m));
        }
        st->distinct = st->first_seen_ms.size();
        if (page.messages.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  if (!WaitFor([&] { return ready.load() == static_cast<int>(pollers.size()); }, 25000)) {
    stop = true;
    for (auto& t : poll_threads) t.join();
    FAIL() << ready.load() << " of " << pollers.size() << " pollers got a first cursor within 20 s";
  }

  std::mutex mu;
  std::map<std::string, Acked> acked;  // guarded by mu
  std::atomic<int> n_acked{0}, n_failed{0};
  const char* types[] = {"comment", "gift", "join"};
  int64_t write_start = NowMs();
  std::vector<std::thread> writers;
  const int64_t write_deadline = write_start + 180000;  // bounded even if every write fails
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; n_acked.load() < kTarget && NowMs() < write_deadline; ++i) {
        const std::string& room = rooms[(w + i) % kRooms];
        std::string type = types[(i / kRooms) % 3];
        std::string uid = "w" + std::to_string(w) + "u" + std::to_string(i % 500);
        std::string body = R"({"type":")" + type + R"(","uid":")" + uid + "\"";
        if (type == "comment") body += R"(,"text":"c)" + std::to_string(i) + "\"";
        if (type == "gift") body += R"(,"gift":{"id":"rose","count":1})";
        body += "}";
        auto r = Post(((w % 2) ? b_ : a_) + "/v1/rooms/" + room + "/messages", body);
        if (!r.ok() || r->status != 202) {
          ++n_failed;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a pause before the retry
          continue;
        }
        Poco::JSON::Parser parser;
        auto id = parser.parse(r->body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("id");
        int64_t t = NowMs();
        std::lock_guard lock(mu);
        acked[id] = Acked{room, t};
        ++n_acked;
      }
    });
  }
  for (auto& t : writers) t.join();
  double write_secs = (NowMs() - write_start) / 1000.0;
  std::map<std::string, size_t> per_room;
  for (const auto& [id, a] : acked) per_room[a.room]++;
  bool drained = WaitFor([&] {
    for (auto& ps : pollers) {
      if (ps->distinct.load() < per_room[ps->room]) return false;
    }
    return true;
  }, 90000);
  stop = true;
  for (auto& t : poll_threads) t.join();
  int poll_errors = 0;
  for (auto& ps : pollers) poll_errors += ps->poll_errors.load();
  ASSERT_GE(n_acked.load(), kTarget) << "writers stopped at their deadline; " << n_failed.load() << " writes refused";
  ASSERT_TRUE(drained) << "not every poller saw every acknowledged message within 90 s (" << poll_errors
                       << " failed polls)";

  std::vector<int64_t> latencies;
  std::map<std::string, int64_t> first_anywhere;
  for (auto& ps : pollers) {
    std::set<std::string> ids;
    std::map<std::string, int64_t> last_ts;  // per type
    for (const auto& m : ps->seen) {
      ASSERT_TRUE(ids.insert(m.id).second) << "poller of " << ps->room << " via " << ps->base << " saw " << m.id << " twice";
      auto& last = last_ts[m.type];
      ASSERT_GT(m.ts, last) << "score order broken for type " << m.type << " in " << ps->room;
      last = m.ts;
    }
    for (const auto& [id, a] : acked) {
      if (a.room != ps->room) continue;
      ASSERT_TRUE(ids.count(id)) << "acknowledged " << id << " never seen by a poller of " << ps->room << " via " << ps->base;
      auto seen_at = ps->first_seen_ms[id];
      auto [it, inserted] = first_anywhere.emplace(id, seen_at);
      if (!inserted) it->second = std::min(it->second, seen_at);
    }
  }
  for (const auto& [id, t] : first_anywhere) latencies.push_back(std::max<int64_t>(0, t - acked[id].acked_at_ms));
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) { return latencies[static_cast<size_t>(p * (latencies.size() - 1))]; };
  std::printf("ordering torture: %d acknowledged in %.1f s = %.0f msg/s (%d refused), %zu pollers; "
              "ack->first visible to a poller p50 %lld ms, p99 %lld ms, max %lld ms\n",
              n_acked.load(), write_secs, n_acked.load() / write_secs, n_failed.load(), pollers.size(),
              static_cast<long long>(pct(0.5)), static_cast<long long>(pct(0.99)), static_cast<long long>(latencies.back()));
  // Redis read load follows rooms x frontends, not polls.
  for (const char* admin : {"DANMU_A_ADMIN", "DANMU_B_ADMIN"}) {
    auto m = Get(Env(admin) + "/metrics");
    ASSERT_TRUE(m.ok());
    std::printf("%s metrics:\n", admin);
    std::istringstream in(m->body);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("danmu_cache_hits_total", 0) == 0 || line.rfind("danmu_cache_misses_total", 0) == 0 ||
          line.rfind("danmu_cache_refresh_roundtrips_total", 0) == 0 || line.rfind("danmu_polls_total", 0) == 0 ||
          line.rfind("danmu_redis_commands_total", 0) == 0) {
        std::printf("  %s\n", line.c_str());
      }
    }
  }
}

// kill -9 the primary's danmud (processor and frontend) mid-stream and
// restart it: no acknowledged message is lost, none is visible twice.
TEST_F(PipelineTest, ProcessorKilledMidStreamLosesAndDuplicatesNothing) {
  const std::string room = "crash" + std::to_string(::getpid());
  std::string start_cursor;
  ASSERT_TRUE(WaitFor([&] { start_cursor = Poll(b_, room, "", 1).cursor; return !start_cursor.empty(); }, 10000));
  std::mutex mu;
  std::set<std::string> acked;
  std::atomic<int> failed{0};
  testing::LoadThreads writers;  // stopped and joined on every exit path
  writers.Start(4, [&](int w) {
    for (int i = 0; writers.running(); ++i) {
      std::string id = PostComment((w % 2) ? b_ : a_, room, "cw" + std::to_string(w) + "x" + std::to_string(i % 50),
                                   "m" + std::to_string(i));
      if (id.empty()) { ++failed; std::this_thread::sleep_for(std::chrono::milliseconds(20)); continue; }
      std::lock_guard lock(mu);
      acked.insert(id);
    }
  });
  auto count = [&] { std::lock_guard lock(mu); return acked.size(); };
  ASSERT_TRUE(WaitFor([&] { return count() >= 300; }, 30000)) << "writes flow before the crash";
  testing::KillHard("danmud-a");
  size_t at_kill = count();
  testing::StartDanmud("danmud-a");
  ASSERT_TRUE(WaitFor([&] { return testing::Healthy(Env("DANMU_A_ADMIN")); }, 30000)) << "danmud A restarted";
  ASSERT_TRUE(WaitFor([&] { return count() >= at_kill + 300; }, 60000)) << "writes resume after the restart";
  writers.Stop();
  std::printf("processor crash: %zu acknowledged (%zu before the kill), %d refused while down\n", acked.size(), at_kill,
              failed.load());
  // Follow the room from before the first write, in room B: everything once.
  std::set<std::string> seen;
  std::string cursor = start_cursor;
  std::string dup;
  ASSERT_TRUE(WaitFor([&] {
    auto page = Poll(b_, room, cursor, 200);
    if (page.status != 200) return false;
    cursor = page.cursor;
    for (auto& m : page.messages) {
      if (!seen.insert(m.id).second) dup = m.id;
    }
    return std::includes(seen.begin(), seen.end(), acked.begin(), acked.end()) || !dup.empty();
  }, 60000)) << "seen " << seen.size() << " of " << acked.size() << " acknowledged";
  EXPECT_TRUE(dup.empty()) << dup << " visible twice";
}

}  // namespace
}  // namespace danmu
