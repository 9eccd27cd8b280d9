// The primary lease against real processes (issue 13, DESIGN §8): the etcd
// gateway client on the stack's three-member cluster, the fence reset on
// promotion, etcd member and quorum loss, the SIGSTOP pause nemesis under
// write load, and the automatic failover. Runs before failover_test and
// hands the stack on as it found it: room A primary, room B its replica.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "core/base/config.h"
#include "core/live/write_route.h"
#include "core/model/live_keys.h"
#include "core/model/message.h"
#include "core/store/etcd_client.h"
#include "core/store/kafka_log_reader.h"
#include "core/store/redis_client.h"
#include "replication/ops/admin_client.h"
#include "replication/ops/drill.h"
#include "replication/primary_lease.h"
#include "tests/integration/stack_drill.h"
#include "tests/integration/stack_env.h"

namespace danmu {
namespace {

using testing::Env;
using testing::Get;
using testing::Post;
using testing::WaitFor;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

replication::AdminClient Admin(const char* env) { return replication::AdminClient(Env(env), testing::AdminToken()); }

core::EtcdClient Etcd() { return core::EtcdClient(core::SplitList(Env("DANMU_ETCD")), 1000); }

struct Answer {
  int status = 0;
  std::string id;
};

// `uid`: writers past the per-uid rate limit (limits.uid_burst) use their own.
Answer PostComment(const std::string& base, const std::string& room, const std::string& text, int timeout_ms = 10000,
                   const std::string& uid = "lease") {
  Answer a;
  auto r = Post(base + "/v1/rooms/" + room + "/messages", R"({"type":"comment","uid":")" + uid + R"(","text":")" + text + "\"}",
                timeout_ms);
  if (!r.ok()) return a;
  a.status = r->status;
  if (r->status == 202) {
    Poco::JSON::Parser parser;
    a.id = parser.parse(r->body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("id");
  }
  return a;
}

// Every message id stored for `live_room` in the Redis at `address`.
std::set<std::string> StoredIds(const std::string& address, const std::string& live_room) {
  core::RedisOptions ro;
  ro.address = address;
  core::RedisClient redis(ro, "live", nullptr);
  std::set<std::string> ids;
  auto members = redis.Command({"ZRANGE", core::keys::Msg(live_room, core::MessageType::kComment), "0", "-1"});
  if (!members.ok()) return ids;
  for (const auto& m : members->elements) ids.insert(std::string(core::PayloadId(m.str)));
  return ids;
}

// Ids of every record of `live_room` in the Kafka log at `brokers`.
std::set<std::string> KafkaIds(const std::string& brokers, const std::string& live_room) {
  std::set<std::string> ids;
  auto reader = core::KafkaLogReader::Open(brokers, Env("KAFKA_TOPIC"), 0, 10000);
  if (!reader.ok()) {
    ADD_FAILURE() << "open " << brokers << ": " << reader.status().ToString();
    return ids;
  }
  while (true) {
    auto batch = (*reader)->Next(1000);
    if (!batch.ok()) {
      ADD_FAILURE() << batch.status().ToString();
      break;
    }
    if (batch->empty()) break;
    for (const auto& r : *batch) {
      auto m = core::DecodePayload(r.value);
      if (m.ok() && m->live_room == live_room) ids.insert(m->id);
    }
  }
  return ids;
}

std::string LeaderValueNow() {
  auto kv = Etcd().Get("/danmu/leader");
  if (!kv.ok() || !kv->has_value()) return "";
  return (*kv)->value;
}

// The command line of a running stack process (to start it again as it was).
std::vector<std::string> CmdlineOf(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  std::string cur;
  for (char c : all) {
    if (c == '\0') {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  return args;
}

void Relaunch(const std::string& name, const std::vector<std::string>& args) {
  std::string cmd = "setsid";
  for (const auto& a : args) cmd += " '" + a + "'";
  const std::string run = Env("DANMU_RUN_DIR");
  cmd += " >>" + run + "/logs/" + name + ".log 2>&1 < /dev/null & echo $! > " + run + "/pids/" + name + ".pid";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// Switch the stack back to room A primary (planned) if room B is primary.
void EnsureAPrimary() {
  auto a = Admin("DANMU_A_ADMIN");
  ASSERT_TRUE(WaitFor([&] { auto s = a.Status(); return s.ok(); }, 30000)) << "room A answers";
  if (auto s = a.Status(); s.ok() && s->active_primary()) return;
  ASSERT_TRUE(WaitFor([&] { auto s = a.Status(); return s.ok() && s->role == core::Role::kSecondary && s->replication.link_up; }, 60000))
      << "room A rejoined as a replica before switching back";
  std::string out;
  int rc = testing::RunCapture(testing::Danmuctl("switchover"), &out);
  ASSERT_EQ(rc, 0) << out;
  ASSERT_TRUE(WaitFor([&] { auto s = a.Status(); return s.ok() && s->active_primary() && s->lease_valid; }, 20000));
}

class LeaseTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) std::cerr << "==== merged logs ====\n" << testing::MergedLogs(150) << std::endl;
  }
};

TEST_F(LeaseTest, EtcdGatewayClientAgainstTheRealCluster) {
  // A dead first member: the client moves on to the next.
  std::vector<std::string> endpoints = {"http://127.0.0.1:1"};
  for (const auto& e : core::SplitList(Env("DANMU_ETCD"))) endpoints.push_back(e);
  core::EtcdClient etcd(endpoints, 1000);
  const std::string key = "/danmu/test/lease-" + std::to_string(::getpid());
  auto lease = etcd.Grant(5);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  auto created = etcd.CreateIfAbsent(key, "first", *lease);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(created->succeeded);
  auto again = etcd.CreateIfAbsent(key, "second", 0);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->succeeded) << "create_revision == 0 admits one creator";
  ASSERT_EQ(again->kvs.size(), 1u);
  EXPECT_EQ(again->kvs[0].value, "first");
  EXPECT_EQ(again->kvs[0].lease, *lease);
  auto ttl = etcd.KeepAlive(*lease);
  ASSERT_TRUE(ttl.ok()) << ttl.status().ToString();
  EXPECT_GT(*ttl, 0);
  auto info = etcd.TimeToLive(*lease);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->granted_ttl_s, 5);
  ASSERT_TRUE(etcd.Put(key + "/child", std::string("bin\0ary", 7)).ok());
  auto prefix = etcd.GetPrefix(key);
  ASSERT_TRUE(prefix.ok());
  ASSERT_EQ(prefix->size(), 2u);
  EXPECT_EQ((*prefix)[1].value, std::string("bin\0ary", 7));
  EXPECT_EQ(*etcd.Delete(key + "/child"), 1);
  ASSERT_TRUE(etcd.Revoke(*lease).ok());
  auto gone = etcd.Get(key);
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value()) << "revoking the lease deleted its key";
  EXPECT_EQ(etcd.KeepAlive(*lease).status().code(), core::Code::kNotFound);
  EXPECT_EQ(etcd.TimeToLive(*lease)->ttl_s, -1);
  EXPECT_TRUE(etcd.Revoke(*lease).ok()) << "revoking twice is harmless";
}

