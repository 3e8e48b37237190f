#!/usr/bin/env bash
# bench/same-outputs.sh: whether two builds of clustersim write byte-identical
# outputs for the serving scenarios, so that a speed change can be shown to
# change no result. Runs every serving scenario in scenarios/ (with
# per-request rows on) under each routing policy, plus scheduler and
# preemption variants on a smaller set, with a fixed seed, once per build,
# and compares every file written (summary.json, timeseries.csv,
# latency_cdf.csv, requests.csv) with cmp. Exit status 0 when all agree, 1
# otherwise (the differing files are listed). Not a test: it needs two
# builds; bench/README.md says when it was run.
#
# usage: bench/same-outputs.sh OLD_BUILD_DIR NEW_BUILD_DIR [--quick]
#   --quick  the scenarios as they are, each policy once, no variants
# SAME_OUTPUTS_IGNORE: an extended regex of summary.json keys the new build
# added (e.g. 'host_time_fraction|collective_time_fraction|pool[0-9]+_stack'),
# left out of the comparison of summary.json: every other line must agree.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
[[ $# -ge 2 ]] || { sed -n '12,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
ignore=${SAME_OUTPUTS_IGNORE:-}
old=$(cd "$1" && pwd) || exit 2
new=$(cd "$2" && pwd) || exit 2
quick=0
[[ "${3:-}" == --quick ]] && quick=1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cssame.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

scenarios="azure-conv-llama2-70b gpt3-a100-spike growth-week llama2-13b-a10-vs-a100 llama2-70b-a100
           llama2-70b-h100"
policies="round-robin random power-of-two least-outstanding least-kv"
# cases: NAME|SCENARIO|--set arguments separated by spaces
cases=()
for sc in $scenarios; do
  cases+=("$sc|$sc|output.requests=true")
  for pol in $policies; do
    cases+=("$sc-$pol|$sc|output.requests=true router.policy=\"$pol\"")
  done
done
cases+=("bench-1m-100k|bench-1m|workload.requests=100000 output.requests=true")
if [[ $quick -eq 0 ]]; then
  for pol in $policies; do
    # many replicas, so that routing choices matter
    cases+=("bench-1m-256-$pol|bench-1m|workload.requests=200000 cluster.pools.[0].replicas=256 workload.arrivals.rate=3200 router.policy=\"$pol\"")
    # KV pressure: small caches force preemption (recompute and swap)
    for pre in recompute swap; do
      for sch in continuous chunked-prefill; do
        cases+=("azure-kv-$sch-$pre-$pol|azure-conv-llama2-70b|output.requests=true scheduler.policy=\"$sch\" scheduler.preemption=\"$pre\" router.policy=\"$pol\" cluster.pools.[0].tp=2 cluster.pools.[0].replicas=8 workload.load_scale=3")
      done
    done
    for sch in static dynamic; do
      cases+=("spike-$sch-$pol|gpt3-a100-spike|output.requests=true scheduler.policy=\"$sch\" router.policy=\"$pol\"")
    done
    cases+=("classes-max-queue-$pol|llama2-13b-a10-vs-a100|output.requests=true scheduler.max_queue=4 router.policy=\"$pol\"")
  done
fi

bad=0 n=0
for c in "${cases[@]}"; do
  IFS='|' read -r name sc sets <<< "$c"
  args=()
  for s in $sets; do args+=(--set "$s"); done
  for b in old new; do
    dir=$old
    [[ $b == new ]] && dir=$new
    if ! "$dir/clustersim" run "$root/scenarios/$sc.cfg" -q --seed 7 -o "$tmp/$b/$name" "${args[@]}" \
        > /dev/null 2> "$tmp/err"; then
      echo "FAIL $name ($b build):"; cat "$tmp/err"; bad=1; continue 2
    fi
  done
  for f in "$tmp/old/$name"/*; do
    g="$tmp/new/$name/$(basename "$f")"
    if [[ -n $ignore && $(basename "$f") == summary.json ]]; then
      # the keys the new build added, and the comma a removed last key leaves
      strip() { grep -vE "\"($ignore)\"" "$1" | sed -E 's/,$//'; }
      if ! cmp -s <(strip "$f") <(strip "$g"); then echo "DIFFERS $name/summary.json"; bad=1; fi
    elif ! cmp -s "$f" "$g"; then echo "DIFFERS $name/$(basename "$f")"; bad=1; fi
  done
  [[ $(ls "$tmp/old/$name" | wc -l) -eq $(ls "$tmp/new/$name" | wc -l) ]] || { echo "DIFFERS $name: files"; bad=1; }
  n=$((n + 1))
  rm -rf "$tmp/old/$name" "$tmp/new/$name"
done
echo "same-outputs: $n cases, $([[ $bad -eq 0 ]] && echo "all byte-identical" || echo "DIFFERENCES")"
exit $bad
