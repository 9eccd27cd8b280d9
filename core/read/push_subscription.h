#pragma once
// One long connection (WebSocket or SSE) as push fan-out sees it: shared by
// the hub, which decides what it is sent, and the transport session in edge/,
// which writes it (DESIGN §12).
//
// Lifecycle: the session gets it from PushHub::Open (validated, within the
// caps), sets the wake callback, writes its handshake answer, then calls
// PushHub::Attach; from then on the hub queues frames and calls Wake(). The
// session calls PushHub::Detach when the connection ends, whoever ended it.
//
// Thread safety: the const fields and `queue` may be used from any thread;
// `wake` is set once before Attach (the hub's mutex orders it before any
// Wake()); `hub` is touched by the hub's thread only.
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/model/cursor.h"
#include "core/read/push_frame.h"
#include "core/read/send_queue.h"

namespace danmu::core {

class PushSubscription {
 public:
  PushSubscription(uint64_t id, std::string live_room, std::string uid, std::string client_address,
                   PushTransport transport, std::optional<Cursor> start, size_t max_queue_bytes,
                   SendQueueTotals* queue_totals)
      : id(id),
        live_room(std::move(live_room)),
        uid(std::move(uid)),
        client_address(std::move(client_address)),
        transport(transport),
        queue(max_queue_bytes, start, queue_totals) {
    hub.cursor = start;
  }

  const uint64_t id;
  const std::string live_room;
  const std::string uid;             // may be empty
  const std::string client_address;
  const PushTransport transport;
  SendQueue queue;
  std::atomic<bool> released{false};  // its slot under the caps was given back (PushHub::Detach)

  // Must not block: it posts "write what is queued" to the session's executor.
  void SetWake(std::function<void()> wake) { wake_ = std::move(wake); }
  void Wake() const {
    if (wake_) wake_();
  }

  // The hub's view of the connection (hub thread only).
  struct HubState {
    std::optional<Cursor> cursor;  // the client's cursor after everything queued
    bool initial_sent = false;     // the first frame (tail or catch-up) went out
    int resyncs = 0;
    int64_t last_presence_ms = 0;
    int64_t likes_sent = -1;       // the like and online counts of the last frame queued
    int64_t online_sent = -1;
    int degrade_sent = -1;         // PushHub's DegradeKey of the last frame queued
  } hub;

 private:
  std::function<void()> wake_;
};

}  // namespace danmu::core
