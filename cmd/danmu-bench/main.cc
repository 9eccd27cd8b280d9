// danmu-bench: load and benchmarks for danmu-ha.
//   danmu-bench load --a URL --b URL [--seconds N] [--rooms N] [--writers N] [--pollers N]
//       live traffic through both rooms: writers post comments/gifts/likes
//       (keep-alive connections), pollers follow every live room in both
//       rooms with cursors and obey next_poll_ms; prints a summary.
//   danmu-bench baseline-server --port P [--threads N] [--body-file F]
//       a bare Poco HTTPServer answering a fixed poll-shaped JSON (or the
//       bytes of F): the baseline that bench/run measures danmud's poll
//       path against.
//   danmu-bench writes --url URL [--seconds N] [--clients N]
//       acknowledged writes per second through one frontend (keep-alive).
//   danmu-bench produce --brokers B --topic T [--seconds N] [--clients N]
//       the baseline for writes: acks=all produces straight to Kafka.
//   danmu-bench produce --brokers B --topic T --in-flight N [--seconds N]
//       the raw acks=all produce ceiling with N records in flight (one client).
//   danmu-bench gen --url URL [--peer danmu|nchan] [--procs N] [--sources 127.0.0.1-20] ...
//       the open-loop load generator (bench/loadgen/load.h): fixed-rate GETs
//       (--rate --conns --path --header), polling viewers (--viewers), WebSocket
//       viewers (--ws), clients that follow the long-connection contract
//       (--contract N --router URL --contract-retry-ms --contract-reconnect-ms),
//       writers (--writers --write-rate), likers (--likers
//       --like-rate --like-count) over a room mix (--big-share --small-rooms);
//       prints one JSON report (latency percentiles from the due time,
//       post->visible, bytes per message, exactness).
//   danmu-bench archive --redis ADDR --mysql-dsn DSN --password-file F [--rows N] [--batch N]
//       archive rows/s vs the same rows inserted straight into MySQL
//       (archive_bench.cc).
//   danmu-bench drain-produce ... / drain-wait ...
//       the backlog drain benchmark's two steps (drain_bench.cc).
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cmd/danmu-bench/bench_flags.h"
#include "core/base/config.h"
#include "core/store/kafka_producer.h"

namespace danmu::bench {
int ArchiveBench(BenchFlags& flags);
int Gen(BenchFlags& flags);
int ProduceCeiling(BenchFlags& flags);
int DrainProduce(BenchFlags& flags);
int DrainWait(BenchFlags& flags);
}  // namespace danmu::bench

namespace {

using danmu::bench::BenchFlags;

// One keep-alive HTTP connection.
class Conn {
 public:
  explicit Conn(const std::string& base) : uri_(base), session_(uri_.getHost(), uri_.getPort()) {
    session_.setKeepAlive(true);
    session_.setTimeout(Poco::Timespan(10, 0));
  }
  int Call(const std::string& method, const std::string& path, const std::string& body, std::string* out) {
    try {
      Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
      req.setKeepAlive(true);
      if (method == "POST") {
        req.setContentType("application/json");
        req.setContentLength(static_cast<std::streamsize>(body.size()));
      }
      session_.sendRequest(req) << body;
      Poco::Net::HTTPResponse resp;
      auto& is = session_.receiveResponse(resp);
      out->clear();
      Poco::StreamCopier::copyToString(is, *out);
      return resp.getStatus();
    } catch (const std::exception&) {
      session_.reset();
      return 0;
    }
  }

