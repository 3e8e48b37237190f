/* models/serving/serving_keys.c: the serving scenario's sections as key
 * tables, the checks between keys, and prepare: catalog names resolved,
 * replicas fitted into GPU memory (with the reason when they do not fit),
 * KV-cache capacity, traces read (with a warning counting the rows longer
 * than the context), the saturation probe's mix of classes. Everything a
 * user can get wrong is reported here, before anything is simulated. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "models/serving/kvcache.h"
#include "models/serving/prefix_tier.h"
#include "models/workload/wl_keys.h"
#include "models/serving/router.h"
#include "models/serving/serving_capacity.h"
#include "models/serving/serving.h"
#include "models/serving/serving_int.h"
#include "models/serving/serving_lora.h"
#include "sim/catalog.h"

#define GIB 1073741824.0

/* Fixed framework overhead per step (CUDA-graph engines; models/VALIDATION.md). */
#define SRV_STEP_OVERHEAD_S 0.0005

#define K_FLOAT(st, nm, field, dflt, lo, hi, u, h)                                               \
  {.name = nm, .kind = SIM_KEY_FLOAT, .offset = offsetof(st, field), .def = dflt, .min = lo,      \
   .max = hi, .unit = u, .help = h}
#define K_INT(st, nm, field, dflt, lo, hi, h)                                                    \
  {.name = nm, .kind = SIM_KEY_INT, .offset = offsetof(st, field), .def = dflt, .min = lo,        \
   .max = hi, .help = h}
#define K_STR(st, nm, field, dflt, h)                                                            \
  {.name = nm, .kind = SIM_KEY_STRING, .offset = offsetof(st, field), .def_str = dflt, .help = h}
#define K_ENUM(st, nm, field, ch, dflt, h)                                                       \
  {.name = nm, .kind = SIM_KEY_ENUM, .offset = offsetof(st, field), .choices = ch,               \
   .def_str = dflt, .help = h}

/* ---- workload ---- */

static const char *const process_names[] = {"poisson", "gamma", "mmpp", NULL};
static const char *const size_names[] = {"fixed", "uniform", "normal", "lognormal", "geometric",
                                         "empirical", NULL};

#define ARR(f) offsetof(srv_class_cfg, arr.f)
static const sim_key mmpp_keys[] = {
  {.name = "rates", .kind = SIM_KEY_NUMBERS, .offset = ARR(mmpp_rate_per_s), .required = true,
   .count_offset = offsetof(srv_class_cfg, n_mmpp_rates), .max_items = 2, .min = 0, .max = 1e9,
   .unit = "1/s", .help = "Poisson rate in each of the two states"},
  {.name = "sojourn_s", .kind = SIM_KEY_NUMBERS, .offset = ARR(mmpp_sojourn_s), .required = true,
   .count_offset = offsetof(srv_class_cfg, n_mmpp_sojourn), .max_items = 2, .min = 1e-6,
   .max = 1e12, .unit = "s", .help = "mean (exponential) time in each state"},
  SIM_KEY_END,
};

static const sim_key arrivals_keys[] = {
  K_ENUM(srv_class_cfg, "process", process, process_names, "poisson",
         "poisson (any rate over time, by thinning), gamma (cv), mmpp (two states)"),
  {.name = "rate", .kind = SIM_KEY_FLOAT, .offset = ARR(rate.base_per_s), .def = 0, .min = 0,
   .max = 1e9, .unit = "1/s", .help = "mean arrival rate (before segments, spikes, daily cycle, growth)"},
  {.name = "segments", .kind = SIM_KEY_LIST, .offset = ARR(rate.segments), .group = wl_segment_keys,
   .item_size = sizeof(wl_segment), .count_offset = ARR(rate.nsegments),
   .max_items = WL_MAX_SEGMENTS, .help = "piecewise-constant rate: ( { start_s; rate; }, ... )"},
  {.name = "spikes", .kind = SIM_KEY_LIST, .offset = ARR(rate.spikes), .group = wl_spike_keys,
   .item_size = sizeof(wl_spike), .count_offset = ARR(rate.nspikes), .max_items = WL_MAX_SPIKES,
   .help = "rate multipliers over windows"},
  {.name = "daily", .kind = SIM_KEY_GROUP, .offset = ARR(rate.daily), .group = wl_daily_keys,
   .help = "a daily cycle"},
  {.name = "growth", .kind = SIM_KEY_GROUP, .offset = ARR(rate.growth), .group = wl_growth_keys,
   .help = "compound growth"},
  {.name = "cv", .kind = SIM_KEY_FLOAT, .offset = ARR(gamma_cv), .def = 1, .min = 0.01,
   .max = 100, .help = "gamma: coefficient of variation of the inter-arrival times"},
  {.name = "mmpp", .kind = SIM_KEY_GROUP, .offset = 0, .group = mmpp_keys,
   .help = "mmpp: the two states"},
  SIM_KEY_END,
};
#undef ARR

static const sim_key size_keys[] = {
  {.name = "dist", .kind = SIM_KEY_ENUM, .offset = offsetof(srv_size_cfg, dist), .required = true,
   .choices = size_names, .help = "fixed, uniform, normal, lognormal, geometric or empirical"},
  K_INT(srv_size_cfg, "value", value, 0, 0, 1e9, "fixed: the size"),
  K_INT(srv_size_cfg, "min", min, 0, 0, 1e9, "uniform: smallest"),
  K_INT(srv_size_cfg, "max", max, 0, 0, 1e9, "uniform: largest"),
  K_FLOAT(srv_size_cfg, "mean", mean, 0, 0, 1e9, "tokens", "normal, lognormal, geometric: mean"),
  K_FLOAT(srv_size_cfg, "sd", sd, 0, 0, 1e9, "tokens", "normal: standard deviation"),
  K_FLOAT(srv_size_cfg, "cv", cv, 0, 0, 100, NULL, "lognormal: coefficient of variation"),
  {.name = "values", .kind = SIM_KEY_NUMBERS, .offset = offsetof(srv_size_cfg, values),
   .count_offset = offsetof(srv_size_cfg, nvalues), .max_items = SRV_MAX_VALUES, .min = 1,
   .max = 1e9, .help = "empirical: sizes drawn with equal probability"},
  SIM_KEY_END,
};

static const sim_key trace_keys[] = {
  {.name = "file", .kind = SIM_KEY_STRING, .offset = offsetof(srv_trace_cfg, file),
   .required = true, .help = "CSV of timestamp, prompt and output tokens (relative to the scenario)"},
  K_FLOAT(srv_trace_cfg, "time_scale", time_scale, 1, 1e-6, 1e6, NULL,
          "replay speed: 4 compresses time 4x, so the rate is 4x"),
  K_FLOAT(srv_trace_cfg, "offset_s", offset_s, 0, 0, 1e12, "s", "the first row arrives at this time"),
  K_STR(srv_trace_cfg, "time_column", time_column, "TIMESTAMP", "column of arrival times"),
  K_STR(srv_trace_cfg, "prompt_column", prompt_column, "ContextTokens", "column of prompt tokens"),
  K_STR(srv_trace_cfg, "output_column", output_column, "GeneratedTokens", "column of output tokens"),
  K_STR(srv_trace_cfg, "session_column", session_column, "",
        "column of conversation ids (integers >= 0): a row is the next turn of its conversation, its prompt "
        "holding the earlier turns' prompt and answer (\"\": none, every row alone)"),
  {.name = "truncate", .kind = SIM_KEY_BOOL, .offset = offsetof(srv_trace_cfg, truncate), .def = 0,
   .help = "a row whose prompt + output exceed the context: false rejects it (as vLLM's API server; "
           "requests_too_long), true cuts it to fit"},
  SIM_KEY_END,
};

static const sim_key session_keys[] = {
  {.name = "turns", .kind = SIM_KEY_GROUP, .offset = offsetof(srv_session_cfg, turns), .group = size_keys,
   .has_present = true, .present_offset = offsetof(srv_session_cfg, has_turns),
   .help = "turns per conversation (a size distribution, at least 1), e.g. { dist = \"geometric\"; mean = 4.0; }"},
  K_FLOAT(srv_session_cfg, "think_time_s", think_time_s, 0, 0, 1e9, "s",
          "mean time (exponential) from an answer to the next message; 0: at once (an agent's chain of calls)"),
  SIM_KEY_END,
};

static const sim_key sysprompt_keys[] = {
  K_INT(srv_sysprompt_cfg, "tokens", tokens, 0, 1, 1e9, "tokens of each system prompt (required)"),
  K_INT(srv_sysprompt_cfg, "count", count, 1, 1, 1e6, "distinct system prompts"),
  K_FLOAT(srv_sysprompt_cfg, "zipf", zipf, 1, 0, 10, NULL,
          "popularity: the k-th most used is drawn with probability ~ 1 / k^zipf (0: all alike)"),
  SIM_KEY_END,
};

static const sim_key prompt_pool_keys[] = {
  K_INT(srv_prompt_pool_cfg, "size", size, 0, 1, 1e7, "prompts in the pool, sent in turn (required)"),
  K_INT(srv_prompt_pool_cfg, "groups", groups, 1, 1, 1e7, "groups sharing a prefix (at most size)"),
  K_INT(srv_prompt_pool_cfg, "shared_prefix_tokens", shared_prefix_tokens, 0, 0, 1e9,
        "tokens each group's prompts share before their own (added to prompt_tokens)"),
  SIM_KEY_END,
};

static const sim_key lora_keys[] = {
  {.name = "adapters", .kind = SIM_KEY_INT, .offset = offsetof(srv_lora_cfg, adapters), .required = true, .min = 1,
   .max = 1e6, .help = "adapters the class's requests use"},
  K_INT(srv_lora_cfg, "rank", rank, 16, 1, 4096, "their rank (vLLM's default max_lora_rank: 16)"),
  K_FLOAT(srv_lora_cfg, "zipf", zipf, 1.0, 0, 100, NULL,
          "a request's adapter is drawn with probability ~ 1 / rank^zipf (0: uniform)"),
  {.name = "experts", .kind = SIM_KEY_BOOL, .offset = offsetof(srv_lora_cfg, experts), .def = 0,
   .help = "mixture of experts: the routed experts adapted too, each its own A and B (vLLM's fused MoE "
           "LoRA); else attention, dense layers and shared experts"},
  SIM_KEY_END,
};

