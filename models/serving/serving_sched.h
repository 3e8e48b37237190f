/* models/serving/serving_sched.h: the interface between the serving
 * simulation (serving_sim.c: arrivals, routing, statistics, outputs) and
 * one replica's batching (serving_sched.c), both ways. The scheduler sees
 * only this file: the requests it is given, its replicas, and srv_host -
 * what it needs of the simulation (settings, the engine, the router's view
 * of each replica, running totals over all replicas that it keeps up to
 * date) - plus the five functions of serving_sim.c it calls. The
 * simulation's own state (srv_sim) is opaque here; the simulation reads a
 * replica only through the fields marked readable.
 *
 * Layout: a decode step reads three cache lines of its replica and its
 * batch, an array of srv_seq (the hot part of each running request, 32
 * bytes, two to a cache line), and no request; requests (cold: times, ids,
 * class, prefill progress) are touched when they are admitted, prefill,
 * emit their first token, are preempted or finish. */
#ifndef SERVING_SCHED_H
#define SERVING_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "models/serving/kvcache.h"
#include "models/serving/prefix_cache.h"
#include "models/serving/prefix_tier.h"
#include "models/serving/router.h"
#include "models/serving/serving.h"
#include "sim/engine.h"

/* A conversation id with this bit set is a request's own: no later
 * request shares its prompt beyond the system prompt. */
#define SRV_CONV_OWN (UINT64_C(1) << 63)

/* Where a request is. */
enum { SRV_WAITING, SRV_PREFILL, SRV_DECODE, SRV_HELD, SRV_SWAPPED, SRV_GONE,
       /* disaggregated (serving_pd.c): prefilled on a prefill replica
        * (q->replica), holding its blocks there (q->pd_kv), and waiting for
        * a decode replica with room / its KV on the way to q->pd_dst */
       SRV_XFER_WAIT, SRV_XFER,
       /* several models (serving_models.c): sent to replica q->replica,
        * waiting there for it to load q's model */
       SRV_PARKED,
       /* its prefix's blocks on their way from the prefix cache's host
        * memory or SSD (prefix_tier.h), its blocks reserved (load_kv) */
       SRV_LOADING };

/* One request, from a pool reused as requests finish: memory follows the
 * requests in flight, not those completed. While it runs, its progress
 * (generated, target, state) lives in its srv_seq and is copied back when
 * it leaves the batch (preempted or finished); computed stays here. */
typedef struct srv_req srv_req;
struct srv_req {
  sim_time arrival, first_sched, first_token;  /* first_*: -1 until it happens */
  int64_t id;
  int32_t prompt, output;       /* tokens asked for */
  int32_t generated;            /* output tokens produced so far */
  int32_t target;               /* tokens to prefill: prompt, or prompt + generated after a recompute */
  int32_t computed;             /* of target, already in the KV cache; swapped out: tokens held */
  int32_t preemptions;
  int32_t replica;
  uint8_t cls, state;           /* state: where it is (running: PREFILL or DECODE, set at admission) */
  bool measured;                /* arrived after the warm-up */
  bool timed_out;               /* its client gave up (timeout_s) */
  sim_event_id timeout_ev;      /* its client's time-out, 0 none */
  /* what its prompt shares with others (the prefix cache's keys): its
   * first sys_tokens tokens are system prompt `sys` (0: none), the rest
   * conversation `conv` (a request alone has one of its own) */
  uint32_t sys;
  int32_t sys_tokens;
  uint64_t conv;
  uint64_t pfx_sys, pfx_conv;   /* their pc_prefix, once a prefix cache has seen it (0: not yet) */
  int32_t nref;                 /* running: its first nref blocks are the prefix cache's, held */
  /* its last look-up in a prefix cache (a request waiting at the head of a
   * queue is looked up each step: the answer stands while that cache and
   * the request are unchanged) */
  uint64_t pc_version;
  int32_t pc_replica, pc_target, pc_hits, pc_idle;
  int32_t pc_host, pc_ssd;      /* of that look-up: the blocks after pc_hits found in host memory, on the SSD */
  int32_t session;              /* its conversation's slot (serving_session.c), -1 none */
  int32_t adapter;              /* its LoRA adapter (serving_lora.h), -1 none */
  srv_req *next;                /* queue link */
  /* queued in its replica's class queue (serving_sched.c): the link
   * back (the queue is doubly linked: a request leaves it from anywhere in
   * O(1)); with LoRA adapters, its lane (serving_lora.h: the queued
   * requests of its adapter, in queue order, a ring) and its place in the
   * class queue (smaller: nearer the head) */
  srv_req *prev, *lnext, *lprev;
  int64_t wseq;
  /* disaggregated, between its prefill and its decode (serving_pd.c):
   * its blocks on the prefill replica, the ones reserved on the decode
   * replica pd_dst, the transfer's end event, when its prefill ended and
   * when its transfer was started, its slot in the transfers in flight */
  kv_rec pd_kv, pd_dst_kv;
  int32_t pd_dst, pd_slot;
  sim_event_id pd_ev;
  sim_time pd_ready, pd_start;
  /* loading from the prefix cache's lower tiers (SRV_LOADING): the blocks
   * reserved for the rest of its prompt, when its load starts on the
   * host link and when it lands */
  kv_rec load_kv;
  sim_time load_start, load_done;
};

