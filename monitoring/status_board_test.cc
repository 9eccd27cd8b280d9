#include "monitoring/status_board.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

namespace danmu::monitoring {
namespace {

using Obj = Poco::JSON::Object::Ptr;

Obj Parse(const std::string& s) {
  Poco::JSON::Parser p;
  return p.parse(s).extract<Obj>();
}

std::string AdminStatus(const std::string& role, int epoch, bool frozen = false, bool confirmed = true,
                        double lag = 0.05, bool link_up = true, int backlog = 0) {
  return "{\"room\":\"A\",\"role\":\"" + role + "\",\"epoch\":" + std::to_string(epoch) +
         ",\"writes_frozen\":" + (frozen ? "true" : "false") + ",\"confirmed\":" + (confirmed ? "true" : "false") +
         ",\"read_source\":\"local\",\"degrade_level\":0,\"replication\":{\"lag_seconds\":" + std::to_string(lag) +
         ",\"link_up\":" + (link_up ? "true" : "false") + ",\"offset_lag_bytes\":0,\"local_is_master\":" +
         (role == "primary" ? "true" : "false") + "},\"processor\":{\"running\":true,\"fenced\":false,\"paused\":false," +
         "\"lag_seconds\":0.0,\"delay_seconds\":0.02,\"applied\":5,\"backlog\":" + std::to_string(backlog) +
         ",\"backlog_sampled_at_ms\":1},\"cache\":{\"hot_rooms\":1}}";
}

struct Fixture {
  core::FakeClock clock;
  core::WebOptions options;
  StatusInputs in;
  core::Result<std::string> peer = std::string();
  std::unique_ptr<StatusBoard> board;

