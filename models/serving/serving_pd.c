/* models/serving/serving_pd.c: prefill/decode disaggregation, the
 * simulation's side. A pool with role "prefill" runs prompts only; when a
 * request's prefill ends (its first token made there, TTFT measured
 * there) it waits, holding its blocks on the prefill replica, for a
 * decode replica (role "decode" or "both") with a free sequence slot and
 * blocks for its KV; that replica reserves them, the KV crosses the link,
 * and when it lands the prefill replica frees its blocks and the request
 * joins the decode replica's batch. This is the pull design of DistServe
 * (Zhong et al., OSDI 2024, section 4.4: the decoding instance fetches a
 * prefilled request's KV cache when it has memory for it, so prefill
 * instances hold it meanwhile), Mooncake (Qin et al., FAST 2025) and
 * vLLM's NixlConnector (the decode side allocates blocks, then reads the
 * prefill side's, which frees them once they are read).
 *
 * Waiting for a decode replica is first come, first served (the oldest
 * prefilled request first, none overtaking within its model: as vLLM
 * admits); the decode replica is the least loaded holding the request's
 * model that can take it, load being the share of its KV blocks in use or
 * reserved (then fewer sequences, then the lower index). With several
 * models (serving_models_pd.c) a request waits only behind requests of
 * its own model; the KV moved is its model's. With LoRA, the decode
 * replica takes a slot for the request's adapter when it reserves the
 * KV's blocks (loading the adapter over its host link in its next step
 * if not resident), so the transfers on their way never exceed its
 * max_loras. Back-pressure: while every decode replica is full, prefilled
 * requests keep their prefill blocks, and the prefill replicas admit less.
 *
 * The transfer: the prompt's KV (q->target tokens) from the prefill
 * replica's GPUs to the decode replica's, each GPU sending its own shard
 * over its own NIC at once (a replica has a NIC per GPU, as DGX/HGX
 * nodes), so it takes alpha + max(bytes per prefill GPU, bytes per decode
 * GPU) / bandwidth of cluster.kv_transfer_link (default: the prefill
 * pool's net_link); tp, pp and attention data parallelism on each side
 * set its shard (kv_bytes_per_token_gpu). Transfers sharing a replica's
 * NICs go one after the other (first come, first served), not side by
 * side: the same total rate as a fair share, each transfer finishing no
 * later on average, none allocated per event.
 *
 * Nothing is lost: a client's time-out mid-transfer calls the transfer
 * off (the decode replica's reservation back, the prefill blocks freed);
 * a prefill replica that goes sends its prefilled requests to be computed
 * again; a decode replica that goes sends the transfers on their way to
 * it back to waiting, their prefill blocks still held. */
#include <math.h>
#include <stdlib.h>

#include "models/serving/serving_int.h"
#include "models/serving/serving_lora.h"
#include "sim/util.h"

struct srv_pd {
  srv_fifo pending;                /* SRV_XFER_WAIT, oldest first */
  int64_t waiting[SRV_MAX_MODELS]; /* of them, per model */
  srv_req **fly;                   /* SRV_XFER (q->pd_slot: its index) */
  int64_t nfly, capfly;
  sim_time *nic_free;              /* per replica: when its NICs end the transfers queued on them */
  sim_quantiles time, wait;        /* measured: transfer (dispatch to landing), wait for a decode replica */
  double time_sum, wait_sum, bytes;
  uint64_t n;
};

void srv_pd_init(srv_sim *s)
{
  if (!s->p->pd) return;
  srv_pd *pd = xcalloc(1, sizeof *pd);
  pd->nic_free = xcalloc((size_t)s->nreps, sizeof *pd->nic_free);
  sim_quantiles_init(&pd->time, SIM_QUANTILE_EXACT_DEFAULT);
  sim_quantiles_init(&pd->wait, SIM_QUANTILE_EXACT_DEFAULT);
  s->pd = pd;
}

