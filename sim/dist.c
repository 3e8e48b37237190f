/* sim/dist.c: the distribution table, parameter checks and sampling
 * (see dist.h). All variates come from GSL (gsl_ran_*). */
#include "sim/dist.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <string.h>

#include "sim/util.h"

const sim_dist_type sim_dist_types[SIM_DIST_COUNT] = {
  [SIM_DIST_EXPONENTIAL] = {"exponential", SIM_DP_MEAN,
                            "memoryless; mean (or rate)"},
  [SIM_DIST_DETERMINISTIC] = {"deterministic", SIM_DP_MEAN,
                              "always the mean (or 1/rate)"},
  [SIM_DIST_UNIFORM] = {"uniform", SIM_DP_MINMAX, "flat on [min, max)"},
  [SIM_DIST_LOGNORMAL] = {"lognormal", SIM_DP_MEAN | SIM_DP_CV,
                          "log-normal with the given mean and coefficient of variation"},
  [SIM_DIST_GAMMA] = {"gamma", SIM_DP_MEAN | SIM_DP_CV,
                      "gamma with the given mean and coefficient of variation"},
  [SIM_DIST_ERLANG] = {"erlang", SIM_DP_MEAN | SIM_DP_K,
                       "sum of k exponential phases with the given mean (cv = 1/sqrt(k))"},
  [SIM_DIST_WEIBULL] = {"weibull", SIM_DP_MEAN | SIM_DP_SHAPE,
                        "Weibull with the given mean and shape"},
};

int sim_dist_lookup(const char *name)
{
  for (int i = 0; i < SIM_DIST_COUNT; i++)
    if (strcmp(sim_dist_types[i].name, name) == 0) return i;
  return -1;
}

const char *sim_dist_make(sim_dist *d, sim_dist_kind kind, const sim_dist_params *p)
{
  unsigned need = sim_dist_types[kind].params;
  memset(d, 0, sizeof *d);
  d->kind = kind;
  if (need & SIM_DP_MEAN) {
    if (p->rate != 0) {
      if (!(p->rate > 0) || !isfinite(p->rate)) return "rate must be a finite number > 0";
      d->mean = 1 / p->rate;
      d->rate = p->rate;
    } else {
      if (!(p->mean > 0) || !isfinite(p->mean)) return "mean must be a finite number > 0";
      d->mean = p->mean;
      d->rate = 1 / p->mean;
    }
  }
  if ((need & SIM_DP_CV) && (!(p->cv > 0) || !isfinite(p->cv)))
    return "cv must be a finite number > 0";
  if ((need & SIM_DP_SHAPE) && (!(p->shape > 0) || !isfinite(p->shape)))
    return "shape must be a finite number > 0";
  if ((need & SIM_DP_K) && p->k < 1) return "k must be an integer >= 1";
  switch (kind) {
  case SIM_DIST_EXPONENTIAL:
    d->var = d->mean * d->mean;
    break;
  case SIM_DIST_DETERMINISTIC:
    d->var = 0;
    break;
  case SIM_DIST_UNIFORM:
    if (!(p->min >= 0) || !isfinite(p->max) || !(p->max > p->min))
      return "needs 0 <= min < max";
    d->a = p->min;
    d->b = p->max;
    d->mean = (p->min + p->max) / 2;
    d->var = (p->max - p->min) * (p->max - p->min) / 12;
    break;
  case SIM_DIST_LOGNORMAL: {
    double s2 = log1p(p->cv * p->cv);
    d->b = sqrt(s2);                 /* sigma of the underlying normal */
    d->a = log(d->mean) - s2 / 2;    /* mu */
    d->var = d->mean * d->mean * p->cv * p->cv;
    break;
  }
  case SIM_DIST_GAMMA:
    d->a = 1 / (p->cv * p->cv);      /* shape */
    d->b = d->mean / d->a;           /* scale */
    d->var = d->mean * d->mean * p->cv * p->cv;
    break;
  case SIM_DIST_ERLANG:
    d->k = p->k;
    d->a = (double)p->k;
    d->b = d->mean / d->a;
    d->var = d->mean * d->mean / d->a;
    break;
  case SIM_DIST_WEIBULL: {
    gsl_sf_result r1, r2;
    if (gsl_sf_gamma_e(1 + 1 / p->shape, &r1) != GSL_SUCCESS || gsl_sf_gamma_e(1 + 2 / p->shape, &r2) != GSL_SUCCESS ||
        !isfinite(r2.val))
      return "shape too small: the variance overflows";
    double g1 = r1.val, g2 = r2.val;
    d->a = d->mean / g1;             /* scale */
    d->b = p->shape;
    d->var = d->a * d->a * (g2 - g1 * g1);
    break;
  }
  default:
    SIM_BUG("unknown distribution kind %d", (int)kind);
  }
  if (!(need & SIM_DP_MEAN)) d->rate = 1 / d->mean;
  return NULL;
}

double sim_dist_sample(const sim_dist *d, gsl_rng *r)
{
  switch (d->kind) {
  case SIM_DIST_EXPONENTIAL:
    /* Inversion, as gsl_ran_exponential does (-mu log1p(-u)), on a uniform
     * in (0,1) so that log() replaces log1p(): glibc's log1p costs twice
     * as much, and this is the hottest draw. Same distribution. */
    return -d->mean * log(gsl_rng_uniform_pos(r));
  case SIM_DIST_DETERMINISTIC: return d->mean;
  case SIM_DIST_UNIFORM: return gsl_ran_flat(r, d->a, d->b);
  case SIM_DIST_LOGNORMAL: return gsl_ran_lognormal(r, d->a, d->b);
  case SIM_DIST_GAMMA:
  case SIM_DIST_ERLANG: return gsl_ran_gamma(r, d->a, d->b);
  case SIM_DIST_WEIBULL: return gsl_ran_weibull(r, d->a, d->b);
  default: SIM_BUG("unknown distribution kind %d", (int)d->kind);
  }
}
