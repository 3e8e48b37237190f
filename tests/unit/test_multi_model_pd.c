/* tests/unit/test_multi_model_pd.c: several models and LoRA adapters with
 * prefill/decode disaggregation (models/serving/serving_models_pd.c, the
 * model-aware hand-off in serving_pd.c), through the clustersim program
 * and the compute core, against answers known without the simulation:
 * two requests of two models on one prefill and one decode replica, each
 * side swapping weights, every time written out (swaps, steps,
 * transfers, the KV bytes of each model); conservation and Little's law
 * under load with swaps on both sides, LoRA and clients' time-outs, and
 * the KV moved equal to each model's bytes per token x prompt x its
 * completed requests; LoRA adapters loaded on both sides, each once; a
 * model's prefilled requests waiting behind none of another model's. The
 * bad combinations are tests/badconfig/pd_models_*.cfg. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cattest.h"
#include "clitest.h"
#include "models/interconnect/net.h"
#include "models/llm/llm_step.h"
#include "sim/time.h"
#include "testutil.h"

#define RUN_CFG(dir, cfg, out, ...) \
  cs_run_summary(__FILE__, __LINE__, (dir), (cfg), (out), (const char *const[]){__VA_ARGS__, NULL})
#define SNUM(json, key) cs_summary_num(__FILE__, __LINE__, (json), (key))
#define CHECK_REL CS_CHECK_REL

static const char *const names[3] = {"llama3.1-8b", "qwen3-8b", "mistral-7b"};

enum { P = 512, O = 16 };

/* ---- 1. by hand: two models, two roles, two requests ---- */

static sim_time step_ns(const llm_replica *r, const llm_batch *b)
{
  llm_step_cost c;
  llm_step(r, b, &c);
  return sim_time_from_s(c.total_s);
}

/* Model m on one H100 at bf16, as a continuous-batching replica with a
 * 0.5 ms step overhead. */
static void replica(const char *m, llm_replica *r)
{
  llm_replica_init(r, cs_model(m), cs_gpu("h100"), GPU_BF16, 1, 1, NULL, NULL, 0.0005);
}

static sim_time prefill_ns(const llm_replica *r)
{
  llm_batch b = {0};
  llm_batch_add_prefill(&b, 0, P, true);
  return step_ns(r, &b);
}

/* The O - 1 decode steps of a lone request: token k (2..O) at context P + k - 1. */
static sim_time decodes_ns(const llm_replica *r)
{
  sim_time t = 0;
  for (int k = 2; k <= O; k++) {
    llm_batch b = {0};
    llm_batch_add_decode(&b, 1, P + k - 1);
    t += step_ns(r, &b);
  }
  return t;
}

/* One swap to model m at 10 GB/s: its weights' bytes on the GPU / 1e10. */
static sim_time swap_ns(const char *m)
{
  llm_replica r;
  llm_replica_init(&r, cs_model(m), cs_gpu("h100"), GPU_BF16, 1, 1, NULL, NULL, 0);
  llm_memory mem;
  llm_memory_need(&r, 0, 1, 1, &mem);
  return sim_time_from_s(mem.weights / 10e9);
}

/* One prefill and one decode replica, each listing Llama 3.1 8B (A) and
 * Qwen3 8B (B); each starts with A (one replica, equal demand: the model
 * named first). A request of A at 10 s, one of B at 100 s: far apart. */