/* A class's keys, shared by workload itself (one class) and workload.classes. */
#define CLASS_KEYS(base)                                                                          \
  {.name = "name", .kind = SIM_KEY_STRING, .offset = (base) + offsetof(srv_class_cfg, name),      \
   .def_str = "default", .help = "class name, in outputs"},                                     \
  {.name = "priority", .kind = SIM_KEY_INT, .offset = (base) + offsetof(srv_class_cfg, priority), \
   .def = 0, .min = -1000, .max = 1000, .help = "higher is admitted first"},                     \
  {.name = "pool", .kind = SIM_KEY_INT, .offset = (base) + offsetof(srv_class_cfg, pool),         \
   .def = -1, .min = -1, .max = SRV_MAX_POOLS - 1,                                               \
   .help = "served only by cluster.pools.[pool] (-1: by any pool; e.g. batch work on cheaper GPUs)"}, \
  {.name = "pools", .kind = SIM_KEY_NUMBERS, .offset = (base) + offsetof(srv_class_cfg, pools),   \
   .count_offset = (base) + offsetof(srv_class_cfg, npools), .max_items = SRV_MAX_POOLS, .min = 0, \
   .max = SRV_MAX_POOLS - 1, .help = "served only by these pools, e.g. [0, 1] (instead of pool)"}, \
  {.name = "arrivals", .kind = SIM_KEY_GROUP, .offset = (base), .group = arrivals_keys,          \
   .has_present = true, .present_offset = (base) + offsetof(srv_class_cfg, has_arrivals),        \
   .help = "arrival process"},                                                                   \
  {.name = "trace", .kind = SIM_KEY_GROUP, .offset = (base) + offsetof(srv_class_cfg, trace),    \
   .group = trace_keys, .has_present = true,                                                     \
   .present_offset = (base) + offsetof(srv_class_cfg, has_trace),                                \
   .help = "replay a trace instead of arrivals and sizes"},                                      \
  {.name = "prompt_tokens", .kind = SIM_KEY_GROUP, .offset = (base) + offsetof(srv_class_cfg, prompt), \
   .group = size_keys, .has_present = true,                                                      \
   .present_offset = (base) + offsetof(srv_class_cfg, has_prompt), .help = "prompt length"},     \
  {.name = "output_tokens", .kind = SIM_KEY_GROUP, .offset = (base) + offsetof(srv_class_cfg, output), \
   .group = size_keys, .has_present = true,                                                      \
   .present_offset = (base) + offsetof(srv_class_cfg, has_output), .help = "output length"},     \
  {.name = "ttft_slo_s", .kind = SIM_KEY_FLOAT, .offset = (base) + offsetof(srv_class_cfg, slo_ttft_s), \
   .def = 0, .min = 0, .max = 1e9, .unit = "s", .help = "this class's TTFT target (0: slo.ttft_s)"}, \
  {.name = "tpot_slo_s", .kind = SIM_KEY_FLOAT, .offset = (base) + offsetof(srv_class_cfg, slo_tpot_s), \
   .def = 0, .min = 0, .max = 1e9, .unit = "s", .help = "this class's TPOT target (0: slo.tpot_s)"}, \
  {.name = "e2e_slo_s", .kind = SIM_KEY_FLOAT, .offset = (base) + offsetof(srv_class_cfg, slo_e2e_s), \
   .def = 0, .min = 0, .max = 1e9, .unit = "s", .help = "this class's end-to-end target (0: slo.e2e_s)"}, \
  {.name = "sessions", .kind = SIM_KEY_GROUP, .offset = (base) + offsetof(srv_class_cfg, sessions), \
   .group = session_keys, .has_present = true,                                                   \
   .present_offset = (base) + offsetof(srv_class_cfg, has_sessions),                             \
   .help = "multi-turn conversations: arrivals start them; turns, think_time_s"},              \
  {.name = "system_prompt", .kind = SIM_KEY_GROUP, .offset = (base) + offsetof(srv_class_cfg, system_prompt), \
   .group = sysprompt_keys, .has_present = true,                                                 \
   .present_offset = (base) + offsetof(srv_class_cfg, has_system_prompt),                        \
   .help = "a shared system prompt before every prompt: tokens, count, zipf"},                  \
  {.name = "prompt_pool", .kind = SIM_KEY_GROUP, .offset = (base) + offsetof(srv_class_cfg, prompt_pool), \
   .group = prompt_pool_keys, .has_present = true,                                               \
   .present_offset = (base) + offsetof(srv_class_cfg, has_prompt_pool),                          \
   .help = "a fixed pool of prompts sent in turn, in groups sharing a prefix (benchmark harnesses)"}, \
  {.name = "timeout_s", .kind = SIM_KEY_FLOAT, .offset = (base) + offsetof(srv_class_cfg, timeout_s), \
   .def = 0, .min = 0, .max = 1e9, .unit = "s",                                                  \
   .help = "the client gives up this long after sending: the request is cancelled, its KV freed, " \
           "counted in requests_timed_out (part of requests_rejected); 0: never"},              \
  {.name = "lora", .kind = SIM_KEY_GROUP, .offset = (base) + offsetof(srv_class_cfg, lora),      \
   .group = lora_keys, .has_present = true,                                                      \
   .present_offset = (base) + offsetof(srv_class_cfg, has_lora),                                 \
   .help = "its requests use LoRA adapters of its model: adapters, rank, zipf"},                \
  {.name = "model", .kind = SIM_KEY_STRING, .offset = (base) + offsetof(srv_class_cfg, model), .def_str = "", \
   .help = "the model it asks for (catalog name: clustersim list models; \"\": model.name); served by the " \
           "pools whose models list it"},                                                       \
  {.name = "truncate", .kind = SIM_KEY_BOOL, .offset = (base) + offsetof(srv_class_cfg, truncate), .def = 0, \
   .help = "sampled sizes: a request whose prompt + output exceed the context is rejected (false, as " \
           "vLLM's API server; requests_too_long) or cut to fit (true); a trace: trace.truncate"}

static const sim_key class_keys[] = {CLASS_KEYS(0), SIM_KEY_END};

#define WL(f) offsetof(srv_params, wl.f)
static const sim_key workload_keys[] = {
  CLASS_KEYS(WL(direct)),
  {.name = "classes", .kind = SIM_KEY_LIST, .offset = WL(listed), .group = class_keys,
   .item_size = sizeof(srv_class_cfg), .count_offset = WL(nlisted), .max_items = SRV_MAX_CLASSES,
   .help = "several request classes, each with the keys above"},
  {.name = "duration_s", .kind = SIM_KEY_FLOAT, .offset = WL(duration_s), .def = 0, .min = 0,
   .max = 1e12, .unit = "s", .help = "no arrival after this time (0: none)"},
  {.name = "requests", .kind = SIM_KEY_INT, .offset = WL(requests), .def = 0, .min = 0, .max = 1e15,
   .help = "no arrival after this many (0: no limit)"},
  {.name = "load_scale", .kind = SIM_KEY_FLOAT, .offset = WL(load_scale), .def = 1, .min = 0.001, .max = 1000,
   .help = "multiply every class's arrival rate (a trace's time_scale) by this: 2 doubles the load"},
  SIM_KEY_END,
};
#undef WL

/* ---- cluster, model, scheduler, router, cost, slo, output ---- */

const char *const srv_scale_metric_names[] = {"capacity", "running", "kv", "queue", "ttft_p99", NULL};
const char *const srv_weights_from_names[] = {"object-storage", "nvme", "host-memory", NULL};

/* A new replica's delay, defaults (planning values, cold start of vLLM on a
 * cloud GPU instance):
 * - startup_s 120: a GPU VM or node provisioned and booted, 60-120 s, plus
 *   driver initialisation (systemoverflow.com, "Cold start problem: model
 *   loading and predictive warming", 2025: node provisioning 60-120 s,
 *   GPU driver 20-40 s); the upper end taken.
 * - weights: object storage 0.5 GB/s (Anyscale, 2023: Llama 2 70B's 138 GB
 *   downloaded and initialised in 4 min 25 s before their streaming
 *   loader, about 0.5 GB/s); local NVMe 0.9 GB/s (Tensorfuse, "Reducing GPU
 *   cold start time when using vLLM", 2025-09-01: Llama-3.1-8B's 16 GB
 *   loaded in 18 s from a local cache); host memory of a warm spare 20
 *   GB/s (PCIe 4.0 x16 host-to-device, about 25 GB/s peak).
 * - warmup_s 64: the same Tensorfuse measurements with torch.compile and
 *   CUDA-graph caches kept: Dynamo 10 s + compilation 13 s + graph capture
 *   7 s + engine initialisation and imports 34 s (200 s without caches).
 * Billing: per second with a 60 s minimum (AWS EC2 and Google Compute
 * Engine on-demand Linux instances). */
#define SRV_STARTUP_S 120.0
/* Owned hardware's electricity when cost.usd_per_kwh is not written: the
 * US industrial average of 2023, 8.04 cents/kWh (EIA Electric Power
 * Monthly, table 5.3), as the cost section's note says. */
#define SRV_OWNED_USD_PER_KWH 0.0804
#define SRV_WARMUP_S 64.0
#define SRV_BILLING_MIN_S 60.0
static const double weights_gbs[] = {0.5, 0.9, 20.0};

#define AS(f) offsetof(srv_pool_cfg, as.f)
static const sim_key plan_keys[] = {
  {.name = "at_h", .kind = SIM_KEY_FLOAT, .offset = offsetof(as_plan_step, at_h), .required = true, .min = 0,
   .max = 24, .unit = "h", .help = "from this hour of the day (0-24) on"},
  {.name = "replicas", .kind = SIM_KEY_INT, .offset = offsetof(as_plan_step, replicas), .required = true, .min = 0,
   .max = 100000, .help = "replicas"},
  SIM_KEY_END,
};

static const sim_key autoscale_keys[] = {
  K_ENUM(srv_pool_cfg, "policy", as.policy, as_policy_names, "none",
         "none, reactive (a metric at its target), scheduled (a daily plan), predictive (the arrival rate ahead)"),
  {.name = "min_replicas", .kind = SIM_KEY_INT, .offset = AS(min_replicas), .def = 1, .min = 0, .max = 100000,
   .help = "never fewer (0: scale to zero; requests wait for a replica)"},
  {.name = "max_replicas", .kind = SIM_KEY_INT, .offset = AS(max_replicas), .def = 0, .min = 0, .max = 100000,
   .help = "never more (required with a policy)"},
  K_FLOAT(srv_pool_cfg, "interval_s", as_interval_s, 30, 1, 1e9, "s",
          "decide this often (KEDA's default polling interval, 30 s)"),
  K_ENUM(srv_pool_cfg, "metric", as_metric, srv_scale_metric_names, "capacity",
         "reactive: capacity (offered load / saturation), running (sequences per replica), kv (cache fraction), "
         "queue (waiting per replica) or ttft_p99 (s)"),
  {.name = "target", .kind = SIM_KEY_FLOAT, .offset = AS(target), .def = 0, .min = 0, .max = 1e9,
   .help = "reactive: the metric's target (0: capacity 0.7, running 0.7 x max_num_seqs, kv 0.7, queue 2, "
           "ttft_p99 the SLO's TTFT)"},
  {.name = "tolerance", .kind = SIM_KEY_FLOAT, .offset = AS(tolerance), .def = 0.1, .min = 0, .max = 10,
   .help = "reactive: no change while metric / target is within this of 1 (Kubernetes HPA: 0.1)"},
  {.name = "up_cooldown_s", .kind = SIM_KEY_FLOAT, .offset = AS(up_cooldown_s), .def = 0, .min = 0, .max = 1e9,
   .unit = "s", .help = "no scale-up sooner than this after the last change (HPA: 0)"},
  {.name = "down_cooldown_s", .kind = SIM_KEY_FLOAT, .offset = AS(down_cooldown_s), .def = 300, .min = 0,
   .max = 1e9, .unit = "s", .help = "no scale-down sooner than this after the last change (HPA: 300 s)"},
  {.name = "max_step_up", .kind = SIM_KEY_INT, .offset = AS(max_step_up), .def = 0, .min = 0, .max = 100000,
   .help = "most replicas added per decision (0: no limit)"},
  {.name = "max_step_down", .kind = SIM_KEY_INT, .offset = AS(max_step_down), .def = 0, .min = 0, .max = 100000,
   .help = "most replicas removed per decision (0: no limit)"},
  {.name = "schedule", .kind = SIM_KEY_LIST, .offset = AS(plan), .group = plan_keys,
   .item_size = sizeof(as_plan_step), .count_offset = AS(nplan), .max_items = AS_MAX_PLAN,
   .help = "daily plan ( { at_h; replicas; }, ... ) the scheduled policy follows"},
  {.name = "schedule_floor", .kind = SIM_KEY_BOOL, .offset = AS(plan_floor), .def = 0,
   .help = "reactive, predictive: never below the schedule (a mix of the two)"},
  {.name = "per_replica_rate", .kind = SIM_KEY_FLOAT, .offset = AS(per_replica_rate), .def = 0, .min = 0,
   .max = 1e9, .unit = "1/s", .help = "predictive: requests/s one replica carries (0: its saturation rate)"},
  {.name = "utilization", .kind = SIM_KEY_FLOAT, .offset = AS(utilization), .def = 0.8, .min = 0.01, .max = 1,
   .help = "predictive: share of per_replica_rate a replica is sized for"},
  K_FLOAT(srv_pool_cfg, "lead_s", as_lead_s, -1, -1, 1e9, "s",
          "predictive: size for the peak rate from now to this far ahead plus interval_s (-1: a new "
          "replica's start-up delay)"),
  SIM_KEY_END,
};
#undef AS

/* A pool key whose being written is recorded (a provider's default yields to it). */
#define PW(flag) .has_present = true, .present_offset = offsetof(srv_pool_cfg, flag)

