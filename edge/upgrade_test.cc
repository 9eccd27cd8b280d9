#include "edge/upgrade.h"

#include <gtest/gtest.h>

namespace danmu::edge {
namespace {

core::HttpRequest Req(std::string method, std::string path, std::string upgrade = "") {
  core::HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  if (!upgrade.empty()) r.headers["upgrade"] = upgrade;
  return r;
}

TEST(ClassifyLongConnection, WebSocketNeedsTheUpgradeHeader) {
  std::string room;
  EXPECT_EQ(ClassifyLongConnection(Req("GET", "/v1/rooms/r1/ws", "WebSocket"), &room), LongKind::kWebSocket);
  EXPECT_EQ(room, "r1");
  EXPECT_EQ(ClassifyLongConnection(Req("GET", "/v1/rooms/r1/ws"), &room), std::nullopt);
  EXPECT_EQ(ClassifyLongConnection(Req("POST", "/v1/rooms/r1/ws", "websocket"), &room), std::nullopt);
}

TEST(ClassifyLongConnection, SseAndEverythingElse) {
  std::string room;
  EXPECT_EQ(ClassifyLongConnection(Req("GET", "/v1/rooms/r2/events"), &room), LongKind::kSse);
  EXPECT_EQ(room, "r2");
  EXPECT_EQ(ClassifyLongConnection(Req("GET", "/v1/rooms/r2/messages"), &room), std::nullopt);
  EXPECT_EQ(ClassifyLongConnection(Req("GET", "/v1/rooms/r2/events/x"), &room), std::nullopt);
  EXPECT_EQ(ClassifyLongConnection(Req("GET", "/v2/rooms/r2/events"), &room), std::nullopt);
}

TEST(UpgradeRegistry, FindsOnlyRegisteredKinds) {
  UpgradeRegistry reg;
  EXPECT_EQ(reg.Find(LongKind::kSse), nullptr);
  int called = 0;
  reg.Register(LongKind::kSse, [&](LongConnection&&) { ++called; });
  EXPECT_NE(reg.Find(LongKind::kSse), nullptr);
  EXPECT_EQ(reg.Find(LongKind::kWebSocket), nullptr);
}

}  // namespace
}  // namespace danmu::edge
