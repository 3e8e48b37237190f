/* models/training/training_component.c: a training run as a scenario
 * (section `training`): the job's configuration checked against the
 * catalogs (fit in memory, parallel degrees), its iteration from the
 * training model (train.h), and the whole run simulated with GPU failures
 * as events: its work (steps, ramp-up, evaluations, stragglers:
 * train_whole_run) is cut by failures at rate N / MTBF (on by default,
 * Llama 3's rate), each losing the work since the last checkpoint and a
 * restart_s; checkpoints stall training checkpoint_s (from the model's size
 * and the storage, sync or async) every checkpoint_interval_s of work (0:
 * Young's optimum). The report gives the iteration's breakdown, the
 * failure-free run, each part of the whole run, the simulated run with its
 * restarts, and the first-order closed form beside it. */
#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "models/training/train.h"
#include "models/training/train_stack.h"
#include "sim/catalog.h"
#include "sim/component.h"
#include "sim/rng.h"
#include "sim/util.h"

#define GIB 1073741824.0

enum { TRAINING_MAX_PHASES = 16 };

/* A later phase of the run (training.phases): its tokens, and what it
 * changes of the section's job (0: as the section). Same GPUs. */
typedef struct {
  const char *name;
  double tokens;
  int64_t seq_len, global_batch, micro_batch, tp, pp, cp, ep, interleave, recompute_layers;
  int64_t first_stage_layers, last_stage_layers, dp_shard;
  int recompute, cp_comm, schedule;
  bool dualpipe;
  bool has_recompute, has_recompute_layers, has_first, has_last, has_dualpipe, has_cp_comm, has_schedule, has_shard;
  /* prepared */
  train_job job;
  train_step_result step;
  train_run_result run;
  bool auto_recompute;
} training_phase;

typedef struct {
  const char *model, *gpu, *node_link, *net_link, *stack;
  bool has_flash, has_fused_ce, has_prefetch, has_dp_overlap, has_grad_reduce;  /* written: they win over the stack's */
  bool has_moe_capacity, has_moe_pad;
  int dtype, recompute, fsdp_prefetch, dropout, grad_reduce;
  int64_t gpus, tp, pp, micro_batch, global_batch, seq_len, interleave, zero, gpus_per_node, nics_per_node;
  bool seq_parallel, flash_attention, fused_cross_entropy;
  int64_t recompute_layers;
  int64_t first_stage_layers, last_stage_layers;
  sim_names offload;
  bool auto_recompute;      /* prepared: recompute was auto */
  double dp_overlap, train_tokens, usd_per_gpu_hour, interval_s;
  struct {
    double mtbf_gpu_h, checkpoint_interval_s, checkpoint_s, restart_s, storage_gbps;
    bool has_checkpoint_s, async_checkpoint;
  } failures;
  struct { int64_t batch_start, batch_increment, seq_start; double batch_samples, seq_tokens; } ramp;
  int64_t eval_interval, eval_iters;
  double straggler_slowdown, straggler_jitter;
  int64_t cp, ep;           /* context- and expert-parallel ranks (train_cp_ep.c) */
  int64_t dp_shard;
  int cp_comm, schedule;
  bool dualpipe, uneven_chunks;
  double expert_imbalance, moe_capacity;
  bool moe_pad;
  training_phase phases[TRAINING_MAX_PHASES];
  int nphases;
  /* prepared */
  train_job job;
  train_step_result step;
  train_run_result run;
  train_whole_result whole;
  train_failures fl;
  double price;
} training_params;

#define P(f) offsetof(training_params, f)
#define KS(nm, f, d, h) {.name = nm, .kind = SIM_KEY_STRING, .offset = P(f), .def_str = d, .help = h}
#define KI(nm, f, d, lo, hi, h) {.name = nm, .kind = SIM_KEY_INT, .offset = P(f), .def = d, .min = lo, .max = hi, .help = h}
#define KF(nm, f, d, lo, hi, u, h) \
  {.name = nm, .kind = SIM_KEY_FLOAT, .offset = P(f), .def = d, .min = lo, .max = hi, .unit = u, .help = h}

static const sim_key failure_keys[] = {
  KF("mtbf_gpu_h", failures.mtbf_gpu_h, TRAIN_DEFAULT_MTBF_GPU_H, 0, 1e12, "h",
     "mean time between failures of one GPU (default: Llama 3's 419 interruptions in 54 days on 16,384 H100; "
     "0: none)"),
  KF("checkpoint_interval_s", failures.checkpoint_interval_s, 0, 0, 1e12, "s",
     "work between checkpoints (0: Young's optimum sqrt(2 checkpoint_s MTBF_job))"),
  {.name = "checkpoint_s", .kind = SIM_KEY_FLOAT, .offset = P(failures.checkpoint_s), .def = 0, .min = 0, .max = 1e9,
   .unit = "s", .has_present = true, .present_offset = P(failures.has_checkpoint_s),
   .help = "training time one checkpoint stalls (default: 14 B per parameter at storage_gbps, the part exposed)"},
  KF("storage_gbps", failures.storage_gbps, 0, 0, 1e9, "GB/s",
     "storage write bandwidth for checkpoints (0: Llama 3's 2 TB/s per 16,384 GPUs, scaled to the job)"),
  {.name = "async_checkpoint", .kind = SIM_KEY_BOOL, .offset = P(failures.async_checkpoint), .def = 0,
   .help = "asynchronous checkpoints: only the copy to host memory stalls training"},
  KF("restart_s", failures.restart_s, TRAIN_DEFAULT_RESTART_S, 0, 1e9, "s", "time to restart after a failure"),
  SIM_KEY_END,
};

static const sim_key ramp_keys[] = {
  KI("batch_start", ramp.batch_start, 0, 0, 1e9,
     "global batch at the start, sequences (Megatron-LM --rampup-batch-size START; 0: no batch ramp-up)"),
  KI("batch_increment", ramp.batch_increment, 0, 0, 1e9, "sequences added at each step of the ramp-up"),
  KF("batch_samples", ramp.batch_samples, 0, 0, 1e15, NULL, "sequences the batch ramp-up lasts"),
  KI("seq_start", ramp.seq_start, 0, 0, 1e7, "sequence length at the start of a warm-up (0: none)"),
  KF("seq_tokens", ramp.seq_tokens, 0, 0, 1e17, NULL, "tokens the sequence-length warm-up lasts"),
  SIM_KEY_END,
};

