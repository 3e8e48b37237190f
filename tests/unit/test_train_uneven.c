/* tests/unit/test_train_uneven.c: uneven pipeline stages in the training
 * model (Megatron-Core's --decoder-first/last-pipeline-num-layers:
 * train_stage_layers, train_stages_check, train_memory_stage, train_step):
 * layer counts per stage by hand, the schedule with one heavier stage
 * against 1F1B's closed form, memory of the heavier stage written out, a
 * job with first = last = layers / pp against the even job (also
 * interleaved), uneven stages with interleaving (v 2) by hand, what a stage
 * holds at its peak with chunks of different sizes (by hand and against
 * every op of Megatron's order), and the flags
 * and keys (estimate --train, training.*, the job queue's jobs) with the
 * messages of bad values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "models/training/train.h"
#include "sim/catalog.h"
#include "cattest.h"
#include "clitest.h"
#include "testutil.h"

static const gpu_spec *gpu(const char *n) { return sim_catalog_find(cs_catalogs(), "gpus", n); }
static const llm_arch *model(const char *n) { return sim_catalog_find(cs_catalogs(), "models", n); }

/* A Llama-style model of 32 layers: h 4096, 32 heads, gated MLP, no dropout. */
static llm_arch llama(void)
{
  return (llm_arch){.name = "llama", .layers = 32, .hidden = 4096, .heads = 32, .kv_heads = 32, .ffn = 11008,
                    .vocab = 32000, .max_context = 131072, .ffn_kind = LLM_FFN_GATED, .positions = LLM_POS_ROTARY,
                    .norm = LLM_NORM_RMS, .experts = 1, .experts_active = 1, .dropout_free = true};
}

/* pp stages on pp GPUs of one H100 node, dp 1, tp 1, no recomputation,
 * 8 micro-batches of one 2,048-token sequence. */
static void job(train_job *j, const llm_arch *m, int pp, int first, int last)
{
  train_job_init(j, m, gpu("h100-sxm"));
  j->pp = pp;
  j->global_batch = 8;
  j->recompute = LLM_RECOMPUTE_NONE;
  j->first_stage_layers = first;
  j->last_stage_layers = last;
}

/* DeepSeek-V3, 61 layers over 16 stages, first 4, last 1: 61 - 5 = 56 over
 * the 14 middle stages, 4 each. Llama 3.1 405B, 126 over 16, first 7 last
 * 7: 112 / 14 = 8. 32 over 4 with first 5 only: 27 / 3 = 9; last 2 only:
 * 30 / 3 = 10; first 16 last 16 over 2: no middle stage. */
static void test_layers_by_hand(void)
{
  char why[512];
  train_job j;
  const llm_arch *ds = model("deepseek-v3");
  CU_ASSERT_PTR_NOT_NULL_FATAL(ds);
  CU_ASSERT_EQUAL(ds->layers, 61);
  job(&j, ds, 16, 4, 1);
  CU_ASSERT_TRUE(train_uneven(&j));
  CU_ASSERT_EQUAL(train_stage_layers(&j, 0), 4);
  for (int s = 1; s < 15; s++) CU_ASSERT_EQUAL(train_stage_layers(&j, s), 4);
  CU_ASSERT_EQUAL(train_stage_layers(&j, 15), 1);
  CU_ASSERT_EQUAL(train_chunk_layers(&j), 4);
  const llm_arch *l405 = model("llama3.1-405b");
  CU_ASSERT_PTR_NOT_NULL_FATAL(l405);
  job(&j, l405, 16, 7, 7);
  CU_ASSERT_EQUAL(train_stage_layers(&j, 0), 7);
  CU_ASSERT_EQUAL(train_stage_layers(&j, 1), 8);
  CU_ASSERT_EQUAL(train_stage_layers(&j, 14), 8);
  CU_ASSERT_EQUAL(train_stage_layers(&j, 15), 7);
  CU_ASSERT_EQUAL(train_chunk_layers(&j), 8);
  llm_arch m = llama();
  job(&j, &m, 4, 5, 0);
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  int want[4] = {5, 9, 9, 9};
  for (int s = 0; s < 4; s++) CU_ASSERT_EQUAL(train_stage_layers(&j, s), want[s]);
  job(&j, &m, 4, 0, 2);
  int want2[4] = {10, 10, 10, 2};
  for (int s = 0; s < 4; s++) CU_ASSERT_EQUAL(train_stage_layers(&j, s), want2[s]);
  job(&j, &m, 2, 16, 16);
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  CU_ASSERT_EQUAL(train_stage_layers(&j, 0) + train_stage_layers(&j, 1), 32);
  /* full recomputation of 6 layers a stage: the first stage's 5 all, the others 6 */
  job(&j, &m, 4, 5, 0);
  j.recompute = LLM_RECOMPUTE_FULL;
  j.recompute_layers = 6;
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  CU_ASSERT_EQUAL(train_stage_recomputed(&j, 0), 5);
  CU_ASSERT_EQUAL(train_stage_recomputed(&j, 1), 6);
  /* even jobs are untouched */
  job(&j, &m, 4, 0, 0);
  CU_ASSERT_FALSE(train_uneven(&j));
  CU_ASSERT_EQUAL(train_stage_layers(&j, 3), 8);
}

