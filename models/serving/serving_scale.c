/* models/serving/serving_scale.c: elastic serving pools. Owns each
 * replica's life (off, starting, up, draining), the autoscaler's decisions
 * (models/autoscale: the policies' arithmetic), the start-up delay (instance
 * start-up, weights at a bandwidth, engine warm-up), draining before a
 * replica stops, the requests held while no replica is up, and the books
 * that price it all: replica-seconds serving, starting and powered, and
 * billed per replica in the pool's increments with its minimum.
 *
 * A replica is billed from the moment it is requested to the moment it
 * stops (rounded up to the billing increment, at least the minimum), and
 * serves nothing until it is up. Scale-in drains: the replica takes no new
 * request and stops when its last one has left. */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>

#include "models/serving/serving_capacity.h"
#include "models/serving/serving_int.h"
#include "sim/rng.h"
#include "sim/util.h"

static void on_decide(sim_engine *eng, void *ctx, uint64_t arg);
static void on_ready(sim_engine *eng, void *ctx, uint64_t arg);
static void on_notice(sim_engine *eng, void *ctx, uint64_t arg);
static bool add_replica(srv_sim *s, int pool, sim_time now);

/* Spot: replica k, requested now, gets its interruption notice after an
 * exponential time at the pool's rate. */
static void arm_interruption(srv_sim *s, int k, sim_time now)
{
  const srv_pool_cfg *pl = &s->p->pools[s->reps[k].pool];
  if (!(pl->interruptions_per_hour > 0) || s->p->probe) return;
  double wait_s = gsl_ran_exponential(s->rng_spot, 3600.0 / pl->interruptions_per_hour);
  s->life[k].intr_ev = sim_schedule_at(s->eng, now + sim_time_from_s(wait_s), on_notice, s, (uint64_t)k);
}


/* Replica k takes requests again, or no longer: for every router reading it. */
static void set_down(srv_sim *s, int k, bool down)
{
  route_set_down(&s->router, s->view, k, down);
  if (s->prouter) {
    int pool = s->reps[k].pool;
    route_mark_down(&s->prouter[pool], k - s->pool_first[pool], down);
  }
  srv_models_view(s, k);
}

/* The pool's counts changed at now: integrals and the peak. */
static void book(srv_sim *s, int pool, sim_time now)
{
  srv_scale_pool *sp = &s->scale[pool];
  int64_t serving = sp->up + sp->draining;
  srv_integral_set(&sp->up_i, now, (double)serving);
  srv_integral_set(&sp->starting_i, now, (double)sp->starting);
  srv_integral_set(&sp->powered_i, now, (double)(sp->starting + serving));
  if (now >= s->measure_from && serving > sp->up_max) sp->up_max = serving;
}

/* Seconds billed for a life of life_s: whole increments, at least the minimum. */
static double billed_len(const srv_pool_cfg *pl, double life_s)
{
  double b = life_s;
  if (pl->billing_increment_s > 0) b = ceil(life_s / pl->billing_increment_s - 1e-9) * pl->billing_increment_s;
  return b < pl->billing_minimum_s ? pl->billing_minimum_s : b;
}

/* The part of [from, from + len] (s) inside the measured window. */
static double measured_part(const srv_sim *s, sim_time from, double len)
{
  double a = sim_time_to_s(from), m = sim_time_to_s(s->measure_from), lo = a > m ? a : m;
  return a + len > lo ? a + len - lo : 0;
}

void srv_scale_init(srv_sim *s)
{
  const srv_params *p = s->p;
  s->life = xcalloc((size_t)s->nreps, sizeof *s->life);
  s->scale = xcalloc((size_t)p->npools, sizeof *s->scale);
  s->rng_spot = sim_rng_alloc(s->seed, "serving.spot");  /* its own stream: the others draw as before */
  int k = 0;
  for (int i = 0; i < p->npools; i++) {
    const srv_pool_cfg *pl = &p->pools[i];
    srv_scale_pool *sp = &s->scale[i];
    sp->first = k;
    sp->slots = (int)pl->slots;
    as_state_init(&sp->st);
    for (int j = 0; j < sp->slots; j++, k++) {
      if (j < pl->replicas) {
        s->life[k].state = SRV_LIFE_UP;
        sp->up++;
        arm_interruption(s, k, 0);
      } else {
        s->life[k].state = SRV_LIFE_OFF;
        set_down(s, k, true);
      }
    }
    book(s, i, 0);
    if (srv_pool_elastic(pl)) {
      s->elastic = true;
      if (!p->probe && pl->as.policy != AS_NONE) sp->decide_ev = sim_schedule_in(s->eng, sim_time_from_s(pl->as_interval_s), on_decide, s, (uint64_t)i);
    }
  }
}

