/* tests/unit/test_train_wholerun_validation.c: whole training runs (days,
 * GPU-hours) against published figures, the held-out rows declared in
 * models/validation/training/wholerun.md before they were compared (issue
 * 15's target: median error <= 12% on them). Each row is built exactly as
 * `clustersim estimate --train` builds it from the flags of
 * models/validation/training/wholerun.sh (same defaults, same inline
 * architecture), then one iteration (train_step), the run (train_run) and
 * the whole run as real ones go (train_whole_run: ramp-up, evaluations,
 * checkpoints, failures at Llama 3's rate). Run it to print the table. The
 * test holds each row within WHOLERUN_DRIFT of the error recorded with it
 * (a change of the model shows up here; a deliberate one updates the
 * records, wholerun.md and VALIDATION.md together), and the median of the
 * held-out rows at its record (issue 15's target of 12% is not met: see
 * WHOLERUN_TARGET_MEDIAN). Nothing is fitted on them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/gpu/gpu.h"
#include "models/interconnect/net.h"
#include "models/llm/llm.h"
#include "models/training/train.h"
#include "driver/config/catalog_load.h"
#include "testutil.h"

#define WHOLERUN_DRIFT 0.03
/* Issue 15's target for the held-out median. NOT MET: the median is
 * WHOLERUN_MEDIAN (wholerun.md says where and why the rows part); the test
 * holds the median at that record so that a change shows, and fails only if
 * it grows; meeting the target is a deliberate change of the record. */
#define WHOLERUN_TARGET_MEDIAN 0.12
#define WHOLERUN_MEDIAN 0.192
/* W13r is reported, not counted, since 2026-12-04: when all-to-alls were
 * put on each GPU's own ports it moved to +66%, and DeepSeek's node-limited
 * dispatch, added to the model after that, brought it back to +8.8% (+6.7%
 * since expert-gradient replicas a node apart get a port each, +6.8% since
 * the experts' parameter gather is exposed); a row
 * that prompted a change of the model is seen, not held out
 * (models/VALIDATION.md). The 11 others' median: 19.2% (18.3% with it). */

typedef enum { GPU_HOURS, DAYS } metric;

typedef struct {
  const char *id, *what;
  const char *model;        /* shipped catalog, or wholerun_models.cfg */
  const char *gpu;
  int gpus, tp, pp, interleave, micro_batch, global_batch, seq_len;
  gpu_precision dtype;
  int recompute;            /* LLM_RECOMPUTE_* or TRAIN_RECOMPUTE_AUTO */
  bool no_flash, seq_parallel;
  int zero, fsdp_prefetch;
  const char *net;
  int nics_per_node;        /* 0: one per GPU */
  int dropout;              /* train_dropout_names: 0 model, 1 on, 2 off */
  double tokens;
  int ramp_start, ramp_increment;
  double ramp_samples;
  int eval_interval, eval_iters;  /* 0: the defaults (Megatron-LM's) */
  metric what_published;
  double published;
  bool in_median;           /* held out and counted (W12 is reported only, W13r seen) */
  double expect_err;        /* the error the model gives now */
} wrow;

#define AUTO TRAIN_RECOMPUTE_AUTO
#define FULL LLM_RECOMPUTE_FULL
#define PRE TRAIN_PREFETCH_PRE
#define POST TRAIN_PREFETCH_POST

