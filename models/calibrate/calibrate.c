/* models/calibrate/calibrate.c: the step-time fit of calibrate.h: the
 * prediction with replaced constants, and the nonlinear least-squares fit
 * (GSL multifit_nlinear) with confidence intervals from its covariance. */
#include "models/calibrate/calibrate.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const cal_param_names[CAL_NPARAMS] = {
  "host_fixed_s", "host_per_seq_s", "host_per_token_s", "compute_efficiency", "memory_efficiency",
  "link_latency_s",
};

static bool is_fraction(int j) { return j == CAL_COMPUTE_EFF || j == CAL_MEMORY_EFF; }

void cal_params_from_replica(const llm_replica *r, double p[CAL_NPARAMS])
{
  p[CAL_HOST_FIXED] = r->overhead_s;
  p[CAL_HOST_PER_SEQ] = r->host_per_seq_s;
  p[CAL_HOST_PER_TOKEN] = r->host_per_token_s;
  p[CAL_COMPUTE_EFF] = r->gpu->compute_efficiency;
  p[CAL_MEMORY_EFF] = r->gpu->memory_efficiency;
  p[CAL_LINK_LATENCY] = r->tp_link ? net_alpha_s(r->tp_link) : 0;
}

double cal_predict(const llm_replica *r, const double p[CAL_NPARAMS], const llm_batch *b)
{
  if (b->prefill_tokens + b->decode_seqs <= 0) return 0;
  /* the replica on a copy of its GPU (and link) with the constants
   * replaced: the flat rates scale with the efficiencies, and the shape
   * model (gemm = "shape") is anchored on the GPU's compute_efficiency */
  llm_replica q = *r;
  gpu_spec g = *r->gpu;
  net_link link;
  g.compute_efficiency = p[CAL_COMPUTE_EFF];
  g.memory_efficiency = p[CAL_MEMORY_EFF];
  q.gpu = &g;
  q.shape_n = 0;  /* the replica's GEMM tables are for its own GPU's efficiency */
  double scale = p[CAL_COMPUTE_EFF] / r->gpu->compute_efficiency;
  q.flops_per_s = r->flops_per_s * scale;
  q.attn_flops_per_s = r->attn_flops_per_s * scale;
  q.bytes_per_s = r->bytes_per_s * p[CAL_MEMORY_EFF] / r->gpu->memory_efficiency;
  if (r->tp_link) {
    link = *r->tp_link;
    link.latency_us = p[CAL_LINK_LATENCY] * 1e6;
    q.tp_link = &link;
  }
  q.overhead_s = p[CAL_HOST_FIXED];
  q.host_per_seq_s = p[CAL_HOST_PER_SEQ];
  q.host_per_token_s = p[CAL_HOST_PER_TOKEN];
  llm_step_cost c;
  llm_step(&q, b, &c);
  return c.total_s;
}

/* ---- the fit: free constants in an unbounded space ---- */

typedef struct {
  const llm_replica *r;
  const cal_obs *obs;
  size_t n;
  int free[CAL_NPARAMS], nfree;  /* indices of the fitted constants */
  double held[CAL_NPARAMS];      /* all constants; the free ones overwritten from x */
} fit_ctx;

/* Positive constants are fitted as log(p), efficiencies as logit(p). */
static double to_x(int j, double p)
{
  if (is_fraction(j)) return log(p / (1 - p));
  return log(p);
}

static double from_x(int j, double x)
{
  if (is_fraction(j)) return 1 / (1 + exp(-x));
  return exp(x);
}

/* dp/dx at p */
static double dp_dx(int j, double p) { return is_fraction(j) ? p * (1 - p) : p; }

static void unpack(const fit_ctx *c, const gsl_vector *x, double p[CAL_NPARAMS])
{
  memcpy(p, c->held, sizeof c->held);
  for (int i = 0; i < c->nfree; i++) p[c->free[i]] = from_x(c->free[i], gsl_vector_get(x, (size_t)i));
}

static int residuals(const gsl_vector *x, void *data, gsl_vector *f)
{
  const fit_ctx *c = data;
  double p[CAL_NPARAMS];
  unpack(c, x, p);
  for (size_t i = 0; i < c->n; i++) {
    const cal_obs *o = &c->obs[i];
    double pred = cal_predict(c->r, p, &o->batch) + o->extra_s;
    gsl_vector_set(f, i, o->weight * (pred - o->measured_s) / o->measured_s);
  }
  return GSL_SUCCESS;
}

static void errors_at(const fit_ctx *c, const double p[CAL_NPARAMS], cal_result *out)
{
  double ss = 0, worst = -1;
  for (size_t i = 0; i < c->n; i++) {
    const cal_obs *o = &c->obs[i];
    double e = (cal_predict(c->r, p, &o->batch) + o->extra_s - o->measured_s) / o->measured_s;
    ss += e * e;
    if (fabs(e) > worst) {
      worst = fabs(e);
      out->worst = i;
    }
  }
  out->rms_rel_error = c->n ? sqrt(ss / (double)c->n) : 0;
  out->max_rel_error = worst < 0 ? 0 : worst;
}

