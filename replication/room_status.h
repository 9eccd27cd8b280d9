#pragma once
// The status of one room, as GET /v1/admin/status (and every role action's
// answer) serves it. ONE type writes and reads it: danmud renders it
// (ToJson), the peer's RoleController, the admin client (danmuctl,
// switchover, drills) and the tests parse it (Parse). Ansible reads the same
// JSON by key.
//
// Adding a field is one line in one of the tables below:
//     X(type, name, default)
// `name` is both the C++ member and the JSON key. Types: bool, int64_t,
// double, std::string, core::Role. A missing key parses as its default (an
// older peer during an upgrade); a key of the wrong type is an error naming
// the key. A new section (a nested JSON object) is a table of its own plus
// one line in DANMU_ROOM_STATUS_SECTIONS. Then set the value where danmud
// collects it (CollectRoomStatus in room_status.cc).
//
// Wire form:
//   {"room","role","epoch","writes_frozen",...,
//    "replication":{...},"processor":{...},"cache":{...},"edge":{...},"push":{...},"routing":{...},
//    "partitions":[{"partition","lag","committed","high","owned","worker","lag_seconds"}]}
// "partitions": every partition of the live topic as this danmud's processor
// sees it (the group's committed offsets), the ones it owns marked; empty
// without a processor.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/base/config.h"
#include "core/base/status.h"

// clang-format off
#define DANMU_ROOM_STATUS_TOP(X)                                              \
  X(std::string, room, "")                                                    \
  X(core::Role, role, core::Role::kSecondary)                                 \
  X(int64_t, epoch, 0)                                                        \
  X(bool, writes_frozen, false)                                               \
  X(bool, confirmed, true)          /* false: restarted as primary, peer not heard yet */ \
  X(int64_t, promoted_at_ms, 0)     /* 0: unknown */                          \
  X(int64_t, writes_in_flight, 0)                                             \
  X(std::string, read_source, "local")  /* "local" | "peer" (stale-read fallback) */ \
  X(int64_t, degrade_level, 0)                                                \
  X(int64_t, now_ms, 0)             /* the room's wall clock when it answered */

#define DANMU_ROOM_STATUS_REPLICATION(X)                                      \
  X(double, lag_seconds, 0)         /* now - heartbeat in the local store */ \
  X(bool, link_up, false)                                                     \
  X(int64_t, offset_lag_bytes, 0)                                             \
  X(bool, local_is_master, false)                                             \
  X(int64_t, store_epoch, 0)                                                  \
  X(int64_t, repl_offset, 0)

#define DANMU_ROOM_STATUS_PROCESSOR(X)                                        \
  X(bool, running, false)                                                     \
  X(bool, fenced, false)                                                      \
  X(bool, paused, false)                                                      \
  X(double, lag_seconds, 0)         /* age of the oldest unapplied record */  \
  X(double, delay_seconds, -1)      /* ingest -> visible, last batch; -1: none yet */ \
  X(int64_t, applied, 0)                                                      \
  X(int64_t, backlog, -1)           /* Kafka messages not applied; -1: unknown */ \
  X(int64_t, backlog_sampled_at_ms, -1)                                       \
  X(std::string, instance, "")      /* "<room>@<host>:<admin port>" in the consumer group; "": none */ \
  X(int64_t, batch_limit, 0)        /* sum of the workers' adaptive batch limits (records) */

#define DANMU_ROOM_STATUS_CACHE(X)                                            \
  X(int64_t, hot_rooms, 0)

#define DANMU_ROOM_STATUS_EDGE(X)                                             \
  X(int64_t, connections, -1)       /* open public connections; -1: no public port */ \
  X(int64_t, requests_in_flight, 0) /* read, not yet answered (writes awaiting acks included) */

#define DANMU_ROOM_STATUS_PUSH(X)                                             \
  X(bool, enabled, false)           /* long connections served here (push.enabled, a public port) */ \
  X(bool, poll_only, false)         /* the operator's move-to-polling switch is on */ \
  X(int64_t, connections, -1)       /* open WebSocket + SSE connections; -1: no push here */ \
  X(int64_t, broadcast_rooms, 0)    /* live rooms in broadcast mode (the rest: notify-pull) */

#define DANMU_ROOM_STATUS_ROUTING(X)                                          \
  X(int64_t, rules_version, -1)     /* the rule set this router serves; -1: no router here */ \
  X(int64_t, percent, 0)            /* gray release of long connections */    \
  X(bool, kill_switch, false)                                                 \
  X(bool, rules_stale, false)       /* etcd unreadable: the last rules are served */ \
  X(int64_t, edges, 0)              /* registered edges in this router's list, every room */ \
  X(bool, registered, false)        /* this danmud's own registration holds a live lease */

