/* driver/commands/cmd_keys.c: `clustersim keys [NAME]`: the scenario reference, generated
 * from the same key tables the loader checks against, so it cannot drift;
 * NAME narrows it to one component (queue, serving, jobs, training), one
 * top-level section (cluster, scheduler, workload, ...), one catalog list
 * (gpus, links, models) or the distributions. Keys that take a duration
 * with units ("1h30m") are marked (sim_key_is_duration). */
#include <libconfig.h>
#include <stdio.h>
#include <string.h>

#include "driver/commands/cli.h"
#include "driver/config/cfg.h"
#include "driver/config/duration.h"
#include "sim/catalog.h"
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

static int nduration;  /* keys marked in this listing */

/* The keys of `schema` under `prefix`; keys named in `source_keys` (a
 * catalog's) are required of the shipped catalog only. */
static void print_keys(const char *prefix, const sim_key *schema, const char *const *source_keys)
{
  for (const sim_key *k = schema; k->name; k++) {
    char path[256], deflt[128] = "", kind[32];
    if (*prefix)
      snprintf(path, sizeof path, "%s.%s", prefix, k->name);
    else
      snprintf(path, sizeof path, "%s", k->name);
    bool source = false;
    for (const char *const *s = source_keys; s && *s; s++) source = source || !strcmp(*s, k->name);
    if (k->required && source)
      snprintf(deflt, sizeof deflt, "req. if shipped");
    else if (k->required)
      snprintf(deflt, sizeof deflt, "required");
    else if (k->kind == SIM_KEY_INT || k->kind == SIM_KEY_FLOAT)
      snprintf(deflt, sizeof deflt, "default %g", k->def);
    else if (k->def_str && *k->def_str)
      snprintf(deflt, sizeof deflt, "default \"%s\"", k->def_str);
    /* seconds keys also take "9h", "1h30m" (driver/config/duration.h) */
    bool duration = sim_key_is_duration(k);
    nduration += duration;
    snprintf(kind, sizeof kind, "%s", duration ? (k->kind == SIM_KEY_NUMBERS ? "durations" : "duration") : kind_name(k->kind));
    printf("  %-32s %-12s %-18s %s\n", path, kind, deflt, k->help ? k->help : "");
    if (k->kind == SIM_KEY_GROUP) print_keys(path, k->group, NULL);
    if (k->kind == SIM_KEY_LIST) {
      char item[300];
      snprintf(item, sizeof item, "%s.[i]", path);
      print_keys(item, k->group, NULL);
    }
  }
}

static void print_component(const sim_component_type *t)
{
  if (t->sections) {
    printf("Sections of %s: %s\n", t->name, t->help);
    print_keys("", t->schema, NULL);
  } else {
    printf("Section %s: %s\n", t->name, t->help);
    print_keys(t->name, t->schema, NULL);
  }
  putchar('\n');
}

static void print_catalog(const sim_catalog_type *t)
{
  char path[64];
  printf("List %s = ( { ... }, ... ): one %s per group\n", t->list, t->what);
  snprintf(path, sizeof path, "%s.[i]", t->list);
  print_keys(path, t->schema, t->source_keys);
  putchar('\n');
}

static void print_distributions(void)
{
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
}

/* Every NAME `keys` takes, grouped, into buf. */
static void names(char *buf, size_t n)
{
  buf[0] = '\0';
  strncat(buf, "components:", n - strlen(buf) - 1);
  for (const sim_component_type *const *t = sim_components; *t; t++) {
    strncat(buf, " ", n - strlen(buf) - 1);
    strncat(buf, (*t)->name, n - strlen(buf) - 1);
  }
  strncat(buf, "; sections:", n - strlen(buf) - 1);
  for (const sim_component_type *const *t = sim_components; *t; t++)
    for (const sim_key *k = (*t)->sections ? (*t)->schema : NULL; k && k->name; k++) {
      strncat(buf, " ", n - strlen(buf) - 1);
      strncat(buf, k->name, n - strlen(buf) - 1);
    }
  strncat(buf, "; catalog lists:", n - strlen(buf) - 1);
  for (const sim_catalog_type *const *t = sim_catalog_types; *t; t++) {
    strncat(buf, " ", n - strlen(buf) - 1);
    strncat(buf, (*t)->list, n - strlen(buf) - 1);
  }
  strncat(buf, "; distributions", n - strlen(buf) - 1);
}

static void keys_usage(FILE *f)
{
  char buf[1024];
  names(buf, sizeof buf);
  fprintf(f,
          "Usage: clustersim keys [NAME]\n\n"
          "List every scenario section and key the loader accepts, with types,\n"
          "defaults and meaning, and the distributions a distribution key takes.\n"
          "NAME shows one part only: %s.\n",
          buf);
}

/* The part named `name`; false if there is none. */
static bool print_named(const char *name)
{
  bool found = false;
  for (const sim_component_type *const *t = sim_components; *t; t++) {
    if (!strcmp((*t)->name, name)) {
      print_component(*t);
      found = true;
      continue;
    }
    for (const sim_key *k = (*t)->sections ? (*t)->schema : NULL; k && k->name; k++)
      if (!strcmp(k->name, name)) {
        printf("Section %s (of %s): %s\n", k->name, (*t)->name, k->help ? k->help : "");
        print_keys("", (const sim_key[]){*k, SIM_KEY_END}, NULL);
        putchar('\n');
        found = true;
      }
  }
  for (const sim_catalog_type *const *t = sim_catalog_types; *t; t++)
    if (!strcmp((*t)->list, name)) {
      print_catalog(*t);
      found = true;
    }
  if (!strcmp(name, "distributions")) {
    print_distributions();
    found = true;
  }
  return found;
}

static void print_duration_note(void)
{
  if (nduration)
    printf("\nKeys of type duration take seconds as a number, or a string with units %s\n"
           "(\"90\", \"1h30m\", \"250ms\").\n",
           cfg_duration_units);
}

int cmd_keys(int argc, char **argv)
{
  if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    keys_usage(stdout);
    return CMD_EXIT_OK;
  }
  if (argc > 2) {
    return cmd_usage_error("keys", "unexpected argument '%s'", argv[2]);
  }
  nduration = 0;
  if (argc == 2) {
    if (argv[1][0] == '-') {
      return cmd_usage_error("keys", "unknown option '%s'", argv[1]);
    }
    if (!print_named(argv[1])) {
      char buf[1024];
      names(buf, sizeof buf);
      return cmd_usage_error("keys", "unknown name '%s' (expected one of %s)", argv[1], buf);
    }
    print_duration_note();
    return CMD_EXIT_OK;
  }
  puts("Top level: name (string, required), description, seed (default 1),\n"
       "warmup_s (default 0), horizon_s (default 0: run until no event is left).\n");
  for (const sim_component_type *const *t = sim_components; *t; t++) print_component(*t);
  puts("Catalog lists (also allowed in a scenario and in --catalog files; an entry\n"
       "naming an existing one changes only the keys it writes; the shipped ones\n"
       "are in the folder `clustersim --version` names):");
  for (const sim_catalog_type *const *t = sim_catalog_types; *t; t++) print_catalog(*t);
  print_distributions();
  print_duration_note();
  return CMD_EXIT_OK;
}