/* Bad values: the field named and why. */
static void test_bad_values(void)
{
  char why[512];
  train_job j;
  llm_arch m = llama();
  job(&j, &m, 4, 30, 10);
  const char *bad = train_job_check(&j, why, sizeof why);
  CU_ASSERT_STRING_EQUAL(bad ? bad : "", "first_stage_layers");
  CHECK(strstr(why, "first 30 + last 10 stage layers exceed llama's 32 layers"), "%s", why);
  job(&j, &m, 4, 6, 0);  /* 26 over 3 */
  bad = train_job_check(&j, why, sizeof why);
  CU_ASSERT_STRING_EQUAL(bad ? bad : "", "first_stage_layers");
  CHECK(strstr(why, "the 26 layers left after first 6 and last 0 do not divide evenly over the 3 other stages"), "%s",
        why);
  job(&j, &m, 4, 0, 3);  /* 29 over 3 */
  bad = train_job_check(&j, why, sizeof why);
  CU_ASSERT_STRING_EQUAL(bad ? bad : "", "last_stage_layers");
  job(&j, &m, 2, 10, 10);  /* 12 left, no middle stage */
  bad = train_job_check(&j, why, sizeof why);
  CHECK(bad && strstr(why, "no middle stage"), "%s", why);
  /* interleaved: each stage's layers must split over its v chunks (5
   * first over 3; before this was modelled, any interleave was refused) */
  job(&j, &m, 4, 5, 0);
  j.interleave = 3;
  j.global_batch = 12;
  bad = train_job_check(&j, why, sizeof why);
  CHECK(bad && !strcmp(bad, "first_stage_layers") &&
            strstr(why, "5 layers on the first stage do not split into interleave = 3 equal virtual stages"),
        "%s: %s", bad ? bad : "", why);
  job(&j, &m, 4, 6, 2);  /* 24 over 2 middles: 12 each, not a multiple of 5 */
  j.interleave = 2;
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  j.last_stage_layers = 3;  /* 32 - 9 = 23: first the middle rule */
  bad = train_job_check(&j, why, sizeof why);
  CU_ASSERT_STRING_EQUAL(bad ? bad : "", "first_stage_layers");
  job(&j, &m, 4, 2, 6);
  j.interleave = 2;
  j.global_batch = 8;
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  job(&j, &m, 4, 4, 4);  /* middles 12 each: not a multiple of 8 (4 also is not) */
  j.interleave = 8;
  bad = train_job_check(&j, why, sizeof why);
  CHECK(bad && !strcmp(bad, "first_stage_layers") && strstr(why, "4 layers on the first stage"), "%s: %s",
        bad ? bad : "", why);
  job(&j, &m, 6, 8, 8);  /* 16 over 4 middles: 4 each, not a multiple of 8 */
  j.interleave = 8;
  j.global_batch = 12;
  bad = train_job_check(&j, why, sizeof why);
  CHECK(bad && !strcmp(bad, "interleave") &&
            strstr(why, "the 4 layers of each middle stage do not split into interleave = 8 equal virtual stages"),
        "%s: %s", bad ? bad : "", why);
  job(&j, &m, 1, 5, 0);
  bad = train_job_check(&j, why, sizeof why);
  CHECK(bad && strstr(why, "need pipeline stages (pp >= 2"), "%s", why);
}

/* 1F1B with one heavier stage, no p2p. The heavy stage last: the first
 * micro-batch's forward reaches it, it then works without a pause, and the
 * last backward returns: sum_s (f_s + b_s) + (m - 1) max_s (f_s + b_s); p
 * 4, m 8, f = 1 1 1 2, b = 2 2 2 4: 15 + 7 x 6 = 57. The heavy stage
 * second (s = 1): its first backward waits for micro-batch 0 to go down
 * and back, f0 + f1 + f2 + f3 + b3 + b2 = 1 + 2 + 1 + 1 + 2 + 2 = 9 (its
 * p - s = 3 warm-up forwards end at 1 + 3 x 2 = 7, earlier); from then on
 * it never waits: the 5 forwards left and 8 backwards, 5 x 2 + 8 x 4 =
 * 42; then stage 0's last backward, 2: 9 + 42 + 2 = 53. */
