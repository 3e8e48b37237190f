/* models/validation/kernels/fit_kernels.c: fits the shape model's constants
 * (llm_kernel_params, models/llm/kernels.h) on the FIT rows of points.csv
 * with GSL's nonlinear least squares (gsl_multifit_nlinear, trust region,
 * finite-difference Jacobian), on log residuals (a 10% miss weighs the same
 * on a 20 us kernel and a 3 ms one). Prints the constants with their
 * standard errors, then every row (FIT and HELD-OUT) against the model with
 * the fitted constants, then the same table for the constants compiled into
 * kernels.c. A tool: not a test, not part of the simulator.
 *
 * Usage: fit_kernels [points.csv]   (default: the source tree's copy) */
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/config/catalog_load.h"
#include "kpoints.h"
#include "sim/util.h"

#ifndef KP_POINTS
#define KP_POINTS "models/validation/kernels/points.csv"
#endif

typedef enum { G_GEMM, G_PREFILL, G_CAUSAL, G_HEADDIM, G_DECODE } group;

static const char *const group_names[] = {"GEMM", "prefill attention (level, ramp)", "causal masking",
                                          "head dim", "decode attention"};

#define PARAM(f) offsetof(llm_kernel_params, f)

typedef struct {
  group g;
  const kpoints *pts;
  llm_kernel_params k;
  size_t off[3];           /* the fitted members */
  size_t np;
  size_t rows[256];         /* the FIT rows of this group (pairs: causal or hd64 row first) */
  size_t pair[256];         /* G_CAUSAL, G_HEADDIM: the matching row */
  size_t n;
} fit;

static double *member(llm_kernel_params *k, size_t off) { return (double *)((char *)k + off); }

