/* models/serving/speculative.c: the `speculative` section's keys and
 * checks, each model's effective setting (the section's keys, an entry of
 * speculative.models over them), each pool's drafter per model, the cost
 * of drafting a step (see speculative.h for the model). Owns nothing at run time: the scheduler
 * keeps the counts, the simulation the random stream.
 *
 * Drafters' costs, and their sources:
 * - draft: a smaller model of the same tokenizer, run as vLLM runs it on
 *   the target's GPUs with the same tensor parallelism (an assumption: a
 *   deployment could also run it with tp 1), k sequential decode passes a
 *   step, its weights and its KV cache (per token, as the target's)
 *   taken from the replica's memory (Leviathan et al. 2023; vLLM docs,
 *   "Speculative Decoding", draft models).
 * - eagle: EAGLE's draft head is one decoder layer of the target plus a
 *   2h x h projection of the fused features, and reuses the target's
 *   embedding and output head (Li et al., "EAGLE: Speculative Sampling
 *   Requires Rethinking Feature Uncertainty", ICML 2024: 0.99B parameters
 *   for LLaMA2-Chat 70B, whose layer is 0.86B); so a pass costs one layer
 *   of the target's step plus its output head, and the head caches one
 *   layer's KV.
 * - mtp: DeepSeek-V3's multi-token-prediction module is the same shape
 *   (one transformer block and a 2h x h projection, embedding and head
 *   shared: DeepSeek-V3 Technical Report, 2024, section 2.2), costed as
 *   EAGLE.
 * - ngram: prompt lookup (vLLM's n-gram proposer) runs on the CPU: no GPU
 *   time, no memory. */
#include "models/serving/speculative.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "sim/catalog.h"

const char *const spec_method_names[] = {"none", "draft", "ngram", "eagle", "mtp", NULL};

/* The keys a setting has, at `base` (offsetof of a spec_cfg in the
 * table's struct); PRESENT(f): the has_ flag an entry keeps. */
#define SPEC_SETTING_KEYS(base, what)                                                                              \
  {.name = "method", .kind = SIM_KEY_ENUM, .offset = (base) + offsetof(spec_cfg, method),                          \
   .choices = spec_method_names, .def_str = "none", .has_present = true,                                           \
   .present_offset = (base) + offsetof(spec_cfg, has_method),                                                      \
   .help = "none, draft (a draft model), ngram (prompt lookup), eagle (EAGLE head) or mtp (multi-token "           \
           "prediction)" what},                                                                                    \
  {.name = "draft_model", .kind = SIM_KEY_STRING, .offset = (base) + offsetof(spec_cfg, draft_model),              \
   .def_str = "", .has_present = true, .present_offset = (base) + offsetof(spec_cfg, has_draft),                   \
   .help = "method draft: the draft model (catalog name; same GPUs and tp as the target)" what},                   \
  {.name = "num_speculative_tokens", .kind = SIM_KEY_INT, .offset = (base) + offsetof(spec_cfg, k), .def = 1,      \
   .min = 1, .max = SPEC_MAX_TOKENS, .has_present = true, .present_offset = (base) + offsetof(spec_cfg, has_k),    \
   .help = "draft tokens proposed and verified per decode step, k (required with a method)" what},                 \
  {.name = "acceptance_rate", .kind = SIM_KEY_FLOAT, .offset = (base) + offsetof(spec_cfg, acceptance_rate),       \
   .def = 0, .min = 0, .max = 1, .has_present = true, .present_offset = (base) + offsetof(spec_cfg, has_rate),     \
   .help = "probability each draft token is accepted given those before it were (this or acceptance_rates "        \
           "required with a method)" what},                                                                        \
  {.name = "acceptance_rates", .kind = SIM_KEY_NUMBERS, .offset = (base) + offsetof(spec_cfg, acceptance_rates),   \
   .count_offset = (base) + offsetof(spec_cfg, nrates), .max_items = SPEC_MAX_TOKENS, .min = 0, .max = 1,          \
   .help = "or one per draft position [a1, ..., ak] (instead of acceptance_rate)" what}

