/* driver/plot/plot.c: `clustersim plot`'s work (see plot.h): the table of figures
 * (script, input file, the columns the script reads), the values each
 * script takes with -e (from summary.json, plan.json and the input's
 * header), and writing each picture atomically: gnuplot draws into
 * OUTDIR/plots/NAME.EXT.tmp.PID, renamed into place only after it exits 0
 * with a non-empty file. Which figures a timeseries.csv gets depends on
 * its header: serving runs, job-queue runs and training runs write
 * different columns. It never reads the numbers it plots beyond the
 * header, a row count and the sweep's SLO target; the scripts own the
 * pictures. */
#include "driver/plot/plot.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/config/datadir.h"
#include "driver/output/json_top.h"
#include "driver/output/outfile.h"
#include "sim/util.h"

#ifndef CS_PLOTS_DIR
#define CS_PLOTS_DIR "plots"
#endif

#define MSG "clustersim plot: "

const char *plot_scripts_dir(void)
{
  static char buf[4096];
  return cfg_data_dir("CLUSTERSIM_PLOTS", "plots", CS_PLOTS_DIR, buf, sizeof buf);
}

/* ---- small helpers: paths, files, the -e expression ---- */

static char *join(const char *a, const char *b)
{
  size_t n = strlen(a) + strlen(b) + 2;
  char *p = xmalloc(n);
  snprintf(p, n, "%s/%s", a, b);
  return p;
}

static bool exists(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0;
}

/* The whole file, NUL-terminated (caller frees); NULL if unreadable. */
static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t len = 0, cap = 8192;
  char *buf = xmalloc(cap);
  size_t n;
  while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (cap - len < 4096) buf = xrealloc(buf, cap *= 2);
  }
  bool bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    return NULL;
  }
  buf[len] = '\0';
  return buf;
}

/* A growing string: the gnuplot -e expression. */
typedef struct {
  char *s;
  size_t len, cap;
} strbuf;

static void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *b, const char *fmt, ...)
{
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) SIM_BUG("vsnprintf failed");
    if (b->s && b->len + (size_t)n < b->cap) {
      b->len += (size_t)n;
      return;
    }
    b->cap = (b->cap + (size_t)n + 1) * 2;
    b->s = xrealloc(b->s, b->cap);
    if (b->len == 0) b->s[0] = '\0';
  }
}

/* var='value'; - gnuplot's single-quoted string: '' is a quote, nothing
 * else is special; control characters become spaces. */
static void sb_str(strbuf *b, const char *var, const char *value)
{
  sb_printf(b, "%s='", var);
  for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
    if (*p == '\'')
      sb_printf(b, "''");
    else
      sb_printf(b, "%c", *p < 0x20 || *p == 0x7f ? ' ' : *p);
  }
  sb_printf(b, "'; ");
}

/* var=number; always with a '.' or an exponent, since gnuplot divides
 * integers as integers (200/60 is 3); NaN as gnuplot's NaN. */
static void sb_num(strbuf *b, const char *var, double v)
{
  char num[40];
  if (!isfinite(v)) {
    sb_printf(b, "%s=NaN; ", var);
    return;
  }
  snprintf(num, sizeof num, "%.17g", v);
  sb_printf(b, "%s=%s%s; ", var, num, strpbrk(num, ".e") ? "" : ".0");
}

/* ---- inputs: CSV headers, summary.json and plan.json ---- */

/* An input CSV: its header's column names and how many data rows follow. */
typedef struct {
  char *text;   /* the file; cols point into it */
  char **cols;
  int ncols;
  size_t rows;
  char *rest;   /* the data rows */
} csv_file;

static void csv_release(csv_file *c)
{
  free(c->text);
  free(c->cols);
  memset(c, 0, sizeof *c);
}

