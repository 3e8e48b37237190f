/* driver/plan/cmd_plan.c: `clustersim plan`: the cheapest GPU type x tp x replicas
 * for pool 0 of a serving scenario that meets every --slo target, with no
 * request rejected, at the scenario's load; on a scenario that splits
 * prefill and decode, the cheapest pair of their pools' sizes (plan_pd.c);
 * with --pricing, the cheapest fleet (plan_fleet.c). Owns the options, the
 * base scenario (name, pools, default GPU, node size), the fit and metric
 * checks before anything runs, choosing the winner and the exit status;
 * the searches run through plan_run.c and write through plan_output.c. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "driver/commands/cli.h"
#include "driver/output/outfile.h"
#include "driver/plan/plan.h"
#include "driver/plot/plot.h"
#include "driver/commands/runner.h"
#include "driver/config/scenario.h"
#include "models/cost/provider.h"
#include "sim/util.h"

static void plan_usage(FILE *f)
{
  fputs("Usage: clustersim plan FILE.cfg --slo METRIC=VALUE... [--candidates gpu=A,B,...]\n"
        "                      [--max-replicas N] [--load-scales S,...] [--gpu-price GPU=USD,...]\n"
        "                      [-j N] [-o OUTDIR] [-q] [--catalog FILE]... [--plot]\n"
        "       clustersim plan FILE.cfg --slo METRIC=VALUE... --pricing P,... [--spot-interruptions-per-hour R]\n"
        "                      [--candidates gpu=A,B,...,tp=...] [--max-replicas N] [-o OUTDIR] [-q]\n"
        "       clustersim plan FILE.cfg --slo METRIC=VALUE... [--pools PREFILL,DECODE] [--max-replicas N]\n"
        "                      [-j N] [-o OUTDIR] [-q]\n"
        "       clustersim plan FILE.cfg --slo METRIC=VALUE... [--placement search|shared|dedicated|none]\n"
        "                      [--candidates gpu=A,B,...] [--max-replicas N] [-j N] [-o OUTDIR] [-q]\n"
        "       clustersim plan TRAINING.cfg [--objective time|cost] [--candidates gpu=A,B|gpus=N,M|tp=...|zero=...]\n"
        "                      [--gpu-price GPU=USD,...] [-o OUTDIR] [-q]\n"
        "\n"
        "On a scenario with a training section, plan searches the parallel layout instead\n"
        "(tp, cp, pp, dp, ep, micro-batch, interleaving, ZeRO stage, sequence parallelism,\n"
        "recomputation) for the shortest whole run (--objective time, the default) or the\n"
        "cheapest (cost: GPU-hours x price); --slo is not needed. The GPU type and count\n"
        "stay the scenario's unless --candidates gpu=... or gpus=... widen them. plan.json\n"
        "has the winner, the scenario's own layout and the gain; plan.csv every layout\n"
        "tried, with the reason of each rejected one.\n"
        "\n"
        "Find the cheapest configuration of the scenario's pool 0 - GPU type x tensor\n"
        "parallelism (tp) x replicas - that meets every latency target at the scenario's\n"
        "load, spikes included, with no request rejected. A configuration is feasible when\n"
        "every target holds in every replication. Cheapest is the lowest usd_per_hour;\n"
        "ties go to fewer GPUs, then to more headroom. pp and the other pools stay as\n"
        "written. tp takes the powers of two 1, 2, 4, 8 up to the pool's gpus_per_node;\n"
        "those the loader rejects (memory, attention heads) are skipped.\n"
        "\n"
        "On a scenario with a pool of role \"prefill\" and one of role \"decode\", plan\n"
        "instead sizes the two together: the cheapest (prefill replicas, decode replicas)\n"
        "that meets every target, GPUs and tps as written, and the cheapest colocated fleet\n"
        "of the same GPUs (one pool of role \"both\") for comparison (see --pools).\n"
        "\n"
        "Latency is taken to fall as replicas are added, so for each GPU type and tp the\n"
        "fewest feasible replicas are found by checking the most allowed, doubling from\n"
        "1 and bisecting; a tp is searched only up to the GPUs of its type's best so far.\n"
        "\n"
        "Writes OUTDIR/plan.json (the answer, or feasible false and the closest miss: the\n"
        "configuration with the smallest worst value/target ratio; the best of each GPU\n"
        "type; the targets; the simulation count), OUTDIR/plan.csv (one row per simulated\n"
        "configuration) and OUTDIR/plan_load.csv (for each type's best tp, the fewest\n"
        "replicas at each load scale). Exit status 0 also when nothing meets the targets\n"
        "(plan.json says feasible false), 2 on bad usage or scenario, 130 when interrupted.\n"
        "\n"
        "Options:\n"
        "      --slo METRIC=VALUE\n"
        "                     the summary metric must be <= VALUE (ttft_p99_s=2, tpot_p99_s=0.1,\n"
        "                     e2e_p99_s=30, any numeric summary key); repeatable, at least one\n"
        "      --objective time|cost\n"
        "                     a training scenario: the shortest whole run (train_time_s) or the cheapest\n"
        "                     (GPU-hours x price); --candidates gpus=N,... and zero=S,... are its GPU\n"
        "                     counts and ZeRO stages (default: the scenario's count, stages 0 to its own)\n"
        "      --candidates gpu=A,B,...\n"
        "                     GPU types to try (default: pool 0's); tp=1,2,... overrides the tps\n"
        "      --gpu-price GPU=USD,...\n"
        "                     negotiated prices, USD per GPU-hour, for candidates: each replaces\n"
        "                     the catalog's reference price (and the scenario's) for that GPU;\n"
        "                     plan.json and plan.csv say which price was used and where it\n"
        "                     came from (repeatable)\n"
        "      --pricing P,...\n"
        "                     plan the fleet instead: the cheapest mix, for pool 0's GPU and tp, of a\n"
        "                     fixed baseline (on-demand, reserved-1y, reserved-3y or owned) and an\n"
        "                     autoscaled burst (on-demand or spot; pool 0's own autoscale block, or a\n"
        "                     predictive one) that meets every target over the scenario's whole\n"
        "                     horizon - its daily cycle, spikes and growth - with the saving against\n"
        "                     the cheapest all-on-demand fleet. on-demand is always a candidate; prices\n"
        "                     are pool 0's provider's (clustersim list providers). -j runs each\n"
        "                     phase's searches at once (a staircase per burst pricing, per GPU type);\n"
        "                     --plot draws plan_fleet (every fleet's cost against the replicas it\n"
        "                     commits); see the README\n"
        "      --spot-interruptions-per-hour R\n"
        "                     how often a spot burst replica is taken back (per replica-hour); needed\n"
        "                     with --pricing spot unless pool 0 writes interruptions_per_hour (the\n"
        "                     providers' catalog has no rate)\n"
        "      --pools PREFILL,DECODE\n"
        "                     size these two pools together (roles \"prefill\" and \"decode\"): for\n"
        "                     each prefill count the fewest decode replicas, the cheapest pair, its\n"
        "                     prefill:decode ratio and what the same GPUs cost colocated (role \"both\",\n"
        "                     up to twice --max-replicas); the default when the scenario has one pool\n"
        "                     of each role. --pools 0: pool 0's search above, whatever the roles\n"
        "      --placement search|shared|dedicated|none\n"
        "                     a workload of several models (workload.classes.[k].model): which share\n"
        "                     which GPUs. search (the default then): every model on its own pool,\n"
        "                     one shared pool, and the k heaviest dedicated with the rest shared;\n"
        "                     shared or dedicated: that placement alone; none: pool 0 as written.\n"
        "                     Each pool is a copy of pool 0 sized alone (GPU, tp, replicas); every\n"
        "                     --slo target holds for each model (modelN_METRIC); see the README\n"
        "      --max-replicas N\n"
        "                     most replicas of pool 0 (default 64); with --pricing, of each part;\n"
        "                     with --pools, of each of the two pools\n"
        "      --load-scales S,...\n"
        "                     load multipliers for plan_load.csv (default 1): each sets\n"
        "                     workload.load_scale to S times the scenario's own\n"
        "  -r, --replications R\n"
        "                     simulate each configuration with seeds seed .. seed+R-1 (default 1)\n"
        "  -j, --jobs N       GPU types (with --pricing or --pools: searches) at once, in worker processes\n"
        "                     (default: the number of processors); results do not depend on it\n"
        "  -o, --output DIR   output directory (default: out/NAME-plan)\n"
        "  -q, --quiet        print no table and no progress\n"
        "      --plot         draw OUTDIR/plots/plan_replicas.png and .svg (with --pricing: plan_fleet)\n"
        "      --seed N       master seed, overriding the scenario's `seed`\n"
        "      --set KEY=VALUE\n"
        "                     override a setting, applied before the candidate's own settings\n"
        "      --catalog FILE\n"
        "                     an extra catalog file for every candidate (repeatable; see\n"
        "                     clustersim run --help): a GPU's price, say\n"
        CFG_MAX_INPUT_HELP
        "  -h, --help         this help\n",
        f);
}

/* ---- options ---- */

