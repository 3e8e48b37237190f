/* tests/unit/test_stats.c: the statistics module (sim/stats.h): Welford's
 * mean and variance against GSL, exact and histogram quantiles against the
 * sorted samples, batch-means coverage on iid and autocorrelated series,
 * and time averages worked by hand. Random data come from fixed-seed GSL
 * generators, so every run sees the same numbers. */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/stats.h"
#include "sim/util.h"
#include "testutil.h"

static gsl_rng *rng_seeded(unsigned long seed)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, seed);
  return r;
}

/* ---- tally ---- */

static void test_tally_hand(void)
{
  /* 2 4 4 4 5 5 7 9: sum 40, mean 5; squared deviations 9+1+1+1+0+0+4+16
   * = 32, sample variance 32/7. */
  static const double xs[] = {2, 4, 4, 4, 5, 5, 7, 9};
  sim_tally t;
  sim_tally_init(&t, SIM_QUANTILE_EXACT_DEFAULT);
  CU_ASSERT(isnan(sim_tally_mean(&t)));
  CU_ASSERT(isnan(sim_tally_variance(&t)));
  CU_ASSERT(isnan(sim_tally_min(&t)));
  CU_ASSERT(isnan(sim_tally_max(&t)));
  CU_ASSERT(isnan(sim_tally_quantile(&t, 0.5)));
  CU_ASSERT(isnan(sim_tally_ci(&t, 0.95)));
  sim_tally_add(&t, xs[0]);
  CU_ASSERT_EQUAL(sim_tally_mean(&t), 2.0);
  CU_ASSERT(isnan(sim_tally_variance(&t)));
  for (size_t i = 1; i < sizeof xs / sizeof xs[0]; i++) sim_tally_add(&t, xs[i]);
  CU_ASSERT_EQUAL(sim_tally_count(&t), 8);
  CS_ASSERT_REL(sim_tally_mean(&t), 5.0, 1e-15);
  CS_ASSERT_REL(sim_tally_variance(&t), 32.0 / 7.0, 1e-15);
  CU_ASSERT_EQUAL(sim_tally_min(&t), 2.0);
  CU_ASSERT_EQUAL(sim_tally_max(&t), 9.0);
  /* Sorted: 2 4 4 4 5 5 7 9; GSL's median interpolates halfway between the
   * 4th and 5th values, (4 + 5) / 2. */
  CU_ASSERT_EQUAL(sim_tally_quantile(&t, 0.5), 4.5);
  CU_ASSERT(isnan(sim_tally_ci(&t, 0.95)));  /* 8 < SIM_BATCHMEANS_MIN batches */
  sim_tally_release(&t);
}

static void test_tally_large_offset(void)
{
  /* 1e9 + U(0,1): the variance (1/12) is 1e-19 of the mean's square, which
   * the textbook sum-of-squares formula cannot resolve; Welford can. */
  enum { N = 100000 };
  double *x = xmalloc(N * sizeof *x);
  gsl_rng *r = rng_seeded(7);
  sim_tally t;
  sim_tally_init(&t, 0);
  double sum = 0, sumsq = 0;
  for (size_t i = 0; i < N; i++) {
    x[i] = 1e9 + gsl_rng_uniform(r);
    sim_tally_add(&t, x[i]);
    sum += x[i];
    sumsq += x[i] * x[i];
  }
  double mean = gsl_stats_mean(x, 1, N);
  double var = gsl_stats_variance(x, 1, N);
  CS_ASSERT_REL(var, 1.0 / 12.0, 0.02);
  /* Welford's running mean rounds at each step (ulp(1e9) = 1.2e-7), so it
   * drifts by ~1e-5 absolute over 1e5 steps; the variance stays within
   * ~2e-9 relative of GSL's two-pass value (measured). */
  CS_ASSERT_REL(sim_tally_mean(&t), mean, 1e-13);
  CS_ASSERT_REL(sim_tally_variance(&t), var, 1e-7);
  /* The data are hard: the naive formula is off by far more than 1e-6. */
  double naive = (sumsq - sum * sum / N) / (N - 1);
  CU_ASSERT(!cs_rel_close(naive, var, 0.1));
  double lo, hi;
  gsl_stats_minmax(&lo, &hi, x, 1, N);
  CU_ASSERT_EQUAL(sim_tally_min(&t), lo);
  CU_ASSERT_EQUAL(sim_tally_max(&t), hi);
  gsl_rng_free(r);
  sim_tally_release(&t);
  free(x);
}

