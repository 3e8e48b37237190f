/* tests/unit/test_train_gemm.c: GEMM efficiency by shape in training
 * (models/training/train_gemm.h): the ratio against the reference shape is
 * the kernel model's own ratio (one shape's efficiency worked out by hand
 * from kernels.c's formula), large shapes keep the training efficiency,
 * small ones lose what the kernel model says, and a layer's scale is the
 * FLOP-weighted mean of its four GEMMs'. */
#include <math.h>
#include <stdio.h>

#include "models/llm/kernels.h"
#include "models/training/train_gemm.h"
#include "models/training/train_stack.h"
#include "sim/catalog.h"
#include "cattest.h"
#include "testutil.h"

static const gpu_spec *gpu(const char *n) { return sim_catalog_find(cs_catalogs(), "gpus", n); }

/* GPT-style dense model, plain MLP of 4h */
static llm_arch gpt(int64_t l, int64_t h, int64_t a, int64_t v)
{
  return (llm_arch){.name = "gpt", .layers = l, .hidden = h, .heads = a, .kv_heads = a, .ffn = 4 * h, .vocab = v,
                    .max_context = 2048, .ffn_kind = LLM_FFN_PLAIN, .positions = LLM_POS_LEARNED,
                    .norm = LLM_NORM_LAYER, .tied_embeddings = true, .biases = true, .experts = 1,
                    .experts_active = 1};
}

/* kernels.c's GEMM time for m x (k -> n), 16-bit, written out:
 * t = (t_c^P + t_m^P)^(1/P) + t_0 with t_c at compute_efficiency x q^0.799 */
static double hand_eff(const gpu_spec *g, double m, double n, double k, double q)
{
  const llm_kernel_params *kp = &llm_kernels_fitted;
  double peak = gpu_peak_flops(g, GPU_BF16), flops = 2 * m * n * k;
  double t_c = flops / (peak * g->compute_efficiency * pow(q, kp->gemm_quant_exp));
  double t_m = ((m * k + k * n) * 2 + 2 * m * n) / (gpu_mem_bw(g) * g->memory_efficiency);
  double t = pow(pow(t_c, kp->gemm_roofline_p) + pow(t_m, kp->gemm_roofline_p), 1 / kp->gemm_roofline_p);
  return flops / (peak * (t + kp->gemm_fixed_s));
}

/* MPT-350M's QKV GEMM at 2,048 tokens on A100 (108 SMs): m 2048, n 3072,
 * k 1024. Tiles 128 x 128: 16 x 24 = 384; 4 waves of 108 = 432 slots,
 * 384 / 432 = 0.889; split-K 2 (k >= 1024): 768 / 864 = 0.889; split 4
 * needs k >= 2048. So q = 8/9. The reference shape (4096 x 22016 x 4096):
 * 32 x 172 = 5504 tiles, 51 waves = 5508 slots, q = 5504/5508; split 2:
 * 11008 / 11016 (102 waves); split 4: 22016 / 22032; split 8: 44032 /
 * 44064 (408 waves): all 0.99927; best 5504/5508. */
static void test_ratio_by_hand(void)
{
  const gpu_spec *a100 = gpu("a100-80gb-sxm");
  CU_ASSERT_EQUAL(a100->sms, 108);
  CS_ASSERT_REL(llm_gemm_tile_utilisation(108, 2048, 3072, 1024), 8.0 / 9, 1e-12);
  CS_ASSERT_REL(llm_gemm_tile_utilisation(108, 4096, 22016, 4096), 5504.0 / 5508, 1e-12);
  double e1 = hand_eff(a100, 2048, 3072, 1024, 8.0 / 9);
  double e0 = hand_eff(a100, 4096, 22016, 4096, 5504.0 / 5508);
  CS_ASSERT_REL(llm_gemm_efficiency(a100, GPU_BF16, 2048, 3072, 1024), e1, 1e-9);
  CS_ASSERT_REL(train_gemm_shape_ratio(a100, GPU_BF16, 2048, 3072, 1024), e1 / e0, 1e-9);
  /* a second shape, MPT-350M's MLP down (k 4096 -> n 1024): the kernel
   * model's own ratio */
  CS_ASSERT_REL(train_gemm_shape_ratio(a100, GPU_BF16, 2048, 1024, 4096),
                llm_gemm_efficiency(a100, GPU_BF16, 2048, 1024, 4096) / e0, 1e-9);
  CS_ASSERT_REL(train_gemm_shape_ratio(a100, GPU_BF16, 4096, 22016, 4096), 1, 1e-12);
  /* the small shape loses a tenth or more: that is the point */
  CU_ASSERT_TRUE(e1 / e0 < 0.9);
}

