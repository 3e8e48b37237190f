/* models/serving/serving_models_prep.c: many models on one fleet, as the
 * scenario is prepared - the models it names (model.name, each pool's
 * `models`, each class's `model`), which pools serve each class, where the
 * replicas of a pool holding several models start, and what cannot be
 * combined with weight swaps; the saturation probe of a pool holding
 * several models (one probe per model, combined by demand). The run
 * itself is serving_models.c. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/serving/serving_capacity.h"
#include "models/serving/serving_int.h"
#include "models/serving/serving_lora.h"
#include "sim/catalog.h"
#include "sim/util.h"

/* The index of the model named `name` (aliases resolve to one model),
 * added to p->models if new; -1 after reporting a problem at key. */
static int model_index(srv_params *p, const char *name, const sim_setup *su, sim_check *ck, const char *key)
{
  const llm_arch *m = sim_catalog_require(su->cats, "models", "model", name, ck, key);
  if (!m) return -1;
  for (int j = 0; j < p->nmodels; j++)
    if (p->models[j] == m) return j;
  if (m->encoder_only) {
    sim_check_fail(ck, key, "%s is an encoder: it generates no tokens to serve", m->name);
    return -1;
  }
  if (p->nmodels == SRV_MAX_MODELS) {
    sim_check_fail(ck, key, "%s would be model %d (expected at most %d models in a scenario)", m->name,
                   p->nmodels + 1, SRV_MAX_MODELS);
    return -1;
  }
  int j = p->nmodels++;
  p->models[j] = m;
  /* model.max_context caps every model at most at its own context */
  int64_t c = m->max_context;
  if (p->model.max_context > 0 && p->model.max_context < c) c = p->model.max_context;
  p->model_context[j] = c;
  return j;
}

/* The key of class i's leaf key, as the scenario wrote the class. */
static void class_key(const srv_params *p, int i, const char *leaf, char *key, size_t n)
{
  if (p->wl.nlisted)
    snprintf(key, n, "workload.classes.[%d].%s", i, leaf);
  else
    snprintf(key, n, "workload.%s", leaf);
}

void srv_models_resolve(srv_params *p, const sim_setup *su, sim_check *ck)
{
  p->models[0] = p->m;
  p->model_context[0] = p->context;
  p->nmodels = 1;
  p->swapping = false;
  char key[128];
  for (int i = 0; i < p->npools; i++) {
    srv_pool_cfg *pl = &p->pools[i];
    pl->model_mask = 0;
    pl->first_model = 0;
    snprintf(key, sizeof key, "cluster.pools.[%d].models", i);
    for (int k = 0; k < pl->models.n; k++) {
      int j = model_index(p, pl->models.v[k], su, ck, key);
      if (j < 0) continue;
      if (pl->model_mask >> j & 1) {
        sim_check_fail(ck, key, "%s is listed twice (expected each model once)", p->models[j]->name);
        continue;
      }
      if (!pl->model_mask) pl->first_model = j;
      pl->model_mask |= 1u << j;
    }
    if (!pl->model_mask) pl->model_mask = 1u << pl->first_model;
    if (pl->model_mask & (pl->model_mask - 1)) p->swapping = true;
  }
  for (int i = 0; i < p->nclasses; i++) {
    srv_class_cfg *c = &p->classes[i];
    class_key(p, i, "model", key, sizeof key);
    int j = *c->model ? model_index(p, c->model, su, ck, key) : 0;
    c->model_idx = j < 0 ? 0 : j;
    c->context = p->model_context[c->model_idx];
  }
}

void srv_models_bind(srv_params *p, sim_check *ck)
{
  char key[128];
  for (int i = 0; i < p->nclasses; i++) {
    srv_class_cfg *c = &p->classes[i];
    int j = c->model_idx;
    uint32_t holds = 0, all = 0;
    for (int k = 0; k < p->npools; k++) {
      all |= 1u << k;
      if (p->pools[k].model_mask >> j & 1) holds |= 1u << k;
    }
    if (!holds) {
      if (*c->model)
        class_key(p, i, "model", key, sizeof key);
      else
        snprintf(key, sizeof key, "model.name");
      sim_check_fail(ck, key, "no pool holds %s (expected it in some cluster.pools.[i].models, or a pool "
                     "without models, which holds model.name)", p->models[j]->name);
      continue;
    }
    if (c->pool_mask && !(c->pool_mask & holds)) {
      class_key(p, i, c->npools ? "pools" : "pool", key, sizeof key);
      sim_check_fail(ck, key, "the pools it is bound to do not hold %s (expected a pool whose models list it)",
                     p->models[j]->name);
      continue;
    }
    uint32_t m = c->pool_mask ? c->pool_mask & holds : holds;
    c->pool_mask = m == all ? 0 : m;
  }
}

/* Demand for model j: the share of the run's expected arrivals of the
 * classes asking for it. */
static double demand(const srv_params *p, int j)
{
  double d = 0;
  for (int i = 0; i < p->nclasses; i++)
    if (p->classes[i].model_idx == j) d += p->classes[i].mix_weight;
  return d;
}

