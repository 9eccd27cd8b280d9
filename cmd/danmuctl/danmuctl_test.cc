// danmuctl's command line: every argument is checked before anything is
// contacted (exit 2 and a message naming the argument), and request bodies
// are built with the JSON writer, so no user input reaches the admin API
// pasted into JSON. Two loopback HttpServers stand in for the rooms' admin
// ports and record what they receive.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

#include "core/base/config.h"
#include "core/http/http_server.h"

namespace danmu {
namespace {

struct Seen {
  std::string room, method, path, body;
};

class FakeRooms {
 public:
  FakeRooms() {
    core::HttpOptions o;
    o.threads = 4;
    for (const char* room : {"A", "B"}) {
      servers_.push_back(std::make_unique<core::HttpServer>(
          o, 0, "admin",
          [this, room](const core::HttpRequest& r) {
            std::lock_guard lock(mu_);
            seen_.push_back({room, r.method, r.path, r.body});
            return core::HttpResponse::Json(200, "{}");
          },
          [](const core::HttpRequest&) { return std::string("x"); }, nullptr));
      servers_.back()->Start();
    }
  }
  ~FakeRooms() {
    for (auto& s : servers_) s->Stop();
  }
  std::string Url(int i) const { return "http://127.0.0.1:" + std::to_string(servers_[i]->port()); }
  std::vector<Seen> Take() {
    std::lock_guard lock(mu_);
    return std::exchange(seen_, {});
  }

 private:
  std::mutex mu_;
  std::vector<Seen> seen_;  // guarded by mu_
  std::vector<std::unique_ptr<core::HttpServer>> servers_;
};

struct Outcome {
  int exit_code = -1;  // -1: killed by a signal (a crash)
  std::string err;
};

class DanmuctlTest : public testing::Test {
 protected:
  // Runs danmuctl with both rooms pointing at the fakes; `args` is shell text.
  Outcome Ctl(const std::string& args) {
    std::string dir = testing::TempDir();
    std::string err = dir + "/danmuctl_test.err";
    std::string cmd = std::string(DANMUCTL_PATH) + " --env /dev/null --a-admin " + rooms_.Url(0) + " --b-admin " +
                      rooms_.Url(1) + " " + args + " >/dev/null 2>" + err;
    int rc = std::system(cmd.c_str());
    Outcome r;
    if (WIFEXITED(rc)) r.exit_code = WEXITSTATUS(rc);
    std::ifstream in(err);
    std::stringstream ss;
    ss << in.rdbuf();
    r.err = ss.str();
    return r;
  }

