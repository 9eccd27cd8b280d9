// Reconciliation logic against in-memory fakes: the old log is a vector, the
// new primary's live store a model of the apply script (dedup set trimmed to
// core::SeenWindow(live cap) by lowest score, live set capped, archive
// deleting the sets), and
// the write path a recorder that may apply into the model or fail.
#include "replication/reconciler.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace danmu::replication {
namespace {

using core::Message;
using core::MessageType;
using core::Status;

constexpr int64_t kT0 = 1'700'000'000'000;

Message Comment(const std::string& room, const std::string& id, int64_t ingest_ms) {
  Message m;
  m.id = id;
  m.type = MessageType::kComment;
  m.live_room = room;
  m.uid = "u";
  m.text = "text " + id;
  m.ingest_ms = ingest_ms;
  return m;
}

Message Like(const std::string& room, const std::string& id, int64_t ingest_ms, int64_t count) {
  Message m;
  m.id = id;
  m.type = MessageType::kLike;
  m.live_room = room;
  m.count = count;
  m.ingest_ms = ingest_ms;
  return m;
}

Message Presence_(const std::string& room, int64_t ingest_ms) {
  Message m;
  m.id = "p" + std::to_string(ingest_ms);
  m.type = MessageType::kPresence;
  m.live_room = room;
  m.uids = {"a", "b"};
  m.ingest_ms = ingest_ms;
  return m;
}

// The old primary's log.
class FakeLog final : public LogSource {
 public:
  void Add(const Message& m) { Add(core::EncodePayload(m)); }
  void Add(std::string value) {
    LogRecord r;
    r.offset = static_cast<int64_t>(records_.size());
    r.value = std::move(value);
    records_.push_back(std::move(r));
  }
  core::Result<std::vector<LogRecord>> Next(int max) override {
    if (clock_) clock_->Advance(advance_ms_);
    if (fail_at_ >= 0 && pos_ >= static_cast<size_t>(fail_at_)) return Status(core::Code::kUnavailable, "broker gone");
    std::vector<LogRecord> out;
    while (pos_ < records_.size() && static_cast<int>(out.size()) < max) out.push_back(records_[pos_++]);
    return out;
  }
  std::string Describe() const override { return "p0:[0," + std::to_string(records_.size()) + ")"; }
  void Rewind() { pos_ = 0; }

  core::FakeClock* clock_ = nullptr;
  int64_t advance_ms_ = 0;
  int fail_at_ = -1;

 private:
  std::vector<LogRecord> records_;
  size_t pos_ = 0;
};

// A model of the live store as the apply script and the archiver leave it.
class ModelStore final : public LiveStore {
 public:
  // The store of a room whose processor.live_cap is `live_cap`.
  explicit ModelStore(int live_cap) : live_cap_(live_cap), seen_cap_(core::SeenWindow(live_cap)) {}

  void Apply(const Message& m, int64_t now_ms) {
    std::lock_guard lock(mu_);
    Room& r = rooms_[m.live_room];
    Key& k = r.keys[m.type];
    if (k.seen.count(m.id)) return;
    if (m.type == MessageType::kLike) {
      k.seen[m.id] = now_ms;
      likes_[m.live_room] += m.count;
    } else {
      if (r.start_ms == 0) r.start_ms = now_ms;
      int64_t s = std::max(now_ms - r.start_ms, k.last + 1);
      k.last = s;
      k.seen[m.id] = s;
      k.live[s] = core::EncodePayload(m);
      while (static_cast<int>(k.live.size()) > live_cap_) k.live.erase(k.live.begin());
    }
    while (static_cast<int64_t>(k.seen.size()) > seen_cap_) {
      auto lowest = std::min_element(k.seen.begin(), k.seen.end(),
                                     [](const auto& a, const auto& b) { return a.second < b.second; });
      k.seen.erase(lowest);
    }
  }

