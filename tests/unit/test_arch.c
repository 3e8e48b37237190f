/* tests/unit/test_arch.c: the architecture fields of current models (expert
 * width, shared experts, leading dense layers, multi-head latent attention,
 * q/k norms, attention sinks, sliding windows) and the catalog entries that
 * use them, against hand arithmetic and published figures: every model and
 * GPU added in December 2026 loads; each model's derived total and active
 * counts within 2% of its published_params / published_active_params; one
 * DeepSeek-V3 MLA layer and one Qwen3 MoE layer counted by hand; KV bytes per
 * token of an MLA and a GQA model by hand; KV positions held and attention
 * FLOPs with sliding windows by hand; defaults that leave older entries
 * alone; the model checks' messages; each new GPU's figures consistent with
 * its datasheet (fp8 = 2 x bf16 where it says so, idle < tdp, links). */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/gpu/gpu.h"
#include "models/interconnect/net.h"
#include "models/llm/llm.h"
#include "cattest.h"
#include "clitest.h"
#include "testutil.h"

static const char *const new_models[] = {"llama3.3-70b",  "qwen3-8b",    "qwen3-32b",     "qwen3-30b-a3b",
                                         "qwen3-235b-a22b", "deepseek-v3", "gpt-oss-20b",   "gpt-oss-120b",
                                         "mistral-large-2", "gemma3-27b",  NULL};
static const char *const new_gpus[] = {"b200",   "gb200",  "h20",    "h800", "rtx-pro-6000-se",
                                       "mi325x", "mi355x", "gaudi3", NULL};

/* Every new model: total within 2% of published_params and, where the
 * authors publish one, active (counted as they count it) within 2% of
 * published_active_params; both figures and their source are in the entry. */
static void test_new_models_published(void)
{
  for (int i = 0; new_models[i]; i++) {
    const llm_arch *m = cs_model(new_models[i]);
    CHECK(m->published_params > 0 && m->params_source && *m->params_source && m->source && *m->source,
          "%s: published_params, params_source and source required", m->name);
    double p = llm_params(m), err = p / m->published_params - 1;
    CHECK(fabs(err) <= 0.02, "%s: derived %.6g, published %.6g (%+.2f%%)", m->name, p, m->published_params,
          100 * err);
    if (m->published_active_params > 0) {
      double a = llm_active_params_as_published(m), aerr = a / m->published_active_params - 1;
      CHECK(fabs(aerr) <= 0.02, "%s: derived active %.6g, published %.6g (%+.2f%%)", m->name, a,
            m->published_active_params, 100 * aerr);
    }
  }
  /* the MoE entries publish an active count */
  static const char *const moe[] = {"qwen3-30b-a3b", "qwen3-235b-a22b", "deepseek-v3", "gpt-oss-20b",
                                    "gpt-oss-120b", NULL};
  for (int i = 0; moe[i]; i++) CHECK(cs_model(moe[i])->published_active_params > 0, "%s: no active count", moe[i]);
}

/* DeepSeek-V3, one layer of multi-head latent attention (h 7168, 128 heads,
 * q_lora 1536, kv_lora 512, nope 128, rope 64, v 128):
 *   q_a   7168 x 1536               = 11,010,048   q_a norm     1,536
 *   q_b   1536 x 128 x (128 + 64)   = 37,748,736
 *   kv_a  7168 x (512 + 64)         =  4,128,768   kv_a norm      512
 *   kv_b  512 x 128 x (128 + 128)   = 16,777,216
 *   o     128 x 128 x 7168          = 117,440,512
 *   sum                               187,107,328
 * An expert layer adds 256 routed + 1 shared experts of 3 x 7168 x 2048 =
 * 44,040,192, the router 7168 x 256 = 1,835,008 and two norms 14,336:
 * 11,507,286,016. A leading dense layer: attention + 3 x 7168 x 18432 =
 * 396,361,728 + 14,336 = 583,483,392. Whole model: 58 expert layers + 3
 * dense + embedding and head 2 x 129280 x 7168 + final norm 7168 =
 * 671,026,404,352. Active expert layer: attention + 9 experts + router +
 * norms = 187,107,328 + 9 x 44,040,192 + 1,835,008 + 14,336 = 585,318,400;
 * active model 58 x that + 3 dense + embeddings = 37,552,282,624. */
