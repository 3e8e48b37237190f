/* models/llm/step.c: batch step time and memory need of a replica (see
 * llm_step.h for the model). */
#include <math.h>

#include "models/llm/llm_step.h"
#include "models/llm/kernels.h"

void llm_replica_init(llm_replica *r, const llm_arch *m, const gpu_spec *g, gpu_precision dtype,
                      int tp, int pp, const net_link *tp_link, const net_link *pp_link,
                      double overhead_s)
{
  r->model = m;
  r->gpu = g;
  r->dtype = dtype;
  r->compute = gpu_compute_precision(g, dtype);
  r->weight_bytes = gpu_precision_bytes(dtype);
  /* the KV cache stays in 16-bit unless the model runs in fp8 (or fp32) */
  r->kv_bytes = dtype == GPU_FP8 ? 1.0 : (dtype == GPU_FP32 || dtype == GPU_TF32) ? 4.0 : 2.0;
  r->tp = tp > 0 ? tp : 1;
  r->pp = pp > 0 ? pp : 1;
  r->tp_link = tp_link;
  r->pp_link = pp_link;
  r->overhead_s = overhead_s;
  r->host_per_seq_s = r->host_per_token_s = r->host_exposed_s = 0;
  r->host_overlap = false;
  r->graphs = LLM_GRAPHS_ALL;
  r->graph_max_tokens = 0;
  r->launch_per_layer_s = r->tp_worker_s = 0;
  r->allreduce = LLM_AR_NCCL;
  r->custom_ar_max_bytes = 0;
  r->collectives = LLM_COLLECTIVES_ALPHA_BETA;
  r->gemm = LLM_GEMM_FLAT;
  r->mem_utilization = LLM_USABLE_MEMORY;
  r->mem_of_free = false;
  r->cuda_context_bytes = r->non_torch_bytes = r->cuda_graph_bytes = 0;
  r->flops_per_s = gpu_peak_flops(g, r->compute) * g->compute_efficiency;
  /* attention's matrix products run in 16-bit (FlashAttention) whatever
   * the weights are stored in */
  r->attn_flops_per_s = gpu_peak_flops(g, gpu_compute_precision(g, GPU_FP16)) * g->compute_efficiency;
  if (dtype == GPU_FP32 || dtype == GPU_TF32) r->attn_flops_per_s = r->flops_per_s;
  r->bytes_per_s = gpu_mem_bw(g) * g->memory_efficiency;
  r->attn_bytes_per_s = gpu_mem_bw(g) * LLM_ATTN_MEMORY_EFFICIENCY;
}

void llm_batch_add_prefill(llm_batch *b, double cached, double chunk, bool completes)
{
  b->prefill_tokens += chunk;
  /* token i of the chunk (1-based) attends to cached + i positions */
  b->prefill_attended += chunk * cached + chunk * (chunk + 1) / 2;
  b->prefill_kv_read += cached + chunk;
  if (completes) b->prefill_done += 1;
}

void llm_batch_add_decode(llm_batch *b, double n, double context)
{
  b->decode_seqs += n;
  b->decode_context += n * context;
}

static double max2(double a, double b) { return a > b ? a : b; }

/* The linear layers' FLOP rate of the flat model: one efficiency per GPU
 * (the ideal engine, and a stack with gemm = "flat"). */
static double linear_flops_per_s(const llm_replica *r, double rows)
{
  (void)rows;
  return r->flops_per_s;
}

/* Compute time of one GEMM of m rows against an n x k weight shard at its
 * shape's efficiency (gemm = "shape": models/llm/kernels.h). */
static double gemm_s(const llm_replica *r, double m, double n, double k)
{
  if (m <= 0) return 0;
  return 2 * m * n * k / (gpu_peak_flops(r->gpu, r->compute) * llm_gemm_efficiency(r->gpu, r->compute, m, n, k));
}

/* The one place a tensor-parallel all-reduce of `bytes` is priced: the
 * alpha-beta net_allreduce_s (the ideal engine, and training), or the
 * measured collective curves (models/interconnect/collective_measured.c)
 * with the stack's implementation: its custom one-/two-shot all-reduce up
 * to custom_ar_max_bytes (which falls back to NCCL by itself on links
 * without peer-to-peer NVLink), NCCL above. */
