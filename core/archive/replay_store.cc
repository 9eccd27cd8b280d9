#include "core/archive/replay_store.h"

#include <prometheus/counter.h>

#include <chrono>
#include <random>

#include "core/base/metric_family.h"
#include "core/base/parse_int.h"
#include "core/base/log.h"
#include "core/model/message.h"
#include "core/base/metrics.h"
#include "core/store/mysql_client.h"
#include "core/store/redis_client.h"

namespace danmu::core {
namespace {

constexpr int kPoolSize = 8;  // replay Redis connections; a read is one short round trip

// Installs a complete load (see replay_store.h).
// KEYS: 1 loading key, 2 room key, 3 rooms index
// ARGV: 1 expected members (rows + sentinel), 2 sentinel, 3 ttl s, 4 now ms, 5 max rooms, 6 room
// Returns the number of rooms evicted, or -1 when the loading key lost members.
const char* kInstallScript = R"LUA(
redis.call('ZADD', KEYS[1], 0, ARGV[2])
if redis.call('ZCARD', KEYS[1]) ~= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  return -1
end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
local now = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[3]) * 1000)
redis.call('ZADD', KEYS[3], now, ARGV[6])
local evicted = 0
while redis.call('ZCARD', KEYS[3]) > tonumber(ARGV[5]) do
  local old = redis.call('ZPOPMIN', KEYS[3])
  if old[1] == ARGV[6] then
    redis.call('ZADD', KEYS[3], now, ARGV[6])
    break
  end
  redis.call('DEL', 'danmu:replay:{' .. old[1] .. '}:msgs')
  evicted = evicted + 1
end
return evicted
)LUA";

std::string RandomHex() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  static const char kHex[] = "0123456789abcdef";
  uint64_t v = rng();
  std::string out;
  for (int i = 0; i < 16; ++i, v >>= 4) out.push_back(kHex[v & 0xf]);
  return out;
}

}  // namespace

struct ReplayStore::Inflight {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;  // guarded by mu
  Status status;      // guarded by mu
};

// A pooled connection, returned to the pool when it goes out of scope.
class ReplayStore::Conn {
 public:
  Conn(ReplayStore* store, std::unique_ptr<RedisClient> client) : store_(store), client_(std::move(client)) {}
  Conn(Conn&&) = default;
  ~Conn() {
    if (!client_) return;
    {
      std::lock_guard lock(store_->pool_mu_);
      store_->pool_.push_back(std::move(client_));
    }
    store_->pool_cv_.notify_one();
  }
  RedisClient* operator->() { return client_.get(); }

 private:
  ReplayStore* store_;
  std::unique_ptr<RedisClient> client_;
};

ReplayStore::ReplayStore(const ArchiveOptions& options, RedisOptions replay_redis, MysqlOptions mysql,
                         const Clock& clock, Metrics* metrics)
    : options_(options),
      redis_options_(std::move(replay_redis)),
      mysql_options_(std::move(mysql)),
      clock_(clock),
      metrics_(metrics) {
  if (!metrics) return;
  // The replay path's metrics, declared in one place.
  hits_ = &CounterFamily(*metrics, "danmu_replay_cache_hits_total",
                         "Replay requests answered from the replay Redis (room already loaded)").Add({});
  misses_ = &CounterFamily(*metrics, "danmu_replay_cache_misses_total",
                           "Replay requests for a room not loaded in the replay Redis").Add({});
  loads_ = SeriesPerValue(CounterFamily(*metrics, "danmu_replay_loads_total",
                                        "Loads of an archived room from MySQL into the replay Redis, by result (ok, not_archived, error)"),
                          "result", {"ok", "not_archived", "error"});
  evictions_ = &CounterFamily(*metrics, "danmu_replay_evictions_total",
                              "Loaded rooms dropped from the replay Redis to stay within archive.replay_max_rooms").Add({});
}

ReplayStore::~ReplayStore() = default;

std::string ReplayStore::RoomKey(const std::string& live_room) { return "danmu:replay:{" + live_room + "}:msgs"; }

ReplayStore::Conn ReplayStore::Borrow() {
  std::unique_lock lock(pool_mu_);
  pool_cv_.wait(lock, [&] { return !pool_.empty() || pool_created_ < kPoolSize; });
  if (!pool_.empty()) {
    auto c = std::move(pool_.back());
    pool_.pop_back();
    return Conn(this, std::move(c));
  }
  ++pool_created_;
  return Conn(this, std::make_unique<RedisClient>(redis_options_, "replay", metrics_));
}

Status ReplayStore::EnsureDb() {
  if (db_) return Status::Ok();
  auto db = MysqlClient::Connect(mysql_options_);
  if (!db.ok()) return db.status();
  db_ = std::move(*db);
  return Status::Ok();
}

