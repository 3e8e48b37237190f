/* driver/commands/slo_capacity.h: the highest load at which a serving
 * scenario still meets its SLO (`clustersim run --slo-capacity`): a
 * bisection on the load scale (workload.load_scale times a factor, every
 * class's arrival rate or a trace's replay speed scaled alike), the
 * bracket guided by the saturation rate. It lives in commands/ so that
 * `run` has it and `plan` (which links commands) could use it; it writes
 * no files. Part of the driver. */
#ifndef DRIVER_COMMANDS_SLO_CAPACITY_H
#define DRIVER_COMMANDS_SLO_CAPACITY_H

#include <stdbool.h>
#include <stddef.h>

#include "driver/config/scenario.h"
#include "sim/report.h"

/* The search stops when the bracket [feasible, infeasible] is this narrow,
 * relative to its low end. */
#define RUN_SLO_CAPACITY_TOL 0.01

typedef struct {
  double factor;        /* the highest load factor found feasible (1: the scenario's load); 0: none */
  double rate_per_s;    /* offered_rate_per_s there (mean over the replications); 0: none */
  double tolerance;     /* the final bracket's width relative to factor (NaN: no bracket) */
  int runs;             /* scenario runs made (every replication counts) */
  bool capped;          /* still feasible at the largest load the scenario allows (a lower bound) */
  bool stopped;         /* interrupted (SIGINT, SIGTERM) */
} run_slo_capacity_result;

/* Whether the loaded scenario has a serving SLO target (slo.ttft_s,
 * slo.tpot_s or slo.e2e_s above 0): what slo_met judges. */
bool run_slo_capacity_applies(const cfg_scenario *sc);

/* Search for the highest load factor k at which every one of `reps`
 * replications (seeds seed .. seed + reps - 1, as the run's) of the
 * scenario at workload.load_scale = base x k meets the SLO (slo_met), to
 * RUN_SLO_CAPACITY_TOL. file and opts are how the scenario was loaded (the
 * search adds its own --set of the load scale). `base` is the run at the
 * scenario's load (factor 1): its slo_met, load_scale, offered_rate_per_s
 * and saturation_rate_per_s start and guide the search (the first upper
 * bound tried is the factor where the offered rate reaches the saturation
 * rate). Progress on standard error unless quiet. Returns 0, or 2 (with a
 * message) when base lacks the keys it needs. */
int run_slo_capacity(const char *file, const cfg_load_opts *opts, const sim_report *base, int reps, bool quiet,
                     run_slo_capacity_result *out);

#endif
