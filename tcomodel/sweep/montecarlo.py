"""Monte Carlo over the Ranges sheet: draw every sampled input, evaluate the model once per chunk
along the leading scenario axis, and summarise levelized cost and NPV per option.

Draws come block by block from tcomodel.sweep.sampling (seeded per block, optionally a Latin hypercube and
rank-correlated), so results do not depend on the chunk size and only the metrics are kept: memory is flat
in the sample count apart from levelized cost and NPV per sample and option. Drivers: the rank correlation
of each sampled input with each option's levelized cost and NPV, from a second pass that regenerates the
draws. Percentiles use linear interpolation (numpy's default, Excel's
PERCENTILE.INC); samples where a metric is #N/A are left out of its percentiles and counted.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from dataclasses import dataclass, field

import numpy as np

from tcomodel.errors import UsageError
from tcomodel.heap import keep_freed_heap, release_freed_heap
from tcomodel.provenance import scenario_file
from tcomodel.sheet import evaluate
from tcomodel.sheet.engine import live_rows
from tcomodel.kinds import SELF_HOSTED_KINDS
from tcomodel.finance.input_ranges import SampledInput, apply_ranges, resolve_ranges
from tcomodel.sweep.sampling import DRAW_BLOCK, Sampler, cdf, resolve_correlations

MAX_SAMPLES = 10_000_000
MAX_CHUNK_SAMPLES = 10_000
CHUNK_MEMORY_BYTES = 160 * 2**20  # what one chunk's line items may hold (float64, [chunk, quarters] each)
KEEP_DRAWS_VALUES = 2_000_000  # keep every sample's draws up to samples x inputs of this (16 MB), else the first rows
KEEP_FIRST_SAMPLES = 1_000  # the sweep workbook's Samples sheet shows these
UNKNOWN_FEE_BANDS = 4  # P(NPV > 0) per band of a sampled unknown fee's range
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
    # [rows, inputs]: the value (or multiplier) drawn per Ranges row; every sample when samples x inputs <=
    # KEEP_DRAWS_VALUES, else the first KEEP_FIRST_SAMPLES
    draws: np.ndarray
    levelized: np.ndarray  # [samples, options], report currency per Mtok
    npv: np.ndarray  # [samples, options]: NPV vs the baseline (0 for the baseline itself)
    base_levelized: dict
    base_npv: dict
    notes: list = field(default_factory=list)
    seconds: float = 0.0
    chunk_samples: int = 0
    scenario_file: str | None = None  # the workbook sampled (resolved path): outputs of another are not replaced
    draw_means: np.ndarray | None = None  # [inputs] mean drawn value over every sample
    lhs: bool = False
    correlations: list = field(default_factory=list)  # sampling.Correlation pairs
    # metric ("levelized" | "npv") -> [inputs, options] rank correlation of input and metric (NaN: undefined)
    drivers: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)  # the base run's (stale prices, operating points): they hold here too
    # options with a quality score (a quality-adjusted cost), and per sample the index of the one cheapest per unit
    # of quality above chance (-1: none defined)
    quality_options: list = field(default_factory=list)
    cheapest_quality: np.ndarray | None = None
    quality_benchmarks: dict = field(default_factory=dict)  # option -> the benchmark its score is from
    # (index into inputs, option, {other option: the fee at which the option costs the same as the other}): the
    # sampled inputs that are a fee the scenario marks unknown (fee_is_assumption), with the build's breakeven fees
    unknown_fees: list = field(default_factory=list)
    # [samples, unknown fees]: each sample's draw of each of those fees, in the order of unknown_fees
    unknown_fee_draws: np.ndarray | None = None
    # the settings every sample shares: discount_rate_annual, tax_rate, first_quarter, last_quarter, quarters
    settings: dict = field(default_factory=dict)

    @property
    def option_ids(self) -> list[str]:
        return list(self.options)

    def cheapest(self) -> np.ndarray:
        """Index of the option with the lowest levelized cost per sample; -1 where none is defined."""
        return cheapest_of(self.levelized, np.arange(len(self.options), dtype=np.int16))

    def _shares(self, winners: np.ndarray, among) -> dict:
        counts = np.bincount(winners.astype(np.int64) + 1, minlength=len(self.options) + 1)
        return {oid: counts[i + 1] / self.samples for i, oid in enumerate(self.options) if oid in among}

    def probability_cheapest(self) -> dict:
        return self._shares(self.cheapest(), self.options)

    @property
    def self_hosted_options(self) -> list[str]:
        return [o for o, (kind, _) in self.options.items() if kind in SELF_HOSTED_KINDS]

    def probability_cheapest_self_hosted(self) -> dict:
        """Per self-hosted option: the share of samples in which it has the lowest levelized cost among the
        self-hosted options (the choice where hosted APIs are ruled out, e.g. for data residency)."""
        ids = np.array([i for i, o in enumerate(self.options) if o in self.self_hosted_options], dtype=np.int16)
        if ids.size == 0:
            return {}
        return self._shares(cheapest_of(self.levelized[:, ids], ids), self.self_hosted_options)

    def probability_cheapest_quality(self) -> dict:
        """Per option with a quality score: the share of samples in which its quality-adjusted levelized cost (per
        unit of benchmark score above chance) is the lowest of those options: cost compared like for like."""
        if self.cheapest_quality is None or not self.quality_options:
            return {}
        return self._shares(self.cheapest_quality, self.quality_options)

    def probability_saving_by_fee(self, k: int, bands: int = UNKNOWN_FEE_BANDS):
        """For the k-th sampled unknown fee (``unknown_fees``): its range cut into ``bands`` equal-width bands, and
        per option but the baseline the share of the band's samples in which switching saves (NPV > 0). Holding the
        unknown fee within a band shows what the other inputs' spread does to the decision. Returns (band edges,
        samples per band, {option: [share per band, None for an empty band]})."""
        j, _, _ = self.unknown_fees[k]
        si, x = self.inputs[j], self.unknown_fee_draws[:, k]
        edges = np.linspace(si.low, si.high, bands + 1)
        band = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, bands - 1)
        counts = np.bincount(band, minlength=bands)
        out = {}
        for i, oid in enumerate(self.options):
            if oid == self.baseline:
                continue
            saves = np.bincount(band, weights=self.npv[:, i] > 0, minlength=bands)
            out[oid] = [float(sv / c) if c else None for sv, c in zip(saves, counts)]
        return edges, counts, out

    def probability_saving(self) -> dict:
        """Per option but the baseline: the share of samples in which switching from the baseline saves money
        (NPV > 0; an undefined NPV is not a saving)."""
        return {oid: float(np.count_nonzero(self.npv[:, i] > 0)) / self.samples
                for i, oid in enumerate(self.options) if oid != self.baseline}

    def base_percentile(self, metric: str) -> dict:
        """Per option: the share of defined samples below the base case's value, samples equal to it counted half
        (a mid-rank: a result that does not vary puts its base at 0.5, the median; None where either is undefined):
        where the base case sits in the distribution."""
        arr, base = {"levelized": (self.levelized, self.base_levelized), "npv": (self.npv, self.base_npv)}[metric]
        out = {}
        for i, oid in enumerate(self.options):
            col = arr[:, i]
            ok = col[~np.isnan(col)]
            b = base[oid]
            out[oid] = (None if ok.size == 0 or b is None or not math.isfinite(b) or (metric == "npv" and oid ==
                        self.baseline) else (np.count_nonzero(ok < b) + 0.5 * np.count_nonzero(ok == b)) / ok.size)
        return out

    def base_outside(self) -> list[tuple[str, str, float]]:
        """(option, metric, base percentile) where the base case lies outside the outer percentiles (P10..P90)."""
        lo, hi = min(PERCENTILES) / 100, max(PERCENTILES) / 100
        at = {m: self.base_percentile(m) for m in ("levelized", "npv")}
        return [(o, m, at[m][o]) for o in self.options for m in ("levelized", "npv")
                if at[m][o] is not None and not lo <= at[m][o] <= hi]

    def input_base_percentile(self, j: int) -> float | None:
        """Where input ``j``'s base value sits in its distribution: the distribution's own share at or below it
        (every sample's draw follows it; None for a multiplier row)."""
        si = self.inputs[j]
        return None if si.is_row else cdf(si.mode, si.low, si.mode, si.high, si.distribution)

    def achieved_rank_correlation(self, first: int, second: int) -> tuple[float | None, int]:
        """(Spearman rank correlation, samples) of two sampled inputs over the draws kept (every sample, or the
        first KEEP_FIRST_SAMPLES of a large sweep); None where either does not vary."""
        a, b = self.draws[:, first], self.draws[:, second]
        n = a.shape[0]
        if n < 2 or a.min() == a.max() or b.min() == b.max():
            return None, n
        return float(np.corrcoef(average_ranks(a), average_ranks(b))[0, 1]), n

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


def draw(inputs: list[SampledInput], samples: int, seed: int, *, lhs: bool = False, correlation=None) -> np.ndarray:
    """[samples, inputs]: one column per Ranges row (all in memory: for tests and benchmarks)."""
    sm = Sampler(inputs, samples, seed, lhs=lhs, correlation=correlation)
    return sm.values(sm.probabilities(0, samples))


def chunk_values(model, base_values: dict, inputs: list[SampledInput], draws: np.ndarray) -> dict:
    """The evaluate() input dict for a block of samples: sampled scalars [n], scaled rows [n, quarters]."""
    return apply_ranges(model, base_values, inputs, draws)


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of x, ties given their average rank (Spearman's convention)."""
    _, inv, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inv]


DEFAULT_MAX_WORKERS = 4  # each worker holds its chunk, a block of draws and the model pages it touches (~70 MiB)


def default_workers() -> int:
    """One worker process per CPU this process may run on, at most DEFAULT_MAX_WORKERS."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, DEFAULT_MAX_WORKERS))


def run_sweep(run, samples: int, seed: int | None = None, *, chunk_samples: int | None = None,
              progress=None, lhs: bool = False, inputs: list[SampledInput] | None = None,
              workers: int | None = None) -> SweepResult:
    """Monte Carlo of a model run over its scenario's Ranges (and Correlations) sheet.

    ``progress(done_samples, total_samples, elapsed_s)`` is called after each chunk. ``seed`` None
    draws a fresh seed, recorded in the result so the run can be repeated. ``lhs``: Latin hypercube draws.
    ``inputs``: sample these instead of the Ranges sheet's rows (then no Correlations; benchmarks use it).
    ``workers``: processes evaluating chunks side by side (default: one per CPU, at most 4; 1: in this process). Each
    chunk's draws depend only on the seed and the sample positions, so the results are identical for any
    number of workers and any chunk size. On glibc, sets the process's malloc thresholds so that a chunk's freed
    arrays keep their pages (``tcomodel.heap``; TCOMODEL_KEEP_FREED_HEAP=0 leaves them alone).
    """
    validate_samples(samples, seed)
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    m, sc = run.model, run.scenario
    if inputs is None:
        inputs, notes = resolve_ranges(sc, m, monte_carlo=True)
        pairs, correlation = resolve_correlations(sc, inputs)
    else:
        notes, pairs, correlation = ["inputs given by the caller, not the Ranges sheet"], [], None
    if not inputs:
        notes.append("the Ranges sheet samples nothing: every sample is the base case")
    oids = list(m.options)
    metrics = [m.options[o].levelized for o in oids] + [m.comparisons[o].npv for o in oids if o in m.comparisons]
    scored = [o for o in oids if m.options[o].levelized_per_correct is not None]  # a quality score: like for like
    metrics += [m.options[o].levelized_per_correct for o in scored]
    periods = len(m.quarters)
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise UsageError(f"workers must be at least 1 (got {workers})")
    if chunk_samples is None:
        per_sample = live_rows(metrics, periods) * periods * 8  # the evaluation's live arrays, at most
        # the memory budget is shared by the workers; with several, at least two chunks each (while a chunk is
        # at least 1,024 samples long: numpy's per-call cost is paid once per chunk)
        chunk_samples = int(max(256, min(MAX_CHUNK_SAMPLES, CHUNK_MEMORY_BYTES // (per_sample * workers))))
        if workers > 1:
            chunk_samples = max(min(chunk_samples, 1024), min(chunk_samples, -(-samples // (2 * workers))))
    keep_freed_heap(chunk_samples * periods * 8)  # a chunk's line items come and go: keep their pages (heap.py)
    t0 = time.perf_counter()
    sampler = Sampler(inputs, samples, seed, lhs=lhs, correlation=correlation)
    keep = samples if samples * max(1, len(inputs)) <= KEEP_DRAWS_VALUES else min(samples, KEEP_FIRST_SAMPLES)
    kept = np.empty((keep, len(inputs)))
    base_values = m.values()
    lev = np.empty((samples, len(oids)))
    npv = np.zeros((samples, len(oids)))
    best_q = np.empty(samples, dtype=np.int16)  # per sample: the option cheapest per unit of quality (-1: none)
    # the sampled inputs that are a fee the scenario marks unknown (fee_is_assumption): every sample's draw is kept
    unknown = [(j, o) for j, si in enumerate(inputs) for o in m.unknown_fee
               if m.options[o].fee_input is not None and m.options[o].fee_input in si.names]
    fee_draws = np.empty((samples, len(unknown)))
    job = _Chunks(m, base_values, inputs, sampler, metrics, periods, oids, keep, scored, [j for j, _ in unknown])
    starts = range(0, samples, chunk_samples)
    bounds = [(s, min(samples, s + chunk_samples)) for s in starts]
    for start, stop, lev_c, npv_c, best_c, draws, fees_c in map_chunks(job, bounds, workers):
        lev[start:stop] = lev_c
        fee_draws[start:stop] = fees_c
        npv[start:stop] = npv_c
        best_q[start:stop] = best_c
        if draws is not None:
            kept[start:start + len(draws)] = draws
        if progress is not None:
            progress(stop, samples, time.perf_counter() - t0)
    drivers, draw_means = _drivers(sampler, inputs, oids, m.baseline, lev, npv, workers)
    release_freed_heap()  # what the chunks kept goes back to the system (tcomodel.heap)
    base_lev = {o: run.scalar(m.options[o].levelized) for o in oids}
    base_npv = {o: (run.scalar(m.comparisons[o].npv) if o in m.comparisons else 0.0) for o in oids}
    return SweepResult(
        scenario_name=sc.settings.scenario_name, currency=m.currency, baseline=m.baseline, samples=samples, seed=seed,
        options={o: (m.options[o].kind, m.options[o].label) for o in oids}, inputs=inputs, draws=kept,
        levelized=lev, npv=npv, base_levelized=base_lev, base_npv=base_npv, notes=notes,
        seconds=time.perf_counter() - t0, chunk_samples=chunk_samples, scenario_file=scenario_file(sc.path),
        draw_means=draw_means, lhs=lhs, correlations=pairs, drivers=drivers, warnings=list(run.warnings),
        quality_options=scored, cheapest_quality=best_q,
        quality_benchmarks={o: sc.options[o].quality_benchmark or "" for o in scored},
        unknown_fees=[(j, o, _breakeven_fees(run, o)) for j, o in unknown], unknown_fee_draws=fee_draws,
        settings={"discount_rate_annual": sc.settings.discount_rate_annual, "tax_rate": sc.settings.tax_rate,
                  "first_quarter": str(m.quarters[0]), "last_quarter": str(m.quarters[-1]),
                  "quarters": len(m.quarters),
                  # a setting a Ranges row samples: its row, low and high (the value above is then its base)
                  "sampled": {k: {"ranges_cell": si.ranges_cell, "low": si.low, "high": si.high}
                              for si in inputs for k in ("discount_rate_annual", "tax_rate") if k in si.names}})


def _unknown_fee_json(res: SweepResult, k: int) -> dict:
    j, o, be = res.unknown_fees[k]
    edges, counts, by_option = res.probability_saving_by_fee(k)
    return {"ranges_cell": res.inputs[j].ranges_cell, "option": o,
            "breakeven_fee_vs": {x: _num(v) for x, v in be.items()},
            # P(NPV > 0) with the fee held within each band of its range: what the other inputs do to the decision
            "fee_bands": [[float(a), float(b)] for a, b in zip(edges[:-1], edges[1:])],
            "samples_per_band": [int(c) for c in counts],
            "probability_saving_by_band": by_option}


def _breakeven_fees(run, oid: str) -> dict:
    """The base run's fees at which ``oid`` costs the same as each other option (the Breakeven sheet's)."""
    prefix = f"breakeven_fee:{oid}:"
    return {it.name[len(prefix):]: run.scalar(it) for s in run.model.breakeven for it in s.items
            if it.name.startswith(prefix)}


class _Chunks:
    """One chunk's work: its draws, one vectorised evaluate of the metrics, their values per option."""

    def __init__(self, model, base_values, inputs, sampler, metrics, periods, oids, keep, scored=(), fee_cols=()):
        self.model, self.base_values, self.inputs, self.sampler = model, base_values, inputs, sampler
        self.fee_cols = list(fee_cols)  # the draws' columns of sampled unknown fees: kept for every sample
        self.metrics, self.periods, self.oids, self.keep = metrics, periods, oids, keep
        self.scored = [oids.index(o) for o in scored]  # options with a quality-adjusted cost

    def __call__(self, bounds: tuple[int, int]):
        start, stop = bounds
        m, n = self.model, stop - start
        draws = self.sampler.values(self.sampler.probabilities(start, stop))
        vals = chunk_values(m, self.base_values, self.inputs, draws)
        res = evaluate(self.metrics, vals, periods=self.periods, only=True)  # one vectorised pass per chunk
        lev = np.empty((n, len(self.oids)))
        npv = np.zeros((n, len(self.oids)))
        for i, oid in enumerate(self.oids):
            lev[:, i] = np.broadcast_to(res[m.options[oid].levelized], (n,))
            if oid in m.comparisons:
                npv[:, i] = np.broadcast_to(res[m.comparisons[oid].npv], (n,))
        best = np.full(n, -1, dtype=np.int16)
        if self.scored:
            q = np.column_stack([np.broadcast_to(res[m.options[self.oids[i]].levelized_per_correct], (n,))
                                 for i in self.scored])
            best = cheapest_of(q, np.array(self.scored, dtype=np.int16))
        kept = draws[:min(stop, self.keep) - start] if start < self.keep else None
        return start, stop, lev, npv, best, kept, draws[:, self.fee_cols]


