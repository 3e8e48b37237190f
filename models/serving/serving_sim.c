/* models/serving/serving_sim.c: the serving component: requests arrive
 * from each class (an arrival process with size distributions, or a
 * trace), the router sends each to a replica (serving_sched.c batches
 * them), and this file keeps the books: latency statistics, utilization,
 * energy and cost, the time series and per-request rows, and the
 * conservation check at the end. Every arrival passes the context rule
 * (srv_fit_context: too long is rejected, or cut). The capacity keys come
 * from here too: the saturation rate of each pool (asked of the probe,
 * serving_capacity.c, before the first event), offered / saturation, the
 * batch and KV-cache occupancy as time averages, and the poolN_* books,
 * each kept in O(1) per event. Requests come from a pool that grows with
 * the peak number in flight and is reused, so memory does not grow with
 * the number completed. When the srv_sim is the probe's replica
 * (srv_sim.probe), requests that leave go to the probe instead of the
 * books. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "models/serving/serving_capacity.h"
#include "models/serving/serving_int.h"
#include "sim/rng.h"
#include "sim/util.h"

enum { REQ_CHUNK = 4096 };

/* ---- request pool ---- */

static srv_req *req_alloc(srv_sim *s)
{
  if (!s->free_reqs) {
    srv_req *chunk = xcalloc(REQ_CHUNK, sizeof *chunk);
    s->chunks = xrealloc(s->chunks, (s->nchunks + 1) * sizeof *s->chunks);
    s->chunks[s->nchunks++] = chunk;
    for (int i = 0; i < REQ_CHUNK; i++) {
      chunk[i].next = s->free_reqs;
      s->free_reqs = &chunk[i];
    }
  }
  srv_req *q = s->free_reqs;
  s->free_reqs = q->next;
  memset(q, 0, sizeof *q);
  return q;
}

static void req_free(srv_sim *s, srv_req *q)
{
  q->next = s->free_reqs;
  s->free_reqs = q;
}

void srv_request_free(srv_sim *s, srv_req *q) { req_free(s, q); }

/* ---- per-request rows ---- */

static const char *const request_columns[] = {
  "id", "class", "arrival_s", "replica", "prompt_tokens", "output_tokens", "queue_delay_s",
  "ttft_s", "tpot_s", "e2e_s", "preemptions", "status"};
enum { NREQ_COLS = sizeof request_columns / sizeof request_columns[0] };

static void request_row(srv_sim *s, const srv_req *q, const char *status, double qd, double ttft,
                        double tpot, double e2e)
{
  if (!s->rq) return;
  sim_cell c[NREQ_COLS] = {
    {NULL, (double)q->id}, {s->p->classes[q->cls].name, 0}, {NULL, sim_time_to_s(q->arrival)},
    {NULL, q->replica >= 0 ? (double)q->replica : NAN}, {NULL, q->prompt}, {NULL, q->output},
    {NULL, qd}, {NULL, ttft}, {NULL, tpot}, {NULL, e2e}, {NULL, q->preemptions}, {status, 0}};
  sim_table_row(s->rq, c);
}

/* ---- bookkeeping the scheduler calls ---- */

/* q enters (d = +1) or leaves (-1) the system. */
static void live_change(srv_sim *s, const srv_req *q, int d)
{
  sim_time now = sim_now(s->eng);
  s->live = (uint64_t)((int64_t)s->live + d);
  srv_integral_set(&s->in_system, now, (double)s->live);
  double a = sim_time_to_s(q->arrival);
  s->live_arrival_sum += d * a;
  if (d < 0) s->sojourn_sum += sim_time_to_s(now) - a;
}

/* The front-end time of q's pool's stack (API server, tokenisation,
 * detokenisation and streaming): it delays the first token and the last
 * alike, so it adds to TTFT and end-to-end latency, not to TPOT. */
static double frontend_s(const srv_sim *s, const srv_req *q)
{
  return s->p->pools[s->reps[q->replica].pool].frontend_s;
}

void srv_first_token(srv_sim *s, srv_req *q)
{
  if (s->elastic) srv_scale_first_token(s, q, sim_time_to_s(q->first_token - q->arrival) + frontend_s(s, q));
  if (!s->ts) return;
  if (s->tick_nttft == s->tick_cap) {
    s->tick_cap = s->tick_cap ? 2 * s->tick_cap : 1024;
    s->tick_ttft = xrealloc(s->tick_ttft, s->tick_cap * sizeof *s->tick_ttft);
  }
  s->tick_ttft[s->tick_nttft++] = sim_time_to_s(q->first_token - q->arrival) + frontend_s(s, q);
}

static void check_stop_ticks(srv_sim *s);

void srv_request_done(srv_sim *s, srv_req *q)
{
  if (s->probe) {
    srv_probe_gone(s, q);
    return;
  }
  sim_time now = sim_now(s->eng);
  double e2e = sim_time_to_s(now - q->arrival);
  double ttft = sim_time_to_s(q->first_token - q->arrival);
  double qd = sim_time_to_s(q->first_sched - q->arrival);
  double fe = frontend_s(s, q);
  if (fe > 0) {
    e2e += fe;
    ttft += fe;
  }
  /* without streaming there is no time between tokens to speak of */
  double tpot = q->output > 1 && s->streaming ? sim_time_to_s(now - q->first_token) / (q->output - 1) : NAN;
  s->completed++;
  s->tick_completions++;
  srv_source *src = &s->src[q->cls];
  if (q->measured) {
    const srv_class_cfg *c = src->cfg;
    s->m_completed++;
    s->m_prompt_tokens += q->prompt;
    s->m_output_tokens += q->output;
    struct srv_pool_books *b = &s->books[s->reps[q->replica].pool];
    b->m_completed++;
    b->m_tokens += (double)q->prompt + q->output;
    b->m_out_tokens += q->output;
    sim_quantiles_add(&s->e2e, e2e);
    sim_quantiles_add(&s->ttft, ttft);
    sim_quantiles_add(&s->queue_delay, qd);
    sim_batchmeans_add(&s->e2e_bm, e2e);
    s->e2e_sum += e2e;
    s->ttft_sum += ttft;
    s->queue_sum += qd;
    src->completed++;
    src->tokens_out += (uint64_t)q->output;
    sim_quantiles_add(&src->ttft, ttft);
    sim_quantiles_add(&src->e2e, e2e);
    if (!isnan(tpot)) {
      sim_quantiles_add(&s->tpot, tpot);
      sim_quantiles_add(&src->tpot, tpot);
      s->tpot_sum += tpot;
      s->tpot_n++;
    }
    bool met = (c->ttft_target <= 0 || ttft <= c->ttft_target) &&
               (c->tpot_target <= 0 || isnan(tpot) || tpot <= c->tpot_target) &&
               (c->e2e_target <= 0 || e2e <= c->e2e_target);
    if (met) {
      s->m_slo_met++;
      src->slo_met++;
    }
  }
  request_row(s, q, "completed", qd, ttft, tpot, e2e);
  live_change(s, q, -1);
  req_free(s, q);
  check_stop_ticks(s);
}

void srv_request_rejected(srv_sim *s, srv_req *q, const char *why)
{
  (void)why;
  if (s->probe) {
    srv_probe_gone(s, q);
    return;
  }
  s->rejected++;
  s->tick_rejected++;
  if (q->measured) {
    s->m_rejected++;
    s->src[q->cls].rejected++;
  }
  request_row(s, q, "rejected", NAN, NAN, NAN, NAN);
  live_change(s, q, -1);
  req_free(s, q);
  check_stop_ticks(s);
}

/* Called at a step composition (or when a replica goes idle) that changed
 * the replica's running sequences or KV blocks: they change only then, so
 * booking them here integrates them exactly. Integer counts: no drift. */
void srv_running_changed(srv_sim *s, srv_replica *r, int dseqs, int dkv)
{
  sim_time now = sim_now(s->eng);
  struct srv_pool_books *b = &s->books[r->pool];
  if (dkv) srv_integral_set(&b->kv_blocks, now, b->kv_blocks.v + (double)dkv);
  if (dseqs == 0) return;
  srv_integral_set(&s->running, now, s->running.v + dseqs);
  srv_integral_set(&b->running, now, b->running.v + dseqs);
}

