/* tests/unit/test_train_memory.c: the training memory model
 * (models/training/train_memory.c) against Korthikanti et al. 2022
 * ("Reducing Activation Recomputation in Large Transformer Models", sec. 4
 * and Table 2) written out by hand, with and without dropout; per-layer
 * partial recomputation (Megatron's block method) and its compute cost;
 * the automatic choice of the cheapest recomputation that fits; what
 * offload moves and what it costs; the margin; the catalog's dropout
 * recipes; and bad values through the program (exit 2). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/training/train.h"
#include "sim/catalog.h"
#include "cattest.h"
#include "clitest.h"
#include "testutil.h"

/* A GPT-style layer (Korthikanti's: ffn 4h, plain MLP, q = kv = h). */
static llm_arch gpt(int64_t l, int64_t h, int64_t a, int64_t v)
{
  return (llm_arch){.name = "gpt", .layers = l, .hidden = h, .heads = a, .kv_heads = a, .ffn = 4 * h, .vocab = v,
                    .max_context = 8192, .ffn_kind = LLM_FFN_PLAIN, .positions = LLM_POS_LEARNED,
                    .norm = LLM_NORM_LAYER, .tied_embeddings = true, .biases = true, .experts = 1,
                    .experts_active = 1};
}

static const gpu_spec *gpu(const char *n) { return sim_catalog_find(cs_catalogs(), "gpus", n); }
static const net_link *link_(const char *n) { return sim_catalog_find(cs_catalogs(), "links", n); }

/* Table 2 of Korthikanti, per layer, for every tp and both sequence
 * parallelism settings, with dropout (34 sbh + 5 a s^2 b) and without (the
 * two 1-byte masks after attention and MLP, 2 sbh, and the attention
 * dropout's mask and output, 3 a s^2 b, gone). */
static void test_korthikanti_per_layer(void)
{
  llm_arch m = gpt(24, 4096, 32, 51200);
  train_job j;
  train_job_init(&j, &m, gpu("a100-80gb-sxm"));
  CU_ASSERT_TRUE(j.dropout); /* dropout_free unset: masks kept, as Korthikanti counts */
  j.flash_attention = false;
  j.seq_len = 2048;
  j.micro_batch = 2;
  double s = 2048, b = 2, h = 4096, a = 32;
  static const int tps[] = {1, 2, 4, 8};
  for (int i = 0; i < 4; i++) {
    double t = tps[i];
    j.tp = tps[i];
    for (int sp = 0; sp < 2; sp++) {
      j.seq_parallel = sp;
      double linear = sp ? 34 / t : 10 + 24 / t, linear_nd = sp ? 32 / t : 8 + 24 / t;
      j.dropout = true;
      CS_ASSERT_REL(train_layer_activation_bytes(&j, LLM_RECOMPUTE_NONE), s * b * h * (linear + 5 * a * s / (h * t)), 1e-12);
      CS_ASSERT_REL(train_layer_activation_bytes(&j, LLM_RECOMPUTE_SELECTIVE), s * b * h * linear, 1e-12);
      CS_ASSERT_REL(train_layer_activation_bytes(&j, LLM_RECOMPUTE_FULL), 2 * s * b * h / (sp ? t : 1), 1e-12);
      j.dropout = false;
      CS_ASSERT_REL(train_layer_activation_bytes(&j, LLM_RECOMPUTE_NONE), s * b * h * (linear_nd + 2 * a * s / (h * t)), 1e-12);
      CS_ASSERT_REL(train_layer_activation_bytes(&j, LLM_RECOMPUTE_SELECTIVE), s * b * h * linear_nd, 1e-12);
      CS_ASSERT_REL(train_layer_activation_bytes(&j, LLM_RECOMPUTE_FULL), 2 * s * b * h / (sp ? t : 1), 1e-12);
      /* FlashAttention keeps no scores, only its fp32 log-sum-exp, 4 a s b / t */
      j.flash_attention = true;
      CS_ASSERT_REL(train_layer_activation_bytes(&j, LLM_RECOMPUTE_NONE), s * b * h * linear_nd + 4 * a * s * b / t, 1e-12);
      CS_ASSERT_REL(train_layer_activation_bytes(&j, LLM_RECOMPUTE_SELECTIVE), s * b * h * linear_nd, 1e-12);
      j.flash_attention = false;
    }
  }
  /* a Llama-style layer, the same terms at its widths: h 4096, 32 query
   * heads, 8 KV heads of 128 (kv 1024), gated MLP of 14336, no dropout,
   * tp 2: outside 8h = 32768; inside (2 (q + kv) + 2 kv + 2 q + 6 f) / t =
   * (10240 + 2048 + 8192 + 86016) / 2 = 53248; FlashAttention 4 a / t = 64
   * bytes per token */
  llm_arch ll = {.name = "llama", .layers = 32, .hidden = 4096, .heads = 32, .kv_heads = 8, .ffn = 14336,
                 .vocab = 128256, .max_context = 8192, .ffn_kind = LLM_FFN_GATED, .positions = LLM_POS_ROTARY,
                 .norm = LLM_NORM_RMS, .experts = 1, .experts_active = 1, .dropout_free = true};
  train_job_init(&j, &ll, gpu("h100-sxm"));
  CU_ASSERT_FALSE(j.dropout);
  j.tp = 2;
  j.seq_len = 8192;
  CS_ASSERT_REL(train_layer_activation_bytes(&j, LLM_RECOMPUTE_NONE), 8192.0 * (32768 + 53248 + 64), 1e-12);
}