Status ReplayStore::Preflight() {
  std::lock_guard lock(db_mu_);
  if (Status s = EnsureDb(); !s.ok()) return Status(s.code(), "replay: " + s.message());
  if (Status s = CheckSchemaVersion(*db_); !s.ok()) {
    db_.reset();
    return Status(s.code(), "replay: " + s.message());
  }
  return Status::Ok();
}

Result<ReplayStore::Lookup> ReplayStore::TryRead(const ReplayQuery& q, ReplayPage* page) {
  const std::string key = RoomKey(q.live_room);
  const LexRange range = ReplayLexRange(q);
  Result<std::vector<RedisReply>> r = Status(Code::kUnavailable, "");
  {
    Conn c = Borrow();
    r = c->Pipeline({{"MULTI"},
                     {"ZRANGE", key, "0", "0"},
                     {"ZRANGEBYLEX", key, range.min, range.max, "LIMIT", "0", std::to_string(q.limit + 1)},
                     {"EXEC"}});
  }
  if (!r.ok()) return r.status();
  const RedisReply& exec = r->back();
  if (exec.type != RedisReply::Type::kArray || exec.elements.size() != 2) {
    return Status(Code::kUnavailable, "replay redis: transaction failed: " + exec.str);
  }
  const auto& head = exec.elements[0].elements;
  if (head.empty() || !ParseReplaySentinel(head.front().str, &page->info)) return Lookup::kMiss;
  const auto& members = exec.elements[1].elements;
  page->messages_json.clear();
  page->messages_json.push_back('[');
  page->count = 0;
  page->next.reset();
  ReplayPosition last;
  for (const auto& m : members) {
    ReplayPosition p;
    std::string_view served;
    if (!ParseReplayMember(m.str, &p, &served)) continue;  // never written by Load
    if (page->count == q.limit) {
      page->next = last;  // one more exists: continue after the last served
      break;
    }
    if (page->count) page->messages_json.push_back(',');
    page->messages_json.append(served);
    ++page->count;
    last = std::move(p);
  }
  page->messages_json.push_back(']');
  return Lookup::kHit;
}

Result<ReplayPage> ReplayStore::Read(const ReplayQuery& q) {
  ReplayPage page;
  auto first = TryRead(q, &page);
  if (!first.ok()) return first.status();
  if (*first == Lookup::kHit) {
    if (hits_) hits_->Increment();
    return page;
  }
  if (misses_) misses_->Increment();
  const std::string absent = "danmu:replay:{" + q.live_room + "}:absent";
  {
    Conn c = Borrow();
    auto known = c->Command({"EXISTS", absent});
    if (!known.ok()) return known.status();
    if (known->integer == 1) return Status(Code::kNotFound, "room " + q.live_room + " has no archive");
  }
  Status s = LoadOnce(q.live_room);
  if (s.code() == Code::kNotFound) {
    // Remembered briefly so that requests for unknown rooms do not all reach MySQL.
    Conn c = Borrow();
    (void)c->Command({"SET", absent, "1", "PX", std::to_string(kAbsentTtlMs)});
    return s;
  }
  if (!s.ok()) return s;
  auto second = TryRead(q, &page);
  if (!second.ok()) return second.status();
  if (*second == Lookup::kMiss) return Status(Code::kUnavailable, "the room was evicted right after its load; retry");
  return page;
}

Status ReplayStore::LoadOnce(const std::string& live_room) {
  std::shared_ptr<Inflight> flight;
  bool owner = false;
  {
    std::lock_guard lock(inflight_mu_);
    auto it = inflight_.find(live_room);
    if (it != inflight_.end()) {
      flight = it->second;
    } else {
      flight = std::make_shared<Inflight>();
      inflight_[live_room] = flight;
      owner = true;
    }
  }
  if (owner) {
    Status s = Load(live_room);
    {
      std::lock_guard lock(inflight_mu_);
      inflight_.erase(live_room);
    }
    {
      std::lock_guard lock(flight->mu);
      flight->done = true;
      flight->status = s;
    }
    flight->cv.notify_all();
    return s;
  }
  std::unique_lock lock(flight->mu);
  if (!flight->cv.wait_for(lock, std::chrono::milliseconds(options_.replay_load_wait_ms), [&] { return flight->done; })) {
    return Status(Code::kUnavailable, "the room is still being loaded; retry");
  }
  return flight->status;
}

