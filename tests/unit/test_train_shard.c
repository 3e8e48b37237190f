/* tests/unit/test_train_shard.c: ZeRO's shard group (dp_shard: HSDP,
 * MiCS, Megatron's distributed-optimizer instances). Memory divides the
 * sharded state by the group, not by dp; the gradient traffic by hand
 * (reduce-scatter and gather inside the group on its link, the shard's
 * all-reduce across the replicas on one port each); a group of all the
 * ranks is exactly the job without one; with expert parallelism (the
 * experts over the group's ranks that hold them); the link accounting; refusals
 * through the program with file:line. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/interconnect/net.h"
#include "models/training/train.h"
#include "sim/catalog.h"
#include "cattest.h"
#include "clitest.h"
#include "testutil.h"

static const gpu_spec *gpu(const char *n) { return sim_catalog_find(cs_catalogs(), "gpus", n); }
static const llm_arch *model(const char *n) { return sim_catalog_find(cs_catalogs(), "models", n); }
static const net_link *link_(const char *n) { return sim_catalog_find(cs_catalogs(), "links", n); }

/* Llama 2 7B on `gpus` H100 (8 per node, 8 ports), dp only, no overlap. */
static void job(train_job *j, int gpus, int zero, int shard)
{
  train_job_init(j, model("llama2-7b"), gpu("h100-sxm"));
  j->dp = gpus;
  j->global_batch = gpus;
  j->seq_len = 4096;
  j->zero = zero;
  j->dp_shard = shard;
  j->dp_overlap = 0;
  j->recompute = LLM_RECOMPUTE_FULL;
  j->net_link = link_("ib-ndr");
}

/* 16, 12 or 2 bytes per parameter: weights (2) / S at ZeRO 3, gradients
 * (4, reduced in fp32) / S at ZeRO 2+, Adam's 12 / S at ZeRO 1+. */
static void test_memory(void)
{
  for (int zero = 1; zero <= 3; zero++)
    for (int shard = 0; shard <= 16; shard += 8) {
      train_job j;
      job(&j, 64, zero, shard);
      char why[256];
      CU_ASSERT_PTR_NULL_FATAL(train_job_check(&j, why, sizeof why));
      train_memory mem;
      train_memory_need(&j, &mem);
      double p = llm_params(j.model), S = shard ? shard : 64;
      CS_ASSERT_REL(mem.weights, 2 * p / (zero >= 3 ? S : 1), 1e-12);
      CS_ASSERT_REL(mem.grads, 4 * p / (zero >= 2 ? S : 1), 1e-12);
      CS_ASSERT_REL(mem.optimizer, 12 * p / S, 1e-12);
      CU_ASSERT_EQUAL(train_shard_ranks(&j), (int)S);
    }
}

/* A shard group of every rank is the job without one, to the last bit. */
static void test_all_ranks_is_none(void)
{
  for (int zero = 0; zero <= 3; zero++) {
    train_job a, b;
    job(&a, 32, zero, 0);
    job(&b, 32, zero, 32);
    train_step_result ra, rb;
    train_step(&a, &ra);
    train_step(&b, &rb);
    CU_ASSERT_DOUBLE_EQUAL(ra.iteration_s, rb.iteration_s, 0);
    CU_ASSERT_DOUBLE_EQUAL(ra.dp_comm_s, rb.dp_comm_s, 0);
    CU_ASSERT_DOUBLE_EQUAL(ra.link_net_busy_s, rb.link_net_busy_s, 0);
    CU_ASSERT_DOUBLE_EQUAL(ra.mem.total, rb.mem.total, 0);
  }
}

/* ZeRO 1 on 16 GPUs (2 nodes), a shard group of 8 (a node): the
 * reduce-scatter of the fp32 gradients and the gather of the 16-bit
 * weights over NVLink among 8, the shard's all-reduce between the 2
 * replicas on one port each; nothing overlaps (dp_overlap 0). With 32
 * GPUs and groups of 16 the replicas sit 16 GPUs apart, still one port
 * each (not half of one). Only the all-reduce is on the network when the
 * group is a node. */
