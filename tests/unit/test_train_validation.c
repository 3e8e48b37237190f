/* tests/unit/test_train_validation.c: the training model (models/training/
 * train.h) against the published throughput of real training runs: every
 * row of shared/reference/training_calibration.csv (Megatron-LM 2021 weak
 * scaling, MosaicML llm-foundry benchmarks). The cases are a table here
 * with their sources and the settings each run used; the model's constants
 * are shared by all of them (nothing per row). Run it to print the table
 * (markdown, as in models/VALIDATION.md). The test holds each row within
 * TRAIN_VALIDATION_DRIFT of the error recorded with it (a deliberate change
 * of the model updates the records and VALIDATION.md together) and counts
 * the rows within the 15% target. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/gpu/gpu.h"
#include "models/interconnect/net.h"
#include "models/llm/llm.h"
#include "models/training/train.h"
#include "models/training/train_stack.h"
#include "driver/config/catalog_load.h"
#include "cattest.h"
#include "testutil.h"

#define TRAIN_VALIDATION_DRIFT 0.03
#define TRAIN_VALIDATION_TARGET 0.15
/* fitting rows within the target now: all 20 since the loss over the
 * vocabulary is counted (models/training/train_launch.c; MPT-350M in FP8
 * was +27% before, +12% now); it may only go up */
#define TRAIN_VALIDATION_FIT_MIN_WITHIN 20

typedef enum { MEGATRON, MOSAIC } family;

typedef struct {
  const char *id;
  family fam;
  const char *what;
  int layers, hidden, heads;
  int gpus, tp, pp, interleave, micro_batch, global_batch;
  const char *gpu;
  gpu_precision dtype;
  bool full_recompute;
  double published;       /* TFLOP/s per GPU (Megatron) or tokens/s per GPU (MosaicML) */
  double expect_err;      /* the error this model gives now */
  int seq_len;            /* 0: 2048 */
} tcase;

/* Megatron-LM 2021 (Narayanan et al., arXiv 2104.04473, Table 1): GPT
 * models, vocab 51,200, s = 2048, fp16, full recomputation, interleaved
 * schedule with scatter/gather, A100-80GB in DGX A100 nodes (NVLink3 in the
 * node, one 200 Gb/s HDR port per GPU). Micro-batch 1 and v = 2 virtual
 * stages (3 for 530B, whose 3 layers per stage do not halve) are our
 * assumptions: Table 1 does not give them. Gradients all-reduced after the
 * backward pass (no overlap in the 2021 code), unfused softmax (no
 * FlashAttention in 2021).
 * MosaicML (llm-foundry scripts/train/benchmarking/README.md @061f2c7c):
 * MPT models (yamls in scripts/train/yamls/pretrain: d_model, n_heads,
 * n_layers; vocab 50,368, ALiBi, no biases), s = 2048, FSDP FULL_SHARD
 * (ZeRO-3) over all GPUs, bf16 (fp8 for one row), FlashAttention (triton),
 * "act ckpt" = full recomputation; A100 nodes joined by 1,600 Gb/s RoCE
 * (200 Gb/s per GPU: eth-200g); H100 networking not stated: ib-ndr
 * assumed (only the 64-GPU row leaves a node). */