static void test_pipeline_heavier_stage(void)
{
  double f[4] = {1, 1, 1, 2}, b[4] = {2, 2, 2, 4}, z[4] = {0};
  CS_ASSERT_REL(train_pipeline_time(4, 8, 1, f, b, z), 57, 1e-12);
  double f2[4] = {1, 2, 1, 1}, b2[4] = {2, 4, 2, 2};
  CS_ASSERT_REL(train_pipeline_time(4, 8, 1, f2, b2, z), 53, 1e-12);
}

/* train_step with a heavier last stage: 32 layers over 4, first 2, the
 * others 10 (the last also runs the head). Per layer L and head H (one
 * micro-batch, forward and backward) from the even job (8 layers a stage):
 * compute_s = m (10 L + H) and m (8 L + H), so L = (u - e) / 2m, H = e / m
 * - 8 L. The heavy last stage never waits after its first forward: the
 * bubble (p2p apart) is the other stages' one micro-batch, 2 L + 10 L + 10
 * L = 22 L (24 L for the even job). */
static void test_step_heavier_stage(void)
{
  char why[512];
  llm_arch m = llama();
  train_job u, e;
  job(&u, &m, 4, 2, 0);
  job(&e, &m, 4, 0, 0);
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&u, why, sizeof why));
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&e, why, sizeof why));
  train_step_result ru, re;
  train_step(&u, &ru);
  train_step(&e, &re);
  double mb = 8, L = (ru.compute_s - re.compute_s) / (2 * mb), H = re.compute_s / mb - 8 * L;
  CU_ASSERT_TRUE(H > 0 && L > 0);
  CS_ASSERT_REL(ru.bubble_s, 22 * L, 1e-9);
  CS_ASSERT_REL(re.bubble_s, 24 * L, 1e-9);
  /* the heavier middle stage of first 2, last 2 (14 layers each): the
   * busiest stage is a middle one, compute_s = m x 14 L, no head */
  train_job w;
  job(&w, &m, 4, 2, 2);
  train_step_result rw;
  train_step(&w, &rw);
  CS_ASSERT_REL(rw.compute_s, mb * 14 * L, 1e-9);
}

/* Memory of the heavier stage: 32 layers, first 2, last 2, middles 14; 1F1B
 * keeps p - s micro-batches in flight on stage s: stage 1 holds 3 x 14
 * layers' activations, stage 0 4 x 2, stage 2 2 x 14: stage 1 is counted.
 * Its parameters: the layers' share 14 / 32 of (all - embedding and head),
 * 18 B each (ZeRO 0: 16-bit weights, fp32 gradients, 12 B of Adam). */
static void test_memory_heavier_stage(void)
{
  char why[512];
  llm_arch m = llama();
  train_job j;
  job(&j, &m, 4, 2, 2);
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&j, why, sizeof why));
  train_memory mem;
  train_memory_need(&j, &mem);
  CU_ASSERT_EQUAL(mem.stage, 1);
  double layers = llm_params(&m) - llm_embed_params(&m);
  CS_ASSERT_REL(mem.params, layers * 14 / 32, 1e-12);
  double act = 3 * 14 * train_layer_activation_bytes(&j, LLM_RECOMPUTE_NONE);
  CS_ASSERT_REL(mem.activations, act, 1e-12);
  CS_ASSERT_REL(mem.total, 18 * layers * 14 / 32 + act, 1e-12);
  /* the first stage holds the input embedding (untied: vocab x hidden) */
  train_memory first;
  train_memory_stage(&j, 0, &first);
  CS_ASSERT_REL(first.params, layers * 2 / 32 + llm_embed_params(&m) - 32000.0 * 4096, 1e-12);
  CS_ASSERT_REL(first.activations, 4 * 2 * train_layer_activation_bytes(&j, LLM_RECOMPUTE_NONE), 1e-12);
}

/* first = last = layers / pp: the schedule is the even job's (the same
 * layers on every stage); only the parameters move (the embedding on the
 * first stage, the head on the last, instead of spread over all). */
static void test_even_equivalent(void)
{
  char why[512];
  llm_arch m = llama();
  train_job u, e;
  job(&u, &m, 4, 8, 8);
  job(&e, &m, 4, 0, 0);
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&u, why, sizeof why));
  train_step_result ru, re;
  train_step(&u, &ru);
  train_step(&e, &re);
  CU_ASSERT_DOUBLE_EQUAL(ru.compute_s, re.compute_s, 0);
  CU_ASSERT_DOUBLE_EQUAL(ru.tp_comm_s, re.tp_comm_s, 0);
  CS_ASSERT_REL(ru.bubble_s, re.bubble_s, 1e-12);
  CS_ASSERT_REL(ru.pp_comm_s, re.pp_comm_s, 1e-12);
  CU_ASSERT_EQUAL(ru.micro_batches, re.micro_batches);
  /* dp 1: no gradient traffic; the optimizer steps the biggest stage's
   * parameters (the last: its layers and the head) */
  double layers = llm_params(&m) - llm_embed_params(&m);
  train_memory last;
  train_memory_stage(&u, 3, &last);
  CS_ASSERT_REL(last.params, layers / 4 + 32000.0 * 4096, 1e-12);
}