static const sim_key pool_keys[] = {
  {.name = "gpu", .kind = SIM_KEY_STRING, .offset = offsetof(srv_pool_cfg, gpu), .required = true,
   .help = "GPU type (catalog name: clustersim list gpus)"},
  K_INT(srv_pool_cfg, "replicas", replicas, 1, 0, 100000,
        "model replicas in the pool (an autoscaled pool's starting count, which may be 0)"),
  K_INT(srv_pool_cfg, "tp", tp, 1, 1, 1024, "tensor-parallel GPUs per stage"),
  K_INT(srv_pool_cfg, "pp", pp, 1, 1, 1024, "pipeline stages per replica"),
  K_INT(srv_pool_cfg, "dp_attention", dp_attention, 1, 1, 1024,
        "data-parallel attention ranks of tp GPUs each, stepping in lock-step (a replica holds tp x pp x "
        "dp_attention GPUs)"),
  K_INT(srv_pool_cfg, "ep", ep, 0, 0, 1024,
        "GPUs of a stage the routed experts are split over (0: tp x dp_attention when dp_attention > 1, as vLLM "
        "and SGLang spread experts over all the replica's GPUs; else 1, experts tensor-parallel)"),
  K_INT(srv_pool_cfg, "expert_slots", expert_slots, 0, 0, 100000,
        "routed expert slots with redundant copies, EPLB (0: the model's experts)"),
  K_FLOAT(srv_pool_cfg, "expert_imbalance", expert_imbalance, 0, 0, 1000, NULL,
          "max/mean routed tokens per expert GPU (0: a balanced placement's random floor; 2.564: no EPLB at EP 32)"),
  {.name = "fp8_dispatch", .kind = SIM_KEY_BOOL, .offset = offsetof(srv_pool_cfg, fp8_dispatch), .def = 0,
   .help = "dispatch tokens to the experts in fp8 with per-128 scales (DeepEP); combine stays 16-bit"},
  K_STR(srv_pool_cfg, "node_link", node_link, "", "link inside a node (default: the GPU's NVLink or PCIe)"),
  K_STR(srv_pool_cfg, "net_link", net_link, "", "link between nodes (default: ib-hdr, ib-ndr for H100)"),
  K_INT(srv_pool_cfg, "gpus_per_node", gpus_per_node, 8, 1, 1024, "GPUs the node link joins"),
  K_FLOAT(srv_pool_cfg, "usd_per_gpu_hour", usd_per_gpu_hour, 0, 0, 1e6, "USD/h",
          "price (0: cost.usd_per_gpu_hour, else the catalog's)"),
  K_STR(srv_pool_cfg, "stack", stack, "", "serving stack of this pool (clustersim list stacks; \"\": scheduler.stack)"),
  K_FLOAT(srv_pool_cfg, "gpu_memory_utilization", gpu_memory_utilization, 0, 0, 1, NULL,
          "share of GPU memory the engine may use, as vLLM's (0: the stack's default)"),
  K_INT(srv_pool_cfg, "num_gpu_blocks", num_gpu_blocks, 0, 0, 1e12,
        "KV-cache blocks per replica, as vLLM's --num-gpu-blocks-override (0: computed from memory)"),
  {.name = "autoscale", .kind = SIM_KEY_GROUP, .group = autoscale_keys, .has_present = true,
   .present_offset = offsetof(srv_pool_cfg, has_autoscale),
   .help = "resize the pool over time; replicas is the starting count"},
  {.name = "startup_s", .kind = SIM_KEY_FLOAT, .offset = offsetof(srv_pool_cfg, startup_s), .def = SRV_STARTUP_S,
   .min = 0, .max = 1e9, .unit = "s", PW(has_startup_s),
   .help = "a new replica's instance start-up (the provider's, else 120 s: cloud GPU VM provisioning and boot)"},
  K_ENUM(srv_pool_cfg, "weights_from", weights_from, srv_weights_from_names, "object-storage",
         "where a new replica loads its weights from: object-storage (0.5 GB/s), nvme (0.9), host-memory (20)"),
  K_FLOAT(srv_pool_cfg, "weights_load_gbs", weights_load_gbs, 0, 0, 1e6, "GB/s",
          "a new replica's weight-loading bandwidth (0: weights_from's)"),
  K_FLOAT(srv_pool_cfg, "warmup_s", warmup_s, SRV_WARMUP_S, 0, 1e9, "s",
          "a new replica's engine warm-up after its weights (compilation, CUDA graphs: 64 s with caches)"),
  {.name = "billing_increment_s", .kind = SIM_KEY_FLOAT, .offset = offsetof(srv_pool_cfg, billing_increment_s),
   .def = 1, .min = 0, .max = 1e9, .unit = "s", PW(has_billing_increment_s),
   .help = "a replica is billed in these increments (the provider's, else 1: per second)"},
  {.name = "billing_minimum_s", .kind = SIM_KEY_FLOAT, .offset = offsetof(srv_pool_cfg, billing_minimum_s),
   .def = SRV_BILLING_MIN_S, .min = 0, .max = 1e9, .unit = "s", PW(has_billing_minimum_s),
   .help = "and for at least this long (the provider's, else 60 s, as AWS and Google Cloud on demand)"},
  {.name = "interruptions_per_hour", .kind = SIM_KEY_FLOAT,
   .offset = offsetof(srv_pool_cfg, interruptions_per_hour), .def = 0, .min = 0, .max = 1e6, .unit = "1/h",
   PW(has_interruptions_per_hour),
   .help = "spot capacity: each replica is taken back at this rate (Poisson; the provider's spot rate with "
           "pricing = \"spot\", else 0: never)"},
  {.name = "interruption_notice_s", .kind = SIM_KEY_FLOAT, .offset = offsetof(srv_pool_cfg, interruption_notice_s),
   .def = 120, .min = 0, .max = 1e6, .unit = "s", PW(has_interruption_notice_s),
   .help = "warning before an interrupted replica goes: it takes no new request, its running ones finish or "
           "are computed again elsewhere (the provider's; AWS 120 s, Google Cloud and Azure 30 s)"},
  K_STR(srv_pool_cfg, "provider", provider, "",
        "who rents it (clustersim list providers): its price, billing, spot terms and start-up"),
  K_ENUM(srv_pool_cfg, "pricing", pricing, cost_pricing_names, "on-demand",
         "on-demand, reserved-1y, reserved-3y, spot (with a provider) or owned (the GPU's purchase price over "
         "cost.amortization_years, plus electricity)"),
  K_INT(srv_pool_cfg, "max_loras", max_loras, 0, 0, 4096,
        "distinct LoRA adapters a batch may hold, each in a GPU slot (0: the stack's: SGLang's "
        "max_loras_per_batch 8, else vLLM's --max-loras 1)"),
  {.name = "models", .kind = SIM_KEY_NAMES, .offset = offsetof(srv_pool_cfg, models),
   .help = "the models its replicas may hold, e.g. [\"llama-3.1-8b\", \"qwen2.5-7b\"] (none: model.name); one: a "
           "dedicated pool; several: each replica holds one at a time and swaps weights on demand "
           "(cluster.weight_swap)"},
  K_ENUM(srv_pool_cfg, "role", role, srv_role_names, "both",
         "prefill/decode disaggregation: both (prefill and decode here), prefill (prompts only; the KV then "
         "moves to a decode replica over cluster.kv_transfer_link) or decode (takes prefilled requests)"),
  SIM_KEY_END,
};

const char *const srv_role_names[] = {"both", "prefill", "decode", NULL};

const char *const srv_swap_policy_names[] = {"lru", "popularity", "static", NULL};

#define P(f) offsetof(srv_params, f)
static const sim_key weight_swap_keys[] = {
  {.name = "policy", .kind = SIM_KEY_ENUM, .offset = P(swap.policy), .choices = srv_swap_policy_names,
   .def_str = "lru",
   .help = "which replica a model no replica holds takes: lru (the least recently sent a request), popularity "
           "(the one whose model has the least demand per holding replica) or static (none: replicas keep the "
           "models placed at the start, in proportion to demand)"},
  {.name = "from", .kind = SIM_KEY_ENUM, .offset = P(swap.from), .choices = srv_weights_from_names,
   .def_str = "host-memory",
   .help = "where swapped-in weights come from: host-memory (each GPU its shard over its host link, PCIe), nvme "
           "(0.9 GB/s per replica) or object-storage (0.5)"},
  {.name = "load_gbs", .kind = SIM_KEY_FLOAT, .offset = P(swap.load_gbs), .def = 0, .min = 0, .max = 1e6,
   .unit = "GB/s", .help = "a replica's weight-loading bandwidth in a swap (0: from's)"},
  {.name = "popularity_window_s", .kind = SIM_KEY_FLOAT, .offset = P(swap.popularity_window_s), .def = 300,
   .min = 1e-3, .max = 1e9, .unit = "s",
   .help = "policy popularity: a model's demand is its arrival rate averaged over about this long"},
  SIM_KEY_END,
};

static const sim_key cluster_keys[] = {
  {.name = "pools", .kind = SIM_KEY_LIST, .offset = P(pools), .group = pool_keys,
   .item_size = sizeof(srv_pool_cfg), .count_offset = P(npools), .max_items = SRV_MAX_POOLS,
   .help = "groups of identical replicas: ( { gpu; replicas; tp; pp; }, ... )"},
  {.name = "kv_transfer_link", .kind = SIM_KEY_STRING, .offset = P(kv_transfer_link), .def_str = "",
   .help = "disaggregated pools: the link a prompt's KV crosses from a prefill replica to a decode replica "
           "(clustersim list links; default: the prefill pool's net_link)"},
  {.name = "weight_swap", .kind = SIM_KEY_GROUP, .group = weight_swap_keys,
   .help = "pools holding several models: which replica swaps its weights, and how fast they load"},
  SIM_KEY_END,
};

static const sim_key model_keys[] = {
  {.name = "name", .kind = SIM_KEY_STRING, .offset = P(model.name), .required = true,
   .help = "model (catalog name, or one defined in the scenario's models list)"},
  {.name = "precision", .kind = SIM_KEY_ENUM, .offset = P(model.precision),
   .choices = gpu_precision_names, .def_str = "fp16", .help = "weights and KV cache precision"},
  {.name = "max_context", .kind = SIM_KEY_INT, .offset = P(model.max_context), .def = 0, .min = 0,
   .max = 1e8, .help = "longest request, prompt + output (0: the model's context)"},
  SIM_KEY_END,
};

static const char *const policy_names[] = {"static", "dynamic", "continuous", "chunked-prefill", NULL};
static const char *const preempt_names[] = {"recompute", "swap", NULL};
static const char *route_names[8];

/* A key whose being written is recorded (a stack's default yields to it). */
#define WRITTEN(flag) .has_present = true, .present_offset = P(sched.flag)

