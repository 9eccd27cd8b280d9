#pragma once
// The body of a role action on the admin API (freeze, unfreeze, promote,
// demote; see role_controller.h): {"reason": TEXT, "epoch": N, "force": bool,
// "steal": bool, "catch_up": bool}, every field optional, nothing else allowed. An empty body is all defaults.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace danmu::replication {

struct RoleAction {
  std::string reason = "admin api";
  int64_t epoch = 0;      // demote: the new primary's epoch (> 0)
  bool force = false;     // promote: even while the peer answers as primary
  bool steal = false;     // promote: revoke a live holder's lease (waits out its TTL)
  bool catch_up = false;  // promote: re-ingest from the old primary's Kafka (forced only)
};

[[nodiscard]] core::Result<RoleAction> ParseRoleAction(std::string_view body);

}  // namespace danmu::replication
