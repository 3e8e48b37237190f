/* models/llm/moe.h: mixture-of-experts serving as pure functions of shapes:
 * the per-GPU work of one MoE layer under expert parallelism (routed and
 * shared experts, expert load imbalance), the all-to-all bytes of its
 * dispatch and combine and their time on a link, the lock-step rule of
 * data-parallel attention ranks, and multi-head latent attention (MLA,
 * DeepSeek-V2/V3): its compressed KV cache, decode attention with absorbed
 * weights and prefill attention without.
 *
 * Inputs are explicit numbers in small structs (not llm_arch, not a GPU):
 * the step model (step.c) fills them from the catalog and the pool keys and
 * turns work into time with its own rooflines. Nothing here allocates,
 * looks anything up or touches the engine. All counts are doubles; bytes
 * and FLOPs are per GPU unless a name says otherwise. */
#ifndef LLM_MOE_H
#define LLM_MOE_H

#include <stdbool.h>

/* Bytes per value of a DeepEP fp8 dispatch: one byte per value plus one
 * fp32 scale per 128 values (DeepEP README: "FP8 dispatching"; its
 * low-latency table, 128 tokens x top-8 x 7168 hidden in 77 us at 98 GB/s,
 * counts exactly 7168 x (1 + 4/128) bytes per token copy). */
#define LLM_MOE_FP8_DISPATCH_BYTES (1.0 + 4.0 / 128.0)
/* Max/mean routed tokens per GPU measured without a load balancer:
 * DeepSeek-R1 on 32 GB200 (EP 32), a machine-translation dataset, mean
 * over layers and iterations of (max - mean)/mean = 1.564 (TensorRT-LLM
 * tech blog 4, "Scaling Expert Parallelism", Table 1). With EPLB (9 slots
 * per rank) it was 0.109, i.e. 1.109: close to llm_moe_imbalance_floor. */
#define LLM_MOE_IMBALANCE_NO_EPLB_EP32 2.564
/* FlashMLA decode on H800 SXM5: up to 3000 GB/s of the 3.35 TB/s datasheet
 * when memory-bound, up to 660 TFLOP/s of the 989 dense BF16 when
 * compute-bound (FlashMLA README and its 2025-04-22 deep-dive). */
#define LLM_MLA_DECODE_MEMORY_EFFICIENCY (3000.0 / 3350.0)
#define LLM_MLA_DECODE_COMPUTE_EFFICIENCY (660.0 / 989.0)

/* FLOPs and bytes of one piece of work (per GPU unless said). */
typedef struct {
  double flops, bytes;
} llm_work;

/* ---- MoE layer under expert parallelism ---- */

typedef struct {
  double hidden;          /* model width h */
  double experts;         /* routed experts E (<= 1: a dense MLP) */
  double experts_active;  /* routed experts per token, k */
  double expert_ffn;      /* inner width of one routed expert */
  double shared_experts;  /* experts every token uses besides the routed k */
  double shared_ffn;      /* inner width of one shared expert */
  bool gated;             /* gate, up and down matrices (SwiGLU); else up and down */
} llm_moe_shape;

/* Parameters of one routed expert and of one shared expert. */
double llm_moe_expert_params(const llm_moe_shape *s);
double llm_moe_shared_params(const llm_moe_shape *s);

typedef struct {
  int ep;               /* GPUs the routed experts are split over (1: no EP) */
  double slots;         /* expert slots held over the ep GPUs, redundant copies
                         * included (EPLB: 288 for 256 experts); 0: experts */
  double imbalance;     /* max/mean routed (token, expert) pairs per GPU, >= 1;
                         * 0: llm_moe_imbalance_floor (a perfectly placed EPLB) */
  double weight_bytes;  /* per expert parameter (1 for fp8 weights) */
  double act_bytes;     /* per activation value entering or leaving an expert */
} llm_moe_par;

typedef struct {
  double pairs_mean, pairs_max;  /* routed (token, expert) pairs per GPU: mean, busiest */
  double imbalance;              /* pairs_max / pairs_mean as used (after the caps) */
  double flops_mean, flops_max;  /* routed-expert FLOPs per GPU: mean, busiest */
  double slots_local;            /* expert slots held by one GPU */
  double slots_touched;          /* expected local slots at least one token uses */
  double weight_bytes_read;      /* expert weights one GPU reads this step */
  double weight_bytes_held;      /* routed-expert weights one GPU stores */
  double act_bytes_max;          /* activations in and out of the busiest GPU's experts */
  double bytes_max;              /* weight_bytes_read + act_bytes_max */
} llm_moe_work;

/* Balls into bins: with m = tokens x k / ep pairs per GPU spread at random,
 * the busiest GPU gets about m + sqrt(2 m ln ep) (Raab & Steger, "Balls
 * into bins: a simple and tight analysis", RANDOM 1998, for m >> ep ln ep).
 * Returns that over m, 1 when ep <= 1 or there are no tokens: the floor a
 * perfect load balancer leaves in one step. */
double llm_moe_imbalance_floor(double tokens, double k, int ep);

/* The routed experts of one layer for `tokens` tokens over the whole EP
 * group (all its attention ranks together) in one step. The busiest GPU
 * gets imbalance x the mean, capped where the caps bind (a GPU cannot get
 * more than tokens x min(k, its slots) pairs, nor more than all of them).
 * Weights read: the expected distinct local slots touched, each slot taken
 * by a token with probability k / slots (uniform routing, as step.c). */
