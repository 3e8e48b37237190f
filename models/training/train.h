/* models/training/train.h: one training job of a transformer language
 * model on a GPU cluster, as a pure function of shapes, hardware and
 * parallelism: the time of one iteration (per micro-batch compute and
 * tensor-parallel collectives on every pipeline stage, the pipeline
 * schedule simulated op by op, data-parallel gradient traffic and how much
 * of it backward hides, the optimizer step), memory per GPU, FLOPs and
 * utilisation, the whole run (time, GPU-hours, energy, cost), the
 * first-order cost of failures and checkpoints, and the whole run as real
 * ones go (ramp-up, evaluations, checkpoint writes from the model's size,
 * stragglers, failures on by default: train_whole_run). No engine, no files, no
 * command line: `clustersim estimate --train` and the job queue
 * (jobs_sim.c) call it.
 *
 * Parallel layout (Megatron-LM order): tensor-parallel ranks innermost
 * (inside a node), then data-parallel, then pipeline stages outermost. A
 * collective runs on the node link when its group fits in one node
 * (gpus_per_node), else on the network link (the slowest it crosses);
 * data-parallel groups across nodes share the node's network ports
 * (nics_per_node, one per GPU by default), each port carrying a ring. 
 *
 * FLOP conventions (Narayanan et al. 2021, eq. 3; MosaicML llm-foundry):
 * per token, forward = 2 x (weight-matrix elements of the layers + vocab x
 * hidden) + 4 x layers x q_dim x seq_len (attention scores and weighted sum
 * over the full sequence, not halved for causality). Model FLOPs = 3 x
 * forward (backward is twice forward); hardware FLOPs add one forward of
 * the layers with full recomputation, and the attention part of it with
 * selective recomputation. For a GPT model with ffn = 4h, vocab V:
 * model = 72 B s l h^2 (1 + s/6h + V/12lh), full-recompute hardware =
 * 96 B s l h^2 (1 + s/6h + V/16lh). Biases and norms are not counted. */
#ifndef TRAIN_H
#define TRAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "models/gpu/gpu.h"
#include "models/interconnect/net.h"
#include "models/llm/llm.h"
#include "sim/component.h"

/* Fraction of the data-parallel gradient traffic that may run under
 * backward compute. PyTorch DDP launches bucketed all-reduces as gradients
 * become ready during backward (Li et al., "PyTorch Distributed", VLDB
 * 2020), FSDP prefetches the next layer's all-gather, Megatron-LM overlaps
 * with --overlap-grad-reduce: only what exceeds the backward time stays
 * exposed. 1.0 is that default; 0 is a framework that reduces after the
 * backward pass (Megatron-LM of 2021, the calibration rows). */
#define TRAIN_DP_OVERLAP_DEFAULT 1.0

/* FSDP (ZeRO-3) backward prefetch: when the next layer's all-gather is
 * issued (see train_step.c). PRE: before the current layer's backward, so
 * it runs under it (PyTorch FSDP's default, BackwardPrefetch.BACKWARD_PRE).
 * POST: after it, and the compute waits for it (BACKWARD_POST, MosaicML
 * Composer's default: composer/trainer/dist_strategy.py). */
enum { TRAIN_PREFETCH_PRE, TRAIN_PREFETCH_POST };
/* The precision gradients are accumulated and reduced in over the
 * data-parallel ranks (train_job.grad_reduce). AUTO is Megatron-LM's rule:
 * fp32 for bf16 and fp8 training (megatron/training/arguments.py turns
 * accumulate_allreduce_grads_in_fp32 on unless --grad-reduce-in-bf16;
 * the gradient buffer is then fp32, Megatron-Core's distributed optimizer
 * table: 6 + 12/d bytes per parameter), 16 bits for fp16 training. FP32:
 * 4 bytes per gradient on the wire and in the buffer; BF16 / FP16: 2. */
enum { TRAIN_GRAD_REDUCE_AUTO, TRAIN_GRAD_REDUCE_FP32, TRAIN_GRAD_REDUCE_BF16, TRAIN_GRAD_REDUCE_FP16 };

/* The defaults of a training job: one set for every way to write one (the
 * `training` scenario section, `clustersim estimate --train`, the job
 * queue's training jobs). train_job_init applies them and the key tables
 * name them, so the same job gives the same iteration whichever way it is
 * written (tests/unit/test_training_run.c holds them equal).
 *   dtype bf16: the mixed precision of the runs the model is calibrated on
 *     since 2022 (MosaicML llm-foundry, LLaMA; models/VALIDATION.md).
 *   recompute auto in the key tables: the cheapest recomputation that
 *     fits (train_job_fit), as frameworks' planners do; a job built in
 *     code (train_job_init) starts at selective (Korthikanti et al. 2022,
 *     "Reducing Activation Recomputation in Large Transformer Models": the
 *     attention part only), a concrete level the model functions take.
 *   dropout as the model was trained (its catalog entry's dropout_free);
 *     cross-entropy unfused (TRAIN_DEFAULT_FUSED_CROSS_ENTROPY); no offload.
 *   FlashAttention on; micro-batch 1; 1F1B (no interleaving); ZeRO 0;
 *     8 GPUs per node with one network port per GPU (DGX A100/H100); the
 *     gradient reduction hidden under backward as far as it fits
 *     (TRAIN_DP_OVERLAP_DEFAULT); FSDP prefetch as PyTorch (pre). */
#define TRAIN_DEFAULT_DTYPE GPU_BF16
#define TRAIN_DEFAULT_DTYPE_NAME "bf16"
#define TRAIN_DEFAULT_RECOMPUTE LLM_RECOMPUTE_SELECTIVE
/* What the key tables default to: `auto`, the cheapest recomputation that
 * fits (train_job_fit). train_job_init leaves a concrete level
 * (TRAIN_DEFAULT_RECOMPUTE) for code that builds a job itself. */
#define TRAIN_DEFAULT_RECOMPUTE_NAME "auto"
#define TRAIN_DEFAULT_FLASH_ATTENTION true
#define TRAIN_DEFAULT_MICRO_BATCH 1
#define TRAIN_DEFAULT_SEQ_LEN 2048
#define TRAIN_DEFAULT_INTERLEAVE 1
#define TRAIN_DEFAULT_ZERO 0
#define TRAIN_DEFAULT_GPUS_PER_NODE 8
#define TRAIN_DEFAULT_NICS_PER_NODE 0
#define TRAIN_DEFAULT_FSDP_PREFETCH TRAIN_PREFETCH_PRE
#define TRAIN_DEFAULT_FSDP_PREFETCH_NAME "pre"
/* Cross-entropy unfused: the logits kept for backward in fp32 (4 s b V / t
 * bytes, Korthikanti et al. 2022, sec. 4.3), as Megatron-LM without
 * --cross-entropy-loss-fusion and torchtitan do. The stack profiles of
 * issue 15 will set it (and flash_attention) per stack. */
