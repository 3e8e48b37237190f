/* tests/unit/test_train_zb.c: the zero-bubble pipeline schedule (ZB-H1,
 * Qi et al., ICLR 2024; train_pipeline_time_zb in train_schedule.c)
 * against its closed form, against 1F1B (equal when no weight gradient is
 * split off, never slower, never below the busiest stage's work), its
 * memory (every stage holds as many micro-batches as 1F1B's first), its
 * refusal with DualPipe, and the key and flag through the program. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "models/training/train.h"
#include "sim/catalog.h"
#include "cattest.h"
#include "clitest.h"
#include "testutil.h"

/* Equal stages, T_F = T_B = T_W = 1 (f 1, b 2, w 1), free p2p: the paper's
 * ZB-H1 iteration m (T_F + T_B + T_W) + (p - 1)(T_F + T_B - T_W), a third
 * of 1F1B's (m + p - 1)(T_F + T_B + T_W) bubble. The paper has no
 * interleaved ZB-H1: with chunks of 1/v the work the schedule must beat
 * interleaved 1F1B and not beat the work itself. */
static void test_closed_form(void)
{
  static const int pm[][2] = {{2, 2}, {2, 8}, {4, 4}, {4, 8}, {4, 16}, {8, 8}, {8, 32}, {16, 16}, {16, 64}};
  double f[256], b[256], w[256], z[256] = {0};
  for (size_t i = 0; i < sizeof pm / sizeof pm[0]; i++) {
    int p = pm[i][0], m = pm[i][1];
    for (int k = 0; k < p; k++) f[k] = 1, b[k] = 2, w[k] = 1;
    double zb = train_pipeline_time_zb(p, m, 1, f, b, w, z), base = train_pipeline_time(p, m, 1, f, b, z);
    CHECK(fabs(zb - (3.0 * m + (p - 1.0))) < 1e-9, "p %d m %d: ZB-H1 %.12g, expected %.12g", p, m, zb,
          3.0 * m + (p - 1.0));
    CS_CHECK_REL(zb - 3.0 * m, (base - 3.0 * m) / 3, 1e-9, "bubble against 1F1B's / 3");
    if (m % p) continue;
    for (int k = 0; k < 2 * p; k++) f[k] = 0.5, b[k] = 1, w[k] = 0.5;
    double zb2 = train_pipeline_time_zb(p, m, 2, f, b, w, z), base2 = train_pipeline_time(p, m, 2, f, b, z);
    CHECK(zb2 < base2 && zb2 >= 3.0 * m * (1 - 1e-12), "p %d m %d v 2: ZB-H1 %.12g, interleaved 1F1B %.12g", p, m,
          zb2, base2);
  }
}

/* Random stage times, with and without p2p, uneven stages: with w = 0 the
 * zero-bubble schedule is 1F1B exactly; otherwise never slower than 1F1B
 * and never faster than the busiest stage's own work. */
static void test_against_1f1b(void)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 15);
  for (int trial = 0; trial < 300; trial++) {
    int p = 1 + (int)gsl_rng_uniform_int(r, 12), v = 1 + (int)gsl_rng_uniform_int(r, 3);
    int m = p * (1 + (int)gsl_rng_uniform_int(r, 6));
    if (v == 1 && gsl_rng_uniform(r) < 0.3) m = 1 + (int)gsl_rng_uniform_int(r, 3 * p); /* any m without interleaving */
    double f[48], b[48], w[48], w0[48] = {0}, p2p[12], busiest = 0;
    for (int k = 0; k < p * v; k++) {
      f[k] = 0.5 + gsl_rng_uniform(r);
      b[k] = f[k] * (1.5 + gsl_rng_uniform(r));
      w[k] = b[k] * 0.6 * gsl_rng_uniform(r);
    }
    for (int s = 0; s < p; s++) {
      p2p[s] = trial % 2 ? 0.2 * gsl_rng_uniform(r) : 0;
      double own = 0;
      for (int c = 0; c < v; c++) own += m * (f[c * p + s] + b[c * p + s]);
      if (own > busiest) busiest = own;
    }
    double base = train_pipeline_time(p, m, v, f, b, p2p);
    double same = train_pipeline_time_zb(p, m, v, f, b, w0, p2p);
    double zb = train_pipeline_time_zb(p, m, v, f, b, w, p2p);
    CHECK(fabs(same - base) <= 1e-9 * base, "p %d m %d v %d: w = 0 gives %.12g, 1F1B %.12g", p, m, v, same, base);
    CHECK(zb <= base * (1 + 1e-12), "p %d m %d v %d: ZB-H1 %.12g slower than 1F1B %.12g", p, m, v, zb, base);
    CHECK(zb >= busiest * (1 - 1e-12), "p %d m %d v %d: ZB-H1 %.12g below the busiest stage's work %.12g", p, m, v,
          zb, busiest);
  }
  gsl_rng_free(r);
}

