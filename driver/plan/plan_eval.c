/* driver/plan/plan_eval.c: one configuration of `clustersim plan` (see plan.h):
 * the --set texts that make pool 0 a (GPU, tp, replicas) at a load scale
 * (or a fleet, plan_shape.c; or a prefill/decode configuration, plan_pd.c),
 * loading it, running its replications and judging it against the
 * targets; whether a (GPU, tp) fits at all; comparing two runs; reading a
 * number of the scenario with its key-table default. It never writes
 * files and never touches the search. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/config/cfg.h"
#include "sim/component.h"
#include "driver/plan/plan.h"
#include "driver/commands/runner.h"
#include "driver/config/scenario.h"
#include "sim/util.h"

volatile sig_atomic_t plan_stop;

enum { NSETS_EXTRA = 5 };

static void describe(const plan_ctx *c, int gpu, int tp, int replicas, const plan_fleet *f, const plan_pd *pd,
                     char *buf, size_t n);

/* The --set texts of a disaggregated prefill/decode configuration: the
 * user's, then the two pools' replicas. */
static size_t make_pd_sets(const plan_ctx *c, const plan_pd *pd, char **sets, char bufs[NSETS_EXTRA][256])
{
  const plan_opts *o = c->o;
  size_t n = 0;
  for (size_t i = 0; i < o->nsets; i++) sets[n++] = o->sets[i];
  if (!pd->colocated) {
    snprintf(bufs[0], 256, "cluster.pools.[%d].replicas=%d", pd->prefill_pool, pd->prefill);
    snprintf(bufs[1], 256, "cluster.pools.[%d].replicas=%d", pd->decode_pool, pd->decode);
    sets[n++] = bufs[0];
    sets[n++] = bufs[1];
  }
  return n;
}

/* The user's --set texts, then pool 0's GPU, tp, replicas (unless < 0: a
 * fleet sets them), its negotiated price (--gpu-price) and (scale >= 0)
 * the load scale, in bufs (which must outlive the load). */
static size_t make_sets(const plan_ctx *c, int gpu, int tp, int replicas, int scale, char **sets,
                        char bufs[NSETS_EXTRA][256])
{
  const plan_opts *o = c->o;
  size_t n = 0;
  for (size_t i = 0; i < o->nsets; i++) sets[n++] = o->sets[i];
  snprintf(bufs[0], 256, "cluster.pools.[0].gpu=\"%s\"", o->gpus[gpu]);
  snprintf(bufs[1], 256, "cluster.pools.[0].tp=%d", tp);
  snprintf(bufs[2], 256, "cluster.pools.[0].replicas=%d", replicas);
  sets[n++] = bufs[0];
  sets[n++] = bufs[1];
  if (replicas >= 0) sets[n++] = bufs[2];
  if (o->prices[gpu].negotiated) {
    snprintf(bufs[3], 256, "cluster.pools.[0].usd_per_gpu_hour=%.17g", o->prices[gpu].usd_per_gpu_hour);
    sets[n++] = bufs[3];
  }
  if (scale >= 0) {
    snprintf(bufs[4], 256, "workload.load_scale=%.17g", c->base_load_scale * o->scales[scale]);
    sets[n++] = bufs[4];
  }
  return n;
}

/* The model marks these (sim_check_fail_capacity); plan plans pool 0, so
 * only pool 0's count. Anything else is the user's to fix. */
bool plan_capacity_error(const char *msg, bool capacity)
{
  return capacity && strstr(msg, "cluster.pools.[0]") != NULL;
}

/* Load pool 0 as (gpu, tp, replicas) at `scale`, or, with a fleet, as
 * that fleet (replicas unused), or, with pd, the prefill/decode
 * configuration (the rest unused). */