void srv_pd_release(srv_sim *s)
{
  srv_pd *pd = s->pd;
  if (!pd) return;
  sim_quantiles_release(&pd->time);
  sim_quantiles_release(&pd->wait);
  free(pd->nic_free);
  free(pd->fly);
  free(pd);
  s->pd = NULL;
}

/* ---- the transfer ---- */

double srv_pd_transfer_s(const srv_params *p, int from_pool, int to_pool, int j, int64_t tokens, double *bytes)
{
  const srv_pool_cfg *a = &p->pools[from_pool], *b = &p->pools[to_pool];
  const net_link *link = p->kv_link ? p->kv_link : a->net;
  /* model j's layout on each side (a pool's var[j]: j as it holds it) */
  const llm_replica *la = &a->var[j].lr, *lb = &b->var[j].lr;
  double send = kv_bytes_per_token_gpu(la) * (double)tokens;
  double recv = kv_bytes_per_token_gpu(lb) * (double)tokens;
  /* the KV itself, counted once (replicated KV heads are not sent twice) */
  if (bytes) *bytes = llm_kv_bytes_per_token(p->models[j], la->kv_bytes) * (double)tokens;
  return net_alpha_s(link) + (send > recv ? send : recv) / net_bw(link);
}

static void fly_add(srv_pd *pd, srv_req *q)
{
  if (pd->nfly == pd->capfly) {
    pd->capfly = pd->capfly ? 2 * pd->capfly : 64;
    pd->fly = xrealloc(pd->fly, (size_t)pd->capfly * sizeof *pd->fly);
  }
  q->pd_slot = (int32_t)pd->nfly;
  pd->fly[pd->nfly++] = q;
}

static void fly_remove(srv_pd *pd, srv_req *q)
{
  int64_t i = q->pd_slot;
  if (i < 0 || i >= pd->nfly || pd->fly[i] != q) SIM_BUG("serving: request %lld is not in flight", (long long)q->id);
  pd->fly[i] = pd->fly[--pd->nfly];
  pd->fly[i]->pd_slot = (int32_t)i;
  q->pd_slot = -1;
}

static inline int model_of(const srv_sim *s, const srv_req *q);

/* The models with requests in the waiting line, as a bit set. */
static uint32_t waiting_models(const srv_sim *s)
{
  uint32_t w = 0;
  for (int j = 0; j < s->p->nmodels; j++)
    if (s->pd->waiting[j] > 0) w |= 1u << j;
  return w;
}

static void pending_push(srv_sim *s, srv_req *q, bool front)
{
  srv_fifo *f = &s->pd->pending;
  q->state = SRV_XFER_WAIT;
  if (front) {
    q->next = f->head;
    f->head = q;
    if (!f->tail) f->tail = q;
  } else {
    q->next = NULL;
    if (f->tail)
      f->tail->next = q;
    else
      f->head = q;
    f->tail = q;
  }
  s->host.pd_pending++;
  s->pd->waiting[model_of(s, q)]++;
}

static inline int model_of(const srv_sim *s, const srv_req *q) { return s->p->classes[q->cls].model_idx; }

/* r lost a request it counted: a draining replica with nothing left
 * stops; one emptied for a swap (requests parked, a decode replica
 * claimed for another model) loads it. */
static void maybe_idle(srv_sim *s, srv_replica *r)
{
  if (r->busy) return;
  if (s->elastic) srv_scale_idle(s, r);
  if (s->mm) srv_models_idle(s, r);
}

