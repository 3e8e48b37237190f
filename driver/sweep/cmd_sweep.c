/* driver/sweep/cmd_sweep.c: `clustersim sweep`: options, checking every point
 * before anything runs, the results database (resume: items already in it
 * are skipped), running the rest on local cores or MPI ranks, a progress
 * bar, and sweep.csv. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "driver/commands/cli.h"
#include "driver/output/outfile.h"
#include "driver/plot/plot.h"
#include "driver/commands/runner.h"
#include "driver/config/scenario.h"
#include "driver/sweep/sweep.h"
#include "driver/sweep/sweep_run.h"
#include "sim/util.h"

typedef struct {
  const char *file;
  const char *outdir;
  char **sets;
  size_t nsets;
  bool have_seed;
  int64_t seed;
  int64_t max_input_bytes;
  bool quiet;
  int jobs;
  bool plot;
  sweep_spec spec;
} sweep_opts;

/* What a work item needs, in the recording process and in the workers. */
typedef struct {
  const sweep_opts *o;
  int64_t seed;             /* the scenario's master seed (or --seed) */
  char ***point_sets;       /* per point: the axes' --set texts */
  char **settings;          /* per point: "KEY=VALUE; ..." for the database */
  sweep_db *db;         /* recording process only */
  size_t total, done, failed;
  double t0;
  bool progress;
} sweep_ctx;

static void sweep_usage(FILE *f)
{
  fputs("Usage: clustersim sweep FILE.cfg --vary KEY=V1,V2,... [--vary KEY=A:B:STEP]...\n"
        "                        [--replications R] [-j N] [-o OUTDIR] [--set KEY=VALUE]...\n"
        "                        [--seed N] [--quiet]\n"
        "\n"
        "Run the scenario at every combination of the varied values (the Cartesian\n"
        "product), each R times with master seeds seed .. seed+R-1 (replication k of\n"
        "every point sees the same arrivals). KEY is a scenario path such as\n"
        "cluster.pools.[0].replicas, workload.arrivals.rate, scheduler.policy or\n"
        "cluster.pools.[0].gpu. The axes may also be given in the scenario:\n"
        "  sweep = { vary = ( { key = \"cluster.pools.[0].replicas\"; values = [2, 4, 8]; },\n"
        "                     { key = \"workload.arrivals.rate\"; from = 2.0; to = 10.0; step = 2.0; } );\n"
        "            replications = 3; };\n"
        "\n"
        "Results go to OUTDIR/sweep.db (SQLite), one row per point and replication,\n"
        "committed as each finishes: an interrupted sweep loses nothing, and running\n"
        "the same command again resumes it. OUTDIR/sweep.csv has one row per point: a\n"
        "column per varied key, then every metric as METRIC_mean and METRIC_ci95.\n"
        "Under `mpirun -np N clustersim sweep ...` the points are spread over the ranks.\n"
        "\n"
        "Options:\n"
        "      --vary KEY=V1,V2,...|KEY=A:B:STEP   a varied key (repeatable)\n"
        "  -r, --replications R   runs per point (default 1, or the sweep section's)\n"
        "  -j, --jobs N           points run at once on this machine (default: all cores)\n"
        "  -o, --output DIR       output directory (default: out/NAME-sweep)\n"
        "      --set KEY=VALUE    override a setting for every point (repeatable)\n"
        "      --seed N           master seed, overriding the scenario's\n"
        CFG_MAX_INPUT_HELP
        "  -q, --quiet            no progress bar or table\n"
        "      --plot             draw OUTDIR/plots/sweep_cost_latency.png and .svg (gnuplot)\n"
        "  -h, --help             this help\n",
        f);
}

