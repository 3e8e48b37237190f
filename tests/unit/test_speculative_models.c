/* tests/unit/test_speculative_models.c: speculative decoding with several
 * models and with LoRA (speculative.models, models/serving/speculative.c;
 * the scheduler's per-model verify steps), through the clustersim program
 * and the compute core, against answers known without the simulation: in
 * a one-replica pool swapping two models, each model's decode steps with
 * every draft accepted (k + 1 tokens a step, each model its own k and
 * drafter) timed step by step, and with one model's acceptance 0; each
 * model's swap time carrying its drafter's bytes, written out by hand;
 * LoRA with speculation: the target's verification step plus the
 * adapter's cost for every verified token, the drafter unadapted, step by
 * step; conservation and Little's law with swaps, adapters and
 * speculation under load. The new keys' bad values are
 * tests/badconfig/spec_models_*.cfg. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cattest.h"
#include "clitest.h"
#include "models/llm/llm.h"
#include "models/llm/llm_step.h"
#include "sim/time.h"
#include "testutil.h"

#define RUN_CFG(dir, cfg, out, ...) \
  cs_run_summary(__FILE__, __LINE__, (dir), (cfg), (out), (const char *const[]){__VA_ARGS__, NULL})
#define SNUM(json, key) cs_summary_num(__FILE__, __LINE__, (json), (key))
#define CHECK_REL CS_CHECK_REL

#define A100 "a100-80gb-sxm"

enum { P = 512, O = 128, NREQ = 10 };

/* A formatted string in one of 8 rotating static buffers (nothing to free). */
static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
  static char buf[8][512];
  static int next;
  char *b = buf[next++ % 8];
  va_list ap;
  va_start(ap, f);
  vsnprintf(b, sizeof buf[0], f, ap);
  va_end(ap);
  return b;
}

/* The replica the scenario builds for `model`: one A100, fp16, tp 1, the
 * ideal stack (llm_replica_init's engine) with 0.5 ms of host time a step. */
static void replica(llm_replica *r, const char *model)
{
  llm_replica_init(r, cs_model(model), cs_gpu(A100), GPU_FP16, 1, 1, NULL, NULL, 0.0005);
}

/* A LoRA adapter's cost in a step, as the hand reads serving_lora.c: its
 * bytes read, or its FLOPs for the step's `tokens` tokens, whichever takes
 * longer at the replica's rates (tp 1). 0 bytes: no adapter. */
static double lora_op_s(const llm_replica *t, double bytes, double flops_tok, int tokens)
{
  if (bytes <= 0) return 0;
  double rd = bytes / t->bytes_per_s, fl = flops_tok * tokens / t->flops_per_s;
  return rd > fl ? rd : fl;
}

/* The decode phase of a lone request (P prompt tokens, O output) on
 * target `tm`: O - 1 tokens after the prefill's, in verification steps at
 * context P + g with d = min(k, O - g - 1) drafts, all accepted (`all`)
 * or none; each step the target's verification, then its adapter's cost
 * for the d + 1 verified tokens (lora_bytes > 0), then the drafter's d
 * passes: method "draft" d decodes of the draft model `dm`, "eagle" one
 * target layer and its head each, "ngram" nothing. Each step rounded to
 * its ns as the engine does. Returns seconds; *steps the decode steps. */
static double decode_s(const char *tm, const char *method, const char *dm, int k, bool all, double lora_bytes,
                       double lora_flops_tok, int *steps)
{
  llm_replica t, dr;
  replica(&t, tm);
  bool draft = !strcmp(method, "draft"), eagle = !strcmp(method, "eagle");
  if (draft) replica(&dr, dm);
  double layers = (double)cs_model(tm)->layers;
  sim_time ns = 0;
  llm_step_cost c;
  *steps = 0;
  for (int g = 1; g < O;) {
    int d = O - g - 1 < k ? O - g - 1 : k;
    llm_batch v = {0};
    llm_batch_add_verify(&v, 1, P + g, d);
    llm_step(&t, &v, &c);
    /* summed as the scheduler sums: the step (and no KV swap), the adapter, the drafter from 0 */
    double s = c.total_s + 0.0, ds = 0;
    s += lora_op_s(&t, lora_bytes, lora_flops_tok, d + 1);
    for (int j = 1; j <= d; j++) {
      llm_batch p = {0};
      llm_batch_add_decode(&p, 1, P + g + j - 1);
      if (draft) {
        llm_step(&dr, &p, &c);
        ds += c.total_s;
      } else if (eagle) {
        llm_step(&t, &p, &c);
        ds += (c.linear_s + c.attention_s + c.comm_s) / layers + c.head_s;
      }
    }
    ns += sim_time_from_s(s + ds);
    g += all ? d + 1 : 1;
    (*steps)++;
  }
  return sim_time_to_s(ns);
}

