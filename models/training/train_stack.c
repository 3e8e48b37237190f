/* models/training/train_stack.c: the `train_stacks` catalog type (keys,
 * checks, `clustersim list train_stacks`), the GPU generation a profile's
 * numbers apply to (the GPU's own catalog train_generation; none of them on
 * TPUs and Gaudi), and train_stack_apply, which names a stack for a job
 * (see train_stack.h). The step model (train_step.c) reads the job's
 * stack at each call; nothing here runs per event. */
#include "models/training/train_stack.h"

#include <stddef.h>
#include <stdio.h>

#include "sim/util.h"

const char *const train_gen_names[] = {"ampere", "hopper", "fallback", "blackwell", NULL};

int train_stack_gen_of(const gpu_spec *g)
{
  return g->train_generation >= 0 && g->train_generation < TRAIN_GENS ? g->train_generation : -1;
}

bool train_stack_runs_on(const train_stack *s, const gpu_spec *g, char *msg, size_t n)
{
  if (!s || train_stack_gen_of(g) >= 0) return true;
  snprintf(msg, n, "training stack \"%s\" profiles GPUs (ampere, hopper, fallback, blackwell); %s has train_generation "
           "\"none\" and its own training efficiencies (gemm %g, attention %g; its train_efficiency_source says "
           "where from): run it without a stack", s->name, g->name, g->train_gemm_efficiency,
           g->train_attn_efficiency);
  return false;
}

const train_stack_gen *train_stack_gen_for(const train_stack *s, const gpu_spec *g)
{
  int gen = train_stack_gen_of(g);
  if (gen < 0) SIM_BUG("training stack %s on %s (train_generation none): refused by train_job_check", s->name, g->name);
  return &s->gen[gen];
}

#define GF(field, key, lo, hi, unit_, help_) \
  {.name = key, .kind = SIM_KEY_FLOAT, .offset = offsetof(train_stack_gen, field), .required = true, .min = lo, \
   .max = hi, .unit = unit_, .help = help_}
#define GI(field, key, lo, hi, help_) \
  {.name = key, .kind = SIM_KEY_INT, .offset = offsetof(train_stack_gen, field), .required = true, .min = lo, \
   .max = hi, .help = help_}

static const sim_key gen_keys[] = {
  GF(gemm_efficiency, "gemm_efficiency", 0.01, 1, NULL,
     "linear layers: fraction of the dense peak of their precision that training GEMMs reach"),
  GF(attn_efficiency, "attn_efficiency", 0.01, 1, NULL, "fused attention (FlashAttention): fraction of the bf16 peak"),
  GF(fp8_relative, "fp8_relative", 0.01, 1, NULL,
     "FP8 GEMMs reach this share of gemm_efficiency against the (twice as high) FP8 peak"),
  GF(launch_us, "launch_us", 0, 1e4, "us", "host time per kernel launch that the GPU's work does not hide"),
  GI(kernels_fwd, "kernels_fwd", 0, 1e5, "kernels one layer launches per micro-batch, forward"),
  GI(kernels_bwd, "kernels_bwd", 0, 1e5, "kernels one layer launches per micro-batch, backward"),
  {.name = "dispatch_us", .kind = SIM_KEY_FLOAT, .offset = offsetof(train_stack_gen, dispatch_us), .min = 0,
   .max = 1e4, .unit = "us", .help = "host time to issue one kernel; costs only what exceeds the layer's GPU work"},
  SIM_KEY_END,
};

#define F(field, key, lo, hi, help_) \
  {.name = key, .kind = SIM_KEY_FLOAT, .offset = offsetof(train_stack, field), .required = true, .min = lo, \
   .max = hi, .help = help_}
#define B(field, key, help_) \
  {.name = key, .kind = SIM_KEY_BOOL, .offset = offsetof(train_stack, field), .required = true, .help = help_}
#define S(field, key, req, help_) \
  {.name = key, .kind = SIM_KEY_STRING, .offset = offsetof(train_stack, field), .required = req, .def_str = "", \
   .help = help_}
