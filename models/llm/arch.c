/* models/llm/arch.c: parameter counts from architecture and the `models`
 * catalog type. The counts follow the layer structure: attention (Q, K, V,
 * O projections), MLP (2 matrices, or 3 when gated), norms, embeddings,
 * learned positions and an untied output head; tests hold them within 2% of
 * the published figures. Later architectures add routed experts of their own
 * width, shared experts, leading dense layers, multi-head latent attention,
 * q/k norms, attention sinks and sliding windows (fields default to 0). */
#include <stddef.h>
#include <stdio.h>

#include "models/llm/llm.h"

double llm_head_dim(const llm_arch *m)
{
  return m->head_dim > 0 ? (double)m->head_dim : (double)m->hidden / (double)m->heads;
}

bool llm_is_mla(const llm_arch *m) { return m->kv_lora_rank > 0; }

double llm_qk_head_dim(const llm_arch *m)
{
  return llm_is_mla(m) ? (double)(m->qk_nope_head_dim + m->qk_rope_head_dim) : llm_head_dim(m);
}

double llm_v_head_dim(const llm_arch *m) { return llm_is_mla(m) ? (double)m->v_head_dim : llm_head_dim(m); }

double llm_q_dim(const llm_arch *m) { return (double)m->heads * llm_qk_head_dim(m); }

double llm_kv_dim(const llm_arch *m)
{
  if (llm_is_mla(m)) return (double)(m->kv_lora_rank + m->qk_rope_head_dim) / 2;
  return (double)m->kv_heads * llm_head_dim(m);
}

double llm_attn_width(const llm_arch *m)
{
  if (!llm_is_mla(m)) return llm_q_dim(m);
  return (double)m->heads * (llm_qk_head_dim(m) + llm_v_head_dim(m)) / 2;
}

double llm_expert_ffn(const llm_arch *m) { return (double)(m->expert_ffn > 0 ? m->expert_ffn : m->ffn); }

double llm_shared_expert_ffn(const llm_arch *m)
{
  return m->shared_expert_ffn > 0 ? (double)m->shared_expert_ffn : llm_expert_ffn(m);
}

double llm_dense_layers(const llm_arch *m)
{
  return m->experts > 1 || m->shared_experts > 0 ? (double)m->dense_layers : (double)m->layers;
}

double llm_moe_layers(const llm_arch *m) { return (double)m->layers - llm_dense_layers(m); }

double llm_window_layers(const llm_arch *m)
{
  if (m->sliding_window <= 0) return 0;
  int64_t global = m->sliding_window_pattern > 0 ? m->layers / m->sliding_window_pattern : 0;
  return (double)(m->layers - global);
}

double llm_kv_tokens_held(const llm_arch *m, double ctx)
{
  double w = llm_window_layers(m);
  if (w == 0) return ctx;
  double l = (double)m->layers, win = (double)m->sliding_window;
  return ((l - w) * ctx + w * (ctx < win ? ctx : win)) / l;
}

/* Q, K, V and O of multi-head latent attention (DeepSeek-V2 section 2.1):
 * the query through a rank-q_lora_rank bottleneck with its norm (or one
 * projection), keys and values through a kv_lora_rank latent with its norm
 * plus a shared rotary key, then per-head up-projections and the output. */
static double mla_params(const llm_arch *m)
{
  double h = (double)m->hidden, a = (double)m->heads, qk = llm_qk_head_dim(m);
  double lq = (double)m->q_lora_rank, lkv = (double)m->kv_lora_rank, rope = (double)m->qk_rope_head_dim;
  double q = lq > 0 ? h * lq + lq + lq * a * qk : h * a * qk;
  double kv = h * (lkv + rope) + lkv + lkv * a * ((double)m->qk_nope_head_dim + (double)m->v_head_dim);
  return q + kv + a * (double)m->v_head_dim * h;
}

double llm_attn_params(const llm_arch *m)
{
  if (llm_is_mla(m)) return mla_params(m) + (m->attn_sinks ? (double)m->heads : 0);
  double h = (double)m->hidden, q = llm_q_dim(m), kv = llm_kv_dim(m);
  double p = h * q + 2 * h * kv + q * h;
  if (m->biases) p += q + 2 * kv + h;
  if (m->attn_sinks) p += (double)m->heads;
  return p;
}

