/* driver/commands/cmd_keys.c: `clustersim keys`: the scenario reference, generated from
 * the same key tables the loader checks against, so it cannot drift. */
#include <stdio.h>
#include <string.h>

#include "sim/catalog.h"
#include "driver/commands/cli.h"
#include "sim/component.h"
#include "sim/dist.h"

static const char *kind_name(sim_key_kind k)
{
  switch (k) {
  case SIM_KEY_INT: return "integer";
  case SIM_KEY_FLOAT: return "number";
  case SIM_KEY_BOOL: return "boolean";
  case SIM_KEY_STRING: return "string";
  case SIM_KEY_ENUM: return "choice";
  case SIM_KEY_GROUP: return "group";
  case SIM_KEY_DIST_TIME: return "distribution";
  case SIM_KEY_NAMES: return "names";
  case SIM_KEY_LIST: return "list";
  case SIM_KEY_NUMBERS: return "numbers";
  }
  return "?";
}

static void print_keys(const char *prefix, const sim_key *schema)
{
  for (const sim_key *k = schema; k->name; k++) {
    char path[256], deflt[128] = "";
    if (*prefix)
      snprintf(path, sizeof path, "%s.%s", prefix, k->name);
    else
      snprintf(path, sizeof path, "%s", k->name);
    if (k->required)
      snprintf(deflt, sizeof deflt, "required");
    else if (k->kind == SIM_KEY_INT || k->kind == SIM_KEY_FLOAT)
      snprintf(deflt, sizeof deflt, "default %g", k->def);
    else if (k->def_str && *k->def_str)
      snprintf(deflt, sizeof deflt, "default \"%s\"", k->def_str);
    /* seconds keys also take "9h", "1h30m" (driver/config/duration.h) */
    const char *kind = sim_key_is_duration(k) ? (k->kind == SIM_KEY_NUMBERS ? "durations" : "duration")
                                              : kind_name(k->kind);
    printf("  %-32s %-12s %-18s %s\n", path, kind, deflt, k->help ? k->help : "");
    if (k->kind == SIM_KEY_GROUP) print_keys(path, k->group);
    if (k->kind == SIM_KEY_LIST) {
      char item[300];
      snprintf(item, sizeof item, "%s.[i]", path);
      print_keys(item, k->group);
    }
  }
}

int cmd_keys(int argc, char **argv)
{
  if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    puts("Usage: clustersim keys\n\nList every scenario section and key the loader accepts, with\n"
         "types, defaults and meaning, and the distributions a distribution key takes.");
    return CMD_EXIT_OK;
  }
  if (argc > 1) {
    fprintf(stderr, "clustersim keys: unexpected argument '%s'\n", argv[1]);
    return CMD_EXIT_USAGE;
  }
  puts("Top level: name (string, required), description, seed (default 1),\n"
       "warmup_s (default 0), horizon_s (default 0: run until no event is left).\n"
       "A key of type duration takes seconds (90, 1.5e3) or a string with units\n"
       "d, h, m, s, ms, us, ns, largest first: \"9h\", \"90m\", \"1h30m\", \"2d\".\n");
  for (const sim_component_type *const *t = sim_components; *t; t++) {
    if ((*t)->sections) {
      printf("Sections of %s: %s\n", (*t)->name, (*t)->help);
      print_keys("", (*t)->schema);
    } else {
      printf("Section %s: %s\n", (*t)->name, (*t)->help);
      print_keys((*t)->name, (*t)->schema);
    }
    putchar('\n');
  }
  puts("Catalog lists (also allowed in a scenario, replacing shipped entries of the same\n"
       "name; the shipped ones are in models/catalog/):");
  for (const sim_catalog_type *const *t = sim_catalog_types; *t; t++) {
    char path[64];
    printf("List %s = ( { ... }, ... ): one %s per group\n", (*t)->list, (*t)->what);
    snprintf(path, sizeof path, "%s.[i]", (*t)->list);
    print_keys(path, (*t)->schema);
    putchar('\n');
  }
  puts("Distributions (a group: { dist = \"NAME\"; ... }, times in seconds):");
  for (int i = 0; i < SIM_DIST_COUNT; i++) {
    char takes[128] = "";
    unsigned p = sim_dist_types[i].params;
    if (p & SIM_DP_MEAN) strcat(takes, "rate_per_s|mean_s ");
    if (p & SIM_DP_CV) strcat(takes, "cv ");
    if (p & SIM_DP_K) strcat(takes, "k ");
    if (p & SIM_DP_SHAPE) strcat(takes, "shape ");
    if (p & SIM_DP_MINMAX) strcat(takes, "min_s max_s ");
    printf("  %-14s %-24s %s\n", sim_dist_types[i].name, takes, sim_dist_types[i].help);
  }
  return CMD_EXIT_OK;
}
