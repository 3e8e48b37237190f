/* tests/unit/test_plan_models.c: `clustersim plan` on a scenario whose
 * workload names several models (plan_models.c: which models share which
 * GPUs), as a user runs it. The scenario: three 7-8B models on H100s at 16,
 * 0.4 and 0.2 requests/s (the same request sizes, so the demand order is
 * the rates'), two minutes, TTFT p99 target 5 s for each model (a run takes
 * about 0.1 s). Checked against scenarios written out and run here by hand
 * with `clustersim run` and `clustersim plan`:
 *   - the dedicated placement's pools are what the classic plan finds on
 *     each model's own scenario (its classes only, one pool of it);
 *   - the answer is the cheapest feasible placement (cost, then GPUs, then
 *     headroom) of those the search names - all shared; the heaviest alone
 *     and the other two shared; all dedicated - each pool's size the
 *     fewest replicas (1 to 4, a grid run by hand) meeting 5 s for each of
 *     its models (modelN_ttft_p99_s, N found by modelN_name);
 *   - the winner, written out whole and run, meets the target for every
 *     model, with plan.json's per-model values;
 *   - --placement shared sizes the pool at least as large as plan's classic
 *     search of pool 0 (fleet-wide target); -j 1 and -j 2 give one plan.csv;
 *   - an --slo metric the summary has no per-model version of, and bad
 *     options, exit 2 with nothing written.
 * Scratch output goes under CS_TEST_TMP, removed on success. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "clitest.h"
#include "testutil.h"

#define TARGET 5.0
#define MAXR 4
#define NM 3

static const char *const MODELS[NM] = {"llama3.1-8b", "qwen3-8b", "mistral-7b"};
static const double RATES[NM] = {16.0, 0.4, 0.2};

static char *scratch, *cfg;

/* A scenario of the classes of the models in `mask`, pools[i] holding the
 * models of masks[i] with replicas[i] replicas each; model.name the first
 * model of pool 0 (as plan writes it). */
static char *scenario(unsigned mask, int npools, const unsigned *masks, const int *replicas)
{
  char pools[2048] = "", classes[4096] = "";
  size_t p = 0, c = 0;
  int first = -1;
  for (int i = 0; i < npools; i++) {
    p += (size_t)snprintf(pools + p, sizeof pools - p, "%s{ gpu = \"h100\"; tp = 1; replicas = %d; models = [",
                          i ? ", " : "", replicas[i]);
    int n = 0;
    for (int m = 0; m < NM; m++)
      if (masks[i] >> m & 1) {
        if (first < 0) first = m;
        p += (size_t)snprintf(pools + p, sizeof pools - p, "%s\"%s\"", n++ ? ", " : "", MODELS[m]);
      }
    p += (size_t)snprintf(pools + p, sizeof pools - p, "]; }");
  }
  int n = 0;
  for (int m = 0; m < NM; m++)
    if (mask >> m & 1)
      c += (size_t)snprintf(classes + c, sizeof classes - c,
                            "%s    { name = \"c%d\"; model = \"%s\"; arrivals = { rate = %g; };\n"
                            "      prompt_tokens = { dist = \"lognormal\"; mean = 1000.0; cv = 1.0; };\n"
                            "      output_tokens = { dist = \"lognormal\"; mean = 200.0; cv = 1.0; };\n"
                            "      truncate = true; }",
                            n++ ? ",\n" : "", m, MODELS[m], RATES[m]);
  return cs_fmt("name = \"plan-models\";\nseed = 5;\n"
                "model = { name = \"%s\"; precision = \"bf16\"; };\n"
                "cluster = {\n  pools = ( %s );\n"
                "  weight_swap = { policy = \"popularity\"; from = \"host-memory\"; };\n};\n"
                "workload = {\n  classes = (\n%s\n  );\n  duration_s = 120.0;\n};\n"
                "scheduler = { stack = \"vllm-v1\"; };\n",
                MODELS[first], pools, classes);
}

static void setup(void)
{
  if (scratch) return;
  scratch = cs_tmpdir("plan_models_cfg");
  unsigned all = (1u << NM) - 1;
  int two = 2;
  char *text = scenario(all, 1, &all, &two);
  cfg = cs_write_file(scratch, "mm.cfg", text);
  free(text);
}

static int model_of(const char *name)
{
  for (int m = 0; m < NM; m++)
    if (!strcmp(MODELS[m], name)) return m;
  return -1;
}

