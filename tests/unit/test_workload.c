/* tests/unit/test_workload.c: the workload building blocks (models/workload)
 * and the trace reader (sim/trace). Known answers: rate integrals written
 * out by hand and against GSL quadrature; thinning counts against the
 * integral (chi-square); spike and growth ratios; gamma renewal mean and
 * CV; the MMPP's long-run rate and index of dispersion against the
 * closed forms (Heffes & Lucantoni 1986); size distributions against their
 * moments and GSL's CDFs; the Azure trace against an independent fscanf
 * reading; bad traces against their exact messages. */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_sort.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "models/workload/wl.h"
#include "driver/config/cfg.h"
#include "sim/rng.h"
#include "driver/config/trace.h"
#include "clitest.h"
#include "testutil.h"

/* ---------------------------------------------------------- helpers -- */

static wl_arrivals_params poisson(wl_rate r)
{
  return (wl_arrivals_params){.kind = WL_ARRIVALS_POISSON, .rate = r};
}

/* Arrival times (ns) in [0, horizon_s) into counts of nbins equal bins;
 * returns the number of arrivals. */
static uint64_t count_bins(wl_arrivals *a, double horizon_s, uint64_t *bins, int nbins)
{
  sim_time end = sim_time_from_s(horizon_s), t = 0, width = end / nbins;
  uint64_t n = 0;
  memset(bins, 0, (size_t)nbins * sizeof *bins);
  for (;;) {
    sim_time next = wl_arrivals_next(a, t);
    CU_ASSERT_TRUE_FATAL(next >= t);
    t = next;
    if (t >= end) break;
    sim_time k = t / width;
    bins[k < nbins ? k : nbins - 1]++;
    n++;
  }
  return n;
}

/* Arrivals in [a_s, b_s) from a process started at 0. */
static uint64_t count_between(const wl_arrivals_params *p, const char *stream, double a_s, double b_s)
{
  wl_arrivals a;
  wl_arrivals_init(&a, p, 42, stream);
  sim_time lo = sim_time_from_s(a_s), hi = sim_time_from_s(b_s), t = 0;
  uint64_t n = 0;
  while ((t = wl_arrivals_next(&a, t)) < hi)
    if (t >= lo) n++;
  wl_arrivals_release(&a);
  return n;
}

static double rate_fn(double t, void *p) { return wl_rate_at(p, t); }

/* The integral of r over [t0, t1] by GSL's QAGP, cut at every breakpoint. */
static double quad(const wl_rate *r, double t0, double t1)
{
  double pts[4096];
  size_t n = 0;
  pts[n++] = t0;
  for (double x = wl_rate_next_break(r, t0); x < t1 && n < 4094; x = wl_rate_next_break(r, x))
    pts[n++] = x;
  pts[n++] = t1;
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(20000);
  gsl_function F = {rate_fn, (void *)r};
  double res, err;
  gsl_integration_qagp(&F, pts, n, 0, 1e-12, 20000, w, &res, &err);
  gsl_integration_workspace_free(w);
  return res;
}

/* The rate of the thinning test: a 10x spike with ramps and a daily cycle. */
static wl_rate spiky_daily(void)
{
  wl_rate r = wl_rate_constant(0.5);
  r.nspikes = 1;
  r.spikes[0] = (wl_spike){.start_s = 300000, .ramp_up_s = 3600, .duration_s = 7200,
                           .ramp_down_s = 3600, .multiplier = 10};
  r.daily = (wl_daily){.amplitude = 0.6, .peak_s = 50000};
  return r;
}

/* ------------------------------------------------------------- rate -- */

static void test_rate_integral_known(void)
{
  /* spike: base 2 over [0, 1000]; the spike adds (m - 1) times the plateau
   * plus half of each ramp: 2 * (1000 + 4 * (50 + 10/2 + 20/2)) = 2520 */
  wl_rate r = wl_rate_constant(2);
  r.nspikes = 1;
  r.spikes[0] = (wl_spike){.start_s = 100, .ramp_up_s = 10, .duration_s = 50, .ramp_down_s = 20,
                           .multiplier = 5};
  CS_ASSERT_REL(wl_rate_integral(&r, 0, 1000), 2520, 1e-12);
  CS_ASSERT_REL(wl_rate_at(&r, 105), 2 * 3, 1e-12);       /* half-way up: 1 + 4/2 */
  CS_ASSERT_REL(wl_rate_at(&r, 170), 2 * 3, 1e-12);       /* half-way down */
  CU_ASSERT_EQUAL(wl_rate_at(&r, 99.9), 2);
  CU_ASSERT_EQUAL(wl_rate_at(&r, 180), 2);

  /* segments: 1/s before 100, 3/s to 200, 0.5/s after: 100 + 300 + 50 */
  wl_rate s = wl_rate_constant(1);
  s.nsegments = 2;
  s.segments[0] = (wl_segment){100, 3};
  s.segments[1] = (wl_segment){200, 0.5};
  CS_ASSERT_REL(wl_rate_integral(&s, 0, 300), 450, 1e-14);
  CS_ASSERT_REL(wl_rate_integral(&s, 150, 250), 175, 1e-14);
  CU_ASSERT_EQUAL(wl_rate_at(&s, 100), 3);

  /* daily: a whole period gives base * P; from the peak a quarter period
   * gives base * (P/4 + A P / (2 pi)) */
  wl_rate d = wl_rate_constant(3);
  d.daily = (wl_daily){.amplitude = 0.8, .peak_s = 1000};
  CS_ASSERT_REL(wl_rate_integral(&d, 0, WL_DAY_S), 3 * WL_DAY_S, 1e-12);
  CS_ASSERT_REL(wl_rate_integral(&d, 1000, 1000 + WL_DAY_S / 4),
                3 * (WL_DAY_S / 4 + 0.8 * WL_DAY_S / (2 * M_PI)), 1e-12);
  CS_ASSERT_REL(wl_rate_at(&d, 1000), 3 * 1.8, 1e-15);
  CS_ASSERT_REL(wl_rate_at(&d, 1000 + WL_DAY_S / 2), 3 * 0.2, 1e-12);

  /* growth 1.5 per week: int_0^W b^(t/W) dt = W (b - 1) / ln b */
  wl_rate g = wl_rate_constant(0.25);
  g.growth = (wl_growth){.factor = 1.5};
  CS_ASSERT_REL(wl_rate_integral(&g, 0, WL_WEEK_S), 0.25 * WL_WEEK_S * 0.5 / log(1.5), 1e-12);
  CS_ASSERT_REL(wl_rate_at(&g, 2 * WL_WEEK_S), 0.25 * 2.25, 1e-12);
  /* a tiny interval (series branch; ends exact in binary): the rate at the
   * midpoint times the width, up to g^2 h^2 / 24 */
  const double t0 = 65536, h = 1.0 / 1024;
  CS_ASSERT_REL(wl_rate_integral(&g, t0, t0 + h), wl_rate_at(&g, t0 + h / 2) * h, 1e-13);
}

static void test_rate_integral_quadrature(void)
{
  /* everything at once, with overlapping ramps (the quadrature fallback)
   * and a dip, against GSL's QAGP on wl_rate_at */
  wl_rate r = wl_rate_constant(4);
  r.nsegments = 2;
  r.segments[0] = (wl_segment){20000, 7};
  r.segments[1] = (wl_segment){150000, 2};
  r.nspikes = 3;
  r.spikes[0] = (wl_spike){30000, 5000, 8, 2000, 4000};
  r.spikes[1] = (wl_spike){33000, 1000, 3, 3000, 1000};  /* ramps overlap spike 0's */
  r.spikes[2] = (wl_spike){100000, 20000, 0.2, 500, 500};
  r.daily = (wl_daily){.amplitude = 0.7, .peak_s = 70000};
  r.growth = (wl_growth){.factor = 1.3, .period_s = 86400};
  static const double iv[][2] = {{0, 200000}, {31000, 36000}, {0.5, 21.25}, {99000, 121000}};
  for (size_t i = 0; i < sizeof iv / sizeof iv[0]; i++)
    CS_ASSERT_REL(wl_rate_integral(&r, iv[i][0], iv[i][1]), quad(&r, iv[i][0], iv[i][1]), 1e-9);
  CU_ASSERT_EQUAL(wl_rate_integral(&r, 5, 5), 0);
}

