#include "core/room_cache.h"

#include <algorithm>
#include <random>

#include "core/live_keys.h"
#include "core/log.h"
#include "core/metrics.h"

namespace danmu::core {
namespace {
constexpr int kCommandsPerRoom = kStoredTypeCount + 3;

int64_t ToInt(const RedisReply& r) {
  if (r.type == RedisReply::Type::kInteger) return r.integer;
  if (r.type == RedisReply::Type::kString) {
    try { return std::stoll(r.str); } catch (...) { return 0; }
  }
  return 0;
}
}  // namespace

RoomCache::Entry RoomCache::MakeEntry(int64_t score, std::string payload) {
  Entry e{score, std::move(payload), {}, false};
  // Payloads are our own canonical JSON: uids never contain escapes.
  constexpr std::string_view kUid = "\"uid\":\"";
  auto pos = e.payload.find(kUid);
  if (pos != std::string::npos) {
    auto end = e.payload.find('"', pos + kUid.size());
    if (end != std::string::npos) e.uid = e.payload.substr(pos + kUid.size(), end - pos - kUid.size());
  }
  e.priority = e.payload.find("\"priority\":true") != std::string::npos;
  return e;
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
    start_ms = ToInt(meta.elements[1]);
  }
  if (room.loaded && start_ms != room.start_ms) {
    // The stream was archived and restarted: scores began again. Drop the
    // windows; the next tick reloads them from scratch.
    for (auto& w : room.types) w = TypeWindow{};
    room.start_ms = start_ms;
    room.generation++;
    return;
  }
  room.start_ms = start_ms;
  for (int t = 0; t < kStoredTypeCount; ++t) {
    const RedisReply& r = replies[offset + t];
    if (r.type != RedisReply::Type::kArray) continue;
    TypeWindow& w = room.types[t];
    size_t n = r.elements.size() / 2;
    if (!w.loaded) {
      // Newest first: reverse into ascending order.
      w.items.clear();
      w.head = 0;
      for (size_t i = n; i-- > 0;) {
        w.items.push_back(MakeEntry(ToInt(r.elements[2 * i + 1]), r.elements[2 * i].str));
      }
      w.floor = (static_cast<int>(n) >= options_.window && n > 0) ? w.items.front().score - 1 : 0;
      w.top = n ? w.items.back().score : 0;
      w.loaded = true;
      continue;
    }
    for (size_t i = 0; i < n; ++i) {
      int64_t score = ToInt(r.elements[2 * i + 1]);
      if (score <= w.top) continue;  // cannot happen with the Lua writer; never serve twice
      w.items.push_back(MakeEntry(score, r.elements[2 * i].str));
      w.top = score;
    }
    size_t live = w.items.size() - w.head;
    if (live > static_cast<size_t>(options_.window)) {
      size_t drop = live - options_.window;
      w.floor = std::max(w.floor, w.items[w.head + drop - 1].score);
      w.head += drop;
    }
    if (w.head > static_cast<size_t>(options_.window)) {
      w.items.erase(w.items.begin(), w.items.begin() + static_cast<std::ptrdiff_t>(w.head));
      w.head = 0;
    }
  }
  room.likes = ToInt(replies[offset + kStoredTypeCount]);
  room.online = ToInt(replies[offset + kStoredTypeCount + 1]);
  room.loaded = true;
  room.generation++;
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
  for (size_t i = 0; i < rooms.size(); ++i) {
    Room& room = *rooms[i].second;
    std::lock_guard lock(room.mu);
    // A poll loaded the room in between: this reply was built on older state.
    if (room.generation != generations[i]) continue;
    ApplyRefresh(room, *replies, i * kCommandsPerRoom);
  }
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
    // Evict rooms nobody polled for a while.
    int64_t now = clock_.MonoMs();
    std::unique_lock lock(rooms_mu_);
    for (auto it = rooms_.begin(); it != rooms_.end();) {
      int64_t last;
      {
        std::lock_guard room_lock(it->second->mu);
        last = it->second->last_access_ms;
      }
      if (now - last > options_.idle_evict_ms) it = rooms_.erase(it);
      else ++it;
    }
    if (metrics_) metrics_->cache_rooms.Add({}).Set(static_cast<double>(rooms_.size()));
  }
}

