#include <gtest/gtest.h>

#include "core/degrade/auto_degrade.h"
#include "core/degrade/degrade.h"

namespace danmu::core {
namespace {

TEST(DegradePolicyTest, ScopesManualOverridesAutoAndExpiry) {
  DegradeOptions o;
  PollOptions p;
  DegradePolicy policy("A", o, p);
  DegradeTable t;
  const int64_t now = 1000;
  EXPECT_EQ(policy.Level(t, "r1", now), 0);
  t["auto"] = DegradeSetting{2, now + 100, "auto", "lag", now};
  EXPECT_EQ(policy.Level(t, "r1", now), 2);
  t["stream:hot"] = DegradeSetting{1, now + 100, "manual", "hot stream", now};
  EXPECT_EQ(policy.Level(t, "hot", now), 1) << "a manual setting overrides the automatic one";
  EXPECT_EQ(policy.Level(t, "cold", now), 2);
  t["room:B"] = DegradeSetting{3, now + 100, "manual", "", now};
  EXPECT_EQ(policy.Level(t, "cold", now), 2) << "room B's setting does not apply in room A";
  t["room:A"] = DegradeSetting{3, now + 100, "manual", "", now};
  EXPECT_EQ(policy.Level(t, "cold", now), 3);
  EXPECT_EQ(policy.RoomLevel(t, now).room_level, 3);
  EXPECT_EQ(policy.Level(t, "cold", now + 100), 0) << "everything expired";
  EXPECT_EQ(policy.RoomLevel(t, now + 100).room_level, 0);
}

TEST(DegradePolicyTest, ViewPerLevel) {
  DegradeOptions o;
  o.thin_limit = 7;
  o.backoff_step_ms = 1000;
  o.backoff_max_ms = 16000;
  PollOptions p;
  p.next_poll_ms = 2000;
  DegradePolicy policy("A", o, p);
  EXPECT_FALSE(policy.View(0, 0, 0).likes_paused);
  EXPECT_TRUE(policy.View(1, 0, 0).likes_paused);
  EXPECT_EQ(policy.View(1, 0, 0).thin_limit, 0);
  EXPECT_EQ(policy.View(2, 0, 0).thin_limit, 7);
  EXPECT_EQ(policy.View(2, 0, 0).next_poll_ms, 0) << "level 2 keeps the normal interval";
  EXPECT_EQ(policy.View(3, 0, 0).next_poll_ms, 4000);
  EXPECT_EQ(policy.View(3, 0, 1000).next_poll_ms, 8000);
  EXPECT_EQ(policy.View(3, 0, 2500).next_poll_ms, 16000);
  EXPECT_EQ(policy.View(3, 0, 100000).next_poll_ms, 16000) << "capped";
}

TEST(DegradeSettingTest, RoundTripAndRejects) {
  DegradeSetting s{2, 99, "manual", "concert \"peak\"", 5};
  auto back = DecodeDegradeSetting(EncodeDegradeSetting(s));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->level, 2);
  EXPECT_EQ(back->reason, s.reason);
  EXPECT_FALSE(DecodeDegradeSetting(R"({"level":9,"expires_at_ms":1})").ok());
  EXPECT_FALSE(DecodeDegradeSetting("nope").ok());
}

TEST(AutoDegraderTest, RisesOneStepAtATimeAndFallsOnlyAfterDwell) {
  DegradeOptions o;
  o.kafka_lag_seconds = {1, 2, 3};
  o.dwell_ms = 3000;
  o.lower_ratio = 0.5;
  AutoDegrader a(o);
  DegradeSignals s;
  int64_t t = 0;
  s.kafka_lag_seconds = 10;  // far above level 3
  EXPECT_EQ(a.Evaluate(s, t += 500), 1) << "one step at a time";
  EXPECT_EQ(a.Evaluate(s, t += 500), 2);
  EXPECT_EQ(a.Evaluate(s, t += 500), 3);
  EXPECT_EQ(a.Evaluate(s, t += 500), 3);
  s.kafka_lag_seconds = 0;
  EXPECT_EQ(a.Evaluate(s, t += 500), 3) << "dwell starts";
  EXPECT_EQ(a.Evaluate(s, t += 2999), 3);
  EXPECT_EQ(a.Evaluate(s, t += 1), 2);
  EXPECT_EQ(a.Evaluate(s, t += 2999), 2);
  EXPECT_EQ(a.Evaluate(s, t += 1), 1);
  s.kafka_lag_seconds = 0.6;  // below level 1's raise (1) but not below its lower (0.5)
  EXPECT_EQ(a.Evaluate(s, t += 10000), 1) << "not low enough to fall";
  s.kafka_lag_seconds = 0.1;
  EXPECT_EQ(a.Evaluate(s, t += 100), 1);
  EXPECT_EQ(a.Evaluate(s, t += 3000), 0);
  EXPECT_EQ(a.transitions(), 6);
}

TEST(AutoDegraderTest, NoFlappingAroundAThreshold) {
  DegradeOptions o;
  o.kafka_lag_seconds = {1, 2, 3};
  o.dwell_ms = 3000;
  AutoDegrader a(o);
  DegradeSignals s;
  for (int i = 0; i < 1000; ++i) {
    s.kafka_lag_seconds = (i % 2) ? 1.05 : 0.95;
    a.Evaluate(s, i * 100);
  }
  EXPECT_EQ(a.level(), 1);
  EXPECT_EQ(a.transitions(), 1);
}

}  // namespace
}  // namespace danmu::core
