/* tests/unit/test_training_run.c: the `training` scenario section through
 * the program: without failures the run takes exactly iterations x the
 * iteration time; with failures the simulated useful share of the wall
 * time, averaged over seeds, agrees with the first-order closed form
 * (Young/Daly) it is reported beside; the network ports and the FSDP
 * prefetch keys reach the model as `estimate --train` passes them; a TPU
 * slice is a node and slices meet over DCN; a job that does not fit or
 * whose degrees do not divide is a file:line error. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clitest.h"
#include "testutil.h"

static const char base[] =
  "name = \"tr\";\n"
  "training = {\n"
  "  model = \"llama2-7b\"; gpu = \"a100-80gb-sxm\"; gpus = 64;\n"
  "  micro_batch = 2; global_batch = 1024; seq_len = 4096;\n"
  "  train_tokens = 1e12;\n"
  "  %s%s\n"
  "};\n";

static char *scenario(const char *dir, const char *name, const char *extra)
{
  char text[2048];
  /* ZeRO-1 unless the extra keys say otherwise (7B does not fit without) */
  snprintf(text, sizeof text, base, strstr(extra, "zero") ? "" : "zero = 1; ", extra);
  char *path = path_join(dir, name);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL, "cannot write %s", path);
  if (f) {
    fputs(text, f);
    fclose(f);
  }
  return path;
}

static char *summary(const char *dir, const char *cfg, const char *out, const char *seed)
{
  result r = run_in(dir, "run", cfg, "-q", "-o", out, "--seed", seed, (const char *)NULL);
  CHECK_RC(r, 0);
  result_free(&r);
  char *o = path_join(dir, out), *p = path_join(o, "summary.json");
  char *json = cs_slurp(p, NULL);
  free(o);
  free(p);
  return json;
}

static double num(const char *json, const char *key)
{
  double v = NAN;
  CHECK(json && json_num(json, key, &v), "no %s in the summary", key);
  return v;
}

/* Failures, evaluations (both on by default since issue 15) and ramp-up
 * off: the run is iterations x the iteration time. Failures off written
 * explicitly (mtbf_gpu_h = 0) with evaluations on and a checkpoint every
 * hour: train_time_s = failure-free + evaluations + checkpoints, the
 * checkpoints being ceil(work / 3600) - 1 writes of checkpoint_s. */
static void test_no_failures(void)
{
  char *dir = cs_tmpdir("training_nofail");
  char *cfg = scenario(dir, "a.cfg", "eval_interval = 0; straggler_jitter = 0.0; failures = { mtbf_gpu_h = 0.0; };");
  char *j = summary(dir, "a.cfg", "o", "1");
  CS_ASSERT_REL(num(j, "train_time_s"), num(j, "iterations") * num(j, "iteration_time_s"), 1e-9);
  CS_ASSERT_REL(num(j, "failure_free_time_s"), num(j, "train_time_s"), 1e-9);
  CHECK(num(j, "failures") == 0 && num(j, "effective_fraction") == 1, "failures without an MTBF");
  CHECK(num(j, "eval_time_s") == 0 && num(j, "ramp_up_time_s") == 0 && num(j, "checkpoint_time_s") == 0,
        "evaluations, ramp-up or checkpoints that were not asked for");
  free(j);
  free(cfg);
  cfg = scenario(dir, "b.cfg", "straggler_jitter = 0.0; failures = { mtbf_gpu_h = 0.0; checkpoint_interval_s = 3600.0; };");
  j = summary(dir, "b.cfg", "ob", "1");
  double ff = num(j, "failure_free_time_s"), ev = num(j, "eval_time_s"), ck = num(j, "checkpoint_time_s");
  double work = ff + ev, delta = num(j, "checkpoint_exposed_s");
  CHECK(ev > 0 && delta > 0, "evaluations %g s, checkpoint %g s: expected both by default", ev, delta);
  CS_ASSERT_REL(ck, (ceil(work / 3600) - 1) * delta, 1e-9);
  CS_ASSERT_REL(num(j, "train_time_s"), ff + num(j, "ramp_up_time_s") + ev + ck, 1e-9);
  CHECK(num(j, "failures") == 0 && num(j, "failure_time_s") == 0, "failures with mtbf_gpu_h = 0");
  free(j);
  free(cfg);
  free(dir);
}

