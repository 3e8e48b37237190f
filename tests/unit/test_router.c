/* tests/unit/test_router.c: the routing policies (models/serving/router).
 * Known answers: round robin cycles; least-outstanding and least-kv pick
 * the minimum, and equal loads take turns; power-of-two draws two distinct
 * replicas; balls into bins (m = 1000 requests that never leave, n = 100
 * replicas) against theory: the maximum load with two choices is m/n +
 * ln ln n / ln 2 + O(1), about 12 (Berenbrink, Czumaj, Steger & Vocking
 * 2000), with one uniform choice about m/n + sqrt(2 (m/n) ln n), about 19
 * (Raab & Steger 1998); same seed, same picks. The index (route_index, a
 * tournament tree) against the scan it replaces: the same pick at every
 * step of long random sequences of loads with many ties, for n = 1, 2,
 * odd, powers of two and large, as the serving simulation drives it
 * (every policy: those without an index must be unchanged by one). */
#include <fcntl.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "models/serving/router.h"
#include "sim/rng.h"
#include "testutil.h"

static void test_type_table(void)
{
  static const char *const names[] = {"round-robin", "least-outstanding", "least-kv", "power-of-two",
                                      "random", "prefix-affinity", NULL};
  int n = 0;
  for (int i = 0; names[i]; i++) {
    const route_type *t = route_type_find(names[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(t->name, names[i]);
    CU_ASSERT_PTR_NOT_NULL(t->pick);
    n++;
  }
  int listed = 0;
  while (route_types[listed]) listed++;
  CU_ASSERT_EQUAL(listed, n);
  CU_ASSERT_PTR_EQUAL(route_type_find("power-of-two"), &route_power_of_two);
  /* on its own prefix-affinity balances as least-outstanding does */
  CU_ASSERT(route_prefix_affinity.affinity && !route_least_outstanding.affinity);
  CU_ASSERT(route_prefix_affinity.pick == route_least_outstanding.pick &&
            route_prefix_affinity.less == route_least_outstanding.less);
  CU_ASSERT_PTR_NULL(route_type_find("round_robin"));
  CU_ASSERT_PTR_NULL(route_type_find(""));
  CU_ASSERT_FALSE(route_round_robin.uses_rng);
  CU_ASSERT_FALSE(route_least_outstanding.uses_rng);
  CU_ASSERT_FALSE(route_least_kv.uses_rng);
  CU_ASSERT_TRUE(route_power_of_two.uses_rng);
  CU_ASSERT_TRUE(route_random.uses_rng);
}

static void test_round_robin(void)
{
  route_replica reps[5] = {{.outstanding = 9}, {0}, {.outstanding = 100}, {0}, {0}};
  route_router r;
  route_init(&r, &route_round_robin);
  /* loads are ignored: 0 1 2 3 4 0 1 ... */
  for (int k = 0; k < 23; k++) CU_ASSERT_EQUAL(route_pick(&r, reps, 5, NULL), k % 5);
  /* fewer replicas than the cursor: wraps */
  route_init(&r, &route_round_robin);
  for (int k = 0; k < 4; k++) route_pick(&r, reps, 5, NULL);
  CU_ASSERT_EQUAL(route_pick(&r, reps, 3, NULL), 1); /* cursor 4 mod 3 */
  CU_ASSERT_EQUAL(route_pick(&r, reps, 1, NULL), 0);
}

static void test_least_outstanding(void)
{
  route_replica reps[5] = {{.outstanding = 5}, {.outstanding = 3}, {.outstanding = 7},
                           {.outstanding = 3}, {.outstanding = 9}};
  route_router r;
  route_init(&r, &route_least_outstanding);
  /* from cursor 0 the first minimum is 1; then from cursor 2 it is 3;
   * then from cursor 4 (wrapping) it is 1 again */
  CU_ASSERT_EQUAL(route_pick(&r, reps, 5, NULL), 1);
  CU_ASSERT_EQUAL(route_pick(&r, reps, 5, NULL), 3);
  CU_ASSERT_EQUAL(route_pick(&r, reps, 5, NULL), 1);
  /* a unique minimum wins wherever the cursor is */
  reps[4].outstanding = 0;
  for (int k = 0; k < 7; k++) CU_ASSERT_EQUAL(route_pick(&r, reps, 5, NULL), 4);
  /* other fields do not matter */
  reps[4].kv_used = 1.0;
  reps[4].queue_len = 1000;
  CU_ASSERT_EQUAL(route_pick(&r, reps, 5, NULL), 4);

  /* equal loads take turns: exactly round robin */
  route_replica eq[4] = {{.outstanding = 2}, {.outstanding = 2}, {.outstanding = 2},
                         {.outstanding = 2}};
  route_init(&r, &route_least_outstanding);
  for (int k = 0; k < 10; k++) CU_ASSERT_EQUAL(route_pick(&r, eq, 4, NULL), k % 4);

  /* requests that never leave: loads stay within one of each other */
  route_replica bins[7] = {{0}};
  route_init(&r, &route_least_outstanding);
  for (int k = 0; k < 1000; k++) {
    bins[route_pick(&r, bins, 7, NULL)].outstanding++;
    int64_t lo = bins[0].outstanding, hi = lo;
    for (int i = 1; i < 7; i++) {
      if (bins[i].outstanding < lo) lo = bins[i].outstanding;
      if (bins[i].outstanding > hi) hi = bins[i].outstanding;
    }
    if (hi - lo > 1) {
      CU_FAIL("least-outstanding let loads differ by more than one");
      break;
    }
  }
}

static void test_least_kv(void)
{
  route_replica reps[4] = {{.kv_used = 0.5, .outstanding = 1}, {.kv_used = 0.2, .outstanding = 4},
                           {.kv_used = 0.2, .outstanding = 2}, {.kv_used = 0.9, .outstanding = 0}};
  route_router r;
  route_init(&r, &route_least_kv);
  /* least KV use, ties to fewer outstanding: replica 2 (not 3, idle but full) */
  CU_ASSERT_EQUAL(route_pick(&r, reps, 4, NULL), 2);
  CU_ASSERT_EQUAL(route_pick(&r, reps, 4, NULL), 2);
  reps[0].kv_used = 0.0;
  CU_ASSERT_EQUAL(route_pick(&r, reps, 4, NULL), 0);
  /* complete ties take turns */
  route_replica eq[3] = {{.kv_used = 0.3}, {.kv_used = 0.3}, {.kv_used = 0.3}};
  route_init(&r, &route_least_kv);
  for (int k = 0; k < 9; k++) CU_ASSERT_EQUAL(route_pick(&r, eq, 3, NULL), k % 3);
}

static void test_power_of_two_draws(void)
{
  route_router r;
  route_init(&r, &route_power_of_two);
  gsl_rng *a = sim_rng_alloc(11, "test.router.p2");
  gsl_rng *b = sim_rng_alloc(11, "test.router.p2");
  route_replica reps[2] = {{.outstanding = 1}, {.outstanding = 0}};
  /* one replica: no draw at all (the streams stay in step) */
  CU_ASSERT_EQUAL(route_pick(&r, reps, 1, a), 0);
  CU_ASSERT_EQUAL(gsl_rng_get(a), gsl_rng_get(b));
  /* two replicas: both are always drawn (distinct), so the less loaded
   * one always wins; exactly two draws a pick */
  for (int k = 0; k < 1000; k++) CU_ASSERT_EQUAL(route_pick(&r, reps, 2, a), 1);
  for (int k = 0; k < 2000; k++) gsl_rng_get(b);
  CU_ASSERT_EQUAL(gsl_rng_get(a), gsl_rng_get(b));
  /* with n = 3, a minimum-load replica is chosen unless both draws miss it:
   * replica 2 (load 0) wins with probability 1 - P(draws are {0, 1}) = 2/3 */
  route_replica three[3] = {{.outstanding = 5}, {.outstanding = 5}, {.outstanding = 0}};
  int wins = 0, n = 30000;
  for (int k = 0; k < n; k++) wins += route_pick(&r, three, 3, a) == 2;
  CU_ASSERT(fabs(wins / (double)n - 2.0 / 3) < 4 * sqrt(2.0 / 9 / n));
  gsl_rng_free(a);
  gsl_rng_free(b);
}

/* Route m requests that never leave over n replicas; the maximum load. */
static int64_t balls_into_bins(const route_type *t, int n, int m, gsl_rng *rng)
{
  route_replica reps[100] = {{0}};
  route_router r;
  route_init(&r, t);
  for (int k = 0; k < m; k++) reps[route_pick(&r, reps, n, rng)].outstanding++;
  int64_t max = 0, sum = 0;
  for (int i = 0; i < n; i++) {
    sum += reps[i].outstanding;
    if (reps[i].outstanding > max) max = reps[i].outstanding;
  }
  CU_ASSERT_EQUAL(sum, m);
  return max;
}

static void test_balls_into_bins(void)
{
  /* n = 100, m = 1000, mean load 10. Over 10,000 seeds (measured once):
   * two choices gave a maximum of 11-13, one uniform choice 15-30 (mode
   * 18). Theory: 10 + ln ln 100 / ln 2 = 12.2 against 10 + sqrt(20 ln 100)
   * = 19.6. Twenty seeds, each must hold. */
  const int n = 100, m = 1000, seeds = 20;
  double sum2 = 0, sumr = 0;
  for (int s = 0; s < seeds; s++) {
    gsl_rng *rng = sim_rng_alloc((uint64_t)s, "test.router.bins");
    int64_t max2 = balls_into_bins(&route_power_of_two, n, m, rng);
    int64_t maxr = balls_into_bins(&route_random, n, m, rng);
    CU_ASSERT(max2 <= m / n + 3);
    CU_ASSERT(maxr > m / n + 3);
    sum2 += (double)max2;
    sumr += (double)maxr;
    gsl_rng_free(rng);
  }
  CU_ASSERT_EQUAL(balls_into_bins(&route_least_outstanding, n, m, NULL), m / n);
  CU_ASSERT_EQUAL(balls_into_bins(&route_round_robin, n, m, NULL), m / n);
  printf("\n    mean max load over %d seeds: power-of-two %.2f (theory ~%.1f), random %.2f (~%.1f)  ",
         seeds, sum2 / seeds, 10 + log(log(100.0)) / log(2.0), sumr / seeds,
         10 + sqrt(2 * 10 * log(100.0)));
  CU_ASSERT(sum2 / seeds >= 11 && sum2 / seeds <= 13);
  CU_ASSERT(sumr / seeds >= 16 && sumr / seeds <= 22);
}

static void test_determinism(void)
{
  int picks[3][500];
  const char *streams[3] = {"test.router.det", "test.router.det", "test.router.other"};
  for (int v = 0; v < 3; v++) {
    gsl_rng *rng = sim_rng_alloc(2024, streams[v]);
    route_replica reps[16] = {{0}};
    route_router r;
    route_init(&r, &route_power_of_two);
    for (int k = 0; k < 500; k++) {
      int i = route_pick(&r, reps, 16, rng);
      picks[v][k] = i;
      reps[i].outstanding++;
      if (k % 3 == 2) reps[picks[v][k - 2]].outstanding--; /* some finish */
    }
    gsl_rng_free(rng);
  }
  CU_ASSERT_EQUAL(memcmp(picks[0], picks[1], sizeof picks[0]), 0);
  CU_ASSERT_NOT_EQUAL(memcmp(picks[0], picks[2], sizeof picks[0]), 0);
}

/* ---- the index against the scan ---- */

/* One random change of reps[i]'s load, in a small range so that ties are
 * common: outstanding in 0..5, kv_used in {0, 1/4, ..., 1} (exact binary
 * fractions, as used/capacity often is), or both. */
static void random_change(route_replica *v, gsl_rng *rng)
{
  switch (gsl_rng_uniform_int(rng, 3)) {
  case 0: v->outstanding = (int64_t)gsl_rng_uniform_int(rng, 6); break;
  case 1: v->kv_used = (double)gsl_rng_uniform_int(rng, 5) / 4; break;
  default:
    v->outstanding = (int64_t)gsl_rng_uniform_int(rng, 6);
    v->kv_used = (double)gsl_rng_uniform_int(rng, 5) / 4;
  }
}

/* Drive an indexed router and a scanning one through `steps` rounds over n
 * replicas: each round picks (the picked replica gains a request, as a
 * routed request does), then changes some loads at random (one, or
 * several before their updates, or a request leaving the picked one).
 * Returns the number of rounds where the picks differed. */
static int index_vs_scan(const route_type *t, int n, int steps, uint64_t seed)
{
  gsl_rng *rng = sim_rng_alloc(seed, "test.router.index");
  /* the random policies draw from twin streams: the same draws */
  gsl_rng *ra = sim_rng_alloc(seed, "test.router.index.picks");
  gsl_rng *rb = sim_rng_alloc(seed, "test.router.index.picks");
  route_replica *a = calloc((size_t)n, sizeof *a), *b = calloc((size_t)n, sizeof *b);
  for (int i = 0; i < n; i++) {
    random_change(&a[i], rng);
    b[i] = a[i];
  }
  route_router x, y;
  route_init(&x, t);
  route_init(&y, t);
  route_index(&x, a, n);
  int bad = 0;
  for (int k = 0; k < steps; k++) {
    int i = route_pick(&x, a, n, ra), j = route_pick(&y, b, n, rb);
    bad += i != j;
    a[i].outstanding++;
    route_update(&x, i);
    b[j].outstanding++;
    int changes = (int)gsl_rng_uniform_int(rng, 4);
    int which[3];
    for (int c = 0; c < changes; c++) {
      which[c] = (int)gsl_rng_uniform_int(rng, (unsigned long)n);
      random_change(&a[which[c]], rng);
      b[which[c]] = a[which[c]];
      if (changes < 3) route_update(&x, which[c]);
    }
    if (changes == 3)
      for (int c = 0; c < 3; c++) route_update(&x, which[c]);
    if (a[i].outstanding > 0 && gsl_rng_uniform(rng) < 0.5) {
      a[i].outstanding--;
      b[i].outstanding--;
      route_update(&x, i);
    }
  }
  route_release(&x);
  route_release(&x); /* twice is harmless */
  free(a);
  free(b);
  gsl_rng_free(rng);
  gsl_rng_free(ra);
  gsl_rng_free(rb);
  return bad;
}

static void test_index_matches_scan(void)
{
  static const int sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 31, 33, 100, 1000, 1025, 8192};
  /* every policy: the ordering ones through their index, the others
   * (which get none) unchanged by route_index and route_update */
  for (size_t t = 0; route_types[t]; t++)
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
      int n = sizes[s];
      int steps = n >= 1000 ? 20000 : 50000;
      int bad = index_vs_scan(route_types[t], n, steps, 100 + s);
      if (bad) printf("\n    %s, n = %d: %d of %d picks differ  ", route_types[t]->name, n, bad, steps);
      CU_ASSERT_EQUAL(bad, 0);
    }
}

