/* bench/engine.c: throughput of the engine's event queue, measured only
 * through the public API of sim/engine.h (no peeking at its internals).
 *
 * hold:   the classic hold model. N events are pending (prefilled, not
 *         timed); each of the M timed operations fires one event whose
 *         handler reschedules it at now + Exp(mean 1 s), so the queue stays
 *         at N. A counter in the handler calls sim_stop after M fires.
 * cancel: schedule N events, cancel a random half, run to empty; repeated
 *         on one engine for max(1, M/N) cycles and timed as a whole (the
 *         engine's growth from empty included). One op is one event
 *         (scheduled, then cancelled or fired): ops = cycles * N.
 *
 * Rates are best of --runs runs (wall clock, CLOCK_MONOTONIC). Offsets come
 * from sim_dist_sample (exponential) on sim_rng_alloc(seed, "bench.hold")
 * as a model draws them, or with --rng xoshiro from the same inline generator the
 * baselines use, which isolates the queue's cost from the generator's.
 * The build decides the heap arity: linked against simcore (impl
 * "engine-simcore") or compiled with its own sim/engine.c and
 * -DSIM_HEAP_ARITY=d (impl "engine-d<d>"). Columns as in baseline_hold. */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/benchutil.h"
#include "sim/dist.h"
#include "sim/engine.h"
#include "sim/rng.h"
#include "sim/time.h"
#include "sim/util.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#ifdef SIM_HEAP_ARITY
#define IMPL_LABEL "engine-d" STR(SIM_HEAP_ARITY)
#else
#define IMPL_LABEL "engine-simcore"
#endif

#define SEED 20240601u
#define MEAN_S 1.0

typedef struct {
  gsl_rng *gsl;      /* --rng gsl */
  sim_dist dist;     /* exponential, mean MEAN_S */
  bench_rng xo;      /* --rng xoshiro */
  bool use_gsl;
  uint64_t left;     /* hold operations still to do */
  uint64_t fired;    /* cancel benchmark: events that fired */
} bench_ctx;

typedef struct {
  uint64_t sizes[16];
  int nsizes;
  uint64_t ops;
  int runs;
  bool use_gsl;
  bool csv;
  bool hold, cancel;  /* which rows to run */
} options;

static void ctx_init(bench_ctx *c, bool use_gsl)
{
  memset(c, 0, sizeof *c);
  c->use_gsl = use_gsl;
  if (use_gsl) {
    c->gsl = sim_rng_alloc(SEED, "bench.hold");
    if (sim_dist_make(&c->dist, SIM_DIST_EXPONENTIAL, &(sim_dist_params){.mean = MEAN_S}))
      SIM_BUG("bad bench distribution");
  } else {
    bench_rng_seed(&c->xo, SEED);
  }
}

static void ctx_release(bench_ctx *c)
{
  if (c->gsl) gsl_rng_free(c->gsl);
}

static inline sim_time draw_offset(bench_ctx *c)
{
  double s = c->use_gsl ? sim_dist_sample(&c->dist, c->gsl)
                        : bench_rng_exp(&c->xo, MEAN_S);
  return sim_time_from_s(s);
}

static void hold_fire(sim_engine *eng, void *ctx, uint64_t arg)
{
  bench_ctx *c = ctx;
  sim_schedule_in(eng, draw_offset(c), hold_fire, c, arg);
  if (--c->left == 0) sim_stop(eng);
}

static void count_fire(sim_engine *eng, void *ctx, uint64_t arg)
{
  ((bench_ctx *)ctx)->fired++;
}

/* One hold run: seconds for `ops` operations at `n` pending; *queue_bytes
 * gets what the engine holds at n pending. */
static double hold_once(uint64_t n, uint64_t ops, bool use_gsl, long long *queue_bytes)
{
  bench_ctx c;
  ctx_init(&c, use_gsl);
  long long before = bench_heap_bytes();
  sim_engine *eng = sim_engine_alloc();
  for (uint64_t i = 0; i < n; i++) sim_schedule_in(eng, draw_offset(&c), hold_fire, &c, i);
  long long after = bench_heap_bytes();
  *queue_bytes = before < 0 ? -1 : after - before;
  c.left = ops;
  double t0 = bench_now_s();
  sim_run_result why = sim_run(eng, SIM_TIME_MAX);
  double dt = bench_now_s() - t0;
  if (why != SIM_RUN_STOPPED || sim_events_fired(eng) != ops || sim_events_pending(eng) != n)
    SIM_BUG("hold: run ended early (fired %llu of %llu)",
            (unsigned long long)sim_events_fired(eng), (unsigned long long)ops);
  sim_engine_free(eng);
  ctx_release(&c);
  return dt;
}

/* One cancel run: `reps` cycles on one engine, each scheduling n events,
 * cancelling the n/2 named first in `perm` and running to empty; seconds. */
