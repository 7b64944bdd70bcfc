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

from tcomodel.version import __version__
from tcomodel.fileio import atomic_path
from tcomodel.xlsxfast import FastWorkbook, FastWorksheet
from tcomodel.xlsxmanifest import BUILD_DATE_PROPERTY, CASE_PROPERTY, record_formulas
from tcomodel.provenance import SCENARIO_FILE_PROPERTY, SCENARIO_NAME_PROPERTY, scenario_file
from tcomodel.report.annual_sheet import place_annual, write_annual
from tcomodel.report.calc_sheets import place_irr_tails, plans, write_irr_tails, write_plan
from tcomodel.report.checks import place_checks, write_checks
from tcomodel.report.report_context import HEADER_ROW, PERIOD_COL_WIDTH, ReportContext
from tcomodel.report.cover import write_cover
from tcomodel.report.inputs_sheet import write_inputs_sheet
from tcomodel.report.roofline_sheet import write_roofline
from tcomodel.report.sensitivity_sheet import write_sensitivity
from tcomodel.report.snapshot_sheet import write_snapshot
from tcomodel.report.summary import write_summary
from tcomodel.report.time_sheet import write_time_sheet
from tcomodel.gcpause import gc_paused
from tcomodel.xlsxprint import print_one_page_wide, print_periods_across

FIXED_SHEETS = ("Cover", "Summary", "Inputs", "InputsByQuarter", "Time", "Roofline", "Demand", "Comparison", "Annual",
                "Breakeven", "NPV_IRR", "Sensitivity", "Checks", "Snapshot")
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


@gc_paused
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
    wb = FastWorkbook(path, {"strings_to_numbers": False, "strings_to_formulas": False, "in_memory": True})
    wb.set_properties({
        "title": f"tcomodel report: {run.scenario.settings.scenario_name}",
        "subject": "TCO and cost per million tokens of LLM inference options",
        "author": "tcomodel", "company": "", "comments": f"tcomodel {__version__}",
        "created": dt.datetime(build_date.year, build_date.month, build_date.day),
    })
    # which scenario file it was built from, so a rebuild of another scenario never replaces it silently
    wb.set_custom_property(SCENARIO_FILE_PROPERTY, scenario_file(run.scenario.path))
    wb.set_custom_property(SCENARIO_NAME_PROPERTY, run.scenario.settings.scenario_name)
    wb.set_calc_mode("auto")
    # with the scenario file, what `tcomodel verify` needs to rebuild each case and compare
    wb.set_custom_property(CASE_PROPERTY, run.case)
    wb.set_custom_property(BUILD_DATE_PROPERTY, build_date.isoformat())
    return wb


def _write(run, path: str, build_date: dt.date, progress=None):
    try:
        run.start_sensitivity()  # the tornado and grid in a forked child, while the sheets before Sensitivity are written
        _write_sheets(run, path, build_date, progress)
    except BaseException:
        run.cancel_sensitivity()  # a failed or interrupted write leaves no child running
        raise


def _write_sheets(run, path: str, build_date: dt.date, progress=None):
    m = run.model
    ctx = ReportContext(run, _workbook(run, path, build_date), build_date, _option_sheet_names(m.options))
    order = ["Cover", "Summary", "Inputs", "InputsByQuarter", "Time", "Roofline", "Demand"] + \
            [ctx.sheet_names[o] for o in m.options] + ["Comparison", "Annual", "Breakeven", "NPV_IRR", "Sensitivity",
                                                       "Checks", "Snapshot"]
    for name in order:
        ctx.ws[name] = ctx.wb.add_worksheet(name, worksheet_class=FastWorksheet)
    # pass 1: place everything so any formula can reference any cell
    write_inputs_sheet(ctx)  # registers inputs and row inputs (writing constants is harmless)
    write_time_sheet(ctx)
    calc_plans = plans(ctx, KIND_LABEL)
    for p in calc_plans:
        p.assign_rows(ctx.L)
    irr_tails = place_irr_tails(ctx)
    checks_rows = place_checks(ctx)
    snapshot_counts = write_snapshot(ctx)  # the Inputs sheet's constant cells, recorded by writing it
    annual_lines = place_annual(ctx)
    # pass 2: write
    steps = [functools.partial(write_plan, ctx, p) for p in calc_plans] + [
        functools.partial(write_irr_tails, ctx, irr_tails),
        functools.partial(write_checks, ctx, checks_rows, snapshot_counts),
        functools.partial(write_annual, ctx, annual_lines),
        functools.partial(write_roofline, ctx), functools.partial(write_sensitivity, ctx),
        functools.partial(write_summary, ctx, KIND_LABEL), functools.partial(write_cover, ctx)]
    total = len(steps) + 2  # + the manifest, + compressing the file
    for i, step in enumerate(steps, start=1):
        step()
        if progress is not None:
            progress(i, total)
    for name in order:
        _print_setup(ctx, name)
    record_formulas(ctx.wb, "build")
    if progress is not None:
        progress(total - 1, total)
    ctx.wb.close()
    if progress is not None:
        progress(total, total)


def _print_setup(ctx: ReportContext, name: str):
    """Sheets with the period columns print pages across (label columns and header repeated); the rest one
    page wide."""
    # '&' starts a header/footer code: a literal one is written '&&'
    scenario, sheet = ctx.sc.settings.scenario_name.replace("&", "&&"), name.replace("&", "&&")
    ws, footer = ctx.ws[name], f"&L{scenario}&C{sheet}&RPage &P of &N"
    if name in ctx.label_widths:
        extra = 1 if name == "NPV_IRR" else 0  # the IRR's 'end of horizon' column
        print_periods_across(ws, footer, label_widths=ctx.label_widths[name], period_width=PERIOD_COL_WIDTH,
                             first_period_col=ctx.L.first_col, n_periods=ctx.n + extra, header_row=HEADER_ROW)
        return
    print_one_page_wide(ws, footer)
    if name not in ("Cover", "Summary", "Roofline", "Checks", "Inputs", "Snapshot"):
        ws.repeat_rows(HEADER_ROW)
