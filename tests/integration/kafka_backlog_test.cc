// Kafka backlog, scale-out and online partition growth (issue 17, DESIGN §3
// and §4) against the real stack: processor-only danmud processes of room A
// that this test starts on its own topic and consumer group (so that it can
// pause, kill -9 and grow them without disturbing the suite's danmuds), the
// suite's Kafka A/B and Redis A, and followers polling the suite's frontends
// of BOTH rooms (room B reads its Redis replica). Records are produced with
// acks=all straight to Kafka: a record whose produce was acknowledged is an
// acknowledged message. Every wait is bounded and says what it waited for;
// no assertion is about speed (the drain rate is printed; bench/run drain
// measures it against its baseline).
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/live/live_writer.h"
#include "core/model/live_keys.h"
#include "core/model/message.h"
#include "core/store/kafka_admin.h"
#include "core/store/kafka_producer.h"
#include "core/store/redis_client.h"
#include "replication/ops/admin_client.h"
#include "tests/integration/stack_env.h"

namespace danmu {
namespace {

using testing::Env;
using testing::Get;
using testing::WaitFor;

int64_t MonoMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A processor-only danmud of room A on the test's topic and group.
class ProcessorProcess {
 public:
  ProcessorProcess(const std::string& name, int admin_port, const std::string& topic, const std::string& group,
                   int session_timeout_ms, int64_t epoch)
      : name_(name), admin_url_("http://127.0.0.1:" + std::to_string(admin_port)) {
    std::string run = Env("DANMU_RUN_DIR");
    dir_ = run + "/" + name;
    std::filesystem::create_directories(dir_);
    // Room A's current epoch (after a failover and back it is > 1): a state
    // file makes the process a primary with it (unconfirmed until room B,
    // the peer, confirms it holds no newer one: replication/role_controller.h).
    if (epoch > 1) std::ofstream(dir_ + "/room-A.state") << "primary " << epoch << "\n";
    config_ = dir_ + "/config.yaml";
    std::ofstream(config_) << "room: A\nrole: primary\ncomponents: [processor]\nrun_dir: " << dir_ << "\n"
                           << "http: {bind: 127.0.0.1, public_port: " << admin_port + 100 << ", admin_port: " << admin_port << "}\n"
                           << "admin: {token_file: " << Env("DANMU_TOKEN_FILE") << "}\n"
                           << "redis: {address: \"" << Env("REDIS_A") << "\"}\n"
                           << "kafka: {brokers: \"" << Env("KAFKA_A") << "\", topic: " << topic
                           << ", consumer_group: " << group << ", session_timeout_ms: " << session_timeout_ms
                           << ", metadata_refresh_ms: 1000}\n"
                           << "peer: {room: B, public_url: \"" << Env("DANMU_B_HTTP") << "\", admin_url: \""
                           << Env("DANMU_B_ADMIN") << "\", redis: \"" << Env("REDIS_B") << "\", kafka: \"" << Env("KAFKA_B") << "\"}\n"
                           // Live sets hold every message of the test rooms; no archiver holds them.
                           << "processor: {workers: 2, batch_max: 200, batch_ceiling: 10000, live_cap: 20000, unarchived_cap: 0}\n";
  }
  ~ProcessorProcess() { Stop(); }

