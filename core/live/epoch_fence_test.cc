#include "core/live/epoch_fence.h"

#include <gtest/gtest.h>

namespace danmu::core {
namespace {

// The fence's behaviour against a real Redis is exercised by the failover
// suite (an old primary restarted with its old epoch is refused) and the
// platform test; here: the script text each caller gets.
TEST(EpochFenceLua, RefusesOlderWritersOnTheNamedKeyAndArgument) {
  const std::string lua = EpochFenceLua(4, 1, true);
  EXPECT_NE(lua.find("redis.call('GET', KEYS[4])"), std::string::npos) << lua;
  EXPECT_NE(lua.find("local epoch = tonumber(ARGV[1])"), std::string::npos) << lua;
  EXPECT_NE(lua.find("if epoch < store_epoch then\n  return redis.error_reply('FENCED "), std::string::npos) << lua;
  EXPECT_NE(lua.find("redis.call('SET', KEYS[4], epoch)"), std::string::npos) << lua;
}

TEST(EpochFenceLua, AdvancesOnlyWhenAsked) {
  const std::string lua = EpochFenceLua(2, 3, false);
  EXPECT_NE(lua.find("KEYS[2]"), std::string::npos) << lua;
  EXPECT_NE(lua.find("ARGV[3]"), std::string::npos) << lua;
  EXPECT_EQ(lua.find("'SET'"), std::string::npos) << lua;
}

}  // namespace
}  // namespace danmu::core