 private:
  Poco::URI uri_;
  Poco::Net::HTTPClientSession session_;
};

int Load(BenchFlags& f) {
  const std::string a = f.Required("a"), b = f.Str("b", a);
  const int seconds = f.Int("seconds", 30, 1);
  const int rooms = f.Int("rooms", 4, 1);
  const int writers = f.Int("writers", 4, 0, 10000);
  const int pollers = f.Int("pollers", 16, 0, 10000);
  if (!f.ok()) return f.UsageError("load");
  std::atomic<bool> stop{false};
  std::atomic<int64_t> acked{0}, write_err{0}, polls{0}, poll_err{0}, received{0}, likes{0};
  std::vector<std::thread> ts;
  for (int w = 0; w < writers; ++w) {
    ts.emplace_back([&, w] {
      Conn c(w % 2 ? b : a);
      std::string out;
      for (int i = 0; !stop; ++i) {
        std::string room = "live" + std::to_string(i % rooms);
        std::string uid = "bench" + std::to_string(w) + "x" + std::to_string(i % 200);
        int st;
        if (i % 10 == 9) {
          st = c.Call("POST", "/v1/rooms/" + room + "/likes", "{\"uid\":\"" + uid + "\",\"count\":5}", &out);
          if (st == 202) likes += 5;
        } else if (i % 10 == 8) {
          st = c.Call("POST", "/v1/rooms/" + room + "/messages",
                      "{\"type\":\"gift\",\"uid\":\"" + uid + "\",\"gift\":{\"id\":\"rose\",\"count\":1}}", &out);
        } else {
          st = c.Call("POST", "/v1/rooms/" + room + "/messages",
                      "{\"type\":\"comment\",\"uid\":\"" + uid + "\",\"text\":\"hello " + std::to_string(i) + "\"}", &out);
        }
        if (st == 202) ++acked; else ++write_err;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }
  for (int p = 0; p < pollers; ++p) {
    ts.emplace_back([&, p] {
      Conn c(p % 2 ? b : a);
      std::string room = "live" + std::to_string(p % rooms), cursor, out;
      while (!stop) {
        std::string path = "/v1/rooms/" + room + "/messages?limit=100&uid=viewer" + std::to_string(p);
        if (!cursor.empty()) path += "&cursor=" + cursor;
        int st = c.Call("GET", path, "", &out);
        int wait = 2000;
        if (st == 200) {
          ++polls;
          try {
            Poco::JSON::Parser parser;
            auto o = parser.parse(out).extract<Poco::JSON::Object::Ptr>();
            cursor = o->getValue<std::string>("cursor");
            received += static_cast<int64_t>(o->getArray("messages")->size());
            wait = o->getValue<int>("next_poll_ms");
          } catch (const std::exception&) {
          }
        } else {
          ++poll_err;
          wait = 500;
        }
        // Obey next_poll_ms, scaled down 4x so that a short run sees traffic.
        for (int waited = 0; waited < wait / 4 && !stop; waited += 50) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  }
  for (int s = 1; s <= seconds; ++s) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    if (s % 10 == 0 || s == seconds) {
      std::printf("  t=%3ds  acknowledged %lld (%lld refused)  polls %lld (%lld failed)  messages delivered %lld  likes %lld\n",
                  s, static_cast<long long>(acked.load()), static_cast<long long>(write_err.load()),
                  static_cast<long long>(polls.load()), static_cast<long long>(poll_err.load()),
                  static_cast<long long>(received.load()), static_cast<long long>(likes.load()));
      std::fflush(stdout);
    }
  }
  stop = true;
  for (auto& t : ts) t.join();
  std::printf("load: %.0f writes/s acknowledged, %.0f polls/s, %lld write errors, %lld poll errors\n",
              acked.load() / static_cast<double>(seconds), polls.load() / static_cast<double>(seconds),
              static_cast<long long>(write_err.load()), static_cast<long long>(poll_err.load()));
  return write_err.load() > acked.load() / 10 ? 1 : 0;
}

// Answers every request with the same body (bench/run gives it the bytes of
// a real 20-message poll answer, so that both servers send as much).
class FixedHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit FixedHandler(const std::string& body) : body_(body) {}
  void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& out) override {
    out.setContentType("application/json");
    out.sendBuffer(body_.data(), body_.size());
  }

 private:
  const std::string& body_;
};

class FixedFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit FixedFactory(std::string body) : body_(std::move(body)) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new FixedHandler(body_);
  }

 private:
  const std::string body_;
};

int BaselineServer(BenchFlags& f) {
  const int port = f.RequiredInt("port", 1, 65535);
  const int threads = f.Int("threads", 128, 1, 10000);
  const std::string body_file = f.Str("body-file", "");
  if (!f.ok()) return f.UsageError("baseline-server");
  std::string body =
      "{\"messages\":[],\"cursor\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"likes\":0,\"online\":0,"
      "\"state\":\"live\",\"next_poll_ms\":2000,\"degrade\":{\"level\":0,\"likes_paused\":false,\"thinned\":false}}";
  if (!body_file.empty()) {
    std::ifstream in(body_file, std::ios::binary);
    std::ostringstream all;
    all << in.rdbuf();
    if (!in || all.str().empty()) {
      std::fprintf(stderr, "baseline-server: cannot read %s\n", body_file.c_str());
      return 2;
    }
    body = all.str();
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  Poco::ThreadPool pool(2, threads + 4);
  auto* params = new Poco::Net::HTTPServerParams();
  params->setMaxThreads(threads);
  params->setMaxQueued(512);
  params->setKeepAlive(true);
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)), 1024);
  Poco::Net::HTTPServer server(new FixedFactory(std::move(body)), pool, socket, params);
  server.start();
  int sig = 0;
  sigwait(&set, &sig);
  server.stopAll(true);
  return 0;
}

