/* tests/unit/test_cli.c: the clustersim program as a user meets it, run as a
 * child process: every bad scenario in tests/badconfig with its expected
 * messages, command-line errors, help and version, reproducibility from the
 * seed, --set, the files a run writes (atomically, and not at all when they
 * cannot be), customer conservation in the summary, and the golden runs in
 * tests/golden compared byte for byte. Scratch output goes under
 * CS_TEST_TMP and is removed when a test passes. */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clitest.h"
#include "sim/util.h"
#include "testutil.h"

#define BADCONFIG_DIR CS_SOURCE_DIR "/tests/badconfig"
#define GOLDEN_DIR CS_SOURCE_DIR "/tests/golden"
#define MMC_CFG CS_SOURCE_DIR "/scenarios/mmc.cfg"

/* ---- helpers ---- */

static bool file_exists(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0;
}

/* json_num on the summary, failing the test (naming file and key) if absent. */
static double summary_num(int line, const char *json, const char *path, const char *key)
{
  double v = NAN;
  if (!json_num(json, key, &v)) fail_at(line, "%s: no numeric \"%s\"", path, key);
  return v;
}
#define NUM(json, path, key) summary_num(__LINE__, (json), (path), (key))

/* Run `clustersim run MMC_CFG -q -o OUTDIR [extra...]` and return the summary
 * text (NULL on failure, after failing the test). */
static char *run_summary(const char *outdir, const char *a1, const char *a2, const char *a3,
                         const char *a4)
{
  result r = run_in(NULL, "run", MMC_CFG, "-q", "-o", outdir, a1, a2, a3, a4, (const char *)NULL);
  CHECK_RC(r, 0);
  result_free(&r);
  char *path = path_join(outdir, "summary.json");
  char *s = cs_slurp(path, NULL);
  CHECK(s != NULL, "%s: not written", path);
  free(path);
  return s;
}

/* ---- bad scenarios ---- */

/* One tests/badconfig file: exit 2, nothing "ok" on stdout, every message
 * names the file, the "N errors" line matches the messages, and every
 * "# expect:" (and no "# expect-not:") text appears on stderr. */
static void check_badconfig(const char *name)
{
  char *path = path_join(BADCONFIG_DIR, name);
  char *text = cs_slurp(path, NULL);
  CHECK(text != NULL, "badconfig %s: cannot read", path);
  free(path);
  if (!text) return;

  result r = run_in(BADCONFIG_DIR, "check", name, (const char *)NULL);
  if (r.rc != 2)
    fail_at(__LINE__, "badconfig %s: exit status %d, expected 2; stderr:\n%s", name, r.rc, r.err);
  CHECK(!strstr(r.out, "ok"), "badconfig %s: stdout says ok:\n%s", name, r.out);

  size_t nexpect = 0;
  for (char *line = text; *line;) {
    char *eol = strchr(line, '\n');
    size_t len = eol ? (size_t)(eol - line) : strlen(line);
    char buf[1024];
    if (len >= sizeof buf) len = sizeof buf - 1;
    memcpy(buf, line, len);
    buf[len] = '\0';
    while (len && (buf[len - 1] == ' ' || buf[len - 1] == '\t' || buf[len - 1] == '\r'))
      buf[--len] = '\0';
    const char *want = NULL;
    bool negate = false;
    if (!strncmp(buf, "# expect: ", 10)) want = buf + 10;
    else if (!strncmp(buf, "# expect-not: ", 14)) want = buf + 14, negate = true;
    if (want && *want) {
      nexpect += !negate;
      bool found = strstr(r.err, want) != NULL;
      if (found == negate)
        fail_at(__LINE__, "badconfig %s: stderr %s \"%s\"; it was:\n%s", name,
                negate ? "contains unwanted" : "lacks expected", want, r.err);
      else
        pass("expectation");
    }
    line = eol ? eol + 1 : line + len;
  }
  CHECK(nexpect > 0, "badconfig %s: no '# expect: ' line", name);

  /* every line names the file; the last counts the others */
  char prefix[512];
  snprintf(prefix, sizeof prefix, "clustersim: %s", name);
  size_t nlines = 0;
  const char *last = NULL;
  for (const char *l = r.err; *l;) {
    const char *eol = strchr(l, '\n');
    if (strncmp(l, prefix, strlen(prefix)))
      fail_at(__LINE__, "badconfig %s: a message does not start with \"%s\":\n%.*s", name, prefix,
              (int)(eol ? eol - l : (long)strlen(l)), l);
    last = l;
    nlines++;
    if (!eol) break;
    l = eol + 1;
  }
  unsigned long nerr = 0;
  char tail[512];
  snprintf(tail, sizeof tail, "clustersim: %s: %%lu error", name);
  if (!last || sscanf(last, tail, &nerr) != 1)
    fail_at(__LINE__, "badconfig %s: no final \"N errors\" line; stderr:\n%s", name, r.err);
  else
    CHECK(nerr + 1 == nlines, "badconfig %s: says %lu error(s) but printed %zu message(s):\n%s",
          name, nerr, nlines - 1, r.err);
  result_free(&r);
  free(text);
}

