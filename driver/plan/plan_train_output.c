/* driver/plan/plan_train_output.c: what a training layout plan shows: the
 * summary on standard output, OUTDIR/plan.csv (one row per layout tried,
 * with the reason of a rejected one) and OUTDIR/plan.json (the objective
 * and what it measures, the winner's layout and figures, the scenario's
 * own layout beside it with the gain, the top ten, the counts of layouts
 * tried, with uneven first/last stages, fitting and rejected by reason). Each file is written atomically
 * (plan_write_file), plan.json last; a serving plan's plan_load.csv left
 * in the directory is removed. Knows nothing of the search. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/output/json.h"
#include "driver/plan/plan.h"
#include "driver/plan/plan_train.h"
#include "sim/util.h"

#define GIB 1073741824.0

static const char *objective_name(const plan_train_space *s)
{
  return s->objective == PLAN_TRAIN_COST ? "cost" : "time";
}

static const char *objective_meaning(const plan_train_space *s)
{
  return s->objective == PLAN_TRAIN_COST
           ? "cost_usd: the whole run's GPU-hours (its realistic wall time train_time_s x GPUs) x the GPU's price"
           : "train_time_s: the whole run's realistic wall time (steps, ramp-up, evaluations, stragglers, "
             "checkpoints and failures, on by default: train_whole_run)";
}

/* ---- standard output ---- */

static void print_row(FILE *f, const char *const *names, const plan_train_row *x)
{
  char buf[256];
  fprintf(f, "%s x %d: %s\n", names[x->l.gpu], x->l.gpus, plan_train_describe(&x->l, buf, sizeof buf));
  if (x->ok)
    fprintf(f, "      iteration %.3f s, MFU %.1f%%, %.1f GiB per GPU (margin %.1f), %.2f days, %.0f GPU-hours, "
            "$%.0f\n", x->iteration_s, 100 * x->mfu, x->mem_total_bytes / GIB, x->memory_margin_bytes / GIB,
            x->train_time_s / 86400, x->gpu_hours, x->cost_usd);
  else
    fprintf(f, "      rejected: %s\n", x->reason);
}

void plan_train_print(FILE *f, const plan_train_space *s, const plan_train_result *r, const plan_train_info *in)
{
  fprintf(f, "plan: %s (%s), objective %s\n", in->scenario, in->model, objective_name(s));
  if (r->winner >= 0) {
    const plan_train_row *w = &r->rows[r->winner];
    fputs("  best     ", f);
    print_row(f, in->gpu_names, w);
    fputs("  scenario ", f);
    print_row(f, in->gpu_names, &in->own);
    if (in->own.ok)
      fprintf(f, "  gain: %.2f days (%.1f%%) faster, $%.0f (%.1f%%) cheaper than the scenario's layout\n",
              (in->own.train_time_s - w->train_time_s) / 86400,
              100 * (1 - w->train_time_s / in->own.train_time_s), in->own.cost_usd - w->cost_usd,
              100 * (1 - w->cost_usd / in->own.cost_usd));
  } else {
    fputs("  no layout fits (plan.json: feasible false)\n", f);
    fputs("  scenario ", f);
    print_row(f, in->gpu_names, &in->own);
  }
  fprintf(f, "  layouts tried %d (%d with uneven first/last stages): %d fit", r->nrows, r->uneven, r->fitting);
  for (int i = 0; i < r->nreasons; i++) fprintf(f, ", %d %s", r->reasons[i].count, r->reasons[i].name);
  fprintf(f, "; %ld micro-batch sizes pruned (out of memory at a smaller one); %.2f s\n", r->pruned, in->wall_s);
  for (int i = 1; i < r->ntop && i < 5; i++) {
    fprintf(f, "  #%d       ", i + 1);
    print_row(f, in->gpu_names, &r->rows[r->top[i]]);
  }
}

/* ---- plan.json ---- */

typedef struct {
  const plan_train_space *s;
  const plan_train_result *r;
  const plan_train_info *in;
} files;

