/* tests/unit/test_stack_validation.c: a fast subset of the per-stack validation table
 * (models/validation/stacks: measurements.csv, the scenarios, run_table.py and its
 * results.csv / results.md). Held-out rows covering every stack profile are run through
 * the clustersim program with their shipped scenario; each must run on the profile its
 * row names (summary.json pool0_stack) and stay within SV_DRIFT of the error recorded in
 * results.csv, so that a change of the model that moves a published comparison shows,
 * and comes with a re-run of run_table.py and an update of the table below. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clitest.h"
#include "testutil.h"

#define SV_DIR CS_SOURCE_DIR "/models/validation/stacks"
#define SV_DRIFT 0.05 /* 5 points of error, either way */

/* How the summary key becomes the row's unit (measurements.csv `unit`). */
typedef enum { SV_AS_IS, SV_MS, SV_INVERSE } svunit;

typedef struct {
  const char *id;       /* measurements.csv id (held out) */
  const char *scenario; /* models/validation/stacks/SCENARIO.cfg */
  const char *profile;  /* the stack profile it must run on */
  const char *key;      /* summary.json key (run_table.py METRIC) */
  svunit unit;
  double published;     /* measurements.csv value */
  double recorded_err;  /* results.csv error: predicted / published - 1 */
} svcase;

/* The recorded errors: results.csv of run_table.py on commit c2fe7ff+multi-step (2026-12-03).
 * Update them from a new results.csv when a change moves them on purpose. Rows sharing a
 * scenario are adjacent: the scenario then runs once. */
static const svcase cases[] = {
  {"lambda054-h100-mistral7b-sharegpt320-output", "lambda054-h100-mistral7b-sharegpt320", "vllm-v0",
   "output_tokens_per_s", SV_AS_IS, 3281.190660455182, +0.5092},
  {"lambda054-h100-mistral7b-sharegpt320-tpot", "lambda054-h100-mistral7b-sharegpt320", "vllm-v0", "tpot_p50_s",
   SV_MS, 41.45, -0.4383},
  {"vllm033-8xl40-llama7b-tp8-sharegpt-rate10-tpot", "vllm033-8xl40-llama7b-tp8-sharegpt-rate10", "vllm-v0",
   "tpot_mean_s", SV_MS, 49.34, -0.6963},
  {"vllmv1-0190-h100-qwen3-0.6b-512-128-rate16-ttft", "vllmv1-0190-h100-qwen3-0.6b-512-128-rate16", "vllm-v1",
   "ttft_mean_s", SV_MS, 38.9, -0.6254},
  {"vllmv1-0190-h100-qwen3-0.6b-512-128-rate16-tpot", "vllmv1-0190-h100-qwen3-0.6b-512-128-rate16", "vllm-v1",
   "tpot_mean_s", SV_MS, 2.39, -0.2135},
  {"vllmv1-0230-l4-qwen2.5-0.5b-256-128-c1-ttft", "vllmv1-0230-l4-qwen2.5-0.5b-256-128-c1", "vllm-v1",
   "ttft_p50_s", SV_MS, 27.0, -0.3686},
  {"vllmv1-0230-l4-qwen2.5-0.5b-256-128-c1-itl", "vllmv1-0230-l4-qwen2.5-0.5b-256-128-c1", "vllm-v1",
   "tpot_p50_s", SV_MS, 5.1, +0.0827},
  {"vllmv1-0230-l4-qwen2.5-0.5b-256-128-c1-e2e", "vllmv1-0230-l4-qwen2.5-0.5b-256-128-c1", "vllm-v1",
   "e2e_p50_s", SV_MS, 679, +0.0579},
  {"vllmv1-0230-a100-40gb-l31-8b-1024-128-c1-decode", "vllmv1-0230-a100-40gb-l31-8b-1024-128-c1", "vllm-v1",
   "tpot_mean_s", SV_INVERSE, 75, -0.0742},
  {"sgl030-a100-l31-8b-sharegpt-rps4-e2e", "sgl030-a100-l31-8b-sharegpt-rps4", "sglang", "e2e_p50_s", SV_MS,
   1564.17, +0.3155},
  {"sgl030-a100-l31-8b-sharegpt-rps4-ttft", "sgl030-a100-l31-8b-sharegpt-rps4", "sglang", "ttft_p50_s", SV_MS,
   31.98, -0.0497},
  {"sgl030-a100-l31-8b-sharegpt-rps4-tpot", "sgl030-a100-l31-8b-sharegpt-rps4", "sglang", "tpot_p50_s", SV_MS,
   13.17, -0.0491},
  {"trt017-l40s-l31-8b-2048-128", "trt017-l40s-l31-8b-2048-128", "tensorrt-llm", "output_tokens_per_s", SV_AS_IS,
   1066.52, +0.2397},
  {"trt017-h100-l31-70b-tp2-2048-128", "trt017-h100-l31-70b-tp2-2048-128", "tensorrt-llm", "output_tokens_per_s",
   SV_AS_IS, 772.66, +0.1505},
  {"trt014-h100-l31-70b-tp4-202-214-qps4-itl", "trt014-h100-l31-70b-tp4-202-214-qps4", "tensorrt-llm",
   "tpot_mean_s", SV_MS, 22, +0.0729},
  /* stack "other" (vLLM 0.6.0, multi-step) runs on vllm-v1 (models/validation/stacks/README.md) */
  {"vllm060ms-a100-l31-8b-sharegpt-rps4-e2e", "vllm060ms-a100-l31-8b-sharegpt-rps4", "vllm-v1", "e2e_p50_s", SV_MS,
   1691.97, +0.2779},
  {"vllm060ms-a100-l31-8b-sharegpt-rps4-tpot", "vllm060ms-a100-l31-8b-sharegpt-rps4", "vllm-v1", "tpot_p50_s",
   SV_MS, 14.14, -0.0831},
};

