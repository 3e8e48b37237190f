/* tests/unit/test_kvcache.c: the paged KV cache (models/serving/kvcache).
 * Known answers: block arithmetic by hand (17 tokens in 16-token blocks
 * hold 2 blocks), filling to capacity, vLLM's watermark rule, the peak;
 * 10^5 random reserve/grow/free operations against a reference that
 * recounts every block from the token counts; capacity from bytes by hand
 * (Llama 2 7B and 70B, A100-80GB), and agreement with llm_memory_need;
 * records kept by the caller (kv_rec_*, kv_rec_try_grow) account exactly
 * as ids do; broken
 * invariants (double free, over capacity) abort. */
#include <fcntl.h>
#include <gsl/gsl_rng.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "models/serving/kvcache.h"
#include "driver/config/catalog_load.h"
#include "sim/rng.h"
#include "cattest.h"
#include "testutil.h"




/* ------------------------------------------------------- arithmetic -- */

static void test_block_arithmetic(void)
{
  kv_cache c;
  kv_init(&c, 10, 16, 0.0, 4);
  CU_ASSERT_EQUAL(kv_blocks_for(&c, 0), 0);
  CU_ASSERT_EQUAL(kv_blocks_for(&c, 1), 1);
  CU_ASSERT_EQUAL(kv_blocks_for(&c, 16), 1);
  CU_ASSERT_EQUAL(kv_blocks_for(&c, 17), 2);
  CU_ASSERT_EQUAL(kv_blocks_for(&c, 32), 2);
  CU_ASSERT_EQUAL(kv_blocks_for(&c, 33), 3);

  /* 17 tokens: one full block and one holding a single token */
  kv_seq_reserve(&c, 0, 17);
  CU_ASSERT_TRUE(kv_seq_live(&c, 0));
  CU_ASSERT_EQUAL(kv_seq_tokens(&c, 0), 17);
  CU_ASSERT_EQUAL(kv_seq_blocks(&c, 0), 2);
  CU_ASSERT_EQUAL(kv_used_blocks(&c), 2);
  CU_ASSERT_EQUAL(kv_free_blocks(&c), 8);
  CS_ASSERT_REL(kv_used_fraction(&c), 0.2, 1e-15);

  /* the second block fills at 32 tokens: 15 more take no block */
  CU_ASSERT_EQUAL(kv_seq_grow_need(&c, 0, 15), 0);
  kv_seq_grow(&c, 0, 15);
  CU_ASSERT_EQUAL(kv_seq_tokens(&c, 0), 32);
  CU_ASSERT_EQUAL(kv_used_blocks(&c), 2);
  /* the 33rd token opens block 3; 33 more tokens (to 65) need 3 blocks */
  CU_ASSERT_EQUAL(kv_seq_grow_need(&c, 0, 1), 1);
  CU_ASSERT_EQUAL(kv_seq_grow_need(&c, 0, 33), 3);
  kv_seq_grow(&c, 0, 1);
  CU_ASSERT_EQUAL(kv_seq_blocks(&c, 0), 3);
  CU_ASSERT_EQUAL(kv_used_blocks(&c), 3);

  /* a sequence may start empty and take its first block on its first token */
  kv_seq_reserve(&c, 3, 0);
  CU_ASSERT_TRUE(kv_seq_live(&c, 3));
  CU_ASSERT_EQUAL(kv_seq_blocks(&c, 3), 0);
  CU_ASSERT_EQUAL(kv_live_seqs(&c), 2);
  kv_seq_grow(&c, 3, 1);
  CU_ASSERT_EQUAL(kv_seq_blocks(&c, 3), 1);
  kv_seq_grow(&c, 3, 0);
  CU_ASSERT_EQUAL(kv_used_blocks(&c), 4);

  /* free ids report nothing */
  CU_ASSERT_FALSE(kv_seq_live(&c, 1));
  CU_ASSERT_EQUAL(kv_seq_tokens(&c, 1), 0);
  CU_ASSERT_EQUAL(kv_seq_blocks(&c, 1), 0);

  /* block size 1: blocks are tokens */
  kv_cache one;
  kv_init(&one, 100, 1, 0.0, 1);
  kv_seq_reserve(&one, 0, 37);
  CU_ASSERT_EQUAL(kv_used_blocks(&one), 37);
  kv_release(&one);
  kv_release(&c);
}

