/* models/training/jobs_sim.c: the shared cluster's simulation (see
 * jobs.h). Events: a job is submitted, a job ends, a job's GPUs fail.
 * After each, the scheduler starts what the policy allows:
 *   fifo, priority, sjf  the queue in that order; the first job that does
 *                        not fit blocks the others (no overtaking);
 *   backfill             EASY (Lifka 1995; Mu'alem & Feitelson 2001): FIFO,
 *                        and when the head does not fit it gets a
 *                        reservation at the earliest time the declared end
 *                        times of running jobs free enough GPUs for it
 *                        (placement included); a later job may start now if
 *                        it fits and either ends (as declared) by then or
 *                        leaves the head's reservation intact.
 * Placement: a job's GPUs come in groups (its tensor-parallel group, or
 * whole nodes) that must each sit in one node; groups go to the node with
 * the fewest free GPUs that still holds them (best fit), which keeps whole
 * nodes free for large jobs.
 * Failures: a running job of n GPUs fails at rate n / MTBF (exponential);
 * it loses the work since its last completed checkpoint (checkpoints of
 * checkpoint_s every checkpoint_interval_s of work) and holds its GPUs for
 * restart_s before resuming (the failed GPU swapped for a spare). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "models/autoscale/autoscale.h"
#include "models/cost/cost.h"
#include "models/training/jobs_int.h"
#include "sim/rng.h"
#include "sim/stats.h"
#include "sim/util.h"

enum { JOB_WAITING, JOB_RUNNING, JOB_DONE };

typedef struct {
  jobs_spec spec;
  char name[64];
  int64_t group, ngroups;
  int *node_of_group;        /* while running */
  int state;
  sim_time submit, start, end;
  sim_time reserved;         /* first reservation as backfill head; -1 none */
  double work_left;          /* s of work not yet checkpointed */
  sim_time seg_start;        /* the current run segment (after a start or restart) */
  sim_event_id end_ev, fail_ev;
  int failures, preemptions;
  bool started;              /* once: its wait is measured at the first start */
  double lost_s;             /* work lost to failures and preemptions, s */
  double busy_s;             /* wall time holding GPUs */
} job;

typedef struct {
  const jobs_params *p;
  sim_engine *eng;
  gsl_rng *rng_fail;
  job *jobs;
  int njobs;
  int64_t *free_gpus;        /* per node */
  int64_t total, busy;
  int *waiting;              /* job indices, submission order */
  int nwaiting;
  int running;
  double tau, delta;         /* checkpoint interval and write time (0: none) */
  cost_energy energy;
  double busy_area;          /* GPU-seconds held */
  sim_time busy_last;
  sim_table *ts, *jt;
  sim_event_id tick_ev;
  double tick_area;          /* busy_area at the last tick */
  int done;
  uint64_t failures, violations, preemptions;
  bool *reserved;            /* per node: held by the serving pool */
  int64_t serving_nodes;
  double lost_gpu_s, useful_gpu_s;
  sim_quantiles wait;
  double wait_sum;
} jobs_sim;

static void on_end(sim_engine *eng, void *ctx, uint64_t arg);
static void on_fail(sim_engine *eng, void *ctx, uint64_t arg);
static void schedule(jobs_sim *s);

/* ---- placement ---- */

/* Place job j's groups on `free` (modified on success); nodes chosen into
 * out (may be NULL). False, with free unchanged, if they do not fit. */
static bool place(const jobs_sim *s, const job *j, int64_t *free_gpus, int *out)
{
  int64_t gpn = s->p->gpus_per_node, nodes = s->p->nodes;
  int *chosen = xmalloc((size_t)j->ngroups * sizeof *chosen);
  int64_t g;
  for (g = 0; g < j->ngroups; g++) {
    int best = -1;
    for (int64_t n = 0; n < nodes; n++) {
      int64_t f = free_gpus[n];
      if (j->spec.whole_nodes ? f != gpn : f < j->group) continue;
      if (best < 0 || f < free_gpus[best]) best = (int)n;
    }
    if (best < 0) break;
    free_gpus[best] -= j->group;
    chosen[g] = best;
  }
  bool ok = g == j->ngroups;
  for (int64_t k = 0; k < g; k++)
    if (!ok) free_gpus[chosen[k]] += j->group;
  if (ok && out) memcpy(out, chosen, (size_t)j->ngroups * sizeof *chosen);
  free(chosen);
  return ok;
}

