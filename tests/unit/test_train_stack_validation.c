/* tests/unit/test_train_stack_validation.c: the training stacks of
 * models/catalog/train_stacks.cfg against published runs of each stack,
 * fitting and held-out rows as declared (before the fit) in
 * models/validation/training/runs.md: NeMo's H100 FP8 table (megatron-core),
 * MLPerf Training's GPT-3 175B submissions (megatron-core, declared in
 * models/validation/training_mlperf/DECLARED.md), torchtitan's A100 table
 * (fsdp), MT-NLG (deepspeed). The error is the
 * predicted step time over the published one, minus 1. Each row is held
 * within STACK_VALIDATION_DRIFT of the error recorded with it; the held-out
 * rows' median must stay within the 8% and every one within 25%.
 * Run it to print the table (markdown, as in models/VALIDATION.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/gpu/gpu.h"
#include "models/interconnect/net.h"
#include "models/llm/llm.h"
#include "models/training/train.h"
#include "models/training/train_stack.h"
#include "cattest.h"
#include "testutil.h"

#define STACK_VALIDATION_DRIFT 0.03
#define STACK_HELD_MEDIAN 0.08
#define STACK_HELD_MAX 0.25

/* FIT: a constant was fitted on it; HELD: held out; SEEN: declared held out
 * but used to decide (the Blackwell rows that rejected their fit): reported
 * and held to its error, not counted in the held-out median */
enum { FIT, HELD, SEEN };
enum { TOKS, TFLOPS };
/* recomputation of a row: none, selective, full, full on every other layer,
 * the cheapest that fits (train_job_fit, the CLI's default) */
enum { R_NONE, R_SEL, R_FULL, R_HALF, R_AUTO };

typedef struct {
  const char *id, *stack;
  int set;
  const char *model;      /* catalog name, or one of the inline architectures below */
  const char *gpu, *net;
  int gpus, tp, pp, vp, mbs, gbs, seq;
  gpu_precision dtype;
  int recompute, zero;
  double published;       /* tokens/s/GPU or TFLOP/s/GPU (unit) */
  int unit;
  double expect_err;      /* step-time error this model gives now */
  int cp;                 /* context-parallel ranks (0: 1) */
  int gpus_per_node;      /* 0: 8 (an NVL72 rack: 72) */
  int end_stages;         /* layers of the first and of the last stage, chunks uneven (0: even stages) */
} srow;