static void test_fill_and_refuse(void)
{
  /* 8 blocks of 16, no watermark: eight 16-token sequences fill it */
  kv_cache c;
  kv_init(&c, 8, 16, 0.0, 16);
  CU_ASSERT_EQUAL(kv_admit_check(&c, 8 * 16), KV_ADMIT_OK);
  CU_ASSERT_EQUAL(kv_admit_check(&c, 8 * 16 + 1), KV_ADMIT_NEVER);
  for (int i = 0; i < 8; i++) {
    CU_ASSERT_TRUE(kv_can_admit(&c, 16));
    kv_seq_reserve(&c, i, 16);
  }
  CU_ASSERT_EQUAL(kv_used_blocks(&c), 8);
  CU_ASSERT_EQUAL(kv_free_blocks(&c), 0);
  CS_ASSERT_REL(kv_used_fraction(&c), 1.0, 0);
  /* full: nothing admitted, nothing grows past its last block */
  CU_ASSERT_FALSE(kv_can_admit(&c, 1));
  CU_ASSERT_EQUAL(kv_admit_check(&c, 1), KV_ADMIT_LATER);
  CU_ASSERT_EQUAL(kv_admit_check(&c, 0), KV_ADMIT_OK);  /* an empty sequence takes no block */
  CU_ASSERT_FALSE(kv_can_grow(&c, 0, 1));
  CU_ASSERT_TRUE(kv_can_grow(&c, 0, 0));
  /* one freed sequence makes room for exactly one block */
  kv_seq_free(&c, 5);
  CU_ASSERT_TRUE(kv_can_grow(&c, 0, 16));
  CU_ASSERT_FALSE(kv_can_grow(&c, 0, 17));
  CU_ASSERT_TRUE(kv_can_admit(&c, 16));
  CU_ASSERT_FALSE(kv_can_admit(&c, 17));
  kv_seq_grow(&c, 0, 16);
  CU_ASSERT_FALSE(kv_can_admit(&c, 1));

  /* freeing everything gives every block back */
  for (int i = 0; i < 8; i++)
    if (kv_seq_live(&c, i)) kv_seq_free(&c, i);
  CU_ASSERT_EQUAL(kv_used_blocks(&c), 0);
  CU_ASSERT_EQUAL(kv_free_blocks(&c), 8);
  CU_ASSERT_EQUAL(kv_live_seqs(&c), 0);
  CU_ASSERT_EQUAL(kv_used_fraction(&c), 0.0);
  CU_ASSERT_EQUAL(kv_peak_fraction(&c), 1.0);
  /* ids are reusable once freed */
  kv_seq_reserve(&c, 5, 100);
  CU_ASSERT_EQUAL(kv_used_blocks(&c), 7);
  kv_release(&c);

  /* a zero-capacity cache admits only empty sequences */
  kv_cache z;
  kv_init(&z, 0, 16, KV_WATERMARK_DEFAULT, 1);
  CU_ASSERT_EQUAL(kv_admit_check(&z, 1), KV_ADMIT_NEVER);
  CU_ASSERT_EQUAL(kv_admit_check(&z, 0), KV_ADMIT_OK);
  CU_ASSERT_EQUAL(kv_used_fraction(&z), 0.0);
  CU_ASSERT_EQUAL(kv_peak_fraction(&z), 0.0);
  kv_release(&z);
}

