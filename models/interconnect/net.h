/* models/interconnect/net.h: links between GPUs (NVLink, PCIe, InfiniBand,
 * Ethernet) as catalog entries, and the alpha-beta cost of collectives over
 * them. Pure functions of sizes and link numbers; no engine, no files.
 * Bandwidths are per GPU and per direction, in bytes per second. */
#ifndef NET_H
#define NET_H

#include "sim/catalog.h"

typedef struct {
  const char *name;
  sim_names aliases;
  const char *description;
  int scope;               /* NET_SCOPE_* */
  double bw_gbs;           /* per GPU, per direction, 1e9 B/s */
  double latency_us;       /* one-way small-message latency (alpha) */
  double efficiency;       /* achievable fraction of bw for large transfers */
  const char *source;
} net_link;

enum { NET_SCOPE_NODE, NET_SCOPE_NETWORK };

/* Effective bandwidth (B/s) and latency (s) of a link. */
double net_bw(const net_link *l);
double net_alpha_s(const net_link *l);

typedef enum { NET_RING, NET_TREE, NET_BEST } net_algo;

/* Time (s) of a collective over n GPUs joined by link l, for a buffer of
 * `bytes` per GPU (the full vector for all-reduce; each GPU's output for
 * all-gather; each GPU's input for reduce-scatter). Ring: 2(n-1) steps of
 * bytes/n (all-reduce) or n-1 steps (all-gather, reduce-scatter); tree:
 * 2 log2(n) latency terms and 2 full-buffer transfers (pipelined). NET_BEST
 * takes the faster, as NCCL's tuner does. Collectives also pay a fixed
 * launch-and-synchronise cost (6 us, see collective.c). 0 when n <= 1. */
double net_allreduce_s(const net_link *l, int n, double bytes, net_algo algo);
double net_allgather_s(const net_link *l, int n, double bytes);
double net_reduce_scatter_s(const net_link *l, int n, double bytes);
/* One message of `bytes` from one GPU to another. */
double net_p2p_s(const net_link *l, double bytes);

/* The link a collective sees when its group spans nodes: `ports` network
 * ports of a node carry the group's traffic side by side (NCCL runs a ring
 * per port) while each GPU's share still passes over its node link:
 * bandwidth min(node, ports x network), the network's latency. ports is
 * fractional when the groups of a node share its ports (8 data-parallel
 * groups over one port: 1/8 each). On rail-optimised nodes, one port per
 * GPU, a group with k GPUs in each node has k ports, so its bus bandwidth
 * is the node's aggregate, not one port's: nccl-tests all_reduce_perf
 * across DGX A100 nodes (8 x 200 Gb/s HDR) reaches 192 GB/s (NVIDIA/nccl
 * issue 812); 3 nodes of 8 A100 with 4 x HDR: 85-96 GB/s against 100 GB/s
 * of ports (NVIDIA/nccl-tests issue 119). No node link: the network link
 * times ports. Returns a value: no ownership. */
net_link net_link_spread(const net_link *node, const net_link *net, double ports);

extern const sim_catalog_type net_link_catalog;

#endif