/* An MLP of inner width f: 3 matrices gated, 2 plain, with their biases. */
static double mlp_params(const llm_arch *m, double f)
{
  double h = (double)m->hidden;
  if (m->ffn_kind == LLM_FFN_GATED) return 3 * h * f + (m->biases ? 2 * f + h : 0);
  return 2 * h * f + (m->biases ? f + h : 0);
}

double llm_expert_params(const llm_arch *m) { return mlp_params(m, llm_expert_ffn(m)); }

double llm_shared_expert_params(const llm_arch *m)
{
  return m->shared_experts > 0 ? (double)m->shared_experts * mlp_params(m, llm_shared_expert_ffn(m)) : 0;
}

static double norm_params(const llm_arch *m)
{
  return m->norm == LLM_NORM_LAYER ? 2.0 * (double)m->hidden : (double)m->hidden;
}

/* The norms of one layer: layer_norms of the model width, and q/k norms. */
static double layer_norm_params(const llm_arch *m)
{
  double p = (double)(m->layer_norms > 0 ? m->layer_norms : 2) * norm_params(m);
  if (m->qk_norm) p += 2 * llm_qk_head_dim(m);
  return p;
}

static double router_params(const llm_arch *m)
{
  if (m->experts <= 1) return 0;
  return (double)m->hidden * (double)m->experts + (m->biases ? (double)m->experts : 0);
}

double llm_layer_params(const llm_arch *m)
{
  return llm_attn_params(m) + (double)m->experts * llm_expert_params(m) + llm_shared_expert_params(m) +
         router_params(m) + layer_norm_params(m);
}

double llm_layer_active_params(const llm_arch *m)
{
  return llm_attn_params(m) + (double)m->experts_active * llm_expert_params(m) + llm_shared_expert_params(m) +
         router_params(m) + layer_norm_params(m);
}

double llm_dense_layer_params(const llm_arch *m)
{
  return llm_attn_params(m) + mlp_params(m, (double)m->ffn) + layer_norm_params(m);
}

double llm_embed_params(const llm_arch *m)
{
  double h = (double)m->hidden, v = (double)m->vocab;
  double p = v * h + norm_params(m);
  if (m->positions == LLM_POS_LEARNED) p += (double)m->max_context * h;
  if (!m->tied_embeddings) p += v * h;
  if (m->encoder_only) p += 2 * h + h * h + h; /* token types and the pooler */
  return p;
}

/* Sum over the layers of a per-layer count: the expert layers' and the
 * leading dense layers' (none but in models with experts and dense_layers). */
static double over_layers(const llm_arch *m, double per_expert_layer)
{
  if (m->dense_layers <= 0 || llm_dense_layers(m) == (double)m->layers)
    return (double)m->layers * per_expert_layer;
  return llm_moe_layers(m) * per_expert_layer + llm_dense_layers(m) * llm_dense_layer_params(m);
}

double llm_params(const llm_arch *m) { return over_layers(m, llm_layer_params(m)) + llm_embed_params(m); }

double llm_active_params(const llm_arch *m)
{
  return over_layers(m, llm_layer_active_params(m)) + llm_embed_params(m);
}

double llm_active_params_as_published(const llm_arch *m)
{
  double p = llm_active_params(m);
  return m->published_active_excludes_embedding ? p - (double)m->vocab * (double)m->hidden : p;
}

double llm_matmul_params(const llm_arch *m)
{
  /* every token multiplies the layers' active weights and the output head */
  return over_layers(m, llm_layer_active_params(m)) + (double)m->vocab * (double)m->hidden;
}

/* ---- the catalog type ---- */

static const char *const ffn_kinds[] = {"gated", "plain", NULL};
static const char *const positions[] = {"rotary", "alibi", "learned", NULL};
static const char *const norms[] = {"rmsnorm", "layernorm", NULL};

#define I(field, req, lo, hi, help_) \
  {.name = #field, .kind = SIM_KEY_INT, .offset = offsetof(llm_arch, field), .required = req, .min = lo, \
   .max = hi, .help = help_}
