/* driver/plan/plan_train_scenario.c: `clustersim plan` on a training
 * scenario. Owns the options only a training plan has (--objective,
 * --candidates gpus=/zero=), the refusal of the serving plan's options,
 * reading the scenario's `training` section into a search space (the job
 * as training_component.c builds it, through the component's key table:
 * no model header's private struct), the prices of the candidate GPUs, the
 * scenario's own layout beside the search, and the exit status. The
 * search is plan_train.c's, the outputs plan_train_output.c's. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver/commands/cli.h"
#include "driver/commands/runner.h"
#include "driver/config/scenario.h"
#include "driver/output/outfile.h"
#include "driver/plan/plan.h"
#include "driver/plan/plan_train.h"
#include "models/training/train_stack.h"
#include "sim/catalog.h"
#include "sim/util.h"

/* ---- options ---- */

static int usage(const char *fmt, const char *arg)
{
  fputs("clustersim plan: ", stderr);
  fprintf(stderr, fmt, arg);
  fputs("\n", stderr);
  return CMD_EXIT_USAGE;
}

int plan_train_parse_objective(plan_opts *o, const char *arg)
{
  if (!strcmp(arg, "time"))
    o->objective = PLAN_TRAIN_TIME;
  else if (!strcmp(arg, "cost"))
    o->objective = PLAN_TRAIN_COST;
  else
    return usage("--objective: expected time or cost, got '%s'", arg);
  o->objective_given = true;
  return 0;
}

bool plan_train_candidates_key(const char *arg)
{
  return !strncmp(arg, "gpus=", 5) || !strncmp(arg, "zero=", 5);
}

static int cmp_int(const void *a, const void *b)
{
  return *(const int *)a - *(const int *)b;
}

int plan_train_parse_candidates(plan_opts *o, const char *arg)
{
  bool gpus = arg[0] == 'g';
  int *out = gpus ? o->train_counts : o->zeros, *n = gpus ? &o->ntrain_counts : &o->nzeros;
  int max = gpus ? (int)(sizeof o->train_counts / sizeof o->train_counts[0]) : 4;
  long lo = gpus ? 1 : 0, hi = gpus ? 10000000 : 3;
  char *list = xstrdup(arg + 5), *save = NULL;
  int rc = 0;
  *n = 0;
  for (char *p = strtok_r(list, ",", &save); p && !rc; p = strtok_r(NULL, ",", &save)) {
    char *end;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (errno || end == p || *end || v < lo || v > hi)
      rc = usage(gpus ? "--candidates: gpus must be GPU counts from 1 to 10000000, got '%s'"
                      : "--candidates: zero must be ZeRO stages 0 to 3, got '%s'", p);
    for (int i = 0; i < *n && !rc; i++)
      if (out[i] == v) rc = usage("--candidates: %s is listed twice", p);
    if (!rc && *n == max) rc = usage("--candidates: too many values (%s)", p);
    if (!rc) out[(*n)++] = (int)v;
  }
  free(list);
  if (!rc && *n == 0) rc = usage("--candidates: empty list in '%s'", arg);
  qsort(out, (size_t)*n, sizeof *out, cmp_int);
  return rc;
}

/* ---- the training section, through its key table ---- */

/* The keys of `training` the planner reads (and so models); a key written
 * in the scenario outside this list is refused rather than ignored. */
static const char *const known_keys[] = {
  "model", "gpu", "dtype", "gpus", "tp", "pp", "micro_batch", "global_batch", "seq_len", "interleave",
  "recompute", "recompute_layers", "offload", "dropout", "fused_cross_entropy", "seq_parallel",
  "flash_attention", "zero", "fsdp_prefetch", "grad_reduce_dtype", "node_link", "net_link", "gpus_per_node", "nics_per_node",
  "dp_overlap", "train_tokens", "usd_per_gpu_hour", "interval_s", "failures", "ramp_up", "eval_interval",
  "eval_iters", "straggler_slowdown", "straggler_jitter", "cp", "cp_comm_type", "ep", "dualpipe", "expert_imbalance",
  "moe_capacity_factor", "moe_pad_to_capacity", "stack", "first_stage_layers", "last_stage_layers", "uneven_chunks",
  "pipeline_schedule", "dp_shard",
  NULL};

