/* bench/benchutil.h: helpers shared by the benchmark programs, and only by
 * them: a wall clock, peak RSS, heap bytes in use, a xoshiro256+ generator
 * with an exponential draw, and number parsing for the options. No project
 * code: the baselines include this and nothing from sim/, so they stay a
 * no-abstraction reference. Everything is static inline; no .c file. */
#ifndef BENCH_BENCHUTIL_H
#define BENCH_BENCHUTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
#include <malloc.h>
#define BENCH_HAVE_MALLINFO2 1
#endif

/* Monotonic wall clock in seconds. */
static inline double bench_now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Peak resident set size of this process so far, in MiB (never decreases). */
static inline double bench_maxrss_mib(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss / 1024.0; /* Linux: kilobytes */
}

/* Bytes malloc has handed out and not taken back; -1 where unknown. The
 * difference of two readings is what a data structure holds, slack of
 * its growth policy included. */
static inline long long bench_heap_bytes(void)
{
#ifdef BENCH_HAVE_MALLINFO2
  struct mallinfo2 mi = mallinfo2();
  return (long long)(mi.uordblks + mi.hblkhd);
#else
  return -1;
#endif
}

/* xoshiro256+ (Blackman & Vigna 2018), seeded through splitmix64. */
typedef struct {
  uint64_t s[4];
} bench_rng;

static inline uint64_t bench_splitmix64(uint64_t *x)
{
  uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static inline void bench_rng_seed(bench_rng *r, uint64_t seed)
{
  for (int i = 0; i < 4; i++) r->s[i] = bench_splitmix64(&seed);
}

static inline uint64_t bench_rng_next(bench_rng *r)
{
  uint64_t *s = r->s;
  uint64_t result = s[0] + s[3];
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = (s[3] << 45) | (s[3] >> 19);
  return result;
}

/* Uniform on (0, 1]: the top 53 bits, plus one ulp so log() stays finite. */
static inline double bench_rng_uniform_pos(bench_rng *r)
{
  return (double)((bench_rng_next(r) >> 11) + 1) * 0x1.0p-53;
}

/* Exponential with the given mean, by -log(u). */
static inline double bench_rng_exp(bench_rng *r, double mean)
{
  return -log(bench_rng_uniform_pos(r)) * mean;
}

/* Uniform integer in [0, n) (n > 0; the modulo bias is irrelevant here). */
static inline uint64_t bench_rng_below(bench_rng *r, uint64_t n)
{
  return bench_rng_next(r) % n;
}

/* Parse a positive count written as an integer or "1e6"; exit(2) if bad. */
static inline uint64_t bench_parse_count(const char *opt, const char *s)
{
  char *end;
  double v = strtod(s, &end);
  if (end == s || *end != '\0' || !(v >= 1) || v > 4e9 || v != floor(v)) {
    fprintf(stderr, "%s: expected a positive whole number, got '%s'\n", opt, s);
    exit(2);
  }
  return (uint64_t)v;
}

/* One result line; every hold benchmark prints these same columns. */
typedef struct {
  const char *bench;  /* "hold" or "cancel" */
  const char *impl;   /* "baseline-d2", "engine-simcore", "engine-d2", ... */
  const char *rng;    /* "xoshiro" or "gsl-taus2" */
  uint64_t n;         /* pending events */
  uint64_t ops;       /* operations timed */
  double best_s;      /* best wall time over the runs */
  double maxrss_mib;  /* process peak RSS after this row */
  double queue_mib;   /* heap bytes held by the queue; < 0 if unknown */
} bench_row;

static inline void bench_row_header(int csv)
{
  if (csv)
    puts("bench,impl,rng,n,ops,ops_per_s,ns_per_op,maxrss_mib,queue_mib");
  else
    printf("%-7s %-15s %-8s %8s %10s %12s %8s %10s %9s\n", "bench", "impl", "rng",
           "N", "ops", "ops/s", "ns/op", "maxrss_MiB", "queue_MiB");
}

static inline void bench_row_print(int csv, const bench_row *r)
{
  double rate = (double)r->ops / r->best_s, ns = r->best_s * 1e9 / (double)r->ops;
  char q[32] = "";
  if (r->queue_mib >= 0) snprintf(q, sizeof q, "%.2f", r->queue_mib);
  else if (!csv) q[0] = '-';
  if (csv)
    printf("%s,%s,%s,%llu,%llu,%.0f,%.2f,%.1f,%s\n", r->bench, r->impl, r->rng,
           (unsigned long long)r->n, (unsigned long long)r->ops, rate, ns,
           r->maxrss_mib, q);
  else
    printf("%-7s %-15s %-8s %8llu %10llu %12.0f %8.1f %10.1f %9s\n", r->bench,
           r->impl, r->rng, (unsigned long long)r->n, (unsigned long long)r->ops,
           rate, ns, r->maxrss_mib, q);
  fflush(stdout);
}

#endif
