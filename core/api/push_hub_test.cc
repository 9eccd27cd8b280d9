// Push fan-out against a model of the read model (one type, comments): every
// message exactly once and in order per connection, in both modes and across
// a mode switch; broadcast renders once and shares bytes; slow consumers are
// resynced then closed with bounded memory; degradation and the operator
// switch; handshake refusals.
#include "core/api/push_hub.h"

#include <gtest/gtest.h>

#include <atomic>

#include <mutex>
#include <set>

namespace danmu::core {
namespace {

class ModelReadModel : public ReadModel {
 public:
  void Add(int64_t score) {
    std::lock_guard lock(mu_);
    scores_.push_back(score);
  }
  Result<PollResult> Poll(const PollRequest& req) override {
    std::lock_guard lock(mu_);
    polls++;
    requests.push_back({req.live_room, req.thin_limit, req.viewer_uid});
    const int64_t top = scores_.empty() ? 0 : scores_.back();
    const int64_t cap = req.until ? std::min(req.until->after[0], top) : top;
    PollResult out;
    std::vector<int64_t> take;
    if (!req.cursor) {
      for (int64_t s : scores_) if (s <= cap) take.push_back(s);
      if (take.size() > static_cast<size_t>(req.limit)) take.erase(take.begin(), take.end() - req.limit);
      out.next.after[0] = cap;
    } else {
      out.next = *req.cursor;
      for (int64_t s : scores_) {
        if (s > req.cursor->after[0] && s <= cap && take.size() < static_cast<size_t>(req.limit)) take.push_back(s);
      }
      if (!take.empty()) out.next.after[0] = take.back();
    }
    out.messages_json = "[";
    for (size_t i = 0; i < take.size(); ++i) {
      if (i) out.messages_json += ",";
      out.messages_json += "{\"ts\":" + std::to_string(take[i]) + "}";
    }
    out.messages_json += "]";
    out.count = static_cast<int>(take.size());
    out.likes = likes;
    return out;
  }
  int64_t Online(const std::string&) override { return online; }
  Result<Cursor> Top(const std::string&) override {
    std::lock_guard lock(mu_);
    Cursor c;
    c.after[0] = scores_.empty() ? 0 : scores_.back();
    return c;
  }
  int polls = 0;
  int64_t online = 0;
  int64_t likes = 0;
  struct Seen {
    std::string live_room;
    int thin_limit;
    std::string viewer_uid;
  };
  std::vector<Seen> requests;  // every Poll, in order

 private:
  std::mutex mu_;
  std::vector<int64_t> scores_;
};

// The payload of a server WebSocket text frame.
std::string WsPayload(const std::string& f) {
  size_t len = static_cast<unsigned char>(f[1]) & 0x7F;
  size_t h = 2;
  if (len == 126) h = 4;
  else if (len == 127) h = 10;
  return f.substr(h);
}

struct Client {
  std::shared_ptr<PushSubscription> sub;
  std::vector<int64_t> seen;
  std::vector<std::string> frames;  // JSON payloads
  bool closed = false;
  uint16_t close_code = 0;
  int resyncs = 0;
  // Reads what is queued (a client that keeps up).
  void Read() {
    for (auto& f : sub->queue.TakeAll()) {
      const std::string& b = *f.bytes;
      if ((static_cast<unsigned char>(b[0]) & 0x0F) == 0x8) {
        closed = true;
        close_code = static_cast<uint16_t>((static_cast<unsigned char>(b[2]) << 8) | static_cast<unsigned char>(b[3]));
        continue;
      }
      std::string json = WsPayload(b);
      frames.push_back(json);
      if (json.find("\"resync\":true") != std::string::npos) {
        resyncs++;
        continue;
      }
      size_t pos = 0;
      while ((pos = json.find("\"ts\":", pos)) != std::string::npos) {
        pos += 5;
        seen.push_back(std::stoll(json.substr(pos)));
      }
    }
  }
};

class PushHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.push.broadcast_at = 5;
    config_.push.notify_pull_below = 2;
    config_.push.frame_limit = 50;
    registry_ = std::make_shared<prometheus::Registry>();
    metrics_ = std::make_unique<PushMetrics>(*registry_, "A");
  }
  void MakeHub() {
    hub_ = std::make_unique<PushHub>(config_, &model_, &codec_, hooks_, clock_, metrics_.get());
  }
  Client Connect(const std::string& room, const std::string& cursor = "", const std::string& address = "10.0.0.1",
                 const std::string& uid = "") {
    PushOpenRequest req;
    req.live_room = room;
    req.uid = uid;
    req.cursor = cursor;
    req.client_address = address;
    auto r = hub_->Open(req);
    EXPECT_TRUE(r.sub) << r.refusal.body;
    Client c;
    c.sub = r.sub;
    if (c.sub) hub_->Attach(c.sub);
    return c;
  }
  double Counter(const std::string& name, const std::map<std::string, std::string>& labels) {
    for (const auto& fam : registry_->Collect()) {
      if (fam.name != name) continue;
      for (const auto& m : fam.metric) {
        bool match = true;
        for (const auto& [k, v] : labels) {
          bool found = false;
          for (const auto& l : m.label) found = found || (l.name == k && l.value == v);
          match = match && found;
        }
        if (match) return m.counter.value;
      }
    }
    return -1;
  }
  static std::vector<int64_t> Range(int64_t from, int64_t to) {
    std::vector<int64_t> v;
    for (int64_t i = from; i <= to; ++i) v.push_back(i);
    return v;
  }

