/* driver/plan/plan_pd_output.c: what `clustersim plan` shows and leaves for a
 * prefill/decode scenario (see plan.h, plan_pd.c): the table on standard
 * output (the cheapest prefill:decode pair with its margins, the cheapest
 * colocated fleet of the same GPUs and what disaggregation saves or costs,
 * the staircase of fewest decode replicas per prefill count) and
 * OUTDIR/plan.json (the answer) and plan.csv (a row per configuration
 * simulated, every summary metric), each written atomically; a
 * plan_load.csv of an earlier plan in OUTDIR is removed, since this plan
 * has none. Reads results; decides nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/output/json.h"
#include "driver/plan/plan.h"
#include "sim/table.h"
#include "sim/util.h"

static const plan_sim *best_of(const plan_pd_search *s)
{
  return s->best >= 0 ? &s->sims[s->best] : NULL;
}

static const plan_sim *answer(const plan_pd_result *r)
{
  return r->nsearches > 0 ? best_of(&r->searches[0]) : NULL;
}

/* The cheapest feasible colocated fleet over the colocated searches, else
 * NULL; *g its search. */
static const plan_sim *colocated(const plan_pd_result *r, int *g)
{
  const plan_sim *w = NULL;
  *g = -1;
  for (int i = 1; i < r->nsearches; i++) {
    const plan_sim *x = best_of(&r->searches[i]);
    if (x && r->searches[i].feasible && (!w || plan_better(x, w))) w = x, *g = i;
  }
  return w;
}

static const plan_pd_pool *pool_of(const plan_pd_result *r, int index)
{
  return index == r->prefill.index ? &r->prefill : &r->decode;
}

/* GPUs of one replica of pool p. */
static int per_replica(const plan_pd_pool *p)
{
  return p->tp * p->pp;
}

static bool pd_feasible(const plan_pd_result *r)
{
  return r->nsearches > 0 && r->searches[0].feasible;
}

/* disaggregation's saving per hour against the cheapest colocated fleet
 * (NaN unless both meet the targets). */
static double saving(const plan_pd_result *r)
{
  int g;
  const plan_sim *w = answer(r), *c = colocated(r, &g);
  return w && c && pd_feasible(r) ? c->usd_per_hour - w->usd_per_hour : NAN;
}

/* ---- the table ---- */

static int gcd(int a, int b)
{
  while (b) {
    int t = a % b;
    a = b;
    b = t;
  }
  return a > 0 ? a : 1;
}

static void print_pool(FILE *f, const char *what, const plan_pd_pool *p)
{
  fprintf(f, "%s pool %d (%s, tp %d", what, p->index, p->gpu, p->tp);
  if (p->pp > 1) fprintf(f, ", pp %d", p->pp);
  fputs(")", f);
}

