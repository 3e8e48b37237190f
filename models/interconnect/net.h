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

extern const sim_catalog_type net_link_catalog;

#endif
