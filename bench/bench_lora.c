/* bench/bench_lora.c: the serving simulation's cost per request and per
 * event when LoRA adapters are many and the queue is long (issue 14):
 * Llama 2 7B on one A100 pool, max_loras 8 (--max-loras), adapters drawn
 * by Zipf 1 among 64, 1,024 and 16,384 (--adapters), at an overload
 * (--rate, default 30 requests/s on 2 replicas that serve about 10) whose
 * clients give up after 300 s, so that thousands wait and a request
 * whose adapter is not in the batch is skipped past (the scheduler's
 * look-ahead, serving_lora.h). Each run is a child process running the
 * build's clustersim (next to bench/, or --clustersim PATH: before/after
 * comparisons); its CPU time comes from wait4. Prints per adapter count:
 * events, CPU seconds, ns per event, ns per request, events per second,
 * requests completed and timed out, and the mean number in the system.
 * Builds nothing; one run at a time; best of --runs (default 3). */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/benchrun.h"

static const char scenario[] =
  "name = \"bench-lora\";\n"
  "seed = 1;\n"
  "model = { name = \"llama2-7b\"; precision = \"fp16\"; };\n"
  "cluster = { pools = ( { gpu = \"a100-80gb-sxm\"; replicas = 2; max_loras = %d; } ); };\n"
  "workload = {\n"
  "  arrivals = { rate = %.10g; };\n"
  "  prompt_tokens = { dist = \"lognormal\"; mean = 600.0; cv = 1.0; };\n"
  "  output_tokens = { dist = \"lognormal\"; mean = 150.0; cv = 1.0; }; truncate = true;\n"
  "  lora = { adapters = %d; rank = 16; zipf = 1.0; };\n"
  "  timeout_s = 300.0;\n"
  "  requests = %lld;\n"
  "};\n"
  "scheduler = { policy = \"continuous\"; };\n"
  "router = { policy = \"least-outstanding\"; };\n";

typedef struct {
  double cpu_s, events, completed, timed_out, in_system;
} run_result;

static const char *clustersim;

/* One run in a child process; false if it failed. */
static bool run_once(const char *dir, int adapters, int max_loras, double rate, long long requests, run_result *out)
{
  char cfg[512], outdir[512];
  snprintf(cfg, sizeof cfg, "%s/bench.cfg", dir);
  snprintf(outdir, sizeof outdir, "%s/out", dir);
  FILE *f = fopen(cfg, "w");
  if (!f) return false;
  fprintf(f, scenario, max_loras, rate, adapters, requests);
  fclose(f);
  char *argv[] = {"clustersim", "run", cfg, "-q", "-o", outdir, NULL};
  if (!bench_run_child(clustersim, argv, &out->cpu_s)) return false;
  char sum[600];
  snprintf(sum, sizeof sum, "%s/summary.json", outdir);
  json_error_t err;
  json_t *j = json_load_file(sum, 0, &err);
  if (!j) return false;
  out->events = json_number_value(json_object_get(j, "events"));
  out->completed = json_number_value(json_object_get(j, "requests_completed"));
  out->timed_out = json_number_value(json_object_get(j, "requests_timed_out"));
  out->in_system = json_number_value(json_object_get(j, "requests_in_system_mean"));
  json_decref(j);
  return true;
}

int main(int argc, char **argv)
{
  int adapters[16] = {64, 1024, 16384}, nadapters = 3, runs = 3, max_loras = 8;
  long long requests = 40000;
  double rate = 30.0;
  char exe[4096];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 32);
  if (len > 0) {
    exe[len] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    slash = strrchr(exe, '/');
    if (slash) strcpy(slash, "/clustersim");
    clustersim = exe;
  }
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--clustersim") && i + 1 < argc) {
      clustersim = argv[++i];
    } else if (!strcmp(argv[i], "--adapters") && i + 1 < argc) {
      nadapters = 0;
      for (char *t = strtok(argv[++i], " ,"); t && nadapters < 16; t = strtok(NULL, " ,"))
        adapters[nadapters++] = atoi(t);
    } else if (!strcmp(argv[i], "--requests") && i + 1 < argc) {
      requests = (long long)atof(argv[++i]);
    } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
      runs = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--rate") && i + 1 < argc) {
      rate = atof(argv[++i]);
    } else if (!strcmp(argv[i], "--max-loras") && i + 1 < argc) {
      max_loras = atoi(argv[++i]);
    } else {
      fprintf(stderr, "usage: bench_lora [--clustersim PATH] [--adapters \"64 1024 16384\"] [--requests N] [--runs R]\n"
                      "                  [--rate X] [--max-loras K]\n");
      return 2;
    }
  }
  if (!clustersim || access(clustersim, X_OK) != 0) {
    fprintf(stderr, "bench_lora: no clustersim program (build it, or --clustersim PATH)\n");
    return 2;
  }
  char dir[] = "/tmp/bench_lora.XXXXXX";
  if (!mkdtemp(dir)) return 1;
  printf("# LoRA overload: Llama 2 7B, 2 x A100, max_loras %d, %g req/s, %lld requests, time-out 300 s,"
         " best of %d (CPU time)\n",
         max_loras, rate, requests, runs);
  printf("%9s %10s %8s %10s %12s %12s %10s %10s %10s\n", "adapters", "events", "cpu_s", "ns/event", "ns/request",
         "events/s", "completed", "timed_out", "in_system");
  int rc = 0;
  for (int k = 0; k < nadapters; k++) {
    run_result best = {0};
    for (int r = 0; r < runs; r++) {
      run_result x;
      if (!run_once(dir, adapters[k], max_loras, rate, requests, &x)) {
        fprintf(stderr, "bench_lora: the run with %d adapters failed\n", adapters[k]);
        rc = 1;
        goto done;
      }
      if (r == 0 || x.cpu_s < best.cpu_s) best = x;
    }
    printf("%9d %10.0f %8.2f %10.1f %12.1f %12.3g %10.0f %10.0f %10.0f\n", adapters[k], best.events, best.cpu_s,
           best.cpu_s / best.events * 1e9, best.cpu_s / (double)requests * 1e9, best.events / best.cpu_s,
           best.completed, best.timed_out, best.in_system);
    fflush(stdout);
  }
done:
  bench_rm_tree(dir);
  return rc;
}
