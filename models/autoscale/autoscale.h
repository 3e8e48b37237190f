/* models/autoscale/autoscale.h: how many replicas (or nodes) a pool should
 * have. Pure decisions, shared by the serving pools' autoscaler
 * (models/serving/serving_scale.c) and the job queue's autoscaled
 * inference pool (models/training/jobs_sim.c): no time, no events, no
 * files; the caller measures, asks, and carries the state between calls.
 *
 * Policies:
 * - reactive: a metric held at a target, as Kubernetes' Horizontal Pod
 *   Autoscaler does it: desired = ceil(current x value / target), unless
 *   value / target is within the tolerance of 1 (no change). The value is
 *   per ready replica (a mean batch, a KV fraction, waiting requests) or
 *   of the pool (a p99 TTFT, or the offered load over capacity).
 * - scheduled: a daily plan, replicas from a time of day on.
 * - predictive: enough for the peak arrival rate ahead,
 *   ceil(peak / (per-replica rate x utilization)).
 * A reactive or predictive policy may also follow the plan as a floor
 * (plan_floor: a mix).
 * Limits, in order: the cool-downs of the reactive policy (no scale-up
 * sooner than up_cooldown_s after the last change, no scale-down sooner
 * than down_cooldown_s after it: Kubernetes' 300 s stabilisation window
 * by default; a plan or a forecast is followed as it is), the step
 * limits, then [min, max]. */
#ifndef AUTOSCALE_H
#define AUTOSCALE_H

#include <stdbool.h>
#include <stdint.h>

#define AS_MAX_PLAN 48

typedef enum { AS_NONE, AS_REACTIVE, AS_SCHEDULED, AS_PREDICTIVE } as_policy;
/* Names in enum order, NULL-terminated: "none", "reactive", "scheduled", "predictive". */
extern const char *const as_policy_names[];

/* One entry of a daily plan: from hour at_h (of a 24 h day) on, replicas. */
typedef struct {
  double at_h;
  int64_t replicas;
} as_plan_step;

typedef struct {
  int policy;                       /* as_policy */
  int64_t min_replicas, max_replicas;
  double target, tolerance;         /* reactive */
  double up_cooldown_s, down_cooldown_s;
  int64_t max_step_up, max_step_down;  /* replicas per decision, 0: no limit */
  as_plan_step plan[AS_MAX_PLAN];   /* scheduled (or a floor), sorted by at_h */
  int nplan;
  bool plan_floor;                  /* reactive, predictive: the plan is a floor */
  double per_replica_rate, utilization;  /* predictive */
} as_cfg;

/* What one decision carries to the next. */
typedef struct {
  double last_change_s;             /* time of the last change (-inf: none yet) */
} as_state;

void as_state_init(as_state *st);

/* Reactive: replicas for `current` ready ones whose metric reads `value`
 * against `target` (> 0), tolerance tol (0.1: within 10% no change).
 * current 0 with a positive value gives 1. */
int64_t as_reactive(int64_t current, double value, double target, double tol);
/* Predictive: replicas for a peak rate (1/s) when one replica carries
 * per_replica_rate at `utilization` (both > 0). */
int64_t as_predictive(double peak_rate, double per_replica_rate, double utilization);
/* Scheduled: the plan's replicas at time t_s (s from the start, day 0
 * beginning at 0); before the first entry of a day, the day's last
 * entry (the plan repeats). -1 for an empty plan. */
int64_t as_scheduled(const as_plan_step *plan, int n, double t_s);
/* A decision at now_s for a pool of `current` replicas (ready or on the
 * way, not draining): `wanted` is what the policy asked (as_reactive,
 * as_predictive or as_scheduled); the plan's floor, cool-downs, step
 * limits and [min, max] applied. Updates st when it changes anything. */
int64_t as_decide(const as_cfg *c, as_state *st, double now_s, int64_t current, int64_t wanted);
/* A plan is sorted, in [0, 24) h, with replicas >= 0: NULL, or what is wrong. */
const char *as_plan_check(const as_plan_step *plan, int n);

#endif
