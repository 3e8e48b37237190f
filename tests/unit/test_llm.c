/* tests/unit/test_llm.c: the compute core against arithmetic done by hand
 * and published figures: parameter counts of every catalog model within 2%
 * of the published count; the seed article's GPT-3 numbers; roofline
 * bounds (decode memory-bound, prefill compute-bound, never faster than
 * either bound); monotonicity in batch and context; tensor parallelism over
 * NVLink against Ethernet; memory fit; alpha-beta collectives. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/gpu/gpu.h"
#include "models/interconnect/net.h"
#include "models/llm/llm.h"
#include "models/llm/llm_step.h"
#include "driver/config/catalog_load.h"
#include "cattest.h"
#include "clitest.h"
#include "testutil.h"





static void test_required_names(void)
{
  static const char *const gpus[] = {"a100-40gb-sxm", "a100-80gb-sxm", "a100-80gb-pcie", "h100-sxm",
                                     "h100-pcie", "h200", "a10g", "a10", "l4", "l40s", "t4", "v100-sxm",
                                     "a40", "rtx-a6000", "rtx-3080ti", "rtx-4090", "mi300x", NULL};
  static const char *const links[] = {"nvlink3", "nvlink4", "pcie4", "pcie5", "ib-hdr", "ib-ndr",
                                      "eth-25g", "eth-100g", "eth-200g", "eth-400g", NULL};
  static const char *const models[] = {"gpt3-175b", "gpt-j-6b", "bert-large", "opt-13b", "opt-66b",
                                       "llama-7b", "llama-13b", "llama-33b", "llama-65b", "llama2-7b",
                                       "llama2-13b", "llama2-70b", "llama3-8b", "llama3-70b",
                                       "llama3-405b", "mixtral-8x7b", NULL};
  for (int i = 0; gpus[i]; i++) {
    if (!sim_catalog_find(cs_catalogs(), "gpus", gpus[i])) printf("\n    missing GPU %s  ", gpus[i]);
    CU_ASSERT_PTR_NOT_NULL(sim_catalog_find(cs_catalogs(), "gpus", gpus[i]));
  }
  for (int i = 0; links[i]; i++) CU_ASSERT_PTR_NOT_NULL(sim_catalog_find(cs_catalogs(), "links", links[i]));
  for (int i = 0; models[i]; i++) CU_ASSERT_PTR_NOT_NULL(sim_catalog_find(cs_catalogs(), "models", models[i]));
}

/* Every model's derived count within 2% of the published one. */
static void test_param_counts(void)
{
  size_t n = sim_catalog_count(cs_catalogs(), "models");
  CU_ASSERT_TRUE(n >= 16);
  for (size_t i = 0; i < n; i++) {
    const llm_arch *m = sim_catalog_entry(cs_catalogs(), "models", i);
    double p = llm_params(m), err = p / m->published_params - 1;
    if (fabs(err) > 0.02) printf("\n    %s: derived %.4g, published %.4g (%+.2f%%)  ", m->name, p,
                                 m->published_params, 100 * err);
    CU_ASSERT_TRUE(fabs(err) <= 0.02);
    if (m->published_active_params > 0)
      CS_ASSERT_REL(llm_active_params_as_published(m), m->published_active_params, 0.02);
  }
  /* Llama 2 7B by hand: attention 4 x 4096^2, MLP 3 x 4096 x 11008, two
   * RMSNorms of 4096, per layer x 32; embeddings and head 2 x 32000 x 4096;
   * final norm 4096: 6,738,415,616 (the released checkpoint's count). */
  CU_ASSERT_EQUAL(llm_params(cs_model("llama2-7b")), 6738415616.0);
  /* Mixtral 8x7B: 8 experts, 2 active: total 46.7B, active 12.9B */
  CS_ASSERT_REL(llm_params(cs_model("mixtral-8x7b")), 46.7e9, 0.01);
  CS_ASSERT_REL(llm_active_params(cs_model("mixtral-8x7b")), 12.9e9, 0.01);
}

