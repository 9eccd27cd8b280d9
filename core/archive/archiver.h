#pragma once
// The archiver: copies a finished live room from live Redis into MySQL and
// then frees the room's live memory (DESIGN §5: replays never touch live
// Redis, so a finished room has to leave it).
//
// Protocol for one room (ArchiveRoom):
//   1. (jobs from POST .../end) wait, at most archive.end_wait_ms, until the
//      live meta hash says state=ended: the frontend fires on_stream_end when
//      Kafka acknowledged the end record, the processor applies it later.
//      Not ended in time: the job is dropped (result not_ended); the scan
//      (below) archives the room once the processor caught up.
//   2. copy every message of the four stored types, per type in score order,
//      archive.batch_size members per Redis read and per multi-row
//      INSERT IGNORE (prepared). The PRIMARY KEY on msg_id makes any re-run
//      (a crash between batches, a second end, a concurrent archiver) leave
//      exactly one row per message.
//   3. verify: per type, MySQL holds at least as many rows between the lowest
//      and the highest copied score as were copied (equal unless the live room
//      id was reused after its meta expired). Fewer: error, nothing released.
//   4. upsert archived_rooms (likes, viewers = unique viewers of the stream:
//      the larger of the stream's viewer HyperLogLog (±0.81% above a few
//      hundred) and the recent-viewer set, message count,
//      highest ts): from here on the replay path serves the room.
//   5. release, atomically in one Lua script on live Redis: only if the
//      highest score of every type is still the one copied (scores only grow,
//      so "unchanged" means "no message arrived since the copy"; a set that
//      is gone was released by a concurrent archiver), delete the
//      message sets, the dedup sets and the viewer set; keep the small meta
//      hash and the like counter for archive.live_ttl_after_archive_s with
//      archived_ms and archived_last:<type> recorded (0: delete them too).
//      Keeping meta keeps late messages' scores increasing and lets the scan
//      see them. If a message did arrive, go back to 2 (copying only what is
//      new), at most archive.max_attempts rounds (result changed).
//   6. archived_rooms takes the like total and viewer count read atomically
//      with the release (GREATEST: a re-run never lowers them).
//
// Long streams (checkpoints): the processor trims a live set to
// processor.live_cap, but only below the room's archive watermark
// (meta copied:<type>: every message of that type with a score up to it is in
// MySQL). Unarchived members are held past the cap, up to
// processor.unarchived_cap, and the room is listed in danmu:archive:held.
// Every archive.checkpoint_interval_ms the archiver copies each listed room's
// members above the watermark (step 2, no release), verifies them (step 3),
// raises the watermark and unlists the room; the next apply then trims. So
// every message of a stream reaches MySQL unless a room outruns the
// checkpoints by more than unarchived_cap - live_cap messages of one type
// (then the processor counts danmu_live_evicted_unarchived_total and an alert
// pages). The final archive copies from the watermark up.
//
// MySQL must accept writes: before copying, a run checks @@read_only and
// fails (result error, logged) against a replica, e.g. the secondary room's
// MySQL after a failover until it is promoted or mysql.host is repointed.
//
// Queue: on_stream_end enqueues the room (deduplicated, in memory). Nothing
// survives a restart on purpose: the scan re-finds the work. At start, and
// then every archive.scan_interval_ms, the archiver SCANs live Redis for meta
// hashes and queues rooms that need an archive (NeedsArchive): state=ended or
// idle for archive.idle_end_ms, and not archived since their last message.
// The scan also catches ends received by the other room (forwarded writes do
// not fire on_stream_end here) and jobs lost to a crash.
//
// Runs only while hooks.active() (this room is the primary): the live Redis
// of a secondary is a read-only replica. Thread-safety: every public method
// may be called from any thread; archives run one at a time.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/base/clock.h"
#include "core/base/config.h"
#include "core/model/message.h"
#include "core/base/status.h"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace danmu::core {

class Metrics;
class MysqlClient;
class RedisClient;

struct ArchiverHooks {
  // True while this room is the primary (same check as the processor's).
  std::function<bool()> active;
  // Fault injection for tests: called after every committed batch with the
  // rows copied so far in this run; false aborts the run right there, as a
  // crash between two batches would (result aborted, nothing released).
  std::function<bool(const std::string& live_room, int64_t rows)> after_batch;
};

// What the live meta hash says about a room (the apply script writes state,
// start_ms and last:<type>; the archiver adds archived_ms and
// archived_last:<type>).
struct RoomMeta {
  std::string state;  // live | ended | ""
  int64_t start_ms = 0;
  int64_t last[kStoredTypeCount] = {};
  bool archived = false;
  int64_t archived_last[kStoredTypeCount] = {};
  int64_t copied[kStoredTypeCount] = {-1, -1, -1, -1};  // archive watermark; -1: none
  int64_t evicted[kStoredTypeCount] = {};              // trimmed before they were archived
};

// From the flat field/value list of HGETALL.
RoomMeta ParseRoomMeta(const std::vector<std::string>& fields_and_values);
// A room needs an archive when it ended (or has stored nothing for
// idle_end_ms > 0, measured from its last score), and it was not archived
// since its last message.
bool NeedsArchive(const RoomMeta& meta, int64_t now_ms, int64_t idle_end_ms);

