/* driver/plan/plan_run.c: running the GPU types' searches of `clustersim plan`
 * (see plan.h) through the driver's worker pool (driver/sweep/sweep_run.h),
 * the one sweep uses: each type is searched in a worker process that hands
 * its whole result back as bytes, so that the results are the same
 * whatever the number of workers; the first failing search stops the
 * others. Also the SIGINT/SIGTERM handler that stops plan outside the pool.
 * Knows nothing of options or outputs. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/commands/cli.h"
#include "driver/plan/plan.h"
#include "driver/sweep/sweep_run.h"
#include "sim/engine.h"
#include "sim/util.h"

/* Stop the search, and any simulation running in this process (a run, or
 * a model's inner one such as the saturation probe) at its next event. */
static void on_signal(int sig)
{
  plan_stop = sig;
  sim_request_stop_all();
}

void plan_catch_signals(struct sigaction *old_int, struct sigaction *old_term)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, old_int);
  sigaction(SIGTERM, &sa, old_term);
}

/* The pool's view of the searches: item k is GPU type pending[k]. */
typedef struct {
  const plan_ctx *c;
  plan_type *types;
  const plan_fit *fit;
  int pending[SIM_PLAN_MAX_GPUS];
  int npending, next;
  int status;
} searches;

static sweep_next next_type(void *ctx, size_t *item)
{
  searches *s = ctx;
  if (s->status != SIM_PLAN_OK || s->next >= s->npending) return SWEEP_NEXT_DONE;
  *item = (size_t)s->next++;
  return SWEEP_NEXT_ITEM;
}

static int search_type(void *ctx, size_t item, char **out, size_t *len)
{
  searches *s = ctx;
  int g = s->pending[item];
  int rc = plan_search_type(s->c, &s->types[g], s->fit[g].fits, (char (*)[512])s->fit[g].reasons);
  if (rc == SIM_PLAN_OK) *out = plan_type_encode(&s->types[g], len);
  return rc;
}

static bool searched(void *ctx, size_t item, int status, const char *out, size_t len, double wall_s)
{
  (void)wall_s;
  searches *s = ctx;
  int g = s->pending[item];
  const char *gpu = s->c->o->gpus[g];
  int rc = status;
  if (status == SIM_PLAN_OK) {
    plan_type_release(&s->types[g]);
    if (!plan_type_decode(out, len, &s->types[g])) {
      fprintf(stderr, "clustersim plan: cannot read the search of %s back from its worker\n", gpu);
      rc = CMD_EXIT_FAIL;
    }
  } else if (status == SWEEP_WORKER_LOST) {
    fprintf(stderr, "clustersim plan: the search of %s failed (%s)\n", gpu, out);
    rc = CMD_EXIT_FAIL;
  } else if (status != SIM_PLAN_STOPPED && status != SIM_PLAN_USER_ERROR) {
    fprintf(stderr, "clustersim plan: the search of %s failed (status %d)\n", gpu, status);
    rc = CMD_EXIT_FAIL;
  }
  if (rc != SIM_PLAN_OK && s->status == SIM_PLAN_OK) s->status = rc;
  /* one failed: the others' results are no longer needed */
  return s->status == SIM_PLAN_OK;
}

int plan_run_types(const plan_ctx *c, plan_type *types, const plan_fit *fit)
{
  const plan_opts *o = c->o;
  searches s = {.c = c, .types = types, .fit = fit, .status = SIM_PLAN_OK};
  for (int g = 0; g < o->ngpus; g++) {
    if (fit[g].any)
      s.pending[s.npending++] = g;
    else
      plan_search_type(c, &types[g], fit[g].fits, (char (*)[512])fit[g].reasons); /* NOFIT rows only */
  }
  /* a SIGINT between this check and the pool's handler would reach plan's
   * handler only, and the pool would run every search to its end: held */
  sweep_signals_hold();
  if (plan_stop) {
    sweep_signals_release();
    return SIM_PLAN_STOPPED;
  }
  sweep_jobs jobs = {.next = next_type, .work = search_type, .done = searched, .ctx = &s};
  sweep_pool_run(o->jobs, &jobs);
  int sig = sweep_pool_stopped();
  if (sig) plan_stop = sig;
  if (plan_stop) return SIM_PLAN_STOPPED;
  return s.status;
}

/* The pool's view of plan_run_items. */
typedef struct {
  size_t n, next;
  int (*work)(void *ctx, size_t item, char **out, size_t *len);
  void *ctx;
  const char *what;
  char **outs;
  size_t *lens;
  int status;
} items;

static sweep_next next_item(void *ctx, size_t *item)
{
  items *s = ctx;
  if (s->status != SIM_PLAN_OK || s->next >= s->n) return SWEEP_NEXT_DONE;
  *item = s->next++;
  return SWEEP_NEXT_ITEM;
}

static int work_item(void *ctx, size_t item, char **out, size_t *len)
{
  items *s = ctx;
  return s->work(s->ctx, item, out, len);
}

/* An item ended: its bytes kept in outs[item] and lens[item] (malloc'd
 * copies), or its failure said (the `what` search) and kept in status
 * unless one came before. Whether the pool should go on. */
static bool item_done(void *ctx, size_t item, int status, const char *out, size_t len, double wall_s)
{
  (void)wall_s;
  items *s = ctx;
  int rc = status;
  if (status == SIM_PLAN_OK) {
    s->outs[item] = xmalloc(len + 1);
    memcpy(s->outs[item], out, len);
    s->lens[item] = len;
  } else if (status == SWEEP_WORKER_LOST) {
    fprintf(stderr, "clustersim plan: a %s search failed (%s)\n", s->what, out);
    rc = CMD_EXIT_FAIL;
  } else if (status != SIM_PLAN_STOPPED && status != SIM_PLAN_USER_ERROR) {
    fprintf(stderr, "clustersim plan: a %s search failed (status %d)\n", s->what, status);
    rc = CMD_EXIT_FAIL;
  }
  if (rc != SIM_PLAN_OK && s->status == SIM_PLAN_OK) s->status = rc;
  return s->status == SIM_PLAN_OK;
}

int plan_run_items(int jobs, size_t n, int (*work)(void *ctx, size_t item, char **out, size_t *len), void *ctx,
                   const char *what, char **outs, size_t *lens)
{
  items s = {.n = n, .work = work, .ctx = ctx, .what = what, .outs = outs, .lens = lens, .status = SIM_PLAN_OK};
  sweep_jobs j = {.next = next_item, .work = work_item, .done = item_done, .ctx = &s};
  /* no signal lost between the check and the pool's handler (see above) */
  sweep_signals_hold();
  if (plan_stop || n == 0)
    sweep_signals_release();
  else
    sweep_pool_run(jobs, &j);
  int sig = sweep_pool_stopped();
  if (sig) plan_stop = sig;
  return plan_stop ? SIM_PLAN_STOPPED : s.status;
}
