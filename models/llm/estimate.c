/* models/llm/estimate.c: `clustersim estimate`: the seed article's
 * back-of-the-envelope, done with the compute core: FLOPs, memory, GPUs to
 * hold a model, time of a request at peak and at the modelled efficiency,
 * on one CPU core, and cost; training FLOPs, time and cost. With --train,
 * the simulated training iteration of models/training/train.h instead
 * (est_train). Flags are a key table; the driver parses them and prints the
 * report. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "models/gpu/gpu.h"
#include "models/llm/llm.h"
#include "models/llm/llm_step.h"
#include "models/stack/stack.h"
#include "models/training/train_stack.h"
#include "models/training/train.h"
#include "sim/command.h"

/* The seed's CPU: one core at 3 GHz doing one FLOP per cycle. */
#define CPU_CORE_FLOPS 3e9
/* Weights in 16-bit floating point when --dtype is not given (without
 * --train): the seed article's case and the serving engines' default;
 * with --train the training default (TRAIN_DEFAULT_DTYPE). */
#define EST_INFERENCE_DTYPE GPU_FP16

typedef struct {
  const char *model, *gpu, *link, *net_link;
  int64_t gpus, tp, pp, batch, context, gpus_per_node, dp, nics_per_node;
  int64_t dp_attention, ep;
  const char *dtype;        /* a gpu_precision name, "" for the mode's default */
  double tokens_in, tokens_out, train_tokens, price, overhead_ms, mfu;
  bool has_overhead_ms;     /* --overhead-ms given: it replaces the stack's fixed host time */
  const char *stack;
  int recompute, fsdp_prefetch, grad_reduce;
  int64_t zero, recompute_layers;
  int64_t first_stage_layers, last_stage_layers;
  const char *offload;
  bool fused_ce;
  int dropout;
  /* --train */
  bool train, seq_parallel, no_flash;
  const char *train_stack;  /* --train-stack (--stack is the serving stack) */
  bool has_fused_ce, has_prefetch, has_dp_overlap, has_no_flash, has_grad_reduce;  /* given: they win over the training stack's */
  const char *node_link;
  int64_t layers, hidden, heads, kv_heads, ffn, vocab;
  int64_t global_batch, seq_len, micro_batch, interleave;
  double dp_overlap, mtbf_gpu_h, checkpoint_interval_s, checkpoint_s, restart_s;
  bool has_checkpoint_s, async_checkpoint;
  double storage_gbps, ramp_batch_samples, ramp_seq_tokens, straggler_slowdown, straggler_jitter;
  int64_t cp;               /* --train: context-parallel ranks (--ep: expert-parallel ranks) */
  int64_t dp_shard;         /* --train: ZeRO's shard group (0: every dp x cp rank) */
  bool dualpipe, uneven_chunks;
  int cp_comm, schedule;
  double expert_imbalance, moe_capacity;
  bool moe_pad, has_moe_capacity, has_moe_pad, no_moe_pad;
  int64_t ramp_batch_start, ramp_batch_increment, ramp_seq_start, eval_interval, eval_iters;
} est_params;

#define FL(field, key, def_, lo, hi, help_) \
  {.name = key, .kind = SIM_KEY_FLOAT, .offset = offsetof(est_params, field), .def = def_, .min = lo, \
   .max = hi, .help = help_}
#define IN(field, key, def_, lo, hi, help_) \
  {.name = key, .kind = SIM_KEY_INT, .offset = offsetof(est_params, field), .def = def_, .min = lo, \
   .max = hi, .help = help_}

