// The public port's HTTP/1.1 server on Boost.Beast (contract: server.h).
//
// Shape (Beast's advanced server): a listener accepts on its own strand and
// gives every connection a Session on a strand of its own. A Session owns
// its tcp_stream, its read buffer and the parser of the request being read;
// it reads one request, hands it to the handler, and writes the answer when
// the handler's `respond` is called (posted back to the strand from whatever
// thread answered: a poll answers inline, a write from its Kafka delivery
// report). Then it reads the next request. Nothing here blocks.
//
// Timeouts: one deadline per phase, covering the whole composed operation,
// so a client trickling bytes cannot extend it. The idle wait for a
// request's first byte, writes and the lingering close use the stream's own
// timeout (expires_after), which CLOSES the socket when it fires: right for
// them, nothing is owed. The request head and body use the session's
// deadline_ timer instead, which only CANCELS the read, so that the socket
// is still open to carry the 408 that says why.
//
// Lifetime: sessions (and pending `respond` callbacks) hold a shared_ptr to
// Impl, so the io_context outlives every socket. Stop() closes the gate
// (late answers are dropped, not posted), the acceptor and every session,
// then joins the I/O threads.
#include "edge/server.h"

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/resource.h>

#include <charconv>
#include <limits>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/base/log.h"
#include "core/base/metrics.h"
#include "edge/connection_limits.h"
#include "edge/gzip.h"
#include "edge/upgrade.h"

namespace danmu::edge {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 4096;
// Connections refused at a cap still get their status line; at most this
// many such refusals are being written at once (beyond: closed at once).
constexpr int64_t kMaxRefusing = 1024;
constexpr int kRefusalLingerMs = 1000;
constexpr int64_t kRefusalLingerBytes = 64 * 1024;
constexpr int kWriteTimeoutMs = 30000;
constexpr int kStopGraceMs = 2000;

// The edge's own metrics, registered once per server.
struct EdgeMetrics {
  explicit EdgeMetrics(core::Metrics* m) {
    if (!m) return;
    auto& reg = m->registry();
    const std::map<std::string, std::string> room{{"room", m->room()}};
    auto& open_f = prometheus::BuildGauge().Name("danmu_edge_connections_open").Help("Open public connections (HTTP and long connections)").Labels(room).Register(reg);
    open = &open_f.Add({});
    auto& accepted_f = prometheus::BuildCounter().Name("danmu_edge_connections_accepted_total").Help("Public connections accepted").Labels(room).Register(reg);
    accepted = &accepted_f.Add({});
    auto& refused_f = prometheus::BuildCounter().Name("danmu_edge_connections_refused_total").Help("Public connections refused, by reason (process_cap, address_cap, accept_error)").Labels(room).Register(reg);
    refused_process = &refused_f.Add({{"reason", "process_cap"}});
    refused_address = &refused_f.Add({{"reason", "address_cap"}});
    refused_accept = &refused_f.Add({{"reason", "accept_error"}});
    auto& closed_f = prometheus::BuildCounter().Name("danmu_edge_connections_closed_total").Help("Public connections closed by the server, by reason").Labels(room).Register(reg);
    closed_idle = &closed_f.Add({{"reason", "idle_timeout"}});
    closed_handoff = &closed_f.Add({{"reason", "handed_off"}});
    auto& req_refused_f = prometheus::BuildCounter().Name("danmu_edge_requests_refused_total").Help("Requests refused by the connection layer before the API saw them, by reason").Labels(room).Register(reg);
    for (const char* r : {"header_timeout", "body_timeout", "request_line_too_long", "header_too_large", "body_too_large",
                          "malformed", "unsupported_media_type", "client_closed_mid_request"}) {
      refused_requests[r] = &req_refused_f.Add({{"reason", r}});
    }
    auto& gzip_f = prometheus::BuildCounter().Name("danmu_edge_gzip_answers_total").Help("Answers sent with Content-Encoding: gzip (edge/gzip.h)").Labels(room).Register(reg);
    gzip_answers = &gzip_f.Add({});
    auto& gzip_bytes_f = prometheus::BuildCounter().Name("danmu_edge_gzip_bytes_total").Help("Body bytes of the gzip-compressed answers, before (stage=in) and after (stage=out) compression").Labels(room).Register(reg);
    gzip_bytes_in = &gzip_bytes_f.Add({{"stage", "in"}});
    gzip_bytes_out = &gzip_bytes_f.Add({{"stage", "out"}});
    auto& threads_f = prometheus::BuildGauge().Name("danmu_edge_io_threads").Help("I/O threads of the public server").Labels(room).Register(reg);
    io_threads = &threads_f.Add({});
    in_flight = &m->http_in_flight.Add({{"server", "public"}});
  }
  void Refused(const char* reason) {
    auto it = refused_requests.find(reason);
    if (it != refused_requests.end()) it->second->Increment();
  }
  static void Inc(prometheus::Counter* c, double by = 1) {
    if (c) c->Increment(by);
  }
  prometheus::Gauge* open = nullptr;
  prometheus::Counter* accepted = nullptr;
  prometheus::Counter* refused_process = nullptr;
  prometheus::Counter* refused_address = nullptr;
  prometheus::Counter* refused_accept = nullptr;
  prometheus::Counter* closed_idle = nullptr;
  prometheus::Counter* closed_handoff = nullptr;
  prometheus::Counter* gzip_answers = nullptr;
  prometheus::Counter* gzip_bytes_in = nullptr;
  prometheus::Counter* gzip_bytes_out = nullptr;
  std::map<std::string, prometheus::Counter*> refused_requests;  // written only in the constructor
  prometheus::Gauge* io_threads = nullptr;
  prometheus::Gauge* in_flight = nullptr;
};

// Series of one (route, code), looked up once per I/O thread (as in
// core/http/http_server.cc): no label hashing under the family lock per request.
struct SeriesCache {
  std::string key;
  std::unordered_map<std::string, prometheus::Counter*> counters;
  std::unordered_map<std::string, prometheus::Histogram*> histograms;
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

class Session;

struct Server::Impl {
  Impl(const core::HttpOptions& h, const core::EdgeOptions& e, AsyncHandler hd, RouteLabeler lb, core::Metrics* m)
      : http(h), edge(e), handler(std::move(hd)), labeler(std::move(lb)), metrics(m), em(m),
        limits(e.max_connections, e.max_connections_per_address), acceptor(ioc), stats_timer(ioc) {}

