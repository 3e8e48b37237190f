/* tests/unit/test_moe.c: mixture-of-experts serving (models/llm/moe.h)
 * against arithmetic done by hand and published figures: the all-to-all
 * bytes of an EP step (Qwen3-30B-A3B on two GPUs, DeepSeek-V3 on eight,
 * DeepEP's own byte count), conservation of expert work over GPUs, the
 * limits (ep = 1: no all-to-all; k = E: a dense MLP split over GPUs),
 * imbalance 1 against > 1 and its caps, the balls-into-bins floor against
 * TensorRT-LLM's EPLB measurement, data-parallel attention's shares and
 * lock-step rule, and MLA's KV bytes and attention FLOPs for DeepSeek-V3. */
#include <math.h>

#include "cattest.h"
#include "models/llm/llm_step.h"
#include "models/llm/moe.h"
#include "models/serving/kvcache.h"
#include "testutil.h"

/* DeepSeek-V3 (config.json of deepseek-ai/DeepSeek-V3): hidden 7168, 256
 * routed experts of width 2048, top-8, one shared expert, 61 layers of
 * MLA with 128 heads, kv_lora_rank 512, rope 64, nope 128, v 128. */
static const llm_moe_shape dsv3 = {.hidden = 7168, .experts = 256, .experts_active = 8,
                                   .expert_ffn = 2048, .shared_experts = 1, .shared_ffn = 2048,
                                   .gated = true};
static const llm_mla_shape dsv3_mla = {.layers = 61, .heads = 128, .kv_lora_rank = 512,
                                       .qk_rope_head_dim = 64, .qk_nope_head_dim = 128,
                                       .v_head_dim = 128};
/* Qwen3-30B-A3B (config.json of Qwen/Qwen3-30B-A3B): hidden 2048, 128
 * experts of width 768, top-8, 48 layers, no shared expert. */
static const llm_moe_shape qwen3_30b = {.hidden = 2048, .experts = 128, .experts_active = 8,
                                        .expert_ffn = 768, .gated = true};

/* The case: a MoE model served with expert parallelism across two
 * GPUs. Qwen3-30B-A3B, dp_attention 2 x tp 1, ep 2, a decode step of 64
 * sequences (32 per rank), bf16 dispatch and combine (vLLM without DeepEP).
 * Per GPU per layer: 32 tokens x 8 copies x 2048 x 2 B x (2-1)/2
 * = 524,288 B each way; over 48 layers 25,165,824 B each way. */
static void test_alltoall_ep2_by_hand(void)
{
  llm_moe_a2a a;
  llm_moe_alltoall(&qwen3_30b, 2, 64, 2, 2, false, &a);
  CU_ASSERT_EQUAL(a.copies_per_token, 8);
  CU_ASSERT_EQUAL(a.remote_fraction, 0.5);
  CU_ASSERT_EQUAL(a.dispatch_bytes, 524288.0);
  CU_ASSERT_EQUAL(a.combine_bytes, 524288.0);
  CU_ASSERT_EQUAL(48 * a.dispatch_bytes, 25165824.0);
  CU_ASSERT_EQUAL(a.dispatch_bytes_all, 1048576.0); /* local copies counted too */
  /* time: 10 us latency + 524,288 B at 50 GB/s = 10 + 10.48576 us */
  CS_ASSERT_REL(llm_moe_alltoall_s(a.dispatch_bytes, 10e-6, 50e9), 20.48576e-6, 1e-12);
}

/* DeepSeek-V3 decode on one node: ep 8, 128 tokens per GPU (1024 over the
 * group), fp8 dispatch with a 4-byte scale per 128 values, bf16 combine.
 * All copies: 128 x 8 x 7168 x (1 + 4/128) = 7,569,408 B dispatched and
 * 128 x 8 x 7168 x 2 = 14,680,064 B combined per GPU; the remote 7/8 of
 * them 6,623,232 B and 12,845,056 B. DeepEP's README reports its
 * low-latency kernels at exactly this setting (128 tokens, 7168 hidden,
 * top-8, fp8 dispatch, bf16 combine, EP 8): 77 us at 98 GB/s and 114 us at
 * 127 GB/s, i.e. the all-copies count. */