TEST_F(LeaseTest, ThePrimaryHoldsTheLeaderKeyWithItsEpoch) {
  auto a = Admin("DANMU_A_ADMIN"), b = Admin("DANMU_B_ADMIN");
  ASSERT_TRUE(WaitFor([&] { auto s = a.Status(); return s.ok() && s->active_primary() && s->lease_held && s->lease_valid; }, 20000));
  auto sa = a.Status();
  auto sb = b.Status();
  ASSERT_TRUE(sa.ok() && sb.ok());
  EXPECT_TRUE(sa->lease_enabled);
  EXPECT_FALSE(sb->lease_held);
  auto v = replication::LeaderValue::Parse(LeaderValueNow());
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->room, "A");
  EXPECT_EQ(v->epoch, sa->epoch) << "the epoch in etcd and in room A's state agree";
  EXPECT_NE(v->danmud.find("A/"), std::string::npos);
  EXPECT_EQ(testing::MetricSample("DANMU_A_ADMIN", "danmu_lease_valid{room=\"A\"}"), 1);
  EXPECT_EQ(testing::MetricSample("DANMU_A_ADMIN", "danmu_lease_lost{room=\"A\"}"), 0);
  // Promotion without force while A holds and renews: refused by the lease.
  auto refused = testing::AdminPost(Env("DANMU_B_ADMIN") + "/v1/admin/promote", "{\"force\":false}");
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 409) << refused->body;
}

