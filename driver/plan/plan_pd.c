/* driver/plan/plan_pd.c: `clustersim plan` on a scenario that splits prefill
 * and decode (cluster.pools.[i].role): the cheapest pair (prefill
 * replicas, decode replicas) of its prefill pool and its decode pool that
 * meets every target at the scenario's load, GPUs and tps as written,
 * found with the several-pool search (plan_pools.h: for each prefill
 * count the fewest decode replicas, a staircase); and, for comparison, the
 * fewest replicas of the same GPUs colocated (one pool of role "both", the
 * other removed), for each of the two pools unless they differ in nothing
 * but role and size. Each search runs in a
 * worker of the driver's pool (-j) and hands back its sims; they join in
 * a fixed order, so the result does not depend on -j. Also the scenario
 * edit that makes the colocated fleet, and which pools to size. Owns the
 * searches' sims; writes nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/commands/cli.h"
#include "driver/config/scenario.h"
#include "driver/plan/plan.h"
#include "driver/plan/plan_pools.h"
#include "sim/util.h"

/* ---- which pools ---- */

/* Pool i's role as written ("both" when absent). */
static const char *role_of(const config_t *cfg, int i)
{
  char path[64];
  const char *role = NULL;
  snprintf(path, sizeof path, "cluster.pools.[%d].role", i);
  return config_lookup_string(cfg, path, &role) ? role : "both";
}

static void pool_info(const config_t *cfg, int i, plan_pd_pool *p)
{
  char path[64];
  const char *gpu = NULL;
  double v;
  p->index = i;
  snprintf(path, sizeof path, "cluster.pools.[%d].gpu", i);
  snprintf(p->gpu, sizeof p->gpu, "%s", config_lookup_string(cfg, path, &gpu) ? gpu : "");
  snprintf(path, sizeof path, "cluster.pools.[%d].tp", i);
  p->tp = plan_number(cfg, path, &v) ? (int)v : 1;
  snprintf(path, sizeof path, "cluster.pools.[%d].pp", i);
  p->pp = plan_number(cfg, path, &v) ? (int)v : 1;
}

/* Whether settings a and b hold the same value (groups: the same members,
 * in any order, but for those named in skip). */
static bool same_setting(const config_setting_t *a, const config_setting_t *b, const char *const *skip)
{
  int t = config_setting_type(a);
  if (t != config_setting_type(b)) return false;
  switch (t) {
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64: return config_setting_get_int64(a) == config_setting_get_int64(b);
  case CONFIG_TYPE_FLOAT: return config_setting_get_float(a) == config_setting_get_float(b);
  case CONFIG_TYPE_BOOL: return config_setting_get_bool(a) == config_setting_get_bool(b);
  case CONFIG_TYPE_STRING: return !strcmp(config_setting_get_string(a), config_setting_get_string(b));
  case CONFIG_TYPE_GROUP: {
    int n = 0;
    for (int i = 0; i < config_setting_length(a); i++) {
      const config_setting_t *x = config_setting_get_elem(a, (unsigned)i);
      const char *name = config_setting_name(x);
      bool skipped = false;
      for (const char *const *k = skip; k && *k; k++) skipped = skipped || !strcmp(*k, name);
      if (skipped) continue;
      const config_setting_t *y = config_setting_get_member(b, name);
      if (!y || !same_setting(x, y, NULL)) return false;
      n++;
    }
    int m = 0;
    for (int i = 0; i < config_setting_length(b); i++) {
      const char *name = config_setting_name(config_setting_get_elem(b, (unsigned)i));
      bool skipped = false;
      for (const char *const *k = skip; k && *k; k++) skipped = skipped || !strcmp(*k, name);
      m += !skipped;
    }
    return n == m;
  }
  default: {  /* arrays and lists */
    int n = config_setting_length(a);
    if (n != config_setting_length(b)) return false;
    for (int i = 0; i < n; i++)
      if (!same_setting(config_setting_get_elem(a, (unsigned)i), config_setting_get_elem(b, (unsigned)i), NULL))
        return false;
    return true;
  }
  }
}