/* A layout and its figures (or why it was rejected) as an object's members. */
static void json_row(FILE *f, const char *in, const plan_train_space *s, const char *const *names,
                     const plan_train_row *x)
{
  plan_json_str(f, in, "gpu", names[x->l.gpu], false);
  plan_json_num(f, in, "gpus", x->l.gpus, false);
  for (int d = 0; d < PLAN_DIMS; d++) {
    int v = x->l.v[d];
    if (d == PLAN_DIM_SEQ_PARALLEL && v >= 0)
      plan_json_bool(f, in, plan_train_dim_names[d], v, false);
    else if (d == PLAN_DIM_RECOMPUTE && v >= 0)
      plan_json_str(f, in, plan_train_dim_names[d], train_recompute_names[v], false);
    else if (d == PLAN_DIM_INTERLEAVE && v >= 0)
      plan_json_num(f, in, plan_train_dim_names[d], plan_train_il(v), false);
    else if (d == PLAN_DIM_CP_COMM && v >= 0)
      plan_json_str(f, in, plan_train_dim_names[d], train_cp_comm_names[v], false);
    else if (d == PLAN_DIM_SCHEDULE && v >= 0)
      plan_json_str(f, in, plan_train_dim_names[d], train_schedule_names[v], false);
    else
      plan_json_num(f, in, plan_train_dim_names[d], v >= 0 ? v : NAN, false);
  }
  plan_json_bool(f, in, "uneven_chunks", plan_train_il_uneven(x->l.v[PLAN_DIM_INTERLEAVE]), false);
  plan_json_num(f, in, "recompute_layers",
                x->l.v[PLAN_DIM_RECOMPUTE] == LLM_RECOMPUTE_FULL && x->l.recompute_layers >= 0 ? x->l.recompute_layers
                                                                                              : NAN, false);
  plan_json_num(f, in, "first_stage_layers", x->l.first_stage_layers >= 0 ? x->l.first_stage_layers : NAN, false);
  plan_json_num(f, in, "last_stage_layers", x->l.last_stage_layers >= 0 ? x->l.last_stage_layers : NAN, false);
  plan_json_num(f, in, "usd_per_gpu_hour", s->gpus[x->l.gpu].usd_per_gpu_hour, false);
  plan_json_bool(f, in, "fits", x->ok, false);
  if (!x->ok) {
    plan_json_str(f, in, "category", x->category, false);
    plan_json_str(f, in, "reason", x->reason, true);
    return;
  }
  plan_json_num(f, in, "iteration_s", x->iteration_s, false);
  plan_json_num(f, in, "mfu", x->mfu, false);
  plan_json_num(f, in, "tokens_per_s_per_gpu", x->tokens_per_s_per_gpu, false);
  plan_json_num(f, in, "memory_bytes", x->mem_total_bytes, false);
  plan_json_num(f, in, "memory_margin_bytes", x->memory_margin_bytes, false);
  plan_json_num(f, in, "exposed_comm_time_s", x->exposed_comm_s, false);
  plan_json_num(f, in, "bubble_s", x->bubble_s, false);
  plan_json_num(f, in, "failure_free_time_s", x->failure_free_time_s, false);
  plan_json_num(f, in, "train_time_s", x->train_time_s, false);
  plan_json_num(f, in, "train_days", x->train_time_s / 86400, false);
  plan_json_num(f, in, "gpu_hours", x->gpu_hours, false);
  plan_json_num(f, in, "cost_usd", x->cost_usd, true);
}

