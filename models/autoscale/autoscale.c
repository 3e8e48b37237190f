/* models/autoscale/autoscale.c: the autoscaling decisions (see
 * autoscale.h): the policies' arithmetic and the limits. */
#include "models/autoscale/autoscale.h"

#include <math.h>

#include "sim/util.h"

const char *const as_policy_names[] = {"none", "reactive", "scheduled", "predictive", NULL};

void as_state_init(as_state *st)
{
  st->last_change_s = -INFINITY;
}

int64_t as_reactive(int64_t current, double value, double target, double tol)
{
  if (!(target > 0) || !(value >= 0) || current < 0) SIM_BUG("as_reactive: %g against %g", value, target);
  double ratio = value / target;
  if (current == 0) return value > 0 ? 1 : 0;
  if (fabs(ratio - 1) <= tol) return current;
  /* Kubernetes: ceil(current x ratio); a hair above an integer from
   * rounding is that integer */
  double want = ceil((double)current * ratio - 1e-9);
  return want > 1e12 ? (int64_t)1e12 : (int64_t)want;
}

int64_t as_predictive(double peak_rate, double per_replica_rate, double utilization)
{
  if (!(per_replica_rate > 0) || !(utilization > 0) || !(peak_rate >= 0))
    SIM_BUG("as_predictive: %g / (%g x %g)", peak_rate, per_replica_rate, utilization);
  double want = ceil(peak_rate / (per_replica_rate * utilization) - 1e-9);
  return want > 1e12 ? (int64_t)1e12 : (int64_t)want;
}

int64_t as_scheduled(const as_plan_step *plan, int n, double t_s)
{
  if (n <= 0) return -1;
  double h = fmod(t_s / 3600.0, 24.0);
  int64_t v = plan[n - 1].replicas;
  for (int i = 0; i < n && plan[i].at_h <= h; i++) v = plan[i].replicas;
  return v;
}

int64_t as_decide(const as_cfg *c, as_state *st, double now_s, int64_t current, int64_t wanted)
{
  int64_t want = wanted;
  if (c->nplan > 0 && (c->policy == AS_SCHEDULED || c->plan_floor)) {
    int64_t floor = as_scheduled(c->plan, c->nplan, now_s);
    if (c->policy == AS_SCHEDULED || floor > want) want = floor;
  }
  if (want > c->max_replicas) want = c->max_replicas;
  if (want < c->min_replicas) want = c->min_replicas;
  /* cool-downs damp a reactive loop; a plan or a forecast is followed as
   * it is; out of bounds, no cool-down holds a pool there */
  bool out = c->policy != AS_REACTIVE || current < c->min_replicas || current > c->max_replicas;
  if (want > current) {
    if (!out && now_s - st->last_change_s < c->up_cooldown_s) return current;
    if (c->max_step_up > 0 && want - current > c->max_step_up) want = current + c->max_step_up;
  } else if (want < current) {
    if (!out && now_s - st->last_change_s < c->down_cooldown_s) return current;
    if (c->max_step_down > 0 && current - want > c->max_step_down) want = current - c->max_step_down;
  }
  /* the bounds win over the limits (a pool below its minimum grows at once) */
  if (want > c->max_replicas) want = c->max_replicas;
  if (want < c->min_replicas) want = c->min_replicas;
  if (want != current) st->last_change_s = now_s;
  return want;
}

const char *as_plan_check(const as_plan_step *plan, int n)
{
  for (int i = 0; i < n; i++) {
    if (!(plan[i].at_h >= 0 && plan[i].at_h < 24)) return "at_h outside [0, 24)";
    if (plan[i].replicas < 0) return "negative replicas";
    if (i > 0 && !(plan[i].at_h > plan[i - 1].at_h)) return "entries not in increasing at_h";
  }
  return NULL;
}
