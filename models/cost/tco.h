/* models/cost/tco.h: total cost of owning GPUs over a horizon, the bare-
 * hardware form (`clustersim tco --compare`): capital cost of the cards
 * plus the electricity they draw at a steady utilisation. Pure arithmetic
 * of board power, purchase price and the figures given; the simulated form
 * (a scenario's demand against renting) builds on it.
 *
 * Power of an option = the card's board power (gpus.cfg tdp_w) x
 * utilisation x count; energy per year = power x PUE x COST_HOURS_PER_YEAR
 * (365.25 days); energy cost = energy per year x years x USD per kWh;
 * capital = purchase_usd x count (no resale value, no financing). */
#ifndef COST_TCO_H
#define COST_TCO_H

#include <stdbool.h>
#include <stdint.h>

/* What the options share. */
typedef struct {
  double utilization;   /* in [0, 1] */
  double usd_per_kwh;   /* >= 0 */
  double pue;           /* >= 1 */
  double years;         /* > 0 */
} cost_tco_terms;

/* One option's figures. */
typedef struct {
  double power_w;              /* board power x utilisation x count */
  double energy_kwh_per_year;  /* at the meter (x PUE) */
  double energy_usd;           /* over the horizon */
  double capex_usd;            /* purchase price x count; NaN if the price is unknown */
  double total_usd;            /* capex + energy; NaN if capex is */
} cost_tco_option;

/* The figures of `count` cards of board power tdp_w and purchase price
 * purchase_usd (<= 0: unknown) under terms t. */
cost_tco_option cost_tco_compare(double tdp_w, double purchase_usd, int64_t count, const cost_tco_terms *t);

#endif
