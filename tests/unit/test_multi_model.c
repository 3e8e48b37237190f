/* tests/unit/test_multi_model.c: many models on one fleet
 * (models/serving/serving_models.c), through the clustersim program and
 * the compute core: the swap count of a pool under lru against a
 * hand-simulated LRU cache of models, with the loading time from the
 * weights' bytes by hand; dedicated pools giving a model exactly the
 * latencies of a scenario with that model alone; conservation and
 * Little's law under load with time-outs for each policy; static
 * placement (no swaps, one replica per model); a spot interruption by
 * hand (parked and running requests sent on, a weight load called off,
 * the replacement's model) and conservation under frequent notices. The
 * keys' bad values are tests/badconfig/models_*.cfg. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "cattest.h"
#include "driver/plot/plot_csv.h"
#include "clitest.h"
#include "models/llm/llm_step.h"
#include "sim/rng.h"
#include "testutil.h"

#define RUN_CFG(dir, cfg, out, ...) \
  cs_run_summary(__FILE__, __LINE__, (dir), (cfg), (out), (const char *const[]){__VA_ARGS__, NULL})
#define SNUM(json, key) cs_summary_num(__FILE__, __LINE__, (json), (key))
#define CHECK_REL CS_CHECK_REL

static const char *const names[3] = {"llama3.1-8b", "qwen3-8b", "mistral-7b"};

/* ---- 1. lru against a hand-simulated cache ---- */

/* Requests 100 s apart, each done in well under a second: every request
 * meets idle replicas. Model of each, in order (0 A, 1 B, 2 C). */
static const int seq[] = {0, 1, 2, 0, 1, 0, 2, 2, 1, 0, 2, 1};
enum { NSEQ = sizeof seq / sizeof seq[0], R = 2 };

/* The reference: R slots, each holding a model and the time it was last
 * sent a request; a request for a model no slot holds takes the slot
 * least recently sent one (ties: the lower slot). Slots start as the
 * simulator places them (in proportion to demand, ties to the model named
 * first: 4 requests each, so A and B). Counts the loads of each model. */
static int lru_reference(int loads[3])
{
  int hold[R] = {0, 1}, swaps = 0;
  double used[R] = {0, 0};
  loads[0] = loads[1] = loads[2] = 0;
  for (int k = 0; k < NSEQ; k++) {
    int m = seq[k], slot = -1;
    for (int r = 0; r < R; r++)
      if (hold[r] == m) slot = r;
    if (slot < 0) {
      slot = used[1] < used[0] ? 1 : 0;
      hold[slot] = m;
      swaps++;
      loads[m]++;
    }
    used[slot] = k + 1;
  }
  return swaps;
}

/* One swap of model m on an H100 at bf16 over 10 GB/s: its weights'
 * bytes on the GPU by the compute core, / 1e10. */
static double swap_s_by_hand(const char *m)
{
  llm_replica r;
  llm_replica_init(&r, cs_model(m), cs_gpu("h100"), GPU_BF16, 1, 1, NULL, NULL, 0);
  llm_memory mem;
  llm_memory_need(&r, 0, 1, 1, &mem);
  return mem.weights / 10e9;
}

static void test_lru_hand(void)
{
  unsigned failures = CU_get_number_of_failures();
  char *dir = cs_tmpdir("multi_lru");
  char text[4096], path[3][64];
  /* one trace per model: its requests' times (numeric seconds, from its
   * first row: the class's offset_s is that row's time) */
  double first[3] = {-1, -1, -1};
  for (int m = 0; m < 3; m++) {
    size_t n = (size_t)snprintf(text, sizeof text, "time,prompt,output\n");
    for (int k = 0; k < NSEQ; k++) {
      if (seq[k] != m) continue;
      double t = 100.0 * (k + 1);
      if (first[m] < 0) first[m] = t;
      n += (size_t)snprintf(text + n, sizeof text - n, "%.1f,64,4\n", t - first[m]);
    }
    snprintf(path[m], sizeof path[m], "m%d.csv", m);
    free(cs_write_file(dir, path[m], text));
  }
  size_t n = (size_t)snprintf(text, sizeof text,
                              "name = \"lru\";\nseed = 1;\n"
                              "model = { name = \"%s\"; precision = \"bf16\"; };\n"
                              "cluster = { pools = ( { gpu = \"h100\"; replicas = %d; models = [\"%s\", \"%s\", \"%s\"]; } );\n"
                              "  weight_swap = { policy = \"lru\"; load_gbs = 10.0; }; };\n"
                              "workload = { classes = (\n",
                              names[0], R, names[0], names[1], names[2]);
  for (int m = 0; m < 3; m++)
    n += (size_t)snprintf(text + n, sizeof text - n,
                          "  { name = \"c%d\"; model = \"%s\"; trace = { file = \"%s\"; time_column = \"time\"; "
                          "prompt_column = \"prompt\"; output_column = \"output\"; offset_s = %.1f; }; }%s\n",
                          m, names[m], path[m], first[m], m < 2 ? "," : "");
  snprintf(text + n, sizeof text - n, "); };\nscheduler = { stack = \"vllm-v1\"; };\n");
  char *cfg = cs_write_file(dir, "lru.cfg", text);
  char *js = RUN_CFG(dir, "lru.cfg", "out", NULL);
  if (js) {
    int loads[3];
    int swaps = lru_reference(loads);
    /* the sequence by hand: C takes A's slot, A takes B's, B takes C's,
     * (A hits), C takes B's, (C hits), B takes A's, A takes C's, C takes
     * B's, B takes A's: 8 */
    CU_ASSERT_EQUAL(swaps, 8);
    CHECK(SNUM(js, "weight_swaps") == swaps, "weight_swaps %g, the reference %d", SNUM(js, "weight_swaps"), swaps);
    double want_s = 0;
    for (int m = 0; m < 3; m++) {
      char key[64];
      snprintf(key, sizeof key, "model%d_weight_swaps_in", m);
      CHECK(SNUM(js, key) == loads[m], "%s %g, the reference %d", key, SNUM(js, key), loads[m]);
      snprintf(key, sizeof key, "model%d_completed", m);
      CHECK(SNUM(js, key) == 4, "%s %g, expected 4", key, SNUM(js, key));
      snprintf(key, sizeof key, "model%d_name", m);
      CHECK(strstr(js, names[m]) != NULL, "summary lacks %s", names[m]);
      snprintf(key, sizeof key, "model%d_swap_s", m);
      CHECK_REL(SNUM(js, key), swap_s_by_hand(names[m]), 1e-12, key);
      want_s += loads[m] * swap_s_by_hand(names[m]);
    }
    CHECK_REL(SNUM(js, "weight_swap_time_s"), want_s, 1e-9, "replica-seconds loading");
    CHECK_REL(SNUM(js, "weight_swap_time_fraction"), want_s / (R * SNUM(js, "sim_time_s")), 1e-9,
              "share of replica time loading");
    CHECK(SNUM(js, "requests_completed") == NSEQ, "completed %g of %d", SNUM(js, "requests_completed"), NSEQ);
    /* a miss waits for its swap: the slowest first token took at least one */
    CHECK(SNUM(js, "ttft_p99_s") >= swap_s_by_hand(names[1]), "a miss's TTFT %g under a swap %g",
          SNUM(js, "ttft_p99_s"), swap_s_by_hand(names[1]));
    free(js);
  }
  free(cfg);
  cs_cleanup_if_passed(dir, failures);
  free(dir);
}