/* The interleaved 1F1B closed form with equal chunks is unchanged: no
 * p2p, f = 1, b = 2 on every chunk, p 4, m 8, v 2: (v m + p - 1)(f + b) =
 * (16 + 3) x 3 = 57, idle share (p-1)/(v m + p-1) = 3/19. Unequal chunks,
 * by hand: p 2, m 2, v 2, stage 0's chunks f 1, b 2, stage 1's f 2, b 4.
 * Virtual stages 0..3 on stages 0 1 0 1. Stage 0 warms up with all four
 * forwards (warm-up 2 (p-1) + (v-1) p = 4), stage 1 with two, then 1F1B.
 * Stage 0: F(mb 0, vs 0) 0-1, F(1, 0) 1-2; stage 1: F(0, 1) 1-3, F(1, 1)
 * 3-5; stage 0: F(0, 2) 3-4, F(1, 2) 5-6; stage 1: F(0, 3) 5-7, B(0, 3)
 * 7-11, F(1, 3) 11-13, B(1, 3) 13-17; stage 0: B(0, 2) 11-13, B(1, 2)
 * 17-19; stage 1: B(0, 1) 17-21, B(1, 1) 21-25; stage 0: B(0, 0) 21-23,
 * B(1, 0) 25-27. End 27 = f0 + m v (f1 + b1) + b0 (the heavy stage never
 * waits after its first input). */
static void test_interleaved_schedule(void)
{
  double f[8] = {1, 1, 1, 1, 1, 1, 1, 1}, b[8] = {2, 2, 2, 2, 2, 2, 2, 2}, z[4] = {0};
  CS_ASSERT_REL(train_pipeline_time(4, 8, 2, f, b, z), 57, 1e-12);
  /* virtual stage k p + s: chunks 0 and 1 of stage 0, then of stage 1 */
  double fu[4] = {1, 2, 1, 2}, bu[4] = {2, 4, 2, 4};
  CS_ASSERT_REL(train_pipeline_time(2, 2, 2, fu, bu, z), 27, 1e-12);
}

/* Two interleaved jobs (v 2, 2 micro-batches) on 2 stages of llama(): u
 * with first / last stage layers, e with even stages. */
static void pair_v2(train_job *u, train_job *e, const llm_arch *m, int first, int last)
{
  job(u, m, 2, first, last);
  job(e, m, 2, 0, 0);
  u->interleave = e->interleave = 2;
  u->global_batch = e->global_batch = 2;
}

/* train_step, uneven and interleaved: 32 layers over 2 stages, first 12
 * (chunks of 6), last 20 (chunks of 10), v 2, m 2; against the even job
 * (chunks of 8). The last stage also runs the head, H per micro-batch (H/2
 * on each chunk). compute_s = m v 10 L + m H and m v 8 L + m H: L = (u -
 * e) / (m v 2), H = e / m - v 8 L. The heavy last stage never waits after
 * stage 0's first chunk forward (as the hand case above): the bubble is
 * stage 0's one chunk micro-batch, 6 L (8 L for the even job). */
static void test_step_interleaved(void)
{
  char why[512];
  llm_arch m = llama();
  train_job u, e;
  pair_v2(&u, &e, &m, 12, 20);
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&u, why, sizeof why));
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&e, why, sizeof why));
  CU_ASSERT_EQUAL(train_stage_layers(&u, 0), 12);
  CU_ASSERT_EQUAL(train_stage_chunk_layers(&u, 0), 6);
  CU_ASSERT_EQUAL(train_stage_layers(&u, 1), 20);
  CU_ASSERT_EQUAL(train_stage_chunk_layers(&u, 1), 10);
  CU_ASSERT_EQUAL(train_chunk_layers(&u), 10);
  train_step_result ru, re;
  train_step(&u, &ru);
  train_step(&e, &re);
  double mb = 2, v = 2, L = (ru.compute_s - re.compute_s) / (mb * v * 2), H = re.compute_s / mb - v * 8 * L;
  CU_ASSERT_TRUE(H > 0 && L > 0);
  CS_ASSERT_REL(ru.bubble_s, 6 * L, 1e-9);
  CS_ASSERT_REL(re.bubble_s, 8 * L, 1e-9);
  /* full recomputation of 4 layers a chunk: hardware FLOPs repeat the
   * forward of 4 x 2 chunks x 2 stages = 16 of the 32 layers, as the even
   * job's 4 of each 8-layer chunk */
  u.recompute = e.recompute = LLM_RECOMPUTE_FULL;
  u.recompute_layers = e.recompute_layers = 4;
  CU_ASSERT_EQUAL(train_stage_recomputed(&u, 0), 4);
  CS_ASSERT_REL(train_hardware_flops(&u), train_hardware_flops(&e), 1e-12);
}

