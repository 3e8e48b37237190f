/* driver/plan/plan_models_output.c: what `clustersim plan` shows and leaves
 * when it places several models (see plan.h, plan_models.c): the table on
 * standard output (the models by demand, each placement's pools and cost,
 * the winner run whole with each model's targets and its weight swaps) and
 * OUTDIR/plan.json (the answer) and plan.csv (a row per simulation: every
 * pool sized alone, then each placement run whole), each written
 * atomically; a plan_load.csv of an earlier plan in OUTDIR is removed.
 * Reads results; decides nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/output/json.h"
#include "driver/plan/plan.h"
#include "sim/table.h"
#include "sim/util.h"

static const plan_sim *winner_check(const plan_mm_result *r)
{
  return r->winner_check >= 0 ? &r->checks[r->winner_check] : NULL;
}

/* Weight swaps per hour of x's measured window (the shared pool's: a
 * dedicated pool never swaps). */
static double swaps_per_hour(const plan_sim *x)
{
  double window_s = plan_sim_num(x, "sim_time_s") - plan_sim_num(x, "warmup_s");
  return window_s > 0 ? plan_sim_num(x, "weight_swaps") / window_s * 3600 : NAN;
}

/* "shared", "dedicated" or "2 dedicated + shared". */
static void describe(const plan_mm_result *r, const plan_mm_cand *c, char *buf, size_t n)
{
  if (c->k == 0)
    snprintf(buf, n, "shared");
  else if (c->k >= r->nmodels - 1)
    snprintf(buf, n, "dedicated");
  else
    snprintf(buf, n, "%d dedicated + shared", c->k);
}

/* ---- the table ---- */

static void print_pool(FILE *f, const plan_mm_result *r, const plan_mm_group *g)
{
  char name[512];
  plan_mm_group_name(r, g, name, sizeof name);
  const plan_sim *b = plan_mm_best(g);
  fprintf(f, "      %-44s ", name);
  if (b)
    fprintf(f, "%2d x %s tp %d  $%8.2f/h%s\n", b->replicas, r->o->gpus[g->best_type], b->tp, b->usd_per_hour,
            g->feasible ? "" : "  misses");
  else
    fprintf(f, "none fits\n");
}

void plan_models_print(FILE *f, const plan_mm_result *r)
{
  const plan_opts *o = r->o;
  fprintf(f, "plan: scenario %s, which models share which GPUs: %d models, each pool a copy of pool 0\n",
          r->scenario, r->nmodels);
  fprintf(f, "targets, for each model:");
  for (int i = 0; i < o->nslo; i++) fprintf(f, "%s %s <= %g", i ? "," : "", o->slo[i].metric, o->slo[i].target);
  fprintf(f, ", no request rejected; in every replication of %d\n", o->replications);
  fprintf(f, "models by demand (requests/s x tokens, measured on their own pools):\n");
  for (int i = 0; i < r->nmodels; i++) {
    const plan_mm_model *m = &r->models[r->order[i]];
    if (isnan(m->demand_tokens_per_s))
      fprintf(f, "  %-24s (not measured: no pool of its own)\n", m->name);
    else
      fprintf(f, "  %-24s %10.0f tokens/s\n", m->name, m->demand_tokens_per_s);
  }
  fprintf(f, "placements (each pool sized alone; the k heaviest dedicated, the rest shared):\n");
  for (int i = 0; i < r->ncands; i++) {
    const plan_mm_cand *c = &r->cands[i];
    char what[64];
    describe(r, c, what, sizeof what);
    fprintf(f, "  k=%d %-22s %3.0f GPUs  $%8.2f/h  %s%s%s\n", c->k, what, c->gpus, c->usd_per_hour,
            c->feasible ? "meets the targets" : "misses", c->verified == 1 ? ", whole too" : "",
            c->verified == 0 ? ", misses run whole" : "");
    for (int k = 0; k < c->ngroups; k++)
      if (c->groups[k] >= 0) print_pool(f, r, &r->groups[c->groups[k]]);
  }
  const plan_sim *w = winner_check(r);
  if (r->winner < 0 || !w) {
    fprintf(f, "no placement could be sized\n");
  } else {
    char what[64];
    describe(r, &r->cands[r->winner], what, sizeof what);
    fprintf(f, "%s: %s (k=%d), %.0f GPUs, $%.2f/h; run whole: $%.2f/h, %s, %.0f weight swaps/h\n",
            r->feasible ? "cheapest" : "none meets every target; closest", what, r->cands[r->winner].k,
            r->cands[r->winner].gpus, r->cands[r->winner].usd_per_hour, w->usd_per_hour,
            w->feasible ? "meets the targets" : "misses", swaps_per_hour(w));
    for (int m = 0; m < r->nmodels; m++) {
      fprintf(f, "  %-24s", r->models[m].name);
      for (int i = 0; i < o->nslo; i++) {
        double v = w->values[m * o->nslo + i];
        fprintf(f, "  %s %.4g %s %g", o->slo[i].metric, v, v <= o->slo[i].target ? "<=" : ">", o->slo[i].target);
      }
      fputs("\n", f);
    }
    if (w->rejected > 0) fprintf(f, "  requests_rejected %.0f (none allowed)\n", w->rejected);
  }
  static const int bell[] = {1, 1, 2, 5, 15, 52, 203, 877, 4140};
  fprintf(f, "not searched: the other partitions of the models (%d in all for %d models, each a search of its "
          "pools); the demand order's are where sharing pays: rare models sharing, busy ones alone\n",
          bell[r->nmodels < 9 ? r->nmodels : 8], r->nmodels);
  fprintf(f, "%d simulations (%d configurations) in %.1f s\n", r->simulations, r->configurations, r->wall_s);
}

