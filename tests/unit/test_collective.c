/* tests/unit/test_collective.c: the measured collective model
 * (models/interconnect/collective_measured.c) against the published rows of
 * models/validation/collectives/points.csv (every FIT and HELD-OUT row of
 * the four collectives, with its recorded and allowed error; all-gather and
 * reduce-scatter also by hand), monotone in message size, custom
 * all-reduce faster than NCCL only where engines run it and never on PCIe
 * or through the host, all-to-all by hand, the defaults of a link without
 * collective keys, the catalog checks of the new keys, and the alpha-beta
 * functions of collective.c still returning today's numbers (by hand). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/interconnect/net.h"
#include "cattest.h"
#include "clitest.h"
#include "testutil.h"

typedef struct {
  const char *id, *link;
  int n;
  net_coll kind;
  net_impl impl;
  double bytes, time_us;
  int held_out;
  double recorded, allowed; /* relative error (predicted / published - 1) */
} point;

#define AR NET_ALLREDUCE
#define A2A NET_ALLTOALL
#define AG NET_ALLGATHER
#define RS NET_REDUCE_SCATTER
#define NCCL NET_IMPL_NCCL
#define RING NET_IMPL_NCCL_RING
#define CUST NET_IMPL_CUSTOM

/* points.csv, row for row. Allowed error: 20% on FIT rows, 30% on HELD-OUT
 * rows, except the known misses (see models/validation/collectives/README.md),
 * allowed the next 5% above their error:
 * - C8 and C9: the 10 KB all-reduce inside an engine without P2P (39 us,
 *   -64%) and the all-to-all floor without P2P (11.9 us, -40%) take more
 *   than the nccl-tests all-reduce floor the pcie4-host constants are
 *   fitted on;
 * - C48-C52 (all-gather), C56-C60 (reduce-scatter) and C64-C67 (the same
 *   box's all-reduce, the control), 4 H100s up to 4 MB: that box's floor
 *   is 21.4-23.3 us where the nvlink4 floor fitted on 8 H20s gives 8.0 us
 *   (all-gather, reduce-scatter) and 9.8 us (all-reduce); all three sit
 *   13.5-14.5 us above the model, so the miss is the box's floor, not the
 *   all-gather / reduce-scatter model (a refit, not done: the rows are
 *   held out). */
