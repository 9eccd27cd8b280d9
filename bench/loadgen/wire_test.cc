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

}  // namespace
}  // namespace danmu::bench
