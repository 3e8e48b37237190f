/* driver/plan/plan_models.c: `clustersim plan` on a scenario whose workload
 * names several models (workload.classes.[k].model): which models share
 * which GPUs. Pools that share no class are independent (a class is served
 * only by the pools holding its model), so a placement's cost is the sum
 * of its pools' and each pool is sized alone, on a scenario of its models'
 * classes only and one pool (a copy of pool 0 listing them), by pool 0's
 * own search (plan_search.c: GPU types x tp x replicas). The placements:
 *   shared     one pool holding every model (k = 0);
 *   groupings  the k heaviest models (requests/s x tokens, as their own
 *              pools measured them) on dedicated pools, the rest on one
 *              shared pool, for k = 1 .. n-2;
 *   dedicated  every model on its own pool (k = n-1 and k = n are this one
 *              placement).
 * Arbitrary partitions (the Bell number of n: 52 for five models, 4140 for
 * eight) are not searched: the n sets of one model and the n-1 tails of the
 * demand order are 2n-1 pool searches. Targets hold for every model:
 * --slo ttft_p99_s=2 checks modelN_ttft_p99_s of each model on a shared
 * pool, ttft_p99_s of a dedicated one. The cheapest placement whose pools
 * all meet the targets is then run whole (every pool and class at once) to
 * confirm it; the next cheapest is tried if it misses. Owns the groups'
 * runs and the scenario edit; plan_models_output.c shows the answer. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver/commands/cli.h"
#include "driver/commands/runner.h"
#include "driver/config/override.h"
#include "driver/config/scenario.h"
#include "driver/output/outfile.h"
#include "driver/plan/plan.h"
#include "sim/util.h"

enum { MODE_SEARCH, MODE_SHARED, MODE_DEDICATED };

static char ORIGIN[] = "cluster.pools (the placement plan builds)";

/* ---- the models of the workload ---- */

/* The base scenario as the user's settings make it: true when its file
 * reads (its checks may fail on pool 0's capacity, which plan replaces). */
static bool load_written(const plan_opts *o, cfg_scenario *sc)
{
  cfg_errors errs;
  cfg_errors_init(&errs, o->file);
  cfg_load_opts lo = {.sets = o->sets, .nsets = o->nsets, .seed = o->have_seed ? &o->seed : NULL,
                      .catalogs = o->catalogs, .ncatalogs = o->ncatalogs, .max_input_bytes = o->max_input_bytes};
  cfg_scenario_load(sc, o->file, &lo, &errs);
  cfg_errors_release(&errs);
  return config_lookup(&sc->cfg, "workload") != NULL;
}

/* The same model: the catalog's entry when there is one (aliases). */
static bool same_model(const cfg_scenario *sc, const char *a, const char *b)
{
  const void *x = sc->cats ? sim_catalog_find(sc->cats, "models", a) : NULL;
  const void *y = sc->cats ? sim_catalog_find(sc->cats, "models", b) : NULL;
  return x && y ? x == y : !strcmp(a, b);
}

/* r's models, each class's model and the default one, from sc. */
static void read_models(plan_mm_result *r, const cfg_scenario *sc)
{
  const char *def = NULL;
  config_lookup_string(&sc->cfg, "model.name", &def);
  snprintf(r->default_model, sizeof r->default_model, "%s", def ? def : "");
  config_setting_t *classes = config_lookup(&sc->cfg, "workload.classes");
  int n = classes && config_setting_is_list(classes) ? config_setting_length(classes) : 0;
  r->nmodels = r->nclasses = 0;
  for (int k = 0; k < n && k < 64; k++) {
    config_setting_t *c = config_setting_get_elem(classes, (unsigned)k);
    const char *name = NULL;
    if (!config_setting_is_group(c) || !config_setting_lookup_string(c, "model", &name)) name = r->default_model;
    int m = 0;
    while (m < r->nmodels && !same_model(sc, r->models[m].name, name)) m++;
    if (m == r->nmodels && m < SIM_PLAN_MAX_MODELS) {
      snprintf(r->models[m].name, sizeof r->models[m].name, "%s", name);
      r->models[m].demand_tokens_per_s = NAN;
      r->nmodels++;
    }
    r->class_model[r->nclasses++] = m < SIM_PLAN_MAX_MODELS ? m : 0;
  }
}

