/* driver/commands/cli.h: the clustersim command line: subcommand dispatch and each
 * subcommand's options (getopt_long). Exit status: 0 success, 1 a failure
 * while running (output I/O), 2 bad usage or a bad scenario, 130 when
 * interrupted. */
#ifndef DRIVER_COMMANDS_CLI_H
#define DRIVER_COMMANDS_CLI_H

#include <stdarg.h>
#include <stdio.h>

enum { CMD_EXIT_OK = 0, CMD_EXIT_FAIL = 1, CMD_EXIT_USAGE = 2, CMD_EXIT_INTERRUPTED = 130 };

/* A usage error of `clustersim CMD` (cmd "run"; NULL for the program
 * itself), reported as GNU tools do: one line "clustersim CMD: MESSAGE",
 * then "Try 'clustersim CMD --help' for more information.", on standard
 * error. fmt NULL: the message is out already (getopt's), only the second
 * line. Returns CMD_EXIT_USAGE. (Inline: every driver library reports usage
 * errors, and the plot library does not link this one.) */
static inline int cmd_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int cmd_usage_error(const char *cmd, const char *fmt, ...)
{
  const char *sep = cmd ? " " : "";
  if (!cmd) cmd = "";
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "clustersim%s%s: ", sep, cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
  }
  fprintf(stderr, "Try 'clustersim%s%s --help' for more information.\n", sep, cmd);
  return CMD_EXIT_USAGE;
}

/* The whole program: main() calls this. */
int cmd_main(int argc, char **argv);

/* Subcommands (the cmd_*.c files of driver/); argv[0] is "clustersim NAME", the name
 * getopt's messages begin with. */
int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_tco(int argc, char **argv);
/* A command a model family defines (sim/command.h), by argv[0] (its bare
 * name); -1 if none has that name. */
int cmd_model(int argc, char **argv);

#endif
