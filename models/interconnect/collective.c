/* models/interconnect/collective.c: alpha-beta costs of collectives (see
 * net.h). Ring all-reduce moves 2(n-1)/n of the buffer through each link
 * in 2(n-1) latency-bound steps (Patarasuk & Yuan 2009; Thakur et al. 2005);
 * a pipelined double binary tree (NCCL 2.4+) pays 2 log2(n) latencies and
 * about 2 buffer transfers, so it wins for small messages. Links on a
 * torus (TPU ICI, torus_dims > 0) take the torus costs at the end of this
 * file instead, in every collective of net.h. */
#include <math.h>

#include "models/interconnect/net.h"

/* Fixed cost of launching and synchronising one collective (NCCL kernel),
 * on top of the per-hop latency: nccl-tests all_reduce_perf on an 8-GPU
 * NVSwitch node takes 12.5 us for 4-16 bytes (deepseek-ai/DeepEP issue
 * #303), of which the tree's 2 log2(8) hops at ~1 us are 6 us; vLLM's
 * custom all-reduce takes 9-10 us at 512 B (sglang PR #2904). */
#define NET_COLLECTIVE_BASE_S 6e-6

double net_bw(const net_link *l) { return l->bw_gbs * 1e9 * l->efficiency; }
double net_alpha_s(const net_link *l) { return l->latency_us * 1e-6; }

double net_allreduce_s(const net_link *l, int n, double bytes, net_algo algo)
{
  if (n <= 1 || bytes <= 0) return 0;
  if (l->torus_dims > 0) return net_torus_collective_s(l, NET_ALLREDUCE, n, bytes);
  double ring = NET_COLLECTIVE_BASE_S + 2.0 * (n - 1) * net_alpha_s(l) + 2.0 * (n - 1) / n * bytes / net_bw(l);
  double tree = NET_COLLECTIVE_BASE_S + 2.0 * ceil(log2(n)) * net_alpha_s(l) + 2.0 * bytes / net_bw(l);
  switch (algo) {
  case NET_RING: return ring;
  case NET_TREE: return tree;
  default: return ring < tree ? ring : tree;
  }
}

double net_allgather_s(const net_link *l, int n, double bytes)
{
  if (n <= 1 || bytes <= 0) return 0;
  if (l->torus_dims > 0) return net_torus_collective_s(l, NET_ALLGATHER, n, bytes);
  return NET_COLLECTIVE_BASE_S + (n - 1) * net_alpha_s(l) + (double)(n - 1) / n * bytes / net_bw(l);
}

double net_reduce_scatter_s(const net_link *l, int n, double bytes)
{
  return net_allgather_s(l, n, bytes);
}

double net_p2p_s(const net_link *l, double bytes)
{
  if (bytes <= 0) return 0;
  /* on a torus a neighbour is one link away: one link's bandwidth */
  if (l->torus_dims > 0) return net_alpha_s(l) + bytes / (net_bw(l) / (2.0 * (double)l->torus_dims));
  return net_alpha_s(l) + bytes / net_bw(l);
}

net_link net_link_spread(const net_link *node, const net_link *net, double ports)
{
  net_link l = *net;
  double bw = ports * net_bw(net);
  if (node) bw = fmin(net_bw(node), bw);
  l.bw_gbs = bw / 1e9;
  l.efficiency = 1.0;
  return l;
}

