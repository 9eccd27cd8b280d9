// Reconciliation of a lost primary's Kafka log: see reconciler.h for the
// protocol. This file holds the decision (Classify), the run (Reconcile),
// the report, and two small adapters - the old Kafka log (core's
// KafkaLogReader) and the Redis lookups - that keep Kafka and the key layout
// out of the logic.
#include "core/base/metric_family.h"
#include "replication/reconciler.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <map>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "core/base/json_text.h"
#include "core/store/kafka_log_reader.h"
#include "core/model/live_keys.h"
#include "core/base/log.h"
#include "core/base/metrics.h"

namespace danmu::replication {

using core::Code;
using core::Message;
using core::MessageType;
using core::Status;

const char* PresenceName(Presence p) {
  switch (p) {
    case Presence::kPresent: return "present";
    case Presence::kMissing: return "missing";
    case Presence::kUnknown: return "unknown";
  }
  return "unknown";
}

Presence Classify(const Message& m, const KeyFacts& facts, const IdLookup& lookup, int64_t seen_cap,
                  int64_t clock_skew_ms) {
  if (lookup.in_seen || lookup.in_live_set) return Presence::kPresent;
  const bool like = m.type == MessageType::kLike;
  // Everything the store may have forgotten scored at most `horizon`.
  bool forgot = false;
  int64_t horizon = std::numeric_limits<int64_t>::min();
  if (facts.seen_count > 0 && facts.seen_count >= seen_cap) {
    forgot = true;
    horizon = facts.seen_min_score;
  }
  if (facts.archived_ms > 0) {
    forgot = true;
    // The archiver deleted the sets: message scores up to the archived last
    // score; likes (scored by wall time) up to the archiving time.
    horizon = std::max(horizon, like ? facts.archived_ms : facts.archived_last);
  }
  if (!forgot) return Presence::kMissing;
  // The lowest score `m` could have been applied with: the apply script
  // scores max(now - start, last + 1) with now >= its ingest time (up to the
  // clock skew between the frontend that stamped it and Redis).
  int64_t floor = m.ingest_ms - clock_skew_ms - (like ? 0 : facts.start_ms);
  return floor > horizon ? Presence::kMissing : Presence::kUnknown;
}

// ---------------------------------------------------------------------------
// Report

namespace {

void AppendIds(std::string& b, const char* name, const std::vector<std::string>& ids) {
  b += ",\"";
  b += name;
  b += "\":[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) b += ",";
    core::AppendJsonString(b, ids[i]);
  }
  b += "]";
}

std::string JoinIds(const std::vector<std::string>& ids, size_t max) {
  std::string s;
  for (size_t i = 0; i < ids.size() && i < max; ++i) {
    if (i) s += ",";
    s += ids[i];
  }
  if (ids.size() > max) s += ",...";
  return s;
}

}  // namespace

std::string ReconcileReport::ToJson() const {
  std::string b = "{\"room\":";
  core::AppendJsonString(b, room);
  b += ",\"old_kafka\":";
  core::AppendJsonString(b, old_brokers);
  b += ",\"topic\":";
  core::AppendJsonString(b, topic);
  b += ",\"live_room\":";
  core::AppendJsonString(b, live_room);
  b += ",\"since_ms\":" + std::to_string(since_ms);
  b += ",\"partitions\":";
  core::AppendJsonString(b, partitions);
  b += ",\"scanned\":" + std::to_string(scanned);
  b += ",\"present\":" + std::to_string(present);
  b += ",\"reingested\":" + std::to_string(reingested);
  b += ",\"reingested_unknown\":" + std::to_string(reingested_unknown);
  b += ",\"unknown\":" + std::to_string(unknown);
  b += ",\"skipped\":" + std::to_string(skipped);
  b += ",\"invalid\":" + std::to_string(invalid);
  b += ",\"failed\":" + std::to_string(failed);
  AppendIds(b, "reingested_ids", reingested_ids);
  AppendIds(b, "unknown_ids", unknown_ids);
  AppendIds(b, "failed_ids", failed_ids);
  b += ",\"ids_truncated\":" + std::string(ids_truncated ? "true" : "false");
  b += ",\"complete\":" + std::string(complete ? "true" : "false");
  b += ",\"error\":";
  core::AppendJsonString(b, error);
  b += ",\"duration_ms\":" + std::to_string(duration_ms);
  b += "}";
  return b;
}

