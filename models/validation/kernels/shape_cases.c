/* models/validation/kernels/shape_cases.c: models/VALIDATION.md's
 * compute-core cases 1-18 (the table of tests/unit/test_validation.c)
 * recomputed twice: with today's llm_step, and with llm_step as it would be
 * with the shape model wired in (shape_step below: the change proposed for
 * models/llm/step.c, for a replica whose stack asks for gemm = "shape").
 * Prints both, so that the effect of wiring the shape model in is visible
 * before anyone edits step.c. A tool, not a test; nothing here is fitted.
 *
 * shape_step is llm_step (models/llm/step.c at the commit this was written
 * against) with three changes, marked SHAPE:
 *  - the linear layers' compute time is the sum over the layer's GEMMs
 *    (QKV, O, gate+up, down; experts: per expert at its share of the
 *    tokens) of 2 m n k / (peak x llm_gemm_efficiency(m, n, k)), m = tokens
 *    of the step, n and k the weight's shard on one GPU; the output head
 *    likewise;
 *  - prefill attention FLOPs run at llm_attn_prefill_efficiency(seq, head
 *    dim), seq = 2 x attended / prefill tokens (the prompt length for a
 *    fresh prompt); decode attention FLOPs keep compute_efficiency;
 *  - the decode part of the KV read takes bytes / (bandwidth x
 *    llm_attn_decode_efficiency_bytes(bytes)) per layer and GPU (a fixed
 *    kernel time plus the bytes), instead of LLM_ATTN_MEMORY_EFFICIENCY. */
#include <math.h>
#include <stdio.h>

#include "driver/config/catalog_load.h"
#include "models/llm/kernels.h"
#include "models/llm/llm.h"
#include "models/llm/llm_step.h"

#define OVERHEAD_S 0.5e-3 /* tests/unit/test_validation.c's VALIDATION_OVERHEAD_S */

typedef enum { DECODE, PREFILL } kind;

typedef struct {
  const char *id, *what, *model, *gpu;
  gpu_precision dtype;
  int tp;
  kind k;
  double batch, in, out, published_ms;
} vcase;

/* tests/unit/test_validation.c's cases (sources there and in models/VALIDATION.md) */
static const vcase cases[] = {
  {"1", "Llama-2-7B decode, batch 1", "llama2-7b", "a100-80gb-sxm", GPU_FP16, 1, DECODE, 1, 1, 129, 10.0},
  {"2", "Llama-2-7B decode, batch 1 (330 W cap)", "llama2-7b", "a100-80gb-sxm", GPU_BF16, 1, DECODE, 1, 5, 205, 9.53},
  {"3", "Llama-2-13B decode, batch 1", "llama2-13b", "a100-80gb-sxm", GPU_FP16, 1, DECODE, 1, 1, 129, 17.4},
  {"4", "LLaMA-7B decode, batch 1, RTX 4090", "llama2-7b", "rtx-4090", GPU_FP16, 1, DECODE, 1, 1, 128, 16.4},
  {"5", "LLaMA-7B prefill 512 tokens, RTX 4090", "llama2-7b", "rtx-4090", GPU_FP16, 1, PREFILL, 1, 512, 0, 46.3},
  {"6", "Llama-2-7B decode, batch 64", "llama2-7b", "a100-80gb-sxm", GPU_FP16, 1, DECODE, 64, 1, 129, 12.0},
  {"7", "Llama-2-7B decode, batch 60, contexts 128-2176", "llama2-7b", "a100-80gb-sxm", GPU_FP16, 1, DECODE, 60,
   128, 2176, 31.1},
  {"8", "Llama-2-7B prefill 2048 tokens", "llama2-7b", "a100-80gb-sxm", GPU_FP16, 1, PREFILL, 1, 2048, 0, 133},
  {"9", "Llama-2-7B prefill 128 tokens", "llama2-7b", "a100-80gb-sxm", GPU_FP16, 1, PREFILL, 1, 128, 0, 16},
  {"10", "Llama-2-70B decode, batch 1, TP4", "llama2-70b", "a100-80gb-sxm", GPU_FP16, 4, DECODE, 1, 1, 129, 29.5},
  {"11", "Llama-2-70B decode, batch 64, TP4", "llama2-70b", "a100-80gb-sxm", GPU_FP16, 4, DECODE, 64, 1, 129, 37},
  {"12", "Llama-2-70B prefill 2048 tokens, TP4", "llama2-70b", "a100-80gb-sxm", GPU_FP16, 4, PREFILL, 1, 2048, 0,
   377},
  {"13", "Llama-2-70B decode, batch 1, TP2", "llama2-70b", "a100-80gb-sxm", GPU_BF16, 2, DECODE, 1, 5, 205, 46.9},
  {"14", "Llama-2-70B decode, batch 1, TP8", "llama2-70b", "a100-80gb-sxm", GPU_BF16, 8, DECODE, 1, 5, 205, 16.0},
  {"15", "Llama-2-7B decode, batch 112, FP8, H100", "llama2-7b", "h100-sxm", GPU_FP8, 1, DECODE, 112, 128, 2176,
   16.4},
  {"16", "Llama-2-7B prefill 2048 tokens, FP8, H100", "llama2-7b", "h100-sxm", GPU_FP8, 1, PREFILL, 1, 2048, 0, 36},
  {"17", "Llama-3-70B decode, batch 1, FP8, 2x H100 TP2", "llama3-70b", "h100-sxm", GPU_FP8, 2, DECODE, 1, 5000,
   5500, 18.6},
  {"18", "Llama-3-70B prefill 5000 tokens, FP8, 2x H100 TP2", "llama3-70b", "h100-sxm", GPU_FP8, 2, PREFILL, 1,
   5000, 0, 407},
};