int plan_models_count(const plan_opts *o)
{
  cfg_scenario sc;
  plan_mm_result *r = xcalloc(1, sizeof *r);
  int n = load_written(o, &sc) ? (read_models(r, &sc), r->nmodels) : 0;
  cfg_scenario_release(&sc);
  free(r);
  return n;
}

bool plan_models_wanted(const plan_opts *o, bool other_mode)
{
  if (o->placement) return strcmp(o->placement, "none") != 0;
  return !other_mode && !o->npricings && o->npools == 0 && plan_models_count(o) >= 2;
}

/* ---- the scenario of a placement ---- */

/* Pools 1.. of a placement (pool 0 is what the --set texts make of the
 * scenario's pool 0) and the models of each. */
typedef struct {
  const plan_mm_result *r;
  int npools;
  unsigned mask[SIM_PLAN_MAX_MODELS];
  int gpu[SIM_PLAN_MAX_MODELS], tp[SIM_PLAN_MAX_MODELS], replicas[SIM_PLAN_MAX_MODELS];
} mm_shape;

static void drop(config_setting_t *g, const char *name)
{
  if (g && config_setting_get_member(g, name)) config_setting_remove(g, name);
}

static config_setting_t *put(config_setting_t *g, const char *name, int type)
{
  drop(g, name);
  config_setting_t *s = config_setting_add(g, name, type);
  cfg_mark_origin(s, ORIGIN);
  return s;
}

static void put_models(const plan_mm_result *r, config_setting_t *pool, unsigned mask)
{
  config_setting_t *a = put(pool, "models", CONFIG_TYPE_ARRAY);
  for (int m = 0; m < r->nmodels; m++)
    if (mask >> m & 1) config_setting_set_string_elem(a, -1, r->models[m].name);
}

static int first_model(unsigned mask)
{
  int m = 0;
  while (!(mask >> m & 1)) m++;
  return m;
}

/* A cfg_load_opts edit (arg: an mm_shape): keep the classes of the
 * placement's models, each naming its model and bound to no pool; model.name
 * the first model of pool 0; pool 0 listing its models, the other pools of
 * the scenario removed and the placement's others added as copies of pool
 * 0 with their GPU, tp, replicas and price. */
static bool mm_edit(config_t *cfg, void *arg, cfg_errors *errs)
{
  const mm_shape *s = arg;
  const plan_mm_result *r = s->r;
  const plan_opts *o = r->o;
  config_setting_t *classes = config_lookup(cfg, "workload.classes");
  config_setting_t *pools = config_lookup(cfg, "cluster.pools");
  config_setting_t *p0 = pools && config_setting_is_list(pools) && config_setting_length(pools) > 0
                             ? config_setting_get_elem(pools, 0)
                             : NULL;
  config_setting_t *model = config_lookup(cfg, "model");
  if (!classes || !config_setting_is_list(classes) || !p0 || !config_setting_is_group(p0) || !model ||
      !config_setting_is_group(model)) {
    cfg_errors_add(errs, "%s: workload.classes, cluster.pools.[0], model: missing (plan places the classes' models "
                   "on pools)", errs->file);
    return false;
  }
  unsigned all = 0;
  for (int i = 0; i < s->npools; i++) all |= s->mask[i];
  for (int k = config_setting_length(classes) - 1; k >= 0; k--) {
    config_setting_t *c = config_setting_get_elem(classes, (unsigned)k);
    int m = k < r->nclasses ? r->class_model[k] : 0;
    if (!(all >> m & 1)) {
      config_setting_remove_elem(classes, (unsigned)k);
      continue;
    }
    if (!config_setting_is_group(c)) continue;
    config_setting_set_string(put(c, "model", CONFIG_TYPE_STRING), r->models[m].name);
    drop(c, "pool");
    drop(c, "pools");
  }
  config_setting_t *w = config_lookup(cfg, "workload");
  drop(w, "pool");
  drop(w, "pools");
  config_setting_set_string(put(model, "name", CONFIG_TYPE_STRING), r->models[first_model(s->mask[0])].name);
  for (int i = config_setting_length(pools) - 1; i > 0; i--) config_setting_remove_elem(pools, (unsigned)i);
  for (int i = 1; i < s->npools; i++) {
    config_setting_t *p = config_setting_add(pools, NULL, CONFIG_TYPE_GROUP);
    cfg_copy_value(p, p0);
    cfg_mark_origin(p, ORIGIN);
    config_setting_set_string(put(p, "gpu", CONFIG_TYPE_STRING), o->gpus[s->gpu[i]]);
    config_setting_set_int(put(p, "tp", CONFIG_TYPE_INT), s->tp[i]);
    config_setting_set_int(put(p, "replicas", CONFIG_TYPE_INT), s->replicas[i]);
    /* pool 0 holds group 0's GPU's price: each copy its own GPU's */
    const plan_price *pr = &o->prices[s->gpu[i]];
    if (pr->negotiated || !strcmp(pr->source, "cluster.pools.[0].usd_per_gpu_hour"))
      config_setting_set_float(put(p, "usd_per_gpu_hour", CONFIG_TYPE_FLOAT), pr->usd_per_gpu_hour);
    else
      drop(p, "usd_per_gpu_hour");
    put_models(r, p, s->mask[i]);
  }
  put_models(r, p0, s->mask[0]);
  return true;
}

