/* tests/unit/test_lora_moe.c: LoRA adapters on a mixture of experts and on
 * MLA attention (models/serving/serving_lora.c, srv_lora_bytes and
 * srv_lora_flops_per_token): an adapter's projections written out by hand
 * for Mixtral 8x7B (grouped-query attention, 8 routed experts) and for a
 * DeepSeek-V2-Lite-like model (MLA without a query rank, one dense layer,
 * 2 shared and 64 routed experts), with the routed experts adapted
 * (lora.experts, vLLM's fused MoE LoRA) and without; through the program,
 * the adapter's one load over the host link from those bytes, and every
 * request completing or reported, with Little's law. The keys' bad
 * values are tests/badconfig/lora_experts_*.cfg. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cattest.h"
#include "clitest.h"
#include "models/interconnect/net.h"
#include "models/serving/serving_lora.h"
#include "testutil.h"

#define RUN_CFG(dir, cfg, out, ...) \
  cs_run_summary(__FILE__, __LINE__, (dir), (cfg), (out), (const char *const[]){__VA_ARGS__, NULL})
#define SNUM(json, key) cs_summary_num(__FILE__, __LINE__, (json), (key))
#define CHECK_REL CS_CHECK_REL

/* DeepSeek-V2-Lite as its HF config.json gives it (deepseek-ai/DeepSeek-V2-Lite:
 * num_hidden_layers 27, hidden_size 2048, num_attention_heads 16,
 * q_lora_rank null, kv_lora_rank 512, qk_nope_head_dim 128,
 * qk_rope_head_dim 64, v_head_dim 128, intermediate_size 10944,
 * moe_intermediate_size 1408, n_routed_experts 64, n_shared_experts 2,
 * num_experts_per_tok 6, first_k_dense_replace 1, vocab_size 102400); not
 * in the catalog, so a test catalog. */
static const llm_arch v2_lite = {
  .name = "test-deepseek-v2-lite", .layers = 27, .hidden = 2048, .heads = 16, .kv_heads = 1, .ffn = 10944,
  .ffn_kind = LLM_FFN_GATED, .vocab = 102400, .max_context = 32768, .experts = 64, .experts_active = 6,
  .expert_ffn = 1408, .shared_experts = 2, .dense_layers = 1, .kv_lora_rank = 512, .qk_nope_head_dim = 128,
  .qk_rope_head_dim = 64, .v_head_dim = 128,
};

static const char v2_lite_catalog[] =
  "models = ( {\n"
  "  name = \"test-deepseek-v2-lite\"; description = \"DeepSeek-V2-Lite, for a test\";\n"
  "  layers = 27; hidden = 2048; heads = 16; kv_heads = 1; ffn = 10944; expert_ffn = 1408;\n"
  "  shared_experts = 2; dense_layers = 1; kv_lora_rank = 512; qk_nope_head_dim = 128;\n"
  "  qk_rope_head_dim = 64; v_head_dim = 128; ffn_kind = \"gated\"; vocab = 102400; max_context = 32768;\n"
  "  positions = \"rotary\"; tied_embeddings = false; biases = false; norm = \"rmsnorm\";\n"
  "  experts = 64; experts_active = 6; encoder_only = false;\n"
  "  published_params = 15.7e9; published_active_params = 2.4e9;\n"
  "  params_source = \"deepseek-ai/DeepSeek-V2-Lite model card: 15.7B total, 2.4B active\";\n"
  "  source = \"HF config.json of deepseek-ai/DeepSeek-V2-Lite\";\n"
  "} );\n";

/* One class of rank-16 adapters on m, bf16 (experts: lora.experts). */
static double lora_bytes(const llm_arch *m, bool experts, double *flops)
{
  static srv_params p;
  static srv_class_cfg c;
  memset(&p, 0, sizeof p);
  memset(&c, 0, sizeof c);
  c.has_lora = true;
  c.lora = (srv_lora_cfg){.adapters = 1, .rank = 16, .experts = experts};
  p.classes = &c;
  p.nclasses = 1;
  p.models[0] = m;
  p.nmodels = 1;
  p.model.precision = GPU_BF16;
  *flops = srv_lora_flops_per_token(&p, 0);
  return srv_lora_bytes(&p, 0);
}

