/* sim/engine.c: the engine's clock, pending-event queue and run loop.
 *
 * The queue is a d-ary min-heap (d = SIM_HEAP_ARITY, 4 by default; chosen by
 * measurement, see bench/README.md) of 16-byte entries {time, seq, slot}
 * ordered by (time, seq): seq is a counter taken at scheduling, so equal
 * times fire in scheduling order, as in libuv's timer heap; the four
 * children of a node share one cache line. The handler, context and
 * argument live in a 32-byte slot indexed by the entry, prefetched while
 * the previous handler runs; freed slots are kept on a free list, so a
 * steady state allocates nothing.
 *
 * Cancellation is lazy: sim_cancel marks the slot and the entry is dropped
 * when it reaches the top. When dead entries outnumber live ones the heap
 * is compacted in O(n), so memory stays bounded by twice the live events.
 * An event id is (generation << 32 | slot); a slot's generation changes
 * whenever it is freed, so a stale id never cancels a later event. */
#include "sim/engine.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sim/util.h"

#ifndef SIM_HEAP_ARITY
#define SIM_HEAP_ARITY 4
#endif

/* 16 bytes: four siblings of a 4-ary heap share a cache line. seq is 32
 * bits; when it runs out, pending entries are renumbered (renumber()). */
typedef struct {
  sim_time time;
  uint32_t seq;
  uint32_t slot;
} heap_entry;

/* Renumber when seq reaches this (tests set it low to exercise that path). */
#ifndef SIM_SEQ_LIMIT
#define SIM_SEQ_LIMIT UINT32_MAX
#endif

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)0)
#endif

enum { SLOT_FREE, SLOT_PENDING, SLOT_CANCELLED };

typedef struct {
  sim_handler fn;
  void *ctx;
  union {
    uint64_t arg;        /* pending or cancelled */
    uint32_t next_free;  /* free */
  };
  uint32_t gen;
  uint32_t state;    /* SLOT_* */
} event_slot;        /* 32 bytes */

typedef struct {
  sim_warmup_hook fn;
  void *ctx;
} warmup_hook;

struct sim_engine {
  sim_time now;
  uint32_t next_seq;
  heap_entry *heap;
  uint32_t heap_len, heap_cap;
  uint32_t live;          /* pending, not cancelled */
  uint32_t dead;          /* cancelled, still in the heap */
  event_slot *slots;
  uint32_t slots_len, slots_cap;
  uint32_t free_head;     /* UINT32_MAX: none */
  uint64_t fired;
  uint64_t pending_peak;
  bool stop;                      /* sim_stop: this run returns */
  volatile sig_atomic_t stop_requested; /* sim_request_stop: sticky until a run returns */
  bool warmup_pending;
  sim_time warmup_end;
  warmup_hook *hooks;
  size_t hooks_len;
};

#define NO_SLOT UINT32_MAX

