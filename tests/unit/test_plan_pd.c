/* tests/unit/test_plan_pd.c: `clustersim plan` on a scenario that splits
 * prefill and decode (plan_pd.c), as a user runs it. The known answer
 * comes from grids run here by hand with `clustersim run`: every (prefill,
 * decode) pair up to 4 + 4 of a small DistServe-like scenario (OPT-13B on
 * A100s, 24 requests/s for 2 minutes: about 0.06 s a run, a few seconds
 * under the sanitizers), and every colocated fleet of 1 to 8 replicas of a
 * single pool of role "both" written out by the test. plan must pick the
 * grid's cheapest feasible pair and the cheapest colocated fleet, with
 * their costs, and the saving between them, in fewer simulations than the
 * grids; each pool's own price (3 p + 1 d by hand, the colocated fleet
 * then on the cheaper pool); the same files with -j 1 and -j 2; refusals (pools that are not
 * prefill and decode, bad pool numbers, pool 0's options) with exit 2 and
 * nothing written; --pools 0 keeps pool 0's own search; SIGINT gives 130
 * and no plan.json. In process: the colocated fleet's edit of a scenario
 * (a pool removed, the classes' pool numbers renumbered), and the pruned
 * staircase (plan_pools_search_pruned) against brute force and the full
 * walk. Scratch output
 * goes under CS_TEST_TMP, removed on success. */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libconfig.h>

#include "clitest.h"
#include "driver/plan/plan.h"
#include "driver/plan/plan_pools.h"
#include "testutil.h"

#define TTFT 0.4
#define TPOT 0.03
#define MAXR 4

/* The scenario: two pools of one GPU type, or (colocated) one pool of
 * role "both" with the same GPUs; everything else the same. */
static const char *const HEAD =
  "name = \"plan-pd\";\nseed = 3;\nwarmup_s = 20.0;\n"
  "model = { name = \"opt-13b\"; precision = \"fp16\"; };\n";
static const char *const PD_CLUSTER =
  "cluster = {\n"
  "  pools = ( { gpu = \"a100-80gb-sxm\"; replicas = 2; tp = 1; role = \"prefill\"; },\n"
  "            { gpu = \"a100-80gb-sxm\"; replicas = 2; tp = 1; role = \"decode\"; } );\n"
  "  kv_transfer_link = \"ib-hdr\";\n};\n";
static const char *const COLO_CLUSTER =
  "cluster = { pools = ( { gpu = \"a100-80gb-sxm\"; replicas = 2; tp = 1; role = \"both\"; } ); };\n";
static const char *const TAIL =
  "workload = {\n"
  "  arrivals = { rate = 24.0; };\n"
  "  prompt_tokens = { dist = \"fixed\"; value = 512; };\n"
  "  output_tokens = { dist = \"lognormal\"; mean = 128.0; cv = 1.0; };\n"
  "  duration_s = 120.0;\n  truncate = true;\n};\n"
  "scheduler = { policy = \"continuous\"; };\n";

static char *scratch;          /* the suite's scenarios */
static char *pd_cfg, *colo_cfg;

static void write_scenarios(void)
{
  if (scratch) return;
  scratch = cs_tmpdir("plan_pd_cfg");
  char *pd = cs_fmt("%s%s%s", HEAD, PD_CLUSTER, TAIL), *colo = cs_fmt("%s%s%s", HEAD, COLO_CLUSTER, TAIL);
  pd_cfg = cs_write_file(scratch, "pd.cfg", pd);
  colo_cfg = cs_write_file(scratch, "colo.cfg", colo);
  free(pd);
  free(colo);
}

static char *slurp_in(const char *dir, const char *name)
{
  char *p = path_join(dir, name);
  char *s = cs_slurp(p, NULL);
  free(p);
  return s;
}

static int count_lines(const char *s)
{
  int n = 0;
  for (; s && *s; s++) n += *s == '\n';
  return n;
}

/* ---- the grids, by hand ---- */

typedef struct {
  bool ran, feasible;
  double ttft, tpot, cost, gpus, rejected, ratio;
} cell;

static cell pd_grid[MAXR + 1][MAXR + 1];   /* [prefill][decode] */
static cell colo_grid[2 * MAXR + 1];       /* [replicas] */
static bool grids_ok;

/* `clustersim run cfg` with the sets, into c. */
static void run_cell(const char *cfg, const char *out, const char *set1, const char *set2, cell *c)
{
  const char *args[12] = {"run", cfg, "-q", "-o", out, "--set", set1};
  int n = 7;
  if (set2) args[n++] = "--set", args[n++] = set2;
  args[n] = NULL;
  result r = run_argv(NULL, args);
  CHECK_RC(r, 0);
  char *json = slurp_in(out, "summary.json");
  c->ran = json && json_num(json, "ttft_p90_s", &c->ttft) && json_num(json, "tpot_p90_s", &c->tpot) &&
           json_num(json, "usd_per_hour", &c->cost) && json_num(json, "gpus", &c->gpus) &&
           json_num(json, "requests_rejected", &c->rejected);
  CHECK(c->ran, "%s: no summary with ttft, tpot, cost, gpus and rejections", r.cmd);
  if (!c->ran) grids_ok = false;
  c->feasible = c->ttft <= TTFT && c->tpot <= TPOT && c->rejected == 0;
  c->ratio = fmax(c->ttft / TTFT, c->tpot / TPOT);
  free(json);
  result_free(&r);
}

