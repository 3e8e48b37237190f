/* models/llm/llm_step.h: the time of one batch step of a model on a
 * replica of tp x pp GPUs, and whether the replica fits in memory. This is
 * the core every serving simulation calls for every step: no allocation,
 * no lookup, O(1) per call once the replica is set up.
 *
 * Per layer, for the linear layers and for attention separately, the time
 * is the larger of compute (FLOPs / (peak x compute_efficiency)) and memory
 * (bytes moved / (bandwidth x memory efficiency)), each divided over the tp
 * GPUs; plus two all-reduces of the layer's activations over the
 * tensor-parallel link; plus the output head once; plus activations sent
 * between pipeline stages: the GPU time (gpu_s). Pipeline stages run one
 * after another for one batch, so pp divides memory, not latency.
 *
 * Around the GPU time, the serving stack (models/stack/stack.h; by default
 * the ideal engine of llm_replica_init) adds: a launch cost per layer when
 * the step is not captured in a CUDA graph; host time (fixed + per
 * sequence + per new token, plus the batch sent to tensor-parallel worker
 * processes when tp > 1), which either adds to the step or, with
 * asynchronous scheduling, overlaps it:
 *   synchronous:  total = gpu + launch + host
 *   overlapped:   total = max(gpu + launch, host) + exposed
 * so a step is never shorter than its GPU part.
 *
 * Mixture of experts and new architectures (models/llm/moe.h): with expert
 * parallelism or data-parallel attention asked (llm_replica_set_moe), MLA,
 * shared experts or leading dense layers, the busiest attention rank (ceil
 * share of the sequences; idle ranks run dummy steps in lock-step) sets the
 * rank-local part (attention, dense layers, shared experts, head, TP
 * all-reduces); the routed experts see every rank's tokens, split over ep
 * GPUs, and each MoE layer adds a dispatch and a combine all-to-all
 * (net_alltoall_s with measured collectives, latency + bytes / bandwidth
 * otherwise), scaled by the load imbalance. Sliding-window layers attend to
 * at most the window (per sequence, at the batch's mean context). Models
 * without these fields take the step above unchanged. */
#ifndef LLM_STEP_H
#define LLM_STEP_H

#include <stdbool.h>

#include "models/gpu/gpu.h"
#include "models/interconnect/net.h"
#include "models/llm/llm.h"
#include "models/llm/moe.h"

/* Fraction of peak bandwidth attention reaches reading the KV cache. Vidur's
 * A100 profile of Llama-2-7B decode attention (batch 128, context 2,240)
 * reads at about 97%; smaller batches reach less, so 0.90. */
#define LLM_ATTN_MEMORY_EFFICIENCY 0.90
/* Bytes of an activation value (fp16/bf16 serving). */
#define LLM_ACT_BYTES 2.0
/* Share of GPU memory a serving engine may use (vLLM's default
 * gpu_memory_utilization). */
#define LLM_USABLE_MEMORY 0.90

/* Steps of up to this many tokens find their GEMM times in the replica's
 * table (gemm = "shape"); larger ones price them as they run. */
#define LLM_SHAPE_TABLE 1024

/* Which steps run as captured CUDA graphs (no launch cost). */
enum { LLM_GRAPHS_NONE, LLM_GRAPHS_DECODE, LLM_GRAPHS_ALL };
/* The all-reduce implementation a stack runs (priced by the measured
 * collective curves when collectives is LLM_COLLECTIVES_MEASURED). */
enum { LLM_AR_NCCL, LLM_AR_CUSTOM };
/* Collective pricing: alpha-beta (net_*), or measured curves. */
enum { LLM_COLLECTIVES_ALPHA_BETA, LLM_COLLECTIVES_MEASURED };
/* Linear-layer efficiency: one per GPU (flat), or by GEMM shape. */
enum { LLM_GEMM_FLAT, LLM_GEMM_SHAPE };

