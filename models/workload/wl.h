/* models/workload/wl.h: the workload's building blocks: a time-varying
 * arrival rate (wl_rate), arrival processes that give the next request time
 * (wl_arrivals), and token-size distributions (wl_size). All are plain
 * structs the caller fills (later a scenario schema); nothing here reads a
 * file or the command line, and nothing allocates per draw. Trace replay
 * reads its file on the driver side (driver/config/trace.h).
 *
 * Time: rates take seconds since simulated time 0 (double); arrival
 * processes take and return sim_time (ns).
 *
 * Which arrival processes take which rates, and why:
 *   - Poisson: any wl_rate (segments, spikes, daily cycle, growth). A
 *     non-homogeneous Poisson process is defined by its rate alone and is
 *     simulated exactly by thinning (Lewis & Shedler 1979): candidates at
 *     the rate's upper bound over a window, each kept with probability
 *     rate(t) / bound. Windows are the pieces of the rate function (between
 *     segment starts, spike phases, steps along a ramp; short enough for a
 *     daily cycle or growth to move little), each with its own supremum,
 *     so a step to a high rate for a short time costs candidates only
 *     during that time (wl_rate_sup).
 *   - Gamma renewal (inter-arrival times gamma with a mean rate and a
 *     coefficient of variation) and the two-state MMPP: constant rates only.
 *     A renewal process has no unique time-varying version (scaling the
 *     gaps, changing the time, or thinning all differ), and thinning a
 *     renewal process changes its inter-arrival law (the CV drifts towards
 *     1), so a "gamma with a spike" would not have the CV asked for. The MMPP
 *     already is a rate that varies in time (randomly). Asking for either
 *     with rate modifiers is an error (wl_arrivals_check). */
#ifndef WL_H
#define WL_H

#include <gsl/gsl_rng.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/time.h"

/* ---------------------------------------------------------------- rate -- */

enum { WL_MAX_SEGMENTS = 64, WL_MAX_SPIKES = 16 };

#define WL_DAY_S 86400.0
#define WL_WEEK_S 604800.0

/* From start_s on (until the next segment's start) the level is rate_per_s. */
typedef struct {
  double start_s, rate_per_s;
} wl_segment;

/* A multiplicative spike: the factor rises linearly from 1 at start_s to
 * `multiplier` at start_s + ramp_up_s, holds for duration_s (the plateau),
 * then falls linearly back to 1 over ramp_down_s. A multiplier < 1 is a dip. */
typedef struct {
  double start_s, duration_s, multiplier, ramp_up_s, ramp_down_s;
} wl_spike;

/* Factor 1 + amplitude cos(2 pi (t - peak_s) / period_s); amplitude 0: none;
 * period_s 0 means WL_DAY_S. */
typedef struct {
  double amplitude, period_s, peak_s;
} wl_daily;

/* Factor factor^(t / period_s): compound growth (factor < 1: decline);
 * factor 0 or 1: none; period_s 0 means WL_WEEK_S. */
typedef struct {
  double factor, period_s;
} wl_growth;

/* rate(t) = level(t) x prod spikes(t) x daily(t) x growth(t), per second.
 * level(t) is base_per_s before the first segment's start, else the rate of
 * the last segment started at or before t (starts strictly increasing). */
typedef struct {
  double base_per_s;
  int nsegments;
  wl_segment segments[WL_MAX_SEGMENTS];
  int nspikes;
  wl_spike spikes[WL_MAX_SPIKES];
  wl_daily daily;
  wl_growth growth;
} wl_rate;

/* A constant rate of r per second. */
wl_rate wl_rate_constant(double r);

/* NULL if r is usable; else writes "key: what is wrong (what was expected)"
 * into why (key relative to the rate: "spikes.[1].multiplier") and returns
 * it. Every other wl_rate_* function assumes a checked rate. */
const char *wl_rate_check(const wl_rate *r, char *why, size_t n);

/* True if anything but the level is set (spikes, daily cycle, growth) or
 * segments are given: the rate varies in time. */
bool wl_rate_varies(const wl_rate *r);

/* The rate at time t (s), per second. */
double wl_rate_at(const wl_rate *r, double t);

/* The maximum of the rate over [t0, t1] (s), t0 <= t1: exact for each factor
 * (level, each spike, daily, growth), hence exact whenever at most one
 * factor varies on the interval, and an upper bound always. */
double wl_rate_bound(const wl_rate *r, double t0, double t1);

/* The supremum of the rate over [t0, t1) (s), t0 < t1 (t0 == t1: the rate
 * at t0), exact per factor as wl_rate_bound: what a thinning window up to
 * a breakpoint needs. A factor that jumps at t1 (a segment starting there,
 * a spike without a ramp) counts with the value it has before t1, so the
 * bound of a piece never includes the next piece's peak. */
double wl_rate_sup(const wl_rate *r, double t0, double t1);

/* The expected number of arrivals in [t0, t1] (s): closed form on pieces
 * where at most one spike ramps, adaptive GSL quadrature where several
 * overlap. For tests and reporting, not for hot paths. */
double wl_rate_integral(const wl_rate *r, double t0, double t1);

/* The first time > t (s) at which a factor changes its form (a segment
 * start, a spike phase boundary, or one of 8 equal steps along a ramp), or
 * INFINITY: thinning re-bounds there. */
double wl_rate_next_break(const wl_rate *r, double t);

/* True if the rate is zero at every time >= t (s): no arrival will come. */
bool wl_rate_zero_from(const wl_rate *r, double t);