static const point points[] = {
  {"C1", "pcie4", 4, AR, NCCL, 268435456, 15654, 0, -0.0048, 0.20},
  {"C2", "pcie4", 4, AR, NCCL, 536870912, 31194, 0, -0.0022, 0.20},
  {"C3", "pcie4", 4, AR, NCCL, 1073741824, 62077, 0, +0.0023, 0.20},
  {"C4", "pcie4-host", 2, AR, NCCL, 8, 8.49, 0, -0.1654, 0.20},
  {"C5", "pcie4-host", 2, AR, NCCL, 1024, 8.41, 0, +0.0854, 0.20},
  {"C6", "pcie4-host", 2, AR, NCCL, 2048, 8.38, 0, +0.1813, 0.20},
  {"C7", "pcie4-host", 2, AR, NCCL, 20971520, 10900, 0, -0.0324, 0.20},
  {"C8", "pcie4-host", 2, AR, NCCL, 10240, 39, 1, -0.6405, 0.65},
  {"C9", "pcie4-host", 2, A2A, NCCL, 8, 11.87, 1, -0.4042, 0.45},
  {"C10", "pcie5", 8, AR, NCCL, 8589934592, 536871, 0, +0.0000, 0.20},
  {"C11", "pcie5", 4, AR, NCCL, 8589934592, 368140, 0, +0.0000, 0.20},
  {"C12", "nvlink3", 2, AR, NCCL, 32, 10.14, 0, -0.0039, 0.20},
  {"C13", "nvlink3", 2, AR, NCCL, 64, 10.14, 0, -0.0039, 0.20},
  {"C14", "nvlink3", 8, AR, NCCL, 1073741824, 8170, 0, -0.0022, 0.20},
  {"C15", "nvlink3", 8, AR, NCCL, 1073741824, 8082, 1, +0.0087, 0.30},
  {"C16", "nvlink4", 8, AR, NCCL, 4, 12.49, 0, +0.1697, 0.20},
  {"C17", "nvlink4", 8, AR, NCCL, 16, 12.52, 0, +0.1669, 0.20},
  {"C18", "nvlink4", 8, AR, NCCL, 256, 15.70, 0, -0.0693, 0.20},
  {"C19", "nvlink4", 8, AR, NCCL, 1024, 16.38, 0, -0.1071, 0.20},
  {"C20", "nvlink4", 8, AR, NCCL, 4096, 16.69, 0, -0.1197, 0.20},
  {"C21", "nvlink4", 8, AR, RING, 4294967296, 20317, 0, +0.0023, 0.20},
  {"C22", "nvlink4", 8, AR, NCCL, 4294967296, 15661, 0, -0.0010, 0.20},
  {"C23", "nvlink4", 8, AR, NCCL, 4294967296, 15826, 1, -0.0110, 0.30},
  {"C24", "nvlink4", 8, AR, NCCL, 128, 19.19, 1, -0.2385, 0.30},
  {"C25", "nvlink4", 8, AR, NCCL, 16384, 20.71, 1, -0.2797, 0.30},
  {"C26", "nvlink4", 8, AR, NCCL, 262144, 24.76, 1, -0.2099, 0.30},
  {"C27", "nvlink4", 8, AR, NCCL, 1048576, 32.42, 1, +0.0618, 0.30},
  {"C28", "nvlink4", 8, AR, NCCL, 4194304, 59.43, 1, -0.0050, 0.30},
  {"C29", "nvlink4", 8, AR, NCCL, 16777216, 135.68, 1, -0.1763, 0.30},
  {"C30", "nvlink4", 4, A2A, NCCL, 524288000, 1174.14, 1, -0.0870, 0.30},
  {"C31", "nvlink4", 2, AR, CUST, 512, 9.5, 0, -0.0150, 0.20},
  {"C32", "nvlink4", 2, AR, CUST, 262144, 12.9, 0, +0.0222, 0.20},
  {"C33", "nvlink4", 2, AR, CUST, 1048576, 26.6, 0, -0.0721, 0.20},
  {"C34", "nvlink4", 8, AR, CUST, 512, 10.1, 0, -0.0690, 0.20},
  {"C35", "nvlink4", 8, AR, CUST, 32768, 11.8, 0, +0.0775, 0.20},
  {"C36", "nvlink4", 8, AR, CUST, 262144, 24.1, 0, +0.0547, 0.20},
  {"C37", "nvlink4", 8, AR, CUST, 1048576, 45.0, 0, +0.0118, 0.20},
  {"C38", "nvlink4", 4, AR, CUST, 4096, 8.5, 1, +0.1221, 0.30},
  {"C39", "nvlink4", 4, AR, CUST, 524288, 26.9, 1, +0.1227, 0.30},
  {"C40", "nvlink4", 4, AR, CUST, 1048576, 40.2, 1, +0.0369, 0.30},
  {"C41", "nvlink4-bridge", 2, AR, NCCL, 1073741824, 9306.7, 0, -0.0045, 0.20},
  {"C42", "nvlink4-bridge", 2, AR, NCCL, 2147483648, 18535, 0, -0.0003, 0.20},
  {"C43", "nvlink4-bridge", 2, AR, NCCL, 4294967296, 36943, 0, +0.0031, 0.20},
  {"C44", "nvlink5", 8, AR, RING, 4294967296, 10815, 0, +0.0003, 0.20},
  {"C45", "nvlink5", 8, AR, NCCL, 4294967296, 8895, 0, -0.0002, 0.20},
  {"C46", "nvlink5", 8, AR, NCCL, 4294967296, 9056, 1, -0.0180, 0.30},
  {"C47", "infinity-fabric", 8, AR, NCCL, 8388608, 91.10, 0, -0.0005, 0.20},
  {"C48", "nvlink4", 4, AG, NCCL, 64, 22.54, 1, -0.6446, 0.70},
  {"C49", "nvlink4", 4, AG, NCCL, 1024, 22.11, 1, -0.6374, 0.65},
  {"C50", "nvlink4", 4, AG, NCCL, 16384, 24.64, 1, -0.6709, 0.70},
  {"C51", "nvlink4", 4, AG, NCCL, 262144, 27.05, 1, -0.6449, 0.65},
  {"C52", "nvlink4", 4, AG, NCCL, 4194304, 38.62, 1, -0.4533, 0.50},
  {"C53", "nvlink4", 4, AG, NCCL, 67108864, 194.91, 1, -0.2374, 0.30},
  {"C54", "nvlink4", 4, AG, NCCL, 1073741824, 2459.19, 1, -0.1098, 0.30},
  {"C55", "nvlink4", 4, AG, NCCL, 8589934592, 18753.6, 1, -0.0709, 0.30},
  {"C56", "nvlink4", 4, RS, NCCL, 64, 21.57, 1, -0.6286, 0.65},
  {"C57", "nvlink4", 4, RS, NCCL, 1024, 21.36, 1, -0.6247, 0.65},
  {"C58", "nvlink4", 4, RS, NCCL, 16384, 23.26, 1, -0.6513, 0.70},
  {"C59", "nvlink4", 4, RS, NCCL, 262144, 24.97, 1, -0.6154, 0.65},
  {"C60", "nvlink4", 4, RS, NCCL, 4194304, 35.72, 1, -0.4090, 0.45},
  {"C61", "nvlink4", 4, RS, NCCL, 67108864, 189.89, 1, -0.2172, 0.30},
  {"C62", "nvlink4", 4, RS, NCCL, 1073741824, 2446.11, 1, -0.1051, 0.30},
  {"C63", "nvlink4", 4, RS, NCCL, 8589934592, 18360.3, 1, -0.0510, 0.30},
  {"C64", "nvlink4", 4, AR, NCCL, 64, 23.34, 1, -0.5796, 0.60},
  {"C65", "nvlink4", 4, AR, NCCL, 1024, 23.28, 1, -0.5779, 0.60},
  {"C66", "nvlink4", 4, AR, NCCL, 16384, 24.34, 1, -0.5860, 0.60},
  {"C67", "nvlink4", 4, AR, NCCL, 262144, 27.19, 1, -0.4829, 0.50},
  {"C68", "nvlink4", 4, AR, NCCL, 4194304, 43.43, 1, -0.0833, 0.30},
  {"C69", "nvlink4", 4, AR, NCCL, 67108864, 329.39, 1, -0.2117, 0.30},
  {"C70", "nvlink4", 4, AR, NCCL, 1073741824, 4532.51, 1, -0.2516, 0.30},
  {"C71", "nvlink4", 4, AR, NCCL, 8589934592, 35187.6, 1, -0.2389, 0.30},
  {"C72", "nvlink4", 8, RS, RING, 134217728, 377.2, 1, -0.0890, 0.30},
  {"C73", "nvlink4", 8, RS, RING, 1073741824, 2689.3, 1, -0.0460, 0.30},
  {"C74", "nvlink4", 8, RS, RING, 8589934592, 20754, 1, -0.0199, 0.30},
  {"C75", "nvlink4", 4, AG, NCCL, 33554432, 108.95, 1, -0.2600, 0.30},
  {"C76", "nvlink4", 4, AG, NCCL, 536870912, 1269.71, 1, -0.1330, 0.30},
  {"C77", "nvlink4", 4, AG, NCCL, 17179869184, 36585, 1, -0.0478, 0.30},
  {"C78", "nvlink4", 4, RS, NCCL, 33554432, 103.79, 1, -0.2232, 0.30},
  {"C79", "nvlink4", 4, RS, NCCL, 536870912, 1301.25, 1, -0.1540, 0.30},
  {"C80", "nvlink4", 4, RS, NCCL, 17179869184, 36362.1, 1, -0.0420, 0.30},
  {"C81", "nvlink4", 4, AR, NCCL, 33554432, 171.47, 1, -0.0947, 0.30},
  {"C82", "nvlink4", 4, AR, NCCL, 536870912, 2305.69, 1, -0.2533, 0.30},
  {"C83", "nvlink4", 4, AR, NCCL, 17179869184, 70037.2, 1, -0.2359, 0.30},
  {"C84", "nvlink4", 8, AG, NCCL, 33554432, 123.83, 1, -0.1475, 0.30},
  {"C85", "nvlink4", 8, AG, NCCL, 536870912, 1387.6, 1, -0.0661, 0.30},
  {"C86", "nvlink4", 8, AG, NCCL, 17179869184, 41580.3, 1, -0.0223, 0.30},
  {"C87", "nvlink4", 8, RS, NCCL, 33554432, 112.78, 1, -0.0640, 0.30},
  {"C88", "nvlink4", 8, RS, NCCL, 536870912, 1398.82, 1, -0.0736, 0.30},
  {"C89", "nvlink4", 8, RS, NCCL, 17179869184, 41188.8, 1, -0.0130, 0.30},
  {"C90", "nvlink4", 8, AR, NCCL, 33554432, 183.39, 1, -0.0586, 0.30},
  {"C91", "nvlink4", 8, AR, NCCL, 536870912, 2112.79, 1, -0.0534, 0.30},
  {"C92", "nvlink4", 8, AR, NCCL, 17179869184, 62397.7, 1, +0.0005, 0.30},
};

