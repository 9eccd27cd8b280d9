// The routing service against the real stack: the rule set in the stack's
// etcd is shared by both rooms, changes go through danmuctl, frontends
// register under leases and leave the lists when they drain (SIGTERM) or die
// (kill -9, after routing.edge_ttl_s), and bad input gets a 4xx with a JSON
// error.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "tests/integration/json_object.h"
#include "tests/integration/stack_env.h"

namespace danmu {
namespace {

using testing::Env;
using testing::WaitFor;

Poco::JSON::Object::Ptr Json(const std::string& body) { return testing::JsonObject(body); }

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

// A 4xx answer with the JSON error shape {"error":{"code","message"}}; an
// empty string when it is one, else what is wrong.
std::string NotA4xxJsonError(const core::Result<core::HttpResponse>& r) {
  if (!r.ok()) return "no answer: " + r.status().message();
  if (r->status < 400 || r->status >= 500) return "status " + std::to_string(r->status) + ": " + r->body;
  auto o = Json(r->body);
  if (!o || !o->has("error")) return "no JSON error: " + r->body;
  auto e = o->getObject("error");
  if (!e || !e->has("code") || !e->has("message") || e->getValue<std::string>("code").empty() ||
      e->getValue<std::string>("message").empty()) {
    return "error without code and message: " + r->body;
  }
  return "";
}

// The `port` of an http://host:port URL.
int PortOf(const std::string& url) { return std::stoi(url.substr(url.rfind(':') + 1)); }

// `n` TCP connections to 127.0.0.1:`port`, opened and held (no request sent).
std::vector<int> OpenConnections(int port, int n) {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      fds.push_back(fd);
    } else if (fd >= 0) {
      ::close(fd);
    }
  }
  return fds;
}

// The WebSocket URL of a live room on the edge at http base URL `base`.
std::string WsUrl(const std::string& base, const std::string& live_room) {
  return "ws://" + base.substr(std::string("http://").size()) + "/v1/rooms/" + live_room + "/ws";
}

// A WebSocket handshake to 127.0.0.1:`port`: the answer's status code (-1:
// no answer); with `held`, the open socket of a 101 is returned there.
int Handshake(int port, const std::string& live_room, const std::string& uid, int* held = nullptr) {
  std::vector<int> fds = OpenConnections(port, 1);
  if (fds.empty()) return -1;
  const int fd = fds[0];
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string req = "GET /v1/rooms/" + live_room + "/ws?uid=" + uid + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n";
  std::string got;
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
    char buf[1024];
    while (got.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
  }
  const int status = got.rfind("HTTP/1.1 ", 0) == 0 && got.size() >= 12 ? std::atoi(got.substr(9, 3).c_str()) : -1;
  if (held && status == 101) {
    *held = fd;
  } else {
    ::close(fd);
  }
  return status;
}
int HandshakeStatus(int port, const std::string& live_room, const std::string& uid) {
  return Handshake(port, live_room, uid);
}

// The connections (`field`: "connections", all of them, or
// "long_connections") that room `room`'s registration reports in a router's
// list; -1 when it is not listed.
int64_t ConnectionsOf(const char* admin_env, const std::string& room, const std::string& field = "connections") {
  auto o = Shown(admin_env);
  if (!o) return -1;
  auto edges = o->getArray("edges");
  for (size_t i = 0; i < edges->size(); ++i) {
    auto e = edges->getObject(i);
    if (e->getValue<std::string>("room") == room) return e->getValue<int64_t>(field);
  }
  return -1;
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
    // Outside the 0 % rollout: poll.
    EXPECT_EQ(o->getValue<std::string>("transport"), "poll") << ok->body;
    EXPECT_EQ(o->getValue<std::string>("reason"), "percent_out") << ok->body;
    for (const std::string& bad : {"/v1/route?uid=u1&room=r1&app_version=" + std::string(41, '1'),
                                  std::string("/v1/route?uid=u1&room=r1&app_version=5.2%0A"),
                                  std::string("/v1/route?uid=u1&room=r1&platform=WEB%21"),
                                  std::string("/v1/route?uid=u1&room=r1&device=") + std::string(129, 'd'),
                                  std::string("/v1/route?uid=u1&room=r1&device=a%2Fb"),
                                  std::string("/v1/route?room=r1&uid=bad%20uid"), std::string("/v1/route?uid=u1&room=bad%2Froom")}) {
      auto r = testing::Get(Env(http) + bad);
      EXPECT_EQ(NotA4xxJsonError(r), "") << http << bad;
      if (r.ok()) {
        EXPECT_EQ(r->status, 400) << bad << " -> " << r->body;
      }
    }
    auto post = testing::Post(Env(http) + "/v1/route", "{}");
    EXPECT_EQ(NotA4xxJsonError(post), "") << "POST /v1/route";
    ASSERT_TRUE(post.ok());
    EXPECT_EQ(post->status, 405) << post->body;
  }
}

