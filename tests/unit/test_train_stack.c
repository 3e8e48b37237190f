/* tests/unit/test_train_stack.c: training stack profiles
 * (models/training/train_stack.h): composer reproduces the built-in
 * numbers; a profile changes only what it claims (every field set to the
 * default's but one, and only the dependent output moves); the launch
 * cost by hand; the GPU generation; training.stack and --train-stack with
 * their errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/gpu/gpu.h"
#include "models/llm/llm.h"
#include "models/training/train.h"
#include "models/training/train_stack.h"
#include "cattest.h"
#include "clitest.h"
#include "testutil.h"

static const train_stack *stack(const char *name)
{
  return sim_catalog_find(cs_catalogs(), "train_stacks", name);
}

/* A job of `model` on `gpu` that exercises TP, PP, ZeRO 1 and DP on two
 * nodes: gpus 32 = dp 2 x tp 4 x pp 4, interleaved. */
static bool job(train_job *j, const char *model, const char *gpu, gpu_precision dt)
{
  const llm_arch *m = sim_catalog_find(cs_catalogs(), "models", model);
  const gpu_spec *g = sim_catalog_find(cs_catalogs(), "gpus", gpu);
  if (!m || !g) return false;
  train_job_init(j, m, g);
  j->dtype = dt;
  j->tp = 4, j->pp = 4, j->dp = 2, j->interleave = 2;
  j->micro_batch = 1, j->global_batch = 64, j->seq_len = 4096;
  j->recompute = LLM_RECOMPUTE_SELECTIVE;
  j->zero = 1;
  j->net_link = sim_catalog_find(cs_catalogs(), "links", "ib-ndr");
  char why[256];
  return j->net_link && !train_job_check(j, why, sizeof why);
}

static void test_composer_is_builtin(void)
{
  /* with the job defaults the built-in numbers use (composer's differ only
   * in fsdp_prefetch, unused at ZeRO 1, and in the gradients' precision:
   * bf16 as llm-foundry's PURE, where the default is fp32), composer's
   * profile gives the same iteration on both generations and in FP8 */
  const char *gpus[] = {"a100-80gb-sxm", "h100-sxm", "h100-sxm"};
  gpu_precision dts[] = {GPU_BF16, GPU_BF16, GPU_FP8};
  for (int i = 0; i < 3; i++) {
    train_job a, b;
    CU_ASSERT_FATAL(job(&a, "llama2-13b", gpus[i], dts[i]) && job(&b, "llama2-13b", gpus[i], dts[i]));
    train_stack_apply(&b, stack("composer"));
    b.fsdp_prefetch = a.fsdp_prefetch;
    CU_ASSERT_EQUAL(b.grad_reduce, TRAIN_GRAD_REDUCE_BF16);
    CU_ASSERT_EQUAL(a.grad_reduce, TRAIN_GRAD_REDUCE_AUTO);
    b.grad_reduce = a.grad_reduce;
    CU_ASSERT_EQUAL(b.flash_attention, a.flash_attention);
    CU_ASSERT_EQUAL(b.fused_cross_entropy, a.fused_cross_entropy);
    CU_ASSERT_DOUBLE_EQUAL(b.dp_overlap, a.dp_overlap, 0);
    train_step_result ra, rb;
    train_step(&a, &ra);
    train_step(&b, &rb);
    CU_ASSERT_DOUBLE_EQUAL(rb.iteration_s, ra.iteration_s, 1e-12 * ra.iteration_s);
    CU_ASSERT_DOUBLE_EQUAL(rb.compute_s, ra.compute_s, 1e-12 * ra.compute_s);
  }
}

/* composer's profile with no launches and no overlaps: the base every
 * one-field change below departs from */
static train_stack base_stack(void)
{
  train_stack s = *stack("composer");
  s.fsdp_prefetch = TRAIN_PREFETCH_PRE;
  return s;
}

static void run(const train_stack *s, train_step_result *r)
{
  train_job j;
  CU_ASSERT_FATAL(job(&j, "llama2-13b", "h100-sxm", GPU_BF16));
  train_stack_apply(&j, s);
  train_step(&j, r);
}

