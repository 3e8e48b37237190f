/* models/serving/serving_capacity.c: the saturation probe. For one pool
 * configuration it runs ONE replica - the same scheduler, KV cache and step
 * model as the scenario's, through serving_create on a copy of the params
 * - on a private engine, fed from an always-full queue of requests drawn
 * from the workload's size mix, and measures the rate at which requests
 * leave it once past a warm-up. That rate, times the pool's replica count,
 * is what the pool sustains; summed over pools, what the cluster sustains
 * (saturation_rate_per_s). Its cost does not depend on the cluster size.
 *
 * The feed. The replica holds a closed population of 2 x its sequence
 * limit (max_num_seqs, batch_size or max_batch_size): each request that
 * leaves is replaced by a new one at the same instant (by an event at that
 * time, after the scheduler has composed its next step), so at least the
 * sequence limit is always waiting when a step is composed: the scheduler
 * is never short of work. Sizes come from the mix: a class with
 * probability proportional to its expected arrivals in the run
 * (srv_class_cfg.mix_weight), then its size distributions, or a row of its
 * trace drawn uniformly (resampled with replacement). A request too long
 * for the context is refused at once (it counts as a request disposed of,
 * at no cost, since it counts in the offered rate) or cut, as the run does.
 * The draws come from a stream of a fixed seed (SRV_PROBE_SEED), so the
 * probe sees the same requests whatever the scenario's seed and whatever
 * else the scenario holds (common random numbers across configurations),
 * and its answer is a function of the configuration alone.
 *
 * How policies behave under it: priorities order admission as in the run
 * (every class keeps its priority; a replaced request is a new draw, so
 * the mix served equals the mix drawn); static and dynamic batching always
 * find a full batch waiting (the timeouts never fire), so the probe
 * measures full batches; preemption (recompute or swap) happens as in the
 * run when the KV cache fills, and its cost is part of the rate; requests
 * that can never fit the KV cache are rejected by the scheduler as in the
 * run and count as disposed of. The router and max_queue play no part.
 *
 * The measurement. The first max(1000, 4 x population) departures are
 * discarded. Then every departure's gap since the previous one, and its
 * prompt and output tokens, go into batch means (sim_batchmeans, the
 * three batched alike), and the mean gap is estimated with the sizes as
 * control variates (Lavenberg and Welch): the batches' mean gaps regressed
 * on their mean sizes less the mix's own means (a trace's exactly, a
 * sampled class's from 100,000 draws of a stream of its own), the
 * intercept being the mean gap with the luck of the draw in sizes taken
 * out; its standard error adds the error of those means. The rate is
 * 1 / mean gap. The probe stops when the 95% half-width is within 1% of
 * the mean gap (checked every 64 departures after at least max(4000, 32 x
 * the mean running batch), so that each of the 32 to 63 batches spans a
 * generation of running requests or more), or at a cap of 400,000
 * departures or a million events; rel_ci95 says what was reached (static
 * and dynamic batching of lognormal sizes stop at the cap near 2%).
 * Measured on four shipped scenarios over 12 probe seeds, the estimates'
 * standard deviation is 0.4-0.6% of the rate (2 sd 0.75-1.2%): the stated
 * half-width is about right, some 20% short on the Azure trace's heavy
 * tail (a sequential stop reads its interval slightly short). The control
 * variates cut the departures needed up to 5-fold (mixed classes); a probe
 * costs 5-170 ms of CPU on the shipped and test scenarios.
 *
 * The cache: one entry per configuration, keyed by the values (not the
 * addresses) of everything the probe reads - the model's architecture, the
 * GPU's numbers, the links, tp, pp, precision, step overhead, KV blocks,
 * scheduler settings, context, and the mix (class weights, priorities,
 * size parameters, a trace's sizes) - so a scenario loaded again (a sweep
 * point, a plan candidate, a bisection run of --slo-capacity) finds it.
 * Process-wide, never freed (LeakSanitizer sees it reachable). Not thread
 * safe: clustersim runs one scenario per process at a time. */
#include "models/serving/serving_capacity.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/rng.h"
#include "sim/util.h"

/* The probe's random stream: fixed, so that the saturation rate depends on
 * the configuration only. */
#define SRV_PROBE_SEED 20240229u
#define PROBE_REL_CI 0.01
#define PROBE_MAX_DEPARTURES 400000u
#define PROBE_MAX_EVENTS 1000000u
/* consecutive too-long draws after which the mix is taken to hold nothing
 * the model can serve */
