/* driver/plan/plan_output.c: what `clustersim plan` shows and leaves (see plan.h):
 * the table on standard output (each candidate's price and its source, the
 * cheapest configuration with its margin to each target, the best of each
 * GPU type, each search's outcome, the simulation count) and
 * OUTDIR/plan.json (with each configuration's price, source and summary),
 * plan.csv (a row per simulated configuration, every summary metric) and
 * plan_load.csv (replicas needed against load), each written atomically.
 * Reads results; decides nothing. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/output/json.h"
#include "driver/output/outfile.h"
#include "driver/plan/plan.h"
#include "sim/table.h"
#include "sim/util.h"

static const plan_sim *winner(const plan_result *r)
{
  return r->winner_type >= 0 ? &r->types[r->winner_type].sims[r->winner] : NULL;
}

static double scale_of(const plan_opts *o, int scale)
{
  return scale < 0 ? 1.0 : o->scales[scale];
}

static double headroom_pct(double value, double target)
{
  return target > 0 ? 100.0 * (target - value) / target : NAN;
}

static const char *outcome_name(plan_outcome oc)
{
  switch (oc) {
  case SIM_PLAN_NOFIT: return "does-not-fit";
  case SIM_PLAN_FOUND: return "found";
  case SIM_PLAN_NONE: return "none";
  case SIM_PLAN_PRUNED: return "pruned";
  }
  return "?";
}

/* ---- the table ---- */

void plan_print_margins(FILE *f, const plan_opts *o, const plan_sim *x)
{
  for (int i = 0; i < o->nslo; i++) {
    double v = x->values[i], t = o->slo[i].target, h = headroom_pct(v, t);
    fprintf(f, "  %-24s %12.4g %s %-10g", o->slo[i].metric, v, v <= t ? "<=" : "> ", t);
    if (isnan(h))
      fputs("\n", f);
    else if (h >= 0)
      fprintf(f, " %6.1f%% headroom\n", h);
    else
      fprintf(f, " %6.1f%% over\n", -h);
  }
  if (x->rejected > 0) fprintf(f, "  %-24s %12.0f (none allowed)\n", "requests_rejected", x->rejected);
}

