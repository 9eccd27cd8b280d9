#include "core/archive/archiver.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>

#include "core/base/metric_family.h"
#include "core/base/parse_int.h"
#include "core/model/payload_uid.h"
#include "core/base/json_text.h"
#include "core/model/live_keys.h"
#include "core/base/log.h"
#include "core/base/metrics.h"
#include "core/store/mysql_client.h"
#include "core/store/redis_client.h"

namespace danmu::core {
namespace {

constexpr int kEndPollMs = 50;
constexpr size_t kMaxQueued = 10000;      // beyond: dropped, the scan finds the room again
constexpr int kScanCount = 1000;          // SCAN COUNT hint
constexpr int kWorkerTickMs = 1000;       // the worker re-checks active() at least this often
constexpr size_t kColumnBytes = 64;       // msg_id and uid are VARCHAR(64)
constexpr const char* kResults[] = {"ok", "not_ended", "changed", "aborted", "error"};
constexpr const char* kRowResults[] = {"inserted", "duplicate", "skipped"};
constexpr const char* kCheckpointResults[] = {"ok", "aborted", "error"};

// Every type the processor keeps a dedup set for (live_keys.h Seen).
constexpr MessageType kSeenTypes[] = {MessageType::kComment, MessageType::kGift, MessageType::kJoin,
                                      MessageType::kSystem,  MessageType::kLike, MessageType::kPresence};

// The release step (see archiver.h, step 5). Atomic, so no message can land
// between the check and the delete.
// KEYS: 1-4 msg sets (kStoredTypes order), 5 likes, 6 users, 7 meta, 8-13 seen sets,
//       14 the held-rooms set, 15 the viewer HyperLogLog
// ARGV: 1-4 copied max score per type (0 = empty), 5 now ms, 6 meta ttl s, 7-10 type names,
//       11 live room
// Returns {1, likes, viewers} when released, {0, type index, live max} when a
// message arrived after the copy (or the set was recreated below it).
const char* kReleaseScript = R"LUA(
for i = 1, 4 do
  local top = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')
  local max = 0
  if top[2] then max = tonumber(top[2]) end
  -- 0: the set is gone (released by a concurrent archiver): nothing to lose.
  if max ~= 0 and max ~= tonumber(ARGV[i]) then return {0, i, max} end
end
local likes = tonumber(redis.call('GET', KEYS[5]) or '0')
-- Unique viewers of the whole stream; the recent-viewer set only knows the
-- last minutes (and is exact where the estimate is not).
local viewers = math.max(redis.call('ZCARD', KEYS[6]), redis.call('PFCOUNT', KEYS[15]))
for i = 1, 4 do redis.call('DEL', KEYS[i]) end
redis.call('DEL', KEYS[6], KEYS[15])
for i = 8, 13 do redis.call('DEL', KEYS[i]) end
redis.call('ZREM', KEYS[14], ARGV[11])
local ttl = tonumber(ARGV[6])
if ttl > 0 then
  redis.call('HSET', KEYS[7], 'archived_ms', ARGV[5])
  for i = 1, 4 do redis.call('HSET', KEYS[7], 'archived_last:' .. ARGV[6 + i], ARGV[i]) end
  redis.call('EXPIRE', KEYS[7], ttl)
  redis.call('EXPIRE', KEYS[5], ttl)
else
  redis.call('DEL', KEYS[7], KEYS[5])
end
return {1, likes, viewers}
)LUA";

// Raises the archive watermark of each given type, never lowering it (a
// lower watermark would be safe, only wasteful: the processor would hold
// members that MySQL already has).
// KEYS: 1 meta; ARGV: pairs of type name, highest score now in MySQL.
// A gone meta stays gone (the room was released meanwhile).
const char* kWatermarkScript = R"LUA(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV, 2 do
  local f = 'copied:' .. ARGV[i]
  local cur = tonumber(redis.call('HGET', KEYS[1], f) or '-1')
  if tonumber(ARGV[i + 1]) > cur then redis.call('HSET', KEYS[1], f, ARGV[i + 1]) end
end
return 1
)LUA";


// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
std::string TruncateUtf8(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > kColumnBytes) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return c > ' ' && c <= '~'; });
}

const std::string& InsertSql(size_t rows) {
  static std::mutex mu;
  static std::map<size_t, std::string> cache;
  std::lock_guard lock(mu);
  auto& s = cache[rows];
  if (s.empty()) {
    s = "INSERT IGNORE INTO archived_messages (msg_id, live_room, type, ts_ms, uid, payload) VALUES ";
    for (size_t i = 0; i < rows; ++i) s.append(i ? ",(?,?,?,?,?,?)" : "(?,?,?,?,?,?)");
  }
  return s;
}

}  // namespace