  // The archiver: sets deleted, meta keeps archived_ms and the last scores.
  void Archive(const std::string& room, int64_t now_ms) {
    std::lock_guard lock(mu_);
    Room& r = rooms_[room];
    r.archived_ms = now_ms;
    for (auto& [t, k] : r.keys) {
      r.archived_last[t] = k.last;
      k.seen.clear();
      k.live.clear();
    }
  }

  // How many live-set members carry `id` (exactly once = no duplicate shown).
  int Copies(const std::string& room, MessageType t, const std::string& id) {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& [s, p] : rooms_[room].keys[t].live) n += core::PayloadId(p) == id;
    return n;
  }
  int64_t Likes(const std::string& room) {
    std::lock_guard lock(mu_);
    return likes_[room];
  }

  Status Lookup(const std::string& live_room, MessageType type, const std::vector<const Message*>& messages,
                const std::vector<const std::string*>& payloads, std::vector<IdLookup>* lookups,
                KeyFacts* facts) override {
    std::lock_guard lock(mu_);
    ++lookup_calls_;
    if (fail_lookups_) return Status(core::Code::kUnavailable, "redis down");
    Room& r = rooms_[live_room];
    Key& k = r.keys[type];
    lookups->clear();
    for (size_t i = 0; i < messages.size(); ++i) {
      IdLookup l;
      l.in_seen = k.seen.count(messages[i]->id) > 0;
      for (const auto& [s, p] : k.live) l.in_live_set |= p == *payloads[i];
      lookups->push_back(l);
    }
    facts->start_ms = r.start_ms;
    facts->seen_count = static_cast<int64_t>(k.seen.size());
    facts->seen_min_score = 0;
    if (!k.seen.empty()) {
      facts->seen_min_score = std::min_element(k.seen.begin(), k.seen.end(), [](const auto& a, const auto& b) {
                                return a.second < b.second;
                              })->second;
    }
    facts->archived_ms = r.archived_ms;
    facts->archived_last = r.archived_last.count(type) ? r.archived_last[type] : 0;
    return Status::Ok();
  }

  bool fail_lookups_ = false;
  int lookup_calls_ = 0;

 private:
  struct Key {
    std::map<std::string, int64_t> seen;  // id -> score
    std::map<int64_t, std::string> live;  // score -> payload
    int64_t last = 0;
  };
  struct Room {
    int64_t start_ms = 0;
    int64_t archived_ms = 0;
    std::map<MessageType, int64_t> archived_last;
    std::map<MessageType, Key> keys;
  };
  std::mutex mu_;
  const int live_cap_;
  const int64_t seen_cap_;
  std::map<std::string, Room> rooms_;
  std::map<std::string, int64_t> likes_;
};

// The acked write path: records, optionally applies into the model (as the
// new primary's processor would), fails on request.
class FakeRoute final : public core::WriteRoute {
 public:
  Status Write(const Message& m) override {
    std::lock_guard lock(mu_);
    if (fail_from_ >= 0 && static_cast<int>(written_.size() + failures_) >= fail_from_) {
      ++failures_;
      return Status(core::Code::kUnavailable, "kafka down");
    }
    written_.push_back(m.id);
    if (apply_to_) apply_to_->Apply(m, now_ms_);
    return Status::Ok();
  }
  std::vector<std::string> written_;
  ModelStore* apply_to_ = nullptr;
  int64_t now_ms_ = 0;
  int fail_from_ = -1;
  int failures_ = 0;

 private:
  std::mutex mu_;
};

ReconcileOptions Opts(int live_cap) {
  ReconcileOptions o;
  o.old_brokers = "old:9092";
  o.topic = "danmu.messages";
  o.since_ms = kT0 - 60000;
  o.live_cap = live_cap;
  o.batch = 7;  // several batches even for small logs
  o.write_concurrency = 3;
  return o;
}

