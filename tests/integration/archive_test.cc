// Archive and replay (DESIGN §5: the archiver, MySQL, the replay store) against the real stack started by scripts/test:
// the archiver runs in-process against the stack's live Redis and MariaDB;
// replays go through the running danmud frontends (FrontendHooks::replay)
// and the stack's replay Redis. Rooms are written straight into live Redis
// with the processor's own apply script (core/live/live_writer.h), so their
// encoding is exactly the processor's.
//
// Rooms written here carry no end record unless a test needs one: an
// archiver running inside the stack's danmud only picks up ended (or long
// idle) rooms, so it cannot race these tests.
#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <prometheus/text_serializer.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "core/archive/archiver.h"
#include "core/base/clock.h"
#include "core/base/config.h"
#include "core/model/live_keys.h"
#include "core/store/kafka_producer.h"
#include "core/live/live_writer.h"
#include "core/model/message.h"
#include "core/base/metrics.h"
#include "core/store/mysql_client.h"
#include "core/store/redis_client.h"
#include "core/archive/replay_store.h"
#include "core/model/replay_window.h"
#include "tests/integration/stack_env.h"

namespace danmu {
namespace {

using core::MessageType;
using testing::Env;
using testing::WaitFor;

// ---------------------------------------------------------------- stack ---

core::MysqlOptions MysqlFromEnv() {
  std::string dsn = Env("MYSQL_DSN");  // mysql://user:pass@host:port/db
  core::MysqlOptions o;
  auto at = dsn.find('@');
  auto colon = dsn.find(':', 8);
  o.user = dsn.substr(8, colon - 8);
  auto hostport = dsn.substr(at + 1, dsn.find('/', at) - at - 1);
  o.host = hostport.substr(0, hostport.find(':'));
  o.port = std::stoi(hostport.substr(hostport.find(':') + 1));
  o.database = dsn.substr(dsn.rfind('/') + 1);
  o.password_file = Env("DANMU_RUN_DIR") + "/mysql.password";
  return o;
}

core::RedisOptions RedisAt(const std::string& address) {
  core::RedisOptions o;
  o.address = address;
  o.timeout_ms = 5000;
  return o;
}

// The room whose danmud is primary right now (failover tests may have moved
// it): its live Redis master and its public/admin URLs.
struct Primary {
  std::string redis;
  std::string http;
  std::string admin;
  std::string other_http;
  std::string kafka;
};

Primary FindPrimary() {
  auto b = testing::Get(Env("DANMU_B_ADMIN") + "/healthz", 2000);
  if (b.ok() && b->body.find("\"role\":\"primary\"") != std::string::npos) {
    return {Env("REDIS_B"), Env("DANMU_B_HTTP"), Env("DANMU_B_ADMIN"), Env("DANMU_A_HTTP"), Env("KAFKA_B")};
  }
  return {Env("REDIS_A"), Env("DANMU_A_HTTP"), Env("DANMU_A_ADMIN"), Env("DANMU_B_HTTP"), Env("KAFKA_A")};
}

// True when the stack's danmud config runs the archiver component.
bool StackRunsArchiver(const std::string& room_file) {
  auto c = core::LoadConfig(Env("DANMU_RUN_DIR") + "/config/" + room_file);
  return c.ok() && c->Runs("archiver");
}

std::string NewRoom(const std::string& what) {
  static int n = 0;
  return "arch-" + std::to_string(::getpid()) + "-" + what + "-" + std::to_string(++n);
}

// ---------------------------------------------------------- live writes ---

core::Message MakeMessage(const std::string& room, MessageType type, int i, std::string text = {}) {
  core::Message m;
  m.id = room + "-" + core::TypeName(type) + "-" + std::to_string(i);
  m.type = type;
  m.live_room = room;
  m.uid = "u" + std::to_string(i % 97);
  m.ingest_ms = core::SystemClock::Instance().NowMs();
  if (type == MessageType::kGift) {
    m.gift = core::Gift{"rose", 1 + i % 5};
  } else {
    m.text = text.empty() ? core::TypeName(type) + std::string(" number ") + std::to_string(i) : std::move(text);
  }
  return m;
}

// Writes through the processor's apply script, in batches of one type; by
// default with a cap high enough that nothing is trimmed.
class LiveWriter {
 public:
  explicit LiveWriter(const std::string& address) : redis_(RedisAt(address), "live", nullptr) {}

  // Stream start far in the future: every score becomes last + 1, so each
  // type's scores are exactly 1, 2, 3, ... and equal ts across types abound.
  void DeterministicScores(const std::string& room) {
    auto r = redis_.Command({"HSET", core::keys::Meta(room), "start_ms",
                             std::to_string(core::SystemClock::Instance().NowMs() + 1'000'000'000'000)});
    ASSERT_TRUE(r.ok() && !r->is_error()) << (r.ok() ? r->str : r.status().ToString());
  }

  // Returns the messages the script evicted unarchived (past unarchived_cap).
  int64_t Write(const std::vector<core::Message>& msgs, int cap = 1'000'000, int unarchived_cap = 0) {
    int64_t evicted = 0;
    WriteInto(msgs, cap, unarchived_cap, &evicted);
    return evicted;
  }

  void WriteInto(const std::vector<core::Message>& msgs, int cap, int unarchived_cap, int64_t* evicted) {
    auto epoch = redis_.Command({"GET", core::keys::kEpoch});
    ASSERT_TRUE(epoch.ok()) << epoch.status().ToString();
    int64_t e = epoch->is_nil() ? 1 : std::stoll(epoch->str);
    std::vector<core::RedisArgs> calls;
    for (size_t i = 0; i < msgs.size();) {
      std::vector<core::Message> batch;
      std::vector<std::string> payloads;
      while (i < msgs.size() && batch.size() < 500 && (batch.empty() || msgs[i].type == batch.front().type)) {
        batch.push_back(msgs[i]);
        payloads.push_back(core::EncodePayload(msgs[i]));
        ++i;
      }
      calls.push_back(core::BuildApplyCall(batch, payloads, e, cap, unarchived_cap));
    }
    auto replies = redis_.EvalPipeline(core::ApplyScript(), calls);
    ASSERT_TRUE(replies.ok()) << replies.status().ToString();
    for (const auto& r : *replies) {
      auto outcome = core::ParseApplyReply(r);
      ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
      *evicted += outcome->evicted_unarchived;
    }
  }

  void WriteRoom(const std::string& room, const std::map<MessageType, int>& counts, int64_t likes = 0,
                 int viewers = 0) {
    std::vector<core::Message> msgs;
    for (const auto& [type, n] : counts) {
      for (int i = 0; i < n; ++i) msgs.push_back(MakeMessage(room, type, i));
    }
    ASSERT_NO_FATAL_FAILURE(Write(msgs));
    if (likes) {
      core::Message l;
      l.id = room + "-like";
      l.type = MessageType::kLike;
      l.live_room = room;
      l.count = likes;
      ASSERT_NO_FATAL_FAILURE(Write({l}));
    }
    if (viewers) {
      core::Message p;
      p.id = room + "-presence";
      p.type = MessageType::kPresence;
      p.live_room = room;
      for (int i = 0; i < viewers; ++i) p.uids.push_back("viewer" + std::to_string(i));
      ASSERT_NO_FATAL_FAILURE(Write({p}));
    }
  }

  void End(const std::string& room) {
    core::Message m = MakeMessage(room, MessageType::kSystem, 999999, "ended");
    m.uid = "system";
    ASSERT_NO_FATAL_FAILURE(Write({m}));
  }

  core::RedisClient& redis() { return redis_; }

