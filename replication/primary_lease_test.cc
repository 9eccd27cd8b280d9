// The pure parts of the primary lease: the acknowledgement window on a fake
// monotonic clock, and the leader key's value.
#include "replication/primary_lease.h"

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

TEST(PrimaryLeaseTest, EtcdUnreachableNeverOpensTheWindow) {
  core::Config config;
  config.room = "A";
  config.ha.lease_ttl_s = 3;
  core::FakeClock clock;
  LeaseHooks hooks;
  hooks.wants_lease = [] { return true; };
  hooks.is_primary = [] { return true; };
  hooks.epoch = [] { return int64_t{3}; };
  PrimaryLease lease(config, std::make_unique<core::EtcdClient>(std::vector<std::string>{"http://127.0.0.1:1"}, 200),
                     "A/test", clock, nullptr, hooks);
  lease.Tick();
  EXPECT_FALSE(lease.MayAcknowledge()) << "a primary that never held the key acknowledges nothing";
  auto r = lease.Acquire(4, AcquireMode::kForce, false);
  EXPECT_EQ(r.status().code(), core::Code::kUnavailable);
  EXPECT_NE(lease.StatusJson().find("\"etcd_reachable\":false"), std::string::npos);
}

}  // namespace
}  // namespace danmu::replication