#define TRAIN_DEFAULT_FUSED_CROSS_ENTROPY false
/* Restart after a failure (detect, reschedule, reload), s: ten minutes.
 * No run publishes it alone; it is within Llama 3's bound (Meta, "The
 * Llama 3 Herd of Models", 2024, sec. 3.3.4: 419 unexpected interruptions
 * in 54 days at more than 90% effective training time, i.e. at most 18.6
 * min lost per interruption, lost work and restart together). */
#define TRAIN_DEFAULT_RESTART_S 600.0
/* GPU failures are on by default, at Llama 3's rate: 419 unexpected
 * interruptions in a 54-day snapshot on 16,384 H100 (Meta 2024, sec.
 * 3.3.4, Table 5), 16,384 x 54 x 24 / 419 = 50,677 GPU-hours between
 * interruptions per GPU (the job of 16,384: one every 3.1 h). Others agree
 * within a factor of 3.5: BLOOM (BigScience 2022, 384 A100: "1-2 GPU
 * failures a week", ~43,000 h), OPT-175B (Zhang et al. 2022, sec. 2.5 and
 * its logbook: 35+ manual restarts, 100+ hosts cycled in ~2 months on 992
 * A100, ~14,000 h if every cycled host stopped the job). The BLOOM and OPT
 * quotes are as recalled: searched 2026-12-04 and not found in the stored
 * copies (BLOOM's 4 spare nodes kept for failures were). mtbf_gpu_h = 0
 * written explicitly turns failures off. */
#define TRAIN_DEFAULT_MTBF_GPU_H (16384.0 * 54 * 24 / 419)
/* Evaluation: Megatron-LM's defaults (megatron/training/arguments.py,
 * --eval-interval 1000, --eval-iters 100): every 1,000 iterations, 100
 * forward-only iterations of the global batch. */
#define TRAIN_DEFAULT_EVAL_INTERVAL 1000
#define TRAIN_DEFAULT_EVAL_ITERS 100
/* Checkpoint: 16-bit weights + fp32 master weights and Adam's two moments
 * = 14 B per parameter (gradients are not saved), sharded over every GPU
 * (Megatron-Core's distributed checkpoint, PyTorch DCP), written at the
 * storage's aggregate bandwidth. Default storage: Llama 3's Tectonic, 2
 * TB/s sustained for 16K GPUs (Meta 2024, sec. 3.3.1: 240 PB on 7,500
 * servers, 2 TB/s sustained, 7 TB/s peak), scaled to the job's GPUs. */
#define TRAIN_CHECKPOINT_BYTES_PER_PARAM 14.0
#define TRAIN_STORAGE_GBPS_PER_GPU (2000.0 / 16384)
/* Stragglers from per-GPU jitter (train_run_straggler.c), off by default
 * since its fit gives 0 (below):
 * every micro-batch's compute on every GPU is its mean x (1 + e), e
 * independent with standard deviation TRAIN_DEFAULT_STRAGGLER_JITTER; a step
 * ends when its slowest synchronous unit (a tensor-parallel group, which
 * syncs every layer, counts as one) ends, so it waits, in expectation,
 *   compute_s x jitter / sqrt(m) x E[max of n standard normals]
 * (m micro-batches per iteration: their jitters add up as sqrt(m); n =
 * GPUs / tp; the expected maximum of a synchronous fan-out: Dean and
 * Barroso, "The Tail at Scale", CACM 2013; order statistics, David and
 * Nagaraja 2003). Measured stragglers at scale: MegaScale (Jiang et al.,
 * NSDI 2024, sec. 5) and Meta's "Revisiting Reliability in Large-Scale ML
 * Research Clusters" (Kokolis et al. 2024). FITTED, not measured: 0.005
 * minimises the median absolute error of the whole-run FITTING rows F1-F6
 * (models/validation/training/wholerun_fit.md: LLaMA-1 7B/13B/33B/65B,
 * Llama 2 34B, Falcon-7B) on a grid of 0.005 from 0 to 0.15, fitted
 * 2026-12-04; the held-out rows W1-W13 were not used. The first fit gave
 * 0.075 (0.070 with the loss over the vocabulary counted, train_launch.c);
 * once ZeRO-1's all-gather of the updated parameters was exposed
 * (train_step.c: it follows the optimizer step, and had been hidden under
 * the backward) the same fit gives 0.005: the jitter had been standing in
 * for that missing time. Once gradients were reduced in fp32 where the
 * stacks do (train_grad_bytes, Megatron-LM's bf16 rule), the same fit gives
 * 0 (median 7.1% against 7.2% at 0.005): no jitter is left for the rows to
 * ask for, and stragglers are off unless a job sets a jitter (0: off). */
#define TRAIN_DEFAULT_STRAGGLER_JITTER 0.0
/* Batch-size ramp-up stages accepted ((global - start) / increment). */
#define TRAIN_RAMP_MAX_STAGES 4096
/* Stages a sequence-length warm-up is played in. */
#define TRAIN_SEQ_RAMP_STAGES 16

/* A recomputation to be chosen: the cheapest that fits (train_job_fit),
 * after LLM_RECOMPUTE_NONE / SELECTIVE / FULL. */
enum { TRAIN_RECOMPUTE_AUTO = LLM_RECOMPUTE_FULL + 1 };

/* What moves to host memory (train_job.offload, a bit set).
 * OPTIMIZER (ZeRO-Offload, Ren et al. 2021, "ZeRO-Offload: Democratizing
 *   Billion-Scale Model Training", USENIX ATC): the fp32 master weights
 *   and Adam moments (12 B per parameter of the GPU's shard) live in host
 *   memory, and with ZeRO >= 2 the 16-bit gradient shard too (with ZeRO 1
 *   the gradients stay, as Megatron-Core's --optimizer-cpu-offload keeps
 *   its gradient buffer); the Adam step runs on the CPU; each iteration the 16-bit
 *   gradients of the shard go down the GPU's host link (hidden under the
 *   last backward as far as it lasts) and the updated 16-bit weights come
 *   back (overlapped with the CPU step tile by tile, Ren et al. sec. 5.1);
 *   no one-step delayed update. Needs ZeRO >= 1 (the shard), as DeepSpeed
 *   and Megatron-Core's --optimizer-cpu-offload do.
 * ACTIVATIONS (Megatron-Core --cpu-offloading, PyTorch's
 *   save_on_cpu): the activations a micro-batch keeps for backward go to
 *   host memory layer by layer during forward and come back during
 *   backward; the GPU keeps two layers' worth (the one computed and the
 *   one in transfer). A chunk's forward (backward) then takes the longer
 *   of its compute and its transfer over the host link. */
