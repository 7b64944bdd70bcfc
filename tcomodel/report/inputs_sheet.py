"""The Inputs sheet: the case switch, every scalar input with its Low / Base / High values, origin and
source, then the per-quarter inputs. Writing it registers each input's cell (and its defined name) in the
layout, so every formula can reference it.

Every formula reads column C, "Value used": the selected case's value (``CHOOSE(CaseIndex, Low, Base,
High)`` where the Ranges sheet gives a range, else the Base value). A ranged Workload row is the Base row
times the case's per-quarter multiplier. The constant cells (Low, Base, High, multipliers) are what the
Snapshot sheet records for the stale-input check.
"""

from __future__ import annotations

import math

from tcomodel.finance.cases import CASE_LABEL
from tcomodel.finance.model import GROUPS
from tcomodel.report.report_context import FIRST_ROW, HEADER_ROW, ReportContext
from tcomodel.sheet import CHOOSE, IF, MAX, MIN, NA, inp, row_input, text
from tcomodel.sheet.names import defined_name

CASE_ROW = 2  # 0-based row of the case switch, above the header
CASE_CELL = (CASE_ROW, 2)
CASE_INDEX_CELL = (CASE_ROW, 3)
LOW_COL, BASE_COL, HIGH_COL = 3, 4, 5
SOURCE_COL = 6  # origin and source, merged over SOURCE_COLS columns
SOURCE_COLS, SOURCE_COL_WIDTH = 6, 16  # the sheet prints one page wide: sources wrap within ~96 characters
QUARTER_SHEET = "InputsByQuarter"
LABEL_WIDTH_MAX = 64
CASE_INPUT, CASE_INDEX = "case.label", "case.index"  # layout names of the switch and its number
COLUMN_SUFFIX = {LOW_COL: "@low", BASE_COL: "@base", HIGH_COL: "@high"}  # layout names of each scalar's cells


def write_inputs_sheet(ctx: ReportContext):
    ws, f = ctx.ws["Inputs"], ctx.f
    ctx.title(ws, "Inputs", "Every input the model uses, with where it comes from. Blue on yellow: from the "
                            "scenario workbook (Low / Base / High; edit here to explore, in the scenario workbook to "
                            "keep). Purple on lilac: computed by the engine (roofline). Column C is what every "
                            "formula reads: the selected case.")
    _write_case_switch(ctx, ws)
    head_wrap = ctx.wb.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F3864", "border": 1,
                                   "text_wrap": True, "align": "center", "valign": "vcenter"})
    for col, t in enumerate(("Input", "Unit", "Value used (selected case)", "Low", "Base", "High")):
        ws.write_string(HEADER_ROW, col, t, f.get("header_left") if col == 0 else head_wrap)
    ws.merge_range(HEADER_ROW, SOURCE_COL, HEADER_ROW, SOURCE_COL + SOURCE_COLS - 1,
                   "Origin (scenario workbook cell) and source", f.get("header_left"))
    ws.set_row(HEADER_ROW, 30)
    labels = [d.label for d in ctx.m.inputs.values()]
    ws.set_column(0, 0, min(LABEL_WIDTH_MAX, max([46] + [len(t) + 2 for t in labels])))  # longer labels wrap
    ws.set_column(1, 1, 18)
    ws.set_column(2, 2, 16)
    ws.set_column(3, 5, 14)
    ws.set_column(SOURCE_COL, SOURCE_COL + SOURCE_COLS - 1, SOURCE_COL_WIDTH)
    ws.freeze_panes(HEADER_ROW + 1, 1)
    ws.repeat_rows(HEADER_ROW)  # the column headers on every printed page
    _write_scalar_inputs(ctx, ws, FIRST_ROW)
    q = ctx.ws[QUARTER_SHEET]
    ctx.calc_columns(q, label_width=min(90, max([46] + [len(d.label) + 8 for d in ctx.m.row_inputs.values()])),
                     unit_width=19)
    ctx.title_over_labels(q, "Inputs by quarter", "Every per-quarter input, with its origin. Blue on yellow: from "
                                                  "the scenario workbook; purple on lilac: engine-computed. A ranged "
                                                  "row is its Base row times the selected case's multiplier (Inputs!C3).")
    _write_row_inputs(ctx, q, HEADER_ROW)


def _write_case_switch(ctx: ReportContext, ws):
    f = ctx.f
    ws.write_string(CASE_ROW, 0, "Case shown (choose Low, Base or High in C3)", f.get("label_bold"))
    ws.write_string(CASE_ROW, 1, "case", f.get("unit"))
    ws.write_string(*CASE_CELL, CASE_LABEL[ctx.run.case], f.get("input"))
    ws.data_validation(*CASE_CELL, *CASE_CELL, {"validate": "list", "source": [CASE_LABEL[c] for c in
                                                                                ("low", "base", "high")],
                                                "error_message": "Choose Low, Base or High"})
    ctx.define_name("Case", "Inputs", *CASE_CELL)
    ctx.L.add_input(CASE_INPUT, "Inputs", CASE_CELL, defined_name="Case")
    case = inp(CASE_INPUT)
    index = IF(case.eq(text("Low")), 1, IF(case.eq(text("Base")), 2, IF(case.eq(text("High")), 3, NA())))
    ctx.formula(ws, *CASE_INDEX_CELL, index, f.get("formula", "0"), {"low": 1, "base": 2, "high": 3}[ctx.run.case],
                "Case number", "case #")
    ctx.define_name("CaseIndex", "Inputs", *CASE_INDEX_CELL)
    ctx.L.add_input(CASE_INDEX, "Inputs", CASE_INDEX_CELL, defined_name="CaseIndex")
    ws.merge_range(CASE_ROW, 4, CASE_ROW, SOURCE_COL + SOURCE_COLS - 1,
                   "← CaseIndex (1 Low, 2 Base, 3 High). Low / High: every input with a range on the Ranges sheet at "
                   "its low or high value, the rest at Base; the Sensitivity sheet is always around Base.",
                   ctx.source_wrap)
    ws.set_row(CASE_ROW, 30)


