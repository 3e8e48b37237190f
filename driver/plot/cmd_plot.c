/* driver/plot/cmd_plot.c: `clustersim plot OUTDIR [-q]`: the command line over
 * plot_dir (driver/plot/plot.c), which draws the figures; this file only reads
 * the options, refuses a missing directory and sets the exit status. */
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "driver/commands/cli.h"
#include "driver/plot/plot.h"

static void plot_usage(FILE *f)
{
  fputs("Usage: clustersim plot OUTDIR [-q]\n"
        "\n"
        "Draw the figures for what OUTDIR holds into OUTDIR/plots/, each as PNG and SVG:\n"
        "  after run:   serving: spike (load, queue, p99 TTFT and busy replicas over time),\n"
        "               latency_cdf (TTFT, TPOT and end-to-end distributions by class),\n"
        "               utilization (GPU busy time, KV-cache occupancy, batch size);\n"
        "               jobs: cluster (GPUs busy for jobs and serving, queue, each job's wait);\n"
        "               training: training (progress over wall time, failures)\n"
        "  after sweep: sweep_cost_latency (cost per million tokens against p99 TTFT)\n"
        "  after plan:  plan_replicas (replicas needed and cost against offered load)\n"
        "Needs gnuplot 5 with the pngcairo and svg terminals (Debian: gnuplot-nox).\n"
        "The scripts are plots/*.gp in the source tree; $CLUSTERSIM_PLOTS names another\n"
        "folder, $CLUSTERSIM_GNUPLOT another gnuplot program.\n"
        "\n"
        "Options:\n"
        "  -q, --quiet        do not list the files written\n"
        "  -h, --help         this help\n"
        "\n"
        "Exit status: 0 all drawn, 1 a figure failed (its files are not left behind),\n"
        "2 bad usage or an OUTDIR without anything to plot.\n",
        f);
}

int cmd_plot(int argc, char **argv)
{
  static const struct option opts[] = {
    {"quiet", no_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  bool quiet = false;
  int ch;
  while ((ch = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
    if (ch == 'q') quiet = true;
    else if (ch == 'h') return plot_usage(stdout), CMD_EXIT_OK;
    else return cmd_usage_error("plot", NULL);  /* getopt said why */
  }
  if (optind != argc - 1) return cmd_usage_error("plot", "name one output directory (clustersim plot OUTDIR)");
  const char *outdir = argv[optind];
  struct stat st;
  if (stat(outdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "clustersim plot: %s: no such directory (the -o OUTDIR of run, sweep or plan)\n", outdir);
    return CMD_EXIT_USAGE;
  }
  if (!plot_has_inputs(outdir)) {
    fprintf(stderr,
            "clustersim plot: %s: nothing to plot (no timeseries.csv, jobs.csv, latency_cdf.csv, sweep.csv "
            "or plan_load.csv)\n",
            outdir);
    return CMD_EXIT_USAGE;
  }
  return plot_dir(outdir, NULL, quiet) ? CMD_EXIT_OK : CMD_EXIT_FAIL;
}