/* Read path; false with a message if unreadable or without a header. */
static bool csv_load(const char *path, csv_file *c)
{
  memset(c, 0, sizeof *c);
  if (!(c->text = slurp(path))) {
    fprintf(stderr, MSG "%s: cannot read: %s\n", path, strerror(errno));
    return false;
  }
  char *nl = strchr(c->text, '\n');
  if (!*c->text || nl == c->text) {
    fprintf(stderr, MSG "%s: empty (no header line)\n", path);
    csv_release(c);
    return false;
  }
  if (nl) *nl = '\0';
  c->rest = nl ? nl + 1 : c->text + strlen(c->text);
  size_t cap = 16;
  c->cols = xmalloc(cap * sizeof *c->cols);
  for (char *p = c->text;;) {
    if ((size_t)c->ncols == cap) c->cols = xrealloc(c->cols, (cap *= 2) * sizeof *c->cols);
    c->cols[c->ncols++] = p;
    char *comma = strchr(p, ',');
    if (!comma) break;
    *comma = '\0';
    p = comma + 1;
  }
  char *cr = strchr(c->cols[c->ncols - 1], '\r');
  if (cr) *cr = '\0';
  for (const char *p = c->rest; *p;) {
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n > 0 && !(n == 1 && *p == '\r')) c->rows++;
    p += n + (e ? 1 : 0);
  }
  return true;
}

static int csv_col(const csv_file *c, const char *name)
{
  for (int i = 0; i < c->ncols; i++)
    if (!strcmp(c->cols[i], name)) return i;
  return -1;
}

/* Column col of the data row starting at row: [*cell, return), or NULL
 * if the row is shorter. */
static const char *csv_cell(const char *row, int col, const char **cell)
{
  const char *p = row;
  for (int i = 0; i < col; i++) {
    p = strpbrk(p, ",\n");
    if (!p || *p != ',') return NULL;
    p++;
  }
  *cell = p;
  return p + strcspn(p, ",\r\n");
}

/* The first cell of column col that reads as a finite number; NaN if none. */
static double csv_first_number(const csv_file *c, int col)
{
  for (const char *p = c->rest; col >= 0 && *p;) {
    const char *cell, *end = csv_cell(p, col, &cell);
    if (end && end > cell) {
      char *e;
      double v = strtod(cell, &e);
      if (e == end && isfinite(v)) return v;
    }
    const char *nl = strchr(p, '\n');
    if (!nl) break;
    p = nl + 1;
  }
  return NAN;
}

/* The first non-empty cell of column col (fresh storage), or NULL. */
static char *csv_first_text(const csv_file *c, int col)
{
  for (const char *p = c->rest; col >= 0 && *p;) {
    const char *cell, *end = csv_cell(p, col, &cell);
    if (end && end > cell) {
      char *s = xmalloc((size_t)(end - cell) + 1);
      memcpy(s, cell, (size_t)(end - cell));
      s[end - cell] = '\0';
      return s;
    }
    const char *nl = strchr(p, '\n');
    if (!nl) break;
    p = nl + 1;
  }
  return NULL;
}

/* What the titles and markers come from. */
typedef struct {
  const char *outdir;
  char *summary;     /* summary.json's text, or NULL */
  char *plan;        /* plan.json's text, or NULL */
  const csv_file *csv;
  const char *input; /* path of the figure's input */
} plot_ctx;

/* A string from summary.json, else plan.json; NULL if neither has it. */
static char *meta_text(const plot_ctx *x, const char *key)
{
  char *s = x->summary ? out_json_top_text(x->summary, key) : NULL;
  if (!s && x->plan) s = out_json_top_text(x->plan, key);
  return s;
}

static bool meta_num(const plot_ctx *x, const char *key, double *v)
{
  return (x->summary && out_json_top_number(x->summary, key, v)) ||
         (x->plan && out_json_top_number(x->plan, key, v));
}

static bool has_meta(const plot_ctx *x, const char *key)
{
  char *s = meta_text(x, key);
  bool have = s != NULL;
  free(s);
  return have;
}

static void pass_text(const plot_ctx *x, strbuf *b, const char *var, const char *key)
{
  char *s = meta_text(x, key);
  if (s) sb_str(b, var, s);
  free(s);
}