 private:
  core::RedisClient redis_;
};

struct LiveMessage {
  MessageType type;
  int64_t ts;
  std::string payload;
};

// id -> message, read from the live sets (what the archive must equal).
std::map<std::string, LiveMessage> Snapshot(core::RedisClient& redis, const std::string& room) {
  std::map<std::string, LiveMessage> out;
  for (MessageType t : core::kStoredTypes) {
    auto r = redis.Command({"ZRANGE", core::keys::Msg(room, t), "0", "-1", "WITHSCORES"});
    EXPECT_TRUE(r.ok());
    if (!r.ok()) return out;
    for (size_t i = 0; i + 1 < r->elements.size(); i += 2) {
      const std::string& p = r->elements[i].str;
      out[std::string(core::PayloadId(p))] = {t, std::stoll(r->elements[i + 1].str), p};
    }
  }
  return out;
}

std::map<MessageType, int64_t> CountByType(const std::map<std::string, LiveMessage>& snap) {
  std::map<MessageType, int64_t> c;
  for (const auto& [id, m] : snap) ++c[m.type];
  return c;
}

int64_t ExistingKeys(core::RedisClient& redis, const std::vector<std::string>& keys) {
  core::RedisArgs cmd = {"EXISTS"};
  cmd.insert(cmd.end(), keys.begin(), keys.end());
  auto r = redis.Command(cmd);
  EXPECT_TRUE(r.ok());
  return r.ok() ? r->integer : -1;
}

// Every key the archiver frees (meta and likes are listed separately).
std::vector<std::string> DataKeys(const std::string& room) {
  std::vector<std::string> k;
  for (MessageType t : core::kStoredTypes) k.push_back(core::keys::Msg(room, t));
  for (MessageType t : {MessageType::kComment, MessageType::kGift, MessageType::kJoin, MessageType::kSystem,
                        MessageType::kLike, MessageType::kPresence}) {
    k.push_back(core::keys::Seen(room, t));
  }
  k.push_back(core::keys::Users(room));
  k.push_back(core::keys::Viewers(room));
  return k;
}

// ---------------------------------------------------------------- mysql ---

std::unique_ptr<core::MysqlClient> Db() {
  auto db = core::MysqlClient::Connect(MysqlFromEnv());
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(*db) : nullptr;
}

std::map<std::string, int64_t> RowsByType(core::MysqlClient& db, const std::string& room) {
  auto rows = db.Query("SELECT type, COUNT(*) FROM archived_messages WHERE live_room = ? GROUP BY type", {room});
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  std::map<std::string, int64_t> out;
  if (rows.ok()) {
    for (const auto& r : *rows) out[r[0]] = std::stoll(r[1]);
  }
  return out;
}

int64_t RowCount(core::MysqlClient& db, const std::string& room) {
  int64_t n = 0;
  for (const auto& [type, c] : RowsByType(db, room)) n += c;
  return n;
}

// --------------------------------------------------------------- metrics ---

// The value of the first sample of `name` whose labels include all of `labels`.
double MetricValue(const std::string& text, const std::string& name, const std::vector<std::string>& labels) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + "{", 0) != 0 && line.rfind(name + " ", 0) != 0) continue;
    bool all = true;
    for (const auto& l : labels) all = all && line.find(l) != std::string::npos;
    if (all) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

std::string Scrape(const std::string& admin_url) {
  auto r = testing::Get(admin_url + "/metrics");
  EXPECT_TRUE(r.ok());
  return r.ok() ? r->body : std::string();
}

// ------------------------------------------------------------- fixture ---

class ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    primary_ = FindPrimary();
    writer_ = std::make_unique<LiveWriter>(primary_.redis);
    config_.room = "A";
    config_.redis = RedisAt(primary_.redis);
    config_.replay_redis = RedisAt(Env("REDIS_REPLAY"));
    config_.mysql = MysqlFromEnv();
    config_.archive.batch_size = 500;
    config_.archive.end_wait_ms = 3000;
    config_.archive.live_ttl_after_archive_s = 0;
    registry_ = std::make_shared<prometheus::Registry>();
    metrics_ = std::make_unique<core::Metrics>(registry_, "A");
    db_ = Db();
    ASSERT_TRUE(db_);
  }

  std::unique_ptr<core::Archiver> MakeArchiver(core::ArchiverHooks hooks = {}) {
    if (!hooks.active) hooks.active = [] { return true; };
    auto a = core::Archiver::Create(config_, std::move(hooks), core::SystemClock::Instance(), metrics_.get());
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? std::move(*a) : nullptr;
  }

  std::string MetricsText() { return prometheus::TextSerializer().Serialize(registry_->Collect()); }

  // GET a replay page from `base`; returns the parsed body (null on non-200).
  Poco::JSON::Object::Ptr Replay(const std::string& base, const std::string& room, const std::string& query,
                                 int* status = nullptr) {
    auto r = testing::Get(base + "/v1/replays/" + room + "/messages" + (query.empty() ? "" : "?" + query), 10000);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return nullptr;
    if (status) *status = r->status;
    last_body_ = r->body;
    if (r->status != 200) return nullptr;
    Poco::JSON::Parser parser;
    return parser.parse(r->body).extract<Poco::JSON::Object::Ptr>();
  }

  // All pages of a window; fails on a repeated id.
  std::vector<std::string> ReplayAllIds(const std::string& base, const std::string& room, const std::string& window,
                                        int limit, int* pages) {
    std::vector<std::string> ids;
    std::set<std::string> seen;
    std::string cursor;
    *pages = 0;
    for (int guard = 0; guard < 10000; ++guard) {
      std::string q = window + (window.empty() ? "" : "&") + "limit=" + std::to_string(limit);
      if (!cursor.empty()) q += "&cursor=" + cursor;
      auto page = Replay(base, room, q);
      EXPECT_TRUE(page) << last_body_;
      if (!page) break;
      ++*pages;
      auto msgs = page->getArray("messages");
      EXPECT_LE(static_cast<int>(msgs->size()), limit);
      for (size_t i = 0; i < msgs->size(); ++i) {
        std::string id = msgs->getObject(static_cast<unsigned>(i))->getValue<std::string>("id");
        EXPECT_TRUE(seen.insert(id).second) << "repeated " << id << " on page " << *pages;
        ids.push_back(id);
      }
      if (page->isNull("next_cursor")) break;
      cursor = page->getValue<std::string>("next_cursor");
    }
    return ids;
  }

  Primary primary_;
  std::unique_ptr<LiveWriter> writer_;
  core::Config config_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<core::Metrics> metrics_;
  std::unique_ptr<core::MysqlClient> db_;
  std::string last_body_;
};

// ---------------------------------------------------------------- tests ---

TEST_F(ArchiveTest, ArchivesTenThousandMessagesThenFreesLiveRedis) {
  const std::string room = NewRoom("big");
  ASSERT_NO_FATAL_FAILURE(writer_->DeterministicScores(room));
  ASSERT_NO_FATAL_FAILURE(writer_->WriteRoom(
      room, {{MessageType::kComment, 7000}, {MessageType::kGift, 1500}, {MessageType::kJoin, 1400},
             {MessageType::kSystem, 100}},
      /*likes=*/123456, /*viewers=*/37));
  auto live = Snapshot(writer_->redis(), room);
  ASSERT_EQ(live.size(), 10000u);

  auto archiver = MakeArchiver();
  ASSERT_TRUE(archiver);
  core::ArchiveReport report = archiver->ArchiveRoom(room, /*wait_for_end=*/false);
  ASSERT_EQ(report.result, "ok");
  EXPECT_EQ(report.rows(), 10000);
  EXPECT_EQ(report.inserted, 10000);
  EXPECT_EQ(report.attempts, 1);
  const double rate = report.rows() / std::max(report.seconds, 0.001);
  std::printf("archive throughput: %lld rows in %.3f s = %.0f rows/s (batch_size %d)\n",
              static_cast<long long>(report.rows()), report.seconds, rate, config_.archive.batch_size);
  RecordProperty("archive_rows_per_sec", static_cast<int>(rate));

  // Row counts per type equal the live counts...
  auto by_type = RowsByType(*db_, room);
  for (const auto& [type, n] : CountByType(live)) EXPECT_EQ(by_type[core::TypeName(type)], n) << core::TypeName(type);
  // ...and every row is the live member byte-for-byte, with its score.
  auto rows = db_->Query("SELECT msg_id, type, ts_ms, payload, uid FROM archived_messages WHERE live_room = ?", {room});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), live.size());
  for (const auto& r : *rows) {
    auto it = live.find(r[0]);
    ASSERT_NE(it, live.end()) << r[0];
    EXPECT_EQ(r[1], core::TypeName(it->second.type));
    EXPECT_EQ(std::stoll(r[2]), it->second.ts);
    EXPECT_EQ(r[3], it->second.payload);
    EXPECT_EQ(r[4], core::DecodePayload(it->second.payload)->uid);
  }
  auto totals = db_->Query("SELECT likes, viewers, messages, last_ts_ms FROM archived_rooms WHERE live_room = ?", {room});
  ASSERT_TRUE(totals.ok());
  ASSERT_EQ(totals->size(), 1u);
  EXPECT_EQ((*totals)[0], (core::SqlRow{"123456", "37", "10000", "7000"}));

  // Live keys are gone (live_ttl_after_archive_s = 0: meta and likes too).
  EXPECT_EQ(ExistingKeys(writer_->redis(), DataKeys(room)), 0);
  EXPECT_EQ(ExistingKeys(writer_->redis(), {core::keys::Meta(room), core::keys::Likes(room)}), 0);

  std::string m = MetricsText();
  EXPECT_EQ(MetricValue(m, "danmu_archive_rows_total", {"type=\"comment\"", "result=\"inserted\""}), 7000);
  EXPECT_EQ(MetricValue(m, "danmu_archive_rooms_total", {"result=\"ok\""}), 1);
  EXPECT_EQ(MetricValue(m, "danmu_archive_duration_seconds_count", {}), 1);
}