static void test_alltoall_deepep_count(void)
{
  llm_moe_a2a a;
  llm_moe_alltoall(&dsv3, 8, 1024, LLM_MOE_FP8_DISPATCH_BYTES, 2, false, &a);
  CU_ASSERT_EQUAL(a.dispatch_bytes_all, 7569408.0);
  CU_ASSERT_EQUAL(a.combine_bytes_all, 14680064.0);
  CU_ASSERT_EQUAL(a.dispatch_bytes, 6623232.0);
  CU_ASSERT_EQUAL(a.combine_bytes, 12845056.0);
  CS_ASSERT_REL(a.dispatch_bytes_all / 77e-6, 98e9, 0.01);
  CS_ASSERT_REL(a.combine_bytes_all / 114e-6, 127e9, 0.02);
}

/* Normal kernels send one copy per destination GPU. With 32 experts per
 * GPU, a token's 8 distinct experts miss a given GPU with probability
 * C(224, 8) / C(256, 8); with one expert per GPU (ep = E) every one of
 * the k experts is its own GPU, so k copies. */
static void test_alltoall_dedup(void)
{
  llm_moe_a2a a;
  llm_moe_alltoall(&dsv3, 8, 1024, 2, 2, true, &a);
  double miss = (224.0 * 223 * 222 * 221 * 220 * 219 * 218 * 217) /
                (256.0 * 255 * 254 * 253 * 252 * 251 * 250 * 249);
  CS_ASSERT_REL(a.copies_per_token, 8 * (1 - miss), 1e-12);
  CU_ASSERT_TRUE(a.copies_per_token > 5 && a.copies_per_token < 6);
  CS_ASSERT_REL(a.dispatch_bytes, 128 * 8 * (1 - miss) * 7168 * 2 * 7.0 / 8, 1e-12);
  llm_moe_alltoall(&dsv3, 256, 1024, 2, 2, true, &a);
  CS_ASSERT_REL(a.copies_per_token, 8, 1e-12);
}

/* ep = 1: nothing crosses a link, and no imbalance on a single GPU. */
static void test_ep1_no_alltoall(void)
{
  llm_moe_a2a a;
  llm_moe_alltoall(&dsv3, 1, 1024, 2, 2, false, &a);
  CU_ASSERT_EQUAL(a.dispatch_bytes, 0);
  CU_ASSERT_EQUAL(a.combine_bytes, 0);
  CU_ASSERT_EQUAL(llm_moe_alltoall_s(a.dispatch_bytes, 10e-6, 50e9), 0);
  llm_moe_par p = {.ep = 1, .imbalance = 0, .weight_bytes = 1, .act_bytes = 2};
  llm_moe_work w;
  llm_moe_layer_work(&dsv3, &p, 1024, &w);
  CU_ASSERT_EQUAL(w.imbalance, 1);
  CU_ASSERT_EQUAL(w.pairs_max, 1024 * 8);
  CU_ASSERT_EQUAL(w.slots_local, 256);
  /* even an imbalance asked for cannot exceed all the pairs */
  p.imbalance = 3;
  llm_moe_layer_work(&dsv3, &p, 1024, &w);
  CU_ASSERT_EQUAL(w.imbalance, 1);
}

/* Work over the GPUs adds up to the layer's: Mixtral-8x7B-shaped experts
 * (hidden 4096, 8 experts of 14336, top-2): one expert 3 x 4096 x 14336
 * = 176,160,768 parameters; 100 tokens on ep 4: 50 pairs per GPU,
 * 2 x 50 x 176,160,768 = 17,616,076,800 FLOPs each, four of them
 * 70,464,307,200 = 2 x 100 x 2 x 176,160,768. Weights held sum to all 8. */
static void test_conservation(void)
{
  llm_moe_shape mx = {.hidden = 4096, .experts = 8, .experts_active = 2, .expert_ffn = 14336,
                      .gated = true};
  CU_ASSERT_EQUAL(llm_moe_expert_params(&mx), 176160768.0);
  llm_moe_par p = {.ep = 4, .imbalance = 1.7, .weight_bytes = 2, .act_bytes = 2};
  llm_moe_work w;
  llm_moe_layer_work(&mx, &p, 100, &w);
  CU_ASSERT_EQUAL(w.pairs_mean, 50);
  CU_ASSERT_EQUAL(w.flops_mean, 17616076800.0);
  CU_ASSERT_EQUAL(4 * w.flops_mean, 2.0 * 100 * 2 * 176160768.0);
  CU_ASSERT_EQUAL(4 * w.weight_bytes_held, 8 * 176160768.0 * 2);
  CU_ASSERT_EQUAL(w.slots_local, 2);
  /* DeepSeek-V3 with EPLB's 288 slots on ep 72: 4 slots per GPU */
  llm_moe_par q = {.ep = 72, .slots = 288, .imbalance = 1, .weight_bytes = 1, .act_bytes = 2};
  llm_moe_layer_work(&dsv3, &q, 72 * 256, &w);
  CU_ASSERT_EQUAL(w.slots_local, 4);
  CS_ASSERT_REL(72 * w.pairs_mean, 72 * 256 * 8, 1e-12);
}

