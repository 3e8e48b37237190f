/* models/registry.c: what the model families offer the driver: scenario
 * components, catalog types and commands. Add a model family here and
 * nowhere else in the driver. */
#include "sim/catalog.h"
#include "sim/command.h"
#include "sim/component.h"

extern const sim_component_type queue_component, serving_component, jobs_component, training_component;
extern const sim_catalog_type net_link_catalog, gpu_catalog, llm_catalog, stack_catalog, provider_catalog,
    train_stack_catalog;
extern const sim_command_type estimate_command;

const sim_component_type *const sim_components[] = {
  &queue_component,
  &serving_component,
  &jobs_component,
  &training_component,
  NULL,
};

/* Resolve order: links before the GPUs that name them. */
const sim_catalog_type *const sim_catalog_types[] = {
  &net_link_catalog,
  &gpu_catalog,
  &llm_catalog,
  &stack_catalog,
  &provider_catalog,  /* after the GPUs its entries name */
  &train_stack_catalog,
  NULL,
};

const sim_command_type *const sim_commands[] = {
  &estimate_command,
  NULL,
};
