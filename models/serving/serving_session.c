/* models/serving/serving_session.c: what a request's prompt shares with
 * others, for the prefix cache: shared system prompts
 * (workload.system_prompt: one of `count`, drawn by a Zipf law) and
 * conversations (workload.sessions): an arrival starts a conversation of
 * `turns` turns; each turn's prompt is the system prompt, the conversation
 * so far (earlier messages and answers) and a new message; the next turn
 * is sent a think time after the answer, and none after a turn is turned
 * away, times out, or would arrive after the workload ends. Owns the
 * conversations' slots (memory follows the conversations in progress),
 * each class's stream "serving.NAME.sessions" (turns, think times, system
 * prompts: classes without these keys draw nothing from it) and its Zipf
 * table. */
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>

#include "models/serving/serving_int.h"
#include "sim/rng.h"
#include "sim/util.h"

/* A lone request's conversation id: its own (above every conversation's). */
#define LONE_CONV SRV_CONV_OWN
/* A pool prompt's id (below the lone ones, above every conversation's). */
#define POOL_CONV (UINT64_C(1) << 62)
/* A pool group's shared prefix, as a system prompt (above any count). */
#define POOL_SYS UINT32_C(0x40000000)

struct srv_session {
  uint64_t conv;
  int32_t cls, turns_left;     /* turns still to send */
  uint32_t sys;
  int32_t sys_tokens;
  int64_t history;             /* the conversation's tokens after the system prompt */
  int32_t next_free;
  int32_t home;                /* the replica its last turn went to, -1 none */
  int32_t adapter;             /* its LoRA adapter, -1 none (yet) */
};

void srv_sessions_init(srv_sim *s, uint64_t seed)
{
  s->sess_free = -1;
  for (int i = 0; i < s->nsrc; i++) {
    srv_source *src = &s->src[i];
    const srv_class_cfg *c = src->cfg;
    if (src->trace || !(c->has_sessions || c->has_system_prompt || c->has_prompt_pool)) continue;
    char stream[160];
    snprintf(stream, sizeof stream, "serving.%s.sessions", c->name);
    src->rng_sess = sim_rng_alloc(seed, stream);
    if (c->has_sessions) wl_size_init(&src->turns, &c->turns_p);
    if (c->has_prompt_pool) {
      /* the pool's prompts, drawn once (from this stream: the class's
       * arrivals and answers draw as they would without a pool) */
      size_t n = (size_t)c->prompt_pool.size;
      src->pool_prompt = xmalloc(n * sizeof *src->pool_prompt);
      for (size_t k = 0; k < n; k++) src->pool_prompt[k] = wl_size_sample(&src->prompt, src->rng_sess);
    }
    if (c->has_system_prompt && c->system_prompt.count > 1) {
      size_t n = (size_t)c->system_prompt.count;
      double *w = xmalloc(n * sizeof *w);
      for (size_t k = 0; k < n; k++) w[k] = pow((double)(k + 1), -c->system_prompt.zipf);
      src->sys_pick = gsl_ran_discrete_preproc(n, w);
      free(w);
    }
  }
}

void srv_sessions_release(srv_sim *s)
{
  for (int i = 0; i < s->nsrc; i++) {
    srv_source *src = &s->src[i];
    if (src->rng_sess) gsl_rng_free(src->rng_sess);
    if (src->sys_pick) gsl_ran_discrete_free(src->sys_pick);
    if (src->cfg->has_sessions && !src->trace && src->rng_sess) wl_size_release(&src->turns);
    free(src->pool_prompt);
  }
  free(s->sess);
}

/* The system prompt (1..count) of a request or conversation of source i. */
static uint32_t pick_sys(srv_source *src)
{
  if (!src->sys_pick) return 1;
  return (uint32_t)gsl_ran_discrete(src->rng_sess, src->sys_pick) + 1;
}

static int32_t slot_new(srv_sim *s)
{
  if (s->sess_free < 0) {
    int32_t cap = s->capsess ? 2 * s->capsess : 256;
    s->sess = xrealloc(s->sess, (size_t)cap * sizeof *s->sess);
    for (int32_t k = cap - 1; k >= s->capsess; k--) {
      s->sess[k].next_free = s->sess_free;
      s->sess_free = k;
    }
    s->capsess = cap;
  }
  int32_t k = s->sess_free;
  s->sess_free = s->sess[k].next_free;
  return k;
}

static void slot_free(srv_sim *s, int32_t k)
{
  s->sess[k].next_free = s->sess_free;
  s->sess_free = k;
}

/* Send conversation k's next turn: a new message of `msg` tokens, an
 * answer of `output`. */
static void send_turn(srv_sim *s, int32_t k, int64_t msg, int64_t output)
{
  srv_session *c = &s->sess[k];
  c->turns_left--;
  srv_prefix_id id = {c->sys, c->sys_tokens, c->conv, k};
  srv_send(s, c->cls, c->sys_tokens + c->history + msg, output, &id);
}

