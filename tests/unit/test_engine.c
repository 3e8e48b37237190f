/* tests/unit/test_engine.c: the event queue and run loop: time order, FIFO
 * order of equal times, cancellation (including stale ids and compaction),
 * run-until, stop, warm-up hooks, and a randomized comparison against a
 * sorted reference. */
#include <gsl/gsl_rng.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/engine.h"
#include "testutil.h"

/* Each fired event appends its argument here. */
static uint64_t fired[200000];
static size_t nfired;

static void record(sim_engine *eng, void *ctx, uint64_t arg)
{
  (void)eng;
  (void)ctx;
  fired[nfired++] = arg;
}

static void test_time_order(void)
{
  sim_engine *eng = sim_engine_alloc();
  nfired = 0;
  sim_schedule_at(eng, 30, record, NULL, 3);
  sim_schedule_at(eng, 10, record, NULL, 1);
  sim_schedule_at(eng, 20, record, NULL, 2);
  CU_ASSERT_EQUAL(sim_run(eng, SIM_TIME_MAX), SIM_RUN_EMPTY);
  CU_ASSERT_EQUAL(nfired, 3);
  CU_ASSERT_EQUAL(fired[0], 1);
  CU_ASSERT_EQUAL(fired[1], 2);
  CU_ASSERT_EQUAL(fired[2], 3);
  CU_ASSERT_EQUAL(sim_now(eng), 30);
  CU_ASSERT_EQUAL(sim_events_fired(eng), 3);
  sim_engine_free(eng);
}

/* 1000 events at one time, scheduled in a known order, fire in that order. */
static void test_equal_times_fifo(void)
{
  sim_engine *eng = sim_engine_alloc();
  nfired = 0;
  for (uint64_t i = 0; i < 1000; i++) sim_schedule_at(eng, 5, record, NULL, i);
  /* interleave earlier and later events so the heap is reshuffled */
  for (uint64_t i = 0; i < 100; i++) {
    sim_schedule_at(eng, 4, record, NULL, 100000 + i);
    sim_schedule_at(eng, 6, record, NULL, 200000 + i);
  }
  sim_run(eng, SIM_TIME_MAX);
  CU_ASSERT_EQUAL_FATAL(nfired, 1200);
  for (uint64_t i = 0; i < 100; i++) CU_ASSERT_EQUAL(fired[i], 100000 + i);
  for (uint64_t i = 0; i < 1000; i++) CU_ASSERT_EQUAL(fired[100 + i], i);
  for (uint64_t i = 0; i < 100; i++) CU_ASSERT_EQUAL(fired[1100 + i], 200000 + i);
  sim_engine_free(eng);
}

/* An event scheduled by a handler for the current time fires after every
 * event already pending at that time. */
static void chain(sim_engine *eng, void *ctx, uint64_t arg)
{
  (void)ctx;
  fired[nfired++] = arg;
  if (arg == 1) sim_schedule_in(eng, 0, record, NULL, 99);
}

static void test_same_time_from_handler(void)
{
  sim_engine *eng = sim_engine_alloc();
  nfired = 0;
  sim_schedule_at(eng, 7, chain, NULL, 1);
  sim_schedule_at(eng, 7, chain, NULL, 2);
  sim_run(eng, SIM_TIME_MAX);
  CU_ASSERT_EQUAL_FATAL(nfired, 3);
  CU_ASSERT_EQUAL(fired[0], 1);
  CU_ASSERT_EQUAL(fired[1], 2);
  CU_ASSERT_EQUAL(fired[2], 99);
  sim_engine_free(eng);
}

static void test_cancel(void)
{
  sim_engine *eng = sim_engine_alloc();
  nfired = 0;
  sim_event_id a = sim_schedule_at(eng, 10, record, NULL, 1);
  sim_event_id b = sim_schedule_at(eng, 20, record, NULL, 2);
  sim_event_id c = sim_schedule_at(eng, 30, record, NULL, 3);
  CU_ASSERT_EQUAL(sim_events_pending(eng), 3);
  CU_ASSERT_TRUE(sim_cancel(eng, b));
  CU_ASSERT_FALSE(sim_cancel(eng, b));     /* twice: no-op */
  CU_ASSERT_FALSE(sim_cancel(eng, 0));     /* never valid */
  CU_ASSERT_EQUAL(sim_events_pending(eng), 2);
  sim_run(eng, SIM_TIME_MAX);
  CU_ASSERT_EQUAL_FATAL(nfired, 2);
  CU_ASSERT_EQUAL(fired[0], 1);
  CU_ASSERT_EQUAL(fired[1], 3);
  CU_ASSERT_FALSE(sim_cancel(eng, a));     /* already fired */
  CU_ASSERT_FALSE(sim_cancel(eng, c));
  /* a stale id must not cancel the event that now reuses its slot */
  sim_event_id d = sim_schedule_at(eng, 40, record, NULL, 4);
  CU_ASSERT_FALSE(sim_cancel(eng, a));
  CU_ASSERT_FALSE(sim_cancel(eng, b));
  sim_run(eng, SIM_TIME_MAX);
  CU_ASSERT_EQUAL(nfired, 3);
  CU_ASSERT_EQUAL(fired[2], 4);
  CU_ASSERT_FALSE(sim_cancel(eng, d));
  sim_engine_free(eng);
}

