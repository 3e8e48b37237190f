/* sim/time.h: simulated time. A sim_time is a signed 64-bit count of
 * nanoseconds: exact ties, and a horizon of 292 years. Conversions to and
 * from seconds round to the nearest nanosecond. */
#ifndef SIM_TIME_H
#define SIM_TIME_H

#include <math.h>
#include <stdint.h>

typedef int64_t sim_time;

#define SIM_NS_PER_S INT64_C(1000000000)
#define SIM_TIME_MAX INT64_MAX
/* Largest number of seconds that converts without overflow (~292 years). */
#define SIM_TIME_MAX_S 9.2e9

/* Seconds to the nearest nanosecond; values beyond +-2^62 ns (146 years)
 * saturate there, so adding two results cannot overflow. */
static inline sim_time sim_time_from_s(double s)
{
  double ns = s * 1e9;
  if (ns > 4.6e18) return INT64_C(4600000000000000000);
  if (ns < -4.6e18) return -INT64_C(4600000000000000000);
  return (sim_time)llrint(ns);
}

/* Nanoseconds to seconds. */
static inline double sim_time_to_s(sim_time t)
{
  return (double)t / 1e9;
}

#endif
