#pragma once
// Push fan-out (DESIGN §12): which frame each long connection (WebSocket or
// SSE, in edge/) is sent, and when.
//
// Why here, in api/: a pushed frame is exactly a poll answer (PollView, this
// layer) under the degradation in force (degrade/, the layer below); the
// transport-independent pieces it uses — send queues, fan-out mode, wire
// forms, the subscription — live in read/, which may not include either.
//
// Protocol, one round per refresh that brought a subscribed room new
// messages (RoomCache's listener; rooms with lagging or deferred connections
// are also revisited every push.tick_ms):
//   1. T = the room's top per type in the cache now; every pull of the round
//      is pinned to T (PollRequest::until), so connections that were level
//      end level.
//   2. notify-pull room: every connection pulls after its own cursor with its
//      own uid — the very request its poll would make (own comments kept
//      under thinning) — and gets the answer, framed for its transport.
//      broadcast room: connections are grouped by cursor; one poll and one
//      render per group (in steady state one group: one frame per room per
//      round), framed once per transport, the same bytes queued to each.
//   3. A frame carries the cursor after it; a connection's cursor advances
//      only when its frame is queued. Frames are sent only when they carry
//      messages or move the cursor (and always first: a connection opens with
//      the recent tail, or what follows its cursor, like a poll).
//   4. Backpressure: a queue over push.queue_max_bytes is dropped; the
//      connection is rewound to the cursor after the last frame its
//      transport took, sent a resync frame, and pulled again from there; past
//      push.max_resyncs it is closed with 4000 ("reconnect with your cursor").
//      (A connection opened without a cursor whose first frame was never
//      taken has no rewind point: it starts again with the recent tail.)
//      Nothing ever waits for a connection.
//   5. Degradation: level 2 thins frames (the poll's thinning); level 3 sends
//      a room at most one frame per next_poll_ms; the operator switch
//      (danmu:degrade field "push", fleet-wide) closes every connection with
//      4001 and refuses new ones with 503 use_polling.
// Mode switches (fanout_mode.h) are logged at WARN and counted.
//
// Thread safety: Open/Attach/Detach/OnRefresh/Rooms from any thread (mu_);
// rounds run on the hub's thread (or the caller of RunOnce, in tests; never
// both), which alone touches PushSubscription::hub.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/api/poll_view.h"
#include "core/base/clock.h"
#include "core/base/config.h"
#include "core/degrade/degrade_view.h"
#include "core/http/http_types.h"
#include "core/model/rate_limiter.h"
#include "core/read/drain_schedule.h"
#include "core/read/fanout_mode.h"
#include "core/read/push_metrics.h"
#include "core/read/push_subscription.h"
#include "core/read/room_cache.h"

namespace danmu::core {

struct PushHubHooks {
  std::function<DegradeView(const std::string& live_room)> degrade;  // default: level 0
  std::function<bool()> poll_only;                                   // the operator switch; default: off
  // A long connection with a uid counts as an online viewer (like a poll).
  std::function<void(const std::string& live_room, const std::string& uid)> presence;
};

struct PushOpenRequest {
  PushTransport transport = PushTransport::kWebSocket;
  std::string live_room;
  std::string uid;            // may be empty
  std::string cursor;         // may be empty: the recent tail
  std::string client_address;
  bool authorized = false;    // carries the admin token (reserved rooms)
};

struct PushOpenResult {
  std::shared_ptr<PushSubscription> sub;  // null: refused with `refusal`
  HttpResponse refusal;
  std::string reason;                     // refusal reason (metric label)
};

class PushHub {
 public:
  PushHub(const Config& config, ReadModel* model, const CursorCodec* cursors, PushHubHooks hooks, const Clock& clock,
          PushMetrics* metrics);
  ~PushHub();

  void Start();
  // Closes every connection with 1001 (reconnect with your cursor) and stops.
  void Stop();

  // Validates a handshake and reserves its slot under the caps; the caller
  // must Detach the result (attached or not) when the connection ends.
  PushOpenResult Open(const PushOpenRequest& req);
  void Attach(const std::shared_ptr<PushSubscription>& sub);
  void Detach(const std::shared_ptr<PushSubscription>& sub);
  // RoomCache's listener (refresher thread): notes the rooms, returns.
  void OnRefresh(const std::vector<RefreshNote>& notes);
  // One round over every room with something to do.
  void RunOnce();

