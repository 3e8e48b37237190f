/* tests/unit/test_prefix_tier.c: the prefix cache's host-memory and SSD
 * tiers (models/serving/prefix_tier.h) by hand - LRU order, the cascade
 * from host memory to the SSD, anonymous blocks, capacities never
 * exceeded, a load's seconds - and through the program: hit rates and a
 * load's time derived by hand on a workload whose GPU cache is too small
 * for its working set, nothing added to the outputs when off, requests
 * conserved and Little's law under load with time-outs and spot
 * interruptions, bad keys refused at file:line; and trace replay with a
 * session column, its hit rate by hand. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clitest.h"
#include "models/serving/prefix_cache.h"
#include "models/serving/prefix_tier.h"
#include "testutil.h"

#define DATA_DIR CS_SOURCE_DIR "/tests/serving"
#define TINY_CFG DATA_DIR "/tiny_model.cfg"
#define SNUM(json, key) cs_summary_num(__FILE__, __LINE__, (json), (key))

/* `clustersim run CFG -q -o OUT [ARG]...` in dir, args holding OUT then
 * the ARGs: the summary's text. */
static char *run_at(int line, const char *dir, const char *cfg, const char *const *args)
{
  return cs_run_summary(__FILE__, line, dir, cfg, args[0], args + 1);
}
/* RUN_CFG(dir, cfg, out, arg...) */
#define RUN_CFG(dir, cfg, ...) run_at(__LINE__, (dir), (cfg), (const char *const[]){__VA_ARGS__, NULL})

/* ---- the tiers by hand ---- */

/* A block of 4,096 bytes per GPU, host link 4.096 MB/s, SSD 2.048 MB/s,
 * 1 us a load: the loads' seconds are round numbers. */
static void init_tier(pt_tier *t, int64_t host, int64_t ssd)
{
  pt_init(t, host, ssd, 4096.0, 4.096e6, 2.048e6, 1e-6);
}

static void test_lru_host(void)
{
  pt_tier t;
  init_tier(&t, 3, 0);
  for (uint64_t k = 1; k <= 3; k++) pt_put(&t, k);
  for (uint64_t k = 1; k <= 3; k++) CU_ASSERT_EQUAL(pt_find(&t, k), PT_HOST);
  /* full: 4 pushes out the least recently used, 1 (no SSD: dropped) */
  pt_put(&t, 4);
  CU_ASSERT_EQUAL(pt_find(&t, 1), PT_NONE);
  CU_ASSERT_EQUAL(t.host.blocks, 3);
  /* 2 loaded (touched): 3 is now the least recently used */
  pt_touch(&t, 2, PT_HOST);
  pt_put(&t, 5);
  CU_ASSERT_EQUAL(pt_find(&t, 3), PT_NONE);
  CU_ASSERT_EQUAL(pt_find(&t, 2), PT_HOST);
  /* a block already there is only made most recently used: nothing goes */
  uint64_t v = pt_version(&t);
  pt_put(&t, 2);
  CU_ASSERT_EQUAL(t.host.blocks, 3);
  CU_ASSERT_EQUAL(pt_find(&t, 4), PT_HOST);
  CU_ASSERT_NOT_EQUAL(pt_version(&t), v);
  /* now 4 is the oldest */
  pt_put(&t, 6);
  CU_ASSERT_EQUAL(pt_find(&t, 4), PT_NONE);
  CU_ASSERT_EQUAL(pt_find(&t, 5), PT_HOST);
  CU_ASSERT_EQUAL(pt_find(&t, 0), PT_NONE);
  pt_clear(&t);
  CU_ASSERT_EQUAL(t.host.blocks, 0);
  CU_ASSERT_EQUAL(pt_find(&t, 5), PT_NONE);
  pt_release(&t);
}

/* Host 2 blocks over an SSD of 3: what host memory evicts goes down, what
 * the SSD evicts is dropped; host memory is looked at first. */