static double tp_allreduce_s(const llm_replica *r, double bytes)
{
  if (r->collectives != LLM_COLLECTIVES_MEASURED) return net_allreduce_s(r->tp_link, r->tp, bytes, NET_BEST);
  net_impl impl = r->allreduce == LLM_AR_CUSTOM && bytes <= r->custom_ar_max_bytes ? NET_IMPL_CUSTOM : NET_IMPL_NCCL;
  return net_collective_s(r->tp_link, NET_ALLREDUCE, r->tp, bytes, impl);
}

/* True if a step of `tokens` tokens (`prefill` of them prompt tokens) runs
 * as a captured CUDA graph. */
static bool graphed(const llm_replica *r, double tokens, double prefill)
{
  if (r->graphs == LLM_GRAPHS_NONE) return false;
  if (r->graphs == LLM_GRAPHS_DECODE && prefill > 0) return false;
  return r->graph_max_tokens <= 0 || tokens <= r->graph_max_tokens;
}

void llm_step(const llm_replica *r, const llm_batch *b, llm_step_cost *out)
{
  const llm_arch *m = r->model;
  double tp = r->tp, h = (double)m->hidden, q = llm_q_dim(m), kv = llm_kv_dim(m);
  double f = (double)m->ffn, tokens = b->prefill_tokens + b->decode_seqs;
  double layers = (double)m->layers;

  /* linear layers: the attention projections and the experts tokens use */
  double experts = (double)m->experts, k = (double)m->experts_active;
  double touched = experts <= 1 ? 1 : experts * (1 - pow(1 - k / experts, tokens));
  double expert_p = llm_expert_params(m);
  double lin_flops = 2 * tokens * (llm_attn_params(m) + k * expert_p);
  double mlp_io = m->ffn_kind == LLM_FFN_GATED ? 3 * f : 2 * f;
  double lin_bytes = (llm_attn_params(m) + touched * expert_p) * r->weight_bytes +
                     tokens * k * (2 * h + mlp_io) * LLM_ACT_BYTES +      /* MLP in/out */
                     tokens * (2 * h + 2 * q + 2 * kv) * LLM_ACT_BYTES;  /* QKV and O in/out */
  double lin_c = lin_flops / tp / linear_flops_per_s(r, tokens), lin_m = lin_bytes / tp / r->bytes_per_s;
  bool shape = r->gemm == LLM_GEMM_SHAPE;
  if (shape) {
    /* per GEMM on one GPU's shard: QKV and gate+up split by columns, O and
     * down by rows; experts at their share of the tokens */
    double up_n = (m->ffn_kind == LLM_FFN_GATED ? 2 * f : f) / tp;
    double m_exp = experts <= 1 ? tokens : tokens * k / touched;
    lin_c = gemm_s(r, tokens, (q + 2 * kv) / tp, h) + gemm_s(r, tokens, h, q / tp) +
            touched * (gemm_s(r, m_exp, up_n, h) + gemm_s(r, m_exp, h, f / tp));
  }

  /* attention: scores and weighted sum over the attended positions */
  double attended = b->prefill_attended + b->decode_context;
  double att_flops = 4 * q * attended;
  double kv_read = (b->prefill_kv_read + b->decode_context) * 2 * kv * r->kv_bytes;
  double kv_write = tokens * 2 * kv * r->kv_bytes;
  double att_bytes = kv_read + kv_write + tokens * 2 * q * LLM_ACT_BYTES;
  /* K/V heads are split over tp, but never below one head per GPU */
  double kv_split = tp < (double)m->kv_heads ? tp : (double)m->kv_heads;
  double att_c = att_flops / tp / r->attn_flops_per_s;
  double att_m = (kv_read + kv_write) / kv_split / r->attn_bytes_per_s +
                 tokens * 2 * q * LLM_ACT_BYTES / tp / r->attn_bytes_per_s;
  if (shape) {
    /* prefill FLOPs at FlashAttention's efficiency for their length (seq =
     * 2 x attended / tokens: the prompt for a fresh one); decode FLOPs as
     * before; the decode KV read as one paged-decode kernel per layer */
    double peak16 = r->attn_flops_per_s / r->gpu->compute_efficiency;
    double seq = b->prefill_tokens > 0 ? 2 * b->prefill_attended / b->prefill_tokens : 0;
    att_c = 4 * q * b->decode_context / tp / r->attn_flops_per_s;
    if (b->prefill_tokens > 0)
      att_c += 4 * q * b->prefill_attended / tp /
               (peak16 * llm_attn_prefill_efficiency(r->gpu, seq, llm_head_dim(m)));
    double dec_bytes = b->decode_context * 2 * kv * r->kv_bytes / kv_split;
    att_m = (b->prefill_kv_read * 2 * kv * r->kv_bytes + kv_write) / kv_split / r->attn_bytes_per_s +
            tokens * 2 * q * LLM_ACT_BYTES / tp / r->attn_bytes_per_s;
    if (dec_bytes > 0)
      att_m += dec_bytes / (gpu_mem_bw(r->gpu) * llm_attn_decode_efficiency_bytes(r->gpu, dec_bytes));
  }

  /* tensor parallelism: all-reduce after attention and after the MLP */
  double comm = 0;
  if (r->tp > 1 && r->tp_link && tokens > 0)
    comm = 2 * tp_allreduce_s(r, tokens * h * LLM_ACT_BYTES);

  /* output head for the tokens that produce logits */
  double logits = b->decode_seqs + b->prefill_done;
  double head_flops = 2 * logits * (double)m->vocab * h;
  double head_bytes = logits > 0 ? (double)m->vocab * h * r->weight_bytes : 0;
  double head_c = head_flops / tp / linear_flops_per_s(r, logits), head_m = head_bytes / tp / r->bytes_per_s;
  if (shape) head_c = gemm_s(r, logits, (double)m->vocab / tp, h);

  double pp_comm = 0;
  if (r->pp > 1 && r->pp_link && tokens > 0)
    pp_comm = (r->pp - 1) * net_p2p_s(r->pp_link, tokens * h * LLM_ACT_BYTES);

  out->linear_s = layers * max2(lin_c, lin_m);
  out->attention_s = tokens > 0 ? layers * max2(att_c, att_m) : 0;
  out->head_s = max2(head_c, head_m);
  out->comm_s = layers * comm + pp_comm;
  out->compute_s = layers * (lin_c + att_c) + head_c;
  out->memory_s = layers * (lin_m + att_m) + head_m;
  out->flops = layers * (lin_flops + att_flops) + head_flops;
  out->bytes = layers * (lin_bytes + att_bytes) + head_bytes;
  out->gpu_s = out->linear_s + out->attention_s + out->head_s + out->comm_s;
  out->launch_s = 0;
  out->host_s = 0;
  if (tokens > 0) {
    if (!graphed(r, tokens, b->prefill_tokens)) out->launch_s = layers * r->launch_per_layer_s;
    /* summed in this order so that the ideal engine's host time is exactly overhead_s */
    out->host_s = r->overhead_s + r->host_per_seq_s * (b->decode_seqs + b->prefill_done) +
                  r->host_per_token_s * tokens + (r->tp > 1 ? r->tp_worker_s : 0);
  }
  double device = out->gpu_s + out->launch_s;
  if (tokens <= 0)
    out->total_s = out->gpu_s;
  else if (r->host_overlap)
    out->total_s = max2(device, out->host_s) + r->host_exposed_s;
  else
    out->total_s = device + out->host_s;
  out->overhead_s = r->host_overlap ? out->total_s - out->gpu_s : out->launch_s + out->host_s;
}

