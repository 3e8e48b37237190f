/* tests/unit/test_sweep.c: `clustersim sweep` through the program: every
 * row of sweep.csv equals the independent runs of its point (same seeds,
 * mean and Student-t half-width recomputed here), a sweep interrupted with
 * SIGINT and run again gives the same sweep.csv byte for byte as one run
 * without interruption, the scenario's sweep section is the same as
 * --vary flags, -j does not change the result, a point that cannot load is
 * recorded as invalid while the others run, and bad usage (no axis, bad
 * --vary, a database of another sweep) exits 2. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <sqlite3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clitest.h"
#include "testutil.h"

/* A small serving scenario: a few hundred requests, a fraction of a second. */
static const char scenario[] =
  "name = \"sw\";\nseed = 11;\n"
  "model = { name = \"llama2-7b\"; };\n"
  "cluster = { pools = ( { gpu = \"a100-80gb-sxm\"; replicas = 1; } ); };\n"
  "workload = {\n"
  "  arrivals = { rate = 4.0; };\n"
  "  prompt_tokens = { dist = \"lognormal\"; mean = 400.0; cv = 1.0; };\n"
  "  output_tokens = { dist = \"lognormal\"; mean = 100.0; cv = 1.0; };\n"
  "  requests = 400;\n"
  "  truncate = true;\n" /* a draw past the context is cut, not rejected: all 400 complete */
  "};\n"
  "slo = { ttft_s = 1.0; };\n";

/* Runs in the sweep database so far (0 while it does not exist yet). */
static int runs_in_db(const char *path)
{
  sqlite3 *db = NULL;
  int n = 0;
  if (access(path, R_OK) != 0) return 0;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
    sqlite3_stmt *st = NULL;
    sqlite3_busy_timeout(db, 1000);
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM runs", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

/* One CSV file as rows of fields (at most 512 columns, no quoting: the
 * project writes none). */
typedef struct {
  char *text;
  char **cells;   /* rows x cols */
  int rows, cols;
} csv;

static bool csv_read(const char *path, csv *t)
{
  memset(t, 0, sizeof *t);
  t->text = cs_slurp(path, NULL);
  if (!t->text) return false;
  for (char *line = t->text; *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    int n = 0;
    char *fields[512];
    for (char *p = line;;) {
      char *c = strchr(p, ',');
      if (c) *c = '\0';
      if (n < 512) fields[n++] = p;
      if (!c) break;
      p = c + 1;
    }
    if (t->rows == 0) t->cols = n;
    if (n == t->cols) {
      t->cells = realloc(t->cells, (size_t)(t->rows + 1) * (size_t)t->cols * sizeof *t->cells);
      memcpy(t->cells + (size_t)t->rows * (size_t)t->cols, fields, (size_t)n * sizeof *fields);
      t->rows++;
    }
    if (!nl) break;
    line = nl + 1;
  }
  return t->rows > 0;
}

static void csv_free(csv *t)
{
  free(t->text);
  free(t->cells);
}

static int col(const csv *t, const char *name)
{
  for (int c = 0; c < t->cols; c++)
    if (!strcmp(t->cells[c], name)) return c;
  return -1;
}

static const char *cell(const csv *t, int row, int c) { return t->cells[(size_t)row * (size_t)t->cols + (size_t)c]; }

static double run_metric(const char *dir, const char *cfg, const char *out, const char *set1, const char *set2,
                         const char *seed, const char *key)
{
  result r = run_in(dir, "run", cfg, "-q", "-o", out, "--set", set1, "--set", set2, "--seed", seed, (const char *)NULL);
  CHECK_RC(r, 0);
  result_free(&r);
  char *sum = path_join(dir, out), *p = path_join(sum, "summary.json");
  char *json = cs_slurp(p, NULL);
  double v = NAN;
  CHECK(json && json_num(json, key, &v), "%s: no %s", p, key);
  free(json);
  free(p);
  free(sum);
  return v;
}

static void test_rows_equal_runs(void)
{
  char *dir = cs_tmpdir("sweep_rows");
  char *cfg = cs_write_file(dir, "sw.cfg", scenario);
  result r = run_in(dir, "sweep", "sw.cfg", "--vary", "cluster.pools.[0].replicas=1,2", "--vary",
                    "workload.arrivals.rate=3:6:3", "-r", "2", "-q", "-o", "s", (const char *)NULL);
  CHECK_RC(r, 0);
  result_free(&r);
  char *csvp = path_join(dir, "s/sweep.csv");
  csv t;
  CHECK(csv_read(csvp, &t), "%s unreadable", csvp);
  CHECK(t.rows == 5, "sweep.csv: %d rows, expected a header and 4 points", t.rows);
  int cr = col(&t, "cluster.pools.[0].replicas"), ca = col(&t, "workload.arrivals.rate");
  int cm = col(&t, "ttft_p99_s_mean"), cc = col(&t, "ttft_p99_s_ci95"), cn = col(&t, "requests_completed_mean");
  CHECK(cr == 1 && ca == 2 && cm > 0 && cc > 0 && cn > 0, "columns: replicas %d, rate %d, mean %d, ci %d", cr, ca,
        cm, cc);
  for (int row = 1; row < t.rows && cm > 0 && cc > 0; row++) {
    char s1[128], s2[128];
    snprintf(s1, sizeof s1, "cluster.pools.[0].replicas=%s", cell(&t, row, cr));
    snprintf(s2, sizeof s2, "workload.arrivals.rate=%s", cell(&t, row, ca));
    /* replication k has seed 11 + k */
    double a = run_metric(dir, "sw.cfg", "r1", s1, s2, "11", "ttft_p99_s");
    double b = run_metric(dir, "sw.cfg", "r2", s1, s2, "12", "ttft_p99_s");
    double mean = (a + b) / 2, sd = fabs(a - b) / sqrt(2.0);
    /* t(0.975, 1) = 12.7062047361747 */
    CS_ASSERT_REL(atof(cell(&t, row, cm)), mean, 1e-12);
    CS_ASSERT_REL(atof(cell(&t, row, cc)), 12.7062047361747 * sd / sqrt(2.0), 1e-9);
    CHECK(atof(cell(&t, row, cn)) == 400, "point %d: %s requests completed", row, cell(&t, row, cn));
  }
  csv_free(&t);
  /* -j 1 gives the same bytes as the default */
  r = run_in(dir, "sweep", "sw.cfg", "--vary", "cluster.pools.[0].replicas=1,2", "--vary",
             "workload.arrivals.rate=3:6:3", "-r", "2", "-q", "-j", "1", "-o", "s1", (const char *)NULL);
  CHECK_RC(r, 0);
  result_free(&r);
  char *csv1 = path_join(dir, "s1/sweep.csv");
  CHECK(cs_same_file(csvp, csv1), "-j 1 and -j default differ: %s %s", csvp, csv1);
  /* running it again does nothing new and leaves the same file */
  r = run_in(dir, "sweep", "sw.cfg", "--vary", "cluster.pools.[0].replicas=1,2", "--vary",
             "workload.arrivals.rate=3:6:3", "-r", "2", "-o", "s1", (const char *)NULL);
  CHECK_RC(r, 0);
  CHECK_ERR_HAS(r, "0 runs to do, 8 already");
  result_free(&r);
  CHECK(cs_same_file(csvp, csv1), "a resumed complete sweep rewrote sweep.csv differently");
  free(csv1);
  free(csvp);
  free(cfg);
  free(dir);
}

/* Start clustersim with args in dir, without waiting. */
static pid_t spawn(const char *dir, const char *const *args)
{
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(dir) != 0) _exit(127);
    const char *argv[32] = {CS_BIN};
    int n = 1;
    for (; args[n - 1] && n < 31; n++) argv[n] = args[n - 1];
    argv[n] = NULL;
    if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(127);
    execv(CS_BIN, (char *const *)argv);
    _exit(127);
  }
  return pid;
}

