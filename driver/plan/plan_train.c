/* driver/plan/plan_train.c: the training layout planner's search (see
 * plan_train.h). Owns the table of dimensions a layout is made of, one
 * layout's evaluation (check, memory, iteration, whole run: pure functions
 * of models/training/train.h, no event simulation) and the search over
 * every GPU type x GPU count x layout, with its pruning. Knows nothing of
 * files, options or output.
 *
 * The search walks the dimensions in table order, depth first. After each
 * dimension is set the job is checked (train_job_check) with the later
 * dimensions at neutral values: a failure that the dimensions set so far
 * cause (heads not divisible by tp) rejects the partial layout as one row,
 * and its subtree is not walked. Candidate values follow published layout
 * studies (Narayanan et al. 2021, "Efficient Large-Scale Language Model
 * Training on GPU Clusters Using Megatron-LM", sec. 3; Megatron-Core's and
 * NeMo's auto-configurators): tp powers of two within a node, pp dividing
 * the layers, and for each pp > 2 uneven splits with lighter end stages
 * (plan_train_stage_splits: for the PLAN_TRAIN_MAX_UNEVEN largest totals
 * first + last, first the larger half of the total or one layer more; Megatron-Core's
 * num_layers_in_first/last_pipeline_stage: the first stage also holds the
 * embedding, the last the output layer and the loss, so lighter end stages
 * can balance the pipeline; a pp that does not divide the layers is tried
 * through them alone),
 * cp 1, 2, 4, 8 (context parallelism), dp = GPUs / (tp x cp x pp), ep
 * the powers of two dividing the experts and dp x cp (MoE models only),
 * micro-batches dividing global batch / dp,
 * interleaving by virtual stages that divide every stage's layers with the
 * micro-batches a multiple of pp, the scenario's ZeRO stages, sequence
 * parallelism on with tp > 1 (it only saves memory and element-wise time
 * in the model), and recomputation none, selective or full on the fewest
 * layers per chunk that fit (more recomputed layers only add time), and
 * with cp > 1 the context-parallel exchange: the ring, and Ulysses where
 * the heads split over cp.
 * Pruning: activation memory grows with the micro-batch at every other
 * setting, so once a micro-batch is out of memory at every setting of the
 * dimensions after it, the larger ones are skipped (counted as pruned).
 * One process: the shipped scenarios' searches (900-5,000 layouts with the
 * uneven splits) take under 0.5 s, so worker processes (-j) would not pay. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "driver/plan/plan_train.h"
#include "sim/util.h"

#define GIB 1073741824.0

const char *const plan_train_dim_names[PLAN_DIMS] = {"tp", "cp", "pp", "dp", "ep", "micro_batch", "interleave",
                                                     "zero", "seq_parallel", "recompute", "cp_comm_type",
                                                     "pipeline_schedule", "dp_shard"};

/* ---- the dimensions ---- */

/* A dimension: its candidate values once the earlier ones are set in j
 * (the layout so far in l); 0 values rejects the partial layout, with the
 * category and reason said. set writes a value into a job; neutral is the
 * value a later dimension has while an earlier one is checked. */
typedef struct {
  int (*values)(const plan_train_space *s, const train_job *j, const plan_train_layout *l, int *v,
                const char **cat, char *why, size_t n);
  void (*set)(train_job *j, int v);
  int neutral;
} dim_type;

static int divisors(long n, long cap, int *v)
{
  int k = 0;
  for (long d = 1; d <= n && d <= cap && k < PLAN_TRAIN_MAX_VALUES; d++)
    if (n % d == 0) v[k++] = (int)d;
  return k;
}

static int tp_values(const plan_train_space *s, const train_job *j, const plan_train_layout *l, int *v,
                     const char **cat, char *why, size_t n)
{
  int k = 0;
  if (s->ntps) {
    for (int i = 0; i < s->ntps; i++)
      if (l->gpus % s->tps[i] == 0) v[k++] = s->tps[i];
  } else {
    for (int t = 1; t <= j->gpus_per_node && t <= l->gpus && k < PLAN_TRAIN_MAX_VALUES; t *= 2)
      if (l->gpus % t == 0) v[k++] = t;
  }
  if (!k) *cat = "no tp divides the GPUs", snprintf(why, n, "no tp candidate divides %d GPUs", l->gpus);
  return k;
}
static void tp_set(train_job *j, int v) { j->tp = v; }

