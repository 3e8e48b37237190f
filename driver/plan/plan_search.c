/* driver/plan/plan_search.c: the search of one GPU type for `clustersim plan` (see
 * plan.h). Latency is taken to be non-increasing in the replica count and
 * the replicas needed non-decreasing in the load, so each (tp, load) is a
 * search for the fewest feasible replicas: check the top of the range,
 * double from the bottom until one is feasible, then bisect. Within a type
 * every GPU costs the same, so a tp is only searched up to the replica
 * count that matches the GPUs of the type's best so far (equal GPUs may
 * still win on headroom). Runs are cached: none is simulated twice. Also
 * moves a type's results to and from bytes. Owns no output. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/plan/plan.h"
#include "driver/sweep/sweep.h"
#include "sim/util.h"

typedef struct {
  const plan_ctx *c;
  plan_type *t;
  int cap;  /* allocated sims */
} search;

/* Scale index with 1 (the scenario's own load) folded into -1. */
static int fold_scale(const plan_ctx *c, int scale)
{
  return scale >= 0 && c->o->scales[scale] == 1.0 ? -1 : scale;
}

static int find(const plan_type *t, int tp, int replicas, int scale)
{
  for (int i = 0; i < t->nsims; i++)
    if (t->sims[i].tp == tp && t->sims[i].replicas == replicas && t->sims[i].scale == scale) return i;
  return -1;
}

/* Index of the run (tp, replicas, scale), simulating it if new; -1 with
 * *status set on error or interruption. */
static int get(search *s, int tp, int replicas, int scale, int *status)
{
  plan_type *t = s->t;
  scale = fold_scale(s->c, scale);
  int i = find(t, tp, replicas, scale);
  if (i >= 0) return i;
  if (t->nsims == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 32;
    t->sims = xrealloc(t->sims, (size_t)s->cap * sizeof *t->sims);
  }
  int rc = plan_eval(s->c, t->gpu, tp, replicas, scale, &t->sims[t->nsims]);
  if (rc != SIM_PLAN_OK) {
    *status = rc;
    return -1;
  }
  return t->nsims++;
}

/* The fewest feasible replicas of tp at `scale` in [lo, hi], where fewer
 * than lo are known to miss and hi is known to meet the targets if hi_ok.
 * 0 if hi misses; -1 with *status on error. */
static int fewest(search *s, int tp, int scale, int lo, int hi, bool hi_ok, int *status)
{
  if (lo > hi) lo = hi;
  int i;
  if (!hi_ok) {
    if ((i = get(s, tp, hi, scale, status)) < 0) return -1;
    if (!s->t->sims[i].feasible) return 0;
  }
  int bad = lo - 1;
  for (int p = lo; p < hi; p *= 2) {
    if ((i = get(s, tp, p, scale, status)) < 0) return -1;
    if (s->t->sims[i].feasible) {
      hi = p;
      break;
    }
    bad = p;
  }
  while (hi - bad > 1) {
    int mid = bad + (hi - bad) / 2;
    if ((i = get(s, tp, mid, scale, status)) < 0) return -1;
    if (s->t->sims[i].feasible)
      hi = mid;
    else
      bad = mid;
  }
  return hi;
}

int plan_type_best(const plan_type *t, bool *feasible)
{
  int best = -1, miss = -1;
  for (int i = 0; i < t->nsims; i++) {
    const plan_sim *x = &t->sims[i];
    if (x->scale != -1) continue;
    if (x->feasible) {
      if (best < 0 || plan_better(x, &t->sims[best])) best = i;
    } else if (miss < 0 || plan_closer(x, &t->sims[miss])) {
      miss = i;
    }
  }
  *feasible = best >= 0;
  return best >= 0 ? best : miss;
}

/* plan_load rows: for the type's best tp (or its closest miss's), the
 * fewest replicas at each load scale, bounded by the scales around it. */
