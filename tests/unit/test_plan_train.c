/* tests/unit/test_plan_train.c: the training layout planner
 * (driver/plan/plan_train*.c). Its winner equals an exhaustive search
 * written out here over a small grid (Llama 3 8B on 16 A100-40GB: every
 * tp, pp with its stage splits (even, and uneven first = last = k as
 * written out here), micro-batch, interleaving, ZeRO stage and recomputation,
 * full recomputation at every number of layers), calling train_job_check,
 * train_memory_need, train_step, train_run and train_whole_run directly;
 * its counts of layouts that fit and that run out of memory match that
 * search's, with and without pruning; heads that tp does not divide are
 * counted by hand (GPT-2 XL's 25 heads); through the program, --objective
 * cost with two GPU types picks the cheaper run and time the faster one,
 * cost = GPU-hours x price and GPU-hours = wall time x GPUs; the scenario's
 * own layout never beats the winner, and is the same run the scenario
 * simulates (its closed-form time to the last bit); a model that fits
 * nowhere exits 0 with feasible false; bad options exit 2 with a clear
 * message. Stage splits in closed form; a model whose 62 layers pp 4
 * does not divide has an uneven winner (the exhaustive search agrees); the
 * scenario's own first_stage_layers / last_stage_layers are accepted and
 * are its run. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/plan/plan_train.h"
#include "sim/catalog.h"
#include "cattest.h"
#include "clitest.h"
#include "testutil.h"

/* ---- in process: the search against an exhaustive one ---- */


/* A space of one GPU type and count: model m on n GPUs of g, batch gb x
 * seq, ZeRO 0..zmax, failures at the default rate. */
static void space(plan_train_space *s, const char *model, const char *gpu, int n, int gb, int seq, int zmax)
{
  memset(s, 0, sizeof *s);
  train_job *j = &s->gpus[0].base;
  train_job_init(j, cs_model(model), cs_gpu(gpu));
  j->net_link = cs_link("ib-hdr");
  j->global_batch = gb;
  j->seq_len = seq;
  s->gpus[0].usd_per_gpu_hour = 2.0;
  s->gpus[0].price_source = "test";
  s->ngpus = 1;
  s->counts[0] = n;
  s->ncounts = 1;
  for (int z = 0; z <= zmax; z++) s->zeros[s->nzeros++] = z;
  s->train_tokens = 2e9;
  train_whole_init(&s->whole);
  s->objective = PLAN_TRAIN_TIME;
}

/* What the exhaustive search found. */
typedef struct {
  double best;              /* the shortest whole-run time */
  train_job best_job;
  int fit, oom, batch;      /* (tp, pp, split, mb, v, zero, recompute kind) that fit / do not; (tp, pp, split) whose dp does not divide the batch */
  int shard;                /* layouts whose shard group the check refuses */
  int uneven;               /* of those, with uneven first/last stages */
} exhaustive;

/* Every layout of s's single GPU type and count: tp 1, 2, 4, 8 (the
 * node), cp 1, 2, 4, 8, pp dividing the layers and the GPUs, dp the rest
 * (ep 1: a dense model), micro-batches
 * dividing global / dp, v dividing a stage's layers (v > 1 with pp >= 2
 * and the micro-batches a multiple of pp), every ZeRO stage of s,
 * sequence parallelism with tp > 1, recomputation none, selective, and
 * full on N = 1 .. all layers of a chunk, and with cp > 1 the ring and,
 * where the heads split over cp, Ulysses; ZB-H1 beside 1F1B where the
 * space allows it and pp > 1; the space's shard group beside every rank
 * where ZeRO shards and the group is smaller. A recomputation kind fits when
 * one of its settings does; full's fastest setting is kept for every N. */