TEST_F(ArchiveTest, KilledBetweenBatchesThenRerunLeavesExactlyOneRowPerMessage) {
  const std::string room = NewRoom("crash");
  ASSERT_NO_FATAL_FAILURE(writer_->WriteRoom(
      room, {{MessageType::kComment, 3000}, {MessageType::kGift, 1000}, {MessageType::kJoin, 1000}}, 50, 5));
  auto live = Snapshot(writer_->redis(), room);
  ASSERT_EQ(live.size(), 5000u);

  // Run 1 dies after its third batch (fault hook, as a crash between batches).
  {
    core::ArchiverHooks hooks;
    hooks.after_batch = [](const std::string&, int64_t rows) { return rows < 1500; };
    auto a = MakeArchiver(std::move(hooks));
    ASSERT_TRUE(a);
    auto r = a->ArchiveRoom(room, false);
    EXPECT_EQ(r.result, "aborted");
    EXPECT_EQ(RowCount(*db_, room), 1500);
  }
  // Run 2 is stopped (Archiver::Stop, as at shutdown) in the middle of gifts.
  {
    core::Archiver* self = nullptr;
    core::ArchiverHooks hooks;
    hooks.after_batch = [&self](const std::string&, int64_t rows) {
      if (rows >= 3500) self->Stop();
      return true;
    };
    auto a = MakeArchiver(std::move(hooks));
    ASSERT_TRUE(a);
    self = a.get();
    auto r = a->ArchiveRoom(room, false);
    EXPECT_EQ(r.result, "aborted");
    EXPECT_EQ(r.inserted, 2000) << "the first 1500 were already there";
    EXPECT_EQ(RowCount(*db_, room), 3500);
  }
  // Nothing was released while the archive was incomplete.
  EXPECT_EQ(Snapshot(writer_->redis(), room).size(), 5000u);
  EXPECT_EQ(ExistingKeys(writer_->redis(), {core::keys::Meta(room)}), 1);

  // Run 3, a fresh archiver (the restarted process), completes.
  auto a = MakeArchiver();
  ASSERT_TRUE(a);
  auto r = a->ArchiveRoom(room, false);
  ASSERT_EQ(r.result, "ok");
  EXPECT_EQ(r.rows(), 5000);
  EXPECT_EQ(r.inserted, 1500);
  auto distinct = db_->Query("SELECT COUNT(*), COUNT(DISTINCT msg_id) FROM archived_messages WHERE live_room = ?", {room});
  ASSERT_TRUE(distinct.ok());
  EXPECT_EQ((*distinct)[0], (core::SqlRow{"5000", "5000"}));
  auto by_type = RowsByType(*db_, room);
  for (const auto& [type, n] : CountByType(live)) EXPECT_EQ(by_type[core::TypeName(type)], n);
  EXPECT_EQ(ExistingKeys(writer_->redis(), DataKeys(room)), 0);

  // A second end for the same room changes nothing.
  r = a->ArchiveRoom(room, false);
  EXPECT_EQ(r.result, "ok");
  EXPECT_EQ(r.rows(), 0);
  EXPECT_EQ(RowCount(*db_, room), 5000);
  auto likes = db_->Query("SELECT likes, viewers, messages FROM archived_rooms WHERE live_room = ?", {room});
  ASSERT_TRUE(likes.ok());
  EXPECT_EQ((*likes)[0], (core::SqlRow{"50", "5", "5000"})) << "a re-run never lowers the totals";
}

TEST_F(ArchiveTest, MessageArrivingDuringTheArchiveIsCopiedBeforeRelease) {
  const std::string room = NewRoom("late");
  ASSERT_NO_FATAL_FAILURE(writer_->WriteRoom(room, {{MessageType::kComment, 1200}, {MessageType::kGift, 10}}));
  bool injected = false;
  core::ArchiverHooks hooks;
  hooks.after_batch = [&](const std::string&, int64_t rows) {
    if (rows > 1200 && !injected) {  // comments are copied: a late comment lands now
      injected = true;
      writer_->Write({MakeMessage(room, MessageType::kComment, 5000, "late comment")});
    }
    return true;
  };
  config_.archive.live_ttl_after_archive_s = 600;
  auto a = MakeArchiver(std::move(hooks));
  ASSERT_TRUE(a);
  auto r = a->ArchiveRoom(room, false);
  ASSERT_TRUE(injected);
  ASSERT_EQ(r.result, "ok");
  EXPECT_EQ(r.attempts, 2) << "the release saw the new score and copied again";
  EXPECT_EQ(RowsByType(*db_, room)["comment"], 1201);
  EXPECT_EQ(ExistingKeys(writer_->redis(), DataKeys(room)), 0);
  // With a TTL the meta stays, marked, so late scores keep growing.
  auto meta = writer_->redis().Command({"HGETALL", core::keys::Meta(room)});
  ASSERT_TRUE(meta.ok());
  std::vector<std::string> kv;
  for (const auto& e : meta->elements) kv.push_back(e.str);
  core::RoomMeta parsed = core::ParseRoomMeta(kv);
  EXPECT_TRUE(parsed.archived);
  EXPECT_EQ(parsed.archived_last[0], parsed.last[0]);
  auto ttl = writer_->redis().Command({"TTL", core::keys::Meta(room)});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, 600);
  EXPECT_FALSE(core::NeedsArchive(parsed, core::SystemClock::Instance().NowMs(), config_.archive.idle_end_ms));
}

TEST_F(ArchiveTest, EndJobsWaitForTheProcessorToMarkTheRoomEnded) {
  // Never ended: the job gives up after end_wait_ms, nothing copied or freed.
  const std::string idle = NewRoom("noend");
  ASSERT_NO_FATAL_FAILURE(writer_->WriteRoom(idle, {{MessageType::kComment, 20}}));
  config_.archive.end_wait_ms = 300;
  auto a = MakeArchiver();
  ASSERT_TRUE(a);
  auto r = a->ArchiveRoom(idle, /*wait_for_end=*/true);
  EXPECT_EQ(r.result, "not_ended");
  EXPECT_EQ(RowCount(*db_, idle), 0);
  EXPECT_EQ(Snapshot(writer_->redis(), idle).size(), 20u);

  // The end record is applied while the job waits: archived, end included.
  const std::string room = NewRoom("end");
  ASSERT_NO_FATAL_FAILURE(writer_->WriteRoom(room, {{MessageType::kComment, 20}}));
  config_.archive.end_wait_ms = 10000;
  auto job = std::async(std::launch::async, [&] { return a->ArchiveRoom(room, true); });
  LiveWriter other(primary_.redis);
  ASSERT_NO_FATAL_FAILURE(other.End(room));
  auto done = job.get();
  // A danmud archiver of the stack may have released it first; either way
  // the archive is complete.
  EXPECT_EQ(done.result, "ok");
  auto by_type = RowsByType(*db_, room);
  EXPECT_EQ(by_type["comment"], 20);
  EXPECT_EQ(by_type["system"], 1);
  EXPECT_EQ(MetricValue(MetricsText(), "danmu_archive_rooms_total", {"result=\"not_ended\""}), 1);
}

