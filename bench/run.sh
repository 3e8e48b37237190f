#!/usr/bin/env bash
# bench/run.sh: run every benchmark program of an existing build, one after
# another (never two at once), then time a whole clustersim process on the
# M/M/8 reference scenario and the serving benchmarks (the Azure trace on 8
# replicas, scenarios/bench-1m.cfg). Builds nothing: `cmake --build build` first.
#
# usage: bench/run.sh [BUILD_DIR] [--csv] [--quick]
#   BUILD_DIR  default <root>/build (the directory above this script's)
#   --csv      CSV rows from the hold benchmarks instead of tables
#   --quick    one size (N=1e4) and 5e5 ops: a smoke test, not a result
# Environment: BENCH_ARGS adds options to every hold benchmark (e.g.
# BENCH_ARGS="--n 1e5 --runs 5"); MMC_CUSTOMERS (default 10000000).
# Takes about 50 s on a 2-core machine (about 1 s with --quick).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build="$root/build"
csv=()
quick=()
for a in "$@"; do
  case "$a" in
    --csv) csv=(--csv) ;;
    --quick) quick=(--n 1e4 --ops 5e5) ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $a" >&2; exit 2 ;;
    *) build=$(cd "$a" && pwd) || exit 2 ;;
  esac
done
bench="$build/bench"
customers=${MMC_CUSTOMERS:-10000000}
read -r -a extra <<< "${BENCH_ARGS:-}"

echo "# clustersim benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores," \
     "$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //')"
echo "# build: $build"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

missing=0
run() { # run PROGRAM ARGS...: run one benchmark program if it was built
  local prog="$bench/$1"; shift
  if [[ ! -x "$prog" ]]; then
    echo "## $(basename "$prog"): not built, skipped"
    missing=1
    return
  fi
  echo "## $(basename "$prog") $*"
  "$prog" "$@"
  echo
}

run bench_baseline_hold "${quick[@]}" "${extra[@]}" "${csv[@]}"
run bench_engine "${quick[@]}" "${extra[@]}" "${csv[@]}"
run bench_engine --only hold --rng xoshiro "${quick[@]}" "${extra[@]}" "${csv[@]}"
run bench_engine_binary "${quick[@]}" "${extra[@]}" "${csv[@]}"
run bench_engine_8ary "${quick[@]}" "${extra[@]}" "${csv[@]}"
run bench_step
run bench_schedule
if [[ ${#quick[@]} -gt 0 ]]; then
  run bench_baseline_mmc --customers 1e6 --runs 1
else
  run bench_baseline_mmc --customers "$customers"
fi

# --- the whole program on the reference scenario: best of 3 wall times ---
cs="$build/clustersim"
cfg="$root/scenarios/mmc.cfg"
if [[ ! -x "$cs" || ! -f "$cfg" ]]; then
  echo "## clustersim mmc: skipped ($([[ -x "$cs" ]] || echo "no $cs ")$([[ -f "$cfg" ]] || echo "no $cfg"))"
  exit $missing
fi
[[ ${#quick[@]} -gt 0 ]] && customers=1000000
tmp=$(mktemp -d "${TMPDIR:-/tmp}/csbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "## clustersim run $cfg --set queue.customers=$customers (whole process, best of 3)"
best="" rss=""
for i in 1 2 3; do
  out="$tmp/out$i"
  t0=$(date +%s%N)
  if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -v -o "$tmp/time$i" "$cs" run "$cfg" --set "queue.customers=$customers" \
      -o "$out" > "$tmp/stdout$i" 2> "$tmp/stderr$i"
  else
    "$cs" run "$cfg" --set "queue.customers=$customers" -o "$out" \
      > "$tmp/stdout$i" 2> "$tmp/stderr$i"
  fi
  status=$?
  t1=$(date +%s%N)
  if [[ $status -ne 0 ]]; then
    echo "clustersim exited with status $status:"
    cat "$tmp/stderr$i"
    exit 1
  fi
  ms=$(( (t1 - t0) / 1000000 ))
  kb=""
  [[ -f "$tmp/time$i" ]] && kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time$i")
  echo "  run $i: $(printf '%d.%03d' $((ms / 1000)) $((ms % 1000))) s${kb:+, peak RSS $((kb / 1024)) MiB}"
  if [[ -z "$best" || $ms -lt $best ]]; then best=$ms; rss=$kb; fi
done
echo "  best: $(printf '%d.%03d' $((best / 1000)) $((best % 1000))) s wall${rss:+, peak RSS $((rss / 1024)) MiB}" \
     "(target < 1.2 s for 1e7 customers)"
echo "  from its summary (last run):"
grep -E 'wait in queue \(s\), mean|theory: mean wait|events in .* wall' "$tmp/stdout3" | sed 's/^ */    /'

# --- serving: whole process, best of 3; requests/s and events/s simulated ---
num() { sed -n "s/^ *\"$1\": \([0-9.e+-]*\),\{0,1\}$/\1/p" "$2"; }
serve() { # serve LABEL TARGET SCENARIO ARGS...
  local label=$1 target=$2 cfg=$3; shift 3
  echo "## clustersim run $(basename "$cfg") $* ($label; whole process, best of 3)"
  local best="" rss="" i
  for i in 1 2 3; do
    local out="$tmp/serve$i"
    local t0 t1
    t0=$(date +%s%N)
    if [[ -x /usr/bin/time ]]; then
      /usr/bin/time -v -o "$tmp/stime$i" "$cs" run "$cfg" -q -o "$out" "$@" 2> "$tmp/serr$i" || { cat "$tmp/serr$i"; exit 1; }
    else
      "$cs" run "$cfg" -q -o "$out" "$@" 2> "$tmp/serr$i" || { cat "$tmp/serr$i"; exit 1; }
    fi
    t1=$(date +%s%N)
    local ms=$(( (t1 - t0) / 1000000 )) kb=""
    [[ -f "$tmp/stime$i" ]] && kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/stime$i")
    echo "  run $i: $(printf '%d.%03d' $((ms / 1000)) $((ms % 1000))) s${kb:+, peak RSS $((kb / 1024)) MiB}"
    if [[ -z "$best" || $ms -lt $best ]]; then best=$ms; rss=$kb; fi
  done
  local reqs events
  reqs=$(num requests_arrived "$tmp/serve3/summary.json")
  events=$(num events "$tmp/serve3/summary.json")
  awk -v ms="$best" -v r="$reqs" -v e="$events" -v kb="$rss" -v target="$target" 'BEGIN {
    s = ms / 1000; printf "  best: %.3f s wall, %d requests (%.0f requests/s), %d events (%.2f million events/s)", s, r, r / s, e, e / s / 1e6
    if (kb != "") printf ", peak RSS %d MiB", kb / 1024
    if (target != "") printf " (%s)", target
    printf "\n" }'
}
serve "Azure trace, 8 replicas" "" "$root/scenarios/azure-conv-llama2-70b.cfg" --set 'cluster.pools.[0].replicas=8'
if [[ ${#quick[@]} -gt 0 ]]; then
  serve "bench-1m cut to 1e5 requests" "" "$root/scenarios/bench-1m.cfg" --set workload.requests=100000
else
  serve "bench-1m" "target < 5 s" "$root/scenarios/bench-1m.cfg"
fi

echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $missing