static void test_ssd_cascade(void)
{
  pt_tier t;
  init_tier(&t, 2, 3);
  pt_put(&t, 1);
  pt_put(&t, 2);
  pt_put(&t, 3);  /* 1 down */
  CU_ASSERT_EQUAL(pt_find(&t, 1), PT_SSD);
  CU_ASSERT_EQUAL(pt_find(&t, 3), PT_HOST);
  pt_put(&t, 4);  /* 2 down */
  pt_put(&t, 5);  /* 3 down: SSD {1, 2, 3} */
  CU_ASSERT_EQUAL(t.ssd.blocks, 3);
  pt_touch(&t, 1, PT_SSD); /* SSD order now 2, 3, 1 */
  pt_put(&t, 6);  /* 4 down, the SSD drops 2 */
  CU_ASSERT_EQUAL(pt_find(&t, 2), PT_NONE);
  CU_ASSERT_EQUAL(pt_find(&t, 1), PT_SSD);
  CU_ASSERT_EQUAL(pt_find(&t, 4), PT_SSD);
  CU_ASSERT_EQUAL(t.host.blocks, 2);
  CU_ASSERT_EQUAL(t.ssd.blocks, 3);
  /* back to host memory: found there first, its SSD copy kept (inclusive) */
  pt_put(&t, 1);  /* host {6, 1}, 5 down, the SSD drops 3 */
  CU_ASSERT_EQUAL(pt_find(&t, 1), PT_HOST);
  CU_ASSERT_EQUAL(pt_find(&t, 3), PT_NONE);
  CU_ASSERT_EQUAL(pt_find(&t, 5), PT_SSD);
  pt_release(&t);
}

/* Blocks nobody can find again (key 0) take room like the others, one
 * entry per run, and are never found. */
static void test_anonymous(void)
{
  pt_tier t;
  init_tier(&t, 4, 2);
  pt_put(&t, 7);
  for (int i = 0; i < 3; i++) pt_put(&t, 0);
  CU_ASSERT_EQUAL(t.host.blocks, 4);
  CU_ASSERT_EQUAL(t.host.nentries, 2);  /* 7 and one run of 3 */
  CU_ASSERT_EQUAL(pt_find(&t, 0), PT_NONE);
  pt_put(&t, 8);  /* 7 down */
  pt_put(&t, 9);  /* one anonymous block down */
  CU_ASSERT_EQUAL(pt_find(&t, 7), PT_SSD);
  CU_ASSERT_EQUAL(t.ssd.blocks, 2);
  CU_ASSERT_EQUAL(t.host.blocks, 4);
  pt_put(&t, 10); /* another anonymous block down: the SSD drops 7 */
  CU_ASSERT_EQUAL(pt_find(&t, 7), PT_NONE);
  CU_ASSERT_EQUAL(t.ssd.blocks, 2);
  pt_release(&t);
}

/* 200,000 random puts and touches: neither tier ever holds more than its
 * capacity, and the entries allocated stay within the table's first
 * growth past it (memory flat). Every key put is found in one tier or was
 * evicted from both. */
static void test_flat(void)
{
  pt_tier t;
  init_tier(&t, 300, 700);
  uint64_t x = 12345;
  int64_t most_host = 0, most_ssd = 0;
  for (int i = 0; i < 200000; i++) {
    x = pc_mix(x + 1);
    uint64_t key = x % 5000 < 200 ? 0 : 1 + x % 3000;
    pt_where w = pt_find(&t, key);
    if (w != PT_NONE && (x >> 40) % 2)
      pt_touch(&t, key, w);
    else
      pt_put(&t, key);
    if (key) CU_ASSERT_EQUAL(pt_find(&t, key), w != PT_NONE && (x >> 40) % 2 ? w : PT_HOST);
    if (t.host.blocks > most_host) most_host = t.host.blocks;
    if (t.ssd.blocks > most_ssd) most_ssd = t.ssd.blocks;
  }
  CU_ASSERT_EQUAL(most_host, 300);
  CU_ASSERT_EQUAL(most_ssd, 700);
  CU_ASSERT(t.host.cap <= 512 && t.ssd.cap <= 1024);
  pt_release(&t);
}

/* A load's time by hand: 1 us + blocks x 4,096 B / 4.096 MB/s over the
 * host link, + SSD blocks x 4,096 B / 2.048 MB/s before it. */
static void test_load_time(void)
{
  pt_tier t;
  init_tier(&t, 10, 10);
  CU_ASSERT_EQUAL(pt_load_s(&t, 0, 0), 0.0);
  CU_ASSERT(cs_rel_close(pt_load_s(&t, 12, 0), 1e-6 + 12 * 0.001, 1e-12));
  CU_ASSERT(cs_rel_close(pt_load_s(&t, 5, 7), 1e-6 + 12 * 0.001 + 7 * 0.002, 1e-12));
  pt_release(&t);
}