/* The mask of a plan.json pool's "models". */
static unsigned mask_of(const json_t *pool)
{
  unsigned mask = 0;
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(pool, "models"), i, v) mask |= 1u << model_of(json_string_value(v));
  return mask;
}

/* ---- a run by hand ---- */

typedef struct {
  bool ok;                   /* the run gave every number */
  bool feasible;             /* every model <= TARGET, nothing rejected */
  double cost, gpus, ratio;  /* ratio: the worst model's ttft / TARGET */
  double ttft[NM];           /* each model's TTFT p99 (NaN: not in the run) */
} hand;

/* `clustersim run` of text into h: each model's TTFT p99 found by its
 * modelN_name (several models) or ttft_p99_s (one). */
static void run_hand(const char *text, const char *tag, hand *h)
{
  char *dir = cs_tmpdir(tag);
  char *file = cs_write_file(scratch, "hand.cfg", text);
  char *out = path_join(dir, "out");
  result r = RUN("run", file, "-q", "-o", out);
  CHECK_RC(r, 0);
  json_t *j = load_json(out, "summary.json");
  memset(h, 0, sizeof *h);
  for (int m = 0; m < NM; m++) h->ttft[m] = NAN;
  h->cost = cs_jnum(j, "usd_per_hour");
  h->gpus = cs_jnum(j, "gpus");
  double rejected = cs_jnum(j, "requests_rejected");
  if (json_object_get(j, "model0_name")) {
    for (int n = 0; n < NM; n++) {
      char key[64];
      snprintf(key, sizeof key, "model%d_name", n);
      int m = model_of(cs_jstr(j, key));
      snprintf(key, sizeof key, "model%d_ttft_p99_s", n);
      if (m >= 0) h->ttft[m] = cs_jnum(j, key);
    }
  } else {
    h->ttft[model_of(cs_jstr(j, "model"))] = cs_jnum(j, "ttft_p99_s");
  }
  h->ok = j && !isnan(h->cost) && rejected == rejected;
  h->feasible = rejected == 0;
  for (int m = 0; m < NM; m++)
    if (!isnan(h->ttft[m])) {
      h->feasible = h->feasible && h->ttft[m] <= TARGET;
      h->ratio = fmax(h->ratio, h->ttft[m] / TARGET);
    }
  json_decref(j);
  result_free(&r);
  cs_rm_rf(dir);
  free(dir);
  free(file);
  free(out);
}

/* The fewest replicas (1..MAXR) of one pool holding the models of mask,
 * their classes only, that meet the target, into *best (best->ok false:
 * none); *replicas set. */
static void fewest_by_hand(unsigned mask, hand *best, int *replicas)
{
  best->ok = false;
  *replicas = 0;
  for (int n = 1; n <= MAXR; n++) {
    char *text = scenario(mask, 1, &mask, &n);
    hand h;
    run_hand(text, "plan_models_grid", &h);
    free(text);
    CHECK(h.ok, "mask %u, %d replicas: no summary", mask, n);
    if (h.ok && h.feasible) {
      *best = h;
      *replicas = n;
      return;
    }
  }
}

/* ---- tests ---- */

static result plan_of(const char *file, const char *out, const char *extra1, const char *extra2)
{
  const char *args[20] = {"plan", file, "--slo", "ttft_p99_s=5", "--candidates", "tp=1", "--max-replicas", "4",
                          "-j", "2", "-q", "-o", out};
  int n = 13;
  if (extra1) args[n++] = extra1;
  if (extra2) args[n++] = extra2;
  args[n] = NULL;
  return run_argv(NULL, args);
}

/* The candidate of plan.json with this k, or NULL. */
static const json_t *cand_k(const json_t *j, int k)
{
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(j, "candidates"), i, c) if (cs_jnum(c, "k") == k) return c;
  return NULL;
}

/* The dedicated placement's pools are the classic plan of each model's own
 * scenario; and the answer is the cheapest of the placements by hand. */
