/* driver/plan/plan_price.c: the price per GPU-hour of each of plan's
 * candidates, and where it comes from (see plan.h): a negotiated price
 * (--gpu-price GPU=USD), else the scenario's (cluster.pools.[0].
 * usd_per_gpu_hour, then cost.usd_per_gpu_hour), else the catalog's
 * reference price with its provider, date and source, in the order the
 * serving model applies them. A negotiated price reaches the runs as pool
 * 0's usd_per_gpu_hour (plan_eval.c). The catalog entry is read through its
 * type's key table (sim/catalog.h), not a model's header. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/commands/cli.h"
#include "driver/config/scenario.h"
#include "driver/plan/plan.h"
#include "sim/catalog.h"
#include "sim/util.h"

int plan_parse_gpu_prices(plan_opts *o, const char *arg)
{
  char *list = xstrdup(arg), *save = NULL;
  int rc = 0, n = 0;
  for (char *p = strtok_r(list, ",", &save); p && !rc; p = strtok_r(NULL, ",", &save), n++) {
    char *eq = strchr(p, '='), *end = NULL;
    double usd = NAN;
    if (eq && eq != p) {
      errno = 0;
      usd = strtod(eq + 1, &end);
      if (errno || end == eq + 1 || *end) usd = NAN;
    }
    if (!eq || eq == p || !(usd > 0 && usd <= 1e6)) {
      fprintf(stderr, "clustersim plan: --gpu-price: expected GPU=USD,... with USD the price per GPU-hour "
              "(more than 0, at most 1e6), got '%s'\n", p);
      rc = CMD_EXIT_USAGE;
      break;
    }
    *eq = '\0';
    for (int i = 0; i < o->ngpu_prices; i++)
      if (!strcmp(o->gpu_prices[i].gpu, p)) {
        fprintf(stderr, "clustersim plan: --gpu-price: %s has two prices\n", p);
        rc = CMD_EXIT_USAGE;
      }
    if (rc) break;
    o->gpu_prices = xrealloc(o->gpu_prices, (size_t)(o->ngpu_prices + 1) * sizeof *o->gpu_prices);
    o->gpu_prices[o->ngpu_prices++] = (plan_gpu_price){xstrdup(p), usd};
  }
  free(list);
  if (!rc && n == 0) {
    fprintf(stderr, "clustersim plan: --gpu-price: expected GPU=USD,..., got '%s'\n", arg);
    rc = CMD_EXIT_USAGE;
  }
  return rc;
}

/* The key `name` of the catalog type of list "gpus", or NULL. */
static const sim_key *gpu_key(const char *name)
{
  for (const sim_catalog_type *const *t = sim_catalog_types; *t; t++) {
    if (strcmp((*t)->list, "gpus")) continue;
    for (const sim_key *k = (*t)->schema; k->name; k++)
      if (!strcmp(k->name, name)) return k;
  }
  return NULL;
}

/* A text key of a GPU entry (malloc'd copy), or NULL when absent or empty. */
static char *entry_text(const void *entry, const char *name)
{
  const sim_key *k = gpu_key(name);
  if (!k || k->kind != SIM_KEY_STRING) return NULL;
  const char *v = *(const char *const *)((const char *)entry + k->offset);
  return v && *v ? xstrdup(v) : NULL;
}

/* The catalog's reference price of a GPU entry (NaN if none). */
static double catalog_price(const void *entry)
{
  const sim_key *k = gpu_key("price_usd_per_hour");
  return k && k->kind == SIM_KEY_FLOAT ? *(const double *)((const char *)entry + k->offset) : NAN;
}

/* A number of the scenario, 0 when absent. */
static double number_or_zero(const config_t *cfg, const char *path)
{
  double v;
  return plan_number(cfg, path, &v) ? v : 0;
}

int plan_resolve_prices(plan_opts *o, const void *scenario)
{
  const cfg_scenario *sc = scenario;
  const sim_catalogs *cats = sc->cats;
  /* every --gpu-price names a GPU of the catalog that is a candidate */
  int given[SIM_PLAN_MAX_GPUS];
  for (int g = 0; g < o->ngpus; g++) given[g] = -1;
  for (int i = 0; i < o->ngpu_prices; i++) {
    const char *name = o->gpu_prices[i].gpu;
    const void *entry = cats ? sim_catalog_find(cats, "gpus", name) : NULL;
    if (!entry) {
      char names[2048] = "";
      if (cats) sim_catalog_names(cats, "gpus", names, sizeof names);
      fprintf(stderr, "clustersim plan: --gpu-price: unknown GPU \"%s\" (one of: %s)\n", name, names);
      return CMD_EXIT_USAGE;
    }
    int g = 0;
    while (g < o->ngpus && sim_catalog_find(cats, "gpus", o->gpus[g]) != entry) g++;
    if (g == o->ngpus) {
      char list[1024] = "";
      for (int k = 0; k < o->ngpus; k++) {
        if (k) strncat(list, ",", sizeof list - strlen(list) - 1);
        strncat(list, o->gpus[k], sizeof list - strlen(list) - 1);
      }
      fprintf(stderr, "clustersim plan: --gpu-price: %s is not a candidate (candidates: %s; add it with "
              "--candidates gpu=...)\n", name, list);
      return CMD_EXIT_USAGE;
    }
    if (given[g] >= 0) {
      fprintf(stderr, "clustersim plan: --gpu-price: %s has two prices (%s and %s)\n", o->gpus[g],
              o->gpu_prices[given[g]].gpu, name);
      return CMD_EXIT_USAGE;
    }
    given[g] = i;
  }
  double pool = number_or_zero(&sc->cfg, "cluster.pools.[0].usd_per_gpu_hour");
  double cost = number_or_zero(&sc->cfg, "cost.usd_per_gpu_hour");
  for (int g = 0; g < o->ngpus; g++) {
    plan_price *p = &o->prices[g];
    free(p->note);
    free(p->provider);
    free(p->date);
    *p = (plan_price){.usd_per_gpu_hour = NAN, .source = "none"};
    if (given[g] >= 0) {
      p->usd_per_gpu_hour = o->gpu_prices[given[g]].usd_per_gpu_hour;
      p->source = "--gpu-price";
      p->negotiated = true;
    } else if (pool > 0) {
      p->usd_per_gpu_hour = pool;
      p->source = "cluster.pools.[0].usd_per_gpu_hour";
    } else if (cost > 0) {
      p->usd_per_gpu_hour = cost;
      p->source = "cost.usd_per_gpu_hour";
    } else {
      const void *entry = cats ? sim_catalog_find(cats, "gpus", o->gpus[g]) : NULL;
      if (entry && catalog_price(entry) > 0) {
        p->usd_per_gpu_hour = catalog_price(entry);
        p->source = "catalog";
        p->note = entry_text(entry, "price_source");
        p->provider = entry_text(entry, "price_provider");
        p->date = entry_text(entry, "price_date");
      }
    }
  }
  return 0;
}

void plan_prices_release(plan_opts *o)
{
  for (int g = 0; g < SIM_PLAN_MAX_GPUS; g++) {
    free(o->prices[g].note);
    free(o->prices[g].provider);
    free(o->prices[g].date);
    o->prices[g].note = o->prices[g].provider = o->prices[g].date = NULL;
  }
  for (int i = 0; i < o->ngpu_prices; i++) free(o->gpu_prices[i].gpu);
  free(o->gpu_prices);
  o->gpu_prices = NULL;
  o->ngpu_prices = 0;
}
