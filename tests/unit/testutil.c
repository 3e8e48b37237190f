/* tests/unit/testutil.c: see testutil.h. */
#include "testutil.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int cs_rel_close(double actual, double expected, double rel)
{
  if (isnan(actual) || isnan(expected)) return 0;
  if (actual == expected) return 1;
  return fabs(actual - expected) <= rel * fabs(expected);
}

const char *cs_rel_msg(const char *what, double actual, double expected, double rel)
{
  static char buf[512];
  snprintf(buf, sizeof buf, "%s = %.10g, expected %.10g within %.3g relative",
           what, actual, expected, rel);
  return buf;
}

int cs_run_suite(const char *suite_name, const cs_test *tests)
{
  return cs_run_suite_filtered(suite_name, tests, 0, NULL);
}

int cs_run_suite_filtered(const char *suite_name, const cs_test *tests, int argc, char **argv)
{
  const char *filter = argc > 1 ? argv[1] : NULL;
  if (CU_initialize_registry() != CUE_SUCCESS) return 2;
  CU_pSuite s = CU_add_suite(suite_name, NULL, NULL);
  if (!s) return 2;
  unsigned added = 0;
  for (const cs_test *t = tests; t->name; t++) {
    if (filter && strncmp(t->name, filter, strlen(filter)) != 0) continue;
    if (!CU_add_test(s, t->name, t->fn)) return 2;
    added++;
  }
  if (added == 0) {
    fprintf(stderr, "%s: no test matches '%s'\n", suite_name, filter ? filter : "");
    CU_cleanup_registry();
    return 2;
  }
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
  CU_cleanup_registry();
  return failed ? 1 : 0;
}

static char *read_fd_all(int fd)
{
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (len + 1 >= cap) buf = realloc(buf, cap *= 2);
    ssize_t k = read(fd, buf + len, cap - len - 1);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    len += (size_t)k;
  }
  buf[len] = '\0';
  return buf;
}

int cs_run_capture(char *const argv[], char **out, char **err)
{
  char outname[] = "/tmp/cs_out_XXXXXX", errname[] = "/tmp/cs_err_XXXXXX";
  int ofd = mkstemp(outname), efd = mkstemp(errname);
  if (ofd < 0 || efd < 0) return -1;
  unlink(outname);
  unlink(errname);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(ofd, 1);
    dup2(efd, 2);
    execv(argv[0], argv);
    _exit(127);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  lseek(ofd, 0, SEEK_SET);
  lseek(efd, 0, SEEK_SET);
  if (out) *out = read_fd_all(ofd);
  if (err) *err = read_fd_all(efd);
  close(ofd);
  close(efd);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return WEXITSTATUS(st);
}

char *cs_tmpdir(const char *tag)
{
  size_t n = strlen(CS_TEST_TMP) + strlen(tag) + 32;
  char *p = malloc(n);
  snprintf(p, n, "%s/%s.%ld", CS_TEST_TMP, tag, (long)getpid());
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", p);
  if (system(cmd) != 0) return p;
  mkdir(CS_TEST_TMP, 0777);
  mkdir(p, 0777);
  return p;
}

char *cs_slurp(const char *path, size_t *len)
{
  int fd = open(path, O_RDONLY);
  if (fd < 0) return NULL;
  char *s = read_fd_all(fd);
  close(fd);
  if (len) *len = strlen(s);
  return s;
}

int cs_aborts(void (*fn)(void))
{
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 2);
    fn();
    _exit(0);
  }
  int status;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return 0;
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

char *cs_fmt(const char *f, ...)
{
  va_list ap;
  va_start(ap, f);
  int n = vsnprintf(NULL, 0, f, ap);
  va_end(ap);
  char *s = malloc((size_t)n + 1);
  if (!s) abort();
  va_start(ap, f);
  vsnprintf(s, (size_t)n + 1, f, ap);
  va_end(ap);
  return s;
}
