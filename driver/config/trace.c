/* driver/config/trace.c: the CSV trace reader (see trace.h). It owns the arrays of a
 * sim_trace and reads nothing but the text it is given. Fields are split by
 * libcsv (RFC 4180: quoted fields, doubled quotes, commas and line breaks
 * inside quotes, LF or CRLF). Times are parsed into (seconds, nanoseconds)
 * integer pairs and differenced against the first row, so a 7-digit
 * fraction such as .6805900 stays exact. Every problem is reported with its
 * line and column, up to SIM_TRACE_MAX_ERRORS per file; a file whose header
 * or first row is not shaped like a trace is refused at that line. Values
 * are quoted in messages at most SIM_TRACE_QUOTE characters long, so no
 * message shows whole rows of whatever file a scenario names. */
#include "driver/config/trace.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/config/source.h"
#include "sim/util.h"

typedef struct {
  const char *path;
  cfg_errors *errs;
  int nerr;
  size_t line;         /* the line being fed to libcsv (1-based) */
  bool go;             /* false once reading stops */
  /* the row being assembled: fields NUL-terminated in buf */
  char *buf;
  size_t blen, bcap;
  size_t *foff;
  int nf, fcap;
  bool nul;            /* a field holds a NUL byte */
  size_t row_line;
  /* what the rows go into */
  sim_trace *tr;
  const char *time_col;
  const sim_trace_column *cols;
  int ncols;
  int *idx;            /* [0]: time column, then cols */
  int nhdr;
  size_t hdr_line;
  size_t cap;
  /* the previous good row's time */
  int64_t prev_s, s0;
  int32_t prev_ns, ns0;
  bool have_prev, decided;
  size_t prev_line;
  char prev_text[64];
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

/* A value from the file, short and escaped, for a message. */
static const char *q(const char *v, char *buf, size_t n) { return cfg_quote(v, SIM_TRACE_QUOTE, buf, n); }

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

static void field_cb(void *s, size_t n, void *data)
{
  reader *rd = data;
  if (rd->nf == 0) rd->row_line = rd->line;
  if (rd->blen + n + 1 > rd->bcap) {
    while (rd->blen + n + 1 > rd->bcap) rd->bcap = rd->bcap ? 2 * rd->bcap : 256;
    rd->buf = xrealloc(rd->buf, rd->bcap);
  }
  if (n && memchr(s, '\0', n)) rd->nul = true;
  if (n) memcpy(rd->buf + rd->blen, s, n);
  rd->buf[rd->blen + n] = '\0';
  if (rd->nf == rd->fcap) {
    rd->fcap = rd->fcap ? 2 * rd->fcap : 8;
    rd->foff = xrealloc(rd->foff, (size_t)rd->fcap * sizeof *rd->foff);
  }
  rd->foff[rd->nf++] = rd->blen;
  rd->blen += n + 1;
}

static void header(reader *rd, char **fld, int n)
{
  char qb[256];
  size_t line = rd->row_line;
  rd->hdr_line = line;
  rd->nhdr = n;
  /* one field: not a CSV header at all (say so without quoting it) */
  if (n < 2) {
    rd->go = false;
    report(rd, line, NULL, "the first line is not a CSV header (expected the column names, %s and the others, "
           "separated by commas)", rd->time_col);
    return;
  }
  size_t listlen = 1;
  for (int i = 0; i < n; i++) listlen += strlen(fld[i]) + 2;
  char *list = xcalloc(listlen, 1);
  for (int i = 0; i < n; i++) {
    if (i) strcat(list, ", ");
    strcat(list, fld[i]);
  }
  for (int c = 0; c <= rd->ncols && rd->go; c++) {
    const char *name = c == 0 ? rd->time_col : rd->cols[c - 1].name;
    int second = 0, at = find_column(fld, n, name, &second);
    if (at == -1)
      rd->go = report(rd, line, name, "no such column (the header names: %s)", q(list, qb, sizeof qb));
    else if (at <= -2)
      rd->go = report(rd, line, name, "named twice in the header (columns %d and %d)", -2 - at + 1, second + 1);
    rd->idx[c] = at;
  }
  free(list);
  if (rd->nerr) rd->go = false;
  if (rd->go) {
    rd->tr->ncols = rd->ncols;
    rd->tr->values = xcalloc((size_t)(rd->ncols > 0 ? rd->ncols : 1), sizeof *rd->tr->values);
  }
}

static void row(reader *rd, char **fld, int n)
{
  sim_trace *tr = rd->tr;
  size_t lineno = rd->row_line;
  char qb[256], qb2[256];
  /* the first row decides whether this is a trace at all */
  bool first = !rd->decided;
  if (rd->nul) {
    rd->go = report(rd, lineno, NULL, "NUL byte in the row (expected text)") && !first;
    return;
  }
  if (n != rd->nhdr) {
    rd->go = report(rd, lineno, NULL, "the row has %d field%s (expected %d, as in the header)", n,
                    n == 1 ? "" : "s", rd->nhdr) && !first;
    return;
  }
  const char *tv = fld[rd->idx[0]];
  if (!rd->decided) {
    tr->datetime = strlen(tv) > 4 && digits(tv, 4) >= 0 && tv[4] == '-';
    rd->decided = true;
  }
  int64_t s = 0;
  int32_t ns = 0;
  const char *why = tr->datetime ? parse_datetime(tv, &s, &ns) : parse_seconds(tv, &s, &ns);
  const char *expect = tr->datetime ? "YYYY-MM-DD HH:MM:SS[.fffffffff], as on the first row"
                                    : "seconds >= 0 with up to 9 decimals, as on the first row";
  bool row_ok = true;
  if (why && first) {
    /* not shaped like a trace: refuse it here, quoting nothing */
    report(rd, lineno, rd->time_col, "the first row's time is not a time: %s (expected "
           "YYYY-MM-DD HH:MM:SS[.fffffffff] or seconds); not a trace, stopped reading", why);
    rd->go = false;
    return;
  } else if (why) {
    rd->go = report(rd, lineno, rd->time_col, "'%s' is not a time: %s (expected %s)", q(tv, qb, sizeof qb), why,
                    expect);
    row_ok = false;
  } else if (rd->have_prev && (s < rd->prev_s || (s == rd->prev_s && ns < rd->prev_ns))) {
    rd->go = report(rd, lineno, rd->time_col, "time goes back: '%s' is before '%s' on line %zu "
                    "(expected times in non-decreasing order)", q(tv, qb, sizeof qb),
                    rd->prev_text, rd->prev_line);
    row_ok = false;
  } else if (rd->have_prev && s - rd->s0 > (int64_t)SIM_TIME_MAX_S) {
    rd->go = report(rd, lineno, rd->time_col, "'%s' is more than 292 years after the first row", q(tv, qb, sizeof qb));
    row_ok = false;
  }
  if (!why && (!rd->have_prev || row_ok)) {
    if (!rd->have_prev) {
      rd->s0 = s;
      rd->ns0 = ns;
      tr->start_s = s;
      tr->start_ns = ns;
    }
    rd->have_prev = true;
    rd->prev_s = s;
    rd->prev_ns = ns;
    rd->prev_line = lineno;
    q(tv, rd->prev_text, sizeof rd->prev_text);
  }
  if (tr->rows == rd->cap) {
    rd->cap = rd->cap ? 2 * rd->cap : 1024;
    tr->time_ns = xrealloc(tr->time_ns, rd->cap * sizeof *tr->time_ns);
    for (int c = 0; c < rd->ncols; c++) tr->values[c] = xrealloc(tr->values[c], rd->cap * sizeof **tr->values);
  }
  for (int c = 0; c < rd->ncols && rd->go; c++) {
    const char *v = fld[rd->idx[c + 1]];
    int64_t x = 0;
    if (!parse_int(v, &x)) {
      rd->go = report(rd, lineno, rd->cols[c].name, "'%s' is not an integer (expected a whole number)",
                      q(v, qb2, sizeof qb2));
      row_ok = false;
    } else if (x < rd->cols[c].min) {
      rd->go = report(rd, lineno, rd->cols[c].name, "%lld is below the minimum %lld", (long long)x,
                      (long long)rd->cols[c].min);
      row_ok = false;
    }
    tr->values[c][tr->rows] = x;
  }
  if (!rd->go) return;
  tr->time_ns[tr->rows++] = row_ok ? (s - rd->s0) * SIM_NS_PER_S + (ns - rd->ns0) : 0;
}

static void row_cb(int term, void *data)
{
  reader *rd = data;
  (void)term;
  int n = rd->nf;
  rd->nf = 0;
  rd->blen = 0;
  bool nul = rd->nul;
  if (!rd->go) {
    rd->nul = false;
    return;
  }
  char **fld = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *fld);
  for (int i = 0; i < n; i++) fld[i] = rd->buf + rd->foff[i];
  /* a line of blanks is one empty field: skipped, like an empty line */
  bool blank = n == 0 || (n == 1 && fld[0][0] == '\0' && !nul);
  if (!blank) {
    if (!rd->hdr_line)
      header(rd, fld, n);
    else
      row(rd, fld, n);
  }
  rd->nul = false;
  free(fld);
}