/* ---- 1b. holders routed by router.policy ---- */

/* Write and run a scenario of nm models (names4) on one pool of `reps`
 * replicas swapping under lru, whose requests come 100 s apart, the k-th
 * for model sq[k]; router: the policy. The summary, NULL on failure. */
static const char *const names4[4] = {"llama3.1-8b", "qwen3-8b", "mistral-7b", "llama3-8b"};

static char *run_sequence(const char *dir, const int *sq, int nsq, int nm, int reps, const char *router)
{
  char text[4096], path[4][64];
  double first[4] = {-1, -1, -1, -1};
  for (int m = 0; m < nm; m++) {
    size_t n = (size_t)snprintf(text, sizeof text, "time,prompt,output\n");
    for (int k = 0; k < nsq; k++) {
      if (sq[k] != m) continue;
      double t = 100.0 * (k + 1);
      if (first[m] < 0) first[m] = t;
      n += (size_t)snprintf(text + n, sizeof text - n, "%.1f,64,4\n", t - first[m]);
    }
    snprintf(path[m], sizeof path[m], "s%d.csv", m);
    free(cs_write_file(dir, path[m], text));
  }
  size_t n = (size_t)snprintf(text, sizeof text,
                              "name = \"seq\";\nseed = 1;\n"
                              "model = { name = \"%s\"; precision = \"bf16\"; };\n"
                              "cluster = { pools = ( { gpu = \"h100\"; replicas = %d; models = [",
                              names4[0], reps);
  for (int m = 0; m < nm; m++) n += (size_t)snprintf(text + n, sizeof text - n, "%s\"%s\"", m ? ", " : "", names4[m]);
  n += (size_t)snprintf(text + n, sizeof text - n,
                        "]; } );\n  weight_swap = { policy = \"lru\"; load_gbs = 10.0; }; };\n"
                        "router = { policy = \"%s\"; };\nworkload = { classes = (\n", router);
  for (int m = 0; m < nm; m++)
    n += (size_t)snprintf(text + n, sizeof text - n,
                          "  { name = \"c%d\"; model = \"%s\"; trace = { file = \"%s\"; time_column = \"time\"; "
                          "prompt_column = \"prompt\"; output_column = \"output\"; offset_s = %.1f; }; }%s\n",
                          m, names4[m], path[m], first[m], m < nm - 1 ? "," : "");
  snprintf(text + n, sizeof text - n, "); };\nscheduler = { stack = \"vllm-v1\"; };\n");
  free(cs_write_file(dir, "seq.cfg", text));
  return RUN_CFG(dir, "seq.cfg", "out", NULL);
}


/* Replicas holding the same model take turns under least-outstanding (its
 * cursor, as in a one-model pool), which changes which replica is least
 * recently used. Demand A 4/7, B, C, D 1/7 each: 3 x 4/7 = 1.71 replicas
 * for A, 0.43 for each other, so by largest remainder A, A, B. A x 4:
 * replicas 0, 1, 0, 1 (turns): replica 0 last used at 3, replica 1 at 4,
 * replica 2 never. C at 5: replica 2 (B) loads C. B at 6: none holds it;
 * replica 0 (used at 3) loads B. D at 7: replica 1 (used at 4) loads D.
 * Three swaps, one each of B, C, D. (Every A sent to replica 0, as before
 * routing followed the policy, gives two: C takes replica 1, B hits
 * replica 2, D takes replica 0.) */
static void test_holders_take_turns(void)
{
  unsigned failures = CU_get_number_of_failures();
  char *dir = cs_tmpdir("multi_turns");
  static const int sq[] = {0, 0, 0, 0, 2, 1, 3};
  char *js = run_sequence(dir, sq, 7, 4, 3, "least-outstanding");
  if (js) {
    CHECK(SNUM(js, "weight_swaps") == 3, "weight_swaps %g, by hand 3", SNUM(js, "weight_swaps"));
    const double want[4] = {0, 1, 1, 1};
    for (int m = 0; m < 4; m++) {
      char key[64];
      snprintf(key, sizeof key, "model%d_weight_swaps_in", m);
      CHECK(SNUM(js, key) == want[m], "%s %g, by hand %g", key, SNUM(js, key), want[m]);
    }
    CHECK(SNUM(js, "requests_completed") == 7, "completed %g of 7", SNUM(js, "requests_completed"));
    free(js);
  }
  cs_cleanup_if_passed(dir, failures);
  free(dir);
}

/* ---- 1c. the prefix cache's host tier in a swapping pool ---- */

