/* models/training/train_memory.c: memory per GPU of a training job on its
 * busiest pipeline stage (the first holds the most micro-batches in
 * flight, the last the output layer and its logits): weights, gradients
 * and Adam state as ZeRO divides them, the activations kept for backward
 * by recomputation granularity (Korthikanti et al. 2022, "Reducing
 * Activation Recomputation in Large Transformer Models", sec. 4, Table 2),
 * with or without dropout masks, with fused kernels, and what offload
 * moves to host memory; and the cheapest recomputation that fits. */
#include <math.h>

#include "models/training/train.h"
#include "sim/util.h"

/* Bytes per layer of one micro-batch of b sequences of s tokens kept for
 * the backward pass (16-bit activations, 1-byte dropout masks), Korthikanti
 * sec. 4.1 for a GPT layer, its terms generalised to the layer's widths
 * (q = h x query heads' width, kv per K or V, f the MLP width of the active
 * experts):
 *   outside the tensor-parallel regions (split by t only with sequence
 *   parallelism): two layer-norm inputs 4sbh, the attention and MLP inputs
 *   2sbh + 2sbh, the two dropout masks after attention and MLP 2sbh
 *   (dropout only): 10sbh, or 8sbh without dropout;
 *   inside (split by t): Q and K for QK^T 2sb(q + kv), V 2sb kv, the
 *   output projection's input 2sbq, the MLP activation's input and output
 *   4sbf (gated: the gate and up outputs 4sbf, the product 2sbf): 24sbh for
 *   GPT (q = kv = h, f = 4h);
 *   attention scores (split by t): softmax output 2as^2b, with dropout its
 *   mask as^2b and output 2as^2b: 5as^2b, or 2as^2b without dropout;
 *   FlashAttention keeps none, only its fp32 log-sum-exp per head and
 *   token, 4asb; selective recomputation keeps neither (Korthikanti sec.
 *   5: the core attention is recomputed).
 * GPT with dropout: sbh (10 + 24/t + 5as/(ht)), with sequence parallelism
 * sbh (34/t + 5as/(ht)) (Table 2). A layer recomputed in full keeps its
 * input, 2sbh (/t with sequence parallelism). */
double train_layer_activation_bytes(const train_job *j, int recompute)
{
  const llm_arch *m = j->model;
  /* context parallelism: a rank keeps its s / cp tokens (ring attention's
   * K and V of the other chunks are not kept) */
  double s = (double)j->seq_len / j->cp, b = j->micro_batch, h = (double)m->hidden, a = (double)m->heads, t = j->tp;
  double rep = j->seq_parallel ? t : 1;
  if (recompute == LLM_RECOMPUTE_FULL) return 2 * s * b * h / rep;
  double q = llm_q_dim(m), kv = llm_kv_dim(m);
  double f = train_layer_mlp_width(m);
  double outside = (8 + (j->dropout ? 2 : 0)) * h / rep;
  double inside = (2 * (q + kv) + 2 * kv + 2 * q + (m->ffn_kind == LLM_FFN_GATED ? 6 : 4) * f) / t;
  double scores = recompute == LLM_RECOMPUTE_SELECTIVE ? 0
                : j->flash_attention ? 4 * a / t
                : (j->dropout ? 5 : 2) * a * s / t;
  return s * b * (outside + inside + scores + train_moe_activation_bytes(j));
}

/* Activations of one micro-batch through the stage's layers (v chunks of
 * Lc layers, the first N of each recomputed in full, the others at the
 * job's level: Megatron-LM's full granularity recomputes nothing of the
 * layers it does not checkpoint). */
static double stage_micro_batch(const train_job *j)
{
  int lc = train_chunk_layers(j), n = train_recomputed_layers(j);
  int rest = j->recompute == LLM_RECOMPUTE_FULL ? LLM_RECOMPUTE_NONE : j->recompute;
  double chunk = n * train_layer_activation_bytes(j, LLM_RECOMPUTE_FULL) + (lc - n) * train_layer_activation_bytes(j, rest);
  return j->interleave * chunk;
}