void srv_replica_busy(srv_sim *s, srv_replica *r, bool busy)
{
  sim_time now = sim_now(s->eng);
  s->busy_reps += busy ? 1 : -1;
  srv_integral_set(&s->busy_replicas, now, (double)s->busy_reps);
  srv_integral_set(&s->busy_gpus, now, s->busy_gpus.v + (busy ? r->gpus : -r->gpus));
  s->pool_busy[r->pool] += busy ? 1 : -1;
  srv_integral_set(&s->books[r->pool].busy, now, (double)s->pool_busy[r->pool]);
  const srv_pool_cfg *pl = &s->p->pools[r->pool];
  /* an elastic pool's energy comes from its replica-time books instead */
  if (!srv_pool_elastic(pl))
    cost_energy_set_util(&s->energy[r->pool], now, (double)s->pool_busy[r->pool] / (double)pl->replicas);
  if (!busy && s->elastic) srv_scale_idle(s, r);
}

/* ---- arrivals ---- */

srv_fit srv_fit_context(const srv_params *p, const srv_class_cfg *c, int64_t *prompt, int64_t *output)
{
  if (*output < 1) *output = 1;
  if (*prompt <= p->context - *output) return SRV_FITS;
  if (!c->cut) return SRV_TOO_LONG;
  if (*prompt > p->context - 1) *prompt = p->context - 1;
  if (*output > p->context - *prompt) *output = p->context - *prompt;
  return SRV_CUT;
}

const char *srv_grouped(int64_t v, char *buf, size_t n)
{
  char digits[32];
  int len = snprintf(digits, sizeof digits, "%lld", (long long)(v < 0 ? -v : v));
  size_t o = 0;
  if (v < 0 && o + 1 < n) buf[o++] = '-';
  for (int i = 0; i < len && o + 1 < n; i++) {
    if (i > 0 && (len - i) % 3 == 0 && o + 2 < n) buf[o++] = ',';
    buf[o++] = digits[i];
  }
  if (n > 0) buf[o < n ? o : n - 1] = '\0';
  return buf;
}

srv_req *srv_request_new(srv_sim *s, int cls, int64_t prompt, int64_t output)
{
  sim_time now = sim_now(s->eng);
  srv_req *q = req_alloc(s);
  q->id = s->next_id++;
  q->cls = (uint8_t)cls;
  q->arrival = now;
  q->first_sched = q->first_token = -1;
  q->replica = -1;
  q->measured = now >= s->measure_from;
  /* sizes reach here through srv_fit_context: at most the context unless
   * too long (then only reported: kept within int32) */
  q->prompt = (int32_t)(prompt < INT32_MAX ? prompt : INT32_MAX);
  q->output = (int32_t)(output < INT32_MAX ? output : INT32_MAX);
  q->target = q->prompt;
  s->arrived++;
  live_change(s, q, +1);
  return q;
}

static void on_arrival(sim_engine *eng, void *ctx, uint64_t arg);

static bool arrivals_over(const srv_sim *s, sim_time t)
{
  const srv_params *p = s->p;
  if (p->wl.requests > 0 && s->arrived >= (uint64_t)p->wl.requests) return true;
  return p->wl.duration_s > 0 && t > sim_time_from_s(p->wl.duration_s);
}

/* When a source that stops at `now` stopped offering requests: at
 * workload.duration_s when that ended it, else just after its last arrival
 * (now), so that a window [a, b) still counts that arrival. */
static sim_time stop_time(const srv_sim *s, sim_time now)
{
  const srv_params *p = s->p;
  if (p->wl.requests > 0 && s->arrived >= (uint64_t)p->wl.requests) return now + 1;
  if (p->wl.duration_s > 0) return sim_time_from_s(p->wl.duration_s);
  return now + 1;
}

static int active_sources(const srv_sim *s)
{
  int n = 0;
  for (int i = 0; i < s->nsrc; i++) n += !s->src[i].stopped;
  return n;
}

/* Schedule source i's next arrival after `now` (its first when first). */
static void schedule_next(srv_sim *s, int i, sim_time now, bool first)
{
  srv_source *src = &s->src[i];
  sim_time t;
  if (src->trace) {
    const srv_class_cfg *c = src->cfg;
    if (!first) src->row++;
    t = src->row < c->tr.rows ? sim_trace_time(&c->tr, src->row, c->trace.time_scale,
                                               sim_time_from_s(c->trace.offset_s))
                              : SIM_TIME_MAX;
  } else {
    t = wl_arrivals_next(&src->arr, now);
  }
  if (t == SIM_TIME_MAX || arrivals_over(s, t)) {
    src->stopped = true;
    src->stopped_at = stop_time(s, now);
    check_stop_ticks(s);
    return;
  }
  sim_schedule_at(s->eng, t, on_arrival, s, (uint64_t)i);
}

static void on_arrival(sim_engine *eng, void *ctx, uint64_t arg)
{
  srv_sim *s = ctx;
  const srv_params *p = s->p;
  int i = (int)arg;
  srv_source *src = &s->src[i];
  sim_time now = sim_now(eng);
  if (arrivals_over(s, now)) {
    src->stopped = true;
    src->stopped_at = stop_time(s, now);
    check_stop_ticks(s);
    return;
  }
  int64_t prompt, output;
  if (src->trace) {
    prompt = src->cfg->tr.values[0][src->row];
    output = src->cfg->tr.values[1][src->row];
  } else {
    prompt = wl_size_sample(&src->prompt, src->rng_sizes);
    output = wl_size_sample(&src->output, src->rng_sizes);
  }
  srv_fit fit = srv_fit_context(p, src->cfg, &prompt, &output);
  if (fit == SRV_CUT) s->truncated++;
  srv_req *q = srv_request_new(s, i, prompt, output);
  src->arrived++;
  s->tick_arrivals++;
  if (q->measured) s->m_arrived++;

  int r = srv_pick(s, q);
  if (fit == SRV_TOO_LONG) {
    /* the replica's API server refuses it before its engine sees it */
    q->replica = r;
    s->books[s->reps[r].pool].arrived++;
    s->too_long++;
    if (!src->trace) s->too_long_sampled++;
    if (q->measured) s->m_too_long++;
    srv_request_rejected(s, q, "longer than the context");
  } else {
    srv_route(s, q, r, true);
  }
  schedule_next(s, i, now, false);
}

void srv_request_evicted(srv_sim *s, srv_req *q)
{
  s->requeued++;
  srv_route(s, q, srv_pick(s, q), false);
}

/* Pool i's router's pick (an index into all replicas). */
static int pick_in(srv_sim *s, int i)
{
  int first = s->pool_first[i];
  return first + route_pick(&s->prouter[i], s->view + first, (int)s->p->pools[i].slots, s->rng_route);
}

static int up_in(const srv_sim *s, int i) { return route_up(&s->prouter[i], (int)s->p->pools[i].slots); }

/* A class bound to several pools: the ordering policies take the best of
 * each pool's pick (its cursor kept where another pool wins; the first
 * pool on a tie); the others choose a pool with a chance in proportion to
 * its replicas up (one draw; round robin: in turn), then pick within it. */
