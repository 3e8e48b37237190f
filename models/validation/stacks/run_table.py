#!/usr/bin/env python3
# models/validation/stacks/run_table.py: runs the scenario of every measurements.csv row that
# names one (`reproduce` = "scenario NAME.cfg ..."), reads the row's metric from summary.json
# (METRIC below), and writes results.csv (one row per measurement: id, stack, role, metric,
# published, predicted, error = predicted / published - 1) and results.md (per stack, fit and
# held-out apart: count, median |error|, share within 15% / 40%, worst row; then the issue 12
# targets on held-out rows, each met or not). Python 3 standard library only.
#   python3 run_table.py [-j 2] [--clustersim PATH] [--only REGEX] [--role fit|held-out]
#                        [--catalog FILE]... [--outdir DIR]
# --catalog is passed to every run (e.g. a partial stack override written by fit_stacks.py);
# --role keeps only the rows of that declared role (fit_stacks.py never runs held-out rows).
# Each scenario runs once (several rows share one) as `clustersim run -q -o TMP FILE`; the two
# scenarios outside this folder get their stack with --set (OVERRIDES).
import argparse
import csv
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))

# measurements.csv `metric` -> (summary.json key, how the key's value becomes the row's unit).
# itl_* (the client's inter-token latency over all tokens) is read as the simulator's TPOT of
# the same statistic: both are the time between two output tokens of a request; the mean ITL
# weights requests by their tokens, the mean TPOT does not (equal for fixed output lengths).
# decode_tokens_per_s is one request's decode rate: 1 / TPOT (rows at concurrency 1).
METRIC = {
    "output_throughput": ("output_tokens_per_s", "rate"),
    "total_token_throughput": ("throughput_tokens_per_s", "rate"),
    "req_throughput": ("throughput_requests_per_s", "rate"),
    "duration": ("sim_time_s", "time"),
    "ttft_mean": ("ttft_mean_s", "time"),
    "ttft_p50": ("ttft_p50_s", "time"),
    "tpot_mean": ("tpot_mean_s", "time"),
    "tpot_p50": ("tpot_p50_s", "time"),
    "itl_mean": ("tpot_mean_s", "time"),
    "itl_p50": ("tpot_p50_s", "time"),
    "e2e_latency": ("e2e_mean_s", "time"),
    "e2e_latency_p50": ("e2e_p50_s", "time"),
    "decode_tokens_per_s": ("tpot_mean_s", "inverse"),
}
TIME_UNIT = {"s": 1.0, "ms": 1e3, "us": 1e6}
RATE_UNIT = ("tok/s", "req/s")

# Scenarios of rows kept outside this folder (models/validation/serving, not ours to edit), which
# name no stack: the profile of the row's stack ("other", vLLM 0.6.6 on the V0 engine: vllm-v1,
# README.md) and the V0 scheduler's token budget without chunked prefill, max(max_model_len,
# 2048) (vllm/engine/arg_utils.py), which vllm-v1's default of 2048 would otherwise replace.
OVERRIDES = {
    "../serving/vllm066-llama70b-4xa100-sharegpt200.cfg":
        ["scheduler.stack=vllm-v1", "scheduler.max_batched_tokens=2048"],
    "../serving/vllm066-llama70b-4xa100-latency-b8.cfg":
        ["scheduler.stack=vllm-v1", "scheduler.max_batched_tokens=8192"],
}

# The targets, on held-out rows. Step and token times: every metric that is the time
# of one decode step or one output token.
TOKEN_TIME = ("tpot_mean", "tpot_p50", "itl_mean", "itl_p50", "decode_tokens_per_s")
E2E_CLASSES = (("TPOT", TOKEN_TIME, 0.10), ("end-to-end latency", ("e2e_latency", "e2e_latency_p50"), 0.15),
               ("TTFT", ("ttft_mean", "ttft_p50"), 0.25))
STACKS = ("vllm-v0", "vllm-v1", "sglang", "tensorrt-llm", "other", "ideal")


