#!/usr/bin/env python3
# models/validation/serving/make_traces.py: writes the request traces of the
# Anyscale cases (anyscale_*.csv) the way the Anyscale benchmark harness
# (anyscale/llm-continuous-batching-benchmarks @ce08a149) draws its requests:
# output lengths from an exponential of mean 128, rounded, rejection-sampled
# below the cap, at least 1 (vLLM max_tokens >= 1; ignore_eos); throughput
# runs send 1000 prompts of exactly 512 tokens at once; latency runs send
# 5000 prompts of uniform 128..384 tokens as a Poisson process. It also
# writes DistServe's chatbot trace (distserve_sharegpt_opt13b.csv, from the
# recorded lengths in distserve_sharegpt_opt13b_400.csv; see the end). Fixed
# seeds, so the files are reproducible: python3 make_traces.py (in this folder).
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

# DistServe's chatbot row (PD4, scenarios/validation-distserve-chatbot-
# opt13b.cfg): distserve_sharegpt_opt13b.csv replays the 400 requests
# DistServe recorded on its prepared ShareGPT set with OPT-13B
# (distserve_sharegpt_opt13b_400.csv, see README.md), prompt and output
# kept in pairs, as a Poisson process of 1 request/s (workload.trace.
# time_scale = R gives R requests/s). Its first 400 rows are those requests
# in DistServe's order, so `workload.requests = N` sends the N requests
# each of DistServe's N-request runs sent; the rows after them are pairs
# drawn from the 400 with replacement, for the long runs of the bisection.
with open("distserve_sharegpt_opt13b_400.csv") as f:
    pairs = [tuple(int(x) for x in line.split(",")) for line in f.read().split("\n")[1:] if line]
rnd = random.Random(3000)
t = 0.0
with open("distserve_sharegpt_opt13b.csv", "w") as f:
    f.write("TIMESTAMP,ContextTokens,GeneratedTokens\n")
    for i in range(30000):
        if i:
            t += rnd.expovariate(1.0)
        p, o = pairs[i] if i < len(pairs) else rnd.choice(pairs)
        f.write("%.4f,%d,%d\n" % (t, p, o))