std::string ReconcileReport::ToText() const {
  std::string t;
  auto line = [&](const std::string& s) { t += s + "\n"; };
  line("reconcile into room " + room + " from the old primary's Kafka " + old_brokers + " topic " + topic +
       ", records since " + std::to_string(since_ms) + " ms" + (live_room.empty() ? "" : ", live room " + live_room));
  line("  partitions   " + partitions);
  line("  scanned      " + std::to_string(scanned));
  line("  present      " + std::to_string(present) + "   already in this room's store");
  line("  re-ingested  " + std::to_string(reingested) + "   acknowledged by the old room, missing here: produced to this room's Kafka" +
       (reingested_unknown ? " (" + std::to_string(reingested_unknown) + " of them unknown, re-ingested on request)" : ""));
  line("  unknown      " + std::to_string(unknown) +
       "   outside this store's dedup window: maybe applied and forgotten, maybe lost (not re-ingested)");
  line("  skipped      " + std::to_string(skipped) + "   presence records / other live rooms");
  line("  invalid      " + std::to_string(invalid) + "   undecodable records");
  line("  failed       " + std::to_string(failed) + "   lookup or produce failed: run again");
  line("  complete     " + std::string(complete ? "yes" : "NO") + (error.empty() ? "" : "   (" + error + ")"));
  line("  took         " + std::to_string(duration_ms) + " ms");
  if (!reingested_ids.empty()) line("  re-ingested ids: " + JoinIds(reingested_ids, reingested_ids.size()));
  if (!unknown_ids.empty()) line("  unknown ids: " + JoinIds(unknown_ids, unknown_ids.size()));
  if (!failed_ids.empty()) line("  failed ids: " + JoinIds(failed_ids, failed_ids.size()));
  if (ids_truncated) line("  (id lists truncated)");
  return t;
}

int ReconcileReport::ExitCode() const {
  if (!complete || failed > 0) return 1;
  if (unknown > 0) return 3;
  return 0;
}

core::Result<ReconcileReport> ParseReconcileReport(const std::string& json) {
  try {
    Poco::JSON::Parser parser;
    auto o = parser.parse(json).extract<Poco::JSON::Object::Ptr>();
    ReconcileReport r;
    r.room = o->getValue<std::string>("room");
    r.old_brokers = o->getValue<std::string>("old_kafka");
    r.topic = o->getValue<std::string>("topic");
    r.live_room = o->getValue<std::string>("live_room");
    r.since_ms = o->getValue<int64_t>("since_ms");
    r.partitions = o->getValue<std::string>("partitions");
    r.scanned = o->getValue<int64_t>("scanned");
    r.present = o->getValue<int64_t>("present");
    r.reingested = o->getValue<int64_t>("reingested");
    r.reingested_unknown = o->getValue<int64_t>("reingested_unknown");
    r.unknown = o->getValue<int64_t>("unknown");
    r.skipped = o->getValue<int64_t>("skipped");
    r.invalid = o->getValue<int64_t>("invalid");
    r.failed = o->getValue<int64_t>("failed");
    for (auto [name, out] : std::vector<std::pair<const char*, std::vector<std::string>*>>{
             {"reingested_ids", &r.reingested_ids}, {"unknown_ids", &r.unknown_ids}, {"failed_ids", &r.failed_ids}}) {
      auto a = o->getArray(name);
      if (!a) continue;
      for (size_t i = 0; i < a->size(); ++i) out->push_back(a->getElement<std::string>(i));
    }
    r.ids_truncated = o->getValue<bool>("ids_truncated");
    r.complete = o->getValue<bool>("complete");
    r.error = o->getValue<std::string>("error");
    r.duration_ms = o->getValue<int64_t>("duration_ms");
    return r;
  } catch (const std::exception& e) {
    return Status(Code::kInternal, std::string("unreadable reconcile report: ") + e.what());
  }
}

// ---------------------------------------------------------------------------
// The run

namespace {

struct Pending {
  const Message* m;
  bool was_unknown;
};

}  // namespace

