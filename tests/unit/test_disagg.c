/* tests/unit/test_disagg.c: prefill/decode disaggregation in the serving
 * simulation (models/serving/serving_pd.c, the scheduler's hand-off),
 * through the clustersim program and the compute core, against answers
 * known without the simulation: a lone request's TTFT, TPOT and
 * end-to-end time as the prefill step, the KV transfer over the link (its
 * size by hand) and the decode steps; a near-infinitely fast link against
 * the colocated run at light load; conservation and Little's law under
 * load with clients' time-outs, with spot interruptions of both pools, and
 * under back-pressure (a decode KV cache that holds two requests);
 * `role = "both"` (the
 * default) giving the summary of a scenario without the key. The keys' bad
 * values are tests/badconfig/serving_pd_*.cfg. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cattest.h"
#include "clitest.h"
#include "models/llm/llm_step.h"
#include "sim/time.h"
#include "testutil.h"

#define A100 "a100-80gb-sxm"
#define RUN_CFG(dir, cfg, out, ...) \
  cs_run_summary(__FILE__, __LINE__, (dir), (cfg), (out), (const char *const[]){__VA_ARGS__, NULL})
#define SNUM(json, key) cs_summary_num(__FILE__, __LINE__, (json), (key))
#define CHECK_REL CS_CHECK_REL


/* ---- 1. a lone request: prefill, transfer, decodes ---- */

/* Requests 10 s apart (gamma, cv 0.01), each done in under 2 s: each meets
 * an empty prefill replica, an empty link and an empty decode replica.
 * Llama 2 7B on A100s, one prefill replica and one decode replica. */
static const char lone_cfg[] =
  "name = \"lone\";\nseed = 3;\n"
  "model = { name = \"llama2-7b\"; precision = \"fp16\"; };\n"
  "cluster = {\n"
  "  pools = ( { gpu = \"" A100 "\"; replicas = 1; tp = 1; role = \"prefill\"; },\n"
  "            { gpu = \"" A100 "\"; replicas = 1; tp = 1; role = \"decode\"; } );\n"
  "  kv_transfer_link = \"ib-ndr\";\n"
  "};\n"
  "workload = {\n"
  "  arrivals = { process = \"gamma\"; cv = 0.01; rate = 0.1; };\n"
  "  prompt_tokens = { dist = \"fixed\"; value = 512; };\n"
  "  output_tokens = { dist = \"fixed\"; value = 128; };\n"
  "  requests = 40;\n"
  "};\n"
  "scheduler = { policy = \"continuous\"; step_overhead_s = 0.0005; };\n";

enum { P = 512, O = 128, N = 40 };

/* A step's time as the engine keeps it: rounded to the ns. */
static sim_time step_ns(const llm_replica *r, const llm_batch *b)
{
  llm_step_cost c;
  llm_step(r, b, &c);
  return sim_time_from_s(c.total_s);
}

static sim_time prefill_ns(const llm_replica *r)
{
  llm_batch b = {0};
  llm_batch_add_prefill(&b, 0, P, true);
  return step_ns(r, &b);
}

/* The O - 1 decode steps of a lone request: token k (2..O) from a decode
 * at context P + k - 1. */
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

/* The KV of a 512-token prompt of Llama 2 7B in fp16, by hand: 32 layers
 * x (K and V) x 32 KV heads x 128 dims x 2 bytes = 524,288 bytes a token,
 * 268,435,456 bytes for the prompt, all of it on the one GPU of a tp 1
 * replica on each side. ib-ndr (models/catalog/links.cfg): 50 GB/s x
 * efficiency 0.94 = 47 GB/s, latency 2 us. */
static const double KV_BYTES = 32.0 * 2 * 32 * 128 * 2 * P;