int64_t ArchiveReport::rows() const {
  int64_t n = 0;
  for (int64_t c : copied) n += c;
  return n;
}

RoomMeta ParseRoomMeta(const std::vector<std::string>& kv) {
  RoomMeta m;
  for (size_t i = 0; i + 1 < kv.size(); i += 2) {
    const std::string& f = kv[i];
    const std::string& v = kv[i + 1];
    if (f == "state") {
      m.state = v;
    } else if (f == "start_ms") {
      m.start_ms = ParseInt64Or(v);
    } else if (f == "archived_ms") {
      m.archived = true;
    } else {
      for (int t = 0; t < kStoredTypeCount; ++t) {
        std::string name = TypeName(kStoredTypes[t]);
        if (f == "last:" + name) m.last[t] = ParseInt64Or(v);
        else if (f == "archived_last:" + name) m.archived_last[t] = ParseInt64Or(v);
        else if (f == "copied:" + name) m.copied[t] = ParseInt64Or(v);
        else if (f == "evicted:" + name) m.evicted[t] = ParseInt64Or(v);
      }
    }
  }
  return m;
}

bool NeedsArchive(const RoomMeta& meta, int64_t now_ms, int64_t idle_end_ms) {
  bool changed = !meta.archived;
  int64_t last = 0;
  for (int t = 0; t < kStoredTypeCount; ++t) {
    if (meta.last[t] != meta.archived_last[t]) changed = true;
    last = std::max(last, meta.last[t]);
  }
  if (!changed) return false;
  if (meta.state == "ended") return true;
  // Idle: scores are ms since start_ms (both on the Redis clock), so the last
  // stored message was written at about start_ms + last.
  return idle_end_ms > 0 && meta.start_ms > 0 && now_ms - (meta.start_ms + last) >= idle_end_ms;
}

Archiver::Archiver(const Config& config, ArchiverHooks hooks, const Clock& clock, Metrics* metrics)
    : config_(config),
      options_(config.archive),
      hooks_(std::move(hooks)),
      clock_(clock),
      redis_(std::make_unique<RedisClient>(config.redis, "live", metrics)) {
  if (!metrics) return;
  // The archiver's metrics, declared in one place.
  duration_ = &HistogramFamily(*metrics, "danmu_archive_duration_seconds",
                               "Time to archive one live room (copy, verify, release), by room")
                   .Add({}, prometheus::Histogram::BucketBoundaries{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300});
  auto& rows = CounterFamily(*metrics, "danmu_archive_rows_total",
                             "Messages copied into MySQL by the archiver, by type and result (inserted, duplicate, skipped)");
  for (MessageType t : kStoredTypes) {
    for (const char* r : kRowResults) rows_[std::string(TypeName(t)) + "/" + r] = &rows.Add({{"type", TypeName(t)}, {"result", r}});
  }
  auto& rooms = CounterFamily(*metrics, "danmu_archive_rooms_total", "Archive runs by result (ok, not_ended, changed, aborted, error)");
  for (const char* r : kResults) rooms_[r] = &rooms.Add({{"result", r}});
  auto& checkpoints = CounterFamily(*metrics, "danmu_archive_checkpoints_total",
                                    "Copies of live rooms holding unarchived messages past the live cap, by result");
  for (const char* r : kCheckpointResults) checkpoints_[r] = &checkpoints.Add({{"result", r}});
  queue_gauge_ = &GaugeFamily(*metrics, "danmu_archive_queued_rooms", "Live rooms waiting for the archiver").Add({});
}

Result<std::unique_ptr<Archiver>> Archiver::Create(const Config& config, ArchiverHooks hooks, const Clock& clock,
                                                   Metrics* metrics) {
  std::unique_ptr<Archiver> a(new Archiver(config, std::move(hooks), clock, metrics));
  if (Status s = a->EnsureDb(); !s.ok()) return Status(s.code(), "archiver: " + s.message());
  if (Status s = CheckSchemaVersion(*a->db_); !s.ok()) return Status(s.code(), "archiver: " + s.message());
  return a;
}

Archiver::~Archiver() { Stop(); }

void Archiver::Start() {
  std::lock_guard lock(queue_mu_);
  if (running_) return;
  stop_ = false;
  running_ = true;
  worker_ = std::thread([this] { Worker(); });
}

void Archiver::Stop() {
  {
    std::lock_guard lock(queue_mu_);
    stop_ = true;
  }
  queue_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  std::lock_guard lock(queue_mu_);
  running_ = false;
}