/* cp: 1, 2, 4, 8 ranks a sequence is split over (ring attention), as
 * the GPUs allow; train_cpep_check (in train_job_check) rejects a
 * sequence that does not split. */
static int cp_values(const plan_train_space *s, const train_job *j, const plan_train_layout *l, int *v,
                     const char **cat, char *why, size_t n)
{
  int k = 0;
  for (int c = 1; c <= 8 && (l->gpus / j->tp) % c == 0; c *= 2) v[k++] = c;
  return k;
}
static void cp_set(train_job *j, int v) { j->cp = v; }

int plan_train_stage_splits(int layers, int pp, int *first, int *last)
{
  int n = 0;
  if (pp < 1 || pp > layers) return 0;
  if (layers % pp == 0) first[n] = last[n] = 0, n++;
  if (pp < 3) return n;   /* pp 2: first + last = all the layers, the even split */
  int top = (layers + pp - 1) / pp - 1, totals = 0;
  for (int t = 2 * top; t >= 2 && totals < PLAN_TRAIN_MAX_UNEVEN; t--) {
    int rest = layers - t;
    if (rest % (pp - 2) != 0 || rest / (pp - 2) < 1) continue;
    totals++;
    for (int d = 0; d <= 1; d++) {
      int a = (t + 1) / 2 + d, b = t - a;
      if (b >= 1 && a <= top) first[n] = a, last[n] = b, n++;
    }
  }
  return n;
}

static int pp_values(const plan_train_space *s, const train_job *j, const plan_train_layout *l, int *v,
                     const char **cat, char *why, size_t n)
{
  int k = 0, per = l->gpus / (j->tp * j->cp), fs[PLAN_TRAIN_MAX_SPLITS], ls[PLAN_TRAIN_MAX_SPLITS];
  long layers = (long)j->model->layers;
  for (long d = 1; d <= layers && d <= per && k < PLAN_TRAIN_MAX_VALUES; d++)
    if (per % d == 0 && plan_train_stage_splits((int)layers, (int)d, fs, ls) > 0) v[k++] = (int)d;
  if (!k)
    *cat = "no pp divides the layers and GPUs",
    snprintf(why, n, "no pp divides %ld layers (evenly or with uneven first/last stages) and %d GPUs / tp", layers,
             l->gpus);
  return k;
}
static void pp_set(train_job *j, int v) { j->pp = v; }

/* dp: what the GPU count leaves once every model-parallel degree is set
 * (train_job_gpus of the job at dp 1: a context-parallel degree counts). */
static int dp_values(const plan_train_space *s, const train_job *j, const plan_train_layout *l, int *v,
                     const char **cat, char *why, size_t n)
{
  train_job one = *j;
  one.dp = 1;
  int per = train_job_gpus(&one);
  if (l->gpus % per) {
    *cat = "GPUs not divisible";
    snprintf(why, n, "%d GPUs are not a whole number of model-parallel groups of %d", l->gpus, per);
    return 0;
  }
  v[0] = l->gpus / per;
  return 1;
}
static void dp_set(train_job *j, int v) { j->dp = v; }

/* ep: with routed experts, the powers of two dividing the experts and dp x
 * cp (Megatron-Core's rule); 1 for a dense model. */
static int ep_values(const plan_train_space *s, const train_job *j, const plan_train_layout *l, int *v,
                     const char **cat, char *why, size_t n)
{
  int k = 0;
  long experts = j->model->experts > 1 ? (long)j->model->experts : 1;
  for (long e = 1; e <= experts && k < PLAN_TRAIN_MAX_VALUES; e *= 2)
    if (experts % e == 0 && ((long)j->dp * j->cp) % e == 0) v[k++] = (int)e;
  return k;
}
static void ep_set(train_job *j, int v) { j->ep = v; }

static int mb_values(const plan_train_space *s, const train_job *j, const plan_train_layout *l, int *v,
                     const char **cat, char *why, size_t n)
{
  if (j->global_batch % j->dp) {
    *cat = "global batch not divisible";
    snprintf(why, n, "global batch %d does not divide over dp %d", j->global_batch, j->dp);
    return 0;
  }
  return divisors(j->global_batch / j->dp, j->global_batch, v);
}
static void mb_set(train_job *j, int v) { j->micro_batch = v; }

