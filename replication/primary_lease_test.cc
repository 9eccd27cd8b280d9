// The pure parts of the primary lease: the acknowledgement window on a fake
// monotonic clock, and the leader key's value.
#include "replication/primary_lease.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "core/base/clock.h"

namespace danmu::replication {
namespace {

TEST(LeaseWindowTest, ValidFromARenewalUntilTtlMinusMarginOfItsSendTime) {
  core::FakeClock clock(1000);
  LeaseWindow w(3000, 500);
  EXPECT_FALSE(w.Valid(clock.MonoMs())) << "nothing renewed yet";
  const int64_t sent = clock.MonoMs();
  clock.Advance(200);  // the renewal's round trip: the window counts from the send
  w.Renewed(sent);
  EXPECT_TRUE(w.Valid(clock.MonoMs()));
  clock.Advance(2299);  // sent + 2499
  EXPECT_TRUE(w.Valid(clock.MonoMs()));
  clock.Advance(1);  // sent + 2500 = TTL - margin
  EXPECT_FALSE(w.Valid(clock.MonoMs()));
  EXPECT_LE(w.RemainingMs(clock.MonoMs()), 0);
}

TEST(LeaseWindowTest, APauseLongerThanTheTtlClosesTheWindowUntilTheNextRenewal) {
  core::FakeClock clock;
  LeaseWindow w(5000, 500);
  w.Renewed(clock.MonoMs());
  clock.Advance(1000);
  ASSERT_TRUE(w.Valid(clock.MonoMs()));
  // SIGSTOP / a stalled VM: nothing runs for 20 s, then a frontend thread
  // wants to answer a write that Kafka acked before the pause.
  clock.Advance(20000);
  EXPECT_FALSE(w.Valid(clock.MonoMs())) << "a woken primary refuses before anything renewed";
  // A renewal SENT before the pause and answered after it does not reopen it.
  w.Renewed(clock.MonoMs() - 20500);
  EXPECT_FALSE(w.Valid(clock.MonoMs()));
  w.Renewed(clock.MonoMs());
  EXPECT_TRUE(w.Valid(clock.MonoMs()));
}

TEST(LeaseWindowTest, ClearAndNotBefore) {
  core::FakeClock clock;
  LeaseWindow w(3000, 500);
  w.Renewed(clock.MonoMs());
  w.Clear();
  EXPECT_FALSE(w.Valid(clock.MonoMs())) << "a lost or released lease stops acks at once";
  // After a steal: the key is ours, but the old holder may still believe in
  // its own window for a TTL.
  w.Renewed(clock.MonoMs());
  w.NotBefore(clock.MonoMs() + 3000);
  EXPECT_FALSE(w.Valid(clock.MonoMs()));
  clock.Advance(1000);
  w.Renewed(clock.MonoMs());
  clock.Advance(1999);
  EXPECT_FALSE(w.Valid(clock.MonoMs()));
  clock.Advance(1);
  EXPECT_TRUE(w.Valid(clock.MonoMs()));
}

TEST(LeaderValueTest, RoundTripsAndRefusesIncompleteValues) {
  LeaderValue v;
  v.room = "A";
  v.epoch = 7;
  v.danmud = "A/host/\"1\"/2";
  v.repl_offset = 123456789012;
  v.at_ms = 1700000000000;
  auto back = LeaderValue::Parse(v.Encode());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->room, "A");
  EXPECT_EQ(back->epoch, 7);
  EXPECT_EQ(back->danmud, v.danmud);
  EXPECT_EQ(back->repl_offset, v.repl_offset);
  EXPECT_EQ(back->at_ms, v.at_ms);
  EXPECT_FALSE(LeaderValue::Parse("{\"room\":\"A\"}").ok());
  EXPECT_FALSE(LeaderValue::Parse("{\"room\":\"\",\"epoch\":3}").ok());
  EXPECT_FALSE(LeaderValue::Parse("[1]").ok());
  EXPECT_FALSE(LeaderValue::Parse("hello").ok());
}

TEST(PrimaryLeaseTest, WithoutEtcdEveryAckIsAllowedAndTheStatusSaysSo) {
  core::Config config;
  config.room = "A";
  core::FakeClock clock;
  PrimaryLease lease(config, nullptr, "A/test", clock, nullptr, {});
  EXPECT_FALSE(lease.enabled());
  EXPECT_TRUE(lease.MayAcknowledge());
  auto rep = lease.Acquire(2, AcquireMode::kForce, false);
  EXPECT_TRUE(rep.ok());
  EXPECT_NE(lease.StatusJson().find("\"enabled\":false"), std::string::npos);
}

// Room A as a primary that wants the lease (TTL 3 s).
core::Config PrimaryConfig() {
  core::Config config;
  config.room = "A";
  config.ha.lease_ttl_s = 3;
  return config;
}
LeaseHooks PrimaryHooks() {
  LeaseHooks hooks;
  hooks.wants_lease = [] { return true; };
  hooks.is_primary = [] { return true; };
  hooks.epoch = [] { return int64_t{3}; };
  return hooks;
}

TEST(PrimaryLeaseTest, EtcdUnreachableNeverOpensTheWindow) {
  core::Config config = PrimaryConfig();
  core::FakeClock clock;
  LeaseHooks hooks = PrimaryHooks();
  PrimaryLease lease(config, std::make_unique<core::EtcdClient>(std::vector<std::string>{"http://127.0.0.1:1"}, 200),
                     "A/test", clock, nullptr, hooks);
  lease.Tick();
  EXPECT_FALSE(lease.MayAcknowledge()) << "a primary that never held the key acknowledges nothing";
  auto r = lease.Acquire(4, AcquireMode::kForce, false);
  EXPECT_EQ(r.status().code(), core::Code::kUnavailable);
  EXPECT_NE(lease.StatusJson().find("\"etcd_reachable\":false"), std::string::npos);
}

// A listening socket that never accepts: connects complete in the kernel's
// backlog and requests are never answered, as with a stopped etcd member.
struct Blackhole {
  int fd = -1;
  int port = 0;
  Blackhole() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Blackhole() { ::close(fd); }
  // True once a client's connection waits in the backlog.
  bool Pending(int timeout_ms) const {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
  }
};

// A round stuck on an etcd that does not answer holds the lease's lock for
// the client's timeout; the status does not wait for it (danmuctl status is
// what the on-call reads during that outage) and says the round is waiting.
TEST(PrimaryLeaseTest, StatusAnswersWhileARoundWaitsOnAnUnansweringEtcd) {
  core::Config config = PrimaryConfig();
  core::FakeClock clock;
  LeaseHooks hooks = PrimaryHooks();
  Blackhole etcd;
  PrimaryLease lease(config,
                     std::make_unique<core::EtcdClient>(
                         std::vector<std::string>{"http://127.0.0.1:" + std::to_string(etcd.port)}, 2500),
                     "A/test", clock, nullptr, hooks);
  std::atomic<bool> round_done{false};
  std::thread round([&] {
    lease.Tick();
    round_done = true;
  });
  ASSERT_TRUE(etcd.Pending(5000)) << "the round sent its request to the unanswering member";
  const std::string status = lease.StatusJson();
  EXPECT_FALSE(round_done) << "the status waited for the round (the member's 2.5 s timeout)";
  EXPECT_NE(status.find("\"round_waiting\":true"), std::string::npos) << status;
  EXPECT_NE(status.find("\"etcd_reachable\":false"), std::string::npos) << status;
  round.join();
  const std::string after = lease.StatusJson();
  EXPECT_NE(after.find("\"round_waiting\":false"), std::string::npos) << after;
  EXPECT_NE(after.find("\"etcd_reachable\":false"), std::string::npos) << "the round's own verdict: " << after;
}

}  // namespace
}  // namespace danmu::replication