/* What the schedule holds never exceeds what memory counts: on random
 * pipelines, stage s's peak of in-flight chunk micro-batches plus r times
 * those waiting for their weight gradients is at most f_s - 1 + r (cap -
 * f_s + 1) when a waiting one keeps more (r >= 1; cap and f_s 1F1B's
 * in-flight counts of the first stage and of stage s), cap otherwise; and
 * the last stage reaches it. */
static void test_held_bound(void)
{
  gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(g, 16);
  static const double rs[] = {0.5, 1, 3, 16, 100};
  for (int trial = 0; trial < 200; trial++) {
    int p = 2 + (int)gsl_rng_uniform_int(g, 10), v = 1 + (int)gsl_rng_uniform_int(g, 3);
    int m = p * (1 + (int)gsl_rng_uniform_int(g, 5)), n = m * v;
    double f[48], b[48], w[48], p2p[12], peak[12];
    for (int k = 0; k < p * v; k++) {
      f[k] = 0.5 + gsl_rng_uniform(g);
      b[k] = f[k] * (1.5 + gsl_rng_uniform(g));
      w[k] = b[k] * 0.6 * gsl_rng_uniform(g);
    }
    for (int s = 0; s < p; s++) p2p[s] = trial % 2 ? 0.1 * gsl_rng_uniform(g) : 0;
    int warm0 = v == 1 ? p - 1 : 2 * (p - 1) + (v - 1) * p, cap = (warm0 < n ? warm0 : n) + 1;
    if (cap > n) cap = n;
    for (size_t ri = 0; ri < sizeof rs / sizeof rs[0]; ri++) {
      double r = rs[ri];
      double t = train_pipeline_zb_held(p, m, v, f, b, w, p2p, r, peak);
      CS_CHECK_REL(t, train_pipeline_time_zb(p, m, v, f, b, w, p2p), 0, "the same schedule");
      for (int s = 0; s < p; s++) {
        int warm = v == 1 ? p - s - 1 : 2 * (p - s - 1) + (v - 1) * p, fs = (warm < n ? warm : n) + 1;
        if (fs > n) fs = n;
        double bound = r >= 1 ? fs - 1 + r * (cap - fs + 1) : cap;
        CHECK(peak[s] <= bound + 1e-9, "p %d m %d v %d r %g stage %d: holds %g, memory counts %g", p, m, v, r, s,
              peak[s], bound);
      }
    }
  }
  gsl_rng_free(g);
  /* equal stages (F 1, B 2, W 1): every stage reaches the bound */
  double f[8], b[8], w[8], z[8] = {0}, peak[8];
  for (int k = 0; k < 8; k++) f[k] = 1, b[k] = 3, w[k] = 1;
  train_pipeline_zb_held(8, 32, 1, f, b, w, z, 16, peak);
  for (int s = 0; s < 8; s++) CS_CHECK_REL(peak[s], 8 - s - 1 + 16.0 * (s + 1), 1e-12, "the bound, reached");
}

static const gpu_spec *gpu(const char *n) { return sim_catalog_find(cs_catalogs(), "gpus", n); }
static const llm_arch *model(const char *n) { return sim_catalog_find(cs_catalogs(), "models", n); }

/* Llama 3 70B on 1,024 H100, tp 8, pp 8: ZB-H1 shortens the iteration by
 * part of 1F1B's bubble and moves nothing else; every stage holds the
 * first stage's micro-batches (the last stage's activations grow); pp 1
 * is unchanged; DualPipe refuses it. */
