"""numpy interpreter for line items.

Every value is held with a trailing period axis: rows as ``[..., P]``, scalars as ``[..., 1]``, so
numpy broadcasting does the rest and a leading scenario axis costs nothing extra. Excel errors
(#DIV/0!, #NUM!, #N/A) are NaN; every operation turns inf into NaN so errors propagate like Excel's.

Add, subtract and comparisons mimic the "approximately equal" rule that both Excel and LibreOffice
apply (a - b is 0 when a and b agree to ~15 digits), so balances that close show 0, not 1e-12.
"""

from __future__ import annotations

import numpy as np

from tcomodel.sheet.expr import (
    Aggregate, BinOp, Compare, Const, Expr, Func, Input, Item, Neg, Prev, RowRef, SheetError,
    iter_names, iter_refs,
)

_E48 = 2.0 ** -48  # LibreOffice rtl::math::approxEqual tolerance


def _clean(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(x)):
        x = np.where(np.isfinite(x), x, np.nan)
    return x


def approx_equal(a, b):
    d = np.abs(a - b)
    return (a == b) | ((d < np.abs(a) * _E48) & (d < np.abs(b) * _E48))


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
    return _clean(r)


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
    return _clean(r)


def excel_npv(rate, rows):
    """Excel NPV(rate, v1..vN) = sum v_t / (1 + rate)^t, t = 1..N. rate [..., 1], rows [..., N]."""
    n = rows.shape[-1]
    t = np.arange(1, n + 1, dtype=float)
    with np.errstate(all="ignore"):
        disc = (1.0 + rate) ** t
        return _clean(np.sum(rows / disc, axis=-1, keepdims=True))


def excel_irr(rows, guess=0.1, max_iter=100):
    """IRR by Newton from Excel's default guess 0.1, vectorised over leading axes; NaN (#NUM!)
    where it does not converge. Iterates to machine precision (Excel/LibreOffice stop near 1e-7
    step size, which already puts them within ~1e-12 of the root)."""
    rows = np.asarray(rows, dtype=float)
    lead, n = rows.shape[:-1], rows.shape[-1]
    flat = rows.reshape(-1, n)
    t = np.arange(n, dtype=float)
    x = np.full(flat.shape[0], guess)
    ok = np.zeros(flat.shape[0], dtype=bool)
    active = np.arange(flat.shape[0])  # only unconverged scenarios keep iterating
    with np.errstate(all="ignore"):
        for _ in range(max_iter):
            if active.size == 0:
                break
            xa, ra = x[active], flat[active]
            disc = (1.0 + xa)[:, None] ** -t
            f = np.sum(ra * disc, axis=1)
            df = np.sum(-t * ra * disc, axis=1) / (1.0 + xa)
            x_new = xa - f / df
            x[active] = x_new
            # error after a step of size d is ~d^2, so 1e-13 leaves x at machine precision
            conv = np.abs(x_new - xa) <= 1e-13 * np.maximum(1.0, np.abs(x_new))
            bad = ~np.isfinite(x_new) | (x_new <= -1.0)
            ok[active[conv & ~bad]] = True
            active = active[~conv & ~bad]
    x = np.where(ok & (x > -1.0), x, np.nan)
    return x.reshape(lead + (1,))


