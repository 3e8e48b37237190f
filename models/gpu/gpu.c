/* models/gpu/gpu.c: GPU accessors and the `gpus` catalog type (keys,
 * checks, link resolution, `clustersim list gpus`). */
#include "models/gpu/gpu.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

const char *const gpu_train_gen_names[] = {"ampere", "hopper", "fallback", "blackwell", "none", NULL};

const char *const gpu_precision_names[] = {"fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4", NULL};

double gpu_precision_bytes(gpu_precision p)
{
  static const double bytes[GPU_PRECISIONS] = {4, 4, 2, 2, 1, 1, 0.5};
  return bytes[p];
}

double gpu_peak_flops(const gpu_spec *g, gpu_precision p) { return g->peak_tflops[p] * 1e12; }

gpu_precision gpu_compute_precision(const gpu_spec *g, gpu_precision p)
{
  if (p == GPU_INT4) return GPU_FP16;
  if (g->peak_tflops[p] > 0) return p;
  if (p == GPU_TF32) return GPU_FP32;
  return GPU_FP16;
}

double gpu_mem_bytes(const gpu_spec *g) { return g->mem_gib * 1073741824.0; }
double gpu_mem_bw(const gpu_spec *g) { return g->mem_bw_gbs * 1e9; }

#define PEAK(p, key) \
  {.name = key, .kind = SIM_KEY_FLOAT, .offset = offsetof(gpu_spec, peak_tflops) + (p) * sizeof(double), \
   .min = 0, .max = 1e5, .def = 0, .unit = "TFLOP/s", .help = "dense peak, " key " (0: unsupported)"}

static const sim_key peak_keys[] = {
  PEAK(GPU_FP32, "fp32"), PEAK(GPU_TF32, "tf32"), PEAK(GPU_FP16, "fp16"), PEAK(GPU_BF16, "bf16"),
  PEAK(GPU_FP8, "fp8"),   PEAK(GPU_INT8, "int8"), PEAK(GPU_INT4, "int4"), SIM_KEY_END,
};

#define F(field, key, req, lo, hi, unit_, help_) \
  {.name = key, .kind = SIM_KEY_FLOAT, .offset = offsetof(gpu_spec, field), .required = req, .min = lo, \
   .max = hi, .unit = unit_, .help = help_}
#define S(field, key, req, help_) \
  {.name = key, .kind = SIM_KEY_STRING, .offset = offsetof(gpu_spec, field), .required = req, .def_str = "", \
   .help = help_}