static void test_job(void)
{
  train_job j;
  train_job_init(&j, model("llama3-70b"), gpu("h100-sxm"));
  CU_ASSERT_PTR_NOT_NULL_FATAL(j.model);
  j.tp = 8;
  j.pp = 8;
  j.dp = 16;
  j.global_batch = 512;
  j.seq_len = 8192;
  j.recompute = LLM_RECOMPUTE_NONE;
  j.net_link = sim_catalog_find(cs_catalogs(), "links", "ib-ndr");
  char why[512];
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  train_step_result a, z;
  train_step(&j, &a);
  train_job zj = j;
  zj.schedule = TRAIN_SCHEDULE_ZB_H1;
  CU_ASSERT_PTR_NULL(train_job_check(&zj, why, sizeof why));
  train_step(&zj, &z);
  CHECK(z.iteration_s < a.iteration_s && z.bubble_s < a.bubble_s,
        "ZB-H1 iteration %g bubble %g, 1F1B %g %g", z.iteration_s, z.bubble_s, a.iteration_s, a.bubble_s);
  /* the bubble is what changes: compute, collectives and the optimizer stay */
  CS_ASSERT_REL(z.compute_s, a.compute_s, 1e-12);
  CS_ASSERT_REL(z.tp_comm_s, a.tp_comm_s, 1e-12);
  CS_ASSERT_REL(z.optimizer_s, a.optimizer_s, 1e-12);
  /* memory: the last stage holds the first stage's pp micro-batches, pp - 1
   * of them waiting for their weight gradients, one in 1F1B's place; the
   * first stage is unchanged */
  train_memory ma, mz;
  train_memory_need(&j, &ma);
  train_memory_need(&zj, &mz);
  CU_ASSERT_EQUAL(mz.stage, j.pp - 1);
  CU_ASSERT_EQUAL(ma.stage, 0);
  /* the last stage under each schedule, counted stage by stage (first =
   * last = layers / pp is even stages) */
  int even = (int)(j.model->layers / j.pp);
  train_job js = j, zs = zj;
  js.first_stage_layers = js.last_stage_layers = zs.first_stage_layers = zs.last_stage_layers = even;
  train_memory la, lz, fa, fz;
  train_memory_stage(&js, j.pp - 1, &la);
  train_memory_stage(&zs, j.pp - 1, &lz);
  train_memory_stage(&js, 0, &fa);
  train_memory_stage(&zs, 0, &fz);
  double per_mb = even * train_layer_activation_bytes(&j, LLM_RECOMPUTE_NONE);
  CS_CHECK_REL(lz.activations - la.activations, (j.pp - 1) * per_mb, 1e-9, "the last stage's pending micro-batches");
  CS_CHECK_REL(lz.activations, mz.activations, 1e-12, "even and stage-by-stage counts agree");
  CS_CHECK_REL(fz.activations, fa.activations, 1e-12, "the first stage is unchanged");
  /* with full recomputation a pending micro-batch keeps what its
   * recomputation materialised (the selective level), not its checkpoint:
   * the last stage counts pp of them and none of its own in flight (1F1B:
   * one checkpoint) */
  train_job fr = zj, fr1 = j;
  fr.recompute = fr1.recompute = LLM_RECOMPUTE_FULL;
  train_memory mf, mf1;
  train_memory_need(&fr, &mf);
  train_memory_need(&fr1, &mf1);
  double pend = (double)j.model->layers / j.pp * train_layer_activation_bytes(&j, LLM_RECOMPUTE_SELECTIVE);
  CU_ASSERT_EQUAL(mf.stage, j.pp - 1);
  CU_ASSERT_EQUAL(mf1.stage, 0);
  train_memory last1;
  fr1.first_stage_layers = fr1.last_stage_layers = even;
  train_memory_stage(&fr1, j.pp - 1, &last1);
  double ckpt = even * train_layer_activation_bytes(&j, LLM_RECOMPUTE_FULL);
  CS_CHECK_REL(mf.activations - last1.activations, j.pp * pend - ckpt, 1e-9, "full recomputation: pending at selective");

  /* offloaded activations must be back before B ends, W after it: the
   * exposed transfer is at least 1F1B's */
  train_job oa = j, oz = zj;
  oa.offload = oz.offload = TRAIN_OFFLOAD_ACTIVATIONS;
  oa.zero = oz.zero = 1;
  train_step_result ra, rz;
  train_step(&oa, &ra);
  train_step(&oz, &rz);
  CHECK(rz.offload_exposed_s >= ra.offload_exposed_s && rz.offload_exposed_s > 0,
        "offload exposed: ZB-H1 %g, 1F1B %g", rz.offload_exposed_s, ra.offload_exposed_s);

  /* pp 1: no pipeline, nothing to fill */
  train_job one = j, one_zb;
  one.pp = 1;
  one.tp = 8;
  one.dp = 128;
  one.recompute = LLM_RECOMPUTE_FULL;
  one_zb = one;
  one_zb.schedule = TRAIN_SCHEDULE_ZB_H1;
  train_step(&one, &a);
  train_step(&one_zb, &z);
  CS_ASSERT_REL(z.iteration_s, a.iteration_s, 1e-12);

  /* DualPipe is its own schedule */
  train_job d;
  train_job_init(&d, model("deepseek-v3"), gpu("h800"));
  d.pp = 16;
  d.dp = 128;
  d.ep = 64;
  d.global_batch = 15360;
  d.seq_len = 4096;
  d.first_stage_layers = 4;
  d.last_stage_layers = 1;
  d.dualpipe = true;
  d.schedule = TRAIN_SCHEDULE_ZB_H1;
  const char *bad = train_job_check(&d, why, sizeof why);
  CU_ASSERT_STRING_EQUAL(bad ? bad : "", "pipeline_schedule");
}