/* The rows of wholerun.md, in its order and with its configurations. */
static const wrow rows[] = {
  {"W1", "Llama 2 7B, 2T tokens, 2,048 A100-80GB", "llama2-7b",
   "a100-80gb-sxm", 2048, 2, 1, 1, 1, 1024, 4096, GPU_BF16, AUTO, false, true, 1, PRE, "ib-hdr", 0, 0,
   2.0e12, 0, 0, 0, 0, 0, GPU_HOURS, 184320, true, -0.129},
  {"W2", "Llama 2 13B, 2T tokens, 2,048 A100-80GB", "llama2-13b",
   "a100-80gb-sxm", 2048, 2, 1, 1, 1, 1024, 4096, GPU_BF16, AUTO, false, true, 1, PRE, "ib-hdr", 0, 0,
   2.0e12, 0, 0, 0, 0, 0, GPU_HOURS, 368640, true, -0.192},
  {"W3", "Llama 2 70B, 2T tokens, 2,048 A100-80GB", "llama2-70b",
   "a100-80gb-sxm", 2048, 8, 4, 1, 1, 1024, 4096, GPU_BF16, AUTO, false, true, 1, PRE, "ib-hdr", 0, 0,
   2.0e12, 0, 0, 0, 0, 0, GPU_HOURS, 1720320, true, +0.060},
  {"W4", "Llama 3 8B, 15T tokens, 2,048 H100", "llama3-8b",
   "h100-sxm", 2048, 1, 1, 1, 1, 2048, 8192, GPU_BF16, AUTO, false, false, 1, PRE, "eth-400g", 0, 0,
   15e12, 0, 0, 0, 0, 0, GPU_HOURS, 1.3e6, true, -0.511},
  {"W5", "Llama 3 70B, 15T tokens, 4,096 H100", "llama3-70b",
   "h100-sxm", 4096, 8, 4, 1, 1, 2048, 8192, GPU_BF16, AUTO, false, true, 1, PRE, "eth-400g", 0, 0,
   15e12, 0, 0, 0, 0, 0, GPU_HOURS, 6.4e6, true, +0.053},
  {"W6", "Llama 3.1 405B (128-layer stages), 15.6T tokens, 16,384 H100", "llama3.1-405b-128l",
   "h100-sxm", 16384, 8, 16, 2, 1, 2048, 8192, GPU_BF16, AUTO, false, true, 1, PRE, "eth-400g", 0, 0,
   15.6e12, 0, 0, 0, 0, 0, GPU_HOURS, 30.84e6, false, +0.585},  /* superseded by W6r (wholerun.md) */
  {"W6r", "Llama 3.1 405B (126 layers, first and last stage 7), 15.6T tokens, 16,384 H100", "llama3.1-405b",
   "h100-sxm", 16384, 8, 16, 1, 1, 2048, 8192, GPU_BF16, AUTO, false, true, 1, PRE, "eth-400g", 0, 0,
   15.6e12, 0, 0, 0, 0, 0, GPU_HOURS, 30.84e6, true, +0.840},
  {"W7", "BLOOM-176B (72-layer stages), 366B tokens, 384 A100-80GB", "bloom-176b-72l",
   "a100-80gb-sxm", 384, 4, 12, 1, 2, 2048, 2048, GPU_BF16, FULL, true, false, 1, PRE, "ib-edr", 4, 0,
   366e9, 192, 16, 9765625, 1000, 1, GPU_HOURS, 1082990, false, -0.060},  /* superseded by W7r */
  {"W7r", "BLOOM-176B (70 layers, first and last stage 5), 366B tokens, 384 A100-80GB", "bloom-176b",
   "a100-80gb-sxm", 384, 4, 12, 1, 2, 2048, 2048, GPU_BF16, FULL, true, false, 1, PRE, "ib-edr", 4, 0,
   366e9, 192, 16, 9765625, 1000, 1, GPU_HOURS, 1082990, true, -0.173},
  {"W8", "Falcon-40B, 1T tokens, 384 A100-40GB", "falcon-40b",
   "a100-40gb-sxm", 384, 8, 4, 1, 1, 1152, 2048, GPU_BF16, AUTO, false, true, 1, PRE, "eth-100g", 4, 0,
   1e12, 0, 0, 0, 0, 0, DAYS, 60, true, -0.021},
  {"W9", "Falcon-180B, 3.5T tokens, 4,096 A100-40GB", "falcon-180b",
   "a100-40gb-sxm", 4096, 8, 8, 1, 1, 2048, 2048, GPU_BF16, AUTO, false, true, 1, PRE, "eth-100g", 4, 0,
   3.5e12, 0, 0, 0, 0, 0, GPU_HOURS, 7.0e6, true, +0.560},
  {"W10", "StarCoderBase 15.5B, 1T tokens, 512 A100-80GB", "starcoderbase",
   "a100-80gb-sxm", 512, 4, 4, 1, 1, 512, 8192, GPU_BF16, AUTO, false, true, 1, PRE, "ib-hdr", 0, 0,
   1e12, 0, 0, 0, 0, 0, GPU_HOURS, 320256, true, -0.276},
  {"W11", "MPT-7B, 1T tokens, 440 A100-40GB", "mpt-7b",
   "a100-40gb-sxm", 440, 1, 1, 1, 4, 1760, 2048, GPU_BF16, AUTO, false, false, 3, POST, "eth-200g", 0, 0,
   1e12, 0, 0, 0, 0, 0, DAYS, 9.5, true, -0.330},
  {"W13r", "DeepSeek-V3, 14.8T tokens, 2,048 H800", "deepseek-v3",
   "h800", 2048, 1, 16, 1, 1, 15360, 4096, GPU_FP8, AUTO, false, false, 1, PRE, "ib-ndr", 0, 0,
   14.8e12, 3072, 1536, 114501953, 0, 0, GPU_HOURS, 2664000, false, +0.068},  /* seen: see WHOLERUN_MEDIAN */
  {"W12", "OPT-175B, 180B tokens, 992 A100-80GB (reported only)", "opt-175b",
   "a100-80gb-sxm", 992, 8, 1, 1, 1, 992, 2048, GPU_FP16, AUTO, true, false, 3, PRE, "ib-hdr", 0, 0,
   180e9, 0, 0, 0, 0, 0, DAYS, 60, false, -0.226},
};