/* k = E is a dense MLP of width E x expert_ffn split over the ep GPUs as
 * tensor parallelism would: every GPU computes every token on its E/ep
 * experts and reads all of their weights, and no imbalance is possible. */
static void test_dense_limit(void)
{
  llm_moe_shape all = {.hidden = 4096, .experts = 8, .experts_active = 8, .expert_ffn = 1792,
                       .gated = true};
  llm_moe_par p = {.ep = 4, .imbalance = 2.5, .weight_bytes = 2, .act_bytes = 2};
  llm_moe_work w;
  llm_moe_layer_work(&all, &p, 10, &w);
  double dense = 3.0 * 4096 * 14336; /* one MLP of width 8 x 1792 */
  CU_ASSERT_EQUAL(w.imbalance, 1);
  CU_ASSERT_EQUAL(w.flops_max, 2 * 10 * dense / 4);
  CU_ASSERT_EQUAL(w.slots_touched, 2);
  CU_ASSERT_EQUAL(w.weight_bytes_read, dense * 2 / 4);
  /* a model without experts is one expert every token uses */
  llm_moe_shape mlp = {.hidden = 4096, .experts = 0, .experts_active = 0, .expert_ffn = 14336,
                       .gated = true};
  llm_moe_par one = {.ep = 1, .weight_bytes = 2, .act_bytes = 2};
  llm_moe_layer_work(&mlp, &one, 10, &w);
  CU_ASSERT_EQUAL(w.flops_max, 2 * 10 * dense);
  CU_ASSERT_EQUAL(w.weight_bytes_read, dense * 2);
}

/* Imbalance 1 against > 1: the busiest GPU's pairs, FLOPs and activations
 * scale by the factor, the weights it reads do not; the factor is capped
 * at every token's pairs that fit its slots. */
static void test_imbalance(void)
{
  llm_moe_par p = {.ep = 8, .imbalance = 1, .weight_bytes = 1, .act_bytes = 2};
  llm_moe_work w1, w2, w3;
  llm_moe_layer_work(&dsv3, &p, 1024, &w1);
  p.imbalance = 1.5;
  llm_moe_layer_work(&dsv3, &p, 1024, &w2);
  CU_ASSERT_EQUAL(w1.imbalance, 1);
  CU_ASSERT_EQUAL(w1.pairs_max, 1024);
  CU_ASSERT_EQUAL(w2.pairs_max, 1536);
  CU_ASSERT_EQUAL(w2.flops_max, 1.5 * w1.flops_max);
  CU_ASSERT_EQUAL(w2.act_bytes_max, 1.5 * w1.act_bytes_max);
  CU_ASSERT_EQUAL(w2.flops_mean, w1.flops_mean);
  CU_ASSERT_EQUAL(w2.weight_bytes_read, w1.weight_bytes_read);
  /* 1024 tokens, 32 experts per GPU >= k: a GPU can take all 8192 pairs */
  p.imbalance = 100;
  llm_moe_layer_work(&dsv3, &p, 1024, &w3);
  CU_ASSERT_EQUAL(w3.pairs_max, 8192);
  CU_ASSERT_EQUAL(w3.imbalance, 8);
  /* one expert per GPU: at most one pair per token, 1024 of 8 x 1024 / 256 = 32 */
  llm_moe_par q = {.ep = 256, .imbalance = 100, .weight_bytes = 1, .act_bytes = 2};
  llm_moe_layer_work(&dsv3, &q, 1024, &w3);
  CU_ASSERT_EQUAL(w3.pairs_mean, 32);
  CU_ASSERT_EQUAL(w3.pairs_max, 1024);
  /* expected weights read: 32 local experts, each missed by all 1024
   * tokens with probability (1 - 8/256)^1024 */
  CS_ASSERT_REL(w1.slots_touched, 32 * (1 - pow(248.0 / 256, 1024)), 1e-12);
  llm_moe_layer_work(&dsv3, &p, 1, &w3);
  CS_ASSERT_REL(w3.slots_touched, 32 * 8.0 / 256, 1e-12); /* one token: 1 expert per GPU */
}

