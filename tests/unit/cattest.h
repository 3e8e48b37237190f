/* tests/unit/cattest.h: the shipped catalogs for suites that need real
 * hardware and models (test_llm, test_kvcache, test_validation): loaded
 * once, looked up by name with a fatal assertion when a name is missing. */
#ifndef CATTEST_H
#define CATTEST_H

#include "models/gpu/gpu.h"
#include "models/interconnect/net.h"
#include "models/llm/llm.h"
#include "sim/catalog.h"

/* The shipped catalogs (loaded on first use; NULL if they do not load,
 * after printing why). Freed by cs_catalogs_free. */
const sim_catalogs *cs_catalogs(void);
void cs_catalogs_free(void);
/* An entry by name; a missing one fails the current test fatally. */
const llm_arch *cs_model(const char *name);
const gpu_spec *cs_gpu(const char *name);
const net_link *cs_link(const char *name);

#endif
