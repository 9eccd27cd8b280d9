#include "edge/ws_session.h"

#include "core/read/push_frame.h"
#include "edge/push_session.h"

namespace danmu::edge {
namespace {

using core::WsFrameParser;

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool HasToken(const std::string& header, const std::string& word) {
  std::string h = Lower(header);
  size_t i = 0;
  while (i <= h.size()) {
    size_t j = h.find(',', i);
    if (j == std::string::npos) j = h.size();
    std::string t = h.substr(i, j - i);
    t.erase(0, t.find_first_not_of(" \t"));
    t.erase(t.find_last_not_of(" \t") + 1);
    if (t == word) return true;
    i = j + 1;
  }
  return false;
}

class WsSession final : public PushSession {
 public:
  WsSession(LongConnection&& c, const PushSessionContext& ctx)
      : PushSession(std::move(c), ctx), parser_(static_cast<size_t>(ctx.options.max_client_frame_bytes)) {}

  void Start() {
    const core::HttpRequest& req = conn_.parsed;
    const std::string key = req.Header("sec-websocket-key");
    if (!HasToken(req.Header("connection"), "upgrade") || key.size() != 24 || key[22] != '=' || key[23] != '=') {
      if (ctx_.metrics) ctx_.metrics->Refuse(core::PushTransport::kWebSocket, "bad_handshake");
      Refuse(core::HttpResponse::Error(400, "bad_handshake",
                                       "a WebSocket handshake needs Connection: Upgrade and a Sec-WebSocket-Key"));
      return;
    }
    if (req.Header("sec-websocket-version") != "13") {
      if (ctx_.metrics) ctx_.metrics->Refuse(core::PushTransport::kWebSocket, "bad_handshake");
      core::HttpResponse r = core::HttpResponse::Error(426, "bad_handshake", "only WebSocket version 13 is spoken");
      r.headers["Sec-WebSocket-Version"] = "13";
      Refuse(r);
      return;
    }
    core::PushOpenRequest open;
    open.transport = core::PushTransport::kWebSocket;
    open.live_room = conn_.live_room;
    open.uid = req.Query("uid");
    open.cursor = req.Query("cursor");
    open.client_address = req.client_address;
    open.authorized = authorized(req);
    core::PushOpenResult r = ctx_.hub->Open(open);
    if (!r.sub) {
      Refuse(r.refusal);
      return;
    }
    std::string head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: " + core::WsAcceptKey(key) + "\r\n\r\n";
    Begin(std::move(r.sub), std::move(head));
  }

 private:
  void OnBytes(const char* data, size_t n) override {
    if (failed_) return;
    parser_.Feed(data, n);
    while (true) {
      WsFrameParser::Result r = parser_.Next();
      if (r.kind == WsFrameParser::Result::Kind::kNeedMore) return;
      if (r.kind == WsFrameParser::Result::Kind::kError) {
        Fail(r.close_code);
        return;
      }
      switch (r.frame.opcode) {
        case WsFrameParser::Opcode::kPing:
          QueueControl(core::WsPongFrame(r.frame.payload), false);
          break;
        case WsFrameParser::Opcode::kPong:
          break;  // last_rx_ms_ already moved
        case WsFrameParser::Opcode::kClose:
          // The client closes: echo its close and end.
          QueueControl(core::WsCloseFrame(core::kCloseNormal, "normal"), true);
          failed_ = true;
          return;
        default:
          Fail(core::kCloseProtocolError);
          return;
      }
    }
  }

  void Fail(uint16_t code) {
    failed_ = true;
    if (ctx_.metrics) ctx_.metrics->Close(core::PushTransport::kWebSocket, code);
    // Whatever was queued is dropped: the close frame goes out alone.
    core::OutFrame f;
    f.bytes = std::make_shared<const std::string>(core::WsCloseFrame(code, core::CloseReason(code)));
    f.close_after = true;
    sub_->queue.CloseWith(std::move(f));
    Kick();
  }

  void OnTick(int64_t now) override {
    if (now - last_rx_ms_ >= ctx_.options.idle_timeout_ms) {
      if (ctx_.metrics) ctx_.metrics->Close(core::PushTransport::kWebSocket, core::kCloseIdle);
      QueueControl(core::WsCloseFrame(core::kCloseIdle, "idle"), true);
      return;
    }
    QueueControl(core::WsPingFrame(""), false);
  }

  WsFrameParser parser_;
  bool failed_ = false;
};

}  // namespace

void RegisterWebSocket(UpgradeRegistry& registry, PushSessionContext ctx) {
  registry.Register(LongKind::kWebSocket, [ctx = std::move(ctx)](LongConnection&& c) {
    std::make_shared<WsSession>(std::move(c), ctx)->Start();
  });
}

}  // namespace danmu::edge
