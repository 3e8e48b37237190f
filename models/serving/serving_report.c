/* models/serving/serving_report.c: what the serving component reports at
 * the end of a run (serving_report): the last time-series rows and the
 * latency CDF, the conservation check, and the summary's keys - requests,
 * latency quantiles, throughput and goodput, the SLO, utilisation and
 * capacity, cost and its split, the elastic pools' books, Little's law,
 * per pool and per class. Reads srv_sim (serving_int.h); keeps nothing. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/serving/serving_capacity.h"
#include "models/serving/serving_int.h"
#include "models/serving/serving_lora.h"
#include "sim/util.h"

/* ---- report ---- */

static void report_quantiles(sim_report *rep, const char *prefix, const char *what, sim_quantiles *q,
                             double sum, uint64_t n)
{
  static const struct { double p; const char *suffix, *label; } pct[] = {
    {0.50, "p50", "median"}, {0.90, "p90", "p90"}, {0.95, "p95", "p95"}, {0.99, "p99", "p99"},
    {0.999, "p999", "p99.9"}};
  char key[96], label[160];
  snprintf(key, sizeof key, "%s_mean_s", prefix);
  snprintf(label, sizeof label, "%s, mean (s)", what);
  sim_report_num(rep, key, n ? sum / (double)n : NAN, label);
  for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++) {
    snprintf(key, sizeof key, "%s_%s_s", prefix, pct[i].suffix);
    snprintf(label, sizeof label, "  %s (s)", pct[i].label);
    sim_report_num(rep, key, sim_quantiles_get(q, pct[i].p), label);
  }
}

/* poolN_*: each pool's share of the books, as the cluster's keys. */
/* Block-seconds of KV cache pool i's replicas held over the measured
 * window of T s (fixed pools): replicas x blocks x T, or for a pool whose
 * replicas swap models, the blocks of the models they held, over time. */
static double kv_there(const srv_sim *s, int i, sim_time now, double T)
{
  const srv_pool_cfg *pl = &s->p->pools[i];
  if (pl->model_mask & (pl->model_mask - 1))
    return srv_integral_at(&s->books[i].kv_cap, now) - s->books[i].kvcap0;
  return T * (double)pl->replicas * (double)pl->kv_blocks;
}