  const core::HttpOptions http;
  const core::EdgeOptions edge;
  const AsyncHandler handler;
  const RouteLabeler labeler;
  core::Metrics* const metrics;
  EdgeMetrics em;
  ConnectionLimits limits;
  UpgradeRegistry upgrades;
  std::atomic<int64_t> in_flight{0};
  std::atomic<int64_t> refusing{0};

  // Late answers (a Kafka ack after Stop) are dropped once the gate closed.
  std::mutex gate_mu;
  bool gate_open = true;  // guarded by gate_mu

  std::mutex sessions_mu;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;  // guarded by sessions_mu

  std::vector<std::thread> threads;
  bool started = false;
  bool stopped = false;
  int port = 0;

  // Declared last: destroyed first, before everything sessions touch.
  net::io_context ioc;
  tcp::acceptor acceptor;
  net::steady_timer stats_timer;

  void Accept(const std::shared_ptr<Impl>& self);
  void OnAccept(const std::shared_ptr<Impl>& self, beast::error_code ec, tcp::socket socket);
  void Stats(const std::shared_ptr<Impl>& self);
  void CountRequest(const core::HttpRequest& req, int status, Clock::time_point start);
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<Server::Impl> impl, ConnectionLease lease, std::string address)
      : stream_(std::move(socket)), ex_(stream_.get_executor()), deadline_(ex_), impl_(std::move(impl)),
        lease_(std::move(lease)), address_(std::move(address)) {}

  // The session's strand; a copy taken at construction, readable from any thread.
  const beast::tcp_stream::executor_type& executor() const { return ex_; }

  ~Session() {
    if (registered_) {
      std::lock_guard lock(impl_->sessions_mu);
      impl_->sessions.erase(this);
    }
    if (refusing_) impl_->refusing.fetch_sub(1);
  }