enum { TRAIN_OFFLOAD_OPTIMIZER = 1, TRAIN_OFFLOAD_ACTIVATIONS = 2 };
/* CPU Adam (DeepSpeedCPUAdam, AVX-512) speed, parameters per second per
 * node, shared by the node's GPUs: about 0.22 s per billion parameters on
 * a DGX-2's two 24-core Xeon Platinum 8168 (Ren et al. 2021, Table 4, the
 * 1B row; 6.4 times PyTorch's CPU Adam). The table is an image in the
 * copies the project could read: the absolute figure is as recalled.
 * Checked 2026-12-04: the ratio agrees with DeepSpeed's ZeRO-Offload
 * tutorial ("DeepSpeedCPUAdam is 5X-7X faster than the standard PyTorch
 * implementation") and DeepSpeed issue 479 ("up to a 6X throughput
 * boost"); the absolute figure is consistent with a memory-bound step: 28 B
 * per parameter (fp32 weight, m, v read and written, 16-bit gradient in
 * and weight out) at 126 GB/s, half the 256 GB/s of the two sockets' 12
 * DDR4-2666 channels. */
#define TRAIN_CPU_ADAM_PARAMS_PER_S_NODE 4.5e9

/* Names of the recomputation modes (by LLM_RECOMPUTE_*, then "auto") and
 * of the FSDP prefetch modes (by TRAIN_PREFETCH_*), NULL-terminated, for
 * key tables; the offload items by bit (optimizer, activations). */
extern const char *const train_recompute_names[];
extern const char *const train_prefetch_names[];
extern const char *const train_grad_reduce_names[];  /* "auto", "fp32", "bf16", "fp16" */
/* How context-parallel ranks exchange attention's inputs, as Megatron-Core's
 * --cp-comm-type: "p2p", ring attention (K and V passed round the ring
 * under each chunk's attention; the default), or "a2a", DeepSpeed-Ulysses
 * (an all-to-all turns sequence shards into head shards before attention
 * and back after it: not hidden; the query and key/value heads per
 * tensor-parallel rank must both divide by cp, as Transformer Engine
 * asserts). */
enum { TRAIN_CP_P2P, TRAIN_CP_A2A };
extern const char *const train_cp_comm_names[];     /* "p2p", "a2a" */
/* The pipeline schedule: "1f1b" (PipeDream-Flush, or Megatron's
 * interleaved 1F1B with interleave > 1; the default) or "zb-h1", the same
 * order with each backward split into its input-gradient pass (B) and its
 * weight-gradient pass (W), which fills the stage's idle time (Qi et al.,
 * "Zero Bubble Pipeline Parallelism", ICLR 2024, ZB-H1: 1F1B's peak
 * activation memory, about a third of its bubble; DeepSeek-V2's 16-way
 * pipeline; torch.distributed.pipelining's InterleavedZeroBubble with
 * interleave > 1). DualPipe is its own schedule (dualpipe). */
enum { TRAIN_SCHEDULE_1F1B, TRAIN_SCHEDULE_ZB_H1 };
extern const char *const train_schedule_names[];    /* "1f1b", "zb-h1" */
extern const char *const train_offload_names[];

/* The offload items of a comma-separated list ("optimizer,activations",
 * either or both; "" and "none": none) or of n names, as a bit set; -1
 * with the first unknown item copied to bad. */
int train_offload_parse(const char *list, char *bad, size_t n);
int train_offload_names_parse(const char *const *names, int count, char *bad, size_t n);
/* The items of a bit set as a list ("optimizer,activations", "none"). */
const char *train_offload_text(int offload, char *buf, size_t n);

/* The catalog name of the link between nodes when none is given: NDR
 * InfiniBand for GPUs of the NVLink 4 generation and later (DGX H100, DGX
 * B200: 8 x 400 Gb/s; the H800's NVLink cut to 400 GB/s too), HDR for the
 * others (DGX A100: 8 x 200 Gb/s); for a TPU its DCN link
 * between slices, dcn-v5e or dcn-v5p (the v4 too: no v4 DCN catalogued). */
const char *train_default_net_link(const gpu_spec *g);

/* A training job. Pointers are kept, not copied. Fill with train_job_init
 * and then set the fields that differ. */
typedef struct {
  const llm_arch *model;
  const gpu_spec *gpu;
  gpu_precision dtype;      /* GEMM precision: fp16/bf16 (fp8: GEMMs in fp8, the rest in bf16) */
  int dp, tp, pp;           /* gpus = dp x tp x pp x cp */
  int micro_batch;          /* sequences per micro-batch */
  int global_batch;         /* sequences per iteration (dp x micro_batch x micro-batches) */
  int seq_len;              /* tokens per sequence */
  int interleave;           /* virtual stages per GPU (1: 1F1B; v > 1: interleaved 1F1B) */
  int recompute;            /* LLM_RECOMPUTE_NONE / SELECTIVE / FULL (TRAIN_RECOMPUTE_AUTO: resolve with train_job_fit) */
  int recompute_layers;     /* with FULL: layers recomputed in each model chunk (a stage, or a virtual stage when
                               interleaved), the first ones, as Megatron-LM's --recompute-method block
                               --recompute-num-layers; 0: all */
  bool dropout;             /* dropout masks kept for backward (default: the model's, !dropout_free) */
  bool fused_cross_entropy; /* logits kept in 16 bits, not fp32 (TRAIN_DEFAULT_FUSED_CROSS_ENTROPY) */
  int offload;              /* TRAIN_OFFLOAD_* bits */
  bool seq_parallel;        /* sequence parallelism (Korthikanti et al. 2022) */
  int zero;                 /* ZeRO stage 0..3 (3 = FSDP FULL_SHARD) */
  bool flash_attention;     /* fused attention (FlashAttention): no s x s scores in memory */
  const net_link *node_link;  /* inside a node: default the GPU's scale-up link (NVLink), else its host link (PCIe) */
  const net_link *net_link;   /* between nodes (InfiniBand, Ethernet) */
  int gpus_per_node;
  int nics_per_node;        /* network ports per node (0: one per GPU, rail-optimised) */
  double dp_overlap;        /* 0..1, see TRAIN_DP_OVERLAP_DEFAULT */
  int fsdp_prefetch;        /* TRAIN_PREFETCH_PRE / POST (ZeRO 3 only) */
  int grad_reduce;          /* TRAIN_GRAD_REDUCE_*: precision of the gradient buffer and its reduction */
  /* context and expert parallelism (train_cp_ep.c, train_moe.c) */
  int cp;                   /* context-parallel ranks: each sequence split over them, ring attention (1: none) */
  int cp_comm;              /* TRAIN_CP_P2P (ring attention) or TRAIN_CP_A2A (all-to-all of the heads) */
  int ep;                   /* expert-parallel ranks the routed experts are sharded over; divides dp x cp (1: none) */
  bool dualpipe;            /* DeepSeek-V3's DualPipe schedule (pp even; all-to-all and p2p under compute) */
  int schedule;             /* TRAIN_SCHEDULE_1F1B or TRAIN_SCHEDULE_ZB_H1 (not with dualpipe) */
  int dp_shard;             /* ZeRO's shard group: ranks of the dp x cp the sharded state splits over, the groups
                               replicas of each other (HSDP, MiCS, Megatron's distributed-optimizer instances;
                               divides dp x cp; 0: all of them) */
  double expert_imbalance;  /* max / mean tokens of one routed expert (TRAIN_DEFAULT_EXPERT_IMBALANCE) */
  /* token dropping (Megatron-Core --moe-expert-capacity-factor F,
   * --moe-pad-expert-input-to-capacity): an expert takes at most F x its
   * mean tokens and drops the rest; padded, every expert computes and
   * exchanges exactly F x the mean. 0: dropless (Megatron-Core's default) */
  double moe_capacity;
  bool moe_pad;
  const struct train_stack *stack;  /* efficiencies, launches, overlaps (train_stack.h); NULL: the built-in numbers */
  /* uneven pipeline stages (Megatron-Core --decoder-first-pipeline-num-layers N,
   * --decoder-last-pipeline-num-layers N): layers of the first / last stage,
   * the rest divided evenly over the others; 0: even (train_stage_layers) */
  int first_stage_layers, last_stage_layers;
  /* interleaved stages whose layers do not divide by the virtual stages:
   * each stage's layers split over its v chunks as evenly as they go, the
   * first chunks one layer more (Megatron-Core's
   * --pipeline-model-parallel-layout; Llama 3's tuned schedule). false:
   * Megatron-Core's default rule, each stage's layers divide by v */
  bool uneven_chunks;
} train_job;

