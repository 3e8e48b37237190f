/* models/serving/speculative.h: speculative decoding in the serving
 * simulation, as vLLM runs it: the scenario's `speculative` section (its
 * keys, their checks), each pool's drafter (a draft model from the catalog
 * on the same GPUs and tp as the target, or a head of the target: EAGLE,
 * MTP; or n-gram prompt lookup, which costs no GPU time), what drafting
 * costs per step, and how many of a step's draft tokens are accepted.
 *
 * Model (Leviathan et al., "Fast Inference from Transformers via
 * Speculative Decoding", ICML 2023; vLLM's speculative decoding): each
 * decode step of a sequence proposes d <= k draft tokens, then one forward
 * of the target verifies them over d + 1 query positions (the compute
 * core's step with those tokens: llm_batch_add_verify). Draft position i
 * is accepted with probability a_i given all before it were; the sequence
 * keeps the accepted ones plus the target's own next token (the bonus),
 * so a step emits accepted + 1 tokens, E = 1 + sum_i prod_{j<=i} a_j.
 * The KV cache reserves d + 1 slots per sequence for the step and keeps
 * accepted + 1. d = min(k, tokens the request still has to make - 1):
 * nothing is drafted past the request's last token. Nothing here knows
 * replicas, requests or time: the scheduler (serving_sched.c) asks.
 *
 * Several models: the section applies to every model the scenario serves;
 * `speculative.models = ( { model = NAME; ...keys... } )` overrides it for
 * one model, each key it does not write taken from the section (a
 * self-drafting method drafts each target with its own head and its own
 * acceptance; a draft model must share the target's vocabulary). A replica
 * holding model j speculates as its effective setting of[j] says; the
 * drafter's weights count with the target's (a weight swap loads both).
 *
 * LoRA: the adapters apply to the target only - its verification step
 * pays the adapters' cost for every verified token - and the drafter runs
 * unadapted, as vLLM (PR #11966 for V0, January 2025: "the LoRA adapter
 * should be only applied to the target model and temporarily disabled for
 * the draft model"; PR #21068, V1 on GPU, July 2025) and SGLang (PR
 * #34337: "adapters apply to the target model only; one shared draft runs
 * unadapted ... only the accept rate is affected") run it. A base drafter
 * usually matches an adapted target less often: the acceptance is the
 * user's to set (per model, `speculative.models`). */
#ifndef SPECULATIVE_H
#define SPECULATIVE_H

#include <stdbool.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "models/llm/llm_step.h"
#include "models/stack/stack.h"
#include "sim/component.h"
#include "sim/schema.h"

/* Most draft tokens per step (vLLM's examples use 1-10); most models
 * (entries of `speculative.models`, and models served). */
enum { SPEC_MAX_TOKENS = 32, SPEC_MAX_MODELS = 8 };

typedef enum { SPEC_NONE, SPEC_DRAFT, SPEC_NGRAM, SPEC_EAGLE, SPEC_MTP } spec_method;
extern const char *const spec_method_names[];

/* The section as written, and prepared (cum). */
typedef struct {
  int method;                                /* spec_method */
  const char *draft_model;                   /* "": none written */
  int64_t k;                                 /* num_speculative_tokens */
  double acceptance_rate;                    /* fixed a for every position */
  double acceptance_rates[SPEC_MAX_TOKENS];  /* or one per position */
  int nrates;
  bool has_k, has_rate;                      /* written */
  const char *model;                         /* an entry of `models`: the model it is for */
  bool has_method, has_draft;                /* an entry of `models`: written */
  /* prepared */
  const llm_arch *draft;                     /* method draft: the catalog's model */
  double cum[SPEC_MAX_TOKENS + 1];           /* cum[i] = P(the first i drafts all accepted) = prod_{j<=i} a_j; cum[0] = 1 */
  double expected_tokens;                    /* E tokens per step at d = k: sum_{i=0..k} cum[i] */
  int entry;                                 /* spec_section.of[j]: its entry of `models`, -1 the section's */
} spec_cfg;

