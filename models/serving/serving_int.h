/* models/serving/serving_int.h: the serving simulation's own run-time
 * state (srv_sim: sources, the request pool, routing, statistics,
 * outputs), private to serving_sim.c; the component's functions for
 * serving_keys.c. The scheduler (serving_sched.c) does not see it: what
 * the two share is serving_sched.h. Not a public interface: other models
 * use serving.h. */
#ifndef SERVING_INT_H
#define SERVING_INT_H

#include <gsl/gsl_randist.h>
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
  uint64_t timed_out;              /* of rejected, given up by their client */
  /* conversations and system prompts (serving_session.c) */
  gsl_rng *rng_sess;               /* NULL: the class has neither */
  gsl_ran_discrete_t *sys_pick;    /* Zipf over the system prompts, NULL for one */
  wl_size turns;
  int64_t *pool_prompt;            /* prompt_pool: each prompt's own tokens (owned), NULL none */
  int64_t pool_next;               /* the next prompt of the pool to send */
  gsl_rng *rng_lora;               /* LoRA: each request's adapter (NULL: none) */
  gsl_ran_discrete_t *lora_pick;
} srv_source;

/* What a new request's prompt shares (serving_session.c): system prompt
 * sys (0: none) of sys_tokens tokens, conversation conv (0: its own) and
 * the conversation's slot (-1: none). */
typedef struct {
  uint32_t sys;
  int32_t sys_tokens;
  uint64_t conv;
  int32_t session;
} srv_prefix_id;

typedef struct srv_session srv_session;

/* ---- prefill/decode disaggregation (serving_pd.c) ---- */

typedef struct srv_pd srv_pd;
/* Its state when p->pd (s->pd, else NULL), after the replicas; released
 * with srv_pd_release. */
void srv_pd_init(srv_sim *s);
void srv_pd_release(srv_sim *s);
/* Time (s) to move `tokens` tokens of model j's KV from a replica of
 * pool from_pool to one of to_pool (both hold j); *bytes (if not NULL):
 * the KV's size. */
double srv_pd_transfer_s(const srv_params *p, int from_pool, int to_pool, int j, int64_t tokens, double *bytes);
/* The summary's kv_transfer_* keys (only when disaggregated). */
void srv_pd_report(srv_sim *s, sim_report *rep);

/* ---- many models on one fleet (serving_models_prep.c, serving_models.c) ---- */

/* Prepare: the models the scenario names (p->models; each pool's
 * model_mask, each class's model_idx and context), before the pools. */
void srv_models_resolve(srv_params *p, const sim_setup *su, sim_check *ck);
/* Prepare, after the classes: each class served only by pools holding its
 * model (its pool_mask). */
void srv_models_bind(srv_params *p, sim_check *ck);
/* Prepare, after the classes' mix: where each pool's replicas start
 * (place), and what weight swaps cannot be combined with. */
void srv_models_place(srv_params *p, sim_check *ck);

/* Prepare, after the pools' scheduler settings: LoRA adapters' ids
 * (each class's lora_base, p->lora_total), each pool's lora_slots, and
 * what LoRA cannot be combined with. */
void srv_lora_prepare(srv_params *p, sim_check *ck);

typedef struct srv_models srv_models;
/* The run's model state when p->nmodels > 1 (s->mm, else NULL), after the
 * replicas: each replica set to the model it starts with. */
void srv_models_init(srv_sim *s);
void srv_models_release(srv_sim *s);
/* Swapping runs: the replica for q (a holder of its model, else one to
 * swap, by cluster.weight_swap.policy). */
int srv_models_pick(srv_sim *s, const srv_req *q);
/* Swapping runs: q is routed to r. True if r does not hold (or is not
 * about to run) q's model: q waits at r for its swap (state SRV_PARKED). */
bool srv_models_park(srv_sim *s, srv_req *q, int r);
/* q (SRV_PARKED) is given up by its client: take it out. */
void srv_models_unpark(srv_sim *s, srv_req *q);
/* Replica r has nothing running or queued: a swap it waits for starts. */
void srv_models_idle(srv_sim *s, srv_replica *r);
/* q finished (measured): its model's books. */
void srv_models_done(srv_sim *s, const srv_req *q, double ttft, double tpot, double e2e, bool met);
void srv_models_rejected(srv_sim *s, const srv_req *q);
/* The summary's per-model keys and weight_swaps, weight_swap_time_fraction. */
void srv_models_report(srv_sim *s, sim_report *rep);
/* Replica r's view (s->view[r]) changed, or it went up or down: the
 * routing books of a swapping run (nothing otherwise). */
void srv_models_view(srv_sim *s, int r);
/* Autoscaled swapping pools (serving_scale.c): replica k is ready and
 * takes the model of the highest demand per holder (before it is marked
 * up); k is drained (after it is marked down): its parked requests are
 * routed again; k stops: it holds nothing any more. */
