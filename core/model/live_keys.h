#pragma once
// Redis key names of the live store (DESIGN §3). A live room's keys share the
// hash tag {<room>} so that they stay on one Redis Cluster slot.
#include <string>
#include <string_view>

#include "core/model/message.h"

namespace danmu::core::keys {

inline std::string Msg(std::string_view room, MessageType t) {
  return "danmu:{" + std::string(room) + "}:msg:" + TypeName(t);
}
inline std::string Likes(std::string_view room) { return "danmu:{" + std::string(room) + "}:likes"; }
inline std::string Users(std::string_view room) { return "danmu:{" + std::string(room) + "}:users"; }
// Every viewer uid of the stream (HyperLogLog): the archive's viewer count.
inline std::string Viewers(std::string_view room) { return "danmu:{" + std::string(room) + "}:viewers"; }
inline std::string Meta(std::string_view room) { return "danmu:{" + std::string(room) + "}:meta"; }
// Ids already applied, per (room, type): the processor's dedup window.
inline std::string Seen(std::string_view room, MessageType t) {
  return "danmu:{" + std::string(room) + "}:seen:" + TypeName(t);
}
// Live rooms whose sets hold messages beyond the live cap because they are
// not archived yet (score: when last seen so): the archiver's checkpoint list.
inline constexpr const char* kArchiveHeld = "danmu:archive:held";
// The fencing epoch of the store: promotion sets it (replication/role_controller.h)
// and every primary write checks it atomically (core/live/epoch_fence.h).
inline constexpr const char* kEpoch = "danmu:epoch";
// Heartbeat: the primary's clock in ms, every 100 ms (replication lag).
inline constexpr const char* kHeartbeat = "danmu:hb";
// Fleet-wide degradation switch (issue: degradation).
inline constexpr const char* kDegrade = "danmu:degrade";

}  // namespace danmu::core::keys