static void test_badconfig(void)
{
  size_t n;
  char **names = list_dir(BADCONFIG_DIR, ".cfg", &n);
  CHECK(n >= 18, "tests/badconfig: only %zu .cfg files", n);
  for (char **p = names; *p; p++) check_badconfig(*p);
  free_list(names);
}

static void test_missing_file(void)
{
  result r = RUN("check", "no_such_scenario.cfg");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "no_such_scenario.cfg");
  CHECK_ERR_HAS(r, "No such file");
  CHECK(!strstr(r.out, "ok"), "%s: stdout says ok", r.cmd);
  result_free(&r);
  r = RUN("run", "no_such_scenario.cfg", "-q", "-o", CS_TEST_TMP "/never");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "No such file");
  result_free(&r);
}

/* ---- command line ---- */

static void test_set_errors(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("cli_set");
  char *out = path_join(dir, "out");
  result r = RUN("run", MMC_CFG, "-q", "-o", out, "--set", "queue.servers=abc");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--set queue.servers=abc");
  CHECK_ERR_HAS(r, "queue.servers: expected an integer");
  result_free(&r);

  r = RUN("run", MMC_CFG, "-q", "-o", out, "--set", "nokey");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--set nokey");
  CHECK_ERR_HAS(r, "KEY=VALUE");
  result_free(&r);

  r = RUN("run", MMC_CFG, "-q", "-o", out, "--set", "queue.arrivals.rate_per_s=-3");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--set queue.arrivals.rate_per_s=-3");
  CHECK_ERR_HAS(r, "queue.arrivals.rate_per_s: out of range: -3");
  result_free(&r);

  r = RUN("run", MMC_CFG, "-q", "-o", out, "--set", "queue.sevrers=9");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "queue.sevrers: unknown key (did you mean 'servers'?)");
  result_free(&r);

  r = RUN("check", MMC_CFG, "--set", "queue.servers=9", "--set", "queue.capacity=20");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "ok");
  result_free(&r);

  /* a rejected run writes nothing, not even the directory */
  CHECK(!file_exists(out), "%s exists after rejected runs", out);
  cs_cleanup_if_passed(dir, f0);
  free(out);
  free(dir);
}

static void test_seed_errors(void)
{
  static const char *const bad[] = {"-1", "abc", "1.5", "", NULL};
  for (const char *const *s = bad; *s; s++) {
    result r = RUN("run", MMC_CFG, "-q", "-o", CS_TEST_TMP "/never", "--seed", *s);
    CHECK_RC(r, 2);
    CHECK_ERR_HAS(r, "--seed");
    result_free(&r);
    r = RUN("check", MMC_CFG, "--seed", *s);
    CHECK_RC(r, 2);
    result_free(&r);
  }
  CHECK(!file_exists(CS_TEST_TMP "/never"), "a rejected run created its output directory");
}