static const sim_key est_flags[] = {
  {.name = "model", .kind = SIM_KEY_STRING, .offset = offsetof(est_params, model), .def_str = "gpt3-175b",
   .help = "model from the catalog (clustersim list models)"},
  {.name = "gpu", .kind = SIM_KEY_STRING, .offset = offsetof(est_params, gpu), .def_str = "a100-80gb-sxm",
   .help = "GPU from the catalog (clustersim list gpus)"},
  IN(gpus, "gpus", 0, 0, 1e6, "GPUs (0: tp x pp, or the fewest that hold the weights)"),
  {.name = "dtype", .kind = SIM_KEY_STRING, .offset = offsetof(est_params, dtype), .def_str = "",
   .help = "precision: fp32, tf32, fp16, bf16, fp8, int8 or int4 (default fp16 for the weights; with --train "
           TRAIN_DEFAULT_DTYPE_NAME ", as the training section)"},
  FL(tokens_in, "tokens-in", 512, 1, 1e9, "prompt tokens per request"),
  FL(tokens_out, "tokens-out", 512, 0, 1e9, "generated tokens per request"),
  FL(train_tokens, "train-tokens", 300e9, 0, 1e16, "training data set in tokens"),
  FL(price, "price", 0, 0, 1e5, "USD per GPU-hour (0: the catalog's reference price)"),
  IN(tp, "tp", 0, 0, 1024, "tensor-parallel degree (0: all the GPUs / pp)"),
  IN(pp, "pp", 1, 1, 1024, "pipeline stages"),
  IN(dp_attention, "dp-attention", 1, 1, 1024,
     "data-parallel attention ranks of tp GPUs each, in lock-step (GPUs = tp x pp x dp-attention)"),
  IN(ep, "ep", 0, 0, 1024,
     "GPUs of a stage the routed experts are split over (0: tp x dp-attention when dp-attention > 1, else 1); "
     "with --train: expert-parallel ranks, dividing dp x cp (0: 1)"),
  IN(cp, "cp", 1, 1, 1024, "--train: context-parallel ranks, each sequence split over them (ring attention)"),
  IN(dp_shard, "dp-shard", 0, 0, 1e7,
     "--train: ZeRO's shard group, the dp x cp ranks the sharded state splits over, the groups replicas of each "
     "other (HSDP, MiCS; divides dp x cp; 0: all of them)"),
  {.name = "cp-comm-type", .kind = SIM_KEY_ENUM, .offset = offsetof(est_params, cp_comm),
   .choices = train_cp_comm_names, .def_str = "p2p",
   .help = "--train, --cp: p2p (ring attention) or a2a (DeepSpeed-Ulysses all-to-all of the heads), as "
           "Megatron-Core's --cp-comm-type"},
  {.name = "dualpipe", .kind = SIM_KEY_BOOL, .offset = offsetof(est_params, dualpipe), .def = 0,
   .help = "--train: DeepSeek-V3's DualPipe schedule (even pp; all-to-all under the paired micro-batch's compute)"},
  {.name = "pipeline-schedule", .kind = SIM_KEY_ENUM, .offset = offsetof(est_params, schedule),
   .choices = train_schedule_names, .def_str = "1f1b",
   .help = "--train: 1f1b (interleaved with --interleave > 1) or zb-h1, the zero-bubble split of each backward "
           "into its input- and weight-gradient passes, the latter filling idle time (Qi et al. 2024)"},
  {.name = "uneven-chunks", .kind = SIM_KEY_BOOL, .offset = offsetof(est_params, uneven_chunks), .def = 0,
   .help = "--train, --interleave: a stage's layers split over its virtual stages as evenly as they go, the first "
           "one layer more (Megatron-Core's pipeline layout); off: they must divide"},
  FL(expert_imbalance, "expert-imbalance", TRAIN_DEFAULT_EXPERT_IMBALANCE, 1, 100,
     "--train, --ep: max / mean tokens of one routed expert (default: auxiliary-loss balancing, Wang et al. 2024)"),
  {.name = "moe-capacity-factor", .kind = SIM_KEY_FLOAT, .offset = offsetof(est_params, moe_capacity), .def = 0,
   .min = 0, .max = 1000, .has_present = true, .present_offset = offsetof(est_params, has_moe_capacity),
   .help = "--train: MoE token dropping (default 0: dropless, or the training stack's): an expert takes at most "
           "F x its mean tokens, as Megatron-Core's moe_expert_capacity_factor"},
  {.name = "moe-pad-to-capacity", .kind = SIM_KEY_BOOL, .offset = offsetof(est_params, moe_pad), .def = 0,
   .has_present = true, .present_offset = offsetof(est_params, has_moe_pad),
   .help = "--train: every expert computes and exchanges exactly its capacity (default off, or the training "
           "stack's), as Megatron-Core's moe_pad_expert_input_to_capacity"},
  {.name = "no-moe-pad-to-capacity", .kind = SIM_KEY_BOOL, .offset = offsetof(est_params, no_moe_pad), .def = 0,
   .help = "--train: experts not padded to their capacity, over a training stack that pads (default: the stack's)"},
  {.name = "link", .kind = SIM_KEY_STRING, .offset = offsetof(est_params, link), .def_str = "",
   .help = "link of the tensor-parallel group (default: the GPU's scale-up link, else its host link)"},
  {.name = "net-link", .kind = SIM_KEY_STRING, .offset = offsetof(est_params, net_link), .def_str = "",
   .help = "link between nodes for pipeline stages (default: ib-ndr for NVLink 4 GPUs, else ib-hdr; a TPU's DCN)"},
  IN(batch, "batch", 1, 1, 1e7, "sequences per step"),
  IN(context, "context", 0, 0, 1e9, "context of the decode step (0: tokens-in)"),
  {.name = "overhead-ms", .kind = SIM_KEY_FLOAT, .offset = offsetof(est_params, overhead_ms), .def = 0.5, .min = 0,
   .max = 1e4, .has_present = true, .present_offset = offsetof(est_params, has_overhead_ms),
   .help = "fixed host time per step, ms; given, it replaces the stack's fixed part (ideal: 0.5, "
           "models/VALIDATION.md)"},
  {.name = "stack", .kind = SIM_KEY_STRING, .offset = offsetof(est_params, stack), .def_str = STACK_DEFAULT,
   .help = "serving stack: host time, CUDA graphs, memory (clustersim list stacks)"},
  /* 0.40: large runs sit near it. MosaicML's short llm-foundry benchmarks
   * reach 42-64% MFU (MPT-7B to 70B on 8-128 A100/H100), Megatron-LM 2021's
   * weak-scaling table 44-52% hardware FLOP/s with full recomputation, i.e.
   * 33-39% MFU (shared/reference/training_calibration.csv). Issue 6 simulates
   * it instead. */
  FL(mfu, "mfu", 0.40, 0.01, 1, "model FLOPs utilisation of training (fraction of peak)"),
  {.name = "recompute", .kind = SIM_KEY_ENUM, .offset = offsetof(est_params, recompute),
   .def_str = TRAIN_DEFAULT_RECOMPUTE_NAME, .choices = train_recompute_names,
   .help = "activation recomputation: none, selective (attention scores), full (8p FLOPs per token, not 6p), "
           "or auto (with --train the cheapest that fits; without, as selective)"},
  IN(first_stage_layers, "first-stage-layers", 0, 0, 1e5,
     "--train: layers on the first pipeline stage, the rest divided evenly over the others, as Megatron-Core's "
     "decoder-first-pipeline-num-layers (0: even stages)"),
  IN(last_stage_layers, "last-stage-layers", 0, 0, 1e5,
     "--train: layers on the last pipeline stage, as Megatron-Core's decoder-last-pipeline-num-layers (0: even "
     "stages)"),
  IN(recompute_layers, "recompute-layers", 0, 0, 1e5,
     "--train, --recompute full: recompute N layers of each stage (each virtual stage when interleaved), as "
     "Megatron-LM's block method with N layers (0: all)"),
  {.name = "offload", .kind = SIM_KEY_STRING, .offset = offsetof(est_params, offload), .def_str = "",
   .help = "--train: move to host memory: optimizer (ZeRO-Offload: Adam state and step on the CPU), activations, "
           "or both: optimizer,activations"},
  {.name = "dropout", .kind = SIM_KEY_ENUM, .offset = offsetof(est_params, dropout), .def_str = "model",
   .choices = train_dropout_names,
   .help = "--train: dropout masks kept for backward: as the model was trained (its catalog entry), on or off"},
  {.name = "fused-ce", .kind = SIM_KEY_BOOL, .offset = offsetof(est_params, fused_ce), .def = TRAIN_DEFAULT_FUSED_CROSS_ENTROPY,
   .has_present = true, .present_offset = offsetof(est_params, has_fused_ce),
   .help = "--train: fused cross-entropy, logits kept in 16 bits instead of fp32"},
  IN(dp, "dp", 1, 1, 1e6, "data-parallel ranks the training state is sharded over (with --zero)"),
  IN(zero, "zero", TRAIN_DEFAULT_ZERO, 0, 3, "ZeRO stage: 1 shards optimizer state over --dp, 2 also gradients, 3 also weights"),
  IN(gpus_per_node, "gpus-per-node", 0, 0, 1e6,
     "GPUs a node-scope link (NVLink, PCIe, TPU ICI) joins (0: the GPU's scaleup_gpus, 8 for HGX nodes)"),
  IN(nics_per_node, "nics-per-node", TRAIN_DEFAULT_NICS_PER_NODE, 0, 1e6, "--train: network ports per node (0: one per GPU)"),
  {.name = "train", .kind = SIM_KEY_BOOL, .offset = offsetof(est_params, train), .def = 0,
   .help = "simulate a training iteration (dp = gpus / (tp x cp x pp)) and the whole run instead"},
  IN(global_batch, "global-batch", 0, 0, 1e9, "--train: sequences per iteration (0: 1,024)"),
  IN(seq_len, "seq-len", TRAIN_DEFAULT_SEQ_LEN, 1, 1e7, "--train: tokens per sequence"),
  IN(micro_batch, "micro-batch", TRAIN_DEFAULT_MICRO_BATCH, 1, 1e6, "--train: sequences per micro-batch"),
  IN(interleave, "interleave", TRAIN_DEFAULT_INTERLEAVE, 1, 1024, "--train: virtual pipeline stages per GPU (1: 1F1B)"),
  {.name = "seq-parallel", .kind = SIM_KEY_BOOL, .offset = offsetof(est_params, seq_parallel), .def = 0,
   .help = "--train: sequence parallelism in the tensor-parallel group"},
  {.name = "train-stack", .kind = SIM_KEY_STRING, .offset = offsetof(est_params, train_stack), .def_str = "",
   .help = "--train: training stack: efficiencies, launches, overlaps, defaults, from clustersim list train_stacks "
           "(default none: the built-in numbers)"},
  {.name = "no-flash", .kind = SIM_KEY_BOOL, .offset = offsetof(est_params, no_flash), .def = 0,
   .has_present = true, .present_offset = offsetof(est_params, has_no_flash),
   .help = "--train: unfused attention (s x s scores in memory), as Megatron-LM in 2021"},
  {.name = "node-link", .kind = SIM_KEY_STRING, .offset = offsetof(est_params, node_link), .def_str = "",
   .help = "--train: link inside a node (default: --link, else the GPU's scale-up link)"},
  {.name = "fsdp-prefetch", .kind = SIM_KEY_ENUM, .offset = offsetof(est_params, fsdp_prefetch),
   .def_str = TRAIN_DEFAULT_FSDP_PREFETCH_NAME, .choices = train_prefetch_names,
   .has_present = true, .present_offset = offsetof(est_params, has_prefetch),
   .help = "--train, --zero 3: FSDP backward prefetch, pre (PyTorch) or post (Composer)"},
  {.name = "grad-reduce-dtype", .kind = SIM_KEY_ENUM, .offset = offsetof(est_params, grad_reduce), .def_str = "auto",
   .choices = train_grad_reduce_names, .has_present = true, .present_offset = offsetof(est_params, has_grad_reduce),
   .help = "--train: precision of the gradient buffer and its data-parallel reduction: fp32, bf16, fp16, or auto "
           "(fp32 for bf16 and fp8 training, as Megatron-LM; a --train-stack gives its own)"},
  {.name = "dp-overlap", .kind = SIM_KEY_FLOAT, .offset = offsetof(est_params, dp_overlap),
   .def = TRAIN_DP_OVERLAP_DEFAULT, .min = 0, .max = 1, .has_present = true,
   .present_offset = offsetof(est_params, has_dp_overlap),
   .help = "--train: share of gradient traffic that may hide under backward (PyTorch DDP/FSDP overlap); a "
           "--train-stack gives its own"},
  IN(layers, "layers", 0, 0, 1e5, "--train: inline architecture instead of --model: layers"),
  IN(hidden, "hidden", 0, 0, 1e7, "inline architecture: hidden size"),
  IN(heads, "heads", 0, 0, 1e5, "inline architecture: attention heads"),
  IN(kv_heads, "kv-heads", 0, 0, 1e5, "inline architecture: key/value heads (0: heads)"),
  IN(ffn, "ffn", 0, 0, 1e8, "inline architecture: MLP width (0: 4 x hidden)"),
  IN(vocab, "vocab", 51200, 1, 1e8, "inline architecture: vocabulary"),
  FL(mtbf_gpu_h, "mtbf-gpu-h", TRAIN_DEFAULT_MTBF_GPU_H, 0, 1e12,
     "--train: mean time between failures of one GPU, hours (default: Llama 3's 419 interruptions in 54 days on "
     "16,384 H100, 50,677 h; 0: none)"),
  FL(checkpoint_interval_s, "checkpoint-interval-s", 0, 0, 1e9,
     "--train: work between checkpoints, s (0: Young's optimum)"),
  {.name = "checkpoint-s", .kind = SIM_KEY_FLOAT, .offset = offsetof(est_params, checkpoint_s), .def = 0, .min = 0,
   .max = 1e9, .has_present = true, .present_offset = offsetof(est_params, has_checkpoint_s),
   .help = "--train: training time one checkpoint stalls, s (default: 14 B per parameter at --storage-gbps)"},
  FL(storage_gbps, "storage-gbps", 0, 0, 1e9,
     "--train: storage write bandwidth for checkpoints, GB/s (0: Llama 3's 2 TB/s per 16,384 GPUs, scaled)"),
  {.name = "async-checkpoint", .kind = SIM_KEY_BOOL, .offset = offsetof(est_params, async_checkpoint), .def = 0,
   .help = "--train: asynchronous checkpoints (only the copy to host memory stalls training)"},
  FL(restart_s, "restart-s", TRAIN_DEFAULT_RESTART_S, 0, 1e9, "--train: time to restart after a failure, s"),
  IN(ramp_batch_start, "rampup-batch-start", 0, 0, 1e9,
     "--train: batch ramp-up from this many sequences (Megatron-LM --rampup-batch-size START; 0: none)"),
  IN(ramp_batch_increment, "rampup-batch-increment", 0, 0, 1e9, "--train: sequences added at each ramp-up step"),
  FL(ramp_batch_samples, "rampup-batch-samples", 0, 0, 1e15, "--train: sequences the batch ramp-up lasts"),
  IN(ramp_seq_start, "rampup-seq-start", 0, 0, 1e7, "--train: sequence-length warm-up from this length (0: none)"),
  FL(ramp_seq_tokens, "rampup-seq-tokens", 0, 0, 1e17, "--train: tokens the sequence-length warm-up lasts"),
  IN(eval_interval, "eval-interval", TRAIN_DEFAULT_EVAL_INTERVAL, 0, 1e9,
     "--train: iterations between evaluations (Megatron-LM's default; 0: none)"),
  IN(eval_iters, "eval-iters", TRAIN_DEFAULT_EVAL_ITERS, 0, 1e9, "--train: forward-only iterations per evaluation"),
  FL(straggler_slowdown, "straggler-slowdown", 0, 0, 100,
     "--train: the slowest GPU's compute is this share slower and every step waits for it (0: none)"),
  FL(straggler_jitter, "straggler-jitter", TRAIN_DEFAULT_STRAGGLER_JITTER, 0, 10,
     "--train: per-GPU jitter of each micro-batch's compute (standard deviation, a share); every step waits for the "
     "slowest GPU (fitted on the whole-run fitting rows; 0: none)"),
  SIM_KEY_END,
};

