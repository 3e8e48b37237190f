/* tests/unit/test_torus.c: collectives on a torus link (TPU ICI,
 * models/interconnect/collective.c) against closed forms written out by
 * hand, one published figure (the JAX scaling book's all-gather on a TPU v4
 * cube), the group shapes, the catalog checks of torus_dims / torus_wrap,
 * the new accelerators' entries, and estimate --train on tpu-v5p (runs, its
 * data-parallel traffic stays on the ICI, a plausible MFU). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/gpu/gpu.h"
#include "models/interconnect/net.h"
#include "cattest.h"
#include "clitest.h"
#include "testutil.h"

/* Launch cost of every collective (collective.c's NET_COLLECTIVE_BASE_S). */
#define BASE 6e-6

static void test_shapes(void)
{
  int d[3];
  CU_ASSERT_EQUAL(net_torus_shape(64, 3, d), 3);
  CU_ASSERT(d[0] == 4 && d[1] == 4 && d[2] == 4);
  CU_ASSERT_EQUAL(net_torus_shape(256, 2, d), 2);
  CU_ASSERT(d[0] == 16 && d[1] == 16 && d[2] == 1);
  net_torus_shape(8, 3, d);
  CU_ASSERT(d[0] == 2 && d[1] == 2 && d[2] == 2);
  net_torus_shape(8, 2, d);
  CU_ASSERT(d[0] == 4 && d[1] == 2);
  /* 16 = 4x4x1 or 4x2x2: the same longest axis, the larger shortest one */
  net_torus_shape(16, 3, d);
  CU_ASSERT(d[0] == 4 && d[1] == 2 && d[2] == 2);
  net_torus_shape(12, 3, d);
  CU_ASSERT(d[0] == 3 && d[1] == 2 && d[2] == 2);
  net_torus_shape(6144, 3, d); /* v5p's largest slice, 16x16x24 */
  CU_ASSERT(d[0] == 24 && d[1] == 16 && d[2] == 16);
  CU_ASSERT_EQUAL(net_torus_shape(7, 3, d), 1); /* a prime: one line */
  CU_ASSERT(d[0] == 7 && d[1] == 1 && d[2] == 1);
}

/* ici-v5p: 600 GB/s per direction over 6 links, efficiency 0.85: one link
 * 600e9 x 0.85 / 6 = 85e9 B/s, latency 1 us. 64 chips = a 4x4x4 cube, every
 * axis wraps (4 is a multiple of torus_wrap 4): a chip injects over 3 axes
 * x 2 directions = 510e9 B/s; floor(4/2) = 2 ring steps per axis. */
static void test_v5p_cube_by_hand(void)
{
  const net_link *l = cs_link("ici-v5p");
  CU_ASSERT_EQUAL(l->torus_dims, 3);
  double S = 1e9, link = 600e9 * 0.85 / 6, inject = 3 * 2 * link;
  int d[3] = {4, 4, 4};
  CS_ASSERT_REL(net_torus_inject_bw(l, d, 3), 510e9, 1e-12);
  /* all-gather, reduce-scatter: (n-1)/n x S / inject, bandwidth-bound (6 us of steps) */
  double ag = BASE + 63.0 / 64 * S / inject;
  CS_ASSERT_REL(net_allgather_s(l, 64, S), ag, 1e-12);
  CS_ASSERT_REL(net_reduce_scatter_s(l, 64, S), ag, 1e-12);
  /* all-reduce = reduce-scatter + all-gather: 2 x (n-1)/n x S / inject, the
   * same for every algorithm (no ring / tree choice on a torus) */
  double ar = BASE + 2 * 63.0 / 64 * S / inject;
  CS_ASSERT_REL(net_allreduce_s(l, 64, S, NET_RING), ar, 1e-12);
  CS_ASSERT_REL(net_allreduce_s(l, 64, S, NET_BEST), ar, 1e-12);
  /* the measured (NCCL) entry point takes the same torus cost */
  CS_ASSERT_REL(net_collective_s(l, NET_ALLREDUCE, 64, S, NET_IMPL_CUSTOM), ar, 1e-12);
  CS_ASSERT_REL(net_collective_s(l, NET_ALLGATHER, 64, S, NET_IMPL_NCCL), ag, 1e-12);
  /* all-to-all: the bisection across a 4-long wrapped axis, S x 4 / (8 x link)
   * = 1.47 S / 1e12 s, above the injection bound 0.193 x S / 1e11 */
  double a2a = BASE + S * 4 / (8 * link);
  CS_ASSERT_REL(net_alltoall_s(l, 64, S), a2a, 1e-12);
  CU_ASSERT(a2a - BASE > 63.0 / 64 * S / inject);
  /* a neighbour: one link */
  CS_ASSERT_REL(net_p2p_s(l, S), 1e-6 + S / link, 1e-12);
  /* small buffers are latency-bound: 2 steps on each of 3 axes (x 2 for all-reduce) */
  CS_ASSERT_REL(net_allgather_s(l, 64, 64), BASE + 6e-6, 1e-12);
  CS_ASSERT_REL(net_allreduce_s(l, 64, 64, NET_BEST), BASE + 12e-6, 1e-12);
  CU_ASSERT_EQUAL(net_allreduce_s(l, 1, S, NET_BEST), 0);
}