/* ---- running a job ---- */

static void busy_change(jobs_sim *s, int64_t d)
{
  sim_time now = sim_now(s->eng);
  s->busy_area += (double)s->busy * sim_time_to_s(now - s->busy_last);
  s->busy_last = now;
  s->busy += d;
  cost_energy_set_util(&s->energy, now, (double)s->busy / (double)s->total);
}

/* Wall time to do w seconds of work, with a checkpoint after every tau. */
static double wall_for(const jobs_sim *s, double w)
{
  if (s->delta <= 0) return w;
  double n = floor(w / s->tau);
  if (n * s->tau >= w) n -= 1; /* no checkpoint at the very end */
  return w + (n > 0 ? n : 0) * s->delta;
}

/* Start (or resume after a restart delay) job i's current segment. */
static void run_segment(jobs_sim *s, int i, double delay_s)
{
  job *j = &s->jobs[i];
  sim_time now = sim_now(s->eng);
  j->seg_start = now + sim_time_from_s(delay_s);
  double wall = delay_s + wall_for(s, j->work_left);
  j->end_ev = sim_schedule_at(s->eng, now + sim_time_from_s(wall), on_end, s, (uint64_t)i);
  j->fail_ev = 0;
  if (s->p->failures.mtbf_gpu_h > 0) {
    double rate = (double)j->spec.gpus / (s->p->failures.mtbf_gpu_h * 3600.0);
    double t = gsl_ran_exponential(s->rng_fail, 1.0 / rate);
    if (t < wall) j->fail_ev = sim_schedule_at(s->eng, now + sim_time_from_s(t), on_fail, s, (uint64_t)i);
  }
}

static void start_job(jobs_sim *s, int i, const int *nodes)
{
  job *j = &s->jobs[i];
  sim_time now = sim_now(s->eng);
  j->node_of_group = xmalloc((size_t)j->ngroups * sizeof *j->node_of_group);
  memcpy(j->node_of_group, nodes, (size_t)j->ngroups * sizeof *nodes);
  j->state = JOB_RUNNING;
  bool resumed = j->started;
  if (!j->started) {
    j->started = true;
    j->start = now;
    if (j->reserved >= 0 && now > j->reserved) s->violations++;
    double w = sim_time_to_s(now - j->submit);
    sim_quantiles_add(&s->wait, w);
    s->wait_sum += w;
  }
  s->running++;
  busy_change(s, j->spec.gpus);
  /* a preempted job reloads its checkpoint first */
  run_segment(s, i, resumed ? s->p->failures.restart_s : 0);
}

static void release(jobs_sim *s, job *j)
{
  for (int64_t g = 0; g < j->ngroups; g++) s->free_gpus[j->node_of_group[g]] += j->group;
  free(j->node_of_group);
  j->node_of_group = NULL;
}

static void job_row(jobs_sim *s, const job *j)
{
  if (!s->jt) return;
  static const char *const kinds[] = {"training", "finetune", "inference"};
  double gh = (double)j->spec.gpus * sim_time_to_s(j->end - j->start) / 3600.0;
  sim_cell c[] = {{j->name, 0},
                  {kinds[j->spec.kind], 0},
                  {NULL, (double)j->spec.gpus},
                  {NULL, sim_time_to_s(j->submit)},
                  {NULL, sim_time_to_s(j->start)},
                  {NULL, sim_time_to_s(j->end)},
                  {NULL, sim_time_to_s(j->start - j->submit)},
                  {NULL, j->reserved >= 0 ? sim_time_to_s(j->reserved) : NAN},
                  {NULL, (double)j->failures},
                  {NULL, j->lost_s},
                  {NULL, gh},
                  {NULL, gh * s->p->price}};
  sim_table_row(s->jt, c);
}

static void on_end(sim_engine *eng, void *ctx, uint64_t arg)
{
  jobs_sim *s = ctx;
  job *j = &s->jobs[arg];
  if (j->fail_ev) sim_cancel(eng, j->fail_ev);
  j->end = sim_now(eng);
  j->state = JOB_DONE;
  j->busy_s = sim_time_to_s(j->end - j->start);
  s->useful_gpu_s += (double)j->spec.gpus * j->spec.duration_s;
  release(s, j);
  busy_change(s, -j->spec.gpus);
  s->running--;
  s->done++;
  job_row(s, j);
  schedule(s);
}

