/* tests/unit/test_lora.c: LoRA adapters in the serving simulation
 * (models/serving/serving_lora.c, the scheduler's admission), through the
 * clustersim program: an adapter's bytes written out by hand and its one
 * load over the host link; the batch's distinct adapters bounded by
 * max_loras and reaching it; conservation and Little's law under load
 * with time-outs and one slot; more distinct adapters in a batch cost
 * more per token; a class without adapters keeps its summary; static and
 * dynamic batches bounded by max_loras; the prefix cache's blocks keyed by
 * adapter (saved tokens by hand), with and without a host tier; the
 * queue's look-ahead over its whole length (serving_lora.h's lanes): a
 * fitting request 300 deep is found where a 256-request scan found none,
 * the lanes' choice equals a plain scan of the queue through random
 * arrivals, preemptions, time-outs and admissions, and a run whose queue
 * holds thousands with time-outs loses nothing and keeps Little's law.
 * The keys' bad values are tests/badconfig/lora_*.cfg. */
#include <CUnit/CUnit.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cattest.h"
#include "clitest.h"
#include "models/interconnect/net.h"
#include "models/serving/serving_lora.h"
#include "models/serving/serving_sched.h"
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

/* ---- the look-ahead over the whole queue (the lanes) ---- */

/* Hand-built run: class 0 with `adapters` adapters (ids 0 ..), class 1
 * with 100 more (ids adapters ..), class 2 with none; one byte each. */
typedef struct {
  srv_params p;
  srv_class_cfg cls[3];
} lane_run;

static void lane_run_init(lane_run *x, int adapters)
{
  memset(x, 0, sizeof *x);
  x->cls[0] = (srv_class_cfg){.has_lora = true, .lora_base = 0, .lora_bytes = 1};
  x->cls[0].lora.adapters = adapters;
  x->cls[1] = (srv_class_cfg){.has_lora = true, .lora_base = adapters, .lora_bytes = 1};
  x->cls[1].lora.adapters = 100;
  x->p.classes = x->cls;
  x->p.nclasses = 3;
  x->p.lora_total = adapters + 100;
}

/* The scheduler's look-ahead before the lanes: the first of a class
 * queue's first 256 requests whose adapter fits, by walking it. */
static srv_req *scan_256(const srv_lora *L, srv_req *const *queue, int n)
{
  for (int i = 0; i < n && i < 256; i++)
    if (srv_lora_fits(L, queue[i]->adapter)) return queue[i];
  return NULL;
}

/* 8 slots all taken by adapters 0 .. 7; 400 requests queued in class 0,
 * every one of an adapter not in the batch (8 + i % 50) but the one at
 * position 300, of adapter 5: a 256-request scan finds nothing (the
 * class would block this step), the lanes find position 300. Once it is
 * admitted, nothing fits; a request of adapter 2 arriving last, or one
 * of adapter 7 preempted to the front, is found next. */
static void test_lookahead_300(void)
{
  lane_run x;
  lane_run_init(&x, 1000);
  srv_lora L;
  srv_lora_init(&L, &x.p, 8);
  for (int a = 0; a < 8; a++) srv_lora_join(&L, a, 0, false);
  CU_ASSERT_EQUAL(L.distinct, 8);
  enum { N = 400 };
  srv_req *req = calloc(N + 2, sizeof *req), *queue[N];
  for (int i = 0; i < N + 2; i++) req[i].id = i;
  for (int i = 0; i < N; i++) {
    req[i].adapter = i == 300 ? 5 : 8 + i % 50;
    srv_lora_queued(&L, &req[i], false);
    queue[i] = &req[i];
  }
  CU_ASSERT_PTR_NULL(scan_256(&L, queue, N));
  srv_req *q = srv_lora_first_fit(&L, 0);
  CU_ASSERT_PTR_EQUAL(q, &req[300]);
  /* admitted: it leaves the queue and joins the batch */
  srv_lora_unqueued(&L, q);
  srv_lora_join(&L, q->adapter, 1, false);
  CU_ASSERT_PTR_NULL(srv_lora_first_fit(&L, 0));
  /* nothing of class 1 or 2 queued: none there either */
  CU_ASSERT_PTR_NULL(srv_lora_first_fit(&L, 1));
  CU_ASSERT_PTR_NULL(srv_lora_first_fit(&L, 2));
  req[N].adapter = 2;
  srv_lora_queued(&L, &req[N], false);
  CU_ASSERT_PTR_EQUAL(srv_lora_first_fit(&L, 0), &req[N]);
  req[N + 1].adapter = 7;
  srv_lora_queued(&L, &req[N + 1], true);
  CU_ASSERT(req[N + 1].wseq < req[0].wseq && req[0].wseq < req[N].wseq);
  CU_ASSERT_PTR_EQUAL(srv_lora_first_fit(&L, 0), &req[N + 1]);
  /* adapter 7 leaves the batch: a slot is free, so the caller takes the
   * class head; the lanes, asked anyway, give the earliest fitting one */
  srv_lora_leave(&L, 7);
  CU_ASSERT(srv_lora_fits(&L, req[0].adapter));
  CU_ASSERT_PTR_EQUAL(srv_lora_first_fit(&L, 0), &req[N]);
  for (int i = 0; i < N + 2; i++)
    if (req[i].lnext) srv_lora_unqueued(&L, &req[i]);
  for (int a = 0; a < 1000 + 100; a++) CU_ASSERT_PTR_NULL(L.lane[a]);
  srv_lora_release(&L);
  free(req);
}