static const sim_key sched_keys[] = {
  {.name = "stack", .kind = SIM_KEY_STRING, .offset = P(sched.stack), .def_str = STACK_DEFAULT,
   .help = "serving stack: host time, CUDA graphs, memory, scheduler defaults (clustersim list stacks)"},
  {.name = "policy", .kind = SIM_KEY_ENUM, .offset = P(sched.policy), .choices = policy_names,
   .def_str = "continuous", WRITTEN(has_policy),
   .help = "static, dynamic, continuous (vLLM) or chunked-prefill (Sarathi-Serve) (default: the stack's)"},
  {.name = "max_num_seqs", .kind = SIM_KEY_INT, .offset = P(sched.max_num_seqs), .def = 256, .min = 1,
   .max = 65536, WRITTEN(has_max_num_seqs),
   .help = "continuous: most sequences in a step (vLLM default 256; default: the stack's)"},
  {.name = "max_batched_tokens", .kind = SIM_KEY_INT, .offset = P(sched.max_batched_tokens), .def = 0,
   .min = 0, .max = 1e8, WRITTEN(has_max_batched_tokens),
   .help = "continuous: most tokens in a step (0: max(context, 2048); chunked-prefill: 2048; default: the stack's)"},
  {.name = "block_size", .kind = SIM_KEY_INT, .offset = P(sched.block_size), .def = 16, .min = 1,
   .max = 4096, WRITTEN(has_block_size), .help = "KV-cache block, tokens (vLLM default 16; default: the stack's)"},
  {.name = "watermark", .kind = SIM_KEY_FLOAT, .offset = P(sched.watermark), .def = KV_WATERMARK_DEFAULT,
   .min = 0, .max = 0.5, .help = "share of KV blocks kept free when admitting (vLLM 0.01)"},
  {.name = "preemption", .kind = SIM_KEY_ENUM, .offset = P(sched.preemption), .choices = preempt_names,
   .def_str = "recompute", .help = "when the KV cache is full: recompute later, or swap to host memory"},
  {.name = "batch_size", .kind = SIM_KEY_INT, .offset = P(sched.batch_size), .def = 8, .min = 1,
   .max = 65536, .help = "static: requests per batch"},
  {.name = "batch_timeout_s", .kind = SIM_KEY_FLOAT, .offset = P(sched.batch_timeout_s), .def = 0.1,
   .min = 0, .max = 1e6, .unit = "s", .help = "static: start a partial batch after the oldest waited this long"},
  {.name = "max_batch_size", .kind = SIM_KEY_INT, .offset = P(sched.max_batch_size), .def = 32, .min = 1,
   .max = 65536, .help = "dynamic: most requests per batch"},
  {.name = "max_queue_delay_s", .kind = SIM_KEY_FLOAT, .offset = P(sched.max_queue_delay_s), .def = 0,
   .min = 0, .max = 1e6, .unit = "s", .help = "dynamic: longest wait for a fuller batch (Triton default 0)"},
  {.name = "max_queue", .kind = SIM_KEY_INT, .offset = P(sched.max_queue), .def = 0, .min = 0,
   .max = 1e12, .help = "waiting requests per replica past which arrivals are rejected (0: no limit)"},
  {.name = "prefix_caching", .kind = SIM_KEY_BOOL, .offset = P(sched.prefix_caching), .def = 0,
   WRITTEN(has_prefix_caching),
   .help = "continuous policies: keep full KV blocks after use and reuse those of a prompt's prefix (vLLM's "
           "automatic prefix caching; default: the stack's)"},
  {.name = "prefix_cache_host_gb", .kind = SIM_KEY_FLOAT, .offset = P(sched.prefix_cache_host_gb), .def = 0,
   .min = 0, .max = 1e5, .unit = "GB",
   .help = "prefix cache: host memory per GPU for KV blocks the GPU evicts, loaded back over the host link when a "
           "prompt needs them (vLLM CPU offloading, LMCache, SGLang HiCache; 0: none)"},
  {.name = "prefix_cache_ssd_gb", .kind = SIM_KEY_FLOAT, .offset = P(sched.prefix_cache_ssd_gb), .def = 0,
   .min = 0, .max = 1e6, .unit = "GB",
   .help = "prefix cache: local SSD per GPU below host memory, for the blocks host memory evicts (0: none)"},
  {.name = "prefix_cache_host_gbs", .kind = SIM_KEY_FLOAT, .offset = P(sched.prefix_cache_host_gbs), .def = 0,
   .min = 0, .max = 1e4, .unit = "GB/s",
   .help = "prefix cache: host-to-GPU bandwidth of a load (0: the GPU's host link from the catalog, PCIe)"},
  {.name = "prefix_cache_ssd_gbs", .kind = SIM_KEY_FLOAT, .offset = P(sched.prefix_cache_ssd_gbs),
   .def = PT_SSD_GBS_DEFAULT, .min = 0.001, .max = 1e4, .unit = "GB/s",
   .help = "prefix cache: SSD read bandwidth per GPU (default 7: one PCIe 4.0 x4 NVMe drive)"},
  {.name = "streaming", .kind = SIM_KEY_BOOL, .offset = P(sched.streaming), .def = 1,
   .help = "tokens reach the client as they are made (false: with the whole answer; static never streams)"},
  {.name = "num_scheduler_steps", .kind = SIM_KEY_INT, .offset = P(sched.num_scheduler_steps), .def = 1,
   .min = 1, .max = 1024,
   .help = "continuous policies: decode steps run per scheduling, as vLLM 0.6-0.7's --num-scheduler-steps "
           "(prompts join and tokens reach the client only between groups; default 1)"},
  {.name = "step_overhead_s", .kind = SIM_KEY_FLOAT, .offset = P(sched.step_overhead_s),
   .def = SRV_STEP_OVERHEAD_S, .min = 0, .max = 10, .unit = "s", WRITTEN(has_step_overhead_s),
   .help = "fixed host time per step; written, it replaces the stack's fixed part (ideal: 0.5 ms, "
           "models/VALIDATION.md)"},
  SIM_KEY_END,
};
#undef WRITTEN

static const sim_key router_keys[] = {
  {.name = "policy", .kind = SIM_KEY_ENUM, .offset = P(router.policy), .choices = route_names,
   .def_str = "least-outstanding",
   .help = "round-robin, least-outstanding, least-kv, power-of-two or random"},
  SIM_KEY_END,
};

/* Electricity: US industrial average 2023, 8.04 cents/kWh (EIA Electric
 * Power Monthly, table 5.3). Rented GPUs include power in their price, so
 * the default adds nothing: set usd_per_kwh for owned hardware. PUE: 1.58,
 * the industry average of the Uptime Institute Global Data Center Survey
 * 2023 (hyperscalers report 1.1-1.2). */
static const sim_key cost_keys[] = {
  K_FLOAT(srv_params, "usd_per_gpu_hour", cost.usd_per_gpu_hour, 0, 0, 1e6, "USD/h",
          "price of every pool (0: each GPU's catalog price)"),
  K_FLOAT(srv_params, "usd_per_kwh", cost.usd_per_kwh, 0, 0, 100, "USD/kWh",
          "electricity billed on top (0: included in the GPU price; EIA 2023 industrial: 0.0804)"),
  K_FLOAT(srv_params, "pue", cost.pue, 1.58, 1, 5, NULL, "facility energy / IT energy (Uptime 2023 mean 1.58)"),
  K_FLOAT(srv_params, "amortization_years", cost.amortization_years, 4, 0.1, 50, "years",
          "owned GPUs: their purchase price spread over this many years (4: the middle of the 3-5 years "
          "over which servers are depreciated)"),
  SIM_KEY_END,
};

static const sim_key slo_keys[] = {
  K_FLOAT(srv_params, "ttft_s", slo.ttft_s, 0, 0, 1e9, "s", "time to first token target (0: none)"),
  K_FLOAT(srv_params, "tpot_s", slo.tpot_s, 0, 0, 1e9, "s", "time per output token target (0: none)"),
  K_FLOAT(srv_params, "e2e_s", slo.e2e_s, 0, 0, 1e9, "s", "end-to-end latency target (0: none)"),
  K_FLOAT(srv_params, "percentile", slo.percentile, 99, 1, 99.999, "%", "the targets hold at this percentile"),
  SIM_KEY_END,
};

static const sim_key output_keys[] = {
  K_FLOAT(srv_params, "interval_s", output.interval_s, 10, 0.001, 1e9, "s", "time-series interval"),
  {.name = "requests", .kind = SIM_KEY_BOOL, .offset = P(output.requests), .def = 0,
   .help = "write requests.csv, one row per request"},
  SIM_KEY_END,
};

static const sim_key serving_keys[] = {
  {.name = "model", .kind = SIM_KEY_GROUP, .group = model_keys, .required = true, .help = "the model served"},
  {.name = "cluster", .kind = SIM_KEY_GROUP, .group = cluster_keys, .required = true, .help = "GPU pools"},
  {.name = "workload", .kind = SIM_KEY_GROUP, .group = workload_keys, .required = true,
   .help = "request classes: arrivals, sizes, traces"},
  {.name = "router", .kind = SIM_KEY_GROUP, .group = router_keys, .help = "how requests pick a replica"},
  {.name = "scheduler", .kind = SIM_KEY_GROUP, .group = sched_keys, .help = "batching on each replica"},
  {.name = "cost", .kind = SIM_KEY_GROUP, .group = cost_keys, .help = "prices, electricity, PUE"},
  {.name = "slo", .kind = SIM_KEY_GROUP, .group = slo_keys, .help = "latency targets"},
  {.name = "output", .kind = SIM_KEY_GROUP, .group = output_keys, .help = "time series and per-request rows"},
  {.name = "speculative", .kind = SIM_KEY_GROUP, .offset = P(spec), .group = spec_keys,
   .help = "speculative decoding: a draft model or head proposes tokens the model verifies in one step"},
  SIM_KEY_END,
};
#undef P

/* route_names from the router's own table, once (before any lookup). */
__attribute__((constructor)) static void fill_route_names(void)
{
  for (int i = 0; route_types[i] && i < 7; i++) route_names[i] = route_types[i]->name;
}

/* ---- checks ---- */

static void size_params(const srv_size_cfg *c, wl_size_params *p)
{
  memset(p, 0, sizeof *p);
  p->kind = (wl_size_kind)c->dist;
  p->value = c->value;
  p->min = c->min;
  p->max = c->max;
  p->mean = c->mean;
  p->sd = c->sd;
  p->cv = c->cv;
  p->values = c->ivalues;
  p->nvalues = (size_t)c->nvalues;
}

static void check_class(srv_class_cfg *c, const char *at, sim_check *ck)
{
  char key[256], why[512];
  if (c->has_trace && c->has_arrivals) {
    snprintf(key, sizeof key, "%s.trace", at);
    sim_check_fail(ck, key, "give arrivals or a trace, not both");
    return;
  }
  if (!c->has_trace && !c->has_arrivals) {
    snprintf(key, sizeof key, "%s", at);
    sim_check_fail(ck, key, "no arrivals: give arrivals = { ... } or trace = { file = \"...\"; }");
    return;
  }
  if (c->has_trace) {
    if (c->has_prompt || c->has_output) {
      snprintf(key, sizeof key, "%s.%s", at, c->has_prompt ? "prompt_tokens" : "output_tokens");
      sim_check_fail(ck, key, "a trace gives the sizes; remove this");
    }
    if (c->truncate) {
      snprintf(key, sizeof key, "%s.truncate", at);
      sim_check_fail(ck, key, "for a trace, write trace = { ...; truncate = true; }");
    }
    if (c->has_sessions || c->has_system_prompt || c->has_prompt_pool) {
      snprintf(key, sizeof key, "%s.%s", at,
               c->has_sessions ? "sessions" : c->has_system_prompt ? "system_prompt" : "prompt_pool");
      sim_check_fail(ck, key, "a trace gives every prompt as it was; conversations and system prompts are for "
                     "arrivals");
    }
    return;
  }
  c->arr.kind = (wl_arrivals_kind)c->process;
  if (c->process == WL_ARRIVALS_MMPP && (c->n_mmpp_rates != 2 || c->n_mmpp_sojourn != 2)) {
    snprintf(key, sizeof key, "%s.arrivals.mmpp", at);
    sim_check_fail(ck, key, "mmpp needs rates = [r1, r2] and sojourn_s = [s1, s2]");
    return;
  }
  if (c->process != WL_ARRIVALS_MMPP && c->arr.rate.base_per_s <= 0 && c->arr.rate.nsegments == 0) {
    snprintf(key, sizeof key, "%s.arrivals.rate", at);
    sim_check_fail(ck, key, "required: the mean arrival rate, > 0 (or segments)");
    return;
  }
  const char *bad = wl_arrivals_check(&c->arr, why, sizeof why);
  if (bad) {
    /* "key: what" from the workload module */
    const char *colon = strstr(bad, ": ");
    if (colon) {
      char sub[128];
      snprintf(sub, sizeof sub, "%.*s", (int)(colon - bad), bad);
      if (!strncmp(sub, "mmpp_rate_per_s", 15) || !strncmp(sub, "mmpp_sojourn_s", 14))
        snprintf(key, sizeof key, "%s.arrivals.mmpp", at);
      else if (!strcmp(sub, "gamma_cv"))
        snprintf(key, sizeof key, "%s.arrivals.cv", at);
      else if (!strcmp(sub, "base_per_s"))
        snprintf(key, sizeof key, "%s.arrivals.rate", at);
      else
        snprintf(key, sizeof key, "%s.arrivals.%s", at, sub);
      sim_check_fail(ck, key, "%s", colon + 2);
    } else {
      snprintf(key, sizeof key, "%s.arrivals", at);
      sim_check_fail(ck, key, "%s", bad);
    }
  }
  for (int s = 0; s < 2; s++) {
    srv_size_cfg *z = s ? &c->output : &c->prompt;
    const char *name = s ? "output_tokens" : "prompt_tokens";
    snprintf(key, sizeof key, "%s.%s", at, name);
    if (!(s ? c->has_output : c->has_prompt)) {
      sim_check_fail(ck, key, "required: { dist = \"fixed\"; value = 512; } or another size distribution");
      continue;
    }
    for (int i = 0; i < z->nvalues; i++) z->ivalues[i] = (int64_t)llround(z->values[i]);
    wl_size_params p;
    size_params(z, &p);
    bad = wl_size_check(&p, why, sizeof why);
    if (bad) {
      const char *colon = strstr(bad, ": ");
      if (colon) {
        char sub[300];
        snprintf(sub, sizeof sub, "%s.%.*s", key, (int)(colon - bad), bad);
        sim_check_fail(ck, sub, "%s", colon + 2);
      } else {
        sim_check_fail(ck, key, "%s", bad);
      }
    }
  }
  if (c->has_sessions) {
    snprintf(key, sizeof key, "%s.sessions.turns", at);
    srv_size_cfg *z = &c->sessions.turns;
    if (!c->sessions.has_turns) {
      sim_check_fail(ck, key, "required: turns per conversation, e.g. { dist = \"geometric\"; mean = 4.0; }");
    } else {
      for (int i = 0; i < z->nvalues; i++) z->ivalues[i] = (int64_t)llround(z->values[i]);
      size_params(z, &c->turns_p);
      bad = wl_size_check(&c->turns_p, why, sizeof why);
      if (bad) sim_check_fail(ck, key, "%s", bad);
    }
  }
  if (c->has_system_prompt && c->system_prompt.tokens < 1) {
    snprintf(key, sizeof key, "%s.system_prompt.tokens", at);
    sim_check_fail(ck, key, "required: the tokens of each system prompt, >= 1");
  }
  if (c->has_prompt_pool) {
    const srv_prompt_pool_cfg *pp = &c->prompt_pool;
    if (pp->size < 1) {
      snprintf(key, sizeof key, "%s.prompt_pool.size", at);
      sim_check_fail(ck, key, "required: the prompts in the pool, >= 1");
    } else if (pp->groups > pp->size) {
      snprintf(key, sizeof key, "%s.prompt_pool.groups", at);
      sim_check_fail(ck, key, "%lld groups of %lld prompts (expected at most one group per prompt)",
                     (long long)pp->groups, (long long)pp->size);
    }
    if (c->has_sessions || c->has_system_prompt) {
      snprintf(key, sizeof key, "%s.prompt_pool", at);
      sim_check_fail(ck, key, "given with %s (expected one way to build prompts)",
                     c->has_sessions ? "sessions" : "system_prompt");
    }
  }
}

