/* models/serving/serving_models.c: many models on one fleet, as the run
 * goes. Each replica holds one model at a time. A request goes to the
 * least loaded replica that holds its model (or will once what was sent
 * to it is served); if none does, a replica of a pool listing the model is
 * chosen by cluster.weight_swap.policy and the request waits there
 * (parked). A replica swaps when it has nothing left of its current model:
 * its weights load for the model's swap time (the replica blocked), its KV
 * and prefix caches start empty, and the requests parked for that model
 * join its queue. Books per model: latency quantiles, SLO, holders, swaps.
 *
 * Each replica is an LRU slot: with requests far apart, R replicas of one
 * pool under lru behave as an R-entry LRU cache of models (the tests hold
 * the swap count to a hand-simulated cache). */
#include <math.h>
#include <stdio.h>

#include "models/serving/serving_capacity.h"
#include "models/serving/serving_int.h"
#include "sim/util.h"

typedef struct {
  int cur;                 /* the model it holds, or is loading */
  int tail;                /* the model it will hold once what was sent to it is served */
  bool loading;            /* a swap in progress */
  sim_time last_use;       /* a request was last sent to it (lru) */
  srv_fifo parked;         /* requests waiting for it to load their model, oldest first */
  int64_t nparked;
} mm_rep;

typedef struct {
  sim_quantiles ttft, tpot, e2e;
  uint64_t completed, rejected, timed_out, slo_met;  /* measured */
  uint64_t swaps_in;       /* measured: swaps that loaded it */
  double holders;          /* replicas of swapping pools holding it (loaded) */
  srv_integral holders_i;
  double holders0;
  int64_t tails;           /* replicas whose tail is it (popularity) */
  double rate;             /* popularity: arrivals per second, decayed */
  sim_time rate_at;
} mm_model;

struct srv_models {
  mm_rep *rep;
  mm_model model[SRV_MAX_MODELS];
  uint64_t swaps;          /* measured */
  uint64_t swaps_all;      /* whole run */
  srv_integral loading;    /* replicas loading weights */
  double loading0;
  int64_t nparked;
};

static inline int model_of(const srv_sim *s, const srv_req *q) { return s->p->classes[q->cls].model_idx; }

static inline bool swaps_in(const srv_params *p, int pool)
{
  uint32_t m = p->pools[pool].model_mask;
  return (m & (m - 1)) != 0;
}

static void set_holders(srv_sim *s, int j, double d)
{
  mm_model *mo = &s->mm->model[j];
  mo->holders += d;
  srv_integral_set(&mo->holders_i, sim_now(s->eng), mo->holders);
}

/* Pool i's replicas hold d more KV blocks (a swap's start and end). */
static void set_kv_cap(srv_sim *s, int i, double d)
{
  srv_integral *c = &s->books[i].kv_cap;
  srv_integral_set(c, sim_now(s->eng), c->v + d);
}

static void set_tail(srv_sim *s, mm_rep *mr, int j)
{
  s->mm->model[mr->tail].tails--;
  mr->tail = j;
  s->mm->model[j].tails++;
}

void srv_models_init(srv_sim *s)
{
  const srv_params *p = s->p;
  if (p->nmodels < 2 || p->probe) return;
  srv_models *mm = s->mm = xcalloc(1, sizeof *mm);
  mm->rep = xcalloc((size_t)s->nreps, sizeof *mm->rep);
  for (int j = 0; j < p->nmodels; j++) {
    sim_quantiles_init(&mm->model[j].ttft, 10000);
    sim_quantiles_init(&mm->model[j].tpot, 10000);
    sim_quantiles_init(&mm->model[j].e2e, 10000);
  }
  for (int i = 0, k = 0; i < p->npools; i++) {
    const srv_pool_cfg *pl = &p->pools[i];
    /* the first `replicas` as placed, in model order; spare slots of an
     * elastic (one-model) pool hold its model */
    int j = 0;
    int64_t given = 0;
    for (int64_t n = 0; n < pl->slots; n++, k++) {
      while (n < pl->replicas && j < p->nmodels && given == pl->place[j]) {
        j++;
        given = 0;
      }
      int m = n < pl->replicas && j < p->nmodels ? j : pl->first_model;
      if (n < pl->replicas) given++;
      mm_rep *mr = &mm->rep[k];
      mr->cur = mr->tail = m;
      mm->model[m].tails++;
      srv_replica_set_model(&s->reps[k], &pl->var[m]);
      if (swaps_in(p, i)) {
        set_holders(s, m, 1);
        set_kv_cap(s, i, (double)pl->var[m].kv_blocks);
      }
    }
  }
}