/* Every published row: the prediction reproduces its recorded error (to
 * 0.1%, so a change of model or constants shows here) and stays within the
 * allowed error. */
static void test_published_points(void)
{
  int n = sizeof points / sizeof points[0], fit = 0, held = 0;
  for (int i = 0; i < n; i++) {
    const point *p = &points[i];
    double t = net_collective_s(cs_link(p->link), p->kind, p->n, p->bytes, p->impl) * 1e6;
    double err = t / p->time_us - 1;
    CHECK(fabs(err - p->recorded) <= 0.001, "%s %s n=%d %.0f B: predicted %.4g us, published %.4g us, error %+.4f, "
          "recorded %+.4f", p->id, p->link, p->n, p->bytes, t, p->time_us, err, p->recorded);
    CHECK(fabs(err) <= p->allowed, "%s: error %+.1f%% beyond the allowed %.0f%%", p->id, 100 * err, 100 * p->allowed);
    held += p->held_out;
    fit += !p->held_out;
  }
  CU_ASSERT_EQUAL(n, 92); /* every row of points.csv */
  CU_ASSERT_EQUAL(fit, 32);
  CU_ASSERT_EQUAL(held, 60);
}

/* PCIe all-reduce against the published curve, written out: pcie4 (P2P),
 * 4 GPUs, 1 GiB: the Simple protocol wins; floor = coll_lat (default
 * 6 + 2 x 1 = 8 us) + NCCL's Simple offset 1.8 us + (6 - 2) ring steps x
 * 1.0 us x 3.4/0.6; wire = 2 x 3/4 x 2^30 B at 25.9 GB/s. */
