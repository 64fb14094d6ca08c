// The kernels' one parallel construct: body(ctx, tid, nth) on `threads` threads, work split by
// hand, gk_barrier between phases. A small persistent pool of pthreads instead of OpenMP: no
// libomp on the board (about 1 MB resident, and Debian's allocates inside worksharing loops), and
// a region costs one atomic increment plus a wake-up. Workers spin briefly between regions (a
// batch-1 generator calls back to back), then sleep on a futex.
#include "gk_internal.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

enum { GK_POOL_MAX = 64, GK_SPIN_REGION = 1 << 16, GK_SPIN_YIELD = 1 << 12, GK_NTH_BITS = 7 };
_Static_assert(GK_POOL_MAX < (1 << GK_NTH_BITS), "nth must fit beside the generation counter");

static inline void cpu_relax(void) {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static struct {
  pthread_mutex_t lock;  // one region at a time; a second caller runs its body alone
  int workers;           // threads started (tids 1...workers)
  // (region counter << GK_NTH_BITS) | nth: the region's thread count travels in the same word
  // as its generation, so a worker that sits a region out decides from the word it woke on. (A
  // separate nth field raced: a worker left out of region k could read region k+1's nth before
  // k+1 began and run its body early. Found by ThreadSanitizer.)
  _Atomic unsigned generation;
  unsigned created_at;  // the generation when the newest worker was created
  _Atomic int sleepers;
  // Written before the generation store that publishes them, read only by the region's
  // participants, and not rewritten until they have all counted themselves done.
  void (*body)(void *, int, int);
  void *ctx;
  _Atomic int done;
  _Atomic int bar_count;
  _Atomic unsigned bar_generation;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

static _Thread_local int gk_in_region;

static void futex_wait(_Atomic unsigned *addr, unsigned value) {
#if defined(__linux__)
  syscall(SYS_futex, (unsigned *)addr, FUTEX_WAIT_PRIVATE, value, NULL, NULL, 0);
#else
  (void)addr; (void)value;
  sched_yield();
#endif
}

static void futex_wake_all(_Atomic unsigned *addr) {
#if defined(__linux__)
  syscall(SYS_futex, (unsigned *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
  (void)addr;
#endif
}

static void *worker_main(void *arg) {
  int tid = (int)(intptr_t)arg;
  // Not the current generation: the caller may already have started the region this worker was
  // created for (pthread_create orders created_at before this read).
  unsigned seen = pool.created_at;
  for (;;) {
    unsigned g;
    int spins = 0;
    while ((g = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen) {
      if (++spins < GK_SPIN_REGION) {
        cpu_relax();
      } else {
        // Sequentially consistent with the caller's increment-then-check: either it sees this
        // sleeper and wakes it, or this thread sees the new generation (futex re-checks too).
        atomic_fetch_add(&pool.sleepers, 1);
        if (atomic_load(&pool.generation) == seen) futex_wait(&pool.generation, seen);
        atomic_fetch_sub(&pool.sleepers, 1);
        spins = 0;
      }
    }
    seen = g;
    int nth = (int)(g & ((1u << GK_NTH_BITS) - 1));
    if (tid < nth) {
      gk_in_region = 1;
      pool.body(pool.ctx, tid, nth);
      gk_in_region = 0;
      atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
    }
  }
  return NULL;
}

void gk_barrier(int nth) {
  if (nth <= 1) return;
  unsigned g = atomic_load_explicit(&pool.bar_generation, memory_order_acquire);
  if (atomic_fetch_add_explicit(&pool.bar_count, 1, memory_order_acq_rel) == nth - 1) {
    atomic_store_explicit(&pool.bar_count, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&pool.bar_generation, 1, memory_order_release);
    return;
  }
  int spins = 0;
  while (atomic_load_explicit(&pool.bar_generation, memory_order_acquire) == g) {
    if (++spins < GK_SPIN_YIELD) cpu_relax(); else { sched_yield(); spins = 0; }
  }
}

void gk_run_parallel(int threads, void (*body)(void *ctx, int tid, int nth), void *ctx) {
  if (threads > GK_POOL_MAX) threads = GK_POOL_MAX;
  // Nested calls and concurrent callers run alone: results never depend on the thread count.
  if (threads <= 1 || gk_in_region || pthread_mutex_trylock(&pool.lock) != 0) {
    body(ctx, 0, 1);
    return;
  }
  while (pool.workers < threads - 1) {
    pool.created_at = atomic_load(&pool.generation);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int ok = pthread_create(&t, &attr, worker_main, (void *)(intptr_t)(pool.workers + 1)) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) break;
    pool.workers++;
  }
  if (threads > pool.workers + 1) threads = pool.workers + 1;
  pool.body = body;
  pool.ctx = ctx;
  atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
  atomic_store_explicit(&pool.bar_count, 0, memory_order_relaxed);
  // Only the lock holder changes the word: the next counter, with this region's thread count.
  unsigned next = ((atomic_load(&pool.generation) >> GK_NTH_BITS) + 1) << GK_NTH_BITS | (unsigned)threads;
  atomic_store(&pool.generation, next);
  if (atomic_load(&pool.sleepers) > 0) futex_wake_all(&pool.generation);
  gk_in_region = 1;
  body(ctx, 0, threads);
  gk_in_region = 0;
  int spins = 0;
  while (atomic_load_explicit(&pool.done, memory_order_acquire) < threads - 1) {
    if (++spins < GK_SPIN_YIELD) cpu_relax(); else { sched_yield(); spins = 0; }
  }
  pthread_mutex_unlock(&pool.lock);
}
