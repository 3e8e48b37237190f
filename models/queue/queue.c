/* models/queue/queue.c: the G/G/c FIFO queue (see queue.h) and its
 * component: scenario keys, checks, report. Waiting customers are a ring
 * buffer of arrival times; a departure event carries its customer's arrival
 * time as the event argument, so nothing is allocated per customer. */
#include "models/queue/queue.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_rng.h>

#include "models/queue/queue_theory.h"
#include "sim/rng.h"
#include "sim/util.h"

struct queue_model {
  queue_params p;
  sim_engine *eng;
  gsl_rng *rng_arrivals, *rng_service;
  uint64_t busy;
  sim_time *ring;          /* arrival times of waiting customers */
  uint64_t ring_head, ring_len, ring_cap;  /* cap: power of two */
  queue_stats st;
};

static void on_arrival(sim_engine *eng, void *ctx, uint64_t arg);
static void on_departure(sim_engine *eng, void *ctx, uint64_t arg);

static sim_time draw(const sim_dist *d, gsl_rng *r)
{
  return sim_time_from_s(sim_dist_sample(d, r));
}

static void start_service(queue_model *q, sim_time arrived_at)
{
  sim_time now = sim_now(q->eng);
  if (arrived_at >= sim_warmup_end(q->eng)) {
    double w = sim_time_to_s(now - arrived_at);
    sim_tally_add(&q->st.wait, w);
    if (now > arrived_at) q->st.waited++;
  }
  sim_schedule_in(q->eng, draw(&q->p.service, q->rng_service), on_departure, q,
                  (uint64_t)arrived_at);
}

static void ring_push(queue_model *q, sim_time t)
{
  if (q->ring_len == q->ring_cap) {
    uint64_t cap = q->ring_cap * 2;
    sim_time *r = xmalloc(cap * sizeof *r);
    for (uint64_t i = 0; i < q->ring_len; i++)
      r[i] = q->ring[(q->ring_head + i) & (q->ring_cap - 1)];
    free(q->ring);
    q->ring = r;
    q->ring_cap = cap;
    q->ring_head = 0;
  }
  q->ring[(q->ring_head + q->ring_len++) & (q->ring_cap - 1)] = t;
}

static sim_time ring_pop(queue_model *q)
{
  sim_time t = q->ring[q->ring_head];
  q->ring_head = (q->ring_head + 1) & (q->ring_cap - 1);
  q->ring_len--;
  return t;
}

static void on_arrival(sim_engine *eng, void *ctx, uint64_t arg)
{
  queue_model *q = ctx;
  sim_time now = sim_now(eng);
  q->st.arrived++;
  if (q->st.arrived < (uint64_t)q->p.customers)
    sim_schedule_in(eng, draw(&q->p.arrivals, q->rng_arrivals), on_arrival, q, 0);
  if (q->p.capacity > 0 && q->busy + q->ring_len >= (uint64_t)q->p.capacity) {
    q->st.rejected++;
    return;
  }
  if (!sim_in_warmup(eng)) q->st.measured++;
  if (q->busy < (uint64_t)q->p.servers) {
    q->busy++;
    sim_timeavg_set(&q->st.busy, now, (double)q->busy);
    start_service(q, now);
  } else {
    ring_push(q, now);
    sim_timeavg_set(&q->st.queue_len, now, (double)q->ring_len);
  }
}

static void on_departure(sim_engine *eng, void *ctx, uint64_t arrived_at)
{
  queue_model *q = ctx;
  sim_time now = sim_now(eng);
  q->st.completed++;
  if ((sim_time)arrived_at >= sim_warmup_end(eng))
    sim_tally_add(&q->st.sojourn, sim_time_to_s(now - (sim_time)arrived_at));
  if (q->ring_len > 0) {
    sim_time next = ring_pop(q);
    sim_timeavg_set(&q->st.queue_len, now, (double)q->ring_len);
    start_service(q, next);
  } else {
    q->busy--;
    sim_timeavg_set(&q->st.busy, now, (double)q->busy);
  }
}

static void on_warmup_end(void *ctx, sim_time now)
{
  queue_model *q = ctx;
  sim_timeavg_reset(&q->st.queue_len, now);
  sim_timeavg_reset(&q->st.busy, now);
}

