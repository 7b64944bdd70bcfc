"""The Time sheet: the quarterly timeline and flags, and the named unit constants formulas reference."""

from __future__ import annotations

import datetime as dt

from tcomodel.finance.build import DAYS_PER_WEEK, HOURS_PER_DAY  # constants only
from tcomodel.finance.annual import YEAR_ROW, year_label
from tcomodel.finance.model import QUARTERS_PER_YEAR, SCORE_SCALE_TOP, SECONDS_PER_HOUR
from tcomodel.report.report_context import FIRST_ROW, HEADER_ROW, QUARTER_LABELS, ReportContext
from tcomodel.sheet import HOURS_PER_QUARTER, MILLION, MONTHS_PER_QUARTER

UNIT_CONSTANTS = (
    (HOURS_PER_QUARTER, "Hours per quarter (365.25-day year / 4 x 24)", "hours", "HoursPerQuarter"),
    (MONTHS_PER_QUARTER, "Months per quarter", "months", "MonthsPerQuarter"),
    (QUARTERS_PER_YEAR, "Quarters per year", "quarters", "QuartersPerYear"),
    (SECONDS_PER_HOUR, "Seconds per hour", "s", "SecondsPerHour"),
    (MILLION, "Tokens per million tokens (Mtok)", "tokens", "TokensPerMtok"),
    (DAYS_PER_WEEK, "Days per week", "days", "DaysPerWeek"),
    (HOURS_PER_DAY, "Hours per day", "hours", "HoursPerDay"),
    (SCORE_SCALE_TOP, "Top of a benchmark's score scale (scores are percent)", "score", "MaxScore"),
)
_TIMELINE_LABELS = {"qidx": ("Quarter number", "quarter #"), "years_elapsed": ("Years elapsed at quarter start", "years"),
                    "first_flag": ("First quarter", "flag"), "last_flag": ("Last quarter", "flag"),
                    YEAR_ROW: ("Year (key: the calendar year in which the budget year starts)", "year")}


def write_time_sheet(ctx: ReportContext):
    ws, f = ctx.ws["Time"], ctx.f
    ctx.title(ws, "Time", "One quarterly timeline, the same columns on every calculation sheet.")
    ctx.period_header(ws, HEADER_ROW, ("Timeline", "Unit", "", ""))
    ctx.L.add_row(QUARTER_LABELS, "Time", HEADER_ROW)
    date_fmt = ctx.wb.add_format({"num_format": "yyyy-mm-dd", "align": "center"})
    r = FIRST_ROW
    ws.write_string(r, 0, "Quarter starts")
    ws.write_string(r + 1, 0, "Quarter ends")
    for p, q in enumerate(ctx.m.quarters):
        ws.write_datetime(r, ctx.L.period_col(p), dt.datetime.combine(q.start_date, dt.time()), date_fmt)
        ws.write_datetime(r + 1, ctx.L.period_col(p), dt.datetime.combine(q.end_date, dt.time()), date_fmt)
    ws.write_string(r, 1, "date", f.get("unit"))
    ws.write_string(r + 1, 1, "date", f.get("unit"))
    r += 2
    for name, vals in ctx.m.timeline.items():
        label, unit = _TIMELINE_LABELS.get(name, (name, ""))
        ws.write_string(r, 0, label)
        ws.write_string(r, 1, unit, f.get("unit"))
        fmt = f.get("formula", "0.00" if unit == "years" else "0")
        for p, v in enumerate(vals):
            ws.write_number(r, ctx.L.period_col(p), float(v), fmt)
        ctx.L.add_row(name, "Time", r)
        r += 1
    r = _write_year_labels(ctx, ws, r)
    # unit constants: named cells that every formula references instead of typing the number
    r += 1
    ctx.section(ws, r, "Unit constants (named cells; formulas reference them)", 3)
    r += 1
    for const, label, unit, name in UNIT_CONSTANTS:
        ws.write_string(r, 0, label)
        ws.write_string(r, 1, unit, f.get("unit"))
        ws.write_number(r, 2, const.value, f.get("formula", "#,##0.0##"))
        ws.write_string(r, 3, name, f.get("source"))
        ctx.L.add_input(f"constant.{name}", "Time", (r, 2))
        ctx.define_name(name, "Time", r, 2)
        ctx.L.add_constant(const.name, "Time", (r, 2), defined_name=name)
        r += 1
    ctx.calc_columns(ws, label_width=64)  # the year-key row's label fits


def _write_year_labels(ctx: ReportContext, ws, r) -> int:
    """The budget year each quarter falls in, as the Annual sheet names it (2027, or FY2027/28 for a fiscal year)."""
    month = ctx.sc.settings.fiscal_year_start_month
    ws.write_string(r, 0, "Budget year" + (" (calendar year)" if month == 1 else f" (fiscal, from month {month})"))
    ws.write_string(r, 1, "label", ctx.f.get("unit"))
    fmt = ctx.wb.add_format({"align": "right"})  # under the numbers above it
    for p, key in enumerate(ctx.m.timeline[YEAR_ROW]):
        ws.write_string(r, ctx.L.period_col(p), year_label(key, month), fmt)
    return r + 1