static void serving_check(const void *params, sim_check *ck)
{
  srv_params *p = (srv_params *)params; /* completes derived fields of its own params */
  spec_section_check(&p->spec, ck);
  if (p->npools == 0) sim_check_fail(ck, "cluster.pools", "at least one pool: ( { gpu = \"a100-80gb\"; replicas = 4; } )");
  if (p->wl.nlisted > 0) {
    /* class keys written in workload itself would be silently unused */
    const srv_class_cfg *d = &p->wl.direct;
    const struct { bool stray; const char *key; } strays[] = {
      {d->has_arrivals, "workload.arrivals"},     {d->has_trace, "workload.trace"},
      {d->has_prompt, "workload.prompt_tokens"},  {d->has_output, "workload.output_tokens"},
      {strcmp(d->name, "default") != 0, "workload.name"}, {d->priority != 0, "workload.priority"},
      {d->slo_ttft_s > 0, "workload.ttft_slo_s"}, {d->slo_tpot_s > 0, "workload.tpot_slo_s"},
      {d->slo_e2e_s > 0, "workload.e2e_slo_s"}, {d->truncate, "workload.truncate"},
      {d->timeout_s > 0, "workload.timeout_s"}, {d->has_sessions, "workload.sessions"},
      {d->has_system_prompt, "workload.system_prompt"}, {d->has_prompt_pool, "workload.prompt_pool"}};
    bool any = false;
    for (size_t i = 0; i < sizeof strays / sizeof strays[0]; i++)
      if (strays[i].stray) {
        sim_check_fail(ck, strays[i].key, "with workload.classes, class keys go inside each class");
        any = true;
      }
    if (any) return;
    p->classes = p->wl.listed;
    p->nclasses = p->wl.nlisted;
    for (int i = 0; i < p->nclasses; i++) {
      char at[64];
      snprintf(at, sizeof at, "workload.classes.[%d]", i);
      check_class(&p->classes[i], at, ck);
      for (int j = 0; j < i; j++)
        if (!strcmp(p->classes[i].name, p->classes[j].name)) {
          snprintf(at, sizeof at, "workload.classes.[%d].name", i);
          sim_check_fail(ck, at, "\"%s\" names two classes", p->classes[i].name);
        }
    }
  } else {
    p->classes = &p->wl.direct;
    p->nclasses = 1;
    check_class(p->classes, "workload", ck);
  }
  for (int i = 0; i < p->nclasses; i++) {
    const char *n = p->classes[i].name;
    bool ok = *n != '\0';
    for (const char *q = n; *q; q++)
      if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '-' ||
            *q == '_'))
        ok = false;
    if (!ok) {
      char at[64];
      snprintf(at, sizeof at, p->wl.nlisted ? "workload.classes.[%d].name" : "workload.name", i);
      sim_check_fail(ck, at, "\"%s\": letters, digits, '-' and '_' only (it names output columns)", n);
    }
  }
}

/* ---- prepare: catalogs, memory, traces ---- */

static const net_link *find_link(const sim_setup *su, const char *name, const char *key, sim_check *ck)
{
  return sim_catalog_require(su->cats, "links", "link", name, ck, key);
}

/* Pool i's stack and effective scheduler settings: each key the scenario
 * wrote, else the stack's default, else the key's default; then the
 * effective token budget, checked (once per distinct stack). False after
 * reporting a problem. */
static bool pool_sched(srv_params *p, int i, const sim_setup *su, sim_check *ck)
{
  srv_pool_cfg *pl = &p->pools[i];
  char key[128];
  const char *name = *pl->stack ? pl->stack : p->sched.stack;
  if (*pl->stack)
    snprintf(key, sizeof key, "cluster.pools.[%d].stack", i);
  else
    snprintf(key, sizeof key, "scheduler.stack");
  pl->sp = stack_require(su->cats, name, ck, key);
  if (!pl->sp) return false;
  const stack_profile *sp = pl->sp;
  srv_sched_cfg *sc = &pl->sched;
  *sc = p->sched;
  if (!sc->has_policy) sc->policy = sp->policy == STACK_POLICY_CHUNKED ? SRV_CHUNKED : SRV_CONTINUOUS;
  if (!sc->has_max_num_seqs) sc->max_num_seqs = sp->max_num_seqs;
  if (!sc->has_max_batched_tokens) sc->max_batched_tokens = sp->max_batched_tokens;
  if (!sc->has_block_size) sc->block_size = sp->block_size;
  /* the pool's longest context and whether a model it holds keeps sliding windows */
  int64_t context = 0;
  const llm_arch *windowed = NULL;
  for (int j = 0; j < p->nmodels; j++) {
    if (!(pl->model_mask >> j & 1)) continue;
    if (p->model_context[j] > context) context = p->model_context[j];
    if (!windowed && llm_window_layers(p->models[j]) > 0) windowed = p->models[j];
  }
  if (!sc->has_prefix_caching)
    sc->prefix_caching = sp->prefix_caching && sc->policy != SRV_STATIC && sc->policy != SRV_DYNAMIC && !windowed;
  pl->frontend_s = sp->frontend_request_s + sp->frontend_token_s;
  int64_t bt = sc->max_batched_tokens;
  if (bt == 0) bt = sc->policy == SRV_CHUNKED ? 2048 : (context > 2048 ? context : 2048);
  sc->batched_tokens = bt;
  /* pools sharing a stack and models share the settings: report once */
  for (int j = 0; j < i; j++)
    if (p->pools[j].sp == sp && p->pools[j].model_mask == pl->model_mask) return true;
  char from[200] = "";
  if (!sc->has_max_batched_tokens && sc->max_batched_tokens > 0)
    snprintf(from, sizeof from, " (stack %s's default; write scheduler.max_batched_tokens)", sp->name);
  if (sc->policy == SRV_CONTINUOUS && bt < context) {
    sim_check_fail(ck, "scheduler.max_batched_tokens",
                   "%lld%s is less than the context (%lld): a long prompt could never be scheduled without "
                   "chunked prefill (policy = \"chunked-prefill\")",
                   (long long)bt, from, (long long)context);
    return false;
  }
  if (sc->prefix_caching && (sc->policy == SRV_STATIC || sc->policy == SRV_DYNAMIC))
    sim_check_fail(ck, "scheduler.prefix_caching",
                   "true with a %s batch (expected false: prefix caching is for the continuous and chunked-prefill "
                   "policies)", sc->policy == SRV_STATIC ? "static" : "dynamic");
  if (sc->prefix_caching && windowed)
    sim_check_fail(ck, "scheduler.prefix_caching",
                   "true for %s, whose layers keep sliding windows (not modelled: expected false)", windowed->name);
  /* the prefix cache's lower tiers: below a GPU tier, host memory first */
  if (sc->prefix_cache_host_gb > 0 && !sc->prefix_caching)
    sim_check_fail(ck, "scheduler.prefix_cache_host_gb",
                   "%g GB of host memory for a prefix cache that is off (expected 0, or scheduler.prefix_caching "
                   "= true)", sc->prefix_cache_host_gb);
  if (sc->prefix_cache_ssd_gb > 0 && !(sc->prefix_cache_host_gb > 0))
    sim_check_fail(ck, "scheduler.prefix_cache_ssd_gb",
                   "%g GB of SSD without a host-memory tier (expected 0, or scheduler.prefix_cache_host_gb > 0: "
                   "the SSD takes what host memory evicts)", sc->prefix_cache_ssd_gb);
  if (sc->num_scheduler_steps > 1 && (sc->policy == SRV_STATIC || sc->policy == SRV_DYNAMIC))
    sim_check_fail(ck, "scheduler.num_scheduler_steps",
                   "%lld steps per scheduling with a %s batch (expected 1: multi-step scheduling is for the "
                   "continuous and chunked-prefill policies)",
                   (long long)sc->num_scheduler_steps, sc->policy == SRV_STATIC ? "static" : "dynamic");
  if (sc->policy == SRV_CHUNKED && bt < sc->max_num_seqs)
    sim_check_fail(ck, "scheduler.max_batched_tokens",
                   "%lld%s is less than max_num_seqs (%lld): every running sequence needs a token per step",
                   (long long)bt, from, (long long)sc->max_num_seqs);
  return true;
}

/* Model j as pool i's replicas would hold it: its layout on the pool's
 * GPUs, memory and KV-cache blocks (into pl->lr, kv_blocks, weights_gib,
 * activations_gib, then pl->var[j] with its swap-in time). False after
 * reporting that it cannot be held. */
