/* models/serving/serving_capacity.h: what a serving cluster can take, as
 * opposed to how busy it looks: the context-length rule every request
 * passes (too long: rejected or cut), the saturation probe (the request
 * rate one replica of a pool sustains for the workload's size mix when it
 * is never short of work; serving_capacity.c) with its in-process cache,
 * and the per-pool books serving_sim.c keeps for the capacity and per-pool
 * keys. Not a public interface: other models use serving.h. */
#ifndef SERVING_CAPACITY_H
#define SERVING_CAPACITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/serving/serving.h"
#include "models/serving/serving_int.h"

/* ---- the context-length rule ---- */

typedef enum {
  SRV_FITS,     /* prompt + output <= context */
  SRV_CUT,      /* too long, cut to fit (truncate mode) */
  SRV_TOO_LONG  /* too long: rejected */
} srv_fit;

/* The rule vLLM's OpenAI-compatible server applies (serving_engine.py,
 * _validate_prompt_and_tokenize): a request asking for prompt + max_tokens
 * > max_model_len is refused with HTTP 400; here the output a request
 * produces stands for its max_tokens. Outputs below 1 become 1 (the first
 * token is always made). Class c's truncate mode instead cuts the prompt to
 * context - 1 and the output to what the prompt leaves. Sizes in and out. */
srv_fit srv_fit_context(const srv_params *p, const srv_class_cfg *c, int64_t *prompt, int64_t *output);

/* v with thousands separators ("1,257") in buf, for counts in messages;
 * returns buf. */
const char *srv_grouped(int64_t v, char *buf, size_t n);

/* ---- the saturation probe ---- */

/* One pool configuration's saturation rate, per replica. */
typedef struct {
  double rate_per_s;   /* requests of the mix disposed of per second: served, or refused as too
                        * long (they cost nothing, but count as offered); +inf if every request
                        * of the mix is too long */
  double rel_ci95;     /* relative half-width of its 95% confidence interval (batch means) */
  uint64_t measured;   /* requests measured (after the warm-up) */
  double sim_s;        /* simulated seconds the probe ran, warm-up included */
  bool from_cache;     /* this call found it in the cache */
  double model_rate_per_s[SRV_MAX_MODELS];  /* several models: one replica's rate of each model's
                                             * requests alone (NaN: a model the pool does not hold) */
} srv_saturation;

/* The saturation rate of one replica of pool `pool` of p (prepared), from
 * the process-wide cache when a configuration equal by value (model, GPU,
 * links, tp, pp, KV blocks, scheduler, context, the size mix) was probed
 * before, else by running the probe (and caching it). The replica count
 * and the load do not enter: the result serves every count and load. */
void srv_saturation_get(const srv_params *p, int pool, srv_saturation *out);
/* The same for a pool of a scenario of several models
 * (serving_models_prep.c): a one-model probe of each model the pool
 * holds, fed with that model's classes that may go to it (cached as any
 * probe), in model_rate_per_s; rate_per_s one replica serving the pool's
 * demand-weighted mix, each request at its model's rate (swaps not
 * counted); rel_ci95 the widest, measured and sim_s summed. */
void srv_models_saturation(const srv_params *p, int pool, srv_saturation *out);
/* Probes run in this process so far (cache misses), for tests. */
uint64_t srv_saturation_probes(void);
/* Forget every cached result (tests). */
void srv_saturation_cache_clear(void);

/* The probe's replica is an srv_sim of its own (serving_create on a copy
 * of the params with one pool of one replica and `probe` set). serving_sim.c
 * hands it every request that leaves (completed, or rejected by the
 * scheduler: larger than the KV cache ever holds), instead of its books. */
void srv_probe_gone(srv_sim *s, srv_req *q);

/* serving_sim.c: a new request of class cls with these sizes (already
 * passed through srv_fit_context), arrived now; not yet routed. */
srv_req *srv_request_new(srv_sim *s, int cls, int64_t prompt, int64_t output);
/* Return q to s's pool (after srv_probe_gone). */
void srv_request_free(srv_sim *s, srv_req *q);

/* ---- per-pool books (serving_sim.c) ---- */

struct srv_pool_books {
  srv_integral busy;        /* replicas of the pool running a step */
  srv_integral running;     /* sequences admitted on the pool's replicas */
  srv_integral kv_blocks;   /* KV blocks used on the pool's replicas */
  double busy0, running0, kv0;  /* the three at the start of the measured window */
  srv_integral kv_cap;      /* a pool holding several models: KV blocks its replicas hold (their models') */
  double kvcap0;
  uint64_t arrived;         /* requests routed to the pool (whole run) */
  uint64_t m_completed;     /* measured */
  double m_tokens, m_out_tokens;
  srv_saturation sat;       /* one replica's */
};

#endif
