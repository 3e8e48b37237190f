/* driver/plan/plan_train.h: `clustersim plan` on a training scenario (a
 * `training` section): the fastest (or cheapest) parallel layout of the
 * run that fits, searched over a table of dimensions (tp, pp, dp derived
 * from the GPU count, cp, ep, micro-batch, interleaving, ZeRO stage, sequence
 * parallelism, recomputation) with the training model's pure functions
 * (train_job_check, train_memory_need, train_step, train_run,
 * train_whole_run); every layout's figures or why it was rejected.
 *   plan_train.c          the space, one layout's evaluation, the search
 *   plan_train_scenario.c the scenario read into a space, prices, the command
 *   plan_train_output.c   the summary, plan.json and plan.csv
 * Shared by those files and the planner's tests; nothing else. */
#ifndef DRIVER_PLAN_PLAN_TRAIN_H
#define DRIVER_PLAN_PLAN_TRAIN_H

#include <stdbool.h>
#include <stdio.h>

#include "models/training/train.h"

#define PLAN_TRAIN_MAX_GPUS 8    /* GPU types */
#define PLAN_TRAIN_MAX_COUNTS 16 /* GPU counts */
#define PLAN_TRAIN_MAX_VALUES 64 /* candidate values of one dimension */
#define PLAN_TRAIN_MAX_REASONS 16
#define PLAN_TRAIN_MAX_UNEVEN 3  /* totals first + last of uneven stage splits tried per pp (the largest) */
#define PLAN_TRAIN_MAX_SPLITS (1 + 2 * PLAN_TRAIN_MAX_UNEVEN)  /* stage splits per pp: even + 2 per total */
/* An interleave value (layout.v[PLAN_DIM_INTERLEAVE]) with this bit runs
 * uneven chunks (train_job.uneven_chunks): the virtual stages v & ~it.
 * The search tries v = 2, 3, 4 so where they do not divide every stage's
 * layers (plan_train_il_uneven). */
#define PLAN_IL_UNEVEN (1 << 20)
static inline int plan_train_il(int v) { return v & ~PLAN_IL_UNEVEN; }
static inline int plan_train_il_uneven(int v) { return v >= 0 && (v & PLAN_IL_UNEVEN) != 0; }

typedef enum { PLAN_TRAIN_TIME, PLAN_TRAIN_COST } plan_train_objective;

/* The dimensions of a layout, in search order (see plan_train.c's table).
 * A context- or expert-parallel degree is one more entry each; then the
 * context-parallel exchange (ring or Ulysses, TRAIN_CP_*), the pipeline
 * schedule (TRAIN_SCHEDULE_*) and ZeRO's shard group (0: every dp x cp
 * rank), the last. */
typedef enum {
  PLAN_DIM_TP, PLAN_DIM_CP, PLAN_DIM_PP, PLAN_DIM_DP, PLAN_DIM_EP, PLAN_DIM_MICRO_BATCH, PLAN_DIM_INTERLEAVE,
  PLAN_DIM_ZERO, PLAN_DIM_SEQ_PARALLEL, PLAN_DIM_RECOMPUTE, PLAN_DIM_CP_COMM, PLAN_DIM_SCHEDULE,
  PLAN_DIM_SHARD, PLAN_DIMS
} plan_train_dim;
/* The dimensions' names (CSV columns, JSON keys), by plan_train_dim. */
extern const char *const plan_train_dim_names[PLAN_DIMS];

/* One candidate GPU type: its job (model, links, node, everything but the
 * layout) and its price. */
typedef struct {
  train_job base;           /* layout fields are overwritten by the search */
  double usd_per_gpu_hour;  /* NaN: unknown */
  const char *price_source; /* "--gpu-price", "training.usd_per_gpu_hour", "catalog" or "none" (static) */
  bool as_written;          /* the scenario's GPU with its links as written */
} plan_train_gpu;

/* What the search explores. The caller owns everything it points to. */
typedef struct {
  plan_train_gpu gpus[PLAN_TRAIN_MAX_GPUS];
  int ngpus;
  int counts[PLAN_TRAIN_MAX_COUNTS];  /* GPU counts, ascending */
  int ncounts;
  int tps[PLAN_TRAIN_MAX_VALUES];     /* tp candidates; 0 of them: powers of two up to the node */
  int ntps;
  int zeros[4];                       /* ZeRO stages, ascending */
  int nzeros;
  double train_tokens;
  train_whole whole;                  /* the scenario's whole-run settings */
  plan_train_objective objective;
  bool prune;                         /* skip micro-batches known to be out of memory (default on) */
  bool zero_bubble;                   /* also ZB-H1 where pp > 1 (the scenario's pipeline_schedule is zb-h1) */
  int dp_shard;                       /* > 0: also this shard group, where ZeRO shards (the scenario's dp_shard) */
} plan_train_space;

