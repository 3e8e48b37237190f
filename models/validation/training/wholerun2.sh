#!/bin/sh
# models/validation/training/wholerun2.sh: the second whole-run validation
# set of wholerun2.md as `clustersim estimate --train` lines (and, for runs
# in phases, `clustersim run` of the scenarios in wholerun2/), the same runs
# tests/unit/test_train_wholerun2_validation.c recomputes. Prints each row's
# published figure and the model's: gpu_hours and train_days (the closed
# form of the whole run), and for the step-time rows the iteration.
# Usage: models/validation/training/wholerun2.sh [path/to/clustersim]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cs=${1:-"$here/../../../build/clustersim"}
cat="$here/wholerun2_models.cfg"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the program's output into $tmp/out, or the row's failure and exit 1
run_cs() {
  "$cs" "$@" >"$tmp/out" 2>"$tmp/err" || { echo "$id: clustersim failed:" >&2; cat "$tmp/err" >&2; exit 1; }
}

row() {
  id=$1; published=$2; shift 2
  printf '%s  published %s\n' "$id" "$published"
  run_cs estimate --train --catalog "$cat" "$@"
  grep -E ' (gpu_hours|train_days|iteration_time_s|tokens_per_s_per_gpu|mfu|recompute)$' "$tmp/out" | sed 's/^/    /'
}

# a run in phases: its scenario, the whole run's closed form in days and GPU-hours
phased() {
  id=$1; published=$2; cfg=$3; gpus=$4
  printf '%s  published %s\n' "$id" "$published"
  run_cs run --catalog "$cat" "$here/wholerun2/$cfg" -o "$tmp/$id"
  awk -v g="$gpus" '$NF == "train_time_closed_form_s" { t = $(NF-1);
      printf "    train_days %.2f\n    gpu_hours %.0f\n", t / 86400, t * g / 3600 }
      $NF ~ /^phase[0-9]+_(iteration_time_s|mfu)$/ { print "    " $NF " " $(NF-1) }' "$tmp/out"
}

H="--gpu h100-sxm"
# W14 / NS1-NS3: Nemotron-4 15B, its three published stages (days summed)
NEM="--model nemotron-4-15b $H --tp 8 --seq-parallel --zero 1 --seq-len 4096 --net-link ib-ndr"
row W14a/NS1 "0.8 days; 0.57 s/iteration" $NEM --gpus 768 --global-batch 384 --train-tokens 200e9
row W14b/NS2 "0.4 days; 0.58 s/iteration" $NEM --gpus 1536 --global-batch 768 --train-tokens 200e9
row W14c/NS3 "11.9 days; 0.64 s/iteration" $NEM --gpus 2304 --global-batch 1152 --train-tokens 7.6e12
row W15 "7 days" --model phi-3-mini $H --gpus 512 --tp 1 --zero 1 --seq-len 4096 --global-batch 1024 --train-tokens 3.3e12
row W16 "10 days" --model phi-3-mini $H --gpus 512 --tp 1 --zero 1 --seq-len 4096 --global-batch 1024 --train-tokens 4.9e12
row W17 "42 days" --model phi-3-medium $H --gpus 512 --tp 2 --seq-parallel --zero 1 --seq-len 4096 --global-batch 1024 \
  --train-tokens 4.8e12
row W18 "18 days" --model grin-moe $H --gpus 512 --tp 4 --seq-parallel --ep 1 --zero 1 --seq-len 4096 \
  --global-batch 1024 --train-tokens 4.0e12
phased W19 "21 days" w19-phi-4.cfg 1920
row W20 "21 days" --model phi-4-mini --gpu a100-80gb-sxm --gpus 512 --tp 1 --zero 1 --seq-len 4096 --global-batch 1024 \
  --train-tokens 5e12
row W21 "14 days" --model phi-2 --gpu a100-80gb-sxm --gpus 96 --tp 1 --zero 1 --seq-len 2048 --global-batch 2016 \
  --train-tokens 1.4e12
phased W22 "119K GPU-h" w22-deepseek-v3-context.cfg 2048
row W23 "1,399.7K GPU-h (172.8K per T x 8.1T)" --model deepseek-v2 --gpu h800 --gpus 2048 --tp 1 --pp 16 \
  --first-stage-layers 2 --last-stage-layers 2 --ep 8 --zero 1 --seq-len 4096 --global-batch 9216 \
  --moe-capacity-factor 1 --net-link ib-ndr --train-tokens 8.1e12
# W30s, BB1s (seen, reported only): BloombergGPT with its 128-GPU shard group
row W30s "53 days" --model bloomberggpt-50b --gpu a100-40gb-sxm --gpus 512 --tp 1 --zero 3 --recompute full \
  --seq-len 2048 --global-batch 2048 --net-link eth-100g --nics-per-node 4 --dp-shard 128 \
  --rampup-batch-start 1024 --rampup-batch-increment 1024 --rampup-batch-samples 7372800 --train-tokens 569e9
row BB1s "32.5 s per step" --model bloomberggpt-50b --gpu a100-40gb-sxm --gpus 512 --tp 1 --zero 3 \
  --recompute full --seq-len 2048 --global-batch 2048 --net-link eth-100g --nics-per-node 4 --dp-shard 128 \
  --train-tokens 569e9
# W23z (W23 with --pipeline-schedule zb-h1; seen) does not fit in memory: models/VALIDATION.md
row W24 "601.2K GPU-h (300.6K per T x 2T)" --model deepseek-llm-67b --gpu h800 --gpus 2048 --tp 8 --seq-parallel \
  --zero 1 --seq-len 4096 --global-batch 1024 --net-link ib-ndr --train-tokens 2e12
phased W25 "1.46M GPU-h" w25-llama3.1-8b.cfg 2048
phased W26 "7.0M GPU-h" w26-llama3.1-70b.cfg 4096
row W27/OT1 "234K GPU-h; 7,700 tokens/s/GPU" --model olmo3-7b $H --gpus 512 --tp 1 --zero 1 --seq-len 8192 \
  --global-batch 512 --train-tokens 5.93e12
row W28/OT2 "1.05M GPU-h; 1,960 tokens/s/GPU" --model olmo3-32b $H --gpus 1024 --tp 4 --seq-parallel --zero 1 \
  --seq-len 8192 --global-batch 1024 --train-tokens 5.5e12
row W29 "24 days" --model smollm3-3b $H --gpus 384 --tp 2 --seq-parallel --zero 1 --seq-len 4096 --global-batch 576 \
  --train-tokens 11.2e12
row W30/BB1 "53 days; 32.5 s/step" --model bloomberggpt-50b --gpu a100-40gb-sxm --gpus 512 --tp 1 --zero 3 \
  --recompute full --seq-len 2048 --global-batch 2048 --rampup-batch-start 1024 --rampup-batch-increment 1024 \
  --rampup-batch-samples 7372800 --net-link eth-100g --nics-per-node 4 --train-tokens 569e9
row "W31 (reported)" "370K GPU-h" --model llama3.2-1b $H --gpus 2048 --tp 1 --zero 1 --seq-len 8192 \
  --global-batch 2048 --train-tokens 9e12
