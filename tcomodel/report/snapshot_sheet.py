"""The Snapshot sheet and the stale-input guard.

The engine computes some figures outside the formulas: the roofline capacities (purple on the Inputs
sheet), the Roofline sheet and the Sensitivity sheet. Snapshot holds a copy of every constant input cell of
the Inputs and InputsByQuarter sheets as built (Low, Base, High, per-quarter rows and multipliers), one row per
input row in the same columns; column B counts the cells of each row that differ now. The guard on the Checks sheet sums them, and the master
status reads "stale: rebuild" when any input was edited after the build. Switching the case changes no
constant cell, so it never makes the report stale.
"""

from __future__ import annotations

from tcomodel.report.report_context import FIRST_ROW, HEADER_ROW, PERIOD_COL_WIDTH, ReportContext
from tcomodel.sheet import IF, Item, balanced_sum, count_different, inp, row_input, text

SHEET = "Snapshot"
PREFIX = "snapshot:"  # layout names of the copies
STATUS = "checks.master_status"  # layout name of the master status cell


def write_snapshot(ctx: ReportContext) -> list[Item]:
    """Write the copy and the per-row counts; returns the count items (for the guard)."""
    ws, f = ctx.ws[SHEET], ctx.f
    longest = max([40] + [len(e[2]) + 2 for e in ctx.snapshot])
    widths = (min(100, longest), 14, 20, 14)  # label | count | row | Low; then Base, High and the quarters
    for col, w in enumerate(widths):
        ws.set_column(col, col, w)
    ctx.label_widths[SHEET] = widths  # prints pages across, like the calculation sheets
    ctx.title_over_labels(ws, "Snapshot: the inputs as built",
                          "A copy of every constant input cell (Inputs, InputsByQuarter) when the engine computed the "
                          "roofline capacities and the Sensitivity sheet. Column B counts the cells of the row now "
                          "different; any difference makes the master status 'stale: rebuild'. Do not edit.")
    heads = ["Input", "Cells changed", "Row on", "Low"] + [str(q) for q in ctx.m.quarters]
    heads[4] = f"Base | {heads[4]}"  # scalar rows: Low, Base, High; per-quarter rows: the quarters
    if len(heads) > 5:
        heads[5] = f"High | {heads[5]}"
    for col, t in enumerate(heads):
        ws.write_string(HEADER_ROW, col, t, f.get("header_left" if col == 0 else "header"))
    counts = []
    for r, (kind, (sheet, row), label, cells) in enumerate(ctx.snapshot, start=FIRST_ROW):
        ws.write_string(r, 0, label)
        ws.write_string(r, 2, f"{sheet} {row + 1}", f.get("unit"))
        diffs = []
        for name, value, col in cells:
            if kind == "scalar":
                ws.write_number(r, col, float(value), f.get("engine", "#,##0.00####"))
                ctx.L.add_input(PREFIX + name, SHEET, (r, col))
                diffs.append(inp(name).ne(inp(PREFIX + name)))
            else:
                for p, v in enumerate(value):
                    ws.write_number(r, ctx.L.period_col(p), v, f.get("engine", "#,##0.00####"))
                ctx.L.add_row(PREFIX + name, SHEET, r)
                diffs.append(count_different(row_input(name), row_input(PREFIX + name)))
        it = Item(f"Cells changed: {label}", "cells", balanced_sum(diffs))
        ctx.cell(ws, r, 1, it, f.get("check", "0"), 0)
        counts.append(it)
    if counts:
        ws.conditional_format(FIRST_ROW, 1, FIRST_ROW + len(counts) - 1, 1, {"type": "cell", "criteria": ">", "value": 0, "format": f.get("bad")})
    ws.set_column(4, 4 + ctx.n - 1, PERIOD_COL_WIDTH)
    ws.freeze_panes(HEADER_ROW + 1, 2)
    return counts


def master_status_at_build(ctx: ReportContext) -> str:
    """The master status cell's cached value: at build no input differs from the Snapshot, so it follows the
    engine's master check alone (the engine does not evaluate text, so the status is cached here, once)."""
    return "OK" if float(ctx.values[ctx.m.master_check]) == 0 else "FAIL: see the checks below"


def write_guard(ctx: ReportContext, ws, row: int, counts: list[Item], master_row: int, status_col: int, sum_cells):
    """On the Checks sheet: the count of changed input cells at ``row``, and the master status (OK, stale:
    rebuild, or FAIL) in the master check's row at ``status_col``."""
    f = ctx.f
    ws.write_string(row, 0, "Input cells edited since the build (Snapshot sheet): stale if not 0")
    ws.write_string(row, 1, "cells", f.get("unit"))
    guard = Item("Inputs edited since the build", "cells", sum_cells(counts) if counts else 0)
    ctx.cell(ws, row, 2, guard, f.get("check", "0"), 0)
    ctx.ok_bad(ws, row, 2)
    master = ctx.m.master_check
    status = Item("Master status", "", IF(guard > 0, text("stale: rebuild"),
                                          IF(master.eq(0), text("OK"), text("FAIL: see the checks below"))))
    ctx.cell(ws, master_row, status_col, status, f.get("check"), master_status_at_build(ctx))
    ws.conditional_format(master_row, status_col, master_row, status_col,
                          {"type": "cell", "criteria": "==", "value": '"OK"', "format": f.get("ok")})
    ws.conditional_format(master_row, status_col, master_row, status_col,
                          {"type": "cell", "criteria": "!=", "value": '"OK"', "format": f.get("bad")})
    ctx.define_name("MasterStatus", "Checks", master_row, status_col)
    ctx.L.add_input(STATUS, "Checks", (master_row, status_col), defined_name="MasterStatus")
