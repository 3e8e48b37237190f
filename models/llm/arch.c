/* models/llm/arch.c: parameter counts from architecture and the `models`
 * catalog type. The counts follow the layer structure: attention (Q, K, V,
 * O projections), MLP (2 matrices, or 3 when gated), norms, embeddings,
 * learned positions and an untied output head; tests hold them within 2% of
 * the published figures. */
#include <stddef.h>
#include <stdio.h>

#include "models/llm/llm.h"

double llm_head_dim(const llm_arch *m)
{
  return m->head_dim > 0 ? (double)m->head_dim : (double)m->hidden / (double)m->heads;
}

double llm_q_dim(const llm_arch *m) { return (double)m->heads * llm_head_dim(m); }
double llm_kv_dim(const llm_arch *m) { return (double)m->kv_heads * llm_head_dim(m); }

double llm_attn_params(const llm_arch *m)
{
  double h = (double)m->hidden, q = llm_q_dim(m), kv = llm_kv_dim(m);
  double p = h * q + 2 * h * kv + q * h;
  if (m->biases) p += q + 2 * kv + h;
  return p;
}

double llm_expert_params(const llm_arch *m)
{
  double h = (double)m->hidden, f = (double)m->ffn;
  if (m->ffn_kind == LLM_FFN_GATED) return 3 * h * f + (m->biases ? 2 * f + h : 0);
  return 2 * h * f + (m->biases ? f + h : 0);
}

static double norm_params(const llm_arch *m)
{
  return m->norm == LLM_NORM_LAYER ? 2.0 * (double)m->hidden : (double)m->hidden;
}

static double router_params(const llm_arch *m)
{
  return m->experts > 1 ? (double)m->hidden * (double)m->experts : 0;
}

double llm_layer_params(const llm_arch *m)
{
  return llm_attn_params(m) + (double)m->experts * llm_expert_params(m) + router_params(m) +
         2 * norm_params(m);
}

double llm_layer_active_params(const llm_arch *m)
{
  return llm_attn_params(m) + (double)m->experts_active * llm_expert_params(m) + router_params(m) +
         2 * norm_params(m);
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

double llm_params(const llm_arch *m) { return (double)m->layers * llm_layer_params(m) + llm_embed_params(m); }

double llm_active_params(const llm_arch *m)
{
  return (double)m->layers * llm_layer_active_params(m) + llm_embed_params(m);
}

double llm_matmul_params(const llm_arch *m)
{
  /* every token multiplies the layers' active weights and the output head */
  return (double)m->layers * llm_layer_active_params(m) + (double)m->vocab * (double)m->hidden;
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
}

static const char *const llm_source_keys[] = {"published_params", "params_source", "source", NULL};

static void llm_line(const void *entry, char *buf, size_t n)
{
  const llm_arch *m = entry;
  snprintf(buf, n, "%-14s %8.2f %8.2f %5lld %6lld %4lld/%-3lld %7lld %7lld  %s", m->name,
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
  .list_header = "name           params(B) publ.(B) layers hidden heads/kv   vocab context  description",
  .list_line = llm_line,
};