TEST_F(LeaseTest, AFencedProcessorProcessesAgainAfterThePromotion) {
  auto a = Admin("DANMU_A_ADMIN");
  auto before = a.Status();
  ASSERT_TRUE(before.ok() && before->active_primary());
  // The store holds a newer epoch than room A (as after a promotion elsewhere).
  core::RedisOptions ro;
  ro.address = Env("REDIS_A");
  core::RedisClient redis(ro, "live", nullptr);
  ASSERT_TRUE(redis.Command({"SET", core::keys::kEpoch, std::to_string(before->epoch + 5)}).ok());
  const std::string room = "fence" + std::to_string(::getpid());
  Answer first = PostComment(Env("DANMU_A_HTTP"), room, "refused by the store");
  ASSERT_EQ(first.status, 202);
  ASSERT_TRUE(WaitFor([&] {
    auto s = a.Status();
    return s.ok() && s->role == core::Role::kSecondary && s->raw.find("\"fenced\":true") != std::string::npos;
  }, 20000)) << "the processor was fenced and room A stopped being primary";
  std::string out;
  ASSERT_EQ(testing::RunCapture(testing::Danmuctl("promote --room A --reason fence-test"), &out), 0) << out;
  ASSERT_TRUE(WaitFor([&] { auto s = a.Status(); return s.ok() && s->active_primary() && s->lease_valid; }, 20000));
  Answer second = PostComment(Env("DANMU_A_HTTP"), room, "after the new promotion");
  ASSERT_EQ(second.status, 202);
  EXPECT_TRUE(WaitFor([&] {
    auto ids = StoredIds(Env("REDIS_A"), room);
    return ids.count(first.id) && ids.count(second.id);
  }, 20000)) << "the processor of the promoted room applies again (before the fix it stayed fenced)";
  auto s = a.Status();
  ASSERT_TRUE(s.ok());
  EXPECT_NE(s->raw.find("\"fenced\":false"), std::string::npos) << s->raw;
  EXPECT_EQ(replication::LeaderValue::Parse(LeaderValueNow())->epoch, s->epoch);
}

// The witness member is killed: two of three members keep the quorum, so the
// primary keeps renewing and acknowledging, and its writes reach room B.
TEST_F(LeaseTest, LosingOneEtcdMemberChangesNothing) {
  int pid = testing::PidOf("etcd-w");
  ASSERT_GT(pid, 0);
  auto args = CmdlineOf(pid);
  ASSERT_FALSE(args.empty());
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  auto a = Admin("DANMU_A_ADMIN");
  // The series as danmud writes it: constant label (room) first. MetricSample
  // reads 0 for a series that is absent, so the test first checks it is there.
  const std::string ok_renewals = "danmu_lease_renewals_total{room=\"A\",result=\"ok\"}";
  const double renewed = testing::MetricSample("DANMU_A_ADMIN", ok_renewals);
  ASSERT_GT(renewed, 0) << "room A's primary has renewed its lease before the member is lost";
  const std::string room = "member" + std::to_string(::getpid());
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) {
    // 30 writes in a burst: one uid each, so the per-uid rate limit (429) stays out of it.
    Answer r = PostComment(Env(i % 2 ? "DANMU_B_HTTP" : "DANMU_A_HTTP"), room, "one member down " + std::to_string(i), 10000,
                           "member" + std::to_string(i));
    EXPECT_EQ(r.status, 202) << "write " << i;
    if (!r.id.empty()) ids.push_back(r.id);
  }
  EXPECT_TRUE(WaitFor([&] {
    return testing::MetricSample("DANMU_A_ADMIN", ok_renewals) >= renewed + 3;
  }, 15000)) << "renewals go on with two members";
  auto s = a.Status();
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->lease_valid && s->lease_held && s->active_primary());
  EXPECT_TRUE(WaitFor([&] {
    auto stored = StoredIds(Env("REDIS_B"), room);
    for (const auto& id : ids) if (!stored.count(id)) return false;
    return true;
  }, 15000));
  Relaunch("etcd-w", args);
  ASSERT_TRUE(WaitFor([&] {
    auto r = Get(core::SplitList(Env("DANMU_ETCD")).back() + "/health", 1000);
    return r.ok() && r->body.find("\"true\"") != std::string::npos;
  }, 30000)) << "the witness member rejoined";
}

