"""The Snapshot sheet and the stale-input guard.

The engine computes some figures outside the formulas: the roofline capacities (purple on the Inputs
sheet), the Roofline sheet and the Sensitivity sheet. Snapshot holds a copy of every constant input cell of
the Inputs sheet as built (Low, Base, High, per-quarter rows and multipliers) at the same address; column B
counts the cells of each row that differ now. The guard on the Checks sheet sums them, and the master
status reads "stale: rebuild" when any input was edited after the build. Switching the case changes no
constant cell, so it never makes the report stale.
"""

from __future__ import annotations

from tcomodel.report.report_context import HEADER_ROW, ReportContext
from tcomodel.sheet import IF, Item, balanced_sum, count_different, inp, row_input, text

SHEET = "Snapshot"
PREFIX = "snapshot:"  # layout names of the copies
STATUS = "checks.master_status"  # layout name of the master status cell


def write_snapshot(ctx: ReportContext) -> list[Item]:
    """Write the copy and the per-row counts; returns the count items (for the guard)."""
    ws, f = ctx.ws[SHEET], ctx.f
    ctx.title(ws, "Snapshot: the inputs as built", "A copy of every constant cell of the Inputs sheet when the "
                                                   "engine computed the roofline capacities and the Sensitivity "
                                                   "sheet. Column B counts the cells of the row now different on "
                                                   "the Inputs sheet; any difference makes the Checks sheet's master "
                                                   "status 'stale: rebuild'. Do not edit this sheet.")
    for col, t in enumerate(("Input (same row as on the Inputs sheet)", "Cells changed", "", "Low", "Base",
                             "High")):
        ws.write_string(HEADER_ROW, col, t, f.get("header_left" if col == 0 else "header"))
    counts = []
    for kind, r, label, cells in sorted(ctx.snapshot, key=lambda e: e[1]):
        ws.write_string(r, 0, label)
        diffs = []
        for name, value, col in cells:
            if kind == "scalar":
                ws.write_number(r, col, float(value), f.get("engine", "General"))
                ctx.L.add_input(PREFIX + name, SHEET, (r, col))
                diffs.append(inp(name).ne(inp(PREFIX + name)))
            else:
                for p, v in enumerate(value):
                    ws.write_number(r, ctx.L.period_col(p), v, f.get("engine", "General"))
                ctx.L.add_row(PREFIX + name, SHEET, r)
                diffs.append(count_different(row_input(name), row_input(PREFIX + name)))
        it = Item(f"Cells changed: {label}", "cells", balanced_sum(diffs))
        ctx.cell(ws, r, 1, it, f.get("check", "0"), 0)
        counts.append(it)
    if counts:
        first, last = min(e[1] for e in ctx.snapshot), max(e[1] for e in ctx.snapshot)
        ws.conditional_format(first, 1, last, 1, {"type": "cell", "criteria": ">", "value": 0, "format": f.get("bad")})
    ws.set_column(0, 0, 46)
    ws.set_column(1, 1, 14)
    ws.set_column(2, 2, 3)
    ws.set_column(3, 3 + ctx.n, 14)
    ws.freeze_panes(HEADER_ROW + 1, 2)
    return counts


def write_guard(ctx: ReportContext, ws, row: int, counts: list[Item], master_row: int, status_col: int, sum_cells):
    """On the Checks sheet: the count of changed input cells at ``row``, and the master status (OK, stale:
    rebuild, or FAIL) in the master check's row at ``status_col``."""
    f = ctx.f
    ws.write_string(row, 0, "Inputs edited since the build (cells differing from the Snapshot sheet); "
                            "engine values (roofline, Sensitivity) are then stale")
    ws.write_string(row, 1, "cells", f.get("unit"))
    guard = Item("Inputs edited since the build", "cells", sum_cells(counts) if counts else 0)
    ctx.cell(ws, row, 2, guard, f.get("check", "0"), 0)
    ctx.ok_bad(ws, row, 2)
    master = ctx.m.master_check
    status = Item("Master status", "", IF(guard > 0, text("stale: rebuild"),
                                          IF(master.eq(0), text("OK"), text("FAIL: see the checks below"))))
    cached = "OK" if float(ctx.values[master]) == 0 else "FAIL: see the checks below"
    ctx.cell(ws, master_row, status_col, status, f.get("check"), cached)
    ws.conditional_format(master_row, status_col, master_row, status_col,
                          {"type": "cell", "criteria": "==", "value": '"OK"', "format": f.get("ok")})
    ws.conditional_format(master_row, status_col, master_row, status_col,
                          {"type": "cell", "criteria": "!=", "value": '"OK"', "format": f.get("bad")})
    ctx.define_name("MasterStatus", "Checks", master_row, status_col)
    ctx.L.add_input(STATUS, "Checks", (master_row, status_col), defined_name="MasterStatus")
