/* models/serving/serving_int.h: the serving simulation's own run-time
 * state (srv_sim: sources, the request pool, routing, statistics,
 * outputs), private to serving_sim.c; the component's functions for
 * serving_keys.c. The scheduler (serving_sched.c) does not see it: what
 * the two share is serving_sched.h. Not a public interface: other models
 * use serving.h. */
#ifndef SERVING_INT_H
#define SERVING_INT_H

#include <gsl/gsl_rng.h>

#include "models/cost/cost.h"
#include "models/serving/router.h"
#include "models/serving/serving.h"
#include "models/serving/serving_sched.h"
#include "sim/engine.h"
#include "sim/stats.h"
#include "sim/table.h"

/* One class's source of requests. */
typedef struct {
  const srv_class_cfg *cfg;
  bool trace;
  wl_arrivals arr;                 /* when not a trace */
  wl_size prompt, output;
  gsl_rng *rng_sizes;
  size_t row;                      /* trace: next row */
  size_t offered_row;              /* trace: cursor for the offered rate */
  uint64_t arrived;
  bool stopped;
  sim_time stopped_at;             /* no arrival after this (SIM_TIME_MAX while running) */
  /* per-class statistics (measured) */
  sim_quantiles ttft, tpot, e2e;
  uint64_t completed, rejected, slo_met, tokens_out;
} srv_source;

/* A quantity integrated over time: area += v dt. */
typedef struct {
  double v, area;
  sim_time last;
} srv_integral;

static inline void srv_integral_set(srv_integral *a, sim_time t, double v)
{
  a->area += a->v * (double)(t - a->last) * 1e-9;
  a->last = t;
  a->v = v;
}

/* Area up to t without changing v. */
static inline double srv_integral_at(const srv_integral *a, sim_time t)
{
  return a->area + a->v * (double)(t - a->last) * 1e-9;
}

struct srv_sim {
  const srv_params *p;
  sim_engine *eng;
  srv_replica *reps;               /* 64-byte aligned, in reps_mem */
  void *reps_mem;
  int nreps;
  srv_host host;                   /* what the scheduler sees of this (serving_sched.h) */
  route_replica *view;             /* what the router sees, per replica */
  route_router router;             /* indexed over view for the ordering policies */
  gsl_rng *rng_route;
  srv_source src[SRV_MAX_CLASSES];
  int nsrc;
  /* request pool */
  srv_req *free_reqs;
  void **chunks;
  size_t nchunks;
  int64_t next_id;
  uint64_t live;                   /* requests in the system */
  double live_arrival_sum;         /* sum of their arrival times (s), for Little's law */
  double sojourn_sum;              /* time in the system of requests gone (completed or rejected, s) */
  bool streaming;                  /* first tokens reach the client when made */
  /* counts over the whole run (conservation) */
  uint64_t arrived, completed, rejected, truncated;
  /* measured (after warm-up) */
  uint64_t m_arrived, m_completed, m_rejected, m_slo_met;  /* preemptions, swaps: host */
  double m_prompt_tokens, m_output_tokens;
  sim_quantiles ttft, tpot, e2e, queue_delay;
  sim_batchmeans e2e_bm;
  double e2e_sum, ttft_sum, tpot_sum, queue_sum;
  uint64_t tpot_n;
  /* over time */
  srv_integral in_system;          /* requests in the system (whole run) */
  srv_integral busy_gpus;          /* GPUs of replicas running a step */
  srv_integral running;            /* sequences admitted on all replicas */
  srv_integral busy_replicas;      /* replicas running a step */
  double m_busy0;                  /* busy_gpus area at the start of the measured window */
  sim_event_id tick_ev;
  int64_t queue_max;               /* most waiting at an interval's end (measured) */
  sim_time spike_start, spike_end, drained_at;  /* last spike's end; first interval end after it with nothing waiting; -1 none */
  int64_t busy_reps;
  cost_energy *energy;             /* per pool */
  int64_t *pool_busy;              /* busy replicas per pool */
  double total_gpus;
  sim_time measure_from;
  double kv_peak;                  /* largest KV fraction of any replica (measured) */
  /* time series */
  sim_table *ts, *rq, *cdf;
  sim_time tick_from;
  uint64_t tick_arrivals, tick_completions, tick_rejected;
  double tick_busy0, tick_running0, tick_breps0;
  double *tick_ttft;
  size_t tick_nttft, tick_cap;
  bool ticking;
  /* capacity and per-pool books (serving_capacity.h) */
  uint64_t too_long, m_too_long;   /* rejected: prompt + output past the context (in rejected too) */
  uint64_t too_long_sampled;       /* of too_long, from sampled sizes (a trace's are told at load) */
  struct srv_pool_books *books;    /* per pool */
  double m_running0;               /* running area at the start of the measured window */
  double saturation_per_s;         /* sum over pools of replicas x one replica's saturation rate */
  struct srv_probe *probe;         /* non-NULL: this is the saturation probe's replica */
};

/* serving_sim.c: the component's functions (serving_keys.c tables them) */
void *serving_create(const void *params, const sim_component_env *env);
void serving_report(void *self, sim_engine *eng, sim_report *rep);
void serving_destroy(void *self);

#endif
