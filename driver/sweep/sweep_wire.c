/* driver/sweep/sweep_wire.c: a run's report as text, to carry it from a worker
 * process (a pipe) or an MPI rank (a message) to the one that records it:
 * one line per metric, "KIND<TAB>KEY<TAB>VALUE", KIND I (integer), N
 * (number, %.17g, so that it round-trips exactly; "nan" for undefined) or
 * S (text without tabs or newlines). Labels are not carried. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/sweep/sweep.h"
#include "sim/util.h"

char *sweep_wire_encode(const sim_report *rep)
{
  size_t cap = 256, len = 0;
  char *buf = xmalloc(cap);
  buf[0] = '\0';
  for (size_t i = 0; i < rep->len; i++) {
    const sim_metric *m = &rep->items[i];
    char line[1200];
    int n;
    if (m->kind == SIM_VAL_INT)
      n = snprintf(line, sizeof line, "I\t%s\t%" PRId64 "\n", m->key, m->i);
    else if (m->kind == SIM_VAL_NUM)
      n = isfinite(m->x) ? snprintf(line, sizeof line, "N\t%s\t%.17g\n", m->key, m->x)
                         : snprintf(line, sizeof line, "N\t%s\tnan\n", m->key);
    else
      n = snprintf(line, sizeof line, "S\t%s\t%s\n", m->key, m->s);
    if (n < 0 || (size_t)n >= sizeof line) SIM_BUG("metric %s too long to send", m->key);
    if (len + (size_t)n + 1 > cap) {
      while (len + (size_t)n + 1 > cap) cap *= 2;
      buf = xrealloc(buf, cap);
    }
    memcpy(buf + len, line, (size_t)n + 1);
    len += (size_t)n;
  }
  return buf;
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
    const char *key = t1 + 1, *val = t2 + 1;
    if (sim_report_get(rep, key)) {
      ok = false;
      break;
    }
    char *end;
    switch (line[0]) {
    case 'I': {
      long long v = strtoll(val, &end, 10);
      if (*end) ok = false;
      else sim_report_int(rep, key, v, NULL);
      break;
    }
    case 'N': {
      double v = strcmp(val, "nan") ? strtod(val, &end) : NAN;
      if (strcmp(val, "nan") && *end) ok = false;
      else sim_report_num(rep, key, v, NULL);
      break;
    }
    case 'S': sim_report_str(rep, key, val, NULL); break;
    default: ok = false;
    }
  }
  free(copy);
  if (!ok) sim_report_release(rep);
  return ok;
}