static void test_traffic_by_hand(void)
{
  static const int cases[][2] = {{16, 8}, {32, 16}, {64, 8}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int gpus = cases[i][0], S = cases[i][1], R = gpus / S;
    train_job j;
    job(&j, gpus, 1, S);
    train_step_result r;
    train_step(&j, &r);
    double p = llm_params(j.model), bytes = 4 * p;
    net_link port = net_link_spread(j.node_link, j.net_link, 1);  /* one port */
    net_link in_group = S <= 8 ? *j.node_link : net_link_spread(j.node_link, j.net_link, 8);  /* the node's 8 */
    double ar = net_allreduce_s(&port, R, bytes / S, NET_RING);
    double want = net_reduce_scatter_s(&in_group, S, bytes) + ar + net_allgather_s(&in_group, S, 2 * p);
    CS_CHECK_REL(r.dp_comm_s, want, 1e-12, "gradient traffic");
    CS_CHECK_REL(r.dp_exposed_s, want, 1e-12, "all exposed without overlap");
    if (S <= 8) CS_CHECK_REL(r.link_net_busy_s, ar, 1e-12, "network: the replicas' all-reduce only");
    else CS_CHECK_REL(r.link_net_busy_s, want, 1e-12, "network: all of it");
  }
}

/* FSDP / ZeRO 3 inside a node (HSDP, S = 8) on 4 nodes, one micro-batch:
 * the per-layer gathers and reduce-scatters stay on NVLink and only the
 * shards' all-reduce between the 4 replicas leaves the node, less than
 * FULL_SHARD over all 32 ranks sends; memory pays 4x the sharded state. */
static void test_hsdp(void)
{
  train_job full, hsdp;
  job(&full, 32, 3, 0);
  job(&hsdp, 32, 3, 8);
  train_step_result a, b;
  train_step(&full, &a);
  train_step(&hsdp, &b);
  /* FULL_SHARD's ring runs on the node's 8 ports; HSDP sends each GPU's
   * eighth of the gradients once through its own port */
  CHECK(b.link_net_busy_s > 0 && b.link_net_busy_s < 0.8 * a.link_net_busy_s, "HSDP on the network %g s, FULL_SHARD %g s",
        b.link_net_busy_s, a.link_net_busy_s);
  /* on the network: each layer's all-reduce of its eighth (FSDP's unit),
   * and the rest's (embeddings, head), between the 4 replicas */
  double p = llm_params(hsdp.model), layer = llm_layer_params(hsdp.model), L = (double)hsdp.model->layers;
  net_link port = net_link_spread(hsdp.node_link, hsdp.net_link, 1);
  double want = L * net_allreduce_s(&port, 4, 4 * layer / 8, NET_RING) +
                net_allreduce_s(&port, 4, 4 * (p - L * layer) / 8, NET_RING);
  CS_CHECK_REL(b.link_net_busy_s, want, 1e-12, "network: the replicas' all-reduces of each GPU's eighth");
  CU_ASSERT_TRUE(b.mem.weights > 3.99 * a.mem.weights);
}

/* With cp: the shard group is of the dp x cp ranks. */
static void test_cp(void)
{
  train_job j;
  job(&j, 64, 1, 8);
  j.dp = 32;
  j.cp = 2;
  j.global_batch = 32;
  j.seq_len = 8192;
  char why[256];
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&j, why, sizeof why));
  train_memory mem;
  train_memory_need(&j, &mem);
  CS_ASSERT_REL(mem.optimizer, 12 * llm_params(j.model) / 8, 1e-12);
  j.dp_shard = 64;  /* all dp x cp ranks */
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  train_memory_need(&j, &mem);
  CS_ASSERT_REL(mem.optimizer, 12 * llm_params(j.model) / 64, 1e-12);
}

/* FSDP with context parallelism (torchtitan): the weights shard over the
 * dp x cp ranks; per micro-batch each layer's weights are gathered twice
 * (forward, backward) and its fp32 gradients reduce-scattered over all 16
 * (2 nodes: the nodes' 8 ports), and so are the rest's (embeddings and
 * head); with a shard group of 8 (a node) the gathers stay on NVLink and
 * each shard's gradients are all-reduced between the 2 replicas. */
