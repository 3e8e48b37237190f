/* sim/stats_timeavg.c: sim_timeavg, the time-weighted average and maximum
 * of a piecewise-constant quantity (see stats.h). Times are sim_time (ns);
 * the area is kept in value*ns. Owns no storage. */
#include "sim/stats.h"

#include "sim/util.h"

/* Add value * (t - last) to the area and move last to t. */
static void integrate(sim_timeavg *a, sim_time t)
{
  if (t < a->last)
    SIM_BUG("sim_timeavg: time %lld before last change %lld",
            (long long)t, (long long)a->last);
  a->area += a->value * (double)(t - a->last);
  a->last = t;
}

void sim_timeavg_init(sim_timeavg *a, sim_time t0, double v0)
{
  a->start = t0;
  a->last = t0;
  a->value = v0;
  a->area = 0.0;
  a->max = v0;
}

void sim_timeavg_set(sim_timeavg *a, sim_time t, double v)
{
  integrate(a, t);
  a->value = v;
  if (v > a->max) a->max = v;
}

void sim_timeavg_reset(sim_timeavg *a, sim_time t)
{
  integrate(a, t);
  a->start = t;
  a->area = 0.0;
  a->max = a->value;
}

double sim_timeavg_mean(const sim_timeavg *a, sim_time t)
{
  if (t < a->last)
    SIM_BUG("sim_timeavg_mean: time %lld before last change %lld",
            (long long)t, (long long)a->last);
  if (t == a->start) return a->value;
  double area = a->area + a->value * (double)(t - a->last);
  return area / (double)(t - a->start);
}

double sim_timeavg_max(const sim_timeavg *a)
{
  return a->max;
}
