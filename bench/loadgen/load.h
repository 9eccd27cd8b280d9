#pragma once
// The open-loop load generator (issue 16): one workload, spread over several
// processes, each running one event loop (Boost.Asio; no thread per
// connection), each connection bound to one of several source addresses
// (127.0.0.x) so that per-address caps and the 64k ports of one address do
// not limit it. One process holds at most kMaxConnectionsPerProcess sockets.
//
// Actors, each on its own connection:
//  - rate:    GET `rate_path` at a fixed total arrival rate (schedule.h:
//             latency from the due time, unanswered requests settled at stop);
//  - viewer:  polls its room with its cursor, obeying next_poll_ms (or a fixed
//             interval), records every id it receives (exactness.h) and each
//             message's post→visible time;
//  - ws:      holds a WebSocket (danmud: frames of the poll answer's shape,
//             resumed with its cursor after a drop; nchan: one message per
//             frame) and records the same;
//  - contract: a viewer that follows the long-connection contract
//             (routing/client_contract.h): asks the router (`router_*`),
//             holds the WebSocket it is handed, falls back to polling after
//             3 failed connects, retries later with jittered backoff, obeys
//             close codes, and resumes from its cursor on every move; records
//             its ids like the others and counts how it moved (contract_*);
//  - writer:  posts comments (every 10th a gift) at a fixed rate, or one after
//             another as fast as they are acknowledged (rate 0); the text
//             carries the due time ("p<µs>") for post→visible; acks recorded;
//  - liker:   posts like bursts of `like_count` (fixed rate or closed loop).
// Rooms: a room-size mix, one big room holding `big_share` of the viewers and
// `small_rooms` small ones sharing the rest.
//
// Time: all processes share CLOCK_MONOTONIC (steady_clock), so the parent
// hands every worker the same start. Writers and rate actors act during
// [start, start + warmup + seconds); figures count what was due in the
// measurement window [start + warmup, start + warmup + seconds); viewers keep
// following for `drain_s` afterwards so that they can see the last messages.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bench/loadgen/exactness.h"
#include "bench/loadgen/histogram.h"

namespace danmu::bench {

constexpr int kMaxConnectionsPerProcess = 18000;  // the box allows 20,000 files per process

enum class Peer { kDanmu, kNchan };

struct Workload {
  std::string host = "127.0.0.1";
  int port = 0;
  std::vector<std::string> sources = {"127.0.0.1"};  // local addresses connections are bound to
  Peer peer = Peer::kDanmu;

  double warmup_s = 1;
  double seconds = 5;
  double drain_s = 0;
  double ramp_s = 1;          // viewers and ws connections start spread over this
  int timeout_ms = 10000;     // per request (a poll not answered by then is an error)

  // Fixed-rate GETs.
  double rate = 0;
  int rate_conns = 0;
  std::string rate_path;
  std::string rate_headers;   // extra header lines, each ending "\r\n"

  // Rooms.
  std::string big_room = "big";
  double big_share = 0;       // share of viewers (and ws) in the big room
  std::string small_prefix = "small";
  int small_rooms = 1;
  int big_room_online = 5000; // the server's poll.big_room_online: such a room serves a bounded slice

  // Polling viewers.
  int viewers = 0;
  int follow_interval_ms = 0; // 0: obey next_poll_ms
  int poll_limit = 200;
  // WebSocket viewers.
  int ws = 0;
  // Clients that follow the contract (after the WebSocket viewers, in the same rooms).
  int contract = 0;
  std::string router_host;    // the router they ask (empty: host/port)
  int router_port = 0;
  int contract_retry_ms = 5000;     // ClientContractOptions.retry_base_ms
  int contract_reconnect_ms = 250;  // ClientContractOptions.reconnect_ms
  // Followers whose every id is recorded for the exactness check (per process;
  // followers of small rooms first, then the big room's).
  int track_max = 2000;

  // Writers: `big_writers` of them post into the big room, the rest spread
  // over the small rooms.
  int writers = 0;
  int big_writers = 0;
  double write_rate = 0;      // total messages/s; 0: closed loop

  // Likers, all into `like_room`.
  int likers = 0;
  double like_rate = 0;       // total requests/s; 0: closed loop
  int like_count = 10;
  std::string like_room = "likes";
};

// What one worker measured (summed over workers by Merge).
struct WorkerOutput {
  std::map<std::string, Histogram> hist;   // latency (request), post_visible
  std::map<std::string, int64_t> count;    // ok, errors by kind, bytes, messages, acked, ...
  std::vector<Ack> acks;
  std::vector<Follow> follows;

  std::string Serialize() const;
  static bool Parse(const std::string& text, WorkerOutput* out);
  void Merge(WorkerOutput&& other);
};

// Runs worker `index` of `workers` (its share of every actor kind) until the
// workload is over. `start_us` is the common start (steady_clock µs).
void RunWorker(const Workload& w, int64_t start_us, int index, int workers, WorkerOutput* out);

// Forks `workers` processes (at least enough for kMaxConnectionsPerProcess),
// runs the workload in them, merges what they measured and returns it as one
// JSON object (see the README's Benchmarks section for the fields).
// False with *error set when a worker failed.
bool RunDistributed(const Workload& w, int workers, std::string* json, std::string* error);

int64_t NowUs();  // steady_clock, µs

}  // namespace danmu::bench