/* One replica, models A and B, each request a 160-token system prompt (10
 * blocks of 16) and 64 tokens of its own, about 100 s apart (near-regular
 * arrivals, cv 0.01: A every 100 s from 70 s, B every 250 s from 214 s,
 * for 450 s): A, A, B, A, A, with a host-memory tier. Each model's cache
 * is its own and a swap empties both tiers: A's second request finds its
 * system prompt (160 tokens), B swaps in, A swaps back and its third
 * request computes the prompt again, its fourth finds it: 2 x 160 tokens
 * saved of 5 x 224; 2 swaps. */
static void test_host_tier_swaps(void)
{
  unsigned failures = CU_get_number_of_failures();
  char *dir = cs_tmpdir("multi_tier");
  static const char cfg[] =
    "name = \"tier\"; seed = 1;\n"
    "model = { name = \"llama3.1-8b\"; precision = \"bf16\"; };\n"
    "cluster = { pools = ( { gpu = \"h100\"; replicas = 1; models = [\"llama3.1-8b\", \"qwen3-8b\"]; } );\n"
    "  weight_swap = { policy = \"lru\"; load_gbs = 10.0; }; };\n"
    "workload = { classes = (\n"
    "  { name = \"a\"; model = \"llama3.1-8b\"; arrivals = { process = \"gamma\"; cv = 0.01; rate = 0.01; };\n"
    "    system_prompt = { tokens = 160; }; prompt_tokens = { dist = \"fixed\"; value = 64; };\n"
    "    output_tokens = { dist = \"fixed\"; value = 4; }; },\n"
    "  { name = \"b\"; model = \"qwen3-8b\"; arrivals = { process = \"gamma\"; cv = 0.01; rate = 0.004; };\n"
    "    system_prompt = { tokens = 160; }; prompt_tokens = { dist = \"fixed\"; value = 64; };\n"
    "    output_tokens = { dist = \"fixed\"; value = 4; }; }\n"
    "); duration_s = 450.0; };\n"
    "scheduler = { stack = \"vllm-v1\"; block_size = 16; prefix_caching = true; prefix_cache_host_gb = 4.0; };\n";
  free(cs_write_file(dir, "tier.cfg", cfg));
  char *js = RUN_CFG(dir, "tier.cfg", "out", NULL);
  if (js) {
    CHECK(SNUM(js, "model0_completed") == 4 && SNUM(js, "model1_completed") == 1, "completed %g and %g, expected 4 and 1",
          SNUM(js, "model0_completed"), SNUM(js, "model1_completed"));
    CHECK(SNUM(js, "weight_swaps") == 2, "weight_swaps %g, by hand 2", SNUM(js, "weight_swaps"));
    CHECK(SNUM(js, "prefill_tokens_saved") == 2 * 160, "saved %g, by hand 2 x 160", SNUM(js, "prefill_tokens_saved"));
    CHECK_REL(SNUM(js, "prefix_cache_hit_rate"), 2 * 160.0 / (5 * 224), 1e-12, "hit rate");
    CHECK_REL(SNUM(js, "requests_in_system_mean"),
              SNUM(js, "arrival_rate_per_s") * SNUM(js, "time_in_system_mean_s"), 1e-9, "Little");
    free(js);
  }
  cs_cleanup_if_passed(dir, failures);
  free(dir);
}

/* ---- 1d. a spot interruption by hand ---- */

/* The first seed from 1 whose spot stream ("serving.spot") at 36
 * interruptions an hour puts the first replica's notice at T in [30 s,
 * 600 s] and its replacement's (drawn at T) beyond T + 300 s: one
 * interruption in a run over by then. */
static int spot_seed(double *T)
{
  for (int seed = 1; seed < 1000; seed++) {
    gsl_rng *g = sim_rng_alloc((uint64_t)seed, "serving.spot");
    double t1 = gsl_ran_exponential(g, 100.0), d2 = gsl_ran_exponential(g, 100.0);
    gsl_rng_free(g);
    if (t1 >= 30 && t1 <= 600 && d2 > 300) {
      *T = t1;
      return seed;
    }
  }
  return -1;
}

/* One spot replica swapping A (llama3.1-8b) and B (qwen3-8b), a notice of
 * 5 s, a replacement ready D after it (start-up 10 s, the weights from
 * host memory, the warm-up: pool0_ready_delay_s), swaps at 10 GB/s;
 * request a of A at T + ta (64 tokens in, oa out), b of B at T + tb (64
 * in, 4 out). The summary and requests.csv, NULL on failure. */
static char *run_spot(const char *dir, const char *out, int seed, double T, double ta, int oa, double tb,
                      plot_csv *csv)
{
  char text[4096];
  snprintf(text, sizeof text, "time,prompt,output\n0,64,%d\n", oa);
  free(cs_write_file(dir, "a.csv", text));
  free(cs_write_file(dir, "b.csv", "time,prompt,output\n0,64,4\n"));
  snprintf(text, sizeof text,
           "name = \"spot\";\nseed = %d;\n"
           "model = { name = \"%s\"; precision = \"bf16\"; };\n"
           "cluster = { pools = ( { gpu = \"h100\"; replicas = 1; models = [\"%s\", \"%s\"];\n"
           "  interruptions_per_hour = 36.0; interruption_notice_s = 5.0; startup_s = 10.0;\n"
           "  weights_from = \"host-memory\"; } );\n"
           "  weight_swap = { policy = \"lru\"; load_gbs = 10.0; }; };\n"
           "workload = { classes = (\n"
           "  { name = \"a\"; model = \"%s\"; trace = { file = \"a.csv\"; time_column = \"time\"; "
           "prompt_column = \"prompt\"; output_column = \"output\"; offset_s = %.9f; }; },\n"
           "  { name = \"b\"; model = \"%s\"; trace = { file = \"b.csv\"; time_column = \"time\"; "
           "prompt_column = \"prompt\"; output_column = \"output\"; offset_s = %.9f; }; }\n"
           "); };\nscheduler = { stack = \"vllm-v1\"; };\noutput = { requests = true; };\n",
           seed, names[0], names[0], names[1], names[0], T + ta, names[1], T + tb);
  free(cs_write_file(dir, "spot.cfg", text));
  char *js = RUN_CFG(dir, "spot.cfg", out, NULL);
  char *path = cs_fmt("%s/%s/requests.csv", dir, out);
  if (js && !plot_csv_load(path, csv)) {
    CU_FAIL("requests.csv unreadable");
    free(js);
    js = NULL;
  }
  free(path);
  return js;
}