void llm_moe_layer_work(const llm_moe_shape *s, const llm_moe_par *p, double tokens, llm_moe_work *out);

/* Shared experts of one layer for the `tokens` of one attention rank, run
 * tensor-parallel over that rank's tp GPUs (SGLang, vLLM: shared experts
 * stay with the attention's data parallelism): FLOPs and bytes per GPU. */
void llm_moe_shared(const llm_moe_shape *s, double tokens, int tp, double weight_bytes,
                    double act_bytes, llm_work *out);

/* ---- all-to-all dispatch and combine ---- */

typedef struct {
  double copies_per_token;  /* copies of a token's hidden state that leave for expert GPUs */
  double remote_fraction;   /* share of those copies that go to another GPU: (ep-1)/ep */
  double dispatch_bytes;    /* sent by one GPU per MoE layer, remote copies only */
  double combine_bytes;     /* received back by one GPU per MoE layer, remote copies only */
  double dispatch_bytes_all, combine_bytes_all; /* the same counting local copies too (DeepEP's own count) */
} llm_moe_a2a;

/* One MoE layer's dispatch and combine for `tokens` tokens over the EP
 * group, each GPU sending the tokens / ep it holds: per GPU,
 * (tokens/ep) x copies x hidden x bytes x (ep-1)/ep, where copies is k
 * (DeepEP low-latency kernels send one copy per routed expert) or, with
 * `dedup`, the expected distinct GPUs among a token's k experts (DeepEP
 * normal kernels send one copy per destination GPU). Dispatch bytes per
 * value are 1 + 4/128 for DeepEP fp8 (LLM_MOE_FP8_DISPATCH_BYTES) or 2;
 * combine is 2 (bf16). ep = 1 gives zero bytes. */
void llm_moe_alltoall(const llm_moe_shape *s, int ep, double tokens, double dispatch_value_bytes,
                      double combine_value_bytes, bool dedup, llm_moe_a2a *out);

/* Time of one all-to-all phase moving `bytes` per GPU on a link of
 * per-GPU bandwidth bw_bytes_per_s and fixed latency latency_s: latency +
 * bytes / bw, 0 when there is nothing to move. Kept apart so the step can
 * use the interconnect's measured all-to-all (net_alltoall_s) instead. */
double llm_moe_alltoall_s(double bytes, double latency_s, double bw_bytes_per_s);

/* ---- data-parallel attention ---- */

/* Requests rank `rank` (0-based) of dp gets when n are spread as evenly as
 * possible: floor(n/dp), plus one for the first n mod dp ranks. The
 * busiest rank (rank 0) gets ceil(n/dp). n is rounded down to a whole. */
double llm_dp_rank_share(double n, int dp, int rank);

/* The rank-local part of a lock-step step (attention, dense layers, shared
 * experts, head): the slowest of rank_s[0..dp-1]; a rank with no work
 * (rank_s <= 0) runs a dummy step of dummy_s, as vLLM and SGLang do while
 * any rank has requests. 0 when every rank is idle (no step at all). The
 * expert part, synchronised by the all-to-all, is added once on top. */
double llm_dp_lockstep_s(const double *rank_s, int dp, double dummy_s);

/* ---- multi-head latent attention ---- */

typedef struct {
  double layers;            /* layers with MLA (all of DeepSeek-V3's 61) */
  double heads;             /* query heads */
  double kv_lora_rank;      /* cached latent width d_c (512) */
  double qk_rope_head_dim;  /* cached decoupled RoPE key width d_r (64) */
  double qk_nope_head_dim;  /* per-head key width from the latent (128) */
  double v_head_dim;        /* per-head value width (128) */
} llm_mla_shape;

/* KV cache of one token over all layers: layers x (d_c + d_r) x kv_bytes.
 * The latent is shared by all heads, so tensor parallelism cannot split it:
 * every GPU of a TP group holds this for every token of its rank (hence
 * data-parallel attention, which gives each rank its own tokens). */
double llm_mla_kv_bytes_per_token(const llm_mla_shape *s, double kv_bytes);

/* Decode attention of `seqs` sequences whose contexts sum to `context`
 * tokens, weights absorbed (FlashMLA, vLLM and SGLang MLA decode): every
 * head scores a d_c + d_r query against each cached latent and sums d_c
 * wide values: FLOPs 2 x heads x context x (2 d_c + d_r) per layer; bytes:
 * the latents read once for all heads, the new latents written, queries
 * and outputs. Per GPU with the heads split over tp (each GPU still reads
 * every latent of its rank). The absorbed projections (2 x kv_b params per
 * token) are linear-layer work and not counted here. */
void llm_mla_decode(const llm_mla_shape *s, double seqs, double context, double kv_bytes,
                    double act_bytes, int tp, llm_work *out);

/* Prefill attention without absorption (FlashAttention over materialised
 * keys and values): `tokens` new tokens attending `attended` positions in
 * total, over `kv_positions` cached + new positions. FLOPs per layer:
 * 2 x heads x attended x (d_nope + d_r + d_v), plus the up-projection of
 * the kv_positions - tokens cached latents into keys and values
 * (2 x d_c x heads x (d_nope + d_v) each; the new tokens' own are
 * linear-layer work). Per GPU with the heads split over tp. */
void llm_mla_prefill(const llm_mla_shape *s, double tokens, double attended, double kv_positions,
                     double kv_bytes, double act_bytes, int tp, llm_work *out);

#endif
