#include "core/base/work_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace danmu::core {
namespace {

TEST(WorkPool, RunsEveryAcceptedTask) {
  WorkPool pool("t", 3, 1000);
  std::atomic<int> ran{0};
  std::vector<std::promise<void>> done(200);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(pool.TrySubmit([&, i] {
      ++ran;
      done[static_cast<size_t>(i)].set_value();
    }));
  }
  for (auto& d : done) ASSERT_EQ(d.get_future().wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_EQ(ran.load(), 200);
}

TEST(WorkPool, RefusesBeyondTheQueueBoundAndAnswersDroppedTasksOnStop) {
  WorkPool pool("t", 1, 2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(pool.TrySubmit([&] {
    started.set_value();
    gate.wait();
  }));
  ASSERT_EQ(started.get_future().wait_for(std::chrono::seconds(20)), std::future_status::ready);
  int dropped = 0;
  ASSERT_TRUE(pool.TrySubmit([] {}, [&] { ++dropped; }));
  ASSERT_TRUE(pool.TrySubmit([] {}, [&] { ++dropped; }));
  EXPECT_FALSE(pool.TrySubmit([] {}));  // two wait already
  EXPECT_EQ(pool.queued(), 2);
  EXPECT_EQ(pool.running(), 1);
  std::thread stopper([&] { pool.Stop(); });
  // Release the running task only once Stop() took the queue away (the one
  // worker is still held, so nothing else empties it): otherwise the worker
  // may run the two queued tasks before Stop() sees them.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (pool.queued() != 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  EXPECT_EQ(pool.queued(), 0) << "Stop() did not take the queued tasks within 20 s";
  release.set_value();
  stopper.join();
  EXPECT_EQ(dropped, 2);
  EXPECT_FALSE(pool.TrySubmit([] {}));
}

}  // namespace
}  // namespace danmu::core