static exhaustive search_all(const plan_train_space *s)
{
  exhaustive e = {.best = INFINITY};
  const train_job *b = &s->gpus[0].base;
  int n = s->counts[0], L = (int)b->model->layers;
  for (int tp = 1; tp <= 8; tp *= 2)
    for (int cp = 1; cp <= 8 && (n / tp) % cp == 0; cp *= 2)
    for (int pp = 1; pp <= L; pp++) {
      if (n % (tp * cp * pp)) continue;
      /* the stage splits: even when pp divides L; with pp > 2, every
       * (first a, last b) with 1 <= b <= a < ceil(L / pp) whose total is one of the 3 largest leaving the pp - 2 middle
       * stages an equal share, and a = ceil((a + b) / 2) or one more */
      int fa[64], lb[64], ns = 0, totals = 0, top = (L + pp - 1) / pp - 1, last_total = -1;
      if (L % pp == 0) fa[ns] = lb[ns] = 0, ns++;
      for (int t = 2 * top; pp > 2 && t >= 2; t--) {
        if ((L - t) % (pp - 2) || (L - t) / (pp - 2) < 1) continue;
        if (t != last_total && totals == 3) break;
        for (int a = top; a >= 1; a--)
          for (int c = a; c >= 1; c--)
            if (a + c == t && (a == (t + 1) / 2 || a == (t + 1) / 2 + 1)) {
              fa[ns] = a, lb[ns] = c, ns++;
              if (t != last_total) totals++, last_total = t;
            }
      }
      for (int si = 0; si < ns; si++) {
      int a = fa[si], bl = lb[si], mid = a ? (L - a - bl) / (pp - 2) : L / pp;
      int dp = n / (tp * cp * pp);
      if (b->global_batch % dp) {
        e.batch++;
        e.uneven += a > 0;
        continue;
      }
      for (int mb = 1; mb <= b->global_batch / dp; mb++) {
        if ((b->global_batch / dp) % mb) continue;
        int m = b->global_batch / (dp * mb);
        /* virtual stages: those dividing every stage's layers, then 2, 3, 4
         * with uneven chunks where they do not, every stage at least one
         * layer a chunk */
        int cand[80], nc = 0, least = mid;
        for (int v = 1; v <= mid; v++)
          if (!(mid % v || (a && (a % v || bl % v)) || (v > 1 && (pp < 2 || m % pp)))) cand[nc++] = v;
        if (a && a < least) least = a;
        if (bl && bl < least) least = bl;
        for (int u = 2; u <= 4 && pp >= 2 && m % pp == 0 && u <= least; u++)
          if (mid % u || (a && (a % u || bl % u))) cand[nc++] = u | PLAN_IL_UNEVEN;
        for (int ci = 0; ci < nc; ci++) {
          int v = plan_train_il(cand[ci]), big = a > mid ? a : mid;
          bool un = plan_train_il_uneven(cand[ci]);
          for (int zi = 0; zi < s->nzeros; zi++)
            for (int rk = 0; rk < 3; rk++)
            for (int cc = 0; cc < (cp > 1 ? 2 : 1); cc++)
            for (int sc = 0; sc < (s->zero_bubble && pp > 1 ? 2 : 1); sc++)
            for (int sh = 0; sh < (s->dp_shard > 0 && s->zeros[zi] >= 1 && s->dp_shard < dp * cp ? 2 : 1); sh++) {
              /* Ulysses only where the heads split over cp */
              if (cc == TRAIN_CP_A2A) {
                train_job t = *b;
                t.tp = tp, t.cp = cp, t.pp = pp, t.dp = dp, t.micro_batch = mb, t.cp_comm = TRAIN_CP_A2A;
                char m2[256];
                if (train_cpep_check(&t, m2, sizeof m2)) continue;
              }
              int chunk = (big + v - 1) / v, nset = rk == LLM_RECOMPUTE_FULL ? chunk : 1;
              bool any = false, refused = false;
              for (int k = 1; k <= nset; k++) {
                train_job j = *b;
                j.tp = tp, j.cp = cp, j.pp = pp, j.dp = dp, j.micro_batch = mb, j.interleave = v;
                j.uneven_chunks = un;
                j.first_stage_layers = a;
                j.last_stage_layers = bl;
                j.zero = s->zeros[zi];
                j.seq_parallel = tp > 1;
                j.recompute = rk;
                j.recompute_layers = rk == LLM_RECOMPUTE_FULL && k < chunk ? k : 0;
                j.cp_comm = cc;
                j.schedule = sc;
                j.dp_shard = sh ? s->dp_shard : 0;
                char msg[256];
                if (sh && train_job_check(&j, msg, sizeof msg)) {
                  refused = true;  /* one refused row for the layout */
                  break;
                }
                CU_ASSERT_PTR_NULL_FATAL(train_job_check(&j, msg, sizeof msg));
                train_memory mem;
                train_memory_need(&j, &mem);
                if (!mem.fits) continue;
                any = true;
                train_step_result st;
                train_step(&j, &st);
                train_run_result run;
                train_run(&j, &st, s->train_tokens, s->gpus[0].usd_per_gpu_hour, &run);
                train_whole_result w;
                CU_ASSERT_PTR_NULL_FATAL(train_whole_run(&j, &st, &run, &s->whole, &w, msg, sizeof msg));
                if (w.time_s < e.best) {
                  e.best = w.time_s;
                  e.best_job = j;
                }
              }
              if (refused)
                e.shard++;
              else if (any)
                e.fit++;
              else
                e.oom++;
              e.uneven += a > 0;
            }
        }
      }
      }
    }
  return e;
}