/* An entry of speculative.models: the model, and the keys it overrides. */
static const sim_key spec_model_keys[] = {
  {.name = "model", .kind = SIM_KEY_STRING, .offset = offsetof(spec_cfg, model), .required = true,
   .help = "the model this entry is for (catalog name; one the scenario serves)"},
  SPEC_SETTING_KEYS(0, " (not written: the section's)"),
  SIM_KEY_END,
};

const sim_key spec_keys[] = {
  SPEC_SETTING_KEYS(offsetof(spec_section, all), ""),
  {.name = "models", .kind = SIM_KEY_LIST, .offset = offsetof(spec_section, models), .group = spec_model_keys,
   .item_size = sizeof(spec_cfg), .count_offset = offsetof(spec_section, nmodels), .max_items = SPEC_MAX_MODELS,
   .help = "per model: ( { model = NAME; method; ...; }, ... ), each key not written taken from the section"},
  SIM_KEY_END,
};

void spec_check(spec_cfg *c, const char *at, sim_check *ck)
{
  char key[128];
#define KEY(k) (snprintf(key, sizeof key, "%s.%s", at, k), key)
  c->cum[0] = 1;
  c->expected_tokens = 1;
  if (c->method == SPEC_NONE) {
    /* switched off (--set speculative.method=\"none\" on a scenario that
     * speculates): the other keys are unused, which the user hears of */
    if (*c->draft_model || c->has_k || c->has_rate || c->nrates > 0)
      sim_check_warn(ck, KEY("method"), "\"none\": the section's other keys are not used (speculation off)");
    return;
  }
  if (c->method == SPEC_DRAFT && !*c->draft_model)
    sim_check_fail(ck, KEY("draft_model"), "missing (method \"draft\" needs a catalog model to draft with)");
  if (c->method != SPEC_DRAFT && *c->draft_model)
    sim_check_fail(ck, KEY("draft_model"), "given with method \"%s\", which drafts without a separate model "
                   "(expected method \"draft\", or no draft_model)", spec_method_names[c->method]);
  if (!c->has_k) {
    sim_check_fail(ck, KEY("num_speculative_tokens"), "missing (expected k >= 1 draft tokens per step)");
    return;
  }
  if (c->has_rate && c->nrates > 0) {
    sim_check_fail(ck, KEY("acceptance_rates"), "given with acceptance_rate (expected one of the two)");
    return;
  }
  if (!c->has_rate && c->nrates == 0) {
    sim_check_fail(ck, KEY("acceptance_rate"), "missing (expected a probability in [0, 1], or "
                   "acceptance_rates = [a1, ..., ak])");
    return;
  }
  if (c->nrates > 0 && c->nrates != c->k) {
    sim_check_fail(ck, KEY("acceptance_rates"), "%d values for num_speculative_tokens = %lld (expected one per "
                   "draft position)", c->nrates, (long long)c->k);
    return;
  }
  for (int i = 1; i <= c->k; i++) {
    double a = c->nrates > 0 ? c->acceptance_rates[i - 1] : c->acceptance_rate;
    c->cum[i] = c->cum[i - 1] * a;
    c->expected_tokens += c->cum[i];
  }
#undef KEY
}

void spec_section_check(spec_section *s, sim_check *ck)
{
  spec_cfg *c = &s->all;
  if (c->method == SPEC_NONE && s->nmodels > 0) {
    /* off but for the models listed: they take the keys written here */
    c->cum[0] = 1;
    c->expected_tokens = 1;
  } else {
    spec_check(c, "speculative", ck);
  }
  for (int i = 0; i < s->nmodels; i++)
    for (int j = 0; j < i; j++)
      if (!strcmp(s->models[i].model, s->models[j].model)) {
        char key[64];
        snprintf(key, sizeof key, "speculative.models.[%d].model", i);
        sim_check_fail(ck, key, "\"%s\" is listed twice (expected one entry per model)", s->models[i].model);
      }
}

