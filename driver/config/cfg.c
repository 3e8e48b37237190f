/* driver/config/cfg.c: schema-driven reading of libconfig sections and the error list
 * (see cfg.h). libconfig accepts any key; everything a user can get wrong
 * is caught here, collected, and reported with file, line and key path. */
#include "driver/config/cfg.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/config/duration.h"
#include "driver/config/source.h"
#include "sim/dist.h"
#include "sim/util.h"

void cfg_errors_init(cfg_errors *e, const char *file)
{
  memset(e, 0, sizeof *e);
  e->file = file;
}

void cfg_errors_release(cfg_errors *e)
{
  for (size_t i = 0; i < e->len; i++) free(e->msgs[i]);
  for (size_t i = 0; i < e->nfiles; i++) free(e->files[i]);
  free(e->files);
  e->files = NULL;
  e->nfiles = 0;
  free(e->msgs);
  free(e->lines);
  free(e->capacity);
  for (size_t i = 0; i < e->nwarns; i++) free(e->warns[i]);
  free(e->warns);
  e->warns = NULL;
  e->nwarns = 0;
  e->msgs = NULL;
  e->lines = NULL;
  e->capacity = NULL;
  e->len = 0;
}

/* Order key of a message: the file's rank among files seen so far (high
 * bits), then the line. */
static uint64_t order_key(cfg_errors *e, const char *file, unsigned line)
{
  size_t rank = 0;
  if (file) {
    for (rank = 0; rank < e->nfiles; rank++)
      if (!strcmp(e->files[rank], file)) break;
    if (rank == e->nfiles) {
      e->files = xrealloc(e->files, (e->nfiles + 1) * sizeof *e->files);
      e->files[e->nfiles++] = xstrdup(file);
    }
  }
  return (uint64_t)rank << 32 | line;
}

static void add_msg_key(cfg_errors *e, const char *msg, uint64_t key)
{
  e->msgs = xrealloc(e->msgs, (e->len + 1) * sizeof *e->msgs);
  e->lines = xrealloc(e->lines, (e->len + 1) * sizeof *e->lines);
  e->capacity = xrealloc(e->capacity, (e->len + 1) * sizeof *e->capacity);
  e->capacity[e->len] = false;
  e->lines[e->len] = key;
  e->msgs[e->len++] = xstrdup(msg);
}

static void add_msg(cfg_errors *e, const char *msg) { add_msg_key(e, msg, 0); }

void cfg_errors_mark_capacity(cfg_errors *e)
{
  if (e->len) e->capacity[e->len - 1] = true;
}

void cfg_errors_add(cfg_errors *e, const char *fmt, ...)
{
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  add_msg(e, buf);
}

const char *cfg_origin(const config_setting_t *s)
{
  for (const config_setting_t *p = s; p; p = config_setting_parent(p)) {
    const char *origin = config_setting_get_hook(p);
    if (origin) return origin;
  }
  return NULL;
}

/* "--set ..." if s or a parent came from an override, else "file:line";
 * returns the ordering key (file rank, line; 0 for an override). */
static uint64_t describe_where(cfg_errors *e, const config_setting_t *s, char *buf, size_t n)
{
  const char *origin = cfg_origin(s);
  if (origin) {
    snprintf(buf, n, "--set %s", origin);
    return 0;
  }
  const char *file = s ? config_setting_source_file(s) : NULL;
  if (!file) file = e->file ? e->file : "<scenario>";
  unsigned line = s ? config_setting_source_line(s) : 0;
  if (line > 0)
    snprintf(buf, n, "%s:%u", file, line);
  else
    snprintf(buf, n, "%s", file);
  return order_key(e, file, line);
}

void cfg_errors_at(cfg_errors *e, const config_setting_t *at, const char *path,
                   const char *fmt, ...)
{
  char where[1024], what[1024], buf[2400];
  va_list ap;
  uint64_t key = describe_where(e, at, where, sizeof where);
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (path && *path)
    snprintf(buf, sizeof buf, "%s: %s: %s", where, path, what);
  else
    snprintf(buf, sizeof buf, "%s: %s", where, what);
  add_msg_key(e, buf, key);
}