typedef struct {
  const cfg_scenario_part *part;
} section;

/* The field of key `path` ("failures.mtbf_gpu_h") in the section's
 * parameters; a key the table lacks, or of another kind, is a bug here. */
static const void *field(const section *s, const char *path, sim_key_kind kind, const sim_key **key)
{
  const sim_key *tab = s->part->type->schema;
  size_t base = 0;
  const char *name = path, *dot;
  while ((dot = strchr(name, '.'))) {
    const sim_key *k = tab;
    while (k->name && (strncmp(k->name, name, (size_t)(dot - name)) || k->name[dot - name])) k++;
    if (!k->name || k->kind != SIM_KEY_GROUP) SIM_BUG("training has no group for %s", path);
    base += k->offset;
    tab = k->group;
    name = dot + 1;
  }
  const sim_key *k = tab;
  while (k->name && strcmp(k->name, name)) k++;
  if (!k->name || k->kind != kind) SIM_BUG("training has no key %s of kind %d", path, (int)kind);
  if (key) *key = k;
  return (const char *)s->part->params + base + k->offset;
}

static int get_int(const section *s, const char *path)
{
  return (int)*(const int64_t *)field(s, path, SIM_KEY_INT, NULL);
}
static double get_num(const section *s, const char *path)
{
  return *(const double *)field(s, path, SIM_KEY_FLOAT, NULL);
}
static bool get_bool(const section *s, const char *path)
{
  return *(const bool *)field(s, path, SIM_KEY_BOOL, NULL);
}
static int get_enum(const section *s, const char *path)
{
  return *(const int *)field(s, path, SIM_KEY_ENUM, NULL);
}
static const char *get_str(const section *s, const char *path)
{
  const char *v = *(const char *const *)field(s, path, SIM_KEY_STRING, NULL);
  return v ? v : "";
}
static bool written_as(const section *s, const char *path, sim_key_kind kind)
{
  const sim_key *k;
  const void *f = field(s, path, kind, &k);
  (void)f;
  return k->has_present && *(const bool *)((const char *)s->part->params + k->present_offset);
}
static bool written(const section *s, const char *path)
{
  return written_as(s, path, SIM_KEY_FLOAT);
}

/* Everything the plan reads from the scenario. */
typedef struct {
  char *name, *model, *gpu;
  int gpus;
  plan_train_layout own;
  double price;                 /* training.usd_per_gpu_hour, 0: none */
} base_info;

/* The job of the section on GPU g (its links as written when as_written,
 * else g's defaults), everything but the layout: the models' own builder
 * (train_job_build, as the scenario's run builds it); false with a message. */
static bool base_job(const section *s, const cfg_scenario *sc, const gpu_spec *g, bool as_written, train_job *j,
                     const char *file)
{
  const llm_arch *m = sim_catalog_find(sc->cats, "models", get_str(s, "model"));
  if (!m) return fprintf(stderr, "clustersim plan: %s: unknown model %s\n", file, get_str(s, "model")), false;
  sim_check *ck = sim_check_alloc();
  bool ok = train_job_build(s->part->params, sc->cats, m, g, as_written, j, ck);
  for (size_t i = 0; i < sim_check_count(ck); i++)
    fprintf(stderr, "clustersim plan: %s: training.%s: %s\n", file, sim_check_key(ck, i), sim_check_msg(ck, i));
  sim_check_free(ck);
  return ok;
}

