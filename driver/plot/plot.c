/* driver/plot/plot.c: `clustersim plot`'s work (see plot.h): the table of
 * figures (script, input file, the columns the script reads), the values
 * each script takes with -e (from summary.json and plan.json, read with
 * jansson, and from the input's header), and writing each picture
 * atomically: gnuplot writes the picture on its standard output, which is
 * copied into OUTDIR/plots/NAME.EXT.tmp.XXXXXX (driver/output/outfile.h);
 * a figure's PNG and SVG are renamed into place together, only after
 * gnuplot exited 0 with a non-empty picture for both; otherwise the
 * previous pair, if any, stays. Which figures a timeseries.csv or a
 * sweep.csv gets depends on its header: serving runs, job-queue runs and
 * training runs write different columns, serving and training sweeps too.
 * Nothing handed to gnuplot is ever code: values go into single-quoted
 * gnuplot strings, and file names are made to start with '/' or "./" so
 * that gnuplot cannot take one for a pipe ('<cmd'). It reads the numbers it
 * plots only for a row count, the sweep's axes and targets, and the
 * window's extent; the scripts own the pictures. */
#include "driver/plot/plot.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/config/datadir.h"
#include "driver/output/outfile.h"
#include "driver/plot/plot_csv.h"
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

/* path as gnuplot is given it: starting with '/' or "./", so that no
 * name (an OUTDIR called '<cmd' or '|cmd') can read as a pipe. */
static char *gp_path(const char *path)
{
  if (path[0] == '/') return xstrdup(path);
  return join(".", path);
}