static const tcase cases[] = {
  {"MEG21-01", MEGATRON, "GPT 1.7B, TP1 PP1 DP32", 24, 2304, 24, 32, 1, 1, 1, 1, 512, "a100-80gb-sxm", GPU_FP16, true, 137, -0.086, 0},
  {"MEG21-02", MEGATRON, "GPT 3.6B, TP2 PP1 DP32", 30, 3072, 32, 64, 2, 1, 1, 1, 512, "a100-80gb-sxm", GPU_FP16, true, 138, -0.077, 0},
  {"MEG21-03", MEGATRON, "GPT 7.5B, TP4 PP1 DP32", 36, 4096, 32, 128, 4, 1, 1, 1, 512, "a100-80gb-sxm", GPU_FP16, true, 142, -0.066, 0},
  {"MEG21-04", MEGATRON, "GPT 18.4B, TP8 PP1 DP32", 40, 6144, 48, 256, 8, 1, 1, 1, 1024, "a100-80gb-sxm", GPU_FP16, true, 135, -0.037, 0},
  {"MEG21-05", MEGATRON, "GPT 39.1B, TP8 PP2 DP32", 48, 8192, 64, 512, 8, 2, 2, 1, 1536, "a100-80gb-sxm", GPU_FP16, true, 138, 0.043, 0},
  {"MEG21-06", MEGATRON, "GPT 76.1B, TP8 PP4 DP32", 60, 10240, 80, 1024, 8, 4, 3, 1, 1792, "a100-80gb-sxm", GPU_FP16, true, 140, 0.083, 0},
  {"MEG21-07", MEGATRON, "GPT 145.6B, TP8 PP8 DP24", 80, 12288, 96, 1536, 8, 8, 2, 1, 2304, "a100-80gb-sxm", GPU_FP16, true, 148, 0.060, 0},
  {"MEG21-08", MEGATRON, "GPT 310.1B, TP8 PP16 DP15", 96, 16384, 128, 1920, 8, 16, 2, 1, 2160, "a100-80gb-sxm", GPU_FP16, true, 155, 0.058, 0},
  {"MEG21-09", MEGATRON, "GPT 529.6B, TP8 PP35 DP9", 105, 20480, 128, 2520, 8, 35, 3, 1, 2520, "a100-80gb-sxm", GPU_FP16, true, 163, 0.052, 0},
  {"MEG21-10", MEGATRON, "GPT 1008B, TP8 PP64 DP6", 128, 25600, 160, 3072, 8, 64, 2, 1, 3072, "a100-80gb-sxm", GPU_FP16, true, 163, 0.055, 0},
  {"MOSAIC-70b-64-h100", MOSAIC, "MPT-70B, 64 H100, act ckpt", 80, 8192, 64, 64, 1, 1, 1, 8, 2048, "h100-sxm", GPU_BF16, true, 1039, -0.118, 0},
  {"MOSAIC-30b-8-h100", MOSAIC, "MPT-30B, 8 H100, act ckpt", 48, 7168, 56, 8, 1, 1, 1, 3, 504, "h100-sxm", GPU_BF16, true, 2002, -0.051, 0},
  {"MOSAIC-13b-8-h100", MOSAIC, "MPT-13B, 8 H100", 40, 5120, 40, 8, 1, 1, 1, 2, 16, "h100-sxm", GPU_BF16, false, 4792, 0.090, 0},
  {"MOSAIC-7b-8-h100", MOSAIC, "MPT-7B, 8 H100", 32, 4096, 32, 8, 1, 1, 1, 6, 48, "h100-sxm", GPU_BF16, false, 10643, -0.014, 0},
  {"MOSAIC-3b-8-h100-fp8", MOSAIC, "MPT-3B, 8 H100, FP8", 32, 2560, 20, 8, 1, 1, 1, 10, 480, "h100-sxm", GPU_FP8, false, 30586, 0.010, 0},
  {"MOSAIC-70b-64-a100", MOSAIC, "MPT-70B, 64 A100-80GB, act ckpt", 80, 8192, 64, 64, 1, 1, 1, 8, 2048, "a100-80gb-sxm", GPU_BF16, true, 410, -0.065, 0},
  {"MOSAIC-30b-8-a100", MOSAIC, "MPT-30B, 8 A100-80GB, act ckpt", 48, 7168, 56, 8, 1, 1, 1, 3, 504, "a100-80gb-sxm", GPU_BF16, true, 916, -0.118, 0},
  {"MOSAIC-13b-8-a100", MOSAIC, "MPT-13B, 8 A100-80GB", 40, 5120, 40, 8, 1, 1, 1, 2, 48, "a100-80gb-sxm", GPU_BF16, false, 2262, 0.029, 0},
  {"MOSAIC-7b-8-a100", MOSAIC, "MPT-7B, 8 A100-80GB", 32, 4096, 32, 8, 1, 1, 1, 6, 96, "a100-80gb-sxm", GPU_BF16, false, 4641, -0.016, 0},
  {"MOSAIC-1b-8-a100", MOSAIC, "MPT-1B, 8 A100-80GB", 24, 2048, 16, 8, 1, 1, 1, 14, 448, "a100-80gb-sxm", GPU_BF16, false, 20513, -0.003, 0},
  {"MOSAIC-70b-128-a100-40gb", MOSAIC, "MPT-70B, 128 A100-40GB, act ckpt", 80, 8192, 64, 128, 1, 1, 1, 4, 512, "a100-40gb-sxm", GPU_BF16, true, 376, -0.007, 0},
  {"MOSAIC-7b-128-a100-40gb", MOSAIC, "MPT-7B, 128 A100-40GB, act ckpt", 32, 4096, 32, 128, 1, 1, 1, 18, 2304, "a100-40gb-sxm", GPU_BF16, true, 3623, -0.043, 0},
};