static void on_landed(sim_engine *eng, void *ctx, uint64_t arg)
{
  srv_sim *s = ctx;
  srv_pd *pd = s->pd;
  srv_req *q = (srv_req *)(uintptr_t)arg;
  sim_time now = sim_now(eng);
  q->pd_ev = 0;
  fly_remove(pd, q);
  srv_replica *from = &s->reps[q->replica], *to = &s->reps[q->pd_dst];
  if (q->measured) {
    double bytes;
    srv_pd_transfer_s(s->p, from->pool, to->pool, model_of(s, q), q->target, &bytes);
    double t = sim_time_to_s(now - q->pd_start), w = sim_time_to_s(q->pd_start - q->pd_ready);
    sim_quantiles_add(&pd->time, t);
    sim_quantiles_add(&pd->wait, w);
    pd->time_sum += t;
    pd->wait_sum += w;
    pd->bytes += bytes;
    pd->n++;
  }
  srv_replica_sent(from, q);
  maybe_idle(s, from);
  /* its adapter's slot, held since the reservation, passes to its seat */
  if (to->lora) srv_lora_leave(to->lora, q->adapter);
  srv_replica_land(to, q);
}

/* Start q's transfer to decode replica d. */
static void start(srv_sim *s, srv_req *q, int d)
{
  srv_pd *pd = s->pd;
  sim_time now = sim_now(s->eng);
  srv_replica *from = &s->reps[q->replica], *to = &s->reps[d];
  srv_replica_reserve(to, q);
  /* LoRA: the decode replica takes the adapter's slot now (loading it over
   * its host link in its next step if it is not resident), so that the
   * transfers on their way never exceed its max_loras */
  if (to->lora) srv_lora_join(to->lora, q->adapter, now, !sim_in_warmup(s->eng));
  q->pd_dst = d;
  q->pd_start = now;
  q->state = SRV_XFER;
  double dur = srv_pd_transfer_s(s->p, from->pool, to->pool, model_of(s, q), q->target, NULL);
  sim_time at = now;
  if (pd->nic_free[from->index] > at) at = pd->nic_free[from->index];
  if (pd->nic_free[d] > at) at = pd->nic_free[d];
  at += sim_time_from_s(dur);
  pd->nic_free[from->index] = pd->nic_free[d] = at;
  fly_add(pd, q);
  q->pd_ev = sim_schedule_at(s->eng, at, on_landed, s, (uint64_t)(uintptr_t)q);
}

/* Take q out of the waiting line (prev: the one before it, NULL: q is first). */
static void pending_unlink(srv_sim *s, srv_req *prev, srv_req *q)
{
  srv_fifo *f = &s->pd->pending;
  if (prev)
    prev->next = q->next;
  else
    f->head = q->next;
  if (f->tail == q) f->tail = prev;
  q->next = NULL;
  s->host.pd_pending--;
  s->pd->waiting[model_of(s, q)]--;
}

void srv_pd_room(srv_sim *s)
{
  srv_pd *pd = s->pd;
  if (!pd) return;
  /* first come, first served within a model: a request none of its
   * model's decode replicas can take holds back the later ones of that
   * model only (with one model, the line stops there); the walk ends when
   * every model with requests waiting is blocked */
  uint32_t blocked = 0;
  srv_req *prev = NULL;
  /* after a request leaves the line, from its head again: what that set
   * off (a replica stopping, a swap) may have changed the line */
  for (srv_req *q = pd->pending.head; q && (waiting_models(s) & ~blocked);
       q = prev ? prev->next : pd->pending.head) {
    int j = model_of(s, q);
    if (blocked >> j & 1) {
      prev = q;
      continue;
    }
    bool never;
    int d = srv_models_pd_decode(s, q, &never);
    if (d >= 0) {
      pending_unlink(s, prev, q);
      start(s, q, d);
      prev = NULL;
    } else if (never) {
      /* no decode replica could ever hold it */
      pending_unlink(s, prev, q);
      srv_replica *from = &s->reps[q->replica];
      srv_replica_sent(from, q);
      srv_request_rejected(s, q, "larger than the decode KV cache");
      maybe_idle(s, from);
      prev = NULL;
    } else {
      blocked |= 1u << j;
      prev = q;
    }
  }
}

void srv_pd_prefilled(srv_sim *s, srv_replica *r, srv_req *q)
{
  q->pd_ready = sim_now(s->eng);
  q->pd_dst = -1;
  q->pd_slot = -1;
  kv_rec_clear(&q->pd_dst_kv);
  (void)r;
  pending_push(s, q, false);
  srv_pd_room(s);
}