static void test_tally_reset(void)
{
  sim_tally t;
  sim_tally_init(&t, 10);
  for (int i = 0; i < 1000; i++) sim_tally_add(&t, 1000.0 + i);  /* warm-up */
  CU_ASSERT(!sim_quantiles_exact(&t.q));
  sim_tally_reset(&t);
  CU_ASSERT_EQUAL(sim_tally_count(&t), 0);
  CU_ASSERT(isnan(sim_tally_mean(&t)));
  CU_ASSERT(isnan(sim_tally_quantile(&t, 0.5)));
  CU_ASSERT_EQUAL(sim_batchmeans_batches(&t.bm), 0);
  CU_ASSERT(sim_quantiles_exact(&t.q));  /* exact buffer back after reset */
  /* 1 2 3: mean 2, variance ((1)^2 + 0 + 1^2) / 2 = 1. */
  sim_tally_add(&t, 1);
  sim_tally_add(&t, 2);
  sim_tally_add(&t, 3);
  CU_ASSERT_EQUAL(sim_tally_count(&t), 3);
  CS_ASSERT_REL(sim_tally_mean(&t), 2.0, 1e-15);
  CS_ASSERT_REL(sim_tally_variance(&t), 1.0, 1e-15);
  CU_ASSERT_EQUAL(sim_tally_min(&t), 1.0);
  CU_ASSERT_EQUAL(sim_tally_max(&t), 3.0);
  CU_ASSERT_EQUAL(sim_tally_quantile(&t, 1.0), 3.0);
  CU_ASSERT_EQUAL(sim_tally_quantile(&t, 0.5), 2.0);
  sim_tally_release(&t);
}

/* ---- quantiles ---- */

/* Nearest-rank p-quantile of sorted[0..n): rank ceil(p*n), at least 1. */
static double nearest_rank_value(const double *sorted, size_t n, double p)
{
  size_t rank = (size_t)ceil(p * (double)n);
  if (rank < 1) rank = 1;
  return sorted[rank - 1];
}

static void test_quantiles_exact_matches_gsl(void)
{
  enum { N = 1001, MORE = 500 };
  static const double ps[] = {0, 0.01, 0.1, 0.25, 0.37, 0.5, 0.9, 0.99, 1};
  double *x = xmalloc((N + MORE) * sizeof *x);
  double *copy = xmalloc((N + MORE) * sizeof *copy);
  gsl_rng *r = rng_seeded(11);
  sim_quantiles q;
  sim_quantiles_init(&q, SIM_QUANTILE_EXACT_DEFAULT);
  CU_ASSERT(isnan(sim_quantiles_get(&q, 0.5)));
  for (size_t i = 0; i < N; i++) sim_quantiles_add(&q, x[i] = gsl_ran_exponential(r, 3.0));
  CU_ASSERT(sim_quantiles_exact(&q));
  memcpy(copy, x, N * sizeof *x);
  gsl_sort(copy, 1, N);
  for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++)
    CU_ASSERT_EQUAL(sim_quantiles_get(&q, ps[k]),
                    gsl_stats_quantile_from_sorted_data(copy, 1, N, ps[k]));
  CU_ASSERT_EQUAL(sim_quantiles_get(&q, 0), copy[0]);
  CU_ASSERT_EQUAL(sim_quantiles_get(&q, 1), copy[N - 1]);
  /* Adding after a query must re-sort before the next answer. */
  for (size_t i = N; i < N + MORE; i++) sim_quantiles_add(&q, x[i] = gsl_ran_exponential(r, 0.5));
  memcpy(copy, x, (N + MORE) * sizeof *x);
  gsl_sort(copy, 1, N + MORE);
  for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++)
    CU_ASSERT_EQUAL(sim_quantiles_get(&q, ps[k]),
                    gsl_stats_quantile_from_sorted_data(copy, 1, N + MORE, ps[k]));
  gsl_rng_free(r);
  sim_quantiles_release(&q);
  free(x);
  free(copy);
}