/* ---- 1. two models on one replica, each with its own speculation ---- */

/* One replica of an A100 swapping Llama 3.1 8B (model 0: a draft model,
 * Llama 3.2 1B, k = 4, from its speculative.models entry) and Qwen3 8B
 * (model 1: the section's EAGLE head, k = 2); weights loaded at 10 GB/s.
 * Requests alternate between the two models 10 s apart (a trace each,
 * offsets 10 and 20 s): each meets an idle replica, loads its model
 * (all but the first) and runs alone. */
static const char two_cfg[] =
  "name = \"two\";\nseed = 4;\n"
  "model = { name = \"llama3.1-8b\"; precision = \"fp16\"; };\n"
  "cluster = { pools = ( { gpu = \"" A100 "\"; replicas = 1; tp = 1; models = [\"llama3.1-8b\", \"qwen3-8b\"]; } );\n"
  "  weight_swap = { policy = \"lru\"; load_gbs = 10.0; }; };\n"
  "workload = { classes = (\n"
  "  { name = \"a\"; model = \"llama3.1-8b\"; trace = { file = \"t.csv\"; time_column = \"time\"; "
  "prompt_column = \"prompt\"; output_column = \"output\"; offset_s = 10.0; }; },\n"
  "  { name = \"b\"; model = \"qwen3-8b\"; trace = { file = \"t.csv\"; time_column = \"time\"; "
  "prompt_column = \"prompt\"; output_column = \"output\"; offset_s = 20.0; }; } ); };\n"
  "scheduler = { policy = \"continuous\"; step_overhead_s = 0.0005; };\n"
  "speculative = { method = \"eagle\"; num_speculative_tokens = 2; acceptance_rate = 1.0;\n"
  "  models = ( { model = \"llama3.1-8b\"; method = \"draft\"; draft_model = \"llama3.2-1b\"; "
  "num_speculative_tokens = 4; } ); };\n";

/* NREQ requests 20 s apart (the offsets interleave the two classes). */
static char *write_two(const char *dir)
{
  char text[1024];
  size_t n = (size_t)snprintf(text, sizeof text, "time,prompt,output\n");
  for (int i = 0; i < NREQ; i++) n += (size_t)snprintf(text + n, sizeof text - n, "%d,%d,%d\n", 20 * i, P, O);
  free(cs_write_file(dir, "t.csv", text));
  return cs_write_file(dir, "two.cfg", two_cfg);
}

/* Acceptance 1: a step emits k + 1 tokens, so a request's O - 1 = 127
 * decode tokens take ceil(127 / 5) = 26 steps on model 0 (k 4) and
 * ceil(127 / 3) = 43 on model 1 (k 2); each model's TPOT is its decode
 * phase by hand / 127 (all its requests alike: p99 = the value). The
 * run's tokens per step: (10 x 127 + 10 x 127) / (10 x 26 + 10 x 43). */
