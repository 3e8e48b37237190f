/* driver/plan/plan_fleet.c: `clustersim plan --pricing`: the cheapest fleet
 * for the scenario's demand curve (its workload over its horizon, daily
 * cycles, spikes and growth included) that meets every target, made of a
 * fixed baseline at one pricing (on-demand, a 1- or 3-year reservation,
 * owned) and an autoscaled burst at another (on-demand or spot), or of
 * either alone. For each (GPU, tp):
 *   1. the fewest fixed replicas at the first baseline pricing (A*);
 *   2. for each burst pricing, the staircase of (baseline replicas,
 *      burst max_replicas) with plan_pools, baseline replicas in [0, A*]:
 *      the fewest burst cap for each baseline;
 *   3. for each other baseline pricing, the fleets on that staircase (and
 *      A* fixed) again at that pricing: a real run each.
 * Every fleet is simulated, none twice; the answer is the cheapest feasible
 * one, set against the cheapest all-on-demand fleet simulated. Each phase's
 * searches (per type, per pricing) run at once in the driver's worker
 * pool (-j); their sims join in a fixed order, so the result does not
 * depend on -j. Owns the searches' sims; writes nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/plan/plan.h"
#include "driver/commands/cli.h"
#include "driver/plan/plan_pools.h"
#include "models/cost/provider.h"
#include "sim/util.h"

static bool same(const plan_fleet *a, const plan_fleet *b)
{
  return a->base_replicas == b->base_replicas && a->burst_max == b->burst_max &&
         (a->base_replicas == 0 || a->base_pricing == b->base_pricing) &&
         (a->burst_max == 0 || a->burst_pricing == b->burst_pricing);
}

/* The sim of fleet f (simulating it if new): its index, or -1 with *status. */
static int get(const plan_ctx *c, plan_fleet_type *t, plan_fleet f, int *status)
{
  if (f.base_replicas == 0) f.base_pricing = -1;
  if (f.burst_max == 0) f.burst_pricing = -1;
  for (int i = 0; i < t->nsims; i++)
    if (same(&t->sims[i].fleet, &f)) return i;
  if (t->nsims == t->cap) {
    t->cap = t->cap ? 2 * t->cap : 32;
    t->sims = xrealloc(t->sims, (size_t)t->cap * sizeof *t->sims);
  }
  const plan_sim *x = &t->sims[t->nsims];
  int rc = plan_eval_fleet(c, t->gpu, t->tp, &f, &t->sims[t->nsims]);
  if (rc != SIM_PLAN_OK) {
    *status = rc;
    return -1;
  }
  if (!c->o->quiet) {
    char what[160];
    plan_fleet_describe(&f, what, sizeof what);
    fprintf(stderr, "plan: %s tp %d: %s: ", c->o->gpus[t->gpu], t->tp, what);
    if (x->runs == 0)
      fprintf(stderr, "refused: %s\n", x->reason);
    else
      fprintf(stderr, "$%.2f/h, %s\n", x->usd_per_hour, x->feasible ? "meets the targets" : "misses");
  }
  return t->nsims++;
}

typedef struct {
  const plan_ctx *c;
  plan_fleet_type *t;
  int base_pricing, burst_pricing;
  bool fixed_only;   /* one size: the baseline's */
} probe_arg;

static int probe(void *arg, const int *v, bool *feasible, double *cost)
{
  probe_arg *p = arg;
  plan_fleet f = {v[0], p->base_pricing, p->fixed_only ? 0 : v[1], p->burst_pricing};
  /* no replica at all; or fewer fixed replicas than the fewest that met
   * the targets (the fixed search proved it): no need to run them */
  if ((f.base_replicas == 0 && f.burst_max == 0) ||
      (f.burst_max == 0 && p->t->fixed > 0 && f.base_replicas < p->t->fixed && !p->fixed_only)) {
    *feasible = false;
    *cost = 0;
    return 0;
  }
  int status = SIM_PLAN_OK;
  int i = get(p->c, p->t, f, &status);
  if (i < 0) return status;
  *feasible = p->t->sims[i].feasible;
  *cost = p->t->sims[i].usd_per_hour;
  return 0;
}

static bool is_burst(int p)
{
  return p == COST_PRICING_ON_DEMAND || p == COST_PRICING_SPOT;
}

/* The fewest burst cap that met the targets with b baseline replicas at
 * base pricing bp and burst pricing ep; 0 if none. */
static int frontier(const plan_fleet_type *t, int b, int bp, int ep)
{
  int best = 0;
  for (int i = 0; i < t->nsims; i++) {
    const plan_fleet *f = &t->sims[i].fleet;
    if (t->sims[i].feasible && f->base_replicas == b && f->base_pricing == bp && f->burst_pricing == ep &&
        f->burst_max > 0 && (best == 0 || f->burst_max < best))
      best = f->burst_max;
  }
  return best;
}