def _write_scalar_inputs(ctx: ReportContext, ws, r) -> int:
    f = ctx.f
    ranged = ctx.run.cases.scalars
    case_values = ctx.case_inputs
    by_group: dict[str, list] = {}
    for d in ctx.m.inputs.values():
        by_group.setdefault(d.group, []).append(d)
    for g in GROUPS:
        if g not in by_group:
            continue
        ctx.section(ws, r, g, SOURCE_COL + SOURCE_COLS - 1)
        r += 1
        for d in by_group[g]:
            ws.write_string(r, 0, d.label, f.get("wrap"))
            ws.write_string(r, 1, d.unit, f.get("unit_top"))
            role = "engine" if d.engine_computed else "input"
            ws.write_number(r, BASE_COL, d.value, f.for_unit(role + "_top", d.unit))
            rng = ranged.get(d.name)
            cells = {BASE_COL: d.value}
            if rng is not None:
                cells.update({LOW_COL: rng.low, HIGH_COL: rng.high})
                ws.write_number(r, LOW_COL, rng.low, f.for_unit("input_top", d.unit))
                ws.write_number(r, HIGH_COL, rng.high, f.for_unit("input_top", d.unit))
            for col in cells:
                ctx.L.add_input(d.name + COLUMN_SUFFIX[col], "Inputs", (r, col))
            ref = {col: inp(d.name + COLUMN_SUFFIX[col]) for col in cells}
            used = CHOOSE(inp(CASE_INDEX), ref[LOW_COL], ref[BASE_COL], ref[HIGH_COL]) if rng else ref[BASE_COL]
            ctx.formula(ws, r, 2, used, f.for_unit("formula_top", d.unit), float(case_values[d.name]), d.label, d.unit)
            ctx.snapshot.append(("scalar", ("Inputs", r), d.label, [(d.name + COLUMN_SUFFIX[c], col_value, c)
                                                         for c, col_value in sorted(cells.items())]))
            text = f"{d.origin} · {d.source}" if d.source else d.origin
            if rng is not None:
                text = f"Low / High: {rng.ranges_cell} and the cell right of it. " + text
            # wrapped across the period columns, so a long source prints on the page instead of shrinking it
            last = SOURCE_COL + SOURCE_COLS - 1
            ws.merge_range(r, SOURCE_COL, r, last, text, ctx.source_wrap)
            ws.set_row(r, 15 * max(1, math.ceil(len(text) / (SOURCE_COLS * SOURCE_COL_WIDTH * 0.9)),
                                   math.ceil(len(d.label) / (LABEL_WIDTH_MAX * 0.95))))
            name = defined_name(d.name, ctx.taken_names)
            ctx.define_name(name, "Inputs", r, 2)
            ctx.L.add_input(d.name, "Inputs", (r, 2), defined_name=name)
            r += 1
        r += 1
    return r


def _write_row_inputs(ctx: ReportContext, ws, r):
    f = ctx.f
    ctx.period_header(ws, r, ("Per-quarter input", "Unit", "Origin", ""))
    r += 2  # a blank row under the header, as on the calculation sheets
    ranged = ctx.run.cases.rows
    for d in ctx.m.row_inputs.values():
        ws.write_string(r, 0, d.label)
        ws.write_comment(r, 0, f"Source: {d.source}", {"x_scale": 3, "y_scale": 2})
        ws.write_string(r, 1, d.unit, f.get("unit"))
        ws.write_string(r, 2, d.origin if not d.engine_computed else f"engine: {d.origin}", f.get("source"))
        role = "engine" if d.engine_computed else "input"
        rng = ranged.get(d.name)
        ctx.L.add_row(d.name, ws.name, r)
        if rng is None:
            _constant_row(ctx, ws, r, d.name, d.values, f.for_unit(role, d.unit), d.label)
            r += 1
            continue
        parts = {}
        for k, (key, label, vals, unit) in enumerate((("@base", "Base (workbook values)", d.values, d.unit),
                                                      ("@low", "Low multiplier", rng.low_multiplier, "multiplier"),
                                                      ("@high", "High multiplier", rng.high_multiplier, "multiplier")),
                                                     start=1):
            rr = r + k
            ws.write_string(rr, 0, f"   {d.label}: {label}")
            ws.write_string(rr, 1, unit, f.get("unit"))
            ws.write_string(rr, 2, d.origin if key == "@base" else ", ".join(rng.ranges_cells),
                            f.get("source"))
            ctx.L.add_row(d.name + key, ws.name, rr)
            _constant_row(ctx, ws, rr, d.name + key, vals, f.for_unit("input", unit), f"{d.label}: {label}")
            parts[key] = row_input(d.name + key)
        # the row every formula reads: the Base row times the selected case's multiplier
        used = parts["@base"] * CHOOSE(inp(CASE_INDEX), parts["@low"], 1, parts["@high"])
        used = MIN(1, MAX(0, used)) if rng.clip_share else used
        ctx.write_row_formula(ws, r, used, f.for_unit("formula", d.unit), ctx.case_inputs[d.name], d.label, d.unit)
        r += 4


def _constant_row(ctx, ws, r, name, values, fmt, label):
    for p, v in enumerate(values):
        ws.write_number(r, ctx.L.period_col(p), float(v), fmt)
    ctx.snapshot.append(("row", (ws.name, r), label, [(name, [float(v) for v in values], None)]))