void srv_scale_release(srv_sim *s)
{
  if (s->scale)
    for (int i = 0; i < s->p->npools; i++) free(s->scale[i].ttft);
  free(s->scale);
  free(s->life);
  if (s->rng_spot) gsl_rng_free(s->rng_spot);
}

/* Replica k stops: billing ends (rounded), it is off. */
static void stop_replica(srv_sim *s, int k, sim_time now)
{
  srv_life *l = &s->life[k];
  int pool = s->reps[k].pool;
  const srv_pool_cfg *pl = &s->p->pools[pool];
  srv_scale_pool *sp = &s->scale[pool];
  if (l->state == SRV_LIFE_STARTING) {
    sim_cancel(s->eng, l->ready_ev);
    l->ready_ev = 0;
    sp->starting--;
  } else if (l->state == SRV_LIFE_DRAINING || l->state == SRV_LIFE_NOTICE) {
    sp->draining--;
  } else {
    SIM_BUG("serving: stopping replica %d in state %d", k, l->state);
  }
  sp->billed_s += measured_part(s, l->requested, billed_len(pl, sim_time_to_s(now - l->requested)));
  if (l->intr_ev) {
    sim_cancel(s->eng, l->intr_ev);
    l->intr_ev = 0;
  }
  /* the instance goes, and what its memory cached with it */
  srv_replica_clear_cache(&s->reps[k]);
  srv_models_stop(s, k);
  l->state = SRV_LIFE_OFF;
  book(s, pool, now);
}

/* Requests held while no replica was up go out now. */
static void route_held(srv_sim *s)
{
  /* in arrival order; a request whose pool is still down stays */
  srv_req *keep = NULL, *keep_tail = NULL, *q = s->held.head;
  s->held.head = s->held.tail = NULL;
  int64_t n = s->nheld;
  s->nheld = 0;
  while (q) {
    srv_req *next = q->next;
    q->next = NULL;
    if (srv_can_route(s, q)) {
      /* fresh: never routed (an evicted request was, and is counted) */
      srv_route(s, q, srv_pick(s, q), q->replica < 0);
    } else {
      if (keep_tail) keep_tail->next = q; else keep = q;
      keep_tail = q;
      s->nheld++;
    }
    n--;
    q = next;
  }
  if (n != 0) SIM_BUG("serving: held requests miscounted (%lld)", (long long)n);
  /* the kept ones go back in front of any held meanwhile (srv_route may hold again) */
  if (keep) {
    keep_tail->next = s->held.head;
    if (!s->held.tail) s->held.tail = keep_tail;
    s->held.head = keep;
  }
}

static void on_ready(sim_engine *eng, void *ctx, uint64_t arg)
{
  srv_sim *s = ctx;
  int k = (int)arg;
  srv_life *l = &s->life[k];
  int pool = s->reps[k].pool;
  srv_scale_pool *sp = &s->scale[pool];
  l->ready_ev = 0;
  l->state = SRV_LIFE_UP;
  sp->starting--;
  sp->up++;
  srv_models_start(s, k);
  set_down(s, k, false);
  book(s, pool, sim_now(eng));
  route_held(s);
  srv_pd_room(s);
}

/* One more replica for the pool: a draining one kept, else one started;
 * false when every slot is taken (a spot pool whose replacements were
 * interrupted within one notice: it runs short until one goes). */
