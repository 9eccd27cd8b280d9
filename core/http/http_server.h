#pragma once
// The HTTP edge (Poco HTTPServer inside). Poco holds one pool thread per
// keep-alive connection, so the pool size, queue, keep-alive and receive
// timeouts are set on purpose from HttpOptions: an idle or slow client holds
// a thread for at most receive_timeout_ms, and the queue is bounded.
//
// The server reads at most max_body_bytes of a body (413 beyond, without
// parsing the rest: it is drained and discarded, bounded, before the close,
// so that a client that sent it all can read the 413), refuses non-JSON POST bodies (415), counts every request
// by route and code, and turns any exception from a handler into a 500 JSON
// error instead of a dead connection.
#include <functional>
#include <memory>
#include <string>

#include "core/base/config.h"
#include "core/http/http_types.h"

namespace danmu::core {

class Metrics;

// Maps a request to a bounded route label for metrics ("/v1/rooms/:room/messages").
using RouteLabeler = std::function<std::string(const HttpRequest&)>;

class HttpServer {
 public:
  // `server_label`: public or admin.
  HttpServer(const HttpOptions& options, int port, std::string server_label, HttpHandler handler,
             RouteLabeler labeler, Metrics* metrics);
  ~HttpServer();
  void Start();
  void Stop();
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace danmu::core