#define PROBE_ALL_TOO_LONG 100000u
/* draws per sampled class for the mean sizes of the control variates */
#define PROBE_MEAN_DRAWS 100000

struct srv_probe {
  const srv_params *p;
  srv_sim *s;
  sim_engine *eng;
  gsl_rng *rng;
  gsl_ran_discrete_t *pick;           /* class by mix weight; NULL with one class */
  wl_size prompt[SRV_MAX_CLASSES], output[SRV_MAX_CLASSES];
  uint64_t population, warmup, min_measured, next_check;
  double running_sum;                 /* sequences running at each warm-up departure, summed */
  uint64_t departed;                  /* every departure, warm-up included */
  uint64_t owed;                      /* replacements not yet fed */
  bool refill_pending, all_too_long;
  bool measuring;
  sim_time last;                      /* the last departure (measured window) */
  uint64_t measured;
  sim_batchmeans gaps;                /* ns between departures */
  sim_batchmeans cv[2];               /* the departures' prompt and output tokens, batched alike */
  double mu[2];                       /* their means over the mix (control variates) */
  double mu_cov[2][2];                /* the covariance of those means' estimates */
  double gap_mean, rel_ci;
  bool done;
};

/* ---- the key ---- */

typedef struct {
  unsigned char *b;
  size_t n, cap;
} keybuf;

static void put(keybuf *k, const void *v, size_t n)
{
  if (k->n + n > k->cap) {
    k->cap = (k->n + n) * 2 + 256;
    k->b = xrealloc(k->b, k->cap);
  }
  memcpy(k->b + k->n, v, n);
  k->n += n;
}

static void put_f(keybuf *k, double v)
{
  if (v == 0) v = 0; /* -0 and 0 alike */
  put(k, &v, sizeof v);
}

static void put_i(keybuf *k, int64_t v) { put(k, &v, sizeof v); }

static void put_s(keybuf *k, const char *s)
{
  size_t n = s ? strlen(s) : 0;
  put_i(k, (int64_t)n);
  if (n) put(k, s, n);
}

static void put_link(keybuf *k, const net_link *l)
{
  put_i(k, l != NULL);
  if (!l) return;
  put_s(k, l->name);
  put_i(k, l->scope);
  put_f(k, l->bw_gbs);
  put_f(k, l->latency_us);
  put_f(k, l->efficiency);
}

static void put_size(keybuf *k, const wl_size_params *z)
{
  put_i(k, z->kind);
  put_i(k, z->value);
  put_i(k, z->min);
  put_i(k, z->max);
  put_f(k, z->mean);
  put_f(k, z->sd);
  put_f(k, z->cv);
  put_i(k, z->cap);
  put_i(k, (int64_t)z->nvalues);
  for (size_t i = 0; i < z->nvalues; i++) put_i(k, z->values[i]);
}

