/* tests/unit/test_train.c: the training model (models/training/train.h)
 * against closed forms: FLOP accounting (Narayanan et al. 2021), the 1F1B
 * bubble, the ring all-reduce of gradients, Ethernet against InfiniBand,
 * mixed-precision Adam state under ZeRO, the failure model (Young), the
 * job checks, the default network per accelerator, and `clustersim
 * estimate --train` through the program. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/training/train.h"
#include "sim/catalog.h"
#include "cattest.h"
#include "clitest.h"
#include "testutil.h"

/* A GPT-style model (ffn 4h, plain MLP), with vocab V. */
static llm_arch gpt(int64_t l, int64_t h, int64_t a, int64_t v)
{
  return (llm_arch){.name = "gpt", .layers = l, .hidden = h, .heads = a, .kv_heads = a, .ffn = 4 * h, .vocab = v,
                    .max_context = 2048, .ffn_kind = LLM_FFN_PLAIN, .positions = LLM_POS_LEARNED,
                    .norm = LLM_NORM_LAYER, .tied_embeddings = true, .biases = true, .experts = 1,
                    .experts_active = 1};
}

static const gpu_spec *gpu(const char *n) { return sim_catalog_find(cs_catalogs(), "gpus", n); }
static const net_link *link_(const char *n) { return sim_catalog_find(cs_catalogs(), "links", n); }

/* model FLOPs 72 B s l h^2 (1 + s/6h + V/12lh); hardware with full
 * recomputation 96 B s l h^2 (1 + s/6h + V/16lh) (Narayanan et al. 2021) */
static void test_flops(void)
{
  static const int64_t shapes[][4] = {{24, 2304, 24, 51200}, {96, 12288, 96, 51200}, {128, 25600, 160, 50257}};
  for (size_t i = 0; i < 3; i++) {
    llm_arch m = gpt(shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3]);
    train_job j;
    train_job_init(&j, &m, gpu("a100-80gb-sxm"));
    j.global_batch = 512;
    j.seq_len = 2048;
    double B = 512, s = 2048, l = (double)m.layers, h = (double)m.hidden, V = (double)m.vocab;
    double model = 72 * B * s * l * h * h * (1 + s / (6 * h) + V / (12 * l * h));
    double hw = 96 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h));
    /* the default, selective recomputation, runs the attention forward
     * again: 4 s l h FLOPs per token (scores and weighted sum), B s tokens */
    CU_ASSERT_EQUAL(j.recompute, LLM_RECOMPUTE_SELECTIVE);
    CS_ASSERT_REL(train_model_flops(&j), model, 1e-12);
    CS_ASSERT_REL(train_hardware_flops(&j), model + 4 * B * s * s * l * h, 1e-12);
    j.recompute = LLM_RECOMPUTE_NONE;
    CS_ASSERT_REL(train_model_flops(&j), model, 1e-12);
    CS_ASSERT_REL(train_hardware_flops(&j), model, 1e-12);
    j.recompute = LLM_RECOMPUTE_FULL;
    CS_ASSERT_REL(train_hardware_flops(&j), hw, 1e-12);
    CS_ASSERT_REL(train_model_flops(&j), model, 1e-12);
  }
}

/* 1F1B with equal stages and free p2p: (m + p - 1)(f + b), idle share
 * (p-1)/(m+p-1); interleaved chunks of 1/v the work: (p-1)/(v m + p-1) */
static void test_bubble(void)
{
  static const int pm[][2] = {{1, 1}, {2, 1}, {4, 8}, {8, 8}, {8, 64}, {16, 3}};
  double f[64], b[64], z[64] = {0};
  for (int i = 0; i < 64; i++) f[i] = 1, b[i] = 2;
  for (size_t i = 0; i < sizeof pm / sizeof pm[0]; i++) {
    int p = pm[i][0], m = pm[i][1];
    double t = train_pipeline_time(p, m, 1, f, b, z);
    CS_ASSERT_REL(t, (m + p - 1) * 3.0, 1e-12);
    CS_ASSERT_REL(1 - m * 3.0 / t, (p - 1.0) / (m + p - 1), 1e-12);
  }
  for (int i = 0; i < 64; i++) f[i] = 0.5, b[i] = 1;
  double t = train_pipeline_time(4, 8, 2, f, b, z); /* v = 2: each chunk half the work */
  CS_ASSERT_REL(1 - 8 * 3.0 / t, 3.0 / (2 * 8 + 3), 1e-12);
  /* p2p adds to the critical path */
  double p2p[64];
  for (int i = 0; i < 64; i++) p2p[i] = 0.1, f[i] = 1, b[i] = 2;
  CU_ASSERT_TRUE(train_pipeline_time(4, 8, 1, f, b, p2p) > train_pipeline_time(4, 8, 1, f, b, z));
}

