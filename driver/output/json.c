/* driver/output/json.c: JSON and table output of a report (see json.h). */
#include "driver/output/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

/* The length of the well-formed UTF-8 sequence at p (1 to 4), or 0 if the
 * bytes there are not one (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
static int utf8_len(const unsigned char *p)
{
  if (p[0] < 0x80) return 1;
  int n = p[0] >= 0xc2 && p[0] <= 0xdf ? 2 : p[0] >= 0xe0 && p[0] <= 0xef ? 3 : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : 0;
  for (int i = 1; i < n; i++)
    if ((p[i] & 0xc0) != 0x80) return 0;
  if (n == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f))) return 0;
  if (n == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))) return 0;
  return n;
}

void out_json_string(FILE *f, const char *s)
{
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    switch (*p) {
    case '"': fputs("\\\"", f); break;
    case '\\': fputs("\\\\", f); break;
    case '\n': fputs("\\n", f); break;
    case '\r': fputs("\\r", f); break;
    case '\t': fputs("\\t", f); break;
    default:
      if (*p < 0x20) {
        fprintf(f, "\\u%04x", *p);
      } else {
        int n = utf8_len(p);
        if (n == 0) {
          fputs("\\ufffd", f); /* not UTF-8: the replacement character */
        } else {
          fwrite(p, 1, (size_t)n, f);
          p += n;
          continue;
        }
      }
    }
    p++;
  }
  fputc('"', f);
}

void out_json_number(FILE *f, double x)
{
  if (!isfinite(x)) {
    fputs("null", f);
    return;
  }
  char buf[40];
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, x);
    if (strtod(buf, NULL) == x) break;
  }
  fputs(buf, f);
}

void out_json_report(FILE *f, const sim_report *r)
{
  fputs("{\n", f);
  for (size_t i = 0; i < r->len; i++) {
    const sim_metric *m = &r->items[i];
    fputs("  ", f);
    out_json_string(f, m->key);
    fputs(": ", f);
    switch (m->kind) {
    case SIM_VAL_INT: fprintf(f, "%" PRId64, m->i); break;
    case SIM_VAL_NUM: out_json_number(f, m->x); break;
    case SIM_VAL_STR: out_json_string(f, m->s); break;
    }
    fputs(i + 1 < r->len ? ",\n" : "\n", f);
  }
  fputs("}\n", f);
}

void out_text_report(FILE *f, const sim_report *r, int label_width)
{
  for (size_t i = 0; i < r->len; i++) {
    const sim_metric *m = &r->items[i];
    char val[64];
    switch (m->kind) {
    case SIM_VAL_INT: snprintf(val, sizeof val, "%" PRId64, m->i); break;
    case SIM_VAL_NUM:
      if (isfinite(m->x))
        snprintf(val, sizeof val, "%.6g", m->x);
      else
        snprintf(val, sizeof val, "-");
      break;
    case SIM_VAL_STR: snprintf(val, sizeof val, "%s", m->s); break;
    }
    fprintf(f, "  %-*s %14s   %s\n", label_width, m->label ? m->label : m->key, val, m->key);
  }
}