class _Evaluator:
    def __init__(self, values: dict, periods: int, batch: tuple):
        self.values = values
        self.P = periods
        self.batch = batch
        self.done: dict[Item, np.ndarray] = {}
        self.buffer: dict[Item, np.ndarray] = {}

    # t is None: whole timeline ([..., P]); else one period ([..., 1])
    def ev(self, e: Expr, t: int | None) -> np.ndarray:
        if isinstance(e, Const):
            return np.array([e.value])
        if isinstance(e, Input):
            return np.asarray(self.values[e.name], dtype=float)[..., None]
        if isinstance(e, RowRef):
            v = np.asarray(self.values[e.name], dtype=float)
            return v if t is None else v[..., t:t + 1]
        if isinstance(e, Item):
            return self._item(e, t, lag=0)
        if isinstance(e, Prev):
            return self._prev(e, t)
        if isinstance(e, BinOp):
            a, b = self.ev(e.a, t), self.ev(e.b, t)
            with np.errstate(all="ignore"):
                if e.op == "+":
                    r = a + b
                    r = np.where(approx_equal(a, -b), 0.0, r)
                elif e.op == "-":
                    r = a - b
                    r = np.where(approx_equal(a, b), 0.0, r)
                elif e.op == "*":
                    r = a * b
                elif e.op == "/":
                    r = np.where(b == 0, np.nan, a / np.where(b == 0, 1.0, b))
                elif e.op == "^":
                    r = np.where((a == 0) & (b <= 0), np.nan, np.power(a, b))
                else:  # pragma: no cover
                    raise SheetError(f"unknown operator {e.op}")
            return _clean(r)
        if isinstance(e, Neg):
            return -self.ev(e.a, t)
        if isinstance(e, Compare):
            a, b = self.ev(e.a, t), self.ev(e.b, t)
            eq = approx_equal(a, b)
            r = {
                "=": eq, "<>": ~eq, ">": (a > b) & ~eq, ">=": (a > b) | eq,
                "<": (a < b) & ~eq, "<=": (a < b) | eq,
            }[e.op].astype(float)
            return np.where(np.isnan(a) | np.isnan(b), np.nan, r)
        if isinstance(e, Func):
            return self._func(e, t)
        if isinstance(e, Aggregate):
            return self._aggregate(e)
        raise SheetError(f"cannot evaluate {e!r}")  # pragma: no cover

    def _func(self, e: Func, t):
        n = e.name
        if n == "NA":
            return np.array([np.nan])
        if n == "IF":
            c = self.ev(e.args[0], t)
            a, b = self.ev(e.args[1], t), self.ev(e.args[2], t)
            return np.where(np.isnan(c), np.nan, np.where(c != 0, a, b))
        if n == "IFERROR":
            x, alt = self.ev(e.args[0], t), self.ev(e.args[1], t)
            return np.where(np.isnan(x), alt, x)
        args = [self.ev(a, t) for a in e.args]
        if n == "SUM":
            r = args[0]
            for a in args[1:]:
                r = r + a
            return _clean(r)
        if n == "MIN":
            return np.minimum.reduce(np.broadcast_arrays(*args))
        if n == "MAX":
            return np.maximum.reduce(np.broadcast_arrays(*args))
        if n == "ROUND":
            return excel_round(*args)
        if n == "CEILING":
            return excel_ceiling(*args)
        raise SheetError(f"unknown function {n}")  # pragma: no cover

    def _row(self, r) -> np.ndarray:
        if isinstance(r, Item) and r not in self.done:
            raise SheetError(f"{r.label!r} is aggregated inside its own recurrence")
        v = self.ev(r, None)
        return np.broadcast_to(v, v.shape[:-1] + (self.P,))

    def _aggregate(self, e: Aggregate):
        rows = [self._row(r) for r in e.rows]
        sc = [self.ev(s, None) for s in e.scalars]
        n = e.name
        with np.errstate(all="ignore"):
            if n == "TOTAL":
                return _clean(np.sum(rows[0], axis=-1, keepdims=True))
            if n == "NPV":
                return excel_npv(sc[0], rows[0])
            if n == "IRR":
                return excel_irr(rows[0])
            if n == "IRR_TAIL":
                row, tail = np.broadcast_arrays(rows[0], sc[0])  # tail broadcast over periods
                return excel_irr(np.concatenate([row, tail[..., :1]], axis=-1))
            if n == "ROWMAX":
                return _clean(np.max(rows[0], axis=-1, keepdims=True))
            if n == "SUMPRODUCT":
                return _clean(np.sum(rows[0] * rows[1], axis=-1, keepdims=True))
            if n == "INDEX":
                row, k = np.broadcast_arrays(rows[0], np.trunc(sc[0]))  # k broadcast over periods
                k = k[..., :1]
                ok = (k >= 1) & (k <= self.P)
                idx = np.where(ok, k, 1).astype(int) - 1
                return np.where(ok, np.take_along_axis(row, idx, axis=-1), np.nan)
            if n == "MATCH":
                row, val = np.broadcast_arrays(rows[0], sc[0])
                hit = approx_equal(row, val)
                pos = np.argmax(hit, axis=-1)[..., None] + 1.0
                return np.where(np.any(hit, axis=-1, keepdims=True), pos, np.nan)
        raise SheetError(f"unknown aggregate {n}")  # pragma: no cover

    def _item(self, it: Item, t, lag: int):
        if it in self.done:
            v = self.done[it]
            if v.shape[-1] == 1 or t is None:
                return v
            return v[..., t - lag:t - lag + 1]
        if it in self.buffer and t is not None:
            return self.buffer[it][..., t - lag:t - lag + 1]
        raise SheetError(f"line item {it.label!r} used before it is computed")  # pragma: no cover

    def _prev(self, e: Prev, t):
        if t is None:
            x = self._item(e.item, None, 0)
            init = self.ev(e.init, None)[..., :1]
            shape = np.broadcast_shapes(x.shape[:-1], init.shape[:-1])
            x = np.broadcast_to(x, shape + (x.shape[-1],))
            if x.shape[-1] == 1:  # a scalar item: constant over periods
                x = np.broadcast_to(x, shape + (self.P,))
            return np.concatenate([np.broadcast_to(init, shape + (1,)), x[..., :-1]], axis=-1)
        if t == 0:
            return self.ev(e.init, 0)[..., :1]
        return self._item(e.item, t, lag=1)


