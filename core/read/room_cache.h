#pragma once
// The frontend's read model: per hot live room, an in-memory window of recent
// messages per stored type, plus the like total and online count.
//
// A refresher thread brings every hot room up to date with ONE pipelined Redis
// round trip per tick (all rooms together), fetching per type only what is
// above the highest score it holds. Polls are answered from memory, so Redis
// read load grows with rooms x frontends, never with viewers. Only two cases
// read Redis on behalf of a poll, both counted as cache misses: the first poll
// of a cold room, and a cursor older than the window (a client far behind).
//
// Correctness: a window holds, per type, every message with a score above
// `floor` (the highest score it dropped or never loaded), in score order, so
// "after cursor c" is exact for any c >= floor. The Lua writer makes scores
// strictly increasing per key, so nothing can appear later below the top.
//
// Concurrency: the refresher (and the first poll of a cold room) change a
// room under its mutex and then publish an immutable Snapshot; polls, Online
// and State read the latest snapshot without taking the room's mutex, so
// readers never wait for each other or for a refresh in progress. A poll may
// therefore answer from the state before a refresh that is being applied.
#include <atomic>
#include <cstdint>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/base/clock.h"
#include "core/base/config.h"
#include "core/model/cursor.h"
#include "core/read/read_model.h"
#include "core/store/redis_client.h"

namespace prometheus { class Counter; }

namespace danmu::core {

class Metrics;

struct PollRequest {
  std::string live_room;
  std::optional<Cursor> cursor;  // none: the recent tail
  int limit = 50;                // the client's limit, already clamped
  bool big_room_slice = false;   // true: serve the most recent `limit`, skip older
  // Degradation level 2: at most `thin_limit` comments per poll besides the
  // viewer's own and priority ones, sampled uniformly (0 = no thinning).
  int thin_limit = 0;
  std::string viewer_uid;
  // Serve nothing above these scores (per type), and never move the cursor
  // past them: push fan-out pins every pull of one round to the same top, so
  // that connections that were level end level (and share one frame).
  std::optional<Cursor> until;
};

struct PollResult {
  std::string messages_json;  // JSON array text
  int count = 0;
  Cursor next;
  int64_t likes = 0;
  int64_t online = 0;
  std::string state;          // live | ended | "" (unknown)
  bool thinned = false;       // comments were left out by level-2 thinning
};

// A refresh applied new messages to a hot room (push fan-out listens).
struct RefreshNote {
  std::string live_room;
  int64_t visible_mono_ms = 0;  // when the new messages became visible to polls; 0: only the counts changed
};

class RoomCache final : public ReadModel {
 public:
  // `redis_for_refresh` and `redis_for_miss` are two connections to the local
  // Redis: the refresher's, and one (mutex-guarded) for polls that miss.
  RoomCache(const CacheOptions& options, const PollOptions& poll, std::unique_ptr<RedisClient> redis_for_refresh,
            std::unique_ptr<RedisClient> redis_for_miss, const Clock& clock, Metrics* metrics);
  ~RoomCache();

  void Start();
  void Stop();

  Result<PollResult> Poll(const PollRequest& req) override;
  // Online viewer count as of the last refresh; -1 when the room is cold.
  int64_t Online(const std::string& live_room) override;
  Result<Cursor> Top(const std::string& live_room) override;
  // Called on the refresher thread after a refresh, with the rooms it brought
  // new messages to; it must only note them and return (push fan-out hands
  // the work to its own thread). Set before Start().
  void SetRefreshListener(std::function<void(const std::vector<RefreshNote>&)> listener);
  // State of a hot room (live/ended), empty when cold or unknown.
  std::string State(const std::string& live_room);
  // Runs one refresh of every hot room now (tests, and the refresher thread).
  Status RefreshAll();
  size_t hot_rooms() const;
  // Benchmarks only (DANMU_BENCH_NAIVE_READS, cmd/danmud): from now on every poll
  // reads its messages from Redis, one pipelined ZRANGEBYSCORE per type after
  // the cursor, on these connections (each used by one poll at a time);
  // likes, online and state still come from the refreshed window. Call
  // before serving.
  void EnableNaiveReads(std::vector<std::unique_ptr<RedisClient>> pool);
  // Points both connections at another Redis (stale-read fallback, promotion).
  void SetReadAddress(const std::string& address);
  std::string read_address() const;

