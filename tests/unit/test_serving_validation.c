/* tests/unit/test_serving_validation.c: whole serving runs against
 * published end-to-end measurements (models/VALIDATION.md, section "Whole
 * serving runs", has the table and the sources; the scenarios and traces
 * are in models/validation/serving/). Each case runs the clustersim
 * program on its shipped scenario and reads one figure from summary.json.
 * As for the compute core, the test holds what is reached now: every case
 * within SV_TOLERANCE of the published figure and no case more than
 * SV_DRIFT from the error recorded with it, so that a change of the model
 * that moves a case comes with an update of the table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "clitest.h"
#include "testutil.h"

#define SV_DIR CS_SOURCE_DIR "/models/validation/serving"
#define SV_TOLERANCE 0.40
#define SV_DRIFT 0.05

typedef struct {
  const char *id, *scenario, *metric, *what;
  double published;
  double expect_err;  /* recorded in models/VALIDATION.md */
} svcase;

static const svcase cases[] = {
  {"S1", "anyscale-opt13b-cap32", "throughput_tokens_per_s", "OPT-13B burst, outputs capped 32 (tok/s)", 6121, -0.02},
  {"S2", "anyscale-opt13b-cap128", "throughput_tokens_per_s", "capped 128 (tok/s)", 3592, +0.04},
  {"S3", "anyscale-opt13b-cap512", "throughput_tokens_per_s", "capped 512 (tok/s)", 2029, +0.13},
  {"S4", "anyscale-opt13b-cap1536", "throughput_tokens_per_s", "capped 1536 (tok/s)", 1898, +0.06},
  {"S5", "anyscale-opt13b-latency-qps1", "e2e_p50_s", "OPT-13B 1 req/s, median e2e (s)", 3.6, -0.12},
  {"S6", "anyscale-opt13b-latency-qps4", "e2e_p50_s", "OPT-13B 4 req/s, median e2e (s)", 4.6, -0.08},
  {"S7", "vllm066-llama70b-4xa100-sharegpt200", "throughput_requests_per_s", "Llama-3 70B TP4 burst (req/s)", 3.28, +0.26},
  {"S8", "vllm066-llama70b-4xa100-latency-b8", "e2e_mean_s", "Llama-3 70B TP4 batch 8 (s)", 4.946, -0.34},
};

static void test_cases(void)
{
  printf("\n| # | case | published | simulated | error |\n|---|---|---|---|---|\n");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const svcase *c = &cases[i];
    char cfg[512], tag[64];
    snprintf(cfg, sizeof cfg, "%s/%s.cfg", SV_DIR, c->scenario);
    snprintf(tag, sizeof tag, "sv-%s", c->id);
    char *dir = cs_tmpdir(tag);
    result r = RUN("run", cfg, "-q", "-o", dir);
    CHECK_RC(r, 0);
    char *sum = path_join(dir, "summary.json");
    char *json = cs_slurp(sum, NULL);
    double v = NAN;
    CHECK(json && json_num(json, c->metric, &v), "%s: no %s in %s", c->id, c->metric, sum);
    double err = v / c->published - 1;
    printf("| %s | %s | %.4g | %.4g | %+.0f%% |\n", c->id, c->what, c->published, v, 100 * err);
    CHECK(fabs(err) <= SV_TOLERANCE, "%s: %s = %g, published %g: error %+.0f%% beyond %.0f%%", c->id, c->metric, v,
          c->published, 100 * err, 100 * SV_TOLERANCE);
    CHECK(fabs(err - c->expect_err) <= SV_DRIFT,
          "%s moved: error %+.1f%%, recorded %+.0f%% (update models/VALIDATION.md and this table)", c->id,
          100 * err, 100 * c->expect_err);
    free(json);
    free(sum);
    free(dir);
    result_free(&r);
  }
}

int main(void)
{
  static const cs_test tests[] = {
    {"published serving runs within tolerance", test_cases},
    {NULL, NULL},
  };
  return cs_run_suite("serving_validation", tests);
}
