/* driver/sweep/sweep_mpi.c: the worker pool over MPI ranks (see sweep_run.h).
 * Rank 0 records results and hands out items one at a time: a rank that
 * finishes one sends its result and so asks for the next (dynamic load
 * balancing; points take very different times). When no item is ready
 * (another process is running the rest), idle ranks wait until one is.
 * Built only with MPI (CLUSTERSIM_MPI); without it these report "not under
 * mpirun" and the sweep runs on local cores. MPI is initialised only when
 * the process was started by mpirun (OMPI_COMM_WORLD_SIZE or PMI_SIZE
 * set), so a plain `clustersim` never touches it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "driver/sweep/sweep_run.h"
#include "sim/util.h"

#ifdef CLUSTERSIM_MPI
#include <mpi.h>
#include <time.h>

enum { TAG_WORK = 1, TAG_RESULT = 2 };
/* A result message: the item (8 bytes), the wall time (8), the status (4),
 * the result bytes. An empty message is a worker's first request. */
enum { HEAD = 20 };

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

bool sweep_mpi_start(int *argc, char ***argv, int *rank, int *size)
{
  const char *n = getenv("OMPI_COMM_WORLD_SIZE");
  if (!n) n = getenv("PMI_SIZE");
  if (!n || atoi(n) < 2) return false;
  MPI_Init(argc, argv);
  MPI_Comm_rank(MPI_COMM_WORLD, rank);
  MPI_Comm_size(MPI_COMM_WORLD, size);
  return *size > 1;
}

void sweep_mpi_finish(void) { MPI_Finalize(); }

static void give(int rank, int64_t item)
{
  MPI_Send(&item, 1, MPI_INT64_T, rank, TAG_WORK, MPI_COMM_WORLD);
}

static size_t manager(const sweep_jobs *j)
{
  int size;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int *idle = xmalloc((size_t)size * sizeof *idle);
  int nidle = 0, active = size - 1;
  size_t finished = 0;
  bool exhausted = false, stopping = false;
  double last_tick = now_s(), last_ask = 0;
  while (active > 0) {
    /* hand out work to idle ranks (asking again at most twice a second
     * while nothing is ready) */
    bool waiting = false;
    while (nidle > 0 && !exhausted && !stopping && !waiting) {
      if (last_ask > 0 && now_s() - last_ask < 0.5) {
        waiting = true;
        break;
      }
      size_t item;
      sweep_next nx = j->next(j->ctx, &item);
      if (nx == SWEEP_NEXT_ITEM) {
        give(idle[--nidle], (int64_t)item);
        last_ask = 0;
      } else if (nx == SWEEP_NEXT_WAIT) {
        waiting = true;
        last_ask = now_s();
      } else {
        exhausted = true;
      }
    }
    if (exhausted || stopping) {
      while (nidle > 0) {
        give(idle[--nidle], -1);
        active--;
      }
      if (active == 0) break;
    }
    if (now_s() - last_tick >= 1.0) {
      if (j->tick) j->tick(j->ctx);
      last_tick = now_s();
    }
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &st);
    if (!flag) {
      struct timespec nap = {0, 2000000};
      nanosleep(&nap, NULL);
      continue;
    }
    int len;
    MPI_Get_count(&st, MPI_CHAR, &len);
    char *msg = xmalloc((size_t)len + 1);
    MPI_Recv(msg, len, MPI_CHAR, st.MPI_SOURCE, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    msg[len] = '\0';
    if (len >= HEAD) {
      uint64_t item;
      double wall;
      int32_t status;
      memcpy(&item, msg, 8);
      memcpy(&wall, msg + 8, 8);
      memcpy(&status, msg + 16, 4);
      if (!stopping && !j->done(j->ctx, (size_t)item, status, msg + HEAD, (size_t)len - HEAD, wall)) stopping = true;
      finished++;
    }
    free(msg);
    idle[nidle++] = st.MPI_SOURCE;
    last_ask = 0;
  }
  free(idle);
  return finished;
}

static void worker(const sweep_jobs *j)
{
  MPI_Send("", 0, MPI_CHAR, 0, TAG_RESULT, MPI_COMM_WORLD);
  for (;;) {
    int64_t item;
    MPI_Recv(&item, 1, MPI_INT64_T, 0, TAG_WORK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (item < 0) return;
    double t0 = now_s();
    char *out = NULL;
    size_t len = 0;
    int32_t status = j->work(j->ctx, (size_t)item, &out, &len);
    double wall = now_s() - t0;
    char *msg = xmalloc(len + HEAD);
    uint64_t it = (uint64_t)item;
    memcpy(msg, &it, 8);
    memcpy(msg + 8, &wall, 8);
    memcpy(msg + 16, &status, 4);
    if (len) memcpy(msg + HEAD, out, len);
    MPI_Send(msg, (int)(len + HEAD), MPI_CHAR, 0, TAG_RESULT, MPI_COMM_WORLD);
    free(msg);
    free(out);
  }
}

size_t sweep_mpi_run(int rank, const sweep_jobs *j)
{
  if (rank == 0) return manager(j);
  worker(j);
  return 0;
}

#else

bool sweep_mpi_start(int *argc, char ***argv, int *rank, int *size)
{
  (void)argc, (void)argv;
  *rank = 0;
  *size = 1;
  return false;
}

void sweep_mpi_finish(void) {}

size_t sweep_mpi_run(int rank, const sweep_jobs *j)
{
  (void)rank, (void)j;
  SIM_BUG("sweep_mpi_run without MPI");
}

#endif