static void test_help_version(void)
{
  result r = RUN("--help");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "Usage: clustersim");
  CHECK_OUT_HAS(r, "run FILE.cfg");
  result_free(&r);

  r = RUN("--version");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "clustersim " CLUSTERSIM_VERSION);
  result_free(&r);

  static const char *const cmds[] = {"run", "check", "keys", NULL};
  for (const char *const *c = cmds; *c; c++) {
    char want[64];
    snprintf(want, sizeof want, "Usage: clustersim %s", *c);
    r = RUN(*c, "--help");
    CHECK_RC(r, 0);
    CHECK_OUT_HAS(r, want);
    result_free(&r);
    r = RUN("help", *c);
    CHECK_RC(r, 0);
    CHECK_OUT_HAS(r, want);
    result_free(&r);
  }

  r = RUN("keys");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "queue.servers");
  CHECK_OUT_HAS(r, "exponential");
  result_free(&r);
}

/* A usage error is one line saying what is wrong and GNU's "Try ... --help"
 * line, exit 2: never the whole usage text. */
static void check_usage_error(result r, const char *cmd, const char *what)
{
  char try_line[128];
  snprintf(try_line, sizeof try_line, "Try 'clustersim%s%s --help' for more information.\n", cmd ? " " : "",
           cmd ? cmd : "");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, what);
  const char *nl = strchr(r.err, '\n');
  CHECK(nl && !strcmp(nl + 1, try_line), "%s: expected one line and \"%s\", got:\n%s", r.cmd, try_line, r.err);
  CHECK(!strstr(r.err, "Usage:"), "%s: the whole usage text on a usage error:\n%s", r.cmd, r.err);
}

static void test_usage_errors(void)
{
  result r = RUN("frobnicate");
  check_usage_error(r, NULL, "clustersim: unknown command 'frobnicate'");
  result_free(&r);

  r = RUN("--frobnicate");
  check_usage_error(r, NULL, "--frobnicate");
  result_free(&r);

  r = RUN("run", "--frobnicate", MMC_CFG);
  check_usage_error(r, "run", "clustersim run: unrecognized option '--frobnicate'");
  result_free(&r);

  r = RUN("check", "-o", "x", MMC_CFG);
  check_usage_error(r, "check", "clustersim check: invalid option -- 'o'");
  result_free(&r);

  r = run_in(NULL, (const char *)NULL);
  check_usage_error(r, NULL, "clustersim: no command given");
  result_free(&r);

  /* every command, GNU style: a bad option, and a missing or bad argument */
  static const struct {
    const char *cmd, *arg, *what;
  } cases[] = {
    {"run", "--replications=0", "clustersim run: --replications: expected an integer from 1 to 10000, got '0'"},
    {"sweep", "--frobnicate", "clustersim sweep: unrecognized option '--frobnicate'"},
    {"sweep", "--max-points=x", "clustersim sweep: --max-points: expected an integer"},
    {"plan", "--frobnicate", "clustersim plan: unrecognized option '--frobnicate'"},
    {"plan", "--slo=x", "clustersim plan: --slo: expected METRIC=VALUE"},
    {"plot", "--frobnicate", "clustersim plot: unrecognized option '--frobnicate'"},
    {"list", "--frobnicate", "clustersim list: unrecognized option '--frobnicate'"},
    {"list", "nothing", "clustersim list: unknown catalog 'nothing'"},
    {"keys", "nothing", "clustersim keys: unknown name 'nothing'"},
    {"estimate", "--frobnicate", "clustersim estimate: unrecognized option '--frobnicate'"},
    {"estimate", "--gpus=x", "clustersim estimate: --gpus: expected an integer, got 'x'"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    bool takes_file = strcmp(cases[i].cmd, "list") && strcmp(cases[i].cmd, "keys");
    r = takes_file ? RUN(cases[i].cmd, cases[i].arg, MMC_CFG) : RUN(cases[i].cmd, cases[i].arg);
    check_usage_error(r, cases[i].cmd, cases[i].what);
    result_free(&r);
  }

  r = RUN("check");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "expected exactly one scenario file");
  result_free(&r);

  r = RUN("check", MMC_CFG, MMC_CFG);
  CHECK_RC(r, 2);
  result_free(&r);

  r = RUN("keys", "extra");
  CHECK_RC(r, 2);
  result_free(&r);
}

