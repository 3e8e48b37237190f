/* models/training/train_launch.h: the time a training step spends that
 * does not shrink with the model's GEMMs, the part that matters for small
 * models (issue 15, "tiny models come out far too fast"): the loss over
 * the vocabulary (memory traffic per logit, the same for a 125M model as
 * for a 70B one with the same vocabulary) and the host's dispatch of a
 * layer's kernels, exposed only when the host is slower than the GPU. */
#ifndef TRAIN_LAUNCH_H
#define TRAIN_LAUNCH_H

#include <stdbool.h>

#include "models/training/train.h"

/* Cross-entropy over the vocabulary, bytes moved per logit, forward and
 * backward (counted, not fitted; train_launch.c says how). */
#define TRAIN_LOSS_FUSED_FWD_BYTES 2.0
#define TRAIN_LOSS_FUSED_BWD_BYTES 4.0
#define TRAIN_LOSS_UNFUSED_FWD_BYTES 14.0
#define TRAIN_LOSS_UNFUSED_BWD_BYTES 22.0

/* Bytes moved per logit by the loss, forward (*fwd) and backward (*bwd),
 * fused (one kernel each way, 16-bit logits) or PyTorch's unfused chain. */
void train_loss_bytes(bool fused, double *fwd, double *bwd);

/* Time of the loss for one micro-batch on the last stage, s: tokens x
 * vocab / tp logits times the bytes of train_loss_bytes over the GPU's
 * effective memory bandwidth; *fwd and *bwd receive the two parts. */
void train_loss_s(const train_job *j, double *fwd, double *bwd);

/* What the host's dispatch of `host_s` leaves exposed over `gpu_s` of GPU
 * work queued behind it: launches are asynchronous, so only the excess,
 * max(0, host_s - gpu_s). */
double train_launch_exposed_s(double host_s, double gpu_s);

/* Launch time one layer and micro-batch adds, forward and backward: the
 * stack's kernels x launch_us (never hidden, train_stack.h) plus what its
 * kernels x dispatch_us of host time exceed the layer's GPU time gpu_fwd_s
 * / gpu_bwd_s by; 0 without a stack or with CUDA graphs. */
void train_launch_layer(const train_job *j, double gpu_fwd_s, double gpu_bwd_s, double *fwd, double *bwd);

#endif