static void test_quantiles_exact_boundary(void)
{
  sim_quantiles q;
  sim_quantiles_init(&q, 100);
  for (int i = 1; i <= 100; i++) sim_quantiles_add(&q, i);
  CU_ASSERT(sim_quantiles_exact(&q));
  /* 1..100: GSL's median interpolates between 50 and 51. */
  CU_ASSERT_EQUAL(sim_quantiles_get(&q, 0.5), 50.5);
  sim_quantiles_add(&q, 101);
  CU_ASSERT(!sim_quantiles_exact(&q));
  CU_ASSERT_PTR_NULL(q.exact);  /* memory no longer grows with n */
  /* Nearest rank: ceil(0.5 * 101) = 51, the sample 51. */
  CS_ASSERT_REL(sim_quantiles_get(&q, 0.5), 51.0, SIM_QUANTILE_REL_ERR);
  CU_ASSERT_EQUAL(sim_quantiles_get(&q, 1), 101.0);
  sim_quantiles_reset(&q);
  CU_ASSERT_EQUAL(q.n, 0);
  CU_ASSERT_PTR_NOT_NULL(q.exact);
  CU_ASSERT(sim_quantiles_exact(&q));
  CU_ASSERT(isnan(sim_quantiles_get(&q, 0.5)));
  sim_quantiles_add(&q, 7);
  CU_ASSERT_EQUAL(sim_quantiles_get(&q, 0.5), 7.0);
  sim_quantiles_release(&q);

  /* exact_max 0: histogram from the first sample. */
  sim_quantiles_init(&q, 0);
  CU_ASSERT(!sim_quantiles_exact(&q));
  CU_ASSERT(isnan(sim_quantiles_get(&q, 0.5)));
  sim_quantiles_reset(&q);
  CU_ASSERT_PTR_NULL(q.exact);
  sim_quantiles_release(&q);
}

/* Feed n samples from draw() to a histogram-mode sim_quantiles and check
 * the standard percentiles against the nearest-rank samples. */
static void check_histogram(size_t exact_max, size_t n, unsigned long seed,
                            double (*draw)(const gsl_rng *))
{
  static const double ps[] = {0.5, 0.9, 0.95, 0.99, 0.999};
  double *x = xmalloc(n * sizeof *x);
  gsl_rng *r = rng_seeded(seed);
  sim_quantiles q;
  sim_quantiles_init(&q, exact_max);
  for (size_t i = 0; i < n; i++) sim_quantiles_add(&q, x[i] = draw(r));
  CU_ASSERT(!sim_quantiles_exact(&q));
  CU_ASSERT_PTR_NULL(q.exact);
  gsl_sort(x, 1, n);
  for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++)
    CS_ASSERT_REL(sim_quantiles_get(&q, ps[k]), nearest_rank_value(x, n, ps[k]),
                  SIM_QUANTILE_REL_ERR);
  CS_ASSERT_REL(sim_quantiles_get(&q, 0), x[0], SIM_QUANTILE_REL_ERR);
  CU_ASSERT_EQUAL(sim_quantiles_get(&q, 1), x[n - 1]);
  gsl_rng_free(r);
  sim_quantiles_release(&q);
  free(x);
}

static double draw_lognormal(const gsl_rng *r)
{
  return gsl_ran_lognormal(r, log(2e6), 1.5);  /* ns-scale latencies */
}

static double draw_exponential(const gsl_rng *r)
{
  return gsl_ran_exponential(r, 0.25);
}

static void test_quantiles_histogram_lognormal(void)
{
  check_histogram(1000, 1000000, 3, draw_lognormal);
}

static void test_quantiles_histogram_exponential(void)
{
  check_histogram(0, 1000000, 5, draw_exponential);
}

static void test_quantiles_histogram_magnitudes(void)
{
  /* One sample at a time over 31 decades, on and around bucket edges
   * (powers of two, m = 0.5 + k/256) and between them: the single answer
   * must be within the bound and not above the sample, and p = 1 exact. */
  sim_quantiles q;
  sim_quantiles_init(&q, 0);
  for (int e = -38; e <= 62; e += 3) {
    for (int k = 0; k < 128; k += 9) {
      double edge = ldexp(0.5 + k / 256.0, e);
      const double xs[] = {edge, nextafter(edge, 0), nextafter(edge, INFINITY),
                           edge * 1.001, edge * 1.0039};
      for (size_t j = 0; j < sizeof xs / sizeof xs[0]; j++) {
        sim_quantiles_reset(&q);
        sim_quantiles_add(&q, xs[j]);
        CS_ASSERT_REL(sim_quantiles_get(&q, 0.5), xs[j], SIM_QUANTILE_REL_ERR);
        CU_ASSERT(sim_quantiles_get(&q, 0.5) <= xs[j]);  /* never above the max */
        CU_ASSERT_EQUAL(sim_quantiles_get(&q, 1), xs[j]);
      }
    }
  }
  sim_quantiles_release(&q);
}