static void test_rate_bound(void)
{
  /* single varying factor: the bound is the exact max (ends, ramp corners,
   * daily peak, growth at the end) */
  wl_rate r = wl_rate_constant(2);
  r.nspikes = 1;
  r.spikes[0] = (wl_spike){.start_s = 100, .ramp_up_s = 10, .duration_s = 50, .ramp_down_s = 20,
                           .multiplier = 5};
  CU_ASSERT_EQUAL(wl_rate_bound(&r, 0, 50), 2);
  CS_ASSERT_REL(wl_rate_bound(&r, 0, 105), 6, 1e-12);
  CS_ASSERT_REL(wl_rate_bound(&r, 0, 1000), 10, 1e-12);
  CS_ASSERT_REL(wl_rate_bound(&r, 165, 175), wl_rate_at(&r, 165), 1e-12);
  wl_rate d = wl_rate_constant(1);
  d.daily = (wl_daily){.amplitude = 0.5, .period_s = 1000, .peak_s = 100};
  CS_ASSERT_REL(wl_rate_bound(&d, 1050, 1150), 1.5, 1e-15);          /* peak at 1100 */
  CS_ASSERT_REL(wl_rate_bound(&d, 1200, 1400), wl_rate_at(&d, 1200), 1e-15);
  CS_ASSERT_REL(wl_rate_bound(&d, 1550, 1950), wl_rate_at(&d, 1950), 1e-15);
  wl_rate g = wl_rate_constant(1);
  g.growth = (wl_growth){.factor = 0.5, .period_s = 100};           /* decline */
  CS_ASSERT_REL(wl_rate_bound(&g, 100, 200), 0.5, 1e-14);
  /* everything: never below the rate on a fine grid of random intervals */
  wl_rate all = spiky_daily();
  all.growth = (wl_growth){.factor = 2, .period_s = 200000};
  all.nsegments = 1;
  all.segments[0] = (wl_segment){305000, 3};
  gsl_rng *rng = sim_rng_alloc(1, "bound");
  int bad = 0;
  for (int k = 0; k < 2000; k++) {
    double t0 = 290000 + 30000 * gsl_rng_uniform(rng), t1 = t0 + 5000 * gsl_rng_uniform(rng);
    double b = wl_rate_bound(&all, t0, t1);
    for (int j = 0; j <= 50; j++)
      if (wl_rate_at(&all, t0 + (t1 - t0) * j / 50) > b * (1 + 1e-12)) bad++;
  }
  CU_ASSERT_EQUAL(bad, 0);
  gsl_rng_free(rng);
}

static void test_rate_check(void)
{
  char why[256];
  wl_rate r = wl_rate_constant(1);
  CU_ASSERT_PTR_NULL(wl_rate_check(&r, why, sizeof why));
  r.nsegments = 2;
  r.segments[0] = (wl_segment){100, 1};
  r.segments[1] = (wl_segment){100, 2};
  CU_ASSERT_PTR_NOT_NULL_FATAL(wl_rate_check(&r, why, sizeof why));
  CU_ASSERT_TRUE(strncmp(why, "segments.[1].start_s: ", 22) == 0);
  r = wl_rate_constant(1);
  r.nspikes = 1;
  r.spikes[0] = (wl_spike){.start_s = 10, .duration_s = 5, .multiplier = -2};
  CU_ASSERT_PTR_NOT_NULL_FATAL(wl_rate_check(&r, why, sizeof why));
  CU_ASSERT_TRUE(strncmp(why, "spikes.[0].multiplier: ", 23) == 0);
  r = wl_rate_constant(1);
  r.daily.amplitude = 1.5;
  CU_ASSERT_PTR_NOT_NULL_FATAL(wl_rate_check(&r, why, sizeof why));
  CU_ASSERT_TRUE(strncmp(why, "daily.amplitude: ", 17) == 0);
  r = wl_rate_constant(NAN);
  CU_ASSERT_PTR_NOT_NULL(wl_rate_check(&r, why, sizeof why));
}

/* ------------------------------------------------------- arrivals -- */

static void test_thinning_chi_square(void)
{
  enum { NB = 100 };
  const double T = 1e6;
  wl_rate r = spiky_daily();
  wl_arrivals_params p = poisson(r);
  wl_arrivals a;
  wl_arrivals_init(&a, &p, 7, "thinning");
  uint64_t bins[NB];
  uint64_t n = count_bins(&a, T, bins, NB);
  double chi2 = 0, total = wl_rate_integral(&r, 0, T);
  for (int k = 0; k < NB; k++) {
    double e = wl_rate_integral(&r, k * T / NB, (k + 1) * T / NB);
    chi2 += (bins[k] - e) * (bins[k] - e) / e;
  }
  double q = gsl_cdf_chisq_Qinv(0.001, NB);
  if (chi2 >= q) printf("\n    chi2 = %.1f >= %.1f  ", chi2, q);
  CU_ASSERT_TRUE(chi2 < q);
  CU_ASSERT_TRUE(fabs((double)n - total) < 4 * sqrt(total));
  /* the bound is tight: few candidates are thrown away */
  CU_ASSERT_TRUE((double)a.arrivals / (double)a.candidates > 0.8);
  wl_arrivals_release(&a);
}

static void test_spike_ratio(void)
{
  wl_rate r = wl_rate_constant(5);
  r.nspikes = 1;
  r.spikes[0] = (wl_spike){.start_s = 1000, .ramp_up_s = 100, .duration_s = 2000,
                           .ramp_down_s = 100, .multiplier = 10};
  wl_arrivals_params p = poisson(r);
  /* before: [0, 1000), 5000 expected; plateau: [1100, 3100), 100000 */
  double before = (double)count_between(&p, "spike", 0, 1000) / 1000;
  double plateau = (double)count_between(&p, "spike", 1100, 3100) / 2000;
  double after = (double)count_between(&p, "spike", 3200, 4200);
  CS_ASSERT_REL(plateau / before, 10, 0.07);
  CU_ASSERT_TRUE(fabs(after - 5000) < 4.5 * sqrt(5000));
  /* the ramps: [1000, 1100) expects 5 * 100 * (1 + 9/2) = 2750 */
  double up = (double)count_between(&p, "spike", 1000, 1100);
  CU_ASSERT_TRUE(fabs(up - 2750) < 4.5 * sqrt(2750));
}

static void test_growth_ratio(void)
{
  wl_rate r = wl_rate_constant(0.05);
  r.growth = (wl_growth){.factor = 1.5, .period_s = WL_WEEK_S};
  wl_arrivals_params p = poisson(r);
  wl_arrivals a;
  wl_arrivals_init(&a, &p, 11, "growth");
  uint64_t bins[2];
  count_bins(&a, 2 * WL_WEEK_S, bins, 2);
  wl_arrivals_release(&a);
  /* week 2 / week 1 = 1.5 exactly in expectation; sd of the ratio ~0.7% */
  CS_ASSERT_REL((double)bins[1] / (double)bins[0], 1.5, 0.035);
  double e1 = 0.05 * WL_WEEK_S * 0.5 / log(1.5);
  CU_ASSERT_TRUE(fabs((double)bins[0] - e1) < 4.5 * sqrt(e1));
}

static void test_zero_rate(void)
{
  /* 2/s until 100 s, nothing from 100 to 200 s, 1/s from 200 to 300 s,
   * then nothing ever: the process ends */
  wl_rate r = wl_rate_constant(2);
  r.nsegments = 3;
  r.segments[0] = (wl_segment){100, 0};
  r.segments[1] = (wl_segment){200, 1};
  r.segments[2] = (wl_segment){300, 0};
  wl_arrivals_params p = poisson(r);
  wl_arrivals a;
  wl_arrivals_init(&a, &p, 3, "zero");
  sim_time t = 0;
  uint64_t n = 0, in_gap = 0;
  while ((t = wl_arrivals_next(&a, t)) != SIM_TIME_MAX) {
    n++;
    if (t >= sim_time_from_s(100) && t < sim_time_from_s(200)) in_gap++;
    CU_ASSERT_TRUE_FATAL(t < sim_time_from_s(300));
  }
  CU_ASSERT_EQUAL(in_gap, 0);
  CU_ASSERT_TRUE(fabs((double)n - 300) < 4.5 * sqrt(300));
  wl_arrivals_release(&a);
}