  Config config_;
  FakeClock clock_;
  ModelReadModel model_;
  CursorCodec codec_{"secret"};
  PushHubHooks hooks_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<PushMetrics> metrics_;
  std::unique_ptr<PushHub> hub_;
};

TEST_F(PushHubTest, NotifyPullEveryMessageOnceInOrder) {
  for (int i = 1; i <= 3; ++i) model_.Add(i);
  MakeHub();
  std::vector<Client> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(Connect("r1"));
  hub_->RunOnce();  // first frame: the recent tail
  for (auto& c : clients) c.Read();
  int64_t next = 4;
  for (int round = 0; round < 20; ++round) {
    for (int k = 0; k < round % 4; ++k) model_.Add(next++);
    hub_->OnRefresh({{"r1", clock_.MonoMs()}});
    hub_->RunOnce();
    for (auto& c : clients) c.Read();
  }
  for (auto& c : clients) {
    EXPECT_EQ(c.seen, Range(1, next - 1));
    EXPECT_FALSE(c.closed);
  }
  EXPECT_EQ(hub_->ModeOf("r1"), FanoutMode::kNotifyPull);
}

// A like burst without a new message: a poller sees the count on its next
// poll, a long connection only in a frame. Each connection gets one frame with
// the new count (in both fan-out modes), and none while nothing changes.
TEST_F(PushHubTest, ALikeCountChangeWithoutMessagesIsPushedOnce) {
  model_.Add(1);
  MakeHub();
  std::vector<Client> small, big;
  for (int i = 0; i < 2; ++i) small.push_back(Connect("small"));
  for (int i = 0; i < 8; ++i) big.push_back(Connect("big"));
  hub_->RunOnce();
  for (auto* room : {&small, &big}) for (auto& c : *room) c.Read();
  ASSERT_EQ(hub_->ModeOf("small"), FanoutMode::kNotifyPull);
  ASSERT_EQ(hub_->ModeOf("big"), FanoutMode::kBroadcast);
  for (auto* room : {&small, &big}) for (auto& c : *room) ASSERT_EQ(c.frames.size(), 1u);
  model_.likes = 7;
  hub_->OnRefresh({{"small", 0}, {"big", 0}});  // 0: only the counts changed
  hub_->RunOnce();
  for (auto* room : {&small, &big}) for (auto& c : *room) {
    c.Read();
    EXPECT_EQ(c.frames.size(), 1u) << "a count-only change waits for the sweep (one frame per second at most)";
  }
  clock_.Advance(1000);
  hub_->RunOnce();  // the sweep pends the rooms
  hub_->RunOnce();
  for (auto* room : {&small, &big}) {
    for (auto& c : *room) {
      c.Read();
      ASSERT_EQ(c.frames.size(), 2u);
      EXPECT_NE(c.frames[1].find("\"likes\":7"), std::string::npos) << c.frames[1];
      EXPECT_EQ(c.seen, std::vector<int64_t>{1}) << "the count frame repeated a message";
    }
  }
  hub_->OnRefresh({{"small", 0}, {"big", 0}});  // nothing changed since
  clock_.Advance(1000);
  hub_->RunOnce();
  hub_->RunOnce();
  for (auto* room : {&small, &big}) for (auto& c : *room) {
    c.Read();
    EXPECT_EQ(c.frames.size(), 2u) << "a frame without anything new";
  }
}

