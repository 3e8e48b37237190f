/* models/training/train_run.c: a whole training run from its iteration
 * (iterations, wall-clock time, GPU-hours, energy at board power, cost) and
 * the first-order cost of failures and checkpoints (Young 1974; Daly 2006;
 * the formulas are in train.h). Pure arithmetic; owns nothing. */
#include <math.h>

#include "models/cost/cost.h"
#include "models/training/train.h"

void train_run(const train_job *j, const train_step_result *step, double train_tokens,
               double usd_per_gpu_hour, train_run_result *o)
{
  int gpus = train_job_gpus(j);
  o->iterations = ceil(train_tokens / step->tokens);
  o->time_s = o->iterations * step->iteration_s;
  o->days = o->time_s / 86400;
  o->gpu_hours = o->time_s * gpus / 3600;
  /* every GPU at TDP for the whole run: an upper bound (cost.h, u = 1) */
  o->energy_kwh = cost_gpu_power_w(j->gpu->idle_w, j->gpu->tdp_w, 1) * o->gpu_hours / 1000;
  o->cost_usd = usd_per_gpu_hour > 0 ? cost_rental_usd(gpus, o->time_s / 3600, usd_per_gpu_hour) : NAN;
  o->model_flops = o->iterations * step->model_flops;
}

static bool no_failures(const train_failures *f) { return !(f->mtbf_gpu_s > 0) || isinf(f->mtbf_gpu_s); }

double train_job_mtbf_s(const train_failures *f, int gpus)
{
  return no_failures(f) ? INFINITY : f->mtbf_gpu_s / (gpus > 0 ? gpus : 1);
}

double train_lost_per_failure_s(const train_failures *f)
{
  return (f->checkpoint_interval_s + f->checkpoint_s) / 2 + f->restart_s;
}

double train_effective_fraction(const train_failures *f, int gpus)
{
  double M = train_job_mtbf_s(f, gpus);
  double w = f->checkpoint_interval_s > 0 ? f->checkpoint_s / f->checkpoint_interval_s : 0;
  if (!isinf(M)) w += train_lost_per_failure_s(f) / M;
  return w >= 1 ? 0 : 1 - w;
}

double train_young_interval_s(const train_failures *f, int gpus)
{
  return sqrt(2 * f->checkpoint_s * train_job_mtbf_s(f, gpus));
}

double train_time_with_failures_s(const train_failures *f, int gpus, double failure_free_s)
{
  double e = train_effective_fraction(f, gpus);
  return e > 0 ? failure_free_s / e : INFINITY;
}
