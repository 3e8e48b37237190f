/* models/llm/compute.c: FLOPs and memory of a model, from its architecture
 * (see llm.h for the rules and their sources); sliding-window layers attend
 * to at most their window. */
#include <math.h>

#include "models/llm/llm.h"

/* Positions attended by the tokens at context positions lo+1 .. hi (each
 * attends to its position, itself included) in a layer with a window of w
 * (w <= 0: no window): sum of min(i, w). */
static double attended(double lo, double hi, double w)
{
  if (w <= 0 || hi <= w) return hi * (hi + 1) / 2 - lo * (lo + 1) / 2;
  if (lo >= w) return (hi - lo) * w;
  return w * (w + 1) / 2 - lo * (lo + 1) / 2 + (hi - w) * w;
}

/* Attention FLOPs of the tokens at positions lo+1 .. hi over all layers,
 * windowed layers counted apart. */
static double windowed_attn_flops(const llm_arch *m, double lo, double hi)
{
  double w = llm_window_layers(m), g = (double)m->layers - w;
  return 4 * llm_attn_width(m) *
         (g * attended(lo, hi, 0) + w * attended(lo, hi, (double)m->sliding_window));
}

double llm_token_flops(const llm_arch *m, double ctx)
{
  if (llm_window_layers(m) > 0) return 2 * llm_matmul_params(m) + windowed_attn_flops(m, ctx - 1, ctx);
  return 2 * llm_matmul_params(m) + 4 * (double)m->layers * llm_attn_width(m) * ctx;
}

double llm_prefill_flops(const llm_arch *m, double n)
{
  if (llm_window_layers(m) > 0) return 2 * llm_matmul_params(m) * n + windowed_attn_flops(m, 0, n);
  /* token i (1-based) attends to i positions: sum = n (n + 1) / 2 */
  return 2 * llm_matmul_params(m) * n + 4 * (double)m->layers * llm_attn_width(m) * n * (n + 1) / 2;
}

double llm_decode_flops(const llm_arch *m, double in, double out)
{
  if (llm_window_layers(m) > 0) return 2 * llm_matmul_params(m) * out + windowed_attn_flops(m, in, in + out);
  /* generated token j (1-based) attends to in + j positions */
  double attended_ = out * in + out * (out + 1) / 2;
  return 2 * llm_matmul_params(m) * out + 4 * (double)m->layers * llm_attn_width(m) * attended_;
}

double llm_flops_2pn(const llm_arch *m, double n) { return 2 * llm_active_params(m) * n; }

double llm_train_flops(const llm_arch *m, double tokens, bool recompute)
{
  return (recompute ? 8 : 6) * llm_active_params(m) * tokens;
}

double llm_weights_bytes(const llm_arch *m, double bytes_per_param)
{
  return llm_params(m) * bytes_per_param;
}

double llm_kv_bytes_per_token(const llm_arch *m, double bytes_per_value)
{
  /* MLA: llm_kv_dim is half the cached latent, so this is layers x latent */
  return 2 * (double)m->layers * llm_kv_dim(m) * bytes_per_value;
}

double llm_train_state_bytes(const llm_arch *m, int zero_stage, int dp)
{
  double p = llm_params(m), d = dp > 1 ? dp : 1;
  double weights = 2 * p, grads = 2 * p, optim = 12 * p;
  if (zero_stage >= 1) optim /= d;
  if (zero_stage >= 2) grads /= d;
  if (zero_stage >= 3) weights /= d;
  return weights + grads + optim;
}

double llm_train_state_seed_bytes(const llm_arch *m) { return 12 * llm_params(m); }

double llm_activation_bytes(const llm_arch *m, double b, double s, int recompute, int tp)
{
  double h = (double)m->hidden, a = (double)m->heads;
  double per_layer;
  switch (recompute) {
  case LLM_RECOMPUTE_FULL: per_layer = 2 * s * b * h; break;
  case LLM_RECOMPUTE_SELECTIVE: per_layer = 34 * s * b * h / (tp > 0 ? tp : 1); break;
  default: per_layer = s * b * h * (34 + 5 * a * s / h) / (tp > 0 ? tp : 1); break;
  }
  return per_layer * (double)m->layers;
}