  void Start() {
    std::string cmd = "setsid " + Env("DANMUD_BIN") + " --config " + config_ + " >>" + Env("DANMU_RUN_DIR") +
                      "/logs/" + name_ + ".log 2>&1 < /dev/null & echo $!";
    std::string out;
    ASSERT_EQ(testing::RunCapture(cmd, &out), 0);
    pid_ = std::atoi(out.c_str());
    ASSERT_GT(pid_, 0);
    ASSERT_TRUE(WaitFor([&] { return testing::Healthy(admin_url_); }, 30000)) << name_ << " did not become healthy";
  }
  void KillHard() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int pid = pid_;
    EXPECT_TRUE(WaitFor([&] { return ::kill(pid, 0) != 0 || std::filesystem::exists("/proc/" + std::to_string(pid)) == false; }, 10000));
    pid_ = -1;
  }
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int pid = pid_;
    if (!WaitFor([&] { return ::kill(pid, 0) != 0; }, 15000)) ::kill(pid, SIGKILL);
    pid_ = -1;
  }
  core::Result<replication::RoomStatus> Status() const { return replication::AdminClient(admin_url_, "").Status(); }
  // Partitions this process owns now (empty when unreachable).
  std::set<int32_t> Owned() const {
    std::set<int32_t> out;
    auto s = Status();
    if (!s.ok()) return out;
    for (const auto& p : s->partitions) {
      if (p.owned) out.insert(p.partition);
    }
    return out;
  }
  // One series exactly as danmud writes it (the room label first); -1 when absent.
  double Metric(const std::string& series) const {
    auto r = Get(admin_url_ + "/metrics", 2000);
    if (!r.ok()) return -1;
    auto pos = r->body.find("\n" + series + " ");
    if (pos == std::string::npos) return -1;  // absent: never read as 0
    return std::stod(r->body.substr(pos + series.size() + 2));
  }
  const std::string& admin_url() const { return admin_url_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_, admin_url_, dir_, config_;
  int pid_ = -1;
};

struct Seen {
  std::string id;
  int64_t ts;
};

// Follows one live room through one frontend from a cursor taken before the
// first write; records everything it is shown.
class Follower {
 public:
  Follower(std::string base, std::string room) : base_(std::move(base)), room_(std::move(room)) {}
  ~Follower() { Stop(); }
  bool TakeStartCursor() {
    auto r = Get(base_ + "/v1/rooms/" + room_ + "/messages?limit=1");
    if (!r.ok() || r->status != 200) return false;
    Poco::JSON::Parser parser;
    cursor_ = parser.parse(r->body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("cursor");
    return !cursor_.empty();
  }
  void Start() {
    thread_ = std::thread([this] {
      while (!stop_) {
        auto r = Get(base_ + "/v1/rooms/" + room_ + "/messages?limit=200&cursor=" + cursor_);
        if (!r.ok() || r->status != 200) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          continue;
        }
        Poco::JSON::Parser parser;
        auto obj = parser.parse(r->body).extract<Poco::JSON::Object::Ptr>();
        cursor_ = obj->getValue<std::string>("cursor");
        auto arr = obj->getArray("messages");
        {
          std::lock_guard lock(mu_);
          for (size_t i = 0; i < arr->size(); ++i) {
            auto m = arr->getObject(static_cast<unsigned>(i));
            seen_.push_back({m->getValue<std::string>("id"), m->getValue<int64_t>("ts")});
            distinct_.insert(seen_.back().id);
          }
        }
        if (arr->size() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(30));
      }
    });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  size_t distinct() {
    std::lock_guard lock(mu_);
    return distinct_.size();
  }
  // Every id once, scores strictly increasing, and every id of `acked`
  // present; the first problem found, or "".
  std::string Check(const std::vector<std::string>& acked) {
    std::lock_guard lock(mu_);
    std::set<std::string> ids;
    int64_t last = 0;
    for (const auto& s : seen_) {
      if (!ids.insert(s.id).second) return "id " + s.id + " shown twice";
      if (s.ts <= last) return "score " + std::to_string(s.ts) + " after " + std::to_string(last) + " (not increasing)";
      last = s.ts;
    }
    size_t missing = 0;
    std::string first;
    for (const auto& id : acked) {
      if (!ids.count(id)) {
        if (!missing++) first = id;
      }
    }
    if (missing) return std::to_string(missing) + " acknowledged ids missing, e.g. " + first;
    return "";
  }
  // Ids in the order shown (after Stop).
  std::vector<std::string> Order() {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& s : seen_) out.push_back(s.id);
    return out;
  }
  const std::string& where() const { return base_; }
  const std::string& room() const { return room_; }

