/* models/serving/serving_lora.h: LoRA adapters on a replica (serving_lora.c),
 * for the scheduler: which adapters its batch uses, which are resident in
 * its GPU slots (loaded from host memory on demand, least recently used
 * evicted), and what they add to a step. A batch holds at most max_loras
 * distinct adapters (vLLM's --max-loras; SGLang's max_loras_per_batch); a
 * request whose adapter would exceed it waits while later ones go ahead,
 * as vLLM's scheduler skips it. */
#ifndef SERVING_LORA_H
#define SERVING_LORA_H

#include <stdbool.h>
#include <stdint.h>

#include "models/llm/llm_step.h"
#include "models/serving/serving.h"
#include "sim/time.h"

struct srv_req;

typedef struct srv_lora_state {
  const srv_params *p;
  /* the replica's queued requests by lane - adapters [0, lora_total),
   * then per class those without one - each lane in its class queue's
   * order (a ring: head->lprev is its tail); places handed out at the
   * back (ascending) and the front (descending) of the class queues */
  struct srv_req **lane;
  int64_t seq_back, seq_front;
  int32_t *running;        /* per adapter: sequences of the batch using it */
  int32_t *slot;           /* resident adapters, [0, nslots) */
  sim_time *used;          /* when each slot's adapter last joined the batch */
  int nslots, maxslots;
  int32_t distinct;        /* adapters with running > 0 */
  int64_t bytes_running;   /* their bytes (whole replica) */
  int64_t load_bytes;      /* loaded for the step being composed (whole replica) */
  /* measured window */
  uint64_t loads;
  double load_s, op_s;     /* step time loading adapters, in LoRA operators */
  int32_t distinct_max;
} srv_lora;

/* Set up / release r's LoRA state (slots: its pool's max_loras). */
void srv_lora_init(srv_lora *L, const srv_params *p, int slots);
void srv_lora_release(srv_lora *L);
/* A request of adapter a (-1: none) may join the batch now. */
static inline bool srv_lora_fits(const srv_lora *L, int32_t a)
{
  return a < 0 || L->running[a] > 0 || L->distinct < L->maxslots;
}
/* A sequence of adapter a joins / leaves the batch (a < 0: nothing);
 * joining loads a that is not resident (measured: counted). */
void srv_lora_join(srv_lora *L, int32_t a, sim_time now, bool measured);
void srv_lora_leave(srv_lora *L, int32_t a);
/* q (its cls, adapter set) joins r's class queue at its back, or its
 * front (a preempted request): its place (q->wseq) and its lane. O(1). */
void srv_lora_queued(srv_lora *L, struct srv_req *q, bool front);
/* q leaves r's class queue (admitted, timed out, evicted): out of its
 * lane. O(1). */
void srv_lora_unqueued(srv_lora *L, struct srv_req *q);
/* Every slot taken by an adapter of the batch: the request of class c
 * nearest the head of its queue that may join the batch (its adapter
 * runs, or it has none) - vLLM's skip-and-keep over the whole queue -
 * NULL if none. O(max_loras): the heads of the running adapters' lanes. */
struct srv_req *srv_lora_first_fit(const srv_lora *L, int c);
/* What the adapters add to a step of r (lr; host: its GPUs' host link,
 * NULL none) running `lora_flops` LoRA FLOPs (whole replica): the adapter
 * loads of the step, then the operators reading each distinct adapter's
 * weights once (memory-bound, as Punica's SGMV) or their FLOPs, whichever
 * is slower; books them if measured. */
double srv_lora_step_s(srv_lora *L, const llm_replica *lr, const net_link *host, double lora_flops, bool measured);
/* Class c's adapter bytes and FLOPs per token (whole replica, its model). */
double srv_lora_bytes(const srv_params *p, int c);
double srv_lora_flops_per_token(const srv_params *p, int c);
/* The class of adapter a. */
int srv_lora_class(const srv_params *p, int32_t a);

#endif
