#include "bench/loadgen/wire.h"

#include <gtest/gtest.h>

namespace danmu::bench {
namespace {

TEST(Wire, ParsesPollAnswer) {
  std::string body =
      R"({"messages":[{"ts":12,"id":"a1","type":"comment","uid":"u","text":"p123 x"},)"
      R"({"ts":13,"id":"a2","type":"gift","uid":"u","gift":{"id":"rose","count":1}}],)"
      R"("cursor":"CUR_x-1","likes":3,"online":2,"state":"live","next_poll_ms":2000,)"
      R"("degrade":{"level":0,"likes_paused":false,"thinned":false}})";
  PollBody p;
  ASSERT_TRUE(ParsePollBody(body, &p));
  ASSERT_EQ(p.messages.size(), 2u);
  EXPECT_EQ(p.messages[0].id, "a1");
  EXPECT_EQ(p.messages[0].text, "p123 x");
  EXPECT_EQ(p.messages[1].id, "a2");  // the gift's own "id" is nested, not the message's
  EXPECT_EQ(p.messages[1].text, "");
  EXPECT_EQ(p.cursor, "CUR_x-1");
  EXPECT_EQ(p.next_poll_ms, 2000);
  EXPECT_EQ(PostTimeOf(p.messages[0].text), 123);
}

TEST(Wire, TextWithQuotesAndBracesDoesNotConfuseIt) {
  std::string body = R"({"messages":[{"id":"a","text":"he said \"}]\" ok"}],"cursor":"c"})";
  PollBody p;
  ASSERT_TRUE(ParsePollBody(body, &p));
  ASSERT_EQ(p.messages.size(), 1u);
  EXPECT_EQ(p.cursor, "c");
  EXPECT_EQ(p.next_poll_ms, -1);
}

TEST(Wire, RefusesWhatIsNotAPollAnswer) {
  PollBody p;
  EXPECT_FALSE(ParsePollBody("", &p));
  EXPECT_FALSE(ParsePollBody(R"({"error":{"code":"x","message":"y"}})", &p));
  EXPECT_FALSE(ParsePollBody(R"({"messages":[{"id":"a")", &p));
  EXPECT_FALSE(ParsePollBody(R"({"messages":"no"})", &p));
  EXPECT_TRUE(ParsePollBody(R"({"messages":[]})", &p));
  EXPECT_TRUE(p.messages.empty());
}

TEST(Wire, MessageObjectsAndCounts) {
  WireMessage m;
  ASSERT_TRUE(ParseMessageObject(R"({"id":"n7","text":"p99"})", &m));
  EXPECT_EQ(m.id, "n7");
  EXPECT_EQ(PostTimeOf(m.text), 99);
  EXPECT_FALSE(ParseMessageObject("hello", &m));
  EXPECT_EQ(CountMessages(R"(--b
{"id":"1"}
--b
{"id":"2"}
--b--)"), 2);
  EXPECT_EQ(PostTimeOf("hello"), -1);
  EXPECT_EQ(PostTimeOf("p"), -1);
}

TEST(Wire, ParsesRouteAnswer) {
  std::string body =
      R"({"transport":"ws","reason":"percent","endpoints":["ws://127.0.0.1:17000/v1/rooms/r1/ws",)"
      R"("ws://127.0.0.1:17100/v1/rooms/r1/ws"],"poll_url":"http://127.0.0.1:17000/v1/rooms/r1/messages",)"
      R"("rules_version":4,"retry_after_ms":1000})";
  RouteBody r;
  ASSERT_TRUE(ParseRouteBody(body, &r));
  EXPECT_EQ(r.transport, "ws");
  ASSERT_EQ(r.endpoints.size(), 2u);
  EXPECT_EQ(r.endpoints[1], "ws://127.0.0.1:17100/v1/rooms/r1/ws");
  EXPECT_EQ(r.poll_url, "http://127.0.0.1:17000/v1/rooms/r1/messages");
  EXPECT_EQ(r.retry_after_ms, 1000);

  RouteBody poll;
  ASSERT_TRUE(ParseRouteBody(R"({"transport":"poll","endpoints":[],"poll_url":"http://h:1/m"})", &poll));
  EXPECT_TRUE(poll.endpoints.empty());
  EXPECT_EQ(poll.retry_after_ms, -1);
  EXPECT_FALSE(ParseRouteBody(R"({"endpoints":[]})", &r)) << "no transport";
  EXPECT_FALSE(ParseRouteBody(R"({"transport":"ws","endpoints":[1,2]})", &r)) << "endpoints not strings";
  EXPECT_FALSE(ParseRouteBody(R"({"error":{"code":"bad_request"})", &r));
  EXPECT_FALSE(ParseRouteBody("not json", &r));
}

TEST(Wire, ParsesPlainUrls) {
  PlainUrl u;
  ASSERT_TRUE(ParsePlainUrl("ws://127.0.0.1:17000/v1/rooms/r/ws", &u));
  EXPECT_EQ(u.scheme, "ws");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 17000);
  EXPECT_EQ(u.path, "/v1/rooms/r/ws");
  ASSERT_TRUE(ParsePlainUrl("http://10.0.0.2:80", &u));
  EXPECT_EQ(u.path, "/");
  ASSERT_TRUE(ParsePlainUrl("http://h:8/a?b=c", &u));
  EXPECT_EQ(u.path, "/a?b=c");
  EXPECT_FALSE(ParsePlainUrl("127.0.0.1:17000/x", &u)) << "no scheme";
  EXPECT_FALSE(ParsePlainUrl("ws://127.0.0.1/x", &u)) << "no port";
  EXPECT_FALSE(ParsePlainUrl("ws://h:0/x", &u));
  EXPECT_FALSE(ParsePlainUrl("ws://h:70000/x", &u));
  EXPECT_FALSE(ParsePlainUrl("ws://h:12a/x", &u));
}

}  // namespace
}  // namespace danmu::bench