static void whole_settings(const section *s, train_whole *w)
{
  train_whole_init(w);
  w->ramp_batch_start = get_int(s, "ramp_up.batch_start");
  w->ramp_batch_increment = get_int(s, "ramp_up.batch_increment");
  w->ramp_batch_samples = get_num(s, "ramp_up.batch_samples");
  w->ramp_seq_start = get_int(s, "ramp_up.seq_start");
  w->ramp_seq_tokens = get_num(s, "ramp_up.seq_tokens");
  w->eval_interval = get_int(s, "eval_interval");
  w->eval_iters = get_int(s, "eval_iters");
  w->straggler_slowdown = get_num(s, "straggler_slowdown");
  w->straggler_jitter = get_num(s, "straggler_jitter");
  w->mtbf_gpu_h = get_num(s, "failures.mtbf_gpu_h");
  w->checkpoint_interval_s = get_num(s, "failures.checkpoint_interval_s");
  w->checkpoint_s = written(s, "failures.checkpoint_s") ? get_num(s, "failures.checkpoint_s") : -1;
  w->storage_gbps = get_num(s, "failures.storage_gbps");
  w->async_checkpoint = get_bool(s, "failures.async_checkpoint");
  w->restart_s = get_num(s, "failures.restart_s");
}

/* The scenario's own layout, as written (recompute auto stays auto). */
static void own_layout(const section *s, plan_train_layout *l)
{
  int tp = get_int(s, "tp"), pp = get_int(s, "pp"), cp = get_int(s, "cp"), gpus = get_int(s, "gpus");
  l->gpu = 0;
  l->gpus = gpus;
  l->v[PLAN_DIM_TP] = tp;
  l->v[PLAN_DIM_CP] = cp;
  l->v[PLAN_DIM_PP] = pp;
  l->v[PLAN_DIM_DP] = gpus % (tp * cp * pp) ? -1 : gpus / (tp * cp * pp);
  l->v[PLAN_DIM_EP] = get_int(s, "ep");
  l->v[PLAN_DIM_MICRO_BATCH] = get_int(s, "micro_batch");
  l->v[PLAN_DIM_INTERLEAVE] = get_int(s, "interleave") | (get_bool(s, "uneven_chunks") ? PLAN_IL_UNEVEN : 0);
  l->v[PLAN_DIM_ZERO] = get_int(s, "zero");
  l->v[PLAN_DIM_SEQ_PARALLEL] = get_bool(s, "seq_parallel");
  l->v[PLAN_DIM_RECOMPUTE] = get_enum(s, "recompute");
  l->v[PLAN_DIM_CP_COMM] = get_enum(s, "cp_comm_type");
  l->v[PLAN_DIM_SCHEDULE] = get_enum(s, "pipeline_schedule");
  l->v[PLAN_DIM_SHARD] = get_int(s, "dp_shard");
  l->recompute_layers = get_int(s, "recompute_layers");
  l->first_stage_layers = get_int(s, "first_stage_layers");
  l->last_stage_layers = get_int(s, "last_stage_layers");
}

/* The own layout's GPUs are not a whole number of model-parallel groups:
 * said as training_prepare says it. */
static void own_not_whole(plan_train_row *own)
{
  int tp = own->l.v[PLAN_DIM_TP], cp = own->l.v[PLAN_DIM_CP], pp = own->l.v[PLAN_DIM_PP];
  own->ok = false;
  own->category = "GPUs not divisible";
  snprintf(own->reason, sizeof own->reason, "%d GPUs are not a whole number of tp x %spp = %d groups", own->l.gpus,
           cp > 1 ? "cp x " : "", tp * cp * pp);
}

/* ---- the command ---- */

static double wall_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The serving plan's options, refused here with why. */
static int refuse_serving_options(const plan_opts *o)
{
  const char *flag = o->nslo                                    ? "--slo"
                     : o->npricings                             ? "--pricing"
                     : o->npools                                ? "--pools"
                     : o->spot_rate >= 0                        ? "--spot-interruptions-per-hour"
                     : !(o->nscales == 1 && o->scales[0] == 1.0) ? "--load-scales"
                     : o->replications != 1                     ? "--replications"
                     : o->max_replicas != 64                    ? "--max-replicas"
                     : o->plot                                  ? "--plot"
                                                                : NULL;
  if (!flag) return 0;
  fprintf(stderr, "clustersim plan: %s: %s is for serving scenarios; a training scenario's plan needs no latency "
          "target: it searches the layout for --objective time (the whole run's wall time, the default) or cost\n",
          o->file, flag);
  return CMD_EXIT_USAGE;
}

