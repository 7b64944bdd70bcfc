"""numpy evaluation of line items (worksheet functions: ``sheet/functions.py``).

``evaluate`` compiles the items once into a flat, cached program of numpy calls (``sheet/plan.py``; the
order of evaluation: ``sheet/schedule.py``). ``evaluate_over`` (a report cell's value over evaluated items)
walks the tree (``_Evaluator``), and ``evaluate_over_items`` many cells, those of one formula in one walk; they
apply the same operations and agree to the bit (tests/test_sheet_vectorised.py).

Every value is held with a trailing period axis: rows as ``[..., P]``, scalars as ``[..., 1]``, so
numpy broadcasting does the rest and a leading scenario axis costs nothing extra. Excel errors
(#DIV/0!, #NUM!, #N/A) are NaN; every operation turns inf into NaN so errors propagate like Excel's.

Add, subtract and comparisons mimic the "approximately equal" rule that both Excel and LibreOffice
apply (a - b is 0 when a and b agree to ~15 digits), so balances that close show 0, not 1e-12.
"""

from __future__ import annotations

import numpy as np

from tcomodel.sheet.expr import (
    Aggregate, BinOp, Compare, Const, Expr, Func, Input, Item, Neg, Prev, RowRef, SheetError, iter_refs,
)
from tcomodel.sheet.functions import FUNCTIONS, approx_equal, clean, excel_irr, excel_npv
from tcomodel.sheet.plan import Plan, covering_plan, static_of
from tcomodel.sheet.schedule import collect_items, shape_of

__all__ = ["approx_equal", "collect_items", "evaluate", "excel_irr", "excel_npv"]

class _Evaluator:
    def __init__(self, values: dict, periods: int, batch: tuple):
        self.values = values
        self.P = periods
        self.batch = batch
        self.done: dict[Item, np.ndarray] = {}
        self.inputs: dict[str, np.ndarray] = {}

    # the whole timeline ([..., P]; one-cell values [..., 1]); t is None (periods one at a time: the compiled plan)
    def ev(self, e: Expr, t: None = None) -> np.ndarray:
        try:
            fn = _DISPATCH[type(e)]
        except KeyError:  # pragma: no cover
            raise SheetError(f"cannot evaluate {e!r}") from None
        return fn(self, e, t)

    def _const(self, e: Const, t):
        return np.array([e.value])

    def _input(self, e: Input, t):
        v = self.inputs.get(e.name)
        if v is None:  # converted once per evaluation, not at every reference
            v = self.inputs[e.name] = clean(self.values[e.name])[..., None]  # an infinity is an error (see Plan.run)
        return v

    def _rowref(self, e: RowRef, t):
        return clean(self.values[e.name])

    def _itemref(self, e: Item, t):
        return self._item(e)

    def _binop(self, e: BinOp, t):
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

    def _neg(self, e: Neg, t):
        return -self.ev(e.a, t)

    def _compare(self, e: Compare, t):
        a, b = self.ev(e.a, t), self.ev(e.b, t)
        eq = approx_equal(a, b)
        r = {
            "=": eq, "<>": ~eq, ">": (a > b) & ~eq, ">=": (a > b) | eq,
            "<": (a < b) & ~eq, "<=": (a < b) | eq,
        }[e.op].astype(float)
        return np.where(np.isnan(a) | np.isnan(b), np.nan, r)

    def _func(self, e: Func, t):
        return FUNCTIONS[e.name].numpy(*(self.ev(a, t) for a in e.args))

    def _row(self, r) -> np.ndarray:
        if isinstance(r, Item) and r not in self.done:
            raise SheetError(f"{r.label!r} is aggregated inside its own recurrence")
        v = self.ev(r, None)
        return np.broadcast_to(v, v.shape[:-1] + (self.P,))

    def _aggregate(self, e: Aggregate, t=None):
        rows = [self._row(r) for r in e.rows]
        sc = [self.ev(s, None) for s in e.scalars]
        with np.errstate(all="ignore"):
            return FUNCTIONS[e.name].numpy(rows, sc, self.P)

    def _item(self, it: Item):
        if it in self.done:
            return self.done[it]
        raise SheetError(f"line item {it.label!r} used before it is computed")

    def _prev(self, e: Prev, t):
        x = self._item(e.item)
        init = self.ev(e.init, None)[..., :1]
        shape = np.broadcast_shapes(x.shape[:-1], init.shape[:-1])
        x = np.broadcast_to(x, shape + (x.shape[-1],))
        if x.shape[-1] == 1:  # a scalar item: constant over periods
            x = np.broadcast_to(x, shape + (self.P,))
        return np.concatenate([np.broadcast_to(init, shape + (1,)), x[..., :-1]], axis=-1)



# node type -> the evaluator's method (a dict lookup instead of a chain of isinstance tests)
_DISPATCH = {Const: _Evaluator._const, Input: _Evaluator._input, RowRef: _Evaluator._rowref,
             Item: _Evaluator._itemref, Prev: lambda self, e, t: self._prev(e, t), BinOp: _Evaluator._binop,
             Neg: _Evaluator._neg, Compare: _Evaluator._compare, Func: lambda self, e, t: self._func(e, t),
             Aggregate: _Evaluator._aggregate}

def _infer_periods(names, values) -> int | None:
    for n in names:
        if isinstance(n, RowRef):
            return np.shape(values[n.name])[-1]
    return None


