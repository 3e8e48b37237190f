/* tests/unit/test_plan.c: `clustersim plan` as a user runs it. The known
 * answer comes from an exhaustive grid run here with `clustersim run`
 * (tests/plan/small.cfg: 2 GPU types x tp 1, 2 x 1..6 replicas): plan must
 * pick the same configuration, the same best of each type, with fewer
 * simulations than the grid; the same files whatever -j; targets nothing
 * meets give feasible false and the closest miss (exit 0); the load
 * curve is non-decreasing and agrees with the main search; usage errors
 * exit 2 before anything is simulated; SIGINT stops it with 130 and no
 * plan.json. --gpu-price: the grid's answer with the negotiated price in
 * its costs, the price and its source in plan.json and plan.csv, usage
 * errors naming the flag; plan.csv and plan.json carry every numeric
 * summary metric. Also, in process: the ordering of configurations, the
 * scenario numbers read with their key-table defaults, and a GPU type's
 * results through the worker pool's bytes. Scratch output goes under
 * CS_TEST_TMP, removed on success. */
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
#include "testutil.h"

#define SMALL_CFG CS_SOURCE_DIR "/tests/plan/small.cfg"
#define TTFT 2.0
#define TPOT 0.1
#define MAXR 6

static const char *const gpus[] = {"l40s", "a100-80gb-sxm"};
enum { NG = 2, NTP = 2 };
static const int tps[NTP] = {1, 2};

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

/* ---- the grid ---- */

typedef struct {
  bool ran;
  double ttft, tpot, cost, gpus, rejected, ratio;
  bool feasible;
} cell;

static cell grid[NG][NTP][MAXR + 1];
static bool grid_ok;

/* The rules plan documents: cheaper (relative 1e-9), then fewer GPUs,
 * then the smaller worst value/target ratio. */
static bool better(const cell *a, const cell *b)
{
  double tol = 1e-9 * fmax(a->cost, b->cost);
  if (a->cost < b->cost - tol) return true;
  if (a->cost > b->cost + tol) return false;
  if (a->gpus != b->gpus) return a->gpus < b->gpus;
  return a->ratio < b->ratio;
}

/* Every (gpu, tp, replicas) of the grid with `clustersim run`, once. */
static void run_grid(void)
{
  static bool done;
  if (done) return;
  done = true;
  grid_ok = true;
  char *dir = cs_tmpdir("plan_grid");
  for (int g = 0; g < NG; g++)
    for (int t = 0; t < NTP; t++)
      for (int r = 1; r <= MAXR; r++) {
        char sg[128], st[64], sr[64], out[4096];
        snprintf(sg, sizeof sg, "cluster.pools.[0].gpu=\"%s\"", gpus[g]);
        snprintf(st, sizeof st, "cluster.pools.[0].tp=%d", tps[t]);
        snprintf(sr, sizeof sr, "cluster.pools.[0].replicas=%d", r);
        snprintf(out, sizeof out, "%s/%d_%d_%d", dir, g, t, r);
        result res = RUN("run", SMALL_CFG, "-q", "-o", out, "--set", sg, "--set", st, "--set", sr);
        CHECK_RC(res, 0);
        char *json = slurp_in(out, "summary.json");
        cell *c = &grid[g][t][r];
        c->ran = json && json_num(json, "ttft_p99_s", &c->ttft) && json_num(json, "tpot_p99_s", &c->tpot) &&
                 json_num(json, "usd_per_hour", &c->cost) && json_num(json, "gpus", &c->gpus) &&
                 json_num(json, "requests_rejected", &c->rejected);
        CHECK(c->ran, "%s: no summary with ttft, tpot, cost, gpus and rejections", res.cmd);
        if (!c->ran) grid_ok = false;
        c->feasible = c->ttft <= TTFT && c->tpot <= TPOT && c->rejected == 0;
        c->ratio = fmax(c->ttft / TTFT, c->tpot / TPOT);
        free(json);
        result_free(&res);
      }
  /* plan's bisection rests on this; if the model changes and it fails,
   * pick targets for which it holds again */
  for (int g = 0; g < NG; g++)
    for (int t = 0; t < NTP; t++)
      for (int r = 2; r <= MAXR; r++)
        if (grid[g][t][r - 1].feasible && !grid[g][t][r].feasible) {
          CHECK(false, "grid: %s tp %d meets the targets with %d replicas but not %d: feasibility is not "
                "monotone in replicas for this scenario and these targets", gpus[g], tps[t], r - 1, r);
          grid_ok = false;
        }
  cs_rm_rf(dir);
  free(dir);
}

/* The best feasible cell of type g (g < 0: of all types): indexes, false if none. */
static bool grid_best(int g, int *bg, int *bt, int *br)
{
  const cell *best = NULL;
  for (int i = 0; i < NG; i++) {
    if (g >= 0 && i != g) continue;
    for (int t = 0; t < NTP; t++)
      for (int r = 1; r <= MAXR; r++) {
        const cell *c = &grid[i][t][r];
        if (c->feasible && (!best || better(c, best))) best = c, *bg = i, *bt = t, *br = r;
      }
  }
  return best != NULL;
}

static result run_plan(const char *out, const char *jobs, const char *extra1, const char *extra2)
{
  const char *args[32];
  int n = 0;
  args[n++] = "plan";
  args[n++] = SMALL_CFG;
  args[n++] = "--slo";
  args[n++] = "ttft_p99_s=2";
  args[n++] = "--slo";
  args[n++] = "tpot_p99_s=0.1";
  args[n++] = "--candidates";
  args[n++] = "gpu=l40s,a100-80gb-sxm";
  args[n++] = "--max-replicas";
  args[n++] = "6";
  args[n++] = "-j";
  args[n++] = jobs;
  args[n++] = "-o";
  args[n++] = out;
  if (extra1) args[n++] = extra1;
  if (extra2) args[n++] = extra2;
  args[n] = NULL;
  return run_argv(NULL, args);
}