int srv_pick(srv_sim *s, const srv_req *q)
{
  uint32_t mask = s->p->classes[q->cls].pool_mask;
  if (!mask || !s->prouter) return route_pick(&s->router, s->view, s->nreps, s->rng_route);
  int np = s->p->npools;
  if ((mask & (mask - 1)) == 0) return pick_in(s, __builtin_ctz(mask));
  const route_type *t = s->router.type;
  if (t->less) {
    int best = -1;
    for (int i = 0; i < np; i++) {
      if (!(mask >> i & 1)) continue;
      uint64_t cur = s->prouter[i].cursor;
      int k = pick_in(s, i);
      if (best < 0 || t->less(&s->view[k], &s->view[best])) {
        if (best >= 0) s->prouter[s->reps[best].pool].cursor = s->best_cursor;
        best = k;
        s->best_cursor = cur;
      } else {
        s->prouter[i].cursor = cur;
      }
    }
    return best;
  }
  int up = 0, pool = -1;
  for (int i = 0; i < np; i++)
    if (mask >> i & 1) up += up_in(s, i);
  if (up == 0) return pick_in(s, __builtin_ctz(mask));
  if (t->uses_rng) {
    int u = (int)gsl_rng_uniform_int(s->rng_route, (unsigned long)up);
    for (int i = 0; i < np && pool < 0; i++)
      if (mask >> i & 1) {
        if (u < up_in(s, i)) pool = i;
        else u -= up_in(s, i);
      }
  } else {
    for (int k = 1; k <= np && pool < 0; k++) {
      int i = (s->rr_pool + k) % np;
      if ((mask >> i & 1) && up_in(s, i) > 0) pool = i;
    }
    s->rr_pool = pool;
  }
  return pick_in(s, pool);
}

bool srv_can_route(const srv_sim *s, const srv_req *q)
{
  uint32_t mask = s->p->classes[q->cls].pool_mask;
  if (!mask || !s->prouter) return route_up(&s->router, s->nreps) > 0;
  for (int i = 0; i < s->p->npools; i++)
    if ((mask >> i & 1) && up_in(s, i) > 0) return true;
  return false;
}

void srv_route(srv_sim *s, srv_req *q, int r, bool fresh)
{
  if (s->view[r].down) {
    /* no replica is up (an elastic pool at zero, or all starting): the
     * request waits for the first one */
    q->next = NULL;
    if (s->held.tail)
      s->held.tail->next = q;
    else
      s->held.head = q;
    s->held.tail = q;
    s->nheld++;
    return;
  }
  q->replica = r;
  if (fresh) s->books[s->reps[r].pool].arrived++;
  if (fresh && s->p->sched.max_queue > 0 && s->reps[r].nwait >= s->p->sched.max_queue)
    srv_request_rejected(s, q, "queue full");
  else
    srv_replica_enqueue(&s->reps[r], q);
}

/* ---- time series ---- */

/* Requests waiting on every replica (queued or swapped out). */
static int64_t waiting_now(const srv_sim *s)
{
  return s->host.waiting + s->nheld;
}


static const char *const ts_columns[] = {
  "time_s", "offered_rate_per_s", "arrivals", "completions", "rejected", "queue_length",
  "running_batch", "in_flight", "utilization", "kv_used_fraction", "ttft_p99_s", "replicas_busy",
  "output_tokens_per_s", "capacity_utilization", "batch_occupancy", "replicas_requested", "replicas_ready",
  "cost_usd_per_h", "cost_on_demand_usd_per_h", "cost_reserved_usd_per_h", "cost_spot_usd_per_h",
  "cost_owned_usd_per_h", "cost_energy_usd_per_h", "spot_interruptions"};
enum { NTS_COLS = sizeof ts_columns / sizeof ts_columns[0] };

/* A share of time or of capacity that rounding (sums of many intervals in
 * doubles) can push a few ulps past 1: kept in [0, 1]; NaN stays NaN. */
static double fraction(double x)
{
  if (x > 1) return 1;
  if (x < 0) return 0;
  return x;
}

/* Sequences a replica runs at most: the scheduler's limit (every pool
 * shares the scheduler section). */
static double seq_limit(const srv_sim *s) { return s->nreps > 0 ? (double)s->reps[0].maxrun : NAN; }

/* Expected arrivals of source i over [t0, t1) (s): the rate's integral, or
 * the trace's rows in the window. */
static double offered(srv_sim *s, int i, double t0, double t1)
{
  srv_source *src = &s->src[i];
  const srv_class_cfg *c = src->cfg;
  double end = s->p->wl.duration_s > 0 ? s->p->wl.duration_s : INFINITY;
  if (src->stopped && sim_time_to_s(src->stopped_at) < end) end = sim_time_to_s(src->stopped_at);
  if (t1 > end) t1 = end;
  if (t1 <= t0) return 0;
  if (src->trace) {
    sim_time a = sim_time_from_s(t0), b = sim_time_from_s(t1), off = sim_time_from_s(c->trace.offset_s);
    size_t n = 0;
    while (src->offered_row < c->tr.rows &&
           sim_trace_time(&c->tr, src->offered_row, c->trace.time_scale, off) < a)
      src->offered_row++;
    for (size_t r = src->offered_row;
         r < c->tr.rows && sim_trace_time(&c->tr, r, c->trace.time_scale, off) < b; r++)
      n++;
    return (double)n;
  }
  if (c->arr.kind == WL_ARRIVALS_POISSON) return wl_rate_integral(&c->arr.rate, t0, t1);
  return wl_arrivals_mean_rate(&c->arr) * (t1 - t0);
}

static void write_tick(srv_sim *s, sim_time now)
{
  if (now <= s->tick_from) return;
  int64_t w = waiting_now(s);
  if (now > s->measure_from && w > s->queue_max) s->queue_max = w;
  if (!s->ts) {
    s->tick_from = now;
    return;
  }
  double t0 = sim_time_to_s(s->tick_from), t1 = sim_time_to_s(now), dt = t1 - t0;
  double off = 0;
  for (int i = 0; i < s->nsrc; i++) off += offered(s, i, t0, t1);
  int64_t waiting = w;
  /* the one walk over the replicas, once per interval (not per event): a
   * running sum would round differently from this sum in replica order */
  double kv = 0;
  for (int i = 0; i < s->nreps; i++) kv += kv_used_fraction(&s->reps[i].kv);
  double busy = srv_integral_at(&s->busy_gpus, now), running = srv_integral_at(&s->running, now);
  double breps = srv_integral_at(&s->busy_replicas, now);
  /* what served over the interval: fixed pools their size, elastic ones
   * their books (replicas and GPUs up, time averages) and the
   * saturation rate of those */
  double nrep = (double)s->nreps, ngpu = s->total_gpus, sat = s->saturation_per_s, nkv = (double)s->nreps;
  double up_area = 0, upg_area = 0, sat_area = 0;
  int64_t requested = s->nreps, ready = s->nreps;
  if (s->elastic) {
    for (int i = 0; i < s->p->npools; i++) {
      const srv_pool_cfg *pl = &s->p->pools[i];
      double a = srv_integral_at(&s->scale[i].up_i, now);
      up_area += a;
      upg_area += a * (double)(pl->tp * pl->pp * pl->dp_attention);
      sat_area += a * s->books[i].sat.rate_per_s;
    }
    nrep = (up_area - s->tick_up0) / dt;
    ngpu = (upg_area - s->tick_upg0) / dt;
    sat = (sat_area - s->tick_sat0) / dt;
    nkv = (double)srv_scale_serving(s);
    requested = srv_scale_requested(s);
    ready = srv_scale_serving(s);
  }
  double p99 = NAN;
  if (s->tick_nttft > 0) {
    gsl_sort(s->tick_ttft, 1, s->tick_nttft);
    p99 = gsl_stats_quantile_from_sorted_data(s->tick_ttft, 1, s->tick_nttft, 0.99);
  }
  /* money over the interval: GPUs powered (a fixed pool all of them) x
   * their price, and the electricity of those that pay it (idle power,
   * plus the rest while running a step, x PUE) */
  double cost_area = 0, area[COST_PRICING_COUNT + 1] = {0};  /* by pricing, then electricity */
  for (int i = 0; i < s->p->npools; i++) {
    const srv_pool_cfg *pl = &s->p->pools[i];
    double g = (double)(pl->tp * pl->pp * pl->dp_attention);
    double powered = srv_pool_elastic(pl) ? srv_integral_at(&s->scale[i].powered_i, now)
                                          : (double)pl->replicas * sim_time_to_s(now);
    double busy_reps = srv_integral_at(&s->books[i].busy, now);
    double kwh = (pl->g->idle_w * powered + (pl->g->tdp_w - pl->g->idle_w) * busy_reps) * g / 3.6e6;
    double rent = powered * g / 3600 * pl->price, elec = cost_electricity_usd(kwh * s->p->cost.pue, pl->usd_per_kwh);
    cost_area += rent + elec;
    area[pl->pricing] += rent;
    area[COST_PRICING_COUNT] += elec;
  }
  double per_h[COST_PRICING_COUNT + 1];
  for (int k = 0; k <= COST_PRICING_COUNT; k++) per_h[k] = (area[k] - s->tick_area0[k]) / (dt / 3600);
  sim_cell c[NTS_COLS] = {
    {NULL, t0},
    {NULL, off / dt},
    {NULL, (double)s->tick_arrivals},
    {NULL, (double)s->tick_completions},
    {NULL, (double)s->tick_rejected},
    {NULL, (double)waiting},
    {NULL, (running - s->tick_running0) / dt / nrep},
    {NULL, (double)s->live},
    {NULL, fraction((busy - s->tick_busy0) / (dt * ngpu))},
    {NULL, nkv > 0 ? kv / nkv : NAN},
    {NULL, p99},
    {NULL, (breps - s->tick_breps0) / dt},
    {NULL, s->host.tokens / dt},
    {NULL, off / dt / sat},
    {NULL, fraction((running - s->tick_running0) / dt / (nrep * seq_limit(s)))},
    {NULL, (double)requested},
    {NULL, (double)ready},
    {NULL, (cost_area - s->tick_cost0) / (dt / 3600)},
    {NULL, per_h[COST_PRICING_ON_DEMAND]},
    {NULL, per_h[COST_PRICING_RESERVED_1Y] + per_h[COST_PRICING_RESERVED_3Y]},
    {NULL, per_h[COST_PRICING_SPOT]},
    {NULL, per_h[COST_PRICING_OWNED]},
    {NULL, per_h[COST_PRICING_COUNT]},
    {NULL, (double)s->tick_interruptions},
  };
  sim_table_row(s->ts, c);
  s->tick_from = now;
  s->tick_arrivals = s->tick_completions = s->tick_rejected = 0;
  s->host.tokens = 0;
  s->tick_busy0 = busy;
  s->tick_running0 = running;
  s->tick_breps0 = breps;
  s->tick_cost0 = cost_area;
  for (int k = 0; k <= COST_PRICING_COUNT; k++) s->tick_area0[k] = area[k];
  s->tick_interruptions = 0;
  s->tick_up0 = up_area;
  s->tick_upg0 = upg_area;
  s->tick_sat0 = sat_area;
  s->tick_nttft = 0;
}

