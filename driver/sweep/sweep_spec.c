/* driver/sweep/sweep_spec.c: a sweep's axes, from --vary flags and from the
 * scenario's `sweep` section, and the points they make (see sweep.h). A
 * numeric range is kept as (from, step, count) and its values written out
 * on demand, so that counting the points allocates nothing. */
#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "driver/sweep/sweep.h"
#include "driver/config/source.h"
#include "sim/util.h"

/* Most values one axis may take (a guard against A:B:STEP typos). */
#define SIM_SWEEP_MAX_VALUES 100000

void sweep_spec_init(sweep_spec *sp)
{
  memset(sp, 0, sizeof *sp);
  sp->replications = 1;
}

void sweep_spec_release(sweep_spec *sp)
{
  for (int a = 0; a < sp->naxes; a++) {
    sweep_axis *ax = &sp->axes[a];
    for (int i = 0; i < ax->n && ax->values; i++) {
      free(ax->values[i]);
      free(ax->labels[i]);
    }
    free(ax->values);
    free(ax->labels);
    free(ax->key);
  }
  memset(sp, 0, sizeof *sp);
}

static sweep_axis *new_axis(sweep_spec *sp, const char *key, size_t keylen, const char *what,
                                cfg_errors *errs)
{
  if (sp->naxes == SIM_SWEEP_MAX_AXES) {
    cfg_errors_add(errs, "%s: at most %d varied keys", what, SIM_SWEEP_MAX_AXES);
    return NULL;
  }
  for (int a = 0; a < sp->naxes; a++)
    if (strlen(sp->axes[a].key) == keylen && !strncmp(sp->axes[a].key, key, keylen)) {
      cfg_errors_add(errs, "%s: %.*s is varied twice", what, (int)keylen, key);
      return NULL;
    }
  sweep_axis *ax = &sp->axes[sp->naxes++];
  memset(ax, 0, sizeof *ax);
  ax->key = xmalloc(keylen + 1);
  memcpy(ax->key, key, keylen);
  ax->key[keylen] = '\0';
  return ax;
}

static void add_value(sweep_axis *ax, const char *value, const char *label)
{
  ax->values = xrealloc(ax->values, (size_t)(ax->n + 1) * sizeof *ax->values);
  ax->labels = xrealloc(ax->labels, (size_t)(ax->n + 1) * sizeof *ax->labels);
  ax->values[ax->n] = xstrdup(value);
  ax->labels[ax->n] = xstrdup(label);
  ax->n++;
}

static bool parse_number(const char *s, double *out)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !isfinite(v)) return false;
  *out = v;
  return true;
}

/* A number as --set and the CSV write it: an integer without a point. */
static void number_text(double v, char *buf, size_t n)
{
  if (v == floor(v) && fabs(v) < 1e15)
    snprintf(buf, n, "%.0f", v);
  else
    snprintf(buf, n, "%.15g", v);
}

/* from, to, step -> a range axis; false with a message. */
static bool add_range(sweep_axis *ax, double from, double to, double step, const char *what,
                      cfg_errors *errs)
{
  if (!(step > 0) || to < from) {
    cfg_errors_add(errs, "%s: a range A:B:STEP needs A <= B and STEP > 0", what);
    return false;
  }
  double count = floor((to - from) / step * (1 + 1e-12)) + 1;
  if (!(count <= SIM_SWEEP_MAX_VALUES)) {
    cfg_errors_add(errs, "%s: %.0f values (at most %d)", what, count, SIM_SWEEP_MAX_VALUES);
    return false;
  }
  ax->range = true;
  ax->from = from;
  ax->step = step;
  ax->n = (int)count;
  return true;
}

const char *sweep_axis_value(const sweep_axis *ax, int i, char *buf, size_t n)
{
  if (!ax->range) return ax->values[i];
  number_text(ax->from + (double)i * ax->step, buf, n);
  return buf;
}

const char *sweep_axis_label(const sweep_axis *ax, int i, char *buf, size_t n)
{
  return ax->range ? sweep_axis_value(ax, i, buf, n) : ax->labels[i];
}