TEST_F(LeaseTest, QuorumLossRefusesWritesWithinTheTtlReadsGoOnAndWritesResume) {
  auto a = Admin("DANMU_A_ADMIN");
  const std::string room = "quorum" + std::to_string(::getpid());
  ASSERT_EQ(PostComment(Env("DANMU_A_HTTP"), room, "before").status, 202);
  int pb = testing::PidOf("etcd-b"), pw = testing::PidOf("etcd-w");
  ASSERT_GT(pb, 0);
  ASSERT_GT(pw, 0);
  ASSERT_EQ(::kill(pb, SIGSTOP), 0);
  ASSERT_EQ(::kill(pw, SIGSTOP), 0);
  struct Cont {
    int a, b;
    ~Cont() { ::kill(a, SIGCONT); ::kill(b, SIGCONT); }
  } cont{pb, pw};
  auto s0 = a.Status();
  ASSERT_TRUE(s0.ok());
  const int ttl_ms = 3000;  // the stack's ha.lease_ttl_s
  // Bound: the lease window (TTL - margin from the last renewal) plus one
  // failing renewal round (up to 3 members x 1 s) plus slack.
  int refused_status = 0;
  EXPECT_TRUE(WaitFor([&] {
    Answer r = PostComment(Env("DANMU_A_HTTP"), room, "during quorum loss", 8000);
    refused_status = r.status;
    return r.status == 503;
  }, ttl_ms + 8000)) << "the primary refuses writes once its lease ran out (last status " << refused_status << ")";
  auto poll = Get(Env("DANMU_A_HTTP") + "/v1/rooms/" + room + "/messages");
  ASSERT_TRUE(poll.ok());
  EXPECT_EQ(poll->status, 200) << "reads go on";
  auto pb_poll = Get(Env("DANMU_B_HTTP") + "/v1/rooms/" + room + "/messages");
  ASSERT_TRUE(pb_poll.ok());
  EXPECT_EQ(pb_poll->status, 200);
  auto s = a.Status();
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->lease_valid);
  EXPECT_TRUE(WaitFor([&] { return testing::MetricSample("DANMU_A_ADMIN", "danmu_lease_lost{room=\"A\"}") == 1; }, 10000))
      << "the metric says so (updated once per lease round)";
  std::string out;
  testing::RunCapture(testing::Danmuctl("status"), &out);
  EXPECT_NE(out.find("NOT VALID"), std::string::npos) << out;
  ::kill(pb, SIGCONT);
  ::kill(pw, SIGCONT);
  EXPECT_TRUE(WaitFor([&] { return PostComment(Env("DANMU_A_HTTP"), room, "after").status == 202; }, 30000))
      << "writes resume once quorum is back";
  EXPECT_TRUE(a.Status()->active_primary()) << "room A stayed the primary";
}

