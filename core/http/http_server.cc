#include "core/http/http_server.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include <charconv>
#include <chrono>
#include <unordered_map>
#include <vector>

#include "core/base/log.h"
#include "core/base/metrics.h"

namespace danmu::core {
namespace {

struct Shared {
  HttpOptions options;
  std::string server_label;
  HttpHandler handler;
  RouteLabeler labeler;
  Metrics* metrics;
  prometheus::Gauge* in_flight = nullptr;
};

void Send(Poco::Net::HTTPServerResponse& out, const HttpResponse& r) {
  out.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(r.status));
  out.setContentType(r.content_type);
  // Set here too so that the header order stays what clients saw before
  // (sendBuffer sets the same value again in place).
  out.setContentLength(static_cast<std::streamsize>(r.body.size()));
  for (const auto& [k, v] : r.headers) out.set(k, v);
  // sendBuffer sets Content-Length and formats the header once (send() also
  // formats it into a counting stream first); header and body leave in one
  // buffered write, and a HEAD request gets the header only, as with send().
  out.sendBuffer(r.body.data(), r.body.size());
}

// Series of one (server, route, code), looked up once per thread: label
// hashing under the family's lock on every request was a measurable cost, and
// so was building the lookup key per request (the key buffer is reused).
struct SeriesCache {
  std::string key;
  std::unordered_map<std::string, prometheus::Counter*> counters;
  std::unordered_map<std::string, prometheus::Histogram*> histograms;
};

class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit Handler(Shared* shared) : shared_(shared) {}

  void handleRequest(Poco::Net::HTTPServerRequest& in, Poco::Net::HTTPServerResponse& out) override {
    auto start = std::chrono::steady_clock::now();
    if (shared_->in_flight) shared_->in_flight->Increment();
    HttpRequest req;
    HttpResponse resp;
    try {
      req.method = in.getMethod();
      if (!ParseSimpleTarget(in.getURI(), &req.path, &req.query)) {
        Poco::URI uri(in.getURI());
        req.path = uri.getPath();
        for (const auto& [k, v] : uri.getQueryParameters()) req.query[k] = v;
      }
      for (const auto& [k, v] : in) {
        std::string name = k;
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        req.headers[std::move(name)] = v;
      }
      req.client_address = in.clientAddress().host().toString();
      resp = Dispatch(in, req);
    } catch (const Poco::SyntaxException& e) {
      resp = HttpResponse::Error(400, "invalid_argument", "malformed request URI");
    } catch (const std::exception& e) {
      LogError("http_handler_exception", {{"path", req.path}, {"error", e.what()}});
      resp = HttpResponse::Error(500, "internal", "internal error");
    }
    try {
      Send(out, resp);
      if (drain_) Drain(in);
    } catch (const std::exception&) {
      // The client went away; nothing to answer.
    }
    if (shared_->metrics) {
      const std::string route = req.path.empty() ? "other" : shared_->labeler(req);
      thread_local SeriesCache cache;
      std::string& key = cache.key;
      // The Shared address keeps servers (and their registries) apart.
      key.assign(reinterpret_cast<const char*>(&shared_), sizeof(shared_)).append(route);
      auto h = cache.histograms.find(key);
      if (h == cache.histograms.end()) {
        h = cache.histograms.emplace(key, &shared_->metrics->http_duration.Add(
                                              {{"server", shared_->server_label}, {"route", route}}, Metrics::LatencyBuckets())).first;
      }
      char code[16];
      auto [end, ec] = std::to_chars(code, code + sizeof(code), resp.status);
      key.push_back('|');
      key.append(code, end);
      auto c = cache.counters.find(key);
      if (c == cache.counters.end()) {
        c = cache.counters.emplace(key, &shared_->metrics->http_requests.Add(
                                            {{"server", shared_->server_label}, {"route", route}, {"code", std::string(code, end)}})).first;
      }
      c->second->Increment();
      h->second->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      shared_->in_flight->Decrement();
    }
  }

