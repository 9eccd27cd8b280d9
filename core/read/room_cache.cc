#include "core/read/room_cache.h"

#include "core/model/payload_uid.h"
#include "core/read/poll_selection.h"

#include <algorithm>
#include <random>
#include <utility>

#include "core/model/live_keys.h"
#include "core/base/log.h"
#include "core/base/metrics.h"

namespace danmu::core {
namespace {
constexpr int kCommandsPerRoom = kStoredTypeCount + 3;

}  // namespace

RoomCache::Entry RoomCache::MakeEntry(int64_t score, std::string_view payload) {
  Entry e{score, {}, {}, false};
  e.served.reserve(payload.size() + 24);
  AppendServed(e.served, score, payload);
  std::string_view uid;
  if (PayloadUid(payload, &uid)) {
    e.uid = uid;
  } else if (payload.find(",\"uid\":\"") != std::string_view::npos) {
    // An escaped uid (validation never lets one in; decode rather than guess).
    if (auto m = DecodePayload(payload); m.ok()) e.uid = m->uid;
  }
  e.priority = payload.find("\"priority\":true") != std::string_view::npos;
  return e;
}

void RoomCache::Append(TypeWindow& w, Entry e) {
  if (!w.buffer || w.buffer->items.size() == w.buffer->items.capacity()) {
    // Full (or none yet): move to a new buffer holding the live entries. The
    // old one stays intact for snapshots that still read it.
    size_t live = w.live();
    auto fresh = std::make_shared<EntryBuffer>();
    fresh->items.reserve(std::max<size_t>(2 * static_cast<size_t>(std::max(options_.window, 1)), 2 * live + 1));
    if (w.buffer) fresh->items.assign(w.buffer->items.begin() + static_cast<std::ptrdiff_t>(w.head), w.buffer->items.end());
    w.buffer = std::move(fresh);
    w.head = 0;
  }
  w.buffer->items.push_back(std::move(e));
}

void RoomCache::Publish(Room& room) {
  auto snap = std::make_shared<Snapshot>();
  for (int t = 0; t < kStoredTypeCount; ++t) {
    const TypeWindow& w = room.types[t];
    TypeView& v = snap->types[t];
    v.buffer = w.buffer;
    v.data = w.buffer ? w.buffer->items.data() : nullptr;
    v.head = w.head;
    v.end = w.buffer ? w.buffer->items.size() : 0;
    v.floor = w.floor;
    v.top = w.top;
  }
  snap->likes = room.likes;
  snap->online = room.online;
  snap->state = room.state;
  snap->loaded = room.loaded;
  std::shared_ptr<const Snapshot> old;  // released outside the lock
  {
    std::unique_lock lock(room.snapshot_mu);
    old = std::exchange(room.snapshot, std::move(snap));
  }
}

RoomCache::RoomCache(const CacheOptions& options, const PollOptions& poll,
                     std::unique_ptr<RedisClient> redis_for_refresh, std::unique_ptr<RedisClient> redis_for_miss,
                     const Clock& clock, Metrics* metrics)
    : options_(options),
      poll_(poll),
      clock_(clock),
      metrics_(metrics),
      refresh_redis_(std::move(redis_for_refresh)),
      miss_redis_(std::move(redis_for_miss)) {
  if (metrics_) {
    hits_ = &metrics_->cache_hits.Add({});
    misses_ = &metrics_->cache_misses.Add({});
  }
}

RoomCache::~RoomCache() { Stop(); }

void RoomCache::Start() {
  std::lock_guard lock(loop_mu_);
  stop_ = false;
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

void RoomCache::Stop() {
  {
    std::lock_guard lock(loop_mu_);
    stop_ = true;
  }
  loop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RoomCache::SetReadAddress(const std::string& address) {
  std::scoped_lock lock(refresh_mu_, miss_mu_);
  refresh_redis_->Reset(address);
  miss_redis_->Reset(address);
}

std::string RoomCache::read_address() const { return refresh_redis_->address(); }

size_t RoomCache::hot_rooms() const {
  std::shared_lock lock(rooms_mu_);
  return rooms_.size();
}

void RoomCache::AppendRefreshCommands(const std::string& live_room, Room& room, std::vector<RedisArgs>* cmds) {
  const std::string window = std::to_string(options_.window);
  for (int t = 0; t < kStoredTypeCount; ++t) {
    const TypeWindow& w = room.types[t];
    std::string key = keys::Msg(live_room, kStoredTypes[t]);
    if (!w.loaded) {
      cmds->push_back({"ZREVRANGEBYSCORE", key, "+inf", "-inf", "WITHSCORES", "LIMIT", "0", window});
    } else {
      cmds->push_back({"ZRANGEBYSCORE", key, "(" + std::to_string(w.top), "+inf", "WITHSCORES", "LIMIT", "0", window});
    }
  }
  cmds->push_back({"GET", keys::Likes(live_room)});
  cmds->push_back({"ZCOUNT", keys::Users(live_room), std::to_string(clock_.NowMs() - poll_.online_window_ms), "+inf"});
  cmds->push_back({"HMGET", keys::Meta(live_room), "state", "start_ms"});
}

void RoomCache::ApplyRefresh(Room& room, const std::vector<RedisReply>& replies, size_t offset) {
  const RedisReply& meta = replies[offset + kStoredTypeCount + 2];
  int64_t start_ms = 0;
  if (meta.type == RedisReply::Type::kArray && meta.elements.size() == 2) {
    room.state = meta.elements[0].is_nil() ? "" : meta.elements[0].str;
    start_ms = meta.elements[1].AsInt(0);
  }
  if (room.loaded && start_ms != room.start_ms) {
    // The stream was archived and restarted: scores began again. Drop the
    // windows; the next tick reloads them from scratch.
    for (auto& w : room.types) w = TypeWindow{};
    room.start_ms = start_ms;
    room.generation++;
    Publish(room);
    return;
  }
  room.start_ms = start_ms;
  room.grew = false;
  for (int t = 0; t < kStoredTypeCount; ++t) {
    const RedisReply& r = replies[offset + t];
    if (r.type != RedisReply::Type::kArray) continue;
    TypeWindow& w = room.types[t];
    size_t n = r.elements.size() / 2;
    if (!w.loaded) {
      // Newest first: reverse into ascending order, in a buffer of its own.
      w = TypeWindow{};
      for (size_t i = n; i-- > 0;) {
        Append(w, MakeEntry(r.elements[2 * i + 1].AsInt(0), r.elements[2 * i].str));
      }
      w.floor = (static_cast<int>(n) >= options_.window && n > 0) ? w.buffer->items[w.head].score - 1 : 0;
      w.top = n ? w.buffer->items.back().score : 0;
      w.loaded = true;
      room.grew = room.grew || n > 0;
      continue;
    }
    for (size_t i = 0; i < n; ++i) {
      int64_t score = r.elements[2 * i + 1].AsInt(0);
      if (score <= w.top) continue;  // cannot happen with the Lua writer; never serve twice
      Append(w, MakeEntry(score, r.elements[2 * i].str));
      w.top = score;
      room.grew = true;
    }
    size_t live = w.live();
    if (live > static_cast<size_t>(options_.window)) {
      size_t drop = live - options_.window;
      w.floor = std::max(w.floor, w.buffer->items[w.head + drop - 1].score);
      w.head += drop;
    }
  }
  const int64_t likes = replies[offset + kStoredTypeCount].AsInt(0);
  const int64_t online = replies[offset + kStoredTypeCount + 1].AsInt(0);
  room.counts_changed = room.loaded && (likes != room.likes || online != room.online);
  room.likes = likes;
  room.online = online;
  room.loaded = true;
  room.generation++;
  Publish(room);
}

Status RoomCache::RefreshAll() {
  std::lock_guard refresh_lock(refresh_mu_);
  std::vector<std::pair<std::string, std::shared_ptr<Room>>> rooms;
  {
    std::shared_lock lock(rooms_mu_);
    rooms.assign(rooms_.begin(), rooms_.end());
  }
  if (rooms.empty()) return Status::Ok();
  std::vector<RedisArgs> cmds;
  std::vector<uint64_t> generations;
  cmds.reserve(rooms.size() * kCommandsPerRoom);
  for (auto& [name, room] : rooms) {
    std::lock_guard lock(room->mu);
    AppendRefreshCommands(name, *room, &cmds);
    generations.push_back(room->generation);
  }
  auto replies = refresh_redis_->Pipeline(cmds);
  if (metrics_) metrics_->cache_refreshes.Add({}).Increment();
  if (!replies.ok()) return replies.status();
  std::vector<RefreshNote> notes;
  for (size_t i = 0; i < rooms.size(); ++i) {
    Room& room = *rooms[i].second;
    std::lock_guard lock(room.mu);
    // A poll loaded the room in between: this reply was built on older state.
    if (room.generation != generations[i]) continue;
    ApplyRefresh(room, *replies, i * kCommandsPerRoom);
    // A like burst with no new message must reach long connections too: a
    // poller sees the new count on its next poll, a pushed client only in a frame.
    if (listener_ && (room.grew || room.counts_changed)) {
      notes.push_back({rooms[i].first, room.grew ? clock_.MonoMs() : 0});
    }
  }
  if (!notes.empty()) listener_(notes);
  return Status::Ok();
}

void RoomCache::Loop() {
  int64_t last_error_log = 0;
  while (true) {
    {
      std::unique_lock lock(loop_mu_);
      if (loop_cv_.wait_for(lock, std::chrono::milliseconds(options_.refresh_ms), [&] { return stop_; })) return;
    }
    Status s = RefreshAll();
    if (!s.ok() && clock_.MonoMs() - last_error_log > 5000) {
      last_error_log = clock_.MonoMs();
      LogWarn("cache_refresh_failed", {{"error", s.ToString()}});
    }
    // Evict rooms nobody polled for a while. The exclusive lock is taken only
    // when there is something to evict: polls look rooms up under the shared one.
    int64_t now = clock_.MonoMs();
    auto idle = [&](const Room& room) {
      return now - room.last_access_ms.load(std::memory_order_relaxed) > options_.idle_evict_ms;
    };
    bool any_idle = false;
    size_t count = 0;
    {
      std::shared_lock lock(rooms_mu_);
      for (const auto& [name, room] : rooms_) any_idle = any_idle || idle(*room);
      count = rooms_.size();
    }
    if (any_idle) {
      std::unique_lock lock(rooms_mu_);
      for (auto it = rooms_.begin(); it != rooms_.end();) {
        if (idle(*it->second)) it = rooms_.erase(it);
        else ++it;
      }
      count = rooms_.size();
    }
    if (metrics_) metrics_->cache_rooms.Add({}).Set(static_cast<double>(count));
  }
}

std::shared_ptr<RoomCache::Room> RoomCache::Find(const std::string& live_room) const {
  std::shared_lock lock(rooms_mu_);
  auto it = rooms_.find(live_room);
  return it == rooms_.end() ? nullptr : it->second;
}

std::shared_ptr<const RoomCache::Snapshot> RoomCache::GetOrLoad(const std::string& live_room, bool* was_cold) {
  std::shared_ptr<Room> room = Find(live_room);
  if (!room) {
    std::unique_lock lock(rooms_mu_);
    auto& slot = rooms_[live_room];
    if (!slot) slot = std::make_shared<Room>();
    room = slot;
  }
  *was_cold = false;
  const int64_t now = clock_.MonoMs();
  // Written only when it changes: every poll thread storing to the same line
  // would bounce it between cores for nothing.
  if (room->last_access_ms.load(std::memory_order_relaxed) != now) {
    room->last_access_ms.store(now, std::memory_order_relaxed);
  }
  auto snap = room->Load();
  if (snap && snap->loaded) return snap;
  std::lock_guard lock(room->mu);
  if (!room->loaded) {
    // First poll of a cold room: load it now rather than answer empty.
    // Concurrent first polls wait here, so only one of them reads Redis.
    *was_cold = true;
    std::vector<RedisArgs> cmds;
    AppendRefreshCommands(live_room, *room, &cmds);
    std::lock_guard miss_lock(miss_mu_);
    auto replies = miss_redis_->Pipeline(cmds);
    if (replies.ok()) ApplyRefresh(*room, *replies, 0);
  }
  return room->Load();
}

Result<std::vector<RoomCache::Entry>> RoomCache::ReadAfter(const std::string& live_room, int type_index, int64_t after,
                                                           int limit) {
  std::lock_guard lock(miss_mu_);
  auto r = miss_redis_->Command({"ZRANGEBYSCORE", keys::Msg(live_room, kStoredTypes[type_index]),
                                 "(" + std::to_string(after), "+inf", "WITHSCORES", "LIMIT", "0", std::to_string(limit)});
  if (!r.ok()) return r.status();
  std::vector<Entry> out;
  for (size_t i = 0; i + 1 < r->elements.size(); i += 2) out.push_back(MakeEntry(r->elements[i + 1].AsInt(0), r->elements[i].str));
  return out;
}

void RoomCache::EnableNaiveReads(std::vector<std::unique_ptr<RedisClient>> pool) {
  std::lock_guard lock(naive_mu_);
  naive_free_ = std::move(pool);
  naive_ = !naive_free_.empty();
}

Status RoomCache::NaiveRead(const PollRequest& req, std::vector<Entry> (&fetched)[kStoredTypeCount]) {
  std::unique_ptr<RedisClient> conn;
  {
    std::unique_lock lock(naive_mu_);
    naive_cv_.wait(lock, [this] { return !naive_free_.empty(); });
    conn = std::move(naive_free_.back());
    naive_free_.pop_back();
  }
  std::vector<RedisArgs> cmds;
  const std::string limit = std::to_string(req.limit);
  for (int t = 0; t < kStoredTypeCount; ++t) {
    std::string key = keys::Msg(req.live_room, kStoredTypes[t]);
    if (req.cursor) {
      cmds.push_back({"ZRANGEBYSCORE", key, "(" + std::to_string(req.cursor->after[t]), "+inf", "WITHSCORES", "LIMIT",
                      "0", limit});
    } else {
      cmds.push_back({"ZREVRANGEBYSCORE", key, "+inf", "-inf", "WITHSCORES", "LIMIT", "0", limit});
    }
  }
  auto replies = conn->Pipeline(cmds);
  {
    std::lock_guard lock(naive_mu_);
    naive_free_.push_back(std::move(conn));
  }
  naive_cv_.notify_one();
  if (!replies.ok()) return replies.status();
  for (int t = 0; t < kStoredTypeCount && t < static_cast<int>(replies->size()); ++t) {
    const auto& r = (*replies)[t];
    for (size_t i = 0; i + 1 < r.elements.size(); i += 2) {
      fetched[t].push_back(MakeEntry(r.elements[i + 1].AsInt(0), r.elements[i].str));
    }
    if (!req.cursor) std::reverse(fetched[t].begin(), fetched[t].end());
  }
  return Status::Ok();
}

void RoomCache::SetRefreshListener(std::function<void(const std::vector<RefreshNote>&)> listener) {
  listener_ = std::move(listener);
}

Result<Cursor> RoomCache::Top(const std::string& live_room) {
  bool cold = false;
  auto snap = GetOrLoad(live_room, &cold);
  if (!snap || !snap->loaded) return Status(Code::kUnavailable, "live store unavailable");
  Cursor top;
  for (int t = 0; t < kStoredTypeCount; ++t) top.after[t] = snap->types[t].top;
  return top;
}

int64_t RoomCache::Online(const std::string& live_room) {
  auto room = Find(live_room);
  if (!room) return -1;
  auto snap = room->Load();
  return snap ? snap->online : 0;
}

std::string RoomCache::State(const std::string& live_room) {
  auto room = Find(live_room);
  if (!room) return {};
  auto snap = room->Load();
  return snap ? snap->state : std::string();
}

Result<PollResult> RoomCache::Poll(const PollRequest& req) {
  bool cold = false;
  // Everything below reads an immutable snapshot: no lock is held while the
  // answer is assembled.
  std::shared_ptr<const Snapshot> snap = GetOrLoad(req.live_room, &cold);
  if (!snap || !snap->loaded) return Status(Code::kUnavailable, "live store unavailable");
  bool miss = cold;

  struct Candidate {
    int64_t score;
    int type;
    const Entry* entry;
  };
  std::vector<Candidate> all;
  std::vector<Entry> fetched[kStoredTypeCount];
  PollResult out;
  Cursor tops;
  all.reserve(static_cast<size_t>(req.limit) * 2);
  // Per type: the highest score this poll may serve or move the cursor to.
  int64_t cap[kStoredTypeCount];
  for (int t = 0; t < kStoredTypeCount; ++t) {
    cap[t] = req.until ? std::min(req.until->after[t], snap->types[t].top) : snap->types[t].top;
  }
  if (naive_) {
    // The naive design (benchmarks): the messages come from Redis, not the window.
    if (Status s = NaiveRead(req, fetched); !s.ok()) return s;
    for (int t = 0; t < kStoredTypeCount; ++t) {
      // The top is what Redis held (the window is not consulted).
      tops.after[t] = fetched[t].empty() ? snap->types[t].top : fetched[t].back().score;
      for (const auto& e : fetched[t]) all.push_back({e.score, t, &e});
    }
    miss = true;
  }
  for (int t = 0; t < kStoredTypeCount && !naive_; ++t) {
    const TypeView& w = snap->types[t];
    tops.after[t] = cap[t];
    if (!req.cursor) {
      // Recent tail: the newest `limit` of each type are candidates.
      size_t live = w.end - w.head;
      size_t from = w.head + (live > static_cast<size_t>(req.limit) ? live - req.limit : 0);
      for (size_t i = from; i < w.end; ++i) {
        if (w.data[i].score <= cap[t]) all.push_back({w.data[i].score, t, &w.data[i]});
      }
      continue;
    }
    const int64_t after = req.cursor->after[t];
    if (after < w.floor && !req.big_room_slice) {
      // The client is behind the window: read the gap from Redis (bounded).
      auto r = ReadAfter(req.live_room, t, after, req.limit);
      if (!r.ok()) return r.status();
      fetched[t] = std::move(*r);
      miss = true;
      for (const auto& e : fetched[t]) {
        if (e.score <= cap[t]) all.push_back({e.score, t, &e});
      }
      continue;
    }
    const Entry* first = w.data ? w.data + w.head : nullptr;
    const Entry* last = w.data ? w.data + w.end : nullptr;
    const Entry* begin = std::upper_bound(first, last, after, [](int64_t s, const Entry& e) { return s < e.score; });
    for (const Entry* it = begin; it != last && it->score <= cap[t]; ++it) all.push_back({it->score, t, it});
  }
  std::sort(all.begin(), all.end(), [](const Candidate& a, const Candidate& b) {
    return a.score != b.score ? a.score < b.score : a.type < b.type;
  });
  std::vector<PollCandidate> candidates;
  candidates.reserve(all.size());
  const bool thinning = req.thin_limit > 0 && req.cursor;
  for (const Candidate& c : all) {
    const bool thinnable = thinning && kStoredTypes[c.type] == MessageType::kComment && !c.entry->priority &&
                           c.entry->uid != req.viewer_uid;
    candidates.push_back({c.score, c.type, thinnable});
  }
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  PollSelection pick = SelectPoll(candidates, req.cursor, req.limit, req.big_room_slice, req.thin_limit, tops, rng);
  out.next = pick.next;
  out.thinned = pick.thinned;
  size_t bytes = 2;
  for (size_t i : pick.served) bytes += all[i].entry->served.size() + 1;
  out.messages_json.reserve(bytes + 256);  // the poll answer is built around it in place
  out.messages_json.push_back('[');
  for (size_t k = 0; k < pick.served.size(); ++k) {
    if (k > 0) out.messages_json.push_back(',');
    out.messages_json.append(all[pick.served[k]].entry->served);
  }
  out.messages_json.push_back(']');
  out.count = static_cast<int>(pick.served.size());
  out.likes = snap->likes;
  out.online = snap->online;
  out.state = snap->state;
  if (metrics_) (miss ? misses_ : hits_)->Increment();
  return out;
}

}  // namespace danmu::core