static void test_watermark(void)
{
  /* vLLM: watermark_blocks = int(0.01 x 1000) = 10; admit iff
   * free - needed >= 10; never iff total - needed < 10 */
  kv_cache c;
  kv_init(&c, 1000, 16, KV_WATERMARK_DEFAULT, 8);
  CU_ASSERT_EQUAL(c.watermark_blocks, 10);
  CU_ASSERT_EQUAL(kv_admit_check(&c, 990 * 16), KV_ADMIT_OK);
  CU_ASSERT_EQUAL(kv_admit_check(&c, 990 * 16 + 1), KV_ADMIT_NEVER);
  kv_seq_reserve(&c, 0, 900 * 16);           /* 100 free */
  CU_ASSERT_EQUAL(kv_admit_check(&c, 90 * 16), KV_ADMIT_OK);
  CU_ASSERT_EQUAL(kv_admit_check(&c, 90 * 16 + 1), KV_ADMIT_LATER);
  kv_seq_reserve(&c, 1, 90 * 16);            /* 10 free: the watermark */
  CU_ASSERT_FALSE(kv_can_admit(&c, 1));
  CU_ASSERT_EQUAL(kv_admit_check(&c, 0), KV_ADMIT_OK);
  /* running sequences may grow into the watermark, to the last block */
  CU_ASSERT_TRUE(kv_can_grow(&c, 0, 10 * 16));
  CU_ASSERT_FALSE(kv_can_grow(&c, 0, 10 * 16 + 1));
  kv_seq_grow(&c, 1, 10 * 16);
  CU_ASSERT_EQUAL(kv_free_blocks(&c), 0);
  CU_ASSERT_EQUAL(kv_peak_fraction(&c), 1.0);
  kv_release(&c);

  /* floor: 150 blocks at 1% keep 1 block; 99 blocks keep none */
  kv_init(&c, 150, 16, KV_WATERMARK_DEFAULT, 1);
  CU_ASSERT_EQUAL(c.watermark_blocks, 1);
  CU_ASSERT_TRUE(kv_can_admit(&c, 149 * 16));
  CU_ASSERT_EQUAL(kv_admit_check(&c, 150 * 16), KV_ADMIT_NEVER);
  kv_release(&c);
  kv_init(&c, 99, 16, KV_WATERMARK_DEFAULT, 1);
  CU_ASSERT_EQUAL(c.watermark_blocks, 0);
  CU_ASSERT_TRUE(kv_can_admit(&c, 99 * 16));
  kv_release(&c);
  /* a larger watermark: 25% of 40 = 10 */
  kv_init(&c, 40, 8, 0.25, 1);
  CU_ASSERT_TRUE(kv_can_admit(&c, 30 * 8));
  CU_ASSERT_FALSE(kv_can_admit(&c, 30 * 8 + 1));
  kv_release(&c);
}

static void test_peak(void)
{
  kv_cache c;
  kv_init(&c, 20, 4, 0.0, 4);
  kv_seq_reserve(&c, 0, 12);  /* 3 */
  kv_seq_reserve(&c, 1, 20);  /* 5: 8 used */
  CS_ASSERT_REL(kv_peak_fraction(&c), 8.0 / 20, 1e-15);
  kv_seq_free(&c, 1);         /* 3 used, peak stays 8 */
  CS_ASSERT_REL(kv_used_fraction(&c), 3.0 / 20, 1e-15);
  CS_ASSERT_REL(kv_peak_fraction(&c), 8.0 / 20, 1e-15);
  kv_seq_grow(&c, 0, 13);     /* 25 tokens: 7 blocks, still below the peak */
  CS_ASSERT_REL(kv_peak_fraction(&c), 8.0 / 20, 1e-15);
  kv_seq_grow(&c, 0, 8);      /* 33 tokens: 9 blocks, a new peak */
  CS_ASSERT_REL(kv_peak_fraction(&c), 9.0 / 20, 1e-15);
  kv_seq_free(&c, 0);
  kv_reset_peak(&c);          /* restarts from the current use: 0 */
  CU_ASSERT_EQUAL(kv_peak_fraction(&c), 0.0);
  kv_seq_reserve(&c, 2, 1);
  CS_ASSERT_REL(kv_peak_fraction(&c), 1.0 / 20, 1e-15);
  kv_release(&c);
}

