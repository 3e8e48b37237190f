#!/usr/bin/env python3
# models/validation/serving/make_traces.py: writes the request traces of the
# Anyscale cases (anyscale_*.csv) the way the Anyscale benchmark harness
# (anyscale/llm-continuous-batching-benchmarks @ce08a149) draws its requests:
# output lengths from an exponential of mean 128, rounded, rejection-sampled
# below the cap, at least 1 (vLLM max_tokens >= 1; ignore_eos); throughput
# runs send 1000 prompts of exactly 512 tokens at once; latency runs send
# 5000 prompts of uniform 128..384 tokens as a Poisson process. Fixed seeds,
# so the files are reproducible: python3 make_traces.py (in this folder).
import random

def capped_exp(rnd, cap):
    while True:
        s = round(rnd.expovariate(1 / 128))
        if s <= cap:
            return max(s, 1)

for cap in (32, 128, 512, 1536):
    rnd = random.Random(1000 + cap)
    with open("anyscale_cap%d.csv" % cap, "w") as f:
        f.write("TIMESTAMP,ContextTokens,GeneratedTokens\n")
        for _ in range(1000):
            f.write("0.0,512,%d\n" % capped_exp(rnd, cap))

for qps in (1, 4):
    rnd = random.Random(2000 + qps)
    t = 0.0
    with open("anyscale_lat_qps%d.csv" % qps, "w") as f:
        f.write("TIMESTAMP,ContextTokens,GeneratedTokens\n")
        for i in range(5000):
            if i:
                t += rnd.expovariate(qps)
            f.write("%.4f,%d,%d\n" % (t, rnd.randint(128, 384), capped_exp(rnd, 1536)))