void srv_models_release(srv_sim *s)
{
  srv_models *mm = s->mm;
  if (!mm) return;
  for (int j = 0; j < s->p->nmodels; j++) {
    sim_quantiles_release(&mm->model[j].ttft);
    sim_quantiles_release(&mm->model[j].tpot);
    sim_quantiles_release(&mm->model[j].e2e);
  }
  free(mm->rep);
  free(mm);
  s->mm = NULL;
}

void srv_models_warmup(srv_sim *s, sim_time now)
{
  srv_models *mm = s->mm;
  if (!mm) return;
  mm->loading0 = srv_integral_at(&mm->loading, now);
  for (int i = 0; i < s->p->npools; i++) s->books[i].kvcap0 = srv_integral_at(&s->books[i].kv_cap, now);
  for (int j = 0; j < s->p->nmodels; j++) mm->model[j].holders0 = srv_integral_at(&mm->model[j].holders_i, now);
}

/* ---- routing ---- */

/* Model j's demand now (arrivals per second, decayed over the window). */
static double demand(srv_sim *s, int j, sim_time now)
{
  mm_model *mo = &s->mm->model[j];
  double dt = sim_time_to_s(now - mo->rate_at);
  if (dt > 0) {
    mo->rate *= exp(-dt / s->p->swap.popularity_window_s);
    mo->rate_at = now;
  }
  return mo->rate;
}

static inline int64_t load(const srv_sim *s, int r)
{
  return s->view[r].outstanding + s->mm->rep[r].nparked;
}

/* A replica that may take model j: up, of a pool listing j (within mask). */
static inline bool may_hold(const srv_sim *s, int r, int j, uint32_t mask)
{
  int pool = s->reps[r].pool;
  return !s->view[r].down && (!mask || (mask >> pool & 1)) && (s->p->pools[pool].model_mask >> j & 1);
}

/* The replica to swap to model j by the policy (-1: none may); idle_only:
 * only replicas with nothing sent to them. */
static int victim(srv_sim *s, int j, uint32_t mask, bool idle_only)
{
  const srv_params *p = s->p;
  if (p->swap.policy == SRV_SWAP_STATIC) return -1;
  sim_time now = sim_now(s->eng);
  int best = -1;
  double best_d = 0;
  for (int r = 0; r < s->nreps; r++) {
    if (!swaps_in(p, s->reps[r].pool) || !may_hold(s, r, j, mask)) continue;
    mm_rep *mr = &s->mm->rep[r];
    if (mr->tail == j) continue;
    if (idle_only && (load(s, r) > 0 || mr->loading)) continue;
    double d = 0;
    if (p->swap.policy == SRV_SWAP_POPULARITY)
      d = demand(s, mr->tail, now) / (double)s->mm->model[mr->tail].tails;
    if (best < 0 || d < best_d || (d == best_d && mr->last_use < s->mm->rep[best].last_use)) {
      best = r;
      best_d = d;
    }
  }
  return best;
}

int srv_models_pick(srv_sim *s, const srv_req *q)
{
  const srv_params *p = s->p;
  int j = model_of(s, q);
  uint32_t mask = p->classes[q->cls].pool_mask;
  sim_time now = sim_now(s->eng);
  /* demand, counted as it arrives (a request routed again is not new) */
  if (q->replica < 0) {
    demand(s, j, now);
    s->mm->model[j].rate += 1.0 / p->swap.popularity_window_s;
  }
  int best = -1, down = -1;
  for (int r = 0; r < s->nreps; r++) {
    int pool = s->reps[r].pool;
    if (mask && !(mask >> pool & 1)) continue;
    if (s->mm->rep[r].tail != j || !(p->pools[pool].model_mask >> j & 1)) continue;
    if (s->view[r].down) {
      if (down < 0) down = r;
      continue;
    }
    if (best < 0 || load(s, r) < load(s, best)) best = r;
  }
  if (best >= 0) {
    /* its holders' batches are full and requests queue: an idle replica
     * takes the model too */
    if (load(s, best) >= s->reps[best].maxrun) {
      int v = victim(s, j, mask, true);
      if (v >= 0) return v;
    }
    return best;
  }
  int v = victim(s, j, mask, false);
  if (v >= 0) return v;
  /* none up holds it, none may swap to it: a starting replica of a pool
   * holding it (the request is held until it is up) */
  if (down >= 0) return down;
  SIM_BUG("serving: no replica may take model %s", p->models[j]->name);
}