static void test_fsdp_cp(void)
{
  for (int shard = 0; shard <= 8; shard += 8) {
    train_job j;
    job(&j, 16, 3, shard);
    j.dp = 8;
    j.cp = 2;
    j.global_batch = 8;
    j.seq_len = 8192;
    char why[256];
    CU_ASSERT_PTR_NULL_FATAL(train_job_check(&j, why, sizeof why));
    train_memory mem;
    train_memory_need(&j, &mem);
    double p = llm_params(j.model), layer = llm_layer_params(j.model), L = (double)j.model->layers;
    int S = shard ? shard : 16;
    CS_ASSERT_REL(mem.weights, 2 * p / S, 1e-12);
    train_step_result r;
    train_step(&j, &r);
    net_link in = S == 16 ? net_link_spread(j.node_link, j.net_link, 8) : *j.node_link;
    net_link port = net_link_spread(j.node_link, j.net_link, 1);
    double rest = p - L * layer;
    double ar = S < 16 ? L * net_allreduce_s(&port, 2, 4 * layer / S, NET_RING) +
                             net_allreduce_s(&port, 2, 4 * rest / S, NET_RING)
                       : 0;
    double want = L * (2 * net_allgather_s(&in, S, 2 * layer) + net_reduce_scatter_s(&in, S, 4 * layer)) +
                  2 * net_allgather_s(&in, S, 2 * rest) + net_reduce_scatter_s(&in, S, 4 * rest) + ar;
    CS_CHECK_REL(r.dp_comm_s, want, 1e-12, "FSDP traffic over dp x cp");
    CU_ASSERT_TRUE(r.cp_comm_s > 0);
  }
}

/* An MoE model on 16 H100 (two nodes, ib-ndr), dp 16, ZeRO 3, expert
 * parallelism ep, shard group `shard` (0: every rank), full recomputation,
 * no overlap, 16 sequences of 4,096 tokens. */
static void moe_job(train_job *j, const char *name, int ep, int shard)
{
  train_job_init(j, model(name), gpu("h100-sxm"));
  CU_ASSERT_PTR_NOT_NULL_FATAL(j->model);
  j->dp = 16;
  j->ep = ep;
  j->dp_shard = shard;
  j->zero = 3;
  j->global_batch = 16;
  j->seq_len = 4096;
  j->dp_overlap = 0;
  j->recompute = LLM_RECOMPUTE_FULL;
  j->net_link = link_("ib-ndr");
}

/* FSDP with expert parallelism (torchtitan's FSDP2 + EP) on 16 H100 (2
 * nodes), ep 8, one micro-batch: Mixtral 8x7B (every layer MoE) and
 * DeepSeek-V3 (3 leading dense layers). From the memory model: the GPU's
 * routed experts (an eighth) and its other parameters, of which the
 * embeddings and head (pp 1) are the root unit and the rest the layers'
 * dense part. Per layer, the dense part is gathered twice and
 * reduce-scattered over all 16 ranks (the nodes' 8 ports), the experts
 * over their 2 replicas, 8 GPUs apart (one port each); then the root. */
static void test_fsdp_ep(void)
{
  static const char *const models[] = {"mixtral-8x7b", "deepseek-v3"};
  for (int mi = 0; mi < 2; mi++) {
    train_job j;
    moe_job(&j, models[mi], 8, 0);
    char why[256];
    CU_ASSERT_PTR_NULL_FATAL(train_job_check(&j, why, sizeof why));
    train_memory mem;
    train_memory_need(&j, &mem);
    const llm_arch *m = j.model;
    double L = (double)m->layers, gb = train_grad_bytes(&j), x = mem.expert_params;
    CS_ASSERT_REL(x, train_routed_params(m) / 8, 1e-12);
    CS_ASSERT_REL(mem.weights, 2 * ((mem.params - x) / 16 + x / 2), 1e-12);
    train_step_result r;
    train_step(&j, &r);
    net_link all = net_link_spread(j.node_link, j.net_link, 8), port = net_link_spread(j.node_link, j.net_link, 1);
    double root = llm_embed_params(m), ld = (mem.params - x - root) / L, le = x / L;
    double want = L * (2 * (net_allgather_s(&all, 16, 2 * ld) + net_allgather_s(&port, 2, 2 * le)) +
                       net_reduce_scatter_s(&all, 16, gb * ld) + net_reduce_scatter_s(&port, 2, gb * le)) +
                  2 * net_allgather_s(&all, 16, 2 * root) + net_reduce_scatter_s(&all, 16, gb * root);
    CS_CHECK_REL(r.dp_comm_s, want, 1e-9, models[mi]);
    CU_ASSERT_TRUE(r.ep_comm_s > 0);
    /* DualPipe is still refused with ZeRO 3 */
    j.dualpipe = true;
    const char *bad = train_job_check(&j, why, sizeof why);
    CU_ASSERT_STRING_EQUAL(bad ? bad : "", "zero");
  }
}

