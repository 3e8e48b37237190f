#!/bin/bash
# Rows of any readable one-column file were echoed: name its first line as all three columns.
# Usage: trace-file-rows-disclosure.sh /path/to/clustersim   (scratch directory)
CS=${1:-clustersim}
printf 'API_KEYS\nsk-live-1234567890abcdef\ndb_password=hunter2\n' > secret.txt
cat > rows.cfg <<'CFG'
name = "rows"; seed = 1;
model = { name = "llama2-13b"; precision = "fp16"; };
cluster = { pools = ( { gpu = "a100-80gb-sxm"; replicas = 2; tp = 1; } ); };
workload = { trace = { file = "secret.txt"; time_column = "API_KEYS"; prompt_column = "API_KEYS"; output_column = "API_KEYS"; }; };
CFG
"$CS" check rows.cfg > rows.out 2>&1
echo "rc=$?"
cut -c1-120 rows.out
# observed before: clustersim: ./secret.txt:2: API_KEYS: 'sk-live-1234567890abcdef' is not a time: ...