def evaluate(items, values: dict, periods: int | None = None, *, only: bool = False) -> dict[Item, np.ndarray]:
    """Evaluate line items (and everything they reference).

    ``values`` maps input names to arrays: scalar inputs ``[...]``, row inputs and timeline rows
    ``[..., periods]``. Returns ``{item: array}`` with period items ``[..., periods]`` and scalar
    items ``[...]``, the leading axes being the broadcast of all inputs' leading axes.
    ``only``: return just ``items`` and drop each intermediate result as soon as nothing left needs it,
    so memory holds the live rows, not every row (many scenarios at once: tornado, grid, sweep).

    The items are compiled once into a flat program (see ``Plan``) and the program is cached, so evaluating
    the same items again (cases, tornado, every chunk of a sweep) only runs numpy.
    """
    if isinstance(items, Item):
        items = [items]
    static = static_of(tuple(items), only)
    missing = sorted({n.name for n in static.names if n.name not in values})
    if missing:
        raise SheetError(f"no value given for input(s): {', '.join(missing)}")
    P = periods if periods is not None else _infer_periods(static.names, values)
    if P is None:
        raise SheetError("cannot tell the number of periods: pass periods= or a row input")
    shapes = []
    for n in static.names:
        s = np.shape(values[n.name])
        if isinstance(n, RowRef):
            if not s or s[-1] != P:
                raise SheetError(f"row {n.name!r} has shape {s}, expected [..., {P}]")
            shapes.append(s[:-1])
        else:
            shapes.append(s)
    batch = np.broadcast_shapes(*shapes) if shapes else ()
    return _plan_of(static, P).run(values, batch)


def live_rows(items, periods: int) -> int:
    """At most how many arrays ``evaluate(items, ..., periods, only=True)`` holds at once (each at most one
    row per scenario): a chunk's memory is about this x periods x 8 bytes per scenario."""
    return _plan_of(static_of(tuple(items), True), periods).max_live


def _plan_of(static, periods: int) -> Plan:
    """The items' compiled plan for this many periods, compiled at its first use."""
    plan = static.plans.get(periods)
    if plan is None:
        whole = covering_plan(static, periods)
        plan = Plan.sliced(whole, static) if whole is not None else None
        plan = static.plans[periods] = plan if plan is not None else Plan(static, periods)
    return plan


def evaluate_over(expr, known: dict, periods: int, values: dict | None = None) -> np.ndarray:
    """Value of ``expr`` whose line items are all in ``known`` (an evaluation's results, e.g. a report
    cell summarizing computed rows): the engine's operations, so a report's cached value is never worked out
    a second way by hand (the tree interpreter: to the bit what ``evaluate`` computes, tested on every line
    item). ``values``: inputs and rows the expression reads directly (e.g. a timeline row)."""
    ev = _Evaluator(values or {}, periods, ())
    for ref, _ in iter_refs(expr):
        ev.done[ref] = _as_known(ref, known[ref])
    return ev.ev(expr, None)


def _as_known(ref: Item, v) -> np.ndarray:
    """An item's value as the interpreter reads it: a row [..., P], a scalar one cell [..., 1]."""
    v = np.asarray(v, dtype=float)
    return v if (ref.per_period or not ref.is_scalar) else v[..., None]


def evaluate_over_items(items, known: dict, periods: int, values: dict | None = None) -> dict[Item, np.ndarray]:
    """``evaluate_over(it.expr, ...)`` of each of ``items``, which may also read items listed before them (e.g. a
    total over the years above it); a scalar item's one cell comes as a 0-d array (as ``evaluate`` gives it).
    The same operations to the bit, in far fewer numpy calls: items whose expressions are the same tree over
    different items (one formula per option and year) are evaluated together, their items' values stacked on a
    leading axis, along which every operation works element by element. Thousands of small report cells
    (the Annual sheet) cost a few dozen passes, not one each."""
    items = list(items)
    level: dict[Item, int] = {}  # 0: reads only ``known``; n: reads an item of level n - 1
    groups: dict[tuple, list] = {}
    for it in items:
        parts, refs = shape_of([it])  # the formula, the items it reads numbered by first use
        # stacked values must have one shape: the items read must be rows or scalars alike (an unknown node: alone)
        shape = (parts, tuple(r.per_period or not r.is_scalar for r in refs)) if parts is not None else it
        lv = 0
        for r in refs:
            if r in level:
                lv = max(lv, level[r] + 1)
            elif r not in known:
                raise SheetError(f"line item {r.label!r} used before it is computed")
        level[it] = lv
        groups.setdefault((lv, shape), []).append((it, refs))
    out: dict[Item, np.ndarray] = {}
    for _, members in sorted(groups.items(), key=lambda g: g[0][0]):
        rep, rep_refs = members[0]
        slots = [[_as_known(refs[k], out[refs[k]] if refs[k] in out else known[refs[k]]) for _, refs in members]
                 for k in range(len(rep_refs))]
        if any(len({v.shape for v in vs}) > 1 for vs in slots):  # values of different shapes: one cell at a time
            for g, (it, refs) in enumerate(members):
                ev = _Evaluator(values or {}, periods, ())
                ev.done.update((ref, slots[k][g]) for k, ref in enumerate(refs))
                r = np.asarray(ev.ev(it.expr, None))
                out[it] = r if (it.per_period or not it.is_scalar) else r[..., 0]
            continue
        ev = _Evaluator(values or {}, periods, ())
        for k, ref in enumerate(rep_refs):
            ev.done[ref] = np.stack(slots[k])
        r = np.asarray(ev.ev(rep.expr, None))
        if r.ndim == 1:  # reads no item: the same for every member
            r = np.broadcast_to(r, (len(members),) + r.shape)
        for g, (it, _) in enumerate(members):
            out[it] = r[g] if (it.per_period or not it.is_scalar) else r[g, ..., 0]
    return out
