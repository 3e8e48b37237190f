/* driver/config/scenario.h: a scenario file loaded, overridden and checked: the
 * top-level settings (name, seed, warm-up, horizon) and, for every section
 * that names a registered component, that component's parameters. After a
 * successful load nothing more about the file can be wrong. Part of the
 * driver. */
#ifndef DRIVER_CONFIG_SCENARIO_H
#define DRIVER_CONFIG_SCENARIO_H

#include <libconfig.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/catalog.h"
#include "driver/config/cfg.h"
#include "sim/component.h"

#define SIM_SCENARIO_MAX_COMPONENTS 32
/* Largest master seed (exact in a double, as libconfig and JSON need). */
#define SIM_SEED_MAX INT64_C(9000000000000000)

typedef struct {
  const sim_component_type *type;
  void *params;  /* type->params_size bytes, owned */
} cfg_scenario_part;

typedef struct {
  config_t cfg;
  char *file;
  const char *name;       /* owned by cfg */
  const char *description;
  int64_t seed;
  double warmup_s;        /* statistics ignore [0, warmup_s) */
  double horizon_s;       /* stop at this time; 0: when no event is left */
  cfg_scenario_part parts[SIM_SCENARIO_MAX_COMPONENTS];
  size_t nparts;
  /* The shipped catalogs plus the scenario's own `gpus`, `links`, `models`
   * lists (entries replace shipped ones of the same name); NULL when the
   * scenario has no such list. */
  sim_catalogs *cats;
} cfg_scenario;

/* Load `file`, apply the `nsets` --set texts (which must outlive sc) in
 * order, then --seed if seed_override is non-NULL, and check everything.
 * Returns true if the scenario is valid; otherwise every problem is in errs.
 * Release sc in both cases. */
bool cfg_scenario_load(cfg_scenario *sc, const char *file, char *const *sets, size_t nsets,
                       const int64_t *seed_override, cfg_errors *errs);
void cfg_scenario_release(cfg_scenario *sc);

#endif
