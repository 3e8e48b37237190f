/* driver/commands/tco_file.h: `clustersim tco FILE.cfg`, the scenario
 * form of `tco` (tco_file.c): its options, their sourced defaults, and
 * the one entry point cmd_tco.c calls. */
#ifndef TCO_FILE_H
#define TCO_FILE_H

#include <stdbool.h>
#include <stddef.h>

/* Defaults of the scenario form, each with its source. */
/* EIA Electric Power Monthly, table 5.6.A: average US retail price to
 * industrial customers, 2023: 8.04 cents/kWh. */
#define TCO_USD_PER_KWH 0.0804
/* Networking per 8-GPU node, switches + cables + transceivers of a 400G
 * InfiniBand NDR fabric: the H100 cluster cost sheet of Aug 2024 (Google
 * Sheets 1Ft3RbeZ-w43kYSiLfYc1vxO41mK5lmJpcPC9GOYHAWc; 64-port 400G switch
 * at $36k, FS.com), 64 nodes: $288,000 of switches + $675,840 of
 * connectors and cables = $963,840 / 64 = $15,060 per node (the nodes'
 * ConnectX-7 cards are in the server price). */
#define TCO_NETWORK_USD_PER_NODE 15060.0
/* Space, power delivery and cooling: CBRE North America Data Center Trends
 * H2 2024 (Feb 2025): average asking rate for 250-500 kW of colocation in
 * primary markets, $184.06 per kW per month = $2,208.72 per kW-year. */
#define TCO_SPACE_USD_PER_KW_YEAR 2208.72
/* load scales a window may have against the first (and the scenario's
 * workload.load_scale range) */
#define TCO_MAX_GROWTH 1000.0

typedef struct {
  const char *file, *outdir;
  double years, window_s, usd_per_kwh, pue; /* pue NaN: the scenario's */
  double network_usd_per_node, space_usd_per_kw_year, staff_usd_per_rack_year;
  bool json;
  char **catalogs;
  size_t ncatalogs;
} tco_file_opts;

/* Simulate o->file's demand in one window per quarter of o->years, price
 * it every way (renting as simulated, on demand and reserved at each
 * provider, buying), print it and write tco.json and tco.csv; a CMD_EXIT_*
 * status (usage and input errors: CMD_EXIT_USAGE, nothing written). */
int tco_file(const tco_file_opts *o);

#endif