static void report_pools(srv_sim *s, sim_report *rep, sim_time now, double T, sim_time window,
                         const double *pool_cost)
{
  const srv_params *p = s->p;
  double W = window > 0 ? sim_time_to_s(window) : NAN;
  for (int i = 0; i < p->npools; i++) {
    const srv_pool_cfg *pl = &p->pools[i];
    const struct srv_pool_books *b = &s->books[i];
    /* replicas serving, time average (an elastic pool's changes) */
    double n = s->elastic ? srv_scale_up_s(s, i, now) / T : (double)pl->replicas;
    double sat = n * b->sat.rate_per_s, offered = (double)b->arrived / W;
    char key[64], label[160];
#define POOL_NUM(suffix, value, text)                                   \
    do {                                                                \
      snprintf(key, sizeof key, "pool%d_%s", i, suffix);                \
      snprintf(label, sizeof label, "  pool%d %s", i, text);          \
      sim_report_num(rep, key, (value), label);                         \
    } while (0)
    POOL_NUM("offered_rate_per_s", offered, "offered (requests/s routed to it)");
    POOL_NUM("saturation_rate_per_s", sat, "saturation rate (requests/s)");
    POOL_NUM("capacity_utilization", offered / sat, "capacity utilization");
    POOL_NUM("throughput_requests_per_s", (double)b->m_completed / T, "throughput (requests/s)");
    POOL_NUM("throughput_tokens_per_s", b->m_tokens / T, "throughput (prompt + output tokens/s)");
    POOL_NUM("output_tokens_per_s", b->m_out_tokens / T, "output tokens/s");
    POOL_NUM("gpu_utilization", srv_fraction((srv_integral_at(&b->busy, now) - b->busy0) / (n * T)),
             "GPU busy fraction");
    POOL_NUM("batch_occupancy", srv_fraction((srv_integral_at(&b->running, now) - b->running0) / T / (n * srv_seq_limit(s))),
             "batch occupancy");
    POOL_NUM("kv_cache_mean_fraction", srv_fraction((srv_integral_at(&b->kv_blocks, now) - b->kv0) / kv_there(s, i, now, T)),
             "KV-cache occupancy, time average");
    POOL_NUM("cost_usd", pool_cost[i], "cost (USD)");
    if (s->elastic) {
      const srv_scale_pool *sp = &s->scale[i];
      double g = (double)(pl->tp * pl->pp * pl->dp_attention);
      POOL_NUM("replicas_mean", n, "replicas serving, time average");
      snprintf(key, sizeof key, "pool%d_replicas_max", i);
      sim_report_int(rep, key, sp->up_max, "  most serving at once");
      snprintf(key, sizeof key, "pool%d_scale_ups", i);
      sim_report_int(rep, key, (int64_t)sp->ups, "  decisions that added replicas");
      snprintf(key, sizeof key, "pool%d_scale_downs", i);
      sim_report_int(rep, key, (int64_t)sp->downs, "  decisions that removed replicas");
      POOL_NUM("provisioning_gpu_hours", srv_scale_starting_s(s, i, now) * g / 3600,
               "GPU-hours billed while starting");
      POOL_NUM("ready_delay_s", pl->ready_delay_s, "a new replica's delay: start-up, weights, warm-up (s)");
    }
    double step_s = 0, outside_s = 0, coll_s = 0;
    for (int r = 0; r < s->nreps; r++)
      if (s->reps[r].pool == i) {
        step_s += s->reps[r].time_s;
        outside_s += s->reps[r].outside_s;
        coll_s += s->reps[r].coll_s;
      }
    POOL_NUM("host_time_fraction", step_s > 0 ? outside_s / step_s : NAN, "share of step time outside GPU kernels");
    POOL_NUM("collective_time_fraction", step_s > 0 ? coll_s / step_s : NAN, "share of step time in collectives");
#undef POOL_NUM
  }
}

