// ThreadSanitizer builds only (DANMU_SANITIZE=thread): the C11 threads API
// that librdkafka uses, on top of pthreads.
//
// Why. Debian 12's librdkafka starts its threads with thrd_create and locks
// with mtx_lock/cnd_wait. glibc implements those with internal calls to
// pthread_create and pthread_mutex_lock that TSan's interceptors (GCC 12)
// never see: a librdkafka thread is then unknown to TSan, and the first
// malloc on it crashes (SEGV in SizeClassAllocator64LocalCache::Allocate from
// getaddrinfo on rdk:broker-N, danmud dies at start-up), and its mutexes are
// invisible, so every hand-off through librdkafka would look like a race.
// Defined in the executable, these take precedence over glibc's for
// librdkafka (the link exports them, see core/store/CMakeLists.txt) and go
// through the intercepted pthread functions. Same semantics as glibc's own
// (nptl/thrd_*.c, mtx_*.c, cnd_*.c): thrd_t is a pthread_t, mtx_t and cnd_t
// have the layout of pthread_mutex_t and pthread_cond_t, a thread's int
// result travels as the pthread result.
//
// The same gap for std::timed_mutex: try_lock_for/try_lock_until on
// steady_clock lock with pthread_mutex_clocklock (glibc 2.30+), which GCC
// 12's TSan does not intercept. The lock is invisible, its unlock is reported
// as "unlock of an unlocked mutex" and everything it guards as a race (41
// such reports from PrimaryLease::StatusJson in one run). Defined here, it is
// what our own inline calls link to, and it goes through the intercepted
// pthread_mutex_timedlock with the deadline moved to CLOCK_REALTIME.
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>
#include <time.h>

static_assert(sizeof(thrd_t) == sizeof(pthread_t));
static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t));
static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t));

namespace {

int MapError(int err) {
  switch (err) {
    case 0: return thrd_success;
    case ENOMEM: return thrd_nomem;
    case ETIMEDOUT: return thrd_timedout;
    case EBUSY: return thrd_busy;
    default: return thrd_error;
  }
}

struct Start {
  thrd_start_t func;
  void* arg;
};

void* Trampoline(void* p) {
  Start s = *static_cast<Start*>(p);
  free(p);
  return reinterpret_cast<void*>(static_cast<intptr_t>(s.func(s.arg)));
}

pthread_mutex_t* M(mtx_t* m) { return reinterpret_cast<pthread_mutex_t*>(m); }
pthread_cond_t* C(cnd_t* c) { return reinterpret_cast<pthread_cond_t*>(c); }

}  // namespace

extern "C" {

int thrd_create(thrd_t* thr, thrd_start_t func, void* arg) {
  auto* s = static_cast<Start*>(malloc(sizeof(Start)));
  if (!s) return thrd_nomem;
  *s = Start{func, arg};
  int err = pthread_create(thr, nullptr, Trampoline, s);
  if (err != 0) free(s);
  return MapError(err);
}

int thrd_join(thrd_t thr, int* res) {
  void* out = nullptr;
  int err = pthread_join(thr, &out);
  if (err == 0 && res) *res = static_cast<int>(reinterpret_cast<intptr_t>(out));
  return MapError(err);
}

int thrd_detach(thrd_t thr) { return MapError(pthread_detach(thr)); }

int mtx_init(mtx_t* m, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  // Like glibc: the recursive flag decides; any other type is a plain mutex.
  pthread_mutexattr_settype(&attr, (type & mtx_recursive) ? PTHREAD_MUTEX_RECURSIVE : PTHREAD_MUTEX_DEFAULT);
  int err = pthread_mutex_init(M(m), &attr);
  pthread_mutexattr_destroy(&attr);
  return MapError(err);
}

int mtx_lock(mtx_t* m) { return MapError(pthread_mutex_lock(M(m))); }
int mtx_trylock(mtx_t* m) { return MapError(pthread_mutex_trylock(M(m))); }
int mtx_unlock(mtx_t* m) { return MapError(pthread_mutex_unlock(M(m))); }
void mtx_destroy(mtx_t* m) { pthread_mutex_destroy(M(m)); }

int cnd_init(cnd_t* c) { return MapError(pthread_cond_init(C(c), nullptr)); }
int cnd_signal(cnd_t* c) { return MapError(pthread_cond_signal(C(c))); }
int cnd_broadcast(cnd_t* c) { return MapError(pthread_cond_broadcast(C(c))); }
int cnd_wait(cnd_t* c, mtx_t* m) { return MapError(pthread_cond_wait(C(c), M(m))); }
int cnd_timedwait(cnd_t* c, mtx_t* m, const struct timespec* abstime) {
  return MapError(pthread_cond_timedwait(C(c), M(m), abstime));
}
void cnd_destroy(cnd_t* c) { pthread_cond_destroy(C(c)); }

int pthread_mutex_clocklock(pthread_mutex_t* m, clockid_t clock, const struct timespec* abstime) {
  if (clock == CLOCK_REALTIME) return pthread_mutex_timedlock(m, abstime);
  if (clock != CLOCK_MONOTONIC) return EINVAL;
  struct timespec mono, real;
  clock_gettime(CLOCK_MONOTONIC, &mono);
  clock_gettime(CLOCK_REALTIME, &real);
  int64_t left_ns = (int64_t{abstime->tv_sec} - mono.tv_sec) * 1000000000 + (abstime->tv_nsec - mono.tv_nsec);
  if (left_ns < 0) left_ns = 0;
  const int64_t at_ns = int64_t{real.tv_sec} * 1000000000 + real.tv_nsec + left_ns;
  const struct timespec deadline = {static_cast<time_t>(at_ns / 1000000000), static_cast<long>(at_ns % 1000000000)};
  return pthread_mutex_timedlock(m, &deadline);
}

}  // extern "C"
