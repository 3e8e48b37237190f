/* models/serving/serving_sim.c: the serving component: requests arrive
 * from each class (an arrival process with size distributions, or a
 * trace), the router sends each to a replica (serving_sched.c batches
 * them), and this file keeps the books: latency statistics, utilization,
 * energy and cost, the time series and per-request rows (what they add up
 * to at the end, and the conservation check, is serving_report.c's). Every arrival passes the context rule
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

/* q leaves: its client's time-out, if any, will not come. */
static void timeout_off(srv_sim *s, srv_req *q)
{
  if (q->timeout_ev) {
    sim_cancel(s->eng, q->timeout_ev);
    q->timeout_ev = 0;
  }
}

/* Its client gives up on request arg. */
static void on_timeout(sim_engine *eng, void *ctx, uint64_t arg)
{
  (void)eng;
  srv_sim *s = ctx;
  srv_req *q = (srv_req *)(uintptr_t)arg;
  q->timeout_ev = 0;
  if (q->state == SRV_HELD) {
    /* waiting for a replica to come up */
    if (!srv_fifo_remove(&s->held, q)) SIM_BUG("serving: held request %lld not held", (long long)q->id);
    s->nheld--;
    q->timed_out = true;
    srv_request_rejected(s, q, "timed out");
  } else if (q->state == SRV_PARKED) {
    /* waiting for its replica to load its model */
    srv_models_unpark(s, q);
    q->timed_out = true;
    srv_request_rejected(s, q, "timed out");
  } else {
    srv_replica_cancel(&s->reps[q->replica], q);
  }
}

void srv_request_done(srv_sim *s, srv_req *q)
{
  timeout_off(s, q);
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
    if (s->mm) srv_models_done(s, q, ttft, tpot, e2e, met);
  }
  request_row(s, q, "completed", qd, ttft, tpot, e2e);
  live_change(s, q, -1);
  if (q->session >= 0) srv_session_done(s, q);
  req_free(s, q);
  check_stop_ticks(s);
}

void srv_request_rejected(srv_sim *s, srv_req *q, const char *why)
{
  (void)why;
  timeout_off(s, q);
  if (s->probe) {
    srv_probe_gone(s, q);
    return;
  }
  s->rejected++;
  s->tick_rejected++;
  if (q->timed_out) s->timed_out++;
  if (q->measured) {
    s->m_rejected++;
    s->src[q->cls].rejected++;
    if (q->timed_out) s->src[q->cls].timed_out++;
    if (s->mm) srv_models_rejected(s, q);
  }
  request_row(s, q, q->timed_out ? "timed_out" : "rejected", NAN, NAN, NAN, NAN);
  live_change(s, q, -1);
  if (q->session >= 0) srv_session_end(s, q);
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
  if (!busy && s->mm) srv_models_idle(s, r);
}

/* ---- arrivals ---- */

srv_fit srv_fit_context(const srv_params *p, const srv_class_cfg *c, int64_t *prompt, int64_t *output)
{
  if (*output < 1) *output = 1;
  int64_t context = c->context;
  (void)p;
  if (*prompt <= context - *output) return SRV_FITS;
  if (!c->cut) return SRV_TOO_LONG;
  if (*prompt > context - 1) *prompt = context - 1;
  if (*output > context - *prompt) *output = context - *prompt;
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
  q->session = -1;
  q->adapter = -1;
  q->conv = srv_lone_conv(q);  /* its prompt its own unless srv_send says otherwise */
  s->arrived++;
  live_change(s, q, +1);
  return q;
}

static void on_arrival(sim_engine *eng, void *ctx, uint64_t arg);

bool srv_arrivals_over(const srv_sim *s, sim_time t)
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

int srv_active_sources(const srv_sim *s)
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
  if (t == SIM_TIME_MAX || srv_arrivals_over(s, t)) {
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
  int i = (int)arg;
  srv_source *src = &s->src[i];
  sim_time now = sim_now(eng);
  if (srv_arrivals_over(s, now)) {
    src->stopped = true;
    src->stopped_at = stop_time(s, now);
    check_stop_ticks(s);
    return;
  }
  if (src->trace) {
    srv_arrive_row(s, i, src->row);
  } else {
    int64_t prompt = wl_size_sample(&src->prompt, src->rng_sizes);
    int64_t output = wl_size_sample(&src->output, src->rng_sizes);
    srv_arrive(s, i, prompt, output);
  }
  schedule_next(s, i, now, false);
}

