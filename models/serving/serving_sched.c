/* models/serving/serving_sched.c: one replica's batching, step by step.
 * Each step is one engine event: at its start the policy picks what runs
 * (which prefill chunks, which decodes), the compute core (llm_step) gives
 * its duration for exactly those tokens and contexts, and at its end
 * tokens are emitted, requests finish and the next step is composed.
 *
 * Policies:
 *   continuous       vLLM's default scheduler (v0): waiting prompts are
 *                    admitted while KV blocks (with the watermark),
 *                    max_num_seqs and max_batched_tokens allow; a step with
 *                    admissions is prefill-only, otherwise every running
 *                    sequence decodes one token. Admission is in priority
 *                    order and stops at the first request that does not fit
 *                    (no overtaking, as vLLM).
 *   chunked-prefill  Sarathi-Serve / vLLM chunked prefill: a budget of
 *                    max_batched_tokens per step, decodes first (one token
 *                    each), then running prompts' next chunks, then new
 *                    prompts, the last of them possibly cut to the budget.
 *   static           a batch of batch_size requests (or fewer once the
 *                    oldest waited batch_timeout_s) runs as one padded
 *                    tensor: every prompt padded to the longest, every
 *                    sequence decoding until the longest output is done,
 *                    and all results returned at the end (FasterTransformer
 *                    / Hugging Face generate without early exit).
 *   dynamic          request-level batching (Triton's dynamic batcher): up
 *                    to max_batch_size requests, dispatched when full or when
 *                    the oldest waited max_queue_delay_s; no padding, each
 *                    request leaves when done, but nothing joins until the
 *                    whole batch has finished.
 * KV cache: paged (kvcache.h). Continuous policies reserve a prompt's
 * blocks at admission and grow a block at a time while decoding; when a
 * decode cannot grow, the most recently admitted sequence is preempted
 * (vLLM): recompute frees its blocks and requeues it at the front of its
 * class with prompt + generated tokens to prefill again; swap copies its
 * blocks to host memory over the GPU's host link (one batched copy per
 * step, its time added to the step) and swaps them back when blocks are
 * free; the continuous policy admits no new prompt while any is swapped
 * out, chunked-prefill admits anyway (as vLLM's two schedulers). Static and dynamic
 * batches reserve prompt + output (static: padded) up front.
 *
 * Speculative decoding (speculative.h; continuous policies): a decoding
 * sequence's step verifies d <= k draft tokens with its own (chunk = 1 + d;
 * 1 + d KV slots reserved), the drafter's passes are added to the step's
 * time, and at its end the accepted drafts (one uniform draw per sequence
 * from host.rng_spec) are emitted after the target's token and the
 * rejected drafts' slots given back. Off, nothing of it runs.
 *
 * Cost: a step is O(batch) and reads its replica and its batch (srv_seq,
 * contiguous), not the requests; nothing here walks the other replicas.
 * The running totals over all replicas (srv_host) and the router's view
 * are updated where they change. Includes only serving_sched.h: the
 * simulation is reached through srv_host and five functions. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "models/serving/serving_sched.h"
#include "models/serving/serving_lora.h"
#include "sim/util.h"

/* what a decode step reads of its replica fits in three cache lines */
_Static_assert(offsetof(srv_replica, kv) + offsetof(kv_cache, win_tokens) <= 192,
               "srv_replica: hot fields past three cache lines");

static void on_step_end(sim_engine *eng, void *ctx, uint64_t arg);

/* r's effective scheduler settings: its pool's (the scenario's, else the
 * pool's stack's defaults). */
static inline const srv_sched_cfg *sched_of(const srv_replica *r) { return &r->h->p->pools[r->pool].sched; }

static void on_timer(sim_engine *eng, void *ctx, uint64_t arg);
static void start_step(srv_replica *r);
static bool reclaim_one(void *arg);
static void free_seq(srv_replica *r, int k, bool done);
static srv_req *unload(srv_replica *r, srv_req *q);
static srv_seq *seat(srv_replica *r, srv_req *q, int state);

/* r's KV cache, empty: `blocks` blocks of its model's (r->lr) layout. */
static void kv_of(srv_replica *r, int64_t blocks)
{
  const srv_sched_cfg *sc = sched_of(r);
  kv_init(&r->kv, blocks, (int)sc->block_size,
          sc->policy == SRV_STATIC || sc->policy == SRV_DYNAMIC ? 0 : sc->watermark, 0);
  const llm_arch *m = r->lr->model;
  if (llm_window_layers(m) > 0) kv_set_window(&r->kv, m->sliding_window, (int64_t)llm_window_layers(m), m->layers);
}

void srv_replica_init(srv_replica *r, srv_host *h, int index, int pool)
{
  const srv_params *p = h->p;
  const srv_pool_cfg *pl = &p->pools[pool];
  if ((uintptr_t)r % 64) SIM_BUG("srv_replica_init: replica %d not 64-byte aligned", index);
  r->h = h;
  r->index = index;
  r->pool = pool;
  r->lr = &pl->lr;
  r->spec = &p->spec.of[pl->first_model];
  r->drafter = &pl->var[pl->first_model].spec;
  r->host_link = pl->g->host_link;
  r->role = pl->role;
  r->gpus = (double)(pl->tp * pl->pp * pl->dp_attention);
  int seqs = (int)(sched_of(r)->policy == SRV_STATIC    ? sched_of(r)->batch_size
                   : sched_of(r)->policy == SRV_DYNAMIC ? sched_of(r)->max_batch_size
                                                    : sched_of(r)->max_num_seqs);
  /* each running sequence's KV record lives in its srv_seq: no id table */
  kv_of(r, pl->kv_blocks);
  r->maxrun = seqs;
  /* grown (doubling) to the largest batch the replica runs: memory per
   * replica follows its batch, not max_num_seqs */
  r->caprun = seqs < 16 ? seqs : 16;
  r->run = xmalloc((size_t)r->caprun * sizeof *r->run);
  r->runq = xmalloc((size_t)r->caprun * sizeof *r->runq);
  r->lora = NULL;
  if (p->lora_total > 0) {
    r->lora = xmalloc(sizeof *r->lora);
    srv_lora_init(r->lora, p, pl->lora_slots);
  }
  r->pc = NULL;
  if (sched_of(r)->prefix_caching) {
    r->pc = xmalloc(sizeof *r->pc);
    pc_init(r->pc);
    kv_set_reclaim(&r->kv, reclaim_one, r);
  }
  r->tier = NULL;
  r->loading.head = r->loading.tail = NULL;
  r->nloading = 0;
  r->tier_link_free = 0;
  r->tier_ev = 0;
  if (r->pc && pl->tier_host_blocks > 0) {
    r->tier = xmalloc(sizeof *r->tier);
    pt_init(r->tier, pl->tier_host_blocks, pl->tier_ssd_blocks, pl->tier_block_bytes, pl->tier_host_bw,
            pl->tier_ssd_bw, pl->tier_alpha_s);
  }
}

void srv_replica_release(srv_replica *r)
{
  if (r->lora) {
    srv_lora_release(r->lora);
    free(r->lora);
    r->lora = NULL;
  }
  if (r->tier) {
    pt_release(r->tier);
    free(r->tier);
    r->tier = NULL;
  }
  if (r->pc) {
    pc_release(r->pc);
    free(r->pc);
    r->pc = NULL;
  }
  kv_release(&r->kv);
  free(r->run);
  free(r->runq);
}

int64_t srv_replica_in_system(const srv_replica *r)
{
  return r->nwait + r->nswapped + r->nrun + r->nsending + r->nloading;
}

static srv_req *fifo_pop(srv_fifo *f);
static srv_req *pop_waiting(srv_replica *r, int c);
static srv_req *from_run(srv_replica *r, int i);
static void update_kv_view(srv_replica *r);
static inline void view_changed(srv_replica *r);

