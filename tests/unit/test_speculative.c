/* tests/unit/test_speculative.c: speculative decoding in the serving
 * simulation (models/serving/speculative.[ch], the scheduler's verify
 * steps), through the clustersim program and the compute core, checked
 * against answers known without the simulation: a lone request's time,
 * step by step, with every draft accepted (k + 1 tokens a step) and with
 * none (one token a step at a verification's higher cost); the mean tokens
 * per step of per-position acceptance against its closed form, for the
 * acceptance draw itself and for a whole run; conservation and Little's
 * law under load and under KV-cache pressure with speculation on;
 * `method = "none"` giving the summary of a scenario without the section;
 * the break-even batch emerging from the step costs; the warning for
 * keys that speculation off leaves unused; and two published speed-ups
 * (models/validation/speculative), their errors held. The keys' bad values are
 * tests/badconfig/serving_spec_*.cfg. */
#include <CUnit/CUnit.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cattest.h"
#include "clitest.h"
#include "models/llm/llm_step.h"
#include "models/serving/speculative.h"
#include "sim/rng.h"
#include "sim/time.h"
#include "testutil.h"

#define A100 "a100-80gb-sxm"

/* A formatted string in one of 8 rotating static buffers (messages and
 * --set arguments: nothing to free). */
static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
  static char buf[8][2048];
  static int next;
  char *b = buf[next++ % 8];
  va_list ap;
  va_start(ap, f);
  vsnprintf(b, sizeof buf[0], f, ap);
  va_end(ap);
  return b;
}

/* `clustersim run CFG -q -o OUT [--set S]...` in dir: OUT/summary.json's
 * text, or NULL after failing the test. */
static char *run_at(int line, const char *dir, const char *cfg, const char *out, const char *const *sets)
{
  const char *argv[32] = {"run", cfg, "-q", "-o", out};
  int n = 5;
  for (; sets && *sets && n < 29; sets++) {
    argv[n++] = "--set";
    argv[n++] = *sets;
  }
  argv[n] = NULL;
  result r = run_argv(dir, argv);
  if (r.rc != 0) fail_at(line, "%s: exit status %d; stderr:\n%s", r.cmd, r.rc, r.err);
  result_free(&r);
  char *rel = path_join(out, "summary.json"), *path = path_join(dir, rel);
  char *text = cs_slurp(path, NULL);
  if (!text) fail_at(line, "%s: not written", path);
  free(rel);
  free(path);
  return text;
}
#define RUN_CFG(dir, cfg, out, ...) run_at(__LINE__, (dir), (cfg), (out), (const char *const[]){__VA_ARGS__, NULL})

#define SNUM(json, key) cs_summary_num(__FILE__, __LINE__, (json), (key))

#define CHECK_REL CS_CHECK_REL

/* ---- 1. a lone request, step by step ---- */

/* Requests 10 s apart (gamma, cv 0.01), each served in well under 10 s:
 * every request meets an empty replica and runs alone. Llama 3.1 8B on an
 * A100, drafted by Llama 3.2 1B (same vocabulary). */
static const char lone_cfg[] =
  "name = \"lone\";\nseed = 3;\n"
  "model = { name = \"llama3.1-8b\"; precision = \"fp16\"; };\n"
  "cluster = { pools = ( { gpu = \"" A100 "\"; replicas = 1; tp = 1; } ); };\n"
  "workload = {\n"
  "  arrivals = { process = \"gamma\"; cv = 0.01; rate = 0.1; };\n"
  "  prompt_tokens = { dist = \"fixed\"; value = 512; };\n"
  "  output_tokens = { dist = \"fixed\"; value = 128; };\n"
  "  requests = 40;\n"
  "};\n"
  "scheduler = { policy = \"continuous\"; step_overhead_s = 0.0005; };\n"
  "speculative = { method = \"ngram\"; num_speculative_tokens = 4; acceptance_rate = 1.0; };\n";

enum { P = 512, O = 128 };

/* The replicas the scenario builds: the ideal stack is llm_replica_init's
 * engine with step_overhead_s of host time per step. */
static void lone_replicas(llm_replica *t, llm_replica *d)
{
  llm_replica_init(t, cs_model("llama3.1-8b"), cs_gpu(A100), GPU_FP16, 1, 1, NULL, NULL, 0.0005);
  llm_replica_init(d, cs_model("llama3.2-1b"), cs_gpu(A100), GPU_FP16, 1, 1, NULL, NULL, 0.0005);
}