/* ---- the groups ---- */

static int popcount(unsigned x)
{
  int n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}

void plan_mm_group_name(const plan_mm_result *r, const plan_mm_group *g, char *buf, size_t n)
{
  size_t at = 0;
  buf[0] = '\0';
  for (int m = 0; m < r->nmodels && at < n; m++)
    if (g->mask >> m & 1) {
      int k = snprintf(buf + at, n - at, "%s%s", at ? "+" : "", r->models[m].name);
      if (k < 0) break;
      at += (size_t)k;
    }
}

const plan_sim *plan_mm_best(const plan_mm_group *g)
{
  return g->best >= 0 ? &g->types[g->best_type].sims[g->best] : NULL;
}

/* The targets of runs holding the models of mask, in the order the loader
 * numbers them (model.name, then the pools' models): the user's metric
 * itself for one model, modelN_METRIC of each model for several. false
 * (said) when they do not fit. */
static bool expand_targets(const plan_opts *user, plan_opts *o, char (*names)[64], const int *index, int nmodels)
{
  o->nslo = 0;
  for (int j = 0; j < nmodels; j++)
    for (int i = 0; i < user->nslo; i++) {
      if (o->nslo == SIM_PLAN_MAX_TARGETS) {
        fprintf(stderr, "clustersim plan: %d models x %d targets: at most %d per-model targets\n", nmodels,
                user->nslo, SIM_PLAN_MAX_TARGETS);
        return false;
      }
      snprintf(names[o->nslo], 64, "model%d_%s", index[j], user->slo[i].metric);
      o->slo[o->nslo] = (plan_slo){names[o->nslo], user->slo[i].target};
      o->nslo++;
    }
  return true;
}

static int add_group(plan_mm_result *r, unsigned mask)
{
  for (int g = 0; g < r->ngroups; g++)
    if (r->groups[g].mask == mask) return g;
  plan_mm_group *g = &r->groups[r->ngroups];
  g->mask = mask;
  g->opts = *r->o;
  g->best = g->best_type = -1;
  g->types = xcalloc((size_t)r->o->ngpus, sizeof *g->types);
  g->fit = xcalloc((size_t)r->o->ngpus, sizeof *g->fit);
  for (int t = 0; t < r->o->ngpus; t++) g->types[t].gpu = t;
  return r->ngroups++;
}

/* What every run of group g needs. */
typedef struct {
  mm_shape shape[SIM_PLAN_MAX_GROUPS];
  plan_ctx ctx[SIM_PLAN_MAX_GROUPS];
  plan_mm_result *r;
  int item_group[SIM_PLAN_MAX_GROUPS * SIM_PLAN_MAX_GPUS], item_gpu[SIM_PLAN_MAX_GROUPS * SIM_PLAN_MAX_GPUS];
  int nitems, from;          /* the items the pool runs now: from .. nitems-1 */
} mm_run;