/* Uneven chunks: 32 layers over 2 stages, first 11 (chunks of 6 and 5),
 * last 21 (11 and 10), v 2, m 2: refused under Megatron-Core's rule,
 * accepted with uneven_chunks. Against the even job (chunks of 8):
 * compute_s = m 21 L + m H and m 16 L + m H. The heavy last stage never
 * waits after stage 0's first chunk forward: the bubble is stage 0's first
 * chunk, 6 L. A stage of fewer layers than v is refused. Chunks that
 * divide evenly give the same step with or without the flag. */
static void test_step_uneven_chunks(void)
{
  char why[512];
  llm_arch m = llama();
  train_job u, e;
  pair_v2(&u, &e, &m, 11, 21);
  CU_ASSERT_PTR_NOT_NULL(train_job_check(&u, why, sizeof why));
  u.uneven_chunks = true;
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&u, why, sizeof why));
  CU_ASSERT_EQUAL(train_chunk_size(&u, 0, 0), 6);
  CU_ASSERT_EQUAL(train_chunk_size(&u, 0, 1), 5);
  CU_ASSERT_EQUAL(train_chunk_size(&u, 1, 0), 11);
  CU_ASSERT_EQUAL(train_chunk_size(&u, 1, 1), 10);
  CU_ASSERT_EQUAL(train_stage_chunk_layers(&u, 1), 11);
  CU_ASSERT_EQUAL(train_chunk_layers(&u), 11);
  train_step_result ru, re;
  train_step(&u, &ru);
  train_step(&e, &re);
  double mb = 2, L = (ru.compute_s - re.compute_s) / (mb * 5), H = re.compute_s / mb - 16 * L;
  CU_ASSERT_TRUE(H > 0 && L > 0);
  CS_ASSERT_REL(ru.bubble_s, 6 * L, 1e-9);
  /* full recomputation of 4 layers a chunk: 4 of every chunk, 16 of 32 */
  u.recompute = e.recompute = LLM_RECOMPUTE_FULL;
  u.recompute_layers = e.recompute_layers = 4;
  CU_ASSERT_EQUAL(train_chunk_recomputed(&u, 0, 1), 4);
  CS_ASSERT_REL(train_hardware_flops(&u), train_hardware_flops(&e), 1e-12);
  /* 5 layers a chunk: the 6- and 5-layer chunks recompute 5, the others 5
   * of 11 and 10: 20 in all */
  u.recompute_layers = 5;
  int all = 0;
  for (int s = 0; s < 2; s++)
    for (int k = 0; k < 2; k++) all += train_chunk_recomputed(&u, s, k);
  CU_ASSERT_EQUAL(all, 20);
  /* a stage of one layer cannot hold two chunks */
  job(&u, &m, 2, 1, 31);
  u.interleave = 2;
  u.global_batch = 2;
  u.uneven_chunks = true;
  CU_ASSERT_STRING_EQUAL(train_job_check(&u, why, sizeof why), "interleave");
  /* dividing chunks: the flag changes nothing */
  pair_v2(&u, &e, &m, 12, 20);
  e = u;  /* the same stages, without the flag */
  u.uneven_chunks = true;
  train_step(&u, &ru);
  train_step(&e, &re);
  CS_ASSERT_REL(ru.iteration_s, re.iteration_s, 1e-12);
  CS_ASSERT_REL(ru.bubble_s, re.bubble_s, 1e-12);
}

/* Memory, uneven and interleaved: 32 layers over 4, first 4 last 4 (chunks
 * of 2), middles 12 (chunks of 6), v 2, m 8. Stage s keeps Megatron's
 * warm-up 2 (p-1-s) + (v-1) p chunk micro-batches and one more: 11, 9, 7,
 * 5, that is 5.5, 4.5, 3.5, 2.5 micro-batches through the stage:
 * activations of 22, 54, 42 and 10 layers (+ the logits on the last):
 * stage 1 is counted, its parameters 12 / 32 of the layers'. The busiest
 * chunk is a middle one: compute_s = m v 6 L. */
