// The routing service against the real stack: the rule set in the stack's
// etcd is shared by both rooms, changes go through danmuctl, frontends
// register under leases and leave the lists when they drain (SIGTERM) or die
// (kill -9, after routing.edge_ttl_s), and bad input gets a 4xx with a JSON
// error.
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <signal.h>

#include <fstream>
#include <sstream>
#include <string>

#include "tests/integration/stack_env.h"

namespace danmu {
namespace {

using testing::Env;
using testing::WaitFor;

Poco::JSON::Object::Ptr Json(const std::string& body) {
  try {
    Poco::JSON::Parser p;
    return p.parse(body).extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception&) {
    return nullptr;
  }
}

// The rule set a room's router serves: {"rules": {...}, "edges": [...]}.
Poco::JSON::Object::Ptr Shown(const char* admin_env) {
  auto r = testing::Get(Env(admin_env) + "/v1/admin/route");
  if (!r.ok() || r->status != 200) return nullptr;
  return Json(r->body);
}

int64_t Version(const char* admin_env) {
  auto o = Shown(admin_env);
  return o ? o->getObject("rules")->getValue<int64_t>("version") : -1;
}

int Percent(const char* admin_env) {
  auto o = Shown(admin_env);
  return o ? o->getObject("rules")->getValue<int>("percent") : -1;
}

std::string Ctl(const std::string& args, int* rc) {
  std::string out;
  *rc = testing::RunCapture(testing::Danmuctl(args) + " 2>&1", &out);
  return out;
}

TEST(RoutingTest, AChangeThroughDanmuctlIsServedByBothRoomsAndABadOneChangesNothing) {
  ASSERT_TRUE(WaitFor([] { return Version("DANMU_A_ADMIN") >= 0 && Version("DANMU_B_ADMIN") >= 0; }, 20000))
      << "GET /v1/admin/route did not answer in both rooms\n" << testing::MergedLogs();
  int rc = 0;
  std::string out = Ctl("route set-percent 37", &rc);
  ASSERT_EQ(rc, 0) << out;
  const int64_t v = Version("DANMU_A_ADMIN") > Version("DANMU_B_ADMIN") ? Version("DANMU_A_ADMIN") : Version("DANMU_B_ADMIN");
  // Both routers serve it within the refresh bound (routing.rules_refresh_ms, 1 s, plus slack).
  ASSERT_TRUE(WaitFor([&] { return Percent("DANMU_A_ADMIN") == 37 && Percent("DANMU_B_ADMIN") == 37; }, 10000))
      << "A=" << Percent("DANMU_A_ADMIN") << " B=" << Percent("DANMU_B_ADMIN");
  for (const char* http : {"DANMU_A_HTTP", "DANMU_B_HTTP"}) {
    auto r = testing::Get(Env(http) + "/v1/route?uid=probe-user&room=r1");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
    auto o = Json(r->body);
    ASSERT_TRUE(o);
    EXPECT_GE(o->getValue<int64_t>("rules_version"), v) << http;
  }
  // Refused before anything is sent (danmuctl checks with the API's parser) ...
  for (const char* bad : {"route set-percent 101", "route deny --app-version 5.2.9-5.0.0", "route allow --email x",
                          "route kill-switch maybe"}) {
    out = Ctl(bad, &rc);
    EXPECT_EQ(rc, 2) << bad << ": " << out;
  }
  // ... and by the admin API itself.
  auto direct = testing::AdminPost(Env("DANMU_B_ADMIN") + "/v1/admin/route", R"({"op":"set_percent","percent":500})");
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(direct->status, 400) << direct->body;
  auto unauth = testing::AdminPost(Env("DANMU_B_ADMIN") + "/v1/admin/route", R"({"op":"set_percent","percent":5})", false);
  ASSERT_TRUE(unauth.ok());
  EXPECT_EQ(unauth->status, 401);
  EXPECT_EQ(Percent("DANMU_A_ADMIN"), 37);
  EXPECT_EQ(Percent("DANMU_B_ADMIN"), 37);
  out = Ctl("route set-percent 0", &rc);
  ASSERT_EQ(rc, 0) << out;
}


// The edges of room `room` in a router's list (by the records' room field).
int EdgesOf(const char* admin_env, const std::string& room) {
  auto o = Shown(admin_env);
  if (!o) return -1;
  auto edges = o->getArray("edges");
  int n = 0;
  for (size_t i = 0; i < edges->size(); ++i) {
    if (edges->getObject(i)->getValue<std::string>("room") == room) ++n;
  }
  return n;
}

std::string LogOf(const std::string& name) {
  std::ifstream in(Env("DANMU_RUN_DIR") + "/logs/" + name + ".log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

TEST(RoutingTest, GetRouteAnswersBadQueriesWithAJsonError) {
  for (const char* http : {"DANMU_A_HTTP", "DANMU_B_HTTP"}) {
    auto ok = testing::Get(Env(http) + "/v1/route?uid=u1&room=r1&platform=web&app_version=1.2.3");
    ASSERT_TRUE(ok.ok());
    ASSERT_EQ(ok->status, 200) << ok->body;
    auto o = Json(ok->body);
    ASSERT_TRUE(o) << ok->body;
    // No push layer is served by danmud yet: whatever the rules say, every
    // client is told to poll (never handed a long connection that fails).
    EXPECT_EQ(o->getValue<std::string>("transport"), "poll") << ok->body;
    for (const std::string& bad : {"/v1/route?uid=u1&room=r1&app_version=" + std::string(41, '1'),
                                  std::string("/v1/route?uid=u1&room=r1&platform=WEB%21"),
                                  std::string("/v1/route?room=r1&uid=bad%20uid"), std::string("/v1/route?uid=u1&room=bad%2Froom")}) {
      auto r = testing::Get(Env(http) + bad);
      ASSERT_TRUE(r.ok());
      EXPECT_GE(r->status, 400) << bad << " -> " << r->body;
      EXPECT_LT(r->status, 500) << bad << " -> " << r->body;
      auto e = Json(r->body);
      ASSERT_TRUE(e && e->has("error")) << bad << " -> " << r->body;
    }
    auto post = testing::Post(Env(http) + "/v1/route", "{}");
    ASSERT_TRUE(post.ok());
    EXPECT_EQ(post->status, 405) << post->body;
  }
}

TEST(RoutingTest, BothFrontendsRegisterAndLeaveOnDrainOrDeath) {
  ASSERT_TRUE(WaitFor([] { return EdgesOf("DANMU_A_ADMIN", "A") == 1 && EdgesOf("DANMU_A_ADMIN", "B") == 1; }, 20000))
      << "room A's router lists both frontends: " << (Shown("DANMU_A_ADMIN") ? "" : "no answer");
  ASSERT_TRUE(WaitFor([] { return EdgesOf("DANMU_B_ADMIN", "A") == 1 && EdgesOf("DANMU_B_ADMIN", "B") == 1; }, 20000));

  // SIGTERM: room B's danmud revokes its registration before it stops.
  const size_t drained_before = Count(LogOf("danmud-b"), "event=routing_deregistered");
  int pid = testing::PidOf("danmud-b");
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  ASSERT_TRUE(WaitFor([&] { return ::kill(pid, 0) != 0; }, 30000)) << "danmud-b did not stop on SIGTERM";
  EXPECT_EQ(Count(LogOf("danmud-b"), "event=routing_deregistered"), drained_before + 1)
      << "the drain revoked the registration (not left to expire)";
  EXPECT_TRUE(WaitFor([] { return EdgesOf("DANMU_A_ADMIN", "B") == 0; }, 10000)) << "room A's router still lists B";
  testing::StartDanmud("danmud-b");
  ASSERT_TRUE(WaitFor([] { return EdgesOf("DANMU_A_ADMIN", "B") == 1; }, 30000)) << "the restarted B registered again";

  // kill -9: no drain; the registration's lease (routing.edge_ttl_s: 3 in
  // the stack) expires and the routers drop it.
  testing::KillHard("danmud-b");
  EXPECT_TRUE(WaitFor([] { return EdgesOf("DANMU_A_ADMIN", "B") == 0; }, 30000))
      << "a killed frontend stayed in room A's list past its lease";
  // While B is gone, room A's router hands out room A only.
  auto r = testing::Get(Env("DANMU_A_HTTP") + "/v1/route?uid=u2&room=r1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->body.find(Env("DANMU_B_HTTP")), std::string::npos) << r->body;
  testing::StartDanmud("danmud-b");
  ASSERT_TRUE(WaitFor([] { return EdgesOf("DANMU_A_ADMIN", "B") == 1; }, 30000));
  ASSERT_TRUE(WaitFor([] {
    auto s = testing::Get(Env("DANMU_B_ADMIN") + "/v1/admin/status");
    return s.ok() && s->status == 200 && s->body.find("\"link_up\":true") != std::string::npos;
  }, 30000)) << "room B back as a replica";
}

}  // namespace
}  // namespace danmu