ReconcileReport Reconcile(const ReconcileOptions& o, LogSource& source, LiveStore& store, core::WriteRoute& route,
                          const core::Clock& clock) {
  ReconcileReport rep;
  rep.old_brokers = o.old_brokers;
  rep.topic = o.topic;
  rep.live_room = o.live_room;
  rep.since_ms = o.since_ms;
  rep.partitions = source.Describe();
  const int64_t started = clock.MonoMs();
  auto keep = [&](std::vector<std::string>& list, const std::string& id) {
    if (list.size() < o.max_ids) list.push_back(id);
    else rep.ids_truncated = true;
  };
  // Ids produced by this run: the old log may hold an id twice (a forwarded
  // write retried on another target), and one re-ingest is enough.
  std::unordered_set<std::string> produced;

  while (true) {
    if (clock.MonoMs() - started >= o.deadline_ms) {
      rep.error = "deadline of " + std::to_string(o.deadline_ms) + " ms reached: run again to continue";
      break;
    }
    if (rep.scanned >= o.max_records) {
      rep.error = "max_records " + std::to_string(o.max_records) + " reached: run again with a later since_ms";
      break;
    }
    auto batch = source.Next(static_cast<int>(std::min<int64_t>(o.batch, o.max_records - rep.scanned)));
    if (!batch.ok()) {
      rep.error = "old log unreadable: " + batch.status().message();
      break;
    }
    if (batch->empty()) {
      rep.complete = true;
      break;
    }
    rep.scanned += static_cast<int64_t>(batch->size());

    // Decode; group by (live room, type) in log order.
    std::vector<Message> msgs(batch->size());
    std::vector<std::string> keys;
    std::unordered_map<std::string, std::vector<size_t>> groups;
    for (size_t i = 0; i < batch->size(); ++i) {
      auto m = core::DecodePayload((*batch)[i].value);
      if (!m.ok() || m->id.empty()) {
        ++rep.invalid;
        continue;
      }
      msgs[i] = std::move(*m);
      if (msgs[i].type == MessageType::kPresence || (!o.live_room.empty() && msgs[i].live_room != o.live_room)) {
        ++rep.skipped;
        continue;
      }
      std::string key = core::PartitionKey(msgs[i]);
      auto [it, fresh] = groups.try_emplace(key);
      if (fresh) keys.push_back(key);
      it->second.push_back(i);
    }

    // Ask the store, group by group; collect what to re-ingest.
    std::vector<std::vector<Pending>> jobs;
    for (const auto& key : keys) {
      const auto& idx = groups[key];
      std::vector<const Message*> gm;
      std::vector<const std::string*> gp;
      for (size_t i : idx) {
        gm.push_back(&msgs[i]);
        gp.push_back(&(*batch)[i].value);
      }
      std::vector<IdLookup> lookups;
      KeyFacts facts;
      Status s = store.Lookup(gm.front()->live_room, gm.front()->type, gm, gp, &lookups, &facts);
      if (!s.ok() || lookups.size() != gm.size()) {
        if (rep.error.empty()) rep.error = "store lookup: " + (s.ok() ? std::string("short reply") : s.message());
        rep.failed += static_cast<int64_t>(gm.size());
        for (const Message* m : gm) keep(rep.failed_ids, m->id);
        continue;
      }
      std::vector<Pending> job;
      for (size_t k = 0; k < gm.size(); ++k) {
        const Message* m = gm[k];
        Presence p = Classify(*m, facts, lookups[k], core::SeenWindow(o.live_cap), o.clock_skew_ms);
        if (p == Presence::kPresent || produced.count(m->id)) {
          ++rep.present;
        } else if (p == Presence::kUnknown && !o.reingest_unknown) {
          ++rep.unknown;
          keep(rep.unknown_ids, m->id);
        } else {
          produced.insert(m->id);
          job.push_back({m, p == Presence::kUnknown});
        }
      }
      if (!job.empty()) jobs.push_back(std::move(job));
    }

    // Re-ingest: groups in parallel, each group in log order. After the
    // first failure nothing more is attempted (the write path is down: each
    // try would wait for the produce timeout); the run stops after this batch.
    std::mutex mu;
    std::atomic<size_t> next{0};
    std::atomic<bool> write_failed{false};
    std::string first_error;
    auto worker = [&] {
      for (size_t j = next++; j < jobs.size(); j = next++) {
        for (const Pending& p : jobs[j]) {
          Status s = write_failed ? Status(Code::kUnavailable, "not attempted after an earlier failure")
                                  : route.Write(*p.m);
          std::lock_guard lock(mu);
          if (s.ok()) {
            ++rep.reingested;
            if (p.was_unknown) ++rep.reingested_unknown;
            keep(rep.reingested_ids, p.m->id);
          } else {
            if (!write_failed.exchange(true)) first_error = s.message();
            ++rep.failed;
            produced.erase(p.m->id);
            keep(rep.failed_ids, p.m->id);
          }
        }
      }
    };
    size_t threads = std::min<size_t>(jobs.size(), static_cast<size_t>(std::max(1, o.write_concurrency)));
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (write_failed) {
      rep.error = "re-ingest failed (" + first_error + "): run again";
      break;
    }
  }
  rep.duration_ms = clock.MonoMs() - started;
  return rep;
}

