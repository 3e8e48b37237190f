/* sim/component.h: the model registry's interface. A model family exposes
 * one sim_component_type: the scenario section it reads (by name and key
 * table), a check of relations between keys, and create/report/destroy.
 * The list of all types is `sim_components`, defined by models/registry.c,
 * so the engine and driver never include a model's header (SimGrid/ns-3
 * style: the engine only calls what a component gives it). */
#ifndef SIM_COMPONENT_H
#define SIM_COMPONENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/engine.h"
#include "sim/report.h"
#include "sim/schema.h"
#include "sim/table.h"
#include "sim/trace_data.h"

/* Collects what a component's check finds wrong, by key path relative to its
 * section ("arrivals.rate_per_s"); the driver adds file and line. */
typedef struct sim_check sim_check;
void sim_check_fail(sim_check *ck, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same for a configuration the hardware cannot hold (a model too large
 * for its GPUs, a parallel degree the model or the node does not allow):
 * still an error, but one a search over configurations (plan) may skip. */
void sim_check_fail_capacity(sim_check *ck, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool sim_check_capacity(const sim_check *ck, size_t i);
/* Something the user should know that is not an error (a GPU without a
 * price, a value the model clamps): printed as a warning at the key's
 * line; the configuration stays valid. */
void sim_check_warn(sim_check *ck, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
size_t sim_check_warn_count(const sim_check *ck);
const char *sim_check_warn_key(const sim_check *ck, size_t i);
const char *sim_check_warn_msg(const sim_check *ck, size_t i);
/* For the driver: a collector, its findings in order, and its release. */
sim_check *sim_check_alloc(void);
void sim_check_free(sim_check *ck);
size_t sim_check_count(const sim_check *ck);
const char *sim_check_key(const sim_check *ck, size_t i);
const char *sim_check_msg(const sim_check *ck, size_t i);

typedef struct sim_catalogs sim_catalogs;

/* What a component's prepare gets: the catalogs (shipped plus the
 * scenario's own lists) and the driver's file readers. */
typedef struct sim_setup sim_setup;
struct sim_setup {
  const sim_catalogs *cats;
  double horizon_s;  /* the scenario's (0: until no event is left) */
  /* Read the CSV trace at `path` (a relative path is taken from the
   * scenario's directory), named by the scenario key `key` (a path as for
   * sim_check_fail): time column `time_col`, integer columns cols[]. False
   * when it cannot; the driver has then reported why, at the key's line
   * for an unreadable file and at the trace's own lines for bad rows. On
   * success the component owns *out (sim_trace_release). */
  bool (*read_trace)(const sim_setup *su, const char *key, const char *path,
                     const char *time_col, const sim_trace_column *cols, int ncols,
                     sim_trace *out);
  void *priv;  /* the driver's */
};

/* What a component gets at creation. */
typedef struct sim_component_env sim_component_env;
struct sim_component_env {
  sim_engine *eng;
  uint64_t seed;     /* master seed: derive streams with sim_rng_alloc(seed, "<name>.<stream>") */
  const char *name;  /* its section name (its type's name for a sections component) */
  const sim_catalogs *cats;
  /* An output table NAME (the driver writes OUTDIR/NAME.csv, atomically,
   * when the run ends) with these columns; the driver owns it. NULL when
   * the run writes no files (check, tests of the API). */
  sim_table *(*open_table)(const sim_component_env *env, const char *name,
                           const char *const *columns, int ncolumns);
  void *priv;        /* the driver's */
};

typedef struct sim_component_type {
  const char *name;         /* section key in a scenario: "queue" */
  const char *help;         /* one line for --help */
  const sim_key *schema;    /* accepted keys */
  size_t params_size;       /* size of the struct the schema fills */
  /* false: the component is the section `name` and schema lists its keys.
   * true: the schema's entries are top-level sections (groups and lists
   * such as model, cluster, workload), the component is present when any
   * of them is written, and check keys are paths from the top
   * ("cluster.pools.[0].gpu"). */
  bool sections;
  /* Relations between keys that the schema cannot express; may be NULL. */
  void (*check)(const void *params, sim_check *ck);
  /* After the schema and check passed: resolve catalog names, read data
   * files through su, derive settings into params (which it may change);
   * problems go to ck as for check. May be NULL. */
  void (*prepare)(void *params, const sim_setup *su, sim_check *ck);
  /* Free what prepare attached to params (traces); may be NULL. */
  void (*release_params)(void *params);
  /* Compute now what runs of these (prepared) params share and cache it in
   * the process (serving: the saturation probe), so that processes forked
   * afterwards inherit it instead of each computing it again (a sweep's
   * workers). Results must not depend on whether it was called. May be
   * NULL. */
  void (*warm)(const void *params);
  /* Allocate the component and schedule its first events. params stays
   * valid until destroy. */
  void *(*create)(const void *params, const sim_component_env *env);
  /* Append its metrics at the end of the run (sim_now is the end time). */
  void (*report)(void *self, sim_engine *eng, sim_report *rep);
  void (*destroy)(void *self);
} sim_component_type;

/* Every component type, NULL-terminated (models/registry.c). */
extern const sim_component_type *const sim_components[];

#endif
