/* sim/util.c: checked allocation and the SIM_BUG reporter (see util.h). */
#include "sim/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const int64_t *sim_bug_clock = NULL;

static _Noreturn void out_of_memory(size_t n)
{
  fprintf(stderr, "clustersim: out of memory allocating %zu bytes\n", n);
  abort();
}

void *xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (!p) out_of_memory(n);
  return p;
}

void *xcalloc(size_t count, size_t size)
{
  void *p = calloc(count ? count : 1, size ? size : 1);
  if (!p) out_of_memory(count * size);
  return p;
}

void *xrealloc(void *p, size_t n)
{
  void *q = realloc(p, n ? n : 1);
  if (!q) out_of_memory(n);
  return q;
}

char *xstrdup(const char *s)
{
  size_t n = strlen(s) + 1;
  return memcpy(xmalloc(n), s, n);
}

void sim_bug_at(const char *file, int line, const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "clustersim: internal error at %s:%d", file, line);
  if (sim_bug_clock)
    fprintf(stderr, " (simulated time %lld ns)", (long long)*sim_bug_clock);
  fputs(": ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  abort();
}
