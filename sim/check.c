/* sim/check.c: the collector behind sim_check_fail (see component.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim/component.h"
#include "sim/util.h"

struct sim_check {
  char **keys, **msgs;
  bool *capacity;
  size_t len;
  char **wkeys, **wmsgs;  /* warnings */
  size_t nwarn;
};

sim_check *sim_check_alloc(void) { return xcalloc(1, sizeof(sim_check)); }

void sim_check_free(sim_check *ck)
{
  if (!ck) return;
  for (size_t i = 0; i < ck->len; i++) {
    free(ck->keys[i]);
    free(ck->msgs[i]);
  }
  free(ck->keys);
  free(ck->msgs);
  free(ck->capacity);
  for (size_t i = 0; i < ck->nwarn; i++) {
    free(ck->wkeys[i]);
    free(ck->wmsgs[i]);
  }
  free(ck->wkeys);
  free(ck->wmsgs);
  free(ck);
}

static void add(sim_check *ck, const char *key, bool capacity, const char *fmt, va_list ap)
{
  char buf[1024];
  vsnprintf(buf, sizeof buf, fmt, ap);
  ck->keys = xrealloc(ck->keys, (ck->len + 1) * sizeof *ck->keys);
  ck->msgs = xrealloc(ck->msgs, (ck->len + 1) * sizeof *ck->msgs);
  ck->capacity = xrealloc(ck->capacity, (ck->len + 1) * sizeof *ck->capacity);
  ck->keys[ck->len] = xstrdup(key);
  ck->msgs[ck->len] = xstrdup(buf);
  ck->capacity[ck->len] = capacity;
  ck->len++;
}

void sim_check_fail(sim_check *ck, const char *key, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  add(ck, key, false, fmt, ap);
  va_end(ap);
}

void sim_check_fail_capacity(sim_check *ck, const char *key, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  add(ck, key, true, fmt, ap);
  va_end(ap);
}

bool sim_check_capacity(const sim_check *ck, size_t i) { return ck->capacity[i]; }

size_t sim_check_count(const sim_check *ck) { return ck->len; }
const char *sim_check_key(const sim_check *ck, size_t i) { return ck->keys[i]; }
const char *sim_check_msg(const sim_check *ck, size_t i) { return ck->msgs[i]; }

void sim_check_warn(sim_check *ck, const char *key, const char *fmt, ...)
{
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  ck->wkeys = xrealloc(ck->wkeys, (ck->nwarn + 1) * sizeof *ck->wkeys);
  ck->wmsgs = xrealloc(ck->wmsgs, (ck->nwarn + 1) * sizeof *ck->wmsgs);
  ck->wkeys[ck->nwarn] = xstrdup(key);
  ck->wmsgs[ck->nwarn] = xstrdup(buf);
  ck->nwarn++;
}

size_t sim_check_warn_count(const sim_check *ck) { return ck->nwarn; }
const char *sim_check_warn_key(const sim_check *ck, size_t i) { return ck->wkeys[i]; }
const char *sim_check_warn_msg(const sim_check *ck, size_t i) { return ck->wmsgs[i]; }