/* The lanes against a plain O(n) scan of each class queue (kept here as
 * arrays), through 200,000 random operations on three classes (two with
 * adapters, one without) and 4 slots: arrivals at the back, preempted
 * requests at the front, time-outs anywhere in a queue, admissions (the
 * class head when it fits, else the lanes' choice, which must be the
 * scan's: the first request of the queue whose adapter fits, over the
 * whole queue), and sequences leaving the batch. The service order is
 * recorded both ways and compared; at the end every lane is empty. */
static void test_lookahead_reference(void)
{
  enum { OPS = 200000, CAP = 20000, SLOTS = 4 };
  lane_run x;
  lane_run_init(&x, 40);
  srv_lora L;
  srv_lora_init(&L, &x.p, SLOTS);
  srv_req *req = calloc(CAP, sizeof *req);
  srv_req **queue[3], **run = calloc(CAP, sizeof *run);
  int nq[3] = {0, 0, 0}, nrun = 0, next = 0;
  for (int c = 0; c < 3; c++) queue[c] = calloc(CAP, sizeof *queue[c]);
  int64_t *order_lanes = calloc(OPS, sizeof *order_lanes), *order_scan = calloc(OPS, sizeof *order_scan);
  int served = 0, deep = 0, skipped_fit = 0, blocked = 0;
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_taus2);
  gsl_rng_set(rng, 14);
  bool ok = true;
  for (int op = 0; op < OPS && ok; op++) {
    double u = gsl_rng_uniform(rng);
    int c = (int)gsl_rng_uniform_int(rng, 3);
    if (u < 0.40 && next < CAP) {
      /* an arrival (class 0: adapters skewed, a few popular) */
      srv_req *q = &req[next];
      q->id = next++;
      q->cls = (uint8_t)c;
      if (c == 2)
        q->adapter = -1;
      else if (c == 0)
        q->adapter = (int32_t)((double)gsl_rng_uniform_int(rng, 40) * gsl_rng_uniform(rng));
      else
        q->adapter = 40 + (int32_t)gsl_rng_uniform_int(rng, 100);
      bool front = gsl_rng_uniform(rng) < 0.1;  /* as a preempted request */
      srv_lora_queued(&L, q, front);
      if (front) {
        memmove(queue[c] + 1, queue[c], (size_t)nq[c] * sizeof *queue[c]);
        queue[c][0] = q;
      } else {
        queue[c][nq[c]] = q;
      }
      nq[c]++;
    } else if (u < 0.50 && nq[c] > 0) {
      /* a client gives up, anywhere in the queue */
      int i = (int)gsl_rng_uniform_int(rng, (unsigned long)nq[c]);
      srv_lora_unqueued(&L, queue[c][i]);
      memmove(queue[c] + i, queue[c] + i + 1, (size_t)(nq[c] - i - 1) * sizeof *queue[c]);
      nq[c]--;
    } else if (u < 0.80 && nq[c] > 0) {
      /* an admission from class c */
      srv_req *ref = NULL;
      int at = -1;
      for (int i = 0; i < nq[c]; i++)
        if (srv_lora_fits(&L, queue[c][i]->adapter)) {
          ref = queue[c][i];
          at = i;
          break;
        }
      srv_req *got = srv_lora_fits(&L, queue[c][0]->adapter) ? queue[c][0] : srv_lora_first_fit(&L, c);
      if (got != ref) {
        CHECK(0, "op %d, class %d: the lanes chose request %lld, the scan %lld", op, c,
              got ? (long long)got->id : -1LL, ref ? (long long)ref->id : -1LL);
        ok = false;
        break;
      }
      if (!ref) {
        blocked++;
        continue;
      }
      if (at > 0) skipped_fit++;
      if (at >= 256) deep++;
      order_lanes[served] = got->id;
      order_scan[served++] = ref->id;
      srv_lora_unqueued(&L, got);
      memmove(queue[c] + at, queue[c] + at + 1, (size_t)(nq[c] - at - 1) * sizeof *queue[c]);
      nq[c]--;
      srv_lora_join(&L, got->adapter, op, false);
      run[nrun++] = got;
    } else if (nrun > 0) {
      /* a sequence finishes */
      int i = (int)gsl_rng_uniform_int(rng, (unsigned long)nrun);
      srv_lora_leave(&L, run[i]->adapter);
      run[i] = run[--nrun];
    }
  }
  CHECK(ok, "the lanes and the scan disagree");
  CHECK(memcmp(order_lanes, order_scan, (size_t)served * sizeof *order_lanes) == 0, "service orders differ");
  /* the cases were all reached: admissions past the head, some past 256,
   * classes with nothing fitting */
  CHECK(served > 10000 && skipped_fit > 1000 && deep > 0 && blocked > 100,
        "%d served, %d past the head, %d past 256, %d blocked", served, skipped_fit, deep, blocked);
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < nq[c]; i++) srv_lora_unqueued(&L, queue[c][i]);
  for (int a = 0; a < 140 + 3; a++) CU_ASSERT_PTR_NULL(L.lane[a]);
  gsl_rng_free(rng);
  for (int c = 0; c < 3; c++) free(queue[c]);
  free(run);
  free(req);
  free(order_lanes);
  free(order_scan);
  srv_lora_release(&L);
}