static void test_two_models_accept_all(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("specmm_two");
  free(write_two(dir));
  int s0, s1;
  double d0 = decode_s("llama3.1-8b", "draft", "llama3.2-1b", 4, true, 0, 0, &s0);
  double d1 = decode_s("qwen3-8b", "eagle", NULL, 2, true, 0, 0, &s1);
  CHECK(s0 == 26 && s1 == 43, "decode steps %d and %d, expected ceil(127/5) = 26 and ceil(127/3) = 43", s0, s1);
  char *js = RUN_CFG(dir, "two.cfg", "all", NULL);
  if (js) {
    CHECK(SNUM(js, "model0_completed") == NREQ && SNUM(js, "model1_completed") == NREQ, "completed %g and %g",
          SNUM(js, "model0_completed"), SNUM(js, "model1_completed"));
    /* every request but the first loads its model */
    CHECK(SNUM(js, "weight_swaps") == 2 * NREQ - 1, "weight_swaps %g, expected %d", SNUM(js, "weight_swaps"),
          2 * NREQ - 1);
    CHECK_REL(SNUM(js, "model0_tpot_p99_s"), d0 / (O - 1), 1e-8, "model 0 (draft model, k 4): TPOT");
    CHECK_REL(SNUM(js, "model1_tpot_p99_s"), d1 / (O - 1), 1e-8, "model 1 (EAGLE, k 2): TPOT");
    CHECK(SNUM(js, "spec_acceptance_rate") == 1, "acceptance %g", SNUM(js, "spec_acceptance_rate"));
    CHECK(SNUM(js, "model0_spec_acceptance_rate") == 1 && SNUM(js, "model1_spec_acceptance_rate") == 1,
          "per model %g, %g", SNUM(js, "model0_spec_acceptance_rate"), SNUM(js, "model1_spec_acceptance_rate"));
    CHECK_REL(SNUM(js, "spec_tokens_per_step"), (2.0 * NREQ * 127) / (NREQ * 26.0 + NREQ * 43.0), 1e-12,
              "tokens per step over both models");
    printf("\n    model 0: TPOT %.9f s (26 steps); model 1: %.9f s (43 steps)", d0 / (O - 1), d1 / (O - 1));
    free(js);
  }
  /* model 0's acceptance 0 (its entry), model 1's still 1: model 0 makes
   * one token a step, 127 steps, each still verifying its drafts */
  int z0;
  double dz = decode_s("llama3.1-8b", "draft", "llama3.2-1b", 4, false, 0, 0, &z0);
  CHECK(z0 == O - 1, "%d steps at acceptance 0, expected 127", z0);
  js = RUN_CFG(dir, "two.cfg", "zero", "--set", "speculative.models.[0].acceptance_rate=0.0");
  if (js) {
    CHECK_REL(SNUM(js, "model0_tpot_p99_s"), dz / (O - 1), 1e-8, "model 0 at acceptance 0: TPOT");
    CHECK_REL(SNUM(js, "model1_tpot_p99_s"), d1 / (O - 1), 1e-8, "model 1 unchanged: TPOT");
    CHECK_REL(SNUM(js, "spec_tokens_per_step"), (2.0 * NREQ * 127) / (NREQ * 127.0 + NREQ * 43.0), 1e-12,
              "tokens per step, model 0 at acceptance 0");
    /* proposed per request: model 0 d = min(4, 127 - g) at g = 1..127 (one token a step):
     * 123 x 4 + 3 + 2 + 1 = 498, none accepted; model 1 d = 2 at g = 1, 4, .., 124 and 0 at
     * g = 127: 42 x 2 = 84, all accepted */
    double prop0 = 123 * 4 + 3 + 2 + 1, prop1 = 42 * 2;
    CU_ASSERT_EQUAL(prop0, 498.0);
    CHECK_REL(SNUM(js, "spec_acceptance_rate"), prop1 / (prop0 + prop1), 1e-12, "accepted / proposed");
    /* per model: none of model 0's drafts, all of model 1's */
    CHECK(SNUM(js, "model0_spec_acceptance_rate") == 0 && SNUM(js, "model1_spec_acceptance_rate") == 1,
          "per model %g, %g", SNUM(js, "model0_spec_acceptance_rate"), SNUM(js, "model1_spec_acceptance_rate"));
    free(js);
  }
  printf("\n");
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* A swap loads the drafter with its target: each model's swap time is
 * (its weights + its drafter's) / 10 GB/s. By hand: Llama 3.2 1B's
 * weights in fp16 (the catalog's shape through llm_weights_bytes) for
 * model 0; for model 1 the EAGLE head, one Qwen3 8B decoder layer and the
 * 2h x h projection (h = 4096: 2 x 4096^2 = 33,554,432 parameters), 2
 * bytes each. Against the same run with speculation off, the difference
 * is exactly the drafter's bytes / 1e10. */
static void test_swap_carries_drafter(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("specmm_swap");
  free(write_two(dir));
  char *on = RUN_CFG(dir, "two.cfg", "on", NULL);
  char *off = RUN_CFG(dir, "two.cfg", "off", "--set", "speculative.method=\"none\"", "--set",
                      "speculative.models.[0].method=\"none\"");
  if (on && off) {
    const llm_arch *q = cs_model("qwen3-8b");
    CU_ASSERT_EQUAL(q->hidden, 4096);
    double head = (llm_dense_layer_params(q) + 2.0 * 4096 * 4096) * 2;
    double draft = llm_weights_bytes(cs_model("llama3.2-1b"), 2);
    CHECK(draft > 2.0e9 && draft < 3.0e9, "Llama 3.2 1B in fp16: %g bytes (expected its 1.24B parameters x 2)",
          draft);
    /* the target alone, by the compute core's weights */
    const char *names[2] = {"llama3.1-8b", "qwen3-8b"};
    double extra[2] = {draft, head};
    for (int m = 0; m < 2; m++) {
      llm_replica r;
      replica(&r, names[m]);
      llm_memory mem;
      llm_memory_need(&r, 0, 1, 1, &mem);
      char key[32];
      snprintf(key, sizeof key, "model%d_swap_s", m);
      CHECK_REL(SNUM(off, key), mem.weights / 10e9, 1e-12, fmt("%s, speculation off", key));
      CHECK_REL(SNUM(on, key), (mem.weights + extra[m]) / 10e9, 1e-12, fmt("%s, with its drafter", key));
      CHECK_REL(SNUM(on, key) - SNUM(off, key), extra[m] / 10e9, 1e-6, fmt("%s: the drafter's part", key));
      printf("\n    %s: swap %.6f s, of which the drafter %.6f s", names[m], SNUM(on, key), extra[m] / 10e9);
    }
    /* the loading time over the run: 9 loads of model 0, 10 of model 1 */
    CHECK_REL(SNUM(on, "weight_swap_time_s"), 9 * SNUM(on, "model0_swap_s") + 10 * SNUM(on, "model1_swap_s"), 1e-9,
              "replica-seconds loading");
  }
  free(on);
  free(off);
  printf("\n");
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* ---- 2. LoRA with speculation ---- */

/* Lone requests 10 s apart on Llama 3.1 8B (one A100), each with the one
 * adapter of rank 16; n-gram or a Llama 3.2 1B draft, k = 4, every draft
 * accepted. */
static const char lora_cfg[] =
  "name = \"lora\";\nseed = 3;\n"
  "model = { name = \"llama3.1-8b\"; precision = \"fp16\"; };\n"
  "cluster = { pools = ( { gpu = \"" A100 "\"; replicas = 1; tp = 1; } ); };\n"
  "workload = {\n"
  "  arrivals = { process = \"gamma\"; cv = 0.01; rate = 0.1; };\n"
  "  prompt_tokens = { dist = \"fixed\"; value = 512; };\n"
  "  output_tokens = { dist = \"fixed\"; value = 128; };\n"
  "  lora = { adapters = 1; rank = 16; };\n"
  "  requests = 20;\n"
  "};\n"
  "scheduler = { policy = \"continuous\"; step_overhead_s = 0.0005; };\n"
  "speculative = { method = \"ngram\"; num_speculative_tokens = 4; acceptance_rate = 1.0; };\n";

/* A rank-16 adapter on Llama 3.1 8B (hidden 4096, q 32 x 128 = 4096, kv
 * 8 x 128 = 1024, gated MLP of 14336, 32 layers): per layer q (4096 +
 * 4096), k and v (4096 + 1024 each), o (4096 + 4096), gate and up (4096 +
 * 14336 each), down (14336 + 4096) = 81,920; bytes 16 x 81,920 x 32 x 2
 * = 83,886,080; FLOPs per token 2 x 16 x 81,920 x 32 = 83,886,080. */
static void test_lora_step_by_hand(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("specmm_lora");
  free(cs_write_file(dir, "lora.cfg", lora_cfg));
  double dims = (4096.0 + 4096) + 2 * (4096.0 + 1024) + (4096.0 + 4096) + 3 * (4096.0 + 14336);
  CU_ASSERT_EQUAL(dims, 81920.0);
  double bytes = 16 * dims * 32 * 2, flops_tok = 2 * 16 * dims * 32;
  CU_ASSERT_EQUAL(bytes, 83886080.0);
  static const char *const methods[] = {"ngram", "draft"};
  for (int i = 0; i < 2; i++) {
    const char *m = methods[i];
    int steps, plain_steps;
    double d = decode_s("llama3.1-8b", m, "llama3.2-1b", 4, true, bytes, flops_tok, &steps);
    /* the same without the adapter: what the adapter adds is its cost alone */
    double d_plain = decode_s("llama3.1-8b", m, "llama3.2-1b", 4, true, 0, 0, &plain_steps);
    char *js = i == 0 ? RUN_CFG(dir, "lora.cfg", m, NULL)
                      : RUN_CFG(dir, "lora.cfg", m, "--set", "speculative.method=\"draft\"", "--set",
                                "speculative.draft_model=\"llama3.2-1b\"");
    if (!js) continue;
    CHECK(steps == 26, "%s: %d steps", m, steps);
    CHECK(SNUM(js, "requests_completed") == 20, "%s: %g of 20 completed", m, SNUM(js, "requests_completed"));
    CHECK(SNUM(js, "queue_delay_p999_s") == 0, "%s: a request waited", m);
    CHECK_REL(SNUM(js, "tpot_mean_s"), d / (O - 1), 1e-8, "LoRA + speculation: TPOT");
    CHECK_REL(SNUM(js, "tpot_p999_s"), d / (O - 1), 1e-8, "LoRA + speculation: TPOT p99.9");
    CHECK(SNUM(js, "lora_loads") == 1, "%s: lora_loads %g", m, SNUM(js, "lora_loads"));
    CHECK_REL(SNUM(js, "spec_tokens_per_step"), 127.0 / 26, 1e-12, "tokens per step");
    printf("\n    %s: TPOT %.9f s with the adapter, %.9f s without (+%.2f%%)", m, d / (O - 1), d_plain / (O - 1),
           100 * (d / d_plain - 1));
    CHECK(d > d_plain, "%s: the adapter costs nothing", m);
    free(js);
  }
  printf("\n");
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* ---- 3. conservation under load ---- */

/* One replica swapping two models, overloaded; Llama's class with 4 adapters (2
 * slots) and clients that give up after 10 s, drafting with Llama 3.2
 * 1B; Qwen's with the EAGLE head at per-position acceptance. */
static const char load_cfg[] =
  "name = \"load\";\nseed = 6;\n"
  "model = { name = \"llama3.1-8b\"; max_context = 4096; };\n"
  "cluster = { pools = ( { gpu = \"" A100 "\"; replicas = 1; models = [\"llama3.1-8b\", \"qwen3-8b\"];\n"
  "  max_loras = 2; } ); weight_swap = { policy = \"lru\"; load_gbs = 10.0; }; };\n"
  "workload = { classes = (\n"
  "  { name = \"a\"; model = \"llama3.1-8b\"; arrivals = { rate = 1.5; }; timeout_s = 10.0;\n"
  "    prompt_tokens = { dist = \"lognormal\"; mean = 500.0; cv = 1.0; };\n"
  "    output_tokens = { dist = \"lognormal\"; mean = 200.0; cv = 1.0; }; truncate = true;\n"
  "    lora = { adapters = 4; rank = 16; zipf = 1.0; }; },\n"
  "  { name = \"b\"; model = \"qwen3-8b\"; arrivals = { rate = 2.0; };\n"
  "    prompt_tokens = { dist = \"lognormal\"; mean = 500.0; cv = 1.0; };\n"
  "    output_tokens = { dist = \"lognormal\"; mean = 200.0; cv = 1.0; }; truncate = true; } );\n"
  "  duration_s = 240.0; };\n"
  "scheduler = { max_num_seqs = 16; };\n"
  "speculative = { method = \"eagle\"; num_speculative_tokens = 3; acceptance_rates = [0.8, 0.6, 0.4];\n"
  "  models = ( { model = \"llama3.1-8b\"; method = \"draft\"; draft_model = \"llama3.2-1b\"; "
  "num_speculative_tokens = 4; acceptance_rate = 0.7; } ); };\n";

/* Every arrival completed, rejected or in flight, per model too; L =
 * lambda W to rounding. */
static void check_books(const char *js, const char *what)
{
  double arr = SNUM(js, "requests_arrived"), done = SNUM(js, "requests_completed");
  double rej = SNUM(js, "requests_rejected"), fl = SNUM(js, "requests_in_flight");
  CHECK(arr == done + rej + fl, "%s: %g arrived, %g completed + %g rejected + %g in flight", what, arr, done, rej, fl);
  CHECK(SNUM(js, "model0_completed") + SNUM(js, "model1_completed") == done, "%s: per-model completions", what);
  double L = SNUM(js, "requests_in_system_mean"), lam = SNUM(js, "arrival_rate_per_s");
  double W = SNUM(js, "time_in_system_mean_s");
  printf("\n    %s: %g arrived, %g completed, %g rejected, %g in flight; %g swaps; L %.6f, lambda W %.6f", what, arr,
         done, rej, fl, SNUM(js, "weight_swaps"), L, lam * W);
  CHECK(L > 1, "%s: L = %g, too light a load", what, L);
  CHECK_REL(L, lam * W, 1e-9, fmt("%s: Little's law", what));
}

static void test_conservation(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("specmm_load");
  free(cs_write_file(dir, "load.cfg", load_cfg));
  char *js = RUN_CFG(dir, "load.cfg", "drained", NULL);
  if (js) {
    CHECK(SNUM(js, "requests_in_flight") == 0, "the run did not drain");
    check_books(js, "drained");
    CHECK(SNUM(js, "weight_swaps") > 10, "%g swaps", SNUM(js, "weight_swaps"));
    CHECK(SNUM(js, "lora_loads") > 10, "%g adapter loads", SNUM(js, "lora_loads"));
    CHECK(SNUM(js, "requests_timed_out") > 0, "no client gave up");
    /* the two models' expected tokens per step bound the run's: Qwen
     * 1 + .8 + .48 + .192 = 2.472, Llama 1 + .7 + .49 + .343 + .2401 =
     * 2.7731 (fewer where fewer drafts are left) */
    double tps = SNUM(js, "spec_tokens_per_step");
    CHECK(tps > 2.0 && tps < 2.7731, "tokens per step %g outside (2, 2.7731)", tps);
    free(js);
  }
  /* cut by a horizon with two replicas (each keeps its model): with one
   * replica, requests parked for a swap at the horizon trip the
   * simulation's own conservation check, speculation or not (a bug of
   * the swapping run, reported; not this suite's) */
  js = RUN_CFG(dir, "load.cfg", "cut", "--set", "horizon_s=120.0", "--set", "cluster.pools.[0].replicas=2", "--set",
               "workload.classes.[0].arrivals.rate=4.0");
  if (js) {
    CHECK(SNUM(js, "requests_in_flight") > 0, "nothing in flight at the horizon");
    check_books(js, "cut by a horizon");
    free(js);
  }
  printf("\n");
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

int main(int argc, char **argv)
{
  static const cs_test tests[] = {
    {"two_models_accept_all", test_two_models_accept_all},
    {"swap_carries_drafter", test_swap_carries_drafter},
    {"lora_step_by_hand", test_lora_step_by_hand},
    {"conservation", test_conservation},
    {NULL, NULL},
  };
  int rc = cs_run_suite_filtered("speculative_models", tests, argc, argv);
  cs_catalogs_free();
  return rc;
}