/* The section's setting c, with entry e's written keys over it. */
static void merge(spec_cfg *out, const spec_cfg *c, const spec_cfg *e)
{
  *out = *c;
  out->model = e->model;
  if (e->has_method) {
    out->method = e->method;
    /* a method of its own does not inherit the section's draft model */
    if (e->method != SPEC_DRAFT) out->draft_model = "";
  }
  if (e->has_draft) out->draft_model = e->draft_model;
  if (e->has_k) {
    out->k = e->k;
    out->has_k = true;
  }
  if (e->has_rate || e->nrates > 0) {
    /* the entry's acceptance replaces the section's, in either form */
    out->has_rate = e->has_rate;
    out->acceptance_rate = e->acceptance_rate;
    out->nrates = e->nrates;
    memcpy(out->acceptance_rates, e->acceptance_rates, sizeof out->acceptance_rates);
  }
}

void spec_section_prepare(spec_section *s, const sim_catalogs *cats, const llm_arch *const *models, int nmodels,
                          sim_check *ck)
{
  int entry[SPEC_MAX_MODELS];
  char at[64], key[96];
  for (int j = 0; j < SPEC_MAX_MODELS; j++) entry[j] = -1;
  for (int i = 0; i < s->nmodels; i++) {
    snprintf(key, sizeof key, "speculative.models.[%d].model", i);
    const llm_arch *m = sim_catalog_require(cats, "models", "model", s->models[i].model, ck, key);
    if (!m) continue;
    int j = 0;
    while (j < nmodels && models[j] != m) j++;
    if (j == nmodels) {
      sim_check_fail(ck, key, "%s is not served here (expected model.name, or a model a pool or class names)",
                     m->name);
      continue;
    }
    if (entry[j] < 0) entry[j] = i; /* (twice: reported by spec_section_check) */
  }
  /* the section's own draft model, once: unknown is said once, not per model */
  bool top_draft_ok = true;
  if (s->all.method == SPEC_DRAFT && *s->all.draft_model &&
      !sim_catalog_find(cats, "models", s->all.draft_model)) {
    sim_catalog_require(cats, "models", "model", s->all.draft_model, ck, "speculative.draft_model");
    top_draft_ok = false;
  }
  s->any = false;
  for (int j = 0; j < nmodels && j < SPEC_MAX_MODELS; j++) {
    spec_cfg *c = &s->of[j];
    int i = entry[j];
    if (i < 0) {
      *c = s->all;
      c->entry = -1;
      c->draft = NULL;
      if (c->method == SPEC_NONE) continue;
      if (top_draft_ok) spec_resolve(c, "speculative", cats, models[j], ck);
    } else {
      merge(c, &s->all, &s->models[i]);
      c->entry = i;
      c->draft = NULL;
      if (c->method == SPEC_NONE) {
        /* off for this model: the section's keys serve the others */
        c->cum[0] = 1;
        c->expected_tokens = 1;
        continue;
      }
      snprintf(at, sizeof at, "speculative.models.[%d]", i);
      spec_check(c, at, ck);
      /* a draft model the entry names is reported there, an inherited one at the section's key */
      if (s->models[i].has_draft)
        spec_resolve(c, at, cats, models[j], ck);
      else if (top_draft_ok)
        spec_resolve(c, "speculative", cats, models[j], ck);
    }
    s->any = true;
  }
}

void spec_resolve(spec_cfg *c, const char *at, const sim_catalogs *cats, const llm_arch *target, sim_check *ck)
{
  c->draft = NULL;
  if (c->method != SPEC_DRAFT || !*c->draft_model) return;
  char key[128];
  snprintf(key, sizeof key, "%s.draft_model", at);
  const llm_arch *d = sim_catalog_require(cats, "models", "model", c->draft_model, ck, key);
  if (!d) return;
  if (d->encoder_only) {
    sim_check_fail(ck, key, "%s is an encoder: it cannot draft tokens", d->name);
    return;
  }
  if (d->vocab != target->vocab) {
    sim_check_fail(ck, key, "%s has a vocabulary of %lld tokens, %s %lld (a draft model shares the target's "
                   "tokenizer)", d->name, (long long)d->vocab, target->name, (long long)target->vocab);
    return;
  }
  c->draft = d;
}

