#pragma once
// Reconciliation of a lost primary's Kafka log (DESIGN §8).
//
// After an unplanned failover the new primary lacks every message the old
// primary's Kafka acknowledged (so the client got 2xx) but that either the old
// processor never applied, or the old Redis applied and never replicated.
// When the old room's Kafka log is readable again, the new primary runs:
//
//   1. Read the old log from `since_ms` (a Kafka timestamp; default: this
//      room's promotion time, persisted in its state file (room_state.h),
//      minus a lookback) to the end AS IT WAS WHEN OPENED, every partition,
//      by manual assignment under a throw-away group id: no group
//      membership, no offset commits, so the old room's own processor group
//      is untouched and finds its backlog where it left it
//      (core/store/kafka_log_reader.h).
//   2. For each record, in log order, ask the new primary's live store
//      whether it holds the id (see `Classify` for what "holds" means and the
//      limit of the answer). Lookups for a (live room, type) group of a batch
//      go in one round trip; the id lookups are sent BEFORE the window facts
//      so that a trim racing the lookup can only make the answer more
//      conservative (unknown), never a false "missing".
//   3. Re-ingest each missing one through the room's normal acked write path
//      (produce to the new primary's Kafka with acks=all, the record
//      unchanged: same id, same ingest time). The processor drops ids it
//      already applied, so a repeat - a second run, a race with a late
//      replication - is harmless inside the dedup window.
//   4. Report: records scanned, already present, re-ingested, unknown
//      (outside the store's dedup window: not re-ingested unless asked),
//      skipped (presence records, other live rooms when filtered), invalid
//      (undecodable), failed (lookup or produce errors: run again), the ids
//      of each kind (bounded lists), whether the scan reached the end.
//      Logged once at WARN, counted in danmu_reconcile_*, returned as JSON.
//
// Thread safety: `Reconciler` runs one reconciliation at a time (a second
// caller gets kUnavailable); everything else here is used by one thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/base/clock.h"
#include "core/base/config.h"
#include "core/store/kafka_consumer.h"
#include "core/live/live_writer.h"
#include "core/model/message.h"
#include "core/store/redis_client.h"
#include "core/base/status.h"
#include "core/live/write_route.h"

namespace danmu::core { class Metrics; }

