// A secondary room's writes survive the loss of one forwarding target: the
// route tries each primary-room target in turn. Real HTTP on loopback: one
// target is a port nobody listens on, the other a real danmu HttpServer
// standing in for the primary's admin ingest.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "core/base/config.h"
#include "core/http/http_server.h"
#include "core/model/message.h"
#include "core/live/write_route.h"

namespace danmu {
namespace {

TEST(ForwardWriteRouteTest, SurvivesTheLossOfOneTarget) {
  core::HttpOptions o;
  o.threads = 4;
  std::atomic<int> ingested{0};
  std::mutex mu;
  std::string seen_auth;  // written by the server's thread, guarded by mu
  core::HttpServer primary(o, 0, "admin", [&](const core::HttpRequest& r) {
    {
      std::lock_guard lock(mu);
      seen_auth = r.Header("authorization");
    }
    if (r.path != "/v1/admin/ingest") return core::HttpResponse::Error(404, "not_found", "");
    ++ingested;
    return core::HttpResponse::Json(202, "{}");
  }, [](const core::HttpRequest&) { return std::string("ingest"); }, nullptr);
  primary.Start();
  // A port that refuses connections: bind a server, note its port, stop it.
  int dead_port;
  {
    core::HttpServer gone(o, 0, "admin", [](const core::HttpRequest&) { return core::HttpResponse::Json(200, "{}"); },
                          [](const core::HttpRequest&) { return std::string("x"); }, nullptr);
    dead_port = gone.port();
  }
  std::string dead = "http://127.0.0.1:" + std::to_string(dead_port);
  std::string live = "http://127.0.0.1:" + std::to_string(primary.port());
  core::ForwardWriteRoute route({dead, live}, "secret-token", 2000, nullptr);
  core::Message m;
  m.id = "B-test-1";
  m.live_room = "r";
  m.uid = "u";
  m.text = "forwarded";
  EXPECT_TRUE(route.Write(m).ok()) << "the second target took the write";
  EXPECT_EQ(ingested.load(), 1);
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(seen_auth, "Bearer secret-token");
  }
  core::ForwardWriteRoute only_dead({dead}, "t", 2000, nullptr);
  EXPECT_EQ(only_dead.Write(m).code(), core::Code::kUnavailable) << "no target: the client must retry (503)";
  primary.Stop();
}

}  // namespace
}  // namespace danmu
