/* models/serving/serving_lora.c: LoRA adapters on a replica (see
 * serving_lora.h). An adapter of rank r on a model adds, per layer, A (d_in
 * x r) and B (r x d_out) to each adapted projection - q, k, v, o (MLA: its
 * low-rank q and kv down and up projections, and o), and the MLP's gate,
 * up and down (all linear layers, as PEFT's target_modules="all-linear") -
 * stored in the model's weight precision and split over tensor-parallel
 * GPUs like the projections they adapt (vLLM's column- and row-parallel
 * LoRA layers). On a mixture of experts the MLP adapted is a dense layer's
 * and the shared experts'; the routed experts too with lora.experts, each
 * expert its own A and B on gate, up and down (vLLM's FusedMoEWithLoRA,
 * vllm/lora/layers/fused_moe.py: w13 and w2 lora_a/lora_b stacked per
 * adapter and local expert); a token's FLOPs through its experts_active. */
#include "models/serving/serving_lora.h"

#include <stdlib.h>

#include "models/interconnect/net.h"
#include "models/serving/serving_sched.h"
#include "sim/util.h"

/* d_in + d_out of an MLP of inner width f: gate, up and down (gated), up
 * and down (plain). */
static double mlp_dims(const llm_arch *m, double f)
{
  return (m->ffn_kind == LLM_FFN_GATED ? 3 : 2) * ((double)m->hidden + f);
}

/* d_in + d_out summed over one layer's adapted attention projections:
 * q, k, v, o; MLA (DeepSeek-V2 section 2.1, the projections of
 * llm_arch's MLA widths): q_a (hidden -> q_lora_rank) and q_b (-> heads x
 * qk width), or one q (hidden -> heads x qk width) without a query rank;
 * kv_a (hidden -> kv_lora_rank + qk_rope), kv_b (kv_lora_rank -> heads x
 * (qk_nope + v)); o (heads x v -> hidden). */
static double attn_dims(const llm_arch *m)
{
  double h = (double)m->hidden;
  if (llm_is_mla(m)) {
    double a = (double)m->heads, qk = llm_qk_head_dim(m), lq = (double)m->q_lora_rank;
    double lkv = (double)m->kv_lora_rank, rope = (double)m->qk_rope_head_dim;
    double q = lq > 0 ? (h + lq) + (lq + a * qk) : h + a * qk;
    double kv = (h + lkv + rope) + (lkv + a * ((double)m->qk_nope_head_dim + (double)m->v_head_dim));
    return q + kv + (a * (double)m->v_head_dim + h);
  }
  double q = llm_q_dim(m), kv = llm_kv_dim(m);
  return (h + q) + 2 * (h + kv) + (q + h);
}

/* d_in + d_out over the whole model's adapted projections; `experts`: the
 * routed experts counted (bytes: experts_all; FLOPs: the experts a token
 * goes through, experts_active). Dense layers adapt their MLP; layers with
 * experts their shared experts, and their routed ones only with
 * lora.experts (the router is never adapted). */
static double model_dims(const srv_class_cfg *cc, const llm_arch *m, double experts)
{
  double d = (double)m->layers * attn_dims(m) + llm_dense_layers(m) * mlp_dims(m, (double)m->ffn);
  double moe = (double)m->shared_experts * mlp_dims(m, llm_shared_expert_ffn(m));
  if (cc->lora.experts) moe += experts * mlp_dims(m, llm_expert_ffn(m));
  return d + llm_moe_layers(m) * moe;
}

double srv_lora_bytes(const srv_params *p, int c)
{
  const srv_class_cfg *cc = &p->classes[c];
  const llm_arch *m = p->models[cc->model_idx];
  /* in the model's precision, at least 16-bit: adapters of a quantized
   * model stay in bf16 (vLLM, QLoRA) */
  double wb = gpu_precision_bytes((gpu_precision)p->model.precision);
  if (wb < 2) wb = 2;
  /* every expert its own A and B (vLLM's FusedMoEWithLoRA: lora_a/b
   * stacked per adapter slot and local expert) */
  return (double)cc->lora.rank * model_dims(cc, m, (double)m->experts) * wb;
}

double srv_lora_flops_per_token(const srv_params *p, int c)
{
  const srv_class_cfg *cc = &p->classes[c];
  const llm_arch *m = p->models[cc->model_idx];
  /* x A then (x A) B: 2 r (d_in + d_out) per projection a token goes
   * through (of the experts, its experts_active) */
  return 2.0 * (double)cc->lora.rank * model_dims(cc, m, (double)m->experts_active);
}

int srv_lora_class(const srv_params *p, int32_t a)
{
  for (int c = 0; c < p->nclasses; c++) {
    const srv_class_cfg *cc = &p->classes[c];
    if (cc->has_lora && a >= cc->lora_base && a < cc->lora_base + cc->lora.adapters) return c;
  }
  SIM_BUG("serving: adapter %d belongs to no class", (int)a);
}

