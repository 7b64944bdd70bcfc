"""Draws for the Monte Carlo: marginals by inverse CDF, optional Latin hypercube strata, rank correlation by
Iman-Conover (numpy only), generated block by block so memory stays flat in the sample count.

Samples are drawn in fixed blocks of ``DRAW_BLOCK`` samples; block b uses its own generator seeded with
(seed, b), so any sample range can be regenerated without the others and results do not depend on the
evaluation chunk size. With ``lhs`` each block is a Latin hypercube: every input's range is cut into as
many equal-probability strata as the block has samples and each stratum is hit exactly once per block.

Correlation: within a block, the correlated inputs' values are reordered to follow the ranks of a multivariate
normal with Pearson matrix 2 sin(pi rho_s / 6), whose rank correlation is the target rho_s (Iman and Conover
1982). Reordering keeps each input's values (and so its marginal and LHS strata) unchanged. A pair at rank
correlation +-1 is one quantity: the tied input takes its group leader's probabilities (or 1 - them) instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tcomodel.errors import InputError, Problem

DRAW_BLOCK = 65_536
PSD_TOLERANCE = 1e-10  # eigenvalues above -this count as zero (rounding), below it the matrix is refused


@dataclass
class Correlation:
    first: int  # index into the sampled inputs
    second: int
    rank_correlation: float
    cell: str  # Correlations!Cn of the coefficient


def _ref_index(text, inputs, by_row: dict, by_key: dict) -> int | None:
    t = "" if text is None else str(text).strip()
    if t.lower().startswith("ranges!"):
        t = t.split("!", 1)[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    try:
        return by_row.get(int(float(t)))
    except ValueError:
        return by_key.get(t.replace(" ", "").lower().rstrip("/"))


def resolve_correlations(scenario, inputs) -> tuple[list[Correlation], tuple | None]:
    """The Correlations rows as pairs of sampled inputs, and the factor L (correlated inputs' normal scores
    = standard normals @ L.T) as (columns, L, ties), or None when nothing is correlated. InputError naming Correlations cells for an
    unknown reference, a pair given twice or an input correlated with itself, or a matrix that is not positive
    semi-definite."""
    rows = getattr(scenario, "correlations", None) or []
    by_row = {si.row_number: j for j, si in enumerate(inputs) if si.row_number is not None}
    by_key = {si.key.replace(" ", "").lower(): j for j, si in enumerate(inputs)}
    problems, pairs, seen = [], [], {}
    for rec in rows:
        idx = []
        for fieldname in ("first", "second"):
            j = _ref_index(getattr(rec, fieldname), inputs, by_row, by_key)
            if j is None:
                cell = rec.cell(fieldname).split("!", 1)[1]
                problems.append(Problem("Correlations", cell,
                                        f"'{getattr(rec, fieldname)}' names no sampled Ranges row; give its row number "
                                        "on the Ranges sheet or sheet/row_id/field, e.g. "
                                        f"{inputs[0].key if inputs else 'Rental/alternative/fee_per_replica_per_month'}"))
            idx.append(j)
        if None in idx:
            continue
        cell = rec.cell("rank_correlation")
        a, b = idx
        if a == b:
            problems.append(Problem("Correlations", cell.split("!", 1)[1], "an input cannot be correlated with itself"))
            continue
        pair = (min(a, b), max(a, b))
        if pair in seen:
            problems.append(Problem("Correlations", cell.split("!", 1)[1],
                                    f"this pair is already correlated at {seen[pair]}; give each pair once"))
            continue
        seen[pair] = cell
        pairs.append(Correlation(a, b, float(rec.rank_correlation), cell))
    if problems:
        raise InputError(problems, path=str(scenario.path))
    if not pairs:
        return [], None
    cols = sorted({p.first for p in pairs} | {p.second for p in pairs})
    pos = {j: k for k, j in enumerate(cols)}
    ties = _ties(pairs)
    pearson = np.eye(len(cols))
    for a, b, rho in _implied(pairs, ties):
        r = 2.0 * math.sin(math.pi * rho / 6.0)  # normal scores' Pearson for the target Spearman
        pearson[pos[a], pos[b]] = pearson[pos[b], pos[a]] = r
    lam, vec = np.linalg.eigh(pearson)
    if lam.min() < -PSD_TOLERANCE:
        cells = ", ".join(p.cell for p in pairs)
        raise InputError([Problem("Correlations", pairs[0].cell.split("!", 1)[1],
                                  f"the rank correlations ({cells}) are inconsistent: their matrix is not positive "
                                  f"semi-definite (smallest eigenvalue {lam.min():.3g}); e.g. A~B and B~C strongly "
                                  "positive force A~C positive; weaken or drop a coefficient")], path=str(scenario.path))
    factor = vec * np.sqrt(np.clip(lam, 0.0, None))  # L with L @ L.T = pearson; also for singular (|rho| = 1)
    return pairs, (np.array(cols), factor, ties)


def _implied(pairs: list[Correlation], ties) -> list[tuple[int, int, float]]:
    """The rank correlations the matrix holds: the pairs given, and what ties at +-1 imply (a tied input is its
    leader, or its mirror), so A~B = 1 with B~C = 0.5 needs no A~C = 0.5 written out. Implied and given values
    that disagree make the matrix inconsistent, which the caller refuses."""
    sign = {j: (leader, s) for j, leader, s in ties}
    lead = lambda j: sign.get(j, (j, 1.0))  # noqa: E731  (an input's group leader and its sign to it)
    by_leaders: dict[tuple[int, int], float] = {}
    for p in pairs:  # every given pair, restated between leaders
        (la, sa), (lb, sb) = lead(p.first), lead(p.second)
        if la != lb:
            by_leaders.setdefault((min(la, lb), max(la, lb)), p.rank_correlation * sa * sb)
    members: dict[int, list[tuple[int, float]]] = {}
    for j in {p.first for p in pairs} | {p.second for p in pairs}:
        leader, s = lead(j)
        members.setdefault(leader, []).append((j, s))
    out = {(min(p.first, p.second), max(p.first, p.second)): p.rank_correlation for p in pairs}  # given ones first
    for group in members.values():  # within a group: +-1
        for i, (a, sa) in enumerate(group):
            for b, sb in group[i + 1:]:
                out.setdefault((min(a, b), max(a, b)), sa * sb)
    for (la, lb), rho in by_leaders.items():  # across groups: each member carries its leader's coefficient
        for a, sa in members[la]:
            for b, sb in members[lb]:
                out.setdefault((min(a, b), max(a, b)), rho * sa * sb)
    return [(a, b, rho) for (a, b), rho in sorted(out.items())]


def _ties(pairs: list[Correlation]) -> list[tuple[int, int, float]]:
    """(input, the input it copies, +1 or -1) for pairs at rank correlation 1 or -1, each group copying its
    lowest input: reordering alone would leave two separately drawn columns (in the same rank order, yet a
    different value in every sample), where 1 means one quantity."""
    root = {}  # input -> (its group's root, sign relative to the root)

    def find(j):
        r, sign = j, 1.0
        while r in root and root[r][0] != r:
            r, s = root[r]
            sign *= s
        return r, sign

    for p in pairs:
        if abs(p.rank_correlation) != 1.0:
            continue
        (ra, sa), (rb, sb) = find(p.first), find(p.second)
        if ra == rb:
            continue  # consistent, or the PSD check would have refused the matrix
        lo, hi = min(ra, rb), max(ra, rb)
        root[hi] = (lo, sa * sb * p.rank_correlation)
        root.setdefault(lo, (lo, 1.0))
    return sorted((j, *find(j)) for j in root if find(j)[0] != j)


def inverse_cdf(u: np.ndarray, low: float, mode: float, high: float, distribution: str) -> np.ndarray:
    """Values of a uniform or triangular(low, mode, high) at probabilities u in [0, 1)."""
    if low == high:
        return np.full(u.shape, low)
    width = high - low
    if distribution == "uniform":
        return low + u * width
    split = (mode - low) / width
    left = low + np.sqrt(u * width * (mode - low))
    right = high - np.sqrt((1.0 - u) * width * (high - mode))
    return np.where(u < split, left, right)


def cdf(x: float, low: float, mode: float, high: float, distribution: str) -> float:
    """The share of a uniform or triangular(low, mode, high) at or below x (inverse_cdf's inverse); 0.5 where
    low = high (every draw equals x there: the mid-rank)."""
    if low == high:
        return 0.5
    if x <= low:
        return 0.0
    if x >= high:
        return 1.0
    width = high - low
    if distribution == "uniform":
        return (x - low) / width
    if x <= mode:
        return (x - low) ** 2 / (width * (mode - low))
    return 1.0 - (high - x) ** 2 / (width * (high - mode))


class Sampler:
    """Draws of every sampled input for any sample range [start, stop); deterministic in (seed, lhs)."""

    def __init__(self, inputs, samples: int, seed: int, *, lhs: bool = False, correlation=None):
        self.inputs, self.samples, self.seed, self.lhs = inputs, int(samples), int(seed), lhs
        self.correlation = correlation  # (columns, L, ties) from resolve_correlations, or None
        self._cache: tuple[int, np.ndarray] | None = None

    def _block(self, b: int, n: int) -> np.ndarray:
        """Probabilities u [n, inputs] of block b (each input's marginal CDF at its drawn value)."""
        rng = np.random.default_rng([self.seed, b])
        k = len(self.inputs)
        if self.lhs:
            u = np.empty((n, k))
            for j in range(k):
                u[:, j] = (rng.permutation(n) + rng.random(n)) / n
        else:
            u = rng.random((n, k))
        if self.correlation is not None:
            cols, factor, ties = self.correlation
            scores = rng.standard_normal((n, factor.shape[1])) @ factor.T
            for c, j in enumerate(cols):
                ranks = np.argsort(np.argsort(scores[:, c], kind="stable"), kind="stable")
                u[:, j] = np.sort(u[:, j])[ranks]  # the same values, in the normal scores' rank order
            for j, leader, sign in ties:  # rank correlation +-1: the leader's own probabilities (or 1 - them)
                u[:, j] = u[:, leader] if sign > 0 else 1.0 - u[:, leader]
        return u

    def block(self, b: int) -> np.ndarray:
        """Probabilities of block b (samples b x DRAW_BLOCK onward), a new array (not cached)."""
        return self._block(b, min(DRAW_BLOCK, self.samples - b * DRAW_BLOCK))

    def probabilities(self, start: int, stop: int) -> np.ndarray:
        parts = []
        b = start // DRAW_BLOCK
        while start < stop:
            b0 = b * DRAW_BLOCK
            if self._cache is None or self._cache[0] != b:
                n = min(DRAW_BLOCK, self.samples - b0)  # the last block is shorter: its own strata
                self._cache = None  # the old block goes before the new one is drawn: one block in memory
                self._cache = (b, self._block(b, n))
            end = min(stop, b0 + DRAW_BLOCK)
            parts.append(self._cache[1][start - b0:end - b0])
            start, b = end, b + 1
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def values(self, u: np.ndarray) -> np.ndarray:
        """[n, inputs] drawn values (or multipliers) from probabilities u."""
        out = np.empty_like(u)
        for j in range(len(self.inputs)):
            out[:, j] = self._column(u, j)
        return out

    def value_sums(self, u: np.ndarray) -> np.ndarray:
        """``values(u).sum(axis=0)`` without the [n, inputs] array of values: one column at a time, each summed in
        row order, the order numpy's axis-0 sum of a [n, inputs] array adds in when there are several inputs."""
        if u.shape[1] <= 1:  # one column: numpy sums it pairwise, as a plain row
            return self.values(u).sum(axis=0)
        return np.array([np.add.accumulate(self._column(u, j))[-1] for j in range(len(self.inputs))])

    def _column(self, u: np.ndarray, j: int) -> np.ndarray:
        si = self.inputs[j]
        return inverse_cdf(u[:, j], si.low, si.mode, si.high, si.distribution)
