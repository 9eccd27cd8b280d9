// Dual-room HA against real processes and real faults. The tests run in
// order and hand the stack on: link cut (A primary) -> planned switchover
// A->B -> planned switchover B->A -> unplanned loss of room A (B promoted) ->
// room A restarted with its old config and epoch (fenced, rejoins as replica).
#include <gtest/gtest.h>

#include <signal.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <fstream>
#include <set>

#include "core/model/live_keys.h"
#include "core/live/live_writer.h"
#include "core/model/message.h"
#include "core/store/redis_client.h"
#include "replication/ops/admin_client.h"
#include "replication/ops/drill.h"
#include "tests/integration/stack_drill.h"
#include "tests/integration/stack_env.h"

namespace danmu {
namespace {

using testing::Env;
using testing::Get;
using testing::Post;
using testing::WaitFor;

replication::AdminClient Admin(const char* env) { return replication::AdminClient(Env(env), testing::AdminToken()); }

std::string PostComment(const std::string& base, const std::string& room, const std::string& text) {
  auto r = Post(base + "/v1/rooms/" + room + "/messages", R"({"type":"comment","uid":"ha","text":")" + text + "\"}");
  if (!r.ok() || r->status != 202) return "";
  Poco::JSON::Parser parser;
  return parser.parse(r->body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("id");
}

bool Visible(const std::string& base, const std::string& room, const std::string& id) {
  auto r = Get(base + "/v1/rooms/" + room + "/messages?limit=200");
  return r.ok() && r->status == 200 && r->body.find(id) != std::string::npos;
}

class FailoverTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) std::cerr << "==== merged logs ====\n" << testing::MergedLogs(120) << std::endl;
  }
};

TEST_F(FailoverTest, ReplicaLinkCutEngagesAndReleasesStaleReadFallback) {
  auto b = Admin("DANMU_B_ADMIN");
  ASSERT_TRUE(WaitFor([&] { auto s = b.Status(); return s.ok() && s->read_source == "local" && s->replication.link_up; }, 15000));
  const std::string room = "cut" + std::to_string(::getpid());
  int redis_b = testing::PidOf("redis-b");
  ASSERT_GT(redis_b, 0);
  ASSERT_EQ(::kill(redis_b, SIGSTOP), 0);
  struct Cont {
    int pid;
    ~Cont() { ::kill(pid, SIGCONT); }
  } cont{redis_b};
  ASSERT_TRUE(WaitFor([&] { auto s = b.Status(); return s.ok() && s->read_source == "peer"; }, 15000))
      << "fallback engages while room B's replica is stopped";
  auto during = b.Status();
  ASSERT_TRUE(during.ok());
  EXPECT_FALSE(during->replication.link_up);
  // Fresh writes are readable in room B through the fallback.
  std::string id = PostComment(Env("DANMU_A_HTTP"), room, "while the replica is stopped");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitFor([&] { return Visible(Env("DANMU_B_HTTP"), room, id); }, 10000)) << "read via the fallback";
  auto metrics = Get(Env("DANMU_B_ADMIN") + "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("danmu_stale_read_fallback_active{room=\"B\"} 1"), std::string::npos);
  EXPECT_EQ(metrics->body.find("danmu_replication_lag_seconds{room=\"B\"} 0\n"), std::string::npos)
      << "the lag metric rises while the link is cut";
  ::kill(redis_b, SIGCONT);
  ASSERT_TRUE(WaitFor([&] { auto s = b.Status(); return s.ok() && s->read_source == "local"; }, 20000))
      << "fallback releases after the dwell time";
  EXPECT_TRUE(WaitFor([&] { return Visible(Env("DANMU_B_HTTP"), room, id); }, 10000)) << "nothing lost";
}