bool cal_fit(const llm_replica *r, const cal_obs *obs, size_t n, const bool which[CAL_NPARAMS],
             const double start[CAL_NPARAMS], cal_result *out)
{
  memset(out, 0, sizeof *out);
  fit_ctx c = {.r = r, .obs = obs, .n = n};
  memcpy(c.held, start, sizeof c.held);
  for (int j = 0; j < CAL_NPARAMS; j++) {
    out->value[j] = start[j];
    if (!which[j]) continue;
    if (j == CAL_LINK_LATENCY && !r->tp_link) continue;  /* no link at tp 1: nothing to fit */
    c.free[c.nfree++] = j;
    out->fitted[j] = true;
  }
  out->n = n;
  for (size_t i = 0; i < n; i++) {
    if (!(obs[i].measured_s > 0) || !(obs[i].weight > 0)) {
      snprintf(out->message, sizeof out->message, "observation %zu: a step time and weight > 0 are needed", i + 1);
      return false;
    }
  }
  if (c.nfree == 0) {
    errors_at(&c, c.held, out);
    snprintf(out->message, sizeof out->message, "nothing to fit");
    return false;
  }
  if (n <= (size_t)c.nfree) {
    snprintf(out->message, sizeof out->message,
             "%zu measurements for %d constants: give more measurements than constants", n, c.nfree);
    return false;
  }
  for (int i = 0; i < c.nfree; i++) {
    int j = c.free[i];
    double p = start[j];
    /* a start on the boundary of the transformed space moves inside it */
    if (is_fraction(j)) p = fmin(fmax(p, 0.02), 0.98);
    else if (!(p > 0)) p = j == CAL_HOST_FIXED ? 1e-4 : j == CAL_LINK_LATENCY ? 1e-6 : 1e-7;
    c.held[j] = p;
  }

  gsl_error_handler_t *old = gsl_set_error_handler_off();
  size_t np = (size_t)c.nfree;
  gsl_multifit_nlinear_fdf fdf = {.f = residuals, .df = NULL, .fvv = NULL, .n = n, .p = np, .params = &c};
  gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
  gsl_multifit_nlinear_workspace *w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, n, np);
  gsl_vector *x = gsl_vector_alloc(np);
  gsl_matrix *cov = gsl_matrix_alloc(np, np);
  for (size_t i = 0; i < np; i++) gsl_vector_set(x, i, to_x(c.free[i], c.held[c.free[i]]));
  int info = 0, status = gsl_multifit_nlinear_init(x, &fdf, w);
  if (status == GSL_SUCCESS) status = gsl_multifit_nlinear_driver(500, 1e-10, 1e-10, 0.0, NULL, NULL, &info, w);
  out->iterations = (int)gsl_multifit_nlinear_niter(w);
  out->converged = status == GSL_SUCCESS;

  double p[CAL_NPARAMS];
  unpack(&c, w->x, p);
  memcpy(out->value, p, sizeof p);
  errors_at(&c, p, out);

  /* covariance of x scaled by the residual variance, carried to p */
  gsl_multifit_nlinear_covar(gsl_multifit_nlinear_jac(w), 0.0, cov);
  double chi = gsl_blas_dnrm2(gsl_multifit_nlinear_residual(w));
  double dof = (double)(n - np);
  double s2 = chi * chi / dof, t = gsl_cdf_tdist_Pinv(0.975, dof);
  const char *loose = NULL, *twin[2] = {NULL, NULL};
  for (size_t i = 0; i < np; i++) {
    int j = c.free[i];
    double vi = gsl_matrix_get(cov, i, i), sx = sqrt(vi * s2);
    out->ci95[j] = t * sx * dp_dx(j, p[j]);
    if (!isfinite(out->ci95[j]) || out->ci95[j] > p[j]) loose = loose ? loose : cal_param_names[j];
    /* two constants whose effects the measurements cannot tell apart: their
     * estimates are correlated to within 1e-4 of +-1 (or one has no variance
     * left at all), whatever the noise */
    for (size_t k = 0; k < i && !twin[0]; k++) {
      double vk = gsl_matrix_get(cov, k, k), ck = gsl_matrix_get(cov, i, k);
      if (!(vi > 0 && vk > 0) || fabs(ck) / sqrt(vi * vk) > 1 - 1e-4) {
        twin[0] = cal_param_names[c.free[k]];
        twin[1] = cal_param_names[j];
      }
    }
  }
  out->undetermined = twin[0] || loose;
  if (twin[0])
    snprintf(out->message, sizeof out->message,
             "%s and %s are not determined by these measurements (they change the step times alike): hold "
             "one of them fixed, or add measurements that separate them",
             twin[0], twin[1]);
  else if (!out->converged)
    snprintf(out->message, sizeof out->message, "the fit did not converge (%s)", gsl_strerror(status));
  else if (loose)
    snprintf(out->message, sizeof out->message,
             "%s is not determined by these measurements (its 95%% interval is wider than its value): hold "
             "it fixed, or add steps where it matters",
             loose);
  gsl_matrix_free(cov);
  gsl_vector_free(x);
  gsl_multifit_nlinear_free(w);
  gsl_set_error_handler(old);
  return out->converged;
}