/* The prices of the candidates: --gpu-price, the scenario's
 * training.usd_per_gpu_hour for its own GPU, the catalog's. */
static int resolve_prices(const plan_opts *o, plan_train_space *sp, const gpu_spec *const *gpus,
                          const sim_catalogs *cats, const char *own_gpu, double own_price)
{
  for (int i = 0; i < o->ngpu_prices; i++) {
    const gpu_spec *named = sim_catalog_find(cats, "gpus", o->gpu_prices[i].gpu);
    int g = 0;
    while (g < sp->ngpus && gpus[g] != named) g++;
    if (g == sp->ngpus)
      return usage("--gpu-price: %s is not a candidate GPU (add it with --candidates gpu=...)", o->gpu_prices[i].gpu);
  }
  for (int g = 0; g < sp->ngpus; g++) {
    plan_train_gpu *c = &sp->gpus[g];
    c->usd_per_gpu_hour = NAN;
    c->price_source = "none";
    for (int i = 0; i < o->ngpu_prices; i++)
      if (sim_catalog_find(cats, "gpus", o->gpu_prices[i].gpu) == gpus[g]) {
        c->usd_per_gpu_hour = o->gpu_prices[i].usd_per_gpu_hour;
        c->price_source = "--gpu-price";
      }
    if (isnan(c->usd_per_gpu_hour) && own_price > 0 && !strcmp(gpus[g]->name, own_gpu)) {
      c->usd_per_gpu_hour = own_price;
      c->price_source = "training.usd_per_gpu_hour";
    }
    if (isnan(c->usd_per_gpu_hour) && gpus[g]->price_usd_per_hour > 0) {
      c->usd_per_gpu_hour = gpus[g]->price_usd_per_hour;
      c->price_source = "catalog";
    }
    if (isnan(c->usd_per_gpu_hour) && sp->objective == PLAN_TRAIN_COST) {
      fprintf(stderr, "clustersim plan: --objective cost: GPU %s has no price; give one with --gpu-price %s=USD "
              "(or training.usd_per_gpu_hour for the scenario's GPU)\n", gpus[g]->name, gpus[g]->name);
      return CMD_EXIT_USAGE;
    }
  }
  return 0;
}

/* A scenario that does not load: fine for the plan when the only problems
 * are its own layout's (training_prepare's checks of the layout, memory,
 * the ramp-up against dp x micro-batch), which the plan replaces and
 * reports; else the errors are printed and the status is 2. The layout's
 * problems are recognised as those the planner's own evaluation of the
 * layout finds, word for word, or memory (a capacity error). */
static int own_layout_errors(const plan_opts *o, const cfg_scenario *sc, const section *s, const cfg_errors *errs)
{
  bool layout = errs->len > 0 && sc->cats != NULL;
  plan_train_row own;
  memset(&own, 0, sizeof own);
  const gpu_spec *g = layout ? sim_catalog_find(sc->cats, "gpus", get_str(s, "gpu")) : NULL;
  plan_train_space *sp = xcalloc(1, sizeof *sp);
  if (g && sim_catalog_find(sc->cats, "models", get_str(s, "model")) &&
      base_job(s, sc, g, true, &sp->gpus[0].base, o->file)) {
    sp->ngpus = 1;
    sp->gpus[0].usd_per_gpu_hour = NAN;
    sp->train_tokens = get_num(s, "train_tokens");
    whole_settings(s, &sp->whole);
    own_layout(s, &own.l);
    if (own.l.v[PLAN_DIM_DP] < 0)
      own_not_whole(&own);
    else {
      plan_train_layout l = own.l;   /* plan_train_eval clears its row first */
      plan_train_eval(sp, &l, &own);
    }
  } else {
    layout = false;
  }
  free(sp);
  /* a stack on an accelerator it does not profile, or an accelerator with
   * no training efficiency, is the scenario's error, not its layout's */
  if (!own.ok && own.category && (!strcmp(own.category, "stack") || !strcmp(own.category, "gpu"))) layout = false;
  for (size_t i = 0; i < errs->len && layout; i++)
    layout = errs->capacity[i] || (!own.ok && own.reason[0] && strstr(errs->msgs[i], own.reason));
  if (layout) return 0;
  cfg_errors_print(errs, stderr);
  fprintf(stderr, "clustersim: %s: %zu error%s; nothing was planned\n", o->file, errs->len, errs->len == 1 ? "" : "s");
  return CMD_EXIT_USAGE;
}