static int load_curve(search *s, int *status)
{
  const plan_opts *o = s->c->o;
  plan_type *t = s->t;
  bool feasible;
  int b = plan_type_best(t, &feasible);
  if (b < 0) return SIM_PLAN_OK;
  int tp = t->load_tp = t->sims[b].tp;
  int found[SIM_PLAN_MAX_SCALES];  /* fewest replicas; 0 none; -1 not yet searched */
  for (int j = 0; j < o->nscales; j++) found[j] = -1;
  /* the scenario's own load (scale 1) was searched already */
  int base = 0;
  for (int k = 0; k < t->nsearches; k++)
    if (t->searches[k].tp == tp && t->searches[k].outcome == SIM_PLAN_FOUND) base = t->searches[k].replicas;
  for (int j = 0; j < o->nscales; j++)
    if (fold_scale(s->c, j) == -1) found[j] = base;
  for (int j = 0; j < o->nscales; j++) {
    if (found[j] < 0) {
      int lo = 1, hi = o->max_replicas;
      bool hi_ok = false;
      if (base > 0 && o->scales[j] > 1) lo = base;
      if (base > 0 && o->scales[j] < 1) hi = base, hi_ok = true;
      for (int k = 0; k < j; k++)
        if (found[k] > lo) lo = found[k];
      for (int k = o->nscales - 1; k > j; k--)
        if (found[k] > 0 && found[k] <= hi) hi = found[k], hi_ok = true;
      found[j] = fewest(s, tp, j, lo, hi, hi_ok, status);
      if (found[j] < 0) return *status;
    }
    /* the row's own run (bounds from the neighbours can settle it unrun) */
    int r = found[j] > 0 ? found[j] : o->max_replicas;
    if (get(s, tp, r, j, status) < 0) return *status;
    plan_load *l = &t->loads[t->nloads++];
    l->gpu = t->gpu;
    l->tp = tp;
    l->scale = j;
    l->replicas = found[j];
    l->sim = find(t, tp, r, fold_scale(s->c, j));
  }
  return SIM_PLAN_OK;
}

int plan_search_type(const plan_ctx *c, plan_type *t, const bool *fits, char (*reasons)[512])
{
  const plan_opts *o = c->o;
  search s = {c, t, t->nsims};
  int status = SIM_PLAN_OK;
  int best = -1;
  for (int i = 0; i < o->ntps; i++) {
    int tp = o->tps[i];
    plan_search *x = &t->searches[t->nsearches++];
    memset(x, 0, sizeof *x);
    x->gpu = t->gpu;
    x->tp = tp;
    if (!fits[i]) {
      x->outcome = SIM_PLAN_NOFIT;
      snprintf(x->reason, sizeof x->reason, "%s", reasons[i]);
      continue;
    }
    /* only as many GPUs as the best so far: more cannot be cheaper */
    int cap = o->max_replicas;
    if (best >= 0) {
      int most = t->sims[best].tp * t->sims[best].replicas / tp;
      if (most < cap) cap = most;
    }
    if (cap < 1) {
      x->outcome = SIM_PLAN_PRUNED;
      continue;
    }
    int r = fewest(&s, tp, -1, 1, cap, false, &status);
    if (r < 0) return status;
    if (r == 0) {
      x->outcome = cap < o->max_replicas ? SIM_PLAN_PRUNED : SIM_PLAN_NONE;
      x->replicas = cap;
    } else {
      x->outcome = SIM_PLAN_FOUND;
      x->replicas = r;
      int k = find(t, tp, r, -1);
      if (best < 0 || plan_better(&t->sims[k], &t->sims[best])) best = k;
    }
    if (!o->quiet) {
      fprintf(stderr, "plan: %s tp %d: ", o->gpus[t->gpu], tp);
      if (x->outcome == SIM_PLAN_FOUND)
        fprintf(stderr, "%d replica%s meet%s the targets\n", r, r == 1 ? "" : "s", r == 1 ? "s" : "");
      else
        fprintf(stderr, "%s %d replica%s\n", x->outcome == SIM_PLAN_NONE ? "none up to" : "none cheaper, up to",
                x->replicas, x->replicas == 1 ? "" : "s");
    }
  }
  return load_curve(&s, &status);
}

void plan_type_release(plan_type *t)
{
  for (int i = 0; i < t->nsims; i++) sim_report_release(&t->sims[i].summary);
  free(t->sims);
  t->sims = NULL;
  t->nsims = 0;
}

