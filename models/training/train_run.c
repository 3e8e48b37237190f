/* models/training/train_run.c: a whole training run from its iteration
 * (iterations, wall-clock time, GPU-hours, energy at board power, cost),
 * the first-order cost of failures and checkpoints (Young 1974; Daly 2006)
 * and the whole run as real ones go: ramp-up, evaluations, checkpoint
 * writes from the model's size, stragglers, failures on by default (the
 * formulas are in train.h). Pure arithmetic but for the ramp-up's
 * iterations (train_step); owns nothing. */
#include <math.h>
#include <stdio.h>

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

void train_whole_init(train_whole *w)
{
  *w = (train_whole){.eval_interval = TRAIN_DEFAULT_EVAL_INTERVAL, .eval_iters = TRAIN_DEFAULT_EVAL_ITERS,
                     .checkpoint_s = -1, .mtbf_gpu_h = TRAIN_DEFAULT_MTBF_GPU_H,
                     .restart_s = TRAIN_DEFAULT_RESTART_S, .straggler_jitter = TRAIN_DEFAULT_STRAGGLER_JITTER};
}

/* Time beyond the steady rate of `steps` iterations of `batch` sequences of
 * `seq` tokens: steps x their iteration - their tokens at the steady
 * seconds per token. NAN with msg when the job does not take that batch. */
static double ramp_stage(const train_job *j, const train_step_result *steady, int batch, int seq, double steps,
                         char *msg, size_t n)
{
  train_job r = *j;
  r.global_batch = batch;
  r.seq_len = seq;
  char why[256];
  const char *bad = train_job_check(&r, why, sizeof why);
  if (bad) {
    snprintf(msg, n, "%d sequences of %d tokens: %s", batch, seq, why);
    return NAN;
  }
  train_step_result st;
  train_step(&r, &st);
  return steps * (st.iteration_s - st.tokens * steady->iteration_s / steady->tokens);
}

/* The ramp-ups' time beyond the steady rate and their steps. */
static const char *ramp_up(const train_job *j, const train_step_result *step, const train_whole *w, double *extra_s,
                           double *steps, char *msg, size_t n)
{
  *extra_s = 0;
  *steps = 0;
  int unit = j->dp * j->micro_batch;
  if (w->ramp_batch_start > 0 || w->ramp_batch_increment > 0 || w->ramp_batch_samples > 0) {
    int s0 = w->ramp_batch_start, inc = w->ramp_batch_increment;
    if (s0 < 1 || s0 >= j->global_batch || s0 % unit)
      return snprintf(msg, n, "%d is not a batch below the global batch of %d and a multiple of dp x micro_batch "
                      "= %d (expected %d, %d, ...)", s0, j->global_batch, unit, unit, 2 * unit), "ramp_batch_start";
    if (inc < 1 || inc % unit || (j->global_batch - s0) % inc)
      return snprintf(msg, n, "%d does not step from %d to the global batch of %d in multiples of dp x micro_batch = "
                      "%d", inc, s0, j->global_batch, unit), "ramp_batch_increment";
    int k = (j->global_batch - s0) / inc;
    if (k > TRAIN_RAMP_MAX_STAGES)
      return snprintf(msg, n, "%d increments from %d to %d (expected at most %d: raise the increment)", k, s0,
                      j->global_batch, TRAIN_RAMP_MAX_STAGES), "ramp_batch_increment";
    if (!(w->ramp_batch_samples > 0))
      return snprintf(msg, n, "a batch ramp-up needs the sequences it lasts (> 0)"), "ramp_batch_samples";
    double per = w->ramp_batch_samples / k;
    for (int i = 0; i < k; i++) {
      int b = s0 + i * inc;
      double st = ceil(per / b);
      double x = ramp_stage(j, step, b, j->seq_len, st, msg, n);
      if (isnan(x)) return "ramp_batch_start";
      *extra_s += x;
      *steps += st;
    }
  }
  if (w->ramp_seq_start > 0 || w->ramp_seq_tokens > 0) {
    int s0 = w->ramp_seq_start, s1 = j->seq_len;
    if (s0 < 1 || s0 >= s1)
      return snprintf(msg, n, "%d tokens is not a warm-up length below seq_len %d (expected 1..%d)", s0, s1, s1 - 1),
             "ramp_seq_start";
    if (!(w->ramp_seq_tokens > 0))
      return snprintf(msg, n, "a sequence-length warm-up needs the tokens it lasts (> 0)"), "ramp_seq_tokens";
    /* linear in steps: the mean length is (s0 + s1) / 2 */
    double all = w->ramp_seq_tokens / ((double)j->global_batch * (s0 + s1) / 2);
    for (int i = 0; i < TRAIN_SEQ_RAMP_STAGES; i++) {
      double len = s0 + (s1 - s0) * (i + 0.5) / TRAIN_SEQ_RAMP_STAGES;
      int seq = (int)(floor(len / 8 + 0.5) * 8);
      if (seq < 8) seq = 8;
      if (seq > s1) seq = s1;
      double x = ramp_stage(j, step, j->global_batch, seq, all / TRAIN_SEQ_RAMP_STAGES, msg, n);
      if (isnan(x)) return "ramp_seq_start";
      *extra_s += x;
    }
    *steps += all;
  }
  return NULL;
}

