#include "core/read/push_frame.h"

#include <gtest/gtest.h>

namespace danmu::core {
namespace {

std::string Masked(uint8_t first, std::string_view payload, bool mask = true, int64_t fake_len = -1) {
  std::string f;
  f.push_back(static_cast<char>(first));
  uint64_t n = fake_len >= 0 ? static_cast<uint64_t>(fake_len) : payload.size();
  uint8_t m = mask ? 0x80 : 0;
  if (n < 126) {
    f.push_back(static_cast<char>(m | n));
  } else if (n <= 0xFFFF) {
    f.push_back(static_cast<char>(m | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xFF));
  } else {
    f.push_back(static_cast<char>(m | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  }
  const unsigned char key[4] = {0x11, 0x22, 0x33, 0x44};
  if (mask) f.append(reinterpret_cast<const char*>(key), 4);
  for (size_t i = 0; i < payload.size(); ++i) {
    f.push_back(static_cast<char>(payload[i] ^ (mask ? key[i % 4] : 0)));
  }
  return f;
}

TEST(PushFrame, ServerTextFrameLengths) {
  auto small = WsTextFrame("hi");
  ASSERT_EQ(small.size(), 4u);
  EXPECT_EQ(static_cast<unsigned char>(small[0]), 0x81);
  EXPECT_EQ(small[1], 2);
  auto mid = WsTextFrame(std::string(300, 'a'));
  EXPECT_EQ(static_cast<unsigned char>(mid[1]), 126);
  EXPECT_EQ((static_cast<unsigned char>(mid[2]) << 8) | static_cast<unsigned char>(mid[3]), 300);
  EXPECT_EQ(mid.size(), 304u);
  auto big = WsTextFrame(std::string(70000, 'a'));
  EXPECT_EQ(static_cast<unsigned char>(big[1]), 127);
  EXPECT_EQ(big.size(), 70010u);
  auto close = WsCloseFrame(kCloseResume, "resume");
  EXPECT_EQ(static_cast<unsigned char>(close[0]), 0x88);
  EXPECT_EQ((static_cast<unsigned char>(close[2]) << 8) | static_cast<unsigned char>(close[3]), 4000);
}

TEST(PushFrame, AcceptKeyFromRfc6455) {
  EXPECT_EQ(WsAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(PushFrame, SseEvents) {
  EXPECT_EQ(SseDataEvent("C1", "{\"a\":1}"), "id: C1\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(SseCloseEvent(kCloseUsePolling),
            "event: close\ndata: {\"close\":{\"code\":4001,\"reason\":\"use_polling\"}}\n\n");
  EXPECT_EQ(ResyncJson("C2"), "{\"resync\":true,\"cursor\":\"C2\"}");
  EXPECT_EQ(ResyncJson(""), "{\"resync\":true}");
  EXPECT_EQ(SseResyncEvent("C2", ResyncJson("C2")), "event: resync\nid: C2\ndata: {\"resync\":true,\"cursor\":\"C2\"}\n\n");
}

TEST(WsFrameParser, ControlFramesByteByByte) {
  WsFrameParser p(1024);
  std::string wire = Masked(0x89, "ping!") + Masked(0x8A, "") + Masked(0x88, std::string("\x03\xe8", 2));
  std::vector<WsFrameParser::Frame> got;
  for (char c : wire) {
    p.Feed(&c, 1);
    while (true) {
      auto r = p.Next();
      ASSERT_NE(r.kind, WsFrameParser::Result::Kind::kError) << r.error;
      if (r.kind == WsFrameParser::Result::Kind::kNeedMore) break;
      got.push_back(r.frame);
    }
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].opcode, WsFrameParser::Opcode::kPing);
  EXPECT_EQ(got[0].payload, "ping!");
  EXPECT_EQ(got[1].opcode, WsFrameParser::Opcode::kPong);
  EXPECT_EQ(got[2].opcode, WsFrameParser::Opcode::kClose);
  EXPECT_EQ(p.buffered(), 0u);
}

uint16_t ErrorOf(const std::string& wire, size_t max = 1024) {
  WsFrameParser p(max);
  p.Feed(wire.data(), wire.size());
  auto r = p.Next();
  return r.kind == WsFrameParser::Result::Kind::kError ? r.close_code : 0;
}

TEST(WsFrameParser, RefusalsEachWithItsCode) {
  EXPECT_EQ(ErrorOf(Masked(0x89, "x", /*mask=*/false)), kCloseProtocolError);  // unmasked
  EXPECT_EQ(ErrorOf(Masked(0xC9, "x")), kCloseProtocolError);                   // RSV1
  EXPECT_EQ(ErrorOf(Masked(0x83, "x")), kCloseProtocolError);                   // opcode 3
  EXPECT_EQ(ErrorOf(Masked(0x09, "x")), kCloseProtocolError);                   // fragmented ping
  EXPECT_EQ(ErrorOf(Masked(0x80, "x")), kCloseProtocolError);                   // stray continuation
  EXPECT_EQ(ErrorOf(Masked(0x81, "hello")), kCloseUnsupportedData);             // text
  EXPECT_EQ(ErrorOf(Masked(0x82, "\x01\x02")), kCloseUnsupportedData);          // binary
  // Oversize: refused from the header alone, before any payload arrives.
  std::string header_only = Masked(0x82, "", true, 1 << 20);
  EXPECT_EQ(ErrorOf(header_only, 4096), kCloseTooBig);
  EXPECT_EQ(ErrorOf(Masked(0x82, std::string(5000, 'a')), 4096), kCloseTooBig);
}

TEST(WsFrameParser, PartialHeaderNeedsMore) {
  WsFrameParser p(1024);
  std::string w = Masked(0x89, std::string(100, 'a'));
  p.Feed(w.data(), 1);
  EXPECT_EQ(p.Next().kind, WsFrameParser::Result::Kind::kNeedMore);
  p.Feed(w.data() + 1, 5);
  EXPECT_EQ(p.Next().kind, WsFrameParser::Result::Kind::kNeedMore);
  p.Feed(w.data() + 6, w.size() - 6);
  auto r = p.Next();
  ASSERT_EQ(r.kind, WsFrameParser::Result::Kind::kFrame);
  EXPECT_EQ(r.frame.payload, std::string(100, 'a'));
}

}  // namespace
}  // namespace danmu::core
