/* sim/dist.h: probability distributions to draw model inputs from
 * (inter-arrival times, service times, sizes), sampled with GSL's gsl_ran_*
 * on a caller-supplied stream. A sim_dist is a small value: build it once
 * with sim_dist_make, sample it millions of times. Units are the caller's
 * (seconds for times). The table of types is data, so the configuration
 * layer and --help list them without knowing each one. */
#ifndef SIM_DIST_H
#define SIM_DIST_H

#include <gsl/gsl_rng.h>
#include <stdbool.h>

typedef enum {
  SIM_DIST_EXPONENTIAL,
  SIM_DIST_DETERMINISTIC,
  SIM_DIST_UNIFORM,
  SIM_DIST_LOGNORMAL,
  SIM_DIST_GAMMA,
  SIM_DIST_ERLANG,
  SIM_DIST_WEIBULL,
  SIM_DIST_COUNT
} sim_dist_kind;

/* Range of durations a scenario may give (s): 1 ns to 10^7 s. */
#define SIM_DIST_MIN_S 1e-9
#define SIM_DIST_MAX_S 1e7

/* Which parameters a distribution type takes (bit set). */
enum {
  SIM_DP_MEAN = 1 << 0,   /* mean (or a rate = 1/mean) */
  SIM_DP_CV = 1 << 1,     /* coefficient of variation, > 0 */
  SIM_DP_K = 1 << 2,      /* integer shape k >= 1 */
  SIM_DP_SHAPE = 1 << 3,  /* real shape > 0 */
  SIM_DP_MINMAX = 1 << 4  /* bounds min < max */
};

typedef struct {
  const char *name;  /* as written in a scenario: "exponential" */
  unsigned params;   /* SIM_DP_* it requires */
  const char *help;  /* one line */
} sim_dist_type;

/* Parameters as given by the user; unused fields are ignored. A type that
 * takes a mean accepts either `mean` or `rate` (> 0, then mean = 1/rate). */
typedef struct {
  double mean, rate, cv, shape, min, max;
  long k;
} sim_dist_params;

typedef struct {
  sim_dist_kind kind;
  double mean;     /* the distribution's mean */
  double rate;     /* 1/mean, exactly as given when given as a rate */
  double var;      /* its variance */
  double a, b;     /* derived GSL parameters */
  long k;
} sim_dist;

/* The type table, indexed by sim_dist_kind. */
extern const sim_dist_type sim_dist_types[SIM_DIST_COUNT];

/* The kind named `name`, or -1 if none. */
int sim_dist_lookup(const char *name);

/* Build d from validated-by-type parameters. Returns NULL on success, else a
 * static message saying which parameter is wrong and why. */
const char *sim_dist_make(sim_dist *d, sim_dist_kind kind, const sim_dist_params *p);

/* A draw from d on stream r (never negative for the time-valued types). */
double sim_dist_sample(const sim_dist *d, gsl_rng *r);

/* Moments of d. */
static inline double sim_dist_mean(const sim_dist *d) { return d->mean; }
static inline double sim_dist_rate(const sim_dist *d) { return d->rate; }
static inline double sim_dist_variance(const sim_dist *d) { return d->var; }
/* The type's name. */
static inline const char *sim_dist_name(const sim_dist *d)
{
  return sim_dist_types[d->kind].name;
}

#endif