bool sweep_add_vary(sweep_spec *sp, const char *text, cfg_errors *errs)
{
  char what[600];
  snprintf(what, sizeof what, "--vary %s", text);
  const char *eq = strchr(text, '=');
  if (!eq || eq == text || !eq[1]) {
    cfg_errors_add(errs, "%s: expected KEY=V1,V2,... or KEY=A:B:STEP", what);
    return false;
  }
  sweep_axis *ax = new_axis(sp, text, (size_t)(eq - text), what, errs);
  if (!ax) return false;
  const char *list = eq + 1;
  /* A:B:STEP when it is three numbers */
  if (strchr(list, ':') && !strchr(list, ',')) {
    char *copy = xstrdup(list), *save = NULL;
    char *a = strtok_r(copy, ":", &save), *b = strtok_r(NULL, ":", &save), *c = strtok_r(NULL, ":", &save);
    double from, to, step;
    bool ok = a && b && c && !strtok_r(NULL, ":", &save) && parse_number(a, &from) && parse_number(b, &to) &&
              parse_number(c, &step);
    free(copy);
    if (!ok) {
      cfg_errors_add(errs, "%s: a range is A:B:STEP, three numbers", what);
      return false;
    }
    return add_range(ax, from, to, step, what, errs);
  }
  char *copy = xstrdup(list), *save = NULL;
  for (char *v = strtok_r(copy, ",", &save); v; v = strtok_r(NULL, ",", &save)) {
    /* a label without quotes; the value as given (the scenario reader
     * takes a bare word as a string) */
    size_t len = strlen(v);
    char *label = xstrdup(v);
    if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
      memmove(label, v + 1, len - 2);
      label[len - 2] = '\0';
    }
    add_value(ax, v, label);
    free(label);
  }
  free(copy);
  if (ax->n == 0) {
    cfg_errors_add(errs, "%s: no values", what);
    return false;
  }
  return true;
}

/* One element of a `values` array as a --set value and a label. */
static bool element_text(const config_setting_t *e, char *value, char *label, size_t n)
{
  switch (config_setting_type(e)) {
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64:
    snprintf(value, n, "%lld", config_setting_get_int64(e));
    break;
  case CONFIG_TYPE_FLOAT:
    number_text(config_setting_get_float(e), value, n);
    break;
  case CONFIG_TYPE_BOOL:
    snprintf(value, n, "%s", config_setting_get_bool(e) ? "true" : "false");
    break;
  case CONFIG_TYPE_STRING:
    snprintf(value, n, "\"%s\"", config_setting_get_string(e));
    snprintf(label, n, "%s", config_setting_get_string(e));
    return true;
  default:
    return false;
  }
  snprintf(label, n, "%s", value);
  return true;
}

static double number_of(const config_setting_t *s)
{
  return config_setting_type(s) == CONFIG_TYPE_FLOAT ? config_setting_get_float(s)
                                                     : (double)config_setting_get_int64(s);
}

