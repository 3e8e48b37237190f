/* driver/config/catalog_load.c: catalog files into a sim_catalogs (see
 * catalog_load.h). The config_t of every file read stays alive in the store,
 * because entries point at its strings. */
#include "driver/config/catalog_load.h"

#include <stdlib.h>
#include <string.h>

#include "sim/catalog_store.h"
#include "sim/util.h"

#ifndef CS_CATALOG_DIR
#define CS_CATALOG_DIR "models/catalog"
#endif

sim_catalogs *cfg_catalogs_alloc(void)
{
  sim_catalogs *cats = xcalloc(1, sizeof *cats);
  for (const sim_catalog_type *const *t = sim_catalog_types; *t; t++) {
    if (cats->n == SIM_MAX_CATALOG_TYPES) SIM_BUG("too many catalog types");
    cats->cats[cats->n++].type = *t;
  }
  return cats;
}

void cfg_catalogs_free(sim_catalogs *cats)
{
  if (!cats) return;
  for (size_t i = 0; i < cats->n; i++) {
    free(cats->cats[i].entries);
    free(cats->cats[i].where);
    free(cats->cats[i].rejected);
    free(cats->cats[i].rejected_where);
  }
  for (size_t i = 0; i < cats->nfiles; i++) {
    config_destroy(cats->files[i]);
    free(cats->files[i]);
  }
  free(cats);
}

const char *cfg_catalog_dir(void)
{
  const char *env = getenv("CLUSTERSIM_CATALOG_DIR");
  return env && *env ? env : CS_CATALOG_DIR;
}

static sim_catalog *catalog_of(sim_catalogs *cats, const sim_catalog_type *type)
{
  for (size_t i = 0; i < cats->n; i++)
    if (cats->cats[i].type == type) return &cats->cats[i];
  return NULL;
}

static const char *name_of(const sim_catalog_type *t, const void *entry)
{
  return *(const char *const *)((const char *)entry + t->name_offset);
}

/* Catalog names: lowercase letters, digits, '-' and '.' (llama3.1-8b). */
static bool name_ok(const char *s)
{
  if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'))) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.')) return false;
  return true;
}

/* Read one entry group into a fresh struct; add it or replace its namesake. */
static void read_entry(sim_catalogs *cats, sim_catalog *c, const config_setting_t *g, int index,
                       cfg_errors *errs)
{
  const sim_catalog_type *t = c->type;
  char path[256];
  const config_setting_t *nm = config_setting_type(g) == CONFIG_TYPE_GROUP
                                   ? config_setting_get_member(g, "name") : NULL;
  if (nm && config_setting_type(nm) == CONFIG_TYPE_STRING)
    snprintf(path, sizeof path, "%s[%s]", t->list, config_setting_get_string(nm));
  else
    snprintf(path, sizeof path, "%s.[%d]", t->list, index);
  if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
    cfg_errors_at(errs, g, path, "expected a group { name = \"...\"; ... } describing a %s", t->what);
    return;
  }
  unsigned char *entry = xcalloc(1, t->entry_size);
  size_t before = errs->len;
  cfg_read(g, path, t->schema, entry, NULL, errs);
  if (errs->len == before && t->check) {
    sim_check *ck = sim_check_alloc();
    t->check(entry, ck);
    for (size_t i = 0; i < sim_check_count(ck); i++) {
      const config_setting_t *at = config_setting_get_member(g, sim_check_key(ck, i));
      char sub[512];
      snprintf(sub, sizeof sub, "%s.%s", path, sim_check_key(ck, i));
      cfg_errors_at(errs, at ? at : g, sub, "%s", sim_check_msg(ck, i));
    }
    sim_check_free(ck);
  }
  if (errs->len == before && !name_ok(name_of(t, entry))) {
    const config_setting_t *at = config_setting_get_member(g, "name");
    cfg_errors_at(errs, at ? at : g, path,
                  "name \"%s\" is not a catalog name (lowercase letters, digits, '-' and '.', "
                  "starting with a letter or digit)",
                  name_of(t, entry));
  }
  if (errs->len == before) {
    const char *name = name_of(t, entry);
    size_t slot = c->len;
    for (size_t i = 0; i < c->len; i++)
      if (!strcmp(name_of(t, c->entries + i * t->entry_size), name)) slot = i;
    if (slot < c->len) {
      /* replacing is for later files; within one file a second entry is a mistake */
      const config_setting_t *first = c->where[slot];
      const char *f1 = config_setting_source_file(first), *f2 = config_setting_source_file(g);
      if (f1 && f2 && !strcmp(f1, f2)) {
        cfg_errors_at(errs, g, path, "duplicate name \"%s\" (first at %s:%u)", name, f1,
                      config_setting_source_line(first));
        free(entry);
        return;
      }
    }
    if (slot == c->len) {
      if (c->len == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 32;
        c->entries = xrealloc(c->entries, c->cap * t->entry_size);
        c->where = xrealloc(c->where, c->cap * sizeof *c->where);
      }
      c->len++;
    }
    memcpy(c->entries + slot * t->entry_size, entry, t->entry_size);
    c->where[slot] = g;
  } else if (t->resolve && name_of(t, entry)) {
    if (c->nrejected == c->rejected_cap) {
      c->rejected_cap = c->rejected_cap ? 2 * c->rejected_cap : 8;
      c->rejected = xrealloc(c->rejected, c->rejected_cap * t->entry_size);
      c->rejected_where = xrealloc(c->rejected_where, c->rejected_cap * sizeof *c->rejected_where);
    }
    memcpy(c->rejected + c->nrejected * t->entry_size, entry, t->entry_size);
    c->rejected_where[c->nrejected++] = g;
  }
  (void)cats;
  free(entry);
}

