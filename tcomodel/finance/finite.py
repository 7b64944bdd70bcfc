"""Every result is a finite number before anything is written; where one is not, name the inputs that drive it.

The schema's plausibility bounds keep each input far from float overflow, but their products can still
overflow, and a capacity or a rate can still come out as 0 where the model divides by it. ``check_finite``
finds the first line item that is infinite (or not a number where a number is required), walks its
definition down to the workbook cells that feed it and raises an InputError at those cells, so that no
report, JSON or sweep is written from it. #N/A results (an IRR that does not exist, no payback, a cost per
Mtok in a quarter with no tokens) are legitimate and pass.
"""

from __future__ import annotations

import math

import numpy as np

from tcomodel.errors import InputError, Problem
from tcomodel.sheet.expr import Input, Item, Prev, RowRef

MAX_CELLS_NAMED = 6


def _required_items(model) -> list[Item]:
    """Results that must be numbers (never #N/A): costs, tokens, TCO, NPVs and the master check."""
    out = []
    for om in model.options.values():
        out += [om.cash_cost, om.pl_cost, om.tokens, om.tco_nominal, om.tco_pv, om.pv_tokens, om.tokens_total]
    out += [c.npv for c in list(model.comparisons.values()) + list(model.pairs.values())]
    out.append(model.master_check)
    return out


def _owner(model) -> dict[int, str]:
    """id(item) -> the option it belongs to (its sections, or the switching comparison to it)."""
    owner: dict[int, str] = {}
    for oid, om in model.options.items():
        for sec in om.sections:
            for it in sec.items:
                owner.setdefault(id(it), oid)
    for oid, c in model.comparisons.items():
        for it in c.items:
            owner.setdefault(id(it), oid)
    return owner


def _leaves(it: Item) -> tuple[set[str], set[str], list[Item]]:
    """Scalar input names, row input names and the items directly referenced by ``it``'s definition."""
    inputs, rows, items = set(), set(), []
    for node in it.expr.walk():
        if isinstance(node, Input):
            inputs.add(node.name)
        elif isinstance(node, RowRef) and node.kind == "row":
            rows.add(node.name)
        elif isinstance(node, Item) and node is not it:
            items.append(node)
        elif isinstance(node, Prev) and node.item is not it:
            items.append(node.item)
    return inputs, rows, items


def _feeding_inputs(it: Item) -> tuple[set[str], set[str]]:
    """Every scalar and row input ``it`` depends on, transitively."""
    inputs, rows, seen, stack = set(), set(), set(), [it]
    while stack:
        cur = stack.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        i, r, items = _leaves(cur)
        inputs |= i
        rows |= r
        stack += items
    return inputs, rows


def _bad(values, it: Item, required: bool) -> bool:
    v = np.asarray(values.get(it, 0.0), dtype=float)
    return bool(np.isinf(v).any() or (required and np.isnan(v).any()))


def _split_origin(origin: str) -> tuple[str | None, str | None]:
    """'Rental!B3' -> ('Rental', 'B3'); 'Workload!B3:B22' -> ('Workload', 'B3'); anything else -> (None, None)."""
    head = origin.split(" ")[0]
    if "!" not in head:
        return None, None
    sheet, cell = head.split("!", 1)
    return sheet, cell.split(":")[0]


def check_finite(run) -> None:
    """Raise InputError naming the option, the result and the input cells behind the first non-finite result."""
    model, values = run.model, run.values
    required = _required_items(model)
    items = model.all_items()

    def flat(its):
        return np.concatenate([np.ravel(values.get(it, 0.0)) for it in its])

    # one screen over all values at once (item by item, numpy's cost per call is most of it); the search below
    # runs only where something fails it
    if not np.isinf(flat(items)).any() and not np.isnan(flat(required)).any():
        return
    required_ids = {id(it) for it in required}
    bad = [it for it in items if _bad(values, it, id(it) in required_ids)]
    if not bad:
        return
    # the root: follow non-finite references down to an item whose own references are all finite, the first
    # place the number broke
    root, seen = bad[0], set()
    while id(root) not in seen:
        seen.add(id(root))
        child = next((c for c in _leaves(root)[2] if c in values and id(c) not in seen
                      and not np.isfinite(np.asarray(values[c], dtype=float)).all()), None)
        if child is None:
            break
        root = child
    owner = _owner(model)
    oid = owner.get(id(root)) or next((owner[id(it)] for it in bad if id(it) in owner), None)
    inputs, rows = _feeding_inputs(root)
    defs = [model.inputs[n] for n in inputs if n in model.inputs] + [model.row_inputs[n] for n in rows
                                                                        if n in model.row_inputs]
    cells = [d for d in defs if _split_origin(d.origin)[0] is not None]

    def size(d):  # the largest inputs first: an overflow starts at the biggest factor
        v = np.abs(np.asarray(getattr(d, "values", getattr(d, "value", 0.0)), dtype=float))
        return float(np.nanmax(v)) if v.size else 0.0

    cells.sort(key=lambda d: (-size(d), d.origin))
    v = np.asarray(values[root], dtype=float)
    what = "infinite" if np.isinf(v).any() else "not a number (#N/A)"
    opt_rec = run.scenario.options.get(oid) if oid else None
    where_opt = f"option '{oid}' ({opt_rec.cell('option_id')}): " if opt_rec is not None else ""
    named = ", ".join(f"{d.origin.split(' ')[0]} {d.label} = {_fmt(size(d))}" for d in cells[:MAX_CELLS_NAMED])
    more = f" and {len(cells) - MAX_CELLS_NAMED} more" if len(cells) > MAX_CELLS_NAMED else ""
    message = (f"{where_opt}'{root.label}' ({root.unit}) comes out {what}, so no report is written. It is computed "
               f"from {named or 'no workbook input'}{more}; one of them is too large or too small for this "
               "scenario (check for a mistyped exponent or a zero where a rate or capacity is divided by)")
    if cells:
        sheet, cell = _split_origin(cells[0].origin)
    elif opt_rec is not None:
        sheet, cell = "Options", opt_rec.cell("option_id").split("!")[1]
    else:
        sheet, cell = None, None
    raise InputError([Problem(sheet, cell, message)], path=getattr(run.scenario, "path", None))


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    return f"{x:,.6g}" if abs(x) < 1e15 else f"{x:.6g}"