/* The flag and the scenario key, through the program. */
static void test_cli(void)
{
  unsigned before = CU_get_number_of_failures();
  result r = RUN("estimate", "--train", "--model", "llama3-70b", "--gpu", "h100-sxm", "--gpus", "1024", "--tp", "8",
                 "--pp", "8", "--global-batch", "512", "--seq-len", "8192", "--pipeline-schedule", "zb-h1", "--json");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "\"pipeline_schedule\": \"zb-h1\"");
  result_free(&r);
  r = RUN("estimate", "--train", "--model", "llama3-70b", "--gpus", "1024", "--tp", "8", "--pp", "8",
          "--global-batch", "512", "--pipeline-schedule", "zb-h2");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--pipeline-schedule");
  result_free(&r);

  char *dir = cs_tmpdir("train_zb");
  free(cs_write_file(dir, "z.cfg",
                     "name = \"z\";\ntraining = { model = \"llama3-70b\"; gpu = \"h100-sxm\"; gpus = 1024; tp = 8;\n"
                     "  pp = 8; global_batch = 512; seq_len = 8192; train_tokens = 1e10;\n"
                     "  pipeline_schedule = \"zb-h1\";\n};\n"));
  free(cs_write_file(dir, "bad.cfg",
                     "name = \"z\";\ntraining = { model = \"deepseek-v3\"; gpu = \"h800\"; gpus = 2048; pp = 16;\n"
                     "  ep = 64; global_batch = 15360; seq_len = 4096; train_tokens = 1e10; dualpipe = true;\n"
                     "  first_stage_layers = 4; last_stage_layers = 1; pipeline_schedule = \"zb-h1\";\n};\n"));
  r = run_in(dir, "check", "z.cfg", (const char *)NULL);
  CHECK_RC(r, 0);
  result_free(&r);
  const char *args[] = {NULL};
  char *sum = cs_run_summary(__FILE__, __LINE__, dir, "z.cfg", "out", args);
  if (sum) CHECK(strstr(sum, "\"pipeline_schedule\": \"zb-h1\"") != NULL, "summary without the schedule:\n%s", sum);
  free(sum);
  r = run_in(dir, "check", "bad.cfg", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "bad.cfg:");
  CHECK_ERR_HAS(r, "training.pipeline_schedule");
  result_free(&r);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

int main(void)
{
  if (!cs_catalogs()) return 1;
  static const cs_test tests[] = {
    {"ZB-H1: m (F+B+W) + (p-1)(F+B-W), a third of 1F1B's bubble", test_closed_form},
    {"ZB-H1 against 1F1B on random stages", test_against_1f1b},
    {"what ZB-H1 holds never exceeds what memory counts", test_held_bound},
    {"ZB-H1 in a job: bubble, memory, pp 1, DualPipe refused", test_job},
    {"--pipeline-schedule and training.pipeline_schedule", test_cli},
    {NULL, NULL},
  };
  int rc = cs_run_suite("train_zb", tests);
  cs_catalogs_free();
  return rc;
}