static void test_memory_interleaved(void)
{
  char why[512];
  llm_arch m = llama();
  train_job j;
  job(&j, &m, 4, 4, 4);
  j.interleave = 2;
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&j, why, sizeof why));
  double lb = train_layer_activation_bytes(&j, LLM_RECOMPUTE_NONE);
  train_memory mem, st;
  train_memory_need(&j, &mem);
  CU_ASSERT_EQUAL(mem.stage, 1);
  double layers = llm_params(&m) - llm_embed_params(&m);
  CS_ASSERT_REL(mem.params, layers * 12 / 32, 1e-12);
  CS_ASSERT_REL(mem.activations, 54 * lb, 1e-12);
  double want[4] = {22, 54, 42, 10};
  for (int s = 0; s < 3; s++) {
    train_memory_stage(&j, s, &st);
    CS_ASSERT_REL(st.activations, want[s] * lb, 1e-12);
  }
  train_memory_stage(&j, 3, &st);
  CU_ASSERT_TRUE(st.activations > want[3] * lb);
  /* the busiest chunk: a middle stage's 6 layers, from the even job's 4 */
  train_job e;
  job(&e, &m, 4, 0, 0);
  e.interleave = 2;
  train_step_result ru, re;
  train_step(&j, &ru);
  train_step(&e, &re);
  CU_ASSERT_EQUAL(re.micro_batches, 8);
  /* the even job's busiest (last) stage: m v 4 L + m H; the uneven one: m v 6 L */
  double L = ru.compute_s / (8 * 2 * 6);
  CU_ASSERT_TRUE(re.compute_s > 8 * 2 * 4 * L);
}

/* What a stage holds at its peak (train_pipeline_peak_held), written out
 * for p 2, v 2, m 2, chunks keeping 3 and 1: stage 0's warm-up is all four
 * forwards (3 + 3 + 1 + 1 = 8); stage 1 runs two forwards of chunk 0 (6),
 * then a forward of chunk 1 (7), its backward (6), the other's (7, 6): 7.
 * Against every op of Megatron's order played out here (groups of p
 * micro-batches through chunk 0, 1, ...; backwards from the last chunk),
 * on random pipelines and chunk sizes: the count that stops after p v
 * steady pairs misses no peak. Equal chunks: (warm-up + 1) x the chunk. */
static int order_chunk(int k, int p, int v, bool backward)
{
  int chunk = k % (p * v) / p;
  return backward ? v - 1 - chunk : chunk;
}

static double peak_all_ops(int s, int p, int m, int v, const double *held)
{
  int n = m * v, warm = v == 1 ? p - s - 1 : 2 * (p - s - 1) + (v - 1) * p;
  if (warm > n) warm = n;
  double now = 0, peak = 0;
  int f = 0, b = 0;
  while (b < n) {
    bool forward = f < warm || (f < n && f - b == warm);
    now += forward ? held[order_chunk(f++, p, v, false)] : -held[order_chunk(b++, p, v, true)];
    if (now > peak) peak = now;
  }
  return peak;
}

static void test_peak_held(void)
{
  double two[2] = {3, 1};
  CS_ASSERT_REL(train_pipeline_peak_held(0, 2, 2, 2, two), 8, 1e-12);
  CS_ASSERT_REL(train_pipeline_peak_held(1, 2, 2, 2, two), 7, 1e-12);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 7);
  double held[8], same[8];
  for (int t = 0; t < 2000; t++) {
    int p = 1 + (int)gsl_rng_uniform_int(r, 16), v = 1 + (int)gsl_rng_uniform_int(r, 8);
    if (p == 1) v = 1;
    int m = v > 1 ? p * (1 + (int)gsl_rng_uniform_int(r, 6)) : 1 + (int)gsl_rng_uniform_int(r, 40);
    int s = (int)gsl_rng_uniform_int(r, (unsigned long)p);
    for (int c = 0; c < v; c++) {
      held[c] = 1 + (double)gsl_rng_uniform_int(r, 5);
      same[c] = 2.5;
    }
    CS_ASSERT_REL(train_pipeline_peak_held(s, p, m, v, held), peak_all_ops(s, p, m, v, held), 1e-12);
    int warm = v == 1 ? p - s - 1 : 2 * (p - s - 1) + (v - 1) * p;
    double want = warm + 1 < m * v ? warm + 1 : m * v;
    CS_ASSERT_REL(train_pipeline_peak_held(s, p, m, v, same), want * 2.5, 1e-12);
  }
  gsl_rng_free(r);
}

/* Memory with uneven chunks: 32 layers over 2 stages, first 11 (chunks of
 * 6 and 5), last 21 (11 and 10), v 2, m 4. Stage 0 holds its warm-up of
 * four (6 + 6 + 5 + 5), then a forward of chunk 0 (28), a backward of
 * chunk 1 (23), a forward of chunk 0 (29), ...: 29 layers, where taking
 * both chunks at 6 layers would give 30. Stage 1: two forwards of chunk 0
 * (22), and at most one more chunk: 33 layers, and the head's inputs and
 * logits (4 s h + 4 s V, tp 1, unfused loss). */