void serving_report(void *self, sim_engine *eng, sim_report *rep)
{
  srv_sim *s = self;
  const srv_params *p = s->p;
  sim_time now = sim_now(eng);
  /* rows up to the end at the same interval (a horizon past the last
   * request leaves idle intervals), then the last, partial one */
  sim_time step = sim_time_from_s(p->output.interval_s);
  while (s->ts && now - s->tick_from > step) srv_write_tick(s, s->tick_from + step);
  srv_write_tick(s, now);
  if (s->spike_end >= 0 && s->drained_at < 0 && now > s->spike_end && srv_waiting_now(s) == 0) s->drained_at = now;
  srv_integral_set(&s->in_system, now, (double)s->live);
  srv_write_cdf(s);

  /* conservation: every arrival completed, rejected, or still in the system */
  int64_t inside = 0;
  for (int i = 0; i < s->nreps; i++) inside += srv_replica_in_system(&s->reps[i]);
  inside += s->nheld + srv_models_parked(s);  /* waiting at a replica for its weights */
  if ((uint64_t)inside != s->live || s->arrived != s->completed + s->rejected + s->live)
    SIM_BUG("serving: conservation broken: %llu arrived, %llu completed, %llu rejected, %llu live, %lld in replicas",
            (unsigned long long)s->arrived, (unsigned long long)s->completed,
            (unsigned long long)s->rejected, (unsigned long long)s->live, (long long)inside);

  double T = now > s->measure_from ? sim_time_to_s(now - s->measure_from) : NAN;
  double Tall = sim_time_to_s(now);
  /* the offered load: arrivals over the time they kept coming (to the end
   * of workload.duration_s, or to the last arrival), not over the drain */
  sim_time window = now;
  if (srv_active_sources(s) == 0) {
    window = 0;
    for (int i = 0; i < s->nsrc; i++)
      if (s->src[i].stopped_at > window) window = s->src[i].stopped_at;
  }
  double offered_rate = window > 0 ? (double)s->arrived / sim_time_to_s(window) : NAN;
  sim_report_str(rep, "model", p->m->name, "model");
  sim_report_str(rep, "precision", gpu_precision_names[p->model.precision], "precision");
  for (int i = 0; i < p->npools; i++) {
    const srv_pool_cfg *pl = &p->pools[i];
    char key[64], label[128];
    snprintf(key, sizeof key, "pool%d_gpu", i);
    sim_report_str(rep, key, pl->g->name, "pool GPU");
    snprintf(key, sizeof key, "pool%d_replicas", i);
    if (pl->dp_attention > 1)
      snprintf(label, sizeof label, "  replicas of tp %lld x pp %lld x dp_attention %lld", (long long)pl->tp,
               (long long)pl->pp, (long long)pl->dp_attention);
    else
      snprintf(label, sizeof label, "  replicas of tp %lld x pp %lld", (long long)pl->tp, (long long)pl->pp);
    sim_report_int(rep, key, pl->replicas, label);
    snprintf(key, sizeof key, "pool%d_kv_cache_tokens", i);
    sim_report_int(rep, key, pl->kv_blocks * pl->sched.block_size, "  KV-cache tokens per replica");
    snprintf(key, sizeof key, "pool%d_stack", i);
    sim_report_str(rep, key, pl->sp->name, "  serving stack");
  }
  sim_report_int(rep, "gpus", (int64_t)s->total_gpus, "GPUs");
  int policy = p->npools > 0 ? p->pools[0].sched.policy : p->sched.policy;
  sim_report_str(rep, "scheduler", policy == SRV_STATIC    ? "static"
                                   : policy == SRV_DYNAMIC ? "dynamic"
                                   : policy == SRV_CHUNKED ? "chunked-prefill"
                                                           : "continuous",
                 "batching policy (pool 0's)");
  sim_report_str(rep, "router", route_types[p->router.policy]->name, "routing policy");
  sim_report_num(rep, "load_scale", p->wl.load_scale, "arrival rates scaled by");
  /* the targets, so that tools reading the summary (sweeps, plots) see them */
  sim_report_num(rep, "slo_ttft_s", p->slo.ttft_s > 0 ? p->slo.ttft_s : NAN, "SLO: TTFT target (s)");
  sim_report_num(rep, "slo_tpot_s", p->slo.tpot_s > 0 ? p->slo.tpot_s : NAN, "SLO: TPOT target (s)");
  sim_report_num(rep, "slo_e2e_s", p->slo.e2e_s > 0 ? p->slo.e2e_s : NAN, "SLO: end-to-end target (s)");
  sim_report_num(rep, "slo_percentile", p->slo.percentile, "SLO: at this percentile");

  sim_report_int(rep, "requests_arrived", (int64_t)s->arrived, "requests arrived");
  sim_report_int(rep, "requests_completed", (int64_t)s->completed, "requests completed");
  sim_report_int(rep, "requests_rejected", (int64_t)s->rejected, "requests rejected");
  sim_report_int(rep, "requests_too_long", (int64_t)s->too_long,
                 "  of which longer than the context");
  sim_report_int(rep, "requests_timed_out", (int64_t)s->timed_out,
                 "  of which given up by their client (timeout_s)");
  if (s->too_long_sampled > 0) {
    char a[32], b[32], c[32];
    sim_report_warn(rep,
                    "%s of %s requests drawn from size distributions ask for more than %s's context of %s "
                    "tokens (prompt + output): rejected, as vLLM's API server does (requests_too_long); "
                    "truncate = true in the workload or class cuts them to fit instead",
                    srv_grouped((int64_t)s->too_long_sampled, a, sizeof a), srv_grouped((int64_t)s->arrived, b, sizeof b),
                    p->m->name, srv_grouped(p->context, c, sizeof c));
  }
  sim_report_int(rep, "requests_in_flight", (int64_t)s->live, "requests in flight at the end");
  sim_report_int(rep, "requests_truncated", (int64_t)s->truncated, "requests cut to the context length");
  sim_report_int(rep, "requests_measured", (int64_t)s->m_completed, "completed after the warm-up");

  report_quantiles(rep, "ttft", "time to first token", &s->ttft, s->ttft_sum, s->m_completed);
  report_quantiles(rep, "tpot", "time per output token", &s->tpot, s->tpot_sum, s->tpot_n);
  report_quantiles(rep, "e2e", "end-to-end latency", &s->e2e, s->e2e_sum, s->m_completed);
  double bm_mean;
  sim_report_num(rep, "e2e_mean_ci95_s", sim_batchmeans_ci(&s->e2e_bm, 0.95, &bm_mean),
                 "  mean: 95% CI half-width (batch means)");
  report_quantiles(rep, "queue_delay", "queueing delay", &s->queue_delay, s->queue_sum, s->m_completed);

  double tokens = s->m_prompt_tokens + s->m_output_tokens;
  sim_report_num(rep, "throughput_requests_per_s", (double)s->m_completed / T, "throughput (requests/s)");
  sim_report_num(rep, "throughput_tokens_per_s", tokens / T, "throughput (prompt + output tokens/s)");
  sim_report_num(rep, "output_tokens_per_s", s->m_output_tokens / T, "output tokens/s");
  sim_report_num(rep, "goodput_requests_per_s", (double)s->m_slo_met / T, "goodput (requests/s meeting the SLO)");
  /* a rejected request misses every target; one too long for the model is
   * left out (no configuration of this model could serve it: it is
   * counted in requests_too_long) */
  uint64_t decided = s->m_completed + s->m_rejected - s->m_too_long;
  sim_report_num(rep, "slo_attainment", decided ? (double)s->m_slo_met / (double)decided : NAN,
                 "SLO attainment (share of requests)");
  /* the percentile targets, as a planner reads them */
  double pq = p->slo.percentile / 100.0;
  bool slo_ok = true;
  if (p->slo.ttft_s > 0 && !(sim_quantiles_get(&s->ttft, pq) <= p->slo.ttft_s)) slo_ok = false;
  if (p->slo.tpot_s > 0 && !(sim_quantiles_get(&s->tpot, pq) <= p->slo.tpot_s)) slo_ok = false;
  if (p->slo.e2e_s > 0 && !(sim_quantiles_get(&s->e2e, pq) <= p->slo.e2e_s)) slo_ok = false;
  if (s->m_rejected > s->m_too_long && (p->slo.ttft_s > 0 || p->slo.tpot_s > 0 || p->slo.e2e_s > 0)) slo_ok = false;
  sim_report_int(rep, "slo_met", slo_ok, "targets met at the percentile (1 yes, 0 no)");

  double busy = srv_integral_at(&s->busy_gpus, now) - s->m_busy0;
  double flops = 0, bytes = 0, peak = 0, bw = 0;
  uint64_t steps = 0;
  double kv_peak = 0;
  for (int i = 0; i < s->nreps; i++) {
    const srv_replica *r = &s->reps[i];
    flops += r->flops;
    bytes += r->bytes;
    steps += r->steps;
    if (!s->elastic) {
      peak += r->gpus * gpu_peak_flops(r->lr->gpu, r->lr->compute);
      bw += r->gpus * gpu_mem_bw(r->lr->gpu);
    }
    if (kv_peak_fraction(&r->kv) > kv_peak) kv_peak = kv_peak_fraction(&r->kv);
  }
  /* what served over the measured window: GPU-seconds, replica-seconds
   * (fixed pools: their size x T; elastic ones: their books), as T-scaled
   * totals so that the formulas below read the same for both */
  double gpus_T = s->total_gpus * T, reps_T = (double)s->nreps * T;
  if (s->elastic) {
    gpus_T = reps_T = 0;
    for (int i = 0; i < p->npools; i++) {
      const srv_pool_cfg *pl = &p->pools[i];
      double g = (double)(pl->tp * pl->pp * pl->dp_attention), up_s = srv_scale_up_s(s, i, now);
      gpus_T += up_s * g;
      reps_T += up_s;
      peak += up_s * g * gpu_peak_flops(pl->g, pl->lr.compute) / T;
      bw += up_s * g * gpu_mem_bw(pl->g) / T;
    }
  }
  /* busy: a replica with any request running (nvidia-smi's utilization);
   * under continuous batching near 1 at any load that keeps one request
   * running, so it says nothing of capacity: capacity_utilization does */
  sim_report_num(rep, "gpu_utilization", srv_fraction(busy / gpus_T),
                 "GPU busy fraction (nvidia-smi's meaning)");
  double saturation = s->saturation_per_s;
  if (s->elastic) {
    saturation = 0;
    for (int i = 0; i < p->npools; i++) saturation += srv_scale_up_s(s, i, now) / T * s->books[i].sat.rate_per_s;
  }
  sim_report_num(rep, "saturation_rate_per_s", saturation,
                 "saturation rate, sustainable (requests/s)");
  double sat_ci = 0;
  for (int i = 0; i < p->npools; i++)
    if (s->books[i].sat.rel_ci95 > sat_ci) sat_ci = s->books[i].sat.rel_ci95;
  sim_report_num(rep, "saturation_rate_rel_ci95", sat_ci, "  probe's relative 95% CI half-width");
  sim_report_num(rep, "capacity_utilization", offered_rate / saturation,
                 "capacity utilization (offered / saturation)");
  double running = srv_integral_at(&s->running, now) - s->m_running0;
  sim_report_num(rep, "batch_occupancy", srv_fraction(running / (reps_T * srv_seq_limit(s))),
                 "batch occupancy (running / batch limit)");
  double kv_mean = 0;
  if (!s->elastic) {
    for (int i = 0; i < p->npools; i++) {
      const struct srv_pool_books *b = &s->books[i];
      double there = kv_there(s, i, now, T);
      if (there > 0) kv_mean += (srv_integral_at(&b->kv_blocks, now) - b->kv0) / there * (double)p->pools[i].replicas;
    }
    kv_mean /= s->nreps;
  } else {
    /* block-seconds used over block-seconds serving */
    double used = 0, there = 0;
    for (int i = 0; i < p->npools; i++) {
      used += srv_integral_at(&s->books[i].kv_blocks, now) - s->books[i].kv0;
      there += srv_scale_up_s(s, i, now) * (double)p->pools[i].kv_blocks;
    }
    kv_mean = there > 0 ? used / there : NAN;
  }
  sim_report_num(rep, "kv_cache_mean_fraction", srv_fraction(kv_mean),
                 "KV-cache occupancy, time average");
  sim_report_num(rep, "mfu", flops / (peak * T), "model FLOPs utilization");
  sim_report_num(rep, "memory_bandwidth_utilization", bytes / (bw * T), "memory-bandwidth utilization");
  sim_report_num(rep, "kv_cache_peak_fraction", srv_fraction(kv_peak), "KV-cache peak occupancy (fullest replica)");
  sim_report_int(rep, "queue_length_max", s->queue_max,
                 "most waiting (at interval ends)");
  if (s->spike_end >= 0) {
    sim_report_num(rep, "spike_start_s", sim_time_to_s(s->spike_start), "the first spike starts (s)");
    sim_report_num(rep, "spike_end_s", sim_time_to_s(s->spike_end), "the last spike ends (s)");
    sim_report_num(rep, "spike_drain_s", s->drained_at >= 0 ? sim_time_to_s(s->drained_at - s->spike_end) : NAN,
                   "  backlog drained after it (s)");
  }
  sim_report_int(rep, "preemptions", (int64_t)s->host.preemptions, "preemptions (KV cache full)");
  sim_report_int(rep, "swaps", (int64_t)s->host.swaps, "  of which swapped to host memory");
  /* prefix caching: the share of the prompt tokens admitted (recomputes
   * too) whose KV was found cached; 0 when no pool caches */
  double adm = s->host.prompt_tokens_admitted;
  sim_report_num(rep, "prefix_cache_hit_rate", adm > 0 ? s->host.prompt_tokens_cached / adm : 0,
                 "prefix cache: share of prompt tokens found cached");
  sim_report_num(rep, "prefill_tokens_saved", s->host.prompt_tokens_cached, "  prompt tokens not computed");
  /* the lower tiers, only when some pool has them (outputs without are
   * as they were) */
  bool tiers = false;
  for (int i = 0; i < s->p->npools; i++)
    if (s->p->pools[i].tier_host_blocks > 0) tiers = true;
  if (tiers) {
    sim_report_num(rep, "prefix_cache_host_hit_rate", adm > 0 ? s->host.prompt_tokens_host / adm : 0,
                   "  of which loaded from host memory");
    sim_report_num(rep, "prefix_cache_ssd_hit_rate", adm > 0 ? s->host.prompt_tokens_ssd / adm : 0,
                   "  of which loaded from the local SSD");
    sim_report_int(rep, "prefix_cache_host_loads", (int64_t)s->host.tier_loads,
                   "prompts whose prefix was loaded from host memory or SSD");
    sim_report_num(rep, "prefix_cache_host_load_time_s",
                   s->host.tier_loads > 0 ? s->host.tier_load_s / (double)s->host.tier_loads : 0,
                   "  mean time from admission to the load's end (s; waiting for the link included)");
  }
  sim_report_int(rep, "conversations", (int64_t)s->conversations, "conversations started (workload.sessions)");
  bool conv = false;
  for (int i = 0; i < s->nsrc; i++) conv = conv || s->src[i].cfg->has_sessions || s->src[i].cfg->has_system_prompt;
  if (conv)
    sim_report_warn(rep, "saturation_rate_per_s and capacity_utilization size a request by its prompt_tokens; "
                    "conversations and system prompts send longer prompts (the history, the system prompt), so "
                    "read them as an upper bound on capacity");
  sim_report_int(rep, "steps", (int64_t)steps, "batch steps");
  double step_s = 0, outside_s = 0, coll_s = 0;
  for (int i = 0; i < s->nreps; i++) {
    step_s += s->reps[i].time_s;
    outside_s += s->reps[i].outside_s;
    coll_s += s->reps[i].coll_s;
  }
  sim_report_num(rep, "host_time_fraction", step_s > 0 ? outside_s / step_s : NAN,
                 "share of step time outside GPU kernels (host, launches)");
  sim_report_num(rep, "collective_time_fraction", step_s > 0 ? coll_s / step_s : NAN,
                 "share of step time in collectives (TP all-reduce, PP sends)");
  srv_pd_report(s, rep);
  if (p->spec.any) {
    /* only with speculation on: runs without keep their summary as it was */
    const srv_host *h = &s->host;
    double draft_s = 0;
    for (int i = 0; i < s->nreps; i++) draft_s += s->reps[i].draft_s;
    sim_report_num(rep, "spec_acceptance_rate",
                   h->spec_proposed > 0 ? (double)h->spec_accepted / (double)h->spec_proposed : NAN,
                   "speculative: draft tokens accepted / proposed");
    sim_report_num(rep, "spec_tokens_per_step",
                   h->spec_seq_steps > 0 ? (double)h->spec_emitted / (double)h->spec_seq_steps : NAN,
                   "  tokens emitted per sequence per decode step");
    sim_report_num(rep, "spec_draft_time_fraction", step_s > 0 ? draft_s / step_s : NAN,
                   "  share of step time spent drafting");
  }
  if (p->lora_total > 0) {
    /* only with adapters: runs without keep their summary as it was */
    uint64_t loads = 0;
    double load_s = 0, op_s = 0;
    int64_t most = 0;
    for (int i = 0; i < s->nreps; i++) {
      const srv_lora *L = s->reps[i].lora;
      loads += L->loads;
      load_s += L->load_s;
      op_s += L->op_s;
      if (L->distinct_max > most) most = L->distinct_max;
    }
    sim_report_int(rep, "lora_adapters", p->lora_total, "LoRA adapters of all classes");
    sim_report_int(rep, "lora_loads", (int64_t)loads, "  loaded into a replica's GPU slots");
    sim_report_num(rep, "lora_load_time_s", load_s, "  step time loading them (replica-seconds)");
    sim_report_num(rep, "lora_time_fraction", step_s > 0 ? (load_s + op_s) / step_s : NAN,
                   "  share of step time in LoRA operators and loads");
    sim_report_int(rep, "lora_batch_adapters_max", most, "  most distinct adapters in a batch");
  }

  double gpu_hours = 0, rental = 0, it_kwh = 0;
  double pool_cost[SRV_MAX_POOLS];
  double prov_gh = 0, busy_gh = busy / 3600, reps_mean = reps_T / T, billed_gh = 0;
  double by_pricing[COST_PRICING_COUNT] = {0}, owned_elec = 0;
  int64_t reps_max = 0;
  uint64_t ups = 0, downs = 0;
  for (int i = 0; i < p->npools; i++) {
    double gh = cost_energy_gpu_hours(&s->energy[i], now);
    double kwh = cost_energy_it_kwh(&s->energy[i], now);
    const srv_pool_cfg *pl = &p->pools[i];
    if (s->elastic) {
      const srv_scale_pool *sp = &s->scale[i];
      reps_max += sp->up_max;
      ups += sp->ups;
      downs += sp->downs;
    } else {
      reps_max += pl->replicas;
    }
    if (srv_pool_elastic(pl)) {
      /* billed per replica in its increments; powered from the request on,
       * at idle power unless running a step */
      double g = (double)(pl->tp * pl->pp * pl->dp_attention);
      const struct srv_pool_books *b = &s->books[i];
      gh = srv_scale_billed_s(s, i, now) * g / 3600;
      kwh = (pl->g->idle_w * srv_scale_powered_s(s, i, now) * g +
             (pl->g->tdp_w - pl->g->idle_w) * (srv_integral_at(&b->busy, now) - b->busy0) * g) / 3.6e6;
      prov_gh += srv_scale_starting_s(s, i, now) * g / 3600;
    }
    billed_gh += gh;
    gpu_hours += gh;
    rental += gh * p->pools[i].price;
    it_kwh += kwh;
    double elec = cost_electricity_usd(cost_facility_kwh(kwh, p->cost.pue), pl->usd_per_kwh);
    pool_cost[i] = gh * p->pools[i].price + elec;
    by_pricing[pl->pricing] += gh * p->pools[i].price;
    /* owned pools pay their electricity even when the cost section says
     * none (cost.usd_per_kwh 0: rented prices include it) */
    if (pl->usd_per_kwh != p->cost.usd_per_kwh) owned_elec += elec;
  }
  double facility = cost_facility_kwh(it_kwh, p->cost.pue);
  double energy_usd = cost_electricity_usd(facility, p->cost.usd_per_kwh) + owned_elec;
  double cost = rental + energy_usd;
  sim_report_num(rep, "gpu_hours", gpu_hours, "GPU-hours (billed)");
  sim_report_num(rep, "replicas_mean", reps_mean, "replicas serving, time average");
  sim_report_int(rep, "replicas_max", reps_max, "  most serving at once (sum over pools)");
  sim_report_int(rep, "scale_ups", (int64_t)ups, "autoscaler decisions that added replicas");
  sim_report_int(rep, "scale_downs", (int64_t)downs, "  that removed replicas");
  uint64_t intr = 0;
  if (s->elastic)
    for (int i = 0; i < p->npools; i++) intr += s->scale[i].interruptions;
  sim_report_int(rep, "spot_interruptions", (int64_t)intr, "spot replicas taken back (notices)");
  sim_report_int(rep, "requests_requeued", (int64_t)s->requeued, "  requests sent to another replica by them");
  sim_report_num(rep, "provisioning_gpu_hours", prov_gh, "GPU-hours billed while replicas start");
  sim_report_num(rep, "idle_gpu_hours", billed_gh - busy_gh - prov_gh > 0 ? billed_gh - busy_gh - prov_gh : 0,
                 "GPU-hours billed, ready and not running a step");
  sim_report_num(rep, "energy_kwh", facility, "energy, facility (kWh, IT x PUE)");
  sim_report_num(rep, "it_energy_kwh", it_kwh, "energy, GPUs (kWh)");
  sim_report_num(rep, "cost_usd", cost, "cost (USD)");
  sim_report_num(rep, "cost_on_demand_usd", by_pricing[COST_PRICING_ON_DEMAND], "  rented on demand");
  sim_report_num(rep, "cost_reserved_usd", by_pricing[COST_PRICING_RESERVED_1Y] + by_pricing[COST_PRICING_RESERVED_3Y],
                 "  rented on 1- or 3-year commitments");
  sim_report_num(rep, "cost_spot_usd", by_pricing[COST_PRICING_SPOT], "  rented as spot capacity");
  sim_report_num(rep, "cost_owned_usd", by_pricing[COST_PRICING_OWNED], "  owned (purchase price amortised)");
  sim_report_num(rep, "cost_energy_usd", energy_usd, "  electricity (facility energy x USD/kWh)");
  sim_report_num(rep, "usd_per_hour", cost / (T / 3600.0), "cost per hour (USD)");
  sim_report_num(rep, "usd_per_million_tokens", cost_usd_per_million_tokens(cost, tokens),
                 "USD per million tokens (prompt+output)");
  sim_report_num(rep, "usd_per_million_output_tokens", cost_usd_per_million_tokens(cost, s->m_output_tokens),
                 "USD per million output tokens");
  report_pools(s, rep, now, T, window, pool_cost);

  /* Little's law over the whole run: L = lambda W */
  sim_report_num(rep, "requests_in_system_mean", Tall > 0 ? s->in_system.area / Tall : NAN,
                 "in the system, time average (whole run)");
  sim_report_num(rep, "offered_rate_per_s", offered_rate,
                 "offered load: arrivals per second while they came");
  sim_report_num(rep, "arrival_rate_per_s", Tall > 0 ? (double)s->arrived / Tall : NAN,
                 "  arrivals / whole run incl. drain (1/s)");
  /* every arrival: completed, rejected (until rejected) and in flight (so far) */
  double sojourn = s->sojourn_sum + (double)s->live * sim_time_to_s(now) - s->live_arrival_sum;
  sim_report_num(rep, "time_in_system_mean_s", s->arrived ? sojourn / (double)s->arrived : NAN,
                 "time in the system, mean (all arrivals, s)");

  srv_models_report(s, rep);
  if (s->nsrc > 1)
    for (int i = 0; i < s->nsrc; i++) {
      srv_source *src = &s->src[i];
      const char *n = src->cfg->name;
      char key[160], label[200];
      snprintf(key, sizeof key, "class_%s_completed", n);
      snprintf(label, sizeof label, "class %s: completed", n);
      sim_report_int(rep, key, (int64_t)src->completed, label);
      snprintf(key, sizeof key, "class_%s_rejected", n);
      sim_report_int(rep, key, (int64_t)src->rejected, "  rejected");
      snprintf(key, sizeof key, "class_%s_timed_out", n);
      sim_report_int(rep, key, (int64_t)src->timed_out, "    of which timed out");
      snprintf(key, sizeof key, "class_%s_ttft_p99_s", n);
      sim_report_num(rep, key, sim_quantiles_get(&src->ttft, 0.99), "  TTFT p99 (s)");
      snprintf(key, sizeof key, "class_%s_tpot_p99_s", n);
      sim_report_num(rep, key, sim_quantiles_get(&src->tpot, 0.99), "  TPOT p99 (s)");
      snprintf(key, sizeof key, "class_%s_e2e_p99_s", n);
      sim_report_num(rep, key, sim_quantiles_get(&src->e2e, 0.99), "  end-to-end p99 (s)");
      snprintf(key, sizeof key, "class_%s_slo_attainment", n);
      uint64_t decided_c = src->completed + src->rejected;
      sim_report_num(rep, key, decided_c ? (double)src->slo_met / (double)decided_c : NAN, "  SLO attainment");
      /* the class's own targets (its own, else slo.*), for its attainment and the plots */
      const srv_class_cfg *c = src->cfg;
      snprintf(key, sizeof key, "class_%s_slo_ttft_s", n);
      sim_report_num(rep, key, c->ttft_target > 0 ? c->ttft_target : NAN, "  its TTFT target (s)");
      snprintf(key, sizeof key, "class_%s_slo_tpot_s", n);
      sim_report_num(rep, key, c->tpot_target > 0 ? c->tpot_target : NAN, "  its TPOT target (s)");
      snprintf(key, sizeof key, "class_%s_slo_e2e_s", n);
      sim_report_num(rep, key, c->e2e_target > 0 ? c->e2e_target : NAN, "  its end-to-end target (s)");
    }
}