/* ---- torus ---------------------------------------------------------------
 * Collectives on a k-D torus (TPU ICI, Jouppi et al., "TPU v4: An Optically
 * Reconfigurable Supercomputer for Machine Learning", ISCA 2023: a 4^3 cube
 * of chips, 6 links each, cubes joined into a 3-D torus by optical
 * switches). XLA runs a collective over several torus axes at once, one
 * share of the buffer per axis in rotated order, so a chip injects over
 * all its links together (Ying et al. 2018, "Image Classification at
 * Supercomputer Scale", 2-D gradient summation on TPU v3 pods); over a
 * wrapped axis a ring runs in both directions. Hence an all-gather or
 * reduce-scatter takes bytes / (bidirectional bandwidth x axes) (Austin et
 * al. 2025, "How to Scale Your Model", jax-ml.github.io/scaling-book,
 * sharding chapter), which we write (n-1)/n x bytes / inject_bw: for a
 * 4x4x4 cube, inject_bw = 3 x 2 x link. The all-to-all is bounded by the
 * bisection: the cut across the longest axis carries a quarter of all
 * bytes each way (same chapter: bytes x max(axis) / (4 x bidirectional
 * link bandwidth) per chip). Latency: one latency_us per ring step,
 * floor(n/2) steps on a wrapped axis, n - 1 on a line, axes in sequence;
 * time = max(latency, bandwidth) as in the chapter's T = max(T_min x
 * sum|X_i| / 2, V / (W x axes)), plus NET_COLLECTIVE_BASE_S. */

int net_torus_shape(int n, int k, int dims[3])
{
  if (k < 1) k = 1;
  if (k > 3) k = 3;
  dims[0] = n > 0 ? n : 1;
  dims[1] = dims[2] = 1;
  /* enumerate a >= b >= c with a x b x c = n (c = 1 when k = 2, b = c = 1
   * when k = 1): the smallest a, then the largest c */
  for (int c = 1; k == 3 && c * c * c <= n; c++) {
    if (n % c) continue;
    int m = n / c;
    for (int b = c; b * b <= m; b++) {
      if (m % b) continue;
      int a = m / b;
      if (a < dims[0] || (a == dims[0] && c > dims[2])) dims[0] = a, dims[1] = b, dims[2] = c;
    }
  }
  for (int b = 1; k == 2 && b * b <= n; b++)
    if (n % b == 0 && n / b < dims[0]) dims[0] = n / b, dims[1] = b;
  int used = 0;
  for (int d = 0; d < 3; d++) used += dims[d] > 1;
  return used;
}

static bool torus_wraps(const net_link *l, int len)
{
  return len >= 3 && l->torus_wrap > 0 && len % l->torus_wrap == 0;
}

/* one link's bandwidth per direction, efficiency applied (B/s) */
static double torus_link_bw(const net_link *l) { return net_bw(l) / (2.0 * (double)l->torus_dims); }

double net_torus_inject_bw(const net_link *l, const int dims[3], int k)
{
  double w = 0;
  for (int d = 0; d < k && d < 3; d++)
    if (dims[d] > 1) w += torus_wraps(l, dims[d]) ? 2 : 1;
  return w * torus_link_bw(l);
}

double net_torus_collective_s(const net_link *l, net_coll kind, int n, double bytes)
{
  if (n <= 1 || bytes <= 0) return 0;
  int k = (int)l->torus_dims, dims[3];
  net_torus_shape(n, k, dims);
  double steps = 0, worst = 0; /* ring steps; the longest axis per unit of bandwidth */
  for (int d = 0; d < k; d++) {
    if (dims[d] <= 1) continue;
    bool wrap = torus_wraps(l, dims[d]);
    steps += wrap ? dims[d] / 2 : dims[d] - 1;
    double r = dims[d] / (wrap ? 2.0 : 1.0);
    if (r > worst) worst = r;
  }
  double share = (double)(n - 1) / n * bytes / net_torus_inject_bw(l, dims, k), bw_s;
  switch (kind) {
  case NET_ALLREDUCE:
    bw_s = 2 * share;
    steps *= 2;
    break;
  case NET_ALLTOALL:
    bw_s = fmax(share, bytes * worst / (4 * torus_link_bw(l)));
    break;
  default: bw_s = share; break;
  }
  return NET_COLLECTIVE_BASE_S + fmax(steps * net_alpha_s(l), bw_s);
}