#define PH(f) offsetof(training_phase, f)
static const sim_key phase_keys[] = {
  {.name = "name", .kind = SIM_KEY_STRING, .offset = PH(name), .def_str = "",
   .help = "the phase's name in the outputs (default: phaseN, N its place in the run: the first listed is phase2)"},
  {.name = "tokens", .kind = SIM_KEY_FLOAT, .offset = PH(tokens), .required = true, .min = 1, .max = 1e17,
   .help = "tokens the phase trains on"},
  {.name = "seq_len", .kind = SIM_KEY_INT, .offset = PH(seq_len), .min = 0, .max = 1e7,
   .help = "tokens per sequence (0: the section's seq_len)"},
  {.name = "global_batch", .kind = SIM_KEY_INT, .offset = PH(global_batch), .min = 0, .max = 1e9,
   .help = "sequences per iteration (0: the section's)"},
  {.name = "micro_batch", .kind = SIM_KEY_INT, .offset = PH(micro_batch), .min = 0, .max = 1e6,
   .help = "sequences per micro-batch (0: the section's)"},
  {.name = "tp", .kind = SIM_KEY_INT, .offset = PH(tp), .min = 0, .max = 1024, .help = "tensor-parallel degree (0: the section's)"},
  {.name = "pp", .kind = SIM_KEY_INT, .offset = PH(pp), .min = 0, .max = 4096, .help = "pipeline stages (0: the section's)"},
  {.name = "cp", .kind = SIM_KEY_INT, .offset = PH(cp), .min = 0, .max = 1024,
   .help = "context-parallel ranks (0: the section's); dp follows from the section's GPUs"},
  {.name = "ep", .kind = SIM_KEY_INT, .offset = PH(ep), .min = 0, .max = 1024, .help = "expert-parallel ranks (0: the section's)"},
  {.name = "cp_comm_type", .kind = SIM_KEY_ENUM, .offset = PH(cp_comm), .choices = train_cp_comm_names, .def_str = "",
   .has_present = true, .present_offset = PH(has_cp_comm),
   .help = "context-parallel exchange, p2p or a2a (default: the section's)"},
  {.name = "interleave", .kind = SIM_KEY_INT, .offset = PH(interleave), .min = 0, .max = 64,
   .help = "virtual stages per GPU (0: the section's)"},
  {.name = "recompute", .kind = SIM_KEY_ENUM, .offset = PH(recompute), .choices = train_recompute_names,
   .def_str = "", .has_present = true, .present_offset = PH(has_recompute),
   .help = "activation recomputation (default: the section's)"},
  {.name = "recompute_layers", .kind = SIM_KEY_INT, .offset = PH(recompute_layers), .min = 0, .max = 1e5,
   .has_present = true, .present_offset = PH(has_recompute_layers),
   .help = "with recompute = \"full\": layers recomputed per stage, 0 all (default: the section's when the "
           "phase keeps its recompute, else 0)"},
  {.name = "first_stage_layers", .kind = SIM_KEY_INT, .offset = PH(first_stage_layers), .min = 0, .max = 1e5,
   .has_present = true, .present_offset = PH(has_first),
   .help = "layers on the first pipeline stage, 0 even stages (default: the section's, or even stages when the "
           "phase changes pp)"},
  {.name = "last_stage_layers", .kind = SIM_KEY_INT, .offset = PH(last_stage_layers), .min = 0, .max = 1e5,
   .has_present = true, .present_offset = PH(has_last),
   .help = "layers on the last pipeline stage, 0 even stages (default: as first_stage_layers)"},
  {.name = "dualpipe", .kind = SIM_KEY_BOOL, .offset = PH(dualpipe), .has_present = true,
   .present_offset = PH(has_dualpipe), .help = "DeepSeek-V3's DualPipe schedule (default: the section's)"},
  {.name = "pipeline_schedule", .kind = SIM_KEY_ENUM, .offset = PH(schedule), .choices = train_schedule_names,
   .def_str = "", .has_present = true, .present_offset = PH(has_schedule),
   .help = "pipeline schedule, 1f1b or zb-h1 (default: the section's)"},
  {.name = "dp_shard", .kind = SIM_KEY_INT, .offset = PH(dp_shard), .min = 0, .max = 1e7, .has_present = true,
   .present_offset = PH(has_shard),
   .help = "ZeRO's shard group, dividing the phase's dp x cp (0: all of them; default: the section's)"},
  SIM_KEY_END,
};
#undef PH

