#!/usr/bin/env bash
# tests/mpi/sweep_mpi.sh: a small sweep run on local cores and under
# `mpirun -np 2 --oversubscribe` must give the same sweep.csv byte for byte
# (the CTest test `sweep_mpi`, registered when the build found MPI).
# usage: sweep_mpi.sh CLUSTERSIM MPIEXEC SCENARIO WORKDIR
set -eu
cs=$1 mpiexec=$2 cfg=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
# containers: mpirun as root, and no cross-memory attach between ranks
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
args=(sweep "$cfg" --vary 'cluster.pools.[0].replicas=1,2' --vary 'workload.arrivals.rate=2:6:2'
      --replications 2 -q)
"$cs" "${args[@]}" -o "$work/local"
"$mpiexec" -np 2 --oversubscribe "$cs" "${args[@]}" -o "$work/mpi"
if ! cmp "$work/local/sweep.csv" "$work/mpi/sweep.csv"; then
  echo "sweep_mpi: sweep.csv differs between the local and the MPI run" >&2
  diff "$work/local/sweep.csv" "$work/mpi/sweep.csv" | head -20 >&2
  exit 1
fi
rows=$(($(wc -l < "$work/mpi/sweep.csv") - 1))
[ "$rows" -eq 6 ] || { echo "sweep_mpi: $rows points, expected 6" >&2; exit 1; }
echo "sweep_mpi: local and mpirun -np 2 agree on $rows points"
