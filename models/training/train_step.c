/* models/training/train_step.c: one training iteration. Per micro-batch
 * and pipeline stage: GEMM and attention FLOPs over the GPU's peak times
 * TRAIN_GEMM_EFFICIENCY, element-wise traffic (norms, activations,
 * dropout, residuals; the s x s softmax and dropout of unfused attention)
 * over its memory bandwidth, and the tensor-parallel collectives of every
 * layer on the node link. The pipeline schedule is then simulated op by op
 * (train_schedule.c) with the p2p sends between stages on the link each
 * boundary crosses; data-parallel gradient traffic follows, hidden under
 * backward as far as the job's overlap allows (FSDP layer by layer, with
 * its prefetch); then the optimizer step (on the CPU when offloaded, with
 * its host-link transfers; offloaded activations make each op of a chunk
 * last its transfer when that is longer). Last, what explains the time:
 * the communication left on the critical path and how long each link
 * (node, network) carries its busiest GPU's traffic. Constants are counted where the
 * kernels allow it and otherwise fitted on published runs, each saying on
 * which (models/VALIDATION.md). */
#include <math.h>

#include "models/training/train.h"
#include "models/training/train_gemm.h"
#include "models/training/train_launch.h"
#include "models/training/train_stack.h"
#include "sim/util.h"

/* Fraction of dense peak that training GEMMs reach, per GPU generation
 * (models/VALIDATION.md, "Training runs against published measurements").
 * A100: 0.70, the catalog's measured prefill GEMM efficiency (Vidur), not
 * refitted. Hopper: 0.54, fitted on MosaicML's bf16 H100 rows (the four of
 * the calibration file and the MPT-1B/3B sequence sweep of the same
 * README, 2023 stack: PyTorch 1.13, FSDP), below the catalog's 0.76 for
 * inference prefill GEMMs. */
#define TRAIN_GEMM_EFFICIENCY_A100 0.70
#define TRAIN_GEMM_EFFICIENCY_H100 0.54
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
/* FP8 (Transformer Engine): every GEMM input is cast to FP8 with its
 * transpose for the other product, reading 2 B and writing 1 + 1 B per
 * value (fused cast-transpose with the amax): 4 B per value of the inputs
 * of the 4 GEMMs of a layer forward, and of their output gradients
 * backward. Counted, not fitted. */
#define TRAIN_FP8_CAST_BYTES 4.0
/* FP8 GEMMs reach this fraction of the bf16 GEMMs' efficiency against
 * their (twice as high) peak: fitted on the four MPT-1B/3B FP8 rows of the
 * llm-foundry README that the calibration file does not hold (s = 512 and
 * 8,192), the calibration file's FP8 row held out (tests/unit/
 * test_train_validation.c). 0.75 until 2026-12-04; 0.82 since the output
 * head of an FP8 run is kept in bf16 (head_time), refitted on the same four
 * rows (median |error| 2.2%; 0.815 ties, 0.82 has the smaller largest
 * error), as declared first in models/VALIDATION.md. */
#define TRAIN_FP8_GEMM_RELATIVE 0.82
/* Adam step, bytes per parameter it updates: reads fp32 master weight,
 * momentum, variance (12) and the 16-bit gradient (2), writes the first
 * three (12) and the 16-bit weight (2), plus the gradient-norm pass (2). */
#define TRAIN_ADAM_BYTES 30.0
/* Bytes of an activation or activation-gradient value sent between GPUs
 * (parameters: TRAIN_WEIGHT_BYTES, train.h). */
#define TRAIN_ACT_BYTES 2.0
/* ZeRO-Offload moves the shard's gradients to the host in 16 bits (Ren et
 * al. 2021, sec. 4). */
#define TRAIN_OFFLOAD_GRAD_BYTES 2.0

/* Fused attention (FlashAttention) efficiency against the dense peak,
 * forward and backward: far below the GEMMs' (FlashAttention-1 and the
 * Triton kernel reach 25-40% of A100 peak, Dao 2023, FlashAttention-2,
 * sec. 1 and 4.1). Fitted on the sequence-length sweeps of the llm-foundry
 * README (MPT-1B and 3B, s = 512 to 16,384, where attention grows from 2%
 * to 40% of the FLOPs; Triton kernel of 2023): A100 0.30 (those rows -1% to
 * +3%), H100 0.18 (no Hopper instructions in that kernel; 0% to +5%).
 * Without them the 8,192-16,384 rows came out 30-86% fast. Unfused
 * attention (Megatron-LM 2021) runs its products as GEMMs. */
#define TRAIN_ATTN_EFFICIENCY_A100 0.30
#define TRAIN_ATTN_EFFICIENCY_H100 0.18
/* FlashAttention's backward recomputes the scores: 5 matrix products
 * against the forward's 2 (Dao 2023, FlashAttention-2, sec. 4.1) */
#define TRAIN_FLASH_BACKWARD 2.5