static void pass_num(const plot_ctx *x, strbuf *b, const char *var, const char *key)
{
  double v;
  if (meta_num(x, key, &v)) sb_num(b, var, v);
}

/* name= the scenario's name, else the output directory's last component. */
static void pass_name(const plot_ctx *x, strbuf *b)
{
  char *s = meta_text(x, "scenario");
  if (s) {
    sb_str(b, "name", s);
    free(s);
    return;
  }
  char *d = xstrdup(x->outdir);
  size_t n = strlen(d);
  while (n > 1 && d[n - 1] == '/') d[--n] = '\0';
  const char *slash = strrchr(d, '/');
  sb_str(b, "name", slash && slash[1] ? slash + 1 : d);
  free(d);
}

/* ---- the figures ---- */

/* Values for a run's figures: title parts, the run's end, spike, SLOs. */
static bool run_vars(const plot_ctx *x, strbuf *b)
{
  pass_name(x, b);
  pass_text(x, b, "model", "model");
  /* the GPU types of every pool, and their replicas in total */
  strbuf gpu = {0};
  double replicas = 0;
  bool have_replicas = false;
  for (int i = 0; i < 64; i++) {
    char key[32];
    snprintf(key, sizeof key, "pool%d_gpu", i);
    char *g = meta_text(x, key);
    if (!g) break;
    sb_printf(&gpu, "%s%s", i ? " + " : "", g);
    free(g);
    double r;
    snprintf(key, sizeof key, "pool%d_replicas", i);
    if (meta_num(x, key, &r)) replicas += r, have_replicas = true;
  }
  if (gpu.s) sb_str(b, "gpu", gpu.s);
  free(gpu.s);
  if (have_replicas) sb_num(b, "replicas", replicas);
  pass_num(x, b, "gpus", "gpus");
  pass_num(x, b, "tend", "sim_time_s");
  double s0, s1;
  if (meta_num(x, "spike_start_s", &s0) && meta_num(x, "spike_end_s", &s1)) {
    sb_num(b, "spike_start", s0);
    sb_num(b, "spike_end", s1);
  }
  pass_num(x, b, "slo_ttft", "slo_ttft_s");
  pass_num(x, b, "slo_tpot", "slo_tpot_s");
  pass_num(x, b, "slo_e2e", "slo_e2e_s");
  return true;
}

/* Values for the sweep figure: which column names the series, which
 * labels the points, the TTFT target, whether there are 95% bars. */
static bool sweep_vars(const plot_ctx *x, strbuf *b)
{
  const csv_file *c = x->csv;
  /* title: the scenario from summary.json or plan.json, else the sweep's own columns */
  for (int i = 0; i < 2; i++) {
    const char *key = i ? "model" : "scenario", *var = i ? "model" : "name";
    char *v = meta_text(x, key);
    if (!v) v = csv_first_text(c, csv_col(c, key));
    if (v) sb_str(b, var, v);
    free(v);
  }
  const char *gpucol = csv_col(c, "cluster.pools.[0].gpu") >= 0 ? "cluster.pools.[0].gpu"
                       : csv_col(c, "pool0_gpu") >= 0            ? "pool0_gpu"
                                                                  : NULL;
  if (!gpucol) {
    fprintf(stderr, MSG "%s: no column cluster.pools.[0].gpu or pool0_gpu to tell the GPU types apart\n",
            x->input);
    return false;
  }
  sb_str(b, "gpucol", gpucol);
  if (csv_col(c, "cluster.pools.[0].replicas") >= 0) sb_str(b, "repcol", "cluster.pools.[0].replicas");
  double slo = csv_first_number(c, csv_col(c, "slo_ttft_s_mean"));
  if (isnan(slo) && !meta_num(x, "slo_ttft_s", &slo)) slo = NAN;
  sb_num(b, "slo_ttft", slo);
  if (csv_col(c, "ttft_p99_s_ci95") < 0 || csv_col(c, "usd_per_million_tokens_ci95") < 0) sb_num(b, "noci", 1);
  return true;
}

