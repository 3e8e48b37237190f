/* tests/unit/test_train_wholerun2_validation.c: the second set of whole
 * training runs against published figures (held out, declared in
 * models/validation/training/wholerun2.md before any was run, with a fixed
 * rule for the layouts the sources do not publish), and its step-time rows.
 * Each row is the program itself, as models/validation/training/wholerun2.sh
 * runs it: `estimate --train --json` (the whole run's closed form:
 * train_days, gpu_hours) or, for a run in phases, `run` of its scenario in
 * models/validation/training/wholerun2/ (train_time_closed_form_s). Run it
 * to print the table. The test holds each row within DRIFT of the error
 * recorded with it (a change of the model shows here; a deliberate one
 * updates the records, wholerun2.md and VALIDATION.md together), and the
 * median at its record: issue 15's whole-run target of 12% is not met
 * (MEDIAN below), and the test fails if the median grows. Nothing is
 * fitted on these rows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "clitest.h"
#include "testutil.h"

#define DRIFT 0.03
#define TARGET_MEDIAN 0.12
#define MEDIAN 0.245

typedef enum { DAYS, GPU_HOURS, STEP_S, TOKENS_PER_S } metric;

enum { MAX_PARTS = 3 };

typedef struct {
  const char *id, *what;
  metric m;
  double published;
  bool in_median;               /* held out and counted */
  double expect_err;            /* ours / published - 1 (for tokens/s: published / ours - 1) */
  const char *scenario;         /* a run in phases (wholerun2/), or NULL */
  int gpus;                     /* with scenario: for GPU-hours */
  const char *parts[MAX_PARTS]; /* estimate flags; the figure is summed over them */
} row;

#define NEM "--model nemotron-4-15b --gpu h100-sxm --tp 8 --seq-parallel --zero 1 --seq-len 4096 --net-link ib-ndr"
#define PHI3 "--model phi-3-mini --gpu h100-sxm --gpus 512 --tp 1 --zero 1 --seq-len 4096 --global-batch 1024"
#define OLMO7 "--model olmo3-7b --gpu h100-sxm --gpus 512 --tp 1 --zero 1 --seq-len 8192 --global-batch 512"
#define OLMO32 \
  "--model olmo3-32b --gpu h100-sxm --gpus 1024 --tp 4 --seq-parallel --zero 1 --seq-len 8192 --global-batch 1024"
#define BBG                                                                                                         \
  "--model bloomberggpt-50b --gpu a100-40gb-sxm --gpus 512 --tp 1 --zero 3 --recompute full --seq-len 2048 "     \
  "--global-batch 2048 --net-link eth-100g --nics-per-node 4"