static void test_interrupt_resume(void)
{
  char *dir = cs_tmpdir("sweep_resume");
  /* points of a few tenths of a second, so that SIGINT lands mid-sweep */
  char text[4096];
  snprintf(text, sizeof text, "%s", scenario);
  char *req = strstr(text, "requests = 400;");
  memcpy(req, "requests = 9000", 15);
  char *cfg = cs_write_file(dir, "sw.cfg", text);
  const char *full[] = {"sweep", "sw.cfg", "--vary", "cluster.pools.[0].replicas=1,2,3", "--vary",
                        "workload.arrivals.rate=2:12:2", "-j", "2", "-q", "-o", "full", NULL};
  result r = run_argv(dir, full);
  CHECK_RC(r, 0);
  result_free(&r);
  const char *cut[] = {"sweep", "sw.cfg", "--vary", "cluster.pools.[0].replicas=1,2,3", "--vary",
                       "workload.arrivals.rate=2:12:2", "-j", "2", "-q", "-o", "cut", NULL};
  /* interrupt once a few runs are in the database */
  pid_t pid = spawn(dir, cut);
  char *db = path_join(dir, "cut/sweep.db");
  struct timespec pause = {0, 10 * 1000 * 1000};
  int before = 0;
  for (int i = 0; i < 3000 && before < 3; i++) {
    nanosleep(&pause, NULL);
    before = runs_in_db(db);
  }
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 130, "interrupted sweep: exit status %d (expected 130)",
        WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  int after = runs_in_db(db);
  CHECK(after >= 3 && after < 18, "interrupted sweep kept %d of 18 runs", after);
  char *cutcsv = path_join(dir, "cut/sweep.csv"), *fullcsv = path_join(dir, "full/sweep.csv");
  r = run_argv(dir, cut);
  CHECK_RC(r, 0);
  result_free(&r);
  CHECK(runs_in_db(db) == 18, "after resuming: %d runs", runs_in_db(db));
  CHECK(cs_same_file(cutcsv, fullcsv), "resumed sweep.csv differs from the uninterrupted one (%s, %s)", cutcsv, fullcsv);
  printf("\n    interrupted with %d of 18 runs recorded  ", after);
  free(db);
  free(cutcsv);
  free(fullcsv);
  free(cfg);
  free(dir);
}