void plan_pd_print(FILE *f, const plan_pd_result *r)
{
  const plan_opts *o = r->o;
  fprintf(f, "plan: scenario %s, the prefill:decode ratio: ", r->scenario);
  print_pool(f, "prefill", &r->prefill);
  fputs(", ", f);
  print_pool(f, "decode", &r->decode);
  if (r->npools > 2) fprintf(f, "; %d pools: the others stay as written", r->npools);
  fprintf(f, "\ntargets:");
  for (int i = 0; i < o->nslo; i++) fprintf(f, "%s %s <= %g", i ? "," : "", o->slo[i].metric, o->slo[i].target);
  fprintf(f, ", no request rejected; in every replication of %d\n", o->replications);
  const plan_sim *w = answer(r);
  if (!w) {
    fprintf(f, "no configuration was simulated\n");
  } else {
    if (pd_feasible(r))
      fprintf(f, "cheapest: ");
    else
      fprintf(f, "no pair meets every target with up to %d replicas a pool; closest miss: ", o->max_replicas);
    int g = gcd(w->pd.prefill, w->pd.decode);
    fprintf(f, "%d prefill + %d decode replicas (prefill:decode %d:%d) = %.0f GPUs: $%.2f/h, $%.4g/M tokens\n",
            w->pd.prefill, w->pd.decode, w->pd.prefill / g, w->pd.decode / g, w->gpus, w->usd_per_hour,
            w->usd_per_million_tokens);
    plan_print_margins(f, o, w);
  }
  int k;
  const plan_sim *c = colocated(r, &k);
  if (c) {
    const plan_pd_pool *p = pool_of(r, c->pd.keep);
    fprintf(f, "colocated on pool %d (role both, %s, tp %d): %d replica%s = %.0f GPUs: $%.2f/h, $%.4g/M tokens\n",
            p->index, p->gpu, p->tp, c->pd.replicas, c->pd.replicas == 1 ? "" : "s", c->gpus, c->usd_per_hour,
            c->usd_per_million_tokens);
    double s = saving(r);
    if (s > 0)
      fprintf(f, "disaggregation saves $%.2f/h (%.1f%%)\n", s, 100 * s / c->usd_per_hour);
    else if (s < 0)
      fprintf(f, "disaggregation costs $%.2f/h (%.1f%%) more than colocated\n", -s, -100 * s / c->usd_per_hour);
    else if (s == 0)
      fprintf(f, "disaggregation costs the same as colocated\n");
  } else {
    fprintf(f, "colocated: none meets every target with up to %d replicas\n", 2 * o->max_replicas);
  }
  /* the staircase: for each prefill count simulated, the fewest decode
   * replicas that met the targets among those simulated */
  const plan_pd_search *d = &r->searches[0];
  fprintf(f, "fewest decode replicas for each prefill count simulated:\n");
  for (int p = 1; p <= o->max_replicas; p++) {
    const plan_sim *b = NULL;
    bool tried = false;
    for (int i = 0; i < d->nsims; i++) {
      const plan_sim *x = &d->sims[i];
      if (x->pd.prefill != p) continue;
      tried = true;
      if (x->feasible && (!b || x->pd.decode < b->pd.decode)) b = x;
    }
    if (!tried) continue;
    if (b)
      fprintf(f, "  %3d prefill: %3d decode  $%9.2f/h%s\n", p, b->pd.decode, b->usd_per_hour,
              b == w ? "  cheapest" : "");
    else
      fprintf(f, "  %3d prefill: none\n", p);
  }
  fprintf(f, "%d simulations (%d configurations) in %.1f s\n", r->simulations, r->configurations, r->wall_s);
}

/* ---- plan.json ---- */

static void json_pool(FILE *f, const char *key, const plan_pd_pool *p, double replicas)
{
  plan_json_key(f, "  ", key);
  fprintf(f, "{\"pool\": %d, \"gpu\": ", p->index);
  out_json_string(f, p->gpu);
  fprintf(f, ", \"tp\": %d, \"pp\": %d, \"replicas\": ", p->tp, p->pp);
  out_json_number(f, replicas);
  fputs(", \"gpus\": ", f);
  out_json_number(f, replicas * per_replica(p));
  fputs("},\n", f);
}

static void write_json(FILE *f, const void *arg)
{
  const plan_pd_result *r = arg;
  const plan_opts *o = r->o;
  const plan_sim *w = answer(r);
  const char *in = "  ";
  fputs("{\n", f);
  plan_json_str(f, in, "scenario", r->scenario, false);
  plan_json_str(f, in, "model", r->model, false);
  plan_json_str(f, in, "mode", "prefill-decode", false);
  plan_json_num(f, in, "pools", r->npools, false);
  plan_json_bool(f, in, "feasible", pd_feasible(r), false);
  json_pool(f, "prefill", &r->prefill, w ? w->pd.prefill : NAN);
  json_pool(f, "decode", &r->decode, w ? w->pd.decode : NAN);
  plan_json_num(f, in, "prefill_decode_ratio", w ? (double)w->pd.prefill / w->pd.decode : NAN, false);
  plan_json_sim(f, in, o, w);
  fputs(",\n", f);
  plan_json_margins(f, in, o, w);
  int g;
  const plan_sim *c = colocated(r, &g);
  plan_json_key(f, in, "colocated");
  if (c) {
    const plan_pd_pool *p = pool_of(r, c->pd.keep);
    fputs("{\n", f);
    plan_json_num(f, "    ", "pool", p->index, false);
    plan_json_str(f, "    ", "gpu", p->gpu, false);
    plan_json_num(f, "    ", "tp", p->tp, false);
    plan_json_num(f, "    ", "pp", p->pp, false);
    plan_json_sim(f, "    ", o, c);
    fputs("\n  },\n", f);
  } else {
    fputs("null,\n", f);
  }
  double s = saving(r);
  plan_json_num(f, in, "disaggregation_saving_usd_per_hour", s, false);
  plan_json_num(f, in, "disaggregation_saving_fraction", c ? s / c->usd_per_hour : NAN, false);
  plan_json_counts(f, in, o, r->simulations, r->configurations);
  plan_json_num(f, in, "wall_s", r->wall_s, true);
  fputs("}\n", f);
}