/* Column col of requests.csv's row of class cls (NaN if none). */
static double req_col(const plot_csv *csv, const char *cls, const char *col)
{
  int kc = plot_csv_col(csv, "class"), kv = plot_csv_col(csv, col);
  for (size_t r = 0; r < csv->rows; r++) {
    const char *c = plot_csv_at(csv, r, kc), *v = plot_csv_at(csv, r, kv);
    if (c && v && !strcmp(c, cls)) return strtod(v, NULL);
  }
  return NAN;
}

/* By hand, with D the replacement's delay:
 * (1) a (3,000 tokens out, some 20 s) at T - 10 runs on the replica
 * holding A (both models one request: the tie goes to A, named first); b
 * at T - 2 parks for a swap that waits for a. At T the notice: b goes
 * elsewhere - no replica is up, it is held; a runs on for the notice and
 * is sent away unfinished at T + 5 (held too): 2 requeued. At T + D the
 * replacement takes B (no replica holds either model; B's demand, one
 * arrival 8 s later, decays less): b runs there at once (TTFT D + 2 and
 * its prefill), then a parks behind it and the replica swaps to A: one
 * swap, A's, of swap_s(A) replica-seconds.
 * (2) b at T - 0.5 finds the replica idle holding A: it swaps to B, and
 * the notice at T calls the load off after 0.5 s of it (one swap counted,
 * 0.5 replica-seconds); b is held and runs at T + D on the replacement,
 * which takes B (a's demand is from T - 60): TTFT D + 0.5 and its prefill.
 * Both: every request completes, 1 interruption. */
static void test_spot_hand(void)
{
  unsigned failures = CU_get_number_of_failures();
  char *dir = cs_tmpdir("multi_spot");
  double T = 0;
  int seed = spot_seed(&T);
  CHECK(seed > 0, "no seed puts one interruption in [30, 600] s");
  plot_csv csv;
  char *js = seed > 0 ? run_spot(dir, "o1", seed, T, -10, 3000, -2, &csv) : NULL;
  if (js) {
    double D = SNUM(js, "pool0_ready_delay_s");
    CHECK(SNUM(js, "spot_interruptions") == 1, "%g interruptions, expected 1", SNUM(js, "spot_interruptions"));
    CHECK(SNUM(js, "requests_completed") == 2 && SNUM(js, "requests_rejected") == 0, "completed %g, rejected %g",
          SNUM(js, "requests_completed"), SNUM(js, "requests_rejected"));
    CHECK(SNUM(js, "requests_requeued") == 2, "requeued %g, by hand 2", SNUM(js, "requests_requeued"));
    CHECK(SNUM(js, "weight_swaps") == 1 && SNUM(js, "model0_weight_swaps_in") == 1, "swaps %g, of A %g; by hand 1, 1",
          SNUM(js, "weight_swaps"), SNUM(js, "model0_weight_swaps_in"));
    CHECK_REL(SNUM(js, "weight_swap_time_s"), swap_s_by_hand(names[0]), 1e-9, "one swap of A");
    double ttft_b = req_col(&csv, "b", "ttft_s");
    printf("\n    seed %d, notice at T = %.3f s, replacement ready T + %.3f s; b's TTFT %.4f s, a's e2e %.3f s", seed,
           T, D, ttft_b, req_col(&csv, "a", "e2e_s"));
    CHECK(ttft_b >= D + 2 - 1e-6 && ttft_b < D + 2 + 0.1, "b's TTFT %g, by hand %g and a prefill", ttft_b, D + 2);
    /* a: started again after b and A's load */
    double e2e_a = req_col(&csv, "a", "e2e_s");
    CHECK(e2e_a > 10 + D + swap_s_by_hand(names[0]), "a's end-to-end %g, at least %g", e2e_a,
          10 + D + swap_s_by_hand(names[0]));
    /* both served by the replacement, the second replica */
    CHECK(req_col(&csv, "a", "replica") == 1 && req_col(&csv, "b", "replica") == 1, "replicas %g and %g, by hand 1",
          req_col(&csv, "a", "replica"), req_col(&csv, "b", "replica"));
    plot_csv_release(&csv);
  }
  free(js);
  js = seed > 0 ? run_spot(dir, "o2", seed, T, -60, 4, -0.5, &csv) : NULL;
  if (js) {
    double D = SNUM(js, "pool0_ready_delay_s");
    CHECK(SNUM(js, "spot_interruptions") == 1, "%g interruptions, expected 1", SNUM(js, "spot_interruptions"));
    CHECK(SNUM(js, "requests_completed") == 2 && SNUM(js, "requests_rejected") == 0, "completed %g, rejected %g",
          SNUM(js, "requests_completed"), SNUM(js, "requests_rejected"));
    CHECK(SNUM(js, "requests_requeued") == 1, "requeued %g, by hand 1", SNUM(js, "requests_requeued"));
    CHECK(SNUM(js, "weight_swaps") == 1 && SNUM(js, "model1_weight_swaps_in") == 1, "swaps %g, of B %g; by hand 1, 1",
          SNUM(js, "weight_swaps"), SNUM(js, "model1_weight_swaps_in"));
    CHECK_REL(SNUM(js, "weight_swap_time_s"), 0.5, 1e-6, "the load called off after 0.5 s");
    double ttft_b = req_col(&csv, "b", "ttft_s");
    CHECK(ttft_b >= D + 0.5 - 1e-6 && ttft_b < D + 0.5 + 0.1, "b's TTFT %g, by hand %g and a prefill", ttft_b,
          D + 0.5);
    CHECK(req_col(&csv, "a", "replica") == 0 && req_col(&csv, "b", "replica") == 1, "replicas %g and %g, by hand 0, 1",
          req_col(&csv, "a", "replica"), req_col(&csv, "b", "replica"));
    plot_csv_release(&csv);
  }
  free(js);
  cs_cleanup_if_passed(dir, failures);
  free(dir);
}

/* ---- 2. dedicated pools: each model as if alone ---- */