static int reason_count(const plan_train_result *r, const char *name)
{
  for (int i = 0; i < r->nreasons; i++)
    if (!strcmp(r->reasons[i].name, name)) return r->reasons[i].count;
  return 0;
}

static void test_exhaustive(void)
{
  /* Llama 3 8B (32 layers, 32 heads, 8 KV heads) at 16,384 tokens a
   * sequence on 40 GB: larger micro-batches and small tp x pp run out of
   * memory; global batch 24 does not divide over dp 16 (tp 1, pp 1) */
  for (int zb = 0; zb < 4; zb++) {
  plan_train_space s;
  space(&s, "llama3-8b", "a100-40gb-sxm", 16, 24, 16384, 1);
  s.zero_bubble = zb >= 1;  /* then ZB-H1 too, wherever pp > 1 */
  /* then shard groups of 2 (every one allowed), or of 3 (every one
   * refused: 3 divides no dp x cp of 16 GPUs) */
  s.dp_shard = zb == 2 ? 2 : zb == 3 ? 3 : 0;
  exhaustive e = search_all(&s);
  CU_ASSERT_FATAL(isfinite(e.best));
  for (int prune = 0; prune < 2; prune++) {
    s.prune = prune;
    plan_train_result r;
    memset(&r, 0, sizeof r);
    plan_train_search(&s, &r);
    CU_ASSERT_FATAL(r.winner >= 0);
    const plan_train_row *w = &r.rows[r.winner];
    CS_ASSERT_REL(w->train_time_s, e.best, 1e-12);
    /* the same layout (the grid's best is unique) */
    CU_ASSERT_EQUAL(w->l.v[PLAN_DIM_TP], e.best_job.tp);
    CU_ASSERT_EQUAL(w->l.v[PLAN_DIM_CP], e.best_job.cp);
    CU_ASSERT_EQUAL(w->l.v[PLAN_DIM_EP], 1);
    CU_ASSERT_EQUAL(w->l.v[PLAN_DIM_PP], e.best_job.pp);
    CU_ASSERT_EQUAL(w->l.v[PLAN_DIM_DP], e.best_job.dp);
    CU_ASSERT_EQUAL(w->l.v[PLAN_DIM_MICRO_BATCH], e.best_job.micro_batch);
    CU_ASSERT_EQUAL(w->l.v[PLAN_DIM_INTERLEAVE], e.best_job.interleave);
    CU_ASSERT_EQUAL(w->l.v[PLAN_DIM_RECOMPUTE], e.best_job.recompute);
    CU_ASSERT_EQUAL(w->l.v[PLAN_DIM_CP_COMM], e.best_job.cp_comm);
    CU_ASSERT_EQUAL(w->l.v[PLAN_DIM_SCHEDULE], e.best_job.schedule);
    CU_ASSERT_EQUAL(w->l.v[PLAN_DIM_SHARD], e.best_job.dp_shard);
    CU_ASSERT_EQUAL(w->l.recompute_layers, e.best_job.recompute_layers);
    CU_ASSERT_EQUAL(w->l.first_stage_layers, e.best_job.first_stage_layers);
    CU_ASSERT_EQUAL(w->l.last_stage_layers, e.best_job.last_stage_layers);
    /* counts: every layout that fits is tried either way; without pruning
     * the out-of-memory ones are all tried too */
    CU_ASSERT_EQUAL(r.fitting, e.fit);
    CU_ASSERT_EQUAL(reason_count(&r, "global batch not divisible"), e.batch);
    if (!prune) {
      CU_ASSERT_EQUAL(reason_count(&r, "out of memory"), e.oom);
      CU_ASSERT_EQUAL(r.pruned, 0);
      CU_ASSERT_EQUAL(r.nrows, e.fit + e.oom + e.batch + e.shard);
      CU_ASSERT_EQUAL(r.uneven, e.uneven);
    } else {
      CU_ASSERT(r.pruned > 0);
      CU_ASSERT(reason_count(&r, "out of memory") < e.oom);
    }
    /* the top ten are in order, the winner first */
    CU_ASSERT_EQUAL(r.top[0], r.winner);
    for (int i = 1; i < r.ntop; i++)
      CU_ASSERT(r.rows[r.top[i - 1]].train_time_s <= r.rows[r.top[i]].train_time_s);
    plan_train_result_release(&r);
  }
  CU_ASSERT(e.batch == 1);   /* tp 1, cp 1, pp 1: dp 16 over a batch of 24 */
  CU_ASSERT(zb == 3 ? e.shard > 0 : e.shard == 0);
  CU_ASSERT(e.oom > 0);
  /* the grid has uneven splits: 32 layers on pp 4 give first = last = 7,
   * 6, 5 (18, 20, 22 layers over the 2 middle stages); on pp 8, 1 (30 over 6) */
  CU_ASSERT(e.uneven > 0);
  }
}