TEST_F(LeaseTest, PauseNemesisNoAckFromTheStalePrimaryAndNothingLost) {
  auto a = Admin("DANMU_A_ADMIN"), b = Admin("DANMU_B_ADMIN");
  ASSERT_TRUE(WaitFor([&] { auto s = a.Status(); return s.ok() && s->active_primary() && s->lease_valid; }, 20000));
  const double refused_before = testing::MetricSample("DANMU_A_ADMIN", "danmu_lease_acks_refused_total{room=\"A\"}");
  const std::string room = "pause" + std::to_string(::getpid());
  struct Ack {
    std::string id;
    int64_t at_ms;
    bool via_a;
  };
  std::mutex mu;
  std::vector<Ack> acks;
  std::atomic<int64_t> refused{0}, failed{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; !stop; ++i) {
        const bool via_a = w < 3;  // three writers on room A, one on room B (forwarded)
        Answer r = PostComment(Env(via_a ? "DANMU_A_HTTP" : "DANMU_B_HTTP"), room,
                               "w" + std::to_string(w) + "-" + std::to_string(i), 15000);
        const int64_t at = NowMs();
        if (r.status == 202) {
          std::lock_guard lock(mu);
          acks.push_back({r.id, at, via_a});
        } else if (r.status == 503) {
          ++refused;
        } else {
          ++failed;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }
  ASSERT_TRUE(WaitFor([&] { std::lock_guard lock(mu); return acks.size() > 100; }, 20000)) << "load is flowing";
  int pa = testing::PidOf("danmud-a");
  ASSERT_GT(pa, 0);
  ASSERT_EQ(::kill(pa, SIGSTOP), 0);
  struct Cont {
    int pid;
    ~Cont() { ::kill(pid, SIGCONT); }
  } cont{pa};
  // Room B promoted by force while A is frozen: it waits for A's lease to expire.
  std::string out;
  int rc = testing::RunCapture(testing::Danmuctl("promote --room B --force --reason pause-nemesis"), &out);
  ASSERT_EQ(rc, 0) << out;
  const int64_t promoted_at = NowMs();
  auto sb = b.Status();
  ASSERT_TRUE(sb.ok() && sb->active_primary()) << out;
  auto leader = replication::LeaderValue::Parse(LeaderValueNow());
  ASSERT_TRUE(leader.ok());
  EXPECT_EQ(leader->room, "B");
  EXPECT_EQ(leader->epoch, sb->epoch);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // load keeps hitting both rooms (not a sync)
  const int64_t woke_at = NowMs();
  ASSERT_EQ(::kill(pa, SIGCONT), 0);
  EXPECT_TRUE(WaitFor([&] {
    auto s = a.Status();
    return s.ok() && s->role == core::Role::kSecondary && !s->replication.local_is_master && s->replication.link_up;
  }, 30000)) << "room A demoted itself and rejoined as a replica of B";
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // writes go on after the rejoin (load, not sync)
  stop = true;
  for (auto& t : writers) t.join();

  // 1. No write that room A's Kafka took was answered 202 after A woke (B
  //    held the lease from before A woke): A's own acks all came earlier.
  std::set<std::string> in_a_kafka = KafkaIds(Env("KAFKA_A"), room);
  int64_t stale_acks = 0, acked_after_wake = 0;
  {
    std::lock_guard lock(mu);
    for (const auto& ack : acks) {
      if (ack.at_ms < woke_at) continue;
      ++acked_after_wake;
      if (in_a_kafka.count(ack.id)) ++stale_acks;
    }
  }
  EXPECT_EQ(stale_acks, 0) << "writes acknowledged by room A after room B took the lease";
  EXPECT_GT(acked_after_wake, 0) << "writes through both rooms were acknowledged after A woke (by B)";
  // 2. Every acknowledged id is in room B, with no reconcile run by anyone
  //    (the forced promotion's catch-up took what A had acked but not applied).
  std::set<std::string> missing;
  EXPECT_TRUE(WaitFor([&] {
    auto stored = StoredIds(Env("REDIS_B"), room);
    missing.clear();
    std::lock_guard lock(mu);
    for (const auto& ack : acks) if (!stored.count(ack.id)) missing.insert(ack.id);
    return missing.empty();
  }, 30000)) << missing.size() << " acknowledged ids missing in room B";
  auto sa = a.Status();
  ASSERT_TRUE(sa.ok());
  EXPECT_TRUE(sa->reconcile_needed) << "room A demoted itself: it says reconciliation may be needed: " << sa->raw;
  EXPECT_EQ(sa->reconcile_from, Env("KAFKA_A"));
  const double refused_by_lease = testing::MetricSample("DANMU_A_ADMIN", "danmu_lease_acks_refused_total{room=\"A\"}") - refused_before;
  std::printf("pause nemesis: %zu acked, %lld answered 503 (%.0f refused by room A's lease after its Kafka acked), "
              "%lld other failures, B promoted %lld ms before A woke; stale acks %lld\n",
              acks.size(), static_cast<long long>(refused.load()), refused_by_lease, static_cast<long long>(failed.load()),
              static_cast<long long>(woke_at - promoted_at), static_cast<long long>(stale_acks));
  std::ofstream(Env("DANMU_RUN_DIR") + "/lease-nemesis.txt")
      << "acked " << acks.size() << " refused_503 " << refused.load() << " refused_by_lease " << refused_by_lease
      << " stale_acks " << stale_acks << "\n";
  // Clear the prompt (the catch-up did the work) and hand the stack back.
  ASSERT_TRUE(a.Action("reconcile/clear", "{\"reason\":\"lease_test: caught up\"}").ok());
  EnsureAPrimary();
}

TEST_F(LeaseTest, AutomaticFailoverPromotesBByItselfWithNoSplitBrain) {
  // Room B with ha.auto_failover: true (its config rewritten, danmud restarted).
  const std::string config = Env("DANMU_RUN_DIR") + "/config/room-b.yaml";
  std::ifstream in(config);
  std::string yaml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  const std::string from = "auto_failover: false";
  auto pos = yaml.find(from);
  ASSERT_NE(pos, std::string::npos) << "the stack's config has ha.auto_failover";
  yaml.replace(pos, from.size(), "auto_failover: true");
  std::ofstream(config) << yaml;
  testing::KillHard("danmud-b");
  testing::StartDanmud("danmud-b");
  auto a = Admin("DANMU_A_ADMIN"), b = Admin("DANMU_B_ADMIN");
  ASSERT_TRUE(WaitFor([&] { auto s = b.Status(); return s.ok() && s->replication.link_up && s->auto_failover && s->lease_holder == "A"; }, 30000))
      << "room B runs with automatic failover and has seen A hold the key";
  std::atomic<bool> done{false};
  std::atomic<int> two_primaries{0};
  std::thread watcher([&] {
    while (!done) {
      auto sa = a.Status(300), sb = b.Status(300);
      if (sa.ok() && sb.ok() && sa->active_primary() && sa->lease_valid && sb->active_primary() && sb->lease_valid) ++two_primaries;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  auto rep = replication::RunDrill(testing::StackDrillOptions(false));
  done = true;
  watcher.join();
  std::printf("%s\n%s\n", rep.ToText().c_str(), rep.ToJson().c_str());
  std::ofstream(Env("DANMU_RUN_DIR") + "/lease-auto-drill.json") << rep.ToJson() << "\n";
  EXPECT_TRUE(rep.error.empty()) << rep.error;
  EXPECT_TRUE(rep.invariant_failures.empty());
  EXPECT_EQ(rep.promoted_by, "auto");
  EXPECT_EQ(rep.new_primary, "B");
  EXPECT_GT(rep.new_epoch, rep.old_epoch);
  EXPECT_EQ(two_primaries.load(), 0) << "never two rooms acknowledging as primary";
  auto sb = b.Status();
  ASSERT_TRUE(sb.ok());
  EXPECT_TRUE(sb->active_primary() && sb->lease_held);
  EXPECT_TRUE(sb->reconcile_needed) << "room A's Kafka is gone: B says what to reconcile once it is back";
  // Hand the stack back: room A restarted by the stack (it finds B's newer
  // key and rejoins as a replica; the stack rewrites room B's config without
  // automatic failover), room B restarted on that config, then switched back.
  std::string cmd = "cd " + Env("DANMU_SOURCE_DIR") + " && scripts/stack up >> " + Env("DANMU_RUN_DIR") + "/logs/restart.log 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "stack up restarted room A";
  ASSERT_TRUE(WaitFor([&] { auto s = a.Status(); return s.ok() && s->role == core::Role::kSecondary && s->replication.link_up; }, 60000))
      << "room A came back as a replica of B";
  testing::KillHard("danmud-b");
  testing::StartDanmud("danmud-b");
  ASSERT_TRUE(WaitFor([&] { auto s = b.Status(); return s.ok() && s->active_primary() && s->lease_valid && !s->auto_failover; }, 30000))
      << "room B restarted as the primary and took its key again";
  ASSERT_TRUE(b.Action("reconcile/clear", "{\"reason\":\"lease_test: drill data only\"}").ok());
  ASSERT_TRUE(a.Action("reconcile/clear", "{\"reason\":\"lease_test: drill data only\"}").ok());
  EnsureAPrimary();
}

}  // namespace
}  // namespace danmu