static const char class_fmt[] =
  "  { name = \"%s\"; model = \"%s\"; arrivals = { rate = %s; }; timeout_s = 30.0;\n"
  "    prompt_tokens = { dist = \"lognormal\"; mean = 800.0; cv = 1.0; };\n"
  "    output_tokens = { dist = \"lognormal\"; mean = 200.0; cv = 1.0; }; truncate = true; }";

static void test_dedicated_alone(void)
{
  unsigned failures = CU_get_number_of_failures();
  char *dir = cs_tmpdir("multi_dedicated");
  char text[4096], ca[1024], cb[1024];
  snprintf(ca, sizeof ca, class_fmt, "a", names[0], "6.0");
  snprintf(cb, sizeof cb, class_fmt, "b", names[1], "3.0");
  snprintf(text, sizeof text,
           "name = \"two\";\nseed = 4;\nmodel = { name = \"%s\"; precision = \"bf16\"; };\n"
           "cluster = { pools = ( { gpu = \"h100\"; replicas = 2; models = [\"%s\"]; },\n"
           "                      { gpu = \"h100\"; replicas = 1; models = [\"%s\"]; } ); };\n"
           "workload = { classes = (\n%s,\n%s\n); duration_s = 600.0; };\n"
           "scheduler = { stack = \"vllm-v1\"; };\n",
           names[0], names[0], names[1], ca, cb);
  char *two = cs_write_file(dir, "two.cfg", text);
  snprintf(text, sizeof text,
           "name = \"one\";\nseed = 4;\nmodel = { name = \"%s\"; precision = \"bf16\"; };\n"
           "cluster = { pools = ( { gpu = \"h100\"; replicas = 2; } ); };\n"
           "workload = { classes = (\n%s\n); duration_s = 600.0; };\n"
           "scheduler = { stack = \"vllm-v1\"; };\n",
           names[0], ca);
  char *one = cs_write_file(dir, "one.cfg", text);
  char *j2 = RUN_CFG(dir, "two.cfg", "o2", NULL);
  char *j1 = RUN_CFG(dir, "one.cfg", "o1", NULL);
  if (j1 && j2) {
    /* class a's arrivals and sizes are its own streams, its pool its own
     * replicas: model 0 sees exactly the one-model run */
    CHECK(SNUM(j2, "model0_completed") == SNUM(j1, "requests_completed"), "completed %g vs %g",
          SNUM(j2, "model0_completed"), SNUM(j1, "requests_completed"));
    CHECK(SNUM(j2, "model0_ttft_p99_s") == SNUM(j1, "ttft_p99_s"), "TTFT p99 %.17g vs %.17g",
          SNUM(j2, "model0_ttft_p99_s"), SNUM(j1, "ttft_p99_s"));
    CHECK(SNUM(j2, "model0_e2e_p99_s") == SNUM(j1, "e2e_p99_s"), "e2e p99 %.17g vs %.17g",
          SNUM(j2, "model0_e2e_p99_s"), SNUM(j1, "e2e_p99_s"));
    CHECK(SNUM(j2, "weight_swaps") == 0, "dedicated pools swapped %g times", SNUM(j2, "weight_swaps"));
    CHECK_REL(SNUM(j2, "model0_replicas_mean"), 2, 1e-12, "model 0's replicas");
    CHECK_REL(SNUM(j2, "model1_replicas_mean"), 1, 1e-12, "model 1's replicas");
    CHECK(strstr(j1, "model0_name") == NULL, "a one-model run has per-model keys");
  }
  free(j1);
  free(j2);
  free(one);
  free(two);
  cs_cleanup_if_passed(dir, failures);
  free(dir);
}

/* ---- 3. conservation under load, every policy ---- */

static void test_conservation(void)
{
  unsigned failures = CU_get_number_of_failures();
  char *dir = cs_tmpdir("multi_conserve");
  char text[8192], cls[3][1024];
  /* skewed demand for three models on two replicas: queues, swaps and
   * time-outs (30 s) */
  const char *rates[3] = {"9.0", "3.0", "1.0"};
  for (int m = 0; m < 3; m++) {
    char nm[8];
    snprintf(nm, sizeof nm, "c%d", m);
    snprintf(cls[m], sizeof cls[m], class_fmt, nm, names[m], rates[m]);
  }
  snprintf(text, sizeof text,
           "name = \"load\";\nseed = 2;\nmodel = { name = \"%s\"; precision = \"bf16\"; };\n"
           "cluster = { pools = ( { gpu = \"h100\"; replicas = 2; models = [\"%s\", \"%s\", \"%s\"]; } ); };\n"
           "workload = { classes = (\n%s,\n%s,\n%s\n); duration_s = 300.0; };\n"
           "scheduler = { stack = \"vllm-v1\"; };\n",
           names[0], names[0], names[1], names[2], cls[0], cls[1], cls[2]);
  char *cfg = cs_write_file(dir, "load.cfg", text);
  const char *pols[] = {"lru", "popularity", "static"};
  for (int k = 0; k < 3; k++) {
    char set[96], out[16];
    snprintf(set, sizeof set, "cluster.weight_swap.policy=\"%s\"", pols[k]);
    snprintf(out, sizeof out, "o%d", k);
    /* static needs a replica per model */
    char *js = RUN_CFG(dir, "load.cfg", out, "--set", set, "--set",
                       k == 2 ? "cluster.pools.[0].replicas=3" : "cluster.pools.[0].replicas=2");
    if (!js) continue;
    double arrived = SNUM(js, "requests_arrived"), done = SNUM(js, "requests_completed"),
           rej = SNUM(js, "requests_rejected"), mdone = 0, mrej = 0;
    for (int m = 0; m < 3; m++) {
      char key[64];
      snprintf(key, sizeof key, "model%d_completed", m);
      mdone += SNUM(js, key);
      snprintf(key, sizeof key, "model%d_rejected", m);
      mrej += SNUM(js, key);
    }
    CHECK(arrived > 1000 && done + rej == arrived, "%s: %g arrived, %g completed + %g rejected", pols[k],
          arrived, done, rej);
    CHECK(mdone == done && mrej == rej, "%s: per model %g + %g against %g + %g", pols[k], mdone, mrej, done, rej);
    /* Little's law over the whole run */
    CHECK_REL(SNUM(js, "requests_in_system_mean"),
              SNUM(js, "arrival_rate_per_s") * SNUM(js, "time_in_system_mean_s"), 1e-9, pols[k]);
    if (k == 2)
      CHECK(SNUM(js, "weight_swaps") == 0, "static swapped %g times", SNUM(js, "weight_swaps"));
    else
      CHECK(SNUM(js, "weight_swaps") > 0, "%s never swapped", pols[k]);
    free(js);
  }
  free(cfg);
  cs_cleanup_if_passed(dir, failures);
  free(dir);
}