void cfg_errors_warn_at(cfg_errors *e, const config_setting_t *at, const char *path,
                        const char *fmt, ...)
{
  char where[1024], what[1024], buf[2400];
  va_list ap;
  describe_where(e, at, where, sizeof where);
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (path && *path)
    snprintf(buf, sizeof buf, "%s: %s: warning: %s", where, path, what);
  else
    snprintf(buf, sizeof buf, "%s: warning: %s", where, what);
  e->warns = xrealloc(e->warns, (e->nwarns + 1) * sizeof *e->warns);
  e->warns[e->nwarns++] = xstrdup(buf);
}

void cfg_errors_print_warnings(const cfg_errors *e, FILE *f)
{
  for (size_t i = 0; i < e->nwarns; i++) fprintf(f, "clustersim: %s\n", e->warns[i]);
}

void cfg_errors_print(const cfg_errors *e, FILE *f)
{
  /* stable insertion sort of indices by line: lists are short */
  size_t *order = xmalloc((e->len + 1) * sizeof *order);
  for (size_t i = 0; i < e->len; i++) {
    size_t j = i;
    while (j > 0 && e->lines[order[j - 1]] > e->lines[i]) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = i;
  }
  for (size_t i = 0; i < e->len; i++) fprintf(f, "clustersim: %s\n", e->msgs[order[i]]);
  free(order);
  cfg_errors_print_warnings(e, f);
}

bool cfg_file_ok(const char *file, const char *what, cfg_errors *errs)
{
  struct stat st;
  /* O_NONBLOCK: opening a FIFO must not wait for a writer */
  int fd = open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    cfg_errors_add(errs, "%s: cannot open %s: %s", file, what, strerror(errno));
    return false;
  }
  bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  close(fd);
  if (!regular) cfg_errors_add(errs, "%s: cannot read %s: not a regular file", file, what);
  return regular;
}

void cfg_mark_origin(config_setting_t *s, const char *origin)
{
  config_setting_set_hook(s, (void *)origin);
}

/* ---- values ---- */

static const char *type_name(int type)
{
  switch (type) {
  case CONFIG_TYPE_GROUP: return "a group { ... }";
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64: return "an integer";
  case CONFIG_TYPE_FLOAT: return "a number";
  case CONFIG_TYPE_STRING: return "a string";
  case CONFIG_TYPE_BOOL: return "a boolean";
  case CONFIG_TYPE_ARRAY: return "an array [ ... ]";
  case CONFIG_TYPE_LIST: return "a list ( ... )";
  default: return "an unknown type";
  }
}

/* The value as the user wrote it, for messages. */
static void value_text(const config_setting_t *s, char *buf, size_t n)
{
  switch (config_setting_type(s)) {
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64:
    snprintf(buf, n, "%lld", config_setting_get_int64(s));
    break;
  case CONFIG_TYPE_FLOAT:
    snprintf(buf, n, "%g", config_setting_get_float(s));
    break;
  case CONFIG_TYPE_STRING: {
    /* a short prefix only: the string may come from any file */
    char q[256];
    snprintf(buf, n, "\"%s\"", cfg_quote(config_setting_get_string(s), 40, q, sizeof q));
    break;
  }
  case CONFIG_TYPE_BOOL:
    snprintf(buf, n, "%s", config_setting_get_bool(s) ? "true" : "false");
    break;
  default:
    snprintf(buf, n, "%s", type_name(config_setting_type(s)));
  }
}

static void join_path(char *buf, size_t n, const char *path, const char *name)
{
  if (path && *path)
    snprintf(buf, n, "%s.%s", path, name);
  else
    snprintf(buf, n, "%s", name);
}

static bool is_number(const config_setting_t *s)
{
  int t = config_setting_type(s);
  return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_FLOAT;
}

static double number_of(const config_setting_t *s)
{
  if (config_setting_type(s) == CONFIG_TYPE_FLOAT) return config_setting_get_float(s);
  return (double)config_setting_get_int64(s);
}