void srv_send(srv_sim *s, int i, int64_t prompt, int64_t output, const srv_prefix_id *id)
{
  const srv_params *p = s->p;
  srv_source *src = &s->src[i];
  srv_fit fit = srv_fit_context(p, src->cfg, &prompt, &output);
  if (fit == SRV_CUT) s->truncated++;
  srv_req *q = srv_request_new(s, i, prompt, output);
  q->sys = id->sys;
  q->sys_tokens = id->sys_tokens;
  if (id->conv) q->conv = id->conv;
  q->session = id->session;
  if (src->lora_pick) {
    /* a conversation keeps the adapter of its first turn */
    int32_t a = q->session >= 0 ? srv_session_adapter(s, q->session) : -1;
    if (a < 0) {
      a = src->cfg->lora_base + (int32_t)gsl_ran_discrete(src->rng_lora, src->lora_pick);
      if (q->session >= 0) srv_session_set_adapter(s, q->session, a);
    }
    q->adapter = a;
  }
  src->arrived++;
  s->tick_arrivals++;
  if (q->measured) s->m_arrived++;

  int r = srv_pick(s, q);
  if (q->session >= 0) srv_session_set_home(s, q->session, r);
  if (fit == SRV_TOO_LONG) {
    /* the replica's API server refuses it before its engine sees it */
    q->replica = r;
    s->books[s->reps[r].pool].arrived++;
    s->too_long++;
    if (!src->trace) s->too_long_sampled++;
    if (q->measured) s->m_too_long++;
    srv_request_rejected(s, q, "longer than the context");
  } else {
    /* its client's time-out, unless it is turned away at once */
    double timeout = src->cfg->timeout_s;
    if (timeout > 0 && !s->probe)
      q->timeout_ev = sim_schedule_in(s->eng, sim_time_from_s(timeout), on_timeout, s, (uint64_t)(uintptr_t)q);
    srv_route(s, q, r, true);
  }
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
static int pick_load(srv_sim *s, const srv_req *q);

/* Lamping and Veach's jump consistent hash (2014): key to a bucket in
 * [0, n), moving few keys when n grows. */
static int jump_hash(uint64_t key, int n)
{
  int64_t b = -1, j = 0;
  while (j < n) {
    b = j;
    key = key * 2862933555777941757ULL + 1;
    j = (int64_t)((double)(b + 1) * ((double)(1LL << 31) / (double)((key >> 33) + 1)));
  }
  return (int)b;
}

/* SGLang's model gateway (SMG) balances instead of following the cache
 * when the preferred worker has more than 64 requests above the least
 * loaded and more than 1.5 times as many (--balance-abs-threshold 64,
 * --balance-rel-threshold 1.5: lightseekorg/smg docs/getting-started/
 * load-balancing.md). */
#define AFFINITY_ABS 64
#define AFFINITY_REL 1.5

int srv_pick(srv_sim *s, const srv_req *q)
{
  if (s->p->swapping) return srv_models_pick(s, q);
  int r = pick_load(s, q);
  if (!s->router.type->affinity) return r;
  /* prefix affinity: the replica that served the conversation, else (a
   * first turn, a lone request) the system prompt's replica by consistent
   * hash over the replicas, while it is up, may take the class and is not
   * overloaded against the least loaded pick */
  int home = q->session >= 0 ? srv_session_home(s, q->session) : -1;
  if (home < 0 && q->sys) home = jump_hash(q->sys, s->nreps);
  if (home < 0 || home == r || s->view[home].down) return r;
  uint32_t mask = s->p->classes[q->cls].pool_mask;
  if (mask && !(mask >> s->reps[home].pool & 1)) return r;
  double h = (double)s->view[home].outstanding, lo = (double)s->view[r].outstanding;
  if (h - lo > AFFINITY_ABS && h > AFFINITY_REL * lo) return r;
  return home;
}

/* The least loaded (or the policy's) replica for q. */
static int pick_load(srv_sim *s, const srv_req *q)
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
    q->state = SRV_HELD;
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
  else if (!s->p->swapping || !srv_models_park(s, q, r))
    srv_replica_enqueue(&s->reps[r], q);
}

/* ---- time series ---- */

/* Requests waiting on every replica (queued or swapped out), for a
 * replica to be up, or (disaggregated) for a decode replica to take them. */
