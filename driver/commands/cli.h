/* driver/commands/cli.h: the clustersim command line: subcommand dispatch and each
 * subcommand's options (getopt_long). Exit status: 0 success, 1 a failure
 * while running (output I/O), 2 bad usage or a bad scenario, 130 when
 * interrupted. */
#ifndef DRIVER_COMMANDS_CLI_H
#define DRIVER_COMMANDS_CLI_H

enum { SIM_EXIT_OK = 0, SIM_EXIT_FAIL = 1, SIM_EXIT_USAGE = 2, SIM_EXIT_INTERRUPTED = 130 };

/* The whole program: main() calls this. */
int sim_cli_main(int argc, char **argv);

/* Subcommands (sim/cmd_*.c); argv[0] is the subcommand's name. */
int sim_cmd_run(int argc, char **argv);
int sim_cmd_check(int argc, char **argv);
int sim_cmd_keys(int argc, char **argv);
int sim_cmd_list(int argc, char **argv);
int sim_cmd_plan(int argc, char **argv);
int sim_cmd_plot(int argc, char **argv);
int sim_cmd_sweep(int argc, char **argv);
/* A command a model family defines (sim/command.h), by argv[0]; -1 if none
 * has that name. */
int sim_cmd_model(int argc, char **argv);

#endif