// POST /v1/admin/route refuses every malformed change with a 400 and a JSON
// error, changes nothing (same version, same rules in both rooms), and counts
// each refusal.
TEST(RoutingTest, AdminRouteRefusesBadChangesAndChangesNothing) {
  ASSERT_TRUE(WaitFor([] { return Version("DANMU_A_ADMIN") >= 0 && Version("DANMU_B_ADMIN") >= 0; }, 20000))
      << "GET /v1/admin/route did not answer in both rooms\n" << testing::MergedLogs();
  const int64_t version = Version("DANMU_A_ADMIN");
  ASSERT_TRUE(WaitFor([&] { return Version("DANMU_B_ADMIN") == version; }, 10000)) << "the rooms serve different versions";
  auto shown = [](const char* admin) {
    auto o = Shown(admin);
    if (!o) return std::string("unreachable");
    std::ostringstream out;
    o->getObject("rules")->stringify(out);
    return out.str();
  };
  const std::string before = shown("DANMU_A_ADMIN");
  const std::string invalid = "danmu_route_rule_changes_total{room=\"A\",result=\"invalid\"}";
  const double invalid_before = testing::MetricSample("DANMU_A_ADMIN", invalid);
  const std::vector<std::string> bad = {
      "not json",
      "[]",
      "{}",
      R"({"op":"fly"})",
      R"({"op":"set_percent"})",
      R"({"op":"set_percent","percent":101})",
      R"({"op":"set_percent","percent":-1})",
      R"({"op":"set_percent","percent":"10"})",
      R"({"op":"set_percent","percent":10,"extra":1})",
      R"({"op":"deny","app_version":"5.2.9-5.0.0"})",
      R"({"op":"deny","app_version":"five"})",
      R"({"op":"allow","email":"x@y"})",
      R"({"op":"allow","uid":"a","device":"b"})",
      R"({"op":"allow","uid":"bad uid"})",
      R"({"op":"allow","platform":"WEB"})",
      R"({"op":"kill_switch","on":"maybe"})",
      R"({"op":"set_transport","transport":"carrier-pigeon"})",
      R"({"op":"set_poll_at_level","level":4})",
      R"({"op":"remove","list":"grey","uid":"a"})",
      R"({"op":"clear","list":"maybe"})",
  };
  for (const std::string& body : bad) {
    auto r = testing::AdminPost(Env("DANMU_A_ADMIN") + "/v1/admin/route", body);
    EXPECT_EQ(NotA4xxJsonError(r), "") << body;
    if (r.ok()) {
      EXPECT_EQ(r->status, 400) << body << " -> " << r->body;
    }
  }
  EXPECT_EQ(testing::MetricSample("DANMU_A_ADMIN", invalid), invalid_before + static_cast<double>(bad.size()))
      << "each refused change is counted";
  auto unauth = testing::AdminPost(Env("DANMU_A_ADMIN") + "/v1/admin/route", R"({"op":"set_percent","percent":5})", false);
  EXPECT_EQ(NotA4xxJsonError(unauth), "") << "without a token";
  if (unauth.ok()) {
    EXPECT_EQ(unauth->status, 401);
  }
  auto put = testing::Get(Env("DANMU_A_ADMIN") + "/v1/admin/route/extra");
  EXPECT_EQ(NotA4xxJsonError(put), "") << "GET /v1/admin/route/extra";
  // Nothing changed, in either room (B reloads within routing.rules_refresh_ms;
  // a refused change never reaches the store, so B's rules stay A's).
  EXPECT_EQ(Version("DANMU_A_ADMIN"), version);
  EXPECT_EQ(shown("DANMU_A_ADMIN"), before);
  EXPECT_EQ(Version("DANMU_B_ADMIN"), version);
  EXPECT_EQ(shown("DANMU_B_ADMIN"), before);
}

