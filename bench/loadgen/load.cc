// The load generator's actors on Boost.Asio/Beast (load.h). Everything Beast
// stays in this file. One io_context per worker process, run by one thread:
// actors touch the worker's WorkerOutput without locks.
#include "bench/loadgen/load.h"

#include <utility>  // before Boost: 1.74's asio/awaitable.hpp uses std::exchange without it

#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "bench/loadgen/schedule.h"
#include "bench/loadgen/wire.h"
#include "routing/client_contract.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace danmu::bench {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

std::chrono::steady_clock::time_point At(int64_t us) {
  return std::chrono::steady_clock::time_point(std::chrono::microseconds(us));
}

const char* Classify(const error_code& ec) {
  if (ec == beast::error::timeout) return "err_timeout";
  if (ec == net::error::eof || ec == http::error::end_of_stream || ec == websocket::error::closed) return "err_closed";
  if (ec == net::error::connection_reset) return "err_reset";
  if (ec == net::error::connection_refused) return "err_refused";
  return "err_io";
}

struct Ctx {
  Ctx(const Workload& wl, WorkerOutput* o, int64_t start, int idx, int n)
      : w(wl), out(o), index(idx), workers(n), start_us(start) {
    error_code ec;
    server = tcp::endpoint(net::ip::make_address(w.host, ec), static_cast<unsigned short>(w.port));
    for (const auto& s : w.sources) sources.push_back(net::ip::make_address(s, ec));
    if (sources.empty()) sources.push_back(net::ip::make_address("127.0.0.1", ec));
    window.begin_us = start_us + static_cast<int64_t>(w.warmup_s * 1e6);
    window.end_us = window.begin_us + static_cast<int64_t>(w.seconds * 1e6);
    follow_end_us = window.end_us + static_cast<int64_t>(w.drain_s * 1e6);
    stop_us = follow_end_us + 1000000;
    host_header = "Host: " + w.host + ":" + std::to_string(w.port) + "\r\n";
  }
  int64_t& C(const std::string& name) { return out->count[name]; }
  Histogram& H(const std::string& name) { return out->hist[name]; }
  const net::ip::address& Source(int k) const { return sources[static_cast<size_t>(k) % sources.size()]; }
  std::string Room(int k) const {
    if (w.big_share > 0 && (k % 1000) < static_cast<int>(w.big_share * 1000)) return w.big_room;
    return w.small_prefix + std::to_string(k % std::max(w.small_rooms, 1));
  }

  net::io_context io{1};
  const Workload& w;
  WorkerOutput* out;
  int index, workers;
  tcp::endpoint server;
  std::vector<net::ip::address> sources;
  int64_t start_us;
  Window window;
  int64_t follow_end_us, stop_us;
  std::string host_header;
  bool stopping = false;
};

class Actor : public std::enable_shared_from_this<Actor> {
 public:
  virtual ~Actor() = default;
  virtual void Start() = 0;
  virtual void Settle(int64_t stop_us) {}
};

