"""The Excel report: Cover, Summary, Inputs, Time, Roofline, calculation sheets, Comparison,
Breakeven, NPV_IRR, Sensitivity and Checks, one module per sheet. Every calculated cell is a live formula
rendered by ``tcomodel.sheet`` from the model's line items with the engine's value cached; engine-computed
figures (roofline, sensitivity) are constants styled and labelled as such. No model logic here: everything
shown comes from ``ModelRun``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import xlsxwriter

from tcomodel import __version__
from tcomodel.fileio import atomic_path
from tcomodel.report.calc_sheets import place_irr_tails, plans, write_irr_tails, write_plan
from tcomodel.report.checks import place_checks, write_checks
from tcomodel.report.context import HEADER_ROW, ReportContext
from tcomodel.report.cover import write_cover
from tcomodel.report.inputs_sheet import write_inputs_sheet
from tcomodel.report.roofline_sheet import write_roofline
from tcomodel.report.sensitivity import write_sensitivity
from tcomodel.report.summary import write_summary
from tcomodel.report.time_sheet import write_time_sheet
from tcomodel.xlsxprint import print_one_page_wide

FIXED_SHEETS = ("Cover", "Summary", "Inputs", "Time", "Roofline", "Demand", "Comparison", "Breakeven", "NPV_IRR",
                "Sensitivity", "Checks")
KIND_LABEL = {"owned": "owned hardware", "rented_server": "rented server", "cloud_gpu": "cloud GPU",
              "hosted_api": "hosted API"}


def _option_sheet_names(option_ids) -> dict:
    taken = {s.lower() for s in FIXED_SHEETS}
    out = {}
    for oid in option_ids:
        name = oid[:31]
        if name.lower() in taken:
            name = ("opt-" + oid)[:31]
        taken.add(name.lower())
        out[oid] = name
    return out


def write_report(run, path: str | os.PathLike, *, protect=(), build_date: dt.date | None = None) -> Path:
    """Write the formatted report for a model run, atomically. Returns the path."""
    build_date = build_date or getattr(run, "build_date", None) or dt.date.today()
    with atomic_path(path, protect=list(protect)) as tmp:
        _write(run, str(tmp), build_date)
    return Path(path)


def _workbook(run, path: str, build_date: dt.date):
    wb = xlsxwriter.Workbook(path, {"strings_to_numbers": False, "strings_to_formulas": False})
    wb.set_properties({
        "title": f"tcomodel report: {run.scenario.settings.scenario_name}",
        "subject": "TCO and cost per million tokens of LLM inference options",
        "author": "tcomodel", "company": "", "comments": f"tcomodel {__version__}",
        "created": dt.datetime(build_date.year, build_date.month, build_date.day),
    })
    wb.set_calc_mode("auto")
    return wb


def _write(run, path: str, build_date: dt.date):
    m = run.model
    ctx = ReportContext(run, _workbook(run, path, build_date), build_date, _option_sheet_names(m.options))
    order = ["Cover", "Summary", "Inputs", "Time", "Roofline", "Demand"] + \
            [ctx.sheet_names[o] for o in m.options] + ["Comparison", "Breakeven", "NPV_IRR", "Sensitivity", "Checks"]
    for name in order:
        ctx.ws[name] = ctx.wb.add_worksheet(name)
    # pass 1: place everything so any formula can reference any cell
    write_inputs_sheet(ctx)  # registers inputs and row inputs (writing constants is harmless)
    write_time_sheet(ctx)
    calc_plans = plans(ctx, KIND_LABEL)
    for p in calc_plans:
        p.assign_rows(ctx.L)
    irr_tails = place_irr_tails(ctx)
    checks_rows = place_checks(ctx)
    # pass 2: write
    for p in calc_plans:
        write_plan(ctx, p)
    write_irr_tails(ctx, irr_tails)
    write_checks(ctx, checks_rows)
    write_roofline(ctx)
    write_sensitivity(ctx)
    write_summary(ctx, KIND_LABEL)
    write_cover(ctx)
    for name in order:
        print_one_page_wide(ctx.ws[name], f"&L{ctx.sc.settings.scenario_name}&C{name}&RPage &P of &N")
        if name not in ("Cover", "Summary", "Roofline", "Checks", "Inputs"):
            ctx.ws[name].repeat_rows(HEADER_ROW)
    ctx.wb.close()