/* Job j stops now: the work since its last checkpoint is lost; what the
 * checkpoints saved is taken off its remaining work. */
static void stop_segment(jobs_sim *s, job *j)
{
  double e = sim_time_to_s(sim_now(s->eng) - j->seg_start);
  if (e < 0) e = 0; /* stopped while restarting */
  double saved = 0, done = e;
  if (s->delta > 0 || s->p->failures.mtbf_gpu_h > 0 || s->p->nserving > 0 || s->p->autoscale.present) {
    double cycle = s->tau + s->delta, cycles = floor(e / cycle), rem = e - cycles * cycle;
    done = cycles * s->tau + (rem < s->tau ? rem : s->tau);
    saved = cycles * s->tau;
  }
  if (done > j->work_left) done = j->work_left;
  if (saved > j->work_left) saved = j->work_left;
  j->work_left -= saved;
  j->lost_s += done - saved;
  s->lost_gpu_s += (done - saved) * (double)j->spec.gpus;
}

static void on_fail(sim_engine *eng, void *ctx, uint64_t arg)
{
  jobs_sim *s = ctx;
  job *j = &s->jobs[arg];
  sim_cancel(eng, j->end_ev);
  stop_segment(s, j);
  j->failures++;
  s->failures++;
  run_segment(s, (int)arg, s->p->failures.restart_s);
}

/* ---- the queue ---- */

static const jobs_sim *sort_ctx;

static double declared(const job *j) { return j->spec.estimate_s > 0 ? j->spec.estimate_s : j->spec.duration_s; }

static int by_policy(const void *a, const void *b)
{
  const job *x = &sort_ctx->jobs[*(const int *)a], *y = &sort_ctx->jobs[*(const int *)b];
  switch ((jobs_policy)sort_ctx->p->policy) {
  case JOBS_PRIORITY:
    if (x->spec.priority != y->spec.priority) return x->spec.priority > y->spec.priority ? -1 : 1;
    break;
  case JOBS_SJF:
    if (declared(x) != declared(y)) return declared(x) < declared(y) ? -1 : 1;
    break;
  default: break;
  }
  if (x->submit != y->submit) return x->submit < y->submit ? -1 : 1;
  return *(const int *)a < *(const int *)b ? -1 : 1;
}

/* Declared end of a running job. */
static sim_time declared_end(const jobs_sim *s, const job *j)
{
  (void)s;
  return j->start + sim_time_from_s(declared(j));
}

static const jobs_sim *end_ctx;
static int by_declared_end(const void *a, const void *b)
{
  const job *x = &end_ctx->jobs[*(const int *)a], *y = &end_ctx->jobs[*(const int *)b];
  sim_time ex = declared_end(end_ctx, x), ey = declared_end(end_ctx, y);
  if (ex != ey) return ex < ey ? -1 : 1;
  return *(const int *)a < *(const int *)b ? -1 : 1;
}

/* The head's reservation: the earliest declared end of running jobs after
 * which it fits, and the free GPUs then (into at_shadow). */
static sim_time reservation(jobs_sim *s, const job *head, int64_t *at_shadow)
{
  int n = 0;
  int *run = xmalloc((size_t)s->njobs * sizeof *run);
  for (int i = 0; i < s->njobs; i++)
    if (s->jobs[i].state == JOB_RUNNING) run[n++] = i;
  end_ctx = s;
  qsort(run, (size_t)n, sizeof *run, by_declared_end);
  memcpy(at_shadow, s->free_gpus, (size_t)s->p->nodes * sizeof *at_shadow);
  sim_time shadow = SIM_TIME_MAX, now = sim_now(s->eng);
  int64_t *probe = xmalloc((size_t)s->p->nodes * sizeof *probe);
  for (int k = 0; k < n; k++) {
    const job *r = &s->jobs[run[k]];
    for (int64_t g = 0; g < r->ngroups; g++) at_shadow[r->node_of_group[g]] += r->group;
    /* jobs ending at the same moment free their GPUs together */
    if (k + 1 < n && declared_end(s, &s->jobs[run[k + 1]]) == declared_end(s, r)) continue;
    memcpy(probe, at_shadow, (size_t)s->p->nodes * sizeof *probe);
    if (place(s, head, probe, NULL)) {
      shadow = declared_end(s, r);
      if (shadow < now) shadow = now; /* overran its declaration: could end any time */
      break;
    }
  }
  free(probe);
  free(run);
  return shadow;
}