static bool load(const plan_ctx *c, int gpu, int tp, int replicas, int scale, const plan_fleet *fleet,
                 const plan_pd *pd, cfg_scenario *sc, cfg_errors *errs, char **sets, char bufs[NSETS_EXTRA][256])
{
  const plan_opts *o = c->o;
  size_t n = pd ? make_pd_sets(c, pd, sets, bufs) : make_sets(c, gpu, tp, fleet ? -1 : replicas, scale, sets, bufs);
  cfg_errors_init(errs, o->file);
  plan_shape_arg shape = {o, fleet};
  cfg_load_opts lo = {.sets = sets, .nsets = n, .seed = o->have_seed ? &o->seed : NULL,
                      .catalogs = o->catalogs, .ncatalogs = o->ncatalogs, .max_input_bytes = o->max_input_bytes};
  if (c->edit) lo.edit = c->edit, lo.edit_arg = c->edit_arg;
  if (fleet) lo.edit = plan_shape, lo.edit_arg = &shape;
  if (pd && pd->colocated) lo.edit = plan_pd_shape, lo.edit_arg = (void *)pd;
  return cfg_scenario_load(sc, o->file, &lo, errs);
}

int plan_fits(const plan_ctx *c, int gpu, int tp, char *reason, size_t n)
{
  char **sets = xcalloc(c->o->nsets + NSETS_EXTRA, sizeof *sets);
  char bufs[NSETS_EXTRA][256];
  cfg_scenario sc;
  cfg_errors errs;
  int rc = 1;
  if (!load(c, gpu, tp, 1, -1, NULL, NULL, &sc, &errs, sets, bufs)) {
    bool capacity = errs.len > 0;
    for (size_t i = 0; i < errs.len; i++)
      if (!plan_capacity_error(errs.msgs[i], errs.capacity[i])) capacity = false;
    if (capacity) {
      const char *m = strstr(errs.msgs[0], "cluster.pools.[0]");
      snprintf(reason, n, "%s", m);
      rc = 0;
    } else {
      cfg_errors_print(&errs, stderr);
      fprintf(stderr, "clustersim plan: %s with gpu %s, tp %d: the scenario is not valid\n", c->o->file,
              c->o->gpus[gpu], tp);
      rc = SIM_PLAN_USER_ERROR;
    }
  }
  cfg_errors_release(&errs);
  cfg_scenario_release(&sc);
  free(sets);
  return rc;
}

double plan_ratio(double value, double target)
{
  if (isnan(value)) return INFINITY;
  if (target > 0) return value / target;
  /* a target of 0 (preemptions=0): met is 0, missed grows with the value */
  return value <= target ? 0 : 1 + (value - target);
}

/* A numeric metric of rep, or false. */
static bool metric(const sim_report *rep, const char *key, double *out)
{
  const sim_metric *m = sim_report_get(rep, key);
  if (!m || m->kind == SIM_VAL_STR) return false;
  *out = m->kind == SIM_VAL_INT ? (double)m->i : m->x;
  return true;
}

static double worst(double a, double b)
{
  if (isnan(a) || isnan(b)) return NAN;
  return a > b ? a : b;
}

static const char *const needed[] = {"usd_per_hour", "usd_per_million_tokens", "offered_rate_per_s", "gpus",
                                     "requests_rejected"};

/* SIM_PLAN_OK if rep has every metric plan reads, else a message and
 * SIM_PLAN_USER_ERROR. */
static int check_report(const plan_opts *o, const sim_report *rep)
{
  double v;
  for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
    if (!metric(rep, needed[i], &v)) {
      fprintf(stderr, "clustersim plan: %s: the summary has no %s: plan needs a serving scenario\n", o->file,
              needed[i]);
      return SIM_PLAN_USER_ERROR;
    }
  for (int i = 0; i < o->nslo; i++)
    if (!metric(rep, o->slo[i].metric, &v)) {
      fprintf(stderr, "clustersim plan: --slo %s: not a numeric metric of the summary of %s (such as "
              "ttft_p99_s, tpot_p99_s, e2e_p99_s; `clustersim run` lists them all)\n", o->slo[i].metric, o->file);
      return SIM_PLAN_USER_ERROR;
    }
  return SIM_PLAN_OK;
}

/* The message for a configuration whose summary has no price. */
static void no_price(const plan_ctx *c, int gpu, const plan_pd *pd)
{
  if (pd)
    fprintf(stderr, "clustersim plan: %s: a pool's GPU has no price in the catalog: set cost.usd_per_gpu_hour or "
            "cluster.pools.[%d].usd_per_gpu_hour and cluster.pools.[%d].usd_per_gpu_hour\n", c->o->file,
            pd->prefill_pool, pd->decode_pool);
  else
    fprintf(stderr, "clustersim plan: %s has no price in the catalog: set cost.usd_per_gpu_hour or "
            "cluster.pools.[0].usd_per_gpu_hour, or give --gpu-price %s=USD\n", c->o->gpus[gpu], c->o->gpus[gpu]);
}