static void test_index_known_answers(void)
{
  /* the scan's answers of test_least_outstanding, through the index */
  route_replica reps[5] = {{.outstanding = 5}, {.outstanding = 3}, {.outstanding = 7},
                           {.outstanding = 3}, {.outstanding = 9}};
  route_router r;
  route_init(&r, &route_least_outstanding);
  route_index(&r, reps, 5);
  CU_ASSERT_EQUAL(r.leaves, 8);
  CU_ASSERT_EQUAL(r.win[1], 1); /* the root: the first minimum overall */
  CU_ASSERT_EQUAL(route_pick(&r, reps, 5, NULL), 1);
  CU_ASSERT_EQUAL(route_pick(&r, reps, 5, NULL), 3); /* cursor 2: the minimum after it */
  CU_ASSERT_EQUAL(route_pick(&r, reps, 5, NULL), 1); /* cursor 4: none after it, wraps */
  reps[4].outstanding = 0;
  route_update(&r, 4);
  CU_ASSERT_EQUAL(r.win[1], 4);
  for (int k = 0; k < 7; k++) CU_ASSERT_EQUAL(route_pick(&r, reps, 5, NULL), 4);
  /* least-outstanding reads no KV: a change of kv_used needs no update */
  CU_ASSERT_FALSE(route_least_outstanding.uses_kv);
  reps[4].kv_used = 1.0;
  CU_ASSERT_EQUAL(route_pick(&r, reps, 5, NULL), 4);
  route_release(&r);

  /* equal loads: round robin through the index too */
  route_replica eq[6] = {{.outstanding = 2}, {.outstanding = 2}, {.outstanding = 2},
                         {.outstanding = 2}, {.outstanding = 2}, {.outstanding = 2}};
  route_init(&r, &route_least_outstanding);
  route_index(&r, eq, 6);
  for (int k = 0; k < 13; k++) CU_ASSERT_EQUAL(route_pick(&r, eq, 6, NULL), k % 6);
  route_release(&r);

  /* least-kv: KV first, then outstanding (test_least_kv's answers) */
  route_replica kv[4] = {{.kv_used = 0.5, .outstanding = 1}, {.kv_used = 0.2, .outstanding = 4},
                         {.kv_used = 0.2, .outstanding = 2}, {.kv_used = 0.9, .outstanding = 0}};
  route_init(&r, &route_least_kv);
  route_index(&r, kv, 4);
  CU_ASSERT_EQUAL(route_pick(&r, kv, 4, NULL), 2);
  CU_ASSERT_EQUAL(route_pick(&r, kv, 4, NULL), 2);
  kv[0].kv_used = 0.0;
  route_update(&r, 0);
  CU_ASSERT_EQUAL(route_pick(&r, kv, 4, NULL), 0);
  route_release(&r);

  /* one replica: the root is the leaf */
  route_replica one[1] = {{.outstanding = 3}};
  route_init(&r, &route_least_kv);
  route_index(&r, one, 1);
  CU_ASSERT_EQUAL(r.leaves, 1);
  for (int k = 0; k < 3; k++) CU_ASSERT_EQUAL(route_pick(&r, one, 1, NULL), 0);
  route_release(&r);

  /* the other policies need no index and get none */
  route_init(&r, &route_power_of_two);
  route_index(&r, reps, 5);
  CU_ASSERT_PTR_NULL(r.win);
  route_update(&r, 3);
  route_release(&r);
}

