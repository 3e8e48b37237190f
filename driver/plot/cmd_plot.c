/* driver/plot/cmd_plot.c: `clustersim plot OUTDIR [--from T] [--to T] [-q]`:
 * the command line over plot_dir_opts (driver/plot/plot.c), which draws the
 * figures; this file only reads the options (durations with
 * cfg_duration_parse), refuses a missing directory or a bad window and sets
 * the exit status. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>

#include "driver/commands/cli.h"
#include "driver/config/duration.h"
#include "driver/plot/plot.h"

static void plot_usage(FILE *f)
{
  fputs("Usage: clustersim plot OUTDIR [--from T] [--to T] [-q]\n"
        "\n"
        "Draw the figures for what OUTDIR holds into OUTDIR/plots/, each as PNG and SVG:\n"
        "  after run:   serving: spike (load, queue, p99 TTFT, capacity utilization and\n"
        "               batch occupancy over time; the spike and the end of its backlog\n"
        "               marked), latency_cdf (TTFT, TPOT and end-to-end distributions by\n"
        "               class, with each class's targets), utilization (capacity\n"
        "               utilization, batch occupancy and KV-cache use, batch size);\n"
        "               jobs: cluster (GPUs busy for jobs and serving, queue, each job's wait);\n"
        "               training: training (progress over wall time, failures)\n"
        "  after sweep: serving: sweep_cost_latency (cost per million tokens against p99\n"
        "               TTFT, a line per value of the other varied keys, a panel per load,\n"
        "               the cheapest point meeting the targets ringed);\n"
        "               training: sweep_training (training time and cost against the axes)\n"
        "  after plan:  plan_replicas (replicas needed and cost against offered load)\n"
        "Needs gnuplot 5 with the pngcairo and svg terminals (Debian: gnuplot-nox).\n"
        "The scripts are plots/*.gp in the source tree; $CLUSTERSIM_PLOTS names another\n"
        "folder, $CLUSTERSIM_GNUPLOT another gnuplot program.\n"
        "\n"
        "Options:\n"
        "      --from T       draw the figures against time (spike, utilization, cluster,\n"
        "      --to T         training) from T to T only, in simulated time: seconds or\n"
        "                     a duration with units (90m, 9h, 2d, 1h30m); either may be\n"
        "                     left out (the run's start, its end); the other figures are\n"
        "                     left as they are\n"
        "  -q, --quiet        do not list the files written\n"
        "  -h, --help         this help\n"
        "\n"
        "Exit status: 0 all drawn, 1 a figure failed (its previous pictures, if any, are\n"
        "kept; no new picture is left half-written), 2 bad usage or an OUTDIR without\n"
        "anything to plot.\n",
        f);
}

/* A --from/--to value into *s; false with a usage error said. */
static bool parse_time(const char *opt, const char *text, double *s)
{
  char why[160];
  if (!cfg_duration_parse(text, s, why, sizeof why)) {
    cmd_usage_error("plot", "%s %s: %s", opt, text, why);
    return false;
  }
  if (*s < 0) {
    cmd_usage_error("plot", "%s %s: negative (a time from the run's start, such as 90m)", opt, text);
    return false;
  }
  return true;
}

int cmd_plot(int argc, char **argv)
{
  enum { OPT_FROM = 1000, OPT_TO };
  static const struct option opts[] = {{"quiet", no_argument, NULL, 'q'},
                                       {"from", required_argument, NULL, OPT_FROM},
                                       {"to", required_argument, NULL, OPT_TO},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  plot_opts po = {.from_s = 0, .to_s = INFINITY};
  int ch;
  while ((ch = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
    if (ch == 'q') po.quiet = true;
    else if (ch == OPT_FROM) {
      if (!parse_time("--from", optarg, &po.from_s)) return CMD_EXIT_USAGE;
      po.window = true;
    } else if (ch == OPT_TO) {
      if (!parse_time("--to", optarg, &po.to_s)) return CMD_EXIT_USAGE;
      po.window = true;
    } else if (ch == 'h') return plot_usage(stdout), CMD_EXIT_OK;
    else return cmd_usage_error("plot", NULL); /* getopt said why */
  }
  if (optind != argc - 1) return cmd_usage_error("plot", "name one output directory (clustersim plot OUTDIR)");
  if (po.window && !(po.from_s < po.to_s))
    return cmd_usage_error("plot", "--from %g s is not before --to %g s", po.from_s, po.to_s);
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
  return plot_dir_opts(outdir, NULL, &po) ? CMD_EXIT_OK : CMD_EXIT_FAIL;
}
