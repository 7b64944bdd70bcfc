"""The Inputs sheet: every scalar input with its origin and source, then the per-quarter inputs. Writing it
registers each input's cell in the layout, so every formula can reference it."""

from __future__ import annotations

import math

from tcomodel.finance.model import GROUPS
from tcomodel.report.report_context import FIRST_ROW, HEADER_ROW, PERIOD_COL_WIDTH, ReportContext


def write_inputs_sheet(ctx: ReportContext):
    ws, f = ctx.ws["Inputs"], ctx.f
    ctx.title(ws, "Inputs", "Every input the model uses, with where it comes from. Blue on yellow: from the "
                            "scenario workbook (edit it there and rebuild). Purple on lilac: computed by the "
                            "engine (roofline), not a formula.")
    for col, t in enumerate(("Input", "Unit", "Value", "", "Origin (scenario workbook cell) and source")):
        ws.write_string(HEADER_ROW, col, t, f.get("header_left" if col in (0, 4) else "header"))
    r = _write_scalar_inputs(ctx, ws, FIRST_ROW)
    _write_row_inputs(ctx, ws, r)
    labels = [d.label for d in ctx.m.inputs.values()] + [d.label for d in ctx.m.row_inputs.values()]
    ws.set_column(0, 0, min(90, max([46] + [len(t) + 2 for t in labels])))  # every label fits
    ws.set_column(1, 1, 18)
    ws.set_column(2, 2, 16)
    ws.set_column(3, 3, 3)
    ws.set_column(4, 4 + ctx.n - 1, PERIOD_COL_WIDTH)
    ws.freeze_panes(HEADER_ROW + 1, 1)


def _write_scalar_inputs(ctx: ReportContext, ws, r) -> int:
    f = ctx.f
    by_group: dict[str, list] = {}
    for d in ctx.m.inputs.values():
        by_group.setdefault(d.group, []).append(d)
    for g in GROUPS:
        if g not in by_group:
            continue
        ctx.section(ws, r, g, 3)
        r += 1
        for d in by_group[g]:
            ws.write_string(r, 0, d.label)
            ws.write_string(r, 1, d.unit, f.get("unit"))
            role = "engine" if d.engine_computed else "input"
            ws.write_number(r, 2, d.value, f.for_unit(role, d.unit))
            text = f"{d.origin} · {d.source}" if d.source else d.origin
            # wrapped across the period columns, so a long source prints on the page instead of shrinking it
            ws.merge_range(r, 4, r, 4 + ctx.n - 1, text, ctx.source_wrap)
            ws.set_row(r, 15 * max(1, math.ceil(len(text) / (ctx.n * 14.5))))
            ctx.L.add_input(d.name, "Inputs", (r, 2))
            r += 1
        r += 1
    return r


def _write_row_inputs(ctx: ReportContext, ws, r):
    f = ctx.f
    ctx.period_header(ws, r, ("Per-quarter input", "Unit", "Origin", ""))
    r += 1
    for d in ctx.m.row_inputs.values():
        ws.write_string(r, 0, d.label)
        ws.write_comment(r, 0, f"Source: {d.source}", {"x_scale": 3, "y_scale": 2})
        ws.write_string(r, 1, d.unit, f.get("unit"))
        ws.write_string(r, 2, d.origin if not d.engine_computed else f"engine: {d.origin}", f.get("source"))
        role = "engine" if d.engine_computed else "input"
        fmt = f.for_unit(role, d.unit)
        for p, v in enumerate(d.values):
            ws.write_number(r, ctx.L.period_col(p), float(v), fmt)
        ctx.L.add_row(d.name, "Inputs", r)
        r += 1