static int gcd(int a, int b) { return b ? gcd(b, a % b) : a; }

/* v: the divisors of every stage's layers (first, middle, last). */
static int il_values(const plan_train_space *s, const train_job *j, const plan_train_layout *l, int *v,
                     const char **cat, char *why, size_t n)
{
  v[0] = 1;
  if (j->pp < 2 || train_micro_batches(j) % j->pp) return 1;
  int g = gcd(gcd(train_stage_layers(j, 0), train_stage_layers(j, j->pp / 2)), train_stage_layers(j, j->pp - 1));
  int k = divisors(g, (long)j->model->layers, v);
  if (!k) v[k++] = 1;
  /* uneven chunks (Megatron-Core's pipeline layout): 2, 3, 4 virtual stages
   * where they do not divide every stage's layers, each stage holding at
   * least one layer per chunk */
  int least = train_stage_layers(j, 0);
  for (int st = 1; st < j->pp; st++)
    if (train_stage_layers(j, st) < least) least = train_stage_layers(j, st);
  for (int u = 2; u <= 4 && u <= least && k < PLAN_TRAIN_MAX_VALUES; u++)
    if (g % u != 0) v[k++] = u | PLAN_IL_UNEVEN;
  return k;
}
static void il_set(train_job *j, int v)
{
  j->interleave = plan_train_il(v);
  j->uneven_chunks = plan_train_il_uneven(v);
}

static int zero_values(const plan_train_space *s, const train_job *j, const plan_train_layout *l, int *v,
                       const char **cat, char *why, size_t n)
{
  for (int i = 0; i < s->nzeros; i++) v[i] = s->zeros[i];
  return s->nzeros;
}
static void zero_set(train_job *j, int v) { j->zero = v; }

static int sp_values(const plan_train_space *s, const train_job *j, const plan_train_layout *l, int *v,
                     const char **cat, char *why, size_t n)
{
  v[0] = j->tp > 1;
  return 1;
}
static void sp_set(train_job *j, int v) { j->seq_parallel = v != 0; }

static int rc_values(const plan_train_space *s, const train_job *j, const plan_train_layout *l, int *v,
                     const char **cat, char *why, size_t n)
{
  v[0] = LLM_RECOMPUTE_NONE;
  v[1] = LLM_RECOMPUTE_SELECTIVE;
  v[2] = LLM_RECOMPUTE_FULL;
  return 3;
}
static void rc_set(train_job *j, int v)
{
  j->recompute = v;
  j->recompute_layers = 0;
}

/* The context-parallel exchange: the ring, and Ulysses' all-to-all where
 * the heads split over cp (the layout is whole here: checked as a whole). */
static int cpc_values(const plan_train_space *s, const train_job *j, const plan_train_layout *l, int *v,
                      const char **cat, char *why, size_t n)
{
  int k = 0;
  v[k++] = TRAIN_CP_P2P;
  if (j->cp > 1) {
    train_job t = *j;
    t.cp_comm = TRAIN_CP_A2A;
    char msg[256];
    const char *bad = train_job_check(&t, msg, sizeof msg);
    /* DualPipe's needs are the whole layout's (as in descend) */
    if (!bad || !strcmp(bad, "dualpipe")) v[k++] = TRAIN_CP_A2A;
  }
  return k;
}
static void cpc_set(train_job *j, int v) { j->cp_comm = v; }

/* The pipeline schedule: 1F1B, and ZB-H1 where the scenario allows it and
 * there is a pipeline to fill (not with DualPipe, its own schedule). */
static int sched_values(const plan_train_space *s, const train_job *j, const plan_train_layout *l, int *v,
                        const char **cat, char *why, size_t n)
{
  int k = 0;
  v[k++] = TRAIN_SCHEDULE_1F1B;
  if (s->zero_bubble && j->pp > 1 && !j->dualpipe) v[k++] = TRAIN_SCHEDULE_ZB_H1;
  return k;
}
static void sched_set(train_job *j, int v) { j->schedule = v; }

