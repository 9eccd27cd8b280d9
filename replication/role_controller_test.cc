// The split-brain guard of the role controller against a stand-in for the
// peer room's admin status (loopback HTTP). The local Redis is a port nobody
// listens on: the rounds tested here must not need it, or must report that
// they could not reach it.
#include "replication/role_controller.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "core/http/http_server.h"

namespace danmu::replication {
namespace {

class FakePeer {
 public:
  FakePeer() {
    core::HttpOptions o;
    o.threads = 2;
    server_ = std::make_unique<core::HttpServer>(
        o, 0, "admin",
        [this](const core::HttpRequest&) {
          std::lock_guard lock(mu_);
          return core::HttpResponse::Json(200, status_);
        },
        [](const core::HttpRequest&) { return std::string("status"); }, nullptr);
    server_->Start();
  }
  ~FakePeer() { server_->Stop(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  void Set(const std::string& role, int64_t epoch, bool confirmed = true) {
    std::lock_guard lock(mu_);
    status_ = "{\"room\":\"B\",\"role\":\"" + role + "\",\"epoch\":" + std::to_string(epoch) +
              ",\"writes_frozen\":false,\"confirmed\":" + (confirmed ? "true" : "false") + "}";
  }

 private:
  std::mutex mu_;
  std::string status_ = "{}";  // guarded by mu_
  std::unique_ptr<core::HttpServer> server_;
};

core::Config ConfigFor(const FakePeer& peer) {
  core::Config c;
  c.room = "A";
  c.redis.address = "127.0.0.1:1";  // nobody listens
  c.redis.timeout_ms = 200;
  c.peer.admin_url = peer.url();
  c.peer.redis = "127.0.0.1:1";
  return c;
}

// Two primaries at the same epoch is a broken invariant (every promotion
// takes a new epoch): both rooms must stop taking writes, not just log it.
TEST(RoleControllerTest, TwoPrimariesAtTheSameEpochRefuseWrites) {
  FakePeer peer;
  core::Config c = ConfigFor(peer);
  RoomState state("A", "", core::Role::kPrimary, 5);
  RoleController controller(c, &state);
  ASSERT_TRUE(state.active_primary());
  peer.Set("primary", 5);
  core::Status round = controller.WatchOnce();
  EXPECT_FALSE(round.ok()) << "the broken invariant is reported, not only logged";
  EXPECT_NE(round.message().find("two primaries at epoch 5"), std::string::npos) << round.message();
  EXPECT_TRUE(state.is_primary()) << "no role change without an operator";
  EXPECT_FALSE(state.active_primary()) << "a primary that sees another at its epoch must not process";
  EXPECT_FALSE(state.accepting_writes()) << "a primary that sees another at its epoch must not accept writes";
  // The same holds while the other one is itself unconfirmed.
  peer.Set("primary", 5, /*confirmed=*/false);
  EXPECT_FALSE(controller.WatchOnce().ok());
  EXPECT_FALSE(state.accepting_writes());
  // Resolved by the operator (the other room demoted): writes again.
  peer.Set("secondary", 5);
  EXPECT_TRUE(controller.WatchOnce().ok());
  EXPECT_TRUE(state.active_primary());
  EXPECT_TRUE(state.accepting_writes());
}

// The results of the demotion and of REPLICAOF are not dropped: superseded
// by a newer epoch, the room becomes secondary (it must not take writes as a
// primary), and the round reports that its Redis did not follow the peer;
// the next rounds retry the rejoin and report until it works.
TEST(RoleControllerTest, ADemotionWhoseReplicaofFailsIsReportedAndRetried) {
  FakePeer peer;
  core::Config c = ConfigFor(peer);
  RoomState state("A", "", core::Role::kPrimary, 5);
  RoleController controller(c, &state);
  peer.Set("primary", 6);
  core::Status round = controller.WatchOnce();
  EXPECT_FALSE(round.ok());
  EXPECT_NE(round.message().find("did not follow the peer"), std::string::npos) << round.message();
  EXPECT_FALSE(state.is_primary());
  EXPECT_EQ(state.epoch(), 6);
  round = controller.WatchOnce();
  EXPECT_FALSE(round.ok()) << "the rejoin of the next round cannot reach the local Redis either";
  EXPECT_NE(round.message().find("ROLE"), std::string::npos) << round.message();
  // Demote itself reports the same.
  EXPECT_FALSE(controller.Demote(7, "test").ok());
  EXPECT_EQ(state.epoch(), 7);
}

}  // namespace
}  // namespace danmu::replication