/* The scenario's iteration time equals `estimate --train` with the same
 * settings, for ZeRO-1 over one network port per node and for FSDP with
 * BACKWARD_POST; fewer ports and "post" are slower. */
static void test_keys_match_estimate(void)
{
  char *dir = cs_tmpdir("training_keys");
  static const struct {
    const char *extra, *zero, *nics, *prefetch;
  } cases[] = {
    {"nics_per_node = 1; dp_overlap = 0.0;", "1", "1", "pre"},
    {"nics_per_node = 8; dp_overlap = 0.0;", "1", "8", "pre"},
    {"zero = 3; fsdp_prefetch = \"post\";", "3", "0", "post"},
    {"zero = 3;", "3", "0", "pre"},
  };
  double t[4];
  for (int i = 0; i < 4; i++) {
    char name[32], out[32];
    snprintf(name, sizeof name, "k%d.cfg", i);
    snprintf(out, sizeof out, "k%d", i);
    free(scenario(dir, name, cases[i].extra));
    char *j = summary(dir, name, out, "1");
    t[i] = num(j, "iteration_time_s");
    free(j);
    result r = run_in(dir, "estimate", "--train", "--json", "--model", "llama2-7b", "--gpu", "a100-80gb-sxm", "--gpus",
                      "64", "--zero", cases[i].zero, "--micro-batch", "2", "--global-batch", "1024", "--seq-len", "4096",
                      "--train-tokens", "1e12", "--recompute", "auto", "--net-link", "ib-hdr", "--dp-overlap",
                      i < 2 ? "0" : "1", "--nics-per-node", cases[i].nics, "--fsdp-prefetch", cases[i].prefetch,
                      (const char *)NULL);
    CHECK_RC(r, 0);
    double e = num(r.out, "iteration_time_s");
    CS_ASSERT_REL(t[i], e, 1e-9);
    result_free(&r);
  }
  CHECK(t[0] > t[1], "one port per node (%g s) not slower than eight (%g s)", t[0], t[1]);
  CHECK(t[2] > t[3], "BACKWARD_POST (%g s) not slower than BACKWARD_PRE (%g s)", t[2], t[3]);
  free(dir);
}

/* One set of defaults: the same job written with only what it needs
 * (model, GPUs, degrees, batch; precision, recomputation, attention, ZeRO,
 * micro-batch, links, ports, overlap and prefetch left unset) gives the
 * same iteration, memory, run time and MFU as a `training` section and as
 * `estimate --train`, for jobs on one node and across nodes, A100 and
 * H100 (whose network default is NDR, not HDR), with and without
 * pipeline stages. */