/* q leaves r to be computed again elsewhere. */
static void evicted(srv_replica *r, srv_req *q)
{
  q->state = SRV_WAITING;
  q->target = q->prompt + q->generated;
  q->computed = 0;
  q->next = NULL;
  r->h->view[r->index].outstanding--;
  srv_request_evicted(r->h->sim, q);
}

void srv_replica_evict(srv_replica *r, bool waiting_only)
{
  srv_host *h = r->h;
  for (int c = 0; c < SRV_MAX_CLASSES; c++)
    while (r->wait[c].head) evicted(r, pop_waiting(r, c));
  if (!waiting_only) {
    /* prefilled requests it was sending, transfers on their way to it */
    if (r->nsending > 0 || r->nincoming > 0) srv_pd_replica_gone(h->sim, r);
    while (r->swapped.head) {
      srv_req *q = fifo_pop(&r->swapped);
      r->nswapped--;
      h->waiting--;
      evicted(r, q);
    }
    /* loading from the lower tiers: the loads are called off */
    while (r->loading.head) evicted(r, unload(r, r->loading.head));
    if (r->tier_ev) {
      sim_cancel(h->eng, r->tier_ev);
      r->tier_ev = 0;
    }
    r->tier_link_free = sim_now(h->eng);
    for (int i = 0; i < r->nrun; i++) {
      bool gone = r->run[i].state == SRV_GONE;
      srv_req *q = from_run(r, i);
      free_seq(r, i, true);
      if (gone) {
        /* its client gave up during the step: it goes no further */
        r->h->view[r->index].outstanding--;
        srv_request_rejected(h->sim, q, "timed out");
      } else {
        evicted(r, q);
      }
    }
    r->nrun = 0;
    /* the instance goes, and its memory with it */
    srv_replica_clear_cache(r);
    r->ms_left = 0;
    r->batch_open = false;
    if (r->timer) {
      sim_cancel(h->eng, r->timer);
      r->timer = 0;
    }
  }
  update_kv_view(r);
  view_changed(r);
}

/* ---- the router's view ---- */

/* r's outstanding requests change by d (routed to it, or gone). */
/* The router(s) reading r's view: it changed. */
static inline void view_changed(srv_replica *r)
{
  srv_host *h = r->h;
  route_update(h->router, r->index);
  if (h->pool_router) route_update(&h->pool_router[r->pool], r->index - h->pool_first[r->pool]);
  if (h->view_hook) h->view_hook(h->sim, r->index);
}

static void outstanding_change(srv_replica *r, int d)
{
  r->h->view[r->index].outstanding += d;
  view_changed(r);
}

/* Only for a policy that reads it: the view is another cache line. */
static void update_kv_view(srv_replica *r)
{
  if (!r->h->router->type->uses_kv) return;
  double f = kv_used_fraction(&r->kv);
  route_replica *v = &r->h->view[r->index];
  if (v->kv_used == f) return;
  v->kv_used = f;
  view_changed(r);
}

/* ---- queues ---- */

static void fifo_push(srv_fifo *f, srv_req *q)
{
  q->next = NULL;
  if (f->tail)
    f->tail->next = q;
  else
    f->head = q;
  f->tail = q;
}

static srv_req *fifo_pop(srv_fifo *f)
{
  srv_req *q = f->head;
  if (q) {
    f->head = q->next;
    if (!f->head) f->tail = NULL;
    q->next = NULL;
  }
  return q;
}

bool srv_fifo_remove(srv_fifo *f, srv_req *q)
{
  srv_req *prev = NULL;
  for (srv_req *x = f->head; x; prev = x, x = x->next)
    if (x == q) {
      if (prev)
        prev->next = q->next;
      else
        f->head = q->next;
      if (f->tail == q) f->tail = prev;
      q->next = NULL;
      return true;
    }
  return false;
}

/* The class queues (r->wait) are doubly linked through q->prev, so that a
 * request leaves from anywhere in O(1) (LoRA admits past the head; a
 * client gives up wherever its request is); with LoRA adapters each
 * queued request is also in its adapter's lane (serving_lora.h). */

/* q joins its class's queue at the back, or the front (preempted). */
static void wq_push(srv_replica *r, srv_req *q, bool front)
{
  srv_fifo *f = &r->wait[q->cls];
  if (front) {
    q->prev = NULL;
    q->next = f->head;
    if (f->head)
      f->head->prev = q;
    else
      f->tail = q;
    f->head = q;
  } else {
    q->next = NULL;
    q->prev = f->tail;
    if (f->tail)
      f->tail->next = q;
    else
      f->head = q;
    f->tail = q;
  }
  if (r->lora) srv_lora_queued(r->lora, q, front);
}

/* q leaves its class's queue (it is in it). */
static void wq_remove(srv_replica *r, srv_req *q)
{
  srv_fifo *f = &r->wait[q->cls];
  if (q->prev ? q->prev->next != q : f->head != q)
    SIM_BUG("replica %d: request %lld not in its queue", r->index, (long long)q->id);
  if (q->prev)
    q->prev->next = q->next;
  else
    f->head = q->next;
  if (q->next)
    q->next->prev = q->prev;
  else
    f->tail = q->prev;
  q->next = q->prev = NULL;
  if (r->lora) srv_lora_unqueued(r->lora, q);
}

/* The class whose head is served next: highest priority, then earliest
 * arrival; -1 when nothing waits. */
static int next_class(const srv_replica *r, uint32_t skip)
{
  if (r->nwait == 0) return -1; /* (the queues' lines stay cold) */
  const srv_params *p = r->h->p;
  int best = -1;
  for (int c = 0; c < p->nclasses; c++) {
    const srv_req *h = r->wait[c].head;
    if (!h || (skip >> c & 1)) continue;
    if (best < 0) {
      best = c;
      continue;
    }
    int64_t pc = p->classes[c].priority, pb = p->classes[best].priority;
    if (pc > pb || (pc == pb && h->arrival < r->wait[best].head->arrival)) best = c;
  }
  return best;
}

static sim_time oldest_waiting(const srv_replica *r)
{
  sim_time t = SIM_TIME_MAX;
  for (int c = 0; c < r->h->p->nclasses; c++)
    if (r->wait[c].head && r->wait[c].head->arrival < t) t = r->wait[c].head->arrival;
  return t;
}

static srv_req *pop_waiting(srv_replica *r, int c)
{
  srv_req *q = r->wait[c].head;
  wq_remove(r, q);
  r->nwait--;
  r->h->waiting--;
  r->h->view[r->index].queue_len--;
  return q;
}

void srv_replica_enqueue(srv_replica *r, srv_req *q)
{
  q->state = SRV_WAITING;
  q->replica = r->index;
  wq_push(r, q, false);
  r->nwait++;
  r->h->waiting++;
  r->h->view[r->index].queue_len++;
  outstanding_change(r, +1);
  if (!r->busy) start_step(r);
}

/* ---- the prefix cache ---- */

/* The key of q's block i: the system prompt's while the block lies within
 * it, else its conversation's. */
static uint64_t block_key(const srv_replica *r, const srv_req *q, int64_t i)
{
  int64_t B = r->kv.block_tokens;
  if (q->sys && (i + 1) * B <= q->sys_tokens) return pc_block(q->pfx_sys, i);
  return pc_block(q->pfx_conv, i);
}

