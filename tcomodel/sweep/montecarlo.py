"""Monte Carlo over the Ranges sheet: draw every sampled input, evaluate the model once per chunk
along the leading scenario axis, and summarise levelized cost and NPV per option.

All draws are made up front from one seeded numpy Generator, in Ranges-row order, so results do not
depend on the chunk size. Percentiles use linear interpolation (numpy's default, Excel's
PERCENTILE.INC); samples where a metric is #N/A are left out of its percentiles and counted.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from tcomodel.errors import UsageError
from tcomodel.provenance import scenario_file
from tcomodel.sheet import evaluate
from tcomodel.sheet.engine import collect_items
from tcomodel.finance.input_ranges import SampledInput, apply_ranges, resolve_ranges

MAX_SAMPLES = 10_000_000
MAX_CHUNK_SAMPLES = 10_000
CHUNK_MEMORY_BYTES = 400 * 2**20  # what one chunk's line items may hold (float64, [chunk, quarters] each)
PERCENTILES = (10, 50, 90)


@dataclass
class SweepResult:
    scenario_name: str
    currency: str
    baseline: str
    samples: int
    seed: int
    options: dict  # option id -> (kind, label)
    inputs: list[SampledInput]
    draws: np.ndarray  # [samples, inputs]: the value (or Workload multiplier) drawn per Ranges row
    levelized: np.ndarray  # [samples, options], report currency per Mtok
    npv: np.ndarray  # [samples, options]: NPV vs the baseline (0 for the baseline itself)
    base_levelized: dict
    base_npv: dict
    notes: list = field(default_factory=list)
    seconds: float = 0.0
    chunk_samples: int = 0
    scenario_file: str | None = None  # the workbook sampled (resolved path): outputs of another are not replaced

    @property
    def option_ids(self) -> list[str]:
        return list(self.options)

    def cheapest(self) -> np.ndarray:
        """Index of the option with the lowest levelized cost per sample; -1 where none is defined."""
        lev = np.where(np.isnan(self.levelized), np.inf, self.levelized)
        best = np.argmin(lev, axis=1)
        return np.where(np.isfinite(lev[np.arange(len(best)), best]), best, -1)

    def probability_cheapest(self) -> dict:
        counts = np.bincount(self.cheapest() + 1, minlength=len(self.options) + 1)
        return {oid: counts[i + 1] / self.samples for i, oid in enumerate(self.options)}

    def probability_no_cheapest(self) -> float:
        return float(np.count_nonzero(self.cheapest() < 0)) / self.samples

    def stats(self, metric: str) -> dict:
        """Per option: P10, P50, P90, mean, min, max and the count of #N/A samples of one metric."""
        arr = {"levelized": self.levelized, "npv": self.npv}[metric]
        out = {}
        for i, oid in enumerate(self.options):
            col = arr[:, i]
            ok = col[~np.isnan(col)]
            if ok.size == 0:
                out[oid] = {f"p{p}": None for p in PERCENTILES} | {"mean": None, "min": None, "max": None,
                                                                     "na_samples": int(col.size)}
                continue
            pct = np.percentile(ok, PERCENTILES)
            out[oid] = {f"p{p}": float(v) for p, v in zip(PERCENTILES, pct)} | {
                "mean": float(np.mean(ok)), "min": float(np.min(ok)), "max": float(np.max(ok)),
                "na_samples": int(col.size - ok.size)}
        return out


def validate_samples(samples, seed) -> None:
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or not 1 <= samples <= MAX_SAMPLES:
        raise UsageError(f"--samples must be a whole number from 1 to {MAX_SAMPLES:,} (got {samples!r})")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise UsageError(f"--seed must be a whole number of at least 0 (got {seed!r})")


def draw(inputs: list[SampledInput], samples: int, rng: np.random.Generator) -> np.ndarray:
    """[samples, inputs]: one column per Ranges row. low = high gives that value exactly."""
    out = np.empty((samples, len(inputs)))
    for j, si in enumerate(inputs):
        if si.low == si.high:
            out[:, j] = si.low
        elif si.distribution == "uniform":
            out[:, j] = rng.uniform(si.low, si.high, samples)
        else:
            out[:, j] = rng.triangular(si.low, si.mode, si.high, samples)
    return out


def chunk_values(model, base_values: dict, inputs: list[SampledInput], draws: np.ndarray) -> dict:
    """The evaluate() input dict for a block of samples: sampled scalars [n], scaled rows [n, quarters]."""
    return apply_ranges(model, base_values, inputs, draws)