/* Everything the probe of pool `pool` reads, by value. */
static void make_key(const srv_params *p, int pool, keybuf *k)
{
  const srv_pool_cfg *pl = &p->pools[pool];
  const llm_replica *r = &pl->lr;
  const llm_arch *m = r->model;
  const gpu_spec *g = r->gpu;
  put_s(k, "clustersim saturation probe v1");
  put_s(k, m->name);
  const int64_t mi[] = {m->layers, m->hidden, m->heads, m->kv_heads, m->head_dim, m->ffn, m->vocab,
                        m->max_context, m->ffn_kind, m->positions, m->norm, m->tied_embeddings, m->biases,
                        m->encoder_only, m->experts, m->experts_active};
  for (size_t i = 0; i < sizeof mi / sizeof mi[0]; i++) put_i(k, mi[i]);
  put_f(k, m->published_params);
  put_f(k, m->published_active_params);
  /* the architecture fields the step reads (MoE, MLA, dense layers, windows) */
  const int64_t mx[] = {m->expert_ffn, m->q_lora_rank, m->layer_norms, m->shared_experts, m->shared_expert_ffn, m->dense_layers,
                        m->kv_lora_rank, m->qk_nope_head_dim, m->qk_rope_head_dim, m->v_head_dim,
                        m->sliding_window, m->sliding_window_pattern};
  for (size_t i = 0; i < sizeof mx / sizeof mx[0]; i++) put_i(k, mx[i]);
  put_s(k, g->name);
  for (int i = 0; i < GPU_PRECISIONS; i++) put_f(k, g->peak_tflops[i]);
  put_f(k, g->mem_gib);
  put_f(k, g->mem_bw_gbs);
  put_f(k, g->compute_efficiency);
  put_f(k, g->memory_efficiency);
  put_link(k, g->host_link);
  put_i(k, r->dtype);
  put_i(k, r->compute);
  put_f(k, r->weight_bytes);
  put_f(k, r->kv_bytes);
  put_i(k, r->tp);
  put_i(k, r->pp);
  put_link(k, r->tp_link);
  put_link(k, r->pp_link);
  /* expert parallelism and data-parallel attention */
  put_i(k, r->dp_attention);
  put_i(k, r->ep);
  put_f(k, r->imbalance);
  put_f(k, r->expert_slots);
  put_f(k, r->dispatch_bytes);
  put_link(k, r->ep_link);
  put_f(k, r->overhead_s);
  put_f(k, r->flops_per_s);
  put_f(k, r->attn_flops_per_s);
  put_f(k, r->bytes_per_s);
  put_f(k, r->attn_bytes_per_s);
  put_i(k, pl->kv_blocks);
  put_i(k, p->context);
  /* the speculation of the model it probes: method, k, acceptance, drafter */
  const spec_cfg *spc = &p->spec.of[pl->first_model];
  put_i(k, spc->method);
  if (spec_on(spc)) {
    put_i(k, spc->k);
    for (int64_t i = 0; i <= spc->k; i++) put_f(k, spc->cum[i]);
    put_s(k, spc->draft ? spc->draft->name : "");
  }
  const srv_sched_cfg *sc = &pl->sched;
  put_i(k, sc->batched_tokens);
  const int64_t si[] = {sc->policy, sc->max_num_seqs, sc->max_batched_tokens,
                        sc->block_size, sc->batch_size, sc->max_batch_size,
                        sc->preemption, sc->streaming, sc->num_scheduler_steps};
  for (size_t i = 0; i < sizeof si / sizeof si[0]; i++) put_i(k, si[i]);
  put_f(k, sc->batch_timeout_s);
  put_f(k, sc->max_queue_delay_s);
  put_f(k, sc->watermark);
  put_f(k, sc->step_overhead_s);
  /* the stack's step terms (the front end does not change the rate) */
  const double st[] = {r->host_per_seq_s, r->host_per_token_s, r->host_exposed_s, r->graph_max_tokens,
                       r->launch_per_layer_s, r->tp_worker_s, r->custom_ar_max_bytes};
  for (size_t i = 0; i < sizeof st / sizeof st[0]; i++) put_f(k, st[i]);
  const int64_t sf[] = {r->host_overlap, r->graphs, r->allreduce, r->collectives, r->gemm};
  for (size_t i = 0; i < sizeof sf / sizeof sf[0]; i++) put_i(k, sf[i]);
  put_i(k, p->nclasses);
  for (int i = 0; i < p->nclasses; i++) {
    const srv_class_cfg *c = &p->classes[i];
    put_f(k, c->mix_weight);
    put_i(k, c->priority);
    put_i(k, c->cut);
    put_i(k, c->has_trace);
    if (c->has_trace) {
      put_i(k, (int64_t)c->tr.rows);
      put(k, c->tr.values[0], c->tr.rows * sizeof c->tr.values[0][0]);
      put(k, c->tr.values[1], c->tr.rows * sizeof c->tr.values[1][0]);
    } else {
      put_size(k, &c->prompt_p);
      put_size(k, &c->output_p);
    }
  }
}

/* ---- the cache ---- */

typedef struct {
  unsigned char *key;
  size_t n;
  srv_saturation sat;
} cache_entry;

static cache_entry *cache;
static size_t ncache, capcache;
static uint64_t probes_run;

uint64_t srv_saturation_probes(void) { return probes_run; }

void srv_saturation_cache_clear(void)
{
  for (size_t i = 0; i < ncache; i++) free(cache[i].key);
  free(cache);
  cache = NULL;
  ncache = capcache = 0;
}

/* ---- the estimate ---- */

/* A departure at `now` of a request of these sizes (served, or refused). */
static void record(struct srv_probe *pr, sim_time now, int64_t prompt, int64_t output)
{
  pr->measured++;
  sim_batchmeans_add(&pr->gaps, (double)(now - pr->last));
  sim_batchmeans_add(&pr->cv[0], (double)prompt);
  sim_batchmeans_add(&pr->cv[1], (double)output);
  pr->last = now;
}

