#!/usr/bin/env python3
# models/validation/stacks/fit_stacks.py: fits each serving stack's host and front-end constants
# (at most three per stack, PARAMS below, each bounded to a range its source allows) on that
# stack's FIT rows of measurements.csv only, and writes the result as a partial stack catalog
# (fitted.cfg by default) that `clustersim run --catalog` and `run_table.py --catalog` read.
# Python 3 standard library only.
#   python3 fit_stacks.py [-j 2] [--clustersim PATH] [--stacks vllm-v0,...] [--out FILE]
# Objective: mean |ln(predicted / published)| over the stack's fit rows (smooth, symmetric in
# over- and under-prediction); the median |error| is reported beside it. Search: a coarse grid
# (3 values per constant, the bounds and their geometric or arithmetic middle), then a plain
# coordinate-wise pattern search from the best grid point (try +-step on each constant, halve
# the step when nothing improves, 3 halvings), every point clipped to the bounds. Held-out rows
# are never read: rows are filtered on role == "fit" before any scenario runs. Rows of stack
# "other" run on vllm-v1 but do not fit it (they are vLLM 0.6, not V1).
# Identification: a stack whose fit lowers the objective by less than MIN_GAIN (absolute, in
# mean |ln|) is reported as "not identified by its fit rows" and left out of the written
# catalog: its constants hardly move its fit rows, so the fit would only chase the bounds.
import argparse
import csv
import itertools
import math
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import run_table

HERE = run_table.HERE
MIN_GAIN = 0.005

# Per stack: (catalog key, low, high, scale) with the source of the range. Synchronous stacks
# (host_overlap = false: vllm-v0, tensorrt-llm) add all host time to each step: fixed + per
# sequence. Overlapped stacks (vllm-v1, sglang) hide host time under the GPU step except
# host_exposed_s: the fixed part and the exposed part are what moves a step.
PARAMS = {
    # vLLM 0.5.x: RFC #6854 / #6801 host gaps of a few ms per step, ~20 ms between steps at batch
    # 200 (about 100 us per sequence at most); front end: the API server share of 0.5.3 (blog).
    "vllm-v0": [("host_fixed_s", 0.0005, 0.006, "log"), ("host_per_seq_s", 0.0, 0.0001, "lin"),
                ("frontend_request_s", 0.001, 0.030, "log")],
    # vLLM V1: the 1-3 ms reported per step (host_source), 0-1 ms never hidden, 2-40 ms of front
    # end (PR #17866: 10-15 ms outside the engine steps; the README's 27-39 ms TTFT gap).
    "vllm-v1": [("host_fixed_s", 0.0005, 0.003, "log"), ("host_exposed_s", 0.0, 0.001, "lin"),
                ("frontend_request_s", 0.002, 0.040, "log")],
    # SGLang 0.4-0.5 overlap scheduler: 0.2-3 ms scheduling, 0-1 ms exposed, 1-20 ms front end.
    "sglang": [("host_fixed_s", 0.0002, 0.003, "log"), ("host_exposed_s", 0.0, 0.001, "lin"),
               ("frontend_request_s", 0.001, 0.020, "log")],
    # TensorRT-LLM C++ batch manager: 0.1-2 ms per step, 0-10 us per sequence, 1-20 ms front end.
    "tensorrt-llm": [("host_fixed_s", 0.0001, 0.002, "log"), ("host_per_seq_s", 0.0, 0.00001, "lin"),
                     ("frontend_request_s", 0.001, 0.020, "log")],
}


def catalog_text(stack, values):
    """The partial catalog that overrides `stack`'s constants with `values` (name -> seconds)."""
    keys = "".join(" %s = %.6g;" % (k, v) for k, v in values.items())
    return "stacks = ( { name = \"%s\";%s } );\n" % (stack, keys)


class Objective:
    """Runs a stack's fit rows with given constants; caches every point it has run."""

    def __init__(self, exe, stack, rows, jobs, tmp):
        self.exe, self.stack, self.rows, self.jobs, self.tmp = exe, stack, rows, jobs, tmp
        self.cfgs = sorted({run_table.scenario_of(r) for r in rows})
        self.cache = {}
        self.runs = 0

    def __call__(self, values):
        key = tuple(round(v, 9) for v in values.values())
        if key in self.cache:
            return self.cache[key]
        fd, cat = tempfile.mkstemp(suffix=".cfg", dir=self.tmp)
        with os.fdopen(fd, "w") as f:
            f.write(catalog_text(self.stack, values))
        with ThreadPoolExecutor(max_workers=self.jobs) as ex:
            futs = {c: ex.submit(run_table.run_one, self.exe, c, self.tmp, [cat]) for c in self.cfgs}
            done = {c: fut.result() for c, fut in futs.items()}
        self.runs += 1
        logs, errs = [], []
        for r in self.rows:
            summ, _, why = done[run_table.scenario_of(r)]
            if summ is None:
                raise SystemExit("fit_stacks.py: %s failed with %s: %s" % (r["id"], values, why[:300]))
            pred = run_table.convert(r, summ)
            if pred is None or pred <= 0:
                raise SystemExit("fit_stacks.py: %s: no %s in summary.json" % (r["id"], r["metric"]))
            logs.append(abs(math.log(pred / float(r["value"]))))
            errs.append(abs(pred / float(r["value"]) - 1))
        res = (statistics.mean(logs), statistics.median(errs))
        self.cache[key] = res
        return res


