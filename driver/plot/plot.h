/* driver/plot/plot.h: pictures of what `run`, `sweep` and `plan` leave in an output
 * directory, drawn by the gnuplot scripts in plots/ into OUTDIR/plots/ as
 * PNG and SVG twins. This module decides which figures the directory's
 * files allow, reads the few values the titles and markers need from
 * summary.json and plan.json (jansson), checks that each input has the
 * columns its script reads, and runs gnuplot (plot_gnuplot.c) so that
 * every picture appears whole or not at all, and nothing handed to gnuplot
 * can run a command. It knows nothing of how the numbers were made. Part
 * of the driver. */
#ifndef DRIVER_PLOT_PLOT_H
#define DRIVER_PLOT_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* How plot_dir_opts draws. */
typedef struct {
  bool quiet;            /* do not list the files written */
  bool window;           /* draw only [from_s, to_s] of the time axis */
  double from_s, to_s;   /* the window (s of simulated time), from_s < to_s */
} plot_opts;

/* Render every figure whose input exists in outdir into OUTDIR/plots/
 * (created if need be), chosen by what the files hold: after a serving
 * `run` spike, latency_cdf and utilization (from timeseries.csv with an
 * offered_rate_per_s column, latency_cdf.csv, summary.json); after a
 * job-queue run cluster (timeseries.csv with gpus_busy, jobs.csv); after a
 * training run training (timeseries.csv with progress); after a serving
 * `sweep` sweep_cost_latency (sweep.csv with ttft_p99_s_mean), after a
 * training sweep sweep_training (sweep.csv with train_days_mean); after
 * `plan` plan_replicas (plan_load.csv, plan.json); each as NAME.png and
 * NAME.svg, and the pictures a timeseries.csv of another kind would get
 * are removed. A timeseries.csv or sweep.csv with none of those columns is
 * a failure. With a window only the figures drawn against time are drawn
 * (the others are left as they are), limited to it. plots_dir holds the
 * scripts (NULL: plot_scripts_dir()). Prints each file written on standard
 * output unless quiet; reports every failure on standard error (naming the
 * script and quoting gnuplot, or the file and the reason) and carries on
 * with the other figures. True iff at least one figure was drawn and none
 * failed. A figure that fails keeps its previous pictures, if any, as they
 * were (both twins: never a new PNG beside an old SVG). */
bool plot_dir_opts(const char *outdir, const char *plots_dir, const plot_opts *opts);

/* plot_dir_opts without a window. */
bool plot_dir(const char *outdir, const char *plots_dir, bool quiet);

/* The pictures drawn from a run's files, as paths relative to OUTDIR
 * ("plots/spike.png", ...), NULL-terminated: what a new run makes stale. */
const char *const *plot_run_files(void);

/* Whether outdir holds at least one input some figure is drawn from. */
bool plot_has_inputs(const char *outdir);

/* Where the gnuplot scripts are: $CLUSTERSIM_PLOTS if set and not empty,
 * else the installed PREFIX/share/clustersim/plots beside the running
 * executable, else the source tree's plots/ (CS_PLOTS_DIR, fixed at build
 * time); see driver/config/datadir.h. */
const char *plot_scripts_dir(void);

/* Run `gnuplot -e expr script` ($CLUSTERSIM_GNUPLOT, else gnuplot on the
 * PATH), standard input from /dev/null; what it writes on standard output
 * (the picture) is copied to image (NULL: discarded; a write error stays in
 * image's stream) and counted in *bytes (may be NULL); its standard error
 * is captured into *messages (malloc'd, caller frees, never NULL). Returns
 * its exit status, 127 if it could not be started, 128 + N if killed by
 * signal N, -1 if no process could be created. */
int plot_gnuplot(const char *script, const char *expr, FILE *image, size_t *bytes, char **messages);

/* The gnuplot program plot_gnuplot runs. */
const char *plot_gnuplot_program(void);

#endif
