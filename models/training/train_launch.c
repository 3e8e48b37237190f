/* models/training/train_launch.c: the time of a training step that does
 * not shrink with the GEMMs (train_launch.h): the loss over the
 * vocabulary and the exposed part of the host's kernel launches.
 *
 * Loss bytes per logit, counted from the kernels, not fitted:
 * - fused (flash-attn's xentropy kernel, llm-foundry's default loss_fn
 *   "fused_crossentropy"; Megatron-Core's --cross-entropy-loss-fusion):
 *   forward reads the 16-bit logits once (2 B) and writes one value per
 *   row; backward reads them again (2) and writes the 16-bit gradient (2).
 * - unfused (PyTorch's cross_entropy under autocast): the cast to fp32
 *   reads 2 and writes 4, log_softmax reads 4 and writes 4 (14 forward);
 *   backward: nll_loss_backward writes a dense fp32 gradient (4),
 *   log_softmax_backward reads it and the saved output and writes (12),
 *   the cast back reads 4 and writes 2 (22).
 * The matrix product of the output head is not here (train_step.c).
 *
 * Launches: the host issues a layer's kernels ahead of the GPU (CUDA
 * launches are asynchronous), so its dispatch time costs nothing while the
 * GPU has queued work longer than it, and the excess otherwise. A
 * stack's launch_us stays what it was (a time per kernel never hidden). */
#include <math.h>

#include "models/training/train_launch.h"
#include "models/training/train_stack.h"

void train_loss_bytes(bool fused, double *fwd, double *bwd)
{
  *fwd = fused ? TRAIN_LOSS_FUSED_FWD_BYTES : TRAIN_LOSS_UNFUSED_FWD_BYTES;
  *bwd = fused ? TRAIN_LOSS_FUSED_BWD_BYTES : TRAIN_LOSS_UNFUSED_BWD_BYTES;
}

void train_loss_s(const train_job *j, double *fwd, double *bwd)
{
  double bf, bb;
  train_loss_bytes(j->fused_cross_entropy, &bf, &bb);
  double logits = (double)j->micro_batch * j->seq_len / j->cp * (double)j->model->vocab / j->tp;
  double bw = gpu_mem_bw(j->gpu) * j->gpu->memory_efficiency;
  *fwd = bf * logits / bw;
  *bwd = bb * logits / bw;
}

double train_launch_exposed_s(double host_s, double gpu_s)
{
  return host_s > gpu_s ? host_s - gpu_s : 0;
}

void train_launch_layer(const train_job *j, double gpu_fwd_s, double gpu_bwd_s, double *fwd, double *bwd)
{
  *fwd = train_stack_launch_s(j->stack, j->gpu, false);
  *bwd = train_stack_launch_s(j->stack, j->gpu, true);
  if (!j->stack || j->stack->cuda_graphs) return;
  const train_stack_gen *k = train_stack_gen_for(j->stack, j->gpu);
  *fwd += train_launch_exposed_s((double)k->kernels_fwd * k->dispatch_us * 1e-6, gpu_fwd_s);
  *bwd += train_launch_exposed_s((double)k->kernels_bwd * k->dispatch_us * 1e-6, gpu_bwd_s);
}