/* The balls-into-bins floor by hand, and against TensorRT-LLM's measured
 * EPLB balance: DeepSeek-R1 on EP 32 with a mean of 1024 routed tokens per
 * rank had (max - mean)/mean = 0.109 with EPLB (tech blog 4, Table 1);
 * the floor is 1 + sqrt(2 ln 32 / 1024) = 1.0823, within 3% of 1.109. */
static void test_imbalance_floor(void)
{
  CU_ASSERT_EQUAL(llm_moe_imbalance_floor(1024, 8, 1), 1);
  CU_ASSERT_EQUAL(llm_moe_imbalance_floor(0, 8, 8), 1);
  CS_ASSERT_REL(llm_moe_imbalance_floor(1024, 8, 8), 1 + sqrt(2 * log(8.0) / 1024), 1e-12);
  CS_ASSERT_REL(llm_moe_imbalance_floor(1024, 8, 8), 1.06373, 1e-4);
  CS_ASSERT_REL(llm_moe_imbalance_floor(32 * 1024 / 8.0, 8, 32), 1.109, 0.03);
  /* more tokens per GPU balance better; more GPUs worse */
  CU_ASSERT_TRUE(llm_moe_imbalance_floor(4096, 8, 8) < llm_moe_imbalance_floor(1024, 8, 8));
  CU_ASSERT_TRUE(llm_moe_imbalance_floor(1024, 8, 64) > llm_moe_imbalance_floor(1024, 8, 8));
  /* the default (imbalance 0) is the floor */
  llm_moe_par p = {.ep = 8, .imbalance = 0, .weight_bytes = 1, .act_bytes = 2};
  llm_moe_work w;
  llm_moe_layer_work(&dsv3, &p, 1024, &w);
  CS_ASSERT_REL(w.imbalance, llm_moe_imbalance_floor(1024, 8, 8), 1e-12);
  /* the published no-EPLB figure is far above the floor at the same load */
  CU_ASSERT_TRUE(LLM_MOE_IMBALANCE_NO_EPLB_EP32 > 2 * llm_moe_imbalance_floor(4096, 8, 32));
}

/* Shared experts run with the attention rank: DeepSeek-V3's one shared
 * expert, 3 x 7168 x 2048 = 44,040,192 parameters; 128 tokens on a rank of
 * tp 2: 2 x 128 x 44,040,192 / 2 = 5,637,144,576 FLOPs per GPU. */
static void test_shared_experts(void)
{
  llm_work s;
  CU_ASSERT_EQUAL(llm_moe_shared_params(&dsv3), 44040192.0);
  llm_moe_shared(&dsv3, 128, 2, 1, 2, &s);
  CU_ASSERT_EQUAL(s.flops, 5637144576.0);
  CU_ASSERT_EQUAL(s.bytes, (44040192.0 * 1 + 128 * (2 * 7168 + 3 * 2048) * 2) / 2);
  llm_moe_shared(&dsv3, 0, 2, 1, 2, &s);
  CU_ASSERT_EQUAL(s.bytes, 0);
  llm_moe_shared(&qwen3_30b, 128, 1, 1, 2, &s);
  CU_ASSERT_EQUAL(s.flops, 0);
}

/* Data-parallel attention: 10 requests over 4 ranks are 3, 3, 2, 2; 2 over
 * 4 leave two ranks idle. The step's rank-local part is the slowest rank;
 * idle ranks run a dummy step; nothing runs when all are idle. */
static void test_dp_attention(void)
{
  CU_ASSERT_EQUAL(llm_dp_rank_share(10, 4, 0), 3);
  CU_ASSERT_EQUAL(llm_dp_rank_share(10, 4, 1), 3);
  CU_ASSERT_EQUAL(llm_dp_rank_share(10, 4, 2), 2);
  CU_ASSERT_EQUAL(llm_dp_rank_share(10, 4, 3), 2);
  double sum = 0;
  for (int r = 0; r < 8; r++) sum += llm_dp_rank_share(1001, 8, r);
  CU_ASSERT_EQUAL(sum, 1001);
  CU_ASSERT_EQUAL(llm_dp_rank_share(1001, 8, 0), 126); /* ceil(1001/8) */
  CU_ASSERT_EQUAL(llm_dp_rank_share(2, 4, 1), 1);
  CU_ASSERT_EQUAL(llm_dp_rank_share(2, 4, 2), 0);
  CU_ASSERT_EQUAL(llm_dp_rank_share(7, 1, 0), 7);

  double busy[4] = {5e-3, 3e-3, 0, 0};
  CU_ASSERT_EQUAL(llm_dp_lockstep_s(busy, 4, 1e-3), 5e-3);
  double one[4] = {0.5e-3, 0, 0, 0};
  CU_ASSERT_EQUAL(llm_dp_lockstep_s(one, 4, 1e-3), 1e-3); /* a dummy step slower than the work */
  double full[2] = {2e-3, 4e-3};
  CU_ASSERT_EQUAL(llm_dp_lockstep_s(full, 2, 9e-3), 4e-3); /* no idle rank: no dummy */
  double none[3] = {0, 0, 0};
  CU_ASSERT_EQUAL(llm_dp_lockstep_s(none, 3, 1e-3), 0);
}