static double cancel_once(uint64_t n, uint64_t reps, const uint32_t *perm,
                          sim_event_id *ids, bool use_gsl)
{
  bench_ctx c;
  ctx_init(&c, use_gsl);
  double t0 = bench_now_s();
  sim_engine *eng = sim_engine_alloc();
  for (uint64_t r = 0; r < reps; r++) {
    for (uint64_t i = 0; i < n; i++)
      ids[i] = sim_schedule_in(eng, draw_offset(&c), count_fire, &c, i);
    for (uint64_t k = 0; k < n / 2; k++)
      if (!sim_cancel(eng, ids[perm[k]])) SIM_BUG("cancel: event not pending");
    sim_run(eng, SIM_TIME_MAX);
  }
  sim_engine_free(eng);
  double dt = bench_now_s() - t0;
  if (c.fired != reps * (n - n / 2)) SIM_BUG("cancel: %llu fired", (unsigned long long)c.fired);
  ctx_release(&c);
  return dt;
}

static void bench_size(const options *o, uint64_t n)
{
  const char *rng = o->use_gsl ? "gsl-taus2" : "xoshiro";
  if (o->hold) {
    bench_row r = {"hold", IMPL_LABEL, rng, n, o->ops, 0, 0, -1};
    long long qb = -1;
    for (int k = 0; k < o->runs; k++) {
      double dt = hold_once(n, o->ops, o->use_gsl, &qb);
      if (k == 0 || dt < r.best_s) r.best_s = dt;
    }
    r.maxrss_mib = bench_maxrss_mib();
    r.queue_mib = qb < 0 ? -1 : (double)qb / 1048576.0;
    bench_row_print(o->csv, &r);
  }
  if (!o->cancel) return;

  /* a random half to cancel: Fisher-Yates on 0..n-1, not timed */
  uint32_t *perm = xmalloc(n * sizeof *perm);
  sim_event_id *ids = xmalloc(n * sizeof *ids);
  bench_rng pr;
  bench_rng_seed(&pr, SEED + 1);
  for (uint64_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
  for (uint64_t i = n - 1; i > 0; i--) {
    uint64_t j = bench_rng_below(&pr, i + 1);
    uint32_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  uint64_t reps = o->ops > n ? o->ops / n : 1;
  bench_row rc = {"cancel", IMPL_LABEL, rng, n, reps * n, 0, 0, -1};
  for (int k = 0; k < o->runs; k++) {
    double dt = cancel_once(n, reps, perm, ids, o->use_gsl);
    if (k == 0 || dt < rc.best_s) rc.best_s = dt;
  }
  rc.maxrss_mib = bench_maxrss_mib();
  bench_row_print(o->csv, &rc);
  free(ids);
  free(perm);
}

static void usage(FILE *f)
{
  fputs("usage: bench_engine [--n N]... [--ops M] [--runs R] [--rng gsl|xoshiro]\n"
        "                    [--only hold|cancel] [--csv]\n"
        "  --n N     pending events (repeatable; default 1e3 1e4 1e5 1e6)\n"
        "  --ops M   hold operations timed per run (default 2e6)\n"
        "  --runs R  runs per row, best reported (default 3)\n"
        "  --rng     offsets from GSL taus2 via sim_rng_alloc and sim_dist (default) or\n"
        "            from the baselines' inline xoshiro256+\n"
        "  --only    run only the hold or only the cancel rows\n"
        "  --csv     CSV instead of an aligned table\n", f);
}

static void parse(options *o, int argc, char **argv)
{
  *o = (options){.ops = 2000000, .runs = 3, .use_gsl = true, .hold = true, .cancel = true};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has_val = i + 1 < argc;
    if (!strcmp(a, "--csv")) {
      o->csv = true;
    } else if (!strcmp(a, "--n") && has_val) {
      if (o->nsizes == 16) { fputs("--n: at most 16 sizes\n", stderr); exit(2); }
      o->sizes[o->nsizes++] = bench_parse_count(a, argv[++i]);
    } else if (!strcmp(a, "--ops") && has_val) {
      o->ops = bench_parse_count(a, argv[++i]);
    } else if (!strcmp(a, "--runs") && has_val) {
      o->runs = (int)bench_parse_count(a, argv[++i]);
    } else if (!strcmp(a, "--rng") && has_val) {
      const char *v = argv[++i];
      if (!strcmp(v, "gsl")) o->use_gsl = true;
      else if (!strcmp(v, "xoshiro")) o->use_gsl = false;
      else { fprintf(stderr, "--rng: expected gsl or xoshiro, got '%s'\n", v); exit(2); }
    } else if (!strcmp(a, "--only") && has_val) {
      const char *v = argv[++i];
      o->hold = !strcmp(v, "hold");
      o->cancel = !strcmp(v, "cancel");
      if (!o->hold && !o->cancel) {
        fprintf(stderr, "--only: expected hold or cancel, got '%s'\n", v);
        exit(2);
      }
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      exit(0);
    } else {
      fprintf(stderr, "bench_engine: bad argument '%s'\n", a);
      usage(stderr);
      exit(2);
    }
  }
  if (o->nsizes == 0) {
    static const uint64_t def[] = {1000, 10000, 100000, 1000000};
    memcpy(o->sizes, def, sizeof def);
    o->nsizes = 4;
  }
}

int main(int argc, char **argv)
{
  options o;
  parse(&o, argc, argv);
  bench_row_header(o.csv);
  for (int i = 0; i < o.nsizes; i++) bench_size(&o, o.sizes[i]);
  return 0;
}
