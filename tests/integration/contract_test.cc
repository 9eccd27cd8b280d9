// Clients that follow the long-connection contract (routing/client_contract.h,
// DESIGN §13) against the real stack: danmu-bench's contract viewers ask a
// router, connect by the transport it says, fall back to polling after three
// failed connects, retry later, and resume from their cursor on every move.
// Each case runs `danmu-bench gen` processes (their writers post to room A,
// their viewers are checked for every acknowledged message exactly once and
// in order) while the test changes the servers under them:
//  - handshakes refused: a frontend of the test's own (room B's config, its
//    own etcd prefix, so its router hands out only itself; push capped at
//    kPushCap) is filled by other WebSockets, so every handshake gets 503;
//    the clients fall back after exactly 3 failures, poll, and move back to
//    the WebSocket on a retry once the filling connections are gone;
//  - a killed edge: 2,000 clients on room B's edge, kill -9 of danmud-b: they
//    reconnect to room A's edge (the router's next endpoint) from their
//    cursors, and room A's router stops handing out the dead one;
//  - a drained edge (danmuctl edge drain): closed with 1001, the same
//    clients ask the router again and move to room A's edge.
// No timing asserts: every wait is bounded and says what it waited for.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/json_object.h"
#include "tests/integration/stack_env.h"

#ifndef DANMU_BENCH_BIN
#error DANMU_BENCH_BIN must name danmu-bench
#endif

namespace danmu {
namespace {

using testing::Env;
using testing::WaitFor;

constexpr int kPushCap = 300;  // the own frontend's push.max_connections

Poco::JSON::Object::Ptr Json(const std::string& body) { return testing::JsonObject(body); }

int64_t Field(const Poco::JSON::Object::Ptr& o, const std::string& key) {
  return o && o->has(key) ? o->getValue<int64_t>(key) : -1;
}

// The long connections a danmud holds (GET /v1/admin/push), -1 unreachable.
int64_t PushConnections(const std::string& admin_url) {
  auto r = testing::Get(admin_url + "/v1/admin/push", 2000);
  if (!r.ok() || r->status != 200) return -1;
  return Field(Json(r->body), "connections");
}

// The lines of the /metrics at `admin_url` that start with `prefix` (for failure output).
std::string Lines(const std::string& admin_url, const std::string& prefix) {
  auto r = testing::Get(admin_url + "/metrics");
  if (!r.ok()) return "(no /metrics)\n";
  std::string out, line;
  std::istringstream in(r->body);
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) out += line + "\n";
  }
  return out;
}

// Whether the router at `admin_url` lists the edge with public URL `url`.
bool Listed(const std::string& admin_url, const std::string& url) {
  auto r = testing::Get(admin_url + "/v1/admin/route");
  return r.ok() && r->body.find("\"url\":\"" + url + "\"") != std::string::npos;
}