  // A connection within the caps: serve requests.
  void Run() {
    Register();
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::ReadNext, shared_from_this()));
  }

  // A connection over a cap: answer `status` without reading a request, then close.
  void RunRefusal(int status, const char* code, const char* message) {
    refusing_ = true;
    Register();
    auto self = shared_from_this();
    net::dispatch(stream_.get_executor(), [self, status, code, message] {
      self->keep_alive_ = false;
      self->linger_ms_ = kRefusalLingerMs;
      self->linger_bytes_ = kRefusalLingerBytes;
      core::HttpResponse r = core::HttpResponse::Error(status, code, message);
      r.headers["Retry-After"] = "1";
      self->Write(std::move(r), /*count=*/false);
    });
  }

  // From Stop(), on the session's strand.
  void Close() {
    if (handed_off_) return;
    deadline_.cancel();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  void Register() {
    std::lock_guard lock(impl_->sessions_mu);
    impl_->sessions.emplace(this, weak_from_this());
    registered_ = true;
  }

  // ---- reading a request -------------------------------------------------

  void ReadNext() {
    parser_.reset();
    if (buffer_.size() > 0) {  // a pipelined request already started
      ReadHeader();
      return;
    }
    // Idle keep-alive wait for the first byte of the next request.
    stream_.expires_after(std::chrono::milliseconds(impl_->edge.idle_timeout_ms));
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            beast::bind_front_handler(&Session::OnFirstBytes, shared_from_this()));
  }

  void OnFirstBytes(beast::error_code ec, size_t n) {
    if (ec) {
      if (ec == beast::error::timeout) EdgeMetrics::Inc(impl_->em.closed_idle);
      Shutdown();
      return;
    }
    buffer_.commit(n);
    ReadHeader();
  }

  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(impl_->edge.max_header_bytes));
    // The body is judged in OnHeader (Content-Length against the limit), and
    // the limit is set before the body is read. Not boost::none here: Boost
    // 1.74 compares `len > body_limit_` as optionals, where none is below
    // every value, so "no limit" refuses every body at the end of the head.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    stream_.expires_never();
    ArmDeadline(impl_->edge.header_timeout_ms);
    http::async_read_header(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  // The head or body read gets `ms`; when it runs out the read is cancelled
  // (not the socket closed) and the read's handler sees timed_out_.
  void ArmDeadline(int ms) {
    const uint64_t gen = ++deadline_gen_;
    timed_out_ = false;
    deadline_.expires_after(std::chrono::milliseconds(ms));
    deadline_.async_wait([self = shared_from_this(), gen](beast::error_code ec) {
      // Both handlers run on the session's strand; a read that completed
      // first bumped the generation (DisarmDeadline), so a late expiry is ignored.
      if (ec || gen != self->deadline_gen_) return;
      self->timed_out_ = true;
      beast::error_code cec;
      self->stream_.socket().cancel(cec);
    });
  }

  // After a head or body read completed: true when it ended by the deadline.
  bool DisarmDeadline() {
    ++deadline_gen_;
    deadline_.cancel();
    const bool t = timed_out_;
    timed_out_ = false;
    return t;
  }

  void OnHeader(beast::error_code ec, size_t) {
    start_ = Clock::now();
    if (DisarmDeadline()) ec = beast::error::timeout;
    if (ec) {
      OnReadError(ec, /*in_body=*/false);
      return;
    }
    auto& h = parser_->get();
    keep_alive_ = h.keep_alive();
    version_ = h.version();
    head_ = h.method() == http::verb::head;
    req_ = core::HttpRequest{};
    req_.method = std::string(h.method_string());
    const std::string_view target(h.target().data(), h.target().size());
    if (req_.method.size() + target.size() + 10 > static_cast<size_t>(impl_->edge.max_request_line_bytes)) {
      Refuse(414, "uri_too_long", "request line exceeds " + std::to_string(impl_->edge.max_request_line_bytes) + " bytes",
             "request_line_too_long", /*linger=*/true);
      return;
    }
    for (const auto& f : h) req_.headers[Lower(std::string_view(f.name_string().data(), f.name_string().size()))] =
        std::string(f.value());
    req_.client_address = address_;
    if (!core::ParseSimpleTarget(target, &req_.path, &req_.query)) {
      try {
        Poco::URI uri{std::string(target)};
        req_.path = uri.getPath();
        for (const auto& [k, v] : uri.getQueryParameters()) req_.query[k] = v;
      } catch (const Poco::Exception&) {
        Refuse(400, "invalid_argument", "malformed request URI", "malformed", /*linger=*/true);
        return;
      }
    }

    // A long connection (WebSocket, SSE) with a registered handler.
    std::string live_room;
    if (auto kind = ClassifyLongConnection(req_, &live_room)) {
      if (const LongConnectionHandler* handler = impl_->upgrades.Find(*kind)) {
        if (!parser_->is_done()) {
          Refuse(400, "invalid_argument", "a long-connection request has no body", "malformed", true);
          return;
        }
        HandOff(*kind, std::move(live_room), *handler);
        return;
      }
    }

    const bool body_method = h.method() == http::verb::post || h.method() == http::verb::put;
    const int64_t limit = impl_->http.max_body_bytes;
    const auto length = parser_->content_length();
    if (length && static_cast<int64_t>(*length) > limit) {
      // Refused before the body is read; the lingering close lets a client
      // that sends it all anyway read this answer.
      Refuse(413, "too_large", "body exceeds " + std::to_string(limit) + " bytes", "body_too_large", true);
      return;
    }
    if (body_method) {
      const bool has_body = parser_->chunked() || !length || *length > 0;
      if (has_body && req_.Header("content-type").rfind("application/json", 0) != 0) {
        Refuse(415, "unsupported_media_type", "body must be application/json", "unsupported_media_type", true);
        return;
      }
    }
    parser_->body_limit(static_cast<std::uint64_t>(limit));
    if (parser_->is_done()) {
      OnRequest();
      return;
    }
    if (Lower(req_.Header("expect")) == "100-continue") {
      // The client waits for this before it sends the body.
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, version_);
      stream_.expires_after(std::chrono::milliseconds(kWriteTimeoutMs));
      http::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code wec, size_t) {
        if (wec) {
          self->Shutdown();
          return;
        }
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    stream_.expires_never();
    ArmDeadline(impl_->edge.body_timeout_ms);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::OnBody, shared_from_this()));
  }

  void OnBody(beast::error_code ec, size_t) {
    if (DisarmDeadline()) ec = beast::error::timeout;
    if (ec) {
      OnReadError(ec, /*in_body=*/true);
      return;
    }
    OnRequest();
  }

  void OnReadError(beast::error_code ec, bool in_body) {
    if (ec == http::error::end_of_stream || (!in_body && ec == http::error::partial_message && buffer_.size() == 0)) {
      Shutdown();  // the client closed between requests
      return;
    }
    if (ec == beast::error::timeout) {
      if (in_body) {
        Refuse(408, "timeout", "request body not complete within " + std::to_string(impl_->edge.body_timeout_ms) + " ms",
               "body_timeout", false);
      } else {
        Refuse(408, "timeout", "request head not complete within " + std::to_string(impl_->edge.header_timeout_ms) + " ms",
               "header_timeout", false);
      }
      return;
    }
    if (ec == http::error::header_limit) {
      Refuse(431, "header_too_large", "request head exceeds " + std::to_string(impl_->edge.max_header_bytes) + " bytes",
             "header_too_large", true);
      return;
    }
    if (ec == http::error::body_limit) {
      Refuse(413, "too_large", "body exceeds " + std::to_string(impl_->http.max_body_bytes) + " bytes", "body_too_large",
             true);
      return;
    }
    if (ec == http::error::partial_message) {
      // The client half-closed inside a request (e.g. a body shorter than
      // its Content-Length): answer if it still reads, then close.
      Refuse(400, "invalid_argument", "request ended before its announced length", "client_closed_mid_request", false);
      return;
    }
    if (ec.category() == http::make_error_code(http::error::bad_method).category()) {
      Refuse(400, "invalid_argument", "malformed request: " + ec.message(), "malformed", true);
      return;
    }
    Shutdown();  // a socket error: nobody to answer
  }

  // ---- answering ---------------------------------------------------------

  void OnRequest() {
    req_.body = std::move(parser_->get().body());
    impl_->in_flight.fetch_add(1);
    if (impl_->em.in_flight) impl_->em.in_flight->Increment();
    counted_in_flight_ = true;
    auto self = shared_from_this();
    auto ex = stream_.get_executor();
    auto answered = std::make_shared<std::atomic<bool>>(false);
    Respond respond = [self, ex, answered](core::HttpResponse r) {
      if (answered->exchange(true)) return;  // exactly once
      Server::Impl& impl = *self->impl_;
      std::lock_guard lock(impl.gate_mu);
      if (!impl.gate_open) return;
      net::post(ex, [self, r = std::move(r)]() mutable { self->Write(std::move(r), true); });
    };
    try {
      impl_->handler(req_, respond);
    } catch (const std::exception& e) {
      core::LogError("http_handler_exception", {{"path", req_.path}, {"error", e.what()}});
      respond(core::HttpResponse::Error(500, "internal", "internal error"));
    }
  }

  void Refuse(int status, const char* code, const std::string& message, const char* reason, bool linger) {
    impl_->em.Refused(reason);
    keep_alive_ = false;
    if (linger) {
      linger_ms_ = impl_->edge.linger_ms;
      linger_bytes_ = impl_->edge.linger_max_bytes;
    }
    Write(core::HttpResponse::Error(status, code, message), true);
  }

  void Write(core::HttpResponse r, bool count) {
    if (counted_in_flight_) {
      counted_in_flight_ = false;
      impl_->in_flight.fetch_sub(1);
      if (impl_->em.in_flight) impl_->em.in_flight->Decrement();
    }
    if (count && impl_->metrics) impl_->CountRequest(req_, r.status, start_);
    if (count) MaybeCompress(r);
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version_);
    res->result(static_cast<unsigned>(r.status));
    res->set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res->set(k, v);
    res->keep_alive(keep_alive_);
    const size_t size = r.body.size();
    res->body() = std::move(r.body);
    res->prepare_payload();
    if (head_) {
      res->body().clear();
      res->content_length(size);
    }
    stream_.expires_after(std::chrono::milliseconds(kWriteTimeoutMs));
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec) {
        self->Shutdown();
        return;
      }
      if (!self->keep_alive_ || res->need_eof()) {
        self->Linger();
        return;
      }
      self->ReadNext();
    });
  }

  // gzip where it pays (edge/gzip.h): on the I/O thread, as the answer is
  // serialised; its CPU cost shows in bench/run gzip as the polls/s ratio.
  // A compressed body not smaller than the plain one is not sent.
  void MaybeCompress(core::HttpResponse& r) {
    const core::GzipOptions& o = impl_->edge.gzip;
    if (!Compressible(r, o)) return;
    auto& vary = r.headers["Vary"];
    vary = vary.empty() ? "Accept-Encoding" : vary + ", Accept-Encoding";
    if (!AcceptsGzip(req_.Header("accept-encoding"))) return;
    std::optional<std::string> z = GzipCompress(r.body, o.level);
    if (!z || z->size() >= r.body.size()) return;
    EdgeMetrics::Inc(impl_->em.gzip_answers);
    EdgeMetrics::Inc(impl_->em.gzip_bytes_in, static_cast<double>(r.body.size()));
    EdgeMetrics::Inc(impl_->em.gzip_bytes_out, static_cast<double>(z->size()));
    r.body = std::move(*z);
    r.headers["Content-Encoding"] = "gzip";
  }

  // Closing after an answer. With linger_ms_ > 0 the input is drained first
  // (bounded in bytes and time), so that the client, which may still be
  // sending a body we refused, reads the answer instead of a reset.
  void Linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec || linger_ms_ <= 0) {
      Shutdown();
      return;
    }
    buffer_.clear();
    stream_.expires_after(std::chrono::milliseconds(linger_ms_));
    DrainSome();
  }

  void DrainSome() {
    if (!drain_) drain_ = std::make_unique<char[]>(kDrainChunk);
    stream_.async_read_some(net::buffer(drain_.get(), kDrainChunk), [self = shared_from_this()](beast::error_code ec, size_t n) {
      self->drained_ += static_cast<int64_t>(n);
      if (ec || self->drained_ > self->linger_bytes_) {
        self->Shutdown();
        return;
      }
      self->DrainSome();
    });
  }

  void Shutdown() {
    deadline_.cancel();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  void HandOff(LongKind kind, std::string live_room, const LongConnectionHandler& handler) {
    EdgeMetrics::Inc(impl_->em.closed_handoff);
    handed_off_ = true;
    stream_.expires_never();
    LongConnection c(std::move(stream_));
    c.kind = kind;
    c.live_room = std::move(live_room);
    c.buffer = std::move(buffer_);
    c.request = parser_->release();
    c.parsed = std::move(req_);
    c.lease = std::move(lease_);
    handler(std::move(c));
  }

  static constexpr size_t kDrainChunk = 64 * 1024;

  beast::tcp_stream stream_;
  const beast::tcp_stream::executor_type ex_;
  net::steady_timer deadline_;   // the head / body read's deadline (ArmDeadline)
  uint64_t deadline_gen_ = 0;    // bumped at every arm and disarm
  bool timed_out_ = false;       // the current read was cancelled by deadline_
  std::shared_ptr<Server::Impl> impl_;
  ConnectionLease lease_;
  const std::string address_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  core::HttpRequest req_;
  Clock::time_point start_ = Clock::now();
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool head_ = false;
  bool counted_in_flight_ = false;
  bool registered_ = false;
  bool refusing_ = false;
  bool handed_off_ = false;  // the stream moved to a long-connection handler
  int linger_ms_ = 0;
  int64_t linger_bytes_ = 0;
  int64_t drained_ = 0;
  std::unique_ptr<char[]> drain_;
};