static const srow rows[] = {
  /* megatron-core: NeMo 24.12 performance summary, DGX H100, FP8 (runs.md) */
  {"MC-gpt3-5b", "megatron-core", FIT, "nemo-gpt3-5b", "h100-sxm", "ib-ndr", 64, 1, 1, 1, 4, 2048, 2048, GPU_FP8, R_NONE, 1, 23406, TOKS, -0.009, 1, 0, 0},
  {"MC-llama2-7b", "megatron-core", FIT, "llama2-7b", "h100-sxm", "ib-ndr", 8, 1, 1, 1, 1, 128, 4096, GPU_FP8, R_NONE, 1, 16934, TOKS, 0.010, 1, 0, 0},
  {"MC-gpt3-20b", "megatron-core", FIT, "nemo-gpt3-20b", "h100-sxm", "ib-ndr", 64, 2, 1, 1, 2, 256, 2048, GPU_FP8, R_NONE, 1, 5851, TOKS, -0.036, 1, 0, 0},
  {"MC-gpt3-175b-128", "megatron-core", HELD, "gpt3-175b", "h100-sxm", "ib-ndr", 128, 4, 8, 6, 1, 256, 2048, GPU_FP8, R_NONE, 1, 716, TOKS, 0.027, 1, 0, 0},
  {"MC-gpt3-175b-512", "megatron-core", HELD, "gpt3-175b", "h100-sxm", "ib-ndr", 512, 4, 8, 6, 2, 2048, 2048, GPU_FP8, R_NONE, 1, 825, TOKS, 0.146, 1, 0, 0},
  {"MC-llama2-13b", "megatron-core", HELD, "llama2-13b", "h100-sxm", "ib-ndr", 16, 1, 4, 10, 1, 128, 4096, GPU_FP8, R_NONE, 1, 8715, TOKS, -0.002, 1, 0, 0},
  {"MC-llama2-70b", "megatron-core", HELD, "llama2-70b", "h100-sxm", "ib-ndr", 64, 4, 4, 20, 1, 128, 4096, GPU_FP8, R_NONE, 1, 1728, TOKS, 0.024, 1, 0, 0},
  {"MC-nemotron-340b", "megatron-core", HELD, "nemotron4-340b", "h100-sxm", "ib-ndr", 128, 8, 8, 12, 1, 32, 4096, GPU_FP8, R_NONE, 1, 326, TOKS, 0.046, 1, 0, 0},
  /* megatron-core: MLPerf Training GPT-3 175B, NVIDIA's NeMo submissions, steady s/step from the result logs
   * (models/validation/training_mlperf/DECLARED.md, declared before the run; published = gbs x 2048 / s / GPUs) */
  {"ML-v31-512", "megatron-core", HELD, "gpt3-175b", "h100-sxm", "ib-ndr", 512, 4, 8, 12, 1, 2048, 2048, GPU_FP8, R_NONE, 1, 2048.0 * 2048 / 11.05 / 512, TOKS, 0.044, 1, 0, 0},
  {"ML-v31-10752", "megatron-core", HELD, "gpt3-175b", "h100-sxm", "ib-ndr", 10752, 4, 8, 12, 1, 2688, 2048, GPU_FP8, R_NONE, 1, 2688.0 * 2048 / 0.929 / 10752, TOKS, -0.026, 1, 0, 0},
  {"ML-v40-512", "megatron-core", HELD, "gpt3-175b", "h100-sxm", "ib-ndr", 512, 4, 8, 4, 2, 2304, 2048, GPU_FP8, R_NONE, 1, 2304.0 * 2048 / 10.90 / 512, TOKS, 0.181, 1, 0, 0},
  {"ML-v40-10752", "megatron-core", HELD, "gpt3-175b", "h100-sxm", "ib-ndr", 10752, 4, 6, 8, 1, 2688, 2048, GPU_FP8, R_NONE, 1, 2688.0 * 2048 / 0.9207 / 10752, TOKS, 0.052, 1, 0, 0},
  {"ML-v41-b200-64", "megatron-core", SEEN, "gpt3-175b", "b200", "ib-ndr", 64, 4, 8, 6, 2, 2048, 2048, GPU_FP8, R_NONE, 1, 2048.0 * 2048 / 36.05 / 64, TOKS, 0.101, 1, 0, 0},
  /* megatron-core: NVIDIA DGX Cloud benchmarking recipes, DGX H100, NeMo 24.09-24.11, BF16 and FP8
   * (models/validation/training_dgxc/DECLARED.md, declared before the fit of the bf16 GEMM efficiency) */
  {"DG-8b-8-bf16", "megatron-core", FIT, "llama3.1-8b", "h100-sxm", "ib-ndr", 8, 1, 1, 1, 1, 128, 8192, GPU_BF16, R_AUTO, 1, 10153, TOKS, -0.007, 2, 0, 0},
  {"DG-70b-64-bf16", "megatron-core", FIT, "llama3.1-70b", "h100-sxm", "ib-ndr", 64, 4, 4, 5, 1, 128, 8192, GPU_BF16, R_AUTO, 1, 1113, TOKS, 0.011, 2, 0, 0},
  {"DG-8b-128-bf16", "megatron-core", HELD, "llama3.1-8b", "h100-sxm", "ib-ndr", 128, 1, 1, 1, 1, 2048, 8192, GPU_BF16, R_AUTO, 1, 10006, TOKS, -0.022, 2, 0, 0},
  {"DG-70b-2048-bf16", "megatron-core", HELD, "llama3.1-70b", "h100-sxm", "ib-ndr", 2048, 4, 4, 5, 1, 4096, 8192, GPU_BF16, R_AUTO, 1, 1098, TOKS, -0.002, 2, 0, 0},
  {"DG-405b-576-bf16", "megatron-core", HELD, "llama3-405b", "h100-sxm", "ib-ndr", 576, 8, 9, 7, 1, 252, 8192, GPU_BF16, R_AUTO, 1, 208.4, TOKS, 0.064, 2, 0, 0},
  {"DG-405b-2304-bf16", "megatron-core", HELD, "llama3-405b", "h100-sxm", "ib-ndr", 2304, 8, 9, 7, 1, 1008, 8192, GPU_BF16, R_AUTO, 1, 203.4, TOKS, 0.040, 2, 0, 0},
  {"DG-340b-128-bf16", "megatron-core", HELD, "nemotron4-340b", "h100-sxm", "ib-ndr", 128, 8, 8, 12, 1, 32, 4096, GPU_BF16, R_AUTO, 1, 222.1, TOKS, -0.012, 1, 0, 0},
  {"DG-340b-2048-bf16", "megatron-core", HELD, "nemotron4-340b", "h100-sxm", "ib-ndr", 2048, 8, 8, 12, 1, 512, 4096, GPU_BF16, R_AUTO, 1, 211.6, TOKS, -0.035, 1, 0, 0},
  {"DG-175b-128-bf16", "megatron-core", HELD, "gpt3-175b", "h100-sxm", "ib-ndr", 128, 4, 8, 12, 1, 256, 2048, GPU_BF16, R_AUTO, 1, 493, TOKS, 0.009, 1, 0, 0},
  {"DG-175b-2048-bf16", "megatron-core", HELD, "gpt3-175b", "h100-sxm", "ib-ndr", 2048, 4, 8, 12, 1, 4096, 2048, GPU_BF16, R_AUTO, 1, 482.4, TOKS, -0.008, 1, 0, 0},
  {"DG-8b-8-fp8", "megatron-core", HELD, "llama3.1-8b", "h100-sxm", "ib-ndr", 8, 1, 1, 1, 1, 128, 8192, GPU_FP8, R_AUTO, 1, 13555, TOKS, 0.013, 2, 0, 0},
  {"DG-8b-128-fp8", "megatron-core", HELD, "llama3.1-8b", "h100-sxm", "ib-ndr", 128, 1, 1, 1, 1, 2048, 8192, GPU_FP8, R_AUTO, 1, 13347, TOKS, -0.004, 2, 0, 0},
  {"DG-70b-64-fp8", "megatron-core", HELD, "llama3.1-70b", "h100-sxm", "ib-ndr", 64, 4, 4, 5, 1, 128, 8192, GPU_FP8, R_AUTO, 1, 1488, TOKS, -0.012, 2, 0, 0},
  {"DG-70b-2048-fp8", "megatron-core", HELD, "llama3.1-70b", "h100-sxm", "ib-ndr", 2048, 4, 4, 5, 1, 4096, 8192, GPU_FP8, R_AUTO, 1, 1438, TOKS, -0.044, 2, 0, 0},
  {"DG-405b-576-fp8", "megatron-core", HELD, "llama3-405b", "h100-sxm", "ib-ndr", 576, 8, 9, 7, 1, 252, 8192, GPU_FP8, R_AUTO, 1, 318.9, TOKS, 0.157, 2, 0, 0},
  {"DG-405b-2304-fp8", "megatron-core", HELD, "llama3-405b", "h100-sxm", "ib-ndr", 2304, 8, 9, 7, 1, 1008, 8192, GPU_FP8, R_AUTO, 1, 290.2, TOKS, 0.056, 2, 0, 0},
  {"DG-340b-128-fp8", "megatron-core", HELD, "nemotron4-340b", "h100-sxm", "ib-ndr", 128, 8, 8, 12, 1, 32, 4096, GPU_FP8, R_AUTO, 1, 324, TOKS, 0.039, 1, 0, 0},
  {"DG-340b-2048-fp8", "megatron-core", HELD, "nemotron4-340b", "h100-sxm", "ib-ndr", 2048, 8, 8, 12, 1, 512, 4096, GPU_FP8, R_AUTO, 1, 293.4, TOKS, -0.010, 1, 0, 0},
  {"DG-175b-128-fp8", "megatron-core", HELD, "gpt3-175b", "h100-sxm", "ib-ndr", 128, 4, 8, 12, 1, 256, 2048, GPU_FP8, R_AUTO, 1, 728, TOKS, 0.036, 1, 0, 0},
  {"DG-175b-2048-fp8", "megatron-core", HELD, "gpt3-175b", "h100-sxm", "ib-ndr", 2048, 4, 8, 12, 1, 4096, 2048, GPU_FP8, R_AUTO, 1, 687.2, TOKS, -0.016, 1, 0, 0},
  /* megatron-core: Megatron-Bridge (NeMo's successor) 25.11-26.06, DGX H100, FP8 current scaling
   * (models/validation/training_mbridge/DECLARED.md, declared held out before the run) */
  {"MB-8b-2511", "megatron-core", HELD, "llama3-8b", "h100-sxm", "ib-ndr", 8, 1, 1, 1, 1, 128, 8192, GPU_FP8, R_AUTO, 3, 14451, TOKS, 0.103, 1, 0, 0},
  {"MB-70b-2511", "megatron-core", HELD, "llama3-70b", "h100-sxm", "ib-ndr", 64, 4, 8, 5, 1, 128, 8192, GPU_FP8, R_AUTO, 1, 1602, TOKS, 0.133, 1, 0, 0},
  {"MB-405b-2511", "megatron-core", HELD, "llama3-405b", "h100-sxm", "ib-ndr", 1024, 8, 8, 8, 1, 512, 8192, GPU_FP8, R_AUTO, 1, 292, TOKS, 0.045, 2, 0, 15},
  {"MB-70b-2604", "megatron-core", HELD, "llama3-70b", "h100-sxm", "ib-ndr", 64, 4, 8, 5, 1, 256, 8192, GPU_FP8, R_AUTO, 1, 1633, TOKS, 0.143, 1, 0, 0},
  {"MB-405b-2606", "megatron-core", HELD, "llama3-405b", "h100-sxm", "ib-ndr", 1024, 8, 8, 8, 1, 1536, 8192, GPU_FP8, R_AUTO, 1, 326, TOKS, 0.141, 2, 0, 15},
  /* megatron-core on Blackwell: Megatron-Bridge 25.11 and NeMo 25.02 tables, FP8
   * (models/validation/training_blackwell/DECLARED.md, declared before the fit of a blackwell column; the
   * fit made the held-out rows worse and was not adopted, so every row here has been seen: Blackwell runs
   * with the hopper numbers, RESULTS.md there) */
  {"BW-b200-8b", "megatron-core", FIT, "llama3-8b", "b200", "ib-ndr", 8, 1, 1, 1, 2, 128, 8192, GPU_FP8, R_AUTO, 1, 30624, TOKS, -0.011, 1, 0, 0},
  {"BW-gb200-8b", "megatron-core", FIT, "llama3-8b", "gb200", "ib-ndr", 8, 1, 1, 1, 2, 128, 8192, GPU_FP8, R_AUTO, 1, 31508, TOKS, -0.077, 1, 72, 0},
  {"BW-b200-405b", "megatron-core", SEEN, "llama3-405b", "b200", "ib-ndr", 128, 4, 8, 8, 1, 64, 8192, GPU_FP8, R_AUTO, 1, 661, TOKS, 0.003, 2, 0, 15},
  {"BW-gb200-70b-fsdp", "megatron-core", SEEN, "llama3-70b", "gb200", "ib-ndr", 64, 1, 1, 1, 2, 256, 8192, GPU_FP8, R_AUTO, 3, 4312, TOKS, 0.141, 1, 72, 0},
  {"BW-b200-gpt3-2502", "megatron-core", SEEN, "gpt3-175b", "b200", "ib-ndr", 512, 4, 4, 6, 2, 2048, 2048, GPU_FP8, R_AUTO, 1, 1600, TOKS, 0.022, 1, 0, 0},
  {"BW-b200-8b-2502", "megatron-core", SEEN, "llama3-8b", "b200", "ib-ndr", 8, 1, 1, 1, 2, 128, 8192, GPU_FP8, R_AUTO, 1, 26006, TOKS, -0.160, 1, 0, 0},
  {"BW-b200-70b-2502", "megatron-core", SEEN, "llama3-70b", "b200", "ib-ndr", 64, 2, 4, 5, 1, 128, 8192, GPU_FP8, R_AUTO, 1, 3062, TOKS, -0.146, 2, 0, 0},
  {"BW-b200-405b-2502", "megatron-core", SEEN, "llama3-405b", "b200", "ib-ndr", 128, 4, 8, 8, 1, 64, 8192, GPU_FP8, R_AUTO, 1, 625, TOKS, -0.052, 2, 0, 15},
  {"BW-b200-340b-2502", "megatron-core", SEEN, "nemotron4-340b", "b200", "ib-ndr", 128, 8, 4, 12, 1, 32, 4096, GPU_FP8, R_AUTO, 1, 602, TOKS, 0.103, 1, 0, 0},
  /* fsdp: torchtitan docs/performance.md @0413364, 64 A100 80GB, FSDP2 */
  {"TT-l3-8b-op", "fsdp", FIT, "llama3-8b", "a100-80gb-sxm", "eth-200g", 64, 1, 1, 1, 1, 64, 8192, GPU_BF16, R_SEL, 3, 2973, TOKS, 0.011, 1, 0, 0},
  {"TT-l2-13b-none", "fsdp", FIT, "llama2-13b", "a100-80gb-sxm", "eth-200g", 64, 1, 1, 1, 2, 128, 4096, GPU_BF16, R_NONE, 3, 2162, TOKS, -0.006, 1, 0, 0},
  {"TT-l3-8b-layer", "fsdp", HELD, "llama3-8b", "a100-80gb-sxm", "eth-200g", 64, 1, 1, 1, 1, 64, 8192, GPU_BF16, R_HALF, 3, 2904, TOKS, 0.060, 1, 0, 0},
  {"TT-l3-70b-full", "fsdp", HELD, "llama3-70b", "a100-80gb-sxm", "eth-200g", 64, 1, 1, 1, 1, 64, 8192, GPU_BF16, R_FULL, 3, 331, TOKS, 0.096, 1, 0, 0},
  {"TT-l2-13b-layer", "fsdp", HELD, "llama2-13b", "a100-80gb-sxm", "eth-200g", 64, 1, 1, 1, 2, 128, 4096, GPU_BF16, R_HALF, 3, 1914, TOKS, 0.021, 1, 0, 0},
  {"TT-l2-13b-op", "fsdp", HELD, "llama2-13b", "a100-80gb-sxm", "eth-200g", 64, 1, 1, 1, 2, 128, 4096, GPU_BF16, R_SEL, 3, 1904, TOKS, -0.091, 1, 0, 0},
  {"TT-l2-70b-op", "fsdp", HELD, "llama2-70b", "a100-80gb-sxm", "eth-200g", 64, 1, 1, 1, 1, 64, 4096, GPU_BF16, R_SEL, 3, 355, TOKS, -0.167, 1, 0, 0},
  {"TT-l2-70b-full", "fsdp", HELD, "llama2-70b", "a100-80gb-sxm", "eth-200g", 64, 1, 1, 1, 2, 128, 4096, GPU_BF16, R_FULL, 3, 353, TOKS, 0.069, 1, 0, 0},
  /* deepspeed: MT-NLG 530B (Smith et al. 2022, sec. 2.4), Selene */
  {"DS-mtnlg-280", "deepspeed", FIT, "mt-nlg-530b", "a100-80gb-sxm", "ib-hdr", 2240, 8, 35, 1, 1, 1920, 2048, GPU_BF16, R_FULL, 1, 126, TFLOPS, 0.005, 1, 0, 0},
  {"DS-mtnlg-350", "deepspeed", HELD, "mt-nlg-530b", "a100-80gb-sxm", "ib-hdr", 2800, 8, 35, 1, 1, 1920, 2048, GPU_BF16, R_FULL, 1, 121, TFLOPS, -0.006, 1, 0, 0},
  {"DS-mtnlg-420", "deepspeed", HELD, "mt-nlg-530b", "a100-80gb-sxm", "ib-hdr", 3360, 8, 35, 1, 1, 1920, 2048, GPU_BF16, R_FULL, 1, 113, TFLOPS, -0.044, 1, 0, 0},
};