typedef struct {
  srv_req *head, *tail;
} srv_fifo;

/* A running request as its step sees it, in its replica's batch (its
 * request is the replica's runq at the same position). */
typedef struct {
  kv_rec kv;                    /* its KV blocks */
  int32_t prompt, output, generated, target;  /* as in srv_req */
  int32_t chunk;                /* this step: prefill tokens, 1 for a decode (1 + its drafts speculating), 0 not in it */
  uint8_t state;
  bool first;                   /* its next token is its first (first_token < 0) */
} srv_seq;

typedef struct srv_sim srv_sim;  /* the simulation's state (serving_int.h) */

/* What the scheduler needs of the simulation; owned by the simulation,
 * shared by all replicas. */
typedef struct {
  srv_sim *sim;                 /* for the functions below */
  const srv_params *p;
  sim_engine *eng;
  bool streaming;               /* first tokens reach the client when made */
  route_replica *view;          /* per replica: what the router sees (kv_used kept only for a policy that reads it) */
  route_router *router;         /* told (route_update) of each change of a view it reads */
  route_router *pool_router;    /* NULL, or per pool: a router over its replicas (classes bound to a pool) */
  const int *pool_first;        /* with pool_router: each pool's first replica */
  void (*view_hook)(srv_sim *sim, int replica);  /* NULL, or told of each change of a replica's view */
  /* running totals over all replicas, kept up to date by the scheduler */
  int64_t waiting;              /* requests queued or swapped out */
  double tokens;                /* output tokens emitted (the simulation zeroes it per interval) */
  uint64_t preemptions, swaps;  /* after the warm-up */
  double prompt_tokens_admitted; /* after the warm-up: prompt tokens of admissions (recomputes too) */
  double prompt_tokens_cached;  /* of them, found in a prefix cache (any tier) */
  /* the prefix cache's lower tiers, after the warm-up: prompt tokens
   * loaded from host memory and from the SSD (part of prompt_tokens_cached),
   * loads started and their time from admission to landing (s) */
  double prompt_tokens_host, prompt_tokens_ssd;
  uint64_t tier_loads;
  double tier_load_s;
  /* speculative decoding (NULL, zeros when off): its random stream
   * ("serving.speculative"), and over the measured window the draft
   * tokens proposed and accepted, the decode steps of sequences and the
   * tokens they emitted */
  gsl_rng *rng_spec;
  uint64_t spec_proposed, spec_accepted, spec_seq_steps, spec_emitted;
  uint64_t spec_proposed_model[SRV_MAX_MODELS], spec_accepted_model[SRV_MAX_MODELS];  /* the same, per model */
  int64_t pd_pending;           /* disaggregated: prefilled requests waiting for a decode replica */
} srv_host;

/* One replica. Fields are private; those marked readable may be read by
 * the simulation. Laid out for a step: three cache lines (the struct is
 * 64-byte aligned, so an array of replicas must be too) hold all a decode
 * step reads of it; the queues are read only when something waits. */
