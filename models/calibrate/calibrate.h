/* models/calibrate/calibrate.h: fitting a replica's step-time constants to
 * measured step times. An observation is one batch composition (llm_batch)
 * and the time it took; the fit finds the constants (host time per step,
 * per sequence and per new token; the GPU's compute and memory efficiency;
 * the tensor-parallel link's latency) that minimise the squared relative
 * error of the step model over the observations, with GSL's nonlinear least
 * squares (gsl_multifit_nlinear, trust region with Levenberg-Marquardt
 * steps), and reports each constant's 95% confidence interval from the
 * covariance at the optimum. Pure: no files, no engine. The driver's
 * `clustersim calibrate` turns measurement files into observations and the
 * result into a catalog file. */
#ifndef CAL_CALIBRATE_H
#define CAL_CALIBRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "models/llm/llm_step.h"

/* The constants a fit may move. */
typedef enum {
  CAL_HOST_FIXED,      /* s per step */
  CAL_HOST_PER_SEQ,    /* s per sequence in the step */
  CAL_HOST_PER_TOKEN,  /* s per new token (prompt tokens computed + decode tokens) */
  CAL_COMPUTE_EFF,     /* fraction of peak FLOP/s the GEMMs reach */
  CAL_MEMORY_EFF,      /* fraction of peak bandwidth weight reads reach */
  CAL_LINK_LATENCY,    /* s, one-way latency of the tensor-parallel link (tp > 1) */
  CAL_NPARAMS
} cal_param;

/* Names as written in flags and reports: "host_fixed_s", ... */
extern const char *const cal_param_names[CAL_NPARAMS];

/* One measured step: what it processed and how long it took (s). weight
 * scales its residual (1 for a plain measurement; a median over k steps may
 * carry sqrt(k)). extra_s is time the measurement includes outside the
 * step and outside the fit (a first-token latency's front-end time);
 * first_token marks such a measurement. */
typedef struct {
  llm_batch batch;
  double measured_s;
  double weight;
  double extra_s;
  bool first_token;
} cal_obs;

typedef struct {
  double value[CAL_NPARAMS];   /* fitted (or held) values */
  double ci95[CAL_NPARAMS];    /* half-width of the 95% interval; 0 for held constants */
  bool fitted[CAL_NPARAMS];
  double rms_rel_error;        /* root mean square of (predicted - measured) / measured */
  double max_rel_error;        /* largest |relative error| */
  size_t worst;                /* index of that observation */
  size_t n;                    /* observations used */
  int iterations;
  bool converged;
  bool undetermined;           /* a fitted constant the measurements cannot determine (see message) */
  char message[256];           /* why the fit failed or what to watch (identifiability) */
} cal_result;

/* The starting point of a fit: the replica's own constants (its GPU's
 * efficiencies, its link's latency, its stack's host times). */
void cal_params_from_replica(const llm_replica *r, double p[CAL_NPARAMS]);

/* Predicted time (s) of batch b on replica r with the constants p: the
 * replica's step model (llm_step, with its stack's host overlap, launches
 * and kernels) with the GPU's efficiencies, the link's latency and the
 * host times fixed + per sequence + per token replaced. An empty batch
 * takes 0. */
double cal_predict(const llm_replica *r, const double p[CAL_NPARAMS], const llm_batch *b);

/* Fit the constants marked in `which` (the others stay at start[]) to the
 * n observations, from start[]. Constants are kept positive (fitted in log
 * space; efficiencies also at most 1). Returns true when the solver
 * converged; `out` is filled either way (message says what went wrong, or
 * names a constant the observations cannot determine: a confidence interval
 * wider than the value). Needs n > number of fitted constants. */
bool cal_fit(const llm_replica *r, const cal_obs *obs, size_t n, const bool which[CAL_NPARAMS],
             const double start[CAL_NPARAMS], cal_result *out);

#endif