/* The rows with uneven first/last stages (wholerun.md, "Re-declared rows"):
 * layers of the first and of the last stage; the others even. */
static const struct {
  const char *id;
  int first, last;
} uneven_rows[] = {{"W6r", 7, 7}, {"W7r", 5, 5}, {"W13r", 4, 1}};

/* The mixture-of-experts rows (wholerun.md, W13r): expert parallelism,
 * DeepSeek's DualPipe schedule, the expert imbalance. */
static const struct {
  const char *id;
  int ep;
  bool dualpipe;
  double imbalance;
} moe_rows[] = {{"W13r", 64, true, 1.04}};

static sim_catalogs *cats;

/* The shipped catalogs and the rows' extra one, as `estimate --catalog`
 * reads it: models/validation/training/wholerun_models.cfg of the source
 * tree this file is in (__FILE__ is .../tests/unit/<this file>), else
 * beside the catalog directory. */
static bool load_catalogs(void)
{
  char extra[4096];
  const char *self = __FILE__, *tail = strstr(self, "tests/unit/");
  snprintf(extra, sizeof extra, "%.*smodels/validation/training/wholerun_models.cfg", tail ? (int)(tail - self) : 0,
           self);
  FILE *f = tail ? fopen(extra, "r") : NULL;
  if (f) fclose(f);
  else snprintf(extra, sizeof extra, "%s/../validation/training/wholerun_models.cfg", cfg_catalog_dir());
  char *files[] = {extra};
  cfg_errors errs;
  cfg_errors_init(&errs, NULL);
  cats = cfg_catalogs_load_all(files, 1, &errs);
  cfg_errors_print(&errs, stderr);
  cfg_errors_release(&errs);
  return cats != NULL;
}

static const void *find(const char *list, const char *name)
{
  const void *e = sim_catalog_find(cats, list, name);
  if (!e) printf("\n    %s: no %s named %s  ", list, list, name);
  return e;
}

typedef struct {
  train_step_result step;
  train_run_result run;
  train_whole_result whole;
  double gpu_hours, days, predicted;
  int recompute;
} wresult;

/* Run a row as estimate --train does; false (with why printed) when the job
 * is refused. */