// Degradation changes without a message (level 1 pauses likes): each
// connection is told once, by the next sweep.
TEST_F(PushHubTest, ADegradationChangeWithoutMessagesIsPushedOnce) {
  auto level = std::make_shared<std::atomic<int>>(0);
  hooks_.degrade = [level](const std::string&) {
    DegradeView d;
    d.level = level->load();
    d.likes_paused = d.level >= 1;
    return d;
  };
  model_.Add(1);
  MakeHub();
  Client c = Connect("r");
  hub_->RunOnce();
  c.Read();
  clock_.Advance(1000);
  hub_->RunOnce();  // the first sweep only learns the level
  hub_->RunOnce();
  c.Read();
  ASSERT_EQ(c.frames.size(), 1u);
  level->store(1);
  clock_.Advance(1000);
  hub_->RunOnce();
  hub_->RunOnce();
  c.Read();
  ASSERT_EQ(c.frames.size(), 2u);
  EXPECT_NE(c.frames[1].find("\"likes_paused\":true"), std::string::npos) << c.frames[1];
  clock_.Advance(1000);
  hub_->RunOnce();
  hub_->RunOnce();
  c.Read();
  EXPECT_EQ(c.frames.size(), 2u) << "a frame without anything new";
}

TEST_F(PushHubTest, BroadcastRendersOnceAndSharesBytes) {
  MakeHub();
  std::vector<Client> clients;
  for (int i = 0; i < 8; ++i) clients.push_back(Connect("big"));
  hub_->RunOnce();
  for (auto& c : clients) c.Read();
  EXPECT_EQ(hub_->ModeOf("big"), FanoutMode::kBroadcast);
  const double renders_before = Counter("danmu_push_renders_total", {{"mode", "broadcast"}});
  model_.Add(10);
  model_.Add(11);
  hub_->OnRefresh({{"big", clock_.MonoMs()}});
  hub_->RunOnce();
  EXPECT_EQ(Counter("danmu_push_renders_total", {{"mode", "broadcast"}}) - renders_before, 1);
  std::vector<std::vector<OutFrame>> taken;
  for (auto& c : clients) taken.push_back(c.sub->queue.TakeAll());
  for (auto& t : taken) {
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].bytes.get(), taken[0][0].bytes.get()) << "broadcast bytes must be shared, not copied";
    EXPECT_EQ(t[0].kind, OutFrame::Kind::kBroadcast);
  }
  EXPECT_NE(WsPayload(*taken[0][0].bytes).find("{\"ts\":10},{\"ts\":11}"), std::string::npos);
}

TEST_F(PushHubTest, StatusJsonListsTheBiggestRoomsWithTheirMode) {
  MakeHub();
  std::vector<Client> clients;
  for (int i = 0; i < 6; ++i) clients.push_back(Connect("big"));
  clients.push_back(Connect("small"));
  hub_->RunOnce();
  EXPECT_EQ(hub_->StatusJson(10),
            "{\"enabled\":true,\"poll_only\":false,\"draining\":false,\"connections\":7,\"broadcast_at\":5,\"notify_pull_below\":2,"
            "\"rooms\":[{\"live_room\":\"big\",\"mode\":\"broadcast\",\"subscribers\":6},"
            "{\"live_room\":\"small\",\"mode\":\"notify_pull\",\"subscribers\":1}]}");
  EXPECT_EQ(hub_->StatusJson(1).find("small"), std::string::npos) << "at most max_rooms, the biggest first";
}

