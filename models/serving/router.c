/* models/serving/router.c: the routing policies and their type table (see
 * router.h). Owns nothing but each router's cursor; reads the caller's
 * replica array, never writes it. O(n) per pick for the scanning
 * policies, O(1) for round robin and the random ones. */
#include "models/serving/router.h"

#include <string.h>

#include "sim/util.h"

static int start_of(const route_router *r, int n)
{
  return (int)(r->cursor % (uint64_t)n);
}

static int round_robin(route_router *r, const route_replica *reps, int n, gsl_rng *rng)
{
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

static bool fewer_outstanding(const route_replica *a, const route_replica *b)
{
  return a->outstanding < b->outstanding;
}

static bool less_kv(const route_replica *a, const route_replica *b)
{
  if (a->kv_used != b->kv_used) return a->kv_used < b->kv_used;
  return a->outstanding < b->outstanding;
}

static int least_outstanding(route_router *r, const route_replica *reps, int n, gsl_rng *rng)
{
  return scan_min(r, reps, n, fewer_outstanding);
}

static int least_kv(route_router *r, const route_replica *reps, int n, gsl_rng *rng)
{
  return scan_min(r, reps, n, less_kv);
}

static int power_of_two(route_router *r, const route_replica *reps, int n, gsl_rng *rng)
{
  if (n == 1) return 0;
  int a = (int)gsl_rng_uniform_int(rng, (unsigned long)n);
  int b = (int)gsl_rng_uniform_int(rng, (unsigned long)n - 1);
  if (b >= a) b++;  /* uniform over the n - 1 others */
  return reps[b].outstanding < reps[a].outstanding ? b : a;
}

static int random_pick(route_router *r, const route_replica *reps, int n, gsl_rng *rng)
{
  return n == 1 ? 0 : (int)gsl_rng_uniform_int(rng, (unsigned long)n);
}

const route_type route_round_robin = {"round-robin", round_robin, false};
const route_type route_least_outstanding = {"least-outstanding", least_outstanding, false};
const route_type route_least_kv = {"least-kv", least_kv, false};
const route_type route_power_of_two = {"power-of-two", power_of_two, true};
const route_type route_random = {"random", random_pick, true};

const route_type *const route_types[] = {
  &route_round_robin, &route_least_outstanding, &route_least_kv, &route_power_of_two,
  &route_random, NULL,
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