def run_sweep(run, samples: int, seed: int | None = None, *, chunk_samples: int | None = None,
              progress=None) -> SweepResult:
    """Monte Carlo of a model run over its scenario's Ranges sheet.

    ``progress(done_samples, total_samples, elapsed_s)`` is called after each chunk. ``seed`` None
    draws a fresh seed, recorded in the result so the run can be repeated.
    """
    validate_samples(samples, seed)
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    m, sc = run.model, run.scenario
    inputs, notes = resolve_ranges(sc, m)
    if not inputs:
        notes.append("the Ranges sheet samples nothing: every sample is the base case")
    oids = list(m.options)
    metrics = [m.options[o].levelized for o in oids] + [m.comparisons[o].npv for o in oids if o in m.comparisons]
    periods = len(m.quarters)
    if chunk_samples is None:
        per_sample = len(collect_items(metrics)) * periods * 8
        chunk_samples = int(max(256, min(MAX_CHUNK_SAMPLES, CHUNK_MEMORY_BYTES // per_sample)))
    t0 = time.perf_counter()
    draws = draw(inputs, samples, np.random.default_rng(seed))
    base_values = m.values()
    lev = np.empty((samples, len(oids)))
    npv = np.zeros((samples, len(oids)))
    for start in range(0, samples, chunk_samples):
        stop = min(samples, start + chunk_samples)
        vals = chunk_values(m, base_values, inputs, draws[start:stop])
        res = evaluate(metrics, vals, periods=periods)  # one vectorised pass over the chunk's samples
        for i, oid in enumerate(oids):
            lev[start:stop, i] = np.broadcast_to(res[m.options[oid].levelized], (stop - start,))
            if oid in m.comparisons:
                npv[start:stop, i] = np.broadcast_to(res[m.comparisons[oid].npv], (stop - start,))
        if progress is not None:
            progress(stop, samples, time.perf_counter() - t0)
    base_lev = {o: run.scalar(m.options[o].levelized) for o in oids}
    base_npv = {o: (run.scalar(m.comparisons[o].npv) if o in m.comparisons else 0.0) for o in oids}
    return SweepResult(
        scenario_name=sc.settings.scenario_name, currency=m.currency, baseline=m.baseline, samples=samples, seed=seed,
        options={o: (m.options[o].kind, m.options[o].label) for o in oids}, inputs=inputs, draws=draws,
        levelized=lev, npv=npv, base_levelized=base_lev, base_npv=base_npv, notes=notes,
        seconds=time.perf_counter() - t0, chunk_samples=chunk_samples, scenario_file=scenario_file(sc.path))


def _num(x):
    return None if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))) else x


def to_json_dict(res: SweepResult) -> dict:
    lev, npv, prob = res.stats("levelized"), res.stats("npv"), res.probability_cheapest()
    return {
        "scenario": res.scenario_name,
        "scenario_file": res.scenario_file,
        "currency": res.currency,
        "baseline": res.baseline,
        "samples": res.samples,
        "seed": res.seed,
        "method": {
            "sampling": "numpy Generator (PCG64), one draw per Ranges row and sample, in Ranges-row order",
            "triangular": "mode = the base value (Workload: multiplier 1); blank distribution = triangular",
            "percentiles": "linear interpolation (Excel PERCENTILE.INC); #N/A samples left out and counted",
            "cheapest": "lowest levelized cost per Mtok among all options, hosted APIs included",
        },
        "sampled_inputs": [{
            "ranges_cell": si.ranges_cell, "label": si.label, "target": si.target, "inputs": si.names,
            "distribution": si.distribution, "low": si.low, "mode": si.mode, "high": si.high, "unit": si.unit,
            "sample_mean": float(np.mean(res.draws[:, j])), "source": si.source,
        } for j, si in enumerate(res.inputs)],
        "options": {oid: {
            "kind": kind, "label": label,
            "levelized_cost_per_mtok": {"base": _num(res.base_levelized[oid])} | {k: _num(v) for k, v in lev[oid].items()},
            "npv_vs_baseline": {"base": _num(res.base_npv[oid])} | {k: _num(v) for k, v in npv[oid].items()},
            "probability_cheapest": float(prob[oid]),
        } for oid, (kind, label) in res.options.items()},
        "probability_no_cheapest": res.probability_no_cheapest(),
        "notes": list(res.notes),
    }