static void test_memory_uneven_chunks(void)
{
  char why[512];
  llm_arch m = llama();
  train_job u;
  job(&u, &m, 2, 11, 21);
  u.interleave = 2;
  u.global_batch = 4;
  u.uneven_chunks = true;
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&u, why, sizeof why));
  double lb = train_layer_activation_bytes(&u, LLM_RECOMPUTE_NONE);
  train_memory st;
  train_memory_stage(&u, 0, &st);
  CS_ASSERT_REL(st.activations, 29 * lb, 1e-12);
  train_memory_stage(&u, 1, &st);
  CS_ASSERT_REL(st.activations, 33 * lb + 4 * 2048.0 * 4096 + 4 * 2048.0 * 32000, 1e-12);
  /* even stages with uneven chunks count alike: 32 layers over 4 stages,
   * v 3 (chunks of 3, 3, 2), as the same stages spelled first = last = 8 */
  train_job e8, x8;
  job(&e8, &m, 4, 0, 0);
  e8.interleave = 3;
  e8.global_batch = 8;
  e8.uneven_chunks = true;
  x8 = e8;
  x8.first_stage_layers = x8.last_stage_layers = 8;
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&e8, why, sizeof why));
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&x8, why, sizeof why));
  train_memory me, mx;
  train_memory_need(&e8, &me);
  train_memory_need(&x8, &mx);
  CS_ASSERT_REL(me.activations, mx.activations, 1e-12);
  CU_ASSERT_EQUAL(me.stage, mx.stage);
  /* every layer recomputed once: the 32 layers, not v x the largest chunk
   * (36) on each stage */
  e8.recompute = x8.recompute = LLM_RECOMPUTE_FULL;
  CS_ASSERT_REL(train_hardware_flops(&e8), train_hardware_flops(&x8), 1e-12);
  train_memory_need(&e8, &me);
  train_memory_need(&x8, &mx);
  CS_ASSERT_REL(me.activations, mx.activations, 1e-12);
  /* recomputing 5 layers of each chunk: stage 0's chunks keep 5 inputs and
   * 1 and 0 layers; the same order, at those sizes, plus the one layer a
   * recomputation materialises */
  u.recompute = LLM_RECOMPUTE_FULL;
  u.recompute_layers = 5;
  double in = train_layer_activation_bytes(&u, LLM_RECOMPUTE_FULL);
  double held[2] = {5 * in + lb, 5 * in};
  train_memory_stage(&u, 0, &st);
  CS_ASSERT_REL(st.activations, train_pipeline_peak_held(0, 2, 4, 2, held) + lb, 1e-12);
}

/* first = last = layers / pp, interleaved (v 2): the even job's schedule
 * and its first stage's activations (p (1 + (p-1)/(p v)) = 5.5 micro-batches
 * of 8 layers). */
static void test_even_equivalent_interleaved(void)
{
  char why[512];
  llm_arch m = llama();
  train_job u, e;
  job(&u, &m, 4, 8, 8);
  job(&e, &m, 4, 0, 0);
  u.interleave = e.interleave = 2;
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&u, why, sizeof why));
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&e, why, sizeof why));
  train_step_result ru, re;
  train_step(&u, &ru);
  train_step(&e, &re);
  CU_ASSERT_DOUBLE_EQUAL(ru.compute_s, re.compute_s, 0);
  CU_ASSERT_DOUBLE_EQUAL(ru.tp_comm_s, re.tp_comm_s, 0);
  CS_ASSERT_REL(ru.bubble_s, re.bubble_s, 1e-12);
  CS_ASSERT_REL(ru.pp_comm_s, re.pp_comm_s, 1e-12);
  train_memory first, even;
  train_memory_stage(&u, 0, &first);
  train_memory_need(&e, &even);
  CU_ASSERT_EQUAL(even.stage, 0);
  CS_ASSERT_REL(first.activations, even.activations, 1e-12);
  CS_ASSERT_REL(first.activations, 5.5 * 8 * train_layer_activation_bytes(&u, LLM_RECOMPUTE_NONE), 1e-12);
}