/* With several models, each --slo metric must be a per-model one
 * (model0_METRIC in a run of group c cut at 1 ns on (gpu, tp)). */
static int check_per_model(const plan_ctx *c, const plan_opts *o, int gpu, int tp)
{
  sim_report rep;
  int rc = plan_probe(c, gpu, tp, &rep);
  bool have = rc == SIM_PLAN_OK;
  for (int i = 0; i < o->nslo && rc == SIM_PLAN_OK; i++) {
    char key[96];
    snprintf(key, sizeof key, "model0_%s", o->slo[i].metric);
    const sim_metric *m = sim_report_get(&rep, key);
    if (m && m->kind != SIM_VAL_STR) continue;
    fprintf(stderr, "clustersim plan: --slo %s: with several models every target holds for each model "
            "(modelN_%s), and the summary has no model0_%s; per-model metrics:", o->slo[i].metric,
            o->slo[i].metric, o->slo[i].metric);
    for (size_t k = 0; k < rep.len; k++)
      if (!strncmp(rep.items[k].key, "model0_", 7) && rep.items[k].kind != SIM_VAL_STR)
        fprintf(stderr, " %s", rep.items[k].key + 7);
    fputs("\n", stderr);
    rc = SIM_PLAN_USER_ERROR;
  }
  if (have) sim_report_release(&rep);
  return rc;
}

/* Group g's options, context, fits and checks before anything of it runs. */
static int prepare(mm_run *run, int gi)
{
  plan_mm_result *r = run->r;
  plan_mm_group *g = &r->groups[gi];
  int index[SIM_PLAN_MAX_MODELS];
  int nm = popcount(g->mask);
  for (int j = 0; j < nm; j++) index[j] = j;
  if (nm > 1 && !expand_targets(r->o, &g->opts, g->names, index, nm)) return CMD_EXIT_USAGE;
  run->shape[gi] = (mm_shape){.r = r, .npools = 1, .mask = {g->mask}};
  run->ctx[gi] = (plan_ctx){&g->opts, run->ctx[0].base_load_scale, mm_edit, &run->shape[gi]};
  const plan_ctx *c = &run->ctx[gi];
  const plan_opts *o = &g->opts;
  char name[512];
  plan_mm_group_name(r, g, name, sizeof name);
  bool any = false;
  for (int t = 0; t < o->ngpus; t++)
    for (int i = 0; i < o->ntps; i++) {
      int f = plan_fits(c, t, o->tps[i], g->fit[t].reasons[i], sizeof g->fit[t].reasons[i]);
      if (f == SIM_PLAN_USER_ERROR) {
        fprintf(stderr, "clustersim plan: (as plan places the models: the classes of %s alone, on one pool, a copy "
                "of pool 0, holding them)\n", name);
        return CMD_EXIT_USAGE;
      }
      g->fit[t].fits[i] = f == 1;
      g->fit[t].any = g->fit[t].any || f == 1;
      any = any || f == 1;
    }
  if (!any) {
    fprintf(stderr, "clustersim plan: no candidate GPU and tp holds %s:", name);
    for (int t = 0; t < o->ngpus; t++)
      for (int i = 0; i < o->ntps; i++)
        fprintf(stderr, "\n  %s, tp %d: %s", o->gpus[t], o->tps[i], g->fit[t].reasons[i]);
    fputs("\n", stderr);
    return CMD_EXIT_USAGE;
  }
  for (int t = 0; t < o->ngpus; t++) {
    if (!g->fit[t].any) continue;
    int i = 0;
    while (!g->fit[t].fits[i]) i++;
    int rc = nm > 1 ? check_per_model(c, r->o, t, o->tps[i]) : SIM_PLAN_OK;
    if (!rc) rc = plan_check_metrics(c, t, o->tps[i], NULL);
    if (rc) return rc;
    run->item_group[run->nitems] = gi;
    run->item_gpu[run->nitems++] = t;
  }
  /* the GPU types that hold none of it: their rows only */
  for (int t = 0; t < o->ngpus; t++)
    if (!g->fit[t].any) plan_search_type(c, &g->types[t], g->fit[t].fits, (char (*)[512])g->fit[t].reasons);
  return SIM_PLAN_OK;
}