void plan_print(FILE *f, const plan_result *r)
{
  const plan_opts *o = r->o;
  fprintf(f, "plan: scenario %s, pool 0 (%s in the file)", r->scenario, r->pool_gpu);
  if (r->npools > 1) fprintf(f, "; %d pools: the others stay as written", r->npools);
  fprintf(f, "\ntargets:");
  for (int i = 0; i < o->nslo; i++) fprintf(f, "%s %s <= %g", i ? "," : "", o->slo[i].metric, o->slo[i].target);
  fprintf(f, ", no request rejected; in every replication of %d\n", o->replications);
  fprintf(f, "prices per GPU-hour:");
  for (int g = 0; g < o->ngpus; g++) {
    const plan_price *p = &o->prices[g];
    fprintf(f, "%s %s ", g ? "," : "", o->gpus[g]);
    if (isnan(p->usd_per_gpu_hour))
      fprintf(f, "none");
    else if (p->provider || p->date)
      fprintf(f, "$%.4g (%s: %s%s%s)", p->usd_per_gpu_hour, p->source, p->provider ? p->provider : "",
              p->provider && p->date ? ", " : "", p->date ? p->date : "");
    else
      fprintf(f, "$%.4g (%s)", p->usd_per_gpu_hour, p->source);
  }
  fputs("\n", f);

  const plan_sim *w = winner(r);
  if (!w) {
    fprintf(f, "no configuration fits: every GPU type and tp was rejected by the loader\n");
  } else {
    if (r->feasible)
      fprintf(f, "cheapest: ");
    else
      fprintf(f, "no configuration meets every target with up to %d replicas; closest miss: ", o->max_replicas);
    fprintf(f, "%s, tp %d, %d replica%s = %.0f GPUs: $%.2f/h, $%.4g/M tokens\n", o->gpus[w->gpu], w->tp,
            w->replicas, w->replicas == 1 ? "" : "s", w->gpus, w->usd_per_hour, w->usd_per_million_tokens);
    plan_print_margins(f, o, w);
  }

  fprintf(f, "best of each GPU type:\n  %-18s %3s %8s %5s %10s %11s", "gpu", "tp", "replicas", "GPUs", "$/h",
          "$/M tokens");
  for (int i = 0; i < o->nslo; i++) fprintf(f, " %14s", o->slo[i].metric);
  fputs("\n", f);
  for (int g = 0; g < o->ngpus; g++) {
    const plan_type *t = &r->types[g];
    bool feasible;
    int b = plan_type_best(t, &feasible);
    if (b < 0) {
      fprintf(f, "  %-18s does not fit\n", o->gpus[g]);
      continue;
    }
    const plan_sim *x = &t->sims[b];
    fprintf(f, "  %-18s %3d %8d %5.0f %10.2f %11.4g", o->gpus[g], x->tp, x->replicas, x->gpus, x->usd_per_hour,
            x->usd_per_million_tokens);
    for (int i = 0; i < o->nslo; i++) fprintf(f, " %14.4g", x->values[i]);
    const char *tag = x == w ? (r->feasible ? "  cheapest" : "  closest miss") : feasible ? "" : "  misses";
    fprintf(f, "%s\n", tag);
  }

  fprintf(f, "searches (fewest replicas meeting every target):\n");
  for (int g = 0; g < o->ngpus; g++) {
    const plan_type *t = &r->types[g];
    for (int k = 0; k < t->nsearches; k++) {
      const plan_search *s = &t->searches[k];
      fprintf(f, "  %-18s tp %-2d ", o->gpus[g], s->tp);
      switch (s->outcome) {
      case SIM_PLAN_NOFIT: fprintf(f, "rejected: %s\n", s->reason); break;
      case SIM_PLAN_FOUND: fprintf(f, "%d replica%s\n", s->replicas, s->replicas == 1 ? "" : "s"); break;
      case SIM_PLAN_NONE: fprintf(f, "none up to %d replicas\n", s->replicas); break;
      case SIM_PLAN_PRUNED:
        if (s->replicas > 0)
          fprintf(f, "pruned: %d replica%s (as many GPUs as the type's best) miss%s\n", s->replicas,
                  s->replicas == 1 ? "" : "s", s->replicas == 1 ? "es" : "");
        else
          fprintf(f, "pruned: one replica has more GPUs than the type's best\n");
        break;
      }
    }
  }
  bool any_load = false;
  for (int g = 0; g < o->ngpus; g++) any_load = any_load || r->types[g].nloads > 0;
  if (any_load && !(o->nscales == 1 && o->scales[0] == 1.0)) {
    fprintf(f, "replicas needed against load (plan_load.csv):\n");
    for (int g = 0; g < o->ngpus; g++) {
      const plan_type *t = &r->types[g];
      if (!t->nloads) continue;
      fprintf(f, "  %-18s tp %-2d", o->gpus[g], t->load_tp);
      for (int k = 0; k < t->nloads; k++) {
        const plan_load *l = &t->loads[k];
        if (l->replicas > 0)
          fprintf(f, "  x%g: %d", o->scales[l->scale], l->replicas);
        else
          fprintf(f, "  x%g: >%d", o->scales[l->scale], o->max_replicas);
      }
      fputs("\n", f);
    }
  }
  fprintf(f, "%d simulations (%d configurations) in %.1f s\n", r->simulations, r->configurations, r->wall_s);
}

/* ---- plan.json ---- */

void plan_json_slo(FILE *f, const char *indent, const plan_opts *o)
{
  plan_json_key(f, indent, "slo");
  fputs("{", f);
  for (int i = 0; i < o->nslo; i++) {
    fputs(i ? ", " : "", f);
    out_json_string(f, o->slo[i].metric);
    fputs(": ", f);
    out_json_number(f, o->slo[i].target);
  }
  fputs("},\n", f);
}