/* Rows of the same llm-foundry README (@061f2c7c, "H100 80GB BF16", "H100
 * 80GB FP8" and "A100 80GB" tables) that are not in the calibration file:
 * the sequence-length sweeps of MPT-1B and MPT-3B (bf16, 8 GPUs, no
 * activation checkpointing), on which the FlashAttention efficiencies were
 * fitted (attention grows from 2% to 40% of the FLOPs from s = 512 to
 * 16,384), and the FP8 rows on which the FP8 GEMM efficiency was fitted
 * (the calibration file's FP8 row held out). */
static const tcase fit_cases[] = {
  {"LF-a100-1b-512", MOSAIC, "MPT-1B, s 512, 8 A100-80GB", 24, 2048, 16, 8, 1, 1, 1, 56, 1792, "a100-80gb-sxm", GPU_BF16, false, 23148, -0.001, 512},
  {"LF-a100-1b-8k", MOSAIC, "MPT-1B, s 8192, 8 A100-80GB", 24, 2048, 16, 8, 1, 1, 1, 3, 96, "a100-80gb-sxm", GPU_BF16, false, 13814, 0.011, 8192},
  {"LF-a100-1b-16k", MOSAIC, "MPT-1B, s 16384, 8 A100-80GB", 24, 2048, 16, 8, 1, 1, 1, 2, 64, "a100-80gb-sxm", GPU_BF16, false, 9956, -0.011, 16384},
  {"LF-a100-3b-512", MOSAIC, "MPT-3B, s 512, 8 A100-80GB", 32, 2560, 20, 8, 1, 1, 1, 40, 1920, "a100-80gb-sxm", GPU_BF16, false, 12127, -0.024, 512},
  {"LF-a100-3b-8k", MOSAIC, "MPT-3B, s 8192, 8 A100-80GB", 32, 2560, 20, 8, 1, 1, 1, 3, 144, "a100-80gb-sxm", GPU_BF16, false, 7695, -0.010, 8192},
  {"LF-a100-3b-16k", MOSAIC, "MPT-3B, s 16384, 8 A100-80GB", 32, 2560, 20, 8, 1, 1, 1, 1, 48, "a100-80gb-sxm", GPU_BF16, false, 5529, -0.006, 16384},
  {"LF-h100-1b-512", MOSAIC, "MPT-1B, s 512, 8 H100", 24, 2048, 16, 8, 1, 1, 1, 56, 1792, "h100-sxm", GPU_BF16, false, 52275, 0.007, 512},
  {"LF-h100-1b-2k", MOSAIC, "MPT-1B, s 2048, 8 H100", 24, 2048, 16, 8, 1, 1, 1, 14, 112, "h100-sxm", GPU_BF16, false, 45455, -0.001, 2048},
  {"LF-h100-1b-8k", MOSAIC, "MPT-1B, s 8192, 8 H100", 24, 2048, 16, 8, 1, 1, 1, 3, 96, "h100-sxm", GPU_BF16, false, 29157, 0.012, 8192},
  {"LF-h100-1b-16k", MOSAIC, "MPT-1B, s 16384, 8 H100", 24, 2048, 16, 8, 1, 1, 1, 2, 64, "h100-sxm", GPU_BF16, false, 19649, 0.026, 16384},
  {"LF-h100-3b-512", MOSAIC, "MPT-3B, s 512, 8 H100", 32, 2560, 20, 8, 1, 1, 1, 40, 1920, "h100-sxm", GPU_BF16, false, 27965, -0.019, 512},
  {"LF-h100-3b-2k-16", MOSAIC, "MPT-3B, s 2048, 16 H100", 32, 2560, 20, 16, 1, 1, 1, 10, 480, "h100-sxm", GPU_BF16, false, 24142, -0.002, 2048},
  {"LF-h100-3b-4k", MOSAIC, "MPT-3B, s 4096, 8 H100", 32, 2560, 20, 8, 1, 1, 1, 5, 240, "h100-sxm", GPU_BF16, false, 20964, -0.006, 4096},
  {"LF-h100-3b-8k", MOSAIC, "MPT-3B, s 8192, 8 H100", 32, 2560, 20, 8, 1, 1, 1, 3, 144, "h100-sxm", GPU_BF16, false, 16578, -0.012, 8192},
  {"LF-h100-3b-16k", MOSAIC, "MPT-3B, s 16384, 8 H100", 32, 2560, 20, 8, 1, 1, 1, 1, 48, "h100-sxm", GPU_BF16, false, 11152, 0.021, 16384},
  {"LF-fp8-1b-512", MOSAIC, "MPT-1B, s 512, 8 H100, FP8", 24, 2048, 16, 8, 1, 1, 1, 56, 1792, "h100-sxm", GPU_FP8, false, 70315, -0.046, 512},
  {"LF-fp8-1b-8k", MOSAIC, "MPT-1B, s 8192, 8 H100, FP8", 24, 2048, 16, 8, 1, 1, 1, 2, 64, "h100-sxm", GPU_FP8, false, 32010, 0.040, 8192},
  {"LF-fp8-3b-512", MOSAIC, "MPT-3B, s 512, 8 H100, FP8", 32, 2560, 20, 8, 1, 1, 1, 40, 1920, "h100-sxm", GPU_FP8, false, 36527, -0.002, 512},
  {"LF-fp8-3b-8k", MOSAIC, "MPT-3B, s 8192, 8 H100, FP8", 32, 2560, 20, 8, 1, 1, 1, 3, 144, "h100-sxm", GPU_FP8, false, 19146, 0.004, 8192},
  {"LF-fp8-350m-512", MOSAIC, "MPT-350M, s 512, 8 H100, FP8", 24, 1024, 16, 8, 1, 1, 1, 56, 1792, "h100-sxm", GPU_FP8, false, 154420, 0.104, 512},
};

