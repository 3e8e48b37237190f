/* tests/unit/test_jobs.c: the shared cluster's job queue (models/training
 * jobs component) through the program: EASY backfill never starts a head
 * job after the reservation it was given when run times are declared
 * exactly (several seeds of a random mixed workload), FIFO starts jobs in
 * submission order, the cluster is never more than fully used, with no
 * failures every job takes exactly its run time plus its checkpoints, and
 * the work lost per failure matches the closed form for exponential
 * failures between checkpoints; a training job's recompute_layers and
 * offload keys act as estimate's flags; bad job lists give file:line
 * errors. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clitest.h"
#include "testutil.h"


/* A random mixed workload on 8 nodes of 8 GPUs. */
static const char mixed[] =
  "name = \"mixed\";\n"
  "jobs = {\n"
  "  nodes = 8; gpus_per_node = 8;\n"
  "  list = ( { name = \"big\"; gpus = 48; whole_nodes = true; duration_s = 90000.0; },\n"
  "           { name = \"mid\"; gpus = 16; tp = 8; arrival_s = 100.0; duration_s = 40000.0; } );\n"
  "  random = { rate_per_hour = 3.0; until_s = 172800.0; gpus = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0];\n"
  "             mean_duration_s = 10000.0; duration_cv = 1.5; };\n"
  "  failures = { checkpoint_s = 0.0; };\n"
  "  interval_s = 1800.0;\n"
  "};\n";

/* jobs.csv rows: submit, start, end, reserved, gpus, failures, lost. */
typedef struct {
  double submit, start, end, reserved, gpus, failures, lost;
  char name[64];
} row;

static int read_jobs(const char *path, row **out)
{
  char *text = cs_slurp(path, NULL);
  *out = NULL;
  if (!text) return -1;
  int n = 0;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    if (!strncmp(line, "job,", 4)) continue;
    char *f[16];
    int k = 0;
    for (char *p = line; k < 16;) {
      f[k++] = p;
      char *c = strchr(p, ',');
      if (!c) break;
      *c = '\0';
      p = c + 1;
    }
    if (k != 12) continue;
    *out = realloc(*out, (size_t)(n + 1) * sizeof **out);
    row *r = &(*out)[n++];
    snprintf(r->name, sizeof r->name, "%s", f[0]);
    r->gpus = atof(f[2]);
    r->submit = atof(f[3]);
    r->start = atof(f[4]);
    r->end = atof(f[5]);
    r->reserved = *f[7] ? atof(f[7]) : NAN;
    r->failures = atof(f[8]);
    r->lost = atof(f[9]);
  }
  free(text);
  return n;
}

static char *run_summary(const char *dir, const char *cfg, const char *out, const char *const *extra)
{
  const char *argv[32] = {"run", cfg, "-q", "-o", out};
  int n = 5;
  for (; extra && *extra && n < 31; extra++) argv[n++] = *extra;
  argv[n] = NULL;
  result r = run_argv(dir, argv);
  CHECK(r.rc == 0, "%s: exit %d: %s", r.cmd, r.rc, r.err);
  result_free(&r);
  char *o = path_join(dir, out), *p = path_join(o, "summary.json");
  char *json = cs_slurp(p, NULL);
  free(o);
  free(p);
  return json;
}