static void remove_waiting(jobs_sim *s, int i)
{
  for (int k = 0; k < s->nwaiting; k++)
    if (s->waiting[k] == i) {
      memmove(&s->waiting[k], &s->waiting[k + 1], (size_t)(s->nwaiting - k - 1) * sizeof *s->waiting);
      s->nwaiting--;
      return;
    }
}

static void schedule(jobs_sim *s)
{
  if (s->nwaiting == 0) return;
  int n = s->nwaiting;
  int *order = xmalloc((size_t)n * sizeof *order);
  memcpy(order, s->waiting, (size_t)n * sizeof *order);
  sort_ctx = s;
  qsort(order, (size_t)n, sizeof *order, by_policy);
  int *nodes = xmalloc((size_t)(s->total + 1) * sizeof *nodes);
  int64_t *probe = xmalloc((size_t)s->p->nodes * sizeof *probe);
  int k = 0;
  /* start jobs in order while they fit */
  for (; k < n; k++) {
    job *j = &s->jobs[order[k]];
    if (!place(s, j, s->free_gpus, nodes)) break;
    remove_waiting(s, order[k]);
    start_job(s, order[k], nodes);
  }
  if (k < n && s->p->policy == JOBS_BACKFILL) {
    job *head = &s->jobs[order[k]];
    int64_t *at_shadow = xmalloc((size_t)s->p->nodes * sizeof *at_shadow);
    sim_time shadow = reservation(s, head, at_shadow);
    if (head->reserved < 0 && shadow != SIM_TIME_MAX) head->reserved = shadow;
    sim_time now = sim_now(s->eng);
    for (int b = k + 1; b < n; b++) {
      job *j = &s->jobs[order[b]];
      memcpy(probe, s->free_gpus, (size_t)s->p->nodes * sizeof *probe);
      if (!place(s, j, probe, nodes)) continue;
      bool ok = shadow != SIM_TIME_MAX && now + sim_time_from_s(declared(j)) <= shadow;
      if (!ok) {
        /* it outlasts the reservation: the head must still fit beside it */
        int64_t *after = xmalloc((size_t)s->p->nodes * sizeof *after);
        memcpy(after, at_shadow, (size_t)s->p->nodes * sizeof *after);
        bool room = true;
        for (int64_t g = 0; g < j->ngroups; g++) {
          after[nodes[g]] -= j->group;
          if (after[nodes[g]] < 0) room = false;
        }
        ok = room && place(s, head, after, NULL);
        if (ok)
          for (int64_t g = 0; g < j->ngroups; g++) at_shadow[nodes[g]] -= j->group;
        free(after);
      }
      if (!ok) continue;
      place(s, j, s->free_gpus, nodes);
      remove_waiting(s, order[b]);
      start_job(s, order[b], nodes);
    }
    free(at_shadow);
  }
  free(probe);
  free(nodes);
  free(order);
}

static void on_submit(sim_engine *eng, void *ctx, uint64_t arg)
{
  jobs_sim *s = ctx;
  job *j = &s->jobs[arg];
  j->submit = sim_now(eng);
  s->waiting[s->nwaiting++] = (int)arg;
  schedule(s);
}

/* ---- the serving pool: whole nodes with priority over jobs ---- */

static int64_t reserved_count(const jobs_sim *s)
{
  int64_t n = 0;
  for (int64_t k = 0; k < s->p->nodes; k++) n += s->reserved[k];
  return n;
}

/* Stop running job i to give its GPUs back: it waits again (keeping its
 * place in the queue) and reloads its last checkpoint when restarted. */