static void write_json(FILE *f, const void *arg)
{
  const files *a = arg;
  const plan_train_space *s = a->s;
  const plan_train_result *r = a->r;
  const plan_train_info *in = a->in;
  const plan_train_row *w = r->winner >= 0 ? &r->rows[r->winner] : NULL;
  fputs("{\n", f);
  plan_json_str(f, "  ", "scenario", in->scenario, false);
  plan_json_str(f, "  ", "model", in->model, false);
  plan_json_str(f, "  ", "kind", "training", false);
  plan_json_str(f, "  ", "objective", objective_name(s), false);
  plan_json_str(f, "  ", "objective_meaning", objective_meaning(s), false);
  plan_json_bool(f, "  ", "feasible", w != NULL, false);
  if (!w) {
    char why[1024] = "no layout fits:";
    for (int i = 0; i < r->nreasons; i++) {
      size_t u = strlen(why);
      snprintf(why + u, sizeof why - u, "%s %d %s", i ? "," : "", r->reasons[i].count, r->reasons[i].name);
    }
    plan_json_str(f, "  ", "why_infeasible", why, false);
  }
  plan_json_key(f, "  ", "winner");
  if (w) {
    fputs("{\n", f);
    json_row(f, "    ", s, in->gpu_names, w);
    fputs("  },\n", f);
  } else {
    fputs("null,\n", f);
  }
  plan_json_key(f, "  ", "scenario_layout");
  fputs("{\n", f);
  plan_json_bool(f, "    ", "gpus_searched", in->own_in_space, false);
  json_row(f, "    ", s, in->gpu_names, &in->own);
  fputs("  },\n", f);
  plan_json_key(f, "  ", "gain");
  if (w && in->own.ok) {
    fputs("{\n", f);
    plan_json_num(f, "    ", "train_time_saved_s", in->own.train_time_s - w->train_time_s, false);
    plan_json_num(f, "    ", "train_time_saved_fraction", 1 - w->train_time_s / in->own.train_time_s, false);
    plan_json_num(f, "    ", "speedup", in->own.train_time_s / w->train_time_s, false);
    plan_json_num(f, "    ", "cost_saved_usd", in->own.cost_usd - w->cost_usd, false);
    plan_json_num(f, "    ", "cost_saved_fraction", 1 - w->cost_usd / in->own.cost_usd, true);
    fputs("  },\n", f);
  } else {
    fputs("null,\n", f);
  }
  plan_json_key(f, "  ", "top");
  fputs("[", f);
  for (int i = 0; i < r->ntop; i++) {
    fputs(i ? ",\n    {\n" : "\n    {\n", f);
    json_row(f, "      ", s, in->gpu_names, &r->rows[r->top[i]]);
    fputs("    }", f);
  }
  fputs(r->ntop ? "\n  ],\n" : "],\n", f);
  plan_json_key(f, "  ", "candidates");
  fputs("[", f);
  for (int g = 0; g < s->ngpus; g++) {
    fputs(g ? ",\n    {\n" : "\n    {\n", f);
    plan_json_str(f, "      ", "gpu", in->gpu_names[g], false);
    plan_json_num(f, "      ", "usd_per_gpu_hour", s->gpus[g].usd_per_gpu_hour, false);
    plan_json_str(f, "      ", "price_source", s->gpus[g].price_source, false);
    plan_json_str(f, "      ", "links", s->gpus[g].as_written ? "as written" : "the GPU's defaults", true);
    fputs("    }", f);
  }
  fputs("\n  ],\n", f);
  plan_json_key(f, "  ", "gpu_counts");
  fputs("[", f);
  for (int c = 0; c < s->ncounts; c++) fprintf(f, "%s%d", c ? ", " : "", s->counts[c]);
  fputs("],\n", f);
  plan_json_key(f, "  ", "zero_stages");
  fputs("[", f);
  for (int z = 0; z < s->nzeros; z++) fprintf(f, "%s%d", z ? ", " : "", s->zeros[z]);
  fputs("],\n", f);
  plan_json_key(f, "  ", "pipeline_schedules");
  fputs(s->zero_bubble ? "[\"1f1b\", \"zb-h1\"],\n" : "[\"1f1b\"],\n", f);
  plan_json_key(f, "  ", "dp_shards");
  if (s->dp_shard > 0 && s->zeros[s->nzeros - 1] >= 1)
    fprintf(f, "[0, %d],\n", s->dp_shard);
  else
    fputs("[0],\n", f);
  plan_json_num(f, "  ", "layouts_tried", r->nrows, false);
  plan_json_num(f, "  ", "layouts_uneven", r->uneven, false);
  plan_json_str(f, "  ", "stage_splits", "for each pp: the even split when pp divides the layers and, with pp > 2, "
                "for the 3 largest totals T = first + last that leave the middle stages an equal share, first = "
                "ceil(T / 2) + d and last = T - first for d = 0, 1, each end below ceil(layers / pp) "
                "(Megatron-Core's first/last stage layers; the last stage no heavier: it runs the output layer)",
                false);
  plan_json_num(f, "  ", "layouts_fit", r->fitting, false);
  plan_json_key(f, "  ", "rejected");
  fputs("{", f);
  for (int i = 0; i < r->nreasons; i++) {
    fputs(i ? ", " : "", f);
    out_json_string(f, r->reasons[i].name);
    fprintf(f, ": %d", r->reasons[i].count);
  }
  fputs("},\n", f);
  plan_json_num(f, "  ", "micro_batches_pruned", (double)r->pruned, false);
  plan_json_str(f, "  ", "pruning", "once a micro-batch size is out of memory at every setting after it "
                "(interleaving, ZeRO, recomputation, the context-parallel exchange, the pipeline schedule and the shard group), the larger ones are not tried: activation memory grows "
                "with the micro-batch", false);
  plan_json_num(f, "  ", "wall_s", in->wall_s, true);
  fputs("}\n", f);
}

/* ---- plan.csv ---- */