typedef struct {
  /* line 1: the batch and how much waits */
  _Alignas(64) srv_host *h;
  srv_seq *run;                    /* admitted, in admission order */
  srv_req **runq;                  /* their requests, in the same order */
  int32_t nrun, maxrun;            /* readable: nrun; maxrun: the policy's batch limit */
  int32_t caprun;                  /* run and runq allocated (grows to maxrun) */
  int32_t nrun_seen;               /* nrun as last reported to srv_running_changed */
  int32_t index;                   /* readable */
  bool busy;                       /* readable: a step is running */
  bool batch_open;                 /* static/dynamic: a batch is running */
  int64_t nwait, nswapped;         /* readable: queued (all classes), swapped out */
  /* line 2: the step in progress, the totals (measured window, readable) */
  sim_time step_start;
  double step_flops, step_bytes;   /* its work (whole replica) */
  double swap_bytes;               /* KV bytes per GPU swapped in or out during it */
  double flops, bytes;
  uint64_t steps;
  const llm_replica *lr;           /* readable */
  /* line 3 (kv's sliding-window fields, read only when a windowed
   * model's sequence needs a block, spill into line 4) */
  int32_t pool;                    /* readable */
  int32_t kv_seen;                 /* KV blocks in use as last reported to srv_running_changed */
  kv_cache kv;                     /* readable */
  /* cold: requests waiting or swapped out, idle and static-batch state */
  srv_fifo swapped;                /* preempted to host memory, oldest first */
  srv_fifo wait[SRV_MAX_CLASSES];  /* by class */
  const net_link *host_link;       /* its GPUs' link to host memory (swaps), NULL none */
  double gpus;                     /* readable */
  sim_event_id timer;              /* static/dynamic: the batch timeout, 0 none */
  int32_t pad_prompt;              /* static: the batch's longest prompt */
  int32_t pad_out;                 /* static: its longest output */
  int32_t pad_step;                /* static: decode steps done */
  int32_t ms_left;                 /* multi-step: decode steps of the group after the running one */
  /* the step in progress, and totals over the measured window (readable):
   * its time, the part outside GPU kernels, the part in collectives */
  double step_time, step_outside, step_coll;
  double time_s, outside_s, coll_s;
  pc_cache *pc;                    /* its prefix cache (scheduler.prefix_caching), NULL none */
  /* disaggregation (serving_pd.c): its pool's role; requests prefilled
   * here whose KV has not left yet (their blocks held), requests whose KV
   * is on its way here (their blocks reserved) - both readable */
  int32_t role;
  int64_t nsending, nincoming;
  double step_draft, draft_s;      /* speculative decoding: drafting's part of the step, and its total (readable) */
  const spec_cfg *spec;            /* the model it holds: its speculation (srv_params.spec.of[j]) */
  const spec_pool *drafter;        /* and its drafter on this pool (var[j].spec) */
  struct srv_lora_state *lora;     /* its LoRA adapters (serving_lora.h), NULL when no class has any (readable) */
  /* the prefix cache's lower tiers (scheduler.prefix_cache_host_gb), NULL
   * none; requests whose prefix is loading, in the order their loads land
   * (one at a time over the host link, which is free again at
   * tier_link_free), the event of the next landing (0 none) */
  pt_tier *tier;
  srv_fifo loading;
  int64_t nloading;                /* readable */
  sim_time tier_link_free;
  sim_event_id tier_ev;
} srv_replica;

/* ---- serving_sched.c, for the simulation ---- */

/* Set up replica `index` of pool `pool` (h outlives it); r is 64-byte
 * aligned. */
void srv_replica_init(srv_replica *r, srv_host *h, int index, int pool);
void srv_replica_release(srv_replica *r);
/* A request routed to r (not rejected): queue it and start a step if idle. */
void srv_replica_enqueue(srv_replica *r, srv_req *q);
/* Requests in r: waiting, swapped, running. */
int64_t srv_replica_in_system(const srv_replica *r);
/* r is going away (a spot interruption): hand every request in it -
 * waiting (only those if `waiting_only`), swapped out, running - to
 * srv_request_evicted, each reset to be computed again from its prompt and
 * the tokens it has made (recompute); its KV blocks are freed. A step in
 * flight ends with nothing to emit. */
