/* driver/plan/plan_fleet_output.c: what `clustersim plan --pricing` shows and
 * leaves (see plan.h): the table on standard output (the cheapest fleet
 * with its margins, the cheapest all-on-demand fleet and the saving, the
 * cheapest fleet of each pricing alone, each mix's staircase), and
 * OUTDIR/plan.json (the answer) and plan.csv (a row per fleet simulated,
 * every summary metric), each written atomically; a plan_load.csv of an
 * earlier plan in OUTDIR is removed, since a fleet plan has none. Reads
 * results; decides nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/output/json.h"
#include "driver/plan/plan.h"
#include "models/cost/provider.h"
#include "sim/table.h"
#include "sim/util.h"

static const plan_sim *pick(const plan_fleet_result *r, int g, int i)
{
  return g >= 0 && i >= 0 ? &r->types[g].sims[i] : NULL;
}

static const char *pricing_name(int p)
{
  return p >= 0 ? cost_pricing_names[p] : NULL;
}

static void describe(const plan_sim *x, char *buf, size_t n)
{
  plan_fleet_describe(&x->fleet, buf, n);
}

/* The cheapest feasible fleet using pricing p alone; NULL if none. */
static const plan_sim *cheapest_single(const plan_fleet_result *r, int p)
{
  const plan_sim *best = NULL;
  for (int g = 0; g < r->ntypes; g++)
    for (int i = 0; i < r->types[g].nsims; i++) {
      const plan_sim *x = &r->types[g].sims[i];
      if (x->feasible && plan_fleet_single(x, p) && (!best || plan_better(x, best))) best = x;
    }
  return best;
}

/* ---- the table ---- */

static void print_fleet(FILE *f, const plan_fleet_result *r, const char *label, const plan_sim *x)
{
  char what[160];
  describe(x, what, sizeof what);
  double hours = plan_sim_num(x, "cost_usd") / x->usd_per_hour;
  fprintf(f, "%s%s, tp %d: %s: $%.2f/h", label, r->o->gpus[x->gpu], x->tp, what, x->usd_per_hour);
  if (isfinite(hours)) fprintf(f, ", $%.2f over %.4g h", plan_sim_num(x, "cost_usd"), hours);
  fprintf(f, ", %.3g replicas on average\n", plan_sim_num(x, "replicas_mean"));
}

void plan_fleet_print(FILE *f, const plan_fleet_result *r)
{
  const plan_opts *o = r->o;
  fprintf(f, "plan: scenario %s, fleets of pool 0 (a fixed baseline and a %s burst); pricings", r->scenario,
          r->burst_policy);
  for (int i = 0; i < o->npricings; i++) fprintf(f, "%s %s", i ? "," : "", cost_pricing_names[o->pricings[i]]);
  if (o->spot_rate >= 0) fprintf(f, " (spot taken back %g times per replica-hour)", o->spot_rate);
  fprintf(f, "\ntargets:");
  for (int i = 0; i < o->nslo; i++) fprintf(f, "%s %s <= %g", i ? "," : "", o->slo[i].metric, o->slo[i].target);
  fprintf(f, ", no request rejected; over the scenario's whole horizon, in every replication of %d\n",
          o->replications);
  const plan_sim *w = pick(r, r->winner_type, r->winner);
  const plan_sim *od = pick(r, r->od_type, r->od);
  if (!w) {
    fprintf(f, "no fleet was simulated\n");
  } else {
    print_fleet(f, r, r->feasible ? "cheapest fleet: " : "no fleet meets every target; closest miss: ", w);
    for (int i = 0; i < o->nslo; i++) {
      double v = w->values[i], t = o->slo[i].target;
      fprintf(f, "  %-24s %12.4g %s %g\n", o->slo[i].metric, v, v <= t ? "<=" : "> ", t);
    }
  }
  if (od) {
    print_fleet(f, r, "all on demand: ", od);
    if (w && r->feasible)
      fprintf(f, "saving: $%.2f/h (%.1f%%), $%.2f over the horizon\n", od->usd_per_hour - w->usd_per_hour,
              100 * (od->usd_per_hour - w->usd_per_hour) / od->usd_per_hour,
              plan_sim_num(od, "cost_usd") - plan_sim_num(w, "cost_usd"));
  }
  fprintf(f, "cheapest fleet of each pricing alone:\n");
  for (int i = 0; i < o->npricings; i++) {
    const plan_sim *x = cheapest_single(r, o->pricings[i]);
    if (!x) {
      fprintf(f, "  %-12s none meets every target\n", cost_pricing_names[o->pricings[i]]);
      continue;
    }
    char what[160];
    describe(x, what, sizeof what);
    fprintf(f, "  %-12s %-28s $%9.2f/h\n", cost_pricing_names[o->pricings[i]], what, x->usd_per_hour);
  }
  for (int g = 0; g < r->ntypes; g++) {
    const plan_fleet_type *t = &r->types[g];
    if (!t->fits) {
      fprintf(f, "%s, tp %d: does not fit: %s\n", o->gpus[t->gpu], t->tp, t->reason);
      continue;
    }
    fprintf(f, "%s, tp %d: fewest fixed replicas %s", o->gpus[t->gpu], t->tp, t->fixed ? "" : "none up to ");
    fprintf(f, "%d; feasible fleets, cheapest first:\n", t->fixed ? t->fixed : o->max_replicas);
    /* the feasible fleets of this type, cheapest first (at most 8 shown; plan.csv has all) */
    int *order = xcalloc((size_t)t->nsims + 1, sizeof *order), n = 0;
    for (int i = 0; i < t->nsims; i++)
      if (t->sims[i].feasible) order[n++] = i;
    for (int a = 1; a < n; a++)
      for (int b = a; b > 0 && plan_better(&t->sims[order[b]], &t->sims[order[b - 1]]); b--) {
        int tmp = order[b];
        order[b] = order[b - 1];
        order[b - 1] = tmp;
      }
    for (int k = 0; k < n && k < 8; k++) {
      char what[160];
      describe(&t->sims[order[k]], what, sizeof what);
      fprintf(f, "  %-36s $%9.2f/h\n", what, t->sims[order[k]].usd_per_hour);
    }
    if (n > 8) fprintf(f, "  ... %d more in plan.csv\n", n - 8);
    free(order);
  }
  fprintf(f, "%d simulations (%d fleets) in %.1f s\n", r->simulations, r->configurations, r->wall_s);
}