/* The stage: layers x per layer for the micro-batches in flight, the
 * embedding's dropout mask on the first stage (s b h each), the last
 * stage's output-layer inputs 4 s b h and fp32 logits 4 s b V / t (2 s b V
 * / t fused), and a recomputed layer materialised once. */
static void test_stage_memory(void)
{
  llm_arch m = gpt(32, 4096, 32, 51200);
  train_job j;
  train_job_init(&j, &m, gpu("a100-80gb-sxm"));
  j.flash_attention = false;
  j.tp = 2;
  j.global_batch = 8;
  double s = 2048, b = 1, h = 4096, V = 51200, t = 2;
  double none = train_layer_activation_bytes(&j, LLM_RECOMPUTE_NONE);
  double full = train_layer_activation_bytes(&j, LLM_RECOMPUTE_FULL);
  double out = 4 * s * b * h + 4 * s * b * V / t;
  train_memory mem;
  /* one stage: one micro-batch in flight */
  j.recompute = LLM_RECOMPUTE_NONE;
  train_memory_need(&j, &mem);
  CS_ASSERT_REL(mem.activations, 32 * none + s * b * h + out, 1e-12);
  CS_ASSERT_REL(mem.margin_bytes, mem.capacity - mem.total, 1e-12);
  CU_ASSERT_EQUAL(mem.stage, 0);
  j.fused_cross_entropy = true;
  train_memory_need(&j, &mem);
  CS_ASSERT_REL(mem.activations, 32 * none + s * b * h + 4 * s * b * h + 2 * s * b * V / t, 1e-12);
  j.fused_cross_entropy = false;
  j.recompute = LLM_RECOMPUTE_FULL;
  train_memory_need(&j, &mem);
  CS_ASSERT_REL(mem.activations, 32 * full + none + s * b * h + out, 1e-12);
  /* four stages of 8 layers, 8 micro-batches: the first holds 4 in flight,
   * the last 1 and the output layer */
  j.recompute = LLM_RECOMPUTE_NONE;
  j.pp = 4;
  train_memory_need(&j, &mem);
  double first = 4 * (8 * none + s * b * h), last = 8 * none + out;
  CU_ASSERT_TRUE(first > last);
  CS_ASSERT_REL(mem.activations, first, 1e-12);
  CU_ASSERT_EQUAL(mem.stage, 0);
  /* a long vocabulary makes the last stage the busier one */
  llm_arch wide = gpt(32, 4096, 32, 8000000);
  j.model = &wide;
  train_memory_need(&j, &mem);
  CU_ASSERT_EQUAL(mem.stage, 3);
  CS_ASSERT_REL(mem.activations, 8 * none + 4 * s * b * h + 4 * s * b * 8000000.0 / t, 1e-12);
  /* interleaved, v = 2: the first stage holds p (1 + (p-1)/(p v)) = 5.5
   * stages' worth, 11 chunk micro-batches; the embedding's mask only on
   * those of its first chunk: the warm-up of 10 runs chunk 0 of micro-
   * batches 0-3, chunk 1 of 0-3, chunk 0 of 4 and 5; then a forward of
   * chunk 0 (7), a backward of chunk 1, a forward of chunk 0: 8 masks */
  j.model = &m;
  j.interleave = 2;
  train_memory_need(&j, &mem);
  CS_ASSERT_REL(mem.activations, 5.5 * 8 * none + 8 * s * b * h, 1e-12);
}

