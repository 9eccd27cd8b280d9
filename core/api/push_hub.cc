#include "core/api/push_hub.h"

#include <algorithm>
#include <array>

#include "core/base/json_text.h"
#include "core/base/log.h"
#include "core/model/validation.h"

namespace danmu::core {
namespace {

constexpr int64_t kSweepMs = 1000;

// What of a room's degradation a frame shows (its `degrade` object).
int DegradeKey(const DegradeView& d) { return d.level * 4 + (d.likes_paused ? 2 : 0) + (d.thinned ? 1 : 0); }
constexpr int64_t kPresenceMs = 10000;  // well inside poll.online_window_ms

HttpResponse Refusal(int status, std::string_view code, std::string_view message, const char* retry_after = nullptr) {
  HttpResponse r = HttpResponse::Error(status, code, message);
  if (retry_after) r.headers["Retry-After"] = retry_after;
  return r;
}

}  // namespace

PushHub::PushHub(const Config& config, ReadModel* model, const CursorCodec* cursors, PushHubHooks hooks,
                 const Clock& clock, PushMetrics* metrics)
    : config_(config),
      model_(model),
      cursors_(cursors),
      view_(config, model, cursors),
      hooks_(std::move(hooks)),
      clock_(clock),
      metrics_(metrics),
      thresholds_{static_cast<size_t>(config.push.broadcast_at), static_cast<size_t>(config.push.notify_pull_below)},
      handshakes_(config.push.handshakes_per_sec, 2.0 * config.push.handshakes_per_sec, 1, clock) {}

PushHub::~PushHub() { Stop(); }

void PushHub::Start() {
  std::lock_guard lock(mu_);
  if (!stop_) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void PushHub::Stop() {
  {
    std::lock_guard lock(mu_);
    if (shut_down_) return;
    shut_down_ = true;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  CloseAll(kCloseGoingAway);
}

PushOpenResult PushHub::Refuse(const PushOpenRequest& req, HttpResponse r, std::string reason) {
  if (metrics_) metrics_->Refuse(req.transport, reason);
  PushOpenResult out;
  out.refusal = std::move(r);
  out.reason = std::move(reason);
  return out;
}

PushOpenResult PushHub::Open(const PushOpenRequest& req) {
  if (!config_.push.enabled) {
    return Refuse(req, Refusal(404, "not_found", "long connections are disabled here; poll"), "disabled");
  }
  if (!IsValidLiveRoom(req.live_room)) {
    return Refuse(req, Refusal(400, "invalid_argument", "room id must be 1-64 characters of [A-Za-z0-9_-]"), "invalid");
  }
  if (IsReservedLiveRoom(req.live_room) && !req.authorized) {
    return Refuse(req, Refusal(404, "not_found", "unknown room"), "invalid");
  }
  if (!req.uid.empty() && !IsValidUid(req.uid)) {
    return Refuse(req, Refusal(400, "invalid_argument", "uid must be 1-64 characters of [A-Za-z0-9_.-]"), "invalid");
  }
  std::optional<Cursor> cursor;
  if (!req.cursor.empty()) {
    auto c = cursors_->Decode(req.live_room, req.cursor);
    if (!c.ok()) return Refuse(req, HttpResponse::Error(c.status()), "invalid");
    cursor = *c;
  }
  if (poll_only_.load()) {
    return Refuse(req, Refusal(503, "use_polling", "long connections are switched off by the operator; poll with your cursor", "30"),
                  "use_polling");
  }
  if (!handshakes_.Allow("")) {
    return Refuse(req, Refusal(429, "rate_limited", "too many long-connection handshakes; retry", "1"), "handshake_rate");
  }
  std::shared_ptr<PushSubscription> sub;
  {
    std::lock_guard lock(mu_);
    if (shut_down_) return Refuse(req, Refusal(503, "unavailable", "shutting down; reconnect with your cursor", "1"), "shutdown");
    if (draining_) {
      return Refuse(req, Refusal(503, "unavailable", "this frontend is draining; ask the router for another edge", "1"),
                    "draining");
    }
    if (open_ >= static_cast<size_t>(config_.push.max_connections)) {
      return Refuse(req, Refusal(503, "unavailable", "this frontend holds its most long connections; retry or poll", "5"),
                    "process_cap");
    }
    int& n = per_address_[req.client_address];
    if (n >= config_.push.max_connections_per_address) {
      if (n == 0) per_address_.erase(req.client_address);
      return Refuse(req, Refusal(429, "rate_limited", "too many long connections from this address", "5"), "address_cap");
    }
    ++n;
    ++open_;
    sub = std::make_shared<PushSubscription>(next_id_++, req.live_room, req.uid, req.client_address, req.transport, cursor,
                                             static_cast<size_t>(config_.push.queue_max_bytes),
                                             metrics_ ? &metrics_->queue_totals : nullptr);
  }
  if (metrics_) {
    metrics_->handshakes.Add({{"transport", std::string(TransportName(req.transport))}, {"result", "accepted"}}).Increment();
  }
  if (hooks_.presence && !req.uid.empty()) hooks_.presence(req.live_room, req.uid);
  return PushOpenResult{sub, {}, {}};
}

void PushHub::Attach(const std::shared_ptr<PushSubscription>& sub) {
  {
    std::lock_guard lock(mu_);
    rooms_[sub->live_room].subs.insert(sub);
    pending_.try_emplace(sub->live_room);
  }
  cv_.notify_all();
}

void PushHub::Detach(const std::shared_ptr<PushSubscription>& sub) {
  sub->queue.Close();
  std::lock_guard lock(mu_);
  auto it = rooms_.find(sub->live_room);
  if (it != rooms_.end()) it->second.subs.erase(sub);
  if (sub->released.exchange(true)) return;  // a slot is given back once
  auto a = per_address_.find(sub->client_address);
  if (a != per_address_.end() && --a->second <= 0) per_address_.erase(a);
  if (open_ > 0) --open_;
}

void PushHub::OnRefresh(const std::vector<RefreshNote>& notes) {
  bool any = false;
  {
    std::lock_guard lock(mu_);
    for (const auto& n : notes) {
      auto room = rooms_.find(n.live_room);
      if (room == rooms_.end()) continue;
      if (n.visible_mono_ms == 0) {  // only the counts changed: the next sweep
        room->second.counts_dirty = true;
        continue;
      }
      Pending& p = pending_[n.live_room];
      if (p.visible_mono_ms == 0) p.visible_mono_ms = n.visible_mono_ms;
      any = true;
    }
  }
  if (any) cv_.notify_all();
}

void PushHub::Repend(const std::string& live_room, int64_t visible_mono_ms) {
  std::lock_guard lock(mu_);
  Pending& p = pending_[live_room];
  if (p.visible_mono_ms == 0 || (visible_mono_ms != 0 && visible_mono_ms < p.visible_mono_ms)) {
    p.visible_mono_ms = visible_mono_ms;
  }
}

void PushHub::Loop() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(config_.push.tick_ms), [&] { return stop_ || !pending_.empty(); });
      if (stop_) return;
    }
    RunOnce();
    // Rooms re-pended by this round (lagging, deferred) wait for the next tick.
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(std::min(config_.push.tick_ms, 20)), [&] { return stop_; });
    if (stop_) return;
  }
}