// ---------------------------------------------------------------------------
// The old log: core's reader behind the LogSource seam.

namespace {

class KafkaLogSource final : public LogSource {
 public:
  explicit KafkaLogSource(std::unique_ptr<core::KafkaLogReader> reader) : reader_(std::move(reader)) {}
  core::Result<std::vector<LogRecord>> Next(int max) override { return reader_->Next(max); }
  std::string Describe() const override { return reader_->Describe(); }

 private:
  std::unique_ptr<core::KafkaLogReader> reader_;
};

// ---------------------------------------------------------------------------
// Redis adapter: the id lookups, then the window facts, in one round trip.

class RedisLiveStore final : public LiveStore {
 public:
  explicit RedisLiveStore(std::unique_ptr<core::RedisClient> redis) : redis_(std::move(redis)) {}

  Status Lookup(const std::string& live_room, MessageType type, const std::vector<const Message*>& messages,
                const std::vector<const std::string*>& payloads, std::vector<IdLookup>* lookups,
                KeyFacts* facts) override {
    const bool stored = core::StoredTypeIndex(type) >= 0;
    const std::string seen = core::keys::Seen(live_room, type);
    const std::string set = stored ? core::keys::Msg(live_room, type) : "";
    const std::string meta = core::keys::Meta(live_room);
    std::vector<core::RedisArgs> cmds;
    cmds.reserve(messages.size() * 2 + 3);
    for (size_t i = 0; i < messages.size(); ++i) {
      cmds.push_back({"ZSCORE", seen, messages[i]->id});
      if (stored) cmds.push_back({"ZSCORE", set, *payloads[i]});
    }
    // After the lookups: a trim between them can only raise the horizon.
    cmds.push_back({"ZCARD", seen});
    cmds.push_back({"ZRANGE", seen, "0", "0", "WITHSCORES"});
    cmds.push_back({"HMGET", meta, "start_ms", "archived_ms", std::string("archived_last:") + core::TypeName(type)});
    auto replies = redis_->Pipeline(cmds);
    if (!replies.ok()) return replies.status();
    if (replies->size() != cmds.size()) return Status(Code::kUnavailable, "short pipeline reply");
    for (const auto& r : *replies) {
      if (r.is_error()) return Status(Code::kUnavailable, "live store: " + r.str);
    }
    lookups->assign(messages.size(), IdLookup{});
    size_t k = 0;
    for (size_t i = 0; i < messages.size(); ++i) {
      (*lookups)[i].in_seen = !(*replies)[k++].is_nil();
      if (stored) (*lookups)[i].in_live_set = !(*replies)[k++].is_nil();
    }
    facts->seen_count = (*replies)[k++].AsInt(0);
    const auto& lowest = (*replies)[k++];
    facts->seen_min_score = lowest.elements.size() >= 2 ? lowest.elements[1].AsInt(0) : 0;
    const auto& m = (*replies)[k++];
    if (m.elements.size() == 3) {
      facts->start_ms = m.elements[0].AsInt(0);
      facts->archived_ms = m.elements[1].AsInt(0);
      facts->archived_last = m.elements[2].AsInt(0);
    }
    return Status::Ok();
  }

 private:
  std::unique_ptr<core::RedisClient> redis_;
};

}  // namespace

core::Result<std::unique_ptr<LogSource>> OpenKafkaLog(const std::string& brokers, const std::string& topic,
                                                      int64_t since_ms, int timeout_ms) {
  auto reader = core::KafkaLogReader::Open(brokers, topic, since_ms, timeout_ms);
  if (!reader.ok()) return Status(reader.status().code(), "old primary's log: " + reader.status().message());
  return std::unique_ptr<LogSource>(std::make_unique<KafkaLogSource>(std::move(*reader)));
}

std::unique_ptr<LiveStore> MakeRedisLiveStore(std::unique_ptr<core::RedisClient> redis) {
  return std::make_unique<RedisLiveStore>(std::move(redis));
}

// ---------------------------------------------------------------------------
// The service

// danmu_reconcile_* series, declared here in one place (labels: room, result).
struct Reconciler::MetricSeries {
  std::map<std::string, prometheus::Counter*> runs;     // complete|incomplete|error
  std::map<std::string, prometheus::Counter*> records;  // present|reingested|unknown|skipped|invalid|failed
  prometheus::Gauge* last_run = nullptr;
  prometheus::Gauge* last_unresolved = nullptr;
};