/* Interpolation within the bucket (sim/stats_quantile.c): on 10^6 samples
 * of known laws, histogram only, each percentile against (a) the exact
 * nearest-rank sample, far inside the 1/256 bound (measured 5e-6 to 6e-5;
 * a bucket midpoint would be off by up to w/2 = x/512 or more), and (b) the
 * law's own quantile within 4.5 standard deviations of the sample
 * quantile, sd = sqrt(p (1 - p) / n) / f(x_p). Uniform on [500, 1500]:
 * buckets there are 2 or 4 wide, so midpoints were integers (1490.0 for a
 * p99 of 1490.1); interpolated answers are not. */
static void check_interpolated(unsigned long seed, double (*draw)(const gsl_rng *),
                               double (*quantile)(double), double (*density)(double), bool no_integers)
{
  enum { N = 1000000 };
  static const double ps[] = {0.5, 0.9, 0.95, 0.99, 0.999};
  double *x = xmalloc(N * sizeof *x);
  gsl_rng *r = rng_seeded(seed);
  sim_quantiles q;
  sim_quantiles_init(&q, 0);
  for (size_t i = 0; i < N; i++) sim_quantiles_add(&q, x[i] = draw(r));
  gsl_sort(x, 1, N);
  for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
    double h = sim_quantiles_get(&q, ps[k]), exact = nearest_rank_value(x, N, ps[k]);
    CS_ASSERT_REL(h, exact, 2.5e-4);
    double xp = quantile(ps[k]), sd = sqrt(ps[k] * (1 - ps[k]) / N) / density(xp);
    CU_ASSERT(fabs(h - xp) < 4.5 * sd);
    if (no_integers) CU_ASSERT(h != floor(h));
  }
  CU_ASSERT_EQUAL(sim_quantiles_get(&q, 0), x[0]);  /* clamped to the smallest sample */
  CU_ASSERT_EQUAL(sim_quantiles_get(&q, 1), x[N - 1]);
  gsl_rng_free(r);
  sim_quantiles_release(&q);
  free(x);
}

static double draw_uniform_500_1500(const gsl_rng *r) { return 500 + 1000 * gsl_rng_uniform(r); }
static double uniform_quantile(double p) { return 500 + 1000 * p; }
static double uniform_density(double x) { (void)x; return 1e-3; }
static double draw_exponential_mean2(const gsl_rng *r) { return gsl_ran_exponential(r, 2.0); }
static double exponential_quantile(double p) { return -2.0 * log1p(-p); }
static double exponential_density(double x) { return 0.5 * exp(-x / 2.0); }

static void test_quantiles_interpolated(void)
{
  check_interpolated(17, draw_uniform_500_1500, uniform_quantile, uniform_density, true);
  check_interpolated(19, draw_exponential_mean2, exponential_quantile, exponential_density, false);

  /* By hand: 100 samples of 3.0 then 300 of 3.0 + 0.5 k / 300 (k = 0..299,
   * all in [3, 3.5), octave e = 2, buckets 4/512 = 1/128 wide: 3.0 opens
   * bucket 128, [3.0, 3.0078125)). Rank 50 (p = 0.125): the 50th of the
   * bucket's samples. That bucket holds the 100 threes and the k with
   * 0.5 k / 300 < 1/128, k <= 4: 105 samples, so the answer is
   * 3 + (1/128) (50 - 0.5) / 105 = 3.00368303..., not the midpoint 3.0039. */
  sim_quantiles q;
  sim_quantiles_init(&q, 0);
  for (int i = 0; i < 100; i++) sim_quantiles_add(&q, 3.0);
  for (int k = 0; k < 300; k++) sim_quantiles_add(&q, 3.0 + 0.5 * k / 300.0);
  CS_ASSERT_REL(sim_quantiles_get(&q, 0.125), 3.0 + (1.0 / 128) * 49.5 / 105, 1e-15);
  sim_quantiles_release(&q);
}