static void test_pcie_curve_by_hand(void)
{
  const net_link *l = cs_link("pcie4");
  double floor_us = 8 + 1.8 + 4 * 1.0 * (3.4 / 0.6);
  double t = (floor_us + 1.5 * 1073741824.0 / 25.9e3) * 1e-6;
  CS_ASSERT_REL(net_collective_s(l, NET_ALLREDUCE, 4, 1073741824.0, NET_IMPL_NCCL), t, 1e-12);
  /* pcie5, 8 GPUs: the host limit 224 GB/s / 8 = 28 GB/s is the busbw; 4
   * GPUs: the link's 35 GB/s (224 / 4 = 56 is no limit). */
  CS_ASSERT_REL(net_coll_busbw(cs_link("pcie5"), 8), 28e9, 1e-12);
  CS_ASSERT_REL(net_coll_busbw(cs_link("pcie5"), 4), 35e9, 1e-12);
  /* Decode-size all-reduce over PCIe without P2P, 2 GPUs, 16 KB (one token
   * of an 8192-wide bf16 model): LL floor 7.07 us + 2 x 1/2 x 16384 B at
   * 1.99 GB/s / 4 = 7.07 + 32.93 us; Simple: 7.07 + 1.8 + 8.23 = 17.10 us
   * wins. The alpha-beta model says 6 + 2 x 1 + 16384 / 25.2e9 s = 8.65 us. */
  const net_link *h = cs_link("pcie4-host");
  CS_ASSERT_REL(net_collective_s(h, NET_ALLREDUCE, 2, 16384, NET_IMPL_NCCL), (7.07 + 1.8 + 16384 / 1.99e3) * 1e-6, 1e-12);
  CS_ASSERT_REL(net_allreduce_s(h, 2, 16384, NET_BEST), 8e-6 + 16384 / 25.2e9, 1e-12);
}

/* Time never falls as the message grows, for every node link, collective,
 * GPU count and implementation but the engine rule (which switches to NCCL
 * above 8 MiB by design). */
static void test_monotone(void)
{
  const char *names[] = {"nvlink2", "nvlink3", "nvlink4", "nvlink5", "infinity-fabric", "pcie3", "pcie4", "pcie5",
                         "pcie6", "pcie4-host", "pcie5-host", "nvlink4-bridge", "ib-ndr", NULL};
  const net_impl impls[] = {NET_IMPL_NCCL, NET_IMPL_NCCL_RING, NET_IMPL_ONESHOT, NET_IMPL_TWOSHOT};
  int bad = 0;
  for (int i = 0; names[i]; i++)
    for (int k = NET_ALLREDUCE; k <= NET_ALLTOALL; k++)
      for (int m = 0; m < 4; m++)
        for (int n = 2; n <= 16; n *= 2) {
          double prev = 0;
          for (double b = 1; b <= 1e10; b *= 1.5) {
            double t = net_collective_s(cs_link(names[i]), k, n, b, impls[m]);
            if (!(t >= prev) || !(t > 0)) bad++;
            prev = t;
          }
        }
  CU_ASSERT_EQUAL(bad, 0);
}