/* ------------------------------------------------------ randomized -- */

enum { RAND_SEQS = 64, RAND_OPS = 100000 };

/* Blocks held, recounted from the reference token counts (-1: free). */
static int64_t ref_used(const int64_t *tok, int64_t bt)
{
  int64_t used = 0;
  for (int i = 0; i < RAND_SEQS; i++)
    if (tok[i] >= 0) used += (tok[i] + bt - 1) / bt;
  return used;
}

static void test_random_against_reference(void)
{
  const int64_t cap = 600, bt = 16;
  kv_cache c;
  kv_init(&c, cap, (int)bt, 0.02, RAND_SEQS);
  gsl_rng *rng = sim_rng_alloc(7, "test.kvcache");
  int64_t tok[RAND_SEQS], peak = 0;
  for (int i = 0; i < RAND_SEQS; i++) tok[i] = -1;
  uint64_t reserves = 0, grows = 0, frees = 0, refused = 0;
  int bad = 0;
  for (int op = 0; op < RAND_OPS; op++) {
    int id = (int)gsl_rng_uniform_int(rng, RAND_SEQS);
    int64_t used = ref_used(tok, bt);
    if (tok[id] < 0) {
      /* admit a prompt of 0..400 tokens when the watermark allows */
      int64_t n = (int64_t)gsl_rng_uniform_int(rng, 401);
      int64_t need = (n + bt - 1) / bt, wm = 12; /* floor(0.02 x 600) */
      bool ok = cap - used - need >= wm;
      bad += kv_can_admit(&c, n) != ok;
      if (ok) {
        kv_seq_reserve(&c, id, n);
        tok[id] = n;
        reserves++;
      } else {
        refused++;
      }
    } else if (gsl_rng_uniform(rng) < 0.85) {
      /* decode one token, or a chunk of up to 40 */
      int64_t n = gsl_rng_uniform(rng) < 0.8 ? 1 : (int64_t)gsl_rng_uniform_int(rng, 41);
      int64_t need = (tok[id] + n + bt - 1) / bt - (tok[id] + bt - 1) / bt;
      bad += kv_seq_grow_need(&c, id, n) != need;
      bool ok = need <= cap - used;
      bad += kv_can_grow(&c, id, n) != ok;
      if (ok) {
        kv_seq_grow(&c, id, n);
        tok[id] += n;
        grows++;
      } else {
        kv_seq_free(&c, id); /* preempted */
        tok[id] = -1;
        frees++;
      }
    } else {
      kv_seq_free(&c, id);
      tok[id] = -1;
      frees++;
    }
    used = ref_used(tok, bt);
    if (used > peak) peak = used;
    bad += kv_used_blocks(&c) != used;
    bad += kv_seq_tokens(&c, id) != (tok[id] < 0 ? 0 : tok[id]);
    bad += kv_seq_blocks(&c, id) != (tok[id] < 0 ? 0 : (tok[id] + bt - 1) / bt);
    bad += kv_peak_fraction(&c) != (double)peak / (double)cap;
  }
  int live = 0;
  for (int i = 0; i < RAND_SEQS; i++) live += tok[i] >= 0;
  CU_ASSERT_EQUAL(kv_live_seqs(&c), live);
  CU_ASSERT_EQUAL(bad, 0);
  /* the mix reached every branch, and the cache ran full */
  CU_ASSERT(reserves > 1000 && grows > 10000 && frees > 1000 && refused > 1000);
  CU_ASSERT(peak >= cap - 40);
  printf("\n    %llu reserves, %llu grows, %llu frees, %llu refused, peak %lld/%lld  ",
         (unsigned long long)reserves, (unsigned long long)grows, (unsigned long long)frees,
         (unsigned long long)refused, (long long)peak, (long long)cap);
  for (int i = 0; i < RAND_SEQS; i++)
    if (tok[i] >= 0) kv_seq_free(&c, i);
  CU_ASSERT_EQUAL(kv_used_blocks(&c), 0);
  gsl_rng_free(rng);
  kv_release(&c);
}

