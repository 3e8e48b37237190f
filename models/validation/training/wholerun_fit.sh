#!/bin/sh
# models/validation/training/wholerun_fit.sh: the FITTING rows of
# wholerun_fit.md as `clustersim estimate --train` command lines (the same
# runs tests/unit/test_train_wholerun_fit.c recomputes). Prints each row's
# published figure and the model's gpu_hours, train_days and whole-run parts.
# Usage: models/validation/training/wholerun_fit.sh [path/to/clustersim]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cs=${1:-"$here/../../../build/clustersim"}
cat="$here/wholerun_fit_models.cfg"

row() {
  id=$1; published=$2; shift 2
  printf '%s  published %s\n' "$id" "$published"
  "$cs" estimate --train --catalog "$cat" "$@" | sed 's/^/    /'
}

row F1 "82,432 GPU-h" --model llama-7b --gpu a100-80gb-sxm --gpus 2048 --tp 2 --seq-len 2048 \
  --global-batch 2048 --zero 1 --seq-parallel --recompute selective --net-link ib-hdr --train-tokens 1e12
row F2 "135,168 GPU-h" --model llama-13b --gpu a100-80gb-sxm --gpus 2048 --tp 2 --seq-len 2048 \
  --global-batch 2048 --zero 1 --seq-parallel --recompute selective --net-link ib-hdr --train-tokens 1e12
row F3 "530,432 GPU-h" --model llama-33b --gpu a100-80gb-sxm --gpus 2048 --tp 4 --pp 2 --seq-len 2048 \
  --global-batch 2048 --zero 1 --seq-parallel --recompute selective --net-link ib-hdr --train-tokens 1.4e12
row F4 "1,022,362 GPU-h" --model llama-65b --gpu a100-80gb-sxm --gpus 2048 --tp 8 --pp 4 --seq-len 2048 \
  --global-batch 2048 --zero 1 --seq-parallel --recompute selective --net-link ib-hdr --train-tokens 1.4e12
row F5 "1,038,336 GPU-h" --model llama2-34b --gpu a100-80gb-sxm --gpus 2048 --tp 4 --pp 2 --seq-len 4096 \
  --global-batch 1024 --zero 1 --seq-parallel --net-link ib-hdr --train-tokens 2e12
row F6 "14 days" --model falcon-7b --gpu a100-40gb-sxm --gpus 384 --tp 1 --pp 2 --seq-len 2048 \
  --global-batch 2304 --zero 1 --net-link eth-100g --nics-per-node 4 --train-tokens 1.5e12