static bool exists(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0;
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

/* Whether a cell is a number: all of it reads as a finite double (*v set). */
static bool cell_number(const char *cell, double *v)
{
  if (!cell || !*cell) return false;
  char *e;
  double x = strtod(cell, &e);
  if (*e || !isfinite(x)) return false;
  *v = x;
  return true;
}

/* The first cell of column col that reads as a finite number; NaN if none. */
static double csv_first_number(const plot_csv *c, int col)
{
  double v;
  for (size_t r = 0; col >= 0 && r < c->rows; r++)
    if (cell_number(plot_csv_at(c, r, col), &v)) return v;
  return NAN;
}

/* The first non-empty cell of column col (fresh storage), or NULL. */
static char *csv_first_text(const plot_csv *c, int col)
{
  for (size_t r = 0; col >= 0 && r < c->rows; r++) {
    const char *cell = plot_csv_at(c, r, col);
    if (cell && *cell) return xstrdup(cell);
  }
  return NULL;
}

/* A number as JSON or a label shows it: the shortest form that reads
 * back to the same double. */
static void fmt_num(char *buf, size_t n, double v)
{
  for (int prec = 6; prec <= 17; prec++) {
    snprintf(buf, n, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) break;
  }
}

/* summary.json or plan.json, read with jansson; NULL (with a warning if
 * the file is there but is not a JSON object) otherwise. */
static json_t *load_json(const char *outdir, const char *name)
{
  char *path = join(outdir, name);
  json_t *j = NULL;
  if (exists(path)) {
    json_error_t err;
    j = json_load_file(path, 0, &err);
    if (!j)
      fprintf(stderr, MSG "%s:%d: not read (%s); the titles leave out what it holds\n", path, err.line, err.text);
    else if (!json_is_object(j)) {
      fprintf(stderr, MSG "%s: not a JSON object; the titles leave out what it holds\n", path);
      json_decref(j);
      j = NULL;
    }
  }
  free(path);
  return j;
}

/* A member as text (fresh storage): a string as it is, a number in its
 * shortest form, true or false; NULL if absent, null, an object or an
 * array. */
static char *json_text(const json_t *obj, const char *key)
{
  const json_t *v = obj ? json_object_get(obj, key) : NULL;
  char num[40];
  if (json_is_string(v)) return xstrdup(json_string_value(v));
  if (json_is_number(v)) {
    fmt_num(num, sizeof num, json_number_value(v));
    return xstrdup(num);
  }
  if (json_is_boolean(v)) return xstrdup(json_is_true(v) ? "true" : "false");
  return NULL;
}

/* A member as a finite number; false if absent or anything else. */
static bool json_num(const json_t *obj, const char *key, double *out)
{
  const json_t *v = obj ? json_object_get(obj, key) : NULL;
  if (!json_is_number(v) || !isfinite(json_number_value(v))) return false;
  *out = json_number_value(v);
  return true;
}

/* What the titles and markers come from. */
typedef struct {
  const char *outdir;
  json_t *summary;   /* summary.json, or NULL */
  json_t *plan;      /* plan.json, or NULL */
  json_t *tco;       /* tco.json, or NULL */
  const plot_csv *csv;
  const char *input; /* path of the figure's input */
  const plot_opts *opts;
} plot_ctx;

/* A string from summary.json, else plan.json; NULL if neither has it. */
static char *meta_text(const plot_ctx *x, const char *key)
{
  char *s = json_text(x->summary, key);
  if (!s) s = json_text(x->plan, key);
  return s;
}

static bool meta_num(const plot_ctx *x, const char *key, double *v)
{
  return json_num(x->summary, key, v) || json_num(x->plan, key, v);
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

/* tfrom=, tto= (s) when plot was given a window (--from, --to). */
static void pass_window(const plot_ctx *x, strbuf *b)
{
  if (!x->opts->window) return;
  sb_num(b, "tfrom", x->opts->from_s);
  sb_num(b, "tto", x->opts->to_s);
}

/* ---- the figures ---- */

/* hw= the serving hardware for a title: one pool "32 × a100-80gb-sxm
 * (4 replicas)"; several, each pool's replicas and GPU, "11 a10 replicas
 * + 6 a100-80gb-sxm replicas (28 GPUs)". Also gpu=, gpus=, replicas= (in
 * all) for scripts run by hand with older values. */
static void pass_hardware(const plot_ctx *x, strbuf *b)
{
  strbuf gpu = {0}, hw = {0};
  double replicas = 0, gpus = NAN;
  int npools = 0;
  bool all_replicas = true, elastic = false;
  for (int i = 0; i < 64; i++) {
    char key[32];
    snprintf(key, sizeof key, "pool%d_gpu", i);
    char *g = meta_text(x, key);
    if (!g) break;
    double r = NAN;
    snprintf(key, sizeof key, "pool%d_replicas", i);
    if (meta_num(x, key, &r)) replicas += r;
    else all_replicas = false;
    /* an autoscaled pool: from its starting count to the most it ran */
    double rmax = NAN;
    snprintf(key, sizeof key, "pool%d_replicas_max", i);
    if (meta_num(x, key, &rmax) && isfinite(r) && rmax != r) elastic = true;
    else rmax = NAN;
    sb_printf(&gpu, "%s%s", i ? " + " : "", g);
    if (isfinite(rmax)) sb_printf(&hw, "%s%.0f to %.0f %s replicas", i ? " + " : "", r, rmax, g);
    else if (isfinite(r)) sb_printf(&hw, "%s%.0f %s replica%s", i ? " + " : "", r, g, r == 1 ? "" : "s");
    else sb_printf(&hw, "%s%s", i ? " + " : "", g);
    npools++;
    free(g);
  }
  meta_num(x, "gpus", &gpus);
  if (elastic) {
    /* the GPU count at the start says little of a pool that grew: the
     * pools' replica ranges say it */
    gpus = NAN;
  } else if (npools == 1) {
    free(hw.s);
    hw = (strbuf){0};
    if (isfinite(gpus)) sb_printf(&hw, "%.0f × ", gpus);
    sb_printf(&hw, "%s", gpu.s);
    if (all_replicas) sb_printf(&hw, " (%.0f replica%s)", replicas, replicas == 1 ? "" : "s");
  } else if (npools > 1 && isfinite(gpus)) {
    sb_printf(&hw, " (%.0f GPUs)", gpus);
  }
  if (hw.s) sb_str(b, "hw", hw.s);
  if (gpu.s) sb_str(b, "gpu", gpu.s);
  if (npools && all_replicas) sb_num(b, "replicas", replicas);
  if (isfinite(gpus)) sb_num(b, "gpus", gpus);
  free(gpu.s);
  free(hw.s);
}

/* Each class's own targets, from summary.json's class_NAME_slo_ttft_s (and
 * _tpot_s, _e2e_s): ctt=' chat=1 batch=-1 ' (-1: none) and likewise ctp, ce2e, when
 * there are several classes and one of them has a target. */
static void pass_class_targets(const plot_ctx *x, strbuf *b)
{
  static const char *const what[3][2] = {{"_slo_ttft_s", "ctt"}, {"_slo_tpot_s", "ctp"}, {"_slo_e2e_s", "ce2e"}};
  if (!x->summary) return;
  for (int w = 0; w < 3; w++) {
    strbuf list = {0};
    int nclasses = 0, ntargets = 0;
    const char *key;
    json_t *v;
    size_t sl = strlen(what[w][0]);
    json_object_foreach(x->summary, key, v) {
      size_t kl = strlen(key);
      if (strncmp(key, "class_", 6) || kl <= 6 + sl || strcmp(key + kl - sl, what[w][0])) continue;
      char num[40] = "-1"; /* none */
      if (json_is_number(v) && isfinite(json_number_value(v)) && json_number_value(v) > 0) {
        fmt_num(num, sizeof num, json_number_value(v));
        ntargets++;
      }
      sb_printf(&list, "%s%.*s=%s", list.s ? " " : " ", (int)(kl - 6 - sl), key + 6, num);
      nclasses++;
    }
    if (nclasses > 1 && ntargets > 0) {
      sb_printf(&list, " ");
      sb_str(b, what[w][1], list.s);
    }
    free(list.s);
  }
}

/* Whether the input's header has column col. */
static bool has_col(const plot_ctx *x, const char *col);

/* Values for a run's figures: title parts, the run's end, the spike and
 * when its backlog drained, the targets (every class's own), whether the
 * time series has the capacity columns, the window. */
static bool run_vars(const plot_ctx *x, strbuf *b)
{
  pass_name(x, b);
  pass_text(x, b, "model", "model");
  pass_hardware(x, b);
  pass_num(x, b, "tend", "sim_time_s");
  double s0, s1, drain;
  if (meta_num(x, "spike_start_s", &s0) && meta_num(x, "spike_end_s", &s1)) {
    sb_num(b, "spike_start", s0);
    sb_num(b, "spike_end", s1);
    if (meta_num(x, "spike_drain_s", &drain)) sb_num(b, "drain_end", s1 + drain);
    else if (x->summary && json_object_get(x->summary, "spike_drain_s")) sb_num(b, "undrained", 1);
  }
  pass_num(x, b, "slo_ttft", "slo_ttft_s");
  pass_num(x, b, "slo_tpot", "slo_tpot_s");
  pass_num(x, b, "slo_e2e", "slo_e2e_s");
  pass_num(x, b, "slo_pct", "slo_percentile");
  pass_class_targets(x, b);
  pass_num(x, b, "saturation", "saturation_rate_per_s");
  if (has_col(x, "capacity_utilization") && has_col(x, "batch_occupancy")) sb_num(b, "capcols", 1);
  pass_window(x, b);
  return true;
}

/* ---- sweeps: the varied keys and what the points are held to ---- */

/* The sweep's varied keys: the columns between "point" and
 * "replications" (sweep.csv's layout); their indices into cols, *n set. */
static int *sweep_axes(const plot_csv *c, int *n)
{
  int *axes = xmalloc((size_t)c->ncols * sizeof *axes);
  *n = 0;
  int end = plot_csv_col(c, "replications");
  if (c->ncols > 0 && !strcmp(c->cols[0], "point") && end > 0)
    for (int i = 1; i < end; i++) axes[(*n)++] = i;
  return axes;
}

/* Whether column col holds the same finite number in every row that has
 * one (*v set), and at least one row does. */
static bool csv_constant(const plot_csv *c, int col, double *v)
{
  bool any = false;
  double x;
  for (size_t r = 0; col >= 0 && r < c->rows; r++) {
    if (!cell_number(plot_csv_at(c, r, col), &x)) continue;
    if (any && x != *v) return false;
    *v = x;
    any = true;
  }
  return any;
}

/* Whether every non-empty cell of column col reads as a number. */
static bool csv_numeric(const plot_csv *c, int col)
{
  for (size_t r = 0; col >= 0 && r < c->rows; r++) {
    const char *cell = plot_csv_at(c, r, col);
    if (cell && *cell) {
      char *e;
      strtod(cell, &e);
      if (*e) return false;
    }
  }
  return true;
}

/* A column name a gnuplot word list can carry (no blanks or quotes). */
static bool plain_name(const char *s)
{
  return *s && !strpbrk(s, " \t'\"\\");
}

static bool is_load_axis(const char *key)
{
  return strstr(key, "load_scale") || strstr(key, "arrivals.rate") || strstr(key, "time_scale");
}

static bool ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix);
}