/* MLA's KV cache for DeepSeek-V3: 61 layers x (512 + 64) x 2 bytes =
 * 70,272 B per token in bf16 (35,136 in fp8), against Llama 3 70B's GQA
 * 80 x 2 x 8 x 128 x 2 = 327,680 B. */
static void test_mla_kv_bytes(void)
{
  CU_ASSERT_EQUAL(llm_mla_kv_bytes_per_token(&dsv3_mla, 2), 70272.0);
  CU_ASSERT_EQUAL(llm_mla_kv_bytes_per_token(&dsv3_mla, 1), 35136.0);
  CU_ASSERT_TRUE(327680.0 / llm_mla_kv_bytes_per_token(&dsv3_mla, 2) > 4.6);
}

/* Decode attention with absorbed weights, one sequence at context 4096:
 * per layer 2 x 128 heads x 4096 x (2 x 512 + 64) = 1,140,850,688 FLOPs,
 * x 61 = 69,591,891,968; bytes per layer (4096 read + 1 written) x 576 x 2
 * + 128 x (576 + 512) x 2 = 4,998,272, x 61 = 304,894,592. Long contexts
 * approach FlashMLA's ratio h (d_k + d_v) / d_k per byte = 241.8
 * FLOP/B (its deep-dive: compute-bound on H800 once h_q s_q >= 128); TP 8
 * divides the FLOPs, not the bytes. */
static void test_mla_decode(void)
{
  llm_work w;
  llm_mla_decode(&dsv3_mla, 1, 4096, 2, 2, 1, &w);
  CU_ASSERT_EQUAL(w.flops, 69591891968.0);
  CU_ASSERT_EQUAL(w.bytes, 304894592.0);
  llm_work w8;
  llm_mla_decode(&dsv3_mla, 1, 4096, 2, 2, 8, &w8);
  CU_ASSERT_EQUAL(w8.flops, 69591891968.0 / 8);
  /* every GPU reads all 4097 latents; queries and outputs of 16 heads:
   * 61 x (4097 x 1152 + 16 x 1088 x 2) = 61 x 4,754,560 */
  CU_ASSERT_EQUAL(w8.bytes, 61 * 4754560.0);
  llm_mla_decode(&dsv3_mla, 1, 1e7, 2, 2, 1, &w);
  CS_ASSERT_REL(w.flops / w.bytes, 128.0 * (576 + 512) / 576, 1e-3);
}

/* Prefill without absorption: one 1000-token prompt, nothing cached:
 * attended 1000 x 1001 / 2 = 500,500 positions; per layer 2 x 128 x
 * 500,500 x (128 + 64 + 128) = 41,000,960,000 FLOPs, the same as the
 * plain-attention rule 4 x heads x (qk + v)/2 x attended; x 61 =
 * 2,501,058,560,000. Behind a 3000-token cached prefix the cached latents
 * are first expanded: 2 x 3000 x 512 x 128 x (128 + 128) = 100,663,296,000
 * more FLOPs per layer. */