  Fixture() {
    options.status_history = 3;
    in.admin_status_json = AdminStatus("primary", 1);
    board = std::make_unique<StatusBoard>(
        "A", "B", options, [this] { return in; }, [this] { return peer; }, clock);
  }
  Obj Room() { return Parse(board->RoomJson()); }
  Obj Full() { return Parse(board->FullJson()); }
};

std::string PeerPart(const std::string& room, const std::string& role, bool confirmed = true) {
  return "{\"room\":\"" + room + "\",\"reachable\":true,\"role\":\"" + role + "\",\"epoch\":1,\"confirmed\":" +
         (confirmed ? "true" : "false") + ",\"problems\":[]}";
}

TEST(StatusBoardTest, RoomPartPicksFieldsByName) {
  Fixture f;
  f.in.admin_status_json = AdminStatus("primary", 3);
  f.board->SampleOnce();
  Obj r = f.Room();
  EXPECT_EQ(r->getValue<std::string>("room"), "A");
  EXPECT_EQ(r->getValue<std::string>("role"), "primary");
  EXPECT_EQ(r->getValue<int>("epoch"), 3);
  EXPECT_TRUE(r->getValue<bool>("reachable"));
  EXPECT_FALSE(r->getValue<bool>("writes_frozen"));
  EXPECT_TRUE(r->isNull("lease"));
  EXPECT_TRUE(r->isNull("connections"));
  EXPECT_TRUE(r->isNull("route"));
  EXPECT_EQ(r->getObject("processor")->getValue<int>("backlog"), 0);
  EXPECT_FALSE(r->has("cache")) << "only named fields are served";
  EXPECT_EQ(r->getArray("problems")->size(), 0u);
}

TEST(StatusBoardTest, UnknownAdminFieldsNeverLeak) {
  Fixture f;
  std::string s = AdminStatus("primary", 1);
  s.insert(1, "\"token\":\"s3cret\",\"replication_password\":\"hunter2\",");
  f.in.admin_status_json = s;
  f.board->SampleOnce();
  EXPECT_EQ(f.board->RoomJson().find("s3cret"), std::string::npos);
  EXPECT_EQ(f.board->RoomJson().find("hunter2"), std::string::npos);
  EXPECT_EQ(f.board->FullJson().find("s3cret"), std::string::npos);
}

// The lease section exactly as PrimaryLease::StatusJson writes it: the
// holder is an object (the leader key's value), "valid" is this room's own
// right to acknowledge.
std::string LeaseJson(bool held, bool valid, int64_t remaining_ms, const std::string& holder, int64_t epoch) {
  return "{\"enabled\":true,\"held\":" + std::string(held ? "true" : "false") + ",\"valid\":" + (valid ? "true" : "false") +
         ",\"remaining_ms\":" + std::to_string(remaining_ms) +
         ",\"ack_wait_ms\":0,\"renewal_age_ms\":120,\"renewal_rtt_ms\":2,\"ttl_s\":3,\"margin_ms\":500,\"renew_ms\":1000," +
         "\"auto_failover\":false,\"acks_refused\":0,\"etcd_reachable\":true,\"danmud\":\"A/host-7/4242/99\",\"holder\":" +
         (holder.empty() ? std::string("null")
                         : "{\"room\":\"" + holder + "\",\"epoch\":" + std::to_string(epoch) +
                               ",\"danmud\":\"" + holder + "/host-7/4242/99\",\"repl_offset\":77,\"at_ms\":1000}") +
         "}";
}

TEST(StatusBoardTest, LeaseHolderIsARoomAndEpochNotRawJson) {
  Fixture f;
  std::string s = AdminStatus("primary", 2);
  s.insert(1, "\"lease\":" + LeaseJson(true, true, 2300, "A", 2) + ",");
  f.in.admin_status_json = s;
  f.board->SampleOnce();
  Obj lease = f.Room()->getObject("lease");
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->getValue<std::string>("holder_room"), "A");
  EXPECT_EQ(lease->getValue<int64_t>("holder_epoch"), 2);
  EXPECT_TRUE(lease->getValue<bool>("held"));
  EXPECT_TRUE(lease->getValue<bool>("valid"));
  EXPECT_EQ(lease->getValue<int64_t>("remaining_ms"), 2300);
  EXPECT_FALSE(lease->has("holder"));
  const std::string j = f.board->RoomJson();
  EXPECT_EQ(j.find("host-7"), std::string::npos) << "the danmud id (host, pid) is not served";
  EXPECT_EQ(j.find("repl_offset"), std::string::npos);
  EXPECT_EQ(f.Room()->getArray("problems")->size(), 0u);
}

TEST(StatusBoardTest, SecondarySeesTheHolderWithoutHoldingIt) {
  Fixture f;
  std::string s = AdminStatus("secondary", 2);
  s.insert(1, "\"lease\":" + LeaseJson(false, false, 0, "B", 2) + ",");
  f.in.admin_status_json = s;
  f.board->SampleOnce();
  Obj lease = f.Room()->getObject("lease");
  EXPECT_EQ(lease->getValue<std::string>("holder_room"), "B");
  EXPECT_FALSE(lease->getValue<bool>("held"));
  EXPECT_FALSE(lease->getValue<bool>("valid")) << "a non-holder's own right to acknowledge";
  EXPECT_EQ(f.Room()->getArray("problems")->size(), 0u) << "a secondary without the key is normal";

  // No holder seen yet.
  s = AdminStatus("secondary", 2);
  s.insert(1, "\"lease\":" + LeaseJson(false, false, 0, "", 0) + ",");
  f.in.admin_status_json = s;
  f.board->SampleOnce();
  EXPECT_TRUE(f.Room()->getObject("lease")->isNull("holder_room"));
}

TEST(StatusBoardTest, PrimaryWithAnInvalidLeaseIsAProblem) {
  Fixture f;
  std::string s = AdminStatus("primary", 2);
  s.insert(1, "\"lease\":" + LeaseJson(true, false, 0, "A", 2) + ",");
  f.in.admin_status_json = s;
  f.board->SampleOnce();
  auto problems = f.Room()->getArray("problems");
  ASSERT_EQ(problems->size(), 1u);
  EXPECT_EQ(problems->getObject(0)->getValue<std::string>("runbook"), "monitoring/RUNBOOK.md#danmuleaselost");
}

TEST(StatusBoardTest, RatesFromCounterDeltas) {
  Fixture f;
  f.in.writes_total = 100;
  f.in.polls_total = 1000;
  f.board->SampleOnce();
  EXPECT_TRUE(f.Room()->getObject("rates")->isNull("writes_per_second")) << "one sample: no rate yet";
  f.clock.Advance(2000);
  f.in.writes_total = 120;
  f.in.polls_total = 1500;
  f.board->SampleOnce();
  Obj rates = f.Room()->getObject("rates");
  EXPECT_DOUBLE_EQ(rates->getValue<double>("writes_per_second"), 10.0);
  EXPECT_DOUBLE_EQ(rates->getValue<double>("polls_per_second"), 250.0);
  // A counter reset (restart) is not a negative rate.
  f.clock.Advance(1000);
  f.in.writes_total = 5;
  f.board->SampleOnce();
  EXPECT_DOUBLE_EQ(f.Room()->getObject("rates")->getValue<double>("writes_per_second"), 0.0);
}

TEST(StatusBoardTest, HistoryIsBoundedAndCarriesLagBacklogProbe) {
  Fixture f;  // status_history = 3
  for (int i = 0; i < 5; ++i) {
    f.in.admin_status_json = AdminStatus("primary", 1, false, true, 0.1 * i, true, 10 * i);
    f.in.probe_ran = true;
    f.in.probe.ok = i != 3;
    f.in.probe.failed_stage = i == 3 ? "replica" : "";
    f.in.probe.e2e_own_seconds = 0.2;
    f.in.probe.e2e_peer_seconds = 0.3;
    f.board->SampleOnce();
    f.clock.Advance(2000);
  }
  Obj h = f.Room()->getObject("history");
  ASSERT_EQ(h->getArray("t")->size(), 3u);
  EXPECT_EQ(h->getArray("backlog")->getElement<int>(0), 20);
  EXPECT_EQ(h->getArray("backlog")->getElement<int>(2), 40);
  EXPECT_NEAR(h->getArray("lag_seconds")->getElement<double>(2), 0.4, 1e-9);
  EXPECT_NEAR(h->getArray("probe_ms")->getElement<double>(0), 300.0, 1e-9) << "the slower of the two reads";
  EXPECT_TRUE(h->getArray("probe_ms")->isNull(1)) << "a failed probe has no latency";
}

TEST(StatusBoardTest, ProbePairsAndFailingStage) {
  Fixture f;
  f.in.probe_ran = true;
  f.in.probe.ok = false;
  f.in.probe.failed_stage = "replica";
  f.in.probe.e2e_own_seconds = 0.25;
  f.in.probe.e2e_peer_seconds = -1;
  f.board->SampleOnce();
  Obj p = f.Room()->getObject("probe");
  EXPECT_FALSE(p->getValue<bool>("ok"));
  EXPECT_EQ(p->getValue<std::string>("failed_stage"), "replica");
  auto pairs = p->getArray("pairs");
  ASSERT_EQ(pairs->size(), 2u);
  EXPECT_EQ(pairs->getObject(0)->getValue<std::string>("read_room"), "A");
  EXPECT_DOUBLE_EQ(pairs->getObject(0)->getValue<double>("seconds"), 0.25);
  EXPECT_EQ(pairs->getObject(1)->getValue<std::string>("read_room"), "B");
  EXPECT_TRUE(pairs->getObject(1)->isNull("seconds"));
  std::string problems = f.board->RoomJson();
  EXPECT_NE(problems.find("failed at stage replica"), std::string::npos);
  EXPECT_NE(problems.find("RUNBOOK.md#danmuprobefailing"), std::string::npos);
}

TEST(StatusBoardTest, DegradationWithScopeSourceExpiry) {
  Fixture f;
  core::DegradeSetting s;
  s.level = 2;
  s.source = "manual";
  s.reason = "final song";
  s.set_at_ms = 10;
  s.expires_at_ms = 600010;
  f.in.degrade["all"] = s;
  core::DegradeSetting off;
  off.level = 0;
  f.in.degrade["stream:x"] = off;
  f.in.degrade_level = 2;
  f.board->SampleOnce();
  Obj d = f.Room()->getObject("degrade");
  EXPECT_EQ(d->getValue<int>("level"), 2);
  auto settings = d->getArray("settings");
  ASSERT_EQ(settings->size(), 1u) << "level-0 entries are not settings in force";
  EXPECT_EQ(settings->getObject(0)->getValue<std::string>("scope"), "all");
  EXPECT_EQ(settings->getObject(0)->getValue<std::string>("source"), "manual");
  EXPECT_EQ(settings->getObject(0)->getValue<int64_t>("expires_at_ms"), 600010);
  EXPECT_NE(f.board->RoomJson().find("danmuctl degrade clear"), std::string::npos);
}

TEST(StatusBoardTest, EachProblemNamesItsFix) {
  Fixture f;
  f.in.admin_status_json = AdminStatus("primary", 1, /*frozen=*/true, /*confirmed=*/false);
  f.board->SampleOnce();
  auto problems = f.Room()->getArray("problems");
  ASSERT_EQ(problems->size(), 2u);
  for (size_t i = 0; i < problems->size(); ++i) {
    EXPECT_FALSE(problems->getObject(i)->getValue<std::string>("fix").empty());
    EXPECT_EQ(problems->getObject(i)->getValue<std::string>("runbook").rfind("monitoring/RUNBOOK.md#", 0), 0u);
  }
  EXPECT_NE(f.board->RoomJson().find("danmuctl unfreeze --room A"), std::string::npos);

  f.in.admin_status_json = AdminStatus("secondary", 1, false, true, 5.0, /*link_up=*/false, 5000);
  f.board->SampleOnce();
  const std::string j = f.board->RoomJson();
  EXPECT_NE(j.find("danmureplicalinkdown"), std::string::npos);
  EXPECT_NE(j.find("danmureplicationlaghigh"), std::string::npos);
  EXPECT_NE(j.find("danmukafkaconsumerlaggrowing"), std::string::npos);
}

TEST(StatusBoardTest, BothRoomsSortedByName) {
  Fixture f;
  f.peer = PeerPart("B", "secondary");
  f.board->SampleOnce();
  Obj full = f.Full();
  auto rooms = full->getArray("rooms");
  ASSERT_EQ(rooms->size(), 2u);
  EXPECT_EQ(rooms->getObject(0)->getValue<std::string>("room"), "A");
  EXPECT_EQ(rooms->getObject(1)->getValue<std::string>("room"), "B");
  EXPECT_EQ(rooms->getObject(1)->getValue<std::string>("role"), "secondary");
  EXPECT_EQ(full->getArray("problems")->size(), 0u);
}

TEST(StatusBoardTest, PeerUnreachableOrWrongIsAProblemNotACrash) {
  Fixture f;
  f.peer = core::Status(core::Code::kUnavailable, "connection refused");
  f.board->SampleOnce();
  Obj b = f.Full()->getArray("rooms")->getObject(1);
  EXPECT_EQ(b->getValue<std::string>("room"), "B");
  EXPECT_FALSE(b->getValue<bool>("reachable"));
  EXPECT_NE(f.board->FullJson().find("danmutargetdown"), std::string::npos);
  for (const std::string& bad : std::vector<std::string>{"not json", "[1,2]", "{\"room\":\"C\"}", std::string(100, '[')}) {
    f.peer = bad;
    f.board->SampleOnce();
    Obj p = f.Full()->getArray("rooms")->getObject(1);
    EXPECT_FALSE(p->getValue<bool>("reachable")) << bad;
    EXPECT_EQ(p->getValue<std::string>("room"), "B") << bad;
  }
}

TEST(StatusBoardTest, CrossRoomPrimaryProblems) {
  Fixture f;
  f.peer = PeerPart("B", "primary");
  f.board->SampleOnce();
  EXPECT_NE(f.board->FullJson().find("two active primaries"), std::string::npos);
  f.in.admin_status_json = AdminStatus("secondary", 2);
  f.peer = PeerPart("B", "primary", /*confirmed=*/false);
  f.board->SampleOnce();
  EXPECT_NE(f.board->FullJson().find("no active primary"), std::string::npos);
  f.peer = PeerPart("B", "primary");
  f.board->SampleOnce();
  EXPECT_EQ(f.Full()->getArray("problems")->size(), 0u);
}

TEST(StatusBoardTest, OwnStatusUnreadable) {
  Fixture f;
  f.in.admin_status_json = "garbage";
  f.board->SampleOnce();
  Obj r = f.Room();
  EXPECT_FALSE(r->getValue<bool>("reachable"));
  EXPECT_EQ(r->getArray("problems")->size(), 1u);
}

TEST(StatusBoardTest, HandleScopes) {
  Fixture f;
  f.peer = PeerPart("B", "secondary");
  f.board->SampleOnce();
  core::HttpRequest req;
  req.method = "GET";
  req.path = "/v1/status";
  EXPECT_NE(f.board->Handle(req).body.find("\"rooms\""), std::string::npos);
  EXPECT_EQ(f.board->Handle(req).headers.at("Cache-Control"), "no-store");
  req.query["scope"] = "room";
  EXPECT_EQ(f.board->Handle(req).body.find("\"rooms\""), std::string::npos);
  EXPECT_EQ(Parse(f.board->Handle(req).body)->getValue<std::string>("room"), "A");
  req.query["scope"] = "everything";
  core::HttpResponse bad = f.board->Handle(req);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("invalid_argument"), std::string::npos);
}