static void test_stage_splits(void)
{
  int a[PLAN_TRAIN_MAX_SPLITS], b[PLAN_TRAIN_MAX_SPLITS];
  /* 32 layers on pp 4: even (8 each); then the totals 14, 12, 10 (middle
   * 9, 10, 11 over 2 stages): 7 + 7 (8 + 6 would pass the bound: an end
   * below ceil(32 / 4) = 8), 6 + 6, 7 + 5, 5 + 5, 6 + 4; the total 8 (12 in
   * the middle) would also divide but is past the 3 largest */
  CU_ASSERT_EQUAL_FATAL(plan_train_stage_splits(32, 4, a, b), 6);
  static const int w32[6][2] = {{0, 0}, {7, 7}, {6, 6}, {7, 5}, {5, 5}, {6, 4}};
  for (int i = 0; i < 6; i++) CU_ASSERT(a[i] == w32[i][0] && b[i] == w32[i][1]);
  /* pp 8: ends below 4 with 32 - total divisible by 6: only 1 + 1 (30 / 6) */
  CU_ASSERT_EQUAL_FATAL(plan_train_stage_splits(32, 8, a, b), 2);
  CU_ASSERT(a[0] == 0 && b[0] == 0 && a[1] == 1 && b[1] == 1);
  /* 62 layers (Gemma 3 27B) on pp 4: no even split; totals 30, 28, 26:
   * 15 + 15, 14 + 14, 15 + 13, 13 + 13, 14 + 12 */
  CU_ASSERT_EQUAL_FATAL(plan_train_stage_splits(62, 4, a, b), 5);
  static const int w62[5][2] = {{15, 15}, {14, 14}, {15, 13}, {13, 13}, {14, 12}};
  for (int i = 0; i < 5; i++) CU_ASSERT(a[i] == w62[i][0] && b[i] == w62[i][1]);
  /* an odd total: 31 layers on pp 4 (totals 13, 11, 9): 7 + 6, 6 + 5,
   * 7 + 4, 5 + 4, 6 + 3; first the larger half of the total or one more */
  CU_ASSERT_EQUAL_FATAL(plan_train_stage_splits(31, 4, a, b), 5);
  static const int w31[5][2] = {{7, 6}, {6, 5}, {7, 4}, {5, 4}, {6, 3}};
  for (int i = 0; i < 5; i++) CU_ASSERT(a[i] == w31[i][0] && b[i] == w31[i][1]);
  /* 126 layers (Llama 3 405B) on pp 16: 7 each end, 8 on the 14 others
   * (the only total at most 14 leaving a multiple of 14) */
  CU_ASSERT_EQUAL_FATAL(plan_train_stage_splits(126, 16, a, b), 1);
  CU_ASSERT(a[0] == 7 && b[0] == 7);
  /* pp 2: first + last would be all the layers: the even split alone */
  CU_ASSERT_EQUAL(plan_train_stage_splits(32, 2, a, b), 1);
  CU_ASSERT_EQUAL(plan_train_stage_splits(31, 2, a, b), 0);
  CU_ASSERT_EQUAL(plan_train_stage_splits(4, 8, a, b), 0);
  /* every split: ends within bounds, last no heavier, middle equal */
  for (int L = 3; L <= 130; L++)
    for (int pp = 3; pp <= 20 && pp <= L; pp++) {
      int n = plan_train_stage_splits(L, pp, a, b);
      CU_ASSERT(n <= PLAN_TRAIN_MAX_SPLITS);
      for (int i = 0; i < n; i++) {
        if (a[i] == 0) continue;
        CU_ASSERT(b[i] >= 1 && b[i] <= a[i] && a[i] < (L + pp - 1) / pp);
        CU_ASSERT(a[i] == (a[i] + b[i] + 1) / 2 || a[i] == (a[i] + b[i] + 1) / 2 + 1);
        CU_ASSERT((L - a[i] - b[i]) % (pp - 2) == 0 && (L - a[i] - b[i]) / (pp - 2) >= 1);
      }
    }
}