static void on_tick(sim_engine *eng, void *ctx, uint64_t arg)
{
  srv_sim *s = ctx;
  sim_time now = sim_now(eng);
  s->tick_ev = 0;
  write_tick(s, now);
  /* the backlog a spike leaves: drained when nothing waits any more */
  if (s->spike_end >= 0 && now > s->spike_end && s->drained_at < 0 && waiting_now(s) == 0)
    s->drained_at = now;
  if (active_sources(s) > 0 || s->live > 0)
    s->tick_ev = sim_schedule_in(eng, sim_time_from_s(s->p->output.interval_s), on_tick, s, 0);
}

/* Nothing more will happen: stop the clock at the last event, not at the
 * next tick. */
static void check_stop_ticks(srv_sim *s)
{
  if (s->live == 0 && active_sources(s) == 0) {
    if (s->tick_ev) {
      sim_cancel(s->eng, s->tick_ev);
      s->tick_ev = 0;
    }
    if (s->elastic) srv_scale_stop(s);
  }
}

/* ---- latency distributions ---- */

static const char *const cdf_columns[] = {"class", "p", "ttft_s", "tpot_s", "e2e_s"};
enum { NCDF_COLS = sizeof cdf_columns / sizeof cdf_columns[0] };

/* latency_cdf.csv: the quantiles of TTFT, TPOT and end-to-end latency of
 * the measured requests, for all classes ("all") and for each class when
 * there are several: p from 0.005 to 0.995 by 0.005, then 0.999, 0.9999. */
static void write_cdf(srv_sim *s)
{
  if (!s->cdf) return;
  double ps[202];
  int n = 0;
  for (int i = 1; i <= 199; i++) ps[n++] = i * 0.005;
  ps[n++] = 0.999;
  ps[n++] = 0.9999;
  for (int c = -1; c < s->nsrc; c++) {
    if (c >= 0 && s->nsrc == 1) break;
    const char *name = c < 0 ? "all" : s->src[c].cfg->name;
    sim_quantiles *t = c < 0 ? &s->ttft : &s->src[c].ttft, *o = c < 0 ? &s->tpot : &s->src[c].tpot,
                  *e = c < 0 ? &s->e2e : &s->src[c].e2e;
    if (t->n == 0) continue;
    for (int i = 0; i < n; i++) {
      sim_cell row[NCDF_COLS] = {{name, 0}, {NULL, ps[i]}, {NULL, sim_quantiles_get(t, ps[i])},
                                 {NULL, sim_quantiles_get(o, ps[i])}, {NULL, sim_quantiles_get(e, ps[i])}};
      sim_table_row(s->cdf, row);
    }
  }
}

/* ---- set-up ---- */

static void on_warmup_end(void *ctx, sim_time now)
{
  srv_sim *s = ctx;
  s->measure_from = now;
  s->m_busy0 = srv_integral_at(&s->busy_gpus, now);
  s->m_running0 = srv_integral_at(&s->running, now);
  for (int i = 0; i < s->p->npools; i++) {
    struct srv_pool_books *b = &s->books[i];
    b->busy0 = srv_integral_at(&b->busy, now);
    b->running0 = srv_integral_at(&b->running, now);
    b->kv0 = srv_integral_at(&b->kv_blocks, now);
  }
  for (int i = 0; i < s->p->npools; i++) cost_energy_reset(&s->energy[i], now);
  srv_scale_warmup(s, now);
  for (int i = 0; i < s->nreps; i++) {
    kv_reset_peak(&s->reps[i].kv);
    s->reps[i].flops = s->reps[i].bytes = 0;
    s->reps[i].steps = 0;
  }
}