/* The efficiencies of the GPU's catalog train_generation (never inferred
 * from its peaks): a stack's profile for it, else the constants above
 * fitted for it (hopper and, unmeasured, blackwell: H100's; ampere: A100's; fallback, V100 and T4,
 * unmeasured: A100's), or, generation none (TPUs, Gaudi: no GPU stack),
 * the entry's own train_gemm_efficiency / train_attn_efficiency. */
/* Blackwell has no built-in numbers of its own (NOT MEASURED without a
 * stack): the H100's, as Hopper's successor. */
static bool hopper_constants(const gpu_spec *g)
{
  return g->train_generation == GPU_TRAIN_HOPPER || g->train_generation == GPU_TRAIN_BLACKWELL;
}

static double attn_efficiency(const train_job *j, const gpu_spec *g)
{
  if (j->stack) return train_stack_gen_for(j->stack, g)->attn_efficiency;
  if (g->train_generation == GPU_TRAIN_NONE) return g->train_attn_efficiency;
  return hopper_constants(g) ? TRAIN_ATTN_EFFICIENCY_H100 : TRAIN_ATTN_EFFICIENCY_A100;
}

static double gemm_efficiency(const train_job *j, const gpu_spec *g)
{
  if (j->stack) return train_stack_gen_for(j->stack, g)->gemm_efficiency;
  if (g->train_generation == GPU_TRAIN_NONE) return g->train_gemm_efficiency;
  return hopper_constants(g) ? TRAIN_GEMM_EFFICIENCY_H100 : TRAIN_GEMM_EFFICIENCY_A100;
}

/* Time of one micro-batch through one layer on one GPU, split into parts:
 * backward is twice the forward, except fused attention (2.5 times). */
typedef struct {
  double fwd, bwd, recompute;   /* compute */
  double wgrad;                 /* of bwd, the weight-gradient GEMMs (the zero-bubble schedule's W) */
  double tp_fwd, tp_bwd, tp_recompute;  /* collectives */
  train_par_cost par;           /* context and expert parallelism (train_cp_ep.c) */
  double par_fwd, par_bwd, par_recompute;  /* their exposed parts */
  double cp_exposed, ep_exposed, cp_traffic, ep_traffic;  /* per layer: forward, backward, recomputation */
} layer_cost;

static double peak(const train_job *j, gpu_precision p)
{
  return gpu_peak_flops(j->gpu, gpu_compute_precision(j->gpu, p));
}

