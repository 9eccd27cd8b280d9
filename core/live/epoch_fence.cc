#include "core/live/epoch_fence.h"

namespace danmu::core {

std::string EpochFenceLua(int epoch_key, int epoch_arg, bool advance) {
  const std::string key = "KEYS[" + std::to_string(epoch_key) + "]";
  std::string lua = "local store_epoch = tonumber(redis.call('GET', " + key + ") or '0')\n";
  lua += "local epoch = tonumber(ARGV[" + std::to_string(epoch_arg) + "])\n";
  lua += "if epoch < store_epoch then\n";
  lua += "  return redis.error_reply('FENCED store epoch ' .. store_epoch .. ' is newer than writer epoch ' .. epoch)\n";
  lua += "end\n";
  if (advance) lua += "if epoch > store_epoch then redis.call('SET', " + key + ", epoch) end\n";
  return lua;
}

}  // namespace danmu::core
