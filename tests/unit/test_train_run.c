/* tests/unit/test_train_run.c: the whole run as real ones go
 * (train_whole_run, models/training/train_run.c) against closed forms
 * written out here: the batch ramp-up stage by stage, evaluations, the
 * checkpoint from 14 B per parameter and the storage, Young/Daly's wall
 * time T = W / (1 - delta/tau - L/M) and its split into checkpoints and
 * failures; failures off (mtbf 0) leaving failure-free + ramp + evals +
 * checkpoints; asynchronous checkpoints exposing less than synchronous
 * ones; the default failure rate from Llama 3's figures; bad values naming
 * their field, and through the program with file:line; a run in phases
 * (training.phases) as the sum of its phases. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/training/train.h"
#include "sim/catalog.h"
#include "cattest.h"
#include "clitest.h"
#include "testutil.h"

static llm_arch gpt(int64_t l, int64_t h, int64_t a, int64_t v)
{
  return (llm_arch){.name = "gpt", .layers = l, .hidden = h, .heads = a, .kv_heads = a, .ffn = 4 * h, .vocab = v,
                    .max_context = 2048, .ffn_kind = LLM_FFN_PLAIN, .positions = LLM_POS_LEARNED,
                    .norm = LLM_NORM_LAYER, .tied_embeddings = true, .biases = true, .experts = 1,
                    .experts_active = 1};
}

/* A 1.3B-class GPT on 64 A100 (dp 16 x tp 4), batch 512 x 2048. */
static void job(train_job *j, const llm_arch *m)
{
  train_job_init(j, m, sim_catalog_find(cs_catalogs(), "gpus", "a100-80gb-sxm"));
  j->net_link = sim_catalog_find(cs_catalogs(), "links", "ib-hdr");
  j->dp = 16;
  j->tp = 4;
  j->global_batch = 512;
  j->seq_len = 2048;
}

/* Iteration time of j with another batch. */
static double iteration_at(const train_job *j, int batch)
{
  train_job r = *j;
  r.global_batch = batch;
  train_step_result st;
  train_step(&r, &st);
  return st.iteration_s;
}