std::shared_ptr<RoomCache::Room> RoomCache::GetOrLoad(const std::string& live_room, bool* was_cold) {
  std::shared_ptr<Room> room;
  {
    std::shared_lock lock(rooms_mu_);
    auto it = rooms_.find(live_room);
    if (it != rooms_.end()) room = it->second;
  }
  if (!room) {
    std::unique_lock lock(rooms_mu_);
    auto& slot = rooms_[live_room];
    if (!slot) slot = std::make_shared<Room>();
    room = slot;
  }
  *was_cold = false;
  std::lock_guard lock(room->mu);
  room->last_access_ms = clock_.MonoMs();
  if (!room->loaded) {
    // First poll of a cold room: load it now rather than answer empty.
    *was_cold = true;
    std::vector<RedisArgs> cmds;
    AppendRefreshCommands(live_room, *room, &cmds);
    std::lock_guard miss_lock(miss_mu_);
    auto replies = miss_redis_->Pipeline(cmds);
    if (replies.ok()) ApplyRefresh(*room, *replies, 0);
  }
  return room;
}

Result<std::vector<RoomCache::Entry>> RoomCache::ReadAfter(const std::string& live_room, int type_index, int64_t after,
                                                           int limit) {
  std::lock_guard lock(miss_mu_);
  auto r = miss_redis_->Command({"ZRANGEBYSCORE", keys::Msg(live_room, kStoredTypes[type_index]),
                                 "(" + std::to_string(after), "+inf", "WITHSCORES", "LIMIT", "0", std::to_string(limit)});
  if (!r.ok()) return r.status();
  std::vector<Entry> out;
  for (size_t i = 0; i + 1 < r->elements.size(); i += 2) out.push_back(MakeEntry(ToInt(r->elements[i + 1]), r->elements[i].str));
  return out;
}

int64_t RoomCache::Online(const std::string& live_room) {
  std::shared_lock lock(rooms_mu_);
  auto it = rooms_.find(live_room);
  if (it == rooms_.end()) return -1;
  std::lock_guard room_lock(it->second->mu);
  return it->second->online;
}

std::string RoomCache::State(const std::string& live_room) {
  std::shared_lock lock(rooms_mu_);
  auto it = rooms_.find(live_room);
  if (it == rooms_.end()) return {};
  std::lock_guard room_lock(it->second->mu);
  return it->second->state;
}