/* The defaults above (TRAIN_DEFAULT_*), and dp = tp = pp = 1, global batch
 * 1, no sequence parallelism, the node link from the GPU (its scale-up
 * link, else its host link); net_link stays NULL: set it (the catalog's
 * train_default_net_link when the user names none). */
void train_job_init(train_job *j, const llm_arch *m, const gpu_spec *g);
static inline int train_job_gpus(const train_job *j) { return j->dp * j->tp * j->pp * j->cp; }
/* Bytes per gradient in the buffer and in the data-parallel reduction
 * (reduce-scatter, all-reduce) under the job's grad_reduce: 4 or 2. The
 * parameters' all-gather stays in 16 bits. */
double train_grad_bytes(const train_job *j);
/* Bytes of a parameter gathered between GPUs (ZeRO's and FSDP's
 * all-gathers): the 16-bit weights, whatever the gradients' precision. */
#define TRAIN_WEIGHT_BYTES 2.0
/* The precision a job's gradients are reduced in, resolved ("fp32", "bf16",
 * "fp16"; auto by the dtype), for outputs. */
const char *train_grad_reduce_text(const train_job *j);
/* Dropout of a job, for key tables: "model" (the catalog entry's recipe,
 * dropout_free: the default), "on", "off"; train_job_dropout applies the
 * choice's index. */
extern const char *const train_dropout_names[];
void train_job_dropout(train_job *j, int choice);
/* Token dropping as a user wrote it, over the job's defaults (a stack's,
 * else dropless): a capacity written replaces the default; padding written
 * replaces it too, and a dropless capacity (0) written turns the default's
 * padding off (nothing to pad to) unless padding is written as well, which
 * train_job_check then refuses. For the scenario keys and the flags alike. */
void train_job_moe_capacity(train_job *j, bool has_capacity, double capacity, bool has_pad, bool pad);
/* The one job builder of a `training` section (training_component.c), for
 * the scenario and the planner alike: params is the section as its key
 * table parsed it; the job of model m on GPU g with everything but the
 * layout (tp, pp, dp, cp, ep, micro_batch, interleave, zero, seq_parallel,
 * recompute, stages stay train_job_init's): precision, batch, sequence,
 * kernels, offload, DualPipe, the stack's defaults under what the section
 * wrote, and the links (as written when as_written, else g's defaults).
 * False with the reasons in ck. */
bool train_job_build(const void *params, const sim_catalogs *cats, const llm_arch *m, const gpu_spec *g,
                     bool as_written, train_job *j, sim_check *ck);
/* Micro-batches per iteration per pipeline: global_batch / (dp x micro_batch). */
int train_micro_batches(const train_job *j);

/* NULL if the job is well formed; else the name of the offending field
 * ("tp", "pp", "global_batch", "interleave", "gpu": no training efficiency
 * stated, "stack": a GPU stack on a TPU or Gaudi, ...) with the reason
 * in msg. Memory is not checked here (see train_memory: fits). */
const char *train_job_check(const train_job *j, char *msg, size_t n);

/* Weight-matrix elements of one layer that a token multiplies (attention
 * projections and the active experts' MLP; no biases, no norms), averaged
 * over the layers (train_layer_matrices_of). */
double train_layer_matrix_params(const llm_arch *m);

/* FLOPs of one iteration (global_batch x seq_len tokens), per the
 * conventions above: model FLOPs (no recomputation) and hardware FLOPs
 * (with the job's recomputation). */
double train_model_flops(const train_job *j);
double train_hardware_flops(const train_job *j);

/* Memory per GPU on the busier of the first and the last pipeline stage,
 * bytes. Adam in mixed precision: 2 B weights + 2 B gradients + 12 B
 * optimizer state per parameter, divided over dp by ZeRO 1 (optimizer), 2
 * (+ gradients), 3 (+ weights). Activations per Korthikanti et al. 2022
 * (sec. 4 and Table 2; train_memory.c writes the terms out): per layer and
 * micro-batch by recomputation, for the micro-batches in flight under
 * 1F1B: min(p, m) on the first stage, times (1 + (p-1)/(p v)) when
 * interleaved; one on the last, which also keeps the output layer's input
 * and the logits. Offloaded parts are counted in host_bytes, not in total.
 * ZeRO 3 adds the layers and the root unit it gathers (gathered); with
 * pipeline stages it holds the stage whole (train_fsdp_pipelined). */
typedef struct {
  double params;            /* parameters held per GPU before ZeRO */
  double expert_params;     /* of which routed experts sharded over ep > 1 (0 when ep = 1) */
  double weights, grads, optimizer, activations, total;
  double gathered;          /* ZeRO 3 (FSDP): the unsharded layers it runs on, two layers' 16-bit weights (the
                               current and the prefetched) and one layer's gradients, and the root unit's 16-bit
                               weights (embedding, head) and the head's gradients; in total; 0 otherwise */
  double capacity;          /* the GPU's memory */
  bool fits;
  double short_bytes;       /* total - capacity when it does not fit, else 0 */
  double margin_bytes;      /* capacity - total: negative when it does not fit */
  double host_bytes;        /* moved to host memory by the job's offload */
  int stage;                /* the stage counted: 0 or pp - 1 (any stage with uneven stages: the busiest) */
  double layer_bytes;       /* activations one layer keeps for one micro-batch without recomputation */
  double recompute_layer_bytes;  /* ... when recomputed in full (its input) */
} train_memory;
void train_memory_need(const train_job *j, train_memory *out);
/* Memory of stage s of a job with uneven stages (train_uneven): its
 * parameters (train_stage_params), its layers' activations for the p - s
 * micro-batches 1F1B keeps in flight (pp + 1 with DualPipe; interleaved,
 * Megatron's warm-up 2 (p-1-s) + (v-1) p + 1 chunk micro-batches, at most
 * m v, each chunk at its own size in the schedule's order under 1F1B:
 * train_pipeline_peak_held), the embedding's on the first, the logits on
 * the last.
 * train_memory_need reports the stage with the largest total. */
