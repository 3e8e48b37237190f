/* models/stack/stack.h: serving stacks (vLLM, SGLang, TensorRT-LLM, ...) as
 * catalog entries (`stacks`, models/catalog/stacks.cfg): what a stack adds to
 * the GPU time of a step (host time, kernel launches outside CUDA graphs,
 * tensor-parallel worker processes), which all-reduce and efficiency
 * models it asks for, its memory accounting and its scheduler defaults,
 * and the per-request front-end time outside the engine's steps. A stack
 * is looked up at set-up; stack_apply copies its numbers into an
 * llm_replica, so nothing is looked up per step. */
#ifndef STACK_H
#define STACK_H

#include <stdbool.h>
#include <stdint.h>

#include "models/llm/llm_step.h"
#include "sim/catalog.h"

/* The default stack: today's ideal engine (0.5 ms per step, CUDA graphs
 * everywhere, datasheet memory). */
#define STACK_DEFAULT "ideal"

/* Scheduler policies a stack may default to (the serving policies of the
 * same names). */
enum { STACK_POLICY_CONTINUOUS, STACK_POLICY_CHUNKED };
/* gpu_memory_utilization is a share of the memory the runtime sees (vLLM,
 * SGLang), or of what is free after weights and activations (TensorRT-LLM's
 * free_gpu_memory_fraction). */
enum { STACK_MEMORY_TOTAL, STACK_MEMORY_FREE };

typedef struct {
  const char *name;
  sim_names aliases;
  const char *description;
  const char *version;              /* engine versions the profile describes */
  /* host time per step: fixed + per sequence + per new token */
  double host_fixed_s, host_per_seq_s, host_per_token_s;
  bool host_overlap;                /* async scheduling: step = max(GPU, host) + exposed */
  double host_exposed_s;            /* with overlap: the part that never hides */
  /* per request, outside the steps */
  double frontend_request_s;        /* API server and tokenisation, before the engine sees it */
  double frontend_token_s;          /* detokenisation and streaming of a token to the client */
  /* kernel launches */
  int graphs;                       /* LLM_GRAPHS_* */
  int64_t graph_max_tokens;         /* steps of up to this many tokens are graphed (0: any) */
  double launch_per_layer_s;        /* launch cost per layer of a step that is not graphed */
  double tp_worker_s;               /* per step with tp > 1: the batch sent to worker processes */
  /* collectives and efficiency models */
  int allreduce;                    /* LLM_AR_* */
  double custom_ar_max_bytes;       /* custom all-reduce up to this message size, NVLink only */
  int collectives;                  /* LLM_COLLECTIVES_* */
  int gemm;                         /* LLM_GEMM_* */
  /* memory */
  double gpu_memory_utilization;
  int memory_of;                    /* STACK_MEMORY_*: what the utilization is a share of */
  double cuda_context_gib;          /* per GPU, not seen by the runtime: subtracted before the utilization */
  double non_torch_gib;             /* per GPU, counted against the budget: workspaces, NCCL buffers */
  double cuda_graph_gib;            /* per GPU, set aside for captured graphs */
  /* scheduler defaults */
  int policy;                       /* STACK_POLICY_* */
  int64_t max_batched_tokens;       /* 0: the simulator's rule (max(context, 2048); chunked 2048) */
  int64_t max_num_seqs, block_size;
  bool prefix_caching;              /* scheduler.prefix_caching default */
  /* sources */
  const char *source, *host_source, *frontend_source, *graphs_source, *collective_source, *memory_source,
      *scheduler_source;
} stack_profile;

extern const sim_catalog_type stack_catalog;
extern const char *const stack_graphs_names[], *const stack_allreduce_names[],
    *const stack_collectives_names[], *const stack_gemm_names[], *const stack_policy_names[],
    *const stack_memory_names[];

/* Copy p's step and memory numbers into r (after llm_replica_init), and
 * prepare r's GEMM tables (llm_replica_prepare). When
 * `fixed_s` >= 0 (scheduler.step_overhead_s or --overhead-ms given), it
 * replaces the profile's fixed host time; `gpu_memory_utilization` > 0
 * replaces the profile's. */
void stack_apply(const stack_profile *p, llm_replica *r, double fixed_s, double gpu_memory_utilization);

/* The stack named `name`, or NULL after reporting against `key`. */
const stack_profile *stack_require(const sim_catalogs *cats, const char *name, sim_check *ck, const char *key);

#endif
