/* models/interconnect/link.c: the `links` catalog type: keys, checks and
 * the `clustersim list links` line. The collective keys (p2p .. custom_bw_gbs)
 * are optional; 0 means "derived", as collective_measured.c documents.
 * torus_dims / torus_wrap make the link a torus (collective.c). */
#include <stddef.h>
#include <stdio.h>

#include "models/interconnect/net.h"
#include "sim/component.h"

static const char *const scopes[] = {"node", "network", NULL};

static const sim_key link_keys[] = {
  {.name = "name", .kind = SIM_KEY_STRING, .offset = offsetof(net_link, name), .required = true,
   .help = "catalog name, lowercase and hyphenated"},
  {.name = "aliases", .kind = SIM_KEY_NAMES, .offset = offsetof(net_link, aliases), .help = "other names"},
  {.name = "description", .kind = SIM_KEY_STRING, .offset = offsetof(net_link, description), .def_str = ""},
  {.name = "scope", .kind = SIM_KEY_ENUM, .offset = offsetof(net_link, scope), .required = true,
   .choices = scopes, .help = "node: between GPUs of a node; network: between nodes"},
  {.name = "bw_gbs", .kind = SIM_KEY_FLOAT, .offset = offsetof(net_link, bw_gbs), .required = true,
   .min = 0, .min_exclusive = true, .max = 1e6, .unit = "GB/s", .help = "per GPU, per direction"},
  {.name = "latency_us", .kind = SIM_KEY_FLOAT, .offset = offsetof(net_link, latency_us), .required = true,
   .min = 0, .max = 1e6, .unit = "us", .help = "one-way small-message latency"},
  {.name = "efficiency", .kind = SIM_KEY_FLOAT, .offset = offsetof(net_link, efficiency), .required = true,
   .min = 0.01, .max = 1, .help = "achievable fraction of bw_gbs"},
  {.name = "source", .kind = SIM_KEY_STRING, .offset = offsetof(net_link, source), .required = true,
   .help = "where the figures come from"},
  {.name = "p2p", .kind = SIM_KEY_BOOL, .offset = offsetof(net_link, p2p), .def = 1,
   .help = "GPUs read and write each other's memory directly (false: NCCL goes through host memory)"},
  {.name = "nvswitch", .kind = SIM_KEY_BOOL, .offset = offsetof(net_link, nvswitch), .def = 0,
   .help = "a switch joins every GPU of the node"},
  {.name = "custom_allreduce", .kind = SIM_KEY_BOOL, .offset = offsetof(net_link, custom_allreduce), .def = 0,
   .help = "serving engines' one-/two-shot all-reduce runs here (NVLink or xGMI with P2P)"},
  {.name = "coll_lat_us", .kind = SIM_KEY_FLOAT, .offset = offsetof(net_link, coll_lat_us), .min = 0,
   .max = 1e6, .unit = "us", .help = "NCCL floor of a 2-GPU all-reduce, LL protocol (0: 6 + 2 latency_us)"},
  {.name = "coll_hop_us", .kind = SIM_KEY_FLOAT, .offset = offsetof(net_link, coll_hop_us), .min = 0,
   .max = 1e6, .unit = "us", .help = "LL latency of each further ring step (0: latency_us)"},
  {.name = "coll_busbw_gbs", .kind = SIM_KEY_FLOAT, .offset = offsetof(net_link, coll_busbw_gbs), .min = 0,
   .max = 1e6, .unit = "GB/s", .help = "large-message ring bus bandwidth, nccl-tests busbw (0: bw_gbs x efficiency)"},
  {.name = "nvls_busbw_gbs", .kind = SIM_KEY_FLOAT, .offset = offsetof(net_link, nvls_busbw_gbs), .min = 0,
   .max = 1e6, .unit = "GB/s", .help = "all-reduce busbw with NVLink SHARP (0: none)"},
  {.name = "host_bw_gbs", .kind = SIM_KEY_FLOAT, .offset = offsetof(net_link, host_bw_gbs), .min = 0,
   .max = 1e6, .unit = "GB/s", .help = "host bandwidth the GPUs' flows share: busbw <= host_bw_gbs / n (0: none)"},
  {.name = "custom_lat_us", .kind = SIM_KEY_FLOAT, .offset = offsetof(net_link, custom_lat_us), .min = 0,
   .max = 1e6, .unit = "us", .help = "one-shot custom all-reduce floor (0: the nvlink4 fit)"},
  {.name = "custom_bw_gbs", .kind = SIM_KEY_FLOAT, .offset = offsetof(net_link, custom_bw_gbs), .min = 0,
   .max = 1e6, .unit = "GB/s", .help = "rate a custom all-reduce reads peers at (0: the nvlink4 ratio to busbw)"},
  {.name = "coll_source", .kind = SIM_KEY_STRING, .offset = offsetof(net_link, coll_source), .def_str = "",
   .help = "where the collective figures come from (points.csv rows, fits)"},
  {.name = "torus_dims", .kind = SIM_KEY_INT, .offset = offsetof(net_link, torus_dims), .def = 0, .min = 0,
   .max = 3, .help = "chips on a k-D torus (TPU ICI: 3 for v4/v5p, 2 for v5e), 2k links each; 0: switched or "
   "fully connected"},
  {.name = "torus_wrap", .kind = SIM_KEY_INT, .offset = offsetof(net_link, torus_wrap), .def = 0, .min = 0,
   .max = 1000000, .help = "a torus dimension of n chips wraps around (a bidirectional ring) when n is a multiple "
   "of this (v4/v5p: 4, v5e: 16); 0: never"},
  SIM_KEY_END,
};

static const char *const link_source_keys[] = {"source", NULL};

static void link_check(const void *entry, sim_check *ck)
{
  const net_link *l = entry;
  if (l->custom_allreduce && !l->p2p)
    sim_check_fail(ck, "custom_allreduce", "needs p2p = true (custom all-reduce kernels read peers' memory)");
  if (l->torus_wrap > 0 && l->torus_dims == 0)
    sim_check_fail(ck, "torus_wrap", "needs torus_dims 2 or 3 (wraparound is a property of a torus)");
  if (l->torus_dims == 1)
    sim_check_fail(ck, "torus_dims", "1 is a ring, not modelled (expected 0, 2 or 3)");
  if (l->nvls_busbw_gbs > 0 && !l->nvswitch)
    sim_check_fail(ck, "nvls_busbw_gbs", "needs nvswitch = true (NVLink SHARP runs in the switch)");
}

static void link_line(const void *entry, char *buf, size_t n)
{
  const net_link *l = entry;
  snprintf(buf, n, "%-12s %-8s %9.1f %8.2f %6.2f  %s", l->name, l->scope == NET_SCOPE_NODE ? "node" : "network",
           l->bw_gbs, l->latency_us, l->efficiency, l->description);
}

const sim_catalog_type net_link_catalog = {
  .list = "links",
  .what = "link",
  .schema = link_keys,
  .entry_size = sizeof(net_link),
  .name_offset = offsetof(net_link, name),
  .aliases_offset = offsetof(net_link, aliases),
  .source_keys = link_source_keys,
  .check = link_check,
  .list_header = "name         scope    GB/s/dir  lat(us)    eff  description",
  .list_line = link_line,
};