/* q's key prefixes, computed once. */
static void prefixes(srv_req *q)
{
  if (q->pfx_conv) return;
  q->pfx_sys = q->sys ? pc_prefix(1, q->sys) : 0;
  q->pfx_conv = pc_prefix(2, q->conv);
  if (!q->pfx_conv) q->pfx_conv = 1;
  /* KV computed under a LoRA adapter is its own (vLLM hashes the adapter
   * into a block's key) */
  if (q->adapter >= 0) {
    uint64_t a = 0x9e3779b97f4a7c15ULL * ((uint64_t)q->adapter + 1);
    if (q->pfx_sys) q->pfx_sys = pc_mix(q->pfx_sys ^ a) | 1;
    q->pfx_conv = pc_mix(q->pfx_conv ^ a) | 1;
  }
}

static void sync_idle(srv_replica *r)
{
  kv_set_idle(&r->kv, r->pc->idle);
}

/* kv_cache's reclaim: evict the least recently used idle block (to host
 * memory when the cache has a tier there). */
static bool reclaim_one(void *arg)
{
  srv_replica *r = arg;
  uint64_t key;
  if (!pc_evict_key(r->pc, &key)) return false;
  if (r->tier) pt_put(r->tier, key);
  kv_cache_dropped(&r->kv);
  sync_idle(r);
  return true;
}

/* Blocks of q's prompt (target) in r's cache, from the first on - at most
 * (target - 1) / block: the last token is always computed - and how many
 * of them are idle; then, with lower tiers, how many of the blocks that
 * follow are in host memory (*host) and on the SSD (*ssd), up to the first
 * found in neither. */
static int64_t cached_prefix(const srv_replica *r, srv_req *q, int64_t *idle, int64_t *host, int64_t *ssd)
{
  uint64_t version = r->pc->version + (r->tier ? pt_version(r->tier) : 0);
  if (q->pc_version == version && q->pc_replica == r->index && q->pc_target == q->target) {
    *idle = q->pc_idle;
    *host = q->pc_host;
    *ssd = q->pc_ssd;
    return q->pc_hits;
  }
  prefixes(q);
  int64_t most = ((int64_t)q->target - 1) / r->kv.block_tokens, n = 0;
  *idle = *host = *ssd = 0;
  for (; n < most; n++) {
    int32_t e = pc_find(r->pc, block_key(r, q, n));
    if (e < 0) break;
    if (pc_refs(r->pc, e) == 0) (*idle)++;
  }
  if (r->tier)
    for (int64_t j = n; j < most; j++) {
      pt_where w = pt_find(r->tier, block_key(r, q, j));
      if (w == PT_NONE) break;
      if (w == PT_HOST)
        (*host)++;
      else
        (*ssd)++;
    }
  q->pc_version = version;
  q->pc_replica = r->index;
  q->pc_target = q->target;
  q->pc_hits = (int32_t)n;
  q->pc_idle = (int32_t)*idle;
  q->pc_host = (int32_t)*host;
  q->pc_ssd = (int32_t)*ssd;
  return n;
}

/* q, admitted, holds its first n blocks from the cache. */
static void hold_prefix(srv_replica *r, srv_req *q, int64_t n)
{
  for (int64_t i = 0; i < n; i++) pc_hold(r->pc, pc_find(r->pc, block_key(r, q, i)));
  q->nref = (int32_t)n;
  sync_idle(r);
}

/* Block i of q goes to the cache, held by q if `held`: true if the cache
 * takes q's copy, false if it had one already (q's is then freed). */
static bool block_to_cache(srv_replica *r, const srv_req *q, int64_t i, bool held)
{
  uint64_t key = block_key(r, q, i);
  int32_t e = pc_find(r->pc, key);
  if (e >= 0) {
    if (held) pc_hold(r->pc, e);
    return false;
  }
  pc_add(r->pc, key, held ? 1 : 0);
  return true;
}

/* Blocks of q a later request can find: all of a conversation's (or a
 * pool prompt's), only the system prompt's of a request alone. */
static int64_t findable(const srv_replica *r, const srv_req *q, int64_t full)
{
  if (!(q->conv & SRV_CONV_OWN)) return full;
  int64_t sys = q->sys ? q->sys_tokens / r->kv.block_tokens : 0;
  return full < sys ? full : sys;
}

/* run[k]'s prompt is in: its full blocks that others may find join the
 * cache, held by it (a request with the same prefix arriving now finds
 * them, as in vLLM). */
static void cache_prompt(srv_replica *r, int k)
{
  srv_req *q = r->runq[k];
  srv_seq *sq = &r->run[k];
  int64_t full = findable(r, q, (int64_t)sq->target / r->kv.block_tokens);
  for (int64_t i = q->nref; i < full; i++) {
    if (block_to_cache(r, q, i, true))
      kv_rec_to_cache(&r->kv, &sq->kv, 1);
    else
      kv_rec_drop_front(&r->kv, &sq->kv, 1);
  }
  if (full > q->nref) q->nref = (int32_t)full;
  sync_idle(r);
}

/* q (its blocks: rec) lets go of them, for good if `done` (else to be
 * recomputed): its full blocks stay cached, idle once nobody holds them,
 * the last ones first in line for eviction (vLLM V1 frees a request's
 * blocks in reverse order); the rest are freed. The blocks of a request
 * that no later request can find (a request alone, done) are one anonymous
 * run: they take memory as long as vLLM keeps them, at no cost per block. */
static void free_rec(srv_replica *r, srv_req *q, kv_rec *rec, bool done)
{
  if (r->pc) {
    int64_t priv = kv_rec_tokens(rec) / r->kv.block_tokens, moved = 0;
    if (done && (q->conv & SRV_CONV_OWN)) {
      if (priv > 0) pc_add_anon(r->pc, (int32_t)priv);
      moved = priv;
    } else {
      for (int64_t i = q->nref + priv - 1; i >= q->nref; i--) moved += block_to_cache(r, q, i, false);
    }
    kv_rec_to_cache(&r->kv, rec, moved);
    kv_rec_drop_front(&r->kv, rec, priv - moved);
    for (int64_t i = q->nref - 1; i >= 0; i--) {
      int32_t e = pc_find(r->pc, block_key(r, q, i));
      if (e < 0) SIM_BUG("replica %d: a held block of request %lld is not cached", r->index, (long long)q->id);
      pc_unhold(r->pc, e);
    }
    q->nref = 0;
  }
  kv_rec_free(&r->kv, rec);
  if (r->pc) sync_idle(r);
}

/* run[k] leaves the batch (free_rec). */
static void free_seq(srv_replica *r, int k, bool done) { free_rec(r, r->runq[k], &r->run[k].kv, done); }

void srv_replica_clear_cache(srv_replica *r)
{
  if (!r->pc) return;
  if (r->pc->blocks != r->pc->idle) SIM_BUG("replica %d: clearing a cache whose blocks are held", r->index);
  while (pc_evict(r->pc)) kv_cache_dropped(&r->kv);
  sync_idle(r);
  if (r->tier) pt_clear(r->tier);
}

/* ---- the prefix cache's lower tiers: loads ----
 * A prompt whose prefix continues in host memory or on the SSD is admitted
 * as vLLM V1 admits one whose KV a connector loads asynchronously
 * (WAITING_FOR_REMOTE_KVS): the blocks for the rest of its prompt are
 * reserved and the GPU-cached part held, its load is queued on the
 * replica's host link (one load at a time, each bytes / bandwidth), and
 * it waits aside - the steps go on without it, others are admitted - until
 * the load lands; it then joins the batch before any new prompt, with the
 * loaded tokens computed. A load's copies run on their own stream and
 * copy engine, so the steps do not wait for them; nor do the writes of
 * evicted blocks to host memory (device to host: the other direction of
 * the link, also on a copy engine), which cost nothing here. */

static void on_tier_land(sim_engine *eng, void *ctx, uint64_t arg);

/* The next landing's event, for the first load not landed yet (any
 * earlier one it had is called off). */