/* 2,000 adapters (Zipf 1) through 4 slots at 12 requests/s for 600 s, on
 * one A100 that serves a few per second: thousands queue (their clients
 * give up after 200 s), most of them in lanes of adapters not in the
 * batch, admitted past the head. Every request completes or is
 * reported (time-outs among the rejected), Little's law holds, and the
 * batch reaches its 4 adapters and no more. */
static void test_lookahead_overload(void)
{
  unsigned failures = CU_get_number_of_failures();
  char *dir = cs_tmpdir("lora_lookahead");
  free(cs_write_file(dir, "lora.cfg", base_cfg));
  char *js = RUN_CFG(dir, "lora.cfg", "o", "--set", "workload.lora.adapters=2000", "--set",
                     "cluster.pools.[0].max_loras=4", "--set", "workload.arrivals.rate=12.0", "--set",
                     "workload.timeout_s=200.0");
  if (js) {
    double arrived = SNUM(js, "requests_arrived"), done = SNUM(js, "requests_completed"),
           rej = SNUM(js, "requests_rejected"), out = SNUM(js, "requests_timed_out");
    CHECK(arrived > 6000 && done + rej == arrived, "%g arrived, %g completed + %g rejected", arrived, done, rej);
    CHECK(out > 1000 && out <= rej, "%g timed out of %g rejected (expected thousands under overload)", out, rej);
    CHECK(SNUM(js, "lora_batch_adapters_max") == 4, "4 slots: %g adapters in a batch",
          SNUM(js, "lora_batch_adapters_max"));
    CHECK_REL(SNUM(js, "requests_in_system_mean"),
              SNUM(js, "arrival_rate_per_s") * SNUM(js, "time_in_system_mean_s"), 1e-9, "Little, queue of thousands");
    CHECK(SNUM(js, "requests_in_system_mean") > 1000, "%g in the system on average (expected a queue of thousands)",
          SNUM(js, "requests_in_system_mean"));
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
    {"lookahead_300", test_lookahead_300},
    {"lookahead_reference", test_lookahead_reference},
    {"lookahead_overload", test_lookahead_overload},
    {NULL, NULL},
  };
  int rc = cs_run_suite_filtered("lora", tests, argc, argv);
  cs_catalogs_free();
  return rc;
}