static void preempt(jobs_sim *s, int i)
{
  job *j = &s->jobs[i];
  sim_cancel(s->eng, j->end_ev);
  if (j->fail_ev) sim_cancel(s->eng, j->fail_ev);
  j->fail_ev = 0;
  stop_segment(s, j);
  release(s, j);
  busy_change(s, -j->spec.gpus);
  j->state = JOB_WAITING;
  j->preemptions++;
  s->preemptions++;
  s->running--;
  s->waiting[s->nwaiting++] = i;
}

/* The serving pool holds `want` whole nodes from now on. */
static void set_serving_nodes(jobs_sim *s, int64_t want)
{
  const jobs_params *p = s->p;
  int64_t gpn = p->gpus_per_node;
  /* fewer: give nodes back */
  for (int64_t k = p->nodes - 1; k >= 0 && reserved_count(s) > want; k--)
    if (s->reserved[k]) {
      s->reserved[k] = false;
      s->free_gpus[k] = gpn;
      busy_change(s, -gpn);
    }
  /* more: free nodes first, then preempt the lowest priority, latest started */
  while (reserved_count(s) < want) {
    int64_t node = -1;
    for (int64_t k = 0; k < p->nodes && node < 0; k++)
      if (!s->reserved[k] && s->free_gpus[k] == gpn) node = k;
    if (node >= 0) {
      s->reserved[node] = true;
      s->free_gpus[node] = 0;
      busy_change(s, gpn);
      continue;
    }
    int victim = -1;
    for (int i = 0; i < s->njobs; i++) {
      const job *j = &s->jobs[i];
      if (j->state != JOB_RUNNING) continue;
      const job *v = victim >= 0 ? &s->jobs[victim] : NULL;
      if (!v || j->spec.priority < v->spec.priority ||
          (j->spec.priority == v->spec.priority && j->seg_start > v->seg_start))
        victim = i;
    }
    if (victim < 0) SIM_BUG("serving wants %lld nodes and no job holds any", (long long)want);
    preempt(s, victim);
  }
  s->serving_nodes = want;
  schedule(s);
}

static void on_serving(sim_engine *eng, void *ctx, uint64_t arg)
{
  jobs_sim *s = ctx;
  set_serving_nodes(s, s->p->serving[arg].nodes);
}

/* Autoscaling: nodes for the peak rate of the next interval. */
static void on_autoscale(sim_engine *eng, void *ctx, uint64_t arg)
{
  jobs_sim *s = ctx;
  const jobs_params *p = s->p;
  double t = sim_time_to_s(sim_now(eng)), dt = p->autoscale.interval_s;
  int64_t want = 0;
  if (t < p->autoscale.until_s) {
    double peak = wl_rate_bound(&p->autoscale.rate, t, t + dt);
    want = as_predictive(peak, p->autoscale.per_node_rate, p->autoscale.utilization);
    if (want < p->autoscale.min_nodes) want = p->autoscale.min_nodes;
    if (want > p->nodes) want = p->nodes;
    sim_schedule_in(eng, sim_time_from_s(dt), on_autoscale, s, 0);
  }
  set_serving_nodes(s, want);
}

/* ---- time series ---- */

static const char *const ts_columns[] = {"time_s", "gpus_busy", "utilization", "queue_length", "running_jobs",
                                         "completed_jobs", "serving_gpus"};

/* x within [lo, hi]: shares and counts that rounding in sums of GPU-seconds
 * can push a few ulp past what the cluster holds. */
static double clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

static void write_tick(jobs_sim *s, sim_time now, sim_time from)
{
  if (!s->ts || now <= from) return;
  double area = s->busy_area + (double)s->busy * sim_time_to_s(now - s->busy_last);
  double last_area = s->tick_area;
  double dt = sim_time_to_s(now - from), total = (double)s->total;
  double busy = clamp((area - last_area) / dt, 0, total);
  sim_cell c[] = {{NULL, sim_time_to_s(from)},
                  {NULL, busy},
                  {NULL, busy / total},
                  {NULL, (double)s->nwaiting},
                  {NULL, (double)s->running},
                  {NULL, (double)s->done},
                  {NULL, (double)(s->serving_nodes * s->p->gpus_per_node)}};
  s->tick_area = area;
  sim_table_row(s->ts, c);
}