/* ---- plan.json ---- */

static void json_pool(FILE *f, const plan_mm_result *r, const plan_mm_group *g, bool last)
{
  const plan_sim *b = plan_mm_best(g);
  fputs("{\"models\": [", f);
  int n = 0;
  for (int m = 0; m < r->nmodels; m++)
    if (g->mask >> m & 1) {
      fputs(n++ ? ", " : "", f);
      out_json_string(f, r->models[m].name);
    }
  fputs("], \"gpu\": ", f);
  out_json_string(f, b ? r->o->gpus[g->best_type] : NULL);
  fputs(", \"tp\": ", f);
  out_json_number(f, b ? b->tp : NAN);
  fputs(", \"replicas\": ", f);
  out_json_number(f, b ? b->replicas : NAN);
  fputs(", \"gpus\": ", f);
  out_json_number(f, b ? b->gpus : NAN);
  fputs(", \"usd_per_hour\": ", f);
  out_json_number(f, b ? b->usd_per_hour : NAN);
  fprintf(f, ", \"feasible\": %s", g->feasible ? "true" : "false");
  fputs(", \"weight_swaps\": ", f);
  out_json_number(f, plan_sim_num(b, "weight_swaps"));
  fputs(", \"worst_ratio\": ", f);
  out_json_number(f, b ? b->worst_ratio : NAN);
  fputs(last ? "}" : "}, ", f);
}

static void json_cand(FILE *f, const plan_mm_result *r, const plan_mm_cand *c, const char *in)
{
  char what[64];
  describe(r, c, what, sizeof what);
  plan_json_num(f, in, "k", c->k, false);
  plan_json_str(f, in, "placement", what, false);
  plan_json_bool(f, in, "feasible", c->feasible, false);
  plan_json_key(f, in, "verified");
  fputs(c->verified < 0 ? "null,\n" : c->verified ? "true,\n" : "false,\n", f);
  plan_json_num(f, in, "usd_per_hour", c->usd_per_hour, false);
  plan_json_num(f, in, "gpus", c->gpus, false);
  plan_json_num(f, in, "worst_ratio", c->worst_ratio, false);
  plan_json_key(f, in, "pools");
  fputs("[", f);
  for (int k = 0; k < c->ngroups; k++)
    if (c->groups[k] >= 0) json_pool(f, r, &r->groups[c->groups[k]], k == c->ngroups - 1);
  fputs("]", f);
}

