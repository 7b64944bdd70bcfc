"""The Excel report: Cover, Summary, Inputs, Time, Roofline, calculation sheets, Comparison,
Breakeven, NPV_IRR, Sensitivity and Checks, one module per sheet. Every calculated cell is a live formula
rendered by ``tcomodel.sheet`` from the model's line items with the engine's value cached; engine-computed
figures (roofline, sensitivity) are constants styled and labelled as such. No model logic here: everything
shown comes from ``ModelRun``.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from pathlib import Path

import xlsxwriter

from tcomodel.version import __version__
from tcomodel.fileio import atomic_path
from tcomodel.xlsxmanifest import record_formulas
from tcomodel.report.annual_sheet import place_annual, write_annual
from tcomodel.report.calc_sheets import place_irr_tails, plans, write_irr_tails, write_plan
from tcomodel.report.checks import place_checks, write_checks
from tcomodel.report.report_context import HEADER_ROW, ReportContext
from tcomodel.report.cover import write_cover
from tcomodel.report.inputs_sheet import write_inputs_sheet
from tcomodel.report.roofline_sheet import write_roofline
from tcomodel.report.sensitivity_sheet import write_sensitivity
from tcomodel.report.summary import write_summary
from tcomodel.report.time_sheet import write_time_sheet
from tcomodel.xlsxprint import print_one_page_wide

FIXED_SHEETS = ("Cover", "Summary", "Inputs", "Time", "Roofline", "Demand", "Comparison", "Annual", "Breakeven",
                "NPV_IRR", "Sensitivity", "Checks")
from tcomodel.kinds import KIND_LABEL  # noqa: E402  (one registry of option kinds)


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


def write_report(run, path: str | os.PathLike, *, protect=(), build_date: dt.date | None = None,
                 force: bool = False, atomic: bool = True, progress=None) -> Path:
    """Write the formatted report for a model run, atomically. Returns the path.

    ``force`` replaces a read-only target; ``atomic=False`` writes straight to ``path`` (for a caller
    that already holds a temporary path). ``progress(done, total)`` is called as sheets are written.
    """
    build_date = build_date or getattr(run, "build_date", None) or dt.date.today()
    if not atomic:
        _write(run, str(path), build_date, progress)
        return Path(path)
    with atomic_path(path, protect=list(protect), force_readonly=force) as tmp:
        _write(run, str(tmp), build_date, progress)
    return Path(path)


def _workbook(run, path: str, build_date: dt.date):
    # in_memory: no temporary XML parts in /tmp to leak when Ctrl-C stops the write
    wb = xlsxwriter.Workbook(path, {"strings_to_numbers": False, "strings_to_formulas": False, "in_memory": True})
    wb.set_properties({
        "title": f"tcomodel report: {run.scenario.settings.scenario_name}",
        "subject": "TCO and cost per million tokens of LLM inference options",
        "author": "tcomodel", "company": "", "comments": f"tcomodel {__version__}",
        "created": dt.datetime(build_date.year, build_date.month, build_date.day),
    })
    wb.set_calc_mode("auto")
    return wb


def _write(run, path: str, build_date: dt.date, progress=None):
    m = run.model
    ctx = ReportContext(run, _workbook(run, path, build_date), build_date, _option_sheet_names(m.options))
    order = ["Cover", "Summary", "Inputs", "Time", "Roofline", "Demand"] + \
            [ctx.sheet_names[o] for o in m.options] + ["Comparison", "Annual", "Breakeven", "NPV_IRR", "Sensitivity", "Checks"]
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
    annual_lines = place_annual(ctx)
    # pass 2: write
    steps = [functools.partial(write_plan, ctx, p) for p in calc_plans] + [
        functools.partial(write_irr_tails, ctx, irr_tails), functools.partial(write_checks, ctx, checks_rows),
        functools.partial(write_annual, ctx, annual_lines),
        functools.partial(write_roofline, ctx), functools.partial(write_sensitivity, ctx),
        functools.partial(write_summary, ctx, KIND_LABEL), functools.partial(write_cover, ctx)]
    total = len(steps) + 2  # + the manifest, + compressing the file
    for i, step in enumerate(steps, start=1):
        step()
        if progress is not None:
            progress(i, total)
    for name in order:
        print_one_page_wide(ctx.ws[name], f"&L{ctx.sc.settings.scenario_name}&C{name}&RPage &P of &N")
        if name not in ("Cover", "Summary", "Roofline", "Checks", "Inputs"):
            ctx.ws[name].repeat_rows(HEADER_ROW)
    record_formulas(ctx.wb, "build")
    if progress is not None:
        progress(total - 1, total)
    ctx.wb.close()
    if progress is not None:
        progress(total, total)