// The router hands out registered edges, this room's first, and counts its
// decisions and the fallbacks clients report.
TEST(RoutingTest, RouteHandsOutRegisteredEdgesLocalRoomFirstAndCountsFallbacks) {
  ASSERT_TRUE(WaitFor([] { return EdgesOf("DANMU_A_ADMIN", "A") == 1 && EdgesOf("DANMU_A_ADMIN", "B") == 1 &&
                                  EdgesOf("DANMU_B_ADMIN", "A") == 1 && EdgesOf("DANMU_B_ADMIN", "B") == 1; }, 20000))
      << "both routers list both frontends\n" << testing::MergedLogs();
  for (auto [http, own, other] : {std::tuple{"DANMU_A_HTTP", "DANMU_A_HTTP", "DANMU_B_HTTP"},
                                  std::tuple{"DANMU_B_HTTP", "DANMU_B_HTTP", "DANMU_A_HTTP"}}) {
    auto r = testing::Get(Env(http) + "/v1/route?uid=u7&room=r7");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
    auto o = Json(r->body);
    ASSERT_TRUE(o) << r->body;
    auto endpoints = o->getArray("endpoints");
    ASSERT_EQ(endpoints->size(), 2u) << r->body;
    EXPECT_EQ(endpoints->getElement<std::string>(0), Env(own) + "/v1/rooms/r7/messages") << r->body;
    EXPECT_EQ(endpoints->getElement<std::string>(1), Env(other) + "/v1/rooms/r7/messages") << r->body;
    EXPECT_EQ(o->getValue<std::string>("poll_url"), Env(own) + "/v1/rooms/r7/messages") << r->body;
    EXPECT_GT(o->getValue<int64_t>("retry_after_ms"), 0) << r->body;
  }
  // An allowlisted uid gets a long connection on the registered edges (the
  // push layer serves WebSocket and SSE), its own room's edge first, and the
  // URL handed out takes a WebSocket handshake; the others are outside the
  // 0 % rollout (percent_out).
  auto allow = testing::AdminPost(Env("DANMU_A_ADMIN") + "/v1/admin/route", R"({"op":"allow","uid":"routed-in"})");
  ASSERT_TRUE(allow.ok());
  ASSERT_EQ(allow->status, 200) << allow->body;
  const int64_t v = Version("DANMU_A_ADMIN");
  ASSERT_TRUE(WaitFor([&] { return Version("DANMU_B_ADMIN") >= v; }, 10000)) << "room B did not load the allowlist";
  const std::string fallbacks = "danmu_route_client_fallbacks_total{room=\"B\",reason=\"connect_failed\"}";
  const std::string other = "danmu_route_client_fallbacks_total{room=\"B\",reason=\"other\"}";
  const std::string ws = "danmu_route_decisions_total{room=\"B\",reason=\"allow_uid\",transport=\"ws\"}";
  const std::string out = "danmu_route_decisions_total{room=\"B\",reason=\"percent_out\",transport=\"poll\"}";
  const double f0 = testing::MetricSample("DANMU_B_ADMIN", fallbacks);
  const double o0 = testing::MetricSample("DANMU_B_ADMIN", other);
  const double w0 = testing::MetricSample("DANMU_B_ADMIN", ws);
  const double p0 = testing::MetricSample("DANMU_B_ADMIN", out);
  ASSERT_GE(f0, 0) << "room B's metrics unreachable";
  for (auto [q, transport, reason] : {std::tuple{"uid=routed-in&fallback=connect_failed", "ws", "allow_uid"},
                                      std::tuple{"device=d8&fallback=connect_failed", "poll", "percent_out"},
                                      std::tuple{"uid=u9&fallback=made-up", "poll", "percent_out"}}) {
    auto r = testing::Get(Env("DANMU_B_HTTP") + "/v1/route?room=r7&" + q);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << q << " -> " << r->body;
    auto o = Json(r->body);
    ASSERT_TRUE(o) << r->body;
    EXPECT_EQ(o->getValue<std::string>("transport"), transport) << q << " -> " << r->body;
    EXPECT_EQ(o->getValue<std::string>("reason"), reason) << q << " -> " << r->body;
    EXPECT_GE(o->getValue<int64_t>("rules_version"), v) << r->body;
    EXPECT_EQ(o->getValue<std::string>("poll_url"), Env("DANMU_B_HTTP") + "/v1/rooms/r7/messages") << r->body;
    if (std::string(transport) == "ws") {
      auto endpoints = o->getArray("endpoints");
      ASSERT_EQ(endpoints->size(), 2u) << r->body;
      EXPECT_EQ(endpoints->getElement<std::string>(0), WsUrl(Env("DANMU_B_HTTP"), "r7")) << r->body;
      EXPECT_EQ(endpoints->getElement<std::string>(1), WsUrl(Env("DANMU_A_HTTP"), "r7")) << r->body;
      EXPECT_EQ(HandshakeStatus(PortOf(Env("DANMU_B_HTTP")), "r7", "routed-in"), 101)
          << "the handed-out WebSocket URL takes a handshake";
    }
  }
  EXPECT_EQ(testing::MetricSample("DANMU_B_ADMIN", fallbacks), f0 + 2);
  EXPECT_EQ(testing::MetricSample("DANMU_B_ADMIN", other), o0 + 1) << "an unknown reason counts as other";
  EXPECT_EQ(testing::MetricSample("DANMU_B_ADMIN", ws), w0 + 1);
  EXPECT_EQ(testing::MetricSample("DANMU_B_ADMIN", out), p0 + 2);

  // The rule set's transport: SSE endpoints.
  auto sse = testing::AdminPost(Env("DANMU_A_ADMIN") + "/v1/admin/route", R"({"op":"set_transport","transport":"sse"})");
  ASSERT_TRUE(sse.ok());
  ASSERT_EQ(sse->status, 200) << sse->body;
  const int64_t v_sse = Version("DANMU_A_ADMIN");
  ASSERT_TRUE(WaitFor([&] { return Version("DANMU_B_ADMIN") >= v_sse; }, 10000)) << "room B did not load transport sse";
  {
    auto r = testing::Get(Env("DANMU_B_HTTP") + "/v1/route?room=r7&uid=routed-in");
    ASSERT_TRUE(r.ok());
    auto o = Json(r->body);
    ASSERT_TRUE(o) << r->body;
    EXPECT_EQ(o->getValue<std::string>("transport"), "sse") << r->body;
    EXPECT_EQ(o->getArray("endpoints")->getElement<std::string>(0), Env("DANMU_B_HTTP") + "/v1/rooms/r7/events")
        << r->body;
  }

  // The operator's "move to polling" switch of the push layer (fleet-wide):
  // the router stops handing out long connections (reason degraded).
  std::string ctl;
  ASSERT_EQ(testing::RunCapture(testing::Danmuctl("push poll-only on --for 5m --reason routing_test") + " 2>&1", &ctl), 0)
      << ctl;
  struct Off {
    ~Off() {
      std::string o;
      testing::RunCapture(testing::Danmuctl("push poll-only off") + " 2>&1", &o);
    }
  } off;
  auto reason_of = [](const char* http) {
    auto r = testing::Get(Env(http) + "/v1/route?room=r7&uid=routed-in");
    auto o = r.ok() && r->status == 200 ? Json(r->body) : nullptr;
    return o ? o->getValue<std::string>("transport") + "/" + o->getValue<std::string>("reason") : std::string("no answer");
  };
  EXPECT_TRUE(WaitFor([&] { return reason_of("DANMU_A_HTTP") == "poll/degraded" && reason_of("DANMU_B_HTTP") == "poll/degraded"; },
                      15000))
      << "with poll-only on: A " << reason_of("DANMU_A_HTTP") << ", B " << reason_of("DANMU_B_HTTP");
  // ...and every registration says its edge serves no long connections, so
  // that no router anywhere hands one out.
  auto push_fields = [] {
    auto r = testing::Get(Env("DANMU_A_ADMIN") + "/v1/admin/route");
    std::string b = r.ok() ? r->body : "";
    int on = 0, off = 0;
    for (size_t p = b.find("\"push\":"); p != std::string::npos; p = b.find("\"push\":", p + 7)) {
      (b.compare(p + 7, 4, "true") == 0 ? on : off)++;
    }
    return std::to_string(on) + " on, " + std::to_string(off) + " off";
  };
  EXPECT_TRUE(WaitFor([&] { return push_fields() == "0 on, 2 off"; }, 15000)) << push_fields();
  ASSERT_EQ(testing::RunCapture(testing::Danmuctl("push poll-only off") + " 2>&1", &ctl), 0) << ctl;
  EXPECT_TRUE(WaitFor([&] { return push_fields() == "2 on, 0 off"; }, 15000)) << push_fields();
  EXPECT_TRUE(WaitFor([&] { return reason_of("DANMU_B_HTTP") == "sse/allow_uid"; }, 15000))
      << "with poll-only off: B " << reason_of("DANMU_B_HTTP");

  for (const char* body : {R"({"op":"clear"})", R"({"op":"set_transport","transport":"ws"})"}) {
    auto r = testing::AdminPost(Env("DANMU_A_ADMIN") + "/v1/admin/route", body);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << body << " -> " << r->body;
  }
}

