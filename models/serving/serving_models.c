/* models/serving/serving_models.c: many models on one fleet, as the run
 * goes. Each replica holds one model at a time. A request goes to a
 * replica that holds its model (or will once what was sent to it is
 * served), chosen among them by router.policy as a one-model pool chooses
 * (parked requests count as load); if none does, a replica of a pool
 * listing the model is chosen by cluster.weight_swap.policy and the
 * request waits there (parked). The holders of each model are indexed per
 * pool (a router over a mirror of their views, heaps in least recently
 * used order for the swap victim), so a pick costs O(pools x log n), not
 * a scan of every replica. A replica swaps when it has nothing left of its current model:
 * its weights load for the model's swap time (the replica blocked), its KV
 * and prefix caches start empty, and the requests parked for that model
 * join its queue. Disaggregated, a decode replica is instead claimed for a
 * model (serving_models_pd.c) and loads it once empty. Books per model:
 * latency quantiles, SLO, holders, swaps.
 *
 * Replicas come and go in autoscaled and spot pools: one that starts takes
 * the model of the highest demand per holder; one drained, or given its
 * spot notice, sends its parked requests on (a notice also calls off a
 * weight load in flight, and its holder no longer counts for the choice
 * of the replicas that start); one that stops holds nothing.
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
  int32_t upos;            /* its place in its group's holders up (-1: not there) */
  sim_event_id load_ev;    /* loading: when its weights are in */
  int8_t gm;               /* the model of the group it is in (-1: none yet) */
  bool on;                 /* counted in the books (tails; holders unless loading or empty): a replica
                            * started, not yet stopped */
  bool empty;              /* spot: its load was called off at its notice, it holds no weights */
  bool leaving;            /* spot: holds cur and has had its notice (counted in its model's leaving) */
} mm_rep;

/* A binary min-heap of replicas in least-recently-used order (lru_before);
 * pos: each replica's place in it (-1: not in it), shared by the heaps of
 * one kind (a replica is in one group at a time). */
typedef struct {
  int32_t *h;
  int n;
  int32_t *pos;
} mm_heap;

/* The replicas of one pool whose tail is one model (swapping runs): those
 * up, in no order (round robin, random draws); in a swapping pool the same
 * as a heap, and those idle (nothing sent to them, not loading) as
 * another (victims); a router of the scenario's policy over the pool's
 * range of the model's mirror (ordering policies). */
typedef struct {
  int32_t *up;
  int nup;
  mm_heap lru, idle;
  route_router rt;
} mm_group;

typedef struct {
  sim_quantiles ttft, tpot, e2e;
  uint64_t completed, rejected, timed_out, slo_met;  /* measured */
  uint64_t swaps_in;       /* measured: swaps that loaded it */
  double holders;          /* replicas of swapping pools holding it (loaded) */
  srv_integral holders_i;
  double holders0;
  int64_t tails;           /* replicas whose tail is it (popularity) */
  int64_t leaving;         /* holders that have had a spot notice (they go at its end) */
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
  /* routing in swapping runs (NULL otherwise) */
  mm_group *grp;           /* [model * npools + pool] */
  route_replica *mv;       /* [model * nreps + replica]: the view of each replica whose tail is the model, with
                            * its parked requests counted as outstanding; down for the others */
  int32_t *pos;            /* heap places: [replica] lru, [nreps + replica] idle */
  int *first;              /* each pool's first replica */
  int npools;
  uint64_t rr[SRV_MAX_MODELS];  /* round robin: picks so far per model */
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

static void routing_init(srv_sim *s);
static void routing_release(srv_models *mm, int nmodels);
static void refresh(srv_sim *s, int r);

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
      srv_replica_set_model(&s->reps[k], &pl->var[m]);
      /* an autoscaled swapping pool's replicas off count for nothing until
       * one starts and takes a model (srv_models_start) */
      if (swaps_in(p, i) && n >= pl->replicas) continue;
      mr->on = true;
      mm->model[m].tails++;
      if (swaps_in(p, i)) {
        set_holders(s, m, 1);
        set_kv_cap(s, i, (double)pl->var[m].kv_blocks);
      }
    }
  }
  if (p->swapping) routing_init(s);
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
  routing_release(mm, s->p->nmodels);
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