void llm_memory_need(const llm_replica *r, double kv_tokens, double step_tokens, double seqs,
                     llm_memory *out)
{
  const llm_arch *m = r->model;
  double gpus = (double)r->tp * r->pp;
  double kv_split = r->tp < m->kv_heads ? (double)r->tp : (double)m->kv_heads;
  out->weights = llm_weights_bytes(m, r->weight_bytes) / gpus;
  out->kv = kv_tokens * llm_kv_bytes_per_token(m, r->kv_bytes) / kv_split / r->pp;
  /* the widest transient of a step: the MLP's inner activations and logits */
  double f = (double)m->ffn * (m->ffn_kind == LLM_FFN_GATED ? 2 : 1) * (double)m->experts_active;
  out->activations = step_tokens * ((4 * (double)m->hidden + f) / r->tp) * LLM_ACT_BYTES +
                     seqs * (double)m->vocab / r->tp * 4.0; /* fp32 logits */
  out->total = out->weights + out->kv + out->activations;
  out->capacity = gpu_mem_bytes(r->gpu);
  if (r->mem_of_free) {
    double fixed = out->weights + out->activations;
    double free = out->capacity - r->cuda_context_bytes - r->non_torch_bytes - r->cuda_graph_bytes - fixed;
    out->usable = fixed + (free > 0 ? free * r->mem_utilization : free);
  } else {
    out->usable = (out->capacity - r->cuda_context_bytes) * r->mem_utilization - r->non_torch_bytes -
                  r->cuda_graph_bytes;
  }
}