/* Values for the plan figure: title, the targets (plan.json's "slo"
 * object: metric -> bound), and the plan's answer (feasible, gpu, tp) to
 * ring. */
static bool plan_vars(const plot_ctx *x, strbuf *b)
{
  if (has_meta(x, "scenario")) pass_name(x, b);
  pass_text(x, b, "model", "model");
  char *slo = x->plan ? out_json_top_raw(x->plan, "slo") : NULL;
  if (slo) {
    strbuf t = {0};
    const char *pos = NULL;
    char *k, *v;
    while (out_json_top_next(slo, &pos, &k, &v)) {
      if (v) sb_printf(&t, "%s%s ≤ %s", t.s ? ", " : "", k, v);
      free(k);
      free(v);
    }
    if (t.s) sb_str(b, "targets", t.s);
    free(t.s);
    free(slo);
  } else {
    pass_num(x, b, "slo_ttft", "slo_ttft_s");
  }
  if (x->plan) {
    char *feasible = out_json_top_text(x->plan, "feasible"), *gpu = out_json_top_text(x->plan, "gpu");
    double tp;
    if (feasible && !strcmp(feasible, "true") && gpu && out_json_top_number(x->plan, "tp", &tp)) {
      sb_str(b, "best_gpu", gpu);
      sb_num(b, "best_tp", tp);
    }
    free(feasible);
    free(gpu);
  }
  return true;
}

/* The columns of jobs.csv cluster.gp reads for its wait panel. */
static const char *const jobs_cols[] = {"kind", "gpus", "submit_s", "wait_s", NULL};

/* Values for a job-queue run's figure: title parts from summary.json, the
 * run's end, and jobs.csv for the wait panel when it has rows (false, with
 * a message, if it lacks a column). */
static bool cluster_vars(const plot_ctx *x, strbuf *b)
{
  pass_name(x, b);
  pass_text(x, b, "policy", "policy");
  pass_text(x, b, "gpu", "gpu");
  pass_num(x, b, "cluster_gpus", "cluster_gpus");
  pass_num(x, b, "tend", "sim_time_s");
  pass_num(x, b, "njobs", "jobs");
  pass_num(x, b, "wait_mean", "wait_mean_s");
  pass_num(x, b, "util", "utilization");
  pass_num(x, b, "preemptions", "preemptions");
  pass_num(x, b, "failures", "failures");
  char *path = join(x->outdir, "jobs.csv");
  bool ok = true;
  if (exists(path)) {
    csv_file j;
    ok = csv_load(path, &j);
    for (const char *const *col = jobs_cols; ok && *col; col++) {
      if (csv_col(&j, *col) < 0) {
        fprintf(stderr, MSG "%s: no column '%s' (cluster.gp needs it)\n", path, *col);
        ok = false;
      }
    }
    if (ok && j.rows > 0) sb_str(b, "jobs", path);
    if (j.text) csv_release(&j);
  }
  free(path);
  return ok;
}

/* Values for a training run's figure, from summary.json: title parts, the
 * failure-free and simulated lengths, whether it finished. */
static bool training_vars(const plot_ctx *x, strbuf *b)
{
  pass_name(x, b);
  pass_text(x, b, "model", "model");
  pass_text(x, b, "gpu", "gpu");
  pass_num(x, b, "gpus", "gpus");
  pass_num(x, b, "mfu", "mfu");
  pass_num(x, b, "failure_free_days", "failure_free_days");
  pass_num(x, b, "train_days", "train_days");
  pass_num(x, b, "effective_fraction", "effective_fraction");
  char *fin = meta_text(x, "finished");
  if (fin) sb_num(b, "finished", !strcmp(fin, "yes") || !strcmp(fin, "true") ? 1 : 0);
  free(fin);
  return true;
}