/* KV cache: 2 x layers x kv_heads x head_dim x bytes. Llama 2 7B in fp16:
 * 2 x 32 x 32 x 128 x 2 = 524,288 B; Llama 2 70B (GQA, 8 KV heads):
 * 2 x 80 x 8 x 128 x 2 = 327,680 B. */
static void test_kv_cache(void)
{
  CU_ASSERT_EQUAL(llm_kv_bytes_per_token(cs_model("llama2-7b"), 2), 524288.0);
  CU_ASSERT_EQUAL(llm_kv_bytes_per_token(cs_model("llama2-70b"), 2), 327680.0);
}

/* The seed article: GPT-3 175B, n = 1,024 tokens, 2 n p = 350 TFLOPs;
 * 116,000 s on one 3 GHz core at 1 FLOP/cycle; about 1 s on one A100 at
 * 312 TFLOP/s; 700 GB of fp32 weights; 300B training tokens at 6 p per
 * token = 3.14e23 FLOPs, about $560,000 at $2 per A100-hour at peak. Our p
 * is the derived 174.6e9, 0.2% under 175e9. */
static void test_seed_arithmetic(void)
{
  const llm_arch *m = cs_model("gpt3-175b");
  const gpu_spec *a100 = cs_gpu("a100-80gb-sxm");
  double f = llm_flops_2pn(m, 1024);
  CS_ASSERT_REL(f, 2 * 1024 * 175e9, 0.005);
  CS_ASSERT_REL(f / 3e9, 116000, 0.04);                     /* 119,200 s: 33 h */
  CS_ASSERT_REL(f / gpu_peak_flops(a100, GPU_FP16), 1.15, 0.01);
  CS_ASSERT_REL(llm_weights_bytes(m, 4), 700e9, 0.005);
  double train = llm_train_flops(m, 300e9, false);
  CS_ASSERT_REL(train, 3.14e23, 0.005);
  double gpu_hours = train / gpu_peak_flops(a100, GPU_FP16) / 3600;
  CS_ASSERT_REL(gpu_hours * 2.0, 560000, 0.005);
  /* a decoder runs all p parameters for prompt tokens too: prefill of 512
   * and decode of 512 add up to the 1,024-token forward, plus attention */
  double pf = llm_prefill_flops(m, 512), df = llm_decode_flops(m, 512, 512);
  CU_ASSERT_TRUE(pf + df > f);
  CS_ASSERT_REL(pf + df, f, 0.02);
  /* the seed's training-state rule (fp32 + 8 B) and mixed-precision Adam */
  CS_ASSERT_REL(llm_train_state_seed_bytes(m), 12 * 174.6e9, 0.001);
  CS_ASSERT_REL(llm_train_state_bytes(m, 0, 1), 16 * llm_params(m), 1e-12);
  CS_ASSERT_REL(llm_train_state_bytes(m, 3, 64), 16 * llm_params(m) / 64, 1e-12);
  CS_ASSERT_REL(llm_train_state_bytes(m, 1, 8), (4 + 12.0 / 8) * llm_params(m), 1e-12);
}

static llm_step_cost step_of(const llm_replica *r, double prefill_tokens, double decode_seqs, double ctx)
{
  llm_batch b = {0};
  if (prefill_tokens > 0) llm_batch_add_prefill(&b, 0, prefill_tokens, true);
  if (decode_seqs > 0) llm_batch_add_decode(&b, decode_seqs, ctx);
  llm_step_cost c;
  llm_step(r, &b, &c);
  return c;
}

/* Decode of batch 1 is bound by reading the weights: about weight bytes
 * over (bandwidth x efficiency). Prefill of 4,096 tokens is compute-bound.
 * No step beats either raw bound (peak FLOP/s, peak bandwidth). */