  struct RoomStatus {
    std::string live_room;
    FanoutMode mode;
    size_t subscribers;
  };
  // Rooms with long connections, the biggest first, at most `max`.
  std::vector<RoomStatus> Rooms(size_t max) const;
  size_t connections() const;
  // GET /v1/admin/push: {"enabled","poll_only","connections","broadcast_at",
  // "notify_pull_below","rooms":[{"live_room","mode","subscribers"}]} with
  // the biggest `max_rooms` rooms.
  std::string StatusJson(size_t max_rooms) const;
  bool poll_only() const { return poll_only_.load(); }
  // Drain (danmuctl edge drain, or SIGTERM with push.drain_spread_ms): new
  // long connections are refused with 503 draining, and the open ones are
  // closed with 1001 ("reconnect elsewhere: ask the router", the client
  // contract) evenly over `spread_ms`, oldest first, so that their clients
  // reach the other edges as a stream, not a stampede. Undrain() accepts
  // again and stops the closes. Any thread.
  void Drain(int64_t spread_ms);
  void Undrain();
  bool draining() const;
  FanoutMode ModeOf(const std::string& live_room) const;

 private:
  struct Room {
    std::set<std::shared_ptr<PushSubscription>> subs;
    FanoutMode mode = FanoutMode::kNotifyPull;
    int64_t last_frame_ms = 0;
    // Count-only changes (likes, online) and degradation changes reach the
    // connections through the sweep: at most one such frame per second per
    // room, however often the counts move.
    bool counts_dirty = false;
    int degrade_key = -1;  // DegradeKey of the view the sweep last saw (-1: none yet)
  };
  struct Pending {
    int64_t visible_mono_ms = 0;  // earliest visible time of what is new (0: nothing new)
  };
  void ProcessRoom(const std::string& live_room, int64_t visible_mono_ms);
  // Queues `bytes` to `sub` as a data frame; false when the queue overflowed.
  bool Deliver(PushSubscription& sub, const std::shared_ptr<const std::string>& bytes, const Cursor& next,
               OutFrame::Kind kind, int64_t visible_mono_ms);
  void Resync(PushSubscription& sub);
  void CloseSub(PushSubscription& sub, uint16_t code);
  void CloseAll(uint16_t code);
  void DrainStep();  // closes the connections the drain schedule has made due
  void Sweep();
  void Repend(const std::string& live_room, int64_t visible_mono_ms);
  void Loop();
  PushOpenResult Refuse(const PushOpenRequest& req, HttpResponse r, std::string reason);

  const Config& config_;
  ReadModel* model_;
  const CursorCodec* cursors_;
  PollView view_;
  PushHubHooks hooks_;
  const Clock& clock_;
  PushMetrics* metrics_;
  const FanoutThresholds thresholds_;
  RateLimiter handshakes_;
  std::atomic<bool> poll_only_{false};
  int64_t last_sweep_ms_ = 0;  // hub thread

  mutable std::mutex mu_;
  std::map<std::string, Room> rooms_;              // guarded by mu_
  std::map<std::string, Pending> pending_;         // guarded by mu_
  std::map<std::string, int> per_address_;         // open slots per client address, guarded by mu_
  size_t open_ = 0;                                // open slots (attached or not), guarded by mu_
  uint64_t next_id_ = 1;                           // guarded by mu_
  bool stop_ = true;                               // the thread is not running; guarded by mu_
  bool shut_down_ = false;                         // Stop() was called: refuse new connections; guarded by mu_
  bool draining_ = false;                          // guarded by mu_
  std::optional<DrainSchedule> drain_;             // the closes of the drain in progress; guarded by mu_
  std::vector<std::weak_ptr<PushSubscription>> drain_order_;  // its connections, oldest first; guarded by mu_
  size_t drain_closed_ = 0;                        // how many of drain_order_ were closed; guarded by mu_
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace danmu::core