/* Megatron's block method: N of a chunk's Lc layers keep their input only,
 * the rest everything: per micro-batch N 2sbh + (Lc - N) none, plus one
 * layer materialised; between full (N = Lc) and none (N = 0), linearly.
 * Its compute repeats only those N layers' forward: hardware FLOPs grow by
 * N / Lc of full recomputation's extra, compute time linearly in N. */
static void test_partial_recompute(void)
{
  llm_arch m = gpt(32, 4096, 32, 51200);
  train_job j;
  train_job_init(&j, &m, gpu("a100-80gb-sxm"));
  j.flash_attention = false;
  j.tp = 4;
  j.pp = 2;
  j.dp = 1;
  j.global_batch = 8;
  j.net_link = link_("ib-hdr");
  char why[256];
  double none = train_layer_activation_bytes(&j, LLM_RECOMPUTE_NONE);
  double full = train_layer_activation_bytes(&j, LLM_RECOMPUTE_FULL);
  double emb = 2048.0 * 4096;  /* s b h, one micro-batch */
  train_memory mem, prev = {0};
  train_step_result r0, r1, r;
  j.recompute = LLM_RECOMPUTE_NONE;
  train_step(&j, &r0);
  double model = train_model_flops(&j);
  j.recompute = LLM_RECOMPUTE_FULL;
  double hw_full = train_hardware_flops(&j);
  for (int n = 1; n <= 16; n++) {
    j.recompute_layers = n;
    CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
    CU_ASSERT_EQUAL(train_recomputed_layers(&j), n);
    train_memory_need(&j, &mem);
    /* stage 0 of 16 layers, min(p, m) = 2 micro-batches in flight */
    CS_ASSERT_REL(mem.activations, 2 * (n * full + (16 - n) * none + emb) + none, 1e-12);
    if (n > 1) CU_ASSERT_TRUE(mem.activations < prev.activations);
    prev = mem;
    CS_ASSERT_REL(train_hardware_flops(&j) - model, n / 16.0 * (hw_full - model), 1e-9);
    train_step(&j, &r);
    if (n == 1) r1 = r;
    /* compute(N) = compute(none) + N (compute(1) - compute(none)) */
    CS_ASSERT_REL(r.compute_s - r0.compute_s, n * (r1.compute_s - r0.compute_s), 1e-9);
  }
  /* N = Lc is full recomputation */
  train_memory all;
  j.recompute_layers = 0;
  train_memory_need(&j, &all);
  CS_ASSERT_REL(all.activations, prev.activations, 1e-12);
  train_step(&j, &r1);
  CS_ASSERT_REL(r1.iteration_s, r.iteration_s, 1e-12);
  /* beyond a stage's layers, or without full recomputation: refused */
  j.recompute_layers = 17;
  CU_ASSERT_STRING_EQUAL(train_job_check(&j, why, sizeof why), "recompute_layers");
  CU_ASSERT_PTR_NOT_NULL(strstr(why, "beyond the 16 layers of a stage"));
  j.interleave = 2;
  j.recompute_layers = 9;
  CU_ASSERT_STRING_EQUAL(train_job_check(&j, why, sizeof why), "recompute_layers");
  CU_ASSERT_PTR_NOT_NULL(strstr(why, "beyond the 8 layers of a virtual stage"));
  j.interleave = 1;
  j.recompute_layers = 4;
  j.recompute = LLM_RECOMPUTE_SELECTIVE;
  CU_ASSERT_STRING_EQUAL(train_job_check(&j, why, sizeof why), "recompute_layers");
}