bool cfg_trace_parse(sim_trace *tr, const char *path, const char *data, size_t len, const char *time_col,
                     const sim_trace_column *cols, int ncols, cfg_errors *errs)
{
  memset(tr, 0, sizeof *tr);
  reader rd = {.path = path, .errs = errs, .go = true, .tr = tr, .time_col = time_col, .cols = cols,
               .ncols = ncols, .line = 1};
  rd.idx = xmalloc((size_t)(ncols + 1) * sizeof *rd.idx);
  struct csv_parser p;
  if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) SIM_BUG("csv_init failed");
  csv_set_realloc_func(&p, xrealloc);
  /* fed a line at a time, so that messages know the line; a UTF-8
   * byte-order mark is not part of the first field */
  size_t pos = len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3) ? 3 : 0, open_line = 1;
  while (pos < len && rd.go) {
    const char *nl = memchr(data + pos, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - (data + pos)) + 1 : len - pos;
    /* libcsv's state 0 is "no row begun": note where a row begins */
    bool idle = p.pstate == 0;
    size_t got = csv_parse(&p, data + pos, n, field_cb, row_cb, &rd);
    if (idle && p.pstate != 0) open_line = rd.line;
    if (got != n) {
      if (rd.go)
        report(&rd, rd.line, NULL, "malformed quotes (expected RFC 4180 CSV: a field with a quote is quoted, "
               "and a quote inside it is doubled)");
      rd.go = false;
      break;
    }
    pos += n;
    if (nl) rd.line++;
  }
  if (rd.go && csv_fini(&p, field_cb, row_cb, &rd) != 0) {
    report(&rd, open_line, NULL, "a quoted field is not closed at the end of the file");
    rd.go = false;
  }
  csv_free(&p);
  if (rd.go && !rd.hdr_line)
    report(&rd, rd.line, NULL, "empty file (expected a header line naming the columns)");
  else if (rd.go && !rd.nerr && tr->rows == 0)
    report(&rd, rd.hdr_line + 1, NULL, "no rows after the header (expected at least one request)");
  free(rd.buf);
  free(rd.foff);
  free(rd.idx);
  if (rd.nerr) {
    sim_trace_release(tr);
    return false;
  }
  return true;
}

bool cfg_trace_load(sim_trace *tr, const cfg_reader *rdr, const char *path, const char *time_col,
                    const sim_trace_column *cols, int ncols, cfg_errors *errs)
{
  memset(tr, 0, sizeof *tr);
  cfg_text t;
  const char *verb;
  char why[256];
  if (!cfg_read_input(rdr, path, "trace", &t, &verb, why, sizeof why)) {
    cfg_errors_add(errs, "%s: cannot %s: %s", path, verb, why);
    return false;
  }
  bool ok = cfg_trace_parse(tr, path, t.data, t.len, time_col, cols, ncols, errs);
  free(t.data);
  return ok;
}

bool cfg_trace_read(sim_trace *tr, const char *path, const char *time_col,
                    const sim_trace_column *cols, int ncols, cfg_errors *errs)
{
  return cfg_trace_load(tr, NULL, path, time_col, cols, ncols, errs);
}