static void test_deepseek_v3_by_hand(void)
{
  const llm_arch *m = cs_model("deepseek-v3");
  CU_ASSERT_TRUE(llm_is_mla(m));
  CU_ASSERT_EQUAL(llm_attn_params(m), 187107328.0);
  CU_ASSERT_EQUAL(llm_expert_params(m), 44040192.0);
  CU_ASSERT_EQUAL(llm_shared_expert_params(m), 44040192.0);
  CU_ASSERT_EQUAL(llm_layer_params(m), 11507286016.0);
  CU_ASSERT_EQUAL(llm_dense_layer_params(m), 583483392.0);
  CU_ASSERT_EQUAL(llm_layer_active_params(m), 585318400.0);
  CU_ASSERT_EQUAL(llm_moe_layers(m), 58.0);
  CU_ASSERT_EQUAL(llm_dense_layers(m), 3.0);
  CU_ASSERT_EQUAL(llm_params(m), 671026404352.0);
  CU_ASSERT_EQUAL(llm_active_params(m), 37552282624.0);
  /* query/key width 128 + 64 per head, values 128: q_dim 24576, attention
   * width (192 + 128) / 2 x 128 = 20480 */
  CU_ASSERT_EQUAL(llm_q_dim(m), 24576.0);
  CU_ASSERT_EQUAL(llm_attn_width(m), 20480.0);
  /* matmul parameters per token: active layers + the output head */
  CU_ASSERT_EQUAL(llm_matmul_params(m), 58 * 585318400.0 + 3 * 583483392.0 + 129280.0 * 7168);
}

/* Qwen3-30B-A3B, one layer (h 2048, 32 heads x 128, 4 KV heads, 128 experts
 * of width 768, 8 active, q/k norms):
 *   attention  2048 x 4096 + 2 x 2048 x 512 + 4096 x 2048 = 18,874,368
 *   experts    128 x 3 x 2048 x 768                         = 603,979,776
 *   router     2048 x 128                                   =     262,144
 *   norms      2 x 2048 + q/k norms 2 x 128                 =       4,352
 *   layer                                                     623,120,640
 *   active     18,874,368 + 8 x 4,718,592 + 262,144 + 4,352 = 56,889,600 */
static void test_qwen3_moe_layer_by_hand(void)
{
  const llm_arch *m = cs_model("qwen3-30b-a3b");
  CU_ASSERT_EQUAL(llm_attn_params(m), 18874368.0);
  CU_ASSERT_EQUAL(llm_expert_params(m), 4718592.0);
  CU_ASSERT_EQUAL(llm_layer_params(m), 623120640.0);
  CU_ASSERT_EQUAL(llm_layer_active_params(m), 56889600.0);
  /* 48 layers + 2 x 151936 x 2048 + 2048 */
  CU_ASSERT_EQUAL(llm_params(m), 48 * 623120640.0 + 2 * 151936.0 * 2048 + 2048);
}

/* gpt-oss-120b: attention with biases (q 4096, kv 512: 4096 + 1024 + 2880)
 * and 64 sink logits: 26,542,080 + 8,000 + 64 = 26,550,144; an expert with
 * biases 3 x 2880^2 + 2 x 2880 + 2880 = 24,891,840; the router 2880 x 128 +
 * 128 bias = 368,768. OpenAI's active count leaves out the input embedding:
 * 36 x (attention + 4 experts + router + 5,760 norms) + 201088 x 2880 (head)
 * + 2880 (final norm) = 36 x 126,492,032 + 579,136,320 = 5,132,849,472. */
static void test_gpt_oss_by_hand(void)
{
  const llm_arch *m = cs_model("gpt-oss-120b");
  CU_ASSERT_EQUAL(llm_attn_params(m), 26550144.0);
  CU_ASSERT_EQUAL(llm_expert_params(m), 24891840.0);
  CU_ASSERT_EQUAL(llm_layer_active_params(m), 126492032.0);
  CU_ASSERT_EQUAL(llm_active_params_as_published(m), 5132849472.0);
  CU_ASSERT_EQUAL(llm_active_params(m) - llm_active_params_as_published(m), 201088.0 * 2880);
}

/* KV cache bytes per token in bf16 (2 bytes):
 *   MLA, DeepSeek-V3: one latent of 512 + 64 values per layer, 61 layers:
 *     61 x 576 x 2 = 70,272 (vLLM's figure for the model);
 *   GQA, Qwen3-8B: 2 (K, V) x 36 layers x 8 heads x 128 x 2 = 147,456;
 *   GQA, Llama 3.3 70B: 2 x 80 x 8 x 128 x 2 = 327,680;
 *   gpt-oss-120b: 2 x 36 x 8 x 64 x 2 = 73,728. */
