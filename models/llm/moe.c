/* models/llm/moe.c: expert parallelism, all-to-all, data-parallel attention
 * and multi-head latent attention as pure functions (see moe.h for the
 * model and its sources). */
#include <math.h>

#include "models/llm/moe.h"

static double max2(double a, double b) { return a > b ? a : b; }
static double min2(double a, double b) { return a < b ? a : b; }

/* A dense MLP is one expert that every token uses. */
static double routed_experts(const llm_moe_shape *s) { return s->experts > 1 ? s->experts : 1; }
static double routed_k(const llm_moe_shape *s)
{
  return s->experts > 1 ? min2(s->experts_active > 0 ? s->experts_active : 1, s->experts) : 1;
}
static double mats(const llm_moe_shape *s) { return s->gated ? 3 : 2; }

double llm_moe_expert_params(const llm_moe_shape *s) { return mats(s) * s->hidden * s->expert_ffn; }

double llm_moe_shared_params(const llm_moe_shape *s) { return mats(s) * s->hidden * s->shared_ffn; }

double llm_moe_imbalance_floor(double tokens, double k, int ep)
{
  double m = tokens * k / (ep > 0 ? ep : 1);
  if (ep <= 1 || m <= 0) return 1;
  return 1 + sqrt(2 * log((double)ep) / m);
}

void llm_moe_layer_work(const llm_moe_shape *s, const llm_moe_par *p, double tokens, llm_moe_work *out)
{
  double E = routed_experts(s), k = routed_k(s), ep = p->ep > 0 ? p->ep : 1;
  double slots = p->slots > 0 ? p->slots : E;
  double params = llm_moe_expert_params(s);
  double io = s->gated ? 3 * s->expert_ffn : 2 * s->expert_ffn;

  out->slots_local = slots / ep;
  out->pairs_mean = tokens * k / ep;
  double want = p->imbalance > 0 ? max2(p->imbalance, 1) : llm_moe_imbalance_floor(tokens, k, (int)ep);
  /* no GPU gets more than every token's pairs that its slots can take */
  double cap = min2(tokens * min2(k, out->slots_local), tokens * k);
  out->pairs_max = min2(out->pairs_mean * want, cap);
  if (out->pairs_max < out->pairs_mean) out->pairs_max = out->pairs_mean;
  out->imbalance = out->pairs_mean > 0 ? out->pairs_max / out->pairs_mean : 1;
  out->flops_mean = 2 * out->pairs_mean * params;
  out->flops_max = 2 * out->pairs_max * params;

  /* a slot is used by a token with probability k / slots */
  double untouched = k >= slots ? 0 : pow(1 - k / slots, tokens);
  out->slots_touched = tokens > 0 ? out->slots_local * (1 - untouched) : 0;
  out->weight_bytes_read = out->slots_touched * params * p->weight_bytes;
  out->weight_bytes_held = out->slots_local * params * p->weight_bytes;
  out->act_bytes_max = out->pairs_max * (2 * s->hidden + io) * p->act_bytes;
  out->bytes_max = out->weight_bytes_read + out->act_bytes_max;
}

void llm_moe_shared(const llm_moe_shape *s, double tokens, int tp, double weight_bytes,
                    double act_bytes, llm_work *out)
{
  double t = tp > 0 ? tp : 1, n = s->shared_experts > 0 ? s->shared_experts : 0;
  double params = llm_moe_shared_params(s);
  double io = s->gated ? 3 * s->shared_ffn : 2 * s->shared_ffn;
  out->flops = 2 * tokens * n * params / t;
  out->bytes = tokens > 0 ? (n * params * weight_bytes + tokens * n * (2 * s->hidden + io) * act_bytes) / t
                          : 0;
}

void llm_moe_alltoall(const llm_moe_shape *s, int ep, double tokens, double dispatch_value_bytes,
                      double combine_value_bytes, bool dedup, llm_moe_a2a *out)
{
  double E = routed_experts(s), k = routed_k(s), n = ep > 0 ? ep : 1;
  double copies = k;
  if (dedup) {
    /* a GPU holding E/ep experts is missed by all k distinct choices with
     * probability C(E - E/ep, k) / C(E, k) */
    double miss = 1, local = E / n;
    for (int i = 0; i < (int)k; i++) miss *= max2(E - local - i, 0) / (E - i);
    copies = n * (1 - miss);
  }
  out->copies_per_token = copies;
  out->remote_fraction = (n - 1) / n;
  double per_gpu = tokens / n;
  out->dispatch_bytes_all = per_gpu * copies * s->hidden * dispatch_value_bytes;
  out->combine_bytes_all = per_gpu * copies * s->hidden * combine_value_bytes;
  out->dispatch_bytes = out->dispatch_bytes_all * out->remote_fraction;
  out->combine_bytes = out->combine_bytes_all * out->remote_fraction;
}

double llm_moe_alltoall_s(double bytes, double latency_s, double bw_bytes_per_s)
{
  if (bytes <= 0) return 0;
  return latency_s + (bw_bytes_per_s > 0 ? bytes / bw_bytes_per_s : 0);
}

double llm_dp_rank_share(double n, int dp, int rank)
{
  if (dp <= 1) return n > 0 ? floor(n) : 0;
  if (n <= 0 || rank < 0 || rank >= dp) return 0;
  double whole = floor(n), base = floor(whole / dp), extra = whole - base * dp;
  return base + (rank < extra ? 1 : 0);
}

double llm_dp_lockstep_s(const double *rank_s, int dp, double dummy_s)
{
  double busiest = 0;
  bool any = false, idle = false;
  for (int i = 0; i < dp; i++) {
    if (rank_s[i] > 0) {
      any = true;
      busiest = max2(busiest, rank_s[i]);
    } else {
      idle = true;
    }
  }
  if (!any) return 0;
  return idle ? max2(busiest, dummy_s) : busiest;
}

double llm_mla_kv_bytes_per_token(const llm_mla_shape *s, double kv_bytes)
{
  return s->layers * (s->kv_lora_rank + s->qk_rope_head_dim) * kv_bytes;
}

void llm_mla_decode(const llm_mla_shape *s, double seqs, double context, double kv_bytes,
                    double act_bytes, int tp, llm_work *out)
{
  double hp = s->heads / (tp > 0 ? tp : 1), dc = s->kv_lora_rank, dr = s->qk_rope_head_dim;
  out->flops = s->layers * 2 * hp * context * (2 * dc + dr);
  out->bytes = s->layers * ((context + seqs) * (dc + dr) * kv_bytes +  /* latents read, new ones written */
                            seqs * hp * ((dc + dr) + dc) * act_bytes); /* absorbed queries in, latent outputs out */
}

void llm_mla_prefill(const llm_mla_shape *s, double tokens, double attended, double kv_positions,
                     double kv_bytes, double act_bytes, int tp, llm_work *out)
{
  double hp = s->heads / (tp > 0 ? tp : 1), dc = s->kv_lora_rank, dr = s->qk_rope_head_dim;
  double dn = s->qk_nope_head_dim, dv = s->v_head_dim, cached = max2(kv_positions - tokens, 0);
  double qkv = dn + dr + dv;
  out->flops = s->layers * hp * (2 * attended * qkv + 2 * cached * dc * (dn + dv));
  out->bytes = s->layers * ((cached + tokens) * (dc + dr) * kv_bytes +  /* cached latents read, new written */
                            kv_positions * hp * qkv * act_bytes +       /* materialised K and V */
                            tokens * hp * qkv * act_bytes);             /* Q in, O out */
}