static void test_backfill_reservations(void)
{
  char *dir = cs_tmpdir("jobs_backfill");
  char *cfg = cs_write_file(dir, "mixed.cfg", mixed);
  int heads = 0;
  for (int seed = 1; seed <= 5; seed++) {
    char s[16], out[32];
    snprintf(s, sizeof s, "%d", seed);
    snprintf(out, sizeof out, "b%d", seed);
    const char *extra[] = {"--seed", s, NULL};
    char *json = run_summary(dir, "mixed.cfg", out, extra);
    double misses = -1, done = 0, jobs = 0, util = 2;
    CHECK(json && json_num(json, "backfill_reservation_misses", &misses) && misses == 0,
          "seed %d: %g heads started after their reservation", seed, misses);
    CHECK(json && json_num(json, "jobs", &jobs) && json_num(json, "jobs_completed", &done) && jobs == done && jobs > 50,
          "seed %d: %g of %g jobs done", seed, done, jobs);
    CHECK(json && json_num(json, "utilization", &util) && util > 0 && util <= 1, "seed %d: utilization %g", seed, util);
    free(json);
    char path[256];
    snprintf(path, sizeof path, "%s/%s/jobs.csv", dir, out);
    row *r;
    int n = read_jobs(path, &r);
    CHECK(n == (int)jobs, "seed %d: %d rows in jobs.csv", seed, n);
    for (int i = 0; i < n; i++) {
      if (isnan(r[i].reserved)) continue;
      heads++;
      CHECK(r[i].start <= r[i].reserved + 1e-6, "seed %d: %s reserved %.3f, started %.3f", seed, r[i].name,
            r[i].reserved, r[i].start);
    }
    free(r);
    /* the time series: never more than the cluster */
    snprintf(path, sizeof path, "%s/%s/timeseries.csv", dir, out);
    char *ts = cs_slurp(path, NULL);
    int rows = 0, over = 0;
    char *save = NULL;
    for (char *line = ts ? strtok_r(ts, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
      if (!strncmp(line, "time_s", 6)) continue;
      double t, busy, u;
      if (sscanf(line, "%lf,%lf,%lf", &t, &busy, &u) == 3) {
        rows++;
        if (u > 1 + 1e-9 || busy > 64 + 1e-6) over++;
      }
    }
    CHECK(rows > 50 && over == 0, "seed %d: %d of %d intervals above the cluster", seed, over, rows);
    free(ts);
  }
  printf("\n    %d heads given reservations, none started late  ", heads);
  CHECK(heads > 5, "only %d jobs were ever blocked heads: the test does not exercise backfill", heads);
  free(cfg);
  free(dir);
}

static void test_fifo_order_and_policies(void)
{
  char *dir = cs_tmpdir("jobs_fifo");
  char *cfg = cs_write_file(dir, "mixed.cfg", mixed);
  const char *fifo[] = {"--set", "jobs.policy=\"fifo\"", NULL};
  char *jf = run_summary(dir, "mixed.cfg", "f", fifo);
  char *jb = run_summary(dir, "mixed.cfg", "b", NULL);
  char path[256];
  snprintf(path, sizeof path, "%s/f/jobs.csv", dir);
  row *r;
  int n = read_jobs(path, &r);
  /* jobs.csv is in end order; sort by submission and check starts */
  for (int i = 1; i < n; i++)
    for (int k = i; k > 0 && r[k].submit < r[k - 1].submit; k--) {
      row t = r[k];
      r[k] = r[k - 1];
      r[k - 1] = t;
    }
  int bad = 0;
  for (int i = 1; i < n; i++)
    if (r[i].start < r[i - 1].start - 1e-9) bad++;
  CHECK(n > 50 && bad == 0, "fifo: %d of %d jobs started before an earlier submission", bad, n);
  free(r);
  double wf = 0, wb = 0;
  CHECK(jf && jb && json_num(jf, "wait_mean_s", &wf) && json_num(jb, "wait_mean_s", &wb) && wb < wf,
        "backfill mean wait %g not below fifo's %g", wb, wf);
  free(jf);
  free(jb);
  free(cfg);
  free(dir);
}

/* One job of 256 GPUs failing every 4 hours on average (MTBF per GPU 1,024
 * h), checkpoints every hour that cost nothing, no restart time: work lost
 * per failure is the time since the last checkpoint, a truncated
 * exponential: E[L] = 1/lambda - tau / (e^(lambda tau) - 1). */
static void test_failures(void)
{
  char *dir = cs_tmpdir("jobs_failures");
  const char *text =
    "name = \"fail\";\n"
    "jobs = {\n"
    "  nodes = 32; gpus_per_node = 8;\n"
    "  list = ( { name = \"long\"; gpus = 256; whole_nodes = true; duration_s = 7200000.0; } );\n"
    "  failures = { mtbf_gpu_h = 1024.0; checkpoint_interval_s = 3600.0; checkpoint_s = 0.0; restart_s = 0.0; };\n"
    "  interval_s = 86400.0;\n"
    "};\n";
  char *cfg = cs_write_file(dir, "fail.cfg", text);
  char *json = run_summary(dir, "fail.cfg", "o", NULL);
  double failures = 0, lost_gh = 0;
  CHECK(json && json_num(json, "failures", &failures) && json_num(json, "lost_work_gpu_hours", &lost_gh),
        "no failure counts");
  double lambda = 256.0 / (1024.0 * 3600.0), tau = 3600.0;
  double expect = 1 / lambda - tau / expm1(lambda * tau);
  double per = lost_gh * 3600.0 / 256.0 / failures;
  /* L is within [0, tau): sd <= tau / sqrt(12); 5 standard errors */
  double se = tau / sqrt(12.0) / sqrt(failures);
  printf("\n    %g failures, lost %.1f s each, closed form %.1f s (+-%.1f)  ", failures, per, expect, 5 * se);
  CHECK(failures > 300, "only %g failures", failures);
  CHECK(fabs(per - expect) < 5 * se, "lost %.1f s per failure, closed form %.1f +- %.1f", per, expect, 5 * se);
  /* the job's wall time = its work + the lost work (no restart cost) */
  row *r;
  char path[256];
  snprintf(path, sizeof path, "%s/o/jobs.csv", dir);
  int n = read_jobs(path, &r);
  CHECK(n == 1, "%d rows", n);
  if (n == 1) CS_ASSERT_REL(r[0].end - r[0].start, 7200000.0 + r[0].lost, 1e-9);
  free(r);
  free(json);
  /* no failures: exactly the run time plus one checkpoint per interval */
  const char *none[] = {"--set", "jobs.failures.mtbf_gpu_h=0", "--set", "jobs.failures.checkpoint_s=30", NULL};
  json = run_summary(dir, "fail.cfg", "n", none);
  snprintf(path, sizeof path, "%s/n/jobs.csv", dir);
  n = read_jobs(path, &r);
  /* 2000 intervals: checkpoints after the first 1999 */
  if (n == 1) CS_ASSERT_REL(r[0].end - r[0].start, 7200000.0 + 1999 * 30.0, 1e-12);
  free(r);
  free(json);
  free(cfg);
  free(dir);
}

/* A training job's run time is the training model's: equal to what
 * `clustersim estimate --train` says for the same job. */
static void test_training_job_duration(void)
{
  char *dir = cs_tmpdir("jobs_train");
  const char *text =
    "name = \"tj\";\n"
    "jobs = {\n"
    "  nodes = 8; gpus_per_node = 8;\n"
    "  list = ( { name = \"t\"; gpus = 64; whole_nodes = true; tp = 2; model = \"llama2-7b\";\n"
    "             train_tokens = 2e9; global_batch = 512; seq_len = 4096; zero = 1; } );\n"
    "  failures = { checkpoint_s = 0.0; };\n"
    "};\n";
  char *cfg = cs_write_file(dir, "tj.cfg", text);
  char *json = run_summary(dir, "tj.cfg", "o", NULL);
  free(json);
  char path[256];
  snprintf(path, sizeof path, "%s/o/jobs.csv", dir);
  row *r;
  int n = read_jobs(path, &r);
  result e = RUN("estimate", "--train", "--model", "llama2-7b", "--gpu", "a100-80gb-sxm", "--gpus", "64", "--tp", "2",
                 "--pp", "1", "--train-tokens", "2e9", "--global-batch", "512", "--seq-len", "4096", "--zero", "1",
                 "--recompute", "auto", "--dtype", "bf16", "--net-link", "ib-hdr", "--json");
  CHECK_RC(e, 0);
  double t = NAN;
  CHECK(json_num(e.out, "failure_free_time_s", &t), "estimate --train: no failure_free_time_s:\n%s", e.out);
  CHECK(n == 1, "%d rows", n);
  if (n == 1) CS_ASSERT_REL(r[0].end - r[0].start, t, 1e-9);
  result_free(&e);
  free(r);
  free(cfg);
  free(dir);
}

/* The job queue's training jobs share the defaults of `estimate --train`
 * and the training section: an H100 job across nodes (network default
 * NDR) with only its degrees and batch written takes exactly what the
 * estimate with the same flags, and nothing else, says. */
static void test_training_job_defaults(void)
{
  char *dir = cs_tmpdir("jobs_train_defaults");
  const char *text =
    "name = \"td\";\n"
    "jobs = {\n"
    "  gpu = \"h100-sxm\"; nodes = 4; gpus_per_node = 8;\n"
    "  list = ( { name = \"t\"; gpus = 32; whole_nodes = true; tp = 4; pp = 2; model = \"llama2-13b\";\n"
    "             train_tokens = 1e9; global_batch = 256; } );\n"
    "  failures = { checkpoint_s = 0.0; };\n"
    "};\n";
  char *cfg = cs_write_file(dir, "td.cfg", text);
  free(run_summary(dir, "td.cfg", "o", NULL));
  char path[256];
  snprintf(path, sizeof path, "%s/o/jobs.csv", dir);
  row *r;
  int n = read_jobs(path, &r);
  result e = RUN("estimate", "--train", "--model", "llama2-13b", "--gpu", "h100-sxm", "--gpus", "32", "--tp", "4",
                 "--pp", "2", "--train-tokens", "1e9", "--global-batch", "256", "--json");
  CHECK_RC(e, 0);
  double t = NAN;
  CHECK(json_num(e.out, "failure_free_time_s", &t), "estimate --train: no failure_free_time_s:\n%s", e.out);
  CHECK_OUT_HAS(e, "\"dp_link\": \"ib-ndr\"");
  CHECK(n == 1, "%d rows", n);
  if (n == 1) CS_ASSERT_REL(r[0].end - r[0].start, t, 1e-9);
  result_free(&e);
  free(r);
  free(cfg);
  free(dir);
}

/* Runs the one training job of `text` (written to dir/name) and checks
 * that its run time equals `estimate --train` with the arguments est and
 * differs from it with plain (the job's keys reach the training model and
 * are not ignored); est's output holds each of echo (it took the flags).
 * est, plain and echo: NULL-terminated; est and plain the arguments after
 * "estimate --train". */
static void job_as_estimate(const char *dir, const char *name, const char *text, const char *const *est,
                            const char *const *plain, const char *const *echo)
{
  char *cfg = cs_write_file(dir, name, text);
  free(run_summary(dir, name, "o", NULL));
  char path[256];
  snprintf(path, sizeof path, "%s/o/jobs.csv", dir);
  row *r;
  int n = read_jobs(path, &r);
  double t[2] = {NAN, NAN};
  const char *const *lists[2] = {est, plain};
  for (int k = 0; k < 2; k++) {
    const char *args[48] = {"estimate", "--train"};
    int a = 2;
    for (const char *const *x = lists[k]; *x && a < 46; x++) args[a++] = *x;
    args[a++] = "--json";
    args[a] = NULL;
    result e = run_argv(NULL, args);
    CHECK_RC(e, 0);
    CHECK(json_num(e.out, "failure_free_time_s", &t[k]), "estimate --train: no failure_free_time_s:\n%s", e.out);
    for (const char *const *x = echo; k == 0 && *x; x++) CHECK_OUT_HAS(e, *x);
    result_free(&e);
  }
  CHECK(n == 1, "%d rows", n);
  if (n == 1) {
    CS_ASSERT_REL(r[0].end - r[0].start, t[0], 1e-9);
    CU_ASSERT_TRUE(fabs(r[0].end - r[0].start - t[1]) > 1e-6 * t[1]);
  }
  free(r);
  free(cfg);
}

#define JOB_7B_16 "--model", "llama2-7b", "--gpus", "16", "--tp", "2", "--pp", "2", "--train-tokens", "1e9", \
                  "--global-batch", "64", "--zero", "1"

/* A training job's recompute_layers and offload keys reach the training
 * model as the training section's and estimate's do: a job that recomputes
 * 2 layers of each stage and offloads the optimizer and the activations
 * runs exactly as `estimate --train --recompute full --recompute-layers 2
 * --offload optimizer,activations`, and not as the same estimate without
 * them. */
static void test_training_job_recompute_offload(void)
{
  char *dir = cs_tmpdir("jobs_train_offload");
  static const char *const est[] = {JOB_7B_16, "--recompute", "full", "--recompute-layers", "2", "--offload",
                                    "optimizer,activations", NULL};
  static const char *const plain[] = {JOB_7B_16, "--recompute", "full", NULL};
  job_as_estimate(dir, "to.cfg",
                  "name = \"to\";\n"
                  "jobs = {\n"
                  "  nodes = 2; gpus_per_node = 8;\n"
                  "  list = ( { name = \"t\"; gpus = 16; whole_nodes = true; tp = 2; pp = 2; model = \"llama2-7b\";\n"
                  "             train_tokens = 1e9; global_batch = 64; zero = 1; recompute = \"full\"; recompute_layers = 2;\n"
                  "             offload = [ \"optimizer\", \"activations\" ]; } );\n"
                  "  failures = { checkpoint_s = 0.0; };\n"
                  "};\n",
                  est, plain, (const char *const[]){"\"offload\": \"optimizer,activations\"", "\"recompute_layers\": 2", NULL});
  free(dir);
}

/* A training job with a shard group and the zero-bubble schedule runs
 * exactly as `estimate --train --dp-shard 2 --pipeline-schedule zb-h1`,
 * and not as the estimate without them; a shard group that does not
 * divide is refused at the job's key. */
static void test_training_job_shard_schedule(void)
{
  char *dir = cs_tmpdir("jobs_train_shard");
  static const char *const est[] = {JOB_7B_16, "--dp-shard", "2", "--pipeline-schedule", "zb-h1", NULL};
  static const char *const plain[] = {JOB_7B_16, NULL};
  job_as_estimate(dir, "ts.cfg",
                  "name = \"ts\";\n"
                  "jobs = {\n"
                  "  nodes = 2; gpus_per_node = 8;\n"
                  "  list = ( { name = \"t\"; gpus = 16; whole_nodes = true; tp = 2; pp = 2; model = \"llama2-7b\";\n"
                  "             train_tokens = 1e9; global_batch = 64; zero = 1; dp_shard = 2; pipeline_schedule = \"zb-h1\"; } );\n"
                  "  failures = { checkpoint_s = 0.0; };\n"
                  "};\n",
                  est, plain, (const char *const[]){"\"dp_shard\": 2", "\"pipeline_schedule\": \"zb-h1\"", NULL});
  const char *bad =
    "name = \"tb\";\njobs = {\n  nodes = 2; gpus_per_node = 8;\n"
    "  list = ( { name = \"t\"; gpus = 16; whole_nodes = true; tp = 2; pp = 2; model = \"llama2-7b\";\n"
    "             train_tokens = 1e9; global_batch = 64; zero = 1; dp_shard = 3; } );\n};\n";
  free(cs_write_file(dir, "tb.cfg", bad));
  result c = run_in(dir, "check", "tb.cfg", (const char *)NULL);
  CHECK_RC(c, 2);
  CHECK_ERR_HAS(c, "jobs.list.[0].dp_shard");
  result_free(&c);
  free(dir);
}

/* Shares are shares: a run whose GPU-seconds, summed from nanosecond
 * times, come out a few ulp above the jobs' work (this one gave an
 * effective_fraction of 1.0000000000000002) reports at most 1, exactly 1
 * here (no failures, no checkpoints), and utilization never above 1. */
static void test_fractions_clamped(void)
{
  char *dir = cs_tmpdir("jobs_clamped");
  const char *text =
    "name = \"c\";\n"
    "jobs = { nodes = 1; gpus_per_node = 8; failures = { checkpoint_s = 0.0; };\n"
    "  list = ( { gpus = 8; duration_s = 31415.9265; }, { gpus = 4; arrival_s = 10.0; duration_s = 31415.9265; },\n"
    "           { gpus = 4; arrival_s = 20.0; duration_s = 1.1; } ); };\n";
  char *cfg = cs_write_file(dir, "c.cfg", text);
  char *json = run_summary(dir, "c.cfg", "o", NULL);
  double eff = NAN, u = NAN;
  CHECK(json && json_num(json, "effective_fraction", &eff) && json_num(json, "utilization", &u),
        "no effective_fraction or utilization in:\n%s", json ? json : "");
  CHECK(eff == 1, "effective_fraction %.17g, expected 1", eff);
  CHECK(u > 0 && u <= 1, "utilization %.17g", u);
  free(json);
  char path[256];
  snprintf(path, sizeof path, "%s/o/timeseries.csv", dir);
  char *ts = cs_slurp(path, NULL);
  int rows = 0, above = 0;
  for (char *line = ts ? strchr(ts, '\n') : NULL; line && line[1]; line = strchr(line + 1, '\n')) {
    double t, busy, util;
    if (sscanf(line + 1, "%lf,%lf,%lf", &t, &busy, &util) == 3) {
      rows++;
      above += util > 1 || busy > 8;
    }
  }
  CHECK(rows > 5 && above == 0, "%d time-series rows, %d above the cluster", rows, above);
  free(ts);
  free(cfg);
  free(dir);
}

/* Serving has priority: when it takes 3 of 4 nodes, the 2-node job is
 * preempted (losing at most a checkpoint interval of work) and resumes
 * when the nodes come back; nothing ever holds more than the cluster. */
static void test_serving_priority(void)
{
  char *dir = cs_tmpdir("jobs_serving");
  const char *text =
    "name = \"sv\";\n"
    "jobs = {\n"
    "  nodes = 4; gpus_per_node = 8;\n"
    "  list = ( { name = \"a\"; gpus = 16; whole_nodes = true; duration_s = 36000.0; } );\n"
    "  failures = { checkpoint_interval_s = 3600.0; checkpoint_s = 0.0; restart_s = 300.0; };\n"
    "  serving = ( { start_s = 0.0; nodes = 1; }, { start_s = 10000.0; nodes = 3; }, { start_s = 20000.0; nodes = 1; } );\n"
    "  interval_s = 600.0;\n"
    "};\n";
  char *cfg = cs_write_file(dir, "sv.cfg", text);
  char *json = run_summary(dir, "sv.cfg", "o", NULL);
  double pre = -1, done = 0;
  CHECK(json && json_num(json, "preemptions", &pre) && pre == 1, "preemptions %g, expected 1", pre);
  CHECK(json && json_num(json, "jobs_completed", &done) && done == 1, "%g jobs completed", done);
  char path[256];
  snprintf(path, sizeof path, "%s/o/jobs.csv", dir);
  row *r;
  int n = read_jobs(path, &r);
  if (n == 1) {
    /* preempted at 10000 s: 2 checkpoints done (7200 s kept), 2800 s lost;
     * back at 20000 s with a 300 s restart, 36000 - 7200 s of work left */
    CS_ASSERT_REL(r[0].lost, 2800.0, 1e-9);
    CS_ASSERT_REL(r[0].end, 20000.0 + 300.0 + (36000.0 - 7200.0), 1e-9);
  }
  free(r);
  snprintf(path, sizeof path, "%s/o/timeseries.csv", dir);
  char *ts = cs_slurp(path, NULL);
  int over = 0, rows = 0;
  char *save = NULL;
  for (char *line = ts ? strtok_r(ts, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
    double t, busy;
    if (sscanf(line, "%lf,%lf", &t, &busy) == 2) {
      rows++;
      if (busy > 32 + 1e-9) over++;
    }
  }
  CHECK(rows > 10 && over == 0, "%d of %d intervals above 32 GPUs", over, rows);
  free(ts);
  free(json);
  free(cfg);
  free(dir);
}

/* Autoscaled serving: nodes = ceil(peak rate of the interval / (per-node
 * rate x utilization)), within [min_nodes, nodes]; a daily cycle moves it
 * hour by hour. */
static void test_autoscale(void)
{
  char *dir = cs_tmpdir("jobs_autoscale");
  const char *text =
    "name = \"as\";\n"
    "jobs = {\n"
    "  nodes = 8; gpus_per_node = 8;\n"
    "  list = ( { name = \"a\"; gpus = 16; whole_nodes = true; duration_s = 172800.0; } );\n"
    "  failures = { checkpoint_interval_s = 3600.0; checkpoint_s = 0.0; restart_s = 0.0; };\n"
    "  autoscale = { rate = 10.0; daily = { amplitude = 0.5; peak_s = 43200.0; };\n"
    "                per_node_rate = 2.0; utilization = 1.0; interval_s = 3600.0; until_s = 86400.0; };\n"
    "  interval_s = 3600.0;\n"
    "};\n";
  char *cfg = cs_write_file(dir, "as.cfg", text);
  char *json = run_summary(dir, "as.cfg", "o", NULL);
  char path[256];
  snprintf(path, sizeof path, "%s/o/timeseries.csv", dir);
  char *ts = cs_slurp(path, NULL);
  int rows = 0, bad = 0, max_nodes = 0, min_nodes = 99;
  char *save = NULL;
  for (char *line = ts ? strtok_r(ts, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
    double t, busy, u, q, run, done, sg;
    if (sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf,%lf", &t, &busy, &u, &q, &run, &done, &sg) != 7) continue;
    /* the row for [t, t + 1 h) samples the pool at its end, before the
     * resize due then: the pool sized at t for the peak of [t, t + 1 h] */
    double t1 = t, t2 = t1 + 3600;
    if (t1 >= 86400) continue;
    double peak = 0;
    for (int k = 0; k <= 360; k++) {
      double x = t1 + (t2 - t1) * k / 360.0, r = 10.0 * (1 + 0.5 * cos(2 * 3.14159265358979323846 * (x - 43200.0) / 86400.0));
      if (r > peak) peak = r;
    }
    int want = (int)ceil(peak / 2.0 - 1e-9);
    if (want < 1) want = 1;
    if (want > 8) want = 8;
    rows++;
    if (sg != want * 8) bad++;
    if (sg / 8 > max_nodes) max_nodes = (int)(sg / 8);
    if (sg / 8 < min_nodes) min_nodes = (int)(sg / 8);
  }
  CHECK(rows >= 20 && bad == 0, "%d of %d hours with the wrong pool size", bad, rows);
  CHECK(max_nodes == 8 && min_nodes == 3, "pool from %d to %d nodes, expected 3 to 8", min_nodes, max_nodes);
  double pre = -1;
  CHECK(json && json_num(json, "preemptions", &pre) && pre >= 1, "the job was never preempted (%g)", pre);
  free(ts);
  free(json);
  free(cfg);
  free(dir);
}

static void test_bad_lists(void)
{
  char *dir = cs_tmpdir("jobs_bad");
  const char *text = "name = \"bad\";\n"
                     "jobs = {\n"
                     "  nodes = 2; gpus_per_node = 8;\n"
                     "  list = ( { gpus = 24; duration_s = 10.0; },\n"
                     "           { gpus = 12; tp = 16; duration_s = 10.0; },\n"
                     "           { gpus = 12; whole_nodes = true; duration_s = 10.0; } );\n"
                     "  gpu = \"a100-90gb\";\n"
                     "};\n";
  char *cfg = cs_write_file(dir, "bad.cfg", text);
  result r = run_in(dir, "check", "bad.cfg", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "bad.cfg:4: jobs.list.[0].gpus: 24 GPUs, more than the cluster's 16");
  CHECK_ERR_HAS(r, "bad.cfg:5: jobs.list.[1].tp: a group of 16 GPUs does not fit a node of 8");
  CHECK_ERR_HAS(r, "bad.cfg:6: jobs.list.[2].gpus: 12 GPUs is not whole nodes of 8");
  result_free(&r);
  free(cfg);
  free(dir);
}

int main(void)
{
  static const cs_test tests[] = {
    {"backfill keeps reservations; utilization <= 1", test_backfill_reservations},
    {"fifo order; backfill waits less", test_fifo_order_and_policies},
    {"failures against the closed form", test_failures},
    {"training job run time from the training model", test_training_job_duration},
    {"training jobs share estimate --train's defaults", test_training_job_defaults},
    {"training jobs take recompute_layers and offload", test_training_job_recompute_offload},
    {"training job: dp_shard and pipeline_schedule as estimate --train", test_training_job_shard_schedule},
    {"fractions clamped to [0, 1]", test_fractions_clamped},
    {"serving has priority", test_serving_priority},
    {"autoscaled serving pool", test_autoscale},
    {"bad job lists", test_bad_lists},
    {NULL, NULL},
  };
  return cs_run_suite("jobs", tests);
}
