/* sim/stats.h: output statistics in bounded memory, independent of the
 * engine (they take times and values, never an engine).
 *
 *  - sim_quantiles: percentiles of non-negative samples. Exact (GSL on the
 *    stored, sorted samples, linear interpolation as in
 *    gsl_stats_quantile_from_sorted_data) while at most `exact_max` samples
 *    have been added; past that, a log-linear histogram (256 sub-buckets per
 *    octave), interpolated within the bucket, whose answer lies within
 *    SIM_QUANTILE_REL_ERR (1/256, 0.39%) of the sample of rank ceil(p*n)
 *    (nearest-rank definition), and within [min, max] of the samples.
 *    Memory: exact_max doubles plus a fixed histogram of about 210 KB,
 *    whatever the number of samples.
 *  - sim_batchmeans: the sample-mean confidence interval by the method of
 *    batch means, for autocorrelated output (waits of successive customers).
 *    Between SIM_BATCHMEANS_MIN and 2*SIM_BATCHMEANS_MIN full batches of
 *    equal size are kept: when the table fills, neighbours are merged and
 *    the batch size doubles. O(1) memory.
 *  - sim_tally: per-observation statistics: count, mean and variance
 *    (Welford's numerically stable update), min, max, plus the two above.
 *  - sim_timeavg: a time-weighted average of a piecewise-constant quantity
 *    (queue length, busy servers), with its maximum. */
#ifndef SIM_STATS_H
#define SIM_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/time.h"

/* ---- percentiles ---- */

#define SIM_QUANTILE_REL_ERR (1.0 / 256.0)
#define SIM_QUANTILE_EXACT_DEFAULT 100000

typedef struct {
  uint64_t n;          /* samples added */
  size_t exact_max;    /* exact mode while n <= exact_max */
  double *exact;       /* exact_max samples (owned); NULL once exceeded */
  bool sorted;         /* exact[0..n) is sorted */
  uint64_t zeros;      /* samples below the histogram's smallest bucket */
  uint64_t *buckets;   /* log-linear histogram (owned) */
  double min;          /* smallest sample (INFINITY when empty) */
  double max;          /* largest sample, reported for p = 1 */
} sim_quantiles;

/* Set up q (storage owned by the caller, arrays by q) to keep up to
 * exact_max samples exactly (0: histogram only). Release with
 * sim_quantiles_release. */
void sim_quantiles_init(sim_quantiles *q, size_t exact_max);
void sim_quantiles_release(sim_quantiles *q);
/* Forget every sample; keeps the storage. */
void sim_quantiles_reset(sim_quantiles *q);
/* Add a sample x >= 0 (finite); a negative or NaN sample is a SIM_BUG. */
void sim_quantiles_add(sim_quantiles *q, double x);
/* The p-quantile, 0 <= p <= 1; NaN when empty. Not const: sorts the
 * stored samples on first use after an add. */
double sim_quantiles_get(sim_quantiles *q, double p);
/* True while answers are exact. */
bool sim_quantiles_exact(const sim_quantiles *q);

/* ---- batch means ---- */

#define SIM_BATCHMEANS_MIN 32

typedef struct {
  uint64_t batch_size;            /* observations per full batch */
  uint64_t in_current;            /* observations in the open batch */
  double current_sum;
  size_t full;                    /* full batches in sums[] */
  double sums[2 * SIM_BATCHMEANS_MIN];
} sim_batchmeans;

/* Start empty, batch size 1 (b is plain storage: nothing to release). */
void sim_batchmeans_init(sim_batchmeans *b);
/* Add one observation to the open batch; O(1), no allocation. */
void sim_batchmeans_add(sim_batchmeans *b, double x);
/* Half-width of the two-sided `level` (e.g. 0.99) confidence interval for
 * the mean from the full batches (Student t with batches-1 degrees of
 * freedom, gsl_cdf_tdist_Pinv). NaN with fewer than SIM_BATCHMEANS_MIN
 * full batches. `mean_out` (may be NULL) gets the mean of the full batches,
 * the interval's centre. */
double sim_batchmeans_ci(const sim_batchmeans *b, double level, double *mean_out);
/* Number of full batches. */
size_t sim_batchmeans_batches(const sim_batchmeans *b);

/* ---- tally ---- */

typedef struct {
  uint64_t n;
  double mean, m2;   /* Welford */
  double min, max;
  sim_batchmeans bm;
  sim_quantiles q;
} sim_tally;

/* exact_max as for sim_quantiles_init. */
void sim_tally_init(sim_tally *t, size_t exact_max);
void sim_tally_release(sim_tally *t);
/* Forget every observation (end of warm-up); keeps the storage. */
void sim_tally_reset(sim_tally *t);
/* Add an observation x >= 0, finite (it feeds the quantiles: anything else
 * is a SIM_BUG). */
void sim_tally_add(sim_tally *t, double x);
uint64_t sim_tally_count(const sim_tally *t);
double sim_tally_mean(const sim_tally *t);      /* NaN when empty */
double sim_tally_variance(const sim_tally *t);  /* sample variance (n-1); NaN if n < 2 */
double sim_tally_min(const sim_tally *t);       /* NaN when empty */
double sim_tally_max(const sim_tally *t);       /* NaN when empty */
/* As sim_quantiles_get on the observations. */
double sim_tally_quantile(sim_tally *t, double p);
/* Batch-means CI half-width for the mean at `level`; NaN if too few samples. */
double sim_tally_ci(const sim_tally *t, double level);

/* ---- time-weighted average ---- */

typedef struct {
  sim_time start;     /* integration started here */
  sim_time last;      /* time of the last change */
  double value;       /* current value */
  double area;        /* integral of value dt over [start, last], in value*ns */
  double max;
} sim_timeavg;

/* Start at time t0 with value v0. */
void sim_timeavg_init(sim_timeavg *a, sim_time t0, double v0);
/* The value changes to v at time t (t >= last change). */
void sim_timeavg_set(sim_timeavg *a, sim_time t, double v);
/* Restart integration at t, keeping the current value (end of warm-up). */
void sim_timeavg_reset(sim_timeavg *a, sim_time t);
/* Time average over [start, t]; the current value if t == start. */
double sim_timeavg_mean(const sim_timeavg *a, sim_time t);
/* Largest value held since init or the last reset. */
double sim_timeavg_max(const sim_timeavg *a);

#endif
