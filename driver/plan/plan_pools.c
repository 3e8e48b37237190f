/* driver/plan/plan_pools.c: the search of several pool sizes at once (see
 * plan_pools.h). Owns a memo of the vectors probed, so that no vector is
 * probed twice, and the staircase of the last two sizes. */
#include "driver/plan/plan_pools.h"

#include <stdlib.h>
#include <string.h>

#include "sim/util.h"

/* More values of the staircase's first size than this are walked with a
 * stride. */
enum { COARSE = 16 };

typedef struct {
  int v[PLAN_POOLS_MAX];
  bool feasible;
  double cost;
} probed;

typedef struct {
  const plan_pools_space *sp;
  plan_pools_probe probe;
  void *arg;
  plan_pools_result *out;
  int v[PLAN_POOLS_MAX];   /* the vector being built */
  probed *memo;
  int nmemo, cap;
  bool stop_dearer;        /* plan_pools_search_pruned */
} walk;

/* Probe w->v (once: later calls recall it) into *feasible and *cost. */
static int try(walk *w, bool *feasible, double *cost)
{
  int k = w->sp->k;
  for (int i = 0; i < w->nmemo; i++)
    if (!memcmp(w->memo[i].v, w->v, (size_t)k * sizeof w->v[0])) {
      *feasible = w->memo[i].feasible;
      *cost = w->memo[i].cost;
      return 0;
    }
  w->out->probes++;
  int rc = w->probe(w->arg, w->v, feasible, cost);
  if (rc) return rc;
  if (w->nmemo == w->cap) {
    w->cap = w->cap ? 2 * w->cap : 64;
    w->memo = xrealloc(w->memo, (size_t)w->cap * sizeof *w->memo);
  }
  probed *p = &w->memo[w->nmemo++];
  memset(p, 0, sizeof *p);
  memcpy(p->v, w->v, (size_t)k * sizeof w->v[0]);
  p->feasible = *feasible;
  p->cost = *cost;
  if (*feasible && (!w->out->found || *cost < w->out->cost)) {
    w->out->found = true;
    memcpy(w->out->v, w->v, sizeof w->out->v);
    w->out->cost = *cost;
  }
  return 0;
}

/* The fewest feasible value of size d in [lo, hi], the others as in w->v;
 * hi_ok: hi is known to be feasible. *res = -1 if even hi is not. */
static int fewest(walk *w, int d, int lo, int hi, bool hi_ok, int *res)
{
  bool f;
  double cost;
  int rc;
  *res = -1;
  if (lo > hi) lo = hi;
  if (!hi_ok) {
    w->v[d] = hi;
    if ((rc = try(w, &f, &cost))) return rc;
    if (!f) return 0;
  }
  int bad = lo - 1;
  for (int p = lo; p < hi; p = p > 0 ? 2 * p : 1) {
    w->v[d] = p;
    if ((rc = try(w, &f, &cost))) return rc;
    if (f) {
      hi = p;
      break;
    }
    bad = p;
  }
  while (hi - bad > 1) {
    int mid = bad + (hi - bad) / 2;
    w->v[d] = mid;
    if ((rc = try(w, &f, &cost))) return rc;
    if (f)
      hi = mid;
    else
      bad = mid;
  }
  *res = hi;
  return 0;
}

/* One point of the staircase: x of size a, y the fewest feasible of size b
 * there (-1: none), its cost. */
typedef struct {
  int x, y;
  double cost;
} step;

typedef struct {
  step *s;
  int n;
} stairs;

static const step *at(const stairs *st, int x)
{
  for (int i = 0; i < st->n; i++)
    if (st->s[i].x == x) return &st->s[i];
  return NULL;
}

/* Solve x: the fewest feasible size b with size a = x, bracketed by the
 * steps already known (fewer of a needs at least as many of b; more of a
 * needs no more). */