/* The cheapest that fits: a case built so that neither none nor selective
 * fits and full recomputation of k layers per stage is the first that
 * does, k from the closed form: activations(N) = 2 (N f + (Lc - N) n + e)
 * + n for N < Lc, so N >= (state + 2 (Lc n + e) + n - C) / (2 (n - f)). */
static void test_auto_choice(void)
{
  /* 22B parameters on tp 8 x pp 2 (21 GiB of state per GPU), micro-batches
   * of 5 x 4,096 tokens, two in flight on the first stage */
  llm_arch m = gpt(48, 6144, 48, 51200);
  train_job j;
  train_job_init(&j, &m, gpu("a100-80gb-sxm"));
  j.flash_attention = false;
  j.tp = 8;
  j.pp = 2;
  j.dp = 1;
  j.seq_len = 4096;
  j.micro_batch = 5;
  j.global_batch = 80;
  j.net_link = link_("ib-hdr");
  j.recompute = TRAIN_RECOMPUTE_AUTO;
  char why[256];
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  train_memory mem;
  bool fits = train_job_fit(&j, &mem);
  CU_ASSERT_TRUE(fits);
  CU_ASSERT_EQUAL(j.recompute, LLM_RECOMPUTE_FULL);
  double n = train_layer_activation_bytes(&j, LLM_RECOMPUTE_NONE), f = train_layer_activation_bytes(&j, LLM_RECOMPUTE_FULL);
  double e = 4096.0 * 5 * 6144, state = mem.weights + mem.grads + mem.optimizer, C = mem.capacity;
  int want = (int)ceil((state + 2 * (24 * n + e) + n - C) / (2 * (n - f)));
  CU_ASSERT_TRUE(want > 1 && want < 24);
  CU_ASSERT_EQUAL(j.recompute_layers, want);
  CU_ASSERT_TRUE(mem.margin_bytes >= 0);
  /* and the ones before it do not fit */
  train_job k = j;
  train_memory no;
  k.recompute_layers = want - 1;
  train_memory_need(&k, &no);
  CU_ASSERT_FALSE(no.fits);
  CU_ASSERT_TRUE(no.margin_bytes < 0);
  CS_ASSERT_REL(-no.margin_bytes, no.short_bytes, 1e-12);
  k.recompute = LLM_RECOMPUTE_SELECTIVE;
  k.recompute_layers = 0;
  train_memory_need(&k, &no);
  CU_ASSERT_FALSE(no.fits);
  /* plenty of memory: none; none at all: full on every layer, not fitting */
  j.recompute = TRAIN_RECOMPUTE_AUTO;
  j.seq_len = 512;
  CU_ASSERT_TRUE(train_job_fit(&j, &mem));
  CU_ASSERT_EQUAL(j.recompute, LLM_RECOMPUTE_NONE);
  j.recompute = TRAIN_RECOMPUTE_AUTO;
  j.tp = 1;
  j.seq_len = 4096;
  CU_ASSERT_FALSE(train_job_fit(&j, &mem));
  CU_ASSERT_EQUAL(j.recompute, LLM_RECOMPUTE_FULL);
  CU_ASSERT_EQUAL(j.recompute_layers, 0);
  /* a level that is given is kept */
  j.recompute = LLM_RECOMPUTE_SELECTIVE;
  j.tp = 8;
  train_job_fit(&j, &mem);
  CU_ASSERT_EQUAL(j.recompute, LLM_RECOMPUTE_SELECTIVE);
}

/* Optimizer offload moves exactly the Adam state (12 B per parameter of
 * the shard) and replaces the GPU's Adam step by the gradients' download
 * (exposed past the last backward), then max(CPU step, weights' upload);
 * activation offload keeps two layers on the GPU and, when the host link is
 * slower than the compute, makes every forward and backward of a chunk last
 * its transfer. */