void train_memory_stage(const train_job *j, int s, train_memory *out);

/* Activations one layer keeps for backward, per micro-batch and GPU, bytes,
 * at recomputation level `recompute` (LLM_RECOMPUTE_*; the layer's own
 * level, so FULL is a recomputed layer's input). */
double train_layer_activation_bytes(const train_job *j, int recompute);

/* Layers of one model chunk (a stage; a virtual stage when interleaved;
 * with uneven stages the largest stage) and how many of them the job
 * recomputes in full. */
int train_chunk_layers(const train_job *j);
int train_recomputed_layers(const train_job *j);

/* Uneven stages (Megatron-Core's rule, megatron/core/transformer/
 * transformer_block.py get_num_layers_to_build): the first stage holds
 * first_stage_layers, the last last_stage_layers (each when > 0), the
 * remaining layers divide evenly over the other stages. Interleaved (v > 1),
 * each stage's layers split alike over its v chunks (Megatron-Core's
 * get_transformer_layer_offset: num_layers_in_first_pipeline_stage //
 * vp_size; each stage's count must divide by v). train_uneven: either is
 * set. train_stage_layers: layers of stage s (0..pp-1, all its chunks);
 * train_stage_chunk_layers: of its largest chunk (stage / v, rounded up
 * with uneven_chunks); train_chunk_size: of its chunk c (0..v-1);
 * train_stage_recomputed: of its largest chunk's layers, recomputed in
 * full; train_chunk_recomputed: of chunk c's. */
bool train_uneven(const train_job *j);
int train_stage_layers(const train_job *j, int s);
int train_stage_chunk_layers(const train_job *j, int s);
int train_chunk_size(const train_job *j, int s, int c);
int train_chunk_recomputed(const train_job *j, int s, int c);
int train_stage_recomputed(const train_job *j, int s);
/* NULL if first_stage_layers and last_stage_layers are well formed for the
 * job (train_job_check calls it); else the offending field and why. */
const char *train_stages_check(const train_job *j, char *msg, size_t n);

/* Resolve TRAIN_RECOMPUTE_AUTO to the cheapest recomputation that fits, as
 * frameworks' planners do: none, then selective, then full on the fewest
 * layers of each chunk (1, 2, ...), then full on all; with none fitting,
 * full on all. A concrete level is kept. Fills mem for the result and
 * returns whether it fits. The job must pass train_job_check. */
bool train_job_fit(train_job *j, train_memory *mem);

/* One iteration. Times in seconds; the breakdown sums to iteration_s:
 * compute (busiest stage, m micro-batches), tp_comm (its tensor-parallel
 * collectives), offload_exposed (activation offload not hidden), bubble
 * (pipeline idle), pp_comm (p2p on the critical path), dp_exposed
 * (gradient traffic not hidden), optimizer (on the GPU, or with optimizer
 * offload: the exposed gradient download, then the CPU step and the
 * weights' upload overlapped). exposed_comm is
 * every collective and send on the critical path: tp_comm + pp_comm +
 * dp_exposed (FSDP's exposed gathers are in dp_exposed).
 * Links: link_node_busy_s and link_net_busy_s are the time per iteration
 * the node link (NVLink, PCIe) and the network link carry the traffic of
 * their busiest GPU, hidden or not: the tensor-parallel collectives (node),
 * the data-parallel traffic on its group's link (dp_comm_s: the network
 * when the group spans nodes), the pipeline sends of a stage (each send's
 * slices on the link its boundary crosses, their all-gather on the node
 * link). The fractions divide them by iteration_s, clamped to [0, 1]
 * (two streams on one link at once can add up to more). */
typedef struct {
  int micro_batches;
  double iteration_s;
  double compute_s, tp_comm_s, bubble_s, pp_comm_s, dp_comm_s, dp_exposed_s, optimizer_s;
  /* offload: the activation transfers not hidden under compute on the
   * busiest stage (a part of the iteration), and the host link's traffic
   * per iteration, hidden or not (activations and optimizer); the CPU Adam
   * step (inside optimizer_s) */
  double offload_exposed_s, offload_transfer_s, cpu_optimizer_s;
  double exposed_comm_s;
  /* context parallelism (ring attention) and expert parallelism
   * (all-to-all): the traffic of the busiest stage, hidden or not, and
   * its part on the critical path (inside the pipeline's ops) */
  double cp_comm_s, cp_exposed_s, ep_comm_s, ep_exposed_s;
  double link_node_busy_s, link_net_busy_s, link_node_busy_fraction, link_net_busy_fraction;
  double bubble_fraction;   /* bubble / (pipeline time without p2p) */
  double tokens;            /* per iteration */
  double tokens_per_s, tokens_per_s_per_gpu;
  double model_flops, hardware_flops;  /* per iteration */
  double mfu, hfu;          /* per GPU, against the dense peak of dtype */
  const net_link *dp_link, *pp_link;   /* the links used (NULL when the degree is 1) */
  train_memory mem;
} train_step_result;
/* Simulate one iteration of a job that passed train_job_check, with a
 * concrete recomputation (not TRAIN_RECOMPUTE_AUTO: see train_job_fit). */
void train_step(const train_job *j, train_step_result *out);

/* ---- context and expert parallelism (train_cp_ep.c, train_moe.c) ----
 * Layout (Megatron-Core's order tp-cp-ep-dp-pp): tensor-parallel ranks
 * innermost, then context-parallel, then data-parallel, then pipeline
 * stages; GPUs = tp x cp x pp x dp. The expert-parallel group takes ep
 * consecutive ranks of the dp x cp ones (tp apart); expert tensor
 * parallelism is tp (Megatron-Core's default, --expert-tensor-parallel-size
 * = --tensor-model-parallel-size). Weights are replicated over cp, so the
 * gradients of the dense part reduce over dp x cp ranks and those of the
 * routed experts over dp x cp / ep (with a ZeRO shard group of S ranks:
 * inside it over S and S / ep, then across the dp x cp / S replicas). */

/* Default max / mean load of one routed expert: 1.52, the global maximal
 * violation (MaxVio 0.52) of the auxiliary-loss-balanced 3B MoE of Wang et
 * al. 2024, "Auxiliary-Loss-Free Load Balancing Strategy for
 * Mixture-of-Experts" (arXiv 2408.15664, Table 1; 0.72 at 1B; 0.04 for
 * their loss-free method, DeepSeek-V3's): as recalled, not yet checked
 * against the page. An ep rank holding E/ep experts with one this hot
 * carries 1 + (imbalance - 1) / (E / ep) times the mean (train_expert_stretch). */
#define TRAIN_DEFAULT_EXPERT_IMBALANCE 1.52

/* NULL if cp, ep and dualpipe are well formed for the job (train_job_check
 * calls it); else the offending field ("cp", "ep", "dualpipe") and why. */
const char *train_cpep_check(const train_job *j, char *msg, size_t n);
/* Ranks the dense gradients reduce over: dp x cp. */
int train_grad_ranks(const train_job *j);
/* Ranks ZeRO shards the dense state over: dp_shard, or dp x cp when 0
 * (every rank); train_grad_ranks / train_shard_ranks replicas of it. */
