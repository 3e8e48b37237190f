/* bench/baseline_mmc.c: an M/M/c FIFO queue as a no-abstraction loop, the
 * reference for timing `clustersim run scenarios/mmc.cfg` on the same
 * machine. No project code: a binary min-heap of {int64 ns time, kind},
 * a ring buffer of waiting customers' arrival times, two xoshiro256+
 * streams (arrivals, services), exponentials by -log(u) rounded to ns.
 *
 * Defaults: c = 8 servers, arrival rate 7.2/s, service rate 1/s (offered
 * load a = 7.2 Erlang, utilisation 0.9), 10^7 customers from an empty
 * system; arrivals stop after the last customer and the loop runs until
 * every customer has left (2 events per customer). Prints the best wall
 * time of the loop over --runs runs and the mean wait in queue, next to
 * the exact Erlang-C value for a check:
 *   C(c, a) = (a^c/c! * 1/(1-rho)) / (sum_{k<c} a^k/k! + a^c/c! * 1/(1-rho))
 *   Wq = C(c, a) / (c*mu - lambda)
 * For c = 8, a = 7.2: C = 0.701533, Wq = 0.701533 / 0.8 = 0.876916 s. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/benchutil.h"

enum { ARRIVAL, DEPARTURE };

typedef struct {
  int64_t t;
  uint64_t kind;
} entry;

typedef struct {
  entry h[64]; /* at most c + 1 pending events */
  size_t len;
} heap;

typedef struct {
  int64_t *buf;
  size_t head, len, cap; /* cap a power of two */
} fifo;

typedef struct {
  uint64_t customers;
  int servers;
  double lambda, mu;
  int runs;
  bool csv;
} options;

static void *must(void *p)
{
  if (!p) { fputs("baseline_mmc: out of memory\n", stderr); abort(); }
  return p;
}

static inline void heap_push(heap *q, int64_t t, uint64_t kind)
{
  entry *h = q->h;
  size_t i = q->len++;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (h[p].t <= t) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = (entry){t, kind};
}

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

static inline void fifo_push(fifo *f, int64_t v)
{
  if (f->len == f->cap) {
    size_t nc = f->cap ? f->cap * 2 : 1024;
    int64_t *nb = must(malloc(nc * sizeof *nb));
    for (size_t i = 0; i < f->len; i++) nb[i] = f->buf[(f->head + i) & (f->cap - 1)];
    free(f->buf);
    f->buf = nb;
    f->head = 0;
    f->cap = nc;
  }
  f->buf[(f->head + f->len++) & (f->cap - 1)] = v;
}

static inline int64_t fifo_pop(fifo *f)
{
  int64_t v = f->buf[f->head];
  f->head = (f->head + 1) & (f->cap - 1);
  f->len--;
  return v;
}

static inline int64_t exp_ns(bench_rng *r, double mean_s)
{
  return llrint(bench_rng_exp(r, mean_s) * 1e9);
}

/* Exact mean wait in queue of M/M/c (requires lambda < c * mu), seconds. */
static double erlang_c_wq(int c, double lambda, double mu)
{
  double a = lambda / mu, rho = a / c, term = 1, sum = 0;
  for (int k = 0; k < c; k++) {
    sum += term;          /* a^k / k! */
    term *= a / (k + 1);
  }
  double tail = term / (1 - rho); /* a^c / c! / (1 - rho) */
  return tail / (sum + tail) / (c * mu - lambda);
}

/* One run: returns the loop's wall seconds; *mean_wait_s the mean wait in
 * queue over all customers. */
static double run_once(const options *o, double *mean_wait_s)
{
  bench_rng arr, svc;
  bench_rng_seed(&arr, 1);
  bench_rng_seed(&svc, 2);
  double mean_ia = 1 / o->lambda, mean_svc = 1 / o->mu;
  heap q = {.len = 0};
  fifo wait = {0};
  int busy = 0;
  uint64_t arrived = 1;
  int64_t wait_sum_ns = 0;
  double t0 = bench_now_s();
  heap_push(&q, exp_ns(&arr, mean_ia), ARRIVAL);
  while (q.len > 0) {
    entry e = heap_pop(&q);
    int64_t now = e.t;
    if (e.kind == ARRIVAL) {
      if (arrived < o->customers) {
        heap_push(&q, now + exp_ns(&arr, mean_ia), ARRIVAL);
        arrived++;
      }
      if (busy < o->servers) {
        busy++;
        heap_push(&q, now + exp_ns(&svc, mean_svc), DEPARTURE);
      } else {
        fifo_push(&wait, now);
      }
    } else if (wait.len > 0) {
      wait_sum_ns += now - fifo_pop(&wait);
      heap_push(&q, now + exp_ns(&svc, mean_svc), DEPARTURE);
    } else {
      busy--;
    }
  }
  double dt = bench_now_s() - t0;
  free(wait.buf);
  *mean_wait_s = (double)wait_sum_ns * 1e-9 / (double)o->customers;
  return dt;
}

int main(int argc, char **argv)
{
  options o = {.customers = 10000000, .servers = 8, .lambda = 7.2, .mu = 1.0, .runs = 3};
  for (int i = 1; i < argc; i++) {
    bool has_val = i + 1 < argc;
    if (!strcmp(argv[i], "--csv")) o.csv = true;
    else if (!strcmp(argv[i], "--customers") && has_val)
      o.customers = bench_parse_count("--customers", argv[++i]);
    else if (!strcmp(argv[i], "--runs") && has_val)
      o.runs = (int)bench_parse_count("--runs", argv[++i]);
    else {
      fputs("usage: bench_baseline_mmc [--customers N] [--runs R] [--csv]\n", stderr);
      return 2;
    }
  }
  double best = 0, wq = 0;
  for (int k = 0; k < o.runs; k++) {
    double dt = run_once(&o, &wq);
    if (k == 0 || dt < best) best = dt;
  }
  double exact = erlang_c_wq(o.servers, o.lambda, o.mu);
  uint64_t events = 2 * o.customers;
  if (o.csv) {
    puts("bench,impl,servers,lambda,mu,customers,events,wall_s,ns_per_event,"
         "mean_wait_s,erlang_c_wait_s,maxrss_mib");
    printf("mmc,baseline-d2,%d,%g,%g,%llu,%llu,%.4f,%.2f,%.6f,%.6f,%.1f\n", o.servers,
           o.lambda, o.mu, (unsigned long long)o.customers, (unsigned long long)events,
           best, best * 1e9 / (double)events, wq, exact, bench_maxrss_mib());
  } else {
    printf("M/M/%d FIFO, lambda %g/s, mu %g/s, %llu customers (%llu events)\n", o.servers,
           o.lambda, o.mu, (unsigned long long)o.customers, (unsigned long long)events);
    printf("  wall (loop, best of %d) %8.4f s   %6.2f ns/event\n", o.runs, best,
           best * 1e9 / (double)events);
    printf("  mean wait in queue      %8.6f s   Erlang C %.6f s (%+.2f%%)\n", wq, exact,
           100 * (wq / exact - 1));
    printf("  peak RSS                %8.1f MiB\n", bench_maxrss_mib());
  }
  return 0;
}
