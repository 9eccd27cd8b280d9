#pragma once
// Which Redis takes a write meant for both rooms (the degradation switches):
// the primary room's, which replicates it to the other room. While this room
// is the active primary that is its own Redis; otherwise the peer's, when the
// config names it (a room without a peer writes its own).
#include "core/base/config.h"
#include "replication/room_state.h"

namespace danmu::replication {

core::RedisOptions PrimaryRoomRedis(const core::Config& config, const RoomState& state);

}  // namespace danmu::replication