static void test_section_and_invalid(void)
{
  char *dir = cs_tmpdir("sweep_section");
  char text[4096];
  snprintf(text, sizeof text,
           "%s"
           "sweep = { vary = ( { key = \"cluster.pools.[0].gpu\"; values = [\"a100-80gb-sxm\", \"rtx-3080ti\"]; },\n"
           "                   { key = \"workload.arrivals.rate\"; from = 2.0; to = 4.0; step = 2.0; } );\n"
           "          replications = 1; };\n",
           scenario);
  char *cfg = cs_write_file(dir, "sec.cfg", text);
  result r = run_in(dir, "sweep", "sec.cfg", "-q", "-o", "a", (const char *)NULL);
  /* llama2-7b in fp16 does not fit a 12 GB RTX 3080 Ti: those points are invalid */
  CHECK_RC(r, 0);
  CHECK_ERR_HAS(r, "is invalid");
  CHECK_ERR_HAS(r, "does not fit");
  result_free(&r);
  char *p = path_join(dir, "a/sweep.csv");
  csv t;
  bool readable = csv_read(p, &t);
  CHECK(readable, "%s unreadable", p);
  if (readable && t.rows == 5) {
    int cg = col(&t, "cluster.pools.[0].gpu"), cs = col(&t, "status"), ce = col(&t, "error");
    for (int row = 1; row < 5; row++) {
      bool small = !strcmp(cell(&t, row, cg), "rtx-3080ti");
      CHECK(!strcmp(cell(&t, row, cs), small ? "invalid" : "complete"), "row %d: gpu %s status %s", row,
            cell(&t, row, cg), cell(&t, row, cs));
      if (small) CHECK(strstr(cell(&t, row, ce), "does not fit") != NULL, "row %d: error %s", row, cell(&t, row, ce));
    }
  } else {
    CHECK(false, "%s: %d rows, expected 5", p, t.rows);
  }
  csv_free(&t);
  /* the same axes as flags give the same numbers */
  char *plain = cs_write_file(dir, "plain.cfg", scenario);
  r = run_in(dir, "sweep", "plain.cfg", "-q", "-o", "b", "--vary", "cluster.pools.[0].gpu=a100-80gb-sxm,rtx-3080ti",
             "--vary", "workload.arrivals.rate=2:4:2", (const char *)NULL);
  CHECK_RC(r, 0);
  result_free(&r);
  csv a, b;
  char *pb = path_join(dir, "b/sweep.csv");
  if (csv_read(p, &a) && csv_read(pb, &b)) {
    int ma = col(&a, "e2e_p99_s_mean"), mb = col(&b, "e2e_p99_s_mean");
    CHECK(ma > 0 && mb > 0 && a.rows == b.rows, "columns or rows differ");
    for (int row = 1; row < a.rows && ma > 0 && mb > 0; row++)
      CHECK(!strcmp(cell(&a, row, ma), cell(&b, row, mb)), "row %d: section %s, flags %s", row, cell(&a, row, ma),
            cell(&b, row, mb));
    csv_free(&a);
    csv_free(&b);
  }
  /* a different sweep into the same directory is refused */
  r = run_in(dir, "sweep", "plain.cfg", "-q", "-o", "b", "--vary", "workload.arrivals.rate=2:6:2", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "another sweep");
  result_free(&r);
  free(pb);
  free(p);
  free(plain);
  free(cfg);
  free(dir);
}

static void test_usage_errors(void)
{
  char *dir = cs_tmpdir("sweep_usage");
  char *cfg = cs_write_file(dir, "sw.cfg", scenario);
  result r = run_in(dir, "sweep", "sw.cfg", "-q", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "nothing to vary");
  result_free(&r);
  r = run_in(dir, "sweep", "sw.cfg", "--vary", "nokey", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--vary nokey: expected KEY=V1,V2,... or KEY=A:B:STEP");
  result_free(&r);
  r = run_in(dir, "sweep", "sw.cfg", "--vary", "workload.arrivals.rate=5:1:1", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "A <= B and STEP > 0");
  result_free(&r);
  /* a key no point can take: every point is invalid */
  r = run_in(dir, "sweep", "sw.cfg", "-o", "x", "--vary", "cluster.pools.[0].replikas=1,2", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "replikas");
  result_free(&r);
  r = run_in(dir, "sweep", "sw.cfg", "--vary", "workload.arrivals.rate=1,2", "-j", "0", (const char *)NULL);
  CHECK_RC(r, 2);
  result_free(&r);
  free(cfg);
  free(dir);
}

int main(void)
{
  static const cs_test tests[] = {
    {"rows equal independent runs; -j; re-run", test_rows_equal_runs},
    {"interrupt and resume", test_interrupt_resume},
    {"sweep section, invalid points, another sweep", test_section_and_invalid},
    {"usage errors", test_usage_errors},
    {NULL, NULL},
  };
  return cs_run_suite("sweep", tests);
}
