/* sim/report_combine.c: the summary of independent replications of one
 * scenario (see report.h): for every numeric metric the mean over the
 * replications where it is defined and the half-width of its 95%
 * confidence interval (Student t with n - 1 degrees of freedom, GSL), as
 * KEY and KEY_ci95; texts and warnings from the first replication. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>

#include "sim/report.h"
#include "sim/util.h"

static double value(const sim_metric *m) { return m->kind == SIM_VAL_INT ? (double)m->i : m->x; }

void sim_report_combine(const sim_report *reps, size_t n, sim_report *out)
{
  sim_report_init(out);
  if (n == 0) return;
  double *v = xmalloc(n * sizeof *v);
  for (size_t i = 0; i < reps[0].len; i++) {
    const sim_metric *m = &reps[0].items[i];
    if (m->kind == SIM_VAL_STR) {
      sim_report_str(out, m->key, m->s, m->label);
      continue;
    }
    size_t k = 0;
    for (size_t r = 0; r < n; r++) {
      const sim_metric *mr = sim_report_get(&reps[r], m->key);
      if (mr && mr->kind != SIM_VAL_STR && isfinite(value(mr))) v[k++] = value(mr);
    }
    double mean = k ? gsl_stats_mean(v, 1, k) : NAN;
    double ci = NAN;
    if (k >= 2) ci = gsl_cdf_tdist_Pinv(0.975, (double)(k - 1)) * gsl_stats_sd_m(v, 1, k, mean) / sqrt((double)k);
    sim_report_num(out, m->key, mean, m->label);
    char key[512], label[512];
    snprintf(key, sizeof key, "%s_ci95", m->key);
    snprintf(label, sizeof label, "  95%% CI half-width over replications");
    sim_report_num(out, key, ci, label);
  }
  for (size_t i = 0; i < reps[0].nwarnings; i++) sim_report_warn(out, "%s", reps[0].warnings[i]);
  free(v);
}