/* A percentile for a label: 99 -> "p99", 99.9 -> "p99.9". */
static void pct_name(char *buf, size_t n, double pct)
{
  char num[40];
  fmt_num(num, sizeof num, pct);
  snprintf(buf, n, "p%s", num);
}

/* targets= what slo_met (the filled markers) counts, from the sweep's
 * slo_*_mean columns: "met p99 TTFT ≤ 1 s, p99 TPOT ≤ 0.1 s, none
 * rejected" (notarget=1 when there is no target: slo_met then says only
 * that nothing was rejected); slo_ttft= the TTFT target when every point
 * has the same. */
static void pass_sweep_targets(const plot_ctx *x, strbuf *b)
{
  static const char *const metric[3][3] = {{"slo_ttft_s_mean", "TTFT", "slo_ttft"},
                                           {"slo_tpot_s_mean", "TPOT", "slo_tpot"},
                                           {"slo_e2e_s_mean", "end-to-end", "slo_e2e"}};
  const plot_csv *c = x->csv;
  double pct = 99;
  char pname[48];
  bool varies = false;
  int pc = plot_csv_col(c, "slo_percentile_mean");
  if (pc >= 0 && !isnan(csv_first_number(c, pc)) && !csv_constant(c, pc, &pct)) varies = true;
  pct_name(pname, sizeof pname, pct);
  strbuf t = {0};
  for (int m = 0; m < 3; m++) {
    int col = plot_csv_col(c, metric[m][0]);
    double v;
    if (col < 0 || isnan(csv_first_number(c, col))) continue;
    if (!csv_constant(c, col, &v)) {
      varies = true;
      continue;
    }
    char num[40];
    fmt_num(num, sizeof num, v);
    sb_printf(&t, "%s%s %s ≤ %s s", t.s ? ", " : "", pname, metric[m][1], num);
    sb_num(b, metric[m][2], v);
  }
  if (varies) {
    free(t.s);
    t = (strbuf){0};
    sb_printf(&t, "met each point's own targets (they vary across the sweep)");
    sb_num(b, "slo_ttft", NAN);
  }
  if (t.s && !varies) {
    char *met = xmalloc(strlen(t.s) + 32);
    sprintf(met, "met %s, none rejected", t.s);
    sb_str(b, "targets", met);
    free(met);
  } else if (t.s) {
    sb_str(b, "targets", t.s);
  } else {
    sb_str(b, "targets", "no request rejected (the scenario sets no latency target)");
    sb_num(b, "notarget", 1);
  }
  free(t.s);
}