static void write_json(FILE *f, const void *arg)
{
  const plan_mm_result *r = arg;
  const plan_opts *o = r->o;
  const plan_sim *w = winner_check(r);
  const char *in = "  ";
  fputs("{\n", f);
  plan_json_str(f, in, "scenario", r->scenario, false);
  plan_json_str(f, in, "mode", "placement", false);
  plan_json_str(f, in, "placement", r->mode == 1 ? "shared" : r->mode == 2 ? "dedicated" : "search", false);
  plan_json_str(f, in, "targets_apply_to", "each model (modelN_METRIC on a shared pool, METRIC on its own)", false);
  plan_json_bool(f, in, "feasible", r->feasible, false);
  plan_json_key(f, in, "models");
  fputs("[", f);
  for (int i = 0; i < r->nmodels; i++) {
    const plan_mm_model *m = &r->models[r->order[i]];
    fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
    out_json_string(f, m->name);
    fputs(", \"demand_tokens_per_s\": ", f);
    out_json_number(f, m->demand_tokens_per_s);
    fputs("}", f);
  }
  fputs("\n  ],\n", f);
  plan_json_key(f, in, "winner");
  if (r->winner >= 0 && w) {
    fputs("{\n", f);
    json_cand(f, r, &r->cands[r->winner], "    ");
    fputs(",\n", f);
    plan_json_key(f, "    ", "whole");
    fputs("{\n", f);
    plan_json_bool(f, "      ", "feasible", w->feasible, false);
    plan_json_num(f, "      ", "usd_per_hour", w->usd_per_hour, false);
    plan_json_num(f, "      ", "gpus", w->gpus, false);
    plan_json_num(f, "      ", "requests_rejected", w->rejected, false);
    plan_json_num(f, "      ", "weight_swaps", plan_sim_num(w, "weight_swaps"), false);
    plan_json_num(f, "      ", "weight_swaps_per_hour", swaps_per_hour(w), false);
    plan_json_num(f, "      ", "weight_swap_time_fraction", plan_sim_num(w, "weight_swap_time_fraction"), false);
    plan_json_key(f, "      ", "per_model");
    fputs("[", f);
    for (int m = 0; m < r->nmodels; m++) {
      fputs(m ? ",\n        {\"name\": " : "\n        {\"name\": ", f);
      out_json_string(f, r->models[m].name);
      fprintf(f, ", \"summary_index\": %d", r->check_model[m]);
      for (int i = 0; i < o->nslo; i++) {
        fputs(", ", f);
        out_json_string(f, o->slo[i].metric);
        fputs(": ", f);
        out_json_number(f, w->values[m * o->nslo + i]);
      }
      bool met = true;
      for (int i = 0; i < o->nslo; i++) met = met && w->values[m * o->nslo + i] <= o->slo[i].target;
      fprintf(f, ", \"meets\": %s}", met ? "true" : "false");
    }
    fputs("\n      ],\n", f);
    plan_json_values(f, "      ", &r->check_opts, w);
    fputs("\n    }\n  },\n", f);
  } else {
    fputs("null,\n", f);
  }
  plan_json_key(f, in, "candidates");
  fputs("[", f);
  for (int i = 0; i < r->ncands; i++) {
    fputs(i ? ",\n    {\n" : "\n    {\n", f);
    json_cand(f, r, &r->cands[i], "      ");
    fputs("\n    }", f);
  }
  fputs("\n  ],\n", f);
  plan_json_str(f, in, "not_searched",
                "the other partitions of the models (the Bell number of n: 52 for 5 models, 4140 for 8, each a "
                "search of its pools): only the k heaviest dedicated and the rest shared, k = 0 .. n-1, where "
                "sharing pays (rare models share, busy ones alone); each pool sized alone",
                false);
  plan_json_counts(f, in, o, r->simulations, r->configurations);
  plan_json_num(f, in, "wall_s", r->wall_s, true);
  fputs("}\n", f);
}

/* ---- plan.csv ---- */