TEST_F(ArchiveTest, ScanFindsEndedUnarchivedRooms) {
  const std::string ended = NewRoom("scan-ended");
  const std::string live = NewRoom("scan-live");
  ASSERT_NO_FATAL_FAILURE(writer_->WriteRoom(ended, {{MessageType::kComment, 5}}));
  ASSERT_NO_FATAL_FAILURE(writer_->End(ended));
  ASSERT_NO_FATAL_FAILURE(writer_->WriteRoom(live, {{MessageType::kComment, 5}}));
  auto a = MakeArchiver();
  ASSERT_TRUE(a);
  auto found = a->Scan();
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  std::set<std::string> rooms(found->begin(), found->end());
  EXPECT_EQ(rooms.count(live), 0u) << "a live room is not archived";
  if (!rooms.count(ended)) {
    // Only acceptable when the stack's own archiver got there first.
    EXPECT_EQ(RowsByType(*db_, ended)["comment"], 5) << "the ended room was neither found nor archived";
  }
  EXPECT_EQ(a->ArchiveRoom(ended, false).result, "ok");
  found = a->Scan();
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(std::count(found->begin(), found->end(), ended), 0) << "archived rooms are not found again";
}

TEST_F(ArchiveTest, ReplayWindowsAndPagesThroughTheFrontends) {
  const std::string room = NewRoom("replay");
  ASSERT_NO_FATAL_FAILURE(writer_->DeterministicScores(room));
  // ts 1..40 comments, 1..20 gifts, 1..10 joins, 1..5 system: up to four
  // messages share each ts.
  ASSERT_NO_FATAL_FAILURE(writer_->WriteRoom(
      room, {{MessageType::kComment, 40}, {MessageType::kGift, 20}, {MessageType::kJoin, 10}, {MessageType::kSystem, 5}},
      7, 3));
  auto live = Snapshot(writer_->redis(), room);
  ASSERT_EQ(live.size(), 75u);
  // The documented order: (ts, type index, id).
  std::vector<std::tuple<int64_t, int, std::string>> order;
  for (const auto& [id, m] : live) order.emplace_back(m.ts, core::StoredTypeIndex(m.type), id);
  std::sort(order.begin(), order.end());
  auto window = [&](int64_t from, std::optional<int64_t> to) {
    std::string json = "[";
    std::vector<std::string> ids;
    for (const auto& [ts, t, id] : order) {
      if (ts < from || (to && ts >= *to)) continue;
      if (ids.size()) json += ",";
      core::AppendServed(json, ts, live[id].payload);
      ids.push_back(id);
    }
    return std::make_pair(json + "]", ids);
  };

  // Not archived yet: 404, and nothing is loaded.
  int status = 0;
  Replay(primary_.http, room, "", &status);
  EXPECT_EQ(status, 404) << last_body_;
  EXPECT_NE(last_body_.find("{\"error\":{\"code\":\"not_found\""), std::string::npos) << last_body_;

  auto a = MakeArchiver();
  ASSERT_TRUE(a);
  ASSERT_EQ(a->ArchiveRoom(room, false).result, "ok");
  // The 404 above is remembered for at most kAbsentTtlMs; clear it so that
  // the test does not wait for it.
  core::RedisClient replay(RedisAt(Env("REDIS_REPLAY")), "replay", nullptr);
  ASSERT_TRUE(replay.Command({"DEL", "danmu:replay:{" + room + "}:absent"}).ok());

  for (const std::string& base : {primary_.http, primary_.other_http}) {
    // The whole room, one page, byte-for-byte as served live.
    auto page = Replay(base, room, "limit=500");
    ASSERT_TRUE(page) << last_body_;
    EXPECT_NE(last_body_.find("\"messages\":" + window(0, std::nullopt).first + ",\"next_cursor\":null"),
              std::string::npos) << last_body_.substr(0, 400);
    EXPECT_EQ(page->getValue<int>("count"), 75);
    EXPECT_EQ(page->getValue<int>("total_messages"), 75);
    EXPECT_EQ(page->getValue<int>("likes"), 7);
    EXPECT_EQ(page->getValue<int>("viewers"), 3);
    EXPECT_EQ(page->getValue<int>("duration_ms"), 40);

    // from inclusive, to exclusive.
    page = Replay(base, room, "from_ms=5&to_ms=10&limit=500");
    ASSERT_TRUE(page) << last_body_;
    EXPECT_NE(last_body_.find("\"messages\":" + window(5, 10).first + ","), std::string::npos) << last_body_;
    EXPECT_EQ(page->getValue<int>("count"), 4 + 3 * 4) << "ts 5 in four types, ts 6..9 in three (system ends at 5)";

    // Empty windows.
    for (const std::string q : {"from_ms=10&to_ms=10", "from_ms=41", "from_ms=1000&to_ms=2000", "to_ms=1"}) {
      page = Replay(base, room, q);
      ASSERT_TRUE(page) << q << ": " << last_body_;
      EXPECT_EQ(page->getValue<int>("count"), 0) << q;
      EXPECT_TRUE(page->isNull("next_cursor")) << q;
    }

    // Pages never repeat or skip, also where a page ends inside a ts tie.
    for (auto [win, from, to] : {std::tuple<std::string, int64_t, std::optional<int64_t>>{"", 0, std::nullopt},
                                 {"from_ms=3&to_ms=9", 3, 9}, {"from_ms=7", 7, std::nullopt}}) {
      for (int limit : {1, 3, 7}) {
        int pages = 0;
        auto ids = ReplayAllIds(base, room, win, limit, &pages);
        auto want = window(from, to).second;
        EXPECT_EQ(ids, want) << win << " limit " << limit;
        EXPECT_EQ(pages, std::max<int>(1, static_cast<int>((want.size() + limit - 1) / limit))) << win << " limit " << limit;
      }
    }

    // Errors.
    for (const std::string q : {"from_ms=x", "from_ms=9&to_ms=8", "limit=0", "to_ms=-1", "cursor=zz"}) {
      Replay(base, room, q, &status);
      EXPECT_EQ(status, 400) << q << ": " << last_body_;
      EXPECT_NE(last_body_.find("{\"error\":{\"code\":\"invalid_argument\""), std::string::npos) << last_body_;
    }
    Replay(base, "bad.room", "", &status);
    EXPECT_EQ(status, 400) << last_body_;
    Replay(base, NewRoom("never"), "", &status);
    EXPECT_EQ(status, 404) << last_body_;
  }

  std::string m = Scrape(primary_.admin);
  EXPECT_GE(MetricValue(m, "danmu_replay_loads_total", {"result=\"ok\""}), 1) << "loads";
  EXPECT_GE(MetricValue(m, "danmu_replay_loads_total", {"result=\"not_archived\""}), 1);
  EXPECT_GE(MetricValue(m, "danmu_replay_cache_misses_total", {}), 1);
  EXPECT_GE(MetricValue(m, "danmu_replay_cache_hits_total", {}), 10);
  // The loaded room is bounded by a TTL in the replay Redis.
  auto ttl = replay.Command({"TTL", core::ReplayStore::RoomKey(room)});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 0);
}