void *serving_create(const void *params, const sim_component_env *env)
{
  const srv_params *p = params;
  srv_sim *s = xcalloc(1, sizeof *s);
  s->p = p;
  s->eng = env->eng;
  s->seed = env->seed;
  s->streaming = p->sched.streaming && p->sched.policy != SRV_STATIC;
  for (int i = 0; i < p->npools; i++) s->nreps += (int)p->pools[i].slots;
  /* replicas are laid out on cache lines (serving_sched.h) */
  s->reps_mem = xcalloc((size_t)s->nreps * sizeof *s->reps + 63, 1);
  s->reps = (srv_replica *)(((uintptr_t)s->reps_mem + 63) & ~(uintptr_t)63);
  s->view = xcalloc((size_t)s->nreps, sizeof *s->view);
  s->host = (srv_host){.sim = s, .p = p, .eng = s->eng, .streaming = s->streaming, .view = s->view,
                       .router = &s->router};
  s->energy = xcalloc((size_t)p->npools, sizeof *s->energy);
  s->pool_busy = xcalloc((size_t)p->npools, sizeof *s->pool_busy);
  s->books = xcalloc((size_t)p->npools, sizeof *s->books);
  s->nsrc = p->nclasses;
  int k = 0;
  for (int i = 0; i < p->npools; i++) {
    const srv_pool_cfg *pl = &p->pools[i];
    double gpus = (double)(pl->tp * pl->pp * pl->dp_attention * pl->replicas);
    s->total_gpus += gpus;
    cost_energy_init(&s->energy[i], gpus, pl->g->idle_w, pl->g->tdp_w, 0, 0);
    for (int j = 0; j < pl->slots; j++, k++) srv_replica_init(&s->reps[k], &s->host, k, i);
  }
  route_init(&s->router, route_types[p->router.policy]);
  route_index(&s->router, s->view, s->nreps);
  /* classes bound to a pool route over its replicas alone */
  bool bound = false;
  for (int c = 0; c < p->nclasses; c++)
    if (p->classes[c].pool_mask) bound = true;
  if (bound) {
    s->prouter = xcalloc((size_t)p->npools, sizeof *s->prouter);
    s->pool_first = xcalloc((size_t)p->npools, sizeof *s->pool_first);
    for (int i = 0, first = 0; i < p->npools; first += (int)p->pools[i].slots, i++) {
      s->pool_first[i] = first;
      route_init(&s->prouter[i], route_types[p->router.policy]);
      route_index(&s->prouter[i], s->view + first, (int)p->pools[i].slots);
    }
    s->host.pool_router = s->prouter;
    s->host.pool_first = s->pool_first;
  }
  srv_scale_init(s);
  s->rng_route = sim_rng_alloc(env->seed, "serving.router");
  sim_quantiles_init(&s->ttft, SIM_QUANTILE_EXACT_DEFAULT);
  sim_quantiles_init(&s->tpot, SIM_QUANTILE_EXACT_DEFAULT);
  sim_quantiles_init(&s->e2e, SIM_QUANTILE_EXACT_DEFAULT);
  sim_quantiles_init(&s->queue_delay, SIM_QUANTILE_EXACT_DEFAULT);
  sim_batchmeans_init(&s->e2e_bm);
  for (int i = 0; i < s->nsrc; i++) {
    srv_source *src = &s->src[i];
    const srv_class_cfg *c = &p->classes[i];
    char stream[160];
    src->cfg = c;
    src->trace = c->has_trace;
    sim_quantiles_init(&src->ttft, 10000);
    sim_quantiles_init(&src->tpot, 10000);
    sim_quantiles_init(&src->e2e, 10000);
    if (!src->trace) {
      snprintf(stream, sizeof stream, "serving.%s.arrivals", c->name);
      wl_arrivals_init(&src->arr, &c->arr, env->seed, stream);
      wl_size_init(&src->prompt, &c->prompt_p);
      wl_size_init(&src->output, &c->output_p);
      snprintf(stream, sizeof stream, "serving.%s.sizes", c->name);
      src->rng_sizes = sim_rng_alloc(env->seed, stream);
    }
  }
  s->measure_from = sim_warmup_end(s->eng) > 0 ? sim_warmup_end(s->eng) : 0;
  /* the end of the last spike of any class, for the drain time */
  s->spike_start = s->spike_end = s->drained_at = -1;
  for (int i = 0; i < p->nclasses; i++) {
    const wl_rate *rt = &p->classes[i].arr.rate;
    if (p->classes[i].has_trace) continue;
    for (int j = 0; j < rt->nspikes; j++) {
      const wl_spike *sp = &rt->spikes[j];
      sim_time e = sim_time_from_s(sp->start_s + sp->ramp_up_s + sp->duration_s + sp->ramp_down_s);
      if (e > s->spike_end) s->spike_end = e;
      sim_time b = sim_time_from_s(sp->start_s);
      if (s->spike_start < 0 || b < s->spike_start) s->spike_start = b;
    }
  }
  sim_on_warmup_end(s->eng, on_warmup_end, s);
  /* a probe's replica is fed by the probe (serving_capacity.c) */
  if (p->probe) return s;
  /* what each pool sustains (the probe, or its cache): before any event,
   * on an engine of its own, for the time series' capacity column */
  s->saturation_per_s = 0;
  for (int i = 0; i < p->npools; i++) {
    srv_saturation_get(p, i, &s->books[i].sat);
    s->saturation_per_s += (double)p->pools[i].replicas * s->books[i].sat.rate_per_s;
  }
  for (int i = 0; i < s->nsrc; i++) schedule_next(s, i, 0, true);
  if (env->open_table) {
    s->ts = env->open_table(env, "timeseries", ts_columns, NTS_COLS);
    if (p->output.requests) s->rq = env->open_table(env, "requests", request_columns, NREQ_COLS);
    s->cdf = env->open_table(env, "latency_cdf", cdf_columns, NCDF_COLS);
  }
  /* ticks run even without a time-series file: they sample the backlog */
  if (active_sources(s) > 0)
    s->tick_ev = sim_schedule_in(s->eng, sim_time_from_s(p->output.interval_s), on_tick, s, 0);
  return s;
}

void serving_destroy(void *self)
{
  srv_sim *s = self;
  for (int i = 0; i < s->nreps; i++) srv_replica_release(&s->reps[i]);
  srv_scale_release(s);
  for (int i = 0; i < s->nsrc; i++) {
    srv_source *src = &s->src[i];
    if (!src->trace) {
      wl_arrivals_release(&src->arr);
      wl_size_release(&src->prompt);
      wl_size_release(&src->output);
      gsl_rng_free(src->rng_sizes);
    }
    sim_quantiles_release(&src->ttft);
    sim_quantiles_release(&src->tpot);
    sim_quantiles_release(&src->e2e);
  }
  sim_quantiles_release(&s->ttft);
  sim_quantiles_release(&s->tpot);
  sim_quantiles_release(&s->e2e);
  sim_quantiles_release(&s->queue_delay);
  gsl_rng_free(s->rng_route);
  route_release(&s->router);
  if (s->prouter)
    for (int i = 0; i < s->p->npools; i++) route_release(&s->prouter[i]);
  free(s->prouter);
  free(s->pool_first);
  for (size_t i = 0; i < s->nchunks; i++) free(s->chunks[i]);
  free(s->chunks);
  free(s->reps_mem);
  free(s->view);
  free(s->energy);
  free(s->pool_busy);
  free(s->books);
  free(s->tick_ttft);
  free(s);
}

/* ---- report ---- */

static void report_quantiles(sim_report *rep, const char *prefix, const char *what, sim_quantiles *q,
                             double sum, uint64_t n)
{
  static const struct { double p; const char *suffix, *label; } pct[] = {
    {0.50, "p50", "median"}, {0.90, "p90", "p90"}, {0.95, "p95", "p95"}, {0.99, "p99", "p99"},
    {0.999, "p999", "p99.9"}};
  char key[96], label[160];
  snprintf(key, sizeof key, "%s_mean_s", prefix);
  snprintf(label, sizeof label, "%s, mean (s)", what);
  sim_report_num(rep, key, n ? sum / (double)n : NAN, label);
  for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++) {
    snprintf(key, sizeof key, "%s_%s_s", prefix, pct[i].suffix);
    snprintf(label, sizeof label, "  %s (s)", pct[i].label);
    sim_report_num(rep, key, sim_quantiles_get(q, pct[i].p), label);
  }
}