static inline mm_group *group(const srv_models *mm, int j, int pool) { return &mm->grp[j * mm->npools + pool]; }

/* Whether a comes before b in least-recently-used order: the one last sent
 * a request earlier, the lower index on a tie (the order a scan of all
 * replicas met them in). */
static inline bool lru_before(const srv_models *mm, int32_t a, int32_t b)
{
  sim_time ta = mm->rep[a].last_use, tb = mm->rep[b].last_use;
  return ta < tb || (ta == tb && a < b);
}

static inline void heap_set(mm_heap *H, int k, int32_t r)
{
  H->h[k] = r;
  H->pos[r] = k;
}

static void heap_sift(const srv_models *mm, mm_heap *H, int k)
{
  int32_t r = H->h[k];
  while (k > 0 && lru_before(mm, r, H->h[(k - 1) / 2])) {
    heap_set(H, k, H->h[(k - 1) / 2]);
    k = (k - 1) / 2;
  }
  for (;;) {
    int c = 2 * k + 1;
    if (c >= H->n) break;
    if (c + 1 < H->n && lru_before(mm, H->h[c + 1], H->h[c])) c++;
    if (!lru_before(mm, H->h[c], r)) break;
    heap_set(H, k, H->h[c]);
    k = c;
  }
  heap_set(H, k, r);
}

/* r in (true) or out of H, its place kept right after a change of its last_use. */
static void heap_keep(const srv_models *mm, mm_heap *H, int32_t r, bool in)
{
  int k = H->pos[r];
  if (in && k < 0) {
    heap_set(H, H->n++, r);
    heap_sift(mm, H, H->n - 1);
  } else if (in) {
    heap_sift(mm, H, k);
  } else if (k >= 0) {
    H->pos[r] = -1;
    int32_t last = H->h[--H->n];
    if (k < H->n) {
      heap_set(H, k, last);
      heap_sift(mm, H, k);
    }
  }
}

/* r in (true) or out of group g's list of holders up. */
static void up_keep(mm_group *g, mm_rep *mr, int32_t r, bool in)
{
  if (in == (mr->upos >= 0)) return;
  if (in) {
    mr->upos = g->nup;
    g->up[g->nup++] = r;
    return;
  }
  int32_t last = g->up[--g->nup];
  g->up[mr->upos] = last;
  mr[last - r].upos = mr->upos;
  mr->upos = -1;
}

/* Replica r's routing books after any change of what they read: its
 * model (tail), up or down, load, loading, last use. Its group is that of
 * its tail and pool; the mirror of its view (load with its parked
 * requests) is up in its tail's router only. O(log n). */
static void refresh(srv_sim *s, int r)
{
  srv_models *mm = s->mm;
  if (!mm->grp) return;
  mm_rep *mr = &mm->rep[r];
  int pool = s->reps[r].pool, j = mr->tail, k = r - mm->first[pool];
  const route_replica *v = &s->view[r];
  bool up = !v->down, swapping = swaps_in(s->p, pool);
  if (mr->gm != j) {
    if (mr->gm >= 0) {
      mm_group *old = group(mm, mr->gm, pool);
      up_keep(old, mr, r, false);
      if (swapping) {
        heap_keep(mm, &old->lru, r, false);
        heap_keep(mm, &old->idle, r, false);
      }
      mm->mv[(size_t)mr->gm * (size_t)s->nreps + (size_t)r].down = true;
      if (old->rt.win) route_update(&old->rt, k);
    }
    mr->gm = (int8_t)j;
  }
  mm_group *g = group(mm, j, pool);
  up_keep(g, mr, r, up);
  if (swapping) {
    heap_keep(mm, &g->lru, r, up);
    heap_keep(mm, &g->idle, r, up && !mr->loading && load(s, r) == 0);
  }
  route_replica *m = &mm->mv[(size_t)j * (size_t)s->nreps + (size_t)r];
  *m = *v;
  m->outstanding += mr->nparked;
  if (g->rt.win) route_update(&g->rt, k);
}

void srv_models_view(srv_sim *s, int r)
{
  if (s->mm) refresh(s, r);
}