#define SAME(a, b) (fabs((a) - (b)) <= 1e-12 * fmax(fabs(a), 1e-30))

static void test_only_what_it_claims(void)
{
  train_stack base = base_stack();
  train_step_result r0, r;
  run(&base, &r0);
  CU_ASSERT_TRUE(r0.tp_comm_s > 0 && r0.pp_comm_s > 0 && r0.dp_comm_s > 0);

  /* the GEMM efficiency of another generation: nothing moves on an H100 */
  train_stack s = base;
  s.gen[TRAIN_GEN_AMPERE].gemm_efficiency = 0.35;
  run(&s, &r);
  CU_ASSERT_TRUE(SAME(r.iteration_s, r0.iteration_s));

  /* the hopper GEMM efficiency: compute moves; communication does not */
  s = base;
  s.gen[TRAIN_GEN_HOPPER].gemm_efficiency = 0.27;
  run(&s, &r);
  CU_ASSERT_TRUE(r.compute_s > r0.compute_s * 1.3);
  CU_ASSERT_TRUE(SAME(r.tp_comm_s, r0.tp_comm_s));
  CU_ASSERT_TRUE(SAME(r.dp_comm_s, r0.dp_comm_s));

  /* the attention efficiency: compute moves, less than with the GEMMs (a
   * share of the layer), communication does not */
  s = base;
  s.gen[TRAIN_GEN_HOPPER].attn_efficiency = 0.09;
  run(&s, &r);
  CU_ASSERT_TRUE(r.compute_s > r0.compute_s);
  CU_ASSERT_TRUE(SAME(r.tp_comm_s, r0.tp_comm_s));

  /* fp8_relative: nothing moves in bf16 */
  s = base;
  s.gen[TRAIN_GEN_HOPPER].fp8_relative = 0.3;
  run(&s, &r);
  CU_ASSERT_TRUE(SAME(r.iteration_s, r0.iteration_s));

  /* launches: compute grows by exactly micro-batches x layers x (fwd +
   * bwd) launch time (selective recomputation repeats no launch):
   * 16 micro-batches per pipeline x 40 / 4 layers per stage x (20 + 40)
   * kernels x 10 us = 16 x 10 x 600 us = 96 ms on the busiest stage */
  s = base;
  s.gen[TRAIN_GEN_HOPPER].launch_us = 10;
  s.gen[TRAIN_GEN_HOPPER].kernels_fwd = 20;
  s.gen[TRAIN_GEN_HOPPER].kernels_bwd = 40;
  run(&s, &r);
  CU_ASSERT_EQUAL(r.micro_batches, 32);  /* 64 / (dp 2 x mb 1) */
  CU_ASSERT_DOUBLE_EQUAL(r.compute_s - r0.compute_s, 32 * 10 * 600e-6, 1e-9);
  CU_ASSERT_TRUE(SAME(r.tp_comm_s, r0.tp_comm_s));
  /* ... and CUDA graphs hide them all */
  s.cuda_graphs = true;
  run(&s, &r);
  CU_ASSERT_TRUE(SAME(r.iteration_s, r0.iteration_s));

  /* TP overlap: only the tensor-parallel collectives shrink */
  s = base;
  s.tp_overlap = 1;
  run(&s, &r);
  CU_ASSERT_TRUE(r.tp_comm_s < 0.5 * r0.tp_comm_s);
  CU_ASSERT_TRUE(SAME(r.compute_s, r0.compute_s));
  CU_ASSERT_TRUE(SAME(r.dp_exposed_s, r0.dp_exposed_s));

  /* PP overlap: only the pipeline sends on the critical path vanish */
  s = base;
  s.pp_overlap = 1;
  run(&s, &r);
  CU_ASSERT_DOUBLE_EQUAL(r.pp_comm_s, 0, 0);
  CU_ASSERT_DOUBLE_EQUAL(r.iteration_s, r0.iteration_s - r0.pp_comm_s, 1e-12 * r0.iteration_s);
  CU_ASSERT_TRUE(SAME(r.tp_comm_s, r0.tp_comm_s));

  /* param overlap: only the exposed data-parallel part moves, never up */
  s = base;
  s.dp_overlap = 0;  /* nothing of the reduction hidden, so the gather shows */
  train_step_result r1;
  run(&s, &r1);
  s.param_overlap = 1;
  run(&s, &r);
  CU_ASSERT_TRUE(r.dp_exposed_s < r1.dp_exposed_s);
  CU_ASSERT_TRUE(SAME(r.dp_comm_s, r1.dp_comm_s));
  CU_ASSERT_TRUE(SAME(r.compute_s, r1.compute_s));
  CU_ASSERT_TRUE(SAME(r.tp_comm_s, r1.tp_comm_s));

  /* gradients in fp32 (base: bf16, composer's): the reduce-scatter carries
   * twice the bytes, the parameters' all-gather the same; compute, the
   * tensor-parallel and pipeline traffic do not move; the gradient buffer
   * doubles */
  s = base;
  CU_ASSERT_EQUAL(s.grad_reduce, TRAIN_GRAD_REDUCE_BF16);
  s.grad_reduce = TRAIN_GRAD_REDUCE_FP32;
  run(&s, &r);
  train_job j;
  CU_ASSERT_FATAL(job(&j, "llama2-13b", "h100-sxm", GPU_BF16));
  int ranks = train_grad_ranks(&j);
  CU_ASSERT_TRUE(ranks > 1);
  net_link l = train_group_link(&j, ranks * j.tp, j.tp);
  double dense = r0.mem.params - r0.mem.expert_params;
  CU_ASSERT_DOUBLE_EQUAL(r.dp_comm_s - r0.dp_comm_s,
                         net_reduce_scatter_s(&l, ranks, 4 * dense) - net_reduce_scatter_s(&l, ranks, 2 * dense),
                         1e-12 * r.dp_comm_s);
  CU_ASSERT_TRUE(SAME(r.compute_s, r0.compute_s));
  CU_ASSERT_TRUE(SAME(r.tp_comm_s, r0.tp_comm_s));
  CU_ASSERT_TRUE(SAME(r.pp_comm_s, r0.pp_comm_s));
  CU_ASSERT_TRUE(SAME(r.mem.grads, 2 * r0.mem.grads));
  CU_ASSERT_TRUE(SAME(r.mem.weights, r0.mem.weights) && SAME(r.mem.optimizer, r0.mem.optimizer));
}

