#pragma once
// A client of one room's danmud admin API, for orchestration (switchover,
// drills, danmuctl). Every call is bounded by a timeout.
#include <cstdint>
#include <string>

#include "core/base/config.h"
#include "core/base/status.h"

namespace danmu::replication {

struct RoomStatus {
  std::string room;
  core::Role role = core::Role::kSecondary;
  int64_t epoch = 0;
  bool frozen = false;
  bool confirmed = true;
  int64_t writes_in_flight = 0;
  double lag_seconds = 0;
  bool link_up = false;
  bool local_is_master = false;
  int64_t repl_offset = 0;
  int64_t offset_lag_bytes = 0;
  double kafka_lag_seconds = 0;   // age of the oldest unapplied record (primary)
  double processor_delay_seconds = -1;  // ingest -> visible of the last applied batch (-1: none yet)
  int degrade_level = 0;
  int64_t store_epoch = 0;
  int64_t backlog = -1;
  int64_t backlog_sampled_at_ms = -1;
  int64_t now_ms = 0;
  std::string read_source;
  // The primary lease (absent from an older danmud: enabled = false).
  bool auto_failover = false;
  bool lease_enabled = false, lease_held = false, lease_valid = false, etcd_reachable = true;
  int64_t lease_remaining_ms = 0, lease_renewal_age_ms = -1, acks_refused = 0;
  std::string lease_holder;       // room of the leader key's holder as last seen
  // "Reconciliation may be needed" (replication/reconcile_prompt.h).
  bool reconcile_needed = false;
  std::string reconcile_from, reconcile_into, reconcile_reason, catch_up_state;
  std::string raw;  // the JSON as served

  bool active_primary() const { return role == core::Role::kPrimary && confirmed; }
};

class AdminClient {
 public:
  AdminClient(std::string admin_url, std::string token) : url_(std::move(admin_url)), token_(std::move(token)) {}
  const std::string& url() const { return url_; }

  core::Result<RoomStatus> Status(int timeout_ms = 2000) const;
  // POST /v1/admin/<action> with a JSON body; returns the room's status after it.
  core::Result<RoomStatus> Action(const std::string& action, const std::string& json_body, int timeout_ms = 10000) const;

 private:
  std::string url_;
  std::string token_;
};

core::Result<RoomStatus> ParseRoomStatus(const std::string& json);

}  // namespace danmu::replication