/* A data-parallel job of dp GPUs over `net`, no overlap. */
static void dp_job(train_job *j, const llm_arch *m, int dp, const char *net)
{
  train_job_init(j, m, gpu("a100-80gb-sxm"));
  j->dp = dp;
  j->global_batch = dp;
  j->seq_len = 512;
  j->dp_overlap = 0;
  j->net_link = link_(net);
}

static void test_dp_allreduce(void)
{
  llm_arch m = gpt(32, 4096, 32, 51200);
  train_job j;
  dp_job(&j, &m, 16, "ib-hdr");
  CU_ASSERT_PTR_NULL(train_job_check(&j, (char[256]){0}, 256));
  train_step_result r;
  train_step(&j, &r);
  /* the dp group spans 2 nodes, 8 GPUs in each: ring all-reduce of 4 B
   * gradients (bf16 training reduces in fp32, as Megatron-LM), 2 (n-1) steps of bytes/n, each alpha + (bytes/n)/bw, plus
   * the launch; bw is the node's 8 InfiniBand ports side by side, capped
   * by NVLink (NCCL's rings, one per port) */
  const net_link *ib = link_("ib-hdr"), *nvl = gpu("a100-80gb-sxm")->scaleup_link;
  double bytes = 4 * llm_params(&m), n = 16, bw = fmin(net_bw(nvl), 8 * net_bw(ib));
  double ring = 2 * (n - 1) * (net_alpha_s(ib) + bytes / n / bw);
  CU_ASSERT_PTR_EQUAL(r.dp_link, ib);
  net_link spread = net_link_spread(nvl, ib, 8);
  CS_ASSERT_REL(net_bw(&spread), 8 * net_bw(ib), 1e-12); /* 192 < 231 GB/s of NVLink3 */
  CS_ASSERT_REL(r.dp_comm_s, net_allreduce_s(&spread, 16, bytes, NET_RING), 1e-12);
  CS_ASSERT_REL(r.dp_comm_s, ring, 1e-3); /* the 6 us launch is the rest */
  CS_ASSERT_REL(r.dp_exposed_s, r.dp_comm_s, 1e-12);
  /* gradients reduced in 16 bits, asked for or by fp16 training (auto):
   * half the bytes */
  train_job jh = j;
  jh.grad_reduce = TRAIN_GRAD_REDUCE_BF16;
  train_step(&jh, &r);
  CS_ASSERT_REL(r.dp_comm_s, net_allreduce_s(&spread, 16, bytes / 2, NET_RING), 1e-12);
  jh = j;
  jh.dtype = GPU_FP16;
  CU_ASSERT_EQUAL(train_grad_bytes(&jh), 2);
  train_step(&jh, &r);
  CS_ASSERT_REL(r.dp_comm_s, net_allreduce_s(&spread, 16, bytes / 2, NET_RING), 1e-12);
  jh.grad_reduce = TRAIN_GRAD_REDUCE_FP32;
  CU_ASSERT_EQUAL(train_grad_bytes(&jh), 4);
  train_step(&j, &r);
  /* tp 8: one GPU of each dp group per node, one port each: the bare link */
  train_job jt = j;
  jt.dp = 16;
  jt.tp = 8;
  train_step(&jt, &r);
  CS_ASSERT_REL(r.dp_comm_s, net_allreduce_s(ib, 16, bytes / 8, NET_RING), 1e-12);
  /* one port per node shared by the node's 8 dp groups: 1/8 of it each */
  jt.nics_per_node = 1;
  train_step(&jt, &r);
  net_link shared = net_link_spread(nvl, ib, 1.0 / 8);
  CS_ASSERT_REL(net_bw(&shared), net_bw(ib) / 8, 1e-12);
  CS_ASSERT_REL(r.dp_comm_s, net_allreduce_s(&shared, 16, bytes / 8, NET_RING), 1e-12);
  /* tp 1 over one port per node: the ring through the node uses that port */
  jt = j;
  jt.nics_per_node = 1;
  train_step(&jt, &r);
  CS_ASSERT_REL(r.dp_comm_s, net_allreduce_s(ib, 16, bytes, NET_RING), 1e-12);
  j.dp_overlap = 0;
  train_step(&j, &r);
  /* full overlap hides what backward covers */
  j.dp_overlap = 1;
  train_step(&j, &r);
  CU_ASSERT_TRUE(r.dp_exposed_s < r.dp_comm_s);
  /* inside one node: NVLink */
  dp_job(&j, &m, 8, "ib-hdr");
  train_step(&j, &r);
  CU_ASSERT_PTR_EQUAL(r.dp_link, gpu("a100-80gb-sxm")->scaleup_link);
}