Status ReplayStore::Load(const std::string& live_room) {
  const int64_t started = clock_.MonoMs();
  auto fail = [&](Status s) {
    if (loads_.count("error")) loads_["error"]->Increment();
    LogWarn("replay_load_failed", {{"live_room", live_room}, {"error", s.ToString()}});
    return s;
  };
  std::unique_lock db(db_mu_, std::defer_lock);
  if (!db.try_lock_for(std::chrono::milliseconds(options_.replay_load_wait_ms))) {
    return fail(Status(Code::kUnavailable, "the replay loader is busy with other rooms; retry"));
  }
  if (Status s = EnsureDb(); !s.ok()) return fail(s);
  auto room = db_->Query("SELECT likes, viewers, messages, last_ts_ms FROM archived_rooms WHERE live_room = ?",
                         {live_room});
  if (!room.ok()) {
    db_.reset();
    return fail(room.status());
  }
  if (room->empty()) {
    if (loads_.count("not_archived")) loads_["not_archived"]->Increment();
    return Status(Code::kNotFound, "room " + live_room + " has no archive");
  }
  ReplayRoomInfo info{ParseInt64Or((*room)[0][0]), ParseInt64Or((*room)[0][1]), 0, ParseInt64Or((*room)[0][3])};

  const std::string loading = "danmu:replay:{" + live_room + "}:load:" + RandomHex();
  const std::string ttl = std::to_string(options_.replay_ttl_s);
  int64_t after_ts = -1;
  std::string after_id;
  int64_t skipped = 0;
  while (true) {
    // Keyset pagination on (ts_ms, msg_id): the by_room_time index holds
    // (live_room, ts_ms) and, in InnoDB, the primary key msg_id after it.
    auto rows = db_->Query(
        "SELECT ts_ms, type, msg_id, payload FROM archived_messages WHERE live_room = ? AND "
        "(ts_ms > ? OR (ts_ms = ? AND msg_id > ?)) ORDER BY ts_ms, msg_id LIMIT ?",
        {live_room, after_ts, after_ts, after_id, options_.batch_size});
    if (!rows.ok()) {
      db_.reset();
      return fail(rows.status());
    }
    if (rows->empty()) break;
    RedisArgs zadd = {"ZADD", loading};
    zadd.reserve(2 + rows->size() * 2);
    std::string served;
    for (const auto& row : *rows) {
      ReplayPosition p;
      p.ts = ParseInt64Or(row[0]);
      auto type = ParseType(row[1]);
      p.type_index = type ? StoredTypeIndex(*type) : -1;
      p.id = row[2];
      if (p.type_index < 0 || p.id.empty() || p.id.find('\0') != std::string::npos) {
        ++skipped;
        continue;
      }
      served.clear();
      AppendServed(served, p.ts, row[3]);
      zadd.push_back("0");
      zadd.push_back(ReplayMember(p, served));
    }
    after_ts = ParseInt64Or(rows->back()[0]);
    after_id = rows->back()[2];
    if (zadd.size() > 2) {
      info.messages += static_cast<int64_t>((zadd.size() - 2) / 2);
      Conn c = Borrow();
      auto r = c->Pipeline({zadd, {"EXPIRE", loading, ttl}});
      if (!r.ok()) return fail(r.status());
      if (r->front().is_error()) return fail(Status(Code::kUnavailable, "replay redis ZADD: " + r->front().str));
    }
    if (rows->size() < static_cast<size_t>(options_.batch_size)) break;
  }
  if (skipped) LogWarn("replay_rows_skipped", {{"live_room", live_room}, {"rows", std::to_string(skipped)}});

  Result<std::vector<RedisReply>> installed = Status(Code::kUnavailable, "");
  {
    Conn c = Borrow();
    installed = c->EvalPipeline(kInstallScript, {{"3", loading, RoomKey(live_room), kRoomsKey,
                                                  std::to_string(info.messages + 1), ReplaySentinel(info), ttl,
                                                  std::to_string(clock_.NowMs()),
                                                  std::to_string(options_.replay_max_rooms), live_room}});
  }
  if (!installed.ok()) return fail(installed.status());
  const RedisReply& reply = installed->front();
  if (reply.is_error()) return fail(Status(Code::kUnavailable, "replay redis install: " + reply.str));
  if (reply.integer < 0) {
    return fail(Status(Code::kUnavailable, "the replay Redis evicted the room while it was loading (maxmemory); retry"));
  }
  if (evictions_ && reply.integer > 0) evictions_->Increment(static_cast<double>(reply.integer));
  if (loads_.count("ok")) loads_["ok"]->Increment();
  LogInfo("replay_loaded", {{"live_room", live_room}, {"messages", std::to_string(info.messages)},
                            {"evicted_rooms", std::to_string(reply.integer)},
                            {"ms", std::to_string(clock_.MonoMs() - started)}});
  return Status::Ok();
}

}  // namespace danmu::core