/* Set up the routing books of a swapping run: every replica in the group
 * of its model and pool. */
static void routing_init(srv_sim *s)
{
  const srv_params *p = s->p;
  srv_models *mm = s->mm;
  int M = p->nmodels, P = p->npools, n = s->nreps;
  mm->npools = P;
  mm->first = xcalloc((size_t)P, sizeof *mm->first);
  for (int i = 1; i < P; i++) mm->first[i] = mm->first[i - 1] + (int)p->pools[i - 1].slots;
  mm->pos = xmalloc(2 * (size_t)n * sizeof *mm->pos);
  for (int r = 0; r < 2 * n; r++) mm->pos[r] = -1;
  mm->mv = xcalloc((size_t)M * (size_t)n, sizeof *mm->mv);
  for (size_t r = 0; r < (size_t)M * (size_t)n; r++) mm->mv[r].down = true;
  mm->grp = xcalloc((size_t)M * (size_t)P, sizeof *mm->grp);
  const route_type *t = route_types[p->router.policy];
  for (int j = 0; j < M; j++)
    for (int i = 0; i < P; i++) {
      const srv_pool_cfg *pl = &p->pools[i];
      mm_group *g = group(mm, j, i);
      route_init(&g->rt, t);
      if (!(pl->model_mask >> j & 1) || pl->slots == 0) continue;
      size_t slots = (size_t)pl->slots;
      g->up = xmalloc(slots * sizeof *g->up);
      if (swaps_in(p, i)) {
        g->lru = (mm_heap){.h = xmalloc(slots * sizeof(int32_t)), .pos = mm->pos};
        g->idle = (mm_heap){.h = xmalloc(slots * sizeof(int32_t)), .pos = mm->pos + n};
      }
      if (t->less) route_index(&g->rt, mm->mv + (size_t)j * (size_t)n + (size_t)mm->first[i], (int)pl->slots);
    }
  for (int r = 0; r < n; r++) {
    mm->rep[r].gm = -1;
    mm->rep[r].upos = -1;
    refresh(s, r);
  }
  s->host.view_hook = srv_models_view;
}

static void routing_release(srv_models *mm, int nmodels)
{
  if (!mm->grp) return;
  for (int g = 0; g < nmodels * mm->npools; g++) {
    free(mm->grp[g].up);
    free(mm->grp[g].lru.h);
    free(mm->grp[g].idle.h);
    route_release(&mm->grp[g].rt);
  }
  free(mm->grp);
  free(mm->mv);
  free(mm->pos);
  free(mm->first);
}

/* Model j's holders up in the pools within mask that list it. */
static int64_t holders_up(const srv_sim *s, int j, uint32_t mask)
{
  int64_t n = 0;
  for (int i = 0; i < s->p->npools; i++)
    if ((!mask || (mask >> i & 1)) && (s->p->pools[i].model_mask >> j & 1)) n += group(s->mm, j, i)->nup;
  return n;
}

/* The u-th of them (u < holders_up), pool by pool. */
static int nth_holder(const srv_sim *s, int j, uint32_t mask, int64_t u)
{
  for (int i = 0; i < s->p->npools; i++) {
    if ((mask && !(mask >> i & 1)) || !(s->p->pools[i].model_mask >> j & 1)) continue;
    const mm_group *g = group(s->mm, j, i);
    if (u < g->nup) return g->up[u];
    u -= g->nup;
  }
  SIM_BUG("serving: holder %lld of model %d not found", (long long)u, j);
}

/* The holder of model j up the router's policy picks, within mask (-1:
 * none up). Ordering policies: each pool's router over its mirror, the
 * least loaded of their picks (the cursors of the others kept), as
 * single-model pools bound to several pools route; the others draw among
 * the holders up. O(pools x log n) or O(pools). */