/* With exposed data-parallel traffic dominating, 100 Gb/s Ethernet is
 * slower than HDR InfiniBand by the ratio of their effective bandwidths. */
static void test_ethernet_vs_ib(void)
{
  llm_arch m = gpt(32, 4096, 32, 51200);
  train_job je, ji;
  dp_job(&je, &m, 64, "eth-100g");
  dp_job(&ji, &m, 64, "ib-hdr");
  train_step_result re, ri;
  train_step(&je, &re);
  train_step(&ji, &ri);
  const net_link *e = link_("eth-100g"), *i = link_("ib-hdr");
  double ratio = net_bw(i) / net_bw(e);
  CU_ASSERT_TRUE(re.dp_exposed_s > re.compute_s); /* communication dominates */
  CS_ASSERT_REL(re.dp_exposed_s / ri.dp_exposed_s, ratio, 0.01);
  CU_ASSERT_TRUE(re.iteration_s > 1.5 * ri.iteration_s);
}

/* FSDP (ZeRO-3): per micro-batch the root and first-layer gathers and the
 * last reduce-scatters are exposed when each layer's traffic fits under its
 * compute; BACKWARD_POST also exposes every backward gather, (L - 1) more
 * layer gathers per micro-batch than BACKWARD_PRE, exactly. */
static void test_fsdp_prefetch(void)
{
  llm_arch m = gpt(32, 4096, 32, 51200);
  train_job j;
  train_job_init(&j, &m, gpu("h100-sxm"));
  j.dp = 8;
  j.zero = 3;
  j.micro_batch = 4;
  j.global_batch = 64;  /* 2 micro-batches */
  train_step_result pre, post;
  train_step(&j, &pre);
  j.fsdp_prefetch = TRAIN_PREFETCH_POST;
  train_step(&j, &post);
  const net_link *nvl = gpu("h100-sxm")->scaleup_link;
  double ag = net_allgather_s(nvl, 8, llm_layer_params(&m) * 2);
  CU_ASSERT_EQUAL(pre.micro_batches, 2);
  CS_ASSERT_REL(post.dp_exposed_s - pre.dp_exposed_s, 2 * (m.layers - 1) * ag, 1e-9);
  CS_ASSERT_REL(post.dp_comm_s, pre.dp_comm_s, 1e-12);  /* the same traffic */
  CU_ASSERT_TRUE(pre.dp_exposed_s < 0.2 * pre.dp_comm_s);
  /* no overlap: all of it exposed, whatever the prefetch */
  j.dp_overlap = 0;
  j.fsdp_prefetch = TRAIN_PREFETCH_PRE;
  train_step(&j, &pre);
  CS_ASSERT_REL(pre.dp_exposed_s, pre.dp_comm_s, 1e-12);
}

/* exposed_comm_s and the links' busy time, by hand. A 24-layer GPT
 * (h 2048) as tp 2 x dp 4 in one DGX A100 node, 2 micro-batches of one
 * 1,024-token sequence: per layer and micro-batch 2 all-reduces of the
 * activations forward and 2 backward (selective recomputation adds none)
 * over NVLink; the gradients of this GPU's half of the parameters
 * all-reduced over the 4 dp ranks, also over NVLink. */
