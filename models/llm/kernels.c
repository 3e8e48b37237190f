/* models/llm/kernels.c: the GEMM and attention shape model (see kernels.h).
 * Pure functions of the shape and the catalog entry; the constants below are
 * the only fitted numbers, each with what it was fitted on. Nothing here
 * knows about batches, replicas or the engine.
 *
 * GEMM, m tokens x (k -> n) weight, in precision p:
 *   q   = tile/wave utilisation (llm_gemm_tile_utilisation)
 *   e_q = compute_efficiency x q^gemm_quant_exp
 *   t_c = 2 m n k / (peak x e_q)             compute at that efficiency
 *   t_m = bytes / (bandwidth x memory_efficiency), bytes = (m k + k n) w + 2 m n
 *   t   = (t_c^P + t_m^P)^(1/P) + t_0        P = gemm_roofline_p, t_0 = gemm_fixed_s
 *   efficiency = 2 m n k / (peak x t)
 * so efficiency -> compute_efficiency when m, n, k grow (q -> 1,
 * t_c >> t_m, t_c >> t_0): the catalog stays the anchor, and at the shape the catalog
 * was measured on (Llama-2-7B's gate+up GEMM at 4,096 tokens) the shape
 * model gives the catalog's value within 1% (A100) and 2% (H100, whose
 * higher ridge point leaves 1.8% of memory cost at that shape).
 *
 * Prefill attention (FlashAttention forward, causal, FLOPs counted on the
 * attended positions):
 *   efficiency = compute_efficiency x min(1, attn_level x h(hd) x s/(s + s0) x s/(s + c0))
 *   h(hd) = [hd / (hd + h0)] / [128 / (128 + h0)]
 * s/(s + s0): the ramp of a non-causal kernel with length; s/(s + c0): the
 * cost of the masked diagonal blocks and the unequal work of causal rows.
 *
 * Decode attention (paged, one kernel per layer): time = fixed + bytes /
 * (bandwidth x decode_bw_eff), returned as the fraction of peak bandwidth
 * bytes / (bandwidth x time). */
#include <math.h>

#include "models/llm/kernels.h"

/* Fitted with models/validation/kernels/fit_kernels (gsl_multifit_nlinear,
 * log-time residuals) on the FIT rows of models/validation/kernels/points.csv:
 *  - gemm_quant_exp, gemm_roofline_p, gemm_fixed_s: 104 cuBLAS GEMM times
 *    of Llama-2-7B's four linear layers at 1..4,096 tokens on A100-80GB SXM
 *    and H100 SXM (Vidur operator profiles, microsoft/vidur
 *    data/profiling/compute); gemm_fixed_s was added to the form after
 *    round 2 (README.md, round 3), fitted on the same rows;
 *  - attn_level, attn_seq0: FlashAttention-3 forward, H100, head dim 128,
 *    seq 512..16,384, non-causal (pytorch/benchmark PR 2391);
 *  - attn_causal0: causal / non-causal TFLOP/s ratios of FlashAttention-2
 *    on A100 at 1k and 4k (liangan1/GPU_travel; round 2 of the roles in
 *    models/validation/kernels/README.md; round 1 fitted 941 on B200 FA4
 *    ratios, which put the A100's causal 1k prefill 46% low);
 *  - attn_hd0: head dim 64 / 128 TFLOP/s ratios of FlashAttention-4 at
 *    1k..16k (flash-attention PR 2605, B200; ratios only);
 *  - decode_bw_eff, decode_fixed_s: onnxruntime PR 21414 (FA2 paged decode,
 *    H100 SXM, batch 64, ctx 32..256) and Vidur's A100 vLLM paged decode
 *    (batch 128 x ctx 2,240, 97% of peak).
 * Values as printed by fit_kernels on 2026-12-03. */
const llm_kernel_params llm_kernels_fitted = {
  .gemm_quant_exp = 0.799,     /* +- 0.12 (1 sd); rms log residual 0.106 over 104 GEMMs */
  .gemm_roofline_p = 2.44,     /* +- 0.33 */
  .attn_level = 0.837,         /* +- 0.004: FA3 reaches 0.837 x 0.76 = 64% of H100 peak */
  .attn_seq0 = 234,            /* +- 6 tokens */
  .attn_causal0 = 300,         /* +- 64 tokens (round 2; round 1, on B200 FA4: 941) */
  .attn_hd0 = 115,             /* +- 8 */
  .decode_bw_eff = 0.949,      /* +- 0.055 */
  .decode_fixed_s = 18.6e-6,   /* +- 0.9 us */
  .gemm_fixed_s = 3.75e-6,     /* +- 0.8 us */
};