bool cfg_catalogs_load_list(sim_catalogs *cats, const config_setting_t *list,
                            const sim_catalog_type *type, cfg_errors *errs)
{
  size_t before = errs->len;
  sim_catalog *c = catalog_of(cats, type);
  if (!c) SIM_BUG("catalog type %s not registered", type->list);
  if (config_setting_type(list) != CONFIG_TYPE_LIST) {
    cfg_errors_at(errs, list, type->list, "expected a list ( { ... }, { ... } ) of %s entries", type->what);
    return false;
  }
  for (int i = 0; i < config_setting_length(list); i++)
    read_entry(cats, c, config_setting_get_elem(list, (unsigned)i), i, errs);
  return errs->len == before;
}

bool cfg_catalogs_load_file(sim_catalogs *cats, const char *file, cfg_errors *errs)
{
  return cfg_catalogs_read_file(cats, file, NULL, errs);
}

bool cfg_catalogs_read_file(sim_catalogs *cats, const char *file, const cfg_reader *rd, cfg_errors *errs)
{
  size_t before = errs->len;
  const char *saved_file = errs->file;
  if (cats->nfiles == SIM_MAX_CATALOG_FILES) {
    cfg_errors_add(errs, "%s: too many catalog files (at most %d)", file, SIM_MAX_CATALOG_FILES);
    return false;
  }
  config_t *cfg = xmalloc(sizeof *cfg);
  config_init(cfg);
  cats->files[cats->nfiles++] = cfg;
  if (!cfg_config_load(cfg, file, "catalog", rd, errs)) return false;
  errs->file = file;
  config_setting_t *root = config_root_setting(cfg);
  for (int i = 0; i < config_setting_length(root); i++) {
    config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
    const sim_catalog_type *type = NULL;
    for (size_t k = 0; k < cats->n; k++)
      if (!strcmp(cats->cats[k].type->list, config_setting_name(s))) type = cats->cats[k].type;
    if (!type) {
      char names[256] = "";
      for (size_t k = 0; k < cats->n; k++) {
        if (k) strncat(names, ", ", sizeof names - strlen(names) - 1);
        strncat(names, cats->cats[k].type->list, sizeof names - strlen(names) - 1);
      }
      cfg_errors_at(errs, s, config_setting_name(s), "unknown catalog list (expected one of: %s)", names);
      continue;
    }
    cfg_catalogs_load_list(cats, s, type, errs);
  }
  errs->file = saved_file;
  return errs->len == before;
}

bool cfg_catalogs_load_dir(sim_catalogs *cats, const char *dir, cfg_errors *errs)
{
  return cfg_catalogs_read_dir(cats, dir, NULL, errs);
}

bool cfg_catalogs_read_dir(sim_catalogs *cats, const char *dir, const cfg_reader *rd, cfg_errors *errs)
{
  size_t before = errs->len;
  for (size_t k = 0; k < cats->n; k++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.cfg", dir, cats->cats[k].type->list);
    cfg_catalogs_read_file(cats, path, rd, errs);
  }
  return errs->len == before;
}

bool cfg_catalogs_resolve(sim_catalogs *cats, cfg_errors *errs)
{
  size_t before = errs->len;
  for (size_t k = 0; k < cats->n; k++) {
    sim_catalog *c = &cats->cats[k];
    /* an alias that is another entry's name could never be reached */
    if (c->type->aliases_offset != (size_t)-1)
      for (size_t i = 0; i < c->len; i++) {
        const sim_names *al = (const sim_names *)(c->entries + i * c->type->entry_size + c->type->aliases_offset);
        for (int a = 0; a < al->n; a++)
          for (size_t j = 0; j < c->len; j++)
            if (j != i && !strcmp(al->v[a], name_of(c->type, c->entries + j * c->type->entry_size))) {
              char path[512];
              snprintf(path, sizeof path, "%s[%s].aliases", c->type->list,
                       name_of(c->type, c->entries + i * c->type->entry_size));
              const config_setting_t *at = config_setting_get_member(c->where[i], "aliases");
              cfg_errors_at(errs, at ? at : c->where[i], path, "alias \"%s\" is the name of another %s",
                            al->v[a], c->type->what);
            }
      }
    if (!c->type->resolve) continue;
    for (size_t i = 0; i < c->len + c->nrejected; i++) {
      bool ok = i < c->len;
      void *entry = ok ? c->entries + i * c->type->entry_size
                       : c->rejected + (i - c->len) * c->type->entry_size;
      const config_setting_t *g = ok ? c->where[i] : c->rejected_where[i - c->len];
      sim_check *ck = sim_check_alloc();
      c->type->resolve(entry, cats, ck);
      for (size_t j = 0; j < sim_check_count(ck); j++) {
        const config_setting_t *at = config_setting_get_member(g, sim_check_key(ck, j));
        char path[512];
        snprintf(path, sizeof path, "%s[%s].%s", c->type->list, name_of(c->type, entry),
                 sim_check_key(ck, j));
        cfg_errors_at(errs, at ? at : g, path, "%s", sim_check_msg(ck, j));
      }
      sim_check_free(ck);
    }
    c->nrejected = 0;
  }
  return errs->len == before;
}

sim_catalogs *cfg_catalogs_load_all(char *const *extra, size_t nextra, cfg_errors *errs)
{
  sim_catalogs *cats = cfg_catalogs_alloc();
  size_t before = errs->len;
  cfg_catalogs_load_dir(cats, cfg_catalog_dir(), errs);
  for (size_t i = 0; i < nextra; i++) cfg_catalogs_load_file(cats, extra[i], errs);
  /* resolve what read cleanly even after errors, to report everything at once */
  cfg_catalogs_resolve(cats, errs);
  if (errs->len == before) return cats;
  cfg_catalogs_free(cats);
  return NULL;
}