/* The pricings a baseline may use (all but spot) and a burst may use
 * (on-demand, spot), in the order --pricing lists them. */
static void pricings(const plan_opts *o, int *bases, int *nb, int *bursts, int *ne)
{
  *nb = *ne = 0;
  for (int i = 0; i < o->npricings; i++) {
    if (o->pricings[i] != COST_PRICING_SPOT) bases[(*nb)++] = o->pricings[i];
    if (is_burst(o->pricings[i])) bursts[(*ne)++] = o->pricings[i];
  }
}

/* The fewest fixed replicas at baseline pricing bp that met the targets
 * among t's sims; 0 if none. */
static int fixed_of(const plan_fleet_type *t, int bp)
{
  int best = 0;
  for (int i = 0; i < t->nsims; i++) {
    const plan_fleet *f = &t->sims[i].fleet;
    if (t->sims[i].feasible && f->burst_max == 0 && f->base_pricing == bp && (best == 0 || f->base_replicas < best))
      best = f->base_replicas;
  }
  return best;
}

/* The three phases of a type's search (see the top of the file); phase 2
 * and 3 take the burst or baseline pricing index k. Each runs in a worker
 * and leaves its new sims at the end of t->sims. */
static int phase(const plan_ctx *c, plan_fleet_type *t, int ph, int k)
{
  const plan_opts *o = c->o;
  int bases[SIM_PLAN_MAX_PRICINGS], nb, bursts[SIM_PLAN_MAX_PRICINGS], ne;
  pricings(o, bases, &nb, bursts, &ne);
  plan_pools_result r;
  t->fixed = fixed_of(t, bases[0]);
  int top = t->fixed ? t->fixed : o->max_replicas;
  if (ph == 1) {
    plan_pools_space fixed = {1, {1}, {o->max_replicas}};
    probe_arg pa = {c, t, bases[0], -1, true};
    return plan_pools_search(&fixed, probe, &pa, &r);
  }
  if (ph == 2) {
    plan_pools_space mix = {2, {0, 0}, {top, o->max_replicas}};
    probe_arg pm = {c, t, bases[0], bursts[k], false};
    return plan_pools_search(&mix, probe, &pm, &r);
  }
  int status = SIM_PLAN_OK;
  if (t->fixed && get(c, t, (plan_fleet){t->fixed, bases[k], 0, -1}, &status) < 0) return status;
  for (int e = 0; e < ne; e++)
    for (int a = 1; a < top; a++) {
      int most = frontier(t, a, bases[0], bursts[e]);
      if (most && get(c, t, (plan_fleet){a, bases[k], most, bursts[e]}, &status) < 0) return status;
    }
  return SIM_PLAN_OK;
}

/* ---- the phases' items through the driver's worker pool ---- */

typedef struct {
  int g, k;
} fleet_item;

/* A phase through plan_run_items: item i is (type items[i].g, k items[i].k). */
typedef struct {
  const plan_ctx *c;
  plan_fleet_result *r;
  int ph;
  fleet_item items[SIM_PLAN_MAX_GPUS * SIM_PLAN_MAX_TPS * SIM_PLAN_MAX_PRICINGS];
  char *out[SIM_PLAN_MAX_GPUS * SIM_PLAN_MAX_TPS * SIM_PLAN_MAX_PRICINGS];
  size_t len[SIM_PLAN_MAX_GPUS * SIM_PLAN_MAX_TPS * SIM_PLAN_MAX_PRICINGS];
  int nitems;
} fleet_jobs;

static int work_item(void *ctx, size_t item, char **out, size_t *len)
{
  fleet_jobs *j = ctx;
  plan_fleet_type *t = &j->r->types[j->items[item].g];
  int n0 = t->nsims;
  int rc = phase(j->c, t, j->ph, j->items[item].k);
  if (rc == SIM_PLAN_OK) *out = plan_sims_encode(t->sims + n0, t->nsims - n0, len);
  return rc;
}

/* Add the sims of bytes to t, in their order, but none twice. */
static bool merge(plan_fleet_type *t, const char *bytes, size_t len)
{
  plan_sim *sims;
  int n;
  if (!plan_sims_decode(bytes, len, &sims, &n)) return false;
  for (int i = 0; i < n; i++) {
    bool have = false;
    for (int k = 0; k < t->nsims && !have; k++) have = same(&t->sims[k].fleet, &sims[i].fleet);
    if (have) {
      sim_report_release(&sims[i].summary);
      continue;
    }
    if (t->nsims == t->cap) {
      t->cap = t->cap ? 2 * t->cap : 32;
      t->sims = xrealloc(t->sims, (size_t)t->cap * sizeof *t->sims);
    }
    t->sims[t->nsims++] = sims[i];
  }
  free(sims);
  return true;
}