Result<PollResult> RoomCache::Poll(const PollRequest& req) {
  bool cold = false;
  auto room = GetOrLoad(req.live_room, &cold);
  std::lock_guard lock(room->mu);
  if (!room->loaded) return Status(Code::kUnavailable, "live store unavailable");
  bool miss = cold;

  struct Candidate {
    int64_t score;
    int type;
    const std::string* payload;
    const Entry* entry;
  };
  std::vector<Candidate> all;
  std::vector<Entry> fetched[kStoredTypeCount];
  PollResult out;
  for (int t = 0; t < kStoredTypeCount; ++t) {
    const TypeWindow& w = room->types[t];
    int64_t after = req.cursor ? req.cursor->after[t] : 0;
    out.next.after[t] = req.cursor ? after : w.top;
    if (!req.cursor) {
      // Recent tail: the newest `limit` of each type are candidates.
      size_t live = w.items.size() - w.head;
      size_t from = w.head + (live > static_cast<size_t>(req.limit) ? live - req.limit : 0);
      for (size_t i = from; i < w.items.size(); ++i) all.push_back({w.items[i].score, t, &w.items[i].payload, &w.items[i]});
      continue;
    }
    if (after < w.floor && !req.big_room_slice) {
      // The client is behind the window: read the gap from Redis (bounded).
      auto r = ReadAfter(req.live_room, t, after, req.limit);
      if (!r.ok()) return r.status();
      fetched[t] = std::move(*r);
      miss = true;
      for (const auto& e : fetched[t]) all.push_back({e.score, t, &e.payload, &e});
      continue;
    }
    auto begin = std::upper_bound(w.items.begin() + static_cast<std::ptrdiff_t>(w.head), w.items.end(), after,
                                  [](int64_t s, const Entry& e) { return s < e.score; });
    for (auto it = begin; it != w.items.end(); ++it) all.push_back({it->score, t, &it->payload, &*it});
  }
  std::sort(all.begin(), all.end(), [](const Candidate& a, const Candidate& b) {
    return a.score != b.score ? a.score < b.score : a.type < b.type;
  });
  if (req.thin_limit > 0 && req.cursor) {
    // Level 2: keep every gift, join and system message, the viewer's own
    // and priority comments, and a uniform sample of thin_limit other
    // comments; the cursor moves past what was left out.
    std::vector<size_t> others;
    for (size_t i = 0; i < all.size(); ++i) {
      const Entry* e = all[i].entry;
      if (kStoredTypes[all[i].type] == MessageType::kComment && !e->priority && e->uid != req.viewer_uid) {
        others.push_back(i);
      }
    }
    if (others.size() > static_cast<size_t>(req.thin_limit)) {
      static thread_local std::mt19937_64 rng{std::random_device{}()};
      for (size_t i = 0; i < static_cast<size_t>(req.thin_limit); ++i) {
        std::uniform_int_distribution<size_t> pick(i, others.size() - 1);
        std::swap(others[i], others[pick(rng)]);
      }
      std::vector<bool> drop(all.size(), false);
      for (size_t i = req.thin_limit; i < others.size(); ++i) drop[others[i]] = true;
      std::vector<Candidate> kept;
      for (size_t i = 0; i < all.size(); ++i) {
        if (drop[i]) out.next.after[all[i].type] = std::max(out.next.after[all[i].type], all[i].score);
        else kept.push_back(all[i]);
      }
      // A dropped comment above the last served message would be skipped
      // only if the limit cuts below it; cap the cursor at what was served.
      if (kept.size() > static_cast<size_t>(req.limit)) {
        int64_t cutoff = kept[req.limit - 1].score;
        for (int t = 0; t < kStoredTypeCount; ++t) {
          if (out.next.after[t] > cutoff) out.next.after[t] = std::max(req.cursor->after[t], cutoff);
        }
      }
      all.swap(kept);
      out.thinned = true;
    }
  }
  size_t take_from = 0, take_to = all.size();
  if (!req.cursor || req.big_room_slice) {
    // Most recent `limit`; the cursor jumps to the top of every type.
    if (all.size() > static_cast<size_t>(req.limit)) take_from = all.size() - req.limit;
    for (int t = 0; t < kStoredTypeCount; ++t) {
      out.next.after[t] = std::max(out.next.after[t], room->types[t].top);
    }
  } else {
    // Everything after the cursor, oldest first, up to `limit`; the cursor
    // advances per type exactly to what was served.
    take_to = std::min(all.size(), static_cast<size_t>(req.limit));
  }
  out.messages_json.reserve(64 * (take_to - take_from) + 2);
  out.messages_json.push_back('[');
  for (size_t i = take_from; i < take_to; ++i) {
    if (i > take_from) out.messages_json.push_back(',');
    AppendServed(out.messages_json, all[i].score, *all[i].payload);
    out.next.after[all[i].type] = std::max(out.next.after[all[i].type], all[i].score);
  }
  out.messages_json.push_back(']');
  out.count = static_cast<int>(take_to - take_from);
  out.likes = room->likes;
  out.online = room->online;
  out.state = room->state;
  if (metrics_) (miss ? misses_ : hits_)->Increment();
  return out;
}

}  // namespace danmu::core
