/* driver/config/override.c: --set KEY=VALUE (see override.h). */
#include "driver/config/override.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/util.h"

/* Deep-copy the value of src into dst (same type, already created). */
static void copy_value(config_setting_t *dst, const config_setting_t *src)
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
      if (d) copy_value(d, e);
    }
    break;
  default: break;
  }
}

static bool looks_integer(const char *v)
{
  if (*v == '-' || *v == '+') v++;
  if (!isdigit((unsigned char)*v)) return false;
  for (; *v; v++)
    if (!isdigit((unsigned char)*v) && *v != 'L') return false;
  return true;
}

static bool fits_int64(const char *v)
{
  errno = 0;
  (void)strtoll(v, NULL, 10);
  return errno != ERANGE;
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

  /* parse VALUE with libconfig itself; fall back to a plain string */
  config_t tmp;
  config_init(&tmp);
  size_t n = strlen(value) + 16;
  char *doc = xmalloc(n);
  snprintf(doc, n, "v = %s;", value);
  /* exactly one value: "2; junk = 3" must not slip through */
  bool parsed = config_read_string(&tmp, doc) == CONFIG_TRUE &&
                config_setting_length(config_root_setting(&tmp)) == 1;
  /* libconfig wraps integers too large for 64 bits; refuse them here */
  if (parsed && config_setting_is_number(config_lookup(&tmp, "v")) && looks_integer(value) &&
      !fits_int64(value)) {
    cfg_errors_add(errs, "--set %s: %s does not fit a 64-bit integer", text, value);
    config_destroy(&tmp);
    free(doc);
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
    cfg_errors_add(errs, "--set %s: empty part in the key path", text);
    config_destroy(&tmp);
    free(doc);
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
      if (*end != ']' || end[1] || idx < 0 ||
          (pt != CONFIG_TYPE_LIST && pt != CONFIG_TYPE_ARRAY) ||
          idx >= config_setting_length(parent)) {
        cfg_errors_add(errs, "--set %s: %s: no such list element", text, part);
        ok = false;
        break;
      }
      config_setting_t *elem = config_setting_get_elem(parent, (unsigned)idx);
      if (!next) {
        /* replace an element in place: only scalars of the same type */
        if (config_setting_type(elem) != config_setting_type(src) || config_setting_is_aggregate(elem)) {
          cfg_errors_add(errs, "--set %s: element %ld can only be replaced by a value of the same type",
                         text, idx);
          ok = false;
        } else {
          copy_value(elem, src);
          cfg_mark_origin(elem, text);
        }
        break;
      }
      parent = elem;
    } else {
      if (!valid_name(part) || config_setting_type(parent) != CONFIG_TYPE_GROUP) {
        cfg_errors_add(errs, "--set %s: '%s' is not a valid key here", text, part);
        ok = false;
        break;
      }
      config_setting_t *child = config_setting_get_member(parent, part);
      if (!next) {
        if (child) config_setting_remove(parent, part);
        child = config_setting_add(parent, part, config_setting_type(src));
        copy_value(child, src);
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
  free(doc);
  free(key);
  return ok;
}