static const sim_key training_keys[] = {
  {.name = "model", .kind = SIM_KEY_STRING, .offset = P(model), .required = true,
   .help = "model (catalog name, or one in the scenario's models list)"},
  KS("gpu", gpu, "a100-80gb-sxm", "GPU type (catalog)"),
  {.name = "dtype", .kind = SIM_KEY_ENUM, .offset = P(dtype), .choices = gpu_precision_names,
   .def_str = TRAIN_DEFAULT_DTYPE_NAME, .help = "GEMM precision"},
  {.name = "gpus", .kind = SIM_KEY_INT, .offset = P(gpus), .required = true, .min = 1, .max = 1e7,
   .help = "GPUs: dp x tp x cp x pp"},
  KI("tp", tp, 1, 1, 1024, "tensor-parallel degree"),
  KI("pp", pp, 1, 1, 4096, "pipeline stages"),
  KI("cp", cp, 1, 1, 1024, "context-parallel ranks: each sequence split over them (ring attention)"),
  {.name = "cp_comm_type", .kind = SIM_KEY_ENUM, .offset = P(cp_comm), .choices = train_cp_comm_names,
   .def_str = "p2p",
   .help = "how cp ranks exchange attention's inputs, as Megatron-Core's --cp-comm-type: p2p (ring attention, K and "
           "V round the ring under each chunk's attention) or a2a (DeepSpeed-Ulysses: all-to-all of Q, K, V and the "
           "output between sequence and head shards, not hidden; query and key/value heads per tp rank divisible by cp)"},
  KI("ep", ep, 1, 1, 1024, "expert-parallel ranks the routed experts are sharded over (divides dp x cp)"),
  KI("dp_shard", dp_shard, 0, 0, 1e7,
     "ZeRO's shard group: the dp x cp ranks the sharded state splits over, the groups replicas of each other "
     "(HSDP, MiCS, Megatron's distributed-optimizer instances; divides dp x cp; 0: all of them)"),
  {.name = "dualpipe", .kind = SIM_KEY_BOOL, .offset = P(dualpipe), .def = 0,
   .help = "DeepSeek-V3's DualPipe schedule (even pp; all-to-all under the paired micro-batch's compute)"},
  {.name = "pipeline_schedule", .kind = SIM_KEY_ENUM, .offset = P(schedule), .choices = train_schedule_names,
   .def_str = "1f1b",
   .help = "1f1b (interleaved with interleave > 1) or zb-h1: the zero-bubble split of each backward into its "
           "input-gradient and weight-gradient passes, the latter filling idle time (Qi et al. 2024; phases inherit it)"},
  {.name = "uneven_chunks", .kind = SIM_KEY_BOOL, .offset = P(uneven_chunks), .def = 0,
   .help = "with interleave: a stage's layers split over its virtual stages as evenly as they go, the first one "
           "layer more (Megatron-Core's pipeline layout); false: they must divide"},
  KF("expert_imbalance", expert_imbalance, TRAIN_DEFAULT_EXPERT_IMBALANCE, 1, 100, NULL,
     "with ep > 1: max / mean tokens of one routed expert (default: auxiliary-loss balancing, Wang et al. 2024)"),
  {.name = "moe_capacity_factor", .kind = SIM_KEY_FLOAT, .offset = P(moe_capacity), .def = 0, .min = 0, .max = 1000,
   .has_present = true, .present_offset = P(has_moe_capacity),
   .help = "MoE token dropping: an expert takes at most this times its mean tokens, as Megatron-Core's "
           "--moe-expert-capacity-factor (0: dropless; default: the stack's)"},
  {.name = "moe_pad_to_capacity", .kind = SIM_KEY_BOOL, .offset = P(moe_pad), .def = 0, .has_present = true,
   .present_offset = P(has_moe_pad),
   .help = "with moe_capacity_factor: every expert computes and exchanges exactly its capacity "
           "(--moe-pad-expert-input-to-capacity; default: the stack's)"},
  KI("micro_batch", micro_batch, TRAIN_DEFAULT_MICRO_BATCH, 1, 1e6, "sequences per micro-batch"),
  {.name = "global_batch", .kind = SIM_KEY_INT, .offset = P(global_batch), .required = true, .min = 1, .max = 1e9,
   .help = "sequences per iteration"},
  KI("seq_len", seq_len, TRAIN_DEFAULT_SEQ_LEN, 1, 1e7, "tokens per sequence"),
  KI("interleave", interleave, TRAIN_DEFAULT_INTERLEAVE, 1, 64, "virtual stages per GPU (1: 1F1B)"),
  {.name = "recompute", .kind = SIM_KEY_ENUM, .offset = P(recompute), .choices = train_recompute_names,
   .def_str = TRAIN_DEFAULT_RECOMPUTE_NAME,
   .help = "activation recomputation: none, selective, full, or auto (the cheapest that fits)"},
  KI("first_stage_layers", first_stage_layers, 0, 0, 1e5,
     "layers on the first pipeline stage, the rest divided evenly over the others, as Megatron-Core's "
     "--decoder-first-pipeline-num-layers (0: even stages)"),
  KI("last_stage_layers", last_stage_layers, 0, 0, 1e5,
     "layers on the last pipeline stage, as Megatron-Core's --decoder-last-pipeline-num-layers (0: even stages)"),
  KI("recompute_layers", recompute_layers, 0, 0, 1e5,
     "with recompute = \"full\": layers recomputed in each stage (each virtual stage when interleaved), as "
     "Megatron-LM's --recompute-method block --recompute-num-layers (0: all)"),
  {.name = "offload", .kind = SIM_KEY_NAMES, .offset = P(offload),
   .help = "moved to host memory: [\"optimizer\"] (ZeRO-Offload), [\"activations\"] or both"},
  {.name = "dropout", .kind = SIM_KEY_ENUM, .offset = P(dropout), .choices = train_dropout_names, .def_str = "model",
   .help = "dropout masks kept for backward: as the model was trained (its catalog entry), on or off"},
  {.name = "fused_cross_entropy", .kind = SIM_KEY_BOOL, .offset = P(fused_cross_entropy),
   .has_present = true, .present_offset = P(has_fused_ce),
   .def = TRAIN_DEFAULT_FUSED_CROSS_ENTROPY, .help = "fused cross-entropy: logits kept in 16 bits, not fp32"},
  {.name = "seq_parallel", .kind = SIM_KEY_BOOL, .offset = P(seq_parallel), .def = 0, .help = "sequence parallelism"},
  {.name = "flash_attention", .kind = SIM_KEY_BOOL, .offset = P(flash_attention), .def = TRAIN_DEFAULT_FLASH_ATTENTION,
   .has_present = true, .present_offset = P(has_flash),
   .help = "fused attention (FlashAttention)"},
  KI("zero", zero, TRAIN_DEFAULT_ZERO, 0, 3, "ZeRO stage"),
  {.name = "fsdp_prefetch", .kind = SIM_KEY_ENUM, .offset = P(fsdp_prefetch), .choices = train_prefetch_names,
   .has_present = true, .present_offset = P(has_prefetch),
   .def_str = TRAIN_DEFAULT_FSDP_PREFETCH_NAME,
   .help = "with zero = 3: FSDP backward prefetch, pre (PyTorch) or post (Composer)"},
  {.name = "grad_reduce_dtype", .kind = SIM_KEY_ENUM, .offset = P(grad_reduce), .choices = train_grad_reduce_names,
   .has_present = true, .present_offset = P(has_grad_reduce), .def_str = "auto",
   .help = "precision of the gradient buffer and its data-parallel reduction: fp32 (4 bytes), bf16 or fp16 (2), "
           "auto (fp32 for bf16 and fp8 training, as Megatron-LM; default: the stack's)"},
  KS("node_link", node_link, "", "link inside a node (default: the GPU's NVLink, else PCIe)"),
  KS("net_link", net_link, "", "link between nodes (default: ib-ndr for NVLink 4 GPUs such as the H100, else ib-hdr; "
     "a TPU's DCN, dcn-v5e or dcn-v5p)"),
  KI("gpus_per_node", gpus_per_node, 0, 0, 1e6, "GPUs a node-scope link joins (0: the GPU's scaleup_gpus: 8, a TPU slice)"),
  KI("nics_per_node", nics_per_node, TRAIN_DEFAULT_NICS_PER_NODE, 0, 1e6,
     "network ports per node (0: one per GPU, rail-optimised)"),
  {.name = "dp_overlap", .kind = SIM_KEY_FLOAT, .offset = P(dp_overlap), .def = TRAIN_DP_OVERLAP_DEFAULT, .min = 0,
   .max = 1, .has_present = true, .present_offset = P(has_dp_overlap),
   .help = "share of the data-parallel reduction hidden behind backward compute (default: the stack's)"},
  KS("stack", stack, "", "training stack (clustersim list train_stacks; \"\": the built-in numbers, composer's "
     "efficiencies with PyTorch's defaults)"),
  {.name = "train_tokens", .kind = SIM_KEY_FLOAT, .offset = P(train_tokens), .required = true, .min = 1,
   .max = 1e17, .help = "tokens to train on"},
  KF("usd_per_gpu_hour", usd_per_gpu_hour, 0, 0, 1e6, "USD/h", "price (0: the catalog's)"),
  KF("interval_s", interval_s, 86400, 1, 1e12, "s", "time-series interval"),
  {.name = "failures", .kind = SIM_KEY_GROUP, .group = failure_keys, .help = "GPU failures and checkpoints"},
  {.name = "ramp_up", .kind = SIM_KEY_GROUP, .group = ramp_keys, .help = "batch-size and sequence-length ramp-up"},
  {.name = "phases", .kind = SIM_KEY_LIST, .offset = P(phases), .group = phase_keys, .item_size = sizeof(training_phase),
   .count_offset = P(nphases), .max_items = TRAINING_MAX_PHASES,
   .help = "later phases of the run on the same GPUs, after train_tokens at the section's settings: ( { name; "
           "tokens; seq_len; global_batch; cp; ... }, ... ), as a long-context stage"},
  KI("eval_interval", eval_interval, TRAIN_DEFAULT_EVAL_INTERVAL, 0, 1e9,
     "iterations between evaluations (Megatron-LM's default; 0: none)"),
  KI("eval_iters", eval_iters, TRAIN_DEFAULT_EVAL_ITERS, 0, 1e9, "forward-only iterations per evaluation"),
  KF("straggler_slowdown", straggler_slowdown, 0, 0, 100, NULL,
     "the slowest GPU's compute is this share slower, and every step waits for it (0: none)"),
  KF("straggler_jitter", straggler_jitter, TRAIN_DEFAULT_STRAGGLER_JITTER, 0, 10, NULL,
     "per-GPU jitter of each micro-batch's compute (its standard deviation as a share); every step waits for the "
     "slowest GPU (fitted on the whole-run fitting rows; 0: none)"),
  SIM_KEY_END,
};

