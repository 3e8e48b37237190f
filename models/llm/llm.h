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
  double published_params, published_active_params;
  const char *params_source, *source;
} llm_arch;

/* Head size: head_dim if given, else hidden / heads. */
double llm_head_dim(const llm_arch *m);
/* Width of the query projection (heads * head_dim) and of K or V (kv_heads * head_dim). */
double llm_q_dim(const llm_arch *m);
double llm_kv_dim(const llm_arch *m);

/* Parameters of one layer's attention block, one expert's MLP, one layer
 * in total (all experts), and per-layer parameters a token uses (active). */
double llm_attn_params(const llm_arch *m);
double llm_expert_params(const llm_arch *m);
double llm_layer_params(const llm_arch *m);
double llm_layer_active_params(const llm_arch *m);
/* Embedding, positions, output head and final norm. */
double llm_embed_params(const llm_arch *m);
/* Whole model: total and active per token (MoE: experts_active of experts). */
double llm_params(const llm_arch *m);
double llm_active_params(const llm_arch *m);
/* Parameters whose matrices multiply each token (excludes the input
 * embedding lookup and positions; includes the output head). */
double llm_matmul_params(const llm_arch *m);

/* Forward FLOPs of one token at context position `ctx` (tokens it attends
 * to, itself included): 2 x matmul parameters plus attention, 4 x layers x
 * q_dim x ctx (scores and the weighted sum). */
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
/* KV cache bytes per token: 2 (K and V) x layers x kv_heads x head_dim x bytes. */
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
