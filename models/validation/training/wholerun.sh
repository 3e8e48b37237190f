#!/bin/sh
# models/validation/training/wholerun.sh: the whole-run validation rows of
# wholerun.md as `clustersim estimate --train` command lines (the same runs
# tests/unit/test_train_wholerun_validation.c recomputes). Prints each row's
# published figure and the model's gpu_hours and train_days.
# Usage: models/validation/training/wholerun.sh [path/to/clustersim]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cs=${1:-"$here/../../../build/clustersim"}
cat="$here/wholerun_models.cfg"

row() {
  id=$1; published=$2; shift 2
  printf '%s  published %s\n' "$id" "$published"
  "$cs" estimate --train --catalog "$cat" "$@" | grep -E ' (gpu_hours|train_days|mfu|recompute)$' | sed 's/^/    /'
}

row W1 "184,320 GPU-h" --model llama2-7b --gpu a100-80gb-sxm --gpus 2048 --tp 2 --seq-len 4096 \
  --global-batch 1024 --zero 1 --seq-parallel --net-link ib-hdr --train-tokens 2e12
row W2 "368,640 GPU-h" --model llama2-13b --gpu a100-80gb-sxm --gpus 2048 --tp 2 --seq-len 4096 \
  --global-batch 1024 --zero 1 --seq-parallel --net-link ib-hdr --train-tokens 2e12
row W3 "1,720,320 GPU-h" --model llama2-70b --gpu a100-80gb-sxm --gpus 2048 --tp 8 --pp 4 --seq-len 4096 \
  --global-batch 1024 --zero 1 --seq-parallel --net-link ib-hdr --train-tokens 2e12
row W4 "1.3M GPU-h" --model llama3-8b --gpu h100-sxm --gpus 2048 --tp 1 --seq-len 8192 \
  --global-batch 2048 --zero 1 --net-link eth-400g --train-tokens 15e12
row W5 "6.4M GPU-h" --model llama3-70b --gpu h100-sxm --gpus 4096 --tp 8 --pp 4 --seq-len 8192 \
  --global-batch 2048 --zero 1 --seq-parallel --net-link eth-400g --train-tokens 15e12
row W6 "30.84M GPU-h" --model llama3.1-405b-128l --gpu h100-sxm --gpus 16384 --tp 8 --pp 16 --interleave 2 \
  --seq-len 8192 --global-batch 2048 --zero 1 --seq-parallel --net-link eth-400g --train-tokens 15.6e12
row W7 "1,082,990 GPU-h" --model bloom-176b-72l --gpu a100-80gb-sxm --gpus 384 --tp 4 --pp 12 --micro-batch 2 \
  --seq-len 2048 --global-batch 2048 --recompute full --no-flash --zero 1 --net-link ib-edr --nics-per-node 4 \
  --rampup-batch-start 192 --rampup-batch-increment 16 --rampup-batch-samples 9765625 \
  --eval-interval 1000 --eval-iters 1 --train-tokens 366e9
# the re-declared rows (wholerun.md, "Re-declared rows"): real stages
row W6r "30.84M GPU-h" --model llama3.1-405b --gpu h100-sxm --gpus 16384 --tp 8 --pp 16 \
  --first-stage-layers 7 --last-stage-layers 7 \
  --seq-len 8192 --global-batch 2048 --zero 1 --seq-parallel --net-link eth-400g --train-tokens 15.6e12
row W7r "1,082,990 GPU-h" --model bloom-176b --gpu a100-80gb-sxm --gpus 384 --tp 4 --pp 12 --micro-batch 2 \
  --first-stage-layers 5 --last-stage-layers 5 \
  --seq-len 2048 --global-batch 2048 --recompute full --no-flash --zero 1 --net-link ib-edr --nics-per-node 4 \
  --rampup-batch-start 192 --rampup-batch-increment 16 --rampup-batch-samples 9765625 \
  --eval-interval 1000 --eval-iters 1 --train-tokens 366e9
row W8 "60 days" --model falcon-40b --gpu a100-40gb-sxm --gpus 384 --tp 8 --pp 4 --seq-len 2048 \
  --global-batch 1152 --zero 1 --seq-parallel --net-link eth-100g --nics-per-node 4 --train-tokens 1e12
row W9 "7,000,000 GPU-h" --model falcon-180b --gpu a100-40gb-sxm --gpus 4096 --tp 8 --pp 8 --seq-len 2048 \
  --global-batch 2048 --zero 1 --seq-parallel --net-link eth-100g --nics-per-node 4 --train-tokens 3.5e12
row W10 "320,256 GPU-h" --model starcoderbase --gpu a100-80gb-sxm --gpus 512 --tp 4 --pp 4 --seq-len 8192 \
  --global-batch 512 --zero 1 --seq-parallel --net-link ib-hdr --train-tokens 1e12
row W11 "9.5 days" --model mpt-7b --gpu a100-40gb-sxm --gpus 440 --tp 1 --micro-batch 4 --seq-len 2048 \
  --global-batch 1760 --zero 3 --fsdp-prefetch post --net-link eth-200g --train-tokens 1e12
row W13r "2,664K GPU-h" --model deepseek-v3 --gpu h800 --gpus 2048 --tp 1 --pp 16 --ep 64 --dualpipe \
  --first-stage-layers 4 --last-stage-layers 1 --global-batch 15360 --seq-len 4096 --dtype fp8 --zero 1 \
  --expert-imbalance 1.04 --rampup-batch-start 3072 --rampup-batch-increment 1536 \
  --rampup-batch-samples 114501953 --net-link ib-ndr --train-tokens 14.8e12
row W12 "about 60 days (reported only)" --model opt-175b --gpu a100-80gb-sxm --gpus 992 --tp 8 --seq-len 2048 \
  --global-batch 992 --dtype fp16 --no-flash --zero 3 --net-link ib-hdr --train-tokens 180e9