bool train_job_build(const void *params, const sim_catalogs *cats, const llm_arch *m, const gpu_spec *g,
                     bool as_written, train_job *j, sim_check *ck)
{
  const training_params *p = params;
  train_job_init(j, m, g);
  j->dtype = (gpu_precision)p->dtype;
  j->global_batch = (int)p->global_batch;
  j->seq_len = (int)p->seq_len;
  j->dualpipe = p->dualpipe;
  j->cp_comm = p->cp_comm;
  j->schedule = p->schedule;
  j->dp_shard = (int)p->dp_shard;
  j->uneven_chunks = p->uneven_chunks;
  j->expert_imbalance = p->expert_imbalance;
  j->fused_cross_entropy = p->fused_cross_entropy;
  train_job_dropout(j, p->dropout);
  char bad_item[64];
  j->offload = train_offload_names_parse(p->offload.v, p->offload.n, bad_item, sizeof bad_item);
  if (j->offload < 0) {
    sim_check_fail(ck, "offload", "unknown item \"%s\" (expected \"optimizer\", \"activations\" or both)", bad_item);
    return false;
  }
  j->flash_attention = p->flash_attention;
  j->gpus_per_node = (int)(p->gpus_per_node > 0 ? p->gpus_per_node : g->scaleup_gpus);
  j->dp_overlap = p->dp_overlap;
  j->fsdp_prefetch = p->fsdp_prefetch;
  j->grad_reduce = p->grad_reduce;
  j->nics_per_node = (int)p->nics_per_node;
  if (*p->stack) {
    /* the stack's defaults, then what the scenario wrote */
    const train_stack *st = train_stack_require(cats, p->stack, ck, "stack");
    if (!st) return false;
    train_stack_apply(j, st);
    if (p->has_flash) j->flash_attention = p->flash_attention;
    if (p->has_fused_ce) j->fused_cross_entropy = p->fused_cross_entropy;
    if (p->has_prefetch) j->fsdp_prefetch = p->fsdp_prefetch;
    if (p->has_dp_overlap) j->dp_overlap = p->dp_overlap;
    if (p->has_grad_reduce) j->grad_reduce = p->grad_reduce;
  }
  train_job_moe_capacity(j, p->has_moe_capacity, p->moe_capacity, p->has_moe_pad, p->moe_pad);
  bool node = as_written && *p->node_link;
  if (node) j->node_link = sim_catalog_require(cats, "links", "link", p->node_link, ck, "node_link");
  j->net_link = sim_catalog_require(cats, "links", "link",
                                    as_written && *p->net_link ? p->net_link : train_default_net_link(g), ck,
                                    "net_link");
  return !(node && !j->node_link) && j->net_link;
}

/* Resolve j's recomputation (train_job_fit); false, with what it needs
 * against what the GPU has at key, when even the least memory does not
 * fit (auto_rc: the recomputation was auto). */
static bool fit_or_fail(train_job *j, bool auto_rc, const char *key, sim_check *ck)
{
  train_memory mm;
  if (train_job_fit(j, &mm)) return true;
  char extra[48] = "";
  if (mm.gathered > 0) snprintf(extra, sizeof extra, ", gathered by FSDP %.1f", mm.gathered / GIB);
  sim_check_fail_capacity(ck, key,
                          "%s does not fit on %s with dp %d x tp %d x cp %d x pp %d at %d tokens a sequence "
                          "(recompute %s%s): each GPU needs %.1f GiB (weights %.1f, gradients %.1f, optimizer %.1f, "
                          "activations %.1f%s) of %.1f GiB: short by %.1f GiB; raise tp, cp, pp or the ZeRO "
                          "stage, offload, or recompute activations",
                          j->model->name, j->gpu->name, j->dp, j->tp, j->cp, j->pp, j->seq_len,
                          train_recompute_names[j->recompute], auto_rc ? ", the least memory of auto" : "",
                          mm.total / GIB, mm.weights / GIB, mm.grads / GIB, mm.optimizer / GIB,
                          mm.activations / GIB, extra, mm.capacity / GIB, mm.short_bytes / GIB);
  return false;
}

/* Phase i of training.phases: the section's job (as written, before auto
 * recomputation was resolved) with the phase's changes, checked, fitted
 * and stepped; its steps, evaluations and stragglers added to the run's
 * work. False, with the reason at the phase's key, when it cannot run. */
static bool prepare_phase(training_params *p, int i, const train_whole *w, sim_check *ck)
{
  training_phase *ph = &p->phases[i];
  char key[64], msg[512];
  for (const char *c = ph->name; *c; c++)
    if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '_' || *c == '.') || c - ph->name >= 48) {
      snprintf(key, sizeof key, "phases.[%d].name", i);
      sim_check_fail(ck, key, "\"%s\" is not a phase name (expected up to 48 letters, digits, '-', '_' or '.')",
                     ph->name);
      return false;
    }
  train_job *j = &ph->job;
  *j = p->job;
#define OVER(f, v) if (ph->v > 0) j->f = (int)ph->v
  OVER(seq_len, seq_len);
  OVER(global_batch, global_batch);
  OVER(micro_batch, micro_batch);
  OVER(tp, tp);
  OVER(pp, pp);
  OVER(cp, cp);
  OVER(ep, ep);
  OVER(interleave, interleave);