/* Three models on a spot pool of three replicas, a notice a minute per
 * replica on average (60 an hour, 5 s of notice), under each policy, and
 * autoscaled: every request arrives and completes or is rejected (per
 * model too), Little's law, requests sent on by the notices, and the
 * replicas holding each model never more than the replicas serving. */
static void test_spot_conservation(void)
{
  unsigned failures = CU_get_number_of_failures();
  char *dir = cs_tmpdir("multi_spot_load");
  char text[8192], cls[3][1024];
  const char *rates[3] = {"6.0", "3.0", "1.0"};
  for (int m = 0; m < 3; m++) {
    char nm[8];
    snprintf(nm, sizeof nm, "c%d", m);
    snprintf(cls[m], sizeof cls[m], class_fmt, nm, names[m], rates[m]);
  }
  snprintf(text, sizeof text,
           "name = \"spot\";\nseed = 2;\nmodel = { name = \"%s\"; precision = \"bf16\"; };\n"
           "cluster = { pools = ( { gpu = \"h100\"; replicas = 3; models = [\"%s\", \"%s\", \"%s\"];\n"
           "  interruptions_per_hour = 60.0; interruption_notice_s = 5.0; startup_s = 5.0; warmup_s = 0.0;\n"
           "  weights_from = \"host-memory\"; } ); };\n"
           "workload = { classes = (\n%s,\n%s,\n%s\n); duration_s = 300.0; };\n"
           "scheduler = { stack = \"vllm-v1\"; };\n",
           names[0], names[0], names[1], names[2], cls[0], cls[1], cls[2]);
  char *cfg = cs_write_file(dir, "spot.cfg", text);
  const char *runs[][4] = {
    {"lru", "cluster.weight_swap.policy=\"lru\"", NULL, NULL},
    {"popularity", "cluster.weight_swap.policy=\"popularity\"", NULL, NULL},
    {"static", "cluster.weight_swap.policy=\"static\"", NULL, NULL},
    {"autoscaled", "cluster.weight_swap.policy=\"lru\"", "cluster.pools.[0].autoscale.policy=\"reactive\"",
     "cluster.pools.[0].autoscale.max_replicas=6"},
  };
  for (int k = 0; k < 4; k++) {
    char out[16];
    snprintf(out, sizeof out, "o%d", k);
    char *js = k < 3 ? RUN_CFG(dir, "spot.cfg", out, "--set", runs[k][1])
                     : RUN_CFG(dir, "spot.cfg", out, "--set", runs[k][1], "--set", runs[k][2], "--set", runs[k][3]);
    if (!js) continue;
    double arrived = SNUM(js, "requests_arrived"), done = SNUM(js, "requests_completed"),
           rej = SNUM(js, "requests_rejected"), mdone = 0, mrej = 0, held = 0;
    for (int m = 0; m < 3; m++) {
      char key[64];
      snprintf(key, sizeof key, "model%d_completed", m);
      mdone += SNUM(js, key);
      snprintf(key, sizeof key, "model%d_rejected", m);
      mrej += SNUM(js, key);
      snprintf(key, sizeof key, "model%d_replicas_mean", m);
      held += SNUM(js, key);
    }
    printf("\n    %s: %g interruptions, %g requeued, %g swaps, %g completed + %g rejected of %g", runs[k][0],
           SNUM(js, "spot_interruptions"), SNUM(js, "requests_requeued"), SNUM(js, "weight_swaps"), done, rej, arrived);
    CHECK(arrived > 2000 && done + rej == arrived, "%s: %g arrived, %g completed + %g rejected", runs[k][0], arrived,
          done, rej);
    CHECK(mdone == done && mrej == rej, "%s: per model %g + %g against %g + %g", runs[k][0], mdone, mrej, done, rej);
    CHECK_REL(SNUM(js, "requests_in_system_mean"),
              SNUM(js, "arrival_rate_per_s") * SNUM(js, "time_in_system_mean_s"), 1e-9, runs[k][0]);
    CHECK(SNUM(js, "spot_interruptions") >= 5 && SNUM(js, "requests_requeued") > 0, "%s: %g interruptions, %g requeued",
          runs[k][0], SNUM(js, "spot_interruptions"), SNUM(js, "requests_requeued"));
    CHECK(held <= SNUM(js, "replicas_mean") + 1e-9, "%s: holders %g over %g replicas serving", runs[k][0], held,
          SNUM(js, "replicas_mean"));
    if (k == 2)
      CHECK(SNUM(js, "weight_swaps") == 0, "static swapped %g times", SNUM(js, "weight_swaps"));
    else
      CHECK(SNUM(js, "weight_swaps") > 0, "%s never swapped", runs[k][0]);
    free(js);
  }
  free(cfg);
  cs_cleanup_if_passed(dir, failures);
  free(dir);
}

/* ---- 4. the saturation probe: each model ---- */

/* A pool holding two models of different sizes (8B and 13B) is probed on
 * each, fed with that model's requests: the pool's rate is one replica
 * serving the demand-weighted mix, 1 / (w_a / rate_a + w_b / rate_b) per
 * replica (w: 2/3 and 1/3), times its 2 replicas; each model's rate is
 * what a scenario of that model alone measures (a probe of its own draws,
 * so within the probes' 1% half-widths). Before, the pool was measured on
 * its first model with every class's requests. */