static void test_exposed_comm_and_links(void)
{
  llm_arch m = gpt(24, 2048, 16, 51200);
  const net_link *nvl = gpu("a100-80gb-sxm")->scaleup_link, *ib = link_("ib-hdr");
  train_job j;
  train_job_init(&j, &m, gpu("a100-80gb-sxm"));
  j.net_link = ib;
  j.tp = 2;
  j.dp = 4;
  j.global_batch = 8;  /* 8 / (4 x 1) = 2 micro-batches */
  j.seq_len = 1024;
  j.dp_overlap = 0;
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&j, (char[256]){0}, 256));
  train_step_result r;
  train_step(&j, &r);
  double tp = 2 * 24 * 4 * net_allreduce_s(nvl, 2, 1024 * 2048 * 2.0, NET_RING);
  double dp = net_allreduce_s(nvl, 4, llm_params(&m) / 2 * 4, NET_RING); /* fp32 gradients */
  CU_ASSERT_EQUAL(r.micro_batches, 2);
  CS_ASSERT_REL(r.tp_comm_s, tp, 1e-12);
  CS_ASSERT_REL(r.dp_comm_s, dp, 1e-12);
  /* no overlap: every collective is exposed, and the iteration is compute,
   * communication and the optimizer step (one stage: no bubble) */
  CS_ASSERT_REL(r.exposed_comm_s, tp + dp, 1e-12);
  CS_ASSERT_REL(r.iteration_s, r.compute_s + r.exposed_comm_s + r.optimizer_s, 1e-12);
  CS_ASSERT_REL(r.link_node_busy_s, tp + dp, 1e-12);
  CU_ASSERT_EQUAL(r.link_net_busy_s, 0);
  CU_ASSERT_EQUAL(r.link_net_busy_fraction, 0);
  CS_ASSERT_REL(r.link_node_busy_fraction, (tp + dp) / r.iteration_s, 1e-12);
  /* full overlap: the gradients (a few ms) hide under the last
   * micro-batch's backward (tens of ms); NVLink still carries them */
  j.dp_overlap = 1;
  train_step(&j, &r);
  CU_ASSERT_EQUAL(r.dp_exposed_s, 0);
  CS_ASSERT_REL(r.exposed_comm_s, tp, 1e-12);
  CS_ASSERT_REL(r.link_node_busy_s, tp + dp, 1e-12);
  CS_ASSERT_REL(r.iteration_s, r.compute_s + tp + r.optimizer_s, 1e-12);

  /* two pipeline stages of tp 8 on two nodes (dp 1), 4 micro-batches:
   * stage 0 sends each micro-batch's activations forward, stage 1 its
   * gradients back, over HDR: each of the 8 tp ranks 1/8 of b s h x 2 B
   * (alpha + bytes / bw), then an all-gather of the whole on NVLink */
  train_job_init(&j, &m, gpu("a100-80gb-sxm"));
  j.net_link = ib;
  j.tp = 8;
  j.pp = 2;
  j.global_batch = 4;
  j.seq_len = 1024;
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&j, (char[256]){0}, 256));
  train_step(&j, &r);
  double bytes = 1024 * 2048 * 2.0;
  double send = net_alpha_s(ib) + bytes / 8 / net_bw(ib), gather = net_allgather_s(nvl, 8, bytes);
  double tp8 = 4 * 12 * 4 * net_allreduce_s(nvl, 8, bytes, NET_RING);  /* 12 layers per stage */
  CU_ASSERT_PTR_EQUAL(r.pp_link, ib);
  CS_ASSERT_REL(r.tp_comm_s, tp8, 1e-12);
  CS_ASSERT_REL(r.link_net_busy_s, 4 * send, 1e-12);
  CS_ASSERT_REL(r.link_node_busy_s, tp8 + 4 * gather, 1e-12);
  CS_ASSERT_REL(r.exposed_comm_s, r.tp_comm_s + r.pp_comm_s, 1e-12);
  CU_ASSERT_TRUE(r.pp_comm_s > 0 && r.pp_comm_s <= 2 * 4 * (send + gather));
  CS_ASSERT_REL(r.link_net_busy_fraction, 4 * send / r.iteration_s, 1e-12);

  /* clamped: over PCIe 3 the tensor-parallel all-reduces dominate and the
   * hidden gradient all-reduce runs beside them: more traffic than the
   * iteration lasts (3.2 ms in 2.7 ms), and the fraction stays 1 (PCIe 4
   * gave 1.6 ms in 1.5 ms until the GEMMs of h = 1024 at tp 4 slowed by
   * shape, train_gemm.c: 1.66 ms in 1.75 ms); gradients in 16 bits, which
   * the backward hides whole */
  llm_arch small = gpt(2, 1024, 16, 1000);
  train_job_init(&j, &small, gpu("a100-80gb-sxm"));
  j.grad_reduce = TRAIN_GRAD_REDUCE_BF16;
  j.node_link = link_("pcie3");
  j.net_link = ib;
  j.tp = 4;
  j.dp = 2;
  j.global_batch = 2;
  j.seq_len = 1024;
  CU_ASSERT_PTR_NULL_FATAL(train_job_check(&j, (char[256]){0}, 256));
  train_step(&j, &r);
  CU_ASSERT_EQUAL(r.dp_exposed_s, 0);
  CU_ASSERT_TRUE(r.link_node_busy_s > r.iteration_s);
  CU_ASSERT_EQUAL(r.link_node_busy_fraction, 1);
}

/* 18 B per parameter (2 weights, 4 fp32 gradients as bf16 training keeps
 * them, 12 Adam: Megatron-Core's 6 + 12/d with ZeRO 1), divided over dp as
 * ZeRO 1, 2, 3 say, and over tp x pp by the model split; with gradients in
 * 16 bits, the ZeRO paper's 16 B. */