/* poolN_*: each pool's share of the books, as the cluster's keys. */
static void report_pools(srv_sim *s, sim_report *rep, sim_time now, double T, sim_time window,
                         const double *pool_cost)
{
  const srv_params *p = s->p;
  double W = window > 0 ? sim_time_to_s(window) : NAN;
  for (int i = 0; i < p->npools; i++) {
    const srv_pool_cfg *pl = &p->pools[i];
    const struct srv_pool_books *b = &s->books[i];
    /* replicas serving, time average (an elastic pool's changes) */
    double n = s->elastic ? srv_scale_up_s(s, i, now) / T : (double)pl->replicas;
    double sat = n * b->sat.rate_per_s, offered = (double)b->arrived / W;
    char key[64], label[160];
#define POOL_NUM(suffix, value, text)                                   \
    do {                                                                \
      snprintf(key, sizeof key, "pool%d_%s", i, suffix);                \
      snprintf(label, sizeof label, "  pool%d %s", i, text);          \
      sim_report_num(rep, key, (value), label);                         \
    } while (0)
    POOL_NUM("offered_rate_per_s", offered, "offered (requests/s routed to it)");
    POOL_NUM("saturation_rate_per_s", sat, "saturation rate (requests/s)");
    POOL_NUM("capacity_utilization", offered / sat, "capacity utilization");
    POOL_NUM("throughput_requests_per_s", (double)b->m_completed / T, "throughput (requests/s)");
    POOL_NUM("throughput_tokens_per_s", b->m_tokens / T, "throughput (prompt + output tokens/s)");
    POOL_NUM("output_tokens_per_s", b->m_out_tokens / T, "output tokens/s");
    POOL_NUM("gpu_utilization", fraction((srv_integral_at(&b->busy, now) - b->busy0) / (n * T)),
             "GPU busy fraction");
    POOL_NUM("batch_occupancy", fraction((srv_integral_at(&b->running, now) - b->running0) / T / (n * seq_limit(s))),
             "batch occupancy");
    POOL_NUM("kv_cache_mean_fraction",
             fraction((srv_integral_at(&b->kv_blocks, now) - b->kv0) / T / (n * (double)pl->kv_blocks)),
             "KV-cache occupancy, time average");
    POOL_NUM("cost_usd", pool_cost[i], "cost (USD)");
    if (s->elastic) {
      const srv_scale_pool *sp = &s->scale[i];
      double g = (double)(pl->tp * pl->pp * pl->dp_attention);
      POOL_NUM("replicas_mean", n, "replicas serving, time average");
      snprintf(key, sizeof key, "pool%d_replicas_max", i);
      sim_report_int(rep, key, sp->up_max, "  most serving at once");
      snprintf(key, sizeof key, "pool%d_scale_ups", i);
      sim_report_int(rep, key, (int64_t)sp->ups, "  decisions that added replicas");
      snprintf(key, sizeof key, "pool%d_scale_downs", i);
      sim_report_int(rep, key, (int64_t)sp->downs, "  decisions that removed replicas");
      POOL_NUM("provisioning_gpu_hours", srv_scale_starting_s(s, i, now) * g / 3600,
               "GPU-hours billed while starting");
      POOL_NUM("ready_delay_s", pl->ready_delay_s, "a new replica's delay: start-up, weights, warm-up (s)");
    }
    double step_s = 0, outside_s = 0, coll_s = 0;
    for (int r = 0; r < s->nreps; r++)
      if (s->reps[r].pool == i) {
        step_s += s->reps[r].time_s;
        outside_s += s->reps[r].outside_s;
        coll_s += s->reps[r].coll_s;
      }
    POOL_NUM("host_time_fraction", step_s > 0 ? outside_s / step_s : NAN, "share of step time outside GPU kernels");
    POOL_NUM("collective_time_fraction", step_s > 0 ? coll_s / step_s : NAN, "share of step time in collectives");
#undef POOL_NUM
  }
}

