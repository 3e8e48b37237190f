/* sim/cmd_run.c: `clustersim run` and `clustersim check`: options, loading
 * the scenario, running the engine with the scenario's components, and
 * writing summary.json (atomically) plus a table on standard output. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/cli.h"
#include "sim/json.h"
#include "sim/outfile.h"
#include "sim/scenario.h"
#include "sim/util.h"

typedef struct {
  const char *file;
  const char *outdir;
  char **sets;
  size_t nsets;
  bool have_seed;
  int64_t seed;
  bool quiet;
  int replications;
} run_opts;

static void run_usage(FILE *f, bool check)
{
  if (check)
    fputs("Usage: clustersim check FILE.cfg [--set KEY=VALUE]... [--seed N]\n"
          "\n"
          "Load and validate a scenario, report every problem (file:line: key: what is\n"
          "wrong) and exit 2 if there is one, 0 if it is ready to run.\n",
          f);
  else
    fputs("Usage: clustersim run FILE.cfg [-o OUTDIR] [--seed N] [--set KEY=VALUE]... [-r R] [-q]\n"
          "\n"
          "Simulate a scenario. Writes OUTDIR/summary.json (every metric, units in the\n"
          "key names) and prints the same as a table.\n",
          f);
  fputs("\nOptions:\n", f);
  if (!check)
    fputs("  -o, --output DIR   output directory (default: out/NAME, NAME the scenario's name)\n"
          "  -r, --replications R\n"
          "                     run R independent replications (master seeds seed .. seed+R-1):\n"
          "                     summary.json holds each metric's mean and KEY_ci95, the half-width\n"
          "                     of its 95% confidence interval; replications.csv one row per run;\n"
          "                     time series and per-request rows come from the first\n"
          "  -q, --quiet        print no table\n",
          f);
  fputs("      --seed N       master seed, overriding the scenario's `seed`\n"
        "      --set KEY=VALUE\n"
        "                     override a setting by its path, e.g. --set queue.servers=16,\n"
        "                     --set queue.arrivals.rate_per_s=7.5; repeatable; checked as\n"
        "                     if written in the file\n"
        "  -h, --help         this help\n",
        f);
}

static bool parse_seed(const char *s, int64_t *out)
{
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end || v < 0 || v > SIM_SEED_MAX) return false;
  *out = v;
  return true;
}

/* 0 on success (opts filled), else an exit status. */
static int parse_opts(int argc, char **argv, bool check, run_opts *o)
{
  enum { OPT_SEED = 1000, OPT_SET };
  static const struct option run_long[] = {
    {"output", required_argument, NULL, 'o'}, {"seed", required_argument, NULL, OPT_SEED},
    {"replications", required_argument, NULL, 'r'},
    {"set", required_argument, NULL, OPT_SET}, {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
  static const struct option check_long[] = {
    {"seed", required_argument, NULL, OPT_SEED}, {"set", required_argument, NULL, OPT_SET},
    {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  o->replications = 1;
  o->sets = xcalloc((size_t)argc, sizeof *o->sets);
  int c;
  while ((c = getopt_long(argc, argv, check ? "h" : "o:r:qh", check ? check_long : run_long, NULL)) != -1) {
    switch (c) {
    case 'o': o->outdir = optarg; break;
    case 'q': o->quiet = true; break;
    case 'r': {
      char *end;
      errno = 0;
      long v = strtol(optarg, &end, 10);
      if (errno || end == optarg || *end || v < 1 || v > 10000) {
        fprintf(stderr, "clustersim: --replications: expected an integer from 1 to 10000, got '%s'\n", optarg);
        return SIM_EXIT_USAGE;
      }
      o->replications = (int)v;
      break;
    }
    case OPT_SEED:
      if (!parse_seed(optarg, &o->seed)) {
        fprintf(stderr, "clustersim: --seed: expected an integer from 0 to %lld, got '%s'\n",
                (long long)SIM_SEED_MAX, optarg);
        return SIM_EXIT_USAGE;
      }
      o->have_seed = true;
      break;
    case OPT_SET: o->sets[o->nsets++] = optarg; break;
    case 'h': run_usage(stdout, check); return -1;
    default: run_usage(stderr, check); return SIM_EXIT_USAGE;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "clustersim %s: expected exactly one scenario file\n", check ? "check" : "run");
    run_usage(stderr, check);
    return SIM_EXIT_USAGE;
  }
  o->file = argv[optind];
  return 0;
}

static int load(const run_opts *o, sim_scenario *sc)
{
  sim_errors errs;
  sim_errors_init(&errs, o->file);
  bool ok = sim_scenario_load(sc, o->file, o->sets, o->nsets, o->have_seed ? &o->seed : NULL, &errs);
  sim_errors_print(&errs, stderr);
  if (!ok)
    fprintf(stderr, "clustersim: %s: %zu error%s; nothing was simulated\n", o->file, errs.len,
            errs.len == 1 ? "" : "s");
  sim_errors_release(&errs);
  return ok ? 0 : SIM_EXIT_USAGE;
}

/* Options, then the scenario. True when sc is loaded and valid (release it
 * and o.sets after use); otherwise both are released and *status is the
 * exit status (0 after --help). */
static bool prepare(int argc, char **argv, bool check, run_opts *o, sim_scenario *sc, int *status)
{
  int rc = parse_opts(argc, argv, check, o);
  if (rc == 0) {
    rc = load(o, sc);
    if (rc == 0) return true;
    sim_scenario_release(sc);
  }
  free(o->sets);
  *status = rc < 0 ? SIM_EXIT_OK : rc;
  return false;
}

int sim_cmd_check(int argc, char **argv)
{
  run_opts o;
  sim_scenario sc;
  int status;
  if (!prepare(argc, argv, true, &o, &sc, &status)) return status;
  printf("%s: ok (scenario \"%s\", %zu component%s)\n", o.file, sc.name, sc.nparts,
         sc.nparts == 1 ? "" : "s");
  sim_scenario_release(&sc);
  free(o.sets);
  return SIM_EXIT_OK;
}

/* ---- running ---- */

static sim_engine *volatile running_engine;
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
  stop_signal = sig;
  if (running_engine) sim_request_stop(running_engine);
}

static double wall_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void print_table(FILE *f, const sim_scenario *sc, const sim_report *r)
{
  fprintf(f, "clustersim %s: scenario %s, seed %" PRId64 "\n", CLUSTERSIM_VERSION, sc->name, sc->seed);
  sim_text_report(f, r, 46);
}

static bool write_summary(const char *outdir, const sim_report *rep)
{
  size_t n = strlen(outdir) + 32;
  char *path = xmalloc(n);
  snprintf(path, n, "%s/summary.json", outdir);
  sim_outfile of;
  bool ok = sim_outfile_open(&of, path);
  if (ok) {
    sim_json_report(of.f, rep);
    ok = sim_outfile_commit(&of);
  }
  if (!ok) fprintf(stderr, "clustersim: %s: cannot write: %s\n", path, strerror(errno));
  free(path);
  return ok;
}

/* ---- tables components open (OUTDIR/NAME.csv, committed after the run) ---- */

enum { MAX_TABLES = 16 };

typedef struct {
  const char *outdir;
  int n;
  sim_outfile files[MAX_TABLES];
  sim_table tables[MAX_TABLES];
  bool failed;
} run_tables;

static sim_table *open_table(const sim_component_env *env, const char *name, const char *const *columns,
                             int ncolumns)
{
  run_tables *rt = env->priv;
  if (rt->n == MAX_TABLES) SIM_BUG("more than %d output tables", MAX_TABLES);
  size_t n = strlen(rt->outdir) + strlen(name) + 8;
  char *path = xmalloc(n);
  snprintf(path, n, "%s/%s.csv", rt->outdir, name);
  sim_outfile *of = &rt->files[rt->n];
  if (!sim_outfile_open(of, path)) {
    fprintf(stderr, "clustersim: %s: cannot write: %s\n", path, strerror(errno));
    rt->failed = true;
    free(path);
    /* rows still go somewhere harmless so the run is unaffected */
    of->f = fopen("/dev/null", "w");
    of->path = of->tmp = NULL;
    if (!of->f) SIM_BUG("cannot open /dev/null");
  } else {
    free(path);
  }
  sim_table *t = &rt->tables[rt->n++];
  sim_table_begin(t, of->f, columns, ncolumns);
  return t;
}

/* Commit every table (or discard them all if one could not be opened). */
static bool close_tables(run_tables *rt, bool quiet)
{
  bool ok = !rt->failed;
  for (int i = 0; i < rt->n; i++) {
    sim_outfile *of = &rt->files[i];
    if (!of->path) {
      fclose(of->f);
      continue;
    }
    char *path = xstrdup(of->path);
    if (!ok) {
      sim_outfile_abort(of);
    } else if (!sim_outfile_commit(of)) {
      fprintf(stderr, "clustersim: %s: cannot write: %s\n", path, strerror(errno));
      ok = false;
    } else if (!quiet) {
      printf("%s: %s (%" PRIu64 " rows)\n", i == 0 ? "tables" : "      ", path, rt->tables[i].rows);
    }
    free(path);
  }
  return ok;
}

/* One run of sc with master seed `seed`: components created, the engine
 * run (interruptible), their metrics appended to rep (initialised here).
 * tables: where components' output tables go, or NULL for none. */
static sim_run_result run_once(const sim_scenario *sc, int64_t seed, run_tables *tables, bool quiet,
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

/* OUTDIR/replications.csv: one row per replication, a column per numeric
 * metric (in the order of the first replication). */
static bool write_replications(const char *outdir, const sim_report *reps, int n)
{
  size_t len = strlen(outdir) + 32;
  char *path = xmalloc(len);
  snprintf(path, len, "%s/replications.csv", outdir);
  sim_outfile of;
  bool ok = sim_outfile_open(&of, path);
  if (ok) {
    const sim_report *r0 = &reps[0];
    const char **cols = xmalloc((r0->len + 1) * sizeof *cols);
    sim_cell *cells = xmalloc((r0->len + 1) * sizeof *cells);
    int ncols = 0;
    cols[ncols++] = "replication";
    for (size_t i = 0; i < r0->len; i++)
      if (r0->items[i].kind != SIM_VAL_STR || !strcmp(r0->items[i].key, "status")) cols[ncols++] = r0->items[i].key;
    sim_table t;
    sim_table_begin(&t, of.f, cols, ncols);
    for (int k = 0; k < n; k++) {
      cells[0] = (sim_cell){NULL, k + 1};
      for (int c = 1; c < ncols; c++) {
        const sim_metric *m = sim_report_get(&reps[k], cols[c]);
        cells[c] = !m                         ? (sim_cell){NULL, NAN}
                   : m->kind == SIM_VAL_STR   ? (sim_cell){m->s, 0}
                   : m->kind == SIM_VAL_INT   ? (sim_cell){NULL, (double)m->i}
                                              : (sim_cell){NULL, m->x};
      }
      sim_table_row(&t, cells);
    }
    free(cols);
    free(cells);
    ok = sim_outfile_commit(&of);
  }
  if (!ok) fprintf(stderr, "clustersim: %s: cannot write: %s\n", path, strerror(errno));
  free(path);
  return ok;
}

int sim_cmd_run(int argc, char **argv)
{
  run_opts o;
  sim_scenario sc;
  int status;
  if (!prepare(argc, argv, false, &o, &sc, &status)) return status;
  char *outdir;
  if (o.outdir) {
    outdir = xstrdup(o.outdir);
  } else {
    size_t n = strlen(sc.name) + 8;
    outdir = xmalloc(n);
    snprintf(outdir, n, "out/%s", sc.name);
  }
  if (!sim_mkdirs(outdir)) {
    fprintf(stderr, "clustersim: %s: cannot create output directory: %s\n", outdir, strerror(errno));
    sim_scenario_release(&sc);
    free(o.sets);
    free(outdir);
    return SIM_EXIT_USAGE;
  }

  /* replication k runs with master seed + k; the first writes the tables */
  int R = o.replications;
  sim_report *reps = xcalloc((size_t)R, sizeof *reps);
  run_tables tables = {.outdir = outdir};
  sim_run_result why = SIM_RUN_EMPTY;
  int done = 0;
  for (int k = 0; k < R; k++) {
    why = run_once(&sc, sc.seed + k, k == 0 ? &tables : NULL, o.quiet, &reps[k]);
    done++;
    if (why == SIM_RUN_STOPPED) break;
  }
  sim_report combined, *rep = &reps[0];
  if (R > 1) {
    /* means and intervals; then the seeds and the status of the whole set */
    sim_report_init(&combined);
    sim_report tmp;
    sim_report_combine(reps, (size_t)done, &tmp);
    for (size_t i = 0; i < tmp.len; i++) {
      const sim_metric *m = &tmp.items[i];
      if (!strcmp(m->key, "seed")) {
        sim_report_int(&combined, "seed", sc.seed, "master seed of the first replication");
        sim_report_int(&combined, "replications", done, "replications (seeds seed .. seed + n - 1)");
      } else if (!strcmp(m->key, "seed_ci95")) {
        continue;
      } else if (!strcmp(m->key, "status")) {
        sim_report_str(&combined, "status", why == SIM_RUN_STOPPED ? "interrupted" : m->s, m->label);
      } else if (m->kind == SIM_VAL_STR) {
        sim_report_str(&combined, m->key, m->s, m->label);
      } else {
        sim_report_num(&combined, m->key, m->x, m->label);
      }
    }
    sim_report_release(&tmp);
    rep = &combined;
  }

  if (!o.quiet) print_table(stdout, &sc, rep);
  bool ok = close_tables(&tables, o.quiet);
  if (R > 1) ok = write_replications(outdir, reps, done) && ok;
  ok = write_summary(outdir, rep) && ok;
  if (!o.quiet && ok) printf("summary: %s/summary.json\n", outdir);
  if (R > 1) sim_report_release(&combined);
  for (int k = 0; k < done; k++) sim_report_release(&reps[k]);
  free(reps);
  sim_scenario_release(&sc);
  free(o.sets);
  free(outdir);
  if (!ok) return SIM_EXIT_FAIL;
  /* interrupted: 128 + the signal, as a shell reports it (130 for Ctrl-C) */
  return why == SIM_RUN_STOPPED ? 128 + (stop_signal ? stop_signal : SIGINT) : SIM_EXIT_OK;
}