static void csv_num(FILE *f, double v, bool ok)
{
  if (ok && isfinite(v))
    fprintf(f, ",%.10g", v);
  else
    fputs(",", f);
}

static void write_csv(FILE *f, const void *arg)
{
  const files *a = arg;
  const plan_train_result *r = a->r;
  fputs("gpu,gpus", f);
  /* the columns as 0.x wrote them, then the later ones (dp_shard last) */
  for (int d = 0; d < PLAN_DIM_CP_COMM; d++) fprintf(f, ",%s", plan_train_dim_names[d]);
  fputs(",recompute_layers,fits,iteration_s,mfu,tokens_per_s_per_gpu,memory_gib,memory_margin_gib,"
        "failure_free_time_s,train_time_s,gpu_hours,cost_usd,reason,first_stage_layers,last_stage_layers,"
        "uneven_chunks,cp_comm_type,pipeline_schedule,dp_shard\n", f);
  for (int i = 0; i < r->nrows; i++) {
    const plan_train_row *x = &r->rows[i];
    fprintf(f, "%s,%d", a->in->gpu_names[x->l.gpu], x->l.gpus);
    for (int d = 0; d < PLAN_DIM_CP_COMM; d++) {
      int v = x->l.v[d];
      if (v < 0)
        fputs(",", f);
      else if (d == PLAN_DIM_RECOMPUTE)
        fprintf(f, ",%s", train_recompute_names[v]);
      else
        fprintf(f, ",%d", d == PLAN_DIM_INTERLEAVE ? plan_train_il(v) : v);
    }
    bool full = x->l.v[PLAN_DIM_RECOMPUTE] == LLM_RECOMPUTE_FULL && x->l.recompute_layers >= 0;
    if (full)
      fprintf(f, ",%d", x->l.recompute_layers);
    else
      fputs(",", f);
    fprintf(f, ",%d", x->ok ? 1 : 0);
    csv_num(f, x->iteration_s, x->ok);
    csv_num(f, x->mfu, x->ok);
    csv_num(f, x->tokens_per_s_per_gpu, x->ok);
    csv_num(f, x->mem_total_bytes / GIB, x->mem_total_bytes > 0);
    csv_num(f, x->memory_margin_bytes / GIB, x->mem_total_bytes > 0);
    csv_num(f, x->failure_free_time_s, x->ok);
    csv_num(f, x->train_time_s, x->ok);
    csv_num(f, x->gpu_hours, x->ok);
    csv_num(f, x->cost_usd, x->ok);
    char reason[300];
    plan_csv_reason(x->ok ? "" : x->reason, reason, sizeof reason);
    fprintf(f, ",%s", reason);
    /* uneven stages: after every earlier column (0: even; empty: pp not reached) */
    if (x->l.first_stage_layers >= 0)
      fprintf(f, ",%d,%d", x->l.first_stage_layers, x->l.last_stage_layers);
    else
      fputs(",,", f);
    /* uneven chunks: 1 or 0 (empty: interleaving not reached) */
    if (x->l.v[PLAN_DIM_INTERLEAVE] >= 0)
      fprintf(f, ",%d", plan_train_il_uneven(x->l.v[PLAN_DIM_INTERLEAVE]));
    else
      fputs(",", f);
    /* the context-parallel exchange (empty: not reached) */
    fprintf(f, ",%s", x->l.v[PLAN_DIM_CP_COMM] >= 0 ? train_cp_comm_names[x->l.v[PLAN_DIM_CP_COMM]] : "");
    /* the pipeline schedule (empty: not reached) */
    fprintf(f, ",%s", x->l.v[PLAN_DIM_SCHEDULE] >= 0 ? train_schedule_names[x->l.v[PLAN_DIM_SCHEDULE]] : "");
    /* the shard group (0: every dp x cp rank; empty: not reached) */
    if (x->l.v[PLAN_DIM_SHARD] >= 0)
      fprintf(f, ",%d\n", x->l.v[PLAN_DIM_SHARD]);
    else
      fputs(",\n", f);
  }
}

bool plan_train_write(const char *outdir, const plan_train_space *s, const plan_train_result *r,
                      const plan_train_info *in)
{
  files a = {s, r, in};
  bool ok = plan_write_file(outdir, "plan.csv", &a, write_csv);
  /* an earlier serving plan's load curve is not this plan's */
  ok = plan_remove_file(outdir, "plan_load.csv") && ok;
  /* plan.json last: its presence says plan.csv is complete */
  return ok && plan_write_file(outdir, "plan.json", &a, write_json);
}