static int pow2_at_least(double x)
{
  int n = 1;
  while (n < x && n < (1 << 20)) n *= 2;
  return n;
}

/* The catalog entry `name`, or NULL after reporting it against `flag` with
 * the names there are. */
static const void *find(const sim_catalogs *cats, const char *list, const char *what, const char *flag,
                        const char *name, sim_check *ck)
{
  return sim_catalog_require(cats, list, what, name, ck, flag);
}

static void est_train(const est_params *o, const sim_catalogs *cats, sim_report *rep, sim_check *ck);

/* --dtype as a precision: the name given, or the mode's default when none
 * is (EST_INFERENCE_DTYPE; TRAIN_DEFAULT_DTYPE with --train). -1 after
 * reporting an unknown name. */
static int est_dtype(const est_params *o, sim_check *ck)
{
  if (!*o->dtype) return o->train ? TRAIN_DEFAULT_DTYPE : EST_INFERENCE_DTYPE;
  char list[128] = "";
  size_t used = 0;
  for (int i = 0; gpu_precision_names[i]; i++) {
    if (!strcmp(gpu_precision_names[i], o->dtype)) return i;
    if (used < sizeof list)
      used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", gpu_precision_names[i]);
  }
  sim_check_fail(ck, "dtype", "unknown value '%s' (expected one of: %s)", o->dtype, list);
  return -1;
}

/* The network link of the flags: --net-link, else the training default
 * for the GPU (train_default_net_link). NULL after reporting it. */
static const net_link *est_net_link(const est_params *o, const sim_catalogs *cats, const gpu_spec *g,
                                    sim_check *ck)
{
  return find(cats, "links", "link", "net-link", *o->net_link ? o->net_link : train_default_net_link(g), ck);
}