def grid_values(lo, hi, scale):
    mid = math.sqrt(lo * hi) if scale == "log" and lo > 0 else (lo + hi) / 2
    return [lo, mid, hi]


def fit(obj, params, start):
    """Coarse grid, then coordinate-wise pattern search; returns (best values, (objective, median))."""
    names = [p[0] for p in params]
    best, best_f = None, None
    for combo in itertools.product(*[grid_values(lo, hi, sc) for _, lo, hi, sc in params]):
        v = dict(zip(names, combo))
        f = obj(v)
        if best_f is None or f[0] < best_f[0]:
            best, best_f = v, f
    print("  grid best %s: mean|ln| %.4f, median |error| %.1f%%" % (fmt(best), best_f[0], 100 * best_f[1]),
          file=sys.stderr)
    steps = {n: (hi - lo) / 4 for n, lo, hi, _ in params}
    bounds = {n: (lo, hi) for n, lo, hi, _ in params}
    for _ in range(3):
        improved = True
        while improved:
            improved = False
            for n in names:
                for sgn in (1, -1):
                    v = dict(best)
                    v[n] = min(bounds[n][1], max(bounds[n][0], v[n] + sgn * steps[n]))
                    if v[n] == best[n]:
                        continue
                    f = obj(v)
                    if f[0] < best_f[0] - 1e-6:
                        best, best_f, improved = v, f, True
        steps = {n: s / 2 for n, s in steps.items()}
    return best, best_f


def fmt(values):
    return ", ".join("%s %.3g ms" % (k, 1e3 * v) for k, v in values.items())


def shipped(stack, names):
    """The shipped catalog's value of each constant (models/catalog/stacks.cfg, read as text)."""
    import re
    with open(os.path.join(HERE, "..", "..", "catalog", "stacks.cfg")) as f:
        text = f.read()
    m = re.search(r'name\s*=\s*"%s";(.*?)\n  \}' % re.escape(stack), text, re.S)
    out = {}
    for n in names:
        k = re.search(r"\b%s\s*=\s*([0-9.eE+-]+);" % n, m.group(1))
        out[n] = float(k.group(1))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--clustersim", default=os.environ.get("CLUSTERSIM", os.path.join(
        HERE, "..", "..", "..", "build", "clustersim")))
    ap.add_argument("--stacks", default=",".join(PARAMS), help="comma-separated stacks to fit")
    ap.add_argument("--out", default=os.path.join(HERE, "fitted.cfg"), help="partial catalog written")
    args = ap.parse_args()
    exe = os.path.abspath(args.clustersim)
    with open(os.path.join(HERE, "measurements.csv"), newline="") as f:
        fit_rows = [r for r in csv.DictReader(f) if r["role"] == "fit" and run_table.scenario_of(r)]
    blocks = []
    with tempfile.TemporaryDirectory(prefix="clustersim-fit-") as tmp:
        for st in args.stacks.split(","):
            rows = [r for r in fit_rows if r["stack"] == st]
            params = PARAMS[st]
            obj = Objective(exe, st, rows, args.jobs, tmp)
            t0 = time.monotonic()
            base = shipped(st, [p[0] for p in params])
            f0 = obj(base)
            print("%s: %d fit rows, %d scenarios; shipped %s: mean|ln| %.4f, median |error| %.1f%%" % (
                st, len(rows), len(obj.cfgs), fmt(base), f0[0], 100 * f0[1]), file=sys.stderr)
            best, bf = fit(obj, params, base)
            print("%s: fitted %s: mean|ln| %.4f, median |error| %.1f%% (%d runs, %.0f s); ids: %s" % (
                st, fmt(best), bf[0], 100 * bf[1], obj.runs, time.monotonic() - t0,
                " ".join(sorted(r["id"] for r in rows))), file=sys.stderr)
            if f0[0] - bf[0] < MIN_GAIN:
                print("%s: not identified by its fit rows (gain %.4f < %.3f): shipped constants kept" % (
                    st, f0[0] - bf[0], MIN_GAIN), file=sys.stderr)
                print("%s\tnot-identified\t\t%.4f\t" % (st, f0[0] - bf[0]))
                continue
            blocks.append("  { name = \"%s\";%s }" % (st, "".join(" %s = %.6g;" % kv for kv in best.items())))
            print("%s\tshipped\t%s\t%.4f\t%.4f" % (st, fmt(base), f0[0], f0[1]))
            print("%s\tfitted\t%s\t%.4f\t%.4f" % (st, fmt(best), bf[0], bf[1]))
            sys.stdout.flush()
    with open(args.out, "w") as f:
        f.write("# fitted by fit_stacks.py on the fit rows of measurements.csv (held-out rows never run)\n"
                "stacks = (\n%s\n);\n" % ",\n".join(blocks))
    print("wrote %s" % args.out, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