static void test_kv_bytes_by_hand(void)
{
  CU_ASSERT_EQUAL(llm_kv_bytes_per_token(cs_model("deepseek-v3"), 2), 70272.0);
  CU_ASSERT_EQUAL(llm_kv_dim(cs_model("deepseek-v3")), 288.0);
  CU_ASSERT_EQUAL(llm_kv_bytes_per_token(cs_model("qwen3-8b"), 2), 147456.0);
  CU_ASSERT_EQUAL(llm_kv_bytes_per_token(cs_model("llama3.3-70b"), 2), 327680.0);
  CU_ASSERT_EQUAL(llm_kv_bytes_per_token(cs_model("gpt-oss-120b"), 2), 73728.0);
  /* fp8 KV halves it */
  CU_ASSERT_EQUAL(llm_kv_bytes_per_token(cs_model("deepseek-v3"), 1), 35136.0);
}

/* Sliding windows. gpt-oss-120b: 36 layers, every 2nd global, the other 18
 * hold at most 128 positions. At 1,000 tokens a sequence holds
 * (18 x 1000 + 18 x 128) / 36 = 564 positions per layer on average, i.e.
 * 564 x 73,728 = 41,582,592 bytes in bf16; below the window, all of them.
 * Gemma 3 27B: 62 layers, layers 6, 12, ..., 60 global (10), 52 windowed at
 * 1,024: at 8,192 tokens (10 x 8192 + 52 x 1024) / 62 = 135,168 / 62. A
 * model without windows holds the context itself. */
static void test_sliding_window_kv(void)
{
  const llm_arch *oss = cs_model("gpt-oss-120b"), *gemma = cs_model("gemma3-27b");
  CU_ASSERT_EQUAL(llm_window_layers(oss), 18.0);
  CU_ASSERT_EQUAL(llm_kv_tokens_held(oss, 1000), 564.0);
  CU_ASSERT_EQUAL(llm_kv_tokens_held(oss, 1000) * llm_kv_bytes_per_token(oss, 2), 41582592.0);
  CU_ASSERT_EQUAL(llm_kv_tokens_held(oss, 100), 100.0);
  CU_ASSERT_EQUAL(llm_kv_tokens_held(oss, 128), 128.0);
  CU_ASSERT_EQUAL(llm_window_layers(gemma), 52.0);
  CU_ASSERT_DOUBLE_EQUAL(llm_kv_tokens_held(gemma, 8192), 135168.0 / 62, 1e-9);
  CU_ASSERT_EQUAL(llm_kv_tokens_held(cs_model("llama2-7b"), 5000), 5000.0);
  CU_ASSERT_EQUAL(llm_window_layers(cs_model("mistral-7b")), 0.0);
}

/* Attention FLOPs with windows, gpt-oss-20b (24 layers, 12 windowed at 128,
 * attention width 64 x 64 = 4096): a prompt of 300 tokens attends to
 * 300 x 301 / 2 = 45,150 positions in a global layer and
 * 128 x 129 / 2 + (300 - 128) x 128 = 30,272 in a windowed one:
 * attention FLOPs 4 x 4096 x (12 x 45,150 + 12 x 30,272). Generating 50
 * tokens after 300 is the prompt of 350 less the prompt of 300, and one
 * token at position 350 attends to 350 and 128 positions. */
static void test_sliding_window_flops(void)
{
  const llm_arch *m = cs_model("gpt-oss-20b");
  double mm = 2 * llm_matmul_params(m);
  double att300 = 4 * 4096.0 * (12 * 45150.0 + 12 * 30272.0);
  CS_ASSERT_REL(llm_prefill_flops(m, 300), mm * 300 + att300, 1e-12);
  CS_ASSERT_REL(llm_decode_flops(m, 300, 50), llm_prefill_flops(m, 350) - llm_prefill_flops(m, 300), 1e-12);
  CS_ASSERT_REL(llm_token_flops(m, 350), mm + 4 * 4096.0 * (12 * 350.0 + 12 * 128.0), 1e-12);
  /* below the window a windowed layer is a global one */
  const llm_arch *q = cs_model("qwen3-8b");
  CS_ASSERT_REL(llm_token_flops(q, 1000), 2 * llm_matmul_params(q) + 4 * 36.0 * 4096 * 1000, 1e-12);
  CS_ASSERT_REL(llm_prefill_flops(m, 100), mm * 100 + 4 * 4096.0 * 24 * (100 * 101 / 2.0), 1e-12);
}

/* An architecture that writes none of the new fields is counted as before
 * (the formulas of Llama 2 7B: 6,738,415,616, see test_llm), and every
 * helper reduces to the plain transformer's quantity. */