void serving_report(void *self, sim_engine *eng, sim_report *rep)
{
  srv_sim *s = self;
  const srv_params *p = s->p;
  sim_time now = sim_now(eng);
  /* rows up to the end at the same interval (a horizon past the last
   * request leaves idle intervals), then the last, partial one */
  sim_time step = sim_time_from_s(p->output.interval_s);
  while (s->ts && now - s->tick_from > step) write_tick(s, s->tick_from + step);
  write_tick(s, now);
  if (s->spike_end >= 0 && s->drained_at < 0 && now > s->spike_end && waiting_now(s) == 0) s->drained_at = now;
  srv_integral_set(&s->in_system, now, (double)s->live);
  write_cdf(s);

  /* conservation: every arrival completed, rejected, or still in the system */
  int64_t inside = 0;
  for (int i = 0; i < s->nreps; i++) inside += srv_replica_in_system(&s->reps[i]);
  inside += s->nheld;
  if ((uint64_t)inside != s->live || s->arrived != s->completed + s->rejected + s->live)
    SIM_BUG("serving: conservation broken: %llu arrived, %llu completed, %llu rejected, %llu live, %lld in replicas",
            (unsigned long long)s->arrived, (unsigned long long)s->completed,
            (unsigned long long)s->rejected, (unsigned long long)s->live, (long long)inside);

  double T = now > s->measure_from ? sim_time_to_s(now - s->measure_from) : NAN;
  double Tall = sim_time_to_s(now);
  /* the offered load: arrivals over the time they kept coming (to the end
   * of workload.duration_s, or to the last arrival), not over the drain */
  sim_time window = now;
  if (active_sources(s) == 0) {
    window = 0;
    for (int i = 0; i < s->nsrc; i++)
      if (s->src[i].stopped_at > window) window = s->src[i].stopped_at;
  }
  double offered_rate = window > 0 ? (double)s->arrived / sim_time_to_s(window) : NAN;
  sim_report_str(rep, "model", p->m->name, "model");
  sim_report_str(rep, "precision", gpu_precision_names[p->model.precision], "precision");
  for (int i = 0; i < p->npools; i++) {
    const srv_pool_cfg *pl = &p->pools[i];
    char key[64], label[128];
    snprintf(key, sizeof key, "pool%d_gpu", i);
    sim_report_str(rep, key, pl->g->name, "pool GPU");
    snprintf(key, sizeof key, "pool%d_replicas", i);
    if (pl->dp_attention > 1)
      snprintf(label, sizeof label, "  replicas of tp %lld x pp %lld x dp_attention %lld", (long long)pl->tp,
               (long long)pl->pp, (long long)pl->dp_attention);
    else
      snprintf(label, sizeof label, "  replicas of tp %lld x pp %lld", (long long)pl->tp, (long long)pl->pp);
    sim_report_int(rep, key, pl->replicas, label);
    snprintf(key, sizeof key, "pool%d_kv_cache_tokens", i);
    sim_report_int(rep, key, pl->kv_blocks * pl->sched.block_size, "  KV-cache tokens per replica");
    snprintf(key, sizeof key, "pool%d_stack", i);
    sim_report_str(rep, key, pl->sp->name, "  serving stack");
  }
  sim_report_int(rep, "gpus", (int64_t)s->total_gpus, "GPUs");
  int policy = p->npools > 0 ? p->pools[0].sched.policy : p->sched.policy;
  sim_report_str(rep, "scheduler", policy == SRV_STATIC    ? "static"
                                   : policy == SRV_DYNAMIC ? "dynamic"
                                   : policy == SRV_CHUNKED ? "chunked-prefill"
                                                           : "continuous",
                 "batching policy (pool 0's)");
  sim_report_str(rep, "router", route_types[p->router.policy]->name, "routing policy");
  sim_report_num(rep, "load_scale", p->wl.load_scale, "arrival rates scaled by");
  /* the targets, so that tools reading the summary (sweeps, plots) see them */
  sim_report_num(rep, "slo_ttft_s", p->slo.ttft_s > 0 ? p->slo.ttft_s : NAN, "SLO: TTFT target (s)");
  sim_report_num(rep, "slo_tpot_s", p->slo.tpot_s > 0 ? p->slo.tpot_s : NAN, "SLO: TPOT target (s)");
  sim_report_num(rep, "slo_e2e_s", p->slo.e2e_s > 0 ? p->slo.e2e_s : NAN, "SLO: end-to-end target (s)");
  sim_report_num(rep, "slo_percentile", p->slo.percentile, "SLO: at this percentile");

  sim_report_int(rep, "requests_arrived", (int64_t)s->arrived, "requests arrived");
  sim_report_int(rep, "requests_completed", (int64_t)s->completed, "requests completed");
  sim_report_int(rep, "requests_rejected", (int64_t)s->rejected, "requests rejected");
  sim_report_int(rep, "requests_too_long", (int64_t)s->too_long,
                 "  of which longer than the context");
  if (s->too_long_sampled > 0) {
    char a[32], b[32], c[32];
    sim_report_warn(rep,
                    "%s of %s requests drawn from size distributions ask for more than %s's context of %s "
                    "tokens (prompt + output): rejected, as vLLM's API server does (requests_too_long); "
                    "truncate = true in the workload or class cuts them to fit instead",
                    srv_grouped((int64_t)s->too_long_sampled, a, sizeof a), srv_grouped((int64_t)s->arrived, b, sizeof b),
                    p->m->name, srv_grouped(p->context, c, sizeof c));
  }
  sim_report_int(rep, "requests_in_flight", (int64_t)s->live, "requests in flight at the end");
  sim_report_int(rep, "requests_truncated", (int64_t)s->truncated, "requests cut to the context length");
  sim_report_int(rep, "requests_measured", (int64_t)s->m_completed, "completed after the warm-up");

  report_quantiles(rep, "ttft", "time to first token", &s->ttft, s->ttft_sum, s->m_completed);
  report_quantiles(rep, "tpot", "time per output token", &s->tpot, s->tpot_sum, s->tpot_n);
  report_quantiles(rep, "e2e", "end-to-end latency", &s->e2e, s->e2e_sum, s->m_completed);
  double bm_mean;
  sim_report_num(rep, "e2e_mean_ci95_s", sim_batchmeans_ci(&s->e2e_bm, 0.95, &bm_mean),
                 "  mean: 95% CI half-width (batch means)");
  report_quantiles(rep, "queue_delay", "queueing delay", &s->queue_delay, s->queue_sum, s->m_completed);

  double tokens = s->m_prompt_tokens + s->m_output_tokens;
  sim_report_num(rep, "throughput_requests_per_s", (double)s->m_completed / T, "throughput (requests/s)");
  sim_report_num(rep, "throughput_tokens_per_s", tokens / T, "throughput (prompt + output tokens/s)");
  sim_report_num(rep, "output_tokens_per_s", s->m_output_tokens / T, "output tokens/s");
  sim_report_num(rep, "goodput_requests_per_s", (double)s->m_slo_met / T, "goodput (requests/s meeting the SLO)");
  /* a rejected request misses every target; one too long for the model is
   * left out (no configuration of this model could serve it: it is
   * counted in requests_too_long) */
  uint64_t decided = s->m_completed + s->m_rejected - s->m_too_long;
  sim_report_num(rep, "slo_attainment", decided ? (double)s->m_slo_met / (double)decided : NAN,
                 "SLO attainment (share of requests)");
  /* the percentile targets, as a planner reads them */
  double pq = p->slo.percentile / 100.0;
  bool slo_ok = true;
  if (p->slo.ttft_s > 0 && !(sim_quantiles_get(&s->ttft, pq) <= p->slo.ttft_s)) slo_ok = false;
  if (p->slo.tpot_s > 0 && !(sim_quantiles_get(&s->tpot, pq) <= p->slo.tpot_s)) slo_ok = false;
  if (p->slo.e2e_s > 0 && !(sim_quantiles_get(&s->e2e, pq) <= p->slo.e2e_s)) slo_ok = false;
  if (s->m_rejected > s->m_too_long && (p->slo.ttft_s > 0 || p->slo.tpot_s > 0 || p->slo.e2e_s > 0)) slo_ok = false;
  sim_report_int(rep, "slo_met", slo_ok, "targets met at the percentile (1 yes, 0 no)");

  double busy = srv_integral_at(&s->busy_gpus, now) - s->m_busy0;
  double flops = 0, bytes = 0, peak = 0, bw = 0;
  uint64_t steps = 0;
  double kv_peak = 0;
  for (int i = 0; i < s->nreps; i++) {
    const srv_replica *r = &s->reps[i];
    flops += r->flops;
    bytes += r->bytes;
    steps += r->steps;
    if (!s->elastic) {
      peak += r->gpus * gpu_peak_flops(r->lr->gpu, r->lr->compute);
      bw += r->gpus * gpu_mem_bw(r->lr->gpu);
    }
    if (kv_peak_fraction(&r->kv) > kv_peak) kv_peak = kv_peak_fraction(&r->kv);
  }
  /* what served over the measured window: GPU-seconds, replica-seconds
   * (fixed pools: their size x T; elastic ones: their books), as T-scaled
   * totals so that the formulas below read the same for both */
  double gpus_T = s->total_gpus * T, reps_T = (double)s->nreps * T;
  if (s->elastic) {
    gpus_T = reps_T = 0;
    for (int i = 0; i < p->npools; i++) {
      const srv_pool_cfg *pl = &p->pools[i];
      double g = (double)(pl->tp * pl->pp * pl->dp_attention), up_s = srv_scale_up_s(s, i, now);
      gpus_T += up_s * g;
      reps_T += up_s;
      peak += up_s * g * gpu_peak_flops(pl->g, pl->lr.compute) / T;
      bw += up_s * g * gpu_mem_bw(pl->g) / T;
    }
  }
  /* busy: a replica with any request running (nvidia-smi's utilization);
   * under continuous batching near 1 at any load that keeps one request
   * running, so it says nothing of capacity: capacity_utilization does */
  sim_report_num(rep, "gpu_utilization", fraction(busy / gpus_T),
                 "GPU busy fraction (nvidia-smi's meaning)");
  double saturation = s->saturation_per_s;
  if (s->elastic) {
    saturation = 0;
    for (int i = 0; i < p->npools; i++) saturation += srv_scale_up_s(s, i, now) / T * s->books[i].sat.rate_per_s;
  }
  sim_report_num(rep, "saturation_rate_per_s", saturation,
                 "saturation rate, sustainable (requests/s)");
  double sat_ci = 0;
  for (int i = 0; i < p->npools; i++)
    if (s->books[i].sat.rel_ci95 > sat_ci) sat_ci = s->books[i].sat.rel_ci95;
  sim_report_num(rep, "saturation_rate_rel_ci95", sat_ci, "  probe's relative 95% CI half-width");
  sim_report_num(rep, "capacity_utilization", offered_rate / saturation,
                 "capacity utilization (offered / saturation)");
  double running = srv_integral_at(&s->running, now) - s->m_running0;
  sim_report_num(rep, "batch_occupancy", fraction(running / (reps_T * seq_limit(s))),
                 "batch occupancy (running / batch limit)");
  double kv_mean = 0;
  if (!s->elastic) {
    for (int i = 0; i < p->npools; i++) {
      const struct srv_pool_books *b = &s->books[i];
      double blocks = (double)p->pools[i].kv_blocks * (double)p->pools[i].replicas;
      if (blocks > 0) kv_mean += (srv_integral_at(&b->kv_blocks, now) - b->kv0) / T / blocks * (double)p->pools[i].replicas;
    }
    kv_mean /= s->nreps;
  } else {
    /* block-seconds used over block-seconds serving */
    double used = 0, there = 0;
    for (int i = 0; i < p->npools; i++) {
      used += srv_integral_at(&s->books[i].kv_blocks, now) - s->books[i].kv0;
      there += srv_scale_up_s(s, i, now) * (double)p->pools[i].kv_blocks;
    }
    kv_mean = there > 0 ? used / there : NAN;
  }
  sim_report_num(rep, "kv_cache_mean_fraction", fraction(kv_mean),
                 "KV-cache occupancy, time average");
  sim_report_num(rep, "mfu", flops / (peak * T), "model FLOPs utilization");
  sim_report_num(rep, "memory_bandwidth_utilization", bytes / (bw * T), "memory-bandwidth utilization");
  sim_report_num(rep, "kv_cache_peak_fraction", fraction(kv_peak), "KV-cache peak occupancy (fullest replica)");
  sim_report_int(rep, "queue_length_max", s->queue_max,
                 "most waiting (at interval ends)");
  if (s->spike_end >= 0) {
    sim_report_num(rep, "spike_start_s", sim_time_to_s(s->spike_start), "the first spike starts (s)");
    sim_report_num(rep, "spike_end_s", sim_time_to_s(s->spike_end), "the last spike ends (s)");
    sim_report_num(rep, "spike_drain_s", s->drained_at >= 0 ? sim_time_to_s(s->drained_at - s->spike_end) : NAN,
                   "  backlog drained after it (s)");
  }
  sim_report_int(rep, "preemptions", (int64_t)s->host.preemptions, "preemptions (KV cache full)");
  sim_report_int(rep, "swaps", (int64_t)s->host.swaps, "  of which swapped to host memory");
  sim_report_int(rep, "steps", (int64_t)steps, "batch steps");
  double step_s = 0, outside_s = 0, coll_s = 0;
  for (int i = 0; i < s->nreps; i++) {
    step_s += s->reps[i].time_s;
    outside_s += s->reps[i].outside_s;
    coll_s += s->reps[i].coll_s;
  }
  sim_report_num(rep, "host_time_fraction", step_s > 0 ? outside_s / step_s : NAN,
                 "share of step time outside GPU kernels (host, launches)");
  sim_report_num(rep, "collective_time_fraction", step_s > 0 ? coll_s / step_s : NAN,
                 "share of step time in collectives (TP all-reduce, PP sends)");

  double gpu_hours = 0, rental = 0, it_kwh = 0;
  double pool_cost[SRV_MAX_POOLS];
  double prov_gh = 0, busy_gh = busy / 3600, reps_mean = reps_T / T, billed_gh = 0;
  double by_pricing[COST_PRICING_COUNT] = {0}, owned_elec = 0;
  int64_t reps_max = 0;
  uint64_t ups = 0, downs = 0;
  for (int i = 0; i < p->npools; i++) {
    double gh = cost_energy_gpu_hours(&s->energy[i], now);
    double kwh = cost_energy_it_kwh(&s->energy[i], now);
    const srv_pool_cfg *pl = &p->pools[i];
    if (s->elastic) {
      const srv_scale_pool *sp = &s->scale[i];
      reps_max += sp->up_max;
      ups += sp->ups;
      downs += sp->downs;
    } else {
      reps_max += pl->replicas;
    }
    if (srv_pool_elastic(pl)) {
      /* billed per replica in its increments; powered from the request on,
       * at idle power unless running a step */
      double g = (double)(pl->tp * pl->pp * pl->dp_attention);
      const struct srv_pool_books *b = &s->books[i];
      gh = srv_scale_billed_s(s, i, now) * g / 3600;
      kwh = (pl->g->idle_w * srv_scale_powered_s(s, i, now) * g +
             (pl->g->tdp_w - pl->g->idle_w) * (srv_integral_at(&b->busy, now) - b->busy0) * g) / 3.6e6;
      prov_gh += srv_scale_starting_s(s, i, now) * g / 3600;
    }
    billed_gh += gh;
    gpu_hours += gh;
    rental += gh * p->pools[i].price;
    it_kwh += kwh;
    double elec = cost_electricity_usd(cost_facility_kwh(kwh, p->cost.pue), pl->usd_per_kwh);
    pool_cost[i] = gh * p->pools[i].price + elec;
    by_pricing[pl->pricing] += gh * p->pools[i].price;
    /* owned pools pay their electricity even when the cost section says
     * none (cost.usd_per_kwh 0: rented prices include it) */
    if (pl->usd_per_kwh != p->cost.usd_per_kwh) owned_elec += elec;
  }
  double facility = cost_facility_kwh(it_kwh, p->cost.pue);
  double energy_usd = cost_electricity_usd(facility, p->cost.usd_per_kwh) + owned_elec;
  double cost = rental + energy_usd;
  sim_report_num(rep, "gpu_hours", gpu_hours, "GPU-hours (billed)");
  sim_report_num(rep, "replicas_mean", reps_mean, "replicas serving, time average");
  sim_report_int(rep, "replicas_max", reps_max, "  most serving at once (sum over pools)");
  sim_report_int(rep, "scale_ups", (int64_t)ups, "autoscaler decisions that added replicas");
  sim_report_int(rep, "scale_downs", (int64_t)downs, "  that removed replicas");
  uint64_t intr = 0;
  if (s->elastic)
    for (int i = 0; i < p->npools; i++) intr += s->scale[i].interruptions;
  sim_report_int(rep, "spot_interruptions", (int64_t)intr, "spot replicas taken back (notices)");
  sim_report_int(rep, "requests_requeued", (int64_t)s->requeued, "  requests sent to another replica by them");
  sim_report_num(rep, "provisioning_gpu_hours", prov_gh, "GPU-hours billed while replicas start");
  sim_report_num(rep, "idle_gpu_hours", billed_gh - busy_gh - prov_gh > 0 ? billed_gh - busy_gh - prov_gh : 0,
                 "GPU-hours billed, ready and not running a step");
  sim_report_num(rep, "energy_kwh", facility, "energy, facility (kWh, IT x PUE)");
  sim_report_num(rep, "it_energy_kwh", it_kwh, "energy, GPUs (kWh)");
  sim_report_num(rep, "cost_usd", cost, "cost (USD)");
  sim_report_num(rep, "cost_on_demand_usd", by_pricing[COST_PRICING_ON_DEMAND], "  rented on demand");
  sim_report_num(rep, "cost_reserved_usd", by_pricing[COST_PRICING_RESERVED_1Y] + by_pricing[COST_PRICING_RESERVED_3Y],
                 "  rented on 1- or 3-year commitments");
  sim_report_num(rep, "cost_spot_usd", by_pricing[COST_PRICING_SPOT], "  rented as spot capacity");
  sim_report_num(rep, "cost_owned_usd", by_pricing[COST_PRICING_OWNED], "  owned (purchase price amortised)");
  sim_report_num(rep, "cost_energy_usd", energy_usd, "  electricity (facility energy x USD/kWh)");
  sim_report_num(rep, "usd_per_hour", cost / (T / 3600.0), "cost per hour (USD)");
  sim_report_num(rep, "usd_per_million_tokens", cost_usd_per_million_tokens(cost, tokens),
                 "USD per million tokens (prompt+output)");
  sim_report_num(rep, "usd_per_million_output_tokens", cost_usd_per_million_tokens(cost, s->m_output_tokens),
                 "USD per million output tokens");
  report_pools(s, rep, now, T, window, pool_cost);

  /* Little's law over the whole run: L = lambda W */
  sim_report_num(rep, "requests_in_system_mean", Tall > 0 ? s->in_system.area / Tall : NAN,
                 "in the system, time average (whole run)");
  sim_report_num(rep, "offered_rate_per_s", offered_rate,
                 "offered load: arrivals per second while they came");
  sim_report_num(rep, "arrival_rate_per_s", Tall > 0 ? (double)s->arrived / Tall : NAN,
                 "  arrivals / whole run incl. drain (1/s)");
  /* every arrival: completed, rejected (until rejected) and in flight (so far) */
  double sojourn = s->sojourn_sum + (double)s->live * sim_time_to_s(now) - s->live_arrival_sum;
  sim_report_num(rep, "time_in_system_mean_s", s->arrived ? sojourn / (double)s->arrived : NAN,
                 "time in the system, mean (all arrivals, s)");

  if (s->nsrc > 1)
    for (int i = 0; i < s->nsrc; i++) {
      srv_source *src = &s->src[i];
      const char *n = src->cfg->name;
      char key[160], label[200];
      snprintf(key, sizeof key, "class_%s_completed", n);
      snprintf(label, sizeof label, "class %s: completed", n);
      sim_report_int(rep, key, (int64_t)src->completed, label);
      snprintf(key, sizeof key, "class_%s_rejected", n);
      sim_report_int(rep, key, (int64_t)src->rejected, "  rejected");
      snprintf(key, sizeof key, "class_%s_ttft_p99_s", n);
      sim_report_num(rep, key, sim_quantiles_get(&src->ttft, 0.99), "  TTFT p99 (s)");
      snprintf(key, sizeof key, "class_%s_tpot_p99_s", n);
      sim_report_num(rep, key, sim_quantiles_get(&src->tpot, 0.99), "  TPOT p99 (s)");
      snprintf(key, sizeof key, "class_%s_e2e_p99_s", n);
      sim_report_num(rep, key, sim_quantiles_get(&src->e2e, 0.99), "  end-to-end p99 (s)");
      snprintf(key, sizeof key, "class_%s_slo_attainment", n);
      uint64_t decided_c = src->completed + src->rejected;
      sim_report_num(rep, key, decided_c ? (double)src->slo_met / (double)decided_c : NAN, "  SLO attainment");
      /* the class's own targets (its own, else slo.*), for its attainment and the plots */
      const srv_class_cfg *c = src->cfg;
      snprintf(key, sizeof key, "class_%s_slo_ttft_s", n);
      sim_report_num(rep, key, c->ttft_target > 0 ? c->ttft_target : NAN, "  its TTFT target (s)");
      snprintf(key, sizeof key, "class_%s_slo_tpot_s", n);
      sim_report_num(rep, key, c->tpot_target > 0 ? c->tpot_target : NAN, "  its TPOT target (s)");
      snprintf(key, sizeof key, "class_%s_slo_e2e_s", n);
      sim_report_num(rep, key, c->e2e_target > 0 ? c->e2e_target : NAN, "  its end-to-end target (s)");
    }
}
