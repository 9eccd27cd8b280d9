// The router, its rule watcher and discovery against in-memory stores (the
// etcd-backed stores are exercised by tests/integration routing_test).
#include "routing/router.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "routing/routing_metrics.h"

namespace danmu::routing {
namespace {

core::HttpRequest Get(std::string path, std::map<std::string, std::string> query) {
  core::HttpRequest r;
  r.method = "GET";
  r.path = std::move(path);
  r.query = std::move(query);
  return r;
}

core::HttpRequest Post(std::string body) {
  core::HttpRequest r;
  r.method = "POST";
  r.path = "/v1/admin/route";
  r.body = std::move(body);
  r.client_address = "127.0.0.1";
  return r;
}

struct World {
  core::FakeClock clock;
  prometheus::Registry registry;
  RoutingMetrics metrics{registry, "A"};
  MemoryRuleStore rule_store;
  MemoryDiscoveryStore discovery{clock};
  RulesWatcher rules{&rule_store, 1000, clock, &metrics};
  EdgeDirectory directory{&discovery, "danmu/", 1000, &metrics};
  DegradeInput degrade;
  Router router{RouterOptions{"A", "http://127.0.0.1:9000", 3, 60000, 1000}, &rules, &directory,
                [this](const std::string&) { return degrade; }, &metrics};