// One `danmu-bench gen` run in its own process group.
class Gen {
 public:
  Gen(const std::string& name, std::vector<std::string> flags) : out_(Env("DANMU_RUN_DIR") + "/" + name + ".json") {
    std::vector<std::string> argv = {DANMU_BENCH_BIN, "gen"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    pid_ = testing::SpawnGroup(argv, out_);
  }
  ~Gen() {
    if (!done_) testing::KillGroup(pid_);
  }
  void Kill() {
    testing::KillGroup(pid_);
    done_ = true;
  }
  // Its report once it ended within `timeout_ms` (nullptr otherwise).
  Poco::JSON::Object::Ptr Report(int timeout_ms) {
    auto rc = testing::WaitExit(pid_, timeout_ms);
    if (!rc) return nullptr;
    done_ = true;
    if (*rc != 0) {
      ADD_FAILURE() << "danmu-bench gen exited " << *rc << ": " << testing::ReadFile(out_ + ".err");
      return nullptr;
    }
    auto o = Json(testing::ReadFile(out_));
    if (!o) ADD_FAILURE() << "no JSON report in " << out_ << ": " << testing::ReadFile(out_).substr(0, 500);
    return o;
  }

 private:
  std::string out_;
  pid_t pid_ = -1;
  bool done_ = false;
};

// The exactness part of a report: every acknowledged message seen once, in
// order, by every one of `followers` viewers.
void ExpectExact(const Poco::JSON::Object::Ptr& report, int64_t followers) {
  auto ex = report->getObject("exactness");
  ASSERT_TRUE(ex);
  EXPECT_EQ(Field(ex, "followers"), followers);
  EXPECT_GT(Field(ex, "acked"), 0) << "the writers were acknowledged";
  EXPECT_GT(Field(ex, "required"), 0);
  EXPECT_EQ(Field(ex, "missing"), 0);
  EXPECT_EQ(Field(ex, "duplicates"), 0);
  EXPECT_EQ(Field(ex, "out_of_order"), 0);
  EXPECT_TRUE(ex->getValue<bool>("ok")) << "examples: " << (ex->has("examples") ? ex->get("examples").toString() : "");
}

// Keys of the report's "contract" object that start with `prefix`, summed.
int64_t SumOf(const Poco::JSON::Object::Ptr& contract, const std::string& prefix, std::string* names = nullptr) {
  int64_t sum = 0;
  for (const auto& [k, v] : *contract) {
    if (k.rfind(prefix, 0) != 0) continue;
    sum += v.convert<int64_t>();
    if (names) *names += k + "=" + v.toString() + " ";
  }
  return sum;
}

class ContractTest : public ::testing::Test {
 protected:
  void SetUp() override { tag_ = std::to_string(::getpid()) + "x" + std::to_string(++counter_); }
  void TearDown() override {
    if (HasFailure()) std::cerr << "==== merged logs ====\n" << testing::MergedLogs(60) << std::endl;
  }
  std::string tag_;
  static inline int counter_ = 0;
};

// The test's own frontend: room B's config (secondary: it wants no lease),
// frontend only, on base+920/921, with its own etcd prefix (its router sees
// only itself, and its rule set is the test's) and push capped at kPushCap.
struct OwnFrontend {
  std::string url, admin_url, log;
  pid_t pid = -1;