void ExpectPlannedDrill(const std::string& from, const std::string& to) {
  auto rep = replication::RunDrill(testing::StackDrillOptions(true));
  std::printf("%s\n%s\n", rep.ToText().c_str(), rep.ToJson().c_str());
  ASSERT_TRUE(rep.error.empty()) << rep.error;
  EXPECT_TRUE(rep.invariant_failures.empty());
  EXPECT_EQ(rep.old_primary, from);
  EXPECT_EQ(rep.new_primary, to);
  EXPECT_GT(rep.acked, 100);
  EXPECT_EQ(rep.rpo_messages, 0) << "a planned switchover loses nothing acknowledged";
  EXPECT_EQ(rep.reads_failed[to], 0) << "reads in the promoted room never fail";
  EXPECT_EQ(rep.ExitCode(), 0);
  // Writes through either room land in the new primary and are visible in both.
  const std::string room = "after" + from + to + std::to_string(::getpid());
  std::string via_a = PostComment(Env("DANMU_A_HTTP"), room, "via A");
  std::string via_b = PostComment(Env("DANMU_B_HTTP"), room, "via B");
  ASSERT_FALSE(via_a.empty());
  ASSERT_FALSE(via_b.empty());
  for (const char* base : {"DANMU_A_HTTP", "DANMU_B_HTTP"}) {
    EXPECT_TRUE(WaitFor([&] { return Visible(Env(base), room, via_a) && Visible(Env(base), room, via_b); }, 15000))
        << base;
  }
  auto st = Admin(to == "A" ? "DANMU_A_ADMIN" : "DANMU_B_ADMIN").Status();
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->active_primary());
  EXPECT_TRUE(st->replication.local_is_master);
  auto old = Admin(from == "A" ? "DANMU_A_ADMIN" : "DANMU_B_ADMIN").Status();
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->role, core::Role::kSecondary);
  EXPECT_TRUE(WaitFor([&] { auto s = Admin(from == "A" ? "DANMU_A_ADMIN" : "DANMU_B_ADMIN").Status(); return s.ok() && !s->replication.local_is_master && s->replication.link_up; }, 20000))
      << "the old primary's Redis replicates the new primary";
}

TEST_F(FailoverTest, PlannedSwitchoverAtoBUnderLoadLosesNothing) { ExpectPlannedDrill("A", "B"); }

TEST_F(FailoverTest, PlannedSwitchoverBackToA) { ExpectPlannedDrill("B", "A"); }

TEST_F(FailoverTest, UnplannedLossOfRoomAPromotesB) {
  auto o = testing::StackDrillOptions(false);
  o.acked_ids_file = Env("DANMU_RUN_DIR") + "/unplanned-acked.txt";
  auto rep = replication::RunDrill(o);
  std::printf("%s\n%s\n", rep.ToText().c_str(), rep.ToJson().c_str());
  ASSERT_TRUE(rep.error.empty()) << rep.error;
  EXPECT_TRUE(rep.invariant_failures.empty());
  EXPECT_EQ(rep.old_primary, "A");
  EXPECT_EQ(rep.new_primary, "B");
  EXPECT_GT(rep.new_epoch, rep.old_epoch);
  // Writes that failed while room A was gone recovered (the drill checks it:
  // invariant_failures) with an RTO from the first failure to the first
  // success after it; when none failed (promotion beat every writer), the
  // RTO is 0. Both ways: RTO > 0 exactly when writes failed.
  EXPECT_GE(rep.rto_ms, 0);
  EXPECT_EQ(rep.rto_ms > 0, rep.failed_writes > 0)
      << "rto_ms " << rep.rto_ms << " with " << rep.failed_writes << " failed writes";
  EXPECT_EQ(rep.reads_failed["B"], 0) << "room B kept serving reads";
  // Count independently what is missing from room B's store.
  core::RedisOptions ro;
  ro.address = Env("REDIS_B");
  core::RedisClient redis(ro, "live", nullptr);
  auto keys = redis.Command({"KEYS", "danmu:{drill*}:msg:comment"});
  ASSERT_TRUE(keys.ok());
  std::set<std::string> present;
  for (const auto& k : keys->elements) {
    auto members = redis.Command({"ZRANGE", k.str, "0", "-1"});
    ASSERT_TRUE(members.ok());
    for (const auto& m : members->elements) present.insert(std::string(core::PayloadId(m.str)));
  }
  std::ifstream in(o.acked_ids_file);
  std::string id;
  int64_t acked = 0, missing = 0;
  while (std::getline(in, id)) {
    ++acked;
    missing += !present.count(id);
  }
  EXPECT_EQ(acked, rep.acked);
  EXPECT_EQ(missing, rep.rpo_messages) << "the drill's RPO equals what room B's store lacks";
  std::printf("unplanned: %lld acknowledged, %lld acknowledged-but-unreplicated lost\n",
              static_cast<long long>(acked), static_cast<long long>(missing));
}