static const sim_key gpu_keys[] = {
  S(name, "name", true, "catalog name, lowercase and hyphenated"),
  {.name = "aliases", .kind = SIM_KEY_NAMES, .offset = offsetof(gpu_spec, aliases), .help = "other names"},
  S(description, "description", false, "free text"),
  {.name = "peak_tflops", .kind = SIM_KEY_GROUP, .group = peak_keys, .required = true,
   .help = "dense peak per precision"},
  F(mem_gib, "mem_gib", true, 0.1, 1e5, "GiB", "memory capacity"),
  F(mem_bw_gbs, "mem_bw_gbs", true, 1, 1e6, "GB/s", "peak memory bandwidth"),
  {.name = "sms", .kind = SIM_KEY_INT, .offset = offsetof(gpu_spec, sms), .def = 0, .min = 0, .max = 100000,
   .help = "streaming multiprocessors (AMD: compute units), for wave quantisation (0: unknown)"},
  F(tdp_w, "tdp_w", true, 1, 1e5, "W", "board power"),
  F(idle_w, "idle_w", true, 0, 1e5, "W", "idle power"),
  S(power_source, "power_source", true, "source of the power figures"),
  S(scaleup_link_name, "scaleup_link", true, "link between the GPUs of a node, or \"none\""),
  S(host_link_name, "host_link", true, "link to the host"),
  {.name = "scaleup_gpus", .kind = SIM_KEY_INT, .offset = offsetof(gpu_spec, scaleup_gpus), .def = 8, .min = 1,
   .max = 1000000, .help = "chips one scale-up domain joins: an HGX node (8), a TPU slice (v5e 256); the default of "
   "estimate --gpus-per-node"},
  F(price_usd_per_hour, "price_usd_per_hour", true, 0, 1e4, "USD/h",
    "reference on-demand price per GPU-hour (0: none; costs are then null)"),
  S(price_source, "price_source", true, "where the price comes from: provider, instance, date, page"),
  S(price_provider, "price_provider", true, "who rents at that price (\"CoreWeave\", \"RunPod\")"),
  S(price_date, "price_date", true, "when the price held: YYYY, YYYY-MM or YYYY-MM-DD"),
  F(purchase_usd, "purchase_usd", false, 0, 1e7, "USD", "list price of one GPU (0: unknown)"),
  S(purchase_source, "purchase_source", false, "where purchase_usd comes from"),
  S(purchase_date, "purchase_date", false, "when purchase_usd held: YYYY, YYYY-MM or YYYY-MM-DD"),
  {.name = "compute_efficiency", .kind = SIM_KEY_FLOAT, .offset = offsetof(gpu_spec, compute_efficiency),
   .required = true, .min = 0.01, .max = 1, .help = "achievable fraction of peak FLOP/s"},
  {.name = "memory_efficiency", .kind = SIM_KEY_FLOAT, .offset = offsetof(gpu_spec, memory_efficiency),
   .required = true, .min = 0.01, .max = 1, .help = "achievable fraction of peak bandwidth"},
  S(efficiency_source, "efficiency_source", true, "measurement the efficiencies come from"),
  {.name = "train_generation", .kind = SIM_KEY_ENUM, .offset = offsetof(gpu_spec, train_generation),
   .choices = gpu_train_gen_names, .def_str = "none", .has_present = true,
   .present_offset = offsetof(gpu_spec, has_train_generation),
   .help = "training efficiencies of a fitted GPU generation (ampere, hopper, fallback, blackwell: the step model's and the "
   "training stacks' numbers for it), or none: the entry's own train_gemm_efficiency and train_attn_efficiency "
   "(no GPU training stack runs on it; without them the entry cannot train)"},
  {.name = "train_gemm_efficiency", .kind = SIM_KEY_FLOAT, .offset = offsetof(gpu_spec, train_gemm_efficiency),
   .min = 0, .max = 1, .def = 0,
   .help = "train_generation none: fraction of the dense peak that training GEMMs reach (0: not given, so that "
           "a change can move a shipped TPU to a GPU generation)"},
  {.name = "train_attn_efficiency", .kind = SIM_KEY_FLOAT, .offset = offsetof(gpu_spec, train_attn_efficiency),
   .min = 0, .max = 1, .def = 0,
   .help = "train_generation none: fraction of the bf16 peak that fused attention reaches in training (0: not "
           "given)"},
  S(train_efficiency_source, "train_efficiency_source", true,
    "which training runs the training efficiencies were fitted on, or why they are assumed"),
  S(source, "source", true, "datasheet"),
  SIM_KEY_END,
};


static void gpu_check(const void *entry, sim_check *ck)
{
  const gpu_spec *g = entry;
  if (g->price_date && *g->price_date && !sim_catalog_date_ok(g->price_date))
    sim_check_fail(ck, "price_date", "\"%s\" is not a date (expected YYYY, YYYY-MM or YYYY-MM-DD)", g->price_date);
  if (g->purchase_date && *g->purchase_date && !sim_catalog_date_ok(g->purchase_date))
    sim_check_fail(ck, "purchase_date", "\"%s\" is not a date (expected YYYY, YYYY-MM or YYYY-MM-DD)",
                   g->purchase_date);
  if (g->peak_tflops[GPU_FP16] <= 0 && g->peak_tflops[GPU_FP32] <= 0)
    sim_check_fail(ck, "peak_tflops", "needs at least fp16 or fp32");
  if (g->idle_w > g->tdp_w) sim_check_fail(ck, "idle_w", "exceeds tdp_w (%g W)", g->tdp_w);
  /* training efficiencies: a fitted generation's, or the entry's own pair
   * (an entry that states neither gets a generation inferred, gpu_resolve) */
  bool own_gemm = g->train_gemm_efficiency > 0, own_attn = g->train_attn_efficiency > 0;
  if (g->train_generation != GPU_TRAIN_NONE) {
    if (own_gemm || own_attn)
      sim_check_fail(ck, own_gemm ? "train_gemm_efficiency" : "train_attn_efficiency",
                     "given with train_generation \"%s\", whose fitted values apply (expected one or the other: "
                     "train_generation \"none\" with its own values; a change that moves an entry with its own "
                     "values to a generation writes train_gemm_efficiency = 0 and train_attn_efficiency = 0)",
                     gpu_train_gen_names[g->train_generation]);
  } else if (own_gemm != own_attn) {
    sim_check_fail(ck, own_gemm ? "train_attn_efficiency" : "train_gemm_efficiency",
                   "missing (expected train_gemm_efficiency and train_attn_efficiency together)");
  }
}