std::set<std::string> AsSet(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

TEST(ClassifyTest, Table) {
  Message m = Comment("r", "x", kT0 + 10'000);
  KeyFacts none;
  EXPECT_EQ(Classify(m, none, {true, false}, 100, 1000), Presence::kPresent);
  EXPECT_EQ(Classify(m, none, {false, true}, 100, 1000), Presence::kPresent) << "payload still in the live set";
  EXPECT_EQ(Classify(m, none, {false, false}, 100, 1000), Presence::kMissing) << "a room the store never saw";

  KeyFacts partial{kT0, 50, 5, 0, 0};
  EXPECT_EQ(Classify(m, partial, {}, 100, 1000), Presence::kMissing) << "a set below its cap forgot nothing";

  // Full set whose lowest remembered score is 8000 (stream ms).
  KeyFacts full{kT0, 100, 8000, 0, 0};
  EXPECT_EQ(Classify(m, full, {}, 100, 1000), Presence::kMissing) << "floor 9000 > 8000";
  EXPECT_EQ(Classify(Comment("r", "y", kT0 + 9'000), full, {}, 100, 1000), Presence::kUnknown) << "floor 8000 = horizon";
  EXPECT_EQ(Classify(Comment("r", "y", kT0 + 9'000), full, {}, 100, 0), Presence::kMissing) << "without skew margin";
  EXPECT_EQ(Classify(Comment("r", "z", kT0 + 1'000), full, {}, 100, 1000), Presence::kUnknown);

  // Archived at stream ms 20000: everything before is forgotten.
  KeyFacts archived{kT0, 0, 0, kT0 + 20'500, 20'000};
  EXPECT_EQ(Classify(m, archived, {}, 100, 1000), Presence::kUnknown);
  EXPECT_EQ(Classify(Comment("r", "late", kT0 + 30'000), archived, {}, 100, 1000), Presence::kMissing);

  // Likes score by wall time.
  KeyFacts likes{0, 100, kT0 + 5'000, 0, 0};
  EXPECT_EQ(Classify(Like("r", "l1", kT0 + 7'000, 1), likes, {}, 100, 1000), Presence::kMissing);
  EXPECT_EQ(Classify(Like("r", "l0", kT0 + 5'500, 1), likes, {}, 100, 1000), Presence::kUnknown);
  KeyFacts likes_archived{kT0, 0, 0, kT0 + 9'000, 123};
  EXPECT_EQ(Classify(Like("r", "l2", kT0 + 8'000, 1), likes_archived, {}, 100, 1000), Presence::kUnknown);
  EXPECT_EQ(Classify(Like("r", "l3", kT0 + 10'500, 1), likes_archived, {}, 100, 1000), Presence::kMissing);
}

// The failover shape: the old primary applied (and replicated) a prefix;
// the rest of what its Kafka acknowledged never reached the new primary.
TEST(ReconcileTest, ReingestsExactlyWhatTheNewPrimaryLacksAndARerunFindsItAll) {
  core::FakeClock clock(kT0);
  ModelStore store(1000);
  FakeLog log;
  std::vector<Message> all;
  for (int i = 0; i < 20; ++i) all.push_back(Comment("r1", "a" + std::to_string(i), kT0 + i * 10));
  for (int i = 0; i < 5; ++i) all.push_back(Comment("r2", "b" + std::to_string(i), kT0 + i * 10));
  for (size_t i = 0; i < all.size(); ++i) {
    log.Add(all[i]);
    if (i % 6 == 0) log.Add(core::EncodePayload(Presence_("r1", kT0 + static_cast<int64_t>(i))));
  }
  // Applied before the failure: r1's first 12, r2's first 2.
  std::set<std::string> lacking;
  for (size_t i = 0; i < all.size(); ++i) {
    const Message& m = all[i];
    bool applied = m.live_room == "r1" ? i < 12 : i < 20 + 2;
    if (applied) store.Apply(m, m.ingest_ms + 5);
    else lacking.insert(m.id);
  }
  ASSERT_EQ(lacking.size(), 8u + 3u);

  FakeRoute route;
  route.apply_to_ = &store;
  route.now_ms_ = kT0 + 60'000;
  auto rep = Reconcile(Opts(1000), log, store, route, clock);
  EXPECT_TRUE(rep.complete) << rep.error;
  EXPECT_EQ(rep.scanned, 25 + 5);
  EXPECT_EQ(rep.skipped, 5) << "presence records";
  EXPECT_EQ(rep.present, 14);
  EXPECT_EQ(rep.reingested, 11);
  EXPECT_EQ(rep.unknown, 0);
  EXPECT_EQ(rep.failed, 0);
  EXPECT_EQ(rep.invalid, 0);
  EXPECT_EQ(AsSet(rep.reingested_ids), lacking);
  EXPECT_EQ(AsSet(route.written_), lacking);
  EXPECT_EQ(rep.ExitCode(), 0);
  for (const auto& m : all) EXPECT_EQ(store.Copies(m.live_room, m.type, m.id), 1) << m.id;

  // A second run (or a run racing the processor) changes nothing.
  log.Rewind();
  route.written_.clear();
  auto again = Reconcile(Opts(1000), log, store, route, clock);
  EXPECT_TRUE(again.complete);
  EXPECT_EQ(again.present, 25);
  EXPECT_EQ(again.reingested, 0);
  EXPECT_TRUE(route.written_.empty());
}

TEST(ReconcileTest, LiveRoomFilterSkipsOtherRooms) {
  core::FakeClock clock(kT0);
  ModelStore store(100);
  FakeLog log;
  log.Add(Comment("r1", "x1", kT0));
  log.Add(Comment("r2", "y1", kT0));
  log.Add(Comment("r1", "x2", kT0 + 1));
  FakeRoute route;
  auto o = Opts(100);
  o.live_room = "r1";
  auto rep = Reconcile(o, log, store, route, clock);
  EXPECT_EQ(rep.scanned, 3);
  EXPECT_EQ(rep.skipped, 1);
  EXPECT_EQ(rep.reingested, 2);
  EXPECT_EQ(rep.live_room, "r1");
  EXPECT_EQ(AsSet(route.written_), (std::set<std::string>{"x1", "x2"}));
}

// The limit: ids trimmed out of the dedup set cannot be told apart from ids
// never applied, unless the message would have scored above what was trimmed.
TEST(ReconcileTest, MessagesOlderThanTheDedupWindowAreUnknownNotReingested) {
  core::FakeClock clock(kT0);
  ModelStore store(/*live_cap=*/5);  // remembers 10 ids
  FakeLog log;
  std::vector<Message> applied;
  // 30 applied, 2 s apart (well beyond the 1 s skew margin); one message
  // between #4 and #5 was acknowledged and never applied (lost early).
  for (int i = 0; i < 30; ++i) {
    Message m = Comment("r", "m" + std::to_string(100 + i), kT0 + i * 2000);
    log.Add(m);
    store.Apply(m, m.ingest_ms + 10);
    if (i == 4) log.Add(Comment("r", "lost-early", kT0 + 4 * 2000 + 1000));
  }
  // Five acknowledged after the last applied one: the failover gap.
  std::set<std::string> gap;
  for (int i = 0; i < 5; ++i) {
    Message m = Comment("r", "g" + std::to_string(i), kT0 + 60'000 + i * 100);
    log.Add(m);
    gap.insert(m.id);
  }
  FakeRoute route;
  auto rep = Reconcile(Opts(5), log, store, route, clock);
  EXPECT_TRUE(rep.complete);
  EXPECT_EQ(rep.scanned, 36);
  EXPECT_EQ(rep.present, 10) << "the last 10 ids are remembered";
  EXPECT_EQ(rep.unknown, 21) << "20 trimmed + the early loss: undecidable";
  EXPECT_EQ(rep.reingested, 5);
  EXPECT_EQ(AsSet(rep.reingested_ids), gap);
  EXPECT_EQ(rep.unknown_ids.size(), 21u);
  EXPECT_TRUE(AsSet(rep.unknown_ids).count("lost-early"));
  EXPECT_EQ(rep.ExitCode(), 3);

  // On request the unknown ones are re-ingested too (a repeat over a loss).
  log.Rewind();
  route.written_.clear();
  auto o = Opts(5);
  o.reingest_unknown = true;
  auto forced = Reconcile(o, log, store, route, clock);
  EXPECT_EQ(forced.unknown, 0);
  EXPECT_EQ(forced.reingested, 26);
  EXPECT_EQ(forced.reingested_unknown, 21);
}

TEST(ReconcileTest, ArchivedRoomsForgetEverythingBeforeTheArchive) {
  core::FakeClock clock(kT0);
  ModelStore store(100);
  FakeLog log;
  for (int i = 0; i < 3; ++i) {
    Message m = Comment("r", "old" + std::to_string(i), kT0 + i * 1000);
    log.Add(m);
    store.Apply(m, m.ingest_ms + 5);
  }
  store.Archive("r", kT0 + 10'000);
  Message late = Comment("r", "late", kT0 + 20'000);
  log.Add(late);
  FakeRoute route;
  auto rep = Reconcile(Opts(100), log, store, route, clock);
  EXPECT_EQ(rep.unknown, 3);
  EXPECT_EQ(rep.reingested, 1);
  EXPECT_EQ(route.written_, std::vector<std::string>{"late"});
}

TEST(ReconcileTest, LikesAreReconciledByIdAndCountedOnce) {
  core::FakeClock clock(kT0);
  ModelStore store(100);
  FakeLog log;
  Message l1 = Like("r", "l1", kT0, 5), l2 = Like("r", "l2", kT0 + 100, 7);
  log.Add(l1);
  log.Add(l2);
  store.Apply(l1, kT0 + 5);
  FakeRoute route;
  route.apply_to_ = &store;
  route.now_ms_ = kT0 + 1000;
  auto rep = Reconcile(Opts(100), log, store, route, clock);
  EXPECT_EQ(rep.present, 1);
  EXPECT_EQ(rep.reingested, 1);
  EXPECT_EQ(store.Likes("r"), 12);
  log.Rewind();
  auto again = Reconcile(Opts(100), log, store, route, clock);
  EXPECT_EQ(again.reingested, 0);
  EXPECT_EQ(store.Likes("r"), 12) << "a like record is never counted twice";
}

TEST(ReconcileTest, AnIdTwiceInTheOldLogIsReingestedOnce) {
  core::FakeClock clock(kT0);
  ModelStore store(100);
  FakeLog log;
  Message m = Comment("r", "dup", kT0);
  log.Add(m);
  log.Add(Comment("r", "other", kT0 + 1));
  log.Add(m);  // a forwarded write retried on a second target
  FakeRoute route;
  auto rep = Reconcile(Opts(100), log, store, route, clock);
  EXPECT_EQ(rep.reingested, 2);
  EXPECT_EQ(rep.present, 1);
  EXPECT_EQ(route.written_.size(), 2u);
}

TEST(ReconcileTest, AFailedWriteStopsTheRunAndIsReported) {
  core::FakeClock clock(kT0);
  ModelStore store(100);
  FakeLog log;
  for (int i = 0; i < 20; ++i) log.Add(Comment("r", "w" + std::to_string(i), kT0 + i));
  FakeRoute route;
  route.fail_from_ = 3;
  auto o = Opts(100);
  o.write_concurrency = 1;
  auto rep = Reconcile(o, log, store, route, clock);
  EXPECT_FALSE(rep.complete);
  EXPECT_NE(rep.error.find("re-ingest failed"), std::string::npos) << rep.error;
  EXPECT_EQ(rep.reingested, 3);
  EXPECT_EQ(rep.failed, 4) << "the rest of the first batch (7 records) is not attempted";
  EXPECT_EQ(rep.scanned, 7) << "and no further batch is read";
  EXPECT_EQ(rep.failed_ids.size(), 4u);
  EXPECT_EQ(route.failures_, 1) << "one produce timeout, not one per record";
  EXPECT_EQ(rep.ExitCode(), 1);
}

TEST(ReconcileTest, StoreAndLogFailuresAreReportedNotFatal) {
  core::FakeClock clock(kT0);
  ModelStore store(100);
  FakeLog log;
  for (int i = 0; i < 10; ++i) log.Add(Comment("r", "s" + std::to_string(i), kT0 + i));
  log.Add(std::string("not json"));
  FakeRoute route;
  store.fail_lookups_ = true;
  auto rep = Reconcile(Opts(100), log, store, route, clock);
  EXPECT_TRUE(rep.complete);
  EXPECT_EQ(rep.failed, 10);
  EXPECT_EQ(rep.invalid, 1);
  EXPECT_NE(rep.error.find("redis down"), std::string::npos);
  EXPECT_TRUE(route.written_.empty());

  store.fail_lookups_ = false;
  log.Rewind();
  log.fail_at_ = 7;
  auto cut = Reconcile(Opts(100), log, store, route, clock);
  EXPECT_FALSE(cut.complete);
  EXPECT_EQ(cut.scanned, 7);
  EXPECT_EQ(cut.reingested, 7);
  EXPECT_NE(cut.error.find("broker gone"), std::string::npos);
}

TEST(ReconcileTest, BoundedByDeadlineRecordsAndIdList) {
  core::FakeClock clock(kT0);
  ModelStore store(1000);
  FakeLog log;
  for (int i = 0; i < 100; ++i) log.Add(Comment("r", "d" + std::to_string(i), kT0 + i));
  FakeRoute route;
  log.clock_ = &clock;
  log.advance_ms_ = 1000;
  auto o = Opts(1000);
  o.deadline_ms = 3500;
  o.max_ids = 5;
  auto rep = Reconcile(o, log, store, route, clock);
  EXPECT_FALSE(rep.complete);
  EXPECT_NE(rep.error.find("deadline"), std::string::npos);
  EXPECT_EQ(rep.scanned, 4 * 7);
  EXPECT_EQ(rep.reingested_ids.size(), 5u);
  EXPECT_TRUE(rep.ids_truncated);

  log.Rewind();
  log.clock_ = nullptr;
  auto capped = Opts(1000);
  capped.max_records = 10;
  auto rep2 = Reconcile(capped, log, store, route, clock);
  EXPECT_FALSE(rep2.complete);
  EXPECT_EQ(rep2.scanned, 10);
  EXPECT_NE(rep2.error.find("max_records"), std::string::npos);
}

TEST(ReconcileReportTest, JsonRoundTripAndText) {
  ReconcileReport r;
  r.room = "B";
  r.old_brokers = "127.0.0.1:9092";
  r.topic = "danmu.messages";
  r.since_ms = kT0;
  r.partitions = "p0:[3,9)";
  r.scanned = 9;
  r.present = 2;
  r.reingested = 5;
  r.unknown = 1;
  r.skipped = 1;
  r.reingested_ids = {"a", "b\"<x>"};
  r.unknown_ids = {"u"};
  r.complete = true;
  r.duration_ms = 12;
  auto back = ParseReconcileReport(r.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString() << r.ToJson();
  EXPECT_EQ(back->ToJson(), r.ToJson());
  EXPECT_EQ(back->reingested_ids, r.reingested_ids);
  EXPECT_EQ(back->ExitCode(), 3);
  EXPECT_NE(r.ToText().find("re-ingested  5"), std::string::npos) << r.ToText();
  EXPECT_FALSE(ParseReconcileReport("{}").ok());
}

}  // namespace
}  // namespace danmu::replication