bool Archiver::Stopping() const {
  std::lock_guard lock(queue_mu_);
  return stop_;
}

bool Archiver::SleepUnlessStopped(int ms) {
  std::unique_lock lock(queue_mu_);
  return !queue_cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stop_; });
}

void Archiver::Enqueue(const std::string& live_room) { Push(live_room, true); }

void Archiver::Push(const std::string& live_room, bool wait_for_end) {
  {
    std::lock_guard lock(queue_mu_);
    if (queued_rooms_.count(live_room)) return;
    if (queue_.size() >= kMaxQueued) {
      LogWarn("archive_queue_full", {{"live_room", live_room}, {"queued", std::to_string(queue_.size())}});
      return;
    }
    queue_.push_back({live_room, wait_for_end});
    queued_rooms_.insert(live_room);
    if (queue_gauge_) queue_gauge_->Set(static_cast<double>(queue_.size()));
  }
  queue_cv_.notify_all();
}

size_t Archiver::queued() const {
  std::lock_guard lock(queue_mu_);
  return queue_.size();
}

void Archiver::Worker() {
  int64_t next_scan = 0;
  int64_t next_checkpoint = 0;
  bool was_active = false;
  while (true) {
    std::optional<Job> job;
    {
      std::unique_lock lock(queue_mu_);
      int64_t wait = std::clamp<int64_t>(std::min(next_scan, next_checkpoint) - clock_.MonoMs(), 0, kWorkerTickMs);
      queue_cv_.wait_for(lock, std::chrono::milliseconds(wait), [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      if (!queue_.empty()) {
        job = std::move(queue_.front());
        queue_.pop_front();
        queued_rooms_.erase(job->live_room);
        if (queue_gauge_) queue_gauge_->Set(static_cast<double>(queue_.size()));
      }
    }
    bool active = hooks_.active && hooks_.active();
    if (!active) {
      if (was_active) LogWarn("archiver_idle", {{"reason", "this room is not the primary"}});
      was_active = false;
      if (job) LogInfo("archive_job_dropped", {{"live_room", job->live_room}, {"reason", "not primary"}});
      continue;
    }
    if (!was_active) {
      // Scan at once: rooms that ended while no archiver ran (restart, promotion).
      LogWarn("archiver_active", {{"scan_interval_ms", std::to_string(options_.scan_interval_ms)}});
      was_active = true;
      next_scan = 0;
    }
    if (clock_.MonoMs() >= next_scan) {
      next_scan = clock_.MonoMs() + options_.scan_interval_ms;
      auto rooms = Scan();
      if (!rooms.ok()) {
        LogWarn("archive_scan_failed", {{"error", rooms.status().ToString()}});
      } else {
        if (!rooms->empty()) LogInfo("archive_scan_found", {{"rooms", std::to_string(rooms->size())}});
        for (const auto& r : *rooms) Push(r, false);
      }
    }
    if (clock_.MonoMs() >= next_checkpoint) {
      next_checkpoint = clock_.MonoMs() + options_.checkpoint_interval_ms;
      CheckpointDue();
    }
    if (job) ArchiveRoom(job->live_room, job->wait_for_end);
  }
}

void Archiver::CheckpointDue() {
  auto rooms = HeldRooms(kScanCount);
  if (!rooms.ok()) {
    LogWarn("archive_checkpoint_list_failed", {{"error", rooms.status().ToString()}});
    return;
  }
  if (rooms->empty()) return;
  // One read-only check for the pass, not one per room.
  Status writable;
  {
    std::lock_guard work(work_mu_);
    writable = CheckWritable();
  }
  for (const auto& room : *rooms) {
    if (Stopping()) return;
    Checkpoint(room, writable);
  }
}

Result<std::vector<std::string>> Archiver::HeldRooms(int max) {
  std::lock_guard work(work_mu_);
  // Oldest listing first, so that a busy room cannot starve the others.
  auto r = redis_->Command({"ZRANGE", keys::kArchiveHeld, "0", std::to_string(max - 1)});
  if (!r.ok()) return r.status();
  if (r->is_error()) return Status(Code::kUnavailable, "ZRANGE " + std::string(keys::kArchiveHeld) + ": " + r->str);
  std::vector<std::string> rooms;
  for (const auto& e : r->elements) rooms.push_back(e.str);
  return rooms;
}

Result<std::vector<std::string>> Archiver::Scan() {
  std::lock_guard work(work_mu_);
  std::set<std::string> found;
  std::string cursor = "0";
  const int64_t now = clock_.NowMs();
  do {
    auto r = redis_->Command({"SCAN", cursor, "MATCH", "danmu:{*}:meta", "COUNT", std::to_string(kScanCount)});
    if (!r.ok()) return r.status();
    if (r->is_error() || r->elements.size() != 2) return Status(Code::kUnavailable, "SCAN: " + r->str);
    cursor = r->elements[0].str;
    std::vector<RedisArgs> gets;
    std::vector<std::string> rooms;
    for (const auto& k : r->elements[1].elements) {
      // danmu:{<room>}:meta
      const std::string& key = k.str;
      auto open = key.find('{'), close = key.rfind('}');
      if (open == std::string::npos || close == std::string::npos || close <= open + 1) continue;
      rooms.push_back(key.substr(open + 1, close - open - 1));
      gets.push_back({"HGETALL", key});
    }
    if (gets.empty()) continue;
    auto metas = redis_->Pipeline(gets);
    if (!metas.ok()) return metas.status();
    for (size_t i = 0; i < rooms.size(); ++i) {
      std::vector<std::string> kv;
      for (const auto& e : (*metas)[i].elements) kv.push_back(e.str);
      if (NeedsArchive(ParseRoomMeta(kv), now, options_.idle_end_ms)) found.insert(rooms[i]);
    }
  } while (cursor != "0");
  return std::vector<std::string>(found.begin(), found.end());
}

Status Archiver::EnsureDb() {
  if (db_) return Status::Ok();
  auto db = MysqlClient::Connect(config_.mysql);
  if (!db.ok()) return db.status();
  db_ = std::move(*db);
  return Status::Ok();
}

Status Archiver::CheckWritable() {
  if (Status s = EnsureDb(); !s.ok()) return s;
  auto rows = db_->Query("SELECT @@global.read_only");
  if (!rows.ok()) {
    db_.reset();
    return rows.status();
  }
  if (!rows->empty() && !rows->front().empty() && rows->front().front() != "0") {
    return Status(Code::kUnavailable, "MySQL at " + config_.mysql.host + ":" + std::to_string(config_.mysql.port) +
                                          " is read-only (a replica): promote it or point mysql.host at the primary");
  }
  return Status::Ok();
}

Result<RoomMeta> Archiver::ReadMeta(const std::string& live_room) {
  auto r = redis_->Command({"HGETALL", keys::Meta(live_room)});
  if (!r.ok()) return r.status();
  if (r->is_error()) return Status(Code::kUnavailable, "HGETALL meta: " + r->str);
  std::vector<std::string> kv;
  for (const auto& e : r->elements) kv.push_back(e.str);
  return ParseRoomMeta(kv);
}

Status Archiver::RaiseWatermark(const std::string& live_room, const int64_t top[]) {
  RedisArgs args{"1", keys::Meta(live_room)};
  for (int t = 0; t < kStoredTypeCount; ++t) {
    if (top[t] < 0) continue;
    args.push_back(TypeName(kStoredTypes[t]));
    args.push_back(std::to_string(top[t]));
  }
  if (args.size() == 2) return Status::Ok();
  auto r = redis_->EvalPipeline(kWatermarkScript, {args});
  if (!r.ok()) return r.status();
  if (r->front().is_error()) return Status(Code::kUnavailable, "watermark script: " + r->front().str);
  return Status::Ok();
}

ArchiveReport Archiver::Checkpoint(const std::string& live_room) { return Checkpoint(live_room, std::nullopt); }

Result<RoomMeta> Archiver::LiveMeta(const std::string& live_room) {
  std::lock_guard work(work_mu_);
  return ReadMeta(live_room);
}

ArchiveReport Archiver::Checkpoint(const std::string& live_room, const std::optional<Status>& writable) {
  std::lock_guard work(work_mu_);
  const int64_t started = clock_.MonoMs();
  ArchiveReport report;
  report.live_room = live_room;
  report.kind = "checkpoint";
  report.attempts = 1;
  auto done = [&](const Status& s) {
    if (!s.ok()) {
      if (report.result.empty()) report.result = "error";
      report.error = s.ToString();
      LogWarn("archive_checkpoint_failed", {{"live_room", live_room}, {"result", report.result},
                                            {"error", report.error}, {"rows", std::to_string(report.rows())}});
    } else {
      report.result = "ok";
      LogInfo("archive_checkpoint", {{"live_room", live_room}, {"rows", std::to_string(report.rows())},
                                     {"inserted", std::to_string(report.inserted)}});
    }
    report.seconds = static_cast<double>(clock_.MonoMs() - started) / 1000.0;
    if (auto it = checkpoints_.find(report.result); it != checkpoints_.end()) it->second->Increment();
    return report;
  };
  if (Status s = writable ? *writable : CheckWritable(); !s.ok()) return done(s);
  auto meta = ReadMeta(live_room);
  if (!meta.ok()) return done(meta.status());
  int64_t after[kStoredTypeCount], min_score[kStoredTypeCount], top[kStoredTypeCount];
  for (int t = 0; t < kStoredTypeCount; ++t) {
    after[t] = meta->copied[t];
    min_score[t] = -1;
  }
  for (int t = 0; t < kStoredTypeCount; ++t) {
    if (Status s = CopyType(live_room, t, &after[t], &min_score[t], &report); !s.ok()) return done(s);
    top[t] = report.copied[t] > 0 ? after[t] : -1;
  }
  if (Status s = Verify(live_room, min_score, top, report); !s.ok()) return done(s);
  if (Status s = RaiseWatermark(live_room, top); !s.ok()) return done(s);
  // Unlisted even if messages arrived meanwhile: the next apply that still
  // holds members lists the room again, and an unlisted room's held members
  // stay in the live set until the final archive copies them.
  auto r = redis_->Command({"ZREM", keys::kArchiveHeld, live_room});
  if (!r.ok()) return done(r.status());
  return done(Status::Ok());
}

Status Archiver::WaitForEnd(const std::string& live_room) {
  const int64_t deadline = clock_.MonoMs() + options_.end_wait_ms;
  while (true) {
    auto r = redis_->Command({"HGET", keys::Meta(live_room), "state"});
    if (!r.ok()) return r.status();
    if (r->str == "ended") return Status::Ok();
    if (clock_.MonoMs() >= deadline) {
      return Status(Code::kNotFound, "meta state is '" + r->str + "' after " + std::to_string(options_.end_wait_ms) +
                                         " ms; the scan will archive the room once it is ended");
    }
    if (!SleepUnlessStopped(kEndPollMs)) return Status(Code::kUnavailable, "stopping");
  }
}

Status Archiver::CopyType(const std::string& live_room, int type_index, int64_t* after, int64_t* min_score,
                          ArchiveReport* report) {
  const MessageType type = kStoredTypes[type_index];
  const std::string type_name = TypeName(type);
  const std::string key = keys::Msg(live_room, type);
  const std::string batch = std::to_string(options_.batch_size);
  std::vector<SqlParam> params;
  while (true) {
    if (Stopping()) {
      report->result = "aborted";
      return Status(Code::kUnavailable, "stopping");
    }
    // Scores are unique per key, so "above the last copied score" pages
    // without gaps, and trimming below us cannot shift the pages.
    auto r = redis_->Command({"ZRANGEBYSCORE", key, "(" + std::to_string(*after), "+inf", "WITHSCORES", "LIMIT", "0", batch});
    if (!r.ok()) return r.status();
    if (r->is_error()) return Status(Code::kUnavailable, "ZRANGEBYSCORE " + key + ": " + r->str);
    const auto& e = r->elements;
    if (e.empty()) return Status::Ok();
    params.clear();
    params.reserve(e.size() * 3);
    int64_t skipped = 0;
    for (size_t i = 0; i + 1 < e.size(); i += 2) {
      const std::string& payload = e[i].str;
      int64_t score = ParseInt64Or(e[i + 1].str);
      *after = score;
      std::string id(PayloadId(payload));
      std::string_view fast_uid;
      std::string uid;
      if (!id.empty() && PayloadUid(payload, &fast_uid)) {
        uid = fast_uid;
      } else {
        auto m = DecodePayload(payload);
        if (m.ok()) {
          id = m->id;
          uid = m->uid;
        }
      }
      if (!ValidId(id)) {
        // Cannot be a row (and would fail the whole batch): counted and logged.
        ++skipped;
        LogError("archive_row_skipped", {{"live_room", live_room}, {"type", type_name}, {"score", std::to_string(score)},
                                         {"reason", "message id missing, longer than 64 bytes or not printable ASCII"}});
        continue;
      }
      if (*min_score < 0) *min_score = score;
      params.emplace_back(std::move(id));
      params.emplace_back(live_room);
      params.emplace_back(type_name);
      params.emplace_back(score);
      params.emplace_back(TruncateUtf8(uid, kColumnBytes));
      params.emplace_back(payload);
    }
    const size_t rows = params.size() / 6;
    if (rows > 0) {
      if (Status s = EnsureDb(); !s.ok()) return s;
      auto n = db_->Execute(InsertSql(rows), params);
      if (!n.ok()) {
        db_.reset();  // reconnect next time; the batch is simply copied again
        return n.status();
      }
      report->copied[type_index] += static_cast<int64_t>(rows);
      report->inserted += *n;
      if (!rows_.empty()) {
        rows_[type_name + "/inserted"]->Increment(static_cast<double>(*n));
        rows_[type_name + "/duplicate"]->Increment(static_cast<double>(static_cast<int64_t>(rows) - *n));
      }
    }
    if (skipped && !rows_.empty()) rows_[type_name + "/skipped"]->Increment(static_cast<double>(skipped));
    if (hooks_.after_batch && !hooks_.after_batch(live_room, report->rows())) {
      report->result = "aborted";
      return Status(Code::kUnavailable, "aborted by the after_batch hook");
    }
    if (e.size() / 2 < static_cast<size_t>(options_.batch_size)) return Status::Ok();
  }
}

Status Archiver::Verify(const std::string& live_room, const int64_t min_score[], const int64_t max_score[],
                        const ArchiveReport& report) {
  for (int t = 0; t < kStoredTypeCount; ++t) {
    if (report.copied[t] == 0) continue;
    if (Status s = EnsureDb(); !s.ok()) return s;
    auto rows = db_->Query(
        "SELECT COUNT(*) FROM archived_messages WHERE live_room = ? AND type = ? AND ts_ms BETWEEN ? AND ?",
        {live_room, TypeName(kStoredTypes[t]), min_score[t], max_score[t]});
    if (!rows.ok()) {
      db_.reset();
      return rows.status();
    }
    int64_t n = ParseInt64Or(rows->front().front());
    if (n < report.copied[t]) {
      return Status(Code::kInternal, std::string("MySQL holds ") + std::to_string(n) + " " +
                                         TypeName(kStoredTypes[t]) + " rows between scores " +
                                         std::to_string(min_score[t]) + " and " + std::to_string(max_score[t]) +
                                         ", fewer than the " + std::to_string(report.copied[t]) + " copied");
    }
    if (n > report.copied[t]) {
      // Only when the live room id was reused after its meta expired: the
      // earlier stream's rows share the range. Ours are all there.
      LogWarn("archive_count_extra", {{"live_room", live_room}, {"type", TypeName(kStoredTypes[t])},
                                      {"mysql", std::to_string(n)}, {"copied", std::to_string(report.copied[t])}});
    }
  }
  return Status::Ok();
}

Status Archiver::UpsertRoom(const std::string& live_room, int64_t likes, int64_t viewers, int64_t last_ts) {
  if (Status s = EnsureDb(); !s.ok()) return s;
  auto count = db_->Query("SELECT COUNT(*) FROM archived_messages WHERE live_room = ?", {live_room});
  if (!count.ok()) {
    db_.reset();
    return count.status();
  }
  // Likes and viewers only grow during a stream; GREATEST keeps a re-run
  // that sees a fresh counter (late likes after a release) from lowering them.
  auto n = db_->Execute(
      "INSERT INTO archived_rooms (live_room, likes, viewers, messages, last_ts_ms) VALUES (?, ?, ?, ?, ?) "
      "ON DUPLICATE KEY UPDATE likes = GREATEST(likes, VALUES(likes)), viewers = GREATEST(viewers, VALUES(viewers)), "
      "messages = VALUES(messages), last_ts_ms = GREATEST(last_ts_ms, VALUES(last_ts_ms)), "
      "archived_at = CURRENT_TIMESTAMP(3)",
      {live_room, likes, viewers, ParseInt64Or(count->front().front()), last_ts});
  if (!n.ok()) {
    db_.reset();
    return n.status();
  }
  return Status::Ok();
}

Result<bool> Archiver::Release(const std::string& live_room, const int64_t max_score[], ArchiveReport* report) {
  RedisArgs args;
  args.push_back("15");
  for (MessageType t : kStoredTypes) args.push_back(keys::Msg(live_room, t));
  args.push_back(keys::Likes(live_room));
  args.push_back(keys::Users(live_room));
  args.push_back(keys::Meta(live_room));
  for (MessageType t : kSeenTypes) args.push_back(keys::Seen(live_room, t));
  args.push_back(keys::kArchiveHeld);
  args.push_back(keys::Viewers(live_room));
  for (int t = 0; t < kStoredTypeCount; ++t) args.push_back(std::to_string(max_score[t]));
  args.push_back(std::to_string(clock_.NowMs()));
  args.push_back(std::to_string(options_.live_ttl_after_archive_s));
  for (MessageType t : kStoredTypes) args.push_back(TypeName(t));
  args.push_back(live_room);
  auto r = redis_->EvalPipeline(kReleaseScript, {args});
  if (!r.ok()) return r.status();
  const RedisReply& reply = r->front();
  if (reply.is_error()) return Status(Code::kUnavailable, "release script: " + reply.str);
  if (reply.elements.size() != 3) return Status(Code::kInternal, "release script returned an unexpected reply");
  if (reply.elements[0].integer == 1) {
    report->likes = reply.elements[1].integer;
    report->viewers = std::max(report->viewers, reply.elements[2].integer);
    return true;
  }
  int t = static_cast<int>(reply.elements[1].integer) - 1;
  LogInfo("archive_live_changed", {{"live_room", live_room}, {"type", TypeName(kStoredTypes[std::clamp(t, 0, 3)])},
                                   {"copied_max", std::to_string(max_score[std::clamp(t, 0, 3)])},
                                   {"live_max", std::to_string(reply.elements[2].integer)}});
  return false;
}

ArchiveReport Archiver::ArchiveRoom(const std::string& live_room, bool wait_for_end) {
  std::lock_guard work(work_mu_);
  const int64_t started = clock_.MonoMs();
  ArchiveReport report;
  report.live_room = live_room;
  auto fail = [&](const Status& s) {
    if (report.result.empty()) report.result = s.code() == Code::kNotFound ? "not_ended" : "error";
    report.error = s.ToString();
    LogWarn("archive_failed", {{"live_room", live_room}, {"result", report.result}, {"error", s.ToString()},
                               {"rows", std::to_string(report.rows())}, {"attempts", std::to_string(report.attempts)}});
    Finish(&report, started);
    return report;
  };
  if (wait_for_end) {
    if (Status s = WaitForEnd(live_room); !s.ok()) {
      if (s.message() == "stopping") report.result = "aborted";
      return fail(s);
    }
  }
  if (Status s = CheckWritable(); !s.ok()) return fail(s);
  auto meta = ReadMeta(live_room);
  if (!meta.ok()) return fail(meta.status());
  // Below the watermark everything is in MySQL already (checkpoints).
  int64_t after[kStoredTypeCount], min_score[kStoredTypeCount], max_score[kStoredTypeCount];
  std::copy(meta->copied, meta->copied + kStoredTypeCount, after);
  std::fill(min_score, min_score + kStoredTypeCount, -1);
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    report.attempts = attempt;
    for (int t = 0; t < kStoredTypeCount; ++t) {
      if (Status s = CopyType(live_room, t, &after[t], &min_score[t], &report); !s.ok()) return fail(s);
      max_score[t] = std::max<int64_t>(after[t], 0);
    }
    if (Status s = Verify(live_room, min_score, max_score, report); !s.ok()) return fail(s);
    auto totals = redis_->Pipeline({{"GET", keys::Likes(live_room)}, {"ZCARD", keys::Users(live_room)},
                                    {"PFCOUNT", keys::Viewers(live_room)}});
    if (!totals.ok()) return fail(totals.status());
    report.likes = ParseInt64Or((*totals)[0].str);
    report.viewers = std::max((*totals)[1].integer, (*totals)[2].integer);
    int64_t last_ts = *std::max_element(max_score, max_score + kStoredTypeCount);
    if (Status s = UpsertRoom(live_room, report.likes, report.viewers, last_ts); !s.ok()) return fail(s);
    auto released = Release(live_room, max_score, &report);
    if (!released.ok()) return fail(released.status());
    if (*released) {
      // The like total read atomically with the release replaces the one of
      // step 4 (likes may still have arrived in between).
      if (Status s = UpsertRoom(live_room, report.likes, report.viewers, last_ts); !s.ok()) return fail(s);
      report.result = "ok";
      Finish(&report, started);
      return report;
    }
  }
  report.result = "changed";
  return fail(Status(Code::kUnavailable, "messages kept arriving after " + std::to_string(options_.max_attempts) +
                                             " copy rounds; the scan retries"));
}

void Archiver::Finish(ArchiveReport* report, int64_t started_mono) {
  report->seconds = static_cast<double>(clock_.MonoMs() - started_mono) / 1000.0;
  if (auto it = rooms_.find(report->result); it != rooms_.end()) it->second->Increment();
  if (duration_ && report->result != "not_ended") duration_->Observe(report->seconds);
  if (report->result == "ok") {
    double rate = report->seconds > 0 ? static_cast<double>(report->rows()) / report->seconds : 0;
    LogInfo("archive_done", {{"live_room", report->live_room}, {"rows", std::to_string(report->rows())},
                             {"inserted", std::to_string(report->inserted)}, {"likes", std::to_string(report->likes)},
                             {"viewers", std::to_string(report->viewers)}, {"attempts", std::to_string(report->attempts)},
                             {"seconds", std::to_string(report->seconds)}, {"rows_per_sec", std::to_string(static_cast<int64_t>(rate))}});
  }
}

}  // namespace danmu::core

