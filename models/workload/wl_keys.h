/* models/workload/wl_keys.h: key tables for the parts of a wl_rate
 * (wl_keys.c): a LIST of wl_segment_keys items, a LIST of wl_spike_keys
 * items, a GROUP of wl_daily_keys, a GROUP of wl_growth_keys. */
#ifndef WL_KEYS_H
#define WL_KEYS_H

#include "models/workload/wl.h"
#include "sim/schema.h"

extern const sim_key wl_segment_keys[], wl_spike_keys[], wl_daily_keys[], wl_growth_keys[];

#endif
