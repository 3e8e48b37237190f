/* models/training/train_schedule.c: the pipeline schedule of one
 * iteration, simulated op by op: each stage runs its forward and backward
 * ops in the schedule's order, an op starting when its stage is free and
 * its input has arrived (the previous virtual stage's forward plus the p2p
 * send, or the next one's backward plus the send back). Orders: 1F1B
 * (Narayanan et al. 2019, PipeDream-Flush) and Megatron-LM's interleaved
 * 1F1B (Narayanan et al. 2021, section 2.2.2; megatron/core/pipeline_parallel
 * /schedules.py). Each virtual stage (chunk k of stage s: k p + s) has its
 * own forward and backward time. Owns only the scratch arrays of one call. */
#include <math.h>
#include <stdlib.h>

#include "models/training/train.h"
#include "sim/util.h"

typedef struct {
  int backward, mb, chunk;
} op;

/* The k-th forward (or backward) of a stage in Megatron's interleaved order:
 * micro-batches in groups of p, each group through every chunk in turn
 * (backwards from the last chunk). */
static op interleaved_op(int k, int p, int v, bool backward)
{
  int group = k / (p * v), in = k % (p * v);
  int chunk = in / p;
  op o = {backward, group * p + in % p, backward ? v - 1 - chunk : chunk};
  return o;
}

/* The ops of stage s in order, into ops (2 m v entries). */
static void stage_order(int s, int p, int m, int v, op *ops)
{
  int n = m * v, warm, k = 0;
  if (v == 1) warm = p - s - 1 < m ? p - s - 1 : m;
  else warm = (p - s - 1) * 2 + (v - 1) * p < n ? (p - s - 1) * 2 + (v - 1) * p : n;
  int f = 0, b = 0;
  for (; f < warm; f++) ops[k++] = interleaved_op(f, p, v, false);
  while (f < n) {
    ops[k++] = interleaved_op(f++, p, v, false);
    ops[k++] = interleaved_op(b++, p, v, true);
  }
  while (b < n) ops[k++] = interleaved_op(b++, p, v, true);
}

double train_pipeline_time(int p, int m, int v, const double *f, const double *b, const double *p2p)
{
  SIM_ASSERT(p >= 1 && m >= 1 && v >= 1);
  SIM_ASSERT(v == 1 || m % p == 0);
  int nv = p * v, per = 2 * m * v;
  op *ops = xmalloc(sizeof *ops * (size_t)p * (size_t)per);
  double *fdone = xmalloc(sizeof *fdone * (size_t)nv * (size_t)m);
  double *bdone = xmalloc(sizeof *bdone * (size_t)nv * (size_t)m);
  int *pos = xcalloc((size_t)p, sizeof *pos);
  double *free_at = xcalloc((size_t)p, sizeof *free_at);
  for (int i = 0; i < nv * m; i++) fdone[i] = bdone[i] = NAN;
  for (int s = 0; s < p; s++) stage_order(s, p, m, v, ops + (size_t)s * per);

  double end = 0;
  int left = p * per;
  while (left > 0) {
    bool progress = false;
    for (int s = 0; s < p; s++) {
      while (pos[s] < per) {
        const op *o = &ops[(size_t)s * per + pos[s]];
        int vs = o->chunk * p + s;
        double ready;
        if (!o->backward) {
          /* the previous virtual stage's output, sent from its stage */
          ready = vs == 0 ? 0 : fdone[(vs - 1) * m + o->mb] + p2p[(s + p - 1) % p];
        } else if (vs == nv - 1) {
          ready = fdone[vs * m + o->mb];
        } else {
          ready = bdone[(vs + 1) * m + o->mb] + p2p[s];
        }
        if (isnan(ready)) break; /* input not computed yet: another stage first */
        double start = free_at[s] > ready ? free_at[s] : ready;
        double t = start + (o->backward ? b[vs] : f[vs]);
        (o->backward ? bdone : fdone)[vs * m + o->mb] = t;
        free_at[s] = t;
        if (t > end) end = t;
        pos[s]++;
        left--;
        progress = true;
      }
    }
    if (!progress) SIM_BUG("pipeline schedule deadlocked (p %d, m %d, v %d)", p, m, v);
  }
  free(ops);
  free(fdone);
  free(bdone);
  free(pos);
  free(free_at);
  return end;
}