/* Activations of one micro-batch through chunk c of stage s of a job with
 * uneven stages or chunks: its layers, the first N recomputed in full. */
static double uneven_chunk_micro_batch(const train_job *j, int s, int c)
{
  int l = train_chunk_size(j, s, c), n = train_chunk_recomputed(j, s, c);
  int rest = j->recompute == LLM_RECOMPUTE_FULL ? LLM_RECOMPUTE_NONE : j->recompute;
  return n * train_layer_activation_bytes(j, LLM_RECOMPUTE_FULL) + (l - n) * train_layer_activation_bytes(j, rest);
}

/* The same through the whole stage, each chunk as large as its largest:
 * the bound ZB-H1 and DualPipe count with. */
static double uneven_micro_batch(const train_job *j, int s)
{
  int l = train_stage_chunk_layers(j, s), n = train_stage_recomputed(j, s);
  int rest = j->recompute == LLM_RECOMPUTE_FULL ? LLM_RECOMPUTE_NONE : j->recompute;
  return j->interleave *
         (n * train_layer_activation_bytes(j, LLM_RECOMPUTE_FULL) + (l - n) * train_layer_activation_bytes(j, rest));
}

/* 1F1B and its interleaved form: the most stage s holds at once, its
 * chunks counted at their own sizes in the schedule's order (chunks of a
 * stage differ by a layer with uneven_chunks, and the first ones, larger,
 * are those the warm-up holds most of). */
static double uneven_held_1f1b(const train_job *j, int s, int m, double first_chunk_extra)
{
  int v = j->interleave;
  double held[v];  /* on the stack, as train_step's per-chunk times: called per stage for every layout plan tries */
  for (int c = 0; c < v; c++) held[c] = uneven_chunk_micro_batch(j, s, c);
  held[0] += first_chunk_extra;
  return train_pipeline_peak_held(s, j->pp, m, v, held);
}

/* The embedding's dropout mask (emb per micro-batch) lives through the
 * first chunk of the first stage: what it adds to that stage's peak under
 * 1F1B (interleaved, up to 2p of its micro-batches may be in flight while
 * the peak of the others falls elsewhere), given the peak without it. */
static double first_chunk_extra_1f1b(const train_job *j, int m, double emb, double peak)
{
  return emb > 0 ? uneven_held_1f1b(j, 0, m, emb) - peak : 0;
}

/* ZB-H1: what one micro-batch whose weight gradients are pending keeps
 * through stage s (-1: a stage of even ones): its backward has run, so a
 * recomputed layer holds what the recomputation materialised at the
 * selective level (the inputs of its linear layers, which W multiplies
 * with their output gradients), the others their level; on the GPU even
 * when activations are offloaded (B brought them back). An upper bound:
 * W needs less than B. */
static double pending_w_micro_batch(const train_job *j, int s)
{
  int l = s < 0 ? train_chunk_layers(j) : train_stage_chunk_layers(j, s);
  int n = s < 0 ? train_recomputed_layers(j) : train_stage_recomputed(j, s);
  if (j->recompute != LLM_RECOMPUTE_FULL) n = 0;
  int rest = j->recompute == LLM_RECOMPUTE_FULL ? LLM_RECOMPUTE_NONE : j->recompute;
  return j->interleave * (n * train_layer_activation_bytes(j, LLM_RECOMPUTE_SELECTIVE) +
                          (l - n) * train_layer_activation_bytes(j, rest));
}

/* The micro-batches (in stages' worth) stage s holds in flight under 1F1B
 * (interleaved: Megatron's warm-up of 2 (p-1-s) + (v-1) p chunk
 * micro-batches and the steady state's one, over v), at most m. */
static double flight_1f1b(const train_job *j, int s, int m)
{
  int pp = j->pp, v = j->interleave;
  if (v > 1) return fmin((2.0 * (pp - 1 - s) + (v - 1.0) * pp + 1) / v, m);
  return pp - s < m ? pp - s : m;
}