static int solve(walk *w, stairs *st, int a, int b, int x)
{
  const plan_pools_space *sp = w->sp;
  int ylo = sp->lo[b], yhi = sp->hi[b];
  bool hi_ok = false;
  const step *left = NULL, *right = NULL;
  for (int i = 0; i < st->n; i++) {
    const step *p = &st->s[i];
    if (p->x < x && p->y >= 0 && (!left || p->x > left->x)) left = p;
    if (p->x > x && (!right || p->x < right->x)) right = p;
  }
  step *me = &st->s[st->n++];
  *me = (step){x, -1, 0};
  /* more of a is infeasible at every b: so is this */
  if (right && right->y < 0) return 0;
  if (left) yhi = left->y, hi_ok = true;
  if (right) ylo = right->y;
  w->v[a] = x;
  int y, rc = fewest(w, b, ylo, yhi, hi_ok, &y);
  if (rc || y < 0) return rc;
  w->v[b] = y;
  bool f;
  double cost;
  if ((rc = try(w, &f, &cost))) return rc;
  me->y = y;
  me->cost = f ? cost : 0;
  if (!f) me->y = -1;  /* the probe contradicts the bracket: do not build on it */
  return 0;
}

/* With w->stop_dearer: whether the vector of w->v with size a = x and size b at
 * its lowest was probed and costs no less than the cheapest feasible so
 * far; then no larger x is cheaper. */
static bool dearer(const walk *w, int a, int b, int x)
{
  if (!w->stop_dearer || !w->out->found) return false;
  int v[PLAN_POOLS_MAX];
  memcpy(v, w->v, sizeof v);
  v[a] = x;
  v[b] = w->sp->lo[b];
  for (int i = 0; i < w->nmemo; i++)
    if (!memcmp(w->memo[i].v, v, (size_t)w->sp->k * sizeof v[0])) return w->memo[i].cost >= w->out->cost;
  return false;
}

/* The staircase of sizes a = k-2 and b = k-1, the sizes before them as in
 * w->v. */
static int staircase(walk *w)
{
  const plan_pools_space *sp = w->sp;
  int a = sp->k - 2, b = sp->k - 1;
  int range = sp->hi[a] - sp->lo[a];
  int stride = range > COARSE ? (range + COARSE - 1) / COARSE : 1;
  stairs st = {xcalloc((size_t)range + 1, sizeof *st.s), 0};
  int rc = 0;
  for (int x = sp->lo[a]; !rc; x = x + stride < sp->hi[a] ? x + stride : sp->hi[a]) {
    rc = solve(w, &st, a, b, x);
    if (rc || at(&st, x)->y == sp->lo[b]) break;  /* more of a only costs more */
    if (dearer(w, a, b, x)) break;
    if (x == sp->hi[a]) break;
  }
  /* refine around the cheapest step, the stride halved each time */
  for (int s = stride; s > 1 && !rc;) {
    s = (s + 1) / 2;
    const step *best = NULL;
    for (int i = 0; i < st.n; i++)
      if (st.s[i].y >= 0 && (!best || st.s[i].cost < best->cost)) best = &st.s[i];
    if (!best) break;
    int bx = best->x;
    for (int d = -1; d <= 1 && !rc; d += 2) {
      int x = bx + d * s;
      if (x >= sp->lo[a] && x <= sp->hi[a] && !at(&st, x)) rc = solve(w, &st, a, b, x);
    }
  }
  free(st.s);
  return rc;
}

static int search(const plan_pools_space *sp, bool stop_dearer, plan_pools_probe probe, void *arg,
                  plan_pools_result *out)
{
  memset(out, 0, sizeof *out);
  walk w = {.sp = sp, .probe = probe, .arg = arg, .out = out, .stop_dearer = stop_dearer};
  int k = sp->k, rc = 0;
  for (int i = 0; i < k; i++) w.v[i] = sp->lo[i];
  if (k == 1) {
    int y;
    rc = fewest(&w, 0, sp->lo[0], sp->hi[0], false, &y);
  } else {
    /* every combination of the sizes before the staircase */
    for (;;) {
      if ((rc = staircase(&w))) break;
      int i = k - 3;
      while (i >= 0 && w.v[i] == sp->hi[i]) w.v[i] = sp->lo[i], i--;
      if (i < 0) break;
      w.v[i]++;
    }
  }
  free(w.memo);
  return rc;
}

int plan_pools_search(const plan_pools_space *sp, plan_pools_probe probe, void *arg, plan_pools_result *out)
{
  return search(sp, false, probe, arg, out);
}

int plan_pools_search_pruned(const plan_pools_space *sp, plan_pools_probe probe, void *arg, plan_pools_result *out)
{
  return search(sp, true, probe, arg, out);
}
