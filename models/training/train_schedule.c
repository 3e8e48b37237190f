/* models/training/train_schedule.c: the pipeline schedule of one
 * iteration, simulated op by op: each stage runs its forward and backward
 * ops in the schedule's order, an op starting when its stage is free and
 * its input has arrived (the previous virtual stage's forward plus the p2p
 * send, or the next one's backward plus the send back). Orders: 1F1B
 * (Narayanan et al. 2019, PipeDream-Flush) and Megatron-LM's interleaved
 * 1F1B (Narayanan et al. 2021, section 2.2.2; megatron/core/pipeline_parallel
 * /schedules.py), and either of them with the zero-bubble split of the
 * backward (Qi et al., ICLR 2024, "Zero Bubble Pipeline Parallelism",
 * ZB-H1): B, the input gradient the previous stage waits for, and W, the
 * weight gradient nobody waits for, which fills the stage's idle time.
 * Each virtual stage (chunk k of stage s: k p + s) has its own forward and
 * backward time. Owns only the scratch arrays of one call. */
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

/* The forwards stage s runs before its first backward (1F1B's warm-up;
 * interleaved, Megatron's 2 (p-1-s) + (v-1) p), at most all m v. (Some
 * Megatron versions run every forward first when m = p.) */
static int warm_up(int s, int p, int m, int v)
{
  int n = m * v, warm = v == 1 ? p - s - 1 : (p - s - 1) * 2 + (v - 1) * p;
  return warm < n ? warm : n;
}

/* The ops of stage s in order, into ops (2 m v entries). */
static void stage_order(int s, int p, int m, int v, op *ops)
{
  int n = m * v, warm = warm_up(s, p, m, v), k = 0;
  int f = 0, b = 0;
  for (; f < warm; f++) ops[k++] = interleaved_op(f, p, v, false);
  while (f < n) {
    ops[k++] = interleaved_op(f++, p, v, false);
    ops[k++] = interleaved_op(b++, p, v, true);
  }
  while (b < n) ops[k++] = interleaved_op(b++, p, v, true);
}

double train_pipeline_peak_held(int s, int p, int m, int v, const double *held)
{
  SIM_ASSERT(p >= 1 && m >= 1 && v >= 1 && s >= 0 && s < p);
  int n = m * v, warm = warm_up(s, p, m, v), f = 0, b = 0;
  double now = 0, peak = 0;
  for (; f < warm; f++) {
    now += held[interleaved_op(f, p, v, false).chunk];
    if (now > peak) peak = now;
  }
  /* the steady state: a forward, then a backward. Both orders repeat every
   * p v ops (each chunk's count grows by p), so what is held after pair i
   * + p v is what was held after pair i: p v pairs see every peak. The
   * cool-down only releases. */
  int pairs = n - warm < p * v ? n - warm : p * v;
  for (int i = 0; i < pairs; i++) {
    now += held[interleaved_op(f++, p, v, false).chunk];
    if (now > peak) peak = now;
    now -= held[interleaved_op(b++, p, v, true).chunk];
  }
  return peak;
}

/* The time the input of op o of stage s arrives (NAN while the op that
 * produces it has not run). */
static double input_ready(const op *o, int s, int p, int m, int nv, const double *fdone, const double *bdone,
                          const double *p2p)
{
  int vs = o->chunk * p + s;
  /* the previous virtual stage's output, sent from its stage */
  if (!o->backward) return vs == 0 ? 0 : fdone[(vs - 1) * m + o->mb] + p2p[(s + p - 1) % p];
  if (vs == nv - 1) return fdone[vs * m + o->mb];
  return bdone[(vs + 1) * m + o->mb] + p2p[s];
}

/* What both schedules keep while they play an iteration: each stage's ops
 * in order and how far it is, when it falls free, and when each virtual
 * stage's forward and backward of each micro-batch ended (NAN: not yet). */
typedef struct {
  int p, m, v, nv, per;
  op *ops;
  double *fdone, *bdone, *free_at;
  int *pos;
} sched;

