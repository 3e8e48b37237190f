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

/* Seconds (finite, 0 <= s <= SIM_TIME_MAX_S) to the nearest nanosecond. */
static inline sim_time sim_time_from_s(double s)
{
  return (sim_time)llrint(s * 1e9);
}

/* Nanoseconds to seconds. */
static inline double sim_time_to_s(sim_time t)
{
  return (double)t / 1e9;
}

#endif