/* Load, check and build the space; 0 or an exit status (printed). */
static int setup(plan_opts *o, cfg_scenario *sc, plan_train_space *sp, plan_train_info *in, const char **names,
                 bool *is_training)
{
  cfg_errors errs;
  cfg_errors_init(&errs, o->file);
  cfg_load_opts lo = {.sets = o->sets, .nsets = o->nsets, .seed = o->have_seed ? &o->seed : NULL,
                      .catalogs = o->catalogs, .ncatalogs = o->ncatalogs, .max_input_bytes = o->max_input_bytes};
  bool ok = cfg_scenario_load(sc, o->file, &lo, &errs);
  section s = {NULL};
  for (size_t i = 0; i < sc->nparts; i++)
    if (!strcmp(sc->parts[i].type->name, "training")) s.part = &sc->parts[i];
  *is_training = s.part != NULL;
  if (!s.part) {
    cfg_errors_release(&errs);
    return 0;
  }
  int rc = refuse_serving_options(o);
  if (!rc && !ok) rc = own_layout_errors(o, sc, &s, &errs);
  cfg_errors_release(&errs);
  if (rc) return rc;
  config_setting_t *sec = config_lookup(&sc->cfg, "training");
  for (const sim_key *k = s.part->type->schema; k->name; k++) {
    const char *const *n = known_keys;
    while (*n && strcmp(*n, k->name)) n++;
    config_setting_t *set = !*n && sec ? config_setting_get_member(sec, k->name) : NULL;
    if (set) {
      fprintf(stderr, "%s:%d: training.%s: the layout planner does not model this key; plan without it "
              "(remove it, or --set it to its default)\n", o->file, config_setting_source_line(set), k->name);
      return CMD_EXIT_USAGE;
    }
  }
  const char *own_gpu = get_str(&s, "gpu");
  const gpu_spec *own = sim_catalog_find(sc->cats, "gpus", own_gpu);
  if (!own) return fprintf(stderr, "clustersim plan: %s: unknown GPU %s\n", o->file, own_gpu), CMD_EXIT_USAGE;
  const gpu_spec *gpus[PLAN_TRAIN_MAX_GPUS];
  if (o->ngpus > PLAN_TRAIN_MAX_GPUS) return usage("--candidates: at most 8 GPU types for a training plan%s", "");
  sp->ngpus = o->ngpus ? o->ngpus : 1;
  for (int g = 0; g < sp->ngpus; g++) {
    const char *name = o->ngpus ? o->gpus[g] : own_gpu;
    gpus[g] = sim_catalog_find(sc->cats, "gpus", name);
    if (!gpus[g]) {
      char list[2048] = "";
      sim_catalog_names(sc->cats, "gpus", list, sizeof list);
      fprintf(stderr, "clustersim plan: --candidates: unknown GPU \"%s\" (one of: %s)\n", name, list);
      return CMD_EXIT_USAGE;
    }
    names[g] = gpus[g]->name;
    sp->gpus[g].as_written = gpus[g] == own;
    if (!base_job(&s, sc, gpus[g], gpus[g] == own, &sp->gpus[g].base, o->file)) return CMD_EXIT_USAGE;
  }
  own_layout(&s, &in->own.l);
  int own_index = -1;
  for (int g = 0; g < sp->ngpus; g++)
    if (gpus[g] == own) own_index = g;
  int gpu_count = in->own.l.gpus;
  if (o->ntrain_counts) {
    memcpy(sp->counts, o->train_counts, (size_t)o->ntrain_counts * sizeof sp->counts[0]);
    sp->ncounts = o->ntrain_counts;
  } else {
    sp->counts[0] = gpu_count;
    sp->ncounts = 1;
  }
  if (o->tps_given) {
    memcpy(sp->tps, o->tps, (size_t)o->ntps * sizeof sp->tps[0]);
    sp->ntps = o->ntps;
  }
  if (o->nzeros) {
    memcpy(sp->zeros, o->zeros, (size_t)o->nzeros * sizeof sp->zeros[0]);
    sp->nzeros = o->nzeros;
  } else {
    for (int z = 0; z <= get_int(&s, "zero"); z++) sp->zeros[sp->nzeros++] = z;
  }
  sp->train_tokens = get_num(&s, "train_tokens");
  whole_settings(&s, &sp->whole);
  sp->objective = o->objective;
  sp->prune = true;
  sp->zero_bubble = get_enum(&s, "pipeline_schedule") == TRAIN_SCHEDULE_ZB_H1;
  sp->dp_shard = get_int(&s, "dp_shard");
  rc = resolve_prices(o, sp, gpus, sc->cats, own->name, get_num(&s, "usd_per_gpu_hour"));
  if (rc) return rc;
  /* the scenario's own layout, evaluated as the search's layouts are */
  in->own_in_space = false;
  if (own_index >= 0) {
    in->own.l.gpu = own_index;
    for (int c = 0; c < sp->ncounts; c++) in->own_in_space = in->own_in_space || sp->counts[c] == gpu_count;
    if (in->own.l.v[PLAN_DIM_DP] < 0) {
      own_not_whole(&in->own);
    } else {
      plan_train_layout l = in->own.l;
      plan_train_eval(sp, &l, &in->own);
    }
  } else {
    in->own.ok = false;
    in->own.category = "not a candidate";
    snprintf(in->own.reason, sizeof in->own.reason, "the scenario's GPU %s is not a candidate", own->name);
  }
  in->scenario = sc->name;
  in->model = get_str(&s, "model");
  in->file = o->file;
  in->gpu_names = names;
  return 0;
}