static double max2(double a, double b) { return a > b ? a : b; }

/* SHAPE: compute time of one GEMM of m rows against an n x k weight shard */
static double gemm_s(const llm_replica *r, double m, double n, double k)
{
  if (m <= 0) return 0;
  return 2 * m * n * k / (gpu_peak_flops(r->gpu, r->compute) * llm_gemm_efficiency(r->gpu, r->compute, m, n, k));
}

/* llm_step (models/llm/step.c) with the shape model; returns total_s */
static double shape_step(const llm_replica *r, const llm_batch *b)
{
  const llm_arch *m = r->model;
  double tp = r->tp, h = (double)m->hidden, q = llm_q_dim(m), kv = llm_kv_dim(m);
  double f = (double)m->ffn, tokens = b->prefill_tokens + b->decode_seqs;
  double layers = (double)m->layers;

  double experts = (double)m->experts, k = (double)m->experts_active;
  double touched = experts <= 1 ? 1 : experts * (1 - pow(1 - k / experts, tokens));
  double expert_p = llm_expert_params(m);
  double mlp_io = m->ffn_kind == LLM_FFN_GATED ? 3 * f : 2 * f;
  double lin_bytes = (llm_attn_params(m) + touched * expert_p) * r->weight_bytes +
                     tokens * k * (2 * h + mlp_io) * LLM_ACT_BYTES +
                     tokens * (2 * h + 2 * q + 2 * kv) * LLM_ACT_BYTES;
  /* SHAPE: per GEMM, the weight split over tp (QKV and up by columns, O and down by rows) */
  double up_n = (m->ffn_kind == LLM_FFN_GATED ? 2 * f : f) / tp;
  double m_exp = experts <= 1 ? tokens : tokens * k / touched; /* tokens per touched expert */
  double lin_c = gemm_s(r, tokens, (q + 2 * kv) / tp, h) + gemm_s(r, tokens, h, q / tp) +
                 touched * (gemm_s(r, m_exp, up_n, h) + gemm_s(r, m_exp, h, f / tp));
  double lin_m = lin_bytes / tp / r->bytes_per_s;

  double kv_write = tokens * 2 * kv * r->kv_bytes;
  double kv_split = tp < (double)m->kv_heads ? tp : (double)m->kv_heads;
  /* SHAPE: prefill attention at the FlashAttention efficiency of its length */
  double peak16 = r->attn_flops_per_s / r->gpu->compute_efficiency;
  double seq = b->prefill_tokens > 0 ? 2 * b->prefill_attended / b->prefill_tokens : 0;
  double att_c = 4 * q * b->decode_context / tp / r->attn_flops_per_s;
  if (b->prefill_tokens > 0)
    att_c += 4 * q * b->prefill_attended / tp / (peak16 * llm_attn_prefill_efficiency(r->gpu, seq, llm_head_dim(m)));
  /* SHAPE: the decode KV read as one paged-decode kernel per layer and GPU */
  double dec_bytes = b->decode_context * 2 * kv * r->kv_bytes / kv_split;
  double att_m = (b->prefill_kv_read * 2 * kv * r->kv_bytes + kv_write) / kv_split / r->attn_bytes_per_s +
                 tokens * 2 * q * LLM_ACT_BYTES / tp / r->attn_bytes_per_s;
  if (dec_bytes > 0) att_m += dec_bytes / (gpu_mem_bw(r->gpu) * llm_attn_decode_efficiency_bytes(r->gpu, dec_bytes));

  double comm = 0;
  if (r->tp > 1 && r->tp_link && tokens > 0)
    comm = 2 * net_allreduce_s(r->tp_link, r->tp, tokens * h * LLM_ACT_BYTES, NET_BEST);

  double logits = b->decode_seqs + b->prefill_done;
  double head_bytes = logits > 0 ? (double)m->vocab * h * r->weight_bytes : 0;
  double head_c = gemm_s(r, logits, (double)m->vocab / tp, h); /* SHAPE */
  double head_m = head_bytes / tp / r->bytes_per_s;

  double pp_comm = 0;
  if (r->pp > 1 && r->pp_link && tokens > 0)
    pp_comm = (r->pp - 1) * net_p2p_s(r->pp_link, tokens * h * LLM_ACT_BYTES);

  double linear_s = layers * max2(lin_c, lin_m);
  double attention_s = tokens > 0 ? layers * max2(att_c, att_m) : 0;
  double head_s = max2(head_c, head_m);
  double overhead_s = tokens > 0 ? r->overhead_s : 0;
  return linear_s + attention_s + head_s + layers * comm + pp_comm + overhead_s;
}

