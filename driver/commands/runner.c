/* driver/commands/runner.c: running a loaded scenario (see runner.h). */
#include "driver/commands/runner.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver/output/json.h"
#include "driver/output/outfile.h"
#include "driver/plot/plot.h"
#include "sim/table.h"
#include "sim/util.h"


static sim_engine *volatile running_engine;
static volatile sig_atomic_t stop_signal;

int run_stop_signal(void) { return stop_signal; }

static void on_signal(int sig)
{
  stop_signal = sig;
  if (running_engine) sim_request_stop(running_engine);
  /* and the engines the run's models start of their own (the serving
   * saturation probe) */
  sim_request_stop_all();
}

static double wall_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Whether item i of r is the confidence interval of item i - 1 (KEY_ci95
 * after KEY, as run_combine writes them). */
static bool is_ci_of_previous(const sim_report *r, size_t i)
{
  if (i == 0) return false;
  const char *key = r->items[i].key, *prev = r->items[i - 1].key;
  size_t n = strlen(prev);
  return !strncmp(key, prev, n) && !strcmp(key + n, "_ci95");
}

void run_print_table(FILE *f, const cfg_scenario *sc, const sim_report *r)
{
  fprintf(f, "clustersim %s: scenario %s, seed %" PRId64 "\n", CLUSTERSIM_VERSION, sc->name, sc->seed);
  /* a view of r without the intervals of metrics that did not vary (a
   * half-width of 0, or none with fewer than two values); the metrics
   * themselves stay r's */
  sim_report view = {.items = xmalloc((r->len + 1) * sizeof *view.items)};
  size_t hidden = 0;
  for (size_t i = 0; i < r->len; i++) {
    const sim_metric *m = &r->items[i];
    if (is_ci_of_previous(r, i) && m->kind == SIM_VAL_NUM && !(isfinite(m->x) && m->x != 0)) {
      hidden++;
      continue;
    }
    view.items[view.len++] = *m;
  }
  out_text_report(f, &view, 46);
  if (hidden)
    fprintf(f, "  (95%% confidence intervals shown for the metrics that varied between the replications; "
               "summary.json has all)\n");
  free(view.items); /* the strings are r's */
}

/* summary.json's text */
static void write_summary(FILE *f, const sim_report *rep) { out_json_report(f, rep); }

/* replications.csv: one row per replication, a column per numeric metric
 * and status (in the order of the first replication). */
static void write_replications(FILE *f, const sim_report *reps, int n)
{
  const sim_report *r0 = &reps[0];
  const char **cols = xmalloc((r0->len + 1) * sizeof *cols);
  sim_cell *cells = xmalloc((r0->len + 1) * sizeof *cells);
  int ncols = 0;
  cols[ncols++] = "replication";
  for (size_t i = 0; i < r0->len; i++)
    if (r0->items[i].kind != SIM_VAL_STR || !strcmp(r0->items[i].key, "status")) cols[ncols++] = r0->items[i].key;
  sim_table t;
  sim_table_begin(&t, f, cols, ncols);
  for (int k = 0; k < n; k++) {
    cells[0] = (sim_cell){NULL, k + 1};
    for (int c = 1; c < ncols; c++) {
      const sim_metric *m = sim_report_get(&reps[k], cols[c]);
      cells[c] = !m                       ? (sim_cell){NULL, NAN}
                 : m->kind == SIM_VAL_STR ? (sim_cell){m->s, 0}
                 : m->kind == SIM_VAL_INT ? (sim_cell){NULL, (double)m->i}
                                          : (sim_cell){NULL, m->x};
    }
    sim_table_row(&t, cells);
  }
  free(cols);
  free(cells);
}

/* One file OUTDIR/name written by fill, atomically on its own. */
static bool write_alone(const char *outdir, const char *name, const void *arg, int n,
                        void (*fill)(FILE *, const void *, int))
{
  size_t len = strlen(outdir) + strlen(name) + 2;
  char *path = xmalloc(len);
  snprintf(path, len, "%s/%s", outdir, name);
  out_file of;
  bool ok = out_file_open(&of, path);
  if (ok) {
    fill(of.f, arg, n);
    ok = out_file_commit(&of);
  }
  if (!ok) fprintf(stderr, "clustersim: %s: cannot write: %s\n", path, strerror(errno));
  free(path);
  return ok;
}