void srv_replica_evict(srv_replica *r, bool waiting_only);
/* Take q out of f (wherever it is: a client's time-out finds it near the
 * head, the oldest of its class); false if it is not there. */
bool srv_fifo_remove(srv_fifo *f, srv_req *q);
/* q, in r (queued, swapped out or running), is given up by its client:
 * take it out - a running one's KV blocks are freed, at the end of the
 * step in flight if it is in one (the GPU has done that work) - and hand
 * it to srv_request_rejected with q->timed_out set. */
void srv_replica_cancel(srv_replica *r, srv_req *q);
/* r stops (or starts afresh): its prefix cache empties. Nothing may run. */
void srv_replica_clear_cache(srv_replica *r);
/* r now holds model v (one of its pool's var): its step costs and a KV
 * cache of v's blocks, empty (its prefix cache too). Nothing may be in r. */
void srv_replica_set_model(srv_replica *r, const srv_pool_model *v);
/* Disaggregation, for serving_pd.c. q (SRV_XFER_WAIT or SRV_XFER), sent
 * from prefill replica r, leaves it: its blocks there (q->pd_kv) are freed
 * (its full prompt blocks stay in r's prefix cache) and r counts it no
 * more. */
void srv_replica_sent(srv_replica *r, srv_req *q);
/* Can decode replica r take q's KV now: a sequence slot and blocks for
 * its q->target tokens and the next (with the watermark)? KV_ADMIT_NEVER
 * when it never could. */
kv_admit srv_replica_can_take(const srv_replica *r, const srv_req *q);
/* Reserve those blocks on r for q's transfer (q->pd_dst_kv), or give them
 * back (the transfer was called off). */
void srv_replica_reserve(srv_replica *r, srv_req *q);
void srv_replica_unreserve(srv_replica *r, srv_req *q);
/* q's KV has landed on r (reserved there): it joins r's batch decoding,
 * a step starting if r is idle. */
void srv_replica_land(srv_replica *r, srv_req *q);

/* ---- serving_sim.c, for the scheduler ---- */

/* q completed / was rejected (why: for the reader): the simulation takes
 * it back (statistics, then the pool). */
void srv_request_done(srv_sim *s, srv_req *q);
void srv_request_rejected(srv_sim *s, srv_req *q, const char *why);
/* q was taken out of a replica by srv_replica_evict: the simulation sends
 * it elsewhere. */
void srv_request_evicted(srv_sim *s, srv_req *q);
/* q->first_token was just set. */
void srv_first_token(srv_sim *s, srv_req *q);
/* r starts (busy) or stops running steps. */
void srv_replica_busy(srv_sim *s, srv_replica *r, bool busy);
/* Disaggregation (serving_pd.c): q was prefilled on prefill replica r
 * and made its first token; its blocks are in q->pd_kv (r->nsending
 * counts it); send its KV to a decode replica. */
void srv_pd_prefilled(srv_sim *s, srv_replica *r, srv_req *q);
/* Decode replica r may have room (blocks or a slot freed): start the
 * transfers waiting for one (call when h->pd_pending > 0). */
void srv_pd_room(srv_sim *s);
/* q (SRV_XFER_WAIT or SRV_XFER) is given up by its client: its transfer
 * is called off (a decode replica's reservation given back) and its
 * prefill replica frees its blocks; the caller then rejects it. */
void srv_pd_cancel(srv_sim *s, srv_req *q);
/* r goes away: transfers from it are called off (the caller recomputes
 * their requests), transfers to it go back to waiting for a decode
 * replica. */
void srv_pd_replica_gone(srv_sim *s, srv_replica *r);

/* r composed a step (or went idle) and the sequences it runs changed by
 * dseqs, or the KV blocks it holds by dkv, since the last call. */
void srv_running_changed(srv_sim *s, srv_replica *r, int dseqs, int dkv);

#endif
