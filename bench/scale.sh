#!/usr/bin/env bash
# bench/scale.sh: the serving simulation's cost per event against the
# cluster size (issue "Scale"). Runs scenarios/bench-1m.cfg (Llama 2 7B,
# continuous batching) at the same load per replica, 12.5 requests/s each,
# on 16, 1,024 and 8,192 replicas under each routing policy, 10^6 requests
# per run, and prints per run: wall and CPU time, events, ns per event (CPU
# and wall), peak RSS and RSS per replica, and the ratio of ns per event to
# the 16-replica run of the same policy (the target: within 1.3x). Then the
# memory check: 10^7 requests on 16 replicas, whose peak RSS must stay that
# of 10^6 (memory flat in completed requests). Builds nothing; runs one
# process at a time.
#
# usage: bench/scale.sh [BUILD_DIR] [--runs R] [--sizes "16 1024 8192"]
#                       [--policies "power-of-two least-outstanding ..."]
#                       [--requests N] [--no-memory] [--quick] [--csv]
#   BUILD_DIR   default <root>/build
#   --runs R    runs per point, the one with the least CPU time kept (default 3)
#   --sizes     replica counts (default "16 1024 8192"; the first is the reference)
#   --policies  routing policies (default: all five)
#   --requests  requests per run (default 1000000)
#   --no-memory skip the 10^7-request memory check
#   --quick     --runs 1 --sizes "16 1024" --requests 100000, no memory check
#   --csv       one CSV row per point instead of the table
# ns/event is CPU time (user + system) over the events the engine fired
# (summary.json "events"): on a shared machine CPU time moves much less than
# wall time; both are printed. Peak RSS is getrusage's via /usr/bin/time.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build="$root/build"
runs=3
sizes="16 1024 8192"
policies="round-robin random power-of-two least-outstanding least-kv"
requests=1000000
memory=1
csv=0
per_replica_rate=12.5
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs=$2; shift ;;
    --sizes) sizes=$2; shift ;;
    --policies) policies=$2; shift ;;
    --requests) requests=$2; shift ;;
    --no-memory) memory=0 ;;
    --quick) runs=1; sizes="16 1024"; requests=100000; memory=0 ;;
    --csv) csv=1 ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "scale.sh: unknown option $1" >&2; exit 2 ;;
    *) build=$(cd "$1" && pwd) || exit 2 ;;
  esac
  shift
done
cs="$build/clustersim"
cfg="$root/scenarios/bench-1m.cfg"
[[ -x "$cs" ]] || { echo "scale.sh: no $cs (build first)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "scale.sh: needs /usr/bin/time (Debian package time)" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/csscale.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "# clustersim scale benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores," \
     "$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //')"
echo "# build: $build; $requests requests per run, $per_replica_rate requests/s per replica, best of $runs (least CPU time)"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# one N POLICY REQUESTS: best of $runs; sets wall cpu events rss (KiB)
one() {
  local n=$1 pol=$2 req=$3 i
  local rate
  rate=$(awk -v n="$n" -v r="$per_replica_rate" 'BEGIN { printf "%.10g", n * r }')
  wall="" cpu="" events="" rss=""
  for ((i = 1; i <= runs; i++)); do
    rm -rf "$tmp/out"
    if ! /usr/bin/time -f "%e %U %S %M" -o "$tmp/time" "$cs" run "$cfg" -q -o "$tmp/out" \
        --set "cluster.pools.[0].replicas=$n" --set "workload.arrivals.rate=$rate" \
        --set "workload.requests=$req" --set "router.policy=\"$pol\"" 2> "$tmp/err"; then
      cat "$tmp/err" >&2
      exit 1
    fi
    local w u s m c
    read -r w u s m < <(tail -1 "$tmp/time")
    c=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    if [[ -z "$cpu" ]] || awk -v a="$c" -v b="$cpu" 'BEGIN { exit !(a < b) }'; then
      wall=$w cpu=$c rss=$m
      events=$(sed -n 's/^ *"events": \([0-9]*\),\{0,1\}$/\1/p' "$tmp/out/summary.json")
    fi
  done
}

if [[ $csv -eq 1 ]]; then
  echo "policy,replicas,requests,events,wall_s,cpu_s,ns_per_event_cpu,ns_per_event_wall,ratio_vs_first,peak_rss_kib,rss_per_replica_kib"
else
  printf '%-18s %6s %9s %8s %8s %9s %9s %7s %9s %10s\n' policy replicas events wall_s cpu_s \
    ns/ev_cpu ns/ev_wall ratio rss_MiB KiB/replica
fi
for pol in $policies; do
  ref="" ref_rss="" ref_n=""
  for n in $sizes; do
    one "$n" "$pol" "$requests"
    ns=$(awk -v c="$cpu" -v e="$events" 'BEGIN { printf "%.0f", c * 1e9 / e }')
    nsw=$(awk -v c="$wall" -v e="$events" 'BEGIN { printf "%.0f", c * 1e9 / e }')
    if [[ -z "$ref" ]]; then ref=$ns ref_rss=$rss ref_n=$n; fi
    ratio=$(awk -v a="$ns" -v b="$ref" 'BEGIN { printf "%.2f", a / b }')
    # RSS each replica adds over the reference run (KiB), "-" for the reference
    per="-"
    [[ $n -ne $ref_n ]] && per=$(awk -v a="$rss" -v b="$ref_rss" -v n="$n" -v m="$ref_n" \
      'BEGIN { printf "%.2f", (a - b) / (n - m) }')
    if [[ $csv -eq 1 ]]; then
      echo "$pol,$n,$requests,$events,$wall,$cpu,$ns,$nsw,$ratio,$rss,$per"
    else
      printf '%-18s %6d %9d %8.2f %8.2f %9d %9d %7s %9.1f %10s\n' "$pol" "$n" "$events" "$wall" "$cpu" \
        "$ns" "$nsw" "$ratio" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$per"
    fi
  done
done

if [[ $memory -eq 1 ]]; then
  echo "# memory flat in completed requests: 16 replicas, least-outstanding, 10^6 then 10^7 requests"
  for req in 1000000 10000000; do
    one 16 least-outstanding "$req"
    printf '  %8d requests: %9d events, %6.2f s wall, %6.2f s CPU, peak RSS %.1f MiB\n' "$req" "$events" \
      "$wall" "$cpu" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
  done
fi
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
