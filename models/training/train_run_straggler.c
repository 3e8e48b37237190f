/* models/training/train_run_straggler.c: the whole run's wait for the
 * slowest GPU of a synchronous step when every GPU's compute jitters
 * (issue 15, helper "wholefit"): the expected maximum of n independent
 * standard normals (by quadrature, GSL) and the per-step wait it gives
 * (formula and the fitted jitter in train.h, TRAIN_DEFAULT_STRAGGLER_JITTER).
 * Pure arithmetic; owns nothing. */
#include <math.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_randist.h>

#include "models/training/train.h"
#include "sim/util.h"

#define EMAX_WORKSPACE 256

/* integrand of E[max] = int x n phi(x) Phi(x)^(n-1) dx */
static double emax_integrand(double x, void *p)
{
  double n = *(const double *)p;
  double phi = gsl_ran_ugaussian_pdf(x);
  double lP = log(gsl_cdf_ugaussian_P(x));
  return x * n * phi * exp((n - 1) * lP);
}

double train_expected_max_normal(double n)
{
  if (!(n > 1)) return 0;
  gsl_integration_workspace *ws = gsl_integration_workspace_alloc(EMAX_WORKSPACE);
  if (!ws) SIM_BUG("gsl_integration_workspace_alloc failed");
  gsl_function f = {.function = emax_integrand, .params = &n};
  double r = 0, err = 0;
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  /* the mass lies within [-9, 9 + sqrt(2 ln n)] for every n a cluster has */
  int st = gsl_integration_qags(&f, -9, 9 + sqrt(2 * log(n)), 1e-12, 1e-10, EMAX_WORKSPACE, ws, &r, &err);
  gsl_set_error_handler(old);
  gsl_integration_workspace_free(ws);
  if (st && st != GSL_EROUND) SIM_BUG("E[max] of %g normals: quadrature failed (%s)", n, gsl_strerror(st));
  return r;
}

double train_sync_units(const train_job *j)
{
  int tp = j->tp > 0 ? j->tp : 1;
  return (double)train_job_gpus(j) / tp;
}

double train_straggler_wait_s(const train_job *j, const train_step_result *step, double jitter)
{
  if (!(jitter > 0)) return 0;
  double m = step->micro_batches > 0 ? step->micro_batches : 1;
  return step->compute_s * jitter / sqrt(m) * train_expected_max_normal(train_sync_units(j));
}
