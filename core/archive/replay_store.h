#pragma once
// The replay read model: archived rooms served from the replay Redis, loaded
// from MySQL on the first request per room (DESIGN §5). It never talks to a
// live Redis: it is built with the replay_redis options only, and danmud
// refuses to start when those name the live (or peer) Redis.
//
// Layout (see core/replay_window.h for the member encoding):
//   danmu:replay:{<room>}:msgs     sorted set, every member score 0: the
//                                  room sentinel + one member per message
//   danmu:replay:{<room>}:absent   "not archived" marker, kAbsentTtlMs
//   danmu:replay:{<room>}:load:<r> a load in progress (renamed when complete)
//   danmu:replay:rooms             sorted set room -> load time (ms)
//
// Read: MULTI; ZRANGE msgs 0 0 (the sentinel when loaded); ZRANGEBYLEX msgs
// <window> LIMIT 0 limit+1; EXEC. One round trip, atomic, so a page never
// mixes a room's eviction with its read.
//
// Load (a miss): archived_rooms says whether the room is archived (else the
// absent marker and 404). The messages are streamed from MySQL in keyset
// pages of archive.batch_size into a temporary key; one Lua script then
// checks that the temporary key holds every row plus the sentinel (the
// replay Redis may have evicted it half-way under memory pressure), renames
// it over the room's key with EXPIRE archive.replay_ttl_s, records the room
// in danmu:replay:rooms and evicts the oldest loads beyond
// archive.replay_max_rooms. Memory is therefore bounded by the room count and
// the TTL, and the replay Redis's maxmemory + allkeys-lru is the backstop
// (an evicted room is simply loaded again).
//
// Concurrency: one load per room per process (later requests for the room
// wait for it, at most archive.replay_load_wait_ms, then 503); loads share
// one MySQL connection. Two processes may load the same room at once; both
// write identical members and the rename is atomic, so that is only wasted
// work. A room re-archived after its load (late messages) is served stale
// until its TTL ends.
//
// Thread-safe: Read may be called from every HTTP thread.
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/base/clock.h"
#include "core/base/config.h"
#include "core/model/replay_window.h"
#include "core/base/status.h"

namespace prometheus {
class Counter;
}

namespace danmu::core {

class Metrics;
class MysqlClient;
class RedisClient;

struct ReplayPage {
  std::string messages_json = "[]";  // JSON array of served messages, in replay order
  int count = 0;
  std::optional<ReplayPosition> next;  // set when the window holds more
  ReplayRoomInfo info;
};

// What the HTTP layer needs; tests substitute a model.
class ReplaySource {
 public:
  virtual ~ReplaySource() = default;
  // kNotFound: the room is not archived. kUnavailable: the replay Redis or
  // MySQL is down, or a load took longer than the wait (retry).
  virtual Result<ReplayPage> Read(const ReplayQuery& q) = 0;
};

class ReplayStore final : public ReplaySource {
 public:
  ReplayStore(const ArchiveOptions& options, RedisOptions replay_redis, MysqlOptions mysql, const Clock& clock,
              Metrics* metrics);
  ~ReplayStore() override;

  // Connects to MySQL and checks the schema version (kInvalidArgument when
  // too old, kUnavailable when unreachable: loads retry the connection).
  Status Preflight();
  Result<ReplayPage> Read(const ReplayQuery& q) override;

  static std::string RoomKey(const std::string& live_room);
  static constexpr const char* kRoomsKey = "danmu:replay:rooms";
  static constexpr int kAbsentTtlMs = 5000;  // how long "not archived" is remembered

 private:
  struct Inflight;
  // Borrowed replay Redis connection (a small pool).
  class Conn;
  Conn Borrow();

  enum class Lookup { kHit, kMiss };
  Result<Lookup> TryRead(const ReplayQuery& q, ReplayPage* page);
  Status LoadOnce(const std::string& live_room);
  Status Load(const std::string& live_room);
  Status EnsureDb();

  const ArchiveOptions options_;
  const RedisOptions redis_options_;
  const MysqlOptions mysql_options_;
  const Clock& clock_;
  Metrics* metrics_;

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<RedisClient>> pool_;  // idle connections, guarded by pool_mu_
  int pool_created_ = 0;                            // guarded by pool_mu_

  std::mutex inflight_mu_;
  std::map<std::string, std::shared_ptr<Inflight>> inflight_;  // room -> its running load

  std::timed_mutex db_mu_;
  std::unique_ptr<MysqlClient> db_;  // guarded by db_mu_

  prometheus::Counter* hits_ = nullptr;
  prometheus::Counter* misses_ = nullptr;
  std::map<std::string, prometheus::Counter*> loads_;  // result: ok | not_archived | error
  prometheus::Counter* evictions_ = nullptr;
};

}  // namespace danmu::core