TEST_F(FailoverTest, OldPrimaryRestartedWithOldConfigIsFencedAndRejoinsAsReplica) {
  auto b = Admin("DANMU_B_ADMIN");
  auto before = b.Status();
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(before->active_primary()) << "room B is the primary after the unplanned failover";
  // Restart every process of room A exactly as before: Redis A as a master
  // with its old data, Kafka A with its unprocessed log, danmud A with its
  // old config (role: primary) and its old state file (epoch 1).
  std::string cmd = "cd " + Env("DANMU_SOURCE_DIR") + " && scripts/stack up >> " + Env("DANMU_RUN_DIR") + "/logs/restart.log 2>&1";
  std::atomic<bool> done{false};
  std::atomic<int> two_primaries{0};
  std::thread watcher([&] {
    auto a = Admin("DANMU_A_ADMIN");
    while (!done) {
      auto sa = a.Status(500), sb = b.Status(500);
      if (sa.ok() && sb.ok() && sa->active_primary() && sb->active_primary()) ++two_primaries;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  int rc = std::system(cmd.c_str());
  auto a = Admin("DANMU_A_ADMIN");
  bool rejoined = WaitFor([&] {
    auto s = a.Status();
    return s.ok() && s->role == core::Role::kSecondary && s->epoch == before->epoch && !s->replication.local_is_master && s->replication.link_up;
  }, 60000);
  done = true;
  watcher.join();
  ASSERT_EQ(rc, 0) << "stack up restarted room A";
  ASSERT_TRUE(rejoined) << "room A came back as a secondary replicating room B";
  EXPECT_EQ(two_primaries.load(), 0) << "at no moment were two rooms active primaries";
  auto sa = a.Status();
  ASSERT_TRUE(sa.ok());
  EXPECT_NE(sa->raw.find("\"applied\":0"), std::string::npos) << "room A's processor never wrote: " << sa->raw;
  // A write with the old epoch into the current store is refused atomically.
  core::Message m;
  m.id = "fenced-" + std::to_string(::getpid());
  m.type = core::MessageType::kComment;
  m.live_room = "fence";
  m.uid = "old";
  m.text = "from the old primary";
  core::RedisOptions ro;
  ro.address = Env("REDIS_B");
  core::RedisClient redis(ro, "live", nullptr);
  auto reply = redis.EvalPipeline(core::ApplyScript(), {core::BuildApplyCall({m}, {core::EncodePayload(m)}, 1, 100)});
  ASSERT_TRUE(reply.ok());
  auto outcome = core::ParseApplyReply(reply->front());
  EXPECT_EQ(outcome.status().code(), core::Code::kFencedEpoch) << outcome.status().ToString();
  // Writes through room A now land in room B (forwarded) and reach A's replica.
  const std::string room = "rejoin" + std::to_string(::getpid());
  std::string id = PostComment(Env("DANMU_A_HTTP"), room, "after rejoin");
  ASSERT_FALSE(id.empty());
  EXPECT_TRUE(WaitFor([&] { return Visible(Env("DANMU_B_HTTP"), room, id) && Visible(Env("DANMU_A_HTTP"), room, id); }, 15000));
}

}  // namespace
}  // namespace danmu
