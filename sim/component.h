/* sim/component.h: the model registry's interface. A model family exposes
 * one sim_component_type: the scenario section it reads (by name and key
 * table), a check of relations between keys, and create/report/destroy.
 * The list of all types is `sim_components`, defined by models/registry.c,
 * so the engine and driver never include a model's header (SimGrid/ns-3
 * style: the engine only calls what a component gives it). */
#ifndef SIM_COMPONENT_H
#define SIM_COMPONENT_H

#include <stddef.h>
#include <stdint.h>

#include "sim/engine.h"
#include "sim/report.h"
#include "sim/schema.h"

/* Collects what a component's check finds wrong, by key path relative to its
 * section ("arrivals.rate_per_s"); the driver adds file and line. */
typedef struct sim_check sim_check;
void sim_check_fail(sim_check *ck, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* For the driver: a collector, its findings in order, and its release. */
sim_check *sim_check_alloc(void);
void sim_check_free(sim_check *ck);
size_t sim_check_count(const sim_check *ck);
const char *sim_check_key(const sim_check *ck, size_t i);
const char *sim_check_msg(const sim_check *ck, size_t i);

/* What a component gets at creation. */
typedef struct {
  sim_engine *eng;
  uint64_t seed;     /* master seed: derive streams with sim_rng_alloc(seed, "<name>.<stream>") */
  const char *name;  /* its section name */
} sim_component_env;

typedef struct sim_component_type {
  const char *name;         /* section key in a scenario: "queue" */
  const char *help;         /* one line for --help */
  const sim_key *schema;    /* accepted keys */
  size_t params_size;       /* size of the struct the schema fills */
  /* Relations between keys that the schema cannot express; may be NULL. */
  void (*check)(const void *params, sim_check *ck);
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