/* keep: hand the run's report out (the caller releases it) instead of
 * checking it. */
static int check_metrics(const plan_ctx *c, int gpu, int tp, const plan_fleet *fleet, const plan_pd *pd,
                         sim_report *keep)
{
  char **sets = xcalloc(c->o->nsets + NSETS_EXTRA, sizeof *sets);
  char bufs[NSETS_EXTRA][256];
  cfg_scenario sc;
  cfg_errors errs;
  int rc = SIM_PLAN_OK;
  if (!load(c, gpu, tp, 1, -1, fleet, pd, &sc, &errs, sets, bufs)) {
    cfg_errors_print(&errs, stderr);
    if (fleet || pd) {
      char what[256];
      describe(c, gpu, tp, 1, fleet, pd, what, sizeof what);
      fprintf(stderr, "clustersim plan: %s with %s: the scenario is not valid\n", c->o->file, what);
    }
    rc = SIM_PLAN_USER_ERROR;
  } else {
    sc.horizon_s = 1e-9;
    sc.warmup_s = 0;
    sim_report rep;
    sim_run_result why = run_replication(&sc, sc.seed, NULL, true, &rep);
    rc = why == SIM_RUN_STOPPED ? SIM_PLAN_STOPPED : keep ? SIM_PLAN_OK : check_report(c->o, &rep);
    double cost;
    if (rc == SIM_PLAN_OK && !keep && metric(&rep, "usd_per_hour", &cost) && isnan(cost)) {
      no_price(c, gpu, pd);
      rc = SIM_PLAN_USER_ERROR;
    }
    if (rc == SIM_PLAN_OK && keep)
      *keep = rep;
    else
      sim_report_release(&rep);
  }
  cfg_errors_release(&errs);
  cfg_scenario_release(&sc);
  free(sets);
  return rc;
}

int plan_check_metrics(const plan_ctx *c, int gpu, int tp, const plan_fleet *fleet)
{
  return check_metrics(c, gpu, tp, fleet, NULL, NULL);
}

int plan_probe(const plan_ctx *c, int gpu, int tp, sim_report *rep)
{
  return check_metrics(c, gpu, tp, NULL, NULL, rep);
}

int plan_check_metrics_pd(const plan_ctx *c, const plan_pd *pd)
{
  return check_metrics(c, 0, 0, NULL, pd, NULL);
}

int plan_probe_pd(const plan_ctx *c, const plan_pd *pd, sim_report *rep)
{
  return check_metrics(c, 0, 0, NULL, pd, rep);
}

/* Every numeric metric of the n reports (any of them), its mean over
 * those where it is finite, in order of first appearance; not the seed. */
static void summarize(const sim_report *reps, int n, sim_report *out)
{
  sim_report_init(out);
  for (int k = 0; k < n; k++)
    for (size_t i = 0; i < reps[k].len; i++) {
      const sim_metric *m = &reps[k].items[i];
      if (m->kind == SIM_VAL_STR || !strcmp(m->key, "seed") || sim_report_get(out, m->key)) continue;
      double sum = 0;
      int count = 0;
      for (int j = 0; j < n; j++) {
        double v;
        if (metric(&reps[j], m->key, &v) && isfinite(v)) sum += v, count++;
      }
      sim_report_num(out, m->key, count ? sum / count : NAN, NULL);
    }
}

/* Describe the configuration for messages: "gpu G, tp T, R replicas", the
 * fleet, or the prefill/decode configuration. */
static void describe(const plan_ctx *c, int gpu, int tp, int replicas, const plan_fleet *f, const plan_pd *pd,
                     char *buf, size_t n)
{
  if (pd) {
    plan_pd_describe(pd, buf, n);
    return;
  }
  int k = snprintf(buf, n, "gpu %s, tp %d, ", c->o->gpus[gpu], tp);
  if (k < 0 || (size_t)k >= n) return;
  if (!f)
    snprintf(buf + k, n - (size_t)k, "%d replicas", replicas);
  else
    plan_fleet_describe(f, buf + k, n - (size_t)k);
}