static void test_defaults_match_estimate(void)
{
  static const struct {
    const char *model, *gpu;
    const char *gpus, *tp, *pp, *global_batch, *seq_len; /* seq_len NULL: left unset too */
  } jobs[] = {
    {"llama2-7b", "a100-80gb-sxm", "64", "2", "1", "512", "4096"},
    {"llama2-13b", "h100-sxm", "32", "4", "2", "256", "4096"},
    {"gpt3-175b", "a100-80gb-sxm", "512", "8", "8", "512", NULL},
    {"llama2-7b", "a100-80gb-sxm", "8", "8", "1", "64", NULL},
    /* TPUs: a slice is the node (scaleup_gpus), DCN between slices */
    {"llama2-7b", "tpu-v5p", "512", "2", "1", "512", "4096"},
    {"llama3.2-1b", "tpu-v5e", "512", "2", "1", "512", NULL},
  };
  static const char *const keys[] = {"iteration_time_s", "memory_per_gpu_bytes", "mfu", "hfu", "iterations",
                                     "tokens_per_s_per_gpu", "dp_comm_s", "exposed_comm_time_s",
                                     "link_node_busy_fraction", "link_net_busy_fraction", NULL};
  char *dir = cs_tmpdir("training_defaults");
  for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++) {
    char text[1024], name[32], out[32];
    snprintf(text, sizeof text,
             "name = \"d\";\ntraining = {\n  model = \"%s\"; gpu = \"%s\"; gpus = %s; tp = %s; pp = %s;\n"
             "  global_batch = %s; %s%s%s train_tokens = 1e11;\n};\n",
             jobs[i].model, jobs[i].gpu, jobs[i].gpus, jobs[i].tp, jobs[i].pp, jobs[i].global_batch,
             jobs[i].seq_len ? "seq_len = " : "", jobs[i].seq_len ? jobs[i].seq_len : "", jobs[i].seq_len ? ";" : "");
    snprintf(name, sizeof name, "d%zu.cfg", i);
    snprintf(out, sizeof out, "d%zu", i);
    free(cs_write_file(dir, name, text));
    char *j = summary(dir, name, out, "1");
    const char *args[32] = {"estimate", "--train", "--json", "--model", jobs[i].model, "--gpu", jobs[i].gpu,
                            "--gpus", jobs[i].gpus, "--tp", jobs[i].tp, "--pp", jobs[i].pp, "--global-batch",
                            jobs[i].global_batch, "--train-tokens", "1e11"};
    size_t n = 17;
    if (jobs[i].seq_len) args[n++] = "--seq-len", args[n++] = jobs[i].seq_len;
    args[n] = NULL;
    result r = run_argv(dir, args);
    CHECK_RC(r, 0);
    for (const char *const *k = keys; *k; k++) {
      double a = num(j, *k), b = num(r.out, *k);
      CHECK(fabs(a - b) <= 1e-9 * fabs(b), "job %zu (%s on %s x %s): %s %.17g in the training section, %.17g by "
            "estimate --train", i, jobs[i].model, jobs[i].gpus, jobs[i].gpu, *k, a, b);
    }
    /* issue 15: train_time_s is the whole run in both; its parts agree */
    static const char *const whole[] = {"failure_free_time_s", "ramp_up_time_s", "eval_time_s",
                                        "checkpoint_exposed_s", "checkpoint_interval_s", NULL};
    for (const char *const *k = whole; *k; k++) {
      double a = num(j, *k), b = num(r.out, *k);
      CHECK(fabs(a - b) <= 1e-9 * fabs(b), "job %zu: %s %.17g in the training section, %.17g by estimate --train", i,
            *k, a, b);
    }
    CS_ASSERT_REL(num(j, "train_time_closed_form_s"), num(r.out, "train_time_s"), 1e-9);
    result_free(&r);
    free(j);
  }
  free(dir);
}

/* Without failures the useful share is 1: a run whose end, rounded to
 * the nanosecond, falls a hair before its work (2.7e9 tokens of this job
 * gave 1.0000000000000022) reports 1, not more. */
static void test_effective_fraction_clamped(void)
{
  char *dir = cs_tmpdir("training_clamped");
  free(cs_write_file(dir, "c.cfg",
                     "name = \"c\";\ntraining = { model = \"llama2-7b\"; gpus = 8; tp = 8; global_batch = 64;\n"
                     "  train_tokens = 2.7e9; eval_interval = 0; failures = { mtbf_gpu_h = 0.0; }; };\n"));
  char *j = summary(dir, "c.cfg", "o", "1");
  CHECK(num(j, "effective_fraction") == 1, "effective_fraction %.17g, expected 1", num(j, "effective_fraction"));
  free(j);
  free(dir);
}

static void test_failures_closed_form(void)
{
  char *dir = cs_tmpdir("training_fail");
  /* a failure every ~8 h of the job, an hour between checkpoints */
  char *cfg = scenario(dir, "f.cfg",
                       "failures = { mtbf_gpu_h = 512.0; checkpoint_interval_s = 3600.0; checkpoint_s = 60.0; "
                       "restart_s = 600.0; };");
  double sum = 0, closed = 0;
  int n = 8;
  for (int seed = 1; seed <= n; seed++) {
    char s[8], out[16];
    snprintf(s, sizeof s, "%d", seed);
    snprintf(out, sizeof out, "o%d", seed);
    char *j = summary(dir, "f.cfg", out, s);
    sum += num(j, "effective_fraction");
    closed = num(j, "effective_fraction_closed_form");
    CHECK(num(j, "failures") > 50, "seed %d: only %g failures", seed, num(j, "failures"));
    free(j);
  }
  double mean = sum / n;
  printf("\n    simulated useful share %.4f, closed form %.4f  ", mean, closed);
  /* the closed form is first order in (tau + R)/M (here ~0.15): agree to 2 points */
  CHECK(fabs(mean - closed) < 0.02, "simulated %.4f, closed form %.4f", mean, closed);
  free(cfg);
  free(dir);
}

