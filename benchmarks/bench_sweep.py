"""Benchmark: `tcomodel sweep` throughput on the default scenario, and its ratio to evaluating the same
sampled scenarios one at a time.

    python benchmarks/bench_sweep.py [--samples 100000] [--loop 200] [--repeats 3] [--seed 1]

The sweep is timed end to end in-process (`run_sweep`: draws, per-chunk values, one `evaluate` per chunk,
results), after the model run it starts from. The one-at-a-time figure times a Python loop of --loop
single evaluations of the same metrics (levelized cost and NPV per option) on the first --loop samples
and extrapolates linearly to --samples (stated in the output). Medians over --repeats runs. No
assertions: prints timings only.
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

from tcomodel.finance import run_model  # noqa: E402
from tcomodel.inputs import load_scenario, write_scenario_workbook  # noqa: E402
from tcomodel.sheet import evaluate  # noqa: E402
from tcomodel.sweep import run_sweep  # noqa: E402
from tcomodel.sweep.montecarlo import chunk_values  # noqa: E402


def default_run():
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "default.xlsx"
        write_scenario_workbook(path)  # what `tcomodel init` writes
        return run_model(load_scenario(path))


def single_values(model, base, inputs, draws_row) -> dict:
    """One sample as a single scenario: sampled scalars 0-d, sampled rows [quarters] (no leading axis)."""
    vals = chunk_values(model, base, inputs, draws_row[None, :])
    sampled = {n for si in inputs for n in si.names}
    return {k: (v[0] if k in sampled else v) for k, v in vals.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--loop", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chunks", default="1000,2500,auto,10000", help="chunk sizes to compare (one run each)")
    a = ap.parse_args(argv)

    t0 = time.perf_counter()
    run = default_run()
    m = run.model
    print(f"default scenario: {len(m.options)} options, {len(m.quarters)} quarters, "
          f"{len(run.scenario.ranges)} Ranges rows; model run in {time.perf_counter() - t0:.2f} s")

    times, res = [], None
    for _ in range(a.repeats):
        t = time.perf_counter()
        res = run_sweep(run, a.samples, a.seed)
        times.append(time.perf_counter() - t)
    vec = statistics.median(times)
    print(f"sweep, {a.samples:,} samples (chunks of {res.chunk_samples:,}): median {vec:.2f} s over {a.repeats} runs "
          f"-> {a.samples / vec:,.0f} scenario-evaluations/s ({vec / a.samples * 1e6:.1f} us each)")

    oids = list(m.options)
    metrics = [m.options[o].levelized for o in oids] + [m.comparisons[o].npv for o in oids if o in m.comparisons]
    base = m.values()
    singles = [single_values(m, base, res.inputs, res.draws[i]) for i in range(a.loop)]
    loop_times, out = [], None
    for _ in range(a.repeats):
        t = time.perf_counter()
        out = [evaluate(metrics, v, periods=len(m.quarters)) for v in singles]
        loop_times.append(time.perf_counter() - t)
    per_eval = statistics.median(loop_times) / a.loop
    loop_est = per_eval * a.samples
    print(f"one at a time: median {per_eval * 1e3:.2f} ms per single evaluate (timed {a.loop} samples x "
          f"{a.repeats} runs), extrapolated to {a.samples:,}: {loop_est:.0f} s ({1 / per_eval:,.0f} evaluations/s)")
    print(f"ratio, sweep vs one at a time: {loop_est / vec:.0f}x")
    # sanity: the single runs reproduce the sweep's samples
    worst = max(abs(float(out[i][m.options[o].levelized]) - res.levelized[i, k]) / abs(res.levelized[i, k])
                for i in range(a.loop) for k, o in enumerate(oids))
    print(f"check: largest relative difference sweep vs single evaluations (levelized, {a.loop} samples): {worst:.1e}")

    for c in a.chunks.split(","):
        t = time.perf_counter()
        r = run_sweep(run, a.samples, a.seed, chunk_samples=None if c == "auto" else int(c))
        dt = time.perf_counter() - t
        print(f"  chunk {('auto=' + format(r.chunk_samples, ',')) if c == 'auto' else format(int(c), ','):>12}: "
              f"{dt:.2f} s, {a.samples / dt:,.0f} evaluations/s (one run)")
    print(f"total benchmark time {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