// Sequential keep-alive writers; returns acknowledged writes/s.
int Writes(BenchFlags& f) {
  const std::string url = f.Required("url");
  const int seconds = f.Int("seconds", 10, 1);
  const int clients = f.Int("clients", 16, 1, 10000);
  if (!f.ok()) return f.UsageError("writes");
  std::atomic<bool> stop{false};
  std::atomic<int64_t> ok{0}, err{0};
  std::vector<std::thread> ts;
  for (int c = 0; c < clients; ++c) {
    ts.emplace_back([&, c] {
      Conn conn(url);
      std::string out;
      for (int i = 0; !stop; ++i) {
        int st = conn.Call("POST", "/v1/rooms/benchw" + std::to_string(c % 8) + "/messages",
                           "{\"type\":\"comment\",\"uid\":\"w" + std::to_string(c) + "x" + std::to_string(i % 1000) +
                               "\",\"text\":\"benchmark message\"}", &out);
        if (st == 202) ++ok; else ++err;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : ts) t.join();
  std::printf("%.1f\n", ok.load() / static_cast<double>(seconds));
  if (err.load()) std::fprintf(stderr, "writes: %lld refused\n", static_cast<long long>(err.load()));
  return 0;
}

int Produce(BenchFlags& f) {
  danmu::core::KafkaOptions o;
  o.brokers = f.Required("brokers");
  o.topic = f.Required("topic");
  const int seconds = f.Int("seconds", 10, 1);
  const int clients = f.Int("clients", 16, 1, 10000);
  if (!f.ok()) return f.UsageError("produce");
  auto producer = danmu::core::KafkaProducer::Create(o, nullptr);
  if (!producer.ok()) {
    std::fprintf(stderr, "%s\n", producer.status().ToString().c_str());
    return 1;
  }
  std::atomic<bool> stop{false};
  std::atomic<int64_t> ok{0};
  std::vector<std::thread> ts;
  for (int c = 0; c < clients; ++c) {
    ts.emplace_back([&, c] {
      // Same record shape and key scheme as the frontend, into a bench room.
      std::string key = "benchp" + std::to_string(c % 8) + ":comment";
      std::string value = "{\"id\":\"x\",\"type\":\"comment\",\"room\":\"benchp\",\"uid\":\"u\",\"text\":\"benchmark message\"}";
      while (!stop) {
        if ((*producer)->Produce(key, value).ok()) ++ok;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : ts) t.join();
  std::printf("%.1f\n", ok.load() / static_cast<double>(seconds));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::puts("usage: danmu-bench gen|load|baseline-server|writes|produce|archive|drain-produce|drain-wait --flag value ...");
    return 2;
  }
  std::string mode = argv[1];
  danmu::bench::BenchFlags f(argc, argv, 2);
  if (!f.ok()) return f.UsageError(mode);
  if (mode == "load") return Load(f);
  if (mode == "baseline-server") return BaselineServer(f);
  if (mode == "writes") return Writes(f);
  if (mode == "produce") return f.Has("in-flight") ? danmu::bench::ProduceCeiling(f) : Produce(f);
  if (mode == "gen") return danmu::bench::Gen(f);
  if (mode == "archive") return danmu::bench::ArchiveBench(f);
  if (mode == "drain-produce") return danmu::bench::DrainProduce(f);
  if (mode == "drain-wait") return danmu::bench::DrainWait(f);
  std::fprintf(stderr, "danmu-bench: unknown mode %s\n", mode.c_str());
  return 2;
}
