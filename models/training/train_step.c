/* models/training/train_step.c: one training iteration. Per micro-batch
 * and pipeline stage: GEMM and attention FLOPs over the GPU's peak times
 * TRAIN_GEMM_EFFICIENCY, element-wise traffic (norms, activations,
 * dropout, residuals; the s x s softmax and dropout of unfused attention)
 * over its memory bandwidth, and the tensor-parallel collectives of every
 * layer on the node link. The pipeline schedule is then simulated op by op
 * (train_schedule.c) with the p2p sends between stages on the link each
 * boundary crosses; data-parallel gradient traffic follows, hidden under
 * backward as far as the job's overlap allows; then the optimizer step.
 * The constants below were fitted on the rows of
 * shared/reference/training_calibration.csv (models/VALIDATION.md). */
#include <math.h>

#include "models/training/train.h"
#include "sim/util.h"

/* Fraction of dense peak that training GEMMs and attention reach, per
 * GPU generation (models/VALIDATION.md, "Training runs against published
 * measurements"). A100: 0.70, the catalog's measured prefill GEMM
 * efficiency (Vidur), not refitted: it puts the 17 A100 rows (Megatron-LM
 * 2021, MosaicML) at -12% to +16%. Hopper: 0.50, fitted as the minimax
 * over MosaicML's four bf16 H100 rows (MPT-7B/13B/30B/70B, 2023 stack:
 * Triton FlashAttention without Hopper instructions, FSDP); at the
 * catalog's 0.76 those rows come out 20-60% fast. */
#define TRAIN_GEMM_EFFICIENCY_A100 0.70
#define TRAIN_GEMM_EFFICIENCY_H100 0.50
/* Element-wise bytes moved per token, per layer, per unit of hidden size,
 * in the forward pass (backward moves twice as much): 2 layer norms (read
 * and write 2 B each: 8), bias + GeLU on the 4h MLP activations (read and
 * write: 16), two bias-dropout-add (read 4, write 2 + a 1 B mask: 14);
 * 38, counted from Megatron-LM's fused kernels, not fitted. Regions outside
 * the tensor-parallel blocks (10 of Korthikanti's 34 activation bytes) are
 * replicated on every tp rank unless sequence parallelism splits them. */
#define TRAIN_ELEMENTWISE_BYTES 38.0
/* Unfused attention, bytes per attention score (heads x s per token) in the
 * forward pass: QK^T writes 2, scale-mask-softmax reads 2 and writes 2,
 * dropout reads 2 and writes 2 plus a 1 B mask, the product with V reads 2:
 * 13, counted, not fitted. Fused attention (FlashAttention) keeps scores
 * on chip: 0. */
#define TRAIN_UNFUSED_SCORE_BYTES 13.0
/* Adam step, bytes per parameter it updates: reads fp32 master weight,
 * momentum, variance (12) and the 16-bit gradient (2), writes the first
 * three (12) and the 16-bit weight (2), plus the gradient-norm pass (2). */
#define TRAIN_ADAM_BYTES 30.0
/* Bytes of an activation or gradient value sent between GPUs. */
#define TRAIN_ACT_BYTES 2.0
#define TRAIN_GRAD_BYTES 2.0

static double gemm_efficiency(const gpu_spec *g)
{
  /* Hopper-class GPUs (FP8 units) vs the rest */
  return g->peak_tflops[GPU_FP8] > 0 ? TRAIN_GEMM_EFFICIENCY_H100 : TRAIN_GEMM_EFFICIENCY_A100;
}

/* Time of one micro-batch through one layer on one GPU, split into parts. */
typedef struct {
  double fwd, bwd, recompute;   /* compute */
  double tp_fwd, tp_bwd, tp_recompute;  /* collectives */
} layer_cost;

static double peak(const train_job *j, gpu_precision p)
{
  return gpu_peak_flops(j->gpu, gpu_compute_precision(j->gpu, p));
}