static void on_tick(sim_engine *eng, void *ctx, uint64_t arg)
{
  jobs_sim *s = ctx;
  sim_time now = sim_now(eng), step = sim_time_from_s(s->p->interval_s);
  write_tick(s, now, now - step);
  s->tick_ev = 0;
  if (s->done < s->njobs) s->tick_ev = sim_schedule_in(eng, step, on_tick, s, 0);
}

/* ---- set-up ---- */

static void add_job(jobs_sim *s, const jobs_spec *spec, const char *name)
{
  s->jobs = xrealloc(s->jobs, (size_t)(s->njobs + 1) * sizeof *s->jobs);
  job *j = &s->jobs[s->njobs];
  memset(j, 0, sizeof *j);
  j->spec = *spec;
  snprintf(j->name, sizeof j->name, "%s", name);
  j->group = jobs_group_size(spec, s->p->gpus_per_node);
  j->ngroups = spec->gpus / j->group;
  j->reserved = -1;
  j->work_left = spec->duration_s;
  s->njobs++;
}

void *jobs_create(const void *params, const sim_component_env *env)
{
  const jobs_params *p = params;
  jobs_sim *s = xcalloc(1, sizeof *s);
  s->p = p;
  s->eng = env->eng;
  s->total = p->nodes * p->gpus_per_node;
  s->free_gpus = xmalloc((size_t)p->nodes * sizeof *s->free_gpus);
  for (int64_t n = 0; n < p->nodes; n++) s->free_gpus[n] = p->gpus_per_node;
  s->reserved = xcalloc((size_t)p->nodes, sizeof *s->reserved);
  s->rng_fail = sim_rng_alloc(env->seed, "jobs.failures");
  s->tau = p->failures.checkpoint_interval_s;
  s->delta = p->failures.checkpoint_s;
  sim_quantiles_init(&s->wait, SIM_QUANTILE_EXACT_DEFAULT);
  cost_energy_init(&s->energy, (double)s->total, p->g->idle_w, p->g->tdp_w, 0, 0);
  for (int i = 0; i < p->nlist; i++) {
    char name[64];
    if (*p->list[i].name)
      snprintf(name, sizeof name, "%s", p->list[i].name);
    else
      snprintf(name, sizeof name, "job%d", i);
    add_job(s, &p->list[i], name);
  }
  if (p->random.rate_per_hour > 0) {
    gsl_rng *r = sim_rng_alloc(env->seed, "jobs.random");
    double t = 0, sigma2 = log(1 + p->random.duration_cv * p->random.duration_cv);
    double mu = log(p->random.mean_duration_s) - sigma2 / 2;
    for (int k = 0;; k++) {
      t += gsl_ran_exponential(r, 3600.0 / p->random.rate_per_hour);
      if (t >= p->random.until_s) break;
      jobs_spec sp = {0};
      sp.gpus = (int64_t)p->random.gpus[gsl_rng_uniform_int(r, (unsigned long)p->random.ngpus)];
      sp.whole_nodes = sp.gpus >= p->gpus_per_node && sp.gpus % p->gpus_per_node == 0;
      sp.kind = gsl_rng_uniform(r) < p->random.training_share ? JOBS_TRAINING : JOBS_INFERENCE;
      sp.duration_s = gsl_ran_lognormal(r, mu, sqrt(sigma2));
      sp.arrival_s = t;
      char name[64];
      snprintf(name, sizeof name, "random%d", k);
      add_job(s, &sp, name);
    }
    gsl_rng_free(r);
  }
  s->waiting = xmalloc((size_t)(s->njobs + 1) * sizeof *s->waiting);
  /* serving changes come before jobs submitted at the same time */
  for (int i = 0; i < p->nserving; i++)
    sim_schedule_at(s->eng, sim_time_from_s(p->serving[i].start_s), on_serving, s, (uint64_t)i);
  if (p->autoscale.present) sim_schedule_at(s->eng, 0, on_autoscale, s, 0);
  for (int i = 0; i < s->njobs; i++)
    sim_schedule_at(s->eng, sim_time_from_s(s->jobs[i].spec.arrival_s), on_submit, s, (uint64_t)i);
  if (env->open_table) {
    s->ts = env->open_table(env, "timeseries", ts_columns, sizeof ts_columns / sizeof ts_columns[0]);
    static const char *const cols[] = {"job", "kind", "gpus", "submit_s", "start_s", "end_s", "wait_s",
                                       "reserved_s", "failures", "lost_work_s", "gpu_hours", "cost_usd"};
    s->jt = env->open_table(env, "jobs", cols, sizeof cols / sizeof cols[0]);
  }
  if (s->njobs > 0) s->tick_ev = sim_schedule_in(s->eng, sim_time_from_s(p->interval_s), on_tick, s, 0);
  return s;
}