/* name= and model= for a sweep's title: summary.json or plan.json, else
 * the sweep's own columns. */
static void pass_sweep_title(const plot_ctx *x, strbuf *b)
{
  const plot_csv *c = x->csv;
  for (int i = 0; i < 2; i++) {
    const char *key = i ? "model" : "scenario", *var = i ? "model" : "name";
    char *v = meta_text(x, key);
    if (!v) v = csv_first_text(c, plot_csv_col(c, key));
    if (v) sb_str(b, var, v);
    free(v);
  }
}

/* Values for the serving sweep figure: the varied keys (the one its lines
 * run along: a replica count; the load, a panel per value; the others
 * name the lines), the column naming the GPU type, the targets slo_met
 * counts, whether there are 95% bars. */
static bool sweep_vars(const plot_ctx *x, strbuf *b)
{
  const plot_csv *c = x->csv;
  pass_sweep_title(x, b);
  const char *gpucol = plot_csv_col(c, "cluster.pools.[0].gpu") >= 0 ? "cluster.pools.[0].gpu"
                       : plot_csv_col(c, "pool0_gpu") >= 0            ? "pool0_gpu"
                                                                  : NULL;
  if (gpucol) sb_str(b, "gpucol", gpucol);
  int naxes, *axes = sweep_axes(c, &naxes);
  const char *line = NULL, *load = NULL;
  for (int i = 0; i < naxes; i++) {
    const char *k = c->cols[axes[i]];
    if (!plain_name(k)) continue;
    if (!line && ends_with(k, ".replicas") && csv_numeric(c, axes[i])) line = k;
    else if (!load && is_load_axis(k) && csv_numeric(c, axes[i])) load = k;
  }
  strbuf ser = {0};
  for (int i = 0; i < naxes; i++) {
    const char *k = c->cols[axes[i]];
    if (k != line && k != load && plain_name(k)) sb_printf(&ser, "%s%s", ser.s ? " " : "", k);
  }
  if (!ser.s && gpucol) sb_printf(&ser, "%s", gpucol);
  if (ser.s) sb_str(b, "sercols", ser.s);
  free(ser.s);
  if (line) sb_str(b, "linecol", line);
  if (load) sb_str(b, "loadcol", load);
  free(axes);
  pass_sweep_targets(x, b);
  if (plot_csv_col(c, "ttft_p99_s_ci95") < 0 || plot_csv_col(c, "usd_per_million_tokens_ci95") < 0) sb_num(b, "noci", 1);
  return true;
}

/* Values for a training sweep's figure: the axis along x (the first
 * numeric varied key, else the first; xnum=1 when numeric) and the others,
 * which name the lines. */
