/* driver/output/json_top.c: one top-level member of a JSON object (see json_top.h).
 * A scanner over the text: it walks the object's members, skipping nested
 * values by bracket depth (strings respected), and never allocates except
 * for the value it returns. */
#include "driver/output/json_top.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/util.h"

static const char *skip_ws(const char *p)
{
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  return p;
}

/* p at an opening quote: the position after the closing one, or NULL. */
static const char *skip_string(const char *p)
{
  for (p++; *p && *p != '"'; p++)
    if (*p == '\\' && !*++p) return NULL;
  return *p ? p + 1 : NULL;
}

/* p at a value: the position after it, or NULL if the text ends first. */
static const char *skip_value(const char *p)
{
  if (*p == '"') return skip_string(p);
  if (*p == '{' || *p == '[') {
    int depth = 0;
    while (*p) {
      if (*p == '"') {
        if (!(p = skip_string(p))) return NULL;
        continue;
      }
      if (*p == '{' || *p == '[') depth++;
      if (*p == '}' || *p == ']') {
        if (--depth == 0) return p + 1;
      }
      p++;
    }
    return NULL;
  }
  const char *s = p;
  while (*p && !strchr(",}] \t\r\n", *p)) p++;
  return p > s ? p : NULL;
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* The string literal [p, end) unescaped into fresh storage. */
static char *unescape(const char *p, const char *end)
{
  char *out = xmalloc((size_t)(end - p) + 1), *o = out;
  for (p++, end--; p < end; p++) {
    if (*p != '\\') {
      *o++ = *p;
      continue;
    }
    switch (*++p) {
    case 'n': *o++ = '\n'; break;
    case 't': *o++ = '\t'; break;
    case 'r': *o++ = '\r'; break;
    case 'b': *o++ = '\b'; break;
    case 'f': *o++ = '\f'; break;
    case 'u': {
      int v = 0;
      for (int i = 1; i <= 4 && p + i < end; i++) {
        int h = hexval(p[i]);
        v = h < 0 ? 0x3f : v * 16 + h;
      }
      *o++ = v > 0 && v < 0x80 ? (char)v : '?';
      p += p + 4 < end ? 4 : end - p - 1;
      break;
    }
    default: *o++ = *p; break; /* \" \\ \/ */
    }
  }
  *o = '\0';
  return out;
}

/* The member after position p (just inside the '{' or after a value):
 * key at [*k, *kend) with its quotes, value at [*v, *vend); the position
 * after it, or NULL at the end or on text that is not JSON. */
static const char *member(const char *p, const char **k, const char **kend, const char **v, const char **vend)
{
  p = skip_ws(p);
  if (*p == ',') p = skip_ws(p + 1);
  if (*p != '"') return NULL; /* '}' (the end) or not JSON */
  *k = p;
  if (!(*kend = skip_string(p))) return NULL;
  p = skip_ws(*kend);
  if (*p++ != ':') return NULL;
  *v = skip_ws(p);
  if (!(*vend = skip_value(*v))) return NULL;
  p = skip_ws(*vend);
  return *p == ',' || *p == '}' ? p : NULL;
}

/* The raw value of top-level member `key`: [*v, *vend), or false. */
static bool find(const char *json, const char *key, const char **v, const char **vend)
{
  size_t klen = strlen(key);
  const char *p = skip_ws(json), *k, *kend;
  if (*p++ != '{') return false;
  while ((p = member(p, &k, &kend, v, vend)))
    if ((size_t)(kend - k) == klen + 2 && !memcmp(k + 1, key, klen)) return true;
  return false;
}

static char *copy(const char *s, const char *end)
{
  char *c = xmalloc((size_t)(end - s) + 1);
  memcpy(c, s, (size_t)(end - s));
  c[end - s] = '\0';
  return c;
}

/* A value as out_json_top_text returns it. */
static char *value_text(const char *v, const char *vend)
{
  if (*v == '"') return unescape(v, vend);
  if (*v == '{' || *v == '[' || (vend - v == 4 && !memcmp(v, "null", 4))) return NULL;
  return copy(v, vend);
}

char *out_json_top_raw(const char *json, const char *key)
{
  const char *v, *vend;
  return find(json, key, &v, &vend) ? copy(v, vend) : NULL;
}

bool out_json_top_next(const char *json, const char **pos, char **key, char **value)
{
  const char *p = *pos, *k, *kend, *v, *vend;
  if (!p) {
    p = skip_ws(json);
    if (*p++ != '{') return false;
  }
  if (!(p = member(p, &k, &kend, &v, &vend))) return false;
  *pos = p;
  *key = unescape(k, kend);
  *value = value_text(v, vend);
  return true;
}

char *out_json_top_text(const char *json, const char *key)
{
  const char *v, *vend;
  return find(json, key, &v, &vend) ? value_text(v, vend) : NULL;
}

bool out_json_top_number(const char *json, const char *key, double *out)
{
  const char *v, *vend;
  if (!find(json, key, &v, &vend) || !(*v == '-' || (*v >= '0' && *v <= '9'))) return false;
  char *end;
  double x = strtod(v, &end);
  if (end != vend || !isfinite(x)) return false;
  *out = x;
  return true;
}
