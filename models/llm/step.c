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
  r->shape_n = 0;
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
  r->dp_attention = 1;
  r->ep = 1;
  r->imbalance = 0;
  r->expert_slots = 0;
  r->dispatch_bytes = LLM_ACT_BYTES;
  r->ep_link = NULL;
  r->moe = (llm_moe_shape){.hidden = (double)m->hidden, .experts = (double)m->experts,
                           .experts_active = (double)m->experts_active, .expert_ffn = llm_expert_ffn(m),
                           .shared_experts = (double)m->shared_experts, .shared_ffn = llm_shared_expert_ffn(m),
                           .gated = m->ffn_kind == LLM_FFN_GATED};
  r->mla = (llm_mla_shape){.layers = 1, .heads = (double)m->heads, .kv_lora_rank = (double)m->kv_lora_rank,
                           .qk_rope_head_dim = (double)m->qk_rope_head_dim,
                           .qk_nope_head_dim = (double)m->qk_nope_head_dim, .v_head_dim = (double)m->v_head_dim};
  /* models of before (no MLA, shared experts, dense leading layers or own expert width) keep
   * today's step exactly unless llm_replica_set_moe asks for EP or DP */
  r->moe_path = llm_is_mla(m) || m->shared_experts > 0 || m->dense_layers > 0 || m->expert_ffn > 0;
}

void llm_replica_set_moe(llm_replica *r, int dp_attention, int ep, double imbalance, double expert_slots,
                         bool fp8_dispatch, const net_link *ep_link)
{
  r->dp_attention = dp_attention > 0 ? dp_attention : 1;
  r->ep = ep > 0 ? ep : 1;
  r->imbalance = imbalance;
  r->expert_slots = expert_slots;
  r->dispatch_bytes = fp8_dispatch ? LLM_MOE_FP8_DISPATCH_BYTES : LLM_ACT_BYTES;
  r->ep_link = ep_link;
  if (r->ep > 1 || r->dp_attention > 1) r->moe_path = true;
}

int llm_replica_gpus(const llm_replica *r) { return r->tp * r->pp * r->dp_attention; }

void llm_batch_add_prefill(llm_batch *b, double cached, double chunk, bool completes)
{
  b->prefill_tokens += chunk;
  /* token i of the chunk (1-based) attends to cached + i positions */
  b->prefill_attended += chunk * cached + chunk * (chunk + 1) / 2;
  b->prefill_kv_read += cached + chunk;
  b->prefill_seqs += 1;
  if (completes) b->prefill_done += 1;
}

void llm_batch_add_decode(llm_batch *b, double n, double context)
{
  b->decode_seqs += n;
  b->decode_context += n * context;
}

