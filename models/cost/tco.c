/* models/cost/tco.c: the bare-hardware total cost of ownership of tco.h. */
#include "models/cost/tco.h"

#include <math.h>

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