int train_shard_ranks(const train_job *j);
/* FSDP (ZeRO 3) under pipeline parallelism (pp > 1), as PyTorch's
 * pipelining runs FSDP2 (torchtitan): a stage's parameters are gathered
 * at the first micro-batch's forward and kept (reshard_after_forward off
 * under PP, no reshard after the backwards), its gradients accumulate
 * unsharded (every backward without gradient sync; the reduce-scatter
 * runs after the last): the weights and gradients of the stage are held
 * whole, the optimizer state sharded, and each layer is gathered and
 * reduce-scattered once an iteration. train_shards_weights: ZeRO 3 not
 * pipelined; train_shards_grads: ZeRO 2, or 3 not pipelined. */
bool train_fsdp_pipelined(const train_job *j);
bool train_shards_weights(const train_job *j);
bool train_shards_grads(const train_job *j);
/* Ranks ZeRO shards the routed experts' state over with ep > 1: the
 * shard group's ranks holding the same experts, train_shard_ranks / ep
 * (members tp x ep apart), with the same train_grad_ranks /
 * train_shard_ranks replicas as the dense state. */
int train_expert_shard_ranks(const train_job *j);
/* A layer's parameters on one GPU, the mean over the model's layers
 * (leading dense layers and MoE layers alike; embeddings and head not
 * among them): what FSDP gathers for a layer. With ep > 1 the routed
 * experts are apart: the layer's other parameters, and *routed (may be
 * NULL) the GPU's ep share of its routed experts; else *routed = 0. */
double train_layer_params_gpu(const train_job *j, double *routed);
/* The schedule a job's pipeline runs, as outputs name it: "dualpipe",
 * or train_schedule_names' (static). */
const char *train_schedule_text(const train_job *j);

/* Weight-matrix elements a token multiplies in one layer, averaged over the
 * layers (a model's leading dense layers and its MoE layers): attention
 * projections (MLA's down- and up-projections), the MLP of dense layers and
 * shared experts, and the experts_active routed experts. Norms, biases and
 * the router are not counted. Their sum is train_layer_matrix_params. */
typedef struct {
  double attn, mlp, routed;
} train_layer_matrices;
void train_layer_matrices_of(const llm_arch *m, train_layer_matrices *out);
/* Inner MLP width a token goes through in one layer, averaged over the
 * layers: ffn for a dense model; top-k routed experts and the shared ones
 * in a layer with experts. */
double train_layer_mlp_width(const llm_arch *m);
/* Parameters of all routed experts of the model (0 without experts). */
double train_routed_params(const llm_arch *m);
/* The share of layers with routed experts (0 for a dense model). */
double train_moe_layer_share(const llm_arch *m);
/* How much longer the busiest ep rank's expert GEMMs take than the mean
 * load's. Dropless: 1 + (expert_imbalance - 1) x ep / experts (the rank
 * holds one expert as hot as the imbalance, the rest at the mean; 1 when
 * ep = 1: one GPU computes every expert's tokens). With a capacity F each
 * expert's load is capped at F x the mean: (min(imbalance, F) + (E/ep - 1)
 * x min(1, F)) / (E/ep), and min(1, F) when ep = 1. Padded to capacity:
 * F, on every rank. */
double train_expert_stretch(const train_job *j);
/* The all-to-all's volume against top-k x tokens: F when padded to
 * capacity (every expert's buffer is F x the mean), else 1 (the tokens a
 * capacity drops are not subtracted). */
double train_expert_dispatch_scale(const train_job *j);
/* Per-token activation bytes an MoE layer keeps beyond a dense one's (per
 * GPU, before the sequence split): the router's fp32 probabilities (4 x
 * experts) and the permuted tokens in and out of the experts (2 x 2 x top-k
 * x hidden, split by tp; x the capacity factor when padded to it); averaged
 * over the layers. */
double train_moe_activation_bytes(const train_job *j);

/* Context- and expert-parallel communication of one layer for one
 * micro-batch on one GPU (averaged over the layers), seconds. Ring
 * attention (Megatron-Core / Transformer Engine cp_comm_type "p2p", the
 * sequence in 2 cp chunks, rank r holding chunks r and 2cp-1-r so that
 * causal work is even): forward, cp - 1 steps each sending the rank's K
 * and V (2 x b s/cp x kv width x 2 B / tp) to the next rank while the
 * attention of the current chunk runs (attn_fwd_s / cp); backward sends K,
 * V and dK, dV (twice the bytes) under attn_bwd_s / cp. Ulysses
 * (cp_comm_type "a2a", DeepSpeed-Ulysses): forward one all-to-all over the
 * cp group of the rank's b s/cp tokens x (Q + K + V + output widths per tp
 * rank) x 2 B, backward the same (dO; dQ, dK, dV), all exposed
 * (train_group_alltoall_s). Expert all-to-alls of a group-limited router
 * (llm_arch topk_group) across nodes go once per destination node. Expert
 * parallelism, per layer with experts: all-to-all dispatch and combine of
 * b s/cp / tp tokens x top-k x hidden x 2 B each over the ep group's link;
 * backward the same twice; exposed unless DualPipe hides it under the
 * paired micro-batch's compute (layer_s: the layer's forward and backward
 * compute). */
typedef struct {
  double cp_fwd, cp_bwd;          /* ring traffic */
  double cp_fwd_exposed, cp_bwd_exposed;
  double ep_fwd, ep_bwd;          /* all-to-all traffic */
  double ep_fwd_exposed, ep_bwd_exposed;
  const net_link *cp_link, *ep_link;  /* NULL when the degree is 1 */
  bool cp_net, ep_net;            /* on the network link */
} train_par_cost;
void train_par_layer(const train_job *j, double attn_fwd_s, double attn_bwd_s, double layer_s, train_par_cost *out);

/* Parameter memory of a job with cp, ep or DualPipe (train_memory_need
 * calls it): routed experts' weights, gradients and optimizer state
 * divided by ep, their ZeRO shards over the shard group's S / ep ranks
 * (train_expert_shard_ranks), the dense part's over S; DualPipe holds two copies of a stage's parameters
 * (DeepSeek-V3 report, Table 2; its pp + 1 micro-batches of activations are
 * counted by train_memory_need). Sets params, expert_params, weights,
 * grads and optimizer of out. */
void train_cpep_memory(const train_job *j, train_memory *out);
/* The same for stage s of a job with uneven stages (its layers' share of
 * the layers' parameters, the embedding on the first, the head on the last). */
void train_cpep_stage_memory(const train_job *j, int s, train_memory *out);
/* Parameters of stage s per tensor-parallel rank, before ZeRO and ep: the
 * stage's layers (their share of all layers' parameters), the input
 * embedding on the first stage and the output head (with the final norm)
 * on the last (all of llm_embed_params on the first when tied). Even
 * stages: llm_params / (tp x pp), as before (embedding spread). */