static void test_memory(void)
{
  llm_arch m = gpt(48, 8192, 64, 51200);
  train_job j;
  train_job_init(&j, &m, gpu("a100-80gb-sxm"));
  j.tp = 8;
  j.pp = 2;
  j.dp = 4;
  j.global_batch = 64;
  double p = llm_params(&m) / 16, d = 4;
  /* ZeRO 3 with pp 2 is FSDP under pipelining: the stage's weights and
   * gradients whole, the optimizer state sharded (as ZeRO 1) */
  static const double want[4][3] = {{2, 4, 12}, {2, 4, 3}, {2, 1, 3}, {2, 4, 3}};
  for (int z = 0; z <= 3; z++) {
    j.zero = z;
    j.grad_reduce = TRAIN_GRAD_REDUCE_AUTO;
    train_memory mem;
    train_memory_need(&j, &mem);
    CS_ASSERT_REL(mem.weights, want[z][0] * p, 1e-12);
    CS_ASSERT_REL(mem.grads, want[z][1] * p, 1e-12);
    CS_ASSERT_REL(mem.optimizer, want[z][2] * p, 1e-12);
    CU_ASSERT_EQUAL(mem.gathered, 0);
    CS_ASSERT_REL(mem.total, mem.weights + mem.grads + mem.optimizer + mem.activations, 1e-12);
    j.grad_reduce = TRAIN_GRAD_REDUCE_BF16;
    train_memory_need(&j, &mem);
    CS_ASSERT_REL(mem.grads, want[z][1] / 2 * p, 1e-12);
    CS_ASSERT_REL(mem.weights + mem.grads + mem.optimizer, llm_train_state_bytes(&m, z < 3 ? z : 1, (int)d) / 16,
                  1e-12);
  }
  /* one stage (8 GPUs of tp 8, dp 4 on 32): ZeRO 3 shards the weights and
   * gradients too, and holds the layers it gathers: two layers' 16-bit
   * weights and one layer's gradients, of a layer's tp share (the 48
   * layers hold all but the embeddings); and the root unit, the tied
   * embedding with the positions, 16-bit, with the head's (its)
   * gradients */
  j.pp = 1;
  j.zero = 3;
  p = llm_params(&m) / 8;
  double layer = (llm_params(&m) - llm_embed_params(&m)) / 48 / 8, vh = 51200.0 * 8192;
  double root = llm_embed_params(&m) / 8, head = vh / 8;
  for (int g = 0; g < 2; g++) {
    j.grad_reduce = g ? TRAIN_GRAD_REDUCE_BF16 : TRAIN_GRAD_REDUCE_AUTO;
    double gb = g ? 2 : 4;
    train_memory mem;
    train_memory_need(&j, &mem);
    CS_ASSERT_REL(mem.weights, 0.5 * p, 1e-12);
    CS_ASSERT_REL(mem.grads, gb / 4 * p, 1e-12);
    CS_ASSERT_REL(mem.optimizer, 3 * p, 1e-12);
    CS_ASSERT_REL(mem.gathered, (2 * 2 + gb) * layer + 2 * root + gb * head, 1e-12);
    CS_ASSERT_REL(mem.total, mem.weights + mem.grads + mem.optimizer + mem.activations + mem.gathered, 1e-12);
  }
  /* the root unit of each stage, were FSDP to run per unit with stages:
   * the embedding (and the norms) on the first, the head on the last */
  j.pp = 2;
  double hd;
  CS_ASSERT_REL(train_stage_root_params(&j, 0, &hd), llm_embed_params(&m) / 8, 1e-12);
  CU_ASSERT_EQUAL(hd, 0);
  CS_ASSERT_REL(train_stage_root_params(&j, 1, &hd), vh / 8, 1e-12);
  CS_ASSERT_REL(hd, vh / 8, 1e-12);
  j.zero = 0;
  j.pp = 2;
  j.grad_reduce = TRAIN_GRAD_REDUCE_AUTO;
  /* recomputation shrinks activations: full < selective < none */
  train_memory a[3];
  for (int r = 0; r < 3; r++) {
    j.recompute = r;
    j.flash_attention = false;
    train_memory_need(&j, &a[r]);
  }
  CU_ASSERT_TRUE(a[LLM_RECOMPUTE_FULL].activations < a[LLM_RECOMPUTE_SELECTIVE].activations);
  CU_ASSERT_TRUE(a[LLM_RECOMPUTE_SELECTIVE].activations < a[LLM_RECOMPUTE_NONE].activations);
  /* FSDP's root unit with one stage, an untied head: Llama 3 8B at tp 1
   * holds both 128,256 x 4,096 matrices in 16 bits (2.1 GB) and the head's
   * fp32 gradients (2.1 GB) beside its two layers and one layer's
   * gradients */
  const llm_arch *l3 = sim_catalog_find(cs_catalogs(), "models", "llama3-8b");
  CU_ASSERT_PTR_NOT_NULL_FATAL(l3);
  train_job_init(&j, l3, gpu("h100-sxm"));
  j.dp = 8;
  j.zero = 3;
  j.global_batch = 8;
  train_memory mem;
  train_memory_need(&j, &mem);
  double vh3 = 128256.0 * 4096, layer3 = (llm_params(l3) - llm_embed_params(l3)) / 32;
  CU_ASSERT_FALSE(l3->tied_embeddings);
  CS_ASSERT_REL(mem.gathered, 8 * layer3 + 2 * llm_embed_params(l3) + 4 * vh3, 1e-12);
  CU_ASSERT_TRUE(fabs(2 * llm_embed_params(l3) - 2.1e9) < 0.01e9 && fabs(4 * vh3 - 2.1e9) < 0.01e9);
  /* two stages, tp 2: FSDP under pipelining holds each stage whole,
   * nothing gathered per unit; its gradient traffic is ZeRO 1's (one
   * reduce-scatter and one gather a layer an iteration, not one a
   * micro-batch). The reduce-scatter runs after the last backward,
   * exposed; of the gather, the root unit's (the last stage's head) and
   * the first of the stage's 16 layers' are exposed, the rest hides under
   * the first forward (a stage's forward, far longer than its gather on
   * NVLink). dp 2 x tp 2 is in a node: the node's link */
  j.tp = 2;
  j.pp = 2;
  j.dp = 2;
  j.seq_len = 8192;
  j.net_link = sim_catalog_find(cs_catalogs(), "links", "ib-ndr");
  train_memory_need(&j, &mem);
  CU_ASSERT_TRUE(train_fsdp_pipelined(&j));
  CU_ASSERT_EQUAL(mem.gathered, 0);
  CS_ASSERT_REL(mem.weights, 2 * mem.params, 1e-12);
  CS_ASSERT_REL(mem.grads, 4 * mem.params, 1e-12);
  CS_ASSERT_REL(mem.optimizer, 12 * mem.params / 2, 1e-12);
  train_step_result fs, z1;
  train_step(&j, &fs);
  j.zero = 1;
  train_step(&j, &z1);
  CS_ASSERT_REL(fs.dp_comm_s, z1.dp_comm_s, 1e-12);
  const net_link *nl = j.node_link;
  double rootp = train_stage_root_params(&j, 1, &hd);
  double rs = net_reduce_scatter_s(nl, 2, 4 * mem.params), ag = net_allgather_s(nl, 2, 2 * mem.params);
  double agr = net_allgather_s(nl, 2, 2 * rootp);
  CS_ASSERT_REL(fs.dp_comm_s, rs + ag, 1e-12);
  CS_ASSERT_REL(fs.dp_exposed_s, rs + agr + (ag - agr) / 16, 1e-9);
}