static void test_known_answer(void)
{
  unsigned f0 = CU_get_number_of_failures();
  setup();
  char *dir = cs_tmpdir("plan_models_known");
  result r = plan_of(cfg, dir, NULL, NULL);
  CHECK_RC(r, 0);
  json_t *j = load_json(dir, "plan.json");
  CHECK(!strcmp(cs_jstr(j, "mode"), "placement"), "plan.json: mode %s, expected placement", cs_jstr(j, "mode"));
  CHECK(json_array_size(json_object_get(j, "candidates")) == NM, "plan.json: %zu candidates, expected k = 0 .. %d",
        json_array_size(json_object_get(j, "candidates")), NM - 1);
  /* the demand order: the rates' (equal request sizes) */
  for (int i = 0; i < NM; i++)
    CHECK(!strcmp(cs_jstr(json_array_get(json_object_get(j, "models"), (size_t)i), "name"), MODELS[i]),
          "plan.json: models[%d] is %s, expected %s", i,
          cs_jstr(json_array_get(json_object_get(j, "models"), (size_t)i), "name"), MODELS[i]);

  /* 1. dedicated = the classic plan of each model alone */
  const json_t *ded = cand_k(j, NM - 1);
  CHECK(ded && json_array_size(json_object_get(ded, "pools")) == NM, "plan.json: no dedicated candidate of %d pools",
        NM);
  double ded_cost = 0;
  for (int m = 0; m < NM; m++) {
    unsigned mask = 1u << m;
    int one = 1;
    char *text = scenario(mask, 1, &mask, &one);
    char name[32], *sub = cs_tmpdir("plan_models_alone");
    snprintf(name, sizeof name, "alone%d.cfg", m);
    char *file = cs_write_file(scratch, name, text);
    result a = plan_of(file, sub, NULL, NULL);
    CHECK_RC(a, 0);
    json_t *aj = load_json(sub, "plan.json");
    const json_t *pool = NULL;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(ded, "pools"), i, p) if (mask_of(p) == mask) pool = p;
    CHECK(pool != NULL, "dedicated: no pool of %s alone", MODELS[m]);
    CHECK(cs_jnum(pool, "replicas") == cs_jnum(aj, "replicas") && cs_jnum(pool, "tp") == cs_jnum(aj, "tp") &&
              !strcmp(cs_jstr(pool, "gpu"), cs_jstr(aj, "gpu")),
          "dedicated %s: %g x %s tp %g; its own scenario's plan: %g x %s tp %g", MODELS[m], cs_jnum(pool, "replicas"),
          cs_jstr(pool, "gpu"), cs_jnum(pool, "tp"), cs_jnum(aj, "replicas"), cs_jstr(aj, "gpu"), cs_jnum(aj, "tp"));
    CS_CHECK_REL(cs_jnum(pool, "usd_per_hour"), cs_jnum(aj, "usd_per_hour"), 1e-12, "dedicated pool cost");
    ded_cost += cs_jnum(aj, "usd_per_hour");
    json_decref(aj);
    result_free(&a);
    cs_rm_rf(sub);
    free(sub);
    free(file);
    free(text);
  }
  CS_CHECK_REL(cs_jnum(ded, "usd_per_hour"), ded_cost, 1e-12, "dedicated: the sum of its pools");

  /* 2. the placements by hand: all shared (k=0), the heaviest alone + the
   * two others shared (k=1), all dedicated (k=2) */
  unsigned all = (1u << NM) - 1;
  unsigned groups[NM][NM] = {{all}, {all & ~1u, 1u}, {1u, 2u, 4u}};
  int ngroups[NM] = {1, 2, 3};
  double cost[NM], gpus[NM], ratio[NM];
  bool feasible[NM];
  int best = -1;
  for (int k = 0; k < NM; k++) {
    cost[k] = gpus[k] = ratio[k] = 0;
    feasible[k] = true;
    const json_t *c = cand_k(j, k);
    for (int g = 0; g < ngroups[k]; g++) {
      hand h;
      int n;
      fewest_by_hand(groups[k][g], &h, &n);
      feasible[k] = feasible[k] && n > 0;
      cost[k] += h.cost;
      gpus[k] += h.gpus;
      ratio[k] = fmax(ratio[k], h.ratio);
      /* plan's pool of these models has the same size */
      size_t i;
      json_t *p;
      const json_t *pool = NULL;
      json_array_foreach(json_object_get(c, "pools"), i, p) if (mask_of(p) == groups[k][g]) pool = p;
      CHECK(pool && cs_jnum(pool, "replicas") == n, "k=%d: the pool of mask %u has %g replicas; by hand %d", k,
            groups[k][g], pool ? cs_jnum(pool, "replicas") : NAN, n);
    }
    CHECK(json_is_boolean(json_object_get(c, "feasible")) &&
              json_is_true(json_object_get(c, "feasible")) == feasible[k],
          "k=%d: feasible differs from the hand's", k);
    if (feasible[k]) CS_CHECK_REL(cs_jnum(c, "usd_per_hour"), cost[k], 1e-12, "candidate cost");
    /* cheaper, then fewer GPUs, then more headroom, then (k grows) the more dedicated */
    double tol = 1e-9 * cost[k];
    bool tie = best >= 0 && fabs(cost[k] - cost[best]) <= tol;
    bool before = best < 0 || cost[k] < cost[best] - tol ||
                  (tie && (gpus[k] < gpus[best] || (gpus[k] == gpus[best] && ratio[k] <= ratio[best])));
    if (feasible[k] && before) best = k;
  }
  CHECK(best >= 0, "no placement meets the target by hand: the test needs a new target");
  /* the answer can fail: the placements do not all cost the same */
  CHECK(cost[0] != cost[NM - 1] || cost[1] != cost[0], "every placement costs the same: pick other rates");
  const json_t *w = json_object_get(j, "winner");
  CHECK(json_is_true(json_object_get(j, "feasible")), "plan.json: feasible is not true");
  CHECK(cs_jnum(w, "k") == best, "plan chose k=%g; by hand the cheapest is k=%d ($%g/h)", cs_jnum(w, "k"), best,
        best >= 0 ? cost[best] : NAN);
  if (best >= 0) CS_CHECK_REL(cs_jnum(w, "usd_per_hour"), cost[best], 1e-12, "winner cost");

  /* 3. the winner, written out whole, meets the target for every model */
  unsigned masks[NM];
  int replicas[NM], np = 0;
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(w, "pools"), i, p)
  {
    masks[np] = mask_of(p);
    replicas[np++] = (int)cs_jnum(p, "replicas");
  }
  char *text = scenario(all, np, masks, replicas);
  hand h;
  run_hand(text, "plan_models_whole", &h);
  free(text);
  CHECK(h.ok && h.feasible, "the winner run whole misses the target");
  const json_t *whole = json_object_get(w, "whole");
  CHECK(json_is_true(json_object_get(whole, "feasible")), "plan.json: winner.whole.feasible is not true");
  CS_CHECK_REL(cs_jnum(whole, "usd_per_hour"), h.cost, 1e-12, "whole cost");
  json_array_foreach(json_object_get(whole, "per_model"), i, p)
  {
    int m = model_of(cs_jstr(p, "name"));
    CHECK(m >= 0, "per_model: unknown model %s", cs_jstr(p, "name"));
    if (m < 0) continue;
    CHECK(h.ttft[m] <= TARGET, "%s: TTFT p99 %g s run whole", MODELS[m], h.ttft[m]);
    CS_CHECK_REL(cs_jnum(p, "ttft_p99_s"), h.ttft[m], 1e-12, "per-model ttft_p99_s");
    CHECK(json_is_true(json_object_get(p, "meets")), "per_model %s: meets is not true", MODELS[m]);
  }
  CHECK(cs_jnum(whole, "weight_swaps_per_hour") >= 0, "plan.json: no weight_swaps_per_hour");
  /* plan.csv: a header and one row per configuration */
  char *csv_path = path_join(dir, "plan.csv");
  char *csv = cs_slurp(csv_path, NULL);
  int lines = 0;
  for (const char *s = csv; s && *s; s++) lines += *s == '\n';
  const char *head = "pool,gpu,tp,replicas,feasible,usd_per_hour,usd_per_million_tokens,ttft_p99_s,worst_ratio,";
  CHECK(csv && !strncmp(csv, head, strlen(head)),
        "plan.csv header: %.120s", csv ? csv : "(none)");
  CHECK(lines == cs_jnum(j, "configurations") + 1, "plan.csv: %d lines for %g configurations", lines,
        cs_jnum(j, "configurations"));
  free(csv);
  free(csv_path);
  json_decref(j);
  result_free(&r);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* Two plans of the test scenario, each with one more option (FLAG VALUE),
 * both exit 0; dir[i] their outputs. */