static void layer_time(const train_job *j, layer_cost *c)
{
  const llm_arch *m = j->model;
  double t = j->tp, s = j->seq_len, tokens = (double)j->micro_batch * s / j->cp, h = (double)m->hidden;
  double eff = gemm_efficiency(j, j->gpu);
  double fp8_rel = j->stack ? train_stack_gen_for(j->stack, j->gpu)->fp8_relative : TRAIN_FP8_GEMM_RELATIVE;
  /* fp8 runs the linear layers in fp8 (Transformer Engine); attention and
   * the rest stay in bf16 */
  double gemm_peak = peak(j, j->dtype) * eff * (j->dtype == GPU_FP8 ? fp8_rel : 1);
  double attn_peak = peak(j, j->dtype == GPU_FP8 ? GPU_BF16 : j->dtype) * (j->flash_attention ? attn_efficiency(j, j->gpu) : eff);
  double bw = gpu_mem_bw(j->gpu) * j->gpu->memory_efficiency;

  /* the busiest expert-parallel rank's share of the routed experts beyond the mean */
  train_layer_matrices mx;
  train_layer_matrices_of(m, &mx);
  double routed_extra = (train_expert_stretch(j) - 1) * mx.routed;
  /* at the layer's GEMM shapes, which reach less of the peak than large
   * ones when small (train_gemm.c): forward, and backward's two products */
  train_gemm_scale sh;
  train_gemm_layer_scale(j, tokens, &sh);
  double gemm_large = 2 * tokens * (train_layer_matrix_params(m) + routed_extra) / t / gemm_peak;
  double gemm = gemm_large * sh.fwd, gemm_b = 2 * gemm_large * sh.bwd;
  /* fused causal kernels skip the masked half of the scores; a cp rank's
   * s / cp queries attend to the whole sequence (causal work balanced) */
  double attn = 4 * tokens * s * llm_attn_width(m) / t * (j->flash_attention ? 0.5 : 1) / attn_peak;
  double split = j->seq_parallel ? 1 / t : (10 + 24 / t) / 34;
  double elem = TRAIN_ELEMENTWISE_BYTES * tokens * h * split / bw;
  double scores = j->flash_attention ? 0 : TRAIN_UNFUSED_SCORE_BYTES * tokens * s * (double)m->heads / t / bw;
  double cast_f = 0, cast_b = 0;
  if (j->dtype == GPU_FP8) {
    double ffn = (double)m->ffn * (m->ffn_kind == LLM_FFN_GATED ? 2 : 1), q = llm_q_dim(m), kv = llm_kv_dim(m);
    /* inputs: qkv (h), output projection (q), MLP up (h), MLP down (ffn);
     * output gradients: qkv (q + 2 kv), projection (h), up (ffn), down (h) */
    cast_f = TRAIN_FP8_CAST_BYTES * tokens * (2 * h + q + (double)m->ffn) / t / bw;
    cast_b = TRAIN_FP8_CAST_BYTES * tokens * (q + 2 * kv + 2 * h + ffn) / t / bw;
  }

  /* the stack's kernel launches (launch_us, never hidden) and what the
   * host's dispatch of the layer takes beyond its GPU work (train_launch.c) */
  c->fwd = gemm + attn + elem + scores + cast_f;
  c->wgrad = gemm_b / 2;
  c->bwd = gemm_b + 2 * (elem + scores) + (j->flash_attention ? TRAIN_FLASH_BACKWARD : 2) * attn + cast_b;
  double launch_f, launch_b;
  train_launch_layer(j, c->fwd, c->bwd, &launch_f, &launch_b);
  c->fwd += launch_f;
  c->bwd += launch_b;
  train_par_layer(j, attn, (j->flash_attention ? TRAIN_FLASH_BACKWARD : 2) * attn, c->fwd + c->bwd, &c->par);
  c->par_fwd = c->par.cp_fwd_exposed + c->par.ep_fwd_exposed;
  c->par_bwd = c->par.cp_bwd_exposed + c->par.ep_bwd_exposed;
  /* full recomputation repeats the forward of its layers (N of a chunk's
   * Lc: the share N / Lc per layer on average) */
  double full = (double)train_recomputed_layers(j) / train_chunk_layers(j);
  c->recompute = j->recompute == LLM_RECOMPUTE_FULL ? full * c->fwd
               : j->recompute == LLM_RECOMPUTE_SELECTIVE ? attn + scores : 0;

  /* Megatron tensor parallelism: 2 all-reduces of the layer's activations
   * forward (after attention and after the MLP), 2 backward; with sequence
   * parallelism each becomes an all-gather and a reduce-scatter */
  double bytes = tokens * h * TRAIN_ACT_BYTES, coll = 0;
  if (j->tp > 1) {
    coll = j->seq_parallel ? net_allgather_s(j->node_link, j->tp, bytes) + net_reduce_scatter_s(j->node_link, j->tp, bytes)
                           : net_allreduce_s(j->node_link, j->tp, bytes, NET_RING);
  }
  /* a stack that overlaps them with the GEMMs (userbuffers) leaves exposed
   * what its overlap share does not hide, at most the GEMMs' time */
  double ov = j->stack ? j->stack->tp_overlap * 2 * coll : 0;
  c->tp_fwd = 2 * coll - fmin(ov, gemm);
  c->tp_bwd = 2 * coll - fmin(ov, gemm_b);
  c->tp_recompute = j->recompute == LLM_RECOMPUTE_FULL ? full * 2 * coll : 0;
  /* recomputing a layer's forward (its attention with selective) passes the ring and the all-to-all again */
  double again_cp = j->recompute == LLM_RECOMPUTE_FULL ? full : j->recompute == LLM_RECOMPUTE_SELECTIVE ? 1 : 0;
  double again_ep = j->recompute == LLM_RECOMPUTE_FULL ? full : 0;
  c->par_recompute = again_cp * c->par.cp_fwd_exposed + again_ep * c->par.ep_fwd_exposed;
  c->cp_exposed = (1 + again_cp) * c->par.cp_fwd_exposed + c->par.cp_bwd_exposed;
  c->ep_exposed = (1 + again_ep) * c->par.ep_fwd_exposed + c->par.ep_bwd_exposed;
  c->cp_traffic = (1 + again_cp) * c->par.cp_fwd + c->par.cp_bwd;
  c->ep_traffic = (1 + again_ep) * c->par.ep_fwd + c->par.ep_bwd;
}

/* Forward and backward compute of the output head for one micro-batch (on
 * the last stage; the input embedding is a lookup). The head of an FP8 run
 * stays in bf16: Megatron-Core's output_layer and MPT's tied logits are not
 * Transformer Engine modules, which fp8_autocast alone casts. */