TEST_F(ArchiveTest, HostileTextIsStoredAndReturnedByteForByte) {
  const std::string room = NewRoom("hostile");
  const std::vector<std::string> texts = {
      "double \" quote and 'single' quote",
      "back\\slash \\\\ and \\n not a newline",
      "'; DROP TABLE archived_messages; --",
      "\"); DELETE FROM archived_rooms; /*",
      "emoji \xF0\x9F\x98\x80\xF0\x9F\x8E\x89 four-byte",
      std::string("nul\0byte in the middle", 22),
      "<script>alert(1)</script>&amp;",
      "\"}]},{\"ts\":1,\"id\":\"forged\"}",
      "tab\tnewline\ncr\r",
  };
  std::vector<core::Message> msgs;
  for (size_t i = 0; i < texts.size(); ++i) msgs.push_back(MakeMessage(room, MessageType::kComment, static_cast<int>(i), texts[i]));
  ASSERT_NO_FATAL_FAILURE(writer_->Write(msgs));
  auto live = Snapshot(writer_->redis(), room);
  ASSERT_EQ(live.size(), texts.size());

  auto a = MakeArchiver();
  ASSERT_TRUE(a);
  ASSERT_EQ(a->ArchiveRoom(room, false).result, "ok");
  auto rows = db_->Query("SELECT msg_id, payload FROM archived_messages WHERE live_room = ?", {room});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), texts.size());
  for (const auto& r : *rows) EXPECT_EQ(r[1], live[r[0]].payload) << r[0];

  auto page = Replay(primary_.http, room, "limit=100");
  ASSERT_TRUE(page) << last_body_;
  auto arr = page->getArray("messages");
  ASSERT_EQ(arr->size(), texts.size());
  for (size_t i = 0; i < arr->size(); ++i) {
    auto obj = arr->getObject(static_cast<unsigned>(i));
    int index = std::stoi(obj->getValue<std::string>("id").substr(room.size() + std::string("-comment-").size()));
    EXPECT_EQ(obj->getValue<std::string>("text"), texts.at(index)) << "message " << index;
  }
  EXPECT_EQ(last_body_.find("<script>"), std::string::npos) << "markup is escaped in the JSON";
}

// Replay requests, including a cold load, while live traffic runs: the live
// Redis of neither room receives a command that only the replay path sends.
TEST_F(ArchiveTest, ReplayNeverSendsACommandToLiveRedis) {
  const std::string room = NewRoom("isolation");
  ASSERT_NO_FATAL_FAILURE(writer_->WriteRoom(room, {{MessageType::kComment, 2000}, {MessageType::kGift, 200}}));
  auto a = MakeArchiver();
  ASSERT_TRUE(a);
  ASSERT_EQ(a->ArchiveRoom(room, false).result, "ok");
  a.reset();

  // Commands of the replay path that nothing on the live path sends (the
  // processor writes with EVALSHA, the cache reads with ZRANGEBYSCORE/
  // ZREVRANGEBYSCORE/GET/ZCOUNT/HMGET, the heartbeat with EVAL/GET/INFO).
  // A replica's MULTI/EXEC also count the master's replicated scripts, so
  // those two are checked on masters only.
  const std::vector<std::string> replay_only = {"zrangebylex", "zpopmin", "rename", "exists"};
  auto stats = [](const std::string& address) {
    core::RedisClient c(RedisAt(address), "test", nullptr);
    std::map<std::string, int64_t> out;
    auto r = c.Command({"INFO", "commandstats"});
    EXPECT_TRUE(r.ok());
    if (!r.ok()) return out;
    std::istringstream in(r->str);
    std::string line;
    while (std::getline(in, line)) {
      // cmdstat_zrangebylex:calls=12,usec=...
      auto colon = line.find(':');
      auto calls = line.find("calls=");
      if (line.rfind("cmdstat_", 0) != 0 || colon == std::string::npos || calls == std::string::npos) continue;
      out[line.substr(8, colon - 8)] = std::stoll(line.substr(calls + 6));
    }
    return out;
  };
  const std::string replica = primary_.redis == Env("REDIS_A") ? Env("REDIS_B") : Env("REDIS_A");

  // Live traffic: comments and polls in another room through the primary.
  std::atomic<bool> stop{false};
  std::atomic<int> posted{0}, polled{0};
  const std::string live_room = NewRoom("traffic");
  std::thread traffic([&] {
    for (int i = 0; !stop; ++i) {
      auto p = testing::Post(primary_.http + "/v1/rooms/" + live_room + "/messages",
                             "{\"uid\":\"t" + std::to_string(i % 500) + "\",\"type\":\"comment\",\"text\":\"live " +
                                 std::to_string(i) + "\"}");
      if (p.ok() && p->status == 202) ++posted;
      auto g = testing::Get(primary_.http + "/v1/rooms/" + live_room + "/messages?limit=50");
      if (g.ok() && g->status == 200) ++polled;
    }
  });

  core::RedisClient replay(RedisAt(Env("REDIS_REPLAY")), "replay", nullptr);
  ASSERT_TRUE(replay.Command({"DEL", core::ReplayStore::RoomKey(room)}).ok());  // force a cold load
  auto live_before = stats(primary_.redis);
  auto replica_before = stats(replica);
  auto replay_before = stats(Env("REDIS_REPLAY"));

  int served = 0;
  for (const std::string& base : {primary_.http, primary_.other_http}) {
    int pages = 0;
    auto ids = ReplayAllIds(base, room, "", 100, &pages);
    EXPECT_EQ(ids.size(), 2200u);
    served += pages;
  }
  const bool traffic_ran = WaitFor([&] { return posted >= 20 && polled >= 20; }, 20000);
  auto live_after = stats(primary_.redis);
  auto replica_after = stats(replica);
  auto replay_after = stats(Env("REDIS_REPLAY"));
  stop = true;
  traffic.join();
  EXPECT_TRUE(traffic_ran) << "live traffic did not run: posted " << posted << " polled " << polled;

  for (const auto& cmd : replay_only) {
    EXPECT_EQ(live_after[cmd], live_before[cmd]) << "live master " << primary_.redis << " got " << cmd;
    EXPECT_EQ(replica_after[cmd], replica_before[cmd]) << "live replica " << replica << " got " << cmd;
  }
  for (const std::string cmd : {"multi", "exec"}) {
    EXPECT_EQ(live_after[cmd], live_before[cmd]) << "live master got " << cmd;
  }
  // The replay Redis did the work (positive control for the counters).
  EXPECT_GE(replay_after["zrangebylex"] - replay_before["zrangebylex"], served);
  EXPECT_GE(replay_after["rename"] - replay_before["rename"], 1) << "the cold load ran";
  std::printf("replay pages %d while live traffic posted %d and polled %d\n", served, posted.load(), polled.load());
}

// The bounds of the replay Redis, through a ReplayStore in-process (so that
// the limits can be small): max rooms evicts the oldest load, loads carry a
// TTL, and "not archived" is remembered only briefly.
TEST_F(ArchiveTest, ReplayStoreKeepsTheReplayRedisBounded) {
  std::vector<std::string> rooms;
  auto a = MakeArchiver();
  ASSERT_TRUE(a);
  for (int i = 0; i < 3; ++i) {
    rooms.push_back(NewRoom("bounded"));
    ASSERT_NO_FATAL_FAILURE(writer_->WriteRoom(rooms.back(), {{MessageType::kComment, 10 + i}}));
    ASSERT_EQ(a->ArchiveRoom(rooms.back(), false).result, "ok");
  }
  core::ArchiveOptions options;
  options.replay_max_rooms = 2;
  options.replay_ttl_s = 120;
  core::ReplayStore store(options, RedisAt(Env("REDIS_REPLAY")), MysqlFromEnv(), core::SystemClock::Instance(),
                          metrics_.get());
  ASSERT_TRUE(store.Preflight().ok());
  core::RedisClient replay(RedisAt(Env("REDIS_REPLAY")), "replay", nullptr);
  for (size_t i = 0; i < rooms.size(); ++i) {
    core::ReplayQuery q;
    q.live_room = rooms[i];
    auto page = store.Read(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ(page->count, 10 + static_cast<int>(i));
  }
  EXPECT_EQ(ExistingKeys(replay, {core::ReplayStore::RoomKey(rooms[0])}), 0) << "the oldest load was evicted";
  EXPECT_EQ(ExistingKeys(replay, {core::ReplayStore::RoomKey(rooms[1]), core::ReplayStore::RoomKey(rooms[2])}), 2);
  auto index = replay.Command({"ZCARD", core::ReplayStore::kRoomsKey});
  ASSERT_TRUE(index.ok());
  EXPECT_LE(index->integer, 2);
  auto ttl = replay.Command({"TTL", core::ReplayStore::RoomKey(rooms[2])});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, 120);

  // Evicted rooms load again on demand.
  core::ReplayQuery q;
  q.live_room = rooms[0];
  auto again = store.Read(q);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->count, 10);

  // Unknown rooms: 404 remembered for kAbsentTtlMs, not forever.
  q.live_room = NewRoom("unknown");
  EXPECT_EQ(store.Read(q).status().code(), core::Code::kNotFound);
  auto pttl = replay.Command({"PTTL", "danmu:replay:{" + q.live_room + "}:absent"});
  ASSERT_TRUE(pttl.ok());
  EXPECT_GT(pttl->integer, 0);
  EXPECT_LE(pttl->integer, core::ReplayStore::kAbsentTtlMs);
  std::string m = MetricsText();
  EXPECT_GE(MetricValue(m, "danmu_replay_evictions_total", {}), 1);
  EXPECT_EQ(MetricValue(m, "danmu_replay_loads_total", {"result=\"ok\""}), 4);
}

