#pragma once
// The body of POST /v1/admin/reconcile (see reconciler.h for the protocol):
//   {"kafka": "host:port[,host:port]"   the old primary's Kafka (required)
//    "since_ms": N                      start of the scan (Kafka timestamp, ms)
//    "lookback_ms": N                   default start = this room's last promotion
//                                       time (RoomState, persisted) - this (600000)
//    "topic": "..."                     default: this room's kafka.topic
//    "live_room": "..."                 only this live room
//    "reingest_unknown": bool           also re-ingest ids outside the dedup window
//    "deadline_ms": N, "max_records": N bounds of the run}
// Every other field, and every value out of range, is refused naming it.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/status.h"
#include "replication/reconciler.h"

namespace danmu::replication {

struct ReconcileRequest {
  ReconcileOptions options;
  bool since_given = false;       // else: promotion time - lookback_ms
  int64_t lookback_ms = 600000;
};

// What the room supplies: its topic, its processor.live_cap (the size of the
// apply script's dedup window, core::SeenWindow) and its own Kafka (which
// cannot be the old primary's).
struct ReconcileDefaults {
  std::string topic;
  int live_cap = core::ProcessorOptions{}.live_cap;
  std::string own_brokers;
};

[[nodiscard]] core::Result<ReconcileRequest> ParseReconcileRequest(std::string_view body,
                                                                   const ReconcileDefaults& defaults);

// Without since_ms the scan starts lookback_ms before this room's last
// promotion (RoomState::promoted_at_ms, persisted: known across restarts);
// an unknown promotion time (<= 0) makes since_ms required.
[[nodiscard]] core::Status ResolveScanStart(ReconcileRequest* request, int64_t promoted_at_ms);

}  // namespace danmu::replication