void plan_json_key(FILE *f, const char *indent, const char *key)
{
  fprintf(f, "%s", indent);
  out_json_string(f, key);
  fputs(": ", f);
}

void plan_json_num(FILE *f, const char *indent, const char *key, double v, bool last)
{
  plan_json_key(f, indent, key);
  out_json_number(f, v);
  fputs(last ? "\n" : ",\n", f);
}

void plan_json_str(FILE *f, const char *indent, const char *key, const char *v, bool last)
{
  plan_json_key(f, indent, key);
  if (v)
    out_json_string(f, v);
  else
    fputs("null", f);
  fputs(last ? "\n" : ",\n", f);
}

void plan_json_bool(FILE *f, const char *indent, const char *key, bool v, bool last)
{
  plan_json_key(f, indent, key);
  fprintf(f, "%s%s\n", v ? "true" : "false", last ? "" : ",");
}

void plan_json_margins(FILE *f, const char *in, const plan_opts *o, const plan_sim *x)
{
  plan_json_key(f, in, "margins");
  fputs("[", f);
  for (int i = 0; i < o->nslo; i++) {
    fputs(i ? ",\n    {" : "\n    {", f);
    fputs("\"metric\": ", f);
    out_json_string(f, o->slo[i].metric);
    fputs(", \"value\": ", f);
    out_json_number(f, x ? x->values[i] : NAN);
    fputs(", \"target\": ", f);
    out_json_number(f, o->slo[i].target);
    fputs(", \"headroom_pct\": ", f);
    out_json_number(f, x ? headroom_pct(x->values[i], o->slo[i].target) : NAN);
    fputs("}", f);
  }
  fputs("\n  ],\n", f);
}

void plan_json_sim(FILE *f, const char *in, const plan_opts *o, const plan_sim *x)
{
  plan_json_num(f, in, "replicas", x ? x->replicas : NAN, false);
  plan_json_num(f, in, "gpus", x ? x->gpus : NAN, false);
  plan_json_num(f, in, "usd_per_hour", x ? x->usd_per_hour : NAN, false);
  plan_json_num(f, in, "usd_per_million_tokens", x ? x->usd_per_million_tokens : NAN, false);
  plan_json_num(f, in, "requests_rejected", x ? x->rejected : NAN, false);
  plan_json_num(f, in, "worst_ratio", x ? x->worst_ratio : NAN, false);
  plan_json_values(f, in, o, x);
}

void plan_json_counts(FILE *f, const char *in, const plan_opts *o, int simulations, int configurations)
{
  plan_json_num(f, in, "simulations", simulations, false);
  plan_json_num(f, in, "configurations", configurations, false);
  plan_json_num(f, in, "replications", o->replications, false);
  plan_json_num(f, in, "max_replicas", o->max_replicas, false);
  plan_json_slo(f, in, o);
}

void plan_json_values(FILE *f, const char *in, const plan_opts *o, const plan_sim *x)
{
  plan_json_key(f, in, "metrics");
  fputs("{", f);
  for (int i = 0; i < o->nslo; i++) {
    fputs(i ? ", " : "", f);
    out_json_string(f, o->slo[i].metric);
    fputs(": ", f);
    out_json_number(f, x ? x->values[i] : NAN);
  }
  fputs("},\n", f);
  plan_json_key(f, in, "summary");
  fputs("{", f);
  for (size_t i = 0; x && i < x->summary.len; i++) {
    const sim_metric *m = &x->summary.items[i];
    fputs(i ? ", " : "", f);
    out_json_string(f, m->key);
    fputs(": ", f);
    out_json_number(f, m->kind == SIM_VAL_INT ? (double)m->i : m->x);
  }
  fputs("}", f);
}

/* The members describing configuration x of GPU type g (-1: none; x NULL:
 * every value null), without a trailing comma: the type's price and where it
 * comes from, the configuration, its targets' values, and its summary (every
 * numeric metric, the mean over its runs). */