static void fill_summary(FILE *f, const void *rep, int n) { (void)n, write_summary(f, rep); }
static void fill_replications(FILE *f, const void *reps, int n) { write_replications(f, reps, n); }

bool run_write_summary(const char *outdir, const sim_report *rep)
{
  return write_alone(outdir, "summary.json", rep, 1, fill_summary);
}

bool run_write_replications(const char *outdir, const sim_report *reps, int n)
{
  return write_alone(outdir, "replications.csv", reps, n, fill_replications);
}

/* ---- a run's output set: the tables components open (OUTDIR/NAME.csv),
 * replications.csv, summary.json; replaced together (out_set) ---- */

enum { MAX_TABLES = 16 };

struct run_tables {
  char *outdir;
  out_set *set;
  int n;
  char *names[MAX_TABLES];   /* file names in OUTDIR */
  FILE *sinks[MAX_TABLES];   /* /dev/null for a table that could not be opened */
  sim_table tables[MAX_TABLES];
};

run_tables *run_tables_alloc(const char *outdir)
{
  run_tables *rt = xcalloc(1, sizeof *rt);
  rt->outdir = xstrdup(outdir);
  rt->set = out_set_alloc(outdir, "clustersim: ");
  return rt;
}

static sim_table *open_table(const sim_component_env *env, const char *name, const char *const *columns,
                             int ncolumns)
{
  run_tables *rt = env->priv;
  if (rt->n == MAX_TABLES) SIM_BUG("more than %d output tables", MAX_TABLES);
  size_t n = strlen(name) + strlen(env->name) + 8;
  char *file = xmalloc(n);
  snprintf(file, n, "%s.csv", name);
  /* two components in one scenario may both write a table of this name:
   * the second one's gets its component's name in front */
  if (out_set_has(rt->set, file)) snprintf(file, n, "%s_%s.csv", env->name, name);
  FILE *f = out_set_open(rt->set, file); /* a failure is reported there */
  if (!f) {
    /* rows still go somewhere harmless so the run is unaffected; nothing
     * will be committed */
    f = rt->sinks[rt->n] = fopen("/dev/null", "w");
    if (!f) SIM_BUG("cannot open /dev/null");
  }
  rt->names[rt->n] = file;
  sim_table *t = &rt->tables[rt->n++];
  sim_table_begin(t, f, columns, ncolumns);
  return t;
}

/* The table listing, after a commit. */
static void print_tables(const run_tables *rt)
{
  for (int i = 0; i < rt->n; i++)
    printf("%s: %s/%s (%" PRIu64 " rows)\n", i == 0 ? "tables" : "      ", rt->outdir, rt->names[i],
           rt->tables[i].rows);
}

static void tables_free(run_tables *rt)
{
  for (int i = 0; i < rt->n; i++) {
    if (rt->sinks[i]) fclose(rt->sinks[i]);
    free(rt->names[i]);
  }
  free(rt->outdir);
  free(rt);
}

bool run_tables_close(run_tables *rt, bool quiet)
{
  bool ok = out_set_commit(rt->set, NULL, NULL, NULL);
  if (ok && !quiet) print_tables(rt);
  tables_free(rt);
  return ok;
}

/* What a run's outputs replace besides the previous manifest's files:
 * the tables 0.1.0 wrote (which kept no manifest), replications.csv, and
 * the pictures drawn from a run's files. */
static const char *const *stale_names(void)
{
  static const char *names[64];
  if (!names[0]) {
    static const char *const fixed[] = {"replications.csv", "timeseries.csv", "latency_cdf.csv", "requests.csv",
                                        "jobs.csv", "phases.csv", NULL};
    int n = 0;
    for (const char *const *p = fixed; *p; p++) names[n++] = *p;
    for (const char *const *p = plot_run_files(); *p && n < 63; p++) names[n++] = *p;
    names[n] = NULL;
  }
  return names;
}

bool run_commit(run_tables *rt, const sim_report *reps, int n, const sim_report *rep, bool quiet)
{
  if (reps) {
    FILE *f = out_set_open(rt->set, "replications.csv");
    if (f) write_replications(f, reps, n);
  }
  FILE *f = out_set_open(rt->set, "summary.json");
  if (f) write_summary(f, rep);
  bool ok = out_set_commit(rt->set, "summary.json", RUN_MANIFEST, stale_names());
  if (ok && !quiet) print_tables(rt);
  tables_free(rt);
  return ok;
}

