/* models/gpu/gpu.h: GPUs as catalog entries: dense peak throughput per
 * precision, memory, bandwidth, power, links and price, with the
 * achievable-efficiency factors measured for them. Numbers in SI units
 * (FLOP/s, bytes, bytes/s, W) through the accessors. */
#ifndef GPU_H
#define GPU_H

#include <stdint.h>

#include "models/interconnect/net.h"
#include "sim/catalog.h"

typedef enum {
  GPU_FP32, GPU_TF32, GPU_FP16, GPU_BF16, GPU_FP8, GPU_INT8, GPU_INT4, GPU_PRECISIONS
} gpu_precision;

/* Names as used in catalogs and flags: "fp32", "tf32", "fp16", ... */
extern const char *const gpu_precision_names[];  /* NULL-terminated */
/* Bytes per value stored in this precision (int4: 0.5). */
double gpu_precision_bytes(gpu_precision p);

/* Where an accelerator's training efficiencies come from (gpus.cfg
 * train_generation): one of the GPU generations that the training stacks
 * (models/catalog/train_stacks.cfg) and the step model's fitted constants
 * (models/training/train_step.c) give numbers for, or none: the entry's own
 * train_gemm_efficiency and train_attn_efficiency, and no GPU stack runs on
 * it (TPUs, Gaudi). Stated per entry, never inferred from the peaks. */
typedef enum { GPU_TRAIN_AMPERE, GPU_TRAIN_HOPPER, GPU_TRAIN_FALLBACK, GPU_TRAIN_BLACKWELL, GPU_TRAIN_NONE } gpu_train_gen;
/* "ampere", "hopper", "fallback", "blackwell", "none"; NULL-terminated */
extern const char *const gpu_train_gen_names[];

typedef struct {
  const char *name;
  sim_names aliases;
  const char *description;
  double peak_tflops[GPU_PRECISIONS];  /* dense; 0: unsupported */
  double mem_gib;
  double mem_bw_gbs;
  int64_t sms;                         /* streaming multiprocessors (AMD: compute units); 0: unknown */
  double tdp_w, idle_w;
  const char *power_source;
  const char *scaleup_link_name, *host_link_name;
  const net_link *scaleup_link;        /* NULL: none */
  const net_link *host_link;
  int64_t scaleup_gpus;                /* chips the scale-up link joins: a node (8), an NVL72 rack, a TPU slice */
  double price_usd_per_hour;           /* 0: no price known */
  const char *price_source;
  const char *price_provider, *price_date;  /* date: YYYY, YYYY-MM or YYYY-MM-DD */
  double purchase_usd;                 /* list price of one GPU; 0: unknown */
  const char *purchase_source, *purchase_date;
  double compute_efficiency, memory_efficiency;
  const char *efficiency_source;
  int train_generation;                /* gpu_train_gen */
  bool has_train_generation;           /* written in the entry (else inferred from the peaks: gpu_resolve) */
  double train_gemm_efficiency;        /* train_generation none: training GEMMs, fraction of the dense peak */
  double train_attn_efficiency;        /* train_generation none: fused attention, fraction of the bf16 peak */
  const char *train_efficiency_source;
  const char *source;
} gpu_spec;

/* Peak dense FLOP/s in precision p (0 if unsupported). */
double gpu_peak_flops(const gpu_spec *g, gpu_precision p);
/* The precision GEMMs run in for weights stored in p: p itself, except int4
 * (weight-only quantisation, computed in fp16) and formats the GPU lacks
 * (bf16 on V100/T4 runs as fp16; fp8 without fp8 units runs as fp16). */
gpu_precision gpu_compute_precision(const gpu_spec *g, gpu_precision p);
double gpu_mem_bytes(const gpu_spec *g);
double gpu_mem_bw(const gpu_spec *g);          /* peak bytes/s */

extern const sim_catalog_type gpu_catalog;

#endif
