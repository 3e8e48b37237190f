/* models/training/train_cp_ep.c: context parallelism (ring attention over
 * cp ranks, or DeepSpeed-Ulysses' all-to-all of the heads) and expert parallelism (routed experts sharded over ep ranks,
 * all-to-all dispatch and combine) in a training job, as Megatron-Core
 * lays them out (train.h): their well-formedness, the communication of a
 * layer and how much of it compute hides, the gradient reduction of the
 * routed experts over their own data-parallel group, the memory they
 * change (parameters by ep, ZeRO shards over the shard group), and DeepSeek-V3's
 * DualPipe schedule. Pure functions: train_step.c and train_memory.c call
 * them; the model's side of MoE (widths, parameters, imbalance) is in
 * train_moe.c. */
#include <math.h>
#include <stdio.h>

#include "models/training/train.h"

/* Bytes of a K, V (or dK, dV) value and of a token's hidden value sent by
 * ring attention and the all-to-all: 16-bit. */
#define TRAIN_CP_BYTES 2.0
#define TRAIN_EP_BYTES 2.0

/* K and V heads attention sees on one tensor-parallel rank: MLA
 * up-projects one K and V per query head; with fewer kv heads than tp,
 * each rank holds one (replicated). */
static double kv_heads_per_rank(const llm_arch *m, int tp)
{
  if (llm_is_mla(m)) return (double)m->heads / tp;
  double kvh = (double)(m->kv_heads > 0 ? m->kv_heads : m->heads) / tp;
  return kvh < 1 ? 1 : kvh;
}