static void test_cli(void)
{
  result r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "8", "--pp", "4",
                 "--tp", "2", "--first-stage-layers", "5", "--global-batch", "8", "--json");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "\"first_stage_layers\": 5");
  CHECK_OUT_HAS(r, "\"middle_stage_layers\": 9");
  CHECK_OUT_HAS(r, "\"last_stage_layers\": 9");
  result_free(&r);
  /* interleaved: 32 = 4 + 2 x 12 + 4, each stage's layers over 2 chunks */
  r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "8", "--pp", "4", "--tp", "2",
          "--interleave", "2", "--first-stage-layers", "4", "--last-stage-layers", "4", "--global-batch", "8",
          "--json");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "\"first_stage_layers\": 4");
  CHECK_OUT_HAS(r, "\"middle_stage_layers\": 12");
  CHECK_OUT_HAS(r, "\"interleave\": 2");
  result_free(&r);
  r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpus", "8", "--pp", "4", "--interleave", "2",
          "--first-stage-layers", "5", "--last-stage-layers", "3", "--global-batch", "8");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "first-stage-layers");
  CHECK_ERR_HAS(r, "5 layers on the first stage do not split into interleave = 2 equal virtual stages");
  result_free(&r);
  /* the same with --uneven-chunks: accepted, said in the output */
  r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "8", "--pp", "4", "--tp", "2",
          "--interleave", "2", "--first-stage-layers", "5", "--last-stage-layers", "3", "--global-batch", "8",
          "--uneven-chunks", "--json");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "\"uneven_chunks\": \"yes\"");
  CHECK_OUT_HAS(r, "\"middle_stage_layers\": 12");
  result_free(&r);
  r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "8", "--pp", "4", "--tp", "2",
          "--global-batch", "8", "--json");
  CHECK_RC(r, 0);
  CU_ASSERT_PTR_NULL(strstr(r.out, "first_stage_layers"));  /* even: the output as before */
  result_free(&r);
  r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpus", "8", "--pp", "4", "--first-stage-layers", "30",
          "--last-stage-layers", "10", "--global-batch", "8");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "first-stage-layers");
  CHECK_ERR_HAS(r, "first 30 + last 10 stage layers exceed llama2-7b's 32 layers");
  result_free(&r);
  r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpus", "8", "--pp", "4", "--last-stage-layers", "3",
          "--global-batch", "8");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "last-stage-layers");
  CHECK_ERR_HAS(r, "the 29 layers left after first 0 and last 3 do not divide evenly over the 3 other stages");
  result_free(&r);

  char *dir = cs_tmpdir("train_uneven");
  char *cfg = cs_write_file(dir, "u.cfg",
                            "name = \"u\";\ntraining = {\n  model = \"llama2-7b\"; gpu = \"h100-sxm\"; gpus = 8;\n"
                            "  pp = 4; first_stage_layers = 6;\n  global_batch = 8;\n  train_tokens = 1e9;\n};\n");
  r = run_in(dir, "check", "u.cfg", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "training.first_stage_layers: the 26 layers left after first 6");
  result_free(&r);
  /* training.uneven_chunks: runs, and is the planner's own layout */
  char *cc = cs_write_file(dir, "c.cfg",
                           "name = \"c\";\ntraining = {\n  model = \"llama2-7b\"; gpu = \"h100-sxm\"; gpus = 8;\n"
                           "  pp = 4; interleave = 2; first_stage_layers = 5; last_stage_layers = 3;\n"
                           "  uneven_chunks = true;\n  global_batch = 8;\n  train_tokens = 1e9;\n};\n");
  r = run_in(dir, "run", "c.cfg", "-o", "c-out", (const char *)NULL);
  CHECK_RC(r, 0);
  result_free(&r);
  r = run_in(dir, "plan", "c.cfg", "-o", "c-plan", (const char *)NULL);
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "pp 4 (first 5 last 3 layers) dp 2 ep 1 mb 1 v 2 (uneven chunks)");
  result_free(&r);
  free(cc);
  char *jobs = cs_write_file(dir, "j.cfg",
                             "name = \"j\";\njobs = {\n  nodes = 1; gpus_per_node = 8;\n"
                             "  list = ( { name = \"t\"; gpus = 8; pp = 4; model = \"llama2-7b\"; train_tokens = 1e9;\n"
                             "             global_batch = 8; first_stage_layers = 6; } );\n};\n");
  r = run_in(dir, "check", "j.cfg", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "list.[0].first_stage_layers: the 26 layers left after first 6");
  result_free(&r);
  free(jobs);
  free(cfg);
  free(dir);
}

int main(void)
{
  if (!cs_catalogs()) return 1;
  static const cs_test tests[] = {
    {"layers per stage by hand (61 over 16, 126 over 16, ...)", test_layers_by_hand},
    {"bad values named", test_bad_values},
    {"1F1B with one heavier stage, closed form", test_pipeline_heavier_stage},
    {"train_step with a heavier middle stage", test_step_heavier_stage},
    {"memory of the heavier stage", test_memory_heavier_stage},
    {"first = last = layers / pp as the even job", test_even_equivalent},
    {"interleaved schedule: equal chunks' closed form, unequal chunks by hand", test_interleaved_schedule},
    {"train_step, uneven and interleaved (v 2), by hand", test_step_interleaved},
    {"uneven chunks: refused by default, by hand with uneven_chunks", test_step_uneven_chunks},
    {"memory, uneven and interleaved: Megatron's warm-up per stage", test_memory_interleaved},
    {"first = last = layers / pp, interleaved, as the even job", test_even_equivalent_interleaved},
    {"what a stage holds at its peak: by hand, against every op, equal chunks", test_peak_held},
    {"memory with uneven chunks: each chunk at its size in Megatron's order", test_memory_uneven_chunks},
    {"estimate --train, training.*, jobs: flags, keys, messages", test_cli},
    {NULL, NULL},
  };
  int rc = cs_run_suite("train_uneven", tests);
  cs_catalogs_free();
  return rc;
}