static void test_saturation_per_model(void)
{
  unsigned failures = CU_get_number_of_failures();
  char *dir = cs_tmpdir("multi_sat");
  char text[4096], ca[1024], cb[1024];
  snprintf(ca, sizeof ca, class_fmt, "a", names4[0], "2.0");
  snprintf(cb, sizeof cb, class_fmt, "b", "llama2-13b", "1.0");
  snprintf(text, sizeof text,
           "name = \"sat\";\nseed = 5;\nmodel = { name = \"%s\"; precision = \"bf16\"; };\n"
           "cluster = { pools = ( { gpu = \"h100\"; replicas = 2; models = [\"%s\", \"llama2-13b\"]; } ); };\n"
           "workload = { classes = (\n%s,\n%s\n); duration_s = 60.0; };\n"
           "scheduler = { stack = \"vllm-v1\"; };\n",
           names4[0], names4[0], ca, cb);
  free(cs_write_file(dir, "sat.cfg", text));
  snprintf(text, sizeof text,
           "name = \"b\";\nseed = 5;\nmodel = { name = \"llama2-13b\"; precision = \"bf16\"; };\n"
           "cluster = { pools = ( { gpu = \"h100\"; replicas = 1; } ); };\n"
           "workload = { classes = (\n%s\n); duration_s = 60.0; };\n"
           "scheduler = { stack = \"vllm-v1\"; };\n",
           cb);
  free(cs_write_file(dir, "b.cfg", text));
  char *js = RUN_CFG(dir, "sat.cfg", "o", NULL);
  char *jb = RUN_CFG(dir, "b.cfg", "ob", NULL);
  if (js && jb) {
    double ra = SNUM(js, "model0_saturation_rate_per_s"), rb = SNUM(js, "model1_saturation_rate_per_s");
    CHECK(rb < 0.8 * ra, "13B at %g requests/s, 8B at %g: the larger model should be slower", rb, ra);
    CHECK_REL(SNUM(js, "pool0_saturation_rate_per_s"), 2 / (2.0 / 3 / ra + 1.0 / 3 / rb), 1e-9, "pool's mix");
    CHECK_REL(SNUM(js, "saturation_rate_per_s"), 2 / (2.0 / 3 / ra + 1.0 / 3 / rb), 1e-9, "cluster's");
    CHECK_REL(rb, SNUM(jb, "saturation_rate_per_s"), 0.03, "13B alone");
  }
  free(js);
  free(jb);
  cs_cleanup_if_passed(dir, failures);
  free(dir);
}

/* ---- 5. autoscaling a pool of several models ---- */

/* One H100 replica swapping A and B at first (1,000-token prompts, 200
 * tokens out; A 8/s, B 2/s, a fivefold spike of A from 300 s to 900 s),
 * autoscaled on capacity up to 4 replicas, ready 60 s after asked for:
 * it scales up in the spike and back down after. Nothing is lost across
 * starts, drains (parked requests sent on) and stops; Little's law. By
 * hand: a replica started during the spike takes A (A's demand per
 * holder, 40/s over at most 1 replica, is far above B's 2/s), so A's
 * time-average holders exceed B's. */
static void test_autoscale(void)
{
  unsigned failures = CU_get_number_of_failures();
  char *dir = cs_tmpdir("multi_autoscale");
  static const char cfg[] =
    "name = \"mm-as\"; seed = 3;\n"
    "model = { name = \"llama3.1-8b\"; precision = \"bf16\"; };\n"
    "cluster = { pools = ( { gpu = \"h100\"; replicas = 1; models = [\"llama3.1-8b\", \"qwen3-8b\"];\n"
    "  startup_s = 60.0;\n"
    "  autoscale = { policy = \"reactive\"; min_replicas = 1; max_replicas = 4; }; } );\n"
    "  weight_swap = { policy = \"lru\"; }; };\n"
    "workload = { classes = (\n"
    "  { name = \"a\"; model = \"llama3.1-8b\"; timeout_s = 120.0;\n"
    "    arrivals = { rate = 8.0; spikes = ( { start_s = 300.0; duration_s = 600.0; multiplier = 5.0; } ); };\n"
    "    prompt_tokens = { dist = \"fixed\"; value = 1000; }; output_tokens = { dist = \"fixed\"; value = 200; }; },\n"
    "  { name = \"b\"; model = \"qwen3-8b\"; arrivals = { rate = 2.0; }; timeout_s = 120.0;\n"
    "    prompt_tokens = { dist = \"fixed\"; value = 1000; }; output_tokens = { dist = \"fixed\"; value = 200; }; }\n"
    "); duration_s = 1800.0; };\n"
    "scheduler = { stack = \"vllm-v1\"; };\n";
  free(cs_write_file(dir, "as.cfg", cfg));
  char *js = RUN_CFG(dir, "as.cfg", "out", NULL);
  if (js) {
    double arrived = SNUM(js, "requests_arrived"), done = SNUM(js, "requests_completed"),
           rej = SNUM(js, "requests_rejected");
    CHECK(arrived > 10000 && done + rej == arrived, "%g arrived, %g completed + %g rejected", arrived, done, rej);
    CHECK(SNUM(js, "model0_completed") + SNUM(js, "model1_completed") == done, "per model %g + %g against %g",
          SNUM(js, "model0_completed"), SNUM(js, "model1_completed"), done);
    CHECK_REL(SNUM(js, "requests_in_system_mean"),
              SNUM(js, "arrival_rate_per_s") * SNUM(js, "time_in_system_mean_s"), 1e-9, "Little");
    CHECK(SNUM(js, "scale_ups") >= 1 && SNUM(js, "scale_downs") >= 1, "%g ups, %g downs", SNUM(js, "scale_ups"),
          SNUM(js, "scale_downs"));
    CHECK(SNUM(js, "replicas_max") > 1, "at most %g replicas", SNUM(js, "replicas_max"));
    CHECK(SNUM(js, "model0_replicas_mean") > SNUM(js, "model1_replicas_mean"), "A held by %g, B by %g",
          SNUM(js, "model0_replicas_mean"), SNUM(js, "model1_replicas_mean"));
    /* holders never exceed the replicas serving */
    CHECK(SNUM(js, "model0_replicas_mean") + SNUM(js, "model1_replicas_mean") <= SNUM(js, "replicas_mean") + 1e-9,
          "holders %g + %g over %g replicas", SNUM(js, "model0_replicas_mean"), SNUM(js, "model1_replicas_mean"),
          SNUM(js, "replicas_mean"));
    free(js);
  }
  cs_cleanup_if_passed(dir, failures);
  free(dir);
}

