/* bench/bench_multi_model.c: the serving simulation's cost per request and
 * per event in a run where replicas swap models (issue 14), against the
 * cluster size. Five 7-13B models with skewed demand on one H100 pool
 * whose replicas swap weights on demand (as scenarios/multi-model-fleet.cfg),
 * at the same load per replica (--rate-per-replica, default 2 requests/s),
 * at 8, 64 and 512 replicas (--sizes), each run --requests requests
 * (default 40000). Each run is a child process running the build's
 * clustersim (next to bench/, or --clustersim PATH); its CPU time comes
 * from wait4. Prints per
 * size: events, CPU seconds, ns per event, ns per request, events per
 * second, and the ratio of ns per request to the first size (the target:
 * flat). Builds nothing; one run at a time; best of --runs (default 3). */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/benchrun.h"
#include "bench/benchutil.h"

static const char scenario[] =
  "name = \"bench-multi-model\";\n"
  "seed = 1;\n"
  "model = { name = \"llama3.1-8b\"; precision = \"bf16\"; };\n"
  "cluster = {\n"
  "  pools = ( { gpu = \"h100\"; replicas = 8;\n"
  "              models = [\"llama3.1-8b\", \"qwen3-8b\", \"mistral-7b\", \"llama3-8b\", \"llama2-13b\"]; } );\n"
  "  weight_swap = { policy = \"%s\"; from = \"host-memory\"; };\n"
  "};\n"
  "workload = {\n"
  "  classes = (\n"
  "    { name = \"a\"; model = \"llama3.1-8b\"; arrivals = { rate = %.10g; };\n"
  "      prompt_tokens = { dist = \"lognormal\"; mean = 1000.0; cv = 1.0; };\n"
  "      output_tokens = { dist = \"lognormal\"; mean = 250.0; cv = 1.0; }; truncate = true; },\n"
  "    { name = \"b\"; model = \"qwen3-8b\"; arrivals = { rate = %.10g; };\n"
  "      prompt_tokens = { dist = \"lognormal\"; mean = 1000.0; cv = 1.0; };\n"
  "      output_tokens = { dist = \"lognormal\"; mean = 250.0; cv = 1.0; }; truncate = true; },\n"
  "    { name = \"c\"; model = \"mistral-7b\"; arrivals = { rate = %.10g; };\n"
  "      prompt_tokens = { dist = \"lognormal\"; mean = 1000.0; cv = 1.0; };\n"
  "      output_tokens = { dist = \"lognormal\"; mean = 250.0; cv = 1.0; }; truncate = true; },\n"
  "    { name = \"d\"; model = \"llama3-8b\"; arrivals = { rate = %.10g; };\n"
  "      prompt_tokens = { dist = \"lognormal\"; mean = 1000.0; cv = 1.0; };\n"
  "      output_tokens = { dist = \"lognormal\"; mean = 250.0; cv = 1.0; }; truncate = true; },\n"
  "    { name = \"e\"; model = \"llama2-13b\"; arrivals = { rate = %.10g; };\n"
  "      prompt_tokens = { dist = \"lognormal\"; mean = 1000.0; cv = 1.0; };\n"
  "      output_tokens = { dist = \"lognormal\"; mean = 250.0; cv = 1.0; }; truncate = true; }\n"
  "  );\n"
  "  requests = %lld;\n"
  "};\n"
  "scheduler = { stack = \"vllm-v1\"; max_num_seqs = 4; };\n"
  "router = { policy = \"%s\"; };\n"
  "output = { interval_s = 60.0; };\n";

/* The demand shares of the five models (scenarios/multi-model-fleet.cfg's). */
static const double share[5] = {3.0 / 5.85, 1.5 / 5.85, 0.75 / 5.85, 0.4 / 5.85, 0.2 / 5.85};

typedef struct {
  double cpu_s, events, swaps;
} run_result;

/* One run in a child process: the scenario at n replicas; false if it failed. */
static const char *clustersim;