static void gpu_resolve(void *entry, const sim_catalogs *cats, sim_check *ck)
{
  gpu_spec *g = entry;
  char names[1024];
  /* an entry that states no training efficiency (a user's catalog written
   * before train_generation existed) keeps training as it did: as the
   * generation its peaks suggest (FP8 units: hopper; bf16: ampere; else
   * fallback). The missing-sources warning of a user's entry names
   * train_efficiency_source; the shipped entries all state theirs. */
  if (!g->has_train_generation && !(g->train_gemm_efficiency > 0) && !(g->train_attn_efficiency > 0))
    g->train_generation = g->peak_tflops[GPU_FP8] > 0    ? GPU_TRAIN_HOPPER
                          : g->peak_tflops[GPU_BF16] > 0 ? GPU_TRAIN_AMPERE
                                                         : GPU_TRAIN_FALLBACK;
  g->scaleup_link = NULL;
  g->host_link = NULL;
  /* an entry that failed its own checks may lack the names */
  if (!g->scaleup_link_name || !g->host_link_name) return;
  if (strcmp(g->scaleup_link_name, "none") != 0) {
    g->scaleup_link = sim_catalog_find(cats, "links", g->scaleup_link_name);
    if (!g->scaleup_link) {
      sim_catalog_names(cats, "links", names, sizeof names);
      sim_check_fail(ck, "scaleup_link", "unknown link \"%s\" (expected \"none\" or one of: %s)",
                     g->scaleup_link_name, names);
    }
  }
  g->host_link = sim_catalog_find(cats, "links", g->host_link_name);
  if (!g->host_link) {
    sim_catalog_names(cats, "links", names, sizeof names);
    sim_check_fail(ck, "host_link", "unknown link \"%s\" (expected one of: %s)", g->host_link_name, names);
  }
}

static void gpu_line(const void *entry, char *buf, size_t n)
{
  const gpu_spec *g = entry;
  char price[32] = "     -";
  if (g->price_usd_per_hour > 0) snprintf(price, sizeof price, "%6.2f", g->price_usd_per_hour);
  snprintf(buf, n, "%-14s %8.1f %8.1f %7.1f %8.0f %6.0f  %-9s %-6s %s  %s", g->name, g->peak_tflops[GPU_FP16],
           g->peak_tflops[GPU_FP8], g->mem_gib, g->mem_bw_gbs, g->tdp_w, g->scaleup_link_name, g->host_link_name,
           price, g->description);
}

static const char *const gpu_source_keys[] = {
  "source", "power_source", "efficiency_source", "price_usd_per_hour", "price_source", "price_provider",
  "price_date", "train_efficiency_source", NULL,
};

const sim_catalog_type gpu_catalog = {
  .list = "gpus",
  .what = "GPU",
  .schema = gpu_keys,
  .entry_size = sizeof(gpu_spec),
  .name_offset = offsetof(gpu_spec, name),
  .aliases_offset = offsetof(gpu_spec, aliases),
  .check = gpu_check,
  .resolve = gpu_resolve,
  .source_keys = gpu_source_keys,
  .list_header = "name           fp16 TF   fp8 TF mem GiB     GB/s      W  scale-up  host     $/h  description",
  .list_line = gpu_line,
};