static void run_grids(void)
{
  static bool done;
  if (done) return;
  done = true;
  grids_ok = true;
  write_scenarios();
  char *dir = cs_tmpdir("plan_pd_grid");
  for (int p = 1; p <= MAXR; p++)
    for (int d = 1; d <= MAXR; d++) {
      char sp[64], sd[64], out[4096];
      snprintf(sp, sizeof sp, "cluster.pools.[0].replicas=%d", p);
      snprintf(sd, sizeof sd, "cluster.pools.[1].replicas=%d", d);
      snprintf(out, sizeof out, "%s/pd_%d_%d", dir, p, d);
      run_cell(pd_cfg, out, sp, sd, &pd_grid[p][d]);
    }
  for (int n = 1; n <= 2 * MAXR; n++) {
    char sn[64], out[4096];
    snprintf(sn, sizeof sn, "cluster.pools.[0].replicas=%d", n);
    snprintf(out, sizeof out, "%s/colo_%d", dir, n);
    run_cell(colo_cfg, out, sn, NULL, &colo_grid[n]);
  }
  /* plan's staircase rests on this: more of either pool never loses the targets */
  for (int p = 1; p <= MAXR; p++)
    for (int d = 1; d <= MAXR; d++) {
      bool up = (p < MAXR && pd_grid[p][d].feasible && !pd_grid[p + 1][d].feasible) ||
                (d < MAXR && pd_grid[p][d].feasible && !pd_grid[p][d + 1].feasible);
      CHECK(!up, "grid: %d prefill + %d decode meets the targets, one more replica of a pool does not: "
            "pick targets for which feasibility is monotone", p, d);
      if (up) grids_ok = false;
    }
  cs_rm_rf(dir);
  free(dir);
}

/* The rules plan documents: cheaper (relative 1e-9), then fewer GPUs, then
 * the smaller worst value/target ratio. */
static bool better(const cell *a, const cell *b)
{
  double tol = 1e-9 * fmax(a->cost, b->cost);
  if (a->cost < b->cost - tol) return true;
  if (a->cost > b->cost + tol) return false;
  if (a->gpus != b->gpus) return a->gpus < b->gpus;
  return a->ratio < b->ratio;
}

/* plan of the test scenario, up to MAXR replicas a pool, with its table
 * (progress and all) unless quiet. */
static result plan_table(const char *out, const char *jobs, bool quiet, const char *extra1, const char *extra2)
{
  const char *args[24] = {"plan", pd_cfg, "--slo", "ttft_p90_s=0.4", "--slo", "tpot_p90_s=0.03",
                          "--max-replicas", "4", "-j", jobs, "-o", out};
  int n = 12;
  if (quiet) args[n++] = "-q";
  if (extra1) args[n++] = extra1;
  if (extra2) args[n++] = extra2;
  args[n] = NULL;
  return run_argv(NULL, args);
}

static result run_plan(const char *out, const char *jobs, const char *extra1, const char *extra2)
{
  return plan_table(out, jobs, true, extra1, extra2);
}

/* ---- tests ---- */

/* plan finds the grid's cheapest pair and the cheapest colocated fleet,
 * with fewer simulations than the grids. */
