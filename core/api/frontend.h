#pragma once
// The public HTTP API of a room (DESIGN §4, §5):
//   POST /v1/rooms/{room}/messages   write a comment, gift or join (202 after Kafka acked)
//   GET  /v1/rooms/{room}/messages   poll: ?cursor=&limit=&uid=
//   POST /v1/rooms/{room}/likes      like burst {"uid","count"} (202 after the aggregated record was acked)
//   GET  /v1/rooms/{room}/users      recent viewers ?limit=
//   POST /v1/rooms/{room}/start|end  stream lifecycle
//   GET  /v1/status                  both rooms at a glance, no secrets (hook: monitoring/status_board.h)
//   GET  /, /watch/{room}, /status, /static/...   the pages (core/api/static_files.h)
// and the admin ingest of writes forwarded by a secondary room.
// Every error is {"error":{"code","message"}} with a 4xx/5xx status.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "core/api/static_files.h"
#include "core/base/clock.h"
#include "core/base/config.h"
#include "core/degrade/degrade_view.h"
#include "core/model/cursor.h"
#include "core/http/http_types.h"
#include "core/model/id_generator.h"
#include "core/live/like_aggregator.h"
#include "core/model/rate_limiter.h"

namespace prometheus { class Counter; class Gauge; }

namespace danmu::core {

class Metrics;
class RoomCache;
class RedisClient;
class WriteRoute;
class WorkPool;

struct FrontendHooks {
  // Degradation in effect for a live room; default: level 0.
  std::function<DegradeView(const std::string& live_room)> degrade;
  // Called after a stream's end was acknowledged (the archiver hooks here).
  std::function<void(const std::string& live_room)> on_stream_end;
  // False while this room refuses writes (switchover freeze): 503 + Retry-After.
  std::function<bool()> accepting_writes;
  // The primary lease (replication/primary_lease.h): false when a write that
  // Kafka acknowledged may not be acknowledged to the client NOW (this room
  // may no longer be the primary): 503 + Retry-After instead of 202. Checked
  // at the moment the answer is built, after the Kafka ack. Absent: true.
  std::function<bool()> may_acknowledge;
  // Serves GET /v1/replays/... (the replay archive); absent: 404.
  std::function<HttpResponse(const HttpRequest&)> replay;
  // GET /v1/status: the public aggregate of both rooms' status; absent: 404.
  std::function<HttpResponse(const HttpRequest&)> status;
  // The pages (/, /watch/{room}, /status, /static/...); absent: 404.
  std::shared_ptr<const StaticFiles> pages;
  // GET /v1/route: the routing service (routing/router.h); absent: 404.
  std::function<HttpResponse(const HttpRequest&)> route;
};

class Frontend {
 public:
  Frontend(const Config& config, WriteRoute* writes, RoomCache* cache, std::unique_ptr<RedisClient> users_redis,
           CursorCodec cursors, std::string admin_token, const Clock& clock, Metrics* metrics, FrontendHooks hooks);
  ~Frontend();

  void Start();  // like and presence flushers
  void Stop();

  HttpResponse Handle(const HttpRequest& req);
  // The event-driven edge's entry (edge/server.h): polls are answered from
  // memory before it returns; writes return at once and `respond` is called
  // later, from the Kafka delivery report (or a forwarding worker); blocking
  // reads (users, replays) run on the blocking pool. `respond` exactly once,
  // from any thread.
  using Respond = std::function<void(HttpResponse)>;
  void HandleAsync(const HttpRequest& req, Respond respond);
  // POST /v1/admin/ingest (already authenticated): a record stamped by a
  // secondary room; written through this room's route.
  HttpResponse HandleIngest(const HttpRequest& req);
  static std::string RouteLabel(const HttpRequest& req);
  // Writes (messages and like bursts) between acceptance and their answer.
  // A switchover freezes writes, then waits for this to reach 0 so that every
  // acknowledged write is in Kafka before the replica is declared caught up.
  // The asynchronous path admits at most edge.max_writes_in_flight (beyond:
  // 503 + Retry-After, nothing written).
  int64_t writes_in_flight() const { return in_flight_.load(); }
  // Push fan-out shares these with polls: the cursor codec, and presence (a
  // long connection with a uid counts as an online viewer).
  const CursorCodec& cursors() const { return cursors_; }
  void NotePresence(const std::string& live_room, const std::string& uid);

 private:
  // Every route of Handle. With `async` (HandleAsync), a write takes the
  // responder and returns a response with status 0 ("answered later").
  HttpResponse Serve(const HttpRequest& req, Respond* async);
  HttpResponse PostMessage(const std::string& live_room, const HttpRequest& req, Respond* async);
  HttpResponse Poll(const std::string& live_room, const HttpRequest& req);
  HttpResponse PostLikes(const std::string& live_room, const HttpRequest& req, Respond* async);
  HttpResponse Users(const std::string& live_room, const HttpRequest& req);
  HttpResponse Lifecycle(const std::string& live_room, bool start, const HttpRequest& req, Respond* async);
  HttpResponse Accept(const Message& m);
  // The asynchronous Accept: `done` gets WriteAnswer(m, outcome) later.
  void AcceptAsync(Message m, Respond done);
  // Admission of a write (both paths): the freeze; an error response or nullopt.
  std::optional<HttpResponse> RefuseWrite() const;
  // THE answer to a message write once the write route answered `outcome`
  // (ack or error), for both the blocking and the asynchronous path: the one
  // place that decides 202 vs 503, lease check included.
  HttpResponse WriteAnswer(const Message& m, const Status& outcome);
  // The answer to a like post once its aggregated record's outcome is known
  // (lease check included).
  HttpResponse LikeAnswer(int64_t count, const Status& outcome);
  bool Authorized(const HttpRequest& req) const;
  DegradeView Degrade(const std::string& live_room) const;
  void FlushLoop();
  void FlushLikes();
  void FlushPresence();

  const Config& config_;
  WriteRoute* writes_;
  RoomCache* cache_;
  std::mutex users_mu_;
  std::unique_ptr<RedisClient> users_redis_;  // guarded by users_mu_
  CursorCodec cursors_;
  const std::string admin_token_;
  const Clock& clock_;
  Metrics* metrics_;
  prometheus::Counter* polls_ = nullptr;  // cached series (hot path)
  FrontendHooks hooks_;
  IdGenerator ids_;
  RateLimiter uid_limiter_;
  RateLimiter ip_limiter_;
  LikeAggregator likes_;
  std::atomic<int64_t> in_flight_{0};
  prometheus::Gauge* awaiting_ack_ = nullptr;  // in_flight_, set by the flush loop
  // Blocking reads (users list, replays) of the asynchronous path.
  std::unique_ptr<WorkPool> blocking_;

  std::mutex presence_mu_;
  std::map<std::string, std::set<std::string>> presence_;  // guarded by presence_mu_

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stop_ = true;  // guarded by loop_mu_
  std::thread flusher_;
};

}  // namespace danmu::core
