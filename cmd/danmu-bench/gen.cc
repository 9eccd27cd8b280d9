// danmu-bench gen: flags -> bench::Workload, run over worker processes,
// the merged report printed as one JSON object (bench/loadgen/load.h).
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/loadgen/load.h"
#include "bench/loadgen/wire.h"
#include "cmd/danmu-bench/bench_flags.h"
#include "core/base/parse_int.h"

namespace danmu::bench {
namespace {

// "127.0.0.1-20" -> 127.0.0.1 .. 127.0.0.20; "a,b" -> a, b. A bad range is
// recorded in `f` as a problem of --sources.
std::vector<std::string> Sources(const std::string& spec, BenchFlags& f) {
  std::vector<std::string> out;
  auto dash = spec.rfind('-');
  auto dot = spec.rfind('.');
  if (dash != std::string::npos && dot != std::string::npos && dash > dot) {
    std::string prefix = spec.substr(0, dot + 1);
    int64_t from = 0, to = 0;
    if (!core::ParseInt64(spec.substr(dot + 1, dash - dot - 1), &from) ||
        !core::ParseInt64(spec.substr(dash + 1), &to) || from < 0 || to > 255 || from > to) {
      f.Fail("--sources must be addresses a,b or a range like 127.0.0.1-20, got '" + spec + "'");
      return out;
    }
    for (int64_t i = from; i <= to; ++i) out.push_back(prefix + std::to_string(i));
    return out;
  }
  size_t pos = 0;
  while (pos <= spec.size()) {
    auto comma = spec.find(',', pos);
    if (comma == std::string::npos) comma = spec.size();
    if (comma > pos) out.push_back(spec.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

void BadUrl(BenchFlags& f, const char* flag, const std::string& value) {
  f.Fail(std::string("--") + flag + " must be http://host:port, got '" + value + "'");
}

}  // namespace

int Gen(BenchFlags& f) {
  Workload w;
  PlainUrl url;  // --url and --router: http://host:port
  const std::string url_text = f.Required("url");
  if (f.ok() && !ParsePlainUrl(url_text, &url)) BadUrl(f, "url", url_text);
  w.host = std::string(url.host);
  w.port = url.port;
  w.peer = f.Str("peer", "danmu") == "nchan" ? Peer::kNchan : Peer::kDanmu;
  w.sources = Sources(f.Str("sources", "127.0.0.1"), f);
  w.warmup_s = f.Number("warmup", 1);
  w.seconds = f.Number("seconds", 5, 0.1);
  w.drain_s = f.Number("drain", 0);
  w.ramp_s = f.Number("ramp", 1);
  w.timeout_ms = f.Int("timeout-ms", 10000, 1);
  w.rate = f.Number("rate", 0);
  w.rate_conns = f.Int("conns", w.rate > 0 ? 64 : 0);
  w.rate_path = f.Str("path", "/");
  for (const auto& h : {f.Str("header", ""), f.Str("header2", "")}) {
    if (!h.empty()) w.rate_headers += h + "\r\n";
  }
  w.big_room = f.Str("big-room", "big");
  w.big_share = f.Number("big-share", 0, 0, 1);
  w.small_prefix = f.Str("small-prefix", "small");
  w.small_rooms = f.Int("small-rooms", 1);
  w.big_room_online = f.Int("big-room-online", 5000);
  w.viewers = f.Int("viewers", 0);
  w.follow_interval_ms = f.Int("follow-interval-ms", 0);
  w.poll_limit = f.Int("poll-limit", 200);
  w.ws = f.Int("ws", 0);
  w.contract = f.Int("contract", 0);
  if (auto router = f.Str("router", ""); !router.empty()) {
    PlainUrl r;
    if (!ParsePlainUrl(router, &r)) BadUrl(f, "router", router);
    w.router_host = std::string(r.host);
    w.router_port = r.port;
  }
  w.contract_retry_ms = f.Int("contract-retry-ms", 5000);
  w.contract_reconnect_ms = f.Int("contract-reconnect-ms", 250);
  w.track_max = f.Int("track", 2000);
  w.writers = f.Int("writers", 0);
  w.big_writers = f.Int("big-writers", 0);
  w.write_rate = f.Number("write-rate", 0);
  w.likers = f.Int("likers", 0);
  w.like_rate = f.Number("like-rate", 0);
  w.like_count = f.Int("like-count", 10);
  w.like_room = f.Str("like-room", "likes");
  const int procs = f.Int("procs", 1, 0, 1000);
  if (!f.ok()) return f.UsageError("gen");
  std::string json, error;
  if (!RunDistributed(w, procs, &json, &error)) {
    std::fprintf(stderr, "danmu-bench gen: %s\n", error.c_str());
    return 1;
  }
  std::printf("%s\n", json.c_str());
  return 0;
}

}  // namespace danmu::bench
