"""numpy interpreter for line items (worksheet functions: ``sheet/functions.py``).

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
from tcomodel.sheet.functions import FUNCTIONS, approx_equal, clean, excel_irr, excel_npv

__all__ = ["approx_equal", "collect_items", "evaluate", "excel_irr", "excel_npv"]

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
                    # an error stays an error: numpy's nan**0 and 1**nan are 1
                    r = np.where(np.isnan(a) | np.isnan(b) | ((a == 0) & (b <= 0)), np.nan, np.power(a, b))
                else:  # pragma: no cover
                    raise SheetError(f"unknown operator {e.op}")
            return clean(r)
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
        return FUNCTIONS[e.name].numpy(*(self.ev(a, t) for a in e.args))

    def _row(self, r) -> np.ndarray:
        if isinstance(r, Item) and r not in self.done:
            raise SheetError(f"{r.label!r} is aggregated inside its own recurrence")
        v = self.ev(r, None)
        return np.broadcast_to(v, v.shape[:-1] + (self.P,))

    def _aggregate(self, e: Aggregate):
        rows = [self._row(r) for r in e.rows]
        sc = [self.ev(s, None) for s in e.scalars]
        with np.errstate(all="ignore"):
            return FUNCTIONS[e.name].numpy(rows, sc, self.P)

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


def evaluate(items, values: dict, periods: int | None = None, *,
             only_requested: bool = False) -> dict[Item, np.ndarray]:
    """Evaluate line items (and everything they reference).

    ``values`` maps input names to arrays: scalar inputs ``[...]``, row inputs and timeline rows
    ``[..., periods]``. Returns ``{item: array}`` with period items ``[..., periods]`` and scalar
    items ``[...]``, the leading axes being the broadcast of all inputs' leading axes.
    ``only_requested``: return just ``items``, not everything they reference (a sweep keeps only its
    metrics, saving a full-size copy of every intermediate line item per chunk).
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
    for it in (items if only_requested else all_items):
        v = ev.done[it]
        if it.per_period or not it.is_scalar:
            out[it] = np.array(np.broadcast_to(v, batch + (P,)))
        else:
            out[it] = np.array(np.broadcast_to(v[..., 0], batch))
    return out


def evaluate_over(expr, known: dict, periods: int, values: dict | None = None) -> np.ndarray:
    """Value of ``expr`` whose line items are all in ``known`` (an evaluation's results, e.g. a report
    cell summarizing computed rows): the same evaluator, so a report's cached value is never worked out
    a second way by hand. ``values``: inputs and rows the expression reads directly (e.g. a timeline row)."""
    ev = _Evaluator(values or {}, periods, ())
    for ref, _ in iter_refs(expr):
        v = np.asarray(known[ref], dtype=float)
        ev.done[ref] = v if (ref.per_period or not ref.is_scalar) else v[..., None]
    return ev.ev(expr, None)
