#include "core/model/cursor.h"

#include "core/base/secret_compare.h"

#include <cstring>

namespace danmu::core {
namespace {

constexpr unsigned char kVersion = 1;
constexpr size_t kBodyLen = 1 + 8 * kStoredTypeCount;
constexpr size_t kMacLen = 8;
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string B64UrlEncode(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  size_t rest = in.size() - i;
  if (rest) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (rest == 2) v |= uint8_t(in[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    if (rest == 2) out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

bool B64UrlDecode(std::string_view in, std::string* out) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  if (in.size() % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = val(c);
    if (v < 0) return false;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

}  // namespace

HmacSha1::Digest CursorCodec::Mac(std::string_view live_room, std::string_view body) const {
  return mac_.Mac({live_room, std::string_view("\0", 1), body});
}

std::string CursorCodec::Encode(std::string_view live_room, const Cursor& c) const {
  char raw[kBodyLen + kMacLen];
  raw[0] = static_cast<char>(kVersion);
  size_t n = 1;
  for (int64_t s : c.after) {
    auto u = static_cast<uint64_t>(s);
    for (int i = 7; i >= 0; --i) raw[n++] = static_cast<char>((u >> (8 * i)) & 0xFF);
  }
  auto mac = Mac(live_room, std::string_view(raw, kBodyLen));
  std::memcpy(raw + kBodyLen, mac.data(), kMacLen);
  return B64UrlEncode(std::string_view(raw, sizeof(raw)));
}

Result<Cursor> CursorCodec::Decode(std::string_view live_room, std::string_view token) const {
  std::string raw;
  raw.reserve(96);
  if (token.size() > 128 || !B64UrlDecode(token, &raw) || raw.size() != kBodyLen + kMacLen ||
      static_cast<unsigned char>(raw[0]) != kVersion) {
    return Status(Code::kInvalidArgument, "cursor is malformed");
  }
  std::string_view body(raw.data(), kBodyLen);
  auto expected = Mac(live_room, body);
  // Constant-time compare: the MAC is the only thing standing between a
  // client and an arbitrary cursor.
  const std::string_view expected_mac(reinterpret_cast<const char*>(expected.data()), kMacLen);
  if (!ConstantTimeEquals(std::string_view(raw).substr(kBodyLen, kMacLen), expected_mac)) return Status(Code::kInvalidArgument, "cursor is not valid for this room");
  Cursor c;
  for (int t = 0; t < kStoredTypeCount; ++t) {
    uint64_t u = 0;
    for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<uint8_t>(raw[1 + 8 * t + i]);
    c.after[t] = static_cast<int64_t>(u);
    if (c.after[t] < 0) return Status(Code::kInvalidArgument, "cursor is malformed");
  }
  return c;
}

}  // namespace danmu::core
