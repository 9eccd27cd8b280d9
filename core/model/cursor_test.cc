#include "core/model/cursor.h"

#include <gtest/gtest.h>

namespace danmu::core {
namespace {

TEST(CursorTest, RoundTrip) {
  CursorCodec codec("secret");
  Cursor c;
  c.after = {1, 0, 1234567890123, 42};
  auto token = codec.Encode("room1", c);
  auto back = codec.Decode("room1", token);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, c);
}

TEST(CursorTest, RejectsCorruptedForgedAndForeignCursors) {
  CursorCodec codec("secret");
  Cursor c;
  c.after = {10, 20, 30, 40};
  std::string token = codec.Encode("room1", c);
  // Every single-character corruption is detected.
  for (size_t i = 0; i < token.size(); ++i) {
    std::string bad = token;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(codec.Decode("room1", bad).ok()) << "position " << i;
  }
  EXPECT_FALSE(codec.Decode("room2", token).ok()) << "a cursor is bound to its live room";
  EXPECT_FALSE(CursorCodec("other").Decode("room1", token).ok()) << "forged with another key";
  for (const std::string& junk : std::vector<std::string>{"", "x", "!!!!", std::string(500, 'A'), std::string("\0\1", 2), "Zm9vYmFy"}) {
    EXPECT_FALSE(codec.Decode("room1", junk).ok()) << junk;
  }
}

TEST(CursorTest, SameSecretWorksInBothRooms) {
  Cursor c;
  c.after = {5, 6, 7, 8};
  auto token = CursorCodec("shared").Encode("r", c);
  EXPECT_TRUE(CursorCodec("shared").Decode("r", token).ok());
}

}  // namespace
}  // namespace danmu::core