static void layer_time(const train_job *j, layer_cost *c)
{
  const llm_arch *m = j->model;
  double t = j->tp, s = j->seq_len, tokens = (double)j->micro_batch * s, h = (double)m->hidden;
  double eff = gemm_efficiency(j->gpu);
  /* fp8 runs the linear layers in fp8 (Transformer Engine); attention and
   * the rest stay in bf16 */
  double gemm_peak = peak(j, j->dtype) * eff;
  double attn_peak = peak(j, j->dtype == GPU_FP8 ? GPU_BF16 : j->dtype) * eff;
  double bw = gpu_mem_bw(j->gpu) * j->gpu->memory_efficiency;

  double gemm = 2 * tokens * train_layer_matrix_params(m) / t / gemm_peak;
  /* fused causal kernels skip the masked half of the scores */
  double attn = 4 * tokens * s * llm_q_dim(m) / t * (j->flash_attention ? 0.5 : 1) / attn_peak;
  double split = j->seq_parallel ? 1 / t : (10 + 24 / t) / 34;
  double elem = TRAIN_ELEMENTWISE_BYTES * tokens * h * split / bw;
  double scores = j->flash_attention ? 0 : TRAIN_UNFUSED_SCORE_BYTES * tokens * s * (double)m->heads / t / bw;

  c->fwd = gemm + attn + elem + scores;
  c->bwd = 2 * c->fwd;
  c->recompute = j->recompute == LLM_RECOMPUTE_FULL ? c->fwd
               : j->recompute == LLM_RECOMPUTE_SELECTIVE ? attn + scores : 0;

  /* Megatron tensor parallelism: 2 all-reduces of the layer's activations
   * forward (after attention and after the MLP), 2 backward; with sequence
   * parallelism each becomes an all-gather and a reduce-scatter */
  double bytes = tokens * h * TRAIN_ACT_BYTES, coll = 0;
  if (j->tp > 1) {
    coll = j->seq_parallel ? net_allgather_s(j->node_link, j->tp, bytes) + net_reduce_scatter_s(j->node_link, j->tp, bytes)
                           : net_allreduce_s(j->node_link, j->tp, bytes, NET_RING);
  }
  c->tp_fwd = 2 * coll;
  c->tp_bwd = 2 * coll;
  c->tp_recompute = j->recompute == LLM_RECOMPUTE_FULL ? 2 * coll : 0;
}

/* Forward and backward compute of the output head for one micro-batch (on
 * the last stage; the input embedding is a lookup). */
static double head_time(const train_job *j, double *fwd)
{
  double tokens = (double)j->micro_batch * j->seq_len;
  double f = 2 * tokens * (double)j->model->vocab * (double)j->model->hidden / j->tp /
             (peak(j, j->dtype) * gemm_efficiency(j->gpu));
  *fwd = f;
  return 3 * f;
}

/* Whether pipeline stages a and b (adjacent) sit on different nodes, with
 * D = dp x tp GPUs per stage laid out stage after stage. */
static bool crosses(int a, int b, int D, int g)
{
  if (D >= g) return true;
  int lo = a < b ? a : b, hi = a < b ? b : a;
  return (lo * D) / g != (hi * D + D - 1) / g;
}

/* One p2p send of a micro-batch's activations across a stage boundary.
 * Megatron's scatter/gather: each of the tp ranks sends 1/tp of it, then
 * an all-gather inside the node rebuilds it (sequence parallelism keeps it
 * split: no all-gather). */
static double p2p_time(const train_job *j, const net_link *l)
{
  double bytes = (double)j->micro_batch * j->seq_len * (double)j->model->hidden * TRAIN_ACT_BYTES;
  if (j->tp == 1) return net_p2p_s(l, bytes);
  double t = net_p2p_s(l, bytes / j->tp);
  if (!j->seq_parallel) t += net_allgather_s(j->node_link, j->tp, bytes);
  return t;
}

static const net_link *group_link(const train_job *j, int span)
{
  return span <= j->gpus_per_node || !j->net_link ? j->node_link : j->net_link;
}