static void test_check_ok(void)
{
  result r = RUN("check", MMC_CFG);
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "ok");
  CHECK(r.err[0] == '\0', "%s: stderr not empty:\n%s", r.cmd, r.err);
  result_free(&r);
}

/* ---- runs ---- */

static void test_reproducible(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("cli_repro");
  char *o1 = path_join(dir, "a"), *o2 = path_join(dir, "b"), *o3 = path_join(dir, "c");
  char *s1 = run_summary(o1, "--set", "queue.customers=200000", "--seed", "1");
  char *s2 = run_summary(o2, "--set", "queue.customers=200000", "--seed", "1");
  char *s3 = run_summary(o3, "--set", "queue.customers=200000", "--seed", "2");
  if (s1 && s2 && s3) {
    CHECK(strcmp(s1, s2) == 0, "same seed, different summaries: %s/summary.json vs %s/summary.json",
          o1, o2);
    CHECK(strcmp(s1, s3) != 0, "seeds 1 and 2 gave identical summaries");
    double w1 = NUM(s1, o1, "wait_mean_s"), w3 = NUM(s3, o3, "wait_mean_s");
    CHECK(w1 != w3, "wait_mean_s %.17g is the same for seeds 1 and 2", w1);
    CHECK(NUM(s1, o1, "seed") == 1 && NUM(s3, o3, "seed") == 2, "summary seeds are not 1 and 2");
    CHECK(NUM(s1, o1, "customers") == 200000, "--set queue.customers=200000 not applied");
    /* seed 1 is also the scenario's own: --seed 1 must change nothing */
    char *o4 = path_join(dir, "d");
    char *s4 = run_summary(o4, "--set", "queue.customers=200000", NULL, NULL);
    CHECK(s4 && strcmp(s1, s4) == 0, "--seed 1 differs from the file's seed = 1");
    free(s4);
    free(o4);
    cs_cleanup_if_passed(dir, f0);
  }
  free(s1);
  free(s2);
  free(s3);
  free(o1);
  free(o2);
  free(o3);
  free(dir);
}

static void test_set_changes_result(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("cli_setres");
  char *o8 = path_join(dir, "c8"), *o9 = path_join(dir, "c9");
  char *s8 = run_summary(o8, "--set", "queue.customers=100000", NULL, NULL);
  char *s9 = run_summary(o9, "--set", "queue.customers=100000", "--set", "queue.servers=9");
  if (s8 && s9) {
    CHECK(NUM(s8, o8, "servers") == 8, "servers is not 8 without --set");
    CHECK(NUM(s9, o9, "servers") == 9, "--set queue.servers=9 not applied");
    double w8 = NUM(s8, o8, "wait_mean_s"), w9 = NUM(s9, o9, "wait_mean_s");
    /* theory: 0.877 s with 8 servers (rho 0.9), about a third of that with 9 (rho 0.8) */
    CHECK(w9 < 0.6 * w8, "wait_mean_s %g with 9 servers is not well below %g with 8", w9, w8);
    CHECK(NUM(s9, o9, "theory_wait_mean_s") < NUM(s8, o8, "theory_wait_mean_s"),
          "theory_wait_mean_s did not fall with a 9th server");
    /* utilization = lambda / (c mu) = 7.2 / 9 */
    CS_ASSERT_REL(NUM(s9, o9, "utilization"), 0.8, 0.03);
    CS_ASSERT_REL(NUM(s8, o8, "utilization"), 0.9, 0.03);
    cs_cleanup_if_passed(dir, f0);
  }
  free(s8);
  free(s9);
  free(o8);
  free(o9);
  free(dir);
}

