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

// The flags that set one Workload field each; a flag's default is the
// field's own initial value (bench/loadgen/load.h).
struct NumberFlag {
  const char* flag;
  double Workload::*field;
  double min, max;
};
constexpr NumberFlag kNumberFlags[] = {
    {"warmup", &Workload::warmup_s, 0, 1e6},         {"seconds", &Workload::seconds, 0.1, 1e6},
    {"drain", &Workload::drain_s, 0, 1e6},           {"ramp", &Workload::ramp_s, 0, 1e6},
    {"rate", &Workload::rate, 0, 1e9},               {"big-share", &Workload::big_share, 0, 1},
    {"write-rate", &Workload::write_rate, 0, 1e9},   {"like-rate", &Workload::like_rate, 0, 1e9},
};
struct IntFlag {
  const char* flag;
  int Workload::*field;
  int min;
};
constexpr IntFlag kIntFlags[] = {
    {"timeout-ms", &Workload::timeout_ms, 1},
    {"small-rooms", &Workload::small_rooms, 0},
    {"big-room-online", &Workload::big_room_online, 0},
    {"viewers", &Workload::viewers, 0},
    {"follow-interval-ms", &Workload::follow_interval_ms, 0},
    {"poll-limit", &Workload::poll_limit, 1},
    {"ws", &Workload::ws, 0},
    {"contract", &Workload::contract, 0},
    {"contract-retry-ms", &Workload::contract_retry_ms, 0},
    {"contract-reconnect-ms", &Workload::contract_reconnect_ms, 0},
    {"track", &Workload::track_max, 0},
    {"writers", &Workload::writers, 0},
    {"big-writers", &Workload::big_writers, 0},
    {"likers", &Workload::likers, 0},
    {"like-count", &Workload::like_count, 1},
};
struct TextFlag {
  const char* flag;
  std::string Workload::*field;
};
const TextFlag kTextFlags[] = {
    {"big-room", &Workload::big_room}, {"small-prefix", &Workload::small_prefix}, {"like-room", &Workload::like_room}};

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
  for (const auto& n : kNumberFlags) w.*n.field = f.Number(n.flag, w.*n.field, n.min, n.max);
  for (const auto& n : kIntFlags) w.*n.field = f.Int(n.flag, w.*n.field, n.min);
  for (const auto& n : kTextFlags) w.*n.field = f.Str(n.flag, w.*n.field);
  w.rate_conns = f.Int("conns", w.rate > 0 ? 64 : 0);
  w.rate_path = f.Str("path", "/");
  for (const auto& h : {f.Str("header", ""), f.Str("header2", "")}) {
    if (!h.empty()) w.rate_headers += h + "\r\n";
  }
  if (auto router = f.Str("router", ""); !router.empty()) {
    PlainUrl r;
    if (!ParsePlainUrl(router, &r)) BadUrl(f, "router", router);
    w.router_host = std::string(r.host);
    w.router_port = r.port;
  }
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