/* Run phase ph of every type that fits, for k in [0, nk) (1 for phase 1,
 * k from 1 for phase 3), o->jobs at a time; the results join the types in
 * item order, so that they do not depend on -j. */
static int run_phase(const plan_ctx *c, plan_fleet_result *r, int ph, int k0, int nk)
{
  fleet_jobs *j = xcalloc(1, sizeof *j);
  j->c = c;
  j->r = r;
  j->ph = ph;
  for (int g = 0; g < r->ntypes; g++)
    for (int k = k0; k < nk && r->types[g].fits; k++) j->items[j->nitems++] = (fleet_item){g, k};
  int rc = plan_run_items(c->o->jobs, (size_t)j->nitems, work_item, j, "fleet", j->out, j->len);
  for (int i = 0; i < j->nitems; i++) {
    if (rc == SIM_PLAN_OK && (!j->out[i] || !merge(&r->types[j->items[i].g], j->out[i], j->len[i]))) {
      fprintf(stderr, "clustersim plan: cannot read a fleet search back from its worker\n");
      rc = CMD_EXIT_FAIL;
    }
    free(j->out[i]);
  }
  free(j);
  return rc;
}

/* a better than b: plan_better, then (at the same cost) the smaller caps:
 * a burst allowed 16 replicas that uses 2 costs what one allowed 2 does. */
static bool fleet_better(const plan_sim *a, const plan_sim *b)
{
  if (plan_better(a, b)) return true;
  if (plan_better(b, a)) return false;
  return a->fleet.base_replicas + a->fleet.burst_max < b->fleet.base_replicas + b->fleet.burst_max;
}

void plan_fleet_describe(const plan_fleet *f, char *buf, size_t n)
{
  if (f->base_replicas > 0 && f->burst_max > 0)
    snprintf(buf, n, "%d %s + up to %d %s", f->base_replicas, cost_pricing_names[f->base_pricing], f->burst_max,
             cost_pricing_names[f->burst_pricing]);
  else if (f->base_replicas > 0)
    snprintf(buf, n, "%d %s", f->base_replicas, cost_pricing_names[f->base_pricing]);
  else
    snprintf(buf, n, "up to %d %s", f->burst_max, cost_pricing_names[f->burst_pricing]);
}

bool plan_fleet_single(const plan_sim *x, int p)
{
  const plan_fleet *f = &x->fleet;
  return (f->base_replicas == 0 || f->base_pricing == p) && (f->burst_max == 0 || f->burst_pricing == p);
}

int plan_fleet_run(const plan_ctx *c, plan_fleet_result *r)
{
  int bases[SIM_PLAN_MAX_PRICINGS], nb, bursts[SIM_PLAN_MAX_PRICINGS], ne;
  pricings(c->o, bases, &nb, bursts, &ne);
  int rc = run_phase(c, r, 1, 0, 1);
  if (!rc) rc = run_phase(c, r, 2, 0, ne);
  if (!rc) rc = run_phase(c, r, 3, 1, nb);
  if (rc) return rc;
  for (int g = 0; g < r->ntypes; g++) r->types[g].fixed = r->types[g].fits ? fixed_of(&r->types[g], bases[0]) : 0;
  r->winner_type = r->winner = r->od_type = r->od = -1;
  r->feasible = false;
  r->simulations = r->configurations = 0;
  for (int g = 0; g < r->ntypes; g++) {
    const plan_fleet_type *t = &r->types[g];
    for (int i = 0; i < t->nsims; i++) {
      const plan_sim *x = &t->sims[i];
      r->configurations++;
      r->simulations += x->runs;
      const plan_sim *w = r->winner >= 0 ? &r->types[r->winner_type].sims[r->winner] : NULL;
      bool take = !w || (x->feasible && !r->feasible) ||
                  (x->feasible == r->feasible && (x->feasible ? fleet_better(x, w) : plan_closer(x, w)));
      if (take) {
        r->winner_type = g;
        r->winner = i;
        r->feasible = x->feasible;
      }
      const plan_sim *od = r->od >= 0 ? &r->types[r->od_type].sims[r->od] : NULL;
      if (x->feasible && plan_fleet_single(x, COST_PRICING_ON_DEMAND) && (!od || fleet_better(x, od))) {
        r->od_type = g;
        r->od = i;
      }
    }
  }
  return SIM_PLAN_OK;
}

void plan_fleet_release(plan_fleet_result *r)
{
  for (int g = 0; g < r->ntypes; g++) {
    for (int i = 0; i < r->types[g].nsims; i++) sim_report_release(&r->types[g].sims[i].summary);
    free(r->types[g].sims);
  }
  free(r->types);
  r->types = NULL;
  r->ntypes = 0;
}
