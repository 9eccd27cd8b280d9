#include "core/model/message.h"

#include <gtest/gtest.h>

namespace danmu::core {
namespace {

TEST(MessageTest, PayloadRoundTripForEveryKind) {
  Message c;
  c.id = "A-1";
  c.type = MessageType::kComment;
  c.live_room = "r1";
  c.uid = "u1";
  c.text = std::string("hi \"there\" <b>\\ 😀 '; DROP TABLE x; \0 end", 44);
  c.client_ts = 17;
  c.ingest_ms = 99;
  Message g = c;
  g.type = MessageType::kGift;
  g.text.clear();
  g.gift = Gift{"rocket", 3};
  g.priority = true;
  Message l;
  l.id = "A-2";
  l.type = MessageType::kLike;
  l.live_room = "r1";
  l.count = 250;
  Message p;
  p.id = "A-3";
  p.type = MessageType::kPresence;
  p.live_room = "r1";
  p.uids = {"a", "b"};
  for (const Message& m : {c, g, l, p}) {
    auto back = DecodePayload(EncodePayload(m));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->id, m.id);
    EXPECT_EQ(back->type, m.type);
    EXPECT_EQ(back->live_room, m.live_room);
    EXPECT_EQ(back->uid, m.uid);
    EXPECT_EQ(back->text, m.text);
    EXPECT_EQ(back->count, m.count);
    EXPECT_EQ(back->uids, m.uids);
    EXPECT_EQ(back->priority, m.priority);
    EXPECT_EQ(back->gift.has_value(), m.gift.has_value());
    if (m.gift) {
      EXPECT_EQ(back->gift->count, m.gift->count);
    }
  }
}

TEST(MessageTest, ServedFormSplicesTheScore) {
  Message m;
  m.id = "x";
  m.live_room = "r";
  m.uid = "u";
  m.text = "t";
  std::string payload = EncodePayload(m);
  std::string out;
  AppendServed(out, 1234, payload);
  EXPECT_EQ(out.rfind("{\"ts\":1234,\"id\":\"x\"", 0), 0u) << out;
  auto back = DecodePayload(out);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(PayloadId(payload), "x");
  EXPECT_EQ(PartitionKey(m), "r:comment");
}

TEST(MessageTest, GarbageIsNotAMessage) {
  EXPECT_FALSE(DecodePayload("").ok());
  EXPECT_FALSE(DecodePayload("[]").ok());
  EXPECT_FALSE(DecodePayload(R"({"id":"x","type":"weird","room":"r"})").ok());
}

}  // namespace
}  // namespace danmu::core