static void test_roofline(void)
{
  const llm_arch *m = cs_model("llama2-7b");
  const gpu_spec *g = cs_gpu("a100-80gb-sxm");
  llm_replica r;
  llm_replica_init(&r, m, g, GPU_FP16, 1, 1, NULL, NULL, 0);
  llm_step_cost d = step_of(&r, 0, 1, 1024);
  double weights_time = llm_weights_bytes(m, 2) / (gpu_mem_bw(g) * g->memory_efficiency);
  printf("\n    llama2-7b A100 decode b1: %.2f ms (weights/bw %.2f ms)  ", d.total_s * 1e3, weights_time * 1e3);
  CU_ASSERT_TRUE(d.memory_s > 10 * d.compute_s);
  CS_ASSERT_REL(d.total_s, weights_time, 0.05);
  llm_step_cost p = step_of(&r, 4096, 0, 0);
  printf("prefill 4096: %.1f ms  ", p.total_s * 1e3);
  CU_ASSERT_TRUE(p.compute_s > p.memory_s);
  /* the published per-layer profile: 4,096 tokens through one Llama-2-7B
   * layer take about 7.49 ms on A100 (shared/reference), so 32 layers ~240 ms */
  CS_ASSERT_REL(p.linear_s / 32, 7.49e-3, 0.25);
  static const double batches[] = {1, 8, 64, 256};
  for (int i = 0; i < 4; i++) {
    llm_step_cost c = step_of(&r, 0, batches[i], 2048);
    CU_ASSERT_TRUE(c.total_s >= c.flops / gpu_peak_flops(g, GPU_FP16));
    CU_ASSERT_TRUE(c.total_s >= c.bytes / gpu_mem_bw(g));
    CU_ASSERT_TRUE(c.total_s >= llm_weights_bytes(m, 2) / gpu_mem_bw(g));
  }
  CU_ASSERT_TRUE(p.total_s >= p.flops / gpu_peak_flops(g, GPU_FP16));
}

static void test_monotone(void)
{
  llm_replica r;
  llm_replica_init(&r, cs_model("llama2-13b"), cs_gpu("h100-sxm"), GPU_FP16, 1, 1, NULL, NULL, 0.001);
  double prev = 0;
  for (double b = 1; b <= 512; b *= 2) {
    double t = step_of(&r, 0, b, 1024).total_s;
    CU_ASSERT_TRUE(t >= prev);
    prev = t;
  }
  prev = 0;
  for (double ctx = 128; ctx <= 4096; ctx *= 2) {
    double t = step_of(&r, 0, 32, ctx).total_s;
    CU_ASSERT_TRUE(t > prev);
    prev = t;
  }
  prev = 0;
  for (double n = 16; n <= 8192; n *= 2) {
    double t = step_of(&r, n, 0, 0).total_s;
    CU_ASSERT_TRUE(t > prev);
    prev = t;
  }
}

/* Tensor parallelism over NVLink against 100 Gb/s Ethernet: for a large
 * prefill the all-reduces are bandwidth-bound, so their times differ by the
 * ratio of effective bandwidths. */
static void test_tp_links(void)
{
  const llm_arch *m = cs_model("llama2-70b");
  const gpu_spec *g = cs_gpu("a100-80gb-sxm");
  const net_link *nv = cs_link("nvlink3"), *eth = cs_link("eth-100g");
  llm_replica rn, re;
  llm_replica_init(&rn, m, g, GPU_FP16, 8, 1, nv, NULL, 0);
  llm_replica_init(&re, m, g, GPU_FP16, 8, 1, eth, NULL, 0);
  llm_step_cost cn = step_of(&rn, 8192, 0, 0), ce = step_of(&re, 8192, 0, 0);
  double expected = net_bw(nv) / net_bw(eth);
  printf("\n    70B tp8 prefill 8192: nvlink %.1f ms (comm %.1f), eth-100g %.1f ms (comm %.1f); ratio %.1f, "
         "bandwidth ratio %.1f  ", cn.total_s * 1e3, cn.comm_s * 1e3, ce.total_s * 1e3, ce.comm_s * 1e3,
         ce.comm_s / cn.comm_s, expected);
  CU_ASSERT_TRUE(cn.total_s < ce.total_s);
  CS_ASSERT_REL(ce.comm_s / cn.comm_s, expected, 0.05);
  /* decode: small messages, latency-bound: the ratio follows latency */
  llm_step_cost dn = step_of(&rn, 0, 1, 1024), de = step_of(&re, 0, 1, 1024);
  CU_ASSERT_TRUE(de.comm_s > dn.comm_s);
  /* tp divides the linear layers' time */
  llm_replica r1;
  llm_replica_init(&r1, m, g, GPU_FP16, 1, 1, NULL, NULL, 0);
  CS_ASSERT_REL(step_of(&r1, 8192, 0, 0).linear_s / cn.linear_s, 8, 1e-9);
}

