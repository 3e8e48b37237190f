/* tests/unit/clitest.c: see clitest.h. */
#include "clitest.h"

#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

void cs_fail_at(const char *file, int line, const char *fmt, ...)
{
  char buf[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  CU_assertImplementation(CU_FALSE, (unsigned)line, buf, file, "", CU_FALSE);
}

/* A passed assertion (CU_PASS is a braced block, unusable before else). */
void cs_pass(const char *file, const char *what)
{
  CU_assertImplementation(CU_TRUE, 0, what, file, "", CU_FALSE);
}

void result_free(result *r)
{
  free(r->out);
  free(r->err);
  r->out = r->err = NULL;
}

result run_argv(const char *dir, const char *const *args)
{
  char *argv[64];
  int n = 0;
  result r = {0};
  argv[n++] = (char *)CS_BIN;
  snprintf(r.cmd, sizeof r.cmd, "clustersim");
  for (const char *const *a = args; *a && n < 63; a++) {
    argv[n++] = (char *)*a;
    strncat(r.cmd, " ", sizeof r.cmd - strlen(r.cmd) - 1);
    strncat(r.cmd, *a, sizeof r.cmd - strlen(r.cmd) - 1);
  }
  argv[n] = NULL;
  char saved[4096];
  if (dir && (!getcwd(saved, sizeof saved) || chdir(dir) != 0)) {
    fail_at(__LINE__, "cannot change to %s: %s", dir, strerror(errno));
    r.rc = -1;
    r.out = calloc(1, 1);
    r.err = calloc(1, 1);
    return r;
  }
  r.rc = cs_run_capture(argv, &r.out, &r.err);
  if (dir && chdir(saved) != 0) fail_at(__LINE__, "cannot return to %s", saved);
  if (!r.out) r.out = calloc(1, 1);
  if (!r.err) r.err = calloc(1, 1);
  return r;
}

result run_in(const char *dir, const char *arg, ...)
{
  const char *args[64];
  int n = 0;
  va_list ap;
  va_start(ap, arg);
  for (const char *a = arg; a && n < 63; a = va_arg(ap, const char *)) args[n++] = a;
  va_end(ap);
  args[n] = NULL;
  return run_argv(dir, args);
}

void check_rc(const char *file, int line, const result *r, int want)
{
  if (r->rc != want)
    cs_fail_at(file, line, "%s: exit status %d, expected %d; stderr:\n%s", r->cmd, r->rc, want, r->err);
  else
    cs_pass(file, "exit status");
}

void check_has(const char *file, int line, const result *r, const char *stream, const char *text,
               const char *want)
{
  if (!strstr(text, want))
    cs_fail_at(file, line, "%s: %s does not contain \"%s\"; it was:\n%s", r->cmd, stream, want, text);
  else
    cs_pass(file, "contains");
}

char *path_join(const char *a, const char *b)
{
  size_t n = strlen(a) + strlen(b) + 2;
  char *p = malloc(n);
  snprintf(p, n, "%s/%s", a, b);
  return p;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

char **list_dir(const char *dir, const char *suffix, size_t *count)
{
  size_t len = 0, cap = 16;
  char **names = malloc(cap * sizeof *names);
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      const char *nm = e->d_name;
      if (!strcmp(nm, ".") || !strcmp(nm, "..")) continue;
      size_t ln = strlen(nm), ls = suffix ? strlen(suffix) : 0;
      if (suffix && (ln <= ls || strcmp(nm + ln - ls, suffix))) continue;
      if (len + 1 >= cap) names = realloc(names, (cap *= 2) * sizeof *names);
      names[len++] = strdup(nm);
    }
    closedir(d);
  }
  qsort(names, len, sizeof *names, cmp_str);
  names[len] = NULL;
  *count = len;
  return names;
}

void free_list(char **names)
{
  for (char **p = names; *p; p++) free(*p);
  free(names);
}

bool json_num(const char *json, const char *key, double *out)
{
  char pat[256];
  snprintf(pat, sizeof pat, "\"%s\": ", key);
  const char *p = strstr(json, pat);
  if (!p) return false;
  p += strlen(pat);
  char *end;
  double v = strtod(p, &end);
  if (end == p || (*end != ',' && *end != '\n')) return false;
  *out = v;
  return true;
}

char *cs_write_file(const char *dir, const char *name, const char *text)
{
  char *path = path_join(dir, name);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL, "cannot create %s", path);
  if (f) {
    fputs(text, f);
    fclose(f);
  }
  return path;
}

void cs_rm_rf(const char *path)
{
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
  if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", path);
}

void cs_cleanup_if_passed(const char *dir, unsigned failures_before)
{
  if (CU_get_number_of_failures() == failures_before) cs_rm_rf(dir);
}

bool cs_same_file(const char *a, const char *b)
{
  size_t na, nb;
  char *x = cs_slurp(a, &na), *y = cs_slurp(b, &nb);
  bool same = x && y && na == nb && memcmp(x, y, na) == 0;
  free(x);
  free(y);
  return same;
}

char *cs_run_summary(const char *file, int line, const char *dir, const char *cfg, const char *out,
                     const char *const *args)
{
  const char *argv[32] = {"run", cfg, "-q", "-o", out};
  int n = 5;
  for (; args && *args && n < 31; args++) argv[n++] = *args;
  argv[n] = NULL;
  result r = run_argv(dir, argv);
  if (r.rc != 0) cs_fail_at(file, line, "%s: exit status %d; stderr:\n%s", r.cmd, r.rc, r.err);
  result_free(&r);
  char *rel = path_join(out, "summary.json"), *path = path_join(dir, rel);
  char *text = cs_slurp(path, NULL);
  if (!text) cs_fail_at(file, line, "%s: not written", path);
  free(rel);
  free(path);
  return text;
}

double cs_summary_num(const char *file, int line, const char *json, const char *key)
{
  double v = NAN;
  if (!json || !json_num(json, key, &v)) cs_fail_at(file, line, "summary: no numeric \"%s\"", key);
  return v;
}

json_t *cs_load_json(const char *file, int line, const char *dir, const char *name)
{
  char *p = path_join(dir, name);
  json_error_t err;
  json_t *j = json_load_file(p, 0, &err);
  if (j)
    cs_pass(file, "load_json");
  else
    cs_fail_at(file, line, "%s: %s", p, err.text);
  free(p);
  return j;
}

double cs_jnum(const json_t *o, const char *key)
{
  const json_t *v = o ? json_object_get(o, key) : NULL;
  return json_is_number(v) ? json_number_value(v) : NAN;
}

const char *cs_jstr(const json_t *o, const char *key)
{
  const json_t *v = o ? json_object_get(o, key) : NULL;
  return json_is_string(v) ? json_string_value(v) : "";
}
