/* tests/unit/test_sweep.c: `clustersim sweep` through the program: every
 * row of sweep.csv equals the independent runs of its point (same seeds,
 * mean and Student-t half-width recomputed here), a sweep interrupted with
 * SIGINT and run again gives the same sweep.csv byte for byte as one run
 * without interruption, the scenario's sweep section is the same as
 * --vary flags, -j does not change the result, a point that cannot load is
 * recorded as invalid while the others run, and bad usage (no axis, bad
 * --vary, a database of another sweep) exits 2. A resume is refused, naming
 * what changed, after a trace, an @include'd file, a catalog, --set, the
 * seed, the version or a file of an axis over files changed (--restart
 * discards, and gives the fresh sweep's bytes); a file changed while the
 * sweep runs is caught; two sweeps on one directory share the work, each
 * run once, and a killed one's claims are taken over; point counts over
 * --max-points are a one-line usage error; the table on standard output
 * shows the headline metrics (or --metrics) with the values of sweep.csv;
 * sweep.csv has every metric any point reports; the bad inputs in
 * tests/badinputs/ end as they should. In process: the results database's
 * claims, the export and the wire format. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <sqlite3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clitest.h"
#include "driver/sweep/sweep.h"
#include "testutil.h"

#define BADINPUTS CS_SOURCE_DIR "/tests/badinputs"

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

/* ---- helpers for the tests below ---- */

/* Run argv (argv[0] a path, not clustersim) in dir, capturing its output. */
static result run_prog(const char *dir, const char *const *argv)
{
  result r = {0};
  snprintf(r.cmd, sizeof r.cmd, "%s", argv[0]);
  for (int i = 1; argv[i]; i++) {
    strncat(r.cmd, " ", sizeof r.cmd - strlen(r.cmd) - 1);
    strncat(r.cmd, argv[i], sizeof r.cmd - strlen(r.cmd) - 1);
  }
  char saved[4096];
  if (!getcwd(saved, sizeof saved) || chdir(dir) != 0) {
    fail_at(__LINE__, "cannot change to %s", dir);
    r.rc = -1;
    r.out = calloc(1, 1);
    r.err = calloc(1, 1);
    return r;
  }
  r.rc = cs_run_capture((char *const *)argv, &r.out, &r.err);
  if (chdir(saved) != 0) fail_at(__LINE__, "cannot return to %s", saved);
  if (!r.out) r.out = calloc(1, 1);
  if (!r.err) r.err = calloc(1, 1);
  return r;
}

/* The first column of the first row of sql on the database, or -1. */
static long long db_int(const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  long long v = -1;
  if (access(path, R_OK) != 0) return -1;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
    sqlite3_stmt *st = NULL;
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return v;
}

static bool db_exec(const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  bool ok = sqlite3_open(path, &db) == SQLITE_OK && sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
  sqlite3_close(db);
  return ok;
}

static int count_lines(const char *s)
{
  int n = 0;
  for (; s && *s; s++) n += *s == '\n';
  return n;
}

static int count_of(const char *s, const char *needle)
{
  int n = 0;
  for (const char *p = s; p && (p = strstr(p, needle)); p += strlen(needle)) n++;
  return n;
}

/* Start clustersim with args in dir, stdout to /dev/null and stderr to
 * errfile (NULL: /dev/null), without waiting. */
static pid_t spawn_err(const char *dir, const char *const *args, const char *errfile)
{
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(dir) != 0) _exit(127);
    const char *argv[40] = {CS_BIN};
    int n = 1;
    for (; args[n - 1] && n < 39; n++) argv[n] = args[n - 1];
    argv[n] = NULL;
    if (!freopen("/dev/null", "w", stdout) || !freopen(errfile ? errfile : "/dev/null", "w", stderr)) _exit(127);
    execv(CS_BIN, (char *const *)argv);
    _exit(127);
  }
  return pid;
}

/* Wait until sql on db gives at least `want` (10 ms steps, at most 60 s). */
static long long wait_for(const char *db, const char *sql, long long want)
{
  struct timespec pause = {0, 10 * 1000 * 1000};
  long long v = -1;
  for (int i = 0; i < 6000; i++) {
    v = db_int(db, sql);
    if (v >= want) break;
    nanosleep(&pause, NULL);
  }
  return v;
}