/* Every routing policy among holders: nothing lost, Little's law, and the
 * swaps that skewed demand on two replicas needs. */
static void test_conservation_routers(void)
{
  unsigned failures = CU_get_number_of_failures();
  char *dir = cs_tmpdir("multi_routers");
  char text[8192], cls[3][1024];
  const char *rates[3] = {"9.0", "3.0", "1.0"};
  for (int m = 0; m < 3; m++) {
    char nm[8];
    snprintf(nm, sizeof nm, "c%d", m);
    snprintf(cls[m], sizeof cls[m], class_fmt, nm, names[m], rates[m]);
  }
  snprintf(text, sizeof text,
           "name = \"routers\";\nseed = 3;\nmodel = { name = \"%s\"; precision = \"bf16\"; };\n"
           "cluster = { pools = ( { gpu = \"h100\"; replicas = 3; models = [\"%s\", \"%s\", \"%s\"]; } );\n"
           "  weight_swap = { policy = \"lru\"; }; };\n"
           "workload = { classes = (\n%s,\n%s,\n%s\n); duration_s = 200.0; };\n"
           "scheduler = { stack = \"vllm-v1\"; max_num_seqs = 8; };\n",
           names[0], names[0], names[1], names[2], cls[0], cls[1], cls[2]);
  char *cfg = cs_write_file(dir, "routers.cfg", text);
  const char *pols[] = {"round-robin", "random", "power-of-two", "least-kv", "prefix-affinity"};
  for (int k = 0; k < 5; k++) {
    char set[96], out[16];
    snprintf(set, sizeof set, "router.policy=\"%s\"", pols[k]);
    snprintf(out, sizeof out, "o%d", k);
    char *js = RUN_CFG(dir, "routers.cfg", out, "--set", set);
    if (!js) continue;
    double arrived = SNUM(js, "requests_arrived"), done = SNUM(js, "requests_completed"),
           rej = SNUM(js, "requests_rejected");
    CHECK(arrived > 1000 && done + rej == arrived, "%s: %g arrived, %g completed + %g rejected", pols[k],
          arrived, done, rej);
    CHECK_REL(SNUM(js, "requests_in_system_mean"),
              SNUM(js, "arrival_rate_per_s") * SNUM(js, "time_in_system_mean_s"), 1e-9, pols[k]);
    CHECK(SNUM(js, "weight_swaps") > 0, "%s never swapped", pols[k]);
    free(js);
  }
  free(cfg);
  cs_cleanup_if_passed(dir, failures);
  free(dir);
}

/* A run cut by horizon_s while requests wait at a replica for its weights
 * (parked): they are in flight, not lost, and the run ends normally
 * (it aborted with "conservation broken" when parked requests were not
 * counted inside the system). One A100 swapping two models, overloaded. */
static void test_horizon_parked(void)
{
  unsigned failures = CU_get_number_of_failures();
  char *dir = cs_tmpdir("multi_horizon");
  char text[4096];
  snprintf(text, sizeof text,
           "name = \"cut\";\nseed = 6;\nmodel = { name = \"%s\"; max_context = 4096; };\n"
           "cluster = { pools = ( { gpu = \"a100-80gb-sxm\"; replicas = 1; models = [\"%s\", \"%s\"]; } );\n"
           "  weight_swap = { policy = \"lru\"; load_gbs = 10.0; }; };\n"
           "workload = { classes = (\n"
           "  { name = \"a\"; model = \"%s\"; arrivals = { rate = 4.0; }; timeout_s = 4.0;\n"
           "    prompt_tokens = { dist = \"lognormal\"; mean = 500.0; cv = 1.0; };\n"
           "    output_tokens = { dist = \"lognormal\"; mean = 200.0; cv = 1.0; }; truncate = true; },\n"
           "  { name = \"b\"; model = \"%s\"; arrivals = { rate = 2.0; };\n"
           "    prompt_tokens = { dist = \"lognormal\"; mean = 500.0; cv = 1.0; };\n"
           "    output_tokens = { dist = \"lognormal\"; mean = 200.0; cv = 1.0; }; truncate = true; } );\n"
           "  duration_s = 240.0; };\nscheduler = { max_num_seqs = 16; };\n",
           names[0], names[0], names[1], names[0], names[1]);
  char *cfg = cs_write_file(dir, "cut.cfg", text);
  char *js = RUN_CFG(dir, "cut.cfg", "o", "--set", "horizon_s=120.0");
  CU_ASSERT_PTR_NOT_NULL(js);
  if (js) {
    double arrived = SNUM(js, "requests_arrived"), done = SNUM(js, "requests_completed"),
           rej = SNUM(js, "requests_rejected"), live = SNUM(js, "requests_in_flight");
    CHECK(live > 0 && arrived == done + rej + live, "%g arrived, %g completed + %g rejected + %g in flight",
          arrived, done, rej, live);
    free(js);
  }
  free(cfg);
  cs_cleanup_if_passed(dir, failures);
  free(dir);
}

int main(int argc, char **argv)
{
  static const cs_test tests[] = {
    {"lru_hand", test_lru_hand},
    {"holders_take_turns", test_holders_take_turns},
    {"host_tier_swaps", test_host_tier_swaps},
    {"spot_hand", test_spot_hand},
    {"dedicated_alone", test_dedicated_alone},
    {"conservation", test_conservation},
    {"conservation_routers", test_conservation_routers},
    {"spot_conservation", test_spot_conservation},
    {"saturation_per_model", test_saturation_per_model},
    {"autoscale", test_autoscale},
    {"horizon_parked", test_horizon_parked},
    {NULL, NULL},
  };
  int rc = cs_run_suite_filtered("multi_model", tests, argc, argv);
  cs_catalogs_free();
  return rc;
}
