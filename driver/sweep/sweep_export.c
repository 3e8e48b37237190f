/* driver/sweep/sweep_export.c: what a sweep leaves for its user (see sweep.h):
 * OUTDIR/sweep.csv, one row per finished point with every metric any point
 * reports (METRIC_mean and METRIC_ci95 over the replications: Student t,
 * GSL), and the compact table on standard output (point, the varied keys,
 * a few headline metrics). No fixed list of metrics decides what is
 * exported: a metric a model starts reporting becomes a column. Reads the
 * database; writes nothing else. */
#include <errno.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/output/outfile.h"
#include "driver/sweep/sweep.h"
#include "sim/table.h"
#include "sim/util.h"

/* Rows of the table on standard output; sweep.csv has them all. */
#define TABLE_MAX_ROWS 100

/* Headline metrics per kind of scenario: the first group whose marker some
 * point reports is shown (the members it reports). */
typedef struct {
  const char *marker;
  const char *metrics[6];
} headline;

static const headline headlines[] = {
  {"ttft_p99_s", {"ttft_p99_s", "tpot_p99_s", "usd_per_million_tokens", "slo_met", NULL}},
  {"iteration_time_s", {"iteration_time_s", "mfu", "train_days", "train_cost_usd", NULL}},
  {"makespan_s", {"wait_mean_s", "wait_p95_s", "utilization", "makespan_s", "cost_usd", NULL}},
  {"sojourn_mean_s", {"wait_mean_s", "wait_p99_s", "sojourn_p99_s", "utilization", NULL}},
};

typedef struct {
  char **names;
  int n, cap;
} name_list;

static int names_find(const name_list *l, const char *s)
{
  for (int i = 0; i < l->n; i++)
    if (!strcmp(l->names[i], s)) return i;
  return -1;
}

static void names_add(name_list *l, const char *s)
{
  if (names_find(l, s) >= 0) return;
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 64;
    l->names = xrealloc(l->names, (size_t)l->cap * sizeof *l->names);
  }
  l->names[l->n++] = xstrdup(s);
}

static void names_free(name_list *l)
{
  for (int i = 0; i < l->n; i++) free(l->names[i]);
  free(l->names);
  memset(l, 0, sizeof *l);
}

static double value_of(const sim_metric *m)
{
  return m->kind == SIM_VAL_INT ? (double)m->i : m->x;
}

/* Mean and 95% half-width (Student t, n - 1 degrees of freedom) of the
 * finite values among v[0..n); NaN where undefined. As sim_report_combine. */
static void mean_ci(const double *v, size_t n, double *work, double *mean, double *ci)
{
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite(v[i])) work[k++] = v[i];
  *mean = k ? gsl_stats_mean(work, 1, k) : NAN;
  *ci = k >= 2 ? gsl_cdf_tdist_Pinv(0.975, (double)(k - 1)) * gsl_stats_sd_m(work, 1, k, *mean) / sqrt((double)k)
               : NAN;
}

/* ---- the table ---- */

typedef struct {
  char **head;
  int ncols;
  char **cells;    /* rows x ncols */
  int rows;
  long more;       /* rows left out */
  bool any_status; /* a point that is not complete */
} table;

static void table_cell(table *t, int row, int c, const char *text)
{
  t->cells[(size_t)row * (size_t)t->ncols + (size_t)c] = xstrdup(text);
}

static void number_cell(double v, char *buf, size_t n)
{
  if (!isfinite(v))
    snprintf(buf, n, "-");
  else
    snprintf(buf, n, "%.4g", v);
}

static void table_print(FILE *f, const table *t, int R)
{
  int *w = xcalloc((size_t)t->ncols, sizeof *w);
  for (int c = 0; c < t->ncols; c++) {
    w[c] = (int)strlen(t->head[c]);
    for (int r = 0; r < t->rows; r++) {
      const char *s = t->cells[(size_t)r * (size_t)t->ncols + (size_t)c];
      if (s && (int)strlen(s) > w[c]) w[c] = (int)strlen(s);
    }
  }
  int last = t->any_status ? t->ncols : t->ncols - 1;
  for (int c = 0; c < last; c++) fprintf(f, "%s%*s", c ? "  " : "", w[c], t->head[c]);
  fputs("\n", f);
  for (int r = 0; r < t->rows; r++) {
    for (int c = 0; c < last; c++) {
      const char *s = t->cells[(size_t)r * (size_t)t->ncols + (size_t)c];
      if (c == t->ncols - 1)
        fprintf(f, "  %s", s ? s : "");
      else
        fprintf(f, "%s%*s", c ? "  " : "", w[c], s ? s : "");
    }
    fputs("\n", f);
  }
  if (t->more) fprintf(f, "... and %ld more point%s in sweep.csv\n", t->more, t->more == 1 ? "" : "s");
  if (R > 1) fprintf(f, "(means over %d replications; sweep.csv has their 95%% half-widths, METRIC_ci95)\n", R);
  free(w);
}