typedef struct {
  char *dir[2];
} two_plans;

static void run_two(two_plans *t, const char *tag, const char *const flags[2][2])
{
  for (int i = 0; i < 2; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s%d", tag, i);
    t->dir[i] = cs_tmpdir(name);
    result r = plan_of(cfg, t->dir[i], flags[i][0], flags[i][1]);
    CHECK_RC(r, 0);
    result_free(&r);
  }
}

static void two_done(two_plans *t, unsigned f0)
{
  for (int i = 0; i < 2; i++) {
    cs_cleanup_if_passed(t->dir[i], f0);
    free(t->dir[i]);
  }
}

/* --placement shared sizes the one pool at least as large as the classic
 * plan of pool 0 holding every model (--placement none). */
static void test_shared(void)
{
  unsigned f0 = CU_get_number_of_failures();
  setup();
  static const char *const flags[2][2] = {{"--placement", "shared"}, {"--placement", "none"}};
  two_plans t;
  run_two(&t, "plan_models_shared", flags);
  json_t *j1 = load_json(t.dir[0], "plan.json"), *j2 = load_json(t.dir[1], "plan.json");
  const json_t *w = json_object_get(j1, "winner");
  CHECK(json_array_size(json_object_get(j1, "candidates")) == 1 && cs_jnum(w, "k") == 0,
        "--placement shared: not the one shared candidate");
  const json_t *pool = json_array_get(json_object_get(w, "pools"), 0);
  CHECK(mask_of(pool) == (1u << NM) - 1, "--placement shared: the pool does not hold every model");
  /* pool 0 as written holds the three models: the classic search sizes it
   * against the fleet's ttft_p99_s, which is no more than the worst model's */
  CHECK(cs_jnum(pool, "replicas") >= cs_jnum(j2, "replicas"), "shared: %g replicas; the classic plan %g",
        cs_jnum(pool, "replicas"), cs_jnum(j2, "replicas"));
  json_decref(j1);
  json_decref(j2);
  two_done(&t, f0);
}