void llm_batch_add_verify(llm_batch *b, double n, double context, double k)
{
  llm_batch_add_decode(b, n, context);
  b->decode_draft += n * k;
  b->decode_draft_attended += n * (k * context + k * (k + 1) / 2);
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

/* The dense step's linear layers per layer on one GPU, priced GEMM by GEMM
 * (gemm = "shape"): QKV and gate+up split by columns, O and down by rows;
 * experts at their share of the tokens. */
static double shape_lin_c(const llm_replica *r, double tokens)
{
  const llm_arch *m = r->model;
  double tp = r->tp, h = (double)m->hidden, q = llm_q_dim(m), kv = llm_kv_dim(m), f = llm_expert_ffn(m);
  double experts = (double)m->experts, k = (double)m->experts_active;
  double touched = experts <= 1 ? 1 : experts * (1 - pow(1 - k / experts, tokens));
  double up_n = (m->ffn_kind == LLM_FFN_GATED ? 2 * f : f) / tp;
  double m_exp = experts <= 1 ? tokens : tokens * k / touched;
  return gemm_s(r, tokens, (q + 2 * kv) / tp, h) + gemm_s(r, tokens, h, q / tp) +
         touched * (gemm_s(r, m_exp, up_n, h) + gemm_s(r, m_exp, h, f / tp));
}

/* The output head for `logits` rows on one GPU (gemm = "shape"). */
static double shape_head_c(const llm_replica *r, double logits)
{
  return gemm_s(r, logits, (double)r->model->vocab / r->tp, (double)r->model->hidden);
}

void llm_replica_prepare(llm_replica *r)
{
  r->shape_n = 0;
  if (r->gemm != LLM_GEMM_SHAPE) return;
  for (int t = 0; t <= LLM_SHAPE_TABLE; t++) {
    r->shape_lin_c[t] = shape_lin_c(r, t);
    r->shape_head_c[t] = shape_head_c(r, t);
  }
  r->shape_n = LLM_SHAPE_TABLE;
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

/* Positions token i of a chunk after `a` cached ones attends to in a
 * windowed layer: sum over p = a+1 .. a+c of min(p, w). */
static double window_attended(double a, double c, double w)
{
  double below = w - a < c ? (w - a > 0 ? w - a : 0) : c;  /* tokens whose position is within the window */
  return below * a + below * (below + 1) / 2 + (c - below) * w;
}

/* b with the attended and read positions of a sliding-window model,
 * averaged over its layers (global layers see everything, windowed ones at
 * most sliding_window), per sequence at the batch's mean chunk, cache and
 * context; b itself for a model without windows. */
static llm_batch windowed_batch(const llm_arch *m, const llm_batch *b)
{
  llm_batch e = *b;
  double wl = llm_window_layers(m);
  if (wl <= 0) return e;
  double l = (double)m->layers, g = l - wl, w = (double)m->sliding_window;
  if (b->decode_seqs > 0) {
    e.decode_context = b->decode_seqs * llm_kv_tokens_held(m, b->decode_context / b->decode_seqs);
    /* draft tokens: at the decodes' share of positions held */
    if (b->decode_context > 0) e.decode_draft_attended = b->decode_draft_attended * e.decode_context / b->decode_context;
  }
  double ps = b->prefill_seqs > 0 ? b->prefill_seqs : (b->prefill_tokens > 0 ? 1 : 0);
  if (ps > 0) {
    double c = b->prefill_tokens / ps, a = b->prefill_kv_read / ps - c;
    if (a < 0) a = 0;
    e.prefill_attended = (g * b->prefill_attended + wl * ps * window_attended(a, c, w)) / l;
    e.prefill_kv_read = (g * b->prefill_kv_read + wl * ps * ((a < w ? a : w) + c)) / l;
  }
  return e;
}

static double mlp_params_of(const llm_arch *m, double width)
{
  return (m->ffn_kind == LLM_FFN_GATED ? 3 : 2) * (double)m->hidden * width;
}

/* One MoE layer's dispatch plus combine (per GPU, bytes x imbalance): the
 * measured all-to-all curve of ep_link (net_alltoall_s, DeepEP's count
 * with local copies) when the stack asks for measured collectives, else
 * latency + bytes / bandwidth of the link for the remote copies. */
static double moe_alltoall_s(const llm_replica *r, const llm_moe_a2a *x, double imbalance)
{
  if (r->collectives == LLM_COLLECTIVES_MEASURED)
    return net_alltoall_s(r->ep_link, r->ep, x->dispatch_bytes_all * imbalance) +
           net_alltoall_s(r->ep_link, r->ep, x->combine_bytes_all * imbalance);
  double bw = net_bw(r->ep_link), lat = net_alpha_s(r->ep_link);
  return llm_moe_alltoall_s(x->dispatch_bytes * imbalance, lat, bw) +
         llm_moe_alltoall_s(x->combine_bytes * imbalance, lat, bw);
}

/* The GPU part of the step with experts split over ep GPUs, attention
 * data-parallel over dp_attention ranks of tp GPUs, MLA, shared experts
 * and dense leading layers (llm_step.h). The busiest attention rank sets
 * the rank-local part (a balanced DP scheduler: ceil shares; idle ranks'
 * dummy steps are never the slowest); the routed experts see every rank's
 * tokens. Linear layers at the flat efficiency. */
static void step_moe(const llm_replica *r, const llm_batch *b, llm_step_cost *out)
{
  const llm_arch *m = r->model;
  double tp = r->tp, dp = r->dp_attention, h = (double)m->hidden, q = llm_q_dim(m), kv = llm_kv_dim(m);
  double tokens = b->prefill_tokens + b->decode_seqs + b->decode_draft, layers = (double)m->layers;
  double moe_layers = llm_moe_layers(m), dense_layers = llm_dense_layers(m);
  double pseqs = b->prefill_seqs > 0 ? b->prefill_seqs : (b->prefill_tokens > 0 ? 1 : 0);
  double seqs = pseqs + b->decode_seqs;
  double share = dp > 1 && seqs > 0 ? llm_dp_rank_share(seqs, r->dp_attention, 0) / seqs : 1;
  if (share > 1) share = 1;
  double rtok = tokens * share, rdec = b->decode_seqs * share;

  /* rank-local, every layer: attention projections */
  double ap = llm_attn_params(m);
  double lin_flops = 2 * rtok * ap;
  double lin_bytes = ap * r->weight_bytes + rtok * (2 * h + 2 * q + 2 * kv) * LLM_ACT_BYTES;
  double lin_c = lin_flops / tp / r->flops_per_s, lin_m = lin_bytes / tp / r->bytes_per_s;
  /* gemm = "shape": each GEMM at its shape's efficiency (the projections as
   * one GEMM of the same parameters, split by columns over tp) */
  bool shape = r->gemm == LLM_GEMM_SHAPE;
  double up_mult = m->ffn_kind == LLM_FFN_GATED ? 2 : 1;
  if (shape) lin_c = gemm_s(r, rtok, ap / h / tp, h);

  /* attention: MLA absorbed in decode, materialised in prefill; else as llm_step */
  double att_c, att_m, att_flops, att_bytes;
  if (llm_is_mla(m)) {
    llm_work d, p;
    /* draft tokens under verification as further absorbed queries (their
     * latent reads counted per query: an upper bound) */
    llm_mla_decode(&r->mla, rdec + b->decode_draft * share, (b->decode_context + b->decode_draft_attended) * share,
                   r->kv_bytes, LLM_ACT_BYTES, r->tp, &d);
    llm_mla_prefill(&r->mla, b->prefill_tokens * share, b->prefill_attended * share, b->prefill_kv_read * share,
                    r->kv_bytes, LLM_ACT_BYTES, r->tp, &p);
    att_flops = (d.flops + p.flops) * tp;
    att_bytes = (d.bytes + p.bytes) * tp;
    att_c = (d.flops + p.flops) / r->attn_flops_per_s;
    att_m = (d.bytes + p.bytes) / r->attn_bytes_per_s;
  } else {
    double attended = (b->prefill_attended + b->decode_context + b->decode_draft_attended) * share;
    att_flops = 4 * llm_attn_width(m) * attended;
    double kv_read = (b->prefill_kv_read + b->decode_context + b->decode_draft) * share * 2 * kv * r->kv_bytes;
    double kv_write = rtok * 2 * kv * r->kv_bytes;
    att_bytes = kv_read + kv_write + rtok * 2 * q * LLM_ACT_BYTES;
    double kv_split = tp < (double)m->kv_heads ? tp : (double)m->kv_heads;
    att_c = att_flops / tp / r->attn_flops_per_s;
    att_m = (kv_read + kv_write) / kv_split / r->attn_bytes_per_s +
            rtok * 2 * q * LLM_ACT_BYTES / tp / r->attn_bytes_per_s;
  }

  /* dense leading layers (all layers of a model without experts): an MLP
   * of width ffn, rank-local over tp */
  double dp_params = mlp_params_of(m, (double)m->ffn);
  double dense_c = 2 * rtok * dp_params / tp / r->flops_per_s;
  if (shape)
    dense_c = gemm_s(r, rtok, up_mult * (double)m->ffn / tp, h) + gemm_s(r, rtok, h, (double)m->ffn / tp);
  double dense_m = (dp_params * r->weight_bytes + rtok * (2 * h + 3 * (double)m->ffn) * LLM_ACT_BYTES) / tp /
                   r->bytes_per_s;

  /* shared experts: rank-local over tp */
  llm_work sh = {0, 0};
  if (m->experts > 1) llm_moe_shared(&r->moe, rtok, r->tp, r->weight_bytes, LLM_ACT_BYTES, &sh);
  double sh_c = sh.flops / r->flops_per_s;
  if (shape && m->shared_experts > 0) {
    double sw = (double)m->shared_experts * llm_shared_expert_ffn(m);
    sh_c = gemm_s(r, rtok, up_mult * sw / tp, h) + gemm_s(r, rtok, h, sw / tp);
  }

  /* routed experts: ep GPUs of the stage's tp x dp, each expert further
   * sharded over the remaining etp GPUs */
  double stage = tp * dp, ep = r->ep, etp = stage / ep;
  llm_moe_work w = {0};
  double moe_c = 0, moe_m = 0;
  if (m->experts > 1) {
    llm_moe_par par = {.ep = r->ep, .slots = r->expert_slots, .imbalance = r->imbalance,
                       .weight_bytes = r->weight_bytes, .act_bytes = LLM_ACT_BYTES};
    llm_moe_layer_work(&r->moe, &par, tokens, &w);
    moe_c = w.flops_max / etp / r->flops_per_s;
    moe_m = w.bytes_max / etp / r->bytes_per_s;
    if (shape && w.slots_touched > 0) {
      /* the local experts as one grouped GEMM (fused MoE, DeepGEMM): tiles
       * of every expert fill the GPU together, so the busiest GPU's pairs
       * are the rows, at one expert's width */
      double fe = llm_expert_ffn(m);
      moe_c = gemm_s(r, w.pairs_max, up_mult * fe / etp, h) + gemm_s(r, w.pairs_max, h, fe / etp);
    }
  }

  /* communication per layer: TP all-reduces inside the rank (after
   * attention and after the MLP); the experts' all-to-all (ep > 1) or,
   * without EP across DP ranks, an all-gather of the tokens and a
   * reduce-scatter of the outputs over the stage */
  double ar = 0, a2a = 0;
  if (r->tp > 1 && r->tp_link && rtok > 0) ar = 2 * tp_allreduce_s(r, rtok * h * LLM_ACT_BYTES);
  if (tokens > 0 && r->ep_link && m->experts > 1) {
    if (r->ep > 1) {
      llm_moe_a2a x;
      llm_moe_alltoall(&r->moe, r->ep, tokens, r->dispatch_bytes, LLM_ACT_BYTES, false, &x);
      a2a = moe_alltoall_s(r, &x, w.imbalance);
    } else if (r->dp_attention > 1) {
      double bytes = tokens / dp * h * LLM_ACT_BYTES;
      a2a = net_allgather_s(r->ep_link, (int)stage, bytes) + net_reduce_scatter_s(r->ep_link, (int)stage, bytes);
    }
  }

  /* output head, rank-local */
  double logits = (b->decode_seqs + b->prefill_done + b->decode_draft) * share;
  double head_flops = 2 * logits * (double)m->vocab * h;
  double head_bytes = logits > 0 ? (double)m->vocab * h * r->weight_bytes : 0;
  double head_c = head_flops / tp / r->flops_per_s, head_m = head_bytes / tp / r->bytes_per_s;
  if (shape) head_c = gemm_s(r, logits, (double)m->vocab / tp, h);

  double pp_comm = 0;
  if (r->pp > 1 && r->pp_link && tokens > 0)
    pp_comm = (r->pp - 1) * net_p2p_s(r->pp_link, rtok * h * LLM_ACT_BYTES);

  double mlp_s = dense_layers * max2(dense_c, dense_m) +
                 moe_layers * (max2(sh_c, sh.bytes / r->bytes_per_s) + max2(moe_c, moe_m));
  out->linear_s = tokens > 0 ? layers * max2(lin_c, lin_m) + mlp_s : 0;
  out->attention_s = rtok > 0 ? layers * max2(att_c, att_m) : 0;
  out->head_s = max2(head_c, head_m);
  out->comm_s = layers * ar + moe_layers * a2a + pp_comm;
  out->compute_s = layers * (lin_c + att_c) + dense_layers * dense_c +
                   moe_layers * (sh_c + moe_c) + head_c;
  out->memory_s = layers * (lin_m + att_m) + dense_layers * dense_m +
                  moe_layers * (sh.bytes / r->bytes_per_s + moe_m) + head_m;
  /* whole replica: every rank's share and every expert GPU */
  double ranks = share > 0 ? 1 / share : 1;
  out->flops = ranks * (layers * (lin_flops + att_flops) + dense_layers * 2 * rtok * dp_params +
                        moe_layers * sh.flops * tp + head_flops) +
               moe_layers * w.flops_mean * ep;
  out->bytes = ranks * (layers * (lin_bytes + att_bytes) + dense_layers * dense_m * tp * r->bytes_per_s +
                        moe_layers * sh.bytes * tp + head_bytes) +
               moe_layers * w.bytes_max * ep;
}

static void step_finish(const llm_replica *r, const llm_batch *b, llm_step_cost *out);

void llm_step(const llm_replica *r, const llm_batch *b_in, llm_step_cost *out)
{
  llm_batch wb = windowed_batch(r->model, b_in);
  const llm_batch *b = &wb;
  if (r->moe_path) {
    step_moe(r, b, out);
    step_finish(r, b, out);
    return;
  }
  const llm_arch *m = r->model;
  double tp = r->tp, h = (double)m->hidden, q = llm_q_dim(m), kv = llm_kv_dim(m);
  double f = llm_expert_ffn(m), tokens = b->prefill_tokens + b->decode_seqs + b->decode_draft;
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
  if (shape) lin_c = tokens <= r->shape_n && tokens == floor(tokens) ? r->shape_lin_c[(int)tokens]
                                                                     : shape_lin_c(r, tokens);

  /* attention: scores and weighted sum over the attended positions */
  double attended = b->prefill_attended + b->decode_context + b->decode_draft_attended;
  double att_flops = 4 * llm_attn_width(m) * attended;
  /* a verifying sequence's KV is read once for its k + 1 queries (one
   * kernel over the sequence), its k draft positions included */
  double kv_read = (b->prefill_kv_read + b->decode_context + b->decode_draft) * 2 * kv * r->kv_bytes;
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
    att_c = 4 * q * (b->decode_context + b->decode_draft_attended) / tp / r->attn_flops_per_s;
    if (b->prefill_tokens > 0)
      att_c += 4 * q * b->prefill_attended / tp /
               (peak16 * llm_attn_prefill_efficiency(r->gpu, seq, llm_head_dim(m)));
    double dec_bytes = (b->decode_context + b->decode_draft) * 2 * kv * r->kv_bytes / kv_split;
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
  double logits = b->decode_seqs + b->prefill_done + b->decode_draft;
  double head_flops = 2 * logits * (double)m->vocab * h;
  double head_bytes = logits > 0 ? (double)m->vocab * h * r->weight_bytes : 0;
  double head_c = head_flops / tp / linear_flops_per_s(r, logits), head_m = head_bytes / tp / r->bytes_per_s;
  if (shape) head_c = logits <= r->shape_n && logits == floor(logits) ? r->shape_head_c[(int)logits]
                                                                      : shape_head_c(r, logits);

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
  step_finish(r, b, out);
}

/* Launches, host time and the total around the GPU terms out holds. */
static void step_finish(const llm_replica *r, const llm_batch *b, llm_step_cost *out)
{
  double tokens = b->prefill_tokens + b->decode_seqs + b->decode_draft, layers = (double)r->model->layers;
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
  if (r->moe_path && m->experts > 1) {
    /* routed experts over the stage's tp x dp_attention GPUs (redundant
     * slots included), the rest replicated on every attention rank and
     * split over tp; each rank caches only its own sequences */
    double stage = (double)r->tp * r->dp_attention;
    double routed = llm_moe_layers(m) * (double)m->experts * llm_expert_params(m);
    double slots = r->expert_slots > 0 ? r->expert_slots / (double)m->experts : 1;
    out->weights = ((llm_params(m) - routed) / r->tp + routed * slots / stage) * r->weight_bytes / r->pp;
  }
  out->kv /= r->dp_attention;
  /* the widest transient of a step: the MLP's inner activations and logits */
  double inner = llm_expert_ffn(m) * (double)m->experts_active + (double)m->shared_experts * llm_shared_expert_ffn(m);
  if (m->dense_layers > 0 && (double)m->ffn > inner) inner = (double)m->ffn;
  double f = inner * (m->ffn_kind == LLM_FFN_GATED ? 2 : 1);
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