/* A shard group with expert parallelism (torchtitan's HSDP + EP):
 * Mixtral 8x7B on 16 H100 (two nodes), ep 4, groups of 8 ranks (a node
 * each, 2 replicas). The dense state shards over the 8, the experts over
 * the group's 2 ranks holding the same ones (4 apart, in the node); each
 * shard's gradients are all-reduced between the 2 replicas, one port
 * each. ZeRO 3 by hand, layer by layer and the root unit; ZeRO 1 once per
 * iteration. ep must divide the group. */
static void test_shard_ep(void)
{
  train_job j;
  moe_job(&j, "mixtral-8x7b", 4, 8);
  char why[256];
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&j, why, sizeof why));
  CU_ASSERT_EQUAL(train_expert_shard_ranks(&j), 2);
  train_memory mem;
  train_memory_need(&j, &mem);
  const llm_arch *m = j.model;
  double L = (double)m->layers, gb = train_grad_bytes(&j), x = mem.expert_params;
  CS_ASSERT_REL(x, train_routed_params(m) / 4, 1e-12);
  CS_ASSERT_REL(mem.weights, 2 * ((mem.params - x) / 8 + x / 2), 1e-12);
  CS_ASSERT_REL(mem.optimizer, 12 * ((mem.params - x) / 8 + x / 2), 1e-12);
  train_step_result r;
  train_step(&j, &r);
  const net_link *node = j.node_link;
  net_link port = net_link_spread(j.node_link, j.net_link, 1);
  double root = llm_embed_params(m), ld = (mem.params - x - root) / L, le = x / L;
  double dense = 2 * net_allgather_s(node, 8, 2 * ld) + net_reduce_scatter_s(node, 8, gb * ld) +
                 net_allreduce_s(&port, 2, gb * ld / 8, NET_RING);
  double experts = 2 * net_allgather_s(node, 2, 2 * le) + net_reduce_scatter_s(node, 2, gb * le) +
                   net_allreduce_s(&port, 2, gb * le / 2, NET_RING);
  double rootc = 2 * net_allgather_s(node, 8, 2 * root) + net_reduce_scatter_s(node, 8, gb * root) +
                 net_allreduce_s(&port, 2, gb * root / 8, NET_RING);
  CS_ASSERT_REL(r.dp_comm_s, L * (dense + experts) + rootc, 1e-9);
  /* the network carries the replicas' all-reduces only (groups of a node) */
  double across = L * (net_allreduce_s(&port, 2, gb * ld / 8, NET_RING) + net_allreduce_s(&port, 2, gb * le / 2, NET_RING)) +
                  net_allreduce_s(&port, 2, gb * root / 8, NET_RING);
  CS_ASSERT_REL(r.link_net_busy_s, across, 1e-9);
  /* ZeRO 1: reduce-scatter, the replicas' all-reduce and the gather, the
   * dense part over the 8, the experts over their 2 */
  j.zero = 1;
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&j, why, sizeof why));
  train_memory_need(&j, &mem);
  train_step(&j, &r);
  double d = mem.params - mem.expert_params, e = mem.expert_params;
  CS_ASSERT_REL(mem.optimizer, 12 * (d / 8 + e / 2), 1e-12);
  double want = net_reduce_scatter_s(node, 8, gb * d) + net_allreduce_s(&port, 2, gb * d / 8, NET_RING) +
                net_allgather_s(node, 8, 2 * d) + net_reduce_scatter_s(node, 2, gb * e) +
                net_allreduce_s(&port, 2, gb * e / 2, NET_RING) + net_allgather_s(node, 2, 2 * e);
  CS_ASSERT_REL(r.dp_comm_s, want, 1e-9);
  CS_ASSERT_REL(r.link_net_busy_s,
                net_allreduce_s(&port, 2, gb * d / 8, NET_RING) + net_allreduce_s(&port, 2, gb * e / 2, NET_RING), 1e-9);
  /* the optimizer steps the group's shards, d / 8 + e / 2 parameters:
   * twice what it steps sharded over every rank (d / 16 + e / 4) */
  train_job every = j;
  every.dp_shard = 0;
  train_step_result all;
  train_step(&every, &all);
  CS_ASSERT_REL(r.optimizer_s, 2 * all.optimizer_s, 1e-12);
  /* the updated parameters' gathers, the dense part's and the experts',
   * follow the optimizer step: exposed even where the backward hides the
   * rest */
  j.dp_overlap = 1;
  train_step(&j, &r);
  double ag_all = net_allgather_s(node, 8, 2 * d) + net_allgather_s(node, 2, 2 * e);
  CS_ASSERT_REL(r.dp_exposed_s, ag_all, 1e-9);
  CU_ASSERT_TRUE(r.dp_comm_s > ag_all);
  /* tp 2 on 32 GPUs: a group of 8 ranks is 16 GPUs, two nodes. The dense
   * part over its 8 ranks, 2 GPUs apart, 4 in each node (4 of the node's
   * ports); the experts over 2 ranks tp x ep = 8 GPUs apart (a port
   * each); the replicas 16 GPUs apart (a port each) */
  moe_job(&j, "mixtral-8x7b", 4, 8);
  j.tp = 2;
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&j, why, sizeof why));
  train_memory_need(&j, &mem);
  train_step(&j, &r);
  net_link four = net_link_spread(j.node_link, j.net_link, 4);
  x = mem.expert_params;
  root = llm_embed_params(m) / 2;
  ld = (mem.params - x - root) / L;
  le = x / L;
  dense = 2 * net_allgather_s(&four, 8, 2 * ld) + net_reduce_scatter_s(&four, 8, gb * ld) +
          net_allreduce_s(&port, 2, gb * ld / 8, NET_RING);
  experts = 2 * net_allgather_s(&port, 2, 2 * le) + net_reduce_scatter_s(&port, 2, gb * le) +
            net_allreduce_s(&port, 2, gb * le / 2, NET_RING);
  rootc = 2 * net_allgather_s(&four, 8, 2 * root) + net_reduce_scatter_s(&four, 8, gb * root) +
          net_allreduce_s(&port, 2, gb * root / 8, NET_RING);
  CS_ASSERT_REL(r.dp_comm_s, L * (dense + experts) + rootc, 1e-9);
  /* FSDP under pipelining (pp 2) with ep 4: the stage's dense part and
   * its experts held whole, the optimizer state sharded (the experts'
   * over dp / ep = 2); with the optimizer offloaded the gradients, not
   * sharded, stay on the GPU */
  moe_job(&j, "mixtral-8x7b", 4, 0);
  j.pp = 2;
  j.dp = 8;
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&j, why, sizeof why));
  CU_ASSERT_TRUE(train_fsdp_pipelined(&j));
  train_memory_need(&j, &mem);
  CS_ASSERT_REL(mem.weights, 2 * mem.params, 1e-12);
  CS_ASSERT_REL(mem.grads, gb * mem.params, 1e-12);
  CS_ASSERT_REL(mem.optimizer, 12 * ((mem.params - mem.expert_params) / 8 + mem.expert_params / 2), 1e-12);
  j.offload = TRAIN_OFFLOAD_OPTIMIZER;
  train_memory_need(&j, &mem);
  CS_ASSERT_REL(mem.grads, gb * mem.params, 1e-12);
  CU_ASSERT_EQUAL(mem.optimizer, 0);
  j.offload = 0;
  /* ep 8 does not divide groups of 4 */
  j.ep = 8;
  j.dp_shard = 4;
  const char *bad = train_job_check(&j, why, sizeof why);
  CU_ASSERT_STRING_EQUAL(bad ? bad : "", "dp_shard");
  CU_ASSERT_PTR_NOT_NULL(strstr(why, "ep 8 does not divide"));
}

