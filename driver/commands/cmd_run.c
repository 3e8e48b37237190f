/* driver/commands/cmd_run.c: `clustersim run` and `clustersim check`: options, loading
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

#include "driver/commands/cli.h"
#include "driver/output/json.h"
#include "driver/output/outfile.h"
#include "driver/plot/plot.h"
#include "driver/commands/runner.h"
#include "driver/commands/slo_capacity.h"
#include "driver/config/scenario.h"
#include "sim/util.h"

typedef struct {
  const char *file;
  const char *outdir;
  char **sets;
  size_t nsets;
  char **catalogs;   /* --catalog FILE, in order */
  size_t ncatalogs;
  bool have_seed;
  int64_t seed;
  int64_t max_input_bytes;
  bool quiet;
  bool plot;
  bool slo_capacity;
  int replications;
} run_opts;

static void run_usage(FILE *f, bool check)
{
  if (check)
    fputs("Usage: clustersim check FILE.cfg [--set KEY=VALUE]... [--seed N] [--catalog FILE]...\n"
          "\n"
          "Load and validate a scenario, report every problem (file:line: key: what is\n"
          "wrong) and exit 2 if there is one, 0 if it is ready to run.\n",
          f);
  else
    fputs("Usage: clustersim run FILE.cfg [-o OUTDIR] [--seed N] [--set KEY=VALUE]... [-r R] [-q]\n"
          "                      [--catalog FILE]... [--plot]\n"
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
          "  -q, --quiet        print no table\n"
          "      --plot         draw OUTDIR/plots/*.png and .svg with gnuplot (clustersim plot)\n"
          "      --slo-capacity also find the highest load that still meets the scenario's SLO\n"
          "                     (slo section; bisection on workload.load_scale to 1%, from the\n"
          "                     saturation rate, the same seeds and replications; no files):\n"
          "                     slo_capacity_per_s and headroom = that / offered_rate_per_s\n",
          f);
  fputs("      --seed N       master seed, overriding the scenario's `seed`\n"
        "      --set KEY=VALUE\n"
        "                     override a setting by its path, e.g. --set queue.servers=16,\n"
        "                     --set queue.arrivals.rate_per_s=7.5; repeatable; checked as\n"
        "                     if written in the file\n"
        "      --catalog FILE\n"
        "                     read an extra catalog file (repeatable) over the shipped\n"
        "                     catalogs and under the scenario's own gpus/links/models;\n"
        "                     an entry naming an existing one changes only what it writes\n"
        CFG_MAX_INPUT_HELP
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
#define CMD_NAME (check ? "check" : "run")
  enum { OPT_SEED = 1000, OPT_SET, OPT_PLOT, OPT_CATALOG, OPT_MAX_INPUT, OPT_SLO_CAPACITY };
  static const struct option run_long[] = {
    {"output", required_argument, NULL, 'o'}, {"seed", required_argument, NULL, OPT_SEED},
    {"replications", required_argument, NULL, 'r'},
    {"set", required_argument, NULL, OPT_SET}, {"quiet", no_argument, NULL, 'q'},
    {"plot", no_argument, NULL, OPT_PLOT},     {"catalog", required_argument, NULL, OPT_CATALOG},
    {"max-input-bytes", required_argument, NULL, OPT_MAX_INPUT},
    {"slo-capacity", no_argument, NULL, OPT_SLO_CAPACITY},
    {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
  static const struct option check_long[] = {
    {"seed", required_argument, NULL, OPT_SEED}, {"set", required_argument, NULL, OPT_SET},
    {"catalog", required_argument, NULL, OPT_CATALOG},
    {"max-input-bytes", required_argument, NULL, OPT_MAX_INPUT},
    {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  o->replications = 1;
  o->sets = xcalloc((size_t)argc, sizeof *o->sets);
  o->catalogs = xcalloc((size_t)argc, sizeof *o->catalogs);
  int c;
  while ((c = getopt_long(argc, argv, check ? "h" : "o:r:qh", check ? check_long : run_long, NULL)) != -1) {
    switch (c) {
    case 'o': o->outdir = optarg; break;
    case 'q': o->quiet = true; break;
    case OPT_PLOT: o->plot = true; break;
    case OPT_SLO_CAPACITY: o->slo_capacity = true; break;
    case 'r': {
      char *end;
      errno = 0;
      long v = strtol(optarg, &end, 10);
      if (errno || end == optarg || *end || v < 1 || v > 10000) {
        return cmd_usage_error(CMD_NAME, "--replications: expected an integer from 1 to 10000, got '%s'", optarg);
      }
      o->replications = (int)v;
      break;
    }
    case OPT_SEED:
      if (!parse_seed(optarg, &o->seed)) {
        return cmd_usage_error(CMD_NAME, "--seed: expected an integer from 0 to %lld, got '%s'", (long long)SIM_SEED_MAX,
                               optarg);
      }
      o->have_seed = true;
      break;
    case OPT_SET: o->sets[o->nsets++] = optarg; break;
    case OPT_CATALOG: o->catalogs[o->ncatalogs++] = optarg; break;
    case OPT_MAX_INPUT:
      if (!cfg_parse_bytes(optarg, &o->max_input_bytes)) {
        return cmd_usage_error(CMD_NAME, "--max-input-bytes: expected a number of bytes such as 1000000 or 64M, got '%s'",
                               optarg);
      }
      break;
    case 'h': run_usage(stdout, check); return -1;
    default: return cmd_usage_error(CMD_NAME, NULL);
    }
  }
  if (optind != argc - 1)
    return cmd_usage_error(CMD_NAME, "expected exactly one scenario file, got %d", argc - optind);
  o->file = argv[optind];
  return 0;
#undef CMD_NAME
}

static int load(const run_opts *o, cfg_scenario *sc)
{
  cfg_errors errs;
  cfg_errors_init(&errs, o->file);
  cfg_load_opts lo = {.sets = o->sets, .nsets = o->nsets, .seed = o->have_seed ? &o->seed : NULL,
                      .catalogs = o->catalogs, .ncatalogs = o->ncatalogs, .max_input_bytes = o->max_input_bytes};
  bool ok = cfg_scenario_load(sc, o->file, &lo, &errs);
  cfg_errors_print(&errs, stderr);
  if (!ok)
    fprintf(stderr, "clustersim: %s: %zu error%s; nothing was simulated\n", o->file, errs.len,
            errs.len == 1 ? "" : "s");
  cfg_errors_release(&errs);
  return ok ? 0 : CMD_EXIT_USAGE;
}

/* Options, then the scenario. True when sc is loaded and valid (release it,
 * o.sets and o.catalogs after use); otherwise both are released and *status is the
 * exit status (0 after --help). */
static bool prepare(int argc, char **argv, bool check, run_opts *o, cfg_scenario *sc, int *status)
{
  int rc = parse_opts(argc, argv, check, o);
  if (rc == 0) {
    rc = load(o, sc);
    if (rc == 0) return true;
    cfg_scenario_release(sc);
  }
  free(o->sets);
  free(o->catalogs);
  *status = rc < 0 ? CMD_EXIT_OK : rc;
  return false;
}

int cmd_check(int argc, char **argv)
{
  run_opts o;
  cfg_scenario sc;
  int status;
  if (!prepare(argc, argv, true, &o, &sc, &status)) return status;
  printf("%s: ok (scenario \"%s\", %zu component%s)\n", o.file, sc.name, sc.nparts,
         sc.nparts == 1 ? "" : "s");
  cfg_scenario_release(&sc);
  free(o.sets);
  free(o.catalogs);
  return CMD_EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
  run_opts o;
  cfg_scenario sc;
  int status;
  if (!prepare(argc, argv, false, &o, &sc, &status)) return status;
  if (o.slo_capacity && !run_slo_capacity_applies(&sc)) {
    fprintf(stderr, "clustersim run: --slo-capacity: %s has no SLO target to meet (slo.ttft_s, slo.tpot_s or "
            "slo.e2e_s); nothing was simulated\n", o.file);
    cfg_scenario_release(&sc);
    free(o.sets);
    free(o.catalogs);
    return CMD_EXIT_USAGE;
  }
  char *outdir = run_outdir(o.outdir, sc.name, "");
  if (!out_mkdirs(outdir)) {
    fprintf(stderr, "clustersim: %s: cannot create output directory: %s\n", outdir, strerror(errno));
    cfg_scenario_release(&sc);
    free(o.sets);
    free(o.catalogs);
    free(outdir);
    return CMD_EXIT_USAGE;
  }

  /* replication k runs with master seed + k; the first writes the tables */
  int R = o.replications;
  sim_report *reps = xcalloc((size_t)R, sizeof *reps);
  run_tables *tables = run_tables_alloc(outdir);
  sim_run_result why = SIM_RUN_EMPTY;
  int done = 0;
  for (int k = 0; k < R; k++) {
    why = run_replication(&sc, sc.seed + k, k == 0 ? tables : NULL, o.quiet, &reps[k]);
    done++;
    if (why == SIM_RUN_STOPPED) break;
  }
  sim_report combined, *rep = &reps[0];
  if (R > 1) {
    run_combine(reps, done, sc.seed, why == SIM_RUN_STOPPED, &combined);
    rep = &combined;
  }

  bool usage_error = false;
  if (o.slo_capacity && why != SIM_RUN_STOPPED) {
    cfg_load_opts lo = {.sets = o.sets, .nsets = o.nsets, .seed = o.have_seed ? &o.seed : NULL,
                        .catalogs = o.catalogs, .ncatalogs = o.ncatalogs, .max_input_bytes = o.max_input_bytes};
    run_slo_capacity_result cap;
    if (run_slo_capacity(o.file, &lo, rep, done, o.quiet, &cap) != 0) {
      usage_error = true;
    } else {
      const sim_metric *off = sim_report_get(rep, "offered_rate_per_s");
      double offered = off ? (off->kind == SIM_VAL_INT ? (double)off->i : off->x) : NAN;
      sim_report_num(rep, "slo_capacity_per_s", cap.rate_per_s,
                     cap.capped ? "highest rate meeting the SLO (at least)" : "highest rate meeting the SLO (1/s)");
      sim_report_num(rep, "slo_capacity_load_factor", cap.factor, "  as a multiple of the scenario's load");
      sim_report_num(rep, "slo_capacity_tolerance", cap.tolerance, "  the search's bracket, relative");
      sim_report_int(rep, "slo_capacity_runs", cap.runs, "  runs of the search");
      sim_report_num(rep, "headroom", cap.rate_per_s / offered, "headroom: SLO capacity / offered rate");
      if (cap.stopped) why = SIM_RUN_STOPPED;
    }
  }
  /* what the models found while running, once (the first replication's) */
  for (size_t i = 0; i < reps[0].nwarnings; i++) fprintf(stderr, "clustersim: warning: %s\n", reps[0].warnings[i]);
  if (!o.quiet) run_print_table(stdout, &sc, rep);
  bool ok = run_commit(tables, R > 1 ? reps : NULL, done, rep, o.quiet);
  if (!o.quiet && ok) printf("summary: %s/summary.json\n", outdir);
  if (ok && o.plot && !plot_dir(outdir, NULL, o.quiet)) ok = false;
  if (R > 1) sim_report_release(&combined);
  for (int k = 0; k < done; k++) sim_report_release(&reps[k]);
  free(reps);
  cfg_scenario_release(&sc);
  free(o.sets);
  free(o.catalogs);
  free(outdir);
  if (usage_error) return CMD_EXIT_USAGE;
  if (!ok) return CMD_EXIT_FAIL;
  /* interrupted: 128 + the signal, as a shell reports it (130 for Ctrl-C) */
  int sig = run_stop_signal();
  return why == SIM_RUN_STOPPED ? 128 + (sig ? sig : SIGINT) : CMD_EXIT_OK;
}