static int pick_holder(srv_sim *s, int j, uint32_t mask)
{
  srv_models *mm = s->mm;
  const route_type *t = s->router.type;
  const route_replica *mv = mm->mv + (size_t)j * (size_t)s->nreps;
  if (t->less) {
    int best = -1;
    uint64_t best_cur = 0;
    for (int i = 0; i < s->p->npools; i++) {
      if ((mask && !(mask >> i & 1)) || !(s->p->pools[i].model_mask >> j & 1)) continue;
      mm_group *g = group(mm, j, i);
      if (g->nup == 0) continue;
      uint64_t cur = g->rt.cursor;
      int k = mm->first[i] + route_pick(&g->rt, mv + mm->first[i], (int)s->p->pools[i].slots, NULL);
      if (best < 0 || t->less(&mv[k], &mv[best])) {
        if (best >= 0) group(mm, j, s->reps[best].pool)->rt.cursor = best_cur;
        best = k;
        best_cur = cur;
      } else {
        g->rt.cursor = cur;
      }
    }
    return best;
  }
  int64_t n = holders_up(s, j, mask);
  if (n == 0) return -1;
  if (t == &route_round_robin) return nth_holder(s, j, mask, (int64_t)(mm->rr[j]++ % (uint64_t)n));
  if (n == 1) return nth_holder(s, j, mask, 0);
  int64_t a = (int64_t)gsl_rng_uniform_int(s->rng_route, (unsigned long)n);
  int ra = nth_holder(s, j, mask, a);
  if (!t->uses_outstanding) return ra;
  /* power of two: a second, distinct, and the less loaded (the first on a tie) */
  int64_t b = (int64_t)gsl_rng_uniform_int(s->rng_route, (unsigned long)n - 1);
  if (b >= a) b++;
  int rb = nth_holder(s, j, mask, b);
  return load(s, rb) < load(s, ra) ? rb : ra;
}

/* The replica to swap to model j by the policy (-1: none may); idle_only:
 * only replicas with nothing sent to them. The least recently used of
 * each (pool, model held) group within mask, the least demand per holder
 * first under popularity: O(pools x models) and each group's heap. */
