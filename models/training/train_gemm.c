/* models/training/train_gemm.c: GEMM efficiency by shape in training. The
 * training GEMM efficiency (one number per GPU generation, built in or per
 * stack) was fitted on runs whose GEMMs are large; a small model's GEMMs
 * (hidden 1,024, a few thousand tokens) reach less of the peak, as the
 * serving core's kernel model says (models/llm/kernels.c, fitted on
 * measured cuBLAS GEMMs, models/validation/kernels/). Here each of a
 * layer's GEMMs, forward and backward, takes its kernel-model efficiency
 * RELATIVE to the kernel model's efficiency at the shape the catalogs'
 * efficiency was measured on (TRAIN_GEMM_REF_*), so the training
 * efficiency keeps its meaning at large shapes and falls below it as the
 * kernel model falls. No fitted constant of its own. */
#include "models/training/train_gemm.h"

#include "models/llm/kernels.h"
#include "models/training/train_stack.h"

double train_gemm_shape_ratio(const gpu_spec *g, gpu_precision p, double m, double n, double k)
{
  double big = llm_gemm_efficiency(g, p, TRAIN_GEMM_REF_M, TRAIN_GEMM_REF_N, TRAIN_GEMM_REF_K);
  double e = llm_gemm_efficiency(g, p, m, n, k);
  if (!(big > 0) || !(e > 0)) return 1;
  return e / big;
}

/* adds one GEMM's FLOPs (scaled by `weight`) and their time at the shape
 * ratio to the forward and backward sums */
typedef struct {
  double flops, fwd, bwd;
} sums;

static void add_gemm(sums *s, const gpu_spec *g, gpu_precision p, double m, double n, double k, double weight)
{
  if (!(m > 0 && n > 0 && k > 0 && weight > 0)) return;
  train_gemm_scale one;
  train_gemm_scale_of(g, p, m, n, k, &one);
  double f = weight * 2 * m * n * k;
  s->flops += f;
  s->fwd += f * one.fwd;
  s->bwd += f * one.bwd;
}

static void finish(const sums *s, train_gemm_scale *out)
{
  out->fwd = s->flops > 0 ? s->fwd / s->flops : 1;
  out->bwd = s->flops > 0 ? s->bwd / s->flops : 1;
}

void train_gemm_scale_of(const gpu_spec *g, gpu_precision p, double m, double n, double k, train_gemm_scale *out)
{
  out->fwd = 1 / train_gemm_shape_ratio(g, p, m, n, k);
  /* backward: the input gradient dX[m,k] = dY[m,n] W^T and the weight
   * gradient dW[k,n] = X^T[k,m] dY[m,n], each as many FLOPs as forward */
  out->bwd = 0.5 / train_gemm_shape_ratio(g, p, m, k, n) + 0.5 / train_gemm_shape_ratio(g, p, k, n, m);
}

static gpu_precision gemm_precision(const train_job *j)
{
  return gpu_compute_precision(j->gpu, j->dtype);
}

void train_gemm_layer_scale(const train_job *j, double tokens, train_gemm_scale *out)
{
  if (j->stack && !j->stack->gemm_by_shape) {
    out->fwd = out->bwd = 1;
    return;
  }
  const llm_arch *m = j->model;
  const gpu_spec *g = j->gpu;
  gpu_precision p = gemm_precision(j);
  double t = j->tp, h = (double)m->hidden, q = llm_q_dim(m), gate = m->ffn_kind == LLM_FFN_GATED ? 2 : 1;
  train_layer_matrices mx;
  train_layer_matrices_of(m, &mx);
  sums s = {0, 0, 0};
  /* attention: the output projection q -> h, and the rest of its matrices
   * (QKV, or MLA's projections) as one h -> mx.attn / h - q GEMM */
  double qkv = mx.attn / h - q;
  add_gemm(&s, g, p, tokens, qkv / t, h, 1);
  add_gemm(&s, g, p, tokens, h, q / t, 1);
  /* dense MLP (or shared experts, or the dense layers' share) of width
   * mx.mlp / ((gate + 1) h): up (gated: gate and up) and down */
  double f = mx.mlp / ((gate + 1) * h);
  add_gemm(&s, g, p, tokens, gate * f / t, h, 1);
  add_gemm(&s, g, p, tokens, h, f / t, 1);
  /* routed experts: experts_active of them per token; with expert
   * parallelism a rank's experts receive the tokens of its whole ep group
   * (Megatron-Core's all-to-all token dispatcher), so each expert's GEMM
   * sees tokens x experts_active x ep / experts tokens on average */
  if (mx.routed > 0 && m->experts > 0 && m->experts_active > 0) {
    double fe = llm_expert_ffn(m), a = (double)m->experts_active;
    double me = tokens * a * (j->ep > 1 ? (double)j->ep : 1) / (double)m->experts;
    /* FLOPs of all routed experts a token uses = a x (one expert); the
     * weight spreads mx.routed over the per-expert GEMMs */
    double per_token_one = (gate + 1) * h * fe;
    double w = mx.routed / per_token_one * tokens / me;  /* experts' GEMMs of this shape per layer */
    add_gemm(&s, g, p, me, gate * fe / t, h, w);
    add_gemm(&s, g, p, me, h, fe / t, w);
  }
  finish(&s, out);
}

void train_gemm_head_scale(const train_job *j, double tokens, train_gemm_scale *out)
{
  if (j->stack && !j->stack->gemm_by_shape) {
    out->fwd = out->bwd = 1;
    return;
  }
  /* in bf16 in an FP8 run, as train_step.c's head_time */
  gpu_precision p = j->dtype == GPU_FP8 ? gpu_compute_precision(j->gpu, GPU_BF16) : gemm_precision(j);
  train_gemm_scale_of(j->gpu, p, tokens, (double)j->model->vocab / j->tp, (double)j->model->hidden, out);
}