/* Gemma 3 27B (62 layers) on 32 A100-40GB: pp 4 does not divide 62, yet
 * the fastest layout has 4 stages, the end ones lighter (they also hold
 * the embedding and the output layer with the loss); the planner finds it,
 * the exhaustive search agrees. */
static void test_uneven_winner(void)
{
  plan_train_space s;
  space(&s, "gemma3-27b", "a100-40gb-sxm", 32, 64, 4096, 0);
  s.prune = true;
  exhaustive e = search_all(&s);
  CU_ASSERT_FATAL(isfinite(e.best));
  plan_train_result r;
  memset(&r, 0, sizeof r);
  plan_train_search(&s, &r);
  CU_ASSERT_FATAL(r.winner >= 0);
  const plan_train_row *w = &r.rows[r.winner];
  CS_ASSERT_REL(w->train_time_s, e.best, 1e-12);
  CU_ASSERT_EQUAL(w->l.v[PLAN_DIM_PP], e.best_job.pp);
  CU_ASSERT_EQUAL(w->l.first_stage_layers, e.best_job.first_stage_layers);
  CU_ASSERT(62 % w->l.v[PLAN_DIM_PP] != 0);
  CU_ASSERT_EQUAL(w->l.last_stage_layers, e.best_job.last_stage_layers);
  CU_ASSERT(w->l.first_stage_layers > 0 && w->l.first_stage_layers >= w->l.last_stage_layers);
  char buf[256];
  char *want = cs_fmt("pp %d (first %d last %d layers)", w->l.v[PLAN_DIM_PP], w->l.first_stage_layers,
                      w->l.last_stage_layers);
  CU_ASSERT_PTR_NOT_NULL(strstr(plan_train_describe(&w->l, buf, sizeof buf), want));
  free(want);
  /* the best even layout (pp 1 or 2 divide 62) is slower */
  double even = INFINITY;
  for (int i = 0; i < r.nrows; i++)
    if (r.rows[i].ok && r.rows[i].l.first_stage_layers == 0 && r.rows[i].train_time_s < even)
      even = r.rows[i].train_time_s;
  CU_ASSERT(w->train_time_s < even);
  plan_train_result_release(&r);
}

static void test_heads(void)
{
  /* GPT-2 XL: 25 heads, 48 layers. On 16 GPUs tp 2, 4 and 8 do not
   * divide the heads: 3 rows, each rejecting its whole subtree; tp 1 has
   * pp 1, 2, 4, 8, 16 (all divide 48 and 16). */
  plan_train_space s;
  space(&s, "gpt2-xl", "a100-80gb-sxm", 16, 64, 1024, 0);
  s.prune = true;
  plan_train_result r;
  memset(&r, 0, sizeof r);
  plan_train_search(&s, &r);
  CU_ASSERT_EQUAL(reason_count(&r, "heads not divisible by tp"), 3);
  int pps[5] = {0};
  for (int i = 0; i < r.nrows; i++) {
    const plan_train_row *x = &r.rows[i];
    if (x->l.v[PLAN_DIM_TP] != 1) {
      CU_ASSERT(!x->ok && x->l.v[PLAN_DIM_PP] == -1);
      CU_ASSERT_PTR_NOT_NULL(strstr(x->reason, "does not divide gpt2-xl's 25 attention heads"));
      continue;
    }
    for (int k = 0; k < 5; k++)
      if (x->l.v[PLAN_DIM_PP] == 1 << k) pps[k] = 1;
  }
  for (int k = 0; k < 5; k++) CU_ASSERT_EQUAL(pps[k], 1);
  CU_ASSERT(r.winner >= 0 && r.rows[r.winner].l.v[PLAN_DIM_TP] == 1);
  plan_train_result_release(&r);
}

/* ---- through the program ---- */

#define SMALL_TRAIN \
  "name = \"plan-train-small\";\n" \
  "training = {\n" \
  "  model = \"llama3.2-1b\";\n" \
  "  gpu = \"a100-80gb-sxm\";\n" \
  "  gpus = 16;\n" \
  "  tp = 2;\n" \
  "  pp = 2;\n" \
  "  global_batch = 64;\n" \
  "  seq_len = 4096;\n" \
  "  recompute = \"full\";\n" \
  "  train_tokens = 5e9;\n" \
  "};\n"

static json_t *load_plan(const char *dir)
{
  return load_json(dir, "plan.json");
}