static const char *member_name(size_t off)
{
  static const struct {
    size_t off;
    const char *name;
  } names[] = {{PARAM(gemm_quant_exp), "gemm_quant_exp"}, {PARAM(gemm_roofline_p), "gemm_roofline_p"},
               {PARAM(attn_level), "attn_level"},         {PARAM(attn_seq0), "attn_seq0"},
               {PARAM(attn_causal0), "attn_causal0"},     {PARAM(attn_hd0), "attn_hd0"},
               {PARAM(decode_bw_eff), "decode_bw_eff"},   {PARAM(decode_fixed_s), "decode_fixed_s"},
               {PARAM(gemm_fixed_s), "gemm_fixed_s"}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (names[i].off == off) return names[i].name;
  return "?";
}

/* the row of `pts` whose id is p's with "causal" -> "noncausal" (G_CAUSAL)
 * or "hd64" -> "hd128" (G_HEADDIM); (size_t)-1 if none */
static size_t find_pair(const kpoints *pts, const kpoint *p, group g)
{
  const char *from = g == G_CAUSAL ? "-causal-" : "-hd64-", *to = g == G_CAUSAL ? "-noncausal-" : "-hd128-";
  const char *at = strstr(p->id, from);
  if (!at) return (size_t)-1;
  char want[256];
  snprintf(want, sizeof want, "%.*s%s%s", (int)(at - p->id), p->id, to, at + strlen(from));
  for (size_t j = 0; j < pts->n; j++)
    if (!strcmp(pts->v[j].id, want)) return j;
  return (size_t)-1;
}

static void select_rows(fit *f)
{
  f->n = 0;
  for (size_t i = 0; i < f->pts->n; i++) {
    const kpoint *p = &f->pts->v[i];
    bool take = false;
    switch (f->g) {
    case G_GEMM: take = !strcmp(p->role, "fit") && p->kind == KP_GEMM; break;
    case G_PREFILL: take = !strcmp(p->role, "fit") && p->kind == KP_PREFILL; break;
    case G_DECODE: take = !strcmp(p->role, "fit") && p->kind == KP_DECODE; break;
    case G_CAUSAL: take = !strcmp(p->role, "fit-ratio") && p->causal; break;
    case G_HEADDIM: take = !strcmp(p->role, "fit-ratio") && !p->causal && p->head_dim == 64; break;
    }
    if (!take) continue;
    size_t j = f->g == G_CAUSAL || f->g == G_HEADDIM ? find_pair(f->pts, p, f->g) : 0;
    if (j == (size_t)-1) continue;
    if (f->n >= sizeof f->rows / sizeof f->rows[0]) SIM_BUG("too many rows in one fit group");
    f->rows[f->n] = i;
    f->pair[f->n] = j;
    f->n++;
  }
}

/* log(predicted / measured) of row r of the group */
static double residual(const fit *f, const llm_kernel_params *k, size_t r)
{
  const kpoint *p = &f->pts->v[f->rows[r]];
  if (f->g == G_CAUSAL) {
    const kpoint *q = &f->pts->v[f->pair[r]];
    double model = p->seq / (p->seq + k->attn_causal0);
    return log(model / (p->measured / q->measured));
  }
  if (f->g == G_HEADDIM) {
    const kpoint *q = &f->pts->v[f->pair[r]];
    double h0 = k->attn_hd0, model = (64 / (64 + h0)) / (128 / (128 + h0));
    return log(model / (p->measured / q->measured));
  }
  double pred = kp_predict(k, p);
  /* TFLOP/s rows: a rate, so the log ratio has the other sign of a time's */
  return strcmp(p->unit, "TFLOP/s") ? log(pred / p->measured) : log(p->measured / pred);
}

static int resid_cb(const gsl_vector *x, void *data, gsl_vector *out)
{
  fit *f = data;
  llm_kernel_params k = f->k;
  for (size_t i = 0; i < f->np; i++) *member(&k, f->off[i]) = gsl_vector_get(x, i);
  for (size_t r = 0; r < f->n; r++) {
    double e = residual(f, &k, r);
    gsl_vector_set(out, r, isfinite(e) ? e : 1e3);
  }
  return GSL_SUCCESS;
}

/* Fit the group's members from their values in f->k; store them there. */
static void run_fit(fit *f)
{
  select_rows(f);
  printf("\n## %s: %zu FIT rows, %zu constants\n", group_names[f->g], f->n, f->np);
  if (f->n <= f->np) SIM_BUG("fewer rows than constants");
  gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
  gsl_multifit_nlinear_workspace *w =
    gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, f->n, f->np);
  gsl_multifit_nlinear_fdf fdf = {.f = resid_cb, .df = NULL, .fvv = NULL, .n = f->n, .p = f->np,
                                  .params = f};
  gsl_vector *x = gsl_vector_alloc(f->np);
  for (size_t i = 0; i < f->np; i++) gsl_vector_set(x, i, *member(&f->k, f->off[i]));
  gsl_multifit_nlinear_init(x, &fdf, w);
  int info, st = gsl_multifit_nlinear_driver(200, 1e-10, 1e-10, 1e-10, NULL, NULL, &info, w);
  gsl_vector *fres = gsl_multifit_nlinear_residual(w);
  double chisq;
  gsl_blas_ddot(fres, fres, &chisq);
  gsl_matrix *cov = gsl_matrix_alloc(f->np, f->np);
  gsl_multifit_nlinear_covar(gsl_multifit_nlinear_jac(w), 0.0, cov);
  double s2 = chisq / (double)(f->n - f->np);
  const gsl_vector *xs = gsl_multifit_nlinear_position(w);
  for (size_t i = 0; i < f->np; i++) {
    double v = gsl_vector_get(xs, i), se = sqrt(gsl_matrix_get(cov, i, i) * s2);
    *member(&f->k, f->off[i]) = v;
    printf("  %s = %.6g +- %.2g (1 sd)\n", member_name(f->off[i]), v, se);
  }
  printf("  status %s after %zu iterations; rms log residual %.3f\n", gsl_strerror(st),
         gsl_multifit_nlinear_niter(w), sqrt(chisq / (double)f->n));
  gsl_matrix_free(cov);
  gsl_vector_free(x);
  gsl_multifit_nlinear_free(w);
}