#undef OVER
  j->recompute = ph->has_recompute ? ph->recompute : p->recompute;
  /* a section's uneven stages and recomputed layers are its pp's (and
   * interleaving's): another pp starts from even stages, and another pp
   * or recomputation from all layers */
  bool same_pp = j->pp == p->pp, same_chunks = same_pp && j->interleave == p->interleave;
  j->recompute_layers = (int)(ph->has_recompute_layers                    ? ph->recompute_layers
                              : j->recompute == p->recompute && same_chunks ? p->recompute_layers
                                                                            : 0);
  if (ph->has_cp_comm) j->cp_comm = ph->cp_comm;
  j->first_stage_layers = (int)(ph->has_first ? ph->first_stage_layers : same_pp ? p->first_stage_layers : 0);
  j->last_stage_layers = (int)(ph->has_last ? ph->last_stage_layers : same_pp ? p->last_stage_layers : 0);
  if (ph->has_dualpipe) j->dualpipe = ph->dualpipe;
  if (ph->has_schedule) j->schedule = ph->schedule;
  if (ph->has_shard) j->dp_shard = (int)ph->dp_shard;
  ph->auto_recompute = j->recompute == TRAIN_RECOMPUTE_AUTO;
  int64_t group = (int64_t)j->tp * j->cp * j->pp;
  if (p->gpus % group) {
    snprintf(key, sizeof key, "phases.[%d]", i);
    sim_check_fail(ck, key, "%lld GPUs are not a whole number of tp %d x cp %d x pp %d = %lld groups",
                   (long long)p->gpus, j->tp, j->cp, j->pp, (long long)group);
    return false;
  }
  j->dp = (int)(p->gpus / group);
  const char *bad = train_job_check(j, msg, sizeof msg);
  if (bad) {
    const sim_key *k = phase_keys;
    while (k->name && strcmp(k->name, bad)) k++;
    /* a key of the phase, else the phase (dp, or a section key its layout
     * breaks); the section's shard group, which the phase did not name, at
     * the phase, saying so */
    bool inherited = !strcmp(bad, "dp_shard") && !ph->has_shard;
    bool named = k->name && !inherited;
    snprintf(key, sizeof key, "phases.[%d]%s%s", i, named ? "." : "", named ? bad : "");
    if (inherited)
      sim_check_fail(ck, key, "%s (the section's dp_shard = %lld; the phase may name its own)", msg,
                     (long long)p->dp_shard);
    else
      sim_check_fail(ck, key, "%s", msg);
    return false;
  }
  snprintf(key, sizeof key, "phases.[%d]", i);
  if (!fit_or_fail(j, ph->auto_recompute, key, ck)) return false;
  train_step(j, &ph->step);
  train_run(j, &ph->step, ph->tokens, p->price, &ph->run);
  train_whole_add_phase(j, &ph->step, &ph->run, w, &p->whole);
  return true;
}

static void training_prepare(void *params, const sim_setup *su, sim_check *ck)
{
  training_params *p = params;
  const llm_arch *m = sim_catalog_require(su->cats, "models", "model", p->model, ck, "model");
  const gpu_spec *g = sim_catalog_require(su->cats, "gpus", "GPU", p->gpu, ck, "gpu");
  if (!m || !g) return;
  if (p->gpus % (p->tp * p->cp * p->pp)) {
    sim_check_fail(ck, "gpus", "%lld GPUs are not a whole number of tp x %spp = %lld groups", (long long)p->gpus,
                   p->cp > 1 ? "cp x " : "", (long long)(p->tp * p->cp * p->pp));
    return;
  }
  /* everything but the layout, as the planner builds it (train_job_build);
   * then the layout as written */
  train_job *j = &p->job;
  if (!train_job_build(p, su->cats, m, g, true, j, ck)) return;
  j->tp = (int)p->tp;
  j->pp = (int)p->pp;
  j->dp = (int)(p->gpus / (p->tp * p->cp * p->pp));
  j->cp = (int)p->cp;
  j->ep = (int)p->ep;
  j->micro_batch = (int)p->micro_batch;
  j->interleave = (int)p->interleave;
  j->recompute = p->recompute;
  j->recompute_layers = (int)p->recompute_layers;
  j->first_stage_layers = (int)p->first_stage_layers;
  j->last_stage_layers = (int)p->last_stage_layers;
  p->auto_recompute = j->recompute == TRAIN_RECOMPUTE_AUTO;
  j->seq_parallel = p->seq_parallel;
  j->zero = (int)p->zero;
  char msg[512];
  const char *bad = train_job_check(j, msg, sizeof msg);
  if (bad) {
    /* the model's field names are the scenario's keys, but for dp */
    sim_check_fail(ck, !strcmp(bad, "dp") ? "gpus" : bad, "%s", msg);
    return;
  }
  if (!fit_or_fail(j, p->auto_recompute, "gpus", ck)) return;
  train_step(j, &p->step);
  p->price = p->usd_per_gpu_hour > 0 ? p->usd_per_gpu_hour : g->price_usd_per_hour > 0 ? g->price_usd_per_hour : NAN;
  if (isnan(p->price))
    sim_check_warn(ck, "gpu", "no price for GPU %s: cost_usd and usd_per_* are null; set "
                   "training.usd_per_gpu_hour or give the GPU a price (--catalog)", g->name);
  train_run(j, &p->step, p->train_tokens, p->price, &p->run);
  train_whole w;
  train_whole_init(&w);
  w.ramp_batch_start = (int)p->ramp.batch_start;
  w.ramp_batch_increment = (int)p->ramp.batch_increment;
  w.ramp_batch_samples = p->ramp.batch_samples;
  w.ramp_seq_start = (int)p->ramp.seq_start;
  w.ramp_seq_tokens = p->ramp.seq_tokens;
  w.eval_interval = (int)p->eval_interval;
  w.eval_iters = (int)p->eval_iters;
  w.straggler_slowdown = p->straggler_slowdown;
  w.straggler_jitter = p->straggler_jitter;
  w.mtbf_gpu_h = p->failures.mtbf_gpu_h;
  w.checkpoint_interval_s = p->failures.checkpoint_interval_s;
  w.checkpoint_s = p->failures.has_checkpoint_s ? p->failures.checkpoint_s : -1;
  w.storage_gbps = p->failures.storage_gbps;
  w.async_checkpoint = p->failures.async_checkpoint;
  w.restart_s = p->failures.restart_s;
  bad = train_whole_run(j, &p->step, &p->run, &w, &p->whole, msg, sizeof msg);
  if (bad) {
    static const struct { const char *field, *key; } keys[] = {
      {"ramp_batch_start", "ramp_up.batch_start"}, {"ramp_batch_increment", "ramp_up.batch_increment"},
      {"ramp_batch_samples", "ramp_up.batch_samples"}, {"ramp_seq_start", "ramp_up.seq_start"},
      {"ramp_seq_tokens", "ramp_up.seq_tokens"},
    };
    const char *key = bad;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
      if (!strcmp(keys[i].field, bad)) key = keys[i].key;
    sim_check_fail(ck, key, "%s", msg);
    return;
  }
  /* every phase checked, so that `check` lists each one's problem */
  bool phases_ok = true;
  for (int i = 0; i < p->nphases; i++) phases_ok = prepare_phase(p, i, &w, ck) && phases_ok;
  if (!phases_ok) return;
  if (p->nphases) train_whole_failures(j, &w, &p->whole);
  p->fl = p->whole.fl;
}

