"""The order of an evaluation: the items an expression needs, strongly connected components dependencies-first
(recurrences), the order within a period, and the shapes of recurrences that can be stepped together or taken in
one numpy call. Used by the compiler (``sheet/plan.py``)."""

from __future__ import annotations

import math

from tcomodel.sheet.expr import (
    Aggregate, BinOp, Compare, Const, Func, Input, Item, Neg, Prev, RowRef, SheetError, iter_refs,
)


def collect_items(items) -> list[Item]:
    """Every item reachable from ``items`` (definitions of referenced items included)."""
    seen: dict[Item, None] = {}
    stack = list(items)[::-1]
    while stack:
        it = stack.pop()
        if it in seen:
            continue
        seen[it] = None
        for ref, _ in it.reads[0]:
            if ref not in seen:
                stack.append(ref)
    return list(seen)


def sccs(nodes: list[Item], edges: dict[Item, list[Item]]) -> list[list[Item]]:
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


def topo_same_period(group: list[Item]) -> list[Item]:
    members = set(group)
    deps = {g: {r for r, how in g.reads[0] if r in members and how != "lag"} for g in group}
    for g in group:
        for r, how in g.reads[0]:
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


def shape_of(order: list[Item]) -> tuple[tuple | None, list[Item]]:
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
        if isinstance(e, Const):  # NaN never equals itself: no group; 0.0 and -0.0 are two constants
            return ("c", e.value, math.copysign(1.0, e.value)) if e.value == e.value else None
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


def is_running_sum(order: list[Item]) -> bool:
    """Is this recurrence ``x = prev(x, init) + e`` (or ``e + prev(x, init)``), e and init not reading x, with
    no blank periods?"""
    if len(order) != 1:
        return False
    it = order[0]
    e = it.expr
    if not (isinstance(e, BinOp) and e.op == "+") or it.first_period or it.last_period is not None:
        return False
    for p, other in ((e.a, e.b), (e.b, e.a)):
        if (isinstance(p, Prev) and p.item is it and all(r is not it for r, _ in iter_refs(other))
                and all(r is not it for r, _ in iter_refs(p.init))):
            return True
    return False


def is_running_max(order: list[Item]) -> bool:
    """Is this recurrence ``x = MAX(prev(x, init), e)`` (a fleet that never shrinks)?"""
    if len(order) != 1:
        return False
    it = order[0]
    e = it.expr
    return (isinstance(e, Func) and e.name == "MAX" and len(e.args) == 2 and isinstance(e.args[0], Prev)
            and e.args[0].item is it and all(r is not it for r, _ in iter_refs(e.args[1]))
            and all(r is not it for r, _ in iter_refs(e.args[0].init)))
