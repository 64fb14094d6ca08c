// Open MPI through dlopen (see gan_mpi.h). Only MPI_BYTE point-to-point messages are used: the
// sums are this file's, in a fixed ring order.
#include "gan_mpi.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef void *handle;  // Open MPI's handles are pointers to its predefined globals
typedef int (*init_fn)(int *, char ***);
typedef int (*comm_int_fn)(handle, int *);
typedef int (*isend_fn)(const void *, int, handle, int, int, handle, handle *);
typedef int (*irecv_fn)(void *, int, handle, int, int, handle, handle *);
typedef int (*test_fn)(handle *, int *, void *);
typedef int (*set_errhandler_fn)(handle, handle);
typedef int (*error_string_fn)(int, char *, int *);
typedef int (*finalize_fn)(void);
typedef int (*abort_fn)(handle, int);

static struct {
  void *lib;
  handle world, byte, errors_return;
  init_fn init;
  comm_int_fn rank, size;
  isend_fn isend;
  irecv_fn irecv;
  test_fn test;
  set_errhandler_fn set_errhandler;
  error_string_fn error_string;
  finalize_fn finalize;
  abort_fn abort;
  int my_rank, ranks, patient;
  // Every rank's process id and a hash of its host name: a peer on this host that has exited is
  // noticed at once (kill(pid, 0)) instead of after a timeout.
  int32_t *pids, *hosts;
  double no_progress, stop_grace;
  uint64_t bytes_sent;
} M = {.no_progress = 600, .stop_grace = 1, .ranks = 1};

static volatile sig_atomic_t stop_signalled = 0;
void gm_note_stop_signal(void) { stop_signalled = 1; }

void gm_set_timeouts(double no_progress_seconds, double stop_grace_seconds) {
  if (no_progress_seconds > 0) M.no_progress = no_progress_seconds;
  if (stop_grace_seconds > 0) M.stop_grace = stop_grace_seconds;
}

int gm_launched_size(void) {
  const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
  for (int i = 0; i < 3; i++) {
    const char *v = getenv(names[i]);
    if (v && atoi(v) > 0) return atoi(v);
  }
  return 0;
}

static void *symbol(const char *name, char *err, size_t n, int *failed) {
  void *p = dlsym(M.lib, name);
  if (!p && !*failed) {
    snprintf(err, n, "libmpi has no symbol %s (Open MPI 4 is expected: apt-get install openmpi-bin libopenmpi3)", name);
    *failed = 1;
  }
  return p;
}

int gm_init(char *err, size_t n) {
  const char *path = getenv("SWIFT_GAN_LIBMPI");
  // RTLD_GLOBAL: Open MPI's components (dlopened by libmpi) resolve libmpi's symbols globally.
  M.lib = dlopen(path ? path : "libmpi.so.40", RTLD_NOW | RTLD_GLOBAL);
  if (!M.lib) {
    snprintf(err, n, "cannot load MPI (%s): %s; install Open MPI (tools/install-deps.sh openmpi-bin libopenmpi-dev)",
             path ? path : "libmpi.so.40", dlerror());
    return -1;
  }
  int failed = 0;
  M.world = symbol("ompi_mpi_comm_world", err, n, &failed);
  M.byte = symbol("ompi_mpi_byte", err, n, &failed);
  M.errors_return = symbol("ompi_mpi_errors_return", err, n, &failed);
  M.init = (init_fn)symbol("MPI_Init", err, n, &failed);
  M.rank = (comm_int_fn)symbol("MPI_Comm_rank", err, n, &failed);
  M.size = (comm_int_fn)symbol("MPI_Comm_size", err, n, &failed);
  M.isend = (isend_fn)symbol("MPI_Isend", err, n, &failed);
  M.irecv = (irecv_fn)symbol("MPI_Irecv", err, n, &failed);
  M.test = (test_fn)symbol("MPI_Test", err, n, &failed);
  M.set_errhandler = (set_errhandler_fn)symbol("MPI_Comm_set_errhandler", err, n, &failed);
  M.error_string = (error_string_fn)symbol("MPI_Error_string", err, n, &failed);
  M.finalize = (finalize_fn)symbol("MPI_Finalize", err, n, &failed);
  M.abort = (abort_fn)symbol("MPI_Abort", err, n, &failed);
  if (failed) return -1;
  int rc = M.init(NULL, NULL);
  if (rc != 0) { snprintf(err, n, "MPI_Init failed (error %d)", rc); return -1; }
  // Errors come back as codes (and become one clear line) instead of aborting inside MPI.
  M.set_errhandler(M.world, M.errors_return);
  M.rank(M.world, &M.my_rank);
  M.size(M.world, &M.ranks);
  const char *t = getenv("SWIFT_GAN_MPI_TIMEOUT");
  if (t && atof(t) > 0) M.no_progress = atof(t);
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  uint32_t h = 2166136261u;
  for (const char *c = host; *c; c++) h = (h ^ (uint8_t)*c) * 16777619u;
  int32_t *table = malloc(2 * (size_t)M.ranks * sizeof(int32_t));
  if (!table) { snprintf(err, n, "out of memory"); return -1; }
  for (int i = 0; i < 2 * M.ranks; i++) table[i] = INT32_MIN;
  table[M.my_rank] = (int32_t)getpid();
  table[M.ranks + M.my_rank] = (int32_t)(h & 0x7fffffff);
  if (gm_allreduce_max_i32(table, 2 * (size_t)M.ranks, err, n)) { free(table); return -1; }
  M.pids = table;
  M.hosts = table + M.ranks;
  return 0;
}