int plan_pd_pools(const plan_opts *o, const void *scenario, plan_pd_result *r)
{
  const config_t *cfg = &((const cfg_scenario *)scenario)->cfg;
  config_setting_t *pools = config_lookup(cfg, "cluster.pools");
  int n = pools ? config_setting_length(pools) : 0;
  r->npools = n;
  r->prefill.index = r->decode.index = -1;
  int pre = -1, dec = -1, npre = 0, ndec = 0;
  for (int i = 0; i < n; i++) {
    const char *role = role_of(cfg, i);
    if (!strcmp(role, "prefill")) pre = i, npre++;
    if (!strcmp(role, "decode")) dec = i, ndec++;
  }
  if (o->npools == 2) {
    const char *want[2] = {"prefill", "decode"};
    for (int k = 0; k < 2; k++)
      if (o->pools[k] >= n) {
        fprintf(stderr, "clustersim plan: --pools %d,%d: %s has no cluster.pools.[%d] (it has %d pool%s: 0 to %d)\n",
                o->pools[0], o->pools[1], o->file, o->pools[k], n, n == 1 ? "" : "s", n - 1);
        return CMD_EXIT_USAGE;
      }
    for (int k = 0; k < 2; k++) {
      int i = o->pools[k];
      if (strcmp(role_of(cfg, i), want[k])) {
        fprintf(stderr, "clustersim plan: --pools %d,%d: cluster.pools.[%d] has role \"%s\" (expected \"%s\": "
                "--pools PREFILL,DECODE names a pool of role \"prefill\" and one of role \"decode\")\n",
                o->pools[0], o->pools[1], i, role_of(cfg, i), want[k]);
        return CMD_EXIT_USAGE;
      }
    }
    pre = o->pools[0], dec = o->pools[1];
  } else if (o->npools == 1) {
    return 0;  /* --pools 0: pool 0's own search, whatever the roles */
  } else if (npre == 0 && ndec == 0) {
    return 0;  /* no split: pool 0's own search */
  } else if (npre != 1 || ndec != 1) {
    fprintf(stderr, "clustersim plan: %s has %d pools of role \"prefill\" and %d of role \"decode\": say which "
            "two to size with --pools PREFILL,DECODE (or --pools 0 for pool 0 alone)\n", o->file, npre, ndec);
    return CMD_EXIT_USAGE;
  }
  pool_info(cfg, pre, &r->prefill);
  pool_info(cfg, dec, &r->decode);
  /* a colocated fleet of each pool's GPUs, prices and settings, unless
   * the two pools differ in nothing but their role and size */
  static const char *const skip[] = {"role", "replicas", NULL};
  r->same_pools = same_setting(config_setting_get_elem(pools, (unsigned)pre),
                               config_setting_get_elem(pools, (unsigned)dec), skip);
  return 0;
}

/* ---- the colocated fleet ---- */

static char ORIGIN[] = "cluster.pools (the colocated fleet plan builds)";

/* A pool index after pool `drop` is removed and its classes go to `keep`
 * (an index before the removal); -1 for none. */
static int renumber(int i, int drop, int keep)
{
  if (i == drop) i = keep;
  return i > drop ? i - 1 : i;
}

/* A class's (or the workload's) pool and pools, renumbered. */
static void renumber_class(config_setting_t *c, int drop, int keep)
{
  config_setting_t *one = config_setting_get_member(c, "pool");
  if (one && config_setting_is_number(one)) {
    int i = config_setting_get_int(one);
    if (i >= 0) {
      config_setting_set_int(one, renumber(i, drop, keep));
      cfg_mark_origin(one, ORIGIN);
    }
  }
  config_setting_t *many = config_setting_get_member(c, "pools");
  if (many && (config_setting_is_array(many) || config_setting_is_list(many))) {
    int n = config_setting_length(many), v[64], nv = 0;
    for (int k = 0; k < n && nv < 64; k++) {
      config_setting_t *e = config_setting_get_elem(many, (unsigned)k);
      if (!config_setting_is_number(e)) return;  /* the loader says what is wrong */
      int x = renumber(config_setting_get_int(e), drop, keep);
      bool have = false;
      for (int j = 0; j < nv; j++) have = have || v[j] == x;
      if (!have) v[nv++] = x;
    }
    config_setting_remove(c, "pools");
    config_setting_t *arr = config_setting_add(c, "pools", CONFIG_TYPE_ARRAY);
    for (int j = 0; j < nv; j++) config_setting_set_int_elem(arr, -1, v[j]);
    cfg_mark_origin(arr, ORIGIN);
  }
}

