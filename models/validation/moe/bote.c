/* models/validation/moe/bote.c: the back-of-envelope behind the table in
 * README.md: published MoE serving points against what models/llm/moe.h
 * predicts with a plain roofline around it (this is not the simulator's
 * step model, which the lead wires after the merge). Not part of the
 * build; run from the repository root:
 *   cc -std=c11 -O2 -I. models/validation/moe/bote.c models/llm/moe.c -lm -o /tmp/bote && /tmp/bote
 * Hardware numbers are models/catalog/gpus.cfg's h100-sxm (H800 has the
 * same compute and memory), FlashMLA's and DeepEP's published figures. */
#include <stdio.h>

#include "models/llm/moe.h"

/* H100 SXM / H800 SXM: dense peaks and catalog efficiencies (gpus.cfg) */
static const double FP8 = 1979e12, BF16 = 989.5e12, BW = 3350e9;
static const double GEMM_EFF = 0.76, MEM_EFF = 0.77;

static double max2(double a, double b) { return a > b ? a : b; }
static double gemm_s(double flops, double bytes) { return max2(flops / (FP8 * GEMM_EFF), bytes / (BW * MEM_EFF)); }
static double mla_s(const llm_work *w)
{
  return max2(w->flops / (BF16 * LLM_MLA_DECODE_COMPUTE_EFFICIENCY), w->bytes / (BW * LLM_MLA_DECODE_MEMORY_EFFICIENCY));
}

/* DeepSeek-V3 (models.cfg deepseek-v3; config.json of deepseek-ai/DeepSeek-V3) */
static const llm_moe_shape ds = {.hidden = 7168, .experts = 256, .experts_active = 8, .expert_ffn = 2048,
                                 .shared_experts = 1, .shared_ffn = 2048, .gated = true};
static const llm_mla_shape mla = {.layers = 61, .heads = 128, .kv_lora_rank = 512, .qk_rope_head_dim = 64,
                                  .qk_nope_head_dim = 128, .v_head_dim = 128};
/* q_a 7168x1536, q_b 1536x128x192, kv_a 7168x576, kv_b 512x128x256, o 128x128x7168 */
static const double ATTN_PARAMS = 7168.0 * 1536 + 1536.0 * 128 * 192 + 7168.0 * 576 + 512.0 * 128 * 256 +
                                  128.0 * 128 * 7168;
static const double DENSE_MLP = 3.0 * 7168 * 18432, HEAD = 129280.0 * 7168;
static const double MOE_LAYERS = 58, DENSE_LAYERS = 3;

typedef struct {
  double linear, attn, moe, shared, dense, head, comm;
} parts;

/* One step of one GPU of a DP-attention (tp 1) x EP deployment: seqs_gpu
 * sequences per GPU, each computing `new_tok` tokens; attention by
 * `prefill` (non-absorbed, context per sequence ctx) or decode (absorbed). */