static void est_run(const void *params, const sim_catalogs *cats, sim_report *rep, sim_check *ck)
{
  const est_params *o = params;
  if (o->train) {
    est_train(o, cats, rep, ck);
    return;
  }
  const llm_arch *m = find(cats, "models", "model", "model", o->model, ck);
  const gpu_spec *g = find(cats, "gpus", "GPU", "gpu", o->gpu, ck);
  const net_link *link = *o->link ? find(cats, "links", "link", "link", o->link, ck) : NULL;
  const net_link *net = *o->net_link ? find(cats, "links", "link", "net-link", o->net_link, ck) : NULL;
  const stack_profile *sp = stack_require(cats, o->stack, ck, "stack");
  int dt = est_dtype(o, ck);
  if (!m || !g || (*o->link && !link) || (*o->net_link && !net) || dt < 0 || !sp) return;
  if (!link) link = g->scaleup_link ? g->scaleup_link : g->host_link;
  int64_t gpn = o->gpus_per_node > 0 ? o->gpus_per_node : g->scaleup_gpus;
  if (!net) {
    net = sim_catalog_find(cats, "links", train_default_net_link(g));
    if (!net) net = link;
  }
  gpu_precision dtype = (gpu_precision)dt;
  gpu_precision cp = gpu_compute_precision(g, dtype);
  /* no price known (0 in the catalog, none given): costs are unknown, not free */
  double price = o->price > 0 ? o->price : g->price_usd_per_hour > 0 ? g->price_usd_per_hour : NAN;

  /* GPUs to hold the weights (inference) and the training state */
  double wbytes = llm_weights_bytes(m, gpu_precision_bytes(dtype));
  double usable = gpu_mem_bytes(g) * LLM_USABLE_MEMORY;
  double hold = ceil(wbytes / usable);
  double seq = m->max_context < 2048 ? (double)m->max_context : 2048;
  double train_state = llm_train_state_bytes(m, 0, 1);
  double train_act = llm_activation_bytes(m, 1, seq, LLM_RECOMPUTE_SELECTIVE, 1);
  double hold_train = ceil((train_state + train_act) / gpu_mem_bytes(g));
  int pp = (int)o->pp, gpus, tp, dpa = (int)o->dp_attention;
  if (o->gpus > 0) {
    gpus = (int)o->gpus;
    tp = o->tp > 0 ? (int)o->tp : gpus / (pp * dpa);
    if (tp < 1 || (int64_t)tp * pp * dpa != gpus) {
      if (dpa > 1)
        sim_check_fail(ck, o->tp > 0 ? "tp" : "pp", "tp x pp x dp-attention = %d x %d x %d must equal --gpus %d",
                       tp, pp, dpa, gpus);
      else
        sim_check_fail(ck, o->tp > 0 ? "tp" : "pp", "tp x pp = %d x %d must equal --gpus %d", tp, pp, gpus);
      return;
    }
  } else if (o->tp > 0) {
    tp = (int)o->tp;
    gpus = tp * pp * dpa;
  } else if (dpa > 1) {
    tp = 1;
    gpus = pp * dpa;
  } else {
    /* the fewest GPUs that hold the weights: tp a power of two within a
     * node (for node links), then pipeline stages across nodes */
    tp = pow2_at_least(ceil(hold / pp));
    if (link->scope == NET_SCOPE_NODE && tp > gpn) {
      tp = (int)gpn;
      pp = (int)ceil(hold / tp);
    }
    gpus = tp * pp;
  }
  if (tp > m->heads || m->heads % tp != 0) {
    sim_check_fail(ck, "tp", "tensor parallelism of %d does not divide %s's %lld attention heads", tp, m->name,
                   (long long)m->heads);
    return;
  }
  if (tp > 1 && link->scope == NET_SCOPE_NODE && tp > gpn) {
    sim_check_fail(ck, "tp", "tp %d exceeds the %lld GPUs of a node joined by %s; use a network link "
                   "(--link ib-ndr, eth-400g) or tp <= %lld", tp, (long long)gpn, link->name,
                   (long long)gpn);
    return;
  }
  /* experts: split over ep of the stage's tp x dp-attention GPUs */
  int stage = tp * dpa, ep = o->ep > 0 ? (int)o->ep : (dpa > 1 && m->experts > 1 ? stage : 1);
  if (ep > 1 && m->experts <= 1) {
    sim_check_fail(ck, "ep", "%s has no experts to split (expected 1, or leave --ep out)", m->name);
    return;
  }
  if (stage % ep != 0 || (ep > 1 && m->experts % ep != 0)) {
    sim_check_fail(ck, "ep", "%d does not divide both tp x dp-attention = %d and %s's %lld experts "
                   "(expected a common divisor)", ep, stage, m->name, (long long)m->experts);
    return;
  }
  /* contexts the model cannot take */
  if (!m->encoder_only && o->tokens_in + (m->encoder_only ? 0 : o->tokens_out) > (double)m->max_context) {
    sim_check_fail(ck, "tokens-out", "tokens-in + tokens-out = %g exceeds %s's context of %lld tokens",
                   o->tokens_in + o->tokens_out, m->name, (long long)m->max_context);
    return;
  }
  if (m->encoder_only && o->tokens_in > (double)m->max_context) {
    sim_check_fail(ck, "tokens-in", "%g exceeds %s's context of %lld tokens", o->tokens_in, m->name,
                   (long long)m->max_context);
    return;
  }
  if ((double)o->context > (double)m->max_context) {
    sim_check_fail(ck, "context", "%lld exceeds %s's context of %lld tokens", (long long)o->context, m->name,
                   (long long)m->max_context);
    return;
  }

  llm_replica r;
  /* stages inside one node talk over the node link, across nodes over the network */
  const net_link *pp_link = gpus > gpn ? net : link;
  llm_replica_init(&r, m, g, dtype, tp, pp, tp > 1 ? link : NULL, pp > 1 ? pp_link : NULL,
                   o->overhead_ms * 1e-3);
  stack_apply(sp, &r, o->has_overhead_ms ? o->overhead_ms * 1e-3 : -1, 0);
  if (dpa > 1 || ep > 1) llm_replica_set_moe(&r, dpa, ep, 0, 0, false, stage > gpn ? net : link);
  /* an encoder (BERT) reads its input once and generates nothing */
  double in = o->tokens_in, out = m->encoder_only ? 0 : o->tokens_out, b = (double)o->batch;
  double ctx = o->context > 0 ? (double)o->context : in;

  /* Memory: the KV cache of b sequences at the longest context the query
   * reaches (--context, or the whole request in + out), and the
   * activations of the largest step a serving engine runs for it: a decode
   * step of the batch is b tokens, a prompt is prefilled as one step of
   * `in` tokens (engines admit prompts within a token budget, not the
   * batch's b x in at once); an encoder runs its batch as one step. */
  double kv_per_seq = ctx > in + out ? ctx : in + out;
  double step_tokens = m->encoder_only ? b * in : (b > in ? b : in);
  llm_memory mem;
  /* a sliding-window model holds at most the window in its windowed layers */
  llm_memory_need(&r, b * llm_kv_tokens_held(m, kv_per_seq), step_tokens, b, &mem);
  if (mem.total > mem.usable) {
    sim_check_fail(ck, "gpus",
                   "%s in %s does not fit on %d x %s: each GPU needs %.1f GiB (weights %.1f, KV cache "
                   "%.1f for %g x %g tokens, activations %.1f for a %g-token step) but has %.1f GiB, %.0f%% "
                   "usable (%.1f): short by %.1f GiB; use more GPUs (--gpus, at least %g hold the weights)",
                   m->name, gpu_precision_names[dtype], gpus, g->name, mem.total / 1073741824.0,
                   mem.weights / 1073741824.0, mem.kv / 1073741824.0, b, kv_per_seq,
                   mem.activations / 1073741824.0, step_tokens, mem.capacity / 1073741824.0,
                   r.mem_utilization * 100, mem.usable / 1073741824.0, (mem.total - mem.usable) / 1073741824.0,
                   hold);
    return;
  }

  /* FLOPs of one request, and of the batch */
  double prefill_flops = llm_prefill_flops(m, in), decode_flops = llm_decode_flops(m, in, out);
  double forward = prefill_flops + decode_flops;
  double peak = gpu_peak_flops(g, cp) * gpus;

  llm_batch pb = {0}, db = {0};
  llm_batch_add_prefill(&pb, 0, in, true);
  for (int i = 1; i < b; i++) llm_batch_add_prefill(&pb, 0, in, true);
  llm_batch_add_decode(&db, b, ctx);
  llm_step_cost pc, dc, step;
  llm_step(&r, &pb, &pc);
  llm_step(&r, &db, &dc);
  /* the whole request: the prompt, then one step per generated token after
   * the first (which the prefill emits), contexts growing */
  double request = pc.total_s;
  /* step time is smooth in context: past 20,000 steps, sum a sample of
   * 20,000 evenly spaced steps, each standing for its share */
  double stride = out > 20000 ? (out - 1) / 20000.0 : 1;
  for (double j = 1; j < out; j += stride) {
    llm_batch sb = {0};
    llm_batch_add_decode(&sb, b, in + j);
    llm_step(&r, &sb, &step);
    request += step.total_s * (stride < out - j ? stride : out - j);
  }
  double tokens = b * (in + out);
  double usd_per_s = price * gpus / 3600;

  double train = llm_train_flops(m, o->train_tokens, o->recompute == LLM_RECOMPUTE_FULL);
  double train_model = llm_train_flops(m, o->train_tokens, false);
  double tpeak = gpu_peak_flops(g, cp) * gpus;
  double train_time_peak = train / tpeak;
  double train_time_free = train_model / (tpeak * o->mfu);
  /* issue 15, one meaning everywhere: train_time_s is the wall time, with the
   * checkpoints and failures train_whole_run counts for --train (no
   * iteration here: no evaluations, ramp-up or stragglers) */
  train_job tj;
  train_job_init(&tj, m, g);
  tj.dp = (int)gpus;
  train_step_result tstep = {0};
  train_run_result trun = {.time_s = train_time_free};
  train_whole tw;
  train_whole_init(&tw);
  tw.mtbf_gpu_h = o->mtbf_gpu_h, tw.restart_s = o->restart_s, tw.storage_gbps = o->storage_gbps;
  tw.checkpoint_interval_s = o->checkpoint_interval_s, tw.async_checkpoint = o->async_checkpoint;
  tw.checkpoint_s = o->has_checkpoint_s ? o->checkpoint_s : -1;
  train_whole_result twr;
  char twhy[256];
  double train_time = train_whole_run(&tj, &tstep, &trun, &tw, &twr, twhy, sizeof twhy) ? NAN : twr.time_s;
  double train_mem = llm_train_state_bytes(m, (int)o->zero, (int)o->dp) + train_act;

  sim_report_str(rep, "model", m->name, "model");
  sim_report_str(rep, "gpu", g->name, "GPU");
  sim_report_str(rep, "stack", sp->name, "serving stack (--stack)");
  sim_report_str(rep, "dtype", gpu_precision_names[dtype], "weight precision");
  sim_report_str(rep, "compute_dtype", gpu_precision_names[cp], "precision the GEMMs run in");
  sim_report_int(rep, "gpus", gpus, "GPUs");
  sim_report_int(rep, "tp", tp, "tensor-parallel degree");
  sim_report_int(rep, "pp", pp, "pipeline stages");
  sim_report_int(rep, "dp_attention", dpa, "data-parallel attention ranks (--dp-attention)");
  sim_report_int(rep, "ep", ep, "GPUs the routed experts are split over (--ep)");
  sim_report_str(rep, "tp_link", tp > 1 ? link->name : "none", "tensor-parallel link");
  sim_report_str(rep, "pp_link", pp > 1 ? pp_link->name : "none", "pipeline link");
  sim_report_num(rep, "params", llm_params(m), "parameters (derived from the architecture)");
  sim_report_num(rep, "active_params", llm_active_params(m), "parameters used per token");
  sim_report_num(rep, "published_params", m->published_params, "parameters as published");
  sim_report_num(rep, "batch", b, "sequences per step (--batch)");
  sim_report_num(rep, "tokens_in", in, "prompt tokens per request");
  sim_report_num(rep, "tokens_out", out, "generated tokens per request");
  sim_report_num(rep, "prefill_flops", prefill_flops, "prompt FLOPs per request");
  sim_report_num(rep, "decode_flops", decode_flops, "generation FLOPs per request");
  sim_report_num(rep, "forward_flops", forward, "forward FLOPs per request (prefill + decode)");
  sim_report_num(rep, "forward_flops_2pn", llm_flops_2pn(m, in + out), "the seed's rule 2 p n");
  sim_report_num(rep, "weights_bytes", wbytes, "weights (bytes)");
  sim_report_num(rep, "kv_bytes_per_token", llm_kv_bytes_per_token(m, r.kv_bytes), "KV cache per token (bytes)");
  sim_report_num(rep, "inference_memory_bytes", mem.total * gpus, "weights + KV + activations, all GPUs");
  sim_report_num(rep, "kv_cache_tokens", b * kv_per_seq, "tokens the KV cache holds: batch x max(context, in + out)");
  sim_report_num(rep, "activation_step_tokens", step_tokens,
                 "tokens of the largest step sized: max(batch, prompt); an encoder's whole batch");
  sim_report_num(rep, "gpus_to_hold", hold, "GPUs whose usable memory holds the weights");
  sim_report_num(rep, "peak_time_s", forward / gpu_peak_flops(g, cp),
                 "one request on one GPU at peak FLOP/s (s)");
  sim_report_num(rep, "peak_time_2pn_s", llm_flops_2pn(m, in + out) / gpu_peak_flops(g, cp),
                 "the seed's rule 2 p n on one GPU at peak (s)");
  sim_report_num(rep, "peak_time_replica_s", forward * b / peak, "the batch on all GPUs at peak (s)");
  sim_report_num(rep, "prefill_time_s", pc.total_s, "prefill of the batch's prompts (s)");
  sim_report_str(rep, "prefill_bound", pc.compute_s >= pc.memory_s ? "compute" : "memory", "prefill is");
  sim_report_num(rep, "decode_step_time_s", m->encoder_only ? NAN : dc.total_s,
                 "one decode step of the batch at --context (s)");
  sim_report_str(rep, "decode_bound", m->encoder_only ? "none" : dc.compute_s >= dc.memory_s ? "compute" : "memory",
                 "decode is");
  sim_report_num(rep, "request_time_s", request, "whole request: prefill + decode steps (s)");
  sim_report_num(rep, "tokens_per_s", tokens / request, "tokens per second (in + out, whole batch)");
  sim_report_num(rep, "cpu_core_time_s", forward * b / CPU_CORE_FLOPS, "on one 3 GHz CPU core, 1 FLOP/cycle (s)");
  sim_report_num(rep, "cpu_core_time_2pn_s", llm_flops_2pn(m, in + out) * b / CPU_CORE_FLOPS,
                 "the seed's rule 2 p n on that core (s)");
  sim_report_num(rep, "usd_per_hour", usd_per_s * 3600, "price of the GPUs (USD/h; null: no price, give --price)");
  char label[96];
  snprintf(label, sizeof label, "cost per 1,000 tokens at batch %g (USD)", b);
  sim_report_num(rep, "usd_per_1k_tokens", usd_per_s * request / tokens * 1000, label);
  sim_report_num(rep, "train_tokens", o->train_tokens, "training tokens");
  sim_report_num(rep, "train_flops", train, o->recompute == LLM_RECOMPUTE_FULL ? "training FLOPs (8 p per token)" : "training FLOPs (6 p per token)");
  sim_report_num(rep, "train_memory_bytes", train_mem,
                 "training memory per data-parallel rank: Adam state (ZeRO over --dp) + activations");
  sim_report_num(rep, "train_memory_seed_bytes", llm_train_state_seed_bytes(m), "the seed's rule: fp32 weights + 8 B/param");
  sim_report_num(rep, "gpus_to_hold_train", hold_train, "GPUs to hold the training state without ZeRO sharding");
  sim_report_num(rep, "train_time_at_peak_s", train_time_peak, "training time at peak (s)");
  sim_report_num(rep, "failure_free_time_s", train_time_free, "training time at --mfu, steady (s)");
  sim_report_num(rep, "train_time_s", train_time, "training time at --mfu with checkpoints and failures (s)");
  sim_report_num(rep, "train_gpu_hours", train_time * gpus / 3600, "training GPU-hours at --mfu");
  sim_report_num(rep, "train_cost_at_peak_usd", train_time_peak * usd_per_s, "training cost at peak (USD)");
  sim_report_num(rep, "train_cost_usd", train_time * usd_per_s, "training cost at --mfu (USD)");
}

