"""The Checks sheet: every model check and the master check; the age of every dated price (outside the
master check); the build's warnings."""

from __future__ import annotations

import datetime as dt

from tcomodel.finance.model import CHECK_DECIMALS, CHECK_FLOW_UNIT, CHECK_TOLERANCE, IRR_FLOOR  # constants only
from tcomodel.report.report_context import FIRST_ROW, HEADER_ROW, ReportContext
from tcomodel.report.snapshot_sheet import write_guard
from tcomodel.sheet import SUM, Item, cached_value, inp, render

MAX_ARGS = 255
STALE_COUNT = "checks.stale_price_count"  # layout name of the Checks cell counting stale prices
# named cells every check formula references instead of typing the number
CHECK_SETTINGS = (
    (CHECK_TOLERANCE, "Tolerance: a check fails when its absolute value exceeds this (in its own unit)", "CheckTolerance",
     "0.00"),
    (CHECK_DECIMALS, "Decimal places to which sums that cancel to 0 are rounded", "CheckDecimals", "0"),
    (CHECK_FLOW_UNIT, "NPV at the IRR is checked per this much of the flows' size (root of the sum of squares)",
     "CheckFlowUnit", "#,##0"),
    (IRR_FLOOR, "IRR per quarter at or below this shows n/a (Newton can stop next to -100% without a root)", "IrrFloor",
     "0.00%"),
)


def _settings_row(ctx: ReportContext) -> int:
    """Row of the first check setting: after the checks and a section heading."""
    return FIRST_ROW + 2 + len(ctx.m.checks) + 2


def place_checks(ctx: ReportContext) -> dict:
    """Place the master check and each check with its flag; returns check item -> row."""
    rows = {}
    r = FIRST_ROW + 2
    ctx.L.place(ctx.m.master_check, "Checks", FIRST_ROW)
    for (label, it), flag in zip(ctx.m.checks, ctx.m.check_flags):
        ctx.L.place(it, "Checks", r)
        ctx.L.place(flag, "Checks", r, 3)
        rows[it] = r
        r += 1
    for i, (const, _label, name, _fmt) in enumerate(CHECK_SETTINGS):
        ctx.L.add_constant(const.name, "Checks", (_settings_row(ctx) + i, 2), defined_name=name)
    return rows


def write_checks(ctx: ReportContext, checks_rows: dict, snapshot_counts: list | None = None):
    ws, f, m = ctx.ws["Checks"], ctx.f, ctx.m
    ctx.title(ws, "Checks", "Each check is 0 when the model is consistent; the master check counts failures "
                            "(tolerance: the named cell CheckTolerance below).")
    for col, t in enumerate(("Check", "Unit", "Value", "Fails (1 = yes)")):
        ws.write_string(HEADER_ROW, col, t, f.get("header_left" if col == 0 else "header"))
    ws.write_string(FIRST_ROW, 0, "Master check (0 = all checks pass)", f.get("label_bold"))
    ws.write_string(FIRST_ROW, 1, "count", f.get("unit"))
    ws.write_formula(FIRST_ROW, 2, render(m.master_check, None, ctx.L, "Checks"), f.get("check", "0"),
                     cached_value(ctx.values[m.master_check]))
    write_guard(ctx, ws, FIRST_ROW + 1, snapshot_counts or [], FIRST_ROW, 3, _sum)
    for (label, it), flag in zip(m.checks, m.check_flags):
        r = checks_rows[it]
        ws.write_string(r, 0, label)
        ws.write_string(r, 1, it.unit, f.get("unit"))
        # money to a millionth (a deviation shows); counts (quarters short, cells) as whole numbers
        ws.write_formula(r, 2, render(it, None, ctx.L, "Checks"), f.get("scalar", "0.000000" if it.unit == ctx.ccy
                                                                           else "#,##0"),
                         cached_value(ctx.values[it]))
        ws.write_formula(r, 3, render(flag, None, ctx.L, "Checks"), f.get("check", "0"),
                         cached_value(ctx.values[flag]))
    last = FIRST_ROW + 2 + len(m.checks)
    ctx.ok_bad(ws, FIRST_ROW, 2)
    ws.conditional_format(FIRST_ROW + 2, 3, last, 3, {"type": "cell", "criteria": "==", "value": 1,
                                                      "format": f.get("bad")})
    ws.set_column(0, 0, min(125, max([70] + [len(label) + 2 for label, _ in m.checks])))  # every check's name fits
    ws.set_column(1, 3, 16)
    ws.freeze_panes(HEADER_ROW + 1, 1)
    r = _write_settings(ctx, ws)
    r = write_price_age(ctx, ws, r + 2)
    if ctx.run.warnings:
        r += 1
        ws.write_string(r, 0, "Warnings", f.get("section"))
        for msg in ctx.run.warnings:
            r += 1
            ws.write_string(r, 0, msg)