static void test_mla_prefill(void)
{
  llm_work w;
  llm_mla_prefill(&dsv3_mla, 1000, 500500, 1000, 2, 2, 1, &w);
  CU_ASSERT_EQUAL(w.flops, 2501058560000.0);
  CU_ASSERT_EQUAL(w.flops / 61, 4 * 128 * (192 + 128) / 2.0 * 500500);
  /* bytes per layer: 1000 latents written x 1152 + 1000 K/V x 128 x 320 x 2
   * + 1000 Q/O x 128 x 320 x 2 = 1,152,000 + 81,920,000 + 81,920,000 */
  CU_ASSERT_EQUAL(w.bytes, 61 * 164992000.0);
  llm_work c;
  double attended = 1000 * 3000.0 + 500500;
  llm_mla_prefill(&dsv3_mla, 1000, attended, 4000, 2, 2, 1, &c);
  CU_ASSERT_EQUAL(c.flops, 61 * (2 * 128 * attended * 320.0 + 100663296000.0));
  llm_mla_prefill(&dsv3_mla, 1000, attended, 4000, 2, 2, 4, &w);
  CS_ASSERT_REL(w.flops, c.flops / 4, 1e-12);
  /* per attended position the absorbed decode costs 1088 / 320 = 3.4 x
   * the FLOPs but reads one 576-wide latent instead of 128 heads' K and V */
  llm_work d;
  llm_mla_decode(&dsv3_mla, 0, 1, 2, 2, 1, &d);
  CS_ASSERT_REL(d.flops / (2 * 128 * 320.0 * 61), 1088.0 / 320, 1e-12);
}

/* ---- the step wired to moe.h (models/llm/step.c) ---- */

/* Qwen3-30B-A3B (48 layers, hidden 2048, 128 experts, 8 per token, all
 * layers MoE) with attention data-parallel over 2 ranks of 1 GPU and the
 * experts over ep 2, imbalance 1, on NVLink 4: 64 decoding sequences, 32
 * per GPU. Each GPU dispatches 32 tokens x 8 copies x 2048 values x 2 B x
 * (2-1)/2 remote = 524,288 B and gets as much back in the combine; no TP
 * all-reduce (tp 1), so comm = 48 x 2 x (alpha + 524,288 B / bw). With
 * measured collectives the all-to-all is net_alltoall_s on the whole send
 * buffer with the local slice: 32 x 8 x 2048 x 2 = 1,048,576 B. */
static void test_step_ep2_by_hand(void)
{
  const llm_arch *m = cs_model("qwen3-30b-a3b");
  const gpu_spec *g = cs_gpu("h100-sxm");
  const net_link *nv = cs_link("nvlink4");
  CU_ASSERT_EQUAL(m->layers, 48);
  CU_ASSERT_EQUAL(m->hidden, 2048);
  CU_ASSERT_EQUAL(m->experts, 128);
  CU_ASSERT_EQUAL(m->experts_active, 8);
  CU_ASSERT_EQUAL(llm_moe_layers(m), 48);
  llm_replica r;
  llm_replica_init(&r, m, g, GPU_BF16, 1, 1, NULL, NULL, 0);
  CU_ASSERT_TRUE(r.moe_path); /* its own expert width (768): the MoE step even at ep 1 */
  llm_replica mx; /* Mixtral (expert width = ffn, no shared or dense layers): today's step */
  llm_replica_init(&mx, cs_model("mixtral-8x7b"), g, GPU_BF16, 1, 1, NULL, NULL, 0);
  CU_ASSERT_FALSE(mx.moe_path);
  llm_replica_set_moe(&r, 2, 2, 1.0, 0, false, nv);
  CU_ASSERT_TRUE(r.moe_path);
  CU_ASSERT_EQUAL(llm_replica_gpus(&r), 2);
  llm_batch b = {0};
  llm_batch_add_decode(&b, 64, 1000);
  llm_step_cost c;
  llm_step(&r, &b, &c);
  CS_ASSERT_REL(c.comm_s, 48 * 2 * (net_alpha_s(nv) + 524288.0 / net_bw(nv)), 1e-12);
  r.collectives = LLM_COLLECTIVES_MEASURED;
  llm_step(&r, &b, &c);
  CS_ASSERT_REL(c.comm_s, 48 * 2 * net_alltoall_s(nv, 2, 1048576.0), 1e-12);
  CU_ASSERT(c.comm_s > 0);
  /* fp8 dispatch: the dispatch half shrinks to (1 + 4/128) / 2 of it */
  r.collectives = LLM_COLLECTIVES_ALPHA_BETA;
  llm_replica_set_moe(&r, 2, 2, 1.0, 0, true, nv);
  llm_step(&r, &b, &c);
  CS_ASSERT_REL(c.comm_s, 48 * (2 * net_alpha_s(nv) + (524288.0 * (1 + 4.0 / 128) / 2 + 524288.0) / net_bw(nv)),
                1e-12);
}

