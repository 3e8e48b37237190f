/* models/serving/serving.h: the serving simulation's settings, as the
 * scenario's sections fill them (model, cluster, workload, router,
 * scheduler, cost, slo, output, speculative; key tables in serving_keys.c) and as
 * prepare completes them from the catalogs (GPU specs, the model, memory,
 * KV-cache capacity, traces). The simulation itself is serving_sim.c (the
 * component: arrivals, routing, statistics, outputs) and serving_sched.c
 * (one replica's batching policy, step by step). */
#ifndef SERVING_H
#define SERVING_H

#include <stdbool.h>
#include <stdint.h>

#include "models/autoscale/autoscale.h"
#include "models/cost/provider.h"
#include "models/gpu/gpu.h"
#include "models/llm/llm.h"
#include "models/llm/llm_step.h"
#include "models/serving/speculative.h"
#include "models/stack/stack.h"
#include "models/workload/wl.h"
#include "sim/component.h"
#include "sim/trace_data.h"

enum { SRV_MAX_POOLS = 8, SRV_MAX_CLASSES = 8, SRV_MAX_VALUES = 256, SRV_MAX_MODELS = 8 };

typedef enum { SRV_STATIC, SRV_DYNAMIC, SRV_CONTINUOUS, SRV_CHUNKED } srv_policy;
typedef enum { SRV_PREEMPT_RECOMPUTE, SRV_PREEMPT_SWAP } srv_preempt;
/* A pool's part in prefill/decode disaggregation (serving_pd.c): both
 * (colocated, the default), prefill only (its KV then moves to a decode
 * replica), decode only (it takes prefilled requests). */
typedef enum { SRV_ROLE_BOTH, SRV_ROLE_PREFILL, SRV_ROLE_DECODE } srv_role;
extern const char *const srv_role_names[];

/* Tokens per request: { dist = "lognormal"; mean = 800; cv = 1.2; } */
typedef struct {
  int dist;                         /* wl_size_kind */
  int64_t value, min, max;
  double mean, sd, cv;
  double values[SRV_MAX_VALUES];    /* empirical */
  int nvalues;
  int64_t ivalues[SRV_MAX_VALUES];  /* prepared: values as integers */
} srv_size_cfg;

typedef struct {
  const char *file, *time_column, *prompt_column, *output_column;
  const char *session_column;       /* "": none; else each row's conversation (serving_session.c) */
  double time_scale, offset_s;
  bool truncate;                    /* cut rows longer than the context instead of rejecting them */
} srv_trace_cfg;

/* Conversations: each arrival starts one of `turns` turns; a turn's prompt
 * is the system prompt, the conversation so far and a new message
 * (prompt_tokens); the next turn is sent a think time (exponential, mean
 * think_time_s; 0: at once, an agent's chain of calls) after the answer. */
typedef struct {
  srv_size_cfg turns;
  bool has_turns;
  double think_time_s;
} srv_session_cfg;

/* Shared system prompts: `count` of them, `tokens` long, the one a request
 * (or conversation) uses drawn with probability ~ 1 / rank^zipf. */
typedef struct {
  int64_t tokens, count;
  double zipf;
} srv_sysprompt_cfg;

/* Prompts reused as benchmark harnesses reuse them: `size` prompts drawn
 * once from prompt_tokens and sent in turn; split into `groups` groups
 * whose prompts start with the group's shared_prefix_tokens tokens (as
 * SGLang's generated-shared-prefix benchmark). */
typedef struct {
  int64_t size, groups, shared_prefix_tokens;
} srv_prompt_pool_cfg;

/* LoRA adapters a class's requests use: `adapters` of rank `rank` on its
 * model, a request's drawn with probability ~ 1 / rank^zipf (0: uniform);
 * experts: on a mixture of experts, the routed experts adapted too. */
typedef struct {
  int64_t adapters, rank;
  double zipf;
  bool experts;
} srv_lora_cfg;

/* One request class: arrivals (a process or a trace), sizes, priority and
 * latency targets. */
