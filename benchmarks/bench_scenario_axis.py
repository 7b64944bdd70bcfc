"""Benchmark: one vectorised `evaluate` over a leading scenario axis of 10,000 samples versus a Python
loop of single-scenario evaluations, on the default scenario's model.

    python benchmarks/bench_scenario_axis.py [--samples 10000] [--loop 200] [--repeats 3]

The model is built once. Every scalar input is given as an array of --samples values: money, rates,
shares and other continuous inputs are multiplied by random factors in [0.8, 1.2]; integer inputs
(book life, GPUs per replica, start quarter) stay at their value (still an array of --samples). The
requests row gets a per-sample factor too ([samples, quarters]). The loop evaluates --loop of the same
samples one by one and is extrapolated linearly to --samples (stated in the output). Medians over
--repeats runs. No assertions: this prints timings only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tcomodel.finance import Capacity, build_tco_model  # noqa: E402
from tcomodel.inputs import load_scenario, write_scenario_workbook  # noqa: E402
from tcomodel.sheet import evaluate  # noqa: E402

FIXED = ("start_qidx", "book_life_quarters", "gpus_per_replica")


def default_model():
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "default.xlsx"
        write_scenario_workbook(path)  # what `tcomodel init` writes
        scenario = load_scenario(path)
    n = scenario.settings.horizon_quarters
    try:
        from tcomodel.finance import operating_points

        caps = operating_points(scenario).capacities
        note = "roofline operating points"
    except Exception as exc:  # the roofline is being edited elsewhere: fall back to a fixed capacity
        from tcomodel.inputs.schema import SELF_HOSTED_KINDS

        caps = {oid: Capacity(np.full(n, 500.0), "benchmark") for oid, o in scenario.options.items()
                if o.kind in SELF_HOSTED_KINDS}
        note = f"fixed 500 tok/s per replica (roofline failed: {type(exc).__name__})"
    return scenario, build_tco_model(scenario, caps), note


def sampled_values(model, samples: int, rng) -> dict:
    vals = model.values()
    for name in model.inputs:
        base = np.asarray(vals[name], dtype=float)
        if name.rsplit(".", 1)[-1] in FIXED:
            vals[name] = np.full(samples, float(base))
        else:
            vals[name] = float(base) * rng.uniform(0.8, 1.2, samples)
    vals["workload.requests"] = vals["workload.requests"][None, :] * rng.uniform(0.7, 1.3, (samples, 1))
    return vals


def one_sample(vals: dict, i: int, sampled: set) -> dict:
    """Sample i as a single scenario: scalars as 0-d values, the requests row as [quarters]."""
    return {k: (np.asarray(v)[i] if k in sampled else v) for k, v in vals.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--loop", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)

    t0 = time.perf_counter()
    scenario, model, note = default_model()
    items = model.all_items()
    n = scenario.settings.horizon_quarters
    sampled = set(model.inputs) | {"workload.requests"}
    print(f"default scenario: {len(scenario.options)} options, {n} quarters, {len(items)} line items, "
          f"{len(model.inputs)} scalar inputs; capacity: {note}; built in {time.perf_counter() - t0:.2f} s")

    vals = sampled_values(model, a.samples, np.random.default_rng(a.seed))

    vec_times = []
    for _ in range(a.repeats):
        t = time.perf_counter()
        res = evaluate(items, vals, periods=n)
        vec_times.append(time.perf_counter() - t)
    vec = statistics.median(vec_times)

    loop_times = []
    for _ in range(a.repeats):
        t = time.perf_counter()
        singles = [evaluate(items, one_sample(vals, i, sampled), periods=n) for i in range(a.loop)]
        loop_times.append(time.perf_counter() - t)
    per_eval = statistics.median(loop_times) / a.loop
    loop_est = per_eval * a.samples

    # sanity: the vectorised run and the single runs agree on the sampled scenarios
    some = model.options[model.baseline].tco_pv
    worst = max(abs(float(singles[i][some]) - float(res[some][i])) / max(abs(float(res[some][i])), 1.0)
                for i in range(a.loop))

    print(f"vectorised evaluate, {a.samples:,} scenarios: median {vec:.3f} s over {a.repeats} runs "
          f"({vec / a.samples * 1e6:.1f} us per scenario)")
    print(f"python loop: median {per_eval * 1e3:.2f} ms per single evaluate (timed {a.loop} samples x "
          f"{a.repeats} runs), extrapolated to {a.samples:,}: {loop_est:.1f} s")
    print(f"speed-up of the scenario axis: {loop_est / vec:.0f}x")
    print(f"check: largest relative difference vectorised vs single ({some.label}, {a.loop} samples): {worst:.1e}")
    print(f"total benchmark time {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