 private:
  std::string base_, room_, cursor_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Seen> seen_;            // guarded by mu_
  std::set<std::string> distinct_;    // guarded by mu_
};

class KafkaBacklogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tag_ = std::to_string(::getpid()) + "x" + std::to_string(++counter_);
    topic_ = "danmu.kbt." + tag_;
    group_ = "kbt-" + tag_;
    // The processors write with this room's epoch: room A must be the
    // active primary of the suite's stack (the test runs before failover_test).
    auto a = replication::AdminClient(Env("DANMU_A_ADMIN"), "").Status();
    ASSERT_TRUE(a.ok() && a->active_primary()) << "kafka_backlog_test needs room A as the active primary";
    epoch_ = a->epoch;
    for (const char* brokers : {"KAFKA_A", "KAFKA_B"}) {
      auto admin = core::KafkaAdmin::Create(Env(brokers));
      ASSERT_TRUE(admin.ok()) << admin.status().ToString();
      ASSERT_TRUE((*admin)->CreateTopic(topic_, 6).ok()) << "create " << topic_ << " on " << brokers;
    }
  }
  void TearDown() override {
    for (auto& f : followers_) f->Stop();
    if (HasFailure()) std::cerr << "==== merged logs ====\n" << testing::MergedLogs() << std::endl;
    procs_.clear();
  }
  ProcessorProcess& AddProcessor(int session_timeout_ms = 6000) {
    int port = std::stoi(Env("DANMU_PORT_BASE")) + 60 + static_cast<int>(procs_.size());
    procs_.push_back(std::make_unique<ProcessorProcess>("kbt-" + tag_ + "-p" + std::to_string(procs_.size() + 1), port,
                                                        topic_, group_, session_timeout_ms, epoch_));
    return *procs_.back();
  }
  // Fresh live rooms, and a follower per room in each room's frontend.
  std::vector<std::string> MakeRooms(int n) {
    std::vector<std::string> rooms;
    for (int i = 0; i < n; ++i) rooms.push_back("kbt" + tag_ + "r" + std::to_string(i));
    for (const auto& r : rooms) {
      for (const char* base : {"DANMU_A_HTTP", "DANMU_B_HTTP"}) {
        followers_.push_back(std::make_unique<Follower>(Env(base), r));
        EXPECT_TRUE(WaitFor([&] { return followers_.back()->TakeStartCursor(); }, 10000)) << "start cursor of " << r;
      }
    }
    return rooms;
  }
  std::unique_ptr<core::KafkaProducer> Producer() {
    core::KafkaOptions o;
    o.brokers = Env("KAFKA_A");
    o.topic = topic_;
    o.produce_timeout_ms = 30000;
    o.metadata_refresh_ms = 1000;
    auto p = core::KafkaProducer::Create(o, nullptr);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? std::move(*p) : nullptr;
  }
  // Produces `records` until every one is acknowledged, retrying the rest
  // after a failure as a client retries an unanswered write (the same ids:
  // the apply script drops what was delivered twice). Returns how many were
  // acknowledged (all, unless `attempts` ran out).
  static size_t ProduceAll(core::KafkaProducer& producer, const std::vector<std::pair<std::string, std::string>>& records,
                           int attempts = 20) {
    size_t done = 0;
    for (int a = 0; a < attempts && done < records.size(); ++a) {
      std::vector<std::pair<std::string, std::string>> rest(records.begin() + static_cast<long>(done), records.end());
      core::Status err;
      done += producer.ProduceMany(rest, &err);
    }
    return done;
  }
  // `n` comment records over `rooms` (round robin), ids "<tag>-<seq>".
  std::vector<std::pair<std::string, std::string>> Records(const std::vector<std::string>& rooms, int64_t from, int n,
                                                           std::vector<std::string>* ids) {
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(static_cast<size_t>(n));
    for (int64_t i = from; i < from + n; ++i) {
      core::Message m;
      m.id = tag_ + "-" + std::to_string(i);
      m.type = core::MessageType::kComment;
      m.live_room = rooms[static_cast<size_t>(i) % rooms.size()];
      m.uid = "u" + std::to_string(i % 97);
      m.text = "m" + std::to_string(i);
      m.ingest_ms = WallMs();
      out.emplace_back(core::PartitionKey(m), core::EncodePayload(m));
      ids->push_back(m.id);
    }
    return out;
  }
  // Waits until every follower saw every acked id of its room, then checks
  // each: once, in strictly increasing score order, nothing missing.
  void ExpectEveryFollowerSawEverything(const std::map<std::string, std::vector<std::string>>& acked_by_room,
                                        int timeout_ms) {
    bool all = WaitFor([&] {
      for (auto& f : followers_) {
        if (f->distinct() < acked_by_room.at(f->room()).size()) return false;
      }
      return true;
    }, timeout_ms);
    for (auto& f : followers_) f->Stop();
    size_t behind = 0;
    for (auto& f : followers_) behind += f->distinct() < acked_by_room.at(f->room()).size();
    EXPECT_TRUE(all) << behind << " of " << followers_.size() << " followers did not see every acknowledged message in "
                     << timeout_ms / 1000 << " s";
    // Each view's first problem (a missing id says which), also after a timeout.
    for (auto& f : followers_) {
      std::string problem = f->Check(acked_by_room.at(f->room()));
      EXPECT_EQ(problem, "") << "follower of " << f->room() << " via " << f->where();
    }
  }
  // Three writers producing `batch` records at a time over `rooms` (each
  // batch retried until acknowledged) until Stop(); every acknowledged id is
  // kept under its room for ExpectEveryFollowerSawEverything.
  class AckedWriters {
   public:
    AckedWriters(KafkaBacklogTest& test, const std::vector<std::string>& rooms, int batch) {
      threads_.Start(3, [this, &test, rooms, batch](int w) {
        auto producer = test.Producer();
        for (int64_t i = w * 1000000; threads_.running() && producer; i += batch) {
          std::vector<std::string> ids;
          auto records = test.Records(rooms, i, batch, &ids);
          size_t n = ProduceAll(*producer, records);
          std::lock_guard lock(mu_);
          for (size_t k = 0; k < n; ++k) by_room_[rooms[static_cast<size_t>(i + static_cast<int64_t>(k)) % rooms.size()]].push_back(ids[k]);
          acked_ += static_cast<int64_t>(n);
        }
      });
    }
    int64_t acked() const { return acked_.load(); }
    // Stops and joins the writers; the acknowledged ids by room.
    std::map<std::string, std::vector<std::string>> Stop() {
      threads_.Stop();
      std::lock_guard lock(mu_);
      return by_room_;
    }

   private:
    std::mutex mu_;
    std::map<std::string, std::vector<std::string>> by_room_;  // guarded by mu_
    std::atomic<int64_t> acked_{0};
    testing::LoadThreads threads_;  // last: joined before the members above go
  };
  std::set<int32_t> OwnedByAll() {
    std::set<int32_t> all;
    for (auto& p : procs_) {
      auto o = p->Owned();
      all.insert(o.begin(), o.end());
    }
    return all;
  }
  static std::set<int32_t> Range(int n) {
    std::set<int32_t> s;
    for (int i = 0; i < n; ++i) s.insert(i);
    return s;
  }
  int64_t LiveCount(const std::vector<std::string>& rooms) {
    core::RedisOptions o;
    o.address = Env("REDIS_A");
    core::RedisClient redis(o, "live", nullptr);
    int64_t n = 0;
    for (const auto& r : rooms) {
      auto reply = redis.Command({"ZCARD", core::keys::Msg(r, core::MessageType::kComment)});
      if (reply.ok()) n += reply->integer;
    }
    return n;
  }

  static inline int counter_ = 0;
  std::string tag_, topic_, group_;
  int64_t epoch_ = 1;
  std::vector<std::unique_ptr<ProcessorProcess>> procs_;
  std::vector<std::unique_ptr<Follower>> followers_;
};