/* Integer bounds of k: [lo, hi] (hi INT64_MAX when k has no maximum). */
static void int_bounds(const sim_key *k, int64_t *lo, int64_t *hi)
{
  double mn = k->min_exclusive ? floor(k->min) + 1 : ceil(k->min);
  *lo = mn <= -9.2e18 ? INT64_MIN : mn >= 9.2e18 ? INT64_MAX : (int64_t)mn;
  *hi = INT64_MAX;
  if (k->max > k->min) {
    double mx = floor(k->max);
    *hi = mx >= 9.2e18 ? INT64_MAX : (int64_t)mx;
  }
}

/* An integer key's value, exactly (64-bit, no trip through a double). */
static bool read_int(const config_setting_t *s, const char *path, const sim_key *k, int64_t *out,
                     cfg_errors *errs)
{
  char val[256], bounds[128];
  value_text(s, val, sizeof val);
  int t = config_setting_type(s);
  int64_t v;
  if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
    v = config_setting_get_int64(s);
  } else if (t == CONFIG_TYPE_FLOAT) {
    /* 1e6 is an integer; a float beyond 2^53 is not exact, so not one */
    double d = config_setting_get_float(s);
    if (d != floor(d) || fabs(d) > 9007199254740992.0) {
      cfg_errors_at(errs, s, path, "expected an integer, got %s", val);
      return false;
    }
    v = (int64_t)d;
  } else {
    cfg_errors_at(errs, s, path, "expected an integer, got %s", val);
    return false;
  }
  int64_t lo, hi;
  int_bounds(k, &lo, &hi);
  if (v < lo || v > hi) {
    sim_key_number_ok(k, NAN, bounds, sizeof bounds);
    cfg_errors_at(errs, s, path, "out of range: %lld (expected %s)", (long long)v, bounds);
    return false;
  }
  *out = v;
  return true;
}

static bool read_number(const config_setting_t *s, const char *path, const sim_key *k,
                        double *out, cfg_errors *errs)
{
  char val[256], bounds[128];
  value_text(s, val, sizeof val);
  double v;
  if (sim_key_is_duration(k) && config_setting_type(s) == CONFIG_TYPE_STRING) {
    char why[256];
    if (!cfg_duration_parse(config_setting_get_string(s), &v, why, sizeof why)) {
      cfg_errors_at(errs, s, path, "%s is not a duration: %s", val, why);
      return false;
    }
  } else if (k->kind == SIM_KEY_INT) {
    int64_t i;
    if (!read_int(s, path, k, &i, errs)) return false;
    *out = (double)i;
    return true;
  } else if (!is_number(s)) {
    cfg_errors_at(errs, s, path, "expected %s, got %s",
                  sim_key_is_duration(k) ? "a number of seconds or a duration such as \"1h30m\"" : "a number",
                  val);
    return false;
  } else {
    v = number_of(s);
  }
  if (!sim_key_number_ok(k, v, bounds, sizeof bounds)) {
    if (config_setting_type(s) == CONFIG_TYPE_STRING)
      cfg_errors_at(errs, s, path, "out of range: %s = %g s (expected %s)", val, v, bounds);
    else
      cfg_errors_at(errs, s, path, "out of range: %s (expected %s)", val, bounds);
    return false;
  }
  *out = v;
  return true;
}

/* ---- distributions: { dist = "name"; rate_per_s | mean_s; cv; k; shape; min_s; max_s } ---- */

static const char *const dist_keys[] = {"dist", "rate_per_s", "mean_s", "cv", "k", "shape",
                                        "min_s", "max_s", NULL};

static unsigned dist_key_param(const char *name)
{
  if (!strcmp(name, "rate_per_s") || !strcmp(name, "mean_s")) return SIM_DP_MEAN;
  if (!strcmp(name, "cv")) return SIM_DP_CV;
  if (!strcmp(name, "k")) return SIM_DP_K;
  if (!strcmp(name, "shape")) return SIM_DP_SHAPE;
  if (!strcmp(name, "min_s") || !strcmp(name, "max_s")) return SIM_DP_MINMAX;
  return 0;
}

static void dist_names(char *buf, size_t n)
{
  buf[0] = '\0';
  for (int i = 0; i < SIM_DIST_COUNT; i++) {
    strncat(buf, sim_dist_types[i].name, n - strlen(buf) - 1);
    if (i + 1 < SIM_DIST_COUNT) strncat(buf, ", ", n - strlen(buf) - 1);
  }
}