#define B(field, help_) \
  {.name = #field, .kind = SIM_KEY_BOOL, .offset = offsetof(llm_arch, field), .def = 0, .help = help_}
#define O(field, hi, help_) \
  {.name = #field, .kind = SIM_KEY_INT, .offset = offsetof(llm_arch, field), .min = 0, .max = hi, .def = 0, \
   .help = help_}
#define S(field, req, help_) \
  {.name = #field, .kind = SIM_KEY_STRING, .offset = offsetof(llm_arch, field), .required = req, \
   .def_str = "", .help = help_}

static const sim_key llm_keys[] = {
  S(name, true, "catalog name, lowercase and hyphenated"),
  {.name = "aliases", .kind = SIM_KEY_NAMES, .offset = offsetof(llm_arch, aliases), .help = "other names"},
  S(description, false, "free text"),
  I(layers, true, 1, 1e4, "transformer layers"),
  I(hidden, true, 1, 1e6, "model width d_model"),
  I(heads, true, 1, 1e4, "attention (query) heads"),
  I(kv_heads, true, 1, 1e4, "key/value heads (grouped-query attention)"),
  {.name = "head_dim", .kind = SIM_KEY_INT, .offset = offsetof(llm_arch, head_dim), .min = 0, .max = 1e5,
   .def = 0, .help = "head size (0: hidden / heads)"},
  I(ffn, true, 1, 1e7, "feed-forward inner size, per expert"),
  {.name = "ffn_kind", .kind = SIM_KEY_ENUM, .offset = offsetof(llm_arch, ffn_kind), .required = true,
   .choices = ffn_kinds, .help = "gated (3 matrices) or plain (2)"},
  I(vocab, true, 1, 1e8, "vocabulary (embedding rows)"),
  I(max_context, true, 1, 1e9, "longest context in tokens"),
  {.name = "positions", .kind = SIM_KEY_ENUM, .offset = offsetof(llm_arch, positions), .required = true,
   .choices = positions, .help = "position encoding"},
  B(tied_embeddings, "output head shares the input embedding"),
  B(biases, "linear layers have biases"),
  {.name = "norm", .kind = SIM_KEY_ENUM, .offset = offsetof(llm_arch, norm), .required = true,
   .choices = norms, .help = "normalisation"},
  {.name = "experts", .kind = SIM_KEY_INT, .offset = offsetof(llm_arch, experts), .min = 1, .max = 1e5,
   .def = 1, .help = "experts per layer (mixture of experts)"},
  {.name = "experts_active", .kind = SIM_KEY_INT, .offset = offsetof(llm_arch, experts_active), .min = 1,
   .max = 1e5, .def = 1, .help = "experts each token uses"},
  B(encoder_only, "encoder-only (BERT): no decoding"),
  O(expert_ffn, 1e7, "inner size of one routed expert (0: ffn)"),
  O(shared_experts, 1e4, "experts every token uses besides the routed ones (DeepSeek n_shared_experts)"),
  O(n_group, 1e4, "expert groups of group-limited routing (DeepSeek n_group; 0: none)"),
  O(topk_group, 1e4, "groups a token's routed experts may lie in (DeepSeek topk_group; the nodes a token is sent to "
                     "when each group is a node; 0: unlimited)"),
  O(shared_expert_ffn, 1e7, "inner size of a shared expert (0: the expert width)"),
  O(dense_layers, 1e4, "leading layers with a dense MLP of width ffn (DeepSeek first_k_dense_replace)"),
  O(q_lora_rank, 1e6, "MLA: query compression rank (0: full query projection)"),
  O(kv_lora_rank, 1e6, "MLA: cached KV latent width (0: no multi-head latent attention)"),
  O(qk_nope_head_dim, 1e5, "MLA: per-head query/key width without rotary"),
  O(qk_rope_head_dim, 1e5, "MLA: per-head rotary query/key width (the rotary key is shared and cached)"),
  O(v_head_dim, 1e5, "MLA: per-head value width"),
  O(sliding_window, 1e9, "tokens a windowed layer attends to (0: no sliding window)"),
  O(sliding_window_pattern, 1e4, "every n-th layer is global, the others windowed (0: all windowed)"),
  O(layer_norms, 16, "norms per layer (0: 2)"),
  B(qk_norm, "RMSNorm over the head width on queries and keys"),
  B(attn_sinks, "a learned attention-sink logit per head (gpt-oss)"),
  B(dropout_free, "trained without dropout (Llama and most since 2023): training keeps no dropout masks"),
  B(published_active_excludes_embedding, "published_active_params leaves out the input embedding"),
  {.name = "published_params", .kind = SIM_KEY_FLOAT, .offset = offsetof(llm_arch, published_params),
   .required = true, .min = 0, .max = 1e16, .help = "parameter count the authors publish"},
  {.name = "published_active_params", .kind = SIM_KEY_FLOAT,
   .offset = offsetof(llm_arch, published_active_params), .min = 0, .max = 1e16, .def = 0,
   .help = "active parameters per token (mixture of experts)"},
  S(params_source, true, "where published_params comes from"),
  S(source, true, "where the architecture comes from"),
  SIM_KEY_END,
};

static void llm_check(const void *entry, sim_check *ck)
{
  const llm_arch *m = entry;
  if (m->kv_heads > m->heads) sim_check_fail(ck, "kv_heads", "exceeds heads (%lld)", (long long)m->heads);
  else if (m->heads % m->kv_heads != 0)
    sim_check_fail(ck, "kv_heads", "must divide heads (%lld)", (long long)m->heads);
  if (m->experts_active > m->experts)
    sim_check_fail(ck, "experts_active", "exceeds experts (%lld)", (long long)m->experts);
  if (m->head_dim == 0 && m->hidden % m->heads != 0)
    sim_check_fail(ck, "heads", "must divide hidden (%lld) unless head_dim is given", (long long)m->hidden);
  bool moe = m->experts > 1;
  if (!moe && m->expert_ffn > 0) sim_check_fail(ck, "expert_ffn", "needs experts > 1");
  if (!moe && m->shared_experts > 0) sim_check_fail(ck, "shared_experts", "needs experts > 1");
  if (m->shared_expert_ffn > 0 && m->shared_experts == 0)
    sim_check_fail(ck, "shared_expert_ffn", "needs shared_experts > 0");
  if ((m->n_group > 0 || m->topk_group > 0) &&
      (!moe || m->n_group < 1 || m->topk_group < 1 || m->topk_group > m->n_group || m->experts % m->n_group))
    sim_check_fail(ck, "topk_group", "group-limited routing needs experts > 1, n_group dividing them and 1 <= "
                   "topk_group <= n_group (n_group %lld, topk_group %lld)", (long long)m->n_group,
                   (long long)m->topk_group);
  if (m->dense_layers > 0 && !moe) sim_check_fail(ck, "dense_layers", "needs experts > 1");
  else if (m->dense_layers >= m->layers)
    sim_check_fail(ck, "dense_layers", "must be below layers (%lld)", (long long)m->layers);
  if (m->kv_lora_rank > 0) {
    if (m->qk_nope_head_dim <= 0 || m->qk_rope_head_dim <= 0 || m->v_head_dim <= 0)
      sim_check_fail(ck, "kv_lora_rank", "MLA needs qk_nope_head_dim, qk_rope_head_dim and v_head_dim above 0");
    if (m->kv_heads != 1)
      sim_check_fail(ck, "kv_heads", "must be 1 with MLA (one latent shared by all heads, as vLLM counts it)");
    if (m->biases) sim_check_fail(ck, "biases", "not modelled with MLA");
  } else {
    static const char *const mla_only[] = {"q_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"};
    const int64_t v[] = {m->q_lora_rank, m->qk_nope_head_dim, m->qk_rope_head_dim, m->v_head_dim};
    for (int i = 0; i < 4; i++)
      if (v[i] > 0) sim_check_fail(ck, mla_only[i], "needs kv_lora_rank > 0 (multi-head latent attention)");
  }
  if (m->sliding_window_pattern > 0 && m->sliding_window == 0)
    sim_check_fail(ck, "sliding_window_pattern", "needs sliding_window > 0");
}

static const char *const llm_source_keys[] = {"published_params", "params_source", "source", NULL};

static void llm_line(const void *entry, char *buf, size_t n)
{
  const llm_arch *m = entry;
  snprintf(buf, n, "%-16s %8.2f %8.2f %5lld %6lld %4lld/%-3lld %7lld %7lld  %s", m->name,
           llm_params(m) / 1e9, m->published_params / 1e9, (long long)m->layers, (long long)m->hidden,
           (long long)m->heads, (long long)m->kv_heads, (long long)m->vocab, (long long)m->max_context,
           m->description);
}

const sim_catalog_type llm_catalog = {
  .list = "models",
  .what = "model",
  .schema = llm_keys,
  .entry_size = sizeof(llm_arch),
  .name_offset = offsetof(llm_arch, name),
  .aliases_offset = offsetof(llm_arch, aliases),
  .check = llm_check,
  .source_keys = llm_source_keys,
  .list_header = "name             params(B) publ.(B) layers hidden heads/kv   vocab context  description",
  .list_line = llm_line,
};
