/* tests/unit/test_router.c: the routing policies (models/serving/router).
 * Known answers: round robin cycles; least-outstanding and least-kv pick
 * the minimum, and equal loads take turns; power-of-two draws two distinct
 * replicas; balls into bins (m = 1000 requests that never leave, n = 100
 * replicas) against theory: the maximum load with two choices is m/n +
 * ln ln n / ln 2 + O(1), about 12 (Berenbrink, Czumaj, Steger & Vocking
 * 2000), with one uniform choice about m/n + sqrt(2 (m/n) ln n), about 19
 * (Raab & Steger 1998); same seed, same picks. */
#include <fcntl.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <signal.h>
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
                                      "random", NULL};
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


static route_replica one_rep[1];
static void p2_without_rng(void) { route_router r; route_init(&r, &route_power_of_two); route_pick(&r, one_rep, 1, NULL); }
static void no_replicas(void) { route_router r; route_init(&r, &route_round_robin); route_pick(&r, one_rep, 0, NULL); }
static void rr_without_rng(void) { route_router r; route_init(&r, &route_round_robin); route_pick(&r, one_rep, 1, NULL); }

static void test_misuse_aborts(void)
{
  CU_ASSERT(cs_aborts(p2_without_rng));
  CU_ASSERT(cs_aborts(no_replicas));
  CU_ASSERT(!cs_aborts(rr_without_rng));
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
    {"misuse aborts", test_misuse_aborts},
    {NULL, NULL},
  };
  return cs_run_suite("router", tests);
}
