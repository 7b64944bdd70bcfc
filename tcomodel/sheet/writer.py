"""Lay line items onto xlsxwriter worksheets in the FAST column layout.

``label | unit | constant/input | total | period 1..N``: one formula per row, the same across the
period columns, each formula cell carrying the engine's value as its cached result. Styling is the
caller's: pass xlsxwriter Format objects in ``formats`` (keys below); an item's ``style`` picks
``formats[item.style]`` for its value cells.

Format keys: label, unit, input, row_input, formula, total, scalar, header.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

import numpy as np
from xlsxwriter.utility import xl_rowcol_to_cell

from tcomodel.sheet.expr import Item, SheetError
from tcomodel.sheet.functions import row_total
from tcomodel.sheet.render import (
    Layout, WrittenCell, WrittenRow, cell_ref, col_letters, render, render_periods_template, render_total,
)
from tcomodel.xlsxmanifest import template_hashes

NA = "#N/A"


def _fmt(formats: Mapping | None, key: str | None, fallback: str):
    if not formats:
        return None
    if key and key in formats:
        return formats[key]
    return formats.get(fallback)


def cached_value(v) -> float | str:
    """A value safe to store as a cached result: never NaN/inf (Excel refuses the file), '#N/A'."""
    v = float(v)
    return v if math.isfinite(v) else NA


def _formula(ws, layout: Layout, row: int, col: int, formula: str, value, fmt) -> None:
    cached = cached_value(value)
    ws.write_formula(row, col, formula, fmt, cached)
    wc = WrittenCell(ws.name, f"{col_letters(col)}{row + 1}", formula, cached)
    layout.written.append(wc)
    if cached == NA:
        layout.errors.append(wc)


def _formula_row(ws, layout: Layout, row: int, first: int, formulas: list[str], values, fmt) -> None:
    """``_formula`` for a row's period cells from period ``first`` on, in one call where the worksheet
    has one for a row (xlsxfast.FastWorksheet.write_formula_row)."""
    write_row = getattr(ws, "write_formula_row", None)
    if write_row is None:
        for p, (formula, value) in enumerate(zip(formulas, values), start=first):
            _formula(ws, layout, row, layout.period_col(p), formula, value, fmt)
        return
    cached = [cached_value(v) for v in values]
    col = layout.period_col(first)
    write_row(row, col, formulas, fmt, cached)
    written = WrittenRow(ws.name, row, col, formulas, cached)
    layout.written.append(written)  # its cells listed when asked for (written_cells)
    if NA in cached:
        layout.errors.extend(w for w in written.cells() if w.value == NA)


def _number(ws, layout: Layout, row: int, col: int, value, fmt) -> None:
    v = float(value)
    if not math.isfinite(v):
        raise SheetError(f"{ws.name}!{xl_rowcol_to_cell(row, col)}: input value {value!r} is not finite")
    ws.write_number(row, col, v, fmt)
    layout.written.append(WrittenCell(ws.name, cell_ref(row, col), None, v))


def write_inputs(ws, layout: Layout, rows: Iterable, start_row: int, formats: Mapping | None = None) -> int:
    """Write scalar inputs ``(name, label, unit, value)`` one per row, value in the constant column,
    and register them. Returns the next free row."""
    r = start_row
    for name, label, unit, value in rows:
        ws.write_string(r, layout.label_col, label, _fmt(formats, None, "label"))
        ws.write_string(r, layout.unit_col, unit, _fmt(formats, None, "unit"))
        _number(ws, layout, r, layout.const_col, value, _fmt(formats, None, "input"))
        layout.add_input(name, ws.name, (r, layout.const_col))
        r += 1
    return r


def write_rows(ws, layout: Layout, rows: Iterable, start_row: int, formats: Mapping | None = None) -> int:
    """Write per-period rows given as numbers ``(name, label, unit, values)``: row inputs or
    timeline rows. Registers them; returns the next free row."""
    r = start_row
    for name, label, unit, values in rows:
        values = np.asarray(values, dtype=float)
        if values.shape != (layout.periods,):
            raise SheetError(f"row {name!r}: expected {layout.periods} values, got shape {values.shape}")
        ws.write_string(r, layout.label_col, label, _fmt(formats, None, "label"))
        ws.write_string(r, layout.unit_col, unit, _fmt(formats, None, "unit"))
        for p, v in enumerate(values):
            _number(ws, layout, r, layout.period_col(p), v, _fmt(formats, None, "row_input"))
        layout.add_row(name, ws.name, r)
        r += 1
    return r


def write_period_header(ws, layout: Layout, row: int, labels: Iterable[str], formats: Mapping | None = None,
                        titles=("", "Unit", "Value", "Total")) -> None:
    """Period labels over the period columns (and column titles over label/unit/constant/total)."""
    f = _fmt(formats, None, "header")
    for col, t in zip((layout.label_col, layout.unit_col, layout.const_col, layout.total_col), titles):
        if t:
            ws.write_string(row, col, t, f)
    for p, lab in enumerate(labels):
        ws.write_string(row, layout.period_col(p), str(lab), f)


def _single(values: Mapping, it: Item) -> np.ndarray:
    if it not in values:
        raise SheetError(f"no evaluated value for {it.label!r}: evaluate it (or a dependant) first")
    v = np.asarray(values[it], dtype=float)
    return v


def write_block(ws, items: Iterable[Item], layout: Layout, values: Mapping, start_row: int,
                formats: Mapping | None = None) -> int:
    """Write line items one per row from ``start_row`` and register them in ``layout``.

    ``values`` is ``evaluate()``'s result for ONE scenario (period items shape [periods], scalar
    items shape []). Items are placed before any formula is rendered, so items in the block may
    refer to each other in any order. Returns the next free row.
    """
    items = list(items)
    for i, it in enumerate(items):
        layout.place(it, ws.name, start_row + i)
    for i, it in enumerate(items):
        r = start_row + i
        v = _single(values, it)
        ws.write_string(r, layout.label_col, it.label, _fmt(formats, None, "label"))
        ws.write_string(r, layout.unit_col, it.unit, _fmt(formats, None, "unit"))
        if it in layout.scalars:
            if v.ndim != 0:
                raise SheetError(f"{it.label!r}: expected one scenario's scalar, got shape {v.shape}")
            loc = layout.scalars[it]
            _formula(ws, layout, loc.row, loc.col, render(it, None, layout, ws.name), v,
                     _fmt(formats, it.style, "scalar"))
            continue
        if v.shape != (layout.periods,):
            raise SheetError(f"{it.label!r}: expected shape ({layout.periods},) for one scenario, got {v.shape}")
        fmt = _fmt(formats, it.style, "formula")
        first, stop = it.blank(layout.periods)  # the other periods are empty by construction: left blank
        formulas, template = render_periods_template(it, layout, ws.name)
        note_template_hashes(ws, template, formulas, first, stop)
        _formula_row(ws, layout, r, first, formulas[first:stop], v[first:stop], fmt)
        if it.total:
            tot = row_total(v)
            _formula(ws, layout, r, layout.total_col, render_total(it, layout, ws.name), tot,
                     _fmt(formats, None, "total"))
    return start_row + len(items)


def note_template_hashes(ws, template, formulas: list[str], first: int, stop: int) -> None:
    """Give a worksheet that keeps them (xlsxfast.FastWorksheet.formula_hashes) the manifest hashes of the
    period formulas ``formulas[first:stop]`` filled from ``template``, worked out once for the row."""
    hashes = getattr(ws, "formula_hashes", None)
    if template is not None and hashes is not None:
        # prev()'s first period is not the template's: template_hashes starts after it
        start = first if not any(template.lags) else max(first, 1)
        hashes.update(template_hashes(template, formulas, start, stop))


def write_scalar(ws, it: Item, layout: Layout, values: Mapping, row: int, col: int, fmt=None) -> None:
    """Write a scalar item at an arbitrary cell (e.g. a Summary sheet headline)."""
    layout.place(it, ws.name, row, col)
    v = _single(values, it)
    _formula(ws, layout, row, col, render(it, None, layout, ws.name), v, fmt)


def written_cells(layout: Layout, formulas_only: bool = False) -> list[WrittenCell]:
    """Every (sheet, cell, formula, cached value) written through this layout, in order."""
    cells = []
    for w in layout.written:
        if type(w) is WrittenRow:
            cells.extend(w.cells())
        elif w.formula is not None or not formulas_only:
            cells.append(w)
    return cells