typedef struct {
  const llm_arch *model;
  const gpu_spec *gpu;
  gpu_precision dtype;     /* weights stored in */
  gpu_precision compute;   /* GEMMs run in */
  double weight_bytes;     /* per parameter */
  double kv_bytes;         /* per cached value */
  int tp, pp;
  const net_link *tp_link; /* NULL when tp = 1 */
  const net_link *pp_link; /* NULL when pp = 1 */
  double overhead_s;       /* fixed host time per step */
  /* the serving stack (llm_replica_init: the ideal engine; stack_apply) */
  double host_per_seq_s, host_per_token_s;  /* host time per sequence and per new token of a step */
  bool host_overlap;        /* host time overlaps the GPU step (asynchronous scheduling) */
  double host_exposed_s;    /* with overlap: the part of the host time that never hides */
  int graphs;               /* LLM_GRAPHS_* */
  double graph_max_tokens;  /* graphed steps have at most this many tokens (0: any) */
  double launch_per_layer_s;  /* kernel launches per layer of a step not graphed */
  double tp_worker_s;       /* per step with tp > 1: the batch broadcast to worker processes */
  int allreduce;            /* LLM_AR_* */
  double custom_ar_max_bytes;  /* LLM_AR_CUSTOM: messages up to this size, NVLink only; NCCL above */
  int collectives;          /* LLM_COLLECTIVES_* */
  int gemm;                 /* LLM_GEMM_* */
  double mem_utilization;   /* share of the memory the runtime sees that the engine may use */
  bool mem_of_free;         /* mem_utilization is a share of what weights and activations leave free */
  double cuda_context_bytes, non_torch_bytes, cuda_graph_bytes;  /* per GPU */
  /* mixture of experts and data-parallel attention (llm_replica_set_moe;
   * 1, 1, 0, 0, LLM_ACT_BYTES, NULL after llm_replica_init) */
  int dp_attention;        /* attention ranks of tp GPUs each: tp x pp x dp_attention GPUs */
  int ep;                  /* GPUs of a stage the routed experts are split over */
  double imbalance;        /* max/mean routed pairs per expert GPU; 0: llm_moe_imbalance_floor */
  double expert_slots;     /* expert slots with redundant copies (EPLB); 0: the experts */
  double dispatch_bytes;   /* per value dispatched: 2, or LLM_MOE_FP8_DISPATCH_BYTES */
  const net_link *ep_link; /* the all-to-all's link (NULL when ep = 1 and dp_attention = 1) */
  /* gemm = "shape": the dense step's linear-layer and output-head compute
   * times for 0..shape_n tokens (logits), filled by llm_replica_prepare so
   * that a step looks them up instead of pricing five GEMMs; shape_n = 0:
   * priced each step */
  int shape_n;
  double shape_lin_c[LLM_SHAPE_TABLE + 1], shape_head_c[LLM_SHAPE_TABLE + 1];
  /* derived at init */
  double flops_per_s, attn_flops_per_s, bytes_per_s, attn_bytes_per_s;
  bool moe_path;           /* the step takes the MoE/MLA terms (EP or DP asked, MLA, shared or dense layers) */
  llm_moe_shape moe;       /* the model's experts as moe.h takes them */
  llm_mla_shape mla;       /* one layer of MLA (layers = 1) */
} llm_replica;

/* Set up r as on the ideal engine (overhead_s of host time per step, not
 * overlapped, every step graphed, LLM_USABLE_MEMORY of the datasheet
 * memory); pointers are kept, not copied. tp_link and pp_link may be NULL
 * when the degree is 1. */
void llm_replica_init(llm_replica *r, const llm_arch *m, const gpu_spec *g, gpu_precision dtype,
                      int tp, int pp, const net_link *tp_link, const net_link *pp_link,
                      double overhead_s);