typedef struct {
  const char *name;
  int64_t priority;                 /* higher is served first */
  int64_t pool;                     /* served only by this pool (-1: by any) */
  double pools[SRV_MAX_POOLS];      /* or by these (pool numbers) */
  int npools;
  uint32_t pool_mask;               /* prepared: the pools that may serve it (bit i: pool i; 0: any) */
  bool has_arrivals, has_trace, has_prompt, has_output;
  int process;                      /* wl_arrivals_kind */
  wl_arrivals_params arr;
  int n_mmpp_rates, n_mmpp_sojourn;
  srv_size_cfg prompt, output;
  srv_trace_cfg trace;
  double slo_ttft_s, slo_tpot_s, slo_e2e_s;  /* 0: the slo section's */
  double timeout_s;                 /* the client gives up this long after sending (0: never) */
  bool has_sessions, has_system_prompt, has_prompt_pool;
  srv_session_cfg sessions;
  srv_sysprompt_cfg system_prompt;
  srv_prompt_pool_cfg prompt_pool;
  bool truncate;                    /* sampled sizes: cut requests longer than the context instead of rejecting them */
  const char *model;                /* the model it asks for (catalog name; "": model.name) */
  bool has_lora;
  srv_lora_cfg lora;                /* its requests' LoRA adapters (has_lora) */
  /* prepared */
  int model_idx;                    /* its model: index into srv_params.models */
  int64_t context;                  /* its model's longest request (prompt + output) */
  int32_t lora_base;                /* its adapters' ids: lora_base .. + lora.adapters - 1 */
  double lora_bytes, lora_flops_tok; /* one adapter's bytes and FLOPs per token (whole replica) */
  sim_trace tr;                     /* owned when has_trace */
  int64_t too_long_rows;            /* trace: rows whose prompt + output exceed the context */
  bool cut;                         /* truncate, or trace.truncate for a trace */
  double mix_weight;                /* share of the run's expected arrivals (the saturation probe's mix) */
  wl_size_params prompt_p, output_p;
  wl_size_params turns_p;           /* sessions: turns per conversation */
  double ttft_target, tpot_target, e2e_target;  /* effective, 0: none */
} srv_class_cfg;

/* Batching settings: the scheduler section as written, and each pool's
 * effective copy (prepare: a key the scenario writes, else the pool's
 * stack's default, else the key's default). */
typedef struct {
  int policy;                       /* srv_policy */
  int64_t max_num_seqs, max_batched_tokens, block_size, batch_size, max_batch_size, max_queue;
  int64_t num_scheduler_steps;      /* continuous policies: decode steps per scheduling (vLLM's multi-step) */
  double batch_timeout_s, max_queue_delay_s, watermark, step_overhead_s;
  int preemption;                   /* srv_preempt */
  bool streaming;                   /* tokens reach the client as made (static never streams) */
  bool prefix_caching;              /* continuous policies: reuse cached KV blocks of a prompt's prefix */
  /* the prefix cache's lower tiers (prefix_tier.h), per GPU: host memory
   * and local SSD in GB (0: none), host-link and SSD read bandwidth in
   * GB/s (host 0: the GPU's host link from the catalog) */
  double prefix_cache_host_gb, prefix_cache_ssd_gb, prefix_cache_host_gbs, prefix_cache_ssd_gbs;
  const char *stack;                /* serving stack (catalog name) */
  /* written in the scenario or by --set (not defaulted): these win over a stack */
  bool has_policy, has_max_num_seqs, has_max_batched_tokens, has_block_size, has_step_overhead_s;
  bool has_prefix_caching;
  /* prepared (a pool's copy) */
  int64_t batched_tokens;           /* effective max_batched_tokens */
} srv_sched_cfg;

/* What a reactive autoscaler holds at its target (serving_scale.c). */
typedef enum {
  SRV_METRIC_CAPACITY,   /* offered load over the ready replicas' saturation rate */
  SRV_METRIC_RUNNING,    /* running sequences per ready replica */
  SRV_METRIC_KV,         /* KV-cache fraction in use, mean over ready replicas */
  SRV_METRIC_QUEUE,      /* waiting requests per ready replica */
  SRV_METRIC_TTFT_P99    /* p99 TTFT of the pool's first tokens over the interval (s) */
} srv_scale_metric;
extern const char *const srv_scale_metric_names[];