// S(struct type, member and JSON key, field table)
#define DANMU_ROOM_STATUS_SECTIONS(S)                                         \
  S(ReplicationStatus, replication, DANMU_ROOM_STATUS_REPLICATION)            \
  S(ProcessorStatus, processor, DANMU_ROOM_STATUS_PROCESSOR)                  \
  S(CacheStatus, cache, DANMU_ROOM_STATUS_CACHE)                              \
  S(EdgeStatus, edge, DANMU_ROOM_STATUS_EDGE)                                \
  S(PushStatus, push, DANMU_ROOM_STATUS_PUSH)                                 \
  S(RoutingStatus, routing, DANMU_ROOM_STATUS_ROUTING)
// clang-format on

namespace danmu::core {
class Clock;
class DegradeWatcher;
class Frontend;
class Processor;
class RoomCache;
}  // namespace danmu::core

namespace danmu::replication {

class HeartbeatTracker;
class PrimaryLease;
class ReconcilePrompt;
class RoomState;

#define DANMU_ROOM_STATUS_DECLARE(type, name, def) type name = def;
#define DANMU_ROOM_STATUS_DECLARE_SECTION(Type, name, FIELDS) \
  struct Type {                                               \
    FIELDS(DANMU_ROOM_STATUS_DECLARE)                         \
  };                                                          \
  Type name;

// One partition of the live topic as one processor process reports it.
struct ProcessorPartition {
  int32_t partition = 0;
  int64_t lag = 0;           // the group's: high watermark - committed
  int64_t committed = 0;     // the group's committed offset
  bool owned = false;        // by the process that reported it
  double lag_seconds = -1;   // owner only
  int64_t high = 0;          // high watermark
  int64_t worker = -1;       // the owning worker of that process; -1: not owned there
};

struct RoomStatus {
  DANMU_ROOM_STATUS_TOP(DANMU_ROOM_STATUS_DECLARE)
  DANMU_ROOM_STATUS_SECTIONS(DANMU_ROOM_STATUS_DECLARE_SECTION)
  std::vector<ProcessorPartition> partitions;  // scale-out: lag and owner per partition
  std::string raw;  // the JSON as parsed (empty for a status built in process)

  // The primary lease and the reconciliation prompt write their own sections
  // (PrimaryLease::StatusJson, ReconcilePrompt::StatusJson: they hold the
  // state under their locks); ToJson writes them as given, Parse reads them
  // into the fields below (absent from an older danmud: lease not enabled).
  std::string lease_json, reconcile_json;
  bool lease_enabled = false, lease_held = false, lease_valid = false, etcd_reachable = true, auto_failover = false;
  int64_t lease_remaining_ms = 0, lease_renewal_age_ms = -1, acks_refused = 0;
  std::string lease_holder;  // room of the leader key's holder as last seen
  bool reconcile_needed = false;
  std::string reconcile_from, reconcile_into, reconcile_reason, catch_up_state;

  bool active_primary() const { return role == core::Role::kPrimary && confirmed; }

  std::string ToJson() const;
  // Needs "role" and "epoch"; everything else defaults when absent.
  [[nodiscard]] static core::Result<RoomStatus> Parse(const std::string& json);
};

#undef DANMU_ROOM_STATUS_DECLARE
#undef DANMU_ROOM_STATUS_DECLARE_SECTION

// The components danmud reads its status from; null = not running here.
struct RoomStatusSources {
  std::string room;
  const RoomState* state = nullptr;  // required
  const HeartbeatTracker* heartbeat = nullptr;
  const core::Frontend* frontend = nullptr;
  const core::Processor* processor = nullptr;
  const core::RoomCache* cache = nullptr;
  const core::DegradeWatcher* degrade = nullptr;
  const core::Clock* clock = nullptr;  // required
  const PrimaryLease* lease = nullptr;
  const ReconcilePrompt* reconcile_prompt = nullptr;
  std::function<bool()> reading_from_peer;  // stale-read fallback engaged
  // The public port's server (edge/server.h, a layer above): open
  // connections and requests in flight; absent = no public port here.
  std::function<int64_t()> edge_connections, edge_requests_in_flight;
  // Push fan-out (core/api/push_hub.h, wired in cmd/): fills the section;
  // absent = no push here.
  std::function<void(RoomStatus::PushStatus*)> push;
  // The routing service (routing/, a layer above); absent = no router here.
  std::function<RoomStatus::RoutingStatus()> routing;
};

// A snapshot of the room now (each value read once, without a common lock).
RoomStatus CollectRoomStatus(const RoomStatusSources& sources);

}  // namespace danmu::replication