/* pc_evict_key tells the evicted block's key, 0 for an anonymous run's. */
static void test_evict_key(void)
{
  pc_cache c;
  pc_init(&c);
  pc_add(&c, 11, 0);
  pc_add_anon(&c, 2);
  pc_add(&c, 12, 0);
  uint64_t k;
  CU_ASSERT(pc_evict_key(&c, &k) && k == 11);
  CU_ASSERT(pc_evict_key(&c, &k) && k == 0);
  CU_ASSERT(pc_evict_key(&c, &k) && k == 0);
  CU_ASSERT(pc_evict_key(&c, &k) && k == 12);
  CU_ASSERT(!pc_evict_key(&c, &k));
  pc_release(&c);
}

/* ---- through the program ---- */

/* The tiny model (every step 25 ms and a few ns) on one replica whose GPU
 * holds 14 blocks of 16 tokens, a prompt pool of 2 prompts in 2 groups
 * sent alternately 2 s apart (A, B, A, B, ...; 40 requests): each is 160
 * shared + 40 own tokens, answered with 10. The tiny model's KV is
 * 2 x 1 layer x 64 x 2 bytes = 256 B a token, 4,096 B a block.
 *
 * A request takes 13 blocks for its 200-token prompt and a 14th when its
 * KV reaches 209 tokens; when it ends, 13 full blocks stay cached (12 of
 * its prompt, as (200 - 1) / 16 = 12 is the most a prompt may find, and
 * one more). The next request, of the other group, finds none of its own
 * on the GPU and takes all 14 blocks back: evicted, last first, its
 * predecessor's 13 blocks go to host memory. So from the third request
 * on, each finds nothing on the GPU and its 12 blocks (192 tokens) in host
 * memory when host memory holds at least 12 blocks, k when it holds
 * k < 12 (the last k written: blocks 0..k-1). Hit rate 192 x 38 / (200 x
 * 40) = 0.912; 176 x 38 / 8,000 = 0.836 with 11 blocks; 0 with none (each
 * request evicts the other group's blocks before they are used again).
 *
 * A load alone on the link: 12 blocks x 4,096 B at 4.096 MB/s
 * (prefix_cache_host_gbs = 0.004096) = 12 ms, plus the A100's PCIe 4.0
 * latency of 1 us: 0.012001 s, on its TTFT before a prefill of 8 tokens.
 * With 5 blocks of host memory over an SSD: blocks 0..4 in host memory,
 * 5..11 on the SSD (112 tokens), read at 2.048 MB/s: 0.012001 + 7 x 2 ms
 * = 0.026001 s. */