/* A cache whose records the caller keeps (max_seqs 0) and one with an id
 * table, driven through the same random operations: the same answers,
 * blocks and peak at every step. */
static void test_records_match_ids(void)
{
  const int64_t cap = 300, bt = 8;
  kv_cache a, b;
  kv_init(&a, cap, (int)bt, 0.05, 0);
  kv_init(&b, cap, (int)bt, 0.05, RAND_SEQS);
  CU_ASSERT_PTR_NULL(a.ids);
  kv_rec rec[RAND_SEQS];
  for (int i = 0; i < RAND_SEQS; i++) {
    kv_rec_clear(&rec[i]);
    CU_ASSERT_FALSE(kv_rec_live(&rec[i]));
  }
  gsl_rng *rng = sim_rng_alloc(8, "test.kvcache.rec");
  int bad = 0;
  for (int op = 0; op < RAND_OPS; op++) {
    int id = (int)gsl_rng_uniform_int(rng, RAND_SEQS);
    int64_t n = (int64_t)gsl_rng_uniform_int(rng, 60);
    if (!kv_rec_live(&rec[id])) {
      bad += kv_seq_live(&b, id);
      bad += kv_admit_check(&a, n) != kv_admit_check(&b, n);
      if (kv_can_admit(&a, n)) {
        kv_rec_reserve(&a, &rec[id], n);
        kv_seq_reserve(&b, id, n);
      }
    } else if (op % 5) {
      bad += kv_rec_grow_need(&a, &rec[id], n) != kv_seq_grow_need(&b, id, n);
      bool can = kv_can_grow(&b, id, n);
      bad += kv_rec_can_grow(&a, &rec[id], n) != can;
      /* half the time in one call, which grows exactly when it can and
       * otherwise changes nothing */
      int64_t held = kv_rec_tokens(&rec[id]);
      bool grew = false;
      if (op % 2)
        grew = kv_rec_try_grow(&a, &rec[id], n);
      else if (can)
        kv_rec_grow(&a, &rec[id], n), grew = true;
      bad += grew != can;
      if (!grew) bad += kv_rec_tokens(&rec[id]) != held;
      if (can) kv_seq_grow(&b, id, n);
    } else {
      kv_rec_free(&a, &rec[id]);
      kv_seq_free(&b, id);
    }
    bad += kv_rec_tokens(&rec[id]) != kv_seq_tokens(&b, id);
    bad += kv_rec_blocks(&rec[id]) != kv_seq_blocks(&b, id);
    bad += kv_rec_blocks(&rec[id]) != (kv_rec_tokens(&rec[id]) + bt - 1) / bt;
    bad += kv_used_blocks(&a) != kv_used_blocks(&b) || kv_peak_fraction(&a) != kv_peak_fraction(&b);
    bad += kv_live_seqs(&a) != kv_live_seqs(&b);
  }
  CU_ASSERT_EQUAL(bad, 0);
  CU_ASSERT(kv_peak_fraction(&a) > 0.9);
  gsl_rng_free(rng);
  kv_release(&a);
  kv_release(&b);
}

/* -------------------------------------------------------- capacity -- */

