/* models/stack/stack.c: the `stacks` catalog type (keys, checks,
 * `clustersim list stacks`) and stack_apply, which copies a profile into
 * a replica at set-up (see stack.h). */
#include "models/stack/stack.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define GIB 1073741824.0

/* In the order of the LLM_* and STACK_POLICY_* enums. */
const char *const stack_graphs_names[] = {"none", "decode", "all", NULL};
const char *const stack_allreduce_names[] = {"nccl", "custom", NULL};
const char *const stack_collectives_names[] = {"alpha-beta", "measured", NULL};
const char *const stack_gemm_names[] = {"flat", "shape", NULL};
const char *const stack_policy_names[] = {"continuous", "chunked-prefill", NULL};
const char *const stack_memory_names[] = {"total", "free", NULL};

#define F(field, key, lo, hi, unit_, help_) \
  {.name = key, .kind = SIM_KEY_FLOAT, .offset = offsetof(stack_profile, field), .required = true, .min = lo, \
   .max = hi, .unit = unit_, .help = help_}
#define I(field, key, lo, hi, help_) \
  {.name = key, .kind = SIM_KEY_INT, .offset = offsetof(stack_profile, field), .required = true, .min = lo, \
   .max = hi, .help = help_}
#define E(field, key, names, help_) \
  {.name = key, .kind = SIM_KEY_ENUM, .offset = offsetof(stack_profile, field), .required = true, \
   .choices = names, .help = help_}
#define S(field, key, req, help_) \
  {.name = key, .kind = SIM_KEY_STRING, .offset = offsetof(stack_profile, field), .required = req, \
   .def_str = "", .help = help_}

static const sim_key stack_keys[] = {
  S(name, "name", true, "catalog name, lowercase and hyphenated"),
  {.name = "aliases", .kind = SIM_KEY_NAMES, .offset = offsetof(stack_profile, aliases), .help = "other names"},
  S(description, "description", false, "free text"),
  S(version, "version", true, "engine versions the profile describes"),
  F(host_fixed_s, "host_fixed_s", 0, 10, "s", "host time per step: fixed part (scheduler.step_overhead_s replaces it)"),
  F(host_per_seq_s, "host_per_seq_s", 0, 1, "s", "host time per step: per sequence that emits a token"),
  F(host_per_token_s, "host_per_token_s", 0, 1, "s", "host time per step: per token the step computes"),
  {.name = "host_overlap", .kind = SIM_KEY_BOOL, .offset = offsetof(stack_profile, host_overlap), .required = true,
   .help = "asynchronous scheduling: step = max(GPU, host) + host_exposed_s; false: GPU + host"},
  F(host_exposed_s, "host_exposed_s", 0, 10, "s", "with host_overlap: host time per step that never hides"),
  F(frontend_request_s, "frontend_request_s", 0, 100, "s",
    "per request: API server and tokenisation before the engine (adds to TTFT and end-to-end latency)"),
  F(frontend_token_s, "frontend_token_s", 0, 10, "s",
    "per token: detokenisation and streaming to the client (delays every token alike: TTFT and end-to-end, "
    "not TPOT)"),
  E(graphs, "cuda_graphs", stack_graphs_names, "steps run as CUDA graphs: none, decode (decode-only steps) or all"),
  I(graph_max_tokens, "graph_max_tokens", 0, 1e9, "graphs are captured for steps of up to this many tokens (0: any)"),
  F(launch_per_layer_s, "launch_per_layer_s", 0, 1, "s", "kernel launch time per layer of a step not graphed"),
  F(tp_worker_s, "tp_worker_s", 0, 1, "s", "per step with tp > 1: the batch sent to tensor-parallel worker processes"),
  E(allreduce, "allreduce", stack_allreduce_names,
    "tensor-parallel all-reduce: nccl, or custom (one-shot/two-shot on NVLink up to custom_allreduce_max_bytes)"),
  F(custom_ar_max_bytes, "custom_allreduce_max_bytes", 0, 1e12, "B", "largest message of the custom all-reduce"),
  E(collectives, "collectives", stack_collectives_names, "collective pricing: alpha-beta or measured"),
  E(gemm, "gemm", stack_gemm_names, "linear-layer efficiency: flat (one per GPU) or shape"),
  F(gpu_memory_utilization, "gpu_memory_utilization", 0.01, 1, NULL,
    "share of the memory the runtime sees that the engine may use (pool key gpu_memory_utilization)"),
  E(memory_of, "memory_fraction_of", stack_memory_names,
    "gpu_memory_utilization is a share of: total (the memory the runtime sees) or free (after weights and "
    "activations, as TensorRT-LLM's free_gpu_memory_fraction)"),
  F(cuda_context_gib, "cuda_context_gib", 0, 64, "GiB",
    "per GPU: device memory the runtime does not see (driver, CUDA context); before the utilization"),
  F(non_torch_gib, "non_torch_gib", 0, 64, "GiB", "per GPU: memory outside the allocator (cuBLAS, NCCL) in the budget"),
  F(cuda_graph_gib, "cuda_graph_gib", 0, 64, "GiB", "per GPU: memory set aside for captured CUDA graphs"),
  E(policy, "policy", stack_policy_names, "scheduler.policy default: continuous or chunked-prefill"),
  I(max_batched_tokens, "max_batched_tokens", 0, 1e8,
    "scheduler.max_batched_tokens default (0: max(context, 2048); chunked-prefill 2048)"),
  I(max_num_seqs, "max_num_seqs", 1, 65536, "scheduler.max_num_seqs default"),
  I(block_size, "block_size", 1, 4096, "scheduler.block_size default (KV-cache block, tokens)"),
  {.name = "prefix_caching", .kind = SIM_KEY_BOOL, .offset = offsetof(stack_profile, prefix_caching), .def = 0,
   .help = "scheduler.prefix_caching default: the engine keeps and reuses KV blocks of prompt prefixes"},
  S(source, "source", true, "the engine's repository or documentation at the named version"),
  S(host_source, "host_source", true, "where the host times come from"),
  S(frontend_source, "frontend_source", true, "where the front-end times come from"),
  S(graphs_source, "graphs_source", true, "where the CUDA-graph settings and launch cost come from"),
  S(collective_source, "collective_source", true, "where the all-reduce choice comes from"),
  S(memory_source, "memory_source", true, "where the memory settings come from"),
  S(scheduler_source, "scheduler_source", true, "where the scheduler defaults come from"),
  SIM_KEY_END,
};

