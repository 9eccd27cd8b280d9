#pragma once
// The WebSocket transport of push (DESIGN §12):
//   GET /v1/rooms/{room}/ws?uid=&cursor=   (Upgrade: websocket, RFC 6455)
// Every server message is a text frame holding one pushed frame (a JSON
// object of the poll answer's shape, core/read/push_frame.h). The client
// sends no data frames: only ping, pong and close.
//
// Refusals: handshake errors are HTTP answers before the upgrade — 400
// bad_handshake (no Sec-WebSocket-Key, not "Connection: Upgrade"), 426 with
// "Sec-WebSocket-Version: 13" for another version, and whatever PushHub::Open
// refuses (400 bad room/uid/cursor, 404, 429 handshake rate or per-address
// cap, 503 process cap or use_polling). After the upgrade every refusal is
// a close frame: 1002 protocol error (unmasked, reserved bits, unknown
// opcode, fragmented control), 1003 a client text or binary frame, 1009 a
// frame longer than push.max_client_frame_bytes, 4002 idle (nothing, not
// even a pong, for push.idle_timeout_ms), 4000 slow consumer and 4001 use
// polling (from the hub), 1001 server shutting down.
//
// Why our own framing instead of Beast's websocket::stream: a broadcast frame
// is framed once and the same bytes are queued to thousands of connections;
// Beast's stream frames every message itself (a copy and a frame header per
// connection) and cannot write pre-framed shared bytes. Server frames are
// unmasked, so framing once is exact; the client side needs only the small
// control-frame parser in core/read/push_frame.h.
#include "edge/push_session_context.h"

namespace danmu::edge {

class UpgradeRegistry;

// Registers the WebSocket handler (before the server starts).
void RegisterWebSocket(UpgradeRegistry& registry, PushSessionContext ctx);

}  // namespace danmu::edge