// What makes a key's move to another partition safe: the apply script
// assigns scores when it applies, not from the record. Records of one
// (room, type) applied out of produce order - the newer ones first, as when
// the new partition is applied before the old one drains - still get scores
// above every score already visible, and a redelivery of either changes
// nothing.
TEST_F(KafkaBacklogTest, ApplyScriptAssignsIncreasingScoresWhateverTheApplyOrder) {
  core::RedisOptions o;
  o.address = Env("REDIS_A");
  core::RedisClient redis(o, "live", nullptr);
  const std::string room = "kbt" + tag_ + "order";
  auto batch = [&](int from, int n, int64_t ingest_ms) {
    std::vector<core::Message> msgs;
    std::vector<std::string> payloads;
    for (int i = from; i < from + n; ++i) {
      core::Message m;
      m.id = tag_ + "-o" + std::to_string(i);
      m.type = core::MessageType::kComment;
      m.live_room = room;
      m.uid = "u1";
      m.text = "t" + std::to_string(i);
      m.ingest_ms = ingest_ms;
      payloads.push_back(core::EncodePayload(m));
      msgs.push_back(std::move(m));
    }
    return core::BuildApplyCall(msgs, payloads, epoch_, 1000, 0);
  };
  auto old_partition = batch(0, 50, WallMs() - 60000);  // produced first, still in the old partition
  auto new_partition = batch(50, 50, WallMs());         // produced after the growth
  for (const auto* call : {&new_partition, &old_partition, &new_partition, &old_partition}) {
    auto r = redis.EvalPipeline(core::ApplyScript(), {*call});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto outcome = core::ParseApplyReply((*r)[0]);
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  }
  auto all = redis.Command({"ZRANGE", core::keys::Msg(room, core::MessageType::kComment), "0", "-1", "WITHSCORES"});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->elements.size(), 200u) << "100 messages once each (the redeliveries were dropped by id)";
  int64_t last = 0;
  std::vector<std::string> order;
  for (size_t i = 0; i < all->elements.size(); i += 2) {
    int64_t score = std::stoll(all->elements[i + 1].str);
    EXPECT_GT(score, last);
    last = score;
    order.push_back(std::string(core::PayloadId(all->elements[i].str)));
  }
  // Display order is apply order: the newer batch first (the documented
  // short reordering of a moved key), never a gap or a repeat.
  EXPECT_EQ(order.front(), tag_ + "-o50");
  EXPECT_EQ(order[50], tag_ + "-o0");
}