static const char hand_cfg[] =
  "name = \"hand\";\nseed = 1;\n"
  "model = { name = \"llama3.1-8b\"; precision = \"bf16\"; };\n"
  "cluster = {\n"
  "  pools = ( { gpu = \"h100\"; replicas = 1; role = \"prefill\"; models = [\"llama3.1-8b\", \"qwen3-8b\"]; },\n"
  "            { gpu = \"h100\"; replicas = 1; role = \"decode\"; models = [\"llama3.1-8b\", \"qwen3-8b\"]; } );\n"
  "  kv_transfer_link = \"ib-ndr\";\n"
  "  weight_swap = { policy = \"lru\"; load_gbs = 10.0; };\n"
  "};\n"
  "workload = { classes = (\n"
  "  { name = \"a\"; model = \"llama3.1-8b\"; trace = { file = \"one.csv\"; time_column = \"time\"; "
  "prompt_column = \"prompt\"; output_column = \"output\"; offset_s = 10.0; }; },\n"
  "  { name = \"b\"; model = \"qwen3-8b\"; trace = { file = \"one.csv\"; time_column = \"time\"; "
  "prompt_column = \"prompt\"; output_column = \"output\"; offset_s = 100.0; }; }\n"
  "); };\n"
  "scheduler = { policy = \"continuous\"; step_overhead_s = 0.0005; };\n";