void srv_models_start(srv_sim *s, int k);
void srv_models_drain(srv_sim *s, int k);
void srv_models_stop(srv_sim *s, int k);
/* Spot pools holding several models: replica k has its notice (after it
 * is marked down and its queue sent on): a weight load in flight is called
 * off, its parked requests are routed again, it counts no more as a
 * holder for the replicas that start. */
void srv_models_notice(srv_sim *s, int k);
/* Swapping runs: requests waiting for a swap. */
int64_t srv_models_parked(const srv_sim *s);
/* Start of the measured window. */
void srv_models_warmup(srv_sim *s, sim_time now);
/* Disaggregated (serving_models_pd.c): the model replica r holds or is
 * claimed for (its tail; 0 with one model); whether it holds it ready
 * (loaded, nothing parked); the replica the swap policy would give model
 * j within the pools of mask (-1: none; idle_only: nothing sent to it);
 * decode replica r is to load model j once it is empty. */
int srv_models_tail(const srv_sim *s, int r);
bool srv_models_ready(const srv_sim *s, int r);
int srv_models_victim(srv_sim *s, int j, uint32_t mask, bool idle_only);
void srv_models_claim(srv_sim *s, int r, int j);
/* Disaggregated, several models (serving_models_pd.c): the decode replica
 * for prefilled q - one up holding q's model, least loaded, with room for
 * its KV and (LoRA) its adapter - or -1; *never: no decode replica of a
 * pool listing its model could ever take it. Finding none, it may claim a
 * decode replica by the swap policy (it loads q's model when empty). */
int srv_models_pd_decode(srv_sim *s, const srv_req *q, bool *never);
/* Prepare: what several models or LoRA adapters with roles prefill and
 * decode need (a decode pool holding each class's model). */
void srv_models_pd_check(srv_params *p, sim_check *ck);

/* ---- conversations and system prompts (serving_session.c) ---- */

void srv_sessions_init(srv_sim *s, uint64_t seed);
void srv_sessions_release(srv_sim *s);
/* Source i's arrival of these sizes: a request (with its system prompt),
 * or the first turn of a new conversation. */
void srv_arrive(srv_sim *s, int i, int64_t prompt, int64_t output);
/* Source i's trace row `row` arrives: a request alone, or with a session
 * column the next turn of its conversation. */
void srv_arrive_row(srv_sim *s, int i, size_t row);
/* The conversation id of a request that has none. */
uint64_t srv_lone_conv(const srv_req *q);
/* q of a conversation completed: the next turn after a think time, or the
 * end. */
void srv_session_done(srv_sim *s, const srv_req *q);
/* q of a conversation was turned away or given up: the conversation ends. */
void srv_session_end(srv_sim *s, const srv_req *q);
/* The replica conversation k's last turn went to (-1: none yet), and set it. */
int srv_session_home(const srv_sim *s, int32_t k);
void srv_session_set_home(srv_sim *s, int32_t k, int replica);
/* The LoRA adapter conversation k's turns use (-1: none drawn yet), and set it. */
int32_t srv_session_adapter(const srv_sim *s, int32_t k);
void srv_session_set_adapter(srv_sim *s, int32_t k, int32_t adapter);
/* serving_sim.c: make a request of class i with these sizes and prompt
 * identity and send it (turned away at once if too long for the model). */
void srv_send(srv_sim *s, int i, int64_t prompt, int64_t output, const srv_prefix_id *id);
/* serving_sim.c: nothing is left to arrive or run (no request, no
 * conversation between turns, no source): stop the time series and the
 * autoscalers, so that the run ends. Call when one of those falls to 0. */
void srv_check_stop(srv_sim *s);
/* serving_sim.c: no arrival is to come at or after t (workload.duration_s, workload.requests). */
bool srv_arrivals_over(const srv_sim *s, sim_time t);

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

/* ---- elastic pools (serving_scale.c) ---- */

/* Where a replica is in its life. A fixed pool's replicas are always up. */
enum { SRV_LIFE_OFF, SRV_LIFE_STARTING, SRV_LIFE_UP, SRV_LIFE_DRAINING, SRV_LIFE_NOTICE };

typedef struct {
  uint8_t state;
  sim_time requested;              /* billed from (started or, for the first ones, 0) */
  sim_event_id ready_ev;           /* STARTING: when it will be ready */
  sim_event_id intr_ev;            /* spot: its interruption notice, or (NOTICE) its end */
} srv_life;

/* One pool's autoscaling state and books. */
typedef struct {
  int first, slots;                /* its replicas: reps[first .. first + slots) */
  int64_t starting, up, draining;  /* replicas in each state (draining: and under notice) */
  uint64_t interruptions;          /* spot notices (whole run) */
  as_state st;
  sim_event_id decide_ev;
  sim_time last_at;                /* the last decision (its metric's window starts here) */
  uint64_t last_arrived;
  double last_running, last_kv, last_up;
  uint64_t ups, downs;             /* decisions that added / removed (whole run) */
  int64_t up_max;                  /* most serving replicas at once (measured window) */
  srv_integral up_i;               /* replicas serving (up or draining) */
  srv_integral starting_i;         /* replicas starting */
  srv_integral powered_i;          /* replicas billed: starting, up or draining */
  double up0, starting0, powered0; /* the three at the start of the measured window */
  double billed_s;                 /* billing-rounded replica-seconds of stopped replicas (measured window) */
  double *ttft;                    /* reactive ttft_p99: first tokens since the last decision */
  size_t nttft, cap;
} srv_scale_pool;

