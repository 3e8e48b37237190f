/* driver/config/duration.c: parsing durations with units (see duration.h).
 * Numbers are read by strtod; this file owns only the unit grammar. */
#include "driver/config/duration.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cfg_duration_units[] = "d, h, m, s, ms, us, ns";

static const struct {
  const char *name;
  double seconds;
} units[] = {
  {"d", 86400.0}, {"h", 3600.0}, {"m", 60.0}, {"s", 1.0}, {"ms", 1e-3}, {"us", 1e-6}, {"ns", 1e-9},
};
enum { NUNITS = sizeof units / sizeof units[0] };

/* Index of the unit that starts p (the longest name that matches), setting
 * *len; -1 if none. */
static int unit_at(const char *p, size_t *len)
{
  int best = -1;
  size_t best_len = 0;
  for (int i = 0; i < NUNITS; i++) {
    size_t l = strlen(units[i].name);
    if (l > best_len && !strncmp(p, units[i].name, l)) {
      best = i;
      best_len = l;
    }
  }
  *len = best_len;
  return best;
}

bool cfg_duration_parse(const char *text, double *seconds, char *why, size_t n)
{
  const char *p = text;
  bool neg = false;
  if (*p == '-' || *p == '+') neg = *p++ == '-';
  if (!*p) {
    snprintf(why, n, "empty duration");
    return false;
  }
  /* a plain decimal number is seconds (strtod alone would also take hex,
   * inf and nan) */
  char *end;
  errno = 0;
  double v = strtod(p, &end);
  bool decimal = strspn(p, "0123456789.eE+-") == strlen(p);
  if (decimal && end != p && !*end && *p != '-' && *p != '+') {
    if (errno == ERANGE || !isfinite(v)) {
      snprintf(why, n, "duration out of range");
      return false;
    }
    *seconds = neg ? -v : v;
    return true;
  }
  double total = 0;
  int last = -1;
  while (*p) {
    if (!(*p >= '0' && *p <= '9') && *p != '.') {
      snprintf(why, n, "expected a number of seconds or numbers with units (%s), as in \"1h30m\"",
               cfg_duration_units);
      return false;
    }
    errno = 0;
    v = strtod(p, &end);
    /* the first character is a digit or '.', so no inf, nan or sign; hex
     * ("0x1p3h") is refused below as an unknown unit "x..." */
    if (end == p || errno == ERANGE || (end - p > 1 && (p[1] == 'x' || p[1] == 'X'))) {
      snprintf(why, n, "not a number at \"%s\"", p);
      return false;
    }
    size_t ulen;
    int u = unit_at(end, &ulen);
    if (u < 0) {
      snprintf(why, n, "%s unit at \"%s\" (expected one of %s)", *end ? "unknown" : "missing", end,
               cfg_duration_units);
      return false;
    }
    if (u <= last) {
      snprintf(why, n, "units must come largest first, each once (as in \"1h30m\")");
      return false;
    }
    last = u;
    total += v * units[u].seconds;
    p = end + ulen;
  }
  if (!isfinite(total)) {
    snprintf(why, n, "duration out of range");
    return false;
  }
  *seconds = neg ? -total : total;
  return true;
}