static void test_outputs(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("cli_out");
  result r = RUN("run", MMC_CFG, "-o", dir, "--set", "queue.customers=20000");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "wait_mean_s");  /* the table */
  CHECK_OUT_HAS(r, "summary.json");
  result_free(&r);
  char *path = path_join(dir, "summary.json");
  char *s = cs_slurp(path, NULL);
  CHECK(s != NULL, "%s: not written", path);
  if (s) {
    static const char *const keys[] = {"servers", "arrival_rate_per_s", "service_rate_per_s",
                                       "customers", "wait_mean_s", "wait_p99_s",
                                       "sojourn_mean_s", "utilization", "seed", "events",
                                       "sim_time_s", "completed", "rejected", "in_system_end",
                                       NULL};
    for (const char *const *k = keys; *k; k++) {
      double v;
      CHECK(json_num(s, *k, &v) && isfinite(v), "%s: no finite number for \"%s\"", path, *k);
    }
    CHECK(s[0] == '{' && strlen(s) >= 3 && !strcmp(s + strlen(s) - 2, "}\n"),
          "%s: not a JSON object ending in a newline", path);
    CHECK(strstr(s, "\"status\": \"complete\"") != NULL, "%s: status is not complete", path);
    CHECK(strstr(s, "\"scenario\": \"mmc\"") != NULL, "%s: scenario is not mmc", path);
    CS_ASSERT_REL(NUM(s, path, "arrival_rate_per_s"), 7.2, 1e-12);
    CS_ASSERT_REL(NUM(s, path, "service_rate_per_s"), 1.0, 1e-12);
  }
  size_t n;
  char **names = list_dir(dir, NULL, &n);
  for (char **p = names; *p; p++)
    CHECK(!strstr(*p, ".tmp."), "%s: temporary file %s left behind", dir, *p);
  /* summary.json and the run's list of its files (driver/commands/runner.h) */
  CHECK(n == 2 && !strcmp(names[0], ".clustersim-outputs") && !strcmp(names[1], "summary.json"),
        "%s: %zu entries, expected summary.json and .clustersim-outputs alone", dir, n);
  free_list(names);

  /* without -o: out/NAME under the working directory */
  r = run_in(dir, "run", MMC_CFG, "-q", "--set", "queue.customers=1000", (const char *)NULL);
  CHECK_RC(r, 0);
  CHECK(r.out[0] == '\0', "%s: -q but stdout:\n%s", r.cmd, r.out);
  result_free(&r);
  char *deflt = path_join(dir, "out/mmc/summary.json");
  CHECK(file_exists(deflt), "%s: not written by a run without -o", deflt);
  free(deflt);

  cs_cleanup_if_passed(dir, f0);
  free(s);
  free(path);
  free(dir);
}