/* The bytes of n sims: the count (int64), the plan_sim structs (pointers in
 * them are meaningless and replaced on decoding), then per sim the length
 * (uint64) and text of its summary (sweep_wire). Only between a process
 * and its fork: the same program, the same layout. */
char *plan_sims_encode(const plan_sim *sims, int n, size_t *len)
{
  size_t total = 8 + (size_t)n * sizeof *sims;
  char **texts = xcalloc((size_t)n + 1, sizeof *texts);
  for (int i = 0; i < n; i++) {
    texts[i] = sweep_wire_encode(&sims[i].summary);
    total += 8 + strlen(texts[i]);
  }
  char *out = xmalloc(total), *p = out;
  int64_t n64 = n;
  memcpy(p, &n64, 8);
  p += 8;
  if (n) memcpy(p, sims, (size_t)n * sizeof *sims);
  p += (size_t)n * sizeof *sims;
  for (int i = 0; i < n; i++) {
    uint64_t l = strlen(texts[i]);
    memcpy(p, &l, 8);
    memcpy(p + 8, texts[i], l);
    p += 8 + l;
    free(texts[i]);
  }
  free(texts);
  *len = total;
  return out;
}

/* Sims from bytes[0..len) into *sims (malloc'd, *n of them, summaries
 * owned); the bytes used in *used. False if malformed (nothing kept). */
static bool sims_decode(const char *bytes, size_t len, plan_sim **sims, int *n, size_t *used)
{
  int64_t n64;
  if (len < 8) return false;
  memcpy(&n64, bytes, 8);
  size_t at = 8;
  if (n64 < 0 || n64 > INT32_MAX || (size_t)n64 > (len - at) / sizeof **sims) return false;
  int k = (int)n64;
  plan_sim *s = xcalloc((size_t)k + 1, sizeof *s);
  memcpy(s, bytes + at, (size_t)k * sizeof *s);
  at += (size_t)k * sizeof *s;
  for (int i = 0; i < k; i++) sim_report_init(&s[i].summary);
  for (int i = 0; i < k; i++) {
    uint64_t l;
    char *text;
    bool ok = len - at >= 8;
    if (ok) {
      memcpy(&l, bytes + at, 8);
      at += 8;
      ok = l <= len - at;
    }
    if (ok) {
      text = xmalloc((size_t)l + 1);
      memcpy(text, bytes + at, (size_t)l);
      text[l] = '\0';
      at += (size_t)l;
      ok = sweep_wire_decode(text, &s[i].summary);
      free(text);
      if (!ok) sim_report_init(&s[i].summary);
    }
    if (!ok) {
      for (int j = 0; j < k; j++) sim_report_release(&s[j].summary);
      free(s);
      return false;
    }
  }
  *sims = s;
  *n = k;
  *used = at;
  return true;
}

bool plan_sims_decode(const char *bytes, size_t len, plan_sim **sims, int *n)
{
  size_t used;
  if (!sims_decode(bytes, len, sims, n, &used)) return false;
  if (used == len) return true;
  for (int j = 0; j < *n; j++) sim_report_release(&(*sims)[j].summary);
  free(*sims);
  return false;
}

/* The bytes: the plan_type struct, then its sims (plan_sims_encode). */
char *plan_type_encode(const plan_type *t, size_t *len)
{
  size_t sl;
  char *sims = plan_sims_encode(t->sims, t->nsims, &sl);
  char *out = xmalloc(sizeof *t + sl);
  memcpy(out, t, sizeof *t);
  memcpy(out + sizeof *t, sims, sl);
  free(sims);
  *len = sizeof *t + sl;
  return out;
}

bool plan_type_decode(const char *bytes, size_t len, plan_type *t)
{
  if (len < sizeof *t) return false;
  memcpy(t, bytes, sizeof *t);
  t->sims = NULL;
  t->nsims = 0;
  if (t->nsearches < 0 || t->nsearches > SIM_PLAN_MAX_TPS || t->nloads < 0 || t->nloads > SIM_PLAN_MAX_SCALES)
    return false;
  return plan_sims_decode(bytes + sizeof *t, len - sizeof *t, &t->sims, &t->nsims);
}