/* The text of "key": "VALUE" at its first occurrence, into buf. */
static bool json_str(const char *json, const char *key, char *buf, size_t n)
{
  char pat[256];
  snprintf(pat, sizeof pat, "\"%s\": \"", key);
  const char *p = json ? strstr(json, pat) : NULL;
  if (!p) return false;
  p += strlen(pat);
  const char *q = strchr(p, '"');
  if (!q) return false;
  snprintf(buf, n, "%.*s", (int)(q - p), p);
  return true;
}

/* ---- tests ---- */

/* plan finds the grid's answer, and each type's best, with fewer runs. */
static void test_known_answer(void)
{
  unsigned f0 = CU_get_number_of_failures();
  run_grid();
  if (!grid_ok) return;
  int bg, bt, br;
  CHECK(grid_best(-1, &bg, &bt, &br), "the grid has no feasible configuration: the test scenario needs new targets");
  char *dir = cs_tmpdir("plan_known");
  result r = run_plan(dir, "2", NULL, NULL);
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "cheapest: ");
  char *json = slurp_in(dir, "plan.json");
  CHECK(json != NULL, "%s/plan.json: not written", dir);
  char gpu[64] = "";
  double tp = 0, rep = 0, sims = 0, cost = 0;
  CHECK(json_str(json, "gpu", gpu, sizeof gpu) && json_num(json, "tp", &tp) && json_num(json, "replicas", &rep) &&
            json_num(json, "simulations", &sims) && json_num(json, "usd_per_hour", &cost),
        "plan.json lacks gpu, tp, replicas, simulations or usd_per_hour:\n%s", json ? json : "");
  CHECK(!strcmp(gpu, gpus[bg]) && tp == tps[bt] && rep == br,
        "plan chose %s tp %g x %g; the grid's cheapest is %s tp %d x %d ($%g/h)", gpu, tp, rep, gpus[bg], tps[bt],
        br, grid[bg][bt][br].cost);
  CS_ASSERT_REL(cost, grid[bg][bt][br].cost, 1e-12);
  CHECK(sims > 0 && sims < NG * NTP * MAXR, "plan ran %g simulations; the grid has %d", sims, NG * NTP * MAXR);
  CHECK(strstr(json ? json : "", "\"feasible\": true") != NULL, "plan.json: not feasible");
  /* each type's best: the candidates, in --candidates order */
  const char *p = json ? strstr(json, "\"candidates\"") : NULL;
  for (int g = 0; g < NG && p; g++) {
    int cg, ct, cr;
    char name[64];
    double ctp, crep;
    p = strstr(p, "\"feasible\"");
    bool ok = p && json_str(p, "gpu", name, sizeof name) && json_num(p, "tp", &ctp) && json_num(p, "replicas", &crep);
    CHECK(ok, "plan.json: candidate %d incomplete", g);
    if (!ok) break;
    CHECK(grid_best(g, &cg, &ct, &cr), "grid: no feasible %s", gpus[g]);
    CHECK(!strcmp(name, gpus[g]) && ctp == tps[ct] && crep == cr, "candidate %d: %s tp %g x %g, grid: %s tp %d x %d", g,
          name, ctp, crep, gpus[g], tps[ct], cr);
    p++;
  }
  /* plan.csv: a header and one row per simulation */
  char *csv = slurp_in(dir, "plan.csv");
  const char *head = "gpu,tp,replicas,feasible,usd_per_hour,usd_per_million_tokens,ttft_p99_s,tpot_p99_s,";
  CHECK(csv && !strncmp(csv, head, strlen(head)),
        "plan.csv header: %.120s", csv ? csv : "(none)");
  CHECK(count_lines(csv) == (int)sims + 1, "plan.csv has %d lines for %g simulations", count_lines(csv), sims);
  free(csv);
  free(json);
  result_free(&r);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* plan.json has every key of the contract; the files do not depend on -j. */
static void test_keys_and_jobs(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plan_jobs");
  char *d1 = path_join(dir, "j1"), *d2 = path_join(dir, "j2");
  result r1 = run_plan(d1, "1", "--load-scales", "0.5,1,2");
  result r2 = run_plan(d2, "2", "--load-scales", "0.5,1,2");
  CHECK_RC(r1, 0);
  CHECK_RC(r2, 0);
  static const char *const files[] = {"plan.json", "plan.csv", "plan_load.csv"};
  for (int i = 0; i < 3; i++) {
    char *a = slurp_in(d1, files[i]), *b = slurp_in(d2, files[i]);
    CHECK(a && b && !strcmp(a, b), "%s differs between -j 1 and -j 2 (%s, %s)", files[i], d1, d2);
    free(a);
    free(b);
  }
  char *json = slurp_in(d1, "plan.json");
  static const char *const keys[] = {"gpu", "replicas", "tp", "usd_per_hour", "usd_per_million_tokens",
                                     "simulations", "feasible", "candidates", "slo", "margins"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", keys[i]);
    CHECK(json && strstr(json, pat), "plan.json has no key %s", keys[i]);
  }
  CHECK(json && strstr(json, "\"slo\": {\"ttft_p99_s\": 2, \"tpot_p99_s\": 0.1}"), "plan.json: slo is not the targets");
  free(json);
  result_free(&r1);
  result_free(&r2);
  cs_cleanup_if_passed(dir, f0);
  free(d1);
  free(d2);
  free(dir);
}

/* plan_load.csv: per type, replicas non-decreasing with load, and at load
 * 1 the type's best from the main search. */