static void test_lone_request(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("disagg_lone");
  char *cfg = cs_write_file(dir, "lone.cfg", lone_cfg);
  llm_replica r;
  llm_replica_init(&r, cs_model("llama2-7b"), cs_gpu(A100), GPU_FP16, 1, 1, NULL, NULL, 0.0005);
  CHECK_REL(llm_kv_bytes_per_token(cs_model("llama2-7b"), 2) * P, KV_BYTES, 1e-15, "KV bytes of the prompt");
  const net_link *ndr = cs_link("ib-ndr");
  CHECK_REL(net_bw(ndr), 47e9, 1e-12, "ib-ndr's bandwidth");
  CHECK_REL(net_alpha_s(ndr), 2e-6, 1e-12, "ib-ndr's latency");
  double xfer = 2e-6 + KV_BYTES / 47e9;
  sim_time pre = prefill_ns(&r), dec = decodes_ns(&r), x = sim_time_from_s(xfer);
  char *sum = RUN_CFG(dir, "lone.cfg", "pd", NULL);
  CHECK(SNUM(sum, "requests_completed") == N && SNUM(sum, "kv_transfers") == N, "not all %d completed and moved", N);
  /* TTFT: the prefill on the prefill replica; then the transfer, then the
   * decodes on the decode replica */
  double ttft = sim_time_to_s(pre), e2e = sim_time_to_s(pre + x + dec);
  double tpot = sim_time_to_s(x + dec) / (O - 1);
  printf("\n    lone request: prefill %.9f s, transfer %.9f s (%.0f bytes), decodes %.9f s", ttft,
         sim_time_to_s(x), KV_BYTES, sim_time_to_s(dec));
  CHECK_REL(SNUM(sum, "ttft_mean_s"), ttft, 1e-9, "TTFT");
  CHECK_REL(SNUM(sum, "ttft_p99_s"), ttft, 1e-9, "TTFT p99");
  CHECK_REL(SNUM(sum, "e2e_mean_s"), e2e, 1e-9, "end-to-end");
  CHECK_REL(SNUM(sum, "tpot_mean_s"), tpot, 1e-9, "TPOT");
  CHECK_REL(SNUM(sum, "kv_transfer_time_mean_s"), sim_time_to_s(x), 1e-9, "transfer time");
  CHECK_REL(SNUM(sum, "kv_transfer_time_p99_s"), sim_time_to_s(x), 1e-9, "transfer time p99");
  CHECK(SNUM(sum, "kv_transfer_wait_p99_s") == 0, "a lone request waited for a decode replica");
  CHECK_REL(SNUM(sum, "kv_transfer_gb"), N * KV_BYTES / 1e9, 1e-12, "KV moved");
  free(sum);

  /* tp 2 on both sides: each GPU holds and sends half the KV over its own
   * NIC, at once: half the bytes on each transfer's critical path. The
   * steps are those of a colocated tp 2 replica, so the end-to-end time is
   * the colocated run's plus the transfer, and TTFT is its TTFT. */
  sim_time x2 = sim_time_from_s(2e-6 + KV_BYTES / 2 / 47e9);
  const char *tp2[] = {"--set", "cluster.pools.[0].tp=2", "--set", "cluster.pools.[1].tp=2"};
  sum = RUN_CFG(dir, "lone.cfg", "tp2", tp2[0], tp2[1], tp2[2], tp2[3]);
  char *co = RUN_CFG(dir, "lone.cfg", "tp2co", tp2[0], tp2[1], tp2[2], tp2[3], "--set", "cluster.pools.[0].role=\"both\"",
                     "--set", "cluster.pools.[1].role=\"both\"");
  CHECK_REL(SNUM(sum, "kv_transfer_time_mean_s"), sim_time_to_s(x2), 1e-9, "tp 2: transfer time");
  CHECK_REL(SNUM(sum, "ttft_mean_s"), SNUM(co, "ttft_mean_s"), 1e-12, "tp 2: TTFT, as colocated");
  CHECK_REL(SNUM(sum, "e2e_mean_s"), SNUM(co, "e2e_mean_s") + sim_time_to_s(x2), 1e-12, "tp 2: end-to-end");
  CHECK_REL(SNUM(sum, "kv_transfer_gb"), N * KV_BYTES / 1e9, 1e-12, "tp 2: KV moved (counted once)");
  free(sum);
  /* tp 2 prefill, tp 1 decode: the one decode GPU receives all of it; the
   * prefill a tp 2 replica's, the decodes the tp 1 ones above */
  sum = RUN_CFG(dir, "lone.cfg", "tp21", "--set", "cluster.pools.[0].tp=2");
  CHECK_REL(SNUM(sum, "kv_transfer_time_mean_s"), sim_time_to_s(x), 1e-9, "tp 2 to tp 1: transfer time");
  CHECK_REL(SNUM(sum, "ttft_mean_s"), SNUM(co, "ttft_mean_s"), 1e-12, "tp 2 to tp 1: TTFT");
  CHECK_REL(SNUM(sum, "e2e_mean_s"), SNUM(co, "ttft_mean_s") + sim_time_to_s(x + dec), 1e-9, "tp 2 to tp 1: end-to-end");
  free(sum);
  free(co);
  printf("\n");
  free(cfg);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* ---- 2. against the colocated run ---- */

/* A link of 1e6 GB/s (the catalog's highest) and no latency: a prompt's
 * 268 MB cross in 268 ns. */
static const char ideal_links[] =
  "links = ( { name = \"ideal-link\"; description = \"test: a near-infinitely fast link\"; scope = \"network\";\n"
  "            bw_gbs = 1e6; latency_us = 0.0; efficiency = 1.0; source = \"test\"; } );\n";

/* Equal pools (two A100 replicas either way). At light load (every
 * request alone) the disaggregated run makes the same prefill step and
 * the same decode steps as the colocated one, on different replicas, plus
 * the transfer: TTFT equal, end-to-end longer by exactly the transfer
 * time, TPOT by the transfer time over O - 1 tokens. Then, under load, the
 * decode replica never runs a prefill step, so the decodes of the
 * colocated run wait for others' prompts (vLLM v0's continuous policy runs
 * prompts alone) and the disaggregated ones do not: at this setting
 * (prompts of 2,048 tokens, a decode-heavy load) its TPOT is lower (the
 * direction DistServe reports; not a theorem: its decode batches are
 * larger), while its single prefill replica makes its TTFT higher. */
static void test_against_colocated(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("disagg_colo");
  char *cfg = cs_write_file(dir, "lone.cfg", lone_cfg);
  char *cat = cs_write_file(dir, "ideal.cfg", ideal_links);
  double x = sim_time_to_s(sim_time_from_s(KV_BYTES / 1e15));
  char *pd = RUN_CFG(dir, "lone.cfg", "pd", "--catalog", "ideal.cfg", "--set", "cluster.kv_transfer_link=\"ideal-link\"");
  char *co = RUN_CFG(dir, "lone.cfg", "co", "--set", "cluster.pools.[0].role=\"both\"", "--set",
                     "cluster.pools.[1].role=\"both\"");
  CHECK(!strstr(co, "kv_transfer"), "a colocated run reports kv_transfer keys");
  CHECK_REL(SNUM(pd, "kv_transfer_time_mean_s"), x, 1e-9, "transfer time over the ideal link");
  CHECK_REL(SNUM(pd, "ttft_mean_s"), SNUM(co, "ttft_mean_s"), 1e-12, "light load: TTFT, disaggregated against colocated");
  CHECK_REL(SNUM(pd, "e2e_mean_s"), SNUM(co, "e2e_mean_s") + x, 1e-12, "light load: end-to-end");
  CHECK_REL(SNUM(pd, "tpot_mean_s"), SNUM(co, "tpot_mean_s") + x / (O - 1), 1e-12, "light load: TPOT");
  free(pd);
  free(co);

  const char *load[] = {"--set", "workload.arrivals.rate=6.0", "--set", "workload.arrivals.process=\"poisson\"",
                        "--set", "workload.requests=1500", "--set", "workload.prompt_tokens.value=2048"};
  pd = RUN_CFG(dir, "lone.cfg", "pd_load", "--catalog", "ideal.cfg", "--set", "cluster.kv_transfer_link=\"ideal-link\"",
               load[0], load[1], load[2], load[3], load[4], load[5], load[6], load[7]);
  co = RUN_CFG(dir, "lone.cfg", "co_load", "--set", "cluster.pools.[0].role=\"both\"", "--set",
               "cluster.pools.[1].role=\"both\"", load[0], load[1], load[2], load[3], load[4], load[5], load[6], load[7]);
  printf("\n    2 x A100, 6 req/s, 2048 + 128 tokens: TPOT mean %.6f s disaggregated, %.6f colocated; TTFT mean "
         "%.6f, %.6f", SNUM(pd, "tpot_mean_s"), SNUM(co, "tpot_mean_s"), SNUM(pd, "ttft_mean_s"), SNUM(co, "ttft_mean_s"));
  CHECK(SNUM(pd, "requests_completed") == 1500 && SNUM(co, "requests_completed") == 1500, "not all completed");
  CHECK(SNUM(pd, "tpot_p99_s") < SNUM(co, "tpot_p99_s"), "loaded: TPOT p99 %g disaggregated, not below %g",
        SNUM(pd, "tpot_p99_s"), SNUM(co, "tpot_p99_s"));
  CHECK(SNUM(pd, "ttft_mean_s") > SNUM(co, "ttft_mean_s"), "loaded: TTFT mean %g disaggregated, not above %g",
        SNUM(pd, "ttft_mean_s"), SNUM(co, "ttft_mean_s"));
  printf("\n");
  free(pd);
  free(co);
  free(cfg);
  free(cat);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* ---- 3. nothing lost ---- */

/* L (time average of the number in the system), lambda and W of a run:
 * L = lambda W sample path by sample path, to rounding. */
static void check_little(const char *sum, const char *what)
{
  double L = SNUM(sum, "requests_in_system_mean"), lam = SNUM(sum, "arrival_rate_per_s");
  double W = SNUM(sum, "time_in_system_mean_s");
  printf("\n    Little, %s: L %.6f, lambda W %.6f", what, L, lam * W);
  CHECK(L > 2, "%s: L = %g, too light a load for the check to mean much", what, L);
  CHECK_REL(L, lam * W, 1e-9, what);
}

/* Every arrival completed or rejected, none in flight at the end (the run
 * drains), and the simulation's own conservation check passed (it aborts
 * otherwise). */
static void check_conserved(const char *sum, const char *what)
{
  double a = SNUM(sum, "requests_arrived"), c = SNUM(sum, "requests_completed"), r = SNUM(sum, "requests_rejected");
  CHECK(a == c + r && SNUM(sum, "requests_in_flight") == 0, "%s: %g arrived, %g completed, %g rejected, %g in flight",
        what, a, c, r, SNUM(sum, "requests_in_flight"));
}

/* Two prefill replicas and one decode replica whose KV cache holds 4,096
 * tokens (256 blocks of 16, 2 kept free by the 1% watermark): two
 * requests of 1,024 + 512 tokens (96 blocks each) and the prompt of a
 * third (65 blocks) at most, for 4 requests a second of ~290 output
 * tokens: overloaded on the decode side. Prefilled requests wait holding
 * their blocks on the prefill side. (Every pool must hold a request of
 * the context, 2,048 tokens, so a prompt no decode replica can take
 * cannot be configured; serving_pd.c turns one away all the same.) */
static const char tight_cfg[] =
  "name = \"tight\";\nseed = 11;\n"
  "model = { name = \"llama2-7b\"; precision = \"fp16\"; max_context = 2048; };\n"
  "cluster = {\n"
  "  pools = ( { gpu = \"" A100 "\"; replicas = 2; role = \"prefill\"; },\n"
  "            { gpu = \"" A100 "\"; replicas = 1; role = \"decode\"; num_gpu_blocks = 256; } );\n"
  "};\n"
  "workload = {\n"
  "  arrivals = { process = \"poisson\"; rate = 4.0; };\n"
  "  prompt_tokens = { dist = \"fixed\"; value = 1024; };\n"
  "  output_tokens = { dist = \"uniform\"; min = 64; max = 512; };\n"
  "  requests = 600;\n"
  "};\n"
  "scheduler = { policy = \"continuous\"; step_overhead_s = 0.0005; };\n";

static void test_back_pressure(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("disagg_tight");
  char *cfg = cs_write_file(dir, "tight.cfg", tight_cfg);
  char *sum = RUN_CFG(dir, "tight.cfg", "bp", NULL);
  check_conserved(sum, "back-pressure");
  CHECK(SNUM(sum, "requests_rejected") == 0, "back-pressure rejected %g", SNUM(sum, "requests_rejected"));
  /* requests waited for the decode KV, holding prefill blocks meanwhile */
  double wait = SNUM(sum, "kv_transfer_wait_mean_s"), held = SNUM(sum, "pool0_kv_cache_mean_fraction");
  printf("\n    back-pressure: wait for decode KV %.3f s mean, %.3f s p99; prefill KV in use %.4f of its cache",
         wait, SNUM(sum, "kv_transfer_wait_p99_s"), held);
  CHECK(wait > 1, "a full decode cache made requests wait %g s on average", wait);
  CHECK(held > 0 && SNUM(sum, "pool1_kv_cache_mean_fraction") > 0.5, "KV in use: prefill %g, decode %g", held,
        SNUM(sum, "pool1_kv_cache_mean_fraction"));
  check_little(sum, "back-pressure");
  free(sum);

  /* time-outs: clients give up while waiting, prefilling or in transfer */
  sum = RUN_CFG(dir, "tight.cfg", "timeout", "--set", "workload.timeout_s=20.0");
  check_conserved(sum, "time-outs");
  CHECK(SNUM(sum, "requests_timed_out") > 0, "nobody timed out");
  check_little(sum, "time-outs");
  free(sum);

  printf("\n");
  free(cfg);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* Spot interruptions of two prefill and two decode replicas (10 an hour
 * each, 5 s notice, a replacement ready 211 s later) with clients that
 * give up after 60 s: requests prefilled on a replica that goes are computed again, transfers to a decode replica that goes
 * wait for another; every arrival is accounted for. */
static void test_interruptions(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("disagg_spot");
  char *cfg = cs_write_file(dir, "tight.cfg", tight_cfg);
  char *sum = RUN_CFG(dir, "tight.cfg", "spot", "--set", "cluster.pools.[0].interruptions_per_hour=10.0", "--set",
                      "cluster.pools.[1].interruptions_per_hour=10.0", "--set", "cluster.pools.[1].replicas=2", "--set",
                      "cluster.pools.[1].num_gpu_blocks=0", "--set", "cluster.pools.[0].interruption_notice_s=5.0",
                      "--set", "cluster.pools.[1].interruption_notice_s=5.0", "--set", "workload.timeout_s=60.0",
                      "--set", "workload.requests=3000");
  check_conserved(sum, "interruptions");
  double n = SNUM(sum, "spot_interruptions"), rq = SNUM(sum, "requests_requeued");
  printf("\n    interruptions: %g, %g requests computed again, %g completed, %g timed out", n, rq,
         SNUM(sum, "requests_completed"), SNUM(sum, "requests_timed_out"));
  CHECK(n >= 4 && rq > 0, "only %g interruptions, %g requests requeued", n, rq);
  CHECK(SNUM(sum, "requests_completed") > 1500 && SNUM(sum, "requests_timed_out") > 0, "%g completed, %g timed out", SNUM(sum, "requests_completed"), SNUM(sum, "requests_timed_out"));
  check_little(sum, "interruptions");
  printf("\n");
  free(sum);
  free(cfg);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* role = "both" everywhere is the colocated simulation: the same summary,
 * byte for byte, as without the key. */
static void test_both_is_default(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("disagg_both");
  char *cfg = cs_write_file(dir, "tight.cfg", tight_cfg);
  char *a = RUN_CFG(dir, "tight.cfg", "a", "--set", "cluster.pools.[0].role=\"both\"", "--set",
                    "cluster.pools.[1].role=\"both\"", "--set", "workload.requests=200");
  char *text = cs_fmt("%s", tight_cfg);
  for (char *p; (p = strstr(text, " role = \"prefill\";")) || (p = strstr(text, " role = \"decode\";"));)
    memmove(p, strchr(p, ';') + 1, strlen(strchr(p, ';') + 1) + 1);
  char *cfg2 = cs_write_file(dir, "plain.cfg", text);
  char *b = RUN_CFG(dir, "plain.cfg", "b", "--set", "workload.requests=200");
  CHECK(!strstr(text, "role"), "the plain scenario still names a role");
  /* the summaries differ only in the scenario's file name */
  char *pa = strstr(a, "\"requests_arrived\""), *pb = strstr(b, "\"requests_arrived\"");
  CHECK(pa && pb && !strcmp(pa, pb), "role \"both\" changed the summary");
  free(a);
  free(b);
  free(text);
  free(cfg);
  free(cfg2);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

int main(int argc, char **argv)
{
  static const cs_test tests[] = {
    {"lone_request", test_lone_request},
    {"against_colocated", test_against_colocated},
    {"back_pressure", test_back_pressure},
    {"interruptions", test_interruptions},
    {"both_is_default", test_both_is_default},
    {NULL, NULL},
  };
  int rc = cs_run_suite_filtered("disagg", tests, argc, argv);
  cs_catalogs_free();
  return rc;
}
