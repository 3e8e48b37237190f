/* models/cost/cost.c: the linear power model, energy, electricity, rental
 * and per-token cost (see cost.h). Owns no storage; cost_energy integrates
 * utilization with a sim_timeavg. */
#include "models/cost/cost.h"

#include <math.h>

#include "sim/util.h"

/* u clamped to [0, 1] when within COST_UTIL_SLACK of it; else a SIM_BUG. */
static double check_util(double u, const char *what)
{
  if (!(u >= -COST_UTIL_SLACK && u <= 1 + COST_UTIL_SLACK))
    SIM_BUG("%s: utilization %.17g outside [0, 1]", what, u);
  return u < 0 ? 0 : u > 1 ? 1 : u;
}

double cost_gpu_power_w(double idle_w, double tdp_w, double u)
{
  u = check_util(u, "cost_gpu_power_w");
  return idle_w + (tdp_w - idle_w) * u;
}

double cost_facility_kwh(double it_kwh, double pue)
{
  if (!(pue >= 1)) SIM_BUG("cost_facility_kwh: PUE %g below 1", pue);
  return it_kwh * pue;
}

double cost_electricity_usd(double kwh, double usd_per_kwh)
{
  return kwh * usd_per_kwh;
}

double cost_rental_usd(double gpus, double hours, double usd_per_gpu_hour)
{
  return gpus * hours * usd_per_gpu_hour;
}

double cost_usd_per_million_tokens(double usd, double tokens)
{
  if (!(tokens > 0)) return NAN;
  return usd / tokens * 1e6;
}

void cost_energy_init(cost_energy *e, double gpus, double idle_w, double tdp_w, sim_time t0,
                      double u0)
{
  if (!(gpus >= 0) || !(idle_w >= 0) || !(tdp_w >= idle_w))
    SIM_BUG("cost_energy_init: %g GPUs, idle %g W, TDP %g W", gpus, idle_w, tdp_w);
  e->gpus = gpus;
  e->idle_w = idle_w;
  e->tdp_w = tdp_w;
  sim_timeavg_init(&e->util, t0, check_util(u0, "cost_energy_init"));
}

void cost_energy_set_util(cost_energy *e, sim_time t, double u)
{
  sim_timeavg_set(&e->util, t, check_util(u, "cost_energy_set_util"));
}

void cost_energy_reset(cost_energy *e, sim_time t)
{
  sim_timeavg_reset(&e->util, t);
}

double cost_energy_hours(const cost_energy *e, sim_time t)
{
  if (t < e->util.start) SIM_BUG("cost_energy_hours: time %lld before start", (long long)t);
  return sim_time_to_s(t - e->util.start) / 3600.0;
}

double cost_energy_gpu_hours(const cost_energy *e, sim_time t)
{
  return e->gpus * cost_energy_hours(e, t);
}

double cost_energy_mean_util(const cost_energy *e, sim_time t)
{
  return sim_timeavg_mean(&e->util, t);
}

double cost_energy_mean_power_w(const cost_energy *e, sim_time t)
{
  return e->gpus * cost_gpu_power_w(e->idle_w, e->tdp_w, cost_energy_mean_util(e, t));
}

double cost_energy_it_kwh(const cost_energy *e, sim_time t)
{
  return cost_energy_mean_power_w(e, t) * cost_energy_hours(e, t) / 1000.0;
}