// Level 2 thins frames like polls: notify-pull pulls carry the thin limit and
// the connection's own uid (its own comments are kept), a broadcast pull the
// limit and no uid (the shared frame is nobody's own); frames say "thinned".
TEST_F(PushHubTest, Level2ThinsFramesWithTheViewersOwnUidInNotifyPull) {
  config_.degrade.thin_room_online = 10;
  model_.online = 50;
  hooks_.degrade = [](const std::string&) {
    DegradeView d;
    d.level = 2;
    d.thin_limit = 3;
    return d;
  };
  model_.Add(1);
  MakeHub();
  Client a = Connect("small", "", "10.0.0.1", "ua");
  Client b = Connect("small", "", "10.0.0.1", "ub");
  std::vector<Client> big;
  for (int i = 0; i < 6; ++i) big.push_back(Connect("big", "", "10.0.0.1", "v" + std::to_string(i)));
  hub_->RunOnce();
  a.Read();
  for (auto& c : big) c.Read();
  std::set<std::string> small_uids;
  int big_pulls = 0;
  for (const auto& r : model_.requests) {
    EXPECT_EQ(r.thin_limit, 3) << r.live_room;
    if (r.live_room == "small") small_uids.insert(r.viewer_uid);
    if (r.live_room == "big") {
      ++big_pulls;
      EXPECT_EQ(r.viewer_uid, "") << "a broadcast frame is shared: no viewer's own comments";
    }
  }
  EXPECT_EQ(small_uids, (std::set<std::string>{"ua", "ub"}));
  EXPECT_EQ(big_pulls, 1) << "one pull for the whole broadcast room";
  ASSERT_FALSE(a.frames.empty());
  EXPECT_NE(a.frames[0].find("\"thinned\":true"), std::string::npos) << a.frames[0];
  ASSERT_FALSE(big[0].frames.empty());
  EXPECT_NE(big[0].frames[0].find("\"level\":2"), std::string::npos) << big[0].frames[0];
}

TEST_F(PushHubTest, LateJoinerWithCursorCatchesUpThenSharesTheBroadcast) {
  for (int i = 1; i <= 30; ++i) model_.Add(i);
  MakeHub();
  std::vector<Client> clients;
  for (int i = 0; i < 6; ++i) clients.push_back(Connect("big"));
  hub_->RunOnce();
  for (auto& c : clients) c.Read();
  Cursor old;
  old.after[0] = 7;
  Client late = Connect("big", codec_.Encode("big", old));
  model_.Add(31);
  hub_->OnRefresh({{"big", clock_.MonoMs()}});
  hub_->RunOnce();
  late.Read();
  for (auto& c : clients) c.Read();
  EXPECT_EQ(late.seen, Range(8, 31));
  model_.Add(32);
  hub_->OnRefresh({{"big", clock_.MonoMs()}});
  hub_->RunOnce();
  auto a = clients[0].sub->queue.TakeAll();
  auto b = late.sub->queue.TakeAll();
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].bytes.get(), b[0].bytes.get()) << "once level, the late joiner shares the room's frame";
}

TEST_F(PushHubTest, ModeSwitchesOnceEachWayNothingLostOrRepeated) {
  MakeHub();
  int64_t next = 1;
  std::vector<Client> clients;
  auto round = [&] {
    model_.Add(next++);
    hub_->OnRefresh({{"r", clock_.MonoMs()}});
    hub_->RunOnce();
    for (auto& c : clients) c.Read();
  };
  clients.push_back(Connect("r"));
  round();
  // Grow to 7 (broadcast at 5), with a message each step.
  while (clients.size() < 7) {
    clients.push_back(Connect("r", codec_.Encode("r", *clients[0].sub->hub.cursor)));
    round();
  }
  EXPECT_EQ(hub_->ModeOf("r"), FanoutMode::kBroadcast);
  // Shrink to 1 (notify-pull below 2), jitter in between.
  while (clients.size() > 1) {
    hub_->Detach(clients.back().sub);
    clients.pop_back();
    round();
  }
  EXPECT_EQ(hub_->ModeOf("r"), FanoutMode::kNotifyPull);
  EXPECT_EQ(Counter("danmu_push_mode_switches_total", {{"to", "broadcast"}}), 1);
  EXPECT_EQ(Counter("danmu_push_mode_switches_total", {{"to", "notify_pull"}}), 1);
  EXPECT_EQ(clients[0].seen, Range(1, next - 1));
}