static bool add_replica(srv_sim *s, int pool, sim_time now)
{
  srv_scale_pool *sp = &s->scale[pool];
  const srv_pool_cfg *pl = &s->p->pools[pool];
  for (int k = sp->first; k < sp->first + sp->slots; k++)
    if (s->life[k].state == SRV_LIFE_DRAINING) {
      s->life[k].state = SRV_LIFE_UP;
      sp->draining--;
      sp->up++;
      set_down(s, k, false);
      book(s, pool, now);
      route_held(s);
      srv_pd_room(s);
      return true;
    }
  for (int k = sp->first; k < sp->first + sp->slots; k++)
    if (s->life[k].state == SRV_LIFE_OFF) {
      srv_life *l = &s->life[k];
      l->state = SRV_LIFE_STARTING;
      l->requested = now;
      sp->starting++;
      l->ready_ev = sim_schedule_in(s->eng, sim_time_from_s(pl->ready_delay_s), on_ready, s, (uint64_t)k);
      arm_interruption(s, k, now);
      book(s, pool, now);
      return true;
    }
  if (!(pl->interruptions_per_hour > 0)) SIM_BUG("serving: pool %d has no replica slot left (%d)", pool, sp->slots);
  return false;
}

/* One fewer: the newest starting one cancelled, else the up replica with
 * the least in it drained. */
static void remove_replica(srv_sim *s, int pool, sim_time now)
{
  srv_scale_pool *sp = &s->scale[pool];
  int best = -1;
  for (int k = sp->first; k < sp->first + sp->slots; k++)
    if (s->life[k].state == SRV_LIFE_STARTING && (best < 0 || s->life[k].requested >= s->life[best].requested))
      best = k;
  if (best >= 0) {
    stop_replica(s, best, now);
    return;
  }
  for (int k = sp->first; k < sp->first + sp->slots; k++)
    if (s->life[k].state == SRV_LIFE_UP &&
        (best < 0 || srv_replica_in_system(&s->reps[k]) <= srv_replica_in_system(&s->reps[best])))
      best = k;
  if (best < 0) SIM_BUG("serving: pool %d has nothing to remove", pool);
  s->life[best].state = SRV_LIFE_DRAINING;
  sp->up--;
  sp->draining++;
  set_down(s, best, true);
  srv_models_drain(s, best);
  book(s, pool, now);
  if (srv_replica_in_system(&s->reps[best]) == 0 && s->reps[best].nincoming == 0) stop_replica(s, best, now);
}

/* End of a notice: the replica goes, and what is still in it is
 * computed again elsewhere. */
static void on_gone(sim_engine *eng, void *ctx, uint64_t arg)
{
  srv_sim *s = ctx;
  int k = (int)arg;
  s->life[k].intr_ev = 0;
  srv_replica_evict(&s->reps[k], false);
  stop_replica(s, k, sim_now(eng));
}

/* A spot notice: no new request; the waiting ones go elsewhere now, the
 * running ones have the notice to finish; a replacement starts unless an
 * autoscaler decides. A replica still starting just goes. In a pool of
 * several models, the requests parked for a swap go elsewhere too and a
 * weight load in flight is called off (serving_models.c). */
static void on_notice(sim_engine *eng, void *ctx, uint64_t arg)
{
  srv_sim *s = ctx;
  int k = (int)arg;
  sim_time now = sim_now(eng);
  srv_life *l = &s->life[k];
  int pool = s->reps[k].pool;
  const srv_pool_cfg *pl = &s->p->pools[pool];
  srv_scale_pool *sp = &s->scale[pool];
  l->intr_ev = 0;
  sp->interruptions++;
  s->tick_interruptions++;
  if (l->state == SRV_LIFE_STARTING) {
    stop_replica(s, k, now);
  } else {
    if (l->state == SRV_LIFE_UP) {
      sp->up--;
      sp->draining++;
    }
    l->state = SRV_LIFE_NOTICE;
    set_down(s, k, true);
    book(s, pool, now);
    srv_replica_evict(&s->reps[k], true);
    srv_models_notice(s, k);
    l->intr_ev = sim_schedule_in(eng, sim_time_from_s(pl->interruption_notice_s), on_gone, s, (uint64_t)k);
  }
  if (pl->as.policy == AS_NONE) add_replica(s, pool, now);
}

void srv_scale_idle(srv_sim *s, srv_replica *r)
{
  if (s->life && s->life[r->index].state == SRV_LIFE_DRAINING && srv_replica_in_system(r) == 0 &&
      r->nincoming == 0)
    stop_replica(s, r->index, sim_now(s->eng));
}

