/* tests/unit/testutil.h: helpers shared by the CUnit suites: a relative
 * tolerance assertion (CUnit's double check is absolute only), a runner
 * that registers one suite and exits non-zero on any failure, and a way to
 * run the clustersim program capturing its status and standard error. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <CUnit/CUnit.h>
#include <stddef.h>

/* |actual - expected| <= rel * |expected| (or both zero). */
#define CS_ASSERT_REL(actual, expected, rel) \
  CU_assertImplementation(cs_rel_close((actual), (expected), (rel)), __LINE__, \
    cs_rel_msg(#actual, (actual), (expected), (rel)), __FILE__, "", CU_FALSE)

int cs_rel_close(double actual, double expected, double rel);
/* Message for a failed relative check (static buffer). */
const char *cs_rel_msg(const char *what, double actual, double expected, double rel);

typedef struct {
  const char *name;
  CU_TestFunc fn;
} cs_test;

/* Register `tests` (terminated by {NULL, NULL}) as suite `suite`, run them
 * verbosely, and return the process exit status: 0 iff all passed. */
int cs_run_suite(const char *suite, const cs_test *tests);
/* The same, running only the tests whose name starts with argv[1] when a
 * filter is given (CTest splits slow suites into parallel parts this way). */
int cs_run_suite_filtered(const char *suite, const cs_test *tests, int argc, char **argv);

/* Run argv (argv[0] a path) with stdout and stderr captured into malloc'd
 * strings (caller frees; may pass NULL to discard). Returns the exit status,
 * or 128+signal if it was killed by a signal. */
int cs_run_capture(char *const argv[], char **out, char **err);

/* A fresh empty directory under CS_TEST_TMP named after `tag`; returns a
 * malloc'd path. */
char *cs_tmpdir(const char *tag);

/* Run fn in a child process (stderr silenced); true iff it died of SIGABRT,
 * which is how SIM_BUG ends. For tests of broken invariants. */
int cs_aborts(void (*fn)(void));

/* Whole file into a malloc'd NUL-terminated string; NULL if unreadable. */
char *cs_slurp(const char *path, size_t *len);

/* printf into fresh storage (caller frees). */
char *cs_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

#endif