static int work(void *ctx, size_t item, char **out, size_t *len)
{
  mm_run *run = ctx;
  int gi = run->item_group[run->from + (int)item], t = run->item_gpu[run->from + (int)item];
  plan_mm_group *g = &run->r->groups[gi];
  if (!run->r->o->quiet) {
    char name[512];
    plan_mm_group_name(run->r, g, name, sizeof name);
    fprintf(stderr, "plan: a pool of %s on %s\n", name, g->opts.gpus[t]);
  }
  int rc = plan_search_type(&run->ctx[gi], &g->types[t], g->fit[t].fits, (char (*)[512])g->fit[t].reasons);
  if (rc == SIM_PLAN_OK) *out = plan_type_encode(&g->types[t], len);
  return rc;
}

/* Search items [from, run->nitems) in the worker pool and take their
 * results back, in item order. */
static int run_items(mm_run *run, int from)
{
  int n = run->nitems - from;
  char **outs = xcalloc((size_t)n + 1, sizeof *outs);
  size_t *lens = xcalloc((size_t)n + 1, sizeof *lens);
  run->from = from;
  int rc = plan_run_items(run->r->o->jobs, (size_t)n, work, run, "placement", outs, lens);
  for (int i = 0; i < n; i++) {
    plan_mm_group *g = &run->r->groups[run->item_group[from + i]];
    plan_type *t = &g->types[run->item_gpu[from + i]];
    if (rc == SIM_PLAN_OK) {
      plan_type_release(t);
      if (!outs[i] || !plan_type_decode(outs[i], lens[i], t)) {
        fprintf(stderr, "clustersim plan: cannot read a placement search back from its worker\n");
        rc = CMD_EXIT_FAIL;
      }
    }
    free(outs[i]);
  }
  free(outs);
  free(lens);
  return rc;
}

/* The group's cheapest feasible run over its GPU types, else its closest
 * miss. */
static void choose_group(plan_mm_group *g, int ngpus)
{
  g->best = g->best_type = -1;
  g->feasible = false;
  for (int t = 0; t < ngpus; t++) {
    bool feasible;
    int b = plan_type_best(&g->types[t], &feasible);
    if (b < 0) continue;
    const plan_sim *x = &g->types[t].sims[b], *w = plan_mm_best(g);
    if (!w || (feasible && !g->feasible) ||
        (feasible == g->feasible && (feasible ? plan_better(x, w) : plan_closer(x, w)))) {
      g->best_type = t;
      g->best = b;
      g->feasible = feasible;
    }
  }
}

/* A summary number of x, NaN if absent. */
static double num(const plan_sim *x, const char *key)
{
  const sim_metric *m = x ? sim_report_get(&x->summary, key) : NULL;
  return m && m->kind != SIM_VAL_STR ? (m->kind == SIM_VAL_INT ? (double)m->i : m->x) : NAN;
}

/* Each model's demand from its own pool's best run: offered requests/s x
 * tokens (prompt and output) per completed request. */
static void measure_demand(plan_mm_result *r)
{
  for (int g = 0; g < r->ngroups; g++) {
    const plan_mm_group *x = &r->groups[g];
    const plan_sim *b = plan_mm_best(x);
    if (popcount(x->mask) != 1 || !b) continue;
    double per_request = num(b, "throughput_tokens_per_s") / num(b, "throughput_requests_per_s");
    r->models[first_model(x->mask)].demand_tokens_per_s = num(b, "offered_rate_per_s") * per_request;
  }
  for (int i = 0; i < r->nmodels; i++) r->order[i] = i;
  /* heaviest first; equal (or unmeasured) demands keep the scenario's order */
  for (int i = 1; i < r->nmodels; i++)
    for (int j = i; j > 0; j--) {
      double a = r->models[r->order[j]].demand_tokens_per_s, b = r->models[r->order[j - 1]].demand_tokens_per_s;
      if (!(a > b || (isnan(b) && !isnan(a)))) break;
      int tmp = r->order[j];
      r->order[j] = r->order[j - 1];
      r->order[j - 1] = tmp;
    }
}

/* ---- the placements ---- */

