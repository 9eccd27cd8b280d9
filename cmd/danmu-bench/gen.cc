// danmu-bench gen: flags -> bench::Workload, run over worker processes,
// the merged report printed as one JSON object (bench/loadgen/load.h).
#include <cstdio>
#include <map>
#include <string>

#include "bench/loadgen/load.h"
#include "bench/loadgen/wire.h"

namespace danmu::bench {
namespace {

std::string Flag(const std::map<std::string, std::string>& f, const std::string& k, const std::string& def) {
  auto it = f.find(k);
  return it == f.end() ? def : it->second;
}

// "127.0.0.1-20" -> 127.0.0.1 .. 127.0.0.20; "a,b" -> a, b.
std::vector<std::string> Sources(const std::string& spec) {
  std::vector<std::string> out;
  auto dash = spec.rfind('-');
  auto dot = spec.rfind('.');
  if (dash != std::string::npos && dot != std::string::npos && dash > dot) {
    std::string prefix = spec.substr(0, dot + 1);
    int from = std::stoi(spec.substr(dot + 1, dash - dot - 1)), to = std::stoi(spec.substr(dash + 1));
    for (int i = from; i <= to; ++i) out.push_back(prefix + std::to_string(i));
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

int BadUrl(const char* flag, const std::string& value) {
  std::fprintf(stderr, "danmu-bench gen: --%s must be http://host:port, got '%s'\n", flag, value.c_str());
  return 2;
}

}  // namespace

int Gen(const std::map<std::string, std::string>& f) {
  Workload w;
  PlainUrl url;  // --url and --router: http://host:port
  if (!ParsePlainUrl(f.at("url"), &url)) return BadUrl("url", f.at("url"));
  w.host = std::string(url.host);
  w.port = url.port;
  w.peer = Flag(f, "peer", "danmu") == "nchan" ? Peer::kNchan : Peer::kDanmu;
  w.sources = Sources(Flag(f, "sources", "127.0.0.1"));
  w.warmup_s = std::stod(Flag(f, "warmup", "1"));
  w.seconds = std::stod(Flag(f, "seconds", "5"));
  w.drain_s = std::stod(Flag(f, "drain", "0"));
  w.ramp_s = std::stod(Flag(f, "ramp", "1"));
  w.timeout_ms = std::stoi(Flag(f, "timeout-ms", "10000"));
  w.rate = std::stod(Flag(f, "rate", "0"));
  w.rate_conns = std::stoi(Flag(f, "conns", w.rate > 0 ? "64" : "0"));
  w.rate_path = Flag(f, "path", "/");
  for (const auto& h : {Flag(f, "header", ""), Flag(f, "header2", "")}) {
    if (!h.empty()) w.rate_headers += h + "\r\n";
  }
  w.big_room = Flag(f, "big-room", "big");
  w.big_share = std::stod(Flag(f, "big-share", "0"));
  w.small_prefix = Flag(f, "small-prefix", "small");
  w.small_rooms = std::stoi(Flag(f, "small-rooms", "1"));
  w.big_room_online = std::stoi(Flag(f, "big-room-online", "5000"));
  w.viewers = std::stoi(Flag(f, "viewers", "0"));
  w.follow_interval_ms = std::stoi(Flag(f, "follow-interval-ms", "0"));
  w.poll_limit = std::stoi(Flag(f, "poll-limit", "200"));
  w.ws = std::stoi(Flag(f, "ws", "0"));
  w.contract = std::stoi(Flag(f, "contract", "0"));
  if (auto router = Flag(f, "router", ""); !router.empty()) {
    PlainUrl r;
    if (!ParsePlainUrl(router, &r)) return BadUrl("router", router);
    w.router_host = std::string(r.host);
    w.router_port = r.port;
  }
  w.contract_retry_ms = std::stoi(Flag(f, "contract-retry-ms", "5000"));
  w.contract_reconnect_ms = std::stoi(Flag(f, "contract-reconnect-ms", "250"));
  w.track_max = std::stoi(Flag(f, "track", "2000"));
  w.writers = std::stoi(Flag(f, "writers", "0"));
  w.big_writers = std::stoi(Flag(f, "big-writers", "0"));
  w.write_rate = std::stod(Flag(f, "write-rate", "0"));
  w.likers = std::stoi(Flag(f, "likers", "0"));
  w.like_rate = std::stod(Flag(f, "like-rate", "0"));
  w.like_count = std::stoi(Flag(f, "like-count", "10"));
  w.like_room = Flag(f, "like-room", "likes");
  std::string json, error;
  if (!RunDistributed(w, std::stoi(Flag(f, "procs", "1")), &json, &error)) {
    std::fprintf(stderr, "danmu-bench gen: %s\n", error.c_str());
    return 1;
  }
  std::printf("%s\n", json.c_str());
  return 0;
}

}  // namespace danmu::bench