static void test_quantiles_zeros(void)
{
  /* 599 zeros, one 1e-14 (below the first bucket, so a zero), 400 fives:
   * ranks 1..600 are zeros, 601..1000 fives. */
  sim_quantiles q;
  sim_quantiles_init(&q, 0);
  for (int i = 0; i < 599; i++) sim_quantiles_add(&q, 0.0);
  sim_quantiles_add(&q, 1e-14);
  for (int i = 0; i < 400; i++) sim_quantiles_add(&q, 5.0);
  CU_ASSERT_EQUAL(q.zeros, 600);
  CU_ASSERT_EQUAL(sim_quantiles_get(&q, 0), 0.0);
  CU_ASSERT_EQUAL(sim_quantiles_get(&q, 0.5), 0.0);
  CU_ASSERT_EQUAL(sim_quantiles_get(&q, 0.6), 0.0);    /* rank 600 */
  CS_ASSERT_REL(sim_quantiles_get(&q, 0.601), 5.0, SIM_QUANTILE_REL_ERR);  /* rank 601 */
  CS_ASSERT_REL(sim_quantiles_get(&q, 0.99), 5.0, SIM_QUANTILE_REL_ERR);
  CU_ASSERT_EQUAL(sim_quantiles_get(&q, 1), 5.0);
  sim_quantiles_release(&q);

  /* All zeros: every quantile is 0, in both modes. */
  sim_quantiles_init(&q, 5);
  for (int i = 0; i < 10; i++) {
    sim_quantiles_add(&q, 0.0);
    CU_ASSERT_EQUAL(sim_quantiles_get(&q, 0.5), 0.0);
    CU_ASSERT_EQUAL(sim_quantiles_get(&q, 1), 0.0);
  }
  CU_ASSERT(!sim_quantiles_exact(&q));
  sim_quantiles_release(&q);
}

/* Run add(x) in a child process; true iff it died of SIGABRT (SIM_BUG). */
static int add_aborts(double x)
{
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 2);
    sim_quantiles q;
    sim_quantiles_init(&q, 4);
    sim_quantiles_add(&q, x);
    _exit(0);
  }
  int status;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return 0;
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void test_quantiles_bad_sample(void)
{
  CU_ASSERT(add_aborts(-1.0));
  CU_ASSERT(add_aborts(NAN));
  CU_ASSERT(add_aborts(INFINITY));
  CU_ASSERT(!add_aborts(0.0));
  CU_ASSERT(!add_aborts(1e300));
}

/* ---- batch means ---- */

static void test_batchmeans_structure(void)
{
  enum { N = 100000 };
  double *x = xmalloc(N * sizeof *x);
  gsl_rng *r = rng_seeded(13);
  sim_batchmeans b;
  sim_batchmeans_init(&b);
  double mean;
  CU_ASSERT(isnan(sim_batchmeans_ci(&b, 0.95, &mean)));
  CU_ASSERT(isnan(mean));
  for (size_t n = 1; n <= N; n++) {
    sim_batchmeans_add(&b, x[n - 1] = gsl_rng_uniform(r));
    size_t full = sim_batchmeans_batches(&b);
    /* Every observation is in one batch, full or open. */
    CU_ASSERT_EQUAL(full * b.batch_size + b.in_current, n);
    CU_ASSERT_EQUAL(b.batch_size & (b.batch_size - 1), 0);  /* power of 2 */
    if (n < SIM_BATCHMEANS_MIN) {
      CU_ASSERT(isnan(sim_batchmeans_ci(&b, 0.95, NULL)));
    } else {
      CU_ASSERT(full >= SIM_BATCHMEANS_MIN && full < 2 * SIM_BATCHMEANS_MIN);
    }
    if (n == SIM_BATCHMEANS_MIN) CU_ASSERT(isfinite(sim_batchmeans_ci(&b, 0.95, NULL)));
    if (n == 2 * SIM_BATCHMEANS_MIN) {
      /* The table filled at 64 single-observation batches and folded once. */
      CU_ASSERT_EQUAL(b.batch_size, 2);
      CU_ASSERT_EQUAL(full, SIM_BATCHMEANS_MIN);
      CS_ASSERT_REL(b.sums[0], x[0] + x[1], 1e-15);
    }
  }
  /* 100000 = 48 batches of 2048 + 1696: batch size between N/64 and N/32. */
  CU_ASSERT_EQUAL(b.batch_size, 2048);
  CU_ASSERT_EQUAL(sim_batchmeans_batches(&b), 48);

  /* Recompute the interval directly from the batches of x. */
  size_t nb = sim_batchmeans_batches(&b), bs = (size_t)b.batch_size;
  double means[2 * SIM_BATCHMEANS_MIN];
  for (size_t i = 0; i < nb; i++) means[i] = gsl_stats_mean(x + i * bs, 1, bs);
  double m = gsl_stats_mean(means, 1, nb);
  double hw = gsl_cdf_tdist_Pinv(0.995, (double)(nb - 1)) * gsl_stats_sd(means, 1, nb) /
              sqrt((double)nb);
  CS_ASSERT_REL(sim_batchmeans_ci(&b, 0.99, &mean), hw, 1e-9);
  CS_ASSERT_REL(mean, m, 1e-12);
  /* A wider level gives a wider interval. */
  CU_ASSERT(sim_batchmeans_ci(&b, 0.99, NULL) > sim_batchmeans_ci(&b, 0.9, NULL));
  gsl_rng_free(r);
  free(x);
}

