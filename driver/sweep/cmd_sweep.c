/* driver/sweep/cmd_sweep.c: `clustersim sweep`: options, the point count
 * (checked before anything is allocated), checking every point before
 * anything runs, the sweep's identity and its database (resume only when
 * nothing a result depends on changed; --restart), claiming items through
 * the database so that several processes can share one sweep, running
 * them on local cores or MPI ranks, a progress bar, sweep.csv and the
 * table. */
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
#include "driver/commands/runner.h"
#include "driver/config/scenario.h"
#include "driver/output/outfile.h"
#include "driver/plot/plot.h"
#include "driver/sweep/sweep.h"
#include "driver/sweep/sweep_run.h"
#include "sim/util.h"

/* Largest --max-points (points x replications must stay far from 2^63). */
#define SWEEP_MAX_POINTS_LIMIT ((size_t)1000000000000)

typedef struct {
  const char *file;
  const char *outdir;
  char **sets;
  size_t nsets;
  char **catalogs;   /* --catalog FILE, in order, for every point */
  size_t ncatalogs;
  bool have_seed;
  int64_t seed;
  int64_t max_input_bytes;
  bool quiet;
  int jobs;
  bool plot;
  bool restart;
  size_t max_points;
  char **metrics;   /* --metrics, split (owned), or NULL */
  int nmetrics;
  sweep_spec spec;
} sweep_opts;

/* A point that cannot load, and why (its first message). */
typedef struct {
  size_t point;
  char *error;
} invalid_point;

/* What the work items need, in the recording process and in the workers. */
typedef struct {
  const sweep_opts *o;
  int64_t seed;             /* the scenario's master seed (or --seed) */
  size_t npoints, nitems;   /* items: npoints x R, item = point x R + replication */
  unsigned char *invalid;   /* per point (recording process) */
  sweep_ident id;           /* recording process */
  sweep_db *db;             /* recording process */
  /* claiming: the next item to look at, and items other processes run */
  size_t cursor;
  size_t *later;
  size_t nlater, caplater;
  bool gone, said_wait;
  /* counts */
  size_t total, done, failed, recorded, already, others, dups;
  double t0, others_at;
  bool progress;
} sweep_ctx;

static void sweep_usage(FILE *f)
{
  fputs("Usage: clustersim sweep FILE.cfg --vary KEY=V1,V2,... [--vary KEY=A:B:STEP]...\n"
        "                        [--replications R] [-j N] [-o OUTDIR] [--set KEY=VALUE]...\n"
        "                        [--seed N] [--catalog FILE]... [--metrics M1,M2,...]\n"
        "                        [--max-points N] [--restart] [--quiet] [--plot]\n"
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
        "the same command again resumes it - only if nothing a result depends on has\n"
        "changed: the scenario and every file it reads (@include, catalogs, traces, by\n"
        "content), --set, the seed, the axes and the program's version; otherwise it\n"
        "says what changed and stops (--restart discards the old results). Two sweeps\n"
        "started on one OUTDIR share the work: each run is done once, and both end\n"
        "with the whole sweep.csv. OUTDIR/sweep.csv has one row per point: a column\n"
        "per varied key, then every metric as METRIC_mean and METRIC_ci95; a table of\n"
        "the headline metrics ends the output. Under `mpirun -np N clustersim sweep\n"
        "...` the points are spread over the ranks.\n"
        "\n"
        "Options:\n"
        "      --vary KEY=V1,V2,...|KEY=A:B:STEP   a varied key (repeatable)\n"
        "  -r, --replications R   runs per point (default 1, or the sweep section's)\n"
        "  -j, --jobs N           points run at once on this machine (default: all cores)\n"
        "  -o, --output DIR       output directory (default: out/NAME-sweep)\n"
        "      --set KEY=VALUE    override a setting for every point (repeatable)\n"
        "      --seed N           master seed, overriding the scenario's\n"
        "      --catalog FILE     an extra catalog file for every point (repeatable; see\n"
        "                         clustersim run --help)\n"
        "      --metrics M1,...   the table's metric columns (default: ttft_p99_s,\n"
        "                         tpot_p99_s, usd_per_million_tokens, slo_met for serving;\n"
        "                         the headline metrics of a training, job-queue or queue sweep)\n"
        "      --max-points N     refuse a sweep of more points (default 1000000)\n"
        "      --restart          discard OUTDIR/sweep.db's results and start again\n"
        CFG_MAX_INPUT_HELP
        "  -q, --quiet            no progress bar or table\n"
        "      --plot             draw OUTDIR/plots/sweep_cost_latency.png and .svg (gnuplot)\n"
        "  -h, --help             this help\n",
        f);
}

