#!/bin/sh
# models/validation/accel/fit.sh: the TPU fitting rows of DECLARED.md through
# `clustersim estimate --train`, and the declared grid fit of one training
# GEMM efficiency per TPU generation (median absolute error of tokens/s per
# chip). Usage: fit.sh CLUSTERSIM [EFF]: with EFF, one table at that
# efficiency for both generations; without, the grid and the table at the
# fitted values. Prints markdown rows.
set -eu
bin=${1:?usage: fit.sh CLUSTERSIM [EFF]}
dir=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# id gpu chips model B remat tp published_tflops
rows='P32 tpu-v5p 128 maxtext-32b 7 selective 4 328
P64 tpu-v5p 128 maxtext-64b 3 selective 4 323
P128a tpu-v5p 256 maxtext-128b 1 selective 8 315
P128b tpu-v5p 512 maxtext-128b 1 selective 8 316
P256 tpu-v5p 1024 maxtext-256b 1 selective 8 308
P512 tpu-v5p 1024 maxtext-512b 2 full 8 294
E16 tpu-v5e 256 maxtext-16b 6 full 1 120
E32 tpu-v5e 256 maxtext-32b 4 full 1 132
E64 tpu-v5e 256 maxtext-64b 2 full 1 118'

# one row at efficiency $2 of its generation: "id published model error"
row() {
  set -- $1 "$2"
  id=$1 gpu=$2 chips=$3 model=$4 b=$5 remat=$6 tp=$7 pub=$8 eff=$9
  printf 'gpus = ( { name = "%s"; train_gemm_efficiency = %s; } );\n' "$gpu" "$eff" > "$tmp/eff.cfg"
  out=$("$bin" estimate --train --catalog "$dir/maxtext.cfg" --catalog "$tmp/eff.cfg" --gpu "$gpu" \
    --model "$model" --gpus "$chips" --tp "$tp" --dp $((chips / tp)) --zero 3 --dtype bf16 \
    --global-batch $((b * chips)) --micro-batch $((b * tp)) --seq-len 2048 --recompute "$remat" --json)
  # the architecture for MaxText's FLOPs per token: layers, heads (head_dim 128)
  lh=$(awk -v m="\"$model\";" '$1 == "name" && $3 == m { f = 1 } f && $1 == "layers" { l = $3 }
    f && $1 == "heads" { h = $3; print l + 0, h + 0; exit }' "$dir/maxtext.cfg")
  n=$(echo "$out" | sed -n 's/.*"params": *\([0-9.e+]*\).*/\1/p' | head -1)
  tok=$(echo "$out" | sed -n 's/.*"tokens_per_s_per_gpu": *\([0-9.e+]*\).*/\1/p' | head -1)
  echo "$id $pub $n $tok $lh" | awk '{ id = $1; pub = $2; n = $3; tok = $4; l = $5; h = $6
    fpt = 6 * n + 6 * l * h * 128 * 2048; pubtok = pub * 1e12 / fpt
    printf "%s %.1f %.1f %+.4f\n", id, pubtok, tok, tok / pubtok - 1 }'
}

table() {  # $1 v5p efficiency, $2 v5e efficiency
  echo "$rows" | while read -r line; do
    case $line in *tpu-v5p*) e=$1 ;; *) e=$2 ;; esac
    row "$line" "$e"
  done
}

if [ $# -ge 2 ]; then
  table "$2" "$2"
  exit 0
fi
best() {  # $1 generation: the grid, median then mean absolute error
  e=0.400
  while [ "$(echo "$e <= 1.0001" | bc)" = 1 ]; do
    echo "$rows" | grep "$1" | while read -r line; do row "$line" "$e"; done |
      awk -v e="$e" '{ a[NR] = ($4 < 0 ? -$4 : $4); s += a[NR] } END {
        n = asort(a); med = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        printf "%s %.6f %.6f\n", e, med, s / n }'
    e=$(echo "$e + 0.005" | bc | sed 's/^\./0./')
  done | sort -k2,2g -k3,3g -k1,1g | head -1
}
p=$(best tpu-v5p); v=$(best tpu-v5e)
echo "fit tpu-v5p: $p (efficiency, median |error|, mean |error|)"
echo "fit tpu-v5e: $v"
table "$(echo "$p" | cut -d' ' -f1)" "$(echo "$v" | cut -d' ' -f1)"