static void test_unwritable_output(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("cli_unwritable");
  char *file = path_join(dir, "plainfile");
  FILE *f = fopen(file, "w");
  CHECK(f != NULL, "cannot create %s", file);
  if (f) fclose(f);

  /* a directory under a regular file cannot be created */
  char *under = path_join(file, "sub");
  result r = RUN("run", MMC_CFG, "-q", "-o", under, "--set", "queue.customers=1000");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, under);
  CHECK_ERR_HAS(r, "cannot create output directory");
  result_free(&r);

  /* -o naming the regular file itself: rejected, the file untouched */
  r = RUN("run", MMC_CFG, "-q", "-o", file, "--set", "queue.customers=1000");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "Not a directory");
  result_free(&r);
  struct stat st;
  CHECK(stat(file, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0, "%s was modified", file);

  /* summary.json cannot be replaced (it is a directory): the run fails
   * after simulating (status 1), and no temporary file is left behind */
  char *out = path_join(dir, "out");
  char *blocker = path_join(out, "summary.json");
  CHECK(mkdir(out, 0777) == 0 && mkdir(blocker, 0777) == 0, "cannot create %s", blocker);
  r = RUN("run", MMC_CFG, "-q", "-o", out, "--set", "queue.customers=1000");
  CHECK_RC(r, 1);
  CHECK_ERR_HAS(r, "cannot write");
  result_free(&r);
  size_t n;
  char **names = list_dir(out, NULL, &n);
  CHECK(n == 1, "%s: %zu entries after a failed write, expected only summary.json", out, n);
  for (char **p = names; *p; p++)
    CHECK(!strstr(*p, ".tmp."), "%s: temporary file %s left behind", out, *p);
  free_list(names);

  cs_cleanup_if_passed(dir, f0);
  free(blocker);
  free(out);
  free(under);
  free(file);
  free(dir);
}

/* customers arrived = completed + rejected + still in the system at the end */
static void check_conservation(int line, const char *s, const char *path)
{
  double arrived = NUM(s, path, "customers"), completed = NUM(s, path, "completed");
  double rejected = NUM(s, path, "rejected"), inside = NUM(s, path, "in_system_end");
  if (arrived != completed + rejected + inside)
    fail_at(line, "%s: customers %.0f != completed %.0f + rejected %.0f + in_system_end %.0f",
            path, arrived, completed, rejected, inside);
  else
    pass("conservation");
}

static void test_conservation(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("cli_conserve");
  char *o1 = path_join(dir, "open"), *o2 = path_join(dir, "cap10"), *o3 = path_join(dir, "horizon");
  char *p1 = path_join(o1, "summary.json"), *p2 = path_join(o2, "summary.json"),
       *p3 = path_join(o3, "summary.json");

  char *s = run_summary(o1, "--set", "queue.customers=50000", NULL, NULL);
  if (s) {
    check_conservation(__LINE__, s, p1);
    CHECK(NUM(s, p1, "customers") == 50000, "%s: not 50000 customers", p1);
    CHECK(NUM(s, p1, "rejected") == 0, "%s: rejections without a capacity", p1);
    CHECK(NUM(s, p1, "in_system_end") == 0, "%s: the queue did not drain", p1);
  }
  free(s);

  /* at rho 0.9 with room for only 2 waiting customers, many are turned away */
  s = run_summary(o2, "--set", "queue.customers=50000", "--set", "queue.capacity=10");
  if (s) {
    check_conservation(__LINE__, s, p2);
    CHECK(NUM(s, p2, "rejected") > 0, "%s: capacity 10 but nothing rejected", p2);
    CHECK(NUM(s, p2, "queue_length_max") <= 2, "%s: more than capacity - servers waiting", p2);
  }
  free(s);

  /* stopped at the horizon, customers are still in the system */
  s = run_summary(o3, "--set", "queue.customers=50000", "--set", "horizon_s=1500");
  if (s) {
    check_conservation(__LINE__, s, p3);
    CHECK(strstr(s, "\"status\": \"horizon\"") != NULL, "%s: status is not horizon", p3);
    CHECK(NUM(s, p3, "in_system_end") > 0, "%s: nobody in the system at the horizon", p3);
    CHECK(NUM(s, p3, "customers") < 50000, "%s: all customers arrived before the horizon", p3);
  }
  free(s);

  cs_cleanup_if_passed(dir, f0);
  free(p1);
  free(p2);
  free(p3);
  free(o1);
  free(o2);
  free(o3);
  free(dir);
}

/* ---- golden runs ---- */

/* Every tests/golden/NAME.cfg rerun must reproduce NAME.summary.json byte for
 * byte; on a mismatch the produced file is kept and a diff command printed. */
/* SIGINT or SIGTERM during a long run: the run stops cleanly, writes a
 * complete summary saying "interrupted", keeps conservation, and exits with
 * 128 + the signal. */