/* mean step (ms) of a case with today's step (shape = false) or shape_step */
static double predict(const sim_catalogs *cats, const vcase *c, int shape)
{
  const llm_arch *m = sim_catalog_find(cats, "models", c->model);
  const gpu_spec *g = sim_catalog_find(cats, "gpus", c->gpu);
  if (!m || !g) return NAN;
  llm_replica r;
  llm_replica_init(&r, m, g, c->dtype, c->tp, 1, c->tp > 1 ? g->scaleup_link : NULL, NULL, OVERHEAD_S);
  llm_step_cost cost;
  if (c->k == PREFILL) {
    llm_batch b = {0};
    for (int i = 0; i < c->batch; i++) llm_batch_add_prefill(&b, 0, c->in, true);
    if (shape) return shape_step(&r, &b) * 1e3;
    llm_step(&r, &b, &cost);
    return cost.total_s * 1e3;
  }
  double sum = 0;
  int n = 0;
  for (double ctx = c->in; ctx <= c->out; ctx += 1, n++) {
    llm_batch b = {0};
    llm_batch_add_decode(&b, c->batch, ctx);
    if (shape) sum += shape_step(&r, &b);
    else {
      llm_step(&r, &b, &cost);
      sum += cost.total_s;
    }
  }
  return sum / n * 1e3;
}

int main(void)
{
  cfg_errors errs;
  cfg_errors_init(&errs, NULL);
  sim_catalogs *cats = cfg_catalogs_load_all(NULL, 0, &errs);
  cfg_errors_print(&errs, stderr);
  cfg_errors_release(&errs);
  if (!cats) return 1;
  printf("| # | case | GPU | published (ms) | today (ms) | error | shape model (ms) | error |\n"
         "|---|---|---|---|---|---|---|---|\n");
  int w20[2] = {0, 0};
  double sum[2] = {0, 0};
  size_t n = sizeof cases / sizeof cases[0];
  for (size_t i = 0; i < n; i++) {
    const vcase *c = &cases[i];
    double p0 = predict(cats, c, 0), p1 = predict(cats, c, 1);
    double e0 = p0 / c->published_ms - 1, e1 = p1 / c->published_ms - 1;
    printf("| %s | %s | %s | %.3g | %.3g | %+.0f%% | %.3g | %+.0f%% |\n", c->id, c->what, c->gpu, c->published_ms,
           p0, 100 * e0, p1, 100 * e1);
    w20[0] += fabs(e0) <= 0.20;
    w20[1] += fabs(e1) <= 0.20;
    sum[0] += fabs(e0);
    sum[1] += fabs(e1);
  }
  printf("\ntoday: %d of %zu within 20%%, mean absolute error %.1f%%\n", w20[0], n, 100 * sum[0] / (double)n);
  printf("shape model: %d of %zu within 20%%, mean absolute error %.1f%%\n", w20[1], n, 100 * sum[1] / (double)n);
  cfg_catalogs_free(cats);
  return 0;
}
