#include "core/degrade/degrade_admin.h"

#include <gtest/gtest.h>

#include "core/degrade/degrade_watcher.h"
#include "core/store/redis_client.h"

namespace danmu::core {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

TEST(ParseDegradeSet, MapsScopesToFields) {
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({"level":2})", "all"},
      {R"({"level":2,"scope":"all","room":"all"})", "all"},       // danmuctl --room all
      {R"({"level":2,"scope":"room"})", "room:A"},                // default: this room
      {R"({"level":2,"scope":"room","room":"B"})", "room:B"},
      {R"({"level":1,"scope":"stream","stream":"hot-1"})", "stream:hot-1"},
      {R"({"level":1,"scope":"all","stream":"hot-1"})", "stream:hot-1"},  // a stream names its scope
      {R"({"level":1,"scope":"room","room":"B","stream":""})", "room:B"},  // danmuctl sends "" for none
  };
  for (const auto& c : cases) {
    auto r = ParseDegradeSet(c.body, "A", 3600, kNow);
    ASSERT_TRUE(r.ok()) << c.body << ": " << r.status().message();
    EXPECT_EQ(r->field, c.field) << c.body;
  }
}

TEST(ParseDegradeSet, FillsTheSetting) {
  auto r = ParseDegradeSet(R"({"level":3,"for_s":60,"reason":"final song"})", "A", 3600, kNow);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->setting.level, 3);
  EXPECT_EQ(r->setting.reason, "final song");
  EXPECT_EQ(r->setting.source, "manual");
  EXPECT_EQ(r->setting.set_at_ms, kNow);
  EXPECT_EQ(r->setting.expires_at_ms, kNow + 60'000);
  auto d = ParseDegradeSet(R"({"level":1,"for_s":0})", "A", 3600, kNow);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->setting.expires_at_ms, kNow + 3600'000) << "for_s 0 takes degrade.default_for_s";
  auto z = ParseDegradeSet(R"({"level":0})", "A", 3600, kNow);
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->setting.level, 0);
}

TEST(ParseDegradeSet, RefusesBadBodies) {
  struct Case {
    const char* body;
    const char* mentions;
  } cases[] = {
      {"", "required"},
      {"level=2", "not JSON"},
      {"[2]", "JSON object"},
      {R"({"scope":"all"})", "'level' is required"},
      {R"({"level":"2"})", "'level' must be an integer"},
      {R"({"level":2.5})", "'level' must be an integer"},
      {R"({"level":4})", "'level' must be 0..3"},
      {R"({"level":-1})", "'level' must be 0..3"},
      {R"({"level":99999999999})", "'level'"},
      {R"({"level":2,"scope":"planet"})", "'scope'"},
      {R"({"level":2,"scope":"stream"})", "'stream'"},
      {R"({"level":2,"stream":"bad id!"})", "'stream'"},
      {R"({"level":2,"scope":"room","room":""})", "'room'"},
      {R"({"level":2,"scope":"room","room":"all"})", "'room'"},
      {R"({"level":2,"for_s":-5})", "'for_s'"},
      {R"({"level":2,"for_s":"10m"})", "'for_s'"},
      {R"({"level":2,"reason":7})", "'reason'"},
      {R"({"level":2,"levle":3})", "unknown field 'levle'"},
      {R"({"level":{"x":2}})", "nested too deep"},
  };
  for (const auto& c : cases) {
    auto r = ParseDegradeSet(c.body, "A", 3600, kNow);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << c.body;
    EXPECT_NE(r.status().message().find(c.mentions), std::string::npos) << c.body << ": " << r.status().message();
  }
}

TEST(ParseDegradeClear, FleetWideClearsEveryManualSettingButAuto) {
  DegradeTable table;
  table["all"] = DegradeSetting{};
  table["room:B"] = DegradeSetting{};
  table["stream:x"] = DegradeSetting{};
  table["auto"] = DegradeSetting{};
  table[kPushPollOnlyField] = DegradeSetting{};
  for (const char* body : {"", "{}", R"({"scope":"all","room":"all","stream":""})", R"({"reason":"over"})"}) {
    auto r = ParseDegradeClear(body, "A", table);
    ASSERT_TRUE(r.ok()) << body << ": " << r.status().message();
    EXPECT_EQ(*r, (std::vector<std::string>{"all", "room:B", "stream:x"})) << body;
  }
  auto room = ParseDegradeClear(R"({"scope":"room"})", "A", table);
  ASSERT_TRUE(room.ok());
  EXPECT_EQ(*room, std::vector<std::string>{"room:A"});
  auto stream = ParseDegradeClear(R"({"stream":"x"})", "A", table);
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(*stream, std::vector<std::string>{"stream:x"});
}

