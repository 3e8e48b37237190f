/* models/workload/sizes.c: token-count distributions (see wl.h): integers
 * >= 1, capped at a maximum (the context length), drawn with GSL. It owns
 * the copy of an empirical distribution's values and nothing else. */
#include "models/workload/wl.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/util.h"

/* gsl_rng_uniform_int takes n up to the generator's range (2^32 for taus2). */
#define MAX_CHOICES 4294967295.0
/* Geometric draws are unsigned int in GSL: keep the mean far below 2^32. */
#define MAX_GEOMETRIC_MEAN 1e8

const char *const wl_size_names[WL_SIZE_COUNT] = {
  [WL_SIZE_FIXED] = "fixed",
  [WL_SIZE_UNIFORM] = "uniform",
  [WL_SIZE_NORMAL] = "normal",
  [WL_SIZE_LOGNORMAL] = "lognormal",
  [WL_SIZE_GEOMETRIC] = "geometric",
  [WL_SIZE_EMPIRICAL] = "empirical",
};

const char *wl_size_check(const wl_size_params *p, char *why, size_t n)
{
  if (p->cap < 0) {
    snprintf(why, n, "cap: %lld (expected a number of tokens >= 1, or 0 for none)", (long long)p->cap);
    return why;
  }
  switch (p->kind) {
  case WL_SIZE_FIXED:
    if (p->value < 1) {
      snprintf(why, n, "value: %lld (expected a number of tokens >= 1)", (long long)p->value);
      return why;
    }
    return NULL;
  case WL_SIZE_UNIFORM:
    if (p->min < 1 || p->max < p->min) {
      snprintf(why, n, "min, max: %lld, %lld (expected 1 <= min <= max)", (long long)p->min,
               (long long)p->max);
      return why;
    }
    if ((double)p->max - (double)p->min + 1 > MAX_CHOICES) {
      snprintf(why, n, "max: %lld - %lld spans too many values (expected at most 2^32 - 1)",
               (long long)p->max, (long long)p->min);
      return why;
    }
    return NULL;
  case WL_SIZE_NORMAL:
    if (!(p->mean >= 1) || !isfinite(p->mean)) {
      snprintf(why, n, "mean: %g (expected a finite number of tokens >= 1)", p->mean);
      return why;
    }
    if (!(p->sd >= 0) || !isfinite(p->sd)) {
      snprintf(why, n, "sd: %g (expected a finite number >= 0)", p->sd);
      return why;
    }
    return NULL;
  case WL_SIZE_LOGNORMAL:
    if (!(p->mean >= 1) || !isfinite(p->mean)) {
      snprintf(why, n, "mean: %g (expected a finite number of tokens >= 1)", p->mean);
      return why;
    }
    if (!(p->cv > 0) || !(p->cv <= 100)) {
      snprintf(why, n, "cv: %g (expected a coefficient of variation > 0 and <= 100)", p->cv);
      return why;
    }
    return NULL;
  case WL_SIZE_GEOMETRIC:
    if (!(p->mean >= 1) || !(p->mean <= MAX_GEOMETRIC_MEAN)) {
      snprintf(why, n, "mean: %g (expected a number of tokens from 1 to %g)", p->mean,
               MAX_GEOMETRIC_MEAN);
      return why;
    }
    return NULL;
  case WL_SIZE_EMPIRICAL:
    if (p->nvalues == 0 || !p->values) {
      snprintf(why, n, "values: empty (expected at least one value)");
      return why;
    }
    if ((double)p->nvalues > MAX_CHOICES) {
      snprintf(why, n, "values: %zu values (expected at most 2^32 - 1)", p->nvalues);
      return why;
    }
    for (size_t i = 0; i < p->nvalues; i++)
      if (p->values[i] < 1) {
        snprintf(why, n, "values.[%zu]: %lld (expected a number of tokens >= 1)", i,
                 (long long)p->values[i]);
        return why;
      }
    return NULL;
  default:
    snprintf(why, n, "dist: unknown kind %d", (int)p->kind);
    return why;
  }
}

void wl_size_init(wl_size *s, const wl_size_params *p)
{
  char why[256];
  if (wl_size_check(p, why, sizeof why)) SIM_BUG("unchecked size parameters: %s", why);
  memset(s, 0, sizeof *s);
  s->kind = p->kind;
  s->cap = p->cap > 0 ? p->cap : INT64_MAX;
  switch (p->kind) {
  case WL_SIZE_FIXED: s->a = p->value; break;
  case WL_SIZE_UNIFORM: s->a = p->min; s->b = p->max; break;
  case WL_SIZE_NORMAL: s->mu = p->mean; s->sigma = p->sd; break;
  case WL_SIZE_LOGNORMAL: {
    double s2 = log1p(p->cv * p->cv);
    s->sigma = sqrt(s2);
    s->mu = log(p->mean) - s2 / 2;
    break;
  }
  case WL_SIZE_GEOMETRIC: s->p = 1 / p->mean; break;
  case WL_SIZE_EMPIRICAL:
    s->values = xmalloc(p->nvalues * sizeof *s->values);
    memcpy(s->values, p->values, p->nvalues * sizeof *s->values);
    s->nvalues = p->nvalues;
    break;
  default: SIM_BUG("unknown size kind %d", (int)p->kind);
  }
}

void wl_size_release(wl_size *s)
{
  free(s->values);
  s->values = NULL;
  s->nvalues = 0;
}

static int64_t capped(const wl_size *s, int64_t v) { return v < s->cap ? v : s->cap; }

/* x >= 0.5 rounded to the nearest integer, then capped. */
static int64_t round_cap(const wl_size *s, double x)
{
  if (x >= (double)s->cap + 0.5) return s->cap;
  return capped(s, llround(x));
}

int64_t wl_size_sample(const wl_size *s, gsl_rng *r)
{
  double x;
  switch (s->kind) {
  case WL_SIZE_FIXED: return capped(s, s->a);
  case WL_SIZE_UNIFORM:
    return capped(s, s->a + (int64_t)gsl_rng_uniform_int(r, (unsigned long)(s->b - s->a) + 1));
  case WL_SIZE_NORMAL:
    do x = s->mu + gsl_ran_gaussian(r, s->sigma);
    while (x < 0.5);
    return round_cap(s, x);
  case WL_SIZE_LOGNORMAL:
    do x = gsl_ran_lognormal(r, s->mu, s->sigma);
    while (x < 0.5);
    return round_cap(s, x);
  case WL_SIZE_GEOMETRIC: return capped(s, (int64_t)gsl_ran_geometric(r, s->p));
  case WL_SIZE_EMPIRICAL:
    return capped(s, s->values[gsl_rng_uniform_int(r, (unsigned long)s->nvalues)]);
  default: SIM_BUG("unknown size kind %d", (int)s->kind);
  }
}

double wl_size_nominal_mean(const wl_size_params *p)
{
  switch (p->kind) {
  case WL_SIZE_FIXED: return (double)p->value;
  case WL_SIZE_UNIFORM: return ((double)p->min + (double)p->max) / 2;
  case WL_SIZE_EMPIRICAL: {
    double sum = 0;
    for (size_t i = 0; i < p->nvalues; i++) sum += (double)p->values[i];
    return p->nvalues ? sum / (double)p->nvalues : 0;
  }
  default: return p->mean;
  }
}