/* ---- swaps ---- */

static void on_loaded(sim_engine *eng, void *ctx, uint64_t arg);

/* r has nothing of its own left: serve the requests parked for the model
 * it holds, else load the model of the oldest parked one. */
static void advance(srv_sim *s, int r)
{
  srv_models *mm = s->mm;
  mm_rep *mr = &mm->rep[r];
  srv_replica *rep = &s->reps[r];
  if (mr->loading || !mr->parked.head) return;
  int j = model_of(s, mr->parked.head);
  if (j != mr->cur) {
    if (srv_replica_in_system(rep) > 0 || rep->busy) return;
    sim_time now = sim_now(s->eng);
    const srv_pool_cfg *pl = &s->p->pools[rep->pool];
    set_holders(s, mr->cur, -1);
    /* its KV cache goes with the old weights; the new one comes with the new */
    set_kv_cap(s, rep->pool, -(double)pl->var[mr->cur].kv_blocks);
    mr->cur = j;
    mr->loading = true;
    srv_integral_set(&mm->loading, now, mm->loading.v + 1);
    mm->swaps_all++;
    if (now >= s->measure_from) {
      mm->swaps++;
      mm->model[j].swaps_in++;
    }
    sim_schedule_in(s->eng, sim_time_from_s(pl->var[j].swap_s), on_loaded, s, (uint64_t)r);
    return;
  }
  /* every request parked for it joins the queue, in order */
  srv_fifo keep = {NULL, NULL}, go = {NULL, NULL};
  for (srv_req *q = mr->parked.head, *nx; q; q = nx) {
    nx = q->next;
    q->next = NULL;
    srv_fifo *f = model_of(s, q) == j ? &go : &keep;
    if (f->tail)
      f->tail->next = q;
    else
      f->head = q;
    f->tail = q;
  }
  mr->parked = keep;
  set_tail(s, mr, keep.tail ? model_of(s, keep.tail) : mr->cur);
  for (srv_req *q = go.head, *nx; q; q = nx) {
    nx = q->next;
    q->next = NULL;
    mr->nparked--;
    mm->nparked--;
    q->state = SRV_WAITING;
    srv_replica_enqueue(rep, q);
  }
}

static void on_loaded(sim_engine *eng, void *ctx, uint64_t arg)
{
  srv_sim *s = ctx;
  int r = (int)arg;
  mm_rep *mr = &s->mm->rep[r];
  mr->loading = false;
  srv_integral_set(&s->mm->loading, sim_now(eng), s->mm->loading.v - 1);
  set_holders(s, mr->cur, 1);
  const srv_pool_cfg *pl = &s->p->pools[s->reps[r].pool];
  set_kv_cap(s, s->reps[r].pool, (double)pl->var[mr->cur].kv_blocks);
  srv_replica_set_model(&s->reps[r], &pl->var[mr->cur]);
  if (!mr->parked.head) return;
  advance(s, r);
}

bool srv_models_park(srv_sim *s, srv_req *q, int r)
{
  srv_models *mm = s->mm;
  mm_rep *mr = &mm->rep[r];
  int j = model_of(s, q);
  mr->last_use = sim_now(s->eng);
  if (j == mr->cur && !mr->loading && !mr->parked.head) return false;
  q->state = SRV_PARKED;
  q->next = NULL;
  if (mr->parked.tail)
    mr->parked.tail->next = q;
  else
    mr->parked.head = q;
  mr->parked.tail = q;
  mr->nparked++;
  mm->nparked++;
  set_tail(s, mr, j);
  advance(s, r);
  return true;
}

void srv_models_unpark(srv_sim *s, srv_req *q)
{
  mm_rep *mr = &s->mm->rep[q->replica];
  if (!srv_fifo_remove(&mr->parked, q)) SIM_BUG("serving: parked request %lld not parked", (long long)q->id);
  mr->nparked--;
  s->mm->nparked--;
  set_tail(s, mr, mr->parked.tail ? model_of(s, mr->parked.tail) : mr->cur);
}

void srv_models_idle(srv_sim *s, srv_replica *r)
{
  if (s->mm && s->mm->rep[r->index].parked.head) advance(s, r->index);
}