// danmud with the archiver refuses to start when the MySQL schema is older
// than core::kRequiredSchemaVersion (a database migrated only to 001).
TEST_F(ArchiveTest, DanmudWithArchiverRefusesAnOldSchema) {
  const std::string run = Env("DANMU_RUN_DIR");
  const std::string db = "danmu_old_schema";
  const std::string sql =
      "DROP DATABASE IF EXISTS " + db + "; CREATE DATABASE " + db + "; GRANT ALL ON " + db +
      ".* TO 'danmu'@'127.0.0.1'; CREATE TABLE " + db +
      ".schema_version (version INT PRIMARY KEY); INSERT INTO " + db + ".schema_version VALUES (1);";
  ASSERT_EQ(std::system(("mariadb --socket=" + run + "/mariadb.sock -uroot -e \"" + sql + "\"").c_str()), 0);

  // The stack's room A config with the archiver, that database, its own run dir.
  const std::string dir = run + "/archive-old-schema";
  std::filesystem::create_directories(dir);
  std::ifstream in(run + "/config/room-a.yaml");
  std::ofstream out(dir + "/danmud.yaml");
  std::string line;
  const int base = std::stoi(Env("DANMU_PORT_BASE"));
  while (std::getline(in, line)) {
    if (line.rfind("components:", 0) == 0) line = "components: [frontend, archiver]";
    else if (line.rfind("run_dir:", 0) == 0) line = "run_dir: " + dir;
    else if (line.rfind("  public_port:", 0) == 0) line = "  public_port: " + std::to_string(base + 7);
    else if (line.rfind("  admin_port:", 0) == 0) line = "  admin_port: " + std::to_string(base + 8);
    else if (line.rfind("  database:", 0) == 0) line = "  database: " + db;
    out << line << "\n";
  }
  out.close();
  int rc = std::system(("timeout 30 " + Env("DANMUD_BIN") + " --config " + dir + "/danmud.yaml 2>" + dir +
                        "/stderr.log >/dev/null").c_str());
  std::ifstream err(dir + "/stderr.log");
  std::string text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(WIFEXITED(rc)) << text;
  EXPECT_EQ(WEXITSTATUS(rc), 2) << text;
  EXPECT_NE(text.find("refusing to start"), std::string::npos) << text;
  EXPECT_NE(text.find("schema version 1 is older than the " + std::to_string(core::kRequiredSchemaVersion)),
            std::string::npos) << text;
  (void)std::system(("mariadb --socket=" + run + "/mariadb.sock -uroot -e 'DROP DATABASE " + db + "'").c_str());
}


// ------------------------------------------------------ long streams ---

std::vector<core::Message> Comments(const std::string& room, int from, int count) {
  std::vector<core::Message> msgs;
  for (int i = from; i < from + count; ++i) msgs.push_back(MakeMessage(room, MessageType::kComment, i));
  return msgs;
}

int64_t ZCard(core::RedisClient& redis, const std::string& key) {
  auto r = redis.Command({"ZCARD", key});
  EXPECT_TRUE(r.ok());
  return r.ok() ? r->integer : -1;
}

bool Held(core::RedisClient& redis, const std::string& room) {
  auto r = redis.Command({"ZSCORE", core::keys::kArchiveHeld, room});
  EXPECT_TRUE(r.ok());
  return r.ok() && !r->is_nil();
}

std::string MetaField(core::RedisClient& redis, const std::string& room, const std::string& field) {
  auto r = redis.Command({"HGET", core::keys::Meta(room), field});
  EXPECT_TRUE(r.ok());
  return r.ok() ? r->str : std::string();
}

// A stream longer than the live cap: the processor holds what the archiver
// has not copied, a checkpoint copies it and lets the next apply trim, and
// the final archive holds every message of the stream.
TEST_F(ArchiveTest, LongStreamPastTheLiveCapIsArchivedWhole) {
  const std::string room = NewRoom("long");
  const std::string key = core::keys::Msg(room, MessageType::kComment);
  constexpr int kCap = 100, kHold = 1000;
  auto& redis = writer_->redis();

  // 300 > cap and nothing archived yet: all held, the room listed.
  EXPECT_EQ(writer_->Write(Comments(room, 0, 300), kCap, kHold), 0);
  EXPECT_EQ(ZCard(redis, key), 300);
  // (The stack's own archiver may have checkpointed it already.)
  EXPECT_TRUE(Held(redis, room) || RowCount(*db_, room) == 300);

  // A checkpoint (ours, or the stack's archiver that got there first: both
  // are idempotent) copies them and raises the watermark.
  auto archiver = MakeArchiver();
  ASSERT_TRUE(archiver);
  core::ArchiveReport cp = archiver->Checkpoint(room);
  ASSERT_EQ(cp.result, "ok") << cp.error;
  EXPECT_EQ(cp.kind, "checkpoint");
  EXPECT_EQ(RowCount(*db_, room), 300);
  auto top = redis.Command({"ZRANGE", key, "-1", "-1", "WITHSCORES"});
  ASSERT_TRUE(top.ok() && top->elements.size() == 2);
  EXPECT_EQ(MetaField(redis, room, "copied:comment"), top->elements[1].str);
  EXPECT_FALSE(Held(redis, room));
  EXPECT_EQ(ZCard(redis, key), 300) << "a checkpoint never trims; the next apply does";

  // The next apply trims the archived members down to the cap... and keeps
  // the 200 new unarchived ones beyond it.
  EXPECT_EQ(writer_->Write(Comments(room, 300, 200), kCap, kHold), 0);
  EXPECT_EQ(ZCard(redis, key), 200);
  EXPECT_TRUE(Held(redis, room) || RowCount(*db_, room) == 500);
  ASSERT_EQ(archiver->Checkpoint(room).result, "ok");
  EXPECT_EQ(writer_->Write(Comments(room, 500, 1), kCap, kHold), 0);
  EXPECT_EQ(ZCard(redis, key), kCap) << "archived and past the cap: trimmed to it";
  EXPECT_FALSE(Held(redis, room));

  // More live messages, then the end: the final archive copies from the
  // watermark and MySQL has all 501 comments and the end marker.
  EXPECT_EQ(writer_->Write(Comments(room, 501, 150), kCap, kHold), 0);
  ASSERT_NO_FATAL_FAILURE(writer_->End(room));
  core::ArchiveReport report = archiver->ArchiveRoom(room, /*wait_for_end=*/false);
  ASSERT_EQ(report.result, "ok") << report.error;
  auto by_type = RowsByType(*db_, room);
  EXPECT_EQ(by_type["comment"], 651);
  EXPECT_EQ(by_type["system"], 1);
  std::set<std::string> ids;
  auto rows = db_->Query("SELECT msg_id FROM archived_messages WHERE live_room = ? AND type = 'comment'", {room});
  ASSERT_TRUE(rows.ok());
  for (const auto& r : *rows) ids.insert(r[0]);
  for (int i = 0; i < 651; ++i) {
    EXPECT_TRUE(ids.count(room + "-comment-" + std::to_string(i))) << "missing comment " << i;
  }
  EXPECT_EQ(ExistingKeys(redis, DataKeys(room)), 0);
  EXPECT_FALSE(Held(redis, room));
  EXPECT_GE(MetricValue(MetricsText(), "danmu_archive_checkpoints_total", {"result=\"ok\""}), 2);
}