bool plan_train_mode(plan_opts *o, int *status)
{
  double t0 = wall_now();
  cfg_scenario sc;
  plan_train_space *sp = xcalloc(1, sizeof *sp);
  plan_train_info in;
  memset(&in, 0, sizeof in);
  const char *names[PLAN_TRAIN_MAX_GPUS];
  bool is_training = false;
  int rc = setup(o, &sc, sp, &in, names, &is_training);
  if (!is_training) {
    cfg_scenario_release(&sc);
    free(sp);
    return false;
  }
  plan_train_result r;
  memset(&r, 0, sizeof r);
  char *outdir = NULL;
  if (!rc) {
    outdir = run_outdir(o->outdir, sc.name, "-plan");
    if (!out_mkdirs(outdir)) {
      fprintf(stderr, "clustersim: %s: cannot create output directory: %s\n", outdir, strerror(errno));
      rc = CMD_EXIT_USAGE;
    }
  }
  if (!rc) {
    plan_train_search(sp, &r);
    in.wall_s = wall_now() - t0;
    if (!o->quiet) plan_train_print(stdout, sp, &r, &in);
    if (!plan_train_write(outdir, sp, &r, &in))
      rc = CMD_EXIT_FAIL;
    else if (!o->quiet)
      printf("plan: %s/plan.json, plan.csv\n", outdir);
  }
  plan_train_result_release(&r);
  free(outdir);
  cfg_scenario_release(&sc);
  free(sp);
  *status = rc;
  return true;
}