static void test_memory_fit(void)
{
  const llm_arch *m = cs_model("gpt3-175b");
  llm_replica r;
  llm_memory mem;
  llm_replica_init(&r, m, cs_gpu("a100-80gb-sxm"), GPU_FP16, 1, 1, NULL, NULL, 0);
  llm_memory_need(&r, 1024, 512, 1, &mem);
  CU_ASSERT_TRUE(mem.total > mem.usable);
  CS_ASSERT_REL(mem.weights, 2 * llm_params(m), 1e-12);
  llm_replica_init(&r, m, cs_gpu("a100-80gb-sxm"), GPU_FP16, 8, 1, cs_link("nvlink3"), NULL, 0);
  llm_memory_need(&r, 1024, 512, 1, &mem);
  CU_ASSERT_TRUE(mem.total < mem.usable);
  CS_ASSERT_REL(mem.weights, 2 * llm_params(m) / 8, 1e-12);
  /* 40 GB cards need twice as many */
  llm_replica_init(&r, m, cs_gpu("a100-40gb-sxm"), GPU_FP16, 8, 1, cs_link("nvlink3"), NULL, 0);
  llm_memory_need(&r, 1024, 512, 1, &mem);
  CU_ASSERT_TRUE(mem.total > mem.usable);
}

/* A number from `clustersim estimate --json` output; NAN (and a failure)
 * when it is absent. */
static double est_num(const result *r, const char *key)
{
  double v = NAN;
  CHECK(json_num(r->out, key, &v), "%s: no \"%s\" in:\n%s", r->cmd, key, r->out);
  return v;
}

/* `estimate`'s memory: the KV cache of the batch at the longest context
 * it reaches, the activations of a decode step of the batch (b tokens) or
 * of one prompt (in tokens), not of the batch's b x in prompt tokens at
 * once; a query that does not fit says the token counts it sized for. */
static void test_estimate_memory(void)
{
  const llm_arch *m = cs_model("llama2-70b");
  /* Llama 2 70B on 8 A100-80GB (tp 8), 512 sequences of 2,048 + 128
   * tokens. By hand, per GPU: weights 2 B x p / 8; KV cache 512 x 2,176
   * tokens x 2 (K, V) x 80 layers x 8 KV heads x 128 x 2 B / 8 (the KV
   * heads split over tp); activations of a 2,048-token step (one prompt:
   * it exceeds the 512-token decode step): 2,048 x (4 h + 2 ffn) / 8 x 2 B,
   * and 512 rows of fp32 logits, 512 x V / 8 x 4 B. Sized for 512 x 2,048
   * prompt tokens at once, the activations alone were 47 GiB and it did
   * not fit. */
  result r = RUN("estimate", "--model", "llama2-70b", "--gpus", "8", "--batch", "512", "--tokens-in", "2048",
                 "--tokens-out", "128", "--json");
  CHECK_RC(r, 0);
  double h = (double)m->hidden, f = 2.0 * (double)m->ffn, V = (double)m->vocab;
  double weights = 2 * llm_params(m) / 8;
  double kv = 512.0 * 2176 * 2 * (double)m->layers * (double)m->kv_heads * 128 * 2 / 8;
  double act = 2048 * (4 * h + f) / 8 * 2 + 512 * V / 8 * 4;
  CS_ASSERT_REL(est_num(&r, "kv_cache_tokens"), 512.0 * 2176, 1e-12);
  CS_ASSERT_REL(est_num(&r, "activation_step_tokens"), 2048, 1e-12);
  CS_ASSERT_REL(est_num(&r, "inference_memory_bytes"), 8 * (weights + kv + act), 1e-9);
  CS_ASSERT_REL(est_num(&r, "batch"), 512, 1e-12);
  result_free(&r);
  /* a decode step of 4,096 short sequences: the step is the batch */
  r = RUN("estimate", "--model", "llama2-7b", "--gpus", "1", "--batch", "4096", "--tokens-in", "16",
          "--tokens-out", "1", "--json");
  CHECK_RC(r, 0);
  CS_ASSERT_REL(est_num(&r, "activation_step_tokens"), 4096, 1e-12);
  result_free(&r);
  /* too large: "does not fit" (scripts match those words), the KV cache
   * sized for --context 4,096 per sequence (not in + out = 2,176) */
  r = RUN("estimate", "--model", "llama2-70b", "--gpus", "4", "--batch", "1024", "--tokens-in", "2048",
          "--tokens-out", "128", "--context", "4096");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--gpus: llama2-70b in fp16 does not fit on 4 x a100-80gb-sxm");
  CHECK_ERR_HAS(r, "KV cache 320.0 for 1024 x 4096 tokens");
  CHECK_ERR_HAS(r, "activations 0.1 for a 2048-token step");
  CHECK_ERR_HAS(r, "short by");
  result_free(&r);
  /* the cost per 1,000 tokens says at which batch (the JSON key stays) */
  r = RUN("estimate", "--model", "llama2-7b", "--gpus", "1", "--batch", "8", "--price", "2");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "cost per 1,000 tokens at batch 8 (USD)");
  CHECK_OUT_HAS(r, "usd_per_1k_tokens");
  result_free(&r);
}

