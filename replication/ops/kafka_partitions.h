#pragma once
// Online partition growth of the live topic in both rooms (DESIGN §4:
// "operators can add partitions without breaking the ordering invariant"),
// the logic behind `danmuctl kafka partitions N`.
//
// Protocol:
//   1. read the partition count of the topic in every room's Kafka; refuse
//      the whole operation, changing nothing, when N is out of range or any
//      room already has more than N (Kafka cannot remove partitions);
//   2. grow the ACTIVE room's topic first (it carries the writes the growth
//      is for), then the standby's, so that a failover keeps the layout;
//      a room already at N is left alone (a rerun is harmless);
//   3. read the counts back and report every room: before, after, error.
// A standby that is down is reported, not fatal to (2) for the active room:
// rerun once it is back (the operation is idempotent).
//
// Why this keeps the ordering invariant: a key that moves to a new
// partition has its older records in the old one and its newer in the new
// one, applied by possibly different processor workers; the apply script
// assigns each message score = max(now - start, last + 1) atomically per
// (room, type) at apply time (core/live/live_writer.h), so whatever order
// the two partitions are applied in, no message becomes visible with a
// score at or below one already visible, and ids are deduplicated. New
// partitions are consumed from their first offset (auto.offset.reset =
// earliest), so records produced before the group noticed them are not
// skipped.
#include <memory>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "replication/ops/admin_client.h"

namespace danmu::replication {

// The Kafka side, an interface so that the unit test can use a model.
class PartitionAdmin {
 public:
  virtual ~PartitionAdmin() = default;
  virtual core::Result<int> Count(const std::string& brokers, const std::string& topic) = 0;
  virtual core::Status Grow(const std::string& brokers, const std::string& topic, int total) = 0;
};

// Talks to real brokers through core::KafkaAdmin.
std::unique_ptr<PartitionAdmin> MakeKafkaPartitionAdmin();

struct PartitionRoom {
  std::string room;
  std::string brokers;
  bool active = false;  // the active primary's Kafka (grown first)
};

struct PartitionRoomResult {
  std::string room;
  std::string brokers;
  bool active = false;
  int before = -1;   // -1: unknown (unreachable)
  int after = -1;
  std::string error;
};

struct PartitionGrowth {
  bool ok = false;      // every room has N partitions now
  bool changed = false; // something was added
  std::string error;    // why the whole operation was refused, if it was
  std::vector<PartitionRoomResult> rooms;  // in the order they were grown
};

constexpr int kMaxPartitions = 1000;

PartitionGrowth GrowPartitions(PartitionAdmin& admin, std::vector<PartitionRoom> rooms, const std::string& topic,
                               int total);

// Who owns each partition of the live topic and how far behind it is,
// merged from the admin status of every processor process of the active
// room (danmuctl status). Lag comes from the freshest view that lists the
// partition; owner is the instance that marks it owned ("-" when none does:
// its owner died and the group has not moved it yet, or nobody consumes).
struct PartitionOwnerRow {
  int32_t partition = 0;
  int64_t lag = 0;
  double lag_seconds = -1;
  std::string owner = "-";
  int owners = 0;  // > 1 only for a moment during a rebalance
};
std::vector<PartitionOwnerRow> MergePartitionOwners(const std::vector<RoomStatus>& processors);

// {"ok":..,"changed":..,"error":..,"rooms":[{"room","brokers","active","before","after","error"}]}
std::string PartitionGrowthJson(const PartitionGrowth& g);

}  // namespace danmu::replication