/* The `speculative` section: its own keys (every model's), the entries
 * overriding them for one model each, and (prepared) each model's
 * effective setting, indexed as the serving simulation's models. */
typedef struct {
  spec_cfg all;                              /* first: the section's keys */
  spec_cfg models[SPEC_MAX_MODELS];
  int nmodels;
  /* prepared */
  spec_cfg of[SPEC_MAX_MODELS];              /* model j's */
  bool any;                                  /* some model speculates */
} spec_section;

/* A pool's drafter, prepared. */
typedef struct {
  llm_replica draft;                /* method draft: the draft model on the pool's GPUs, tp and stack */
  double weights_bytes_gpu;         /* drafter weights per GPU (draft model, or the head) */
  double kv_bytes_token_gpu;        /* drafter KV per token per GPU */
} spec_pool;

/* The keys of the `speculative` section (offsets in spec_section). */
extern const sim_key spec_keys[];

/* Speculation is on. */
static inline bool spec_on(const spec_cfg *c) { return c->method != SPEC_NONE; }

/* Checks between the section's keys (`at`: its path, "speculative"):
 * acceptance given once and with k entries, draft_model given with the
 * draft method only. Fills cum. */
void spec_check(spec_cfg *c, const char *at, sim_check *ck);

/* The section's checks (at "speculative"): its own keys as spec_check
 * (unless speculation is off there and entries follow, which take the
 * keys written), no model listed twice among the entries. */
void spec_section_check(spec_section *s, sim_check *ck);

/* Each model's effective setting (of[j] for models[j], j < nmodels): the
 * section's keys, overridden by the entry naming the model (an entry
 * naming no model served is reported at speculative.models.[i].model);
 * checked as spec_check, its draft model resolved against models[j].
 * Sets any. */
void spec_section_prepare(spec_section *s, const sim_catalogs *cats, const llm_arch *const *models, int nmodels,
                          sim_check *ck);

/* Resolve the draft model from the catalog (method draft; reported at
 * at.draft_model when unknown or not fit to draft for `target`). */
void spec_resolve(spec_cfg *c, const char *at, const sim_catalogs *cats, const llm_arch *target, sim_check *ck);

/* Prepare pool `key`'s drafter against its target replica tr (after its
 * stack is applied): the draft model's replica on the same GPUs, tp and
 * stack (`fixed_s` and `mem_util` as for stack_apply), its weights and KV
 * per GPU; the head's for EAGLE/MTP (one decoder layer of the target plus
 * EAGLE's 2h x h feature projection). False after reporting a problem. */
bool spec_pool_prepare(const spec_cfg *c, spec_pool *sp, const llm_replica *tr, const stack_profile *stack,
                       double fixed_s, double mem_util, const char *key, sim_check *ck);

/* What drafting costs in one step. */
typedef struct {
  double total_s;  /* added to the step */
  double gpu_s;    /* of which in GPU kernels */
  double flops, bytes;
} spec_draft_cost;

/* Drafting for one step: pass j (1..k) proposes the j-th draft token of
 * the n[j] sequences drafting at least j (n[1] >= n[2] >= ...), at mean
 * context ctx + j - 1; the first pass also runs the step's prompt chunks
 * (prefill: the prefill fields of the target's batch) so that the drafter
 * holds their KV. Draft model: each pass is a step of the draft replica
 * (host time included); EAGLE/MTP: one layer of the target's step plus
 * its output head, GPU time only; n-gram: nothing. */
void spec_draft_step(const spec_cfg *c, const spec_pool *sp, const llm_replica *tr, const llm_batch *prefill,
                     const int32_t *n, int k, double ctx, spec_draft_cost *out);

/* Draft tokens accepted of d <= k proposed, from one uniform draw of rng:
 * the largest i <= d with u < cum[i]. */
static inline int spec_accepted(const spec_cfg *c, int d, gsl_rng *rng)
{
  double u = gsl_rng_uniform(rng);
  int a = 0;
  while (a < d && u < c->cum[a + 1]) a++;
  return a;
}

#endif