void jobs_destroy(void *self)
{
  jobs_sim *s = self;
  for (int i = 0; i < s->njobs; i++) free(s->jobs[i].node_of_group);
  free(s->jobs);
  free(s->free_gpus);
  free(s->waiting);
  free(s->reserved);
  gsl_rng_free(s->rng_fail);
  sim_quantiles_release(&s->wait);
  free(s);
}

void jobs_report(void *self, sim_engine *eng, sim_report *rep)
{
  jobs_sim *s = self;
  const jobs_params *p = s->p;
  sim_time now = sim_now(eng), makespan = 0;
  for (int i = 0; i < s->njobs; i++)
    if (s->jobs[i].state == JOB_DONE && s->jobs[i].end > makespan) makespan = s->jobs[i].end;
  if (s->tick_ev) {
    sim_time step = sim_time_from_s(p->interval_s);
    write_tick(s, now, now - ((now % step) ? now % step : step));
  }
  busy_change(s, 0);
  double T = sim_time_to_s(now);
  static const char *const policies[] = {"fifo", "priority", "sjf", "backfill"};
  sim_report_str(rep, "policy", policies[p->policy], "scheduling policy");
  sim_report_str(rep, "gpu", p->g->name, "GPU");
  sim_report_int(rep, "cluster_gpus", s->total, "GPUs in the cluster");
  sim_report_int(rep, "jobs", s->njobs, "jobs submitted");
  sim_report_int(rep, "jobs_completed", s->done, "jobs completed");
  sim_report_int(rep, "jobs_waiting", s->nwaiting, "  still waiting at the end");
  sim_report_int(rep, "jobs_running", s->running, "  still running at the end");
  sim_report_num(rep, "makespan_s", sim_time_to_s(makespan), "last job's end (s)");
  uint64_t n = s->wait.n;
  sim_report_num(rep, "wait_mean_s", n ? s->wait_sum / (double)n : NAN, "queue wait, mean (s)");
  sim_report_num(rep, "wait_p50_s", sim_quantiles_get(&s->wait, 0.5), "  median (s)");
  sim_report_num(rep, "wait_p95_s", sim_quantiles_get(&s->wait, 0.95), "  p95 (s)");
  sim_report_num(rep, "wait_max_s", sim_quantiles_get(&s->wait, 1.0), "  max (s)");
  sim_report_num(rep, "utilization", T > 0 ? clamp(s->busy_area / ((double)s->total * T), 0, 1) : NAN,
                 "GPU time held (jobs and serving) / GPU time");
  sim_report_num(rep, "gpu_hours_used", s->busy_area / 3600.0, "GPU-hours held (jobs and serving)");
  double cluster_h = (double)s->total * T / 3600.0;
  sim_report_num(rep, "gpu_hours", cluster_h, "GPU-hours of the cluster over the run");
  sim_report_num(rep, "cost_usd", cluster_h * p->price, "cluster rental over the run (USD)");
  sim_report_num(rep, "energy_kwh", cost_energy_it_kwh(&s->energy, now), "GPU energy (kWh)");
  sim_report_int(rep, "failures", (int64_t)s->failures, "GPU failures hitting a job");
  sim_report_int(rep, "preemptions", (int64_t)s->preemptions, "jobs stopped to give nodes to serving");
  sim_report_int(rep, "serving_nodes_end", s->serving_nodes, "nodes held by serving at the end");
  sim_report_num(rep, "lost_work_gpu_hours", s->lost_gpu_s / 3600.0, "work lost to failures (GPU-hours)");
  sim_report_num(rep, "effective_fraction", s->busy_area > 0 ? clamp(s->useful_gpu_s / s->busy_area, 0, 1) : NAN,
                 "useful work / GPU time held (completed jobs)");
  sim_report_int(rep, "backfill_reservation_misses", (int64_t)s->violations,
                 "heads started after their first reservation (0 when run times are declared exactly)");
}