void train_step(const train_job *j, train_step_result *o)
{
  *o = (train_step_result){0};
  int p = j->pp, v = j->interleave, m = train_micro_batches(j), gpus = train_job_gpus(j);
  double lc = (double)j->model->layers / (p * v);  /* layers per chunk */
  layer_cost c;
  layer_time(j, &c);
  double head_fwd, head = head_time(j, &head_fwd);

  /* per chunk of each stage; the last stage also runs the head (its share
   * on each of its v chunks) */
  double f[p], b[p], p2p[p], nop2p[p];
  double chunk_comp = lc * (c.fwd + c.bwd + c.recompute);
  double chunk_tp = lc * (c.tp_fwd + c.tp_bwd + c.tp_recompute);
  for (int s = 0; s < p; s++) {
    f[s] = lc * (c.fwd + c.tp_fwd);
    b[s] = lc * (c.bwd + c.recompute + c.tp_bwd + c.tp_recompute);
    if (s == p - 1) {
      f[s] += head_fwd / v;
      b[s] += (head - head_fwd) / v;
    }
    int next = (s + 1) % p, D = j->dp * j->tp;
    const net_link *l = next == 0 ? group_link(j, gpus) : crosses(s, next, D, j->gpus_per_node) ? j->net_link : j->node_link;
    if (!l) l = j->node_link;
    p2p[s] = p > 1 && l ? p2p_time(j, l) : 0;
    nop2p[s] = 0;
    if (p > 1) o->pp_link = o->pp_link && o->pp_link->scope == NET_SCOPE_NETWORK ? o->pp_link : l;
  }
  double pipe0 = train_pipeline_time(p, m, v, f, b, nop2p);
  double pipe = p > 1 ? train_pipeline_time(p, m, v, f, b, p2p) : pipe0;
  double busiest = m * v * (chunk_comp + chunk_tp) + m * head;
  o->micro_batches = m;
  o->compute_s = m * v * chunk_comp + m * head;
  o->tp_comm_s = m * v * chunk_tp;
  o->bubble_s = pipe0 - busiest > 1e-9 * pipe0 ? pipe0 - busiest : 0;  /* not rounding noise */
  o->bubble_fraction = pipe0 > 0 ? o->bubble_s / pipe0 : 0;
  o->pp_comm_s = pipe - pipe0;

  /* data parallelism: the gradients of this GPU's parameters, over the dp
   * ranks (tp apart: the group spans dp x tp GPUs) */
  train_memory_need(j, &o->mem);
  if (j->dp > 1) {
    const net_link *l = group_link(j, j->dp * j->tp);
    o->dp_link = l;
    double bytes = o->mem.params * TRAIN_GRAD_BYTES;
    double back = v * (b[p - 1]);  /* the last micro-batch's backward on a stage */
    if (j->zero >= 3) {
      /* FSDP / ZeRO-3: every micro-batch gathers the weights forward and
       * again backward, and reduce-scatters its gradients, under that
       * micro-batch's compute */
      double per = 2 * net_allgather_s(l, j->dp, bytes) + net_reduce_scatter_s(l, j->dp, bytes);
      double window = v * (f[p - 1] + b[p - 1]);
      double hidden = fmin(j->dp_overlap * per, window);
      o->dp_comm_s = m * per;
      o->dp_exposed_s = m * (per - hidden);
    } else {
      /* once per iteration, during the last micro-batch's backward */
      double per = j->zero == 0 ? net_allreduce_s(l, j->dp, bytes, NET_RING)
                                : net_reduce_scatter_s(l, j->dp, bytes) + net_allgather_s(l, j->dp, bytes);
      o->dp_comm_s = per;
      o->dp_exposed_s = per - fmin(j->dp_overlap * per, back);
    }
  }
  double updated = o->mem.params / (j->zero >= 1 ? j->dp : 1);
  o->optimizer_s = updated * TRAIN_ADAM_BYTES / (gpu_mem_bw(j->gpu) * j->gpu->memory_efficiency);

  o->iteration_s = pipe + o->dp_exposed_s + o->optimizer_s;
  o->tokens = (double)j->global_batch * j->seq_len;
  o->tokens_per_s = o->tokens / o->iteration_s;
  o->tokens_per_s_per_gpu = o->tokens_per_s / gpus;
  o->model_flops = train_model_flops(j);
  o->hardware_flops = train_hardware_flops(j);
  double all_peak = peak(j, j->dtype) * gpus * o->iteration_s;
  o->mfu = o->model_flops / all_peak;
  o->hfu = o->hardware_flops / all_peak;
  SIM_ASSERT(o->iteration_s > 0 && isfinite(o->iteration_s));
}
