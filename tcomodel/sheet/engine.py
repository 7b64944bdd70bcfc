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
        self.inputs: dict[str, np.ndarray] = {}

    # t is None: whole timeline ([..., P]); else one period ([..., 1])
    def ev(self, e: Expr, t: int | None) -> np.ndarray:
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
            v = self.inputs[e.name] = np.asarray(self.values[e.name], dtype=float)[..., None]
        return v

    def _rowref(self, e: RowRef, t):
        v = np.asarray(self.values[e.name], dtype=float)
        return v if t is None else v[..., t:t + 1]

    def _itemref(self, e: Item, t):
        return self._item(e, t, lag=0)

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



# node type -> the evaluator's method (a dict lookup instead of a chain of isinstance tests)
_DISPATCH = {Const: _Evaluator._const, Input: _Evaluator._input, RowRef: _Evaluator._rowref,
             Item: _Evaluator._itemref, Prev: lambda self, e, t: self._prev(e, t), BinOp: _Evaluator._binop,
             Neg: _Evaluator._neg, Compare: _Evaluator._compare, Func: lambda self, e, t: self._func(e, t),
             Aggregate: _Evaluator._aggregate}

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


def evaluate(items, values: dict, periods: int | None = None, *, only: bool = False) -> dict[Item, np.ndarray]:
    """Evaluate line items (and everything they reference).

    ``values`` maps input names to arrays: scalar inputs ``[...]``, row inputs and timeline rows
    ``[..., periods]``. Returns ``{item: array}`` with period items ``[..., periods]`` and scalar
    items ``[...]``, the leading axes being the broadcast of all inputs' leading axes.
    ``only``: return just ``items`` and drop each intermediate result as soon as nothing left needs it,
    so memory holds the live rows, not every row (many scenarios at once: tornado, grid, sweep).
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
    wanted = set(items)
    _schedule(ev, all_items, wanted, only)

    out: dict[Item, np.ndarray] = {}
    for it in (list(dict.fromkeys(items)) if only else all_items):  # in the order asked
        v = ev.done[it]
        if it.per_period or not it.is_scalar:
            out[it] = np.array(np.broadcast_to(v, batch + (P,)))
        else:
            out[it] = np.array(np.broadcast_to(v[..., 0], batch))
    return out


def _schedule(ev: _Evaluator, all_items: list[Item], wanted: set, only: bool) -> None:
    """Evaluate ``all_items`` into ``ev.done``, dependencies first (see evaluate)."""
    edges = {it: [r for r, _ in iter_refs(it.expr)] for it in all_items}
    # Recurrences of the same shape (one corkscrew per purchase quarter) wait here and are stepped through
    # the periods together, stacked on a leading axis: one Python loop over periods per shape, not per
    # corkscrew. A group is evaluated as soon as something needs one of its items (or at the end).
    pending: dict[tuple, list] = {}
    pending_of: dict[Item, tuple] = {}  # item -> (shape, the group it waits in)
    uses: dict[Item, int] = {}  # consumers not yet computed, per item (only=True)
    if only:
        for it in all_items:
            for r in set(edges[it]):
                uses[r] = uses.get(r, 0) + 1

    def used(consumers):
        """``consumers`` are computed: drop what nobody else needs."""
        if not only:
            return
        for c in consumers:
            for r in set(edges[c]):
                uses[r] -= 1
                if uses[r] == 0 and r not in wanted:
                    ev.done.pop(r, None)

    def step(group):
        _step_group(ev, group)
        used(it for order, _ in group for it in order)

    def need(refs):
        for r in refs:
            key, group = pending_of.get(r, (None, None))
            if group is not None and pending.get(key) is group:
                step(pending.pop(key))

    for comp in _sccs(all_items, edges):
        recurrent = len(comp) > 1 or any(r is comp[0] for r in edges[comp[0]])
        if not recurrent:
            it = comp[0]
            need(edges[it])
            v = ev.ev(it.expr, None)
            if it.per_period or not it.is_scalar:
                v = np.broadcast_to(v, v.shape[:-1] + (ev.P,))
            ev.done[it] = v
            used([it])
            continue
        order = _topo_same_period(comp)
        members = set(order)
        need(r for it in order for r in edges[it] if r not in members)
        if _running_max(ev, order):
            used(order)
            continue
        key, ext = _shape_of(order)
        if key is None:
            step([(order, ext)])
            continue
        group = pending.setdefault(key, [])
        group.append((order, ext))
        for it in order:
            pending_of[it] = (key, group)
    for key in list(pending):
        step(pending.pop(key))


def _shape_of(order: list[Item]) -> tuple[tuple | None, list[Item]]:
    """A recurrence's shape: its expressions with its own items numbered by position and the items it reads
    from outside numbered by first use (``ext``). Two recurrences of the same shape are the same formulas
    over different inputs, so they can be stepped together. None where a node is not one this knows."""
    own = {it: i for i, it in enumerate(order)}
    ext: list[Item] = []
    slot: dict[Item, int] = {}

    def sig(e):
        if isinstance(e, Item):
            if e in own:
                return ("own", own[e])
            if e not in slot:
                slot[e] = len(ext)
                ext.append(e)
            return ("ext", slot[e])
        if isinstance(e, Const):
            return ("c", e.value) if e.value == e.value else None  # NaN never equals itself: no group
        if isinstance(e, Input):
            return ("in", e.name)
        if isinstance(e, RowRef):
            return ("row", e.name)
        if isinstance(e, Prev):
            return _all("prev", sig(e.item), sig(e.init))
        if isinstance(e, BinOp):
            return _all("bin", e.op, sig(e.a), sig(e.b))
        if isinstance(e, Compare):
            return _all("cmp", e.op, sig(e.a), sig(e.b))
        if isinstance(e, Neg):
            return _all("neg", sig(e.a))
        if isinstance(e, Func):
            return _all("f", e.name, *(sig(a) for a in e.args))
        if isinstance(e, Aggregate):
            return _all("agg", e.name, _all(*(sig(r) for r in e.rows)), _all(*(sig(x) for x in e.scalars)))
        return None

    parts = tuple((it.per_period, it.is_scalar, sig(it.expr)) for it in order)
    if any(p[2] is None for p in parts):
        return None, ext
    return parts, ext


def _all(*parts):
    return None if any(p is None for p in parts) else parts


def _running_max(ev: _Evaluator, order: list[Item]) -> bool:
    """``x = MAX(prev(x, init), e)`` (a fleet that never shrinks) as a running maximum in one numpy call.
    Exact: MAX is exact arithmetic, so this equals stepping period by period. False if not that form."""
    if len(order) != 1:
        return False
    it = order[0]
    e = it.expr
    if not (isinstance(e, Func) and e.name == "MAX" and len(e.args) == 2 and isinstance(e.args[0], Prev)
            and e.args[0].item is it and all(r is not it for r, _ in iter_refs(e.args[1]))
            and all(r is not it for r, _ in iter_refs(e.args[0].init))):
        return False
    init = ev.ev(e.args[0].init, 0)[..., :1]
    x = ev.ev(e.args[1], None)
    shape = np.broadcast_shapes(ev.batch + (1,), init.shape, x.shape[:-1] + (1,))[:-1]
    x = np.broadcast_to(x, shape + (ev.P,))
    init = np.broadcast_to(init, shape + (1,))
    # period t = max(max(init, x_0..x_t-1 ...)): the stepped recurrence; np.maximum propagates NaN as MAX does
    ev.done[it] = np.maximum.accumulate(np.concatenate([init, x], axis=-1), axis=-1)[..., 1:]
    return True


def _step_group(ev: _Evaluator, group: list) -> None:
    """The true recurrences: step period by period (a period needs the previous one's values). ``group``:
    (items in same-period order, external items) of recurrences of one shape, stacked on a leading axis."""
    if len(group) == 1:
        order = group[0][0]
        for it in order:
            ev.buffer[it] = np.full(ev.batch + (ev.P,), np.nan)
        for t in range(ev.P):
            for it in order:
                ev.buffer[it][..., t:t + 1] = ev.ev(it.expr, t)
        for it in order:
            ev.done[it] = ev.buffer.pop(it)
        return
    rep_order, rep_ext = group[0]
    sub = _Evaluator(ev.values, ev.P, ev.batch)
    for k, x in enumerate(rep_ext):
        arrays = [ev.done[ext[k]] for _, ext in group]
        last = max(a.shape[-1] for a in arrays)
        sub.done[x] = np.stack([np.broadcast_to(a, ev.batch + (last,)) for a in arrays])
    G = len(group)
    for it in rep_order:
        sub.buffer[it] = np.full((G,) + ev.batch + (ev.P,), np.nan)
    for t in range(ev.P):
        for it in rep_order:
            sub.buffer[it][..., t:t + 1] = sub.ev(it.expr, t)
    for i, it in enumerate(rep_order):
        stacked = sub.buffer.pop(it)
        for g, (order, _) in enumerate(group):
            ev.done[order[i]] = stacked[g]


def evaluate_over(expr, known: dict, periods: int, values: dict | None = None) -> np.ndarray:
    """Value of ``expr`` whose line items are all in ``known`` (an evaluation's results, e.g. a report
    cell summarizing computed rows): the same evaluator, so a report's cached value is never worked out
    a second way by hand. ``values``: inputs and rows the expression reads directly (e.g. a timeline row)."""
    ev = _Evaluator(values or {}, periods, ())
    for ref, _ in iter_refs(expr):
        v = np.asarray(known[ref], dtype=float)
        ev.done[ref] = v if (ref.per_period or not ref.is_scalar) else v[..., None]
    return ev.ev(expr, None)