/* Set up the pools' lives after their replicas: fixed pools' replicas and
 * the first `replicas` of an elastic pool up, the rest off; decisions
 * scheduled. */
void srv_scale_init(srv_sim *s);
void srv_scale_release(srv_sim *s);
/* Replica r went idle: a draining replica with nothing left stops. */
void srv_scale_idle(srv_sim *s, srv_replica *r);
/* q reached its first token (reactive ttft_p99 samples). */
void srv_scale_first_token(srv_sim *s, const srv_req *q, double ttft_s);
void srv_scale_warmup(srv_sim *s, sim_time now);
/* Nothing more will arrive or run: stop deciding and starting. */
void srv_scale_stop(srv_sim *s);
/* Pool i over the measured window to now: replica-seconds serving,
 * starting, powered (unrounded), and billed (rounded per replica). */
double srv_scale_up_s(const srv_sim *s, int i, sim_time now);
double srv_scale_starting_s(const srv_sim *s, int i, sim_time now);
double srv_scale_powered_s(const srv_sim *s, int i, sim_time now);
double srv_scale_billed_s(const srv_sim *s, int i, sim_time now);
/* Serving replicas now (up or draining), all pools. */
int64_t srv_scale_serving(const srv_sim *s);
/* Replicas requested now (starting, up or draining), all pools. */
int64_t srv_scale_requested(const srv_sim *s);
/* q from the queue of requests waiting for any replica to be up, or to
 * a replica (serving_sim.c): route it. */
void srv_route(srv_sim *s, srv_req *q, int r, bool fresh);
/* The replica for q: the router of q's class's pool, or the cluster's. */
int srv_pick(srv_sim *s, const srv_req *q);
/* Some replica q may go to is up. */
bool srv_can_route(const srv_sim *s, const srv_req *q);

struct srv_sim {
  const srv_params *p;
  sim_engine *eng;
  srv_replica *reps;               /* 64-byte aligned, in reps_mem */
  void *reps_mem;
  int nreps;
  srv_host host;                   /* what the scheduler sees of this (serving_sched.h) */
  route_replica *view;             /* what the router sees, per replica */
  route_router router;             /* indexed over view for the ordering policies */
  route_router *prouter;           /* NULL, or per pool (some class is bound to a pool) */
  int *pool_first;                 /* with prouter: each pool's first replica */
  uint64_t best_cursor;            /* srv_pick: the leading pool's cursor before its pick */
  int rr_pool;                     /* srv_pick, round robin over pools: the last pool */
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
  uint64_t timed_out;              /* of rejected: their client gave up (timeout_s) */
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
  double tick_up0, tick_upg0, tick_sat0;
  double tick_cost0;               /* USD accrued at the interval's start */
  double tick_area0[COST_PRICING_COUNT + 1];  /* the same by pricing, then electricity */
  uint64_t tick_interruptions;     /* spot notices in the interval */   /* elastic: replica, GPU and saturation areas at the interval's start */
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
  /* elastic pools (serving_scale.c) */
  bool elastic;                    /* some pool autoscales */
  srv_life *life;                  /* per replica */
  srv_scale_pool *scale;           /* per pool */
  srv_fifo held;                   /* arrived while no replica was up */
  int64_t nheld;
  uint64_t requeued;               /* requests sent elsewhere by a spot interruption (whole run) */
  gsl_rng *rng_spot;               /* interruption times */
  uint64_t seed;
  /* conversations (serving_session.c) */
  srv_session *sess;
  int32_t capsess, sess_free;
  uint64_t next_conv;
  int64_t thinking;                /* conversations between an answer and their next turn */
  uint64_t conversations;          /* started (whole run) */
  srv_pd *pd;                      /* disaggregated: transfers (serving_pd.c), else NULL */
  srv_models *mm;                  /* several models (serving_models.c), else NULL */
};

/* serving_sim.c, for serving_report.c: sources still arriving; requests
 * waiting (queued, swapped out or held); x kept in [0, 1] past rounding
 * (NaN stays); the scheduler's sequence limit; the time-series row of the
 * interval ending at now; the latency CDF table. */
int srv_active_sources(const srv_sim *s);
int64_t srv_waiting_now(const srv_sim *s);
double srv_fraction(double x);
double srv_seq_limit(const srv_sim *s);
void srv_write_tick(srv_sim *s, sim_time now);
void srv_write_cdf(srv_sim *s);

/* serving_sim.c, serving_report.c: the component's functions (serving_keys.c tables them) */
void *serving_create(const void *params, const sim_component_env *env);
void serving_report(void *self, sim_engine *eng, sim_report *rep);
void serving_destroy(void *self);

#endif