// Opens a socket bound to a source address (port chosen at connect time, so
// that many addresses share the ephemeral range).
bool OpenBound(tcp::socket& s, const net::ip::address& src) {
  error_code ec;
  s.close(ec);
  s.open(tcp::v4(), ec);
  if (ec) return false;
  int one = 1;
  ::setsockopt(s.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  s.set_option(tcp::no_delay(true), ec);
  s.bind(tcp::endpoint(src, 0), ec);
  return !ec;
}

struct Answer {
  bool ok = false;
  int status = 0;
  std::string_view body;
  size_t bytes = 0;
  const char* error = nullptr;
};

// One keep-alive HTTP/1.1 connection: Exchange sends a prebuilt request and
// reads the answer, connecting first when needed.
class HttpActor : public Actor {
 protected:
  HttpActor(Ctx& ctx, int k)
      : ctx_(ctx), k_(k), target_(ctx.server), host_header_(ctx.host_header), stream_(ctx.io), timer_(ctx.io) {}

  // Talk to another server from the next exchange on (a router, or the poll
  // URL it handed out): the connection moves only when the address changes.
  void Target(const tcp::endpoint& to, const std::string& host_port) {
    if (to == target_) return;
    if (!in_flight_) Close();
    target_ = to;
    host_header_ = "Host: " + host_port + "\r\n";
  }

  void Exchange(std::string request, std::function<void(const Answer&)> done) {
    request_ = std::move(request);
    done_ = std::move(done);
    in_flight_ = true;
    if (!connected_) return Connect();
    Write();
  }
  void WaitUntil(int64_t us, std::function<void()> f) {
    if (us <= NowUs()) return f();
    timer_.expires_at(At(us));
    timer_.async_wait([self = shared_from_this(), f = std::move(f)](error_code ec) {
      if (!ec) f();
    });
  }
  std::string Get(const std::string& path, const std::string& extra = {}) const {
    return "GET " + path + " HTTP/1.1\r\n" + host_header_ + extra + "\r\n";
  }
  std::string Post(const std::string& path, const std::string& body) const {
    return "POST " + path + " HTTP/1.1\r\n" + host_header_ + "Content-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  Ctx& ctx_;
  const int k_;
  bool in_flight_ = false;

 private:
  tcp::endpoint target_;
  std::string host_header_;

  void Connect() {
    if (!OpenBound(stream_.socket(), ctx_.Source(k_))) return Fail("err_bind");
    stream_.expires_after(std::chrono::milliseconds(ctx_.w.timeout_ms));
    stream_.async_connect(target_, [self = shared_from_this(), this](error_code ec) {
      if (ec) return Fail(ec == beast::error::timeout ? "err_connect_timeout" : "err_connect");
      connected_ = true;
      Write();
    });
  }
  void Write() {
    stream_.expires_after(std::chrono::milliseconds(ctx_.w.timeout_ms));
    net::async_write(stream_, net::buffer(request_), [self = shared_from_this(), this](error_code ec, size_t) {
      if (ec) return Fail(Classify(ec));
      parser_.emplace();
      parser_->body_limit(64 << 20);
      http::async_read(stream_, buf_, *parser_, [self, this](error_code ec, size_t n) {
        if (ec) return Fail(Classify(ec));
        auto& res = parser_->get();
        Answer a{true, static_cast<int>(res.result_int()), res.body(), n, nullptr};
        if (!res.keep_alive()) Close();
        in_flight_ = false;
        auto d = std::move(done_);
        d(a);
      });
    });
  }
  void Close() {
    error_code ec;
    stream_.socket().close(ec);
    connected_ = false;
    buf_.clear();
  }
  void Fail(const char* what) {
    Close();
    in_flight_ = false;
    Answer a;
    a.error = what;
    auto d = std::move(done_);
    d(a);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buf_;
  std::optional<http::response_parser<http::string_body>> parser_;
  std::string request_;
  std::function<void(const Answer&)> done_;
  bool connected_ = false;

 protected:
  net::steady_timer timer_;
};

void CountFailure(Ctx& ctx, const Answer& a) {
  if (a.error) ++ctx.C(a.error);
  else ++ctx.C("err_status_" + std::to_string(a.status));
}

// Fixed-rate GETs of one path (schedule.h).
class RateActor : public HttpActor {
 public:
  RateActor(Ctx& ctx, int k, int stream, int streams)
      : HttpActor(ctx, k), sched_(ctx.start_us, ctx.w.rate, stream, streams),
        request_text_(Get(ctx.w.rate_path, ctx.w.rate_headers)) {}
  void Start() override { Next(); }
  void Settle(int64_t stop_us) override {
    ctx_.C("unanswered") += SettleUnanswered(sched_, i_, ctx_.window, stop_us, &ctx_.H("latency"));
  }

 private:
  void Next() {
    if (ctx_.stopping) return;
    int64_t due = sched_.Due(i_);
    if (due >= ctx_.window.end_us) return;
    WaitUntil(due, [this, due] { Send(due); });
  }
  void Send(int64_t due) {
    Exchange(request_text_, [this, due](const Answer& a) {
      int64_t now = NowUs();
      if (ctx_.window.Contains(due)) {
        if (a.ok && a.status / 100 == 2) {
          ctx_.H("latency").Record(now - due);
          ++ctx_.C("ok");
          ctx_.C("bytes") += static_cast<int64_t>(a.bytes);
          ctx_.C("body_bytes") += static_cast<int64_t>(a.body.size());
          ctx_.C("messages") += CountMessages(a.body);
        } else {
          CountFailure(ctx_, a);
        }
      }
      ++i_;
      if (a.ok) return Next();
      // A failed connection: retry the next due request shortly, not in a spin.
      WaitUntil(now + 20000, [this] { Next(); });
    });
  }

  OpenLoopSchedule sched_;
  int64_t i_ = 0;
  const std::string request_text_;
};

// Records one received message for exactness and post→visible.
void Received(Ctx& ctx, Follow* follow, const WireMessage& m, int64_t now) {
  if (follow) follow->ids.emplace_back(m.id);
  if (ctx.window.Contains(now)) ++ctx.C("messages_window");
  int64_t posted = PostTimeOf(m.text);
  if (posted > 0 && ctx.window.Contains(posted)) ctx.H("post_visible").Record(now - posted);
}

// Records a poll answer's or frame's messages and moves the cursor.
void Deliver(Ctx& ctx, Follow* follow, const PollBody& p, int64_t now, std::string* cursor) {
  for (const auto& m : p.messages) Received(ctx, follow, m, now);
  ctx.C("messages") += static_cast<int64_t>(p.messages.size());
  if (!p.cursor.empty()) cursor->assign(p.cursor);
}

// A polling viewer: its own keep-alive connection, its cursor, next_poll_ms.
class PollViewer : public HttpActor {
 public:
  PollViewer(Ctx& ctx, int k, std::string room, Follow* follow)
      : HttpActor(ctx, k), room_(std::move(room)), uid_("v" + std::to_string(k)), follow_(follow) {}
  void Start() override {
    double frac = static_cast<double>((k_ * 7919) % 1000) / 1000.0;
    due_ = ctx_.start_us + static_cast<int64_t>(ctx_.w.ramp_s * 1e6 * frac);
    Next();
  }
  void Settle(int64_t stop_us) override {
    if (in_flight_ && ctx_.window.Contains(due_)) {
      ctx_.H("latency").Record(stop_us - due_);
      ++ctx_.C("unanswered");
    }
  }

 private:
  void Next() {
    if (ctx_.stopping || due_ >= ctx_.follow_end_us) return;
    WaitUntil(due_, [this] { Poll(); });
  }
  void Poll() {
    std::string path = "/v1/rooms/" + room_ + "/messages?limit=" + std::to_string(ctx_.w.poll_limit) + "&uid=" + uid_;
    if (!cursor_.empty()) path += "&cursor=" + cursor_;
    Exchange(Get(path), [this](const Answer& a) {
      int64_t now = NowUs();
      PollBody p;
      if (!a.ok || a.status != 200) {
        CountFailure(ctx_, a);
        due_ = now + 500000;
        return Next();
      }
      if (!ParsePollBody(a.body, &p)) {
        ++ctx_.C("err_parse");
        due_ = now + 500000;
        return Next();
      }
      if (!answered_) {
        answered_ = true;
        if (follow_) follow_->first_answer_us = now;
      }
      Deliver(ctx_, follow_, p, now, &cursor_);
      ctx_.C("bytes") += static_cast<int64_t>(a.bytes);
      ctx_.C("body_bytes") += static_cast<int64_t>(a.body.size());
      if (ctx_.window.Contains(due_)) {
        ctx_.H("latency").Record(now - due_);
        ++ctx_.C("ok");
      }
      int64_t interval = ctx_.w.follow_interval_ms > 0 ? ctx_.w.follow_interval_ms
                                                       : (p.next_poll_ms > 0 ? p.next_poll_ms : 2000);
      due_ = now + interval * 1000;
      Next();
    });
  }

  std::string room_, uid_, cursor_;
  Follow* follow_;
  int64_t due_ = 0;
  bool answered_ = false;
};

// A WebSocket follower: danmud's /v1/rooms/{room}/ws (frames of the poll
// answer's shape, resumed with the cursor after a drop) or Nchan's
// /sub/ws/{room} (one published message per frame).
class WsViewer : public Actor {
 public:
  WsViewer(Ctx& ctx, int k, std::string room, Follow* follow)
      : ctx_(ctx), k_(k), room_(std::move(room)), uid_("s" + std::to_string(k)), follow_(follow), timer_(ctx.io) {}
  void Start() override {
    double frac = static_cast<double>((k_ * 7919) % 1000) / 1000.0;
    Later(ctx_.start_us + static_cast<int64_t>(ctx_.w.ramp_s * 1e6 * frac));
  }

 private:
  void Later(int64_t us) {
    timer_.expires_at(At(us));
    timer_.async_wait([self = shared_from_this(), this](error_code ec) {
      if (!ec) Connect();
    });
  }
  void Connect() {
    if (ctx_.stopping || NowUs() >= ctx_.follow_end_us) return;
    ws_.emplace(ctx_.io);
    auto& tcp_layer = beast::get_lowest_layer(*ws_);
    if (!OpenBound(tcp_layer.socket(), ctx_.Source(k_))) return Dropped("err_bind");
    tcp_layer.expires_after(std::chrono::milliseconds(ctx_.w.timeout_ms));
    tcp_layer.async_connect(ctx_.server, [self = shared_from_this(), this](error_code ec) {
      if (ec) return Dropped(ec == beast::error::timeout ? "err_connect_timeout" : "err_connect");
      beast::get_lowest_layer(*ws_).expires_never();
      ws_->set_option(websocket::stream_base::timeout{std::chrono::milliseconds(ctx_.w.timeout_ms),
                                                      websocket::stream_base::none(), false});
      std::string path;
      if (ctx_.w.peer == Peer::kNchan) {
        path = "/sub/ws/" + room_;
      } else {
        path = "/v1/rooms/" + room_ + "/ws?uid=" + uid_;
        if (!cursor_.empty()) path += "&cursor=" + cursor_;
      }
      ws_->async_handshake(ctx_.w.host + ":" + std::to_string(ctx_.w.port), path, [self, this](error_code ec) {
        if (ec) return Dropped(ec == beast::error::timeout ? "err_handshake_timeout" : "err_handshake");
        ++ctx_.C("ws_opened");
        int64_t& now_open = ctx_.C("ws_open_now");
        ++now_open;
        int64_t& max_open = ctx_.C("ws_open_max");
        max_open = std::max(max_open, now_open);
        open_ = true;
        if (!answered_) {
          answered_ = true;
          if (follow_) follow_->first_answer_us = NowUs();
        }
        Read();
      });
    });
  }
  void Read() {
    ws_->async_read(buf_, [self = shared_from_this(), this](error_code ec, size_t n) {
      if (ec) return Dropped(Classify(ec));
      int64_t now = NowUs();
      std::string text = beast::buffers_to_string(buf_.data());
      buf_.consume(buf_.size());
      ++ctx_.C("frames");
      ctx_.C("bytes") += static_cast<int64_t>(n);
      ctx_.C("body_bytes") += static_cast<int64_t>(n);
      if (ctx_.w.peer == Peer::kNchan) {
        WireMessage m;
        if (ParseMessageObject(text, &m)) {
          Received(ctx_, follow_, m, now);
          ++ctx_.C("messages");
        } else {
          ++ctx_.C("err_parse");
        }
      } else {
        PollBody p;
        if (ParsePollBody(text, &p)) {
          Deliver(ctx_, follow_, p, now, &cursor_);
        } else {
          ++ctx_.C("err_parse");
        }
      }
      Read();
    });
  }
  void Dropped(const char* what) {
    if (open_) {
      --ctx_.C("ws_open_now");
      open_ = false;
    }
    if (ctx_.stopping) return;
    ++ctx_.C(what);
    Later(NowUs() + 200000);  // reconnect (with the cursor) shortly
  }

  Ctx& ctx_;
  const int k_;
  std::string room_, uid_, cursor_;
  Follow* follow_;
  net::steady_timer timer_;
  std::optional<websocket::stream<beast::tcp_stream>> ws_;
  beast::flat_buffer buf_;
  bool open_ = false, answered_ = false;
};

// A viewer that follows the long-connection contract (routing/client_contract.h
// decides; this actor only does the I/O it asks for): one keep-alive HTTP
// connection for the router and for polls, one WebSocket when it holds one,
// and one cursor for both, so that every move resumes without gap or repeat.
// What it did is counted under contract_* (see report.cc).
class ContractViewer : public HttpActor {
 public:
  ContractViewer(Ctx& ctx, int k, std::string room, Follow* follow)
      : HttpActor(ctx, k),
        room_(std::move(room)),
        uid_("c" + std::to_string(ctx.index) + "x" + std::to_string(k)),
        follow_(follow),
        contract_(Options(ctx.w), static_cast<uint64_t>(ctx.index) * 1000003u + static_cast<uint64_t>(k)) {
    const std::string& host = ctx.w.router_host.empty() ? ctx.w.host : ctx.w.router_host;
    const int port = ctx.w.router_port > 0 ? ctx.w.router_port : ctx.w.port;
    error_code ec;
    router_ = tcp::endpoint(net::ip::make_address(host, ec), static_cast<unsigned short>(port));
    router_host_port_ = host + ":" + std::to_string(port);
  }
  void Start() override {
    ++ctx_.C("contract_clients");
    double frac = static_cast<double>((k_ * 7919) % 1000) / 1000.0;
    start_ms_ = (ctx_.start_us + static_cast<int64_t>(ctx_.w.ramp_s * 1e6 * frac)) / 1000;
    WaitUntil(start_ms_ * 1000, [this] { Do(contract_.Next()); });
  }
  void Settle(int64_t) override {
    if (open_) ++ctx_.C("contract_long_at_stop");
    else if (contract_.mode() == routing::ClientContract::Mode::kPolling) ++ctx_.C("contract_polling_at_stop");
    else ++ctx_.C("contract_elsewhere_at_stop");  // asking the router or connecting
    ctx_.C("contract_fallbacks") += contract_.fallbacks();
  }

 private:
  static routing::ClientContractOptions Options(const Workload& w) {
    routing::ClientContractOptions o;
    o.retry_base_ms = w.contract_retry_ms;
    o.reconnect_ms = w.contract_reconnect_ms;
    return o;
  }
  static int64_t NowMs() { return NowUs() / 1000; }

  // The contract's next action, when it is due (a later one replaces it).
  void Next() {
    if (ctx_.stopping || NowUs() >= ctx_.follow_end_us) return;
    routing::ClientContract::Action a = contract_.Next();
    if (a.kind == routing::ClientContract::Action::kWait) return;  // holding a connection: reading
    WaitUntil(std::max(a.at_ms, start_ms_) * 1000, [this, a] { Do(a); });
  }
  void Do(const routing::ClientContract::Action& a) {
    if (ctx_.stopping || NowUs() >= ctx_.follow_end_us) return;
    switch (a.kind) {
      case routing::ClientContract::Action::kAskRouter: return AskRouter(a.fallback_reason);
      case routing::ClientContract::Action::kConnect: return Connect(a.endpoint);
      case routing::ClientContract::Action::kPoll: return Poll();
      case routing::ClientContract::Action::kWait: return;
    }
  }

  bool Aim(std::string_view url, PlainUrl* u) {
    if (!ParsePlainUrl(url, u)) return false;
    error_code ec;
    auto addr = net::ip::make_address(std::string(u->host), ec);
    if (ec) return false;
    aim_ = tcp::endpoint(addr, static_cast<unsigned short>(u->port));
    return true;
  }

  // A handed-out URL's path with this viewer's uid, `extra` and its cursor.
  std::string WithViewer(std::string_view url_path, const std::string& extra) const {
    std::string path(url_path);
    path += (path.find('?') == std::string::npos ? "?uid=" : "&uid=") + uid_ + extra;
    if (!cursor_.empty()) path += "&cursor=" + cursor_;
    return path;
  }

  void AskRouter(const std::string& fallback_reason) {
    Target(router_, router_host_port_);
    std::string path = "/v1/route?uid=" + uid_ + "&room=" + room_;
    if (!fallback_reason.empty()) {
      path += "&fallback=" + fallback_reason;
      ++ctx_.C("contract_fallbacks_reported");
    }
    ++ctx_.C("contract_route_asks");
    Exchange(Get(path), [this](const Answer& a) {
      const int64_t now = NowMs();
      RouteBody r;
      if (!a.ok || a.status != 200 || !ParseRouteBody(a.body, &r)) {
        ++ctx_.C("contract_route_failed");
        contract_.OnRouteFailed(now);
        return Next();
      }
      std::vector<std::string> endpoints(r.endpoints.begin(), r.endpoints.end());
      if (r.transport != "ws") endpoints.clear();  // this client speaks WebSocket or polls
      const std::string transport = endpoints.empty() ? "poll" : "ws";  // before the move below
      ++ctx_.C("contract_routed_" + transport);
      contract_.OnRoute(now, transport, std::move(endpoints), std::string(r.poll_url), static_cast<int>(r.retry_after_ms));
      Next();
    });
  }

  void Connect(const std::string& endpoint) {
    PlainUrl u;
    if (!Aim(endpoint, &u) || u.scheme != "ws") return ConnectFailed("unsupported");
    const std::string path = WithViewer(u.path, "");
    const std::string host_port = std::string(u.host) + ":" + std::to_string(u.port);
    ws_.emplace(ctx_.io);
    auto& tcp_layer = beast::get_lowest_layer(*ws_);
    if (!OpenBound(tcp_layer.socket(), ctx_.Source(k_))) return ConnectFailed("connect_failed");
    tcp_layer.expires_after(std::chrono::milliseconds(ctx_.w.timeout_ms));
    ++ctx_.C("contract_connects");
    tcp_layer.async_connect(aim_, [self = shared_from_this(), this, path, host_port](error_code ec) {
      if (ec) return ConnectFailed(ec == beast::error::timeout ? "timeout" : "connect_failed");
      beast::get_lowest_layer(*ws_).expires_never();
      ws_->set_option(websocket::stream_base::timeout{std::chrono::milliseconds(ctx_.w.timeout_ms),
                                                      websocket::stream_base::none(), false});
      ws_->async_handshake(host_port, path, [self, this](error_code ec) {
        if (ec) return ConnectFailed(ec == beast::error::timeout ? "timeout" : "handshake_refused");
        const int64_t now = NowMs();
        ++ctx_.C("contract_connected");
        if (fell_back_) ++ctx_.C("contract_moved_back");  // a retry from polling held
        fell_back_ = false;
        failed_in_row_ = 0;
        open_ = true;
        contract_.OnConnected(now);
        Read();
      });
    });
  }
  void ConnectFailed(const char* reason) {
    ++ctx_.C(std::string("contract_connect_failed_") + reason);
    ++failed_in_row_;
    const bool was_polling = fell_back_;
    contract_.OnConnectFailed(NowMs(), reason);
    if (contract_.mode() == routing::ClientContract::Mode::kPolling) {
      // A first fallback, after how many failures in a row; or a retry from
      // polling that failed (one try each, by the contract).
      if (was_polling) ++ctx_.C("contract_retries_failed");
      else ++ctx_.C("contract_fell_back_after_" + std::to_string(failed_in_row_));
      fell_back_ = true;
      failed_in_row_ = 0;
    }
    Next();
  }
  void Read() {
    ws_->async_read(buf_, [self = shared_from_this(), this](error_code ec, size_t n) {
      if (ec) return Closed(ec);
      const int64_t now = NowUs();
      std::string text = beast::buffers_to_string(buf_.data());
      buf_.consume(buf_.size());
      ++ctx_.C("frames");
      ctx_.C("bytes") += static_cast<int64_t>(n);
      PollBody p;
      if (ParsePollBody(text, &p)) {
        Answered(now);
        Deliver(ctx_, follow_, p, now, &cursor_);
      } else {
        ++ctx_.C("err_parse");
      }
      Read();
    });
  }
  void Closed(const error_code& ec) {
    open_ = false;
    if (ctx_.stopping) return;
    routing::CloseKind kind = routing::CloseKind::kOther;
    int code = 0;
    if (ec == websocket::error::closed) {
      code = ws_->reason().code;
      if (code == 1001) kind = routing::CloseKind::kElsewhere;
      else if (code == 4001) kind = routing::CloseKind::kToPolling;
      else if (code == 1000 || code == 4000 || code == 4002) kind = routing::CloseKind::kResume;
    }
    ++ctx_.C("contract_closed_" + (code ? std::to_string(code) : std::string(Classify(ec)).substr(4)));
    contract_.OnClosed(NowMs(), kind);
    Next();
  }

  void Poll() {
    PlainUrl u;
    if (!Aim(contract_.poll_url(), &u)) {
      ++ctx_.C("contract_bad_poll_url");
      contract_.OnPollUnavailable(NowMs(), 1000);
      return Next();
    }
    Target(aim_, std::string(u.host) + ":" + std::to_string(u.port));
    const std::string path = WithViewer(u.path, "&limit=" + std::to_string(ctx_.w.poll_limit));
    ++ctx_.C("contract_polls");
    Exchange(Get(path), [this](const Answer& a) {
      const int64_t now_us = NowUs();
      PollBody p;
      if (!a.ok || a.status != 200 || !ParsePollBody(a.body, &p)) {
        ++ctx_.C("contract_polls_failed");
        contract_.OnPollUnavailable(now_us / 1000, 1000);
        return Next();
      }
      Answered(now_us);
      Deliver(ctx_, follow_, p, now_us, &cursor_);
      contract_.OnPollAnswer(now_us / 1000, static_cast<int>(p.next_poll_ms));
      Next();
    });
  }
  void Answered(int64_t now_us) {
    if (answered_) return;
    answered_ = true;
    if (follow_) follow_->first_answer_us = now_us;
  }

  std::string room_, uid_, cursor_;
  Follow* follow_;
  routing::ClientContract contract_;
  tcp::endpoint router_;  // the router it asks
  std::string router_host_port_;
  tcp::endpoint aim_;  // the address of the URL last aimed at
  std::optional<websocket::stream<beast::tcp_stream>> ws_;
  beast::flat_buffer buf_;
  int64_t start_ms_ = 0;
  int failed_in_row_ = 0;  // failed connects since the last success or fallback
  bool fell_back_ = false; // polling after a fallback (a connect now is a retry)
  bool open_ = false, answered_ = false;
};

// Posts comments and gifts (danmud) or publishes messages (Nchan).
class Writer : public HttpActor {
 public:
  Writer(Ctx& ctx, int k, std::string room, int stream, int streams)
      : HttpActor(ctx, k), room_(std::move(room)), name_("w" + std::to_string(k)) {
    if (ctx.w.write_rate > 0) sched_.emplace(ctx.start_us, ctx.w.write_rate, stream, streams);
  }
  void Start() override { Next(); }
  void Settle(int64_t stop_us) override {
    if (sched_) ctx_.C("unanswered") += SettleUnanswered(*sched_, i_, ctx_.window, stop_us, &ctx_.H("write"));
  }

 private:
  void Next() {
    if (ctx_.stopping) return;
    if (sched_) {
      int64_t due = sched_->Due(i_);
      if (due >= ctx_.window.end_us) return;
      return WaitUntil(due, [this, due] { Send(due); });
    }
    int64_t now = NowUs();
    if (now >= ctx_.window.end_us) return;
    if (now < ctx_.start_us) return WaitUntil(ctx_.start_us, [this] { Next(); });
    Send(now);
  }
  void Send(int64_t due) {
    const int64_t seq = seq_++;
    std::string text = "p" + std::to_string(due) + " " + name_ + " s" + std::to_string(seq) + " hello danmu";
    std::string uid = name_ + "u" + std::to_string(seq % 1000);
    std::string request, local_id;
    const bool gift = ctx_.w.peer != Peer::kNchan && seq % 10 == 9;
    if (ctx_.w.peer == Peer::kNchan) {
      local_id = "n" + std::to_string(ctx_.index) + "_" + name_ + "_" + std::to_string(seq);
      request = Post("/pub/" + room_, "{\"id\":\"" + local_id + "\",\"type\":\"comment\",\"uid\":\"" + uid +
                                          "\",\"text\":\"" + text + "\"}");
    } else if (gift) {
      request = Post("/v1/rooms/" + room_ + "/messages",
                     "{\"type\":\"gift\",\"uid\":\"" + uid + "\",\"gift\":{\"id\":\"rose\",\"count\":1}}");
    } else {
      request = Post("/v1/rooms/" + room_ + "/messages",
                     "{\"type\":\"comment\",\"uid\":\"" + uid + "\",\"text\":\"" + text + "\"}");
    }
    Exchange(std::move(request), [this, due, seq, local_id, gift](const Answer& a) {
      int64_t now = NowUs();
      ++i_;
      if (a.ok && a.status / 100 == 2) {
        std::string id = local_id;
        if (id.empty()) {
          constexpr std::string_view kId = "\"id\":\"";
          auto p = a.body.find(kId);
          if (p != std::string_view::npos) {
            auto e = a.body.find('"', p + kId.size());
            id.assign(a.body.substr(p + kId.size(), e - p - kId.size()));
          }
        }
        if (!id.empty()) ctx_.out->acks.push_back({room_, id, now, std::to_string(ctx_.index) + name_, seq, gift ? "gift" : "comment"});
        ++ctx_.C("acked");
        if (ctx_.window.Contains(due)) {
          ++ctx_.C("acked_window");
          ctx_.H("write").Record(now - due);
        }
        return Next();
      }
      if (ctx_.window.Contains(due)) CountFailure(ctx_, a);
      // Refused (503 during a switchover, 429) or failed: back off a little.
      WaitUntil(now + (a.ok ? 5000 : 20000), [this] { Next(); });
    });
  }

  std::string room_, name_;
  std::optional<OpenLoopSchedule> sched_;
  int64_t i_ = 0, seq_ = 0;
};

class Liker : public HttpActor {
 public:
  Liker(Ctx& ctx, int k, int stream, int streams) : HttpActor(ctx, k), name_("l" + std::to_string(ctx.index) + "x" + std::to_string(k)) {
    if (ctx.w.like_rate > 0) sched_.emplace(ctx.start_us, ctx.w.like_rate, stream, streams);
  }
  void Start() override { Next(); }

 private:
  void Next() {
    if (ctx_.stopping) return;
    int64_t due = sched_ ? sched_->Due(i_) : std::max(NowUs(), ctx_.start_us);
    if (due >= ctx_.window.end_us) return;
    WaitUntil(due, [this, due] { Send(due); });
  }
  void Send(int64_t due) {
    std::string body = "{\"uid\":\"" + name_ + "u" + std::to_string(i_ % 1000) + "\",\"count\":" +
                       std::to_string(ctx_.w.like_count) + "}";
    Exchange(Post("/v1/rooms/" + ctx_.w.like_room + "/likes", body), [this, due](const Answer& a) {
      int64_t now = NowUs();
      ++i_;
      if (a.ok && a.status == 202) {
        ctx_.C("likes_acked") += ctx_.w.like_count;
        if (ctx_.window.Contains(due)) {
          ctx_.C("likes_acked_window") += ctx_.w.like_count;
          ctx_.H("like").Record(now - due);
        }
        return Next();
      }
      if (ctx_.window.Contains(due)) CountFailure(ctx_, a);
      WaitUntil(now + 20000, [this] { Next(); });
    });
  }

  std::string name_;
  std::optional<OpenLoopSchedule> sched_;
  int64_t i_ = 0;
};

}  // namespace

void RunWorker(const Workload& w, int64_t start_us, int index, int workers, WorkerOutput* out) {
  Ctx ctx(w, out, start_us, index, workers);
  std::vector<std::shared_ptr<Actor>> actors;
  auto mine = [&](int k) { return k % workers == index; };
  int conn = 0;  // this process's connections, for source addresses
  // Rate actors: the whole rate is split over all connections of all workers.
  for (int k = 0; k < w.rate_conns; ++k) {
    if (mine(k)) actors.push_back(std::make_shared<RateActor>(ctx, conn++, k, w.rate_conns));
  }
  // Followers: small rooms' first for tracking, so that exactness covers them.
  out->follows.reserve(static_cast<size_t>(w.viewers + w.ws + w.contract));  // pointers stay valid
  int tracked = 0;
  auto follower = [&](const std::string& name, const std::string& room) -> Follow* {
    if (tracked >= w.track_max) return nullptr;
    ++tracked;
    Follow f;
    f.follower = name;
    f.room = room;
    int64_t big_followers = static_cast<int64_t>((w.viewers + w.ws + w.contract) * w.big_share);
    f.complete = !(room == w.big_room && big_followers >= w.big_room_online);
    out->follows.push_back(std::move(f));
    return &out->follows.back();
  };
  for (int pass = 0; pass < 2; ++pass) {
    for (int k = 0; k < w.viewers + w.ws + w.contract; ++k) {
      if (!mine(k)) continue;
      std::string room = ctx.Room(k);
      if ((room == w.big_room) != (pass == 1)) continue;
      if (k >= w.viewers + w.ws) {
        actors.push_back(std::make_shared<ContractViewer>(ctx, conn++, room, follower("contract" + std::to_string(k), room)));
        continue;
      }
      bool ws = k >= w.viewers;
      Follow* f = follower((ws ? "ws" : "poll") + std::to_string(k), room);
      if (ws) actors.push_back(std::make_shared<WsViewer>(ctx, conn++, room, f));
      else actors.push_back(std::make_shared<PollViewer>(ctx, conn++, room, f));
    }
  }
  for (int k = 0; k < w.writers; ++k) {
    if (!mine(k)) continue;
    std::string room = k < w.big_writers || w.small_rooms <= 0
                           ? w.big_room
                           : w.small_prefix + std::to_string((k - w.big_writers) % w.small_rooms);
    actors.push_back(std::make_shared<Writer>(ctx, conn++, room, k, w.writers));
  }
  for (int k = 0; k < w.likers; ++k) {
    if (mine(k)) actors.push_back(std::make_shared<Liker>(ctx, conn++, k, w.likers));
  }
  out->count["connections"] += conn;
  for (auto& a : actors) a->Start();
  net::steady_timer stop(ctx.io);
  stop.expires_at(At(ctx.stop_us));
  stop.async_wait([&](error_code) {
    ctx.stopping = true;
    int64_t now = NowUs();
    for (auto& a : actors) a->Settle(now);
    ctx.io.stop();
  });
  ctx.io.run();
  auto open = out->count.find("ws_open_now");
  if (open != out->count.end()) {
    out->count["ws_open_at_stop"] = open->second;
    out->count.erase(open);
  }
}

}  // namespace danmu::bench