def _write_settings(ctx: ReportContext, ws) -> int:
    """The check and IRR settings as named cells (CheckTolerance, CheckDecimals, CheckFlowUnit, IrrFloor). Returns the
    last row."""
    r = _settings_row(ctx)
    ctx.section(ws, r - 1, "Check and IRR settings (named cells the check and IRR formulas reference)", 3)
    for const, label, name, num in CHECK_SETTINGS:
        ws.write_string(r, 0, label)
        ws.write_string(r, 1, name, ctx.f.get("source"))
        ws.write_number(r, 2, const.value, ctx.f.get("formula", num))
        ctx.L.add_input(f"constant.{name}", "Checks", (r, 2))
        ctx.define_name(name, "Checks", r, 2)
        r += 1
    return r - 1


def _sum(cells: list):
    """SUM of any number of cells (a worksheet function takes at most 255 arguments)."""
    if len(cells) <= MAX_ARGS:
        return SUM(*cells)
    return _sum([SUM(*cells[i:i + MAX_ARGS]) for i in range(0, len(cells), MAX_ARGS)])


def write_price_age(ctx: ReportContext, ws, r) -> int:
    """Age of every dated price (ApiPrices, CloudRates, Rental, FX) against price_max_age_months. Stale prices are
    not a model inconsistency: they are flagged red and counted for the Cover, outside the master check.
    Returns the last row written."""
    f, ages = ctx.f, ctx.run.price_ages
    if not ages:
        return r
    a0 = ages[0]
    ctx.section(ws, r, f"Price age at the build date {ctx.build_date.isoformat()} (not in the master check)", 3)
    r += 1
    ws.write_string(r, 0, "Limit: Scenario price_max_age_months" + (f" ({a0.limit_cell})" if a0.limit_cell else
                                                                     " (blank: default)"))
    ws.write_string(r, 1, "months", f.get("unit"))
    ws.write_number(r, 2, a0.limit_months, f.get("input", "0"))
    ctx.L.add_input("checks.price_age_limit", "Checks", (r, 2))
    r += 1
    for col, t in enumerate(("Dated price (Sheet!Cell of as_of)", "As of", "Age (months)", "Stale (1 = yes)")):
        ws.write_string(r, col, t, f.get("header_left" if col == 0 else "header"))
    first, flags = r + 1, []
    for i, a in enumerate(ages):
        r += 1
        ws.write_string(r, 0, f"{a.cell}: {a.what}, {a.row_id}")
        ws.write_datetime(r, 1, dt.datetime(a.as_of.year, a.as_of.month, a.as_of.day), f.get("input", "yyyy-mm-dd"))
        ws.write_number(r, 2, a.shown_age_months, f.get("engine", "0.00"))
        ctx.L.add_input(f"checks.price_age.{i}", "Checks", (r, 2))
        flag = Item(f"Stale: {a.cell}", "flag", inp(f"checks.price_age.{i}") > inp("checks.price_age_limit"))
        ctx.cell(ws, r, 3, flag, f.get("check", "0"), int(a.shown_stale))
        flags.append(flag)
    ws.conditional_format(first, 3, r, 3, {"type": "cell", "criteria": "==", "value": 1, "format": f.get("bad")})
    r += 1
    ws.write_string(r, 0, "Prices older than the limit", f.get("label_bold"))
    ws.write_string(r, 1, "count", f.get("unit"))
    ctx.formula(ws, r, 2, _sum(flags), f.get("check", "0"), ctx.run.stale_price_count)
    ctx.L.add_input(STALE_COUNT, "Checks", (r, 2))
    ctx.ok_bad(ws, r, 2)
    r += 1
    ws.write_string(r, 0, "Age = whole calendar months from as_of to the build date + the remaining days over the "
                          "length of that month (engine-computed); stale = older than the limit.", f.get("subtitle"))
    return r
