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
#   --runs R    rounds over the sizes (interleaved), the least CPU time per
#               point kept (default 3)
#   --sizes     replica counts (default "16 1024 8192"; the first is the reference)
#   --policies  routing policies (default: all five; "" for the memory check alone)
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

# once N POLICY REQUESTS: one run; sets wall cpu events rss (KiB)
once() {
  local n=$1 pol=$2 req=$3 rate w u s m
  rate=$(awk -v n="$n" -v r="$per_replica_rate" 'BEGIN { printf "%.10g", n * r }')
  rm -rf "$tmp/out"
  if ! /usr/bin/time -f "%e %U %S %M" -o "$tmp/time" "$cs" run "$cfg" -q -o "$tmp/out" \
      --set "cluster.pools.[0].replicas=$n" --set "workload.arrivals.rate=$rate" \
      --set "workload.requests=$req" --set "router.policy=\"$pol\"" 2> "$tmp/err"; then
    cat "$tmp/err" >&2
    exit 1
  fi
  read -r w u s m < <(tail -1 "$tmp/time")
  wall=$w rss=$m
  cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
  events=$(sed -n 's/^ *"events": \([0-9]*\),\{0,1\}$/\1/p' "$tmp/out/summary.json")
}

# best POLICY REQUESTS N...: $runs rounds over the sizes (interleaved, so
# that every size sees the same machine), the least CPU time per size kept
# in B_wall[n] B_cpu[n] B_events[n] B_rss[n]
declare -A B_wall B_cpu B_events B_rss
best() {
  local pol=$1 req=$2 i n
  shift 2
  for n in "$@"; do B_cpu[$n]=""; done
  for ((i = 1; i <= runs; i++)); do
    for n in "$@"; do
      once "$n" "$pol" "$req"
      if [[ -z "${B_cpu[$n]}" ]] || awk -v a="$cpu" -v b="${B_cpu[$n]}" 'BEGIN { exit !(a < b) }'; then
        B_wall[$n]=$wall B_cpu[$n]=$cpu B_events[$n]=$events B_rss[$n]=$rss
      fi
    done
  done
}

if [[ -z "${policies// /}" ]]; then
  :
elif [[ $csv -eq 1 ]]; then
  echo "policy,replicas,requests,events,wall_s,cpu_s,ns_per_event_cpu,ns_per_event_wall,ratio_vs_first,peak_rss_kib,rss_per_replica_kib"
else
  printf '%-18s %6s %9s %8s %8s %9s %9s %7s %9s %10s\n' policy replicas events wall_s cpu_s \
    ns/ev_cpu ns/ev_wall ratio rss_MiB KiB/replica
fi
for pol in $policies; do
  # shellcheck disable=SC2086
  best "$pol" "$requests" $sizes
  ref="" ref_rss="" ref_n=""
  for n in $sizes; do
    wall=${B_wall[$n]} cpu=${B_cpu[$n]} events=${B_events[$n]} rss=${B_rss[$n]}
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
    best least-outstanding "$req" 16
    printf '  %8d requests: %9d events, %6.2f s wall, %6.2f s CPU, peak RSS %.1f MiB\n' "$req" "${B_events[16]}" \
      "${B_wall[16]}" "${B_cpu[16]}" "$(awk -v k="${B_rss[16]}" 'BEGIN { print k / 1024 }')"
  done
fi
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