def scenario_of(row):
    """The scenario path of a row (absolute), or None when the row names no scenario."""
    m = re.match(r"scenario (\S+\.cfg)", row["reproduce"])
    return os.path.normpath(os.path.join(HERE, m.group(1))) if m else None


def convert(row, summary):
    """The row's metric from summary.json, in the row's unit; None when the key is absent."""
    key, kind = METRIC[row["metric"]]
    v = summary.get(key)
    if not isinstance(v, (int, float)) or v != v:
        return None
    if kind == "rate":
        if row["unit"] not in RATE_UNIT:
            raise SystemExit("run_table.py: %s: unit %s is not a rate" % (row["id"], row["unit"]))
        return float(v)
    if kind == "inverse":
        return 1.0 / v if v > 0 else None
    if row["unit"] not in TIME_UNIT:
        raise SystemExit("run_table.py: %s: unit %s is not a time" % (row["id"], row["unit"]))
    return float(v) * TIME_UNIT[row["unit"]]


def run_one(exe, cfg, tmproot, catalogs=()):
    """Runs one scenario (with each extra catalog file, absolute paths); returns (summary dict
    or None, seconds, error text)."""
    out = tempfile.mkdtemp(prefix="run-", dir=tmproot)
    cmd = [exe, "run", "-q", "-o", out, os.path.basename(cfg)]
    for c in catalogs:
        cmd += ["--catalog", c]
    for kv in OVERRIDES.get(os.path.relpath(cfg, HERE), []):
        cmd += ["--set", kv]
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=os.path.dirname(cfg), capture_output=True, text=True)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        return None, dt, p.stderr.strip()
    with open(os.path.join(out, "summary.json")) as f:
        return json.load(f), dt, ""


def pct(x):
    return "n/a" if x is None else "%+.1f%%" % (100 * x)


def summarize(rows):
    """count, median |error|, share within 15%, within 40%, worst row (of rows with an error)."""
    errs = [r for r in rows if r["error"] is not None]
    if not errs:
        return None
    a = [abs(r["error"]) for r in errs]
    worst = max(errs, key=lambda r: abs(r["error"]))
    return {"n": len(errs), "median": statistics.median(a),
            "w15": sum(x <= 0.15 for x in a) / len(a), "w40": sum(x <= 0.40 for x in a) / len(a),
            "worst": worst}


def stale_test_rows(results):
    """(id, recorded, new) for each row of tests/unit/test_stack_validation.c's table whose
    recorded error differs from this run's by more than half a point (ids not run: skipped)."""
    path = os.path.join(HERE, "..", "..", "..", "tests", "unit", "test_stack_validation.c")
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return []
    now = {r["id"]: r["error"] for r in results}
    out = []
    for m in re.finditer(r'\{"([^"]+)",[^{}]*?([+-]?\d+\.\d+)\},', text):
        rid, old = m.group(1), float(m.group(2))
        if now.get(rid) is not None and abs(now[rid] - old) > 0.005:
            out.append((rid, old, now[rid]))
    return out


