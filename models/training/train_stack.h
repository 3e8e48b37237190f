/* models/training/train_stack.h: training stacks (Megatron-Core, DeepSpeed,
 * PyTorch FSDP, nanotron, Composer, ...) as catalog entries
 * (`train_stacks`, models/catalog/train_stacks.cfg): per GPU generation the
 * efficiency of the GEMMs, of fused attention and of FP8 GEMMs, and the
 * per-kernel launch cost a layer pays per micro-batch; which
 * communications the stack hides (tensor-parallel collectives under the
 * GEMMs, data-parallel gradient reduction under backward, the distributed
 * optimizer's parameter gather under forward, pipeline sends); and the
 * job settings it defaults (FlashAttention, fused cross-entropy, FSDP
 * prefetch, the precision of the gradient reduction). A job names one (train_job.stack); NULL is the simulator's
 * built-in numbers of before stacks existed (train_step.c's constants),
 * which the `composer` and `megatron-lm` entries reproduce for their runs. */
#ifndef TRAIN_STACK_H
#define TRAIN_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/gpu/gpu.h"
#include "models/training/train.h"
#include "sim/catalog.h"

/* GPU generations a profile gives numbers for, as each catalog GPU names
 * its own (gpus.cfg train_generation: "ampere", "hopper", "fallback",
 * "blackwell"; a stack's blackwell group is optional: its hopper one when
 * left out).
 * Accelerators with train_generation "none" (TPUs, Gaudi) run no GPU
 * stack: a job naming one on them fails train_job_check. */
enum { TRAIN_GEN_AMPERE = GPU_TRAIN_AMPERE, TRAIN_GEN_HOPPER = GPU_TRAIN_HOPPER,
       TRAIN_GEN_FALLBACK = GPU_TRAIN_FALLBACK, TRAIN_GEN_BLACKWELL = GPU_TRAIN_BLACKWELL, TRAIN_GENS };
/* "ampere", "hopper", "fallback", "blackwell"; NULL-terminated */
extern const char *const train_gen_names[];
/* The generation whose profile applies to g (TRAIN_GEN_*), or -1 for an
 * accelerator of train_generation "none". */
int train_stack_gen_of(const gpu_spec *g);

/* What a stack reaches on one generation. */
typedef struct {
  double gemm_efficiency;    /* linear layers, fraction of the dense peak of the GEMM precision */
  double attn_efficiency;    /* fused attention, fraction of the bf16/fp16 peak */
  double fp8_relative;       /* FP8 GEMMs reach this share of gemm_efficiency against the FP8 peak */
  double launch_us;          /* host time per kernel launch not hidden under the GPU's work, us */
  int64_t kernels_fwd, kernels_bwd;  /* kernels per layer and micro-batch, forward and backward */
  double dispatch_us;        /* host time to issue one kernel (Python, dispatcher, launch), us: it shows
                              * only where a layer's kernels take less GPU time (train_launch.c) */
} train_stack_gen;

typedef struct train_stack {
  const char *name;
  sim_names aliases;
  const char *description;
  const char *version;
  train_stack_gen gen[TRAIN_GENS];
  bool has_blackwell;        /* the blackwell group was written; else gen[TRAIN_GEN_BLACKWELL] = hopper's */
  bool cuda_graphs;          /* the layers run as CUDA graphs: launches cost nothing */
  double tp_overlap;         /* 0..1: share of the tensor-parallel collectives hidden under the layer's GEMMs */
  double dp_overlap;         /* 0..1: train_job.dp_overlap default (gradient reduction under backward) */
  double param_overlap;      /* 0..1: ZeRO 1/2 parameter all-gather hidden under the next forward */
  double pp_overlap;         /* 0..1: share of the pipeline sends on the critical path hidden */
  bool flash_attention, fused_cross_entropy;  /* job defaults */
  bool gemm_by_shape;        /* GEMM efficiency falls with small shapes (train_gemm.c); default true */
  int fsdp_prefetch;         /* TRAIN_PREFETCH_* default */
  int grad_reduce;           /* TRAIN_GRAD_REDUCE_* default (auto: by the training dtype) */
  double moe_capacity;       /* train_job.moe_capacity default (0: dropless) */
  bool moe_pad;              /* train_job.moe_pad default */
  const char *source, *efficiency_source, *launch_source, *overlap_source, *defaults_source;
} train_stack;

extern const sim_catalog_type train_stack_catalog;

/* The stack named `name`, or NULL after reporting against `key` (a
 * scenario key or a flag). */
const train_stack *train_stack_require(const sim_catalogs *cats, const char *name, sim_check *ck, const char *key);

/* Whether stack s can run on g: false, with the reason in msg, for an
 * accelerator of train_generation "none" (a GPU stack's numbers do not
 * describe it). */
bool train_stack_runs_on(const train_stack *s, const gpu_spec *g, char *msg, size_t n);
/* The profile of s for g's generation; g must pass train_stack_runs_on
 * (else a SIM_BUG). */
const train_stack_gen *train_stack_gen_for(const train_stack *s, const gpu_spec *g);

/* Launch time per layer and micro-batch of a stack on a GPU, forward and
 * backward, s: kernels x launch_us, 0 with CUDA graphs. */
double train_stack_launch_s(const train_stack *s, const gpu_spec *g, bool backward);

/* Name a stack for a job: j->stack = s and the job settings it defaults
 * (flash_attention, fused_cross_entropy, fsdp_prefetch, dp_overlap,
 * grad_reduce, moe_capacity, moe_pad). A
 * caller then writes the settings its user gave explicitly. */
void train_stack_apply(train_job *j, const train_stack *s);

#endif
