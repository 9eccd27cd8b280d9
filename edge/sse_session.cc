#include "edge/sse_session.h"

#include "core/read/push_frame.h"
#include "edge/push_session.h"

namespace danmu::edge {
namespace {

class SseSession final : public PushSession {
 public:
  using PushSession::PushSession;

  void Start() {
    const core::HttpRequest& req = conn_.parsed;
    core::PushOpenRequest open;
    open.transport = core::PushTransport::kSse;
    open.live_room = conn_.live_room;
    open.uid = req.Query("uid");
    // EventSource reconnects with Last-Event-ID (the cursor of the last event).
    open.cursor = req.Header("last-event-id");
    if (open.cursor.empty()) open.cursor = req.Query("cursor");
    open.client_address = req.client_address;
    open.authorized = authorized(req);
    core::PushOpenResult r = ctx_.hub->Open(open);
    if (!r.sub) {
      Refuse(r.refusal);
      return;
    }
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                       "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n"
                       "retry: 2000\n\n";
    Begin(std::move(r.sub), std::move(head));
  }

 private:
  void OnBytes(const char*, size_t n) override {
    // An SSE client sends nothing after its request; a client that streams
    // data at us is refused rather than buffered.
    received_ += n;
    if (received_ > static_cast<size_t>(ctx_.options.max_client_frame_bytes)) {
      if (ctx_.metrics) ctx_.metrics->Close(core::PushTransport::kSse, core::kCloseUnsupportedData);
      core::OutFrame f;
      f.bytes = std::make_shared<const std::string>(core::SseCloseEvent(core::kCloseUnsupportedData));
      f.close_after = true;
      sub_->queue.CloseWith(std::move(f));
      Kick();
    }
  }

  void OnTick(int64_t) override { QueueControl(core::SseComment("ping"), false); }

  size_t received_ = 0;
};

}  // namespace

void RegisterSse(UpgradeRegistry& registry, PushSessionContext ctx) {
  registry.Register(LongKind::kSse, [ctx = std::move(ctx)](LongConnection&& c) {
    std::make_shared<SseSession>(std::move(c), ctx)->Start();
  });
}

}  // namespace danmu::edge