static void dist_takes(unsigned need, char *buf, size_t n)
{
  buf[0] = '\0';
  if (need & SIM_DP_MEAN) strncat(buf, "rate_per_s or mean_s, ", n - strlen(buf) - 1);
  if (need & SIM_DP_CV) strncat(buf, "cv, ", n - strlen(buf) - 1);
  if (need & SIM_DP_K) strncat(buf, "k, ", n - strlen(buf) - 1);
  if (need & SIM_DP_SHAPE) strncat(buf, "shape, ", n - strlen(buf) - 1);
  if (need & SIM_DP_MINMAX) strncat(buf, "min_s and max_s, ", n - strlen(buf) - 1);
  size_t len = strlen(buf);
  if (len >= 2) buf[len - 2] = '\0';
}

static int edit_distance(const char *a, const char *b);

static bool read_dist_time(const config_setting_t *g, const char *path, sim_dist *out,
                           cfg_errors *errs)
{
  char sub[512], names[256], takes[256];
  size_t before = errs->len;
  if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
    char val[256];
    value_text(g, val, sizeof val);
    cfg_errors_at(errs, g, path,
                  "expected a distribution group such as { dist = \"exponential\"; rate_per_s = 1.0; }, got %s",
                  val);
    return false;
  }
  const config_setting_t *d = config_setting_get_member(g, "dist");
  join_path(sub, sizeof sub, path, "dist");
  dist_names(names, sizeof names);
  if (!d) {
    cfg_errors_at(errs, g, sub, "required key missing (one of: %s)", names);
    return false;
  }
  if (config_setting_type(d) != CONFIG_TYPE_STRING) {
    char val[256];
    value_text(d, val, sizeof val);
    cfg_errors_at(errs, d, sub, "expected a string, got %s (one of: %s)", val, names);
    return false;
  }
  int kind = sim_dist_lookup(config_setting_get_string(d));
  if (kind < 0) {
    char q[256];
    cfg_errors_at(errs, d, sub, "unknown distribution \"%s\" (expected one of: %s)",
                  cfg_quote(config_setting_get_string(d), 40, q, sizeof q), names);
    return false;
  }
  unsigned need = sim_dist_types[kind].params;
  const char *dname = sim_dist_types[kind].name;
  dist_takes(need, takes, sizeof takes);

  sim_dist_params p = {0};
  const config_setting_t *rate = NULL, *mean = NULL;
  const config_setting_t *at_min = NULL;
  for (int i = 0; i < config_setting_length(g); i++) {
    const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
    const char *name = config_setting_name(s);
    if (!strcmp(name, "dist")) continue;
    join_path(sub, sizeof sub, path, name);
    unsigned which = dist_key_param(name);
    if (!which) {
      const char *best = NULL;
      int bestd = 3;
      for (const char *const *k = dist_keys; *k; k++) {
        int dd = edit_distance(name, *k);
        if (dd < bestd) bestd = dd, best = *k;
      }
      if (best)
        cfg_errors_at(errs, s, sub, "unknown key (did you mean '%s'? %s takes %s)", best, dname, takes);
      else
        cfg_errors_at(errs, s, sub, "unknown key (%s takes %s)", dname, takes);
      continue;
    }
    if (!(need & which)) {
      cfg_errors_at(errs, s, sub, "not a parameter of %s (it takes %s)", dname, takes);
      continue;
    }
    /* Bounds keep every draw a representable time: 1 ns to 10^7 s (116
     * days) for means and bounds, variability within what a real workload
     * shows (cv <= 100, Weibull shape >= 0.1). */
    sim_key k = {.name = name, .kind = SIM_KEY_FLOAT, .min = SIM_DIST_MIN_S, .max = SIM_DIST_MAX_S};
    if (!strcmp(name, "rate_per_s")) k.min = 1 / SIM_DIST_MAX_S, k.max = 1 / SIM_DIST_MIN_S;
    if (which == SIM_DP_CV) k.min = 0, k.min_exclusive = true, k.max = 100;
    if (which == SIM_DP_SHAPE) k.min = 0.1, k.max = 1000;
    if (which == SIM_DP_K) k = (sim_key){.name = name, .kind = SIM_KEY_INT, .min = 1, .max = 1e6};
    if (which == SIM_DP_MINMAX) k.min = 0;
    double v;
    if (!read_number(s, sub, &k, &v, errs)) continue;
    if (!strcmp(name, "rate_per_s")) rate = s, p.rate = v;
    else if (!strcmp(name, "mean_s")) mean = s, p.mean = v;
    else if (!strcmp(name, "cv")) p.cv = v;
    else if (!strcmp(name, "k")) p.k = (long)v;
    else if (!strcmp(name, "shape")) p.shape = v;
    else if (!strcmp(name, "min_s")) p.min = v, at_min = s;
    else if (!strcmp(name, "max_s")) p.max = v;
  }
  if (errs->len > before) return false;
  if ((need & SIM_DP_MEAN) && rate && mean) {
    join_path(sub, sizeof sub, path, "mean_s");
    cfg_errors_at(errs, mean, sub, "give rate_per_s or mean_s, not both");
    return false;
  }
  static const struct { unsigned bit; const char *key; } required[] = {
    {SIM_DP_MEAN, "rate_per_s"}, {SIM_DP_CV, "cv"}, {SIM_DP_K, "k"}, {SIM_DP_SHAPE, "shape"},
    {SIM_DP_MINMAX, "min_s"}, {SIM_DP_MINMAX, "max_s"}};
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
    if (!(need & required[i].bit)) continue;
    const char *key = required[i].key;
    if (!strcmp(key, "rate_per_s") && !rate && !mean) {
      join_path(sub, sizeof sub, path, "rate_per_s");
      cfg_errors_at(errs, g, sub, "required key missing (%s takes %s)", dname, takes);
    } else if (strcmp(key, "rate_per_s") && !config_setting_get_member(g, key)) {
      join_path(sub, sizeof sub, path, key);
      cfg_errors_at(errs, g, sub, "required key missing (%s takes %s)", dname, takes);
    }
  }
  if (errs->len > before) return false;
  if ((need & SIM_DP_MINMAX) && !(p.max > p.min)) {
    join_path(sub, sizeof sub, path, "max_s");
    cfg_errors_at(errs, config_setting_get_member(g, "max_s"), sub,
                  "must be greater than min_s (%g), got %g", p.min, p.max);
    return false;
  }
  const char *why = sim_dist_make(out, (sim_dist_kind)kind, &p);
  if (why) {
    cfg_errors_at(errs, at_min ? at_min : g, path, "%s: %s", dname, why);
    return false;
  }
  return true;
}