// Registrations carry the open connections of the edge (HTTP and long ones
// as edge/connection_limits.h counts them), what routers balance on.
TEST(RoutingTest, RegistrationsCountTheEdgesOpenConnections) {
  ASSERT_TRUE(WaitFor([] { return ConnectionsOf("DANMU_A_ADMIN", "B") >= 0; }, 20000))
      << "room A's router does not list room B";
  const int64_t before = ConnectionsOf("DANMU_A_ADMIN", "B");
  constexpr int kHeld = 40;
  std::vector<int> fds = OpenConnections(PortOf(Env("DANMU_B_HTTP")), kHeld);
  ASSERT_EQ(fds.size(), static_cast<size_t>(kHeld)) << "could not open the connections";
  // Within routing.register_interval_ms + edge_refresh_ms (1 s + 1 s in the stack).
  const bool seen = WaitFor([&] { return ConnectionsOf("DANMU_A_ADMIN", "B") >= before + kHeld; }, 15000);
  const int64_t held = ConnectionsOf("DANMU_A_ADMIN", "B");
  for (int fd : fds) ::close(fd);
  ASSERT_TRUE(seen) << "room B's registration reports " << held << " connections, expected >= " << before + kHeld;
  EXPECT_TRUE(WaitFor([&] { return ConnectionsOf("DANMU_A_ADMIN", "B") < before + kHeld; }, 15000))
      << "closed connections still counted: " << ConnectionsOf("DANMU_A_ADMIN", "B");

  // Long connections (WebSocket, the push layer) are reported apart too.
  const int64_t long_before = ConnectionsOf("DANMU_A_ADMIN", "B", "long_connections");
  ASSERT_GE(long_before, 0);
  constexpr int kWs = 5;
  std::vector<int> ws;
  for (int i = 0; i < kWs; ++i) {
    int fd = -1;
    const int status = Handshake(PortOf(Env("DANMU_B_HTTP")), "routecount", "rc" + std::to_string(i), &fd);
    if (fd >= 0) ws.push_back(fd);
    EXPECT_EQ(status, 101) << "WebSocket " << i;
  }
  const bool long_seen = WaitFor([&] {
    return ConnectionsOf("DANMU_A_ADMIN", "B", "long_connections") >= long_before + kWs &&
           ConnectionsOf("DANMU_A_ADMIN", "B") >= long_before + kWs;
  }, 15000);
  const int64_t long_held = ConnectionsOf("DANMU_A_ADMIN", "B", "long_connections");
  for (int fd : ws) ::close(fd);
  EXPECT_TRUE(long_seen) << "room B's registration reports " << long_held << " long connections, expected >= "
                         << long_before + kWs;
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

// etcd unreachable (all three members stopped with SIGSTOP: requests hang
// until the client's timeout, as behind a partition): both routers keep the
// last rule set and the last list of edges, keep answering GET /v1/route
// from them, and say that they are stale (admin route, danmuctl status, the
// metric); a change cannot be stored and changes nothing. Once etcd is back
// they are fresh again, and the lease lets the primary acknowledge again.
TEST(RoutingTest, UnreachableEtcdKeepsTheLastRulesAndSaysSo) {
  int rc = 0;
  std::string out = Ctl("route set-percent 100", &rc);
  ASSERT_EQ(rc, 0) << out;
  struct Percent0 {
    ~Percent0() {
      int r = 0;
      Ctl("route set-percent 0", &r);
    }
  } percent0;
  ASSERT_TRUE(WaitFor([&] {
    return Percent("DANMU_A_ADMIN") == 100 && Percent("DANMU_B_ADMIN") == 100 &&
           Version("DANMU_A_ADMIN") == Version("DANMU_B_ADMIN");
  }, 10000)) << "both routers serve the same rule set";
  const int64_t version = Version("DANMU_A_ADMIN");

  std::vector<int> members;
  for (const char* name : {"etcd-a", "etcd-b", "etcd-w"}) {
    const int pid = testing::PidOf(name);
    ASSERT_GT(pid, 0) << name;
    members.push_back(pid);
  }
  struct Cont {
    std::vector<int> pids;
    ~Cont() {
      for (int p : pids) ::kill(p, SIGCONT);
    }
  } cont{members};
  for (int p : members) ASSERT_EQ(::kill(p, SIGSTOP), 0);

  auto stale = [](const char* admin_env) {
    auto o = Shown(admin_env);
    return o && o->getValue<bool>("stale") && o->getValue<bool>("directory_stale");
  };
  // Bound: a refresh round (1 s) whose requests time out on each of the
  // three members (1 s each), with slack for a loaded machine.
  ASSERT_TRUE(WaitFor([&] { return stale("DANMU_A_ADMIN") && stale("DANMU_B_ADMIN"); }, 30000))
      << "the routers did not say their rules and edges are stale";
  for (const char* admin : {"DANMU_A_ADMIN", "DANMU_B_ADMIN"}) {
    EXPECT_EQ(Version(admin), version) << admin << " kept the last rule set";
    EXPECT_EQ(Percent(admin), 100) << admin;
    const char* room = std::string(admin) == "DANMU_A_ADMIN" ? "A" : "B";
    EXPECT_EQ(testing::MetricSample(admin, std::string("danmu_route_rules_stale{room=\"") + room + "\"}"), 1) << admin;
  }
  for (const char* http : {"DANMU_A_HTTP", "DANMU_B_HTTP"}) {
    auto r = testing::Get(Env(http) + "/v1/route?uid=partitioned&room=r1");
    ASSERT_TRUE(r.ok()) << http;
    ASSERT_EQ(r->status, 200) << r->body;
    auto o = Json(r->body);
    ASSERT_TRUE(o);
    EXPECT_EQ(o->getValue<int64_t>("rules_version"), version) << http;
    EXPECT_EQ(o->getValue<std::string>("transport"), "ws") << http << ": decided by the kept rules (100 %)";
    EXPECT_GE(o->getArray("endpoints")->size(), 1u) << http << ": from the kept list of edges: " << r->body;
  }
  out = Ctl("status", &rc);
  EXPECT_NE(out.find("STALE (etcd unreadable)"), std::string::npos) << out;
  out = Ctl("route set-percent 10", &rc);
  EXPECT_NE(rc, 0) << "a change cannot be stored while etcd is unreachable: " << out;
  EXPECT_EQ(Percent("DANMU_A_ADMIN"), 100);
  EXPECT_EQ(Percent("DANMU_B_ADMIN"), 100);

  for (int p : members) ::kill(p, SIGCONT);
  EXPECT_TRUE(WaitFor([&] {
    auto a = Shown("DANMU_A_ADMIN"), b = Shown("DANMU_B_ADMIN");
    return a && b && !a->getValue<bool>("stale") && !b->getValue<bool>("stale") && !a->getValue<bool>("directory_stale") &&
           !b->getValue<bool>("directory_stale");
  }, 30000)) << "fresh again once etcd answers";
  EXPECT_EQ(Version("DANMU_A_ADMIN"), version) << "the refused change was not stored";
  // Their registrations' leases ran out meanwhile: both edges register anew.
  EXPECT_TRUE(WaitFor([] {
    return EdgesOf("DANMU_A_ADMIN", "A") == 1 && EdgesOf("DANMU_A_ADMIN", "B") == 1 && EdgesOf("DANMU_B_ADMIN", "A") == 1 &&
           EdgesOf("DANMU_B_ADMIN", "B") == 1;
  }, 30000)) << "both edges are registered again once etcd is back";
  // The lease was lost meanwhile: hand the stack on with writes acknowledged.
  EXPECT_TRUE(WaitFor([] {
    auto r = testing::Post(Env("DANMU_A_HTTP") + "/v1/rooms/etcdback/messages", R"({"type":"comment","uid":"u1","text":"back"})");
    return r.ok() && r->status == 202;
  }, 30000)) << "writes are acknowledged again once etcd is back";
}

}  // namespace
}  // namespace danmu