/* The same plan.csv with -j 1 as with -j 2 (the worker pool's order does
 * not reach the answer). */
static void test_jobs(void)
{
  unsigned f0 = CU_get_number_of_failures();
  setup();
  static const char *const flags[2][2] = {{"-j", "1"}, {"-j", "2"}};
  two_plans t;
  run_two(&t, "plan_models_j", flags);
  char *c1 = path_join(t.dir[0], "plan.csv"), *c2 = path_join(t.dir[1], "plan.csv");
  CHECK(cs_same_file(c1, c2), "plan.csv differs between -j 1 and -j 2");
  free(c1);
  free(c2);
  two_done(&t, f0);
}

/* Exit 2, the message, nothing written. */
static void test_refusals(void)
{
  unsigned f0 = CU_get_number_of_failures();
  setup();
  char *dir = cs_tmpdir("plan_models_refusals");
  unsigned one = 1;
  int n = 1;
  char *text = scenario(one, 1, &one, &n);
  char *single = cs_write_file(scratch, "single.cfg", text);
  free(text);
  struct {
    const char *args[16];
    const char *want;
  } cases[] = {
    {{"plan", cfg, "--slo", "queue_delay_p99_s=1", "-o", dir},
     "--slo queue_delay_p99_s: with several models every target holds for each model (modelN_queue_delay_p99_s), "
     "and the summary has no model0_queue_delay_p99_s; per-model metrics:"},
    {{"plan", cfg, "--slo", "ttft_p90_s=1", "-o", dir}, "the summary has no model0_ttft_p90_s"},
    {{"plan", cfg, "--slo", "ttft_p99_s=1", "--placement", "some", "-o", dir},
     "--placement: expected search, shared, dedicated or none, got 'some'"},
    {{"plan", cfg, "--slo", "ttft_p99_s=1", "--placement", "shared", "--pricing", "on-demand", "-o", dir},
     "--pricing: not for a plan of which models share which GPUs (--placement shared)"},
    {{"plan", cfg, "--slo", "ttft_p99_s=1", "--load-scales", "0.5,1", "-o", dir},
     "--load-scales: not for a plan of which models share which GPUs"},
    {{"plan", single, "--slo", "ttft_p99_s=1", "--placement", "dedicated", "-o", dir},
     "the workload names 1 model"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    result r = run_argv(NULL, cases[i].args);
    CHECK_RC(r, 2);
    CHECK_ERR_HAS(r, cases[i].want);
    char *json = path_join(dir, "plan.json");
    CHECK(access(json, F_OK) != 0, "%s: plan.json written", r.cmd);
    free(json);
    result_free(&r);
  }
  free(single);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

static void cleanup(void)
{
  if (scratch && CU_get_number_of_failures() == 0) cs_rm_rf(scratch);
  free(scratch);
  free(cfg);
}

int main(int argc, char **argv)
{
  static const cs_test tests[] = {
    {"known_answer", test_known_answer},
    {"shared", test_shared},
    {"jobs", test_jobs},
    {"refusals", test_refusals},
    {NULL, NULL},
  };
  int rc = cs_run_suite_filtered("plan_models", tests, argc, argv);
  cleanup();
  return rc;
}
