/* driver/plan/plan_shape.c: the fleet `clustersim plan --pricing` simulates,
 * made from the scenario's pool 0 while it loads (a cfg_load_opts edit,
 * see plan.h): a fixed baseline (no autoscaler, base_replicas at
 * base_pricing), an autoscaled burst (its own autoscale block kept, or a
 * predictive one; at most burst_max replicas at burst_pricing), or both.
 * With both, pool 0 is the baseline and the burst is a copy of it added
 * after the scenario's pools; every class that pool 0 serves may use it
 * too. The other pools stay as written. Every setting it makes is marked
 * so that an error names it. */
#include <stdio.h>
#include <string.h>

#include "driver/config/override.h"
#include "driver/plan/plan.h"
#include "models/cost/provider.h"

static char ORIGIN[] = "cluster.pools (the fleet plan --pricing builds)";

static void drop(config_setting_t *g, const char *name)
{
  if (config_setting_get_member(g, name)) config_setting_remove(g, name);
}

static config_setting_t *put(config_setting_t *g, const char *name, int type)
{
  drop(g, name);
  config_setting_t *s = config_setting_add(g, name, type);
  cfg_mark_origin(s, ORIGIN);
  return s;
}

static void put_int(config_setting_t *g, const char *name, int v)
{
  config_setting_set_int(put(g, name, CONFIG_TYPE_INT), v);
}

static void put_str(config_setting_t *g, const char *name, const char *v)
{
  config_setting_set_string(put(g, name, CONFIG_TYPE_STRING), v);
}

/* An integer member of g, or def. */
static int get_int(const config_setting_t *g, const char *name, int def)
{
  long long v;
  return config_setting_lookup_int64(g, name, &v) ? (int)v : def;
}

static int clamp(int v, int lo, int hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

static void make_baseline(config_setting_t *pool, const plan_fleet *f)
{
  drop(pool, "autoscale");
  drop(pool, "interruptions_per_hour");
  drop(pool, "interruption_notice_s");
  put_int(pool, "replicas", f->base_replicas);
  put_str(pool, "pricing", cost_pricing_names[f->base_pricing]);
}

/* written: the replicas pool 0 starts with in the file (kept by a burst
 * alone, within its bounds). */
static void make_burst(config_setting_t *pool, const plan_shape_arg *a, int written)
{
  const plan_fleet *f = a->f;
  int most = f->burst_max;
  config_setting_t *as = config_setting_get_member(pool, "autoscale");
  const char *policy = NULL;
  int min = 0;
  if (as && config_setting_lookup_string(as, "policy", &policy) && strcmp(policy, "none")) {
    /* the scenario's own autoscaler, capped; alone it keeps its floor */
    if (f->base_replicas == 0) min = clamp(get_int(as, "min_replicas", 0), 0, most);
    config_setting_t *plan = config_setting_get_member(as, "schedule");
    for (int k = 0; plan && k < config_setting_length(plan); k++) {
      config_setting_t *e = config_setting_get_elem(plan, (unsigned)k);
      if (config_setting_is_group(e) && get_int(e, "replicas", 0) > most) put_int(e, "replicas", most);
    }
  } else {
    as = put(pool, "autoscale", CONFIG_TYPE_GROUP);
    put_str(as, "policy", "predictive");
  }
  put_int(as, "min_replicas", min);
  put_int(as, "max_replicas", most);
  /* alone it starts as pool 0 does; beside a baseline, with none */
  put_int(pool, "replicas", f->base_replicas > 0 ? 0 : clamp(written, min, most));
  put_str(pool, "pricing", cost_pricing_names[f->burst_pricing]);
  if (f->burst_pricing == COST_PRICING_SPOT) {
    if (a->o->spot_rate >= 0)
      config_setting_set_float(put(pool, "interruptions_per_hour", CONFIG_TYPE_FLOAT), a->o->spot_rate);
  } else {
    drop(pool, "interruptions_per_hour");
    drop(pool, "interruption_notice_s");
  }
}

/* Every class that pool 0 serves may use pool n too. */
static void open_to_classes(config_t *cfg, int n)
{
  config_setting_t *classes = config_lookup(cfg, "workload.classes");
  for (int k = 0; classes && k < config_setting_length(classes); k++) {
    config_setting_t *c = config_setting_get_elem(classes, (unsigned)k);
    if (!config_setting_is_group(c)) continue;
    config_setting_t *one = config_setting_get_member(c, "pool");
    config_setting_t *many = config_setting_get_member(c, "pools");
    if (one && config_setting_is_number(one) && get_int(c, "pool", -1) == 0) {
      drop(c, "pool");
      config_setting_t *arr = put(c, "pools", CONFIG_TYPE_ARRAY);
      config_setting_set_int_elem(arr, -1, 0);
      config_setting_set_int_elem(arr, -1, n);
    } else if (many && config_setting_is_array(many)) {
      bool has0 = false;
      for (int i = 0; i < config_setting_length(many); i++)
        if (config_setting_get_int_elem(many, i) == 0) has0 = true;
      if (has0) {
        config_setting_set_int_elem(many, -1, n);
        cfg_mark_origin(many, ORIGIN);
      }
    }
  }
}

bool plan_shape(config_t *cfg, void *arg, cfg_errors *errs)
{
  const plan_shape_arg *a = arg;
  const plan_fleet *f = a->f;
  config_setting_t *pools = config_lookup(cfg, "cluster.pools");
  config_setting_t *p0 = pools && config_setting_is_list(pools) && config_setting_length(pools) > 0
                             ? config_setting_get_elem(pools, 0)
                             : NULL;
  if (!p0 || !config_setting_is_group(p0)) {
    cfg_errors_add(errs, "%s: cluster.pools.[0]: missing (plan --pricing plans a serving pool)", a->o->file);
    return false;
  }
  int written = get_int(p0, "replicas", 1);
  if (f->base_replicas > 0 && f->burst_max > 0) {
    int n = config_setting_length(pools);
    config_setting_t *burst = config_setting_add(pools, NULL, CONFIG_TYPE_GROUP);
    cfg_copy_value(burst, p0);
    cfg_mark_origin(burst, ORIGIN);
    make_burst(burst, a, written);
    make_baseline(p0, f);
    open_to_classes(cfg, n);
  } else if (f->base_replicas > 0) {
    make_baseline(p0, f);
  } else {
    make_burst(p0, a, written);
  }
  return true;
}
