/* models/interconnect/net.h: links between GPUs (NVLink, PCIe, InfiniBand,
 * Ethernet) as catalog entries, the alpha-beta cost of collectives over
 * them (collective.c, what training and the `ideal` stack use), and the
 * measured model beside it (collective_measured.c: NCCL protocol floors,
 * fitted bus bandwidths, custom all-reduce). Pure functions of sizes and
 * link numbers; no engine, no files. Bandwidths are per GPU and per
 * direction, in bytes per second. */
#ifndef NET_H
#define NET_H

#include <stdbool.h>
#include <stdint.h>

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
  /* Measured collective model (all optional; 0 = derived, see link.c and
   * collective_measured.c for each default). */
  bool p2p;                /* GPUs reach each other's memory directly (else NCCL goes through host SHM) */
  bool nvswitch;           /* a switch joins all GPUs of the node (NVLink SHARP possible) */
  bool custom_allreduce;   /* engines' one-/two-shot all-reduce kernels run here (NVLink/xGMI P2P) */
  double coll_lat_us;      /* NCCL LL floor of a 2-GPU all-reduce */
  double coll_hop_us;      /* LL latency of each further ring step */
  double coll_busbw_gbs;   /* large-message ring bus bandwidth (nccl-tests busbw) */
  double nvls_busbw_gbs;   /* all-reduce busbw with NVLink SHARP; 0 = none */
  double host_bw_gbs;      /* host bandwidth all GPUs' flows share (busbw <= host/n); 0 = no limit */
  double custom_lat_us;    /* one-shot custom all-reduce floor */
  double custom_bw_gbs;    /* bandwidth a custom all-reduce kernel reads peers at */
  const char *coll_source; /* where the collective figures come from */
  /* Torus (TPU ICI): 0 = a switched or fully connected link, as above. */
  int64_t torus_dims;      /* 2 or 3: chips sit on a k-D torus, 2k links each; bw_gbs is their sum */
  int64_t torus_wrap;      /* a dimension of n chips wraps around when n is a multiple of this (0: never) */
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

/* ---- measured model (collective_measured.c) ---------------------------
 * Beside the alpha-beta functions above, which keep their numbers. */
typedef enum { NET_ALLREDUCE, NET_ALLGATHER, NET_REDUCE_SCATTER, NET_ALLTOALL } net_coll;
typedef enum {
  NET_IMPL_NCCL,      /* NCCL's tuner: fastest of ring LL / LL128 / Simple, and NVLS where there is one */
  NET_IMPL_NCCL_RING, /* the same without NVLink SHARP (NCCL_NVLS_ENABLE=0) */
  NET_IMPL_ONESHOT,   /* custom one-shot all-reduce (each GPU reads every peer's buffer) */
  NET_IMPL_TWOSHOT,   /* custom two-shot all-reduce (reduce-scatter then all-gather over P2P) */
  NET_IMPL_CUSTOM     /* what vLLM / SGLang pick: one- or two-shot by size and GPU count, NCCL above 8 MiB */
} net_impl;

/* Names of the implementations in enum order, NULL-terminated, for an
 * ENUM key (a stack's all-reduce): "nccl", "nccl-ring", "oneshot",
 * "twoshot", "custom". */
extern const char *const net_impl_names[];

/* Time (s) of collective `kind` over n GPUs joined by l, `bytes` being each
 * GPU's whole buffer as nccl-tests counts it (all-reduce: the vector;
 * all-gather: each GPU's output; reduce-scatter: each GPU's input;
 * all-to-all: each GPU's send buffer, its own slice included). Custom
 * implementations apply to all-reduce on links with custom_allreduce and
 * p2p only; anywhere else (PCIe, host, network, other collectives) they
 * return NCCL's time. 0 when n <= 1 or bytes <= 0. */
double net_collective_s(const net_link *l, net_coll kind, int n, double bytes, net_impl impl);
/* All-to-all (MoE expert-parallel dispatch or combine) with NCCL: `bytes`
 * is what one GPU sends to all the others together plus its own slice. */
double net_alltoall_s(const net_link *l, int n, double bytes);
/* The measured model's effective constants of l (defaults applied): LL
 * floor and hop (s), ring and NVLS bus bandwidth for n GPUs (B/s, host
 * limit applied), custom floor (s) and bandwidth (B/s). */
double net_coll_lat_s(const net_link *l);
double net_coll_hop_s(const net_link *l);
double net_coll_busbw(const net_link *l, int n);
double net_nvls_busbw(const net_link *l, int n);
double net_custom_lat_s(const net_link *l);
double net_custom_bw(const net_link *l);

/* ---- torus (collective.c) ---------------------------------------------
 * A link with torus_dims = k joins chips on a k-D torus (TPU ICI): each
 * chip has 2k links of bw_gbs / 2k per direction. A group of n chips is
 * laid out as the most nearly cubic sub-torus (net_torus_shape); each
 * dimension of it runs as a bidirectional ring when it wraps around
 * (length >= 3, a multiple of torus_wrap), else as a line. The
 * collectives above take this path for such links by themselves. */

/* Factor n into k dimensions, largest first, as evenly as possible (the
 * smallest largest dimension; ties: the largest smallest one). dims[] has
 * room for 3; k in 1..3. Returns the number of dimensions longer than 1. */
int net_torus_shape(int n, int k, int dims[3]);
/* Bytes per second a chip injects into a group laid out as dims[0..k-1]:
 * the sum over its dimensions longer than 1 of (2 if it wraps, else 1) x
 * one link's bandwidth x efficiency. */
double net_torus_inject_bw(const net_link *l, const int dims[3], int k);
/* Time (s) of a collective over n chips of torus link l, bytes as
 * net_collective_s counts them. All-gather and reduce-scatter: (n-1)/n x
 * bytes / inject_bw; all-reduce: twice that; all-to-all: the larger of the
 * injection bound and the bisection bound bytes x max_d(n_d / w_d) / (4 x
 * link bw). Latency: latency_us per ring step, floor(n_d/2) steps on a
 * wrapped dimension and n_d - 1 on a line, summed over dimensions (twice
 * for all-reduce); the collective takes the larger of latency and
 * bandwidth time (Austin et al., "How to Scale Your Model", 2025,
 * sharding chapter), plus the fixed launch cost of collective.c. */
double net_torus_collective_s(const net_link *l, net_coll kind, int n, double bytes);

extern const sim_catalog_type net_link_catalog;

#endif
