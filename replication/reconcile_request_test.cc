#include "replication/reconcile_request.h"

#include <gtest/gtest.h>

namespace danmu::replication {
namespace {

ReconcileDefaults Defaults() {
  ReconcileDefaults d;
  d.topic = "danmu";
  d.live_cap = 300;
  d.own_brokers = "127.0.0.1:9092";
  return d;
}

TEST(ParseReconcileRequest, DefaultsFromTheRoom) {
  auto r = ParseReconcileRequest(R"({"kafka":"10.0.0.1:9092"})", Defaults());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->options.old_brokers, "10.0.0.1:9092");
  EXPECT_EQ(r->options.topic, "danmu");
  EXPECT_EQ(r->options.live_cap, 300);
  EXPECT_FALSE(r->since_given);
  EXPECT_EQ(r->lookback_ms, 600000);
  EXPECT_FALSE(r->options.reingest_unknown);
}

TEST(ParseReconcileRequest, ReadsEveryField) {
  auto r = ParseReconcileRequest(
      R"({"kafka":"h1:1,h2:2","since_ms":0,"lookback_ms":5000,"topic":"t","live_room":"room-1",)"
      R"("reingest_unknown":true,"deadline_ms":30000,"max_records":10})",
      Defaults());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->since_given) << "since_ms 0 is given, not absent";
  EXPECT_EQ(r->options.since_ms, 0);
  EXPECT_EQ(r->lookback_ms, 5000);
  EXPECT_EQ(r->options.topic, "t");
  EXPECT_EQ(r->options.live_room, "room-1");
  EXPECT_TRUE(r->options.reingest_unknown);
  EXPECT_EQ(r->options.deadline_ms, 30000);
  EXPECT_EQ(r->options.max_records, 10);
}

TEST(ParseReconcileRequest, RefusesBadBodies) {
  struct Case {
    const char* body;
    const char* mentions;
  } cases[] = {
      {"", "needs a JSON body"},
      {"not json", "not JSON"},
      {"[1]", "JSON object"},
      {"{}", "'kafka'"},
      {R"({"kafka":""})", "'kafka'"},
      {R"({"kafka":"nohostport"})", "nohostport"},
      {R"({"kafka":"h:0"})", "h:0"},
      {R"({"kafka":"h:70000"})", "h:70000"},
      {R"({"kafka":"127.0.0.1:9092"})", "own Kafka"},
      {R"({"kafka":"h:1","since_ms":"yesterday"})", "'since_ms'"},
      {R"({"kafka":"h:1","since_ms":-5})", "'since_ms'"},
      {R"({"kafka":"h:1","lookback_ms":0})", "'lookback_ms'"},
      {R"({"kafka":"h:1","live_room":"bad room!"})", "'live_room'"},
      {R"({"kafka":"h:1","topic":""})", "'topic'"},
      {R"({"kafka":"h:1","deadline_ms":10})", "'deadline_ms'"},
      {R"({"kafka":"h:1","max_records":0})", "'max_records'"},
      {R"({"kafka":"h:1","reingest_unknown":"yes"})", "'reingest_unknown'"},
      {R"({"kafka":"h:1","surprise":1})", "unknown field 'surprise'"},
      {R"({"kafka":["h:1"]})", "nested too deep"},
  };
  for (const auto& c : cases) {
    auto r = ParseReconcileRequest(c.body, Defaults());
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), core::Code::kInvalidArgument) << c.body;
    EXPECT_NE(r.status().message().find(c.mentions), std::string::npos) << c.body << ": " << r.status().message();
  }
}

TEST(ResolveScanStart, FromThePromotionTimeUnlessGiven) {
  auto r = ParseReconcileRequest(R"({"kafka":"h:1","lookback_ms":5000})", Defaults());
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(ResolveScanStart(&*r, 1'700'000'010'000).ok());
  EXPECT_EQ(r->options.since_ms, 1'700'000'005'000);
  auto early = ParseReconcileRequest(R"({"kafka":"h:1","lookback_ms":5000})", Defaults());
  ASSERT_TRUE(ResolveScanStart(&*early, 3000).ok());
  EXPECT_EQ(early->options.since_ms, 0) << "never before the epoch of time";
  auto unknown = ParseReconcileRequest(R"({"kafka":"h:1"})", Defaults());
  auto s = ResolveScanStart(&*unknown, 0);
  EXPECT_EQ(s.code(), core::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("'since_ms' is required"), std::string::npos) << s.message();
  auto given = ParseReconcileRequest(R"({"kafka":"h:1","since_ms":42})", Defaults());
  ASSERT_TRUE(ResolveScanStart(&*given, 0).ok()) << "a given start needs no promotion time";
  EXPECT_EQ(given->options.since_ms, 42);
}

}  // namespace
}  // namespace danmu::replication
