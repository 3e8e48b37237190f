/* models/training/jobs_int.h: what jobs_keys.c and jobs_sim.c share: the
 * component's functions and the placement rule. Not a public interface. */
#ifndef JOBS_INT_H
#define JOBS_INT_H

#include "models/training/jobs.h"

/* GPUs of a job that must share a node (its group). */
int64_t jobs_group_size(const jobs_spec *j, int64_t gpus_per_node);

void *jobs_create(const void *params, const sim_component_env *env);
void jobs_report(void *self, sim_engine *eng, sim_report *rep);
void jobs_destroy(void *self);

#endif
