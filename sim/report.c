/* sim/report.c: the ordered metric list (see report.h). */
#include "sim/report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/util.h"

void sim_report_init(sim_report *r) { memset(r, 0, sizeof *r); }

void sim_report_release(sim_report *r)
{
  for (size_t i = 0; i < r->len; i++) {
    free(r->items[i].key);
    free(r->items[i].s);
    free(r->items[i].label);
  }
  free(r->items);
  for (size_t i = 0; i < r->nwarnings; i++) free(r->warnings[i]);
  free(r->warnings);
  memset(r, 0, sizeof *r);
}

void sim_report_warn(sim_report *r, const char *fmt, ...)
{
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  r->warnings = xrealloc(r->warnings, (r->nwarnings + 1) * sizeof *r->warnings);
  r->warnings[r->nwarnings++] = xstrdup(buf);
}

const sim_metric *sim_report_get(const sim_report *r, const char *key)
{
  for (size_t i = 0; i < r->len; i++)
    if (strcmp(r->items[i].key, key) == 0) return &r->items[i];
  return NULL;
}

static sim_metric *append(sim_report *r, const char *key, const char *label)
{
  if (sim_report_get(r, key)) SIM_BUG("metric %s reported twice", key);
  if (r->len == r->cap) {
    r->cap = r->cap ? 2 * r->cap : 32;
    r->items = xrealloc(r->items, r->cap * sizeof *r->items);
  }
  sim_metric *m = &r->items[r->len++];
  memset(m, 0, sizeof *m);
  m->key = xstrdup(key);
  m->label = label ? xstrdup(label) : NULL;
  return m;
}

void sim_report_int(sim_report *r, const char *key, int64_t v, const char *label)
{
  sim_metric *m = append(r, key, label);
  m->kind = SIM_VAL_INT;
  m->i = v;
}

void sim_report_num(sim_report *r, const char *key, double v, const char *label)
{
  sim_metric *m = append(r, key, label);
  m->kind = SIM_VAL_NUM;
  m->x = v;
}

void sim_report_str(sim_report *r, const char *key, const char *v, const char *label)
{
  sim_metric *m = append(r, key, label);
  m->kind = SIM_VAL_STR;
  m->s = xstrdup(v);
}