/* One run of sc with master seed `seed`: components created, the engine
 * run (interruptible), their metrics appended to rep (initialised here).
 * tables: where components' output tables go, or NULL for none. */
sim_run_result run_replication(const cfg_scenario *sc, int64_t seed, run_tables *tables, bool quiet,
                               sim_report *rep)
{
  sim_engine *eng = sim_engine_alloc();
  if (sc->warmup_s > 0) sim_set_warmup(eng, sim_time_from_s(sc->warmup_s));
  void *inst[SIM_SCENARIO_MAX_COMPONENTS];
  for (size_t i = 0; i < sc->nparts; i++) {
    sim_component_env env = {.eng = eng, .seed = (uint64_t)seed, .name = sc->parts[i].type->name,
                             .cats = sc->cats, .open_table = tables ? open_table : NULL, .priv = tables};
    inst[i] = sc->parts[i].type->create(sc->parts[i].params, &env);
  }

  struct sigaction sa, old_int, old_term;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  running_engine = eng;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  double t0 = wall_now();
  sim_run_result why = stop_signal ? SIM_RUN_STOPPED
                                   : sim_run(eng, sc->horizon_s > 0 ? sim_time_from_s(sc->horizon_s) : SIM_TIME_MAX);
  double wall = wall_now() - t0;
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  running_engine = NULL;

  if (sc->warmup_s > 0 && sim_now(eng) < sim_time_from_s(sc->warmup_s))
    fprintf(stderr,
            "clustersim: warning: the run ended at %g s, inside the warm-up (warmup_s = %g): "
            "nothing was measured\n",
            sim_time_to_s(sim_now(eng)), sc->warmup_s);
  const char *run_status = why == SIM_RUN_STOPPED ? "interrupted" : why == SIM_RUN_UNTIL ? "horizon" : "complete";
  sim_report_init(rep);
  sim_report_str(rep, "scenario", sc->name, "scenario");
  sim_report_str(rep, "clustersim_version", CLUSTERSIM_VERSION, "clustersim version");
  sim_report_int(rep, "seed", seed, "master seed");
  sim_report_str(rep, "status", run_status, "run status (complete, horizon, interrupted)");
  sim_report_num(rep, "warmup_s", sc->warmup_s, "warm-up excluded from statistics (s)");
  sim_report_num(rep, "sim_time_s", sim_time_to_s(sim_now(eng)), "simulated time (s)");
  sim_report_int(rep, "events", (int64_t)sim_events_fired(eng), "events executed");
  for (size_t i = 0; i < sc->nparts; i++) sc->parts[i].type->report(inst[i], eng, rep);
  if (!quiet)
    fprintf(stderr, "%" PRIu64 " events in %.3f s wall (%.3g events/s)\n", sim_events_fired(eng), wall,
            wall > 0 ? (double)sim_events_fired(eng) / wall : 0.0);
  for (size_t i = 0; i < sc->nparts; i++) sc->parts[i].type->destroy(inst[i]);
  sim_engine_free(eng);
  return why;
}

void run_combine(const sim_report *reps, int n, int64_t first_seed, bool interrupted, sim_report *out)
{
  sim_report tmp;
  sim_report_combine(reps, (size_t)n, &tmp);
  sim_report_init(out);
  for (size_t i = 0; i < tmp.len; i++) {
    const sim_metric *m = &tmp.items[i];
    if (!strcmp(m->key, "seed")) {
      sim_report_int(out, "seed", first_seed, "master seed of the first replication");
      sim_report_int(out, "replications", n, "replications (seeds seed .. seed + n - 1)");
    } else if (!strcmp(m->key, "seed_ci95")) {
      continue;
    } else if (!strcmp(m->key, "status")) {
      sim_report_str(out, "status", interrupted ? "interrupted" : m->s, m->label);
    } else if (m->kind == SIM_VAL_STR) {
      sim_report_str(out, m->key, m->s, m->label);
    } else {
      sim_report_num(out, m->key, m->x, m->label);
    }
  }
  sim_report_release(&tmp);
}

char *run_outdir(const char *given, const char *name, const char *suffix)
{
  if (given) return xstrdup(given);
  size_t n = strlen(name) + strlen(suffix) + 8;
  char *d = xmalloc(n);
  snprintf(d, n, "out/%s%s", name, suffix);
  return d;
}
