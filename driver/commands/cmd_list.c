/* driver/commands/cmd_list.c: `clustersim list gpus|links|models|stacks|providers`: the
 * catalogs as loaded (shipped files plus --catalog files), one line per entry. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/config/catalog_load.h"
#include "driver/commands/cli.h"
#include "sim/util.h"

static void list_usage(FILE *f)
{
  fputs("Usage: clustersim list gpus|links|models|stacks|providers [--catalog FILE]...\n\n"
        "Print a catalog as loaded: the shipped files (the folder `clustersim --version`\n"
        "names, or $CLUSTERSIM_CATALOG_DIR) and any --catalog FILE, in order; an entry\n"
        "naming an existing one (or one of its aliases) changes only the keys it\n"
        "writes, another name adds an entry. Every entry's sources are in its file.\n"
        "\n"
        "Options:\n"
        "      --catalog FILE   an extra catalog file (repeatable)\n"
        "  -h, --help           this help\n",
        f);
}

int cmd_list(int argc, char **argv)
{
  static const struct option opts[] = {
    {"catalog", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  char **extra = xcalloc((size_t)argc + 1, sizeof *extra);
  size_t nextra = 0;
  int ch, status = -1;
  while (status < 0 && (ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (ch == 'c') extra[nextra++] = optarg;
    else if (ch == 'h') list_usage(stdout), status = CMD_EXIT_OK;
    else status = cmd_usage_error("list", NULL);  /* getopt said why */
  }
  const sim_catalog_type *type = NULL;
  if (status < 0) {
    if (optind != argc - 1) {
      status = cmd_usage_error("list", "name one catalog: gpus, links, models or stacks (hardware, models, serving software), "
                               "or providers (cloud offers)");
    } else {
      for (const sim_catalog_type *const *t = sim_catalog_types; *t; t++)
        if (!strcmp((*t)->list, argv[optind])) type = *t;
      if (!type) {
        status = cmd_usage_error("list", "unknown catalog '%s' (gpus, links, models, stacks or providers)",
                                 argv[optind]);
      }
    }
  }
  if (status < 0) {
    cfg_errors errs;
    cfg_errors_init(&errs, NULL);
    sim_catalogs *cats = cfg_catalogs_load_all(extra, nextra, &errs);
    cfg_errors_print(&errs, stderr);
    cfg_errors_release(&errs);
    if (!cats) {
      status = CMD_EXIT_USAGE;
    } else {
      char line[512];
      printf("%s\n", type->list_header);
      for (size_t i = 0; i < sim_catalog_count(cats, type->list); i++) {
        type->list_line(sim_catalog_entry(cats, type->list, i), line, sizeof line);
        printf("%s\n", line);
      }
      cfg_catalogs_free(cats);
      status = CMD_EXIT_OK;
    }
  }
  free(extra);
  return status;
}
