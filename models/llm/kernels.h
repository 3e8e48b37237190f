/* models/llm/kernels.h: how close a GEMM or an attention kernel of a given
 * SHAPE comes to the GPU's peak, as pure functions of the shape and the
 * catalog entry. The catalogs' compute_efficiency and memory_efficiency were
 * measured on large shapes; these functions tend to them for large shapes
 * and fall below them where real kernels do: small token counts (a GEMM of
 * m tokens against a weight matrix is bound by reading the weights near and
 * below the GPU's ridge point), tile and wave quantisation over the SMs,
 * short prompts and small heads in FlashAttention, and the fixed cost of a
 * small paged-decode kernel. No allocation, no state, O(1) per call.
 *
 * The constants are fitted on public kernel benchmarks only
 * (models/validation/kernels/: points.csv with FIT and HELD-OUT rows, and
 * the GSL program that fits them); see kernels.c for each constant and
 * what it was fitted on. */
#ifndef LLM_KERNELS_H
#define LLM_KERNELS_H

#include "models/gpu/gpu.h"

/* The free constants of the shape model; llm_kernels_fitted holds the
 * values fitted on models/validation/kernels/points.csv. */
typedef struct {
  double gemm_quant_exp;      /* exponent on the tile/wave utilisation (0: ignored, 1: full) */
  double gemm_roofline_p;     /* sharpness of the compute/memory transition (inf = max) */
  double attn_level;          /* FlashAttention forward at long, 128-wide heads / compute_efficiency */
  double attn_seq0;           /* tokens: sequence length at which the ramp reaches half */
  double attn_causal0;        /* tokens: the same for the extra cost of causal masking */
  double attn_hd0;            /* head-dim ramp constant */
  double decode_bw_eff;       /* paged decode attention: fraction of peak bandwidth, large reads */
  double decode_fixed_s;      /* paged decode attention: fixed time of one kernel, s */
  double gemm_fixed_s;        /* a GEMM kernel's fixed time (prologue, tail, launch under CUDA graphs), s */
} llm_kernel_params;

extern const llm_kernel_params llm_kernels_fitted;

/* CTA tile (rows x columns of the output) the GEMM model assumes: 128 x 128
 * for large m (cuBLAS/CUTLASS's usual Ampere/Hopper tile); for m < 128 the
 * row tile shrinks to the power of two >= m (at least 16), as the small-m
 * kernels do. */
#define LLM_GEMM_TILE 128.0
/* Bytes of KV cache per token per layer the (batch, ctx) form of the decode
 * efficiency assumes: 8 KV heads of 128 in 16 bits, K and V (Llama 3 8B/70B,
 * Qwen, Mistral at tp = 1). */
#define LLM_DECODE_REF_BYTES_PER_TOKEN 4096.0

/* Fraction of peak FLOP/s (g's peak in precision p, the precision the GEMM
 * RUNS in) a GEMM D[m,n] = A[m,k] B[k,n] reaches, m = tokens, n x k the
 * weight. In (0, 1]; -> g->compute_efficiency as m, n, k grow. Already
 * includes the slowdown near the memory roofline, so the caller's
 * max(compute, memory) stays right; g->sms = 0 (unknown) drops the wave term. */
double llm_gemm_efficiency(const gpu_spec *g, gpu_precision p, double m, double n, double k);

/* Fraction of peak (16-bit) FLOP/s of a FlashAttention forward over a
 * causal prompt of `seq` tokens with heads of `head_dim`, FLOPs counted on
 * the attended (lower-triangle) positions as llm_step does. In (0, 1];
 * -> min(compute_efficiency, attn_level x compute_efficiency) for long
 * prompts of 128-wide heads. */
double llm_attn_prefill_efficiency(const gpu_spec *g, double seq, double head_dim);

/* Fraction of peak memory bandwidth of one paged decode-attention kernel
 * reading `kv_bytes` of KV cache (one layer, one GPU): a fixed kernel time
 * plus the bytes at decode_bw_eff of peak. In (0, 1]. */
double llm_attn_decode_efficiency_bytes(const gpu_spec *g, double kv_bytes);
/* The same for `batch` sequences of `ctx` tokens each, assuming
 * LLM_DECODE_REF_BYTES_PER_TOKEN per token (prefer the bytes form when the
 * model's KV width is known). */
double llm_attn_decode_efficiency(const gpu_spec *g, double batch, double ctx);

/* The functions above with explicit constants (for the fitting program and
 * the tests); the plain forms use llm_kernels_fitted. */
double llm_gemm_efficiency_with(const llm_kernel_params *k, const gpu_spec *g, gpu_precision p,
                                double m, double n, double kk);
double llm_attn_prefill_efficiency_with(const llm_kernel_params *k, const gpu_spec *g, double seq,
                                        double head_dim);
double llm_attn_decode_efficiency_bytes_with(const llm_kernel_params *k, const gpu_spec *g,
                                             double kv_bytes);

/* Tile/wave utilisation of the GEMM (the share of the SMs' tile slots that
 * do useful work, best over split-K 1, 2, 4, 8), the term raised to
 * gemm_quant_exp. In (0, 1]; 1 when every wave is full and m, n fill their
 * tiles. Exposed for tests and the validation tools. */
double llm_gemm_tile_utilisation(double sms, double m, double n, double k);

#endif
