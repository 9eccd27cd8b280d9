#include "edge/connection_limits.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace danmu::edge {
namespace {

using Refusal = ConnectionLimits::Refusal;

TEST(ConnectionLimits, AddressCapRefusesOnlyThatAddress) {
  ConnectionLimits limits(0, 2);
  Refusal why = Refusal::kNone;
  auto a1 = limits.TryAcquire("10.0.0.1", &why);
  auto a2 = limits.TryAcquire("10.0.0.1", &why);
  ASSERT_TRUE(a1);
  ASSERT_TRUE(a2);
  auto a3 = limits.TryAcquire("10.0.0.1", &why);
  EXPECT_FALSE(a3);
  EXPECT_EQ(why, Refusal::kAddressCap);
  auto b1 = limits.TryAcquire("10.0.0.2", &why);
  EXPECT_TRUE(b1);
  EXPECT_EQ(why, Refusal::kNone);
  EXPECT_EQ(limits.open(), 3);
  EXPECT_EQ(limits.open_from("10.0.0.1"), 2);
  a1.Release();
  EXPECT_EQ(limits.open_from("10.0.0.1"), 1);
  EXPECT_TRUE(limits.TryAcquire("10.0.0.1", &why));  // a temporary: released at once
  EXPECT_EQ(limits.open(), 2);
}

TEST(ConnectionLimits, ProcessCapRefusesEveryone) {
  ConnectionLimits limits(2, 0);
  Refusal why = Refusal::kNone;
  auto a = limits.TryAcquire("a", &why);
  auto b = limits.TryAcquire("b", &why);
  auto c = limits.TryAcquire("c", &why);
  EXPECT_TRUE(a);
  EXPECT_TRUE(b);
  EXPECT_FALSE(c);
  EXPECT_EQ(why, Refusal::kProcessCap);
  EXPECT_STREQ(ConnectionLimits::RefusalName(why), "process_cap");
}

TEST(ConnectionLimits, LeaseMovesAndReleasesOnce) {
  ConnectionLimits limits(0, 1);
  Refusal why = Refusal::kNone;
  ConnectionLease moved;
  {
    auto lease = limits.TryAcquire("x", &why);
    ASSERT_TRUE(lease);
    moved = std::move(lease);
    EXPECT_FALSE(lease);  // NOLINT(bugprone-use-after-move): the moved-from lease is empty by contract
  }
  EXPECT_EQ(limits.open(), 1);  // the moved-from lease released nothing
  EXPECT_EQ(moved.address(), "x");
  moved.Release();
  moved.Release();
  EXPECT_EQ(limits.open(), 0);
  EXPECT_EQ(limits.open_from("x"), 0);
}

TEST(ConnectionLimits, MatchesACountingModel) {
  // Random acquire/release against a plain per-address count.
  ConnectionLimits limits(50, 3);
  std::vector<ConnectionLease> held;
  std::map<std::string, int> model;
  int total = 0;
  unsigned seed = 7;
  for (int i = 0; i < 5000; ++i) {
    seed = seed * 1103515245u + 12345u;
    const std::string addr = "a" + std::to_string((seed >> 16) % 23);
    if ((seed >> 8) % 3 != 0) {
      Refusal why = Refusal::kNone;
      auto lease = limits.TryAcquire(addr, &why);
      const bool expect_ok = total < 50 && model[addr] < 3;
      ASSERT_EQ(static_cast<bool>(lease), expect_ok) << i;
      if (lease) {
        ++model[addr];
        ++total;
        held.push_back(std::move(lease));
      } else {
        EXPECT_EQ(why, total >= 50 ? Refusal::kProcessCap : Refusal::kAddressCap);
      }
    } else if (!held.empty()) {
      size_t k = (seed >> 4) % held.size();
      --model[held[k].address()];
      --total;
      held.erase(held.begin() + static_cast<long>(k));
    }
    ASSERT_EQ(limits.open(), total);
  }
}

}  // namespace
}  // namespace danmu::edge
