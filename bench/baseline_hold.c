/* bench/baseline_hold.c: the hold model as a no-abstraction loop, the
 * reference bench_engine is judged against on the same machine. No project
 * code: a plain binary min-heap of {int64 ns time, payload}, xoshiro256+,
 * offsets -log(u) * 1 s rounded to ns (llrint, as sim_time_from_s does).
 * Each operation is a pop followed by a push, as an event loop whose
 * handler reschedules does it (no fused replace-top). Ties are not broken
 * by sequence: the engine pays for determinism, this loop does not.
 *
 * Rows and columns as bench_engine prints them (same options, minus --rng):
 * hold at N pending for M timed operations, and cancel (schedule N, cancel
 * a random half by a flag per payload, pop to empty; max(1, M/N) cycles,
 * ops = cycles * N). */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/benchutil.h"

#define SEED 20240601u

typedef struct {
  int64_t t;
  uint64_t payload;
} entry;

typedef struct {
  entry *h;
  size_t len, cap;
} heap;

static void *must(void *p)
{
  if (!p) { fputs("baseline_hold: out of memory\n", stderr); abort(); }
  return p;
}

static inline void heap_push(heap *q, int64_t t, uint64_t payload)
{
  if (q->len == q->cap) {
    q->cap = q->cap ? q->cap * 2 : 64;
    q->h = must(realloc(q->h, q->cap * sizeof *q->h));
  }
  entry *h = q->h;
  size_t i = q->len++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (h[p].t <= t) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = (entry){t, payload};
}

/* Remove and return the minimum (len > 0). */
static inline entry heap_pop(heap *q)
{
  entry *h = q->h;
  entry top = h[0];
  size_t n = --q->len;
  if (n == 0) return top;
  entry e = h[n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && h[c + 1].t < h[c].t) c++;
    if (h[c].t >= e.t) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = e;
  return top;
}

static inline int64_t draw_ns(bench_rng *r)
{
  return llrint(bench_rng_exp(r, 1.0) * 1e9);
}

static volatile int64_t sink;

static double hold_once(uint64_t n, uint64_t ops, long long *queue_bytes)
{
  bench_rng r;
  bench_rng_seed(&r, SEED);
  heap q = {0};
  long long before = bench_heap_bytes();
  for (uint64_t i = 0; i < n; i++) heap_push(&q, draw_ns(&r), i);
  long long after = bench_heap_bytes();
  *queue_bytes = before < 0 ? -1 : after - before;
  int64_t now = 0;
  double t0 = bench_now_s();
  for (uint64_t k = 0; k < ops; k++) {
    entry e = heap_pop(&q);
    now = e.t;
    heap_push(&q, now + draw_ns(&r), e.payload);
  }
  double dt = bench_now_s() - t0;
  sink = now;
  free(q.h);
  return dt;
}

static double cancel_once(uint64_t n, uint64_t reps, const uint32_t *perm, bool *cancelled)
{
  bench_rng r;
  bench_rng_seed(&r, SEED);
  heap q = {0};
  uint64_t fired = 0;
  double t0 = bench_now_s();
  for (uint64_t c = 0; c < reps; c++) {
    memset(cancelled, 0, n * sizeof *cancelled);
    int64_t now = 0;
    for (uint64_t i = 0; i < n; i++) heap_push(&q, now + draw_ns(&r), i);
    for (uint64_t k = 0; k < n / 2; k++) cancelled[perm[k]] = true;
    while (q.len > 0) {
      entry e = heap_pop(&q);
      if (!cancelled[e.payload]) {
        now = e.t;
        fired++;
      }
    }
    sink = now;
  }
  free(q.h);
  double dt = bench_now_s() - t0;
  if (fired != reps * (n - n / 2)) { fputs("baseline_hold: cancel miscounted\n", stderr); abort(); }
  return dt;
}

static void bench_size(uint64_t n, uint64_t ops, int runs, bool csv, bool hold, bool cancel)
{
  if (hold) {
    bench_row r = {"hold", "baseline-d2", "xoshiro", n, ops, 0, 0, -1};
    long long qb = -1;
    for (int k = 0; k < runs; k++) {
      double dt = hold_once(n, ops, &qb);
      if (k == 0 || dt < r.best_s) r.best_s = dt;
    }
    r.maxrss_mib = bench_maxrss_mib();
    r.queue_mib = qb < 0 ? -1 : (double)qb / 1048576.0;
    bench_row_print(csv, &r);
  }
  if (!cancel) return;

  uint32_t *perm = must(malloc(n * sizeof *perm));
  bool *cancelled = must(malloc(n * sizeof *cancelled));
  bench_rng pr;
  bench_rng_seed(&pr, SEED + 1);
  for (uint64_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
  for (uint64_t i = n - 1; i > 0; i--) {
    uint64_t j = bench_rng_below(&pr, i + 1);
    uint32_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  uint64_t reps = ops > n ? ops / n : 1;
  bench_row rc = {"cancel", "baseline-d2", "xoshiro", n, reps * n, 0, 0, -1};
  for (int k = 0; k < runs; k++) {
    double dt = cancel_once(n, reps, perm, cancelled);
    if (k == 0 || dt < rc.best_s) rc.best_s = dt;
  }
  rc.maxrss_mib = bench_maxrss_mib();
  bench_row_print(csv, &rc);
  free(cancelled);
  free(perm);
}

int main(int argc, char **argv)
{
  uint64_t sizes[16] = {1000, 10000, 100000, 1000000}, ops = 2000000;
  int nsizes = 0, runs = 3;
  bool csv = false, hold = true, cancel = true;
  for (int i = 1; i < argc; i++) {
    bool has_val = i + 1 < argc;
    if (!strcmp(argv[i], "--csv")) csv = true;
    else if (!strcmp(argv[i], "--n") && has_val && nsizes < 16)
      sizes[nsizes++] = bench_parse_count("--n", argv[++i]);
    else if (!strcmp(argv[i], "--ops") && has_val)
      ops = bench_parse_count("--ops", argv[++i]);
    else if (!strcmp(argv[i], "--runs") && has_val)
      runs = (int)bench_parse_count("--runs", argv[++i]);
    else if (!strcmp(argv[i], "--only") && has_val && !strcmp(argv[i + 1], "hold"))
      cancel = false, i++;
    else if (!strcmp(argv[i], "--only") && has_val && !strcmp(argv[i + 1], "cancel"))
      hold = false, i++;
    else {
      fprintf(stderr, "usage: bench_baseline_hold [--n N]... [--ops M] [--runs R]"
                      " [--only hold|cancel] [--csv]\n");
      return 2;
    }
  }
  if (nsizes == 0) nsizes = 4;
  bench_row_header(csv);
  for (int i = 0; i < nsizes; i++) bench_size(sizes[i], ops, runs, csv, hold, cancel);
  return 0;
}