/* A lone request's end-to-end time (s) as the engine counts it, each step
 * rounded to its ns: the prefill (emitting token 1, the draft model
 * prefilling too), then verification steps at context P + g with d =
 * min(k, O - g - 1) drafts, `accept` of them accepted (all, or none); the
 * drafter's passes (method "draft": d decodes of the draft model at
 * contexts P + g .. P + g + d - 1; "eagle": one target layer and its head
 * each) added to the step. *steps: the decode steps. */
static double lone_e2e_s(const char *method, int k, bool all, int *steps, double *ttft)
{
  llm_replica t, dr;
  lone_replicas(&t, &dr);
  bool draft = !strcmp(method, "draft"), eagle = !strcmp(method, "eagle");
  llm_batch b = {0};
  llm_step_cost c;
  llm_batch_add_prefill(&b, 0, P, true);
  llm_step(&t, &b, &c);
  /* summed as the scheduler sums them: the target's step, then the
   * drafter's passes added up from 0 */
  double pre = c.total_s, dpre = 0;
  if (draft) {
    llm_step(&dr, &b, &c);
    dpre += c.total_s;
  } else if (eagle) {
    llm_step(&t, &b, &c);
    dpre += (c.linear_s + c.attention_s + c.comm_s) / 32 + c.head_s;
  }
  sim_time ns = sim_time_from_s(pre + dpre);
  *ttft = sim_time_to_s(ns);
  *steps = 0;
  for (int g = 1; g < O;) {
    int d = O - g - 1 < k ? O - g - 1 : k;
    llm_batch v = {0};
    llm_batch_add_verify(&v, 1, P + g, d);
    llm_step(&t, &v, &c);
    double s = c.total_s, ds = 0;
    for (int j = 1; j <= d; j++) {
      llm_batch p = {0};
      llm_batch_add_decode(&p, 1, P + g + j - 1);
      if (draft) {
        llm_step(&dr, &p, &c);
        ds += c.total_s;
      } else if (eagle) {
        llm_step(&t, &p, &c);
        ds += (c.linear_s + c.attention_s + c.comm_s) / 32 + c.head_s;
      }
    }
    ns += sim_time_from_s(s + ds);
    g += all ? d + 1 : 1;
    (*steps)++;
  }
  return sim_time_to_s(ns);
}

/* Every request of the run against the hand-timed one: the 40 are alike,
 * so the mean and p99.9 of each latency are the one value. */
static void check_lone(const char *sum, const char *what, double e2e, double ttft)
{
  double tpot = (e2e - ttft) / (O - 1);
  CHECK(SNUM(sum, "requests_completed") == 40, "%s: %g of 40 completed", what, SNUM(sum, "requests_completed"));
  CHECK(SNUM(sum, "queue_delay_p999_s") == 0, "%s: a request waited (%g s)", what, SNUM(sum, "queue_delay_p999_s"));
  CHECK_REL(SNUM(sum, "e2e_mean_s"), e2e, 1e-9, fmt("%s: end-to-end mean", what));
  CHECK_REL(SNUM(sum, "e2e_p999_s"), e2e, 1e-9, fmt("%s: end-to-end p99.9", what));
  CHECK_REL(SNUM(sum, "ttft_mean_s"), ttft, 1e-9, fmt("%s: TTFT", what));
  CHECK_REL(SNUM(sum, "tpot_mean_s"), tpot, 1e-8, fmt("%s: TPOT (per output token)", what));
  printf("\n    %s: TTFT %.9f s, end-to-end %.9f s, TPOT %.9f s", what, ttft, e2e, tpot);
}

/* Acceptance 1: every step emits k + 1 tokens (the k drafts and the
 * target's own), so the O - 1 tokens after the prefill's take
 * ceil((O - 1) / (k + 1)) steps: 127 / 5 -> 26 steps (25 of 5 tokens and
 * one of 2, where only 1 draft is left to propose). Times to 1e-9: the
 * hand sum rounds each step to the ns as the engine does. */