struct ArchiveReport {
  std::string live_room;
  std::string kind = "archive";              // archive | checkpoint
  std::string result;                        // ok | not_ended | changed | aborted | error
  int64_t copied[kStoredTypeCount] = {};     // members read from live Redis, per type
  int64_t inserted = 0;                      // rows new in MySQL (the rest were already there)
  int64_t likes = 0;
  int64_t viewers = 0;
  int attempts = 0;
  double seconds = 0;
  int64_t rows() const;
  std::string error;                         // why, when result is not ok
};
std::string ToJson(const ArchiveReport& report);

// What the archive knows of one live room (admin GET /v1/admin/archive).
struct ArchiveStatus {
  std::string live_room;
  RoomMeta meta;
  bool meta_exists = false;
  bool held = false;                            // listed for a checkpoint
  int64_t live[kStoredTypeCount] = {};          // ZCARD of the live sets
  int64_t mysql_rows[kStoredTypeCount] = {};
  bool archived_row = false;                    // archived_rooms has the room
  int64_t likes = 0, viewers = 0, messages = 0;
  std::string archived_at;
};
std::string ToJson(const ArchiveStatus& status);

class Archiver {
 public:
  // Connects to MySQL and checks the schema version: kInvalidArgument when it
  // is too old (danmud refuses to start), kUnavailable when unreachable.
  static Result<std::unique_ptr<Archiver>> Create(const Config& config, ArchiverHooks hooks, const Clock& clock,
                                                  Metrics* metrics);
  ~Archiver();
  Archiver(const Archiver&) = delete;
  Archiver& operator=(const Archiver&) = delete;

  void Start();  // the worker: queued jobs and the periodic scan
  // Ends the worker and aborts a running archive between batches (result
  // aborted, nothing released); ArchiveRoom aborts until Start() again.
  void Stop();

  // Queues a room whose end was acknowledged; returns at once.
  void Enqueue(const std::string& live_room);
  // Archives one room now in the caller's thread (steps 1-6 above; step 1
  // only when `wait_for_end`). Every outcome is in the report's result,
  // counted in danmu_archive_rooms_total and logged once.
  ArchiveReport ArchiveRoom(const std::string& live_room, bool wait_for_end);
  // Copies a live room's members above its watermark (see "Long streams")
  // and raises the watermark; nothing is released. Counted in
  // danmu_archive_checkpoints_total{result} and logged.
  ArchiveReport Checkpoint(const std::string& live_room);
  // The live meta hash of a room (state, scores, watermark), one HGETALL.
  Result<RoomMeta> LiveMeta(const std::string& live_room);
  // Rooms listed in danmu:archive:held (at most `max`).
  Result<std::vector<std::string>> HeldRooms(int max);
  // One SCAN pass over live Redis; returns the rooms that need an archive.
  Result<std::vector<std::string>> Scan();
  // Live and MySQL side of one room, for operators.
  Result<ArchiveStatus> Inspect(const std::string& live_room);
  size_t queued() const;

 private:
  struct Job {
    std::string live_room;
    bool wait_for_end;
  };
  Archiver(const Config& config, ArchiverHooks hooks, const Clock& clock, Metrics* metrics);
  void Worker();
  void Push(const std::string& live_room, bool wait_for_end);
  // The steps of ArchiveRoom; each returns a non-ok status to stop the run.
  Status WaitForEnd(const std::string& live_room);
  Status CopyType(const std::string& live_room, int type_index, int64_t* after, int64_t* min_score,
                  ArchiveReport* report);
  Status Verify(const std::string& live_room, const int64_t min_score[], const int64_t max_score[],
                const ArchiveReport& report);
  Status UpsertRoom(const std::string& live_room, int64_t likes, int64_t viewers, int64_t last_ts);
  Result<bool> Release(const std::string& live_room, const int64_t max_score[], ArchiveReport* report);
  Status EnsureDb();
  Status CheckWritable();
  Result<RoomMeta> ReadMeta(const std::string& live_room);
  Status RaiseWatermark(const std::string& live_room, const int64_t top[]);
  void CheckpointDue();
  // `writable`: the outcome of CheckWritable for a whole pass of
  // checkpoints; unset checks it for this room.
  ArchiveReport Checkpoint(const std::string& live_room, const std::optional<Status>& writable);
  void Finish(ArchiveReport* report, int64_t started_mono);
  bool SleepUnlessStopped(int ms);
  bool Stopping() const;

  const Config& config_;
  const ArchiveOptions& options_;
  ArchiverHooks hooks_;
  const Clock& clock_;

  // Guarded by work_mu_: the connections (one archive at a time).
  std::mutex work_mu_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<MysqlClient> db_;

  // Guarded by queue_mu_.
  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Job> queue_;
  std::set<std::string> queued_rooms_;
  bool stop_ = false;      // Stop() was called: the worker exits, a running archive aborts
  bool running_ = false;   // the worker thread exists
  std::thread worker_;

  // Metrics (declared in archiver.cc), null without a registry.
  prometheus::Histogram* duration_ = nullptr;
  std::map<std::string, prometheus::Counter*> rows_;    // "<type>/<result>"
  std::map<std::string, prometheus::Counter*> rooms_;   // result
  std::map<std::string, prometheus::Counter*> checkpoints_;  // result
  prometheus::Gauge* queue_gauge_ = nullptr;
};

}  // namespace danmu::core