queue_model *queue_alloc(const queue_params *p, sim_engine *eng, uint64_t seed,
                         const char *name)
{
  queue_model *q = xcalloc(1, sizeof *q);
  char stream[256];
  q->p = *p;
  q->eng = eng;
  snprintf(stream, sizeof stream, "%s.arrivals", name);
  q->rng_arrivals = sim_rng_alloc(seed, stream);
  snprintf(stream, sizeof stream, "%s.service", name);
  q->rng_service = sim_rng_alloc(seed, stream);
  q->ring_cap = 1024;
  q->ring = xmalloc(q->ring_cap * sizeof *q->ring);
  sim_tally_init(&q->st.wait, SIM_QUANTILE_EXACT_DEFAULT);
  sim_tally_init(&q->st.sojourn, SIM_QUANTILE_EXACT_DEFAULT);
  sim_timeavg_init(&q->st.queue_len, sim_now(eng), 0);
  sim_timeavg_init(&q->st.busy, sim_now(eng), 0);
  sim_on_warmup_end(eng, on_warmup_end, q);
  if (p->customers > 0)
    sim_schedule_in(eng, draw(&q->p.arrivals, q->rng_arrivals), on_arrival, q, 0);
  return q;
}

void queue_free(queue_model *q)
{
  if (!q) return;
  gsl_rng_free(q->rng_arrivals);
  gsl_rng_free(q->rng_service);
  free(q->ring);
  sim_tally_release(&q->st.wait);
  sim_tally_release(&q->st.sojourn);
  free(q);
}

queue_stats *queue_stats_of(queue_model *q) { return &q->st; }

uint64_t queue_in_system(const queue_model *q) { return q->busy + q->ring_len; }

/* ---- the component: scenario section `queue` ---- */

static const sim_key queue_keys[] = {
  {.name = "servers", .kind = SIM_KEY_INT, .offset = offsetof(queue_params, servers),
   .required = true, .min = 1, .max = 1e7, .help = "identical servers working in parallel"},
  {.name = "arrivals", .kind = SIM_KEY_DIST_TIME, .offset = offsetof(queue_params, arrivals),
   .required = true, .help = "inter-arrival time distribution"},
  {.name = "service", .kind = SIM_KEY_DIST_TIME, .offset = offsetof(queue_params, service),
   .required = true, .help = "service time distribution"},
  {.name = "customers", .kind = SIM_KEY_INT, .offset = offsetof(queue_params, customers),
   .required = true, .min = 1, .max = 1e13, .help = "arrivals to simulate; the queue then drains"},
  {.name = "capacity", .kind = SIM_KEY_INT, .offset = offsetof(queue_params, capacity),
   .min = 0, .max = 1e13, .def = 0,
   .help = "most customers in the system, arrivals beyond are rejected (0: unlimited)"},
  SIM_KEY_END,
};

static void queue_check(const void *params, sim_check *ck)
{
  const queue_params *p = params;
  if (p->capacity > 0 && p->capacity < p->servers)
    sim_check_fail(ck, "capacity", "must be >= servers (%lld) or 0 for unlimited",
                   (long long)p->servers);
  /* arrivals must end within a representable horizon (~292 years) */
  double span_s = (double)p->customers * sim_dist_mean(&p->arrivals);
  if (span_s > 1e9)
    sim_check_fail(ck, "customers", "%lld arrivals at a mean gap of %g s span %.3g years; at most 1e9 s",
                   (long long)p->customers, sim_dist_mean(&p->arrivals), span_s / 3.15576e7);
}

static void *queue_create(const void *params, const sim_component_env *env)
{
  return queue_alloc(params, env->eng, env->seed, env->name);
}

static void queue_destroy(void *self) { queue_free(self); }

static void report_tally(sim_report *rep, sim_tally *t, const char *what, const char *label)
{
  static const struct { double p; const char *suffix; } pct[] = {
    {0.50, "p50"}, {0.90, "p90"}, {0.95, "p95"}, {0.99, "p99"}, {0.999, "p999"}};
  char key[64], lab[128];
  snprintf(key, sizeof key, "%s_mean_s", what);
  snprintf(lab, sizeof lab, "%s, mean", label);
  sim_report_num(rep, key, sim_tally_mean(t), lab);
  snprintf(key, sizeof key, "%s_mean_ci95_s", what);
  sim_report_num(rep, key, sim_tally_ci(t, 0.95), "  95% CI half-width (batch means)");
  snprintf(key, sizeof key, "%s_mean_ci99_s", what);
  sim_report_num(rep, key, sim_tally_ci(t, 0.99), "  99% CI half-width (batch means)");
  snprintf(key, sizeof key, "%s_sd_s", what);
  sim_report_num(rep, key, sqrt(sim_tally_variance(t)), "  standard deviation");
  for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++) {
    snprintf(key, sizeof key, "%s_%s_s", what, pct[i].suffix);
    snprintf(lab, sizeof lab, "  %s", pct[i].suffix);
    sim_report_num(rep, key, sim_tally_quantile(t, pct[i].p), lab);
  }
  snprintf(key, sizeof key, "%s_max_s", what);
  sim_report_num(rep, key, sim_tally_max(t), "  max");
}

