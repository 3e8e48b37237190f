/* tests/unit/test_rng.c: named random streams: reproducible from (seed,
 * name), distinct across names and seeds, uncorrelated, and pinned to
 * golden values so that a change of derivation is deliberate. */
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>

#include "sim/rng.h"
#include "testutil.h"

static void test_same_name_same_stream(void)
{
  gsl_rng *a = sim_rng_alloc(42, "queue.arrivals"), *b = sim_rng_alloc(42, "queue.arrivals");
  int same = 1;
  for (int i = 0; i < 10000; i++)
    if (gsl_rng_get(a) != gsl_rng_get(b)) same = 0;
  CU_ASSERT_TRUE(same);
  gsl_rng_free(a);
  gsl_rng_free(b);
}

static int first_differs(uint64_t s1, const char *n1, uint64_t s2, const char *n2)
{
  gsl_rng *a = sim_rng_alloc(s1, n1), *b = sim_rng_alloc(s2, n2);
  int equal = 0;
  for (int i = 0; i < 100; i++) equal += gsl_rng_get(a) == gsl_rng_get(b);
  gsl_rng_free(a);
  gsl_rng_free(b);
  return equal < 3;
}

static void test_distinct(void)
{
  CU_ASSERT_TRUE(first_differs(1, "queue.arrivals", 1, "queue.service"));
  CU_ASSERT_TRUE(first_differs(1, "queue.arrivals", 2, "queue.arrivals"));
  CU_ASSERT_TRUE(first_differs(0, "a", 0, "b"));
  /* nearby master seeds give unrelated stream seeds (avalanche) */
  for (uint64_t s = 0; s < 64; s++) {
    uint64_t x = sim_rng_stream_seed(s, "w") ^ sim_rng_stream_seed(s + 1, "w");
    int bits = __builtin_popcountll(x);
    CU_ASSERT_TRUE(bits >= 12 && bits <= 52);
  }
}

/* Draws of two streams are uncorrelated: |r| < 4.5 / sqrt(n). */
static void test_uncorrelated(void)
{
  enum { N = 200000 };
  double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
  gsl_rng *a = sim_rng_alloc(7, "pool0.arrivals"), *b = sim_rng_alloc(7, "pool1.arrivals");
  for (int i = 0; i < N; i++) {
    x[i] = gsl_rng_uniform(a);
    y[i] = gsl_rng_uniform(b);
  }
  double r = gsl_stats_correlation(x, 1, y, 1, N);
  CU_ASSERT_TRUE(fabs(r) < 4.5 / sqrt(N));
  CS_ASSERT_REL(gsl_stats_mean(x, 1, N), 0.5, 0.01);
  gsl_rng_free(a);
  gsl_rng_free(b);
  free(x);
  free(y);
}

/* Golden values: a change here changes every simulation's output. */
static void test_golden(void)
{
  CU_ASSERT_EQUAL(sim_rng_stream_seed(1, "queue.arrivals"), UINT64_C(1407280565195719576));
  gsl_rng *r = sim_rng_alloc(1, "queue.arrivals");
  CU_ASSERT_STRING_EQUAL(gsl_rng_name(r), "taus2");
  CU_ASSERT_EQUAL(gsl_rng_get(r), 448093901UL);
  CU_ASSERT_EQUAL(gsl_rng_get(r), 3935796959UL);
  gsl_rng_free(r);
}

int main(void)
{
  static const cs_test tests[] = {
    {"same seed and name, same stream", test_same_name_same_stream},
    {"other name or seed, other stream", test_distinct},
    {"streams are uncorrelated", test_uncorrelated},
    {"golden seed and draws", test_golden},
    {NULL, NULL},
  };
  return cs_run_suite("rng", tests);
}