static void test_run_until_and_stop(void)
{
  sim_engine *eng = sim_engine_alloc();
  nfired = 0;
  sim_schedule_at(eng, 10, record, NULL, 1);
  sim_schedule_at(eng, 50, record, NULL, 2);
  CU_ASSERT_EQUAL(sim_run(eng, 30), SIM_RUN_UNTIL);
  CU_ASSERT_EQUAL(nfired, 1);
  CU_ASSERT_EQUAL(sim_now(eng), 30);            /* the clock reaches `until` */
  CU_ASSERT_EQUAL(sim_events_pending(eng), 1);  /* the later event is kept */
  CU_ASSERT_EQUAL(sim_run(eng, 50), SIM_RUN_EMPTY); /* events at `until` fire */
  CU_ASSERT_EQUAL(nfired, 2);
  CU_ASSERT_EQUAL(sim_run(eng, 80), SIM_RUN_EMPTY);
  CU_ASSERT_EQUAL(sim_now(eng), 80);
  sim_engine_free(eng);
}

static void stopper(sim_engine *eng, void *ctx, uint64_t arg)
{
  (void)ctx;
  fired[nfired++] = arg;
  sim_stop(eng);
}

static void test_stop(void)
{
  sim_engine *eng = sim_engine_alloc();
  nfired = 0;
  sim_schedule_at(eng, 1, record, NULL, 1);
  sim_schedule_at(eng, 2, stopper, NULL, 2);
  sim_schedule_at(eng, 3, record, NULL, 3);
  CU_ASSERT_EQUAL(sim_run(eng, SIM_TIME_MAX), SIM_RUN_STOPPED);
  CU_ASSERT_EQUAL(nfired, 2);
  CU_ASSERT_EQUAL(sim_now(eng), 2);
  CU_ASSERT_EQUAL(sim_run(eng, SIM_TIME_MAX), SIM_RUN_EMPTY); /* resumes */
  CU_ASSERT_EQUAL(nfired, 3);
  sim_engine_free(eng);
}

/* sim_request_stop_all (a SIGINT handler's, for engines it does not know):
 * every engine stops at its next event, runs started later too. Sticky for
 * the process, so checked in a child. */
