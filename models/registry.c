/* models/registry.c: the list of model components a scenario may use. Add a
 * model family here and nowhere else in the driver. */
#include "sim/component.h"

extern const sim_component_type queue_component;

const sim_component_type *const sim_components[] = {
  &queue_component,
  NULL,
};