// A backlog of 200,000 records produced while the processor is paused drains
// after resume: every record applied exactly once, every follower sees every
// id once and in order; the batch limit grew with the backlog and came back.
TEST_F(KafkaBacklogTest, PausedBacklogOf200kDrainsOnceInOrder) {
  const int kRecords = 200000, kRooms = 40;
  auto& p = AddProcessor();
  ASSERT_NO_FATAL_FAILURE(p.Start());
  ASSERT_TRUE(WaitFor([&] { return p.Owned() == Range(6); }, 30000)) << "the processor owns all 6 partitions";
  ASSERT_TRUE(testing::AdminPost(p.admin_url() + "/v1/admin/processor/pause", "{}").ok());
  auto rooms = MakeRooms(kRooms);
  std::map<std::string, std::vector<std::string>> acked_by_room;

  // Produce with 4 producers in parallel, 10,000 records per call.
  std::vector<std::vector<std::string>> ids(4);
  std::vector<std::thread> producers;
  std::atomic<size_t> acked{0};
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&, t] {
      auto producer = Producer();
      if (!producer) return;
      for (int64_t from = t * (kRecords / 4); from < (t + 1) * (kRecords / 4); from += 5000) {
        std::vector<std::string> batch_ids;
        auto records = Records(rooms, from, 5000, &batch_ids);
        size_t n = ProduceAll(*producer, records);
        ids[t].insert(ids[t].end(), batch_ids.begin(), batch_ids.begin() + static_cast<long>(n));
        acked += n;
        if (n != records.size()) return;
      }
    });
  }
  for (auto& t : producers) t.join();
  ASSERT_EQ(acked.load(), static_cast<size_t>(kRecords)) << "every produce acknowledged";
  for (const auto& v : ids) {
    for (const auto& id : v) acked_by_room[rooms[std::stoul(id.substr(id.find('-') + 1)) % rooms.size()]].push_back(id);
  }
  // Nothing applied while paused, and the whole backlog is counted.
  ASSERT_TRUE(WaitFor([&] { auto s = p.Status(); return s.ok() && s->processor.backlog >= kRecords; }, 20000))
      << "the paused processor reports the backlog of " << kRecords;
  EXPECT_EQ(LiveCount(rooms), 0) << "a paused processor applied records";

  for (auto& f : followers_) f->Start();
  int64_t resumed = MonoMs();
  ASSERT_TRUE(testing::AdminPost(p.admin_url() + "/v1/admin/processor/resume", "{}").ok());
  int64_t max_limit = 0;
  bool drained = WaitFor([&] {
    auto s = p.Status();
    if (s.ok()) max_limit = std::max(max_limit, s->processor.batch_limit);
    return LiveCount(rooms) >= kRecords;
  }, 240000);
  double secs = (MonoMs() - resumed) / 1000.0;
  ASSERT_TRUE(drained) << "backlog not applied in 240 s: " << LiveCount(rooms) << " of " << kRecords;
  std::printf("backlog drain: %d records over %d live rooms applied in %.1f s = %.0f records/s (1 process, 2 workers), "
              "largest batch limit %lld\n", kRecords, kRooms, secs, kRecords / secs, static_cast<long long>(max_limit));
  EXPECT_EQ(LiveCount(rooms), kRecords) << "every record applied once (no repeats in the live sets)";
  // Every record counted once it was applied: as added, or - when Redis
  // applied a batch whose reply timed out and the retry found its ids - as a
  // duplicate (at-least-once; the live sets above hold each exactly once).
  // The counters move after the pipeline's reply is read: wait for them.
  const std::string added = "danmu_processor_messages_total{room=\"A\",result=\"added\",type=\"comment\"}";
  const std::string dup = "danmu_processor_messages_total{room=\"A\",result=\"duplicate\",type=\"comment\"}";
  auto counted = [&] { return p.Metric(added) + std::max(0.0, p.Metric(dup)); };
  EXPECT_TRUE(WaitFor([&] { return counted() >= kRecords; }, 30000))
      << "the processor counted " << p.Metric(added) << " added and " << p.Metric(dup) << " duplicate records of "
      << kRecords;
  EXPECT_GT(p.Metric(added), 0);
  EXPECT_LE(p.Metric(added), kRecords) << "no record added twice";
  EXPECT_GT(max_limit, 2 * 200) << "the batch limit grew with the backlog (2 workers, base 200 each)";
  ASSERT_TRUE(WaitFor([&] { auto s = p.Status(); return s.ok() && s->processor.batch_limit == 2 * 200 && s->processor.backlog == 0; }, 30000))
      << "the batch limit shrinks back to the base once the backlog is gone";
  ExpectEveryFollowerSawEverything(acked_by_room, 180000);
}