static void json_config(FILE *f, const plan_opts *o, int g, const plan_sim *x, const char *in)
{
  const plan_price *p = g >= 0 ? &o->prices[g] : NULL;
  plan_json_str(f, in, "gpu", g >= 0 ? o->gpus[g] : NULL, false);
  plan_json_num(f, in, "usd_per_gpu_hour", p ? p->usd_per_gpu_hour : NAN, false);
  plan_json_str(f, in, "price_source", p ? p->source : NULL, false);
  plan_json_str(f, in, "price_provider", p ? p->provider : NULL, false);
  plan_json_str(f, in, "price_date", p ? p->date : NULL, false);
  plan_json_str(f, in, "price_note", p ? p->note : NULL, false);
  plan_json_num(f, in, "tp", x ? x->tp : NAN, false);
  plan_json_sim(f, in, o, x);
}

static void write_json(FILE *f, const void *arg)
{
  const plan_result *r = arg;
  const plan_opts *o = r->o;
  const plan_sim *w = winner(r);
  const char *in = "  ";
  fputs("{\n", f);
  plan_json_str(f, in, "scenario", r->scenario, false);
  plan_json_str(f, in, "model", r->model, false);
  /* for plots/plan_replicas.gp (clustersim plot), as summary.json names it */
  double slo_ttft = NAN;
  for (int i = 0; i < o->nslo; i++)
    if (!strcmp(o->slo[i].metric, "ttft_p99_s")) slo_ttft = o->slo[i].target;
  plan_json_num(f, in, "slo_ttft_s", slo_ttft, false);
  plan_json_num(f, in, "pool", 0, false);
  plan_json_num(f, in, "pools", r->npools, false);
  plan_json_bool(f, in, "feasible", r->feasible, false);
  json_config(f, o, w ? w->gpu : -1, w, in);
  fputs(",\n", f);
  plan_json_margins(f, in, o, w);
  plan_json_counts(f, in, o, r->simulations, r->configurations);
  plan_json_key(f, in, "candidates");
  fputs("[", f);
  for (int g = 0; g < o->ngpus; g++) {
    const plan_type *t = &r->types[g];
    bool feasible;
    int b = plan_type_best(t, &feasible);
    const plan_sim *x = b >= 0 ? &t->sims[b] : NULL;
    fputs(g ? ",\n    {\n" : "\n    {\n", f);
    plan_json_bool(f, "      ", "feasible", feasible, false);
    json_config(f, o, g, x, "      ");
    fputs("\n    }", f);
  }
  fputs("\n  ],\n", f);
  plan_json_key(f, in, "searches");
  fputs("[", f);
  bool first = true;
  for (int g = 0; g < o->ngpus; g++)
    for (int k = 0; k < r->types[g].nsearches; k++) {
      const plan_search *s = &r->types[g].searches[k];
      fputs(first ? "\n    {" : ",\n    {", f);
      first = false;
      fputs("\"gpu\": ", f);
      out_json_string(f, o->gpus[g]);
      fprintf(f, ", \"tp\": %d, \"outcome\": \"%s\", \"replicas\": ", s->tp, outcome_name(s->outcome));
      out_json_number(f, s->outcome == SIM_PLAN_NOFIT ? NAN : s->replicas);
      if (s->outcome == SIM_PLAN_NOFIT) {
        fputs(", \"reason\": ", f);
        out_json_string(f, s->reason);
      }
      fputs("}", f);
    }
  fputs("\n  ],\n", f);
  plan_json_key(f, in, "load_scales");
  fputs("[", f);
  for (int j = 0; j < o->nscales; j++) {
    fputs(j ? ", " : "", f);
    out_json_number(f, o->scales[j]);
  }
  fputs("]\n}\n", f);
}

/* ---- CSV ---- */

/* plan.csv: a row per simulated configuration: gpu, tp, replicas,
 * feasible, usd_per_hour, usd_per_million_tokens, the targets' metrics
 * (worst over the runs), load_scale, gpus, requests_rejected,
 * replications_run, usd_per_gpu_hour, price_source, price_provider and
 * price_date (the type's price and where it comes from),
 * then every other numeric summary metric any run reports (mean over the
 * configuration's runs), in order of first appearance. */