/* Held-out rows of the same README, fitted on nothing: activation-
 * checkpointed runs at other sequence lengths and micro-batches, and the
 * smallest models. They record a bias the model has (checkpointed FSDP
 * runs predicted 6-16% slow, models/VALIDATION.md) rather than meet a
 * target; the test holds each at its recorded error. */
static const tcase check_cases[] = {
  {"LF-a100-7b-1k-ckpt", MOSAIC, "MPT-7B, s 1024, 8 A100-80GB, act ckpt", 32, 4096, 32, 8, 1, 1, 1, 64, 1024, "a100-80gb-sxm", GPU_BF16, true, 4357, -0.148, 1024},
  {"LF-a100-7b-4k-ckpt", MOSAIC, "MPT-7B, s 4096, 8 A100-80GB, act ckpt", 32, 4096, 32, 8, 1, 1, 1, 16, 256, "a100-80gb-sxm", GPU_BF16, true, 3684, -0.119, 4096},
  {"LF-a100-13b-1k-ckpt", MOSAIC, "MPT-13B, s 1024, 8 A100-80GB, act ckpt", 40, 5120, 40, 8, 1, 1, 1, 40, 960, "a100-80gb-sxm", GPU_BF16, true, 2330, -0.162, 1024},
  {"LF-a100-13b-4k-ckpt", MOSAIC, "MPT-13B, s 4096, 8 A100-80GB, act ckpt", 40, 5120, 40, 8, 1, 1, 1, 10, 240, "a100-80gb-sxm", GPU_BF16, true, 2060, -0.152, 4096},
  {"LF-a100-30b-512-ckpt", MOSAIC, "MPT-30B, s 512, 8 A100-80GB, act ckpt", 48, 7168, 56, 8, 1, 1, 1, 12, 2016, "a100-80gb-sxm", GPU_BF16, true, 967, -0.128, 512},
  {"LF-h100-7b-4k-ckpt", MOSAIC, "MPT-7B, s 4096, 8 H100, act ckpt", 32, 4096, 32, 8, 1, 1, 1, 16, 256, "h100-sxm", GPU_BF16, true, 8611, -0.135, 4096},
  {"LF-h100-13b-4k-ckpt", MOSAIC, "MPT-13B, s 4096, 8 H100, act ckpt", 40, 5120, 40, 8, 1, 1, 1, 10, 240, "h100-sxm", GPU_BF16, true, 4717, -0.141, 4096},
  {"LF-h100-30b-1k-ckpt", MOSAIC, "MPT-30B, s 1024, 8 H100, act ckpt", 48, 7168, 56, 8, 1, 1, 1, 6, 1008, "h100-sxm", GPU_BF16, true, 2084, -0.056, 1024},
  {"LF-a100-3b-2k", MOSAIC, "MPT-3B, s 2048, 8 A100-80GB", 32, 2560, 20, 8, 1, 1, 1, 10, 160, "a100-80gb-sxm", GPU_BF16, false, 10811, -0.016, 2048},
  {"LF-a100-760m-2k", MOSAIC, "MPT-760M, s 2048, 8 A100-80GB", 24, 1536, 12, 8, 1, 1, 1, 24, 384, "a100-80gb-sxm", GPU_BF16, false, 32434, 0.006, 2048},
  {"LF-a100-350m-2k", MOSAIC, "MPT-350M, s 2048, 8 A100-80GB", 24, 1024, 16, 8, 1, 1, 1, 32, 512, "a100-80gb-sxm", GPU_BF16, false, 58782, 0.020, 2048},
  {"LF-h100-760m-2k", MOSAIC, "MPT-760M, s 2048, 16 H100", 24, 1536, 12, 16, 1, 1, 1, 24, 384, "h100-sxm", GPU_BF16, false, 68551, 0.039, 2048},
};

