/* driver/config/override.c: --set KEY=VALUE (see override.h). */
#include "driver/config/override.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "driver/config/source.h"
#include "sim/util.h"

void cfg_copy_value(config_setting_t *dst, const config_setting_t *src)
{
  switch (config_setting_type(src)) {
  case CONFIG_TYPE_INT: config_setting_set_int(dst, config_setting_get_int(src)); break;
  case CONFIG_TYPE_INT64: config_setting_set_int64(dst, config_setting_get_int64(src)); break;
  case CONFIG_TYPE_FLOAT: config_setting_set_float(dst, config_setting_get_float(src)); break;
  case CONFIG_TYPE_BOOL: config_setting_set_bool(dst, config_setting_get_bool(src)); break;
  case CONFIG_TYPE_STRING: config_setting_set_string(dst, config_setting_get_string(src)); break;
  case CONFIG_TYPE_GROUP:
  case CONFIG_TYPE_ARRAY:
  case CONFIG_TYPE_LIST:
    for (int i = 0; i < config_setting_length(src); i++) {
      const config_setting_t *e = config_setting_get_elem(src, (unsigned)i);
      config_setting_t *d = config_setting_add(dst, config_setting_name(e), config_setting_type(e));
      if (d) cfg_copy_value(d, e);
    }
    break;
  default: break;
  }
}

/* The --set text with "name[" written "name.[" (the key is its first
 * klen characters); caller frees. */
static char *dotted_indices(const char *text, size_t klen)
{
  char *out = xmalloc(2 * strlen(text) + 1);
  size_t o = 0;
  for (size_t i = 0; text[i]; i++) {
    if (i < klen && text[i] == '[' && i > 0 && text[i - 1] != '.') out[o++] = '.';
    out[o++] = text[i];
  }
  out[o] = '\0';
  return out;
}

static bool valid_name(const char *s)
{
  if (!isalpha((unsigned char)*s) && *s != '*') return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '*') return false;
  return true;
}

bool cfg_override_apply(config_t *cfg, const char *text, cfg_errors *errs)
{
  const char *eq = strchr(text, '=');
  if (!eq || eq == text) {
    cfg_errors_add(errs, "--set %s: expected KEY=VALUE", text);
    return false;
  }
  char *key = xstrdup(text);
  key[eq - text] = '\0';
  const char *value = eq + 1;

  /* parse VALUE with libconfig itself (integers kept 64-bit and exact, as
   * in files: source.c); exactly one value: "2; junk = 3" must not slip
   * through; anything else is a plain string */
  config_t tmp;
  config_init(&tmp);
  const char *why;
  bool parsed = cfg_value_parse(&tmp, value, &why);
  if (why) {
    cfg_errors_add(errs, "--set %s: %s", text, why);
    config_destroy(&tmp);
    free(key);
    return false;
  }
  if (!parsed) {
    config_destroy(&tmp);
    config_init(&tmp);
    config_setting_set_string(config_setting_add(config_root_setting(&tmp), "v", CONFIG_TYPE_STRING),
                              value);
  }
  const config_setting_t *src = config_lookup(&tmp, "v");

  bool ok = true;
  config_setting_t *parent = config_root_setting(cfg);
  size_t klen = strlen(key);
  if (key[0] == '.' || key[klen - 1] == '.' || strstr(key, "..")) {
    cfg_errors_add(errs, "--set %s: empty part in the key path (expected KEY.KEY.[N].KEY)", text);
    config_destroy(&tmp);
    free(key);
    return false;
  }
  char *save = NULL;
  char *part = strtok_r(key, ".", &save);
  while (part) {
    char *next = strtok_r(NULL, ".", &save);
    if (part[0] == '[') {
      char *end;
      long idx = strtol(part + 1, &end, 10);
      int pt = config_setting_type(parent);
      if (*end != ']' || end[1] || end == part + 1 || idx < 0) {
        cfg_errors_add(errs, "--set %s: %s: not an element index (expected .[N], N from 0)", text, part);
        ok = false;
        break;
      }
      if (pt != CONFIG_TYPE_LIST && pt != CONFIG_TYPE_ARRAY) {
        cfg_errors_add(errs, "--set %s: %s: no such list element (what comes before it is not a list)", text,
                       part);
        ok = false;
        break;
      }
      if (idx >= config_setting_length(parent)) {
        int len = config_setting_length(parent);
        if (len == 0)
          cfg_errors_add(errs, "--set %s: %s: no such list element (the list is empty)", text, part);
        else
          cfg_errors_add(errs, "--set %s: %s: no such list element (the list has %d: .[0] to .[%d])", text, part,
                         len, len - 1);
        ok = false;
        break;
      }
      config_setting_t *elem = config_setting_get_elem(parent, (unsigned)idx);
      if (!next) {
        /* replace an element in place: only scalars of the same type */
        int et = config_setting_type(elem), st = config_setting_type(src);
        bool ints = (et == CONFIG_TYPE_INT || et == CONFIG_TYPE_INT64) &&
                    (st == CONFIG_TYPE_INT || st == CONFIG_TYPE_INT64);
        long long iv = ints ? config_setting_get_int64(src) : 0;
        if ((et != st && !ints) || config_setting_is_aggregate(elem) ||
            (ints && et == CONFIG_TYPE_INT && (iv > INT32_MAX || iv < INT32_MIN))) {
          cfg_errors_add(errs, "--set %s: element %ld can only be replaced by a value of the same type",
                         text, idx);
          ok = false;
        } else {
          /* an integer keeps the element's width (an array holds one type) */
          if (ints && et == CONFIG_TYPE_INT64)
            config_setting_set_int64(elem, iv);
          else if (ints)
            config_setting_set_int(elem, (int)iv);
          else
            cfg_copy_value(elem, src);
          cfg_mark_origin(elem, text);
        }
        break;
      }
      parent = elem;
    } else {
      if (strchr(part, '[')) {
        /* pools[0] for pools.[0]: say how it is written */
        char *fixed = dotted_indices(text, (size_t)(eq - text));
        cfg_errors_add(errs, "--set %s: '%s' is not a valid key (did you mean --set %s?)", text, part, fixed);
        free(fixed);
        ok = false;
        break;
      }
      if (!valid_name(part)) {
        cfg_errors_add(errs, "--set %s: '%s' is not a valid key (expected letters, digits, '_' and '-', "
                       "starting with a letter)", text, part);
        ok = false;
        break;
      }
      if (config_setting_type(parent) != CONFIG_TYPE_GROUP) {
        int pt = config_setting_type(parent);
        cfg_errors_add(errs, "--set %s: '%s' is not a valid key here (%s)", text, part,
                       pt == CONFIG_TYPE_LIST || pt == CONFIG_TYPE_ARRAY
                           ? "what comes before it is a list: pick an element with .[N]"
                           : "what comes before it is a value, not a group");
        ok = false;
        break;
      }
      config_setting_t *child = config_setting_get_member(parent, part);
      if (!next) {
        if (child) config_setting_remove(parent, part);
        child = config_setting_add(parent, part, config_setting_type(src));
        cfg_copy_value(child, src);
        cfg_mark_origin(child, text);
        break;
      }
      if (!child) {
        child = config_setting_add(parent, part, CONFIG_TYPE_GROUP);
        cfg_mark_origin(child, text);
      }
      parent = child;
    }
    part = next;
  }
  config_destroy(&tmp);
  free(key);
  return ok;
}