/* ---- the generic reader ---- */

/* Optimal-string-alignment distance (Levenshtein plus transpositions of
 * neighbours), for "did you mean" hints. */
static int edit_distance(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  if (la > 63 || lb > 63) return 99;
  int d[64][64];
  for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
  for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  return d[la][lb];
}

static const sim_key *find_key(const sim_key *schema, const char *name)
{
  for (const sim_key *k = schema; k->name; k++)
    if (!strcmp(k->name, name)) return k;
  return NULL;
}

static bool listed(const char *const *names, const char *name)
{
  for (; names && *names; names++)
    if (!strcmp(*names, name)) return true;
  return false;
}

static void expected_keys(const sim_key *schema, const char *const *also, char *buf, size_t n)
{
  buf[0] = '\0';
  for (const sim_key *k = schema; k->name; k++) {
    if (buf[0]) strncat(buf, ", ", n - strlen(buf) - 1);
    strncat(buf, k->name, n - strlen(buf) - 1);
  }
  for (; also && *also; also++) {
    if (buf[0]) strncat(buf, ", ", n - strlen(buf) - 1);
    strncat(buf, *also, n - strlen(buf) - 1);
  }
}

/* The closest name within edit distance 2, or NULL. */
static const char *suggest(const sim_key *schema, const char *const *also, const char *name)
{
  const char *best = NULL;
  int bestd = 3;
  for (const sim_key *k = schema; k->name; k++) {
    int d = edit_distance(name, k->name);
    if (d < bestd) bestd = d, best = k->name;
  }
  for (; also && *also; also++) {
    int d = edit_distance(name, *also);
    if (d < bestd) bestd = d, best = *also;
  }
  return best;
}