const char *train_cpep_check(const train_job *j, char *msg, size_t n)
{
  const llm_arch *m = j->model;
  if (j->cp < 1 || j->ep < 1)
    return snprintf(msg, n, "cp and ep must be >= 1 (cp %d, ep %d)", j->cp, j->ep), j->cp < 1 ? "cp" : "ep";
  if (j->cp > 1 && !j->flash_attention)
    return snprintf(msg, n, "context parallelism (cp %d) runs ring attention in fused attention kernels "
                    "(Transformer Engine): it needs flash_attention", j->cp), "cp";
  if (j->cp_comm != TRAIN_CP_P2P && j->cp_comm != TRAIN_CP_A2A)
    return snprintf(msg, n, "context-parallel communication %d is not p2p or a2a", j->cp_comm), "cp_comm_type";
  if (j->cp > 1 && j->cp_comm == TRAIN_CP_A2A) {
    /* Transformer Engine's all-to-all attention asserts both head counts
     * divide by cp (Megatron-Core hands it the kv heads unexpanded) */
    double q = (double)m->heads / j->tp, kv = kv_heads_per_rank(m, j->tp);
    if (m->heads % j->tp || fmod(q, j->cp) != 0 || fmod(kv, j->cp) != 0)
      return snprintf(msg, n, "the all-to-all context parallelism (a2a) gives each of cp %d ranks whole heads: %s's "
                      "%lld heads over tp %d leave %g query and %g key/value heads per tensor-parallel rank; both "
                      "must be multiples of cp, as Transformer Engine requires", j->cp, m->name,
                      (long long)m->heads, j->tp, q, kv), "cp_comm_type";
  }
  if (j->cp > 1 && j->seq_len % (2 * j->cp) != 0)
    return snprintf(msg, n, "sequence length %d does not split into 2 x cp = %d equal chunks (the causal "
                    "load-balanced split of Megatron-Core)", j->seq_len, 2 * j->cp), "cp";
  /* FSDP shards the dense part over the dp x cp ranks (a shard group's S)
   * and the routed experts over their dp x cp / ep (S / ep), as torchtitan
   * does; with DualPipe (two copies of the stages) it is not modelled */
  if (j->dualpipe && j->zero >= 3)
    return snprintf(msg, n, "ZeRO 3 (FSDP) with DualPipe is not modelled (expected zero 0..2: DeepSeek-V3 ran "
                    "ZeRO 1)"), "zero";
  if (j->ep > 1 && m->experts <= 1)
    return snprintf(msg, n, "expert parallelism (ep %d) needs a model with routed experts, and %s has none", j->ep,
                    m->name), "ep";
  if (j->ep > 1 && (j->dp * j->cp) % j->ep != 0)
    return snprintf(msg, n, "ep %d does not divide dp x cp = %d x %d = %d (the experts are sharded over the "
                    "data-parallel x context-parallel ranks)", j->ep, j->dp, j->cp, j->dp * j->cp), "ep";
  if (j->ep > 1 && m->experts % j->ep != 0)
    return snprintf(msg, n, "ep %d does not divide %s's %lld experts", j->ep, m->name, (long long)m->experts), "ep";
  if (j->expert_imbalance < 1)
    return snprintf(msg, n, "expert imbalance %g is below 1 (max / mean tokens of an expert)", j->expert_imbalance),
           "expert_imbalance";
  if (!(j->moe_capacity >= 0) || j->moe_capacity > 1e3)
    return snprintf(msg, n, "expert capacity factor %g is not in 0..1000 (0: dropless)", j->moe_capacity),
           "moe_capacity_factor";
  if (j->moe_pad && !(j->moe_capacity > 0))
    return snprintf(msg, n, "padding to capacity needs a capacity factor (moe_capacity_factor > 0), as "
                    "Megatron-Core's --moe-pad-expert-input-to-capacity"), "moe_pad_to_capacity";
  if (j->schedule != TRAIN_SCHEDULE_1F1B && j->schedule != TRAIN_SCHEDULE_ZB_H1)
    return snprintf(msg, n, "pipeline schedule %d is not 1f1b or zb-h1", j->schedule), "pipeline_schedule";
  int dpc = j->dp * j->cp;
  if (j->dp_shard < 0 || (j->dp_shard > 0 && dpc % j->dp_shard != 0))
    return snprintf(msg, n, "a shard group of %d ranks does not divide dp x cp = %d x %d = %d (0: shard over all of "
                    "them)", j->dp_shard, j->dp, j->cp, dpc), "dp_shard";
  if (j->dp_shard > 0 && j->dp_shard < dpc && j->zero < 1)
    return snprintf(msg, n, "a shard group of %d ranks needs a sharded state (ZeRO 1 or more); ZeRO is 0",
                    j->dp_shard), "dp_shard";
  int sg = j->dp_shard * j->tp, gpn = j->gpus_per_node;
  if (j->dp_shard > 0 && j->dp_shard < dpc && gpn > 0 && (sg < gpn ? gpn % sg : sg % gpn) != 0)
    return snprintf(msg, n, "a shard group of %d ranks x tp %d = %d GPUs neither divides a node of %d GPUs nor "
                    "fills whole nodes (its groups would straddle nodes)", j->dp_shard, j->tp, sg, gpn), "dp_shard";
  if (j->dp_shard > 0 && j->dp_shard < dpc && j->ep > 1 && j->dp_shard % j->ep != 0)
    return snprintf(msg, n, "ep %d does not divide the shard group of %d ranks (each group holds every expert, "
                    "sharded over its ranks that hold the same ones, as torchtitan's FSDP + EP mesh)", j->ep,
                    j->dp_shard), "dp_shard";
  if (j->dualpipe && j->schedule != TRAIN_SCHEDULE_1F1B)
    return snprintf(msg, n, "DualPipe is its own schedule (it splits the backward already); pipeline_schedule %s "
                    "cannot be used with it", train_schedule_names[j->schedule]), "pipeline_schedule";
  if (j->dualpipe) {
    int mb = train_micro_batches(j);
    if (j->pp < 2 || j->pp % 2 || j->interleave != 1)
      return snprintf(msg, n, "DualPipe needs an even number of pipeline stages and no interleaving (pp %d, "
                      "interleave %d)", j->pp, j->interleave), "dualpipe";
    if (mb % 2 || mb < j->pp)
      return snprintf(msg, n, "DualPipe needs an even number of micro-batches, at least pp (%d micro-batches, pp %d)",
                      mb, j->pp), "dualpipe";
  }
  return NULL;
}