/* DeepSeek-V3 in fp8 on 8 H200. TP 8 keeps the MLA latent (61 layers x
 * (512 + 64) x 1 B = 35,136 B per token) whole on every GPU; DP attention
 * 8 (ep 8) gives each rank its own sequences: 35,136 / 8 = 4,392 B per
 * token per GPU on average. Weights per GPU: TP 8 splits all 671B-odd
 * parameters over 8; DP 8 replicates the non-routed ones and splits the
 * 58 MoE layers x 256 experts x 3 x 7168 x 2048 routed ones over 8. KV
 * tokens per replica = floor((usable - weights - activations) / (bytes
 * per token x 16)) x 16, usable = 0.9 x 141 GB (the ideal engine). */
static void test_dsv3_dp_attention_kv(void)
{
  const llm_arch *m = cs_model("deepseek-v3");
  const gpu_spec *g = cs_gpu("h200");
  const net_link *nv = cs_link("nvlink4");
  llm_replica tp8, dp8;
  llm_replica_init(&tp8, m, g, GPU_FP8, 8, 1, nv, NULL, 0);
  llm_replica_init(&dp8, m, g, GPU_FP8, 1, 1, NULL, NULL, 0);
  llm_replica_set_moe(&dp8, 8, 8, 0, 0, true, nv);
  CU_ASSERT_EQUAL(llm_replica_gpus(&tp8), 8);
  CU_ASSERT_EQUAL(llm_replica_gpus(&dp8), 8);
  CU_ASSERT_EQUAL(kv_bytes_per_token_gpu(&tp8), 61 * 576 * 1.0);
  CU_ASSERT_EQUAL(kv_bytes_per_token_gpu(&dp8), 61 * 576 * 1.0 / 8);
  double routed = 58 * 256 * 3 * 7168.0 * 2048;
  double params = llm_params(m);
  llm_memory mt, md;
  llm_memory_need(&tp8, 0, 2048, 256, &mt);
  llm_memory_need(&dp8, 0, 2048, 256, &md);
  CS_ASSERT_REL(mt.weights, params / 8, 1e-12);
  CS_ASSERT_REL(md.weights, params - routed + routed / 8, 1e-12);
  double usable = 0.9 * gpu_mem_bytes(g);
  CS_ASSERT_REL(mt.usable, usable, 1e-12);
  int64_t kt = kv_replica_blocks(&tp8, 16, 2048, 256) * 16, kd = kv_replica_blocks(&dp8, 16, 2048, 256) * 16;
  CU_ASSERT_EQUAL(kt, 16 * (int64_t)floor((usable - params / 8 - mt.activations) / (35136.0 * 16)));
  CU_ASSERT_EQUAL(kd, 16 * (int64_t)floor((usable - (params - routed + routed / 8) - md.activations) / (4392.0 * 16)));
  /* more weights per GPU, but 8 x the tokens per byte: well over 4 x the cache */
  CU_ASSERT(kd > 4 * kt);
  printf("\n    DeepSeek-V3 fp8 8 x H200: KV tokens tp 8 %lld, dp_attention 8 %lld\n", (long long)kt,
         (long long)kd);
}

/* Lock-step: 8 sequences on 8 DP ranks cost what 1 does on one GPU for
 * the rank-local part (attention, head); the experts see all 8 tokens. */
static void test_dp_lockstep_step(void)
{
  const llm_arch *m = cs_model("deepseek-v3");
  const gpu_spec *g = cs_gpu("h200");
  const net_link *nv = cs_link("nvlink4");
  llm_replica dp8, one;
  llm_replica_init(&dp8, m, g, GPU_FP8, 1, 1, NULL, NULL, 0);
  llm_replica_set_moe(&dp8, 8, 8, 0, 0, true, nv);
  llm_replica_init(&one, m, g, GPU_FP8, 1, 1, NULL, NULL, 0);
  llm_batch b1 = {0}, b8 = {0}, b9 = {0};
  llm_batch_add_decode(&b1, 1, 2000);
  llm_batch_add_decode(&b8, 8, 2000);
  llm_batch_add_decode(&b9, 9, 2000);
  llm_step_cost c1, c8, c9;
  llm_step(&one, &b1, &c1);
  llm_step(&dp8, &b8, &c8);
  llm_step(&dp8, &b9, &c9);
  CS_ASSERT_REL(c8.attention_s, c1.attention_s, 1e-12);
  CS_ASSERT_REL(c8.head_s, c1.head_s, 1e-12);
  /* a ninth sequence makes the busiest rank hold 2: attention of 2 */
  llm_batch b2 = {0};
  llm_batch_add_decode(&b2, 2, 2000);
  llm_step_cost c2;
  llm_step(&one, &b2, &c2);
  CS_ASSERT_REL(c9.attention_s, c2.attention_s, 1e-12);
  CU_ASSERT(c8.comm_s > 0);
  /* a dense model takes today's step when EP and DP are 1 */
  const llm_arch *ll = cs_model("llama3-70b");
  llm_replica a, bb;
  llm_replica_init(&a, ll, g, GPU_FP16, 4, 1, nv, NULL, 0.001);
  llm_replica_init(&bb, ll, g, GPU_FP16, 4, 1, nv, NULL, 0.001);
  llm_replica_set_moe(&bb, 1, 1, 0, 0, false, NULL);
  llm_step_cost ca, cb;
  llm_step(&a, &b8, &ca);
  llm_step(&bb, &b8, &cb);
  CU_ASSERT_EQUAL(ca.total_s, cb.total_s);
}

