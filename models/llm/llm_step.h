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
 * between pipeline stages; plus a fixed per-step overhead. Pipeline stages
 * run one after another for one batch, so pp divides memory, not latency. */
#ifndef LLM_STEP_H
#define LLM_STEP_H

#include <stdbool.h>

#include "models/gpu/gpu.h"
#include "models/interconnect/net.h"
#include "models/llm/llm.h"

/* Fraction of peak bandwidth attention reaches reading the KV cache. Vidur's
 * A100 profile of Llama-2-7B decode attention (batch 128, context 2,240)
 * reads at about 97%; smaller batches reach less, so 0.90. */
#define LLM_ATTN_MEMORY_EFFICIENCY 0.90
/* Bytes of an activation value (fp16/bf16 serving). */
#define LLM_ACT_BYTES 2.0
/* Share of GPU memory a serving engine may use (vLLM's default
 * gpu_memory_utilization). */
#define LLM_USABLE_MEMORY 0.90

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
  double overhead_s;       /* fixed per step */
  /* derived at init */
  double flops_per_s, attn_flops_per_s, bytes_per_s, attn_bytes_per_s;
} llm_replica;

/* Set up r; pointers are kept, not copied. tp_link and pp_link may be NULL
 * when the degree is 1. */
void llm_replica_init(llm_replica *r, const llm_arch *m, const gpu_spec *g, gpu_precision dtype,
                      int tp, int pp, const net_link *tp_link, const net_link *pp_link,
                      double overhead_s);

/* What one step processes. Build with llm_batch_* or fill directly. */
typedef struct {
  double prefill_tokens;    /* prompt tokens computed this step */
  double prefill_attended;  /* sum over them of positions attended */
  double prefill_kv_read;   /* sum over prefill sequences of cached + chunk tokens */
  double prefill_done;      /* prompts that complete this step (each emits a token) */
  double decode_seqs;       /* sequences generating one token */
  double decode_context;    /* sum of their contexts, in tokens */
} llm_batch;

/* Add a prompt chunk of `chunk` tokens after `cached` tokens already in the
 * KV cache; `completes`: the chunk ends the prompt. */
void llm_batch_add_prefill(llm_batch *b, double cached, double chunk, bool completes);
/* Add n decoding sequences each at context `context`. */
void llm_batch_add_decode(llm_batch *b, double n, double context);

typedef struct {
  double total_s;
  double linear_s, attention_s, head_s, comm_s, overhead_s;
  double compute_s, memory_s;  /* the bounds summed over layers (without comm) */
  double flops, bytes;         /* whole replica */
} llm_step_cost;

/* The time of one step (all fields filled). */
void llm_step(const llm_replica *r, const llm_batch *b, llm_step_cost *out);

/* Memory per GPU of the replica holding KV for `kv_tokens` tokens and
 * running steps of up to `step_tokens` tokens over `seqs` sequences (each
 * producing one row of logits). */
typedef struct {
  double weights, kv, activations, total;  /* bytes per GPU */
  double capacity, usable;                 /* bytes per GPU */
} llm_memory;
void llm_memory_need(const llm_replica *r, double kv_tokens, double step_tokens, double seqs,
                     llm_memory *out);

#endif