static int find_group(const plan_mm_result *r, unsigned mask)
{
  for (int g = 0; g < r->ngroups; g++)
    if (r->groups[g].mask == mask) return g;
  return -1;
}

/* Placement k: the k heaviest dedicated, the rest shared (k >= n-1: all
 * dedicated), its groups from r, costs summed. */
static void make_cand(plan_mm_result *r, int k, plan_mm_cand *c)
{
  memset(c, 0, sizeof *c);
  c->k = k;
  c->verified = -1;
  unsigned all = (1u << r->nmodels) - 1, dedicated = 0;
  if (k >= r->nmodels - 1) k = r->nmodels;
  for (int i = 0; i < k; i++) dedicated |= 1u << r->order[i];
  if (all & ~dedicated) c->groups[c->ngroups++] = find_group(r, all & ~dedicated);
  for (int i = 0; i < k; i++) c->groups[c->ngroups++] = find_group(r, 1u << r->order[i]);
  c->feasible = true;
  for (int i = 0; i < c->ngroups; i++) {
    const plan_mm_group *g = c->groups[i] >= 0 ? &r->groups[c->groups[i]] : NULL;
    const plan_sim *b = g ? plan_mm_best(g) : NULL;
    if (!b) {
      c->feasible = false;
      c->usd_per_hour = c->gpus = c->worst_ratio = NAN;
      return;
    }
    c->feasible = c->feasible && g->feasible;
    c->usd_per_hour += b->usd_per_hour;
    c->gpus += b->gpus;
    c->worst_ratio = fmax(c->worst_ratio, b->worst_ratio);
  }
}

/* a before b: feasible first, then cheaper, fewer GPUs, more headroom, more
 * models dedicated; a miss by its worst ratio. */
static bool cand_before(const plan_mm_cand *a, const plan_mm_cand *b)
{
  if (a->feasible != b->feasible) return a->feasible;
  if (isnan(a->usd_per_hour) != isnan(b->usd_per_hour)) return !isnan(a->usd_per_hour);
  if (!a->feasible) return a->worst_ratio < b->worst_ratio;
  double tol = 1e-9 * fmax(fabs(a->usd_per_hour), fabs(b->usd_per_hour));
  if (fabs(a->usd_per_hour - b->usd_per_hour) > tol) return a->usd_per_hour < b->usd_per_hour;
  if (a->gpus != b->gpus) return a->gpus < b->gpus;
  if (a->worst_ratio != b->worst_ratio) return a->worst_ratio < b->worst_ratio;
  /* a full tie: the more dedicated, whose models do not swap when demand shifts */
  return a->k > b->k;
}

/* The shape of placement c run whole into s, and (r->check_model,
 * r->check_opts) its targets: each model's, numbered as that scenario
 * numbers them (pool 0's models, then pool 1's, ...). false if too many. */
static bool whole(plan_mm_result *r, const plan_mm_cand *c, mm_shape *s)
{
  memset(s, 0, sizeof *s);
  s->r = r;
  s->npools = c->ngroups;
  int next = 0, index[SIM_PLAN_MAX_MODELS];
  for (int i = 0; i < c->ngroups; i++) {
    const plan_mm_group *g = &r->groups[c->groups[i]];
    const plan_sim *b = plan_mm_best(g);
    s->mask[i] = g->mask;
    s->gpu[i] = g->best_type;
    s->tp[i] = b->tp;
    s->replicas[i] = b->replicas;
    for (int m = 0; m < r->nmodels; m++)
      if (g->mask >> m & 1) r->check_model[m] = next++;
  }
  for (int m = 0; m < r->nmodels; m++) index[m] = r->check_model[m];
  r->check_opts = *r->o;
  return expand_targets(r->o, &r->check_opts, r->check_names, index, r->nmodels);
}

/* Run placement ci whole (every pool and class at once) into the next of
 * r->checks. */