namespace danmu::replication {

// ---------------------------------------------------------------------------
// Inputs (interfaces, so that the logic runs against fakes in unit tests).
// They stay here, not in core: they are the reconciler's seams, and core's
// Kafka and Redis adapters are concrete classes that need no interface of
// their own.

using LogRecord = core::KafkaRecord;

// The old primary's log, from a point in time to the end as it was when
// opened. Not thread-safe.
class LogSource {
 public:
  virtual ~LogSource() = default;
  // Up to `max` records in log order per partition; an empty vector once
  // every partition reached its end. kUnavailable when the log stopped
  // answering (the run reports itself incomplete).
  virtual core::Result<std::vector<LogRecord>> Next(int max) = 0;
  // Partitions being read and the offsets [from, to) of each, for the report.
  virtual std::string Describe() const = 0;
};

// Opens `topic` on the Kafka at `brokers` (the old primary's), every
// partition from its first record with timestamp >= since_ms up to its high
// watermark at the time of the call: a core::KafkaLogReader (own group id,
// manual assignment, no commits). kUnavailable when the cluster does not
// answer within timeout_ms; kNotFound when the topic is not there.
core::Result<std::unique_ptr<LogSource>> OpenKafkaLog(const std::string& brokers, const std::string& topic,
                                                      int64_t since_ms, int timeout_ms);

// What the live store remembers about one (live room, type) key, read in
// the same round trip as the id lookups.
struct KeyFacts {
  int64_t start_ms = 0;        // meta start_ms (0: the store never saw this live room)
  int64_t seen_count = 0;      // ZCARD of the dedup ("seen") set
  int64_t seen_min_score = 0;  // lowest score still in it (valid when seen_count > 0)
  int64_t archived_ms = 0;     // meta archived_ms: the archiver deleted the sets then (0: never)
  int64_t archived_last = 0;   // meta archived_last:<type>: last score when archived
};

struct IdLookup {
  bool in_seen = false;      // the id is in the dedup set
  bool in_live_set = false;  // the exact payload is a member of the live sorted set
};

// The new primary's live store. Not thread-safe.
class LiveStore {
 public:
  virtual ~LiveStore() = default;
  // For records of one (live room, type): per-record lookups, then the facts.
  virtual core::Status Lookup(const std::string& live_room, core::MessageType type,
                              const std::vector<const core::Message*>& messages,
                              const std::vector<const std::string*>& payloads, std::vector<IdLookup>* lookups,
                              KeyFacts* facts) = 0;
};

// The live store behind a Redis client (the local, master Redis).
std::unique_ptr<LiveStore> MakeRedisLiveStore(std::unique_ptr<core::RedisClient> redis);

// ---------------------------------------------------------------------------
// The decision.

enum class Presence {
  kPresent,  // the store holds the id: nothing to do
  kMissing,  // the store provably never applied it: re-ingest
  kUnknown,  // the store may have applied it and forgotten the id since
};
const char* PresenceName(Presence p);

// Whether the store holds message `m` (read from the old log).
//
// "Holds" = its id is in the (live room, type) dedup set, or (stored types)
// its exact payload is in the live sorted set. Both are bounded: the apply
// script trims the dedup set to `seen_cap` ids (core::SeenWindow of
// processor.live_cap), lowest score first, and the archiver deletes the sets
// of an archived room. So an absent id proves "never applied" only if the
// message, had it been applied, would have scored ABOVE every forgotten id:
//   horizon = max(lowest seen score if the set is full (>= seen_cap),
//                 archived_last score (likes: archived_ms) if archived)
//   floor   = lowest score m could have got = ingest_ms - clock_skew_ms
//             - start_ms (likes score by wall time: ingest_ms - skew)
//   missing iff floor > horizon (no horizon: the store forgot nothing).
// Otherwise kUnknown: re-ingesting could show an old message twice, not
// re-ingesting could lose it; the caller decides (default: report only).
// The limit, concretely: a message is decidable while fewer than seen_cap
// newer messages of its (live room, type) were applied since, and its room
// was not archived after it. A live room whose meta hash expired after
// archiving looks new: its messages come back as kMissing (MySQL's archive
// is keyed by id, so the archive itself gets no duplicate).
// Presence records are never asked (they are not deduplicated).
Presence Classify(const core::Message& m, const KeyFacts& facts, const IdLookup& lookup, int64_t seen_cap,
                  int64_t clock_skew_ms);

// ---------------------------------------------------------------------------
// The run.

struct ReconcileOptions {
  std::string old_brokers;       // the old primary's Kafka (for the report and OpenKafkaLog)
  std::string topic;
  int64_t since_ms = 0;
  std::string live_room;         // only this live room ("" = all)
  bool reingest_unknown = false; // also re-ingest kUnknown (prefers a repeat to a loss)
  // processor.live_cap of this room: the store remembers the ids of the
  // core::SeenWindow(live_cap) newest messages per (live room, type).
  int live_cap = core::ProcessorOptions{}.live_cap;
  int64_t clock_skew_ms = 1000;  // assumed bound on frontend vs Redis clock skew
  int batch = 500;               // records per read and per lookup round trip
  int64_t max_records = 5000000; // stop (incomplete) after scanning this many
  int64_t deadline_ms = 120000;  // stop (incomplete) after this long
  size_t max_ids = 1000;         // ids listed per kind in the report
  int write_concurrency = 8;     // (live room, type) groups re-ingested in parallel
};

struct ReconcileReport {
  std::string room;             // the new primary
  std::string old_brokers;
  std::string topic;
  std::string live_room;
  int64_t since_ms = 0;
  std::string partitions;       // LogSource::Describe()
  int64_t scanned = 0;
  int64_t present = 0;
  int64_t reingested = 0;
  int64_t reingested_unknown = 0;  // of `reingested`: kUnknown ones, on request
  int64_t unknown = 0;             // kUnknown and not re-ingested
  int64_t skipped = 0;
  int64_t invalid = 0;
  int64_t failed = 0;
  std::vector<std::string> reingested_ids;  // first max_ids of each
  std::vector<std::string> unknown_ids;
  std::vector<std::string> failed_ids;
  bool ids_truncated = false;   // some list hit max_ids
  bool complete = false;        // the whole range was scanned
  std::string error;            // why it stopped early / first failure
  int64_t duration_ms = 0;

  std::string ToJson() const;
  std::string ToText() const;
  // 0 complete and nothing failed or unknown; 1 failed or incomplete; 3 unknown > 0.
  int ExitCode() const;
};

core::Result<ReconcileReport> ParseReconcileReport(const std::string& json);

// Runs one reconciliation: reads `source`, asks `store`, re-ingests via
// `route` (the room's acked write path). Pure logic over the interfaces.
ReconcileReport Reconcile(const ReconcileOptions& options, LogSource& source, LiveStore& store,
                          core::WriteRoute& route, const core::Clock& clock);

// The reconciliation service of one danmud: one run at a time, metrics.
// (The default start of a scan, the promotion time, is the caller's: it
// lives in RoomState, which survives restarts.)
class Reconciler {
 public:
  // `open_store` makes a fresh store client per run (the admin thread owns it).
  Reconciler(std::string room, core::WriteRoute* route, std::function<std::unique_ptr<LiveStore>()> open_store,
             const core::Clock& clock, core::Metrics* metrics);

  // Opens the old log and reconciles. kUnavailable when a run is already in
  // progress or the old Kafka does not answer; the report otherwise (which
  // may itself say incomplete or failed).
  core::Result<ReconcileReport> Run(const ReconcileOptions& options);

 private:
  struct MetricSeries;
  const std::string room_;
  core::WriteRoute* route_;
  std::function<std::unique_ptr<LiveStore>()> open_store_;
  const core::Clock& clock_;
  std::shared_ptr<MetricSeries> metrics_;
  std::mutex run_mu_;  // held for the length of a run (try_lock: one at a time)
};

}  // namespace danmu::replication