/* The ratio rows (role fit-ratio / heldout-ratio): measured and model ratio. */
static void ratio_table(const kpoints *pts, const llm_kernel_params *k)
{
  printf("\n| ratio | role | measured | model | error |\n|---|---|---|---|---|\n");
  for (size_t i = 0; i < pts->n; i++) {
    const kpoint *p = &pts->v[i];
    if (!strstr(p->role, "ratio")) continue;
    group g = p->causal ? G_CAUSAL : G_HEADDIM;
    if (g == G_HEADDIM && p->head_dim != 64) continue;
    size_t j = find_pair(pts, p, g);
    if (j == (size_t)-1) continue;
    double meas = p->measured / pts->v[j].measured, h0 = k->attn_hd0;
    double model = g == G_CAUSAL ? p->seq / (p->seq + k->attn_causal0) : (64 / (64 + h0)) / (128 / (128 + h0));
    printf("| %s / %s | %s | %.3f | %.3f | %+.1f%% |\n", p->id, pts->v[j].id, p->role, meas, model,
           100 * (model / meas - 1));
  }
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Every row against k; per role and kind: median and max |error|. */
static void table(const kpoints *pts, const llm_kernel_params *k, const char *title, bool rows)
{
  printf("\n## %s\n", title);
  if (rows) printf("\n| point | role | gpu | published | predicted | error |\n|---|---|---|---|---|---|\n");
  const char *roles[] = {"fit", "heldout"};
  const char *kinds[] = {"GEMM", "prefill", "decode"};
  double *errs = xmalloc(pts->n * sizeof *errs);
  for (size_t i = 0; i < pts->n; i++) {
    const kpoint *p = &pts->v[i];
    double pred = kp_predict(k, p);
    if (!isfinite(pred) || !rows) continue;
    printf("| %s | %s | %s | %.4g %s | %.4g | %+.1f%% |\n", p->id, p->role, p->gpu_name, p->measured,
           p->unit, pred, 100 * (pred / p->measured - 1));
  }
  printf("\n| role | kernel | rows | median abs error | max abs error |\n|---|---|---|---|---|\n");
  for (int r = 0; r < 2; r++)
    for (int kd = 0; kd < 3; kd++) {
      size_t n = 0;
      for (size_t i = 0; i < pts->n; i++) {
        const kpoint *p = &pts->v[i];
        double pred = kp_predict(k, p);
        if ((int)p->kind != kd || strcmp(p->role, roles[r]) || !isfinite(pred)) continue;
        errs[n++] = fabs(pred / p->measured - 1);
      }
      if (!n) continue;
      qsort(errs, n, sizeof *errs, cmp_double);
      double med = n % 2 ? errs[n / 2] : (errs[n / 2 - 1] + errs[n / 2]) / 2;
      printf("| %s | %s | %zu | %.1f%% | %.1f%% |\n", roles[r], kinds[kd], n, 100 * med, 100 * errs[n - 1]);
    }
  free(errs);
}

int main(int argc, char **argv)
{
  const char *path = argc > 1 ? argv[1] : CS_SOURCE_DIR "/" KP_POINTS;
  cfg_errors errs;
  cfg_errors_init(&errs, NULL);
  sim_catalogs *cats = cfg_catalogs_load_all(NULL, 0, &errs);
  cfg_errors_print(&errs, stderr);
  cfg_errors_release(&errs);
  if (!cats) return 1;
  kpoints pts;
  if (!kp_read(&pts, path, cats)) return 1;
  gsl_set_error_handler_off();

  /* start from the compiled constants; fit group by group (the groups share no constant) */
  llm_kernel_params k = llm_kernels_fitted;
  fit f = {.pts = &pts};
  struct {
    group g;
    size_t off[3], np;
  } plan[] = {
    {G_GEMM, {PARAM(gemm_quant_exp), PARAM(gemm_roofline_p), PARAM(gemm_fixed_s)}, 3},
    {G_CAUSAL, {PARAM(attn_causal0), 0}, 1},
    {G_HEADDIM, {PARAM(attn_hd0), 0}, 1},
    {G_PREFILL, {PARAM(attn_level), PARAM(attn_seq0)}, 2},
    {G_DECODE, {PARAM(decode_bw_eff), PARAM(decode_fixed_s)}, 2},
  };
  for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++) {
    f.g = plan[i].g;
    f.k = k;
    f.off[0] = plan[i].off[0];
    f.off[1] = plan[i].off[1];
    f.off[2] = plan[i].off[2];
    f.np = plan[i].np;
    run_fit(&f);
    k = f.k;
  }
  printf("\nconst llm_kernel_params llm_kernels_fitted = {\n"
         "  .gemm_quant_exp = %.3g,\n  .gemm_roofline_p = %.3g,\n  .attn_level = %.3g,\n"
         "  .attn_seq0 = %.3g,\n  .attn_causal0 = %.3g,\n  .attn_hd0 = %.3g,\n"
         "  .decode_bw_eff = %.3g,\n  .decode_fixed_s = %.3ge-6,\n  .gemm_fixed_s = %.3ge-6,\n};\n",
         k.gemm_quant_exp, k.gemm_roofline_p, k.attn_level, k.attn_seq0, k.attn_causal0, k.attn_hd0,
         k.decode_bw_eff, k.decode_fixed_s * 1e6, k.gemm_fixed_s * 1e6);
  table(&pts, &k, "every row, constants as fitted now", true);
  ratio_table(&pts, &k);
  table(&pts, &llm_kernels_fitted, "every row, constants compiled into kernels.c", true);
  ratio_table(&pts, &llm_kernels_fitted);
  /* today's step model on the same rows: one efficiency per GPU, max(compute,
   * memory), FlashAttention at compute_efficiency, decode at 0.90 of peak */
  const llm_kernel_params today = {.gemm_quant_exp = 0, .gemm_roofline_p = 1000, .attn_level = 1,
                                   .attn_seq0 = 0, .attn_causal0 = 0, .attn_hd0 = 0,
                                   .decode_bw_eff = 0.90, .decode_fixed_s = 0, .gemm_fixed_s = 0};
  table(&pts, &today, "summary with today's constants (one efficiency per GPU; for comparison)", false);
  kp_free(&pts);
  cfg_catalogs_free(cats);
  return 0;
}