static void rearm_land(srv_replica *r)
{
  sim_engine *eng = r->h->eng;
  sim_time now = sim_now(eng);
  if (r->tier_ev) {
    sim_cancel(eng, r->tier_ev);
    r->tier_ev = 0;
  }
  for (srv_req *x = r->loading.head; x; x = x->next)
    if (x->load_done > now) {
      r->tier_ev = sim_schedule_at(eng, x->load_done, on_tier_land, r, 0);
      break;
    }
}

/* q, loading on r, leaves the loads: its reserved blocks (which hold
 * nothing yet) freed, its GPU-cached blocks let go; a load not started
 * yet gives its time on the host link back to the loads behind it (one
 * under way runs to its end); q returned. */
static srv_req *unload(srv_replica *r, srv_req *q)
{
  sim_time now = sim_now(r->h->eng);
  if (q->load_start > now) {
    sim_time d = q->load_done - q->load_start;
    for (srv_req *x = q->next; x; x = x->next) {
      x->load_start -= d;
      x->load_done -= d;
    }
    r->tier_link_free -= d;
  }
  if (!srv_fifo_remove(&r->loading, q)) SIM_BUG("replica %d: request %lld is not loading", r->index, (long long)q->id);
  r->nloading--;
  r->h->waiting--;
  r->h->view[r->index].queue_len--;
  kv_rec_free(&r->kv, &q->load_kv);
  for (int64_t i = q->nref - 1; i >= 0; i--) {
    int32_t e = pc_find(r->pc, block_key(r, q, i));
    if (e < 0) SIM_BUG("replica %d: a held block of request %lld is not cached", r->index, (long long)q->id);
    pc_unhold(r->pc, e);
  }
  q->nref = 0;
  sync_idle(r);
  return q;
}

/* q, taken from r's queue with hit blocks cached on the GPU (held) and the
 * next host + ssd below it, loads those: the rest of its prompt reserved
 * (need tokens), the blocks made most recently used where they are, the
 * load queued on the host link. */
static void start_load(srv_replica *r, srv_req *q, int64_t hit, int64_t host, int64_t ssd, int64_t need)
{
  srv_host *h = r->h;
  int64_t B = r->kv.block_tokens;
  /* last first: the prompt's first blocks end most recently used, as
   * the GPU tier leaves them */
  for (int64_t j = hit + host + ssd - 1; j >= hit; j--) {
    uint64_t key = block_key(r, q, j);
    pt_touch(r->tier, key, pt_find(r->tier, key));
  }
  kv_rec_clear(&q->load_kv);
  kv_rec_reserve(&r->kv, &q->load_kv, need);
  q->computed = (int32_t)((hit + host + ssd) * B);
  sim_time now = sim_now(h->eng), start = r->tier_link_free > now ? r->tier_link_free : now;
  sim_time done = start + sim_time_from_s(pt_load_s(r->tier, host, ssd));
  q->load_start = start;
  q->load_done = done;
  r->tier_link_free = done;
  q->state = SRV_LOADING;
  fifo_push(&r->loading, q);
  r->nloading++;
  h->waiting++;
  h->view[r->index].queue_len++;
  if (!sim_in_warmup(h->eng)) {
    h->prompt_tokens_admitted += q->target;
    h->prompt_tokens_cached += (double)q->computed;
    h->prompt_tokens_host += (double)(host * B);
    h->prompt_tokens_ssd += (double)(ssd * B);
    h->tier_loads++;
    h->tier_load_s += sim_time_to_s(done - now);
  }
  if (!r->tier_ev) r->tier_ev = sim_schedule_at(h->eng, done, on_tier_land, r, 0);
}

/* A load landed: the next one's landing is awaited, and an idle replica
 * composes a step (the loaded request joins it). */
static void on_tier_land(sim_engine *eng, void *ctx, uint64_t arg)
{
  (void)arg;
  srv_replica *r = ctx;
  r->tier_ev = 0;
  sim_time now = sim_now(eng);
  for (srv_req *q = r->loading.head; q; q = q->next)
    if (q->load_done > now) {
      r->tier_ev = sim_schedule_at(eng, q->load_done, on_tier_land, r, 0);
      break;
    }
  if (!r->busy) start_step(r);
}

/* Requests whose loads have landed join the batch (before any new
 * prompt), as slots and the step's budget allow; how many. */
static int admit_loaded(srv_replica *r, bool chunked, int64_t *budget)
{
  int n = 0;
  sim_time now = sim_now(r->h->eng);
  while (r->loading.head && r->loading.head->load_done <= now && r->nrun + r->nincoming < r->maxrun && *budget > 0) {
    srv_req *q = r->loading.head;
    int64_t rest = (int64_t)q->target - q->computed;
    if (!chunked && rest > *budget) break;
    fifo_pop(&r->loading);
    r->nloading--;
    r->h->waiting--;
    r->h->view[r->index].queue_len--;
    srv_seq *sq = seat(r, q, SRV_PREFILL);
    sq->kv = q->load_kv;
    kv_rec_clear(&q->load_kv);
    sq->chunk = (int32_t)(rest < *budget ? rest : *budget);
    *budget -= sq->chunk;
    n++;
  }
  return n;
}

void srv_replica_set_model(srv_replica *r, const srv_pool_model *v)
{
  if (srv_replica_in_system(r) > 0 || r->busy || r->nincoming > 0)
    SIM_BUG("srv_replica_set_model: replica %d is not empty", r->index);
  if (r->lr == &v->lr) return;
  srv_replica_clear_cache(r);
  kv_release(&r->kv);
  r->lr = &v->lr;
  /* its speculation and drafter come with the model (the drafter's weights loaded with it) */
  r->spec = &r->h->p->spec.of[v - r->h->p->pools[r->pool].var];
  r->drafter = &v->spec;
  kv_of(r, v->kv_blocks);
  if (r->tier) {
    /* the tiers hold as many of the new model's blocks as their bytes allow */
    const pt_tier *t = r->tier;
    double host_bw = t->host_bw, ssd_bw = t->ssd_bw, alpha_s = t->alpha_s;
    pt_release(r->tier);
    pt_init(r->tier, v->tier_host_blocks, v->tier_ssd_blocks, v->tier_block_bytes, host_bw, ssd_bw, alpha_s);
  }
  if (r->lora) r->lora->nslots = 0;  /* the old model's adapters go with it */
  if (r->pc) kv_set_reclaim(&r->kv, reclaim_one, r);
  update_kv_view(r);
}

/* ---- clients that give up ---- */

/* run[i], whose client gave up, leaves: blocks back, request rejected. */
static void run_gone(srv_replica *r, int i)
{
  srv_req *q = from_run(r, i);
  free_seq(r, i, true);
  outstanding_change(r, -1);
  srv_request_rejected(r->h->sim, q, "timed out");
}

static void run_remove(srv_replica *r, int i);

void srv_replica_cancel(srv_replica *r, srv_req *q)
{
  srv_host *h = r->h;
  q->timed_out = true;
  switch (q->state) {
  case SRV_WAITING:
    wq_remove(r, q);
    r->nwait--;
    h->waiting--;
    h->view[r->index].queue_len--;
    outstanding_change(r, -1);
    srv_request_rejected(h->sim, q, "timed out");
    return;
  case SRV_SWAPPED:
    if (!srv_fifo_remove(&r->swapped, q)) SIM_BUG("replica %d: request %lld not swapped out", r->index, (long long)q->id);
    r->nswapped--;
    h->waiting--;
    outstanding_change(r, -1);
    srv_request_rejected(h->sim, q, "timed out");
    return;
  case SRV_LOADING:
    /* its load is called off (one under way runs to its end) */
    unload(r, q);
    rearm_land(r);
    outstanding_change(r, -1);
    srv_request_rejected(h->sim, q, "timed out");
    if (!r->busy && r->nwait > 0) start_step(r);
    return;
  case SRV_XFER_WAIT:
  case SRV_XFER:
    /* prefilled here, its KV not yet gone: the transfer is called off */
    srv_pd_cancel(h->sim, q);
    srv_request_rejected(h->sim, q, "timed out");
    return;
  default:
    for (int i = 0; i < r->nrun; i++)
      if (r->runq[i] == q) {
        if (r->busy) {
          r->run[i].state = SRV_GONE;  /* leaves when the step in flight ends */
        } else {
          run_gone(r, i);
          run_remove(r, i);
          update_kv_view(r);
          if (h->pd_pending > 0 && r->role != SRV_ROLE_PREFILL) srv_pd_room(h->sim);
        }
        return;
      }
    SIM_BUG("replica %d: request %lld (state %d) is nowhere", r->index, (long long)q->id, q->state);
  }
}