static route_replica one_rep[1];
static void p2_without_rng(void) { route_router r; route_init(&r, &route_power_of_two); route_pick(&r, one_rep, 1, NULL); }
static void no_replicas(void) { route_router r; route_init(&r, &route_round_robin); route_pick(&r, one_rep, 0, NULL); }
static void rr_without_rng(void) { route_router r; route_init(&r, &route_round_robin); route_pick(&r, one_rep, 1, NULL); }
static route_replica two_reps[2];
/* an index answers only for the array and size it was built over */
static void index_other_array(void)
{
  route_router r;
  route_init(&r, &route_least_outstanding);
  route_index(&r, two_reps, 2);
  route_pick(&r, two_reps, 1, NULL);
}
static void index_update_out_of_range(void)
{
  route_router r;
  route_init(&r, &route_least_kv);
  route_index(&r, two_reps, 2);
  route_update(&r, 2);
}

/* Replicas marked down (starting, draining or off in an elastic pool):
 * no policy picks one while any is up, the indexed pick equals the scan
 * with downs, picks over the replicas up equal the same policy over an
 * array of just those (same draws), and with all down the pick is one
 * that is down (the caller holds the request). */
static void test_down_replicas(void)
{
  enum { N = 9 };
  for (size_t t = 0; route_types[t]; t++) {
    const route_type *ty = route_types[t];
    gsl_rng *g = sim_rng_alloc(7, "router.down"), *g2 = sim_rng_alloc(7, "router.down");
    gsl_rng *loads = sim_rng_alloc(8, "router.down.loads");
    route_replica reps[N] = {{0}}, idx[N] = {{0}};
    route_router scan, tree;
    route_init(&scan, ty);
    route_init(&tree, ty);
    route_index(&tree, idx, N);
    int bad_down = 0, bad_tree = 0;
    for (int step = 0; step < 20000; step++) {
      int k = (int)gsl_rng_uniform_int(loads, N);
      bool down = gsl_rng_uniform(loads) < 0.4;
      route_set_down(&scan, reps, k, down);
      route_set_down(&tree, idx, k, down);
      int j = (int)gsl_rng_uniform_int(loads, N);
      reps[j].outstanding = idx[j].outstanding = (int64_t)gsl_rng_uniform_int(loads, 4);
      reps[j].kv_used = idx[j].kv_used = (double)gsl_rng_uniform_int(loads, 3) / 4;
      route_update(&tree, j);
      if (route_up(&scan, N) == 0) continue;
      int a = route_pick(&scan, reps, N, g), b = route_pick(&tree, idx, N, g2);
      if (reps[a].down) bad_down++;
      if (a != b) bad_tree++;
    }
    if (bad_down || bad_tree)
      printf("\n    %s: %d picks of a replica down, %d index/scan differences  ", ty->name, bad_down, bad_tree);
    CU_ASSERT_EQUAL(bad_down, 0);
    CU_ASSERT_EQUAL(bad_tree, 0);
    /* all down: a replica (down) is still returned, not an error */
    for (int k = 0; k < N; k++) route_set_down(&scan, reps, k, true);
    CU_ASSERT_EQUAL(route_up(&scan, N), 0);
    int a = route_pick(&scan, reps, N, g);
    CU_ASSERT(a >= 0 && a < N);
    route_release(&tree);
    gsl_rng_free(g);
    gsl_rng_free(g2);
    gsl_rng_free(loads);
  }

  /* over replicas 1, 3, 4 of 5 up: random and power-of-two pick what
   * they pick over an array of those three, draw for draw */
  const route_type *rnd[] = {&route_random, &route_power_of_two};
  for (int t = 0; t < 2; t++) {
    route_replica five[5] = {{.outstanding = 9}, {.outstanding = 2}, {.outstanding = 9}, {.outstanding = 1},
                             {.outstanding = 3}};
    route_replica three[3] = {{.outstanding = 2}, {.outstanding = 1}, {.outstanding = 3}};
    static const int map[3] = {1, 3, 4};
    route_router r5, r3;
    route_init(&r5, rnd[t]);
    route_init(&r3, rnd[t]);
    route_set_down(&r5, five, 0, true);
    route_set_down(&r5, five, 2, true);
    gsl_rng *g5 = sim_rng_alloc(11, "router.sub"), *g3 = sim_rng_alloc(11, "router.sub");
    int bad = 0;
    for (int k = 0; k < 1000; k++)
      if (route_pick(&r5, five, 5, g5) != map[route_pick(&r3, three, 3, g3)]) bad++;
    CU_ASSERT_EQUAL(bad, 0);
    gsl_rng_free(g5);
    gsl_rng_free(g3);
  }
}

static void test_misuse_aborts(void)
{
  CU_ASSERT(cs_aborts(p2_without_rng));
  CU_ASSERT(cs_aborts(no_replicas));
  CU_ASSERT(!cs_aborts(rr_without_rng));
  CU_ASSERT(cs_aborts(index_other_array));
  CU_ASSERT(cs_aborts(index_update_out_of_range));
}

int main(void)
{
  static const cs_test tests[] = {
    {"type table", test_type_table},
    {"round robin cycles", test_round_robin},
    {"least-outstanding: minimum, ties take turns", test_least_outstanding},
    {"least-kv: minimum, ties to fewer outstanding", test_least_kv},
    {"power-of-two: two distinct draws", test_power_of_two_draws},
    {"balls into bins: power-of-two vs random vs theory", test_balls_into_bins},
    {"same seed, same picks", test_determinism},
    {"index: known answers", test_index_known_answers},
    {"index picks what the scan picks (every policy, random loads, ties, n = 1 .. 8192)", test_index_matches_scan},
    {"replicas down are never picked", test_down_replicas},
    {"misuse aborts", test_misuse_aborts},
    {NULL, NULL},
  };
  return cs_run_suite("router", tests);
}
