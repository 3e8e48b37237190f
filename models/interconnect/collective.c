/* models/interconnect/collective.c: alpha-beta costs of collectives (see
 * net.h). Ring all-reduce moves 2(n-1)/n of the buffer through each link
 * in 2(n-1) latency-bound steps (Patarasuk & Yuan 2009; Thakur et al. 2005);
 * a pipelined double binary tree (NCCL 2.4+) pays 2 log2(n) latencies and
 * about 2 buffer transfers, so it wins for small messages. */
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
  return NET_COLLECTIVE_BASE_S + (n - 1) * net_alpha_s(l) + (double)(n - 1) / n * bytes / net_bw(l);
}

double net_reduce_scatter_s(const net_link *l, int n, double bytes)
{
  return net_allgather_s(l, n, bytes);
}

double net_p2p_s(const net_link *l, double bytes)
{
  if (bytes <= 0) return 0;
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
