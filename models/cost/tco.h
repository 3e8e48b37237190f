/* models/cost/tco.h: total cost of owning GPUs over a horizon against
 * renting them. Two forms, both pure arithmetic of the figures given:
 * the bare-hardware form (`clustersim tco --compare`): capital cost of the
 * cards plus the electricity they draw at a steady utilisation; and the
 * simulated form (`clustersim tco FILE.cfg`): a demand given quarter by
 * quarter (billed GPU-hours, energy, the scenario's own cost, the peak
 * GPUs in use) priced as renting on demand, committing to reserved
 * capacity, or buying, each as a flow of money month by month.
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

/* ---- the simulated form ---- */

/* Longest horizon, in quarters (100 years). */
#define COST_TCO_MAX_QUARTERS 400
/* Bought GPUs are housed 8 to a node and 4 nodes to a rack (an 8-GPU HGX
 * server; 4 per rack is what a ~40 kW air-cooled rack holds). */
#define COST_TCO_GPUS_PER_NODE 8
#define COST_TCO_NODES_PER_RACK 4

/* One quarter's demand, already scaled to the whole quarter. */
typedef struct {
  double gpu_hours;      /* billed GPU-hours */
  double it_energy_kwh;  /* the GPUs' energy (before PUE) */
  double cost_usd;       /* the scenario's own pricing */
} cost_tco_quarter;

/* The demand over the horizon: quarters entries of q, and the most GPUs in
 * use at once in any of them. */
typedef struct {
  int quarters;          /* 1 .. COST_TCO_MAX_QUARTERS; years = quarters / 4 */
  const cost_tco_quarter *q;
  double peak_gpus;      /* > 0 */
} cost_tco_demand;

/* An option's money over time: capex_usd at month 0, each quarter's
 * spend paid evenly over its three months, and balance_usd (what a
 * commitment still owes past the horizon) with the last month. */
typedef struct {
  double capex_usd;
  double quarter_usd[COST_TCO_MAX_QUARTERS];
  double balance_usd;
  double total_usd;      /* all of it */
} cost_tco_flow;

/* What owning costs besides the demand. */
typedef struct {
  double purchase_usd;             /* per GPU (gpus.cfg purchase_usd), > 0 */
  double tdp_w, idle_w;            /* per GPU: board power, and idle draw */
  double usd_per_kwh;              /* >= 0 */
  double pue;                      /* >= 1 */
  double network_usd_per_node;     /* >= 0, paid at month 0 */
  double space_usd_per_kw_year;    /* >= 0, per kW of peak GPU board power */
  double staff_usd_per_rack_year;  /* >= 0 */
} cost_tco_own_terms;

/* Buying, item by item, over the horizon. */
typedef struct {
  double gpus, nodes, racks;  /* ceil(peak GPUs); ceil(gpus / 8); ceil(nodes / 4) */
  double peak_it_kw;          /* gpus x tdp_w / 1000 */
  double capex_usd;           /* gpus x purchase_usd */
  double network_usd;         /* nodes x network_usd_per_node */
  double energy_kwh;          /* facility: (demand's IT energy + the idle draw of owned GPUs not billed) x PUE */
  double energy_usd;          /* energy_kwh x usd_per_kwh */
  double space_usd;           /* peak_it_kw x space_usd_per_kw_year x years */
  double staff_usd;           /* racks x staff_usd_per_rack_year x years */
  cost_tco_flow flow;         /* capex + network at month 0; energy, space, staff by quarter */
} cost_tco_buy_figs;

/* Renting as the scenario priced it: each quarter's cost_usd. */
void cost_tco_as_simulated(const cost_tco_demand *d, cost_tco_flow *f);
/* Renting on demand at usd_per_gpu_hour: each quarter's billed GPU-hours
 * at that price. */
void cost_tco_on_demand(const cost_tco_demand *d, double usd_per_gpu_hour, cost_tco_flow *f);
/* A commitment of term_years at usd_per_gpu_hour for the peak GPUs, 24 h
 * a day: ceil(peak) x price x COST_HOURS_PER_YEAR / 4 a quarter, renewed
 * as often as the horizon needs; a term that outlasts the horizon is owed
 * whole (balance_usd). */
void cost_tco_reserved(const cost_tco_demand *d, double usd_per_gpu_hour, double term_years, cost_tco_flow *f);
/* Buying ceil(peak) GPUs at month 0 under terms t (see cost_tco_buy_figs).
 * A GPU powered but not billed in the demand draws idle_w. */
void cost_tco_buy(const cost_tco_demand *d, const cost_tco_own_terms *t, cost_tco_buy_figs *b);

/* f's cumulative spend at the end of month m (0: capex only; 3 x quarters:
 * the total). */
double cost_tco_cumulative(const cost_tco_flow *f, int quarters, int month);
/* The first month (0 .. 3 x quarters) in which buying's cumulative spend
 * is at or below rent's, or -1 if none. */
int cost_tco_payback_month(const cost_tco_flow *buy, const cost_tco_flow *rent, int quarters);
/* The share of hours a rented GPU must be busy for renting at
 * usd_per_gpu_hour to cost what owning does: owning's cost per GPU-hour at
 * 100% (buy total / (GPUs x hours of the horizon)) / the price. */
double cost_tco_break_even_utilization(const cost_tco_buy_figs *b, int quarters, double usd_per_gpu_hour);

#endif