// Two processor processes share the group under write load; kill -9 one:
// every acknowledged message is visible once and in order, and the survivor
// owns every partition once the group's session timeout (6 s, set in the
// processors' config) expired.
TEST_F(KafkaBacklogTest, KillNineOfOneOfTwoProcessorsLosesAndRepeatsNothing) {
  const int kSessionMs = 6000;
  auto& p1 = AddProcessor(kSessionMs);
  auto& p2 = AddProcessor(kSessionMs);
  ASSERT_NO_FATAL_FAILURE(p1.Start());
  ASSERT_NO_FATAL_FAILURE(p2.Start());
  ASSERT_TRUE(WaitFor([&] { return OwnedByAll() == Range(6) && !p1.Owned().empty() && !p2.Owned().empty(); }, 60000))
      << "the two processes share the 6 partitions";
  auto rooms = MakeRooms(12);
  for (auto& f : followers_) f->Start();

  AckedWriters writers(*this, rooms, 50);
  ASSERT_TRUE(WaitFor([&] { return writers.acked() >= 5000; }, 180000)) << "writes flow before the kill";
  std::set<int32_t> victim = p2.Owned();
  p2.KillHard();
  int64_t killed = MonoMs();
  // The survivor takes the dead member's partitions after the session timeout.
  bool took_over = WaitFor([&] { return p1.Owned() == Range(6); }, kSessionMs + 30000);
  int64_t took_ms = MonoMs() - killed;
  ASSERT_TRUE(took_over) << "the survivor does not own every partition " << (kSessionMs + 30000) / 1000
                         << " s after the kill (session timeout " << kSessionMs / 1000 << " s)";
  std::printf("kill -9 of one of two processors: the survivor owned all 6 partitions (%zu moved) %lld ms after the kill "
              "(session timeout %d ms)\n", victim.size(), static_cast<long long>(took_ms), kSessionMs);
  int64_t at_takeover = writers.acked();
  ASSERT_TRUE(WaitFor([&] { return writers.acked() >= at_takeover + 5000; }, 180000)) << "writes continue after the kill";
  auto acked = writers.Stop();
  std::printf("kill -9: %lld acknowledged records\n", static_cast<long long>(writers.acked()));
  ExpectEveryFollowerSawEverything(acked, 120000);
}