/* The mean gap (ns) and the relative half-width of its 95% interval, by
 * batch means with control variates (Lavenberg and Welch): the batches'
 * mean gaps regressed on their mean prompt and output sizes less the
 * mix's means; the intercept estimates the mean gap with the luck of the
 * draw in sizes taken out (the sizes explain most of the variance), its
 * standard error from the fit plus the error of the mix's means. A
 * covariate that does not vary (fixed sizes) is left out; with none, plain
 * batch means. NaN with too few batches. */
static double estimate(const struct srv_probe *pr, double *rel_ci)
{
  size_t nb = sim_batchmeans_batches(&pr->gaps);
  *rel_ci = NAN;
  if (nb < SIM_BATCHMEANS_MIN) return NAN;
  double bs = (double)pr->gaps.batch_size;
  int use[2], ncv = 0;
  for (int j = 0; j < 2; j++) {
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < nb; i++) {
      double x = pr->cv[j].sums[i];
      lo = x < lo ? x : lo;
      hi = x > hi ? x : hi;
    }
    if (hi > lo) use[ncv++] = j;
  }
  size_t np = 1 + (size_t)ncv;
  gsl_matrix *X = gsl_matrix_alloc(nb, np), *cov = gsl_matrix_alloc(np, np);
  gsl_vector *y = gsl_vector_alloc(nb), *c = gsl_vector_alloc(np);
  gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc(nb, np);
  for (size_t i = 0; i < nb; i++) {
    gsl_vector_set(y, i, pr->gaps.sums[i] / bs);
    gsl_matrix_set(X, i, 0, 1.0);
    for (int j = 0; j < ncv; j++) gsl_matrix_set(X, i, 1 + (size_t)j, pr->cv[use[j]].sums[i] / bs - pr->mu[use[j]]);
  }
  double chisq, mean = NAN;
  if (gsl_multifit_linear(X, y, c, cov, &chisq, w) == 0) {
    mean = gsl_vector_get(c, 0);
    double var = gsl_matrix_get(cov, 0, 0);
    for (int a = 0; a < ncv; a++)
      for (int b = 0; b < ncv; b++)
        var += gsl_vector_get(c, 1 + (size_t)a) * gsl_vector_get(c, 1 + (size_t)b) * pr->mu_cov[use[a]][use[b]];
    double hw = gsl_cdf_tdist_Pinv(0.975, (double)(nb - np)) * sqrt(var > 0 ? var : 0);
    *rel_ci = mean > 0 ? hw / mean : INFINITY;
  }
  gsl_multifit_linear_free(w);
  gsl_matrix_free(X);
  gsl_matrix_free(cov);
  gsl_vector_free(y);
  gsl_vector_free(c);
  return mean;
}

/* ---- the feed ---- */

static void on_refill(sim_engine *eng, void *ctx, uint64_t arg);

/* A request of the mix from stream r: its class and sizes, through the
 * context rule (too long: left as drawn). */
static srv_fit draw(struct srv_probe *pr, gsl_rng *r, int *cls, int64_t *prompt, int64_t *output)
{
  const srv_params *p = pr->p;
  int c = pr->pick ? (int)gsl_ran_discrete(r, pr->pick) : 0;
  const srv_class_cfg *cc = &p->classes[c];
  if (cc->has_trace) {
    size_t row = (size_t)gsl_rng_uniform_int(r, (unsigned long)cc->tr.rows);
    *prompt = cc->tr.values[0][row];
    *output = cc->tr.values[1][row];
  } else {
    *prompt = wl_size_sample(&pr->prompt[c], r);
    *output = wl_size_sample(&pr->output[c], r);
  }
  *cls = c;
  return srv_fit_context(p, cc, prompt, output);
}

/* The mix's mean prompt and output (as the probe records them) and the
 * covariance of that estimate: a trace's rows exactly, a sampled class's
 * from PROBE_MEAN_DRAWS draws of a stream of its own. */