static parts step(int ep, double slots, double imbalance, double seqs_gpu, double new_tok, double ctx,
                  int prefill, double bw_dispatch, double bw_combine, int dedup)
{
  parts p = {0};
  double t = seqs_gpu * new_tok; /* tokens on this GPU */
  p.linear = 61 * gemm_s(2 * t * ATTN_PARAMS, ATTN_PARAMS * 1 + t * 4 * 7168 * 2);
  llm_work a;
  if (prefill)
    llm_mla_prefill(&mla, t, seqs_gpu * new_tok * (new_tok + 1) / 2, t, 2, 2, 1, &a);
  else
    llm_mla_decode(&mla, seqs_gpu, seqs_gpu * ctx, 2, 2, 1, &a);
  p.attn = prefill ? max2(a.flops / (BF16 * GEMM_EFF), a.bytes / (BW * MEM_EFF)) : mla_s(&a);
  llm_moe_par mp = {.ep = ep, .slots = slots, .imbalance = imbalance, .weight_bytes = 1, .act_bytes = 2};
  llm_moe_work w;
  llm_moe_layer_work(&ds, &mp, t * ep, &w);
  p.moe = MOE_LAYERS * gemm_s(w.flops_max, w.bytes_max);
  llm_work s;
  llm_moe_shared(&ds, t, 1, 1, 2, &s);
  p.shared = MOE_LAYERS * gemm_s(s.flops, s.bytes);
  p.dense = DENSE_LAYERS * gemm_s(2 * t * DENSE_MLP, DENSE_MLP);
  double logits = prefill ? seqs_gpu : t;
  p.head = gemm_s(2 * logits * HEAD, HEAD * 2);
  llm_moe_a2a x;
  double busiest = w.imbalance; /* the hot GPU receives imbalance x the mean */
  if (dedup) {
    /* DeepEP normal kernels cross RDMA once per destination node and
     * forward over NVLink: the "GPUs" of the all-to-all are the nodes
     * (8 GPUs each); per GPU, an eighth of a node's remote bytes */
    int nodes = ep / 8;
    llm_moe_alltoall(&ds, nodes, t * ep, LLM_MOE_FP8_DISPATCH_BYTES, 2, true, &x);
    p.comm = MOE_LAYERS * busiest * (x.dispatch_bytes / 8 / bw_dispatch + x.combine_bytes / 8 / bw_combine);
  } else {
    llm_moe_alltoall(&ds, ep, t * ep, LLM_MOE_FP8_DISPATCH_BYTES, 2, false, &x);
    p.comm = MOE_LAYERS * busiest * (x.dispatch_bytes_all / bw_dispatch + x.combine_bytes_all / bw_combine);
  }
  return p;
}

static void show(const char *what, parts p, double measured_s)
{
  double compute = p.linear + p.attn + p.moe + p.shared + p.dense + p.head;
  double serial = compute + p.comm, overlap = max2(compute, p.comm);
  printf("%s\n  linear %.1f attn %.1f moe %.1f shared %.1f dense %.1f head %.1f | a2a %.1f ms\n"
         "  compute %.1f ms; no overlap %.1f ms (%+.0f%%); perfect overlap %.1f ms (%+.0f%%); measured %.1f ms\n",
         what, 1e3 * p.linear, 1e3 * p.attn, 1e3 * p.moe, 1e3 * p.shared, 1e3 * p.dense, 1e3 * p.head,
         1e3 * p.comm, 1e3 * compute, 1e3 * serial, 100 * (serial / measured_s - 1), 1e3 * overlap,
         100 * (overlap / measured_s - 1), 1e3 * measured_s);
}

