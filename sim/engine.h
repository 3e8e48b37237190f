/* sim/engine.h: the discrete-event engine: a clock, a pending-event queue
 * and the run loop. It knows nothing of what the events mean: a model
 * schedules (handler, context, argument) triples and the engine calls them
 * in time order. Events at equal times fire in the order they were
 * scheduled. The engine owns event storage; handlers get their context and
 * argument by value, so nothing is allocated per event once the internal
 * pools have grown to the peak number of pending events. */
#ifndef SIM_ENGINE_H
#define SIM_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/time.h"

typedef struct sim_engine sim_engine;

/* An event handler: called at the event's time with the context and argument
 * given to sim_schedule_*. It may schedule, cancel and stop. */
typedef void (*sim_handler)(sim_engine *eng, void *ctx, uint64_t arg);

/* Names a scheduled event for sim_cancel. 0 is never a valid id. An id stays
 * safe to cancel after its event fired or was cancelled (it is a no-op). */
typedef uint64_t sim_event_id;

/* Why sim_run returned. */
typedef enum {
  SIM_RUN_EMPTY,   /* no pending event left */
  SIM_RUN_UNTIL,   /* the next event lies after the `until` time */
  SIM_RUN_STOPPED  /* a handler called sim_stop */
} sim_run_result;

/* A fresh engine at time 0 with no pending event; free with sim_engine_free. */
sim_engine *sim_engine_alloc(void);
void sim_engine_free(sim_engine *eng);

/* The current simulated time (ns). */
sim_time sim_now(const sim_engine *eng);

/* Schedule fn(eng, ctx, arg) at absolute time t (t >= sim_now(eng), else
 * SIM_BUG), or after delay dt >= 0. Returns the event's id. */
sim_event_id sim_schedule_at(sim_engine *eng, sim_time t, sim_handler fn,
                             void *ctx, uint64_t arg);
sim_event_id sim_schedule_in(sim_engine *eng, sim_time dt, sim_handler fn,
                             void *ctx, uint64_t arg);

/* Cancel a pending event: true if it was pending (it will never fire),
 * false if it already fired, was cancelled, or id is 0. O(1). */
bool sim_cancel(sim_engine *eng, sim_event_id id);

/* Run events in time order until none is left, until the next one lies
 * after `until` (the clock is then advanced to `until`), or until a
 * handler calls sim_stop. Pass SIM_TIME_MAX to run until empty. */
sim_run_result sim_run(sim_engine *eng, sim_time until);

/* Ask sim_run to return after the current handler. */
void sim_stop(sim_engine *eng);
/* The same, safe to call from a signal handler (SIGINT during a run); a
 * request made before sim_run starts is kept until a run stops on it. */
void sim_request_stop(sim_engine *eng);
/* Every engine of the process stops at its next event, this run and every
 * later one (async-signal-safe: for a SIGINT handler, when engines it does
 * not know of - a model's inner simulation - may be running). */
void sim_request_stop_all(void);

/* Warm-up: statistics gathered before time `end` are to be discarded.
 * Set before running. Models ask sim_in_warmup when they record a sample,
 * and hooks registered with sim_on_warmup_end run (in registration order)
 * at time `end`, before any other event of that time, to reset
 * time-weighted statistics. Hooks registered with no warm-up set never
 * run. */
void sim_set_warmup(sim_engine *eng, sim_time end);
sim_time sim_warmup_end(const sim_engine *eng);
bool sim_in_warmup(const sim_engine *eng);
typedef void (*sim_warmup_hook)(void *ctx, sim_time now);
void sim_on_warmup_end(sim_engine *eng, sim_warmup_hook fn, void *ctx);

/* Counters: events fired so far, events pending now, the peak of pending. */
uint64_t sim_events_fired(const sim_engine *eng);
uint64_t sim_events_pending(const sim_engine *eng);
uint64_t sim_events_pending_peak(const sim_engine *eng);

#endif