/* Ring all-reduce: base + 2(n-1) alpha + 2(n-1)/n S / bw. Check by hand on
 * a link of 100 GB/s at efficiency 1 and 10 us: n = 4, S = 1 GB:
 * 6 us + 6 x 10 us + 1.5 x 1e9 / 1e11 = 66 us + 15 ms. */
static void test_collectives(void)
{
  net_link l = {.name = "test", .bw_gbs = 100, .latency_us = 10, .efficiency = 1};
  CS_ASSERT_REL(net_allreduce_s(&l, 4, 1e9, NET_RING), 6e-6 + 60e-6 + 15e-3, 1e-12);
  CU_ASSERT_EQUAL(net_allreduce_s(&l, 1, 1e9, NET_BEST), 0);
  /* small messages: the tree's 2 log2(n) latencies beat the ring's 2(n-1) */
  CU_ASSERT_TRUE(net_allreduce_s(&l, 64, 1e3, NET_TREE) < net_allreduce_s(&l, 64, 1e3, NET_RING));
  /* large messages: both are bandwidth-bound, within a few percent */
  CS_ASSERT_REL(net_allreduce_s(&l, 64, 1e9, NET_RING), net_allreduce_s(&l, 64, 1e9, NET_TREE), 0.06);
  /* all-gather: base + (n-1) alpha + (n-1)/n S / bw */
  CS_ASSERT_REL(net_allgather_s(&l, 4, 1e9), 6e-6 + 30e-6 + 7.5e-3, 1e-12);
  CS_ASSERT_REL(net_p2p_s(&l, 1e6), 10e-6 + 1e-5, 1e-12);
}


int main(void)
{
  if (!cs_catalogs()) return 1;
  static const cs_test tests[] = {
    {"catalogs have the required names", test_required_names},
    {"parameter counts within 2% of published", test_param_counts},
    {"KV cache bytes per token", test_kv_cache},
    {"the seed article's GPT-3 arithmetic", test_seed_arithmetic},
    {"roofline: decode memory-bound, prefill compute-bound, bounds hold", test_roofline},
    {"step time grows with batch, context and prompt", test_monotone},
    {"tensor parallel over NVLink vs Ethernet", test_tp_links},
    {"memory fit: GPT-3 on 1 and 8 A100s", test_memory_fit},
    {"alpha-beta collectives by hand", test_collectives},
    {"estimate: memory of a decode step and a prompt, not the batch's prompts", test_estimate_memory},
    {NULL, NULL},
  };
  int rc = cs_run_suite("llm", tests);
  cs_catalogs_free();
  return rc;
}