/* Custom all-reduce: on NVLink (nvlink4, 8 GPUs) faster than NCCL at the
 * sizes decode runs it (1-32 KB: one or two tokens of an 8192-wide bf16
 * model), NCCL's time above vLLM's 8 MiB limit and at odd GPU counts; on
 * PCIe, through the host, on a network, and for collectives other than
 * all-reduce, exactly NCCL's time whatever is asked. */
static void test_custom_where_engines_use_it(void)
{
  const net_link *nv = cs_link("nvlink4");
  for (double b = 1024; b <= 32768; b *= 2) {
    double c = net_collective_s(nv, NET_ALLREDUCE, 8, b, NET_IMPL_CUSTOM);
    double r = net_collective_s(nv, NET_ALLREDUCE, 8, b, NET_IMPL_NCCL);
    CHECK(c < r, "nvlink4 8 GPUs %.0f B: custom %.3g us not below NCCL %.3g us", b, c * 1e6, r * 1e6);
  }
  /* 8 GPUs, 32 KB by hand: one-shot 9.35 us + 7 x 32768 B / 68.4 GB/s;
   * NCCL LL: 7.41 + 12 steps x 0.6 us + 2 x 7/8 x 32768 B / (370 GB/s / 4). */
  CS_ASSERT_REL(net_collective_s(nv, NET_ALLREDUCE, 8, 32768, NET_IMPL_CUSTOM), (9.35 + 7 * 32768 / 68.4e3) * 1e-6,
                1e-12);
  CS_ASSERT_REL(net_collective_s(nv, NET_ALLREDUCE, 8, 32768, NET_IMPL_NCCL),
                (7.41 + 12 * 0.6 + 1.75 * 32768 / (370e3 / 4)) * 1e-6, 1e-12);
  /* Two-shot for 8 GPUs from 256 KiB: 2 x 9.35 us + 2 x 7/8 x B / 68.4 GB/s. */
  CS_ASSERT_REL(net_collective_s(nv, NET_ALLREDUCE, 8, 262144, NET_IMPL_CUSTOM),
                (2 * 9.35 + 1.75 * 262144 / 68.4e3) * 1e-6, 1e-12);
  double big = 16.0 * 1024 * 1024;
  CU_ASSERT_EQUAL(net_collective_s(nv, NET_ALLREDUCE, 8, big, NET_IMPL_CUSTOM),
                  net_collective_s(nv, NET_ALLREDUCE, 8, big, NET_IMPL_NCCL));
  CU_ASSERT_EQUAL(net_collective_s(nv, NET_ALLREDUCE, 3, 4096, NET_IMPL_CUSTOM),
                  net_collective_s(nv, NET_ALLREDUCE, 3, 4096, NET_IMPL_NCCL));
  const char *no_custom[] = {"pcie3", "pcie4", "pcie5", "pcie6", "pcie4-host", "pcie5-host", "ib-ndr", "eth-400g",
                             "nvlink2", NULL};
  const net_impl customs[] = {NET_IMPL_ONESHOT, NET_IMPL_TWOSHOT, NET_IMPL_CUSTOM};
  for (int i = 0; no_custom[i]; i++)
    for (int m = 0; m < 3; m++)
      for (int n = 2; n <= 8; n *= 2)
        for (double b = 8; b <= 64e6; b *= 4) {
          const net_link *l = cs_link(no_custom[i]);
          CHECK(net_collective_s(l, NET_ALLREDUCE, n, b, customs[m]) ==
                    net_collective_s(l, NET_ALLREDUCE, n, b, NET_IMPL_NCCL),
                "%s: custom all-reduce differs from NCCL at n=%d, %.0f B", no_custom[i], n, b);
        }
  CU_ASSERT_EQUAL(net_collective_s(nv, NET_ALLGATHER, 8, 4096, NET_IMPL_ONESHOT),
                  net_collective_s(nv, NET_ALLGATHER, 8, 4096, NET_IMPL_NCCL));
}

/* All-to-all by hand. MoE dispatch with expert parallelism over 8 H100s:
 * each GPU holds 128 tokens, each routed to 8 experts spread evenly over
 * the 8 GPUs, hidden 7168 in FP8 (1 byte): each GPU's send buffer is
 * 128 x 8 x 7168 x 1 = 7,340,032 B, of which 7/8 leave it. One step:
 * Simple floor 7.41 + 1.8 us, LL128 floor 7.41 + 7.4 us, LL 7.41 us;
 * Simple: 9.21 us + 0.875 x 7340032 B / 370 GB/s = 9.21 + 17.358 us wins. */