bool plan_pd_shape(config_t *cfg, void *arg, cfg_errors *errs)
{
  const plan_pd *pd = arg;
  int keep = pd->keep, drop = keep == pd->prefill_pool ? pd->decode_pool : pd->prefill_pool;
  config_setting_t *pools = config_lookup(cfg, "cluster.pools");
  int n = pools && config_setting_is_list(pools) ? config_setting_length(pools) : 0;
  config_setting_t *k = keep < n ? config_setting_get_elem(pools, (unsigned)keep) : NULL;
  if (!k || !config_setting_is_group(k) || drop >= n) {
    cfg_errors_add(errs, "%s: cluster.pools.[%d]: missing (plan sizes a prefill and a decode pool)", errs->file,
                   k ? drop : keep);
    return false;
  }
  const char *members[] = {"role", "replicas"};
  for (int i = 0; i < 2; i++)
    if (config_setting_get_member(k, members[i])) config_setting_remove(k, members[i]);
  config_setting_t *s = config_setting_add(k, "role", CONFIG_TYPE_STRING);
  config_setting_set_string(s, "both");
  cfg_mark_origin(s, ORIGIN);
  s = config_setting_add(k, "replicas", CONFIG_TYPE_INT);
  config_setting_set_int(s, pd->replicas);
  cfg_mark_origin(s, ORIGIN);
  config_setting_remove_elem(pools, (unsigned)drop);
  /* no pool prefills only: the link would be unused */
  config_setting_t *cluster = config_lookup(cfg, "cluster");
  if (config_setting_get_member(cluster, "kv_transfer_link")) config_setting_remove(cluster, "kv_transfer_link");
  config_setting_t *w = config_lookup(cfg, "workload");
  if (w && config_setting_is_group(w)) {
    renumber_class(w, drop, keep);
    config_setting_t *classes = config_setting_get_member(w, "classes");
    for (int i = 0; classes && i < config_setting_length(classes); i++) {
      config_setting_t *c = config_setting_get_elem(classes, (unsigned)i);
      if (config_setting_is_group(c)) renumber_class(c, drop, keep);
    }
  }
  return true;
}

void plan_pd_describe(const plan_pd *pd, char *buf, size_t n)
{
  if (pd->colocated)
    snprintf(buf, n, "%d colocated (pool %d's GPUs, role both)", pd->replicas, pd->keep);
  else
    snprintf(buf, n, "%d prefill + %d decode", pd->prefill, pd->decode);
}

/* ---- the searches ---- */

static bool same(const plan_pd *a, const plan_pd *b)
{
  if (a->colocated != b->colocated) return false;
  return a->colocated ? a->keep == b->keep && a->replicas == b->replicas
                      : a->prefill == b->prefill && a->decode == b->decode;
}

typedef struct {
  const plan_ctx *c;
  const plan_pd_result *r;
  plan_pd_search *s;
} probe_arg;

static plan_sim *add_sim(plan_pd_search *s)
{
  if (s->nsims == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 32;
    s->sims = xrealloc(s->sims, (size_t)s->cap * sizeof *s->sims);
  }
  return &s->sims[s->nsims];
}

/* Simulate (or recall) v: (prefill, decode) or (colocated replicas). */
static int probe(void *arg, const int *v, bool *feasible, double *cost)
{
  probe_arg *p = arg;
  plan_pd_search *s = p->s;
  plan_pd pd = {.prefill_pool = p->r->prefill.index, .decode_pool = p->r->decode.index, .colocated = s->colocated};
  if (s->colocated)
    pd.keep = s->keep, pd.replicas = v[0];
  else
    pd.prefill = v[0], pd.decode = v[1];
  int i = 0;
  while (i < s->nsims && !same(&s->sims[i].pd, &pd)) i++;
  if (i == s->nsims) {
    plan_sim *x = add_sim(s);
    int rc = plan_eval_pd(p->c, &pd, x);
    if (rc != SIM_PLAN_OK) return rc;
    s->nsims++;
    if (!p->c->o->quiet) {
      char what[160];
      plan_pd_describe(&pd, what, sizeof what);
      fprintf(stderr, "plan: %s: ", what);
      if (x->runs == 0)
        fprintf(stderr, "refused: %s\n", x->reason);
      else
        fprintf(stderr, "$%.2f/h, %s\n", x->usd_per_hour, x->feasible ? "meets the targets" : "misses");
    }
  }
  *feasible = s->sims[i].feasible;
  *cost = s->sims[i].usd_per_hour;
  return 0;
}