// Past the unarchived cap (the archiver is down or too slow) the oldest go
// anyway: counted in the reply and in meta, so that the loss is visible.
TEST_F(ArchiveTest, PastTheUnarchivedCapTheOldestAreEvictedAndCounted) {
  const std::string room = NewRoom("evict");
  const std::string key = core::keys::Msg(room, MessageType::kComment);
  EXPECT_EQ(writer_->Write(Comments(room, 0, 1500), /*cap=*/100, /*unarchived_cap=*/1000), 500);
  EXPECT_EQ(ZCard(writer_->redis(), key), 1000);
  EXPECT_EQ(MetaField(writer_->redis(), room, "evicted:comment"), "500");
  // The survivors are the newest 1000.
  auto oldest = writer_->redis().Command({"ZRANGE", key, "0", "0"});
  ASSERT_TRUE(oldest.ok() && oldest->elements.size() == 1);
  EXPECT_EQ(core::PayloadId(oldest->elements[0].str), room + "-comment-500");
  // Without an archiver (unarchived_cap 0) the cap is a plain cap.
  const std::string plain = NewRoom("plain");
  EXPECT_EQ(writer_->Write(Comments(plain, 0, 300), /*cap=*/100, /*unarchived_cap=*/0), 0);
  EXPECT_EQ(ZCard(writer_->redis(), core::keys::Msg(plain, MessageType::kComment)), 100);
  EXPECT_FALSE(Held(writer_->redis(), plain));
  auto a = MakeArchiver();
  ASSERT_TRUE(a);
  auto st = a->Inspect(room);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->meta.evicted[0], 500);
  EXPECT_EQ(st->live[0], 1000);
}

// The archived viewer count is every viewer of the stream, not only the
// recent-viewer set (which forgets viewers after poll.online_window_ms).
TEST_F(ArchiveTest, ViewerCountCoversTheWholeStream) {
  const std::string room = NewRoom("viewers");
  // One presence record of 2000 uids (more than one PFADD chunk).
  ASSERT_NO_FATAL_FAILURE(writer_->WriteRoom(room, {{MessageType::kComment, 5}}, 0, /*viewers=*/2000));
  // The recent set forgets them (as it does after the online window)...
  ASSERT_TRUE(writer_->redis().Command({"DEL", core::keys::Users(room)}).ok());
  core::Message p;
  p.id = room + "-presence-late";
  p.type = MessageType::kPresence;
  p.live_room = room;
  for (int i = 0; i < 10; ++i) p.uids.push_back("late" + std::to_string(i));
  ASSERT_NO_FATAL_FAILURE(writer_->Write({p}));
  ASSERT_EQ(ZCard(writer_->redis(), core::keys::Users(room)), 10);
  ASSERT_NO_FATAL_FAILURE(writer_->End(room));
  auto archiver = MakeArchiver();
  ASSERT_TRUE(archiver);
  auto report = archiver->ArchiveRoom(room, false);
  ASSERT_EQ(report.result, "ok") << report.error;
  // ...the archive still counts all 2010 (HyperLogLog: within 2%).
  EXPECT_NEAR(static_cast<double>(report.viewers), 2010.0, 2010 * 0.02);
  auto row = db_->Query("SELECT viewers FROM archived_rooms WHERE live_room = ?", {room});
  ASSERT_TRUE(row.ok() && row->size() == 1);
  EXPECT_EQ(std::stoll((*row)[0][0]), report.viewers);
  EXPECT_EQ(ExistingKeys(writer_->redis(), {core::keys::Viewers(room)}), 0) << "released with the room";
}

// A stream nobody ended is archived once it stayed idle for idle_end_ms
// (found by the scan, as danmud's worker does every scan_interval_ms).
TEST_F(ArchiveTest, IdleRoomIsFoundByTheScanAndArchived) {
  const std::string room = NewRoom("idle");
  ASSERT_NO_FATAL_FAILURE(writer_->WriteRoom(room, {{MessageType::kComment, 7}}));
  config_.archive.idle_end_ms = 1500;
  auto archiver = MakeArchiver();
  ASSERT_TRUE(archiver);
  auto contains = [&](const std::vector<std::string>& rooms) {
    return std::find(rooms.begin(), rooms.end(), room) != rooms.end();
  };
  auto early = archiver->Scan();
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  EXPECT_FALSE(contains(*early)) << "not idle long enough yet";
  ASSERT_TRUE(WaitFor([&] {
    auto found = archiver->Scan();
    return found.ok() && contains(*found);
  }, 15000)) << "the scan never found the idle room";
  auto report = archiver->ArchiveRoom(room, /*wait_for_end=*/false);
  ASSERT_EQ(report.result, "ok") << report.error;
  EXPECT_EQ(RowCount(*db_, room), 7);
  EXPECT_EQ(ExistingKeys(writer_->redis(), DataKeys(room)), 0);
}

// Against a read-only MySQL (a replica) a run fails with the reason and
// releases nothing.
TEST_F(ArchiveTest, ReadOnlyMysqlFailsTheRunWithItsReasonAndReleasesNothing) {
  const std::string room = NewRoom("ro");
  // Not ended: the stack's own archiver leaves a live room alone, so that
  // only our run sees the read-only MySQL.
  ASSERT_NO_FATAL_FAILURE(writer_->WriteRoom(room, {{MessageType::kComment, 20}}));
  const std::string root = "mariadb --socket=" + Env("DANMU_RUN_DIR") + "/mariadb.sock -uroot -e ";
  ASSERT_EQ(std::system((root + "'SET GLOBAL read_only = 1'").c_str()), 0);
  auto archiver = MakeArchiver();
  core::ArchiveReport report;
  if (archiver) report = archiver->ArchiveRoom(room, false);
  ASSERT_EQ(std::system((root + "'SET GLOBAL read_only = 0'").c_str()), 0);
  ASSERT_TRUE(archiver);
  EXPECT_EQ(report.result, "error");
  EXPECT_NE(report.error.find("read-only"), std::string::npos) << report.error;
  EXPECT_EQ(RowCount(*db_, room), 0);
  EXPECT_EQ(ZCard(writer_->redis(), core::keys::Msg(room, MessageType::kComment)), 20) << "nothing released";
  // Writable again: the next run archives it.
  EXPECT_EQ(archiver->ArchiveRoom(room, false).result, "ok");
  EXPECT_EQ(RowCount(*db_, room), 20);
}

