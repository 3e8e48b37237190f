/* models/llm/llm.h: transformer language models described by architecture
 * (catalog entries), and the per-token compute core: parameter counts,
 * FLOPs, memory (weights, KV cache, training state, activations). Pure
 * functions of shapes; the hardware side is in llm_step.h. Counts are
 * doubles: 405e9 parameters times 16 bytes does not fit an int. */
#ifndef LLM_H
#define LLM_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/catalog.h"

enum { LLM_FFN_GATED, LLM_FFN_PLAIN };
enum { LLM_POS_ROTARY, LLM_POS_ALIBI, LLM_POS_LEARNED };
enum { LLM_NORM_RMS, LLM_NORM_LAYER };

typedef struct {
  const char *name;
  sim_names aliases;
  const char *description;
  int64_t layers, hidden, heads, kv_heads, head_dim, ffn, vocab, max_context;
  int ffn_kind, positions, norm;
  bool tied_embeddings, biases, encoder_only;
  int64_t experts, experts_active;
  /* Later architectures. Every field is 0 or false by default, which gives
   * the plain transformer above (and today's numbers for older entries). */
  int64_t expert_ffn;          /* one routed expert's inner size (0: ffn) */
  int64_t shared_experts;      /* experts every token uses besides the routed ones */
  int64_t topk_group;          /* group-limited routing: a token's experts lie in at most this many of n_group
                                * expert groups, one per node (DeepSeek topk_group; 0: unlimited) */
  int64_t n_group;             /* expert groups of group-limited routing (DeepSeek n_group) */
  int64_t shared_expert_ffn;   /* a shared expert's inner size (0: the expert width) */
  int64_t dense_layers;        /* leading layers with a dense MLP of width ffn (DeepSeek first_k_dense_replace) */
  int64_t q_lora_rank;         /* MLA: rank of the query compression (0: a full query projection) */
  int64_t kv_lora_rank;        /* MLA: width of the cached KV latent (0: no MLA) */
  int64_t qk_nope_head_dim, qk_rope_head_dim, v_head_dim; /* MLA per-head widths */
  int64_t sliding_window;      /* tokens a windowed layer attends to (0: none) */
  int64_t sliding_window_pattern; /* every n-th layer is global, the others windowed (0: all windowed) */
  int64_t layer_norms;         /* norms per layer (0: 2, before attention and before the MLP) */
  bool qk_norm;                /* RMSNorm over head_dim on queries and keys (Qwen3, Gemma 3) */
  bool attn_sinks;             /* one learned sink logit per head and layer (gpt-oss) */
  bool dropout_free;           /* trained without dropout: no dropout masks kept for backward (training memory) */
  bool published_active_excludes_embedding; /* the authors' active count leaves out the input embedding */
  double published_params, published_active_params;
  const char *params_source, *source;
} llm_arch;

/* Head size: head_dim if given, else hidden / heads. */
double llm_head_dim(const llm_arch *m);
/* True for multi-head latent attention (kv_lora_rank > 0, DeepSeek-V2/V3). */
bool llm_is_mla(const llm_arch *m);
/* Per-head width of queries and keys (MLA: qk_nope + qk_rope) and of values
 * (MLA: v_head_dim); both llm_head_dim otherwise. */
double llm_qk_head_dim(const llm_arch *m);
double llm_v_head_dim(const llm_arch *m);
/* Width of the query projection (heads * qk head width) and of K or V as
 * cached per token and layer (kv_heads * head_dim). MLA caches one latent of
 * kv_lora_rank + qk_rope_head_dim values shared by all heads: llm_kv_dim is
 * half of it, so that 2 x llm_kv_dim stays what a token caches per layer. */
double llm_q_dim(const llm_arch *m);
double llm_kv_dim(const llm_arch *m);
/* Attention FLOPs per attended position are 4 x this per layer: heads x
 * (qk width + v width) / 2, which is llm_q_dim unless MLA's widths differ. */
double llm_attn_width(const llm_arch *m);
/* Inner width of one routed expert (expert_ffn, else ffn) and of a shared one. */
double llm_expert_ffn(const llm_arch *m);
double llm_shared_expert_ffn(const llm_arch *m);
/* Layers with routed experts and layers with a dense MLP of width ffn (all
 * layers of a model without experts). */