void PushHub::RunOnce() {
  const bool off = hooks_.poll_only && hooks_.poll_only();
  if (off != poll_only_.exchange(off)) {
    LogWarn(off ? "push_poll_only_engaged" : "push_poll_only_released", {{"connections", std::to_string(connections())}});
    if (metrics_) metrics_->poll_only.Add({}).Set(off ? 1 : 0);
  }
  if (off) CloseAll(kCloseUsePolling);
  DrainStep();
  std::map<std::string, Pending> work;
  {
    std::lock_guard lock(mu_);
    work.swap(pending_);
  }
  for (const auto& [room, p] : work) ProcessRoom(room, p.visible_mono_ms);
  const int64_t now = clock_.MonoMs();
  if (now - last_sweep_ms_ >= kSweepMs) {
    last_sweep_ms_ = now;
    Sweep();
  }
}

void PushHub::ProcessRoom(const std::string& live_room, int64_t visible_mono_ms) {
  std::vector<std::shared_ptr<PushSubscription>> subs;
  FanoutMode mode;
  int64_t last_frame_ms;
  {
    std::lock_guard lock(mu_);
    auto it = rooms_.find(live_room);
    if (it == rooms_.end()) return;
    Room& room = it->second;
    if (room.subs.empty()) {
      rooms_.erase(it);
      return;
    }
    subs.assign(room.subs.begin(), room.subs.end());
    FanoutMode next = NextFanoutMode(room.mode, subs.size(), thresholds_);
    if (next != room.mode) {
      LogWarn("push_mode_switch", {{"live_room", live_room}, {"from", std::string(FanoutModeName(room.mode))},
                                   {"to", std::string(FanoutModeName(next))},
                                   {"subscribers", std::to_string(subs.size())}});
      if (metrics_) metrics_->mode_switches.Add({{"to", std::string(FanoutModeName(next))}}).Increment();
      room.mode = next;
    }
    mode = room.mode;
    last_frame_ms = room.last_frame_ms;
  }
  const int64_t now = clock_.MonoMs();
  DegradeView d = hooks_.degrade ? hooks_.degrade(live_room) : DegradeView{};
  bool newcomers = false;
  for (const auto& s : subs) newcomers = newcomers || !s->hub.initial_sent;
  if (d.level >= 3 && !newcomers) {
    // Level 3: at most one frame per next_poll_ms for the room.
    const int interval = d.next_poll_ms > 0 ? d.next_poll_ms : config_.poll.next_poll_ms;
    if (now - last_frame_ms < interval) {
      Repend(live_room, visible_mono_ms);
      return;
    }
  }
  auto top = model_->Top(live_room);
  if (!top.ok()) {
    Repend(live_room, visible_mono_ms);
    return;
  }
  const Cursor until = *top;
  bool sent = false;
  bool lagging = false;
  const OutFrame::Kind kind = mode == FanoutMode::kBroadcast ? OutFrame::Kind::kBroadcast : OutFrame::Kind::kNotifyPull;

  // One pull and render for `members` (all with the same cursor; in
  // notify-pull, one connection with its uid).
  auto serve = [&](const std::vector<PushSubscription*>& members, const std::optional<Cursor>& cursor,
                   const std::string& uid) {
    DegradeView dg = d;
    PollRequest req = view_.Build(live_room, cursor, config_.push.frame_limit, uid, &dg);
    req.until = until;
    auto r = model_->Poll(req);
    if (!r.ok()) {
      lagging = true;
      return;
    }
    const bool moved = !cursor || !(r->next == *cursor);
    const bool has = r->count > 0;
    const int64_t likes = r->likes, online = r->online;
    // A frame for a member: new messages, a moved cursor, its first frame, or
    // counts it has not been sent (a like burst without a message).
    const int dkey = DegradeKey(d);
    auto due = [&](const PushSubscription* m) {
      return has || moved || !m->hub.initial_sent || m->hub.likes_sent != likes || m->hub.online_sent != online ||
             m->hub.degrade_sent != dkey;
    };
    bool anyone = false;
    for (auto* m : members) anyone = anyone || due(m);
    if (!(r->next == until)) lagging = true;
    if (!anyone) return;
    const Cursor next = r->next;
    std::string cursor_text;
    std::string json = view_.Render(live_room, std::move(*r), dg, &cursor_text);
    if (metrics_) metrics_->renders.Add({{"mode", std::string(FanoutModeName(mode))}}).Increment();
    std::shared_ptr<const std::string> framed[2];
    for (auto* m : members) {
      if (!due(m)) continue;
      auto& f = framed[m->transport == PushTransport::kWebSocket ? 0 : 1];
      if (!f) {
        f = std::make_shared<const std::string>(m->transport == PushTransport::kWebSocket ? WsTextFrame(json)
                                                                                          : SseDataEvent(cursor_text, json));
      }
      if (Deliver(*m, f, next, kind, has ? visible_mono_ms : 0)) {
        m->hub.likes_sent = likes;
        m->hub.online_sent = online;
        m->hub.degrade_sent = dkey;
      } else {
        lagging = true;
      }
      sent = true;
    }
  };

  if (mode == FanoutMode::kBroadcast) {
    // Group by cursor: in steady state every connection holds the same one.
    std::map<std::array<int64_t, kStoredTypeCount>, std::vector<PushSubscription*>> groups;
    std::vector<PushSubscription*> tail;  // no cursor yet: the recent tail
    for (const auto& s : subs) {
      if (s->queue.closed()) continue;
      if (s->hub.cursor) groups[s->hub.cursor->after].push_back(s.get());
      else tail.push_back(s.get());
    }
    if (!tail.empty()) serve(tail, std::nullopt, "");
    for (const auto& [after, members] : groups) {
      Cursor c;
      c.after = after;
      serve(members, c, "");
    }
  } else {
    for (const auto& s : subs) {
      if (s->queue.closed()) continue;
      serve({s.get()}, s->hub.cursor, s->uid);
    }
  }
  if (sent) {
    std::lock_guard lock(mu_);
    auto it = rooms_.find(live_room);
    if (it != rooms_.end()) it->second.last_frame_ms = now;
  }
  if (lagging) Repend(live_room, visible_mono_ms);
}

