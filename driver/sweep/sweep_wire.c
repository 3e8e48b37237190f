/* driver/sweep/sweep_wire.c: a run's report as text, to carry it from a worker
 * process (a pipe) or an MPI rank (a message) to the one that records it:
 * one line per metric, "KIND<TAB>KEY<TAB>VALUE", KIND I (integer), N
 * (number, %.17g, so that it round-trips exactly; "nan" for undefined) or
 * S (text); backslash, tab and newline in keys and texts are written \\,
 * \t and \n. Any number of metrics of any length. Labels are not carried. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/sweep/sweep.h"
#include "sim/util.h"

typedef struct {
  char *s;
  size_t len, cap;
} buffer;

static void put(buffer *b, const char *s, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    while (b->len + n + 1 > b->cap) b->cap = b->cap ? 2 * b->cap : 256;
    b->s = xrealloc(b->s, b->cap);
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void put_escaped(buffer *b, const char *s)
{
  for (; *s; s++) {
    if (*s == '\\')
      put(b, "\\\\", 2);
    else if (*s == '\t')
      put(b, "\\t", 2);
    else if (*s == '\n')
      put(b, "\\n", 2);
    else
      put(b, s, 1);
  }
}

/* Undo put_escaped in place. */
static void unescape(char *s)
{
  char *w = s;
  for (char *r = s; *r; r++) {
    if (*r == '\\' && r[1]) {
      r++;
      *w++ = *r == 't' ? '\t' : *r == 'n' ? '\n' : *r;
    } else {
      *w++ = *r;
    }
  }
  *w = '\0';
}

char *sweep_wire_encode(const sim_report *rep)
{
  buffer b = {0};
  put(&b, "", 0);
  for (size_t i = 0; i < rep->len; i++) {
    const sim_metric *m = &rep->items[i];
    char num[64];
    put(&b, m->kind == SIM_VAL_INT ? "I\t" : m->kind == SIM_VAL_NUM ? "N\t" : "S\t", 2);
    put_escaped(&b, m->key);
    put(&b, "\t", 1);
    if (m->kind == SIM_VAL_INT) {
      snprintf(num, sizeof num, "%" PRId64, m->i);
      put(&b, num, strlen(num));
    } else if (m->kind == SIM_VAL_NUM) {
      if (isfinite(m->x))
        snprintf(num, sizeof num, "%.17g", m->x);
      else
        snprintf(num, sizeof num, "nan");
      put(&b, num, strlen(num));
    } else {
      put_escaped(&b, m->s ? m->s : "");
    }
    put(&b, "\n", 1);
  }
  return b.s;
}

bool sweep_wire_decode(const char *text, sim_report *rep)
{
  sim_report_init(rep);
  char *copy = xstrdup(text), *save = NULL;
  bool ok = true;
  for (char *line = strtok_r(copy, "\n", &save); line && ok; line = strtok_r(NULL, "\n", &save)) {
    char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
    if (!t1 || !t2 || t1 - line != 1) {
      ok = false;
      break;
    }
    *t2 = '\0';
    char *key = t1 + 1, *val = t2 + 1;
    unescape(key);
    if (sim_report_get(rep, key)) {
      ok = false;
      break;
    }
    char *end;
    switch (line[0]) {
    case 'I': {
      long long v = strtoll(val, &end, 10);
      if (*end || end == val) ok = false;
      else sim_report_int(rep, key, v, NULL);
      break;
    }
    case 'N': {
      double v = strcmp(val, "nan") ? strtod(val, &end) : NAN;
      if (strcmp(val, "nan") && (*end || end == val)) ok = false;
      else sim_report_num(rep, key, v, NULL);
      break;
    }
    case 'S':
      unescape(val);
      sim_report_str(rep, key, val, NULL);
      break;
    default: ok = false;
    }
  }
  free(copy);
  if (!ok) sim_report_release(rep);
  return ok;
}