static void sched_init(sched *c, int p, int m, int v)
{
  SIM_ASSERT(p >= 1 && m >= 1 && v >= 1);
  SIM_ASSERT(v == 1 || m % p == 0);
  *c = (sched){.p = p, .m = m, .v = v, .nv = p * v, .per = 2 * m * v};
  c->ops = xmalloc(sizeof *c->ops * (size_t)p * (size_t)c->per);
  c->fdone = xmalloc(sizeof *c->fdone * (size_t)c->nv * (size_t)m);
  c->bdone = xmalloc(sizeof *c->bdone * (size_t)c->nv * (size_t)m);
  c->pos = xcalloc((size_t)p, sizeof *c->pos);
  c->free_at = xcalloc((size_t)p, sizeof *c->free_at);
  for (int i = 0; i < c->nv * m; i++) c->fdone[i] = c->bdone[i] = NAN;
  for (int s = 0; s < p; s++) stage_order(s, p, m, v, c->ops + (size_t)s * c->per);
}

static void sched_release(sched *c)
{
  free(c->ops);
  free(c->fdone);
  free(c->bdone);
  free(c->pos);
  free(c->free_at);
}

double train_pipeline_time(int p, int m, int v, const double *f, const double *b, const double *p2p)
{
  sched c;
  sched_init(&c, p, m, v);
  int nv = c.nv, per = c.per, *pos = c.pos;
  op *ops = c.ops;
  double *fdone = c.fdone, *bdone = c.bdone, *free_at = c.free_at;

  double end = 0;
  int left = p * per;
  while (left > 0) {
    bool progress = false;
    for (int s = 0; s < p; s++) {
      while (pos[s] < per) {
        const op *o = &ops[(size_t)s * per + pos[s]];
        int vs = o->chunk * p + s;
        double ready = input_ready(o, s, p, m, nv, fdone, bdone, p2p);
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
  sched_release(&c);
  return end;
}

/* The stages that may act next, a binary heap on (free time, stage): the
 * order the stages fall free in, ties to the lower stage. */
typedef struct {
  int *at;              /* heap of stages */
  int n;
  const double *key;    /* free time per stage */
} stage_heap;

static bool before(const stage_heap *h, int a, int b)
{
  return h->key[a] < h->key[b] || (h->key[a] == h->key[b] && a < b);
}

static void heap_push(stage_heap *h, int s)
{
  int i = h->n++;
  while (i > 0 && before(h, s, h->at[(i - 1) / 2])) {
    h->at[i] = h->at[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h->at[i] = s;
}

static int heap_pop(stage_heap *h)
{
  int top = h->at[0], last = h->at[--h->n], i = 0;
  for (;;) {
    int c = 2 * i + 1;
    if (c >= h->n) break;
    if (c + 1 < h->n && before(h, h->at[c + 1], h->at[c])) c++;
    if (!before(h, h->at[c], last)) break;
    h->at[i] = h->at[c];
    i = c;
  }
  if (h->n > 0) h->at[i] = last;
  return top;
}

/* ZB-H1: each stage runs its forwards and input-gradient passes (B) in the
 * 1F1B (or interleaved) order; a B leaves its weight-gradient pass (W)
 * pending, and a stage whose next op's input has not arrived runs a
 * pending W instead (oldest first). Memory bounds what a stage holds:
 * - a forward waits for a W when the stage already holds `cap` micro-batches
 *   whose W has not run (1F1B's first stage's count), so no stage holds
 *   more than 1F1B's first (Qi et al. 2024, sec. 2.1);
 * - a B waits for a W when cap - f_s + 1 are pending, f_s the micro-batches
 *   1F1B keeps in flight on stage s, so that a stage never swaps more of
 *   its in-flight micro-batches for pending ones than that (a pending one
 *   may keep more: train_memory.c counts f_s - 1 in flight and cap - f_s + 1
 *   pending).
 * Stages decide in the order they fall free (a heap): an input not
 * computed yet cannot arrive before that time, so a stage that can
 * neither run its next op nor a W waits, off the heap, until a neighbour
 * (the only stages that feed it) runs an op. With r and peak given, peak[s]
 * is the most stage s held at once, counting a pending micro-batch r times
 * an in-flight one (chunk micro-batches). */
static double zb_play(int p, int m, int v, const double *f, const double *b, const double *w, const double *p2p,
                      double r, double *peak)
{
  sched c;
  sched_init(&c, p, m, v);
  int nv = c.nv, per = c.per, *pos = c.pos;
  op *ops = c.ops;
  double *fdone = c.fdone, *bdone = c.bdone, *free_at = c.free_at;
  /* per stage: its pending Ws (virtual stages, a FIFO of at most m v),
   * their first and count, and its micro-batches forwarded and not W'd */
  int *wq = xmalloc(sizeof *wq * (size_t)p * (size_t)per);
  int *wfirst = xcalloc((size_t)p, sizeof *wfirst), *wcount = xcalloc((size_t)p, sizeof *wcount);
  int *held = xcalloc((size_t)p, sizeof *held);
  bool *waiting = xcalloc((size_t)p, sizeof *waiting);
  stage_heap h = {.at = xmalloc(sizeof *h.at * (size_t)p), .n = 0, .key = free_at};
  for (int s = 0; s < p; s++) heap_push(&h, s);
  int n = m * v, cap = warm_up(0, p, m, v) + 1;
  if (cap > n) cap = n;
  int *limit = xmalloc(sizeof *limit * (size_t)p), *inflight = xcalloc((size_t)p, sizeof *inflight);
  for (int s = 0; s < p; s++) {
    int fs = warm_up(s, p, m, v) + 1;
    limit[s] = cap - (fs < n ? fs : n) + 1;
    if (peak) peak[s] = 0;
  }

  double end = 0;
  int left = p * per + p * n;  /* F and B ops, and the Ws */
  while (left > 0) {
    if (h.n == 0) SIM_BUG("zero-bubble schedule deadlocked (p %d, m %d, v %d)", p, m, v);
    int s = heap_pop(&h);
    double t = free_at[s], start = t;
    bool more = pos[s] < per, run_w;
    const op *o = more ? &ops[(size_t)s * per + pos[s]] : NULL;
    if (!more) {
      run_w = true;
    } else {
      double ready = input_ready(o, s, p, m, nv, fdone, bdone, p2p);
      if (wcount[s] > 0 && (o->backward ? wcount[s] >= limit[s] : held[s] >= cap)) run_w = true;
      else if (!isnan(ready) && ready <= t) run_w = false;
      else if (wcount[s] > 0) run_w = true;
      else if (!isnan(ready)) run_w = false, start = ready;
      else {
        waiting[s] = true;  /* for an op not run yet: a neighbour's */
        continue;
      }
    }
    double done;
    if (run_w) {
      int vs = wq[(size_t)s * per + wfirst[s]];
      wfirst[s]++;
      wcount[s]--;
      held[s]--;
      done = start + w[vs];
    } else {
      int vs = o->chunk * p + s;
      if (o->backward) {
        done = start + (b[vs] - w[vs]);
        bdone[vs * m + o->mb] = done;
        wq[(size_t)s * per + wfirst[s] + wcount[s]] = vs;
        wcount[s]++;
        inflight[s]--;
      } else {
        done = start + f[vs];
        fdone[vs * m + o->mb] = done;
        held[s]++;
        inflight[s]++;
      }
      if (peak && inflight[s] + r * wcount[s] > peak[s]) peak[s] = inflight[s] + r * wcount[s];
      pos[s]++;
      /* its output may be what a neighbour waits for */
      for (int d = -1; d <= 1; d += 2) {
        int nb = (s + d + p) % p;
        if (waiting[nb]) waiting[nb] = false, heap_push(&h, nb);
      }
    }
    free_at[s] = done;
    if (done > end) end = done;
    left--;
    if (pos[s] < per || wcount[s] > 0) heap_push(&h, s);
  }
  sched_release(&c);
  free(wq);
  free(wfirst);
  free(wcount);
  free(held);
  free(waiting);
  free(h.at);
  free(limit);
  free(inflight);
  return end;
}

double train_pipeline_time_zb(int p, int m, int v, const double *f, const double *b, const double *w,
                              const double *p2p)
{
  return zb_play(p, m, v, f, b, w, p2p, 1, NULL);
}

double train_pipeline_zb_held(int p, int m, int v, const double *f, const double *b, const double *w,
                              const double *p2p, double r, double *peak)
{
  return zb_play(p, m, v, f, b, w, p2p, r, peak);
}