bool spec_pool_prepare(const spec_cfg *c, spec_pool *sp, const llm_replica *tr, const stack_profile *stack,
                       double fixed_s, double mem_util, const char *key, sim_check *ck)
{
  const llm_arch *m = tr->model;
  sp->weights_bytes_gpu = sp->kv_bytes_token_gpu = 0;
  double kv_split = tr->tp < m->kv_heads ? (double)tr->tp : (double)m->kv_heads;
  switch ((spec_method)c->method) {
  case SPEC_NONE:
  case SPEC_NGRAM:
    return true;
  case SPEC_DRAFT: {
    const llm_arch *d = c->draft;
    if (!d) return false;
    if (tr->pp > 1 || tr->dp_attention > 1) {
      sim_check_fail(ck, key, "a draft model with pp %d and dp_attention %d (expected pp 1 and dp_attention 1: the "
                     "draft runs on the target's tp GPUs)", tr->pp, tr->dp_attention);
      return false;
    }
    if (d->heads % tr->tp != 0) {
      sim_check_fail_capacity(ck, key, "tensor parallelism of %d does not divide draft model %s's %lld attention "
                              "heads", tr->tp, d->name, (long long)d->heads);
      return false;
    }
    llm_replica_init(&sp->draft, d, tr->gpu, tr->dtype, tr->tp, 1, tr->tp_link, NULL, tr->overhead_s);
    stack_apply(stack, &sp->draft, fixed_s, mem_util);
    double dsplit = tr->tp < d->kv_heads ? (double)tr->tp : (double)d->kv_heads;
    sp->weights_bytes_gpu = llm_weights_bytes(d, tr->weight_bytes) / tr->tp;
    sp->kv_bytes_token_gpu = llm_kv_bytes_per_token(d, tr->kv_bytes) / dsplit;
    return true;
  }
  case SPEC_EAGLE:
  case SPEC_MTP: {
    /* one decoder layer of the target (a layer with experts for MoE) and
     * the 2h x h projection; KV of one layer */
    double h = (double)m->hidden;
    double layer = m->experts > 1 ? llm_layer_params(m) : llm_dense_layer_params(m);
    sp->weights_bytes_gpu = (layer + 2 * h * h) * tr->weight_bytes / tr->tp;
    sp->kv_bytes_token_gpu = llm_kv_bytes_per_token(m, tr->kv_bytes) / (double)m->layers / kv_split /
                             tr->dp_attention;
    return true;
  }
  }
  return true;
}

void spec_draft_step(const spec_cfg *c, const spec_pool *sp, const llm_replica *tr, const llm_batch *prefill,
                     const int32_t *n, int k, double ctx, spec_draft_cost *out)
{
  *out = (spec_draft_cost){0, 0, 0, 0};
  if (c->method == SPEC_NONE || c->method == SPEC_NGRAM) return;
  bool head = c->method == SPEC_EAGLE || c->method == SPEC_MTP;
  double layers = (double)tr->model->layers;
  for (int j = 1; j <= k || (j == 1 && prefill->prefill_tokens > 0); j++) {
    llm_batch b = {0};
    if (j == 1) {
      b.prefill_tokens = prefill->prefill_tokens;
      b.prefill_attended = prefill->prefill_attended;
      b.prefill_kv_read = prefill->prefill_kv_read;
      b.prefill_done = prefill->prefill_done;
      b.prefill_seqs = prefill->prefill_seqs;
    }
    if (j <= k && n[j] > 0) llm_batch_add_decode(&b, n[j], ctx + j - 1);
    if (b.prefill_tokens + b.decode_seqs <= 0) break;
    llm_step_cost s;
    if (head) {
      /* one layer of the target's step, and its output head */
      llm_step(tr, &b, &s);
      double g = (s.linear_s + s.attention_s + s.comm_s) / layers + s.head_s;
      out->total_s += g;
      out->gpu_s += g;
      double frac = s.gpu_s > 0 ? g / s.gpu_s : 0;
      out->flops += s.flops * frac;
      out->bytes += s.bytes * frac;
    } else {
      llm_step(&sp->draft, &b, &s);
      out->total_s += s.total_s;
      out->gpu_s += s.gpu_s;
      out->flops += s.flops;
      out->bytes += s.bytes;
    }
  }
}