/* ------------------------------------------------------------ arrivals -- */

typedef enum {
  WL_ARRIVALS_POISSON,  /* rate: any wl_rate, by thinning */
  WL_ARRIVALS_GAMMA,    /* rate.base_per_s, gamma_cv: renewal, gamma gaps */
  WL_ARRIVALS_MMPP,     /* mmpp_*: two-state Markov-modulated Poisson */
  WL_ARRIVALS_COUNT
} wl_arrivals_kind;

/* The names a scenario writes ("poisson", "gamma", "mmpp"), by kind. */
extern const char *const wl_arrivals_names[WL_ARRIVALS_COUNT];

typedef struct {
  wl_arrivals_kind kind;
  wl_rate rate;                 /* POISSON: the rate; GAMMA: base_per_s only */
  double gamma_cv;              /* GAMMA: cv of the inter-arrival times, > 0 */
  double mmpp_rate_per_s[2];    /* MMPP: Poisson rate in each state, >= 0 */
  double mmpp_sojourn_s[2];     /* MMPP: mean (exponential) time in each state */
} wl_arrivals_params;

/* An arrival process; fields are private but readable (counters). */
typedef struct {
  wl_arrivals_params p;
  gsl_rng *rng;            /* owned */
  bool started;
  double gamma_shape, gamma_scale;
  int phase;               /* MMPP: current state, 0 or 1 */
  double clock_s;          /* MMPP: time up to which the states are simulated */
  double switch_s;         /* MMPP: end of the current state's sojourn */
  uint64_t candidates;     /* POISSON: candidates drawn (thinning efficiency) */
  uint64_t arrivals;       /* arrivals returned */
} wl_arrivals;

/* NULL if p is usable; else a message "key: what is wrong" in why (keys as
 * in wl_rate_check, or gamma_cv, mmpp_rate_per_s.[i], ...). */
const char *wl_arrivals_check(const wl_arrivals_params *p, char *why, size_t n);

/* Set up a process from checked parameters p (copied) with its own stream
 * sim_rng_alloc(seed, stream); release with wl_arrivals_release. */
void wl_arrivals_init(wl_arrivals *a, const wl_arrivals_params *p, uint64_t seed,
                      const char *stream);
void wl_arrivals_release(wl_arrivals *a);

/* The next arrival time (ns, >= now) after `now`, which is the process's
 * start time on the first call and the previous arrival afterwards (calls
 * must not go back in time). SIM_TIME_MAX if the rate is zero forever after.
 * Processes start stationary: the first gamma gap is the renewal process's
 * forward recurrence time and the MMPP's first state is drawn from its
 * stationary law. */
sim_time wl_arrivals_next(wl_arrivals *a, sim_time now);

/* The long-run mean rate of a constant-rate process (GAMMA, MMPP; POISSON
 * without modifiers), per second: for the MMPP (r1 m1 + r2 m2) / (m1 + m2). */
double wl_arrivals_mean_rate(const wl_arrivals_params *p);

/* --------------------------------------------------------------- sizes -- */

typedef enum {
  WL_SIZE_FIXED,      /* value */
  WL_SIZE_UNIFORM,    /* integers min..max, both included */
  WL_SIZE_NORMAL,     /* mean, sd: rounded; draws below 1 are redrawn */
  WL_SIZE_LOGNORMAL,  /* mean, cv: rounded; draws below 1 are redrawn */
  WL_SIZE_GEOMETRIC,  /* mean >= 1: number of trials to the first success */
  WL_SIZE_EMPIRICAL,  /* values, each with probability 1/nvalues */
  WL_SIZE_COUNT
} wl_size_kind;

/* The names a scenario writes ("fixed", "uniform", ...), by kind. */
extern const char *const wl_size_names[WL_SIZE_COUNT];

typedef struct {
  wl_size_kind kind;
  int64_t value;             /* FIXED, >= 1 */
  int64_t min, max;          /* UNIFORM, 1 <= min <= max */
  double mean, sd, cv;       /* NORMAL (mean, sd), LOGNORMAL (mean, cv), GEOMETRIC (mean) */
  const int64_t *values;     /* EMPIRICAL, each >= 1; copied by wl_size_init */
  size_t nvalues;
  int64_t cap;               /* every draw is at most cap (context length); 0: no cap */
} wl_size_params;

typedef struct {
  wl_size_kind kind;
  int64_t cap;               /* effective cap (INT64_MAX when none) */
  int64_t a, b;              /* FIXED a; UNIFORM a..b */
  double mu, sigma;          /* NORMAL mean, sd; LOGNORMAL log-space mu, sigma */
  double p;                  /* GEOMETRIC success probability */
  int64_t *values;           /* EMPIRICAL, owned */
  size_t nvalues;
} wl_size;

/* NULL if p is usable; else "key: what is wrong" in why. */
const char *wl_size_check(const wl_size_params *p, char *why, size_t n);

/* Build s from checked parameters (EMPIRICAL values are copied); release
 * with wl_size_release. */
void wl_size_init(wl_size *s, const wl_size_params *p);
void wl_size_release(wl_size *s);

/* A draw: an integer in [1, cap], from stream r. */
int64_t wl_size_sample(const wl_size *s, gsl_rng *r);

/* The mean of the distribution as parameterised (before rounding, redrawing
 * below 1 and capping: for reports, not an exact moment of the draws). */
double wl_size_nominal_mean(const wl_size_params *p);

#endif