int train_grad_ranks(const train_job *j) { return j->dp * j->cp; }

int train_shard_ranks(const train_job *j) { return j->dp_shard > 0 ? j->dp_shard : j->dp * j->cp; }

bool train_fsdp_pipelined(const train_job *j) { return j->zero >= 3 && j->pp > 1; }

bool train_shards_weights(const train_job *j) { return j->zero >= 3 && !train_fsdp_pipelined(j); }

bool train_shards_grads(const train_job *j) { return j->zero >= 2 && !train_fsdp_pipelined(j); }

int train_expert_shard_ranks(const train_job *j) { return train_shard_ranks(j) / (j->ep > 1 ? j->ep : 1); }

double train_layer_params_gpu(const train_job *j, double *routed)
{
  const llm_arch *m = j->model;
  double x = j->ep > 1 ? train_routed_params(m) : 0, L = (double)m->layers;
  if (routed) *routed = x / L / ((double)j->tp * j->ep);
  return (llm_params(m) - llm_embed_params(m) - x) / L / j->tp;
}

/* K and V widths per token on one tensor-parallel rank: the kv heads
 * split over tp (replicated when fewer than tp); MLA up-projects per head
 * before attention (heads x qk width + heads x v width, split by tp). */
static double kv_width(const llm_arch *m, int tp)
{
  if (llm_is_mla(m)) return (double)m->heads * (llm_qk_head_dim(m) + llm_v_head_dim(m)) / tp;
  double kv_heads = (double)(m->kv_heads > 0 ? m->kv_heads : m->heads);
  return 2 * llm_kv_dim(m) / (kv_heads < tp ? kv_heads : tp);
}

/* Values per token one tensor-parallel rank passes through the Ulysses
 * all-to-alls of a layer's forward: Q (its heads x qk width), K and V
 * (its kv heads x qk and v widths) and the output (heads x v width). */
static double a2a_width(const llm_arch *m, int tp)
{
  double heads = (double)m->heads / tp;
  return heads * llm_qk_head_dim(m) + kv_heads_per_rank(m, tp) * (llm_qk_head_dim(m) + llm_v_head_dim(m)) +
         heads * llm_v_head_dim(m);
}

/* One node-limited dispatch (or combine) of t tokens per GPU: over the
 * GPU's own network ports, each token once to each of `dest` destination
 * nodes but its own (dest x (nodes - 1) / nodes copies), at the same time
 * as NVLink spreads its top-k copies over the node's GPUs; the longer. */
static double node_limited_a2a_s(const train_job *j, double t, double dest, double nodes, double bytes_per_value)
{
  const llm_arch *m = j->model;
  double h = (double)m->hidden * bytes_per_value;
  int nics = j->nics_per_node > 0 ? j->nics_per_node : j->gpus_per_node;
  net_link own = net_link_spread(j->node_link, j->net_link, (double)nics / j->gpus_per_node);
  double inter = net_alltoall_s(&own, (int)lround(nodes), t * dest * h);
  int members = j->gpus_per_node / j->tp;  /* the node's ep ranks */
  double intra = members > 1 ? net_alltoall_s(j->node_link, members, t * (double)m->experts_active * h) : 0;
  return fmax(inter, intra);
}