// A peer on this host whose process no longer exists (exited, killed).
static int peer_gone(int rank) {
  if (!M.pids || M.hosts[rank] != M.hosts[M.my_rank]) return 0;
  return kill((pid_t)M.pids[rank], 0) != 0 && errno == ESRCH;
}

void gm_set_patient(int patient) { M.patient = patient; }

int gm_rank(void) { return M.my_rank; }
int gm_size(void) { return M.ranks; }
uint64_t gm_bytes_sent(void) { return M.bytes_sent; }

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void mpi_error(int rc, const char *what, int peer, char *err, size_t n) {
  char text[512] = "";
  int len = 0;
  if (M.error_string) M.error_string(rc, text, &len);
  snprintf(err, n, "rank %d: %s with rank %d failed: %s", M.my_rank, what, peer, text);
}

// Sends `send_bytes` to rank `to` and receives `recv_bytes` from rank `from` (each message's two
// ends agree on its size), polling, so a lost peer is noticed (no progress for the timeout)
// instead of blocking forever.
static int exchange(const void *send, size_t send_bytes, int to, void *recv, size_t recv_bytes, int from, char *err,
                    size_t n) {
  static const size_t piece = (size_t)1 << 30;  // MPI counts are ints
  for (size_t off = 0; off < send_bytes || off < recv_bytes; off += piece) {
    int slen = off < send_bytes ? (int)(send_bytes - off < piece ? send_bytes - off : piece) : -1;
    int rlen = off < recv_bytes ? (int)(recv_bytes - off < piece ? recv_bytes - off : piece) : -1;
    handle rq[2];
    int done[2] = {rlen < 0, slen < 0}, rc;
    if (rlen >= 0 && (rc = M.irecv((char *)recv + off, rlen, M.byte, from, 71, M.world, &rq[0])) != 0) {
      mpi_error(rc, "receiving", from, err, n);
      return -1;
    }
    if (slen >= 0 && (rc = M.isend((const char *)send + off, slen, M.byte, to, 71, M.world, &rq[1])) != 0) {
      mpi_error(rc, "sending", to, err, n);
      return -1;
    }
    double start = now(), signalled_at = 0;
    for (long spin = 0; !(done[0] && done[1]); spin++) {
      for (int k = 0; k < 2; k++) {
        if (done[k]) continue;
        rc = M.test(&rq[k], &done[k], NULL);
        if (rc != 0) { mpi_error(rc, k ? "sending" : "receiving", k ? to : from, err, n); return -1; }
      }
      if (done[0] && done[1]) break;
      if (spin > 2000) {
        struct timespec d = {0, 50000};  // 50 us: leave the core to the peer's compute
        nanosleep(&d, NULL);
      } else {
        sched_yield();
      }
      if ((spin & 255) == 0) {
        int waiting_on = done[0] ? to : from;
        if (peer_gone(waiting_on)) {
          snprintf(err, n, "rank %d: rank %d (process %d on this host) has exited: rank %d was lost", M.my_rank,
                   waiting_on, (int)M.pids[waiting_on], waiting_on);
          return -1;
        }
      }
      if ((spin & 255) == 0 && !M.patient) {
        double t = now();
        if (stop_signalled && signalled_at == 0) signalled_at = t;
        int waiting_on = done[0] ? to : from;
        if (signalled_at > 0 && t - signalled_at > M.stop_grace) {
          snprintf(err, n, "rank %d: no answer from rank %d for %.0f s after a stop signal: rank %d was lost",
                   M.my_rank, waiting_on, M.stop_grace, waiting_on);
          return -1;
        }
        if (t - start > M.no_progress) {
          snprintf(err, n, "rank %d: no answer from rank %d for %.0f s: rank %d was lost (or hangs)", M.my_rank,
                   waiting_on, M.no_progress, waiting_on);
          return -1;
        }
      }
    }
    if (slen > 0) M.bytes_sent += (uint64_t)slen;
  }
  return 0;
}

