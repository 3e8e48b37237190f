/* driver/config/catalog_load.c: catalog files into a sim_catalogs (see
 * catalog_load.h): new entries checked whole, entries that name an existing
 * one merged key by key, sources required of the shipped catalog and only
 * warned about in users' files. The config_t of every file read stays
 * alive in the store, because entries point at its strings. */
#include "driver/config/catalog_load.h"

#include <stdlib.h>
#include <string.h>

#include "driver/config/datadir.h"
#include "sim/catalog_store.h"
#include "sim/dist.h"
#include "sim/util.h"

#ifndef CS_CATALOG_DIR
#define CS_CATALOG_DIR "models/catalog"
#endif

static void free_relaxed(void *table, bool deep);

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
    free_relaxed(cats->cats[i].schema_partial, true);
    free_relaxed(cats->cats[i].schema_user, false);
  }
  for (size_t i = 0; i < cats->nfiles; i++) {
    config_destroy(cats->files[i]);
    free(cats->files[i]);
  }
  free(cats);
}

const char *cfg_catalog_dir(void)
{
  static char buf[4096];
  return cfg_data_dir("CLUSTERSIM_CATALOG_DIR", "catalog", CS_CATALOG_DIR, buf, sizeof buf);
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

/* ---- key tables for entries that change an existing one, and user entries ---- */

static bool listed(const char *const *names, const char *name)
{
  for (; names && *names; names++)
    if (!strcmp(*names, name)) return true;
  return false;
}

/* A copy of `schema` in which the keys named in `only` are optional, or,
 * when only is NULL, every key, in nested groups too; an optional string
 * without a default reads as "". Free with free_relaxed(t, only == NULL).
 * Lists stay as they are: a list written replaces the whole list. */
static sim_key *relaxed(const sim_key *schema, const char *const *only)
{
  size_t n = 0;
  while (schema[n].name) n++;
  sim_key *t = xcalloc(n + 1, sizeof *t);
  for (size_t i = 0; i < n; i++) {
    t[i] = schema[i];
    if (only && !listed(only, t[i].name)) continue;
    t[i].required = false;
    if (t[i].kind == SIM_KEY_STRING && !t[i].def_str) t[i].def_str = "";
    if (!only && t[i].kind == SIM_KEY_GROUP) t[i].group = relaxed(t[i].group, NULL);
  }
  return t;
}

static void free_relaxed(void *table, bool deep)
{
  sim_key *t = table;
  for (sim_key *k = t; t && deep && k->name; k++)
    if (k->kind == SIM_KEY_GROUP) free_relaxed((void *)k->group, true);
  free(t);
}

/* Bytes of the field key k fills (a group's keys have their own). */
static size_t field_size(const sim_key *k)
{
  switch (k->kind) {
  case SIM_KEY_INT: return sizeof(int64_t);
  case SIM_KEY_FLOAT: return sizeof(double);
  case SIM_KEY_BOOL: return sizeof(bool);
  case SIM_KEY_STRING: return sizeof(const char *);
  case SIM_KEY_ENUM: return sizeof(int);
  case SIM_KEY_DIST_TIME: return sizeof(sim_dist);
  case SIM_KEY_NAMES: return sizeof(sim_names);
  case SIM_KEY_LIST: return (size_t)k->max_items * k->item_size;
  case SIM_KEY_NUMBERS: return (size_t)k->max_items * sizeof(double);
  case SIM_KEY_GROUP: return 0;
  }
  return 0;
}

/* Copy from src (read from group g against schema) into dst the fields of
 * the keys g writes, a nested group key by key; never the string field at
 * offset `keep` (the entry's name). */
static void merge_written(const config_setting_t *g, const sim_key *schema, unsigned char *dst,
                          const unsigned char *src, size_t keep)
{
  for (const sim_key *k = schema; k->name; k++) {
    const config_setting_t *s = config_setting_get_member(g, k->name);
    if (!s) continue;
    if (k->has_present) *(bool *)(dst + k->present_offset) = *(const bool *)(src + k->present_offset);
    if (k->kind == SIM_KEY_GROUP) {
      merge_written(s, k->group, dst + k->offset, src + k->offset, (size_t)-1);
      continue;
    }
    if (k->kind == SIM_KEY_STRING && k->offset == keep) continue;
    memcpy(dst + k->offset, src + k->offset, field_size(k));
    if (k->kind == SIM_KEY_LIST || k->kind == SIM_KEY_NUMBERS)
      memcpy(dst + k->count_offset, src + k->count_offset, sizeof(int));
  }
}

/* The index of the entry named or aliased `name`, or c->len. */
static size_t find_slot(const sim_catalog *c, const char *name)
{
  const sim_catalog_type *t = c->type;
  for (size_t i = 0; i < c->len; i++)
    if (!strcmp(name_of(t, c->entries + i * t->entry_size), name)) return i;
  if (t->aliases_offset == (size_t)-1) return c->len;
  for (size_t i = 0; i < c->len; i++) {
    const sim_names *al = (const sim_names *)(c->entries + i * t->entry_size + t->aliases_offset);
    for (int a = 0; a < al->n; a++)
      if (!strcmp(al->v[a], name)) return i;
  }
  return c->len;
}

/* A user's new entry that leaves out source keys: one warning naming them. */
static void warn_missing_sources(const sim_catalog_type *t, const config_setting_t *g, const char *path,
                                 cfg_errors *errs)
{
  char missing[512] = "";
  for (const char *const *k = t->source_keys; k && *k; k++)
    if (!config_setting_get_member(g, *k)) {
      if (*missing) strncat(missing, ", ", sizeof missing - strlen(missing) - 1);
      strncat(missing, *k, sizeof missing - strlen(missing) - 1);
    }
  if (*missing)
    cfg_errors_warn_at(errs, g, path,
                       "no %s (every shipped %s gives them: say where the figures come from so that "
                       "they can be checked)",
                       missing, t->what);
}

/* Read one entry group. A name (or alias) already in the catalog, from an
 * earlier file, changes that entry: only the keys written, the entry then
 * checked whole. Otherwise a new entry, every required key given; its
 * source keys are required when `shipped`, else a warning names those
 * missing. */
static void read_entry(sim_catalog *c, const config_setting_t *g, int index, bool shipped, cfg_errors *errs)
{
  const sim_catalog_type *t = c->type;
  char path[256];
  const config_setting_t *nm = config_setting_type(g) == CONFIG_TYPE_GROUP
                                   ? config_setting_get_member(g, "name") : NULL;
  const char *written = nm && config_setting_type(nm) == CONFIG_TYPE_STRING ? config_setting_get_string(nm) : NULL;
  if (written)
    snprintf(path, sizeof path, "%s[%s]", t->list, written);
  else
    snprintf(path, sizeof path, "%s.[%d]", t->list, index);
  if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
    cfg_errors_at(errs, g, path, "expected a group { name = \"...\"; ... } describing a %s", t->what);
    return;
  }
  size_t slot = written ? find_slot(c, written) : c->len;
  bool partial = slot < c->len;
  if (partial) {
    /* changing is for later files; within one file a second entry is a mistake */
    const config_setting_t *first = c->where[slot];
    const char *f1 = config_setting_source_file(first), *f2 = config_setting_source_file(g);
    if (f1 && f2 && !strcmp(f1, f2)) {
      cfg_errors_at(errs, g, path, "duplicate name \"%s\" (first at %s:%u)", written, f1,
                    config_setting_source_line(first));
      return;
    }
  }
  const sim_key *schema = t->schema;
  if (partial) {
    if (!c->schema_partial) c->schema_partial = relaxed(t->schema, NULL);
    schema = c->schema_partial;
  } else if (!shipped) {
    if (!c->schema_user) c->schema_user = relaxed(t->schema, t->source_keys);
    schema = c->schema_user;
  }
  unsigned char *entry = xcalloc(1, t->entry_size);
  size_t before = errs->len;
  cfg_read(g, path, schema, entry, NULL, errs);
  bool merged = false;
  if (errs->len == before && partial) {
    unsigned char *m = xmalloc(t->entry_size);
    memcpy(m, c->entries + slot * t->entry_size, t->entry_size);
    merge_written(g, t->schema, m, entry, t->name_offset);
    free(entry);
    entry = m;
    merged = true;
  }
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
  if (errs->len == before && !partial && !name_ok(name_of(t, entry))) {
    const config_setting_t *at = config_setting_get_member(g, "name");
    cfg_errors_at(errs, at ? at : g, path,
                  "name \"%s\" is not a catalog name (lowercase letters, digits, '-' and '.', "
                  "starting with a letter or digit)",
                  name_of(t, entry));
  }
  if (errs->len == before) {
    if (!partial && !shipped) warn_missing_sources(t, g, path, errs);
    if (!partial) {
      if (c->len == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 32;
        c->entries = xrealloc(c->entries, c->cap * t->entry_size);
        c->where = xrealloc(c->where, c->cap * sizeof *c->where);
      }
      c->len++;
    }
    memcpy(c->entries + slot * t->entry_size, entry, t->entry_size);
    c->where[slot] = g;
  } else if (t->resolve && (merged || !partial) && name_of(t, entry)) {
    if (c->nrejected == c->rejected_cap) {
      c->rejected_cap = c->rejected_cap ? 2 * c->rejected_cap : 8;
      c->rejected = xrealloc(c->rejected, c->rejected_cap * t->entry_size);
      c->rejected_where = xrealloc(c->rejected_where, c->rejected_cap * sizeof *c->rejected_where);
    }
    memcpy(c->rejected + c->nrejected * t->entry_size, entry, t->entry_size);
    c->rejected_where[c->nrejected++] = g;
  }
  free(entry);
}