static void test_by_hand(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("mmpd_hand");
  char row[64];
  snprintf(row, sizeof row, "time,prompt,output\n0.0,%d,%d\n", P, O);
  free(cs_write_file(dir, "one.csv", row));
  char *cfg = cs_write_file(dir, "hand.cfg", hand_cfg);
  /* KV a token in bf16, by hand: layers x (K and V) x KV heads x head dim x 2 bytes.
   * Llama 3.1 8B: 32 x 2 x 8 x 128 x 2 = 131,072; Qwen3 8B: 36 x 2 x 8 x 128 x 2 = 147,456. */
  const double kv_a = 32.0 * 2 * 8 * 128 * 2, kv_b = 36.0 * 2 * 8 * 128 * 2;
  CHECK_REL(llm_kv_bytes_per_token(cs_model(names[0]), 2), kv_a, 1e-15, "Llama 3.1 8B's KV a token");
  CHECK_REL(llm_kv_bytes_per_token(cs_model(names[1]), 2), kv_b, 1e-15, "Qwen3 8B's KV a token");
  /* ib-ndr: 47 GB/s, 2 us; each side one GPU: the whole prompt's KV */
  sim_time xa = sim_time_from_s(2e-6 + kv_a * P / 47e9), xb = sim_time_from_s(2e-6 + kv_b * P / 47e9);
  llm_replica ra, rb;
  replica(names[0], &ra);
  replica(names[1], &rb);
  sim_time pa = prefill_ns(&ra), pb = prefill_ns(&rb), da = decodes_ns(&ra), db = decodes_ns(&rb);
  sim_time sb = swap_ns(names[1]);
  char *js = RUN_CFG(dir, "hand.cfg", "out", NULL);
  if (js) {
    /* A: prefill, transfer, decodes: both sides hold A. B: the prefill
     * replica loads B, prefills; the decode replica holds A, none holds B:
     * it is claimed for B and loads it (the KV waits on the prefill side
     * meanwhile); then the transfer and the decodes. */
    double ttft_a = sim_time_to_s(pa), e2e_a = sim_time_to_s(pa + xa + da);
    double ttft_b = sim_time_to_s(sb + pb), e2e_b = sim_time_to_s(sb + pb + sb + xb + db);
    printf("\n    A: prefill %.6f, transfer %.6f, decodes %.6f; B: swap %.6f, prefill %.6f, swap %.6f, "
           "transfer %.6f, decodes %.6f (s)", sim_time_to_s(pa), sim_time_to_s(xa), sim_time_to_s(da),
           sim_time_to_s(sb), sim_time_to_s(pb), sim_time_to_s(sb), sim_time_to_s(xb), sim_time_to_s(db));
    CHECK(SNUM(js, "requests_completed") == 2 && SNUM(js, "kv_transfers") == 2, "not both completed and moved");
    CHECK_REL(SNUM(js, "model0_ttft_p99_s"), ttft_a, 1e-9, "A's TTFT");
    CHECK_REL(SNUM(js, "model0_e2e_p99_s"), e2e_a, 1e-9, "A's end-to-end");
    CHECK_REL(SNUM(js, "model1_ttft_p99_s"), ttft_b, 1e-9, "B's TTFT: a swap, then its prefill");
    CHECK_REL(SNUM(js, "model1_e2e_p99_s"), e2e_b, 1e-9, "B's end-to-end: a swap on each side");
    CHECK(SNUM(js, "weight_swaps") == 2, "weight_swaps %g, by hand 2 (B on each side)", SNUM(js, "weight_swaps"));
    CHECK(SNUM(js, "model1_weight_swaps_in") == 2 && SNUM(js, "model0_weight_swaps_in") == 0,
          "swaps in: A %g, B %g (by hand 0 and 2)", SNUM(js, "model0_weight_swaps_in"),
          SNUM(js, "model1_weight_swaps_in"));
    CHECK_REL(SNUM(js, "weight_swap_time_s"), 2 * sim_time_to_s(sb), 1e-9, "replica-seconds loading");
    /* the KV moved: each model's own bytes a token x the prompt */
    CHECK_REL(SNUM(js, "kv_transfer_gb"), (kv_a + kv_b) * P / 1e9, 1e-12, "KV moved");
    CHECK_REL(SNUM(js, "kv_transfer_time_mean_s"), sim_time_to_s(xa + xb) / 2, 1e-9, "transfer time");
    /* A waited for nothing, B for the decode replica's swap */
    CHECK_REL(SNUM(js, "kv_transfer_wait_mean_s"), sim_time_to_s(sb) / 2, 1e-9, "wait for a decode holder");
    free(js);
  }
  /* dedicated pools, one per model and role: no swap, each request its
   * own model's prefill, transfer and decodes */
  char ded_cfg[4096];
  const char *two = "[\"llama3.1-8b\", \"qwen3-8b\"]; } );";
  const char *at = strstr(hand_cfg, "  pools = ");
  const char *after = strstr(hand_cfg, two) + strlen(two);
  snprintf(ded_cfg, sizeof ded_cfg, "%.*s%s%s", (int)(at - hand_cfg), hand_cfg,
           "  pools = ( { gpu = \"h100\"; replicas = 1; role = \"prefill\"; models = [\"llama3.1-8b\"]; },\n"
           "            { gpu = \"h100\"; replicas = 1; role = \"decode\"; models = [\"llama3.1-8b\"]; },\n"
           "            { gpu = \"h100\"; replicas = 1; role = \"prefill\"; models = [\"qwen3-8b\"]; },\n"
           "            { gpu = \"h100\"; replicas = 1; role = \"decode\"; models = [\"qwen3-8b\"]; } );",
           after);
  free(cs_write_file(dir, "ded.cfg", ded_cfg));
  char *ded = RUN_CFG(dir, "ded.cfg", "ded", NULL);
  if (ded) {
    CHECK(SNUM(ded, "weight_swaps") == 0, "dedicated pools swapped %g times", SNUM(ded, "weight_swaps"));
    CHECK_REL(SNUM(ded, "model0_e2e_p99_s"), sim_time_to_s(pa + xa + da), 1e-9, "dedicated: A's end-to-end");
    CHECK_REL(SNUM(ded, "model1_e2e_p99_s"), sim_time_to_s(pb + xb + db), 1e-9, "dedicated: B's end-to-end");
    CHECK_REL(SNUM(ded, "kv_transfer_gb"), (kv_a + kv_b) * P / 1e9, 1e-12, "dedicated: KV moved");
    free(ded);
  }
  printf("\n");
  free(cfg);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* ---- 2. nothing lost across the transfers and the swaps ---- */

/* Three models on two prefill and two decode replicas, each listing all
 * three: swaps on both sides, queues, back-pressure; class a with four
 * LoRA adapters and one slot per decode replica. */
static const char load_fmt[] =
  "name = \"load\";\nseed = 2;\n"
  "model = { name = \"llama3.1-8b\"; precision = \"bf16\"; };\n"
  "cluster = {\n"
  "  pools = ( { gpu = \"h100\"; replicas = 2; role = \"prefill\"; models = [\"llama3.1-8b\", \"qwen3-8b\", \"mistral-7b\"]; },\n"
  "            { gpu = \"h100\"; replicas = 2; role = \"decode\"; max_loras = 1; "
  "models = [\"llama3.1-8b\", \"qwen3-8b\", \"mistral-7b\"]; } );\n"
  "  kv_transfer_link = \"ib-ndr\";\n"
  "  weight_swap = { policy = \"lru\"; load_gbs = 10.0; };\n"
  "};\n"
  "workload = { classes = (\n"
  "  { name = \"a\"; model = \"llama3.1-8b\"; arrivals = { rate = 6.0; }; %s "
  "output_tokens = { dist = \"uniform\"; min = 10; max = 400; }; lora = { adapters = 4; rank = 16; zipf = 0.0; }; %s },\n"
  "  { name = \"b\"; model = \"qwen3-8b\"; arrivals = { rate = 3.0; }; %s "
  "output_tokens = { dist = \"uniform\"; min = 10; max = 400; }; %s },\n"
  "  { name = \"c\"; model = \"mistral-7b\"; arrivals = { rate = 1.0; }; %s "
  "output_tokens = { dist = \"uniform\"; min = 10; max = 400; }; %s }\n"
  "); %s };\n"
  "scheduler = { stack = \"vllm-v1\"; };\n";

static void check_conserved(const char *js, const char *what)
{
  double a = SNUM(js, "requests_arrived"), c = SNUM(js, "requests_completed"), r = SNUM(js, "requests_rejected");
  double mc = 0, mr = 0;
  for (int m = 0; m < 3; m++) {
    char key[64];
    snprintf(key, sizeof key, "model%d_completed", m);
    mc += SNUM(js, key);
    snprintf(key, sizeof key, "model%d_rejected", m);
    mr += SNUM(js, key);
  }
  CHECK(a > 500 && a == c + r && SNUM(js, "requests_in_flight") == 0,
        "%s: %g arrived, %g completed, %g rejected, %g in flight", what, a, c, r, SNUM(js, "requests_in_flight"));
  CHECK(mc == c && mr == r, "%s: per model %g + %g against %g + %g", what, mc, mr, c, r);
  double L = SNUM(js, "requests_in_system_mean"), lam = SNUM(js, "arrival_rate_per_s");
  CHECK_REL(L, lam * SNUM(js, "time_in_system_mean_s"), 1e-9, what);
  CHECK(SNUM(js, "weight_swaps") > 0, "%s: never swapped", what);
  printf("\n    %s: %g arrived, %g completed, %g timed out; %g swaps, %g transfers, %g LoRA loads", what, a, c,
         SNUM(js, "requests_timed_out"), SNUM(js, "weight_swaps"), SNUM(js, "kv_transfers"), SNUM(js, "lora_loads"));
}

static void test_conservation(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("mmpd_load");
  char text[8192];
  /* clients giving up after 30 s, prompts of 100..2,000 tokens, 300 s */
  const char *sizes = "prompt_tokens = { dist = \"uniform\"; min = 100; max = 2000; };", *to = "timeout_s = 30.0;";
  snprintf(text, sizeof text, load_fmt, sizes, to, sizes, to, sizes, to, "duration_s = 300.0;");
  char *cfg = cs_write_file(dir, "load.cfg", text);
  const char *pols[] = {"lru", "popularity"};
  for (int k = 0; k < 2; k++) {
    char set[96], out[16];
    snprintf(set, sizeof set, "cluster.weight_swap.policy=\"%s\"", pols[k]);
    snprintf(out, sizeof out, "o%d", k);
    char *js = RUN_CFG(dir, "load.cfg", out, "--set", set);
    if (!js) continue;
    check_conserved(js, pols[k]);
    CHECK(SNUM(js, "requests_timed_out") > 0, "%s: no client gave up: the load does not test time-outs", pols[k]);
    free(js);
  }
  free(cfg);
  /* no time-outs, 1,024-token prompts: every request crosses once, with
   * its own model's KV (bytes a token in bf16: Llama 3.1 8B and Mistral
   * 7B 32 x 2 x 8 x 128 x 2, Qwen3 8B 36 x 2 x 8 x 128 x 2) */
  const char *fixed = "prompt_tokens = { dist = \"fixed\"; value = 1024; };";
  snprintf(text, sizeof text, load_fmt, fixed, "", fixed, "", fixed, "", "requests = 600;");
  cfg = cs_write_file(dir, "fixed.cfg", text);
  char *js = RUN_CFG(dir, "fixed.cfg", "fixed", NULL);
  if (js) {
    check_conserved(js, "no time-outs");
    double c = SNUM(js, "requests_completed");
    CHECK(c == 600 && SNUM(js, "kv_transfers") == c, "%g completed, %g transfers (expected 600 each)", c,
          SNUM(js, "kv_transfers"));
    const double kv[3] = {32.0 * 2 * 8 * 128 * 2, 36.0 * 2 * 8 * 128 * 2, 32.0 * 2 * 8 * 128 * 2};
    double want = 0;
    for (int m = 0; m < 3; m++) {
      char key[64];
      snprintf(key, sizeof key, "model%d_completed", m);
      CHECK_REL(llm_kv_bytes_per_token(cs_model(names[m]), 2), kv[m], 1e-15, names[m]);
      want += SNUM(js, key) * kv[m] * 1024;
    }
    CHECK_REL(SNUM(js, "kv_transfer_gb"), want / 1e9, 1e-12, "KV moved: each model's bytes");
    free(js);
  }
  printf("\n");
  free(cfg);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* ---- 3. LoRA: the adapter on both sides ---- */

/* Requests 10 s apart, each alone; two adapters of rank 16 drawn
 * uniformly. */
static const char lora_fmt[] =
  "name = \"lora\";\nseed = 5;\n"
  "model = { name = \"llama3.1-8b\"; precision = \"bf16\"; };\n"
  "cluster = {\n"
  "  pools = ( %s );\n"
  "};\n"
  "workload = {\n"
  "  arrivals = { process = \"gamma\"; cv = 0.01; rate = 0.1; };\n"
  "  prompt_tokens = { dist = \"fixed\"; value = 512; };\n"
  "  output_tokens = { dist = \"fixed\"; value = 16; };\n"
  "  lora = { adapters = 2; rank = 16; zipf = 0.0; };\n"
  "  requests = 20;\n"
  "};\n"
  "scheduler = { policy = \"continuous\"; step_overhead_s = 0.0005; };\n";

static void test_lora_both_sides(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("mmpd_lora");
  char text[4096];
  snprintf(text, sizeof text, lora_fmt,
           "{ gpu = \"h100\"; replicas = 1; role = \"prefill\"; max_loras = 2; },\n"
           "            { gpu = \"h100\"; replicas = 1; role = \"decode\"; max_loras = 2; }");
  char *cfg = cs_write_file(dir, "lora.cfg", text);
  snprintf(text, sizeof text, lora_fmt, "{ gpu = \"h100\"; replicas = 1; max_loras = 1; }");
  free(cs_write_file(dir, "co.cfg", text));
  /* one adapter of Llama 3.1 8B at rank 16, bf16, all linear layers, by
   * hand: per layer q (4096 + 4096), k and v (4096 + 1024 each), o (4096 +
   * 4096), gate, up, down (4096 + 14336 each) = 81,920; x 32 layers x 16 x
   * 2 bytes = 83,886,080 bytes, over the H100's host link */
  const double bytes = 81920.0 * 32 * 16 * 2;
  double load_s = net_p2p_s(cs_gpu("h100")->host_link, bytes);
  char *js = RUN_CFG(dir, "lora.cfg", "pd", NULL);
  if (js) {
    /* both adapters drawn in 20 requests; two slots a side: each side
     * loads each adapter once */
    CHECK(SNUM(js, "requests_completed") == 20, "completed %g of 20", SNUM(js, "requests_completed"));
    CHECK(SNUM(js, "lora_loads") == 4, "lora_loads %g, by hand 4 (2 adapters x 2 sides)", SNUM(js, "lora_loads"));
    CHECK_REL(SNUM(js, "lora_load_time_s"), 4 * load_s, 1e-9, "step time loading adapters");
    free(js);
  }
  /* one slot a side: a side loads whenever the adapter changes; both see
   * the same sequence as one colocated replica does: twice its loads */
  char *pd = RUN_CFG(dir, "lora.cfg", "pd1", "--set", "cluster.pools.[0].max_loras=1", "--set",
                     "cluster.pools.[1].max_loras=1");
  char *co = RUN_CFG(dir, "co.cfg", "co1", NULL);
  if (pd && co) {
    double n = SNUM(co, "lora_loads");
    printf("\n    one slot: colocated %g loads, disaggregated %g", n, SNUM(pd, "lora_loads"));
    CHECK(n > 2 && n <= 20, "colocated loads %g: the adapters should change now and then", n);
    CHECK(SNUM(pd, "lora_loads") == 2 * n, "disaggregated loads %g, twice the colocated %g", SNUM(pd, "lora_loads"), n);
    CHECK_REL(SNUM(pd, "lora_load_time_s"), 2 * n * load_s, 1e-9, "one slot: step time loading adapters");
  }
  free(pd);
  free(co);
  printf("\n");
  free(cfg);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* ---- 4. a model's line does not wait behind another's ---- */

/* Dedicated pools per model and role; A's decode replica holds 256
 * blocks of 16 tokens (two of A's requests at most): A's prefilled
 * requests queue for it. B's decode replica has room: B's requests wait
 * behind no A request, so B's latencies are exactly those of the same
 * fleet without class a (its arrivals and sizes are its own streams). */
static const char hol_fmt[] =
  "name = \"hol\";\nseed = 4;\n"
  "model = { name = \"llama3.1-8b\"; precision = \"bf16\"; max_context = 2048; };\n"
  "cluster = {\n"
  "  pools = ( { gpu = \"h100\"; replicas = 1; role = \"prefill\"; models = [\"llama3.1-8b\"]; },\n"
  "            { gpu = \"h100\"; replicas = 1; role = \"decode\"; models = [\"llama3.1-8b\"]; num_gpu_blocks = 256; },\n"
  "            { gpu = \"h100\"; replicas = 1; role = \"prefill\"; models = [\"qwen3-8b\"]; },\n"
  "            { gpu = \"h100\"; replicas = 1; role = \"decode\"; models = [\"qwen3-8b\"]; } );\n"
  "  kv_transfer_link = \"ib-ndr\";\n"
  "};\n"
  "workload = { classes = (\n%s"
  "  { name = \"b\"; model = \"qwen3-8b\"; arrivals = { rate = 2.0; }; prompt_tokens = { dist = \"fixed\"; value = 1024; };"
  " output_tokens = { dist = \"uniform\"; min = 64; max = 512; }; }\n"
  "); duration_s = 200.0; };\n"
  "scheduler = { policy = \"continuous\"; step_overhead_s = 0.0005; };\n";

static void test_no_head_of_line(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("mmpd_hol");
  char text[8192];
  snprintf(text, sizeof text, hol_fmt,
           "  { name = \"a\"; model = \"llama3.1-8b\"; arrivals = { rate = 4.0; }; prompt_tokens = { dist = \"fixed\"; "
           "value = 1024; }; output_tokens = { dist = \"uniform\"; min = 64; max = 512; }; },\n");
  free(cs_write_file(dir, "both.cfg", text));
  snprintf(text, sizeof text, hol_fmt, "");
  free(cs_write_file(dir, "alone.cfg", text));
  char *both = RUN_CFG(dir, "both.cfg", "both", NULL), *alone = RUN_CFG(dir, "alone.cfg", "alone", NULL);
  if (both && alone) {
    /* A queues: its waits for a decode replica are long */
    CHECK(SNUM(both, "kv_transfer_wait_p99_s") > 1, "wait p99 %g s: A's decode side is not full",
          SNUM(both, "kv_transfer_wait_p99_s"));
    static const char *const keys[] = {"completed", "ttft_p99_s", "tpot_p99_s", "e2e_p99_s"};
    for (int k = 0; k < 4; k++) {
      char key[64];
      snprintf(key, sizeof key, "model1_%s", keys[k]);
      /* alone, qwen3-8b is model 1 too: llama3.1-8b (model.name) is model 0 */
      double b = SNUM(both, key), want = SNUM(alone, key);
      CHECK(b == want, "%s: %.12g with A, %.12g without", key, b, want);
    }
    printf("\n    B's e2e p99 %.6f s with A queueing (A's wait p99 %.3f s)", SNUM(both, "model1_e2e_p99_s"),
           SNUM(both, "kv_transfer_wait_p99_s"));
  }
  free(both);
  free(alone);
  printf("\n");
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* One decode replica, two models, requests of both waiting for it: the
 * replica is claimed for one model at a time and serves it before it is
 * claimed again. (When each waiting model could claim it back, it swapped
 * for ever: 15 of 2,723 requests done after 8.5e6 simulated s.) Every
 * request completes, the run ends soon after the last arrival, and the
 * swaps stay a few per model change of the line, not millions. */
static void test_one_decode_two_models(void)
{
  unsigned failures = CU_get_number_of_failures();
  char *dir = cs_tmpdir("mmpd_one_decode");
  static const char text[] =
      "name = \"one-decode\";\nseed = 1;\nwarmup_s = 0.0;\n"
      "model = { name = \"llama3.1-8b\"; precision = \"bf16\"; };\n"
      "cluster = { pools = (\n"
      "  { gpu = \"h100\"; replicas = 2; role = \"prefill\"; models = [\"llama3.1-8b\", \"qwen3-8b\"]; },\n"
      "  { gpu = \"h100\"; replicas = 1; role = \"decode\"; models = [\"llama3.1-8b\", \"qwen3-8b\"]; } );\n"
      "  weight_swap = { policy = \"lru\"; }; };\n"
      "workload = { classes = (\n"
      "  { name = \"a\"; model = \"llama3.1-8b\"; arrivals = { rate = 8.0; };\n"
      "    prompt_tokens = { dist = \"lognormal\"; mean = 800.0; cv = 1.0; };\n"
      "    output_tokens = { dist = \"lognormal\"; mean = 300.0; cv = 1.0; }; },\n"
      "  { name = \"b\"; model = \"qwen3-8b\"; arrivals = { rate = 1.0; };\n"
      "    prompt_tokens = { dist = \"lognormal\"; mean = 800.0; cv = 1.0; };\n"
      "    output_tokens = { dist = \"lognormal\"; mean = 300.0; cv = 1.0; }; } );\n"
      "  duration_s = 300.0; };\n"
      "scheduler = { policy = \"continuous\"; };\n";
  char *cfg = cs_write_file(dir, "one.cfg", text);
  char *js = RUN_CFG(dir, "one.cfg", "out", "--set", "horizon_s=3000.0");
  CU_ASSERT_PTR_NOT_NULL(js);
  if (js) {
    double arrived = SNUM(js, "requests_arrived"), done = SNUM(js, "requests_completed");
    CHECK(arrived > 2000 && done == arrived, "%g of %g completed", done, arrived);
    CHECK(SNUM(js, "model1_completed") > 0, "qwen3-8b completed %g", SNUM(js, "model1_completed"));
    CHECK(SNUM(js, "weight_swaps") < arrived, "%g swaps for %g requests", SNUM(js, "weight_swaps"), arrived);
    free(js);
  }
  free(cfg);
  cs_cleanup_if_passed(dir, failures);
  free(dir);
}

int main(int argc, char **argv)
{
  static const cs_test tests[] = {
    {"by_hand", test_by_hand},
    {"conservation", test_conservation},
    {"lora_both_sides", test_lora_both_sides},
    {"no_head_of_line", test_no_head_of_line},
    {"one_decode_two_models", test_one_decode_two_models},
    {NULL, NULL},
  };
  int rc = cs_run_suite_filtered("multi_model_pd", tests, argc, argv);
  cs_catalogs_free();
  return rc;
}
