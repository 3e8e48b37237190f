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
#include "driver/config/source.h"
#include "sim/component.h"

#define SIM_SCENARIO_MAX_COMPONENTS 32
/* Largest master seed (exact in a double, as libconfig and JSON need). */
#define SIM_SEED_MAX INT64_C(9000000000000000)

typedef struct {
  const sim_component_type *type;
  void *params;  /* type->params_size bytes, owned */
} cfg_scenario_part;

/* How to load: the --set texts (which must outlive the scenario) applied in
 * order, then the master seed if `seed` is non-NULL; the extra catalog
 * files (--catalog, in order) read over the shipped catalogs and under the
 * scenario's own lists; every file read (scenario, includes, catalogs,
 * traces) at most max_input_bytes long (0: the defaults,
 * CFG_MAX_CONFIG_BYTES and CFG_MAX_TRACE_BYTES for traces); then `edit`. */
typedef struct {
  char *const *sets;
  size_t nsets;
  const int64_t *seed;
  char *const *catalogs;
  size_t ncatalogs;
  int64_t max_input_bytes;
  /* Called after the --set texts and before anything is checked, to change
   * the scenario in ways --set cannot (plan adds a pool): false, with an
   * error in errs, stops the load. NULL: none. */
  bool (*edit)(config_t *cfg, void *arg, cfg_errors *errs);
  void *edit_arg;
} cfg_load_opts;

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
  /* The shipped catalogs, then the --catalog files, then the scenario's own
   * `gpus`, `links`, `models` lists (an entry naming an earlier one changes
   * the keys it writes); NULL when none of them is needed or given. */
  sim_catalogs *cats;
  cfg_input *inputs;      /* every file read, in order; owned */
  size_t ninputs;
  int64_t max_input_bytes; /* as loaded (cfg_load_opts) */
} cfg_scenario;

/* Load `file` as `opts` says and check everything. Returns true if the
 * scenario is valid; otherwise every problem is in errs (warnings too, in
 * both cases). Release sc in both cases. */
bool cfg_scenario_load(cfg_scenario *sc, const char *file, const cfg_load_opts *opts, cfg_errors *errs);
/* The same for a scenario already in memory (len bytes at text), named
 * `file` for messages, includes and traces (for tests and fuzzing; it is
 * not recorded in sc->inputs). */
bool cfg_scenario_load_text(cfg_scenario *sc, const char *file, const char *text, size_t len,
                            const cfg_load_opts *opts, cfg_errors *errs);
void cfg_scenario_release(cfg_scenario *sc);

#endif