const char **plan_csv_columns(const plan_opts *o, const char *const *fixed, int nfixed, const char *const *after,
                              int nafter, const plan_sims *groups, int ngroups, int *n)
{
  int cap = nfixed + nafter + o->nslo + 64, k = 0;
  const char **cols = xcalloc((size_t)cap, sizeof *cols);
  for (int i = 0; i < nfixed; i++) cols[k++] = fixed[i];
  for (int i = 0; i < o->nslo; i++) cols[k++] = o->slo[i].metric;
  for (int i = 0; i < nafter; i++) cols[k++] = after[i];
  for (int g = 0; g < ngroups; g++)
    for (int j = 0; j < groups[g].nsims; j++) {
      const sim_report *sum = &groups[g].sims[j].summary;
      for (size_t i = 0; i < sum->len; i++) {
        const char *key = sum->items[i].key;
        bool have = false;
        for (int c = 0; c < k && !have; c++) have = !strcmp(cols[c], key);
        if (have) continue;
        if (k == cap) cols = xrealloc(cols, (size_t)(cap *= 2) * sizeof *cols);
        cols[k++] = key;
      }
    }
  *n = k;
  return cols;
}

void plan_csv_reason(const char *reason, char *buf, size_t size)
{
  snprintf(buf, size, "%s", reason ? reason : "");
  for (char *p = buf; *p; p++)
    if (*p == ',' || *p == '"' || *p == '\n' || *p == '\r') *p = ';';
}

double plan_sim_num(const plan_sim *x, const char *key)
{
  const sim_metric *m = x ? sim_report_get(&x->summary, key) : NULL;
  return m && m->kind != SIM_VAL_STR ? (m->kind == SIM_VAL_INT ? (double)m->i : m->x) : NAN;
}

void plan_csv_write(FILE *f, const plan_opts *o, const char *const *fixed, int nfixed, const char *const *after,
                    int nafter, const plan_sims *groups, int ngroups, plan_csv_fill fill, void *ctx)
{
  int n;
  const char **cols = plan_csv_columns(o, fixed, nfixed, after, nafter, groups, ngroups, &n);
  sim_table t;
  sim_table_begin(&t, f, cols, n);
  sim_cell *cells = xcalloc((size_t)n, sizeof *cells);
  char reason[256];
  for (int g = 0; g < ngroups; g++)
    for (int k = 0; k < groups[g].nsims; k++) {
      const plan_sim *x = &groups[g].sims[k];
      plan_csv_reason(x->reason, reason, sizeof reason);
      int c = fill(ctx, g, k, x, reason, cells);
      for (; c < n; c++) cells[c] = (sim_cell){NULL, plan_sim_num(x, cols[c])};
      sim_table_row(&t, cells);
    }
  free(cells);
  free(cols);
}

/* gpu, tp, replicas, feasible, usd_per_hour, usd_per_million_tokens and
 * each --slo metric, then load_scale, gpus, ..., price_date (plan.csv). */
static int plan_row(void *ctx, int g, int k, const plan_sim *x, const char *reason, sim_cell *cells)
{
  (void)k;
  (void)reason;
  const plan_opts *o = ctx;
  int c = 0;
  cells[c++] = (sim_cell){o->gpus[g], 0};
  cells[c++] = (sim_cell){NULL, x->tp};
  cells[c++] = (sim_cell){NULL, x->replicas};
  cells[c++] = (sim_cell){NULL, x->feasible};
  cells[c++] = (sim_cell){NULL, x->usd_per_hour};
  cells[c++] = (sim_cell){NULL, x->usd_per_million_tokens};
  for (int i = 0; i < o->nslo; i++) cells[c++] = (sim_cell){NULL, x->values[i]};
  cells[c++] = (sim_cell){NULL, scale_of(o, x->scale)};
  cells[c++] = (sim_cell){NULL, x->gpus};
  cells[c++] = (sim_cell){NULL, x->rejected};
  cells[c++] = (sim_cell){NULL, x->runs};
  cells[c++] = (sim_cell){NULL, o->prices[g].usd_per_gpu_hour};
  cells[c++] = (sim_cell){o->prices[g].source, 0};
  cells[c++] = (sim_cell){o->prices[g].provider ? o->prices[g].provider : "", 0};
  cells[c++] = (sim_cell){o->prices[g].date ? o->prices[g].date : "", 0};
  return c;
}