static void test_closed_form(void)
{
  llm_arch m = gpt(24, 2048, 16, 51200);
  train_job j;
  job(&j, &m);
  train_step_result st;
  train_step(&j, &st);
  train_run_result run;
  double tokens = 20e9;
  train_run(&j, &st, tokens, 2.0, &run);
  train_whole w;
  train_whole_init(&w);
  /* ramp-up from 64 sequences by 64 (dp 16 x micro-batch 1 = 16 divides
   * both) over 1,000,000 sequences: K = (512 - 64) / 64 = 7 stages of
   * 1e6 / 7 sequences each */
  w.ramp_batch_start = 64;
  w.ramp_batch_increment = 64;
  w.ramp_batch_samples = 1e6;
  w.eval_interval = 500;
  w.eval_iters = 20;
  w.checkpoint_interval_s = 3600;
  w.mtbf_gpu_h = 2000; /* 64 GPUs: the job fails every 31.25 h */
  w.restart_s = 900;
  w.straggler_slowdown = 0.05;
  train_whole_result o;
  char msg[256];
  CU_ASSERT_PTR_NULL(train_whole_run(&j, &st, &run, &w, &o, msg, sizeof msg));

  double per_token = st.iteration_s / (512.0 * 2048);
  double ramp = 0, steps = 0;
  for (int k = 0; k < 7; k++) {
    int b = 64 + 64 * k;
    double n = ceil(1e6 / 7 / b);
    ramp += n * (iteration_at(&j, b) - b * 2048.0 * per_token);
    steps += n;
  }
  CS_ASSERT_REL(o.ramp_up_s, ramp, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(o.ramp_steps, steps, 0);
  CU_ASSERT_TRUE(ramp > 0); /* a small batch fills the iteration worse */
  /* 20e9 / (512 x 2048) = 19,073.49 -> 19,074 iterations, 38 evaluations
   * of 20 forward-only iterations, each the iteration's compute-bound part
   * times the forward share of its hardware FLOPs */
  CU_ASSERT_DOUBLE_EQUAL(run.iterations, 19074, 0);
  CU_ASSERT_DOUBLE_EQUAL(o.evals, 38, 0);
  double fwd = st.model_flops / 3 / st.hardware_flops;
  double eval = 38 * 20 * (st.compute_s + st.bubble_s + st.tp_comm_s + st.pp_comm_s) * fwd;
  CS_ASSERT_REL(o.eval_s, eval, 1e-12);
  double strag = (0.05 * st.compute_s + train_straggler_wait_s(&j, &st, TRAIN_DEFAULT_STRAGGLER_JITTER)) * 19074;
  CS_ASSERT_REL(o.straggler_s, strag, 1e-12);
  double W = 19074 * st.iteration_s + ramp + eval + strag;
  CS_ASSERT_REL(o.work_s, W, 1e-12);
  /* checkpoint: 14 B per parameter; stage over PCIe 4 (the A100's host
   * link) per GPU's 1/64 share; write at 2,000/16,384 GB/s x 64 GPUs */
  double bytes = 14 * llm_params(&m);
  double host = j.gpu->host_link->bw_gbs * 1e9;
  double stage = bytes / 64 / host, write = bytes / (2000.0 / 16384 * 64 * 1e9);
  CS_ASSERT_REL(o.checkpoint_bytes, bytes, 1e-12);
  double delta = stage + write;
  CS_ASSERT_REL(o.fl.checkpoint_s, delta, 1e-12);
  /* Young/Daly: M = 2000 h / 64, L = (tau + delta)/2 + R, T = W / E */
  double M = 2000 * 3600.0 / 64, L = (3600 + delta) / 2 + 900;
  double T = W / (1 - delta / 3600 - L / M);
  CS_ASSERT_REL(o.time_s, T, 1e-12);
  CS_ASSERT_REL(o.checkpoint_time_s, T * delta / 3600, 1e-12);
  CS_ASSERT_REL(o.failure_time_s, T * L / M, 1e-12);
  CS_ASSERT_REL(o.failures, T / M, 1e-12);
  /* the parts add up to the wall time */
  CS_ASSERT_REL(o.failure_free_s + o.ramp_up_s + o.eval_s + o.straggler_s + o.checkpoint_time_s + o.failure_time_s,
                o.time_s, 1e-12);

  /* failures off: T = failure-free + ramp + evals + stragglers + checkpoints,
   * the checkpoints T delta / tau, i.e. T = W / (1 - delta / tau) */
  w.mtbf_gpu_h = 0;
  w.straggler_slowdown = 0;
  w.straggler_jitter = 0;
  CU_ASSERT_PTR_NULL(train_whole_run(&j, &st, &run, &w, &o, msg, sizeof msg));
  double W0 = 19074 * st.iteration_s + ramp + eval;
  CS_ASSERT_REL(o.time_s, W0 / (1 - delta / 3600), 1e-12);
  CS_ASSERT_REL(o.time_s, o.failure_free_s + o.ramp_up_s + o.eval_s + o.checkpoint_time_s, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(o.failure_time_s, 0, 0);
  CU_ASSERT_DOUBLE_EQUAL(o.failures, 0, 0);
  /* and without an interval there is no reason to checkpoint (Young: tau = infinity) */
  w.checkpoint_interval_s = 0;
  CU_ASSERT_PTR_NULL(train_whole_run(&j, &st, &run, &w, &o, msg, sizeof msg));
  CS_ASSERT_REL(o.time_s, W0, 1e-12);
}

/* Async: only the copy to host memory stalls, plus what of the write
 * outlasts the interval; the same run is shorter than with sync. */
static void test_async(void)
{
  llm_arch m = gpt(24, 2048, 16, 51200);
  train_job j;
  job(&j, &m);
  train_step_result st;
  train_step(&j, &st);
  train_run_result run;
  train_run(&j, &st, 20e9, 2.0, &run);
  train_whole w;
  train_whole_init(&w);
  w.checkpoint_interval_s = 600;
  w.storage_gbps = 1; /* 1 GB/s: a 1.3B model's 18 GB take ~18 s */
  train_whole_result sync, async;
  char msg[256];
  CU_ASSERT_PTR_NULL(train_whole_run(&j, &st, &run, &w, &sync, msg, sizeof msg));
  w.async_checkpoint = true;
  CU_ASSERT_PTR_NULL(train_whole_run(&j, &st, &run, &w, &async, msg, sizeof msg));
  CS_ASSERT_REL(sync.checkpoint_write_s, 14 * llm_params(&m) / 1e9, 1e-12);
  CS_ASSERT_REL(async.fl.checkpoint_s, async.checkpoint_stage_s, 1e-12);
  CS_ASSERT_REL(sync.fl.checkpoint_s, sync.checkpoint_stage_s + sync.checkpoint_write_s, 1e-12);
  CHECK(async.checkpoint_time_s < sync.checkpoint_time_s && async.time_s < sync.time_s,
        "async checkpoints %g s (run %g s), sync %g s (run %g s)", async.checkpoint_time_s, async.time_s,
        sync.checkpoint_time_s, sync.time_s);
  /* a write longer than the interval: the next save waits for the rest */
  w.checkpoint_interval_s = 10;
  CU_ASSERT_PTR_NULL(train_whole_run(&j, &st, &run, &w, &async, msg, sizeof msg));
  CS_ASSERT_REL(async.fl.checkpoint_s, async.checkpoint_stage_s + async.checkpoint_write_s - 10, 1e-12);
}

/* Defaults: Llama 3's 419 interruptions in 54 days on 16,384 GPUs, i.e.
 * 16,384 x 1,296 h / 419 = 50,677.00 GPU-hours (419 x 50,677 = 21,233,663); Megatron-LM's evaluation. */
static void test_defaults(void)
{
  train_whole w;
  train_whole_init(&w);
  CS_ASSERT_REL(w.mtbf_gpu_h, 21233664.0 / 419, 1e-12);
  CU_ASSERT_TRUE(fabs(w.mtbf_gpu_h - 50677.0) < 0.01);
  CU_ASSERT_EQUAL(w.eval_interval, 1000);
  CU_ASSERT_EQUAL(w.eval_iters, 100);
  CU_ASSERT_TRUE(w.checkpoint_s < 0); /* from the model's size */
  CU_ASSERT_FALSE(w.async_checkpoint);
  CU_ASSERT_EQUAL(w.ramp_batch_start, 0);
  CU_ASSERT_DOUBLE_EQUAL(w.straggler_slowdown, 0, 0);
}

static void test_bad(void)
{
  llm_arch m = gpt(24, 2048, 16, 51200);
  train_job j;
  job(&j, &m);
  train_step_result st;
  train_step(&j, &st);
  train_run_result run;
  train_run(&j, &st, 20e9, 2.0, &run);
  train_whole w;
  train_whole_init(&w);
  train_whole_result o;
  char msg[256];
  w.ramp_batch_start = 24; /* not a multiple of dp 16 */
  w.ramp_batch_increment = 16;
  w.ramp_batch_samples = 1e5;
  const char *bad = train_whole_run(&j, &st, &run, &w, &o, msg, sizeof msg);
  CU_ASSERT_STRING_EQUAL(bad ? bad : "", "ramp_batch_start");
  CHECK(strstr(msg, "multiple of dp x micro_batch = 16"), "message: %s", msg);
  w.ramp_batch_start = 32;
  w.ramp_batch_increment = 48; /* 512 - 32 = 480 = 10 x 48, but 48 is a multiple of 16: fine */
  CU_ASSERT_PTR_NULL(train_whole_run(&j, &st, &run, &w, &o, msg, sizeof msg));
  w.ramp_batch_increment = 8;
  bad = train_whole_run(&j, &st, &run, &w, &o, msg, sizeof msg);
  CU_ASSERT_STRING_EQUAL(bad ? bad : "", "ramp_batch_increment");
  w.ramp_batch_increment = 16;
  w.ramp_batch_samples = 0;
  bad = train_whole_run(&j, &st, &run, &w, &o, msg, sizeof msg);
  CU_ASSERT_STRING_EQUAL(bad ? bad : "", "ramp_batch_samples");
  w.ramp_batch_start = w.ramp_batch_increment = 0;
  w.ramp_seq_start = 4096; /* beyond seq_len 2048 */
  w.ramp_seq_tokens = 1e9;
  bad = train_whole_run(&j, &st, &run, &w, &o, msg, sizeof msg);
  CU_ASSERT_STRING_EQUAL(bad ? bad : "", "ramp_seq_start");

  /* through the program: the scenario's line and key */
  char *dir = cs_tmpdir("train_run_bad");
  free(cs_write_file(dir, "r.cfg",
                     "name = \"r\";\ntraining = { model = \"llama2-7b\"; gpus = 64; zero = 1; global_batch = 1024;\n"
                     "  seq_len = 4096; train_tokens = 1e11;\n"
                     "  ramp_up = { batch_start = 100; batch_increment = 64; batch_samples = 1e6; };\n};\n"));
  result r = run_in(dir, "check", "r.cfg", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "r.cfg:4: training.ramp_up.batch_start: 100 is not a batch below the global batch of 1024 and "
                   "a multiple of dp x micro_batch = 64");
  result_free(&r);
  r = run_in(dir, "estimate", "--train", "--model", "llama2-7b", "--gpus", "64", "--zero", "1", "--global-batch",
             "1024", "--seq-len", "4096", "--rampup-seq-start", "8192", "--rampup-seq-tokens", "1e9",
             (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--rampup-seq-start: 8192 tokens is not a warm-up length below seq_len 4096");
  result_free(&r);
  free(dir);
}

/* Phase n's iteration in a run's summary against `estimate` with args
 * (NULL-terminated, from "estimate"), run in dir: equal to 1e-12. */
static void phase_as_estimate(const char *dir, const json_t *sum, int n, const char *const *args)
{
  char key[64];
  snprintf(key, sizeof key, "phase%d_iteration_time_s", n);
  result e = run_argv(dir, args);
  CHECK_RC(e, 0);
  double est = NAN;
  CHECK(json_num(e.out, "iteration_time_s", &est), "estimate: no iteration_time_s in %s", e.out);
  CS_CHECK_REL(cs_jnum(sum, key), est, 1e-12, key);
  result_free(&e);
}

/* A run in phases (training.phases): each phase's iteration is the one
 * `estimate --train` gives at its settings; the failure-free run is the sum
 * of iterations x iteration time over the phases, and the wall time without
 * failures and evaluations equals it; with failures on, Young/Daly's
 * closed form covers the whole work; phases.csv holds one row per phase
 * with the summary's numbers; bad phases are refused at their key's line,
 * as is `plan` on a scenario with phases. */
static void test_phases(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("train_run_phases");
  static const char head[] =
      "name = \"p\";\nseed = 3;\ntraining = {\n  model = \"llama3.1-8b\"; gpu = \"h100-sxm\"; gpus = 64; tp = 2;\n"
      "  zero = 1; seq_len = 4096; global_batch = 256; train_tokens = 2e10;\n";
  char text[2048];
  snprintf(text, sizeof text,
           "%s  eval_interval = 0; failures = { mtbf_gpu_h = 0.0; };\n"
           "  phases = ( { name = \"long-context\"; tokens = 2e9; seq_len = 32768; cp = 4; global_batch = 32; },\n"
           "             { name = \"anneal\"; tokens = 1e9; } );\n};\n", head);
  free(cs_write_file(dir, "p.cfg", text));
  char *js = cs_run_summary(__FILE__, __LINE__, dir, "p.cfg", "out", NULL);
  if (!js) goto out;
  double sum = 0, iters = 0;
  static const char *const names[] = {"phase1", "long-context", "anneal"};
  static const char *const args[][6] = {
    {"--seq-len", "4096", "--cp", "1", "--global-batch", "256"},
    {"--seq-len", "32768", "--cp", "4", "--global-batch", "32"},
    {"--seq-len", "4096", "--cp", "1", "--global-batch", "256"},
  };
  json_t *sum_js = load_json(dir, "out/summary.json");
  CU_ASSERT_EQUAL(cs_summary_num(__FILE__, __LINE__, js, "phases"), 3);
  for (int i = 0; i < 3; i++) {
    char k[64];
    snprintf(k, sizeof k, "phase%d_name", i + 1);
    CHECK(!strcmp(cs_jstr(sum_js, k), names[i]), "%s: %s, expected %s", k, cs_jstr(sum_js, k), names[i]);
    snprintf(k, sizeof k, "phase%d_iteration_time_s", i + 1);
    double it = cs_summary_num(__FILE__, __LINE__, js, k);
    snprintf(k, sizeof k, "phase%d_iterations", i + 1);
    double n = cs_summary_num(__FILE__, __LINE__, js, k);
    sum += n * it;
    iters += n;
    /* the phase's iteration is estimate's at its settings */
    result r = run_in(dir, "estimate", "--train", "--json", "--model", "llama3.1-8b", "--gpu", "h100-sxm", "--gpus",
                      "64", "--tp", "2", "--zero", "1", args[i][0], args[i][1], args[i][2], args[i][3], args[i][4],
                      args[i][5], (const char *)NULL);
    CHECK_RC(r, 0);
    double want = NAN;
    CHECK(json_num(r.out, "iteration_time_s", &want), "estimate: no iteration_time_s in %s", r.out);
    CS_CHECK_REL(it, want, 1e-12, names[i]);
    result_free(&r);
  }
  json_decref(sum_js);
  /* tokens: 2e10 at 256 x 4096 is 19,074 iterations (rounded up), 2e9 at
   * 32 x 32,768 is 1,908, 1e9 at 256 x 4096 is 954 */
  CU_ASSERT_DOUBLE_EQUAL(iters, 19074 + 1908 + 954, 0);
  CU_ASSERT_DOUBLE_EQUAL(cs_summary_num(__FILE__, __LINE__, js, "iterations"), iters, 0);
  CS_CHECK_REL(cs_summary_num(__FILE__, __LINE__, js, "failure_free_time_s"), sum, 1e-12, "failure-free sum");
  CS_CHECK_REL(cs_summary_num(__FILE__, __LINE__, js, "train_time_s"), sum, 1e-9, "wall without failures");
  free(js);
  /* phases.csv: a header and three rows, the summary's iterations */
  char *csv = path_join(dir, "out/phases.csv");
  FILE *f = fopen(csv, "r");
  CHECK(f != NULL, "no %s", csv);
  if (f) {
    char line[1024];
    int rows = -1;
    double csv_iters = 0;
    while (fgets(line, sizeof line, f)) {
      if (rows++ < 0) {
        CHECK(!strncmp(line, "phase,name,tokens,seq_len,global_batch,", 39), "header: %s", line);
        continue;
      }
      char *c = line;
      for (int col = 0; col < 13 && c; col++) c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL;
      if (c) csv_iters += strtod(c, NULL);
    }
    fclose(f);
    CU_ASSERT_EQUAL(rows, 3);
    CU_ASSERT_DOUBLE_EQUAL(csv_iters, iters, 0);
  }
  free(csv);

  /* failures on: the closed form's work is every phase's, and the simulated
   * run's wall is within a few percent of it (one seed, hundreds of failures) */
  snprintf(text, sizeof text,
           "%s  failures = { mtbf_gpu_h = 5.0; restart_s = 10.0; checkpoint_s = 1.0; };\n"
           "  phases = ( { name = \"long-context\"; tokens = 2e9; seq_len = 32768; cp = 4; global_batch = 32; } );\n"
           "};\n", head);
  free(cs_write_file(dir, "f.cfg", text));
  js = cs_run_summary(__FILE__, __LINE__, dir, "f.cfg", "outf", NULL);
  if (!js) goto out;
  double work = cs_summary_num(__FILE__, __LINE__, js, "failure_free_time_s") +
                cs_summary_num(__FILE__, __LINE__, js, "eval_time_s") +
                cs_summary_num(__FILE__, __LINE__, js, "ramp_up_time_s") +
                cs_summary_num(__FILE__, __LINE__, js, "straggler_time_s");
  double cf = cs_summary_num(__FILE__, __LINE__, js, "train_time_closed_form_s");
  CS_CHECK_REL(cf * cs_summary_num(__FILE__, __LINE__, js, "effective_fraction_closed_form"), work, 1e-9,
               "closed form x its useful share");
  CS_CHECK_REL(cs_summary_num(__FILE__, __LINE__, js, "effective_fraction") *
                   cs_summary_num(__FILE__, __LINE__, js, "train_time_s"), work, 1e-9, "simulated useful share");
  CS_CHECK_REL(cs_summary_num(__FILE__, __LINE__, js, "train_time_s"), cf, 0.05, "simulated against closed form");
  CHECK(cs_summary_num(__FILE__, __LINE__, js, "failures") > 10, "too few failures to test");
  free(js);

  /* evaluations and stragglers per phase: each phase's are estimate's at
   * its settings and tokens, and the run's are their sum */
  snprintf(text, sizeof text,
           "%s  eval_interval = 100; eval_iters = 10; straggler_jitter = 0.05; failures = { mtbf_gpu_h = 0.0; };\n"
           "  phases = ( { name = \"long-context\"; tokens = 2e9; seq_len = 32768; cp = 4; global_batch = 32; } );\n"
           "};\n", head);
  free(cs_write_file(dir, "e.cfg", text));
  js = cs_run_summary(__FILE__, __LINE__, dir, "e.cfg", "oute", NULL);
  if (!js) goto out;
  static const char *const toks[] = {"2e10", "2e9"};
  double evals = 0, strag = 0;
  for (int i = 0; i < 2; i++) {
    result r = run_in(dir, "estimate", "--train", "--json", "--model", "llama3.1-8b", "--gpu", "h100-sxm", "--gpus",
                      "64", "--tp", "2", "--zero", "1", args[i][0], args[i][1], args[i][2], args[i][3], args[i][4],
                      args[i][5], "--train-tokens", toks[i], "--eval-interval", "100", "--eval-iters", "10",
                      "--straggler-jitter", "0.05", (const char *)NULL);
    CHECK_RC(r, 0);
    double e = NAN, st = NAN;
    CHECK(json_num(r.out, "eval_time_s", &e) && json_num(r.out, "straggler_time_s", &st) && e > 0 && st > 0,
          "estimate: no evaluations or stragglers in %s", r.out);
    evals += e;
    strag += st;
    result_free(&r);
  }
  CS_CHECK_REL(cs_summary_num(__FILE__, __LINE__, js, "eval_time_s"), evals, 1e-9, "evaluations over the phases");
  CS_CHECK_REL(cs_summary_num(__FILE__, __LINE__, js, "straggler_time_s"), strag, 1e-9, "stragglers over the phases");
  free(js);

  /* what a phase changes starts afresh: leaving full recomputation of 8
   * layers for selective, and another pp from even stages */
  snprintf(text, sizeof text,
           "name = \"q\";\ntraining = { model = \"llama3.1-8b\"; gpu = \"h100-sxm\"; gpus = 64; tp = 2; pp = 4;\n"
           "  first_stage_layers = 7; last_stage_layers = 7; recompute = \"full\"; recompute_layers = 2;\n"
           "  zero = 1; seq_len = 4096; global_batch = 256; train_tokens = 1e10;\n"
           "  phases = ( { tokens = 1e9; recompute = \"selective\"; pp = 2; } );\n};\n");
  free(cs_write_file(dir, "q.cfg", text));
  js = cs_run_summary(__FILE__, __LINE__, dir, "q.cfg", "outq", NULL);
  if (!js) goto out;
  json_t *q = load_json(dir, "outq/summary.json");
  CHECK(!strcmp(cs_jstr(q, "phase2_recompute"), "selective"), "phase2_recompute %s", cs_jstr(q, "phase2_recompute"));
  CHECK(!strcmp(cs_jstr(q, "phase1_recompute"), "full"), "phase1_recompute %s", cs_jstr(q, "phase1_recompute"));
  CU_ASSERT_EQUAL(cs_jnum(q, "phase2_pp"), 2);
  json_decref(q);
  free(js);
  result er = run_in(dir, "estimate", "--train", "--json", "--model", "llama3.1-8b", "--gpu", "h100-sxm", "--gpus", "64",
                     "--tp", "2", "--pp", "2", "--zero", "1", "--seq-len", "4096", "--global-batch", "256",
                     "--recompute", "selective", (const char *)NULL);
  double want = NAN;
  CHECK(er.rc == 0 && json_num(er.out, "iteration_time_s", &want), "estimate: %s", er.err);
  result_free(&er);
  js = cs_run_summary(__FILE__, __LINE__, dir, "q.cfg", "outq2", NULL);
  if (js) CS_CHECK_REL(cs_summary_num(__FILE__, __LINE__, js, "phase2_iteration_time_s"), want, 1e-12,
                       "phase at pp 2, even stages, selective");
  free(js);

  /* writing the section's own recomputation again keeps its layers; a
   * phase may switch the context-parallel exchange */
  snprintf(text, sizeof text,
           "name = \"k\";\ntraining = { model = \"llama3.1-8b\"; gpu = \"h100-sxm\"; gpus = 64; tp = 1;\n"
           "  recompute = \"full\"; recompute_layers = 4; zero = 1; seq_len = 4096; global_batch = 256;\n"
           "  train_tokens = 1e10; cp = 2; cp_comm_type = \"a2a\";\n"
           "  phases = ( { tokens = 1e9; recompute = \"full\"; seq_len = 65536; cp = 16; cp_comm_type = \"p2p\";\n"
           "    global_batch = 16; } );\n};\n");
  free(cs_write_file(dir, "k.cfg", text));
  js = cs_run_summary(__FILE__, __LINE__, dir, "k.cfg", "outk", NULL);
  if (!js) goto out;
  json_t *k = load_json(dir, "outk/summary.json");
  CU_ASSERT_EQUAL(cs_jnum(k, "phase2_recompute_layers"), 4);
  CHECK(!strcmp(cs_jstr(k, "phase1_cp_comm_type"), "a2a") && !strcmp(cs_jstr(k, "phase2_cp_comm_type"), "p2p"),
        "exchanges %s, %s", cs_jstr(k, "phase1_cp_comm_type"), cs_jstr(k, "phase2_cp_comm_type"));
  json_decref(k);
  free(js);

  /* a phase may change the pipeline schedule: the section's ZB-H1, the
   * phase's 1F1B, each iteration estimate's at its schedule */
  snprintf(text, sizeof text,
           "name = \"z\";\ntraining = { model = \"llama3.1-8b\"; gpu = \"h100-sxm\"; gpus = 64; tp = 2; pp = 4;\n"
           "  zero = 1; seq_len = 4096; global_batch = 256; train_tokens = 1e10; pipeline_schedule = \"zb-h1\";\n"
           "  phases = ( { tokens = 1e9; pipeline_schedule = \"1f1b\"; } );\n};\n");
  free(cs_write_file(dir, "z.cfg", text));
  js = cs_run_summary(__FILE__, __LINE__, dir, "z.cfg", "outz", NULL);
  if (!js) goto out;
  json_t *z = load_json(dir, "outz/summary.json");
  CHECK(!strcmp(cs_jstr(z, "phase1_pipeline_schedule"), "zb-h1") && !strcmp(cs_jstr(z, "phase2_pipeline_schedule"), "1f1b"),
        "schedules %s, %s", cs_jstr(z, "phase1_pipeline_schedule"), cs_jstr(z, "phase2_pipeline_schedule"));
  for (int i = 0; i < 2; i++) {
    const char *est_args[] = {"estimate", "--train", "--json", "--model", "llama3.1-8b", "--gpu", "h100-sxm", "--gpus",
                          "64", "--tp", "2", "--pp", "4", "--zero", "1", "--seq-len", "4096", "--global-batch", "256",
                          "--pipeline-schedule", i ? "1f1b" : "zb-h1", NULL};
    phase_as_estimate(dir, z, i + 1, est_args);
  }
  CU_ASSERT_TRUE(cs_jnum(z, "phase1_iteration_time_s") < cs_jnum(z, "phase2_iteration_time_s"));
  json_decref(z);
  free(js);

  /* a phase may change ZeRO's shard group: the section's groups of 16
   * (dp 64: 4 replicas); a phase at 8,192 tokens keeps them; one at tp 2
   * names groups of 8 (dp 32: 4 replicas); one at tp 8, whose dp 8 the
   * section's 16 cannot divide, names 0, all 8. Each iteration is
   * estimate's at its group; phases.csv's last columns */
  snprintf(text, sizeof text,
           "name = \"h\";\ntraining = { model = \"llama3.1-8b\"; gpu = \"h100-sxm\"; gpus = 64; zero = 3;\n"
           "  seq_len = 4096; global_batch = 64; train_tokens = 1e10; dp_shard = 16;\n"
           "  phases = ( { tokens = 1e9; seq_len = 8192; }, { tokens = 1e9; tp = 2; dp_shard = 8; },\n"
           "    { tokens = 1e9; tp = 8; dp_shard = 0; } );\n};\n");
  free(cs_write_file(dir, "h.cfg", text));
  js = cs_run_summary(__FILE__, __LINE__, dir, "h.cfg", "outh", NULL);
  if (!js) goto out;
  json_t *hs = load_json(dir, "outh/summary.json");
  static const char *const h_tp[] = {"1", "1", "2", "8"}, *const h_seq[] = {"4096", "8192", "4096", "4096"};
  static const char *const h_shard[] = {"16", "16", "8", "0"};
  static const int h_group[] = {16, 16, 8, 8}, h_rep[] = {4, 4, 4, 1};
  for (int i = 0; i < 4; i++) {
    char key[64];
    snprintf(key, sizeof key, "phase%d_dp_shard", i + 1);
    CU_ASSERT_EQUAL(cs_jnum(hs, key), h_group[i]);
    snprintf(key, sizeof key, "phase%d_dp_replicate", i + 1);
    CU_ASSERT_EQUAL(cs_jnum(hs, key), h_rep[i]);
    const char *est_args[] = {"estimate", "--train", "--json", "--model", "llama3.1-8b", "--gpu", "h100-sxm", "--gpus",
                              "64", "--tp", h_tp[i], "--zero", "3", "--seq-len", h_seq[i], "--global-batch", "64",
                              "--dp-shard", h_shard[i], NULL};
    phase_as_estimate(dir, hs, i + 1, est_args);
  }
  json_decref(hs);
  free(js);
  char *hcsv = path_join(dir, "outh/phases.csv");
  char *htext = cs_slurp(hcsv, NULL);
  CHECK(htext && strstr(htext, ",pipeline_schedule,dp_shard\n") && strstr(htext, "\n1,") &&
            strstr(htext, ",1f1b,16\n2,") && strstr(htext, ",1f1b,16\n3,") && strstr(htext, ",1f1b,8\n4,"),
        "phases.csv:\n%s", htext ? htext : "(missing)");
  free(htext);
  free(hcsv);
  /* a group that does not divide the phase's dp x cp: at the phase's key
   * when it names it; at the phase, saying so, when it is the section's */
  snprintf(text, sizeof text,
           "name = \"h\";\ntraining = { model = \"llama3.1-8b\"; gpu = \"h100-sxm\"; gpus = 64; zero = 3;\n"
           "  seq_len = 4096; global_batch = 64; train_tokens = 1e10;\n"
           "  phases = ( { tokens = 1e9; tp = 8;\n    dp_shard = 3; } );\n};\n");
  free(cs_write_file(dir, "h3.cfg", text));
  result r3 = run_in(dir, "check", "h3.cfg", (const char *)NULL);
  CHECK_RC(r3, 2);
  CHECK_ERR_HAS(r3, "h3.cfg:5: training.phases.[0].dp_shard");
  result_free(&r3);
  snprintf(text, sizeof text,
           "name = \"h\";\ntraining = { model = \"llama3.1-8b\"; gpu = \"h100-sxm\"; gpus = 64; zero = 3;\n"
           "  seq_len = 4096; global_batch = 64; train_tokens = 1e10; dp_shard = 16;\n"
           "  phases = ( { tokens = 1e9;\n    tp = 8; } );\n};\n");
  free(cs_write_file(dir, "h4.cfg", text));
  r3 = run_in(dir, "check", "h4.cfg", (const char *)NULL);
  CHECK_RC(r3, 2);
  CHECK_ERR_HAS(r3, "h4.cfg:4: training.phases.[0]: a shard group of 16 ranks does not divide");
  CHECK_ERR_HAS(r3, "(the section's dp_shard = 16; the phase may name its own)");
  result_free(&r3);

  /* refusals at the phase's key and line */
  snprintf(text, sizeof text, "%s  phases = ( { tokens = 1e9; cp = 3; } );\n};\n", head);
  free(cs_write_file(dir, "b1.cfg", text));
  result r = run_in(dir, "check", "b1.cfg", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "b1.cfg:6: training.phases.[0]: 64 GPUs are not a whole number of tp 2 x cp 3 x pp 1");
  result_free(&r);
  snprintf(text, sizeof text, "%s  phases = (\n  { tokens = 1e9; },\n  { name = \"a,b\"; tokens = 1e9; } );\n};\n",
           head);
  free(cs_write_file(dir, "b2.cfg", text));
  r = run_in(dir, "check", "b2.cfg", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "b2.cfg:8: training.phases.[1].name: \"a,b\" is not a phase name");
  result_free(&r);
  /* every phase's problem is listed, not only the first */
  snprintf(text, sizeof text, "%s  phases = (\n  { tokens = 1e9; cp = 3; },\n  { tokens = 1e9; tp = 3; } );\n};\n", head);
  free(cs_write_file(dir, "b5.cfg", text));
  r = run_in(dir, "check", "b5.cfg", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "b5.cfg:7: training.phases.[0]: 64 GPUs are not a whole number of tp 2 x cp 3");
  CHECK_ERR_HAS(r, "b5.cfg:8: training.phases.[1]: 64 GPUs are not a whole number of tp 3 x cp 1");
  result_free(&r);
  snprintf(text, sizeof text, "%s  phases = ( { tokens = 1e9; seq_len = 262144; recompute = \"none\"; } );\n};\n",
           head);
  free(cs_write_file(dir, "b3.cfg", text));
  r = run_in(dir, "check", "b3.cfg", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "b3.cfg:6: training.phases.[0]: llama3.1-8b does not fit on h100-sxm");
  result_free(&r);
  snprintf(text, sizeof text, "%s  phases = ( { tokens = 1e9; seq_len = 8192; } );\n};\n", head);
  free(cs_write_file(dir, "b4.cfg", text));
  r = run_in(dir, "plan", "b4.cfg", "--objective", "time", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "b4.cfg:6: training.phases: the layout planner does not model this key");
  result_free(&r);
out:
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

int main(void)
{
  if (!cs_catalogs()) return 1;
  static const cs_test tests[] = {
    {"whole run: ramp-up, evals, checkpoints, failures against the closed form", test_closed_form},
    {"async checkpoints expose less than sync", test_async},
    {"defaults: Llama 3's failure rate, Megatron-LM's evaluation", test_defaults},
    {"bad values name their field, file:line through the program", test_bad},
    {"a run in phases: each phase's iteration, their sum, failures over the whole, refusals", test_phases},
    {NULL, NULL},
  };
  int rc = cs_run_suite("train_run", tests);
  cs_catalogs_free();
  return rc;
}