static bool training_sweep_vars(const plot_ctx *x, strbuf *b)
{
  const plot_csv *c = x->csv;
  pass_sweep_title(x, b);
  char *gpu = csv_first_text(c, plot_csv_col(c, "gpu"));
  if (gpu) sb_str(b, "gpu", gpu);
  free(gpu);
  int naxes, *axes = sweep_axes(c, &naxes);
  int xi = -1;
  for (int i = 0; i < naxes && xi < 0; i++)
    if (plain_name(c->cols[axes[i]]) && csv_numeric(c, axes[i])) xi = i;
  if (xi < 0)
    for (int i = 0; i < naxes && xi < 0; i++)
      if (plain_name(c->cols[axes[i]])) xi = i;
  if (xi < 0) {
    fprintf(stderr, MSG "%s: no varied key to draw against (the columns between point and replications)\n",
            x->input);
    free(axes);
    return false;
  }
  sb_str(b, "xcol", c->cols[axes[xi]]);
  if (csv_numeric(c, axes[xi])) sb_num(b, "xnum", 1);
  strbuf ser = {0};
  for (int i = 0; i < naxes; i++)
    if (i != xi && plain_name(c->cols[axes[i]])) sb_printf(&ser, "%s%s", ser.s ? " " : "", c->cols[axes[i]]);
  if (ser.s) sb_str(b, "sercols", ser.s);
  free(ser.s);
  free(axes);
  if (plot_csv_col(c, "train_days_ci95") < 0 || isnan(csv_first_number(c, plot_csv_col(c, "train_days_ci95"))))
    sb_num(b, "noci", 1);
  return true;
}

/* The title and the targets (plan.json's "slo" object: metric -> bound). */
static void plan_title_vars(const plot_ctx *x, strbuf *b)
{
  if (has_meta(x, "scenario")) pass_name(x, b);
  pass_text(x, b, "model", "model");
  const json_t *slo = x->plan ? json_object_get(x->plan, "slo") : NULL;
  if (json_is_object(slo)) {
    strbuf t = {0};
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)slo, k, v) {
      char *val = json_text(slo, k);
      if (val) sb_printf(&t, "%s%s ≤ %s", t.s ? ", " : "", k, val);
      free(val);
    }
    if (t.s) sb_str(b, "targets", t.s);
    free(t.s);
  } else {
    pass_num(x, b, "slo_ttft", "slo_ttft_s");
  }
}

/* Values for the fleet plan's figure: title, targets, the answer (its
 * baseline replicas, cost and a label) and the cheapest all-on-demand
 * fleet's cost, from plan.json's "fleet" and "on_demand". */
static bool plan_fleet_vars(const plot_ctx *x, strbuf *b)
{
  plan_title_vars(x, b);
  const json_t *f = x->plan ? json_object_get(x->plan, "fleet") : NULL;
  double cost;
  if (x->plan && json_is_true(json_object_get(x->plan, "feasible")) && json_is_object(f) &&
      json_num(f, "usd_per_hour", &cost)) {
    const json_t *base = json_object_get(f, "baseline"), *burst = json_object_get(f, "burst");
    double nb = 0, nu = 0;
    const char *bp = json_is_object(base) ? json_string_value(json_object_get(base, "pricing")) : NULL;
    const char *up = json_is_object(burst) ? json_string_value(json_object_get(burst, "pricing")) : NULL;
    if (bp) json_num(base, "replicas", &nb);
    if (up) json_num(burst, "max_replicas", &nu);
    char label[160];
    if (bp && up)
      snprintf(label, sizeof label, "%g %s + up to %g %s", nb, bp, nu, up);
    else if (bp)
      snprintf(label, sizeof label, "%g %s", nb, bp);
    else
      snprintf(label, sizeof label, "up to %g %s", nu, up ? up : "?");
    sb_num(b, "best_base", nb);
    sb_num(b, "best_cost", cost);
    sb_str(b, "best_label", label);
  }
  const json_t *od = x->plan ? json_object_get(x->plan, "on_demand") : NULL;
  if (json_is_object(od) && json_num(od, "usd_per_hour", &cost)) sb_num(b, "od_cost", cost);
  return true;
}

/* Values for the plan figure: title, the targets, and the plan's answer
 * (feasible, gpu, tp) to ring. */
static bool plan_vars(const plot_ctx *x, strbuf *b)
{
  plan_title_vars(x, b);
  double tp;
  const char *gpu = x->plan ? json_string_value(json_object_get(x->plan, "gpu")) : NULL;
  if (x->plan && json_is_true(json_object_get(x->plan, "feasible")) && gpu && json_num(x->plan, "tp", &tp)) {
    sb_str(b, "best_gpu", gpu);
    sb_num(b, "best_tp", tp);
  }
  return true;
}

/* Values for `tco`'s figure: the scenario, GPU and horizon, the payback
 * month and the option it is measured against, from tco.json. */