  explicit OwnFrontend(const std::string& prefix) {
    const int base = std::stoi(Env("DANMU_PORT_BASE"));
    const int port = base + 920, admin_port = base + 921;
    url = "http://127.0.0.1:" + std::to_string(port);
    admin_url = "http://127.0.0.1:" + std::to_string(admin_port);
    const std::string run = Env("DANMU_RUN_DIR");
    const std::string dir = run + "/contract-test";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    testing::YamlEdit edit;
    edit.drop_sections = {"routing:", "push:"};
    edit.lines = {{"components:", "components: [frontend]"},
                  {"role:", "role: secondary"},
                  {"run_dir:", "run_dir: " + dir},
                  {"  public_port:", "  public_port: " + std::to_string(port)},
                  {"  admin_port:", "  admin_port: " + std::to_string(admin_port)}};
    edit.append =
        "routing:\n"
        "  prefix: " + prefix + "\n"
        "  edge_ttl_s: 3\n"
        "  register_interval_ms: 1000\n"
        "  rules_refresh_ms: 500\n"
        "  edge_refresh_ms: 500\n"
        "push:\n"
        "  max_connections: " + std::to_string(kPushCap) + "\n"
        "  max_connections_per_address: " + std::to_string(kPushCap) + "\n"
        "  handshakes_per_sec: 20000\n"
        "  ping_interval_ms: 5000\n"
        "  idle_timeout_ms: 15000\n"
        "  drain_spread_ms: 1000\n";
    const std::string config = dir + "/room-b-contract.yaml";
    std::ofstream(config) << testing::EditYaml(testing::ReadFile(run + "/config/room-b.yaml"), edit);
    log = run + "/logs/danmud-contract.log";
    pid = testing::StartOwnDanmud(config, log);
  }
  ~OwnFrontend() { testing::StopOwnDanmud(pid); }
};

// Every handshake refused (the edge full): each client falls back to polling
// after exactly 3 failed connects, keeps receiving every message by polling,
// tells the router why on its next ask, and moves back to the WebSocket on
// its next retry once the edge takes connections again.
TEST_F(ContractTest, RefusedHandshakesFallBackAfterThreeAndMoveBackWhenTheEdgeReturns) {
  const std::string prefix = "/danmu-contract-" + tag_ + "/";
  OwnFrontend edge(prefix);
  ASSERT_TRUE(WaitFor([&] { return testing::Healthy(edge.admin_url); }, 30000))
      << "the test's frontend did not come up; log:\n" << testing::ReadFile(edge.log);
  auto set = testing::AdminPost(edge.admin_url + "/v1/admin/route", R"({"op":"set_percent","percent":100})");
  ASSERT_TRUE(set.ok() && set->status == 200) << (set.ok() ? set->body : set.status().message());
  ASSERT_TRUE(WaitFor([&] {
    auto r = testing::Get(edge.url + "/v1/route?uid=probe&room=cprobe");
    return r.ok() && r->body.find("\"transport\":\"ws\"") != std::string::npos &&
           r->body.find("ws://127.0.0.1:" + edge.url.substr(edge.url.rfind(':') + 1)) != std::string::npos;
  }, 15000)) << "its router hands out its own WebSocket URL at 100 %";

  // Fill it: kPushCap WebSockets from 127.0.0.30, held until killed.
  Gen fill("contract-fill-" + tag_, {"--url", edge.url, "--ws", std::to_string(kPushCap), "--small-rooms", "1",
                                     "--small-prefix", "cfill" + tag_, "--ramp", "1", "--warmup", "1", "--seconds",
                                     "300", "--track", "0", "--sources", "127.0.0.30"});
  ASSERT_TRUE(WaitFor([&] { return PushConnections(edge.admin_url) == kPushCap; }, 30000))
      << "the filling WebSockets hold the edge's push.max_connections (" << PushConnections(edge.admin_url) << ")";
  const std::string refused = "danmu_push_refusals_total{room=\"B\",reason=\"process_cap\",transport=\"ws\"}";
  const auto refused0 = testing::Series(edge.admin_url, refused);
  ASSERT_TRUE(refused0) << refused << " is exported";

  // 200 contract clients in 10 rooms, asking the test's router; 10 writers
  // post to room A meanwhile (what they see comes through room B's replica).
  constexpr int kClients = 200;
  Gen clients("contract-fallback-" + tag_,
              {"--url", Env("DANMU_A_HTTP"), "--router", edge.url, "--contract", std::to_string(kClients),
               "--small-rooms", "10", "--small-prefix", "cfb" + tag_ + "r", "--writers", "10", "--write-rate", "20",
               "--ramp", "1", "--warmup", "1", "--seconds", "30", "--drain", "8", "--contract-retry-ms", "6000",
               "--track", "1000", "--sources", "127.0.0.31-32"});
  // Every client fails 3 times before its first fallback. Its first retry
  // comes 3-9 s later (retry base 6 s, jittered), well after the last of
  // them fell back (ramp 1 s): 3 refusals each means they all did, before
  // any retry; the retries then find the edge free again.
  ASSERT_TRUE(WaitFor([&] {
    auto n = testing::Series(edge.admin_url, refused);
    return n && *n - *refused0 >= 3 * kClients;
  }, 60000)) << "the clients' handshakes were refused (process_cap) 3 times each:\n" << Lines(edge.admin_url, "danmu_push_")
              << Lines(edge.admin_url, "danmu_route_");
  fill.Kill();  // the edge takes connections again
  ASSERT_TRUE(WaitFor([&] { return PushConnections(edge.admin_url) < kPushCap - kClients; }, 15000))
      << "the filling connections are gone";

  auto report = clients.Report(120000);
  ASSERT_TRUE(report) << "the clients' run did not end";
  auto c = report->getObject("contract");
  ASSERT_TRUE(c);
  std::printf("contract clients: %s\n", report->get("contract").toString().c_str());
  EXPECT_EQ(Field(c, "clients"), kClients);
  std::string fell;
  EXPECT_EQ(SumOf(c, "fell_back_after_", &fell), kClients) << "each client fell back once: " << fell;
  EXPECT_EQ(Field(c, "fell_back_after_3"), kClients) << "after exactly 3 failed connects: " << fell;
  EXPECT_GE(Field(c, "connect_failed_handshake_refused"), 3 * kClients);
  EXPECT_GT(Field(c, "polls"), kClients) << "they polled while they were refused";
  EXPECT_EQ(Field(c, "moved_back"), kClients) << "each moved back to the WebSocket on a retry";
  EXPECT_EQ(Field(c, "long_at_stop"), kClients) << "and held it to the end";
  EXPECT_GE(Field(c, "fallbacks_reported"), kClients) << "each told the router why it fell back";
  ExpectExact(report, kClients);
  // The router counted the reasons the clients gave.
  auto reported = testing::Series(edge.admin_url, "danmu_route_client_fallbacks_total{room=\"B\",reason=\"handshake_refused\"}");
  ASSERT_TRUE(reported);
  EXPECT_GE(*reported, kClients);
}

// The stack's rule set at 100 % for the test's life (the previous percentage
// restored after), so that both routers say ws.
struct RolloutAt100 {
  int percent0 = -1;
  RolloutAt100() {
    auto shown = testing::Get(Env("DANMU_B_ADMIN") + "/v1/admin/route");
    auto o = shown.ok() && shown->status == 200 ? Json(shown->body) : nullptr;
    if (!o) return;
    auto rules = o->getObject("rules");
    EXPECT_EQ(rules->getValue<std::string>("transport"), "ws");
    percent0 = rules->getValue<int>("percent");
    std::string out;
    EXPECT_EQ(testing::RunCapture(testing::Danmuctl("route set-percent 100"), &out), 0) << out;
  }
  ~RolloutAt100() {
    std::string out;
    if (percent0 >= 0) testing::RunCapture(testing::Danmuctl("route set-percent " + std::to_string(percent0)), &out);
  }
};

constexpr int kStackClients = 2000;

// 2,000 contract clients asking room B's router (which lists room B's edge
// first, room A's second) in 20 rooms, 20 writers posting to room A; returns
// once they hold their WebSockets on room B's edge.
std::unique_ptr<Gen> ClientsOnB(const std::string& name, const std::string& tag) {
  EXPECT_TRUE(WaitFor([&] {
    auto r = testing::Get(Env("DANMU_B_HTTP") + "/v1/route?uid=probe&room=ckprobe");
    return r.ok() && r->body.find("\"transport\":\"ws\"") != std::string::npos &&
           r->body.find("ws://" + Env("DANMU_B_HTTP").substr(7)) < r->body.find("ws://" + Env("DANMU_A_HTTP").substr(7));
  }, 15000)) << "room B's router hands out WebSockets, its own edge first, room A's next";
  const int64_t b0 = PushConnections(Env("DANMU_B_ADMIN"));
  auto gen = std::make_unique<Gen>(
      name, std::vector<std::string>{"--url", Env("DANMU_A_HTTP"), "--router", Env("DANMU_B_HTTP"), "--contract",
                                     std::to_string(kStackClients), "--small-rooms", "20", "--small-prefix",
                                     name + tag + "r", "--writers", "20", "--write-rate", "40", "--ramp", "3",
                                     "--warmup", "2", "--seconds", "30", "--drain", "8", "--procs", "2", "--track",
                                     "2000", "--sources", "127.0.0.40-43"});
  EXPECT_TRUE(WaitFor([&] { return PushConnections(Env("DANMU_B_ADMIN")) - b0 >= kStackClients; }, 60000))
      << "the clients hold their WebSockets on room B's edge, where the router sent them ("
      << PushConnections(Env("DANMU_B_ADMIN")) << ")";
  return gen;
}

// What every move between the stack's edges must show: each client held a
// WebSocket to the end, none fell back to polling (the other edge was
// there), and every acknowledged message arrived exactly once, in order.
Poco::JSON::Object::Ptr ExpectMovedWithoutFallback(Gen& gen) {
  auto report = gen.Report(120000);
  EXPECT_TRUE(report) << "the clients' run did not end";
  if (!report) return nullptr;
  auto c = report->getObject("contract");
  EXPECT_TRUE(c);
  if (!c) return nullptr;
  std::printf("contract clients: %s\nexactness: %s\n", report->get("contract").toString().c_str(),
              report->get("exactness").toString().c_str());
  EXPECT_EQ(Field(c, "clients"), kStackClients);
  EXPECT_EQ(SumOf(c, "fell_back_after_"), 0) << "no client fell back to polling: the other edge was there";
  EXPECT_GE(Field(c, "connected"), 2 * kStackClients) << "each connected to B, then to A";
  EXPECT_EQ(Field(c, "long_at_stop"), kStackClients);
  ExpectExact(report, kStackClients);
  return c;
}

// kill -9 of an edge holding 2,000 contract clients (room B's frontend):
// cut without a close, each client's reconnect to the dead edge fails and
// the next endpoint, room A's edge, takes it, from its cursor; room A's
// router stops handing out the dead edge within its registration lease;
// room B's danmud runs again afterwards.
TEST_F(ContractTest, KilledEdgeClientsReconnectToTheNextEndpointFromTheirCursors) {
  RolloutAt100 rollout;
  ASSERT_GE(rollout.percent0, 0) << "room B's rule set is readable";
  testing::RestartDanmudBOnExit restart;
  auto clients = ClientsOnB("ckill", tag_);
  ASSERT_FALSE(HasFailure());
  const int64_t a0 = PushConnections(Env("DANMU_A_ADMIN"));
  restart.needed = true;
  testing::KillHard("danmud-b");
  EXPECT_TRUE(WaitFor([&] { return PushConnections(Env("DANMU_A_ADMIN")) - a0 >= kStackClients; }, 60000))
      << "room A's edge holds the clients that moved (" << PushConnections(Env("DANMU_A_ADMIN")) << ")";
  EXPECT_TRUE(WaitFor([&] { return !Listed(Env("DANMU_A_ADMIN"), Env("DANMU_B_HTTP")); }, 15000))
      << "the killed edge is still handed out after its lease TTL";
  auto c = ExpectMovedWithoutFallback(*clients);
  ASSERT_TRUE(c);
  EXPECT_GE(Field(c, "connect_failed_connect_failed"), kStackClients) << "each reconnect to the dead edge failed once";

  restart.needed = false;
  testing::StartDanmud("danmud-b");
  ASSERT_TRUE(WaitFor([] { return testing::Healthy(Env("DANMU_B_ADMIN")); }, 30000)) << "room B's danmud restarted";
  EXPECT_TRUE(WaitFor([&] { return Listed(Env("DANMU_A_ADMIN"), Env("DANMU_B_HTTP")); }, 15000))
      << "registered again after the restart";
}

// Draining an edge holding 2,000 contract clients (danmuctl edge drain):
// each is closed with 1001, asks the router again, which no longer hands
// out the drained edge, and connects to room A's from its cursor.
TEST_F(ContractTest, DrainedEdgeClientsAskTheRouterAndMoveFromTheirCursors) {
  RolloutAt100 rollout;
  ASSERT_GE(rollout.percent0, 0) << "room B's rule set is readable";
  struct Undrain {
    ~Undrain() {
      std::string o;
      testing::RunCapture(testing::Danmuctl("edge undrain --room B"), &o);
    }
  } undrain;
  auto clients = ClientsOnB("cdrain", tag_);
  ASSERT_FALSE(HasFailure());
  const int64_t a0 = PushConnections(Env("DANMU_A_ADMIN"));
  std::string out;
  ASSERT_EQ(testing::RunCapture(testing::Danmuctl("edge drain --room B --over 5s"), &out), 0) << out;
  EXPECT_TRUE(WaitFor([&] { return PushConnections(Env("DANMU_A_ADMIN")) - a0 >= kStackClients; }, 60000))
      << "room A's edge holds the clients that moved (" << PushConnections(Env("DANMU_A_ADMIN")) << ")";
  auto c = ExpectMovedWithoutFallback(*clients);
  ASSERT_TRUE(c);
  EXPECT_EQ(Field(c, "closed_1001"), kStackClients) << "each was told to reconnect elsewhere, once";
  EXPECT_GE(Field(c, "route_asks"), 2 * kStackClients) << "and asked the router again";
  ASSERT_EQ(testing::RunCapture(testing::Danmuctl("edge undrain --room B"), &out), 0) << out;
  EXPECT_TRUE(WaitFor([&] { return Listed(Env("DANMU_A_ADMIN"), Env("DANMU_B_HTTP")); }, 15000))
      << "registered again after the undrain";
}

}  // namespace
}  // namespace danmu