static double num(json_t *o, const char *a, const char *b)
{
  json_t *x = json_object_get(o, a);
  if (b) x = json_object_get(x, b);
  return json_is_number(x) ? json_number_value(x) : NAN;
}

static const char *str(json_t *o, const char *a, const char *b)
{
  json_t *x = json_object_get(json_object_get(o, a), b);
  return json_is_string(x) ? json_string_value(x) : "";
}

static void test_objective(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plan_train_objective");
  char *cfg = cs_write_file(dir, "small.cfg", SMALL_TRAIN);
  char *out_t = path_join(dir, "time"), *out_c = path_join(dir, "cost");
  /* an H100 at $20/h: faster, and dearer per run than an A100 at $2.21 */
  result rt = RUN("plan", cfg, "--candidates", "gpu=a100-80gb-sxm,h100-sxm", "--gpu-price", "h100-sxm=20", "-q",
                  "-o", out_t);
  CHECK_RC(rt, 0);
  result rc = RUN("plan", cfg, "--objective", "cost", "--candidates", "gpu=a100-80gb-sxm,h100-sxm", "--gpu-price",
                  "h100-sxm=20", "-q", "-o", out_c);
  CHECK_RC(rc, 0);
  json_t *jt = load_plan(out_t), *jc = load_plan(out_c);
  if (jt && jc) {
    CHECK(!strcmp(json_string_value(json_object_get(jt, "objective")), "time"), "objective time");
    CHECK(!strcmp(json_string_value(json_object_get(jc, "objective")), "cost"), "objective cost");
    CHECK(!strcmp(str(jt, "winner", "gpu"), "h100-sxm"), "time: the faster GPU, got %s", str(jt, "winner", "gpu"));
    CHECK(!strcmp(str(jc, "winner", "gpu"), "a100-80gb-sxm"), "cost: the cheaper run, got %s",
          str(jc, "winner", "gpu"));
    CHECK(num(jt, "winner", "train_time_s") < num(jc, "winner", "train_time_s"), "time's winner is faster");
    CHECK(num(jc, "winner", "cost_usd") < num(jt, "winner", "cost_usd"), "cost's winner is cheaper");
    /* GPU-hours = wall time x GPUs / 3600; cost = GPU-hours x price */
    for (int k = 0; k < 2; k++) {
      json_t *j = k ? jc : jt;
      double price = num(j, "winner", "usd_per_gpu_hour");
      CS_CHECK_REL(num(j, "winner", "gpu_hours"), num(j, "winner", "train_time_s") * 16 / 3600, 1e-12, "gpu_hours");
      CS_CHECK_REL(num(j, "winner", "cost_usd"), num(j, "winner", "gpu_hours") * price, 1e-12, "cost_usd");
    }
    CS_CHECK_REL(num(jt, "winner", "usd_per_gpu_hour"), 20, 0, "--gpu-price");
    /* the scenario's own layout never beats the winner */
    CHECK(num(jt, "winner", "train_time_s") <= num(jt, "scenario_layout", "train_time_s"), "own layout vs time");
    CHECK(num(jc, "winner", "cost_usd") <= num(jc, "scenario_layout", "cost_usd"), "own layout vs cost");
    CHECK(num(jt, "layouts_tried", NULL) > 0 && num(jt, "layouts_fit", NULL) > 0, "counts");
  }
  json_decref(jt);
  json_decref(jc);
  /* plan.csv: one row per layout tried, with a reason column */
  char *csv_path = path_join(out_t, "plan.csv");
  char *csv = cs_slurp(csv_path, NULL);
  static const char head[] = "gpu,gpus,tp,cp,pp,dp,ep,micro_batch,interleave,zero,seq_parallel,recompute,";
  CHECK(csv && !strncmp(csv, head, sizeof head - 1),
        "plan.csv header");
  CHECK(csv && strstr(csv, ",reason,first_stage_layers,last_stage_layers,uneven_chunks,cp_comm_type,"
                           "pipeline_schedule,dp_shard\n"),
        "plan.csv reason column, then the uneven stages' and chunks' columns, the cp exchange, the schedule at the end");
  free(csv);
  free(csv_path);
  result_free(&rt);
  result_free(&rc);
  free(out_t);
  free(out_c);
  free(cfg);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* The shipped scenarios as a user runs them: the winner beats or equals
 * the scenario's layout, which is the same run the scenario simulates;
 * the third is LLaMA-65B naming a training stack (megatron-core), whose
 * defaults and efficiencies the plan must take as the run does. */
static void test_shipped(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plan_train_shipped");
  static const char *const files[] = {"train-llama-65b.cfg", "train-gpt3-a100.cfg", "llama-65b-megatron-core.cfg"};
  char *shipped = cs_fmt("%s/scenarios/%s", CS_SOURCE_DIR, files[0]);
  char *text = cs_slurp(shipped, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(text);
  char *at = strstr(text, "training = {\n");
  CU_ASSERT_PTR_NOT_NULL_FATAL(at);
  at += strlen("training = {\n");
  char *with_stack = cs_fmt("%.*s  stack = \"megatron-core\";\n%s", (int)(at - text), text, at);
  free(cs_write_file(dir, files[2], with_stack));
  for (int i = 0; i < 3; i++) {
    char *cfg = i < 2 ? cs_fmt("%s/scenarios/%s", CS_SOURCE_DIR, files[i]) : cs_fmt("%s/%s", dir, files[i]);
    char *out = cs_fmt("%s/plan%d", dir, i), *run = cs_fmt("run%d", i);
    result r = RUN("plan", cfg, "-o", out);
    CHECK_RC(r, 0);
    CHECK_OUT_HAS(r, "gain:");
    json_t *j = load_plan(out);
    char *summary = cs_run_summary(__FILE__, __LINE__, dir, cfg, run, NULL);
    if (j && summary) {
      CHECK(json_is_true(json_object_get(j, "feasible")), "%s feasible", files[i]);
      double own = num(j, "scenario_layout", "train_time_s"), best = num(j, "winner", "train_time_s");
      CHECK(best <= own, "%s: winner %g s, own %g s", files[i], best, own);
      CS_CHECK_REL(own, cs_summary_num(__FILE__, __LINE__, summary, "train_time_closed_form_s"), 1e-12,
                   "own layout = the scenario's run");
      CS_CHECK_REL(num(j, "scenario_layout", "iteration_s"),
                   cs_summary_num(__FILE__, __LINE__, summary, "iteration_time_s"), 1e-12, "own iteration");
      CS_CHECK_REL(num(j, "gain", "train_time_saved_s"), own - best, 1e-12, "gain");
    }
    json_decref(j);
    free(summary);
    result_free(&r);
    free(cfg);
    free(out);
    free(run);
  }
  free(shipped);
  free(text);
  free(with_stack);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* The scenario's own uneven stages (training.first_stage_layers /
 * last_stage_layers) are accepted, shown in scenario_layout, and are the
 * run the scenario simulates; plan.csv carries the two columns. */
static void test_own_uneven(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plan_train_own_uneven");
  /* Llama 3.2 1B: 16 layers on pp 4: 3 + 5 + 5 + 3 */
  char *cfg = cs_write_file(dir, "uneven.cfg",
                            "name = \"plan-train-uneven\";\n"
                            "training = {\n  model = \"llama3.2-1b\";\n  gpu = \"a100-80gb-sxm\";\n  gpus = 16;\n"
                            "  tp = 2;\n  pp = 4;\n  first_stage_layers = 3;\n  last_stage_layers = 3;\n"
                            "  global_batch = 64;\n  seq_len = 4096;\n  train_tokens = 5e9;\n};\n");
  char *out = path_join(dir, "out");
  result r = RUN("plan", cfg, "-o", out);
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "scenario a100-80gb-sxm x 16: tp 2 cp 1 pp 4 (first 3 last 3 layers) dp 2");
  CHECK_OUT_HAS(r, "with uneven first/last stages");
  json_t *j = load_plan(out);
  char *summary = cs_run_summary(__FILE__, __LINE__, dir, cfg, "run", NULL);
  if (j && summary) {
    CS_CHECK_REL(num(j, "scenario_layout", "first_stage_layers"), 3, 0, "own first_stage_layers");
    CS_CHECK_REL(num(j, "scenario_layout", "last_stage_layers"), 3, 0, "own last_stage_layers");
    CHECK(json_is_true(json_object_get(json_object_get(j, "scenario_layout"), "fits")), "own layout fits");
    CS_CHECK_REL(num(j, "scenario_layout", "train_time_s"),
                 cs_summary_num(__FILE__, __LINE__, summary, "train_time_closed_form_s"), 1e-12,
                 "own uneven layout = the scenario's run");
    CHECK(num(j, "winner", "train_time_s") <= num(j, "scenario_layout", "train_time_s"), "winner vs own");
    CHECK(num(j, "layouts_uneven", NULL) > 0, "uneven layouts counted");
    CHECK(num(j, "layouts_uneven", NULL) < num(j, "layouts_tried", NULL), "uneven layouts among those tried");
    CHECK(json_is_string(json_object_get(j, "stage_splits")), "the splits explained");
    CHECK(json_is_number(json_object_get(json_object_get(j, "winner"), "first_stage_layers")), "winner's stages");
  }
  json_decref(j);
  free(summary);
  /* the uneven rows of plan.csv end in their split: pp 4 with 3 and 3 is
   * one, with equal or uneven chunks */
  char *csv_path = path_join(out, "plan.csv");
  char *csv = cs_slurp(csv_path, NULL);
  CHECK(csv && strstr(csv, ",3,3,0,p2p,1f1b,0\n") && strstr(csv, ",3,3,1,p2p,1f1b,0\n"), "plan.csv rows with first 3, last 3");
  free(csv);
  free(csv_path);
  result_free(&r);
  free(out);
  free(cfg);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

static void test_infeasible(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plan_train_infeasible");
  char *cfg = cs_write_file(dir, "big.cfg",
                            "name = \"big\";\n"
                            "training = { model = \"llama-65b\"; gpu = \"a10\"; gpus = 8; global_batch = 64;\n"
                            "  train_tokens = 1e9; };\n");
  char *out = path_join(dir, "out");
  result r = RUN("plan", cfg, "-q", "-o", out);
  CHECK_RC(r, 0);
  json_t *j = load_plan(out);
  if (j) {
    CHECK(json_is_false(json_object_get(j, "feasible")), "feasible false");
    CHECK(json_is_null(json_object_get(j, "winner")), "no winner");
    json_t *why = json_object_get(j, "why_infeasible");
    CHECK(json_is_string(why) && strstr(json_string_value(why), "out of memory"), "why: out of memory");
    CHECK(!strncmp(str(j, "scenario_layout", "reason"), "out of memory by ", 17), "own layout's reason: %s",
          str(j, "scenario_layout", "reason"));
  }
  json_decref(j);
  result_free(&r);
  free(out);
  free(cfg);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

static void test_usage(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plan_train_usage");
  char *cfg = cs_write_file(dir, "small.cfg", SMALL_TRAIN);
  char *serving = cs_fmt("%s/scenarios/llama2-70b-a100.cfg", CS_SOURCE_DIR);
  struct {
    const char *args[8];
    const char *want;
  } cases[] = {
    {{"plan", cfg, "--slo", "ttft_p99_s=2", "-o", dir}, "--slo is for serving scenarios"},
    {{"plan", cfg, "--pricing", "spot", "-o", dir}, "--pricing is for serving scenarios"},
    {{"plan", cfg, "--objective", "fast", "-o", dir}, "--objective: expected time or cost, got 'fast'"},
    {{"plan", cfg, "--candidates", "gpus=0", "-o", dir}, "gpus must be GPU counts from 1 to 10000000, got '0'"},
    {{"plan", cfg, "--candidates", "zero=4", "-o", dir}, "zero must be ZeRO stages 0 to 3, got '4'"},
    {{"plan", cfg, "--candidates", "gpu=nope", "-o", dir}, "unknown GPU \"nope\""},
    {{"plan", cfg, "--gpu-price", "h100-sxm=3", "-o", dir}, "--gpu-price: h100-sxm is not a candidate GPU"},
    {{"plan", serving, "--objective", "time", "-o", dir}, "--objective and --candidates gpus=/zero= are for training"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *argv[9] = {0};
    memcpy(argv, cases[i].args, sizeof cases[i].args);
    result r = run_argv(NULL, argv);
    CHECK_RC(r, 2);
    CHECK_ERR_HAS(r, cases[i].want);
    result_free(&r);
  }
  free(serving);
  free(cfg);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

int main(void)
{
  if (!cs_catalogs()) return 1;
  static const cs_test tests[] = {
    {"the winner equals an exhaustive search; counts match", test_exhaustive},
    {"heads that tp does not divide, counted by hand", test_heads},
    {"stage splits: even, then first / last by total, bounded", test_stage_splits},
    {"a layer count pp does not divide: the uneven winner", test_uneven_winner},
    {"--objective cost picks the cheaper run, time the faster", test_objective},
    {"shipped scenarios: the own layout is the scenario's run, never better", test_shipped},
    {"the scenario's own uneven stages are accepted and are its run", test_own_uneven},
    {"nothing fits: exit 0, feasible false, why", test_infeasible},
    {"bad options exit 2 with a clear message", test_usage},
    {NULL, NULL},
  };
  int rc = cs_run_suite("plan_train", tests);
  cs_catalogs_free();
  return rc;
}