typedef struct {
  const char *name;              /* NAME.gp draws NAME.png and NAME.svg */
  const char *input;             /* the file in OUTDIR it reads */
  const char *when;              /* drawn only if input's header has this column (NULL: always) */
  const char *also;              /* or if this file is in OUTDIR (NULL: none) */
  const char *const *columns;    /* the columns it needs, NULL-terminated */
  bool (*vars)(const plot_ctx *, strbuf *);
} figure;

static const char *const ts_cols[] = {"time_s", "offered_rate_per_s", "completions", "rejected",
                                      "queue_length", "ttft_p99_s", "replicas_busy", NULL};
static const char *const util_cols[] = {"time_s", "utilization", "kv_used_fraction", "running_batch", NULL};
static const char *const cdf_cols[] = {"class", "p", "ttft_s", "tpot_s", "e2e_s", NULL};
static const char *const sweep_cols[] = {"ttft_p99_s_mean", "usd_per_million_tokens_mean", "slo_met_mean", NULL};
static const char *const plan_cols[] = {"gpu", "tp", "offered_rate_per_s", "replicas", "usd_per_hour",
                                        "feasible", NULL};

static const char *const cluster_cols[] = {"time_s", "gpus_busy", "queue_length", "running_jobs", "serving_gpus",
                                           NULL};
static const char *const train_cols[] = {"time_s", "progress", "failures", "lost_work_s", NULL};

/* A timeseries.csv is a serving run's (offered_rate_per_s), a job queue's
 * (gpus_busy) or a training run's (progress); see figure_wanted. */
static const figure figures[] = {
  {"spike", "timeseries.csv", "offered_rate_per_s", NULL, ts_cols, run_vars},
  {"latency_cdf", "latency_cdf.csv", NULL, NULL, cdf_cols, run_vars},
  {"utilization", "timeseries.csv", "offered_rate_per_s", NULL, util_cols, run_vars},
  {"cluster", "timeseries.csv", "gpus_busy", "jobs.csv", cluster_cols, cluster_vars},
  {"training", "timeseries.csv", "progress", NULL, train_cols, training_vars},
  {"sweep_cost_latency", "sweep.csv", NULL, NULL, sweep_cols, sweep_vars},
  {"plan_replicas", "plan_load.csv", NULL, NULL, plan_cols, plan_vars},
};
enum { NFIGURES = sizeof figures / sizeof figures[0] };

static bool in_outdir(const char *outdir, const char *name)
{
  char *p = join(outdir, name);
  bool e = exists(p);
  free(p);
  return e;
}

bool plot_has_inputs(const char *outdir)
{
  for (int i = 0; i < NFIGURES; i++)
    if (in_outdir(outdir, figures[i].input) || (figures[i].also && in_outdir(outdir, figures[i].also))) return true;
  return false;
}

/* The first line of path, or NULL if unreadable or empty (caller frees). */
static char *header_line(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 256, len = 0;
  char *h = xmalloc(cap);
  int ch;
  while ((ch = getc(f)) != EOF && ch != '\n') {
    if (len + 1 == cap) h = xrealloc(h, cap *= 2);
    h[len++] = (char)ch;
  }
  fclose(f);
  if (len > 0 && h[len - 1] == '\r') len--;
  h[len] = '\0';
  if (len == 0) {
    free(h);
    return NULL;
  }
  return h;
}

static bool header_has(const char *header, const char *col)
{
  size_t n = strlen(col);
  for (const char *p = header;;) {
    const char *e = p + strcspn(p, ",");
    if ((size_t)(e - p) == n && !strncmp(p, col, n)) return true;
    if (!*e) return false;
    p = e + 1;
  }
}

/* Whether figure i is drawn for what outdir holds: its input is there and
 * its header names the figure's `when` column, or its `also` file is
 * there (a missing input is then reported by draw_figure). An input whose
 * header cannot be read goes to the first figure reading it, which reports
 * why; the others sharing it are not drawn. */