static void interrupt_case(int sig)
{
  char tag[32];
  snprintf(tag, sizeof tag, "interrupt%d", sig);
  char *dir = cs_tmpdir(tag);
  unsigned before = CU_get_number_of_failures();
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl(CS_BIN, CS_BIN, "run", MMC_CFG, "-q", "-o", dir, "--set", "queue.customers=1000000000",
          (char *)NULL);
    _exit(127);
  }
  struct timespec nap = {0, 500000000}; /* 0.5 s: well inside the run */
  nanosleep(&nap, NULL);
  kill(pid, sig);
  int st = 0;
  waitpid(pid, &st, 0);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 128 + sig, "signal %d: exit status %d, expected %d", sig,
        WIFEXITED(st) ? WEXITSTATUS(st) : -1, 128 + sig);
  char *path = path_join(dir, "summary.json");
  char *json = cs_slurp(path, NULL);
  CHECK(json != NULL, "%s: not written after signal %d", path, sig);
  if (json) {
    CHECK(strstr(json, "\"status\": \"interrupted\"") != NULL, "%s: status is not interrupted", path);
    check_conservation(__LINE__, json, path);
    CHECK(NUM(json, path, "customers") < 1e9, "%s: the run was not cut short", path);
  }
  free(json);
  free(path);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

static void test_interrupt(void)
{
  interrupt_case(SIGINT);
  interrupt_case(SIGTERM);
}

static void test_golden(void)
{
  unsigned f0 = CU_get_number_of_failures();
  size_t n;
  char **names = list_dir(GOLDEN_DIR, ".cfg", &n);
  CHECK(n >= 1, "%s: no golden scenario", GOLDEN_DIR);
  char *dir = cs_tmpdir("cli_golden");
  for (char **p = names; *p; p++) {
    char base[256], expected[4096], outdir[4096];
    snprintf(base, sizeof base, "%.*s", (int)(strlen(*p) - 4), *p);
    snprintf(expected, sizeof expected, "%s/%s.summary.json", GOLDEN_DIR, base);
    snprintf(outdir, sizeof outdir, "%s/%s", dir, base);
    char *cfg = path_join(GOLDEN_DIR, *p);
    result r = RUN("run", cfg, "-q", "-o", outdir);
    CHECK_RC(r, 0);
    result_free(&r);
    free(cfg);
    char *produced = path_join(outdir, "summary.json");
    size_t le = 0, lp = 0;
    char *want = cs_slurp(expected, &le), *got = cs_slurp(produced, &lp);
    CHECK(want != NULL, "golden %s: cannot read %s", *p, expected);
    CHECK(got != NULL, "golden %s: %s not written", *p, produced);
    if (want && got) {
      bool same = le == lp && memcmp(want, got, le) == 0;
      if (!same)
        fprintf(stderr,
                "\ngolden %s: output differs from %s\n"
                "  produced: %s\n"
                "  see:      diff -u %s %s\n"
                "  if the change is deliberate, copy the produced file over the golden one\n"
                "  (tests/golden/README.md)\n",
                *p, expected, produced, expected, produced);
      CHECK(same, "golden %s: %s differs from %s (diff -u %s %s)", *p, produced, expected,
            expected, produced);
    }
    free(want);
    free(got);
    free(produced);
  }
  cs_cleanup_if_passed(dir, f0);
  free(dir);
  free_list(names);
}

/* `clustersim keys NAME`: one component, section or catalog list; the
 * parts together hold every key of the whole listing; unknown names are a
 * usage error naming the valid ones. */
