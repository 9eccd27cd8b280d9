#pragma once
// One push connection's queue of frames waiting to be written, bounded in
// bytes (DESIGN §12, backpressure).
//
// Frames are shared, already framed bytes (a broadcast frame is one string
// for every connection of its room), each tagged with the cursor a client
// holds once it has read it. The transport takes everything queued at once
// and writes it as one gathered write (coalescing), so at most `max_bytes`
// wait here and at most one taken batch is being written: a connection costs
// at most about 2 x max_bytes of frames whatever its client does.
//
// A data frame that would pass the bound is refused and the queue is emptied
// (kOverflow): the hub then rewinds the connection to `delivered()` — the
// cursor after the last frame handed to the transport — and tells the client
// to resync (or closes it). The client never sees a gap: whatever was dropped
// is pulled again after the rewind point.
//
// Thread safety: every method may be called from any thread (one mutex); the
// hub pushes from its thread, the session takes from its I/O thread.
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/model/cursor.h"

namespace danmu::core {

struct OutFrame {
  enum class Kind { kNotifyPull, kBroadcast, kControl };
  std::shared_ptr<const std::string> bytes;  // framed for the connection's transport
  std::optional<Cursor> cursor;              // the client's cursor after this frame (data frames)
  Kind kind = Kind::kControl;
  int64_t visible_mono_ms = 0;               // when its newest messages became visible (0: n/a)
  bool close_after = false;                  // the transport closes after writing it
};

// Process-wide figures every queue of a process adds to (for the gauges):
// the bytes queued now, summed, and the most bytes any one queue has held
// since the process started — the figure the per-connection bound speaks
// of, which the sum cannot show (many healthy queues add up).
struct SendQueueTotals {
  std::atomic<int64_t> bytes{0};
  std::atomic<int64_t> peak_one_queue{0};
  void Grew(size_t queue_bytes_now, size_t added);
  void Shrank(size_t removed);
};

class SendQueue {
 public:
  enum class PushResult { kQueued, kOverflow, kClosed };

  // `start`: the connection's cursor when it opened (none: the recent tail).
  // `totals` (may be null) follows this queue's bytes as they come and go.
  SendQueue(size_t max_bytes, std::optional<Cursor> start, SendQueueTotals* totals = nullptr);
  ~SendQueue();
  SendQueue(const SendQueue&) = delete;
  SendQueue& operator=(const SendQueue&) = delete;

  // A data frame. Past the bound: nothing is queued, the queue is emptied
  // and kOverflow returned. A frame is always accepted into an empty queue.
  PushResult PushData(OutFrame frame);
  // A small control frame (resync, close, ping), queued past the bound. A
  // frame with close_after closes the queue: later pushes get kClosed.
  PushResult PushControl(OutFrame frame);
  // Refuses every later push and drops what is queued (the transport died).
  void Close();
  // Drops what is queued, queues `last` (a close frame) and refuses every
  // later push: a connection refused mid-stream gets its close frame only.
  void CloseWith(OutFrame last);

  // Everything queued, oldest first; advances delivered().
  std::vector<OutFrame> TakeAll();
  std::optional<Cursor> delivered() const;
  size_t bytes() const;
  size_t max_bytes() const { return max_bytes_; }
  bool closed() const;

 private:
  void DropLocked();  // mu_ held

  const size_t max_bytes_;
  SendQueueTotals* totals_;
  mutable std::mutex mu_;
  std::deque<OutFrame> frames_;        // guarded by mu_
  size_t bytes_ = 0;                   // guarded by mu_
  std::optional<Cursor> delivered_;    // guarded by mu_
  bool closed_ = false;                // guarded by mu_
};

}  // namespace danmu::core
