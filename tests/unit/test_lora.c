/* tests/unit/test_lora.c: LoRA adapters in the serving simulation
 * (models/serving/serving_lora.c, the scheduler's admission), through the
 * clustersim program: an adapter's bytes written out by hand and its one
 * load over the host link; the batch's distinct adapters bounded by
 * max_loras and reaching it; conservation and Little's law under load
 * with time-outs and one slot; more distinct adapters in a batch cost
 * more per token; a class without adapters keeps its summary; static and
 * dynamic batches bounded by max_loras; the prefix cache's blocks keyed by
 * adapter (saved tokens by hand), with and without a host tier. The keys'
 * bad values are tests/badconfig/lora_*.cfg. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cattest.h"
#include "clitest.h"
#include "models/interconnect/net.h"
#include "testutil.h"

#define RUN_CFG(dir, cfg, out, ...) \
  cs_run_summary(__FILE__, __LINE__, (dir), (cfg), (out), (const char *const[]){__VA_ARGS__, NULL})
#define SNUM(json, key) cs_summary_num(__FILE__, __LINE__, (json), (key))
#define CHECK_REL CS_CHECK_REL

#define A100 "a100-80gb-sxm"

/* Llama 2 7B on one A100, requests `rate` per second for 600 s. */
static const char base_cfg[] =
  "name = \"lora\";\nseed = 5;\n"
  "model = { name = \"llama2-7b\"; precision = \"fp16\"; };\n"
  "cluster = { pools = ( { gpu = \"" A100 "\"; replicas = 1; max_loras = 4; } ); };\n"
  "workload = {\n"
  "  arrivals = { rate = 2.0; };\n"
  "  prompt_tokens = { dist = \"lognormal\"; mean = 600.0; cv = 1.0; };\n"
  "  output_tokens = { dist = \"lognormal\"; mean = 150.0; cv = 1.0; }; truncate = true;\n"
  "  lora = { adapters = 1; rank = 16; zipf = 1.0; };\n"
  "  timeout_s = 20.0;\n"
  "  duration_s = 600.0;\n"
  "};\n"
  "scheduler = { policy = \"continuous\"; };\n";

/* One adapter of rank 16 on Llama 2 7B (hidden 4096, 32 heads of 128 with
 * as many KV heads, gated MLP of 11008, 32 layers), fp16: per layer,
 * q (4096 + 4096), k and v (4096 + 4096 each), o (4096 + 4096), gate and
 * up (4096 + 11008 each), down (11008 + 4096): 78,080; x 16 x 32 x 2 B. */
static double adapter_bytes(void)
{
  double dims = 4 * (4096.0 + 4096.0) + 3 * (4096.0 + 11008.0);
  CU_ASSERT_EQUAL(dims, 78080.0);
  return 16 * dims * 32 * 2;
}

static void test_one_adapter(void)
{
  unsigned failures = CU_get_number_of_failures();
  char *dir = cs_tmpdir("lora_one");
  free(cs_write_file(dir, "lora.cfg", base_cfg));
  char *js = RUN_CFG(dir, "lora.cfg", "o", NULL);
  if (js) {
    /* one adapter: loaded once, over the A100's PCIe 4 host link */
    CHECK(SNUM(js, "lora_loads") == 1, "lora_loads %g, expected 1", SNUM(js, "lora_loads"));
    double want = net_p2p_s(cs_gpu(A100)->host_link, adapter_bytes());
    CHECK_REL(SNUM(js, "lora_load_time_s"), want, 1e-12, "one load over the host link");
    CHECK(SNUM(js, "lora_batch_adapters_max") == 1, "adapters in a batch %g", SNUM(js, "lora_batch_adapters_max"));
    CHECK(SNUM(js, "lora_adapters") == 1, "lora_adapters %g", SNUM(js, "lora_adapters"));
    double f = SNUM(js, "lora_time_fraction");
    CHECK(f > 0 && f < 0.05, "one rank-16 adapter takes %g of the step time (expected a few per cent at most)", f);
    free(js);
  }
  cs_cleanup_if_passed(dir, failures);
  free(dir);
}