static bool run_row(const wrow *w, wresult *out)
{
  const llm_arch *m = find("models", w->model);
  const gpu_spec *g = find("gpus", w->gpu);
  const net_link *net = find("links", w->net);
  if (!m || !g || !net) return false;
  train_job j;
  train_job_init(&j, m, g);
  j.dtype = w->dtype;
  j.tp = w->tp;
  j.pp = w->pp;
  j.dp = w->gpus / (w->tp * w->pp);
  j.micro_batch = w->micro_batch;
  j.global_batch = w->global_batch;
  j.seq_len = w->seq_len;
  j.interleave = w->interleave;
  for (size_t i = 0; i < sizeof uneven_rows / sizeof uneven_rows[0]; i++)
    if (!strcmp(w->id, uneven_rows[i].id)) {
      j.first_stage_layers = uneven_rows[i].first;
      j.last_stage_layers = uneven_rows[i].last;
    }
  for (size_t i = 0; i < sizeof moe_rows / sizeof moe_rows[0]; i++)
    if (!strcmp(w->id, moe_rows[i].id)) {
      j.ep = moe_rows[i].ep;
      j.dualpipe = moe_rows[i].dualpipe;
      j.expert_imbalance = moe_rows[i].imbalance;
    }
  j.recompute = w->recompute;
  train_job_dropout(&j, w->dropout);
  j.seq_parallel = w->seq_parallel;
  j.zero = w->zero;
  j.flash_attention = TRAIN_DEFAULT_FLASH_ATTENTION && !w->no_flash;
  j.net_link = net;
  j.gpus_per_node = g->scaleup_gpus;
  j.fsdp_prefetch = w->fsdp_prefetch;
  j.nics_per_node = w->nics_per_node;
  char why[512];
  const char *bad = train_job_check(&j, why, sizeof why);
  if (bad) {
    printf("\n    %s refused: %s: %s  ", w->id, bad, why);
    return false;
  }
  train_memory fit;
  if (!train_job_fit(&j, &fit)) {
    printf("\n    %s does not fit: short by %.1f GiB  ", w->id, fit.short_bytes / 1073741824.0);
    return false;
  }
  out->recompute = j.recompute;
  train_step(&j, &out->step);
  train_run(&j, &out->step, w->tokens, NAN, &out->run);
  train_whole tw;
  train_whole_init(&tw);
  tw.ramp_batch_start = w->ramp_start;
  tw.ramp_batch_increment = w->ramp_increment;
  tw.ramp_batch_samples = w->ramp_samples;
  if (w->eval_interval > 0) {
    tw.eval_interval = w->eval_interval;
    tw.eval_iters = w->eval_iters;
  }
  bad = train_whole_run(&j, &out->step, &out->run, &tw, &out->whole, why, sizeof why);
  if (bad) {
    printf("\n    %s whole run refused: %s: %s  ", w->id, bad, why);
    return false;
  }
  out->gpu_hours = out->whole.time_s * w->gpus / 3600;
  out->days = out->whole.time_s / 86400;
  out->predicted = w->what_published == GPU_HOURS ? out->gpu_hours : out->days;
  return true;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median of n values (sorted in place). */
static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Every row: print it, hold its error within the drift of its record, and
 * the held-out median of absolute errors within the target. */
static void test_rows(void)
{
  size_t n = sizeof rows / sizeof rows[0];
  double abs_err[sizeof rows / sizeof rows[0]];
  int counted = 0;
  printf("\n| row | run | published | predicted | error | steady days | MFU | recompute | ramp-up + evals + "
         "checkpoints + failures |\n|---|---|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < n; i++) {
    const wrow *w = &rows[i];
    wresult r;
    bool ok = run_row(w, &r);
    CU_ASSERT_TRUE_FATAL(ok);
    double err = r.predicted / w->published - 1;
    const char *unit = w->what_published == GPU_HOURS ? "GPU-h" : "days";
    double extra = r.whole.ramp_up_s + r.whole.eval_s + r.whole.checkpoint_time_s + r.whole.failure_time_s;
    printf("| %s | %s | %.4g %s | %.4g %s | %+.1f%% | %.1f | %.1f%% | %s | %.1f%% |\n", w->id, w->what, w->published,
           unit, r.predicted, unit, 100 * err, r.whole.failure_free_s / 86400, 100 * r.step.mfu,
           train_recompute_names[r.recompute], 100 * extra / r.whole.time_s);
    if (fabs(err - w->expect_err) > WHOLERUN_DRIFT)
      printf("\n    row %s moved: error %+.1f%%, recorded %+.1f%%  ", w->id, 100 * err, 100 * w->expect_err);
    CU_ASSERT_TRUE(fabs(err - w->expect_err) <= WHOLERUN_DRIFT);
    if (w->in_median) abs_err[counted++] = fabs(err);
  }
  double med = median(abs_err, counted);
  printf("\nheld-out rows in the median: %d; median absolute error %.1f%% (issue 15's target %.0f%%: %s)\n", counted,
         100 * med, 100 * WHOLERUN_TARGET_MEDIAN, med <= WHOLERUN_TARGET_MEDIAN ? "met" : "NOT met");
  CU_ASSERT_EQUAL(counted, 11);
  CU_ASSERT_TRUE(fabs(med - WHOLERUN_MEDIAN) <= WHOLERUN_DRIFT);
}

/* The whole run is the steady steps plus what real runs lose, never less:
 * each row's wall time exceeds its failure-free time by exactly the parts
 * train_whole_run names (T = W + checkpoints + failures, W = steps +
 * ramp-up + evaluations + stragglers). */
static void test_parts_add_up(void)
{
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    wresult r;
    if (!run_row(&rows[i], &r)) continue;
    const train_whole_result *x = &r.whole;
    CU_ASSERT_TRUE(x->time_s > x->failure_free_s);
    double sum = x->failure_free_s + x->ramp_up_s + x->eval_s + x->straggler_s + x->checkpoint_time_s + x->failure_time_s;
    CU_ASSERT_TRUE(fabs(sum / x->time_s - 1) < 1e-9);
    /* GPU-hours are the wall time on every GPU */
    CU_ASSERT_TRUE(fabs(r.gpu_hours - x->time_s * rows[i].gpus / 3600) < 1e-6 * r.gpu_hours);
  }
}