TEST(ParseDegradeClear, RefusesBadBodies) {
  // Each of these cleared EVERY manual setting before the body was parsed
  // strictly: a typo must not turn a narrow clear into a fleet-wide one.
  for (const char* body : {R"({"scope":"stream"})", R"({"scope":"rooms","room":"B"})", R"({"stream":"no/such"})",
                           R"({"scope":"room","room":5})", R"({"level":0})", "[]", "{"}) {
    auto r = ParseDegradeClear(body, "A", DegradeTable{{"all", DegradeSetting{}}});
    EXPECT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << body;
  }
}

TEST(ParsePushPollOnly, OnAndOffWithDefaultsAndBadBodies) {
  auto on = ParsePushPollOnly(R"({"poll_only":true,"for_s":300,"reason":"drill"})", 3600, kNow);
  ASSERT_TRUE(on.ok()) << on.status().message();
  EXPECT_EQ(on->field, kPushPollOnlyField);
  EXPECT_EQ(on->setting.level, 1);
  EXPECT_EQ(on->setting.expires_at_ms, kNow + 300 * 1000);
  EXPECT_EQ(on->setting.reason, "drill");
  auto def = ParsePushPollOnly(R"({"poll_only":true})", 3600, kNow);
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->setting.expires_at_ms, kNow + 3600 * 1000) << "for_s 0 or absent: degrade.default_for_s";
  auto off = ParsePushPollOnly(R"({"poll_only":false})", 3600, kNow);
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->setting.level, 0);
  for (const char* body : {"", "{}", R"({"poll_only":"true"})", R"({"poll_only":1})", R"({"poll_only":true,"for_s":-1})",
                           R"({"poll_only":true,"for_s":"5m"})", R"({"poll_only":true,"level":2})", "[true]",
                           R"({"poll_only":{"x":true}})"}) {
    auto r = ParsePushPollOnly(body, 3600, kNow);
    EXPECT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << body;
  }
}

TEST(ParseDegradeAuto, OnlyEnabledTrueOrFalse) {
  auto on = ParseDegradeAuto(R"({"enabled":true})");
  ASSERT_TRUE(on.ok());
  EXPECT_TRUE(*on);
  auto off = ParseDegradeAuto(R"( {"enabled" : false} )");
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(*off);
  for (const char* body : {"", "true", "{}", R"({"enabled":"true"})", R"({"enabled":1})", R"({"enabled":null})",
                           R"({"enabled":false,"reason":"true"})", R"({"auto":true})", R"([true])", "enabled=true"}) {
    auto r = ParseDegradeAuto(body);
    EXPECT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << body;
  }
}

// The handlers over a watcher that is never started (no Redis is reached:
// the client connects lazily, and these requests never write).
class DegradeAdminTest : public ::testing::Test {
 protected:
  DegradeAdminTest()
      : watcher_(config_, std::make_unique<RedisClient>(RedisOptions{}, "live", nullptr), DegradeWatcherHooks{}, clock_,
                 nullptr),
        admin_("A", &watcher_, 3600, [this] { ++stores_opened_; return std::unique_ptr<RedisClient>(); }, clock_,
               nullptr) {}

  static HttpRequest Post(std::string body) {
    HttpRequest r;
    r.method = "POST";
    r.body = std::move(body);
    return r;
  }

  Config config_;
  FakeClock clock_;
  DegradeWatcher watcher_;
  int stores_opened_ = 0;
  DegradeAdmin admin_;
};

TEST_F(DegradeAdminTest, AutoFollowsTheParsedFlagNotTheWordTrue) {
  ASSERT_FALSE(watcher_.auto_enabled());
  // Before the body was parsed, any body containing "true" turned auto on.
  HttpResponse r = admin_.Auto(Post(R"({"enabled":false,"reason":"true"})"));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("\"invalid_argument\""), std::string::npos) << r.body;
  EXPECT_FALSE(watcher_.auto_enabled());
  r = admin_.Auto(Post(R"({"enabled":"true"})"));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_FALSE(watcher_.auto_enabled());

  r = admin_.Auto(Post(R"({"enabled":true})"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(watcher_.auto_enabled());
  EXPECT_NE(r.body.find("\"auto_enabled\":true"), std::string::npos) << r.body;
  r = admin_.Auto(Post(R"({"enabled":false})"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(watcher_.auto_enabled());
}

TEST_F(DegradeAdminTest, BadBodiesAreRefusedBeforeAnyWrite) {
  for (const char* body : {"", R"({"level":7})", R"({"level":1,"scope":"x"})"}) {
    HttpResponse r = admin_.Set(Post(body));
    EXPECT_EQ(r.status, 400) << body << ": " << r.body;
  }
  HttpResponse c = admin_.Clear(Post(R"({"scope":"stream"})"));
  EXPECT_EQ(c.status, 400) << c.body;
  EXPECT_EQ(stores_opened_, 0) << "no store is opened for a refused request";
}

TEST_F(DegradeAdminTest, GetShowsWhatThisRoomSees) {
  HttpResponse r = admin_.Get(HttpRequest{});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"room":"A","room_level":0,"auto_enabled":false,"settings":{}})");
}

}  // namespace
}  // namespace danmu::core