static void test_batchmeans_iid_coverage(void)
{
  /* iid N(10, 1): the 95% interval should cover 10 about 95% of the time.
   * With 200 replications the binomial sd is 1.5%. */
  enum { REPS = 200, N = 2000 };
  int covered = 0;
  for (int rep = 0; rep < REPS; rep++) {
    gsl_rng *r = rng_seeded(1000 + (unsigned long)rep);
    sim_batchmeans b;
    sim_batchmeans_init(&b);
    for (int i = 0; i < N; i++) sim_batchmeans_add(&b, 10.0 + gsl_ran_gaussian_ziggurat(r, 1.0));
    double mean, hw = sim_batchmeans_ci(&b, 0.95, &mean);
    CU_ASSERT(isfinite(hw) && hw > 0);
    covered += fabs(mean - 10.0) <= hw;
    gsl_rng_free(r);
  }
  double frac = (double)covered / REPS;
  CU_ASSERT(frac >= 0.90 && frac <= 0.99);
}

static void test_batchmeans_ar1_coverage(void)
{
  /* x_t = 100 + y_t, y_t = 0.9 y_{t-1} + e_t, e_t ~ N(0,1), started in the
   * stationary law N(0, 1/(1-0.81)). The mean's variance is (1+0.9)/(1-0.9)
   * = 19 times the iid one, so the naive sd/sqrt(n) interval is ~4.4 times
   * too narrow (coverage near 35%); batches of 2048 are nearly independent. */
  enum { REPS = 100, N = 100000 };
  const double phi = 0.9, mu = 100.0;
  int covered_bm = 0, covered_naive = 0;
  sim_tally t;
  sim_tally_init(&t, 0);
  for (int rep = 0; rep < REPS; rep++) {
    gsl_rng *r = rng_seeded(5000 + (unsigned long)rep);
    sim_tally_reset(&t);
    double y = gsl_ran_gaussian_ziggurat(r, 1.0 / sqrt(1.0 - phi * phi));
    for (int i = 0; i < N; i++) {
      sim_tally_add(&t, mu + y);
      y = phi * y + gsl_ran_gaussian_ziggurat(r, 1.0);
    }
    double mean = sim_tally_mean(&t);
    double hw_bm = sim_tally_ci(&t, 0.95);
    double hw_naive = gsl_cdf_tdist_Pinv(0.975, N - 1) * sqrt(sim_tally_variance(&t) / N);
    covered_bm += fabs(mean - mu) <= hw_bm;
    covered_naive += fabs(mean - mu) <= hw_naive;
    gsl_rng_free(r);
  }
  CU_ASSERT(covered_naive <= 60);
  CU_ASSERT(covered_bm >= 85);
  sim_tally_release(&t);
}

/* ---- time average ---- */