  void Register(const std::string& id, const std::string& room, const std::string& url, int64_t connections,
                int ttl_s = 5) {
    auto lease = discovery.Grant(ttl_s);
    ASSERT_TRUE(lease.ok());
    EdgeRecord r{id, room, url, connections, 0, false};
    ASSERT_TRUE(discovery.Put(EdgeKey("danmu/", r), r.ToJson(), *lease).ok());
  }
  void Change(const std::string& json) {
    auto resp = router.AdminChange(Post(json));
    ASSERT_EQ(resp.status, 200) << json << " -> " << resp.body;
  }
};

TEST(Router, HandsOutLocalEdgesFirstLeastLoadedFirst) {
  World w;
  w.Register("b1", "B", "http://127.0.0.2:9100", 1);
  w.Register("a1", "A", "http://127.0.0.1:9000", 50);
  w.Register("a2", "A", "http://127.0.0.1:9002", 10);
  ASSERT_TRUE(w.directory.Refresh().ok());
  w.Change(R"({"op":"set_percent","percent":100})");
  auto resp = w.router.Route(Get("/v1/route", {{"uid", "u1"}, {"room", "r1"}}));
  ASSERT_EQ(resp.status, 200) << resp.body;
  EXPECT_EQ(resp.body,
            R"({"transport":"ws","reason":"percent_in","endpoints":["ws://127.0.0.1:9002/v1/rooms/r1/ws",)"
            R"("ws://127.0.0.1:9000/v1/rooms/r1/ws","ws://127.0.0.2:9100/v1/rooms/r1/ws"],)"
            R"("poll_url":"http://127.0.0.1:9002/v1/rooms/r1/messages","rules_version":1,"retry_after_ms":1000})");
}

TEST(Router, PollAnswerAndNoEdge) {
  World w;
  ASSERT_TRUE(w.directory.Refresh().ok());
  auto poll = w.router.Route(Get("/v1/route", {{"uid", "u1"}, {"room", "r1"}}));
  EXPECT_EQ(poll.body,
            R"({"transport":"poll","reason":"percent_out","endpoints":["http://127.0.0.1:9000/v1/rooms/r1/messages"],)"
            R"("poll_url":"http://127.0.0.1:9000/v1/rooms/r1/messages","rules_version":0,"retry_after_ms":60000})");
  w.Change(R"({"op":"set_percent","percent":100})");
  auto none = w.router.Route(Get("/v1/route", {{"uid", "u1"}}));
  EXPECT_NE(none.body.find(R"("transport":"poll","reason":"no_edge","endpoints":["http://127.0.0.1:9000"])"),
            std::string::npos)
      << none.body;
}

TEST(Router, DeadEdgeLeavesTheListWhenItsLeaseExpires) {
  World w;
  w.Change(R"({"op":"set_percent","percent":100})");
  w.Register("a1", "A", "http://127.0.0.1:9000", 0, 3);
  w.Register("a2", "A", "http://127.0.0.1:9002", 5, 30);
  ASSERT_TRUE(w.directory.Refresh().ok());
  EXPECT_EQ(w.directory.Pick("A", 5).size(), 2u);
  w.clock.Advance(3001);  // a1 stopped renewing
  ASSERT_TRUE(w.directory.Refresh().ok());
  auto left = w.directory.Pick("A", 5);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].id, "a2");
}

// An edge that does not serve long connections now (push off, or the
// move-to-polling switch) is not handed out for a WebSocket, but still for
// polling; with no such edge left, the answer is poll / no_edge.
TEST(Router, LongConnectionsOnlyToEdgesThatServePush) {
  World w;
  w.Change(R"({"op":"set_percent","percent":100})");
  w.Register("a1", "A", "http://127.0.0.1:9000", 0);
  auto lease = w.discovery.Grant(5);
  ASSERT_TRUE(lease.ok());
  EdgeRecord off{"a2", "A", "http://127.0.0.1:9002", 0, 0, false, false};
  ASSERT_TRUE(w.discovery.Put(EdgeKey("danmu/", off), off.ToJson(), *lease).ok());
  ASSERT_TRUE(w.directory.Refresh().ok());
  EXPECT_EQ(w.directory.Pick("A", 5).size(), 2u) << "both serve polls";
  auto ws = w.router.Route(Get("/v1/route", {{"uid", "u1"}, {"room", "r1"}}));
  EXPECT_NE(ws.body.find(R"("endpoints":["ws://127.0.0.1:9000/v1/rooms/r1/ws"])"), std::string::npos) << ws.body;
  EXPECT_EQ(ws.body.find("9002"), std::string::npos) << "the push-less edge was handed out: " << ws.body;
  // The record says so and reads back (an older record without the field serves push).
  auto back = EdgeRecord::FromJson(off.ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->push);
  auto old = EdgeRecord::FromJson(R"({"id":"x","room":"A","url":"http://h:1"})");
  ASSERT_TRUE(old.ok());
  EXPECT_TRUE(old->push);
  // The last push edge gone: poll, no_edge.
  ASSERT_TRUE(w.discovery.Revoke(*lease).ok());
  w.Register("a1", "A", "http://127.0.0.1:9000", 0);
  EdgeRecord off1{"a1", "A", "http://127.0.0.1:9000", 0, 0, false, false};
  auto l2 = w.discovery.Grant(5);
  ASSERT_TRUE(l2.ok());
  ASSERT_TRUE(w.discovery.Put(EdgeKey("danmu/", off1), off1.ToJson(), *l2).ok());
  ASSERT_TRUE(w.directory.Refresh().ok());
  auto none = w.router.Route(Get("/v1/route", {{"uid", "u1"}, {"room", "r1"}}));
  EXPECT_NE(none.body.find(R"("transport":"poll","reason":"no_edge")"), std::string::npos) << none.body;
}

TEST(Router, RefusesBadQueriesWith400) {
  World w;
  for (auto q : std::vector<std::map<std::string, std::string>>{
           {{"uid", "a b"}}, {{"device", std::string(129, 'd')}}, {{"platform", "iOS"}},
           {{"app_version", std::string(41, '1')}}, {{"app_version", "5.0\n"}}, {{"room", "../x"}}}) {
    auto resp = w.router.Route(Get("/v1/route", q));
    EXPECT_EQ(resp.status, 400) << q.begin()->first;
    EXPECT_NE(resp.body.find("\"error\""), std::string::npos);
  }
  core::HttpRequest post = Get("/v1/route", {});
  post.method = "POST";
  EXPECT_EQ(w.router.Route(post).status, 405);
}

TEST(Router, CountsClientFallbacksFromAFixedSet) {
  World w;
  w.router.Route(Get("/v1/route", {{"uid", "u"}, {"fallback", "connect_failed"}}));
  w.router.Route(Get("/v1/route", {{"uid", "u"}, {"fallback", "<anything the client says>"}}));
  EXPECT_EQ(w.metrics.client_fallbacks.Add({{"reason", "connect_failed"}}).Value(), 1);
  EXPECT_EQ(w.metrics.client_fallbacks.Add({{"reason", "other"}}).Value(), 1);
}

TEST(Router, BadChangeIsRefusedAndChangesNothing) {
  World w;
  w.Change(R"({"op":"set_percent","percent":10})");
  for (const char* bad : {R"({"op":"set_percent","percent":101})", R"({"op":"deny","app_version":"9-1"})",
                          R"({"op":"set_percent","percent":5,"who":"me"})", "{"}) {
    auto resp = w.router.AdminChange(Post(bad));
    EXPECT_EQ(resp.status, 400) << bad;
  }
  auto stored = w.rule_store.Load();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->rules.version, 1);
  EXPECT_EQ(stored->rules.percent, 10);
  EXPECT_EQ(w.metrics.rule_changes.Add({{"result", "invalid"}}).Value(), 4);
}

TEST(RulesWatcher, SeesChangesMadeElsewhereAndKeepsLastRulesWhenTheStoreIsDown) {
  World w;
  // Another room's router writes the store directly.
  RulesWatcher other(&w.rule_store, 1000, w.clock, nullptr);
  auto c = RouteChange::Parse(R"({"op":"set_percent","percent":30})");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(other.Change(*c, "room B").ok());
  EXPECT_EQ(w.rules.Current()->percent, 0);  // not yet refreshed
  ASSERT_TRUE(w.rules.Refresh().ok());
  EXPECT_EQ(w.rules.Current()->percent, 30);
  EXPECT_FALSE(w.rules.stale());
  w.rule_store.SetAvailable(false);
  EXPECT_FALSE(w.rules.Refresh().ok());
  EXPECT_TRUE(w.rules.stale());
  EXPECT_EQ(w.rules.Current()->percent, 30);
  EXPECT_EQ(w.metrics.rules_stale.Value(), 1);
  auto refused = w.router.AdminChange(Post(R"({"op":"set_percent","percent":50})"));
  EXPECT_EQ(refused.status, 503);
  w.rule_store.SetAvailable(true);
  ASSERT_TRUE(w.rules.Refresh().ok());
  EXPECT_FALSE(w.rules.stale());
  EXPECT_EQ(w.rules.Current()->percent, 30);
}

TEST(RulesWatcher, ConcurrentChangesAreNotLost) {
  World w;
  RulesWatcher other(&w.rule_store, 1000, w.clock, nullptr);
  auto allow = RouteChange::Parse(R"({"op":"allow","uid":"x"})");
  auto deny = RouteChange::Parse(R"({"op":"deny","uid":"y"})");
  ASSERT_TRUE(other.Change(*allow, "b").ok());
  // w.rules has not seen version 1: its change must still land on top of it.
  ASSERT_TRUE(w.rules.Change(*deny, "a").ok());
  auto stored = w.rule_store.Load();
  EXPECT_EQ(stored->rules.version, 2);
  EXPECT_EQ(stored->rules.allow.uids.count("x"), 1u);
  EXPECT_EQ(stored->rules.deny.uids.count("y"), 1u);
}

TEST(EdgeRegistrar, RegistersRenewsReRegistersAfterLossAndDeregisters) {
  core::FakeClock clock;
  prometheus::Registry registry;
  RoutingMetrics metrics(registry, "A");
  MemoryDiscoveryStore store(clock);
  int64_t conns = 3;
  EdgeRegistrar reg(&store, "danmu/", 2, 500, [&] { return EdgeRecord{"a1", "A", "http://x", conns, 0, false}; },
                    &metrics);
  ASSERT_TRUE(reg.Tick().ok());
  EXPECT_TRUE(reg.registered());
  EXPECT_EQ(metrics.registered.Value(), 1);
  conns = 7;
  clock.Advance(1500);
  ASSERT_TRUE(reg.Tick().ok());  // renewed, record rewritten
  clock.Advance(1500);           // 3 s after the grant, 1.5 s after the renewal: alive
  auto listed = store.List("danmu/edges/");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_NE(listed->begin()->second.find("\"connections\":7"), std::string::npos);
  // etcd unreachable past the TTL: the registration is lost, then made anew.
  store.SetAvailable(false);
  EXPECT_FALSE(reg.Tick().ok());
  EXPECT_FALSE(reg.registered());
  clock.Advance(3000);
  store.SetAvailable(true);
  EXPECT_TRUE(store.List("danmu/edges/")->empty());
  ASSERT_TRUE(reg.Tick().ok());
  EXPECT_EQ(store.List("danmu/edges/")->size(), 1u);
  ASSERT_TRUE(reg.Deregister().ok());
  EXPECT_TRUE(store.List("danmu/edges/")->empty());
  EXPECT_EQ(metrics.registered.Value(), 0);
}

TEST(EdgeDirectory, DrainingEdgesAreNotHandedOutAndBadRecordsAreSkipped) {
  core::FakeClock clock;
  MemoryDiscoveryStore store(clock);
  EdgeDirectory dir(&store, "danmu/", 1000, nullptr);
  EdgeRecord a{"a1", "A", "http://a1", 0, 0, true};
  EdgeRecord b{"a2", "A", "http://a2", 9, 0, false};
  ASSERT_TRUE(store.Put(EdgeKey("danmu/", a), a.ToJson(), 0).ok());
  ASSERT_TRUE(store.Put(EdgeKey("danmu/", b), b.ToJson(), 0).ok());
  ASSERT_TRUE(store.Put("danmu/edges/A/junk", "{not json", 0).ok());
  ASSERT_TRUE(dir.Refresh().ok());
  auto picked = dir.Pick("A", 5);
  ASSERT_EQ(picked.size(), 1u);
  EXPECT_EQ(picked[0].id, "a2");
  store.SetAvailable(false);
  EXPECT_FALSE(dir.Refresh().ok());
  EXPECT_TRUE(dir.stale());
  EXPECT_EQ(dir.Pick("A", 5).size(), 1u);  // the last list stays in use
}

}  // namespace
}  // namespace danmu::routing