static char *alternating_cfg(void)
{
  char *model = cs_slurp(TINY_CFG, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(model);
  char *s = cs_fmt("name = \"tier\";\nseed = 2;\n%s"
                   "model = { name = \"tiny\"; max_context = 224; };\n"
                   "cluster = { pools = ( { gpu = \"a100-80gb-sxm\"; replicas = 1; num_gpu_blocks = 14; } ); };\n"
                   "workload = { arrivals = { process = \"gamma\"; cv = 0.01; rate = 0.5; };\n"
                   "  prompt_pool = { size = 2; groups = 2; shared_prefix_tokens = 160; };\n"
                   "  prompt_tokens = { dist = \"fixed\"; value = 40; };\n"
                   "  output_tokens = { dist = \"fixed\"; value = 10; };\n"
                   "  requests = 40; };\n"
                   "scheduler = { policy = \"continuous\"; block_size = 16; prefix_caching = true;\n"
                   "  step_overhead_s = 0.025;\n"
                   "  prefix_cache_host_gb = 0.000131072;   # 32 blocks\n"
                   "  prefix_cache_host_gbs = 0.004096; };\n",
                   model);
  free(model);
  return s;
}

static void test_hit_rate_exact(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("prefix_tier");
  char *text = alternating_cfg();
  char *cfg = cs_write_file(dir, "tier.cfg", text);
  char *sum = RUN_CFG(dir, "tier.cfg", "on");
  CHECK(SNUM(sum, "requests_completed") == 40 && SNUM(sum, "preemptions") == 0, "%g completed, %g preempted",
        SNUM(sum, "requests_completed"), SNUM(sum, "preemptions"));
  CHECK(SNUM(sum, "prefill_tokens_saved") == 192 * 38, "saved %g, expected 192 x 38", SNUM(sum, "prefill_tokens_saved"));
  CS_CHECK_REL(SNUM(sum, "prefix_cache_hit_rate"), 192.0 * 38 / 8000, 1e-12, "hit rate");
  CS_CHECK_REL(SNUM(sum, "prefix_cache_host_hit_rate"), 192.0 * 38 / 8000, 1e-12, "host hit rate");
  CHECK(SNUM(sum, "prefix_cache_ssd_hit_rate") == 0, "SSD hits without an SSD");
  CHECK(SNUM(sum, "prefix_cache_host_loads") == 38, "%g loads, expected 38", SNUM(sum, "prefix_cache_host_loads"));
  CS_CHECK_REL(SNUM(sum, "prefix_cache_host_load_time_s"), 0.012001, 1e-9, "a lone load's time");
  /* on the TTFT path: the load, then a prefill of the 8 tokens left */
  double ttft = SNUM(sum, "ttft_p99_s") - 0.012001;
  CHECK(ttft > 0.025 && ttft < 0.0250005, "p99 TTFT less the load %.9f, expected one 25 ms step", ttft);
  free(sum);

  /* 11 blocks of host memory: 11 found of 12 */
  sum = RUN_CFG(dir, "tier.cfg", "small", "--set", "scheduler.prefix_cache_host_gb=0.000045056");
  CS_CHECK_REL(SNUM(sum, "prefix_cache_hit_rate"), 176.0 * 38 / 8000, 1e-12, "hit rate, 11 host blocks");
  CS_CHECK_REL(SNUM(sum, "prefix_cache_host_load_time_s"), 0.011001, 1e-9, "an 11-block load's time");
  free(sum);

  /* 5 blocks of host memory over an SSD */
  sum = RUN_CFG(dir, "tier.cfg", "ssd", "--set", "scheduler.prefix_cache_host_gb=0.00002048", "--set",
                "scheduler.prefix_cache_ssd_gb=0.001", "--set", "scheduler.prefix_cache_ssd_gbs=0.002048");
  CS_CHECK_REL(SNUM(sum, "prefix_cache_hit_rate"), 192.0 * 38 / 8000, 1e-12, "hit rate with an SSD");
  CS_CHECK_REL(SNUM(sum, "prefix_cache_host_hit_rate"), 80.0 * 38 / 8000, 1e-12, "host share with an SSD");
  CS_CHECK_REL(SNUM(sum, "prefix_cache_ssd_hit_rate"), 112.0 * 38 / 8000, 1e-12, "SSD share");
  CS_CHECK_REL(SNUM(sum, "prefix_cache_host_load_time_s"), 0.026001, 1e-9, "a load from both tiers");
  free(sum);

  /* off: no hit at all, and the outputs carry no key of the tiers */
  sum = RUN_CFG(dir, "tier.cfg", "off", "--set", "scheduler.prefix_cache_host_gb=0.0");
  CHECK(SNUM(sum, "prefix_cache_hit_rate") == 0, "GPU tier alone: hit rate %g", SNUM(sum, "prefix_cache_hit_rate"));
  CHECK(!strstr(sum, "prefix_cache_host"), "the tiers' keys reported with the tiers off");
  /* the TTFT then is one prefill of 200 tokens */
  CHECK(SNUM(sum, "ttft_p99_s") < 0.0250005, "off: p99 TTFT %g", SNUM(sum, "ttft_p99_s"));
  free(sum);
  free(cfg);
  free(text);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* L = lambda W to rounding, as test_serving checks it. */
static void check_little(const char *sum, const char *what)
{
  double L = SNUM(sum, "requests_in_system_mean"), lam = SNUM(sum, "arrival_rate_per_s");
  double W = SNUM(sum, "time_in_system_mean_s");
  CHECK(L > 2, "%s: L = %g, too light a load for the check to mean much", what, L);
  CS_CHECK_REL(L, lam * W, 1e-9, what);
}

static void check_conserved(const char *sum, const char *what)
{
  double arrived = SNUM(sum, "requests_arrived"), completed = SNUM(sum, "requests_completed");
  double rejected = SNUM(sum, "requests_rejected"), flight = SNUM(sum, "requests_in_flight");
  CHECK(arrived == completed + rejected + flight, "%s: %g arrived, %g completed + %g rejected + %g in flight", what,
        arrived, completed, rejected, flight);
}

/* Conversations on two replicas short of GPU memory (80 blocks), host
 * memory behind them over a slow link (1 MB/s: a load of 15 blocks takes
 * 60 ms, so loads queue behind each other), clients giving up after
 * 0.3 s: some give up while their prefix loads (dozens in this run).
 * Every arrival completes, is rejected or is in flight; Little's law
 * holds; the loads' mean time is more than their transfers' (256 B a
 * token at 1 MB/s, 1 us each): they waited for the link. The same with
 * replicas interrupted (spot, no notice) every two minutes on average:
 * their loads are called off and the requests sent elsewhere. */
static void test_load_timeouts(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("prefix_tier_load");
  char *model = cs_slurp(TINY_CFG, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(model);
  char *text = cs_fmt("name = \"tierload\";\nseed = 6;\n%s"
                      "model = { name = \"tiny\"; max_context = 1024; };\n"
                      "cluster = { pools = ( { gpu = \"a100-80gb-sxm\"; replicas = 2; num_gpu_blocks = 80; } ); };\n"
                      "workload = {\n"
                      "  arrivals = { rate = 6.0; };\n"
                      "  sessions = { turns = { dist = \"geometric\"; mean = 4.0; }; think_time_s = 5.0; };\n"
                      "  system_prompt = { tokens = 200; count = 20; zipf = 1.1; };\n"
                      "  prompt_tokens = { dist = \"lognormal\"; mean = 60.0; cv = 1.0; };\n"
                      "  output_tokens = { dist = \"lognormal\"; mean = 30.0; cv = 1.0; };\n"
                      "  truncate = true;\n"
                      "  timeout_s = 0.3;\n"
                      "  duration_s = 600.0;\n"
                      "};\n"
                      "scheduler = { policy = \"continuous\"; max_num_seqs = 8; prefix_caching = true;\n"
                      "  step_overhead_s = 0.005; prefix_cache_host_gb = 0.01; prefix_cache_host_gbs = 0.001; };\n",
                      model);
  char *cfg = cs_write_file(dir, "load.cfg", text);
  static const char *const policies[] = {"scheduler.policy=\"continuous\"", "scheduler.policy=\"chunked-prefill\""};
  for (int i = 0; i < 2; i++) {
    char *sum = RUN_CFG(dir, "load.cfg", "load", "--set", policies[i]);
    check_conserved(sum, policies[i]);
    check_little(sum, policies[i]);
    CHECK(SNUM(sum, "requests_timed_out") > 0, "%s: nobody gave up", policies[i]);
    CHECK(SNUM(sum, "prefix_cache_host_loads") > 100 && SNUM(sum, "prefix_cache_host_hit_rate") > 0,
          "%s: %g loads, host hit rate %g", policies[i], SNUM(sum, "prefix_cache_host_loads"),
          SNUM(sum, "prefix_cache_host_hit_rate"));
    /* loads queue on the link: their mean time exceeds their transfers' */
    double loads = SNUM(sum, "prefix_cache_host_loads");
    double host_tokens = SNUM(sum, "prefill_tokens_saved") * SNUM(sum, "prefix_cache_host_hit_rate") /
                         SNUM(sum, "prefix_cache_hit_rate");
    double transfer = (host_tokens * 256 / 1e6 + loads * 1e-6) / loads;
    CHECK(SNUM(sum, "prefix_cache_host_load_time_s") > transfer, "%s: loads of %g s, transfers alone %g s",
          policies[i], SNUM(sum, "prefix_cache_host_load_time_s"), transfer);
    CHECK(SNUM(sum, "kv_cache_peak_fraction") <= 1, "KV peak %g", SNUM(sum, "kv_cache_peak_fraction"));
    free(sum);
  }
  /* a faster link, 10 GB/s: fewer give up */
  char *slow = RUN_CFG(dir, "load.cfg", "slow");
  char *fast = RUN_CFG(dir, "load.cfg", "fast", "--set", "scheduler.prefix_cache_host_gbs=10.0");
  CHECK(SNUM(fast, "requests_timed_out") < SNUM(slow, "requests_timed_out"), "timed out: %g at 10 GB/s, %g at 100 kB/s",
        SNUM(fast, "requests_timed_out"), SNUM(slow, "requests_timed_out"));
  check_conserved(fast, "fast link");
  free(slow);
  free(fast);
  char *spot = RUN_CFG(dir, "load.cfg", "spot", "--set", "cluster.pools.[0].interruptions_per_hour=30.0", "--set",
                       "cluster.pools.[0].interruption_notice_s=0.0");
  check_conserved(spot, "spot interruptions");
  check_little(spot, "spot interruptions");
  CHECK(SNUM(spot, "requests_requeued") > 0, "no request requeued by an interruption");
  free(spot);
  free(cfg);
  free(text);
  free(model);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* A scenario line that is wrong, refused at its file and line (exit 2,
 * nothing simulated). */
static void check_bad_line(const char *dir, const char *base, const char *from, const char *to, const char *want)
{
  char *text = cs_fmt("%s", base);
  char *at = strstr(text, from);
  CU_ASSERT_PTR_NOT_NULL_FATAL(at);
  char *bad = cs_fmt("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
  char *cfg = cs_write_file(dir, "bad.cfg", bad);
  result r = run_in(dir, "run", "bad.cfg", "-q", "-o", "bad", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, want);
  CHECK(!strstr(r.out, "ttft"), "a refused scenario was simulated");
  result_free(&r);
  free(cfg);
  free(bad);
  free(text);
}

static void test_bad_keys(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("prefix_tier_bad");
  char *text = alternating_cfg();
  /* the scheduler's keys are on lines 42 to 44 of the scenario (the tiny
   * model's file takes the first 32) */
  char *cfg = cs_write_file(dir, "tier.cfg", text);
  int line = 1;
  for (const char *p = text; *p && strncmp(p, "  prefix_cache_host_gb", 22); p++) line += *p == '\n';
  char want[160];
  snprintf(want, sizeof want, "bad.cfg:%d: scheduler.prefix_cache_host_gb: out of range: -1", line);
  check_bad_line(dir, text, "prefix_cache_host_gb = 0.000131072", "prefix_cache_host_gb = -1.0", want);
  snprintf(want, sizeof want, "bad.cfg:%d: scheduler.prefix_cache_host_gb: 0.000131072 GB of host memory for a prefix cache that is off", line);
  check_bad_line(dir, text, "prefix_caching = true", "prefix_caching = false", want);
  snprintf(want, sizeof want, "bad.cfg:%d: scheduler.prefix_cache_host_gb: 1e-06 GB holds no KV block", line);
  check_bad_line(dir, text, "prefix_cache_host_gb = 0.000131072", "prefix_cache_host_gb = 0.000001", want);
  snprintf(want, sizeof want, "bad.cfg:%d: scheduler.prefix_cache_ssd_gb: 1 GB of SSD without a host-memory tier", line);
  check_bad_line(dir, text, "prefix_cache_host_gb = 0.000131072", "prefix_cache_host_gb = 0.0; prefix_cache_ssd_gb = 1.0", want);
  snprintf(want, sizeof want, "bad.cfg:%d: scheduler.prefix_cache_host_gbs: out of range: -2", line + 1);
  check_bad_line(dir, text, "prefix_cache_host_gbs = 0.004096", "prefix_cache_host_gbs = -2.0", want);
  snprintf(want, sizeof want, "bad.cfg:%d: scheduler.prefix_cache_ssd_gbs: out of range: 0", line + 1);
  check_bad_line(dir, text, "prefix_cache_host_gbs = 0.004096", "prefix_cache_host_gbs = 0.004096; prefix_cache_ssd_gbs = 0.0", want);
  /* every error at once, from --set too */
  result r = run_in(dir, "run", "tier.cfg", "-q", "-o", "bad", "--set", "scheduler.prefix_caching=false", "--set",
                    "scheduler.prefix_cache_ssd_gb=-3.0", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "scheduler.prefix_cache_ssd_gb: out of range: -3");
  result_free(&r);
  free(cfg);
  free(text);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* Trace replay with a session column (tests/serving/trace_sessions.csv):
 * rows 10 s apart on the tiny model (each done in about 1.3 s), so every
 * turn meets an idle replica with room for every block, and 16-token
 * blocks. A turn leaves its prompt + answer - 1 tokens of KV (the last
 * token's is never written), full blocks cached; the next turn of its
 * conversation may take at most (prompt - 1) / 16 blocks:
 *   row 1, conversation 1, prompt 100: nothing cached; leaves 149 -> 9 blocks
 *   row 2, conversation 1, prompt 250: min(9, 15) = 9 blocks, 144 tokens;
 *          leaves 299 -> 18 blocks
 *   row 3, conversation 2, prompt 300: nothing; leaves 319 -> 19 blocks
 *   row 4, conversation 1, prompt 400: min(18, 24) = 18 blocks, 288 tokens
 *   row 5, conversation 2, prompt 50 (shorter than its history: all of it
 *          is history, no new message): min(19, 3) = 3 blocks, 48 tokens
 *   row 6, conversation 3, prompt 100: nothing
 * 480 of 1,200 prompt tokens: 0.4. Without the column every row is alone
 * and shares nothing. */
static void test_trace_sessions(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("prefix_tier_trace");
  char *model = cs_slurp(TINY_CFG, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(model);
  char *text = cs_fmt("name = \"sessions\";\nseed = 1;\n%s"
                      "model = { name = \"tiny\"; };\n"
                      "cluster = { pools = ( { gpu = \"a100-80gb-sxm\"; replicas = 1; } ); };\n"
                      "workload = { trace = { file = \"" DATA_DIR "/trace_sessions.csv\"; time_column = \"time\";\n"
                      "  prompt_column = \"prompt\"; output_column = \"output\"; session_column = \"session\"; }; };\n"
                      "scheduler = { policy = \"continuous\"; block_size = 16; prefix_caching = true; "
                      "step_overhead_s = 0.025; };\n",
                      model);
  char *cfg = cs_write_file(dir, "sessions.cfg", text);
  char *sum = RUN_CFG(dir, "sessions.cfg", "on");
  CHECK(SNUM(sum, "requests_completed") == 6, "%g of 6 rows completed", SNUM(sum, "requests_completed"));
  CHECK(SNUM(sum, "prefill_tokens_saved") == 480, "saved %g, expected 144 + 288 + 48 = 480",
        SNUM(sum, "prefill_tokens_saved"));
  CS_CHECK_REL(SNUM(sum, "prefix_cache_hit_rate"), 480.0 / 1200, 1e-12, "trace sessions: hit rate");
  free(sum);
  sum = RUN_CFG(dir, "sessions.cfg", "none", "--set", "workload.trace.session_column=\"\"");
  CHECK(SNUM(sum, "prefill_tokens_saved") == 0, "rows alone: saved %g", SNUM(sum, "prefill_tokens_saved"));
  free(sum);
  /* a column the file lacks, a negative id */
  result r = run_in(dir, "run", "sessions.cfg", "-q", "-o", "bad", "--set", "workload.trace.session_column=\"conv\"",
                    (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "trace_sessions.csv:1: conv: no such column");
  result_free(&r);
  char *csv = cs_write_file(dir, "neg.csv", "time,prompt,output,session\n0,100,50,1\n10,250,50,-4\n");
  char *neg = cs_fmt("%s", text);
  char *at = strstr(neg, DATA_DIR "/trace_sessions.csv");
  CU_ASSERT_PTR_NOT_NULL_FATAL(at);
  char *negcfg_text = cs_fmt("%.*sneg.csv%s", (int)(at - neg), neg, at + strlen(DATA_DIR "/trace_sessions.csv"));
  char *negcfg = cs_write_file(dir, "neg.cfg", negcfg_text);
  r = run_in(dir, "run", "neg.cfg", "-q", "-o", "bad", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "neg.csv:3: session: -4 is below the minimum 0");
  result_free(&r);
  free(negcfg);
  free(negcfg_text);
  free(neg);
  free(csv);
  free(cfg);
  free(text);
  free(model);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

int main(int argc, char **argv)
{
  static const cs_test tests[] = {
    {"lru_host", test_lru_host},
    {"ssd_cascade", test_ssd_cascade},
    {"anonymous", test_anonymous},
    {"flat", test_flat},
    {"load_time", test_load_time},
    {"evict_key", test_evict_key},
    {"hit_rate_exact", test_hit_rate_exact},
    {"load_timeouts", test_load_timeouts},
    {"bad_keys", test_bad_keys},
    {"trace_sessions", test_trace_sessions},
    {NULL, NULL},
  };
  return cs_run_suite_filtered("prefix_tier", tests, argc, argv);
}