static void test_failures(void)
{
  train_failures f = {.mtbf_gpu_s = INFINITY, .checkpoint_interval_s = 3600, .checkpoint_s = 0, .restart_s = 600};
  CU_ASSERT_DOUBLE_EQUAL(train_effective_fraction(&f, 1024), 1.0, 0);
  CU_ASSERT_DOUBLE_EQUAL(train_time_with_failures_s(&f, 1024, 1e6), 1e6, 0);
  f.mtbf_gpu_s = 0; /* none */
  CU_ASSERT_DOUBLE_EQUAL(train_effective_fraction(&f, 1024), 1.0, 0);
  /* a huge MTBF tends to the failure-free time */
  f.mtbf_gpu_s = 1e30;
  CS_ASSERT_REL(train_time_with_failures_s(&f, 1024, 1e6), 1e6, 1e-9);

  /* 50,000 h per GPU over 2,048 GPUs: one failure per ~24 h; 5 min
   * checkpoints; Young's interval maximises the effective fraction */
  f = (train_failures){.mtbf_gpu_s = 50000 * 3600.0, .checkpoint_s = 300, .restart_s = 1200};
  double M = train_job_mtbf_s(&f, 2048);
  CS_ASSERT_REL(M, 50000 * 3600.0 / 2048, 1e-12);
  double tau = train_young_interval_s(&f, 2048);
  CS_ASSERT_REL(tau, sqrt(2 * 300 * M), 1e-12);
  f.checkpoint_interval_s = tau;
  double best = train_effective_fraction(&f, 2048), argbest = tau;
  for (double t = tau / 10; t < tau * 10; t *= 1.001) {
    f.checkpoint_interval_s = t;
    double e = train_effective_fraction(&f, 2048);
    if (e > best) best = e, argbest = t;
  }
  CS_ASSERT_REL(argbest, tau, 2e-3);
  f.checkpoint_interval_s = tau;
  double e = train_effective_fraction(&f, 2048);
  CS_ASSERT_REL(e, 1 - 300 / tau - ((tau + 300) / 2 + 1200) / M, 1e-12);
  CU_ASSERT_TRUE(e < 1 && e > 0.8);
  CS_ASSERT_REL(train_lost_per_failure_s(&f), (tau + 300) / 2 + 1200, 1e-12);
}