static void test_offload(void)
{
  llm_arch m = gpt(24, 2048, 16, 51200);
  const gpu_spec *g = gpu("a100-80gb-sxm");
  train_job j;
  train_job_init(&j, &m, g);
  j.flash_attention = false;
  j.dp = 1;
  j.zero = 1;
  j.micro_batch = 16; /* a backward long enough to hide the gradients' download */
  j.global_batch = 64;
  j.recompute = LLM_RECOMPUTE_NONE;
  char why[256];
  train_memory base, off;
  train_step_result r0, r;
  train_step(&j, &r0);
  base = r0.mem;
  j.offload = TRAIN_OFFLOAD_OPTIMIZER;
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  train_memory_need(&j, &off);
  CU_ASSERT_EQUAL(off.optimizer, 0);
  CS_ASSERT_REL(off.host_bytes, base.optimizer, 1e-12);
  CS_ASSERT_REL(base.optimizer, 12 * base.params, 1e-12);
  CS_ASSERT_REL(base.total - off.total, base.optimizer, 1e-12);
  CS_ASSERT_REL(off.activations, base.activations, 1e-12);
  train_step(&j, &r);
  const net_link *host = g->host_link;
  double p = base.params, down = net_p2p_s(host, 2 * p), up = net_p2p_s(host, 2 * p), cpu = p / 4.5e9;
  CS_ASSERT_REL(r.cpu_optimizer_s, cpu, 1e-12);  /* one GPU: all the node's cores */
  /* the last micro-batch's backward is far longer than the download */
  CS_ASSERT_REL(r.optimizer_s, fmax(cpu, up), 1e-12);
  CU_ASSERT_TRUE(down < r0.compute_s / 4 / 3);
  CS_ASSERT_REL(r.iteration_s - r.optimizer_s, r0.iteration_s - r0.optimizer_s, 1e-12);
  CS_ASSERT_REL(r.offload_transfer_s, down + up, 1e-12);

  /* activations: four micro-batches of one sequence on one stage, one in flight */
  j.offload = 0;
  j.micro_batch = 1;
  j.global_batch = 4;
  train_step(&j, &r0);
  base = r0.mem;
  j.offload = TRAIN_OFFLOAD_ACTIVATIONS;
  train_memory_need(&j, &off);
  double none = train_layer_activation_bytes(&j, LLM_RECOMPUTE_NONE);
  double s = 2048, h = 2048, out = 4 * s * h + 4 * s * 51200;
  CS_ASSERT_REL(base.activations, 24 * none + s * h + out, 1e-12);
  CS_ASSERT_REL(off.activations, 2 * none + s * h + out, 1e-12);
  CS_ASSERT_REL(off.host_bytes, 22 * none, 1e-12);
  train_step(&j, &r);
  double x = net_p2p_s(host, 24 * none);  /* a chunk's transfer, each way */
  double fb = r0.iteration_s - r0.optimizer_s;  /* pp = dp = 1: the micro-batches' forward + backward */
  CU_ASSERT_TRUE(x > fb / 4);  /* slower than a whole micro-batch: every op waits for its transfer */
  CS_ASSERT_REL(r.iteration_s, 4 * 2 * x + r.optimizer_s, 1e-9);
  CS_ASSERT_REL(r.offload_exposed_s, 4 * 2 * x - fb, 1e-9);
  CS_ASSERT_REL(r.offload_transfer_s, 4 * 2 * x, 1e-12);
  CS_ASSERT_REL(r.compute_s + r.tp_comm_s + r.offload_exposed_s + r.bubble_s + r.pp_comm_s + r.dp_exposed_s +
                r.optimizer_s, r.iteration_s, 1e-9);

  /* with ZeRO 2 the gradient shard leaves too: dp 4, a quarter of each;
   * the gradients of bf16 training are fp32 (4 B) */
  j.dp = 4;
  j.global_batch = 16;
  j.zero = 2;
  j.offload = 0;
  train_memory_need(&j, &base);
  j.offload = TRAIN_OFFLOAD_OPTIMIZER;
  train_memory_need(&j, &off);
  CS_ASSERT_REL(base.grads, 4 * base.params / 4, 1e-12);
  CS_ASSERT_REL(base.optimizer, 12 * base.params / 4, 1e-12);
  CU_ASSERT_EQUAL(off.grads, 0);
  CU_ASSERT_EQUAL(off.optimizer, 0);
  CS_ASSERT_REL(off.host_bytes, 16 * base.params / 4, 1e-12);
  CS_ASSERT_REL(base.total - off.total, 16 * base.params / 4, 1e-12);
  j.dp = 1;
  j.global_batch = 4;
  /* the optimizer's shard needs ZeRO >= 1 */
  j.offload = TRAIN_OFFLOAD_OPTIMIZER;
  j.zero = 0;
  CU_ASSERT_STRING_EQUAL(train_job_check(&j, why, sizeof why), "offload");
  /* the lists */
  char bad[32];
  CU_ASSERT_EQUAL(train_offload_parse("optimizer,activations", bad, sizeof bad), 3);
  CU_ASSERT_EQUAL(train_offload_parse("activations", bad, sizeof bad), TRAIN_OFFLOAD_ACTIVATIONS);
  CU_ASSERT_EQUAL(train_offload_parse("", bad, sizeof bad), 0);
  CU_ASSERT_EQUAL(train_offload_parse("optimizer,gpu", bad, sizeof bad), -1);
  CU_ASSERT_STRING_EQUAL(bad, "gpu");
  char txt[64];
  CU_ASSERT_STRING_EQUAL(train_offload_text(3, txt, sizeof txt), "optimizer,activations");
  CU_ASSERT_STRING_EQUAL(train_offload_text(0, txt, sizeof txt), "none");
}

