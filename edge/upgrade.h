#pragma once
// Edge-internal (includes Beast): how the HTTP session (edge/http_session.cc)
// hands a request that opens a long connection to the handler registered for
// it, transferring the socket. Included only by edge/*.cc; the rest of the
// tree never sees Beast.
//
// Which requests (ClassifyLongConnection):
//   GET /v1/rooms/{room}/ws      with "Upgrade: websocket"  -> kWebSocket
//   GET /v1/rooms/{room}/events                              -> kSse
// Until a handler is registered for a kind, such a request is an ordinary
// request: the HTTP session answers it through core::Frontend (today: 404
// "no such route"), exactly as before the edge existed.
//
// The protocol of a hand-off:
//   1. The HTTP session has read the request head (and its body, if any,
//      within the body limit), has checked the request-line/header limits,
//      and has NOT written anything for this request. Earlier responses on
//      the connection are completely written (a hand-off happens only with
//      an empty write queue), so the socket is at a clean message boundary.
//   2. It cancels its timers (stream.expires_never()) and moves into a
//      LongConnection: the stream, the read buffer (it may already hold
//      bytes the client sent after the request head, e.g. the first
//      WebSocket frame: the handler must consume them before reading the
//      socket), the Beast request (for websocket::stream::async_accept(req)),
//      the same request in our types, and the connection's lease.
//   3. It calls the handler once, on the connection's strand (the stream's
//      executor), and forgets the connection: the HTTP session object ends.
//      The handler owns everything from here. It must not block (it runs on
//      an I/O thread): start async operations and return.
//   4. The lease stays with the connection: it is still counted once in the
//      per-process and per-address caps (edge/connection_limits.h), until
//      the handler's session destroys it.
// A handler that refuses (bad handshake, room invalid) answers on the stream
// itself (e.g. an HTTP 400 written with Beast) and closes.
//
// Thread safety: Register() only before the server starts (the registry is
// read without a lock afterwards); Find() from any I/O thread.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/http/http_types.h"
#include "edge/connection_limits.h"

namespace danmu::edge {

enum class LongKind { kWebSocket = 0, kSse = 1 };
constexpr int kLongKinds = 2;

struct LongConnection {
  LongKind kind = LongKind::kSse;
  std::string live_room;                       // validated by the handler (core::IsValidLiveRoom)
  boost::beast::tcp_stream stream;             // expiry off; the strand executor of the connection
  boost::beast::flat_buffer buffer;            // bytes already read past the request head
  boost::beast::http::request<boost::beast::http::string_body> request;
  core::HttpRequest parsed;                    // path, decoded query, lower-case headers, client_address
  ConnectionLease lease;                       // this connection's slot in ConnectionLimits

  explicit LongConnection(boost::beast::tcp_stream s) : stream(std::move(s)) {}
};

using LongConnectionHandler = std::function<void(LongConnection&& connection)>;

class UpgradeRegistry {
 public:
  // Before Server::Start only. A second registration of a kind replaces the first.
  void Register(LongKind kind, LongConnectionHandler handler) { handlers_[static_cast<int>(kind)] = std::move(handler); }
  // nullptr while nothing is registered for `kind`.
  const LongConnectionHandler* Find(LongKind kind) const {
    const auto& h = handlers_[static_cast<int>(kind)];
    return h ? &h : nullptr;
  }

 private:
  LongConnectionHandler handlers_[kLongKinds];
};

// The long-connection kind a request asks for, and its live room (unchecked
// text of the path segment); nullopt for every other request.
inline std::optional<LongKind> ClassifyLongConnection(const core::HttpRequest& req, std::string* live_room) {
  if (req.method != "GET") return std::nullopt;
  std::string_view seg[5];
  if (core::PathSegmentViews(req.path, seg, 5) != 4 || seg[0] != "v1" || seg[1] != "rooms") return std::nullopt;
  std::optional<LongKind> kind;
  if (seg[3] == "events") {
    kind = LongKind::kSse;
  } else if (seg[3] == "ws") {
    std::string up = req.Header("upgrade");
    for (auto& c : up) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (up == "websocket") kind = LongKind::kWebSocket;
  }
  if (kind && live_room) live_room->assign(seg[2]);
  return kind;
}

}  // namespace danmu::edge