int64_t srv_models_parked(const srv_sim *s) { return s->mm ? s->mm->nparked : 0; }

/* ---- books ---- */

void srv_models_done(srv_sim *s, const srv_req *q, double ttft, double tpot, double e2e, bool met)
{
  mm_model *mo = &s->mm->model[model_of(s, q)];
  mo->completed++;
  sim_quantiles_add(&mo->ttft, ttft);
  sim_quantiles_add(&mo->e2e, e2e);
  if (!isnan(tpot)) sim_quantiles_add(&mo->tpot, tpot);
  if (met) mo->slo_met++;
}

void srv_models_rejected(srv_sim *s, const srv_req *q)
{
  mm_model *mo = &s->mm->model[model_of(s, q)];
  mo->rejected++;
  if (q->timed_out) mo->timed_out++;
}

void srv_models_report(srv_sim *s, sim_report *rep)
{
  srv_models *mm = s->mm;
  if (!mm) return;
  const srv_params *p = s->p;
  sim_time now = sim_now(s->eng);
  double T = sim_time_to_s(now - s->measure_from);
  /* replica-time serving over the window: every pool's */
  double up = 0;
  for (int i = 0; i < p->npools; i++) up += srv_scale_up_s(s, i, now);
  double loading = srv_integral_at(&mm->loading, now) - mm->loading0;
  sim_report_int(rep, "models", p->nmodels, "models served");
  sim_report_int(rep, "weight_swaps", (int64_t)mm->swaps, "weight swaps (a replica loading another model)");
  sim_report_num(rep, "weight_swap_time_fraction", up > 0 ? srv_fraction(loading / up) : NAN,
                 "  share of replica time spent loading weights");
  sim_report_num(rep, "weight_swap_time_s", loading, "  replica-seconds loading weights");
  for (int j = 0; j < p->nmodels; j++) {
    mm_model *mo = &mm->model[j];
    char key[64], label[200];
#define MKEY(suffix) (snprintf(key, sizeof key, "model%d_%s", j, suffix), key)
    snprintf(label, sizeof label, "model%d", j);
    sim_report_str(rep, MKEY("name"), p->models[j]->name, label);
    sim_report_int(rep, MKEY("completed"), (int64_t)mo->completed, "  completed");
    sim_report_int(rep, MKEY("rejected"), (int64_t)mo->rejected, "  rejected");
    sim_report_int(rep, MKEY("timed_out"), (int64_t)mo->timed_out, "    of which timed out");
    sim_report_num(rep, MKEY("ttft_p50_s"), sim_quantiles_get(&mo->ttft, 0.5), "  TTFT p50 (s)");
    sim_report_num(rep, MKEY("ttft_p99_s"), sim_quantiles_get(&mo->ttft, 0.99), "  TTFT p99 (s)");
    sim_report_num(rep, MKEY("tpot_p99_s"), sim_quantiles_get(&mo->tpot, 0.99), "  TPOT p99 (s)");
    sim_report_num(rep, MKEY("e2e_p99_s"), sim_quantiles_get(&mo->e2e, 0.99), "  end-to-end p99 (s)");
    uint64_t decided = mo->completed + mo->rejected;
    sim_report_num(rep, MKEY("slo_attainment"), decided ? (double)mo->slo_met / (double)decided : NAN,
                   "  SLO attainment");
    /* replicas holding it: the swapping pools' books, plus the pools
     * dedicated to it */
    double held = srv_integral_at(&mo->holders_i, now) - mo->holders0;
    for (int i = 0; i < p->npools; i++)
      if (!swaps_in(p, i) && p->pools[i].first_model == j) held += srv_scale_up_s(s, i, now);
    sim_report_num(rep, MKEY("replicas_mean"), T > 0 ? held / T : NAN, "  replicas holding it, time average");
    sim_report_int(rep, MKEY("weight_swaps_in"), (int64_t)mo->swaps_in, "  swaps that loaded it");
    /* one swap's time, on the first pool that swaps it in */
    double one = NAN;
    for (int i = 0; i < p->npools && isnan(one); i++)
      if (swaps_in(p, i) && (p->pools[i].model_mask >> j & 1)) one = p->pools[i].var[j].swap_s;
    sim_report_num(rep, MKEY("swap_s"), one, "  one swap's time (s; its first swapping pool)");
#undef MKEY
  }
}