void Server::Impl::CountRequest(const core::HttpRequest& req, int status, Clock::time_point start) {
  const std::string route = req.path.empty() ? "other" : labeler(req);
  thread_local SeriesCache cache;
  std::string& key = cache.key;
  const Impl* self = this;  // keeps servers (and their registries) apart
  key.assign(reinterpret_cast<const char*>(&self), sizeof(self)).append(route);
  auto h = cache.histograms.find(key);
  if (h == cache.histograms.end()) {
    h = cache.histograms.emplace(key, &metrics->http_duration.Add({{"server", "public"}, {"route", route}},
                                                                  core::Metrics::LatencyBuckets())).first;
  }
  char code[16];
  auto [end, ec] = std::to_chars(code, code + sizeof(code), status);
  key.push_back('|');
  key.append(code, end);
  auto c = cache.counters.find(key);
  if (c == cache.counters.end()) {
    c = cache.counters.emplace(key, &metrics->http_requests.Add({{"server", "public"}, {"route", route},
                                                                 {"code", std::string(code, end)}})).first;
  }
  c->second->Increment();
  h->second->Observe(std::chrono::duration<double>(Clock::now() - start).count());
}

void Server::Impl::Accept(const std::shared_ptr<Impl>& self) {
  acceptor.async_accept(net::make_strand(ioc), [self](beast::error_code ec, tcp::socket socket) {
    self->OnAccept(self, ec, std::move(socket));
  });
}