/* ---- plan.csv ---- */

/* layout (disaggregated or colocated), prefill_replicas, decode_replicas
 * (empty when colocated), colocated_pool (empty when disaggregated),
 * replicas, gpus, feasible, usd_per_hour, usd_per_million_tokens, each
 * --slo metric (worst over the runs), requests_rejected,
 * replications_run, reason, then every other numeric summary metric (mean
 * over the runs); disaggregated rows first, in the order simulated. */
static int pd_row(void *ctx, int g, int k, const plan_sim *x, const char *reason, sim_cell *cells)
{
  (void)g;
  (void)k;
  const plan_opts *o = ctx;
  const plan_pd *pd = &x->pd;
  int c = 0;
  cells[c++] = (sim_cell){pd->colocated ? "colocated" : "disaggregated", 0};
  cells[c++] = (sim_cell){NULL, pd->colocated ? NAN : pd->prefill};
  cells[c++] = (sim_cell){NULL, pd->colocated ? NAN : pd->decode};
  cells[c++] = (sim_cell){NULL, pd->colocated ? pd->keep : NAN};
  cells[c++] = (sim_cell){NULL, x->replicas};
  cells[c++] = (sim_cell){NULL, x->gpus};
  cells[c++] = (sim_cell){NULL, x->feasible};
  cells[c++] = (sim_cell){NULL, x->usd_per_hour};
  cells[c++] = (sim_cell){NULL, x->usd_per_million_tokens};
  for (int i = 0; i < o->nslo; i++) cells[c++] = (sim_cell){NULL, x->values[i]};
  cells[c++] = (sim_cell){NULL, x->rejected};
  cells[c++] = (sim_cell){NULL, x->runs};
  cells[c++] = (sim_cell){reason, 0};
  return c;
}

static void write_csv(FILE *f, const void *arg)
{
  const plan_pd_result *r = arg;
  const plan_opts *o = r->o;
  static const char *const fixed[] = {"layout", "prefill_replicas", "decode_replicas", "colocated_pool", "replicas",
                                      "gpus", "feasible", "usd_per_hour", "usd_per_million_tokens"};
  static const char *const after[] = {"requests_rejected", "replications_run", "reason"};
  plan_sims *groups = xcalloc((size_t)r->nsearches + 1, sizeof *groups);
  for (int g = 0; g < r->nsearches; g++) groups[g] = (plan_sims){r->searches[g].sims, r->searches[g].nsims};
  plan_csv_write(f, o, fixed, 9, after, 3, groups, r->nsearches, pd_row, (void *)o);
  free(groups);
}

bool plan_pd_write(const char *outdir, const plan_pd_result *r)
{
  bool ok = plan_write_file(outdir, "plan.csv", r, write_csv);
  /* an earlier pool-0 plan's load curve would disagree with this plan */
  ok = plan_remove_file(outdir, "plan_load.csv") && ok;
  /* plan.json last: its presence says plan.csv is complete */
  return ok && plan_write_file(outdir, "plan.json", r, write_json);
}
