/* models/validation/kernels/kpoints.h: the kernel benchmark points of
 * points.csv (read with libcsv) and what the shape model predicts for each,
 * shared by the fitting program and the case recomputation. A tool of the
 * validation folder, not part of the simulator. */
#ifndef KPOINTS_H
#define KPOINTS_H

#include <stdbool.h>
#include <stddef.h>

#include "models/gpu/gpu.h"
#include "models/llm/kernels.h"
#include "sim/catalog.h"

typedef enum { KP_GEMM, KP_PREFILL, KP_DECODE } kp_kind;

typedef struct {
  char *id, *role, *gpu_name, *kernel, *dtype, *unit, *source;
  kp_kind kind;
  bool causal;              /* prefill: causal kernel */
  double m, n, k, seq, head_dim, batch, ctx, bytes, measured;
  const gpu_spec *gpu;      /* NULL when not in the catalog (b200: ratios only) */
} kpoint;

typedef struct {
  kpoint *v;
  size_t n;
} kpoints;

/* Read `path` into pts, resolving GPUs in cats; false (after a message on
 * stderr) if the file is unreadable or malformed. */
bool kp_read(kpoints *pts, const char *path, const sim_catalogs *cats);
void kp_free(kpoints *pts);

/* The shape model's prediction for p in p's own unit (ms, us or TFLOP/s);
 * NAN when the point has no catalog GPU. Prefill rows marked non-causal are
 * predicted without the causal factor. */
double kp_predict(const llm_kernel_params *k, const kpoint *p);

#endif