/* ZeRO's shard group: every dp x cp rank, and the scenario's group where
 * the state is sharded (ZeRO >= 1), the group is smaller and ep divides
 * it (each group holds every expert). The layout is whole here:
 * a group that does not divide it or would straddle nodes is checked with
 * it and rejected, by name. */
static int shard_values(const plan_train_space *s, const train_job *j, const plan_train_layout *l, int *v,
                        const char **cat, char *why, size_t n)
{
  int k = 0;
  v[k++] = 0;
  if (s->dp_shard > 0 && j->zero >= 1 && s->dp_shard % j->ep == 0 && s->dp_shard < train_grad_ranks(j))
    v[k++] = s->dp_shard;
  return k;
}
static void shard_set(train_job *j, int v) { j->dp_shard = v; }

/* By plan_train_dim. ZeRO's neutral is 1: an optimizer offload needs >= 1,
 * context and expert parallelism <= 2. */
static const dim_type dims[PLAN_DIMS] = {
  [PLAN_DIM_TP] = {tp_values, tp_set, 1},
  [PLAN_DIM_CP] = {cp_values, cp_set, 1},
  [PLAN_DIM_PP] = {pp_values, pp_set, 1},
  [PLAN_DIM_DP] = {dp_values, dp_set, 1},
  [PLAN_DIM_EP] = {ep_values, ep_set, 1},
  [PLAN_DIM_MICRO_BATCH] = {mb_values, mb_set, 1},
  [PLAN_DIM_INTERLEAVE] = {il_values, il_set, 1},
  [PLAN_DIM_ZERO] = {zero_values, zero_set, 1},
  [PLAN_DIM_SEQ_PARALLEL] = {sp_values, sp_set, 0},
  [PLAN_DIM_RECOMPUTE] = {rc_values, rc_set, LLM_RECOMPUTE_NONE},
  [PLAN_DIM_CP_COMM] = {cpc_values, cpc_set, TRAIN_CP_P2P},
  [PLAN_DIM_SCHEDULE] = {sched_values, sched_set, TRAIN_SCHEDULE_1F1B},
  [PLAN_DIM_SHARD] = {shard_values, shard_set, 0},
};

void plan_train_job(const plan_train_space *s, const plan_train_layout *l, train_job *j)
{
  *j = s->gpus[l->gpu].base;
  for (int d = 0; d < PLAN_DIMS; d++) dims[d].set(j, l->v[d] >= 0 ? l->v[d] : dims[d].neutral);
  j->first_stage_layers = l->first_stage_layers > 0 ? l->first_stage_layers : 0;
  j->last_stage_layers = l->last_stage_layers > 0 ? l->last_stage_layers : 0;
  if (j->recompute == LLM_RECOMPUTE_FULL && l->recompute_layers > 0) j->recompute_layers = l->recompute_layers;
}

/* ---- one layout ---- */

/* The category of a train_job_check failure (field bad, message msg). */
static const char *check_category(const char *bad, const char *msg)
{
  if (!strcmp(bad, "tp")) return strstr(msg, "heads") ? "heads not divisible by tp" : "tp exceeds a node";
  if (strstr(msg, "do not split")) return "layers not divisible by pp x interleave";
  if (!strcmp(bad, "interleave")) return "interleaving not possible";
  if (!strcmp(bad, "global_batch")) return "global batch not divisible";
  if (!strcmp(bad, "cp")) return strstr(msg, "flash") ? "cp needs FlashAttention" : "sequence not divisible by 2 x cp";
  if (!strcmp(bad, "cp_comm_type")) return "heads per tp rank not divisible by cp (a2a)";
  if (!strcmp(bad, "ep")) return "ep does not divide";
  if (!strcmp(bad, "zero") && strstr(msg, "ZeRO 3")) return "ZeRO 3 with DualPipe";
  if (!strcmp(bad, "dp_shard"))
    return strstr(msg, "straddle")  ? "shard group straddles nodes"
         : strstr(msg, "ZeRO")      ? "shard group without ZeRO"
         : strstr(msg, "expert")    ? "shard group with ep"
                                    : "shard group does not divide dp x cp";
  return bad;   /* a field name: static */
}

