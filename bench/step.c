/* bench/step.c: cost of one call of the compute core's step model
 * (llm_step), which a serving simulation makes once per batch step: a
 * decode batch of 64 sequences and a mixed chunked-prefill batch, for
 * Llama 2 70B on 4 x A100 over NVLink 3. Prints ns per call. */
#include <stdio.h>
#include <time.h>

#include "models/llm/llm_step.h"
#include "driver/config/catalog_load.h"

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(void)
{
  cfg_errors errs;
  cfg_errors_init(&errs, NULL);
  sim_catalogs *cats = cfg_catalogs_load_all(NULL, 0, &errs);
  cfg_errors_print(&errs, stderr);
  cfg_errors_release(&errs);
  if (!cats) return 1;
  const llm_arch *m = sim_catalog_find(cats, "models", "llama2-70b");
  const gpu_spec *g = sim_catalog_find(cats, "gpus", "a100-80gb-sxm");
  const net_link *nv = sim_catalog_find(cats, "links", "nvlink3");
  llm_replica r;
  llm_replica_init(&r, m, g, GPU_FP16, 4, 1, nv, NULL, 0.5e-3);
  const long n = 5000000;
  double sink = 0;
  for (int kind = 0; kind < 2; kind++) {
    double best = 1e9;
    for (int run = 0; run < 3; run++) {
      double t0 = now_s();
      for (long i = 0; i < n; i++) {
        llm_batch b = {0};
        if (kind == 0) {
          llm_batch_add_decode(&b, 64, 1000 + (double)(i & 1023));
        } else {
          llm_batch_add_prefill(&b, (double)(i & 511), 256, true);
          llm_batch_add_decode(&b, 32, 1500);
        }
        llm_step_cost c;
        llm_step(&r, &b, &c);
        sink += c.total_s;
      }
      double dt = now_s() - t0;
      if (dt < best) best = dt;
    }
    printf("llm_step, %-36s %6.1f ns/call (%.1f M calls/s)\n",
           kind == 0 ? "decode batch of 64, 70B TP4 A100:" : "256-token chunk + 32 decodes:",
           best / n * 1e9, n / best / 1e6);
  }
  fprintf(stderr, "(checksum %g)\n", sink);
  cfg_catalogs_free(cats);
  return 0;
}