/* ---- admission and preemption ---- */

/* q, taken from r's queue, can never fit: reject it. */
static void reject_taken(srv_replica *r, srv_req *q)
{
  outstanding_change(r, -1);
  srv_request_rejected(r->h->sim, q, "larger than the KV cache");
}

/* q joins the batch holding kv_tokens tokens of KV; its progress moves to
 * the new srv_seq (chunk 0). */
static srv_seq *seat(srv_replica *r, srv_req *q, int state);

static srv_seq *to_run(srv_replica *r, srv_req *q, int64_t kv_tokens, int state)
{
  srv_seq *sq = seat(r, q, state);
  kv_rec_clear(&sq->kv);
  kv_rec_reserve(&r->kv, &sq->kv, kv_tokens);
  return sq;
}

/* q joins the batch, its KV record left to the caller. */
static srv_seq *seat(srv_replica *r, srv_req *q, int state)
{
  if (r->nrun == r->maxrun) SIM_BUG("replica %d: no sequence slot", r->index);
  if (r->nrun == r->caprun) {
    /* at most log2(maxrun / 16) times in a run: no step waits on it (a
     * step is scheduled after its batch is composed) */
    r->caprun = r->caprun > r->maxrun / 2 ? r->maxrun : 2 * r->caprun;
    r->run = xrealloc(r->run, (size_t)r->caprun * sizeof *r->run);
    r->runq = xrealloc(r->runq, (size_t)r->caprun * sizeof *r->runq);
  }
  r->runq[r->nrun] = q;
  srv_seq *sq = &r->run[r->nrun++];
  sq->prompt = q->prompt;
  sq->output = q->output;
  sq->generated = q->generated;
  sq->target = q->target;
  sq->chunk = 0;
  sq->state = (uint8_t)state;
  q->state = (uint8_t)state;
  sq->first = q->first_token < 0;
  if (q->first_sched < 0) q->first_sched = sim_now(r->h->eng);
  if (r->lora) srv_lora_join(r->lora, q->adapter, sim_now(r->h->eng), !sim_in_warmup(r->h->eng));
  return sq;
}

/* run[i] leaves the batch: its progress back to its request. */
static srv_req *from_run(srv_replica *r, int i)
{
  const srv_seq *sq = &r->run[i];
  srv_req *q = r->runq[i];
  if (r->lora) srv_lora_leave(r->lora, q->adapter);
  q->generated = sq->generated;
  q->target = sq->target;
  q->state = sq->state;
  return q;
}

/* Remove run[i], keeping the order of the others. */
static void run_remove(srv_replica *r, int i)
{
  for (int j = i + 1; j < r->nrun; j++) {
    r->run[j - 1] = r->run[j];
    r->runq[j - 1] = r->runq[j];
  }
  r->nrun--;
}

static void finish(srv_replica *r, int i);

static void preempt(srv_replica *r, int i)
{
  srv_host *h = r->h;
  srv_seq *sq = &r->run[i];
  if (sq->state == SRV_HELD) {
    /* multi-step: it has all its tokens; it leaves now rather than later */
    finish(r, i);
    run_remove(r, i);
    return;
  }
  srv_req *q = from_run(r, i);
  int64_t tokens = kv_rec_tokens(&sq->kv);
  free_seq(r, i, false);
  run_remove(r, i);
  q->preemptions++;
  if (!sim_in_warmup(h->eng)) h->preemptions++;
  /* with a prefix cache it is recomputed, from what stays cached (vLLM V1) */
  if (sched_of(r)->preemption == SRV_PREEMPT_SWAP && q->state == SRV_DECODE && !r->pc) {
    r->swap_bytes += (double)tokens * kv_bytes_per_token_gpu(r->lr);
    q->computed = (int32_t)tokens; /* what comes back */
    q->state = SRV_SWAPPED;
    fifo_push(&r->swapped, q);
    r->nswapped++;
    h->waiting++;
    if (!sim_in_warmup(h->eng)) h->swaps++;
    return;
  }
  q->state = SRV_WAITING;
  q->target = q->prompt + q->generated;
  q->computed = 0;
  wq_push(r, q, true);
  r->nwait++;
  h->waiting++;
  h->view[r->index].queue_len++;
}

/* Draft tokens sq proposes this step (speculative decoding, k > 0): k,
 * but none past the request's last token; 0 when k is 0 (off). */
static inline int spec_drafts(int32_t k, const srv_seq *sq)
{
  int32_t left = sq->output - sq->generated - 1;
  return left < k ? (left > 0 ? left : 0) : k;
}

/* Give every decoding sequence room for its next token (speculating: for
 * its draft tokens too), preempting from the most recently admitted when
 * blocks run out. True if any was preempted. */
/* reserve_decodes for k draft tokens a step (0: no speculation); inlined
 * into both calls so that the plain case keeps its one-token loop. */
static inline __attribute__((always_inline)) bool reserve_decodes_k(srv_replica *r, int32_t k)
{
  bool preempted = false;
  for (int i = 0; i < r->nrun; i++) {
    srv_seq *sq = &r->run[i];
    if (sq->state != SRV_DECODE) continue;
    int d = k ? spec_drafts(k, sq) : 0;
    /* grows as soon as the blocks are there */
    while (!kv_rec_try_grow(&r->kv, &sq->kv, 1 + d)) {
      preempted = true;
      int victim = r->nrun - 1;
      preempt(r, victim);
      if (victim == i) break;
    }
    /* victims are taken from the end: sq is still run[i] unless it went */
    if (i < r->nrun) sq->chunk = 1 + d;
  }
  return preempted;
}

static bool reserve_decodes(srv_replica *r)
{
  /* (the settings are read only when speculating: host.rng_spec says so;
   * the model r holds may not speculate) */
  if (r->h->rng_spec && spec_on(r->spec)) return reserve_decodes_k(r, (int32_t)r->spec->k);
  return reserve_decodes_k(r, 0);
}

/* Bring swapped sequences back while blocks and slots allow; *budget loses
 * a token for each (they decode in this step). */
static void swap_in(srv_replica *r, int64_t *budget)
{
  while (r->nswapped > 0 && r->nrun + r->nincoming < r->maxrun && (!budget || *budget > 0)) {
    srv_req *q = r->swapped.head;
    int64_t tokens = q->computed;
    /* the watermark as for admission (vLLM's can_swap_in), unless nothing
     * runs: then it comes back into an empty cache */
    if (kv_blocks_for(&r->kv, tokens + 1) > kv_free_blocks(&r->kv) - (r->nrun > 0 ? r->kv.watermark_blocks : 0)) break;
    fifo_pop(&r->swapped);
    r->nswapped--;
    r->h->waiting--;
    r->swap_bytes += (double)tokens * kv_bytes_per_token_gpu(r->lr);
    q->computed = q->target;
    srv_seq *sq = to_run(r, q, tokens, SRV_DECODE);
    kv_rec_grow(&r->kv, &sq->kv, 1);
    sq->chunk = 1;
    if (budget) (*budget)--;
  }
}

