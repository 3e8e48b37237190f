/* models/serving/router.h: how a request picks one of n replicas. Policies
 * are a GSL-style type table (name + function) so that a scenario names
 * them: "round-robin", "least-outstanding", "least-kv", "power-of-two",
 * "random" (uniform, the baseline power-of-two is measured against) and
 * "prefix-affinity" (least-outstanding, where the caller adds affinity).
 * The router reads a route_replica array the caller keeps up to date and
 * owns a cursor; it knows nothing of time. Picks are O(1) for round
 * robin and the random policies. The ordering policies (least-outstanding,
 * least-kv) scan all n replicas per pick, unless the caller asks for an
 * index (route_index): a tournament tree over the replicas, O(log n) per
 * pick and per update, that picks exactly what the scan picks, ties
 * included. The index is the router's only allocation.
 *
 * Ties: the deterministic policies scan the replicas starting at the
 * cursor and keep the first strict minimum, and the cursor then moves just
 * past the replica picked. Equal loads are therefore served in turn (with
 * all loads equal, least-outstanding is round robin) instead of piling on
 * replica 0, and the choice depends only on the call sequence.
 *
 * Random policies draw only from the gsl_rng the caller passes (its own
 * stream, sim_rng_alloc), so runs are reproducible from the seed. */
#ifndef ROUTER_H
#define ROUTER_H

#include <gsl/gsl_rng.h>
#include <stdbool.h>
#include <stdint.h>

/* What the router sees of one replica. */
typedef struct {
  int64_t outstanding;  /* requests routed to it and not finished (queued + running) */
  int64_t queue_len;    /* of which waiting, not yet running */
  double kv_used;       /* fraction of its KV-cache blocks in use, [0, 1] */
  bool down;            /* not taking requests (starting, draining, stopped): set with route_set_down */
} route_replica;

typedef struct route_router route_router;

typedef struct {
  const char *name;
  /* The index in [0, n) of the replica to send the next request to. */
  int (*pick)(route_router *r, const route_replica *reps, int n, gsl_rng *rng);
  bool uses_rng;        /* needs a non-NULL rng */
  /* Ordering policies: whether a is strictly less loaded than b (a strict
   * weak order; the pick is its first minimum from the cursor). NULL for
   * the others. */
  bool (*less)(const route_replica *a, const route_replica *b);
  bool uses_outstanding, uses_kv;  /* the fields of route_replica it reads */
  bool affinity;        /* the caller may send a request to a replica that holds its prefix instead */
} route_type;

struct route_router {
  const route_type *type;
  uint64_t cursor;      /* next replica to start from (taken mod n) */
  /* the index (route_index): a tournament tree over reps[0..n-1] with
   * `leaves` (a power of two >= n) leaves; node 1 is the root, node k has
   * children 2k and 2k + 1, leaf i is node leaves + i; each node holds the
   * first (lowest) index among the least loaded replicas below it, -1
   * below padding leaves only. NULL: no index. */
  const route_replica *reps;
  int n, leaves;
  int32_t *win;
  int ndown;            /* replicas marked down (route_set_down) */
};

extern const route_type route_round_robin;        /* "round-robin": 0, 1, ..., n-1, 0, ... */
/* "least-outstanding": fewest outstanding requests. */
extern const route_type route_least_outstanding;
/* "least-kv": least KV use; equal KV use goes to fewer outstanding. */
extern const route_type route_least_kv;
/* "power-of-two": two distinct replicas drawn uniformly (gsl_rng_uniform_int,
 * exactly two draws when n >= 2, none when n == 1), the one with fewer
 * outstanding requests, the first drawn on a tie (Mitzenmacher 2001). */
extern const route_type route_power_of_two;
/* "random": one replica drawn uniformly (one draw when n >= 2). */
extern const route_type route_random;
/* "prefix-affinity": least-outstanding, with `affinity` set: the caller
 * (the serving simulation) sends a request to the replica that holds its
 * prefix instead while that one is not overloaded, as SGLang's cache-aware
 * router does. */
extern const route_type route_prefix_affinity;

/* Every policy, NULL-terminated (for lookups and "expected one of" lists). */
extern const route_type *const route_types[];

/* The policy called `name`, or NULL. */
const route_type *route_type_find(const char *name);

/* Set up r with policy t, cursor 0, no index (nothing to release unless
 * route_index is called). */
void route_init(route_router *r, const route_type *t);

/* Index reps[0..n-1] (n >= 1; the array stays the caller's and must
 * outlive the index) for an ordering policy: afterwards the caller calls
 * route_update(r, i) after each change of reps[i] that the type reads, and
 * route_pick with the same reps and n costs O(log n). For the other
 * policies it allocates nothing. Free with route_release. */
void route_index(route_router *r, const route_replica *reps, int n);
/* reps[i] changed: O(log n) with an index, nothing without one. */
void route_update(route_router *r, int i);
/* Free the index, if any; r can be indexed again. */
void route_release(route_router *r);

/* Mark reps[i] down (it takes no request) or up again. Every policy picks
 * among the replicas that are up, the same way as over all of them when
 * none is down (the random ones draw as often: the k-th replica up for a
 * draw of k); with all down, route_pick returns one that is down (the
 * caller holds the request). With an index, O(log n); else O(1). The
 * picks of round robin and the random policies cost O(n) while any
 * replica is down. */
void route_set_down(route_router *r, route_replica *reps, int i, bool down);
/* The same for a second router over the same replicas (an array whose
 * down flags route_set_down already set, or a part of it): counts and
 * index only. */
void route_mark_down(route_router *r, int i, bool down);
/* Replicas up among n. */
int route_up(const route_router *r, int n);

/* The replica for the next request among reps[0..n-1], n >= 1; rng may be
 * NULL unless the type uses_rng. The caller updates reps afterwards (and,
 * with an index, calls route_update). */
int route_pick(route_router *r, const route_replica *reps, int n, gsl_rng *rng);

#endif