static bool figure_wanted(const char *outdir, int i)
{
  const figure *f = &figures[i];
  char *input = join(outdir, f->input);
  bool want;
  if (!exists(input)) {
    want = f->also && in_outdir(outdir, f->also);
  } else if (!f->when) {
    want = true;
  } else {
    char *h = header_line(input);
    if (h) {
      want = header_has(h, f->when);
    } else {
      want = true;
      for (int k = 0; k < i; k++)
        if (!strcmp(figures[k].input, f->input)) want = false;
    }
    free(h);
  }
  free(input);
  return want;
}

/* A timeseries.csv (or other input chosen by its header) whose header names
 * none of the columns that choose a figure: false with a message. */
static bool input_known(const char *outdir, const char *name)
{
  char *path = join(outdir, name);
  char *h = exists(path) ? header_line(path) : NULL;
  bool known = true;
  if (h) {
    strbuf cols = {0};
    int nwhen = 0;
    known = false;
    for (int i = 0; i < NFIGURES; i++) {
      const figure *f = &figures[i];
      if (strcmp(f->input, name) || !f->when) continue;
      if (header_has(h, f->when)) known = true;
      bool dup = false;
      for (int k = 0; k < i; k++)
        if (!strcmp(figures[k].input, name) && figures[k].when && !strcmp(figures[k].when, f->when)) dup = true;
      if (!dup) sb_printf(&cols, "%s%s", nwhen++ ? ", " : "", f->when);
    }
    if (!nwhen) known = true;
    if (!known)
      fprintf(stderr,
              MSG "%s: no figure for it: its header names none of %s (a serving, job-queue or training "
                  "run's columns)\n",
              path, cols.s);
    free(cols.s);
  }
  free(h);
  free(path);
  return known;
}

/* ---- drawing one picture ---- */

typedef struct {
  bool quiet;
  int written;        /* pictures written so far (for the listing) */
  bool no_gnuplot;    /* gnuplot could not be started: stop trying */
} plot_run;

/* Indent every line of gnuplot's output for the error message. */
static void print_indented(FILE *f, const char *text)
{
  const char *p = text;
  while (*p == '\n') p++;
  while (*p) {
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n) fprintf(f, "  %.*s\n", (int)n, p);
    p += n + (e ? 1 : 0);
  }
}

/* Draw NAME.EXT in plotdir with script and the expression so far. */
static bool draw(plot_run *r, const char *script, const char *vars, const char *plotdir, const char *name,
                 const char *ext)
{
  size_t n = strlen(plotdir) + strlen(name) + strlen(ext) + 48;
  char *path = xmalloc(n), *tmp = xmalloc(n);
  snprintf(path, n, "%s/%s.%s", plotdir, name, ext);
  snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
  strbuf e = {0};
  sb_printf(&e, "%s", vars);
  sb_str(&e, "out", tmp);
  sb_str(&e, "term", ext);
  char *output;
  int rc = plot_gnuplot(script, e.s, &output);
  struct stat st;
  bool ok = rc == 0 && stat(tmp, &st) == 0 && st.st_size > 0;
  if (ok && rename(tmp, path) != 0) {
    fprintf(stderr, MSG "%s: cannot write: %s\n", path, strerror(errno));
    ok = false;
  } else if (!ok && rc == 127 && !strncmp(output, "cannot run", 10)) {
    fprintf(stderr,
            MSG "%s (install gnuplot 5 with the pngcairo and svg terminals, Debian package "
                "gnuplot-nox, or name the program in CLUSTERSIM_GNUPLOT)\n",
            output);
    r->no_gnuplot = true;
  } else if (!ok && rc == 0) {
    fprintf(stderr, MSG "%s: gnuplot exited 0 but wrote nothing to %s\n", script, tmp);
    print_indented(stderr, output);
  } else if (!ok) {
    fprintf(stderr, MSG "%s failed drawing %s (gnuplot exit status %d):\n", script, path, rc);
    print_indented(stderr, output);
  }
  if (ok) {
    if (!r->quiet) {
      printf("%s %s\n", r->written == 0 ? "plots:" : "      ", path);
      if (*output) print_indented(stderr, output); /* gnuplot's warnings */
    }
    r->written++;
  } else {
    unlink(tmp);
    unlink(path); /* no stale picture of other data under the name */
  }
  free(output);
  free(e.s);
  free(path);
  free(tmp);
  return ok;
}