static double pow2_at_least(double x)
{
  double t = 16;
  while (t < x && t < LLM_GEMM_TILE) t *= 2;
  return t;
}

double llm_gemm_tile_utilisation(double sms, double m, double n, double k)
{
  if (m <= 0 || n <= 0) return 1;
  double tm = pow2_at_least(m), tn = LLM_GEMM_TILE;
  double tiles = ceil(m / tm) * ceil(n / tn);
  double fill = m * n / (tiles * tm * tn); /* padding of the last row/column of tiles */
  if (sms <= 0) return fill;                /* SM count unknown: no wave term */
  double best = 0;
  for (double s = 1; s <= 8; s *= 2) {
    if (s > 1 && k < s * 512) break;        /* split-K only over long K */
    double units = tiles * s, waves = ceil(units / sms);
    double u = units / (waves * sms);
    if (u > best) best = u;
    if (best >= 1) break;                   /* full waves: no split does better */
  }
  return fill * best;
}

double llm_gemm_efficiency_with(const llm_kernel_params *kp, const gpu_spec *g, gpu_precision p,
                                double m, double n, double k)
{
  double e = g->compute_efficiency;
  double peak = gpu_peak_flops(g, p);
  if (!(m > 0 && n > 0 && k > 0) || !(peak > 0) || !(e > 0)) return e > 0 && e <= 1 ? e : 1;
  double q = llm_gemm_tile_utilisation((double)g->sms, m, n, k);
  double eq = q < 1 ? e * pow(q, kp->gemm_quant_exp) : e;
  double flops = 2 * m * n * k;
  double t_c = flops / (peak * eq);
  double bw = gpu_mem_bw(g) * g->memory_efficiency;
  double t = t_c;
  if (bw > 0) {
    double w = gpu_precision_bytes(p);
    double t_m = ((m * k + k * n) * w + 2 * m * n) / bw;
    double P = kp->gemm_roofline_p;
    /* (t_c^P + t_m^P)^(1/P), scaled to avoid overflow */
    double hi = t_c > t_m ? t_c : t_m, lo = t_c > t_m ? t_m : t_c;
    if (lo > 1e-6 * hi) t = hi * pow(1 + pow(lo / hi, P), 1 / P);
    else t = hi; /* the other term changes t by less than 1e-6^P / P */
  }
  t += kp->gemm_fixed_s;
  double eff = flops / (peak * t);
  return eff > 1 ? 1 : eff;
}

double llm_gemm_efficiency(const gpu_spec *g, gpu_precision p, double m, double n, double k)
{
  return llm_gemm_efficiency_with(&llm_kernels_fitted, g, p, m, n, k);
}

double llm_attn_prefill_efficiency_with(const llm_kernel_params *kp, const gpu_spec *g, double seq,
                                        double head_dim)
{
  double e = g->compute_efficiency > 0 && g->compute_efficiency <= 1 ? g->compute_efficiency : 1;
  if (!(seq > 0)) seq = 1;
  if (!(head_dim > 0)) head_dim = 128;
  double h0 = kp->attn_hd0;
  double h = (head_dim / (head_dim + h0)) / (128 / (128 + h0));
  double r = kp->attn_level * h * seq / (seq + kp->attn_seq0) * seq / (seq + kp->attn_causal0);
  if (r > 1) r = 1;
  return e * r;
}

double llm_attn_prefill_efficiency(const gpu_spec *g, double seq, double head_dim)
{
  return llm_attn_prefill_efficiency_with(&llm_kernels_fitted, g, seq, head_dim);
}

double llm_attn_decode_efficiency_bytes_with(const llm_kernel_params *kp, const gpu_spec *g,
                                             double kv_bytes)
{
  double bw = gpu_mem_bw(g), e = kp->decode_bw_eff;
  if (!(kv_bytes > 0) || !(bw > 0)) return e;
  double t = kp->decode_fixed_s + kv_bytes / (bw * e);
  return kv_bytes / (bw * t);
}

double llm_attn_decode_efficiency_bytes(const gpu_spec *g, double kv_bytes)
{
  return llm_attn_decode_efficiency_bytes_with(&llm_kernels_fitted, g, kv_bytes);
}

double llm_attn_decode_efficiency(const gpu_spec *g, double batch, double ctx)
{
  return llm_attn_decode_efficiency_bytes(g, batch * ctx * LLM_DECODE_REF_BYTES_PER_TOKEN);
}
