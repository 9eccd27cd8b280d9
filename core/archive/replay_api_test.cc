#include "core/archive/replay_api.h"

#include <gtest/gtest.h>

#include "core/archive/replay_store.h"

namespace danmu::core {
namespace {

class FakeSource : public ReplaySource {
 public:
  Result<ReplayPage> Read(const ReplayQuery& q) override {
    last = q;
    ++calls;
    if (!status.ok()) return status;
    return page;
  }
  Status status;
  ReplayPage page;
  ReplayQuery last;
  int calls = 0;
};

HttpRequest Get(const std::string& path, std::map<std::string, std::string> query = {}) {
  HttpRequest r;
  r.method = "GET";
  r.path = path;
  r.query = std::move(query);
  return r;
}

TEST(ReplayApiTest, ServesAPageWithItsCursorAndTotals) {
  FakeSource src;
  src.page.messages_json = "[{\"ts\":5,\"id\":\"a\"}]";
  src.page.count = 1;
  src.page.next = ReplayPosition{5, 0, "a"};
  src.page.info = {10, 3, 42, 9000};
  ReplayApi api(&src, 500);
  auto r = api.Handle(Get("/v1/replays/room-1/messages", {{"from_ms", "5"}, {"to_ms", "60"}, {"limit", "1"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(src.last.live_room, "room-1");
  EXPECT_EQ(src.last.from_ms, 5);
  EXPECT_EQ(*src.last.to_ms, 60);
  EXPECT_EQ(src.last.limit, 1);
  std::string cursor = EncodeReplayCursor(ReplayPosition{5, 0, "a"});
  EXPECT_EQ(r.body, "{\"room\":\"room-1\",\"from_ms\":5,\"to_ms\":60,\"limit\":1,\"count\":1,"
                    "\"messages\":[{\"ts\":5,\"id\":\"a\"}],\"next_cursor\":\"" + cursor + "\","
                    "\"likes\":10,\"viewers\":3,\"total_messages\":42,\"duration_ms\":9000}");

  // The cursor comes back into the next query.
  r = api.Handle(Get("/v1/replays/room-1/messages", {{"cursor", cursor}}));
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(src.last.after.has_value());
  EXPECT_EQ(*src.last.after, (ReplayPosition{5, 0, "a"}));

  src.page.next.reset();
  r = api.Handle(Get("/v1/replays/room-1/messages"));
  EXPECT_NE(r.body.find("\"to_ms\":null"), std::string::npos);
  EXPECT_NE(r.body.find("\"next_cursor\":null"), std::string::npos);
}

TEST(ReplayApiTest, ErrorsAreJsonWithTheirStatus) {
  FakeSource src;
  ReplayApi api(&src, 500);
  struct Case {
    HttpRequest req;
    int status;
    std::string code;
  };
  HttpRequest post = Get("/v1/replays/r1/messages");
  post.method = "POST";
  std::vector<Case> cases = {
      {Get("/v1/replays/r1/messages", {{"from_ms", "x"}}), 400, "invalid_argument"},
      {Get("/v1/replays/r1/messages", {{"from_ms", "9"}, {"to_ms", "8"}}), 400, "invalid_argument"},
      {Get("/v1/replays/r1/messages", {{"limit", "-3"}}), 400, "invalid_argument"},
      {Get("/v1/replays/r1/messages", {{"cursor", "'; DROP TABLE x"}}), 400, "invalid_argument"},
      {Get("/v1/replays/bad%20room/messages"), 400, "invalid_argument"},
      {Get("/v1/replays/" + std::string(65, 'a') + "/messages"), 400, "invalid_argument"},
      {Get("/v1/replays/__probe/messages"), 404, "not_found"},
      {Get("/v1/replays/r1"), 404, "not_found"},
      {Get("/v1/replays/r1/other"), 404, "not_found"},
      {post, 405, "method_not_allowed"},
  };
  for (const auto& c : cases) {
    auto r = api.Handle(c.req);
    EXPECT_EQ(r.status, c.status) << c.req.path << " " << r.body;
    EXPECT_EQ(r.body.rfind("{\"error\":{\"code\":\"" + c.code + "\",\"message\":", 0), 0u) << r.body;
  }
  EXPECT_EQ(src.calls, 0) << "invalid requests never reach the store";

  src.status = Status(Code::kNotFound, "no archive");
  auto r = api.Handle(Get("/v1/replays/r1/messages"));
  EXPECT_EQ(r.status, 404);
  src.status = Status(Code::kUnavailable, "replay redis down");
  r = api.Handle(Get("/v1/replays/r1/messages"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.headers["Retry-After"], "1");
}

}  // namespace
}  // namespace danmu::core
