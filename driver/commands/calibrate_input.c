/* driver/commands/calibrate_input.c: reading `clustersim calibrate`'s
 * measurement files (step-time CSV, benchmark_serving JSON) into step
 * observations; the formats are in calibrate_input.h. */
#include "driver/commands/calibrate_input.h"

#include <csv.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/util.h"

/* Most sequences one CSV row may describe (a bound on the loop that adds
 * them to the batch; real steps hold at most a few thousand). */
#define CALIB_MAX_SEQS 1000000.0

static void push(calib_obs_list *l, const cal_obs *o)
{
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 64;
    l->v = xrealloc(l->v, l->cap * sizeof *l->v);
  }
  l->v[l->n++] = *o;
}

/* ---- CSV ---- */

enum { C_MS, C_S, C_PTOK, C_PSEQ, C_PCACHED, C_PDONE, C_DSEQ, C_DCTX, C_COUNT, C_N };
static const char *const csv_names[C_N] = {"step_time_ms", "step_time_s", "prefill_tokens", "prefill_seqs",
                                           "prefill_cached", "prefill_done", "decode_seqs",
                                           "decode_context", "count"};

typedef struct {
  const char *path;
  cfg_errors *errs;
  int nerr;
  size_t line, row_line, hdr_line;
  int at[C_N];           /* column of each known name, -1 */
  int nf;                /* fields of the current row so far */
  double val[C_N];
  bool has[C_N];
  calib_obs_list got;
} csv_reader;

static void csv_err(csv_reader *r, size_t line, const char *col, const char *what)
{
  if (r->nerr++ >= 20) return;
  if (col) cfg_errors_add(r->errs, "%s:%zu: %s: %s", r->path, line, col, what);
  else cfg_errors_add(r->errs, "%s:%zu: %s", r->path, line, what);
}

static void field_cb(void *s, size_t n, void *data)
{
  csv_reader *r = data;
  const char *f = s;
  if (r->nf == 0) r->row_line = r->line;
  int k = r->nf++;
  if (!r->hdr_line) {
    for (int c = 0; c < C_N; c++)
      if (strlen(csv_names[c]) == n && !memcmp(f, csv_names[c], n)) {
        if (r->at[c] >= 0) csv_err(r, r->line, csv_names[c], "named twice in the header");
        r->at[c] = k;
      }
    return;
  }
  for (int c = 0; c < C_N; c++) {
    if (r->at[c] != k) continue;
    if (n == 0) return;  /* empty: the default */
    char *end;
    errno = 0;
    double v = strtod(f, &end);
    if (end == f || *end || errno || !isfinite(v) || v < 0) {
      char why[160];
      snprintf(why, sizeof why, "'%.40s' is not a number >= 0", f);
      csv_err(r, r->line, csv_names[c], why);
      return;
    }
    r->val[c] = v;
    r->has[c] = true;
  }
}