def git_commit():
    try:
        return subprocess.run(["git", "-C", HERE, "describe", "--always", "--dirty"], capture_output=True,
                              text=True).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def write_md(path, results, failed, meta):
    L = ["# Serving stacks against published runs (models/validation/stacks/run_table.py)", "",
         "Run %s on commit %s (`%s`), %d scenarios in %.0f s wall time (-j %d). error = predicted / "
         "published - 1 (results.csv has every row); |error| statistics per stack, fit and held-out rows "
         "apart; roles as declared in measurements.csv before fitting." % (
             meta["date"], meta["commit"], meta["command"], meta["scenarios"], meta["wall"], meta["jobs"]), ""]
    L += ["| stack | role | rows | median abs error | within 15% | within 40% | worst row (error) |",
          "|---|---|---|---|---|---|---|"]
    for st in STACKS:
        for role in ("fit", "held-out"):
            s = summarize([r for r in results if r["stack"] == st and r["role"] == role])
            if s:
                L.append("| %s | %s | %d | %.1f%% | %.0f%% | %.0f%% | %s (%s) |" % (
                    st, role, s["n"], 100 * s["median"], 100 * s["w15"], 100 * s["w40"], s["worst"]["id"],
                    pct(s["worst"]["error"])))
    for role in ("fit", "held-out"):
        s = summarize([r for r in results if r["role"] == role])
        if s:
            L.append("| all | %s | %d | %.1f%% | %.0f%% | %.0f%% | %s (%s) |" % (
                role, s["n"], 100 * s["median"], 100 * s["w15"], 100 * s["w40"], s["worst"]["id"],
                pct(s["worst"]["error"])))
    L += ["", "## The issue's targets (held-out rows)", ""]
    held = [r for r in results if r["role"] == "held-out" and r["error"] is not None]
    tok = [r for r in held if r["metric"] in TOKEN_TIME]
    if tok:
        a = [abs(r["error"]) for r in tok]
        worst = max(tok, key=lambda r: abs(r["error"]))
        med_ok, max_ok = statistics.median(a) <= 0.15, max(a) <= 0.40
        L.append("- Step and token times (%s; %d held-out rows, all stacks): median |error| %.1f%% (target "
                 "<= 15%%: %s), worst %s %s (target: no row beyond 40%%: %s; %d rows beyond)." % (
                     ", ".join(TOKEN_TIME), len(tok), 100 * statistics.median(a), "met" if med_ok else "NOT met",
                     worst["id"], pct(worst["error"]), "met" if max_ok else "NOT met",
                     sum(x > 0.40 for x in a)))
    v1 = [r for r in held if r["stack"] == "vllm-v1" and r["tp"] == "1"
          and re.search(r"Poisson|concurrency 1", r["load"])]
    L.append("- vLLM V1 under load on single cards (%d held-out rows of stack vllm-v1, tp 1, Poisson "
             "arrivals or concurrency 1):" % len(v1))
    for name, metrics, target in E2E_CLASSES:
        rs = [r for r in v1 if r["metric"] in metrics]
        if not rs:
            L.append("  - %s <= %.0f%%: no row, not measured." % (name, 100 * target))
            continue
        ok = all(abs(r["error"]) <= target for r in rs)
        L.append("  - %s <= %.0f%%: %s (%s)." % (name, 100 * target, "met" if ok else "NOT met",
                                                 "; ".join("%s %s [%s]" % (
                                                     r["id"], pct(r["error"]),
                                                     "Poisson" if "Poisson" in r["load"] else "concurrency 1")
                                                     for r in rs)))
    L.append("- vLLM V1 under Poisson load on TP 2 over PCIe: no published row found "
             "(README.md, \"What could not be found\"): not measured.")
    if failed:
        L += ["", "## Scenarios that did not run", ""]
        for cfg, why in failed:
            L.append("- %s: %s" % (cfg, why.replace("\n", " ")[:300]))
    L += ["", "## Every row", "", "| id | stack | role | metric | published | predicted | error |",
          "|---|---|---|---|---|---|---|"]
    for r in results:
        L.append("| %s | %s | %s | %s | %.4g %s | %s | %s |" % (
            r["id"], r["stack"], r["role"], r["metric"], r["published"], r["unit"],
            "n/a" if r["predicted"] is None else "%.4g" % r["predicted"], pct(r["error"])))
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-j", "--jobs", type=int, default=2, help="scenarios run at once (default 2)")
    ap.add_argument("--clustersim", default=os.environ.get("CLUSTERSIM", os.path.join(
        HERE, "..", "..", "..", "build", "clustersim")), help="the program (default ../../../build/clustersim)")
    ap.add_argument("--only", default="", help="run only rows whose id matches this regular expression")
    ap.add_argument("--role", choices=("fit", "held-out"), default=None,
                    help="run only the rows of this declared role")
    ap.add_argument("--catalog", action="append", default=[], metavar="FILE",
                    help="extra catalog file passed to every clustersim run (repeatable)")
    ap.add_argument("--outdir", default=None, help="where results.csv and results.md go (default: here; "
                    "required with --only, --role or --catalog, so that a partial or modified table never "
                    "replaces the committed one)")
    args = ap.parse_args()
    if args.outdir is None:
        if args.only or args.role or args.catalog:
            raise SystemExit("run_table.py: --only, --role and --catalog need --outdir (results.csv here is "
                             "the full table on the shipped catalog)")
        args.outdir = HERE
    catalogs = [os.path.abspath(c) for c in args.catalog]
    for c in catalogs:
        if not os.path.isfile(c):
            raise SystemExit("run_table.py: --catalog %s: no such file" % c)
    exe = os.path.abspath(args.clustersim)
    if not os.access(exe, os.X_OK):
        raise SystemExit("run_table.py: %s is not an executable clustersim (build it, or --clustersim)" % exe)
    with open(os.path.join(HERE, "measurements.csv"), newline="") as f:
        rows = [r for r in csv.DictReader(f) if scenario_of(r) and re.search(args.only, r["id"])
                and (args.role is None or r["role"] == args.role)]
    if not rows:
        raise SystemExit("run_table.py: no row with a scenario matches --only %r --role %s" % (args.only, args.role))
    for r in rows:
        if r["metric"] not in METRIC:
            raise SystemExit("run_table.py: %s: no summary key for metric %s" % (r["id"], r["metric"]))
    cfgs = sorted({scenario_of(r) for r in rows})
    for cfg in cfgs:
        with open(cfg) as f:
            names = re.search(r"^\s*scheduler\s*=\s*\{[^}]*\bstack\s*=", f.read(), re.M)
        if not names and os.path.relpath(cfg, HERE) not in OVERRIDES:
            raise SystemExit("run_table.py: %s names no scheduler.stack (and has no OVERRIDES entry)" % cfg)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="clustersim-valrun-") as tmp:
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
            futs = {cfg: ex.submit(run_one, exe, cfg, tmp, catalogs) for cfg in cfgs}
            done = {cfg: fut.result() for cfg, fut in futs.items()}
    wall = time.monotonic() - t0
    results, failed = [], []
    for cfg, (summ, dt, err) in sorted(done.items()):
        if summ is None:
            failed.append((os.path.relpath(cfg, HERE), err))
        print("%6.1f s  %s%s" % (dt, os.path.relpath(cfg, HERE), "" if summ else "  FAILED"), file=sys.stderr)
    for r in rows:
        summ = done[scenario_of(r)][0]
        pub = float(r["value"])
        pred = convert(r, summ) if summ else None
        results.append({"id": r["id"], "stack": r["stack"], "role": r["role"], "metric": r["metric"],
                        "unit": r["unit"], "tp": r["tp"], "load": r["load"], "published": pub,
                        "predicted": pred, "error": None if pred is None else pred / pub - 1})
    os.makedirs(args.outdir, exist_ok=True)
    with open(os.path.join(args.outdir, "results.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "stack", "role", "metric", "published", "predicted", "error"])
        for r in results:
            w.writerow([r["id"], r["stack"], r["role"], r["metric"], "%.6g" % r["published"],
                        "" if r["predicted"] is None else "%.6g" % r["predicted"],
                        "" if r["error"] is None else "%.4f" % r["error"]])
    stale = stale_test_rows(results)
    for rid, old, new in stale:
        print("tests/unit/test_stack_validation.c: %s recorded %+.4f, now %+.4f (update its table)"
              % (rid, old, new), file=sys.stderr)
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": git_commit(), "command": "python3 run_table.py -j %d%s%s%s" % (
                args.jobs, " --only '%s'" % args.only if args.only else "",
                " --role %s" % args.role if args.role else "",
                "".join(" --catalog %s" % os.path.relpath(c, HERE) for c in catalogs)),
            "scenarios": len(cfgs), "wall": wall, "jobs": args.jobs}
    write_md(os.path.join(args.outdir, "results.md"), results, failed, meta)
    print("%d rows, %d scenarios (%d failed), %.0f s: %s" % (
        len(results), len(cfgs), len(failed), wall, os.path.join(args.outdir, "results.md")), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