  // `args` must be refused as a usage error naming `what`, contacting nobody.
  void ExpectUsageError(const std::string& args, const std::string& what) {
    Outcome r = Ctl(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << args << ": message should name " << what << ": " << r.err;
    EXPECT_TRUE(rooms_.Take().empty()) << args << ": a bad argument must not reach a room";
  }

  Poco::JSON::Object::Ptr Body(const Seen& s) {
    return Poco::JSON::Parser().parse(s.body).extract<Poco::JSON::Object::Ptr>();
  }

  FakeRooms rooms_;
};

TEST_F(DanmuctlTest, BadArgumentsAreUsageErrors) {
  // Pasted into JSON before: an injected scope.
  ExpectUsageError("degrade set '1,\"scope\":\"room\"'", "LEVEL");
  ExpectUsageError("degrade set 4", "LEVEL");
  ExpectUsageError("degrade set 1 --for 10x", "--for");
  ExpectUsageError("degrade set 1 --room C", "--room");
  ExpectUsageError("degrade set 1 --stream 'a b'", "--stream");
  ExpectUsageError("degrade", "subcommand");
  // stoi/stoll on these aborted danmuctl before.
  ExpectUsageError("drill --planned --warmup-ms abc", "--warmup-ms");
  ExpectUsageError("drill --planned --after-ms 99999999999999999999", "--after-ms");
  ExpectUsageError("reconcile --from-kafka h:1 --deadline-ms 99999999999999999999", "--deadline-ms");
  ExpectUsageError("reconcile --from-kafka nohostport", "--from-kafka");
  ExpectUsageError("reconcile", "--from-kafka");
  ExpectUsageError("reconcile --from-kafka h:1 --live-room '\"}'", "--live-room");
  // --room C used to mean room A.
  ExpectUsageError("promote --room C", "--room");
  ExpectUsageError("freeze", "--room");
  ExpectUsageError("demote --room B --epoch '1,\"x\":2'", "--epoch");
  ExpectUsageError("archive run 'bad room\"' --room A", "LIVE_ROOM");
  ExpectUsageError("archive run r1 --mode sideways --room A", "--mode");
  ExpectUsageError("archive status", "argument");
  ExpectUsageError("status --jsno", "--jsno");
  ExpectUsageError("status extra", "no more arguments");
  ExpectUsageError("status --room", "--room");
  ExpectUsageError("kafka partitions 0", "N");
  ExpectUsageError("kafka partitions 12x", "N");
  ExpectUsageError("kafka partitions 99999999999999999999", "N");
  ExpectUsageError("kafka partitions 12 --topic 'a b'", "--topic");
  ExpectUsageError("kafka partitions", "argument");
  ExpectUsageError("kafka", "subcommand");
  ExpectUsageError("status --topic x", "--topic");
  ExpectUsageError("teleport", "unknown command");
  ExpectUsageError("", "no command");
}

TEST_F(DanmuctlTest, BodiesAreWrittenAsJson) {
  Outcome r = Ctl("degrade set 2 --room b --for 5m --reason 'he said \"hi\", then {left}'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto seen = rooms_.Take();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].room, "B") << "--room b is room B";
  EXPECT_EQ(seen[0].path, "/v1/admin/degrade");
  auto o = Body(seen[0]);
  EXPECT_EQ(o->getValue<int>("level"), 2);
  EXPECT_EQ(o->getValue<std::string>("scope"), "room");
  EXPECT_EQ(o->getValue<std::string>("room"), "B");
  EXPECT_EQ(o->getValue<int64_t>("for_s"), 300);
  EXPECT_EQ(o->getValue<std::string>("reason"), "he said \"hi\", then {left}");

  // (The stand-in's answer is not a room status: exit 1, after the request.)
  r = Ctl("demote --room A --epoch 7");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  seen = rooms_.Take();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].room, "A");
  EXPECT_EQ(seen[0].path, "/v1/admin/demote");
  EXPECT_EQ(Body(seen[0])->getValue<int64_t>("epoch"), 7);

  r = Ctl("freeze --room B --reason '\"}'");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  seen = rooms_.Take();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].room, "B");
  EXPECT_EQ(Body(seen[0])->getValue<std::string>("reason"), "\"}");

  // Reconcile against an explicit room: numbers are numbers, ids strings.
  Ctl("reconcile --from-kafka 127.0.0.1:9 --room B --since-ms 1700000000000 --live-room r-1 --reingest-unknown");
  seen = rooms_.Take();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].room, "B");
  o = Body(seen[0]);
  EXPECT_EQ(o->getValue<std::string>("kafka"), "127.0.0.1:9");
  EXPECT_EQ(o->getValue<int64_t>("since_ms"), 1700000000000);
  EXPECT_EQ(o->getValue<std::string>("live_room"), "r-1");
  EXPECT_TRUE(o->getValue<bool>("reingest_unknown"));

  r = Ctl("archive run r-1 --mode checkpoint --room A --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  seen = rooms_.Take();
  ASSERT_EQ(seen.size(), 1u);
  o = Body(seen[0]);
  EXPECT_EQ(o->getValue<std::string>("room"), "r-1");
  EXPECT_EQ(o->getValue<std::string>("mode"), "checkpoint");
}

// danmuctl route: the words are checked by the admin API's own parser
// before anything is sent, and the change goes to room A's router (the rule
// set is one for both rooms).
TEST_F(DanmuctlTest, RouteChangesAreCheckedThenSentToOneRoom) {
  for (const char* bad : {"route set-percent 101", "route set-percent", "route deny --app-version 5.2.9-5.0.0",
                          "route allow --email x", "route kill-switch maybe", "route"}) {
    Outcome r = Ctl(bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_TRUE(rooms_.Take().empty()) << bad << ": a refused change must not reach a room";
  }
  Outcome r = Ctl("route set-percent 37");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto seen = rooms_.Take();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].room, "A");
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].path, "/v1/admin/route");
  auto o = Body(seen[0]);
  EXPECT_EQ(o->getValue<std::string>("op"), "set_percent");
  EXPECT_EQ(o->getValue<int>("percent"), 37);
  r = Ctl("route show --room B");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  seen = rooms_.Take();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].room, "B");
  EXPECT_EQ(seen[0].method, "GET");
}

}  // namespace
}  // namespace danmu