static int verify(plan_mm_result *r, mm_run *run, int ci)
{
  mm_shape *s = xmalloc(sizeof *s);
  int rc = whole(r, &r->cands[ci], s) ? SIM_PLAN_OK : CMD_EXIT_USAGE;
  plan_ctx ctx = {&r->check_opts, run->ctx[0].base_load_scale, mm_edit, s};
  plan_sim *x = &r->checks[r->nchecks];
  if (!rc) rc = plan_eval(&ctx, s->gpu[0], s->tp[0], s->replicas[0], -1, x);
  if (!rc) {
    r->check_cand[r->nchecks++] = ci;
    r->cands[ci].verified = x->feasible;
    if (!r->o->quiet)
      fprintf(stderr, "plan: placement k=%d run whole (%d pool%s): $%.2f/h, %s\n", r->cands[ci].k, s->npools,
              s->npools == 1 ? "" : "s", x->usd_per_hour, x->feasible ? "meets the targets" : "misses");
  }
  free(s);
  return rc;
}

static int run_placements(plan_mm_result *r, mm_run *run, const char *outdir)
{
  const plan_opts *o = r->o;
  int n = r->nmodels, rc = SIM_PLAN_OK;
  unsigned all = (1u << n) - 1;
  /* phase 1: every model alone (demand and the dedicated pools), and all shared */
  if (r->mode != MODE_SHARED)
    for (int m = 0; m < n; m++) add_group(r, 1u << m);
  if (r->mode != MODE_DEDICATED) add_group(r, all);
  for (int g = 0; g < r->ngroups && !rc; g++) rc = prepare(run, g);
  if (!rc && !out_mkdirs(outdir)) {
    fprintf(stderr, "clustersim: %s: cannot create output directory: %s\n", outdir, strerror(errno));
    rc = CMD_EXIT_USAGE;
  }
  if (!rc) rc = run_items(run, 0);
  if (rc) return rc;
  for (int g = 0; g < r->ngroups; g++) choose_group(&r->groups[g], o->ngpus);
  measure_demand(r);
  /* phase 2: the tails of the demand order, k = 1 .. n-2 heaviest dedicated */
  if (r->mode == MODE_SEARCH) {
    int g0 = r->ngroups, i0 = run->nitems;
    unsigned tail = all;
    for (int k = 1; k <= n - 2; k++) {
      tail &= ~(1u << r->order[k - 1]);
      add_group(r, tail);
    }
    for (int g = g0; g < r->ngroups && !rc; g++) rc = prepare(run, g);
    if (!rc) rc = run_items(run, i0);
    if (rc) return rc;
    for (int g = g0; g < r->ngroups; g++) choose_group(&r->groups[g], o->ngpus);
  }
  r->ncands = 0;
  if (r->mode == MODE_SHARED) make_cand(r, 0, &r->cands[r->ncands++]);
  else if (r->mode == MODE_DEDICATED) make_cand(r, n - 1, &r->cands[r->ncands++]);
  else
    for (int k = 0; k <= n - 1; k++) make_cand(r, k, &r->cands[r->ncands++]);
  /* the cheapest whose pools meet the targets, confirmed whole; else the next */
  int order[SIM_PLAN_MAX_MODELS + 1];
  for (int i = 0; i < r->ncands; i++) order[i] = i;
  for (int i = 1; i < r->ncands; i++)
    for (int j = i; j > 0 && cand_before(&r->cands[order[j]], &r->cands[order[j - 1]]); j--) {
      int t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
  r->winner = r->winner_check = -1;
  r->feasible = false;
  for (int i = 0; i < r->ncands && !rc && r->cands[order[i]].feasible; i++) {
    rc = verify(r, run, order[i]);
    if (!rc && r->checks[r->nchecks - 1].feasible) {
      r->winner = order[i];
      r->winner_check = r->nchecks - 1;
      r->feasible = true;
      break;
    }
  }
  /* none confirmed: the first in order (the cheapest whose pools met the
   * targets alone, else the closest miss), run whole */
  if (!rc && !r->feasible && r->ncands > 0 && !isnan(r->cands[order[0]].usd_per_hour)) {
    r->winner = order[0];
    if (r->cands[order[0]].verified < 0) rc = verify(r, run, order[0]);
    for (int i = 0; i < r->nchecks; i++)
      if (r->check_cand[i] == order[0]) r->winner_check = i;
  }
  /* the winner's targets and numbering, for the output */
  if (!rc && r->winner >= 0) {
    mm_shape s;
    whole(r, &r->cands[r->winner], &s);
  }
  return rc;
}

/* ---- the mode ---- */

static int refuse(const plan_opts *o)
{
  const char *flag = o->npricings                                  ? "--pricing"
                     : o->npools                                   ? "--pools"
                     : !(o->nscales == 1 && o->scales[0] == 1.0)   ? "--load-scales"
                     : o->plot                                     ? "--plot"
                                                                   : NULL;
  if (flag)
    fprintf(stderr, "clustersim plan: %s: not for a plan of which models share which GPUs (--placement %s); give "
            "--placement none to plan pool 0 as written\n", flag, o->placement ? o->placement : "search");
  return flag ? CMD_EXIT_USAGE : 0;
}

static void release(plan_mm_result *r)
{
  for (int g = 0; g < r->ngroups; g++) {
    for (int t = 0; t < r->o->ngpus; t++) plan_type_release(&r->groups[g].types[t]);
    free(r->groups[g].types);
    free(r->groups[g].fit);
  }
  for (int i = 0; i < r->nchecks; i++) sim_report_release(&r->checks[i].summary);
}

int plan_models_mode(plan_opts *o, const char *scenario, double load_scale, const char *outdir, double t0)
{
  int mode = !o->placement || !strcmp(o->placement, "search") ? MODE_SEARCH
             : !strcmp(o->placement, "shared")                ? MODE_SHARED
             : !strcmp(o->placement, "dedicated")             ? MODE_DEDICATED
                                                              : -1;
  if (mode < 0) {
    fprintf(stderr, "clustersim plan: --placement: expected search, shared, dedicated or none, got '%s'\n",
            o->placement);
    return CMD_EXIT_USAGE;
  }
  if (refuse(o)) return CMD_EXIT_USAGE;
  plan_mm_result *r = xcalloc(1, sizeof *r);
  mm_run *run = xcalloc(1, sizeof *run);
  r->o = o;
  r->scenario = scenario;
  r->mode = mode;
  run->r = r;
  run->ctx[0].base_load_scale = load_scale;
  cfg_scenario sc;
  int rc = SIM_PLAN_OK;
  if (load_written(o, &sc)) read_models(r, &sc);
  double per_node = 8;
  if (!plan_number(&sc.cfg, "cluster.pools.[0].gpus_per_node", &per_node)) per_node = 8;
  cfg_scenario_release(&sc);
  if (r->nmodels < 2) {
    fprintf(stderr, "clustersim plan: --placement %s: %s: the workload names %d model%s (several classes with "
            "workload.classes.[k].model are placed); give --placement none\n", o->placement, o->file, r->nmodels,
            r->nmodels == 1 ? "" : "s");
    rc = CMD_EXIT_USAGE;
  }
  if (!o->tps_given)
    for (int tp = 1; tp <= 8 && tp <= per_node; tp *= 2) o->tps[o->ntps++] = tp;
  if (!rc) rc = run_placements(r, run, outdir);
  if (rc == SIM_PLAN_STOPPED || (rc == SIM_PLAN_OK && (plan_stop || run_stop_signal()))) {
    int sig = plan_stop ? plan_stop : run_stop_signal();
    fprintf(stderr, "clustersim plan: interrupted; nothing was written\n");
    rc = 128 + (sig ? sig : SIGINT);
  }
  if (!rc) {
    r->simulations = r->configurations = 0;
    for (int g = 0; g < r->ngroups; g++)
      for (int t = 0; t < o->ngpus; t++)
        for (int k = 0; k < r->groups[g].types[t].nsims; k++) {
          r->configurations++;
          r->simulations += r->groups[g].types[t].sims[k].runs;
        }
    for (int i = 0; i < r->nchecks; i++) {
      r->configurations++;
      r->simulations += r->checks[i].runs;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    r->wall_s = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 - t0;
    if (!o->quiet) plan_models_print(stdout, r);
    if (!plan_models_write(outdir, r))
      rc = CMD_EXIT_FAIL;
    else if (!o->quiet)
      printf("plan: %s/plan.json, plan.csv\n", outdir);
  }
  release(r);
  free(r);
  free(run);
  return rc;
}