// Partitions grown from 6 to 12 with `danmuctl kafka partitions 12` under
// write load, in both rooms' Kafka: keys that move to a new partition keep
// every follower's view gap-free and repeat-free with strictly increasing
// scores per (room, type).
TEST_F(KafkaBacklogTest, PartitionsGrownSixToTwelveUnderLoadKeepTheOrderingInvariant) {
  auto& p1 = AddProcessor();
  auto& p2 = AddProcessor();
  ASSERT_NO_FATAL_FAILURE(p1.Start());
  ASSERT_NO_FATAL_FAILURE(p2.Start());
  ASSERT_TRUE(WaitFor([&] { return OwnedByAll() == Range(6); }, 60000)) << "the processors own the 6 partitions";
  auto rooms = MakeRooms(24);
  for (auto& f : followers_) f->Start();

  AckedWriters writers(*this, rooms, 48);
  ASSERT_TRUE(WaitFor([&] { return writers.acked() >= 5000; }, 180000)) << "writes flow before the growth";

  std::string out;
  int rc = testing::RunCapture(testing::Danmuctl("kafka partitions 12 --topic " + topic_) + " 2>&1", &out);
  ASSERT_EQ(rc, 0) << out;
  std::printf("danmuctl kafka partitions 12:\n%s", out.c_str());
  for (const char* brokers : {"KAFKA_A", "KAFKA_B"}) {
    auto admin = core::KafkaAdmin::Create(Env(brokers));
    ASSERT_TRUE(admin.ok());
    auto n = (*admin)->PartitionCount(topic_);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(*n, 12) << brokers;
  }
  std::string again;
  ASSERT_EQ(testing::RunCapture(testing::Danmuctl("kafka partitions 12 --topic " + topic_) + " 2>&1", &again), 0) << again;
  EXPECT_NE(again.find("nothing to change"), std::string::npos) << again;
  std::string refused;
  EXPECT_NE(testing::RunCapture(testing::Danmuctl("kafka partitions 8 --topic " + topic_) + " 2>&1", &refused), 0)
      << "shrinking must be refused: " << refused;

  // The group picks the new partitions up, and moved keys write to them.
  ASSERT_TRUE(WaitFor([&] { return OwnedByAll() == Range(12); }, 60000)) << "the processors own all 12 partitions";
  ASSERT_TRUE(WaitFor([&] {
    auto s = p1.Status();
    if (!s.ok()) return false;
    for (const auto& p : s->partitions) {
      if (p.partition >= 6 && p.committed > 0) return true;
    }
    return false;
  }, 60000)) << "records written to a new partition were applied";
  int64_t at_growth = writers.acked();
  ASSERT_TRUE(WaitFor([&] { return writers.acked() >= at_growth + 5000; }, 180000)) << "writes continue after the growth";
  auto acked = writers.Stop();
  ExpectEveryFollowerSawEverything(acked, 120000);
  // What an operator sees: display order may differ from produce order
  // inside a moved key for a moment (counted, not asserted: allowed).
  size_t out_of_order = 0;
  for (auto& f : followers_) {
    // Per writer, ids were produced in order: compare within one writer.
    auto order = f->Order();
    std::map<int64_t, int64_t> last_seq_by_writer;
    for (const auto& id : order) {
      int64_t seq = std::stoll(id.substr(id.find('-') + 1));
      int64_t writer = seq / 1000000;
      auto [it, fresh] = last_seq_by_writer.emplace(writer, seq);
      if (!fresh) {
        if (seq < it->second) ++out_of_order;
        it->second = std::max(it->second, seq);
      }
    }
  }
  std::printf("partition growth 6 -> 12: %lld acknowledged, %zu follower views checked, %zu messages shown out of "
              "produce order across all views (a key's move; allowed and documented)\n",
              static_cast<long long>(writers.acked()), followers_.size(), out_of_order);
}

}  // namespace
}  // namespace danmu