static void test_bad(void)
{
  char *dir = cs_tmpdir("training_bad");
  char *cfg = scenario(dir, "b.cfg", "");
  free(cfg);
  /* 70B without sharding on one GPU per replica: does not fit */
  char text[1024];
  snprintf(text, sizeof text,
           "name = \"big\";\ntraining = {\n  model = \"llama2-70b\"; gpus = 8;\n  global_batch = 64; seq_len = 4096;\n"
           "  train_tokens = 1e9;\n};\n");
  char *p = path_join(dir, "big.cfg");
  FILE *f = fopen(p, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
  result r = run_in(dir, "check", "big.cfg", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "big.cfg:3: training.gpus: llama2-70b does not fit");
  CHECK_ERR_HAS(r, "short by");
  result_free(&r);
  free(p);
  snprintf(text, sizeof text,
           "name = \"tp\";\ntraining = {\n  model = \"llama2-7b\"; gpus = 64;\n  tp = 3;\n  global_batch = 64; "
           "seq_len = 4096;\n  train_tokens = 1e9;\n};\n");
  p = path_join(dir, "tp.cfg");
  f = fopen(p, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
  r = run_in(dir, "check", "tp.cfg", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "tp.cfg:3: training.gpus: 64 GPUs are not a whole number of tp x pp = 3 groups");
  result_free(&r);
  free(p);
  free(dir);
}

/* A TPU slice is the training section's node by default (the chip's
 * scaleup_gpus: 256 for v5e) and slices meet over the chip's DCN link, not
 * InfiniBand: 512 v5e chips reduce gradients over dcn-v5e. gpus_per_node
 * is no longer capped at 1024: 2,048 (beyond the old cap) puts all 512
 * chips on ICI, whose gradient reduction is faster (here it hides under
 * backward either way). */
static void test_tpu_slices(void)
{
  char *dir = cs_tmpdir("training_tpu");
  const char *fmt = "name = \"tpu\";\ntraining = {\n  model = \"llama3.2-1b\"; gpu = \"tpu-v5e\"; gpus = 512; tp = 2;\n"
                    "  global_batch = 512; train_tokens = 1e10; %s\n};\n";
  char text[512];
  snprintf(text, sizeof text, fmt, "");
  free(cs_write_file(dir, "slices.cfg", text));
  snprintf(text, sizeof text, fmt, "gpus_per_node = 2048;");
  free(cs_write_file(dir, "one.cfg", text));
  char *a = summary(dir, "slices.cfg", "a", "1"), *b = summary(dir, "one.cfg", "b", "1");
  CHECK(a && strstr(a, "\"net_link\": \"dcn-v5e\""), "default network of a TPU v5e: %s", a ? a : "(none)");
  /* two 256-chip slices: the gradients cross DCN; one "node" of 2,048: they do not */
  CU_ASSERT_TRUE(num(a, "link_net_busy_fraction") > 0);
  CU_ASSERT_EQUAL(num(b, "link_net_busy_fraction"), 0);
  CU_ASSERT_TRUE(num(b, "dp_comm_s") < num(a, "dp_comm_s"));
  free(a);
  free(b);
  free(dir);
}

int main(void)
{
  static const cs_test tests[] = {
    {"no failures: iterations x iteration time", test_no_failures},
    {"failures: simulated against the closed form", test_failures_closed_form},
    {"nics_per_node and fsdp_prefetch as estimate --train", test_keys_match_estimate},
    {"estimate --train equals the training section (defaults unset)", test_defaults_match_estimate},
    {"effective_fraction clamped to 1", test_effective_fraction_clamped},
    {"TPU slices as nodes, DCN between them; gpus_per_node past 1024", test_tpu_slices},
    {"bad training sections", test_bad},
    {NULL, NULL},
  };
  return cs_run_suite("training_run", tests);
}
