/* driver/config/scenario.c: loading and checking a scenario (see scenario.h). */
#include "driver/config/scenario.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "driver/config/catalog_load.h"
#include "driver/config/override.h"
#include "driver/config/source.h"
#include "driver/config/trace.h"
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
  for (char *part = strtok_r(copy, ".", &save); part && g; part = strtok_r(NULL, ".", &save)) {
    int t = config_setting_type(g);
    if (part[0] == '[' && (t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_ARRAY))
      g = config_setting_get_elem(g, (unsigned)atoi(part + 1));
    else
      g = t == CONFIG_TYPE_GROUP ? config_setting_get_member(g, part) : NULL;
  }
  free(copy);
  return g;
}

/* The setting a check key names (relative to sec), or the nearest enclosing
 * one that was written, or sec. */
static config_setting_t *setting_for_key(config_setting_t *sec, const char *key)
{
  char *k = xstrdup(key);
  config_setting_t *at = member_path(sec, k);
  for (char *dot; !at && (dot = strrchr(k, '.'));) {
    *dot = '\0';
    at = member_path(sec, k);
  }
  free(k);
  return at ? at : sec;
}

/* What a component's check or prepare found, at the settings it names
 * (key paths relative to sec, written as prefix.key): errors, then
 * warnings. */
static void report_check(cfg_errors *errs, config_setting_t *sec, const char *prefix, const sim_check *ck)
{
  char path[512];
  for (size_t i = 0; i < sim_check_count(ck); i++) {
    const char *key = sim_check_key(ck, i);
    snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key);
    cfg_errors_at(errs, setting_for_key(sec, key), path, "%s", sim_check_msg(ck, i));
    if (sim_check_capacity(ck, i)) cfg_errors_mark_capacity(errs);
  }
  for (size_t i = 0; i < sim_check_warn_count(ck); i++) {
    const char *key = sim_check_warn_key(ck, i);
    snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key);
    cfg_errors_warn_at(errs, setting_for_key(sec, key), path, "%s", sim_check_warn_msg(ck, i));
  }
}

typedef struct {
  cfg_scenario *sc;
  cfg_errors *errs;
  config_setting_t *sec;
  const char *prefix;
} setup_ctx;

static bool read_trace(const sim_setup *su, const char *key, const char *path, const char *time_col,
                       const sim_trace_column *cols, int ncols, sim_trace *out)
{
  setup_ctx *ctx = su->priv;
  char full[4096], where[512];
  if (path[0] == '/') {
    snprintf(full, sizeof full, "%s", path);
  } else {
    char *dir = cfg_dir_of(ctx->sc->file);
    snprintf(full, sizeof full, "%s/%s", dir, path);
    free(dir);
  }
  if (*ctx->prefix)
    snprintf(where, sizeof where, "%s.%s", ctx->prefix, key);
  else
    snprintf(where, sizeof where, "%s", key);
  config_setting_t *at = member_path(ctx->sec, key);
  size_t mark = ctx->errs->len;
  cfg_reader rd = {ctx->sc->max_input_bytes, &ctx->sc->inputs, &ctx->sc->ninputs};
  cfg_text t;
  const char *verb;
  char why[256];
  if (!cfg_read_input(&rd, full, "trace", &t, &verb, why, sizeof why)) {
    memset(out, 0, sizeof *out);
    cfg_errors_at(ctx->errs, at ? at : ctx->sec, where, "cannot read trace %s: %s", full, why);
    return false;
  }
  bool parsed = cfg_trace_parse(out, full, t.data, t.len, time_col, cols, ncols, ctx->errs);
  free(t.data);
  if (parsed) {
    if (out->rows > 0) return true;
    sim_trace_release(out);
    cfg_errors_at(ctx->errs, at ? at : ctx->sec, where, "trace %s has no rows", full);
    return false;
  }
  if (ctx->errs->len == mark)
    cfg_errors_at(ctx->errs, at ? at : ctx->sec, where, "cannot read trace %s", full);
  else
    cfg_errors_at(ctx->errs, at ? at : ctx->sec, where, "trace %s is not usable (errors above)", full);
  return false;
}

/* Everything after the text is parsed into sc->cfg. */
static bool check_scenario(cfg_scenario *sc, const cfg_load_opts *opts, cfg_errors *errs);

static void start(cfg_scenario *sc, const char *file, const cfg_load_opts *opts, cfg_errors *errs)
{
  memset(sc, 0, sizeof *sc);
  config_init(&sc->cfg);
  sc->file = xstrdup(file);
  sc->max_input_bytes = opts->max_input_bytes;
  errs->file = sc->file;
}

