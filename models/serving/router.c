/* models/serving/router.c: the routing policies and their type table (see
 * router.h). Owns each router's cursor and, when asked for, its index (a
 * tournament tree); reads the caller's replica array, never writes it.
 * O(1) per pick for round robin and the random policies; for the ordering
 * policies O(n) by a scan, or O(log n) with the index. */
#include "models/serving/router.h"

#include <stdlib.h>
#include <string.h>

#include "sim/util.h"

static int start_of(const route_router *r, int n)
{
  return (int)(r->cursor % (uint64_t)n);
}

/* The k-th replica up (k from 0), from the start: reps[k] when none is down. */
static int kth_up(const route_router *r, const route_replica *reps, int n, int k)
{
  if (r->ndown == 0) return k;
  for (int i = 0; i < n; i++)
    if (!reps[i].down && k-- == 0) return i;
  return 0;
}

static int round_robin(route_router *r, const route_replica *reps, int n, gsl_rng *rng)
{
  int i = start_of(r, n);
  if (r->ndown == 0) return i;
  for (int k = 0; k < n; k++, i = i + 1 == n ? 0 : i + 1)
    if (!reps[i].down) return i;
  return start_of(r, n);
}

/* The first replica from the cursor on (wrapping) with the smallest key;
 * `less(a, b)` says a is strictly less loaded than b. */
static int scan_min(const route_router *r, const route_replica *reps, int n,
                    bool (*less)(const route_replica *, const route_replica *))
{
  int i = start_of(r, n), best = i;
  for (int k = 1; k < n; k++) {
    if (++i == n) i = 0;
    if (less(&reps[i], &reps[best])) best = i;
  }
  return best;
}

/* a replica up is less loaded than one down, whatever their loads */
static bool fewer_outstanding(const route_replica *a, const route_replica *b)
{
  if (a->down != b->down) return b->down;
  return a->outstanding < b->outstanding;
}

static bool less_kv(const route_replica *a, const route_replica *b)
{
  if (a->down != b->down) return b->down;
  if (a->kv_used != b->kv_used) return a->kv_used < b->kv_used;
  return a->outstanding < b->outstanding;
}

/* ---- the index: a tournament tree ---- */

/* The winner of two subtrees' winners a (left) and b (right): the less
 * loaded, the left one on a tie, so that a node holds the first minimum
 * below it. */
static int32_t play(const route_router *r, int32_t a, int32_t b)
{
  if (a < 0) return b;
  if (b < 0) return a;
  return r->type->less(&r->reps[b], &r->reps[a]) ? b : a;
}

/* The first index at or after the cursor, wrapping, whose load equals the
 * minimum: what scan_min finds. The root holds the first minimum m
 * overall; when m is before the cursor, the first minimum at or after it
 * is the winner of the first subtree right of the cursor's leaf that holds
 * the minimum (the right siblings met climbing from that leaf cover the
 * indices after it, in order). */
static int tree_min(const route_router *r, int n)
{
  int c = start_of(r, n);
  int32_t m = r->win[1];
  if (m >= c) return m;
  const route_replica *best = &r->reps[m];
  if (!r->type->less(best, &r->reps[c])) return c;
  for (int k = r->leaves + c; k > 1; k >>= 1) {
    if (k & 1) continue;
    int32_t w = r->win[k + 1];
    if (w >= 0 && !r->type->less(best, &r->reps[w])) return w;
  }
  return m;
}

static int ordered_min(route_router *r, const route_replica *reps, int n)
{
  if (r->win) {
    if (reps != r->reps || n != r->n)
      SIM_BUG("route_pick: %s indexed over %d replicas, asked about %d", r->type->name, r->n, n);
    return tree_min(r, n);
  }
  return scan_min(r, reps, n, r->type->less);
}

static int least_outstanding(route_router *r, const route_replica *reps, int n, gsl_rng *rng)
{
  return ordered_min(r, reps, n);
}

static int least_kv(route_router *r, const route_replica *reps, int n, gsl_rng *rng)
{
  return ordered_min(r, reps, n);
}

static int power_of_two(route_router *r, const route_replica *reps, int n, gsl_rng *rng)
{
  int up = n - r->ndown;
  if (up <= 1) return up == 1 ? kth_up(r, reps, n, 0) : start_of(r, n);
  int a = (int)gsl_rng_uniform_int(rng, (unsigned long)up);
  int b = (int)gsl_rng_uniform_int(rng, (unsigned long)up - 1);
  if (b >= a) b++;  /* uniform over the others */
  a = kth_up(r, reps, n, a);
  b = kth_up(r, reps, n, b);
  return reps[b].outstanding < reps[a].outstanding ? b : a;
}