static void test_checks(void)
{
  llm_arch m = gpt(24, 2048, 16, 51200);
  train_job j;
  char why[256];
  train_job_init(&j, &m, gpu("a100-80gb-sxm"));
  j.net_link = link_("ib-hdr");
  j.dp = 4;
  j.micro_batch = 2;
  j.global_batch = 12;
  CU_ASSERT_STRING_EQUAL(train_job_check(&j, why, sizeof why), "global_batch");
  j.global_batch = 16;
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  j.tp = 16;
  CU_ASSERT_STRING_EQUAL(train_job_check(&j, why, sizeof why), "tp");
  j.tp = 1;
  j.pp = 5;
  CU_ASSERT_STRING_EQUAL(train_job_check(&j, why, sizeof why), "pp");
  j.pp = 4;
  j.interleave = 2; /* 2 micro-batches per pipeline, not a multiple of 4 */
  CU_ASSERT_STRING_EQUAL(train_job_check(&j, why, sizeof why), "interleave");
}

static void test_cli(void)
{
  result r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpu", "a100-80gb-sxm", "--gpus", "64", "--tp",
                 "1", "--pp", "1", "--train-tokens", "1e12", "--global-batch", "512", "--seq-len", "4096",
                 "--micro-batch", "1", "--recompute", "full", "--zero", "1", "--json");
  CHECK_RC(r, 0);
  static const char *const keys[] = {"iteration_time_s", "tokens_per_s_per_gpu", "mfu", "hfu", "train_time_s",
                                     "gpu_hours", "train_cost_usd", "memory_per_gpu_bytes", NULL};
  for (const char *const *k = keys; *k; k++) {
    double x;
    CHECK(json_num(r.out, *k, &x) && x > 0, "%s: no positive \"%s\" in:\n%s", r.cmd, *k, r.out);
  }
  double mfu = 0, hfu = 0;
  json_num(r.out, "mfu", &mfu);
  json_num(r.out, "hfu", &hfu);
  CHECK(mfu > 0.3 && mfu < 0.7 && hfu > mfu, "%s: mfu %g hfu %g", r.cmd, mfu, hfu);
  result_free(&r);

  /* inline architecture: the 1.7B of Megatron-LM's Table 1 */
  r = RUN("estimate", "--train", "--layers", "24", "--hidden", "2304", "--heads", "24", "--gpus", "32",
          "--global-batch", "512", "--seq-len", "2048", "--recompute", "full", "--no-flash", "--json");
  CHECK_RC(r, 0);
  double params = 0;
  CHECK(json_num(r.out, "params", &params) && fabs(params / 1.7e9 - 1) < 0.05, "%s: params %g", r.cmd, params);
  result_free(&r);

  /* errors name the flag and exit 2 */
  r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpus", "64", "--global-batch", "100");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--global-batch");
  result_free(&r);
  r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpus", "12", "--tp", "8");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--gpus");
  result_free(&r);
  r = RUN("estimate", "--train", "--model", "gpt3-175b", "--gpus", "8", "--tp", "8", "--global-batch", "8");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "short by");
  result_free(&r);
  r = RUN("estimate", "--recompute", "sometimes");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--recompute");
  result_free(&r);
}

/* Plain `estimate` (no --train): train_time_s is the wall time, as with
 * --train (issue 15: one meaning everywhere). By hand for llama2-7b on 8
 * A100 (fp16, 312 TFLOP/s) at --mfu 0.5: the steady time F = train_flops /
 * (8 x 312e12 x 0.5), reported as failure_free_time_s; a checkpoint of
 * 14 B per parameter takes delta = its copy to host memory (an eighth per
 * GPU over the host link) + its write at 2000/16384 GB/s per GPU; failures
 * at M = 50,677 h / 8; Young's tau = sqrt(2 delta M); lost per failure L =
 * (tau + delta)/2 + 600 s; T = F / (1 - delta/tau - L/M). GPU-hours and
 * cost follow T; --mtbf-gpu-h 0 leaves T = F. */