/* One search (in a worker): the disaggregated staircase, prefill replicas
 * first, or the colocated fleet's fewest replicas (up to the GPUs of both
 * pools at their most). */
static int search(const plan_ctx *c, const plan_pd_result *r, plan_pd_search *s)
{
  int most = c->o->max_replicas;
  plan_pools_space sp = s->colocated ? (plan_pools_space){1, {1}, {2 * most}} : (plan_pools_space){2, {1, 1}, {most, most}};
  probe_arg pa = {c, r, s};
  plan_pools_result res;
  return plan_pools_search_pruned(&sp, probe, &pa, &res);
}

/* The searches through plan_run_items: item i is r->searches[i]. */
typedef struct {
  const plan_ctx *c;
  plan_pd_result *r;
} pd_jobs;

static int work_item(void *ctx, size_t item, char **out, size_t *len)
{
  pd_jobs *j = ctx;
  plan_pd_search *s = &j->r->searches[item];
  int rc = search(j->c, j->r, s);
  if (rc == SIM_PLAN_OK) *out = plan_sims_encode(s->sims, s->nsims, len);
  return rc;
}

/* The search's cheapest feasible sim, else its closest miss. */
static void choose(plan_pd_search *s)
{
  s->best = -1;
  s->feasible = false;
  for (int i = 0; i < s->nsims; i++) {
    const plan_sim *x = &s->sims[i];
    const plan_sim *w = s->best >= 0 ? &s->sims[s->best] : NULL;
    bool take = !w || (x->feasible && !s->feasible) ||
                (x->feasible == s->feasible && (x->feasible ? plan_better(x, w) : plan_closer(x, w)));
    if (take) {
      s->best = i;
      s->feasible = x->feasible;
    }
  }
}

int plan_pd_run(const plan_ctx *c, plan_pd_result *r)
{
  /* the disaggregated pair; colocated on the prefill pool's shape, and on
   * the decode pool's if it differs */
  r->nsearches = 0;
  r->searches[r->nsearches++] = (plan_pd_search){.colocated = false, .keep = -1};
  r->searches[r->nsearches++] = (plan_pd_search){.colocated = true, .keep = r->prefill.index};
  if (!r->same_pools)
    r->searches[r->nsearches++] = (plan_pd_search){.colocated = true, .keep = r->decode.index};
  pd_jobs j = {c, r};
  char *out[3] = {NULL};
  size_t len[3] = {0};
  int rc = plan_run_items(c->o->jobs, (size_t)r->nsearches, work_item, &j, "prefill/decode", out, len);
  for (int i = 0; i < r->nsearches; i++) {
    plan_pd_search *s = &r->searches[i];
    if (rc == SIM_PLAN_OK && (!out[i] || !plan_sims_decode(out[i], len[i], &s->sims, &s->nsims))) {
      fprintf(stderr, "clustersim plan: cannot read a prefill/decode search back from its worker\n");
      rc = CMD_EXIT_FAIL;
    }
    s->cap = s->nsims;
    free(out[i]);
  }
  if (rc) return rc;
  r->simulations = r->configurations = 0;
  for (int i = 0; i < r->nsearches; i++) {
    choose(&r->searches[i]);
    for (int k = 0; k < r->searches[i].nsims; k++) {
      r->configurations++;
      r->simulations += r->searches[i].sims[k].runs;
    }
  }
  return SIM_PLAN_OK;
}

void plan_pd_release(plan_pd_result *r)
{
  for (int i = 0; i < r->nsearches; i++) {
    plan_pd_search *s = &r->searches[i];
    for (int k = 0; k < s->nsims; k++) sim_report_release(&s->sims[k].summary);
    free(s->sims);
    s->sims = NULL;
    s->nsims = 0;
  }
  r->nsearches = 0;
}