static void test_alltoall_by_hand(void)
{
  const net_link *nv = cs_link("nvlink4");
  double bytes = 128.0 * 8 * 7168 * 1;
  CU_ASSERT_EQUAL(bytes, 7340032.0);
  CS_ASSERT_REL(net_alltoall_s(nv, 8, bytes), (9.21 + 0.875 * bytes / 370e3) * 1e-6, 1e-12);
  CU_ASSERT_EQUAL(net_alltoall_s(nv, 8, bytes), net_collective_s(nv, NET_ALLTOALL, 8, bytes, NET_IMPL_NCCL));
  /* Two PCIe 4 GPUs without P2P, 1 MB: Simple 7.07 + 1.8 us + 0.5 x 1e6 B /
   * 1.99 GB/s = 260.13 us; the same bytes over P2P PCIe 4 (25.9 GB/s, LL
   * floor 8 us): 8 + 1.8 + 0.5e6 / 25.9e3 us = 29.10 us. */
  CS_ASSERT_REL(net_alltoall_s(cs_link("pcie4-host"), 2, 1e6), (8.87 + 0.5e6 / 1.99e3) * 1e-6, 1e-12);
  CS_ASSERT_REL(net_alltoall_s(cs_link("pcie4"), 2, 1e6), (9.8 + 0.5e6 / 25.9e3) * 1e-6, 1e-12);
  CU_ASSERT_EQUAL(net_alltoall_s(nv, 1, bytes), 0);
  CU_ASSERT_EQUAL(net_alltoall_s(nv, 8, 0), 0);
  /* all-gather and reduce-scatter: n-1 steps, (n-1)/n of the buffer. */
  CS_ASSERT_REL(net_collective_s(cs_link("nvlink4-bridge"), NET_ALLGATHER, 2, 1e9, NET_IMPL_NCCL),
                (8 + 1.8 + 0.5e9 / 116e3) * 1e-6, 1e-12);
  CU_ASSERT_EQUAL(net_collective_s(nv, NET_REDUCE_SCATTER, 8, 1e8, NET_IMPL_NCCL),
                  net_collective_s(nv, NET_ALLGATHER, 8, 1e8, NET_IMPL_NCCL));
}

/* All-gather and reduce-scatter against their published rows, by hand.
 * C48, 64 B all-gather on 4 H100s: LL floor 7.41 + (3 - 2) steps x 0.6 us
 * = 8.01 us, wire 3/4 x 64 = 48 B at 370 GB/s x 1/3 (LL's share outside
 * all-reduce): 8.0104 us (LL128: 7.41 + 7.4 + 1.9 = 16.71 us; Simple:
 * 7.41 + 1.8 + 3.4 = 12.61 us). C74, 8 GiB ring reduce-scatter on 8 H100s:
 * Simple floor 7.41 + 1.8 + (7 - 2) x 3.4 = 26.21 us, wire 7/8 x 2^33 =
 * 7,516,192,768 B at 370 GB/s = 20,314.03 us; 20,340.24 us against 20,754
 * published (-2.0%). NCCL's tuner runs the ring, not NVLS, for both (NVLS
 * sends more per GPU: NVIDIA/nccl #1083, #1670), so "nccl" = "nccl-ring". */