/* The catalog says which models were trained without dropout. */
static void test_catalog_dropout(void)
{
  static const struct {
    const char *model;
    bool dropout;
  } want[] = {{"llama2-7b", false}, {"llama3-70b", false}, {"mixtral-8x7b", false}, {"gpt-j-6b", false},
              {"gpt3-175b", true}, {"opt-175b", true}, {"bert-large", true}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const llm_arch *m = sim_catalog_find(cs_catalogs(), "models", want[i].model);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    train_job j;
    train_job_init(&j, m, gpu("h100-sxm"));
    CHECK(j.dropout == want[i].dropout, "%s: dropout %d", want[i].model, j.dropout);
    train_job_dropout(&j, 0);
    CU_ASSERT_EQUAL(j.dropout, want[i].dropout);
    train_job_dropout(&j, 1);
    CU_ASSERT_TRUE(j.dropout);
    train_job_dropout(&j, 2);
    CU_ASSERT_FALSE(j.dropout);
  }
  /* dropout on for Llama 2 7B (FlashAttention, one stage, recompute none):
   * 2 s b h more per layer (the two masks) and the embedding's mask s b h */
  const llm_arch *m = sim_catalog_find(cs_catalogs(), "models", "llama2-7b");
  train_job j;
  train_job_init(&j, m, gpu("h100-sxm"));
  j.recompute = LLM_RECOMPUTE_NONE;
  j.seq_len = 4096;
  train_memory off, on;
  train_memory_need(&j, &off);
  train_job_dropout(&j, 1);
  train_memory_need(&j, &on);
  double sbh = 4096.0 * 4096;
  CS_ASSERT_REL(on.activations - off.activations, 32 * 2 * sbh + sbh, 1e-9);
  result r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpus", "8", "--zero", "3", "--global-batch", "64",
                 "--dropout", "on", "--json");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "\"dropout\": \"kept\"");
  result_free(&r);
}

/* Through the program: the margin and the choice in the JSON, the new
 * keys of the training section, bad values with their flag or key, exit 2. */