/* Column k (from 0) of a CSV line without quotes, as an integer (0 when
 * empty or missing). */
static int csv_int(const char *line, int k)
{
  for (; k > 0 && line; k--) line = strchr(line, ',') ? strchr(line, ',') + 1 : NULL;
  return line ? atoi(line) : 0;
}

/* Writes scenario `name` (text) in dir, runs `plan --objective time` on
 * it into dir/out and opens its plan.csv (NULL, reported, when missing;
 * the caller closes it). */
static FILE *plan_csv(const char *dir, const char *name, const char *text, const char *out)
{
  free(cs_write_file(dir, name, text));
  result r = run_in(dir, "plan", name, "--objective", "time", "-o", out, (const char *)NULL);
  CHECK_RC(r, 0);
  result_free(&r);
  char rel[64];
  snprintf(rel, sizeof rel, "%s/plan.csv", out);
  char *csv = path_join(dir, rel);
  FILE *f = fopen(csv, "r");
  CHECK(f != NULL, "no %s", csv);
  free(csv);
  return f;
}

/* plan searches the scenario's shard group beside every rank: it checks
 * it on whole layouts (dp is known last), so every layout that fits with
 * the group has dp x cp divisible by it; both kinds fit. */
static void test_plan(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("train_shard_plan");
  FILE *f = plan_csv(dir, "p.cfg",
                     "name = \"p\";\ntraining = { model = \"llama2-7b\"; gpu = \"h100-sxm\"; gpus = 64; zero = 1;\n"
                     "  global_batch = 512; seq_len = 4096; train_tokens = 1e11; dp_shard = 8; };\n", "out");
  int fit[2] = {0, 0}, bad = 0;
  char line[1024];
  while (f && fgets(line, sizeof line, f)) {
    int tp, cp, pp, dp, fits;
    /* gpu,gpus,tp,cp,pp,dp,ep,micro_batch,interleave,zero,seq_parallel,recompute,recompute_layers,fits,...,
     * dp_shard (the last column) */
    char g[64];
    const char *last = strrchr(line, ',');
    if (sscanf(line, "%63[^,],%*d,%d,%d,%d,%d,%*d,%*d,%*d,%*d,%*d,%*[^,],%*d,%d", g, &tp, &cp, &pp, &dp, &fits) == 6 &&
        fits && last) {
      int shard = atoi(last + 1);
      fit[shard == 8]++;
      if (shard == 8 && (dp * cp) % 8) bad++;
    }
  }
  if (f) fclose(f);
  CHECK(fit[0] > 0 && fit[1] > 0 && bad == 0, "%d layouts fit with every rank, %d with groups of 8, %d of those with "
        "dp x cp not divisible by 8", fit[0], fit[1], bad);
  /* with expert parallelism: Mixtral 8x7B, FSDP, ep searched (1, 2, 4,
   * 8); groups of 4 with ep 2 and 4 fit, never with ep 8, which does not
   * divide them (with ep 8 only every rank) */
  f = plan_csv(dir, "m.cfg",
               "name = \"m\";\ntraining = { model = \"mixtral-8x7b\"; gpu = \"h100-sxm\"; gpus = 32; zero = 3;\n"
               "  ep = 8; global_batch = 64; seq_len = 4096; train_tokens = 1e11; dp_shard = 4; };\n", "outm");
  int ep_rows[9] = {0}, ep_fit[9] = {0}, ep_bad = 0, ep8_all = 0;
  while (f && fgets(line, sizeof line, f)) {
    /* cp, dp, ep, fits: columns 3, 5, 6, 13 (refused rows leave the
     * numbers after recompute empty) */
    int cp = csv_int(line, 3), dp = csv_int(line, 5), ep = csv_int(line, 6), fits = csv_int(line, 13);
    const char *last = strrchr(line, ',');
    if (strncmp(line, "gpu,", 4) && last && ep >= 1 && ep <= 8) {
      int shard = atoi(last + 1);
      if (shard == 4) {
        ep_rows[ep]++;
        ep_fit[ep] += fits;
        if (fits && (dp * cp) % 4) ep_bad++;
      } else if (ep == 8 && fits) {
        ep8_all++;
      }
    }
  }
  if (f) fclose(f);
  CHECK(ep_fit[2] > 0 && ep_fit[4] > 0 && ep_rows[8] == 0 && ep8_all > 0 && ep_bad == 0,
        "groups of 4 fit with ep 2, 4: %d, %d; rows with ep 8: %d (%d fit over every rank); %d with dp x cp "
        "not divisible by 4", ep_fit[2], ep_fit[4], ep_rows[8], ep8_all, ep_bad);
  /* groups of 12 ranks at tp 1 would straddle 8-GPU nodes: their own reason */
  free(cs_write_file(dir, "q.cfg",
                     "name = \"q\";\ntraining = { model = \"llama2-7b\"; gpu = \"h100-sxm\"; gpus = 96; zero = 1;\n"
                     "  global_batch = 384; seq_len = 4096; train_tokens = 1e11; dp_shard = 12; };\n"));
  result r = run_in(dir, "plan", "q.cfg", "--objective", "time", "-o", "outq", (const char *)NULL);
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "shard group straddles nodes");
  result_free(&r);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

