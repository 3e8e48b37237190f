/* models/serving/serving_int.h: the serving simulation's run-time state,
 * shared by serving_sim.c (arrivals, routing, statistics, outputs) and
 * serving_sched.c (the batching policy of one replica). Not a public
 * interface: other models use serving.h. */
#ifndef SERVING_INT_H
#define SERVING_INT_H

#include <gsl/gsl_rng.h>

#include "models/cost/cost.h"
#include "models/serving/kvcache.h"
#include "models/serving/router.h"
#include "models/serving/serving.h"
#include "sim/engine.h"
#include "sim/stats.h"
#include "sim/table.h"

/* Where a request is. */
enum { SRV_WAITING, SRV_PREFILL, SRV_DECODE, SRV_HELD, SRV_SWAPPED };

/* One request, from a pool reused as requests finish: memory follows the
 * requests in flight, not those completed. */
typedef struct srv_req srv_req;
struct srv_req {
  sim_time arrival, first_sched, first_token;  /* first_*: -1 until it happens */
  int64_t id;
  int32_t prompt, output;       /* tokens asked for */
  int32_t generated;            /* output tokens produced so far */
  int32_t target;               /* tokens to prefill: prompt, or prompt + generated after a recompute */
  int32_t computed;             /* of target, already in the KV cache */
  int32_t chunk;                /* this step: prefill tokens, 1 for a decode, 0 not in it */
  int32_t slot;                 /* KV-cache id on its replica, -1 none */
  int32_t preemptions;
  int32_t replica;
  uint8_t cls, state;
  bool measured;                /* arrived after the warm-up */
  srv_req *next;                /* queue link */
};

typedef struct {
  srv_req *head, *tail;
} srv_fifo;

typedef struct srv_sim srv_sim;

typedef struct {
  srv_sim *s;
  int index, pool;
  const llm_replica *lr;
  double gpus;
  kv_cache kv;
  srv_fifo wait[SRV_MAX_CLASSES];  /* by class */
  int64_t nwait;
  srv_fifo swapped;                /* preempted to host memory, oldest first */
  int64_t nswapped;
  srv_req **run;                   /* admitted, in admission order */
  int nrun, caprun;
  int nrun_seen;                   /* nrun as last added to srv_sim.running */
  int *free_slots;
  int nfree;
  bool busy;                       /* a step is running */
  sim_event_id timer;              /* static/dynamic: the batch timeout, 0 none */
  /* the step in progress */
  sim_time step_start;
  llm_step_cost cost;
  double swap_bytes;               /* KV bytes per GPU swapped in or out during it */
  bool batch_open;                 /* static/dynamic: a batch is running */
  int32_t pad_prompt;              /* static: the batch's longest prompt */
  int32_t pad_out;                 /* static: its longest output */
  int32_t pad_step;                /* static: decode steps done */
  /* totals (measured window) */
  double flops, bytes;
  uint64_t steps;
} srv_replica;

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
  srv_replica *reps;
  int nreps;
  route_replica *view;             /* what the router sees, per replica */
  route_router router;
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
  uint64_t m_arrived, m_completed, m_rejected, m_slo_met, preemptions, swaps;
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
  double tick_tokens;
  double tick_busy0, tick_running0, tick_breps0;
  double *tick_ttft;
  size_t tick_nttft, tick_cap;
  bool ticking;
  /* capacity and per-pool books (serving_capacity.h) */
  uint64_t too_long, m_too_long;   /* rejected: prompt + output past the context (in rejected too) */
  uint64_t too_long_sampled;       /* of too_long, from sampled sizes (a trace's are told at load) */
  struct srv_pool_books *books;    /* per pool */
  int64_t *kv_seen;                /* per replica: KV blocks as last booked */
  double m_running0;               /* running area at the start of the measured window */
  double saturation_per_s;         /* sum over pools of replicas x one replica's saturation rate */
  struct srv_probe *probe;         /* non-NULL: this is the saturation probe's replica */
};

/* serving_sched.c */
void srv_replica_init(srv_replica *r, srv_sim *s, int index, int pool);
void srv_replica_release(srv_replica *r);
/* A request routed to r (not rejected): queue it and start a step if idle. */
void srv_replica_enqueue(srv_replica *r, srv_req *q);
/* Requests in r: waiting, swapped, running. */
int64_t srv_replica_in_system(const srv_replica *r);

/* serving_sim.c: the component's functions (serving_keys.c tables them) */
void *serving_create(const void *params, const sim_component_env *env);
void serving_report(void *self, sim_engine *eng, sim_report *rep);
void serving_destroy(void *self);

/* serving_sim.c, called by the scheduler */
void srv_request_done(srv_sim *s, srv_req *q);
void srv_request_rejected(srv_sim *s, srv_req *q, const char *why);
void srv_replica_busy(srv_sim *s, srv_replica *r, bool busy);
void srv_first_token(srv_sim *s, srv_req *q);
/* r's number of running sequences changed to r->nrun. */
void srv_running_changed(srv_sim *s, srv_replica *r);

#endif