void train_par_layer(const train_job *j, double attn_fwd_s, double attn_bwd_s, double layer_s, train_par_cost *o)
{
  *o = (train_par_cost){0};
  const llm_arch *m = j->model;
  double tokens = (double)j->micro_batch * j->seq_len / j->cp;
  if (j->cp > 1) {
    /* the group's ranks are tp apart: inside a node while the cp group
     * is, else across the network */
    o->cp_net = j->tp * j->cp > j->gpus_per_node && j->net_link;
    o->cp_link = o->cp_net ? j->net_link : j->node_link;
  }
  if (j->cp > 1 && j->cp_comm == TRAIN_CP_A2A) {
    /* DeepSpeed-Ulysses. Forward: Q, K, V to head shards, the output back;
     * backward: dO, then dQ, dK, dV: the same bytes; nothing runs under them */
    double bytes = tokens * a2a_width(m, j->tp) * TRAIN_CP_BYTES;
    o->cp_fwd = o->cp_fwd_exposed = train_group_alltoall_s(j, j->tp * j->cp, j->tp, j->cp, bytes);
    o->cp_bwd = o->cp_bwd_exposed = o->cp_fwd;
  } else if (j->cp > 1) {
    /* the ring: each GPU passes its K and V to its neighbour, a boundary
     * hop over its own port */
    double bytes = tokens * kv_width(m, j->tp) * TRAIN_CP_BYTES, steps = j->cp - 1;
    double step_f = net_p2p_s(o->cp_link, bytes), step_b = net_p2p_s(o->cp_link, 2 * bytes);
    o->cp_fwd = steps * step_f;
    o->cp_bwd = steps * step_b;
    o->cp_fwd_exposed = steps * fmax(0, step_f - attn_fwd_s / j->cp);
    o->cp_bwd_exposed = steps * fmax(0, step_b - attn_bwd_s / j->cp);
  }
  double share = train_moe_layer_share(m);
  if (j->ep > 1 && share > 0) {
    int span = j->tp * j->ep;
    o->ep_net = span > j->gpus_per_node && j->net_link;
    o->ep_link = o->ep_net ? j->net_link : j->node_link;
    double t = tokens / j->tp * train_expert_dispatch_scale(j);
    double nodes = o->ep_net ? (double)span / j->gpus_per_node : 1;
    if (o->ep_net && m->topk_group > 0 && m->topk_group < m->n_group && nodes >= 2 &&
        span % j->gpus_per_node == 0) {
      /* group-limited routing across whole nodes, dispatched as DeepSeek's
       * kernels (DeepEP) do: a token crosses the network once per
       * destination node, in FP8 for an FP8 job (combine in 16 bits), then
       * NVLink forwards it to its experts in that node. Its experts lie in
       * topk_group groups, each spanning nodes / n_group nodes (at least
       * one): at most that many nodes (topk_group >= n_group, as Hugging
       * Face writes "no limit", is no limit) */
      double dest = fmin(fmin((double)m->experts_active, nodes),
                         (double)m->topk_group * fmax(1, nodes / (double)m->n_group));
      double d_bytes = j->dtype == GPU_FP8 ? 1 : TRAIN_EP_BYTES;
      o->ep_fwd = share * (node_limited_a2a_s(j, t, dest, nodes, d_bytes) +
                           node_limited_a2a_s(j, t, dest, nodes, TRAIN_EP_BYTES));
      o->ep_bwd = share * 4 * node_limited_a2a_s(j, t, dest, nodes, TRAIN_EP_BYTES);
    } else {
      double bytes = t * (double)m->experts_active * (double)m->hidden * TRAIN_EP_BYTES;
      double a2a = train_group_alltoall_s(j, span, j->tp, j->ep, bytes);
      o->ep_fwd = share * 2 * a2a;  /* dispatch and combine */
      o->ep_bwd = 2 * o->ep_fwd;    /* their gradients */
    }
    double hidden = j->dualpipe ? fmin(o->ep_fwd + o->ep_bwd, layer_s) : 0;
    double keep = o->ep_fwd + o->ep_bwd > 0 ? 1 - hidden / (o->ep_fwd + o->ep_bwd) : 0;
    o->ep_fwd_exposed = keep * o->ep_fwd;
    o->ep_bwd_exposed = keep * o->ep_bwd;
  }
}