// The ring: chunk c of the result is ((x_c + x_{c+1}) + ...) + x_{c-1} over ranks, the same on
// every rank and for every call with this many ranks.
#define RING(NAME, T, COMBINE)                                                                      \
  int NAME(T *buf, size_t count, char *err, size_t n) {                                             \
    int p = M.ranks, r = M.my_rank;                                                                 \
    if (p <= 1 || count == 0) return 0;                                                             \
    size_t base = count / (size_t)p, extra = count % (size_t)p;                                     \
    size_t largest = base + (extra ? 1 : 0);                                                        \
    T *tmp = malloc(largest * sizeof(T));                                                           \
    if (!tmp) { snprintf(err, n, "rank %d: out of memory for a reduction", r); return -1; }         \
    int next = (r + 1) % p, prev = (r + p - 1) % p;                                                 \
    for (int s = 0; s < p - 1; s++) {                                                               \
      int send_c = (r - s + p) % p, recv_c = (r - s - 1 + 2 * p) % p;                               \
      size_t so = send_c * base + ((size_t)send_c < extra ? send_c : extra);                        \
      size_t sl = base + ((size_t)send_c < extra ? 1 : 0);                                          \
      size_t ro = recv_c * base + ((size_t)recv_c < extra ? recv_c : extra);                        \
      size_t rl = base + ((size_t)recv_c < extra ? 1 : 0);                                          \
      if (exchange(buf + so, sl * sizeof(T), next, tmp, rl * sizeof(T), prev, err, n)) {            \
        free(tmp); return -1;                                                                       \
      }                                                                                             \
      for (size_t i = 0; i < rl; i++) { T a = tmp[i], b = buf[ro + i]; buf[ro + i] = COMBINE; }     \
    }                                                                                               \
    for (int s = 0; s < p - 1; s++) {                                                               \
      int send_c = (r + 1 - s + p) % p, recv_c = (r - s + p) % p;                                   \
      size_t so = send_c * base + ((size_t)send_c < extra ? send_c : extra);                        \
      size_t sl = base + ((size_t)send_c < extra ? 1 : 0);                                          \
      size_t ro = recv_c * base + ((size_t)recv_c < extra ? recv_c : extra);                        \
      size_t rl = base + ((size_t)recv_c < extra ? 1 : 0);                                          \
      if (exchange(buf + so, sl * sizeof(T), next, buf + ro, rl * sizeof(T), prev, err, n)) {       \
        free(tmp); return -1;                                                                       \
      }                                                                                             \
    }                                                                                               \
    free(tmp);                                                                                      \
    return 0;                                                                                       \
  }

RING(gm_allreduce_sum_f32, float, a + b)
RING(gm_allreduce_sum_f64, double, a + b)
RING(gm_allreduce_max_i32, int32_t, (a > b ? a : b))

void gm_finalize(void) {
  if (M.finalize) M.finalize();
}

void gm_abort(int code) {
  if (M.abort) M.abort(M.world, code);
  _exit(code);
}