static llm_arch arch_of(const tcase *c)
{
  bool meg = c->fam == MEGATRON;
  llm_arch a = {
    .name = c->id, .layers = c->layers, .hidden = c->hidden, .heads = c->heads, .kv_heads = c->heads,
    .ffn = 4 * (int64_t)c->hidden, .vocab = meg ? 51200 : 50368, .max_context = c->seq_len ? c->seq_len : 2048,
    .ffn_kind = LLM_FFN_PLAIN, .positions = meg ? LLM_POS_LEARNED : LLM_POS_ALIBI, .norm = LLM_NORM_LAYER,
    .tied_embeddings = true, .biases = meg, .experts = 1, .experts_active = 1,
    /* MPT trains without dropout (llm-foundry's MPT defaults: attn_pdrop,
     * resid_pdrop and emb_pdrop 0); Megatron-LM 2021 kept 0.1 */
    .dropout_free = !meg,
  };
  return a;
}

/* The job of a case; false if the catalog lacks its GPU or links. */
static bool job_of(const tcase *c, const llm_arch *a, train_job *j)
{
  const gpu_spec *g = sim_catalog_find(cs_catalogs(), "gpus", c->gpu);
  bool meg = c->fam == MEGATRON, hopper = !strcmp(c->gpu, "h100-sxm");
  /* each row names its stack (models/catalog/train_stacks.cfg): its
   * efficiencies, FlashAttention or not, its gradient overlap, FSDP prefetch */
  const train_stack *s = sim_catalog_find(cs_catalogs(), "train_stacks", meg ? "megatron-lm" : "composer");
  if (!g || !s) return false;
  train_job_init(j, a, g);
  train_stack_apply(j, s);
  j->dtype = c->dtype;
  j->tp = c->tp;
  j->pp = c->pp;
  j->dp = c->gpus / (c->tp * c->pp);
  j->interleave = c->interleave;
  j->micro_batch = c->micro_batch;
  j->global_batch = c->global_batch;
  j->seq_len = c->seq_len ? c->seq_len : 2048;
  j->recompute = c->full_recompute ? LLM_RECOMPUTE_FULL : LLM_RECOMPUTE_NONE;
  j->zero = meg ? 0 : 3;
  j->net_link = sim_catalog_find(cs_catalogs(), "links", meg ? "ib-hdr" : hopper ? "ib-ndr" : "eth-200g");
  return j->net_link != NULL;
}

