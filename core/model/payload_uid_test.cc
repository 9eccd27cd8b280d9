#include "core/model/payload_uid.h"

#include <gtest/gtest.h>

#include "core/model/message.h"

namespace danmu::core {
namespace {

TEST(PayloadUid, IsTheFieldNotTextThatLooksLikeIt) {
  Message m;
  m.id = "A-9";
  m.type = MessageType::kComment;
  m.live_room = "uid";
  m.uid = "viewer.1";
  m.text = R"(,"uid":"mallory")";  // client text shaped like the field
  std::string payload = EncodePayload(m);
  std::string_view uid;
  ASSERT_TRUE(PayloadUid(payload, &uid)) << payload;
  EXPECT_EQ(uid, "viewer.1");
  EXPECT_EQ(PayloadId(payload), "A-9");

  // A uid holding an escape is not taken as written: the caller decodes.
  m.uid = "a<b";
  payload = EncodePayload(m);
  EXPECT_FALSE(PayloadUid(payload, &uid)) << payload;
  auto decoded = DecodePayload(payload);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->uid, "a<b");

  // Likes and presence records have no uid field ("uids" is not "uid").
  Message p;
  p.id = "A-10";
  p.type = MessageType::kPresence;
  p.live_room = "r";
  p.uids = {"x"};
  EXPECT_FALSE(PayloadUid(EncodePayload(p), &uid));
  EXPECT_FALSE(PayloadUid("", &uid));
  EXPECT_FALSE(PayloadUid(R"({"uid":"first-member"})", &uid));  // not where EncodePayload puts it
}

}  // namespace
}  // namespace danmu::core
