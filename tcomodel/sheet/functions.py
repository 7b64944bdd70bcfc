"""The worksheet functions line items may use: one table, read by the expression builder (arity),
the numpy evaluator (``numpy``) and the formula renderer (``excel``).

Two kinds: elementwise functions work per period on evaluated arguments; aggregates reduce whole
rows to one scalar cell (``rows`` are row arrays ``[..., P]``, ``scalars`` are ``[..., 1]``).
Excel errors (#DIV/0!, #NUM!, #N/A) are NaN; every result turns inf into NaN so errors propagate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import math

import numpy as np

_E48 = 2.0 ** -48  # LibreOffice rtl::math::approxEqual tolerance


@dataclass(frozen=True)
class Fn:
    """One worksheet function.

    ``arity``: (min, max) arguments (aggregates: row arguments). ``numpy``: elementwise
    ``f(*args)``, aggregates ``f(rows, scalars, periods)``. ``excel``: elementwise, the Excel
    function name (``NAME(a0,a1,...)``); aggregates, a format string over the rendered row ranges
    ``{r0}``, ``{r1}`` and scalar arguments ``{s0}``. ``conditions``: argument positions written as a
    bare comparison (``IF(A1>0,...)``, not ``IF((A1>0)*1,...)``). ``tail``: the row range runs one
    column past the last period, where the scalar argument sits (IRR over boundaries 0..N).
    """

    arity: tuple[int, int]
    numpy: Callable
    excel: str
    aggregate: bool = False
    conditions: tuple[int, ...] = ()
    scalars: int = 0  # aggregates: number of scalar arguments
    tail: bool = False


def clean(x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if not np.isfinite(x).all():  # the method, not np.all: a tenth of the cost on a short row
        x = np.where(np.isfinite(x), x, np.nan)
    return x


def approx_equal(a, b):
    """LibreOffice's rtl::math::approxEqual: a == b, or |a - b| < 2^-48 |a| and < 2^-48 |b|, written with one
    comparison: x * 2^-48 is monotone, so the two bounds' minimum is the bound of the smaller magnitude (NaN stays
    unequal: np.minimum keeps NaN)."""
    d = np.abs(a - b)
    return (a == b) | (d < np.minimum(np.abs(a), np.abs(b)) * _E48)


def _approx_round15(x):
    """Round to 15 significant digits, as rtl::math::approx* do before floor/ceil."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.floor(np.log10(np.abs(np.where(x == 0, 1.0, x))))
        scale = 10.0 ** (14 - mag)
        r = np.round(x * scale) / scale
    return np.where(np.isfinite(r), r, x)


def excel_round(x, digits):
    """ROUND: half away from zero, after the 15-digit correction Excel and LibreOffice apply."""
    x = np.asarray(x, dtype=float)
    d = np.asarray(digits, dtype=float)
    d = np.trunc(d)
    p = 10.0 ** d
    with np.errstate(invalid="ignore", over="ignore"):
        y = _approx_round15(np.abs(x) * p)
        r = np.sign(x) * np.floor(y + 0.5) / p
    return clean(r)