double train_stage_params(const train_job *j, int s);
/* The parameters of stage s no layer owns, per GPU (divided by tp): the
 * token embedding (and positions) on the first stage, the output head on
 * the last (a tied one is the embedding with pp 1), the norms; *head gets
 * the output head's alone (0 off the last stage). FSDP's root unit. */
double train_stage_root_params(const train_job *j, int s, double *head);
/* Parameters the optimizer of one GPU updates (ZeRO 1+: its shards). */
double train_updated_params(const train_job *j, const train_memory *mem);
/* Time of the routed experts' gradient reduction over their dp x cp / ep
 * ranks (0 when ep = 1: they go with the dense ones), grad_bytes per
 * value; all-reduce with ZeRO 0, else reduce-scatter + all-gather over the
 * train_expert_shard_ranks and, with a shard group, each shard's
 * all-reduce across its replicas in between, whose time *across gets;
 * *gather the updated parameters' all-gather (ZeRO >= 1; else 0). */
double train_expert_grad_s(const train_job *j, const train_memory *mem, double grad_bytes, double *across,
                           double *gather);
/* The link a collective of `span` GPUs, members `stride` apart, runs on
 * (train_step.c): the node link inside a node, else the network ports the
 * group's members in a node share. */
net_link train_group_link(const train_job *j, int span, int stride);
/* An all-to-all over the n members of such a group, `bytes` each GPU's
 * send buffer (its own slice included): inside a node, NCCL's on the node
 * link; across nodes (or straddling two), with k = gcd(span,
 * gpus_per_node) / stride the fewest members a node holds (groups laid out
 * contiguously), the longer of their share on the node link (k members,
 * bytes x k / n) and the rest of each GPU's buffer ((n - k) / n of it)
 * over the GPU's own network ports (nics_per_node / gpus_per_node of the
 * network link): unlike a ring's, an all-to-all's off-node traffic does
 * not share the node's other ports. */
double train_group_alltoall_s(const train_job *j, int span, int stride, int n, double bytes);
/* DualPipe (DeepSeek-V3 report, sec. 3.2.1, Table 2): p stages (even), m
 * micro-batches per iteration; f[s], b[s]: a micro-batch's forward and
 * backward through stage s; with f, b those of the busiest stage,
 * m (f + b) + (p/2 - 1)(F&B + B - 3W), the overlapped pair F&B = f + b and
 * W, the weight-gradient half of the backward, b / 2:
 * m (f + b) + (p/2 - 1)(f + b/2). The p2p sends run under compute. */
double train_dualpipe_time(int p, int m, const double *f, const double *b);

/* Pipeline schedule: p stages, m micro-batches, v chunks per stage (chunk
 * c of stage s is virtual stage c p + s). f[c p + s], b[c p + s]: forward
 * and backward time of one micro-batch through chunk c of stage s (p v
 * entries each; with v = 1, f[s] and b[s]); p2p[s]: time to send activations (or gradients) from
 * virtual stage s to the next (from stage s to stage (s+1) mod p). Returns
 * the time from the first forward to the last backward. Orders: 1F1B
 * (PipeDream-Flush) for v = 1, Megatron-LM's interleaved 1F1B for v > 1
 * (needs m a multiple of p). With equal stages and no p2p the idle share is
 * (p-1)/(m+p-1) for v = 1 and (p-1)/(v m + p-1) for v > 1. */
double train_pipeline_time(int p, int m, int v, const double *f, const double *b, const double *p2p);
/* The most stage s (0..p-1) holds at once under the same orders (1F1B for
 * v = 1, Megatron-LM's interleaved 1F1B, m a multiple of p, for v > 1):
 * the largest sum, over the iteration, of held[c] over the chunk micro-
 * batches it has run forward and not yet backward; held[c] (v entries) is
 * what one micro-batch keeps through its chunk c. With equal chunks it is
 * (Megatron's warm-up + 1, at most m v) x held[0]; with chunks that differ
 * (uneven_chunks) it counts which chunks are in flight together. */
double train_pipeline_peak_held(int s, int p, int m, int v, const double *held);
/* The same with the zero-bubble split of the backward (ZB-H1, Qi et al.,
 * ICLR 2024): w[c p + s] (<= b[c p + s]) is the weight-gradient part of a
 * backward, which no other stage waits for and which the stage runs when
 * its next op's input has not arrived; its forwards wait for a pending W
 * once it holds as many micro-batches as 1F1B's first stage. With w = 0 it
 * is train_pipeline_time; with equal stages, F = W = b/2 and no p2p, it
 * is m (f + b) + (p - 1)(f + b - 2 w), the paper's (p-1)(T_F + T_B - T_W)
 * bubble (T_B = b - w). */
double train_pipeline_time_zb(int p, int m, int v, const double *f, const double *b, const double *w,
                              const double *p2p);
/* The same, also filling peak[s] (p entries) with the most stage s holds
 * at once, in chunk micro-batches, a micro-batch waiting for its weight
 * gradients counted r times one in flight (r: what it keeps over what an
 * in-flight one keeps). It never exceeds f_s - 1 + r (cap - f_s + 1) for
 * r >= 1 (cap: 1F1B's first stage's chunk micro-batches in flight, f_s
 * stage s's), nor cap for r <= 1: what train_memory counts. */
double train_pipeline_zb_held(int p, int m, int v, const double *f, const double *b, const double *w,
                              const double *p2p, double r, double *peak);

/* The whole run. */
typedef struct {
  double iterations;        /* train_tokens / (global_batch x seq_len), rounded up */
  double time_s, days, gpu_hours;
  double energy_kwh;        /* all GPUs at TDP for the whole time: an upper bound, no PUE */
  double cost_usd;          /* GPU-hours x usd_per_gpu_hour (NaN if the price is unknown) */
  double model_flops;
} train_run_result;
void train_run(const train_job *j, const train_step_result *step, double train_tokens,
               double usd_per_gpu_hour, train_run_result *out);

/* Failures and checkpoints, first order (Young 1974, "A first order
 * approximation to the optimum checkpoint interval", CACM 17(9); Daly 2006,
 * FGCS 22(3)). A job of n GPUs that each fail at rate 1/mtbf_gpu_s fails at
 * rate 1/M, M = mtbf_gpu_s / n. It writes a checkpoint of delta seconds
 * after every tau seconds of work; a failure strikes uniformly within a
 * segment of tau + delta and loses half of it on average, plus restart R:
 *   lost per failure    L = (tau + delta) / 2 + R
 *   wasted fraction     W = delta / tau + L / M
 *   effective fraction  E = 1 - W (clamped at 0), wall time = T / E.
 * W is minimised at tau* = sqrt(2 delta M) (Young). mtbf_gpu_s = INFINITY
 * (or <= 0: no failures) leaves only delta / tau. */