static void reject(plan_train_row *row, const char *cat, const char *fmt, const char *text)
{
  row->ok = false;
  row->category = cat;
  snprintf(row->reason, sizeof row->reason, fmt, text);
}

void plan_train_eval(const plan_train_space *s, const plan_train_layout *l, plan_train_row *row)
{
  memset(row, 0, sizeof *row);
  row->l = *l;
  const plan_train_gpu *g = &s->gpus[l->gpu];
  train_job j;
  plan_train_job(s, l, &j);
  bool fewest = j.recompute == LLM_RECOMPUTE_FULL && l->recompute_layers < 0;
  char msg[256];
  const char *bad = train_job_check(&j, msg, sizeof msg);
  if (bad) {
    reject(row, check_category(bad, msg), "%s", msg);
    return;
  }
  train_memory mem;
  bool fits;
  if (j.recompute == TRAIN_RECOMPUTE_AUTO) {
    fits = train_job_fit(&j, &mem);
  } else if (fewest) {
    /* the fewest layers of each chunk recomputed in full that fit */
    int chunk = train_chunk_layers(&j);
    fits = false;
    for (int k = 1; k <= chunk && !fits; k++) {
      j.recompute_layers = k == chunk ? 0 : k;
      train_memory_need(&j, &mem);
      fits = mem.fits;
    }
  } else {
    train_memory_need(&j, &mem);
    fits = mem.fits;
  }
  row->l.v[PLAN_DIM_RECOMPUTE] = j.recompute;
  row->l.recompute_layers = j.recompute == LLM_RECOMPUTE_FULL ? j.recompute_layers : 0;
  row->mem_total_bytes = mem.total;
  row->memory_margin_bytes = mem.margin_bytes;
  if (!fits) {
    row->ok = false;
    row->category = "out of memory";
    snprintf(row->reason, sizeof row->reason, "out of memory by %.2f GiB (needs %.2f of %.2f GiB)",
             mem.short_bytes / GIB, mem.total / GIB, mem.capacity / GIB);
    return;
  }
  row->fits_memory = true;
  train_step_result st;
  train_step(&j, &st);
  train_run_result run;
  train_run(&j, &st, s->train_tokens, g->usd_per_gpu_hour, &run);
  train_whole_result w;
  bad = train_whole_run(&j, &st, &run, &s->whole, &w, msg, sizeof msg);
  if (bad) {
    reject(row, "ramp-up does not fit the layout", "%s", msg);
    return;
  }
  row->ok = true;
  row->iteration_s = st.iteration_s;
  row->mfu = st.mfu;
  row->tokens_per_s_per_gpu = st.tokens_per_s_per_gpu;
  row->exposed_comm_s = st.exposed_comm_s;
  row->bubble_s = st.bubble_s;
  row->failure_free_time_s = w.failure_free_s;
  row->train_time_s = w.time_s;
  row->gpu_hours = w.time_s * train_job_gpus(&j) / 3600;
  row->cost_usd = row->gpu_hours * g->usd_per_gpu_hour;
  row->objective = s->objective == PLAN_TRAIN_COST ? row->cost_usd : row->train_time_s;
}

/* a before b by more than a relative 1e-12 (NaN: neither). */
static int cmp_rel(double a, double b)
{
  if (isnan(a) || isnan(b)) return 0;
  double tol = 1e-12 * fmax(fabs(a), fabs(b));
  return a < b - tol ? -1 : b < a - tol ? 1 : 0;
}

bool plan_train_better(const plan_train_space *s, const plan_train_row *a, const plan_train_row *b)
{
  int c = cmp_rel(a->objective, b->objective);
  if (!c) c = s->objective == PLAN_TRAIN_COST ? cmp_rel(a->train_time_s, b->train_time_s)
                                              : cmp_rel(a->cost_usd, b->cost_usd);
  if (!c) c = (a->l.gpus > b->l.gpus) - (a->l.gpus < b->l.gpus);
  return c < 0;
}

/* ---- the search ---- */

typedef struct {
  const plan_train_space *s;
  plan_train_result *r;
  plan_train_layout l;
  train_job j;              /* the job of l so far, later dimensions neutral */
} walk;