static bool prepare_pool_model(srv_params *p, int i, int j, const sim_setup *su, sim_check *ck)
{
  (void)su;
  const srv_sched_cfg *sc = &p->pools[i].sched;
  srv_pool_cfg *pl = &p->pools[i];
  char key[128];
  const llm_arch *m = p->models[j];
  int64_t context = p->model_context[j];
  const gpu_spec *g = pl->g;
  int tp = (int)pl->tp, pp = (int)pl->pp;
  snprintf(key, sizeof key, "cluster.pools.[%d].tp", i);
  if (m->heads % tp != 0) {
    sim_check_fail_capacity(ck, key, "tensor parallelism of %d does not divide %s's %lld attention heads", tp, m->name,
                   (long long)m->heads);
    return false;
  }
  if (tp > 1 && pl->node->scope == NET_SCOPE_NODE && tp > pl->gpus_per_node) {
    sim_check_fail_capacity(ck, key, "tp %d exceeds the %lld GPUs of a node joined by %s", tp,
                   (long long)pl->gpus_per_node, pl->node->name);
    return false;
  }
  snprintf(key, sizeof key, "cluster.pools.[%d].pp", i);
  if (pp > m->layers) {
    sim_check_fail_capacity(ck, key, "%d pipeline stages for %s's %lld layers", pp, m->name, (long long)m->layers);
    return false;
  }
  int dpa = (int)pl->dp_attention, stage = tp * dpa, gpus = tp * pp * dpa;
  int ep = pl->ep > 0 ? (int)pl->ep : (dpa > 1 && m->experts > 1 ? stage : 1);
  bool moe_ok = true;
  snprintf(key, sizeof key, "cluster.pools.[%d].ep", i);
  if (ep > 1 && m->experts <= 1) {
    sim_check_fail(ck, key, "%s has no experts to split (expected 1, or leave ep out)", m->name);
    moe_ok = false;
  } else if (stage % ep != 0) {
    sim_check_fail(ck, key, "ep %d does not divide tp x dp_attention = %d (expected a divisor of it)", ep, stage);
    moe_ok = false;
  } else if (ep > 1 && (pl->expert_slots > 0 ? pl->expert_slots : m->experts) % ep != 0) {
    sim_check_fail(ck, key, "ep %d does not divide %s's %lld expert slots (expected a divisor, or expert_slots)",
                   ep, m->name, (long long)(pl->expert_slots > 0 ? pl->expert_slots : m->experts));
    moe_ok = false;
  }
  snprintf(key, sizeof key, "cluster.pools.[%d].expert_slots", i);
  if (pl->expert_slots > 0 && pl->expert_slots < m->experts) {
    sim_check_fail(ck, key, "%lld slots for %s's %lld experts (expected at least the experts)",
                   (long long)pl->expert_slots, m->name, (long long)m->experts);
    moe_ok = false;
  }
  snprintf(key, sizeof key, "cluster.pools.[%d].expert_imbalance", i);
  if (pl->expert_imbalance != 0 && pl->expert_imbalance < 1) {
    sim_check_fail(ck, key, "%g is below 1 (expected max/mean >= 1, or 0 for the balanced floor)",
                   pl->expert_imbalance);
    moe_ok = false;
  }
  if (!moe_ok) return false;
  const net_link *ep_link = stage > pl->gpus_per_node ? pl->net : pl->node;
  const net_link *pp_link = (int64_t)stage * pp > pl->gpus_per_node ? pl->net : pl->node;
  gpu_precision dtype = (gpu_precision)p->model.precision;
  if (gpu_peak_flops(g, gpu_compute_precision(g, dtype)) <= 0) {
    snprintf(key, sizeof key, "cluster.pools.[%d].gpu", i);
    sim_check_fail(ck, key, "%s has no %s throughput in the catalog", g->name, gpu_precision_names[dtype]);
    return false;
  }
  llm_replica_init(&pl->lr, m, g, dtype, tp, pp, tp > 1 ? pl->node : NULL, pp > 1 ? pp_link : NULL,
                   sc->step_overhead_s);
  stack_apply(pl->sp, &pl->lr, sc->has_step_overhead_s ? sc->step_overhead_s : -1, pl->gpu_memory_utilization);
  if (dpa > 1 || ep > 1)
    llm_replica_set_moe(&pl->lr, dpa, ep, pl->expert_imbalance, (double)pl->expert_slots, pl->fp8_dispatch,
                        ep_link);
  /* memory: weights and the activations of the largest step, then KV */
  double step_tokens = (double)sc->batched_tokens, seqs = (double)sc->max_num_seqs;
  if (sc->policy == SRV_STATIC || sc->policy == SRV_DYNAMIC) {
    double b = (double)(sc->policy == SRV_STATIC ? sc->batch_size : sc->max_batch_size);
    seqs = b;
    step_tokens = b * (double)context;
  }
  /* model j's speculation (the section's, or its entry's) */
  const spec_cfg *spc = &p->spec.of[j];
  bool spec = spec_on(spc);
  pl->spec = (spec_pool){0};
  if (spec) {
    /* a verification step: k + 1 tokens and rows of logits per sequence;
     * the drafter's weights and KV (per token, beside the target's) */
    snprintf(key, sizeof key, "cluster.pools.[%d]", i);
    if (!spec_pool_prepare(spc, &pl->spec, &pl->lr, pl->sp, sc->has_step_overhead_s ? sc->step_overhead_s : -1,
                           pl->gpu_memory_utilization, key, ck))
      return false;
    double vt = seqs * (double)(spc->k + 1);
    if (vt > step_tokens) step_tokens = vt;
    seqs = vt;
  }
  llm_memory mem;
  llm_memory_need(&pl->lr, 0, step_tokens, seqs, &mem);
  if (spec) {
    mem.weights += pl->spec.weights_bytes_gpu;
    mem.total += pl->spec.weights_bytes_gpu;
  }
  pl->weights_gib = mem.weights / GIB;
  pl->activations_gib = mem.activations / GIB;
  /* a stack that takes a share of the memory left free (mem_of_free)
   * takes it after the drafter's weights too */
  double spec_budget = mem.usable - mem.total;
  if (spec && pl->lr.mem_of_free && spec_budget > 0)
    spec_budget += pl->spec.weights_bytes_gpu * (1 - pl->lr.mem_utilization);
  pl->kv_blocks = pl->num_gpu_blocks > 0 ? pl->num_gpu_blocks
                  : spec ? kv_blocks_in_bytes(spec_budget,
                                              kv_bytes_per_token_gpu(&pl->lr) + pl->spec.kv_bytes_token_gpu,
                                              (int)sc->block_size)
                         : kv_replica_blocks(&pl->lr, (int)sc->block_size, step_tokens, seqs);
  /* LoRA: the pool's adapter slots, each as large as the largest adapter
   * of the model, come out of the KV cache (vLLM reserves them at start) */
  double lora_slot = 0;
  for (int c = 0; c < p->nclasses; c++)
    if (p->classes[c].has_lora && p->classes[c].model_idx == j) {
      double b = p->classes[c].lora_bytes / tp;
      if (b > lora_slot) lora_slot = b;
    }
  if (lora_slot > 0 && pl->num_gpu_blocks == 0) {
    double per_block = (kv_bytes_per_token_gpu(&pl->lr) + (spec ? pl->spec.kv_bytes_token_gpu : 0)) *
                       (double)sc->block_size;
    int64_t take = (int64_t)ceil((double)pl->lora_slots * lora_slot / per_block);
    pl->kv_blocks = pl->kv_blocks > take ? pl->kv_blocks - take : 0;
  }
  /* one request of the full context must be admissible: its blocks plus
   * the watermark kept free at admission (continuous policies) */
  int64_t one = (context + sc->block_size - 1) / sc->block_size;
  if (sc->policy == SRV_CONTINUOUS || sc->policy == SRV_CHUNKED)
    one += (int64_t)floor(sc->watermark * (double)pl->kv_blocks);
  snprintf(key, sizeof key, "cluster.pools.[%d]", i);
  char dpa_note[48] = "";
  if (dpa > 1) snprintf(dpa_note, sizeof dpa_note, " x dp_attention %d", dpa);
  if (mem.weights + mem.activations > mem.usable) {
    double hold = ceil(mem.weights * gpus / mem.usable);
    char why[256];
    if (hold > gpus)
      snprintf(why, sizeof why, "the weights alone need %g GPUs: raise tp or pp", hold);
    else
      snprintf(why, sizeof why,
               "the weights fit, the step does not: lower scheduler.max_batched_tokens, the batch size "
               "or model.max_context");
    sim_check_fail_capacity(ck, key,
                   "%s in %s does not fit on %d x %s (tp %d x pp %d%s): each GPU needs %.1f GiB for weights "
                   "and %.1f GiB for the activations of a %g-token step, but %.0f%% of its %.1f GiB is "
                   "%.1f GiB; short by %.1f GiB before any KV cache (%s)",
                   m->name, gpu_precision_names[dtype], gpus, g->name, tp, pp, dpa_note, mem.weights / GIB,
                   mem.activations / GIB, step_tokens, pl->lr.mem_utilization * 100, mem.capacity / GIB,
                   mem.usable / GIB, (mem.weights + mem.activations - mem.usable) / GIB, why);
  } else if (pl->kv_blocks < one) {
    sim_check_fail_capacity(ck, key,
                   "%s on %d x %s leaves room for %lld KV-cache tokens, less than one request of the "
                   "context length (%lld tokens): use more GPUs per replica (tp, pp), a lower precision, "
                   "fewer batched tokens or a shorter model.max_context",
                   m->name, gpus, g->name, (long long)(pl->kv_blocks * sc->block_size),
                   (long long)context);
  }
  /* the prefix cache's tiers below the GPU: blocks of the GPU's own size
   * (its KV per token, the drafter's too), loads over its host link; the
   * pool's fields are its first model's, var[j]'s each model's (a replica
   * swapping models sizes its tiers anew) */
  int64_t host_blocks0 = pl->tier_host_blocks, ssd_blocks0 = pl->tier_ssd_blocks;
  double block_bytes0 = pl->tier_block_bytes;
  pl->tier_host_blocks = pl->tier_ssd_blocks = 0;
  if (sc->prefix_caching && sc->prefix_cache_host_gb > 0) {
    double tok = kv_bytes_per_token_gpu(&pl->lr) + (spec ? pl->spec.kv_bytes_token_gpu : 0);
    pl->tier_block_bytes = tok * (double)sc->block_size;
    pl->tier_host_blocks = kv_blocks_in_bytes(sc->prefix_cache_host_gb * 1e9, tok, (int)sc->block_size);
    pl->tier_ssd_blocks = kv_blocks_in_bytes(sc->prefix_cache_ssd_gb * 1e9, tok, (int)sc->block_size);
    const net_link *hl = g->host_link;
    pl->tier_host_bw = sc->prefix_cache_host_gbs > 0 ? sc->prefix_cache_host_gbs * 1e9 : hl ? net_bw(hl) : 0;
    pl->tier_alpha_s = hl ? net_alpha_s(hl) : 0;
    pl->tier_ssd_bw = sc->prefix_cache_ssd_gbs * 1e9;
    if (pl->tier_host_blocks < 1)
      sim_check_fail(ck, "scheduler.prefix_cache_host_gb",
                     "%g GB holds no KV block of %s on %s (a block is %.3g MB per GPU; expected at least that)",
                     sc->prefix_cache_host_gb, m->name, g->name, pl->tier_block_bytes / 1e6);
    else if (pl->tier_host_blocks > INT32_MAX || pl->tier_ssd_blocks > INT32_MAX)
      sim_check_fail(ck, pl->tier_host_blocks > INT32_MAX ? "scheduler.prefix_cache_host_gb" : "scheduler.prefix_cache_ssd_gb",
                     "more than %d KV blocks per replica (expected fewer GB)", INT32_MAX);
    if (sc->prefix_cache_ssd_gb > 0 && pl->tier_ssd_blocks < 1)
      sim_check_fail(ck, "scheduler.prefix_cache_ssd_gb", "%g GB holds no KV block (a block is %.3g MB per GPU)",
                     sc->prefix_cache_ssd_gb, pl->tier_block_bytes / 1e6);
    if (!(pl->tier_host_bw > 0) && j == pl->first_model)
      sim_check_fail(ck, "scheduler.prefix_cache_host_gbs",
                     "0 and %s has no host link in the catalog (expected the host-to-GPU bandwidth in GB/s)", g->name);
  }
  srv_pool_model *v = &pl->var[j];
  v->tier_host_blocks = pl->tier_host_blocks;
  v->tier_ssd_blocks = pl->tier_ssd_blocks;
  v->tier_block_bytes = pl->tier_block_bytes;
  if (j != pl->first_model) {
    pl->tier_host_blocks = host_blocks0;
    pl->tier_ssd_blocks = ssd_blocks0;
    pl->tier_block_bytes = block_bytes0;
  }
  v->lr = pl->lr;
  v->spec = pl->spec;
  v->kv_blocks = pl->kv_blocks;
  v->weights_gib = pl->weights_gib;
  v->activations_gib = pl->activations_gib;
  /* a swap loads the weights: from host memory each GPU its shard over its
   * own host link at once; from storage the replica's share of it */
  double shard = pl->weights_gib * GIB;
  if (p->swap.load_gbs > 0)
    v->swap_s = shard * gpus / (p->swap.load_gbs * 1e9);
  else if (p->swap.from == SRV_WEIGHTS_HOST_MEMORY && g->host_link)
    v->swap_s = net_p2p_s(g->host_link, shard);
  else
    v->swap_s = shard * gpus / (weights_gbs[p->swap.from] * 1e9);
  return true;
}