int main(void)
{
  /* DeepEP low-latency table (H800, CX7 400 Gb/s, 128 tokens, top-8, fp8
   * dispatch, bf16 combine): bytes from llm_moe_alltoall, time at EP 8's
   * bandwidth (the fit row) against each EP's measured latency */
  static const struct { int ep; double d_us, c_us; } ll[] = {
    {8, 77, 114}, {16, 118, 195}, {32, 155, 273}, {64, 173, 314}, {128, 192, 369}, {256, 194, 360}};
  llm_moe_a2a x;
  llm_moe_alltoall(&ds, 8, 128 * 8, LLM_MOE_FP8_DISPATCH_BYTES, 2, false, &x);
  double bwd = x.dispatch_bytes_all / 77e-6, bwc = x.combine_bytes_all / 114e-6;
  printf("DeepEP LL fit (EP 8): dispatch %.1f GB/s, combine %.1f GB/s\n", bwd / 1e9, bwc / 1e9);
  for (int i = 0; i < 6; i++) {
    llm_moe_alltoall(&ds, ll[i].ep, 128.0 * ll[i].ep, LLM_MOE_FP8_DISPATCH_BYTES, 2, false, &x);
    double pd = x.dispatch_bytes_all / bwd, pc = x.combine_bytes_all / bwc;
    printf("  EP %3d: dispatch %.0f us (measured %.0f, %+.0f%%), combine %.0f us (measured %.0f, %+.0f%%)\n",
           ll[i].ep, 1e6 * pd, ll[i].d_us, 100 * (1e6 * pd / ll[i].d_us - 1), 1e6 * pc, ll[i].c_us,
           100 * (1e6 * pc / ll[i].c_us - 1));
  }

  /* TensorRT-LLM EPLB (EP 32, mean 1024 routed tokens per rank): 1.109 */
  printf("imbalance floor EP32 at 1024 pairs/rank: %.3f (TensorRT-LLM with EPLB: 1.109)\n",
         llm_moe_imbalance_floor(4096, 8, 32));

  /* SGLang 96 x H100, decode on 9 nodes (EP 72, DP attention 72, 288 slots
   * with EPLB), 256 sequences per GPU at ~2000 tokens of context:
   * 22,282 tok/s per node = 2785 per GPU, a step of 256 tokens in 91.9 ms.
   * Links: DeepEP low-latency at EP 64's measured rates (43 and 46 GB/s). */
  parts d = step(72, 288, 0, 256, 1, 2000, 0, 43e9, 46e9, 0);
  show("SGLang decode EP72, 256 seq/GPU, ctx 2000 (EPLB: imbalance floor)", d, 256 / (22282.0 / 8));
  parts d2 = step(72, 288, LLM_MOE_IMBALANCE_NO_EPLB_EP32, 256, 1, 2000, 0, 43e9, 46e9, 0);
  show("  same, imbalance 2.564 (no EPLB)", d2, 256 / (22282.0 / 8));

  /* SGLang prefill on 4 nodes (EP 32), 16,384 tokens per GPU as 4 prompts
   * of 4096: 59,337 tok/s per node with a simulated perfect EPLB, 50,302
   * with the default expert distribution. DeepEP normal kernels, internode
   * EP 32: 58 and 57 GB/s (RDMA bottleneck), one copy per GPU (dedup). */
  parts pf = step(32, 256, 0, 4, 4096, 0, 1, 58e9, 57e9, 1);
  show("SGLang prefill EP32, 4 x 4096 tokens/GPU, perfect EPLB", pf, 16384 / (59337.0 / 8));
  parts pf2 = step(32, 256, LLM_MOE_IMBALANCE_NO_EPLB_EP32, 4, 4096, 0, 1, 58e9, 57e9, 1);
  show("SGLang prefill EP32, default distribution (imbalance 2.564)", pf2, 16384 / (50302.0 / 8));

  /* Qwen3-30B-A3B on one A100 (ep 1), concurrency 1, 128-token prompts and
   * outputs: TPOT 9.6 ms (tenstorrent/tt-inference-server issue 340, GPU
   * reference run, 2025-06-24). Decode reads the attention weights, the 8
   * touched experts of each of 48 layers and the head, bf16; catalog
   * a100-80gb-sxm: 2039 GB/s x 0.75. */
  {
    llm_moe_shape q = {.hidden = 2048, .experts = 128, .experts_active = 8, .expert_ffn = 768, .gated = true};
    llm_moe_par one = {.ep = 1, .weight_bytes = 2, .act_bytes = 2};
    llm_moe_work w;
    llm_moe_layer_work(&q, &one, 1, &w);
    double attn = 2048.0 * 4096 + 2 * 2048.0 * 512 + 4096.0 * 2048 + 2048.0 * 128; /* q, k, v, o, router */
    double kv = 48 * 2 * 4 * 128 * 2 * 192.0; /* GQA KV at a mean context of 192 */
    double bytes = 48 * (attn * 2 + w.weight_bytes_read) + 151936.0 * 2048 * 2 + kv;
    double s = bytes / (2039e9 * 0.75);
    printf("Qwen3-30B-A3B, 1 x A100, batch 1: experts touched per layer %.0f, %.2f GB read, %.2f ms "
           "(measured TPOT 9.6 ms, %+.0f%%)\n", w.slots_touched, bytes / 1e9, 1e3 * s, 100 * (1e3 * s / 9.6 - 1));
  }
  return 0;
}
