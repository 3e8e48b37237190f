/* driver/config/scenario.c: loading and checking a scenario (see scenario.h). */
#include "driver/config/scenario.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/config/catalog_load.h"
#include "driver/config/override.h"
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

/* ---- the files a load read (cfg_scenario.inputs) ----
 * A minimal record for sweep fingerprints (sweep-plan), until the loader
 * records the bytes it parses itself (config-inputs): each file is read
 * again here and hashed (SHA-256, nettle). Files that are not regular are
 * skipped (the loader reports them). */
static void add_input(cfg_scenario *sc, const char *path, const char *role)
{
  for (size_t i = 0; i < sc->ninputs; i++)
    if (!strcmp(sc->inputs[i].path, path) && !strcmp(sc->inputs[i].role, role)) return;
  int fd = open(path, O_RDONLY | O_NONBLOCK);
  struct stat st;
  if (fd < 0) return;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return;
  }
  struct sha256_ctx h;
  sha256_init(&h);
  int64_t bytes = 0;
  unsigned char buf[65536];
  for (;;) {
    ssize_t got = read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    sha256_update(&h, (size_t)got, buf);
    bytes += got;
  }
  close(fd);
  sc->inputs = xrealloc(sc->inputs, (sc->ninputs + 1) * sizeof *sc->inputs);
  cfg_input *in = &sc->inputs[sc->ninputs++];
  in->path = xstrdup(path);
  in->role = role;
  in->bytes = bytes;
  sha256_digest(&h, sizeof in->sha256, in->sha256);
}

/* Every file other than the scenario that settings below s came from
 * (@include), in the order met. */
static void add_includes(cfg_scenario *sc, const config_setting_t *s)
{
  const char *f = config_setting_source_file(s);
  if (f && strcmp(f, sc->file)) add_input(sc, f, "include");
  int t = config_setting_type(s);
  if (t == CONFIG_TYPE_GROUP || t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_ARRAY)
    for (int i = 0; i < config_setting_length(s); i++) add_includes(sc, config_setting_get_elem(s, (unsigned)i));
}

/* What a component's check or prepare found, at the settings it names
 * (key paths relative to sec, written as prefix.key). */
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
    char *dir = dir_of(ctx->sc->file);
    snprintf(full, sizeof full, "%s/%s", dir, path);
    free(dir);
  }
  if (*ctx->prefix)
    snprintf(where, sizeof where, "%s.%s", ctx->prefix, key);
  else
    snprintf(where, sizeof where, "%s", key);
  config_setting_t *at = member_path(ctx->sec, key);
  FILE *probe = fopen(full, "r");
  struct stat st;
  if (!probe || fstat(fileno(probe), &st) != 0 || !S_ISREG(st.st_mode)) {
    const char *why = !probe ? strerror(errno) : "not a regular file";
    cfg_errors_at(ctx->errs, at ? at : ctx->sec, where, "cannot read trace %s: %s", full, why);
    if (probe) fclose(probe);
    return false;
  }
  fclose(probe);
  size_t mark = ctx->errs->len;
  if (cfg_trace_read(out, full, time_col, cols, ncols, ctx->errs)) {
    add_input(ctx->sc, full, "trace");
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

bool cfg_scenario_load(cfg_scenario *sc, const char *file, const cfg_load_opts *opts, cfg_errors *errs)
{
  char *const *sets = opts->sets;
  size_t nsets = opts->nsets;
  const int64_t *seed_override = opts->seed;
  memset(sc, 0, sizeof *sc);
  config_init(&sc->cfg);
  sc->file = xstrdup(file);
  errs->file = sc->file;

  if (!cfg_file_ok(file, "scenario", errs)) return false;
  char *dir = dir_of(file);
  config_set_include_dir(&sc->cfg, dir);
  free(dir);
  if (config_read_file(&sc->cfg, file) != CONFIG_TRUE) {
    const char *ef = config_error_file(&sc->cfg);
    if (config_error_type(&sc->cfg) == CONFIG_ERR_FILE_IO)
      cfg_errors_add(errs, "%s: cannot read scenario", ef ? ef : file);
    else
    {
      const char *text = config_error_text(&sc->cfg);
      if (text && !strcmp(text, "syntax error"))
        cfg_errors_add(errs, "%s:%d: syntax error", ef ? ef : file, config_error_line(&sc->cfg));
      else
        cfg_errors_add(errs, "%s:%d: %s", ef ? ef : file, config_error_line(&sc->cfg),
                       text ? text : "syntax error");
    }
    return false;
  }
  add_input(sc, file, "scenario");
  add_includes(sc, config_root_setting(&sc->cfg));

  size_t before = errs->len;
  for (size_t i = 0; i < nsets; i++) cfg_override_apply(&sc->cfg, sets[i], errs);
  if (errs->len > before) return false;

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
  if (top.name && !name_ok(top.name))
    cfg_errors_at(errs, config_setting_get_member(root, "name"), "name",
                  "\"%s\" is not a valid name (letters, digits, '-', '_' and '.' only; it names output files)",
                  top.name);
  if (top.horizon_s > 0 && top.warmup_s >= top.horizon_s)
    cfg_errors_at(errs, config_setting_get_member(root, "warmup_s"), "warmup_s",
                  "must be less than horizon_s (%g)", top.horizon_s);

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
    cfg_errors_at(errs, NULL, "", "one scenario simulates one thing, and this one has sections of %s: "
                  "put them in separate scenarios (a shared cluster's serving pool is jobs.serving)", list);
  }
  /* the scenario's own catalog entries, over the shipped catalogs */
  bool own_catalog = false;
  for (const sim_catalog_type *const *t = sim_catalog_types; *t; t++)
    if (config_setting_get_member(root, (*t)->list)) own_catalog = true;
  if (own_catalog || need_catalogs || opts->ncatalogs) {
    size_t mark = errs->len;
    sc->cats = cfg_catalogs_alloc();
    cfg_catalogs_load_dir(sc->cats, cfg_catalog_dir(), errs);
    for (size_t i = 0; i < opts->ncatalogs; i++) cfg_catalogs_load_file(sc->cats, opts->catalogs[i], errs);
    for (const sim_catalog_type *const *t = sim_catalog_types; *t; t++) {
      char path[4096];
      snprintf(path, sizeof path, "%s/%s.cfg", cfg_catalog_dir(), (*t)->list);
      add_input(sc, path, "catalog");
    }
    for (size_t i = 0; i < opts->ncatalogs; i++) add_input(sc, opts->catalogs[i], "catalog");
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