static bool load_list(sim_catalogs *cats, const config_setting_t *list, const sim_catalog_type *type,
                      bool shipped, cfg_errors *errs)
{
  size_t before = errs->len;
  sim_catalog *c = catalog_of(cats, type);
  if (!c) SIM_BUG("catalog type %s not registered", type->list);
  if (config_setting_type(list) != CONFIG_TYPE_LIST) {
    cfg_errors_at(errs, list, type->list, "expected a list ( { ... }, { ... } ) of %s entries", type->what);
    return false;
  }
  for (int i = 0; i < config_setting_length(list); i++)
    read_entry(c, config_setting_get_elem(list, (unsigned)i), i, shipped, errs);
  return errs->len == before;
}

bool cfg_catalogs_load_list(sim_catalogs *cats, const config_setting_t *list,
                            const sim_catalog_type *type, cfg_errors *errs)
{
  return load_list(cats, list, type, false, errs);
}

/* One catalog file through rd (NULL: defaults); shipped: its entries must be
 * complete, sources included. */
static bool load_file(sim_catalogs *cats, const char *file, bool shipped, const cfg_reader *rd, cfg_errors *errs)
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
  /* @include "x.cfg" in a catalog file is taken from that file's folder, as in a scenario */
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
    load_list(cats, s, type, shipped, errs);
  }
  errs->file = saved_file;
  return errs->len == before;
}

bool cfg_catalogs_load_file(sim_catalogs *cats, const char *file, cfg_errors *errs)
{
  return load_file(cats, file, false, NULL, errs);
}

bool cfg_catalogs_read_file(sim_catalogs *cats, const char *file, const cfg_reader *rd, cfg_errors *errs)
{
  return load_file(cats, file, false, rd, errs);
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
    load_file(cats, path, true, rd, errs);
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
