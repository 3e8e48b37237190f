/* tests/unit/test_plot.c: `clustersim plot` (driver/plot/cmd_plot.c, driver/plot/plot.c,
 * driver/plot/plot_gnuplot.c and the scripts in plots/) as a user meets it, run as
 * a child process: the three figures of a short two-class serving run with
 * a spike, the cluster figure of a small job-queue run and the training
 * figure of a small training run (and no serving figure for those), the
 * sweep and plan figures from the samples in tests/plot/ (replica counts
 * drawn as steps), the capacity figures from tests/plot/capacity/ and their
 * fallback for outputs without the capacity columns, each class's targets,
 * windows (--from, --to), a training sweep's figure, summary.json read with
 * jansson, and the failures - a missing or empty directory (exit 2), an
 * empty or header-only input, a time series of no known kind, a script that
 * fails half-way, a missing gnuplot (exit 1, a message, no new picture, the
 * previous one kept) - and output directories and titles made to run
 * commands through gnuplot (nothing runs). Needs gnuplot 5 with pngcairo and
 * svg (scripts/deps.txt). Scratch output goes under CS_TEST_TMP and is
 * removed when a test passes. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clitest.h"
#include "driver/plot/plot_csv.h"
#include "testutil.h"

#define SAMPLES_DIR CS_SOURCE_DIR "/tests/plot"
#define PLOTS_DIR CS_SOURCE_DIR "/plots"

/* A short serving run: Llama 2 7B on 2 x A100-80GB, chat and batch classes
 * at 5 requests/s in all with a 5x spike from 200 s to 320 s, 600 s of
 * arrivals, a TTFT/TPOT SLO. About 30 ms to simulate. */
static const char scenario_cfg[] =
  "name = \"plot-test\";\n"
  "seed = 1;\n"
  "warmup_s = 60.0;\n"
  "model = { name = \"llama2-7b\"; precision = \"fp16\"; };\n"
  "cluster = { pools = ( { gpu = \"a100-80gb-sxm\"; replicas = 2; tp = 1; } ); };\n"
  "workload = {\n"
  "  classes = (\n"
  "    { name = \"chat\"; priority = 1;\n"
  "      arrivals = { rate = 4.0; spikes = ( { start_s = 200.0; duration_s = 120.0; multiplier = 5.0; } ); };\n"
  "      prompt_tokens = { dist = \"lognormal\"; mean = 300.0; cv = 1.0; };\n"
  "      output_tokens = { dist = \"lognormal\"; mean = 150.0; cv = 1.0; }; },\n"
  "    { name = \"batch\"; priority = 0;\n"
  "      arrivals = { rate = 1.0; spikes = ( { start_s = 200.0; duration_s = 120.0; multiplier = 5.0; } ); };\n"
  "      prompt_tokens = { dist = \"lognormal\"; mean = 1000.0; cv = 0.5; };\n"
  "      output_tokens = { dist = \"lognormal\"; mean = 300.0; cv = 0.5; }; }\n"
  "  );\n"
  "  duration_s = 600.0;\n"
  "};\n"
  "scheduler = { policy = \"continuous\"; };\n"
  "slo = { ttft_s = 1.0; tpot_s = 0.1; percentile = 99.0; };\n"
  "output = { interval_s = 10.0; };\n";

static const char *const run_figures[] = {"spike", "latency_cdf", "utilization", NULL};

/* A small shared cluster: 4 nodes of 8 A100-80GB, three jobs with fixed
 * run times, a serving pool of 1 node growing to 2 for three hours. */
static const char jobs_cfg[] =
  "name = \"plot-jobs\";\n"
  "seed = 1;\n"
  "jobs = {\n"
  "  gpu = \"a100-80gb-sxm\"; nodes = 4; gpus_per_node = 8; policy = \"backfill\";\n"
  "  list = (\n"
  "    { name = \"big\"; kind = \"training\"; gpus = 16; duration_s = 36000.0; },\n"
  "    { name = \"tune\"; kind = \"finetune\"; gpus = 16; arrival_s = 600.0; duration_s = 7200.0; },\n"
  "    { name = \"batch\"; kind = \"inference\"; gpus = 8; arrival_s = 1200.0; duration_s = 3600.0; }\n"
  "  );\n"
  "  interval_s = 600.0;\n"
  "  serving = ( { start_s = 0.0; nodes = 1; }, { start_s = 3600.0; nodes = 2; },\n"
  "              { start_s = 14400.0; nodes = 1; } );\n"
  "};\n";

/* A small training run: Llama 2 7B on 64 A100-80GB (ZeRO 1 to fit), 1e10
 * tokens (about 10 h), a GPU failure every 8 h of the job, hourly rows. */
static const char train_cfg[] =
  "name = \"plot-train\";\n"
  "seed = 1;\n"
  "training = {\n"
  "  model = \"llama2-7b\"; gpu = \"a100-80gb-sxm\"; gpus = 64; zero = 1;\n"
  "  global_batch = 512; seq_len = 4096; train_tokens = 1e10; interval_s = 3600.0;\n"
  "  failures = { mtbf_gpu_h = 512.0; };\n"
  "};\n";

static const char *const other_figures[] = {"spike", "latency_cdf", "utilization", "cluster", "training",
                                            "sweep_cost_latency", "plan_replicas", "fleet", NULL};

/* ---- helpers ---- */

static bool file_exists(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0;
}

