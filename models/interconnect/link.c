/* models/interconnect/link.c: the `links` catalog type: keys, checks and
 * the `clustersim list links` line. */
#include <stddef.h>
#include <stdio.h>

#include "models/interconnect/net.h"

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
  SIM_KEY_END,
};

static const char *const link_source_keys[] = {"source", NULL};

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
  .list_header = "name         scope    GB/s/dir  lat(us)    eff  description",
  .list_line = link_line,
};