static int victim(srv_sim *s, int j, uint32_t mask, bool idle_only)
{
  const srv_params *p = s->p;
  if (p->swap.policy == SRV_SWAP_STATIC) return -1;
  srv_models *mm = s->mm;
  sim_time now = sim_now(s->eng);
  int best = -1;
  double best_d = 0;
  for (int i = 0; i < p->npools; i++) {
    if (!swaps_in(p, i) || (mask && !(mask >> i & 1)) || !(p->pools[i].model_mask >> j & 1)) continue;
    for (int m = 0; m < p->nmodels; m++) {
      if (m == j || !(p->pools[i].model_mask >> m & 1)) continue;
      const mm_heap *H = idle_only ? &group(mm, m, i)->idle : &group(mm, m, i)->lru;
      if (H->n == 0) continue;
      int r = H->h[0];
      double d = 0;
      if (p->swap.policy == SRV_SWAP_POPULARITY) d = demand(s, m, now) / (double)mm->model[m].tails;
      if (best < 0 || d < best_d || (d == best_d && lru_before(mm, r, best))) {
        best = r;
        best_d = d;
      }
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
  int best = pick_holder(s, j, mask);
  if (best >= 0) {
    /* the holder picked has its batch full and requests queue: an idle
     * replica takes the model too */
    if (load(s, best) >= s->reps[best].maxrun) {
      int v = victim(s, j, mask, true);
      if (v >= 0) return v;
    }
    return best;
  }
  int v = victim(s, j, mask, false);
  if (v >= 0) return v;
  /* none up holds it, none may swap to it: a replica down (starting, or
   * off) of a pool holding it, where the request is held until one is up:
   * the first whose tail is the model, else the first down (a spot pool
   * whose replicas all went, a static pool whose holders of the model did) */
  int down = -1;
  for (int i = 0; i < p->npools; i++) {
    if ((mask && !(mask >> i & 1)) || !(p->pools[i].model_mask >> j & 1)) continue;
    for (int r = s->mm->first[i]; r < s->mm->first[i] + (int)p->pools[i].slots; r++) {
      if (s->mm->rep[r].tail == j) return r;
      if (down < 0 && s->view[r].down) down = r;
    }
  }
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
  if (mr->loading || !mr->on) return;  /* a stopped replica loads nothing */
  /* a decode replica claimed for another model (srv_models_claim) has
   * nothing parked: it loads its tail */
  if (!mr->parked.head && mr->tail == mr->cur) return;
  int j = mr->parked.head ? model_of(s, mr->parked.head) : mr->tail;
  if (j != mr->cur) {
    if (srv_replica_in_system(rep) > 0 || rep->busy || rep->nincoming > 0) return;
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
    mr->load_ev = sim_schedule_in(s->eng, sim_time_from_s(pl->var[j].swap_s), on_loaded, s, (uint64_t)r);
    refresh(s, r);
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
  refresh(s, r);
}

static void on_loaded(sim_engine *eng, void *ctx, uint64_t arg)
{
  srv_sim *s = ctx;
  int r = (int)arg;
  mm_rep *mr = &s->mm->rep[r];
  mr->loading = false;
  mr->load_ev = 0;
  refresh(s, r);
  srv_integral_set(&s->mm->loading, sim_now(eng), s->mm->loading.v - 1);
  set_holders(s, mr->cur, 1);
  const srv_pool_cfg *pl = &s->p->pools[s->reps[r].pool];
  set_kv_cap(s, s->reps[r].pool, (double)pl->var[mr->cur].kv_blocks);
  srv_replica_set_model(&s->reps[r], &pl->var[mr->cur]);
  advance(s, r);
  /* disaggregated: prefilled requests may wait for this model */
  if (s->pd) srv_pd_room(s);
}

bool srv_models_park(srv_sim *s, srv_req *q, int r)
{
  srv_models *mm = s->mm;
  mm_rep *mr = &mm->rep[r];
  int j = model_of(s, q);
  mr->last_use = sim_now(s->eng);
  refresh(s, r);
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
  refresh(s, r);
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
  refresh(s, q->replica);
}

void srv_models_idle(srv_sim *s, srv_replica *r)
{
  if (!s->mm) return;
  const mm_rep *mr = &s->mm->rep[r->index];
  if (mr->parked.head || mr->tail != mr->cur) advance(s, r->index);
}

int64_t srv_models_parked(const srv_sim *s) { return s->mm ? s->mm->nparked : 0; }

/* ---- disaggregation (serving_models_pd.c) ---- */

int srv_models_tail(const srv_sim *s, int r) { return s->mm ? s->mm->rep[r].tail : 0; }

bool srv_models_ready(const srv_sim *s, int r)
{
  if (!s->mm) return true;
  const mm_rep *mr = &s->mm->rep[r];
  return !mr->loading && mr->tail == mr->cur && !mr->parked.head;
}

int srv_models_victim(srv_sim *s, int j, uint32_t mask, bool idle_only)
{
  if (!s->mm || !s->mm->grp) return -1;
  return victim(s, j, mask, idle_only);
}

void srv_models_claim(srv_sim *s, int r, int j)
{
  mm_rep *mr = &s->mm->rep[r];
  /* a "both" replica's prompts come first; a replica already loading, or
   * promised to another model, is not taken back (two models claiming one
   * decode replica in turn would swap it for ever) */
  if (mr->parked.head || mr->loading || mr->tail != mr->cur) return;
  mr->last_use = sim_now(s->eng);
  set_tail(s, mr, j);
  refresh(s, r);
  advance(s, r);
}

/* ---- autoscaled swapping pools ---- */

void srv_models_start(srv_sim *s, int k)
{
  srv_models *mm = s->mm;
  int pool = s->reps[k].pool;
  if (!mm || !swaps_in(s->p, pool)) return;
  const srv_pool_cfg *pl = &s->p->pools[pool];
  sim_time now = sim_now(s->eng);
  /* the model with the highest demand per replica holding it (one held by
   * none first, the more demanded of those; ties to the model named first);
   * a holder under a spot notice is going and counts for nothing */
  int best = -1;
  double best_d = 0;
  bool best_none = false;
  for (int j = 0; j < s->p->nmodels; j++) {
    if (!(pl->model_mask >> j & 1)) continue;
    double h = mm->model[j].holders - (double)mm->model[j].leaving, d = demand(s, j, now);
    bool none = h <= 0;
    double per = none ? d : d / h;
    if (best < 0 || (none && !best_none) || (none == best_none && per > best_d)) {
      best = j;
      best_d = per;
      best_none = none;
    }
  }
  mm_rep *mr = &mm->rep[k];
  if (mr->on) SIM_BUG("serving: replica %d starts twice", k);
  mr->on = true;
  mr->empty = false;
  mr->cur = mr->tail = best;
  mm->model[best].tails++;
  srv_replica_set_model(&s->reps[k], &pl->var[best]);
  set_holders(s, best, 1);
  set_kv_cap(s, pool, (double)pl->var[best].kv_blocks);
  refresh(s, k);
}

/* Replica k's parked requests go elsewhere, in order; requeued: counted
 * in requests_requeued (sent away by an interruption). */
static void send_parked_on(srv_sim *s, mm_rep *mr, bool requeued)
{
  while (mr->parked.head) {
    srv_req *q = mr->parked.head;
    srv_models_unpark(s, q);
    q->next = NULL;
    if (requeued) s->requeued++;
    srv_route(s, q, srv_pick(s, q), false);
  }
}

void srv_models_drain(srv_sim *s, int k)
{
  srv_models *mm = s->mm;
  if (!mm || !swaps_in(s->p, s->reps[k].pool)) return;
  /* its parked requests go elsewhere (none counted as new) */
  send_parked_on(s, &mm->rep[k], false);
}

void srv_models_stop(srv_sim *s, int k)
{
  srv_models *mm = s->mm;
  int pool = s->reps[k].pool;
  if (!mm || !swaps_in(s->p, pool)) return;
  mm_rep *mr = &mm->rep[k];
  /* a replica stopped while it was starting never took a model */
  if (!mr->on) return;
  if (mr->parked.head) SIM_BUG("serving: replica %d stops with requests parked", k);
  if (mr->leaving) {
    mm->model[mr->cur].leaving--;
    mr->leaving = false;
  }
  if (mr->empty) {
    /* its load was called off at its notice: it held nothing since */
    mr->empty = false;
  } else if (mr->loading) {
    /* the weights it was loading never arrive (its old model was already
     * let go when the load started) */
    sim_cancel(s->eng, mr->load_ev);
    mr->load_ev = 0;
    mr->loading = false;
    srv_integral_set(&mm->loading, sim_now(s->eng), mm->loading.v - 1);
  } else {
    set_holders(s, mr->cur, -1);
    set_kv_cap(s, pool, -(double)s->p->pools[pool].var[mr->cur].kv_blocks);
  }
  mm->model[mr->tail].tails--;
  mr->on = false;
  refresh(s, k);
}

void srv_models_notice(srv_sim *s, int k)
{
  srv_models *mm = s->mm;
  if (!mm || !swaps_in(s->p, s->reps[k].pool)) return;
  mm_rep *mr = &mm->rep[k];
  if (!mr->on) return;
  if (mr->loading) {
    /* weights it would hold for a moment: the load is called off (the old
     * model was let go when it started; the time it took stays counted) */
    sim_cancel(s->eng, mr->load_ev);
    mr->load_ev = 0;
    mr->loading = false;
    mr->empty = true;
    srv_integral_set(&mm->loading, sim_now(s->eng), mm->loading.v - 1);
  } else if (!mr->leaving) {
    mr->leaving = true;
    mm->model[mr->cur].leaving++;
  }
  /* its parked requests go elsewhere, as sent away by the interruption */
  send_parked_on(s, mr, true);
  refresh(s, k);
}

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
    /* the probe's: one replica of its first pool, fed its requests alone */
    double sat = NAN;
    for (int i = 0; i < p->npools && isnan(sat); i++)
      if (p->pools[i].model_mask >> j & 1) sat = s->books[i].sat.model_rate_per_s[j];
    sim_report_num(rep, MKEY("saturation_rate_per_s"), sat,
                   "  one replica's saturation rate on its requests alone (requests/s; its first pool)");
    if (p->spec.any) {
      /* only with speculation on, as the pooled spec_ keys */
      uint64_t prop = s->host.spec_proposed_model[j];
      sim_report_num(rep, MKEY("spec_acceptance_rate"),
                     prop > 0 ? (double)s->host.spec_accepted_model[j] / (double)prop : NAN,
                     "  speculative: its draft tokens accepted / proposed");
    }
#undef MKEY
  }
}
