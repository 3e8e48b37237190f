/* driver/plan/plan_pools.h: the search of several pool sizes at once, for
 * `clustersim plan` and whatever else sizes more than one pool (a committed
 * baseline beside an autoscaled burst; prefill beside decode). A
 * configuration is a vector of sizes (n_0, ..., n_{k-1}), each in
 * [lo_i, hi_i]; a probe simulates it (or recalls it) and says whether it
 * is feasible and what it costs. The search takes feasibility never to be
 * lost when a size grows, and cost never to fall when one grows, and
 * returns the cheapest feasible vector it probed.
 *
 * k = 1: the fewest feasible size (check the top, double from the bottom,
 * bisect). k >= 2: every combination of the first k - 2 sizes, and for each
 * the staircase of the last two: as n_{k-2} grows, the fewest feasible
 * n_{k-1} can only shrink, so each step bisects below the last step's
 * answer, and the walk stops once n_{k-1} is at its lowest. Wide ranges of
 * n_{k-2} (more than 16 values) are walked with a stride and refined around
 * the best point with the stride halved, which takes the cost along the
 * staircase to have one minimum: whole replicas make it jagged, so there
 * the answer is the cheapest's within about one replica of the last pool.
 * plan_pools_search_pruned also ends the walk once the next n_{k-2} cannot
 * be cheaper than the best found. It knows nothing of scenarios: the probe
 * does the simulating. */
#ifndef DRIVER_PLAN_PLAN_POOLS_H
#define DRIVER_PLAN_PLAN_POOLS_H

#include <stdbool.h>

#define PLAN_POOLS_MAX 4

typedef struct {
  int k;                     /* 1 .. PLAN_POOLS_MAX */
  int lo[PLAN_POOLS_MAX];    /* smallest size of each pool (>= 0) */
  int hi[PLAN_POOLS_MAX];    /* largest (>= lo) */
} plan_pools_space;

/* Simulate (or recall) the configuration of sizes v[0..k-1]: 0 with
 * *feasible and *cost set, or a non-zero status that ends the search (an
 * error, an interruption) and is returned by plan_pools_search. */
typedef int (*plan_pools_probe)(void *arg, const int *v, bool *feasible, double *cost);

typedef struct {
  bool found;                /* some probed vector is feasible */
  int v[PLAN_POOLS_MAX];     /* the cheapest of them (ties: the first probed) */
  double cost;
  int probes;                /* calls to the probe */
} plan_pools_result;

/* Search sp with probe(arg, ...) into out: 0, or the probe's first non-zero
 * status. */
int plan_pools_search(const plan_pools_space *sp, plan_pools_probe probe, void *arg, plan_pools_result *out);
/* As plan_pools_search, but (k >= 2) the staircase's walk also ends at the
 * first n_{k-2} whose vector with the last size at its lowest was probed
 * and costs no less than the cheapest feasible so far: as cost never falls
 * when a size grows, nothing further along is cheaper. Fewer probes when
 * the last size never reaches its lowest; the same answer when costs
 * behave as assumed. */
int plan_pools_search_pruned(const plan_pools_space *sp, plan_pools_probe probe, void *arg, plan_pools_result *out);

#endif