static void write_plan_csv(FILE *f, const void *arg)
{
  const plan_result *r = arg;
  const plan_opts *o = r->o;
  static const char *const fixed[] = {"gpu", "tp", "replicas", "feasible", "usd_per_hour", "usd_per_million_tokens"};
  static const char *const after[] = {"load_scale",       "gpus",         "requests_rejected", "replications_run",
                                      "usd_per_gpu_hour", "price_source", "price_provider",    "price_date"};
  plan_sims *groups = xcalloc((size_t)o->ngpus + 1, sizeof *groups);
  for (int g = 0; g < o->ngpus; g++) groups[g] = (plan_sims){r->types[g].sims, r->types[g].nsims};
  plan_csv_write(f, o, fixed, 6, after, 8, groups, o->ngpus, plan_row, (void *)o);
  free(groups);
}

static void write_load_csv(FILE *f, const void *arg)
{
  const plan_result *r = arg;
  const plan_opts *o = r->o;
  static const char *const cols[] = {"gpu", "tp", "load_scale", "offered_rate_per_s", "replicas", "usd_per_hour",
                                     "feasible"};
  sim_table t;
  sim_table_begin(&t, f, cols, 7);
  for (int g = 0; g < o->ngpus; g++) {
    const plan_type *ty = &r->types[g];
    for (int k = 0; k < ty->nloads; k++) {
      const plan_load *l = &ty->loads[k];
      const plan_sim *x = l->sim >= 0 ? &ty->sims[l->sim] : NULL;
      bool ok = l->replicas > 0;
      sim_cell cells[7] = {{o->gpus[g], 0},
                           {NULL, l->tp},
                           {NULL, o->scales[l->scale]},
                           {NULL, x ? x->arrival_rate_per_s : NAN},
                           {NULL, ok ? l->replicas : NAN},
                           {NULL, ok && x ? x->usd_per_hour : NAN},
                           {NULL, ok}};
      sim_table_row(&t, cells);
    }
  }
}

bool plan_write_file(const char *outdir, const char *name, const void *r, void (*fill)(FILE *, const void *))
{
  size_t n = strlen(outdir) + strlen(name) + 2;
  char *path = xmalloc(n);
  snprintf(path, n, "%s/%s", outdir, name);
  out_file of;
  bool ok = out_file_open(&of, path);
  if (ok) {
    fill(of.f, r);
    ok = out_file_commit(&of);
  }
  if (!ok) fprintf(stderr, "clustersim: %s: cannot write: %s\n", path, strerror(errno));
  free(path);
  return ok;
}

bool plan_write(const char *outdir, const plan_result *r)
{
  bool ok = plan_write_file(outdir, "plan.csv", r, write_plan_csv);
  ok = plan_write_file(outdir, "plan_load.csv", r, write_load_csv) && ok;
  /* plan.json last: its presence says the others are complete */
  return plan_write_file(outdir, "plan.json", r, write_json) && ok;
}

bool plan_remove_file(const char *outdir, const char *name)
{
  size_t n = strlen(outdir) + strlen(name) + 2;
  char *path = xmalloc(n);
  snprintf(path, n, "%s/%s", outdir, name);
  bool ok = unlink(path) == 0 || errno == ENOENT;
  if (!ok) fprintf(stderr, "clustersim: %s: cannot remove: %s\n", path, strerror(errno));
  free(path);
  return ok;
}