namespace danmu::core {

Result<ArchiveStatus> Archiver::Inspect(const std::string& live_room) {
  std::lock_guard work(work_mu_);
  ArchiveStatus st;
  st.live_room = live_room;
  std::vector<RedisArgs> cmds{{"HGETALL", keys::Meta(live_room)}, {"ZSCORE", keys::kArchiveHeld, live_room}};
  for (MessageType t : kStoredTypes) cmds.push_back({"ZCARD", keys::Msg(live_room, t)});
  auto r = redis_->Pipeline(cmds);
  if (!r.ok()) return r.status();
  std::vector<std::string> kv;
  for (const auto& e : (*r)[0].elements) kv.push_back(e.str);
  st.meta_exists = !kv.empty();
  st.meta = ParseRoomMeta(kv);
  st.held = !(*r)[1].is_nil();
  for (int t = 0; t < kStoredTypeCount; ++t) st.live[t] = (*r)[2 + t].integer;
  if (Status s = EnsureDb(); !s.ok()) return s;
  auto rows = db_->Query("SELECT type, COUNT(*) FROM archived_messages WHERE live_room = ? GROUP BY type", {live_room});
  if (!rows.ok()) {
    db_.reset();
    return rows.status();
  }
  for (const auto& row : *rows) {
    for (int t = 0; t < kStoredTypeCount; ++t) {
      if (row[0] == TypeName(kStoredTypes[t])) st.mysql_rows[t] = ParseInt64Or(row[1]);
    }
  }
  auto room = db_->Query("SELECT likes, viewers, messages, archived_at FROM archived_rooms WHERE live_room = ?",
                         {live_room});
  if (!room.ok()) {
    db_.reset();
    return room.status();
  }
  if (!room->empty()) {
    const SqlRow& row = room->front();
    st.archived_row = true;
    st.likes = ParseInt64Or(row[0]);
    st.viewers = ParseInt64Or(row[1]);
    st.messages = ParseInt64Or(row[2]);
    st.archived_at = row[3];
  }
  return st;
}

std::string ToJson(const ArchiveReport& r) {
  std::string b = "{\"live_room\":";
  AppendJsonString(b, r.live_room);
  b += ",\"kind\":\"" + r.kind + "\",\"result\":\"" + r.result + "\",\"copied\":{";
  for (int t = 0; t < kStoredTypeCount; ++t) {
    b += (t ? ",\"" : "\"") + std::string(TypeName(kStoredTypes[t])) + "\":" + std::to_string(r.copied[t]);
  }
  b += "},\"rows\":" + std::to_string(r.rows()) + ",\"inserted\":" + std::to_string(r.inserted);
  b += ",\"likes\":" + std::to_string(r.likes) + ",\"viewers\":" + std::to_string(r.viewers);
  b += ",\"attempts\":" + std::to_string(r.attempts) + ",\"seconds\":" + std::to_string(r.seconds);
  if (!r.error.empty()) {
    b += ",\"error\":";
    AppendJsonString(b, r.error);
  }
  return b + "}";
}

std::string ToJson(const ArchiveStatus& st) {
  std::string b = "{\"live_room\":";
  AppendJsonString(b, st.live_room);
  b += ",\"live\":{\"meta\":" + std::string(st.meta_exists ? "true" : "false") + ",\"state\":";
  AppendJsonString(b, st.meta.state);
  b += ",\"archived\":" + std::string(st.meta.archived ? "true" : "false");
  b += ",\"held_for_checkpoint\":" + std::string(st.held ? "true" : "false") + ",\"types\":{";
  for (int t = 0; t < kStoredTypeCount; ++t) {
    b += (t ? ",\"" : "\"") + std::string(TypeName(kStoredTypes[t])) + "\":{";
    b += "\"live_messages\":" + std::to_string(st.live[t]);
    b += ",\"last_score\":" + std::to_string(st.meta.last[t]);
    b += ",\"archive_watermark\":" + std::to_string(st.meta.copied[t]);
    b += ",\"evicted_unarchived\":" + std::to_string(st.meta.evicted[t]);
    b += ",\"mysql_rows\":" + std::to_string(st.mysql_rows[t]) + "}";
  }
  b += "}},\"archived_room\":";
  if (!st.archived_row) return b + "null}";
  b += "{\"likes\":" + std::to_string(st.likes) + ",\"viewers\":" + std::to_string(st.viewers);
  b += ",\"messages\":" + std::to_string(st.messages) + ",\"archived_at\":";
  AppendJsonString(b, st.archived_at);
  return b + "}}";
}

}  // namespace danmu::core