/* Architectures the catalog does not hold (runs.md gives their sources). */
static bool inline_arch(const char *name, llm_arch *a)
{
  llm_arch gpt = {
    .name = name, .ffn_kind = LLM_FFN_PLAIN, .positions = LLM_POS_LEARNED, .norm = LLM_NORM_LAYER,
    .tied_embeddings = true, .biases = true, .experts = 1, .experts_active = 1, .vocab = 50304, .max_context = 2048,
  };
  if (!strcmp(name, "nemo-gpt3-5b")) {
    *a = gpt;
    a->layers = 24, a->hidden = 4096, a->heads = a->kv_heads = 32;
  } else if (!strcmp(name, "nemo-gpt3-20b")) {
    *a = gpt;
    a->layers = 44, a->hidden = 6144, a->heads = a->kv_heads = 48;
  } else if (!strcmp(name, "mt-nlg-530b")) {
    *a = gpt;
    a->layers = 105, a->hidden = 20480, a->heads = a->kv_heads = 128, a->vocab = 51200;
  } else if (!strcmp(name, "nemotron4-340b")) {
    *a = gpt;
    a->layers = 96, a->hidden = 18432, a->heads = 96, a->kv_heads = 8, a->vocab = 256000, a->max_context = 4096;
    a->positions = LLM_POS_ROTARY, a->tied_embeddings = false, a->biases = false, a->dropout_free = true;
    a->ffn = 73728;
    return true;
  } else {
    return false;
  }
  a->ffn = 4 * (int64_t)a->hidden;
  return true;
}

