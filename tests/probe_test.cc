// The full-link probe attributes a failure to the stage that broke: Kafka
// stopped, the processor paused, room B's Redis stopped. Runs against the
// stack, whose danmud processes run the probe every 2 s.
#include <gtest/gtest.h>

#include <signal.h>

#include "core/http/http_client.h"
#include "tests/stack_env.h"

namespace danmu {
namespace {

using testing::Env;
using testing::WaitFor;

std::string Failures(const std::string& stage) {
  return "danmu_probe_failures_total{room=\"A\",stage=\"" + stage + "\",write_room=\"A\"}";
}

void AdminPost(const std::string& path) { ASSERT_TRUE(testing::AdminPost(Env("DANMU_A_ADMIN") + path, "").ok()); }

class ProbeTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) std::cerr << "==== merged logs ====\n" << testing::MergedLogs(80) << std::endl;
  }
  // Waits for a probe round to succeed into both rooms (the stack is healthy).
  void ExpectHealthy() {
    const std::string a = "danmu_probe_success_total{room=\"A\",read_room=\"A\",write_room=\"A\"}";
    const std::string b = "danmu_probe_success_total{room=\"A\",read_room=\"B\",write_room=\"A\"}";
    double a0 = testing::MetricSample("DANMU_A_ADMIN", a), b0 = testing::MetricSample("DANMU_A_ADMIN", b);
    ASSERT_TRUE(WaitFor([&] { return testing::MetricSample("DANMU_A_ADMIN", a) > a0 && testing::MetricSample("DANMU_A_ADMIN", b) > b0; }, 30000))
        << "probe comments written in A are seen in A and B";
  }
  void ExpectStage(const std::string& stage, double before) {
    EXPECT_TRUE(WaitFor([&] { return testing::MetricSample("DANMU_A_ADMIN", Failures(stage)) > before; }, 30000))
        << "a probe failure attributed to " << stage;
  }
};

TEST_F(ProbeTest, HealthyStackProbesSucceedInBothRooms) {
  ExpectHealthy();
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
  double before = testing::MetricSample("DANMU_A_ADMIN", Failures("processor"));
  AdminPost("/v1/admin/processor/pause");
  ExpectStage("processor", before);
  AdminPost("/v1/admin/processor/resume");
  ExpectHealthy();
}

TEST_F(ProbeTest, StoppedKafkaIsAttributedToTheKafkaStage) {
  double before = testing::MetricSample("DANMU_A_ADMIN", Failures("kafka"));
  int kafka = testing::PidOf("kafka-a");
  ASSERT_GT(kafka, 0);
  ASSERT_EQ(::kill(kafka, SIGSTOP), 0);
  ExpectStage("kafka", before);
  ::kill(kafka, SIGCONT);
  ExpectHealthy();
}

TEST_F(ProbeTest, StoppedReplicaIsAttributedToTheReplicaStage) {
  double before = testing::MetricSample("DANMU_A_ADMIN", Failures("replica"));
  int redis_b = testing::PidOf("redis-b");
  ASSERT_GT(redis_b, 0);
  ASSERT_EQ(::kill(redis_b, SIGSTOP), 0);
  ExpectStage("replica", before);
  ::kill(redis_b, SIGCONT);
  ExpectHealthy();
}

}  // namespace
}  // namespace danmu