/* LoRA: the first request of class c's queue whose adapter may join the
 * batch, over the whole queue (vLLM's scheduler skips those that would
 * exceed max_loras and keeps them in order), NULL if none: the earliest
 * head of the lanes of the batch's adapters (serving_lora.h), O(max_loras)
 * however long the queue. */
static srv_req *lora_first_fit(const srv_replica *r, int c)
{
  srv_req *q = r->wait[c].head;
  return srv_lora_fits(r->lora, q->adapter) ? q : srv_lora_first_fit(r->lora, c);
}

/* Take q out of r's queue. */
static void take_waiting(srv_replica *r, srv_req *q)
{
  wq_remove(r, q);
  r->nwait--;
  r->h->waiting--;
  r->h->view[r->index].queue_len--;
}

/* Admit waiting prompts (continuous policies). budget: tokens left in the
 * step; chunked: the last prompt may get only part of its tokens. Returns
 * how many were admitted. */
static int admit(srv_replica *r, bool chunked, int64_t *budget)
{
  int n = r->nloading > 0 ? admit_loaded(r, chunked, budget) : 0;
  uint32_t blocked = 0;  /* LoRA: classes with nothing that may join now */
  for (;;) {
    int c = next_class(r, blocked);
    if (c < 0 || r->nrun + r->nincoming >= r->maxrun || *budget <= 0) break;
    srv_req *q = r->wait[c].head;
    if (r->lora && !srv_lora_fits(r->lora, q->adapter)) {
      q = lora_first_fit(r, c);
      if (!q) {
        blocked |= 1u << c;
        continue;
      }
    }
    /* with a prefix cache, the blocks it has of the prompt are held, not
     * computed; its idle ones are not free for this request */
    int64_t hit = 0, idle = 0, host = 0, ssd = 0;
    if (r->pc) hit = cached_prefix(r, q, &idle, &host, &ssd);
    int64_t cached = hit * r->kv.block_tokens, need = q->target - cached;
    /* (one whose prefix loads from the lower tiers takes no step yet) */
    if (!chunked && host + ssd == 0 && need > *budget) break;
    r->kv.idle_blocks -= idle;
    kv_admit a = kv_admit_check(&r->kv, need);
    r->kv.idle_blocks += idle;
    if (a == KV_ADMIT_LATER) break;
    take_waiting(r, q);
    if (a == KV_ADMIT_NEVER) {
      reject_taken(r, q);
      continue;
    }
    if (hit > 0) hold_prefix(r, q, hit);
    if (host + ssd > 0) {
      start_load(r, q, hit, host, ssd, need);
      continue;
    }
    srv_seq *sq = to_run(r, q, need, SRV_PREFILL);
    q->computed = (int32_t)cached;
    if (!sim_in_warmup(r->h->eng)) {
      r->h->prompt_tokens_admitted += q->target;
      r->h->prompt_tokens_cached += (double)cached;
    }
    sq->chunk = (int32_t)(need < *budget ? need : *budget);
    *budget -= sq->chunk;
    n++;
  }
  return n;
}

/* ---- static and dynamic batches ---- */

static bool batch_ready(srv_replica *r)
{
  if (r->nwait == 0) return false;
  bool is_static = sched_of(r)->policy == SRV_STATIC;
  int64_t size = is_static ? sched_of(r)->batch_size : sched_of(r)->max_batch_size;
  double wait_s = is_static ? sched_of(r)->batch_timeout_s : sched_of(r)->max_queue_delay_s;
  if (r->nwait >= size) return true;
  return sim_now(r->h->eng) - oldest_waiting(r) >= sim_time_from_s(wait_s);
}

static void arm_timer(srv_replica *r)
{
  if (r->timer || r->nwait == 0) return;
  double wait_s = sched_of(r)->policy == SRV_STATIC ? sched_of(r)->batch_timeout_s : sched_of(r)->max_queue_delay_s;
  sim_time at = oldest_waiting(r) + sim_time_from_s(wait_s);
  sim_time now = sim_now(r->h->eng);
  r->timer = sim_schedule_at(r->h->eng, at > now ? at : now, on_timer, r, 0);
}

static void on_timer(sim_engine *eng, void *ctx, uint64_t arg)
{
  srv_replica *r = ctx;
  r->timer = 0;
  if (!r->busy) start_step(r);
}

/* Take up to the batch size from the queue, as the KV cache allows. */
static void form_batch(srv_replica *r)
{
  srv_host *h = r->h;
  bool is_static = sched_of(r)->policy == SRV_STATIC;
  int32_t pad_p = 0, pad_o = 0;
  int n = 0;
  uint32_t blocked = 0;  /* LoRA: classes with nothing that may join now */
  while (r->nrun < r->maxrun) {
    int c = next_class(r, blocked);
    if (c < 0) break;
    srv_req *q = r->wait[c].head;
    if (r->lora && !srv_lora_fits(r->lora, q->adapter)) {
      /* as admit: a request whose adapter would exceed max_loras waits */
      q = lora_first_fit(r, c);
      if (!q) {
        blocked |= 1u << c;
        continue;
      }
    }
    int64_t tokens = (int64_t)q->target + q->output;
    srv_seq *sq;
    if (is_static) {
      int32_t np = q->target > pad_p ? q->target : pad_p, no = q->output > pad_o ? q->output : pad_o;
      int64_t blocks = (int64_t)(n + 1) * kv_blocks_for(&r->kv, (int64_t)np + no);
      if (blocks > r->kv.capacity_blocks) {
        if (n > 0) break;
        take_waiting(r, q);
        reject_taken(r, q);
        continue;
      }
      take_waiting(r, q);
      pad_p = np;
      pad_o = no;
      sq = to_run(r, q, 0, SRV_PREFILL);
    } else {
      kv_admit a = kv_admit_check(&r->kv, tokens);
      if (a == KV_ADMIT_LATER) break;
      take_waiting(r, q);
      if (a == KV_ADMIT_NEVER) {
        reject_taken(r, q);
        continue;
      }
      sq = to_run(r, q, tokens, SRV_PREFILL);
    }
    q->computed = 0;
    sq->chunk = sq->target;
    n++;
  }
  if (is_static) {
    /* every member holds the padded length for the whole batch */
    for (int i = 0; i < r->nrun; i++) kv_rec_grow(&r->kv, &r->run[i].kv, (int64_t)pad_p + pad_o);
    r->pad_prompt = pad_p;
    r->pad_out = pad_o;
    r->pad_step = 0;
  }
  if (r->nrun > 0) r->batch_open = true;
  if (r->timer) {
    sim_cancel(h->eng, r->timer);
    r->timer = 0;
  }
}

/* ---- steps ---- */

