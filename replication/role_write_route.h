#pragma once
// The write route of a room follows its role: a primary produces to its own
// Kafka; a secondary forwards the stamped record to the primary room's
// danmud, which answers only after its Kafka acknowledged (acks=all).
//
// Why forward rather than produce across rooms: the primary stays the single
// place that decides whether writes are accepted (frozen for a switchover,
// fenced after a promotion), so a secondary can never write into a Kafka that
// is no longer the active one; and forwarding targets are a list, so losing
// one primary frontend does not stop the secondary's writes.
#include "core/live/write_route.h"
#include "replication/room_state.h"

namespace danmu::replication {

class RoleWriteRoute final : public core::WriteRoute {
 public:
  RoleWriteRoute(const RoomState* state, core::WriteRoute* as_primary, core::WriteRoute* as_secondary)
      : state_(state), primary_(as_primary), secondary_(as_secondary) {}
  core::Status Write(const core::Message& m) override {
    if (state_->is_primary()) {
      if (!primary_) return core::Status(core::Code::kUnavailable, "this room has no Kafka producer");
      return primary_->Write(m);
    }
    return secondary_->Write(m);
  }

 private:
  const RoomState* state_;
  core::WriteRoute* primary_;
  core::WriteRoute* secondary_;
};

}  // namespace danmu::replication
