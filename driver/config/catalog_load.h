/* driver/config/catalog_load.h: reading catalog files (libconfig) into a
 * sim_catalogs: the shipped ones (models/catalog/), then any the user names,
 * each checked entry by entry with file:line errors (a later entry of an
 * existing name changes only what it writes); then cross-references
 * resolved. Part of the driver. */
#ifndef DRIVER_CONFIG_CATALOG_LOAD_H
#define DRIVER_CONFIG_CATALOG_LOAD_H

#include <libconfig.h>
#include <stdbool.h>

#include "sim/catalog.h"
#include "driver/config/cfg.h"
#include "driver/config/source.h"

/* An empty store with one catalog per registered type; free with
 * cfg_catalogs_free. */
sim_catalogs *cfg_catalogs_alloc(void);
void cfg_catalogs_free(sim_catalogs *cats);

/* The directory of the shipped catalogs: $CLUSTERSIM_CATALOG_DIR, else the
 * installed PREFIX/share/clustersim/catalog beside the running executable
 * (PREFIX/bin), else the source tree's models/catalog (see datadir.h). */
const char *cfg_catalog_dir(void);

/* Read every catalog list in `file` (top-level keys: the registered list
 * names), a user's file: an entry naming an existing one (by name or
 * alias) changes only the keys it writes; a new entry may leave out its
 * source keys (a warning). False if anything was wrong. */
bool cfg_catalogs_load_file(sim_catalogs *cats, const char *file, cfg_errors *errs);

/* The same through rd (size limit, files read recorded; NULL: defaults). */
bool cfg_catalogs_read_file(sim_catalogs *cats, const char *file, const cfg_reader *rd, cfg_errors *errs);

/* Read the shipped catalogs (gpus.cfg, links.cfg, models.cfg in `dir`):
 * every entry complete, its source keys included. */
bool cfg_catalogs_load_dir(sim_catalogs *cats, const char *dir, cfg_errors *errs);
bool cfg_catalogs_read_dir(sim_catalogs *cats, const char *dir, const cfg_reader *rd, cfg_errors *errs);

/* Read one list setting (a scenario's own `gpus = ( ... )`) of type `type`,
 * as a user's (see cfg_catalogs_load_file). */
bool cfg_catalogs_load_list(sim_catalogs *cats, const config_setting_t *list,
                            const sim_catalog_type *type, cfg_errors *errs);

/* Resolve cross-references once everything is read. */
bool cfg_catalogs_resolve(sim_catalogs *cats, cfg_errors *errs);

/* The shipped catalogs, then each of `extra` files, resolved: NULL (and
 * every problem in errs) if anything is wrong. */
sim_catalogs *cfg_catalogs_load_all(char *const *extra, size_t nextra, cfg_errors *errs);

#endif