static void table_free(table *t)
{
  for (int c = 0; c < t->ncols; c++) free(t->head[c]);
  for (size_t i = 0; i < (size_t)t->rows * (size_t)t->ncols; i++) free(t->cells[i]);
  free(t->head);
  free(t->cells);
}

/* The table's metric columns: those asked for, or the headline group's;
 * only those some point reports (a warning for one asked for and absent). */
static void table_metrics(const name_list *texts, const name_list *nums, char *const *asked, int nasked,
                          name_list *out)
{
  if (asked) {
    for (int i = 0; i < nasked; i++) {
      if (names_find(nums, asked[i]) >= 0 || names_find(texts, asked[i]) >= 0)
        names_add(out, asked[i]);
      else
        fprintf(stderr, "clustersim sweep: --metrics: no point reports %s; left out of the table\n", asked[i]);
    }
    return;
  }
  for (size_t g = 0; g < sizeof headlines / sizeof headlines[0]; g++) {
    if (names_find(nums, headlines[g].marker) < 0 && names_find(texts, headlines[g].marker) < 0) continue;
    for (const char *const *m = headlines[g].metrics; *m; m++)
      if (names_find(nums, *m) >= 0 || names_find(texts, *m) >= 0) names_add(out, *m);
    return;
  }
}

/* ---- export ---- */

