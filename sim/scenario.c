/* sim/scenario.c: loading and checking a scenario (see scenario.h). */
#include "sim/scenario.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/catalog_load.h"
#include "sim/override.h"
#include "sim/util.h"

typedef struct {
  const char *name, *description;
  int64_t seed;
  double warmup_s, horizon_s;
} top_params;

static const sim_key top_keys[] = {
  {.name = "name", .kind = SIM_KEY_STRING, .offset = offsetof(top_params, name),
   .required = true, .help = "scenario name, used in outputs"},
  {.name = "description", .kind = SIM_KEY_STRING, .offset = offsetof(top_params, description),
   .def_str = "", .help = "free text"},
  {.name = "seed", .kind = SIM_KEY_INT, .offset = offsetof(top_params, seed), .def = 1,
   .min = 0, .max = (double)SIM_SEED_MAX, .help = "master seed of every random stream"},
  {.name = "warmup_s", .kind = SIM_KEY_FLOAT, .offset = offsetof(top_params, warmup_s),
   .def = 0, .min = 0, .max = SIM_TIME_MAX_S, .unit = "s",
   .help = "statistics ignore what happens before this time"},
  {.name = "horizon_s", .kind = SIM_KEY_FLOAT, .offset = offsetof(top_params, horizon_s),
   .def = 0, .min = 0, .max = SIM_TIME_MAX_S, .unit = "s",
   .help = "stop at this simulated time (0: when no event is left)"},
  SIM_KEY_END,
};

static bool name_ok(const char *s)
{
  if (!*s) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          *s == '-' || *s == '_' || *s == '.'))
      return false;
  return true;
}

/* The setting at dotted path `key` below group g, or NULL. */
static config_setting_t *member_path(config_setting_t *g, const char *key)
{
  char *copy = xstrdup(key), *save = NULL;
  for (char *part = strtok_r(copy, ".", &save); part && g; part = strtok_r(NULL, ".", &save))
    g = config_setting_type(g) == CONFIG_TYPE_GROUP ? config_setting_get_member(g, part) : NULL;
  free(copy);
  return g;
}

static char *dir_of(const char *file)
{
  char *d = xstrdup(file);
  char *slash = strrchr(d, '/');
  if (slash)
    slash[slash == d ? 1 : 0] = '\0';
  else
    strcpy(d, ".");
  return d;
}