bool cfg_scenario_load(cfg_scenario *sc, const char *file, const cfg_load_opts *opts, cfg_errors *errs)
{
  start(sc, file, opts, errs);
  cfg_reader rd = {sc->max_input_bytes, &sc->inputs, &sc->ninputs};
  if (!cfg_config_load(&sc->cfg, sc->file, "scenario", &rd, errs)) return false;
  return check_scenario(sc, opts, errs);
}

bool cfg_scenario_load_text(cfg_scenario *sc, const char *file, const char *text, size_t len,
                            const cfg_load_opts *opts, cfg_errors *errs)
{
  start(sc, file, opts, errs);
  cfg_reader rd = {sc->max_input_bytes, &sc->inputs, &sc->ninputs};
  if ((int64_t)len > cfg_reader_limit(&rd, "scenario")) {
    cfg_errors_add(errs, "%s: cannot read scenario: %zu bytes, more than the limit of %lld (--max-input-bytes)",
                   file, len, (long long)cfg_reader_limit(&rd, "scenario"));
    return false;
  }
  if (!cfg_config_parse(&sc->cfg, sc->file, text, len, &rd, errs)) return false;
  return check_scenario(sc, opts, errs);
}

static bool check_scenario(cfg_scenario *sc, const cfg_load_opts *opts, cfg_errors *errs)
{
  char *const *sets = opts->sets;
  size_t nsets = opts->nsets;
  const int64_t *seed_override = opts->seed;
  size_t before = errs->len;
  for (size_t i = 0; i < nsets; i++) cfg_override_apply(&sc->cfg, sets[i], errs);
  if (errs->len > before) return false;
  if (opts->edit && !opts->edit(&sc->cfg, opts->edit_arg, errs)) return false;

  /* every top-level name a component or catalog owns */
  enum { MAX_NAMES = 4 * SIM_SCENARIO_MAX_COMPONENTS };
  const char *names[MAX_NAMES + 1];
  size_t ntypes = 0, nnames = 0;
  for (const sim_component_type *const *t = sim_components; *t && ntypes < SIM_SCENARIO_MAX_COMPONENTS; t++) {
    ntypes++;
    if (!(*t)->sections) {
      if (nnames < MAX_NAMES) names[nnames++] = (*t)->name;
      continue;
    }
    for (const sim_key *k = (*t)->schema; k->name && nnames < MAX_NAMES; k++) names[nnames++] = k->name;
  }
  size_t nsection_names = nnames;
  for (const sim_catalog_type *const *t = sim_catalog_types; *t && nnames < MAX_NAMES; t++)
    names[nnames++] = (*t)->list;
  /* read by `clustersim sweep` (driver/sweep/sweep_spec.c), ignored by a run */
  names[nnames++] = "sweep";
  names[nnames] = NULL;

  config_setting_t *root = config_root_setting(&sc->cfg);
  top_params top;
  memset(&top, 0, sizeof top);
  cfg_read(root, "", top_keys, &top, names, errs);
  sc->name = top.name;
  sc->description = top.description;
  sc->seed = seed_override ? *seed_override : top.seed;
  sc->warmup_s = top.warmup_s;
  sc->horizon_s = top.horizon_s;
  if (top.name && !name_ok(top.name)) {
    char q[256];
    cfg_errors_at(errs, config_setting_get_member(root, "name"), "name",
                  "\"%s\" is not a valid name (letters, digits, '-', '_' and '.' only; it names output files)",
                  cfg_quote(top.name, 40, q, sizeof q));
  }
  if (top.horizon_s > 0 && top.warmup_s >= top.horizon_s) {
    /* name the --set that made them cross, whichever it was */
    const config_setting_t *w = config_setting_get_member(root, "warmup_s"),
                           *h = config_setting_get_member(root, "horizon_s");
    const char *horigin = h && !cfg_origin(w) ? cfg_origin(h) : NULL;
    char from[600] = "";
    if (horigin) snprintf(from, sizeof from, ", from --set %s", horigin);
    cfg_errors_at(errs, w, "warmup_s", "must be less than horizon_s (%g%s)", top.horizon_s, from);
  }

  /* every member of the root, allowed through when a sections component
   * reads the root (the top-level read above reports unknown names) */
  int nroot = config_setting_length(root);
  const char **root_names = xcalloc((size_t)nroot + 1, sizeof *root_names);
  for (int i = 0; i < nroot; i++) root_names[i] = config_setting_name(config_setting_get_elem(root, (unsigned)i));

  bool need_catalogs = false;
  bool good[SIM_SCENARIO_MAX_COMPONENTS];
  for (size_t t = 0; t < ntypes; t++) {
    const sim_component_type *type = sim_components[t];
    config_setting_t *sec;
    if (type->sections) {
      sec = NULL;
      for (const sim_key *k = type->schema; k->name && !sec; k++) sec = config_setting_get_member(root, k->name);
      if (!sec) continue;
      sec = root;
    } else {
      sec = config_setting_get_member(root, type->name);
      if (!sec) continue;
      if (config_setting_type(sec) != CONFIG_TYPE_GROUP) {
        cfg_errors_at(errs, sec, type->name, "expected a group { ... } (%s)", type->help);
        continue;
      }
    }
    const char *prefix = type->sections ? "" : type->name;
    good[sc->nparts] = false;
    cfg_scenario_part *part = &sc->parts[sc->nparts++];
    part->type = type;
    part->params = xcalloc(1, type->params_size);
    size_t mark = errs->len;
    cfg_read(sec, prefix, type->schema, part->params, type->sections ? root_names : NULL, errs);
    if (errs->len == mark && type->check) {
      sim_check *ck = sim_check_alloc();
      type->check(part->params, ck);
      report_check(errs, sec, prefix, ck);
      sim_check_free(ck);
    }
    good[sc->nparts - 1] = errs->len == mark;
    if (type->prepare) need_catalogs = true;
  }
  free(root_names);
  /* one model per scenario: components report metrics under the same
   * names (gpu_hours, cost_usd) and would overwrite each other's files */
  if (sc->nparts > 1) {
    char list[256] = "";
    for (size_t i = 0; i < sc->nparts; i++) {
      if (i) strncat(list, " and ", sizeof list - strlen(list) - 1);
      strncat(list, sc->parts[i].type->name, sizeof list - strlen(list) - 1);
    }
    /* a section added by --set is named */
    config_setting_t *at = NULL;
    for (size_t i = 0; i < sc->nparts; i++) {
      config_setting_t *sec = sc->parts[i].type->sections ? NULL : config_setting_get_member(root, sc->parts[i].type->name);
      if (sec && cfg_origin(sec)) at = sec;
    }
    cfg_errors_at(errs, at, "", "one scenario simulates one thing, and this one has sections of %s: "
                  "put them in separate scenarios (a shared cluster's serving pool is jobs.serving)", list);
  }
  /* the scenario's own catalog entries, over the shipped catalogs */
  bool own_catalog = false;
  for (const sim_catalog_type *const *t = sim_catalog_types; *t; t++)
    if (config_setting_get_member(root, (*t)->list)) own_catalog = true;
  if (own_catalog || need_catalogs || opts->ncatalogs) {
    size_t mark = errs->len;
    sc->cats = cfg_catalogs_alloc();
    cfg_reader rd = {sc->max_input_bytes, &sc->inputs, &sc->ninputs};
    cfg_catalogs_read_dir(sc->cats, cfg_catalog_dir(), &rd, errs);
    for (size_t i = 0; i < opts->ncatalogs; i++) cfg_catalogs_read_file(sc->cats, opts->catalogs[i], &rd, errs);
    for (const sim_catalog_type *const *t = sim_catalog_types; *t; t++) {
      config_setting_t *list = config_setting_get_member(root, (*t)->list);
      if (list) cfg_catalogs_load_list(sc->cats, list, *t, errs);
    }
    cfg_catalogs_resolve(sc->cats, errs);
    /* components are not prepared against broken catalogs */
    if (errs->len > mark) need_catalogs = false;
  }
  for (size_t i = 0; i < sc->nparts && need_catalogs; i++) {
    const sim_component_type *type = sc->parts[i].type;
    if (!good[i] || !type->prepare) continue;
    config_setting_t *sec = type->sections ? root : config_setting_get_member(root, type->name);
    const char *prefix = type->sections ? "" : type->name;
    setup_ctx ctx = {sc, errs, sec, prefix};
    sim_setup su = {.cats = sc->cats, .horizon_s = sc->horizon_s, .read_trace = read_trace, .priv = &ctx};
    sim_check *ck = sim_check_alloc();
    type->prepare(sc->parts[i].params, &su, ck);
    report_check(errs, sec, prefix, ck);
    sim_check_free(ck);
  }
  if (sc->nparts == 0 && errs->len == before) {
    char list[512] = "";
    for (size_t t = 0; t < nsection_names; t++) {
      if (t) strncat(list, ", ", sizeof list - strlen(list) - 1);
      strncat(list, names[t], sizeof list - strlen(list) - 1);
    }
    cfg_errors_at(errs, NULL, "", "nothing to simulate: add a section for one of: %s", list);
  }
  return errs->len == before;
}

void cfg_scenario_release(cfg_scenario *sc)
{
  for (size_t i = 0; i < sc->nparts; i++) {
    if (sc->parts[i].type->release_params) sc->parts[i].type->release_params(sc->parts[i].params);
    free(sc->parts[i].params);
  }
  cfg_catalogs_free(sc->cats);
  config_destroy(&sc->cfg);
  for (size_t i = 0; i < sc->ninputs; i++) free(sc->inputs[i].path);
  free(sc->inputs);
  free(sc->file);
  memset(sc, 0, sizeof *sc);
}