int64_t srv_waiting_now(const srv_sim *s)
{
  return s->host.waiting + s->nheld + s->host.pd_pending + srv_models_parked(s);
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
double srv_fraction(double x)
{
  if (x > 1) return 1;
  if (x < 0) return 0;
  return x;
}

/* Sequences a replica runs at most: the scheduler's limit (every pool
 * shares the scheduler section). */
double srv_seq_limit(const srv_sim *s) { return s->nreps > 0 ? (double)s->reps[0].maxrun : NAN; }

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

void srv_write_tick(srv_sim *s, sim_time now)
{
  if (now <= s->tick_from) return;
  int64_t w = srv_waiting_now(s);
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
    {NULL, srv_fraction((busy - s->tick_busy0) / (dt * ngpu))},
    {NULL, nkv > 0 ? kv / nkv : NAN},
    {NULL, p99},
    {NULL, (breps - s->tick_breps0) / dt},
    {NULL, s->host.tokens / dt},
    {NULL, off / dt / sat},
    {NULL, srv_fraction((running - s->tick_running0) / dt / (nrep * srv_seq_limit(s)))},
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
  srv_write_tick(s, now);
  /* the backlog a spike leaves: drained when nothing waits any more */
  if (s->spike_end >= 0 && now > s->spike_end && s->drained_at < 0 && srv_waiting_now(s) == 0)
    s->drained_at = now;
  if (srv_active_sources(s) > 0 || s->live > 0)
    s->tick_ev = sim_schedule_in(eng, sim_time_from_s(s->p->output.interval_s), on_tick, s, 0);
}

/* Nothing more will happen: stop the clock at the last event, not at the
 * next tick. */
void srv_check_stop(srv_sim *s)
{
  check_stop_ticks(s);
}

static void check_stop_ticks(srv_sim *s)
{
  if (s->live == 0 && s->thinking == 0 && srv_active_sources(s) == 0) {
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
void srv_write_cdf(srv_sim *s)
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
  srv_models_warmup(s, now);
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
  srv_pd_init(s);
  srv_models_init(s);
  s->rng_route = sim_rng_alloc(env->seed, "serving.router");
  /* a stream of its own: runs without speculation draw exactly as before */
  if (p->spec.any) s->host.rng_spec = sim_rng_alloc(env->seed, "serving.speculative");
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
    if (c->has_lora && !p->probe) {
      /* its own stream: classes without adapters draw as before */
      snprintf(stream, sizeof stream, "serving.%s.lora", c->name);
      src->rng_lora = sim_rng_alloc(env->seed, stream);
      size_t n = (size_t)c->lora.adapters;
      double *w = xmalloc(n * sizeof *w);
      for (size_t a = 0; a < n; a++) w[a] = pow((double)(a + 1), -c->lora.zipf);
      src->lora_pick = gsl_ran_discrete_preproc(n, w);
      free(w);
    }
    if (!src->trace) {
      snprintf(stream, sizeof stream, "serving.%s.arrivals", c->name);
      wl_arrivals_init(&src->arr, &c->arr, env->seed, stream);
      wl_size_init(&src->prompt, &c->prompt_p);
      wl_size_init(&src->output, &c->output_p);
      snprintf(stream, sizeof stream, "serving.%s.sizes", c->name);
      src->rng_sizes = sim_rng_alloc(env->seed, stream);
    }
  }
  srv_sessions_init(s, env->seed);
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
  if (srv_active_sources(s) > 0)
    s->tick_ev = sim_schedule_in(s->eng, sim_time_from_s(p->output.interval_s), on_tick, s, 0);
  return s;
}

void serving_destroy(void *self)
{
  srv_sim *s = self;
  for (int i = 0; i < s->nreps; i++) srv_replica_release(&s->reps[i]);
  srv_scale_release(s);
  srv_pd_release(s);
  srv_models_release(s);
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
    if (src->rng_lora) gsl_rng_free(src->rng_lora);
    if (src->lora_pick) gsl_ran_discrete_free(src->lora_pick);
  }
  srv_sessions_release(s);
  sim_quantiles_release(&s->ttft);
  sim_quantiles_release(&s->tpot);
  sim_quantiles_release(&s->e2e);
  sim_quantiles_release(&s->queue_delay);
  gsl_rng_free(s->rng_route);
  if (s->host.rng_spec) gsl_rng_free(s->host.rng_spec);
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