static inline bool entry_less(const heap_entry *a, const heap_entry *b)
{
  return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static inline void sift_up(heap_entry *h, uint32_t i)
{
  heap_entry e = h[i];
  while (i > 0) {
    uint32_t parent = (i - 1) / SIM_HEAP_ARITY;
    if (!entry_less(&e, &h[parent])) break;
    h[i] = h[parent];
    i = parent;
  }
  h[i] = e;
}

/* Place e, which is to go at hole i, in h[0..len). */
static inline void sift_down(heap_entry *h, uint32_t len, uint32_t i, heap_entry e)
{
  for (;;) {
    uint32_t first = i * SIM_HEAP_ARITY + 1;
    if (first >= len) break;
    uint32_t best = first;
    uint32_t last = first + SIM_HEAP_ARITY;
    if (last > len) last = len;
    for (uint32_t c = first + 1; c < last; c++)
      if (entry_less(&h[c], &h[best])) best = c;
    if (!entry_less(&h[best], &e)) break;
    h[i] = h[best];
    i = best;
  }
  h[i] = e;
}

sim_engine *sim_engine_alloc(void)
{
  sim_engine *eng = xcalloc(1, sizeof *eng);
  eng->free_head = NO_SLOT;
  eng->heap_cap = 64;
  eng->heap = xmalloc(eng->heap_cap * sizeof *eng->heap);
  eng->slots_cap = 64;
  eng->slots = xmalloc(eng->slots_cap * sizeof *eng->slots);
  return eng;
}

void sim_engine_free(sim_engine *eng)
{
  if (!eng) return;
  if (sim_bug_clock == &eng->now) sim_bug_clock = NULL;
  free(eng->heap);
  free(eng->slots);
  free(eng->hooks);
  free(eng);
}

sim_time sim_now(const sim_engine *eng) { return eng->now; }

static uint32_t slot_take(sim_engine *eng)
{
  uint32_t s = eng->free_head;
  if (s != NO_SLOT) {
    eng->free_head = eng->slots[s].next_free;
    return s;
  }
  if (eng->slots_len == eng->slots_cap) {
    if (eng->slots_cap >= NO_SLOT / 2) SIM_BUG("more than 2^31 pending events");
    eng->slots_cap *= 2;
    eng->slots = xrealloc(eng->slots, eng->slots_cap * sizeof *eng->slots);
  }
  s = eng->slots_len++;
  eng->slots[s].gen = 1;
  return s;
}

static inline void slot_release(sim_engine *eng, uint32_t s)
{
  event_slot *sl = &eng->slots[s];
  sl->state = SLOT_FREE;
  sl->gen++;
  if (sl->gen == 0) sl->gen = 1;
  sl->next_free = eng->free_head;
  eng->free_head = s;
}

static int entry_cmp(const void *a, const void *b)
{
  const heap_entry *x = a, *y = b;
  return entry_less(x, y) ? -1 : entry_less(y, x) ? 1 : 0;
}

/* seq is exhausted: renumber pending entries 0..n-1 in (time, seq) order,
 * which keeps their order and leaves later seqs for new events. A sorted
 * array is a heap. O(n log n) once per SIM_SEQ_LIMIT schedules. */
static void renumber(sim_engine *eng)
{
  qsort(eng->heap, eng->heap_len, sizeof *eng->heap, entry_cmp);
  for (uint32_t i = 0; i < eng->heap_len; i++) eng->heap[i].seq = i;
  eng->next_seq = eng->heap_len;
}

sim_event_id sim_schedule_at(sim_engine *eng, sim_time t, sim_handler fn,
                             void *ctx, uint64_t arg)
{
  if (t < eng->now)
    SIM_BUG("event scheduled in the past (t=%lld ns < now)", (long long)t);
  uint32_t s = slot_take(eng);
  event_slot *sl = &eng->slots[s];
  sl->fn = fn;
  sl->ctx = ctx;
  sl->arg = arg;
  sl->state = SLOT_PENDING;
  if (eng->heap_len == eng->heap_cap) {
    eng->heap_cap *= 2;
    eng->heap = xrealloc(eng->heap, eng->heap_cap * sizeof *eng->heap);
  }
  if (eng->next_seq >= SIM_SEQ_LIMIT) renumber(eng);
  uint32_t i = eng->heap_len++;
  eng->heap[i] = (heap_entry){t, eng->next_seq++, s};
  sift_up(eng->heap, i);
  if (++eng->live > eng->pending_peak) eng->pending_peak = eng->live;
  return (uint64_t)sl->gen << 32 | s;
}

sim_event_id sim_schedule_in(sim_engine *eng, sim_time dt, sim_handler fn,
                             void *ctx, uint64_t arg)
{
  if (dt < 0) SIM_BUG("negative delay %lld ns", (long long)dt);
  if (dt > SIM_TIME_MAX - eng->now) SIM_BUG("event time overflows");
  return sim_schedule_at(eng, eng->now + dt, fn, ctx, arg);
}

/* Drop cancelled entries and rebuild the heap bottom-up: O(n). Order among
 * survivors is unchanged because (time, seq) keys are untouched. */
static void compact(sim_engine *eng)
{
  uint32_t n = 0;
  for (uint32_t i = 0; i < eng->heap_len; i++) {
    uint32_t s = eng->heap[i].slot;
    if (eng->slots[s].state == SLOT_CANCELLED)
      slot_release(eng, s);
    else
      eng->heap[n++] = eng->heap[i];
  }
  eng->heap_len = n;
  eng->dead = 0;
  if (n > 1)
    for (uint32_t i = (n - 2) / SIM_HEAP_ARITY + 1; i-- > 0;)
      sift_down(eng->heap, n, i, eng->heap[i]);
}

bool sim_cancel(sim_engine *eng, sim_event_id id)
{
  uint32_t s = (uint32_t)id, gen = (uint32_t)(id >> 32);
  if (id == 0 || s >= eng->slots_len) return false;
  event_slot *sl = &eng->slots[s];
  if (sl->gen != gen || sl->state != SLOT_PENDING) return false;
  sl->state = SLOT_CANCELLED;
  eng->live--;
  eng->dead++;
  if (eng->dead > 1024 && eng->dead > eng->live) compact(eng);
  return true;
}

void sim_stop(sim_engine *eng) { eng->stop = true; }

void sim_request_stop(sim_engine *eng) { eng->stop_requested = 1; }

static volatile sig_atomic_t stop_all;

void sim_request_stop_all(void) { stop_all = 1; }

void sim_set_warmup(sim_engine *eng, sim_time end)
{
  if (end < eng->now) SIM_BUG("warm-up ends in the past");
  eng->warmup_end = end;
  eng->warmup_pending = end > 0;
}

sim_time sim_warmup_end(const sim_engine *eng) { return eng->warmup_end; }

bool sim_in_warmup(const sim_engine *eng) { return eng->now < eng->warmup_end; }

void sim_on_warmup_end(sim_engine *eng, sim_warmup_hook fn, void *ctx)
{
  eng->hooks = xrealloc(eng->hooks, (eng->hooks_len + 1) * sizeof *eng->hooks);
  eng->hooks[eng->hooks_len++] = (warmup_hook){fn, ctx};
}

static void end_warmup(sim_engine *eng)
{
  eng->warmup_pending = false;
  eng->now = eng->warmup_end;
  for (size_t i = 0; i < eng->hooks_len; i++)
    eng->hooks[i].fn(eng->hooks[i].ctx, eng->now);
}

sim_run_result sim_run(sim_engine *eng, sim_time until)
{
  sim_run_result why = SIM_RUN_EMPTY;
  const int64_t *saved_clock = sim_bug_clock;
  sim_bug_clock = &eng->now;
  eng->stop = false;
  while (eng->heap_len > 0) {
    heap_entry top = eng->heap[0];
    uint32_t last = --eng->heap_len;
    if (last > 0) {
      sift_down(eng->heap, last, 0, eng->heap[last]);
      /* the next event's slot is a likely cache miss: fetch it while this
       * event's handler runs */
      PREFETCH(&eng->slots[eng->heap[0].slot]);
    }
    event_slot *sl = &eng->slots[top.slot];
    if (sl->state == SLOT_CANCELLED) {
      eng->dead--;
      slot_release(eng, top.slot);
      continue;
    }
    if (top.time > until) {
      /* put it back: it is still pending */
      eng->heap[eng->heap_len] = top;
      sift_up(eng->heap, eng->heap_len++);
      why = SIM_RUN_UNTIL;
      break;
    }
    if (eng->warmup_pending && top.time >= eng->warmup_end) end_warmup(eng);
    eng->now = top.time;
    sim_handler fn = sl->fn;
    void *ctx = sl->ctx;
    uint64_t arg = sl->arg;
    eng->live--;
    slot_release(eng, top.slot);
    eng->fired++;
    fn(eng, ctx, arg);
    if (eng->stop || eng->stop_requested || stop_all) {
      eng->stop_requested = 0;
      why = SIM_RUN_STOPPED;
      break;
    }
  }
  if (why != SIM_RUN_STOPPED && until != SIM_TIME_MAX && until > eng->now) {
    if (eng->warmup_pending && until >= eng->warmup_end) end_warmup(eng);
    eng->now = until;
  }
  sim_bug_clock = saved_clock;
  return why;
}

uint64_t sim_events_fired(const sim_engine *eng) { return eng->fired; }
uint64_t sim_events_pending(const sim_engine *eng) { return eng->live; }
uint64_t sim_events_pending_peak(const sim_engine *eng) { return eng->pending_peak; }
