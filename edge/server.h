#pragma once
// The public port's event-driven HTTP/1.1 server (DESIGN §12). Boost.Beast on
// Boost.Asio inside server.cc; this header is Beast-free.
//
// Concurrency model: `io_threads` threads run one io_context; every
// connection is a session on its own strand (so a session's handlers never
// run concurrently) owning its stream, its read buffer and its one
// outstanding response. No thread per connection, nothing blocking on an I/O
// thread: the handler answers a poll from memory inline, and a write through
// `respond`, which may be called later from any thread (a Kafka delivery
// report, a worker): the answer is posted back to the session's strand.
//
// A session reads one request, answers it, then reads the next (HTTP/1.1
// keep-alive; pipelined requests are answered in order, one at a time).
// Hygiene, each refusal a status and a metric (EdgeMetrics, server.cc):
//   - idle keep-alive connection (no byte of a next request) for
//     idle_timeout_ms: closed ("idle_timeout");
//   - request head not complete within header_timeout_ms of its first byte
//     (slowloris): 408 and close ("header_timeout");
//   - body not complete within body_timeout_ms (e.g. shorter than its
//     Content-Length): 408 and close ("body_timeout");
//   - request line longer than max_request_line_bytes: 414; header block
//     over max_header_bytes: 431; malformed request line, header or chunked
//     encoding: 400; each then closes the connection;
//   - body over http.max_body_bytes (Content-Length or chunked): 413 with
//     Connection: close, then a lingering close: the rest of the input is
//     read and discarded (at most linger_max_bytes, for at most linger_ms)
//     so that a client that sends its whole body still reads the 413, as
//     nginx does;
//   - POST/PUT with a body that is not application/json: 415 and close;
//   - a new connection over max_connections (process) or over
//     max_connections_per_address: 503 / 429 with Retry-After, then closed
//     (connection accounting in edge/connection_limits.h).
// A request for a long connection (edge/upgrade.h) is handed to the
// registered handler with its socket.
#include <functional>
#include <memory>
#include <string>

#include "core/base/config.h"
#include "core/http/http_types.h"

namespace danmu::core {
class Metrics;
}

namespace danmu::edge {

class ConnectionLimits;
class UpgradeRegistry;

// Answers a request exactly once, from any thread.
using Respond = std::function<void(core::HttpResponse)>;
// Called on an I/O thread; must not block: answer inline (call `respond`
// before returning) or hand the work off and call `respond` later.
using AsyncHandler = std::function<void(const core::HttpRequest& req, Respond respond)>;
// Maps a request to a bounded route label for metrics.
using RouteLabeler = std::function<std::string(const core::HttpRequest&)>;

class Server {
 public:
  // Binds http.bind:http.public_port (0 = any free port) at construction;
  // `edge` holds the connection-layer options, `http` the body limit.
  Server(const core::HttpOptions& http, const core::EdgeOptions& edge, AsyncHandler handler, RouteLabeler labeler,
         core::Metrics* metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void Start();  // starts the I/O threads and accepting
  void Stop();   // stops accepting, closes every connection, joins the I/O threads
  int port() const;

  // Long-connection handlers (edge-internal type; register before Start).
  UpgradeRegistry& upgrades();
  // Open connections and their per-address accounting (HTTP and long ones).
  ConnectionLimits& limits();
  int64_t open_connections() const;
  // Requests read and not yet answered (writes awaiting their ack included).
  int64_t requests_in_flight() const;

 private:
  friend class Session;  // server.cc's per-connection state
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace danmu::edge