/* A layout: the values of every dimension (-1: not reached, the layout was
 * rejected at an earlier one), its GPU type and count. */
typedef struct {
  int gpu, gpus;
  int v[PLAN_DIMS];
  int recompute_layers;     /* with full recomputation: layers per chunk (0: all) */
  int first_stage_layers, last_stage_layers;  /* uneven stages (0: even; -1: pp not reached) */
} plan_train_layout;

/* One layout evaluated: its figures, or why it was rejected. */
typedef struct {
  plan_train_layout l;
  bool ok;
  bool fits_memory;         /* passed the memory check (ok, or rejected after it) */
  const char *category;     /* rejected: the reason's category (static), counted in plan.json */
  char reason[256];         /* rejected: the reason in full */
  double iteration_s, mfu, tokens_per_s_per_gpu, mem_total_bytes, memory_margin_bytes;
  double failure_free_time_s, train_time_s, gpu_hours, cost_usd, exposed_comm_s, bubble_s;
  double objective;         /* train_time_s or cost_usd: smaller is better */
} plan_train_row;

typedef struct {
  const char *name;
  int count;
} plan_train_reason;

typedef struct {
  plan_train_row *rows;     /* every layout tried, in search order (owned) */
  int nrows, cap;
  int winner;               /* index into rows of the best layout that fits, -1 none */
  int top[10];              /* the ten best, rows indices */
  int ntop;
  plan_train_reason reasons[PLAN_TRAIN_MAX_REASONS];
  int nreasons;
  int fitting;              /* rows that fit */
  long pruned;              /* micro-batch values skipped: a smaller one was out of memory at every setting */
  int uneven;               /* rows with uneven first/last stages */
} plan_train_result;

/* ---- plan_train.c ---- */

/* Evaluate layout l of space s into row (a pure function of them):
 * train_job_check, memory (with full recomputation the fewest layers per
 * chunk that fit), train_step, train_run and train_whole_run. */
void plan_train_eval(const plan_train_space *s, const plan_train_layout *l, plan_train_row *row);
/* Whether a beats b under the objective (both ok): smaller objective
 * (relative 1e-12), then the other figure (cost or time), then fewer GPUs,
 * then the earlier layout (rows keep search order: the caller's tie). */
bool plan_train_better(const plan_train_space *s, const plan_train_row *a, const plan_train_row *b);
/* Search every layout of s into r (zeroed by the caller): rows, counts,
 * the winner and the top ten. */
void plan_train_search(const plan_train_space *s, plan_train_result *r);
void plan_train_result_release(plan_train_result *r);
/* The job of layout l on its GPU type (the fields the layout sets). */
void plan_train_job(const plan_train_space *s, const plan_train_layout *l, train_job *j);
/* The stage splits the search tries for `layers` on pp stages, into
 * first[] and last[] (at most PLAN_TRAIN_MAX_SPLITS): 0 / 0 (even) when pp
 * divides the layers; then, with pp > 2, for the PLAN_TRAIN_MAX_UNEVEN
 * largest totals T = first + last that leave the pp - 2 middle stages an
 * equal share of at least one layer, first = ceil(T / 2) + d and last = T -
 * first for d = 0, 1 (the last stage no heavier: it also runs the output
 * layer and the loss), each end at least 1 and below ceil(layers / pp);
 * returns how many. */
int plan_train_stage_splits(int layers, int pp, int *first, int *last);

/* ---- plan_train_output.c ---- */

/* What the outputs say beside the search. */
typedef struct {
  const char *scenario, *model, *file;
  const char *const *gpu_names;  /* by space gpu index */
  plan_train_row own;            /* the scenario's own layout */
  bool own_in_space;             /* its GPU type and count are candidates (plan.json: gpus_searched) */
  double wall_s;
} plan_train_info;

void plan_train_print(FILE *f, const plan_train_space *s, const plan_train_result *r, const plan_train_info *in);
/* OUTDIR/plan.csv then OUTDIR/plan.json, each atomically; false with a
 * message on error. */
bool plan_train_write(const char *outdir, const plan_train_space *s, const plan_train_result *r,
                      const plan_train_info *in);
/* "tp 8 pp 4 dp 64 mb 1 v 1 zero 0 sp on recompute selective" into buf;
 * with uneven stages " (first 7 last 7 layers)" follows pp's value. */
const char *plan_train_describe(const plan_train_layout *l, char *buf, size_t n);

#endif