/* Mixtral 8x7B (hidden 4096, 32 heads of 128, 8 KV heads, 8 experts of a
 * gated MLP of 14336, 2 per token, 32 layers), rank 16, bf16. Per layer:
 * q 4096 + 4096, k and v 4096 + 1024 each, o 4096 + 4096: 26,624. Each
 * expert: gate, up 4096 + 14336 each, down 14336 + 4096: 55,296.
 * Attention only: 16 x 32 x 26,624 x 2 B = 27,262,976 B; FLOPs per token
 * 2 x 16 x 32 x 26,624, the same number. With the experts: bytes over
 * 26,624 + 8 x 55,296 = 468,992 per layer (480,247,808 B), FLOPs over
 * 26,624 + 2 x 55,296 = 137,216 (140,509,184). */
static void test_mixtral_by_hand(void)
{
  double attn = (4096.0 + 4096) + 2 * (4096.0 + 1024) + (4096.0 + 4096), expert = 3 * (4096.0 + 14336);
  CU_ASSERT_EQUAL(attn, 26624.0);
  CU_ASSERT_EQUAL(expert, 55296.0);
  double f, b = lora_bytes(cs_model("mixtral-8x7b"), false, &f);
  CHECK(b == 16 * 32 * attn * 2 && b == 27262976.0, "attention only: %.17g B, by hand 27,262,976", b);
  CHECK(f == 2 * 16 * 32 * attn, "attention only: %.17g FLOPs a token, by hand %.17g", f, 2 * 16 * 32 * attn);
  b = lora_bytes(cs_model("mixtral-8x7b"), true, &f);
  CHECK(b == 16 * 32 * (attn + 8 * expert) * 2 && b == 480247808.0, "with experts: %.17g B, by hand 480,247,808", b);
  CHECK(f == 2 * 16 * 32 * (attn + 2 * expert) && f == 140509184.0, "with experts: %.17g FLOPs, by hand 140,509,184",
        f);
}

/* DeepSeek-V2-Lite, rank 16, bf16. MLA per layer: q (no query rank)
 * 2048 + 16 x 192 = 5,120; kv_a 2048 + (512 + 64) = 2,624; kv_b 512 + 16 x
 * (128 + 128) = 4,608; o 16 x 128 + 2048 = 4,096: 16,448, x 27 layers =
 * 444,096. The dense first layer's MLP: 3 x (2048 + 10944) = 38,976. Each
 * of the other 26 layers' 2 shared experts: 3 x (2048 + 1408) = 10,368
 * each, 20,736. Without the routed experts: 1,022,208 (x 16 x 2 B =
 * 32,710,656 B; x 2 x 16 FLOPs). With: bytes add 26 x 64 x 10,368 =
 * 17,252,352, FLOPs 26 x 6 x 10,368 = 1,617,408. */
static void test_v2_lite_by_hand(void)
{
  double attn = (2048.0 + 16 * 192) + (2048.0 + 512 + 64) + (512.0 + 16 * 256) + (16 * 128.0 + 2048);
  CU_ASSERT_EQUAL(attn, 16448.0);
  double dense = 3 * (2048.0 + 10944), shared = 2 * 3 * (2048.0 + 1408), routed = 3 * (2048.0 + 1408);
  double base = 27 * attn + dense + 26 * shared;
  CU_ASSERT_EQUAL(base, 1022208.0);
  double f, b = lora_bytes(&v2_lite, false, &f);
  CHECK(b == 16 * base * 2 && b == 32710656.0, "attention, dense and shared: %.17g B, by hand 32,710,656", b);
  CHECK(f == 2 * 16 * base, "attention, dense and shared: %.17g FLOPs, by hand %.17g", f, 2 * 16 * base);
  b = lora_bytes(&v2_lite, true, &f);
  CHECK(b == 16 * (base + 26 * 64 * routed) * 2 && b == 584785920.0, "with experts: %.17g B, by hand 584,785,920", b);
  CHECK(f == 2 * 16 * (base + 26 * 6 * routed) && f == 84467712.0, "with experts: %.17g FLOPs, by hand 84,467,712", f);
  /* DeepSeek-V3 from the catalog, with its query rank 1536: q_a 7168 +
   * 1536, q_b 1536 + 128 x 192; kv_a 7168 + 576, kv_b 512 + 128 x 256; o
   * 128 x 128 + 7168 (61 layers); 3 dense layers of 18432; 58 layers with 1
   * shared expert of 2048 */
  double v3 = 61 * ((7168.0 + 1536) + (1536.0 + 128 * 192) + (7168.0 + 576) + (512.0 + 128 * 256) + (128 * 128.0 + 7168)) +
              3 * 3 * (7168.0 + 18432) + 58 * 3 * (7168.0 + 2048);
  b = lora_bytes(cs_model("deepseek-v3"), false, &f);
  CHECK(b == 16 * v3 * 2, "DeepSeek-V3: %.17g B, by hand %.17g", b, 16 * v3 * 2);
}

