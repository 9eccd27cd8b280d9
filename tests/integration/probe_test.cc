// The full-link probe attributes a failure to the stage that broke: Kafka
// stopped, the processor paused, room B's Redis stopped. Runs against the
// stack, whose danmud processes run the probe every 2 s.
#include <gtest/gtest.h>

#include <signal.h>

#include <map>
#include <string>
#include <vector>

#include "core/http/http_client.h"
#include "tests/integration/stack_env.h"

namespace danmu {
namespace {

using testing::Env;
using testing::WaitFor;

const std::vector<std::string> kStages = {"accept", "kafka", "processor", "replica", "frontend"};

std::string Failures(const std::string& stage) {
  return "danmu_probe_failures_total{room=\"A\",stage=\"" + stage + "\",write_room=\"A\"}";
}

std::map<std::string, double> AllFailures() {
  std::map<std::string, double> out;
  for (const auto& s : kStages) out[s] = testing::MetricSample("DANMU_A_ADMIN", Failures(s));
  return out;
}

::testing::AssertionResult AdminPost(const std::string& path) {
  auto r = testing::AdminPost(Env("DANMU_A_ADMIN") + path, "");
  if (!r.ok()) return ::testing::AssertionFailure() << path << ": " << r.status().ToString();
  if (r->status != 200) return ::testing::AssertionFailure() << path << " answered " << r->status << ": " << r->body;
  return ::testing::AssertionSuccess();
}

// SIGCONT on every exit path: a stopped server must not outlive the test.
struct Stopped {
  int pid;
  explicit Stopped(int p) : pid(p) { ::kill(pid, SIGSTOP); }
  ~Stopped() { ::kill(pid, SIGCONT); }
};

class ProbeTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) std::cerr << "==== merged logs ====\n" << testing::MergedLogs(80) << std::endl;
  }
  // Waits for a probe round to succeed into both rooms (the stack is healthy).
  ::testing::AssertionResult Healthy() {
    const std::string a = "danmu_probe_success_total{room=\"A\",read_room=\"A\",write_room=\"A\"}";
    const std::string b = "danmu_probe_success_total{room=\"A\",read_room=\"B\",write_room=\"A\"}";
    double a0 = testing::MetricSample("DANMU_A_ADMIN", a), b0 = testing::MetricSample("DANMU_A_ADMIN", b);
    if (WaitFor([&] { return testing::MetricSample("DANMU_A_ADMIN", a) > a0 && testing::MetricSample("DANMU_A_ADMIN", b) > b0; }, 30000)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "no probe comment written in A was seen in both A and B within 30 s";
  }
  // While the fault lasts: rounds fail at `stage`, and at no other stage.
  // The probe runs its rounds one after the other, so every round after the
  // first one blamed on `stage` started during the fault: between that first
  // one and two more, no other stage may rise (a probe that blamed every
  // stage would fail here).
  void ExpectOnlyStage(const std::string& stage) {
    const double first = AllFailures()[stage];
    ASSERT_TRUE(WaitFor([&] { return AllFailures()[stage] > first; }, 30000)) << "a probe failure attributed to " << stage;
    auto during = AllFailures();
    ASSERT_TRUE(WaitFor([&] { return AllFailures()[stage] >= during[stage] + 2; }, 30000))
        << "two more probe failures attributed to " << stage;
    auto after = AllFailures();
    for (const auto& s : kStages) {
      if (s != stage) EXPECT_EQ(after[s], during[s]) << "a round during the " << stage << " fault was blamed on " << s;
    }
  }
};

TEST_F(ProbeTest, HealthyStackProbesSucceedInBothRooms) {
  ASSERT_TRUE(Healthy());
  auto m = testing::Get(Env("DANMU_A_ADMIN") + "/metrics");
  ASSERT_TRUE(m.ok());
  EXPECT_NE(m->body.find("danmu_probe_e2e_seconds_bucket{room=\"A\",read_room=\"B\",write_room=\"A\",le=\"5\"}"), std::string::npos)
      << "the e2e histogram has the 5 s SLO bucket";
  // Probe traffic never shows in viewers' rooms: the probe room is not public.
  auto r = testing::Get(Env("DANMU_A_HTTP") + "/v1/rooms/__probe/messages");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
}

TEST_F(ProbeTest, PausedProcessorIsAttributedToTheProcessorStage) {
  ASSERT_TRUE(AdminPost("/v1/admin/processor/pause"));
  struct Resume {
    ~Resume() { (void)AdminPost("/v1/admin/processor/resume"); }
  } resume;
  ExpectOnlyStage("processor");
  ASSERT_TRUE(AdminPost("/v1/admin/processor/resume"));
  ASSERT_TRUE(Healthy());
}

TEST_F(ProbeTest, StoppedKafkaIsAttributedToTheKafkaStage) {
  int kafka = testing::PidOf("kafka-a");
  ASSERT_GT(kafka, 0);
  {
    Stopped stopped(kafka);
    ExpectOnlyStage("kafka");
  }
  ASSERT_TRUE(Healthy());
}

TEST_F(ProbeTest, StoppedReplicaIsAttributedToTheReplicaStage) {
  int redis_b = testing::PidOf("redis-b");
  ASSERT_GT(redis_b, 0);
  {
    Stopped stopped(redis_b);
    ExpectOnlyStage("replica");
  }
  ASSERT_TRUE(Healthy());
}

}  // namespace
}  // namespace danmu