static void test_keys_filter(void)
{
  result all = RUN("keys");
  CHECK_RC(all, 0);
  static const struct { const char *name, *has, *hasnt; } cases[] = {
    {"queue", "  queue.servers ", "cluster.pools"},
    {"serving", "  cluster.pools.[i].gpu ", "queue.servers"},
    {"cluster", "  cluster.pools.[i].tp ", "scheduler.policy"},
    {"scheduler", "  scheduler.policy ", "cluster.pools"},
    {"workload", "  workload.arrivals", "queue.servers"},
    {"jobs", "  jobs.", "queue.servers"},
    {"training", "  training.gpu ", "jobs."},
    {"gpus", "  gpus.[i].price_provider ", "models.[i]"},
    {"models", "  models.[i].max_context ", "gpus.[i]"},
    {"distributions", "  weibull ", "queue.servers"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    result r = RUN("keys", cases[i].name);
    CHECK_RC(r, 0);
    CHECK_OUT_HAS(r, cases[i].has);
    CHECK(strstr(r.out, cases[i].hasnt) == NULL, "%s: lists %s:\n%s", r.cmd, cases[i].hasnt, r.out);
    /* a section lists only keys below it */
    if (!strcmp(cases[i].name, "cluster") || !strcmp(cases[i].name, "scheduler"))
      for (const char *l = strstr(r.out, "\n  "); l; l = strstr(l + 1, "\n  "))
        CHECK(!strncmp(l + 3, cases[i].name, strlen(cases[i].name)), "%s: a key outside the section: %.40s",
              r.cmd, l + 3);
    result_free(&r);
  }
  /* every key line of the whole listing is in the part of its component or catalog */
  static const char *const parts[] = {"queue", "serving", "jobs", "training", "links", "gpus", "models", "stacks", "providers",
                                      "train_stacks",
                                      "distributions", NULL};
  char *joined = xstrdup("");
  for (const char *const *p = parts; *p; p++) {
    result r = RUN("keys", *p);
    joined = xrealloc(joined, strlen(joined) + strlen(r.out) + 1);
    strcat(joined, r.out);
    result_free(&r);
  }
  size_t lines = 0;
  for (const char *l = strstr(all.out, "\n  "); l; l = strstr(l + 1, "\n  ")) {
    const char *eol = strchr(l + 1, '\n');
    size_t len = eol ? (size_t)(eol - l) : strlen(l);
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line - 1 ? len : sizeof line - 1), l);
    CHECK(strstr(joined, line) != NULL, "keys: line not in any part:%s", line);
    lines++;
  }
  CHECK(lines > 200, "keys: only %zu key lines", lines);
  free(joined);
  /* no key takes a duration until the loader does: no note */
  CHECK(strstr(all.out, "Keys of type duration") == NULL || strstr(all.out, " duration ") != NULL,
        "keys: a duration note without a duration key");
  result_free(&all);

  result r = RUN("keys", "clusterr");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "unknown name 'clusterr'");
  CHECK_ERR_HAS(r, "components: queue serving jobs training");
  CHECK_ERR_HAS(r, "cluster");
  CHECK(r.out[0] == '\0', "%s: stdout not empty", r.cmd);
  result_free(&r);
  r = RUN("keys", "cluster", "queue");
  CHECK_RC(r, 2);
  result_free(&r);
  r = RUN("keys", "--help");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "Usage: clustersim keys [NAME]");
  CHECK_OUT_HAS(r, "sections: model cluster workload");
  result_free(&r);
}

int main(int argc, char **argv)
{
  static const cs_test tests[] = {
    {"badconfig", test_badconfig},
    {"missing_file", test_missing_file},
    {"set_errors", test_set_errors},
    {"seed_errors", test_seed_errors},
    {"help_version", test_help_version},
    {"keys_filter", test_keys_filter},
    {"usage_errors", test_usage_errors},
    {"check_ok", test_check_ok},
    {"reproducible", test_reproducible},
    {"set_changes_result", test_set_changes_result},
    {"outputs", test_outputs},
    {"unwritable_output", test_unwritable_output},
    {"conservation", test_conservation},
    {"golden", test_golden},
    {"interrupt", test_interrupt},
    {NULL, NULL},
  };
  return cs_run_suite_filtered("cli", tests, argc, argv);
}