static int exit_status(pid_t pid)
{
  int st = 0;
  while (waitpid(pid, &st, 0) < 0) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* text with the first `from` replaced by `to` (malloc'd); NULL if absent. */
static char *replaced(const char *text, const char *from, const char *to)
{
  const char *at = text ? strstr(text, from) : NULL;
  if (!at) return NULL;
  size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
  char *s = malloc(n);
  snprintf(s, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
  return s;
}

/* A trace of `rows` requests (CSV as the Azure trace), prompts of `prompt` tokens. */
static char *trace_text(int rows, int prompt)
{
  size_t n = (size_t)rows * 40 + 64;
  char *s = malloc(n);
  size_t k = (size_t)snprintf(s, n, "TIMESTAMP,ContextTokens,GeneratedTokens\n");
  for (int i = 0; i < rows; i++)
    k += (size_t)snprintf(s + k, n - k, "%d.%03d,%d,%d\n", i / 20, (i % 20) * 50, prompt + i % 100, 20 + i % 30);
  return s;
}

/* ---- the bad inputs of tests/badinputs ---- */

static void test_bad_inputs(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("sweep_badinputs");
  /* 10^15 points and 16^16 (which wrapped to 0): one line each, exit 2, nothing written */
  const char *ov[] = {"/bin/bash", BADINPUTS "/sweep-points-overflow.sh", CS_BIN, NULL};
  result r = run_prog(dir, ov);
  CHECK(strstr(r.out, "(a) rc=2") && strstr(r.out, "(b) rc=2"), "%s: %s", r.cmd, r.out);
  /* a usage error: one line, then GNU's "Try ..." line */
  CHECK(count_lines(r.err) == 4 && count_of(r.err, "more than --max-points 1000000") == 2 &&
            count_of(r.err, "Try 'clustersim sweep --help' for more information.") == 2,
        "expected one line and the Try line per case:\n%s", r.err);
  CHECK_ERR_HAS(r, "clustersim sweep: 1000000000000000 points (100000 x 100000 x 100000 values)");
  CHECK_ERR_HAS(r, "clustersim sweep: 1.845e+19 points (16 x 16 x");
  char *ov3 = path_join(dir, "ov3"), *ov16 = path_join(dir, "ov16");
  CHECK(access(ov3, F_OK) != 0 && access(ov16, F_OK) != 0, "an output directory was created before the check");
  free(ov3);
  free(ov16);
  result_free(&r);
  /* sweep "": no write past a buffer (the sanitizer build runs this too) */
  const char *empty[] = {"/bin/bash", BADINPUTS "/sweep-empty-filename-overflow.sh", CS_BIN, NULL};
  r = run_prog(dir, empty);
  CHECK(strstr(r.out, "rc=2") != NULL, "%s: %s", r.cmd, r.out);
  CHECK_ERR_HAS(r, "cannot open scenario");
  CHECK(!strstr(r.err, "AddressSanitizer") && !strstr(r.err, "runtime error"), "sanitizer report:\n%s", r.err);
  result_free(&r);
  /* two sweeps at once, 30 times: never "database is locked" */
  const char *both[] = {"/bin/bash", BADINPUTS "/sweep-concurrent-locked.sh", CS_BIN, NULL};
  r = run_prog(dir, both);
  CHECK(strstr(r.out, "both ran: 30, one refused with 'database is locked': 0") != NULL, "%s: %s", r.cmd, r.out);
  result_free(&r);
  /* a resume after the trace changed: refused, naming it (a copy: run.sh writes beside itself) */
  char *fp = path_join(dir, "fp");
  mkdir(fp, 0777);
  char *cfg = cs_slurp(BADINPUTS "/sweep-fingerprint/fp.cfg", NULL), *sh = cs_slurp(BADINPUTS "/sweep-fingerprint/run.sh", NULL);
  CHECK(cfg && sh, "cannot read %s/sweep-fingerprint", BADINPUTS);
  free(cs_write_file(fp, "fp.cfg", cfg ? cfg : ""));
  char *runsh = cs_write_file(fp, "run.sh", sh ? sh : "");
  const char *fpargs[] = {"/bin/bash", runsh, CS_BIN, NULL};
  r = run_prog(fp, fpargs);
  if (strstr(r.out, "resume rc=2")) {
    CHECK_ERR_HAS(r, "trace ./tr.csv changed (sha256 ");
    CHECK_ERR_HAS(r, "--restart");
  } else {
    /* killed before it recorded anything: the second sweep is a first one,
     * and nothing can be mixed */
    const char *k = strstr(r.out, "killed; complete runs in m/sweep.db: ");
    long recorded = k ? strtol(k + strlen("killed; complete runs in m/sweep.db: "), NULL, 10) : -1;
    CHECK(strstr(r.out, "resume rc=0") && recorded == 0,
          "the resumed sweep was not refused although the first one had recorded runs:\n%s\n%s", r.out, r.err);
  }
  result_free(&r);
  free(runsh);
  free(cfg);
  free(sh);
  free(fp);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* ---- what a sweep's results depend on ---- */

static const char trace_scenario[] =
  "name = \"tr\";\nseed = 1;\n"
  "model = { name = \"llama2-7b\"; };\n"
  "@include \"plat.cfg\"\n"
  "workload = { trace = { file = \"tr.csv\"; }; };\n"
  "slo = { ttft_s = 2.0; };\n";

static const char platform[] = "cluster = { pools = ( { gpu = \"a100-80gb-sxm\"; replicas = 1; } ); };\n";

static result sweep_tr(const char *dir, const char *extra1, const char *extra2)
{
  const char *args[16] = {"sweep", "tr.cfg", "--vary", "cluster.pools.[0].replicas=1,2", "-j", "2", "-o", "s"};
  int n = 8;
  if (extra1) args[n++] = extra1;
  if (extra2) args[n++] = extra2;
  args[n] = NULL;
  return run_argv(dir, args);
}

static void test_identity(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("sweep_identity");
  /* the catalogs, copied, so that one can change */
  char *cat = path_join(dir, "cat");
  mkdir(cat, 0777);
  static const char *const lists[] = {"gpus", "links", "models", "stacks", "providers", "train_stacks"};
  char *gpus_text = NULL;
  for (int i = 0; i < (int)(sizeof lists / sizeof lists[0]); i++) {
    char src[4096], name[64];
    snprintf(src, sizeof src, "%s/models/catalog/%s.cfg", CS_SOURCE_DIR, lists[i]);
    snprintf(name, sizeof name, "%s.cfg", lists[i]);
    char *text = cs_slurp(src, NULL);
    CHECK(text != NULL, "cannot read %s", src);
    free(cs_write_file(cat, name, text ? text : ""));
    if (i == 0) gpus_text = text;
    else free(text);
  }
  setenv("CLUSTERSIM_CATALOG_DIR", cat, 1);
  char *tr = trace_text(300, 200);
  free(cs_write_file(dir, "tr.cfg", trace_scenario));
  free(cs_write_file(dir, "plat.cfg", platform));
  free(cs_write_file(dir, "tr.csv", tr));
  result r = sweep_tr(dir, "-q", NULL);
  CHECK_RC(r, 0);
  result_free(&r);
  char *csvf = path_join(dir, "s/sweep.csv"), *db = path_join(dir, "s/sweep.db");
  char *first = cs_slurp(csvf, NULL);
  r = sweep_tr(dir, NULL, NULL);
  CHECK_RC(r, 0);
  CHECK_ERR_HAS(r, "0 runs to do, 2 already");
  result_free(&r);
  CHECK(db_int(db, "SELECT count(*) FROM inputs WHERE role = 'trace' AND path = './tr.csv'") == 1 &&
            db_int(db, "SELECT count(*) FROM inputs WHERE role = 'include'") == 1 &&
            db_int(db, "SELECT count(*) FROM inputs WHERE role = 'catalog'") == 6 &&
            db_int(db, "SELECT count(*) FROM inputs WHERE role = 'scenario'") == 1,
        "%s: inputs table lacks the trace, the include, the 6 catalogs or the scenario", db);

  /* the trace: prompts x2 */
  char *tr2 = trace_text(300, 400);
  free(cs_write_file(dir, "tr.csv", tr2));
  r = sweep_tr(dir, NULL, NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "s/sweep.db holds the results of another sweep; since they were computed:");
  CHECK_ERR_HAS(r, "  trace ./tr.csv changed (sha256 ");
  CHECK_ERR_HAS(r, "run again with --restart to discard them");
  CHECK(!strstr(r.err, "include") && !strstr(r.err, "catalog") && !strstr(r.err, "--set differs"),
        "only the trace changed:\n%s", r.err);
  result_free(&r);
  /* the same bytes again: the same sweep (contents count, not times or paths) */
  free(cs_write_file(dir, "tr.csv", tr));
  r = sweep_tr(dir, NULL, NULL);
  CHECK_RC(r, 0);
  CHECK_ERR_HAS(r, "0 runs to do, 2 already");
  result_free(&r);

  /* an @include'd file */
  free(cs_write_file(dir, "plat.cfg", "cluster = { pools = ( { gpu = \"a100-80gb-sxm\"; replicas = 1; tp = 2; } ); };\n"));
  r = sweep_tr(dir, "-q", NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "  include plat.cfg changed (sha256 ");
  result_free(&r);
  free(cs_write_file(dir, "plat.cfg", platform));

  /* a catalog: the A100's reference price */
  char *dearer = replaced(gpus_text, "price_usd_per_hour = 2.21;", "price_usd_per_hour = 3.21;");
  CHECK(dearer != NULL, "gpus.cfg: no price 2.21 to change");
  free(cs_write_file(cat, "gpus.cfg", dearer ? dearer : ""));
  r = sweep_tr(dir, "-q", NULL);
  CHECK_RC(r, 2);
  char want[4200];
  snprintf(want, sizeof want, "  catalog %s/gpus.cfg changed (sha256 ", cat);
  CHECK_ERR_HAS(r, want);
  result_free(&r);
  free(cs_write_file(cat, "gpus.cfg", gpus_text ? gpus_text : ""));

  /* --set, the seed */
  r = sweep_tr(dir, "--set", "slo.ttft_s=3.0");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "  --set differs (was none, now 'slo.ttft_s=3.0')");
  result_free(&r);
  r = sweep_tr(dir, "--seed", "9");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "  master seed 1 -> 9");
  result_free(&r);
  /* the program's version (as if an older one had written the database) */
  CHECK(db_exec(db, "UPDATE sweep SET value = '0.0.9' WHERE key = 'version';"
                    "UPDATE sweep SET value = 'x' WHERE key = 'fingerprint'"),
        "%s: cannot edit", db);
  r = sweep_tr(dir, "-q", NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "  clustersim version 0.0.9 -> " CLUSTERSIM_VERSION);
  result_free(&r);
  /* --restart discards it: the same bytes as the first sweep */
  r = sweep_tr(dir, "-q", "--restart");
  CHECK_RC(r, 0);
  result_free(&r);
  char *again = cs_slurp(csvf, NULL);
  CHECK(first && again && !strcmp(first, again), "sweep.csv after --restart differs from the first sweep's");
  free(again);

  /* an axis over trace files: each point's file counts */
  free(cs_write_file(dir, "a.csv", tr));
  free(cs_write_file(dir, "b.csv", tr2));
  const char *axis[] = {"sweep", "tr.cfg", "--vary", "workload.trace.file=\"a.csv\",\"b.csv\"", "-q", "-o", "ab", NULL};
  r = run_argv(dir, axis);
  CHECK_RC(r, 0);
  result_free(&r);
  char *abdb = path_join(dir, "ab/sweep.db");
  CHECK(db_int(abdb, "SELECT count(*) FROM inputs WHERE role = 'trace'") == 2, "%s: not both traces", abdb);
  free(cs_write_file(dir, "b.csv", tr));
  r = run_argv(dir, axis);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "  trace ./b.csv changed (sha256 ");
  CHECK(!strstr(r.err, "a.csv"), "a.csv did not change:\n%s", r.err);
  result_free(&r);
  /* the two files' contents swapped: each point reads other bytes */
  free(cs_write_file(dir, "a.csv", tr2));
  r = run_argv(dir, axis);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "  trace ./a.csv changed");
  result_free(&r);
  unsetenv("CLUSTERSIM_CATALOG_DIR");
  free(abdb);
  free(dearer);
  free(gpus_text);
  free(first);
  free(tr);
  free(tr2);
  free(csvf);
  free(db);
  free(cat);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* A file changed while the sweep runs: runs that read it are not recorded. */
static void test_changed_during(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("sweep_during");
  char *tr = trace_text(4000, 300), *tr2 = trace_text(4000, 600);
  free(cs_write_file(dir, "tr.cfg", trace_scenario));
  free(cs_write_file(dir, "plat.cfg", platform));
  free(cs_write_file(dir, "tr.csv", tr));
  char *errf = path_join(dir, "err.txt"), *db = path_join(dir, "s/sweep.db");
  const char *args[] = {"sweep", "tr.cfg", "--vary", "cluster.pools.[0].replicas=1,2,3,4,5,6,7,8", "-j", "1", "-o", "s", NULL};
  pid_t pid = spawn_err(dir, args, errf);
  long long got = wait_for(db, "SELECT count(*) FROM runs", 1);
  free(cs_write_file(dir, "tr.csv", tr2));
  int rc = exit_status(pid);
  long long n = db_int(db, "SELECT count(*) FROM runs");
  char *err = cs_slurp(errf, NULL);
  if (n < 8) {
    CHECK(rc == 1, "exit status %d, expected 1 (runs not recorded)", rc);
    CHECK(err && strstr(err, "a file it reads changed while the sweep ran; not recorded"), "stderr:\n%s", err ? err : "");
  }
  printf("\n    %lld of 8 runs recorded before the trace changed (%lld seen)  ", n, got);
  result r = run_argv(dir, args);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "  trace ./tr.csv changed (sha256 ");
  result_free(&r);
  free(err);
  free(errf);
  free(db);
  free(tr);
  free(tr2);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* --restart on old, unreadable and busy databases. */
static void test_restart(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("sweep_restart");
  free(cs_write_file(dir, "sw.cfg", scenario));
  const char *run_old[] = {"sweep", "sw.cfg", "--vary", "cluster.pools.[0].replicas=1,2", "-q", "-o", "old", NULL};
  const char *restart_old[] = {"sweep", "sw.cfg", "--vary", "cluster.pools.[0].replicas=1,2", "-q", "-o", "old",
                               "--restart", NULL};
  /* a database of clustersim 0.1.0 (format 1, a fingerprint of the scenario's bytes only) */
  char *old = path_join(dir, "old");
  mkdir(old, 0777);
  char *olddb = path_join(old, "sweep.db");
  CHECK(db_exec(olddb, "CREATE TABLE sweep(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                       "INSERT INTO sweep VALUES ('fingerprint', '0123456789abcdef-v1'), ('format', '1');"
                       "CREATE TABLE runs(point INTEGER NOT NULL, replication INTEGER NOT NULL, seed INTEGER,"
                       " settings TEXT NOT NULL, status TEXT NOT NULL, error TEXT, wall_s REAL,"
                       " PRIMARY KEY(point, replication));"
                       "INSERT INTO runs VALUES (0, 0, 11, 'x', 'complete', NULL, 1.0);"),
        "cannot make %s", olddb);
  result r = run_argv(dir, run_old);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "old/sweep.db was written by an older clustersim (sweep.db format 1)");
  result_free(&r);
  r = run_argv(dir, restart_old);
  CHECK_RC(r, 0);
  result_free(&r);
  CHECK(db_int(olddb, "SELECT count(*) FROM runs WHERE status = 'complete'") == 2, "--restart: not 2 new runs");
  /* not a database at all */
  char *junk = path_join(dir, "junk");
  mkdir(junk, 0777);
  char text[2048];
  memset(text, 'x', sizeof text - 1);
  text[sizeof text - 1] = '\0';
  free(cs_write_file(junk, "sweep.db", text));
  const char *run_junk[] = {"sweep", "sw.cfg", "--vary", "cluster.pools.[0].replicas=1,2", "-q", "-o", "junk", NULL};
  r = run_argv(dir, run_junk);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "(--restart discards it)");
  result_free(&r);
  const char *restart_junk[] = {"sweep", "sw.cfg", "--vary", "cluster.pools.[0].replicas=1,2", "-q", "-o", "junk",
                                "--restart", NULL};
  r = run_argv(dir, restart_junk);
  CHECK_RC(r, 0);
  result_free(&r);
  /* not while another process runs the sweep */
  char slow[4096];
  snprintf(slow, sizeof slow, "%s", scenario);
  char *req = strstr(slow, "requests = 400;");
  memcpy(req, "requests = 9000", 15);
  free(cs_write_file(dir, "slow.cfg", slow));
  const char *busy[] = {"sweep", "slow.cfg", "--vary", "cluster.pools.[0].replicas=1,2,3,4,5,6", "-j", "1", "-q",
                        "-o", "busy", NULL};
  const char *busy_restart[] = {"sweep", "slow.cfg", "--vary", "cluster.pools.[0].replicas=1,2,3,4,5,6", "-j", "1",
                                "-q", "-o", "busy", "--restart", NULL};
  char *busydb = path_join(dir, "busy/sweep.db");
  pid_t pid = spawn_err(dir, busy, NULL);
  CHECK(wait_for(busydb, "SELECT count(*) FROM claims", 1) >= 1, "%s: no claim", busydb);
  r = run_argv(dir, busy_restart);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--restart: the sweep is being run by another process (pid ");
  result_free(&r);
  kill(pid, SIGINT);
  CHECK(exit_status(pid) == 130, "the interrupted sweep did not exit 130");
  CHECK(db_int(busydb, "SELECT count(*) FROM claims") == 0 && db_int(busydb, "SELECT count(*) FROM workers") == 0,
        "an interrupted sweep left its claims");
  r = run_argv(dir, busy_restart);
  CHECK_RC(r, 0);
  result_free(&r);
  CHECK(db_int(busydb, "SELECT count(*) FROM runs") == 6, "after --restart: not 6 runs");
  free(busydb);
  free(junk);
  free(olddb);
  free(old);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* Two sweeps on one directory share the work; a killed one's claims are taken. */
static void test_share(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("sweep_share");
  char slow[4096];
  snprintf(slow, sizeof slow, "%s", scenario);
  char *req = strstr(slow, "requests = 400;");
  memcpy(req, "requests = 6000", 15);
  free(cs_write_file(dir, "slow.cfg", slow));
  const char *sh[] = {"sweep", "slow.cfg", "--vary", "cluster.pools.[0].replicas=1,2,3,4,5,6,7,8", "-j", "1",
                      "-o", "sh", NULL};
  char *e1 = path_join(dir, "e1"), *e2 = path_join(dir, "e2");
  pid_t p1 = spawn_err(dir, sh, e1), p2 = spawn_err(dir, sh, e2);
  int rc1 = exit_status(p1), rc2 = exit_status(p2);
  CHECK(rc1 == 0 && rc2 == 0, "two sweeps at once: exit status %d and %d", rc1, rc2);
  char *t1 = cs_slurp(e1, NULL), *t2 = cs_slurp(e2, NULL);
  CHECK(t1 && t2 && !strstr(t1, "also done") && !strstr(t2, "also done") && !strstr(t1, "locked") &&
            !strstr(t2, "locked"),
        "a run done twice, or a lock:\n%s\n%s", t1 ? t1 : "", t2 ? t2 : "");
  char *db = path_join(dir, "sh/sweep.db");
  CHECK(db_int(db, "SELECT count(*) FROM runs") == 8 && db_int(db, "SELECT count(*) FROM claims") == 0 &&
            db_int(db, "SELECT count(*) FROM workers") == 0,
        "%s: runs, claims or workers wrong after both ended", db);
  long long owners = db_int(db, "SELECT count(DISTINCT owner) FROM runs");
  printf("\n    the runs were done by %lld process%s  ", owners, owners == 1 ? "" : "es");
  /* the same sweep.csv as one sweep alone */
  const char *alone[] = {"sweep", "slow.cfg", "--vary", "cluster.pools.[0].replicas=1,2,3,4,5,6,7,8", "-q",
                         "-o", "alone", NULL};
  result r = run_argv(dir, alone);
  CHECK_RC(r, 0);
  result_free(&r);
  char *a = path_join(dir, "sh/sweep.csv"), *b = path_join(dir, "alone/sweep.csv");
  CHECK(cs_same_file(a, b), "shared sweep.csv differs from one sweep's (%s, %s)", a, b);
  free(a);
  free(b);
  free(t1);
  free(t2);

  /* killed with SIGKILL holding a claim: the next sweep takes it over */
  const char *k[] = {"sweep", "slow.cfg", "--vary", "cluster.pools.[0].replicas=1,2,3,4,5,6,7,8", "-j", "1",
                     "-q", "-o", "k", NULL};
  char *kdb = path_join(dir, "k/sweep.db");
  pid_t pid = spawn_err(dir, k, NULL);
  wait_for(kdb, "SELECT count(*) FROM runs", 1);
  CHECK(wait_for(kdb, "SELECT count(*) FROM claims", 1) >= 1, "no claim to leave behind");
  kill(pid, SIGKILL);
  exit_status(pid);
  CHECK(db_int(kdb, "SELECT count(*) FROM claims") >= 1, "the killed sweep left no claim");
  struct timespec t0, t1x;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  r = run_argv(dir, k);
  clock_gettime(CLOCK_MONOTONIC, &t1x);
  double took = (double)(t1x.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1x.tv_nsec - t0.tv_nsec);
  CHECK_RC(r, 0);
  result_free(&r);
  CHECK(db_int(kdb, "SELECT count(*) FROM runs") == 8 && db_int(kdb, "SELECT count(*) FROM claims") == 0,
        "after the killed sweep: not every run, or claims left");
  CHECK(took < 60, "took %.0f s over the killed sweep's claims", took);
  free(kdb);
  free(db);
  free(e1);
  free(e2);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* More points than --max-points: one line, exit 2, nothing written. */
static void test_point_count(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("sweep_count");
  free(cs_write_file(dir, "sw.cfg", scenario));
  result r = run_in(dir, "sweep", "sw.cfg", "--vary", "cluster.pools.[0].replicas=1,2", "--vary",
                    "workload.arrivals.rate=3:6:3", "--max-points", "3", "-o", "c", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK(!strcmp(r.err, "clustersim sweep: 4 points (2 x 2 values), more than --max-points 3: vary fewer values, "
                       "or raise --max-points\nTry 'clustersim sweep --help' for more information.\n"),
        "stderr: %s", r.err);
  result_free(&r);
  char *c = path_join(dir, "c");
  CHECK(access(c, F_OK) != 0, "%s created", c);
  free(c);
  r = run_in(dir, "sweep", "sw.cfg", "--vary", "cluster.pools.[0].replicas=1,2", "--vary",
             "workload.arrivals.rate=3:6:3", "--max-points", "4", "-q", "-o", "c", (const char *)NULL);
  CHECK_RC(r, 0);
  result_free(&r);
  static const char *const bad[] = {"0", "-4", "abc", "1000000000001"};
  for (int i = 0; i < 4; i++) {
    r = run_in(dir, "sweep", "sw.cfg", "--vary", "workload.arrivals.rate=1,2", "--max-points", bad[i],
               (const char *)NULL);
    CHECK_RC(r, 2);
    CHECK_ERR_HAS(r, "--max-points: expected an integer from 1 to 1000000000000");
    result_free(&r);
  }
  r = run_in(dir, "sweep", "sw.cfg", "--vary", "seed=1,2", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--vary seed: replication k of every point runs with master seed seed + k");
  result_free(&r);
  /* in process: counting never overflows and allocates nothing */
  sweep_spec sp;
  sweep_spec_init(&sp);
  cfg_errors errs;
  cfg_errors_init(&errs, NULL);
  char v[64];
  for (int a = 0; a < 16; a++) {
    snprintf(v, sizeof v, "k%d=1:16:1", a);
    CHECK(sweep_add_vary(&sp, v, &errs), "%s refused", v);
  }
  size_t n = 0;
  double approx = 0;
  CHECK(!sweep_count_points(&sp, SIZE_MAX, &n, &approx) && n == SIZE_MAX, "16^16 points counted as %zu", n);
  CS_ASSERT_REL(approx, 18446744073709551616.0, 1e-15);
  sweep_spec_release(&sp);
  sweep_spec_init(&sp);
  CHECK(sweep_add_vary(&sp, "a=1:100000:1", &errs) && sweep_add_vary(&sp, "b=1,2,3", &errs), "axes refused");
  CHECK(sweep_count_points(&sp, 300000, &n, &approx) && n == 300000, "100000 x 3 = %zu", n);
  CHECK(!sweep_count_points(&sp, 299999, &n, &approx) && n == 300000, "over the limit by one: accepted");
  char buf[64];
  CHECK(!strcmp(sweep_axis_value(&sp.axes[0], 99999, buf, sizeof buf), "100000"), "range value %s", buf);
  sweep_spec_release(&sp);
  cfg_errors_release(&errs);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* The table on standard output: headline metrics, the values of sweep.csv. */
static void test_table(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("sweep_table");
  free(cs_write_file(dir, "sw.cfg", scenario));
  result r = run_in(dir, "sweep", "sw.cfg", "--vary", "cluster.pools.[0].replicas=1,2", "-r", "2", "-o", "t",
                    (const char *)NULL);
  CHECK_RC(r, 0);
  const char *head = "point  cluster.pools.[0].replicas  ttft_p99_s  tpot_p99_s  usd_per_million_tokens  slo_met\n";
  CHECK(!strncmp(r.out, head, strlen(head)), "table header:\n%s", r.out);
  CHECK_OUT_HAS(r, "(means over 2 replications; sweep.csv has their 95% half-widths, METRIC_ci95)\n");
  CHECK_OUT_HAS(r, "sweep: t/sweep.csv: 2 of 2 points complete\n");
  char *p = path_join(dir, "t/sweep.csv");
  csv t;
  if (csv_read(p, &t) && t.rows == 3) {
    static const char *const m[] = {"ttft_p99_s", "tpot_p99_s", "usd_per_million_tokens", "slo_met"};
    const char *line = strchr(r.out, '\n');
    for (int row = 1; row < 3 && line; row++) {
      char want[512];
      int k = snprintf(want, sizeof want, "%5d  %26s", row - 1, cell(&t, row, 1));
      static const int w[] = {10, 10, 22, 7};
      for (int i = 0; i < 4; i++) {
        char num[64];
        int c = -1;
        char name[80];
        snprintf(name, sizeof name, "%s_mean", m[i]);
        c = col(&t, name);
        CHECK(c >= 0, "sweep.csv has no %s", name);
        snprintf(num, sizeof num, "%.4g", c >= 0 ? atof(cell(&t, row, c)) : 0);
        k += snprintf(want + k, sizeof want - (size_t)k, "  %*s", w[i], num);
      }
      line++;
      CHECK(!strncmp(line, want, strlen(want)), "table row %d:\n%.200s\nexpected\n%s", row - 1, line, want);
      line = strchr(line, '\n');
    }
  } else {
    CHECK(false, "%s: expected a header and 2 rows", p);
  }
  csv_free(&t);
  free(p);
  result_free(&r);
  /* --metrics: those asked for that some point reports */
  r = run_in(dir, "sweep", "sw.cfg", "--vary", "cluster.pools.[0].replicas=1,2", "-r", "2", "-o", "t",
             "--metrics", "e2e_p99_s,bogus_metric,throughput_tokens_per_s", (const char *)NULL);
  CHECK_RC(r, 0);
  const char *mhead = "point  cluster.pools.[0].replicas  e2e_p99_s  throughput_tokens_per_s\n";
  CHECK(!strncmp(r.out, mhead, strlen(mhead)), "--metrics header:\n%s", r.out);
  CHECK_ERR_HAS(r, "--metrics: no point reports bogus_metric; left out of the table");
  result_free(&r);
  r = run_in(dir, "sweep", "sw.cfg", "--vary", "cluster.pools.[0].replicas=1,2", "-r", "2", "-o", "t", "-q",
             (const char *)NULL);
  CHECK_RC(r, 0);
  CHECK(r.out[0] == '\0', "-q printed:\n%s", r.out);
  result_free(&r);
  r = run_in(dir, "sweep", "sw.cfg", "--vary", "cluster.pools.[0].replicas=1,2", "--metrics", "", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--metrics: expected metric names");
  result_free(&r);
  /* a queue sweep: its own headline metrics */
  r = run_in(dir, "sweep", CS_SOURCE_DIR "/scenarios/mmc.cfg", "--vary", "queue.servers=8,9", "--set",
             "queue.customers=20000", "-o", "q", (const char *)NULL);
  CHECK_RC(r, 0);
  const char *qhead = "point  queue.servers  wait_mean_s  wait_p99_s  sojourn_p99_s  utilization\n";
  CHECK(!strncmp(r.out, qhead, strlen(qhead)), "queue table:\n%s", r.out);
  result_free(&r);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* In process: claims, every metric any point reports, the wire format. */
static void test_db_export_wire(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("sweep_db");
  sweep_spec sp;
  sweep_spec_init(&sp);
  cfg_errors errs;
  cfg_errors_init(&errs, NULL);
  CHECK(sweep_add_vary(&sp, "x=1,2", &errs), "--vary x=1,2 refused");
  sweep_ident id;
  sweep_ident_init(&id, "test", 1, NULL, 0, &sp, 2);
  sweep_ident_add_point(&id, 0, NULL, 0);
  sweep_ident_add_point(&id, 1, NULL, 0);
  sweep_ident_finish(&id);
  char *dbp = path_join(dir, "sweep.db"), *csvp = path_join(dir, "sweep.csv");
  sweep_db *db = sweep_db_open(dbp, &id, false, &errs);
  CHECK(db != NULL, "cannot open %s: %s", dbp, errs.len ? errs.msgs[0] : "");
  if (db) {
    sim_report r0, r1;
    sim_report_init(&r0);
    sim_report_str(&r0, "status", "complete", NULL);
    sim_report_num(&r0, "a", 1.5, NULL);
    sim_report_str(&r0, "s", "one", NULL);
    sim_report_init(&r1);
    sim_report_str(&r1, "status", "complete", NULL);
    sim_report_num(&r1, "a", 3, NULL);
    sim_report_int(&r1, "b", 5, NULL);   /* only point 1 reports b: it must not be dropped */
    sim_report_str(&r1, "s", "two", NULL);
    sweep_db_lock(db);
    CHECK(sweep_db_claim(db, 0, 0) == SWEEP_CLAIM_TAKEN, "point 0 not claimed");
    sweep_db_unlock(db);
    bool dup = true;
    CHECK(sweep_db_put(db, 0, 0, 1, "x=1", &r0, 0.1, &dup) && !dup, "put point 0");
    CHECK(sweep_db_put(db, 0, 0, 1, "x=1", &r0, 0.1, &dup) && dup, "a second result for point 0 was not seen");
    sweep_db_lock(db);
    CHECK(sweep_db_claim(db, 0, 0) == SWEEP_CLAIM_DONE, "point 0 done, claimable");
    sweep_db_unlock(db);
    CHECK(sweep_db_put(db, 1, 0, 1, "x=2", &r1, 0.1, &dup) && !dup, "put point 1");
    CHECK(sweep_db_count_done(db, 1) == 2, "count done");
    char *tbl = NULL;
    size_t tlen = 0;
    FILE *tf = open_memstream(&tbl, &tlen);
    char *metrics[] = {"a", "b"};
    CHECK(sweep_export(db, &sp, csvp, tf, metrics, 2) == 2, "export: not 2 rows");
    fclose(tf);
    char *text = cs_slurp(csvp, NULL);
    CHECK(text && !strcmp(text, "point,x,replications,status,error,s,a_mean,a_ci95,b_mean,b_ci95\n"
                                "0,1,1,complete,,one,1.5,,,\n"
                                "1,2,1,complete,,two,3,,5,\n"),
          "sweep.csv:\n%s", text ? text : "");
    CHECK(tbl && !strcmp(tbl, "point  x    a  b\n"
                              "    0  1  1.5  -\n"
                              "    1  2    3  5\n"),
          "table:\n%s", tbl ? tbl : "");
    free(text);
    free(tbl);
    sim_report_release(&r0);
    sim_report_release(&r1);
    sweep_db_close(db);
  }
  /* a report over the wire: texts with tabs, newlines and backslashes, any length */
  sim_report rep, back;
  sim_report_init(&rep);
  sim_report_int(&rep, "n", -42, NULL);
  sim_report_num(&rep, "x", 1.0 / 3.0, NULL);
  sim_report_num(&rep, "undefined", NAN, NULL);
  sim_report_str(&rep, "t", "a\tb\nc\\d", NULL);
  char *big = malloc(5001);
  memset(big, 'z', 5000);
  big[5000] = '\0';
  sim_report_str(&rep, "big", big, NULL);
  char *wire = sweep_wire_encode(&rep);
  CHECK(sweep_wire_decode(wire, &back), "wire text not decoded:\n%.200s", wire);
  if (back.len == 5) {
    CHECK(sim_report_get(&back, "n")->i == -42 && sim_report_get(&back, "x")->x == 1.0 / 3.0 &&
              isnan(sim_report_get(&back, "undefined")->x) && !strcmp(sim_report_get(&back, "t")->s, "a\tb\nc\\d") &&
              !strcmp(sim_report_get(&back, "big")->s, big),
          "the report changed on the wire");
    sim_report_release(&back);
  } else {
    CHECK(false, "%zu metrics back, expected 5", back.len);
  }
  CHECK(!sweep_wire_decode("N\tx\tabc\n", &back), "a malformed number was accepted");
  free(wire);
  free(big);
  sim_report_release(&rep);
  sweep_ident_release(&id);
  sweep_spec_release(&sp);
  cfg_errors_release(&errs);
  free(dbp);
  free(csvp);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

int main(void)
{
  static const cs_test tests[] = {
    {"rows equal independent runs; -j; re-run", test_rows_equal_runs},
    {"interrupt and resume", test_interrupt_resume},
    {"sweep section, invalid points, another sweep", test_section_and_invalid},
    {"usage errors", test_usage_errors},
    {"bad inputs (tests/badinputs)", test_bad_inputs},
    {"identity: trace, include, catalog, --set, seed, version, axis over files; --restart", test_identity},
    {"a file changed while the sweep runs", test_changed_during},
    {"--restart: old, unreadable and busy databases", test_restart},
    {"two sweeps share a directory; a killed one's claims", test_share},
    {"point counts, --max-points, --vary seed", test_point_count},
    {"the table on standard output", test_table},
    {"database, export and wire in process", test_db_export_wire},
    {NULL, NULL},
  };
  return cs_run_suite("sweep", tests);
}