static void test_slots_and_cost(void)
{
  unsigned failures = CU_get_number_of_failures();
  char *dir = cs_tmpdir("lora_slots");
  free(cs_write_file(dir, "lora.cfg", base_cfg));
  /* one adapter of rank 1, one of rank 16, and 64 of rank 16 drawn
   * uniformly with 64 slots: the same arrivals and sizes (their own
   * streams), so the time per output token orders as the adapter bytes
   * read per step */
  char *none = RUN_CFG(dir, "lora.cfg", "none", "--set", "workload.lora.adapters=1", "--set",
                       "workload.lora.rank=1");
  char *one = RUN_CFG(dir, "lora.cfg", "one", NULL);
  char *many = RUN_CFG(dir, "lora.cfg", "many", "--set", "workload.lora.adapters=64", "--set",
                       "workload.lora.zipf=0.0", "--set", "cluster.pools.[0].max_loras=64");
  char *two = RUN_CFG(dir, "lora.cfg", "two", "--set", "workload.lora.adapters=10", "--set",
                      "cluster.pools.[0].max_loras=2");
  if (none && one && many && two) {
    CHECK(SNUM(none, "tpot_mean_s") < SNUM(one, "tpot_mean_s"), "rank 1 TPOT %g not under rank 16's %g",
          SNUM(none, "tpot_mean_s"), SNUM(one, "tpot_mean_s"));
    CHECK(SNUM(one, "tpot_mean_s") < SNUM(many, "tpot_mean_s"), "one adapter's TPOT %g not under 64's %g",
          SNUM(one, "tpot_mean_s"), SNUM(many, "tpot_mean_s"));
    double m = SNUM(many, "lora_batch_adapters_max");
    CHECK(m > 4 && m <= 64, "64 adapters, 64 slots: at most %g in a batch", m);
    /* 64 slots never evict: each adapter drawn is loaded once (all 64 of
     * ~1,200 uniform draws) */
    CHECK(SNUM(many, "lora_loads") == 64, "64 slots: loads %g, expected 64", SNUM(many, "lora_loads"));
    CHECK(SNUM(two, "lora_batch_adapters_max") == 2, "2 slots: %g adapters in a batch",
          SNUM(two, "lora_batch_adapters_max"));
    /* every request completes or is reported, Little's law holds */
    double arrived = SNUM(two, "requests_arrived");
    CHECK(SNUM(two, "requests_completed") + SNUM(two, "requests_rejected") == arrived,
          "2 slots: %g arrived, %g + %g", arrived, SNUM(two, "requests_completed"), SNUM(two, "requests_rejected"));
    CHECK_REL(SNUM(two, "requests_in_system_mean"),
              SNUM(two, "arrival_rate_per_s") * SNUM(two, "time_in_system_mean_s"), 1e-9, "Little, 2 slots");
  }
  free(none);
  free(one);
  free(many);
  free(two);
  cs_cleanup_if_passed(dir, failures);
  free(dir);
}

static void test_overload_one_slot(void)
{
  unsigned failures = CU_get_number_of_failures();
  char *dir = cs_tmpdir("lora_overload");
  free(cs_write_file(dir, "lora.cfg", base_cfg));
  /* 100 adapters through one slot at 6 requests/s: batches of one
   * adapter, queues, time-outs */
  char *js = RUN_CFG(dir, "lora.cfg", "o", "--set", "workload.lora.adapters=100", "--set",
                     "cluster.pools.[0].max_loras=1", "--set", "workload.arrivals.rate=6.0");
  if (js) {
    double arrived = SNUM(js, "requests_arrived"), done = SNUM(js, "requests_completed"),
           rej = SNUM(js, "requests_rejected");
    CHECK(arrived > 3000 && done + rej == arrived, "%g arrived, %g completed + %g rejected", arrived, done, rej);
    CHECK(SNUM(js, "requests_timed_out") > 0, "no client gave up under overload");
    CHECK(SNUM(js, "lora_batch_adapters_max") == 1, "one slot: %g adapters in a batch",
          SNUM(js, "lora_batch_adapters_max"));
    CHECK_REL(SNUM(js, "requests_in_system_mean"),
              SNUM(js, "arrival_rate_per_s") * SNUM(js, "time_in_system_mean_s"), 1e-9, "Little, one slot");
    free(js);
  }
  cs_cleanup_if_passed(dir, failures);
  free(dir);
}

/* ---- static and dynamic batches ---- */

/* 40 requests almost at once (1,000/s) with two adapters drawn alike,
 * batches of 8: a batch holds at most max_loras adapters (a request whose
 * adapter would exceed it waits, as under continuous batching), and
 * reaches it; nothing is lost, and Little's law holds. */
