/* driver/commands/cmd_model.c: the driver for commands that model families define
 * (sim/command.h), such as `clustersim estimate`: flags parsed against the
 * command's key table with getopt_long, the catalogs loaded, the command
 * run, its report printed as a table or as JSON. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/config/catalog_load.h"
#include "driver/commands/cli.h"
#include "sim/command.h"
#include "driver/output/json.h"
#include "sim/util.h"

enum { OPT_JSON = 1000, OPT_CATALOG, OPT_HELP, OPT_FIRST_KEY = 2000 };

static void print_flag_help(FILE *f, const sim_key *k)
{
  char arg[64] = "", def[128] = "";
  switch (k->kind) {
  case SIM_KEY_INT: snprintf(arg, sizeof arg, " N"); snprintf(def, sizeof def, "%g", k->def); break;
  case SIM_KEY_FLOAT: snprintf(arg, sizeof arg, " X"); snprintf(def, sizeof def, "%g", k->def); break;
  case SIM_KEY_STRING:
    snprintf(arg, sizeof arg, " NAME");
    snprintf(def, sizeof def, "%s", k->def_str && *k->def_str ? k->def_str : "none");
    break;
  case SIM_KEY_ENUM: {
    size_t used = 0;
    arg[0] = ' ';
    used = 1;
    for (int i = 0; k->choices[i] && used < sizeof arg - 2; i++)
      used += (size_t)snprintf(arg + used, sizeof arg - used, "%s%s", i ? "|" : "", k->choices[i]);
    snprintf(def, sizeof def, "%s", k->def_str ? k->def_str : k->choices[0]);
    break;
  }
  case SIM_KEY_BOOL: snprintf(def, sizeof def, "off"); break;
  default: break;
  }
  char left[128];
  snprintf(left, sizeof left, "--%s%s", k->name, arg);
  if (k->help && strstr(k->help, "default"))
    fprintf(f, "  %-30s %s\n", left, k->help); /* the help says what the default means */
  else
    fprintf(f, "  %-30s %s (default %s)\n", left, k->help ? k->help : "", def);
}

static void command_usage(FILE *f, const sim_command_type *c)
{
  fprintf(f, "Usage: clustersim %s [--FLAG VALUE]... [--json] [--catalog FILE]...\n\n%s\nFlags:\n", c->name,
          c->help);
  for (const sim_key *k = c->flags; k->name; k++) print_flag_help(f, k);
  fputs("  --json                         print one JSON object instead of a table\n"
        "  --catalog FILE                 read an extra catalog file (repeatable); an entry\n"
        "                                 naming a shipped one changes only what it writes\n"
        "  -h, --help                     this help\n",
        f);
}

/* Parse one flag value into the params struct; false with a message. */
static bool set_flag(const sim_command_type *c, const sim_key *k, const char *val, void *params)
{
  char *field = (char *)params + k->offset, *end, why[128];
  sim_key_mark_written(k, params, true);  /* given, not defaulted (a failed value stops the command) */
  switch (k->kind) {
  case SIM_KEY_INT:
  case SIM_KEY_FLOAT: {
    errno = 0;
    double v = strtod(val, &end);
    if (errno || end == val || *end) {
      fprintf(stderr, "clustersim %s: --%s: expected %s, got '%s'\n", c->name, k->name,
              k->kind == SIM_KEY_INT ? "an integer" : "a number", val);
      return false;
    }
    if (k->kind == SIM_KEY_INT && (v != floor(v) || fabs(v) > 9e15)) {
      fprintf(stderr, "clustersim %s: --%s: expected an integer, got '%s'\n", c->name, k->name, val);
      return false;
    }
    if (!sim_key_number_ok(k, v, why, sizeof why)) {
      fprintf(stderr, "clustersim %s: --%s: out of range: %s (expected %s)\n", c->name, k->name, val, why);
      return false;
    }
    if (k->kind == SIM_KEY_INT)
      *(int64_t *)field = (int64_t)v;
    else
      *(double *)field = v;
    return true;
  }
  case SIM_KEY_STRING: *(const char **)field = val; return true;
  case SIM_KEY_ENUM:
    for (int i = 0; k->choices[i]; i++)
      if (!strcmp(k->choices[i], val)) {
        *(int *)field = i;
        return true;
      }
    fprintf(stderr, "clustersim %s: --%s: unknown value '%s' (expected one of:", c->name, k->name, val);
    for (int i = 0; k->choices[i]; i++) fprintf(stderr, "%s %s", i ? "," : "", k->choices[i]);
    fputs(")\n", stderr);
    return false;
  case SIM_KEY_BOOL: *(bool *)field = true; return true;
  default: SIM_BUG("flag --%s has a kind flags cannot have", k->name);
  }
}