/* Expert parallelism and data-parallel attention for r (after
 * llm_replica_init): the replica holds tp x pp x dp_attention GPUs, the
 * routed experts of each stage are split over ep of its tp x dp_attention
 * GPUs (ep divides it; the remaining factor shards each expert), tokens
 * reach them by an all-to-all on ep_link. imbalance 0: the balls-into-bins
 * floor (a balanced placement, EPLB); fp8_dispatch: DeepEP's fp8 dispatch. */
void llm_replica_set_moe(llm_replica *r, int dp_attention, int ep, double imbalance, double expert_slots,
                         bool fp8_dispatch, const net_link *ep_link);
/* GPUs of one replica: tp x pp x dp_attention. */
int llm_replica_gpus(const llm_replica *r);

/* After the replica's stack is applied (stack_apply): with gemm = "shape",
 * fill the tables of per-token-count GEMM times, which give exactly what
 * the step would compute. A replica changed afterwards (its GPU's
 * efficiencies) must set shape_n = 0 or call this again. */
void llm_replica_prepare(llm_replica *r);

/* What one step processes. Build with llm_batch_* or fill directly. */
typedef struct {
  double prefill_tokens;    /* prompt tokens computed this step */
  double prefill_attended;  /* sum over them of positions attended */
  double prefill_kv_read;   /* sum over prefill sequences of cached + chunk tokens */
  double prefill_done;      /* prompts that complete this step (each emits a token) */
  double decode_seqs;       /* sequences generating one token */
  double decode_context;    /* sum of their contexts, in tokens */
  double prefill_seqs;      /* prompt chunks (sequences) in prefill_tokens */
  /* speculative decoding: draft tokens verified alongside the decoding
   * sequences in the same forward (each a further query token of its
   * sequence, with its own row of logits), and the positions they attend
   * in total; 0 without speculation */
  double decode_draft;
  double decode_draft_attended;
} llm_batch;

/* Add a prompt chunk of `chunk` tokens after `cached` tokens already in the
 * KV cache; `completes`: the chunk ends the prompt. */
void llm_batch_add_prefill(llm_batch *b, double cached, double chunk, bool completes);
/* Add n decoding sequences each at context `context`. */
void llm_batch_add_decode(llm_batch *b, double n, double context);
/* Add n decoding sequences at context `context` that each verify k >= 0
 * draft tokens (speculative decoding): k + 1 query tokens per sequence,
 * draft token i (1..k) attending context + i positions, k + 1 rows of
 * logits. k = 0 is llm_batch_add_decode. */
void llm_batch_add_verify(llm_batch *b, double n, double context, double k);

typedef struct {
  double total_s;
  double linear_s, attention_s, head_s, comm_s;
  double gpu_s;                /* GPU kernels: linear + attention + head + comm */
  double launch_s;             /* kernel launches of a step not graphed */
  double host_s;               /* host time (fixed, per sequence, per token, TP workers) */
  double overhead_s;           /* total_s - gpu_s as the stack adds it: host (synchronous) plus launches */
  double compute_s, memory_s;  /* the bounds summed over layers (without comm) */
  double flops, bytes;         /* whole replica */
} llm_step_cost;

/* The time of one step (all fields filled); a step of no token has no
 * host time and no launches. */
void llm_step(const llm_replica *r, const llm_batch *b, llm_step_cost *out);

/* Memory per GPU of the replica holding KV for `kv_tokens` tokens and
 * running steps of up to `step_tokens` tokens over `seqs` sequences (each
 * producing one row of logits). */
typedef struct {
  double weights, kv, activations, total;  /* bytes per GPU */
  double capacity, usable;                 /* bytes per GPU */
} llm_memory;
/* usable = (capacity - CUDA context) x mem_utilization - non-torch memory
 * - CUDA-graph memory (the ideal engine: capacity x LLM_USABLE_MEMORY);
 * with mem_of_free, weights and activations + mem_utilization x (capacity
 * - CUDA context - non-torch - graphs - weights - activations). */
void llm_memory_need(const llm_replica *r, double kv_tokens, double step_tokens, double seqs,
                     llm_memory *out);

#endif
