#!/bin/bash
# A run whose tables cannot be written (disk full) still commits summary.json and
# exits 1; the previous run's timeseries.csv / latency_cdf.csv stay beside it, so
# OUTDIR holds a new summary with old tables, every file looking complete.
# Needs root (a 64 KiB tmpfs). Usage: stale-tables-after-failed-run.sh /path/to/clustersim
CS=${1:-clustersim}
HERE=$(cd "$(dirname "$0")" && pwd)
F=$(mktemp -d); mount -t tmpfs -o size=64k tmpfs "$F" || exit 1
"$CS" run "$HERE/small.cfg" -q -o "$F/r" --seed 1 --set workload.duration_s=30.0; echo "first run rc=$?"
"$CS" run "$HERE/small.cfg" -q -o "$F/r" --seed 2 --set workload.duration_s=600.0 --set output.requests=true; echo "second run rc=$?"
ls -la --time-style=+%T "$F/r"; grep -E '"seed"|requests_arrived' "$F/r/summary.json"; tail -1 "$F/r/timeseries.csv"
umount "$F"; rmdir "$F"
# observed: second rc=1 ("timeseries.csv: cannot write: No space left on device");
# summary.json has seed 2 and 14,989 requests; timeseries.csv / latency_cdf.csv are the seed-1 run's (30 s);
# `clustersim plot` on the directory then exits 0 and draws those old tables
# expected now: second rc=1 with "...: cannot write: No space left on device" naming each file
# and "nothing was replaced"; summary.json still seed 1 beside its own tables; no .tmp. file left
# (asserted by tests/unit/test_output.c when run as root with tmpfs; the same failure is
# injected without mount by a small RLIMIT_FSIZE in test_output.c's "all or nothing")
