/* sim/trace_data.c: releasing a trace and its replay times (see
 * trace_data.h). */
#include "sim/trace_data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/util.h"

void sim_trace_release(sim_trace *tr)
{
  free(tr->time_ns);
  if (tr->values)
    for (int c = 0; c < tr->ncols; c++) free(tr->values[c]);
  free(tr->values);
  memset(tr, 0, sizeof *tr);
}

sim_time sim_trace_time(const sim_trace *tr, size_t i, double time_scale, sim_time offset_ns)
{
  if (!(time_scale > 0) || !isfinite(time_scale)) SIM_BUG("trace time scale %g", time_scale);
  if (i >= tr->rows) SIM_BUG("trace row %zu of %zu", i, tr->rows);
  long double q = (long double)tr->time_ns[i] / time_scale;
  if (q >= (long double)(SIM_TIME_MAX - offset_ns)) return SIM_TIME_MAX;
  return offset_ns + (sim_time)llrintl(q);
}