static void test_load_curve(void)
{
  unsigned f0 = CU_get_number_of_failures();
  run_grid();
  char *dir = cs_tmpdir("plan_load");
  result r = run_plan(dir, "2", "--load-scales", "2,0.5,1");
  CHECK_RC(r, 0);
  char *csv = slurp_in(dir, "plan_load.csv");
  const char *head = "gpu,tp,load_scale,offered_rate_per_s,replicas,usd_per_hour,feasible\n";
  CHECK(csv && !strncmp(csv, head, strlen(head)),
        "plan_load.csv header: %.100s", csv ? csv : "(none)");
  CHECK(count_lines(csv) == 1 + NG * 3, "plan_load.csv: %d lines, expected %d", count_lines(csv), 1 + NG * 3);
  const char *line = csv ? strchr(csv, '\n') : NULL;
  for (int g = 0; g < NG && line; g++) {
    double prev_scale = 0, prev_rep = 0;
    for (int k = 0; k < 3 && line; k++) {
      char name[64];
      int tp;
      double scale, rate, rep = NAN;
      int feasible;
      line++;
      /* replicas and usd_per_hour are empty where nothing is feasible */
      int n = sscanf(line, "%63[^,],%d,%lf,%lf,", name, &tp, &scale, &rate);
      const char *f = line;
      for (int c = 0; c < 4 && f; c++) f = strchr(f, ',') ? strchr(f, ',') + 1 : NULL;
      if (f && *f != ',') rep = strtod(f, NULL);
      const char *last = strchr(line, '\n');
      feasible = last && last[-1] == '1';
      CHECK(n == 4 && !strcmp(name, gpus[g]), "plan_load.csv row %d: %.80s", g * 3 + k, line);
      CHECK(scale > prev_scale, "plan_load.csv: %s scales not ascending", name);
      if (feasible) {
        CHECK(rep >= prev_rep, "%s: %g replicas at load x%g, fewer than %g at a lower load", name, rep, scale,
              prev_rep);
        prev_rep = rep;
      } else {
        prev_rep = INFINITY;
      }
      if (scale == 1.0 && grid_ok) {
        int bg, bt, br;
        if (grid_best(g, &bg, &bt, &br))
          CHECK(feasible && rep == br && tp == tps[bt], "%s at load 1: tp %d x %g, grid: tp %d x %d", name, tp, rep,
                tps[bt], br);
      }
      prev_scale = scale;
      line = strchr(line, '\n');
    }
  }
  free(csv);
  result_free(&r);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* Targets nothing meets: exit 0, feasible false, and the closest miss is
 * the grid's configuration with the smallest worst value/target ratio. */
static void test_infeasible(void)
{
  unsigned f0 = CU_get_number_of_failures();
  run_grid();
  char *dir = cs_tmpdir("plan_infeasible");
  const char *args[] = {"plan", SMALL_CFG, "--slo", "ttft_p99_s=0.01", "--slo", "tpot_p99_s=0.1",
                        "--candidates", "gpu=l40s,a100-80gb-sxm", "--max-replicas", "6", "-o", dir, "-q", NULL};
  result r = run_argv(NULL, args);
  CHECK_RC(r, 0);
  char *json = slurp_in(dir, "plan.json");
  CHECK(json && strstr(json, "\"feasible\": false"), "plan.json: feasible is not false:\n%s", json ? json : "");
  char gpu[64] = "";
  double tp = 0, rep = 0, ratio = 0, ttft = 0;
  CHECK(json_str(json, "gpu", gpu, sizeof gpu) && json_num(json, "tp", &tp) && json_num(json, "replicas", &rep) &&
            json_num(json, "worst_ratio", &ratio) && json_num(json, "value", &ttft),
        "plan.json: no closest miss:\n%s", json ? json : "");
  CHECK(ratio > 1, "closest miss has worst ratio %g, which would meet the targets", ratio);
  if (grid_ok) {
    /* plan checks the most replicas of every tp first; nothing meets the
     * targets there, so those are what it ran */
    const cell *best = NULL;
    int bg = 0, bt = 0, br = MAXR;
    for (int g = 0; g < NG; g++)
      for (int t = 0; t < NTP; t++) {
        const cell *c = &grid[g][t][MAXR];
        double w = fmax(c->ttft / 0.01, c->tpot / 0.1);
        if (!best || w < fmax(best->ttft / 0.01, best->tpot / 0.1)) best = c, bg = g, bt = t;
      }
    CHECK(!strcmp(gpu, gpus[bg]) && tp == tps[bt] && rep == br, "closest miss %s tp %g x %g; the grid's: %s tp %d x %d",
          gpu, tp, rep, gpus[bg], tps[bt], br);
    CS_ASSERT_REL(ttft, best->ttft, 1e-12);
  }
  free(json);
  result_free(&r);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* Usage errors exit 2 with a message naming the problem, before anything
 * is simulated (no plan.json). */
static void test_usage(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plan_usage");
  struct {
    const char *args[14];
    const char *want;
  } cases[] = {
    {{"plan", SMALL_CFG, "--slo", "ttft_p99=2", "-o", dir}, "--slo ttft_p99: not a numeric metric"},
    {{"plan", SMALL_CFG, "--slo", "model=2", "-o", dir}, "--slo model: not a numeric metric"},
    {{"plan", SMALL_CFG, "-o", dir}, "at least one --slo"},
    {{"plan", SMALL_CFG, "--slo", "ttft_p99_s", "-o", dir}, "expected METRIC=VALUE"},
    {{"plan", SMALL_CFG, "--slo", "ttft_p99_s=fast", "-o", dir}, "expected METRIC=VALUE"},
    {{"plan", SMALL_CFG, "--slo", "ttft_p99_s=2", "--candidates", "gpu=nope", "-o", dir}, "unknown GPU \"nope\""},
    {{"plan", SMALL_CFG, "--slo", "ttft_p99_s=2", "--candidates", "cpu=a10", "-o", dir}, "expected gpu=A,B"},
    {{"plan", SMALL_CFG, "--slo", "ttft_p99_s=2", "--max-replicas", "0", "-o", dir}, "--max-replicas"},
    {{"plan", SMALL_CFG, "--slo", "ttft_p99_s=2", "--load-scales", "1,-1", "-o", dir}, "--load-scales"},
    {{"plan", SMALL_CFG, "--slo", "ttft_p99_s=2", "--set", "workload.bogus=1", "-o", dir}, "workload.bogus"},
    {{"plan", "--slo", "ttft_p99_s=2"}, "expected exactly one scenario file"},
    {{"plan", SMALL_CFG, "--slo", "ttft_p99_s=2", "--gpu-price", "a10=cheap", "-o", dir},
     "--gpu-price: expected GPU=USD,... with USD the price per GPU-hour (more than 0, at most 1e6), got 'a10=cheap'"},
    {{"plan", SMALL_CFG, "--slo", "ttft_p99_s=2", "--gpu-price", "a10=0", "-o", dir}, "got 'a10=0'"},
    {{"plan", SMALL_CFG, "--slo", "ttft_p99_s=2", "--gpu-price", "a10", "-o", dir}, "got 'a10'"},
    {{"plan", SMALL_CFG, "--slo", "ttft_p99_s=2", "--gpu-price", "a10=1,a10=2", "-o", dir}, "--gpu-price: a10 has two prices"},
    {{"plan", SMALL_CFG, "--slo", "ttft_p99_s=2", "--gpu-price", "nope=1", "-o", dir}, "--gpu-price: unknown GPU \"nope\" (one of: "},
    {{"plan", SMALL_CFG, "--slo", "ttft_p99_s=2", "--gpu-price", "h100-sxm=3", "-o", dir},
     "--gpu-price: h100-sxm is not a candidate (candidates: a10; add it with --candidates gpu=...)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    result r = run_argv(NULL, cases[i].args);
    CHECK_RC(r, 2);
    CHECK_ERR_HAS(r, cases[i].want);
    result_free(&r);
  }
  char *json = slurp_in(dir, "plan.json");
  CHECK(json == NULL, "plan.json written after a usage error");
  free(json);
  result r = RUN("plan", "--help");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "--candidates gpu=");
  result_free(&r);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* --replications R: each configuration runs up to R seeds; the count says so. */
static void test_replications(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plan_reps");
  result r = run_plan(dir, "2", "--replications", "2");
  CHECK_RC(r, 0);
  char *json = slurp_in(dir, "plan.json");
  double sims = 0, configs = 0, reps = 0;
  CHECK(json_num(json ? json : "", "simulations", &sims) && json_num(json ? json : "", "configurations", &configs) &&
            json_num(json ? json : "", "replications", &reps),
        "plan.json: no simulation count");
  /* a feasible configuration runs both seeds; a miss may stop after one */
  CHECK(reps == 2 && sims > configs && sims <= 2 * configs, "%g simulations for %g configurations at R = 2", sims,
        configs);
  free(json);
  result_free(&r);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* SIGINT mid-search: exit 130, no plan.json, with and without workers. */
static void interrupt_case(const char *jobs)
{
  char tag[32];
  snprintf(tag, sizeof tag, "plan_int%s", jobs);
  char *dir = cs_tmpdir(tag);
  unsigned f0 = CU_get_number_of_failures();
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    /* 500 seeds per feasible configuration: tens of seconds if not stopped */
    execl(CS_BIN, CS_BIN, "plan", SMALL_CFG, "--slo", "ttft_p99_s=2", "--candidates", "gpu=l40s,a100-80gb-sxm",
          "-r", "500", "-j", jobs, "-o", dir, (char *)NULL);
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
  interrupt_case("1");
  interrupt_case("2");
}

/* --gpu-price: the grid's answer with the negotiated price in its costs
 * (cost per hour = GPUs x price: no electricity is billed in small.cfg),
 * and the price with its source in plan.json and plan.csv. */
static void test_gpu_price(void)
{
  unsigned f0 = CU_get_number_of_failures();
  run_grid();
  if (!grid_ok) return;
  const double l40s = 1.0;
  /* the grid with l40s at the negotiated price */
  int bg = -1, bt = 0, br = 0;
  cell best = {0};
  for (int g = 0; g < NG; g++)
    for (int t = 0; t < NTP; t++)
      for (int r = 1; r <= MAXR; r++) {
        cell c = grid[g][t][r];
        if (!strcmp(gpus[g], "l40s")) c.cost = c.gpus * l40s;
        if (c.feasible && (bg < 0 || better(&c, &best))) best = c, bg = g, bt = t, br = r;
      }
  int cg, ct, cr;
  CHECK(bg >= 0 && grid_best(-1, &cg, &ct, &cr), "the grid has no feasible configuration");
  CHECK(bg != cg || bt != ct || br != cr, "the negotiated price does not change the answer: the test needs another");
  char *dir = cs_tmpdir("plan_price");
  result r = run_plan(dir, "2", "--gpu-price", "l40s=1");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "prices per GPU-hour: l40s $1 (--gpu-price), a100-80gb-sxm $2.21 (catalog: CoreWeave, 2023)\n");
  char *json = slurp_in(dir, "plan.json");
  char gpu[64] = "", src[64] = "";
  double tp = 0, rep = 0, cost = 0, price = 0, sttft = 0;
  CHECK(json_str(json, "gpu", gpu, sizeof gpu) && json_num(json, "tp", &tp) && json_num(json, "replicas", &rep) &&
            json_num(json, "usd_per_hour", &cost) && json_num(json, "usd_per_gpu_hour", &price) &&
            json_str(json, "price_source", src, sizeof src),
        "plan.json lacks the winner or its price:\n%s", json ? json : "");
  if (bg >= 0) {
    CHECK(!strcmp(gpu, gpus[bg]) && tp == tps[bt] && rep == br, "plan chose %s tp %g x %g; with l40s at $%g the grid's "
          "cheapest is %s tp %d x %d", gpu, tp, rep, l40s, gpus[bg], tps[bt], br);
    CS_ASSERT_REL(cost, best.cost, 1e-9);
  }
  CHECK(price == l40s && !strcmp(src, "--gpu-price"), "winner's price %g from %s", price, src);
  /* the winner's summary: every numeric metric, the targets' among them */
  const char *sum = json ? strstr(json, "\"summary\": {") : NULL;
  CHECK(sum && json_num(sum, "ttft_p99_s", &sttft) && strstr(sum, "\"e2e_p99_s\": ") &&
            strstr(sum, "\"requests_completed\": "),
        "plan.json: no summary with every metric");
  if (bg >= 0) CS_ASSERT_REL(sttft, grid[bg][bt][br].ttft, 1e-12);
  /* each candidate's price and where it comes from */
  const char *a100 = json ? strstr(json, "\"gpu\": \"a100-80gb-sxm\"") : NULL;
  CHECK(a100 && json_num(a100, "usd_per_gpu_hour", &price) && price == 2.21 &&
            json_str(a100, "price_source", src, sizeof src) && !strcmp(src, "catalog") &&
            strstr(a100, "\"price_provider\": \"CoreWeave\"") && strstr(a100, "\"price_date\": \"2023\"") &&
            strstr(a100, "\"price_note\": \"CoreWeave"),
        "plan.json: the A100 candidate's catalog price and its source:\n%.400s", a100 ? a100 : "");
  /* plan.csv: the price columns, then every other summary metric */
  char *csv = slurp_in(dir, "plan.csv");
  const char *head = "gpu,tp,replicas,feasible,usd_per_hour,usd_per_million_tokens,ttft_p99_s,tpot_p99_s,"
                     "load_scale,gpus,requests_rejected,replications_run,usd_per_gpu_hour,price_source,"
                     "price_provider,price_date,";
  CHECK(csv && !strncmp(csv, head, strlen(head)), "plan.csv header: %.300s", csv ? csv : "");
  const char *nl = csv ? strchr(csv, '\n') : NULL;
  CHECK(nl && strstr(csv, ",e2e_p99_s,") && strstr(csv, ",throughput_tokens_per_s,") &&
            strstr(csv, ",1,--gpu-price,,,") && strstr(csv, ",2.21,catalog,CoreWeave,2023,"),
        "plan.csv: no summary columns, or no row priced by --gpu-price");
  free(csv);
  free(json);
  result_free(&r);
  /* the scenario's price for the others: cost.usd_per_gpu_hour */
  char *d2 = path_join(dir, "cost");
  r = run_plan(d2, "2", "--set", "cost.usd_per_gpu_hour=3");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "prices per GPU-hour: l40s $3 (cost.usd_per_gpu_hour), a100-80gb-sxm $3 (cost.usd_per_gpu_hour)\n");
  result_free(&r);
  const char *both[] = {"plan", SMALL_CFG, "--slo", "ttft_p99_s=2", "--candidates", "gpu=l40s,a100-80gb-sxm",
                        "--max-replicas", "6", "--set", "cost.usd_per_gpu_hour=3", "--gpu-price", "a100-80gb-sxm=1.5",
                        "-o", d2, "-q", NULL};
  r = run_argv(NULL, both);
  CHECK_RC(r, 0);
  json = slurp_in(d2, "plan.json");
  a100 = json ? strstr(json, "\"gpu\": \"a100-80gb-sxm\"") : NULL;
  CHECK(a100 && json_num(a100, "usd_per_gpu_hour", &price) && price == 1.5 &&
            json_str(a100, "price_source", src, sizeof src) && !strcmp(src, "--gpu-price"),
        "--gpu-price over cost.usd_per_gpu_hour:\n%.300s", a100 ? a100 : "");
  free(json);
  result_free(&r);
  free(d2);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* In process: a GPU type's results, summaries included, through the bytes
 * the worker pool carries, and truncated bytes refused. */
static void test_type_bytes(void)
{
  plan_type t = {.gpu = 1, .nsearches = 1, .nloads = 1, .load_tp = 2};
  t.searches[0] = (plan_search){.gpu = 1, .tp = 2, .outcome = SIM_PLAN_FOUND, .replicas = 3};
  snprintf(t.searches[0].reason, sizeof t.searches[0].reason, "a reason\twith a tab");
  t.loads[0] = (plan_load){.gpu = 1, .tp = 2, .scale = 0, .replicas = 3, .sim = 1};
  t.nsims = 2;
  t.sims = calloc(2, sizeof *t.sims);
  for (int i = 0; i < 2; i++) {
    t.sims[i] = (plan_sim){.gpu = 1, .tp = 2, .replicas = 2 + i, .scale = -1, .feasible = i == 1, .runs = 1,
                           .usd_per_hour = 8.84 * (i + 1), .worst_ratio = 1.25 - i};
    sim_report_init(&t.sims[i].summary);
    sim_report_num(&t.sims[i].summary, "ttft_p99_s", 0.5 / (i + 1), NULL);
    sim_report_num(&t.sims[i].summary, "capacity_utilization", i ? 0.75 : NAN, NULL);
  }
  size_t len = 0;
  char *bytes = plan_type_encode(&t, &len);
  plan_type back = {0};
  CHECK(plan_type_decode(bytes, len, &back), "plan_type_decode refused its own bytes");
  CHECK(back.nsims == 2 && back.nsearches == 1 && back.nloads == 1 && back.load_tp == 2 &&
            !strcmp(back.searches[0].reason, "a reason\twith a tab") && back.loads[0].sim == 1,
        "the type changed on the way");
  for (int i = 0; i < back.nsims && back.nsims == 2; i++) {
    CHECK(back.sims[i].replicas == 2 + i && back.sims[i].feasible == (i == 1) &&
              back.sims[i].usd_per_hour == 8.84 * (i + 1) && back.sims[i].summary.len == 2 &&
              sim_report_get(&back.sims[i].summary, "ttft_p99_s")->x == 0.5 / (i + 1),
          "sim %d changed on the way", i);
  }
  CHECK(back.nsims == 2 && isnan(sim_report_get(&back.sims[0].summary, "capacity_utilization")->x) &&
            sim_report_get(&back.sims[1].summary, "capacity_utilization")->x == 0.75,
        "a new summary key did not survive");
  plan_type cut = {0};
  CHECK(!plan_type_decode(bytes, len - 1, &cut) && cut.sims == NULL, "truncated bytes accepted");
  plan_type_release(&back);
  plan_type_release(&t);
  free(bytes);
}

/* Cheaper wins; equal cost (to 1e-9) goes to fewer GPUs, then headroom.
 * Closest miss: no rejections first, then the worst ratio, then cost. */
static void test_order(void)
{
  plan_sim a = {.usd_per_hour = 8.84, .gpus = 4, .worst_ratio = 0.5};
  plan_sim b = a;
  b.usd_per_hour = 8.84 * (1 + 1e-12);
  b.worst_ratio = 0.4;
  CHECK(plan_better(&b, &a) && !plan_better(&a, &b), "equal cost and GPUs: more headroom should win");
  b.gpus = 8;
  CHECK(plan_better(&a, &b), "equal cost: fewer GPUs should win");
  b.usd_per_hour = 8.83;
  CHECK(plan_better(&b, &a), "cheaper should win whatever the GPUs");
  CHECK(!plan_better(&a, &a), "a configuration is not better than itself");
  plan_sim m1 = {.usd_per_hour = 100, .worst_ratio = 1.5}, m2 = {.usd_per_hour = 1, .worst_ratio = 1.2,
                                                                       .rejected = 3};
  CHECK(plan_closer(&m1, &m2), "a miss without rejections should be closer than one with");
  m2.rejected = 0;
  CHECK(plan_closer(&m2, &m1), "the smaller worst ratio should be closer");
  CS_ASSERT_REL(plan_ratio(1.0, 2.0), 0.5, 1e-15);
  CHECK(plan_ratio(0, 0) == 0 && plan_ratio(2, 0) > 1, "ratio against a target of 0");
  CHECK(isinf(plan_ratio(NAN, 1)), "a NaN value should be infinitely far");
}

/* Numbers of a scenario: as written (or --set), else the key's default. */
static void test_numbers(void)
{
  config_t cfg;
  config_init(&cfg);
  CHECK(config_read_file(&cfg, SMALL_CFG) == CONFIG_TRUE, "%s: cannot read", SMALL_CFG);
  double v = 0;
  CHECK(plan_number(&cfg, "cluster.pools.[0].gpus_per_node", &v) && v == 2, "gpus_per_node as written: %g", v);
  CHECK(plan_number(&cfg, "cluster.pools.[0].pp", &v) && v == 1, "pp by default: %g", v);
  CHECK(plan_number(&cfg, "workload.load_scale", &v) && v == 1, "load_scale by default: %g", v);
  CHECK(plan_number(&cfg, "workload.arrivals.rate", &v) && v == 20, "rate as written: %g", v);
  CHECK(plan_number(&cfg, "warmup_s", &v) && v == 10, "warmup_s as written: %g", v);
  CHECK(!plan_number(&cfg, "cluster.pools.[0].bogus", &v), "an unknown key has no number");
  CHECK(!plan_number(&cfg, "cluster.pools.[0].gpu", &v), "a string is not a number");
  config_destroy(&cfg);
  config_init(&cfg);
  CHECK(plan_number(&cfg, "cluster.pools.[3].gpus_per_node", &v) && v == 8, "gpus_per_node default: %g", v);
  config_destroy(&cfg);
}

/* ---- plan --pricing: fleets ---- */

#define FLEET_CFG CS_SOURCE_DIR "/tests/plan/fleet.cfg"

/* One row of plan.csv of a fleet plan. */
typedef struct {
  char base[16], burst[16];
  int nbase, nburst;
  bool feasible;
  double usd_per_hour, ttft, rejected;
} fleet_row;

/* A CSV file of ours (no quoted cells) as cells by row and column name. */
typedef struct {
  char *text;
  const char *cols[1024];
  int ncols;
  const char **cells;   /* nrows x 1024; an empty cell is "" */
  int nrows;
} ptable;

static bool ptable_read(const char *dir, const char *name, ptable *t)
{
  memset(t, 0, sizeof *t);
  t->text = slurp_in(dir, name);
  if (!t->text) return false;
  int cap = 0;
  char *line = t->text;
  for (int row = -1; line && *line; row++) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    if (row >= 0) {
      if (t->nrows == cap) t->cells = realloc(t->cells, (size_t)(cap = cap ? 2 * cap : 64) * 1024 * sizeof *t->cells);
      for (int i = 0; i < 1024; i++) t->cells[t->nrows * 1024 + i] = "";
    }
    int i = 0;
    for (char *c = line; c && i < 1024; i++) {
      char *comma = strchr(c, ',');
      if (comma) *comma = '\0';
      if (row < 0)
        t->cols[t->ncols++] = c;
      else
        t->cells[t->nrows * 1024 + i] = c;
      c = comma ? comma + 1 : NULL;
    }
    if (i == 1024) CU_FAIL("a CSV row of more than 1,024 cells");
    if (row >= 0) t->nrows++;
    line = nl ? nl + 1 : NULL;
  }
  return true;
}

/* The cell of column `col` in row `row`, or "" if there is no such column. */
static const char *ptable_get(const ptable *t, int row, const char *col)
{
  for (int i = 0; i < t->ncols; i++)
    if (!strcmp(t->cols[i], col)) return t->cells[row * 1024 + i];
  return "";
}

static double ptable_num(const ptable *t, int row, const char *col)
{
  const char *c = ptable_get(t, row, col);
  return *c ? atof(c) : NAN;
}

static void ptable_free(ptable *t)
{
  free(t->cells);
  free(t->text);
}

/* The rows of OUTDIR/plan.csv (at most max); -1 if unreadable. */
static int read_fleet_csv(const char *dir, fleet_row *rows, int max)
{
  ptable t;
  if (!ptable_read(dir, "plan.csv", &t)) return -1;
  int n = 0;
  for (; n < t.nrows && n < max; n++) {
    fleet_row *r = &rows[n];
    snprintf(r->base, sizeof r->base, "%s", ptable_get(&t, n, "baseline_pricing"));
    snprintf(r->burst, sizeof r->burst, "%s", ptable_get(&t, n, "burst_pricing"));
    r->nbase = atoi(ptable_get(&t, n, "baseline_replicas"));
    r->nburst = atoi(ptable_get(&t, n, "burst_max_replicas"));
    r->feasible = atoi(ptable_get(&t, n, "feasible")) == 1;
    r->usd_per_hour = ptable_num(&t, n, "usd_per_hour");
    r->ttft = ptable_num(&t, n, "ttft_p99_s");
    r->rejected = ptable_num(&t, n, "requests_rejected");
  }
  ptable_free(&t);
  return n;
}

/* The number at root.a (or root.a.b), NaN if none. */
static double json_path_num(json_t *root, const char *a, const char *b)
{
  json_t *x = json_object_get(root, a);
  if (b) x = json_object_get(x, b);
  return json_is_number(x) ? json_number_value(x) : NAN;
}

/* The points of a `clustersim sweep` of fleet.cfg (its pools set by `pools`
 * if not NULL), varying up to three keys: per point the varied values
 * (numbers, or 0/1 for the pricing axis: reserved-1y/on-demand),
 * usd_per_hour, ttft_p99_s and requests_rejected. Returns the number of
 * points, -1 on error. */
typedef struct {
  double v[3], usd, ttft, rejected;
} grid_point;

static int sweep_points(const char *dir, const char *pools, const char *const *vary, int nvary, grid_point *pts,
                        int max)
{
  const char *args[24];
  char set[1024];
  int n = 0;
  args[n++] = "sweep";
  args[n++] = FLEET_CFG;
  for (int i = 0; i < nvary; i++) args[n++] = "--vary", args[n++] = vary[i];
  if (pools) {
    snprintf(set, sizeof set, "cluster.pools=%s", pools);
    args[n++] = "--set";
    args[n++] = set;
  }
  args[n++] = "-q";
  args[n++] = "-j";
  args[n++] = "2";
  args[n++] = "-o";
  args[n++] = dir;
  args[n] = NULL;
  result r = run_argv(NULL, args);
  bool ok = r.rc == 0;
  if (!ok) fprintf(stderr, "sweep failed: %s\n", r.err ? r.err : "");
  result_free(&r);
  ptable t;
  if (!ok || !ptable_read(dir, "sweep.csv", &t)) return -1;
  int np = 0;
  for (; np < t.nrows && np < max; np++) {
    grid_point *p = &pts[np];
    memset(p, 0, sizeof *p);
    for (int k = 0; k < nvary; k++) {
      char col[128];
      snprintf(col, sizeof col, "%.*s", (int)(strchr(vary[k], '=') - vary[k]), vary[k]);
      const char *c = ptable_get(&t, np, col);
      p->v[k] = !strcmp(c, "on-demand") ? 1 : !strcmp(c, "reserved-1y") ? 0 : atof(c);
    }
    p->usd = ptable_num(&t, np, "usd_per_hour_mean");
    p->ttft = ptable_num(&t, np, "ttft_p99_s_mean");
    p->rejected = ptable_num(&t, np, "requests_rejected_mean");
  }
  ptable_free(&t);
  return np;
}

/* plan --pricing against every fleet of up to 4 + 4 replicas run by hand:
 * the same cheapest fleet, its cost what `run` gives for the same pools,
 * never dearer than a single-pricing fleet it simulates, the saving
 * against the cheapest all-on-demand fleet, no fleet simulated twice. */
static void test_fleet(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plan_fleet");
  const char *args[] = {"plan", FLEET_CFG, "--slo", "ttft_p99_s=1", "--pricing", "reserved-1y",
                        "--max-replicas", "4", "-o", dir, NULL};
  result r = run_argv(NULL, args);
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "cheapest fleet: l40s, tp 1: ");
  CHECK_OUT_HAS(r, "all on demand: ");
  CHECK_OUT_HAS(r, "saving: $");
  result_free(&r);
  char *json = slurp_in(dir, "plan.json");
  json_t *root = json ? json_loads(json, 0, NULL) : NULL;
  CU_ASSERT_PTR_NOT_NULL_FATAL(root);
  char *load = slurp_in(dir, "plan_load.csv");
  CHECK(load == NULL, "a fleet plan leaves no plan_load.csv");
  free(load);
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(root, "mode")), "fleet");
  CU_ASSERT(json_is_true(json_object_get(root, "feasible")));
  double fleet_usd = json_path_num(root, "fleet", "usd_per_hour");
  double od_usd = json_path_num(root, "on_demand", "usd_per_hour");
  CU_ASSERT_DOUBLE_EQUAL(json_path_num(root, "saving_usd_per_hour", NULL), od_usd - fleet_usd, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(json_path_num(root, "saving_fraction", NULL), (od_usd - fleet_usd) / od_usd, 1e-12);

  fleet_row rows[256];
  int n = read_fleet_csv(dir, rows, 256);
  CU_ASSERT_FATAL(n > 0);
  double best = INFINITY, best_od = INFINITY;
  for (int i = 0; i < n; i++) {
    const fleet_row *x = &rows[i];
    for (int j = 0; j < i; j++)
      CHECK(!(x->nbase == rows[j].nbase && x->nburst == rows[j].nburst && !strcmp(x->base, rows[j].base) &&
              !strcmp(x->burst, rows[j].burst)),
            "fleet %d %s + %d %s simulated twice", x->nbase, x->base, x->nburst, x->burst);
    if (!x->feasible) continue;
    CU_ASSERT(x->ttft <= 1 && x->rejected == 0);
    best = fmin(best, x->usd_per_hour);
    bool single = x->nbase == 0 || x->nburst == 0 || !strcmp(x->base, x->burst);
    /* the fleet never costs more than a single-pricing fleet it simulates */
    if (single) CU_ASSERT(fleet_usd <= x->usd_per_hour * (1 + 1e-12));
    bool od = (x->nbase == 0 || !strcmp(x->base, "on-demand")) && (x->nburst == 0 || !strcmp(x->burst, "on-demand"));
    if (od) best_od = fmin(best_od, x->usd_per_hour);
  }
  CU_ASSERT_DOUBLE_EQUAL(fleet_usd, best, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(od_usd, best_od, 1e-12);

  /* every fleet by hand, in three sweeps: a baseline (reserved-1y or
   * on-demand, 1..4) under an on-demand burst (at most 1..4, starting
   * empty); a baseline alone; a burst alone (starting as pool 0 does, 1) */
  char *sdir = path_join(dir, "grid");
  double grid_best = INFINITY;
  int grid_runs = 0;
  const char *P = "gpu=\"l40s\"; provider=\"aws\"; startup_s=60.0;";
  char mix[512], alone[512];
  snprintf(mix, sizeof mix,
           "({%s replicas=1; pricing=\"reserved-1y\";}, {%s replicas=0; pricing=\"on-demand\"; "
           "autoscale={policy=\"predictive\"; min_replicas=0; max_replicas=1;};})", P, P);
  snprintf(alone, sizeof alone,
           "({%s replicas=1; pricing=\"on-demand\"; autoscale={policy=\"predictive\"; min_replicas=0; "
           "max_replicas=1;};})", P);
  const char *vmix[] = {"cluster.pools.[0].replicas=1,2,3,4", "cluster.pools.[1].autoscale.max_replicas=1,2,3,4",
                        "cluster.pools.[0].pricing=reserved-1y,on-demand"};
  const char *vfixed[] = {"cluster.pools.[0].replicas=1,2,3,4", "cluster.pools.[0].pricing=reserved-1y,on-demand"};
  const char *vburst[] = {"cluster.pools.[0].autoscale.max_replicas=1,2,3,4"};
  struct {
    const char *pools;
    const char *const *vary;
    int nvary, want;
  } sweeps[] = {{mix, vmix, 3, 32}, {NULL, vfixed, 2, 8}, {alone, vburst, 1, 4}};
  for (int k = 0; k < 3; k++) {
    grid_point pts[64];
    char *d = path_join(sdir, k == 0 ? "mix" : k == 1 ? "fixed" : "burst");
    int np = sweep_points(d, sweeps[k].pools, sweeps[k].vary, sweeps[k].nvary, pts, 64);
    free(d);
    CU_ASSERT_EQUAL_FATAL(np, sweeps[k].want);
    for (int i = 0; i < np; i++)
      if (pts[i].ttft <= 1 && pts[i].rejected == 0 && pts[i].usd < grid_best) grid_best = pts[i].usd;
    grid_runs += np;
  }
  free(sdir);
  CHECK(fabs(grid_best - fleet_usd) <= 1e-9 * grid_best, "plan's fleet $%.6f/h, the grid's cheapest $%.6f/h",
        fleet_usd, grid_best);
  CU_ASSERT(n < grid_runs);
  /* the same files with the searches one at a time (-j 1) as at once */
  {
    char *dir2 = path_join(dir, "j2");
    const char *args2[] = {"plan", FLEET_CFG, "--slo", "ttft_p99_s=1", "--pricing", "reserved-1y", "--max-replicas",
                           "4", "-j", "1", "-q", "-o", dir2, NULL};
    result r2 = run_argv(NULL, args2);
    CHECK_RC(r2, 0);
    result_free(&r2);
    char *a = slurp_in(dir, "plan.csv"), *b = slurp_in(dir2, "plan.csv");
    CHECK(a && b && !strcmp(a, b), "plan.csv differs with -j 1");
    free(a);
    free(b);
    free(dir2);
  }
  /* the answer mixes: a committed baseline under an on-demand burst beats either alone here */
  json_t *fl = json_object_get(root, "fleet");
  CU_ASSERT(json_is_object(json_object_get(fl, "baseline")) && json_is_object(json_object_get(fl, "burst")));
  CU_ASSERT(fleet_usd < json_path_num(json_object_get(root, "single_pricing"), "reserved-1y", NULL) - 1e-9);
  CU_ASSERT(fleet_usd < json_path_num(json_object_get(root, "single_pricing"), "on-demand", NULL) - 1e-9);
  json_decref(root);
  free(json);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* plan --pricing: what it refuses, before anything runs. */
static void test_fleet_usage(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plan_fleet_usage");
  struct {
    const char *args[16];
    const char *want;
  } cases[] = {
    {{"plan", FLEET_CFG, "--slo", "ttft_p99_s=1", "--pricing", "bogus", "-o", dir},
     "--pricing: expected on-demand, reserved-1y, reserved-3y, spot or owned, got 'bogus'"},
    {{"plan", FLEET_CFG, "--slo", "ttft_p99_s=1", "--pricing", "spot,spot", "-o", dir}, "spot is listed twice"},
    {{"plan", FLEET_CFG, "--slo", "ttft_p99_s=1", "--pricing", "spot", "-o", dir},
     "--pricing spot: how often are spot replicas taken back?"},
    {{"plan", FLEET_CFG, "--slo", "ttft_p99_s=1", "--pricing", "reserved-1y", "--set", "cost.usd_per_gpu_hour=2.0",
      "-o", dir},
     "cost.usd_per_gpu_hour is written, and would be the price of every pricing"},
    {{"plan", FLEET_CFG, "--slo", "ttft_p99_s=1", "--pricing", "reserved-1y", "--gpu-price", "l40s=1", "-o", dir},
     "--gpu-price gives one price for every pricing"},
    {{"plan", FLEET_CFG, "--slo", "ttft_p99_s=1", "--pricing", "reserved-1y", "--set",
      "cluster.pools.[0].provider=\"\"", "-o", dir},
     "reserved-1y needs a provider"},
    {{"plan", FLEET_CFG, "--slo", "ttft_p99_s=1", "--spot-interruptions-per-hour", "0.1", "-o", dir},
     "--spot-interruptions-per-hour is for --pricing spot"},
    {{"plan", FLEET_CFG, "--slo", "ttft_p99_s=1", "--pricing", "spot", "--spot-interruptions-per-hour", "-1", "-o",
      dir},
     "--spot-interruptions-per-hour: expected a number from 0"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    result r = run_argv(NULL, cases[i].args);
    CHECK_RC(r, 2);
    CHECK_ERR_HAS(r, cases[i].want);
    result_free(&r);
  }
  char *json = slurp_in(dir, "plan.json");
  CHECK(json == NULL, "plan.json written after a usage error");
  free(json);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

int main(int argc, char **argv)
{
  static const cs_test tests[] = {
    {"known_answer", test_known_answer},
    {"keys_and_jobs", test_keys_and_jobs},
    {"load_curve", test_load_curve},
    {"infeasible", test_infeasible},
    {"usage", test_usage},
    {"replications", test_replications},
    {"interrupt", test_interrupt},
    {"order", test_order},
    {"numbers", test_numbers},
    {"gpu_price", test_gpu_price},
    {"type_bytes", test_type_bytes},
    {"fleet", test_fleet},
    {"fleet_usage", test_fleet_usage},
    {NULL, NULL},
  };
  return cs_run_suite_filtered("plan", tests, argc, argv);
}