static int reason_slot(plan_train_result *r, const char *cat)
{
  for (int i = 0; i < r->nreasons; i++)
    if (!strcmp(r->reasons[i].name, cat)) return i;
  SIM_ASSERT(r->nreasons < PLAN_TRAIN_MAX_REASONS);
  r->reasons[r->nreasons] = (plan_train_reason){cat, 0};
  return r->nreasons++;
}

static plan_train_row *new_row(plan_train_result *r)
{
  if (r->nrows == r->cap) {
    r->cap = r->cap ? 2 * r->cap : 1024;
    r->rows = xrealloc(r->rows, (size_t)r->cap * sizeof *r->rows);
  }
  return &r->rows[r->nrows++];
}

static void count(plan_train_result *r, const plan_train_row *row)
{
  r->uneven += row->l.first_stage_layers > 0 || row->l.last_stage_layers > 0;
  if (row->ok)
    r->fitting++;
  else
    r->reasons[reason_slot(r, row->category)].count++;
}

/* What a subtree held: leaves that passed the memory check, that did not. */
typedef struct {
  long fit, oom;
} tally;

static void descend(walk *w, int d, tally *t)
{
  plan_train_result *r = w->r;
  if (d == PLAN_DIMS) {
    plan_train_row *row = new_row(r);
    plan_train_eval(w->s, &w->l, row);
    count(r, row);
    t->fit += row->fits_memory;
    t->oom += !row->ok && !strcmp(row->category, "out of memory");
    return;
  }
  int v[PLAN_TRAIN_MAX_VALUES];
  const char *cat = NULL;
  char why[256];
  int n = dims[d].values(w->s, &w->j, &w->l, v, &cat, why, sizeof why);
  if (n == 0) {
    plan_train_row *row = new_row(r);
    memset(row, 0, sizeof *row);
    row->l = w->l;
    reject(row, cat, "%s", why);
    count(r, row);
    return;
  }
  train_job saved = w->j;
  for (int i = 0; i < n; i++) {
    /* pp: each of its stage splits (even, then first / last uneven) */
    int fs[PLAN_TRAIN_MAX_SPLITS] = {0}, ls[PLAN_TRAIN_MAX_SPLITS] = {0}, nsplits = 1;
    if (d == PLAN_DIM_PP) nsplits = plan_train_stage_splits((int)w->j.model->layers, v[i], fs, ls);
    for (int si = 0; si < nsplits; si++) {
      w->l.v[d] = v[i];
      dims[d].set(&w->j, v[i]);
      if (d == PLAN_DIM_PP) {
        w->l.first_stage_layers = w->j.first_stage_layers = fs[si];
        w->l.last_stage_layers = w->j.last_stage_layers = ls[si];
      }
      /* a failure the dimensions set so far cause: one row for the subtree */
      char msg[256];
      const char *bad = d + 1 < PLAN_DIMS ? train_job_check(&w->j, msg, sizeof msg) : NULL;
      /* DualPipe's needs (pp, micro-batches) are the whole layout's */
      if (bad && !strcmp(bad, "dualpipe")) bad = NULL;
      tally sub = {0, 0};
      if (bad) {
        plan_train_row *row = new_row(r);
        memset(row, 0, sizeof *row);
        row->l = w->l;
        reject(row, check_category(bad, msg), "%s", msg);
        count(r, row);
      } else {
        descend(w, d + 1, &sub);
      }
      t->fit += sub.fit;
      t->oom += sub.oom;
      if (d == PLAN_DIM_MICRO_BATCH && w->s->prune && sub.fit == 0 && sub.oom > 0) {
        r->pruned += n - 1 - i;
        i = n;   /* the larger micro-batches: skipped */
        break;
      }
    }
  }
  w->l.v[d] = -1;
  if (d == PLAN_DIM_PP) w->l.first_stage_layers = w->l.last_stage_layers = -1;
  w->j = saved;
}

static const plan_train_space *sort_space;
static const plan_train_row *sort_rows;

static int cmp_rows(const void *pa, const void *pb)
{
  int a = *(const int *)pa, b = *(const int *)pb;
  if (plan_train_better(sort_space, &sort_rows[a], &sort_rows[b])) return -1;
  if (plan_train_better(sort_space, &sort_rows[b], &sort_rows[a])) return 1;
  return (a > b) - (a < b);
}

