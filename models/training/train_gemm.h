/* models/training/train_gemm.h: how much longer a training layer's GEMMs
 * take at their real shapes than at the large shapes the training GEMM
 * efficiency (train_step.c's built-in numbers, a stack's gemm_efficiency)
 * stands for, from the serving core's GEMM shape model (models/llm/kernels.h).
 * Pure functions of the job; no allocation, no state. */
#ifndef TRAIN_GEMM_H
#define TRAIN_GEMM_H

#include "models/gpu/gpu.h"
#include "models/training/train.h"

/* The reference shape: tokens m, output columns n, inner size k of the
 * GEMM the catalogs' compute_efficiency was measured on (Llama-2-7B's
 * gate+up projection at 4,096 tokens, Vidur; models/llm/kernels.c), where
 * the kernel model gives the catalog's value within 1% (A100) and 2%
 * (H100). Training efficiencies were fitted on GEMMs this large or larger,
 * so the ratio is taken against it: counted, not fitted. */
#define TRAIN_GEMM_REF_M 4096.0
#define TRAIN_GEMM_REF_N 22016.0
#define TRAIN_GEMM_REF_K 4096.0

/* The kernel model's efficiency for a GEMM of m tokens x (k -> n) in
 * precision p, over its efficiency at the reference shape: the share of the
 * training efficiency this shape keeps. 1 at the reference shape; up to
 * ~1.02 at larger shapes (less memory cost on H100), below 1 for small. */
double train_gemm_shape_ratio(const gpu_spec *g, gpu_precision p, double m, double n, double k);

/* Time multipliers (>= ~1) of one GEMM m x (k -> n) forward (Y = X W) and
 * backward (dX = dY W^T: m x (n -> k); dW = X^T dY: k x (m -> n)),
 * FLOP-weighted harmonic means of train_gemm_shape_ratio's inverse. */
typedef struct {
  double fwd, bwd;
} train_gemm_scale;
void train_gemm_scale_of(const gpu_spec *g, gpu_precision p, double m, double n, double k, train_gemm_scale *out);

/* The same over one layer's linear layers for one micro-batch of `tokens`
 * on one GPU of job j, weighted by FLOPs: QKV (hidden -> (q + 2 kv) / tp),
 * output projection (q / tp -> hidden), MLP up (hidden -> ffn / tp, twice
 * for gated) and down (ffn / tp -> hidden), routed experts at their mean
 * tokens per expert; in the precision the job's GEMMs run in. Both 1 when
 * the job's stack sets gemm_by_shape = false. */
void train_gemm_layer_scale(const train_job *j, double tokens, train_gemm_scale *out);
/* The same for the output head (tokens x (hidden -> vocab / tp)); 1 as above. */
void train_gemm_head_scale(const train_job *j, double tokens, train_gemm_scale *out);

#endif
