/* bench/schedule.c: cost of one call of the pipeline schedules a training
 * estimate (and each layout `plan` tries) plays out op by op: 1F1B
 * (train_pipeline_time) and ZB-H1 (train_pipeline_time_zb), from 8 stages
 * and 32 micro-batches to 128 stages and 1,024, interleaved 1 and 4. Prints
 * microseconds per call and nanoseconds per op (forwards, backwards and,
 * for ZB-H1, weight-gradient passes); and the memory count of uneven
 * chunks, what every stage holds at its peak (train_pipeline_peak_held
 * for each of the p stages), in microseconds for all p. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "models/training/train.h"

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(void)
{
  static const int grid[][3] = {{8, 32, 1}, {8, 32, 4}, {16, 64, 1}, {16, 64, 4}, {32, 256, 1}, {128, 1024, 1}};
  double sink = 0;
  printf("%6s %6s %3s %14s %10s %14s %10s %16s\n", "p", "m", "v", "1f1b us/call", "ns/op", "zb-h1 us/call", "ns/op",
         "peak held us/p");
  for (size_t g = 0; g < sizeof grid / sizeof grid[0]; g++) {
    int p = grid[g][0], m = grid[g][1], v = grid[g][2], nv = p * v;
    double *f = malloc(sizeof *f * (size_t)nv), *b = malloc(sizeof *b * (size_t)nv);
    double *w = malloc(sizeof *w * (size_t)nv), *p2p = malloc(sizeof *p2p * (size_t)p);
    for (int k = 0; k < nv; k++) f[k] = 1.0 + 0.01 * (k % 7), b[k] = 2 * f[k], w[k] = f[k];
    for (int s = 0; s < p; s++) p2p[s] = 0.05;
    double best[2] = {1e9, 1e9};
    for (int kind = 0; kind < 2; kind++) {
      long reps = 1 + 20000000L / ((long)p * m * v * (kind ? 3 : 2) * p);
      for (int run = 0; run < 3; run++) {
        double t0 = now_s();
        for (long i = 0; i < reps; i++)
          sink += kind ? train_pipeline_time_zb(p, m, v, f, b, w, p2p) : train_pipeline_time(p, m, v, f, b, p2p);
        double t = (now_s() - t0) / (double)reps;
        if (t < best[kind]) best[kind] = t;
      }
    }
    /* every stage's peak, chunks of two sizes */
    double held[4] = {2, 1, 1, 1}, peak = 1e9;
    long reps = 1 + 2000000L / ((long)p * p * v);
    for (int run = 0; run < 3; run++) {
      double t0 = now_s();
      for (long i = 0; i < reps; i++)
        for (int s = 0; s < p; s++) sink += train_pipeline_peak_held(s, p, m, v, held);
      double t = (now_s() - t0) / (double)reps;
      if (t < peak) peak = t;
    }
    double ops1 = 2.0 * p * m * v, ops2 = 3.0 * p * m * v;
    printf("%6d %6d %3d %14.1f %10.1f %14.1f %10.1f %16.2f\n", p, m, v, best[0] * 1e6, best[0] / ops1 * 1e9,
           best[1] * 1e6, best[1] / ops2 * 1e9, peak * 1e6);
    free(f);
    free(b);
    free(w);
    free(p2p);
  }
  return sink > 0 ? 0 : 1;
}
