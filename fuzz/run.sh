#!/usr/bin/env bash
# fuzz/run.sh BUILD_DIR SECONDS [TARGET...]: run each libFuzzer harness for
# SECONDS, starting from the seed corpus (scenarios/, tests/badconfig/,
# tests/badinputs/, tests/golden/, fuzz/corpus/scenario/; fuzz/corpus/trace/
# for traces; fuzz/regressions/ for both) and writing new inputs only to a scratch directory. Prints each
# target's executions; a crash leaves its input in BUILD_DIR/fuzz-out/ and
# fails. Build first: CC=clang cmake -S . -B BUILD_DIR -DCLUSTERSIM_FUZZ=ON ...
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]}
secs=${2:?usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
targets=${*:-fuzz_scenario fuzz_trace}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export LSAN_OPTIONS=suppressions=$here/tests/lsan.supp
out=$build/fuzz-out
mkdir -p "$out"
for t in $targets; do
  work=$(mktemp -d "$out/$t.corpus.XXXXXX")
  case $t in
    fuzz_scenario) seeds="$here/scenarios $here/tests/badconfig $here/tests/badinputs $here/tests/golden $here/fuzz/corpus/scenario $here/fuzz/regressions"
                   dict="-dict=$here/fuzz/scenario.dict" ;;
    fuzz_trace) seeds="$here/fuzz/corpus/trace $here/fuzz/regressions"; dict="" ;;
    *) echo "run.sh: unknown target $t" >&2; exit 2 ;;
  esac
  log=$out/$t.log
  set +e
  "$build/fuzz/$t" "$work" $seeds $dict -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -max_len=16384 -artifact_prefix="$out/$t-" -print_final_stats=1 > "$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  echo "$t: ${runs:-?} executions in $secs s, exit $rc (log: $log)"
  rm -rf "$work"
  if [ $rc -ne 0 ]; then tail -40 "$log"; exit 1; fi
done