/* Steps, evaluations and stragglers of one phase, added to o's work. */
void train_whole_add_phase(const train_job *j, const train_step_result *step, const train_run_result *run,
                           const train_whole *w, train_whole_result *o)
{
  o->failure_free_s += run->time_s;
  /* evaluation: the forward share of the iteration's compute-bound part */
  double fwd = step->hardware_flops > 0 ? step->model_flops / 3 / step->hardware_flops : 0;
  double eval_iteration_s = (step->compute_s + step->bubble_s + step->tp_comm_s + step->pp_comm_s) * fwd;
  if (!(o->eval_iteration_s > 0)) o->eval_iteration_s = eval_iteration_s;
  double evals = w->eval_interval > 0 ? floor(run->iterations / w->eval_interval) : 0;
  o->evals += evals;
  o->eval_s += evals * w->eval_iters * eval_iteration_s;
  o->straggler_s += (w->straggler_slowdown * step->compute_s + train_straggler_wait_s(j, step, w->straggler_jitter)) *
                    run->iterations;
  o->work_s = o->failure_free_s + o->ramp_up_s + o->eval_s + o->straggler_s;
}

void train_whole_failures(const train_job *j, const train_whole *w, train_whole_result *o)
{
  int gpus = train_job_gpus(j);
  o->checkpoint_bytes = TRAIN_CHECKPOINT_BYTES_PER_PARAM * llm_params(j->model);
  double host = j->gpu->host_link ? j->gpu->host_link->bw_gbs * 1e9 : 0;
  o->checkpoint_stage_s = host > 0 ? o->checkpoint_bytes / gpus / host : 0;
  double storage = (w->storage_gbps > 0 ? w->storage_gbps : TRAIN_STORAGE_GBPS_PER_GPU * gpus) * 1e9;
  o->checkpoint_write_s = o->checkpoint_bytes / storage;
  train_failures *f = &o->fl;
  *f = (train_failures){.mtbf_gpu_s = w->mtbf_gpu_h * 3600, .restart_s = w->restart_s};
  bool given = w->checkpoint_s >= 0;
  f->checkpoint_s = given ? w->checkpoint_s
                  : w->async_checkpoint ? o->checkpoint_stage_s : o->checkpoint_stage_s + o->checkpoint_write_s;
  f->checkpoint_interval_s = w->checkpoint_interval_s > 0 ? w->checkpoint_interval_s : train_young_interval_s(f, gpus);
  if (!isfinite(f->checkpoint_interval_s)) f->checkpoint_interval_s = 0; /* no failures: no checkpoints counted */
  if (!given && w->async_checkpoint && f->checkpoint_interval_s > 0 &&
      o->checkpoint_write_s > f->checkpoint_interval_s)
    f->checkpoint_s += o->checkpoint_write_s - f->checkpoint_interval_s;
  o->time_s = train_time_with_failures_s(f, gpus, o->work_s);
  double M = train_job_mtbf_s(f, gpus);
  o->checkpoint_time_s = f->checkpoint_interval_s > 0 ? o->time_s * f->checkpoint_s / f->checkpoint_interval_s : 0;
  o->failures = isinf(M) ? 0 : o->time_s / M;
  o->failure_time_s = isinf(M) ? 0 : o->time_s * train_lost_per_failure_s(f) / M;
}

const char *train_whole_run(const train_job *j, const train_step_result *step, const train_run_result *run,
                            const train_whole *w, train_whole_result *o, char *msg, size_t n)
{
  *o = (train_whole_result){0};
  if (w->eval_interval < 0 || w->eval_iters < 0)
    return snprintf(msg, n, "evaluation every %d iterations, %d iterations each (expected >= 0)", w->eval_interval,
                    w->eval_iters), "eval_interval";
  if (!(w->straggler_slowdown >= 0))
    return snprintf(msg, n, "slowdown %g (expected >= 0)", w->straggler_slowdown), "straggler_slowdown";
  if (!(w->straggler_jitter >= 0))
    return snprintf(msg, n, "jitter %g (expected >= 0)", w->straggler_jitter), "straggler_jitter";
  const char *bad = ramp_up(j, step, w, &o->ramp_up_s, &o->ramp_steps, msg, n);
  if (bad) return bad;
  train_whole_add_phase(j, step, run, w, o);
  train_whole_failures(j, w, o);
  return NULL;
}
