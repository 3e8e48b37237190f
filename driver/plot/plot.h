/* driver/plot/plot.h: pictures of what `run`, `sweep` and `plan` leave in an output
 * directory, drawn by the gnuplot scripts in plots/ into OUTDIR/plots/ as
 * PNG and SVG twins. This module decides which figures the directory's
 * files allow, reads the few values the titles and markers need from
 * summary.json and plan.json, checks that each input has the columns its
 * script reads, and runs gnuplot (plot_gnuplot.c) so that every picture
 * appears whole or not at all. It knows nothing of how the numbers were
 * made. Part of the driver. */
#ifndef DRIVER_PLOT_PLOT_H
#define DRIVER_PLOT_PLOT_H

#include <stdbool.h>

/* Render every figure whose input exists in outdir into OUTDIR/plots/
 * (created if need be), chosen by what the files hold: after a serving
 * `run` spike, latency_cdf and utilization (from timeseries.csv with an
 * offered_rate_per_s column, latency_cdf.csv, summary.json); after a
 * job-queue run cluster (timeseries.csv with gpus_busy, jobs.csv); after a
 * training run training (timeseries.csv with progress); after `sweep`
 * sweep_cost_latency (sweep.csv); after `plan` plan_replicas
 * (plan_load.csv, plan.json); each as NAME.png and NAME.svg, and the
 * pictures a timeseries.csv of another kind would get are removed. A
 * timeseries.csv with none of those columns is a failure. plots_dir
 * holds the scripts (NULL: plot_scripts_dir()). Prints each file
 * written on standard output unless quiet; reports every failure on
 * standard error (naming the script and quoting gnuplot) and carries on
 * with the other figures. True iff at least one figure was drawn and none
 * failed. A failed picture leaves no file under its name. */
bool plot_dir(const char *outdir, const char *plots_dir, bool quiet);

/* Whether outdir holds at least one input some figure is drawn from. */
bool plot_has_inputs(const char *outdir);

/* Where the gnuplot scripts are: $CLUSTERSIM_PLOTS if set and not empty,
 * else the installed PREFIX/share/clustersim/plots beside the running
 * executable, else the source tree's plots/ (CS_PLOTS_DIR, fixed at build
 * time); see driver/config/datadir.h. */
const char *plot_scripts_dir(void);

/* Run `gnuplot -e expr script` ($CLUSTERSIM_GNUPLOT, else gnuplot on the
 * PATH), standard input from /dev/null, its standard output and error
 * captured into *output (malloc'd, caller frees, never NULL). Returns its
 * exit status, 127 if it could not be started, 128 + N if killed by signal
 * N, -1 if no process could be created. */
int plot_gnuplot(const char *script, const char *expr, char **output);

/* The gnuplot program plot_gnuplot runs. */
const char *plot_gnuplot_program(void);

#endif
