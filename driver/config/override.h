/* driver/config/override.h: --set KEY=VALUE, a change to a loaded scenario by path
 * ("queue.servers", "cluster.pools.[0].replicas"), applied before the
 * scenario is checked, so an overridden value is checked exactly as if it
 * had been written in the file. Part of the driver. */
#ifndef DRIVER_CONFIG_OVERRIDE_H
#define DRIVER_CONFIG_OVERRIDE_H

#include <libconfig.h>
#include <stdbool.h>

#include "driver/config/cfg.h"

/* Apply `text` ("KEY=VALUE") to cfg. VALUE is read as a libconfig value
 * (42, 1.5, true, "str", [1, 2], { a = 1; }); a VALUE that does not parse
 * as one is taken as a string (so --set queue.arrivals.dist=gamma works).
 * Missing groups along KEY are created. The new setting is marked with
 * `text` (which must outlive cfg) so errors name the override. Returns false
 * and adds an error if KEY is malformed or crosses a non-group. */
bool cfg_override_apply(config_t *cfg, const char *text, cfg_errors *errs);
/* Copy src's value into dst, deeply (dst already created, of src's type). */
void cfg_copy_value(config_setting_t *dst, const config_setting_t *src);

#endif