/* The replicas of every pool of placement c. */
static double whole_replicas(const plan_mm_result *r, const plan_mm_cand *c)
{
  double n = 0;
  for (int k = 0; k < c->ngroups; k++) {
    const plan_sim *b = c->groups[k] >= 0 ? plan_mm_best(&r->groups[c->groups[k]]) : NULL;
    n += b ? b->replicas : NAN;
  }
  return n;
}

/* pool (the models of the pool sized alone, or "whole k=K" for a placement
 * run whole), gpu, tp, replicas, feasible, usd_per_hour,
 * usd_per_million_tokens, each --slo metric as the summary has it (the
 * whole run's, over its models), worst_ratio, gpus, requests_rejected,
 * replications_run, reason, then every other numeric summary metric (mean
 * over the runs; modelN_ numbered as that run numbers its models). */
/* A row of plan.csv: group g < ngroups * ngpus is pool g / ngpus on GPU
 * type g % ngpus; the last group is the placements run whole. */
typedef struct {
  const plan_mm_result *r;
  char name[512]; /* the row's pool cell */
} mm_rows;

static int mm_row(void *ctx, int g, int k, const plan_sim *x, const char *reason, sim_cell *cells)
{
  mm_rows *rows = ctx;
  const plan_mm_result *r = rows->r;
  const plan_opts *o = r->o;
  char *name = rows->name;
  bool pool = g < r->ngroups * o->ngpus;
  int gi = g / o->ngpus, ti = g % o->ngpus;
  if (pool)
    plan_mm_group_name(r, &r->groups[gi], name, sizeof rows->name);
  else
    snprintf(name, sizeof rows->name, "whole k=%d", r->cands[r->check_cand[k]].k);
  int c = 0;
  cells[c++] = (sim_cell){name, 0};
  cells[c++] = (sim_cell){pool ? o->gpus[ti] : "", 0};
  cells[c++] = (sim_cell){NULL, pool ? x->tp : NAN};
  cells[c++] = (sim_cell){NULL, pool ? x->replicas : whole_replicas(r, &r->cands[r->check_cand[k]])};
  cells[c++] = (sim_cell){NULL, x->feasible};
  cells[c++] = (sim_cell){NULL, x->usd_per_hour};
  cells[c++] = (sim_cell){NULL, x->usd_per_million_tokens};
  for (int i = 0; i < o->nslo; i++) cells[c++] = (sim_cell){NULL, plan_sim_num(x, o->slo[i].metric)};
  cells[c++] = (sim_cell){NULL, x->worst_ratio};
  cells[c++] = (sim_cell){NULL, x->gpus};
  cells[c++] = (sim_cell){NULL, x->rejected};
  cells[c++] = (sim_cell){NULL, x->runs};
  cells[c++] = (sim_cell){reason, 0};
  return c;
}

static void write_csv(FILE *f, const void *arg)
{
  const plan_mm_result *r = arg;
  const plan_opts *o = r->o;
  static const char *const fixed[] = {"pool", "gpu", "tp", "replicas", "feasible", "usd_per_hour",
                                      "usd_per_million_tokens"};
  static const char *const after[] = {"worst_ratio", "gpus", "requests_rejected", "replications_run", "reason"};
  int ngroups = r->ngroups * o->ngpus + 1;
  plan_sims *groups = xcalloc((size_t)ngroups, sizeof *groups);
  for (int g = 0; g < r->ngroups; g++)
    for (int t = 0; t < o->ngpus; t++)
      groups[g * o->ngpus + t] = (plan_sims){r->groups[g].types[t].sims, r->groups[g].types[t].nsims};
  groups[ngroups - 1] = (plan_sims){r->checks, r->nchecks};
  mm_rows rows = {.r = r};
  plan_csv_write(f, o, fixed, 7, after, 5, groups, ngroups, mm_row, &rows);
  free(groups);
}

bool plan_models_write(const char *outdir, const plan_mm_result *r)
{
  bool ok = plan_write_file(outdir, "plan.csv", r, write_csv);
  ok = plan_remove_file(outdir, "plan_load.csv") && ok;
  /* plan.json last: its presence says plan.csv is complete */
  return ok && plan_write_file(outdir, "plan.json", r, write_json);
}