bool PushHub::Deliver(PushSubscription& sub, const std::shared_ptr<const std::string>& bytes, const Cursor& next,
                      OutFrame::Kind kind, int64_t visible_mono_ms) {
  OutFrame f;
  f.bytes = bytes;
  f.cursor = next;
  f.kind = kind;
  f.visible_mono_ms = visible_mono_ms;
  switch (sub.queue.PushData(std::move(f))) {
    case SendQueue::PushResult::kQueued:
      sub.hub.cursor = next;
      sub.hub.initial_sent = true;
      sub.Wake();
      return true;
    case SendQueue::PushResult::kOverflow:
      Resync(sub);
      return false;
    case SendQueue::PushResult::kClosed:
      return true;
  }
  return true;
}

void PushHub::Resync(PushSubscription& sub) {
  sub.hub.resyncs++;
  if (sub.hub.resyncs > config_.push.max_resyncs) {
    LogInfo("push_slow_consumer_closed", {{"live_room", sub.live_room}, {"id", std::to_string(sub.id)},
                                          {"resyncs", std::to_string(sub.hub.resyncs - 1)}});
    CloseSub(sub, kCloseResume);
    return;
  }
  if (metrics_) metrics_->resyncs.Add({}).Increment();
  // Rewind to what the transport took last: the client holds that cursor.
  sub.hub.cursor = sub.queue.delivered();
  const std::string c = sub.hub.cursor ? cursors_->Encode(sub.live_room, *sub.hub.cursor) : "";
  const std::string json = ResyncJson(c);
  OutFrame f;
  f.bytes = std::make_shared<const std::string>(sub.transport == PushTransport::kWebSocket ? WsTextFrame(json)
                                                                                          : SseResyncEvent(c, json));
  f.kind = OutFrame::Kind::kControl;
  (void)sub.queue.PushControl(std::move(f));
  sub.Wake();
}