/* What every stage's count ends with: optimizer offload (ZeRO-Offload:
 * the Adam state to the host; over ZeRO 2 the gradient shard streams there
 * too, the GPU keeping reduce buckets only, not counted), then the total
 * against the GPU's memory. host_bytes holds the activations moved. */
static void memory_finish(const train_job *j, train_memory *o)
{
  /* FSDP / ZeRO 3 runs a layer from its gathered 16-bit weights while it
   * prefetches the next one's, and holds the layer's full gradients until
   * they are reduce-scattered: (2 x 2 + g) bytes per parameter of a layer
   * on this GPU (the layers' mean; routed experts at their ep share). The
   * root unit (what no layer owns: embedding, head) stays gathered from its
   * forward to its backward, which span the model's (PyTorch FSDP1 keeps
   * the root after forward, FSDP2 sets its reshard_after_forward False),
   * and holds the head's gradients, the backward's first, until its
   * reduce-scatter at the end: 2 bytes per root parameter, g per head's */
  o->gathered = 0;
  if (train_shards_weights(j)) {
    double routed, layer = train_layer_params_gpu(j, &routed), head;
    double root = train_stage_root_params(j, o->stage, &head);
    o->gathered = (2 * TRAIN_WEIGHT_BYTES + train_grad_bytes(j)) * (layer + routed) + TRAIN_WEIGHT_BYTES * root +
                  train_grad_bytes(j) * head;
  }
  if (j->offload & TRAIN_OFFLOAD_OPTIMIZER) {
    o->host_bytes += o->optimizer;
    o->optimizer = 0;
    if (train_shards_grads(j)) {
      o->host_bytes += o->grads;
      o->grads = 0;
    }
  }
  o->total = o->weights + o->grads + o->optimizer + o->activations + o->gathered;
  o->capacity = gpu_mem_bytes(j->gpu);
  o->fits = o->total <= o->capacity;
  o->short_bytes = o->fits ? 0 : o->total - o->capacity;
  o->margin_bytes = o->capacity - o->total;
}

void train_memory_stage(const train_job *j, int s, train_memory *o)
{
  SIM_ASSERT(j->recompute != TRAIN_RECOMPUTE_AUTO && (train_uneven(j) || j->uneven_chunks));
  double p = train_stage_params(j, s), d = train_shard_ranks(j);
  *o = (train_memory){.params = p, .stage = s};
  o->weights = 2 * p / (train_shards_weights(j) ? d : 1);
  o->grads = train_grad_bytes(j) * p / (train_shards_grads(j) ? d : 1);
  o->optimizer = 12 * p / (j->zero >= 1 ? d : 1);
  if (j->cp > 1 || j->ep > 1 || j->dualpipe) train_cpep_stage_memory(j, s, o);

  int m = train_micro_batches(j), pp = j->pp;
  double sq = (double)j->seq_len / j->cp, b = j->micro_batch, h = (double)j->model->hidden, t = j->tp;
  double rep = j->seq_parallel ? t : 1;
  /* 1F1B: stage s starts p - s forwards before its first backward (the
   * interleaved warm-up: flight_1f1b). ZB-H1 lets every stage hold as many
   * as the first, and a stage may swap one of its own for one more waiting
   * for its weight gradients (train_pipeline_zb_held): one chunk fewer in
   * flight, the rest up to the first stage's count waiting, which keep at
   * least as much (pending_w_micro_batch). 1F1B's count is then exact,
   * its chunks at their own sizes (uneven_held_1f1b); ZB-H1's and
   * DualPipe's take every chunk as large as the stage's largest */
  double flight = flight_1f1b(j, s, m), flight_w = 0, all = flight;
  if (j->schedule == TRAIN_SCHEDULE_ZB_H1 && pp > 1) {
    all = flight_1f1b(j, 0, m);
    flight_w = all - flight + 1.0 / j->interleave;
    flight -= 1.0 / j->interleave;
  }
  if (j->dualpipe) flight = all = pp + 1.0;
  double per_mb = uneven_micro_batch(j, s);
  bool exact = j->schedule != TRAIN_SCHEDULE_ZB_H1 && !j->dualpipe;
  o->layer_bytes = train_layer_activation_bytes(j, LLM_RECOMPUTE_NONE);
  o->recompute_layer_bytes = train_layer_activation_bytes(j, LLM_RECOMPUTE_FULL);
  double work = train_stage_recomputed(j, s) > 0 ? o->layer_bytes : 0;
  double emb = j->dropout ? sq * b * h / rep : 0;
  double out = 4 * sq * b * h / rep + (j->fused_cross_entropy ? 2 : 4) * sq * b * (double)j->model->vocab / t;
  double in = exact ? uneven_held_1f1b(j, s, m, 0) : flight * per_mb, kept = in;
  double emb_held = s > 0 ? 0 : exact ? first_chunk_extra_1f1b(j, m, emb, in) : all * emb;
  if (j->offload & TRAIN_OFFLOAD_ACTIVATIONS) {
    int lvl = j->recompute == LLM_RECOMPUTE_FULL ? LLM_RECOMPUTE_NONE : j->recompute;
    double lay = train_stage_recomputed(j, s) == train_stage_chunk_layers(j, s) ? o->recompute_layer_bytes
                                                                           : train_layer_activation_bytes(j, lvl);
    kept = fmin(in, 2 * lay);
  }
  o->activations = kept + flight_w * pending_w_micro_batch(j, s) + work + emb_held +
                   (s == pp - 1 || j->dualpipe ? out : 0);
  o->host_bytes = in - kept;
  memory_finish(j, o);
}

