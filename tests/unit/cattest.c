/* tests/unit/cattest.c: see cattest.h. */
#include "cattest.h"

#include <CUnit/CUnit.h>
#include <stdio.h>

#include "driver/config/catalog_load.h"

static sim_catalogs *cats;

const sim_catalogs *cs_catalogs(void)
{
  if (!cats) {
    cfg_errors errs;
    cfg_errors_init(&errs, NULL);
    cats = cfg_catalogs_load_all(NULL, 0, &errs);
    cfg_errors_print(&errs, stderr);
    cfg_errors_release(&errs);
  }
  return cats;
}

void cs_catalogs_free(void)
{
  cfg_catalogs_free(cats);
  cats = NULL;
}

static const void *find(const char *list, const char *name)
{
  const sim_catalogs *c = cs_catalogs();
  const void *e = c ? sim_catalog_find(c, list, name) : NULL;
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  return e;
}

const llm_arch *cs_model(const char *name) { return find("models", name); }
const gpu_spec *cs_gpu(const char *name) { return find("gpus", name); }
const net_link *cs_link(const char *name) { return find("links", name); }