static void read_key(const config_setting_t *s, const char *path, const sim_key *k, void *out,
                     cfg_errors *errs)
{
  char *field = (char *)out + k->offset;
  char val[256];
  double v;
  switch (k->kind) {
  case SIM_KEY_INT: {
    int64_t i;
    if (read_int(s, path, k, &i, errs)) *(int64_t *)field = i;
    break;
  }
  case SIM_KEY_FLOAT:
    if (read_number(s, path, k, &v, errs)) *(double *)field = v;
    break;
  case SIM_KEY_BOOL:
    if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
      value_text(s, val, sizeof val);
      cfg_errors_at(errs, s, path, "expected true or false, got %s", val);
    } else {
      *(bool *)field = config_setting_get_bool(s);
    }
    break;
  case SIM_KEY_STRING:
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
      value_text(s, val, sizeof val);
      cfg_errors_at(errs, s, path, "expected a string, got %s", val);
    } else {
      *(const char **)field = config_setting_get_string(s);
    }
    break;
  case SIM_KEY_ENUM: {
    char choices[512] = "";
    for (int i = 0; k->choices[i]; i++) {
      if (i) strncat(choices, ", ", sizeof choices - strlen(choices) - 1);
      strncat(choices, k->choices[i], sizeof choices - strlen(choices) - 1);
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
      value_text(s, val, sizeof val);
      cfg_errors_at(errs, s, path, "expected one of %s, got %s", choices, val);
      break;
    }
    const char *str = config_setting_get_string(s);
    int idx = -1;
    for (int i = 0; k->choices[i]; i++)
      if (!strcmp(k->choices[i], str)) idx = i;
    if (idx < 0)
      cfg_errors_at(errs, s, path, "unknown value \"%s\" (expected one of: %s)", cfg_quote(str, 40, val, sizeof val),
                    choices);
    else
      *(int *)field = idx;
    break;
  }
  case SIM_KEY_GROUP:
    if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
      value_text(s, val, sizeof val);
      cfg_errors_at(errs, s, path, "expected a group { ... }, got %s", val);
    } else {
      cfg_read(s, path, k->group, field, NULL, errs);
    }
    break;
  case SIM_KEY_DIST_TIME:
    read_dist_time(s, path, (sim_dist *)field, errs);
    break;
  case SIM_KEY_LIST: {
    int t = config_setting_type(s), *count = (int *)((char *)out + k->count_offset);
    *count = 0;
    if (t != CONFIG_TYPE_LIST) {
      value_text(s, val, sizeof val);
      cfg_errors_at(errs, s, path, "expected a list ( { ... }, { ... } ), got %s", val);
      break;
    }
    int n = config_setting_length(s);
    if (n > k->max_items) {
      cfg_errors_at(errs, s, path, "at most %d items, got %d", k->max_items, n);
      n = k->max_items;
    }
    for (int i = 0; i < n; i++) {
      const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
      char sub[600];
      snprintf(sub, sizeof sub, "%s.[%d]", path, i);
      if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
        value_text(e, val, sizeof val);
        cfg_errors_at(errs, e, sub, "expected a group { ... }, got %s", val);
        continue;
      }
      cfg_read(e, sub, k->group, field + (size_t)i * k->item_size, NULL, errs);
    }
    *count = n;
    break;
  }
  case SIM_KEY_NUMBERS: {
    int t = config_setting_type(s), *count = (int *)((char *)out + k->count_offset);
    *count = 0;
    if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
      value_text(s, val, sizeof val);
      cfg_errors_at(errs, s, path, "expected an array of numbers [ 1, 2 ], got %s", val);
      break;
    }
    int n = config_setting_length(s);
    if (n > k->max_items) {
      cfg_errors_at(errs, s, path, "at most %d values, got %d", k->max_items, n);
      break;
    }
    sim_key item = *k;
    item.kind = SIM_KEY_FLOAT;
    for (int i = 0; i < n; i++) {
      char sub[600];
      snprintf(sub, sizeof sub, "%s.[%d]", path, i);
      if (!read_number(config_setting_get_elem(s, (unsigned)i), sub, &item, &v, errs)) return;
      ((double *)field)[i] = v;
    }
    *count = n;
    break;
  }
  case SIM_KEY_NAMES: {
    sim_names *names = (sim_names *)field;
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
      value_text(s, val, sizeof val);
      cfg_errors_at(errs, s, path, "expected an array of strings [ \"a\", \"b\" ], got %s", val);
      break;
    }
    names->n = 0;
    for (int i = 0; i < config_setting_length(s); i++) {
      const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
      if (config_setting_type(e) != CONFIG_TYPE_STRING) {
        cfg_errors_at(errs, s, path, "element %d is not a string", i);
        break;
      }
      if (names->n == SIM_MAX_NAMES) {
        cfg_errors_at(errs, s, path, "at most %d names", SIM_MAX_NAMES);
        break;
      }
      names->v[names->n++] = config_setting_get_string(e);
    }
    break;
  }
  }
}