static void row_cb(int term, void *data)
{
  (void)term;
  csv_reader *r = data;
  size_t line = r->row_line;
  int nf = r->nf;
  r->nf = 0;
  if (!r->hdr_line) {
    r->hdr_line = line;
    if (r->at[C_MS] < 0 && r->at[C_S] < 0)
      csv_err(r, line, NULL, "no step_time_ms or step_time_s column (expected a header naming the columns: "
                             "step_time_ms, prefill_tokens, decode_seqs, decode_context, ...)");
    if (r->at[C_PTOK] < 0 && r->at[C_DSEQ] < 0)
      csv_err(r, line, NULL, "no prefill_tokens or decode_seqs column: the batch each step ran is needed");
    return;
  }
  (void)nf;
  double *v = r->val;
  bool *h = r->has;
  double t = h[C_S] ? v[C_S] : h[C_MS] ? v[C_MS] * 1e-3 : -1;
  double ptok = h[C_PTOK] ? v[C_PTOK] : 0, dseq = h[C_DSEQ] ? v[C_DSEQ] : 0;
  double pseq = h[C_PSEQ] ? v[C_PSEQ] : ptok > 0 ? 1 : 0;
  double pdone = h[C_PDONE] ? v[C_PDONE] : pseq, count = h[C_COUNT] ? v[C_COUNT] : 1;
  const char *bad = NULL, *col = NULL;
  if (!(t > 0)) col = h[C_MS] ? "step_time_ms" : "step_time_s", bad = "a step time > 0 is needed";
  else if (ptok + dseq <= 0) col = "decode_seqs", bad = "an empty step: prefill_tokens or decode_seqs > 0 is needed";
  else if (ptok > 0 && !(pseq >= 1)) col = "prefill_seqs", bad = "prefill tokens need at least one sequence";
  else if (pseq > CALIB_MAX_SEQS || dseq > CALIB_MAX_SEQS)
    col = pseq > CALIB_MAX_SEQS ? "prefill_seqs" : "decode_seqs", bad = "more than 1,000,000 sequences in one step";
  else if (pseq != floor(pseq) || dseq != floor(dseq) || pdone != floor(pdone))
    col = "prefill_seqs", bad = "sequence counts are whole numbers";
  else if (pdone > pseq) col = "prefill_done", bad = "more prompts done than prefill_seqs";
  else if (dseq > 0 && !(h[C_DCTX] && v[C_DCTX] >= 1))
    col = "decode_context", bad = "decoding sequences need their mean context (tokens >= 1)";
  else if (!(count >= 1)) col = "count", bad = "count is at least 1";
  if (bad) {
    csv_err(r, line, col, bad);
  } else {
    cal_obs o = {.measured_s = t, .weight = sqrt(count)};
    double chunk = pseq > 0 ? ptok / pseq : 0, cached = h[C_PCACHED] ? v[C_PCACHED] : 0;
    for (double s = 0; s < pseq; s++) llm_batch_add_prefill(&o.batch, cached, chunk, s < pdone);
    if (dseq > 0) llm_batch_add_decode(&o.batch, dseq, v[C_DCTX]);
    push(&r->got, &o);
  }
  memset(r->has, 0, sizeof r->has);
}

static bool read_csv(const char *path, const char *data, size_t len, calib_obs_list *out, cfg_errors *errs)
{
  csv_reader r = {.path = path, .errs = errs, .line = 1};
  for (int c = 0; c < C_N; c++) r.at[c] = -1;
  struct csv_parser p;
  if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) SIM_BUG("csv_init failed");
  csv_set_realloc_func(&p, xrealloc);
  size_t pos = len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3) ? 3 : 0;
  bool ok = true;
  while (pos < len && r.nerr < 20) {
    const char *nl = memchr(data + pos, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - (data + pos)) + 1 : len - pos;
    if (csv_parse(&p, data + pos, n, field_cb, row_cb, &r) != n) {
      csv_err(&r, r.line, NULL, "malformed quotes (expected RFC 4180 CSV)");
      ok = false;
      break;
    }
    pos += n;
    if (nl) r.line++;
  }
  if (ok && csv_fini(&p, field_cb, row_cb, &r) != 0) csv_err(&r, r.line, NULL, "a quoted field is not closed");
  csv_free(&p);
  if (!r.nerr && !r.hdr_line) csv_err(&r, 1, NULL, "empty file (expected a header line naming the columns)");
  else if (!r.nerr && r.got.n == 0) csv_err(&r, r.hdr_line + 1, NULL, "no rows after the header");
  if (r.nerr) {
    free(r.got.v);
    return false;
  }
  for (size_t i = 0; i < r.got.n; i++) push(out, &r.got.v[i]);
  free(r.got.v);
  return true;
}

/* ---- benchmark_serving JSON ---- */

static bool num(json_t *o, const char *key, double *v)
{
  json_t *x = json_object_get(o, key);
  if (!json_is_number(x)) return false;
  *v = json_number_value(x);
  return isfinite(*v);
}