void PushHub::CloseSub(PushSubscription& sub, uint16_t code) {
  OutFrame f;
  f.bytes = std::make_shared<const std::string>(sub.transport == PushTransport::kWebSocket
                                                    ? WsCloseFrame(code, CloseReason(code))
                                                    : SseCloseEvent(code));
  f.kind = OutFrame::Kind::kControl;
  f.close_after = true;
  if (sub.queue.PushControl(std::move(f)) == SendQueue::PushResult::kQueued && metrics_) {
    metrics_->Close(sub.transport, code);
  }
  sub.Wake();
}

void PushHub::CloseAll(uint16_t code) {
  std::vector<std::shared_ptr<PushSubscription>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, room] : rooms_) all.insert(all.end(), room.subs.begin(), room.subs.end());
  }
  for (auto& s : all) CloseSub(*s, code);
}

void PushHub::Drain(int64_t spread_ms) {
  size_t n = 0;
  {
    std::lock_guard lock(mu_);
    if (draining_) return;
    draining_ = true;
    // Oldest first: a connection's id grows with its open.
    std::vector<std::shared_ptr<PushSubscription>> all;
    for (auto& [name, room] : rooms_) all.insert(all.end(), room.subs.begin(), room.subs.end());
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
    drain_order_.assign(all.begin(), all.end());
    drain_closed_ = 0;
    n = all.size();
    drain_.emplace(n, clock_.MonoMs(), spread_ms);
  }
  LogWarn("push_drain_started", {{"connections", std::to_string(n)}, {"spread_ms", std::to_string(spread_ms)}});
  if (metrics_) metrics_->draining.Add({}).Set(1);
  cv_.notify_all();
}

void PushHub::Undrain() {
  size_t left = 0;
  {
    std::lock_guard lock(mu_);
    if (!draining_) return;
    draining_ = false;
    left = drain_order_.size() - drain_closed_;
    drain_.reset();
    drain_order_.clear();
    drain_closed_ = 0;
  }
  LogWarn("push_drain_stopped", {{"not_closed", std::to_string(left)}});
  if (metrics_) metrics_->draining.Add({}).Set(0);
}

bool PushHub::draining() const {
  std::lock_guard lock(mu_);
  return draining_;
}

void PushHub::DrainStep() {
  std::vector<std::shared_ptr<PushSubscription>> due;
  {
    std::lock_guard lock(mu_);
    if (!drain_) return;
    const size_t until = drain_->DueBy(clock_.MonoMs());
    for (; drain_closed_ < until; ++drain_closed_) {
      if (auto s = drain_order_[drain_closed_].lock()) due.push_back(std::move(s));
    }
  }
  for (auto& s : due) CloseSub(*s, kCloseGoingAway);
}

