/* models/workload/wl_keys.c: the scenario keys of a time-varying rate's
 * parts (segments, spikes, daily cycle, growth), shared by every section
 * that takes a rate (serving's arrivals, the job queue's autoscaled
 * serving pool). Offsets are within wl_segment, wl_spike, wl_daily and
 * wl_growth (wl.h). */
#include <stddef.h>

#include "models/workload/wl_keys.h"

#define K_FLOAT(st, nm, field, dflt, lo, hi, u, h)                                               \
  {.name = nm, .kind = SIM_KEY_FLOAT, .offset = offsetof(st, field), .def = dflt, .min = lo,      \
   .max = hi, .unit = u, .help = h}

const sim_key wl_segment_keys[] = {
  K_FLOAT(wl_segment, "start_s", start_s, 0, 0, 1e12, "s", "from this time on"),
  {.name = "rate", .kind = SIM_KEY_FLOAT, .offset = offsetof(wl_segment, rate_per_s),
   .required = true, .min = 0, .max = 1e9, .unit = "1/s", .help = "the arrival rate"},
  SIM_KEY_END,
};

const sim_key wl_spike_keys[] = {
  {.name = "start_s", .kind = SIM_KEY_FLOAT, .offset = offsetof(wl_spike, start_s),
   .required = true, .min = 0, .max = 1e12, .unit = "s", .help = "the ramp up begins"},
  {.name = "duration_s", .kind = SIM_KEY_FLOAT, .offset = offsetof(wl_spike, duration_s),
   .required = true, .min = 0, .max = 1e12, .unit = "s", .help = "plateau at the multiplier"},
  {.name = "multiplier", .kind = SIM_KEY_FLOAT, .offset = offsetof(wl_spike, multiplier),
   .required = true, .min = 0, .max = 1e6, .help = "rate factor at the plateau (10: a 10x spike)"},
  K_FLOAT(wl_spike, "ramp_up_s", ramp_up_s, 0, 0, 1e12, "s", "linear rise from 1 to the multiplier"),
  K_FLOAT(wl_spike, "ramp_down_s", ramp_down_s, 0, 0, 1e12, "s", "linear fall back to 1"),
  SIM_KEY_END,
};

const sim_key wl_daily_keys[] = {
  K_FLOAT(wl_daily, "amplitude", amplitude, 0, 0, 1, NULL, "factor 1 + amplitude cos(2 pi (t - peak_s) / period_s)"),
  K_FLOAT(wl_daily, "period_s", period_s, 86400, 1, 1e12, "s", "cycle length"),
  K_FLOAT(wl_daily, "peak_s", peak_s, 0, 0, 1e12, "s", "time of the daily peak"),
  SIM_KEY_END,
};

const sim_key wl_growth_keys[] = {
  K_FLOAT(wl_growth, "factor", factor, 1, 0, 1e6, NULL, "rate multiplied by this every period (1.5: +50%)"),
  K_FLOAT(wl_growth, "period_s", period_s, 604800, 1, 1e12, "s", "growth period (a week)"),
  SIM_KEY_END,
};
