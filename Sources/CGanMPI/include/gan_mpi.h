// CGanMPI: the MPI calls of data-parallel training (gan-train under mpirun), through Open MPI's
// libmpi loaded at run time with dlopen: the package builds, tests and runs where MPI is not
// installed, and Swift never sees MPI's handle macros. gan-gen and the board build never link it.
//
// Reductions are a ring over the ranks built from point-to-point messages (reduce-scatter, then
// allgather), so every element is summed in one fixed order for a given number of ranks: a run
// is reproducible, and every rank ends with the same bits.
#ifndef GAN_MPI_H
#define GAN_MPI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Ranks the launcher started (OMPI_COMM_WORLD_SIZE, PMI_SIZE), 0 when not under a launcher.
int gm_launched_size(void);
/// Loads libmpi (libmpi.so.40, or $SWIFT_GAN_LIBMPI) and initializes MPI; errors return
/// non-zero with a one-line reason in err.
int gm_init(char *err, size_t err_size);
int gm_rank(void);
int gm_size(void);
/// In-place sums over all ranks (ring order; every rank gets the same bits). Non-zero on
/// failure, with a reason naming the rank that did not answer in err.
int gm_allreduce_sum_f32(float *buf, size_t count, char *err, size_t err_size);
int gm_allreduce_sum_f64(double *buf, size_t count, char *err, size_t err_size);
/// In-place maximum over all ranks.
int gm_allreduce_max_i32(int32_t *buf, size_t count, char *err, size_t err_size);
/// Async-signal-safe: after a stop signal, a reduction that makes no progress for
/// `stop_grace_seconds` fails ("a rank was lost") instead of waiting forever.
void gm_note_stop_signal(void);
/// A reduction that makes no progress for this long fails even without a signal (default 600 s,
/// $SWIFT_GAN_MPI_TIMEOUT overrides); after a stop signal the limit is stop_grace (default 1 s:
/// the ranks of a step do the same work, so a live peer answers within milliseconds).
void gm_set_timeouts(double no_progress_seconds, double stop_grace_seconds);
/// Patient (non-zero): the following reductions wait without limit: for a rank that works alone
/// meanwhile (rank 0 decoding the dataset, measuring SWD, writing files), where a stop signal or a
/// long wait means nothing is wrong. Prompt (0, the default): the limits above apply.
void gm_set_patient(int patient);
/// Payload bytes this rank has sent in reductions.
uint64_t gm_bytes_sent(void);
void gm_finalize(void);
/// MPI_Abort of every rank.
void gm_abort(int code);

#ifdef __cplusplus
}
#endif

#endif
