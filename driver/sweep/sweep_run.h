/* driver/sweep/sweep_run.h: how a sweep's work items get run: on local cores
 * (driver/sweep/sweep_pool.c, one process per item) or over MPI ranks
 * (driver/sweep/sweep_mpi.c). An item is an index the caller defines; `work` turns
 * it into result text (run in a worker: a child process or another rank),
 * `done` receives that text (in the process that records results), with
 * the wall time the item took. A text starting with '!' is an error
 * message. Part of the driver. */
#ifndef DRIVER_SWEEP_SWEEP_RUN_H
#define DRIVER_SWEEP_SWEEP_RUN_H

#include <stdbool.h>
#include <stddef.h>

typedef char *(*sweep_work_fn)(void *ctx, size_t item);
typedef void (*sweep_done_fn)(void *ctx, size_t item, const char *text, double wall_s);

/* Run items[0..n) with up to `jobs` child processes; returns how many
 * finished. SIGINT/SIGTERM stop it early: sweep_pool_stopped() then
 * gives the signal. */
size_t sweep_pool_run(int jobs, const size_t *items, size_t n, sweep_work_fn work, sweep_done_fn done,
                          void *ctx);
int sweep_pool_stopped(void);

/* ---- MPI (only when built with it; driver/sweep/sweep_mpi.c) ---- */

/* True when this process was started by mpirun with more than one rank
 * (MPI is then initialised); *rank and *size are set. */
bool sweep_mpi_start(int *argc, char ***argv, int *rank, int *size);
/* Rank 0: hand items[0..n) out to the other ranks as they ask, one at a
 * time, calling done for each result; then tell them to stop. Returns how
 * many finished. Other ranks: run what rank 0 hands out until told to
 * stop (n and items are ignored); returns 0. */
size_t sweep_mpi_run(int rank, const size_t *items, size_t n, sweep_work_fn work, sweep_done_fn done,
                         void *ctx);
void sweep_mpi_finish(void);

#endif