void Server::Impl::OnAccept(const std::shared_ptr<Impl>& self, beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    // Out of descriptors (EMFILE) and the like: count, pause briefly, go on.
    EdgeMetrics::Inc(em.refused_accept);
    static std::atomic<int64_t> last_log{0};
    const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
    if (last_log.exchange(now_s) != now_s) core::LogWarn("edge_accept_failed", {{"error", ec.message()}});
    auto timer = std::make_shared<net::steady_timer>(ioc, std::chrono::milliseconds(50));
    timer->async_wait([self, timer](beast::error_code) { self->Accept(self); });
    return;
  }
  beast::error_code aec;
  const auto remote = socket.remote_endpoint(aec);
  if (aec) {
    Accept(self);
    return;
  }
  socket.set_option(tcp::no_delay(true), aec);
  std::string address = remote.address().to_string();
  ConnectionLimits::Refusal why = ConnectionLimits::Refusal::kNone;
  ConnectionLease lease = limits.TryAcquire(address, &why);
  if (lease) {
    EdgeMetrics::Inc(em.accepted);
    std::make_shared<Session>(std::move(socket), self, std::move(lease), std::move(address))->Run();
  } else {
    const bool process = why == ConnectionLimits::Refusal::kProcessCap;
    EdgeMetrics::Inc(process ? em.refused_process : em.refused_address);
    if (refusing.fetch_add(1) < kMaxRefusing) {
      auto s = std::make_shared<Session>(std::move(socket), self, ConnectionLease(), std::move(address));
      if (process) s->RunRefusal(503, "unavailable", "this server holds its maximum of connections; retry");
      else s->RunRefusal(429, "too_many_connections", "too many connections from this address");
    } else {
      refusing.fetch_sub(1);
      beast::error_code cec;
      socket.close(cec);
    }
  }
  Accept(self);
}