/* One line of a usage error; parse_opts' caller adds GNU's "Try ..." line. */
static int usage_error(const char *fmt, const char *arg)
{
  fputs("clustersim sweep: ", stderr);
  fprintf(stderr, fmt, arg);
  fputs("\n", stderr);
  return CMD_EXIT_USAGE;
}

static int parse_metrics(sweep_opts *o, const char *arg)
{
  char *copy = xstrdup(arg), *save = NULL;
  for (char *m = strtok_r(copy, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
    o->metrics = xrealloc(o->metrics, (size_t)(o->nmetrics + 1) * sizeof *o->metrics);
    o->metrics[o->nmetrics++] = xstrdup(m);
  }
  free(copy);
  if (o->nmetrics == 0) return usage_error("--metrics: expected metric names such as ttft_p99_s,slo_met, got '%s'", arg);
  return 0;
}

static int parse_opts(int argc, char **argv, sweep_opts *o, cfg_errors *errs)
{
  enum { OPT_SEED = 1000, OPT_SET, OPT_VARY, OPT_PLOT, OPT_RESTART, OPT_MAXP, OPT_METRICS, OPT_CATALOG,
         OPT_MAX_INPUT };
  static const struct option longopts[] = {
    {"vary", required_argument, NULL, OPT_VARY},        {"replications", required_argument, NULL, 'r'},
    {"jobs", required_argument, NULL, 'j'},             {"output", required_argument, NULL, 'o'},
    {"set", required_argument, NULL, OPT_SET},          {"seed", required_argument, NULL, OPT_SEED},
    {"quiet", no_argument, NULL, 'q'},                  {"plot", no_argument, NULL, OPT_PLOT},
    {"restart", no_argument, NULL, OPT_RESTART},        {"max-points", required_argument, NULL, OPT_MAXP},
    {"metrics", required_argument, NULL, OPT_METRICS},  {"catalog", required_argument, NULL, OPT_CATALOG},
    {"max-input-bytes", required_argument, NULL, OPT_MAX_INPUT},
    {"help", no_argument, NULL, 'h'},                   {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  sweep_spec_init(&o->spec);
  o->sets = xcalloc((size_t)argc, sizeof *o->sets);
  o->catalogs = xcalloc((size_t)argc, sizeof *o->catalogs);
  o->max_points = SWEEP_MAX_POINTS_DEFAULT;
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
      if (errno || *end || end == optarg || v < 1 || v > 10000)
        return usage_error("--replications: expected an integer from 1 to 10000, got '%s'", optarg);
      o->spec.replications = (int)v;
      reps_set = true;
      break;
    case 'j':
      errno = 0;
      v = strtol(optarg, &end, 10);
      if (errno || *end || end == optarg || v < 1 || v > 4096)
        return usage_error("--jobs: expected an integer from 1 to 4096, got '%s'", optarg);
      o->jobs = (int)v;
      break;
    case 'o': o->outdir = optarg; break;
    case OPT_SET: o->sets[o->nsets++] = optarg; break;
    case OPT_CATALOG: o->catalogs[o->ncatalogs++] = optarg; break;
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
    case OPT_MAXP: {
      errno = 0;
      unsigned long long m = strtoull(optarg, &end, 10);
      if (errno || *end || end == optarg || optarg[0] == '-' || m < 1 || m > SWEEP_MAX_POINTS_LIMIT) {
        fprintf(stderr, "clustersim sweep: --max-points: expected an integer from 1 to %zu, got '%s'\n",
                SWEEP_MAX_POINTS_LIMIT, optarg);
        return CMD_EXIT_USAGE;
      }
      o->max_points = (size_t)m;
      break;
    }
    case OPT_METRICS:
      if (parse_metrics(o, optarg)) return CMD_EXIT_USAGE;
      break;
    case OPT_RESTART: o->restart = true; break;
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
    default: return CMD_EXIT_USAGE;  /* getopt said why */
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "clustersim sweep: expected exactly one scenario file, got %d\n", argc - optind);
    return CMD_EXIT_USAGE;
  }
  o->file = argv[optind];
  sweep_read_section(&o->spec, o->file, o->max_input_bytes, &reps_set, errs);
  return 0;
}

/* The number of points, or a one-line usage error when there are more than
 * --max-points (or more than a size_t holds). */
static int check_point_count(const sweep_opts *o, size_t *npoints)
{
  double approx;
  if (sweep_count_points(&o->spec, o->max_points, npoints, &approx)) return 0;
  char sizes[256] = "";
  for (int a = 0; a < o->spec.naxes; a++) {
    char n[32];
    snprintf(n, sizeof n, "%s%d", a ? " x " : "", o->spec.axes[a].n);
    strncat(sizes, n, sizeof sizes - strlen(sizes) - 1);
  }
  if (*npoints != SIZE_MAX)
    fprintf(stderr, "clustersim sweep: %zu points (%s values), more than --max-points %zu: vary fewer values, "
            "or raise --max-points\n", *npoints, sizes, o->max_points);
  else
    fprintf(stderr, "clustersim sweep: %.4g points (%s values), more than --max-points %zu: vary fewer values, "
            "or raise --max-points\n", approx, sizes, o->max_points);
  return CMD_EXIT_USAGE;
}

/* ---- one work item: (point, replication) = item / R, item % R ---- */

/* Base --set texts then the point's; *point_sets to free with sweep_free_sets. */
static char **all_sets(const sweep_ctx *cx, size_t point, size_t *n, char ***point_sets)
{
  const sweep_opts *o = cx->o;
  *point_sets = sweep_point_sets(&o->spec, point);
  *n = o->nsets + (size_t)o->spec.naxes;
  char **sets = xcalloc(*n + 1, sizeof *sets);
  for (size_t i = 0; i < o->nsets; i++) sets[i] = o->sets[i];
  for (int a = 0; a < o->spec.naxes; a++) sets[o->nsets + (size_t)a] = (*point_sets)[a];
  return sets;
}

/* The --set texts of a loaded point, which must outlive its scenario. */
typedef struct {
  char **sets, **point_sets;
  int naxes;
} kept_sets;

static void free_kept(kept_sets *k)
{
  free(k->sets);
  sweep_free_sets(k->point_sets, k->naxes);
}

/* Load the point's scenario (master seed *seed if not NULL); false with the
 * messages in errs. keep holds its --set texts: free_kept after releasing sc. */
static bool load_point(const sweep_ctx *cx, size_t point, const int64_t *seed, cfg_scenario *sc, cfg_errors *errs,
                       kept_sets *keep)
{
  size_t n;
  keep->naxes = cx->o->spec.naxes;
  keep->sets = all_sets(cx, point, &n, &keep->point_sets);
  cfg_load_opts lo = {.sets = keep->sets, .nsets = n, .seed = seed, .catalogs = cx->o->catalogs,
                      .ncatalogs = cx->o->ncatalogs, .max_input_bytes = cx->o->max_input_bytes};
  return cfg_scenario_load(sc, cx->o->file, &lo, errs);
}

/* "KEY=VALUE; ..." of a point, for the database and messages (malloc'd). */
static char *settings_of(const sweep_spec *sp, size_t point)
{
  char **sets = sweep_point_sets(sp, point);
  size_t len = 1;
  for (int i = 0; i < sp->naxes; i++) len += strlen(sets[i]) + 2;
  char *s = xmalloc(len);
  s[0] = '\0';
  for (int i = 0; i < sp->naxes; i++) {
    if (i) strcat(s, "; ");
    strcat(s, sets[i]);
  }
  sweep_free_sets(sets, sp->naxes);
  return s;
}

static void hex32(const uint8_t *d, char *out)
{
  for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* In a worker: the run's inputs digest on a first line "#inputs HEX", then
 * the report (sweep_wire); or status 1 and the loader's first message. */
static int work(void *ctx, size_t item, char **out, size_t *len)
{
  sweep_ctx *cx = ctx;
  int R = cx->o->spec.replications;
  size_t point = item / (size_t)R;
  int k = (int)(item % (size_t)R);
  cfg_scenario sc;
  cfg_errors errs;
  cfg_errors_init(&errs, cx->o->file);
  int64_t seed = cx->seed + k;
  kept_sets keep;
  int status = 0;
  if (!load_point(cx, point, &seed, &sc, &errs, &keep)) {
    *out = xstrdup(errs.len ? errs.msgs[0] : "cannot load the scenario");
    status = 1;
  } else {
    sim_report rep;
    run_replication(&sc, seed, NULL, true, &rep);
    uint8_t d[32];
    sweep_inputs_digest(sc.inputs, sc.ninputs, d);
    char *wire = sweep_wire_encode(&rep);
    size_t n = strlen(wire) + 80;
    *out = xmalloc(n);
    char h[65];
    hex32(d, h);
    snprintf(*out, n, "#inputs %s\n%s", h, wire);
    free(wire);
    sim_report_release(&rep);
  }
  *len = strlen(*out);
  cfg_scenario_release(&sc);
  free_kept(&keep);
  cfg_errors_release(&errs);
  return status;
}

static double mono_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void progress(sweep_ctx *cx)
{
  if (!cx->progress) return;
  double el = mono_now() - cx->t0;
  /* runs recorded by other processes sharing the sweep, looked up now and then */
  if (el - cx->others_at > 2) {
    size_t all = sweep_db_count_done(cx->db, cx->o->spec.replications);
    cx->others = all > cx->already + cx->recorded ? all - cx->already - cx->recorded : 0;
    cx->others_at = el;
  }
  size_t did = cx->done + cx->others;
  if (did > cx->total) did = cx->total;
  int width = 30, fill = cx->total ? (int)((double)width * (double)did / (double)cx->total) : width;
  char bar[64];
  for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
  bar[width] = '\0';
  char shared[64] = "";
  if (cx->others) snprintf(shared, sizeof shared, " (%zu by another process)", cx->others);
  double left = cx->done ? el / (double)did * (double)(cx->total - did) : NAN;
  if (isnan(left))
    fprintf(stderr, "\r[%s] %zu/%zu runs%s, %.0f s elapsed          ", bar, did, cx->total, shared, el);
  else
    fprintf(stderr, "\r[%s] %zu/%zu runs%s, %.0f s elapsed, ~%.0f s left   ", bar, did, cx->total, shared, el,
            left);
  fflush(stderr);
}

/* The next item to run: the first not recorded and not being run by a
 * live process, claimed in the database; WAIT while only items other
 * processes run are left (they may die: their claims are then taken). */
static sweep_next next_item(void *ctx, size_t *item)
{
  sweep_ctx *cx = ctx;
  size_t R = (size_t)cx->o->spec.replications;
  if (cx->gone) return SWEEP_NEXT_DONE;
  sweep_db_lock(cx->db);
  sweep_next res = SWEEP_NEXT_DONE;
  while (cx->cursor < cx->nitems) {
    size_t it = cx->cursor++;
    size_t p = it / R;
    if (cx->invalid[p]) {
      cx->cursor = (p + 1) * R;
      continue;
    }
    sweep_claim c = sweep_db_claim(cx->db, p, (int)(it % R));
    if (c == SWEEP_CLAIM_GONE) {
      cx->gone = true;
      goto out;
    }
    if (c == SWEEP_CLAIM_BUSY) {
      if (cx->nlater == cx->caplater) {
        cx->caplater = cx->caplater ? 2 * cx->caplater : 64;
        cx->later = xrealloc(cx->later, cx->caplater * sizeof *cx->later);
      }
      cx->later[cx->nlater++] = it;
    }
    if (c == SWEEP_CLAIM_TAKEN) {
      *item = it;
      res = SWEEP_NEXT_ITEM;
      goto out;
    }
  }
  for (size_t i = 0; i < cx->nlater; i++) {
    size_t it = cx->later[i];
    sweep_claim c = sweep_db_claim(cx->db, it / R, (int)(it % R));
    if (c == SWEEP_CLAIM_GONE) {
      cx->gone = true;
      goto out;
    }
    if (c == SWEEP_CLAIM_BUSY) continue;
    cx->later[i--] = cx->later[--cx->nlater];
    if (c == SWEEP_CLAIM_TAKEN) {
      *item = it;
      res = SWEEP_NEXT_ITEM;
      goto out;
    }
  }
  res = cx->nlater ? SWEEP_NEXT_WAIT : SWEEP_NEXT_DONE;
out:
  sweep_db_unlock(cx->db);
  if (cx->gone) return SWEEP_NEXT_DONE;
  if (res == SWEEP_NEXT_WAIT && !cx->said_wait) {
    char who[256];
    if (!sweep_db_other(cx->db, who, sizeof who)) snprintf(who, sizeof who, "another process");
    if (cx->progress) fputc('\n', stderr);
    fprintf(stderr, "clustersim sweep: %zu run%s of this sweep %s being run by %s; waiting for %s\n", cx->nlater,
            cx->nlater == 1 ? "" : "s", cx->nlater == 1 ? "is" : "are", who, cx->nlater == 1 ? "it" : "them");
    cx->said_wait = true;
  }
  return res;
}

static bool done(void *ctx, size_t item, int status, const char *text, size_t len, double wall)
{
  sweep_ctx *cx = ctx;
  int R = cx->o->spec.replications;
  size_t point = item / (size_t)R;
  int k = (int)(item % (size_t)R);
  cx->done++;
  char *settings = settings_of(&cx->o->spec, point);
  bool recorded = false;
  if (status != 0) {
    cx->failed++;
    if (cx->progress) fputc('\n', stderr);
    if (status == SWEEP_WORKER_LOST || len > 0)
      fprintf(stderr, "clustersim sweep: point %zu (%s), replication %d: %s\n", point, settings, k + 1, text);
    else
      fprintf(stderr, "clustersim sweep: point %zu (%s), replication %d: its worker exited with status %d\n", point,
              settings, k + 1, status);
  } else {
    uint8_t d[32] = {0};
    const char *nl = strchr(text, '\n');
    bool ok = !strncmp(text, "#inputs ", 8) && nl && nl - text == 8 + 64;
    for (int i = 0; ok && i < 32; i++) {
      unsigned x;
      ok = sscanf(text + 8 + 2 * i, "%2x", &x) == 1;
      d[i] = (uint8_t)x;
    }
    sim_report rep;
    if (!ok || !sweep_wire_decode(nl + 1, &rep)) {
      cx->failed++;
      fprintf(stderr, "clustersim sweep: point %zu: malformed result from its worker\n", point);
    } else {
      const sim_metric *st = sim_report_get(&rep, "status");
      if (!sweep_ident_point_is(&cx->id, point, d)) {
        /* a file changed after the sweep was checked: this run read the new one */
        cx->failed++;
        if (cx->progress) fputc('\n', stderr);
        fprintf(stderr, "clustersim sweep: point %zu (%s), replication %d: a file it reads changed while the "
                "sweep ran; not recorded (run the same command again to see what changed)\n", point, settings, k + 1);
      } else if (st && st->kind == SIM_VAL_STR && !strcmp(st->s, "interrupted")) {
        /* a run stopped by a signal is not a result: it runs again on resume */
      } else {
        bool dup = false;
        if (!sweep_db_put(cx->db, point, k, cx->seed + k, settings, &rep, wall, &dup)) {
          cx->failed++;
        } else {
          recorded = true;
          if (dup) cx->dups++;
          else cx->recorded++;
        }
      }
      sim_report_release(&rep);
    }
  }
  if (!recorded) sweep_db_release(cx->db, point, k);
  free(settings);
  progress(cx);
  return true;
}

static void tick(void *ctx)
{
  sweep_ctx *cx = ctx;
  sweep_db_beat(cx->db);
  progress(cx);
}

/* For MPI ranks when rank 0 stops before handing anything out. */
static sweep_next no_items(void *ctx, size_t *item)
{
  (void)ctx, (void)item;
  return SWEEP_NEXT_DONE;
}

int cmd_sweep(int argc, char **argv)
{
  int rank = 0, size = 1;
  bool mpi = sweep_mpi_start(&argc, &argv, &rank, &size);
  sweep_opts o;
  cfg_errors errs;
  cfg_errors_init(&errs, NULL);
  int rc = parse_opts(argc, argv, &o, &errs);
  if (rc == CMD_EXIT_USAGE) cmd_usage_error("sweep", NULL);
  errs.file = o.file;
  sweep_ctx cx = {.o = &o};
  sweep_jobs jobs = {.next = next_item, .work = work, .done = done, .tick = tick, .ctx = &cx};
  sweep_jobs stop = {.next = no_items, .work = work, .done = done, .ctx = &cx};
  invalid_point *bad = NULL;
  size_t nbad = 0;
  char *outdir = NULL;
  bool ident = false;
  cfg_scenario base;
  memset(&base, 0, sizeof base);
  bool base_loaded = false;
  if (rc == 0 && errs.len) rc = CMD_EXIT_USAGE;
  if (rc == 0 && o.spec.naxes == 0) {
    cfg_errors_add(&errs, "%s: nothing to vary: give --vary KEY=V1,V2,... or a sweep section", o.file);
    rc = CMD_EXIT_USAGE;
  }
  if (rc == 0) {
    rc = check_point_count(&o, &cx.npoints);
    if (rc) {
      cmd_usage_error("sweep", NULL);
      cfg_errors_release(&errs);
      goto out;
    }
    cx.nitems = cx.npoints * (size_t)o.spec.replications;
    /* replication k of every point runs with master seed seed + k, which a
     * varied `seed` would not change: refuse it rather than ignore it */
    for (int a = 0; a < o.spec.naxes && rc == 0; a++)
      if (!strcmp(o.spec.axes[a].key, "seed")) {
        fprintf(stderr, "clustersim sweep: --vary seed: replication k of every point runs with master seed "
                "seed + k; for more seeds use -r R, for another first seed --seed N\n");
        rc = CMD_EXIT_USAGE;
      }
    if (rc) {
      cfg_errors_release(&errs);
      goto out;
    }
  }
  /* the scenario itself, with the common overrides */
  if (rc == 0) {
    base_loaded = true;
    cfg_load_opts lo = {.sets = o.sets, .nsets = o.nsets, .seed = o.have_seed ? &o.seed : NULL,
                        .catalogs = o.catalogs, .ncatalogs = o.ncatalogs, .max_input_bytes = o.max_input_bytes};
    if (!cfg_scenario_load(&base, o.file, &lo, &errs)) {
      /* a point's values may be what makes it valid: try the first point */
      cfg_scenario_release(&base);
      cfg_errors_release(&errs);
      cfg_errors_init(&errs, o.file);
      kept_sets keep;
      if (!load_point(&cx, 0, o.have_seed ? &o.seed : NULL, &base, &errs, &keep)) rc = CMD_EXIT_USAGE;
      free_kept(&keep);
    }
    cx.seed = o.have_seed ? o.seed : base.seed;
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
    sweep_mpi_run(rank, &jobs);
    rc = 0;
    goto out;
  }

  outdir = run_outdir(o.outdir, base.name, "-sweep");
  if (!out_mkdirs(outdir)) {
    fprintf(stderr, "clustersim sweep: %s: cannot create output directory: %s\n", outdir, strerror(errno));
    rc = CMD_EXIT_USAGE;
    if (mpi) sweep_mpi_run(0, &stop);
    goto out;
  }
  char dbpath[4096], csvpath[4096];
  snprintf(dbpath, sizeof dbpath, "%s/sweep.db", outdir);
  snprintf(csvpath, sizeof csvpath, "%s/sweep.csv", outdir);

  /* every point is checked before anything runs: one that cannot load is
   * recorded as invalid (with its first error) and skipped; the files
   * each point reads go into the sweep's identity */
  int R = o.spec.replications;
  cx.invalid = xcalloc(cx.npoints, 1);
  sweep_ident_init(&cx.id, CLUSTERSIM_VERSION, cx.seed, o.sets, o.nsets, &o.spec, cx.npoints);
  ident = true;
  for (size_t p = 0; p < cx.npoints; p++) {
    cfg_scenario sc;
    kept_sets keep;
    cfg_errors_init(&errs, o.file);
    bool ok = load_point(&cx, p, &cx.seed, &sc, &errs, &keep);
    sweep_ident_add_point(&cx.id, p, sc.inputs, sc.ninputs);
    if (!ok) {
      cx.invalid[p] = 1;
      char *settings = settings_of(&o.spec, p);
      fprintf(stderr, "clustersim sweep: point %zu (%s) is invalid:\n", p, settings);
      free(settings);
      cfg_errors_print(&errs, stderr);
      bad = xrealloc(bad, (nbad + 1) * sizeof *bad);
      bad[nbad++] = (invalid_point){p, xstrdup(errs.len ? errs.msgs[0] : "invalid")};
    }
    cfg_scenario_release(&sc);
    free_kept(&keep);
    cfg_errors_release(&errs);
  }
  sweep_ident_finish(&cx.id);
  if (nbad == cx.npoints) {
    fprintf(stderr, "clustersim sweep: every point is invalid; nothing was simulated\n");
    rc = CMD_EXIT_USAGE;
    if (mpi) sweep_mpi_run(0, &stop);
    goto out;
  }
  cfg_errors_init(&errs, NULL);
  cx.db = sweep_db_open(dbpath, &cx.id, o.restart, &errs);
  if (!cx.db) {
    for (size_t i = 0; i < errs.len; i++) fprintf(stderr, "clustersim sweep: %s\n", errs.msgs[i]);
    cfg_errors_release(&errs);
    rc = CMD_EXIT_USAGE;
    if (mpi) sweep_mpi_run(0, &stop);
    goto out;
  }
  cfg_errors_release(&errs);
  for (size_t i = 0; i < nbad; i++) {
    char *settings = settings_of(&o.spec, bad[i].point);
    sweep_db_put_invalid(cx.db, bad[i].point, settings, bad[i].error);
    free(settings);
  }

  cx.already = sweep_db_count_done(cx.db, R);
  cx.total = (cx.npoints - nbad) * (size_t)R - cx.already;
  cx.progress = !o.quiet && isatty(STDERR_FILENO);
  cx.t0 = mono_now();
  if (!o.quiet)
    fprintf(stderr, "clustersim sweep: %zu points x %d replication%s: %zu runs to do, %zu already in %s\n",
            cx.npoints - nbad, R, R == 1 ? "" : "s", cx.total, cx.already, dbpath);
  progress(&cx);
  /* what every point of the same configuration shares (serving's
   * saturation probe), computed once here and inherited by the workers:
   * a sweep over replicas and load probes once, not once per point */
  if (cx.total > 0 && !mpi)
    for (size_t i = 0; i < base.nparts; i++)
      if (base.parts[i].type->warm) base.parts[i].type->warm(base.parts[i].params);
  if (mpi)
    sweep_mpi_run(0, &jobs);
  else
    sweep_pool_run(o.jobs, &jobs);
  if (cx.progress) fputc('\n', stderr);
  int stopped = sweep_pool_stopped();
  if (cx.gone) {
    fprintf(stderr, "clustersim sweep: %s now holds another sweep (restarted by another process); this one "
            "stops without writing sweep.csv\n", dbpath);
    rc = CMD_EXIT_FAIL;
    goto out;
  }
  size_t all = sweep_db_count_done(cx.db, R);
  size_t by_others = all > cx.already + cx.recorded ? all - cx.already - cx.recorded : 0;
  if (by_others && !o.quiet)
    fprintf(stderr, "clustersim sweep: %zu run%s done here, %zu by another process sharing %s\n", cx.recorded,
            cx.recorded == 1 ? "" : "s", by_others, outdir);
  if (cx.dups)
    fprintf(stderr, "clustersim sweep: %zu run%s also done by another process (whose claim looked abandoned); "
            "the first result was kept\n", cx.dups, cx.dups == 1 ? " was" : "s were");

  long rows = sweep_export(cx.db, &o.spec, csvpath, o.quiet || stopped ? NULL : stdout, o.metrics, o.nmetrics);
  if (rows < 0) rc = CMD_EXIT_FAIL;
  if (!o.quiet) {
    printf("sweep: %s: %ld of %zu points complete", csvpath, rows, cx.npoints);
    if (nbad) printf(" (%zu invalid)", nbad);
    printf("\n");
  }
  if (!stopped && rows > 0 && o.plot && !plot_dir(outdir, NULL, o.quiet)) rc = CMD_EXIT_FAIL;
  if (stopped) {
    fprintf(stderr,
            "clustersim sweep: interrupted: %zu of %zu runs done now; run the same command again to resume\n",
            cx.recorded, cx.total);
    rc = 128 + stopped;
  } else if (cx.failed) {
    fprintf(stderr, "clustersim sweep: %zu run%s failed\n", cx.failed, cx.failed == 1 ? "" : "s");
    rc = CMD_EXIT_FAIL;
  }
out:
  sweep_db_close(cx.db);
  if (ident) sweep_ident_release(&cx.id);
  for (size_t i = 0; i < nbad; i++) free(bad[i].error);
  free(bad);
  free(cx.invalid);
  free(cx.later);
  free(outdir);
  if (base_loaded) cfg_scenario_release(&base);
  sweep_spec_release(&o.spec);
  for (int i = 0; i < o.nmetrics; i++) free(o.metrics[i]);
  free(o.metrics);
  free(o.sets);
  free(o.catalogs);
  if (mpi) sweep_mpi_finish();
  return rc < 0 ? CMD_EXIT_OK : rc;
}
