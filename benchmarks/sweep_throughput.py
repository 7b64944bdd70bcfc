"""Benchmark: Monte Carlo samples per second with every input varied, and peak memory at a large sample count.

    python benchmarks/sweep_throughput.py [--samples 100000] [--memory-samples 1000000] [--repeats 3] [--seed 1]

Every scalar input of the default scenario that the sweep may move (structural ones aside: vintage counts,
terms, quarter positions) gets a triangular +/-10% range around its base value, and every per-quarter input
(the Workload rows, each self-hosted option's capacity, resale curves) a triangular 0.9..1.1 multiplier;
inputs whose base is 0 are listed apart (a +/-10% range of 0 is 0). Two timings, medians of --repeats:

- sweep: ``run_sweep`` end to end (draws, one evaluate per chunk of the line items the metrics need, the
  drivers' second pass), samples per second;
- every line item: the same draws, then one evaluate per chunk of every line item of the model.

Peak memory: a child process runs the sweep at --memory-samples; the benchmark adds up the proportional set size
(PSS, /proc/PID/smaps_rollup, Linux) of it and its workers every 0.1 s and prints the peak (resident-set peaks
too, which overstate a forked tree).
Prints figures and the ratio to the issue's target (100,000 samples/s); no assertions. Figures depend on the
machine: the output names its CPU count.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tcomodel.finance import run_model  # noqa: E402
from tcomodel.heap import keep_freed_heap  # noqa: E402
from tcomodel.finance.input_ranges import STRUCTURAL_SUFFIXES, SampledInput  # noqa: E402
from tcomodel.inputs import load_scenario, write_scenario_workbook  # noqa: E402
from tcomodel.sheet import evaluate  # noqa: E402
from tcomodel.sheet.engine import collect_items, live_rows  # noqa: E402
from tcomodel.sweep import run_sweep  # noqa: E402
from tcomodel.sweep.montecarlo import (  # noqa: E402
    CHUNK_MEMORY_BYTES, MAX_CHUNK_SAMPLES, chunk_values, default_workers, map_chunks,
)
from tcomodel.sweep.sampling import Sampler  # noqa: E402

TARGET_SAMPLES_PER_S = 100_000
SWING = 0.10


def default_run():
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "default.xlsx"
        write_scenario_workbook(path)  # what `tcomodel init` writes
        return run_model(load_scenario(path))


def every_input(model) -> tuple[list[SampledInput], list[str]]:
    """A +/-10% triangular range on every continuous scalar input, a 0.9..1.1 multiplier on every row input."""
    out, zero = [], []
    for name, d in model.inputs.items():
        if name.rsplit(".", 1)[-1] in STRUCTURAL_SUFFIXES:
            continue
        base = float(d.value)
        if base == 0:
            zero.append(name)
            continue
        lo, hi = sorted((base * (1 - SWING), base * (1 + SWING)))
        out.append(SampledInput(f"bench!{name}", name, name, [name], False, None, lo, base, hi, "triangular"))
    for name, d in model.row_inputs.items():
        out.append(SampledInput(f"bench!{name}", name, name, [name], True, None, 1 - SWING, 1.0, 1 + SWING,
                                "triangular", clip_share=name.endswith(("_share", "resale_share_by_age"))))
    return out, zero


def time_sweep(run, inputs, samples, seed, lhs=False, workers=None) -> float:
    t0 = time.perf_counter()
    run_sweep(run, samples, seed, inputs=inputs, lhs=lhs, workers=workers)
    return time.perf_counter() - t0


class EveryItem:
    """A chunk's draws and one evaluate of every line item of the model; keeps each item's mean over the chunk
    (a sweep that looks at every line item, not only the metrics)."""

    def __init__(self, run, inputs, samples, seed):
        self.m = run.model
        self.items = self.m.all_items()
        self.base = self.m.values()
        self.inputs = inputs
        self.sm = Sampler(inputs, samples, seed)

    def __call__(self, bounds):
        start, stop = bounds
        vals = chunk_values(self.m, self.base, self.inputs, self.sm.values(self.sm.probabilities(start, stop)))
        res = evaluate(self.items, vals, periods=len(self.m.quarters), only=True)
        return start, stop, [float(np.mean(v)) for v in res.values()]


def time_all_items(run, inputs, samples, seed, chunk, workers) -> float:
    job = EveryItem(run, inputs, samples, seed)
    keep_freed_heap(chunk * len(run.model.quarters) * 8)  # as run_sweep does for its chunks
    bounds = [(s, min(samples, s + chunk)) for s in range(0, samples, chunk)]
    t0 = time.perf_counter()
    for _ in map_chunks(job, bounds, workers):
        pass
    return time.perf_counter() - t0


def memory_child(samples: int, seed: int, workers: int) -> None:
    run = default_run()
    inputs, _ = every_input(run.model)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    run_sweep(run, samples, seed, inputs=inputs, workers=workers)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest worker (forked: shares pages)
    print(f"{peak / 1024:.0f} {before / 1024:.0f} {time.perf_counter() - t0:.1f} {child / 1024:.0f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--memory-samples", type=int, default=1_000_000, help="0 skips the memory run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=default_workers(), help="worker processes [default: one per CPU]")
    ap.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--memory-workers", type=int, default=1, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.memory_child is not None:
        memory_child(a.memory_child, a.seed, a.memory_workers)
        return

    run = default_run()
    m = run.model
    inputs, zero = every_input(m)
    oids = list(m.options)
    metrics = [m.options[o].levelized for o in oids] + [m.comparisons[o].npv for o in oids if o in m.comparisons]
    n_needed, n_all = len(collect_items(metrics)), len(collect_items(m.all_items()))
    print(f"machine: {os.cpu_count()} CPUs (nproc), Python {sys.version.split()[0]}")
    print(f"default scenario: {len(oids)} options, {len(m.quarters)} quarters; {len(inputs)} inputs varied "
          f"({sum(not s.is_row for s in inputs)} scalars +/-10%, {sum(s.is_row for s in inputs)} per-quarter rows "
          f"x 0.9..1.1); {len(zero)} scalars at 0 left out; line items: {n_needed} the metrics need, {n_all} in all")
    w = a.workers
    sweep_1 = statistics.median(time_sweep(run, inputs, a.samples, a.seed, workers=1) for _ in range(a.repeats))
    sweep_s = statistics.median(time_sweep(run, inputs, a.samples, a.seed, workers=w) for _ in range(a.repeats))
    lhs_s = statistics.median(time_sweep(run, inputs, a.samples, a.seed, lhs=True, workers=w) for _ in range(a.repeats))
    items = m.all_items()
    chunk = int(max(256, min(MAX_CHUNK_SAMPLES, CHUNK_MEMORY_BYTES // (live_rows(items, len(m.quarters))
                                                                          * len(m.quarters) * 8 * w))))
    all_s = statistics.median(time_all_items(run, inputs, a.samples, a.seed, chunk, w) for _ in range(a.repeats))
    for label, secs in (("sweep, 1 process", sweep_1), (f"sweep, {w} worker processes", sweep_s),
                        (f"sweep --lhs, {w} workers", lhs_s),
                        (f"every line item ({n_all}), chunk {chunk:,}, {w} workers", all_s)):
        rate = a.samples / secs
        print(f"{label:<48} {a.samples:>9,} samples in {secs:6.2f} s = {rate:>9,.0f} samples/s "
              f"({rate / TARGET_SAMPLES_PER_S:.2f}x the {TARGET_SAMPLES_PER_S:,}/s target)")
    print(f"ratio {w} workers / 1 process: {sweep_1 / sweep_s:.2f}x")
    if a.memory_samples:
        # one process: the whole run's memory; with workers, the parent and the largest worker (a forked worker's
        # resident set counts the pages it shares with the parent, so the two overlap)
        for workers in sorted({1, w}):
            out, tree_pss = run_sampling_pss([sys.executable, __file__, "--memory-child", str(a.memory_samples),
                                              "--seed", str(a.seed), "--memory-workers", str(workers)])
            peak, _, secs, child = (float(x) for x in out.split()[:4])
            # PSS is the figure to read: resident-set peaks count the pages forked workers share with the parent
            # in each, and Linux carries a process's peak across exec from the process that launched it
            print(f"{a.memory_samples:,} samples, memory with {workers} process(es): process tree PSS at its peak {tree_pss:,.0f} MiB "
                  f"(target 500 MB = 477 MiB); sweep {secs:.1f} s; resident-set peaks: process {peak:,.0f} MiB"
                  + (f", largest worker {child:,.0f} MiB" if workers > 1 else ""))


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return next((int(line.split()[1]) for line in f if line.startswith("Pss:")), 0)
    except OSError:  # gone, or not Linux
        return 0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def run_sampling_pss(cmd) -> tuple[str, float]:
    """Run cmd; every 0.1 s add up the proportional set size (PSS: a page shared by k processes counts 1/k in
    each) of it and its worker processes; return its stdout and the peak sum in MiB (0 where /proc has no
    smaps_rollup). Unlike the resident sets, PSS of a forked tree adds up to the memory the tree really holds."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, sum(_pss_kib(p) for p in [proc.pid, *_children(proc.pid)]))
        time.sleep(0.1)
    out = proc.stdout.read()
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd, out)
    return out, peak / 1024


if __name__ == "__main__":
    main()