void srv_arrive(srv_sim *s, int i, int64_t prompt, int64_t output)
{
  srv_source *src = &s->src[i];
  const srv_class_cfg *cfg = src->cfg;
  uint32_t sys = 0;
  int32_t sys_tokens = 0;
  if (cfg->has_prompt_pool) {
    /* the pool's next prompt, after its group's shared prefix: prompt j
     * is in group j mod groups, so the groups take turns */
    const srv_prompt_pool_cfg *pp = &cfg->prompt_pool;
    int64_t j = src->pool_next;
    src->pool_next = (j + 1) % pp->size;
    int32_t shared = (int32_t)pp->shared_prefix_tokens;
    srv_prefix_id id = {shared > 0 ? POOL_SYS + (uint32_t)(j % pp->groups) + 1 : 0, shared,
                        POOL_CONV | (uint64_t)j, -1};
    srv_send(s, i, shared + src->pool_prompt[j], output, &id);
    (void)prompt;
    return;
  }
  if (cfg->has_system_prompt) {
    sys = pick_sys(src);
    sys_tokens = (int32_t)cfg->system_prompt.tokens;
  }
  if (!cfg->has_sessions) {
    srv_prefix_id id = {sys, sys_tokens, 0, -1};
    srv_send(s, i, sys_tokens + prompt, output, &id);
    return;
  }
  int32_t k = slot_new(s);
  srv_session *c = &s->sess[k];
  int64_t turns = wl_size_sample(&src->turns, src->rng_sess);
  *c = (srv_session){++s->next_conv, i, (int32_t)(turns < 1 ? 1 : turns), sys, sys_tokens, 0, -1, -1, -1};
  s->conversations++;
  send_turn(s, k, prompt, output);
}

/* A trace's conversation (trace.session_column): ids below the pool
 * prompts' (bit 62) and above the generated conversations' (counted from
 * 1), mixed from the class and the id the trace gives. */
#define TRACE_CONV (UINT64_C(1) << 61)

void srv_arrive_row(srv_sim *s, int i, size_t row)
{
  const sim_trace *tr = &s->src[i].cfg->tr;
  srv_prefix_id id = {0, 0, 0, -1};
  /* its prompt is taken as sent (an API request carries the history): it
   * shares with the conversation's earlier turns as much as they hold -
   * the previous turn's prompt and answer - and its new message is the
   * rest (none when the prompt is shorter than that history) */
  if (tr->ncols > 2)
    id.conv = TRACE_CONV | (pc_mix(((uint64_t)i << 56) ^ pc_mix((uint64_t)tr->values[2][row])) & (TRACE_CONV - 1));
  srv_send(s, i, tr->values[0][row], tr->values[1][row], &id);
}

uint64_t srv_lone_conv(const srv_req *q)
{
  return LONE_CONV | (uint64_t)q->id;
}

static void on_turn(sim_engine *eng, void *ctx, uint64_t arg)
{
  srv_sim *s = ctx;
  int32_t k = (int32_t)arg;
  s->thinking--;
  srv_session *c = &s->sess[k];
  srv_source *src = &s->src[c->cls];
  if (srv_arrivals_over(s, sim_now(eng))) {
    /* the workload has ended: no more turns (this may have been the last
     * thing left to happen) */
    slot_free(s, k);
    srv_check_stop(s);
    return;
  }
  int64_t msg = wl_size_sample(&src->prompt, src->rng_sizes);
  int64_t output = wl_size_sample(&src->output, src->rng_sizes);
  send_turn(s, k, msg, output);
}

void srv_session_done(srv_sim *s, const srv_req *q)
{
  int32_t k = q->session;
  srv_session *c = &s->sess[k];
  if (c->turns_left <= 0) {
    slot_free(s, k);
    return;
  }
  /* the conversation now holds this turn's prompt and answer */
  c->history = (int64_t)q->prompt + q->output - c->sys_tokens;
  double think = s->src[c->cls].cfg->sessions.think_time_s;
  double dt = think > 0 ? gsl_ran_exponential(s->src[c->cls].rng_sess, think) : 0;
  s->thinking++;
  sim_schedule_in(s->eng, sim_time_from_s(dt) > 0 ? sim_time_from_s(dt) : 1, on_turn, s, (uint64_t)k);
}

void srv_session_end(srv_sim *s, const srv_req *q)
{
  slot_free(s, q->session);
}

int srv_session_home(const srv_sim *s, int32_t k)
{
  return s->sess[k].home;
}

void srv_session_set_home(srv_sim *s, int32_t k, int replica)
{
  s->sess[k].home = replica;
}

int32_t srv_session_adapter(const srv_sim *s, int32_t k) { return s->sess[k].adapter; }

void srv_session_set_adapter(srv_sim *s, int32_t k, int32_t adapter) { s->sess[k].adapter = adapter; }