/* Gaps of n arrivals of a gamma renewal process: mean rate, CV, and GSL's
 * gamma CDF at the sample median and 90th percentile. */
static void check_gamma(double rate, double cv)
{
  enum { N = 200000 };
  wl_arrivals_params p = {.kind = WL_ARRIVALS_GAMMA, .rate = wl_rate_constant(rate), .gamma_cv = cv};
  wl_arrivals a;
  wl_arrivals_init(&a, &p, 5, "gamma");
  double *gap = malloc(N * sizeof *gap), sum = 0, sum2 = 0;
  sim_time t = wl_arrivals_next(&a, 0);  /* the first gap is the stationary one */
  for (int i = 0; i < N; i++) {
    sim_time next = wl_arrivals_next(&a, t);
    gap[i] = sim_time_to_s(next - t);
    t = next;
    sum += gap[i];
    sum2 += gap[i] * gap[i];
  }
  double mean = sum / N, var = sum2 / N - mean * mean;
  CU_ASSERT_TRUE(fabs(mean - 1 / rate) < 4.5 * cv / rate / sqrt(N));
  CS_ASSERT_REL(sqrt(var) / mean, cv, 0.05);
  gsl_sort(gap, 1, N);
  double k = 1 / (cv * cv), theta = 1 / (rate * k);
  static const double ps[] = {0.5, 0.9};
  for (int j = 0; j < 2; j++) {
    double f = gsl_cdf_gamma_P(gap[(size_t)(ps[j] * N)], k, theta);
    CU_ASSERT_TRUE(fabs(f - ps[j]) < 4.5 * sqrt(ps[j] * (1 - ps[j]) / N));
  }
  free(gap);
  wl_arrivals_release(&a);
}

/* The first arrival of a stationary renewal process comes after the
 * forward recurrence time R, E[R] = E[X^2] / (2 E[X]) = (1 + cv^2) / (2 rate),
 * E[R^2] = E[X^3] / (3 E[X]), E[X^3] = k (k + 1) (k + 2) theta^3 for the gamma. */
static void test_gamma_stationary_start(void)
{
  enum { N = 20000 };
  const double rate = 10, cv = 3, k = 1 / (cv * cv), theta = 1 / (rate * k);
  wl_arrivals_params p = {.kind = WL_ARRIVALS_GAMMA, .rate = wl_rate_constant(rate), .gamma_cv = cv};
  double sum = 0, er = (1 + cv * cv) / (2 * rate);
  double er2 = k * (k + 1) * (k + 2) * theta * theta * theta / (3 / rate);
  for (int i = 0; i < N; i++) {
    char name[32];
    snprintf(name, sizeof name, "first.%d", i);
    wl_arrivals a;
    wl_arrivals_init(&a, &p, 1, name);
    sum += sim_time_to_s(wl_arrivals_next(&a, 0));
    wl_arrivals_release(&a);
  }
  CU_ASSERT_TRUE(fabs(sum / N - er) < 4.5 * sqrt((er2 - er * er) / N));
}

static void test_gamma_cv_half(void) { check_gamma(10, 0.5); }
static void test_gamma_cv_three(void) { check_gamma(10, 3); }

static void test_mmpp(void)
{
  /* r = 20, 2 per s; mean sojourns 10 s, 40 s: rate (200 + 80) / 50 = 5.6.
   * Index of dispersion of counts in windows of tau (switching rates
   * s1 = 1/10, s2 = 1/40, k = s1 + s2):
   * IDC(tau) = 1 + 2 s1 s2 (r1 - r2)^2 / (k^3 mean) [1 - (1 - e^{-k tau}) / (k tau)] */
  enum { NW = 2000 };
  const double tau = 100, T = NW * tau;
  wl_arrivals_params p = {.kind = WL_ARRIVALS_MMPP, .mmpp_rate_per_s = {20, 2},
                          .mmpp_sojourn_s = {10, 40}};
  double mean = wl_arrivals_mean_rate(&p);
  CS_ASSERT_REL(mean, 5.6, 1e-15);
  double s1 = 0.1, s2 = 0.025, k = s1 + s2, d = 18;
  double idc_inf = 1 + 2 * s1 * s2 * d * d / (k * k * k * mean);
  double idc_tau = 1 + (idc_inf - 1) * (1 - (1 - exp(-k * tau)) / (k * tau));
  wl_arrivals a;
  wl_arrivals_init(&a, &p, 9, "mmpp");
  static uint64_t bins[NW];
  uint64_t n = count_bins(&a, T, bins, NW);
  wl_arrivals_release(&a);
  CU_ASSERT_TRUE(fabs((double)n - mean * T) < 4.5 * sqrt(idc_inf * mean * T));
  double m = (double)n / NW, v = 0;
  for (int i = 0; i < NW; i++) v += (bins[i] - m) * (bins[i] - m);
  double idc = v / (NW - 1) / m;
  CU_ASSERT_TRUE(idc > 1);
  CS_ASSERT_REL(idc, idc_tau, 0.2);
}

/* Started in its stationary law, the MMPP has E[N(0, t)] = mean rate x t
 * for every t, also short ones (started in the busy state it would give
 * about 20 t); Var N(t) = IDC(t) mean t as in test_mmpp. */
static void test_mmpp_stationary_start(void)
{
  enum { N = 5000 };
  const double t = 2;
  wl_arrivals_params p = {.kind = WL_ARRIVALS_MMPP, .mmpp_rate_per_s = {20, 2},
                          .mmpp_sojourn_s = {10, 40}};
  double mean = wl_arrivals_mean_rate(&p), k = 0.125;
  double idc = 1 + 2 * 0.1 * 0.025 * 18 * 18 / (k * k * k * mean) * (1 - (1 - exp(-k * t)) / (k * t));
  double sum = 0;
  for (int i = 0; i < N; i++) {
    char name[32];
    snprintf(name, sizeof name, "mmpp-first.%d", i);
    sum += (double)count_between(&p, name, 0, t);
  }
  CU_ASSERT_TRUE(fabs(sum / N - mean * t) < 4.5 * sqrt(idc * mean * t / N));
}

static void test_reproducible(void)
{
  wl_arrivals_params ps[3] = {
    poisson(spiky_daily()),
    {.kind = WL_ARRIVALS_GAMMA, .rate = wl_rate_constant(3), .gamma_cv = 2},
    {.kind = WL_ARRIVALS_MMPP, .mmpp_rate_per_s = {5, 1}, .mmpp_sojourn_s = {3, 7}},
  };
  for (int k = 0; k < 3; k++) {
    wl_arrivals a, b, c;
    wl_arrivals_init(&a, &ps[k], 123, "repro");
    wl_arrivals_init(&b, &ps[k], 123, "repro");
    wl_arrivals_init(&c, &ps[k], 123, "other");
    sim_time ta = 0, tb = 0, tc = 0;
    int same = 0, differ = 0;
    for (int i = 0; i < 1000; i++) {
      ta = wl_arrivals_next(&a, ta);
      tb = wl_arrivals_next(&b, tb);
      tc = wl_arrivals_next(&c, tc);
      same += ta == tb;
      differ += ta != tc;
    }
    CU_ASSERT_EQUAL(same, 1000);
    CU_ASSERT_TRUE(differ > 900);
    wl_arrivals_release(&a);
    wl_arrivals_release(&b);
    wl_arrivals_release(&c);
  }
  wl_size s;
  wl_size_init(&s, &(wl_size_params){.kind = WL_SIZE_LOGNORMAL, .mean = 500, .cv = 1});
  gsl_rng *r1 = sim_rng_alloc(5, "sizes"), *r2 = sim_rng_alloc(5, "sizes");
  int same = 0;
  for (int i = 0; i < 1000; i++) same += wl_size_sample(&s, r1) == wl_size_sample(&s, r2);
  CU_ASSERT_EQUAL(same, 1000);
  gsl_rng_free(r1);
  gsl_rng_free(r2);
  wl_size_release(&s);
}