double llm_moe_layers(const llm_arch *m);
double llm_dense_layers(const llm_arch *m);
/* Layers with a sliding window, and the KV positions a sequence of `ctx`
 * tokens holds, averaged over the layers (a windowed layer holds at most
 * sliding_window): ctx itself without windows. Times llm_kv_bytes_per_token
 * it is the sequence's KV cache. */
double llm_window_layers(const llm_arch *m);
double llm_kv_tokens_held(const llm_arch *m, double ctx);

/* Parameters of one layer's attention block, one expert's MLP, one layer
 * in total (all experts), and per-layer parameters a token uses (active). */
double llm_attn_params(const llm_arch *m);
double llm_expert_params(const llm_arch *m);
double llm_layer_params(const llm_arch *m);
double llm_layer_active_params(const llm_arch *m);
/* All shared experts of one layer, and one whole leading dense layer
 * (attention, an MLP of width ffn, norms). llm_layer_params and
 * llm_layer_active_params are those of a layer with experts. */
double llm_shared_expert_params(const llm_arch *m);
double llm_dense_layer_params(const llm_arch *m);
/* Embedding, positions, output head and final norm. */
double llm_embed_params(const llm_arch *m);
/* Whole model: total and active per token (MoE: experts_active of experts). */
double llm_params(const llm_arch *m);
double llm_active_params(const llm_arch *m);
/* llm_active_params counted as the authors count it: without the input
 * embedding when published_active_excludes_embedding (gpt-oss). */
double llm_active_params_as_published(const llm_arch *m);
/* Parameters whose matrices multiply each token (excludes the input
 * embedding lookup and positions; includes the output head). */
double llm_matmul_params(const llm_arch *m);

/* Forward FLOPs of one token at context position `ctx` (tokens it attends
 * to, itself included): 2 x matmul parameters plus attention, 4 x layers x
 * llm_attn_width x ctx (scores and the weighted sum); a windowed layer
 * attends to at most sliding_window positions. */
double llm_token_flops(const llm_arch *m, double ctx);
/* Forward FLOPs of a prompt of n tokens (causal: token i attends to i) and
 * of generating `out` tokens after a prompt of `in` tokens. */
double llm_prefill_flops(const llm_arch *m, double n);
double llm_decode_flops(const llm_arch *m, double in, double out);
/* The seed's rule, 2 p n, with p the active parameters. */
double llm_flops_2pn(const llm_arch *m, double n);
/* Training FLOPs for `tokens` tokens: 6 p per token (forward 2p, backward
 * 4p), 8 p with full activation recomputation (one more forward). */
double llm_train_flops(const llm_arch *m, double tokens, bool recompute);

/* Bytes of weights stored at `bytes_per_param`. */
double llm_weights_bytes(const llm_arch *m, double bytes_per_param);
/* KV cache bytes per token: 2 (K and V) x layers x kv_heads x head_dim x
 * bytes; MLA: layers x (kv_lora_rank + qk_rope_head_dim) x bytes. Sliding
 * windows bound the positions held, not this (see llm_kv_tokens_held). */
double llm_kv_bytes_per_token(const llm_arch *m, double bytes_per_value);

/* Training state per parameter: mixed-precision Adam keeps fp16 weights
 * and gradients and fp32 master weights, momentum and variance: 16 bytes.
 * ZeRO stage 1 divides the 12 optimizer bytes over dp ranks, stage 2 also
 * the 2 gradient bytes, stage 3 also the 2 weight bytes (Rajbhandari et al.
 * 2020). The seed article's rule is fp32 weights plus 8 bytes: 12. */
double llm_train_state_bytes(const llm_arch *m, int zero_stage, int dp);
double llm_train_state_seed_bytes(const llm_arch *m);
/* Activation memory of one micro-batch of b sequences of s tokens held for
 * the backward pass, in 16-bit, per Korthikanti et al. 2022 (Table 2):
 * per layer s b h (34 + 5 a s / h) bytes without recomputation, 34 s b h
 * with selective recomputation, 2 s b h with full; divided by tp (with
 * sequence parallelism). */
enum { LLM_RECOMPUTE_NONE, LLM_RECOMPUTE_SELECTIVE, LLM_RECOMPUTE_FULL };
double llm_activation_bytes(const llm_arch *m, double b, double s, int recompute, int tp);

extern const sim_catalog_type llm_catalog;

#endif