/* Remove NAME.png and NAME.svg from plotdir, if there. */
static void remove_figure(const char *plotdir, const char *name)
{
  for (int i = 0; i < 2; i++) {
    char *p = xmalloc(strlen(plotdir) + strlen(name) + 8);
    sprintf(p, "%s/%s.%s", plotdir, name, i ? "svg" : "png");
    unlink(p);
    free(p);
  }
}

/* One figure, both formats; false (with a message) on any failure. */
static bool draw_figure(plot_run *r, const figure *fig, plot_ctx *x, const char *scripts, const char *plotdir)
{
  char *script = xmalloc(strlen(scripts) + strlen(fig->name) + 8);
  sprintf(script, "%s/%s.gp", scripts, fig->name);
  char *input = join(x->outdir, fig->input);
  csv_file c;
  bool ok = true;
  if (!exists(script)) {
    fprintf(stderr, MSG "no script %s (set CLUSTERSIM_PLOTS to the folder holding the plots/*.gp scripts)\n",
            script);
    ok = false;
  } else if (!csv_load(input, &c)) {
    ok = false;
  } else {
    for (const char *const *col = fig->columns; *col; col++) {
      if (csv_col(&c, *col) < 0) {
        fprintf(stderr, MSG "%s: no column '%s' (%s.gp needs it)\n", input, *col, fig->name);
        ok = false;
      }
    }
    if (ok && c.rows == 0) {
      fprintf(stderr, MSG "%s: no data rows, nothing to draw\n", input);
      ok = false;
    }
    strbuf vars = {0};
    sb_str(&vars, "in", input);
    x->csv = &c;
    x->input = input;
    if (ok) ok = fig->vars(x, &vars);
    if (ok) ok = draw(r, script, vars.s, plotdir, fig->name, "png");
    if (ok && !r->no_gnuplot) ok = draw(r, script, vars.s, plotdir, fig->name, "svg");
    free(vars.s);
    csv_release(&c);
  }
  if (!ok) remove_figure(plotdir, fig->name); /* neither twin of a figure that failed stays */
  free(script);
  free(input);
  return ok;
}

bool plot_dir(const char *outdir, const char *plots_dir, bool quiet)
{
  struct stat st;
  if (stat(outdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, MSG "%s: %s\n", outdir, stat(outdir, &st) != 0 ? strerror(errno) : "not a directory");
    return false;
  }
  if (!plot_has_inputs(outdir)) {
    fprintf(stderr,
            MSG "%s: nothing to plot (no timeseries.csv, jobs.csv, latency_cdf.csv, sweep.csv or "
                "plan_load.csv)\n",
            outdir);
    return false;
  }
  const char *scripts = plots_dir ? plots_dir : plot_scripts_dir();
  char *plotdir = join(outdir, "plots");
  if (!out_mkdirs(plotdir)) {
    fprintf(stderr, MSG "%s: cannot create: %s\n", plotdir, strerror(errno));
    free(plotdir);
    return false;
  }
  plot_ctx x = {.outdir = outdir};
  char *sp = join(outdir, "summary.json"), *pp = join(outdir, "plan.json");
  x.summary = slurp(sp);
  x.plan = slurp(pp);
  free(sp);
  free(pp);

  plot_run r = {.quiet = quiet};
  bool ok = input_known(outdir, "timeseries.csv");
  for (int i = 0; i < NFIGURES && !r.no_gnuplot; i++) {
    if (figure_wanted(outdir, i)) {
      if (!draw_figure(&r, &figures[i], &x, scripts, plotdir)) ok = false;
    } else if (figures[i].when && in_outdir(outdir, figures[i].input)) {
      remove_figure(plotdir, figures[i].name); /* a picture of another run's data */
    }
  }
  free(x.summary);
  free(x.plan);
  free(plotdir);
  return ok && r.written > 0;
}