/* a large layer (GPT-3 175B, h 12,288, tp 8, 2 x 2,048 tokens) keeps the
 * training efficiency within 1% on A100 and 2% on H100 (kernels.c: H100's
 * model sits 1.8% under the catalog at the reference shape) */
static void test_large_unchanged(void)
{
  llm_arch m = gpt(96, 12288, 96, 51200);
  static const char *const gpus[] = {"a100-80gb-sxm", "h100-sxm"};
  static const double tol[] = {0.01, 0.02};
  for (int i = 0; i < 2; i++) {
    train_job j;
    train_job_init(&j, &m, gpu(gpus[i]));
    j.tp = 8;
    train_gemm_scale s;
    train_gemm_layer_scale(&j, 4096, &s);
    printf("\n    %s GPT-3 175B tp 8, 4096 tokens: fwd x%.4f bwd x%.4f", gpus[i], s.fwd, s.bwd);
    CS_ASSERT_REL(s.fwd, 1, tol[i]);
    CS_ASSERT_REL(s.bwd, 1, tol[i]);
    /* and the square large GEMM */
    CS_ASSERT_REL(train_gemm_shape_ratio(j.gpu, GPU_BF16, 16384, 16384, 16384), 1, tol[i]);
  }
}

/* a layer's scale is the FLOP-weighted mean of its four GEMMs' time
 * multipliers: QKV h -> 3h/t, projection h/t -> h, up h -> 4h/t, down
 * 4h/t -> h: FLOPs in the ratio 3 : 1 : 4 : 4 */
static void test_layer_weighting(void)
{
  llm_arch m = gpt(24, 1024, 16, 50368);  /* MPT-350M */
  train_job j;
  const gpu_spec *g = gpu("h100-sxm");
  train_job_init(&j, &m, g);
  j.tp = 2;
  double tok = 4096, h = 1024;
  train_gemm_scale s, q, p, u, d;
  train_gemm_layer_scale(&j, tok, &s);
  train_gemm_scale_of(g, GPU_BF16, tok, 3 * h / 2, h, &q);
  train_gemm_scale_of(g, GPU_BF16, tok, h, h / 2, &p);
  train_gemm_scale_of(g, GPU_BF16, tok, 4 * h / 2, h, &u);
  train_gemm_scale_of(g, GPU_BF16, tok, h, 4 * h / 2, &d);
  CS_ASSERT_REL(s.fwd, (3 * q.fwd + p.fwd + 4 * u.fwd + 4 * d.fwd) / 12, 1e-12);
  CS_ASSERT_REL(s.bwd, (3 * q.bwd + p.bwd + 4 * u.bwd + 4 * d.bwd) / 12, 1e-12);
  /* backward: half the input gradient (m x (n -> k)), half the weight gradient (k x (m -> n)) */
  CS_ASSERT_REL(u.bwd, 0.5 / train_gemm_shape_ratio(g, GPU_BF16, tok, h, 2 * h) +
                           0.5 / train_gemm_shape_ratio(g, GPU_BF16, h, 2 * h, tok), 1e-12);
  CS_ASSERT_REL(u.fwd, 1 / train_gemm_shape_ratio(g, GPU_BF16, tok, 2 * h, h), 1e-12);
  printf("\n    h100 MPT-350M tp 2, 4096 tokens: fwd x%.4f bwd x%.4f", s.fwd, s.bwd);
  CU_ASSERT_TRUE(s.fwd > 1.05 && s.bwd > 1.05);
  /* the output head: tokens x (h -> V / tp) */
  train_gemm_scale hd, hh;
  train_gemm_head_scale(&j, tok, &hd);
  train_gemm_scale_of(g, GPU_BF16, tok, 50368.0 / 2, h, &hh);
  CS_ASSERT_REL(hd.fwd, hh.fwd, 1e-12);
  CS_ASSERT_REL(hd.bwd, hh.bwd, 1e-12);
}