/* --train: the flag named by a train_job field ("global_batch" ->
 * "global-batch"). */
static const char *train_flag(const char *field, char *buf, size_t n)
{
  snprintf(buf, n, "%s", field);
  for (char *c = buf; *c; c++)
    if (*c == '_') *c = '-';
  return buf;
}

/* `estimate --train`: build a train_job from the flags, simulate one
 * iteration, scale to the run. */
static void est_train(const est_params *o, const sim_catalogs *cats, sim_report *rep, sim_check *ck)
{
  static llm_arch inline_arch; /* lives while the report is printed */
  static char inline_name[96];
  const llm_arch *m;
  if (o->layers > 0) {
    if (o->hidden <= 0 || o->heads <= 0) {
      sim_check_fail(ck, o->hidden <= 0 ? "hidden" : "heads", "an inline architecture (--layers) needs --hidden and --heads");
      return;
    }
    if (o->hidden % o->heads != 0) {
      sim_check_fail(ck, "heads", "--hidden %lld is not a multiple of --heads %lld", (long long)o->hidden,
                     (long long)o->heads);
      return;
    }
    snprintf(inline_name, sizeof inline_name, "inline-%lldL-%lldh-%lda", (long long)o->layers,
             (long long)o->hidden, (long)o->heads);
    inline_arch = (llm_arch){
      .name = inline_name, .description = "inline GPT-style architecture", .layers = o->layers,
      .hidden = o->hidden, .heads = o->heads, .kv_heads = o->kv_heads > 0 ? o->kv_heads : o->heads,
      .ffn = o->ffn > 0 ? o->ffn : 4 * o->hidden, .vocab = o->vocab, .max_context = o->seq_len,
      .ffn_kind = LLM_FFN_PLAIN, .positions = LLM_POS_LEARNED, .norm = LLM_NORM_LAYER,
      .tied_embeddings = true, .biases = true, .experts = 1, .experts_active = 1,
    };
    m = &inline_arch;
  } else {
    m = find(cats, "models", "model", "model", o->model, ck);
  }
  const gpu_spec *g = find(cats, "gpus", "GPU", "gpu", o->gpu, ck);
  const char *nl = *o->node_link ? o->node_link : o->link;
  const net_link *node = *nl ? find(cats, "links", "link", *o->node_link ? "node-link" : "link", nl, ck) : NULL;
  const net_link *net = g ? est_net_link(o, cats, g, ck) : NULL;
  int dt = est_dtype(o, ck);
  if (!m || !g || (*nl && !node) || !net || dt < 0) return;
  if (!node) node = g->scaleup_link ? g->scaleup_link : g->host_link;
  int tp = o->tp > 0 ? (int)o->tp : 1, pp = (int)o->pp, cp = (int)o->cp;
  int gpus = o->gpus > 0 ? (int)o->gpus : tp * pp * cp;
  if (gpus % (tp * cp * pp) != 0) {
    sim_check_fail(ck, "gpus", "--gpus %d is not a multiple of tp x cp x pp = %d x %d x %d (dp = gpus / (tp x cp x pp) "
                   "must be whole)", gpus, tp, cp, pp);
    return;
  }
  train_job j;
  train_job_init(&j, m, g);
  j.dtype = (gpu_precision)dt;
  j.tp = tp;
  j.pp = pp;
  j.dp = gpus / (tp * cp * pp);
  j.cp = cp;
  j.ep = o->ep > 0 ? (int)o->ep : 1;
  j.dualpipe = o->dualpipe;
  j.cp_comm = o->cp_comm;
  j.schedule = o->schedule;
  j.dp_shard = (int)o->dp_shard;
  j.uneven_chunks = o->uneven_chunks;
  j.expert_imbalance = o->expert_imbalance;
  j.micro_batch = (int)o->micro_batch;
  j.global_batch = o->global_batch > 0 ? (int)o->global_batch : 1024;
  j.seq_len = (int)o->seq_len;
  j.interleave = (int)o->interleave;
  j.recompute = o->recompute;
  j.recompute_layers = (int)o->recompute_layers;
  j.first_stage_layers = (int)o->first_stage_layers;
  j.last_stage_layers = (int)o->last_stage_layers;
  j.fused_cross_entropy = o->fused_ce;
  train_job_dropout(&j, o->dropout);
  char bad_item[64];
  j.offload = train_offload_parse(o->offload, bad_item, sizeof bad_item);
  if (j.offload < 0) {
    sim_check_fail(ck, "offload", "unknown item '%s' in '%s' (expected optimizer, activations or both: "
                   "optimizer,activations)", bad_item, o->offload);
    return;
  }
  bool auto_recompute = j.recompute == TRAIN_RECOMPUTE_AUTO;
  j.seq_parallel = o->seq_parallel;
  j.zero = (int)o->zero;
  j.flash_attention = TRAIN_DEFAULT_FLASH_ATTENTION && !o->no_flash;
  j.node_link = node;
  j.net_link = net;
  j.gpus_per_node = (int)(o->gpus_per_node > 0 ? o->gpus_per_node : g->scaleup_gpus);
  j.dp_overlap = o->dp_overlap;
  j.fsdp_prefetch = o->fsdp_prefetch;
  j.grad_reduce = o->grad_reduce;
  j.nics_per_node = (int)o->nics_per_node;
  if (*o->train_stack) {
    /* the training stack's defaults, then the flags given */
    const train_stack *st = train_stack_require(cats, o->train_stack, ck, "train-stack");
    if (!st) return;
    train_stack_apply(&j, st);
    if (o->has_fused_ce) j.fused_cross_entropy = o->fused_ce;
    if (o->has_no_flash) j.flash_attention = !o->no_flash;
    if (o->has_prefetch) j.fsdp_prefetch = o->fsdp_prefetch;
    if (o->has_dp_overlap) j.dp_overlap = o->dp_overlap;
    if (o->has_grad_reduce) j.grad_reduce = o->grad_reduce;
  }
  train_job_moe_capacity(&j, o->has_moe_capacity, o->moe_capacity, o->has_moe_pad, o->moe_pad);
  if (o->no_moe_pad) {
    if (o->moe_pad) {
      sim_check_fail(ck, "no-moe-pad-to-capacity", "given with --moe-pad-to-capacity (expected one of the two)");
      return;
    }
    j.moe_pad = false;
  }
  char why[512], flag[64];
  const char *bad = train_job_check(&j, why, sizeof why);
  if (bad) {
    sim_check_fail(ck, train_flag(strcmp(bad, "stack") ? bad : "train_stack", flag, sizeof flag), "%s", why);
    return;
  }
  if (j.seq_len > m->max_context) {
    sim_check_fail(ck, "seq-len", "%d exceeds %s's context of %lld tokens", j.seq_len, m->name,
                   (long long)m->max_context);
    return;
  }

  train_memory fit;
  const double gib = 1073741824.0;
  if (!train_job_fit(&j, &fit)) {
    char extra[48] = "";
    if (fit.gathered > 0) snprintf(extra, sizeof extra, ", gathered by FSDP %.1f", fit.gathered / gib);
    sim_check_fail(ck, "gpus",
                   "%s does not fit on %d x %s (dp %d, tp %d, pp %d, ZeRO %d, recompute %s%s): each GPU needs %.1f "
                   "GiB (weights %.1f, gradients %.1f, optimizer %.1f, activations %.1f%s) but has %.1f: short by "
                   "%.1f GiB; use more tp/pp, --zero, --offload%s or a smaller --micro-batch",
                   m->name, gpus, g->name, j.dp, tp, pp, j.zero, train_recompute_names[j.recompute],
                   auto_recompute ? ", the least memory of auto" : "", fit.total / gib, fit.weights / gib,
                   fit.grads / gib, fit.optimizer / gib, fit.activations / gib, extra, fit.capacity / gib,
                   fit.short_bytes / gib, j.recompute == LLM_RECOMPUTE_FULL && !j.recompute_layers ? "" : ", --recompute full");
    return;
  }
  train_step_result r;
  train_step(&j, &r);
  double price = o->price > 0 ? o->price : g->price_usd_per_hour > 0 ? g->price_usd_per_hour : NAN;
  train_run_result run;
  train_run(&j, &r, o->train_tokens, price, &run);
  train_whole w;
  train_whole_init(&w);
  w.ramp_batch_start = (int)o->ramp_batch_start;
  w.ramp_batch_increment = (int)o->ramp_batch_increment;
  w.ramp_batch_samples = o->ramp_batch_samples;
  w.ramp_seq_start = (int)o->ramp_seq_start;
  w.ramp_seq_tokens = o->ramp_seq_tokens;
  w.eval_interval = (int)o->eval_interval;
  w.eval_iters = (int)o->eval_iters;
  w.straggler_slowdown = o->straggler_slowdown;
  w.straggler_jitter = o->straggler_jitter;
  w.mtbf_gpu_h = o->mtbf_gpu_h;
  w.checkpoint_interval_s = o->checkpoint_interval_s;
  w.checkpoint_s = o->has_checkpoint_s ? o->checkpoint_s : -1;
  w.storage_gbps = o->storage_gbps;
  w.async_checkpoint = o->async_checkpoint;
  w.restart_s = o->restart_s;
  train_whole_result whole;
  bad = train_whole_run(&j, &r, &run, &w, &whole, why, sizeof why);
  if (bad) {
    /* ramp_batch_start -> --rampup-batch-start */
    char field[64];
    snprintf(field, sizeof field, "%s%s", strncmp(bad, "ramp_", 5) ? "" : "rampup_", strncmp(bad, "ramp_", 5) ? bad : bad + 5);
    sim_check_fail(ck, train_flag(field, flag, sizeof flag), "%s", why);
    return;
  }
  const train_failures fl = whole.fl;
  double wall = whole.time_s, ghours = wall * gpus / 3600;

  sim_report_str(rep, "model", m->name, "model");
  sim_report_str(rep, "gpu", g->name, "GPU");
  sim_report_str(rep, "dtype", gpu_precision_names[j.dtype], "GEMM precision");
  sim_report_num(rep, "params", llm_params(m), "parameters");
  sim_report_int(rep, "gpus", gpus, "GPUs");
  sim_report_int(rep, "dp", j.dp, "data-parallel degree");
  sim_report_int(rep, "tp", tp, "tensor-parallel degree");
  sim_report_int(rep, "pp", pp, "pipeline stages");
  sim_report_int(rep, "cp", j.cp, "context-parallel degree");
  sim_report_str(rep, "cp_comm_type", train_cp_comm_names[j.cp_comm], "  context-parallel exchange (p2p: ring, a2a: Ulysses)");
  sim_report_int(rep, "ep", j.ep, "expert-parallel degree");
  sim_report_int(rep, "dp_shard", train_shard_ranks(&j), "  ranks ZeRO shards the state over");
  sim_report_int(rep, "dp_replicate", train_grad_ranks(&j) / train_shard_ranks(&j), "  replicas of the sharded state");
  sim_report_num(rep, "moe_capacity_factor", j.moe_capacity, "  expert capacity, x the mean load (0: dropless)");
  sim_report_str(rep, "moe_pad_to_capacity", j.moe_pad ? "yes" : "no", "  experts padded to capacity");
  sim_report_num(rep, "expert_load_stretch", train_expert_stretch(&j),
                 "  busiest expert-parallel rank's expert work / the mean load's");
  sim_report_int(rep, "interleave", j.interleave, "virtual stages per GPU");
  sim_report_str(rep, "pipeline_schedule", train_schedule_text(&j), "  pipeline schedule");
  if (j.uneven_chunks) sim_report_str(rep, "uneven_chunks", "yes", "  a stage's virtual stages differ by a layer");
  if (train_uneven(&j)) {
    /* only with uneven stages: the outputs of even jobs stay as they were */
    sim_report_int(rep, "first_stage_layers", train_stage_layers(&j, 0), "  layers on the first stage");
    sim_report_int(rep, "middle_stage_layers", pp > 2 ? train_stage_layers(&j, 1) : 0, "  layers on each middle stage");
    sim_report_int(rep, "last_stage_layers", train_stage_layers(&j, pp - 1), "  layers on the last stage");
  }
  sim_report_str(rep, "train_stack", j.stack ? j.stack->name : "none", "training stack (--train-stack)");
  sim_report_int(rep, "micro_batches", r.micro_batches, "micro-batches per iteration");
  sim_report_str(rep, "recompute", train_recompute_names[j.recompute],
                 auto_recompute ? "activation recomputation (auto: the cheapest that fits)" : "activation recomputation");
  sim_report_int(rep, "recompute_layers", train_recomputed_layers(&j),
                 j.interleave > 1 ? "  layers recomputed per virtual stage" : "  layers recomputed per stage");
  sim_report_str(rep, "recompute_choice", auto_recompute ? "auto" : "given", "  recomputation chosen by");
  sim_report_str(rep, "dropout", j.dropout ? "kept" : "none", "dropout masks (the model's training recipe)");
  char off[64];
  sim_report_str(rep, "offload", train_offload_text(j.offload, off, sizeof off), "moved to host memory");
  sim_report_int(rep, "zero", j.zero, "ZeRO stage");
  if (j.zero >= 3) sim_report_str(rep, "fsdp_prefetch", train_prefetch_names[j.fsdp_prefetch], "FSDP backward prefetch");
  sim_report_str(rep, "grad_reduce_dtype", train_grad_reduce_text(&j),
                 "precision of the gradient buffer and its data-parallel reduction");
  sim_report_str(rep, "tp_link", tp > 1 ? node->name : "none", "tensor-parallel link");
  sim_report_str(rep, "pp_link", r.pp_link ? r.pp_link->name : "none", "pipeline link");
  sim_report_str(rep, "dp_link", r.dp_link ? r.dp_link->name : "none", "data-parallel link");
  sim_report_num(rep, "iteration_time_s", r.iteration_s, "one iteration (s)");
  sim_report_num(rep, "compute_s", r.compute_s, "  compute, busiest stage (s)");
  sim_report_num(rep, "tp_comm_s", r.tp_comm_s, "  tensor-parallel collectives (s)");
  sim_report_num(rep, "bubble_s", r.bubble_s, "  pipeline bubble (s)");
  sim_report_num(rep, "pp_comm_s", r.pp_comm_s, "  pipeline sends on the critical path (s)");
  sim_report_num(rep, "dp_exposed_s", r.dp_exposed_s, "  data-parallel traffic not hidden (s)");
  sim_report_num(rep, "optimizer_s", r.optimizer_s, "  optimizer step (s)");
  sim_report_num(rep, "offload_exposed_s", r.offload_exposed_s, "  activation offload not hidden (s)");
  sim_report_num(rep, "dp_comm_s", r.dp_comm_s, "data-parallel traffic, hidden or not (s)");
  sim_report_num(rep, "offload_transfer_s", r.offload_transfer_s, "host-link traffic of the offload, hidden or not (s)");
  sim_report_num(rep, "cpu_optimizer_s", r.cpu_optimizer_s, "CPU Adam step of the offloaded optimizer (s)");
  sim_report_num(rep, "cp_exposed_s", r.cp_exposed_s, "  context-parallel exchange not hidden (s)");
  sim_report_num(rep, "ep_exposed_s", r.ep_exposed_s, "  expert-parallel all-to-all not hidden (s)");
  sim_report_num(rep, "cp_comm_s", r.cp_comm_s, "context-parallel traffic, hidden or not (s)");
  sim_report_num(rep, "ep_comm_s", r.ep_comm_s, "expert-parallel traffic, hidden or not (s)");
  sim_report_num(rep, "exposed_comm_time_s", r.exposed_comm_s,
                 "exposed communication: tp + pp + dp + cp + ep (s)");
  char label[160];
  sim_report_str(rep, "node_link", j.node_link ? j.node_link->name : "none", "link inside a node");
  sim_report_str(rep, "net_link", j.net_link->name, "link between nodes");
  snprintf(label, sizeof label, "%s busy (share of the iteration)",
           j.node_link ? j.node_link->name : "the node link");
  sim_report_num(rep, "link_node_busy_fraction", r.link_node_busy_fraction, label);
  snprintf(label, sizeof label, "%s busy (share of the iteration)", j.net_link->name);
  sim_report_num(rep, "link_net_busy_fraction", r.link_net_busy_fraction, label);
  sim_report_num(rep, "bubble_fraction", r.bubble_fraction, "bubble share of the pipeline time");
  sim_report_num(rep, "tokens_per_iteration", r.tokens, "tokens per iteration");
  sim_report_num(rep, "tokens_per_s", r.tokens_per_s, "tokens per second, all GPUs");
  sim_report_num(rep, "tokens_per_s_per_gpu", r.tokens_per_s_per_gpu, "tokens per second per GPU");
  sim_report_num(rep, "model_flops_per_iteration", r.model_flops, "model FLOPs (6 p + attention per token)");
  sim_report_num(rep, "hardware_flops_per_iteration", r.hardware_flops, "hardware FLOPs (with recomputation)");
  sim_report_num(rep, "mfu", r.mfu, "model FLOPs utilisation");
  sim_report_num(rep, "hfu", r.hfu, "hardware FLOPs utilisation");
  sim_report_num(rep, "memory_per_gpu_bytes", r.mem.total, "memory per GPU, busiest stage (memory_stage; bytes)");
  sim_report_num(rep, "weights_bytes", r.mem.weights, "  weights (bytes)");
  sim_report_num(rep, "gradients_bytes", r.mem.grads, "  gradients (bytes)");
  sim_report_num(rep, "optimizer_bytes", r.mem.optimizer, "  optimizer state (bytes)");
  sim_report_num(rep, "activations_bytes", r.mem.activations, "  activations in flight (bytes)");
  if (j.zero >= 3)
    sim_report_num(rep, "gathered_bytes", r.mem.gathered, "  FSDP's gathered layers and root unit, with gradients (bytes)");
  sim_report_num(rep, "gpu_memory_bytes", r.mem.capacity, "GPU memory (bytes)");
  sim_report_num(rep, "memory_margin_bytes", r.mem.margin_bytes, "memory left: capacity - need (bytes; < 0: does not fit)");
  sim_report_num(rep, "host_memory_bytes", r.mem.host_bytes, "moved to host memory per GPU (bytes)");
  sim_report_int(rep, "memory_stage", r.mem.stage,
                 train_uneven(&j) ? "  pipeline stage counted (the busiest of all: uneven stages)"
                                  : "  pipeline stage counted (the busier of the first and last)");
  sim_report_num(rep, "train_tokens", o->train_tokens, "training tokens");
  sim_report_num(rep, "iterations", run.iterations, "iterations");
  sim_report_num(rep, "train_flops", run.model_flops, "model FLOPs of the run");
  sim_report_num(rep, "failure_free_time_s", run.time_s, "steady steps: iterations x iteration time (s)");
  sim_report_num(rep, "failure_free_days", run.days, "  in days");
  sim_report_num(rep, "ramp_up_time_s", whole.ramp_up_s, "ramp-up beyond the steady rate (s)");
  sim_report_num(rep, "eval_time_s", whole.eval_s, "evaluations (s)");
  sim_report_num(rep, "evaluations", whole.evals, "  evaluations");
  sim_report_num(rep, "straggler_time_s", whole.straggler_s, "waiting for the slowest GPU (s)");
  sim_report_num(rep, "checkpoint_time_s", whole.checkpoint_time_s, "writing checkpoints (s)");
  sim_report_num(rep, "failure_time_s", whole.failure_time_s, "lost to failures: work redone and restarts (s)");
  sim_report_num(rep, "train_time_s", wall, "training time: all of the above (s)");
  sim_report_num(rep, "train_days", wall / 86400, "  in days");
  sim_report_num(rep, "gpu_hours", ghours, "GPU-hours");
  sim_report_num(rep, "energy_kwh", run.time_s > 0 ? run.energy_kwh * wall / run.time_s : NAN,
                 "energy at board power (kWh, upper bound, no PUE)");
  sim_report_num(rep, "usd_per_gpu_hour", price, "price per GPU-hour (USD)");
  sim_report_num(rep, "train_cost_usd", price > 0 ? ghours * price : NAN, "cost (USD; null: no price, give --price)");
  sim_report_num(rep, "checkpoint_bytes", whole.checkpoint_bytes, "one checkpoint (bytes: weights and optimizer state)");
  sim_report_num(rep, "checkpoint_write_s", whole.checkpoint_write_s, "  its write to storage (s)");
  sim_report_num(rep, "checkpoint_exposed_s", fl.checkpoint_s, "  the training time it stalls (s)");
  sim_report_num(rep, "job_mtbf_s", train_job_mtbf_s(&fl, gpus), "mean time between failures of the job (s)");
  sim_report_num(rep, "failures", whole.failures, "  failures expected");
  sim_report_num(rep, "checkpoint_interval_s", fl.checkpoint_interval_s, "work between checkpoints (s)");
  sim_report_num(rep, "effective_fraction", train_effective_fraction(&fl, gpus),
                 "useful share of wall time with checkpoints and failures (Young)");
  sim_report_num(rep, "train_time_with_failures_s", wall, "training time with checkpoints and failures (s; = train_time_s)");
}

