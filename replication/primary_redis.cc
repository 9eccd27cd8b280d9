#include "replication/primary_redis.h"

namespace danmu::replication {

core::RedisOptions PrimaryRoomRedis(const core::Config& config, const RoomState& state) {
  core::RedisOptions o = config.redis;
  // An unconfirmed primary (restarted, peer not heard yet) may be the stale
  // one: the peer's Redis is the safer target until it is confirmed.
  if (!state.active_primary() && !config.peer.redis.empty()) o.address = config.peer.redis;
  return o;
}

}  // namespace danmu::replication