#define G(gen, key) \
  {.name = key, .kind = SIM_KEY_GROUP, .offset = offsetof(train_stack, gen), .required = true, .group = gen_keys, \
   .help = "efficiencies and launches on " key " GPUs"}

static const sim_key stack_keys[] = {
  S(name, "name", true, "catalog name, lowercase and hyphenated"),
  {.name = "aliases", .kind = SIM_KEY_NAMES, .offset = offsetof(train_stack, aliases), .help = "other names"},
  S(description, "description", false, "free text"),
  S(version, "version", true, "framework versions the profile describes"),
  G(gen[TRAIN_GEN_AMPERE], "ampere"),
  G(gen[TRAIN_GEN_HOPPER], "hopper"),
  G(gen[TRAIN_GEN_FALLBACK], "fallback"),
  {.name = "blackwell", .kind = SIM_KEY_GROUP, .offset = offsetof(train_stack, gen[TRAIN_GEN_BLACKWELL]),
   .group = gen_keys, .has_present = true, .present_offset = offsetof(train_stack, has_blackwell),
   .help = "efficiencies and launches on blackwell GPUs (optional: the hopper group's when left out)"},
  B(cuda_graphs, "cuda_graphs", "layers captured as CUDA graphs: no launch cost"),
  F(tp_overlap, "tp_overlap", 0, 1, "share of the tensor-parallel collectives hidden under the layer's GEMMs"),
  F(dp_overlap, "dp_overlap", 0, 1, "dp_overlap default: share of the gradient reduction that may hide under backward"),
  F(param_overlap, "param_overlap", 0, 1,
    "ZeRO 1/2: share of the parameter all-gather hidden under the next iteration's forward"),
  F(pp_overlap, "pp_overlap", 0, 1, "share of the pipeline sends on the critical path hidden under compute"),
  B(flash_attention, "flash_attention", "flash_attention default"),
  B(fused_cross_entropy, "fused_cross_entropy", "fused_cross_entropy default"),
  {.name = "gemm_by_shape", .kind = SIM_KEY_BOOL, .offset = offsetof(train_stack, gemm_by_shape), .def = 1,
   .help = "GEMMs of small shapes reach less than gemm_efficiency, as the kernel model says (default true)"},
  {.name = "fsdp_prefetch", .kind = SIM_KEY_ENUM, .offset = offsetof(train_stack, fsdp_prefetch), .required = true,
   .choices = train_prefetch_names, .help = "fsdp_prefetch default: pre (PyTorch) or post (Composer)"},
  {.name = "grad_reduce_dtype", .kind = SIM_KEY_ENUM, .offset = offsetof(train_stack, grad_reduce),
   .def_str = "auto", .choices = train_grad_reduce_names,
   .help = "grad_reduce_dtype default: fp32, bf16, fp16, or auto (fp32 for bf16/fp8 training, as Megatron-LM)"},
  {.name = "moe_capacity_factor", .kind = SIM_KEY_FLOAT, .offset = offsetof(train_stack, moe_capacity), .def = 0,
   .min = 0, .max = 1000,
   .help = "moe_capacity_factor default: an expert's tokens are capped at this times the mean (0: dropless)"},
  {.name = "moe_pad_to_capacity", .kind = SIM_KEY_BOOL, .offset = offsetof(train_stack, moe_pad), .def = 0,
   .help = "moe_pad_to_capacity default: every expert computes and exchanges exactly its capacity"},
  S(source, "source", true, "the framework's repository or documentation at the named version"),
  S(efficiency_source, "efficiency_source", true, "where the efficiencies come from (which rows fitted them)"),
  S(launch_source, "launch_source", true, "where the launch cost and kernel counts come from"),
  S(overlap_source, "overlap_source", true, "where the overlaps come from"),
  S(defaults_source, "defaults_source", true, "where the job defaults come from"),
  SIM_KEY_END,
};

