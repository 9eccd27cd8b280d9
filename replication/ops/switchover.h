#pragma once
// Planned switchover, driven through the admin APIs of both rooms:
//   1. freeze the primary: new writes get 503 + Retry-After (clients retry);
//   2. wait until no write is between acceptance and answer (in flight = 0):
//      every acknowledged write is now in the primary's Kafka;
//   3. wait until the primary's processor backlog is 0, sampled after (2):
//      every acknowledged write is now in the primary's Redis;
//   4. wait until the secondary's replica offset reaches the primary's
//      master offset read after (3): every acknowledged write is replicated;
//   5. promote the secondary (epoch + 1), 6. demote the old primary to a
//      replica of the new one, 7. check exactly one primary.
// Any failure before (5) unfreezes the primary and reports; RPO stays 0.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "replication/ops/admin_client.h"

namespace danmu::replication {

struct DrillStep {
  std::string name;
  int64_t at_ms = 0;    // since the start of the operation
  int64_t took_ms = 0;
  std::string detail;
};

struct SwitchoverResult {
  bool ok = false;
  std::string error;
  int64_t new_epoch = 0;
  std::vector<DrillStep> steps;
};

struct SwitchoverOptions {
  int drain_timeout_ms = 30000;
  std::string reason = "planned switchover";
};

SwitchoverResult Switchover(const AdminClient& primary, const AdminClient& secondary, const SwitchoverOptions& options);

// Unplanned failover: promote `survivor` with force (the primary is gone).
SwitchoverResult ForcePromote(const AdminClient& survivor, const std::string& reason);
// Automatic failover (ha.auto_failover): waits until `survivor` is an active
// primary by itself, at most `timeout_ms`.
SwitchoverResult WaitForAutoPromotion(const AdminClient& survivor, int timeout_ms);

}  // namespace danmu::replication
