#include "core/api/frontend.h"

#include "core/api/poll_view.h"

#include <charconv>

#include "core/base/json_text.h"
#include "core/model/live_keys.h"
#include "core/base/log.h"
#include "core/base/metrics.h"
#include "core/base/parse_int.h"
#include "core/base/secret_compare.h"
#include "core/base/work_pool.h"
#include "core/store/redis_client.h"
#include "core/read/room_cache.h"
#include "core/model/validation.h"
#include "core/live/write_route.h"

namespace danmu::core {
namespace {

constexpr int kPresenceFlushMs = 1000;
constexpr size_t kPresenceMaxPerRoom = 2000;

HttpResponse BadRequest(const std::string& message) {
  return HttpResponse::Error(400, "invalid_argument", message);
}

}  // namespace

Frontend::Frontend(const Config& config, WriteRoute* writes, RoomCache* cache, std::unique_ptr<RedisClient> users_redis,
                   CursorCodec cursors, std::string admin_token, const Clock& clock, Metrics* metrics,
                   FrontendHooks hooks)
    : config_(config),
      writes_(writes),
      cache_(cache),
      users_redis_(std::move(users_redis)),
      cursors_(std::move(cursors)),
      admin_token_(std::move(admin_token)),
      clock_(clock),
      metrics_(metrics),
      hooks_(std::move(hooks)),
      ids_(config.room, clock),
      uid_limiter_(config.limits.uid_rate_per_sec, config.limits.uid_burst, 1'000'000, clock),
      ip_limiter_(config.limits.ip_rate_per_sec, config.limits.ip_burst, 100'000, clock) {
  if (metrics_) {
    polls_ = &metrics_->polls.Add({});
    awaiting_ack_ = &prometheus::BuildGauge()
                         .Name("danmu_writes_awaiting_ack")
                         .Help("Writes (messages, like posts) accepted and not yet answered: waiting for Kafka's ack")
                         .Labels({{"room", metrics_->room()}})
                         .Register(metrics_->registry())
                         .Add({});
  }
  blocking_ = std::make_unique<WorkPool>("frontend", config.edge.blocking_workers, config.edge.blocking_queue);
}

Frontend::~Frontend() { Stop(); }

void Frontend::Start() {
  std::lock_guard lock(loop_mu_);
  if (!stop_) return;
  stop_ = false;
  flusher_ = std::thread([this] { FlushLoop(); });
}

void Frontend::Stop() {
  {
    std::lock_guard lock(loop_mu_);
    if (stop_) return;
    stop_ = true;
  }
  loop_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  FlushLikes();  // answer whoever still waits
  blocking_->Stop();
}

std::string Frontend::RouteLabel(const HttpRequest& req) {
  // Runs on every request: segments are views, no allocation.
  std::string_view seg[4];
  const size_t n = PathSegmentViews(req.path, seg, 4);
  if (n == 4 && seg[0] == "v1" && seg[1] == "rooms") {
    if (seg[3] == "messages") return req.method == "GET" ? "poll" : "post_message";
    if (seg[3] == "likes" || seg[3] == "users" || seg[3] == "start" || seg[3] == "end") return std::string(seg[3]);
  }
  if (n >= 2 && seg[0] == "v1" && seg[1] == "replays") return "replay";
  if (n == 2 && seg[0] == "v1" && seg[1] == "status") return "status";
  if (n == 2 && seg[0] == "v1" && seg[1] == "route") return "route";
  if (StaticFiles::Claims(req.path)) return n >= 1 && seg[0] == "static" ? "static" : "page";
  if (n >= 2 && seg[0] == "v1" && seg[1] == "admin") return "admin_" + (n > 2 ? std::string(seg[2]) : std::string("root"));
  if (req.path == "/metrics" || req.path == "/healthz") return req.path.substr(1);
  return "other";
}

bool Frontend::Authorized(const HttpRequest& req) const {
  return BearerTokenMatches(req.Header("authorization"), admin_token_);
}

DegradeView Frontend::Degrade(const std::string& live_room) const {
  return hooks_.degrade ? hooks_.degrade(live_room) : DegradeView{};
}

HttpResponse Frontend::Handle(const HttpRequest& req) { return Serve(req, nullptr); }

void Frontend::HandleAsync(const HttpRequest& req, Respond respond) {
  std::string_view seg[4];
  const size_t n = PathSegmentViews(req.path, seg, 4);
  const bool blocking = (n >= 2 && seg[0] == "v1" && seg[1] == "replays" && hooks_.replay) ||
                        (n == 4 && seg[0] == "v1" && seg[1] == "rooms" && seg[3] == "users" && req.method == "GET");
  if (blocking) {
    // Redis / MySQL reads with blocking clients: on the pool, never on an I/O thread.
    auto shared = std::make_shared<std::pair<HttpRequest, Respond>>(req, std::move(respond));
    const bool queued = blocking_->TrySubmit(
        [this, shared] { shared->second(Handle(shared->first)); },
        [shared] { shared->second(HttpResponse::Error(Status(Code::kUnavailable, "server stopping"))); });
    if (!queued) shared->second(HttpResponse::Error(Status(Code::kUnavailable, "too many requests waiting; retry")));
    return;
  }
  HttpResponse r = Serve(req, &respond);
  if (r.status != 0) respond(std::move(r));
}

HttpResponse Frontend::Serve(const HttpRequest& req, Respond* async) {
  std::string_view seg[4];
  const size_t n = PathSegmentViews(req.path, seg, 4);
  if (n >= 2 && seg[0] == "v1" && seg[1] == "replays" && hooks_.replay) {
    if (!ip_limiter_.Allow(req.client_address)) {
      return HttpResponse::RateLimited("too many requests from this address");
    }
    return hooks_.replay(req);
  }
  if (n == 2 && seg[0] == "v1" && seg[1] == "route") {
    if (!ip_limiter_.Allow(req.client_address)) return HttpResponse::RateLimited("too many requests from this address");
    if (!hooks_.route) return HttpResponse::Error(404, "not_found", "no routing service in this danmud (routing.enabled)");
    return hooks_.route(req);
  }
  const bool status_route = n == 2 && seg[0] == "v1" && seg[1] == "status";
  if (status_route || StaticFiles::Claims(req.path)) {
    if (!ip_limiter_.Allow(req.client_address)) {
      HttpResponse r = HttpResponse::Error(429, "rate_limited", "too many requests from this address");
      r.headers["Retry-After"] = "1";
      return r;
    }
    if (status_route) {
      if (!hooks_.status) return HttpResponse::Error(404, "not_found", "no status aggregate in this danmud");
      if (req.method != "GET" && req.method != "HEAD") {
        HttpResponse r = HttpResponse::Error(405, "method_not_allowed", "method " + req.method + " not allowed here");
        r.headers["Allow"] = "GET, HEAD";
        return r;
      }
      return hooks_.status(req);
    }
    if (!hooks_.pages) return HttpResponse::Error(404, "not_found", "pages are not served by this danmud (web.static_dir)");
    return hooks_.pages->Handle(req);
  }
  if (n != 4 || seg[0] != "v1" || seg[1] != "rooms") {
    return HttpResponse::Error(404, "not_found", "no such route");
  }
  const std::string live_room(seg[2]);
  const std::string_view action = seg[3];
  if (action != "messages" && action != "likes" && action != "users" && action != "start" && action != "end") {
    return HttpResponse::Error(404, "not_found", "no such route");
  }
  if (!IsValidLiveRoom(live_room)) {
    return BadRequest("room id must be 1-64 characters of [A-Za-z0-9_-]");
  }
  // Reserved rooms (the probe room) only take requests that carry the token.
  if (IsReservedLiveRoom(live_room) && !Authorized(req)) {
    return HttpResponse::Error(404, "not_found", "unknown room");
  }
  if (!ip_limiter_.Allow(req.client_address)) {
    if (metrics_) metrics_->messages_rejected.Add({{"reason", "ip_rate"}}).Increment();
    return HttpResponse::RateLimited("too many requests from this address");
  }
  const bool get = req.method == "GET";
  const bool post = req.method == "POST";
  if (action == "messages") {
    if (get) return Poll(live_room, req);
    if (post) return PostMessage(live_room, req, async);
  } else if (action == "users") {
    if (get) return Users(live_room, req);
  } else if (post) {
    if (action == "likes") return PostLikes(live_room, req, async);
    return Lifecycle(live_room, action == "start", req, async);
  }
  HttpResponse r = HttpResponse::Error(405, "method_not_allowed", "method " + req.method + " not allowed here");
  r.headers["Allow"] = (action == "messages") ? "GET, POST" : (action == "users" ? "GET" : "POST");
  return r;
}

namespace {
// Counts a write as in flight for the lifetime of the guard.
struct InFlight {
  explicit InFlight(std::atomic<int64_t>& n) : n_(n) { ++n_; }
  ~InFlight() { --n_; }
  std::atomic<int64_t>& n_;
};
}  // namespace

std::optional<HttpResponse> Frontend::RefuseWrite() const {
  if (hooks_.accepting_writes && !hooks_.accepting_writes()) {
    if (metrics_) metrics_->messages_rejected.Add({{"reason", "writes_frozen"}}).Increment();
    return HttpResponse::Error(Status(Code::kReadOnly, "writes are paused for a room switchover; retry"));
  }
  return std::nullopt;
}

HttpResponse Frontend::WriteAnswer(const Message& m, const Status& s) {
  if (!s.ok()) {
    if (metrics_) metrics_->messages_rejected.Add({{"reason", "unavailable"}}).Increment();
    return HttpResponse::Error(s.code() == Code::kInvalidArgument ? s : Status(Code::kUnavailable, s.message()));
  }
  if (hooks_.may_acknowledge && !hooks_.may_acknowledge()) {
    // In Kafka, but this room cannot prove it is still the primary: the
    // client retries (a possible repeat, never a 202 from a stale primary).
    if (metrics_) metrics_->messages_rejected.Add({{"reason", "lease_invalid"}}).Increment();
    return HttpResponse::Error(Status(Code::kUnavailable, "this room's primary lease is not valid; retry"));
  }
  if (metrics_) metrics_->messages_accepted.Add({{"type", TypeName(m.type)}}).Increment();
  std::string body = "{\"id\":";
  AppendJsonString(body, m.id);
  body.append(",\"accepted_at\":").append(std::to_string(m.ingest_ms)).append("}");
  return HttpResponse::Json(202, std::move(body));
}

HttpResponse Frontend::Accept(const Message& m) {
  InFlight guard(in_flight_);
  if (auto refused = RefuseWrite()) return std::move(*refused);
  Status s = writes_->Write(m);
  return WriteAnswer(m, s);
}

namespace {
HttpResponse TooManyWritesInFlight(Metrics* metrics) {
  if (metrics) metrics->messages_rejected.Add({{"reason", "writes_in_flight"}}).Increment();
  return HttpResponse::Error(Status(Code::kUnavailable, "too many writes waiting for their acknowledgement; retry"));
}
}  // namespace

void Frontend::AcceptAsync(Message m, Respond done) {
  // Counted from admission to answer, like the blocking path's guard; the
  // bound is checked and taken in one step.
  if (in_flight_.fetch_add(1) >= config_.edge.max_writes_in_flight) {
    --in_flight_;
    done(TooManyWritesInFlight(metrics_));
    return;
  }
  if (auto refused = RefuseWrite()) {
    --in_flight_;
    done(std::move(*refused));
    return;
  }
  auto shared = std::make_shared<std::pair<Message, Respond>>(std::move(m), std::move(done));
  writes_->WriteAsync(shared->first, [this, shared](Status s) {
    HttpResponse r = WriteAnswer(shared->first, s);
    --in_flight_;
    shared->second(std::move(r));
  });
}

HttpResponse Frontend::PostMessage(const std::string& live_room, const HttpRequest& req, Respond* async) {
  auto parsed = ParseMessagePost(req.body, live_room, config_.limits, config_.http.max_body_bytes);
  if (!parsed.ok()) {
    if (metrics_) metrics_->messages_rejected.Add({{"reason", "invalid"}}).Increment();
    return HttpResponse::Error(parsed.status());
  }
  Message& m = *parsed;
  if (cache_ && cache_->State(live_room) == "ended") {
    return HttpResponse::Error(404, "room_not_live", "the stream in this room has ended");
  }
  if (!uid_limiter_.Allow(m.uid)) {
    if (metrics_) metrics_->messages_rejected.Add({{"reason", "uid_rate"}}).Increment();
    return HttpResponse::RateLimited("too many messages from this uid");
  }
  m.id = ids_.Next();
  m.ingest_ms = clock_.NowMs();
  if (async) {
    AcceptAsync(std::move(m), std::move(*async));
    return HttpResponse::Json(0, "");
  }
  return Accept(m);
}

HttpResponse Frontend::Lifecycle(const std::string& live_room, bool start, const HttpRequest& req, Respond* async) {
  Message m;
  m.type = MessageType::kSystem;
  m.live_room = live_room;
  m.uid = "system";
  m.text = start ? "live" : "ended";
  m.id = ids_.Next();
  m.ingest_ms = clock_.NowMs();
  if (async) {
    Respond done = std::move(*async);
    AcceptAsync(std::move(m), [this, start, live_room, done = std::move(done)](HttpResponse r) {
      if (r.status == 202 && !start && hooks_.on_stream_end) hooks_.on_stream_end(live_room);
      done(std::move(r));
    });
    return HttpResponse::Json(0, "");
  }
  HttpResponse r = Accept(m);
  if (r.status == 202 && !start && hooks_.on_stream_end) hooks_.on_stream_end(live_room);
  return r;
}

HttpResponse Frontend::HandleIngest(const HttpRequest& req) {
  if (Status s = CheckJsonBody(req.body, config_.http.max_body_bytes); !s.ok()) return HttpResponse::Error(s);
  auto m = DecodePayload(req.body);
  if (!m.ok()) return HttpResponse::Error(m.status());
  if (!IsValidLiveRoom(m->live_room) || m->id.empty() || m->id.size() > 64) {
    return BadRequest("forwarded record has an invalid room or id");
  }
  return Accept(*m);
}

HttpResponse Frontend::LikeAnswer(int64_t count, const Status& s) {
  if (!s.ok()) return HttpResponse::Error(Status(Code::kUnavailable, s.message()));
  if (hooks_.may_acknowledge && !hooks_.may_acknowledge()) {
    return HttpResponse::Error(Status(Code::kUnavailable, "this room's primary lease is not valid; retry"));
  }
  return HttpResponse::Json(202, "{\"accepted\":" + std::to_string(count) + ",\"likes_paused\":false}");
}

HttpResponse Frontend::PostLikes(const std::string& live_room, const HttpRequest& req, Respond* async) {
  auto parsed = ParseLikePost(req.body, config_.limits, config_.http.max_body_bytes);
  if (!parsed.ok()) return HttpResponse::Error(parsed.status());
  if (!uid_limiter_.Allow("like:" + parsed->uid)) {
    return HttpResponse::RateLimited("too many like bursts from this uid");
  }
  DegradeView d = Degrade(live_room);
  if (d.likes_paused) {
    // Level 1+: acknowledged (so clients do not retry) but not propagated.
    if (metrics_) metrics_->likes.Add({{"stage", "dropped"}}).Increment(static_cast<double>(parsed->count));
    return HttpResponse::Json(202, "{\"accepted\":" + std::to_string(parsed->count) + ",\"likes_paused\":true}");
  }
  const int64_t count = parsed->count;
  if (async) {
    if (in_flight_.fetch_add(1) >= config_.edge.max_writes_in_flight) {
      --in_flight_;
      return TooManyWritesInFlight(metrics_);
    }
    if (hooks_.accepting_writes && !hooks_.accepting_writes()) {
      --in_flight_;
      return HttpResponse::Error(Status(Code::kReadOnly, "writes are paused for a room switchover; retry"));
    }
    if (metrics_) metrics_->likes.Add({{"stage", "received"}}).Increment(static_cast<double>(count));
    // Answered when the flusher's record carrying this burst was acked.
    likes_.Add(live_room, count)->Then([this, count, done = std::move(*async)](Status s) {
      HttpResponse r = LikeAnswer(count, s);
      --in_flight_;
      done(std::move(r));
    });
    return HttpResponse::Json(0, "");
  }
  InFlight guard(in_flight_);
  if (hooks_.accepting_writes && !hooks_.accepting_writes()) {
    return HttpResponse::Error(Status(Code::kReadOnly, "writes are paused for a room switchover; retry"));
  }
  if (metrics_) metrics_->likes.Add({{"stage", "received"}}).Increment(static_cast<double>(count));
  auto batch = likes_.Add(live_room, count);
  Status s = batch->Wait(config_.kafka.produce_timeout_ms + config_.likes.flush_ms * 4 + 2000);
  return LikeAnswer(count, s);
}

HttpResponse Frontend::Poll(const std::string& live_room, const HttpRequest& req) {
  PollRequest p;
  p.live_room = live_room;
  int64_t limit = 50;
  std::string limit_s = req.Query("limit");
  if (!limit_s.empty() && (!ParseInt64(limit_s, &limit) || limit < 1)) return BadRequest("limit must be a positive integer");
  p.limit = static_cast<int>(std::min<int64_t>(limit, config_.poll.max_limit));
  std::string cursor_s = req.Query("cursor");
  if (!cursor_s.empty()) {
    auto c = cursors_.Decode(live_room, cursor_s);
    if (!c.ok()) return HttpResponse::Error(c.status());
    p.cursor = *c;
  }
  std::string uid = req.Query("uid");
  if (!uid.empty()) {
    if (!IsValidUid(uid)) return BadRequest("uid must be 1-64 characters of [A-Za-z0-9_.-]");
    NotePresence(live_room, uid);
  }
  DegradeView d = Degrade(live_room);
  PollView view(config_, cache_, &cursors_);
  PollRequest built = view.Build(live_room, p.cursor, p.limit, uid, &d);
  auto r = cache_->Poll(built);
  if (!r.ok()) return HttpResponse::Error(r.status());
  if (polls_) polls_->Increment();
  std::string body = view.Render(live_room, std::move(*r), d);
  return HttpResponse::Json(200, std::move(body));
}

HttpResponse Frontend::Users(const std::string& live_room, const HttpRequest& req) {
  int64_t limit = 50;
  std::string limit_s = req.Query("limit");
  if (!limit_s.empty() && (!ParseInt64(limit_s, &limit) || limit < 1)) return BadRequest("limit must be a positive integer");
  limit = std::min<int64_t>(limit, 200);
  Result<RedisReply> r = Status(Code::kUnavailable, "");
  {
    std::lock_guard lock(users_mu_);
    r = users_redis_->Command({"ZREVRANGEBYSCORE", keys::Users(live_room), "+inf",
                               std::to_string(clock_.NowMs() - config_.poll.online_window_ms), "WITHSCORES", "LIMIT",
                               "0", std::to_string(limit)});
  }
  if (!r.ok()) return HttpResponse::Error(r.status());
  std::string body = "{\"users\":[";
  for (size_t i = 0; i + 1 < r->elements.size(); i += 2) {
    if (i) body.push_back(',');
    body.append("{\"uid\":");
    AppendJsonString(body, r->elements[i].str);
    body.append(",\"last_seen_ms\":").append(r->elements[i + 1].str).append("}");
  }
  body.append("]}");
  return HttpResponse::Json(200, std::move(body));
}

void Frontend::NotePresence(const std::string& live_room, const std::string& uid) {
  std::lock_guard lock(presence_mu_);
  auto& set = presence_[live_room];
  if (set.size() < kPresenceMaxPerRoom) set.insert(uid);
}

void Frontend::FlushLikes() {
  for (auto& batch : likes_.TakeBatches()) {
    Message m;
    m.type = MessageType::kLike;
    m.live_room = batch->live_room();
    m.count = batch->total();
    m.id = ids_.Next();
    m.ingest_ms = clock_.NowMs();
    Status s = writes_->Write(m);
    if (metrics_) {
      metrics_->like_flushes.Add({{"result", s.ok() ? "ok" : "error"}}).Increment();
      if (s.ok()) metrics_->likes.Add({{"stage", "flushed"}}).Increment(static_cast<double>(m.count));
    }
    batch->Complete(s);
  }
}

void Frontend::FlushPresence() {
  std::map<std::string, std::set<std::string>> taken;
  {
    std::lock_guard lock(presence_mu_);
    taken.swap(presence_);
  }
  for (auto& [room, uids] : taken) {
    Message m;
    m.type = MessageType::kPresence;
    m.live_room = room;
    m.uids.assign(uids.begin(), uids.end());
    m.id = ids_.Next();
    m.ingest_ms = clock_.NowMs();
    // Best effort: presence is refreshed by the next poll anyway.
    (void)writes_->Write(m);
  }
}

void Frontend::FlushLoop() {
  int64_t last_presence = clock_.MonoMs();
  while (true) {
    {
      std::unique_lock lock(loop_mu_);
      if (loop_cv_.wait_for(lock, std::chrono::milliseconds(config_.likes.flush_ms), [&] { return stop_; })) return;
    }
    FlushLikes();
    if (awaiting_ack_) awaiting_ack_->Set(static_cast<double>(in_flight_.load()));
    if (clock_.MonoMs() - last_presence >= kPresenceFlushMs) {
      last_presence = clock_.MonoMs();
      FlushPresence();
    }
  }
}

}  // namespace danmu::core