static void stack_check(const void *entry, sim_check *ck)
{
  const train_stack *s = entry;
  if (s->moe_pad && !(s->moe_capacity > 0))
    sim_check_fail(ck, "moe_pad_to_capacity", "true with no moe_capacity_factor (expected a capacity factor > 0 to "
                   "pad to)");
  for (int g = 0; g < TRAIN_GENS; g++)
    if (s->gen[g].launch_us > 0 && s->gen[g].kernels_fwd + s->gen[g].kernels_bwd == 0)
      sim_check_fail(ck, train_gen_names[g], "launch_us %g with no kernels (expected kernels_fwd or kernels_bwd > 0)",
                     s->gen[g].launch_us);
}

/* A stack written before the blackwell column existed runs Blackwell GPUs
 * with its Hopper numbers. A blackwell group is whole: a user's change that
 * writes part of one onto a shipped stack (which has none) would leave the
 * rest at 0, and is refused. */
static void stack_resolve(void *entry, const sim_catalogs *cats, sim_check *ck)
{
  (void)cats;
  train_stack *s = entry;
  if (!s->has_blackwell) {
    s->gen[TRAIN_GEN_BLACKWELL] = s->gen[TRAIN_GEN_HOPPER];
    return;
  }
  const train_stack_gen *b = &s->gen[TRAIN_GEN_BLACKWELL];
  if (!(b->gemm_efficiency > 0) || !(b->attn_efficiency > 0) || !(b->fp8_relative > 0))
    sim_check_fail(ck, "blackwell", "gemm_efficiency, attn_efficiency and fp8_relative must all be written (> 0): "
                   "a blackwell group does not take what it leaves out from the hopper one (expected the whole "
                   "group, e.g. the hopper group's values with the ones to change)");
}

static void stack_line(const void *entry, char *buf, size_t n)
{
  const train_stack *s = entry;
  const train_stack_gen *a = &s->gen[TRAIN_GEN_AMPERE], *h = &s->gen[TRAIN_GEN_HOPPER];
  snprintf(buf, n, "%-16s %4.2f %4.2f  %4.2f %4.2f %4.2f  %5.1f %-6s  %4.2f %4.2f %4.2f %4.2f  %s", s->name,
           a->gemm_efficiency, a->attn_efficiency, h->gemm_efficiency, h->attn_efficiency, h->fp8_relative,
           h->launch_us * (double)(h->kernels_fwd + h->kernels_bwd), s->cuda_graphs ? "graphs" : "eager",
           s->tp_overlap, s->dp_overlap, s->param_overlap, s->pp_overlap, s->version);
}

static const char *const stack_source_keys[] = {
  "source", "efficiency_source", "launch_source", "overlap_source", "defaults_source", NULL,
};

const sim_catalog_type train_stack_catalog = {
  .list = "train_stacks",
  .what = "training stack",
  .schema = stack_keys,
  .entry_size = sizeof(train_stack),
  .name_offset = offsetof(train_stack, name),
  .aliases_offset = offsetof(train_stack, aliases),
  .check = stack_check,
  .resolve = stack_resolve,
  .source_keys = stack_source_keys,
  .list_header = "name             A100 gemm attn  H100 gemm attn fp8  launch/layer us  tp   dp   param pp    version",
  .list_line = stack_line,
};

const train_stack *train_stack_require(const sim_catalogs *cats, const char *name, sim_check *ck, const char *key)
{
  return sim_catalog_require(cats, "train_stacks", "training stack", name, ck, key);
}

double train_stack_launch_s(const train_stack *s, const gpu_spec *g, bool backward)
{
  if (!s || s->cuda_graphs) return 0;
  const train_stack_gen *k = train_stack_gen_for(s, g);
  return (double)(backward ? k->kernels_bwd : k->kernels_fwd) * k->launch_us * 1e-6;
}

void train_stack_apply(train_job *j, const train_stack *s)
{
  j->stack = s;
  if (!s) return;
  j->flash_attention = s->flash_attention;
  j->fused_cross_entropy = s->fused_cross_entropy;
  j->fsdp_prefetch = s->fsdp_prefetch;
  j->grad_reduce = s->grad_reduce;
  j->dp_overlap = s->dp_overlap;
  j->moe_capacity = s->moe_capacity;
  j->moe_pad = s->moe_pad;
}