static void test_arrivals_check(void)
{
  char why[256];
  wl_arrivals_params p = {.kind = WL_ARRIVALS_GAMMA, .rate = spiky_daily(), .gamma_cv = 2};
  CU_ASSERT_PTR_NOT_NULL_FATAL(wl_arrivals_check(&p, why, sizeof why));
  CU_ASSERT_TRUE(strncmp(why, "spikes: gamma arrivals take a constant rate", 43) == 0);
  p.rate = wl_rate_constant(1);
  CU_ASSERT_PTR_NULL(wl_arrivals_check(&p, why, sizeof why));
  p.gamma_cv = 0;
  CU_ASSERT_PTR_NOT_NULL_FATAL(wl_arrivals_check(&p, why, sizeof why));
  CU_ASSERT_TRUE(strncmp(why, "gamma_cv: ", 10) == 0);
  wl_arrivals_params m = {.kind = WL_ARRIVALS_MMPP, .mmpp_sojourn_s = {1, 1}};
  CU_ASSERT_PTR_NOT_NULL_FATAL(wl_arrivals_check(&m, why, sizeof why));
  CU_ASSERT_TRUE(strncmp(why, "mmpp_rate_per_s: both rates are zero", 36) == 0);
  m.mmpp_rate_per_s[1] = 3;
  m.mmpp_sojourn_s[0] = -1;
  CU_ASSERT_PTR_NOT_NULL_FATAL(wl_arrivals_check(&m, why, sizeof why));
  CU_ASSERT_TRUE(strncmp(why, "mmpp_sojourn_s.[0]: ", 20) == 0);
  wl_arrivals_params z = poisson(wl_rate_constant(0));
  CU_ASSERT_PTR_NOT_NULL_FATAL(wl_arrivals_check(&z, why, sizeof why));
  CU_ASSERT_TRUE(strncmp(why, "base_per_s: the rate is zero", 28) == 0);
  z.rate.nsegments = 1;
  z.rate.segments[0] = (wl_segment){50, 1};  /* zero until 50 s, then 1/s: fine */
  CU_ASSERT_PTR_NULL(wl_arrivals_check(&z, why, sizeof why));
  CU_ASSERT_STRING_EQUAL(wl_arrivals_names[WL_ARRIVALS_MMPP], "mmpp");
}

/* ------------------------------------------- steps in the rate -- */

/* Wall-time limits of the step tests: the second in a normal
 * build; the sanitizers slow everything several times (5 s there, still
 * far below the minutes the step took before). */
#if defined(__SANITIZE_ADDRESS__)
#define STEP_WALL_LIMIT_S 5.0
#else
#define STEP_WALL_LIMIT_S 1.0
#endif

static double seconds_since(const struct timespec *t0)
{
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* A base of 20/s and, at 100 s, a step (no ramp) to a million times that
 * for one microsecond: 20 more arrivals on average. */
static wl_rate step_spike(void)
{
  wl_rate r = wl_rate_constant(20);
  r.nspikes = 1;
  r.spikes[0] = (wl_spike){.start_s = 100, .duration_s = 1e-6, .multiplier = 1e6};
  return r;
}

/* The same as segments: 20/s, 2e7/s from 300 s for one microsecond, 20/s. */
static wl_rate step_segment(void)
{
  wl_rate r = wl_rate_constant(20);
  r.nsegments = 3;
  r.segments[0] = (wl_segment){0, 20};
  r.segments[1] = (wl_segment){300, 2e7};
  r.segments[2] = (wl_segment){300.000001, 20};
  return r;
}

/* The supremum over a half-open window excludes the next piece's value;
 * the closed bound includes it; both sides of a jump inside count. */
static void test_rate_sup_steps(void)
{
  wl_rate r = step_spike();
  CU_ASSERT_EQUAL(wl_rate_sup(&r, 0, 100), 20);          /* the window before the step */
  CS_ASSERT_REL(wl_rate_bound(&r, 0, 100), 2e7, 1e-12); /* closed: the step's value at 100 */
  CS_ASSERT_REL(wl_rate_sup(&r, 100, 100 + 1e-6), 2e7, 1e-12);
  CS_ASSERT_REL(wl_rate_sup(&r, 99, 101), 2e7, 1e-12);  /* the step inside */
  CU_ASSERT_EQUAL(wl_rate_sup(&r, 100 + 1e-6, 200), 20);
  /* the plateau's end without a ramp down: the window up to it is the
   * plateau (left side), the one after it the base */
  CS_ASSERT_REL(wl_rate_sup(&r, 100 + 0.5e-6, 100 + 1e-6), 2e7, 1e-12);
  wl_rate s = step_segment();
  CU_ASSERT_EQUAL(wl_rate_sup(&s, 0, 300), 20);
  CS_ASSERT_REL(wl_rate_bound(&s, 0, 300), 2e7, 1e-12);
  CS_ASSERT_REL(wl_rate_sup(&s, 300, 300.000001), 2e7, 1e-12);
  CU_ASSERT_EQUAL(wl_rate_sup(&s, 300.000001, 600), 20);
  CU_ASSERT_EQUAL(wl_rate_sup(&s, 42, 42), 20);          /* empty window: the rate there */
  /* a ramp up to 5x then an instant drop (no plateau, no ramp down): the
   * peak is approached from the left at 110 s; 2 x 5 = 10 */
  wl_rate d = wl_rate_constant(2);
  d.nspikes = 1;
  d.spikes[0] = (wl_spike){.start_s = 100, .ramp_up_s = 10, .multiplier = 5};
  CS_ASSERT_REL(wl_rate_bound(&d, 99, 200), 10, 1e-12);
  CS_ASSERT_REL(wl_rate_sup(&d, 105, 110), 10, 1e-12);
  CU_ASSERT_EQUAL(wl_rate_sup(&d, 110, 120), 2);
  /* never below the rate, on a grid of windows through every kind of step */
  wl_rate all = step_spike();
  all.nspikes = 3;
  all.spikes[1] = d.spikes[0];
  all.spikes[2] = (wl_spike){.start_s = 150, .duration_s = 5, .multiplier = 0.1};  /* a step dip */
  all.nsegments = 2;
  all.segments[0] = (wl_segment){120, 50};
  all.segments[1] = (wl_segment){130, 5};
  int bad = 0;
  for (int a = 0; a < 160; a++)
    for (int w = 1; w <= 20; w++) {
      double t0 = 90 + 0.5 * a, t1 = t0 + 0.5 * w, sup = wl_rate_sup(&all, t0, t1);
      for (int k = 0; k < 40; k++) {
        double t = t0 + (t1 - t0) * k / 40;  /* t < t1: the open end is not sampled */
        if (wl_rate_at(&all, t) > sup * (1 + 1e-12)) bad++;
      }
    }
  CU_ASSERT_EQUAL(bad, 0);
}

/* Thinning a rate with a 10^6x step lasting a microsecond, over 100 seeds
 * of 600 s: the total and the count inside the step match the integral
 * (Poisson: within 4.5 standard deviations), almost every candidate is
 * kept, and all of it takes well under a second (0.13 s here; before the
 * bound was taken per piece, one seed alone drew 2 x 10^9 candidates). */
static void check_step_thinning(const wl_rate *r, double step_s, const char *stream)
{
  enum { SEEDS = 100 };
  const double T = 600, w = 1e-6;
  wl_arrivals_params p = poisson(*r);
  double expect_all = wl_rate_integral(r, 0, T), expect_step = wl_rate_integral(r, step_s, step_s + w);
  /* by hand: 20 x 600 + 20 x (10^6 - 1) x 10^-6 (the step adds 19.99998) */
  CS_ASSERT_REL(expect_all, 12000 + 19.99998, 1e-9);
  CS_ASSERT_REL(expect_step, 20, 1e-6);
  sim_time end = sim_time_from_s(T), lo = sim_time_from_s(step_s), hi = sim_time_from_s(step_s + w);
  uint64_t all = 0, in_step = 0, candidates = 0;
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int seed = 1; seed <= SEEDS; seed++) {
    wl_arrivals a;
    wl_arrivals_init(&a, &p, (uint64_t)seed, stream);
    for (sim_time t = 0; (t = wl_arrivals_next(&a, t)) < end;) {
      all++;
      in_step += t >= lo && t < hi;
    }
    candidates += a.candidates;
    wl_arrivals_release(&a);
  }
  double wall = seconds_since(&t0);
  printf("\n    %s: %llu arrivals (expected %.0f), %llu in the step (expected %.0f), %llu candidates, %.3f s  ",
         stream, (unsigned long long)all, SEEDS * expect_all, (unsigned long long)in_step, SEEDS * expect_step,
         (unsigned long long)candidates, wall);
  CU_ASSERT_TRUE(fabs((double)all - SEEDS * expect_all) < 4.5 * sqrt(SEEDS * expect_all));
  CU_ASSERT_TRUE(fabs((double)in_step - SEEDS * expect_step) < 4.5 * sqrt(SEEDS * expect_step));
  /* a constant rate per piece, each its own bound: every candidate inside
   * a piece is kept; the only ones thrown away fall past the end of the
   * three pieces (before the step, the step, after it: one each, the last
   * past the horizon) */
  CU_ASSERT_TRUE(candidates <= all + 3 * SEEDS);
  CU_ASSERT_TRUE(wall < STEP_WALL_LIMIT_S);
}

