"""The Annual sheet: per budget year (calendar or fiscal, whole quarters) and option, cost by category (P&L view),
P&L and cash cost, tokens, cost per Mtok, cumulative cash cost and the cash saving against the baseline. Every
cell is a live SUMIFS over the option's quarterly row keyed on the Time sheet's Year row (or a formula over those
sums), its value cached from the engine (``finance/annual.py``). Also the Summary's compact annual budget table."""

from __future__ import annotations

from dataclasses import dataclass

from tcomodel.report.report_context import HEADER_ROW, ReportContext
from tcomodel.sheet import cached_value, render

SHEET = "Annual"
KEY_ROW = HEADER_ROW + 1  # the year keys the SUMIFS match on the Time sheet's Year row
QUARTERS_ROW = HEADER_ROW + 2
FIRST_ROW = HEADER_ROW + 4
LABEL_COL, UNIT_COL, TOTAL_COL, FIRST_YEAR_COL = 0, 1, 2, 3


@dataclass
class _Line:
    row: int
    kind: str  # section | row
    payload: object
    indent: bool = False


def _check_col(ctx: ReportContext) -> int:
    return FIRST_YEAR_COL + len(ctx.run.annual.years)


def place_annual(ctx: ReportContext) -> list[_Line]:
    """Register every annual cell in the layout (so the Summary can link to it); returns the sheet's lines."""
    view, L = ctx.run.annual, ctx.L
    for j, k in enumerate(view.keys):
        L.add_constant(k.name, SHEET, (KEY_ROW, FIRST_YEAR_COL + j))
    lines: list[_Line] = []
    r = FIRST_ROW
    for oid, ao in view.options.items():
        lines.append(_Line(r, "section", f"{ctx.m.options[oid].label} ({oid})"))
        r += 1
        for row, indent in ao.lines():
            for j, it in enumerate(row.years):
                L.place(it, SHEET, r, FIRST_YEAR_COL + j)
            if row.total is not None:
                L.place(row.total, SHEET, r, TOTAL_COL)
            if row.check is not None:
                L.place(row.check, SHEET, r, _check_col(ctx))
            lines.append(_Line(r, "row", row, indent=indent))
            r += 1
        r += 1
    return lines


def _formula(ctx: ReportContext, ws, it, fmt):
    loc = ctx.L.scalars[it]
    ws.write_formula(loc.row, loc.col, render(it, None, ctx.L, SHEET), fmt, cached_value(ctx.run.annual.value(it)))


def write_annual(ctx: ReportContext, lines: list[_Line]):
    ws, f, view = ctx.ws[SHEET], ctx.f, ctx.run.annual
    year_kind = "calendar year" if view.start_month == 1 else f"fiscal year starting in month {view.start_month}"
    ctx.title(ws, "Annual view", f"Per {year_kind} (whole quarters): SUMIFS over each option's quarterly rows keyed "
                                 f"on the Time sheet's Year row. Cost is the P&L view, cash cost the cash view (the "
                                 f"add/less rows between them bridge the two); money in {ctx.ccy}.")
    check_col = _check_col(ctx)
    heads = {LABEL_COL: "Line item", UNIT_COL: "Unit", TOTAL_COL: "All years", check_col: "Quarters - years"}
    for col, h in heads.items():
        ws.write_string(HEADER_ROW, col, h, f.get("header_left" if col == LABEL_COL else "header"))
    ws.write_string(KEY_ROW, LABEL_COL, "Year key (matched on the Time sheet's Year row)", f.get("unit"))
    ws.write_string(KEY_ROW, UNIT_COL, "year", f.get("unit"))
    ws.write_string(QUARTERS_ROW, LABEL_COL, "Quarters of the horizon in the year", f.get("unit"))
    ws.write_string(QUARTERS_ROW, UNIT_COL, "quarters", f.get("unit"))
    for j, (y, k) in enumerate(zip(view.years, view.keys)):
        c = FIRST_YEAR_COL + j
        ws.write_string(HEADER_ROW, c, y.label + (" (part)" if y.partial else ""), f.get("header"))
        ws.write_number(KEY_ROW, c, k.value, f.get("unit", "0"))
        ws.write_number(QUARTERS_ROW, c, y.quarters, f.get("unit", "0"))
    for line in lines:
        if line.kind == "section":
            ctx.section(ws, line.row, line.payload, check_col)
            continue
        row = line.payload
        ws.write_string(line.row, LABEL_COL, ("   " if line.indent else "") + row.label)
        ws.write_string(line.row, UNIT_COL, row.unit, f.get("unit"))
        for it in row.years:
            _formula(ctx, ws, it, f.for_unit("formula", row.unit))
        if row.total is not None:
            _formula(ctx, ws, row.total, f.for_unit("total", row.unit))
        if row.check is not None:
            _formula(ctx, ws, row.check, f.for_unit("check", row.unit))
            loc = ctx.L.scalars[row.check]
            ctx.ok_bad(ws, loc.row, loc.col)
    ws.set_column(LABEL_COL, LABEL_COL, 50)
    ws.set_column(UNIT_COL, UNIT_COL, 12)
    ws.set_column(TOTAL_COL, check_col, 16)
    ws.freeze_panes(QUARTERS_ROW + 1, FIRST_YEAR_COL)


def write_annual_budget(ctx: ReportContext, ws, r: int) -> int:
    """The Summary's annual budget table: each option's cash cost per year, linked to the Annual sheet. Returns
    the row after it."""
    view, f = ctx.run.annual, ctx.f
    ctx.section(ws, r, f"Annual budget: cash cost per {'calendar' if view.start_month == 1 else 'fiscal'} year "
                       f"({ctx.ccy}; capex when paid, resale at the horizon end; P&L view and more on the Annual "
                       f"sheet)", 2 + len(view.years))
    r += 1
    ws.write_string(r, 0, "Option", f.get("header_left"))
    ws.write_string(r, 1, "All years", f.get("header"))
    for j, y in enumerate(view.years):
        ws.write_string(r, 2 + j, y.label + (" (part)" if y.partial else ""), f.get("header"))
    r += 1
    for oid, ao in view.options.items():
        ws.write_string(r, 0, ctx.m.options[oid].label)
        cash = ao.row("cash_cost")
        for c, it in [(1, cash.total)] + [(2 + j, it) for j, it in enumerate(cash.years)]:
            ctx.formula(ws, r, c, it, f.get("link", "#,##0"), cached_value(view.value(it)), it.label, it.unit)
        r += 1
    return r