void PushHub::Sweep() {
  std::vector<std::shared_ptr<PushSubscription>> presence;
  std::vector<std::string> names;
  double conns[2][2] = {};  // transport x class
  double by_mode[2] = {};
  const int64_t now = clock_.MonoMs();
  {
    std::lock_guard lock(mu_);
    for (auto& [name, room] : rooms_) {
      names.push_back(name);
      const int cls = room.mode == FanoutMode::kBroadcast ? 1 : 0;
      by_mode[cls] += room.subs.empty() ? 0 : 1;
      for (const auto& s : room.subs) {
        conns[s->transport == PushTransport::kWebSocket ? 0 : 1][cls] += 1;
        if (!s->uid.empty() && now - s->hub.last_presence_ms >= kPresenceMs) presence.push_back(s);
      }
    }
  }
  // Keep every subscribed room hot in the cache, even when nobody polls it.
  for (const auto& n : names) (void)model_->Top(n);
  // Rooms whose counts moved, or whose degradation changed, since the last
  // sweep get one pass: each connection is sent the new counts and level once.
  std::vector<int> keys;
  keys.reserve(names.size());
  for (const auto& n : names) keys.push_back(hooks_.degrade ? DegradeKey(hooks_.degrade(n)) : 0);
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < names.size(); ++i) {
      auto it = rooms_.find(names[i]);
      if (it == rooms_.end()) continue;
      Room& room = it->second;
      const bool degrade_changed = room.degrade_key != -1 && room.degrade_key != keys[i];
      room.degrade_key = keys[i];
      if (room.counts_dirty || degrade_changed) pending_[names[i]];
      room.counts_dirty = false;
    }
  }
  if (hooks_.presence) {
    for (auto& s : presence) {
      s->hub.last_presence_ms = now;
      hooks_.presence(s->live_room, s->uid);
    }
  }
  if (metrics_) {
    const char* transports[2] = {"ws", "sse"};
    const char* classes[2] = {"small", "big"};
    for (int t = 0; t < 2; ++t) {
      for (int c = 0; c < 2; ++c) metrics_->connections.Add({{"transport", transports[t]}, {"class", classes[c]}}).Set(conns[t][c]);
    }
    metrics_->rooms.Add({{"mode", "notify_pull"}}).Set(by_mode[0]);
    metrics_->rooms.Add({{"mode", "broadcast"}}).Set(by_mode[1]);
    metrics_->queue_bytes_gauge.Add({}).Set(static_cast<double>(metrics_->queue_totals.bytes.load()));
    metrics_->queue_peak_gauge.Add({}).Set(static_cast<double>(metrics_->queue_totals.peak_one_queue.load()));
  }
}

std::vector<PushHub::RoomStatus> PushHub::Rooms(size_t max) const {
  std::vector<RoomStatus> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, room] : rooms_) {
      if (!room.subs.empty()) out.push_back({name, room.mode, room.subs.size()});
    }
  }
  std::sort(out.begin(), out.end(), [](const RoomStatus& a, const RoomStatus& b) {
    return a.subscribers != b.subscribers ? a.subscribers > b.subscribers : a.live_room < b.live_room;
  });
  if (out.size() > max) out.resize(max);
  return out;
}

std::string PushHub::StatusJson(size_t max_rooms) const {
  std::string b = "{\"enabled\":" + std::string(config_.push.enabled ? "true" : "false");
  b += ",\"poll_only\":" + std::string(poll_only() ? "true" : "false");
  b += ",\"draining\":" + std::string(draining() ? "true" : "false");
  b += ",\"connections\":" + std::to_string(connections());
  b += ",\"broadcast_at\":" + std::to_string(config_.push.broadcast_at);
  b += ",\"notify_pull_below\":" + std::to_string(config_.push.notify_pull_below);
  b += ",\"rooms\":[";
  bool first = true;
  for (const auto& r : Rooms(max_rooms)) {
    if (!first) b += ",";
    first = false;
    b += "{\"live_room\":";
    AppendJsonString(b, r.live_room);
    b += ",\"mode\":\"" + std::string(FanoutModeName(r.mode)) + "\",\"subscribers\":" + std::to_string(r.subscribers) + "}";
  }
  return b + "]}";
}

size_t PushHub::connections() const {
  std::lock_guard lock(mu_);
  return open_;
}

FanoutMode PushHub::ModeOf(const std::string& live_room) const {
  std::lock_guard lock(mu_);
  auto it = rooms_.find(live_room);
  return it == rooms_.end() ? FanoutMode::kNotifyPull : it->second.mode;
}

}  // namespace danmu::core