/* ---- the run, with failures as events ---- */

typedef struct {
  const training_params *p;
  sim_engine *eng;
  gsl_rng *rng;
  double work_left, tau, delta, work_done_at_seg;  /* s */
  sim_time seg_start;
  sim_event_id end_ev, fail_ev, tick_ev;
  uint64_t failures;
  double lost_s;
  double seg_ckpts;         /* checkpoints the current segment writes if it ends */
  double ckpt_s;            /* time spent writing checkpoints so far */
  bool done;
  sim_time end;
  sim_table *ts;
} training_sim;

static void on_end(sim_engine *eng, void *ctx, uint64_t arg);
static void on_fail(sim_engine *eng, void *ctx, uint64_t arg);

/* Wall time for w seconds of work with a checkpoint after every tau. */
static double wall_for(const training_sim *s, double w)
{
  if (s->tau <= 0 || s->delta <= 0) return w;
  double n = ceil(w / s->tau) - 1;
  return w + (n > 0 ? n : 0) * s->delta;
}

static void segment(training_sim *s, double delay)
{
  sim_time now = sim_now(s->eng);
  s->seg_start = now + sim_time_from_s(delay);
  double wall = delay + wall_for(s, s->work_left);
  s->seg_ckpts = s->delta > 0 && s->tau > 0 ? (wall - delay - s->work_left) / s->delta : 0;
  s->end_ev = sim_schedule_at(s->eng, now + sim_time_from_s(wall), on_end, s, 0);
  s->fail_ev = 0;
  if (s->p->fl.mtbf_gpu_s > 0) {
    double t = gsl_ran_exponential(s->rng, train_job_mtbf_s(&s->p->fl, (int)s->p->gpus));
    if (t < wall) s->fail_ev = sim_schedule_at(s->eng, now + sim_time_from_s(t), on_fail, s, 0);
  }
}

static void on_end(sim_engine *eng, void *ctx, uint64_t arg)
{
  training_sim *s = ctx;
  if (s->fail_ev) sim_cancel(eng, s->fail_ev);
  s->done = true;
  s->end = sim_now(eng);
  s->ckpt_s += s->seg_ckpts * s->delta;
  s->work_left = 0;
  if (s->tick_ev) sim_cancel(eng, s->tick_ev);
  s->tick_ev = 0;
}

static void on_fail(sim_engine *eng, void *ctx, uint64_t arg)
{
  training_sim *s = ctx;
  sim_cancel(eng, s->end_ev);
  double e = sim_time_to_s(sim_now(eng) - s->seg_start);
  if (e < 0) e = 0;
  double done = e, saved = 0;
  if (s->tau > 0) {
    double cycle = s->tau + s->delta, cycles = floor(e / cycle), rem = e - cycles * cycle;
    done = cycles * s->tau + (rem < s->tau ? rem : s->tau);
    saved = cycles * s->tau;
    s->ckpt_s += cycles * s->delta + (rem > s->tau ? rem - s->tau : 0);
  }
  if (done > s->work_left) done = s->work_left;
  if (saved > s->work_left) saved = s->work_left;
  s->work_left -= saved;
  s->lost_s += done - saved;
  s->failures++;
  segment(s, s->p->fl.restart_s);
}

/* Work done in the current segment so far (s): whole checkpoint cycles
 * plus the part of the current one spent working. */
static double segment_work(const training_sim *s, sim_time now)
{
  double e = sim_time_to_s(now - s->seg_start);
  if (e <= 0) return 0;
  double done = e;
  if (s->tau > 0) {
    double cycle = s->tau + s->delta, cycles = floor(e / cycle), rem = e - cycles * cycle;
    done = cycles * s->tau + (rem < s->tau ? rem : s->tau);
  }
  return done < s->work_left ? done : s->work_left;
}

static void on_tick(sim_engine *eng, void *ctx, uint64_t arg)
{
  training_sim *s = ctx;
  double total = s->p->whole.work_s;
  double left = s->work_left - segment_work(s, sim_now(eng));
  double progress = total > 0 ? 1 - left / total : 1;
  sim_cell c[] = {{NULL, sim_time_to_s(sim_now(eng))},
                  {NULL, progress < 0 ? 0 : progress > 1 ? 1 : progress},
                  {NULL, (double)s->failures},
                  {NULL, s->lost_s}};
  if (s->ts) sim_table_row(s->ts, c);
  s->tick_ev = sim_schedule_in(eng, sim_time_from_s(s->p->interval_s), on_tick, s, 0);
}

/* Phase i of the run: 0 the section's own, 1.. training.phases. */
static const train_job *phase_job(const training_params *p, int i)
{
  return i ? &p->phases[i - 1].job : &p->job;
}
static const train_step_result *phase_step(const training_params *p, int i)
{
  return i ? &p->phases[i - 1].step : &p->step;
}
static const train_run_result *phase_run(const training_params *p, int i)
{
  return i ? &p->phases[i - 1].run : &p->run;
}
static const char *phase_name(const training_params *p, int i, char *buf, size_t n)
{
  if (i && *p->phases[i - 1].name) return p->phases[i - 1].name;
  snprintf(buf, n, "phase%d", i + 1);
  return buf;
}

/* phases.csv: one row per phase of the run (written when there are phases). */
static void write_phases(const training_params *p, sim_table *t)
{
  for (int i = 0; i <= p->nphases; i++) {
    const train_job *j = phase_job(p, i);
    const train_step_result *st = phase_step(p, i);
    const train_run_result *r = phase_run(p, i);
    char nm[32];
    sim_cell c[] = {{NULL, i + 1}, {phase_name(p, i, nm, sizeof nm), 0}, {NULL, r->iterations * st->tokens},
                    {NULL, j->seq_len}, {NULL, j->global_batch}, {NULL, j->micro_batch}, {NULL, j->dp},
                    {NULL, j->tp}, {NULL, j->cp}, {NULL, j->pp}, {NULL, j->ep}, {NULL, j->interleave},
                    {train_recompute_names[j->recompute], 0}, {NULL, r->iterations}, {NULL, st->iteration_s},
                    {NULL, st->tokens_per_s_per_gpu}, {NULL, st->mfu}, {NULL, st->mem.margin_bytes},
                    {NULL, r->time_s}, {NULL, train_recomputed_layers(j)}, {NULL, j->first_stage_layers},
                    {NULL, j->last_stage_layers}, {train_cp_comm_names[j->cp_comm], 0}, {NULL, j->dualpipe},
                    {train_schedule_text(j), 0}, {NULL, train_shard_ranks(j)}};
    sim_table_row(t, c);
  }
}