def excel_ceiling(x, sig):
    """Excel CEILING(x, sig): multiple of sig rounded up (toward +inf for x<0<sig, away from 0 when
    both negative); 0 when sig = 0; #NUM! when x > 0 > sig."""
    x = np.asarray(x, dtype=float)
    s = np.asarray(sig, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = _approx_round15(x / np.where(s == 0, 1.0, s))
        r = np.where(s < 0, np.floor(q), np.ceil(q)) * s
        r = np.where(s == 0, 0.0, r)
        r = np.where((x > 0) & (s < 0), np.nan, r)
    return clean(r)


def excel_npv(rate, rows):
    """Excel NPV(rate, v1..vN) = sum v_t / (1 + rate)^t, t = 1..N. rate [..., 1], rows [..., N]."""
    n = rows.shape[-1]
    t = np.arange(1, n + 1, dtype=float)
    with np.errstate(all="ignore"):
        disc = (1.0 + rate) ** t
        return clean(np.sum(rows / disc, axis=-1, keepdims=True))


IRR_SPREADSHEET_STEPS = 20  # LibreOffice's ScIRR (nIterationsMax) and Excel ("after 20 tries ... #NUM!")
IRR_SPREADSHEET_EPS = 1e-7  # LibreOffice's SCdEpsilon: a Newton step below it within those 20 ends it


def excel_irr(rows, guess=0.1, max_iter=IRR_SPREADSHEET_STEPS, escapes=True):
    """IRR as LibreOffice's ScIRR (and Excel) computes it, vectorised over leading axes: Newton from the guess
    0.1, the iterate at the first step below 1e-7 within 20 steps, else NaN (#NUM!). Iterates at or below -1
    go on (they may come back), and a root at or below -1 is a result, as there (the report's formulas show
    n/a at or below the IRR floor, -99.99 % a quarter: finance.model.IRR_FLOOR). Near a double root the settled iterate depends on rounding, in either tool.
    ``escapes=False`` runs every scenario to the end (see ``_Escape``: the same results, slower; the tests
    compare the two)."""
    rows = np.asarray(rows, dtype=float)
    lead, n = rows.shape[:-1], rows.shape[-1]
    flat = rows.reshape(-1, n)
    t = np.arange(n, dtype=float)
    x = np.full(flat.shape[0], np.nan)
    # only unsettled scenarios keep iterating. Flows that never change sign have no IRR (#NUM!): from the
    # guess each Newton step raises the rate by at least (1 + rate) / n, so no step falls below 1e-7; skip them
    same_sign = np.all(flat >= 0, axis=1) | np.all(flat <= 0, axis=1)
    active = np.flatnonzero(~same_sign)
    neg_t = -t
    xa, ra = np.full(active.size, guess), flat[active]
    tra = neg_t * ra  # -t * flows: the derivative's weights, as long as the same scenarios iterate
    escape = _Escape(ra)
    with np.errstate(all="ignore"):
        for i in range(max_iter):
            if active.size == 0:
                break
            one_x = 1.0 + xa
            disc = one_x[:, None] ** neg_t
            f = np.add.reduce(ra * disc, axis=1)  # np.sum's own reduction, without its wrapper
            df = np.add.reduce(tra * disc, axis=1) / one_x
            x_new = xa - f / df
            step = np.abs(x_new - xa)
            settled = step < IRR_SPREADSHEET_EPS  # False for NaN: a non-finite iterate never settles
            # a step of exactly 1e-7 also ends LibreOffice's loop, as #NUM!; a non-finite iterate cannot come back
            stop = (step <= IRR_SPREADSHEET_EPS) | ~np.isfinite(x_new)
            if escapes and i in _ESCAPE_CHECKS:  # a scenario escaped to an infinite rate ends #NUM! whatever it does
                stop = stop | escape.gone(x_new)
            if not stop.any():
                xa = x_new
                continue
            x[active[settled]] = x_new[settled]
            going = ~stop
            active = active[going]
            xa, ra, tra = x_new[going], ra[going], tra[going]
            escape = escape.keep(going)
    return x.reshape(lead + (1,))


_ESCAPE_CHECKS = frozenset({3, 7, 15})  # the iterations after which excel_irr looks for escapes


class _Escape:
    """Newton iterates that can no longer converge: they run off to an infinite rate.

    With v = 1/(1 + x), the flows' value is g(v) = sum_t c_t v^t; k >= 1 is the first period with a nonzero
    flow. Where x > 0 and the later flows weigh little beside c_k, W(v) = sum_{t>k} t |c_t| v^(t-k) <=
    |c_k| k / 4, both g and v g'(v) keep c_k's sign within a factor 3/4..5/4 of c_k v^k and k c_k v^k, so
    the Newton step x -> x + g / (v^2 g') is at least 0.6 (1 + x) / k: the rate grows by at least 2.6% of
    itself, and never by less than the settling test's 1e-7. W only falls as x grows, so the same holds
    at every later iterate: the scenario can only end #NUM! (or step to a non-finite rate, also #NUM!).
    The margins (1/4 against a rounding error near 1e-15) keep the test safe in floating point. Dropping
    such scenarios early gives the same result as the 20 steps, at a fraction of the cost."""

    def __init__(self, flows):
        n = flows.shape[1]
        nonzero = flows != 0
        self.k = np.argmax(nonzero, axis=1)
        rows = np.arange(flows.shape[0])
        self.limit = np.abs(flows[rows, self.k]) * self.k / 4  # 0 where k = 0: never an escape
        later = np.arange(n)[None, :] > self.k[:, None]
        self.weights = np.where(later, np.arange(n) * np.abs(flows), 0.0)  # t |c_t| for t > k
        self.power = np.where(later, np.arange(n)[None, :] - self.k[:, None], 0).astype(float)

    def gone(self, x):
        v = 1.0 / (1.0 + x)
        w = np.add.reduce(self.weights * v[:, None] ** self.power, axis=1)
        return (x > 0) & (self.k >= 1) & (w <= self.limit)

    def keep(self, mask):
        self.k, self.limit = self.k[mask], self.limit[mask]
        self.weights, self.power = self.weights[mask], self.power[mask]
        return self


# --- elementwise ---------------------------------------------------------------------------------

def _sum(*args):
    r = args[0]
    for a in args[1:]:
        r = r + a
    return clean(r)


def _if(c, a, b):
    return np.where(np.isnan(c), np.nan, np.where(c != 0, a, b))


def _iferror(x, alt):
    return np.where(np.isnan(x), alt, x)


def _choose(k, *options):
    """CHOOSE(k, a, b, ...): the k-th option (k truncated); #VALUE! (NaN) outside 1..len(options)."""
    k = np.trunc(np.asarray(k, dtype=float))
    out = np.full(np.broadcast(k, *options).shape, np.nan)
    for i, opt in enumerate(options, start=1):
        out = np.where(k == i, opt, out)
    return clean(out)


# --- aggregates ----------------------------------------------------------------------------------

def _total(rows, sc, periods):
    return clean(np.sum(rows[0], axis=-1, keepdims=True))


def row_total(values) -> float:
    """One period row's SUM, as the TOTAL function evaluates it (NaN, #N/A, if any period is undefined): the value
    the report caches in a row's total column and the export lists as its total."""
    v = np.asarray(values, dtype=float)
    return float(_total([v], (), v.shape[-1])[..., 0])


def _irr_tail(rows, sc, periods):
    row, tail = np.broadcast_arrays(rows[0], sc[0])  # tail broadcast over periods
    return excel_irr(np.concatenate([row, tail[..., :1]], axis=-1))


def _rowmax(rows, sc, periods):
    return clean(np.max(rows[0], axis=-1, keepdims=True))


def _sumproduct(rows, sc, periods):
    return clean(np.sum(rows[0] * rows[1], axis=-1, keepdims=True))


def _index(rows, sc, periods):
    if np.size(sc[0]) == 1:  # one position for every scenario: a slice, in the shape the general case gives
        pos = float(np.ravel(sc[0])[0])
        k = math.trunc(pos) if math.isfinite(pos) else 0
        row = rows[0]
        if row.ndim == 1 and np.shape(sc[0]) == (1,):  # one scenario: its row and a one-cell position
            return row[k - 1:k].copy() if 1 <= k <= periods else np.array((np.nan,))
        shape = np.broadcast_shapes(row.shape[:-1] + (1,), np.shape(sc[0]))
        if not 1 <= k <= periods:
            return np.full(shape, np.nan)
        return np.array(np.broadcast_to(row[..., k - 1:k], shape))
    row, k = np.broadcast_arrays(rows[0], np.trunc(sc[0]))  # k broadcast over periods
    k = k[..., :1]
    ok = (k >= 1) & (k <= periods)
    idx = np.where(ok, k, 1).astype(int) - 1
    return np.where(ok, np.take_along_axis(row, idx, axis=-1), np.nan)


def _count_different(rows, sc, periods):
    a, b = np.broadcast_arrays(rows[0], rows[1])
    return np.sum(~approx_equal(a, b), axis=-1, keepdims=True).astype(float)


def _match(rows, sc, periods):
    row, val = np.broadcast_arrays(rows[0], sc[0])
    hit = approx_equal(row, val)
    pos = np.argmax(hit, axis=-1)[..., None] + 1.0
    return np.where(np.any(hit, axis=-1, keepdims=True), pos, np.nan)


def _sumifs(rows, sc, periods):
    """SUMIFS(sum row, key row, key): the periods whose key equals the criterion (numbers compared as Excel does)."""
    vals, keys, key = np.broadcast_arrays(rows[0], rows[1], sc[0])
    hit = approx_equal(keys, key)
    return clean(np.sum(np.where(hit, vals, 0.0), axis=-1, keepdims=True))


FUNCTIONS: dict[str, Fn] = {
    "SUM": Fn((1, 255), _sum, "SUM"),
    "MIN": Fn((1, 255), lambda *a: np.minimum.reduce(np.broadcast_arrays(*a)), "MIN"),
    "MAX": Fn((1, 255), lambda *a: np.maximum.reduce(np.broadcast_arrays(*a)), "MAX"),
    "IF": Fn((3, 3), _if, "IF", conditions=(0,)),
    "ROUND": Fn((2, 2), excel_round, "ROUND"),
    "CEILING": Fn((2, 2), excel_ceiling, "CEILING"),
    "SQRT": Fn((1, 1), lambda a: np.sqrt(a), "SQRT"),  # of a negative: NaN, LibreOffice's Err:502 (#NUM! in Excel)
    "IFERROR": Fn((2, 2), _iferror, "IFERROR"),
    "NA": Fn((0, 0), lambda: np.array([np.nan]), "NA"),
    "CHOOSE": Fn((2, 30), _choose, "CHOOSE"),
    # aggregates: whole rows -> one cell
    "TOTAL": Fn((1, 1), _total, "SUM({r0})", aggregate=True),
    "NPV": Fn((1, 1), lambda rows, sc, p: excel_npv(sc[0], rows[0]), "NPV({s0},{r0})", aggregate=True, scalars=1),
    "IRR": Fn((1, 1), lambda rows, sc, p: excel_irr(rows[0]), "IRR({r0})", aggregate=True),
    "IRR_TAIL": Fn((1, 1), _irr_tail, "IRR({r0})", aggregate=True, scalars=1, tail=True),
    "ROWMAX": Fn((1, 1), _rowmax, "MAX({r0})", aggregate=True),
    "SUMPRODUCT": Fn((2, 2), _sumproduct, "SUMPRODUCT({r0},{r1})", aggregate=True),
    "INDEX": Fn((1, 1), _index, "INDEX({r0},{s0})", aggregate=True, scalars=1),
    "MATCH": Fn((1, 1), _match, "MATCH({s0},{r0},0)", aggregate=True, scalars=1),
    # cells of two rows that differ (the stale-input guard: the Inputs sheet against its Snapshot)
    "COUNT_DIFFERENT": Fn((2, 2), _count_different, "SUMPRODUCT(--({r0}<>{r1}))", aggregate=True),
    "SUMIFS": Fn((2, 2), _sumifs, "SUMIFS({r0},{r1},{s0})", aggregate=True, scalars=1),
}
