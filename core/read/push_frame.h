#pragma once
// Wire forms of pushed frames (DESIGN §12), for both long-connection
// transports, and the close codes they use. Pure functions: the hub frames a
// broadcast once per transport and queues the same bytes to every connection,
// which is why the WebSocket framing is ours (server frames are unmasked, so
// a frame is the same bytes for every client) rather than Beast's stream.
//
// A data frame's payload is a JSON object of the poll response's shape
// ({"messages","cursor","likes","online","state","next_poll_ms","degrade"}).
//   WebSocket: one text message per frame.
//   SSE:       "id: <cursor>\ndata: <json>\n\n" (the id is the cursor, so a
//              browser's EventSource reconnects with Last-Event-ID = cursor).
// Control frames:
//   resync     {"resync":true,"cursor":"<c>"}: queued frames were dropped (slow
//              consumer); the server resumes from <c>, nothing is lost.
//              SSE: "event: resync\nid: <c>\ndata: ...".
//   close      WebSocket close frame with a code below; SSE: "event: close\n
//              data: {"close":{"code":N,"reason":"..."}}" and the stream ends.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace danmu::core {

// Close codes (WebSocket close frames; SSE's close event carries the same).
enum PushCloseCode : uint16_t {
  kCloseNormal = 1000,        // not sent by the server except as an echo
  kCloseGoingAway = 1001,     // server shutting down: reconnect with your cursor
  kCloseProtocolError = 1002, // bad frame: unmasked, reserved bits, bad opcode, fragmented control
  kCloseUnsupportedData = 1003,  // a client data frame (text or binary): none is accepted
  kCloseTooBig = 1009,        // a client frame longer than push.max_client_frame_bytes
  kCloseResume = 4000,        // slow consumer: reconnect with your cursor (no gap, no repeat)
  kCloseUsePolling = 4001,    // operator switch: move to polling with your cursor
  kCloseIdle = 4002,          // no pong / no traffic within push.idle_timeout_ms
};
std::string_view CloseReason(uint16_t code);

enum class PushTransport { kWebSocket, kSse };
std::string_view TransportName(PushTransport t);  // "ws" | "sse"

// WebSocket (RFC 6455) server frames: FIN set, unmasked.
std::string WsTextFrame(std::string_view payload);
std::string WsCloseFrame(uint16_t code, std::string_view reason);
std::string WsPingFrame(std::string_view payload);
std::string WsPongFrame(std::string_view payload);
// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
std::string WsAcceptKey(std::string_view client_key);

// SSE events.
std::string SseDataEvent(std::string_view cursor, std::string_view json);
std::string SseResyncEvent(std::string_view cursor, std::string_view json);
std::string SseCloseEvent(uint16_t code);
std::string SseComment(std::string_view text);  // ": text\n\n" (keep-alive)

// The resync control payload.
std::string ResyncJson(std::string_view cursor);
std::string CloseJson(uint16_t code);

// Incremental parser of client WebSocket frames. Feed bytes as they come;
// Next() yields complete frames or an error with the close code to send.
class WsFrameParser {
 public:
  enum class Opcode : uint8_t { kContinuation = 0, kText = 1, kBinary = 2, kClose = 8, kPing = 9, kPong = 10 };
  struct Frame {
    Opcode opcode = Opcode::kClose;
    std::string payload;  // unmasked
  };
  struct Result {
    enum class Kind { kNeedMore, kFrame, kError } kind = Kind::kNeedMore;
    Frame frame;
    uint16_t close_code = 0;  // kError: the close code to send
    std::string error;        // kError: why, for the log
  };
  explicit WsFrameParser(size_t max_payload) : max_payload_(max_payload) {}
  void Feed(const char* data, size_t n) { buf_.append(data, n); }
  // Parses the next frame from what was fed. Data frames (text, binary,
  // continuation) are reported as errors: the protocol accepts none.
  Result Next();
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  size_t max_payload_;
  std::string buf_;
  size_t pos_ = 0;
};

}  // namespace danmu::core