// A stream longer than the live cap, end to end through the stack's danmud:
// records straight into the primary's Kafka (the processor's real input) ->
// the processor holds what is not archived -> danmud's archiver checkpoints
// it -> the processor trims -> POST .../end -> every message in MySQL. Also
// the admin archive endpoints and their bad-input answers.
TEST_F(ArchiveTest, LongStreamThroughDanmudCheckpointsThenArchivesEveryMessage) {
  ASSERT_TRUE(StackRunsArchiver("room-a.yaml"));
  auto cfg = core::LoadConfig(Env("DANMU_RUN_DIR") + "/config/room-a.yaml");
  ASSERT_TRUE(cfg.ok());
  const int cap = cfg->processor.live_cap;
  ASSERT_GT(cfg->processor.unarchived_cap, cap);
  const int n = cap + cap / 10;
  const std::string room = NewRoom("e2e-long");
  const std::string key = core::keys::Msg(room, MessageType::kComment);
  const double checkpoints_before = MetricValue(Scrape(primary_.admin), "danmu_archive_checkpoints_total", {"result=\"ok\""});

  core::KafkaOptions ko;
  ko.brokers = primary_.kafka;
  ko.topic = Env("KAFKA_TOPIC");
  auto producer = core::KafkaProducer::Create(ko, nullptr);
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  constexpr int kThreads = 4;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (int i = w; i < n; i += kThreads) {
        core::Message m = MakeMessage(room, MessageType::kComment, i);
        if (!(*producer)->Produce(core::PartitionKey(m), core::EncodePayload(m)).ok()) ++failed;
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failed.load(), 0);

  // Held past the cap until danmud's checkpoint copied them: once the
  // processor is done, every message is in MySQL or live above the archive
  // watermark (a checkpoint that ran between two batches leaves the newest
  // within the cap, live, for the final archive).
  int64_t rows = 0;
  auto accounted = [&] {
    std::string wm = MetaField(writer_->redis(), room, "copied:comment");
    if (wm.empty()) return false;
    rows = RowCount(*db_, room);
    auto above = writer_->redis().Command({"ZCOUNT", key, "(" + wm, "+inf"});
    return above.ok() && rows + above->integer == n;
  };
  ASSERT_TRUE(WaitFor(accounted, 60000)) << "danmud's archiver did not checkpoint the live room: " << rows << " rows of "
                                         << n << "\n" << testing::MergedLogs();
  EXPECT_GT(rows, cap) << "the checkpoint copied members the live cap would have trimmed";
  EXPECT_GT(MetricValue(Scrape(primary_.admin), "danmu_archive_checkpoints_total", {"result=\"ok\""}), checkpoints_before);

  // The admin view of the room.
  auto view = testing::Get(primary_.admin + "/v1/admin/archive?room=" + room);
  ASSERT_TRUE(view.ok() && view->status == 200) << (view.ok() ? view->body : view.status().ToString());
  {
    Poco::JSON::Parser parser;
    auto o = parser.parse(view->body).extract<Poco::JSON::Object::Ptr>();
    auto c = o->getObject("live")->getObject("types")->getObject("comment");
    EXPECT_EQ(c->getValue<int64_t>("mysql_rows"), rows);
    EXPECT_GT(c->getValue<int64_t>("archive_watermark"), 0);
    EXPECT_EQ(c->getValue<int64_t>("evicted_unarchived"), 0);
    EXPECT_EQ(o->getObject("live")->getValue<std::string>("state"), "");
    EXPECT_TRUE(o->isNull("archived_room"));
  }
  // Bad input: clear 4xx JSON errors.
  const std::string url = primary_.admin + "/v1/admin/archive";
  for (const auto& [body, status, with_token] : std::vector<std::tuple<std::string, int, bool>>{
           {"{\"room\":\"" + room + "\"}", 401, false},
           {"{\"room\":", 400, true},
           {"[1,2]", 400, true},
           {"{}", 400, true},
           {"{\"room\":\"a b'; DROP TABLE archived_messages; --\"}", 400, true},
           {"{\"room\":\"" + room + "\",\"mode\":\"shred\"}", 400, true},
       }) {
    auto r = testing::AdminPost(url, body, with_token);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, status) << body << " -> " << r->body;
    EXPECT_NE(r->body.find("\"error\""), std::string::npos) << r->body;
  }
  auto bad_view = testing::Get(primary_.admin + "/v1/admin/archive?room=%00");
  ASSERT_TRUE(bad_view.ok());
  EXPECT_EQ(bad_view->status, 400) << bad_view->body;
  // The same through danmuctl, for people.
  std::string text;
  ASSERT_EQ(testing::RunCapture(testing::Danmuctl("archive status " + room), &text), 0) << text;
  EXPECT_NE(text.find("live state live"), std::string::npos) << text;
  EXPECT_NE(text.find(std::to_string(rows)), std::string::npos) << "MySQL rows shown: " << text;
  EXPECT_NE(text.find("not archived yet"), std::string::npos) << text;
  // auto mode on a live room checkpoints it (nothing new to copy now).
  auto run = testing::AdminPost(url, "{\"room\":\"" + room + "\"}");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, 200) << run->body;
  EXPECT_NE(run->body.find("\"kind\":\"checkpoint\""), std::string::npos) << run->body;

  // The next applied message lets the processor trim the archived members.
  core::Message one = MakeMessage(room, MessageType::kComment, n);
  ASSERT_TRUE((*producer)->Produce(core::PartitionKey(one), core::EncodePayload(one)).ok());
  ASSERT_TRUE(WaitFor([&] { return ZCard(writer_->redis(), key) == cap; }, 20000))
      << "live set holds " << ZCard(writer_->redis(), key) << ", want the cap " << cap;

  // The end: every message of the stream is in MySQL, live Redis is freed.
  auto end = testing::Post(primary_.http + "/v1/rooms/" + room + "/end", "");
  ASSERT_TRUE(end.ok() && end->status == 202) << (end.ok() ? end->body : end.status().ToString());
  ASSERT_TRUE(WaitFor([&] {
    auto rows = db_->Query("SELECT messages FROM archived_rooms WHERE live_room = ?", {room});
    return rows.ok() && !rows->empty() && (*rows)[0][0] == std::to_string(n + 2) &&
           ExistingKeys(writer_->redis(), DataKeys(room)) == 0;
  }, 30000)) << "danmud did not archive the ended room\n" << testing::MergedLogs();
  EXPECT_EQ(RowsByType(*db_, room)["comment"], n + 1);
  ASSERT_EQ(testing::RunCapture(testing::Danmuctl("archive status " + room), &text), 0) << text;
  EXPECT_NE(text.find("archived at"), std::string::npos) << text;
  EXPECT_NE(text.find(std::to_string(n + 2) + " messages"), std::string::npos) << text;
  // Running it again is harmless: nothing new, exit 0.
  ASSERT_EQ(testing::RunCapture(testing::Danmuctl("archive run " + room + " --json"), &text), 0) << text;
  EXPECT_NE(text.find("\"result\":\"ok\""), std::string::npos) << text;
  // A bad room id is a usage error (exit 2) naming the argument; the
  // server refuses bad ids on its own too (its bad-input answers above).
  EXPECT_EQ(testing::RunCapture(testing::Danmuctl("archive status 'no spaces' 2>&1"), &text), 2) << text;
  EXPECT_NE(text.find("LIVE_ROOM"), std::string::npos) << text;
}

// End to end through the stack's danmud: POST .../end -> on_stream_end ->
// the archiver in danmud -> MySQL -> replay. Needs the stack config to run
// the archiver component (scripts/stack danmud_config).
TEST_F(ArchiveTest, EndToEndThroughDanmud) {
  ASSERT_TRUE(StackRunsArchiver("room-a.yaml")) << "the stack's danmud config must run the 'archiver' component";
  const std::string room = NewRoom("e2e");
  const int n = 30;
  for (int i = 0; i < n; ++i) {
    auto r = testing::Post(primary_.http + "/v1/rooms/" + room + "/messages",
                           "{\"uid\":\"e" + std::to_string(i) + "\",\"type\":\"comment\",\"text\":\"e2e " +
                               std::to_string(i) + "\"}");
    ASSERT_TRUE(r.ok() && r->status == 202) << (r.ok() ? r->body : r.status().ToString());
  }
  ASSERT_TRUE(WaitFor([&] {
    auto c = writer_->redis().Command({"ZCARD", core::keys::Msg(room, MessageType::kComment)});
    return c.ok() && c->integer == n;
  }, 20000)) << "the processor did not apply the comments";
  auto end = testing::Post(primary_.http + "/v1/rooms/" + room + "/end", "");
  ASSERT_TRUE(end.ok() && end->status == 202) << (end.ok() ? end->body : end.status().ToString());
  ASSERT_TRUE(WaitFor([&] {
    auto rows = db_->Query("SELECT messages FROM archived_rooms WHERE live_room = ?", {room});
    return rows.ok() && !rows->empty() && (*rows)[0][0] == std::to_string(n + 1) &&
           ExistingKeys(writer_->redis(), DataKeys(room)) == 0;
  }, 30000)) << "danmud did not archive the ended room\n" << testing::MergedLogs();
  auto page = Replay(primary_.other_http, room, "limit=100");
  ASSERT_TRUE(page) << last_body_;
  EXPECT_EQ(page->getValue<int>("count"), n + 1);
  // The counter moves right after the keys are released: wait, bounded.
  EXPECT_TRUE(WaitFor([&] { return MetricValue(Scrape(primary_.admin), "danmu_archive_rooms_total", {"result=\"ok\""}) >= 1; }, 5000));

  // An ended room nobody queued (its end went through the other room, or
  // danmud was down) is found by the archiver's scan.
  const std::string orphan = NewRoom("orphan");
  ASSERT_NO_FATAL_FAILURE(writer_->WriteRoom(orphan, {{MessageType::kGift, 12}}));
  ASSERT_NO_FATAL_FAILURE(writer_->End(orphan));
  auto cfg = core::LoadConfig(Env("DANMU_RUN_DIR") + "/config/room-a.yaml");
  ASSERT_TRUE(cfg.ok());
  ASSERT_TRUE(WaitFor([&] { return RowCount(*db_, orphan) == 13 && ExistingKeys(writer_->redis(), DataKeys(orphan)) == 0; },
                      cfg->archive.scan_interval_ms + 20000))
      << "the scan did not archive the orphan room\n" << testing::MergedLogs();
}

}  // namespace
}  // namespace danmu