/* Predicted and published step time of a row, s; false if it cannot be built. */
static bool step_of(const srow *c, train_step_result *r, double *pred, double *pub)
{
  const sim_catalogs *cats = cs_catalogs();
  llm_arch local;
  const llm_arch *m = inline_arch(c->model, &local) ? &local : sim_catalog_find(cats, "models", c->model);
  const gpu_spec *g = sim_catalog_find(cats, "gpus", c->gpu);
  const train_stack *s = sim_catalog_find(cats, "train_stacks", c->stack);
  const net_link *net = sim_catalog_find(cats, "links", c->net);
  if (!m || !g || !s || !net) return false;
  llm_arch copy = *m;
  if (copy.max_context < c->seq) copy.max_context = c->seq;
  train_job j;
  train_job_init(&j, &copy, g);
  train_stack_apply(&j, s);
  j.dtype = c->dtype;
  j.tp = c->tp;
  j.pp = c->pp;
  j.cp = c->cp > 0 ? c->cp : 1;
  j.dp = c->gpus / (c->tp * c->pp * j.cp);
  j.interleave = c->vp;
  j.micro_batch = c->mbs;
  j.global_batch = c->gbs;
  j.seq_len = c->seq;
  j.zero = c->zero;
  j.seq_parallel = c->tp > 1 && strcmp(c->stack, "deepspeed") != 0;  /* Megatron-Core recipes; not MT-NLG (2021) */
  j.net_link = net;
  if (c->gpus_per_node > 0) j.gpus_per_node = c->gpus_per_node;
  if (c->end_stages > 0) {
    /* Megatron-Core's embedding and loss counted in the pipeline split:
     * one layer fewer on the first and the last stage, the chunks uneven */
    j.first_stage_layers = j.last_stage_layers = c->end_stages;
    j.uneven_chunks = true;
  }
  j.recompute = c->recompute == R_NONE ? LLM_RECOMPUTE_NONE : c->recompute == R_SEL ? LLM_RECOMPUTE_SELECTIVE
                                                                                    : LLM_RECOMPUTE_FULL;
  if (c->recompute == R_HALF) j.recompute_layers = train_chunk_layers(&j) / 2;
  if (c->recompute == R_AUTO) {
    train_memory mem;
    j.recompute = TRAIN_RECOMPUTE_AUTO;
    train_job_fit(&j, &mem);
  }
  char why[256];
  const char *bad = train_job_check(&j, why, sizeof why);
  if (bad) {
    printf("\n    %s: %s: %s  ", c->id, bad, why);
    return false;
  }
  train_step(&j, r);
  *pred = r->iteration_s;
  *pub = c->unit == TOKS ? (double)c->gbs * c->seq / (c->published * c->gpus)
                         : r->hardware_flops / (c->published * 1e12 * c->gpus);
  return true;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void test_rows(void)
{
  double held[sizeof rows / sizeof rows[0]];
  int nheld = 0;
  printf("\n| case | stack | set | published | predicted | step error | MFU | exposed comm | bubble |\n"
         "|---|---|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const srow *c = &rows[i];
    train_step_result r;
    double pred = NAN, pub = NAN;
    bool ok = step_of(c, &r, &pred, &pub);
    CU_ASSERT_TRUE(ok);
    if (!ok) continue;
    double err = pred / pub - 1;
    double shown = c->unit == TOKS ? r.tokens_per_s_per_gpu : r.hardware_flops / r.iteration_s / c->gpus / 1e12;
    printf("| %s | %s | %s | %.4g %s | %.4g | %+.1f%% | %.1f%% | %.1f%% | %.1f%% |%s\n", c->id, c->stack,
           c->set == FIT ? "fitting" : c->set == HELD ? "held-out" : "seen", c->published, c->unit == TOKS ? "tok/s/GPU" : "TFLOP/s/GPU", shown,
           100 * err, 100 * r.mfu, 100 * r.exposed_comm_s / r.iteration_s, 100 * r.bubble_s / r.iteration_s,
           r.mem.fits ? "" : " (does not fit)");
    if (fabs(err - c->expect_err) > STACK_VALIDATION_DRIFT)
      printf("    case %s moved: error %+.1f%%, recorded %+.1f%%\n", c->id, 100 * err, 100 * c->expect_err);
    CU_ASSERT_TRUE(fabs(err - c->expect_err) <= STACK_VALIDATION_DRIFT);
    if (c->set == HELD) {
      held[nheld++] = fabs(err);
      CU_ASSERT_TRUE(fabs(err) <= STACK_HELD_MAX);
    }
  }
  qsort(held, (size_t)nheld, sizeof held[0], cmp_double);
  double median = nheld % 2 ? held[nheld / 2] : (held[nheld / 2 - 1] + held[nheld / 2]) / 2;
  printf("held-out rows: %d, median |step error| %.1f%%, largest %.1f%%\n", nheld, 100 * median,
         100 * held[nheld - 1]);
  CU_ASSERT_TRUE(median <= STACK_HELD_MEDIAN);
}

int main(void)
{
  if (!cs_catalogs()) return 1;
  static const cs_test tests[] = {
    {"stacks against their fitting and held-out runs", test_rows},
    {NULL, NULL},
  };
  int rc = cs_run_suite("train_stack_validation", tests);
  cs_catalogs_free();
  return rc;
}
