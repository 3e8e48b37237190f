/* sim/catalog.h: named entries of reference data (GPUs, links, models), as
 * typed C structs. A model family describes its entry type here (list name,
 * key table, struct size, checks, cross-references); the driver reads the
 * shipped and user catalog files into a sim_catalogs (driver/config/catalog_load.c);
 * models look entries up by name at set-up, never per event. An entry of a
 * later file (or list) that names an existing entry, by name or alias,
 * changes only the keys it writes; the rest, sources included, stay. */
#ifndef SIM_CATALOG_H
#define SIM_CATALOG_H

#include <stddef.h>

#include "sim/component.h"
#include "sim/schema.h"

typedef struct sim_catalogs sim_catalogs;

typedef struct sim_catalog_type {
  const char *list;          /* list name in files: "gpus" */
  const char *what;          /* one entry, for messages: "GPU" */
  const sim_key *schema;     /* keys of one entry; must include "name" */
  size_t entry_size;
  size_t name_offset;        /* const char * */
  size_t aliases_offset;     /* sim_names, or (size_t)-1 if none */
  /* Relations between an entry's keys; may be NULL. */
  void (*check)(const void *entry, sim_check *ck);
  /* Resolve names of other entries (a GPU's links) once every file is read;
   * report unknown names through ck by key; may be NULL. */
  void (*resolve)(void *entry, const sim_catalogs *cats, sim_check *ck);
  /* Keys that say where an entry's figures come from (source, price_source,
   * ...; for GPUs also the price and its provider and date): a shipped
   * entry must give every one; a user's new entry may leave them out, with
   * one warning naming the missing ones. Written `required` in the schema;
   * NULL-terminated; may be NULL. */
  const char *const *source_keys;
  /* `clustersim list`: a header line and one line per entry. */
  const char *list_header;
  void (*list_line)(const void *entry, char *buf, size_t n);
} sim_catalog_type;

/* Every catalog type, NULL-terminated (models/registry.c), in resolve order. */
extern const sim_catalog_type *const sim_catalog_types[];

/* The entry of catalog `list` ("gpus") named or aliased `name`, or NULL. */
const void *sim_catalog_find(const sim_catalogs *cats, const char *list, const char *name);
/* A catalog entry's date is YYYY, YYYY-MM or YYYY-MM-DD, years 2000-2099
 * (months 1-12, days 1-31). */
bool sim_catalog_date_ok(const char *d);
/* Entries of catalog `list`: count, and the i-th (in file order). */
size_t sim_catalog_count(const sim_catalogs *cats, const char *list);
const void *sim_catalog_entry(const sim_catalogs *cats, const char *list, size_t i);
/* Names of the entries of `list`, comma-separated, into buf (for messages). */
void sim_catalog_names(const sim_catalogs *cats, const char *list, char *buf, size_t n);

/* The entry of `list` named `name`, or NULL after reporting against `key`
 * (a scenario key or a flag) "unknown WHAT "name" (one of: the names)". */
const void *sim_catalog_require(const sim_catalogs *cats, const char *list, const char *what, const char *name,
                                sim_check *ck, const char *key);

#endif