/* ---- plan.json ---- */

/* A fleet object (null for none) as a member, with a trailing comma unless last. */
static void json_fleet(FILE *f, const plan_fleet_result *r, const char *key, const plan_sim *x, bool last)
{
  const plan_opts *o = r->o;
  const char *in = "    ";
  plan_json_key(f, "  ", key);
  if (!x) {
    fputs(last ? "null\n" : "null,\n", f);
    return;
  }
  fputs("{\n", f);
  plan_json_str(f, in, "gpu", o->gpus[x->gpu], false);
  plan_json_num(f, in, "tp", x->tp, false);
  plan_json_key(f, in, "feasible");
  fputs(x->feasible ? "true,\n" : "false,\n", f);
  plan_json_key(f, in, "baseline");
  if (x->fleet.base_replicas > 0) {
    fputs("{\"pricing\": ", f);
    out_json_string(f, pricing_name(x->fleet.base_pricing));
    fprintf(f, ", \"replicas\": %d},\n", x->fleet.base_replicas);
  } else {
    fputs("null,\n", f);
  }
  plan_json_key(f, in, "burst");
  if (x->fleet.burst_max > 0) {
    fputs("{\"pricing\": ", f);
    out_json_string(f, pricing_name(x->fleet.burst_pricing));
    fputs(", \"policy\": ", f);
    out_json_string(f, r->burst_policy);
    fprintf(f, ", \"min_replicas\": 0, \"max_replicas\": %d},\n", x->fleet.burst_max);
  } else {
    fputs("null,\n", f);
  }
  plan_json_num(f, in, "usd_per_hour", x->usd_per_hour, false);
  plan_json_num(f, in, "cost_usd", plan_sim_num(x, "cost_usd"), false);
  plan_json_num(f, in, "usd_per_million_tokens", x->usd_per_million_tokens, false);
  plan_json_num(f, in, "replicas_mean", plan_sim_num(x, "replicas_mean"), false);
  plan_json_num(f, in, "replicas_max", plan_sim_num(x, "replicas_max"), false);
  plan_json_num(f, in, "requests_rejected", x->rejected, false);
  plan_json_num(f, in, "worst_ratio", x->worst_ratio, false);
  plan_json_values(f, in, o, x);
  fputs("\n  }", f);
  fputs(last ? "\n" : ",\n", f);
}

