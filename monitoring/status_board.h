#pragma once
// The public status aggregate behind the on-call page (GET /v1/status on the
// public port). Machines may read it too; it exposes no secret: every field
// is picked by name from this room's admin status, degradation table, probe
// and counters (nothing is passed through wholesale), and the other room's
// part comes from the other room's own aggregate (GET <peer public>/v1/status
// ?scope=room), parsed and checked before it is served.
//
// Sampling: SampleOnce() (the loop, every web.status_sample_ms) reads the
// inputs, turns counters into rates (delta over the monotonic time between
// two samples), appends lag, backlog and probe latency to a bounded history
// (web.status_history samples, for the sparklines) and fetches the peer's
// part. Requests are answered from the last sample: many open status pages
// cost no more than one.
//
// Answer (scope=room: only this room's object):
//   {"generated_at_ms", "rooms": [<room>...] (sorted by name),
//    "problems": [...cross-room problems: no primary, two primaries]}
//   <room> = {"room","reachable","sampled_at_ms","role","epoch","confirmed",
//     "writes_frozen",
//     "lease":{enabled,held,valid,remaining_ms,etcd_reachable,holder_room,holder_epoch} | null
//       (held/valid/remaining_ms: THIS room's hold of the key; holder_*: the key's
//       value as this room last read it; a non-holder's valid is always false),
//     "read_source","replication":{lag_seconds,link_up,offset_lag_bytes},
//     "processor":{running,paused,fenced,backlog,delay_seconds,lag_seconds},
//     "degrade":{"level","settings":[{scope,level,source,reason,expires_at_ms}]},
//     "probe":{ran,ok,failed_stage,at_ms,pairs:[{write_room,read_room,seconds}]},
//     "rates":{writes_per_second,polls_per_second},
//     "connections": {"ws","sse" (long connections by transport),"http" (other
//       open public connections: polling)} | null, "push": {enabled,poll_only} | null,
//     "route": {percent,...} | null,
//     "history":{"t":[ms],"lag_seconds":[],"backlog":[],"probe_ms":[]},
//     "problems":[{"what","fix","runbook"}]}
// A problem is something on-call must act on; each names the danmuctl
// command or the runbook section (monitoring/RUNBOOK.md) that addresses it.
//
// Thread safety: SampleOnce runs on the board's loop (or a test's thread);
// Handle may run concurrently on any request thread (one mutex guards the
// rendered parts and the history).
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/base/clock.h"
#include "core/base/config.h"
#include "core/base/periodic_task.h"
#include "core/base/status.h"
#include "core/degrade/degrade.h"
#include "core/http/http_types.h"
#include "monitoring/probe.h"

namespace danmu::monitoring {

// What one sample of this room reads.
struct StatusInputs {
  std::string admin_status_json;       // this room's GET /v1/admin/status body
  core::DegradeTable degrade;          // settings as this room sees them
  int degrade_level = 0;               // the level in force for this room
  bool probe_ran = false;
  ProbeResult probe;
  int64_t probe_at_ms = 0;
  double writes_total = 0;             // acknowledged writes (counter)
  double polls_total = 0;              // polls answered (counter)
  // Long connections by transport ("ws", "sse"); "http" is derived from the
  // admin status (edge.connections - push.connections).
  std::optional<std::map<std::string, int64_t>> connections;
  std::optional<std::map<std::string, double>> route;         // e.g. percent, rules_version
};

class StatusBoard {
 public:
  using InputsFn = std::function<StatusInputs()>;
  // Returns the other room's `?scope=room` answer (JSON text) or an error.
  using PeerFetch = std::function<core::Result<std::string>()>;

  StatusBoard(std::string room, std::string peer_room, const core::WebOptions& options, InputsFn inputs,
              PeerFetch peer, const core::Clock& clock);
  ~StatusBoard();

  void Start();
  void Stop();
  void SampleOnce();

  // GET /v1/status[?scope=room].
  core::HttpResponse Handle(const core::HttpRequest& req) const;
  // The same, as text (tests).
  std::string RoomJson() const;
  std::string FullJson() const;

  // The fetch of a peer's part over HTTP (core/http/http_client.h).
  static PeerFetch HttpPeer(const std::string& peer_public_url, int timeout_ms);

 private:
  struct Sample {
    int64_t t_ms;
    double lag_seconds;
    int64_t backlog;
    double probe_ms;  // < 0: no successful probe in this sample
  };
  std::string RenderRoom(const StatusInputs& in, double writes_rate, double polls_rate) const;

  const std::string room_;
  const std::string peer_room_;
  const core::WebOptions options_;
  InputsFn inputs_;
  PeerFetch peer_;
  const core::Clock& clock_;

  // Only the sampling thread touches these.
  int64_t last_mono_ms_ = -1;
  double last_writes_ = 0;
  double last_polls_ = 0;

  mutable std::mutex mu_;
  std::deque<Sample> history_;   // guarded by mu_
  std::string room_json_;        // guarded by mu_; this room's rendered part
  std::string peer_json_;        // guarded by mu_; the other room's part (or an unreachable stub)
  std::string cross_problems_;   // guarded by mu_; JSON array

  core::PeriodicTask loop_;
};

}  // namespace danmu::monitoring
