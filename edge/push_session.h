#pragma once
// Edge-internal (includes Beast/Asio): what the WebSocket and SSE sessions
// share — one long connection on its strand, writing what push fan-out
// (core/api/push_hub.h) queues for it (DESIGN §12).
//
// Write path: the hub queues framed bytes in the subscription's SendQueue
// and calls Wake(), which posts Flush() to the connection's strand (at most
// one post outstanding). Flush takes everything queued and writes it as ONE
// gathered async_write (frames coalesced; broadcast bytes are shared, never
// copied). A frame marked close_after ends the connection once written.
// Nothing blocks an I/O thread and nothing waits for a slow client: its
// queue is bounded by the hub.
//
// Read path and timers are the transport's (OnBytes, OnTick).
// Lifetime: the session is owned by its pending async operations
// (shared_from_this); on its end it detaches from the hub, which gives back
// its slot, and destroys the connection's lease (edge/connection_limits.h).
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/api/push_hub.h"
#include "core/base/clock.h"
#include "edge/push_session_context.h"
#include "edge/upgrade.h"

namespace danmu::edge {

class PushSession : public std::enable_shared_from_this<PushSession> {
 public:
  PushSession(LongConnection&& c, const PushSessionContext& ctx);
  virtual ~PushSession();

 protected:
  // Writes a complete HTTP refusal (status line, JSON error, Connection:
  // close) and closes once it is written.
  void Refuse(const core::HttpResponse& r);
  // Writes `head` (101 or the SSE response head), then attaches `sub`, reads
  // and ticks until the connection ends.
  void Begin(std::shared_ptr<core::PushSubscription> sub, std::string head);
  // Queues a control frame (pong, ping, close) on the connection's own queue.
  void QueueControl(std::string bytes, bool close_after);
  // Writes whatever is queued (on the strand).
  void Kick() { Flush(); }
  // Ends the connection now (socket closed, hub detached).
  void End();
  bool authorized(const core::HttpRequest& req) const;

  virtual void OnBytes(const char* data, size_t n) = 0;  // bytes from the client
  virtual void OnTick(int64_t now_mono_ms) = 0;          // every ping interval
  virtual void OnWritten() {}                           // after a batch was written

  LongConnection conn_;
  PushSessionContext ctx_;
  std::shared_ptr<core::PushSubscription> sub_;
  int64_t last_rx_ms_ = 0;

 private:
  void Flush();
  void Read();
  void Tick();
  void CloseAfterWrite();

  boost::asio::steady_timer timer_;
  std::array<char, 4096> rx_{};
  std::vector<core::OutFrame> batch_;  // being written
  bool writing_ = false;
  bool ended_ = false;
  bool closing_ = false;               // a close_after frame was written: no more reads matter
  std::atomic<bool> flush_posted_{false};
};

}  // namespace danmu::edge
