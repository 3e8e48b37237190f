/* sim/stats_batchmeans.c: sim_batchmeans, the confidence interval for a
 * mean of autocorrelated observations by the method of batch means (see
 * stats.h). Owns only its fixed table of batch sums: a full table of
 * 2*SIM_BATCHMEANS_MIN batches is folded in half (neighbours merged, batch
 * size doubled), so memory is O(1) and every observation stays in exactly
 * one batch (full or open). */
#include "sim/stats.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>

#include "sim/util.h"

#define BM_CAP (2 * SIM_BATCHMEANS_MIN)

void sim_batchmeans_init(sim_batchmeans *b)
{
  b->batch_size = 1;
  b->in_current = 0;
  b->current_sum = 0.0;
  b->full = 0;
}

void sim_batchmeans_add(sim_batchmeans *b, double x)
{
  b->current_sum += x;
  if (++b->in_current < b->batch_size) return;
  b->sums[b->full++] = b->current_sum;
  b->current_sum = 0.0;
  b->in_current = 0;
  if (b->full < BM_CAP) return;
  for (size_t i = 0; i < SIM_BATCHMEANS_MIN; i++)
    b->sums[i] = b->sums[2 * i] + b->sums[2 * i + 1];
  b->full = SIM_BATCHMEANS_MIN;
  b->batch_size *= 2;
}

double sim_batchmeans_ci(const sim_batchmeans *b, double level, double *mean_out)
{
  if (!(level > 0.0 && level < 1.0))
    SIM_BUG("sim_batchmeans_ci: level %g outside (0, 1)", level);
  if (b->full > BM_CAP) SIM_BUG("sim_batchmeans: %zu full batches", b->full);
  double means[BM_CAP];
  for (size_t i = 0; i < b->full; i++) means[i] = b->sums[i] / (double)b->batch_size;
  double mean = b->full ? gsl_stats_mean(means, 1, b->full) : NAN;
  if (mean_out) *mean_out = mean;
  if (b->full < SIM_BATCHMEANS_MIN) return NAN;
  double sd = gsl_stats_sd_m(means, 1, b->full, mean);
  double t = gsl_cdf_tdist_Pinv((1.0 + level) / 2.0, (double)(b->full - 1));
  return t * sd / sqrt((double)b->full);
}

size_t sim_batchmeans_batches(const sim_batchmeans *b)
{
  return b->full;
}