long sweep_export(sweep_db *db, const sweep_spec *sp, const char *path, FILE *tablef, char *const *metrics,
                  int nmetrics)
{
  size_t npoints = sweep_points(sp);
  int R = sp->replications;
  sim_report *reps = xcalloc((size_t)R, sizeof *reps);
  /* every metric any finished point reports, in order of first appearance */
  name_list texts = {0}, nums = {0};
  for (size_t pt = 0; pt < npoints; pt++) {
    char *invalid;
    int found = sweep_db_get(db, pt, R, reps, &invalid);
    for (int k = 0; k < R; k++) {
      if (found == R && !invalid)
        for (size_t i = 0; i < reps[k].len; i++) {
          const sim_metric *m = &reps[k].items[i];
          if (!strcmp(m->key, "seed") || !strcmp(m->key, "status")) continue;
          if (m->kind == SIM_VAL_STR ? names_find(&nums, m->key) < 0 : names_find(&texts, m->key) < 0)
            names_add(m->kind == SIM_VAL_STR ? &texts : &nums, m->key);
        }
      sim_report_release(&reps[k]);
    }
    free(invalid);
  }
  out_file of;
  if (!out_file_open(&of, path)) {
    fprintf(stderr, "clustersim: %s: cannot write: %s\n", path, strerror(errno));
    names_free(&texts);
    names_free(&nums);
    free(reps);
    return -1;
  }
  int ncols = 1 + sp->naxes + 3 + texts.n + 2 * nums.n;
  char **cols = xcalloc((size_t)ncols, sizeof *cols);
  int c = 0;
  cols[c++] = xstrdup("point");
  for (int a = 0; a < sp->naxes; a++) cols[c++] = xstrdup(sp->axes[a].key);
  cols[c++] = xstrdup("replications");
  cols[c++] = xstrdup("status");
  cols[c++] = xstrdup("error");
  for (int i = 0; i < texts.n; i++) cols[c++] = xstrdup(texts.names[i]);
  for (int i = 0; i < nums.n; i++) {
    size_t n = strlen(nums.names[i]) + 8;
    cols[c] = xmalloc(n);
    snprintf(cols[c++], n, "%s_mean", nums.names[i]);
    cols[c] = xmalloc(n);
    snprintf(cols[c++], n, "%s_ci95", nums.names[i]);
  }
  /* the table's columns: point, axes, metrics, status */
  name_list shown = {0};
  table tb = {0};
  if (tablef) {
    table_metrics(&texts, &nums, metrics, nmetrics, &shown);
    tb.ncols = 1 + sp->naxes + shown.n + 1;
    tb.head = xcalloc((size_t)tb.ncols, sizeof *tb.head);
    int h = 0;
    tb.head[h++] = xstrdup("point");
    for (int a = 0; a < sp->naxes; a++) tb.head[h++] = xstrdup(sp->axes[a].key);
    for (int i = 0; i < shown.n; i++) tb.head[h++] = xstrdup(shown.names[i]);
    tb.head[h++] = xstrdup("status");
    tb.cells = xcalloc((size_t)TABLE_MAX_ROWS * (size_t)tb.ncols, sizeof *tb.cells);
  }
  sim_table t;
  sim_table_begin(&t, of.f, (const char *const *)cols, ncols);
  sim_cell *cells = xcalloc((size_t)ncols, sizeof *cells);
  double *v = xcalloc((size_t)R, sizeof *v), *work = xcalloc((size_t)R, sizeof *work);
  double *means = xcalloc((size_t)nums.n + 1, sizeof *means);
  long rows = 0;
  for (size_t pt = 0; pt < npoints; pt++) {
    char *invalid;
    int found = sweep_db_get(db, pt, R, reps, &invalid);
    if (found < R && !invalid) {
      for (int k = 0; k < R; k++) sim_report_release(&reps[k]);
      continue;
    }
    char labels[SIM_SWEEP_MAX_AXES][64];
    const char *label[SIM_SWEEP_MAX_AXES];
    for (int a = 0; a < sp->naxes; a++)
      label[a] = sweep_axis_label(&sp->axes[a], sweep_value_index(sp, pt, a), labels[a], sizeof labels[a]);
    c = 0;
    cells[c++] = (sim_cell){NULL, (double)pt};
    for (int a = 0; a < sp->naxes; a++) cells[c++] = (sim_cell){label[a], 0};
    /* the status of the point: that of its replications if they agree */
    const char *status = invalid ? "invalid" : "complete";
    for (int k = 0; k < R && !invalid; k++) {
      const sim_metric *m = sim_report_get(&reps[k], "status");
      if (m && m->kind == SIM_VAL_STR && strcmp(m->s, "complete")) status = m->s;
    }
    cells[c++] = (sim_cell){NULL, invalid ? 0 : (double)R};
    cells[c++] = (sim_cell){status, 0};
    /* an error message in one CSV field: no commas, quotes or newlines */
    if (invalid)
      for (char *q = invalid; *q; q++)
        if (*q == ',' || *q == '"' || *q == '\n' || *q == '\r') *q = *q == ',' ? ';' : ' ';
    cells[c++] = (sim_cell){invalid ? invalid : "", 0};
    for (int i = 0; i < texts.n; i++) {
      const char *s = "";
      for (int k = 0; k < R && !invalid && !*s; k++) {
        const sim_metric *m = sim_report_get(&reps[k], texts.names[i]);
        if (m && m->kind == SIM_VAL_STR) s = m->s;
      }
      cells[c++] = (sim_cell){s, 0};
    }
    for (int i = 0; i < nums.n; i++) {
      for (int k = 0; k < R; k++) {
        const sim_metric *m = invalid ? NULL : sim_report_get(&reps[k], nums.names[i]);
        v[k] = m && m->kind != SIM_VAL_STR ? value_of(m) : NAN;
      }
      double ci;
      mean_ci(v, (size_t)R, work, &means[i], &ci);
      cells[c++] = (sim_cell){NULL, means[i]};
      cells[c++] = (sim_cell){NULL, ci};
    }
    sim_table_row(&t, cells);
    if (tablef && tb.rows < TABLE_MAX_ROWS) {
      int r = tb.rows++, h = 0;
      char buf[64];
      snprintf(buf, sizeof buf, "%zu", pt);
      table_cell(&tb, r, h++, buf);
      for (int a = 0; a < sp->naxes; a++) table_cell(&tb, r, h++, label[a]);
      for (int i = 0; i < shown.n; i++) {
        int ni = names_find(&nums, shown.names[i]);
        if (invalid) {
          snprintf(buf, sizeof buf, "-");
        } else if (ni >= 0) {
          number_cell(means[ni], buf, sizeof buf);
        } else {
          const sim_metric *m = sim_report_get(&reps[0], shown.names[i]);
          snprintf(buf, sizeof buf, "%s", m && m->kind == SIM_VAL_STR ? m->s : "-");
        }
        table_cell(&tb, r, h++, buf);
      }
      table_cell(&tb, r, h++, status);
      if (strcmp(status, "complete")) tb.any_status = true;
    } else if (tablef) {
      tb.more++;
    }
    rows++;
    for (int k = 0; k < R; k++) sim_report_release(&reps[k]);
    free(invalid);
  }
  bool ok = out_file_commit(&of);
  if (!ok) fprintf(stderr, "clustersim: %s: cannot write: %s\n", path, strerror(errno));
  if (ok && tablef && rows > 0) table_print(tablef, &tb, R);
  if (tablef) table_free(&tb);
  for (int i = 0; i < ncols; i++) free(cols[i]);
  free(cols);
  free(cells);
  free(v);
  free(work);
  free(means);
  free(reps);
  names_free(&texts);
  names_free(&nums);
  names_free(&shown);
  return ok ? rows : -1;
}