 private:
  struct Entry {
    int64_t score;
    std::string served;     // the JSON object a poll returns ({"ts":..,<payload fields>}), rendered once
    std::string uid;        // extracted once, for thinning
    bool priority = false;
  };
  static Entry MakeEntry(int64_t score, std::string_view payload);
  // Entries of one type in ascending score. While a buffer is published it is
  // only appended to, within its reserved capacity (never reallocated), so a
  // snapshot may read [head, end) of it without a lock while the refresher
  // appends past `end`. Trimming moves `head`; compaction or growth copies the
  // live entries into a new buffer (amortised O(1) per message).
  struct EntryBuffer {
    std::vector<Entry> items;
  };
  // Immutable view of one type's window, what polls read.
  struct TypeView {
    std::shared_ptr<const EntryBuffer> buffer;  // keeps `data` alive
    const Entry* data = nullptr;
    size_t head = 0;
    size_t end = 0;
    int64_t floor = 0;
    int64_t top = 0;
  };
  // Everything a poll needs of a room, published after every change and read
  // without locks: readers never serialize on the room (64+ pool threads on 2
  // cores made the room mutex a convoy whenever its holder was preempted).
  struct Snapshot {
    TypeView types[kStoredTypeCount];
    int64_t likes = 0;
    int64_t online = 0;
    std::string state;
    bool loaded = false;
  };
  struct TypeWindow {
    std::shared_ptr<EntryBuffer> buffer;  // items[head..] are live
    size_t head = 0;
    int64_t floor = 0;         // every message with score > floor is held
    int64_t top = 0;           // highest score held or seen
    bool loaded = false;
    size_t live() const { return buffer ? buffer->items.size() - head : 0; }
  };
  struct Room {
    std::mutex mu;  // guards the refresher-side state below (not `snapshot`, `last_access_ms`)
    TypeWindow types[kStoredTypeCount];
    int64_t likes = 0;
    int64_t online = 0;
    std::string state;
    int64_t start_ms = 0;
    uint64_t generation = 0;  // bumped on every applied refresh
    bool grew = false;        // the last applied refresh added messages
    bool counts_changed = false;  // ...or changed the like or online count (push frames carry both)
    bool loaded = false;
    // The published snapshot (null until the first publish). Its lock guards
    // only the pointer: readers hold it shared for the copy of a shared_ptr.
    // (std::atomic<std::shared_ptr> spins on a lock bit, which 64+ threads
    // on 2 cores turned into measurable spinning.)
    mutable std::shared_mutex snapshot_mu;
    std::shared_ptr<const Snapshot> snapshot;  // guarded by snapshot_mu
    std::atomic<int64_t> last_access_ms{0};

    std::shared_ptr<const Snapshot> Load() const {
      std::shared_lock lock(snapshot_mu);
      return snapshot;
    }
  };

  std::shared_ptr<Room> Find(const std::string& live_room) const;
  void Publish(Room& room);  // room.mu held
  void Append(TypeWindow& w, Entry e);
  // The room's snapshot, loading a cold room first; null when that failed.
  std::shared_ptr<const Snapshot> GetOrLoad(const std::string& live_room, bool* was_cold);
  void AppendRefreshCommands(const std::string& live_room, Room& room, std::vector<RedisArgs>* cmds);
  void ApplyRefresh(Room& room, const std::vector<RedisReply>& replies, size_t offset);
  Result<std::vector<Entry>> ReadAfter(const std::string& live_room, int type_index, int64_t after, int limit);
  // The naive design: every type's messages after the cursor (or the newest
  // `limit` without one) read from Redis in one round trip.
  Status NaiveRead(const PollRequest& req, std::vector<Entry> (&fetched)[kStoredTypeCount]);
  void Loop();

  const CacheOptions options_;
  const PollOptions poll_;
  const Clock& clock_;
  Metrics* metrics_;
  prometheus::Counter* hits_ = nullptr;    // cached series (hot path)
  prometheus::Counter* misses_ = nullptr;
  std::unique_ptr<RedisClient> refresh_redis_;  // used by the refresher only (and RefreshAll's caller)
  std::mutex miss_mu_;
  std::unique_ptr<RedisClient> miss_redis_;     // guarded by miss_mu_
  std::mutex refresh_mu_;                       // serialises RefreshAll
  std::mutex naive_mu_;
  std::condition_variable naive_cv_;
  std::vector<std::unique_ptr<RedisClient>> naive_free_;  // guarded by naive_mu_
  bool naive_ = false;                                    // set before serving
  std::function<void(const std::vector<RefreshNote>&)> listener_;  // set before Start, then read-only

  mutable std::shared_mutex rooms_mu_;
  std::map<std::string, std::shared_ptr<Room>> rooms_;  // guarded by rooms_mu_

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stop_ = false;  // guarded by loop_mu_
  std::thread thread_;
};

}  // namespace danmu::core