TEST_F(PushHubTest, SlowConsumerResyncedThenClosedMemoryBoundedOthersUnaffected) {
  config_.push.queue_max_bytes = 2000;
  config_.push.max_resyncs = 2;
  MakeHub();
  Client fast = Connect("r");
  Client slow = Connect("r");
  int64_t next = 1;
  size_t max_queued = 0;
  for (int round = 0; round < 200 && !slow.closed; ++round) {
    for (int k = 0; k < 5; ++k) model_.Add(next++);
    hub_->OnRefresh({{"r", clock_.MonoMs()}});
    hub_->RunOnce();
    fast.Read();
    max_queued = std::max(max_queued, slow.sub->queue.bytes());
    // The slow client reads only its control frames' worth, never data.
    auto q = slow.sub->queue.bytes();
    (void)q;
    if (slow.sub->queue.closed()) slow.Read();
  }
  EXPECT_TRUE(slow.closed);
  EXPECT_EQ(slow.close_code, kCloseResume);
  EXPECT_EQ(slow.resyncs, 0) << "dropped resync frames are read only at the end";
  EXPECT_LE(max_queued, 2000u + 200u);
  EXPECT_EQ(Counter("danmu_push_resyncs_total", {}), 2);
  EXPECT_EQ(Counter("danmu_push_closes_total", {{"transport", "ws"}, {"reason", "slow_consumer"}}), 1);
  EXPECT_EQ(fast.seen, Range(1, next - 1));
}

TEST_F(PushHubTest, ResyncResumesFromWhatWasDelivered) {
  config_.push.queue_max_bytes = 300;
  config_.push.max_resyncs = 100;
  MakeHub();
  // From the start (a cursor of 0): the rewind point is exact from the first frame.
  Client c = Connect("r", codec_.Encode("r", Cursor{}));
  int64_t next = 1;
  for (int round = 0; round < 40; ++round) {
    for (int k = 0; k < 3; ++k) model_.Add(next++);
    hub_->OnRefresh({{"r", clock_.MonoMs()}});
    hub_->RunOnce();
    if (round % 7 == 6) c.Read();  // reads in bursts: overflows in between
  }
  hub_->RunOnce();
  c.Read();
  for (int i = 0; i < 5; ++i) {  // catch up (frames are bounded in messages)
    hub_->OnRefresh({{"r", clock_.MonoMs()}});
    hub_->RunOnce();
    c.Read();
  }
  EXPECT_GT(c.resyncs, 0);
  EXPECT_FALSE(c.closed);
  EXPECT_EQ(c.seen, Range(1, next - 1)) << "no gap and no repeat across resyncs";
}

TEST_F(PushHubTest, Level3AtMostOneFramePerNextPoll) {
  hooks_.degrade = [](const std::string&) {
    DegradeView d;
    d.level = 3;
    d.next_poll_ms = 4000;
    return d;
  };
  MakeHub();
  Client c = Connect("r");
  hub_->RunOnce();
  c.Read();
  const size_t frames = c.frames.size();
  int64_t next = 1;
  for (int i = 0; i < 10; ++i) {
    model_.Add(next++);
    hub_->OnRefresh({{"r", clock_.MonoMs()}});
    hub_->RunOnce();
    clock_.Advance(100);
    c.Read();
  }
  EXPECT_EQ(c.frames.size(), frames) << "within next_poll_ms of the first frame: nothing";
  clock_.Advance(4000);
  hub_->RunOnce();
  c.Read();
  EXPECT_EQ(c.frames.size(), frames + 1);
  EXPECT_EQ(c.seen, Range(1, next - 1)) << "coalesced, nothing lost";
}

TEST_F(PushHubTest, OperatorSwitchClosesWithUsePollingAndRefusesNew) {
  bool off = false;
  hooks_.poll_only = [&] { return off; };
  MakeHub();
  Client c = Connect("r");
  hub_->RunOnce();
  c.Read();
  off = true;
  hub_->RunOnce();
  c.Read();
  EXPECT_TRUE(c.closed);
  EXPECT_EQ(c.close_code, kCloseUsePolling);
  PushOpenRequest req;
  req.live_room = "r";
  auto r = hub_->Open(req);
  EXPECT_FALSE(r.sub);
  EXPECT_EQ(r.refusal.status, 503);
  EXPECT_NE(r.refusal.body.find("use_polling"), std::string::npos);
}

