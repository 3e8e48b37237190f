/* driver/sweep/sweep_mpi.c: a sweep spread over MPI ranks (see sweep_run.h). Rank
 * 0 records results and hands out items one at a time: a rank that
 * finishes one sends its result and so asks for the next (dynamic load
 * balancing; points take very different times). Built only with MPI
 * (CLUSTERSIM_MPI); without it these report "not under mpirun" and the
 * sweep runs on local cores. MPI is initialised only when the process was
 * started by mpirun (OMPI_COMM_WORLD_SIZE or PMI_SIZE set), so a plain
 * `clustersim` never touches it. */
#include <stdlib.h>
#include <string.h>

#include "driver/sweep/sweep_run.h"
#include "sim/util.h"

#ifdef CLUSTERSIM_MPI
#include <mpi.h>
#include <time.h>

enum { TAG_WORK = 1, TAG_RESULT = 2 };

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

/* A result message: the item (8 bytes), the wall time (8 bytes), the text. */
static size_t manager(const size_t *items, size_t n, sweep_done_fn done, void *ctx)
{
  int size;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  size_t next = 0, finished = 0;
  int active = size - 1;
  while (active > 0) {
    MPI_Status st;
    MPI_Probe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &st);
    int len;
    MPI_Get_count(&st, MPI_CHAR, &len);
    char *msg = xmalloc((size_t)len + 1);
    MPI_Recv(msg, len, MPI_CHAR, st.MPI_SOURCE, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    msg[len] = '\0';
    /* an empty message is a worker's first request */
    if (len >= 16) {
      uint64_t item;
      double wall;
      memcpy(&item, msg, 8);
      memcpy(&wall, msg + 8, 8);
      done(ctx, (size_t)item, msg + 16, wall);
      finished++;
    }
    free(msg);
    int64_t give = next < n ? (int64_t)items[next++] : -1;
    MPI_Send(&give, 1, MPI_INT64_T, st.MPI_SOURCE, TAG_WORK, MPI_COMM_WORLD);
    if (give < 0) active--;
  }
  return finished;
}

static void worker(sweep_work_fn work, void *ctx)
{
  MPI_Send("", 0, MPI_CHAR, 0, TAG_RESULT, MPI_COMM_WORLD);
  for (;;) {
    int64_t item;
    MPI_Recv(&item, 1, MPI_INT64_T, 0, TAG_WORK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (item < 0) return;
    double t0 = now_s();
    char *text = work(ctx, (size_t)item);
    double wall = now_s() - t0;
    size_t tl = strlen(text);
    char *msg = xmalloc(tl + 16);
    uint64_t it = (uint64_t)item;
    memcpy(msg, &it, 8);
    memcpy(msg + 8, &wall, 8);
    memcpy(msg + 16, text, tl);
    MPI_Send(msg, (int)(tl + 16), MPI_CHAR, 0, TAG_RESULT, MPI_COMM_WORLD);
    free(msg);
    free(text);
  }
}

size_t sweep_mpi_run(int rank, const size_t *items, size_t n, sweep_work_fn work, sweep_done_fn done,
                         void *ctx)
{
  if (rank == 0) return manager(items, n, done, ctx);
  worker(work, ctx);
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

size_t sweep_mpi_run(int rank, const size_t *items, size_t n, sweep_work_fn work, sweep_done_fn done,
                         void *ctx)
{
  (void)rank, (void)items, (void)n, (void)work, (void)done, (void)ctx;
  SIM_BUG("sweep_mpi_run without MPI");
}

#endif