static void prepare_pool(srv_params *p, int i, const sim_setup *su, sim_check *ck)
{
  srv_pool_cfg *pl = &p->pools[i];
  int64_t gpus = pl->tp * pl->pp * pl->dp_attention;
  char key[128];
  snprintf(key, sizeof key, "cluster.pools.[%d].gpu", i);
  pl->g = sim_catalog_require(su->cats, "gpus", "GPU", pl->gpu, ck, key);
  if (!pl->g) return;
  const gpu_spec *g = pl->g;
  snprintf(key, sizeof key, "cluster.pools.[%d].node_link", i);
  pl->node = *pl->node_link ? find_link(su, pl->node_link, key, ck)
                            : g->scaleup_link ? g->scaleup_link : g->host_link;
  snprintf(key, sizeof key, "cluster.pools.[%d].net_link", i);
  if (*pl->net_link) {
    pl->net = find_link(su, pl->net_link, key, ck);
  } else {
    bool ndr = g->scaleup_link && !strcmp(g->scaleup_link->name, "nvlink4");
    pl->net = sim_catalog_find(su->cats, "links", ndr ? "ib-ndr" : "ib-hdr");
    if (!pl->net) pl->net = pl->node;
  }
  if (!pl->node || !pl->net) return;
  bool held = true;
  for (int j = 0; j < p->nmodels && held; j++)
    if (pl->model_mask >> j & 1) held = prepare_pool_model(p, i, j, su, ck);
  if (!held) return;
  const srv_pool_model *v0 = &pl->var[pl->first_model];
  pl->lr = v0->lr;
  pl->spec = v0->spec;
  pl->kv_blocks = v0->kv_blocks;
  pl->weights_gib = v0->weights_gib;
  pl->activations_gib = v0->activations_gib;
  snprintf(key, sizeof key, "cluster.pools.[%d]", i);
  /* most specific first: the pool's price, the cost section's, the
   * provider's for the pricing, owned (the purchase price amortised), the
   * catalog's reference price */
  pl->usd_per_kwh = p->cost.usd_per_kwh;
  double from_provider = NAN;
  if (*pl->provider) {
    snprintf(key, sizeof key, "cluster.pools.[%d].provider", i);
    pl->prov = cost_provider_require(su->cats, pl->provider, g->name, ck, key);
    if (pl->prov && pl->pricing != COST_PRICING_OWNED) {
      snprintf(key, sizeof key, "cluster.pools.[%d].pricing", i);
      if (pl->usd_per_gpu_hour > 0 || p->cost.usd_per_gpu_hour > 0)
        from_provider = cost_provider_price(pl->prov, (cost_pricing)pl->pricing);
      else
        from_provider = cost_provider_require_price(pl->prov, cost_pricing_names[pl->pricing], ck, key);
      const cost_provider *pv = pl->prov;
      if (!pl->has_billing_increment_s && pv->billing_increment_s >= 0) pl->billing_increment_s = pv->billing_increment_s;
      if (!pl->has_billing_minimum_s && pv->billing_minimum_s >= 0) pl->billing_minimum_s = pv->billing_minimum_s;
      if (!pl->has_startup_s && pv->startup_s >= 0) pl->startup_s = pv->startup_s;
      if (pl->pricing == COST_PRICING_SPOT) {
        if (!pl->has_interruption_notice_s && pv->spot_notice_s >= 0) pl->interruption_notice_s = pv->spot_notice_s;
        if (!pl->has_interruptions_per_hour) {
          if (pv->spot_interruptions_per_hour >= 0)
            pl->interruptions_per_hour = pv->spot_interruptions_per_hour;
          else {
            snprintf(key, sizeof key, "cluster.pools.[%d].interruptions_per_hour", i);
            sim_check_warn(ck, key, "%s publishes no interruption rate for spot %s: these replicas are never taken "
                           "back; write the rate you expect (AWS's Spot Instance Advisor bands run from <5%% to "
                           ">20%% of instances a month)", pl->prov->provider, g->name);
          }
        }
      }
      if (pv->max_gpus > 0) {
        int64_t most = (pl->as.policy != AS_NONE ? pl->as.max_replicas : pl->replicas) * (int64_t)gpus;
        if (most > pv->max_gpus) {
          snprintf(key, sizeof key, "cluster.pools.[%d]", i);
          sim_check_fail_capacity(ck, key, "%lld GPUs, more than the %lld %s has for %s (its cap; lead time %g days)",
                         (long long)most, (long long)pv->max_gpus, pv->provider, g->name, pv->lead_time_days);
        }
      }
    }
  } else if (pl->pricing != COST_PRICING_ON_DEMAND && pl->pricing != COST_PRICING_OWNED &&
             !(pl->usd_per_gpu_hour > 0 || p->cost.usd_per_gpu_hour > 0)) {
    /* a committed or spot price is a provider's, or one the scenario writes */
    snprintf(key, sizeof key, "cluster.pools.[%d].pricing", i);
    sim_check_fail(ck, key, "%s needs a provider (cluster.pools.[%d].provider: clustersim list providers) or "
                   "the pool's usd_per_gpu_hour", cost_pricing_names[pl->pricing], i);
  }
  double owned = NAN;
  if (pl->pricing == COST_PRICING_OWNED) {
    double o = cost_owned_usd_per_gpu_hour(g->purchase_usd, p->cost.amortization_years);
    if (o >= 0) owned = o;
    else if (!(pl->usd_per_gpu_hour > 0 || p->cost.usd_per_gpu_hour > 0)) {
      snprintf(key, sizeof key, "cluster.pools.[%d].pricing", i);
      sim_check_fail(ck, key, "owned %s has no purchase price in the catalog (give purchase_usd with --catalog, "
                     "or the pool's usd_per_gpu_hour)", g->name);
    }
    /* owned hardware pays its electricity (rented prices include it) */
    if (!(pl->usd_per_kwh > 0)) pl->usd_per_kwh = SRV_OWNED_USD_PER_KWH;
  }
  double price = pl->usd_per_gpu_hour > 0   ? pl->usd_per_gpu_hour
                 : p->cost.usd_per_gpu_hour > 0 ? p->cost.usd_per_gpu_hour
                 : from_provider >= 0           ? from_provider
                 : owned >= 0                   ? owned
                 : g->price_usd_per_hour > 0    ? g->price_usd_per_hour
                                                 : NAN;
  pl->price = price;
  if (isnan(price)) {
    char gk[160];
    snprintf(gk, sizeof gk, "%s.gpu", key);
    sim_check_warn(ck, gk, "no price for GPU %s: cost_usd and usd_per_* are null; set cost.usd_per_gpu_hour or "
                   "give the GPU a price (--catalog)", g->name);
  }
}

/* A pool's autoscaler and a new replica's delay (after its memory: the
 * weights it loads). */
static void prepare_elastic(srv_params *p, int i, sim_check *ck)
{
  srv_pool_cfg *pl = &p->pools[i];
  as_cfg *a = &pl->as;
  char key[128];
  double gbs = pl->weights_load_gbs > 0 ? pl->weights_load_gbs : weights_gbs[pl->weights_from];
  double gpus = (double)(pl->tp * pl->pp * pl->dp_attention);
  pl->ready_delay_s = pl->startup_s + pl->weights_gib * GIB * gpus / (gbs * 1e9) + pl->warmup_s;
  pl->slots = pl->replicas;
  if (pl->replicas == 0 && a->policy == AS_NONE) {
    snprintf(key, sizeof key, "cluster.pools.[%d].replicas", i);
    sim_check_fail(ck, key, "0 (expected at least 1, or an autoscale policy to start the pool from none)");
  }
  /* a spot pool keeps its size: a replacement starts at each notice, so
   * it may run twice its replicas for a while */
  bool spot = pl->interruptions_per_hour > 0;
  if (a->policy == AS_NONE) {
    if (spot) pl->slots = 2 * pl->replicas;
    return;
  }
#define AKEY(k) (snprintf(key, sizeof key, "cluster.pools.[%d].autoscale.%s", i, k), key)
  if (a->max_replicas == 0) {
    sim_check_fail(ck, AKEY("max_replicas"), "missing (expected the most replicas the %s policy may run)",
                   as_policy_names[a->policy]);
    return;
  }
  if (a->min_replicas > a->max_replicas)
    sim_check_fail(ck, AKEY("min_replicas"), "%lld is more than max_replicas %lld", (long long)a->min_replicas,
                   (long long)a->max_replicas);
  if (pl->replicas > a->max_replicas) {
    snprintf(key, sizeof key, "cluster.pools.[%d].replicas", i);
    sim_check_fail(ck, key, "starts at %lld, more than autoscale.max_replicas %lld", (long long)pl->replicas,
                   (long long)a->max_replicas);
  }
  const char *bad = as_plan_check(a->plan, a->nplan);
  if (bad) sim_check_fail(ck, AKEY("schedule"), "%s (expected ( { at_h; replicas; }, ... ) by hour)", bad);
  if (a->policy == AS_SCHEDULED && a->nplan == 0)
    sim_check_fail(ck, AKEY("schedule"), "missing (the scheduled policy follows a daily plan)");
  for (int k = 0; k < a->nplan; k++)
    if (a->plan[k].replicas > a->max_replicas) {
      snprintf(key, sizeof key, "cluster.pools.[%d].autoscale.schedule.[%d].replicas", i, k);
      sim_check_fail(ck, key, "%lld, more than max_replicas %lld", (long long)a->plan[k].replicas,
                     (long long)a->max_replicas);
    }
  if (a->policy == AS_REACTIVE && a->target == 0) {
    switch ((srv_scale_metric)pl->as_metric) {
    case SRV_METRIC_CAPACITY: a->target = 0.7; break;
    case SRV_METRIC_RUNNING: a->target = 0.7 * (double)pl->sched.max_num_seqs; break;
    case SRV_METRIC_KV: a->target = 0.7; break;
    case SRV_METRIC_QUEUE: a->target = 2; break;
    case SRV_METRIC_TTFT_P99:
      a->target = p->slo.ttft_s;
      if (!(a->target > 0))
        sim_check_fail(ck, AKEY("target"), "missing (ttft_p99 needs a target in seconds, or slo.ttft_s)");
      break;
    }
  }
  if (a->policy == AS_PREDICTIVE)
    for (int c = 0; c < p->nclasses; c++)
      if (p->classes[c].has_trace)
        sim_check_fail(ck, AKEY("policy"), "predictive reads the arrival rate ahead, and a trace has none "
                       "(expected reactive or scheduled)");
  pl->slots = spot ? 2 * a->max_replicas : a->max_replicas;
#undef AKEY
}

/* workload.load_scale applied to a class: rates (base, segments, MMPP
 * states) times the scale, a trace replayed that much faster. Spikes,
 * daily cycle and growth are factors and stay. */
static void scale_class(srv_class_cfg *c, double k)
{
  if (k == 1) return;
  if (c->has_trace) {
    c->trace.time_scale *= k;
    return;
  }
  c->arr.rate.base_per_s *= k;
  for (int i = 0; i < c->arr.rate.nsegments; i++) c->arr.rate.segments[i].rate_per_s *= k;
  for (int i = 0; i < 2; i++) c->arr.mmpp_rate_per_s[i] *= k;
}