// A drain closes the connections with 1001 evenly over the spread, oldest
// first, refuses new ones with 503 draining meanwhile, and Undrain stops it.
TEST_F(PushHubTest, DrainClosesEvenlyOverTheSpreadAndRefusesNew) {
  MakeHub();
  std::vector<Client> cs;
  for (int i = 0; i < 10; ++i) cs.push_back(Connect("r", "", "10.0.0." + std::to_string(i)));
  hub_->RunOnce();
  for (auto& c : cs) c.Read();
  hub_->Drain(1000);
  EXPECT_TRUE(hub_->draining());
  EXPECT_NE(hub_->StatusJson(5).find("\"draining\":true"), std::string::npos);
  PushOpenRequest req;
  req.live_room = "r";
  req.client_address = "10.0.1.1";
  auto refused = hub_->Open(req);
  EXPECT_FALSE(refused.sub);
  EXPECT_EQ(refused.refusal.status, 503);
  EXPECT_NE(refused.refusal.body.find("draining"), std::string::npos) << refused.refusal.body;
  auto closed = [&] {
    int n = 0;
    for (auto& c : cs) {
      c.Read();
      n += c.closed;
    }
    return n;
  };
  hub_->RunOnce();
  EXPECT_EQ(closed(), 0) << "nothing at the start";
  clock_.Advance(300);
  hub_->RunOnce();
  EXPECT_EQ(closed(), 3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(cs[i].closed) << "oldest first: " << i;
  EXPECT_EQ(cs[0].close_code, kCloseGoingAway) << "1001: reconnect elsewhere (ask the router)";
  clock_.Advance(400);
  hub_->RunOnce();
  EXPECT_EQ(closed(), 7);
  // Undrain: the rest stay open, new connections are accepted.
  hub_->Undrain();
  EXPECT_FALSE(hub_->draining());
  clock_.Advance(1000);
  hub_->RunOnce();
  EXPECT_EQ(closed(), 7);
  auto again = hub_->Open(req);
  EXPECT_TRUE(again.sub) << again.refusal.body;
  if (again.sub) hub_->Detach(again.sub);
  // A second drain with no spread closes the 3 left at once.
  hub_->Drain(0);
  hub_->RunOnce();
  EXPECT_EQ(closed(), 10);
}

TEST_F(PushHubTest, HandshakeRefusals) {
  config_.push.max_connections_per_address = 2;
  config_.push.max_connections = 3;
  MakeHub();
  auto open = [&](std::string room, std::string uid, std::string cursor, std::string addr) {
    PushOpenRequest req;
    req.live_room = room;
    req.uid = uid;
    req.cursor = cursor;
    req.client_address = addr;
    return hub_->Open(req);
  };
  EXPECT_EQ(open("bad room", "", "", "a").refusal.status, 400);
  EXPECT_EQ(open("r", "bad uid!", "", "a").refusal.status, 400);
  EXPECT_EQ(open("r", "", "forged", "a").refusal.status, 400);
  EXPECT_EQ(open("r", "", codec_.Encode("other", Cursor{}), "a").refusal.status, 400) << "cursor of another room";
  EXPECT_EQ(open("__probe", "", "", "a").refusal.status, 404);
  auto a1 = open("r", "u1", "", "a");
  auto a2 = open("r", "u2", "", "a");
  ASSERT_TRUE(a1.sub && a2.sub);
  auto a3 = open("r", "u3", "", "a");
  EXPECT_EQ(a3.refusal.status, 429);
  EXPECT_EQ(a3.reason, "address_cap");
  auto b1 = open("r", "", "", "b");
  ASSERT_TRUE(b1.sub);
  auto b2 = open("r", "", "", "b");
  EXPECT_EQ(b2.refusal.status, 503);
  EXPECT_EQ(b2.reason, "process_cap");
  hub_->Detach(a1.sub);
  hub_->Detach(a1.sub);  // twice: released once
  EXPECT_EQ(hub_->connections(), 2u);
  EXPECT_TRUE(open("r", "", "", "a").sub);
  EXPECT_EQ(Counter("danmu_push_refusals_total", {{"transport", "ws"}, {"reason", "address_cap"}}), 1);
}

TEST_F(PushHubTest, HandshakeRateLimited) {
  config_.push.handshakes_per_sec = 5;  // burst 10
  MakeHub();
  int refused = 0;
  for (int i = 0; i < 20; ++i) {
    PushOpenRequest req;
    req.live_room = "r";
    req.client_address = "a" + std::to_string(i);
    auto r = hub_->Open(req);
    if (!r.sub) {
      EXPECT_EQ(r.refusal.status, 429);
      EXPECT_EQ(r.reason, "handshake_rate");
      ++refused;
    }
  }
  EXPECT_EQ(refused, 10);
}

}  // namespace
}  // namespace danmu::core