void Server::Impl::Stats(const std::shared_ptr<Impl>& self) {
  if (em.open) em.open->Set(static_cast<double>(limits.open()));
  stats_timer.expires_after(std::chrono::seconds(1));
  stats_timer.async_wait([self](beast::error_code ec) {
    if (!ec) self->Stats(self);
  });
}

Server::Server(const core::HttpOptions& http, const core::EdgeOptions& edge, AsyncHandler handler, RouteLabeler labeler,
               core::Metrics* metrics)
    : impl_(std::make_shared<Impl>(http, edge, std::move(handler), std::move(labeler), metrics)) {
  auto address = net::ip::make_address(http.bind);
  tcp::endpoint ep(address, static_cast<unsigned short>(http.public_port));
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(net::socket_base::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen(net::socket_base::max_listen_connections);
  impl_->port = impl_->acceptor.local_endpoint().port();
}

Server::~Server() { Stop(); }

void Server::Start() {
  Impl& impl = *impl_;
  if (impl.started) return;
  impl.started = true;
  // Every connection is a descriptor: raise the soft limit towards the hard
  // one so that the connection cap, not EMFILE, is what refuses.
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    const rlim_t want = static_cast<rlim_t>(impl.edge.max_connections) + 1024;
    if (lim.rlim_cur < want && lim.rlim_cur < lim.rlim_max) {
      lim.rlim_cur = std::min(want, lim.rlim_max);
      (void)setrlimit(RLIMIT_NOFILE, &lim);
    }
    if (lim.rlim_cur < want) {
      core::LogWarn("edge_fd_limit_below_cap", {{"nofile", std::to_string(lim.rlim_cur)},
                                                {"max_connections", std::to_string(impl.edge.max_connections)}});
    }
  }
  int n = impl.edge.io_threads > 0 ? impl.edge.io_threads : static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  if (impl.em.io_threads) impl.em.io_threads->Set(n);
  auto self = impl_;
  net::post(impl.acceptor.get_executor(), [self] {
    self->Accept(self);
    self->Stats(self);
  });
  for (int i = 0; i < n; ++i) {
    impl.threads.emplace_back([self] {
      for (;;) {
        try {
          self->ioc.run();
          return;
        } catch (const std::exception& e) {
          // A handler threw past its session: log and keep the loop alive.
          core::LogError("edge_io_exception", {{"error", e.what()}});
        }
      }
    });
  }
  core::LogInfo("edge_started", {{"port", std::to_string(impl.port)}, {"io_threads", std::to_string(n)},
                                 {"max_connections", std::to_string(impl.edge.max_connections)},
                                 {"max_connections_per_address", std::to_string(impl.edge.max_connections_per_address)}});
}