static void test_plain_estimate_wall_time(void)
{
  result r = RUN("estimate", "--model", "llama2-7b", "--tp", "8", "--train-tokens", "1e12", "--mfu", "0.5", "--json");
  result off = RUN("estimate", "--model", "llama2-7b", "--tp", "8", "--train-tokens", "1e12", "--mfu", "0.5",
                   "--mtbf-gpu-h", "0", "--json");
  CHECK_RC(r, 0);
  CHECK_RC(off, 0);
  double flops = NAN, params = NAN, f = NAN, t = NAN, gh = NAN, f_off = NAN, t_off = NAN;
  CHECK(json_num(r.out, "train_flops", &flops) && json_num(r.out, "params", &params) &&
            json_num(r.out, "failure_free_time_s", &f) && json_num(r.out, "train_time_s", &t) &&
            json_num(r.out, "train_gpu_hours", &gh),
        "%s: missing keys:\n%s", r.cmd, r.out);
  const gpu_spec *g = gpu("a100-80gb-sxm");
  CU_ASSERT_PTR_NOT_NULL_FATAL(g);
  CU_ASSERT_PTR_NOT_NULL_FATAL(g->host_link);
  double F = flops / (8 * 312e12 * 0.5);
  CS_ASSERT_REL(f, F, 1e-9);
  double bytes = 14 * params;
  double delta = bytes / 8 / (g->host_link->bw_gbs * 1e9) + bytes / (2000.0 / 16384 * 8 * 1e9);
  double M = 16384.0 * 54 * 24 / 419 * 3600 / 8;
  double tau = sqrt(2 * delta * M), L = (tau + delta) / 2 + 600;
  double T = F / (1 - delta / tau - L / M);
  CS_ASSERT_REL(t, T, 1e-9);
  CU_ASSERT_TRUE(t > f);
  CS_ASSERT_REL(gh, T * 8 / 3600, 1e-9);
  CHECK(json_num(off.out, "failure_free_time_s", &f_off) && json_num(off.out, "train_time_s", &t_off), "%s:\n%s",
        off.cmd, off.out);
  CS_ASSERT_REL(t_off, f_off, 1e-12);
  CS_ASSERT_REL(f_off, F, 1e-9);
  result_free(&r);
  result_free(&off);
}

/* The network between nodes when none is named: InfiniBand NDR for the
 * NVLink 4 generation and later (B200, GB200, H800 too), HDR before it; a
 * TPU's data-center network between
 * its slices (v5e its own, v5p and v4 the v5p's), and every default is a
 * catalogued link. */
static void test_default_net_link(void)
{
  static const struct { const char *gpu, *link; } cases[] = {
    {"a100-80gb-sxm", "ib-hdr"}, {"h100-sxm", "ib-ndr"}, {"tpu-v5e", "dcn-v5e"},
    {"tpu-v5p", "dcn-v5p"},      {"tpu-v4", "dcn-v5p"},
    {"b200", "ib-ndr"},          {"gb200", "ib-ndr"},    {"h800", "ib-ndr"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const gpu_spec *g = gpu(cases[i].gpu);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    const char *l = train_default_net_link(g);
    CHECK(!strcmp(l, cases[i].link), "%s: default network %s, expected %s", cases[i].gpu, l, cases[i].link);
    CU_ASSERT_PTR_NOT_NULL(link_(l));
  }
}

int main(void)
{
  if (!cs_catalogs()) return 1;
  static const cs_test tests[] = {
    {"FLOPs: 72 B s l h^2 (...) and 96 B s l h^2 (...)", test_flops},
    {"1F1B bubble (p-1)/(m+p-1), interleaved /v", test_bubble},
    {"data-parallel ring all-reduce", test_dp_allreduce},
    {"FSDP: BACKWARD_POST exposes the backward gathers", test_fsdp_prefetch},
    {"Ethernet slower than InfiniBand by the bandwidth ratio", test_ethernet_vs_ib},
    {"exposed communication and link busy fractions by hand", test_exposed_comm_and_links},
    {"memory: 16 B/param divided as ZeRO says", test_memory},
    {"failures: Young's interval, MTBF -> infinity", test_failures},
    {"job checks name the field", test_checks},
    {"default network link: InfiniBand for GPUs, DCN for TPUs", test_default_net_link},
    {"plain estimate: train_time_s is the wall time (closed form)", test_plain_estimate_wall_time},
    {"estimate --train through the program", test_cli},
    {NULL, NULL},
  };
  int rc = cs_run_suite("train", tests);
  cs_catalogs_free();
  return rc;
}