const sim_command_type estimate_command = {
  .name = "estimate",
  .summary = "FLOPs, memory, time and cost of a model on a GPU, without simulating",
  .help =
      "Back-of-the-envelope numbers from the compute core: FLOPs of a request (prefill and\n"
      "decode separately) and of a training run, memory for inference and training, the GPUs\n"
      "needed to hold the model, the time of a request at peak and at the modelled efficiency\n"
      "(prefill of --batch prompts, one decode step of --batch sequences at --context), the same\n"
      "on one 3 GHz CPU core, and the cost per 1,000 tokens (at --batch) and of the training run.\n"
      "Memory holds the KV cache of --batch sequences at max(--context, tokens-in + tokens-out) and the\n"
      "activations of the largest step an engine runs: a decode step of the batch or one prompt.\n"
      "Defaults reproduce the seed article's case: GPT-3 175B, 1,024 tokens, 300B training tokens.\n"
      "--train simulates a training iteration instead (models/training/train.h): dp = --gpus / (tp x cp x pp),\n"
      "context parallelism --cp (ring attention), expert parallelism --ep (dividing dp x cp; MoE models,\n"
      "--expert-imbalance) and DeepSeek-V3's --dualpipe schedule,\n"
      "--global-batch sequences of --seq-len tokens in micro-batches of --micro-batch, 1F1B or\n"
      "interleaved (--interleave V), --recompute (auto: the cheapest that fits) and --recompute-layers,\n"
      "--seq-parallel, --zero, --offload optimizer,activations; prints iteration time and its\n"
      "breakdown, tokens/s per GPU, MFU and HFU, memory per GPU, days, GPU-hours, energy and cost,\n"
      "the communication not hidden (exposed_comm_time_s) and each link's busy share. Its defaults are\n"
      "the training section's (bf16, selective recomputation, FlashAttention, the network by GPU).\n"
      "train_time_s is the whole run's wall time: steady steps (failure_free_time_s), ramp-up\n"
      "(batch: --rampup-batch-start, --rampup-batch-increment, --rampup-batch-samples; sequence length:\n"
      "--rampup-seq-start, --rampup-seq-tokens), evaluations (--eval-interval, --eval-iters),\n"
      "stragglers (--straggler-slowdown), checkpoints (from the model's size and --storage-gbps,\n"
      "--async-checkpoint) and failures (on by default at Llama 3's rate; --mtbf-gpu-h 0 turns them off).\n"
      "--model takes a catalog name, or an inline GPT-style architecture: --layers --hidden --heads\n"
      "[--kv-heads] [--ffn (4 x hidden)] [--vocab (51,200)].\n",
  .flags = est_flags,
  .params_size = sizeof(est_params),
  .run = est_run,
};