static void test_cli(void)
{
  result r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpu", "a100-80gb-sxm", "--gpus", "64", "--zero", "1",
                 "--global-batch", "512", "--seq-len", "4096", "--micro-batch", "4", "--json");
  CHECK_RC(r, 0);
  double margin = NAN, cap = NAN, need = NAN, layers = NAN;
  CHECK(json_num(r.out, "memory_margin_bytes", &margin) && json_num(r.out, "gpu_memory_bytes", &cap) &&
        json_num(r.out, "memory_per_gpu_bytes", &need) && json_num(r.out, "recompute_layers", &layers),
        "%s: no margin in:\n%s", r.cmd, r.out);
  CS_ASSERT_REL(margin, cap - need, 1e-9);
  CHECK(margin >= 0 && layers > 0 && layers < 32, "%s: margin %g, layers %g", r.cmd, margin, layers);
  CHECK_OUT_HAS(r, "\"recompute\": \"full\"");
  CHECK_OUT_HAS(r, "\"recompute_choice\": \"auto\"");
  result_free(&r);

  r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpus", "64", "--global-batch", "512", "--recompute", "full",
          "--recompute-layers", "33");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--recompute-layers: 33 is beyond the 32 layers of a stage");
  result_free(&r);
  r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpus", "64", "--global-batch", "512", "--recompute-layers", "3");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--recompute-layers: 3 recomputed layers need full recomputation");
  result_free(&r);
  r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpus", "64", "--global-batch", "512", "--zero", "1",
          "--offload", "optimizer,weights");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--offload: unknown item 'weights'");
  result_free(&r);
  r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpus", "64", "--global-batch", "512", "--offload", "optimizer");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--offload: offloading the optimizer needs");
  result_free(&r);

  char *dir = cs_tmpdir("train_memory_cli");
  char *cfg = cs_write_file(dir, "t.cfg",
                            "name = \"t\";\ntraining = {\n  model = \"llama2-7b\"; gpus = 64; zero = 1;\n"
                            "  global_batch = 512; seq_len = 4096; micro_batch = 4;\n  recompute = \"full\";\n"
                            "  recompute_layers = 20;\n  offload = [\"optimizer\"];\n  train_tokens = 1e10;\n};\n");
  static const char *const none[] = {NULL};
  char *json = cs_run_summary(__FILE__, __LINE__, dir, "t.cfg", "o", none);
  double m = NAN;
  if (json) {
    m = cs_summary_num(__FILE__, __LINE__, json, "memory_margin_bytes");
    double host = cs_summary_num(__FILE__, __LINE__, json, "host_memory_bytes");
    double rl = cs_summary_num(__FILE__, __LINE__, json, "recompute_layers");
    CHECK(m > 0 && host > 0 && rl == 20, "margin %g, host %g, layers %g", m, host, rl);
    free(json);
  }
  /* the same job through estimate --train gives the same margin */
  r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpus", "64", "--zero", "1", "--global-batch", "512",
          "--seq-len", "4096", "--micro-batch", "4", "--recompute", "full", "--recompute-layers", "20", "--offload",
          "optimizer", "--train-tokens", "1e10", "--json");
  CHECK_RC(r, 0);
  double em = NAN;
  CHECK(json_num(r.out, "memory_margin_bytes", &em), "%s: no margin", r.cmd);
  CS_CHECK_REL(em, m, 1e-9, "estimate --train's margin against the training section's");
  result_free(&r);
  free(cfg);
  cfg = cs_write_file(dir, "bad.cfg",
                      "name = \"b\";\ntraining = {\n  model = \"llama2-7b\"; gpus = 64; zero = 1;\n"
                      "  global_batch = 512;\n  offload = [\"optimizer\", \"disk\"];\n  train_tokens = 1e10;\n};\n");
  r = run_in(dir, "check", "bad.cfg", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "training.offload: unknown item \"disk\"");
  result_free(&r);
  free(cfg);
  cfg = cs_write_file(dir, "bad2.cfg",
                      "name = \"b\";\ntraining = {\n  model = \"llama2-7b\"; gpus = 64; zero = 1;\n"
                      "  global_batch = 512;\n  recompute = \"full\"; recompute_layers = 64;\n  train_tokens = 1e10;\n};\n");
  r = run_in(dir, "check", "bad2.cfg", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "training.recompute_layers: 64 is beyond the 32 layers of a stage");
  result_free(&r);
  free(cfg);
  free(dir);
}

int main(void)
{
  if (!cs_catalogs()) return 1;
  static const cs_test tests[] = {
    {"per layer: Korthikanti's Table 2, with and without dropout", test_korthikanti_per_layer},
    {"per stage: in flight, embedding mask, output layer and logits", test_stage_memory},
    {"partial recomputation: N layers per stage, memory and compute", test_partial_recompute},
    {"auto: the cheapest recomputation that fits", test_auto_choice},
    {"offload: what moves and what it costs", test_offload},
    {"catalog: dropout-free recipes", test_catalog_dropout},
    {"estimate --train and the training section", test_cli},
    {NULL, NULL},
  };
  int rc = cs_run_suite("train_memory", tests);
  cs_catalogs_free();
  return rc;
}