void srv_scale_first_token(srv_sim *s, const srv_req *q, double ttft_s)
{
  if (!s->scale || q->replica < 0) return;
  int pool = s->reps[q->replica].pool;
  const srv_pool_cfg *pl = &s->p->pools[pool];
  if (pl->as.policy != AS_REACTIVE || pl->as_metric != SRV_METRIC_TTFT_P99) return;
  srv_scale_pool *sp = &s->scale[pool];
  if (sp->nttft == sp->cap) {
    sp->cap = sp->cap ? 2 * sp->cap : 256;
    sp->ttft = xrealloc(sp->ttft, sp->cap * sizeof *sp->ttft);
  }
  sp->ttft[sp->nttft++] = ttft_s;
}

/* The reactive metric of pool i over [last decision, now]. */
static double metric(srv_sim *s, int i, sim_time now, double dt)
{
  const srv_pool_cfg *pl = &s->p->pools[i];
  srv_scale_pool *sp = &s->scale[i];
  const struct srv_pool_books *b = &s->books[i];
  double up = sp->up > 0 ? (double)sp->up : 1;
  switch ((srv_scale_metric)pl->as_metric) {
  case SRV_METRIC_CAPACITY: {
    double offered = ((double)(b->arrived - sp->last_arrived) + (double)s->nheld) / dt;
    return offered / (up * b->sat.rate_per_s);
  }
  case SRV_METRIC_RUNNING:
    return (srv_integral_at(&b->running, now) - sp->last_running) / dt / up;
  case SRV_METRIC_KV:
    return (srv_integral_at(&b->kv_blocks, now) - sp->last_kv) / dt / (up * (double)pl->kv_blocks);
  case SRV_METRIC_QUEUE: {
    int64_t w = s->nheld;
    for (int k = sp->first; k < sp->first + sp->slots; k++) w += s->reps[k].nwait + s->reps[k].nswapped;
    return (double)w / up;
  }
  case SRV_METRIC_TTFT_P99:
    if (sp->nttft == 0) return s->nheld > 0 ? 2 * pl->as.target : pl->as.target;
    gsl_sort(sp->ttft, 1, sp->nttft);
    return gsl_stats_quantile_from_sorted_data(sp->ttft, 1, sp->nttft, 0.99);
  }
  return 0;
}

/* Pool i's arrival rate ahead: the peak of the classes it may serve,
 * beyond what the other pools those classes may use carry with their
 * serving replicas at the same utilization. */
static double rate_ahead(const srv_sim *s, int i, double t0, double t1)
{
  const srv_params *p = s->p;
  uint32_t all = (1u << p->npools) - 1, pools = 0;
  double peak = 0;
  for (int c = 0; c < p->nclasses; c++) {
    uint32_t m = p->classes[c].pool_mask ? p->classes[c].pool_mask : all;
    if (!(m >> i & 1)) continue;
    peak += wl_rate_bound(&p->classes[c].arr.rate, t0, t1);
    pools |= m;
  }
  for (int j = 0; j < p->npools; j++)
    if (j != i && (pools >> j & 1))
      peak -= (double)(s->scale[j].up + s->scale[j].draining) * s->books[j].sat.rate_per_s * p->pools[i].as.utilization;
  return peak > 0 ? peak : 0;
}

