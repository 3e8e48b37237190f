/* sim/schema.c: defaults and bounds of key-table entries (see schema.h),
 * shared by the scenario reader and the command-line flag parser. */
#include "sim/schema.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sim/dist.h"

static bool ends_with(const char *s, const char *tail)
{
  size_t n = strlen(s), m = strlen(tail);
  return n >= m && !strcmp(s + n - m, tail);
}

bool sim_key_is_duration(const sim_key *k)
{
  if (k->kind != SIM_KEY_FLOAT && k->kind != SIM_KEY_NUMBERS) return false;
  if (k->unit && !strcmp(k->unit, "s")) return true;
  return k->name && ends_with(k->name, "_s") && !ends_with(k->name, "_per_s");
}

void sim_key_mark_written(const sim_key *k, void *out, bool written)
{
  if (k->has_present) *(bool *)((char *)out + k->present_offset) = written;
}

void sim_key_set_default(const sim_key *k, void *out)
{
  char *field = (char *)out + k->offset;
  switch (k->kind) {
  case SIM_KEY_INT: *(int64_t *)field = (int64_t)k->def; break;
  case SIM_KEY_FLOAT: *(double *)field = k->def; break;
  case SIM_KEY_BOOL: *(bool *)field = k->def != 0; break;
  case SIM_KEY_STRING: *(const char **)field = k->def_str; break;
  case SIM_KEY_NAMES: ((sim_names *)field)->n = 0; break;
  case SIM_KEY_ENUM: {
    int idx = 0;
    for (int i = 0; k->def_str && k->choices[i]; i++)
      if (!strcmp(k->choices[i], k->def_str)) idx = i;
    *(int *)field = idx;
    break;
  }
  case SIM_KEY_LIST:
  case SIM_KEY_NUMBERS: *(int *)((char *)out + k->count_offset) = 0; break;
  case SIM_KEY_GROUP:
  case SIM_KEY_DIST_TIME: break;
  }
}

bool sim_key_number_ok(const sim_key *k, double v, char *why, size_t n)
{
  const char *lo = k->min_exclusive ? ">" : ">=";
  bool ok = isfinite(v) && (k->min_exclusive ? v > k->min : v >= k->min) &&
            !(k->max > k->min && v > k->max);
  if (!ok) {
    if (k->max > k->min && k->max < 1e300)
      snprintf(why, n, "a value %s %g and <= %g", lo, k->min, k->max);
    else
      snprintf(why, n, "a value %s %g", lo, k->min);
  }
  return ok;
}