static void test_defaults_leave_old_models(void)
{
  llm_arch m = {.name = "plain", .layers = 32, .hidden = 4096, .heads = 32, .kv_heads = 32, .ffn = 11008,
                .ffn_kind = LLM_FFN_GATED, .vocab = 32000, .max_context = 4096, .positions = LLM_POS_ROTARY,
                .norm = LLM_NORM_RMS, .experts = 1, .experts_active = 1};
  CU_ASSERT_EQUAL(llm_params(&m), 6738415616.0);
  CU_ASSERT_EQUAL(llm_attn_width(&m), llm_q_dim(&m));
  CU_ASSERT_EQUAL(llm_expert_ffn(&m), 11008.0);
  CU_ASSERT_EQUAL(llm_dense_layers(&m), 32.0);
  CU_ASSERT_EQUAL(llm_moe_layers(&m), 0.0);
  CU_ASSERT_EQUAL(llm_window_layers(&m), 0.0);
  CU_ASSERT_EQUAL(llm_active_params_as_published(&m), llm_active_params(&m));
  CU_ASSERT_EQUAL(llm_kv_bytes_per_token(&m, 2), 524288.0);
  /* Mixtral (experts, no new fields): every layer has experts of width ffn */
  const llm_arch *x = cs_model("mixtral-8x7b");
  CU_ASSERT_EQUAL(llm_moe_layers(x), 32.0);
  CU_ASSERT_EQUAL(llm_expert_ffn(x), 14336.0);
  CU_ASSERT_EQUAL(llm_params(x), 46702792704.0);
}

/* The model checks name the key and what was expected. */
static void test_model_checks(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("arch-checks");
  const char *base = "layers = 4; hidden = 256; heads = 4; ffn = 512; ffn_kind = \"gated\"; vocab = 1000; "
                     "max_context = 512; positions = \"rotary\"; norm = \"rmsnorm\"; published_params = 1.0; "
                     "params_source = \"t\"; source = \"t\";";
  char text[4096];
  snprintf(text, sizeof text,
           "models = (\n"
           "  { name = \"bad-mla\"; %s kv_heads = 4; kv_lora_rank = 64; qk_rope_head_dim = 16; },\n"
           "  { name = \"bad-moe\"; %s kv_heads = 4; expert_ffn = 128; dense_layers = 1; },\n"
           "  { name = \"bad-win\"; %s kv_heads = 4; sliding_window_pattern = 2; q_lora_rank = 32; },\n"
           "  { name = \"bad-dense\"; %s kv_heads = 4; experts = 4; experts_active = 2; dense_layers = 4; }\n"
           ");\n",
           base, base, base, base);
  char *file = cs_write_file(dir, "bad.cfg", text);
  result r = RUN("list", "models", "--catalog", file);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "models[bad-mla].kv_lora_rank: MLA needs qk_nope_head_dim, qk_rope_head_dim and v_head_dim");
  CHECK_ERR_HAS(r, "models[bad-mla].kv_heads: must be 1 with MLA");
  CHECK_ERR_HAS(r, "models[bad-moe].expert_ffn: needs experts > 1");
  CHECK_ERR_HAS(r, "models[bad-moe].dense_layers: needs experts > 1");
  CHECK_ERR_HAS(r, "models[bad-win].sliding_window_pattern: needs sliding_window > 0");
  CHECK_ERR_HAS(r, "models[bad-win].q_lora_rank: needs kv_lora_rank > 0");
  CHECK_ERR_HAS(r, "models[bad-dense].dense_layers: must be below layers (4)");
  result_free(&r);
  free(file);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* Every new GPU loads with its sources and a price; idle below board
 * power; the datasheet ratios: fp8 = 2 x bf16 and bf16 = fp16 where the
 * datasheet gives them so, to its rounding (AMD: 2614.9 = 2 x 1307.4 to one
 * decimal; Gaudi 3: FP8 = BF16 matrix rate); memory as
 * nvidia-smi reports it (MiB / 1024); SM counts; the scale-up links. */