static void test_thinning_step_spike(void)
{
  wl_rate r = step_spike();
  check_step_thinning(&r, 100, "step-spike");
}

static void test_thinning_step_segment(void)
{
  wl_rate r = step_segment();
  check_step_thinning(&r, 300, "step-segment");
}

/* A profile without a step (ramped spike, daily cycle, growth) draws the
 * same stream as before thinning took its bound per half-open piece:
 * the 200,000th arrival and the candidates drawn, recorded with the
 * previous code (seed 2024, stream "golden"). */
static void test_thinning_stream_unchanged(void)
{
  wl_rate r = spiky_daily();
  r.growth = (wl_growth){.factor = 1.5};
  wl_arrivals_params p = poisson(r);
  wl_arrivals a;
  wl_arrivals_init(&a, &p, 2024, "golden");
  sim_time t = 0;
  for (int i = 0; i < 200000; i++) t = wl_arrivals_next(&a, t);
  CU_ASSERT_EQUAL(t, 305751303550670LL);
  CU_ASSERT_EQUAL(a.candidates, 204684);
  wl_arrivals_release(&a);
}

/* The two reproductions in tests/badinputs/ run through the program in
 * under a second each (109 s and 305 s before), with as many requests as
 * the rate's integral says: 12,020 in 600 s (Poisson sd 110). */
static void test_step_scenarios(void)
{
  const double limit = STEP_WALL_LIMIT_S;
  static const char *const cases[] = {"spike-step-thinning", "segment-step-thinning"};
  char *dir = cs_tmpdir("step_scenarios");
  for (int i = 0; i < 2; i++) {
    char cfg[512], out[64];
    snprintf(cfg, sizeof cfg, "%s/tests/badinputs/%s.cfg", CS_SOURCE_DIR, cases[i]);
    snprintf(out, sizeof out, "o%d", i);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    result r = run_in(dir, "run", cfg, "-q", "-o", out, (const char *)NULL);
    double wall = seconds_since(&t0);
    printf("\n    %s: %.2f s  ", cases[i], wall);
    CHECK_RC(r, 0);
    CHECK(wall < limit, "%s took %.2f s (limit %.1f s)", cases[i], wall, limit);
    result_free(&r);
    char *o = path_join(dir, out), *path = path_join(o, "summary.json");
    char *json = cs_slurp(path, NULL);
    double n = NAN;
    CHECK(json && json_num(json, "requests_arrived", &n), "%s: no requests_arrived in %s", cases[i], path);
    CHECK(fabs(n - 12020) < 4.5 * sqrt(12020), "%s: %g requests, expected 12,020 +- 490", cases[i], n);
    free(json);
    free(path);
    free(o);
  }
  free(dir);
}

/* ----------------------------------------------------------- sizes -- */

enum { NS = 200000 };

/* NS draws of p: mean and variance; asserts every draw in [lo, hi]. */
static void draw_sizes(const wl_size_params *p, const char *stream, int64_t lo, int64_t hi,
                       double *mean, double *var, int64_t *out)
{
  char why[256];
  CU_ASSERT_PTR_NULL_FATAL(wl_size_check(p, why, sizeof why));
  wl_size s;
  wl_size_init(&s, p);
  gsl_rng *r = sim_rng_alloc(17, stream);
  double sum = 0, sum2 = 0;
  int out_of_range = 0;
  for (int i = 0; i < NS; i++) {
    int64_t x = wl_size_sample(&s, r);
    if (x < lo || x > hi) out_of_range++;
    if (out) out[i] = x;
    sum += (double)x;
    sum2 += (double)x * (double)x;
  }
  CU_ASSERT_EQUAL(out_of_range, 0);
  *mean = sum / NS;
  *var = sum2 / NS - *mean * *mean;
  gsl_rng_free(r);
  wl_size_release(&s);
}

static bool mean_ok(double m, double mu, double var) { return fabs(m - mu) < 4.5 * sqrt(var / NS); }

static void test_sizes_moments(void)
{
  double m, v;
  draw_sizes(&(wl_size_params){.kind = WL_SIZE_FIXED, .value = 7}, "fixed", 7, 7, &m, &v, NULL);
  CU_ASSERT_EQUAL(m, 7);
  draw_sizes(&(wl_size_params){.kind = WL_SIZE_FIXED, .value = 9000, .cap = 4096}, "fixed", 4096,
             4096, &m, &v, NULL);
  /* uniform 10..20: mean 15, variance (11^2 - 1) / 12 = 10 */
  draw_sizes(&(wl_size_params){.kind = WL_SIZE_UNIFORM, .min = 10, .max = 20}, "uniform", 10, 20,
             &m, &v, NULL);
  CU_ASSERT_TRUE(mean_ok(m, 15, 10));
  CS_ASSERT_REL(v, 10, 0.03);
  /* normal 500, 100: rounding adds 1/12 to the variance */
  draw_sizes(&(wl_size_params){.kind = WL_SIZE_NORMAL, .mean = 500, .sd = 100}, "normal", 1,
             INT64_MAX, &m, &v, NULL);
  CU_ASSERT_TRUE(mean_ok(m, 500, 1e4));
  CS_ASSERT_REL(v, 1e4 + 1.0 / 12, 0.03);
  /* lognormal mean 800, cv 1.5: variance 1200^2 */
  draw_sizes(&(wl_size_params){.kind = WL_SIZE_LOGNORMAL, .mean = 800, .cv = 1.5}, "lognormal", 1,
             INT64_MAX, &m, &v, NULL);
  CU_ASSERT_TRUE(mean_ok(m, 800, 1200.0 * 1200));
  /* geometric mean 200: p = 1/200, variance (1 - p) / p^2 = 39800 */
  draw_sizes(&(wl_size_params){.kind = WL_SIZE_GEOMETRIC, .mean = 200}, "geometric", 1, INT64_MAX,
             &m, &v, NULL);
  CU_ASSERT_TRUE(mean_ok(m, 200, 39800));
  CS_ASSERT_REL(v, 39800, 0.05);
  draw_sizes(&(wl_size_params){.kind = WL_SIZE_GEOMETRIC, .mean = 1}, "geometric", 1, 1, &m, &v, NULL);
  /* empirical {1, 5, 9, 100} capped at 50: mean (1 + 5 + 9 + 50) / 4 */
  static const int64_t vals[] = {1, 5, 9, 100};
  int64_t *x = malloc(NS * sizeof *x);
  draw_sizes(&(wl_size_params){.kind = WL_SIZE_EMPIRICAL, .values = vals, .nvalues = 4, .cap = 50},
             "empirical", 1, 50, &m, &v, x);
  double mu = 65.0 / 4, var = (1 + 25 + 81 + 2500) / 4.0 - mu * mu;
  CU_ASSERT_TRUE(mean_ok(m, mu, var));
  int other = 0, n50 = 0;
  for (int i = 0; i < NS; i++) {
    other += x[i] != 1 && x[i] != 5 && x[i] != 9 && x[i] != 50;
    n50 += x[i] == 50;
  }
  CU_ASSERT_EQUAL(other, 0);
  CU_ASSERT_TRUE(fabs(n50 - NS / 4.0) < 4.5 * sqrt(NS * 0.25 * 0.75));
  free(x);
}