/* Pool pl's replicas over its models in proportion to their demand
 * (largest remainder; ties to the model the scenario names first), each model at
 * least one while there are replicas to go round. */
static void place(const srv_params *p, srv_pool_cfg *pl)
{
  int idx[SRV_MAX_MODELS], n = 0;
  double w[SRV_MAX_MODELS], sum = 0;
  for (int j = 0; j < p->nmodels; j++)
    if (pl->model_mask >> j & 1) idx[n++] = j;
  for (int t = 0; t < n; t++) sum += w[t] = demand(p, idx[t]);
  if (!(sum > 0))
    for (int t = 0; t < n; t++) sum += w[t] = 1;
  int64_t R = pl->replicas, given = 0;
  double rem[SRV_MAX_MODELS];
  for (int j = 0; j < SRV_MAX_MODELS; j++) pl->place[j] = 0;
  for (int t = 0; t < n; t++) {
    double x = (double)R * w[t] / sum;
    pl->place[idx[t]] = (int64_t)x;
    rem[t] = x - (double)(int64_t)x;
    given += pl->place[idx[t]];
  }
  while (given < R) {
    int best = 0;
    for (int t = 1; t < n; t++)
      if (rem[t] > rem[best]) best = t;
    pl->place[idx[best]]++;
    rem[best] = -1;
    given++;
  }
  /* a model with none takes one from the model with the most */
  for (int t = 0; t < n && R >= n; t++) {
    if (pl->place[idx[t]] > 0) continue;
    int most = 0;
    for (int u = 1; u < n; u++)
      if (pl->place[idx[u]] > pl->place[idx[most]]) most = u;
    pl->place[idx[most]]--;
    pl->place[idx[t]]++;
  }
}

void srv_models_place(srv_params *p, sim_check *ck)
{
  uint32_t held = 0;
  for (int i = 0; i < p->npools; i++) {
    srv_pool_cfg *pl = &p->pools[i];
    if (!(pl->model_mask & (pl->model_mask - 1))) {
      for (int j = 0; j < SRV_MAX_MODELS; j++) pl->place[j] = 0;
      pl->place[pl->first_model] = pl->replicas;
      if (pl->replicas > 0 || srv_pool_elastic(pl)) held |= pl->model_mask;
      continue;
    }
    /* an autoscaled or spot pool's new replica takes the model of the
     * highest demand per holder, a drained one or one given its spot notice
     * sends its parked requests on (serving_models.c); prefill and decode
     * pools place each model's requests on its holders (serving_models_pd.c) */
    place(p, pl);
    for (int j = 0; j < p->nmodels; j++)
      if (pl->place[j] > 0) held |= 1u << j;
  }
  /* disaggregated: a decode pool for each model (serving_models_pd.c) */
  srv_models_pd_check(p, ck);
  if (p->swap.policy != SRV_SWAP_STATIC) return;
  /* static: a model no replica starts with is never served */
  for (int i = 0; i < p->nclasses; i++) {
    int j = p->classes[i].model_idx;
    if (held >> j & 1) continue;
    sim_check_fail(ck, "cluster.weight_swap.policy", "static, but no replica starts with %s: its requests "
                   "could never be served (expected at least a replica per model, or the lru or popularity policy)",
                   p->models[j]->name);
    held |= 1u << j;
  }
}

void srv_lora_prepare(srv_params *p, sim_check *ck)
{
  char key[128];
  p->lora_total = 0;
  for (int i = 0; i < p->nclasses; i++) {
    srv_class_cfg *c = &p->classes[i];
    c->lora_base = (int32_t)p->lora_total;
    if (!c->has_lora) continue;
    p->lora_total += c->lora.adapters;
    c->lora_bytes = srv_lora_bytes(p, i);
    c->lora_flops_tok = srv_lora_flops_per_token(p, i);
    class_key(p, i, "lora", key, sizeof key);
    const llm_arch *m = p->models[c->model_idx];
    if (c->lora.experts && m->experts <= 1) {
      class_key(p, i, "lora.experts", key, sizeof key);
      sim_check_fail(ck, key, "true, but %s has no routed experts (expected a mixture of experts, or false)",
                     m->name);
    }
  }
  if (p->lora_total > INT32_MAX / 2) {
    sim_check_fail(ck, "workload", "%lld LoRA adapters in all (expected at most %d)", (long long)p->lora_total,
                   INT32_MAX / 2);
    p->lora_total = 0;
  }
  for (int i = 0; i < p->npools; i++) {
    srv_pool_cfg *pl = &p->pools[i];
    /* SGLang: --max-loras-per-batch, 8 (server_args.py); vLLM: --max-loras, 1 (EngineArgs) */
    pl->lora_slots = pl->max_loras > 0 ? (int)pl->max_loras
                     : pl->sp && !strncmp(pl->sp->name, "sglang", 6) ? 8 : 1;
  }
  if (p->lora_total == 0) return;
  /* static and dynamic batches skip a request whose adapter would exceed
   * max_loras as continuous batching does; the prefix cache's tiers key
   * blocks by adapter; with roles prefill and decode the adapter travels
   * with the request and loads on both sides (serving_pd.c). */
  for (int i = 0; i < p->npools; i++) {
    const srv_pool_cfg *pl = &p->pools[i];
    /* vLLM's fused MoE LoRA refuses expert parallelism ("EP support for
     * Fused MoE LoRA is not implemented yet", vllm/lora/layers/fused_moe.py) */
    int64_t ep = pl->ep > 0 ? pl->ep : pl->dp_attention > 1 ? pl->tp * pl->dp_attention : 1;
    for (int c = 0; c < p->nclasses && ep > 1; c++) {
      const srv_class_cfg *cc = &p->classes[c];
      if (!cc->has_lora || !cc->lora.experts || !(pl->model_mask >> cc->model_idx & 1)) continue;
      if (cc->pool_mask && !(cc->pool_mask >> i & 1)) continue;
      snprintf(key, sizeof key, "cluster.pools.[%d].ep", i);
      sim_check_fail(ck, key, "%lld, with adapters on the routed experts (workload class %s's lora.experts; not "
                     "modelled, as vLLM's fused MoE LoRA does not run with expert parallelism: expected ep = 1, or "
                     "lora.experts = false)", (long long)ep, cc->name);
      break;
    }
  }
}