Reconciler::Reconciler(std::string room, core::WriteRoute* route,
                       std::function<std::unique_ptr<LiveStore>()> open_store, const core::Clock& clock,
                       core::Metrics* metrics)
    : room_(std::move(room)), route_(route), open_store_(std::move(open_store)), clock_(clock) {
  if (!metrics) return;
  metrics_ = std::make_shared<MetricSeries>();
  metrics_->runs = core::SeriesPerValue(
      core::CounterFamily(*metrics, "danmu_reconcile_runs_total",
                          "Reconciliations of a lost primary's Kafka log run in this room, by result"),
      "result", {"complete", "incomplete", "error"});
  metrics_->records = core::SeriesPerValue(
      core::CounterFamily(*metrics, "danmu_reconcile_records_total",
                          "Records of an old primary's Kafka log examined by reconciliation, by outcome"),
      "result", {"present", "reingested", "unknown", "skipped", "invalid", "failed"});
  metrics_->last_run = &core::GaugeFamily(*metrics, "danmu_reconcile_last_run_timestamp_seconds",
                                          "When the last reconciliation in this room finished (0: never)").Add({});
  metrics_->last_unresolved = &core::GaugeFamily(*metrics, "danmu_reconcile_last_unresolved_records",
                                                 "Records the last reconciliation left to a human: unknown + failed").Add({});
}

core::Result<ReconcileReport> Reconciler::Run(const ReconcileOptions& options) {
  std::unique_lock lock(run_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return Status(Code::kUnavailable, "a reconciliation is already running in this room");
  core::LogWarn("reconcile_started", {{"room", room_}, {"old_kafka", options.old_brokers}, {"topic", options.topic},
                                      {"since_ms", std::to_string(options.since_ms)}, {"live_room", options.live_room}});
  auto source = OpenKafkaLog(options.old_brokers, options.topic, options.since_ms,
                             static_cast<int>(std::min<int64_t>(10000, options.deadline_ms)));
  if (!source.ok()) {
    if (metrics_) {
      metrics_->runs["error"]->Increment();
      metrics_->last_run->Set(static_cast<double>(clock_.NowMs()) / 1000.0);
    }
    core::LogError("reconcile_failed", {{"room", room_}, {"old_kafka", options.old_brokers},
                                        {"error", source.status().ToString()}});
    return source.status();
  }
  auto store = open_store_();
  ReconcileReport rep = Reconcile(options, **source, *store, *route_, clock_);
  rep.room = room_;
  if (metrics_) {
    metrics_->runs[rep.complete ? "complete" : "incomplete"]->Increment();
    for (auto [name, n] : std::vector<std::pair<const char*, int64_t>>{
             {"present", rep.present}, {"reingested", rep.reingested}, {"unknown", rep.unknown},
             {"skipped", rep.skipped}, {"invalid", rep.invalid}, {"failed", rep.failed}}) {
      metrics_->records[name]->Increment(static_cast<double>(n));
    }
    metrics_->last_run->Set(static_cast<double>(clock_.NowMs()) / 1000.0);
    metrics_->last_unresolved->Set(static_cast<double>(rep.unknown + rep.failed));
  }
  // The one log line of the run (no per-record logging).
  core::Log(rep.complete && rep.failed == 0 && rep.unknown == 0 ? core::LogLevel::kWarn : core::LogLevel::kError,
            "reconcile_done",
            {{"room", room_}, {"old_kafka", rep.old_brokers}, {"topic", rep.topic},
             {"since_ms", std::to_string(rep.since_ms)}, {"live_room", rep.live_room},
             {"partitions", rep.partitions}, {"scanned", std::to_string(rep.scanned)},
             {"present", std::to_string(rep.present)}, {"reingested", std::to_string(rep.reingested)},
             {"unknown", std::to_string(rep.unknown)}, {"skipped", std::to_string(rep.skipped)},
             {"invalid", std::to_string(rep.invalid)}, {"failed", std::to_string(rep.failed)},
             {"complete", rep.complete ? "true" : "false"}, {"error", rep.error},
             {"duration_ms", std::to_string(rep.duration_ms)},
             {"reingested_ids", JoinIds(rep.reingested_ids, 100)}, {"unknown_ids", JoinIds(rep.unknown_ids, 100)},
             {"failed_ids", JoinIds(rep.failed_ids, 100)}});
  return rep;
}

}  // namespace danmu::replication
