/* tests/unit/clitest.h: helpers for suites that run the clustersim program
 * (test_cli, test_catalog): assertions with formatted messages, running the
 * program and capturing its output, directory listings, reading one
 * number out of JSON output, and loading a JSON file the program wrote
 * (with jansson). */
#ifndef CLITEST_H
#define CLITEST_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* A CUnit failure or pass, reported at file:line with a formatted message. */
void cs_fail_at(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void cs_pass(const char *file, const char *what);
#define fail_at(line, ...) cs_fail_at(__FILE__, (line), __VA_ARGS__)
#define pass(what) cs_pass(__FILE__, (what))

/* Assert cond; on failure report the formatted message instead of the bare
 * expression, so a failure says which file or command it was about. */
#define CHECK(cond, ...)              \
  do {                                \
    if (cond)                         \
      pass(#cond);                    \
    else                              \
      fail_at(__LINE__, __VA_ARGS__); \
  } while (0)

/* One run of the program: exit status, captured output (malloc'd, never
 * NULL) and the command line for messages. */
typedef struct {
  int rc;
  char *out, *err;
  char cmd[4096];
} result;

void result_free(result *r);
/* Run clustersim with argv (NULL-terminated, without the program name) in
 * directory dir (NULL: the current one). */
result run_argv(const char *dir, const char *const *args);
/* The same with the arguments listed, ending with (const char *)NULL. */
result run_in(const char *dir, const char *arg, ...);
#define RUN(...) run_in(NULL, __VA_ARGS__, (const char *)NULL)

void check_rc(const char *file, int line, const result *r, int want);
void check_has(const char *file, int line, const result *r, const char *stream, const char *text,
               const char *want);
#define CHECK_RC(r, want) check_rc(__FILE__, __LINE__, &(r), (want))
#define CHECK_ERR_HAS(r, want) check_has(__FILE__, __LINE__, &(r), "stderr", (r).err, (want))
#define CHECK_OUT_HAS(r, want) check_has(__FILE__, __LINE__, &(r), "stdout", (r).out, (want))

/* Write text to dir/name (a failed assertion if it cannot); the path,
 * caller frees. */
char *cs_write_file(const char *dir, const char *name, const char *text);

/* rm -rf path (a warning if it fails). */
void cs_rm_rf(const char *path);
/* Remove a test's scratch directory unless the test has failed so far
 * (failures_before: CU_get_number_of_failures() when it started), so that
 * a failing run can be repeated by hand. */
void cs_cleanup_if_passed(const char *dir, unsigned failures_before);
/* Whether files a and b both exist and hold the same bytes. */
bool cs_same_file(const char *a, const char *b);

/* "a/b" in fresh storage (caller frees). */
char *path_join(const char *a, const char *b);
/* Names in dir ending in `suffix` (all but . and .. if NULL), sorted,
 * NULL-terminated; free with free_list. *count set. */
char **list_dir(const char *dir, const char *suffix, size_t *count);
void free_list(char **names);

/* The number after `"key": ` in a JSON text; false if the key is absent or
 * its value is not a number (null, a string). */
bool json_num(const char *json, const char *key, double *out);

/* `clustersim run CFG -q -o OUT [ARG]...` in dir: OUT/summary.json's text
 * (malloc'd), or NULL after failing the test at `file`:`line`. */
char *cs_run_summary(const char *file, int line, const char *dir, const char *cfg, const char *out,
                     const char *const *args);
/* The number at "key" of a summary's text, NaN after failing the test. */
double cs_summary_num(const char *file, int line, const char *json, const char *key);
/* a within rel of b (cs_rel_close), or the test fails naming `what` and both. */
#define CS_CHECK_REL(a, b, rel, what)                                                                    \
  do {                                                                                                   \
    double a_ = (a), b_ = (b);                                                                           \
    CHECK(cs_rel_close(a_, b_, (rel)), "%s: %.12g, expected %.12g within %g relative (off by %.3g)", (what), \
          a_, b_, (double)(rel), b_ != 0 ? a_ / b_ - 1 : a_ - b_);                                      \
  } while (0)
/* dir/name parsed (the caller json_decref's it); NULL and a failure at
 * file:line if it is missing or not JSON. */
json_t *cs_load_json(const char *file, int line, const char *dir, const char *name);
#define load_json(dir, name) cs_load_json(__FILE__, __LINE__, (dir), (name))
/* Member key of object o as a number (NAN if o is NULL or it is not one). */
double cs_jnum(const json_t *o, const char *key);
/* Member key of object o as a string ("" if o is NULL or it is not one). */
const char *cs_jstr(const json_t *o, const char *key);

#endif
