/* tests/unit/test_dist.c: every distribution against GSL's own CDF and the
 * moments it claims: GSL's CDF at the 10th, 50th, 90th and 99th
 * percentiles of the sample (gsl_cdf_*_P) is within 4.5 binomial standard
 * errors of 0.1, 0.5, 0.9 and 0.99, and the sample mean within 4.5 standard errors. This pins the
 * parameterisations (lognormal mu/sigma from mean and cv, gamma shape and
 * scale, Weibull scale from the mean). Also: parameter errors. */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_sort.h>
#include <math.h>
#include <stdlib.h>

#include "sim/dist.h"
#include "sim/rng.h"
#include "testutil.h"

enum { N = 400000 };

typedef double (*cdf_fn)(double x, const sim_dist *d);

static double exp_cdf(double x, const sim_dist *d) { return gsl_cdf_exponential_P(x, d->mean); }
static double logn_cdf(double x, const sim_dist *d) { return gsl_cdf_lognormal_P(x, d->a, d->b); }
static double gamma_cdf(double x, const sim_dist *d) { return gsl_cdf_gamma_P(x, d->a, d->b); }
static double weib_cdf(double x, const sim_dist *d) { return gsl_cdf_weibull_P(x, d->a, d->b); }
static double flat_cdf(double x, const sim_dist *d) { return gsl_cdf_flat_P(x, d->a, d->b); }

static void check(sim_dist_kind kind, sim_dist_params p, double mean, double var, cdf_fn cdf)
{
  sim_dist d;
  CU_ASSERT_PTR_NULL_FATAL(sim_dist_make(&d, kind, &p));
  CS_ASSERT_REL(sim_dist_mean(&d), mean, 1e-12);
  CS_ASSERT_REL(sim_dist_variance(&d), var, 1e-9);
  gsl_rng *r = sim_rng_alloc(3, sim_dist_types[kind].name);
  double *x = malloc(N * sizeof *x);
  double sum = 0;
  for (int i = 0; i < N; i++) {
    x[i] = sim_dist_sample(&d, r);
    CU_ASSERT_TRUE(x[i] >= 0);
    sum += x[i];
  }
  double se = sqrt(var / N);
  CU_ASSERT_TRUE(fabs(sum / N - mean) <= 4.5 * se);
  /* GSL's CDF at the sample's p-quantile is p, within binomial error */
  gsl_sort(x, 1, N);
  static const double ps[] = {0.1, 0.5, 0.9, 0.99};
  for (size_t k = 0; k < 4; k++) {
    double q = x[(size_t)(ps[k] * N)];
    double f = cdf(q, &d), sd = sqrt(ps[k] * (1 - ps[k]) / N);
    if (fabs(f - ps[k]) > 4.5 * sd)
      printf("\n    %s: F(%g) = %.5f, expected %.3f  ", sim_dist_types[kind].name, q, f, ps[k]);
    CU_ASSERT_TRUE(fabs(f - ps[k]) <= 4.5 * sd);
  }
  free(x);
  gsl_rng_free(r);
}

static void test_exponential(void) { check(SIM_DIST_EXPONENTIAL, (sim_dist_params){.mean = 0.25}, 0.25, 0.0625, exp_cdf); }

static void test_deterministic(void)
{
  sim_dist d;
  CU_ASSERT_PTR_NULL(sim_dist_make(&d, SIM_DIST_DETERMINISTIC, &(sim_dist_params){.mean = 1.5}));
  gsl_rng *r = sim_rng_alloc(1, "d");
  for (int i = 0; i < 10; i++) CU_ASSERT_EQUAL(sim_dist_sample(&d, r), 1.5);
  CU_ASSERT_EQUAL(sim_dist_variance(&d), 0);
  gsl_rng_free(r);
}

static void test_uniform(void) { check(SIM_DIST_UNIFORM, (sim_dist_params){.min = 1, .max = 3}, 2, 4.0 / 12, flat_cdf); }
static void test_lognormal(void) { check(SIM_DIST_LOGNORMAL, (sim_dist_params){.mean = 2, .cv = 1.5}, 2, 9, logn_cdf); }
static void test_gamma(void) { check(SIM_DIST_GAMMA, (sim_dist_params){.mean = 3, .cv = 0.5}, 3, 2.25, gamma_cdf); }
static void test_gamma_bursty(void) { check(SIM_DIST_GAMMA, (sim_dist_params){.mean = 1, .cv = 3}, 1, 9, gamma_cdf); }
static void test_erlang(void) { check(SIM_DIST_ERLANG, (sim_dist_params){.mean = 2, .k = 4}, 2, 1, gamma_cdf); }

static void test_weibull(void)
{
  /* shape 2: mean = scale * Gamma(1.5) = scale * sqrt(pi)/2; var = scale^2 (1 - pi/4) */
  double scale = 2 / (sqrt(M_PI) / 2);
  check(SIM_DIST_WEIBULL, (sim_dist_params){.mean = 2, .shape = 2}, 2, scale * scale * (1 - M_PI / 4), weib_cdf);
}

static void test_bad_parameters(void)
{
  sim_dist d;
  CU_ASSERT_PTR_NOT_NULL(sim_dist_make(&d, SIM_DIST_EXPONENTIAL, &(sim_dist_params){.mean = 0}));
  CU_ASSERT_PTR_NOT_NULL(sim_dist_make(&d, SIM_DIST_EXPONENTIAL, &(sim_dist_params){.mean = -1}));
  CU_ASSERT_PTR_NOT_NULL(sim_dist_make(&d, SIM_DIST_EXPONENTIAL, &(sim_dist_params){.mean = INFINITY}));
  CU_ASSERT_PTR_NOT_NULL(sim_dist_make(&d, SIM_DIST_LOGNORMAL, &(sim_dist_params){.mean = 1, .cv = 0}));
  CU_ASSERT_PTR_NOT_NULL(sim_dist_make(&d, SIM_DIST_ERLANG, &(sim_dist_params){.mean = 1, .k = 0}));
  CU_ASSERT_PTR_NOT_NULL(sim_dist_make(&d, SIM_DIST_UNIFORM, &(sim_dist_params){.min = 2, .max = 2}));
  CU_ASSERT_PTR_NOT_NULL(sim_dist_make(&d, SIM_DIST_UNIFORM, &(sim_dist_params){.min = -1, .max = 2}));
  CU_ASSERT_EQUAL(sim_dist_lookup("gamma"), SIM_DIST_GAMMA);
  CU_ASSERT_EQUAL(sim_dist_lookup("exponentail"), -1);
}

int main(void)
{
  static const cs_test tests[] = {
    {"exponential", test_exponential},
    {"deterministic", test_deterministic},
    {"uniform", test_uniform},
    {"lognormal (mean, cv)", test_lognormal},
    {"gamma (mean, cv)", test_gamma},
    {"gamma, cv 3", test_gamma_bursty},
    {"erlang (mean, k)", test_erlang},
    {"weibull (mean, shape)", test_weibull},
    {"bad parameters", test_bad_parameters},
    {NULL, NULL},
  };
  return cs_run_suite("dist", tests);
}