static void test_new_gpus(void)
{
  for (int i = 0; new_gpus[i]; i++) {
    const gpu_spec *g = cs_gpu(new_gpus[i]);
    CHECK(g->idle_w > 0 && g->idle_w < g->tdp_w, "%s: idle %g W, tdp %g W", g->name, g->idle_w, g->tdp_w);
    CHECK(g->price_usd_per_hour > 0 && *g->price_provider && *g->price_date && *g->price_source,
          "%s: price, provider, date and source", g->name);
    CHECK(*g->source && *g->power_source && *g->efficiency_source, "%s: sources", g->name);
    CHECK(g->peak_tflops[GPU_BF16] == g->peak_tflops[GPU_FP16], "%s: bf16 %g != fp16 %g", g->name,
          g->peak_tflops[GPU_BF16], g->peak_tflops[GPU_FP16]);
    CHECK(g->host_link != NULL, "%s: host link", g->name);
    if (strcmp(g->name, "gaudi3") == 0)
      CHECK(g->peak_tflops[GPU_FP8] == g->peak_tflops[GPU_BF16], "gaudi3: fp8 = bf16 (1835)");
    else
      CHECK(cs_rel_close(g->peak_tflops[GPU_FP8], 2 * g->peak_tflops[GPU_BF16], 1e-4), "%s: fp8 %g != 2 x bf16 %g",
            g->name, g->peak_tflops[GPU_FP8], g->peak_tflops[GPU_BF16]);
  }
  /* memory.total in MiB / 1024, to the catalog's 0.1 GiB */
  CU_ASSERT_DOUBLE_EQUAL(cs_gpu("b200")->mem_gib, 183359 / 1024.0, 0.05);
  CU_ASSERT_DOUBLE_EQUAL(cs_gpu("gb200")->mem_gib, 189471 / 1024.0, 0.05);
  CU_ASSERT_DOUBLE_EQUAL(cs_gpu("h20")->mem_gib, 97871 / 1024.0, 0.05);
  CU_ASSERT_DOUBLE_EQUAL(cs_gpu("h800")->mem_gib, 81559 / 1024.0, 0.05);
  CU_ASSERT_DOUBLE_EQUAL(cs_gpu("rtx-pro-6000-se")->mem_gib, 97887 / 1024.0, 0.05);
  CU_ASSERT_EQUAL(cs_gpu("b200")->sms, 148);
  CU_ASSERT_EQUAL(cs_gpu("gb200")->sms, 152);
  CU_ASSERT_EQUAL(cs_gpu("mi355x")->sms, 256);
  CU_ASSERT_EQUAL(cs_gpu("gaudi3")->sms, 0);
  /* the H800 has the H100 SXM's tensor rates; the MI325X the MI300X's */
  CU_ASSERT_EQUAL(cs_gpu("h800")->peak_tflops[GPU_BF16], cs_gpu("h100-sxm")->peak_tflops[GPU_BF16]);
  CU_ASSERT_EQUAL(cs_gpu("mi325x")->peak_tflops[GPU_FP8], cs_gpu("mi300x")->peak_tflops[GPU_FP8]);
  /* scale-up: NVLink 5 (900 GB/s per direction), the H800's 8 x 50 GB/s / 2
   * = 200, the MI355X's 7 x 153.6 / 2 = 537.6, Gaudi 3's 21 x 200 Gb/s =
   * 525; the RTX PRO 6000 has none */
  CU_ASSERT_EQUAL(cs_gpu("gb200")->scaleup_link, cs_link("nvlink5"));
  CU_ASSERT_EQUAL(cs_gpu("b200")->scaleup_link->bw_gbs, 900.0);
  CU_ASSERT_EQUAL(cs_gpu("h800")->scaleup_link->bw_gbs, 8 * 50.0 / 2);
  CU_ASSERT_DOUBLE_EQUAL(cs_gpu("mi355x")->scaleup_link->bw_gbs, 7 * 153.6 / 2, 1e-9);
  CU_ASSERT_EQUAL(cs_gpu("gaudi3")->scaleup_link->bw_gbs, 21 * 200 / 8.0);
  CU_ASSERT_PTR_NULL(cs_gpu("rtx-pro-6000-se")->scaleup_link);
  CU_ASSERT_EQUAL(cs_gpu("mi325x")->scaleup_link, cs_link("infinity-fabric"));
}

int main(void)
{
  if (!cs_catalogs()) return 1;
  static const cs_test tests[] = {
    {"new models: derived counts within 2% of published", test_new_models_published},
    {"DeepSeek-V3 MLA and expert layers by hand", test_deepseek_v3_by_hand},
    {"Qwen3 MoE layer by hand", test_qwen3_moe_layer_by_hand},
    {"gpt-oss: biases, sinks, active as published", test_gpt_oss_by_hand},
    {"KV bytes per token: MLA and GQA by hand", test_kv_bytes_by_hand},
    {"sliding windows: KV positions held", test_sliding_window_kv},
    {"sliding windows: attention FLOPs", test_sliding_window_flops},
    {"new fields default to today's counts", test_defaults_leave_old_models},
    {"model checks: key and expectation", test_model_checks},
    {"new GPUs: load, sources, datasheet ratios, links", test_new_gpus},
    {NULL, NULL},
  };
  int rc = cs_run_suite("arch", tests);
  cs_catalogs_free();
  return rc;
}