static void start_step(srv_replica *r)
{
  srv_host *h = r->h;
  llm_batch b = {0};
  r->swap_bytes = 0;
  for (int i = 0; i < r->nrun; i++) r->run[i].chunk = 0;

  int64_t nss = sched_of(r)->num_scheduler_steps;
  bool group = nss > 1 && r->ms_left > 0;
  if (group) {
    /* inside a multi-step group: the same sequences decode again, nothing
     * is admitted; those already finished still run (vLLM sees that they
     * are done only when the group's outputs are processed) */
    r->ms_left--;
    reserve_decodes(r);
    for (int i = 0; i < r->nrun; i++)
      if (r->run[i].state == SRV_HELD) r->run[i].chunk = 1;
  } else switch ((srv_policy)sched_of(r)->policy) {
  case SRV_CONTINUOUS: {
    int64_t budget = sched_of(r)->batched_tokens;
    int admitted = r->nswapped == 0 ? admit(r, false, &budget) : 0;
    if (admitted == 0) {
      if (!reserve_decodes(r)) swap_in(r, NULL);
    }
    break;
  }
  case SRV_CHUNKED: {
    int64_t budget = sched_of(r)->batched_tokens;
    bool preempted = reserve_decodes(r);
    /* decodes first: one token each, or 1 + its drafts speculating */
    for (int i = 0; i < r->nrun; i++) budget -= r->run[i].chunk;
    for (int i = 0; i < r->nrun && budget > 0; i++) {
      srv_seq *sq = &r->run[i];
      if (sq->state != SRV_PREFILL) continue;
      int64_t rest = sq->target - r->runq[i]->computed;
      sq->chunk = (int32_t)(rest < budget ? rest : budget);
      budget -= sq->chunk;
    }
    if (!preempted) swap_in(r, &budget);
    /* vLLM's chunked-prefill scheduler admits prompts even while some
     * sequences are swapped out (its default scheduler does not) */
    if (budget > 0) admit(r, true, &budget);
    break;
  }
  case SRV_STATIC:
  case SRV_DYNAMIC:
    if (!r->batch_open) {
      if (batch_ready(r)) form_batch(r);
      if (!r->batch_open) arm_timer(r);
    } else {
      for (int i = 0; i < r->nrun; i++) {
        srv_seq *sq = &r->run[i];
        if (sq->state == SRV_DECODE || (sq->state == SRV_HELD && sched_of(r)->policy == SRV_STATIC)) sq->chunk = 1;
      }
    }
    break;
  }

  /* the step's work, exactly (decodes summed here, added once) */
  int32_t pad = (int32_t)r->pad_prompt;
  bool is_static = sched_of(r)->policy == SRV_STATIC;
  double ndec = 0, ctx = 0;
  /* speculating: draft tokens and the positions they attend, and how many
   * sequences draft exactly d tokens */
  bool spec = h->rng_spec != NULL && spec_on(r->spec);
  const spec_cfg *spc = spec ? r->spec : NULL;
  double draft = 0, draft_att = 0;
  int32_t nd[SPEC_MAX_TOKENS + 2];
  if (spec) memset(nd, 0, sizeof nd);
  double lora_flops = 0;
  for (int i = 0; i < r->nrun; i++) {
    const srv_seq *sq = &r->run[i];
    if (sq->chunk == 0) continue;
    if (r->lora && r->runq[i]->adapter >= 0)
      lora_flops += sq->chunk * h->p->classes[r->runq[i]->cls].lora_flops_tok;
    if (sq->state == SRV_PREFILL) {
      int32_t done = r->runq[i]->computed;
      if (is_static)
        llm_batch_add_prefill(&b, 0, pad, true);
      else
        llm_batch_add_prefill(&b, done, sq->chunk, done + sq->chunk == sq->target);
    } else if (is_static) {
      /* padded: every member at the longest prompt + the steps done */
      ndec++;
      ctx += (double)pad + r->pad_step;
    } else {
      /* the cache holds the prompt and every token generated (the newest
       * is written by this step) */
      ndec++;
      ctx += (double)sq->prompt + sq->generated;
      if (sq->chunk > 1) {
        /* d draft tokens after context c: draft i attends c + i (llm_batch_add_verify) */
        double d = sq->chunk - 1, c = (double)sq->prompt + sq->generated;
        draft += d;
        draft_att += d * c + d * (d + 1) / 2;
        nd[sq->chunk - 1]++;
      }
    }
  }
  if (ndec > 0) llm_batch_add_decode(&b, ndec, ctx / ndec);
  if (spec) {
    b.decode_draft = draft;
    b.decode_draft_attended = draft_att;
  }
  /* a decode-only step scheduled afresh starts a group of nss steps */
  if (nss > 1 && !group) r->ms_left = ndec > 0 && b.prefill_tokens == 0 ? (int32_t)(nss - 1) : 0;
  update_kv_view(r);
  /* the simulation books running sequences and KV blocks per pool
   * (capacity keys) when either changed */
  int32_t kv = (int32_t)kv_used_blocks(&r->kv);
  if (r->nrun != r->nrun_seen || kv != r->kv_seen) {
    srv_running_changed(h->sim, r, r->nrun - r->nrun_seen, kv - r->kv_seen);
    r->nrun_seen = r->nrun;
    r->kv_seen = kv;
  }
  if (b.prefill_tokens + b.decode_seqs <= 0) {
    r->ms_left = 0;
    if (r->busy) {
      r->busy = false;
      srv_replica_busy(h->sim, r, false);
    }
    return;
  }
  if (!r->busy) {
    r->busy = true;
    srv_replica_busy(h->sim, r, true);
  }
  llm_step_cost cost;
  llm_step(r->lr, &b, &cost);
  r->step_flops = cost.flops;
  r->step_bytes = cost.bytes;
  /* the step's swaps as one batched copy over the host link (vLLM issues
   * one cache-copy call per step) */
  const net_link *host = r->host_link;
  double swap_s = r->swap_bytes > 0 && host ? r->swap_bytes / net_bw(host) + net_alpha_s(host) : 0;
  double dur = cost.total_s + swap_s;
  if (r->lora) dur += srv_lora_step_s(r->lora, r->lr, host, lora_flops, !sim_in_warmup(h->eng));
  r->step_time = dur;
  r->step_outside = cost.total_s - cost.gpu_s;
  r->step_coll = cost.comm_s;
  if (spec) {
    /* the drafter's passes: pass j for the sequences drafting j or more
     * tokens (nd turned into those counts), before the verification */
    for (int j = (int)spc->k; j >= 1; j--) nd[j] += nd[j + 1];
    spec_draft_cost dc;
    spec_draft_step(spc, r->drafter, r->lr, &b, nd, (int)spc->k, ndec > 0 ? ctx / ndec : 0, &dc);
    dur += dc.total_s;
    r->step_time = dur;
    r->step_outside += dc.total_s - dc.gpu_s;
    r->step_flops += dc.flops;
    r->step_bytes += dc.bytes;
    r->step_draft = dc.total_s;
  }
  sim_time dt = sim_time_from_s(dur);
  r->step_start = sim_now(h->eng);
  /* the event carries the batch's address, so that its lines can be asked
   * for before the replica's own have arrived */
  sim_schedule_in(h->eng, dt > 0 ? dt : 1, on_step_end, r, (uint64_t)(uintptr_t)r->run);
}

/* run[i] is done: give back its blocks and hand its request to the
 * simulation. */
static void finish(srv_replica *r, int i)
{
  srv_req *q = from_run(r, i);
  free_seq(r, i, true);
  /* without streaming the first token reaches the client with the rest */
  if (q->first_token < 0) {
    q->first_token = sim_now(r->h->eng);
    srv_first_token(r->h->sim, q);
  }
  outstanding_change(r, -1);
  srv_request_done(r->h->sim, q);
}

/* run[i]'s first token reaches the client now. */
static void first_token(srv_replica *r, int i)
{
  srv_req *q = r->runq[i];
  r->run[i].first = false;
  q->first_token = sim_now(r->h->eng);
  srv_first_token(r->h->sim, q);
}

/* Emit one token for run[i]; true when it has all its output. Inline:
 * once per sequence per step. */
static inline bool emit(srv_replica *r, int i)
{
  srv_host *h = r->h;
  srv_seq *sq = &r->run[i];
  sq->generated++;
  h->tokens++;
  if (sq->first && h->streaming) first_token(r, i);
  sq->state = SRV_DECODE;
  return sq->generated >= sq->output;
}