/* Gemma 3 27B: 62 layers, every 6th global (10), 52 with a 1,024-token
 * window. In the serving cache (16-token blocks) a 4,096-token sequence
 * holds (10 x 4096 + 52 x 1024) / 62 = 94,208 / 62 = 1,519.5 token
 * equivalents: ceil(94,208 / (62 x 16)) = 95 blocks instead of 256; at
 * 1,000 tokens (inside the window) ceil(1000 / 16) = 63 as without. */
static void test_window_kv_cache(void)
{
  const llm_arch *m = cs_model("gemma3-27b");
  CU_ASSERT_EQUAL(m->layers, 62);
  CU_ASSERT_EQUAL(m->sliding_window, 1024);
  CU_ASSERT_EQUAL(llm_window_layers(m), 52);
  kv_cache c;
  kv_init(&c, 1000, 16, 0, 0);
  CU_ASSERT_EQUAL(kv_blocks_for(&c, 4096), 256);
  kv_set_window(&c, m->sliding_window, (int64_t)llm_window_layers(m), m->layers);
  CU_ASSERT_EQUAL(kv_blocks_for(&c, 4096), 95);
  CU_ASSERT_EQUAL(kv_blocks_for(&c, 1000), 63);
  CS_ASSERT_REL(llm_kv_tokens_held(m, 4096) * 62, 94208.0, 1e-12);
  /* a sequence grown one token at a time holds what one reserved whole does */
  kv_rec s;
  kv_rec_clear(&s);
  kv_rec_reserve(&c, &s, 1);
  for (int i = 1; i < 4096; i++) CU_ASSERT_FATAL(kv_rec_try_grow(&c, &s, 1));
  CU_ASSERT_EQUAL(kv_rec_blocks(&s), 95);
  CU_ASSERT_EQUAL(kv_used_blocks(&c), 95);
  kv_rec_free(&c, &s);
  CU_ASSERT_EQUAL(kv_used_blocks(&c), 0);
  kv_release(&c);
}

int main(void)
{
  if (!cs_catalogs()) return 1;
  static const cs_test tests[] = {
    {"wired step: EP 2 all-to-all by hand (Qwen3-30B-A3B)", test_step_ep2_by_hand},
    {"wired step: DeepSeek-V3 dp_attention 8 KV tokens by hand", test_dsv3_dp_attention_kv},
    {"wired step: DP lock-step, dense model unchanged", test_dp_lockstep_step},
    {"serving cache: Gemma 3 sliding-window KV by hand", test_window_kv_cache},
    {"EP 2 step all-to-all bytes by hand (Qwen3-30B-A3B)", test_alltoall_ep2_by_hand},
    {"EP 8 all-to-all against DeepEP's byte count", test_alltoall_deepep_count},
    {"normal-kernel dedup: distinct GPUs per token", test_alltoall_dedup},
    {"ep = 1: no all-to-all, no imbalance", test_ep1_no_alltoall},
    {"expert work over GPUs sums to the layer's", test_conservation},
    {"k = E behaves as a dense MLP", test_dense_limit},
    {"imbalance 1 vs > 1 and its caps", test_imbalance},
    {"balls-into-bins floor vs TensorRT-LLM EPLB", test_imbalance_floor},
    {"shared experts per attention rank", test_shared_experts},
    {"DP attention shares and lock-step rule", test_dp_attention},
    {"MLA KV bytes for DeepSeek-V3", test_mla_kv_bytes},
    {"MLA decode attention, absorbed", test_mla_decode},
    {"MLA prefill attention, not absorbed", test_mla_prefill},
    {NULL, NULL},
  };
  int rc = cs_run_suite("moe", tests);
  cs_catalogs_free();
  return rc;
}