static void test_capacity_from_bytes(void)
{
  /* Llama 2 7B, fp16: 2 x 32 layers x 32 KV heads x 128 x 2 bytes = 524,288
   * bytes a token; a 16-token block is 8 MiB; 40 GiB hold 40 x 1024 / 8 =
   * 5,120 blocks, one byte less 5,119 */
  const double gib = 1073741824.0;
  CU_ASSERT_EQUAL(kv_blocks_in_bytes(40 * gib, 524288, 16), 5120);
  CU_ASSERT_EQUAL(kv_blocks_in_bytes(40 * gib - 1, 524288, 16), 5119);
  CU_ASSERT_EQUAL(kv_blocks_in_bytes(8388608, 524288, 16), 1);
  CU_ASSERT_EQUAL(kv_blocks_in_bytes(8388607, 524288, 16), 0);
  CU_ASSERT_EQUAL(kv_blocks_in_bytes(0, 524288, 16), 0);
  CU_ASSERT_EQUAL(kv_blocks_in_bytes(-1e9, 524288, 16), 0);
  /* block size 32 halves the count */
  CU_ASSERT_EQUAL(kv_blocks_in_bytes(40 * gib, 524288, 32), 2560);

  const gpu_spec *a100 = cs_gpu("a100-80gb-sxm");
  llm_replica r;
  llm_replica_init(&r, cs_model("llama2-7b"), a100, GPU_FP16, 1, 1, NULL, NULL, 0);
  CU_ASSERT_EQUAL(kv_bytes_per_token_gpu(&r), 524288.0);
  /* the whole replica: 0.9 x 80 GiB = 77,309,411,328 bytes usable, less
   * 6,738,415,616 parameters x 2 bytes = 13,476,831,232 of weights, leaves
   * 63,832,580,096 bytes: / 8,388,608 = 7,609.4, so 7,609 blocks */
  CU_ASSERT_EQUAL(kv_replica_blocks(&r, 16, 0, 0), 7609);
  /* a step's activations take some: fewer blocks, and agreement with
   * llm_memory_need */
  llm_memory mem;
  llm_memory_need(&r, 0, 8192, 256, &mem);
  int64_t b = kv_replica_blocks(&r, 16, 8192, 256);
  CU_ASSERT(b < 7609);
  CU_ASSERT_EQUAL(b, (int64_t)((mem.usable - mem.total) / (524288.0 * 16)));
  llm_memory_need(&r, (double)b * 16, 8192, 256, &mem);
  CU_ASSERT(mem.total <= mem.usable);
  llm_memory_need(&r, (double)(b + 1) * 16, 8192, 256, &mem);
  CU_ASSERT(mem.total > mem.usable);

  /* Llama 2 70B (GQA, 8 KV heads): 2 x 80 x 8 x 128 x 2 = 327,680 bytes a
   * token; tp 8 splits the KV heads: 40,960 per GPU; tp 16 cannot split 8
   * heads further (still 40,960); pp 2 halves the layers: 20,480 */
  const llm_arch *m70 = cs_model("llama2-70b");
  llm_replica_init(&r, m70, a100, GPU_FP16, 8, 1, NULL, NULL, 0);
  CU_ASSERT_EQUAL(kv_bytes_per_token_gpu(&r), 40960.0);
  llm_replica_init(&r, m70, a100, GPU_FP16, 16, 1, NULL, NULL, 0);
  CU_ASSERT_EQUAL(kv_bytes_per_token_gpu(&r), 40960.0);
  llm_replica_init(&r, m70, a100, GPU_FP16, 8, 2, NULL, NULL, 0);
  CU_ASSERT_EQUAL(kv_bytes_per_token_gpu(&r), 20480.0);
  /* per-GPU bytes times tokens is llm_memory_need's KV share */
  llm_memory_need(&r, 1000, 0, 0, &mem);
  CS_ASSERT_REL(mem.kv, 1000 * 20480.0, 1e-15);
  /* fp8 halves it */
  llm_replica_init(&r, m70, a100, GPU_FP8, 8, 1, NULL, NULL, 0);
  CU_ASSERT_EQUAL(kv_bytes_per_token_gpu(&r), 20480.0);

  /* a model that leaves no room gives 0 blocks, not a negative count */
  llm_replica_init(&r, cs_model("gpt3-175b"), a100, GPU_FP16, 1, 1, NULL, NULL, 0);
  CU_ASSERT_EQUAL(kv_replica_blocks(&r, 16, 0, 0), 0);
}

/* ---------------------------------------------------------- SIM_BUG -- */


static kv_cache bug_cache(void)
{
  kv_cache c;
  kv_init(&c, 4, 16, 0.0, 2);
  return c;
}

