// The C11 threads API as librdkafka uses it (thrd_create/join, mtx_*, cnd_*).
// In the TSan build these calls reach core/store/tsan_c11_threads.cc (there,
// without that file, the first thread crashes TSan and a plain counter
// guarded by mtx_lock is reported as a race); elsewhere they are glibc's, and
// the test states the behaviour the replacement must keep.
#include <threads.h>

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

namespace {

struct Shared {
  mtx_t mu;
  cnd_t cv;
  int counter = 0;  // guarded by mu
  bool go = false;  // guarded by mu
};

int AddUnderLock(void* p) {
  auto* s = static_cast<Shared*>(p);
  mtx_lock(&s->mu);
  while (!s->go) cnd_wait(&s->cv, &s->mu);
  for (int i = 0; i < 1000; ++i) ++s->counter;
  mtx_unlock(&s->mu);
  return 42;
}

TEST(C11ThreadsTest, ThreadsReturnTheirResultAndMutexesOrderTheirWork) {
  Shared s;
  ASSERT_EQ(mtx_init(&s.mu, mtx_plain), thrd_success);
  ASSERT_EQ(cnd_init(&s.cv), thrd_success);
  thrd_t threads[4];
  for (auto& t : threads) ASSERT_EQ(thrd_create(&t, AddUnderLock, &s), thrd_success);
  mtx_lock(&s.mu);
  s.go = true;
  cnd_broadcast(&s.cv);
  mtx_unlock(&s.mu);
  for (auto& t : threads) {
    int res = 0;
    ASSERT_EQ(thrd_join(t, &res), thrd_success);
    EXPECT_EQ(res, 42);
  }
  EXPECT_EQ(s.counter, 4000);  // read after join: ordered by the joins
  cnd_destroy(&s.cv);
  mtx_destroy(&s.mu);
}

TEST(C11ThreadsTest, RecursiveMutexNestsAndPlainTrylockSeesItHeld) {
  mtx_t rec;
  ASSERT_EQ(mtx_init(&rec, mtx_plain | mtx_recursive), thrd_success);
  EXPECT_EQ(mtx_lock(&rec), thrd_success);
  EXPECT_EQ(mtx_lock(&rec), thrd_success);
  EXPECT_EQ(mtx_unlock(&rec), thrd_success);
  EXPECT_EQ(mtx_unlock(&rec), thrd_success);
  mtx_destroy(&rec);

  mtx_t plain;
  ASSERT_EQ(mtx_init(&plain, mtx_timed), thrd_success);
  ASSERT_EQ(mtx_lock(&plain), thrd_success);
  thrd_t t;
  ASSERT_EQ(thrd_create(&t, [](void* p) { return mtx_trylock(static_cast<mtx_t*>(p)); }, &plain), thrd_success);
  int res = -1;
  ASSERT_EQ(thrd_join(t, &res), thrd_success);
  EXPECT_EQ(res, thrd_busy);
  mtx_unlock(&plain);
  mtx_destroy(&plain);
}

TEST(C11ThreadsTest, TimedWaitTimesOut) {
  mtx_t mu;
  cnd_t cv;
  ASSERT_EQ(mtx_init(&mu, mtx_plain), thrd_success);
  ASSERT_EQ(cnd_init(&cv), thrd_success);
  timespec deadline{};
  ASSERT_NE(timespec_get(&deadline, TIME_UTC), 0);
  deadline.tv_nsec += 10 * 1000 * 1000;
  if (deadline.tv_nsec >= 1000000000) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= 1000000000;
  }
  mtx_lock(&mu);
  EXPECT_EQ(cnd_timedwait(&cv, &mu, &deadline), thrd_timedout);
  mtx_unlock(&mu);
  cnd_destroy(&cv);
  mtx_destroy(&mu);
}

// std::timed_mutex::try_lock_for (pthread_mutex_clocklock underneath): under
// TSan without the replacement in tsan_c11_threads.cc this counter is
// reported as a race and each unlock as "unlock of an unlocked mutex".
TEST(C11ThreadsTest, TimedMutexTryLockForOrdersWorkAndTimesOut) {
  std::timed_mutex mu;
  int counter = 0;  // guarded by mu
  auto add = [&] {
    for (int i = 0; i < 1000; ++i) {
      std::unique_lock lock(mu, std::defer_lock);
      ASSERT_TRUE(lock.try_lock_for(std::chrono::seconds(10)));
      ++counter;
    }
  };
  std::thread other(add);
  add();
  other.join();
  EXPECT_EQ(counter, 2000);

  std::lock_guard held(mu);
  bool got = true;
  std::thread waiter([&] { got = mu.try_lock_for(std::chrono::milliseconds(20)); });
  waiter.join();
  EXPECT_FALSE(got) << "try_lock_for on a held mutex must time out";
}

}  // namespace