static void test_refusals(void)
{
  char why[256];
  train_job j;
  job(&j, 64, 1, 24);
  const char *bad = train_job_check(&j, why, sizeof why);
  CU_ASSERT_STRING_EQUAL(bad ? bad : "", "dp_shard");
  job(&j, 64, 0, 8);
  bad = train_job_check(&j, why, sizeof why);
  CU_ASSERT_STRING_EQUAL(bad ? bad : "", "dp_shard");
  CU_ASSERT_PTR_NOT_NULL(strstr(why, "ZeRO"));
  /* groups of 3 GPUs would straddle 8-GPU nodes */
  job(&j, 48, 1, 3);
  bad = train_job_check(&j, why, sizeof why);
  CU_ASSERT_STRING_EQUAL(bad ? bad : "", "dp_shard");
  CU_ASSERT_PTR_NOT_NULL(strstr(why, "straddle"));

  unsigned before = CU_get_number_of_failures();
  result r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "64", "--zero", "1",
                 "--global-batch", "64", "--dp-shard", "24");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--dp-shard");
  result_free(&r);
  r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "64", "--zero", "3",
          "--global-batch", "64", "--dp-shard", "8", "--json");
  CHECK_RC(r, 0);
  double shard = 0, rep = 0;
  CHECK(json_num(r.out, "dp_shard", &shard) && shard == 8, "dp_shard %g in:\n%s", shard, r.out);
  CHECK(json_num(r.out, "dp_replicate", &rep) && rep == 8, "dp_replicate %g", rep);
  result_free(&r);

  char *dir = cs_tmpdir("train_shard");
  free(cs_write_file(dir, "s.cfg",
                     "name = \"s\";\ntraining = { model = \"llama2-7b\"; gpu = \"h100-sxm\"; gpus = 64; zero = 3;\n"
                     "  global_batch = 64; seq_len = 4096; train_tokens = 1e9;\n  dp_shard = 8;\n};\n"));
  free(cs_write_file(dir, "bad.cfg",
                     "name = \"s\";\ntraining = { model = \"llama2-7b\"; gpu = \"h100-sxm\"; gpus = 64; zero = 1;\n"
                     "  global_batch = 64; seq_len = 4096; train_tokens = 1e9;\n  dp_shard = 24;\n};\n"));
  const char *args[] = {NULL};
  char *sum = cs_run_summary(__FILE__, __LINE__, dir, "s.cfg", "out", args);
  if (sum) {
    CU_ASSERT_DOUBLE_EQUAL(cs_summary_num(__FILE__, __LINE__, sum, "dp_shard"), 8, 0);
    CU_ASSERT_DOUBLE_EQUAL(cs_summary_num(__FILE__, __LINE__, sum, "dp_replicate"), 8, 0);
  }
  free(sum);
  r = run_in(dir, "check", "bad.cfg", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "bad.cfg:4: training.dp_shard");
  result_free(&r);
  /* a phase whose dp the section's shard group does not divide */
  free(cs_write_file(dir, "ph.cfg",
                     "name = \"s\";\ntraining = { model = \"llama2-7b\"; gpu = \"h100-sxm\"; gpus = 64; zero = 1;\n"
                     "  global_batch = 64; seq_len = 4096; train_tokens = 1e9; dp_shard = 64;\n"
                     "  phases = ( { tokens = 1e9; tp = 2; } );\n};\n"));
  r = run_in(dir, "check", "ph.cfg", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "ph.cfg:4: training.phases.[0]");
  CHECK_ERR_HAS(r, "shard group of 64 ranks");
  result_free(&r);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

int main(void)
{
  if (!cs_catalogs()) return 1;
  static const cs_test tests[] = {
    {"memory: the sharded state / dp_shard", test_memory},
    {"a shard group of every rank is none", test_all_ranks_is_none},
    {"ZeRO 1 traffic with a shard group by hand", test_traffic_by_hand},
    {"HSDP inside a node keeps the gathers off the network", test_hsdp},
    {"with cp: the group is of the dp x cp ranks", test_cp},
    {"FSDP with cp by hand, with and without a shard group", test_fsdp_cp},
    {"FSDP with ep by hand: experts over their replicas", test_fsdp_ep},
    {"a shard group with ep: experts over the group's ranks that hold them", test_shard_ep},
    {"plan checks the group on whole layouts, with ep too", test_plan},
    {"refusals and outputs through the program", test_refusals},
    {NULL, NULL},
  };
  int rc = cs_run_suite("train_shard", tests);
  cs_catalogs_free();
  return rc;
}