 private:
  // Lingering close after a refused body (as nginx does): read and discard
  // the rest of it, at most kDrainBytes and kDrainMs (each read is bounded
  // by the receive timeout too), so that the close sends no reset that
  // would destroy the answer before the client read it.
  static constexpr int64_t kDrainBytes = 64 << 20;
  static constexpr int kDrainMs = 5000;
  void Drain(Poco::Net::HTTPServerRequest& in) {
    auto& stream = in.stream();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kDrainMs);
    std::vector<char> buf(64 * 1024);
    int64_t total = 0;
    while (total < kDrainBytes && std::chrono::steady_clock::now() < deadline) {
      stream.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      const auto n = stream.gcount();
      if (n <= 0) break;
      total += n;
    }
  }

  HttpResponse Dispatch(Poco::Net::HTTPServerRequest& in, HttpRequest& req) {
    if (req.method == "POST" || req.method == "PUT") {
      const int64_t limit = shared_->options.max_body_bytes;
      if (in.hasContentLength() && in.getContentLength64() > limit) {
        // Do not parse a body we will refuse; close after a lingering drain
        // so that a client that sends it all still reads the 413.
        in.response().setKeepAlive(false);
        drain_ = true;
        return HttpResponse::Error(413, "too_large", "body exceeds " + std::to_string(limit) + " bytes");
      }
      std::string ct = req.Header("content-type");
      bool has_body = !in.hasContentLength() || in.getContentLength64() > 0;
      if (has_body && ct.rfind("application/json", 0) != 0) {
        in.response().setKeepAlive(false);
        return HttpResponse::Error(415, "unsupported_media_type", "body must be application/json");
      }
      auto& stream = in.stream();
      req.body.resize(static_cast<size_t>(limit) + 1);
      stream.read(req.body.data(), limit + 1);
      req.body.resize(static_cast<size_t>(stream.gcount()));
      if (static_cast<int64_t>(req.body.size()) > limit) {
        in.response().setKeepAlive(false);
        drain_ = true;
        return HttpResponse::Error(413, "too_large", "body exceeds " + std::to_string(limit) + " bytes");
      }
    }
    return shared_->handler(req);
  }

  Shared* shared_;
  bool drain_ = false;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(Shared* shared) : shared_(shared) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new Handler(shared_);
  }

 private:
  Shared* shared_;
};

}  // namespace

struct HttpServer::Impl {
  Shared shared;
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  int port = 0;
};

HttpServer::HttpServer(const HttpOptions& options, int port, std::string server_label, HttpHandler handler,
                       RouteLabeler labeler, Metrics* metrics)
    : impl_(std::make_unique<Impl>()) {
  impl_->shared = Shared{options, std::move(server_label), std::move(handler), std::move(labeler), metrics};
  if (metrics) impl_->shared.in_flight = &metrics->http_in_flight.Add({{"server", impl_->shared.server_label}});
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress(options.bind, static_cast<Poco::UInt16>(port)), 1024);
  impl_->port = socket.address().port();
  auto* params = new Poco::Net::HTTPServerParams();
  params->setMaxThreads(options.threads);
  params->setMaxQueued(options.max_queued);
  params->setKeepAlive(true);
  params->setKeepAliveTimeout(Poco::Timespan(0, options.keep_alive_timeout_ms * 1000));
  params->setMaxKeepAliveRequests(options.max_keep_alive_requests);
  params->setTimeout(Poco::Timespan(0, options.receive_timeout_ms * 1000));
  params->setServerName("danmud");
  impl_->pool = std::make_unique<Poco::ThreadPool>(2, options.threads + 4, 60, 256 * 1024);
  impl_->server = std::make_unique<Poco::Net::HTTPServer>(new Factory(&impl_->shared), *impl_->pool, socket, params);
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Start() { impl_->server->start(); }

void HttpServer::Stop() {
  if (impl_ && impl_->server) {
    impl_->server->stopAll(true);
    impl_->pool->joinAll();
    impl_->server.reset();
  }
}

int HttpServer::port() const { return impl_->port; }

}  // namespace danmu::core