static void prepare_class(srv_params *p, srv_class_cfg *c, const char *at, const sim_setup *su, sim_check *ck)
{
  char pkey[96];
  c->pool_mask = 0;
  if (c->pool >= p->npools) {
    snprintf(pkey, sizeof pkey, "%s.pool", at);
    sim_check_fail(ck, pkey, "pool %lld, but the cluster has %d (expected -1 or 0..%d)", (long long)c->pool,
                   p->npools, p->npools - 1);
  } else if (c->pool >= 0) {
    c->pool_mask = 1u << c->pool;
  }
  snprintf(pkey, sizeof pkey, "%s.pools", at);
  if (c->npools > 0 && c->pool >= 0)
    sim_check_fail(ck, pkey, "given with pool (expected one of the two)");
  for (int k = 0; k < c->npools; k++) {
    double v = c->pools[k];
    if (v != floor(v) || v >= p->npools)
      sim_check_fail(ck, pkey, "%g is not a pool of the cluster's %d (expected 0..%d)", v, p->npools, p->npools - 1);
    else
      c->pool_mask |= 1u << (int)v;
  }
  scale_class(c, p->wl.load_scale);
  c->ttft_target = c->slo_ttft_s > 0 ? c->slo_ttft_s : p->slo.ttft_s;
  c->tpot_target = c->slo_tpot_s > 0 ? c->slo_tpot_s : p->slo.tpot_s;
  c->e2e_target = c->slo_e2e_s > 0 ? c->slo_e2e_s : p->slo.e2e_s;
  c->cut = c->has_trace ? c->trace.truncate : c->truncate;
  if (c->has_trace) {
    char key[128];
    snprintf(key, sizeof key, "%s.trace.file", at);
    sim_trace_column cols[3] = {{c->trace.prompt_column, 1}, {c->trace.output_column, 0}, {c->trace.session_column, 0}};
    if (!su->read_trace(su, key, c->trace.file, c->trace.time_column, cols, *c->trace.session_column ? 3 : 2, &c->tr))
      return;
    /* rows the model cannot take, counted now so that the user hears of
     * them before the run (srv_fit_context applies the same rule) */
    c->too_long_rows = 0;
    for (size_t r = 0; r < c->tr.rows; r++) {
      int64_t in = c->tr.values[0][r], out = c->tr.values[1][r] < 1 ? 1 : c->tr.values[1][r];
      if (in > c->context - out) c->too_long_rows++;
    }
    if (c->too_long_rows > 0) {
      char a[32], b[32], k[32];
      snprintf(key, sizeof key, "%s.trace", at);
      sim_check_warn(ck, key, "%s of %s rows ask for more than %s's context of %s tokens (prompt + output): %s",
                     srv_grouped(c->too_long_rows, a, sizeof a), srv_grouped((int64_t)c->tr.rows, b, sizeof b),
                     p->models[c->model_idx]->name, srv_grouped(c->context, k, sizeof k),
                     c->cut ? "they will be cut to fit (trace.truncate; requests_truncated)"
                            : "they will be rejected, as vLLM's API server does (requests_too_long); "
                              "trace.truncate = true cuts them to fit instead");
    }
    return;
  }
  /* Draws are capped at the context: a draw that reaches the cap is too
   * long (with at least one output token) exactly when the uncapped draw
   * is, so srv_fit_context decides as if there were no cap, and the
   * sizes stay within the simulator's integers. */
  size_params(&c->prompt, &c->prompt_p);
  size_params(&c->output, &c->output_p);
  c->prompt_p.cap = c->context;
  c->output_p.cap = c->context;
}

/* The saturation probe's mix: each class's expected arrivals over the
 * arrival window - workload.duration_s, else the horizon, else the
 * traces' span, else a day - as a share of all, rounded to 1e-12 so that
 * rates scaled alike (workload.load_scale) give the same shares. */
static void mix_weights(srv_params *p, double horizon_s)
{
  double D = p->wl.duration_s > 0 ? p->wl.duration_s : horizon_s;
  if (D <= 0)
    for (int i = 0; i < p->nclasses; i++) {
      const srv_class_cfg *c = &p->classes[i];
      if (c->has_trace && c->tr.rows > 0) {
        double end = sim_time_to_s(sim_trace_time(&c->tr, c->tr.rows - 1, c->trace.time_scale,
                                                  sim_time_from_s(c->trace.offset_s)));
        if (end > D) D = end;
      }
    }
  if (D <= 0) D = 86400;
  double w[SRV_MAX_CLASSES], sum = 0;
  for (int i = 0; i < p->nclasses; i++) {
    const srv_class_cfg *c = &p->classes[i];
    if (c->has_trace) {
      size_t n = 0;
      sim_time end = D < 9e9 ? sim_time_from_s(D) : SIM_TIME_MAX, off = sim_time_from_s(c->trace.offset_s);
      while (n < c->tr.rows && sim_trace_time(&c->tr, n, c->trace.time_scale, off) <= end) n++;
      w[i] = (double)n;
    } else if (c->arr.kind == WL_ARRIVALS_POISSON) {
      w[i] = wl_rate_integral(&c->arr.rate, 0, D);
    } else {
      w[i] = wl_arrivals_mean_rate(&c->arr) * D;
    }
    if (!(w[i] > 0)) w[i] = 0;
    sum += w[i];
  }
  for (int i = 0; i < p->nclasses; i++)
    p->classes[i].mix_weight = sum > 0 ? nearbyint(w[i] / sum * 1e12) / 1e12 : 1.0 / p->nclasses;
}

/* Prefill/decode disaggregation: roles that make a working cluster (a
 * pool to prefill, one to decode), policies that have steps to split, the
 * transfer link; each class then routes to the pools that prefill (its
 * own pools among them). */
static void prepare_pd(srv_params *p, const sim_setup *su, sim_check *ck)
{
  uint32_t pre = 0, dec = 0;
  bool split = false;
  char key[96];
  for (int i = 0; i < p->npools; i++) {
    int role = p->pools[i].role;
    if (role != SRV_ROLE_DECODE) pre |= 1u << i;
    if (role != SRV_ROLE_PREFILL) dec |= 1u << i;
    if (role == SRV_ROLE_BOTH) continue;
    split = true;
    int pol = p->pools[i].sched.policy;
    if (pol == SRV_STATIC || pol == SRV_DYNAMIC) {
      snprintf(key, sizeof key, "cluster.pools.[%d].role", i);
      sim_check_fail(ck, key, "%s with a %s batch (expected the continuous or chunked-prefill policy: a "
                     "request leaves a static or dynamic batch only with the whole batch)",
                     srv_role_names[role], pol == SRV_STATIC ? "static" : "dynamic");
    }
  }
  if (*p->kv_transfer_link) {
    p->kv_link = find_link(su, p->kv_transfer_link, "cluster.kv_transfer_link", ck);
    if (p->kv_link && !split)
      sim_check_warn(ck, "cluster.kv_transfer_link", "unused: no pool has role \"prefill\" or \"decode\"");
  }
  if (!split) return;
  if (!pre) sim_check_fail(ck, "cluster.pools", "every pool has role \"decode\": nothing prefills a prompt "
                           "(expected a pool with role \"prefill\" or \"both\")");
  if (!dec) sim_check_fail(ck, "cluster.pools", "every pool has role \"prefill\": nothing decodes (expected a "
                           "pool with role \"decode\" or \"both\")");
  if (!pre || !dec) return;
  bool prefill = false;
  for (int i = 0; i < p->npools; i++) prefill |= p->pools[i].role == SRV_ROLE_PREFILL;
  p->pd = prefill;
  if (!prefill)
    sim_check_warn(ck, "cluster.pools", "no pool has role \"prefill\": requests prefill and decode on the "
                   "\"both\" pools, and the \"decode\" pools receive nothing");
  for (int i = 0; i < p->nclasses; i++) {
    srv_class_cfg *c = &p->classes[i];
    uint32_t m = c->pool_mask ? c->pool_mask & pre : pre;
    if (c->pool_mask && !m) {
      snprintf(key, sizeof key, p->wl.nlisted ? "workload.classes.[%d].pool" : "workload.pool", i);
      sim_check_fail(ck, key, "only decode pools (expected a pool with role \"prefill\" or \"both\": a "
                     "request is prefilled first)");
    }
    c->pool_mask = m;
  }
}

static void serving_prepare(void *params, const sim_setup *su, sim_check *ck)
{
  srv_params *p = params;
  p->m = sim_catalog_require(su->cats, "models", "model", p->model.name, ck, "model.name");
  if (!p->m) return;
  if (p->m->encoder_only) {
    sim_check_fail(ck, "model.name", "%s is an encoder: it generates no tokens to serve", p->m->name);
    return;
  }
  p->context = p->model.max_context > 0 ? p->model.max_context : p->m->max_context;
  if (p->context > p->m->max_context) {
    sim_check_fail(ck, "model.max_context", "%lld exceeds %s's context of %lld tokens",
                   (long long)p->context, p->m->name, (long long)p->m->max_context);
    return;
  }
  if (p->context < 2) {
    sim_check_fail(ck, "model.max_context", "at least 2 tokens (a prompt and an output)");
    return;
  }
  srv_models_resolve(p, su, ck);
  bool sched_ok = true;
  for (int i = 0; i < p->npools && sched_ok; i++) sched_ok = pool_sched(p, i, su, ck);
  if (!sched_ok) return;
  srv_lora_prepare(p, ck);
  spec_section_prepare(&p->spec, su->cats, p->models, p->nmodels, ck);
  if (p->spec.any) {
    for (int i = 0; i < p->npools; i++) {
      const srv_sched_cfg *sc = &p->pools[i].sched;
      /* only pools holding a model that speculates; reported at the
       * method that makes it speculate */
      int holds = -1;
      for (int j = 0; j < p->nmodels && holds < 0; j++)
        if ((p->pools[i].model_mask >> j & 1) && spec_on(&p->spec.of[j])) holds = j;
      if (holds < 0) continue;
      char mkey[64] = "speculative.method";
      if (p->spec.of[holds].entry >= 0 && p->spec.models[p->spec.of[holds].entry].has_method)
        snprintf(mkey, sizeof mkey, "speculative.models.[%d].method", p->spec.of[holds].entry);
      if (sc->policy == SRV_STATIC || sc->policy == SRV_DYNAMIC) {
        sim_check_fail(ck, mkey, "with a %s batch (expected the continuous or chunked-prefill "
                       "policy: speculation verifies draft tokens step by step)",
                       sc->policy == SRV_STATIC ? "static" : "dynamic");
        return;
      }
      if (sc->num_scheduler_steps > 1) {
        sim_check_fail(ck, mkey, "with scheduler.num_scheduler_steps = %lld (expected 1: vLLM "
                       "does not run multi-step scheduling with speculative decoding)",
                       (long long)sc->num_scheduler_steps);
        return;
      }
    }
  }
  p->batched_tokens = p->npools > 0 ? p->pools[0].sched.batched_tokens : 0;
  for (int i = 0; i < p->npools; i++) prepare_pool(p, i, su, ck);
  for (int i = 0; i < p->nclasses; i++) {
    char at[64];
    snprintf(at, sizeof at, p->wl.nlisted ? "workload.classes.[%d]" : "workload", i);
    prepare_class(p, &p->classes[i], at, su, ck);
  }
  srv_models_bind(p, ck);
  prepare_pd(p, su, ck);
  mix_weights(p, su->horizon_s);
  srv_models_place(p, ck);
  for (int i = 0; i < p->npools; i++) prepare_elastic(p, i, ck);
  bool endless = false;
  for (int i = 0; i < p->nclasses; i++)
    if (!p->classes[i].has_trace) endless = true;
  if (endless && p->wl.duration_s == 0 && p->wl.requests == 0 && su->horizon_s == 0)
    sim_check_fail(ck, "workload.duration_s",
                   "arrivals never stop: set workload.duration_s, workload.requests or the scenario's horizon_s");
}

static void serving_release_params(void *params)
{
  srv_params *p = params;
  for (int i = 0; i < p->wl.nlisted; i++) sim_trace_release(&p->wl.listed[i].tr);
  sim_trace_release(&p->wl.direct.tr);
}


/* The saturation probe of every pool, into the process's cache. */
static void serving_warm(const void *params)
{
  const srv_params *p = params;
  for (int i = 0; i < p->npools; i++) {
    srv_saturation sat;
    srv_saturation_get(p, i, &sat);
  }
}

const sim_component_type serving_component = {
  .name = "serving",
  .help = "an LLM inference service on GPU pools: model, cluster, workload, router, scheduler, cost, slo, output",
  .schema = serving_keys,
  .params_size = sizeof(srv_params),
  .sections = true,
  .check = serving_check,
  .prepare = serving_prepare,
  .warm = serving_warm,
  .release_params = serving_release_params,
  .create = serving_create,
  .report = serving_report,
  .destroy = serving_destroy,
};