static void *training_create(const void *params, const sim_component_env *env)
{
  const training_params *p = params;
  training_sim *s = xcalloc(1, sizeof *s);
  s->p = p;
  s->eng = env->eng;
  s->rng = sim_rng_alloc(env->seed, "training.failures");
  s->work_left = p->whole.work_s;
  s->tau = p->fl.checkpoint_interval_s;
  s->delta = p->fl.checkpoint_s;
  if (env->open_table) {
    static const char *const cols[] = {"time_s", "progress", "failures", "lost_work_s"};
    s->ts = env->open_table(env, "timeseries", cols, 4);
  }
  if (env->open_table && p->nphases) {
    static const char *const cols[] = {"phase", "name", "tokens", "seq_len", "global_batch", "micro_batch", "dp",
                                       "tp", "cp", "pp", "ep", "interleave", "recompute", "iterations",
                                       "iteration_time_s", "tokens_per_s_per_gpu", "mfu", "memory_margin_bytes",
                                       "failure_free_time_s", "recompute_layers", "first_stage_layers",
                                       "last_stage_layers", "cp_comm_type", "dualpipe", "pipeline_schedule",
                                       "dp_shard"};
    sim_table *t = env->open_table(env, "phases", cols, (int)(sizeof cols / sizeof cols[0]));
    if (t) write_phases(p, t);
  }
  segment(s, 0);
  s->tick_ev = sim_schedule_in(s->eng, sim_time_from_s(p->interval_s), on_tick, s, 0);
  return s;
}

/* phases and phaseN_* (N from 1, the section's own phase) when the run has
 * training.phases; the section-level iteration keys are phase 1's. */
static void report_phases(const training_params *p, sim_report *rep)
{
  sim_report_int(rep, "phases", p->nphases + 1, "phases of the run (1: the section's, then training.phases)");
  for (int i = 0; i <= p->nphases; i++) {
    const train_job *j = phase_job(p, i);
    const train_step_result *st = phase_step(p, i);
    const train_run_result *r = phase_run(p, i);
    char key[64], label[96], nm[32];
#define K(suffix) (snprintf(key, sizeof key, "phase%d_%s", i + 1, suffix), key)
#define L(text) (snprintf(label, sizeof label, "  phase %d: %s", i + 1, text), label)
    sim_report_str(rep, K("name"), phase_name(p, i, nm, sizeof nm), L("name"));
    sim_report_num(rep, K("tokens"), r->iterations * st->tokens, L("tokens (whole iterations)"));
    sim_report_int(rep, K("seq_len"), j->seq_len, L("tokens per sequence"));
    sim_report_int(rep, K("global_batch"), j->global_batch, L("sequences per iteration"));
    sim_report_int(rep, K("dp"), j->dp, L("data parallel"));
    sim_report_int(rep, K("tp"), j->tp, L("tensor parallel"));
    sim_report_int(rep, K("cp"), j->cp, L("context parallel"));
    sim_report_int(rep, K("pp"), j->pp, L("pipeline stages"));
    sim_report_str(rep, K("cp_comm_type"), train_cp_comm_names[j->cp_comm], L("context-parallel exchange"));
    sim_report_str(rep, K("pipeline_schedule"), train_schedule_text(j), L("pipeline schedule"));
    sim_report_int(rep, K("dp_shard"), train_shard_ranks(j), L("ranks ZeRO shards the state over"));
    sim_report_int(rep, K("dp_replicate"), train_grad_ranks(j) / train_shard_ranks(j), L("replicas of the shard group"));
    sim_report_str(rep, K("recompute"), train_recompute_names[j->recompute], L("recomputation"));
    sim_report_int(rep, K("recompute_layers"), train_recomputed_layers(j), L("layers recomputed per stage"));
    sim_report_num(rep, K("iterations"), r->iterations, L("iterations"));
    sim_report_num(rep, K("iteration_time_s"), st->iteration_s, L("iteration time (s)"));
    sim_report_num(rep, K("tokens_per_s_per_gpu"), st->tokens_per_s_per_gpu, L("tokens/s per GPU"));
    sim_report_num(rep, K("mfu"), st->mfu, L("model FLOPs utilization"));
    sim_report_num(rep, K("memory_margin_bytes"), st->mem.margin_bytes, L("memory left (bytes)"));
    sim_report_num(rep, K("failure_free_time_s"), r->time_s, L("steps without failures (s)"));
#undef K
#undef L
  }
}

