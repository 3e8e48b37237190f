/* models/llm/compute.c: FLOPs and memory of a model, from its architecture
 * (see llm.h for the rules and their sources). */
#include <math.h>

#include "models/llm/llm.h"

double llm_token_flops(const llm_arch *m, double ctx)
{
  return 2 * llm_matmul_params(m) + 4 * (double)m->layers * llm_q_dim(m) * ctx;
}

double llm_prefill_flops(const llm_arch *m, double n)
{
  /* token i (1-based) attends to i positions: sum = n (n + 1) / 2 */
  return 2 * llm_matmul_params(m) * n + 4 * (double)m->layers * llm_q_dim(m) * n * (n + 1) / 2;
}

double llm_decode_flops(const llm_arch *m, double in, double out)
{
  /* generated token j (1-based) attends to in + j positions */
  double attended = out * in + out * (out + 1) / 2;
  return 2 * llm_matmul_params(m) * out + 4 * (double)m->layers * llm_q_dim(m) * attended;
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