static void test_allgather_reduce_scatter_by_hand(void)
{
  const net_link *nv = cs_link("nvlink4");
  CS_ASSERT_REL(net_collective_s(nv, NET_ALLGATHER, 4, 64, NET_IMPL_NCCL), (8.01 + 48 / (370e3 / 3)) * 1e-6, 1e-12);
  CS_ASSERT_REL(net_collective_s(nv, NET_REDUCE_SCATTER, 4, 64, NET_IMPL_NCCL),
                net_collective_s(nv, NET_ALLGATHER, 4, 64, NET_IMPL_NCCL), 1e-15);
  double big = 8589934592.0;
  CS_ASSERT_REL(net_collective_s(nv, NET_REDUCE_SCATTER, 8, big, NET_IMPL_NCCL_RING),
                (26.21 + 0.875 * big / 370e3) * 1e-6, 1e-12);
  for (double b = 64; b <= big; b *= 16)
    for (int n = 2; n <= 8; n *= 2) {
      CU_ASSERT_EQUAL(net_collective_s(nv, NET_ALLGATHER, n, b, NET_IMPL_NCCL),
                      net_collective_s(nv, NET_ALLGATHER, n, b, NET_IMPL_NCCL_RING));
      CU_ASSERT_EQUAL(net_collective_s(nv, NET_REDUCE_SCATTER, n, b, NET_IMPL_NCCL),
                      net_collective_s(nv, NET_REDUCE_SCATTER, n, b, NET_IMPL_NCCL_RING));
    }
  /* The control (README): on the box of C48-C71 the 64 B all-gather,
   * reduce-scatter and all-reduce all sit 13.0-15.0 us above the model
   * (22.54 - 8.01, 21.57 - 8.01, 23.34 - 9.81 us = 14.53, 13.56, 13.53):
   * the box's floor, shared by the all-reduce, not a step-count error of
   * the all-gather / reduce-scatter model (one step, as all-to-all, would
   * give 15.13 us for C48). */
  static const char *const ids[] = {"C48", "C56", "C64"};
  for (size_t k = 0; k < 3; k++)
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
      const point *p = &points[i];
      if (strcmp(p->id, ids[k])) continue;
      double gap = p->time_us - net_collective_s(cs_link(p->link), p->kind, p->n, p->bytes, p->impl) * 1e6;
      CHECK(gap >= 13.0 && gap <= 15.0, "%s: published - predicted = %.2f us, not within 13-15 us", p->id, gap);
    }
}

/* A link without collective keys (a user's, or a network port) gets the
 * documented defaults: floor 6 us + 2 x latency, hop = latency, busbw =
 * bw_gbs x efficiency, P2P, no switch, no custom all-reduce. */
static void test_defaults(void)
{
  net_link l = {.name = "mine", .bw_gbs = 100, .latency_us = 10, .efficiency = 0.5, .p2p = true};
  CS_ASSERT_REL(net_coll_lat_s(&l), 26e-6, 1e-12);
  CS_ASSERT_REL(net_coll_hop_s(&l), 10e-6, 1e-12);
  CS_ASSERT_REL(net_coll_busbw(&l, 8), 50e9, 1e-12);
  CU_ASSERT_EQUAL(net_nvls_busbw(&l, 8), 0);
  CU_ASSERT_EQUAL(net_collective_s(&l, NET_ALLREDUCE, 8, 1e6, NET_IMPL_CUSTOM),
                  net_collective_s(&l, NET_ALLREDUCE, 8, 1e6, NET_IMPL_NCCL));
  CU_ASSERT_EQUAL(net_collective_s(&l, NET_ALLREDUCE, 1, 1e6, NET_IMPL_NCCL), 0);
  CU_ASSERT_STRING_EQUAL(net_impl_names[NET_IMPL_NCCL], "nccl");
  CU_ASSERT_STRING_EQUAL(net_impl_names[NET_IMPL_NCCL_RING], "nccl-ring");
  CU_ASSERT_STRING_EQUAL(net_impl_names[NET_IMPL_ONESHOT], "oneshot");
  CU_ASSERT_STRING_EQUAL(net_impl_names[NET_IMPL_TWOSHOT], "twoshot");
  CU_ASSERT_STRING_EQUAL(net_impl_names[NET_IMPL_CUSTOM], "custom");
  CU_ASSERT_PTR_NULL(net_impl_names[NET_IMPL_CUSTOM + 1]);
  CU_ASSERT_EQUAL(net_collective_s(&l, NET_ALLREDUCE, 8, 0, NET_IMPL_NCCL), 0);
  /* 2 GPUs, 1 GB, Simple: 26 + 1.8 us + 1e9 / 50 GB/s. */
  CS_ASSERT_REL(net_collective_s(&l, NET_ALLREDUCE, 2, 1e9, NET_IMPL_NCCL), 27.8e-6 + 0.02, 1e-12);
  /* nvlink5 has no custom rows: nvlink4's fitted floor and read share,
   * 9.35 us and 0.185 x 698 GB/s. */
  CS_ASSERT_REL(net_custom_lat_s(cs_link("nvlink5")), 9.35e-6, 1e-12);
  CS_ASSERT_REL(net_custom_bw(cs_link("nvlink5")), 0.185 * 698e9, 1e-12);
  const net_link *ib = cs_link("ib-ndr");
  CU_ASSERT_TRUE(ib->p2p && !ib->nvswitch && !ib->custom_allreduce);
  CS_ASSERT_REL(net_coll_busbw(ib, 16), 50e9 * 0.94, 1e-12);
}