void Server::Stop() {
  if (!impl_) return;
  Impl& impl = *impl_;
  if (impl.stopped) return;
  impl.stopped = true;
  {
    std::lock_guard lock(impl.gate_mu);
    impl.gate_open = false;
  }
  auto self = impl_;
  net::post(impl.acceptor.get_executor(), [self] {
    beast::error_code ec;
    self->acceptor.close(ec);
    self->stats_timer.cancel();
  });
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard lock(impl.sessions_mu);
    for (auto& [raw, weak] : impl.sessions) {
      if (auto s = weak.lock()) open.push_back(std::move(s));
    }
  }
  for (auto& s : open) net::post(s->executor(), [s] { s->Close(); });
  open.clear();
  if (impl.started) {
    // Bounded: sessions whose answer is still awaited (a write's ack) or
    // long connections that ignore the close must not hold the shutdown.
    const auto deadline = Clock::now() + std::chrono::milliseconds(kStopGraceMs);
    while (Clock::now() < deadline) {
      {
        std::lock_guard lock(impl.sessions_mu);
        if (impl.sessions.empty()) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    impl.ioc.stop();
    for (auto& t : impl.threads) t.join();
    impl.threads.clear();
  }
  impl.ioc.stop();
}

int Server::port() const { return impl_->port; }
UpgradeRegistry& Server::upgrades() { return impl_->upgrades; }
ConnectionLimits& Server::limits() { return impl_->limits; }
int64_t Server::open_connections() const { return impl_->limits.open(); }
int64_t Server::requests_in_flight() const { return impl_->in_flight.load(); }

}  // namespace danmu::edge