/* q's transfer is called off: it is taken out of the waiting line or out
 * of flight (the decode replica's reservation given back). */
static void call_off(srv_sim *s, srv_req *q)
{
  srv_pd *pd = s->pd;
  if (q->state == SRV_XFER_WAIT) {
    if (!srv_fifo_remove(&pd->pending, q)) SIM_BUG("serving: request %lld is not waiting for a decode replica",
                                                  (long long)q->id);
    s->host.pd_pending--;
    pd->waiting[model_of(s, q)]--;
  } else if (q->state == SRV_XFER) {
    sim_cancel(s->eng, q->pd_ev);
    q->pd_ev = 0;
    fly_remove(pd, q);
    srv_replica *to = &s->reps[q->pd_dst];
    if (to->lora) srv_lora_leave(to->lora, q->adapter);
    srv_replica_unreserve(to, q);
    q->pd_dst = -1;
    maybe_idle(s, to);
  } else {
    SIM_BUG("serving: request %lld (state %d) has no transfer", (long long)q->id, q->state);
  }
}

void srv_pd_cancel(srv_sim *s, srv_req *q)
{
  call_off(s, q);
  srv_replica *from = &s->reps[q->replica];
  srv_replica_sent(from, q);
  maybe_idle(s, from);
  srv_pd_room(s);
}

void srv_pd_replica_gone(srv_sim *s, srv_replica *r)
{
  srv_pd *pd = s->pd;
  if (!pd) return;
  /* transfers to r: back to waiting (the oldest ahead), their prefill
   * blocks still held */
  for (int64_t i = pd->nfly - 1; i >= 0 && r->nincoming > 0; i--) {
    srv_req *q = pd->fly[i];
    if (q->pd_dst != r->index) continue;
    call_off(s, q);
    pending_push(s, q, true);
  }
  /* requests prefilled on r: their KV goes with it, computed again */
  while (r->nsending > 0) {
    srv_req *q = NULL;
    for (srv_req *x = pd->pending.head; x && !q; x = x->next)
      if (x->replica == r->index) q = x;
    for (int64_t i = 0; i < pd->nfly && !q; i++)
      if (pd->fly[i]->replica == r->index) q = pd->fly[i];
    if (!q) SIM_BUG("serving: replica %d sends %lld requests it does not have", r->index, (long long)r->nsending);
    call_off(s, q);
    srv_replica_sent(r, q);
    q->state = SRV_WAITING;
    q->target = q->prompt + q->generated;
    q->computed = 0;
    q->next = NULL;
    srv_request_evicted(s, q);
  }
  /* those sent back may go to another decode replica now (r is down) */
  srv_pd_room(s);
}

/* ---- the summary ---- */

void srv_pd_report(srv_sim *s, sim_report *rep)
{
  srv_pd *pd = s->pd;
  if (!pd) return;
  double n = (double)pd->n;
  sim_report_int(rep, "kv_transfers", (int64_t)pd->n, "KV transfers, prefill to decode (measured)");
  sim_report_num(rep, "kv_transfer_gb", pd->bytes / 1e9, "  KV moved (GB)");
  sim_report_num(rep, "kv_transfer_time_mean_s", n > 0 ? pd->time_sum / n : NAN, "  transfer time, mean (s)");
  sim_report_num(rep, "kv_transfer_time_p99_s", n > 0 ? sim_quantiles_get(&pd->time, 0.99) : NAN,
                 "  transfer time, p99 (s)");
  sim_report_num(rep, "kv_transfer_wait_mean_s", n > 0 ? pd->wait_sum / n : NAN,
                 "  wait for a decode replica's KV, mean (s)");
  sim_report_num(rep, "kv_transfer_wait_p99_s", n > 0 ? sim_quantiles_get(&pd->wait, 0.99) : NAN,
                 "  wait for a decode replica's KV, p99 (s)");
}