bool sweep_read_section(sweep_spec *sp, const char *file, int64_t max_input_bytes, bool *replications_set,
                        cfg_errors *errs)
{
  /* stat, not open: a FIFO would block here; the loader reports it */
  struct stat st;
  if (stat(file, &st) != 0 || !S_ISREG(st.st_mode)) return true;
  config_t cfg;
  config_init(&cfg);
  bool ok = true;
  cfg_errors scratch;
  cfg_errors_init(&scratch, file);
  bool read = cfg_config_load(&cfg, file, "scenario", &(cfg_reader){.max_bytes = max_input_bytes}, &scratch);
  cfg_errors_release(&scratch);
  if (!read) {
    /* the scenario loader reports it properly */
    config_destroy(&cfg);
    return true;
  }
  config_setting_t *sw = config_lookup(&cfg, "sweep");
  if (!sw) goto done;
  if (config_setting_type(sw) != CONFIG_TYPE_GROUP) {
    cfg_errors_at(errs, sw, "sweep", "expected a group { vary = ( ... ); replications = N; }");
    ok = false;
    goto done;
  }
  for (int i = 0; i < config_setting_length(sw); i++) {
    config_setting_t *m = config_setting_get_elem(sw, (unsigned)i);
    const char *name = config_setting_name(m);
    if (strcmp(name, "vary") && strcmp(name, "replications")) {
      char path[256];
      snprintf(path, sizeof path, "sweep.%s", name);
      cfg_errors_at(errs, m, path, "unknown key (expected vary, replications)");
      ok = false;
    }
  }
  config_setting_t *reps = config_setting_get_member(sw, "replications");
  if (reps) {
    if (!config_setting_is_number(reps) || number_of(reps) != floor(number_of(reps)) || number_of(reps) < 1 ||
        number_of(reps) > 10000) {
      cfg_errors_at(errs, reps, "sweep.replications", "expected an integer from 1 to 10000");
      ok = false;
    } else if (!*replications_set) {
      sp->replications = (int)number_of(reps);
      *replications_set = true;
    }
  }
  config_setting_t *vary = config_setting_get_member(sw, "vary");
  if (!vary) goto done;
  if (config_setting_type(vary) != CONFIG_TYPE_LIST) {
    cfg_errors_at(errs, vary, "sweep.vary", "expected a list ( { key = \"...\"; values = [ ... ]; }, ... )");
    ok = false;
    goto done;
  }
  for (int i = 0; i < config_setting_length(vary); i++) {
    config_setting_t *g = config_setting_get_elem(vary, (unsigned)i);
    char path[64];
    snprintf(path, sizeof path, "sweep.vary.[%d]", i);
    const char *key = NULL;
    if (config_setting_type(g) != CONFIG_TYPE_GROUP || !config_setting_lookup_string(g, "key", &key)) {
      cfg_errors_at(errs, g, path, "expected { key = \"PATH\"; values = [ ... ]; } or { key; from; to; step; }");
      ok = false;
      continue;
    }
    config_setting_t *values = config_setting_get_member(g, "values");
    config_setting_t *from = config_setting_get_member(g, "from"), *to = config_setting_get_member(g, "to"),
                     *step = config_setting_get_member(g, "step");
    sweep_axis *ax = new_axis(sp, key, strlen(key), path, errs);
    if (!ax) {
      ok = false;
      continue;
    }
    if (values && config_setting_type(values) == CONFIG_TYPE_ARRAY && config_setting_length(values) > 0) {
      for (int j = 0; j < config_setting_length(values); j++) {
        char v[512], l[512];
        if (element_text(config_setting_get_elem(values, (unsigned)j), v, l, sizeof v)) add_value(ax, v, l);
      }
    } else if (!values && from && to && step && config_setting_is_number(from) && config_setting_is_number(to) &&
               config_setting_is_number(step)) {
      char what[128];
      snprintf(what, sizeof what, "%s:%d: %s", file, config_setting_source_line(g), path);
      if (!add_range(ax, number_of(from), number_of(to), number_of(step), what, errs)) ok = false;
    } else {
      cfg_errors_at(errs, g, path, "give values = [ ... ] (non-empty), or from, to and step (numbers)");
      ok = false;
    }
  }
done:
  config_destroy(&cfg);
  return ok;
}

bool sweep_count_points(const sweep_spec *sp, size_t max, size_t *points, double *approx)
{
  size_t n = 1;
  double x = 1;
  bool ok = true;
  for (int a = 0; a < sp->naxes; a++) {
    size_t k = (size_t)sp->axes[a].n;
    x *= (double)k;
    if (k != 0 && n > SIZE_MAX / k)
      ok = false;
    else
      n *= k;
  }
  *approx = x;
  *points = ok ? n : SIZE_MAX;
  return ok && n <= max;
}

size_t sweep_points(const sweep_spec *sp)
{
  size_t n = 1;
  for (int a = 0; a < sp->naxes; a++) n *= (size_t)sp->axes[a].n;
  return n;
}

int sweep_value_index(const sweep_spec *sp, size_t point, int a)
{
  for (int b = sp->naxes - 1; b > a; b--) point /= (size_t)sp->axes[b].n;
  return (int)(point % (size_t)sp->axes[a].n);
}

char **sweep_point_sets(const sweep_spec *sp, size_t point)
{
  char **sets = xcalloc((size_t)sp->naxes + 1, sizeof *sets);
  for (int a = 0; a < sp->naxes; a++) {
    const sweep_axis *ax = &sp->axes[a];
    char buf[64];
    const char *v = sweep_axis_value(ax, sweep_value_index(sp, point, a), buf, sizeof buf);
    size_t n = strlen(ax->key) + strlen(v) + 2;
    sets[a] = xmalloc(n);
    snprintf(sets[a], n, "%s=%s", ax->key, v);
  }
  return sets;
}

void sweep_free_sets(char **sets, int n)
{
  if (!sets) return;
  for (int i = 0; i < n; i++) free(sets[i]);
  free(sets);
}