/* The row's figure in its unit from a summary key's value (NAN if it cannot be formed). */
static double in_unit(double v, svunit u)
{
  switch (u) {
  case SV_MS:
    return v * 1e3;
  case SV_INVERSE:
    return v > 0 ? 1 / v : NAN;
  case SV_AS_IS:
  default:
    return v;
  }
}

static void test_held_out_rows(void)
{
  printf("\n| row | stack | published | simulated | error | recorded |\n|---|---|---|---|---|---|\n");
  char *json = NULL, *dir = NULL;
  const char *ran = NULL;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const svcase *c = &cases[i];
    if (!ran || strcmp(ran, c->scenario) != 0) {
      free(json);
      json = NULL;
      if (dir) {
        cs_rm_rf(dir);
        free(dir);
      }
      char cfg[512], want[128];
      snprintf(cfg, sizeof cfg, "%s/%s.cfg", SV_DIR, c->scenario);
      dir = cs_tmpdir("stackval");
      result r = RUN("run", cfg, "-q", "-o", dir);
      CHECK_RC(r, 0);
      result_free(&r);
      char *sum = path_join(dir, "summary.json");
      json = cs_slurp(sum, NULL);
      free(sum);
      ran = c->scenario;
      snprintf(want, sizeof want, "\"pool0_stack\": \"%s\"", c->profile);
      CHECK(json && strstr(json, want), "%s: summary.json lacks %s (the scenario must set scheduler.stack)",
            c->scenario, want);
    }
    double v = NAN;
    CHECK(json && json_num(json, c->key, &v), "%s: no %s in summary.json of %s", c->id, c->key, c->scenario);
    double pred = in_unit(v, c->unit);
    double err = pred / c->published - 1;
    printf("| %s | %s | %.4g | %.4g | %+.1f%% | %+.1f%% |\n", c->id, c->profile, c->published, pred, 100 * err,
           100 * c->recorded_err);
    CHECK(isfinite(err) && fabs(err - c->recorded_err) <= SV_DRIFT,
          "%s moved: error %+.1f%%, recorded %+.1f%% (re-run models/validation/stacks/run_table.py and update "
          "this table)",
          c->id, 100 * err, 100 * c->recorded_err);
  }
  free(json);
  if (dir) {
    cs_rm_rf(dir);
    free(dir);
  }
}

/* Every profile the table covers appears in the subset, held out, so that no stack's
 * profile can move unseen. */
static void test_every_stack_covered(void)
{
  static const char *const profiles[] = {"vllm-v0", "vllm-v1", "sglang", "tensorrt-llm"};
  for (size_t p = 0; p < sizeof profiles / sizeof profiles[0]; p++) {
    size_t n = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
      n += strcmp(cases[i].profile, profiles[p]) == 0;
    CHECK(n >= 2, "stack %s has %zu rows in the subset (want at least 2)", profiles[p], n);
  }
}

int main(void)
{
  static const cs_test tests[] = {
    {"held-out rows at their recorded error", test_held_out_rows},
    {"every stack profile covered", test_every_stack_covered},
    {NULL, NULL},
  };
  return cs_run_suite("stack_validation", tests);
}