static bool parse_long(const char *s, long lo, long hi, long *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

static bool parse_double(const char *s, double *out)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !isfinite(v)) return false;
  *out = v;
  return true;
}

/* One line of a usage error; parse_opts' caller adds GNU's "Try ..." line. */
static int usage_error(const char *fmt, const char *arg)
{
  fputs("clustersim plan: ", stderr);
  fprintf(stderr, fmt, arg);
  fputs("\n", stderr);
  return CMD_EXIT_USAGE;
}

static int parse_slo(plan_opts *o, char *arg)
{
  char *eq = strchr(arg, '=');
  double v;
  if (!eq || eq == arg || !parse_double(eq + 1, &v))
    return usage_error("--slo: expected METRIC=VALUE such as ttft_p99_s=2, got '%s'", arg);
  *eq = '\0';
  for (int i = 0; i < o->nslo; i++)
    if (!strcmp(o->slo[i].metric, arg)) return usage_error("--slo: %s has two targets", arg);
  if (o->nslo == SIM_PLAN_MAX_SLO) return usage_error("--slo: at most 16 targets (%s)", arg);
  o->slo[o->nslo++] = (plan_slo){arg, v};
  return 0;
}

static int cmp_int(const void *a, const void *b)
{
  return *(const int *)a - *(const int *)b;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int parse_candidates(plan_opts *o, const char *arg)
{
  if (plan_train_candidates_key(arg)) return plan_train_parse_candidates(o, arg);
  const char *eq = strchr(arg, '=');
  bool gpu = eq && eq - arg == 3 && !strncmp(arg, "gpu", 3);
  bool tp = eq && eq - arg == 2 && !strncmp(arg, "tp", 2);
  if (!gpu && !tp)
    return usage_error("--candidates: expected gpu=A,B,... or tp=1,2,... (training: also gpus=N,... and zero=...), "
                       "got '%s'", arg);
  char *list = xstrdup(eq + 1), *save = NULL;
  int rc = 0;
  if (tp) o->ntps = 0, o->tps_given = true;
  for (char *p = strtok_r(list, ",", &save); p && !rc; p = strtok_r(NULL, ",", &save)) {
    if (gpu) {
      for (int i = 0; i < o->ngpus; i++)
        if (!strcmp(o->gpus[i], p)) rc = usage_error("--candidates: gpu %s is listed twice", p);
      if (!rc && o->ngpus == SIM_PLAN_MAX_GPUS) rc = usage_error("--candidates: at most 32 GPU types (%s)", p);
      if (!rc) o->gpus[o->ngpus++] = xstrdup(p);
      o->gpus_given = true;
    } else {
      long v;
      if (!parse_long(p, 1, 1024, &v))
        rc = usage_error("--candidates: tp must be an integer from 1 to 1024, got '%s'", p);
      for (int i = 0; i < o->ntps && !rc; i++)
        if (o->tps[i] == v) rc = usage_error("--candidates: tp %s is listed twice", p);
      if (!rc && o->ntps == SIM_PLAN_MAX_TPS) rc = usage_error("--candidates: at most 8 tps (%s)", p);
      if (!rc) o->tps[o->ntps++] = (int)v;
    }
  }
  free(list);
  if (!rc && (gpu ? o->ngpus : o->ntps) == 0) rc = usage_error("--candidates: empty list in '%s'", arg);
  qsort(o->tps, (size_t)o->ntps, sizeof o->tps[0], cmp_int);
  return rc;
}

static int parse_scales(plan_opts *o, const char *arg)
{
  char *list = xstrdup(arg), *save = NULL;
  int rc = 0;
  o->nscales = 0;
  for (char *p = strtok_r(list, ",", &save); p && !rc; p = strtok_r(NULL, ",", &save)) {
    double v;
    if (!parse_double(p, &v) || v <= 0)
      rc = usage_error("--load-scales: expected numbers > 0 such as 0.25,0.5,1, got '%s'", p);
    else if (o->nscales == SIM_PLAN_MAX_SCALES)
      rc = usage_error("--load-scales: at most 32 scales (%s)", p);
    else
      o->scales[o->nscales++] = v;
  }
  free(list);
  if (!rc && o->nscales == 0) rc = usage_error("--load-scales: empty list '%s'", arg);
  qsort(o->scales, (size_t)o->nscales, sizeof o->scales[0], cmp_double);
  int n = 0;
  for (int i = 0; i < o->nscales; i++)
    if (n == 0 || o->scales[i] != o->scales[n - 1]) o->scales[n++] = o->scales[i];
  o->nscales = n;
  return rc;
}

/* --pricing P,...: the pricings a fleet may use, on-demand among them. */
static int parse_pricing(plan_opts *o, const char *arg)
{
  char *list = xstrdup(arg), *save = NULL;
  int rc = 0;
  o->npricings = 0;
  bool od = false;
  for (char *p = strtok_r(list, ",", &save); p && !rc; p = strtok_r(NULL, ",", &save)) {
    int k = cost_pricing_parse(p);
    if (k < 0) {
      rc = usage_error("--pricing: expected on-demand, reserved-1y, reserved-3y, spot or owned, got '%s'", p);
      break;
    }
    for (int i = 0; i < o->npricings; i++)
      if (o->pricings[i] == k) rc = usage_error("--pricing: %s is listed twice", p);
    if (!rc) o->pricings[o->npricings++] = k;
    od = od || k == COST_PRICING_ON_DEMAND;
  }
  free(list);
  if (!rc && o->npricings == 0) rc = usage_error("--pricing: empty list '%s'", arg);
  /* on-demand is always there to be had, and is what the saving is against */
  if (!rc && !od) o->pricings[o->npricings++] = COST_PRICING_ON_DEMAND;
  return rc;
}

/* --pools 0 (pool 0 alone) or --pools PREFILL,DECODE (two pool numbers). */
static int parse_pools(plan_opts *o, const char *arg)
{
  char *list = xstrdup(arg), *save = NULL;
  int rc = 0, n = 0;
  for (char *p = strtok_r(list, ",", &save); p && !rc; p = strtok_r(NULL, ",", &save)) {
    long v;
    if (n == 2 || !parse_long(p, 0, 1000, &v))
      rc = 1;
    else
      o->pools[n++] = (int)v;
  }
  free(list);
  if (!rc && n == 2 && o->pools[0] == o->pools[1])
    return usage_error("--pools: the prefill pool and the decode pool must differ, got '%s'", arg);
  if (rc || n == 0 || (n == 1 && o->pools[0] != 0))
    return usage_error("--pools: expected PREFILL,DECODE (two pool numbers such as 0,1) or 0 (pool 0 alone), "
                       "got '%s'", arg);
  o->npools = n;
  return 0;
}

/* 0 (o filled), -1 after --help, or an exit status. */
static int parse_opts(int argc, char **argv, plan_opts *o)
{
  enum { OPT_SEED = 1000, OPT_SET, OPT_SLO, OPT_CAND, OPT_MAXR, OPT_SCALES, OPT_PLOT, OPT_PRICE, OPT_CATALOG,
         OPT_MAX_INPUT, OPT_PRICING, OPT_SPOT, OPT_POOLS, OPT_PLACEMENT,
         OPT_OBJECTIVE };
  static const struct option longs[] = {
    {"slo", required_argument, NULL, OPT_SLO},          {"candidates", required_argument, NULL, OPT_CAND},
    {"max-replicas", required_argument, NULL, OPT_MAXR}, {"load-scales", required_argument, NULL, OPT_SCALES},
    {"replications", required_argument, NULL, 'r'},     {"jobs", required_argument, NULL, 'j'},
    {"output", required_argument, NULL, 'o'},           {"quiet", no_argument, NULL, 'q'},
    {"plot", no_argument, NULL, OPT_PLOT},             {"gpu-price", required_argument, NULL, OPT_PRICE},
    {"seed", required_argument, NULL, OPT_SEED},        {"set", required_argument, NULL, OPT_SET},
    {"catalog", required_argument, NULL, OPT_CATALOG},
    {"max-input-bytes", required_argument, NULL, OPT_MAX_INPUT},
    {"pricing", required_argument, NULL, OPT_PRICING},
    {"spot-interruptions-per-hour", required_argument, NULL, OPT_SPOT},
    {"pools", required_argument, NULL, OPT_POOLS},
    {"placement", required_argument, NULL, OPT_PLACEMENT},
    {"objective", required_argument, NULL, OPT_OBJECTIVE},
    {"help", no_argument, NULL, 'h'},                   {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof *o);
  o->replications = 1;
  o->max_replicas = 64;
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  o->jobs = ncpu > 0 ? (int)ncpu : 1;
  o->scales[0] = 1;
  o->nscales = 1;
  o->spot_rate = -1;
  o->sets = xcalloc((size_t)argc + 1, sizeof *o->sets);
  o->catalogs = xcalloc((size_t)argc + 1, sizeof *o->catalogs);
  int c, rc = 0;
  long v;
  while (!rc && (c = getopt_long(argc, argv, "r:j:o:qh", longs, NULL)) != -1) {
    switch (c) {
    case OPT_SLO: rc = parse_slo(o, optarg); break;
    case OPT_CAND: rc = parse_candidates(o, optarg); break;
    case OPT_SCALES: rc = parse_scales(o, optarg); break;
    case OPT_PRICE: rc = plan_parse_gpu_prices(o, optarg); break;
    case OPT_PRICING: rc = parse_pricing(o, optarg); break;
    case OPT_POOLS: rc = parse_pools(o, optarg); break;
    case OPT_PLACEMENT:
      o->placement = optarg;
      if (strcmp(optarg, "search") && strcmp(optarg, "shared") && strcmp(optarg, "dedicated") && strcmp(optarg, "none"))
        rc = usage_error("--placement: expected search, shared, dedicated or none, got '%s'", optarg);
      break;
    case OPT_OBJECTIVE: rc = plan_train_parse_objective(o, optarg); break;
    case OPT_SPOT:
      if (!parse_double(optarg, &o->spot_rate) || o->spot_rate < 0 || o->spot_rate > 1e6)
        rc = usage_error("--spot-interruptions-per-hour: expected a number from 0 to 1e6 (per replica-hour), "
                         "got '%s'", optarg);
      break;
    case OPT_MAXR:
      if (!parse_long(optarg, 1, 100000, &v))
        rc = usage_error("--max-replicas: expected an integer from 1 to 100000, got '%s'", optarg);
      o->max_replicas = (int)v;
      break;
    case 'r':
      if (!parse_long(optarg, 1, 10000, &v))
        rc = usage_error("--replications: expected an integer from 1 to 10000, got '%s'", optarg);
      o->replications = (int)v;
      break;
    case 'j':
      if (!parse_long(optarg, 1, 1024, &v))
        rc = usage_error("--jobs: expected an integer from 1 to 1024, got '%s'", optarg);
      o->jobs = (int)v;
      break;
    case 'o': o->outdir = optarg; break;
    case 'q': o->quiet = true; break;
    case OPT_PLOT: o->plot = true; break;
    case OPT_SEED: {
      char *end;
      errno = 0;
      long long s = strtoll(optarg, &end, 10);
      if (errno || end == optarg || *end || s < 0 || s > SIM_SEED_MAX)
        rc = usage_error("--seed: expected an integer from 0 to 9000000000000000, got '%s'", optarg);
      o->seed = s;
      o->have_seed = true;
      break;
    }
    case OPT_SET: o->sets[o->nsets++] = optarg; break;
    case OPT_CATALOG: o->catalogs[o->ncatalogs++] = optarg; break;
    case OPT_MAX_INPUT:
      if (!cfg_parse_bytes(optarg, &o->max_input_bytes))
        rc = usage_error("--max-input-bytes: expected a number of bytes such as 1000000 or 64M, got '%s'", optarg);
      break;
    case 'h': plan_usage(stdout); return -1;
    default: return CMD_EXIT_USAGE;  /* getopt said why */
    }
  }
  if (rc) return rc;
  if (optind != argc - 1) {
    fprintf(stderr, "clustersim plan: expected exactly one scenario file, got %d\n", argc - optind);
    return CMD_EXIT_USAGE;
  }
  o->file = argv[optind];
  if (o->spot_rate >= 0 && !o->npricings)
    return usage_error("%s", "--spot-interruptions-per-hour is for --pricing spot");
  if (o->npools == 2 && o->npricings)
    return usage_error("%s", "--pools PREFILL,DECODE and --pricing: the fleet plan is of pool 0 alone");
  return 0;
}

/* ---- the base scenario ---- */

typedef struct {
  char *name, *pool_gpu, *model;
  int npools;
  double gpus_per_node, load_scale, tp;
  const char *price_key;   /* a price the scenario writes (pool 0's or the cost section's), or NULL */
  bool spot_written;       /* pool 0 writes interruptions_per_hour */
  char *burst_policy;      /* pool 0's autoscale policy other than none, else "predictive" */
} base_info;

/* Load the scenario with the user's settings. Errors that only say pool 0's
 * GPU and tp cannot hold the model do not matter: plan replaces them. The
 * candidates default to pool 0's GPU; their prices are settled here; and
 * the prefill and decode pools to size together, if any, go to pd. */
static int load_base(plan_opts *o, base_info *b, plan_pd_result *pd)
{
  cfg_scenario sc;
  cfg_errors errs;
  cfg_errors_init(&errs, o->file);
  cfg_load_opts lo = {.sets = o->sets, .nsets = o->nsets, .seed = o->have_seed ? &o->seed : NULL,
                      .catalogs = o->catalogs, .ncatalogs = o->ncatalogs, .max_input_bytes = o->max_input_bytes};
  bool ok = cfg_scenario_load(&sc, o->file, &lo, &errs);
  int rc = 0;
  if (!ok) {
    bool capacity = errs.len > 0 && sc.name;
    for (size_t i = 0; i < errs.len; i++)
      if (!plan_capacity_error(errs.msgs[i], errs.capacity[i])) capacity = false;
    if (!capacity) {
      cfg_errors_print(&errs, stderr);
      fprintf(stderr, "clustersim: %s: %zu error%s; nothing was simulated\n", o->file, errs.len,
              errs.len == 1 ? "" : "s");
      rc = CMD_EXIT_USAGE;
    }
  }
  const char *gpu = NULL;
  config_setting_t *pools = rc ? NULL : config_lookup(&sc.cfg, "cluster.pools");
  if (!rc && (!pools || config_setting_length(pools) < 1 ||
              !config_lookup_string(&sc.cfg, "cluster.pools.[0].gpu", &gpu))) {
    fprintf(stderr, "clustersim plan: %s: not a serving scenario (no cluster.pools with a gpu)\n", o->file);
    rc = CMD_EXIT_USAGE;
  }
  if (!rc) {
    b->name = xstrdup(sc.name);
    b->pool_gpu = xstrdup(gpu);
    const char *model = NULL;
    if (config_lookup_string(&sc.cfg, "model.name", &model)) b->model = xstrdup(model);
    b->npools = config_setting_length(pools);
    if (!plan_number(&sc.cfg, "cluster.pools.[0].gpus_per_node", &b->gpus_per_node)) b->gpus_per_node = 8;
    if (!plan_number(&sc.cfg, "workload.load_scale", &b->load_scale)) b->load_scale = 1;
    if (!plan_number(&sc.cfg, "cluster.pools.[0].tp", &b->tp)) b->tp = 1;
    double v;
    if (config_lookup(&sc.cfg, "cluster.pools.[0].usd_per_gpu_hour") &&
        plan_number(&sc.cfg, "cluster.pools.[0].usd_per_gpu_hour", &v) && v > 0)
      b->price_key = "cluster.pools.[0].usd_per_gpu_hour";
    else if (config_lookup(&sc.cfg, "cost.usd_per_gpu_hour") && plan_number(&sc.cfg, "cost.usd_per_gpu_hour", &v) &&
             v > 0)
      b->price_key = "cost.usd_per_gpu_hour";
    b->spot_written = config_lookup(&sc.cfg, "cluster.pools.[0].interruptions_per_hour") != NULL;
    const char *policy = NULL;
    config_lookup_string(&sc.cfg, "cluster.pools.[0].autoscale.policy", &policy);
    b->burst_policy = xstrdup(policy && strcmp(policy, "none") ? policy : "predictive");
    pd->prefill.index = pd->decode.index = -1;
    if (!o->npricings) rc = plan_pd_pools(o, &sc, pd);
    if (!rc && o->ngpus == 0) o->gpus[o->ngpus++] = xstrdup(b->pool_gpu);
    if (!rc) rc = plan_resolve_prices(o, &sc);
  }
  cfg_errors_release(&errs);
  cfg_scenario_release(&sc);
  return rc;
}

/* ---- the plan ---- */

static double wall_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The winner (or closest miss) over every type, into r. */
static void choose(plan_result *r)
{
  const plan_opts *o = r->o;
  r->winner_type = r->winner = -1;
  r->feasible = false;
  const plan_sim *w = NULL;
  for (int g = 0; g < o->ngpus; g++) {
    bool feasible;
    int b = plan_type_best(&r->types[g], &feasible);
    if (b < 0) continue;
    const plan_sim *x = &r->types[g].sims[b];
    bool take = !w || (feasible && !r->feasible) ||
                (feasible == r->feasible && (feasible ? plan_better(x, w) : plan_closer(x, w)));
    if (take) {
      w = x;
      r->winner_type = g;
      r->winner = b;
      r->feasible = feasible;
    }
  }
  r->simulations = r->configurations = 0;
  for (int g = 0; g < o->ngpus; g++)
    for (int k = 0; k < r->types[g].nsims; k++) {
      r->configurations++;
      r->simulations += r->types[g].sims[k].runs;
    }
}

/* `plan --pricing`: checks, the fleet searches, the answer. */
static int plan_fleets(plan_opts *o, const base_info *b, const plan_ctx *ctx, const char *outdir, double t0)
{
  if (o->ngpu_prices) {
    fprintf(stderr, "clustersim plan: --gpu-price gives one price for every pricing; with --pricing the prices are "
            "pool 0's provider's (give pool 0 a provider: clustersim list providers)\n");
    return CMD_EXIT_USAGE;
  }
  if (b->price_key) {
    fprintf(stderr, "clustersim plan: %s: %s is written, and would be the price of every pricing --pricing "
            "compares; remove it (or --set it to 0) so that each pricing has its provider's price\n", o->file,
            b->price_key);
    return CMD_EXIT_USAGE;
  }
  bool spot = false;
  for (int i = 0; i < o->npricings; i++) spot = spot || o->pricings[i] == COST_PRICING_SPOT;
  if (spot && o->spot_rate < 0 && !b->spot_written) {
    fprintf(stderr, "clustersim plan: --pricing spot: how often are spot replicas taken back? Give "
            "--spot-interruptions-per-hour R (per replica-hour; the providers' catalog has no rate; AWS's Spot "
            "Instance Advisor bands run from <5%% to >20%% of instances a month) or write "
            "cluster.pools.[0].interruptions_per_hour\n");
    return CMD_EXIT_USAGE;
  }
  plan_fleet_result res = {.o = o, .scenario = b->name, .model = b->model, .burst_policy = b->burst_policy};
  res.types = xcalloc((size_t)o->ngpus * (size_t)o->ntps, sizeof *res.types);
  int rc = SIM_PLAN_OK;
  bool any = false;
  for (int g = 0; g < o->ngpus && !rc; g++)
    for (int i = 0; i < o->ntps && !rc; i++) {
      plan_fleet_type *t = &res.types[res.ntypes++];
      t->gpu = g;
      t->tp = o->tps[i];
      int f = plan_fits(ctx, g, t->tp, t->reason, sizeof t->reason);
      if (f == SIM_PLAN_USER_ERROR) rc = CMD_EXIT_USAGE;
      t->fits = f == 1;
      any = any || t->fits;
      /* every pricing has a price here, every --slo metric is there: before anything runs */
      for (int p = 0; p < o->npricings && t->fits && !rc; p++) {
        int k = o->pricings[p];
        plan_fleet fl = k == COST_PRICING_SPOT ? (plan_fleet){0, -1, 1, k} : (plan_fleet){1, k, 0, -1};
        rc = plan_check_metrics(ctx, g, t->tp, &fl);
      }
    }
  if (!rc && !any) {
    fprintf(stderr, "clustersim plan: no candidate fits the model:");
    for (int g = 0; g < res.ntypes; g++)
      fprintf(stderr, "\n  %s, tp %d: %s", o->gpus[res.types[g].gpu], res.types[g].tp, res.types[g].reason);
    fputs("\n", stderr);
    rc = CMD_EXIT_USAGE;
  }
  if (!rc && !out_mkdirs(outdir)) {
    fprintf(stderr, "clustersim: %s: cannot create output directory: %s\n", outdir, strerror(errno));
    rc = CMD_EXIT_USAGE;
  }
  if (!rc) rc = plan_fleet_run(ctx, &res);
  if (rc == SIM_PLAN_STOPPED || (rc == SIM_PLAN_OK && (plan_stop || run_stop_signal()))) {
    int sig = plan_stop ? plan_stop : run_stop_signal();
    fprintf(stderr, "clustersim plan: interrupted; nothing was written\n");
    rc = 128 + (sig ? sig : SIGINT);
  }
  if (!rc) {
    res.wall_s = wall_now() - t0;
    if (!o->quiet) plan_fleet_print(stdout, &res);
    if (!plan_fleet_write(outdir, &res))
      rc = CMD_EXIT_FAIL;
    else if (!o->quiet)
      printf("plan: %s/plan.json, plan.csv\n", outdir);
    if (rc == 0 && o->plot && !plot_dir(outdir, NULL, o->quiet)) rc = CMD_EXIT_FAIL;
  }
  plan_fleet_release(&res);
  return rc;
}

/* With several models on the prefill and decode pools, every target holds
 * for each model, as in the placement plan: --slo METRIC becomes
 * modelN_METRIC for each model the summary numbers (a run cut at 1 ns says
 * which), into o->slo with the names kept in names. SIM_PLAN_OK, or a user
 * error (said) when a metric has no per-model form or there are too many. */
static int pd_per_model_targets(plan_opts *o, const plan_ctx *ctx, const plan_pd *first,
                                char (*names)[64])
{
  sim_report rep;
  int rc = plan_probe_pd(ctx, first, &rep);
  if (rc) return rc;
  plan_slo user[SIM_PLAN_MAX_TARGETS];
  int nuser = o->nslo;
  memcpy(user, o->slo, sizeof user);
  o->nslo = 0;
  for (int i = 0; i < nuser && rc == SIM_PLAN_OK; i++) {
    int found = 0;
    for (int m = 0; m < SIM_PLAN_MAX_MODELS && rc == SIM_PLAN_OK; m++) {
      char key[64];
      snprintf(key, sizeof key, "model%d_%s", m, user[i].metric);
      const sim_metric *x = sim_report_get(&rep, key);
      if (!x || x->kind == SIM_VAL_STR) continue;
      if (o->nslo == SIM_PLAN_MAX_TARGETS) {
        fprintf(stderr, "clustersim plan: too many per-model targets (at most %d)\n", SIM_PLAN_MAX_TARGETS);
        rc = SIM_PLAN_USER_ERROR;
        break;
      }
      snprintf(names[o->nslo], 64, "%s", key);
      o->slo[o->nslo] = (plan_slo){names[o->nslo], user[i].target};
      o->nslo++;
      found++;
    }
    if (!found && rc == SIM_PLAN_OK) {
      fprintf(stderr, "clustersim plan: --slo %s: with several models every target holds for each model "
              "(modelN_%s), and the summary has no model0_%s\n", user[i].metric, user[i].metric, user[i].metric);
      rc = SIM_PLAN_USER_ERROR;
    }
  }
  sim_report_release(&rep);
  return rc;
}

/* A plan of the prefill and decode pools (plan_pd.c): refusals of the
 * options of pool 0's search, the check, the searches, the answer. */
static int plan_pd_mode(plan_opts *o, const base_info *b, plan_pd_result *res, const plan_ctx *ctx,
                        const char *outdir, double t0)
{
  const char *flag = o->gpus_given || o->tps_given ? "--candidates"
                     : o->ngpu_prices            ? "--gpu-price"
                     : !(o->nscales == 1 && o->scales[0] == 1.0) ? "--load-scales"
                     : o->plot                   ? "--plot"
                                                 : NULL;
  if (flag) {
    const char *why = !strcmp(flag, "--plot")        ? ", and there is no figure of it yet"
                      : !strcmp(flag, "--gpu-price") ? ": --set cluster.pools.[i].usd_per_gpu_hour=USD instead"
                                                     : "";
    fprintf(stderr, "clustersim plan: %s: not for a plan of the prefill pool %d and the decode pool %d (their GPUs, "
            "tps and prices are as written%s); give --pools 0 to plan pool 0 alone\n", flag, res->prefill.index,
            res->decode.index, why);
    return CMD_EXIT_USAGE;
  }
  res->o = o;
  res->scenario = b->name;
  res->model = b->model;
  /* every --slo metric is there and the pools have prices: before anything runs */
  plan_pd first = {.prefill_pool = res->prefill.index, .decode_pool = res->decode.index, .prefill = 1, .decode = 1};
  static char names[SIM_PLAN_MAX_TARGETS][64];  /* the per-model targets' names, for o->slo */
  int rc = plan_models_count(o) >= 2 ? pd_per_model_targets(o, ctx, &first, names) : SIM_PLAN_OK;
  if (!rc) rc = plan_check_metrics_pd(ctx, &first);
  if (!rc && !out_mkdirs(outdir)) {
    fprintf(stderr, "clustersim: %s: cannot create output directory: %s\n", outdir, strerror(errno));
    rc = CMD_EXIT_USAGE;
  }
  if (!rc) rc = plan_pd_run(ctx, res);
  if (rc == SIM_PLAN_STOPPED || (rc == SIM_PLAN_OK && (plan_stop || run_stop_signal()))) {
    int sig = plan_stop ? plan_stop : run_stop_signal();
    fprintf(stderr, "clustersim plan: interrupted; nothing was written\n");
    rc = 128 + (sig ? sig : SIGINT);
  }
  if (!rc) {
    res->wall_s = wall_now() - t0;
    if (!o->quiet) plan_pd_print(stdout, res);
    if (!plan_pd_write(outdir, res))
      rc = CMD_EXIT_FAIL;
    else if (!o->quiet)
      printf("plan: %s/plan.json, plan.csv\n", outdir);
  }
  plan_pd_release(res);
  return rc;
}

static int plan(plan_opts *o)
{
  double t0 = wall_now();
  int trc;
  if (plan_train_mode(o, &trc)) return trc;  /* a training scenario: plan_train*.c */
  if (o->objective_given || o->ntrain_counts || o->nzeros)
    return usage_error("%s", "--objective and --candidates gpus=/zero= are for training scenarios");
  if (o->nslo == 0) return usage_error("%s", "at least one --slo METRIC=VALUE is needed, e.g. --slo ttft_p99_s=2");
  base_info b = {0};
  plan_pd_result pd = {0};
  int rc = load_base(o, &b, &pd);
  if (rc) {
    free(b.name);
    free(b.pool_gpu);
    free(b.model);
    free(b.burst_policy);
    return rc;
  }
  plan_ctx ctx = {o, b.load_scale, NULL, NULL};
  char *outdir = run_outdir(o->outdir, b.name, "-plan");
  bool models = plan_models_wanted(o, pd.prefill.index >= 0);
  if (models || pd.prefill.index >= 0) {
    rc = models ? plan_models_mode(o, b.name, b.load_scale, outdir, t0) : plan_pd_mode(o, &b, &pd, &ctx, outdir, t0);
    free(outdir);
    free(b.name);
    free(b.pool_gpu);
    free(b.model);
    free(b.burst_policy);
    return rc;
  }
  if (o->npricings) {
    /* the fleet of pool 0 as written: its own tp unless told */
    if (!o->tps_given) o->tps[o->ntps++] = (int)b.tp;
    rc = plan_fleets(o, &b, &ctx, outdir, t0);
    free(outdir);
    free(b.name);
    free(b.pool_gpu);
    free(b.model);
    free(b.burst_policy);
    return rc;
  }
  if (!o->tps_given)
    for (int tp = 1; tp <= 8 && tp <= b.gpus_per_node; tp *= 2) o->tps[o->ntps++] = tp;

  plan_type *types = xcalloc((size_t)o->ngpus, sizeof *types);
  plan_fit *fit = xcalloc((size_t)o->ngpus, sizeof *fit);
  for (int g = 0; g < o->ngpus; g++) types[g].gpu = g;
  /* which (GPU, tp) the loader takes: user errors (an unknown GPU) end here */
  for (int g = 0; g < o->ngpus && !rc; g++)
    for (int i = 0; i < o->ntps && !rc; i++) {
      int f = plan_fits(&ctx, g, o->tps[i], fit[g].reasons[i], sizeof fit[g].reasons[i]);
      if (f == SIM_PLAN_USER_ERROR) rc = CMD_EXIT_USAGE;
      fit[g].fits[i] = f == 1;
      fit[g].any = fit[g].any || f == 1;
    }
  if (rc) goto done;
  /* an --slo metric the summary lacks, a GPU without a price: before anything runs */
  for (int g = 0; g < o->ngpus && !rc; g++) {
    if (!fit[g].any) continue;
    int i = 0;
    while (!fit[g].fits[i]) i++;
    rc = plan_check_metrics(&ctx, g, o->tps[i], NULL);
  }
  /* the directory before the search, so that its results are not lost */
  if (rc == SIM_PLAN_OK && !out_mkdirs(outdir)) {
    fprintf(stderr, "clustersim: %s: cannot create output directory: %s\n", outdir, strerror(errno));
    rc = CMD_EXIT_USAGE;
    goto done;
  }
  if (rc == SIM_PLAN_OK) rc = plan_run_types(&ctx, types, fit);
  if (rc == SIM_PLAN_STOPPED || (rc == SIM_PLAN_OK && plan_stop)) {
    int sig = plan_stop ? plan_stop : run_stop_signal();
    fprintf(stderr, "clustersim plan: interrupted; nothing was written\n");
    rc = 128 + (sig ? sig : SIGINT);
    goto done;
  }
  if (rc) goto done;

  plan_result res = {.o = o, .scenario = b.name, .model = b.model, .pool_gpu = b.pool_gpu,
                         .npools = b.npools, .types = types};
  choose(&res);
  res.wall_s = wall_now() - t0;
  if (!o->quiet) plan_print(stdout, &res);
  if (!plan_write(outdir, &res)) {
    rc = CMD_EXIT_FAIL;
  } else if (!o->quiet) {
    printf("plan: %s/plan.json, plan.csv, plan_load.csv\n", outdir);
  }
  if (rc == 0 && o->plot && !plot_dir(outdir, NULL, o->quiet)) rc = CMD_EXIT_FAIL;
done:
  for (int g = 0; g < o->ngpus; g++) plan_type_release(&types[g]);
  free(types);
  free(fit);
  free(outdir);
  free(b.name);
  free(b.pool_gpu);
  free(b.model);
  free(b.burst_policy);
  return rc;
}

int cmd_plan(int argc, char **argv)
{
  plan_opts o;
  int rc = parse_opts(argc, argv, &o);
  if (rc == CMD_EXIT_USAGE) cmd_usage_error("plan", NULL);
  if (rc == 0) {
    struct sigaction old_int, old_term;
    plan_catch_signals(&old_int, &old_term);
    rc = plan(&o);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
  }
  for (int i = 0; i < o.ngpus; i++) free(o.gpus[i]);
  plan_prices_release(&o);
  free(o.sets);
  free(o.catalogs);
  return rc < 0 ? CMD_EXIT_OK : rc;
}