static void test_accept_all_exact(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("spec_lone");
  char *cfg = cs_write_file(dir, "lone.cfg", lone_cfg);
  const int k = 4;
  static const char *const methods[] = {"ngram", "draft", "eagle"};
  for (int i = 0; i < 3; i++) {
    const char *m = methods[i];
    int steps;
    double ttft, e2e = lone_e2e_s(m, k, true, &steps, &ttft);
    CHECK(steps == (O - 1 + k) / (k + 1) && steps == 26, "%s: %d decode steps, expected ceil(127 / 5) = 26", m,
          steps);
    char *sum = !strcmp(m, "draft")
                    ? RUN_CFG(dir, "lone.cfg", m, "speculative.method=\"draft\"", "speculative.draft_model=\"llama3.2-1b\"")
                    : RUN_CFG(dir, "lone.cfg", m, fmt("speculative.method=\"%s\"", m));
    check_lone(sum, fmt("%s, acceptance 1", m), e2e, ttft);
    /* 40 requests x 26 steps, 25 x 4 + 1 drafts proposed and all accepted */
    CHECK(SNUM(sum, "spec_acceptance_rate") == 1, "%s: acceptance %g", m, SNUM(sum, "spec_acceptance_rate"));
    CHECK_REL(SNUM(sum, "spec_tokens_per_step"), 127.0 / 26, 1e-12, fmt("%s: tokens per step", m));
    double frac = SNUM(sum, "spec_draft_time_fraction");
    CHECK(!strcmp(m, "ngram") ? frac == 0 : frac > 0.01 && frac < 0.5, "%s: draft time fraction %g", m, frac);
    free(sum);
  }
  printf("\n");
  free(cfg);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* Acceptance 0: one token a step (the target's own), O - 1 = 127 steps,
 * each verifying min(k, tokens left - 1) drafts: dearer than a plain
 * decode, so the request takes longer than without speculation. */
static void test_accept_none_costs_more(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("spec_none");
  char *cfg = cs_write_file(dir, "lone.cfg", lone_cfg);
  int steps;
  double ttft, e2e = lone_e2e_s("ngram", 4, false, &steps, &ttft);
  CHECK(steps == O - 1, "%d decode steps, expected %d", steps, O - 1);
  char *sum = RUN_CFG(dir, "lone.cfg", "zero", "speculative.acceptance_rate=0.0");
  check_lone(sum, "ngram, acceptance 0", e2e, ttft);
  CHECK(SNUM(sum, "spec_acceptance_rate") == 0 && SNUM(sum, "spec_tokens_per_step") == 1,
        "acceptance %g, tokens per step %g", SNUM(sum, "spec_acceptance_rate"), SNUM(sum, "spec_tokens_per_step"));
  char *off = RUN_CFG(dir, "lone.cfg", "off", "speculative.method=\"none\"");
  double e2e_off = SNUM(off, "e2e_mean_s");
  printf("\n    acceptance 0: end-to-end %.9f s against %.9f s without speculation (+%.2f%%)\n", e2e, e2e_off,
         100 * (e2e / e2e_off - 1));
  CHECK(SNUM(sum, "e2e_mean_s") > e2e_off && SNUM(sum, "tpot_mean_s") > SNUM(off, "tpot_mean_s"),
        "acceptance 0 is not slower than no speculation: %.9g vs %.9g s", SNUM(sum, "e2e_mean_s"), e2e_off);
  /* the same prefill: only decode steps changed */
  CHECK(SNUM(sum, "ttft_mean_s") == SNUM(off, "ttft_mean_s"), "TTFT changed: %.12g vs %.12g",
        SNUM(sum, "ttft_mean_s"), SNUM(off, "ttft_mean_s"));
  CHECK(!strstr(off, "\"spec_"), "speculation off reports spec_ keys");
  free(sum);
  free(off);
  free(cfg);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* ---- 2. per-position acceptance: E = 1 + sum_i prod_{j<=i} a_j ---- */

static const double rates[] = {0.9, 0.7, 0.5, 0.3};

/* The tokens a step emits, T = 1 + accepted: P(T >= t) = cum[t - 1], so
 * E[T] = sum_{i=0..k} cum[i] and E[T^2] = sum_{t>=1} (2t - 1) P(T >= t) =
 * sum_{i=0..k} (2i + 1) cum[i]. Here cum = 1, .9, .63, .315, .0945:
 * E = 2.9395. */
static void moments(const spec_cfg *c, double *mean, double *var)
{
  double m = 0, m2 = 0;
  for (int i = 0; i <= c->k; i++) {
    m += c->cum[i];
    m2 += (2 * i + 1) * c->cum[i];
  }
  *mean = m;
  *var = m2 - m * m;
}

/* spec_accepted on its own: 10^6 draws at d = k, the mean of T within
 * 5 standard errors (sd(T) / sqrt(n)) of E, and the frequency of each
 * count within 5 binomial standard errors of cum[i] - cum[i + 1]. */
static void test_acceptance_closed_form(void)
{
  spec_cfg c = {.method = SPEC_NGRAM, .k = 4, .nrates = 4, .has_k = true, .draft_model = ""};
  memcpy(c.acceptance_rates, rates, sizeof rates);
  sim_check *ck = sim_check_alloc();
  spec_check(&c, "speculative", ck);
  CHECK(sim_check_count(ck) == 0, "spec_check refused the rates");
  sim_check_free(ck);
  double E, V;
  moments(&c, &E, &V);
  CHECK(fabs(E - 2.9395) < 1e-12 && fabs(c.expected_tokens - E) < 1e-12, "E = %.12g (expected_tokens %.12g), by hand 2.9395",
        E, c.expected_tokens);
  gsl_rng *rng = sim_rng_alloc(7, "test.speculative");
  const long n = 1000000;
  long hist[SPEC_MAX_TOKENS + 1] = {0};
  double sum = 0;
  for (long i = 0; i < n; i++) {
    int a = spec_accepted(&c, 4, rng);
    hist[a]++;
    sum += a + 1;
  }
  double mean = sum / n, se = sqrt(V / n);
  printf("\n    per-position [0.9, 0.7, 0.5, 0.3]: E %.6f, drawn %.6f (%.2f standard errors)\n", E, mean, (mean - E) / se);
  CHECK(fabs(mean - E) < 5 * se, "mean tokens per step %.6f, closed form %.6f (5 se = %.6f)", mean, E, 5 * se);
  for (int a = 0; a <= 4; a++) {
    double p = c.cum[a] - (a < 4 ? c.cum[a + 1] : 0), f = (double)hist[a] / n;
    CHECK(fabs(f - p) < 5 * sqrt(p * (1 - p) / n), "P(%d accepted) drawn %.6f, expected %.6f", a, f, p);
  }
  /* d < k proposes fewer: never more accepted than proposed */
  for (int i = 0; i < 1000; i++) CHECK(spec_accepted(&c, 1, rng) <= 1, "more accepted than proposed");
  gsl_rng_free(rng);
}

/* The same through a run: 6 requests of 100,000 output tokens (a 16-token
 * prompt) on Llama 3.1 8B, about 34,000 decode steps each, 204,000 in
 * all. Tokens per step is (tokens) / (steps): the steps near each
 * request's end propose fewer drafts (at most 2 such steps of the ~34,000,
 * a bias under 1e-4), so the measured mean is E within the sampling error
 * of 204,000 steps, sd(T) / sqrt(n) / E = 1.07 / 452 / 2.94 = 8e-4
 * relative: 5 standard errors, 0.4%. Acceptance (accepted / proposed) is
 * (E - 1) / k for full steps. */
static void test_per_position_run(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("spec_positions");
  char *cfg = cs_write_file(dir, "long.cfg",
                            "name = \"long\";\nseed = 5;\n"
                            "model = { name = \"llama3.1-8b\"; };\n"
                            "cluster = { pools = ( { gpu = \"" A100 "\"; replicas = 1; } ); };\n"
                            "workload = {\n"
                            "  arrivals = { rate = 10.0; };\n"
                            "  prompt_tokens = { dist = \"fixed\"; value = 16; };\n"
                            "  output_tokens = { dist = \"fixed\"; value = 100000; };\n"
                            "  requests = 6;\n"
                            "};\n"
                            "scheduler = { max_num_seqs = 3; };\n"
                            "speculative = { method = \"eagle\"; num_speculative_tokens = 4;\n"
                            "  acceptance_rates = [0.9, 0.7, 0.5, 0.3]; };\n");
  char *sum = RUN_CFG(dir, "long.cfg", "out", "scheduler.policy=\"continuous\"");
  const double E = 2.9395, rel = 5 * sqrt(1.148) / sqrt(6 * 99999 / E) / E;
  double tps = SNUM(sum, "spec_tokens_per_step"), acc = SNUM(sum, "spec_acceptance_rate");
  printf("\n    run: tokens per step %.6f (E %.4f, tolerance %.2g), acceptance %.6f ((E - 1) / 4 = %.6f)\n", tps, E,
         rel, acc, (E - 1) / 4);
  CHECK(SNUM(sum, "requests_completed") == 6, "not all 6 completed");
  CHECK_REL(tps, E, rel, "tokens per step against the closed form");
  CHECK_REL(acc, (E - 1) / 4, 1.5 * rel, "acceptance against (E - 1) / k");
  free(sum);
  free(cfg);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* ---- 3. conservation and Little's law under load ---- */

static const char load_cfg[] =
  "name = \"load\";\nseed = 2;\n"
  "model = { name = \"llama3.1-8b\"; max_context = 4096; };\n"
  "cluster = { pools = ( { gpu = \"" A100 "\"; replicas = 2; } ); };\n"
  "workload = {\n"
  "  arrivals = { rate = 10.0; };\n"
  "  prompt_tokens = { dist = \"lognormal\"; mean = 500.0; cv = 1.0; };\n"
  "  output_tokens = { dist = \"lognormal\"; mean = 200.0; cv = 1.0; };\n"
  "  duration_s = 300.0;\n"
  "};\n"
  "scheduler = { max_num_seqs = 16; };\n"
  "speculative = { method = \"draft\"; draft_model = \"llama3.2-1b\"; num_speculative_tokens = 3;\n"
  "  acceptance_rate = 0.75; };\n";

/* Every arrival is completed, rejected or still in flight; L = lambda W
 * to rounding (the integral of the number in the system is the sum of the
 * times in it, path by path); output tokens are whole requests' outputs. */
static void check_books(const char *sum, const char *what)
{
  double arr = SNUM(sum, "requests_arrived"), done = SNUM(sum, "requests_completed");
  double rej = SNUM(sum, "requests_rejected"), fl = SNUM(sum, "requests_in_flight");
  CHECK(arr == done + rej + fl, "%s: %g arrived, %g completed + %g rejected + %g in flight", what, arr, done, rej, fl);
  double L = SNUM(sum, "requests_in_system_mean"), lam = SNUM(sum, "arrival_rate_per_s");
  double W = SNUM(sum, "time_in_system_mean_s");
  printf("\n    %s: %g arrived, %g completed, %g rejected, %g in flight; L %.6f, lambda W %.6f", what, arr, done, rej, fl,
         L, lam * W);
  CHECK(L > 1, "%s: L = %g, too light a load", what, L);
  CHECK_REL(L, lam * W, 1e-9, fmt("%s: Little's law", what));
}

static void test_conservation_little(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("spec_load");
  char *cfg = cs_write_file(dir, "load.cfg", load_cfg);
  char *sum = RUN_CFG(dir, "load.cfg", "drained", "scheduler.policy=\"continuous\"");
  CHECK(SNUM(sum, "requests_in_flight") == 0, "the run did not drain");
  check_books(sum, "drained");
  free(sum);
  sum = RUN_CFG(dir, "load.cfg", "cut", "horizon_s=150.0", "workload.arrivals.rate=40.0");
  CHECK(SNUM(sum, "requests_in_flight") > 50, "%g in flight at the horizon", SNUM(sum, "requests_in_flight"));
  check_books(sum, "cut by a horizon");
  free(sum);
  /* a KV cache of 400 blocks (6,400 tokens): sequences are preempted while
   * their drafts' slots are reserved and given back; chunked prefill too */
  const char *modes[] = {"recompute", "swap"};
  for (int i = 0; i < 2; i++) {
    sum = RUN_CFG(dir, "load.cfg", modes[i], "cluster.pools.[0].num_gpu_blocks=400",
                  fmt("scheduler.preemption=\"%s\"", modes[i]), "scheduler.policy=\"chunked-prefill\"");
    CHECK(SNUM(sum, "preemptions") > 0, "%s: no preemption with 400 blocks", modes[i]);
    CHECK(SNUM(sum, "requests_in_flight") == 0, "%s: the run did not drain", modes[i]);
    check_books(sum, fmt("400 KV blocks, %s", modes[i]));
    free(sum);
  }
  printf("\n");
  free(cfg);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* ---- 4. method none: the summary of a scenario without the section ---- */

/* The summary less its first lines up to "scenario" (name, version) - the
 * rest is every number of the run. */
static void test_none_identical(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("spec_off");
  const char *plain = strstr(load_cfg, "speculative = {");
  CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
  char *without = cs_fmt("%.*s", (int)(plain - load_cfg), load_cfg);
  char *c1 = cs_write_file(dir, "without.cfg", without);
  char *c2 = cs_write_file(dir, "none.cfg", fmt("%sspeculative = { method = \"none\"; };\n", without));
  char *s1 = RUN_CFG(dir, "without.cfg", "without", "output.requests=true");
  char *s2 = RUN_CFG(dir, "none.cfg", "none", "output.requests=true");
  const char *b1 = strstr(s1, "\"model\""), *b2 = strstr(s2, "\"model\"");
  CHECK(b1 && b2 && !strcmp(b1, b2), "method \"none\" changed the summary");
  char *r1 = path_join(dir, "without/requests.csv"), *r2 = path_join(dir, "none/requests.csv");
  CHECK(cs_same_file(r1, r2), "method \"none\" changed requests.csv");
  CHECK(!strstr(s2, "\"spec_"), "method \"none\" reports spec_ keys");
  free(r1);
  free(r2);
  free(s1);
  free(s2);
  free(c1);
  free(c2);
  free(without);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* ---- 5. where speculation stops paying ---- */

/* Per output token at batch B (all B sequences decoding at context 1,500):
 * without speculation one decode step per token; with EAGLE, k = 4 and
 * acceptance 0.7 (E = 1 + .7 + .49 + .343 + .2401 = 2.7731 tokens a
 * step), a verification step of 5 queries per sequence plus 4 head passes,
 * over E. Nothing in the model names a break-even batch: at B = 1 the
 * step is bound by the weights' read and five queries cost about what one
 * does, so speculation wins; at B = 512 the verification's 2,560 tokens
 * are compute-bound and cost several plain steps, so it loses. Between, the
 * ratio crosses 1 once. */
static void test_break_even_emerges(void)
{
  llm_replica t;
  llm_replica_init(&t, cs_model("llama3.1-70b"), cs_gpu("h100-sxm"), GPU_FP16, 4, 1, cs_link("nvlink4"), NULL, 0.0005);
  spec_cfg c = {.method = SPEC_EAGLE, .k = 4, .acceptance_rate = 0.7, .has_k = true, .has_rate = true, .draft_model = ""};
  sim_check *ck = sim_check_alloc();
  spec_check(&c, "speculative", ck);
  sim_check_free(ck);
  CHECK(fabs(c.expected_tokens - 2.7731) < 1e-12, "E = %.12g", c.expected_tokens);
  spec_pool sp = {0};
  double prev = 0;
  int crossings = 0, first_loss = 0;
  for (int B = 1; B <= 512; B *= 2) {
    llm_batch d = {0}, v = {0};
    llm_step_cost cd, cv;
    llm_batch_add_decode(&d, B, 1500);
    llm_step(&t, &d, &cd);
    llm_batch_add_verify(&v, B, 1500, 4);
    llm_step(&t, &v, &cv);
    int32_t n[SPEC_MAX_TOKENS + 2] = {0, B, B, B, B, 0};
    spec_draft_cost dc;
    llm_batch none = {0};
    spec_draft_step(&c, &sp, &t, &none, n, 4, 1500, &dc);
    double ratio = (cv.total_s + dc.total_s) / c.expected_tokens / cd.total_s;
    printf("%s    batch %3d: per token %.3f ms with EAGLE, %.3f ms without (x%.3f)", B == 1 ? "\n" : "\n", B,
           1e3 * (cv.total_s + dc.total_s) / c.expected_tokens, 1e3 * cd.total_s, ratio);
    if (B > 1 && (prev < 1) != (ratio < 1)) crossings++;
    if (!first_loss && ratio >= 1) first_loss = B;
    if (B == 1) CHECK(ratio < 0.6, "batch 1: speculation costs %.3f of a plain token", ratio);
    if (B == 512) CHECK(ratio > 1.1, "batch 512: speculation costs only %.3f of a plain token", ratio);
    prev = ratio;
  }
  printf("\n    first batch where speculation loses: %d\n", first_loss);
  CHECK(crossings == 1, "the per-token ratio crosses 1 %d times", crossings);
}

/* ---- 6. speculation switched off by --set ---- */

static void test_off_warns(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("spec_warn");
  char *cfg = cs_write_file(dir, "load.cfg", load_cfg);
  result r = run_in(dir, "check", "load.cfg", "--set", "speculative.method=\"none\"", (const char *)NULL);
  CHECK_RC(r, 0);
  CHECK_ERR_HAS(r, "speculative.method: warning: \"none\": the section's other keys are not used (speculation off)");
  result_free(&r);
  /* a static batch cannot speculate */
  r = run_in(dir, "check", "load.cfg", "--set", "scheduler.policy=\"static\"", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "speculative.method: with a static batch (expected the continuous or chunked-prefill policy");
  result_free(&r);
  r = run_in(dir, "check", "load.cfg", "--set", "scheduler.num_scheduler_steps=4", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "speculative.method: with scheduler.num_scheduler_steps = 4 (expected 1");
  result_free(&r);
  /* a draft of another vocabulary */
  r = run_in(dir, "check", "load.cfg", "--set", "speculative.draft_model=\"llama2-7b\"", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--set speculative.draft_model=\"llama2-7b\": speculative.draft_model: llama2-7b has a vocabulary of 32000 tokens, llama3.1-8b "
                   "128256 (a draft model shares the target's tokenizer)");
  result_free(&r);
  free(cfg);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* ---- 7. published speed-ups (models/validation/speculative) ---- */

/* Each case's TPOT without speculation over its TPOT with, against the
 * published speed-up; the error recorded here (and in the report's
 * VALIDATION rows) may move by at most 5 points, so that a change of the
 * model that moves a case comes with an update of the table. Both held
 * out (nothing fitted to them). */
static void test_published(void)
{
  static const struct {
    const char *scenario, *what;
    double published, expect_err;
  } cases[] = {
    {"deepseek-v3-mtp-h200", "DeepSeek-V3 MTP, 1.8x TPS at 85-90% acceptance", 1.8, -0.022},
    {"llama3-8b-eagle-a100", "Llama-3-8B EAGLE on A100, ITL 18.2 -> 9.6 ms", 18.2 / 9.6, +0.358},
  };
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("spec_published");
  printf("\n");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *cfg = fmt("%s/models/validation/speculative/%s.cfg", CS_SOURCE_DIR, cases[i].scenario);
    char *on = RUN_CFG(dir, cfg, fmt("%s-on", cases[i].scenario), "output.requests=false");
    char *off = RUN_CFG(dir, cfg, fmt("%s-off", cases[i].scenario), "speculative.method=\"none\"");
    double x = SNUM(off, "tpot_mean_s") / SNUM(on, "tpot_mean_s"), err = x / cases[i].published - 1;
    printf("    %s: speed-up %.3f, published %.3f (%+.1f%%)\n", cases[i].what, x, cases[i].published, 100 * err);
    CHECK(x > 1, "%s: speculation does not speed it up (x%.3f)", cases[i].what, x);
    CHECK(fabs(err - cases[i].expect_err) <= 0.05, "%s moved: error %+.1f%%, recorded %+.1f%%", cases[i].what,
          100 * err, 100 * cases[i].expect_err);
    free(on);
    free(off);
  }
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

int main(int argc, char **argv)
{
  static const cs_test tests[] = {
    {"accept_all_exact", test_accept_all_exact},
    {"accept_none_costs_more", test_accept_none_costs_more},
    {"acceptance_closed_form", test_acceptance_closed_form},
    {"per_position_run", test_per_position_run},
    {"conservation_little", test_conservation_little},
    {"none_identical", test_none_identical},
    {"break_even_emerges", test_break_even_emerges},
    {"off_warns", test_off_warns},
    {"published", test_published},
    {NULL, NULL},
  };
  int rc = cs_run_suite_filtered("speculative", tests, argc, argv);
  cs_catalogs_free();
  return rc;
}