static int random_pick(route_router *r, const route_replica *reps, int n, gsl_rng *rng)
{
  int up = n - r->ndown;
  if (up <= 1) return up == 1 ? kth_up(r, reps, n, 0) : start_of(r, n);
  return kth_up(r, reps, n, (int)gsl_rng_uniform_int(rng, (unsigned long)up));
}

const route_type route_round_robin = {.name = "round-robin", .pick = round_robin};
const route_type route_least_outstanding = {.name = "least-outstanding", .pick = least_outstanding,
                                            .less = fewer_outstanding, .uses_outstanding = true};
const route_type route_least_kv = {.name = "least-kv", .pick = least_kv, .less = less_kv,
                                   .uses_outstanding = true, .uses_kv = true};
const route_type route_power_of_two = {.name = "power-of-two", .pick = power_of_two, .uses_rng = true,
                                       .uses_outstanding = true};
const route_type route_random = {.name = "random", .pick = random_pick, .uses_rng = true};
/* its affinity is the simulation's (srv_pick): on its own it is least-outstanding */
const route_type route_prefix_affinity = {.name = "prefix-affinity", .pick = least_outstanding,
                                          .less = fewer_outstanding, .uses_outstanding = true, .affinity = true};

const route_type *const route_types[] = {
  &route_round_robin, &route_least_outstanding, &route_least_kv, &route_power_of_two,
  &route_random, &route_prefix_affinity, NULL,
};

const route_type *route_type_find(const char *name)
{
  for (int i = 0; route_types[i]; i++)
    if (strcmp(route_types[i]->name, name) == 0) return route_types[i];
  return NULL;
}

void route_init(route_router *r, const route_type *t)
{
  if (!t) SIM_BUG("route_init: no policy");
  r->type = t;
  r->cursor = 0;
  r->reps = NULL;
  r->n = r->leaves = 0;
  r->win = NULL;
  r->ndown = 0;
}

void route_set_down(route_router *r, route_replica *reps, int i, bool down)
{
  if (reps[i].down == down) return;
  reps[i].down = down;
  r->ndown += down ? 1 : -1;
  route_update(r, i);
}

void route_mark_down(route_router *r, int i, bool down)
{
  r->ndown += down ? 1 : -1;
  route_update(r, i);
}

int route_up(const route_router *r, int n)
{
  return n - r->ndown;
}

void route_index(route_router *r, const route_replica *reps, int n)
{
  if (n < 1 || !reps) SIM_BUG("route_index: %d replicas", n);
  route_release(r);
  if (!r->type->less) return;
  int leaves = 1;
  while (leaves < n) {
    if (leaves > INT32_MAX / 4) SIM_BUG("route_index: %d replicas", n);
    leaves *= 2;
  }
  r->reps = reps;
  r->n = n;
  r->leaves = leaves;
  r->win = xmalloc(2 * (size_t)leaves * sizeof *r->win);
  r->win[0] = -1;
  for (int i = 0; i < leaves; i++) r->win[leaves + i] = i < n ? i : -1;
  for (int k = leaves - 1; k >= 1; k--) r->win[k] = play(r, r->win[2 * k], r->win[2 * k + 1]);
}

void route_update(route_router *r, int i)
{
  if (!r->win) return;
  if (i < 0 || i >= r->n) SIM_BUG("route_update: replica %d of %d", i, r->n);
  /* replay the matches on the way to the root; once a node keeps a winner
   * other than i, whose load did not change, nothing above it changes */
  for (int k = (r->leaves + i) >> 1; k >= 1; k >>= 1) {
    int32_t w = play(r, r->win[2 * k], r->win[2 * k + 1]);
    if (w == r->win[k] && w != i) break;
    r->win[k] = w;
  }
}

void route_release(route_router *r)
{
  free(r->win);
  r->win = NULL;
  r->reps = NULL;
  r->n = r->leaves = 0;
}

int route_pick(route_router *r, const route_replica *reps, int n, gsl_rng *rng)
{
  if (n < 1) SIM_BUG("route_pick: %d replicas", n);
  if (r->type->uses_rng && !rng) SIM_BUG("route_pick: %s needs a random stream", r->type->name);
  int i = r->type->pick(r, reps, n, rng);
  if (i < 0 || i >= n) SIM_BUG("route_pick: %s picked %d of %d", r->type->name, i, n);
  r->cursor = (uint64_t)i + 1;
  return i;
}