def share_bound(v: float | None) -> str | None:
    """"<0.1%" or ">99.9%" for a share within 0.05 % of 0 or 1 but not equal to it (a few samples are neither never
    nor always, though 0.0 % and 100.0 % would say so); None for any other share."""
    if v is not None and 0.0 < v < 0.0005:
        return "<0.1%"
    if v is not None and 0.9995 <= v < 1.0:
        return ">99.9%"
    return None


def cheapest_of(costs: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Per row of ``costs`` [samples, k]: ``ids`` of the lowest defined cost (the first of equals), -1 where none is
    defined."""
    c = np.where(np.isnan(costs), np.inf, costs)
    best = np.argmin(c, axis=1)
    return np.where(np.isfinite(c[np.arange(len(best)), best]), ids[best], -1).astype(np.int16)


_JOB = None  # a forked worker's job, inherited from the parent (nothing is pickled but bounds)


def _run_inherited(bounds):
    return _JOB(bounds)


def map_chunks(job, bounds: list, workers: int):
    """``job(bounds)`` for each chunk's (start, stop), the results in order: in ``workers`` forked processes, or
    in this process (one worker or one chunk, or a platform that does not fork)."""
    global _JOB
    workers = min(workers, len(bounds))
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(job, bounds)
        return
    _JOB = job
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from pool.imap(_run_inherited, bounds)
    finally:
        _JOB = None


def _drivers(sampler: Sampler, inputs, oids, baseline, lev, npv, workers: int = 1) -> tuple[dict, np.ndarray]:
    """Rank correlation of each input with each metric: Pearson of the input's marginal CDF value (its
    population rank, uniform on 0..1) with the metric's sample rank; and each input's mean drawn value.
    Regenerates the draws block by block (block-aligned, so sums do not depend on the chunk size), holding
    one float32 rank column per metric. NaN where the input or the metric does not vary."""
    samples, k = lev.shape[0], len(inputs)
    cols = [("levelized", i, lev[:, i]) for i in range(len(oids))]
    cols += [("npv", i, npv[:, i]) for i, o in enumerate(oids) if o != baseline]
    scaled = np.zeros((samples, len(cols)), dtype=np.float32)  # centred ranks / sd; 0 where #N/A
    counts = np.zeros(len(cols))
    for c, (_, _, v) in enumerate(cols):
        ok = np.isfinite(v)
        if ok.sum() < 3:
            continue
        r = average_ranks(v[ok])
        sd = r.std()
        if sd > 0:
            scaled[ok, c] = (r - r.mean()) / sd
            counts[c] = ok.sum()
    acc = np.zeros((k, len(cols)))
    u_sum, u_sq, x_sum = np.zeros(k), np.zeros(k), np.zeros(k)
    blocks = [(s, min(samples, s + DRAW_BLOCK)) for s in range(0, samples, DRAW_BLOCK)]
    # each block's sums (in worker processes when there are several blocks), added up in block order: the same
    # additions in the same order as one pass
    for xs, us, uq, ac in map_chunks(_DriverBlock(sampler, scaled, counts.any()), blocks, workers):
        x_sum += xs
        u_sum += us
        u_sq += uq
        if ac is not None:
            acc += ac
    u_sd = np.sqrt(np.clip(u_sq / samples - (u_sum / samples) ** 2, 0.0, None))
    varies = np.array([si.low != si.high for si in inputs], dtype=bool) & (u_sd > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        # the scaled ranks sum to 0, so the input's own mean drops out of the covariance
        rho = acc / (u_sd[:, None] * counts[None, :])
    rho[~varies, :] = np.nan
    rho[:, counts == 0] = np.nan
    out = {"levelized": np.full((k, len(oids)), np.nan), "npv": np.full((k, len(oids)), np.nan)}
    for c, (metric, i, _) in enumerate(cols):
        out[metric][:, i] = np.clip(rho[:, c], -1.0, 1.0)
    return out, x_sum / samples


class _DriverBlock:
    """One block of draws regenerated: the sums the drivers need (see ``_drivers``)."""

    def __init__(self, sampler: Sampler, scaled: np.ndarray, ranks: bool):
        self.sampler, self.scaled, self.ranks = sampler, scaled, ranks

    def __call__(self, bounds):
        start, stop = bounds
        u = self.sampler.block(start // DRAW_BLOCK)  # this block's own copy, not the sampler's cache: worked in place
        if start % DRAW_BLOCK or len(u) != stop - start:
            raise ValueError(f"driver blocks are whole draw blocks, not samples {start}..{stop}")
        # one [block, inputs] array (56 MB for 100 inputs) at a time: a worker's peak memory
        xs = self.sampler.value_sums(u)
        uc = np.subtract(u, 0.5, out=u)  # centred near 0 so the sums of squares keep their precision
        acc = uc.T @ self.scaled[start:stop].astype(np.float64) if self.ranks else None
        us = uc.sum(axis=0)
        np.multiply(uc, uc, out=uc)  # the squares, in place: the same products as uc * uc
        return xs, us, uc.sum(axis=0), acc


def _num(x):
    return None if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))) else x


def to_json_dict(res: SweepResult) -> dict:
    lev, npv, prob = res.stats("levelized"), res.stats("npv"), res.probability_cheapest()
    saving, base_lev, base_npv = res.probability_saving(), res.base_percentile("levelized"), res.base_percentile("npv")
    cheapest_q, cheapest_sh = res.probability_cheapest_quality(), res.probability_cheapest_self_hosted()
    return {
        "scenario": res.scenario_name,
        "scenario_file": res.scenario_file,
        "currency": res.currency,
        "baseline": res.baseline,
        "samples": res.samples,
        "seed": res.seed,
        "method": {
            "sampling": ("Latin hypercube per block of {:,} samples (each stratum once per block)".format(DRAW_BLOCK)
                         if res.lhs else "independent uniform probabilities")
                        + "; numpy Generator (PCG64) seeded with (seed, block); values by inverse CDF",
            "correlation": "Iman-Conover: correlated inputs reordered by the ranks of normal scores with Pearson "
                           "2 sin(pi rho_s / 6), so their rank correlation is rho_s (Correlations sheet)",
            "drivers": "rank correlation of each sampled input with the metric: Pearson of the input's marginal CDF "
                       "value (its population rank) and the metric's sample rank (average ranks for ties); "
                       "null where either does not vary",
            "triangular": "mode = the base value (Workload: multiplier 1); blank distribution = triangular",
            "percentiles": "linear interpolation (Excel PERCENTILE.INC); #N/A samples left out and counted",
            "cheapest": "lowest levelized cost per Mtok among all options, hosted APIs included; quality is not weighed",
            "cheapest_quality_adjusted": "lowest quality-adjusted levelized cost (levelized cost / share of the "
                                         "benchmark range above chance) among the options with a quality score",
            "cheapest_self_hosted": "lowest levelized cost per Mtok among the self-hosted options",
            "npv": "present value of switching from the baseline to the option (after tax, at the scenario's discount "
                   "rate): positive = the option costs less than the baseline",
            "percentile": "P10/P50/P90: the values 10%, 50% and 90% of samples are at or below",
            "base_percentile": "share of defined samples below the base case's value, those equal to it counted half "
                               "(a result that does not vary: 0.5)",
        },
        "sampled_inputs": [{
            "ranges_cell": si.ranges_cell, "label": si.label, "target": si.target, "inputs": si.names,
            "distribution": si.distribution, "low": si.low, "mode": si.mode, "high": si.high, "unit": si.unit,
            "sample_mean": float(res.draw_means[j]), "source": si.source,
        } for j, si in enumerate(res.inputs)],
        "lhs": res.lhs,
        "correlations": [{"first": res.inputs[p.first].ranges_cell, "second": res.inputs[p.second].ranges_cell,
                          "rank_correlation": p.rank_correlation, "cell": p.cell,
                          "achieved": dict(zip(("rank_correlation", "samples"),
                                               res.achieved_rank_correlation(p.first, p.second)))}
                         for p in res.correlations],
        "options": {oid: {
            "kind": kind, "label": label,
            "levelized_cost_per_mtok": {"base": _num(res.base_levelized[oid])} | {k: _num(v) for k, v in lev[oid].items()},
            "npv_vs_baseline": {"base": _num(res.base_npv[oid])} | {k: _num(v) for k, v in npv[oid].items()},
            "probability_cheapest": float(prob[oid]),
            "probability_saving_vs_baseline": saving.get(oid),  # NPV > 0; null for the baseline itself
            # null where the option is not in the comparison (no quality score; not self-hosted)
            "probability_cheapest_quality_adjusted": cheapest_q.get(oid),
            "probability_cheapest_self_hosted": cheapest_sh.get(oid),
            "base_percentile": {"levelized": base_lev[oid], "npv": base_npv[oid]},
            # rank correlation of each Ranges row with this option's results (no NPV for the baseline itself)
            "drivers": {metric: {si.ranges_cell: _num(float(res.drivers[metric][j, i]))
                                 for j, si in enumerate(res.inputs)}
                        for metric in ("levelized", "npv")
                        if res.drivers and (metric == "levelized" or oid != res.baseline)},
        } for i, (oid, (kind, label)) in enumerate(res.options.items())},
        "probability_no_cheapest": res.probability_no_cheapest(),
        "unknown_fees_sampled": [_unknown_fee_json(res, k) for k in range(len(res.unknown_fees))],
        "base_outside_p10_p90": [{"option": o, "metric": m, "base_percentile": v} for o, m, v in res.base_outside()],
        "settings": dict(res.settings),
        "warnings": list(res.warnings),
        "notes": list(res.notes),
    }