/* P(size = k) for a continuous law with CDF F: rounded, redrawn below 0.5. */
static double pmf_rounded(double (*F)(double, double, double), double a, double b, int64_t k)
{
  return (F(k + 0.5, a, b) - F(k - 0.5, a, b)) / (1 - F(0.5, a, b));
}

static double normal_cdf(double x, double mu, double sd) { return gsl_cdf_gaussian_P(x - mu, sd); }

static void test_sizes_truncation(void)
{
  int64_t *x = malloc(NS * sizeof *x);
  double m, v;
  /* normal mean 2, sd 3: a third of the draws fall below 0.5 and are redrawn */
  draw_sizes(&(wl_size_params){.kind = WL_SIZE_NORMAL, .mean = 2, .sd = 3}, "normal-small", 1,
             INT64_MAX, &m, &v, x);
  double mu = 0, m2 = 0;
  for (int k = 1; k < 60; k++) {
    double pk = pmf_rounded(normal_cdf, 2, 3, k);
    mu += k * pk;
    m2 += (double)k * k * pk;
  }
  CU_ASSERT_TRUE(mean_ok(m, mu, m2 - mu * mu));
  int n1 = 0;
  for (int i = 0; i < NS; i++) n1 += x[i] == 1;
  double p1 = pmf_rounded(normal_cdf, 2, 3, 1);
  CU_ASSERT_TRUE(fabs(n1 - NS * p1) < 4.5 * sqrt(NS * p1 * (1 - p1)));
  /* lognormal mean 3, cv 2: frequencies of 1, 2, 3 against GSL's CDF */
  double s2 = log1p(4.0), sig = sqrt(s2), lmu = log(3.0) - s2 / 2;
  draw_sizes(&(wl_size_params){.kind = WL_SIZE_LOGNORMAL, .mean = 3, .cv = 2}, "lognormal-small", 1,
             INT64_MAX, &m, &v, x);
  for (int k = 1; k <= 3; k++) {
    int nk = 0;
    for (int i = 0; i < NS; i++) nk += x[i] == k;
    double pk = pmf_rounded(gsl_cdf_lognormal_P, lmu, sig, k);
    CU_ASSERT_TRUE(fabs(nk - NS * pk) < 4.5 * sqrt(NS * pk * (1 - pk)));
  }
  /* lognormal mean 1000, cv 2, capped at 4096: the share at the cap is
   * P(X >= 4095.5) / P(X >= 0.5) */
  s2 = log1p(4.0);
  sig = sqrt(s2);
  lmu = log(1000.0) - s2 / 2;
  draw_sizes(&(wl_size_params){.kind = WL_SIZE_LOGNORMAL, .mean = 1000, .cv = 2, .cap = 4096},
             "lognormal-cap", 1, 4096, &m, &v, x);
  int ncap = 0;
  for (int i = 0; i < NS; i++) ncap += x[i] == 4096;
  double pc = gsl_cdf_lognormal_Q(4095.5, lmu, sig) / gsl_cdf_lognormal_Q(0.5, lmu, sig);
  CU_ASSERT_TRUE(fabs(ncap - NS * pc) < 4.5 * sqrt(NS * pc * (1 - pc)));
  free(x);
}