static void double_free(void) { kv_cache c = bug_cache(); kv_seq_reserve(&c, 0, 5); kv_seq_free(&c, 0); kv_seq_free(&c, 0); }
static void free_unused(void) { kv_cache c = bug_cache(); kv_seq_free(&c, 1); }
static void reserve_live(void) { kv_cache c = bug_cache(); kv_seq_reserve(&c, 0, 5); kv_seq_reserve(&c, 0, 5); }
static void reserve_over(void) { kv_cache c = bug_cache(); kv_seq_reserve(&c, 0, 65); }
static void grow_over(void) { kv_cache c = bug_cache(); kv_seq_reserve(&c, 0, 64); kv_seq_grow(&c, 0, 1); }
static void grow_free(void) { kv_cache c = bug_cache(); kv_seq_grow(&c, 1, 1); }
static void id_range(void) { kv_cache c = bug_cache(); kv_seq_reserve(&c, 2, 1); }
static void id_negative(void) { kv_cache c = bug_cache(); kv_seq_live(&c, -1); }
static void negative_tokens(void) { kv_cache c = bug_cache(); kv_seq_reserve(&c, 0, 1); kv_seq_grow(&c, 0, -1); }
static void rec_double_free(void) { kv_cache c = bug_cache(); kv_rec r; kv_rec_clear(&r); kv_rec_reserve(&c, &r, 5); kv_rec_free(&c, &r); kv_rec_free(&c, &r); }
static void rec_reserve_live(void) { kv_cache c = bug_cache(); kv_rec r; kv_rec_clear(&r); kv_rec_reserve(&c, &r, 1); kv_rec_reserve(&c, &r, 1); }
static void rec_grow_free(void) { kv_cache c = bug_cache(); kv_rec r; kv_rec_clear(&r); kv_rec_grow(&c, &r, 1); }
static void rec_too_long(void)
{
  kv_cache c;
  kv_init(&c, INT64_C(1) << 40, 1, 0.0, 0);
  kv_rec r;
  kv_rec_clear(&r);
  kv_rec_reserve(&c, &r, KV_SEQ_MAX_TOKENS);
  kv_rec_grow(&c, &r, 1);
}
static void fits_exactly(void) { kv_cache c = bug_cache(); kv_seq_reserve(&c, 0, 48); kv_seq_reserve(&c, 1, 1); kv_seq_grow(&c, 1, 15); kv_release(&c); }

static void test_invariants_abort(void)
{
  CU_ASSERT(cs_aborts(double_free));
  CU_ASSERT(cs_aborts(free_unused));
  CU_ASSERT(cs_aborts(reserve_live));
  CU_ASSERT(cs_aborts(reserve_over));
  CU_ASSERT(cs_aborts(grow_over));
  CU_ASSERT(cs_aborts(grow_free));
  CU_ASSERT(cs_aborts(id_range));
  CU_ASSERT(cs_aborts(id_negative));
  CU_ASSERT(cs_aborts(negative_tokens));
  CU_ASSERT(cs_aborts(rec_double_free));
  CU_ASSERT(cs_aborts(rec_reserve_live));
  CU_ASSERT(cs_aborts(rec_grow_free));
  CU_ASSERT(cs_aborts(rec_too_long));
  CU_ASSERT(!cs_aborts(fits_exactly));
}


int main(void)
{
  if (!cs_catalogs()) return 1;
  static const cs_test tests[] = {
    {"block arithmetic by hand", test_block_arithmetic},
    {"fill to capacity, refuse, free everything", test_fill_and_refuse},
    {"watermark (vLLM's rule)", test_watermark},
    {"peak fraction", test_peak},
    {"1e5 random operations against a reference", test_random_against_reference},
    {"records kept by the caller account as ids do", test_records_match_ids},
    {"capacity from bytes by hand", test_capacity_from_bytes},
    {"broken invariants abort", test_invariants_abort},
    {NULL, NULL},
  };
  int rc = cs_run_suite("kvcache", tests);
  cs_catalogs_free();
  return rc;
}