static int parse_opts(int argc, char **argv, sweep_opts *o, cfg_errors *errs)
{
  enum { OPT_SEED = 1000, OPT_SET, OPT_VARY, OPT_PLOT, OPT_MAX_INPUT };
  static const struct option longopts[] = {
    {"vary", required_argument, NULL, OPT_VARY},        {"replications", required_argument, NULL, 'r'},
    {"jobs", required_argument, NULL, 'j'},             {"output", required_argument, NULL, 'o'},
    {"set", required_argument, NULL, OPT_SET},          {"seed", required_argument, NULL, OPT_SEED},
    {"quiet", no_argument, NULL, 'q'},                  {"plot", no_argument, NULL, OPT_PLOT},
    {"max-input-bytes", required_argument, NULL, OPT_MAX_INPUT},
    {"help", no_argument, NULL, 'h'},                   {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  sweep_spec_init(&o->spec);
  o->sets = xcalloc((size_t)argc, sizeof *o->sets);
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  o->jobs = cores > 0 ? (int)cores : 1;
  bool reps_set = false;
  int c;
  while ((c = getopt_long(argc, argv, "r:j:o:qh", longopts, NULL)) != -1) {
    char *end;
    long v;
    switch (c) {
    case OPT_VARY: sweep_add_vary(&o->spec, optarg, errs); break;
    case 'r':
      errno = 0;
      v = strtol(optarg, &end, 10);
      if (errno || *end || end == optarg || v < 1 || v > 10000) {
        fprintf(stderr, "clustersim sweep: --replications: expected an integer from 1 to 10000, got '%s'\n", optarg);
        return CMD_EXIT_USAGE;
      }
      o->spec.replications = (int)v;
      reps_set = true;
      break;
    case 'j':
      errno = 0;
      v = strtol(optarg, &end, 10);
      if (errno || *end || end == optarg || v < 1 || v > 4096) {
        fprintf(stderr, "clustersim sweep: --jobs: expected an integer from 1 to 4096, got '%s'\n", optarg);
        return CMD_EXIT_USAGE;
      }
      o->jobs = (int)v;
      break;
    case 'o': o->outdir = optarg; break;
    case OPT_SET: o->sets[o->nsets++] = optarg; break;
    case OPT_SEED: {
      errno = 0;
      long long s = strtoll(optarg, &end, 10);
      if (errno || *end || end == optarg || s < 0 || s > SIM_SEED_MAX) {
        fprintf(stderr, "clustersim sweep: --seed: expected an integer from 0 to %lld, got '%s'\n",
                (long long)SIM_SEED_MAX, optarg);
        return CMD_EXIT_USAGE;
      }
      o->seed = s;
      o->have_seed = true;
      break;
    }
    case 'q': o->quiet = true; break;
    case OPT_PLOT: o->plot = true; break;
    case OPT_MAX_INPUT:
      if (!cfg_parse_bytes(optarg, &o->max_input_bytes)) {
        fprintf(stderr, "clustersim sweep: --max-input-bytes: expected a number of bytes such as 1000000 or 64M, got '%s'\n",
                optarg);
        return CMD_EXIT_USAGE;
      }
      break;
    case 'h': sweep_usage(stdout); return -1;
    default: sweep_usage(stderr); return CMD_EXIT_USAGE;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "clustersim sweep: expected exactly one scenario file\n");
    sweep_usage(stderr);
    return CMD_EXIT_USAGE;
  }
  o->file = argv[optind];
  sweep_read_section(&o->spec, o->file, o->max_input_bytes, &reps_set, errs);
  return 0;
}

/* ---- identity of a sweep: what its results depend on ---- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ULL;
  return h;
}

static char *fingerprint(const sweep_opts *o, int64_t seed)
{
  uint64_t h = 1469598103934665603ULL;
  size_t len = 0;
  char *bytes = NULL;
  FILE *f = fopen(o->file, "rb");
  if (f) {
    size_t cap = 0;
    len = 0;
    for (;;) {
      if (len == cap) bytes = xrealloc(bytes, cap = cap ? 2 * cap : 65536);
      size_t got = fread(bytes + len, 1, cap - len, f);
      if (got == 0) break;
      len += got;
    }
    fclose(f);
    h = fnv(h, bytes, len);
    free(bytes);
  }
  for (size_t i = 0; i < o->nsets; i++) h = fnv(h, o->sets[i], strlen(o->sets[i]) + 1);
  h = fnv(h, &seed, sizeof seed);
  for (int a = 0; a < o->spec.naxes; a++) {
    const sweep_axis *ax = &o->spec.axes[a];
    h = fnv(h, ax->key, strlen(ax->key) + 1);
    for (int i = 0; i < ax->n; i++) h = fnv(h, ax->values[i], strlen(ax->values[i]) + 1);
  }
  char *s = xmalloc(40);
  snprintf(s, 40, "%016" PRIx64 "-v1", h);
  return s;
}

/* ---- one work item: (point, replication) = item / R, item % R ---- */

/* Base --set texts then the point's. */
static char **all_sets(const sweep_ctx *cx, size_t point, size_t *n)
{
  const sweep_opts *o = cx->o;
  *n = o->nsets + (size_t)o->spec.naxes;
  char **sets = xcalloc(*n + 1, sizeof *sets);
  for (size_t i = 0; i < o->nsets; i++) sets[i] = o->sets[i];
  for (int a = 0; a < o->spec.naxes; a++) sets[o->nsets + (size_t)a] = cx->point_sets[point][a];
  return sets;
}

/* Load the point's scenario; false with the messages in errs. */
static bool load_point(const sweep_ctx *cx, size_t point, const int64_t *seed, cfg_scenario *sc, cfg_errors *errs)
{
  size_t n;
  char **sets = all_sets(cx, point, &n);
  bool ok = cfg_scenario_load(sc, cx->o->file, &(cfg_load_opts){.sets = sets, .nsets = n, .seed = seed, .max_input_bytes = cx->o->max_input_bytes}, errs);
  free(sets);
  return ok;
}

static char *work(void *ctx, size_t item)
{
  sweep_ctx *cx = ctx;
  int R = cx->o->spec.replications;
  size_t point = item / (size_t)R;
  int k = (int)(item % (size_t)R);
  cfg_scenario sc;
  cfg_errors errs;
  cfg_errors_init(&errs, cx->o->file);
  char *text;
  int64_t seed = cx->seed + k;
  if (!load_point(cx, point, &seed, &sc, &errs)) {
    text = xstrdup(errs.len ? errs.msgs[0] : "!cannot load the scenario");
    if (text[0] != '!') {
      char *t = xmalloc(strlen(text) + 2);
      sprintf(t, "!%s", text);
      free(text);
      text = t;
    }
  } else {
    sim_report rep;
    run_replication(&sc, cx->seed + k, NULL, true, &rep);
    text = sweep_wire_encode(&rep);
    sim_report_release(&rep);
  }
  cfg_scenario_release(&sc);
  cfg_errors_release(&errs);
  return text;
}

static void progress(sweep_ctx *cx)
{
  if (!cx->progress) return;
  double el = 0;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  el = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 - cx->t0;
  int width = 30, fill = cx->total ? (int)((double)width * (double)cx->done / (double)cx->total) : width;
  char bar[64];
  for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
  bar[width] = '\0';
  double left = cx->done ? el / (double)cx->done * (double)(cx->total - cx->done) : NAN;
  if (isnan(left))
    fprintf(stderr, "\r[%s] %zu/%zu runs, %.0f s elapsed          ", bar, cx->done, cx->total, el);
  else
    fprintf(stderr, "\r[%s] %zu/%zu runs, %.0f s elapsed, ~%.0f s left   ", bar, cx->done, cx->total, el, left);
  fflush(stderr);
}

static void done(void *ctx, size_t item, const char *text, double wall)
{
  sweep_ctx *cx = ctx;
  int R = cx->o->spec.replications;
  size_t point = item / (size_t)R;
  int k = (int)(item % (size_t)R);
  cx->done++;
  if (text[0] == '!') {
    cx->failed++;
    if (cx->progress) fputc('\n', stderr);
    fprintf(stderr, "clustersim sweep: point %zu (%s), replication %d: %s\n", point, cx->settings[point], k + 1,
            text + 1);
  } else {
    sim_report rep;
    if (!sweep_wire_decode(text, &rep)) {
      cx->failed++;
      fprintf(stderr, "clustersim sweep: point %zu: malformed result from its worker\n", point);
    } else {
      const sim_metric *st = sim_report_get(&rep, "status");
      /* a run stopped by a signal is not a result: it runs again on resume */
      if (!(st && st->kind == SIM_VAL_STR && !strcmp(st->s, "interrupted")))
        if (!sweep_db_put(cx->db, point, k, cx->seed + k, cx->settings[point], &rep, wall)) cx->failed++;
      sim_report_release(&rep);
    }
  }
  progress(cx);
}

static char *join_sets(char **sets, int n)
{
  size_t len = 1;
  for (int i = 0; i < n; i++) len += strlen(sets[i]) + 2;
  char *s = xmalloc(len);
  s[0] = '\0';
  for (int i = 0; i < n; i++) {
    if (i) strcat(s, "; ");
    strcat(s, sets[i]);
  }
  return s;
}

int cmd_sweep(int argc, char **argv)
{
  int rank = 0, size = 1;
  bool mpi = sweep_mpi_start(&argc, &argv, &rank, &size);
  sweep_opts o;
  cfg_errors errs;
  cfg_errors_init(&errs, NULL);
  int rc = parse_opts(argc, argv, &o, &errs);
  errs.file = o.file;
  sweep_ctx cx = {.o = &o};
  size_t npoints = 0;
  char *outdir = NULL;
  if (rc == 0 && errs.len) rc = CMD_EXIT_USAGE;
  if (rc == 0 && o.spec.naxes == 0) {
    cfg_errors_add(&errs, "%s: nothing to vary: give --vary KEY=V1,V2,... or a sweep section", o.file);
    rc = CMD_EXIT_USAGE;
  }
  /* the scenario itself, with the common overrides */
  cfg_scenario base;
  memset(&base, 0, sizeof base);
  bool base_loaded = false;
  if (rc == 0) {
    base_loaded = true;
    if (!cfg_scenario_load(&base, o.file, &(cfg_load_opts){.sets = o.sets, .nsets = o.nsets, .seed = o.have_seed ? &o.seed : NULL, .max_input_bytes = o.max_input_bytes}, &errs)) {
      /* a point's values may be what makes it valid: try the first point */
      rc = -2;
    }
    cx.seed = o.have_seed ? o.seed : base.seed;
  }
  if (rc == 0 || rc == -2) {
    npoints = sweep_points(&o.spec);
    cx.point_sets = xcalloc(npoints, sizeof *cx.point_sets);
    cx.settings = xcalloc(npoints, sizeof *cx.settings);
    for (size_t p = 0; p < npoints; p++) {
      cx.point_sets[p] = sweep_point_sets(&o.spec, p);
      cx.settings[p] = join_sets(cx.point_sets[p], o.spec.naxes);
    }
    if (rc == -2) {
      cfg_scenario_release(&base);
      cfg_errors_release(&errs);
      cfg_errors_init(&errs, o.file);
      if (!load_point(&cx, 0, o.have_seed ? &o.seed : NULL, &base, &errs)) rc = CMD_EXIT_USAGE;
      else {
        rc = 0;
        cx.seed = o.have_seed ? o.seed : base.seed;
      }
    }
  }
  if (rc != 0) {
    if (rank == 0) {
      cfg_errors_print(&errs, stderr);
      if (rc == CMD_EXIT_USAGE && errs.len)
        fprintf(stderr, "clustersim: %s: %zu error%s; nothing was simulated\n", o.file ? o.file : "sweep", errs.len,
                errs.len == 1 ? "" : "s");
    }
    cfg_errors_release(&errs);
    goto out;
  }
  cfg_errors_release(&errs);

  /* workers (MPI ranks > 0) only run what rank 0 hands out */
  if (mpi && rank > 0) {
    sweep_mpi_run(rank, NULL, 0, work, done, &cx);
    rc = 0;
    goto out;
  }

  outdir = run_outdir(o.outdir, base.name, "-sweep");
  if (!out_mkdirs(outdir)) {
    fprintf(stderr, "clustersim sweep: %s: cannot create output directory: %s\n", outdir, strerror(errno));
    rc = CMD_EXIT_USAGE;
    if (mpi) sweep_mpi_run(0, NULL, 0, work, done, &cx);
    goto out;
  }
  char *fp = fingerprint(&o, cx.seed);
  char dbpath[4096], csvpath[4096];
  snprintf(dbpath, sizeof dbpath, "%s/sweep.db", outdir);
  snprintf(csvpath, sizeof csvpath, "%s/sweep.csv", outdir);
  cfg_errors_init(&errs, NULL);
  cx.db = sweep_db_open(dbpath, fp, &errs);
  free(fp);
  if (!cx.db) {
    cfg_errors_print(&errs, stderr);
    cfg_errors_release(&errs);
    rc = CMD_EXIT_USAGE;
    if (mpi) sweep_mpi_run(0, NULL, 0, work, done, &cx);
    goto out;
  }
  cfg_errors_release(&errs);

  /* every point is checked before anything runs: one that cannot load is
   * recorded as invalid (with its first error) and skipped */
  int R = o.spec.replications;
  size_t *items = xmalloc(npoints * (size_t)R * sizeof *items);
  size_t nitems = 0, invalid = 0, already = 0;
  for (size_t p = 0; p < npoints; p++) {
    cfg_scenario sc;
    cfg_errors_init(&errs, o.file);
    bool ok = load_point(&cx, p, &cx.seed, &sc, &errs);
    if (!ok) {
      invalid++;
      fprintf(stderr, "clustersim sweep: point %zu (%s) is invalid:\n", p, cx.settings[p]);
      cfg_errors_print(&errs, stderr);
      sweep_db_put_invalid(cx.db, p, cx.settings[p], errs.len ? errs.msgs[0] : "invalid");
    }
    cfg_scenario_release(&sc);
    cfg_errors_release(&errs);
    if (!ok) continue;
    for (int k = 0; k < R; k++) {
      if (sweep_db_done(cx.db, p, k))
        already++;
      else
        items[nitems++] = p * (size_t)R + (size_t)k;
    }
  }
  if (invalid == npoints) {
    fprintf(stderr, "clustersim sweep: every point is invalid; nothing was simulated\n");
    rc = CMD_EXIT_USAGE;
    free(items);
    if (mpi) sweep_mpi_run(0, NULL, 0, work, done, &cx);
    goto out_db;
  }
  cx.total = nitems;
  cx.progress = !o.quiet && isatty(STDERR_FILENO);
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  cx.t0 = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
  if (!o.quiet)
    fprintf(stderr, "clustersim sweep: %zu points x %d replication%s: %zu runs to do, %zu already in %s%s\n",
            npoints - invalid, R, R == 1 ? "" : "s", nitems, already, dbpath,
            mpi ? "" : "");
  progress(&cx);
  if (mpi)
    sweep_mpi_run(0, items, nitems, work, done, &cx);
  else
    sweep_pool_run(o.jobs, items, nitems, work, done, &cx);
  if (cx.progress) fputc('\n', stderr);
  free(items);
  int stopped = sweep_pool_stopped();

  long rows = sweep_export_csv(cx.db, &o.spec, csvpath);
  if (rows < 0) rc = CMD_EXIT_FAIL;
  if (!o.quiet) {
    printf("sweep: %s: %ld of %zu points complete", csvpath, rows, npoints);
    if (invalid) printf(" (%zu invalid)", invalid);
    printf("\n");
  }
  if (!stopped && rows > 0 && o.plot && !plot_dir(outdir, NULL, o.quiet)) rc = CMD_EXIT_FAIL;
  if (stopped) {
    fprintf(stderr,
            "clustersim sweep: interrupted: %zu of %zu runs done now; run the same command again to resume\n",
            cx.done, cx.total);
    rc = 128 + stopped;
  } else if (cx.failed) {
    fprintf(stderr, "clustersim sweep: %zu run%s failed\n", cx.failed, cx.failed == 1 ? "" : "s");
    rc = CMD_EXIT_FAIL;
  }
out_db:
  sweep_db_close(cx.db);
out:
  if (npoints && cx.point_sets) {
    for (size_t p = 0; p < npoints; p++) {
      sweep_free_sets(cx.point_sets[p], o.spec.naxes);
      free(cx.settings[p]);
    }
  }
  free(cx.point_sets);
  free(cx.settings);
  free(outdir);
  if (base_loaded) cfg_scenario_release(&base);
  sweep_spec_release(&o.spec);
  free(o.sets);
  if (mpi) sweep_mpi_finish();
  return rc < 0 ? CMD_EXIT_OK : rc;
}
