/* driver/config/trace.c: the CSV trace reader (see trace.h). It owns the arrays of a
 * sim_trace and reads nothing but the file it is given. Times are parsed
 * into (seconds, nanoseconds) integer pairs and differenced against the
 * first row, so a 7-digit fraction such as .6805900 stays exact. Every
 * problem is reported with its line and column, up to SIM_TRACE_MAX_ERRORS
 * per file. */
#include "driver/config/trace.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/util.h"

typedef struct {
  const char *path;
  cfg_errors *errs;
  int nerr;
} reader;

/* Add "path[:line]: [col: ]what"; false once the cap is reached (the
 * caller stops reading). */
static bool report(reader *rd, size_t line, const char *col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool report(reader *rd, size_t line, const char *col, const char *fmt, ...)
{
  char what[512], where[1200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (line > 0)
    snprintf(where, sizeof where, "%s:%zu", rd->path, line);
  else
    snprintf(where, sizeof where, "%s", rd->path);
  if (col)
    cfg_errors_add(rd->errs, "%s: %s: %s", where, col, what);
  else
    cfg_errors_add(rd->errs, "%s: %s", where, what);
  if (++rd->nerr < SIM_TRACE_MAX_ERRORS) return true;
  cfg_errors_add(rd->errs, "%s: stopped reading after %d errors", rd->path, SIM_TRACE_MAX_ERRORS);
  return false;
}

/* Split line (modified in place) at commas into *fields (grown as needed);
 * each field trimmed of blanks and of one pair of surrounding quotes. */
static int split(char *line, char ***fields, int *cap)
{
  int n = 0;
  for (char *p = line;;) {
    char *end = strchr(p, ',');
    if (end) *end = '\0';
    while (*p == ' ' || *p == '\t') p++;
    size_t len = strlen(p);
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t')) p[--len] = '\0';
    if (len >= 2 && p[0] == '"' && p[len - 1] == '"') {
      p[len - 1] = '\0';
      p++;
    }
    if (n == *cap) {
      *cap = *cap ? 2 * *cap : 8;
      *fields = xrealloc(*fields, (size_t)*cap * sizeof **fields);
    }
    (*fields)[n++] = p;
    if (!end) return n;
    p = end + 1;
  }
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* n digits at s as a number, or -1 if any is not a digit. */
static int64_t digits(const char *s, int n)
{
  int64_t v = 0;
  for (int i = 0; i < n; i++) {
    if (!is_digit(s[i])) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

/* ".f" (1 to 9 digits) at *s as nanoseconds; advances *s. NULL or why. */
static const char *fraction(const char **s, int32_t *ns)
{
  *ns = 0;
  if (**s != '.') return NULL;
  (*s)++;
  int n = 0;
  int32_t v = 0;
  while (is_digit(**s)) {
    if (++n > 9) return "more than 9 fractional digits";
    v = v * 10 + (**s - '0');
    (*s)++;
  }
  if (n == 0) return "no digits after the decimal point";
  for (int i = n; i < 9; i++) v *= 10;
  *ns = v;
  return NULL;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int days_in_month(int64_t y, int64_t m)
{
  static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : dim[m - 1];
}

/* "YYYY-MM-DD HH:MM:SS[.f][Z]" (or a T between) to s since the epoch + ns.
 * NULL on success, else why not. */
static const char *parse_datetime(const char *s, int64_t *sec, int32_t *ns)
{
  int64_t y = digits(s, 4), mo = -1, d = -1, h = -1, mi = -1, se = -1;
  if (y >= 0 && s[4] == '-') mo = digits(s + 5, 2);
  if (mo >= 0 && s[7] == '-') d = digits(s + 8, 2);
  if (d >= 0 && (s[10] == ' ' || s[10] == 'T')) h = digits(s + 11, 2);
  if (h >= 0 && s[13] == ':') mi = digits(s + 14, 2);
  if (mi >= 0 && s[16] == ':') se = digits(s + 17, 2);
  if (se < 0) return "not a date-time";
  if (mo < 1 || mo > 12) return "month out of range";
  if (d < 1 || d > days_in_month(y, mo)) return "day out of range";
  if (h > 23) return "hour out of range";
  if (mi > 59) return "minute out of range";
  if (se > 59) return "second out of range";
  const char *p = s + 19, *why = fraction(&p, ns);
  if (why) return why;
  if (*p == 'Z') p++;
  if (*p) return "unexpected text after the time";
  *sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
  return NULL;
}

/* "S[.f]" (seconds >= 0) to s + ns. NULL on success, else why not. */
static const char *parse_seconds(const char *s, int64_t *sec, int32_t *ns)
{
  if (!is_digit(*s)) return "not a number of seconds";
  int64_t v = 0;
  while (is_digit(*s)) {
    v = v * 10 + (*s++ - '0');
    if (v > (int64_t)SIM_TIME_MAX_S) return "too large";
  }
  const char *why = fraction(&s, ns);
  if (why) return why;
  if (*s) return "not a number of seconds";
  *sec = v;
  return NULL;
}

/* A decimal integer (optional sign) filling all of s. */
static bool parse_int(const char *s, int64_t *out)
{
  bool neg = *s == '-';
  if (*s == '-' || *s == '+') s++;
  if (!is_digit(*s)) return false;
  uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  for (; is_digit(*s); s++) {
    unsigned dgt = (unsigned)(*s - '0');
    if (v > (lim - dgt) / 10) return false;
    v = v * 10 + dgt;
  }
  if (*s) return false;
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return true;
}

/* Index of column `name` in the header, -1 if absent, -2 if twice. */
static int find_column(char **hdr, int n, const char *name, int *second)
{
  int at = -1;
  for (int i = 0; i < n; i++) {
    if (strcmp(hdr[i], name) != 0) continue;
    if (at >= 0) {
      *second = i;
      return -2 - at;
    }
    at = i;
  }
  return at;
}

/* The file's lines, with LF / CRLF removed; false at the end or on error. */
static bool next_line(FILE *f, char **buf, size_t *cap, size_t *lineno)
{
  ssize_t len = getline(buf, cap, f);
  if (len < 0) return false;
  ++*lineno;
  while (len > 0 && ((*buf)[len - 1] == '\n' || (*buf)[len - 1] == '\r')) (*buf)[--len] = '\0';
  return true;
}

static bool blank(const char *s)
{
  for (; *s; s++)
    if (*s != ' ' && *s != '\t') return false;
  return true;
}

bool cfg_trace_read(sim_trace *tr, const char *path, const char *time_col,
                    const sim_trace_column *cols, int ncols, cfg_errors *errs)
{
  memset(tr, 0, sizeof *tr);
  reader rd = {path, errs, 0};
  FILE *f = fopen(path, "r");
  if (!f) {
    report(&rd, 0, NULL, "cannot open: %s", strerror(errno));
    return false;
  }
  char *line = NULL, **fld = NULL;
  size_t linecap = 0, lineno = 0, hdr_line = 0;
  int fldcap = 0, nhdr = 0;
  int *idx = xmalloc((size_t)(ncols + 1) * sizeof *idx);  /* [0]: time, then cols */
  bool go = true;

  /* header: the first line that is not blank */
  while (next_line(f, &line, &linecap, &lineno))
    if (!blank(line)) {
      hdr_line = lineno;
      break;
    }
  if (ferror(f)) {
    report(&rd, 0, NULL, "cannot read: %s", strerror(errno));
    go = false;
  } else if (!hdr_line) {
    report(&rd, lineno + 1, NULL, "empty file (expected a header line naming the columns)");
    go = false;
  } else {
    if (!strncmp(line, "\xEF\xBB\xBF", 3)) memmove(line, line + 3, strlen(line + 3) + 1);
    nhdr = split(line, &fld, &fldcap);
    char **hdr = xmalloc((size_t)nhdr * sizeof *hdr);
    size_t listlen = 0;
    for (int i = 0; i < nhdr; i++) {
      hdr[i] = xstrdup(fld[i]);
      listlen += strlen(hdr[i]) + 2;
    }
    char *list = xcalloc(listlen + 1, 1);
    for (int i = 0; i < nhdr; i++) {
      if (i) strcat(list, ", ");
      strcat(list, hdr[i]);
    }
    for (int c = 0; c <= ncols && go; c++) {
      const char *name = c == 0 ? time_col : cols[c - 1].name;
      int second = 0, at = find_column(hdr, nhdr, name, &second);
      if (at == -1)
        go = report(&rd, hdr_line, name, "no such column (the header names: %s)", list);
      else if (at <= -2)
        go = report(&rd, hdr_line, name, "named twice in the header (columns %d and %d)",
                    -2 - at + 1, second + 1);
      idx[c] = at;
    }
    for (int i = 0; i < nhdr; i++) free(hdr[i]);
    free(hdr);
    free(list);
    if (rd.nerr) go = false;
  }

  /* rows */
  size_t cap = 0, prev_line = 0;
  int64_t prev_s = 0, s0 = 0;
  int32_t prev_ns = 0, ns0 = 0;
  bool have_prev = false, decided = false;
  char prev_text[64] = "";
  if (go) {
    tr->ncols = ncols;
    tr->values = xcalloc((size_t)(ncols > 0 ? ncols : 1), sizeof *tr->values);
  }
  while (go && next_line(f, &line, &linecap, &lineno)) {
    if (blank(line)) continue;
    int n = split(line, &fld, &fldcap);
    if (n != nhdr) {
      go = report(&rd, lineno, NULL, "the row has %d field%s (expected %d, as in the header)",
                  n, n == 1 ? "" : "s", nhdr);
      continue;
    }
    const char *tv = fld[idx[0]];
    if (!decided) {
      tr->datetime = strlen(tv) > 4 && digits(tv, 4) >= 0 && tv[4] == '-';
      decided = true;
    }
    int64_t s = 0;
    int32_t ns = 0;
    const char *why = tr->datetime ? parse_datetime(tv, &s, &ns) : parse_seconds(tv, &s, &ns);
    bool row_ok = true;
    if (why) {
      go = report(&rd, lineno, time_col, "'%s' is not a time: %s (expected %s)", tv, why,
                  tr->datetime ? "YYYY-MM-DD HH:MM:SS[.fffffffff], as on the first row"
                               : "seconds >= 0 with up to 9 decimals, as on the first row");
      row_ok = false;
    } else if (have_prev && (s < prev_s || (s == prev_s && ns < prev_ns))) {
      go = report(&rd, lineno, time_col, "time goes back: '%s' is before '%s' on line %zu "
                  "(expected times in non-decreasing order)", tv, prev_text, prev_line);
      row_ok = false;
    } else if (have_prev && s - s0 > (int64_t)SIM_TIME_MAX_S) {
      go = report(&rd, lineno, time_col, "'%s' is more than 292 years after the first row", tv);
      row_ok = false;
    }
    if (!why && (!have_prev || row_ok)) {
      if (!have_prev) {
        s0 = s;
        ns0 = ns;
        tr->start_s = s;
        tr->start_ns = ns;
      }
      have_prev = true;
      prev_s = s;
      prev_ns = ns;
      prev_line = lineno;
      snprintf(prev_text, sizeof prev_text, "%s", tv);
    }
    if (tr->rows == cap) {
      cap = cap ? 2 * cap : 1024;
      tr->time_ns = xrealloc(tr->time_ns, cap * sizeof *tr->time_ns);
      for (int c = 0; c < ncols; c++) tr->values[c] = xrealloc(tr->values[c], cap * sizeof **tr->values);
    }
    for (int c = 0; c < ncols && go; c++) {
      const char *v = fld[idx[c + 1]];
      int64_t x = 0;
      if (!parse_int(v, &x)) {
        go = report(&rd, lineno, cols[c].name, "'%s' is not an integer (expected a whole number)", v);
        row_ok = false;
      } else if (x < cols[c].min) {
        go = report(&rd, lineno, cols[c].name, "%lld is below the minimum %lld",
                    (long long)x, (long long)cols[c].min);
        row_ok = false;
      }
      tr->values[c][tr->rows] = x;
    }
    if (!go) break;
    tr->time_ns[tr->rows++] = row_ok ? (s - s0) * SIM_NS_PER_S + (ns - ns0) : 0;
  }
  if (go && ferror(f)) report(&rd, 0, NULL, "cannot read: %s", strerror(errno));
  else if (go && !rd.nerr && tr->rows == 0)
    report(&rd, hdr_line + 1, NULL, "no rows after the header (expected at least one request)");
  free(line);
  free(fld);
  free(idx);
  fclose(f);
  if (rd.nerr) {
    sim_trace_release(tr);
    return false;
  }
  return true;
}