static void queue_report(void *self, sim_engine *eng, sim_report *rep)
{
  queue_model *q = self;
  const queue_params *p = &q->p;
  queue_stats *st = &q->st;
  sim_time now = sim_now(eng);
  double lambda = sim_dist_rate(&p->arrivals), mu = sim_dist_rate(&p->service);
  double c = (double)p->servers;
  double measured_s = sim_time_to_s(now - st->busy.start);
  /* a run that ended inside its warm-up measured nothing */
  bool measured = now >= sim_warmup_end(eng);
  double qlen_mean = measured ? sim_timeavg_mean(&st->queue_len, now) : NAN;
  double busy_mean = measured ? sim_timeavg_mean(&st->busy, now) : NAN;

  sim_report_int(rep, "servers", p->servers, "servers");
  sim_report_str(rep, "arrival_dist", sim_dist_name(&p->arrivals), "inter-arrival distribution");
  sim_report_num(rep, "arrival_rate_per_s", lambda, "arrival rate (1/s)");
  sim_report_str(rep, "service_dist", sim_dist_name(&p->service), "service distribution");
  sim_report_num(rep, "service_rate_per_s", mu, "service rate per server (1/s)");
  sim_report_num(rep, "offered_load", lambda / mu, "offered load a = lambda/mu (erlangs)");
  sim_report_num(rep, "load_per_server", lambda / (c * mu), "offered load per server rho");
  sim_report_int(rep, "capacity", p->capacity, "capacity (0: unlimited)");
  sim_report_int(rep, "customers", (int64_t)st->arrived, "customers arrived");
  sim_report_int(rep, "completed", (int64_t)st->completed, "customers completed");
  sim_report_int(rep, "rejected", (int64_t)st->rejected, "customers rejected (system full)");
  sim_report_int(rep, "in_system_end", (int64_t)queue_in_system(q), "in system at the end");
  sim_report_int(rep, "measured", (int64_t)st->measured, "customers measured (after warm-up)");
  sim_report_num(rep, "wait_probability",
                 st->measured ? (double)st->waited / (double)sim_tally_count(&st->wait) : NAN,
                 "fraction that waited");
  report_tally(rep, &st->wait, "wait", "wait in queue (s)");
  report_tally(rep, &st->sojourn, "sojourn", "time in system (s)");
  sim_report_num(rep, "percentile_rel_error",
                 sim_quantiles_exact(&st->wait.q) ? 0 : SIM_QUANTILE_REL_ERR,
                 "percentile relative error bound (0: exact)");
  sim_report_num(rep, "queue_length_mean", qlen_mean,
                 "customers waiting, time average");
  sim_report_num(rep, "queue_length_max", measured ? sim_timeavg_max(&st->queue_len) : NAN,
                 "customers waiting, max");
  sim_report_num(rep, "busy_servers_mean", busy_mean, "busy servers, time average");
  sim_report_num(rep, "utilization", busy_mean / c,
                 "utilization (busy fraction)");
  sim_report_num(rep, "throughput_per_s",
                 measured && measured_s > 0 ? (double)sim_tally_count(&st->sojourn) / measured_s : NAN,
                 "throughput (1/s)");

  /* Closed forms where one is exact: M/M/c, or M/G/1 (Pollaczek-Khinchine). */
  const char *model = "none";
  double wq = NAN, pw = NAN, w99 = NAN;
  if (p->capacity == 0 && p->arrivals.kind == SIM_DIST_EXPONENTIAL) {
    if (p->service.kind == SIM_DIST_EXPONENTIAL) {
      model = "M/M/c";
      wq = queue_mmc_wait_mean((int)p->servers, lambda, mu);
      pw = queue_erlang_c((int)p->servers, lambda / mu);
      w99 = queue_mmc_wait_quantile((int)p->servers, lambda, mu, 0.99);
    } else if (p->servers == 1) {
      model = "M/G/1";
      wq = queue_mg1_wait_mean(lambda, sim_dist_mean(&p->service), sim_dist_variance(&p->service));
    }
    if (isnan(wq)) model = "none";
  }
  sim_report_str(rep, "theory_model", model, "closed form behind theory_*");
  sim_report_num(rep, "theory_wait_mean_s", wq, "theory: mean wait (s)");
  sim_report_num(rep, "theory_sojourn_mean_s", wq + 1 / mu, "theory: mean time in system (s)");
  sim_report_num(rep, "theory_wait_probability", pw, "theory: probability of waiting");
  sim_report_num(rep, "theory_wait_p99_s", w99, "theory: p99 wait (s)");
}

const sim_component_type queue_component = {
  .name = "queue",
  .help = "multi-server FIFO queue (G/G/c[/K]) with closed-form checks",
  .schema = queue_keys,
  .params_size = sizeof(queue_params),
  .check = queue_check,
  .create = queue_create,
  .report = queue_report,
  .destroy = queue_destroy,
};