static void mix_means(struct srv_probe *pr)
{
  const srv_params *p = pr->p;
  gsl_rng *r = sim_rng_alloc(SRV_PROBE_SEED, "serving.saturation.means");
  memset(pr->mu, 0, sizeof pr->mu);
  memset(pr->mu_cov, 0, sizeof pr->mu_cov);
  double wsum = 0;
  for (int c = 0; c < p->nclasses; c++) wsum += p->classes[c].mix_weight;
  for (int c = 0; c < p->nclasses; c++) {
    const srv_class_cfg *cc = &p->classes[c];
    double w = p->nclasses > 1 ? cc->mix_weight / wsum : 1.0;
    if (!(w > 0)) continue;
    double m[2] = {0, 0}, s2[2][2] = {{0, 0}, {0, 0}};
    size_t n = cc->has_trace ? cc->tr.rows : PROBE_MEAN_DRAWS;
    for (size_t i = 0; i < n; i++) {
      int64_t in, out;
      if (cc->has_trace) {
        in = cc->tr.values[0][i];
        out = cc->tr.values[1][i];
      } else {
        in = wl_size_sample(&pr->prompt[c], r);
        out = wl_size_sample(&pr->output[c], r);
      }
      srv_fit_context(p, cc, &in, &out);
      double x[2] = {(double)in, (double)out};
      /* Welford's update for the means and the co-moments */
      double d[2] = {x[0] - m[0], x[1] - m[1]};
      for (int a = 0; a < 2; a++) m[a] += d[a] / (double)(i + 1);
      for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) s2[a][b] += d[a] * (x[b] - m[b]);
    }
    for (int a = 0; a < 2; a++) {
      pr->mu[a] += w * m[a];
      /* a mean from draws carries the covariance of a sample mean; a trace's is exact */
      if (!cc->has_trace && n > 1)
        for (int b = 0; b < 2; b++) pr->mu_cov[a][b] += w * w * s2[a][b] / (double)(n - 1) / (double)n;
    }
  }
  gsl_rng_free(r);
}

/* A new request of the mix, into the replica; false when the mix seems to
 * hold nothing the model can take. */
static bool feed_one(struct srv_probe *pr)
{
  for (uint64_t tries = 0; tries < PROBE_ALL_TOO_LONG; tries++) {
    int c;
    int64_t prompt, output;
    if (draw(pr, pr->rng, &c, &prompt, &output) == SRV_TOO_LONG) {
      /* refused at the door: disposed of now, at no cost */
      pr->departed++;
      if (pr->measuring) record(pr, sim_now(pr->eng), prompt, output);
      continue;
    }
    srv_req *q = srv_request_new(pr->s, c, prompt, output);
    srv_replica_enqueue(&pr->s->reps[0], q);
    return true;
  }
  return false;
}

static void stop(struct srv_probe *pr)
{
  pr->done = true;
  sim_stop(pr->eng);
}

static void on_refill(sim_engine *eng, void *ctx, uint64_t arg)
{
  (void)eng;
  (void)arg;
  struct srv_probe *pr = ctx;
  pr->refill_pending = false;
  while (pr->owed > 0 && !pr->done) {
    pr->owed--;
    if (!feed_one(pr)) {
      pr->all_too_long = true;
      stop(pr);
    }
  }
}

void srv_probe_gone(srv_sim *s, srv_req *q)
{
  struct srv_probe *pr = s->probe;
  sim_time now = sim_now(pr->eng);
  int64_t prompt = q->prompt, output = q->output;
  srv_request_free(s, q);
  pr->departed++;
  if (pr->measuring) {
    record(pr, now, prompt, output);
  } else if (pr->departed >= pr->warmup) {
    /* batches of at least a generation of what actually runs (the KV
     * cache may hold far fewer than the sequence limit) */
    double running = pr->running_sum / (double)pr->departed;
    if (32 * running > (double)pr->min_measured) pr->min_measured = (uint64_t)(32 * running);
    pr->next_check = pr->min_measured;
    pr->measuring = true;
    pr->last = now;
  } else {
    pr->running_sum += s->reps[0].nrun;
  }
  if (pr->measuring && pr->measured >= pr->next_check) {
    pr->next_check = pr->measured + 64;
    pr->gap_mean = estimate(pr, &pr->rel_ci);
    if (pr->rel_ci <= PROBE_REL_CI) stop(pr);
  }
  if (pr->measured >= PROBE_MAX_DEPARTURES || sim_events_fired(pr->eng) >= PROBE_MAX_EVENTS) stop(pr);
  pr->owed++;
  if (!pr->refill_pending && !pr->done) {
    pr->refill_pending = true;
    sim_schedule_in(pr->eng, 0, on_refill, pr, 0);
  }
}

/* ---- running it ---- */