TEST(StatusBoardTest, ConnectionsAndRouteWhenPresent) {
  Fixture f;
  f.in.connections = std::map<std::string, int64_t>{{"ws", 12}, {"sse", 3}};
  f.in.route = std::map<std::string, double>{{"percent", 10}};
  f.board->SampleOnce();
  Obj r = f.Room();
  EXPECT_EQ(r->getObject("connections")->getValue<int>("ws"), 12);
  EXPECT_EQ(r->getObject("route")->getValue<int>("percent"), 10);
}

// The admin status's push and edge sections: polling connections are the
// public port's open connections that are not long ones; the push switches
// are passed on.
TEST(StatusBoardTest, ConnectionsByTransportFromThePushSection) {
  Fixture f;
  std::string s = AdminStatus("primary", 1);
  s.insert(1, "\"edge\":{\"connections\":20,\"requests_in_flight\":1},"
              "\"push\":{\"enabled\":true,\"poll_only\":false,\"connections\":15,\"broadcast_rooms\":0},");
  f.in.admin_status_json = s;
  f.in.connections = std::map<std::string, int64_t>{{"ws", 12}, {"sse", 3}};
  f.board->SampleOnce();
  Obj c = f.Room()->getObject("connections");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->getValue<int>("ws"), 12);
  EXPECT_EQ(c->getValue<int>("sse"), 3);
  EXPECT_EQ(c->getValue<int>("http"), 5);
  Obj push = f.Room()->getObject("push");
  ASSERT_TRUE(push);
  EXPECT_TRUE(push->getValue<bool>("enabled"));
  EXPECT_FALSE(push->getValue<bool>("poll_only"));

  // No push layer here: only the public port's connections, push disabled.
  s = AdminStatus("primary", 1);
  s.insert(1, "\"edge\":{\"connections\":4},\"push\":{\"enabled\":false,\"poll_only\":false,\"connections\":-1},");
  f.in.admin_status_json = s;
  f.in.connections.reset();
  f.board->SampleOnce();
  c = f.Room()->getObject("connections");
  EXPECT_EQ(c->getValue<int>("http"), 4);
  EXPECT_FALSE(c->has("ws"));
  EXPECT_FALSE(f.Room()->getObject("push")->getValue<bool>("enabled"));
}

}  // namespace
}  // namespace danmu::monitoring