static void test_static_batches(void)
{
  unsigned failures = CU_get_number_of_failures();
  char *dir = cs_tmpdir("lora_static");
  static const char cfg[] =
    "name = \"lora-static\";\nseed = 3;\n"
    "model = { name = \"llama2-7b\"; precision = \"fp16\"; };\n"
    "cluster = { pools = ( { gpu = \"" A100 "\"; replicas = 1; max_loras = 1; } ); };\n"
    "workload = { arrivals = { rate = 1000.0; };\n"
    "  prompt_tokens = { dist = \"fixed\"; value = 200; };\n"
    "  output_tokens = { dist = \"fixed\"; value = 20; };\n"
    "  lora = { adapters = 2; rank = 16; zipf = 0.0; };\n"
    "  requests = 40; };\n"
    "scheduler = { policy = \"static\"; batch_size = 8; batch_timeout_s = 0.01; };\n";
  free(cs_write_file(dir, "s.cfg", cfg));
  const char *pols[] = {"scheduler.policy=\"static\"", "scheduler.policy=\"dynamic\""};
  for (int k = 0; k < 2; k++)
    for (int slots = 1; slots <= 2; slots++) {
      char set[64], out[16];
      snprintf(set, sizeof set, "cluster.pools.[0].max_loras=%d", slots);
      snprintf(out, sizeof out, "o%d%d", k, slots);
      char *js = RUN_CFG(dir, "s.cfg", out, "--set", pols[k], "--set", set, "--set",
                         "scheduler.max_batch_size=8");
      if (!js) continue;
      CHECK(SNUM(js, "requests_completed") == 40, "%s, %d slots: %g of 40 completed", pols[k], slots,
            SNUM(js, "requests_completed"));
      CHECK(SNUM(js, "lora_batch_adapters_max") == slots, "%s: %g adapters in a batch of %d slots", pols[k],
            SNUM(js, "lora_batch_adapters_max"), slots);
      CHECK(SNUM(js, "lora_loads") >= 2, "%s: %g loads of two adapters", pols[k], SNUM(js, "lora_loads"));
      CHECK_REL(SNUM(js, "requests_in_system_mean"),
                SNUM(js, "arrival_rate_per_s") * SNUM(js, "time_in_system_mean_s"), 1e-9, pols[k]);
      free(js);
    }
  cs_cleanup_if_passed(dir, failures);
  free(dir);
}

/* ---- the prefix cache keys blocks by adapter; its host tier ---- */

/* 20 requests 2 s apart, each a 160-token system prompt (10 blocks of 16)
 * then 40 tokens of its own, two adapters drawn alike into two slots: a
 * system prompt's KV computed under one adapter serves that adapter
 * alone, so the first request of each adapter computes it and the 18
 * others find its 10 blocks: 160 x 18 prompt tokens saved (KV shared
 * across adapters would save 160 x 19). The same with a host-memory tier
 * (nothing is evicted from the GPU, so the tier adds no hit); nothing
 * lost, Little's law. */
static void test_prefix_by_adapter(void)
{
  unsigned failures = CU_get_number_of_failures();
  char *dir = cs_tmpdir("lora_prefix");
  static const char cfg[] =
    "name = \"lora-prefix\";\nseed = 7;\n"
    "model = { name = \"llama2-7b\"; precision = \"fp16\"; };\n"
    "cluster = { pools = ( { gpu = \"" A100 "\"; replicas = 1; max_loras = 2; } ); };\n"
    "workload = { arrivals = { process = \"gamma\"; cv = 0.01; rate = 0.5; };\n"
    "  system_prompt = { tokens = 160; count = 1; };\n"
    "  prompt_tokens = { dist = \"fixed\"; value = 40; };\n"
    "  output_tokens = { dist = \"fixed\"; value = 10; };\n"
    "  lora = { adapters = 2; rank = 16; zipf = 0.0; };\n"
    "  requests = 20; };\n"
    "scheduler = { policy = \"continuous\"; block_size = 16; prefix_caching = true; };\n";
  free(cs_write_file(dir, "p.cfg", cfg));
  for (int tier = 0; tier < 2; tier++) {
    char *js = RUN_CFG(dir, "p.cfg", tier ? "host" : "gpu", "--set",
                       tier ? "scheduler.prefix_cache_host_gb=1.0" : "scheduler.prefix_cache_host_gb=0.0");
    if (!js) continue;
    CHECK(SNUM(js, "requests_completed") == 20, "%g of 20 completed", SNUM(js, "requests_completed"));
    CHECK(SNUM(js, "lora_loads") == 2, "%g loads: both adapters drawn, each loaded once", SNUM(js, "lora_loads"));
    CHECK(SNUM(js, "prefill_tokens_saved") == 160 * 18, "tier %d: %g saved, by hand 160 x 18", tier,
          SNUM(js, "prefill_tokens_saved"));
    CHECK_REL(SNUM(js, "requests_in_system_mean"),
              SNUM(js, "arrival_rate_per_s") * SNUM(js, "time_in_system_mean_s"), 1e-9, "Little");
    free(js);
  }
  cs_cleanup_if_passed(dir, failures);
  free(dir);
}

int main(int argc, char **argv)
{
  static const cs_test tests[] = {
    {"one_adapter", test_one_adapter},
    {"slots_and_cost", test_slots_and_cost},
    {"overload_one_slot", test_overload_one_slot},
    {"static_batches", test_static_batches},
    {"prefix_by_adapter", test_prefix_by_adapter},
    {NULL, NULL},
  };
  int rc = cs_run_suite_filtered("lora", tests, argc, argv);
  cs_catalogs_free();
  return rc;
}