static void on_decide(sim_engine *eng, void *ctx, uint64_t arg)
{
  srv_sim *s = ctx;
  int i = (int)arg;
  const srv_pool_cfg *pl = &s->p->pools[i];
  srv_scale_pool *sp = &s->scale[i];
  sim_time now = sim_now(eng);
  double now_s = sim_time_to_s(now), dt = sim_time_to_s(now - sp->last_at);
  sp->decide_ev = 0;
  int64_t current = sp->starting + sp->up, wanted = current;
  switch ((as_policy)pl->as.policy) {
  case AS_REACTIVE: {
    /* a metric with nothing to read (NaN) leaves the pool as it is */
    double v = dt > 0 ? metric(s, i, now, dt) : NAN;
    if (v >= 0) wanted = as_reactive(sp->up, v, pl->as.target, pl->as.tolerance);
    break;
  }
  case AS_PREDICTIVE: {
    double lead = pl->as_lead_s >= 0 ? pl->as_lead_s : pl->ready_delay_s;
    double rate = pl->as.per_replica_rate > 0 ? pl->as.per_replica_rate : s->books[i].sat.rate_per_s;
    /* the peak from now to the end of the next interval after a new
     * replica would be ready: up in time for what comes, not down before
     * what is here has passed */
    wanted = as_predictive(rate_ahead(s, i, now_s, now_s + lead + pl->as_interval_s), rate, pl->as.utilization);
    break;
  }
  case AS_SCHEDULED:
    wanted = as_scheduled(pl->as.plan, pl->as.nplan, now_s);
    break;
  case AS_NONE:
    break;
  }
  int64_t want = as_decide(&pl->as, &sp->st, now_s, current, wanted);
  if (want > current) sp->ups++;
  if (want < current) sp->downs++;
  for (int64_t n = current; n < want; n++) add_replica(s, i, now);
  for (int64_t n = want; n < current; n++) remove_replica(s, i, now);
  sp->last_at = now;
  sp->last_arrived = s->books[i].arrived;
  sp->last_running = srv_integral_at(&s->books[i].running, now);
  sp->last_kv = srv_integral_at(&s->books[i].kv_blocks, now);
  sp->nttft = 0;
  sp->decide_ev = sim_schedule_in(eng, sim_time_from_s(pl->as_interval_s), on_decide, s, arg);
}

void srv_scale_stop(srv_sim *s)
{
  if (!s->scale) return;
  for (int i = 0; i < s->p->npools; i++)
    if (s->scale[i].decide_ev) {
      sim_cancel(s->eng, s->scale[i].decide_ev);
      s->scale[i].decide_ev = 0;
    }
  /* a replica still starting never serves: it stays billed to the end;
   * no spot notice comes after the last request */
  for (int k = 0; k < s->nreps; k++) {
    if (s->life[k].ready_ev) {
      sim_cancel(s->eng, s->life[k].ready_ev);
      s->life[k].ready_ev = 0;
    }
    if (s->life[k].intr_ev) {
      sim_cancel(s->eng, s->life[k].intr_ev);
      s->life[k].intr_ev = 0;
    }
  }
}

void srv_scale_warmup(srv_sim *s, sim_time now)
{
  for (int i = 0; i < s->p->npools; i++) {
    srv_scale_pool *sp = &s->scale[i];
    sp->up0 = srv_integral_at(&sp->up_i, now);
    sp->starting0 = srv_integral_at(&sp->starting_i, now);
    sp->powered0 = srv_integral_at(&sp->powered_i, now);
    sp->billed_s = 0;
    sp->up_max = sp->up + sp->draining;
  }
}

double srv_scale_up_s(const srv_sim *s, int i, sim_time now)
{
  return srv_integral_at(&s->scale[i].up_i, now) - s->scale[i].up0;
}

double srv_scale_starting_s(const srv_sim *s, int i, sim_time now)
{
  return srv_integral_at(&s->scale[i].starting_i, now) - s->scale[i].starting0;
}

double srv_scale_powered_s(const srv_sim *s, int i, sim_time now)
{
  return srv_integral_at(&s->scale[i].powered_i, now) - s->scale[i].powered0;
}

double srv_scale_billed_s(const srv_sim *s, int i, sim_time now)
{
  const srv_scale_pool *sp = &s->scale[i];
  const srv_pool_cfg *pl = &s->p->pools[i];
  double b = sp->billed_s;
  for (int k = sp->first; k < sp->first + sp->slots; k++)
    if (s->life[k].state != SRV_LIFE_OFF)
      b += measured_part(s, s->life[k].requested, billed_len(pl, sim_time_to_s(now - s->life[k].requested)));
  return b;
}

int64_t srv_scale_serving(const srv_sim *s)
{
  int64_t n = 0;
  for (int i = 0; i < s->p->npools; i++) n += s->scale[i].up + s->scale[i].draining;
  return n;
}

int64_t srv_scale_requested(const srv_sim *s)
{
  int64_t n = 0;
  for (int i = 0; i < s->p->npools; i++) n += s->scale[i].starting + s->scale[i].up + s->scale[i].draining;
  return n;
}