/* ---- the saturation probe of a pool holding several models ---- */

/* Pool `pool`'s demand for model j: the mix weight of the classes asking
 * for it that may go to the pool. */
static double pool_demand(const srv_params *p, int pool, int j)
{
  double d = 0;
  for (int i = 0; i < p->nclasses; i++) {
    const srv_class_cfg *c = &p->classes[i];
    if (c->model_idx == j && (!c->pool_mask || (c->pool_mask >> pool & 1))) d += c->mix_weight;
  }
  return d;
}

void srv_models_saturation(const srv_params *p, int pool, srv_saturation *out)
{
  const srv_pool_cfg *pl = &p->pools[pool];
  double w[SRV_MAX_MODELS] = {0}, sum = 0;
  for (int j = 0; j < p->nmodels; j++)
    if (pl->model_mask >> j & 1) sum += w[j] = pool_demand(p, pool, j);
  if (!(sum > 0))
    for (int j = 0; j < p->nmodels; j++)
      if (pl->model_mask >> j & 1) sum += w[j] = 1;
  memset(out, 0, sizeof *out);
  for (int j = 0; j < SRV_MAX_MODELS; j++) out->model_rate_per_s[j] = NAN;
  out->from_cache = true;
  /* the scenario reduced to this pool's replica holding model j, fed with
   * j's classes alone (the others weigh nothing): a one-model probe */
  srv_params *cp = xmalloc(sizeof *cp);
  double per_req_s = 0;
  for (int j = 0; j < p->nmodels; j++) {
    if (!(pl->model_mask >> j & 1)) continue;
    memcpy(cp, p, sizeof *cp);
    cp->classes = p->classes == p->wl.listed ? cp->wl.listed : &cp->wl.direct;
    cp->nmodels = 1;
    cp->swapping = false;
    cp->models[0] = p->models[j];
    cp->model_context[0] = p->model_context[j];
    cp->m = p->models[j];
    cp->context = p->model_context[j];
    cp->spec.of[0] = p->spec.of[j];
    srv_pool_cfg *q = &cp->pools[pool];
    q->lr = pl->var[j].lr;
    q->kv_blocks = pl->var[j].kv_blocks;
    q->weights_gib = pl->var[j].weights_gib;
    q->activations_gib = pl->var[j].activations_gib;
    q->first_model = 0;
    q->model_mask = 1;
    q->var[0] = pl->var[j];
    q->tier_host_blocks = pl->var[j].tier_host_blocks;
    q->tier_ssd_blocks = pl->var[j].tier_ssd_blocks;
    q->tier_block_bytes = pl->var[j].tier_block_bytes;
    bool any = false;
    for (int i = 0; i < cp->nclasses; i++) {
      srv_class_cfg *c = &cp->classes[i];
      bool mine = c->model_idx == j && (!c->pool_mask || (c->pool_mask >> pool & 1));
      if (!mine) c->mix_weight = 0;
      any |= mine && c->mix_weight > 0;
      c->model_idx = 0;
    }
    /* no demand here at all: j's classes as the scenario weighs them */
    if (!any)
      for (int i = 0; i < cp->nclasses; i++)
        if (p->classes[i].model_idx == j) cp->classes[i].mix_weight = p->classes[i].mix_weight > 0 ? p->classes[i].mix_weight : 1;
    srv_saturation one;
    srv_saturation_get(cp, pool, &one);
    out->model_rate_per_s[j] = one.rate_per_s;
    out->measured += one.measured;
    out->sim_s += one.sim_s;
    if (one.rel_ci95 > out->rel_ci95) out->rel_ci95 = one.rel_ci95;
    out->from_cache &= one.from_cache;
    if (w[j] > 0) per_req_s += w[j] / sum / one.rate_per_s;
  }
  free(cp);
  /* a replica serving the pool's mix of models, each request at its own
   * model's rate, no time lost to swaps: an upper bound for a swapping pool */
  out->rate_per_s = per_req_s > 0 ? 1 / per_req_s : INFINITY;
}