/* Predicted metric of a case, in the unit it was published in. */
static double predict(const tcase *c, train_step_result *r)
{
  llm_arch a = arch_of(c);
  train_job j;
  char why[256];
  if (!job_of(c, &a, &j)) return NAN;
  const char *bad = train_job_check(&j, why, sizeof why);
  if (bad) {
    printf("\n    %s: %s: %s  ", c->id, bad, why);
    return NAN;
  }
  train_step(&j, r);
  if (!r->mem.fits) printf("\n    %s: needs %.1f GiB of %.1f  ", c->id, r->mem.total / 1073741824.0, r->mem.capacity / 1073741824.0);
  return c->fam == MEGATRON ? r->hardware_flops / r->iteration_s / c->gpus / 1e12 : r->tokens_per_s_per_gpu;
}

/* Print a table of cases, hold each within the drift of its record, and
 * return how many are within the target. */
static int check_table(const tcase *table, size_t n_cases)
{
  int within = 0;
  double sum_abs = 0;
  printf("\n| case | run | published | predicted | error | MFU | bubble | dp comm | dp exposed | optimizer |\n"
         "|---|---|---|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < n_cases; i++) {
    const tcase *c = &table[i];
    train_step_result r;
    double p = predict(c, &r), err = p / c->published - 1;
    printf("| %s | %s | %.4g %s | %.4g | %+.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f%% |\n", c->id, c->what,
           c->published, c->fam == MEGATRON ? "TFLOP/s/GPU" : "tok/s/GPU", p, 100 * err, 100 * r.mfu,
           100 * r.bubble_s / r.iteration_s, 100 * r.dp_comm_s / r.iteration_s, 100 * r.dp_exposed_s / r.iteration_s,
           100 * r.optimizer_s / r.iteration_s);
    CU_ASSERT_TRUE(isfinite(p));
    CU_ASSERT_TRUE(r.mem.fits);
    if (fabs(err - c->expect_err) > TRAIN_VALIDATION_DRIFT)
      printf("\n    case %s moved: error %+.1f%%, recorded %+.0f%%  ", c->id, 100 * err, 100 * c->expect_err);
    CU_ASSERT_TRUE(fabs(err - c->expect_err) <= TRAIN_VALIDATION_DRIFT);
    if (fabs(err) <= TRAIN_VALIDATION_TARGET) within++;
    sum_abs += fabs(err);
  }
  printf("\n%d of %zu within 15%%; mean absolute error %.1f%%\n", within, n_cases, 100 * sum_abs / n_cases);
  return within;
}

static void test_cases(void)
{
  int within = check_table(cases, sizeof cases / sizeof cases[0]);
  CU_ASSERT_EQUAL(within, (int)(sizeof cases / sizeof cases[0]));
}

static void test_check_cases(void)
{
  check_table(check_cases, sizeof check_cases / sizeof check_cases[0]);
}

static void test_fit_cases(void)
{
  int within = check_table(fit_cases, sizeof fit_cases / sizeof fit_cases[0]);
  CU_ASSERT_TRUE(within >= TRAIN_VALIDATION_FIT_MIN_WITHIN);
}

int main(void)
{
  if (!cs_catalogs()) return 1;
  static const cs_test tests[] = {
    {"calibration rows: every one within 15%", test_cases},
    {"fitting rows (sequence length, FP8) hold their errors", test_fit_cases},
    {"held-out rows (checkpointed, small models) hold their errors", test_check_cases},
    {NULL, NULL},
  };
  int rc = cs_run_suite("train_validation", tests);
  cs_catalogs_free();
  return rc;
}
