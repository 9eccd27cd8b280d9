#pragma once
// Failover drills against a live two-room deployment (DESIGN §8).
//
// The drill generates its own steady load (writers posting comments to both
// rooms' public APIs, pollers following every drill live room in both rooms),
// then injects the fault:
//   planned:   a switchover (switchover.h) from the current primary;
//   unplanned: SIGKILL of every process of the primary room (danmud, Redis,
//              Kafka, by the pid files of the local stack), then a forced
//              promotion of the other room (through the primary lease: it
//              waits for the lost room's lease to expire) - or, when the
//              survivor runs ha.auto_failover, nothing: the drill waits for
//              the survivor to promote itself and reports who promoted.
// It keeps the load running, then verifies and reports:
//   RTO: from the first failed write to the first successful write sent after
//        it (an unplanned drill promotes right after the kill: detection time
//        is not part of the figure);
//   RPO: acknowledged messages missing afterwards from the surviving room
//        (by id, read back through its poll API from a cursor taken before
//        the load started);
//   reads failed per room, replication lag before the switch, every step with
//   its timing, and the invariants (exactly one primary, epoch increased).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "replication/ops/switchover.h"

namespace danmu::replication {

struct DrillRoom {
  std::string name;       // A, B
  std::string public_url;
  std::string admin_url;
};

struct DrillOptions {
  bool planned = true;
  DrillRoom a, b;
  std::string token;
  std::string run_dir;          // local stack: pids/<proc>-<room>.pid for the unplanned kill
  int warmup_ms = 4000;         // load before the fault
  int after_ms = 5000;          // load after the promotion
  int writers = 4;
  int write_interval_ms = 10;   // per writer, bounds the load
  int live_rooms = 2;
  int pollers_per_room = 1;     // per drill live room and datacenter room
  std::string acked_ids_file;   // optional: every acknowledged id, one per line
  int auto_failover_wait_ms = 30000;  // unplanned with ha.auto_failover: bound on the self-promotion
};

struct DrillReport {
  std::string mode;
  bool ok = false;              // every step ran and every invariant held
  std::vector<std::string> invariant_failures;
  std::string error;
  std::string old_primary, new_primary;
  std::string promoted_by;      // unplanned: "danmuctl" (forced promotion) or "auto" (ha.auto_failover)
  int64_t old_epoch = 0, new_epoch = 0;
  int64_t rto_ms = 0;
  int64_t rpo_messages = 0;
  std::vector<std::string> missing_ids;  // first 100
  int64_t acked = 0, failed_writes = 0;
  std::map<std::string, int64_t> reads_failed;  // room -> failed polls
  std::map<std::string, int64_t> reads_ok;
  double lag_before_seconds = 0;
  std::vector<DrillStep> steps;

  std::string ToJson() const;
  std::string ToText() const;
  // Non-zero when a planned drill lost data or any invariant broke.
  int ExitCode() const;
};

DrillReport RunDrill(const DrillOptions& options);

}  // namespace danmu::replication
