#!/bin/bash
# `clustersim check` took > 10 s on two ~1-10 MB inputs: libconfig 1.5's parser is
# quadratic in a token's length and in the number of settings in a group
# (clustersim added no size limit before parsing). Observed (Release build):
#   one 10 MB line of 'a'       : 40.6 s  (1 MB 0.41 s, 2 MB 1.62 s)
#   50,000 top-level settings   : 13.8 s  (100,000: 55.5 s; 12,500: 0.84 s)
# Now both are refused by the lexical pre-check (driver/config/source.c).
# Usage: slow-libconfig.sh /path/to/clustersim   (scratch directory)
# Prints, per file: its messages, "FILE: rc=N" and "FILE: N.NN s".
CS=${1:-clustersim}
head -c 10000000 /dev/zero | tr '\0' a > line10m.cfg
echo >> line10m.cfg
awk 'BEGIN { printf "name = \"x\"; seed = 1;"; for (i = 0; i < 50000; i++) printf " k%d = %d;", i, i; print "" }' > keys50k.cfg
for f in line10m.cfg keys50k.cfg; do
  start=$(date +%s.%N)
  timeout 120 "$CS" check $f 2>&1 | cut -c1-160
  rc=${PIPESTATUS[0]}
  end=$(date +%s.%N)
  echo "$f: rc=$rc"
  awk -v a="$start" -v b="$end" -v f="$f" 'BEGIN { printf "%s: %.2f s\n", f, b - a }'
done