static int eval(const plan_ctx *c, int gpu, int tp, int replicas, int scale, const plan_fleet *fleet,
                const plan_pd *pd, plan_sim *out)
{
  const plan_opts *o = c->o;
  memset(out, 0, sizeof *out);
  out->gpu = gpu;
  out->tp = tp;
  out->replicas = fleet ? fleet->base_replicas : replicas;
  out->scale = scale;
  if (fleet) out->is_fleet = true, out->fleet = *fleet;
  if (pd) {
    out->is_pd = true;
    out->pd = *pd;
    out->replicas = pd->colocated ? pd->replicas : pd->prefill + pd->decode;
  }
  if (plan_stop || run_stop_signal()) return SIM_PLAN_STOPPED;
  char **sets = xcalloc(o->nsets + NSETS_EXTRA, sizeof *sets);
  char bufs[NSETS_EXTRA][256];
  cfg_scenario sc;
  cfg_errors errs;
  int rc = SIM_PLAN_OK;
  sim_report *reps = NULL;
  int nreps = 0;
  if (!load(c, gpu, tp, replicas, scale, fleet, pd, &sc, &errs, sets, bufs)) {
    char what[256];
    describe(c, gpu, tp, replicas, fleet, pd, what, sizeof what);
    bool capacity = errs.len > 0;
    for (size_t i = 0; i < errs.len; i++)
      if (fleet || pd ? !errs.capacity[i] : !plan_capacity_error(errs.msgs[i], errs.capacity[i])) capacity = false;
    if (capacity) {
      /* more GPUs than the provider has (its cap): infeasible, not a mistake */
      snprintf(out->reason, sizeof out->reason, "%s", errs.msgs[0]);
      out->worst_ratio = INFINITY;
      out->rejected = NAN;
      out->usd_per_hour = out->usd_per_million_tokens = out->arrival_rate_per_s = out->gpus = NAN;
      for (int i = 0; i < o->nslo; i++) out->values[i] = NAN;
      sim_report_init(&out->summary);
      goto done;
    }
    cfg_errors_print(&errs, stderr);
    fprintf(stderr, "clustersim plan: %s with %s: the scenario is not valid\n", o->file, what);
    rc = SIM_PLAN_USER_ERROR;
    goto done;
  }
  out->feasible = true;
  reps = xcalloc((size_t)o->replications, sizeof *reps);
  for (int k = 0; k < o->replications && out->feasible; k++) {
    sim_report *rep = &reps[nreps++];
    sim_run_result why = run_replication(&sc, sc.seed + k, NULL, true, rep);
    if (why == SIM_RUN_STOPPED || plan_stop) {
      rc = SIM_PLAN_STOPPED;
      goto done;
    }
    double v[SIM_PLAN_MAX_TARGETS], cost = NAN, per_mtok = NAN, rate = NAN, gpus = NAN, rejected = NAN;
    if ((rc = check_report(o, rep)) != SIM_PLAN_OK) goto done;
    metric(rep, "usd_per_hour", &cost);
    metric(rep, "usd_per_million_tokens", &per_mtok);
    metric(rep, "offered_rate_per_s", &rate);
    metric(rep, "gpus", &gpus);
    metric(rep, "requests_rejected", &rejected);
    /* requests longer than the model's context are rejected whatever the
     * configuration: not a capacity miss */
    double too_long = 0;
    if (metric(rep, "requests_too_long", &too_long)) rejected -= too_long;
    if (isnan(cost)) {
      no_price(c, gpu, pd);
      rc = SIM_PLAN_USER_ERROR;
      goto done;
    }
    bool ok = rejected == 0;
    double ratio = 0;
    for (int i = 0; i < o->nslo; i++) {
      metric(rep, o->slo[i].metric, &v[i]);
      if (!(v[i] <= o->slo[i].target)) ok = false;
      double r = plan_ratio(v[i], o->slo[i].target);
      if (r > ratio) ratio = r;
    }
    /* worst over replications for the targets, mean for the rest */
    int n = k + 1;
    out->usd_per_hour += (cost - out->usd_per_hour) / n;
    out->usd_per_million_tokens += (per_mtok - out->usd_per_million_tokens) / n;
    out->arrival_rate_per_s += (rate - out->arrival_rate_per_s) / n;
    out->gpus = gpus;
    out->rejected = k ? worst(out->rejected, rejected) : rejected;
    for (int i = 0; i < o->nslo; i++) out->values[i] = k ? worst(out->values[i], v[i]) : v[i];
    out->worst_ratio = k ? fmax(out->worst_ratio, ratio) : ratio;
    out->runs = n;
    out->feasible = ok;
  }
  if (rc == SIM_PLAN_OK) summarize(reps, nreps, &out->summary);
done:
  for (int k = 0; k < nreps; k++) sim_report_release(&reps[k]);
  free(reps);
  cfg_errors_release(&errs);
  cfg_scenario_release(&sc);
  free(sets);
  return rc;
}

