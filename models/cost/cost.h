/* models/cost/cost.h: power, energy and money. Pure functions of hardware
 * numbers and prices, plus cost_energy, a small accumulator of one GPU
 * group's energy over simulated time. Knows nothing of requests or the
 * engine (it takes sim_time values, like sim/stats.h).
 *
 * Power model: linear in utilization, P(u) = idle_w + (tdp_w - idle_w) u,
 * the common first-order server power model (Fan, Weber & Barroso,
 * "Power provisioning for a warehouse-sized computer", ISCA 2007). Energy
 * calculators for ML (Lacoste et al. 2019, the ML CO2 Impact calculator)
 * and comparisons of GPUs by board power take the u = 1 end, TDP x time;
 * the idle term matters for a serving cluster that waits between spikes.
 * u is the busy fraction the simulator measures, so a busy but
 * memory-bound decode step counts at full board power: an upper bound.
 *
 * Utilization outside [0, 1]: rounding error up to COST_UTIL_SLACK is
 * clamped; anything further out (or NaN) is a SIM_BUG, not a user error.
 *
 * Facility energy = IT energy x PUE. Units: W, kWh, hours, USD. */
#ifndef COST_H
#define COST_H

#include "sim/stats.h"
#include "sim/time.h"

#define COST_UTIL_SLACK 1e-9

/* Power (W) of one GPU at utilization u in [0, 1] (see above). */
double cost_gpu_power_w(double idle_w, double tdp_w, double u);

/* Facility energy: IT energy x pue (pue >= 1). */
double cost_facility_kwh(double it_kwh, double pue);
/* Electricity bill for kwh at usd_per_kwh. */
double cost_electricity_usd(double kwh, double usd_per_kwh);
/* Rental: gpus x hours x usd_per_gpu_hour. */
double cost_rental_usd(double gpus, double hours, double usd_per_gpu_hour);
/* Dollars per million tokens: usd / tokens x 1e6; NaN when tokens <= 0
 * (nothing served has no price per token, and NaN is not infinity). */
double cost_usd_per_million_tokens(double usd, double tokens);

/* The energy of `gpus` identical GPUs whose utilization is piecewise
 * constant in time. Plain storage: nothing to release. */
typedef struct {
  double gpus, idle_w, tdp_w;
  sim_timeavg util;   /* the group's utilization, in [0, 1] */
} cost_energy;

/* Start at t0 (ns) with utilization u0. */
void cost_energy_init(cost_energy *e, double gpus, double idle_w, double tdp_w, sim_time t0,
                      double u0);
/* From time t on (t >= the last change) the group's utilization is u (the
 * mean over its GPUs: k of n busy is k / n). */
void cost_energy_set_util(cost_energy *e, sim_time t, double u);
/* Restart the accounting at t, keeping the current utilization (warm-up). */
void cost_energy_reset(cost_energy *e, sim_time t);
/* Hours from the start to t. */
double cost_energy_hours(const cost_energy *e, sim_time t);
/* GPU-hours from the start to t: gpus x hours. */
double cost_energy_gpu_hours(const cost_energy *e, sim_time t);
/* Time-average utilization over [start, t]. */
double cost_energy_mean_util(const cost_energy *e, sim_time t);
/* Mean IT power of the group (W) over [start, t]: gpus x P(mean u), exact
 * because P is linear. */
double cost_energy_mean_power_w(const cost_energy *e, sim_time t);
/* IT energy of the group (kWh) from the start to t, without PUE. */
double cost_energy_it_kwh(const cost_energy *e, sim_time t);

#endif
