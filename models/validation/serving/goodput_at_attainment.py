#!/usr/bin/env python3
# models/validation/serving/goodput_at_attainment.py: the highest arrival
# rate at which a share of requests meets every SLO target of a scenario
# (DistServe's goodput: "90% SLO attainment"), per GPU, by bisection over
# workload.arrivals.rate on clustersim's slo_attainment. `run
# --slo-capacity` answers a different question (a percentile of each
# target); this one is what DistServe's figure 8 plots.
#
#   python3 models/validation/serving/goodput_at_attainment.py \
#       scenarios/validation-distserve-chatbot-opt13b.cfg --gpus 1 [--set KEY=VALUE]...
#
# Prints the rate (requests/s), the rate per GPU and the runs it took.
#
# --rates R1,R2,... (per GPU) measures as DistServe's artifact does
# (LLMServe/DistServe evaluation/ae-scripts/e2e/_plot.py and the
# *-client.sh scripts): one short run per listed rate, --requests-per-gpu
# requests each (100 for OPT-13B there), no warm-up, and the goodput where
# the attainment first crosses the target, linearly interpolated between
# the two rates around it. Near a flat attainment curve the bisection's
# answer depends on its path; this one depends only on the listed rates.
# --trace-rate R0: the scenario replays a trace of R0 requests/s
# (workload.trace) instead of drawing arrivals; a rate R is then run as
# workload.trace.time_scale = R / R0 (with --rates, the trace's first
# N rows are the N requests sent). Nothing here is fitted; the scenario and its --set overrides are passed
# to `clustersim run` unchanged (no shell).
import argparse
import json
import os
import subprocess
import sys
import tempfile


def attainment(binary, scenario, outdir, rate, sets, trace_rate=None):
    """slo_attainment of one run at `rate` requests/s (NaN if none decided);
    with trace_rate, the scenario's trace (trace_rate requests/s) is replayed
    at `rate` by its time_scale."""
    cmd = [binary, "run", scenario, "-q", "-o", outdir]
    if trace_rate:
        cmd += ["--set", "workload.trace.time_scale=%.6g" % (rate / trace_rate)]
    else:
        cmd += ["--set", "workload.arrivals.rate=%.6g" % rate]
    for s in sets:
        cmd += ["--set", s]
    res = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if res.returncode != 0:
        sys.exit("goodput_at_attainment: %s failed:\n%s" % (" ".join(cmd), res.stderr))
    with open(os.path.join(outdir, "summary.json")) as f:
        return json.load(f)["slo_attainment"]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("scenario")
    ap.add_argument("--gpus", type=int, required=True, help="GPUs of the cluster, for the per-GPU rate")
    ap.add_argument("--set", dest="sets", action="append", default=[], help="KEY=VALUE passed to clustersim run")
    ap.add_argument("--target", type=float, default=0.9, help="share of requests meeting the SLO (default 0.9)")
    ap.add_argument("--lo", type=float, default=0.05, help="a rate known to meet the target (requests/s)")
    ap.add_argument("--max-rate", type=float, default=1000.0, help="give up above this rate")
    ap.add_argument("--tolerance", type=float, default=0.01, help="relative bracket (default 1%%)")
    ap.add_argument("--clustersim", default="build/clustersim")
    ap.add_argument("--rates", help="per-GPU rates, comma-separated: DistServe's fixed-rate method instead of bisection")
    ap.add_argument("--requests-per-gpu", type=int, default=100, help="with --rates: requests per run per GPU (default 100)")
    ap.add_argument("--trace-rate", type=float, help="the scenario replays a trace of this many requests/s: rates scale its time")
    a = ap.parse_args()

    if a.rates:
        rates = [float(r) for r in a.rates.split(",")]
        n = a.requests_per_gpu * a.gpus
        sets = a.sets + ["warmup_s=0", "workload.duration_s=0", "workload.requests=%d" % n]
        ys = []
        with tempfile.TemporaryDirectory(prefix="goodput-") as out:
            for r in rates:
                ys.append(attainment(a.clustersim, a.scenario, out, r * a.gpus, sets, a.trace_rate))
                print("per-GPU rate %.4g: attainment %.3f" % (r, ys[-1]))
        for i in range(len(rates) - 1):
            y0, y1 = ys[i], ys[i + 1]
            if (y0 < a.target) != (y1 < a.target):
                x = rates[i] + (a.target - y0) * (rates[i + 1] - rates[i]) / (y1 - y0)
                print("goodput %.3f per GPU, %.3f requests/s (%d GPUs, %d requests per run, first crossing of %g)"
                      % (x, x * a.gpus, a.gpus, n, a.target))
                return
        sys.exit("goodput_at_attainment: the attainment does not cross %g over the listed rates" % a.target)

    runs = 0
    with tempfile.TemporaryDirectory(prefix="goodput-") as out:
        def ok(rate):
            nonlocal runs
            runs += 1
            return attainment(a.clustersim, a.scenario, out, rate, a.sets, a.trace_rate) >= a.target
        lo, hi = a.lo, 2 * a.lo
        if not ok(lo):
            sys.exit("goodput_at_attainment: the target is missed already at %g requests/s" % lo)
        while ok(hi):
            lo, hi = hi, 2 * hi
            if hi > a.max_rate:
                sys.exit("goodput_at_attainment: the target is still met at %g requests/s" % lo)
        while hi / lo > 1 + a.tolerance:
            mid = (lo * hi) ** 0.5
            if ok(mid):
                lo = mid
            else:
                hi = mid
    print("rate %.3f requests/s, %.3f per GPU (%d GPUs, bracket %.3f-%.3f, %d runs)"
          % (lo, lo / a.gpus, a.gpus, lo, hi, runs))


if __name__ == "__main__":
    main()