/* BLOOM's batch ramp-up (192 -> 2,048 by 16 over 9,765,625 samples) by
 * hand: K = (2048 - 192) / 16 = 116 stages of 9,765,625 / 116 = 84,186.4
 * samples; stage k runs at batch 192 + 16 k for ceil(84,186.4 / batch)
 * steps. The ramp's steps must be exactly that sum. */
static void test_bloom_ramp_steps(void)
{
  const wrow *w = NULL;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    if (!strcmp(rows[i].id, "W7")) w = &rows[i];
  CU_ASSERT_PTR_NOT_NULL_FATAL(w);
  wresult r;
  CU_ASSERT_TRUE_FATAL(run_row(w, &r));
  int k_stages = (2048 - 192) / 16;
  CU_ASSERT_EQUAL(k_stages, 116);
  double per = 9765625.0 / k_stages, steps = 0;
  for (int k = 0; k < k_stages; k++) steps += ceil(per / (192 + 16 * k));
  CU_ASSERT_DOUBLE_EQUAL(r.whole.ramp_steps, steps, 1e-9);
}

int main(void)
{
  if (!load_catalogs()) return 1;
  static const cs_test tests[] = {
    {"held-out whole runs hold their recorded errors and median", test_rows},
    {"wall time = steps + ramp-up + evaluations + checkpoints + failures", test_parts_add_up},
    {"BLOOM's batch ramp-up steps by hand", test_bloom_ramp_steps},
    {NULL, NULL},
  };
  int rc = cs_run_suite("train_wholerun_validation", tests);
  cfg_catalogs_free(cats);
  return rc;
}