/* wholerun2.md's rows, in its order and with its configurations. */
static const row rows[] = {
  {"W14", "Nemotron-4 15B, its three stages", DAYS, 13.1, true, +0.195, NULL, 0,
   {NEM " --gpus 768 --global-batch 384 --train-tokens 200e9", NEM " --gpus 1536 --global-batch 768 --train-tokens 200e9",
    NEM " --gpus 2304 --global-batch 1152 --train-tokens 7.6e12"}},
  {"W15", "Phi-3-mini, 512 H100", DAYS, 7, true, -0.274, NULL, 0, {PHI3 " --train-tokens 3.3e12"}},
  {"W16", "Phi-3-mini (June), 512 H100", DAYS, 10, true, -0.245, NULL, 0, {PHI3 " --train-tokens 4.9e12"}},
  {"W17", "Phi-3-medium, 512 H100", DAYS, 42, true, -0.417, NULL, 0,
   {"--model phi-3-medium --gpu h100-sxm --gpus 512 --tp 2 --seq-parallel --zero 1 --seq-len 4096 "
    "--global-batch 1024 --train-tokens 4.8e12"}},
  {"W18", "GRIN-MoE, 512 H100", DAYS, 18, true, +0.146, NULL, 0,
   {"--model grin-moe --gpu h100-sxm --gpus 512 --tp 4 --seq-parallel --ep 1 --zero 1 --seq-len 4096 "
    "--global-batch 1024 --train-tokens 4.0e12"}},
  {"W19", "Phi-4, 1,920 H100, with midtraining", DAYS, 21, true, -0.348, "w19-phi-4.cfg", 1920, {NULL}},
  {"W20", "Phi-4-mini, 512 A100-80GB", DAYS, 21, true, -0.146, NULL, 0,
   {"--model phi-4-mini --gpu a100-80gb-sxm --gpus 512 --tp 1 --zero 1 --seq-len 4096 --global-batch 1024 "
    "--train-tokens 5e12"}},
  {"W21", "Phi-2, 96 A100-80GB", DAYS, 14, true, +0.183, NULL, 0,
   {"--model phi-2 --gpu a100-80gb-sxm --gpus 96 --tp 1 --zero 1 --seq-len 2048 --global-batch 2016 "
    "--train-tokens 1.4e12"}},
  {"W22", "DeepSeek-V3 context extension, 2,048 H800", GPU_HOURS, 119e3, true, +1.577,
   "w22-deepseek-v3-context.cfg", 2048, {NULL}},
  {"W23", "DeepSeek-V2, 2,048 H800", GPU_HOURS, 172.8e3 * 8.1, true, +0.371, NULL, 0,
   {"--model deepseek-v2 --gpu h800 --gpus 2048 --tp 1 --pp 16 --first-stage-layers 2 --last-stage-layers 2 "
    "--ep 8 --zero 1 --seq-len 4096 --global-batch 9216 --moe-capacity-factor 1 --net-link ib-ndr "
    "--train-tokens 8.1e12"}},
  /* W23z (W23 with ZB-H1, seen) does not fit in memory since pending weight
   * gradients are counted at what they hold: models/VALIDATION.md */
  {"W24", "DeepSeek LLM 67B, 2,048 H800", GPU_HOURS, 300.6e3 * 2, true, +0.730, NULL, 0,
   {"--model deepseek-llm-67b --gpu h800 --gpus 2048 --tp 8 --seq-parallel --zero 1 --seq-len 4096 "
    "--global-batch 1024 --net-link ib-ndr --train-tokens 2e12"}},
  {"W25", "Llama 3.1 8B, with long context", GPU_HOURS, 1.46e6, true, -0.437, "w25-llama3.1-8b.cfg", 2048, {NULL}},
  {"W26", "Llama 3.1 70B, with long context", GPU_HOURS, 7.0e6, true, +0.140, "w26-llama3.1-70b.cfg", 4096, {NULL}},
  {"W27", "Olmo 3 7B, 512 H100", GPU_HOURS, 234e3, true, -0.039, NULL, 0, {OLMO7 " --train-tokens 5.93e12"}},
  {"W28", "Olmo 3 32B, 1,024 H100", GPU_HOURS, 1.05e6, true, -0.174, NULL, 0, {OLMO32 " --train-tokens 5.5e12"}},
  {"W29", "SmolLM3 3B, 384 H100", DAYS, 24, true, -0.123, NULL, 0,
   {"--model smollm3-3b --gpu h100-sxm --gpus 384 --tp 2 --seq-parallel --zero 1 --seq-len 4096 "
    "--global-batch 576 --train-tokens 11.2e12"}},
  {"W30", "BloombergGPT 50B, 512 A100-40GB", DAYS, 53, true, +0.381, NULL, 0,
   {BBG " --rampup-batch-start 1024 --rampup-batch-increment 1024 --rampup-batch-samples 7372800 "
        "--train-tokens 569e9"}},
  {"W31", "Llama 3.2 1B at 9T (reported only)", GPU_HOURS, 370e3, false, -0.795, NULL, 0,
   {"--model llama3.2-1b --gpu h100-sxm --gpus 2048 --tp 1 --zero 1 --seq-len 8192 --global-batch 2048 "
    "--train-tokens 9e12"}},
  /* step-time rows (they join the held-out step-time rows; not in this median) */
  {"NS1", "Nemotron-4 15B, 768 H100, iteration", STEP_S, 0.57, false, +0.265, NULL, 0,
   {NEM " --gpus 768 --global-batch 384 --train-tokens 200e9"}},
  {"NS2", "Nemotron-4 15B, 1,536 H100, iteration", STEP_S, 0.58, false, +0.246, NULL, 0,
   {NEM " --gpus 1536 --global-batch 768 --train-tokens 200e9"}},
  {"NS3", "Nemotron-4 15B, 2,304 H100, iteration", STEP_S, 0.64, false, +0.130, NULL, 0,
   {NEM " --gpus 2304 --global-batch 1152 --train-tokens 7.6e12"}},
  {"OT1", "Olmo 3 7B, tokens/s/GPU", TOKENS_PER_S, 7700, false, +0.014, NULL, 0, {OLMO7 " --train-tokens 5.93e12"}},
  {"OT2", "Olmo 3 32B, tokens/s/GPU", TOKENS_PER_S, 1960, false, +0.067, NULL, 0, {OLMO32 " --train-tokens 5.5e12"}},
  {"BB1", "BloombergGPT 50B, iteration at batch 2,048", STEP_S, 32.5, false, +0.407, NULL, 0,
   {BBG " --train-tokens 569e9"}},
  /* W30s, BB1s: W30 and BB1 with the run's 128-GPU shard group, which they prompted (seen, reported only) */
  {"W30s", "BloombergGPT 50B, shard group 128 (seen)", DAYS, 53, false, +0.385, NULL, 0,
   {BBG " --dp-shard 128 --rampup-batch-start 1024 --rampup-batch-increment 1024 --rampup-batch-samples 7372800 "
        "--train-tokens 569e9"}},
  {"BB1s", "BloombergGPT 50B, iteration, shard group 128 (seen)", STEP_S, 32.5, false, +0.412, NULL, 0,
   {BBG " --dp-shard 128 --train-tokens 569e9"}},
};
enum { NROWS = sizeof rows / sizeof rows[0] };