static int run_command(const sim_command_type *c, int argc, char **argv)
{
  size_t nkeys = 0;
  for (const sim_key *k = c->flags; k->name; k++) nkeys++;
  struct option *opts = xcalloc(nkeys + 4, sizeof *opts);
  for (size_t i = 0; i < nkeys; i++)
    opts[i] = (struct option){c->flags[i].name,
                              c->flags[i].kind == SIM_KEY_BOOL ? no_argument : required_argument, NULL,
                              OPT_FIRST_KEY + (int)i};
  opts[nkeys] = (struct option){"json", no_argument, NULL, OPT_JSON};
  opts[nkeys + 1] = (struct option){"catalog", required_argument, NULL, OPT_CATALOG};
  opts[nkeys + 2] = (struct option){"help", no_argument, NULL, 'h'};

  void *params = xcalloc(1, c->params_size);
  for (const sim_key *k = c->flags; k->name; k++) {
    sim_key_set_default(k, params);
    sim_key_mark_written(k, params, false);
  }
  char **extra = xcalloc((size_t)argc + 1, sizeof *extra);
  size_t nextra = 0;
  bool json = false;
  int status = -1, ch;
  while (status < 0 && (ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (ch == 'h') {
      command_usage(stdout, c);
      status = CMD_EXIT_OK;
    } else if (ch == OPT_JSON) {
      json = true;
    } else if (ch == OPT_CATALOG) {
      extra[nextra++] = optarg;
    } else if (ch >= OPT_FIRST_KEY && ch < OPT_FIRST_KEY + (int)nkeys) {
      if (!set_flag(c, &c->flags[ch - OPT_FIRST_KEY], optarg, params)) status = cmd_usage_error(c->name, NULL);
    } else {
      status = cmd_usage_error(c->name, NULL);  /* getopt said why */
    }
  }
  if (status < 0 && optind < argc) {
    status = cmd_usage_error(c->name, "unexpected argument '%s'", argv[optind]);
  }
  sim_catalogs *cats = NULL;
  if (status < 0) {
    cfg_errors errs;
    cfg_errors_init(&errs, NULL);
    cats = cfg_catalogs_load_all(extra, nextra, &errs);
    cfg_errors_print(&errs, stderr);
    if (!cats) status = CMD_EXIT_USAGE;
    cfg_errors_release(&errs);
  }
  if (status < 0) {
    sim_report rep;
    sim_report_init(&rep);
    sim_check *ck = sim_check_alloc();
    c->run(params, cats, &rep, ck);
    if (sim_check_count(ck) > 0) {
      for (size_t i = 0; i < sim_check_count(ck); i++)
        fprintf(stderr, "clustersim %s: --%s: %s\n", c->name, sim_check_key(ck, i), sim_check_msg(ck, i));
      status = CMD_EXIT_USAGE;
    } else {
      if (json)
        out_json_report(stdout, &rep);
      else
        out_text_report(stdout, &rep, 56);
      status = fflush(stdout) == 0 ? CMD_EXIT_OK : CMD_EXIT_FAIL;
    }
    sim_check_free(ck);
    sim_report_release(&rep);
  }
  cfg_catalogs_free(cats);
  free(extra);
  free(params);
  free(opts);
  return status;
}

int cmd_model(int argc, char **argv)
{
  static char prog[64];
  for (const sim_command_type *const *c = sim_commands; *c; c++)
    if (!strcmp((*c)->name, argv[0])) {
      /* getopt names the program in its messages */
      snprintf(prog, sizeof prog, "clustersim %s", (*c)->name);
      argv[0] = prog;
      return run_command(*c, argc, argv);
    }
  return -1;
}