/* ici-v5e: 200 GB/s over 4 ports, 0.85: one link 42.5e9 B/s. The brief's
 * 2-D form: all-reduce = 2 x (n-1)/n x S / (sum over axes of directions x
 * link). A full 16x16 pod wraps on both axes (16 is a multiple of
 * torus_wrap 16): 2 x 255/256 x S / (4 x 42.5e9). 8 chips = 4x2, neither
 * axis wraps: 2 x 7/8 x S / (2 x 42.5e9), half the injection bandwidth per
 * axis, as the scaling book's v5e 8x4 exercise (no wraparound below 16). */
static void test_v5e_2d_by_hand(void)
{
  const net_link *l = cs_link("ici-v5e");
  CU_ASSERT_EQUAL(l->torus_dims, 2);
  double S = 1e9, link = 200e9 * 0.85 / 4;
  CS_ASSERT_REL(net_allreduce_s(l, 256, S, NET_RING), BASE + 2 * 255.0 / 256 * S / (4 * link), 1e-12);
  CS_ASSERT_REL(net_allreduce_s(l, 8, S, NET_RING), BASE + 2 * 7.0 / 8 * S / (2 * link), 1e-12);
  /* latency: lines of 4 and 2 take 3 + 1 steps, twice for all-reduce */
  CS_ASSERT_REL(net_allreduce_s(l, 8, 8, NET_RING), BASE + 8e-6, 1e-12);
  /* all-to-all on the 4x2 mesh: the 4-long line's single cut, S x 4 / (4 x link) */
  CS_ASSERT_REL(net_alltoall_s(l, 8, S), BASE + S * 4 / (4 * link), 1e-12);
}

/* Published: Austin et al., "How to Scale Your Model" (jax-ml/scaling-book,
 * sharding chapter, question 2): on a TPU v4p 4x4x4 cube an all-gather over
 * two wrapped axes of a 2 x 1024 x 4096-byte array takes V / (2 x 9e10) =
 * 46 us. Our 16-chip group (4x2x2: one wrapped axis and two lines) also
 * injects over 4 link directions; the book leaves out (n-1)/n. */
static void test_scaling_book_allgather(void)
{
  net_link l = {.name = "v4p-ideal", .scope = NET_SCOPE_NODE, .bw_gbs = 6 * 45.0, .latency_us = 1.0,
                .efficiency = 1.0, .torus_dims = 3, .torus_wrap = 4, .p2p = true};
  double V = 2.0 * 1024 * 4096;
  double book = V / (2 * 9e10);
  CS_ASSERT_REL(book, 46.6e-6, 0.01);
  CS_ASSERT_REL(net_allgather_s(&l, 16, V), BASE + 15.0 / 16 * book, 1e-12);
  /* the shipped ici-v4 is that link at 0.85 efficiency */
  CS_ASSERT_REL(net_allgather_s(cs_link("ici-v4"), 16, V), BASE + 15.0 / 16 * book / 0.85, 1e-12);
}