/* A group that was not written (at `path` inside g): its keys take their
 * defaults, nested groups too; if the group was required, its required
 * keys are reported missing (an optional group's are not: it is simply
 * absent, as its presence flag says). */
static void absent_group(const config_setting_t *g, const char *path, const sim_key *schema,
                         void *out, bool required, cfg_errors *errs)
{
  for (const sim_key *kk = schema; kk->name; kk++) {
    char sub[600];
    join_path(sub, sizeof sub, path, kk->name);
    sim_key_mark_written(kk, out, false);
    if (kk->kind == SIM_KEY_GROUP)
      absent_group(g, sub, kk->group, (char *)out + kk->offset, required && kk->required, errs);
    else if (kk->required && required)
      cfg_errors_at(errs, g, sub, "required key missing (%s)", kk->help ? kk->help : "");
    else
      sim_key_set_default(kk, out);
  }
}

bool cfg_read(const config_setting_t *g, const char *path, const sim_key *schema,
                  void *out, const char *const *also_allowed, cfg_errors *errs)
{
  size_t before = errs->len;
  char sub[512], expected[1024];
  const char *hinted[64];
  size_t nhinted = 0;

  /* unknown keys first, remembering which known key each one resembles */
  for (int i = 0; i < config_setting_length(g); i++) {
    const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
    const char *name = config_setting_name(s);
    if (!name || find_key(schema, name) || listed(also_allowed, name)) continue;
    join_path(sub, sizeof sub, path, name);
    const char *best = suggest(schema, also_allowed, name);
    if (best) {
      cfg_errors_at(errs, s, sub, "unknown key (did you mean '%s'?)", best);
      if (nhinted < 64) hinted[nhinted++] = best;
    } else {
      expected_keys(schema, also_allowed, expected, sizeof expected);
      cfg_errors_at(errs, s, sub, "unknown key (expected one of: %s)", expected);
    }
  }
  for (const sim_key *k = schema; k->name; k++) {
    const config_setting_t *s = config_setting_get_member(g, k->name);
    join_path(sub, sizeof sub, path, k->name);
    if (!s) {
      sim_key_mark_written(k, out, false);
      bool hinted_group = false;
      for (size_t h = 0; h < nhinted; h++)
        if (!strcmp(hinted[h], k->name)) hinted_group = true;
      if (k->kind == SIM_KEY_GROUP && k->required && !hinted_group)
        cfg_errors_at(errs, g, sub, "required group missing (%s)", k->help ? k->help : "");
      if (k->kind == SIM_KEY_GROUP) {
        absent_group(g, sub, k->group, (char *)out + k->offset, k->required, errs);
        continue;
      }
      bool was_hinted = false;
      for (size_t h = 0; h < nhinted; h++)
        if (!strcmp(hinted[h], k->name)) was_hinted = true;
      if (k->required && !was_hinted)
        cfg_errors_at(errs, g, sub, "required key missing (%s)", k->help ? k->help : "");
      else if (!k->required)
        sim_key_set_default(k, out);
      continue;
    }
    sim_key_mark_written(k, out, true);
    read_key(s, sub, k, out, errs);
  }
  return errs->len == before;
}
