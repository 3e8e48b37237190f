#!/bin/bash
# Output temp files follow a pre-planted symlink: OUTDIR/summary.json.tmp.PID is
# opened with fopen("w") (no O_EXCL / O_NOFOLLOW, predictable name), so a file
# outside OUTDIR is overwritten and summary.json becomes a symlink to it.
# `bash -c '...; exec clustersim'` makes clustersim's PID known in advance ($$).
# Usage: tmpfile-symlink.sh /path/to/clustersim   (run in a scratch directory)
CS=${1:-clustersim}
HERE=$(cd "$(dirname "$0")" && pwd)
rm -rf outsym; mkdir outsym
echo "precious data" > victim.txt
bash -c 'ln -s "$PWD/victim.txt" outsym/summary.json.tmp.$$; exec '"$CS"' run '"$HERE"'/small.cfg -q -o outsym'
echo "rc=$?"; ls -la outsym/summary.json; echo "victim.txt now starts with:"; head -3 victim.txt
# observed: rc=0; outsym/summary.json -> .../victim.txt; victim.txt holds the JSON summary
# expected now: rc=0; outsym/summary.json a regular file; victim.txt still "precious data"
# (temporaries are made by mkstemp with O_EXCL; asserted by tests/unit/test_output.c)