/* Switched links keep their numbers (torus_dims 0): nvlink4 p2p is the whole link. */
static void test_switched_unchanged(void)
{
  const net_link *nv = cs_link("nvlink4");
  CU_ASSERT_EQUAL(nv->torus_dims, 0);
  CS_ASSERT_REL(net_p2p_s(nv, 1e9), 1e-6 + 1e9 / (450e9 * 0.82), 1e-12);
  CS_ASSERT_REL(net_allgather_s(nv, 8, 1e9), BASE + 7e-6 + 7.0 / 8 * 1e9 / (450e9 * 0.82), 1e-12);
}

/* The accelerators of issue 15 by their contract names, with torus or RoCE
 * scale-up links and slice sizes; their sources are checked for every
 * shipped entry by test_catalog (shipped_sources_required). */
static void test_catalog_entries(void)
{
  static const char *const names[] = {"tpu-v4", "tpu-v5e", "tpu-v5p", "gaudi2", "gaudi3", "h800", NULL};
  for (int i = 0; names[i]; i++) {
    const gpu_spec *g = cs_gpu(names[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g->scaleup_link);
    CU_ASSERT(g->peak_tflops[GPU_BF16] > 0 && g->mem_gib > 0 && g->mem_bw_gbs > 0 && g->tdp_w > 0);
    CU_ASSERT(g->price_usd_per_hour > 0 && g->price_date && *g->price_date);
    CU_ASSERT(g->source && strlen(g->source) > 40);
  }
  CU_ASSERT_EQUAL(cs_gpu("tpu-v4")->scaleup_link->torus_dims, 3);
  CU_ASSERT_EQUAL(cs_gpu("tpu-v5p")->scaleup_link->torus_dims, 3);
  CU_ASSERT_EQUAL(cs_gpu("tpu-v5e")->scaleup_link->torus_dims, 2);
  CU_ASSERT_EQUAL(cs_gpu("tpu-v5e")->scaleup_gpus, 256);
  CU_ASSERT_EQUAL(cs_gpu("tpu-v5p")->scaleup_gpus, 6144);
  CU_ASSERT_EQUAL(cs_gpu("h100-sxm")->scaleup_gpus, 8); /* the default: earlier entries unchanged */
  CU_ASSERT_STRING_EQUAL(cs_gpu("gaudi2")->scaleup_link->name, "gaudi2-roce");
  CU_ASSERT_STRING_EQUAL(cs_gpu("h800")->scaleup_link->name, "nvlink4-h800");
  /* the published peaks, per chip (Google Cloud TPU docs; Intel Hot Chips 2024) */
  CS_ASSERT_REL(cs_gpu("tpu-v5p")->peak_tflops[GPU_BF16], 459, 1e-12);
  CS_ASSERT_REL(cs_gpu("tpu-v5e")->peak_tflops[GPU_BF16], 197, 1e-12);
  CS_ASSERT_REL(cs_gpu("tpu-v4")->peak_tflops[GPU_BF16], 275, 1e-12);
  CS_ASSERT_REL(cs_gpu("gaudi2")->peak_tflops[GPU_BF16], 432, 1e-12);
}

static void test_catalog_checks(void)
{
  char *dir = cs_tmpdir("torus");
  char *path = cs_write_file(dir, "bad_torus.cfg",
                             "links = (\n"
                             "  { name = \"nvlink3\"; torus_wrap = 4; },\n"
                             "  { name = \"ici-v5e\"; torus_dims = 1; }\n"
                             ");\n");
  result r = run_in(NULL, "list", "links", "--catalog", path, (const char *)NULL);
  CHECK(r.rc == 2, "%s: status %d", r.cmd, r.rc);
  CHECK_ERR_HAS(r, "torus_wrap: needs torus_dims 2 or 3");
  CHECK_ERR_HAS(r, "torus_dims: 1 is a ring, not modelled (expected 0, 2 or 3)");
  result_free(&r);
  free(path);
  cs_rm_rf(dir);
  free(dir);
}

/* estimate --train on 512 TPU v5p (an 8x8x8 slice, scaleup_gpus 6144 >=
 * 512): tp 8 and dp 64 both stay on the ICI (not the default network), and
 * the MFU is in the range published for large dense models on TPU v5p
 * (MaxText reports about 0.5-0.65; the model's 0.70 GEMM default caps it). */
static void test_estimate_train_v5p(void)
{
  result r = RUN("estimate", "--train", "--gpu", "tpu-v5p", "--model", "llama2-70b", "--gpus", "512", "--tp", "8",
                 "--zero", "1", "--dp", "64", "--seq-len", "4096", "--global-batch", "1024", "--json");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "\"dp_link\": \"ici-v5p\"");
  CHECK_OUT_HAS(r, "\"tp_link\": \"ici-v5p\"");
  double mfu = NAN, dp = NAN, tp_comm = NAN;
  CU_ASSERT_TRUE(json_num(r.out, "mfu", &mfu));
  CU_ASSERT_TRUE(json_num(r.out, "dp", &dp));
  CU_ASSERT_TRUE(json_num(r.out, "tp_comm_s", &tp_comm));
  CHECK(mfu > 0.3 && mfu < 0.7, "mfu %g outside 0.3-0.7", mfu);
  CU_ASSERT_EQUAL(dp, 64);
  CU_ASSERT(tp_comm > 0);
  result_free(&r);
  /* the same on 8 nodes of 8 H100 goes over InfiniBand for dp: the default
   * --gpus-per-node stays 8 for GPUs */
  r = RUN("estimate", "--train", "--gpu", "h100-sxm", "--model", "llama2-7b", "--gpus", "64", "--tp", "2", "--json");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "\"dp_link\": \"ib-ndr\"");
  result_free(&r);
}

