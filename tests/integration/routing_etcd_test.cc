// The routing service's stores against the stack's real etcd cluster: the
// rule set changes only by compare-and-swap on its revision, and edges
// registered under leases leave the directory when they drain (at once) or
// die (when the lease's TTL runs out).
#include <gtest/gtest.h>

#include <unistd.h>

#include <prometheus/registry.h>

#include <string>

#include "core/live/write_route.h"  // SplitList
#include "core/store/etcd_client.h"
#include "routing/discovery.h"
#include "routing/route_rules.h"
#include "routing/routing_metrics.h"
#include "routing/rule_store.h"
#include "tests/integration/stack_env.h"

namespace danmu {
namespace {

using testing::Env;
using testing::WaitFor;

core::EtcdClient Etcd() { return core::EtcdClient(core::SplitList(Env("DANMU_ETCD")), 1000); }

// A prefix of its own per run, so that runs and the stack's danmuds never meet.
std::string Prefix(const std::string& what) { return "/danmu-test/" + what + "-" + std::to_string(::getpid()) + "/"; }

TEST(RoutingEtcdTest, RulesChangeOnlyByCompareAndSwapOnTheirRevision) {
  auto etcd = Etcd();
  routing::EtcdRuleStore store(&etcd, Prefix("rules"));
  auto empty = store.Load();
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->revision, 0) << "no rules stored yet";

  routing::RouteRules v1;
  v1.version = 1;
  v1.percent = 10;
  auto first = store.Store(v1, 0);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(*first) << "the first store of an absent key succeeds";
  auto loaded = store.Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_GT(loaded->revision, 0);
  EXPECT_EQ(loaded->rules.percent, 10);
  EXPECT_EQ(loaded->rules.version, 1);

  // A writer that read before the first store (revision 0) loses: a conflict
  // is a value, and the stored rules are unchanged.
  routing::RouteRules stale = v1;
  stale.version = 2;
  stale.percent = 99;
  auto conflict = store.Store(stale, 0);
  ASSERT_TRUE(conflict.ok()) << conflict.status().ToString();
  EXPECT_FALSE(*conflict);
  auto wrong_revision = store.Store(stale, loaded->revision + 1000);
  ASSERT_TRUE(wrong_revision.ok());
  EXPECT_FALSE(*wrong_revision);
  EXPECT_EQ(store.Load()->rules.percent, 10);

  // With the revision it read, it wins.
  routing::RouteRules v2 = v1;
  v2.version = 2;
  v2.percent = 55;
  auto second = store.Store(v2, loaded->revision);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(*second);
  auto again = store.Load();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->rules.percent, 55);
  EXPECT_GT(again->revision, loaded->revision);

  // Something that is not a rule set under the key is an error with the key
  // named, never rules with defaults.
  ASSERT_TRUE(etcd.Put(store.key(), "{\"version\":3,\"percent\":\"lots\"}").ok());
  auto bad = store.Load();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), core::Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find(store.key()), std::string::npos) << bad.status().message();
  ASSERT_TRUE(etcd.Delete(store.key()).ok());
}

TEST(RoutingEtcdTest, RegisteredEdgesLeaveTheDirectoryWhenTheyDrainOrDie) {
  auto etcd = Etcd();
  routing::EtcdDiscoveryStore store(&etcd);
  prometheus::Registry registry;
  routing::RoutingMetrics metrics(registry, "A");
  const std::string prefix = Prefix("edges");
  routing::EdgeRegistrar draining(&store, prefix, 2, 500,
                                  [] { return routing::EdgeRecord{"A-1-1", "A", "http://127.0.0.1:1", 3, 1, false}; },
                                  &metrics);
  routing::EdgeRegistrar dying(&store, prefix, 2, 500,
                               [] { return routing::EdgeRecord{"B-2-2", "B", "http://127.0.0.1:2", 1, 0, false}; },
                               &metrics);
  ASSERT_TRUE(draining.Tick().ok());
  ASSERT_TRUE(dying.Tick().ok());
  EXPECT_TRUE(draining.registered() && dying.registered());

  routing::EdgeDirectory directory(&store, prefix, 500, &metrics);
  ASSERT_TRUE(directory.Refresh().ok());
  auto all = directory.All();
  ASSERT_EQ(all.size(), 2u);
  auto picked = directory.Pick("B", 5);
  ASSERT_EQ(picked.size(), 2u);
  EXPECT_EQ(picked[0].id, "B-2-2") << "the local room's edge first";
  EXPECT_EQ(picked[1].id, "A-1-1");

  // Draining revokes the lease: gone from the next refresh, no TTL to wait.
  ASSERT_TRUE(draining.Deregister().ok());
  ASSERT_TRUE(directory.Refresh().ok());
  all = directory.All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, "B-2-2");

  // A dead edge (its registrar stopped renewing, as after kill -9) is gone
  // once its 2 s lease expired; bounded by the TTL plus etcd's lease check.
  dying.Stop();
  EXPECT_TRUE(WaitFor([&] { return directory.Refresh().ok() && directory.All().empty(); }, 15000))
      << "the dead edge is still listed";

  // A put on a lease that no longer exists is kNotFound (the registrar
  // then grants a new lease).
  auto lease = store.Grant(5);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  ASSERT_TRUE(store.Revoke(*lease).ok());
  auto put = store.Put(prefix + "edges/A/x", "{}", *lease);
  EXPECT_EQ(put.code(), core::Code::kNotFound) << put.ToString();
}

}  // namespace
}  // namespace danmu