/* collective.c's alpha-beta model keeps today's numbers on the shipped
 * links (training and the `ideal` stack use it), by hand. nvlink3: 300 GB/s
 * x 0.77 = 231 GB/s, alpha 1 us, base 6 us. */
static void test_alpha_beta_unchanged(void)
{
  const net_link *nv3 = cs_link("nvlink3"), *p4 = cs_link("pcie4"), *ib = cs_link("ib-hdr");
  CS_ASSERT_REL(net_allreduce_s(nv3, 8, 1e9, NET_RING), 6e-6 + 14e-6 + 1.75e9 / 231e9, 1e-12);
  CS_ASSERT_REL(net_allreduce_s(nv3, 8, 1e9, NET_TREE), 6e-6 + 6e-6 + 2e9 / 231e9, 1e-12);
  CS_ASSERT_REL(net_allreduce_s(nv3, 8, 1e3, NET_BEST), 6e-6 + 6e-6 + 2e3 / 231e9, 1e-12);
  /* pcie4: 31.5 GB/s x 0.8 = 25.2 GB/s. */
  CS_ASSERT_REL(net_allgather_s(p4, 4, 1e6), 6e-6 + 3e-6 + 0.75e6 / 25.2e9, 1e-12);
  CS_ASSERT_REL(net_reduce_scatter_s(p4, 4, 1e6), 6e-6 + 3e-6 + 0.75e6 / 25.2e9, 1e-12);
  CS_ASSERT_REL(net_p2p_s(p4, 1e6), 1e-6 + 1e6 / 25.2e9, 1e-12);
  /* ib-hdr 25 GB/s x 0.96 = 24 GB/s, alpha 2 us; spread over 8 ports under
   * nvlink3: min(231, 192) GB/s. */
  net_link s = net_link_spread(nv3, ib, 8);
  CS_ASSERT_REL(net_bw(&s), 192e9, 1e-12);
  CS_ASSERT_REL(net_allreduce_s(&s, 16, 1e9, NET_RING), 6e-6 + 30 * 2e-6 + 2.0 * 15 / 16 * 1e9 / 192e9, 1e-12);
  /* The new links price the link itself in the alpha-beta model, as pcie4. */
  CU_ASSERT_EQUAL(net_allreduce_s(cs_link("pcie4-host"), 2, 1e6, NET_BEST), net_allreduce_s(p4, 2, 1e6, NET_BEST));
}

/* The new keys are checked: custom all-reduce needs P2P, NVLS a switch. */
static void test_catalog_checks(void)
{
  char *dir = cs_tmpdir("collective");
  char path[4096];
  snprintf(path, sizeof path, "%s/bad_links.cfg", dir);
  FILE *f = fopen(path, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs("links = (\n"
        "  { name = \"pcie4\"; custom_allreduce = true; p2p = false; },\n"
        "  { name = \"nvlink3\"; nvls_busbw_gbs = 400.0; nvswitch = false; }\n"
        ");\n",
        f);
  fclose(f);
  result r = run_in(NULL, "list", "links", "--catalog", path, (const char *)NULL);
  CHECK(r.rc == 2, "%s: status %d", r.cmd, r.rc);
  CHECK(strstr(r.err, "custom_allreduce: needs p2p = true") != NULL, "%s: stderr %s", r.cmd, r.err);
  CHECK(strstr(r.err, "nvls_busbw_gbs: needs nvswitch = true") != NULL, "%s: stderr %s", r.cmd, r.err);
  result_free(&r);
  r = run_in(NULL, "list", "links", (const char *)NULL);
  CHECK(r.rc == 0 && strstr(r.out, "pcie4-host") && strstr(r.out, "pcie5-host") && strstr(r.out, "nvlink4-bridge"),
        "%s: status %d, out %s", r.cmd, r.rc, r.out);
  result_free(&r);
  free(dir);
}

int main(int argc, char **argv)
{
  static const cs_test tests[] = {
    {"published_points", test_published_points},
    {"pcie_curve_by_hand", test_pcie_curve_by_hand},
    {"monotone", test_monotone},
    {"custom_where_engines_use_it", test_custom_where_engines_use_it},
    {"alltoall_by_hand", test_alltoall_by_hand},
    {"allgather_reduce_scatter_by_hand", test_allgather_reduce_scatter_by_hand},
    {"defaults", test_defaults},
    {"alpha_beta_unchanged", test_alpha_beta_unchanged},
    {"catalog_checks", test_catalog_checks},
    {NULL, NULL},
  };
  int rc = cs_run_suite_filtered("collective", tests, argc, argv);
  cs_catalogs_free();
  return rc;
}