static long file_size(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  CHECK(f != NULL, "cannot write %s", path);
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

static void copy_file(const char *from, const char *to)
{
  char *text = cs_slurp(from, NULL);
  CHECK(text != NULL, "cannot read %s", from);
  if (text) write_file(to, text);
  free(text);
}

/* OUTDIR with a fresh run of text (a scenario) in dir/run (malloc'd). */
static char *make_run_of(const char *dir, const char *text)
{
  char *cfg = path_join(dir, "plot-test.cfg"), *out = path_join(dir, "run");
  write_file(cfg, text);
  result r = RUN("run", cfg, "-q", "-o", out);
  CHECK_RC(r, 0);
  result_free(&r);
  free(cfg);
  return out;
}

static char *make_run(const char *dir)
{
  return make_run_of(dir, scenario_cfg);
}

/* A PNG: the signature, and more than 10 KB (a real figure, not a stub). */
static void check_png(const char *path)
{
  unsigned char sig[8] = {0};
  FILE *f = fopen(path, "rb");
  size_t n = f ? fread(sig, 1, sizeof sig, f) : 0;
  if (f) fclose(f);
  CHECK(n == 8 && !memcmp(sig, "\x89PNG\r\n\x1a\n", 8), "%s: no PNG signature", path);
  CHECK(file_size(path) > 10 * 1024, "%s: %ld bytes, expected > 10 KB", path, file_size(path));
}

/* An SVG: starts with <?xml or <svg, ends with </svg>, more than 5 KB;
 * returns its text (caller frees) for content checks. */
static char *check_svg(const char *path)
{
  char *s = cs_slurp(path, NULL);
  CHECK(s != NULL, "%s: missing", path);
  if (!s) return NULL;
  const char *p = s;
  while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
  CHECK(!strncmp(p, "<?xml", 5) || !strncmp(p, "<svg", 4), "%s: does not start with <?xml or <svg", path);
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r' || s[n - 1] == '\t')) n--;
  CHECK(n >= 6 && !strncmp(s + n - 6, "</svg>", 6), "%s: does not end with </svg>", path);
  CHECK(strstr(s, "<svg") != NULL, "%s: no <svg> element", path);
  CHECK(file_size(path) > 5 * 1024, "%s: %ld bytes, expected > 5 KB", path, file_size(path));
  return s;
}

/* Both twins of figure `name` in OUTDIR/plots; the SVG's text returned. */
static char *check_figure(const char *outdir, const char *name)
{
  char png[4096], svg[4096];
  snprintf(png, sizeof png, "%s/plots/%s.png", outdir, name);
  snprintf(svg, sizeof svg, "%s/plots/%s.svg", outdir, name);
  CHECK(file_exists(png), "%s was not written", png);
  CHECK(file_exists(svg), "%s was not written", svg);
  if (file_exists(png)) check_png(png);
  return file_exists(svg) ? check_svg(svg) : NULL;
}

static void check_absent(const char *outdir, const char *name)
{
  for (int i = 0; i < 2; i++) {
    char p[4096];
    snprintf(p, sizeof p, "%s/plots/%s.%s", outdir, name, i ? "svg" : "png");
    CHECK(!file_exists(p), "%s exists; it should not", p);
  }
}

/* No temporary file of gnuplot's left in OUTDIR/plots. */
static void check_no_tmp(const char *outdir)
{
  char *dir = path_join(outdir, "plots");
  size_t n;
  char **names = list_dir(dir, NULL, &n);
  for (char **p = names; *p; p++) CHECK(!strstr(*p, ".tmp."), "%s/%s: temporary file left behind", dir, *p);
  free_list(names);
  free(dir);
}

static void svg_has(const char *what, const char *text, const char *want)
{
  CHECK(text && strstr(text, want), "%s does not contain \"%s\"", what, want);
}

/* Whether the first path of SVG group `id` is a staircase: every segment
 * horizontal or vertical; *rises counts the vertical ones. */
static bool svg_steps(const char *svg, const char *id, int *rises)
{
  char want[128];
  snprintf(want, sizeof want, "<g id=\"%s\"", id);
  const char *g = svg ? strstr(svg, want) : NULL;
  const char *d = g ? strstr(g, " d='M") : NULL;
  if (!d) return false;
  const char *end = strchr(d + 4, '\'');
  double x0, y0, x, y;
  const char *p = d + 5;
  if (sscanf(p, "%lf,%lf", &x0, &y0) != 2) return false;
  *rises = 0;
  int segments = 0;
  while ((p = strchr(p, 'L')) && p < end) {
    if (sscanf(p + 1, "%lf,%lf", &x, &y) != 2) return false;
    if (x != x0 && y != y0) return false; /* a slope */
    if (x == x0 && y != y0) ++*rises;
    segments++;
    x0 = x, y0 = y, p++;
  }
  return segments > 0;
}

/* The point labels of a sweep_cost_latency.svg (texts in 11 pt grey) and
 * its markers inside the plot (scale 7.80, left of x_max): whether any two
 * labels, or a label and a marker, overlap. Boxes are taken smaller than
 * the glyphs (0.6 em a character, 10 px high; markers 5 px round the centre)
 * so that only a real overlap counts. *nlabels set. */
static bool svg_labels_overlap(const char *svg, double x_max, int *nlabels, char *why, size_t n)
{
  enum { MAXB = 512 };
  double lx[MAXB], ly[MAXB], lw[MAXB], px[MAXB], py[MAXB];
  int nl = 0, np = 0;
  const char *label_attr = "fill=\"rgb(64,64,64)\" font-family=\"DejaVu Sans\" font-size=\"11.00\"";
  for (const char *p = svg; (p = strstr(p, "<g transform=\"translate(")) && nl < MAXB; p++) {
    const char *end = strchr(p, '>');
    const char *attr = strstr(p, label_attr);
    if (!end || !attr || attr > end) continue;
    double x, y;
    const char *t = strstr(end, "<text>");
    if (sscanf(p, "<g transform=\"translate(%lf,%lf)", &x, &y) != 2 || !t) continue;
    t += 6;
    size_t len = strcspn(t, "<");
    lx[nl] = x, ly[nl] = y - 4, lw[nl] = 0.3 * 11 * (double)len, nl++;
  }
  for (const char *p = svg; (p = strstr(p, "<use xlink:href='#gpPt")) && np < MAXB; p++) {
    double x, y, sc;
    const char *tr = strstr(p, "transform='translate(");
    if (!tr || tr > strchr(p, '>')) continue;
    if (sscanf(tr, "transform='translate(%lf,%lf) scale(%lf)", &x, &y, &sc) == 3 && sc > 7.7 && sc < 7.9 && x < x_max)
      px[np] = x, py[np] = y, np++;
  }
  *nlabels = nl;
  for (int i = 0; i < nl; i++) {
    for (int j = i + 1; j < nl; j++)
      if (fabs(lx[i] - lx[j]) < lw[i] + lw[j] && fabs(ly[i] - ly[j]) < 10) {
        snprintf(why, n, "labels at (%.0f, %.0f) and (%.0f, %.0f) overlap", lx[i], ly[i], lx[j], ly[j]);
        return true;
      }
    for (int k = 0; k < np; k++)
      if (fabs(lx[i] - px[k]) < lw[i] + 5 && fabs(ly[i] - py[k]) < 5 + 5) {
        snprintf(why, n, "the label at (%.0f, %.0f) covers the marker at (%.0f, %.0f)", lx[i], ly[i], px[k], py[k]);
        return true;
      }
  }
  return false;
}

/* ---- the figures ---- */

/* After run: spike, latency_cdf and utilization, both formats, named on
 * stdout; titles from summary.json, both classes in the CDF's legend. */
static void test_run_figures(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plot_run");
  char *out = make_run(dir);
  result r = RUN("plot", out);
  CHECK_RC(r, 0);
  for (const char *const *f = run_figures; *f; f++) {
    char *svg = check_figure(out, *f);
    char name[256];
    snprintf(name, sizeof name, "%s.svg", *f);
    svg_has(name, svg, "plot-test");                     /* scenario, from summary.json */
    svg_has(name, svg, "llama2-7b");
    for (int i = 0; i < 2; i++) {
      char listed[4096];
      snprintf(listed, sizeof listed, "%s/plots/%s.%s", out, *f, i ? "svg" : "png");
      CHECK_OUT_HAS(r, listed);
    }
    if (!strcmp(*f, "latency_cdf")) {
      svg_has(name, svg, "chat");
      svg_has(name, svg, "batch");
    }
    if (!strcmp(*f, "spike")) {
      svg_has(name, svg, "demand spike 3.3–5.3 min"); /* 200-320 s, from summary.json */
      svg_has(name, svg, "SLO 1 s");
    }
    free(svg);
  }
  check_absent(out, "sweep_cost_latency");
  check_absent(out, "plan_replicas");
  check_no_tmp(out);
  result_free(&r);

  /* again, quietly: the same files, nothing on stdout */
  r = RUN("plot", out, "-q");
  CHECK_RC(r, 0);
  CHECK(r.out[0] == '\0', "plot -q printed: %s", r.out);
  free(check_figure(out, "spike"));
  result_free(&r);
  free(out);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* After a job-queue run: cluster only (no serving figure tried, though
 * timeseries.csv has time_s, utilization and queue_length), its title
 * from summary.json, the wait panel from jobs.csv. A stale spike.png from
 * a serving run before goes. */
static void test_jobs_figure(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plot_jobs");
  char *out = make_run_of(dir, jobs_cfg);
  char *plots = path_join(out, "plots"), *stale = path_join(out, "plots/spike.png");
  mkdir(plots, 0777);
  write_file(stale, "an old picture of other data");
  result r = RUN("plot", out);
  CHECK_RC(r, 0);
  CHECK(!strstr(r.err, "spike") && !strstr(r.err, "utilization") && !strstr(r.err, "no column"),
        "a serving figure was tried:\n%s", r.err);
  char *svg = check_figure(out, "cluster");
  svg_has("cluster.svg", svg, "plot-jobs");
  svg_has("cluster.svg", svg, "backfill");
  svg_has("cluster.svg", svg, "32 × a100-80gb-sxm");
  svg_has("cluster.svg", svg, "3 jobs");
  svg_has("cluster.svg", svg, "serving pool");
  svg_has("cluster.svg", svg, "(c) each job");  /* the wait panel: jobs.csv was read */
  svg_has("cluster.svg", svg, "time (h)");      /* 12 h: hours, not days */
  free(svg);
  for (const char *const *f = other_figures; *f; f++)
    if (strcmp(*f, "cluster")) check_absent(out, *f);
  check_no_tmp(out);
  result_free(&r);
  free(stale);
  free(plots);
  free(out);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* After a training run: training only, its title from summary.json (model,
 * GPUs, MFU, length), the failure-free finish marked. */
static void test_training_figure(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plot_train");
  char *out = make_run_of(dir, train_cfg);
  result r = RUN("plot", out);
  CHECK_RC(r, 0);
  CHECK(!strstr(r.err, "spike") && !strstr(r.err, "no column"), "a serving figure was tried:\n%s", r.err);
  char *svg = check_figure(out, "training");
  svg_has("training.svg", svg, "plot-train");
  svg_has("training.svg", svg, "llama2-7b on 64 × a100-80gb-sxm");
  svg_has("training.svg", svg, "MFU ");
  svg_has("training.svg", svg, "trained in ");
  svg_has("training.svg", svg, "without failures: ");
  CHECK(!strstr(svg, "begins"), "a run without phases marks a phase");
  free(svg);
  for (const char *const *f = other_figures; *f; f++)
    if (strcmp(*f, "training")) check_absent(out, *f);
  check_no_tmp(out);
  result_free(&r);
  free(out);
  /* a run in phases: where its long-context phase begins, named, with its MFU */
  char cfg2[1024];
  snprintf(cfg2, sizeof cfg2, "%.*s  phases = ( { name = \"long-context\"; tokens = 2e9; seq_len = 32768; cp = 8;\n"
           "    global_batch = 64; } );\n};\n", (int)(sizeof train_cfg - 4), train_cfg);
  out = make_run_of(dir, cfg2);
  r = RUN("plot", out);
  CHECK_RC(r, 0);
  svg = check_figure(out, "training");
  svg_has("training.svg", svg, "long-context begins, MFU ");
  svg_has("training.svg", svg, "in its first phase");
  free(svg);
  result_free(&r);
  free(out);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* After `clustersim tco FILE.cfg`: tco.csv (cumulative USD per option by
 * month) and tco.json give the tco figure, titled from tco.json, with the
 * payback month; no run figure is tried. */
static void test_tco_figure(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plot_tco");
  char *out = path_join(dir, "t");
  mkdir(out, 0755);
  char *csv = path_join(out, "tco.csv"), *json = path_join(out, "tco.json");
  write_file(csv, "month,rent-as-simulated,rent-on-demand:lambda,buy\n"
                  "0,0.00,0.00,50000.00\n1,4000.00,3000.00,50500.00\n2,8000.00,6000.00,51000.00\n"
                  "3,12000.00,9000.00,51500.00\n");
  write_file(json, "{\"scenario\": \"plot-tco\", \"gpu\": \"h100-sxm\", \"years\": 0.25, \"peak_gpus\": 8,\n"
                   " \"buy\": {\"payback_month\": null, \"payback_against\": \"rent-on-demand:lambda\"}}\n");
  result r = RUN("plot", out);
  CHECK_RC(r, 0);
  CHECK(!strstr(r.err, "spike") && !strstr(r.err, "no column"), "a run figure was tried:\n%s", r.err);
  char *svg = check_figure(out, "tco");
  svg_has("tco.svg", svg, "plot-tco");
  svg_has("tco.svg", svg, "8 × h100-sxm at peak");
  svg_has("tco.svg", svg, "rent-on-demand:lambda");
  free(svg);
  for (const char *const *f = other_figures; *f; f++) check_absent(out, *f);
  check_no_tmp(out);
  result_free(&r);
  free(csv);
  free(json);
  free(out);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* After sweep and plan (tests/plot/: sweep.csv, plan.json, plan_load.csv,
 * summary.json): sweep_cost_latency and plan_replicas, and nothing else. */
static void test_sweep_plan_figures(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plot_sweep");
  static const char *const samples[] = {"sweep.csv", "plan.json", "plan_load.csv", "summary.json", NULL};
  for (const char *const *s = samples; *s; s++) {
    char *from = path_join(SAMPLES_DIR, *s), *to = path_join(dir, *s);
    copy_file(from, to);
    free(from);
    free(to);
  }
  result r = RUN("plot", dir);
  CHECK_RC(r, 0);
  char *svg = check_figure(dir, "sweep_cost_latency");
  /* the box beside the ringed point (its lines are separate SVG texts) */
  svg_has("sweep_cost_latency.svg", svg, "cheapest meeting the targets:");
  svg_has("sweep_cost_latency.svg", svg, "a100-80gb-sxm × 2");
  svg_has("sweep_cost_latency.svg", svg, "$0.219/M tokens, p99 TTFT 0.334 s");
  svg_has("sweep_cost_latency.svg", svg, "p99 TTFT target 1 s");
  /* what the filled markers count: the sweep's slo_*_mean columns */
  svg_has("sweep_cost_latency.svg", svg, "filled: met p99 TTFT ≤ 1 s, p99 TPOT ≤ 0.1 s, none rejected");
  svg_has("sweep_cost_latency.svg", svg, "a line per GPU, through replicas");
  svg_has("sweep_cost_latency.svg", svg, "l40s");
  /* the 20 replica counts beside their points, none over another or over
   * a marker (the legend's markers, right of the plot, left out) */
  int nlabels = 0;
  char why[256] = "";
  CHECK(svg && !svg_labels_overlap(svg, 0.74 * 1200, &nlabels, why, sizeof why) && nlabels == 20,
        "sweep_cost_latency.svg: %d point labels; %s", nlabels, why);
  free(svg);
  svg = check_figure(dir, "plan_replicas");
  svg_has("plan_replicas.svg", svg, "h100-sxm (tp 1)");
  svg_has("plan_replicas.svg", svg, "targets: ttft_p99_s ≤ 1, tpot_p99_s ≤ 0.1");
  svg_has("plan_replicas.svg", svg, "a100-80gb-sxm, tp 2, 1 replica");
  /* replica counts as steps: a100 (tp 2) needs 1, 1, 2, 2, 2, 2, 3 replicas
   * at its 7 loads (tests/plot/plan_load.csv): 3 distinct counts, so its
   * line (the first plot) has 2 rises, every segment axis-parallel */
  int rises = 0;
  CHECK(svg_steps(svg, "gnuplot_plot_1a", &rises) && rises == 2,
        "plan_replicas.svg: the first line is not a staircase with 2 rises (%d)", rises);
  free(svg);
  for (const char *const *f = run_figures; *f; f++) check_absent(dir, *f);
  check_no_tmp(dir);
  result_free(&r);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* After a fleet plan (tests/plot/fleet/: plan.json and plan.csv of `plan
 * --pricing reserved-1y` on tests/plan/fleet.cfg): plan_fleet, with the
 * answer (2 reserved-1y + up to 2 on-demand, $4.09/h) and the
 * all-on-demand fleet ($4.99/h) in its subtitle, and nothing else - not
 * plan_replicas, which a fleet plan has no plan_load.csv for. */
static void test_fleet_plan_figure(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plot_fleet");
  static const char *const samples[] = {"plan.json", "plan.csv", NULL};
  for (const char *const *s = samples; *s; s++) {
    char *from = path_join(SAMPLES_DIR "/fleet", *s), *to = path_join(dir, *s);
    copy_file(from, to);
    free(from);
    free(to);
  }
  result r = RUN("plot", dir);
  CHECK_RC(r, 0);
  char *svg = check_figure(dir, "plan_fleet");
  svg_has("plan_fleet.svg", svg, "cheapest (ringed): 2 reserved-1y + up to 2 on-demand, $4.09/h");
  svg_has("plan_fleet.svg", svg, "all on demand (dashed): $4.99/h");
  svg_has("plan_fleet.svg", svg, "targets: ttft_p99_s ≤ 1");
  svg_has("plan_fleet.svg", svg, "colour: baseline pricing");
  svg_has("plan_fleet.svg", svg, "reserved-1y");
  free(svg);
  check_absent(dir, "plan_replicas");
  for (const char *const *f = run_figures; *f; f++) check_absent(dir, *f);
  check_no_tmp(dir);
  result_free(&r);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* ---- usage errors: exit 2 ---- */

/* --plot on run, sweep and plan draws what each leaves, after writing it. */
static void test_plot_flags(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plot_flags");
  char *cfg = path_join(dir, "flags.cfg");
  write_file(cfg, scenario_cfg);
  char *out = path_join(dir, "r");
  result r = RUN("run", cfg, "-q", "-o", out, "--plot");
  CHECK_RC(r, 0);
  result_free(&r);
  for (const char *const *f = run_figures; *f; f++) free(check_figure(out, *f));
  free(out);
  out = path_join(dir, "s");
  r = RUN("sweep", cfg, "-q", "-o", out, "--vary", "cluster.pools.[0].replicas=1,2", "--plot");
  CHECK_RC(r, 0);
  result_free(&r);
  free(check_figure(out, "sweep_cost_latency"));
  free(out);
  out = path_join(dir, "p");
  r = RUN("plan", cfg, "-q", "-o", out, "--slo", "ttft_p99_s=30", "--max-replicas", "4", "--plot");
  CHECK_RC(r, 0);
  result_free(&r);
  free(check_figure(out, "plan_replicas"));
  free(out);
  free(cfg);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

static void test_usage(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plot_usage");
  result r = RUN("plot", "--help");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "Usage: clustersim plot OUTDIR");
  result_free(&r);

  r = RUN("plot");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "name one output directory");
  result_free(&r);

  char *missing = path_join(dir, "no-such-dir");
  r = RUN("plot", missing);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "no-such-dir: no such directory");
  result_free(&r);
  free(missing);

  r = RUN("plot", dir); /* exists, holds nothing to plot */
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "nothing to plot");
  result_free(&r);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* ---- broken inputs: exit 1, a message, no picture under its name ---- */

/* timeseries.csv empty, then header only: spike and utilization fail with
 * a message naming the file; a stale spike.png from before is removed;
 * latency_cdf, whose input is fine, is still drawn. */
static void test_broken_input(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plot_broken");
  char *out = make_run(dir);
  char *ts = path_join(out, "timeseries.csv");
  write_file(ts, "");
  result r = RUN("plot", out);
  CHECK_RC(r, 1);
  CHECK_ERR_HAS(r, "timeseries.csv: empty");
  check_absent(out, "spike");
  check_absent(out, "utilization");
  free(check_figure(out, "latency_cdf"));
  check_no_tmp(out);
  result_free(&r);

  write_file(ts, "time_s,offered_rate_per_s,arrivals,completions,rejected,queue_length,running_batch,in_flight,"
                 "utilization,kv_used_fraction,ttft_p99_s,replicas_busy,output_tokens_per_s\n");
  /* a failed re-plot keeps the previous picture (a run that replaces the
   * data removes its pictures: test_output.c) */
  char *stale = path_join(out, "plots/spike.png");
  write_file(stale, "an old picture of other data");
  r = RUN("plot", out, "-q");
  CHECK_RC(r, 1);
  CHECK_ERR_HAS(r, "timeseries.csv: no data rows");
  CHECK_ERR_HAS(r, "spike.png: the previous picture is kept");
  char *kept = cs_slurp(stale, NULL);
  CHECK(kept && !strcmp(kept, "an old picture of other data"), "%s was not kept as it was", stale);
  free(kept);
  check_no_tmp(out);
  result_free(&r);
  unlink(stale);

  write_file(ts, "time_s,offered_rate_per_s,queue_length\n0,1,1\n");
  r = RUN("plot", out, "-q");
  CHECK_RC(r, 1);
  CHECK_ERR_HAS(r, "timeseries.csv: no column 'completions' (spike.gp needs it)");
  check_absent(out, "spike");
  result_free(&r);

  /* no column that tells which run wrote it: no figure, a message */
  write_file(ts, "time_s,queue_length\n0,1\n");
  r = RUN("plot", out, "-q");
  CHECK_RC(r, 1);
  CHECK_ERR_HAS(r, "timeseries.csv: no figure for it: its header names none of offered_rate_per_s, "
                   "replicas_requested, gpus_busy, progress");
  CHECK(!strstr(r.err, "spike.gp"), "spike.gp was tried:\n%s", r.err);
  check_absent(out, "spike");
  check_absent(out, "cluster");
  check_absent(out, "training");
  result_free(&r);
  free(stale);
  free(ts);
  free(out);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* A script that has written part of its picture when gnuplot stops on an
 * error: exit 1, the message names the script and quotes gnuplot, and
 * neither the picture nor its temporary file is left. */
static void test_script_fails(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plot_script");
  char *out = make_run(dir);
  char *scripts = path_join(dir, "scripts");
  mkdir(scripts, 0777);
  static const char *const good[] = {"common.gp", "latency_cdf.gp", "utilization.gp", NULL};
  for (const char *const *s = good; *s; s++) {
    char *from = path_join(PLOTS_DIR, *s), *to = path_join(scripts, *s);
    copy_file(from, to);
    free(from);
    free(to);
  }
  char *bad = path_join(scripts, "spike.gp");
  /* the scripts draw on standard output (common.gp's `set output`) */
  write_file(bad, "set terminal pngcairo size 800,600\nset output\nplot x\nset output\nplot sin(x)\n"
                  "no_such_command_here\n");
  setenv("CLUSTERSIM_PLOTS", scripts, 1);
  result r = RUN("plot", out);
  unsetenv("CLUSTERSIM_PLOTS");
  CHECK_RC(r, 1);
  CHECK_ERR_HAS(r, "spike.gp failed drawing");
  CHECK_ERR_HAS(r, "gnuplot exit status 1");
  CHECK_ERR_HAS(r, "no_such_command_here");
  check_absent(out, "spike");
  free(check_figure(out, "utilization"));
  check_no_tmp(out);
  result_free(&r);
  free(bad);
  free(scripts);
  free(out);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* gnuplot missing: exit 1, one message saying what to install, no files. */
static void test_no_gnuplot(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plot_nognuplot");
  char *out = make_run(dir);
  setenv("CLUSTERSIM_GNUPLOT", "/nonexistent/gnuplot", 1);
  result r = RUN("plot", out);
  unsetenv("CLUSTERSIM_GNUPLOT");
  CHECK_RC(r, 1);
  CHECK_ERR_HAS(r, "cannot run '/nonexistent/gnuplot'");
  CHECK_ERR_HAS(r, "gnuplot-nox");
  const char *first = strstr(r.err, "cannot run");
  CHECK(first && !strstr(first + 1, "cannot run"), "the message is repeated:\n%s", r.err);
  for (const char *const *f = run_figures; *f; f++) check_absent(out, *f);
  check_no_tmp(out);
  result_free(&r);
  free(out);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* ---- capacity, targets, windows ---- */

/* Copy tests/plot/capacity/ (a two-pool, two-class serving run with a spike,
 * its timeseries.csv carrying capacity_utilization and batch_occupancy as
 * the serving model writes them) into dir. */
static void copy_capacity(const char *dir)
{
  static const char *const files[] = {"summary.json", "timeseries.csv", "latency_cdf.csv", NULL};
  for (const char *const *f = files; *f; f++) {
    char from[4096];
    snprintf(from, sizeof from, "%s/capacity/%s", SAMPLES_DIR, *f);
    char *to = path_join(dir, *f);
    copy_file(from, to);
    free(to);
  }
}

/* With the capacity columns: spike's panel (d) and utilization's (a) and (b)
 * draw capacity utilization against the line at 1 and batch occupancy, not
 * the busy line; the saturation rate is drawn on the load panel; the drain
 * end is marked; the title names each pool's replicas and GPU; latency_cdf
 * draws each class's own targets (chat: TTFT 0.5 s, TPOT 0.05 s; batch:
 * TTFT 2 s from slo.ttft_s, end-to-end 60 s). */
static void test_capacity_figures(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plot_capacity");
  copy_capacity(dir);
  result r = RUN("plot", dir, "-q");
  CHECK_RC(r, 0);
  result_free(&r);
  char *svg = check_figure(dir, "spike");
  svg_has("spike.svg", svg, "llama2-7b on 2 a10 replicas + 1 a100-80gb-sxm replica (3 GPUs)");
  svg_has("spike.svg", svg, "(d) capacity utilization and batch occupancy");
  svg_has("spike.svg", svg, "offered / saturation rate");
  svg_has("spike.svg", svg, "running batch / max_num_seqs");
  svg_has("spike.svg", svg, "saturation (1)");
  svg_has("spike.svg", svg, "saturation rate 23/s");
  svg_has("spike.svg", svg, "backlog served by 9.5 min"); /* spike_end_s 480 + spike_drain_s 90 */
  svg_has("spike.svg", svg, "backlog served");
  CHECK(svg && !strstr(svg, "replicas busy"), "spike.svg still draws the busy replicas");
  free(svg);
  svg = check_figure(dir, "utilization");
  svg_has("utilization.svg", svg, "(a) capacity utilization: offered load over the saturation rate");
  svg_has("utilization.svg", svg, "batch occupancy");
  svg_has("utilization.svg", svg, "saturation rate 23 requests/s");
  CHECK(svg && !strstr(svg, "GPU utilization"), "utilization.svg still draws the busy fraction");
  free(svg);
  svg = check_figure(dir, "latency_cdf");
  static const char *const targets[] = {"chat 0.5 s", "chat 0.05 s", "batch 2 s", "batch 60 s",
                                        "each class's own targets", NULL};
  for (const char *const *t = targets; *t; t++) svg_has("latency_cdf.svg", svg, *t);
  free(svg);
  check_no_tmp(dir);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* Rewrite the CSV at path without the columns named in drop (the files
 * clustersim writes quote nothing). */
static void drop_columns(const char *path, const char *const *drop)
{
  char *text = cs_slurp(path, NULL);
  CHECK(text != NULL, "cannot read %s", path);
  if (!text) return;
  size_t cap = strlen(text) + 1, len = 0;
  char *out = malloc(cap);
  bool keep[256];
  int row = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), row++) {
    int col = 0, kept = 0;
    for (char *p = line;; col++) {
      size_t n = strcspn(p, ",");
      if (row == 0) {
        keep[col] = true;
        for (const char *const *d = drop; *d; d++)
          if (strlen(*d) == n && !strncmp(p, *d, n)) keep[col] = false;
      }
      if (col < 256 && keep[col]) {
        if (kept++) out[len++] = ',';
        memcpy(out + len, p, n);
        len += n;
      }
      if (!p[n]) break;
      p += n + 1;
    }
    out[len++] = '\n';
  }
  out[len] = '\0';
  write_file(path, out);
  free(out);
  free(text);
}

/* Without them (an output of a version before them: test_run_figures' run
 * with the two columns taken out): the busy replicas and the GPU busy
 * fraction, as before; one pool's title as before. */
static void test_capacity_fallback(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plot_fallback");
  char *out = make_run(dir);
  char *ts = path_join(out, "timeseries.csv");
  static const char *const capcols[] = {"capacity_utilization", "batch_occupancy", NULL};
  drop_columns(ts, capcols);
  char *h = cs_slurp(ts, NULL);
  CHECK(h && !strstr(h, "capacity_utilization") && strstr(h, "replicas_busy"), "%s: the columns were not taken out", ts);
  free(h);
  free(ts);
  result r = RUN("plot", out, "-q");
  CHECK_RC(r, 0);
  result_free(&r);
  char *svg = check_figure(out, "spike");
  svg_has("spike.svg", svg, "(d) replicas busy");
  svg_has("spike.svg", svg, "llama2-7b on 2 × a100-80gb-sxm (2 replicas)");
  free(svg);
  svg = check_figure(out, "utilization");
  svg_has("utilization.svg", svg, "GPU utilization");
  free(svg);
  free(out);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* plot --from/--to: the time-axis figures only, limited to the window
 * (durations with units); latency_cdf is left as it was; bad windows are
 * usage errors; a directory without a time-axis figure says so. */
static void test_window(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plot_window");
  copy_capacity(dir);
  result r = RUN("plot", dir, "-q");
  CHECK_RC(r, 0);
  result_free(&r);
  char *cdf = path_join(dir, "plots/latency_cdf.svg");
  char *cdf_before = cs_slurp(cdf, NULL);
  r = RUN("plot", dir, "--from", "4m", "--to", "600");
  CHECK_RC(r, 0);
  CHECK(!strstr(r.out, "latency_cdf"), "latency_cdf was redrawn for a window:\n%s", r.out);
  result_free(&r);
  char *svg = check_figure(dir, "spike");
  svg_has("spike.svg", svg, "window 4–10 min of the run");
  free(svg);
  svg = check_figure(dir, "utilization");
  svg_has("utilization.svg", svg, "window 4–10 min of the run");
  free(svg);
  char *cdf_after = cs_slurp(cdf, NULL);
  CHECK(cdf_before && cdf_after && !strcmp(cdf_before, cdf_after), "%s changed", cdf);
  free(cdf_before);
  free(cdf_after);
  free(cdf);
  r = RUN("plot", dir, "--from", "later");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--from later:");
  result_free(&r);
  r = RUN("plot", dir, "--from", "10m", "--to", "5m");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--from 600 s is not before --to 300 s");
  result_free(&r);
  char *sweep = cs_tmpdir("plot_window_sweep"), *from = path_join(SAMPLES_DIR, "sweep.csv"),
       *to = path_join(sweep, "sweep.csv");
  copy_file(from, to);
  r = RUN("plot", sweep, "--from", "1m");
  CHECK_RC(r, 1);
  CHECK_ERR_HAS(r, "--from and --to apply to figures drawn against time");
  result_free(&r);
  free(from);
  free(to);
  cs_cleanup_if_passed(sweep, before);
  free(sweep);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* ---- gnuplot never runs what it is handed ---- */

/* Output directories named '<cmd' and '|cmd' (gnuplot's pipes) for run
 * --plot, plot, sweep --plot and plan --plot: each draws, and no marker
 * file appears. */
static void test_injection(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plot_inject");
  char *cfg = path_join(dir, "inject.cfg");
  write_file(cfg, scenario_cfg);
  result r = run_in(dir, "run", cfg, "-q", "-o", "<touch M_run_in;echo", "--plot", (const char *)NULL);
  CHECK_RC(r, 0);
  result_free(&r);
  r = run_in(dir, "run", cfg, "-q", "-o", "|touch M_run_out;cat>", "--plot", (const char *)NULL);
  CHECK_RC(r, 0);
  result_free(&r);
  r = run_in(dir, "plot", "<touch M_run_in;echo", "-q", (const char *)NULL);
  CHECK_RC(r, 0);
  result_free(&r);
  r = run_in(dir, "sweep", cfg, "-q", "-o", "<touch M_sweep;echo", "--vary", "cluster.pools.[0].replicas=1,2",
             "--plot", (const char *)NULL);
  CHECK_RC(r, 0);
  result_free(&r);
  r = run_in(dir, "plan", cfg, "-q", "-o", "|touch M_plan;cat>", "--slo", "ttft_p99_s=30", "--max-replicas", "2",
             "--plot", (const char *)NULL);
  CHECK_RC(r, 0);
  result_free(&r);
  static const char *const markers[] = {"M_run_in", "M_run_out", "M_sweep", "M_plan", NULL};
  for (const char *const *m = markers; *m; m++) {
    char *p = path_join(dir, *m);
    CHECK(!file_exists(p), "%s exists: gnuplot ran a command", p);
    free(p);
  }
  static const char *const drawn[][2] = {{"<touch M_run_in;echo", "spike"},
                                         {"|touch M_run_out;cat>", "latency_cdf"},
                                         {"<touch M_sweep;echo", "sweep_cost_latency"},
                                         {"|touch M_plan;cat>", "plan_replicas"}};
  for (int i = 0; i < 4; i++) {
    char *out = path_join(dir, drawn[i][0]);
    free(check_figure(out, drawn[i][1]));
    free(out);
  }
  free(cfg);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* Titles from summary.json are values, never gnuplot code: a scenario name
 * made to close gnuplot's string and call system() is drawn as text. */
static void test_title_quotes(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plot_quotes");
  copy_capacity(dir);
  char *sum = path_join(dir, "summary.json");
  char *s = cs_slurp(sum, NULL);
  CHECK(s != NULL, "cannot read %s", sum);
  const char *evil = "\"scenario\": \"x'; system('touch M_title'); y='\\\"\\n\\\\\",";
  char *at = s ? strstr(s, "\"scenario\": \"plot-capacity\",") : NULL;
  CHECK(at != NULL, "%s has no scenario", sum);
  if (at) {
    size_t n = strlen(s) + strlen(evil) + 1;
    char *t = malloc(n);
    snprintf(t, n, "%.*s%s%s", (int)(at - s), s, evil, at + strlen("\"scenario\": \"plot-capacity\","));
    write_file(sum, t);
    free(t);
  }
  free(s);
  result r = run_in(dir, "plot", ".", "-q", (const char *)NULL);
  CHECK_RC(r, 0);
  result_free(&r);
  char *marker = path_join(dir, "M_title");
  CHECK(!file_exists(marker), "%s exists: a title ran a command", marker);
  free(marker);
  char *svg = check_figure(dir, "spike");
  svg_has("spike.svg", svg, "system(");
  free(svg);
  free(sum);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* ---- JSON read back with jansson ---- */

/* Escapes in summary.json read as what they stand for; a summary.json that
 * is not JSON is named with the reason, and the figures are still drawn
 * (titled after the directory). */
static void test_json_inputs(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plot_json");
  char *out = path_join(dir, "jsondir");
  mkdir(out, 0777);
  copy_capacity(out);
  char *sum = path_join(out, "summary.json");
  write_file(sum, "{\"scenario\": \"caf\\u00e9 \\\"quoted\\\"\", \"model\": \"m\\/7b\", \"pool0_gpu\": \"a10\", "
                  "\"pool0_replicas\": 3, \"gpus\": 3, \"sim_time_s\": 912.77, \"nested\": {\"scenario\": \"no\"}}\n");
  result r = RUN("plot", out, "-q");
  CHECK_RC(r, 0);
  result_free(&r);
  char *svg = check_figure(out, "spike");
  svg_has("spike.svg", svg, "café");
  svg_has("spike.svg", svg, "m/7b on 3 × a10 (3 replicas)");
  free(svg);
  write_file(sum, "{\"scenario\": \"cut short\",\n");
  r = RUN("plot", out, "-q");
  CHECK_RC(r, 0);
  CHECK_ERR_HAS(r, "summary.json:2: not read");
  result_free(&r);
  svg = check_figure(out, "spike");
  svg_has("spike.svg", svg, "jsondir");
  free(svg);
  free(sum);
  free(out);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* ---- sweeps of training, failed re-plots ---- */

/* A training sweep's --plot draws sweep_training (time and cost against
 * its axes) and exits 0: no serving column is asked for. */
static void test_training_sweep(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plot_tsweep");
  char *cfg = path_join(dir, "train.cfg"), *out = path_join(dir, "s");
  write_file(cfg, train_cfg);
  result r = RUN("sweep", cfg, "-q", "-o", out, "--vary", "training.gpus=32,64", "--vary",
                 "training.zero=1,2", "--plot");
  CHECK_RC(r, 0);
  CHECK(!strstr(r.err, "no column"), "a serving column was asked for:\n%s", r.err);
  result_free(&r);
  char *svg = check_figure(out, "sweep_training");
  svg_has("sweep_training.svg", svg, "Training sweep: time and cost");
  svg_has("sweep_training.svg", svg, "against gpus; a line per zero");
  svg_has("sweep_training.svg", svg, "(a) training time");
  svg_has("sweep_training.svg", svg, "(b) what it costs");
  free(svg);
  check_absent(out, "sweep_cost_latency");
  free(cfg);
  free(out);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* A re-plot that fails (a broken script) keeps both previous pictures of
 * the figure byte for byte, and says so. */
static void test_keep_previous(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("plot_keep");
  char *out = make_run(dir);
  result r = RUN("plot", out, "-q");
  CHECK_RC(r, 0);
  result_free(&r);
  char *png = path_join(out, "plots/spike.png"), *svgp = path_join(out, "plots/spike.svg");
  char *png0 = cs_slurp(png, NULL), *svg0 = cs_slurp(svgp, NULL);
  char *scripts = path_join(dir, "scripts");
  mkdir(scripts, 0777);
  static const char *const good[] = {"common.gp", "latency_cdf.gp", "utilization.gp", NULL};
  for (const char *const *s = good; *s; s++) {
    char *from = path_join(PLOTS_DIR, *s), *to = path_join(scripts, *s);
    copy_file(from, to);
    free(from);
    free(to);
  }
  char *bad = path_join(scripts, "spike.gp");
  write_file(bad, "set terminal pngcairo\nset output\nplot x\nthis_fails\n");
  setenv("CLUSTERSIM_PLOTS", scripts, 1);
  r = RUN("plot", out, "-q");
  unsetenv("CLUSTERSIM_PLOTS");
  CHECK_RC(r, 1);
  CHECK_ERR_HAS(r, "spike.png: the previous picture is kept");
  result_free(&r);
  char *png1 = cs_slurp(png, NULL), *svg1 = cs_slurp(svgp, NULL);
  CHECK(png0 && png1 && !memcmp(png0, png1, 8) && file_size(png) > 10 * 1024 && svg0 && svg1 && !strcmp(svg0, svg1),
        "the previous spike pictures were not kept");
  check_no_tmp(out);
  free(png0);
  free(png1);
  free(svg0);
  free(svg1);
  free(bad);
  free(scripts);
  free(png);
  free(svgp);
  free(out);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* The plots read their CSV inputs as RFC 4180: a sweep's error text may
 * hold commas, quotes and line breaks; CRLF lines; short rows. */
static void test_csv_reader(void)
{
  char *dir = cs_tmpdir("plot_csv");
  char *path = cs_write_file(dir, "sweep.csv",
                             "point,cluster.pools.[0].gpu,replications,status,error\r\n"
                             "0,a100-80gb-sxm,1,complete,\r\n"
                             "1,\"h100,sxm\",1,invalid,\"does not fit, \"\"short\"\" by 3 GiB\nsecond line\"\r\n"
                             "\r\n"
                             "2,a10\r\n");
  plot_csv c;
  CU_ASSERT_TRUE_FATAL(plot_csv_load(path, &c));
  CU_ASSERT_EQUAL(c.ncols, 5);
  CU_ASSERT_EQUAL(c.rows, 3);
  CU_ASSERT_EQUAL(plot_csv_col(&c, "error"), 4);
  CU_ASSERT_EQUAL(plot_csv_col(&c, "cluster.pools.[0].gpu"), 1);
  CU_ASSERT_EQUAL(plot_csv_col(&c, "nothing"), -1);
  CU_ASSERT_STRING_EQUAL(plot_csv_at(&c, 1, 1), "h100,sxm");
  CU_ASSERT_STRING_EQUAL(plot_csv_at(&c, 1, 4), "does not fit, \"short\" by 3 GiB\nsecond line");
  CU_ASSERT_STRING_EQUAL(plot_csv_at(&c, 0, 4), "");
  CU_ASSERT_STRING_EQUAL(plot_csv_at(&c, 2, 1), "a10");
  CU_ASSERT_PTR_NULL(plot_csv_at(&c, 2, 2));  /* a short row */
  CU_ASSERT_PTR_NULL(plot_csv_at(&c, 3, 0));
  plot_csv_release(&c);
  /* not CSV: an unclosed quote */
  free(path);
  path = cs_write_file(dir, "bad.csv", "a,b\n\"1,2\n");
  CU_ASSERT_FALSE(plot_csv_load(path, &c));
  free(path);
  path = cs_write_file(dir, "empty.csv", "");
  CU_ASSERT_FALSE(plot_csv_load(path, &c));
  free(path);
  free(dir);
}

int main(int argc, char **argv)
{
  static const cs_test tests[] = {
    {"usage", test_usage},
    {"run figures", test_run_figures},
    {"jobs figure", test_jobs_figure},
    {"training figure", test_training_figure},
    {"tco figure", test_tco_figure},
    {"sweep and plan figures", test_sweep_plan_figures},
    {"fleet plan figure", test_fleet_plan_figure},
    {"broken input", test_broken_input},
    {"script fails", test_script_fails},
    {"no gnuplot", test_no_gnuplot},
    {"--plot on run, sweep and plan", test_plot_flags},
    {"capacity figures", test_capacity_figures},
    {"capacity fallback", test_capacity_fallback},
    {"window", test_window},
    {"injection", test_injection},
    {"title quotes", test_title_quotes},
    {"json inputs", test_json_inputs},
    {"training sweep", test_training_sweep},
    {"keep previous", test_keep_previous},
    {"csv reader", test_csv_reader},
    {NULL, NULL},
  };
  return cs_run_suite_filtered("plot", tests, argc, argv);
}
