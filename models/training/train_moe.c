/* models/training/train_moe.c: what a mixture-of-experts model changes in
 * a training job, as pure functions of its catalog entry: the weight
 * matrices a token multiplies per layer (routed experts of their own
 * width, shared experts, leading dense layers, MLA's projections), the
 * routed experts' parameters that expert parallelism shards, the busiest
 * expert-parallel rank's load under imbalance, and the activations an MoE
 * layer keeps beyond a dense one. The communication is in train_cp_ep.c;
 * nothing here knows links or time. */
#include "models/training/train.h"

#include <math.h>

/* Q, K, V, O matrices of a layer's attention. Multi-head latent attention
 * (DeepSeek-V2 sec. 2.1): the query through its rank-q_lora_rank bottleneck
 * (or one projection), keys and values through the kv_lora_rank latent
 * plus the shared rotary key, their per-head up-projections, the output. */
static double attn_matrices(const llm_arch *m)
{
  double h = (double)m->hidden;
  if (!llm_is_mla(m)) return 2 * h * llm_q_dim(m) + 2 * h * llm_kv_dim(m);
  double a = (double)m->heads, qk = llm_qk_head_dim(m), lq = (double)m->q_lora_rank;
  double lkv = (double)m->kv_lora_rank, rope = (double)m->qk_rope_head_dim, vh = llm_v_head_dim(m);
  double q = lq > 0 ? h * lq + lq * a * qk : h * a * qk;
  double kv = h * (lkv + rope) + lkv * a * ((double)m->qk_nope_head_dim + vh);
  return q + kv + a * vh * h;
}

/* Matrices of an MLP of inner width f: 3 gated, 2 plain. */
static double mlp_matrices(const llm_arch *m, double f)
{
  return (m->ffn_kind == LLM_FFN_GATED ? 3 : 2) * (double)m->hidden * f;
}

void train_layer_matrices_of(const llm_arch *m, train_layer_matrices *o)
{
  o->attn = attn_matrices(m);
  o->mlp = o->routed = 0;
  if (m->experts <= 1 && m->shared_experts <= 0) {
    o->mlp = mlp_matrices(m, (double)m->ffn);
    return;
  }
  /* layers with experts, and the leading dense ones averaged in */
  double share = train_moe_layer_share(m);
  double shared = m->shared_experts > 0 ? (double)m->shared_experts * mlp_matrices(m, llm_shared_expert_ffn(m)) : 0;
  double routed = (double)m->experts_active * mlp_matrices(m, llm_expert_ffn(m));
  if (share == 1) {
    o->mlp = shared;
    o->routed = routed;
    return;
  }
  o->mlp = share * shared + (1 - share) * mlp_matrices(m, (double)m->ffn);
  o->routed = share * routed;
}

double train_moe_layer_share(const llm_arch *m)
{
  if (m->experts <= 1) return 0;
  return llm_moe_layers(m) / (double)m->layers;
}

double train_routed_params(const llm_arch *m)
{
  if (m->experts <= 1) return 0;
  return llm_moe_layers(m) * (double)m->experts * llm_expert_params(m);
}

double train_expert_stretch(const train_job *j)
{
  if (j->model->experts <= 1) return 1;
  double f = j->moe_capacity;
  if (f > 0 && j->moe_pad) return f;
  double hot = f > 0 ? fmin(j->expert_imbalance, f) : j->expert_imbalance, rest = f > 0 ? fmin(1, f) : 1;
  if (j->ep <= 1) return rest;
  double per_rank = (double)j->model->experts / j->ep;
  return (hot + (per_rank - 1) * rest) / per_rank;
}

double train_expert_dispatch_scale(const train_job *j)
{
  return j->moe_capacity > 0 && j->moe_pad ? j->moe_capacity : 1;
}

double train_moe_activation_bytes(const train_job *j)
{
  const llm_arch *m = j->model;
  if (m->experts <= 1) return 0;
  double router = 4 * (double)m->experts;
  double permuted = 2 * 2 * (double)m->experts_active * (double)m->hidden / j->tp * train_expert_dispatch_scale(j);
  return train_moe_layer_share(m) * (router + permuted);
}

double train_layer_mlp_width(const llm_arch *m)
{
  if (m->experts <= 1) return (double)m->ffn;
  double share = train_moe_layer_share(m);
  double moe = (double)m->experts_active * llm_expert_ffn(m) +
               (m->shared_experts > 0 ? (double)m->shared_experts * llm_shared_expert_ffn(m) : 0);
  return share == 1 ? moe : share * moe + (1 - share) * (double)m->ffn;
}