static void write_json(FILE *f, const void *arg)
{
  const plan_fleet_result *r = arg;
  const plan_opts *o = r->o;
  const plan_sim *w = pick(r, r->winner_type, r->winner);
  const plan_sim *od = pick(r, r->od_type, r->od);
  const char *in = "  ";
  fputs("{\n", f);
  plan_json_str(f, in, "scenario", r->scenario, false);
  plan_json_str(f, in, "model", r->model, false);
  plan_json_str(f, in, "mode", "fleet", false);
  plan_json_key(f, in, "feasible");
  fputs(r->feasible ? "true,\n" : "false,\n", f);
  plan_json_key(f, in, "pricing");
  fputs("[", f);
  for (int i = 0; i < o->npricings; i++) {
    fputs(i ? ", " : "", f);
    out_json_string(f, cost_pricing_names[o->pricings[i]]);
  }
  fputs("],\n", f);
  plan_json_num(f, in, "spot_interruptions_per_hour", o->spot_rate >= 0 ? o->spot_rate : NAN, false);
  plan_json_slo(f, in, o);
  json_fleet(f, r, "fleet", w, false);
  json_fleet(f, r, "on_demand", od, false);
  bool saving = w && od && r->feasible;
  plan_json_num(f, in, "saving_usd_per_hour", saving ? od->usd_per_hour - w->usd_per_hour : NAN, false);
  plan_json_num(f, in, "saving_usd", saving ? plan_sim_num(od, "cost_usd") - plan_sim_num(w, "cost_usd") : NAN,
                false);
  plan_json_num(f, in, "saving_fraction", saving ? (od->usd_per_hour - w->usd_per_hour) / od->usd_per_hour : NAN,
                false);
  plan_json_key(f, in, "single_pricing");
  fputs("{", f);
  for (int i = 0; i < o->npricings; i++) {
    const plan_sim *x = cheapest_single(r, o->pricings[i]);
    fputs(i ? ", " : "", f);
    out_json_string(f, cost_pricing_names[o->pricings[i]]);
    fputs(": ", f);
    out_json_number(f, x ? x->usd_per_hour : NAN);
  }
  fputs("},\n", f);
  plan_json_key(f, in, "candidates");
  fputs("[", f);
  for (int g = 0; g < r->ntypes; g++) {
    const plan_fleet_type *t = &r->types[g];
    fputs(g ? ",\n    {" : "\n    {", f);
    fputs("\"gpu\": ", f);
    out_json_string(f, o->gpus[t->gpu]);
    fprintf(f, ", \"tp\": %d, \"fits\": %s, \"fixed_replicas\": ", t->tp, t->fits ? "true" : "false");
    out_json_number(f, t->fits && t->fixed ? t->fixed : NAN);
    fputs(", \"reason\": ", f);
    if (t->fits)
      fputs("null", f);
    else
      out_json_string(f, t->reason);
    fputs("}", f);
  }
  fputs("\n  ],\n", f);
  plan_json_num(f, in, "simulations", r->simulations, false);
  plan_json_num(f, in, "configurations", r->configurations, false);
  plan_json_num(f, in, "wall_s", r->wall_s, true);
  fputs("}\n", f);
}

/* ---- plan.csv ---- */

/* gpu, tp, baseline_pricing, baseline_replicas, burst_pricing,
 * burst_max_replicas, feasible, usd_per_hour, cost_usd,
 * usd_per_million_tokens, each --slo metric (worst over the runs),
 * requests_rejected, replications_run, reason, then every other numeric
 * summary metric (mean over the runs). */
static int fleet_row(void *ctx, int g, int k, const plan_sim *x, const char *reason, sim_cell *cells)
{
  (void)g;
  (void)k;
  const plan_opts *o = ctx;
  const plan_fleet *fl = &x->fleet;
  int c = 0;
  cells[c++] = (sim_cell){o->gpus[x->gpu], 0};
  cells[c++] = (sim_cell){NULL, x->tp};
  cells[c++] = (sim_cell){fl->base_replicas > 0 ? pricing_name(fl->base_pricing) : "", 0};
  cells[c++] = (sim_cell){NULL, fl->base_replicas};
  cells[c++] = (sim_cell){fl->burst_max > 0 ? pricing_name(fl->burst_pricing) : "", 0};
  cells[c++] = (sim_cell){NULL, fl->burst_max};
  cells[c++] = (sim_cell){NULL, x->feasible};
  cells[c++] = (sim_cell){NULL, x->usd_per_hour};
  cells[c++] = (sim_cell){NULL, plan_sim_num(x, "cost_usd")};
  cells[c++] = (sim_cell){NULL, x->usd_per_million_tokens};
  for (int i = 0; i < o->nslo; i++) cells[c++] = (sim_cell){NULL, x->values[i]};
  cells[c++] = (sim_cell){NULL, x->rejected};
  cells[c++] = (sim_cell){NULL, x->runs};
  cells[c++] = (sim_cell){reason, 0};
  return c;
}

static void write_csv(FILE *f, const void *arg)
{
  const plan_fleet_result *r = arg;
  const plan_opts *o = r->o;
  static const char *const fixed[] = {"gpu", "tp", "baseline_pricing", "baseline_replicas", "burst_pricing",
                                      "burst_max_replicas", "feasible", "usd_per_hour", "cost_usd",
                                      "usd_per_million_tokens"};
  static const char *const after[] = {"requests_rejected", "replications_run", "reason"};
  plan_sims *groups = xcalloc((size_t)r->ntypes + 1, sizeof *groups);
  for (int g = 0; g < r->ntypes; g++) groups[g] = (plan_sims){r->types[g].sims, r->types[g].nsims};
  plan_csv_write(f, o, fixed, 10, after, 3, groups, r->ntypes, fleet_row, (void *)o);
  free(groups);
}

bool plan_fleet_write(const char *outdir, const plan_fleet_result *r)
{
  bool ok = plan_write_file(outdir, "plan.csv", r, write_csv);
  /* an earlier pool-0 plan's load curve would disagree with this plan */
  ok = plan_remove_file(outdir, "plan_load.csv") && ok;
  /* plan.json last: its presence says plan.csv is complete */
  return ok && plan_write_file(outdir, "plan.json", r, write_json);
}