static void stack_check(const void *entry, sim_check *ck)
{
  const stack_profile *p = entry;
  if (p->allreduce == LLM_AR_CUSTOM && p->custom_ar_max_bytes <= 0)
    sim_check_fail(ck, "custom_allreduce_max_bytes", "must be > 0 with allreduce = \"custom\"");
  if (!p->host_overlap && p->host_exposed_s > 0)
    sim_check_fail(ck, "host_exposed_s", "only with host_overlap = true (without overlap all host time adds)");
  if (p->cuda_context_gib + p->non_torch_gib + p->cuda_graph_gib >= 64)
    sim_check_fail(ck, "cuda_graph_gib", "context, non-torch and graph memory add up to %g GiB (expected < 64)",
                   p->cuda_context_gib + p->non_torch_gib + p->cuda_graph_gib);
}

static void stack_line(const void *entry, char *buf, size_t n)
{
  const stack_profile *p = entry;
  char graphs[32];
  if (p->graphs != LLM_GRAPHS_NONE && p->graph_max_tokens > 0)
    snprintf(graphs, sizeof graphs, "%s<=%lld", stack_graphs_names[p->graphs], (long long)p->graph_max_tokens);
  else
    snprintf(graphs, sizeof graphs, "%s", stack_graphs_names[p->graphs]);
  snprintf(buf, n, "%-13s %7.2f %-5s %-12s %-6s %5.2f  %-15s %6lld %5lld  %s", p->name, p->host_fixed_s * 1e3,
           p->host_overlap ? "async" : "sync", graphs, stack_allreduce_names[p->allreduce],
           p->gpu_memory_utilization, stack_policy_names[p->policy], (long long)p->max_batched_tokens,
           (long long)p->max_num_seqs, p->version);
}

static const char *const stack_source_keys[] = {
  "source", "host_source", "frontend_source", "graphs_source", "collective_source", "memory_source",
  "scheduler_source", NULL,
};

const sim_catalog_type stack_catalog = {
  .list = "stacks",
  .what = "stack",
  .schema = stack_keys,
  .entry_size = sizeof(stack_profile),
  .name_offset = offsetof(stack_profile, name),
  .aliases_offset = offsetof(stack_profile, aliases),
  .check = stack_check,
  .source_keys = stack_source_keys,
  .list_header = "name          host ms step  graphs       allred  mem    policy          tokens  seqs  version",
  .list_line = stack_line,
};

void stack_apply(const stack_profile *p, llm_replica *r, double fixed_s, double gpu_memory_utilization)
{
  r->overhead_s = fixed_s >= 0 ? fixed_s : p->host_fixed_s;
  r->host_per_seq_s = p->host_per_seq_s;
  r->host_per_token_s = p->host_per_token_s;
  r->host_overlap = p->host_overlap;
  r->host_exposed_s = p->host_overlap ? p->host_exposed_s : 0;
  r->graphs = p->graphs;
  r->graph_max_tokens = (double)p->graph_max_tokens;
  r->launch_per_layer_s = p->launch_per_layer_s;
  r->tp_worker_s = p->tp_worker_s;
  r->allreduce = p->allreduce;
  r->custom_ar_max_bytes = p->custom_ar_max_bytes;
  r->collectives = p->collectives;
  r->gemm = p->gemm;
  r->mem_utilization = gpu_memory_utilization > 0 ? gpu_memory_utilization : p->gpu_memory_utilization;
  r->mem_of_free = p->memory_of == STACK_MEMORY_FREE;
  r->cuda_context_bytes = p->cuda_context_gib * GIB;
  r->non_torch_bytes = p->non_torch_gib * GIB;
  r->cuda_graph_bytes = p->cuda_graph_gib * GIB;
  llm_replica_prepare(r);
}

const stack_profile *stack_require(const sim_catalogs *cats, const char *name, sim_check *ck, const char *key)
{
  return sim_catalog_require(cats, "stacks", "stack", name, ck, key);
}
