/* driver/commands/cli.c: top-level usage, --help, --version (with the data
 * folders the program reads) and subcommand dispatch. */
#include "driver/commands/cli.h"

#include <getopt.h>
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/config/catalog_load.h"
#include "driver/plot/plot.h"
#include "sim/command.h"
#include "sim/util.h"

static void usage(FILE *f)
{
  fputs("Usage: clustersim [--help] [--version] COMMAND [ARGS...]\n"
        "\n"
        "A discrete-event simulator of GPU clusters for AI workloads.\n"
        "\n"
        "Commands:\n"
        "  run FILE.cfg     simulate a scenario; writes OUTDIR/summary.json and prints a table\n"
        "  check FILE.cfg   validate a scenario without simulating\n"
        "  keys [NAME]      list every scenario section and key (or NAME's), with defaults\n"
        "  list CATALOG     print the gpus, links, models, stacks or providers catalog\n"
        "  plan FILE.cfg    cheapest GPU type x tp x replicas that meets latency targets\n"
        "  sweep FILE.cfg   run a scenario over a grid of settings; sweep.db and sweep.csv\n"
        "  plot OUTDIR      draw the figures for a run's, sweep's or plan's output (PNG, SVG)\n"
        "  calibrate FILE...\n"
        "                   fit a serving stack's step-time constants to your measurements\n"
        "  tco --compare GPU:N,GPU:N\n"
        "                   cost of owning GPUs: power, energy and purchase price over years\n"
        ,
        f);
  for (const sim_command_type *const *c = sim_commands; *c; c++)
    fprintf(f, "  %-16s %s\n", (*c)->name, (*c)->summary);
  fputs("\nRun 'clustersim COMMAND --help' for a command's options; man clustersim for all.\n", f);
}

/* GSL's default handler aborts; a GSL error inside the simulator is a bug,
 * reported with the simulated time like any other. */
static void gsl_error_to_bug(const char *reason, const char *file, int line, int gsl_errno)
{
  sim_bug_at(file, line, "GSL error %d: %s", gsl_errno, reason);
}

/* The program's own subcommands; model families add theirs (cmd_model). */
typedef struct {
  const char *name, *prog;
  int (*fn)(int argc, char **argv);
} subcommand;

static const subcommand subcommands[] = {
  {"run", "clustersim run", cmd_run},       {"check", "clustersim check", cmd_check},
  {"keys", "clustersim keys", cmd_keys},    {"list", "clustersim list", cmd_list},
  {"plan", "clustersim plan", cmd_plan},    {"plot", "clustersim plot", cmd_plot},
  {"sweep", "clustersim sweep", cmd_sweep},   {"calibrate", "clustersim calibrate", cmd_calibrate},
  {"tco", "clustersim tco", cmd_tco},
};

static const subcommand *find_subcommand(const char *name)
{
  for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
    if (!strcmp(subcommands[i].name, name)) return &subcommands[i];
  return NULL;
}

int cmd_main(int argc, char **argv)
{
  gsl_set_error_handler(gsl_error_to_bug);
  static const struct option opts[] = {
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
  };
  int c;
  opterr = 0;
  /* '+': stop at the first non-option, the subcommand */
  while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
    switch (c) {
    case 'h': usage(stdout); return CMD_EXIT_OK;
    case 'V':
      /* the folders the data come from: installed, source tree or environment */
      printf("clustersim %s\ncatalogs: %s\nplots: %s\n", CLUSTERSIM_VERSION, cfg_catalog_dir(), plot_scripts_dir());
      return CMD_EXIT_OK;
    default: return cmd_usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind >= argc) return cmd_usage_error(NULL, "no command given (run, check, sweep, plan, ...)");
  const char *cmd = argv[optind];
  int sub_argc = argc - optind;
  char **sub_argv = argv + optind;
  optind = 0; /* glibc: 0 re-initialises getopt for the subcommand */
  opterr = 1;
  const subcommand *sc = find_subcommand(cmd);
  if (sc) {
    /* getopt's messages begin with argv[0]: "clustersim run: ..." */
    sub_argv[0] = (char *)sc->prog;
    return sc->fn(sub_argc, sub_argv);
  }
  int rc = cmd_model(sub_argc, sub_argv);
  if (rc >= 0) return rc;
  if (!strcmp(cmd, "help")) {
    if (sub_argc > 1) {
      char *help_argv[] = {sub_argv[1], "--help", NULL};
      optind = 0;
      const subcommand *h = find_subcommand(sub_argv[1]);
      if (h) return help_argv[0] = (char *)h->prog, h->fn(2, help_argv);
      int hrc = cmd_model(2, help_argv);
      if (hrc >= 0) return hrc;
    }
    usage(stdout);
    return CMD_EXIT_OK;
  }
  return cmd_usage_error(NULL, "unknown command '%s'", cmd);
}
