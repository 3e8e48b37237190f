/* sim/stats_quantile.c: sim_quantiles, percentiles of non-negative samples
 * in bounded memory (see stats.h). Owns the exact-sample buffer and the
 * log-linear histogram; every sample goes into both while the buffer lasts,
 * so leaving exact mode costs nothing but freeing the buffer.
 *
 * Histogram: x > 0 is m * 2^e with m in [0.5, 1) (frexp). Octave e, for e in
 * [HIST_EMIN, HIST_EMAX], holds 256 equal sub-buckets; sub-bucket k covers
 * [(0.5 + k/512) 2^e, (0.5 + (k+1)/512) 2^e), of width w = 2^e/512. The
 * sample of rank r is placed by linear interpolation inside its bucket, as
 * if the bucket's c samples were spread evenly over it (the j-th of them at
 * lo + w (j - 1/2) / c), and kept within the smallest and largest sample
 * seen. Both that answer and the true sample lie in one bucket, so they
 * differ by less than w <= x/256 = SIM_QUANTILE_REL_ERR * x; on smooth data
 * the error is far smaller (a fraction of w), and answers are no longer
 * bucket midpoints (which, between 256 and 1024, were round integers).
 * Samples below 2^(HIST_EMIN-1) (~4.5e-13) count as zeros and are reported
 * as 0; samples of 2^HIST_EMAX (~1.8e19) or more go into the last bucket,
 * beyond the error bound (only the maximum stays exact). */
#include "sim/stats.h"

#include <float.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/util.h"

#define HIST_EMIN (-40)
#define HIST_EMAX 64
#define HIST_SUB 256
#define HIST_OCTAVES (HIST_EMAX - HIST_EMIN + 1)
#define HIST_BUCKETS (HIST_OCTAVES * HIST_SUB)
_Static_assert(DBL_MANT_DIG == 53 && DBL_MAX_EXP == 1024,
               "sim_quantiles_add reads IEEE binary64 bits");
/* 2^(HIST_EMIN-1): the lower edge of the first bucket. */
#define HIST_LOW 0x1p-41

static double *exact_alloc(size_t exact_max)
{
  if (exact_max == 0) return NULL;
  if (exact_max > SIZE_MAX / sizeof(double))
    SIM_BUG("sim_quantiles: exact_max %zu too large", exact_max);
  return xmalloc(exact_max * sizeof(double));
}

void sim_quantiles_init(sim_quantiles *q, size_t exact_max)
{
  q->exact_max = exact_max;
  q->exact = exact_alloc(exact_max);
  q->buckets = xcalloc(HIST_BUCKETS, sizeof q->buckets[0]);
  q->n = 0;
  q->sorted = true;
  q->zeros = 0;
  q->min = INFINITY;
  q->max = 0.0;
}

void sim_quantiles_release(sim_quantiles *q)
{
  free(q->exact);
  free(q->buckets);
  q->exact = NULL;
  q->buckets = NULL;
}

void sim_quantiles_reset(sim_quantiles *q)
{
  if (!q->exact) q->exact = exact_alloc(q->exact_max);
  memset(q->buckets, 0, HIST_BUCKETS * sizeof q->buckets[0]);
  q->n = 0;
  q->sorted = true;
  q->zeros = 0;
  q->min = INFINITY;
  q->max = 0.0;
}

void sim_quantiles_add(sim_quantiles *q, double x)
{
  if (!(x >= 0.0 && x <= DBL_MAX))
    SIM_BUG("sim_quantiles_add: sample %g is not a finite non-negative number", x);
  q->n++;
  if (x > q->max) q->max = x;
  if (x < q->min) q->min = x;
  if (q->exact) {
    if (q->n <= q->exact_max) {
      q->exact[q->n - 1] = x;
      q->sorted = false;
    } else {
      free(q->exact);
      q->exact = NULL;
    }
  }
  if (x < HIST_LOW) {
    q->zeros++;
    return;
  }
  /* frexp without the call: x >= HIST_LOW is normal, x = 1.f * 2^(E-1023)
   * = (0.5 + f/2) * 2^(E-1022) with E the biased exponent field and f the
   * 52-bit fraction, so e = E - 1022 and k = (int)((m - 0.5) * 512) =
   * floor(f * 256), the top 8 bits of f. bits >> 44 is thus E*256 + k. */
  uint64_t bits;
  memcpy(&bits, &x, sizeof bits);
  uint64_t i = (bits >> 44) - (uint64_t)(1022 + HIST_EMIN) * HIST_SUB;
  if (i >= HIST_BUCKETS) i = HIST_BUCKETS - 1;
  q->buckets[i]++;
}

/* The nearest rank ceil(p*n) in [1, n]. p*n is nudged down by a few ulps so
 * that a product meant to be an integer (0.07 * 100 = 7.000000000000001)
 * is not pushed to the next rank by rounding. */
static uint64_t nearest_rank(double p, uint64_t n)
{
  double pn = p * (double)n;
  double r = ceil(pn - pn * 4.0 * DBL_EPSILON);
  if (r < 1.0) return 1;
  if (r >= (double)n) return n;
  return (uint64_t)r;
}

/* Bucket i covers [lo, lo + *width). */
static double bucket_low(size_t i, double *width)
{
  int e = (int)(i / HIST_SUB) + HIST_EMIN;
  double k = (double)(i % HIST_SUB);
  *width = ldexp(1.0 / (2.0 * HIST_SUB), e);
  return ldexp(0.5 + k / (2.0 * HIST_SUB), e);
}

double sim_quantiles_get(sim_quantiles *q, double p)
{
  if (!(p >= 0.0 && p <= 1.0)) SIM_BUG("sim_quantiles_get: p = %g outside [0, 1]", p);
  if (q->n == 0) return NAN;
  if (q->exact) {
    if (!q->sorted) {
      gsl_sort(q->exact, 1, (size_t)q->n);
      q->sorted = true;
    }
    return gsl_stats_quantile_from_sorted_data(q->exact, 1, (size_t)q->n, p);
  }
  if (p == 1.0) return q->max;
  uint64_t rank = nearest_rank(p, q->n);
  uint64_t seen = q->zeros;
  if (rank <= seen) return 0.0;
  /* the smallest and largest samples are known exactly */
  if (rank == 1) return q->min;
  if (rank == q->n) return q->max;
  for (size_t i = 0; i < HIST_BUCKETS; i++) {
    uint64_t c = q->buckets[i];
    if (seen + c >= rank) {
      /* the (rank - seen)-th of the bucket's c samples, spread evenly; the
       * sample lies in [min, max], so clamping there never adds error */
      double w, lo = bucket_low(i, &w);
      double x = lo + w * ((double)(rank - seen) - 0.5) / (double)c;
      if (x > q->max) x = q->max;
      if (x < q->min) x = q->min;
      return x;
    }
    seen += c;
  }
  SIM_BUG("sim_quantiles: histogram holds %llu samples, n = %llu",
          (unsigned long long)seen, (unsigned long long)q->n);
}

bool sim_quantiles_exact(const sim_quantiles *q)
{
  return q->exact != NULL;
}