typedef struct {
  double mtbf_gpu_s;
  double checkpoint_interval_s;  /* tau: work between checkpoints */
  double checkpoint_s;           /* delta: time to write one */
  double restart_s;              /* R: detect, reschedule, reload */
} train_failures;
/* Mean time between failures of a job of n GPUs, s (INFINITY without failures). */
double train_job_mtbf_s(const train_failures *f, int gpus);
/* Expected work lost per failure, L above (for a stochastic simulation to match). */
double train_lost_per_failure_s(const train_failures *f);
/* E above, in [0, 1]. */
double train_effective_fraction(const train_failures *f, int gpus);
/* Young's optimum interval sqrt(2 delta M), s (INFINITY without failures). */
double train_young_interval_s(const train_failures *f, int gpus);
/* Wall-clock time of failure_free_s of work under f: failure_free_s / E
 * (INFINITY when E = 0). */
double train_time_with_failures_s(const train_failures *f, int gpus, double failure_free_s);

/* The whole run as real ones go (issue 15). Work W = failure-free steps
 * (iterations x iteration_s) + ramp-up + evaluations + stragglers; the
 * wall time T = W / E with E of train_failures above (checkpoints of
 * delta every tau of work, failures at N / MTBF), so that
 *   T = W + T delta / tau (checkpoints) + T L / M (failures: lost work and restarts).
 * Ramp-up (0: none):
 *   batch: Megatron-LM's --rampup-batch-size START INCREMENT SAMPLES: the
 *     global batch is START sequences, growing by INCREMENT every SAMPLES /
 *     K sequences, K = (global_batch - START) / INCREMENT stages; each
 *     stage's steps ceil(SAMPLES / K / batch) at that batch's iteration
 *     time. START and INCREMENT must be multiples of dp x micro_batch.
 *   sequence length: warm-up from seq_start tokens to seq_len, linear in
 *     steps over seq_tokens tokens (DeepSpeed's seqlen curriculum; Li et
 *     al. 2022, "The Stability-Efficiency Dilemma"), played in
 *     TRAIN_SEQ_RAMP_STAGES equal stages, lengths rounded to 8.
 *   ramp_up_s is the ramp's time beyond the same tokens at the steady
 *   rate (negative when short sequences are cheaper per token): the
 *   failure-free time already counts every token at the steady rate.
 * Evaluation: floor(iterations / eval_interval) evaluations of eval_iters
 *   forward-only iterations, each the iteration's compute, bubble and
 *   tensor/pipeline communication scaled by the forward share of its
 *   hardware FLOPs (model FLOPs / 3 over hardware FLOPs): no backward,
 *   recomputation, gradient reduction or optimizer.
 * Checkpoint: TRAIN_CHECKPOINT_BYTES_PER_PARAM x parameters; each GPU
 *   copies its shard (bytes / GPUs) to host memory over its host link
 *   (stage), the storage writes the whole at storage_gbps (write). Sync:
 *   delta = stage + write. Async (Megatron-Core --async-save, PyTorch DCP
 *   async_save): only the stage stalls training, plus what of the write
 *   outlasts the interval (the next save waits): delta = stage + max(0,
 *   write - tau). checkpoint_s >= 0 given replaces delta.
 * Stragglers: the slowest GPU's compute is straggler_slowdown slower and
 *   every step waits for it (one synchronous group), and every step waits
 *   for the slowest of its jittering units (straggler_jitter,
 *   train_straggler_wait_s): straggler_s = (slowdown x compute_s +
 *   train_straggler_wait_s(straggler_jitter)) x iterations. */
typedef struct {
  int ramp_batch_start, ramp_batch_increment;  /* sequences; 0: no batch ramp-up */
  double ramp_batch_samples;                   /* sequences the ramp-up lasts */
  int ramp_seq_start;                          /* tokens per sequence at first; 0: no warm-up */
  double ramp_seq_tokens;                      /* tokens the warm-up lasts */
  int eval_interval, eval_iters;               /* iterations; 0: no evaluation */
  double storage_gbps;                         /* aggregate write bandwidth, GB/s (0: TRAIN_STORAGE_GBPS_PER_GPU x GPUs) */
  bool async_checkpoint;
  double checkpoint_s;                         /* < 0: from the model's size (above); else delta as given */
  double checkpoint_interval_s;                /* tau; 0: Young's optimum (none without failures) */
  double mtbf_gpu_h;                           /* 0: no failures */
  double restart_s;
  double straggler_slowdown;                   /* >= 0 */
  double straggler_jitter;                          /* >= 0; TRAIN_DEFAULT_STRAGGLER_JITTER, 0: no jitter */
} train_whole;
/* TRAIN_DEFAULT_* above: failures at Llama 3's rate, evaluations as
 * Megatron-LM, checkpoints from the model's size, synchronous, Young's
 * interval; no ramp-up, no straggler. */
void train_whole_init(train_whole *w);

typedef struct {
  double failure_free_s, ramp_up_s, eval_s, straggler_s;  /* their sum is work_s */
  double work_s;
  double checkpoint_bytes, checkpoint_stage_s, checkpoint_write_s;  /* one checkpoint */
  double ramp_steps;          /* steps of the ramp-up phases */
  double evals;               /* evaluations */
  double eval_iteration_s;    /* one forward-only iteration */
  train_failures fl;          /* delta (checkpoint_s) and tau resolved */
  double checkpoint_time_s;   /* T delta / tau */
  double failure_time_s;      /* T L / M */
  double failures;            /* expected: T / M */
  double time_s;              /* T */
} train_whole_result;
/* The whole run of a job (with a concrete recomputation) whose iteration is
 * step and run is run (train_step, train_run). NULL, or the name of the
 * offending train_whole field ("ramp_batch_start", ...) with the reason
 * in msg. */
const char *train_whole_run(const train_job *j, const train_step_result *step, const train_run_result *run,
                            const train_whole *w, train_whole_result *out, char *msg, size_t n);

/* A run in phases (a long-context stage after pre-training, an annealing
 * stage: each its own sequence length, batch and layout on the same GPUs):
 * train_whole_run gives the first phase with its ramp-up; each later phase
 * adds its steps, evaluations and stragglers (no ramp-up) to o's work with
 * train_whole_add_phase, and train_whole_failures then recomputes the
 * checkpoints and failures over the whole work, as train_whole_run does at
 * its end. eval_iteration_s stays the first phase's. */
void train_whole_add_phase(const train_job *j, const train_step_result *step, const train_run_result *run,
                           const train_whole *w, train_whole_result *o);
void train_whole_failures(const train_job *j, const train_whole *w, train_whole_result *o);

/* E[max of n independent standard normals] (0 for n <= 1): n = 2 gives
 * 1 / sqrt(pi), n = 3 gives 3 / (2 sqrt(pi)). By quadrature. */
double train_expected_max_normal(double n);
/* Synchronous units of a step whose jitters are independent: GPUs / tp. */
double train_sync_units(const train_job *j);
/* The expected wait per iteration for the slowest unit, s: compute_s x
 * jitter / sqrt(micro_batches) x E[max of train_sync_units normals]
 * (TRAIN_DEFAULT_STRAGGLER_JITTER above); 0 when jitter <= 0. */
double train_straggler_wait_s(const train_job *j, const train_step_result *step, double jitter);

#endif
