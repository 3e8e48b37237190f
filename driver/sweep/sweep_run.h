/* driver/sweep/sweep_run.h: the one worker pool of the driver, used by
 * `sweep` (its points) and `plan` (its GPU types): items run on local cores
 * (driver/sweep/sweep_pool.c, one child process per item) or over MPI ranks
 * (driver/sweep/sweep_mpi.c). An item is an index the caller defines. The
 * caller says which item comes next (or that one may come later: another
 * process is running the rest), `work` turns an item into result bytes in
 * a worker, and `done` receives them in the process that records results,
 * with the wall time the item took. Part of the driver. */
#ifndef DRIVER_SWEEP_SWEEP_RUN_H
#define DRIVER_SWEEP_SWEEP_RUN_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
  SWEEP_NEXT_ITEM,  /* *item is the next item to run */
  SWEEP_NEXT_WAIT,  /* none now; ask again a little later */
  SWEEP_NEXT_DONE   /* no more */
} sweep_next;

/* The status `done` sees for a worker that died without a result (a crash,
 * a signal); its bytes are then a message. */
enum { SWEEP_WORKER_LOST = -1 };

typedef struct {
  /* In the recording process: the next item. */
  sweep_next (*next)(void *ctx, size_t *item);
  /* In a worker: run item, its result into *out (malloc'd, *len bytes, any
   * bytes); returns a status from 0 to 125 (0: success). */
  int (*work)(void *ctx, size_t item, char **out, size_t *len);
  /* In the recording process: item's status and result (NUL-terminated
   * after len bytes). False stops the pool: running items are stopped and
   * their results dropped. */
  bool (*done)(void *ctx, size_t item, int status, const char *out, size_t len, double wall_s);
  /* About once a second while the pool runs or waits (may be NULL). */
  void (*tick)(void *ctx);
  void *ctx;
} sweep_jobs;

/* Run the items jobs->next gives with up to `jobs` child processes at a
 * time; returns how many finished. SIGINT/SIGTERM stop it early (children
 * are sent SIGTERM, their results dropped): sweep_pool_stopped() then
 * gives the signal. SIGINT and SIGTERM are unblocked once its handler is
 * in place: a caller that blocks them (sweep_signals_hold) before deciding
 * to start the pool loses none that comes in between. */
size_t sweep_pool_run(int jobs, const sweep_jobs *j);
/* Block SIGINT and SIGTERM (held until sweep_pool_run or
 * sweep_signals_release lets them in), so that a caller can check its own
 * stop flag and start the pool with no signal slipping between the two. */
void sweep_signals_hold(void);
void sweep_signals_release(void);
int sweep_pool_stopped(void);

/* ---- MPI (only when built with it; driver/sweep/sweep_mpi.c) ---- */

/* True when this process was started by mpirun with more than one rank
 * (MPI is then initialised); *rank and *size are set. */
bool sweep_mpi_start(int *argc, char ***argv, int *rank, int *size);
/* Rank 0: hand items out to the other ranks as they ask, one at a time,
 * calling done for each result; then tell them to stop. Returns how many
 * finished. Other ranks: run what rank 0 hands out until told to stop
 * (only j->work is used); returns 0. */
size_t sweep_mpi_run(int rank, const sweep_jobs *j);
void sweep_mpi_finish(void);

#endif