static void training_report(void *self, sim_engine *eng, sim_report *rep)
{
  training_sim *s = self;
  const training_params *p = s->p;
  const train_step_result *st = &p->step;
  const train_run_result *r = &p->run;
  int gpus = (int)p->gpus;
  sim_report_str(rep, "model", p->job.model->name, "model");
  sim_report_str(rep, "gpu", p->job.gpu->name, "GPU");
  sim_report_str(rep, "train_stack", p->job.stack ? p->job.stack->name : "none", "training stack");
  sim_report_int(rep, "gpus", gpus, "GPUs");
  sim_report_int(rep, "dp", p->job.dp, "  data parallel");
  sim_report_int(rep, "tp", p->job.tp, "  tensor parallel");
  sim_report_int(rep, "pp", p->job.pp, "  pipeline stages");
  sim_report_int(rep, "cp", p->job.cp, "  context parallel");
  sim_report_str(rep, "cp_comm_type", train_cp_comm_names[p->job.cp_comm], "    context-parallel exchange");
  sim_report_str(rep, "pipeline_schedule", train_schedule_text(&p->job), "  pipeline schedule");
  sim_report_int(rep, "ep", p->job.ep, "  expert parallel");
  sim_report_int(rep, "dp_shard", train_shard_ranks(&p->job), "  ranks ZeRO shards the state over");
  sim_report_int(rep, "dp_replicate", train_grad_ranks(&p->job) / train_shard_ranks(&p->job),
                 "  replicas of the sharded state");
  sim_report_num(rep, "moe_capacity_factor", p->job.moe_capacity, "  expert capacity, x the mean load (0: dropless)");
  sim_report_str(rep, "moe_pad_to_capacity", p->job.moe_pad ? "yes" : "no", "  experts padded to capacity");
  sim_report_num(rep, "expert_load_stretch", train_expert_stretch(&p->job),
                 "  busiest expert-parallel rank's expert work / the mean load's");
  sim_report_int(rep, "micro_batches", st->micro_batches, "micro-batches per iteration");
  sim_report_num(rep, "iteration_time_s", st->iteration_s, "iteration time (s)");
  sim_report_num(rep, "compute_s", st->compute_s, "  compute (s)");
  sim_report_num(rep, "tp_comm_s", st->tp_comm_s, "  tensor-parallel communication (s)");
  sim_report_num(rep, "pipeline_bubble_s", st->bubble_s, "  pipeline bubble (s)");
  sim_report_num(rep, "pp_comm_s", st->pp_comm_s, "  pipeline sends (s)");
  sim_report_num(rep, "dp_exposed_s", st->dp_exposed_s, "  data-parallel reduction not hidden (s)");
  sim_report_num(rep, "optimizer_s", st->optimizer_s, "  optimizer step (s)");
  sim_report_num(rep, "dp_comm_s", st->dp_comm_s, "data-parallel traffic, hidden or not (s)");
  sim_report_num(rep, "cp_exposed_s", st->cp_exposed_s, "  context-parallel exchange not hidden (s)");
  sim_report_num(rep, "ep_exposed_s", st->ep_exposed_s, "  expert-parallel all-to-all not hidden (s)");
  sim_report_num(rep, "exposed_comm_time_s", st->exposed_comm_s,
                 "exposed communication: tp + pp + dp + cp + ep (s)");
  const train_job *j = &p->job;
  char label[160];
  sim_report_str(rep, "node_link", j->node_link ? j->node_link->name : "none", "link inside a node");
  sim_report_str(rep, "net_link", j->net_link->name, "link between nodes");
  snprintf(label, sizeof label, "%s busy (share of the iteration)",
           j->node_link ? j->node_link->name : "the node link");
  sim_report_num(rep, "link_node_busy_fraction", st->link_node_busy_fraction, label);
  snprintf(label, sizeof label, "%s busy (share of the iteration)", j->net_link->name);
  sim_report_num(rep, "link_net_busy_fraction", st->link_net_busy_fraction, label);
  sim_report_num(rep, "tokens_per_s_per_gpu", st->tokens_per_s_per_gpu, "tokens/s per GPU");
  sim_report_num(rep, "mfu", st->mfu, "model FLOPs utilization");
  sim_report_num(rep, "hfu", st->hfu, "hardware FLOPs utilization");
  sim_report_num(rep, "memory_per_gpu_bytes", st->mem.total, "memory per GPU (bytes)");
  sim_report_num(rep, "memory_margin_bytes", st->mem.margin_bytes, "  memory left: capacity - need (bytes)");
  sim_report_num(rep, "host_memory_bytes", st->mem.host_bytes, "  moved to host memory per GPU (bytes)");
  sim_report_str(rep, "recompute", train_recompute_names[j->recompute],
                 p->auto_recompute ? "recomputation (auto: the cheapest that fits)" : "recomputation");
  sim_report_int(rep, "recompute_layers", train_recomputed_layers(j),
                 j->interleave > 1 ? "  layers recomputed per virtual stage" : "  layers recomputed per stage");
  sim_report_str(rep, "recompute_choice", p->auto_recompute ? "auto" : "given", "  recomputation chosen by");
  char off[64];
  sim_report_str(rep, "offload", train_offload_text(j->offload, off, sizeof off), "moved to host memory");
  sim_report_str(rep, "dropout", j->dropout ? "kept" : "none", "dropout masks (the model's recipe, or training.dropout)");
  sim_report_str(rep, "grad_reduce_dtype", train_grad_reduce_text(j),
                 "precision of the gradient buffer and its data-parallel reduction");
  sim_report_num(rep, "offload_exposed_s", st->offload_exposed_s, "  activation offload not hidden (s)");
  sim_report_num(rep, "cpu_optimizer_s", st->cpu_optimizer_s, "  CPU Adam step (s)");
  const train_whole_result *w = &p->whole;
  double iterations = 0;
  for (int i = 0; i <= p->nphases; i++) iterations += phase_run(p, i)->iterations;
  sim_report_num(rep, "iterations", iterations, "iterations");
  sim_report_num(rep, "failure_free_time_s", w->failure_free_s, "training time without failures (s)");
  sim_report_num(rep, "failure_free_days", w->failure_free_s / 86400, "  in days");
  if (p->nphases) report_phases(p, rep);
  sim_report_num(rep, "ramp_up_time_s", w->ramp_up_s, "ramp-up beyond the steady rate (s)");
  sim_report_num(rep, "eval_time_s", w->eval_s, "evaluations (s)");
  sim_report_num(rep, "evaluations", w->evals, "  evaluations");
  sim_report_num(rep, "straggler_time_s", w->straggler_s, "waiting for the slowest GPU (s)");
  sim_report_num(rep, "checkpoint_bytes", w->checkpoint_bytes, "one checkpoint (bytes: weights and optimizer state)");
  sim_report_num(rep, "checkpoint_write_s", w->checkpoint_write_s, "  its write to storage (s)");
  sim_report_num(rep, "checkpoint_exposed_s", p->fl.checkpoint_s, "  the training time it stalls (s)");
  double wall = s->done ? sim_time_to_s(s->end) : sim_time_to_s(sim_now(eng));
  sim_report_str(rep, "finished", s->done ? "yes" : "no", "the run finished (no: cut by the horizon)");
  sim_report_num(rep, "train_time_s", wall, "training time: steps, ramp-up, evaluations, checkpoints, failures (s)");
  sim_report_num(rep, "train_days", wall / 86400, "  in days");
  sim_report_int(rep, "failures", (int64_t)s->failures, "failures (restarts)");
  sim_report_num(rep, "lost_work_s", s->lost_s, "work lost to failures (s)");
  sim_report_num(rep, "checkpoint_interval_s", s->tau, "work between checkpoints (s)");
  sim_report_num(rep, "checkpoint_time_s", s->ckpt_s, "writing checkpoints (s)");
  /* without failures none is lost (the wall, rounded to the nanosecond, would leave a few ns) */
  sim_report_num(rep, "failure_time_s", !s->done ? NAN : s->failures ? wall - w->work_s - s->ckpt_s : 0,
                 "lost to failures: work redone and restarts (s)");
  sim_report_num(rep, "train_time_closed_form_s", w->time_s, "  training time, first-order closed form (s)");
  /* the end is rounded to the nanosecond: the share can come out a few ulp
   * past 1 without failures; it is a share of the wall time */
  double eff = wall > 0 && s->done ? w->work_s / wall : NAN;
  if (fabs(eff - 1) < 1e-12) eff = 1;  /* ... or a few ulp short of it */
  sim_report_num(rep, "effective_fraction", eff > 1 ? 1 : eff, "useful share of the wall time (work / wall)");
  sim_report_num(rep, "effective_fraction_closed_form", train_effective_fraction(&p->fl, gpus),
                 "  first-order closed form (Young/Daly)");
  double gh = wall * gpus / 3600;
  sim_report_num(rep, "gpu_hours", gh, "GPU-hours");
  sim_report_num(rep, "energy_kwh", r->time_s > 0 ? r->energy_kwh * wall / r->time_s : NAN,
                 "energy, all GPUs at board power (kWh, upper bound)");
  sim_report_num(rep, "train_cost_usd", gh * p->price, "cost (USD)");
}

static void training_destroy(void *self)
{
  training_sim *s = self;
  gsl_rng_free(s->rng);
  free(s);
}

const sim_component_type training_component = {
  .name = "training",
  .help = "one training run: its iterations from the training model, the whole run with failures",
  .schema = training_keys,
  .params_size = sizeof(training_params),
  .prepare = training_prepare,
  .create = training_create,
  .report = training_report,
  .destroy = training_destroy,
};