/* Many models on one fleet (serving_models.c): how replicas of pools
 * listing several models change the model they hold. */
typedef enum {
  SRV_SWAP_LRU,          /* a model no replica holds takes the least recently used replica */
  SRV_SWAP_POPULARITY,   /* ... the replica whose model has the least demand per holding replica */
  SRV_SWAP_STATIC        /* no swaps: replicas keep the models they start with */
} srv_swap_policy;
extern const char *const srv_swap_policy_names[];

/* One model as a pool's replica holds it (prepared): its layout on the
 * pool's GPUs, KV-cache blocks, memory and the time to load its weights
 * in a swap. */
typedef struct {
  llm_replica lr;
  int64_t kv_blocks;
  double weights_gib, activations_gib;
  double swap_s;
  int64_t tier_host_blocks, tier_ssd_blocks;  /* its prefix cache's lower tiers, in its blocks */
  double tier_block_bytes;
  spec_pool spec;                   /* its drafter (its speculation on; weights_gib and swap_s count it) */
} srv_pool_model;

/* Where a new replica's weights come from (its load bandwidth's default). */
typedef enum { SRV_WEIGHTS_OBJECT_STORAGE, SRV_WEIGHTS_NVME, SRV_WEIGHTS_HOST_MEMORY } srv_weights_from;
extern const char *const srv_weights_from_names[];

typedef struct {
  const char *gpu, *node_link, *net_link;
  const char *stack;                /* "": scheduler.stack */
  double gpu_memory_utilization;    /* 0: the stack's */
  int64_t num_gpu_blocks;           /* 0: computed from memory */
  int64_t replicas, tp, pp, gpus_per_node;
  int64_t dp_attention, ep;         /* ep 0: tp x dp_attention when dp_attention > 1, else 1 */
  int64_t expert_slots;             /* 0: the model's experts */
  double expert_imbalance;          /* 0: the balls-into-bins floor (balanced, EPLB) */
  bool fp8_dispatch;
  double usd_per_gpu_hour;          /* 0: the cost section's or the catalog's */
  /* elastic: an autoscaler, what a new replica waits for, how it is billed */
  bool has_autoscale;               /* an autoscale group was written */
  as_cfg as;                        /* its policy and limits */
  int as_metric;                    /* srv_scale_metric (reactive) */
  double as_interval_s;             /* decide this often */
  double as_lead_s;                 /* predictive: look this far ahead (< 0: the replica's start-up delay) */
  double startup_s, weights_load_gbs, warmup_s;  /* weights_load_gbs 0: weights_from's */
  int weights_from;                 /* srv_weights_from */
  double billing_increment_s, billing_minimum_s;
  double interruptions_per_hour;    /* spot: per replica, Poisson (0: never) */
  double interruption_notice_s;     /* warning before an interrupted replica goes */
  const char *provider;             /* "": none (providers catalog) */
  int pricing;                      /* cost_pricing */
  int role;                         /* srv_role */
  sim_names models;                 /* the models it may hold (catalog names; none: model.name) */
  int64_t max_loras;                /* distinct LoRA adapters in a batch (0: the stack's) */
  /* written in the scenario (not defaulted): these win over the provider's */
  bool has_startup_s, has_billing_increment_s, has_billing_minimum_s, has_interruptions_per_hour,
      has_interruption_notice_s;
  /* prepared */
  int64_t slots;                    /* replicas it may ever run at once (max_replicas, else replicas) */
  double ready_delay_s;             /* request to ready: startup + weights / bandwidth + warm-up */
  const gpu_spec *g;
  const net_link *node, *net;
  llm_replica lr;
  int64_t kv_blocks;                /* per replica */
  /* the prefix cache's tiers below the GPU (scheduler.prefix_cache_host_gb;
   * host_blocks 0: none): capacities in blocks, a block's bytes per GPU,
   * the bandwidths (bytes/s) and latency (s) of a load */
  int64_t tier_host_blocks, tier_ssd_blocks;
  double tier_block_bytes, tier_host_bw, tier_ssd_bw, tier_alpha_s;
  double price;                     /* USD per GPU-hour, NaN: unknown */
  const cost_provider *prov;        /* its provider's offer of its GPU, NULL: none */
  double usd_per_kwh;               /* electricity it pays for (owned: cost.usd_per_kwh or the default) */
  double weights_gib, activations_gib;
  const stack_profile *sp;          /* its stack */
  srv_sched_cfg sched;              /* its effective scheduler settings */
  double frontend_s;                /* front-end time added to its requests' TTFT and end-to-end latency */
  spec_pool spec;                   /* its first model's drafter (var[j].spec: each model's) */
  uint32_t model_mask;              /* the models it may hold (bit j: srv_params.models[j]) */
  int first_model;                  /* the first of them: lr, kv_blocks, weights_gib are its */
  srv_pool_model var[SRV_MAX_MODELS]; /* each model it may hold, as it holds it */
  int64_t place[SRV_MAX_MODELS];    /* replicas that start holding each model (the first `replicas`) */
  int lora_slots;                   /* effective max_loras */
} srv_pool_cfg;