static bool run_once(const char *dir, int n, double rate_per_rep, long long requests, const char *swap,
                     const char *router, run_result *out)
{
  char cfg[512], outdir[512], reps[64];
  snprintf(cfg, sizeof cfg, "%s/bench.cfg", dir);
  snprintf(outdir, sizeof outdir, "%s/out", dir);
  FILE *f = fopen(cfg, "w");
  if (!f) return false;
  double rate = rate_per_rep * n;
  fprintf(f, scenario, swap, rate * share[0], rate * share[1], rate * share[2], rate * share[3], rate * share[4],
          requests, router);
  fclose(f);
  snprintf(reps, sizeof reps, "cluster.pools.[0].replicas=%d", n);
  char *argv[] = {"clustersim", "run", cfg, "-q", "-o", outdir, "--set", reps, NULL};
  if (!bench_run_child(clustersim, argv, &out->cpu_s)) return false;
  char sum[600];
  snprintf(sum, sizeof sum, "%s/summary.json", outdir);
  json_error_t err;
  json_t *j = json_load_file(sum, 0, &err);
  if (!j) return false;
  out->events = json_number_value(json_object_get(j, "events"));
  out->swaps = json_number_value(json_object_get(j, "weight_swaps"));
  json_decref(j);
  return true;
}

int main(int argc, char **argv)
{
  int sizes[16] = {8, 64, 512}, nsizes = 3, runs = 3;
  long long requests = 40000;
  double rate_per_rep = 2.0;
  const char *swap = "popularity", *router = "least-outstanding";
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
    } else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
      nsizes = 0;
      for (char *t = strtok(argv[++i], " ,"); t && nsizes < 16; t = strtok(NULL, " ,")) sizes[nsizes++] = atoi(t);
    } else if (!strcmp(argv[i], "--requests") && i + 1 < argc) {
      requests = (long long)atof(argv[++i]);
    } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
      runs = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--rate-per-replica") && i + 1 < argc) {
      rate_per_rep = atof(argv[++i]);
    } else if (!strcmp(argv[i], "--swap") && i + 1 < argc) {
      swap = argv[++i];
    } else if (!strcmp(argv[i], "--router") && i + 1 < argc) {
      router = argv[++i];
    } else {
      fprintf(stderr, "usage: bench_multi_model [--clustersim PATH] [--sizes \"8 64 512\"] [--requests N] [--runs R]\n"
                      "         [--rate-per-replica X] [--swap lru|popularity] [--router POLICY]\n");
      return 2;
    }
  }
  if (!clustersim || access(clustersim, X_OK) != 0) {
    fprintf(stderr, "bench_multi_model: no clustersim program (build it, or --clustersim PATH)\n");
    return 2;
  }
  char dir[] = "/tmp/bench_mm.XXXXXX";
  if (!mkdtemp(dir)) return 1;
  printf("# multi-model swapping run: 5 models, H100, %g req/s per replica, %lld requests, swap %s, router %s,"
         " best of %d (CPU time)\n",
         rate_per_rep, requests, swap, router, runs);
  printf("%9s %10s %8s %10s %12s %12s %10s %8s\n", "replicas", "events", "cpu_s", "ns/event", "ns/request",
         "events/s", "swaps", "ratio");
  double ref = 0;
  int rc = 0;
  for (int k = 0; k < nsizes; k++) {
    run_result best = {0};
    for (int r = 0; r < runs; r++) {
      run_result x;
      if (!run_once(dir, sizes[k], rate_per_rep, requests, swap, router, &x)) {
        fprintf(stderr, "bench_multi_model: the run at %d replicas failed\n", sizes[k]);
        rc = 1;
        goto done;
      }
      if (r == 0 || x.cpu_s < best.cpu_s) best = x;
    }
    double per_req = best.cpu_s / (double)requests * 1e9;
    if (k == 0) ref = per_req;
    printf("%9d %10.0f %8.2f %10.1f %12.1f %12.3g %10.0f %8.2f\n", sizes[k], best.events, best.cpu_s,
           best.cpu_s / best.events * 1e9, per_req, best.events / best.cpu_s, best.swaps, per_req / ref);
    fflush(stdout);
  }
done:
  bench_rm_tree(dir);
  return rc;
}