def collect_items(items) -> list[Item]:
    """Every item reachable from ``items`` (definitions of referenced items included)."""
    seen: dict[Item, None] = {}
    stack = list(items)[::-1]
    while stack:
        it = stack.pop()
        if it in seen:
            continue
        seen[it] = None
        for ref, _ in iter_refs(it.expr):
            if ref not in seen:
                stack.append(ref)
    return list(seen)


def _sccs(nodes: list[Item], edges: dict[Item, list[Item]]) -> list[list[Item]]:
    """Tarjan, iterative; yields SCCs dependencies-first (edges point to dependencies)."""
    index: dict[Item, int] = {}
    low: dict[Item, int] = {}
    on_stack: set = set()
    stack: list[Item] = []
    out: list[list[Item]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(edges[w])))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w is v:
                        break
                out.append(comp[::-1])
    return out


def _topo_same_period(group: list[Item]) -> list[Item]:
    members = set(group)
    deps = {g: {r for r, how in iter_refs(g.expr) if r in members and how != "lag"} for g in group}
    for g in group:
        for r, how in iter_refs(g.expr):
            if r in members and how == "agg":
                raise SheetError(f"{g.label!r} aggregates {r.label!r} inside a recurrence")
    order: list[Item] = []
    placed: set = set()
    while len(order) < len(group):
        ready = [g for g in group if g not in placed and deps[g] <= placed]
        if not ready:
            names = ", ".join(repr(g.label) for g in group if g not in placed)
            raise SheetError(f"circular reference between line items: {names}")
        for g in ready:
            order.append(g)
            placed.add(g)
    return order


def _infer_periods(names, values) -> int | None:
    for n in names:
        if isinstance(n, RowRef):
            return np.shape(values[n.name])[-1]
    return None


def evaluate(items, values: dict, periods: int | None = None) -> dict[Item, np.ndarray]:
    """Evaluate line items (and everything they reference).

    ``values`` maps input names to arrays: scalar inputs ``[...]``, row inputs and timeline rows
    ``[..., periods]``. Returns ``{item: array}`` with period items ``[..., periods]`` and scalar
    items ``[...]``, the leading axes being the broadcast of all inputs' leading axes.
    """
    if isinstance(items, Item):
        items = [items]
    all_items = collect_items(items)
    names = {}
    for it in all_items:
        for n in iter_names(it.expr):
            names[(type(n), n.name)] = n
    missing = sorted({n.name for n in names.values() if n.name not in values})
    if missing:
        raise SheetError(f"no value given for input(s): {', '.join(missing)}")
    P = periods if periods is not None else _infer_periods(names.values(), values)
    if P is None:
        raise SheetError("cannot tell the number of periods: pass periods= or a row input")
    shapes = []
    for n in names.values():
        s = np.shape(values[n.name])
        if isinstance(n, RowRef):
            if not s or s[-1] != P:
                raise SheetError(f"row {n.name!r} has shape {s}, expected [..., {P}]")
            shapes.append(s[:-1])
        else:
            shapes.append(s)
    batch = np.broadcast_shapes(*shapes) if shapes else ()

    ev = _Evaluator(values, P, batch)
    edges = {it: [r for r, _ in iter_refs(it.expr)] for it in all_items}
    for comp in _sccs(all_items, edges):
        recurrent = len(comp) > 1 or any(r is comp[0] for r in edges[comp[0]])
        if not recurrent:
            it = comp[0]
            v = ev.ev(it.expr, None)
            if it.per_period or not it.is_scalar:
                v = np.broadcast_to(v, v.shape[:-1] + (P,))
            ev.done[it] = v
            continue
        order = _topo_same_period(comp)
        for it in order:
            ev.buffer[it] = np.full(batch + (P,), np.nan)
        for t in range(P):
            for it in order:
                ev.buffer[it][..., t:t + 1] = ev.ev(it.expr, t)
        for it in order:
            ev.done[it] = ev.buffer.pop(it)

    out: dict[Item, np.ndarray] = {}
    for it in all_items:
        v = ev.done[it]
        if it.per_period or not it.is_scalar:
            out[it] = np.array(np.broadcast_to(v, batch + (P,)))
        else:
            out[it] = np.array(np.broadcast_to(v[..., 0], batch))
    return out