int plan_eval(const plan_ctx *c, int gpu, int tp, int replicas, int scale, plan_sim *out)
{
  return eval(c, gpu, tp, replicas, scale, NULL, NULL, out);
}

int plan_eval_fleet(const plan_ctx *c, int gpu, int tp, const plan_fleet *f, plan_sim *out)
{
  return eval(c, gpu, tp, 0, -1, f, NULL, out);
}

int plan_eval_pd(const plan_ctx *c, const plan_pd *pd, plan_sim *out)
{
  return eval(c, 0, 0, 0, -1, NULL, pd, out);
}

/* -1, 0, 1 as a is cheaper, the same (relative 1e-9), dearer than b. */
static int cmp_cost(double a, double b)
{
  double tol = 1e-9 * fmax(fabs(a), fabs(b));
  return a < b - tol ? -1 : a > b + tol ? 1 : 0;
}

bool plan_better(const plan_sim *a, const plan_sim *b)
{
  int c = cmp_cost(a->usd_per_hour, b->usd_per_hour);
  if (c) return c < 0;
  if (a->gpus != b->gpus) return a->gpus < b->gpus;
  return a->worst_ratio < b->worst_ratio;
}

bool plan_closer(const plan_sim *a, const plan_sim *b)
{
  bool ra = a->rejected > 0, rb = b->rejected > 0;
  if (ra != rb) return !ra;
  if (a->worst_ratio != b->worst_ratio) return a->worst_ratio < b->worst_ratio;
  return cmp_cost(a->usd_per_hour, b->usd_per_hour) < 0;
}

/* The default of the key at dotted `path` ("cluster.pools.[0].pp") in the
 * components' key tables, or false. */
static bool key_default(const char *path, double *out)
{
  char *copy = xstrdup(path);
  char *parts[32];
  int n = 0;
  char *save = NULL;
  for (char *p = strtok_r(copy, ".", &save); p && n < 32; p = strtok_r(NULL, ".", &save)) parts[n++] = p;
  bool found = false;
  for (const sim_component_type *const *t = sim_components; *t && !found && n > 0; t++) {
    const sim_key *table = (*t)->schema;
    int i = 0;
    if (!(*t)->sections) {
      if (strcmp(parts[0], (*t)->name)) continue;
      i = 1;
    }
    while (table && i < n) {
      const sim_key *k = table;
      while (k->name && strcmp(k->name, parts[i])) k++;
      if (!k->name) break;
      i++;
      if (i == n) {
        if (k->kind == SIM_KEY_INT || k->kind == SIM_KEY_FLOAT) {
          *out = k->def;
          found = true;
        }
        break;
      }
      if (k->kind == SIM_KEY_LIST) {
        if (parts[i][0] != '[') break;
        i++;
      } else if (k->kind != SIM_KEY_GROUP) {
        break;
      }
      table = k->group;
    }
  }
  free(copy);
  return found;
}

bool plan_number(const void *cfg, const char *path, double *out)
{
  config_setting_t *s = config_lookup((const config_t *)cfg, path);
  if (s) {
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT: *out = config_setting_get_int(s); return true;
    case CONFIG_TYPE_INT64: *out = (double)config_setting_get_int64(s); return true;
    case CONFIG_TYPE_FLOAT: *out = config_setting_get_float(s); return true;
    default: return false;
    }
  }
  return key_default(path, out);
}