static const char *const metric_key[] = {"train_days", "gpu_hours", "iteration_time_s", "tokens_per_s_per_gpu"};

/* One estimate: the metric's value, NAN after failing the test. */
static double estimate(const row *r, const char *flags)
{
  const char *argv[96] = {"estimate", "--train", "--json", "--catalog",
                          CS_SOURCE_DIR "/models/validation/training/wholerun2_models.cfg"};
  int n = 5;
  char *copy = strdup(flags);
  for (char *save = NULL, *t = strtok_r(copy, " ", &save); t && n < 95; t = strtok_r(NULL, " ", &save))
    argv[n++] = t;
  argv[n] = NULL;
  result res = run_argv(NULL, argv);
  double v = NAN;
  CHECK(res.rc == 0 && json_num(res.out, metric_key[r->m], &v), "%s: %s: exit %d, no %s; stderr:\n%s", r->id,
        res.cmd, res.rc, metric_key[r->m], res.err);
  result_free(&res);
  free(copy);
  return v;
}

/* A run in phases: its scenario's closed form, in days or GPU-hours. */
static double phased(const row *r, const char *dir)
{
  char *cfg = path_join(CS_SOURCE_DIR "/models/validation/training/wholerun2", r->scenario);
  const char *args[] = {"--catalog", CS_SOURCE_DIR "/models/validation/training/wholerun2_models.cfg", NULL};
  char *js = cs_run_summary(__FILE__, __LINE__, dir, cfg, r->id, args);
  double t = js ? cs_summary_num(__FILE__, __LINE__, js, "train_time_closed_form_s") : NAN;
  free(js);
  free(cfg);
  return r->m == DAYS ? t / 86400 : t * r->gpus / 3600;
}

static void test_rows(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("wholerun2");
  double med[NROWS];
  size_t nmed = 0;
  printf("\n| row | run | published | model | error | recorded |\n|---|---|---|---|---|---|\n");
  for (int i = 0; i < NROWS; i++) {
    const row *r = &rows[i];
    double v = 0;
    if (r->scenario)
      v = phased(r, dir);
    else
      for (int k = 0; k < MAX_PARTS && r->parts[k]; k++) v += estimate(r, r->parts[k]);
    double err = r->m == TOKENS_PER_S ? r->published / v - 1 : v / r->published - 1;
    printf("| %s | %s | %.4g | %.4g | %+.1f%% | %+.1f%% |\n", r->id, r->what, r->published, v, 100 * err,
           100 * r->expect_err);
    CHECK(fabs(err - r->expect_err) <= DRIFT, "%s (%s): error %+.1f%%, recorded %+.1f%% (more than %.0f points off)",
          r->id, r->what, 100 * err, 100 * r->expect_err, 100 * DRIFT);
    if (r->in_median) med[nmed++] = fabs(err);
  }
  gsl_sort(med, 1, nmed);
  double m = gsl_stats_median_from_sorted_data(med, 1, nmed);
  printf("held-out whole runs: %zu, median |error| %.1f%% (target %.0f%%: %s)\n", nmed, 100 * m,
         100 * TARGET_MEDIAN, m <= TARGET_MEDIAN ? "met" : "NOT met");
  CU_ASSERT_EQUAL(nmed, 17);
  CHECK(m <= MEDIAN + 0.005, "median %.1f%% grew past its record %.1f%%", 100 * m, 100 * MEDIAN);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

int main(void)
{
  static const cs_test tests[] = {
    {"second whole-run set and its step rows against their records", test_rows},
    {NULL, NULL},
  };
  return cs_run_suite("train_wholerun2_validation", tests);
}