/* Serving-side estimate on a v5e host (4 chips, tp 4 over the 2-D ICI). */
static void test_estimate_serving_v5e(void)
{
  result r = RUN("estimate", "--gpu", "tpu-v5e", "--model", "llama2-7b", "--tp", "4", "--dtype", "bf16", "--json");
  CHECK_RC(r, 0);
  result_free(&r);
}

/* A serving pool of TPU v5e (4-chip hosts, tp 4 over the 2-D ICI) runs and
 * serves its requests: the pool's collectives take the torus path. */
static void test_serving_pool_v5e(void)
{
  char *dir = cs_tmpdir("torus_serving");
  char *cfg = cs_write_file(dir, "v5e.cfg",
                            "name = \"v5e\"; seed = 1; warmup_s = 10.0;\n"
                            "model = { name = \"llama2-7b\"; precision = \"bf16\"; };\n"
                            "cluster = { pools = ( { gpu = \"tpu-v5e\"; replicas = 2; tp = 4; gpus_per_node = 8; } ); };\n"
                            "workload = { arrivals = { rate = 2.0; };\n"
                            "  prompt_tokens = { dist = \"fixed\"; value = 512.0; };\n"
                            "  output_tokens = { dist = \"fixed\"; value = 64.0; };\n"
                            "  duration_s = 60.0; };\n"
                            "scheduler = { policy = \"continuous\"; };\n");
  static const char *const none[] = {NULL};
  char *json = cs_run_summary(__FILE__, __LINE__, dir, cfg, "out", none);
  if (json) {
    double done = cs_summary_num(__FILE__, __LINE__, json, "requests_completed");
    double tpot = cs_summary_num(__FILE__, __LINE__, json, "tpot_p50_s");
    CHECK(done > 60, "requests_completed %g (about 2/s for 60 s expected)", done);
    /* a decode step reads 13.5 GB of weights over 4 chips at 819 GB/s x 0.75: >= 5.5 ms */
    CHECK(tpot > 5.4e-3 && tpot < 0.1, "tpot_p50_s %g", tpot);
    free(json);
  }
  free(cfg);
  cs_rm_rf(dir);
  free(dir);
}

int main(int argc, char **argv)
{
  static const cs_test tests[] = {
    {"shapes", test_shapes},
    {"v5p_cube_by_hand", test_v5p_cube_by_hand},
    {"v5e_2d_by_hand", test_v5e_2d_by_hand},
    {"scaling_book_allgather", test_scaling_book_allgather},
    {"switched_unchanged", test_switched_unchanged},
    {"catalog_entries", test_catalog_entries},
    {"catalog_checks", test_catalog_checks},
    {"estimate_train_v5p", test_estimate_train_v5p},
    {"estimate_serving_v5e", test_estimate_serving_v5e},
    {"serving_pool_v5e", test_serving_pool_v5e},
    {NULL, NULL},
  };
  int rc = cs_run_suite_filtered("torus", tests, argc, argv);
  cs_catalogs_free();
  return rc;
}