static void test_timeavg_hand(void)
{
  /* Value 2 on [100, 300), 5 on [300, 600), 1 from 600:
   *   area to 1000 = 2*200 + 5*300 + 1*400 = 400 + 1500 + 400 = 2300 over
   *   900 ns, mean 23/9; max 5. */
  sim_timeavg a;
  sim_timeavg_init(&a, 100, 2.0);
  CU_ASSERT_EQUAL(sim_timeavg_mean(&a, 100), 2.0);  /* empty interval */
  CU_ASSERT_EQUAL(sim_timeavg_max(&a), 2.0);
  sim_timeavg_set(&a, 300, 5.0);
  sim_timeavg_set(&a, 600, 1.0);
  CS_ASSERT_REL(sim_timeavg_mean(&a, 600), 1900.0 / 500.0, 1e-15);
  CS_ASSERT_REL(sim_timeavg_mean(&a, 1000), 23.0 / 9.0, 1e-15);
  CU_ASSERT_EQUAL(sim_timeavg_max(&a), 5.0);

  /* Reset at 1000 (value 1 carries over, max restarts at 1); then 3 from
   * 1500: area to 2000 = 1*500 + 3*500 = 2000 over 1000 ns, mean 2. */
  sim_timeavg_reset(&a, 1000);
  CU_ASSERT_EQUAL(sim_timeavg_max(&a), 1.0);
  CU_ASSERT_EQUAL(sim_timeavg_mean(&a, 1000), 1.0);
  CS_ASSERT_REL(sim_timeavg_mean(&a, 1400), 1.0, 1e-15);
  sim_timeavg_set(&a, 1500, 3.0);
  CS_ASSERT_REL(sim_timeavg_mean(&a, 2000), 2.0, 1e-15);
  CU_ASSERT_EQUAL(sim_timeavg_max(&a), 3.0);

  /* A spike to 10 lasting 0 ns raises the max but not the area: to 2500,
   * area = 2000 + 0*500 = 2000 over 1500 ns. */
  sim_timeavg_set(&a, 2000, 10.0);
  sim_timeavg_set(&a, 2000, 0.0);
  CU_ASSERT_EQUAL(sim_timeavg_max(&a), 10.0);
  CS_ASSERT_REL(sim_timeavg_mean(&a, 2500), 2000.0 / 1500.0, 1e-15);
}

static void test_timeavg_long_horizon(void)
{
  /* One hour in ns with the value alternating 0 and 1 every second: mean
   * 1/2 exactly (areas are integers below 2^53). */
  sim_timeavg a;
  sim_timeavg_init(&a, 0, 0.0);
  for (int s = 1; s < 3600; s++) sim_timeavg_set(&a, s * SIM_NS_PER_S, (double)(s % 2));
  CU_ASSERT_EQUAL(sim_timeavg_mean(&a, 3600 * SIM_NS_PER_S), 0.5);
  CU_ASSERT_EQUAL(sim_timeavg_max(&a), 1.0);
}

int main(void)
{
  static const cs_test tests[] = {
    {"tally: hand-computed small example", test_tally_hand},
    {"tally: Welford stable at offset 1e9", test_tally_large_offset},
    {"tally: reset forgets warm-up", test_tally_reset},
    {"quantiles: exact mode equals GSL", test_quantiles_exact_matches_gsl},
    {"quantiles: exact/histogram boundary, reset", test_quantiles_exact_boundary},
    {"quantiles: histogram, 1e6 lognormal", test_quantiles_histogram_lognormal},
    {"quantiles: histogram, 1e6 exponential", test_quantiles_histogram_exponential},
    {"quantiles: histogram over 31 decades", test_quantiles_histogram_magnitudes},
    {"quantiles: zeros", test_quantiles_zeros},
    {"quantiles: interpolated within the bucket", test_quantiles_interpolated},
    {"quantiles: bad samples abort", test_quantiles_bad_sample},
    {"batchmeans: table bounds and CI arithmetic", test_batchmeans_structure},
    {"batchmeans: iid coverage", test_batchmeans_iid_coverage},
    {"batchmeans: AR(1) coverage vs naive", test_batchmeans_ar1_coverage},
    {"timeavg: hand-worked example, reset, max", test_timeavg_hand},
    {"timeavg: one-hour horizon", test_timeavg_long_horizon},
    {NULL, NULL},
  };
  return cs_run_suite("stats", tests);
}