void train_memory_need(const train_job *j, train_memory *o)
{
  SIM_ASSERT(j->recompute != TRAIN_RECOMPUTE_AUTO);
  if (train_uneven(j) || j->uneven_chunks) {
    /* every stage counted (the first holds the most micro-batches, the
     * last the logits, a middle one may hold more layers; chunks of
     * different sizes counted as they are held): the busiest */
    train_memory_stage(j, 0, o);
    for (int s = 1; s < j->pp; s++) {
      train_memory x;
      train_memory_stage(j, s, &x);
      if (x.total > o->total) *o = x;
    }
    return;
  }
  double p = llm_params(j->model) / ((double)j->tp * j->pp), d = train_shard_ranks(j);
  *o = (train_memory){.params = p};
  o->weights = 2 * p / (train_shards_weights(j) ? d : 1);
  o->grads = train_grad_bytes(j) * p / (train_shards_grads(j) ? d : 1);
  o->optimizer = 12 * p / (j->zero >= 1 ? d : 1);
  if (j->cp > 1 || j->ep > 1 || j->dualpipe) train_cpep_memory(j, o);

  int m = train_micro_batches(j), pp = j->pp, v = j->interleave;
  double s = (double)j->seq_len / j->cp, b = j->micro_batch, h = (double)j->model->hidden, t = j->tp;
  double rep = j->seq_parallel ? t : 1;
  /* 1F1B: the first stage starts p forwards before its first backward, the
   * last one; interleaved (Megatron's warm-up of (p-1-r) 2 + (v-1) p chunk
   * micro-batches on rank r): p (1 + (p-1)/(p v)) and ((v-1) p + 1) / v
   * stages' worth */
  double first = m < pp ? m : pp, last = 1;
  if (v > 1) {
    first = pp * (1 + (pp - 1.0) / (pp * v));
    last = ((v - 1.0) * pp + 1) / v;
  }
  if (first > m) first = m;
  if (last > m) last = m;
  /* ZB-H1 (as train_memory_stage): each stage up to the first's count,
   * one chunk fewer than 1F1B's own in flight and the rest waiting for
   * their weight gradients */
  double first_all = first, first_w = 0, last_w = 0;
  if (j->schedule == TRAIN_SCHEDULE_ZB_H1 && pp > 1) {
    last_w = first - last + 1.0 / v;
    first_w = 1.0 / v;
    last -= 1.0 / v;
    first -= 1.0 / v;
  }
  if (j->dualpipe) first = last = first_all = pp + 1.0;  /* DualPipe: PP + 1 on every rank (DeepSeek-V3 report, Table 2) */
  double per_mb = stage_micro_batch(j);
  o->layer_bytes = train_layer_activation_bytes(j, LLM_RECOMPUTE_NONE);
  o->recompute_layer_bytes = train_layer_activation_bytes(j, LLM_RECOMPUTE_FULL);
  /* recomputing a layer for its backward materialises its activations once */
  double work = train_recomputed_layers(j) > 0 ? o->layer_bytes : 0;
  /* first stage: the embedding's dropout mask, sbh (Korthikanti sec. 4.3);
   * last stage: the final layer norm's and the output projection's inputs,
   * 4sbh, and the logits for the cross-entropy, 4sbV/t in fp32 (2sbV/t in
   * 16 bits when fused) */
  double emb = j->dropout ? s * b * h / rep : 0;
  double out = 4 * s * b * h / rep + (j->fused_cross_entropy ? 2 : 4) * s * b * (double)j->model->vocab / t;
  /* activation offload keeps two layers' worth of a micro-batch on the GPU
   * (the largest a layer keeps: at the job's level unless every layer is
   * recomputed) and moves the rest to the host */
  double in_first = first * per_mb, in_last = last * per_mb, kept_first = in_first, kept_last = in_last;
  if (j->offload & TRAIN_OFFLOAD_ACTIVATIONS) {
    int lvl = j->recompute == LLM_RECOMPUTE_FULL ? LLM_RECOMPUTE_NONE : j->recompute;
    double lay = train_recomputed_layers(j) == train_chunk_layers(j) ? o->recompute_layer_bytes
                                                                     : train_layer_activation_bytes(j, lvl);
    kept_first = fmin(in_first, 2 * lay);
    kept_last = fmin(in_last, 2 * lay);
  }
  double pend = first_w > 0 || last_w > 0 ? pending_w_micro_batch(j, -1) : 0;
  /* the embedding's mask under interleaved 1F1B: only the first chunk's
   * micro-batches keep it, and the warm-up holds up to 2p of them */
  double emb_first = first_all * emb;
  if (v > 1 && emb > 0 && j->schedule != TRAIN_SCHEDULE_ZB_H1 && !j->dualpipe)
    emb_first = first_chunk_extra_1f1b(j, m, emb, in_first);
  double act_first = kept_first + first_w * pend + emb_first + work + (pp == 1 || j->dualpipe ? out : 0);
  double act_last = kept_last + last_w * pend + work + out;
  /* the busier end by its activations: what memory_finish adds is the
   * same on both (FSDP gathers unit by unit only without pipeline stages;
   * with them it holds each stage whole, train_fsdp_pipelined) */
  o->stage = pp > 1 && act_last > act_first ? pp - 1 : 0;
  o->activations = o->stage ? act_last : act_first;
  o->host_bytes = o->stage ? in_last - kept_last : in_first - kept_first;
  memory_finish(j, o);
}

bool train_job_fit(train_job *j, train_memory *mem)
{
  if (j->recompute != TRAIN_RECOMPUTE_AUTO) {
    train_memory_need(j, mem);
    return mem->fits;
  }
  j->recompute_layers = 0;
  static const int levels[] = {LLM_RECOMPUTE_NONE, LLM_RECOMPUTE_SELECTIVE};
  for (int i = 0; i < 2; i++) {
    j->recompute = levels[i];
    train_memory_need(j, mem);
    if (mem->fits) return true;
  }
  j->recompute = LLM_RECOMPUTE_FULL;
  for (int n = 1; n < train_chunk_layers(j); n++) {
    j->recompute_layers = n;
    train_memory_need(j, mem);
    if (mem->fits) return true;
  }
  j->recompute_layers = 0;
  train_memory_need(j, mem);
  return mem->fits;
}