void plan_train_search(const plan_train_space *s, plan_train_result *r)
{
  for (int g = 0; g < s->ngpus; g++)
    for (int c = 0; c < s->ncounts; c++) {
      walk w = {.s = s, .r = r};
      w.l.gpu = g;
      w.l.gpus = s->counts[c];
      w.l.recompute_layers = -1;
      w.l.first_stage_layers = w.l.last_stage_layers = -1;
      for (int d = 0; d < PLAN_DIMS; d++) w.l.v[d] = -1;
      plan_train_job(s, &w.l, &w.j);
      tally t = {0, 0};
      descend(&w, 0, &t);
    }
  /* the winner and the top ten: the best of the layouts that fit */
  r->winner = -1;
  r->ntop = 0;
  if (!r->fitting) return;
  int *idx = xmalloc((size_t)r->fitting * sizeof *idx);
  int k = 0;
  for (int i = 0; i < r->nrows; i++)
    if (r->rows[i].ok) idx[k++] = i;
  sort_space = s;
  sort_rows = r->rows;
  qsort(idx, (size_t)k, sizeof *idx, cmp_rows);
  for (int i = 0; i < k && i < 10; i++) r->top[r->ntop++] = idx[i];
  r->winner = idx[0];
  free(idx);
}

void plan_train_result_release(plan_train_result *r)
{
  free(r->rows);
  memset(r, 0, sizeof *r);
}

const char *plan_train_describe(const plan_train_layout *l, char *buf, size_t n)
{
  size_t used = 0;
  buf[0] = 0;
  static const char *const shortn[PLAN_DIMS] = {"tp", "cp", "pp", "dp", "ep", "mb", "v", "zero", "sp", "recompute",
                                                "cp_comm", "schedule", "shard"};
  for (int d = 0; d < PLAN_DIMS && used < n; d++) {
    int x = l->v[d];
    if (d == PLAN_DIM_CP_COMM) {
      /* said only where there is context parallelism */
      if (x >= 0 && l->v[PLAN_DIM_CP] > 1)
        used += (size_t)snprintf(buf + used, n - used, " %s %s", shortn[d], train_cp_comm_names[x]);
    } else if (d == PLAN_DIM_SCHEDULE) {
      /* said only when it is not 1F1B */
      if (x > TRAIN_SCHEDULE_1F1B) used += (size_t)snprintf(buf + used, n - used, " %s %s", shortn[d], train_schedule_names[x]);
    } else if (d == PLAN_DIM_SHARD) {
      /* said only for a group smaller than every rank */
      if (x > 0) used += (size_t)snprintf(buf + used, n - used, " %s %d", shortn[d], x);
    } else if (x < 0) {
      used += (size_t)snprintf(buf + used, n - used, "%s%s -", used ? " " : "", shortn[d]);
    } else if (d == PLAN_DIM_SEQ_PARALLEL) {
      used += (size_t)snprintf(buf + used, n - used, "%s%s %s", used ? " " : "", shortn[d], x ? "on" : "off");
    } else if (d == PLAN_DIM_RECOMPUTE) {
      used += (size_t)snprintf(buf + used, n - used, "%s%s %s", used ? " " : "", shortn[d], train_recompute_names[x]);
      if (x == LLM_RECOMPUTE_FULL && l->recompute_layers > 0 && used < n)
        used += (size_t)snprintf(buf + used, n - used, " (%d layers per chunk)", l->recompute_layers);
    } else if (d == PLAN_DIM_INTERLEAVE) {
      used += (size_t)snprintf(buf + used, n - used, "%s%s %d%s", used ? " " : "", shortn[d], plan_train_il(x),
                               plan_train_il_uneven(x) ? " (uneven chunks)" : "");
    } else {
      used += (size_t)snprintf(buf + used, n - used, "%s%s %d", used ? " " : "", shortn[d], x);
      if (d == PLAN_DIM_PP && (l->first_stage_layers > 0 || l->last_stage_layers > 0) && used < n)
        used += (size_t)snprintf(buf + used, n - used, " (first %d last %d layers)", l->first_stage_layers,
                                 l->last_stage_layers);
    }
  }
  return buf;
}
