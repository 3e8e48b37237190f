/* models/interconnect/collective_measured.c: the measured collective model
 * (see net.h), beside the alpha-beta one of collective.c, which it does not
 * touch. It prices a collective the way NCCL's tuner chooses one (NCCL
 * src/graph/tuning.cc): for each protocol (LL, LL128, Simple) a latency
 * floor that grows with the number of ring steps and a bandwidth that is a
 * fixed share of the link's bus bandwidth; the tuner runs the fastest, and
 * NVLink SHARP (NVLS) joins the choice for all-reduce on switched links.
 * The link's own figures (LL floor, ring and NVLS bus bandwidth, host
 * limit, custom all-reduce floor and rate) are fitted on published
 * nccl-tests / rccl-tests rows (models/validation/collectives/points.csv,
 * fit_collectives.c) and live in links.cfg. Custom all-reduce (vLLM's
 * csrc/custom_all_reduce.cuh, SGLang's copy of it) runs only on NVLink /
 * xGMI with P2P; anywhere else it is NCCL. A torus link (TPU ICI) has no
 * NCCL: its collectives are collective.c's torus costs. */
#include <math.h>

#include "models/interconnect/net.h"

/* NCCL tuning.cc (2.18-2.21), ring: base latency LL 6.6, LL128 14.0,
 * Simple 8.4 us; NVLink per-step latency LL 0.6, LL128 1.9, Simple 3.4 us.
 * The link's fitted LL floor replaces 6.6 + 2 x 0.6; the other protocols
 * keep NCCL's offsets from it and NCCL's ratios of per-step latency. */
static const double proto_off_us[3] = {0.0, 14.0 - 6.6, 8.4 - 6.6};
static const double proto_hop_mult[3] = {1.0, 1.9 / 0.6, 3.4 / 0.6};
/* Share of the bus bandwidth each protocol reaches (tuning.cc): LL moves
 * 8-byte lines with 4-byte flags, and NCCL rates ring LL at 1/4 of busbw
 * for all-reduce, 1/3 otherwise; LL128 at 0.92 (120 of 128 bytes). */
static const double proto_eff_allreduce[3] = {0.25, 0.92, 1.0};
static const double proto_eff_other[3] = {1.0 / 3.0, 0.92, 1.0};
/* NVLS: tuning.cc gives NVLS no base latency and 25 us of NVLink latency
 * per step; a switched all-reduce is taken as two steps (reduce, then multicast),
 * so its floor is the ring LL floor - 6.6 + 2 x 25 us. */
#define NET_NVLS_EXTRA_US (2 * 25.0 - 6.6)
/* Defaults for links without a fitted custom all-reduce: the nvlink4 fit
 * (vLLM custom all-reduce on H100, rows C31-C37 of points.csv): floor
 * 9.35 us, read rate 0.185 of the ring busbw (68.4 of 370 GB/s). */
#define NET_CUSTOM_LAT_DEFAULT_US 9.35
#define NET_CUSTOM_BW_SHARE 0.185
/* vLLM's CustomAllreduce: buffers up to 8 MiB (max_size), world sizes
 * 2, 4, 6, 8; one-shot for 2 GPUs, for < 512 KiB on up to 4 and for
 * < 256 KiB on up to 8, two-shot above (custom_all_reduce.cuh). */
#define NET_CUSTOM_MAX_BYTES (8.0 * 1024 * 1024)

const char *const net_impl_names[] = {"nccl", "nccl-ring", "oneshot", "twoshot", "custom", NULL};

/* Fixed cost of collective.c's alpha-beta model, the default floor's base. */
#define NET_ALPHA_BETA_BASE_US 6.0

double net_coll_lat_s(const net_link *l)
{
  double us = l->coll_lat_us > 0 ? l->coll_lat_us : NET_ALPHA_BETA_BASE_US + 2 * l->latency_us;
  return us * 1e-6;
}

double net_coll_hop_s(const net_link *l)
{
  return (l->coll_hop_us > 0 ? l->coll_hop_us : l->latency_us) * 1e-6;
}

double net_coll_busbw(const net_link *l, int n)
{
  double bw = l->coll_busbw_gbs > 0 ? l->coll_busbw_gbs * 1e9 : net_bw(l);
  if (l->host_bw_gbs > 0 && n > 0) bw = fmin(bw, l->host_bw_gbs * 1e9 / n);
  return bw;
}