static void on_step_end(sim_engine *eng, void *ctx, uint64_t arg)
{
  srv_replica *r = ctx;
  /* the replica and its batch have gone cold since the step started
   * (other replicas' steps ran meanwhile): ask for both at once, the batch
   * by the address the event carries, then the rest of the batch */
  /* (addresses as integers: a prefetch may point past the batch) */
  uintptr_t batch = (uintptr_t)arg, rep = (uintptr_t)r;
  __builtin_prefetch((const void *)batch, 1);
  __builtin_prefetch((const void *)(batch + 64), 1);
  for (uintptr_t k = 0; k < 192; k += 64) __builtin_prefetch((const void *)(rep + k), 1);
  /* (the batch may have moved since - a decode replica takes a landed
   * request mid-step and its array grows - then the walk starts at its
   * new place: never across the gap between two allocations) */
  uintptr_t cur = (uintptr_t)r->run;
  for (uintptr_t a = batch == cur ? batch + 128 : cur, e = (uintptr_t)(r->run + r->nrun); a < e; a += 64)
    __builtin_prefetch((const void *)a, 1);
  sim_time now = sim_now(eng);
  srv_host *h = r->h;
  bool spec = h->rng_spec != NULL && spec_on(r->spec);
  /* the part of the step inside the measured window */
  sim_time from0 = sim_warmup_end(eng) > 0 ? sim_warmup_end(eng) : 0;
  if (now > from0) {
    sim_time from = r->step_start > from0 ? r->step_start : from0;
    double f = now > r->step_start ? (double)(now - from) / (double)(now - r->step_start) : 1.0;
    r->flops += r->step_flops * f;
    r->bytes += r->step_bytes * f;
    r->steps++;
    r->time_s += r->step_time * f;
    r->outside_s += r->step_outside * f;
    r->coll_s += r->step_coll * f;
    if (spec) r->draft_s += r->step_draft * f;
  }
  bool counted = now > from0;
  bool is_static = sched_of(r)->policy == SRV_STATIC;
  /* multi-step: a sequence done inside a group is held to the group's end,
   * when the group's tokens reach the client */
  bool hold = sched_of(r)->num_scheduler_steps > 1 && r->ms_left > 0;
  int w = 0;
  for (int i = 0; i < r->nrun; i++) {
    srv_seq *sq = &r->run[i];
    bool done = false;
    if (sq->state == SRV_GONE) {
      run_gone(r, i);
      continue;
    }
    if (sq->state == SRV_HELD && !is_static) {
      sq->chunk = 0;
      if (!hold) {
        finish(r, i);
        continue;
      }
    }
    if (sq->chunk > 0) {
      if (sq->state == SRV_PREFILL) {
        srv_req *q = r->runq[i];
        q->computed += sq->chunk;
        if (q->computed >= sq->target) {
          if (r->pc) cache_prompt(r, i);
          done = emit(r, i);
          if (!done && r->role == SRV_ROLE_PREFILL) {
            /* disaggregated: it decodes elsewhere; its blocks stay here
             * until its KV has gone */
            from_run(r, i);
            q->pd_kv = sq->kv;
            r->nsending++;
            srv_pd_prefilled(h->sim, r, q);
            continue;
          }
        }
      } else if (sq->state == SRV_DECODE) {
        done = emit(r, i);
        if (spec) {
          /* the accepted drafts besides the target's own token; the KV
           * of the rejected ones given back */
          int d = sq->chunk - 1, a = d > 0 ? spec_accepted(r->spec, d, h->rng_spec) : 0;
          if (a > 0) {
            sq->generated += a;
            h->tokens += a;
            done = sq->generated >= sq->output;
          }
          if (d > a) kv_rec_shrink(&r->kv, &sq->kv, d - a);
          if (counted) {
            h->spec_proposed += (uint64_t)d;
            h->spec_accepted += (uint64_t)a;
            /* the model it holds: r->spec is srv_params.spec.of[j] */
            ptrdiff_t jm = r->spec - h->p->spec.of;
            if (jm < 0 || jm >= SRV_MAX_MODELS) SIM_BUG("replica %d: its speculation is no model's", r->index);
            h->spec_proposed_model[jm] += (uint64_t)d;
            h->spec_accepted_model[jm] += (uint64_t)a;
            h->spec_seq_steps++;
            h->spec_emitted += (uint64_t)a + 1;
          }
        }
      }
      sq->chunk = 0;
    }
    if (done && (is_static || hold)) {
      sq->state = SRV_HELD;
      done = false;
    }
    if (done) {
      finish(r, i);
      continue;
    }
    if (w != i) {
      r->run[w] = *sq;
      r->runq[w] = r->runq[i];
    }
    w++;
  }
  r->nrun = w;
  if (is_static && r->batch_open) {
    if (r->nrun > 0 && r->run[0].generated > 0) r->pad_step++;
    bool all = true;
    for (int i = 0; i < r->nrun; i++)
      if (r->run[i].state != SRV_HELD) all = false;
    if (all) {
      for (int i = 0; i < r->nrun; i++) finish(r, i);
      r->nrun = 0;
    }
  }
  if (r->batch_open && r->nrun == 0) r->batch_open = false;
  /* disaggregated: blocks or slots freed here may take a prefilled request */
  if (h->pd_pending > 0 && r->role != SRV_ROLE_PREFILL) srv_pd_room(h->sim);
  start_step(r);
}

/* ---- disaggregation (serving_pd.c) ---- */

/* The books' KV blocks follow r's between steps too (an idle replica). */
static void sync_books(srv_replica *r)
{
  int32_t kv = (int32_t)kv_used_blocks(&r->kv);
  if (kv != r->kv_seen) {
    srv_running_changed(r->h->sim, r, 0, kv - r->kv_seen);
    r->kv_seen = kv;
  }
  update_kv_view(r);
}

void srv_replica_sent(srv_replica *r, srv_req *q)
{
  if (r->nsending <= 0) SIM_BUG("replica %d: request %lld was not prefilled here", r->index, (long long)q->id);
  free_rec(r, q, &q->pd_kv, true);
  r->nsending--;
  outstanding_change(r, -1);
  sync_books(r);
  /* an idle replica whose blocks were all held may admit again */
  if (!r->busy && r->nwait > 0) start_step(r);
}

kv_admit srv_replica_can_take(const srv_replica *r, const srv_req *q)
{
  kv_admit a = kv_admit_check(&r->kv, (int64_t)q->target + 1);
  if (a == KV_ADMIT_NEVER) return a;
  /* its own queue first: preempted requests (or, on a "both" replica,
   * prompts routed to it) are older than this one's transfer */
  if (r->nwait > 0 || r->nswapped > 0 || r->nrun + r->nincoming >= r->maxrun) return KV_ADMIT_LATER;
  return a;
}

void srv_replica_reserve(srv_replica *r, srv_req *q)
{
  kv_rec_clear(&q->pd_dst_kv);
  kv_rec_reserve(&r->kv, &q->pd_dst_kv, q->target);
  r->nincoming++;
  sync_books(r);
}

void srv_replica_unreserve(srv_replica *r, srv_req *q)
{
  if (r->nincoming <= 0) SIM_BUG("replica %d: no transfer on its way", r->index);
  kv_rec_free(&r->kv, &q->pd_dst_kv);
  r->nincoming--;
  sync_books(r);
  if (!r->busy && r->nwait > 0) start_step(r);
}

void srv_replica_land(srv_replica *r, srv_req *q)
{
  if (r->nincoming <= 0) SIM_BUG("replica %d: no transfer on its way", r->index);
  r->nincoming--;
  q->replica = r->index;
  q->computed = q->target;
  srv_seq *sq = seat(r, q, SRV_DECODE);
  sq->kv = q->pd_dst_kv;
  kv_rec_clear(&q->pd_dst_kv);
  outstanding_change(r, +1);
  if (!r->busy) start_step(r);
}