static bool tco_vars(const plot_ctx *x, strbuf *b)
{
  const json_t *t = x->tco;
  if (!t) return true;
  const char *sc = json_string_value(json_object_get(t, "scenario"));
  const char *gpu = json_string_value(json_object_get(t, "gpu"));
  if (sc) sb_str(b, "name", sc);
  if (gpu) sb_str(b, "gpu", gpu);
  double v;
  if (json_num(t, "years", &v)) sb_num(b, "years", v);
  if (json_num(t, "peak_gpus", &v)) sb_num(b, "peak_gpus", v);
  const json_t *buy = json_object_get(t, "buy");
  if (json_is_object(buy)) {
    sb_num(b, "has_buy", 1);
    if (json_num(buy, "payback_month", &v)) sb_num(b, "payback", v);
    const char *against = json_string_value(json_object_get(buy, "payback_against"));
    if (against) sb_str(b, "payback_against", against);
    /* the break-even utilisation against that provider ("rent-on-demand:nebius") */
    const char *colon = against ? strchr(against, ':') : NULL;
    const json_t *be = json_object_get(buy, "break_even_utilization");
    if (colon && json_is_object(be) && json_num(be, colon + 1, &v)) sb_num(b, "break_even", v);
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
  pass_window(x, b);
  char *path = join(x->outdir, "jobs.csv");
  bool ok = true;
  if (exists(path)) {
    plot_csv j;
    ok = plot_csv_load(path, &j);
    for (const char *const *col = jobs_cols; ok && *col; col++) {
      if (plot_csv_col(&j, *col) < 0) {
        fprintf(stderr, MSG "%s: no column '%s' (cluster.gp needs it)\n", path, *col);
        ok = false;
      }
    }
    if (ok && j.rows > 0) {
      char *gp = gp_path(path);
      sb_str(b, "jobs", gp);
      free(gp);
    }
    plot_csv_release(&j);
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
  /* a run in phases (training.phases): where each later phase begins, as
   * a share of the failure-free steps, its name and MFU (up to 8) */
  double np = 0, ff = 0;
  if (meta_num(x, "phases", &np) && np > 1 && meta_num(x, "failure_free_time_s", &ff) && ff > 0) {
    double cum = 0;
    int marked = 0;
    for (int i = 1; i < (int)np && marked < 8; i++) {
      char key[64], var[32];
      double fi = 0;
      snprintf(key, sizeof key, "phase%d_failure_free_time_s", i);
      if (!meta_num(x, key, &fi)) break;
      cum += fi;
      marked++;
      snprintf(var, sizeof var, "phase%d_share", marked);
      sb_num(b, var, cum / ff);
      snprintf(key, sizeof key, "phase%d_name", i + 1);
      snprintf(var, sizeof var, "phase%d_name", marked);
      pass_text(x, b, var, key);
      snprintf(key, sizeof key, "phase%d_mfu", i + 1);
      snprintf(var, sizeof var, "phase%d_mfu", marked);
      pass_num(x, b, var, key);
    }
    sb_num(b, "phases_marked", marked);
  }
  pass_window(x, b);
  return true;
}

typedef struct {
  const char *name;              /* NAME.gp draws NAME.png and NAME.svg */
  const char *input;             /* the file in OUTDIR it reads */
  const char *when;              /* drawn only if input's header has this column (NULL: always) */
  const char *also;              /* or if this file is in OUTDIR (NULL: none) */
  const char *const *columns;    /* the columns it needs, NULL-terminated */
  bool (*vars)(const plot_ctx *, strbuf *);
  bool timed;                    /* drawn against time: plot --from/--to apply */
} figure;

static const char *const ts_cols[] = {"time_s", "offered_rate_per_s", "completions", "rejected",
                                      "queue_length", "ttft_p99_s", "replicas_busy", NULL};
static const char *const util_cols[] = {"time_s", "utilization", "kv_used_fraction", "running_batch", NULL};
static const char *const fleet_cols[] = {"time_s", "offered_rate_per_s", "replicas_requested", "replicas_ready",
                                         "replicas_busy", "cost_usd_per_h", "cost_on_demand_usd_per_h",
                                         "cost_reserved_usd_per_h", "cost_spot_usd_per_h", "cost_owned_usd_per_h",
                                         "cost_energy_usd_per_h", "spot_interruptions", NULL};
static const char *const cdf_cols[] = {"class", "p", "ttft_s", "tpot_s", "e2e_s", NULL};
static const char *const sweep_cols[] = {"ttft_p99_s_mean", "usd_per_million_tokens_mean", "slo_met_mean", NULL};
static const char *const tsweep_cols[] = {"point", "replications", "train_days_mean", "train_cost_usd_mean", NULL};
static const char *const plan_cols[] = {"gpu", "tp", "offered_rate_per_s", "replicas", "usd_per_hour",
                                        "feasible", NULL};

static const char *const plan_fleet_cols[] = {"baseline_pricing", "baseline_replicas", "burst_pricing",
                                              "feasible", "usd_per_hour", NULL};
static const char *const cluster_cols[] = {"time_s", "gpus_busy", "queue_length", "running_jobs", "serving_gpus",
                                           NULL};
static const char *const train_cols[] = {"time_s", "progress", "failures", "lost_work_s", NULL};
static const char *const tco_cols[] = {"month", NULL};

/* A timeseries.csv is a serving run's (offered_rate_per_s), a job queue's
 * (gpus_busy) or a training run's (progress); a sweep.csv a serving
 * sweep's (ttft_p99_s_mean) or a training sweep's (train_days_mean); see
 * figure_wanted. */
static const figure figures[] = {
  {"spike", "timeseries.csv", "offered_rate_per_s", NULL, ts_cols, run_vars, true},
  {"latency_cdf", "latency_cdf.csv", NULL, NULL, cdf_cols, run_vars, false},
  {"utilization", "timeseries.csv", "offered_rate_per_s", NULL, util_cols, run_vars, true},
  {"fleet", "timeseries.csv", "replicas_requested", NULL, fleet_cols, run_vars, true},
  {"cluster", "timeseries.csv", "gpus_busy", "jobs.csv", cluster_cols, cluster_vars, true},
  {"training", "timeseries.csv", "progress", NULL, train_cols, training_vars, true},
  {"sweep_cost_latency", "sweep.csv", "ttft_p99_s_mean", NULL, sweep_cols, sweep_vars, false},
  {"sweep_training", "sweep.csv", "train_days_mean", NULL, tsweep_cols, training_sweep_vars, false},
  {"plan_replicas", "plan_load.csv", NULL, NULL, plan_cols, plan_vars, false},
  {"plan_fleet", "plan.csv", "baseline_pricing", NULL, plan_fleet_cols, plan_fleet_vars, false},
  {"tco", "tco.csv", NULL, NULL, tco_cols, tco_vars, false},
};
enum { NFIGURES = sizeof figures / sizeof figures[0] };

static bool has_col(const plot_ctx *x, const char *col) { return x->csv && plot_csv_col(x->csv, col) >= 0; }

static bool in_outdir(const char *outdir, const char *name)
{
  char *p = join(outdir, name);
  bool e = exists(p);
  free(p);
  return e;
}

const char *const *plot_run_files(void)
{
  static char names[2 * NFIGURES + 1][64];
  static const char *list[2 * NFIGURES + 1];
  if (!list[0]) {
    int n = 0;
    for (int i = 0; i < NFIGURES; i++) {
      if (!strcmp(figures[i].input, "sweep.csv") || !strcmp(figures[i].input, "plan_load.csv") ||
          !strcmp(figures[i].input, "plan.csv") || !strcmp(figures[i].input, "tco.csv"))
        continue;
      for (int k = 0; k < 2; k++, n++) {
        snprintf(names[n], sizeof names[n], "plots/%s.%s", figures[i].name, k ? "svg" : "png");
        list[n] = names[n];
      }
    }
    list[n] = NULL;
  }
  return list;
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
              MSG "%s: no figure for it: its header names none of %s (%s)\n", path, cols.s,
              !strcmp(name, "sweep.csv") ? "a serving or a training sweep's columns"
                                         : "a serving, job-queue or training run's columns");
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
  bool commit_failed; /* the last figure's files could not be written (out_set said so) */
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

/* Both pictures of a figure, NAME.png and NAME.svg in plotdir, drawn by
 * script with the values so far, renamed into place together; false with
 * a message if either fails, leaving the previous pair as it was. */
static bool draw(plot_run *r, const char *script, const char *vars, const char *plotdir, const char *name)
{
  static const char *const ext[2] = {"png", "svg"};
  out_set *set = out_set_alloc(plotdir, MSG);
  char *warnings[2] = {NULL, NULL};
  bool ok = true;
  for (int i = 0; i < 2 && ok; i++) {
    char file[512];
    snprintf(file, sizeof file, "%s.%s", name, ext[i]);
    FILE *f = out_set_open(set, file);
    if (!f) {
      ok = false;
      break;
    }
    strbuf e = {0};
    sb_printf(&e, "%s", vars);
    sb_str(&e, "term", ext[i]);
    char *output;
    size_t bytes;
    int rc = plot_gnuplot(script, e.s, f, &bytes, &output);
    free(e.s);
    const char *path = out_set_path(set, file);
    if (rc == 0 && bytes > 0) {
      warnings[i] = output;
      continue;
    }
    ok = false;
    if (rc == 127 && !strncmp(output, "cannot run", 10)) {
      fprintf(stderr,
              MSG "%s (install gnuplot 5 with the pngcairo and svg terminals, Debian package "
                  "gnuplot-nox, or name the program in CLUSTERSIM_GNUPLOT)\n",
              output);
      r->no_gnuplot = true;
    } else if (rc == 0) {
      fprintf(stderr, MSG "%s: gnuplot exited 0 but drew nothing for %s\n", script, path);
      print_indented(stderr, output);
    } else {
      fprintf(stderr, MSG "%s failed drawing %s (gnuplot exit status %d):\n", script, path, rc);
      print_indented(stderr, output);
    }
    free(output);
  }
  if (ok) {
    ok = out_set_commit(set, NULL, NULL, NULL); /* reports a file it cannot write */
    r->commit_failed = !ok;
  } else {
    out_set_abort(set);
  }
  if (ok) {
    for (int i = 0; i < 2; i++) {
      if (!r->quiet) {
        printf("%s %s/%s.%s\n", r->written == 0 ? "plots:" : "      ", plotdir, name, ext[i]);
        if (warnings[i] && *warnings[i]) print_indented(stderr, warnings[i]); /* gnuplot's warnings */
      }
      r->written++;
    }
  }
  free(warnings[0]);
  free(warnings[1]);
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
  plot_csv c;
  bool ok = true;
  if (!exists(script)) {
    fprintf(stderr, MSG "no script %s (set CLUSTERSIM_PLOTS to the folder holding the plots/*.gp scripts)\n",
            script);
    ok = false;
  } else if (!plot_csv_load(input, &c)) {
    ok = false;
  } else {
    for (const char *const *col = fig->columns; *col; col++) {
      if (plot_csv_col(&c, *col) < 0) {
        fprintf(stderr, MSG "%s: no column '%s' (%s.gp needs it)\n", input, *col, fig->name);
        ok = false;
      }
    }
    if (ok && c.rows == 0) {
      fprintf(stderr, MSG "%s: no data rows, nothing to draw\n", input);
      ok = false;
    }
    strbuf vars = {0};
    char *gp_in = gp_path(input), *gp_script = gp_path(script);
    sb_str(&vars, "in", gp_in);
    x->csv = &c;
    x->input = input;
    if (ok) ok = fig->vars(x, &vars);
    if (ok) ok = draw(r, gp_script, vars.s, plotdir, fig->name);
    x->csv = NULL;
    free(gp_in);
    free(gp_script);
    free(vars.s);
    plot_csv_release(&c);
  }
  if (!ok && !r->commit_failed) {
    char *png = xmalloc(strlen(plotdir) + strlen(fig->name) + 8);
    sprintf(png, "%s/%s.png", plotdir, fig->name);
    if (exists(png)) fprintf(stderr, MSG "%s: the previous picture is kept (it was not redrawn)\n", png);
    free(png);
  }
  r->commit_failed = false;
  free(script);
  free(input);
  return ok;
}

/* Whether s holds a control character (gnuplot could not be given it). */
static bool has_control(const char *s)
{
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p == 0x7f) return true;
  return false;
}

bool plot_dir(const char *outdir, const char *plots_dir, bool quiet)
{
  plot_opts o = {.quiet = quiet};
  return plot_dir_opts(outdir, plots_dir, &o);
}

bool plot_dir_opts(const char *outdir, const char *plots_dir, const plot_opts *opts)
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
  if (has_control(outdir) || has_control(scripts)) {
    fprintf(stderr, MSG "%s: a path with a control character (such as a newline) cannot be handed to gnuplot; "
                        "rename it\n",
            has_control(outdir) ? outdir : scripts);
    return false;
  }
  char *plotdir = join(outdir, "plots");
  if (!out_mkdirs(plotdir)) {
    fprintf(stderr, MSG "%s: cannot create: %s\n", plotdir, strerror(errno));
    free(plotdir);
    return false;
  }
  plot_ctx x = {.outdir = outdir, .opts = opts};
  x.summary = load_json(outdir, "summary.json");
  x.plan = load_json(outdir, "plan.json");
  x.tco = load_json(outdir, "tco.json");

  plot_run r = {.quiet = opts->quiet};
  bool ok = input_known(outdir, "timeseries.csv");
  ok = input_known(outdir, "sweep.csv") && ok;
  int timed = 0;
  for (int i = 0; i < NFIGURES && !r.no_gnuplot; i++) {
    if (opts->window && !figures[i].timed) continue; /* a window: the time-axis figures only */
    if (figure_wanted(outdir, i)) {
      timed += figures[i].timed;
      if (!draw_figure(&r, &figures[i], &x, scripts, plotdir)) ok = false;
    } else if (figures[i].when && in_outdir(outdir, figures[i].input)) {
      remove_figure(plotdir, figures[i].name); /* a picture of another run's data */
    }
  }
  if (opts->window && timed == 0 && ok) {
    fprintf(stderr, MSG "%s: --from and --to apply to figures drawn against time (spike, utilization, cluster, "
                        "training); there is none here\n",
            outdir);
    ok = false;
  }
  json_decref(x.summary);
  json_decref(x.plan);
  json_decref(x.tco);
  free(plotdir);
  return ok && r.written > 0;
}
