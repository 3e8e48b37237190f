/* models/training/train_memory.c: memory per GPU of a training job on its
 * busiest pipeline stage (the first, which holds the most micro-batches in
 * flight): weights, gradients and Adam state as ZeRO divides them, and the
 * activations kept for backward (Korthikanti et al. 2022, "Reducing
 * Activation Recomputation in Large Transformer Models", Table 2). */
#include "models/training/train.h"

/* Bytes per layer of one micro-batch of b sequences of s tokens kept for
 * the backward pass (16-bit activations), Korthikanti Table 2: without
 * recomputation s b h (10 + 24/t + 5 a s / (h t)), with sequence
 * parallelism s b h (34/t + 5 a s / (h t)); selective recomputation (and
 * fused attention, which keeps no s x s scores) drops the 5 a s / h term;
 * full recomputation keeps the layer input, 2 s b h (/t with sequence
 * parallelism). */
static double layer_activations(const train_job *j, int recompute)
{
  double s = j->seq_len, b = j->micro_batch, h = (double)j->model->hidden, a = (double)j->model->heads;
  double t = j->tp;
  if (recompute == LLM_RECOMPUTE_FULL) return 2 * s * b * h / (j->seq_parallel ? t : 1);
  double linear = j->seq_parallel ? 34 / t : 10 + 24 / t;
  double scores = recompute == LLM_RECOMPUTE_SELECTIVE || j->flash_attention ? 0 : 5 * a * s / (h * t);
  return s * b * h * (linear + scores);
}

void train_memory_need(const train_job *j, train_memory *o)
{
  double p = llm_params(j->model) / ((double)j->tp * j->pp), d = j->dp;
  o->params = p;
  o->weights = 2 * p / (j->zero >= 3 ? d : 1);
  o->grads = 2 * p / (j->zero >= 2 ? d : 1);
  o->optimizer = 12 * p / (j->zero >= 1 ? d : 1);

  int m = train_micro_batches(j), pp = j->pp, v = j->interleave;
  double layers = (double)j->model->layers / pp;
  /* 1F1B: the first stage starts p forwards before its first backward */
  double in_flight = m < pp ? m : pp;
  if (v > 1) in_flight = pp * (1 + (pp - 1.0) / (pp * v));
  if (in_flight > m) in_flight = m;
  o->activations = layer_activations(j, j->recompute) * layers * in_flight;
  /* recomputing a layer for its backward materialises its activations once */
  if (j->recompute == LLM_RECOMPUTE_FULL) o->activations += layer_activations(j, LLM_RECOMPUTE_NONE);
  o->total = o->weights + o->grads + o->optimizer + o->activations;
  o->capacity = gpu_mem_bytes(j->gpu);
  o->fits = o->total <= o->capacity;
  o->short_bytes = o->fits ? 0 : o->total - o->capacity;
}
