/* models/cost/tco.c: the total cost of ownership of tco.h: the bare-hardware
 * form and the simulated demand priced as renting, committing or buying. */
#include "models/cost/tco.h"

#include <math.h>
#include <string.h>

#include "models/cost/provider.h"
#include "sim/util.h"

cost_tco_option cost_tco_compare(double tdp_w, double purchase_usd, int64_t count, const cost_tco_terms *t)
{
  if (!(tdp_w > 0) || count <= 0 || !(t->utilization >= 0 && t->utilization <= 1) || !(t->usd_per_kwh >= 0) ||
      !(t->pue >= 1) || !(t->years > 0))
    SIM_BUG("tco terms out of range (tdp %g W, count %lld, utilization %g, usd/kWh %g, pue %g, years %g)", tdp_w,
            (long long)count, t->utilization, t->usd_per_kwh, t->pue, t->years);
  cost_tco_option o;
  o.power_w = tdp_w * t->utilization * (double)count;
  o.energy_kwh_per_year = o.power_w * t->pue * COST_HOURS_PER_YEAR / 1000.0;
  o.energy_usd = o.energy_kwh_per_year * t->years * t->usd_per_kwh;
  o.capex_usd = purchase_usd > 0 ? purchase_usd * (double)count : NAN;
  o.total_usd = o.capex_usd + o.energy_usd;
  return o;
}

/* ---- the simulated form ---- */

#define QUARTER_H (COST_HOURS_PER_YEAR / 4)

static void check_demand(const cost_tco_demand *d)
{
  if (d->quarters < 1 || d->quarters > COST_TCO_MAX_QUARTERS || !(d->peak_gpus > 0) || !isfinite(d->peak_gpus))
    SIM_BUG("tco demand out of range (%d quarters, peak %g GPUs)", d->quarters, d->peak_gpus);
}

static void flow_total(const cost_tco_demand *d, cost_tco_flow *f)
{
  f->total_usd = f->capex_usd + f->balance_usd;
  for (int q = 0; q < d->quarters; q++) f->total_usd += f->quarter_usd[q];
}

void cost_tco_as_simulated(const cost_tco_demand *d, cost_tco_flow *f)
{
  check_demand(d);
  memset(f, 0, sizeof *f);
  for (int q = 0; q < d->quarters; q++) f->quarter_usd[q] = d->q[q].cost_usd;
  flow_total(d, f);
}

void cost_tco_on_demand(const cost_tco_demand *d, double usd_per_gpu_hour, cost_tco_flow *f)
{
  check_demand(d);
  memset(f, 0, sizeof *f);
  for (int q = 0; q < d->quarters; q++) f->quarter_usd[q] = d->q[q].gpu_hours * usd_per_gpu_hour;
  flow_total(d, f);
}

void cost_tco_reserved(const cost_tco_demand *d, double usd_per_gpu_hour, double term_years, cost_tco_flow *f)
{
  check_demand(d);
  if (!(term_years > 0)) SIM_BUG("tco: commitment of %g years", term_years);
  memset(f, 0, sizeof *f);
  double gpus = ceil(d->peak_gpus);
  for (int q = 0; q < d->quarters; q++) f->quarter_usd[q] = gpus * usd_per_gpu_hour * QUARTER_H;
  /* whole terms: quarters rounded up to a multiple of the term's */
  double years = d->quarters / 4.0;
  double terms = ceil(years / term_years - 1e-9);
  double owed = terms * term_years - years;
  if (owed > 1e-9) f->balance_usd = gpus * usd_per_gpu_hour * COST_HOURS_PER_YEAR * owed;
  flow_total(d, f);
}

void cost_tco_buy(const cost_tco_demand *d, const cost_tco_own_terms *t, cost_tco_buy_figs *b)
{
  check_demand(d);
  if (!(t->purchase_usd > 0) || !(t->tdp_w > 0) || !(t->idle_w >= 0) || !(t->usd_per_kwh >= 0) || !(t->pue >= 1) ||
      !(t->network_usd_per_node >= 0) || !(t->space_usd_per_kw_year >= 0) || !(t->staff_usd_per_rack_year >= 0))
    SIM_BUG("tco ownership terms out of range (purchase %g, tdp %g W, idle %g W, usd/kWh %g, pue %g)",
            t->purchase_usd, t->tdp_w, t->idle_w, t->usd_per_kwh, t->pue);
  memset(b, 0, sizeof *b);
  double years = d->quarters / 4.0;
  b->gpus = ceil(d->peak_gpus);
  b->nodes = ceil(b->gpus / COST_TCO_GPUS_PER_NODE);
  b->racks = ceil(b->nodes / COST_TCO_NODES_PER_RACK);
  b->peak_it_kw = b->gpus * t->tdp_w / 1000;
  b->capex_usd = b->gpus * t->purchase_usd;
  b->network_usd = b->nodes * t->network_usd_per_node;
  b->space_usd = b->peak_it_kw * t->space_usd_per_kw_year * years;
  b->staff_usd = b->racks * t->staff_usd_per_rack_year * years;
  double fixed_per_quarter = (b->peak_it_kw * t->space_usd_per_kw_year + b->racks * t->staff_usd_per_rack_year) / 4;
  b->flow.capex_usd = b->capex_usd + b->network_usd;
  for (int q = 0; q < d->quarters; q++) {
    /* owned GPUs the demand did not bill are powered and idle */
    double idle_h = fmax(0, b->gpus * QUARTER_H - d->q[q].gpu_hours);
    double kwh = (d->q[q].it_energy_kwh + idle_h * t->idle_w / 1000) * t->pue;
    b->energy_kwh += kwh;
    b->flow.quarter_usd[q] = kwh * t->usd_per_kwh + fixed_per_quarter;
  }
  b->energy_usd = b->energy_kwh * t->usd_per_kwh;
  flow_total(d, &b->flow);
}

double cost_tco_cumulative(const cost_tco_flow *f, int quarters, int month)
{
  if (month < 0 || month > 3 * quarters || quarters > COST_TCO_MAX_QUARTERS)
    SIM_BUG("tco: month %d of %d quarters", month, quarters);
  double sum = f->capex_usd;
  for (int m = 1; m <= month; m++) sum += f->quarter_usd[(m - 1) / 3] / 3;
  if (month == 3 * quarters) sum += f->balance_usd;
  return sum;
}

int cost_tco_payback_month(const cost_tco_flow *buy, const cost_tco_flow *rent, int quarters)
{
  double b = buy->capex_usd, r = rent->capex_usd;
  for (int m = 0; m <= 3 * quarters; m++) {
    if (m > 0) {
      b += buy->quarter_usd[(m - 1) / 3] / 3;
      r += rent->quarter_usd[(m - 1) / 3] / 3;
    }
    if (m == 3 * quarters) b += buy->balance_usd, r += rent->balance_usd;
    if (b <= r) return m;
  }
  return -1;
}

double cost_tco_break_even_utilization(const cost_tco_buy_figs *b, int quarters, double usd_per_gpu_hour)
{
  double per_gpu_hour = b->flow.total_usd / (b->gpus * quarters * QUARTER_H);
  return per_gpu_hour / usd_per_gpu_hour;
}
