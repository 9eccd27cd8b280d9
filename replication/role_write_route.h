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
#include <functional>

#include "core/live/write_route.h"
#include "replication/room_state.h"

namespace danmu::replication {

class RoleWriteRoute final : public core::WriteRoute {
 public:
  RoleWriteRoute(const RoomState* state, core::WriteRoute* as_primary, core::WriteRoute* as_secondary)
      : state_(state), primary_(as_primary), secondary_(as_secondary) {}
  // The primary lease (primary_lease.h): a record this room's Kafka acked is
  // answered as acked only while the lease is valid at that moment; this
  // check sits here, where it is known that THIS room's Kafka took the write
  // (a room demoted between produce and answer must not say 202), and again
  // in the frontend's answer (core/api/frontend.h, FrontendHooks).
  void SetMayAcknowledge(std::function<bool()> may_acknowledge) { may_acknowledge_ = std::move(may_acknowledge); }

  core::Status Write(const core::Message& m) override {
    if (state_->is_primary()) {
      if (!primary_) return core::Status(core::Code::kUnavailable, "this room has no Kafka producer");
      core::Status s = primary_->Write(m);
      if (s.ok() && may_acknowledge_ && !may_acknowledge_()) {
        return core::Status(core::Code::kUnavailable, "this room's primary lease is not valid; retry");
      }
      return s;
    }
    return secondary_->Write(m);
  }
  void WriteAsync(const core::Message& m, Done done) override {
    if (state_->is_primary()) {
      if (!primary_) {
        done(core::Status(core::Code::kUnavailable, "this room has no Kafka producer"));
        return;
      }
      primary_->WriteAsync(m, [this, done = std::move(done)](core::Status s) {
        // The same lease check as Write, at the moment the ack arrives.
        if (s.ok() && may_acknowledge_ && !may_acknowledge_()) {
          s = core::Status(core::Code::kUnavailable, "this room's primary lease is not valid; retry");
        }
        done(std::move(s));
      });
      return;
    }
    secondary_->WriteAsync(m, std::move(done));
  }

 private:
  const RoomState* state_;
  core::WriteRoute* primary_;
  core::WriteRoute* secondary_;
  std::function<bool()> may_acknowledge_;
};

}  // namespace danmu::replication