static void test_sizes_check(void)
{
  char why[256];
  CU_ASSERT_PTR_NOT_NULL(wl_size_check(&(wl_size_params){.kind = WL_SIZE_FIXED, .value = 0}, why, sizeof why));
  CU_ASSERT_PTR_NOT_NULL(wl_size_check(&(wl_size_params){.kind = WL_SIZE_UNIFORM, .min = 5, .max = 4}, why, sizeof why));
  CU_ASSERT_PTR_NOT_NULL(wl_size_check(&(wl_size_params){.kind = WL_SIZE_NORMAL, .mean = 0.5, .sd = 1}, why, sizeof why));
  CU_ASSERT_PTR_NOT_NULL(wl_size_check(&(wl_size_params){.kind = WL_SIZE_LOGNORMAL, .mean = 10}, why, sizeof why));
  CU_ASSERT_PTR_NOT_NULL(wl_size_check(&(wl_size_params){.kind = WL_SIZE_GEOMETRIC, .mean = 0.9}, why, sizeof why));
  CU_ASSERT_PTR_NOT_NULL(wl_size_check(&(wl_size_params){.kind = WL_SIZE_EMPIRICAL}, why, sizeof why));
  static const int64_t bad[] = {3, 0, 2};
  CU_ASSERT_PTR_NOT_NULL_FATAL(wl_size_check(&(wl_size_params){.kind = WL_SIZE_EMPIRICAL, .values = bad, .nvalues = 3}, why, sizeof why));
  CU_ASSERT_TRUE(strncmp(why, "values.[1]: 0 ", 14) == 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(wl_size_check(&(wl_size_params){.kind = WL_SIZE_FIXED, .value = 1, .cap = -1}, why, sizeof why));
  CU_ASSERT_TRUE(strncmp(why, "cap: ", 5) == 0);
  CU_ASSERT_STRING_EQUAL(wl_size_names[WL_SIZE_GEOMETRIC], "geometric");
}

/* ----------------------------------------------------------- trace -- */

static const sim_trace_column azure_cols[] = {{"ContextTokens", 1}, {"GeneratedTokens", 0}};

/* The Azure trace: shipped under scenarios/traces/ or still in ../shared. */
static const char *azure_path(void)
{
  static const char *const paths[] = {
    CS_SOURCE_DIR "/scenarios/traces/azure_llm_conv_2023.csv",
    CS_SOURCE_DIR "/../shared/traces/azure_llm_conv_2023.csv",
  };
  for (int i = 0; i < 2; i++) {
    FILE *f = fopen(paths[i], "r");
    if (f) {
      fclose(f);
      return paths[i];
    }
  }
  return paths[0];
}

static void test_trace_azure(void)
{
  const char *path = azure_path();
  /* independently: every row's time of day in 100 ns units (one date,
   * 7-digit fractions), and the column sums */
  FILE *f = fopen(path, "r");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  char hdr[128];
  CU_ASSERT_FATAL(fscanf(f, "%127s", hdr) == 1);
  CU_ASSERT_STRING_EQUAL(hdr, "TIMESTAMP,ContextTokens,GeneratedTokens");
  int y, mo, d, h, mi, se;
  long frac, c, g;
  long long sum_c = 0, sum_g = 0;
  size_t n = 0, cap = 32768;
  int64_t *tod = malloc(cap * sizeof *tod);
  while (fscanf(f, " %d-%d-%d %d:%d:%d.%ld,%ld,%ld", &y, &mo, &d, &h, &mi, &se, &frac, &c, &g) == 9) {
    CU_ASSERT_FATAL(n < cap && y == 2023 && mo == 11 && d == 16);
    tod[n++] = ((int64_t)(h * 60 + mi) * 60 + se) * 10000000 + frac;
    sum_c += c;
    sum_g += g;
  }
  CU_ASSERT_TRUE(feof(f));
  fclose(f);

  cfg_errors errs;
  cfg_errors_init(&errs, NULL);
  sim_trace tr;
  bool ok = cfg_trace_read(&tr, path, "TIMESTAMP", azure_cols, 2, &errs);
  for (size_t i = 0; i < errs.len; i++) printf("\n    %s", errs.msgs[i]);
  CU_ASSERT_TRUE_FATAL(ok);
  CU_ASSERT_EQUAL(errs.len, 0);
  /* the file's README says 19,365 requests; it holds 19,366 data rows */
  CU_ASSERT_EQUAL(tr.rows, n);
  CU_ASSERT_EQUAL(tr.rows, 19366);
  CU_ASSERT_TRUE(tr.datetime);
  /* 2023-11-16 18:15:46.6805900 UTC: 1700092800 (that midnight) + 65746 s */
  CU_ASSERT_EQUAL(tr.start_s, INT64_C(1700158546));
  CU_ASSERT_EQUAL(tr.start_ns, 680590000);
  CU_ASSERT_EQUAL(tr.time_ns[0], 0);
  /* 18:15:46.6805900 -> 18:15:50.9951690: 4.314579 s */
  CU_ASSERT_EQUAL(tr.time_ns[1], INT64_C(4314579000));
  /* -> 19:14:08.4025270: 3502 s - (0.6805900 - 0.4025270) s = 3501.721937 s */
  CU_ASSERT_EQUAL(sim_trace_duration(&tr), INT64_C(3501721937000));
  size_t mismatch = 0;
  long long tc = 0, tg = 0;
  for (size_t i = 0; i < tr.rows && i < n; i++) {
    mismatch += tr.time_ns[i] != (tod[i] - tod[0]) * 100;
    tc += tr.values[0][i];
    tg += tr.values[1][i];
  }
  CU_ASSERT_EQUAL(mismatch, 0);
  CU_ASSERT_EQUAL(tc, sum_c);
  CU_ASSERT_EQUAL(tg, sum_g);

  /* time scale 4 divides every gap by 4, exactly (gaps are multiples of
   * 100 ns); 0.5 doubles them; 3 rounds each time to the ns; the offset
   * moves the start */
  const sim_time off = INT64_C(5000000000);
  size_t bad4 = 0, bad05 = 0, bad3 = 0;
  for (size_t i = 1; i < tr.rows; i++) {
    sim_time gap = tr.time_ns[i] - tr.time_ns[i - 1];
    bad4 += 4 * (sim_trace_time(&tr, i, 4, off) - sim_trace_time(&tr, i - 1, 4, off)) != gap;
    bad05 += sim_trace_time(&tr, i, 0.5, 0) - sim_trace_time(&tr, i - 1, 0.5, 0) != 2 * gap;
    sim_time g3 = sim_trace_time(&tr, i, 3, 0) - sim_trace_time(&tr, i - 1, 3, 0);
    bad3 += llabs(3 * g3 - gap) > 3;
  }
  CU_ASSERT_EQUAL(bad4, 0);
  CU_ASSERT_EQUAL(bad05, 0);
  CU_ASSERT_EQUAL(bad3, 0);
  CU_ASSERT_EQUAL(sim_trace_time(&tr, 0, 4, off), off);
  CU_ASSERT_EQUAL(sim_trace_time(&tr, 1, 4, off), off + INT64_C(1078644750));
  CU_ASSERT_EQUAL(sim_trace_time(&tr, tr.rows - 1, 4, 0), INT64_C(875430484250));
  free(tod);
  sim_trace_release(&tr);
  cfg_errors_release(&errs);
}

static char *tmp_dir;

/* Write `text` to a fresh file in the test directory; returns its path. */
static char *write_file(const char *name, const char *text)
{
  if (!tmp_dir) tmp_dir = cs_tmpdir("workload");
  size_t n = strlen(tmp_dir) + strlen(name) + 2;
  char *p = malloc(n);
  snprintf(p, n, "%s/%s", tmp_dir, name);
  FILE *f = fopen(p, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs(text, f);
  fclose(f);
  return p;
}

static void test_trace_seconds(void)
{
  /* plain seconds, quoted header with a byte-order mark, blanks, no final newline */
  char *p = write_file("secs.csv", "\xEF\xBB\xBF\"time\", prompt ,output\n"
                                   "0.5,10,20\n1.25,11,21\n\n1.25,12,22\r\n3,1,0\n"
                                   "3.000000001,2,2");
  static const sim_trace_column cols[] = {{"output", 0}, {"prompt", 1}};
  cfg_errors errs;
  cfg_errors_init(&errs, NULL);
  sim_trace tr;
  CU_ASSERT_TRUE_FATAL(cfg_trace_read(&tr, p, "time", cols, 2, &errs));
  CU_ASSERT_FALSE(tr.datetime);
  CU_ASSERT_EQUAL_FATAL(tr.rows, 5);
  static const sim_time want[] = {0, 750000000, 750000000, 2500000000, 2500000001};
  static const int64_t out[] = {20, 21, 22, 0, 2}, prompt[] = {10, 11, 12, 1, 2};
  for (int i = 0; i < 5; i++) {
    CU_ASSERT_EQUAL(tr.time_ns[i], want[i]);
    CU_ASSERT_EQUAL(tr.values[0][i], out[i]);
    CU_ASSERT_EQUAL(tr.values[1][i], prompt[i]);
  }
  CU_ASSERT_EQUAL(tr.start_s, 0);
  CU_ASSERT_EQUAL(tr.start_ns, 500000000);
  sim_trace_release(&tr);
  cfg_errors_release(&errs);
  free(p);
}

/* Read `text` as a trace with the Azure columns; expect exactly the
 * messages `want` (NULL-terminated), each "<path>" followed by its text. */
static void expect_errors(const char *name, const char *text, const char *const *want)
{
  char *p = text ? write_file(name, text) : strdup(name);
  cfg_errors errs;
  cfg_errors_init(&errs, NULL);
  sim_trace tr;
  CU_ASSERT_FALSE(cfg_trace_read(&tr, p, "TIMESTAMP", azure_cols, 2, &errs));
  CU_ASSERT_EQUAL(tr.rows, 0);
  CU_ASSERT_PTR_NULL(tr.time_ns);
  size_t nwant = 0;
  while (want[nwant]) nwant++;
  CU_ASSERT_EQUAL(errs.len, nwant);
  for (size_t i = 0; i < nwant && i < errs.len; i++) {
    size_t pl = strlen(p);
    bool ok = strncmp(errs.msgs[i], p, pl) == 0 &&
              strncmp(errs.msgs[i] + pl, want[i], strlen(want[i])) == 0;
    if (!ok) printf("\n    got  %s\n    want %s%s  ", errs.msgs[i], p, want[i]);
    CU_ASSERT_TRUE(ok);
  }
  sim_trace_release(&tr);
  cfg_errors_release(&errs);
  free(p);
}

#define HDR "TIMESTAMP,ContextTokens,GeneratedTokens\n"
#define ROW(t) "2023-11-16 18:15:" t ",374,44\n"

static void test_trace_errors(void)
{
  expect_errors("missing.csv", "TIMESTAMP,ContextTokens\r\n" "2023-11-16 18:15:46.68,374\r\n",
                (const char *const[]){":1: GeneratedTokens: no such column (the header names: "
                                      "TIMESTAMP, ContextTokens)", NULL});
  expect_errors("badnum.csv", HDR ROW("46.1") ROW("47.2") "2023-11-16 18:15:48.0,12x,5\n" ROW("49"),
                (const char *const[]){":4: ContextTokens: '12x' is not an integer", NULL});
  expect_errors("backwards.csv", HDR ROW("46.1") ROW("47.2") ROW("48") ROW("47.9999999") ROW("50"),
                (const char *const[]){":5: TIMESTAMP: time goes back: '2023-11-16 18:15:47.9999999' "
                                      "is before '2023-11-16 18:15:48' on line 4", NULL});
  expect_errors("empty.csv", "", (const char *const[]){":1: empty file", NULL});
  expect_errors("header-only.csv", HDR, (const char *const[]){":2: no rows after the header", NULL});
  expect_errors(CS_TEST_TMP "/no/such/trace.csv", NULL,
                (const char *const[]){": cannot open: No such file or directory", NULL});
  /* several problems in one file, all reported, in line order */
  expect_errors("several.csv",
                HDR ROW("46.1") "2023-13-16 18:15:47,1,1\n" "2023-11-16 18:15:48,1\n"
                "2023-11-16 18:15:49.0123456789,1,1\n" "2023-11-16 18:15:50,0,1\n"
                "2023-11-16 18:15:51,1,-1\n" "18:15:52,1,1",
                (const char *const[]){
                  ":3: TIMESTAMP: '2023-13-16 18:15:47' is not a time: month out of range",
                  ":4: the row has 2 fields (expected 3, as in the header)",
                  ":5: TIMESTAMP: '2023-11-16 18:15:49.0123456789' is not a time: more than 9 fractional digits",
                  ":6: ContextTokens: 0 is below the minimum 1",
                  ":7: GeneratedTokens: -1 is below the minimum 0",
                  ":8: TIMESTAMP: '18:15:52' is not a time: not a date-time",
                  NULL});
  /* 30 bad rows: 20 reported, then the reader stops */
  char big[4096] = HDR;
  for (int i = 0; i < 30; i++) strcat(big, "2023-11-16 18:15:46,x,1\n");
  const char *want[22];
  char lines[20][64];
  for (int i = 0; i < 20; i++) {
    snprintf(lines[i], sizeof lines[i], ":%d: ContextTokens: 'x' is not an integer", i + 2);
    want[i] = lines[i];
  }
  want[20] = ": stopped reading after 20 errors";
  want[21] = NULL;
  expect_errors("many.csv", big, want);
}


/* RFC 4180: quoted fields with commas, doubled quotes and line breaks,
 * CRLF; the line of a later row still counts the lines inside quotes. */
static void test_trace_rfc4180(void)
{
  char *p = write_file("quoted.csv",
                       "\"TIMESTAMP\",\"note, with comma\",ContextTokens,GeneratedTokens\r\n"
                       "\"2023-11-16 18:15:46.5\",\"say \"\"hi\"\", then go\",374,44\r\n"
                       "2023-11-16 18:15:47,\"two\r\nlines\",\"10\",\"20\"\r\n"
                       "2023-11-16 18:15:48, plain ,11,21\r\n");
  cfg_errors errs;
  cfg_errors_init(&errs, NULL);
  sim_trace tr;
  CU_ASSERT_TRUE_FATAL(cfg_trace_read(&tr, p, "TIMESTAMP", azure_cols, 2, &errs));
  CU_ASSERT_EQUAL_FATAL(tr.rows, 3);
  CU_ASSERT_EQUAL(tr.values[0][0], 374);
  CU_ASSERT_EQUAL(tr.values[1][0], 44);
  CU_ASSERT_EQUAL(tr.values[0][1], 10);
  CU_ASSERT_EQUAL(tr.values[1][2], 21);
  /* 46.5 -> 47 -> 48 */
  CU_ASSERT_EQUAL(tr.time_ns[1], 500000000);
  CU_ASSERT_EQUAL(tr.time_ns[2], 1500000000);
  sim_trace_release(&tr);
  cfg_errors_release(&errs);
  free(p);
  /* after a two-line quoted field, row 3 of the file is on line 5 */
  expect_errors("quoted-bad.csv",
                "TIMESTAMP,note,ContextTokens,GeneratedTokens\n"
                "2023-11-16 18:15:46,\"a\nb\",1,1\n"
                "2023-11-16 18:15:47,\"x,y\",2,2\n"
                "2023-11-16 18:15:48,z,3x,3\n",
                (const char *const[]){":5: ContextTokens: '3x' is not an integer", NULL});
  /* a stray quote inside an unquoted field, an unclosed quote */
  expect_errors("stray.csv", HDR ROW("46") "2023-11-16 18:15:47,1\"2,3\n",
                (const char *const[]){":3: malformed quotes (expected RFC 4180 CSV", NULL});
  expect_errors("unclosed.csv", HDR ROW("46") "2023-11-16 18:15:47,\"12,3\n",
                (const char *const[]){":3: a quoted field is not closed at the end of the file", NULL});
}

/* A file that is not a trace is refused at its first bad line, and no
 * message quotes more than a short prefix of what the file holds. */
static void test_trace_disclosure(void)
{
  /* a one-field first line is no CSV header: nothing of it is quoted */
  expect_errors("passwd.csv", "root:x:0:0:root:/root:/bin/bash\nbin:x:1:1:bin:/bin:/sbin/nologin\n",
                (const char *const[]){":1: the first line is not a CSV header (expected the column names, TIMESTAMP "
                                      "and the others, separated by commas)", NULL});
  /* the header names match (the user named them) but the first row is no
   * time: refused there, the row not quoted */
  static const sim_trace_column same[] = {{"API_KEYS", 0}, {"OTHER", 0}};
  char *p = write_file("keys.csv", "API_KEYS,OTHER\nsk-live-1234567890abcdef,x\ndb_password=hunter2,y\n");
  cfg_errors errs;
  cfg_errors_init(&errs, NULL);
  sim_trace tr;
  CU_ASSERT_FALSE(cfg_trace_read(&tr, p, "API_KEYS", same, 2, &errs));
  CU_ASSERT_EQUAL_FATAL(errs.len, 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(errs.msgs[0], ":2: API_KEYS: the first row's time is not a time: not a number of "
                                              "seconds (expected YYYY-MM-DD HH:MM:SS[.fffffffff] or seconds); not a "
                                              "trace, stopped reading"));
  CU_ASSERT_PTR_NULL(strstr(errs.msgs[0], "sk-live"));
  cfg_errors_release(&errs);
  free(p);
  /* a long header and long values are cut to 40 characters, escaped */
  char text[4096] = "TIMESTAMP,";
  for (int i = 0; i < 30; i++) strcat(text, "abcdefghij");
  strcat(text, "\n2023-11-16 18:15:46,1\n");
  expect_errors("longhdr.csv", text,
                (const char *const[]){":1: ContextTokens: no such column (the header names: TIMESTAMP, "
                                      "abcdefghijabcdefghijabcdefghi...)",
                                      ":1: GeneratedTokens: no such column", NULL});
  snprintf(text, sizeof text, HDR ROW("46") "2023-11-16 18:15:47,%s\x01,1\n",
           "0123456789012345678901234567890123456789tail-that-is-not-shown");
  expect_errors("longval.csv", text,
                (const char *const[]){":3: ContextTokens: '0123456789012345678901234567890123456789...' is not an "
                                      "integer", NULL});
  snprintf(text, sizeof text, HDR ROW("46") "2023-11-16 18:15:47,\x01\x7f,1\n");
  expect_errors("ctrl.csv", text, (const char *const[]){":3: ContextTokens: '\\x01\\x7F' is not an integer", NULL});
}

int main(int argc, char **argv)
{
  static const cs_test tests[] = {
    {"rate: integrals by hand", test_rate_integral_known},
    {"rate: integral against quadrature", test_rate_integral_quadrature},
    {"rate: bound", test_rate_bound},
    {"rate: checks", test_rate_check},
    {"thinning: counts vs integral (chi-square)", test_thinning_chi_square},
    {"thinning: spike plateau / before", test_spike_ratio},
    {"thinning: growth week 2 / week 1", test_growth_ratio},
    {"thinning: zero rate", test_zero_rate},
    {"rate: supremum of a half-open piece at steps", test_rate_sup_steps},
    {"thinning: 10^6x step spike for 1 us", test_thinning_step_spike},
    {"thinning: 10^6x step segment for 1 us", test_thinning_step_segment},
    {"thinning: streams without steps unchanged", test_thinning_stream_unchanged},
    {"thinning: step reproductions run in < 1 s", test_step_scenarios},
    {"gamma renewal: cv 0.5", test_gamma_cv_half},
    {"gamma renewal: cv 3", test_gamma_cv_three},
    {"gamma renewal: stationary start", test_gamma_stationary_start},
    {"mmpp: rate and dispersion", test_mmpp},
    {"mmpp: stationary start", test_mmpp_stationary_start},
    {"reproducible streams", test_reproducible},
    {"arrivals: checks", test_arrivals_check},
    {"sizes: moments and caps", test_sizes_moments},
    {"sizes: rounding and redrawing", test_sizes_truncation},
    {"sizes: checks", test_sizes_check},
    {"trace: Azure conversation trace", test_trace_azure},
    {"trace: plain seconds", test_trace_seconds},
    {"trace: bad traces", test_trace_errors},
    {"trace: RFC 4180 quoting", test_trace_rfc4180},
    {"trace: no disclosure", test_trace_disclosure},
    {NULL, NULL},
  };
  int rc = cs_run_suite_filtered("workload", tests, argc, argv);
  free(tmp_dir);
  return rc;
}