/* Through the program: one adapter on Mixtral over 2 H100s (tensor
 * parallel: each GPU loads half over its own host link), then on
 * DeepSeek-V2-Lite on one, with and without the experts: its one load
 * takes the bytes above over the host link, every request completes or
 * is rejected, Little's law. */
static void test_runs(void)
{
  unsigned failures = CU_get_number_of_failures();
  char *dir = cs_tmpdir("lora_moe");
  char text[4096];
  free(cs_write_file(dir, "v2lite.cfg", v2_lite_catalog));
  const struct {
    const char *model;
    int tp;
    const llm_arch *m;
  } runs[] = {{"mixtral-8x7b", 2, NULL}, {"test-deepseek-v2-lite", 1, &v2_lite}};
  for (int k = 0; k < 2; k++) {
    snprintf(text, sizeof text,
             "name = \"lora-moe\";\nseed = 3;\n"
             "model = { name = \"%s\"; precision = \"bf16\"; };\n"
             "cluster = { pools = ( { gpu = \"h100\"; replicas = 1; tp = %d; max_loras = 4; } ); };\n"
             "workload = {\n"
             "  arrivals = { rate = 2.0; };\n"
             "  prompt_tokens = { dist = \"lognormal\"; mean = 600.0; cv = 1.0; };\n"
             "  output_tokens = { dist = \"lognormal\"; mean = 150.0; cv = 1.0; }; truncate = true;\n"
             "  lora = { adapters = 1; rank = 16; };\n"
             "  timeout_s = 30.0;\n"
             "  duration_s = 300.0;\n"
             "};\n"
             "scheduler = { stack = \"vllm-v1\"; };\n",
             runs[k].model, runs[k].tp);
    free(cs_write_file(dir, "lora.cfg", text));
    const llm_arch *m = runs[k].m ? runs[k].m : cs_model(runs[k].model);
    for (int e = 0; e < 2; e++) {
      char out[16];
      snprintf(out, sizeof out, "o%d%d", k, e);
      char *js = RUN_CFG(dir, "lora.cfg", out, "--catalog", "v2lite.cfg", "--set",
                         e ? "workload.lora.experts=true" : "workload.lora.experts=false");
      if (!js) continue;
      double f, bytes = lora_bytes(m, e, &f);
      CHECK(SNUM(js, "lora_loads") == 1, "%s: lora_loads %g, expected 1", out, SNUM(js, "lora_loads"));
      CHECK_REL(SNUM(js, "lora_load_time_s"), net_p2p_s(cs_gpu("h100")->host_link, bytes / runs[k].tp), 1e-12, out);
      double arrived = SNUM(js, "requests_arrived");
      CHECK(arrived > 400 && SNUM(js, "requests_completed") + SNUM(js, "requests_rejected") == arrived,
            "%s: %g arrived, %g + %g", out, arrived, SNUM(js, "requests_completed"), SNUM(js, "requests_rejected"));
      CHECK_REL(SNUM(js, "requests_in_system_mean"),
                SNUM(js, "arrival_rate_per_s") * SNUM(js, "time_in_system_mean_s"), 1e-9, out);
      double fr = SNUM(js, "lora_time_fraction");
      CHECK(fr > 0 && fr < 0.5, "%s: LoRA takes %g of the step time", out, fr);
      free(js);
    }
  }
  cs_cleanup_if_passed(dir, failures);
  free(dir);
}

int main(int argc, char **argv)
{
  static const cs_test tests[] = {
    {"mixtral_by_hand", test_mixtral_by_hand},
    {"v2_lite_by_hand", test_v2_lite_by_hand},
    {"runs", test_runs},
    {NULL, NULL},
  };
  int rc = cs_run_suite_filtered("lora_moe", tests, argc, argv);
  cs_catalogs_free();
  return rc;
}