double net_nvls_busbw(const net_link *l, int n)
{
  if (!l->nvswitch || l->nvls_busbw_gbs <= 0) return 0;
  double bw = l->nvls_busbw_gbs * 1e9;
  if (l->host_bw_gbs > 0 && n > 0) bw = fmin(bw, l->host_bw_gbs * 1e9 / n);
  return bw;
}

double net_custom_lat_s(const net_link *l)
{
  return (l->custom_lat_us > 0 ? l->custom_lat_us : NET_CUSTOM_LAT_DEFAULT_US) * 1e-6;
}

double net_custom_bw(const net_link *l)
{
  return l->custom_bw_gbs > 0 ? l->custom_bw_gbs * 1e9 : NET_CUSTOM_BW_SHARE * net_coll_busbw(l, 2);
}

/* Floor of protocol p over `steps` ring steps (2 for a 2-GPU all-reduce). */
static double floor_s(const net_link *l, int p, int steps)
{
  double extra = steps > 2 ? steps - 2 : 0;
  return net_coll_lat_s(l) + proto_off_us[p] * 1e-6 + extra * net_coll_hop_s(l) * proto_hop_mult[p];
}

/* NCCL's ring (and NVLS) time: the fastest protocol. `wire` is the bytes
 * each GPU's busiest link carries per byte of buffer (busbw factor). */
static double nccl_s(const net_link *l, net_coll kind, int n, double bytes, bool nvls)
{
  int steps = kind == NET_ALLREDUCE ? 2 * (n - 1) : kind == NET_ALLTOALL ? 1 : n - 1;
  double wire = (kind == NET_ALLREDUCE ? 2.0 * (n - 1) : (double)(n - 1)) / n * bytes;
  const double *eff = kind == NET_ALLREDUCE ? proto_eff_allreduce : proto_eff_other;
  double bw = net_coll_busbw(l, n), best = INFINITY;
  for (int p = 0; p < 3; p++) {
    double t = floor_s(l, p, steps) + wire / (bw * eff[p]);
    if (t < best) best = t;
  }
  double nv = net_nvls_busbw(l, n);
  if (nvls && kind == NET_ALLREDUCE && n > 2 && nv > 0) {
    double t = net_coll_lat_s(l) + NET_NVLS_EXTRA_US * 1e-6 + wire / nv;
    if (t < best) best = t;
  }
  return best;
}

static double oneshot_s(const net_link *l, int n, double bytes)
{
  return net_custom_lat_s(l) + (n - 1) * bytes / net_custom_bw(l);
}

static double twoshot_s(const net_link *l, int n, double bytes)
{
  return 2 * net_custom_lat_s(l) + 2.0 * (n - 1) / n * bytes / net_custom_bw(l);
}

double net_collective_s(const net_link *l, net_coll kind, int n, double bytes, net_impl impl)
{
  if (n <= 1 || bytes <= 0) return 0;
  if (l->torus_dims > 0) return net_torus_collective_s(l, kind, n, bytes); /* no NCCL on a torus */
  bool custom_ok = kind == NET_ALLREDUCE && l->custom_allreduce && l->p2p;
  switch (impl) {
  case NET_IMPL_ONESHOT:
    if (custom_ok) return oneshot_s(l, n, bytes);
    break;
  case NET_IMPL_TWOSHOT:
    if (custom_ok) return twoshot_s(l, n, bytes);
    break;
  case NET_IMPL_CUSTOM:
    if (custom_ok && n <= 8 && n % 2 == 0 && bytes <= NET_CUSTOM_MAX_BYTES) {
      bool one = n == 2 || (n <= 4 && bytes < 512.0 * 1024) || bytes < 256.0 * 1024;
      return one ? oneshot_s(l, n, bytes) : twoshot_s(l, n, bytes);
    }
    break;
  case NET_IMPL_NCCL_RING: return nccl_s(l, kind, n, bytes, false);
  case NET_IMPL_NCCL: break;
  }
  return nccl_s(l, kind, n, bytes, true);
}

double net_alltoall_s(const net_link *l, int n, double bytes)
{
  return net_collective_s(l, NET_ALLTOALL, n, bytes, NET_IMPL_NCCL);
}
