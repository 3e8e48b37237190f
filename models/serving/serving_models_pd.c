/* models/serving/serving_models_pd.c: several models (and LoRA adapters)
 * with prefill/decode disaggregation - which decode replica takes a
 * prefilled request, and what a scenario needs for it. A request of model
 * j is prefilled on a prefill replica holding j (routed and swapped there
 * as on a "both" pool: serving_models.c); its KV then goes to a decode
 * replica holding j, the least loaded with room for its KV (in j's own
 * blocks) and, with LoRA, a slot for its adapter (each side's max_loras;
 * the decode replica loads the adapter over its host link when it takes
 * the request, as serving_pd.c books). When no decode replica holds j, the
 * decode side swaps one to j by cluster.weight_swap.policy (an idle one
 * first; the request waits, its KV kept on the prefill side, as under
 * back-pressure); when the holders are all full, an idle replica of
 * another model takes j too, as srv_models_pick does for prompts - one at
 * a time, never while another is already loading j. This is how NVIDIA
 * Dynamo, llm-d and SGLang's PD router serve several models: a prefill and
 * a decode worker set per model, the KV handed within a model's set. */
#include <stdio.h>

#include "models/serving/serving_int.h"
#include "models/serving/serving_lora.h"
#include "sim/util.h"

static inline bool several(uint32_t mask) { return (mask & (mask - 1)) != 0; }

int srv_models_pd_decode(srv_sim *s, const srv_req *q, bool *never)
{
  const srv_params *p = s->p;
  int j = p->classes[q->cls].model_idx;
  int best = -1;
  double best_load = 0;
  int64_t best_seqs = 0;
  bool held = false, settling = false;
  /* pools (bits) of decode replicas listing j; those with a ready holder
   * of j; those whose ready holder could take q some day; those with a
   * holder still loading j or emptying for it */
  uint32_t pools = 0, tested = 0, could = 0, coming = 0;
  for (int k = 0; k < s->nreps; k++) {
    srv_replica *r = &s->reps[k];
    if (r->role == SRV_ROLE_PREFILL) continue;
    uint32_t bit = 1u << r->pool;
    if (!(p->pools[r->pool].model_mask >> j & 1)) continue;
    pools |= bit;
    if (srv_models_tail(s, k) != j) continue;
    bool up = !s->view[k].down;
    held |= up;
    if (!srv_models_ready(s, k)) {
      coming |= bit;
      settling |= up;
      continue;
    }
    tested |= bit;
    kv_admit a = srv_replica_can_take(r, q);
    if (a == KV_ADMIT_NEVER) continue;
    could |= bit;
    if (a != KV_ADMIT_OK || !up) continue;
    if (r->lora && !srv_lora_fits(r->lora, q->adapter)) continue;
    double load = kv_used_fraction(&r->kv);
    int64_t seqs = r->nrun + r->nincoming;
    if (best < 0 || load < best_load || (load == best_load && seqs < best_seqs)) {
      best = k;
      best_load = load;
      best_seqs = seqs;
    }
  }
  if (best >= 0) {
    *never = false;
    return best;
  }
  /* a pool with no ready holder to ask may still take it: one loading j,
   * or one that swaps and may be given j */
  uint32_t reach = coming;
  for (int i = 0; i < p->npools; i++)
    if ((pools >> i & 1) && several(p->pools[i].model_mask) && p->swap.policy != SRV_SWAP_STATIC)
      reach |= 1u << i;
  *never = !could && !(pools & ~tested & reach);
  if (*never || settling || !s->mm) return -1;
  /* the swap: an idle replica first; a busy one only when none holds j */
  int v = srv_models_victim(s, j, pools, true);
  if (v < 0 && !held) v = srv_models_victim(s, j, pools, false);
  if (v >= 0) srv_models_claim(s, v, j);
  return -1;
}

/* The key of class i's leaf key, as the scenario wrote the class. */
static void class_key(const srv_params *p, int i, const char *leaf, char *key, size_t n)
{
  if (p->wl.nlisted)
    snprintf(key, n, "workload.classes.[%d].%s", i, leaf);
  else
    snprintf(key, n, "workload.%s", leaf);
}

void srv_models_pd_check(srv_params *p, sim_check *ck)
{
  if (!p->pd) return;
  char key[128];
  uint32_t told = 0;
  for (int i = 0; i < p->nclasses; i++) {
    int j = p->classes[i].model_idx;
    if (told >> j & 1) continue;
    /* pools that decode and list j; of them, replicas starting with j */
    bool listed = false;
    int64_t start = 0, anywhere = 0;
    for (int k = 0; k < p->npools; k++) {
      const srv_pool_cfg *pl = &p->pools[k];
      int64_t n = pl->place[j] + (pl->replicas == 0 && srv_pool_elastic(pl) && pl->first_model == j);
      anywhere += n;
      if (pl->role == SRV_ROLE_PREFILL || !(pl->model_mask >> j & 1)) continue;
      listed = true;
      start += n;
    }
    if (!listed) {
      if (*p->classes[i].model)
        class_key(p, i, "model", key, sizeof key);
      else
        snprintf(key, sizeof key, "model.name");
      sim_check_fail(ck, key, "no pool with role \"decode\" or \"both\" holds %s: its prefilled requests could "
                     "never decode (expected it in a decode pool's models, or a decode pool without models, "
                     "which holds model.name)", p->models[j]->name);
      told |= 1u << j;
    } else if (p->swap.policy == SRV_SWAP_STATIC && start == 0 && anywhere > 0) {
      /* (none anywhere: srv_models_place says so) */
      sim_check_fail(ck, "cluster.weight_swap.policy", "static, but no decode replica starts with %s: its "
                     "prefilled requests could never decode (expected at least a decode replica per model, or "
                     "the lru or popularity policy)", p->models[j]->name);
      told |= 1u << j;
    }
  }
}
