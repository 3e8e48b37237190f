/* sim/catalog.c: lookup in loaded catalogs (see catalog.h); the store's
 * layout is in catalog_store.h, shared with the loader. */
#include "sim/catalog.h"

#include <stdio.h>
#include <string.h>

#include "sim/catalog_store.h"

static const sim_catalog *find_list(const sim_catalogs *cats, const char *list)
{
  for (size_t i = 0; i < cats->n; i++)
    if (!strcmp(cats->cats[i].type->list, list)) return &cats->cats[i];
  return NULL;
}

static const char *entry_name(const sim_catalog *c, const void *e)
{
  return *(const char *const *)((const char *)e + c->type->name_offset);
}

const void *sim_catalog_entry(const sim_catalogs *cats, const char *list, size_t i)
{
  const sim_catalog *c = find_list(cats, list);
  if (!c || i >= c->len) return NULL;
  return c->entries + i * c->type->entry_size;
}

size_t sim_catalog_count(const sim_catalogs *cats, const char *list)
{
  const sim_catalog *c = find_list(cats, list);
  return c ? c->len : 0;
}

const void *sim_catalog_find(const sim_catalogs *cats, const char *list, const char *name)
{
  const sim_catalog *c = find_list(cats, list);
  if (!c || !name) return NULL;
  for (size_t i = 0; i < c->len; i++) {
    const void *e = c->entries + i * c->type->entry_size;
    if (!strcmp(entry_name(c, e), name)) return e;
  }
  if (c->type->aliases_offset == (size_t)-1) return NULL;
  for (size_t i = 0; i < c->len; i++) {
    const void *e = c->entries + i * c->type->entry_size;
    const sim_names *al = (const sim_names *)((const char *)e + c->type->aliases_offset);
    for (int k = 0; k < al->n; k++)
      if (!strcmp(al->v[k], name)) return e;
  }
  return NULL;
}

void sim_catalog_names(const sim_catalogs *cats, const char *list, char *buf, size_t n)
{
  const sim_catalog *c = find_list(cats, list);
  buf[0] = '\0';
  for (size_t i = 0; c && i < c->len; i++) {
    if (i) strncat(buf, ", ", n - strlen(buf) - 1);
    strncat(buf, entry_name(c, c->entries + i * c->type->entry_size), n - strlen(buf) - 1);
  }
}

const void *sim_catalog_require(const sim_catalogs *cats, const char *list, const char *what, const char *name,
                                sim_check *ck, const char *key)
{
  const void *e = sim_catalog_find(cats, list, name);
  if (!e) {
    char names[4096];
    sim_catalog_names(cats, list, names, sizeof names);
    sim_check_fail(ck, key, "unknown %s \"%s\" (one of: %s)", what, name, names);
  }
  return e;
}

bool sim_catalog_date_ok(const char *d)
{
  size_t n = strlen(d);
  if (n != 4 && n != 7 && n != 10) return false;
  for (size_t i = 0; i < n; i++)
    if ((i == 4 || i == 7) ? d[i] != '-' : (d[i] < '0' || d[i] > '9')) return false;
  int month = n >= 7 ? (d[5] - '0') * 10 + (d[6] - '0') : 1;
  int day = n == 10 ? (d[8] - '0') * 10 + (d[9] - '0') : 1;
  return d[0] == '2' && d[1] == '0' && month >= 1 && month <= 12 && day >= 1 && day <= 31;
}