static void test_known_answer(void)
{
  unsigned f0 = CU_get_number_of_failures();
  run_grids();
  if (!grids_ok) return;
  const cell *best = NULL, *colo = NULL;
  int bp = 0, bd = 0, bn = 0;
  for (int p = 1; p <= MAXR; p++)
    for (int d = 1; d <= MAXR; d++)
      if (pd_grid[p][d].feasible && (!best || better(&pd_grid[p][d], best))) best = &pd_grid[p][d], bp = p, bd = d;
  for (int n = 1; n <= 2 * MAXR; n++)
    if (colo_grid[n].feasible && (!colo || better(&colo_grid[n], colo))) colo = &colo_grid[n], bn = n;
  CHECK(best && colo, "the grids have no feasible pair or colocated fleet: the test scenario needs new targets");
  if (!best || !colo) return;
  /* the answer is not a corner of the grid and not a tie: the test can fail */
  int ties = 0;
  for (int p = 1; p <= MAXR; p++)
    for (int d = 1; d <= MAXR; d++) ties += pd_grid[p][d].feasible && !better(best, &pd_grid[p][d]);
  CHECK(ties == 1 && bp != bd, "grid: %d pairs tie at the cheapest (%d + %d): pick targets with one answer", ties, bp,
        bd);

  char *dir = cs_tmpdir("plan_pd_known");
  result r = run_plan(dir, "2", NULL, NULL);
  CHECK_RC(r, 0);
  json_t *j = load_json(dir, "plan.json");
  const json_t *pre = json_object_get(j, "prefill"), *dec = json_object_get(j, "decode");
  const json_t *c = json_object_get(j, "colocated");
  CHECK(json_is_true(json_object_get(j, "feasible")), "plan.json: feasible is not true");
  CHECK(!strcmp(json_string_value(json_object_get(j, "mode")) ? json_string_value(json_object_get(j, "mode")) : "",
                "prefill-decode"),
        "plan.json: mode is not prefill-decode");
  CHECK(cs_jnum(pre, "replicas") == bp && cs_jnum(dec, "replicas") == bd,
        "plan chose %g prefill + %g decode; the grid's cheapest is %d + %d ($%g/h)", cs_jnum(pre, "replicas"),
        cs_jnum(dec, "replicas"), bp, bd, best->cost);
  CHECK(cs_jnum(pre, "pool") == 0 && cs_jnum(dec, "pool") == 1, "plan.json: pools %g and %g, expected 0 and 1",
        cs_jnum(pre, "pool"), cs_jnum(dec, "pool"));
  CS_CHECK_REL(cs_jnum(j, "usd_per_hour"), best->cost, 1e-12, "usd_per_hour");
  CS_CHECK_REL(cs_jnum(j, "prefill_decode_ratio"), (double)bp / bd, 1e-15, "prefill_decode_ratio");
  CHECK(cs_jnum(j, "replicas") == bp + bd && cs_jnum(j, "gpus") == best->gpus, "plan.json: replicas %g, gpus %g",
        cs_jnum(j, "replicas"), cs_jnum(j, "gpus"));
  const json_t *m = json_object_get(j, "metrics");
  CS_CHECK_REL(cs_jnum(m, "ttft_p90_s"), best->ttft, 1e-12, "metrics.ttft_p90_s");
  CS_CHECK_REL(cs_jnum(m, "tpot_p90_s"), best->tpot, 1e-12, "metrics.tpot_p90_s");
  /* the colocated fleet plan builds equals the one written by hand */
  CHECK(cs_jnum(c, "replicas") == bn, "colocated: %g replicas, the grid's fewest feasible is %d", cs_jnum(c, "replicas"), bn);
  CS_CHECK_REL(cs_jnum(c, "usd_per_hour"), colo->cost, 1e-12, "colocated.usd_per_hour");
  CS_CHECK_REL(cs_jnum(json_object_get(c, "metrics"), "tpot_p90_s"), colo->tpot, 1e-12, "colocated tpot_p90_s");
  CS_CHECK_REL(cs_jnum(j, "disaggregation_saving_usd_per_hour"), colo->cost - best->cost, 1e-12, "saving");
  CS_CHECK_REL(cs_jnum(j, "disaggregation_saving_fraction"), (colo->cost - best->cost) / colo->cost, 1e-12,
               "saving fraction");
  double sims = cs_jnum(j, "simulations"), configs = cs_jnum(j, "configurations");
  int grid = MAXR * MAXR + 2 * MAXR;
  CHECK(sims > 0 && sims < grid, "plan ran %g simulations; the grids have %d", sims, grid);
  /* plan.csv: a header and a row per configuration, disaggregated first */
  char *csv = slurp_in(dir, "plan.csv");
  const char *head = "layout,prefill_replicas,decode_replicas,colocated_pool,replicas,gpus,feasible,usd_per_hour,"
                     "usd_per_million_tokens,ttft_p90_s,tpot_p90_s,requests_rejected,replications_run,reason,";
  CHECK(csv && !strncmp(csv, head, strlen(head)), "plan.csv header: %.200s", csv ? csv : "(none)");
  CHECK(count_lines(csv) == (int)configs + 1, "plan.csv has %d lines for %g configurations", count_lines(csv), configs);
  /* every row agrees with the grid */
  const char *line = csv ? strchr(csv, '\n') : NULL;
  int rows = 0;
  while (line && line[1]) {
    char layout[32] = "";
    double p = NAN, d = NAN, cost = NAN;
    int feasible = -1;
    line++;
    if (sscanf(line, "disaggregated,%lf,%lf,,%*f,%*f,%d,%lf,", &p, &d, &feasible, &cost) == 4) {
      snprintf(layout, sizeof layout, "disaggregated");
      const cell *g = &pd_grid[(int)p][(int)d];
      CHECK(p >= 1 && p <= MAXR && d >= 1 && d <= MAXR && g->feasible == (feasible == 1) && cs_rel_close(cost, g->cost, 1e-12),
            "plan.csv: %.80s disagrees with the grid", line);
    } else if (sscanf(line, "colocated,,,0,%lf,%*f,%d,%lf,", &p, &feasible, &cost) == 3) {
      snprintf(layout, sizeof layout, "colocated");
      const cell *g = &colo_grid[(int)p];
      CHECK(p >= 1 && p <= 2 * MAXR && g->feasible == (feasible == 1) && cs_rel_close(cost, g->cost, 1e-12),
            "plan.csv: %.80s disagrees with the grid", line);
    }
    CHECK(layout[0], "plan.csv: unexpected row %.80s", line);
    rows++;
    line = strchr(line, '\n');
  }
  CHECK(rows == (int)configs, "plan.csv: %d rows", rows);
  free(csv);
  json_decref(j);
  result_free(&r);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* Prices of each pool's own (--set cluster.pools.[i].usd_per_gpu_hour):
 * the same grid, costs 3 p + 1 d by hand; the two pools now differ, so
 * the colocated fleet is searched on each, and the decode pool's cheaper
 * GPUs win it. */
static void test_prices(void)
{
  unsigned f0 = CU_get_number_of_failures();
  run_grids();
  if (!grids_ok) return;
  const double pp = 3, pd = 1;
  int bp = 0, bd = 0, bn = 0;
  double best = INFINITY;
  for (int p = 1; p <= MAXR; p++)
    for (int d = 1; d <= MAXR; d++)
      if (pd_grid[p][d].feasible && pp * p + pd * d < best) best = pp * p + pd * d, bp = p, bd = d;
  for (int n = 2 * MAXR; n >= 1; n--)
    if (colo_grid[n].feasible) bn = n;
  CHECK(bp && bn, "the grids have no feasible pair or colocated fleet");
  char *dir = cs_tmpdir("plan_pd_prices");
  result r = run_plan(dir, "2", "--set=cluster.pools.[0].usd_per_gpu_hour=3", "--set=cluster.pools.[1].usd_per_gpu_hour=1");
  CHECK_RC(r, 0);
  json_t *j = load_json(dir, "plan.json");
  const json_t *c = json_object_get(j, "colocated");
  CHECK(cs_jnum(json_object_get(j, "prefill"), "replicas") == bp && cs_jnum(json_object_get(j, "decode"), "replicas") == bd,
        "prices 3 and 1: plan chose %g + %g, the grid %d + %d", cs_jnum(json_object_get(j, "prefill"), "replicas"),
        cs_jnum(json_object_get(j, "decode"), "replicas"), bp, bd);
  CS_CHECK_REL(cs_jnum(j, "usd_per_hour"), best, 1e-12, "usd_per_hour = 3 p + 1 d");
  CHECK(cs_jnum(c, "pool") == 1 && cs_jnum(c, "replicas") == bn, "colocated: pool %g, %g replicas; expected pool 1, %d",
        cs_jnum(c, "pool"), cs_jnum(c, "replicas"), bn);
  CS_CHECK_REL(cs_jnum(c, "usd_per_hour"), pd * bn, 1e-12, "colocated usd_per_hour = 1 x replicas");
  CS_CHECK_REL(cs_jnum(j, "disaggregation_saving_usd_per_hour"), pd * bn - best, 1e-12, "saving");
  /* both colocated searches in plan.csv */
  char *csv = slurp_in(dir, "plan.csv");
  CHECK(csv && strstr(csv, "\ncolocated,,,0,") && strstr(csv, "\ncolocated,,,1,"),
        "plan.csv: no colocated rows of both pools");
  free(csv);
  json_decref(j);
  result_free(&r);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* The files do not depend on -j (plan.json's wall time aside); the table
 * names the answer and the saving. */
static void test_jobs(void)
{
  unsigned f0 = CU_get_number_of_failures();
  write_scenarios();
  char *dir = cs_tmpdir("plan_pd_jobs");
  char *d1 = path_join(dir, "j1"), *d2 = path_join(dir, "j2");
  result r1 = run_plan(d1, "1", NULL, NULL);
  result r2 = plan_table(d2, "2", false, NULL, NULL);
  CHECK_RC(r1, 0);
  CHECK_RC(r2, 0);
  static const char *const files[] = {"plan.json", "plan.csv"};
  for (int i = 0; i < 2; i++) {
    char *a = slurp_in(d1, files[i]), *b = slurp_in(d2, files[i]);
    /* "wall_s" is plan.json's last member */
    char *wa = a ? strstr(a, "\"wall_s\"") : NULL, *wb = b ? strstr(b, "\"wall_s\"") : NULL;
    if (wa) *wa = '\0';
    if (wb) *wb = '\0';
    CHECK(a && b && !strcmp(a, b), "%s differs between -j 1 and -j 2 (%s, %s)", files[i], d1, d2);
    free(a);
    free(b);
  }
  result_free(&r1);
  /* the table of the -j 2 run */
  result r = r2;
  CHECK_OUT_HAS(r, "the prefill:decode ratio: prefill pool 0 (a100-80gb-sxm, tp 1), decode pool 1");
  CHECK_OUT_HAS(r, "cheapest: 2 prefill + 3 decode replicas (prefill:decode 2:3) = 5 GPUs");
  CHECK_OUT_HAS(r, "colocated on pool 0 (role both, a100-80gb-sxm, tp 1): 7 replicas = 7 GPUs");
  CHECK_OUT_HAS(r, "disaggregation saves");
  result_free(&r);
  cs_cleanup_if_passed(dir, f0);
  free(d1);
  free(d2);
  free(dir);
}

/* Refusals: exit 2, a message naming the problem, nothing written. */
static void test_refusals(void)
{
  unsigned f0 = CU_get_number_of_failures();
  write_scenarios();
  char *dir = cs_tmpdir("plan_pd_refusals");
  char *two_prefill = cs_write_file(
      scratch, "two_prefill.cfg",
      "name = \"two-prefill\";\nmodel = { name = \"opt-13b\"; precision = \"fp16\"; };\n"
      "cluster = { pools = ( { gpu = \"a100-80gb-sxm\"; role = \"prefill\"; },\n"
      "  { gpu = \"a100-80gb-sxm\"; role = \"prefill\"; }, { gpu = \"a100-80gb-sxm\"; role = \"decode\"; } ); };\n"
      "workload = { arrivals = { rate = 1.0; }; duration_s = 10.0;\n"
      "  prompt_tokens = { dist = \"fixed\"; value = 512; }; output_tokens = { dist = \"fixed\"; value = 64; }; };\n");
  const char *small = CS_SOURCE_DIR "/tests/plan/small.cfg";
  struct {
    const char *args[16];
    const char *want;
  } cases[] = {
    {{"plan", pd_cfg, "--slo", "ttft_p90_s=1", "--pools", "1,0", "-o", dir},
     "--pools 1,0: cluster.pools.[1] has role \"decode\" (expected \"prefill\": --pools PREFILL,DECODE names a pool "
     "of role \"prefill\" and one of role \"decode\")"},
    {{"plan", pd_cfg, "--slo", "ttft_p90_s=1", "--pools", "0,5", "-o", dir},
     "has no cluster.pools.[5] (it has 2 pools: 0 to 1)"},
    {{"plan", pd_cfg, "--slo", "ttft_p90_s=1", "--pools", "0,0", "-o", dir},
     "--pools: the prefill pool and the decode pool must differ, got '0,0'"},
    {{"plan", pd_cfg, "--slo", "ttft_p90_s=1", "--pools", "1", "-o", dir},
     "--pools: expected PREFILL,DECODE (two pool numbers such as 0,1) or 0 (pool 0 alone), got '1'"},
    {{"plan", pd_cfg, "--slo", "ttft_p90_s=1", "--pools", "0,1,2", "-o", dir}, "got '0,1,2'"},
    {{"plan", pd_cfg, "--slo", "ttft_p90_s=1", "--pools", "-1,1", "-o", dir}, "got '-1,1'"},
    {{"plan", pd_cfg, "--slo", "ttft_p90_s=1", "--pools", "a,b", "-o", dir}, "got 'a,b'"},
    {{"plan", small, "--slo", "ttft_p99_s=1", "--pools", "0,1", "-o", dir}, "has no cluster.pools.[1]"},
    {{"plan", two_prefill, "--slo", "ttft_p99_s=1", "--pools", "0,1", "-o", dir},
     "cluster.pools.[1] has role \"prefill\" (expected \"decode\""},
    {{"plan", two_prefill, "--slo", "ttft_p99_s=1", "-o", dir},
     "has 2 pools of role \"prefill\" and 1 of role \"decode\": say which two to size with --pools "
     "PREFILL,DECODE (or --pools 0 for pool 0 alone)"},
    {{"plan", pd_cfg, "--slo", "ttft_p90_s=1", "--pools", "0,1", "--pricing", "spot", "-o", dir},
     "--pools PREFILL,DECODE and --pricing: the fleet plan is of pool 0 alone"},
    {{"plan", pd_cfg, "--slo", "ttft_p90_s=1", "--candidates", "gpu=h100-sxm", "-o", dir},
     "--candidates: not for a plan of the prefill pool 0 and the decode pool 1 (their GPUs, tps and prices are as "
     "written); give --pools 0 to plan pool 0 alone"},
    {{"plan", pd_cfg, "--slo", "ttft_p90_s=1", "--candidates", "tp=1,2", "-o", dir}, "--candidates: not for a plan"},
    {{"plan", pd_cfg, "--slo", "ttft_p90_s=1", "--gpu-price", "a100-80gb-sxm=1", "-o", dir},
     "--gpu-price: not for a plan of the prefill pool 0 and the decode pool 1 (their GPUs, tps and prices are as "
     "written: --set cluster.pools.[i].usd_per_gpu_hour=USD instead)"},
    {{"plan", pd_cfg, "--slo", "ttft_p90_s=1", "--load-scales", "1,2", "-o", dir}, "--load-scales: not for a plan"},
    {{"plan", pd_cfg, "--slo", "ttft_p90_s=1", "--plot", "-o", dir}, "and there is no figure of it yet"},
    {{"plan", pd_cfg, "--slo", "ttft_p90=1", "-o", dir}, "--slo ttft_p90: not a numeric metric"},
    {{"plan", pd_cfg, "--slo", "ttft_p90_s=1", "--set", "cluster.pools.[1].tp=3", "-o", dir}, "cluster.pools.[1].tp"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    result r = run_argv(NULL, cases[i].args);
    CHECK_RC(r, 2);
    CHECK_ERR_HAS(r, cases[i].want);
    result_free(&r);
  }
  char *json = slurp_in(dir, "plan.json");
  CHECK(json == NULL, "plan.json written after a refusal");
  free(json);
  free(two_prefill);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* --pools 0: pool 0's own search (GPU x tp x replicas), as before the
 * split plan existed. */
static void test_pool0(void)
{
  unsigned f0 = CU_get_number_of_failures();
  write_scenarios();
  char *dir = cs_tmpdir("plan_pd_pool0");
  result r = run_plan(dir, "2", "--pools=0", "--candidates=tp=1");
  CHECK_RC(r, 0);
  json_t *j = load_json(dir, "plan.json");
  CHECK(json_object_get(j, "mode") == NULL && json_is_array(json_object_get(j, "searches")) &&
            cs_jnum(j, "pool") == 0,
        "--pools 0: plan.json is not pool 0's plan");
  json_decref(j);
  result_free(&r);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* SIGINT mid-search: exit 130, no plan.json, with and without workers. */
static void interrupt_case(const char *jobs)
{
  char tag[32];
  snprintf(tag, sizeof tag, "plan_pd_int%s", jobs);
  char *dir = cs_tmpdir(tag);
  unsigned f0 = CU_get_number_of_failures();
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    /* 500 seeds per feasible configuration: minutes if not stopped */
    execl(CS_BIN, CS_BIN, "plan", pd_cfg, "--slo", "ttft_p90_s=0.4", "--slo", "tpot_p90_s=0.03", "-r", "500", "-j",
          jobs, "-o", dir, (char *)NULL);
    _exit(127);
  }
  struct timespec nap = {0, 500000000};
  nanosleep(&nap, NULL);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  kill(pid, SIGINT);
  int st = 0;
  waitpid(pid, &st, 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double waited = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 130, "-j %s: exit status %d after SIGINT, expected 130", jobs,
        WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
  CHECK(waited < 5, "-j %s: took %.1f s to stop after SIGINT", jobs, waited);
  char *json = slurp_in(dir, "plan.json");
  CHECK(json == NULL, "-j %s: plan.json written after SIGINT", jobs);
  free(json);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

static void test_interrupt(void)
{
  write_scenarios();
  interrupt_case("1");
  interrupt_case("2");
}

/* plan_pd_shape: the colocated fleet keeps one pool (role both, the
 * replicas asked), removes the other and the transfer link, and renumbers
 * the classes' pools; a third pool stays. */
static void shape_case(int keep, int want_pool, const int *want_pools, int nwant)
{
  static const char *const text =
    "cluster = { pools = ( { gpu = \"a\"; role = \"prefill\"; replicas = 2; },\n"
    "                      { gpu = \"b\"; role = \"both\"; },\n"
    "                      { gpu = \"c\"; role = \"decode\"; replicas = 5; } );\n"
    "            kv_transfer_link = \"ib-hdr\"; };\n"
    "workload = { pools = [0, 2];\n"
    "             classes = ( { pool = 2; }, { pools = [1, 2, 0]; }, { pool = -1; } ); };\n";
  config_t cfg;
  config_init(&cfg);
  CHECK(config_read_string(&cfg, text) == CONFIG_TRUE, "shape: the test's scenario does not parse");
  plan_pd pd = {.prefill_pool = 0, .decode_pool = 2, .colocated = true, .keep = keep, .replicas = 7};
  cfg_errors errs;
  cfg_errors_init(&errs, "shape.cfg");
  CHECK(plan_pd_shape(&cfg, &pd, &errs), "shape: refused");
  config_setting_t *pools = config_lookup(&cfg, "cluster.pools");
  CHECK(pools && config_setting_length(pools) == 2, "shape: %d pools, expected 2",
        pools ? config_setting_length(pools) : -1);
  const char *gpu = NULL, *role = NULL, *other = NULL;
  int replicas = 0, pool = -9;
  int k = keep == 0 ? 0 : 1;   /* the kept pool's new index */
  char path[64];
  snprintf(path, sizeof path, "cluster.pools.[%d].gpu", k);
  config_lookup_string(&cfg, path, &gpu);
  snprintf(path, sizeof path, "cluster.pools.[%d].role", k);
  config_lookup_string(&cfg, path, &role);
  snprintf(path, sizeof path, "cluster.pools.[%d].replicas", k);
  config_lookup_int(&cfg, path, &replicas);
  snprintf(path, sizeof path, "cluster.pools.[%d].gpu", 1 - k);
  config_lookup_string(&cfg, path, &other);
  CHECK(gpu && !strcmp(gpu, keep == 0 ? "a" : "c") && role && !strcmp(role, "both") && replicas == 7,
        "shape keep %d: pool %d is %s, role %s, %d replicas", keep, k, gpu ? gpu : "?", role ? role : "?", replicas);
  CHECK(other && !strcmp(other, "b"), "shape keep %d: the third pool is %s", keep, other ? other : "?");
  CHECK(config_lookup(&cfg, "cluster.kv_transfer_link") == NULL, "shape: kv_transfer_link kept");
  config_lookup_int(&cfg, "workload.classes.[0].pool", &pool);
  CHECK(pool == want_pool, "shape keep %d: class 0's pool %d, expected %d", keep, pool, want_pool);
  config_setting_t *many = config_lookup(&cfg, "workload.classes.[1].pools");
  int n = many ? config_setting_length(many) : -1;
  bool same = n == nwant;
  for (int i = 0; same && i < n; i++) same = config_setting_get_int_elem(many, i) == want_pools[i];
  CHECK(same, "shape keep %d: class 1's pools are not as expected (%d of them)", keep, n);
  config_lookup_int(&cfg, "workload.classes.[2].pool", &pool);
  CHECK(pool == -1, "shape: class 2's pool -1 became %d", pool);
  config_setting_t *w = config_lookup(&cfg, "workload.pools");
  CHECK(w && config_setting_length(w) == 1 && config_setting_get_int_elem(w, 0) == k,
        "shape keep %d: workload.pools is not [%d]", keep, k);
  cfg_errors_release(&errs);
  config_destroy(&cfg);
}

static void test_shape(void)
{
  /* keep prefill pool 0, drop 2: 2 -> 0; [1, 2, 0] -> [1, 0] */
  shape_case(0, 0, (const int[]){1, 0}, 2);
  /* keep decode pool 2, drop 0: 2 -> 1, 1 -> 0, 0 -> 2 -> 1; [1, 2, 0] -> [0, 1] */
  shape_case(2, 1, (const int[]){0, 1}, 2);
}

/* ---- plan_pools_search_pruned, in process ---- */

/* A prefill/decode-like landscape: each pool has a floor below which
 * nothing meets the targets (prefill-bound TTFT, decode-bound TPOT), and
 * above the floors more of either helps with diminishing returns; cost is
 * linear in the sizes. */
typedef struct {
  int floor_a, floor_b;
  double wa, wb, need, pa, pb;
  int probes;
} pd_land;

static bool land_ok(const pd_land *l, int a, int b)
{
  return a >= l->floor_a && b >= l->floor_b && l->wa * sqrt((double)a) + l->wb * sqrt((double)b) >= l->need;
}

static int land_probe(void *arg, const int *v, bool *feasible, double *cost)
{
  pd_land *l = arg;
  l->probes++;
  *feasible = land_ok(l, v[0], v[1]);
  *cost = l->pa * v[0] + l->pb * v[1];
  return 0;
}

/* The pruned search finds what the full walk finds (the brute-force
 * optimum itself when the range needs no stride, within one replica of
 * the last pool otherwise), with no more probes, and fewer on wide ranges,
 * where the decode floor keeps the full walk from ending on its own
 * (measured: 23-28 probes against 59-70 up to 64 + 64). */
static void test_pruned(void)
{
  static const double ratios[] = {0.25, 1, 4};
  static const int his[] = {8, 64};
  for (size_t h = 0; h < 2; h++)
    for (size_t i = 0; i < 3; i++) {
      pd_land l = {.floor_a = 2, .floor_b = 3, .wa = 1, .wb = 1, .need = 4.5, .pa = ratios[i], .pb = 1};
      int hi = his[h];
      plan_pools_space sp = {2, {1, 1}, {hi, hi}};
      double want = INFINITY;
      for (int a = 1; a <= hi; a++)
        for (int b = 1; b <= hi; b++)
          if (land_ok(&l, a, b) && l.pa * a + l.pb * b < want) want = l.pa * a + l.pb * b;
      plan_pools_result full, pruned;
      l.probes = 0;
      CU_ASSERT_EQUAL(plan_pools_search(&sp, land_probe, &l, &full), 0);
      int full_probes = l.probes;
      l.probes = 0;
      CU_ASSERT_EQUAL(plan_pools_search_pruned(&sp, land_probe, &l, &pruned), 0);
      CHECK(pruned.found && full.found, "pruned: nothing found (ratio %g, up to %d)", ratios[i], hi);
      if (!pruned.found || !full.found) continue;
      CHECK(pruned.cost <= full.cost + 1e-12, "pruned: $%g against the full walk's $%g (ratio %g, up to %d)",
            pruned.cost, full.cost, ratios[i], hi);
      double slack = hi > 16 ? l.pb : 0;
      CHECK(pruned.cost >= want - 1e-12 && pruned.cost <= want + slack + 1e-12,
            "pruned: $%g, brute force $%g (ratio %g, up to %d)", pruned.cost, want, ratios[i], hi);
      CHECK(land_ok(&l, pruned.v[0], pruned.v[1]), "pruned: the answer does not meet the targets");
      /* up to 64 the walk would go on far past the answer; up to 8 with
       * cheap prefill, (a, 1) stays cheaper than the best to the end */
      CHECK(pruned.probes == l.probes && pruned.probes <= full_probes && (hi < 64 || pruned.probes < full_probes),
            "pruned: %d probes against %d for the full walk (ratio %g, up to %d)", pruned.probes, full_probes,
            ratios[i], hi);
    }
}

static void cleanup(void)
{
  if (scratch && CU_get_number_of_failures() == 0) cs_rm_rf(scratch);
  free(scratch);
  free(pd_cfg);
  free(colo_cfg);
}

/* Two models on the prefill and decode pools: every --slo target holds
 * for each model (modelN_METRIC), as in the placement plan; the plan's
 * pair, run whole, meets each model's target; one prefill or one decode
 * replica fewer misses one (or is the plan's own minimum); a metric
 * without a per-model form exits 2. */
static void test_two_models(void)
{
  char *dir = cs_tmpdir("plan_pd_models");
  char *cfg = cs_write_file(
    dir, "mm.cfg",
    "name = \"pd-two-models\";\nseed = 1;\nwarmup_s = 20.0;\n"
    "model = { name = \"llama3.1-8b\"; precision = \"bf16\"; };\n"
    "cluster = {\n"
    "  pools = ( { gpu = \"h100-sxm\"; replicas = 2; tp = 1; role = \"prefill\"; "
    "models = [\"llama3.1-8b\", \"mistral-7b\"]; },\n"
    "            { gpu = \"h100-sxm\"; replicas = 2; tp = 1; role = \"decode\"; "
    "models = [\"llama3.1-8b\", \"mistral-7b\"]; } );\n"
    "  kv_transfer_link = \"ib-ndr\";\n};\n"
    "workload = {\n  classes = (\n"
    "    { name = \"a\"; model = \"llama3.1-8b\"; arrivals = { rate = 6.0; };\n"
    "      prompt_tokens = { dist = \"fixed\"; value = 512; }; output_tokens = { dist = \"fixed\"; value = 128; }; },\n"
    "    { name = \"b\"; model = \"mistral-7b\"; arrivals = { rate = 1.0; };\n"
    "      prompt_tokens = { dist = \"fixed\"; value = 2048; }; output_tokens = { dist = \"fixed\"; value = 64; }; } );\n"
    "  duration_s = 120.0;\n};\n"
    "scheduler = { policy = \"continuous\"; };\n");
  char *out = path_join(dir, "plan");
  result r = RUN("plan", cfg, "--pools", "0,1", "--slo", "ttft_p99_s=0.5", "-o", out, "--quiet");
  CHECK_RC(r, 0);
  result_free(&r);
  json_t *j = load_json(out, "plan.json");
  CHECK(j && json_is_true(json_object_get(j, "feasible")), "plan.json: not feasible");
  const json_t *m = json_object_get(j, "metrics");
  CHECK(json_is_number(json_object_get(m, "model0_ttft_p99_s")) && json_is_number(json_object_get(m, "model1_ttft_p99_s")),
        "plan.json: the metrics are not per model");
  int P = (int)cs_jnum(json_object_get(j, "prefill"), "replicas"), D = (int)cs_jnum(json_object_get(j, "decode"), "replicas");
  json_decref(j);
  /* the pair run whole: each model within 0.5 s */
  for (int k = 0; k < 3; k++) {
    int p = P - (k == 1), d = D - (k == 2);
    if (p < 1 || d < 1) continue;
    char sp[64], sd[64];
    snprintf(sp, sizeof sp, "cluster.pools.[0].replicas=%d", p);
    snprintf(sd, sizeof sd, "cluster.pools.[1].replicas=%d", d);
    char *run_out = path_join(dir, k == 0 ? "run" : k == 1 ? "run_p" : "run_d");
    r = RUN("run", cfg, "--set", sp, "--set", sd, "-o", run_out);
    CHECK_RC(r, 0);
    result_free(&r);
    json_t *s = load_json(run_out, "summary.json");
    double t0 = cs_jnum(s, "model0_ttft_p99_s"), t1 = cs_jnum(s, "model1_ttft_p99_s");
    if (k == 0)
      CHECK(t0 <= 0.5 && t1 <= 0.5, "%d + %d: model0 %g, model1 %g s, over 0.5", p, d, t0, t1);
    else
      CHECK(t0 > 0.5 || t1 > 0.5 || cs_jnum(s, "requests_rejected") > 0,
            "%d + %d (one fewer than the plan's %d + %d) meets both targets: the plan is not the cheapest", p, d, P,
            D);
    json_decref(s);
    free(run_out);
  }
  r = RUN("plan", cfg, "--pools", "0,1", "--slo", "goodput_rate_per_s=1", "-o", out, "--quiet");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "with several models every target holds for each model");
  result_free(&r);
  free(out);
  free(cfg);
  free(dir);
}

int main(int argc, char **argv)
{
  static const cs_test tests[] = {
    {"known_answer", test_known_answer},
    {"jobs", test_jobs},
    {"prices", test_prices},
    {"refusals", test_refusals},
    {"pool0", test_pool0},
    {"interrupt", test_interrupt},
    {"shape", test_shape},
    {"pruned", test_pruned},
    {"two_models", test_two_models},
    {NULL, NULL},
  };
  int rc = cs_run_suite_filtered("plan_pd", tests, argc, argv);
  cleanup();
  return rc;
}