static double head_time(const train_job *j, double *fwd, double *wgrad)
{
  double tokens = (double)j->micro_batch * j->seq_len / j->cp;
  gpu_precision p = j->dtype == GPU_FP8 ? GPU_BF16 : j->dtype;
  double f = 2 * tokens * (double)j->model->vocab * (double)j->model->hidden / j->tp /
             (peak(j, p) * gemm_efficiency(j, j->gpu));
  train_gemm_scale sh;
  train_gemm_head_scale(j, tokens, &sh);
  /* and the loss over the vocabulary (train_launch.c) */
  double loss_f, loss_b;
  train_loss_s(j, &loss_f, &loss_b);
  *fwd = f * sh.fwd + loss_f;
  *wgrad = f * sh.bwd;
  return f * sh.fwd + 2 * f * sh.bwd + loss_f + loss_b;
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
 * Megatron's scatter/gather: each of the tp ranks sends 1/tp of it over l,
 * then an all-gather inside the node rebuilds it (sequence parallelism
 * keeps it split: no all-gather). The parts: *on_l over l, *gather on the
 * node link; returns their sum. */
static double p2p_time(const train_job *j, const net_link *l, double *on_l, double *gather)
{
  double bytes = (double)j->micro_batch * j->seq_len / j->cp * (double)j->model->hidden * TRAIN_ACT_BYTES;
  *on_l = net_p2p_s(l, bytes / j->tp);
  *gather = j->tp > 1 && !j->seq_parallel ? net_allgather_s(j->node_link, j->tp, bytes) : 0;
  return *on_l + *gather;
}

static double clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

/* The link the data-parallel collectives of `span` GPUs (members `stride`
 * apart in the layout) run on: the node link inside a node; across nodes,
 * the node's network ports, shared by all the groups of the node (they
 * sync at once): a group with k GPUs in each node gets nics x k /
 * gpus_per_node ports (net_link_spread), and a group whose members are a
 * node or more apart (k = 1) its member's share. */
static net_link group_link(const train_job *j, int span, int stride)
{
  if (span <= j->gpus_per_node || !j->net_link) return *j->node_link;
  double k = fmin((double)j->gpus_per_node / stride, (double)span / stride);
  if (k < 1) k = 1;  /* members more than a node apart: one in each node it spans, on its own port */
  int nics = j->nics_per_node > 0 ? j->nics_per_node : j->gpus_per_node;
  return net_link_spread(j->node_link, j->net_link, nics * k / j->gpus_per_node);
}

net_link train_group_link(const train_job *j, int span, int stride) { return group_link(j, span, stride); }

static int gcd_int(int a, int b)
{
  while (b) {
    int t = a % b;
    a = b;
    b = t;
  }
  return a;
}

double train_group_alltoall_s(const train_job *j, int span, int stride, int n, double bytes)
{
  if (n <= 1) return 0;
  if (span <= j->gpus_per_node && j->gpus_per_node % span == 0) return net_alltoall_s(j->node_link, n, bytes);
  if (!j->net_link) return net_alltoall_s(j->node_link, n, bytes);
  /* groups laid out contiguously: the fewest members a node holds is
   * gcd(span, gpus_per_node) / stride, and that member sends the most off
   * its node. Their share on the node link and the rest of each GPU's
   * buffer out through the GPU's own ports, both at once */
  int k = gcd_int(span, j->gpus_per_node) / (stride > 0 ? stride : 1);
  if (k < 1) k = 1;
  if (k > n) k = n;
  double intra = k > 1 ? net_alltoall_s(j->node_link, k, bytes * k / n) : 0;
  int nics = j->nics_per_node > 0 ? j->nics_per_node : j->gpus_per_node;
  net_link own = net_link_spread(j->node_link, j->net_link, (double)nics / j->gpus_per_node);
  /* wire (n - 1)/n of the buffer given: (n - k)/n of `bytes` */
  double inter = k < n ? net_alltoall_s(&own, n, bytes * (n - k) / (n - 1)) : 0;
  return fmax(intra, inter);
}

/* What of `comm` stays exposed when it may run under `window` of compute,
 * with the job's overlap fraction. */
static double exposed(const train_job *j, double comm, double window)
{
  return comm - fmin(j->dp_overlap * comm, window);
}

/* FSDP / ZeRO-3 without pipeline stages (with them: train_fsdp_pipelined,
 * as ZeRO 1 in train_step), one micro-batch on a stage of L layers (PyTorch FSDP with
 * one unit per layer, the rest of the parameters - embeddings, head - in
 * the root unit). Forward: the root's and the first layer's all-gathers
 * are exposed, each next layer's is prefetched under the current layer's
 * forward. Backward with prefetch "pre" (PyTorch's BACKWARD_PRE default):
 * the next layer's all-gather and the previous layer's reduce-scatter
 * share one NCCL stream under the current layer's backward; the first
 * gather and the last reduce-scatters are exposed. With "post"
 * (BACKWARD_POST, Composer's default): the next layer's gather starts after
 * the current layer's backward and the compute stream waits for it, so
 * every backward gather is exposed and only reduce-scatters overlap.
 * With a shard group (HSDP) each reduce-scatter is followed by the
 * shard's all-reduce across the replicas. With expert parallelism
 * (torchtitan's FSDP2 + EP) a layer's routed experts (`experts` of the
 * stage's `params`, per GPU) are gathered and reduce-scattered over their
 * own ranks, dp x cp / ep of them ep x tp apart (a shard group's S / ep,
 * then all-reduced across its replicas), after its dense part,
 * on the same stream. */
static void fsdp_micro_batch(const train_job *j, const net_link *l, const net_link *lr, double L, double f_layer,
                             double b_layer, double params, double experts, double *comm, double *exposed_s,
                             double *replicas_s)
{
  /* a layer's parameters on this GPU (train_layer_params_gpu: without
   * the routed experts when ep shards them apart, which come from the
   * stage's own count); the rest (embeddings, head) in the root unit.
   * HSDP (a shard group of S of the dp ranks, R replicas of it): the
   * gathers and reduce-scatters over the S ranks of l, then each shard's
   * gradients all-reduced over the R replicas on lr, on the same stream;
   * the routed experts over the group's S / ep ranks that hold them */
  int S = train_shard_ranks(j), R = train_grad_ranks(j) / S;
  double gb = train_grad_bytes(j);
  double layer = train_layer_params_gpu(j, NULL), layer_e = 0, ag_e = 0, rs_e = 0, ar_e = 0;
  if (j->ep > 1 && experts > 0) {
    int de = train_expert_shard_ranks(j);
    net_link le = train_group_link(j, j->tp * S, j->tp * j->ep);
    layer_e = experts / L;
    ag_e = net_allgather_s(&le, de, layer_e * TRAIN_WEIGHT_BYTES);
    ar_e = R > 1 ? net_allreduce_s(lr, R, layer_e * gb / de, NET_RING) : 0;
    rs_e = net_reduce_scatter_s(&le, de, layer_e * gb) + ar_e;
  }
  double rest = fmax(0, params - experts - L * layer);
  double ar = R > 1 ? net_allreduce_s(lr, R, layer * gb / S, NET_RING) : 0;
  double ar_r = R > 1 ? net_allreduce_s(lr, R, rest * gb / S, NET_RING) : 0;
  double ag = net_allgather_s(l, S, layer * TRAIN_WEIGHT_BYTES) + ag_e;
  double rs = net_reduce_scatter_s(l, S, layer * gb) + ar + rs_e;
  double ag_r = net_allgather_s(l, S, rest * TRAIN_WEIGHT_BYTES);
  double rs_r = net_reduce_scatter_s(l, S, rest * gb) + ar_r;
  *comm = L * (2 * ag + rs) + 2 * ag_r + rs_r;
  *replicas_s = L * (ar + ar_e) + ar_r;
  double fwd = ag_r + ag + (L - 1) * exposed(j, ag, f_layer);
  double bwd = j->fsdp_prefetch == TRAIN_PREFETCH_POST ? L * ag + (L - 1) * exposed(j, rs, b_layer) + rs
                                                       : ag + (L - 1) * exposed(j, ag + rs, b_layer) + rs;
  *exposed_s = fwd + bwd + ag_r + rs_r;
}

void train_step(const train_job *j, train_step_result *o)
{
  *o = (train_step_result){0};
  int p = j->pp, v = j->interleave, m = train_micro_batches(j), gpus = train_job_gpus(j);
  double lc = (double)j->model->layers / (p * v);  /* layers per chunk */
  layer_cost c;
  layer_time(j, &c);
  double head_fwd, head_w, head = head_time(j, &head_fwd, &head_w);

  /* per chunk of each stage; the last stage also runs the head (its share
   * on each of its v chunks) */
  double f[p], b[p], p2p[p], nop2p[p], p2p_l[p], p2p_gather[p];
  bool p2p_net[p];  /* boundary s (stage s to the next) on the network link */
  /* uneven stages (train_uneven): stage s runs ls[s] layers in each of
   * its v chunks (Megatron-Core splits a stage's layers alike), rw[s] the
   * weight of the per-layer recomputation (which is averaged over the
   * largest stage's layers: full x fwd with full = N / its layers); the
   * busiest stage `sb` (the most compute, ties to the last) is the one the
   * breakdown describes. Even stages: lc each, the last stage. With
   * uneven_chunks a stage's chunks differ by a layer: ls[s] and rw[s] are
   * then their means (what v chunks sum to, over v), f[] and b[] below too,
   * and the schedule runs each chunk's own times (fv, bv). */
  bool uneven_st = train_uneven(j), uneven = uneven_st || j->uneven_chunks;
  double ls[p], rw[p];
  double full = (double)train_recomputed_layers(j) / train_chunk_layers(j);
  int sb = p - 1;
  for (int s = 0; s < p; s++) {
    ls[s] = rw[s] = lc;
    if (uneven) {
      ls[s] = (double)train_stage_layers(j, s) / v;  /* of each of its v chunks, on average */
      int rec = 0;
      for (int k = 0; k < v; k++) rec += train_chunk_recomputed(j, s, k);
      rw[s] = j->recompute == LLM_RECOMPUTE_FULL ? (double)rec / v / full : ls[s];
    }
  }
  if (uneven) {
    double most = -1;
    for (int s = p - 1; s >= 0; s--) {
      double w = ls[s] * (c.fwd + c.bwd + c.tp_fwd + c.tp_bwd + c.par_fwd + c.par_bwd) +
                 rw[s] * (c.recompute + c.tp_recompute + c.par_recompute) + (s == p - 1 ? head / v : 0);
      if (w > most) most = w, sb = s;
    }
  }
  double chunk_comp = lc * (c.fwd + c.bwd + c.recompute);
  double chunk_tp = lc * (c.tp_fwd + c.tp_bwd + c.tp_recompute);
  double chunk_par = lc * (c.par_fwd + c.par_bwd + c.par_recompute);
  double head_b = sb == p - 1 ? head : 0;  /* the head's part of the busiest stage */
  if (uneven) {
    chunk_comp = ls[sb] * (c.fwd + c.bwd) + rw[sb] * c.recompute;
    chunk_tp = ls[sb] * (c.tp_fwd + c.tp_bwd) + rw[sb] * c.tp_recompute;
    chunk_par = ls[sb] * (c.par_fwd + c.par_bwd) + rw[sb] * c.par_recompute;
  }
  for (int s = 0; s < p; s++) {
    f[s] = lc * (c.fwd + c.tp_fwd + c.par_fwd);
    b[s] = lc * (c.bwd + c.recompute + c.tp_bwd + c.tp_recompute + c.par_bwd + c.par_recompute);
    if (uneven) {
      f[s] = ls[s] * (c.fwd + c.tp_fwd + c.par_fwd);
      b[s] = ls[s] * (c.bwd + c.tp_bwd + c.par_bwd) + rw[s] * (c.recompute + c.tp_recompute + c.par_recompute);
    }
    if (s == p - 1) {
      f[s] += head_fwd / v;
      b[s] += (head - head_fwd) / v;
    }
    int next = (s + 1) % p, D = j->dp * j->tp * j->cp;
    bool apart = next == 0 ? gpus > j->gpus_per_node : crosses(s, next, D, j->gpus_per_node);
    const net_link *l = apart && j->net_link ? j->net_link : j->node_link;
    p2p_l[s] = p2p_gather[s] = 0;
    p2p[s] = p > 1 && l ? p2p_time(j, l, &p2p_l[s], &p2p_gather[s]) : 0;
    p2p_net[s] = l && l == j->net_link;
    nop2p[s] = 0;
    if (p > 1) o->pp_link = o->pp_link && o->pp_link->scope == NET_SCOPE_NETWORK ? o->pp_link : l;
  }
  /* each chunk's own times (virtual stage k * p + s): its layers, its
   * recomputed layers; equal to f[s], b[s] unless uneven_chunks */
  double fv[p * v], bv[p * v], wv[p * v];
  for (int s = 0; s < p; s++)
    for (int k = 0; k < v; k++) {
      fv[k * p + s] = f[s];
      bv[k * p + s] = b[s];
      wv[k * p + s] = (uneven ? ls[s] : lc) * c.wgrad + (s == p - 1 ? head_w / v : 0);
      if (!j->uneven_chunks) continue;
      double lk = train_chunk_size(j, s, k);
      double rk = j->recompute == LLM_RECOMPUTE_FULL ? train_chunk_recomputed(j, s, k) / full : lk;
      fv[k * p + s] = lk * (c.fwd + c.tp_fwd + c.par_fwd) + (s == p - 1 ? head_fwd / v : 0);
      bv[k * p + s] = lk * (c.bwd + c.tp_bwd + c.par_bwd) + rk * (c.recompute + c.tp_recompute + c.par_recompute) +
                      (s == p - 1 ? (head - head_fwd) / v : 0);
      wv[k * p + s] = lk * c.wgrad + (s == p - 1 ? head_w / v : 0);
    }
  /* activation offload: a chunk's activations leave over the host link
   * during its forward and come back during its backward, each op taking
   * the longer of the two; what exceeds the compute is exposed (counted on
   * the last stage, the one `busiest` describes) */
  bool zb = j->schedule == TRAIN_SCHEDULE_ZB_H1 && p > 1;
  if (j->offload & TRAIN_OFFLOAD_ACTIVATIONS) {
    /* a chunk moves its own layers' activations (its recomputed ones as
     * full recomputation keeps them, the others at the job's level) */
    int lvl = j->recompute == LLM_RECOMPUTE_FULL ? LLM_RECOMPUTE_NONE : j->recompute;
    double full_b = train_layer_activation_bytes(j, LLM_RECOMPUTE_FULL), lvl_b = train_layer_activation_bytes(j, lvl);
    for (int s = 0; s < p; s++) {
      double fs = 0, bs = 0;
      for (int k = 0; k < v; k++) {
        int size = train_chunk_size(j, s, k), rec = train_chunk_recomputed(j, s, k);
        double act = net_p2p_s(j->gpu->host_link, rec * full_b + (size - rec) * lvl_b);
        /* with ZB-H1 the data must be back before B ends: W follows it */
        double ef = fmax(0, act - fv[k * p + s]), eb = fmax(0, act - (bv[k * p + s] - (zb ? wv[k * p + s] : 0)));
        if (s == sb) o->offload_exposed_s += m * (ef + eb), o->offload_transfer_s += 2 * m * act;
        fv[k * p + s] += ef;
        bv[k * p + s] += eb;
        fs += fv[k * p + s];
        bs += bv[k * p + s];
      }
      f[s] = fs / v;  /* the mean of its chunks, as above */
      b[s] = bs / v;
    }
  }
  /* ZB-H1: the weight-gradient GEMMs wait for no one */
  double pipe0 = zb ? train_pipeline_time_zb(p, m, v, fv, bv, wv, nop2p) : train_pipeline_time(p, m, v, fv, bv, nop2p);
  double pipe = p == 1 ? pipe0
              : zb     ? train_pipeline_time_zb(p, m, v, fv, bv, wv, p2p)
                       : train_pipeline_time(p, m, v, fv, bv, p2p);
  if (j->dualpipe) pipe = pipe0 = train_dualpipe_time(p, m, f, b);
  /* ZB-H1's greedy order can come out a hair shorter with the sends than
   * without (a W placed differently): sends never save time */
  if (pipe < pipe0) pipe = pipe0;
  double busiest = m * v * (chunk_comp + chunk_tp + chunk_par) + m * head_b + o->offload_exposed_s;
  o->micro_batches = m;
  o->compute_s = m * v * chunk_comp + m * head_b;
  o->tp_comm_s = m * v * chunk_tp;
  o->cp_exposed_s = m * v * ls[sb] * c.cp_exposed;
  o->ep_exposed_s = m * v * ls[sb] * c.ep_exposed;
  o->cp_comm_s = m * v * ls[sb] * c.cp_traffic;
  o->ep_comm_s = m * v * ls[sb] * c.ep_traffic;
  o->bubble_s = pipe0 - busiest > 1e-9 * pipe0 ? pipe0 - busiest : 0;  /* not rounding noise */
  o->bubble_fraction = pipe0 > 0 ? o->bubble_s / pipe0 : 0;
  o->pp_comm_s = (pipe - pipe0) * (j->stack ? 1 - j->stack->pp_overlap : 1);

  /* data parallelism: the gradients of this GPU's parameters, over the dp
   * (x cp) ranks (tp apart: the group spans dp x cp x tp GPUs); the routed
   * experts of ep > 1 over their own replicas (train_expert_grad_s) */
  train_memory_need(j, &o->mem);
  /* the gradients (and the optimizer step) of the stage with the most
   * parameters: with uneven stages not always the stage memory reports */
  train_memory big = o->mem;
  int sg = p - 1;
  if (uneven_st) {
    train_memory_stage(j, 0, &big);
    sg = 0;
    for (int s = 1; s < p; s++) {
      train_memory x;
      train_memory_stage(j, s, &x);
      if (x.params > big.params) big = x, sg = s;
    }
  }
  int dpc = train_grad_ranks(j), S = train_shard_ranks(j), R = dpc / S;
  double dp_net_share = 1;  /* of dp_comm_s, the part on the network link when the group crosses nodes */
  if (dpc > 1) {
    /* the shard group's collectives on its own link (a node's NVLink when
     * it fits in one), the replicas' all-reduce across the groups: members
     * S x tp apart (R = 1 without a shard group: the whole group) */
    net_link l = group_link(j, S * j->tp, j->tp), lr = group_link(j, dpc * j->tp, S * j->tp);
    o->dp_link = dpc * j->tp <= j->gpus_per_node || !j->net_link ? j->node_link : j->net_link;
    double dense = big.params - big.expert_params, bytes = dense * train_grad_bytes(j);
    double back = v * (b[sg]);  /* the last micro-batch's backward on a stage */
    if (train_shards_weights(j)) {
      double comm, exp, replicas;
      /* each layer's window: its compute and tensor-parallel collectives
       * (not the ring's exposed time with cp: it may hold the same port) */
      fsdp_micro_batch(j, &l, &lr, (uneven ? ls[sg] : lc) * v, c.fwd + c.tp_fwd,
                       c.bwd + c.recompute + c.tp_bwd + c.tp_recompute, big.params, big.expert_params, &comm, &exp,
                       &replicas);
      o->dp_comm_s = m * comm;
      o->dp_exposed_s = m * exp;
      /* HSDP inside a node: only the replicas' all-reduces leave it */
      if (R > 1 && S * j->tp <= j->gpus_per_node) dp_net_share = comm > 0 ? replicas / comm : 0;
    } else {
      /* once per iteration, during the last micro-batch's backward; with a
       * shard group, the reduce-scatter and gather inside it and the
       * shard's all-reduce across the replicas */
      double ar_r = R > 1 ? net_allreduce_s(&lr, R, bytes / S, NET_RING) : 0;
      double per = j->zero == 0 ? net_allreduce_s(&l, dpc, bytes, NET_RING)
                                : net_reduce_scatter_s(&l, S, bytes) + ar_r +
                                      net_allgather_s(&l, S, dense * TRAIN_WEIGHT_BYTES);
      double ar_e, ag_e;
      per += train_expert_grad_s(j, &big, train_grad_bytes(j), &ar_e, &ag_e);
      if (R > 1 && S * j->tp <= j->gpus_per_node) dp_net_share = per > 0 ? (ar_r + ar_e) / per : 0;
      o->dp_comm_s = per;
      o->dp_exposed_s = exposed(j, per, back);
      if (j->zero >= 1) {
        /* the updated parameters' all-gather (the dense part's and the
         * routed experts') follows the optimizer step, so it cannot hide
         * under this iteration's backward: exposed, unless the stack
         * gathers them under the next iteration's first forward
         * (Megatron-Core --overlap-param-gather) */
        double ag = net_allgather_s(&l, S, dense * TRAIN_WEIGHT_BYTES) + ag_e;
        double hidden = j->stack ? fmin(j->stack->param_overlap * ag, v * f[0]) : 0;
        double reduce = exposed(j, per - ag, back);
        if (train_fsdp_pipelined(j)) {
          /* FSDP under PyTorch's pipelining: the root unit (embedding or
           * head) and the first layer gathered, exposed, at the first
           * micro-batch's forward, each next layer under the current
           * one's; the gradients reduce-scattered after the last backward
           * (every backward runs without gradient sync), exposed */
          double head_p, root = train_stage_root_params(j, sg, &head_p);
          double ag_root = fmin(ag, net_allgather_s(&l, S, root * TRAIN_WEIGHT_BYTES));
          double layers = fmax(1, (uneven ? ls[sg] : lc) * v);
          hidden = fmin((ag - ag_root) * (1 - 1 / layers), v * f[sg]);
          reduce = per - ag;
        }
        o->dp_exposed_s = reduce + ag - hidden;
      }
    }
  }
  double updated = train_updated_params(j, &big);
  if (j->offload & TRAIN_OFFLOAD_OPTIMIZER) {
    /* ZeRO-Offload: the shard's 16-bit gradients go down during the last
     * backward (exposed past it), the CPU steps the shard with the node's
     * cores shared by its GPUs, the 16-bit weights come back tile by tile
     * under the CPU step */
    const net_link *host = j->gpu->host_link;
    double down = net_p2p_s(host, updated * TRAIN_OFFLOAD_GRAD_BYTES), up = net_p2p_s(host, updated * TRAIN_WEIGHT_BYTES);
    int sharing = gpus < j->gpus_per_node ? gpus : j->gpus_per_node;
    o->cpu_optimizer_s = updated / (TRAIN_CPU_ADAM_PARAMS_PER_S_NODE / sharing);
    o->optimizer_s = down - fmin(down, v * b[sg]) + fmax(o->cpu_optimizer_s, up);
    o->offload_transfer_s += down + up;
  } else {
    o->optimizer_s = updated * TRAIN_ADAM_BYTES / (gpu_mem_bw(j->gpu) * j->gpu->memory_efficiency);
  }

  o->iteration_s = (j->stack ? pipe0 + o->pp_comm_s : pipe) + o->dp_exposed_s + o->optimizer_s;
  o->exposed_comm_s = o->tp_comm_s + o->pp_comm_s + o->dp_exposed_s + o->cp_exposed_s + o->ep_exposed_s;

  /* what each link carries per iteration, for its busiest GPU: the
   * tensor-parallel collectives, the gradient traffic on the link of its
   * group (hidden or not), and the pipeline sends of a stage (forward to
   * the next virtual stage, backward to the previous; each send's slices
   * on the boundary's link, its all-gather on the node link) */
  double pp_node = 0, pp_net = 0;
  for (int s = 0; s < p && p > 1; s++) {
    double fwd_sends = m * (s < p - 1 ? v : v - 1), bwd_sends = m * (s > 0 ? v : v - 1);
    int prev = (s - 1 + p) % p;
    double on[2] = {0, 0};  /* node link, network link */
    on[p2p_net[s]] += fwd_sends * p2p_l[s];
    on[p2p_net[prev]] += bwd_sends * p2p_l[prev];
    double node = on[0] + fwd_sends * p2p_gather[s] + bwd_sends * p2p_gather[prev], net = on[1];
    pp_node = fmax(pp_node, node);
    pp_net = fmax(pp_net, net);
  }
  bool dp_on_net = dpc > 1 && o->dp_link == j->net_link && dpc * j->tp > j->gpus_per_node;
  /* the dense gradients' share on the network (all of it unless a shard
   * group inside a node keeps its collectives there; the experts' own
   * reduction stays with the rest) */
  double dp_net = dp_on_net ? dp_net_share * o->dp_comm_s : 0;
  o->link_node_busy_s = o->tp_comm_s + pp_node + (o->dp_comm_s - dp_net);
  o->link_net_busy_s = pp_net + dp_net;
  o->link_node_busy_s += (c.par.cp_net ? 0 : o->cp_comm_s) + (c.par.ep_net ? 0 : o->ep_comm_s);
  o->link_net_busy_s += (c.par.cp_net ? o->cp_comm_s : 0) + (c.par.ep_net ? o->ep_comm_s : 0);
  o->link_node_busy_fraction = clamp01(o->link_node_busy_s / o->iteration_s);
  o->link_net_busy_fraction = clamp01(o->link_net_busy_s / o->iteration_s);
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