static void probe_run(const srv_params *p, int pool, srv_saturation *out)
{
  /* the scenario's params with one pool of one replica (traces and
   * catalog entries shared, not copied: the copy is never released) */
  srv_params *cp = xmalloc(sizeof *cp);
  memcpy(cp, p, sizeof *cp);
  cp->classes = p->classes == p->wl.listed ? cp->wl.listed : &cp->wl.direct;
  cp->pools[0] = p->pools[pool];
  cp->pools[0].replicas = 1;
  cp->pools[0].slots = 1;
  cp->pools[0].as.policy = AS_NONE;
  cp->pools[0].interruptions_per_hour = 0;
  /* a prefill or decode pool's replica is measured as if it did both */
  cp->pools[0].role = SRV_ROLE_BOTH;
  cp->pd = false;
  /* a pool holding several models is measured on its first, with no swaps */
  cp->swapping = false;
  cp->npools = 1;
  cp->probe = true;
  cp->output.requests = false;

  struct srv_probe *pr = xcalloc(1, sizeof *pr);
  pr->p = cp;
  pr->eng = sim_engine_alloc();
  pr->rng = sim_rng_alloc(SRV_PROBE_SEED, "serving.saturation");
  if (cp->nclasses > 1) {
    double w[SRV_MAX_CLASSES];
    for (int i = 0; i < cp->nclasses; i++) w[i] = cp->classes[i].mix_weight;
    pr->pick = gsl_ran_discrete_preproc((size_t)cp->nclasses, w);
  }
  for (int i = 0; i < cp->nclasses; i++)
    if (!cp->classes[i].has_trace) {
      wl_size_init(&pr->prompt[i], &cp->classes[i].prompt_p);
      wl_size_init(&pr->output[i], &cp->classes[i].output_p);
    }
  sim_component_env env = {.eng = pr->eng, .seed = SRV_PROBE_SEED, .name = "serving"};
  pr->s = serving_create(cp, &env);
  pr->s->probe = pr;
  int seqs = pr->s->reps[0].maxrun;
  pr->population = 2 * (uint64_t)seqs;
  pr->warmup = pr->population * 4 > 1000 ? pr->population * 4 : 1000;
  pr->min_measured = 4000;
  pr->rel_ci = INFINITY;
  sim_batchmeans_init(&pr->gaps);
  sim_batchmeans_init(&pr->cv[0]);
  sim_batchmeans_init(&pr->cv[1]);
  mix_means(pr);
  pr->owed = pr->population;
  pr->refill_pending = true;
  sim_schedule_at(pr->eng, 0, on_refill, pr, 0);
  sim_run(pr->eng, SIM_TIME_MAX);

  memset(out, 0, sizeof *out);
  out->measured = pr->measured;
  out->sim_s = sim_time_to_s(sim_now(pr->eng));
  if (pr->all_too_long) {
    out->rate_per_s = INFINITY;
    out->rel_ci95 = 0;
  } else {
    double rel, gap = estimate(pr, &rel);
    out->rate_per_s = gap > 0 ? 1e9 / gap : NAN;
    out->rel_ci95 = rel;
  }
  serving_destroy(pr->s);
  sim_engine_free(pr->eng);
  gsl_rng_free(pr->rng);
  if (pr->pick) gsl_ran_discrete_free(pr->pick);
  for (int i = 0; i < cp->nclasses; i++)
    if (!cp->classes[i].has_trace) {
      wl_size_release(&pr->prompt[i]);
      wl_size_release(&pr->output[i]);
    }
  free(pr);
  free(cp);
}

void srv_saturation_get(const srv_params *p, int pool, srv_saturation *out)
{
  /* several models: a one-model probe each (cached), combined */
  if (p->nmodels > 1) {
    srv_models_saturation(p, pool, out);
    return;
  }
  keybuf k = {0};
  make_key(p, pool, &k);
  for (size_t i = 0; i < ncache; i++)
    if (cache[i].n == k.n && memcmp(cache[i].key, k.b, k.n) == 0) {
      *out = cache[i].sat;
      out->from_cache = true;
      free(k.b);
      return;
    }
  probe_run(p, pool, out);
  probes_run++;
  if (ncache == capcache) {
    capcache = capcache ? 2 * capcache : 8;
    cache = xrealloc(cache, capcache * sizeof *cache);
  }
  cache[ncache++] = (cache_entry){k.b, k.n, *out};
}
