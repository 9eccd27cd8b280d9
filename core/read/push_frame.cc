#include "core/read/push_frame.h"

#include <Poco/Base64Encoder.h>
#include <Poco/SHA1Engine.h>

#include <sstream>

#include "core/base/json_text.h"

namespace danmu::core {
namespace {

std::string WsFrame(uint8_t opcode, std::string_view payload) {
  std::string out;
  const size_t n = payload.size();
  out.reserve(n + 10);
  out.push_back(static_cast<char>(0x80 | opcode));  // FIN, no mask (server frames)
  if (n < 126) {
    out.push_back(static_cast<char>(n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>((n >> 8) & 0xFF));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((static_cast<uint64_t>(n) >> (8 * i)) & 0xFF));
  }
  out.append(payload);
  return out;
}

}  // namespace

std::string_view CloseReason(uint16_t code) {
  switch (code) {
    case kCloseNormal: return "normal";
    case kCloseGoingAway: return "going_away";
    case kCloseProtocolError: return "protocol_error";
    case kCloseUnsupportedData: return "unsupported_data";
    case kCloseTooBig: return "too_big";
    case kCloseResume: return "resume";
    case kCloseUsePolling: return "use_polling";
    case kCloseIdle: return "idle";
    default: return "other";
  }
}

std::string_view TransportName(PushTransport t) { return t == PushTransport::kWebSocket ? "ws" : "sse"; }

std::string WsTextFrame(std::string_view payload) { return WsFrame(0x1, payload); }
std::string WsPingFrame(std::string_view payload) { return WsFrame(0x9, payload.substr(0, 125)); }
std::string WsPongFrame(std::string_view payload) { return WsFrame(0xA, payload.substr(0, 125)); }

std::string WsCloseFrame(uint16_t code, std::string_view reason) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  p.append(reason.substr(0, 123));
  return WsFrame(0x8, p);
}

std::string WsAcceptKey(std::string_view client_key) {
  Poco::SHA1Engine sha;
  sha.update(client_key.data(), static_cast<unsigned>(client_key.size()));
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  sha.update(kGuid.data(), static_cast<unsigned>(kGuid.size()));
  const Poco::DigestEngine::Digest& d = sha.digest();
  std::ostringstream out;
  Poco::Base64Encoder enc(out);
  enc.write(reinterpret_cast<const char*>(d.data()), static_cast<std::streamsize>(d.size()));
  enc.close();
  return out.str();
}

std::string SseDataEvent(std::string_view cursor, std::string_view json) {
  std::string out;
  out.reserve(json.size() + cursor.size() + 16);
  out.append("id: ").append(cursor).append("\ndata: ").append(json).append("\n\n");
  return out;
}

std::string SseResyncEvent(std::string_view cursor, std::string_view json) {
  std::string out = "event: resync\n";
  if (!cursor.empty()) out.append("id: ").append(cursor).append("\n");
  out.append("data: ").append(json).append("\n\n");
  return out;
}

std::string SseCloseEvent(uint16_t code) { return "event: close\ndata: " + CloseJson(code) + "\n\n"; }

std::string SseComment(std::string_view text) { return ": " + std::string(text) + "\n\n"; }

std::string ResyncJson(std::string_view cursor) {
  std::string out = "{\"resync\":true";
  if (!cursor.empty()) {
    out.append(",\"cursor\":");
    AppendJsonString(out, cursor);
  }
  return out + "}";
}

std::string CloseJson(uint16_t code) {
  return "{\"close\":{\"code\":" + std::to_string(code) + ",\"reason\":\"" + std::string(CloseReason(code)) + "\"}}";
}

WsFrameParser::Result WsFrameParser::Next() {
  Result r;
  const size_t avail = buf_.size() - pos_;
  if (avail < 2) return r;
  const auto* p = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
  const bool fin = p[0] & 0x80;
  const uint8_t rsv = p[0] & 0x70;
  const uint8_t opcode = p[0] & 0x0F;
  const bool masked = p[1] & 0x80;
  uint64_t len = p[1] & 0x7F;
  size_t header = 2;
  auto fail = [&](uint16_t code, std::string why) {
    r.kind = Result::Kind::kError;
    r.close_code = code;
    r.error = std::move(why);
    return r;
  };
  if (rsv) return fail(kCloseProtocolError, "reserved bits set");
  if (!masked) return fail(kCloseProtocolError, "client frame not masked");
  const bool control = opcode & 0x8;
  if (opcode != 0 && opcode != 1 && opcode != 2 && opcode != 8 && opcode != 9 && opcode != 10) {
    return fail(kCloseProtocolError, "unknown opcode " + std::to_string(opcode));
  }
  if (control && (!fin || len > 125)) return fail(kCloseProtocolError, "fragmented or long control frame");
  if (len == 126) {
    if (avail < 4) return r;
    len = (uint64_t{p[2]} << 8) | p[3];
    header = 4;
  } else if (len == 127) {
    if (avail < 10) return r;
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
    header = 10;
  }
  // Checked before the payload is read: an oversize frame is refused at its header.
  if (len > max_payload_) return fail(kCloseTooBig, "frame of " + std::to_string(len) + " bytes");
  if (opcode == 0) return fail(kCloseProtocolError, "continuation without a data message");
  if (opcode == 1 || opcode == 2) {
    return fail(kCloseUnsupportedData, opcode == 1 ? "client text frame" : "client binary frame");
  }
  if (avail < header + 4 + len) return r;
  const unsigned char* mask = p + header;
  const unsigned char* data = mask + 4;
  r.frame.opcode = static_cast<Opcode>(opcode);
  r.frame.payload.resize(len);
  for (uint64_t i = 0; i < len; ++i) r.frame.payload[i] = static_cast<char>(data[i] ^ mask[i % 4]);
  pos_ += header + 4 + len;
  if (pos_ > 4096 && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  r.kind = Result::Kind::kFrame;
  return r;
}

}  // namespace danmu::core