/* Mean of a numeric array (of numbers or of arrays: their sums), n items. */
static bool array_mean(json_t *o, const char *key, bool sums, double *mean, size_t *n)
{
  json_t *a = json_object_get(o, key);
  if (!json_is_array(a) || json_array_size(a) == 0) return false;
  double s = 0;
  size_t i;
  json_t *x;
  json_array_foreach(a, i, x)
  {
    if (sums) {
      if (!json_is_array(x)) return false;
      size_t j;
      json_t *y;
      json_array_foreach(x, j, y)
      {
        if (!json_is_number(y)) return false;
        s += json_number_value(y);
      }
    } else {
      if (!json_is_number(x)) return false;
      s += json_number_value(x);
    }
  }
  *n = json_array_size(a);
  *mean = s / (double)*n;
  return true;
}

static bool read_json(const char *path, const char *data, size_t len, calib_obs_list *out, cfg_errors *errs)
{
  json_error_t je;
  json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
  if (!root) {
    cfg_errors_add(errs, "%s:%d: not JSON: %s", path, je.line, je.text);
    return false;
  }
  bool ok = false;
  double completed, duration, tpot_ms, in = 0, outl = 0, ttft_ms = -1, conc = -1, rate = -1;
  size_t n;
  if (!json_is_object(root)) {
    cfg_errors_add(errs, "%s: not a benchmark result (expected a JSON object with completed, duration, "
                         "median_tpot_ms, ...)", path);
    goto done;
  }
  const char *need = !num(root, "completed", &completed) || completed < 1 ? "completed"
                     : !num(root, "duration", &duration) || duration <= 0 ? "duration"
                     : !num(root, "median_tpot_ms", &tpot_ms) || tpot_ms <= 0 ? "median_tpot_ms"
                                                                              : NULL;
  if (need) {
    cfg_errors_add(errs, "%s: %s: missing or not a number > 0 (expected a result of vLLM's "
                         "benchmark_serving.py --save-result)", path, need);
    goto done;
  }
  if (!array_mean(root, "input_lens", false, &in, &n)) {
    double t;
    if (num(root, "total_input_tokens", &t)) in = t / completed;
  }
  if (!array_mean(root, "output_lens", false, &outl, &n)) {
    double t;
    if (num(root, "total_output_tokens", &t)) outl = t / completed;
  }
  if (!(in >= 1) || !(outl >= 2)) {
    cfg_errors_add(errs, "%s: input_lens/total_input_tokens, output_lens/total_output_tokens: mean prompt >= 1 "
                         "and mean output >= 2 tokens are needed", path);
    goto done;
  }
  num(root, "median_ttft_ms", &ttft_ms);
  json_t *mc = json_object_get(root, "max_concurrency");
  if (json_is_number(mc)) conc = json_number_value(mc);
  json_t *rr = json_object_get(root, "request_rate");
  if (json_is_number(rr)) rate = json_number_value(rr);
  bool closed = conc >= 1 && (rate < 0 || isinf(rate));  /* "inf" is a string in the file */
  double decode_s, running;
  if (!array_mean(root, "itls", true, &decode_s, &n)) decode_s = tpot_ms * 1e-3 * (outl - 1);
  running = closed ? conc : completed / duration * decode_s;
  if (running < 1) running = 1;
  cal_obs o = {.measured_s = tpot_ms * 1e-3, .weight = 1};
  llm_batch_add_decode(&o.batch, round(running), in + outl / 2);
  push(out, &o);
  if (running <= 1.5 && ttft_ms > 0) {
    cal_obs p = {.measured_s = ttft_ms * 1e-3, .weight = 1, .first_token = true};
    llm_batch_add_prefill(&p.batch, 0, round(in), true);
    push(out, &p);
  }
  ok = true;
done:
  json_decref(root);
  return ok;
}

bool calib_read(const cfg_reader *rd, const char *path, calib_obs_list *out, cfg_errors *errs)
{
  cfg_text t;
  if (!cfg_read_file(rd, path, "measurements", &t, errs)) return false;
  size_t i = 0;
  while (i < t.len && (t.data[i] == ' ' || t.data[i] == '\t' || t.data[i] == '\r' || t.data[i] == '\n')) i++;
  bool ok = i < t.len && t.data[i] == '{' ? read_json(path, t.data, t.len, out, errs)
                                          : read_csv(path, t.data, t.len, out, errs);
  free(t.data);
  return ok;
}
