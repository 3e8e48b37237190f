/* sim/command.h: commands a model family adds to the program (such as
 * `clustersim estimate`) without knowing the command line: a table of
 * flags (the key table of schema.h; --name VALUE), the struct they fill,
 * and a function from that struct and the catalogs to a report. The driver
 * (driver/commands/cmd_model.c) parses the flags, prints --help from the table, loads
 * the catalogs, and renders the report as a table or JSON (--json). */
#ifndef SIM_COMMAND_H
#define SIM_COMMAND_H

#include "sim/catalog.h"
#include "sim/component.h"
#include "sim/report.h"
#include "sim/schema.h"

typedef struct sim_command_type {
  const char *name;         /* "estimate" */
  const char *summary;      /* one line for clustersim --help */
  const char *help;         /* paragraphs for --help, before the flags */
  const sim_key *flags;     /* --name VALUE; BOOL keys are plain --name */
  size_t params_size;
  /* Compute the report. Problems the user can fix (unknown GPU, does not
   * fit) go to ck keyed by flag name; then the report is not printed. */
  void (*run)(const void *params, const sim_catalogs *cats, sim_report *rep, sim_check *ck);
} sim_command_type;

/* Every model command, NULL-terminated (models/registry.c). */
extern const sim_command_type *const sim_commands[];

#endif