static void test_stop_all(void)
{
  pid_t pid = fork();
  CU_ASSERT_FATAL(pid >= 0);
  if (pid == 0) {
    sim_engine *a = sim_engine_alloc(), *b = sim_engine_alloc();
    nfired = 0;
    for (int i = 1; i <= 3; i++) sim_schedule_at(a, i, record, NULL, (uint64_t)i);
    for (int i = 1; i <= 3; i++) sim_schedule_at(b, i, record, NULL, (uint64_t)i);
    int bad = 0;
    if (sim_run(a, 1) != SIM_RUN_UNTIL || nfired != 1) bad |= 1;   /* before: runs as usual */
    sim_request_stop_all();
    if (sim_run(a, SIM_TIME_MAX) != SIM_RUN_STOPPED || nfired != 2) bad |= 2;  /* one more event, then stops */
    if (sim_run(b, SIM_TIME_MAX) != SIM_RUN_STOPPED || nfired != 3) bad |= 4;  /* another engine, later: the same */
    sim_engine_free(a);
    sim_engine_free(b);
    _exit(bad);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  CU_ASSERT(WIFEXITED(st));
  CU_ASSERT_EQUAL(WEXITSTATUS(st), 0);
}

static sim_time hook_time = -1;
static size_t hook_seen_fired = 0;

static void hook(void *ctx, sim_time now)
{
  (void)ctx;
  hook_time = now;
  hook_seen_fired = nfired;
}

static void test_warmup(void)
{
  sim_engine *eng = sim_engine_alloc();
  nfired = 0;
  sim_schedule_at(eng, 100, record, NULL, 1);   /* scheduled before the warm-up is set */
  sim_set_warmup(eng, 100);
  sim_on_warmup_end(eng, hook, NULL);
  sim_schedule_at(eng, 50, record, NULL, 0);
  CU_ASSERT_TRUE(sim_in_warmup(eng));
  sim_run(eng, 60);
  CU_ASSERT_TRUE(sim_in_warmup(eng));
  CU_ASSERT_EQUAL(hook_time, -1);
  sim_run(eng, SIM_TIME_MAX);
  CU_ASSERT_EQUAL(hook_time, 100);
  CU_ASSERT_EQUAL(hook_seen_fired, 1);  /* before the event at t = 100 */
  CU_ASSERT_FALSE(sim_in_warmup(eng));
  sim_engine_free(eng);

  /* a warm-up that ends when no event is pending still fires at run-until */
  eng = sim_engine_alloc();
  hook_time = -1;
  sim_set_warmup(eng, 500);
  sim_on_warmup_end(eng, hook, NULL);
  sim_run(eng, 1000);
  CU_ASSERT_EQUAL(hook_time, 500);
  sim_engine_free(eng);
}

/* Random times with many ties, a third cancelled (enough to trigger
 * compaction), against a reference sorted by (time, scheduling order). */
typedef struct {
  sim_time t;
  uint64_t order;
  sim_event_id id;
  int cancelled;
} ref_event;

static int ref_cmp(const void *a, const void *b)
{
  const ref_event *x = a, *y = b;
  if (x->t != y->t) return x->t < y->t ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

static void test_random_against_reference(void)
{
  enum { N = 100000 };
  static ref_event ref[N];
  gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
  gsl_rng_set(r, 12345);
  sim_engine *eng = sim_engine_alloc();
  nfired = 0;
  for (uint64_t i = 0; i < N; i++) {
    ref[i].t = (sim_time)gsl_rng_uniform_int(r, 5000); /* ~20 events per time */
    ref[i].order = i;
    ref[i].cancelled = 0;
    ref[i].id = sim_schedule_at(eng, ref[i].t, record, NULL, i);
  }
  size_t ncancel = 0;
  for (uint64_t i = 0; i < N; i++)
    if (gsl_rng_uniform(r) < 0.6) {
      CU_ASSERT_TRUE(sim_cancel(eng, ref[i].id));
      ref[i].cancelled = 1;
      ncancel++;
    }
  CU_ASSERT_EQUAL(sim_events_pending(eng), N - ncancel);
  sim_run(eng, SIM_TIME_MAX);
  qsort(ref, N, sizeof ref[0], ref_cmp);
  size_t k = 0;
  int all_match = 1;
  for (size_t i = 0; i < N; i++) {
    if (ref[i].cancelled) continue;
    if (k >= nfired || fired[k] != ref[i].order) all_match = 0;
    k++;
  }
  CU_ASSERT_EQUAL(nfired, N - ncancel);
  CU_ASSERT_TRUE(all_match);
  CU_ASSERT_EQUAL(sim_events_pending(eng), 0);
  sim_engine_free(eng);
  gsl_rng_free(r);
}

/* Steady state allocates nothing: the peak of pending events stays at the
 * hold size. */
static void hold(sim_engine *eng, void *ctx, uint64_t arg)
{
  uint64_t *left = ctx;
  if (*left == 0) return;
  (*left)--;
  sim_schedule_in(eng, (sim_time)(arg % 1000) + 1, hold, ctx, arg * 6364136223846793005ULL + 1);
}

static void test_hold_peak(void)
{
  sim_engine *eng = sim_engine_alloc();
  uint64_t left = 200000;
  for (uint64_t i = 0; i < 1000; i++) sim_schedule_at(eng, (sim_time)i, hold, &left, i);
  sim_run(eng, SIM_TIME_MAX);
  CU_ASSERT_EQUAL(sim_events_pending_peak(eng), 1000);
  CU_ASSERT_EQUAL(sim_events_fired(eng), 1000 + 200000);
  sim_engine_free(eng);
}

/* A long hold run with many ties: every firing must come after the previous
 * one in (time, scheduling order). 300,000 schedules cross the sequence
 * counter's renumbering twice in the test_engine_renumber build. */
static uint64_t serial_next;
static sim_time last_time;
static uint64_t last_serial;
static int order_ok = 1;

static void tie_hold(sim_engine *eng, void *ctx, uint64_t serial)
{
  uint64_t *left = ctx;
  if (sim_now(eng) < last_time || (sim_now(eng) == last_time && serial <= last_serial)) order_ok = 0;
  last_time = sim_now(eng);
  last_serial = serial;
  if (*left == 0) return;
  (*left)--;
  /* offsets 0..49 in steps of 10 ns: about 20 events share each time */
  sim_schedule_in(eng, (sim_time)((serial * 2654435761u) % 5) * 10, tie_hold, ctx, serial_next++);
}

static void test_order_over_long_runs(void)
{
  sim_engine *eng = sim_engine_alloc();
  uint64_t left = 300000;
  serial_next = 0;
  last_time = -1;
  for (int i = 0; i < 1000; i++) sim_schedule_at(eng, (sim_time)(i % 50) * 10, tie_hold, &left, serial_next++);
  sim_run(eng, SIM_TIME_MAX);
  CU_ASSERT_TRUE(order_ok);
  CU_ASSERT_EQUAL(sim_events_fired(eng), 301000);
  sim_engine_free(eng);
}

int main(void)
{
  static const cs_test tests[] = {
    {"events fire in time order", test_time_order},
    {"equal times fire in scheduling order", test_equal_times_fifo},
    {"same-time event from a handler fires last", test_same_time_from_handler},
    {"cancelled and stale ids", test_cancel},
    {"run until a time", test_run_until_and_stop},
    {"stop and resume", test_stop},
    {"stop every engine (signal)", test_stop_all},
    {"warm-up hooks", test_warmup},
    {"100k random events with cancellation vs reference", test_random_against_reference},
    {"hold model keeps the pending peak", test_hold_peak},
    {"(time, order) increases over 300k schedules with ties", test_order_over_long_runs},
    {NULL, NULL},
  };
  return cs_run_suite("engine", tests);
}