/* a stack with gemm_by_shape = false keeps the one efficiency: both
 * multipliers 1; the catalog's stacks leave it at its default, true, and
 * give the built-in (no stack) multipliers */
static void test_stack_switch(void)
{
  llm_arch m = gpt(24, 1024, 16, 50368);
  train_job j;
  train_job_init(&j, &m, gpu("a100-80gb-sxm"));
  train_gemm_scale none, on, off, head;
  train_gemm_layer_scale(&j, 2048, &none);
  train_stack st = *(const train_stack *)sim_catalog_find(cs_catalogs(), "train_stacks", "composer");
  CU_ASSERT_TRUE(st.gemm_by_shape);
  j.stack = &st;
  train_gemm_layer_scale(&j, 2048, &on);
  CU_ASSERT_DOUBLE_EQUAL(on.fwd, none.fwd, 0);
  CU_ASSERT_DOUBLE_EQUAL(on.bwd, none.bwd, 0);
  CU_ASSERT_TRUE(on.fwd > 1.05);
  st.gemm_by_shape = false;
  train_gemm_layer_scale(&j, 2048, &off);
  train_gemm_head_scale(&j, 2048, &head);
  CU_ASSERT_DOUBLE_EQUAL(off.fwd, 1, 0);
  CU_ASSERT_DOUBLE_EQUAL(off.bwd, 1, 0);
  CU_ASSERT_DOUBLE_EQUAL(head.fwd, 1, 0);
  CU_ASSERT_DOUBLE_EQUAL(head.bwd, 1, 0);
}

/* Expert parallelism: a rank's experts receive the tokens of its whole ep
 * group, so at ep E each expert's GEMM has E times the rows of ep 1. The
 * same shapes come from ep 1 on a copy of the model with experts / E
 * experts (the routed FLOPs per token do not depend on the expert count):
 * Mixtral 8x7B at 4,096 tokens, ep 4, against ep 1 with 2 experts (both
 * active). And larger GEMMs are closer to the peak: ep 4's scale is the
 * smaller. */
static void test_expert_parallel_rows(void)
{
  const llm_arch *mx = sim_catalog_find(cs_catalogs(), "models", "mixtral-8x7b");
  CU_ASSERT_PTR_NOT_NULL_FATAL(mx);
  const gpu_spec *g = gpu("h100-sxm");
  llm_arch fewer = *mx;
  fewer.experts = mx->experts / 4;
  CU_ASSERT_TRUE_FATAL(fewer.experts >= fewer.experts_active);
  train_job a, b, one;
  train_job_init(&a, mx, g);
  a.ep = 4;
  train_job_init(&b, &fewer, g);
  train_job_init(&one, mx, g);
  train_gemm_scale sa, sb, s1;
  train_gemm_layer_scale(&a, 4096, &sa);
  train_gemm_layer_scale(&b, 4096, &sb);
  train_gemm_layer_scale(&one, 4096, &s1);
  CS_ASSERT_REL(sa.fwd, sb.fwd, 1e-12);
  CS_ASSERT_REL(sa.bwd, sb.bwd, 1e-12);
  printf("\n    h100 Mixtral 8x7B, 4096 tokens: ep 1 fwd x%.4f, ep 4 fwd x%.4f", s1.fwd, sa.fwd);
  CU_ASSERT_TRUE(sa.fwd <= s1.fwd && sa.bwd <= s1.bwd);
}

int main(void)
{
  if (!cs_catalogs()) return 1;
  static const cs_test tests[] = {
    {"shape ratio = the kernel model's ratio, worked by hand", test_ratio_by_hand},
    {"large shapes keep the training efficiency (1% A100, 2% H100)", test_large_unchanged},
    {"layer scale: FLOP-weighted over QKV, projection, up, down; head", test_layer_weighting},
    {"stack gemm_by_shape: default on, false turns it off", test_stack_switch},
    {"expert parallelism: an expert's GEMM has the ep group's rows", test_expert_parallel_rows},
    {NULL, NULL},
  };
  int rc = cs_run_suite("train_gemm", tests);
  cs_catalogs_free();
  return rc;
}
