/* sim/catalog_store.h: the layout of loaded catalogs, shared by the lookup
 * (catalog.c) and the loader (catalog_load.c); nothing else includes it. */
#ifndef SIM_CATALOG_STORE_H
#define SIM_CATALOG_STORE_H

#include "sim/catalog.h"

typedef struct {
  const sim_catalog_type *type;
  unsigned char *entries;   /* len entries of type->entry_size bytes (owned) */
  const void **where;       /* the config_setting_t each entry was read from */
  size_t len, cap;
  /* entries that failed their own checks: kept only so that their
   * references can still be checked, to report every problem at once */
  unsigned char *rejected;
  const void **rejected_where;
  size_t nrejected, rejected_cap;
  /* the loader's copies of type->schema: every key optional (an entry that
   * changes an existing one), and the source keys optional (a user's new
   * entry); built on first use, owned */
  void *schema_partial, *schema_user;
} sim_catalog;

#define SIM_MAX_CATALOG_TYPES 16
#define SIM_MAX_CATALOG_FILES 64

struct sim_catalogs {
  sim_catalog cats[SIM_MAX_CATALOG_TYPES];
  size_t n;
  void *files[SIM_MAX_CATALOG_FILES];  /* the loader's config_t, which own the strings */
  size_t nfiles;
};

#endif