static void cpep_memory(const train_job *j, double x, double dense, train_memory *o)
{
  double copies = j->dualpipe ? 2 : 1;
  double d = train_shard_ranks(j), de = train_expert_shard_ranks(j);
  o->params = copies * (dense + x);
  o->expert_params = copies * x;
  bool w = train_shards_weights(j), g = train_shards_grads(j);
  o->weights = copies * 2 * (dense / (w ? d : 1) + x / (w ? de : 1));
  o->grads = copies * train_grad_bytes(j) * (dense / (g ? d : 1) + x / (g ? de : 1));
  o->optimizer = copies * 12 * (dense / (j->zero >= 1 ? d : 1) + x / (j->zero >= 1 ? de : 1));
}

void train_cpep_memory(const train_job *j, train_memory *o)
{
  double x = j->ep > 1 ? train_routed_params(j->model) / ((double)j->tp * j->pp * j->ep) : 0;
  double dense = llm_params(j->model) / ((double)j->tp * j->pp) - (j->ep > 1 ? x * j->ep : 0);
  cpep_memory(j, x, dense, o);
}

void train_cpep_stage_memory(const train_job *j, int s, train_memory *o)
{
  /* the routed experts of the stage's layers (their share of all
   * layers); a DualPipe rank holds stage s and stage pp - 1 - s (the
   * mirror): their mean, counted twice by cpep_memory */
  int mirror = j->dualpipe ? j->pp - 1 - s : s;
  double x = 0, dense = 0;
  for (int k = 0; k < 2; k++) {
    int st = k ? mirror : s;
    double share = (double)train_stage_layers(j, st) / (double)j->model->layers;
    double xs = j->ep > 1 ? train_routed_params(j->model) * share / ((double)j->tp * j->ep) : 0;
    x += xs / 2;
    dense += (train_stage_params(j, st) - (j->ep > 1 ? xs * j->ep : 0)) / 2;
  }
  cpep_memory(j, x, dense, o);
}

double train_updated_params(const train_job *j, const train_memory *mem)
{
  double dense = mem->params - mem->expert_params;
  if (j->zero < 1) return dense + mem->expert_params;
  return dense / train_shard_ranks(j) + mem->expert_params / train_expert_shard_ranks(j);
}

double train_expert_grad_s(const train_job *j, const train_memory *mem, double grad_bytes, double *across,
                           double *gather)
{
  *across = *gather = 0;
  int ranks = train_expert_shard_ranks(j), S = train_shard_ranks(j), R = train_grad_ranks(j) / S;
  if (mem->expert_params <= 0 || ranks * R <= 1) return 0;
  /* an expert's ranks are ep x tp apart, over the tp x dp x cp GPUs of a
   * stage (of a shard group: the replicas' all-reduce then crosses the
   * groups, members S x tp apart) */
  net_link l = train_group_link(j, j->tp * S, j->tp * j->ep);
  double bytes = mem->expert_params * grad_bytes;
  if (j->zero == 0) return net_allreduce_s(&l, ranks, bytes, NET_RING);
  /* ZeRO >= 1: the gradients reduce-scattered, the updated 16-bit
   * parameters all-gathered; with a shard group, each shard all-reduced
   * across the replicas in between */
  net_link lr = train_group_link(j, j->tp * train_grad_ranks(j), j->tp * S);
  *across = R > 1 ? net_allreduce_s(&lr, R, bytes / ranks, NET_RING) : 0;
  *gather = net_allgather_s(&l, ranks, mem->expert_params * TRAIN_WEIGHT_BYTES);
  return net_reduce_scatter_s(&l, ranks, bytes) + *across + *gather;
}

double train_dualpipe_time(int p, int m, const double *f, const double *b)
{
  double fb = 0, ff = 0, bb = 0;
  for (int s = 0; s < p; s++)
    if (f[s] + b[s] > fb) {
      fb = f[s] + b[s];
      ff = f[s];
      bb = b[s];
    }
  return m * fb + (p / 2.0 - 1) * (ff + bb / 2);
}