void srv_lora_init(srv_lora *L, const srv_params *p, int slots)
{
  *L = (srv_lora){.p = p, .maxslots = slots};
  L->running = xcalloc((size_t)p->lora_total, sizeof *L->running);
  L->slot = xcalloc((size_t)slots, sizeof *L->slot);
  L->used = xcalloc((size_t)slots, sizeof *L->used);
  L->lane = xcalloc((size_t)(p->lora_total + p->nclasses), sizeof *L->lane);
}

void srv_lora_release(srv_lora *L)
{
  free(L->running);
  free(L->slot);
  free(L->used);
  free(L->lane);
}

void srv_lora_join(srv_lora *L, int32_t a, sim_time now, bool measured)
{
  if (a < 0) return;
  if (L->running[a]++ > 0) return;
  const srv_params *p = L->p;
  int64_t bytes = (int64_t)p->classes[srv_lora_class(p, a)].lora_bytes;
  L->distinct++;
  if (L->distinct > L->maxslots) SIM_BUG("serving: %d adapters in a batch of %d slots", (int)L->distinct, L->maxslots);
  if (measured && L->distinct > L->distinct_max) L->distinct_max = L->distinct;
  L->bytes_running += bytes;
  for (int k = 0; k < L->nslots; k++)
    if (L->slot[k] == a) {
      L->used[k] = now;
      return;
    }
  /* not resident: a free slot, else the least recently used adapter no
   * sequence runs (one exists: at most maxslots run, a among them) */
  int k = L->nslots;
  if (k == L->maxslots) {
    k = -1;
    for (int j = 0; j < L->nslots; j++)
      if (L->running[L->slot[j]] == 0 && (k < 0 || L->used[j] < L->used[k])) k = j;
    if (k < 0) SIM_BUG("serving: no adapter slot to evict");
  } else {
    L->nslots++;
  }
  L->slot[k] = a;
  L->used[k] = now;
  L->load_bytes += bytes;
  if (measured) L->loads++;
}

void srv_lora_leave(srv_lora *L, int32_t a)
{
  if (a < 0) return;
  if (L->running[a] <= 0) SIM_BUG("serving: adapter %d leaves a batch it is not in", (int)a);
  if (--L->running[a] > 0) return;
  L->distinct--;
  L->bytes_running -= (int64_t)L->p->classes[srv_lora_class(L->p, a)].lora_bytes;
}

double srv_lora_step_s(srv_lora *L, const llm_replica *lr, const net_link *host, double lora_flops, bool measured)
{
  /* tensor-parallel shards; pipeline stages run theirs one after another */
  double gpus = (double)lr->tp;
  double load = 0;
  if (L->load_bytes > 0) {
    /* each GPU its shard over its own host link */
    double shard = (double)L->load_bytes / gpus;
    load = host ? net_p2p_s(host, shard) : 0;
    L->load_bytes = 0;
  }
  double rd = (double)L->bytes_running / gpus / lr->bytes_per_s;
  double fl = lora_flops / gpus / lr->flops_per_s;
  double op = L->distinct > 0 ? (rd > fl ? rd : fl) : 0;
  if (measured) {
    L->load_s += load;
    L->op_s += op;
  }
  return load + op;
}

/* ---- the queue's lanes ----
 * The earliest queued request of a class whose adapter may join is the
 * earliest head among the lanes that may: within a lane every request has
 * the same adapter, so a fitting request has no fitting one before it in
 * its lane. The lanes keep the class queue's order because requests join
 * both at the same end (back: arrivals; front: preempted requests). */

static struct srv_req **lane_of(srv_lora *L, const srv_req *q)
{
  return &L->lane[q->adapter >= 0 ? (int64_t)q->adapter : L->p->lora_total + q->cls];
}

void srv_lora_queued(srv_lora *L, srv_req *q, bool front)
{
  srv_req **h = lane_of(L, q);
  q->wseq = front ? --L->seq_front : ++L->seq_back;
  if (!*h) {
    q->lnext = q->lprev = q;
    *h = q;
    return;
  }
  srv_req *t = (*h)->lprev;
  q->lprev = t;
  q->lnext = *h;
  t->lnext = q;
  (*h)->lprev = q;
  if (front) *h = q;
}

void srv_lora_unqueued(srv_lora *L, srv_req *q)
{
  srv_req **h = lane_of(L, q);
  if (!q->lnext || !*h) SIM_BUG("serving: request %lld is in no adapter lane", (long long)q->id);
  if (q->lnext == q) {
    if (*h != q) SIM_BUG("serving: request %lld is alone in a lane it does not head", (long long)q->id);
    *h = NULL;
  } else {
    q->lprev->lnext = q->lnext;
    q->lnext->lprev = q->lprev;
    if (*h == q) *h = q->lnext;
  }
  q->lnext = q->lprev = NULL;
}

srv_req *srv_lora_first_fit(const srv_lora *L, int c)
{
  srv_req *best = L->lane[L->p->lora_total + c];
  /* the adapters of the batch are resident: among the slots */
  for (int k = 0; k < L->nslots; k++) {
    int32_t a = L->slot[k];
    srv_req *h = L->lane[a];
    if (L->running[a] > 0 && h && h->cls == c && (!best || h->wseq < best->wseq)) best = h;
  }
  return best;
}