static void test_generation(void)
{
  const sim_catalogs *c = cs_catalogs();
  CU_ASSERT_EQUAL(train_stack_gen_of(sim_catalog_find(c, "gpus", "h100-sxm")), TRAIN_GEN_HOPPER);
  CU_ASSERT_EQUAL(train_stack_gen_of(sim_catalog_find(c, "gpus", "a100-80gb-sxm")), TRAIN_GEN_AMPERE);
  /* launch time by hand: kernels x us, none with graphs or without a stack */
  train_stack s = base_stack();
  s.gen[TRAIN_GEN_AMPERE].launch_us = 5, s.gen[TRAIN_GEN_AMPERE].kernels_fwd = 30,
  s.gen[TRAIN_GEN_AMPERE].kernels_bwd = 50;
  const gpu_spec *a100 = sim_catalog_find(c, "gpus", "a100-80gb-sxm");
  CU_ASSERT_DOUBLE_EQUAL(train_stack_launch_s(&s, a100, false), 150e-6, 1e-15);
  CU_ASSERT_DOUBLE_EQUAL(train_stack_launch_s(&s, a100, true), 250e-6, 1e-15);
  CU_ASSERT_DOUBLE_EQUAL(train_stack_launch_s(NULL, a100, true), 0, 0);
  s.cuda_graphs = true;
  CU_ASSERT_DOUBLE_EQUAL(train_stack_launch_s(&s, a100, true), 0, 0);

  /* Blackwell GPUs name their own generation; a shipped stack with no
   * blackwell column gives them its hopper numbers, field for field */
  const gpu_spec *b200 = sim_catalog_find(c, "gpus", "b200");
  CU_ASSERT_EQUAL(train_stack_gen_of(b200), TRAIN_GEN_BLACKWELL);
  CU_ASSERT_EQUAL(train_stack_gen_of(sim_catalog_find(c, "gpus", "gb200")), TRAIN_GEN_BLACKWELL);
  for (const char *const *n = (const char *const[]){"megatron-core", "fsdp", "composer", NULL}; *n; n++) {
    const train_stack *st = sim_catalog_find(c, "train_stacks", *n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_FALSE(st->has_blackwell);
    CHECK(!memcmp(train_stack_gen_for(st, b200), &st->gen[TRAIN_GEN_HOPPER], sizeof(train_stack_gen)),
          "%s: blackwell numbers differ from hopper's", *n);
  }
}

/* A user's stack with a blackwell column: B200 runs with it, H100 does not
 * move. */
static void test_blackwell_column(void)
{
  char *dir = cs_tmpdir("train_stack_bw");
  unsigned before = CU_get_number_of_failures();
  char *cat = cs_write_file(dir, "bw.cfg",
                            "train_stacks = ( { name = \"megatron-core\";\n"
                            "  blackwell = { gemm_efficiency = 0.30; attn_efficiency = 0.50; fp8_relative = 0.774;\n"
                            "                launch_us = 0.0; kernels_fwd = 0; kernels_bwd = 0; }; } );\n");
  double tok[2][2];
  static const char *const gpus[] = {"b200", "h100-sxm"};
  for (int g = 0; g < 2; g++)
    for (int k = 0; k < 2; k++) {
      const char *argv[24] = {"estimate", "--train", "--train-stack", "megatron-core", "--model", "llama3-8b",
                              "--gpu", gpus[g], "--gpus", "8", "--global-batch", "64", "--zero", "1", "--json"};
      int n = 15;
      if (k) argv[n++] = "--catalog", argv[n++] = cat;
      result r = run_argv(NULL, argv);
      CHECK_RC(r, 0);
      CHECK(json_num(r.out, "tokens_per_s_per_gpu", &tok[g][k]), "%s: no tokens_per_s_per_gpu", r.cmd);
      result_free(&r);
    }
  CHECK(tok[0][1] < 0.7 * tok[0][0], "b200 with a blackwell GEMM efficiency of 0.30: %g against %g", tok[0][1],
        tok[0][0]);
  CHECK(tok[1][1] == tok[1][0], "h100 moved with a blackwell column: %g against %g", tok[1][1], tok[1][0]);
  /* part of a blackwell group onto a shipped stack (which has none): refused,
   * not run with the rest at 0 */
  char *part = cs_write_file(dir, "part.cfg",
                             "train_stacks = ( { name = \"megatron-core\"; blackwell = { fp8_relative = 0.7; }; } );\n");
  result r = RUN("estimate", "--train", "--train-stack", "megatron-core", "--model", "llama3-8b", "--gpu", "b200",
                 "--gpus", "8", "--global-batch", "64", "--dtype", "fp8", "--catalog", part);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "part.cfg:1: train_stacks[megatron-core].blackwell: gemm_efficiency, attn_efficiency and "
                   "fp8_relative must all be written");
  result_free(&r);
  free(part);
  free(cat);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* A training scenario whose line 7 is `line7`, run: exit 2 with `want`. */
static void bad_line7(const char *dir, const char *name, const char *line7, const char *want)
{
  char *text = cs_fmt("training = {\n  model = \"llama2-7b\";\n  gpu = \"h100-sxm\";\n  gpus = 8;\n"
                      "  global_batch = 64;\n  train_tokens = 1e9;\n%s};\n", line7);
  char *cfg = cs_write_file(dir, name, text);
  result r = RUN("run", cfg);
  CU_ASSERT_EQUAL(r.rc, 2);
  if (!strstr(r.err, want)) printf("\n    %s: no \"%s\" in:\n%s", name, want, r.err);
  CU_ASSERT_PTR_NOT_NULL(strstr(r.err, want));
  result_free(&r);
  free(cfg);
  free(text);
}

static void test_scenario_and_flag(void)
{
  /* the stack named, its name in the output; a flag given wins over its default */
  result r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "8", "--global-batch",
                 "128", "--zero", "1", "--train-stack", "megatron-core", "--json");
  CU_ASSERT_EQUAL(r.rc, 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"train_stack\": \"megatron-core\""));
  result_free(&r);
  r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "8", "--global-batch", "128",
          "--zero", "1", "--json");
  CU_ASSERT_EQUAL(r.rc, 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"train_stack\": \"none\""));
  result_free(&r);
  /* unknown: the flag named, exit 2, nothing on stdout */
  r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "8", "--train-stack", "nemox");
  CU_ASSERT_EQUAL(r.rc, 2);
  CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "--train-stack: unknown training stack \"nemox\" (one of: composer"));
  CU_ASSERT_EQUAL(r.out[0], '\0');
  result_free(&r);
  /* the scenario key: file:line: key */
  char *dir = cs_tmpdir("train_stack");
  bad_line7(dir, "s.cfg", "  stack = \"nemox\";\n", "s.cfg:7: training.stack: unknown training stack \"nemox\"");
  /* the gradients' precision: the stack's, a flag or key given wins, auto
   * by the dtype; bad values name the flag or file:line: key, exit 2 */
  static const struct {
    const char *stack, *flag, *dtype, *want;
  } g[] = {
    {"megatron-core", NULL, "bf16", "\"grad_reduce_dtype\": \"bf16\""},
    {"megatron-core", "fp32", "bf16", "\"grad_reduce_dtype\": \"fp32\""},
    {"fsdp", NULL, "bf16", "\"grad_reduce_dtype\": \"fp32\""},
    {NULL, NULL, "bf16", "\"grad_reduce_dtype\": \"fp32\""},
    {NULL, NULL, "fp16", "\"grad_reduce_dtype\": \"fp16\""},
    {NULL, "bf16", "bf16", "\"grad_reduce_dtype\": \"bf16\""},
  };
  for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
    const char *argv[32] = {"estimate", "--train", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "8",
                            "--global-batch", "128", "--zero", "1", "--dtype", g[i].dtype, "--json"};
    int n = 15;
    if (g[i].stack) argv[n++] = "--train-stack", argv[n++] = g[i].stack;
    if (g[i].flag) argv[n++] = "--grad-reduce-dtype", argv[n++] = g[i].flag;
    r = run_argv(NULL, argv);
    CU_ASSERT_EQUAL(r.rc, 0);
    if (!strstr(r.out, g[i].want)) printf("\n    case %zu: no %s in\n%s", i, g[i].want, r.out);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, g[i].want));
    result_free(&r);
  }
  r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "8", "--grad-reduce-dtype",
          "fp64");
  CU_ASSERT_EQUAL(r.rc, 2);
  CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "--grad-reduce-dtype"));
  CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "fp64"));
  result_free(&r);
  bad_line7(dir, "g.cfg", "  grad_reduce_dtype = \"fp64\";\n",
            "g.cfg:7: training.grad_reduce_dtype: unknown value \"fp64\"");
  free(dir);
}

int main(void)
{
  if (!cs_catalogs()) return 1;
  static const cs_test tests[] = {
    {"composer reproduces the built-in numbers", test_composer_is_builtin},
    {"a profile changes only what it claims", test_only_what_it_claims},
    {"generations and launch time by hand", test_generation},
    {"a stack's blackwell column moves Blackwell GPUs only", test_blackwell_column},
    {"training.stack and --train-stack, unknown names", test_scenario_and_flag},
    {NULL, NULL},
  };
  int rc = cs_run_suite("train_stack", tests);
  cs_catalogs_free();
  return rc;
}
