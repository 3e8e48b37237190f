/* driver/commands/cli.h: the clustersim command line: subcommand dispatch and each
 * subcommand's options (getopt_long). Exit status: 0 success, 1 a failure
 * while running (output I/O), 2 bad usage or a bad scenario, 130 when
 * interrupted. */
#ifndef DRIVER_COMMANDS_CLI_H
#define DRIVER_COMMANDS_CLI_H

enum { CMD_EXIT_OK = 0, CMD_EXIT_FAIL = 1, CMD_EXIT_USAGE = 2, CMD_EXIT_INTERRUPTED = 130 };

/* The whole program: main() calls this. */
int cmd_main(int argc, char **argv);

/* Subcommands (sim/cmd_*.c); argv[0] is the subcommand's name. */
int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
/* A command a model family defines (sim/command.h), by argv[0]; -1 if none
 * has that name. */
int cmd_model(int argc, char **argv);

#endif