/* A pool whose replicas come and go (an autoscaler, or spot capacity):
 * billed per replica, its energy from its replica-time books. */
static inline bool srv_pool_elastic(const srv_pool_cfg *pl)
{
  return pl->as.policy != AS_NONE || pl->interruptions_per_hour > 0;
}

typedef struct {
  struct {
    const char *name;
    int precision;                  /* gpu_precision */
    int64_t max_context;            /* 0: the model's */
  } model;
  srv_pool_cfg pools[SRV_MAX_POOLS];
  int npools;
  const char *kv_transfer_link;     /* cluster.kv_transfer_link ("": each prefill pool's net_link) */
  struct {
    int policy;                     /* srv_swap_policy */
    int from;                       /* srv_weights_from */
    double load_gbs;                /* per replica, GB/s (0: from's; host-memory: each GPU's host link) */
    double popularity_window_s;     /* popularity: demand is arrivals over about this long */
  } swap;                           /* cluster.weight_swap */
  struct {
    srv_class_cfg direct;           /* class keys written in workload itself */
    srv_class_cfg listed[SRV_MAX_CLASSES];
    int nlisted;
    double duration_s;              /* arrivals stop then; 0: never */
    double load_scale;              /* every class's rate times this (traces replay faster) */
    int64_t requests;               /* arrivals stop after this many; 0: no limit */
  } wl;
  struct { int policy; } router;    /* index into route_types */
  srv_sched_cfg sched;              /* as written; each pool has its effective copy */
  struct { double usd_per_gpu_hour, usd_per_kwh, pue, amortization_years; } cost;
  struct { double ttft_s, tpot_s, e2e_s, percentile; } slo;
  struct { double interval_s; bool requests; } output;
  spec_section spec;                /* speculative decoding (speculative.h): spec.of[j] is models[j]'s */
  /* prepared */
  const llm_arch *m;                /* models[0] */
  int64_t context;                  /* max tokens of a request (prompt + output), of m */
  const llm_arch *models[SRV_MAX_MODELS];  /* model.name, then those the pools and classes name */
  int64_t model_context[SRV_MAX_MODELS];
  int nmodels;
  bool swapping;                    /* some pool may hold several models: replicas swap weights */
  int64_t lora_total;               /* LoRA adapters of all classes (0: none) */
  int64_t batched_tokens;           /* pool 0's effective max_batched_tokens */
  srv_class_cfg *classes;           /* wl.listed, or &wl.direct */
  int nclasses;
  bool pd;                          /* some pool's role is prefill: disaggregated (serving_pd.c) */
  const net_link *kv_link;          /* the KV transfer link (NULL: each prefill pool's net) */
  bool probe;                       /* a saturation probe's copy (serving_capacity.c): no arrivals of its own */
} srv_params;

_Static_assert((int)SRV_MAX_MODELS <= (int)SPEC_MAX_MODELS, "speculative.h: a setting per model served");

extern const sim_component_type serving_component;

#endif
