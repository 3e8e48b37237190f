/* sim/stats_tally.c: sim_tally, per-observation statistics (see stats.h):
 * count, mean and variance by Welford's update, min and max, and the batch
 * means and quantiles it feeds. Owns nothing beyond its sim_quantiles. */
#include "sim/stats.h"

#include <math.h>

void sim_tally_init(sim_tally *t, size_t exact_max)
{
  sim_quantiles_init(&t->q, exact_max);
  sim_tally_reset(t);
}

void sim_tally_release(sim_tally *t)
{
  sim_quantiles_release(&t->q);
}

void sim_tally_reset(sim_tally *t)
{
  t->n = 0;
  t->mean = 0.0;
  t->m2 = 0.0;
  t->min = INFINITY;
  t->max = -INFINITY;
  sim_batchmeans_init(&t->bm);
  sim_quantiles_reset(&t->q);
}

void sim_tally_add(sim_tally *t, double x)
{
  t->n++;
  /* The reciprocal does not depend on the running mean, so the divide stays
   * off the add-to-add dependency chain (twice as fast as d / n). */
  double inv_n = 1.0 / (double)t->n;
  double d = x - t->mean;
  t->mean += d * inv_n;
  t->m2 += d * (x - t->mean);
  if (x < t->min) t->min = x;
  if (x > t->max) t->max = x;
  sim_batchmeans_add(&t->bm, x);
  sim_quantiles_add(&t->q, x);
}

uint64_t sim_tally_count(const sim_tally *t)
{
  return t->n;
}

double sim_tally_mean(const sim_tally *t)
{
  return t->n ? t->mean : NAN;
}

double sim_tally_variance(const sim_tally *t)
{
  return t->n >= 2 ? t->m2 / (double)(t->n - 1) : NAN;
}

double sim_tally_min(const sim_tally *t)
{
  return t->n ? t->min : NAN;
}

double sim_tally_max(const sim_tally *t)
{
  return t->n ? t->max : NAN;
}

double sim_tally_quantile(sim_tally *t, double p)
{
  return sim_quantiles_get(&t->q, p);
}

double sim_tally_ci(const sim_tally *t, double level)
{
  return sim_batchmeans_ci(&t->bm, level, NULL);
}