bool sim_scenario_load(sim_scenario *sc, const char *file, char *const *sets, size_t nsets,
                       const int64_t *seed_override, sim_errors *errs)
{
  memset(sc, 0, sizeof *sc);
  config_init(&sc->cfg);
  sc->file = xstrdup(file);
  errs->file = sc->file;

  if (!sim_cfg_file_ok(file, "scenario", errs)) return false;
  char *dir = dir_of(file);
  config_set_include_dir(&sc->cfg, dir);
  free(dir);
  if (config_read_file(&sc->cfg, file) != CONFIG_TRUE) {
    const char *ef = config_error_file(&sc->cfg);
    if (config_error_type(&sc->cfg) == CONFIG_ERR_FILE_IO)
      sim_errors_add(errs, "%s: cannot read scenario", ef ? ef : file);
    else
    {
      const char *text = config_error_text(&sc->cfg);
      if (text && !strcmp(text, "syntax error"))
        sim_errors_add(errs, "%s:%d: syntax error", ef ? ef : file, config_error_line(&sc->cfg));
      else
        sim_errors_add(errs, "%s:%d: %s", ef ? ef : file, config_error_line(&sc->cfg),
                       text ? text : "syntax error");
    }
    return false;
  }

  size_t before = errs->len;
  for (size_t i = 0; i < nsets; i++) sim_override_apply(&sc->cfg, sets[i], errs);
  if (errs->len > before) return false;

  const char *names[2 * SIM_SCENARIO_MAX_COMPONENTS + 1];
  size_t ntypes = 0, nnames;
  for (const sim_component_type *const *t = sim_components; *t && ntypes < SIM_SCENARIO_MAX_COMPONENTS; t++)
    names[ntypes++] = (*t)->name;
  nnames = ntypes;
  for (const sim_catalog_type *const *t = sim_catalog_types; *t && nnames < 2 * SIM_SCENARIO_MAX_COMPONENTS; t++)
    names[nnames++] = (*t)->list;
  names[nnames] = NULL;

  config_setting_t *root = config_root_setting(&sc->cfg);
  top_params top;
  memset(&top, 0, sizeof top);
  sim_cfg_read(root, "", top_keys, &top, names, errs);
  sc->name = top.name;
  sc->description = top.description;
  sc->seed = seed_override ? *seed_override : top.seed;
  sc->warmup_s = top.warmup_s;
  sc->horizon_s = top.horizon_s;
  if (top.name && !name_ok(top.name))
    sim_errors_at(errs, config_setting_get_member(root, "name"), "name",
                  "\"%s\" is not a valid name (letters, digits, '-', '_' and '.' only; it names output files)",
                  top.name);
  if (top.horizon_s > 0 && top.warmup_s >= top.horizon_s)
    sim_errors_at(errs, config_setting_get_member(root, "warmup_s"), "warmup_s",
                  "must be less than horizon_s (%g)", top.horizon_s);

  for (size_t t = 0; t < ntypes; t++) {
    const sim_component_type *type = sim_components[t];
    config_setting_t *sec = config_setting_get_member(root, type->name);
    if (!sec) continue;
    if (config_setting_type(sec) != CONFIG_TYPE_GROUP) {
      sim_errors_at(errs, sec, type->name, "expected a group { ... } (%s)", type->help);
      continue;
    }
    sim_scenario_part *part = &sc->parts[sc->nparts++];
    part->type = type;
    part->params = xcalloc(1, type->params_size);
    size_t mark = errs->len;
    sim_cfg_read(sec, type->name, type->schema, part->params, NULL, errs);
    if (errs->len == mark && type->check) {
      sim_check *ck = sim_check_alloc();
      type->check(part->params, ck);
      for (size_t i = 0; i < sim_check_count(ck); i++) {
        char path[512];
        const char *key = sim_check_key(ck, i);
        snprintf(path, sizeof path, "%s.%s", type->name, key);
        config_setting_t *at = member_path(sec, key);
        sim_errors_at(errs, at ? at : sec, path, "%s", sim_check_msg(ck, i));
      }
      sim_check_free(ck);
    }
  }
  /* the scenario's own catalog entries, over the shipped catalogs */
  bool own_catalog = false;
  for (const sim_catalog_type *const *t = sim_catalog_types; *t; t++)
    if (config_setting_get_member(root, (*t)->list)) own_catalog = true;
  if (own_catalog) {
    sc->cats = sim_catalogs_alloc();
    sim_catalogs_load_dir(sc->cats, sim_catalog_dir(), errs);
    for (const sim_catalog_type *const *t = sim_catalog_types; *t; t++) {
      config_setting_t *list = config_setting_get_member(root, (*t)->list);
      if (list) sim_catalogs_load_list(sc->cats, list, *t, errs);
    }
    sim_catalogs_resolve(sc->cats, errs);
  }
  if (sc->nparts == 0 && errs->len == before) {
    char list[512] = "";
    for (size_t t = 0; t < ntypes; t++) {
      if (t) strncat(list, ", ", sizeof list - strlen(list) - 1);
      strncat(list, names[t], sizeof list - strlen(list) - 1);
    }
    sim_errors_at(errs, NULL, "", "nothing to simulate: add a section for one of: %s", list);
  }
  return errs->len == before;
}

void sim_scenario_release(sim_scenario *sc)
{
  for (size_t i = 0; i < sc->nparts; i++) free(sc->parts[i].params);
  sim_catalogs_free(sc->cats);
  config_destroy(&sc->cfg);
  free(sc->file);
  memset(sc, 0, sizeof *sc);
}
