"""The Excel report: Cover, Summary, Inputs, Time, Roofline, calculation sheets, Comparison,
Breakeven, NPV_IRR and Checks. Every calculated cell is a live formula rendered from the model's
line items with the engine's value cached; engine-computed figures (roofline) are constants styled
and labelled as such. No model logic here: everything shown comes from ``ModelRun``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from tcomodel.version import __version__
from tcomodel.fileio import atomic_path
from tcomodel.xlsxprint import print_one_page_wide
from tcomodel.report.styles import Formats, number_format
from tcomodel.sheet import Layout, cached_value, render, write_block
from tcomodel.sheet.expr import Item
from tcomodel.sheet.render import render_total

from tcomodel.finance.build import DAYS_PER_WEEK, HOURS_PER_DAY  # noqa: E402  (constants only)
from tcomodel.finance.model import QUARTERS_PER_YEAR, SECONDS_PER_HOUR  # noqa: E402
from tcomodel.sheet.expr import HOURS_PER_QUARTER, MILLION, MONTHS_PER_QUARTER  # noqa: E402

UNIT_CONSTANTS = (
    (HOURS_PER_QUARTER, "Hours per quarter (365.25-day year / 4 x 24)", "hours", "HoursPerQuarter"),
    (MONTHS_PER_QUARTER, "Months per quarter", "months", "MonthsPerQuarter"),
    (QUARTERS_PER_YEAR, "Quarters per year", "quarters", "QuartersPerYear"),
    (SECONDS_PER_HOUR, "Seconds per hour", "s", "SecondsPerHour"),
    (MILLION, "Tokens per million tokens (Mtok)", "tokens", "TokensPerMtok"),
    (DAYS_PER_WEEK, "Days per week", "days", "DaysPerWeek"),
    (HOURS_PER_DAY, "Hours per day", "hours", "HoursPerDay"),
)
PERIOD_COL_WIDTH = 16  # 100 billion tokens with separators fit
HEADER_ROW = 3  # 0-based row of the period header on every calculation sheet
FIRST_ROW = 5  # first line item row
FIXED_SHEETS = ("Cover", "Summary", "Inputs", "Time", "Roofline", "Demand", "Comparison", "Breakeven", "NPV_IRR",
                "Sensitivity", "Checks")
KIND_LABEL = {"owned": "owned hardware", "rented_server": "rented server", "cloud_gpu": "cloud GPU",
              "hosted_api": "hosted API"}


@dataclass
class _Entry:
    kind: str  # section | item | blank | note
    payload: object
    row: int = 0


@dataclass
class _SheetPlan:
    name: str
    title: str
    subtitle: str
    entries: list = field(default_factory=list)

    def section(self, title):
        self.entries.append(_Entry("section", title))

    def items(self, items):
        for it in items:
            self.entries.append(_Entry("item", it))

    def blank(self):
        self.entries.append(_Entry("blank", None))

    def note(self, text):
        self.entries.append(_Entry("note", text))

    def assign_rows(self, layout: Layout, start=FIRST_ROW):
        r = start
        for e in self.entries:
            e.row = r
            if e.kind == "item":
                layout.place(e.payload, self.name, r)
            r += 1
        return r


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
        _Report(run, str(tmp), build_date).write()
    return Path(path)


class _Report:
    def __init__(self, run, path: str, build_date: dt.date):
        self.run = run
        self.m = run.model
        self.sc = run.scenario
        self.ccy = self.m.currency
        self.n = len(self.m.quarters)
        self.build_date = build_date
        self.wb = xlsxwriter.Workbook(path, {"strings_to_numbers": False, "strings_to_formulas": False})
        self.wb.set_properties({
            "title": f"tcomodel report: {self.sc.settings.scenario_name}",
            "subject": "TCO and cost per million tokens of LLM inference options",
            "author": "tcomodel", "company": "", "comments": f"tcomodel {__version__}",
            "created": dt.datetime(build_date.year, build_date.month, build_date.day),
        })
        self.wb.set_calc_mode("auto")
        self.f = Formats(self.wb, self.ccy)
        self.source_wrap = self.wb.add_format({"italic": True, "font_color": "#404040", "text_wrap": True,
                                               "valign": "top"})
        self.L = Layout(periods=self.n)
        self.values = run.values
        self.sheet_names = _option_sheet_names(self.m.options)
        self.ws = {}

    # ---------------------------------------------------------------------------------------------
    def write(self):
        order = ["Cover", "Summary", "Inputs", "Time", "Roofline", "Demand"] + \
                [self.sheet_names[o] for o in self.m.options] + ["Comparison", "Breakeven", "NPV_IRR", "Sensitivity", "Checks"]
        for name in order:
            self.ws[name] = self.wb.add_worksheet(name)
        # pass 1: place everything so any formula can reference any cell
        self._write_inputs_sheet()  # registers inputs and row inputs (writing constants is harmless)
        self._write_time_sheet()
        plans = self._plans()
        for p in plans:
            p.assign_rows(self.L)
        # each IRR's last flow (the horizon-end boundary) sits right after its row's last period
        self.irr_tails = []
        for c in list(self.m.comparisons.values()) + list(self.m.pairs.values()):
            if c.irr_tail is not None:
                row = self.L.items[c.irr_row].row
                self.L.place(c.irr_tail, "NPV_IRR", row, self.L.last_col + 1)
                self.irr_tails.append((c.irr_tail, row))
        self.checks_rows = self._place_checks()
        # pass 2: write
        for p in plans:
            self._write_plan(p)
        self._write_irr_tails()
        self._write_checks()
        self._write_roofline()
        self._write_sensitivity()
        self._write_summary()
        self._write_cover()
        for name in order:
            self._print_setup(self.ws[name], name)
        self.wb.close()

    # --- plans ------------------------------------------------------------------------------------
    def _plans(self) -> list[_SheetPlan]:
        m = self.m
        plans = []
        demand = _SheetPlan("Demand", "Demand and financing", "Demand from the Workload sheet; discounting.")
        for s in m.general:
            demand.section(s.title)
            demand.items(s.items)
            demand.blank()
        plans.append(demand)
        for oid, om in m.options.items():
            p = _SheetPlan(self.sheet_names[oid], f"{om.label}",
                           f"Option '{oid}', {KIND_LABEL[om.kind]}. Quarterly cost is the P&L view; TCO is the cash "
                           f"view. Money in {self.ccy}.")
            for s in om.sections:
                p.section(s.title)
                p.items(s.items)
                p.blank()
            plans.append(p)
        cmp = _SheetPlan("Comparison", "Options side by side", "Links to each option's sheet (green), per quarter.")
        for s in m.side_by_side:
            cmp.section(s.title)
            cmp.items(s.items)
            cmp.blank()
        plans.append(cmp)
        be = _SheetPlan("Breakeven", "Breakeven prices, volumes and utilization",
                        "Monthly fee at which a rented option costs the same (PV over the quarters both serve) as another; "
                        "volume and utilization at which one self-hosted replica costs the same as an API.")
        be.note("A fee below zero means the option cannot match the other even if its fee were zero.")
        be.note("Breakeven volume: tokens a month one replica must serve to cost the same per token as the API; "
                "above the replica's capacity (breakeven utilization > 100%) the API is cheaper at any volume.")
        for s in m.breakeven:
            be.section(s.title)
            be.items(s.items)
            be.blank()
        plans.append(be)
        npv = _SheetPlan("NPV_IRR", f"Switching from {m.baseline}: NPV, IRR and payback",
                         "Saving = baseline cost - option cost (cash), after tax on the P&L difference. NPV on the "
                         "PV basis; the IRR on the flows at quarter boundaries (start-of-quarter capex at the "
                         "boundary before its quarter; the last flow in the 'end of horizon' column). IRR only where "
                         "switching starts with an outlay; payback = first quarter from which the cumulative saving "
                         "stays >= 0.")
        for oid, c in m.comparisons.items():
            npv.section(f"Switching from {m.baseline} to {oid}")
            npv.items(c.items)
            npv.blank()
        for (a, b), c in m.pairs.items():
            npv.section(f"Switching from {a} to {b} (a pair named on the Pairs sheet)")
            npv.items(c.items)
            npv.blank()
        plans.append(npv)
        return plans

    def _write_irr_tails(self):
        ws, f = self.ws["NPV_IRR"], self.f
        col = self.L.last_col + 1
        ws.write_string(HEADER_ROW, col, "end of horizon", f.get("header"))
        ws.set_column(col, col, 14)
        for tail, row in self.irr_tails:
            ws.write_formula(row, col, render(tail, None, self.L, "NPV_IRR"), f.get("formula", "#,##0"),
                             cached_value(self.values[tail]))

    def _place_checks(self):
        rows = {}
        r = FIRST_ROW + 2
        self.L.place(self.m.master_check, "Checks", FIRST_ROW)
        for (label, it), flag in zip(self.m.checks, self.m.check_flags):
            self.L.place(it, "Checks", r)
            self.L.place(flag, "Checks", r, 3)
            rows[it] = r
            r += 1
        return rows

    # --- writing helpers -----------------------------------------------------------------------
    def _title(self, ws, title, subtitle):
        ws.write_string(0, 0, title, self.f.get("title"))
        ws.write_string(1, 0, subtitle, self.f.get("subtitle"))

    def _period_header(self, ws, row=HEADER_ROW, titles=("Line item", "Unit", "Value", "Total")):
        for col, t in enumerate(titles):
            ws.write_string(row, col, t, self.f.get("header_left" if col == 0 else "header"))
        for p, q in enumerate(self.m.quarters):
            ws.write_string(row, self.L.period_col(p), str(q), self.f.get("header"))

    def _calc_columns(self, ws):
        ws.set_column(0, 0, 58)
        ws.set_column(1, 1, 16)
        ws.set_column(2, 3, 15)
        ws.set_column(4, 4 + self.n - 1, PERIOD_COL_WIDTH)
        ws.freeze_panes(HEADER_ROW + 1, 4)

    def _write_item(self, ws, it: Item, row: int):
        fm = self.f.writer_formats(it.unit)
        write_block(ws, [it], self.L, self.values, row, fm)

    def _write_plan(self, p: _SheetPlan):
        ws = self.ws[p.name]
        self._title(ws, p.title, p.subtitle)
        self._period_header(ws)
        self._calc_columns(ws)
        for e in p.entries:
            if e.kind == "section":
                for c in range(4):
                    ws.write_blank(e.row, c, None, self.f.get("section"))
                ws.write_string(e.row, 0, e.payload, self.f.get("section"))
            elif e.kind == "item":
                self._write_item(ws, e.payload, e.row)
            elif e.kind == "note":
                ws.write_string(e.row, 0, e.payload, self.f.get("subtitle"))

    def _link(self, ws, row, col, target: Item, fmt, label=None):
        """A cell that only references another (scalar) item: '=Sheet!C12', with its value cached."""
        link = Item(label or target.label, target.unit, target)
        self.L.place(link, ws.name, row, col)
        ws.write_formula(row, col, render(link, None, self.L, ws.name), fmt, cached_value(self.values[target]))

    def _ref(self, target: Item, here: str, col=None) -> str:
        """A1 reference to a placed item (scalar cell, or a row's total column)."""
        if target in self.L.scalars:
            loc = self.L.scalars[target]
            c = loc.col
            r = loc.row
        else:
            loc = self.L.items[target]
            r, c = loc.row, self.L.total_col if col is None else col
        prefix = "" if loc.sheet == here else f"'{loc.sheet}'!"
        return prefix + xl_rowcol_to_cell(r, c, True, True)

    # --- Inputs ---------------------------------------------------------------------------------
    def _write_inputs_sheet(self):
        ws = self.ws["Inputs"]
        f = self.f
        self._title(ws, "Inputs", "Every input the model uses, with where it comes from. Blue on yellow: from the "
                                  "scenario workbook (edit it there and rebuild). Purple on lilac: computed by the "
                                  "engine (roofline), not a formula.")
        for col, t in enumerate(("Input", "Unit", "Value", "", "Origin (scenario workbook cell) and source")):
            ws.write_string(HEADER_ROW, col, t, f.get("header_left" if col in (0, 4) else "header"))
        r = FIRST_ROW
        by_group: dict[str, list] = {}
        for d in self.m.inputs.values():
            by_group.setdefault(d.group, []).append(d)
        from tcomodel.finance.model import GROUPS

        for g in GROUPS:
            if g not in by_group:
                continue
            for c in range(4):
                ws.write_blank(r, c, None, f.get("section"))
            ws.write_string(r, 0, g, f.get("section"))
            r += 1
            for d in by_group[g]:
                ws.write_string(r, 0, d.label)
                ws.write_string(r, 1, d.unit, f.get("unit"))
                role = "engine" if d.engine_computed else "input"
                ws.write_number(r, 2, d.value, f.for_unit(role, d.unit))
                text = f"{d.origin} · {d.source}" if d.source else d.origin
                # wrapped across the period columns, so a long source prints on the page instead of shrinking it
                ws.merge_range(r, 4, r, 4 + self.n - 1, text, self.source_wrap)
                ws.set_row(r, 15 * max(1, math.ceil(len(text) / (self.n * 14.5))))
                self.L.add_input(d.name, "Inputs", (r, 2))
                r += 1
            r += 1
        # per-quarter inputs
        self.row_input_header = r
        self._period_header(ws, r, ("Per-quarter input", "Unit", "Origin", ""))
        r += 1
        for d in self.m.row_inputs.values():
            ws.write_string(r, 0, d.label)
            ws.write_comment(r, 0, f"Source: {d.source}", {"x_scale": 3, "y_scale": 2})
            ws.write_string(r, 1, d.unit, f.get("unit"))
            ws.write_string(r, 2, d.origin if not d.engine_computed else f"engine: {d.origin}", f.get("source"))
            role = "engine" if d.engine_computed else "input"
            fmt = f.for_unit(role, d.unit)
            for p, v in enumerate(d.values):
                ws.write_number(r, self.L.period_col(p), float(v), fmt)
            self.L.add_row(d.name, "Inputs", r)
            r += 1
        ws.set_column(0, 0, 46)
        ws.set_column(1, 1, 18)
        ws.set_column(2, 2, 16)
        ws.set_column(3, 3, 3)
        ws.set_column(4, 4 + self.n - 1, PERIOD_COL_WIDTH)
        ws.freeze_panes(HEADER_ROW + 1, 1)

    # --- Time --------------------------------------------------------------------------------------
    def _write_time_sheet(self):
        ws = self.ws["Time"]
        f = self.f
        self._title(ws, "Time", "One quarterly timeline, the same columns on every calculation sheet.")
        self._period_header(ws, HEADER_ROW, ("Timeline", "Unit", "", ""))
        date_fmt = self.wb.add_format({"num_format": "yyyy-mm-dd", "align": "center"})
        r = FIRST_ROW
        ws.write_string(r, 0, "Quarter starts")
        ws.write_string(r + 1, 0, "Quarter ends")
        for p, q in enumerate(self.m.quarters):
            ws.write_datetime(r, self.L.period_col(p), dt.datetime.combine(q.start_date, dt.time()), date_fmt)
            ws.write_datetime(r + 1, self.L.period_col(p), dt.datetime.combine(q.end_date, dt.time()), date_fmt)
        ws.write_string(r, 1, "date", f.get("unit"))
        ws.write_string(r + 1, 1, "date", f.get("unit"))
        r += 2
        labels = {"qidx": ("Quarter number", "quarter #"), "years_elapsed": ("Years elapsed at quarter start", "years"),
                  "first_flag": ("First quarter", "flag"), "last_flag": ("Last quarter", "flag")}
        self.time_label_row = HEADER_ROW
        for name, vals in self.m.timeline.items():
            label, unit = labels.get(name, (name, ""))
            ws.write_string(r, 0, label)
            ws.write_string(r, 1, unit, f.get("unit"))
            fmt = f.get("formula", "0.00" if unit == "years" else "0")
            for p, v in enumerate(vals):
                ws.write_number(r, self.L.period_col(p), float(v), fmt)
            self.L.add_row(name, "Time", r)
            r += 1
        # unit constants: named cells that every formula references instead of typing the number
        r += 1
        ws.write_string(r, 0, "Unit constants (named cells; formulas reference them)", f.get("section"))
        for c in range(1, 4):
            ws.write_blank(r, c, None, f.get("section"))
        r += 1
        for const, label, unit, name in UNIT_CONSTANTS:
            ws.write_string(r, 0, label)
            ws.write_string(r, 1, unit, f.get("unit"))
            ws.write_number(r, 2, const.value, f.get("formula", "#,##0.0##"))
            ws.write_string(r, 3, name, f.get("source"))
            self.L.add_constant(const.name, "Time", (r, 2))
            self.wb.define_name(name, f"=Time!{xl_rowcol_to_cell(r, 2, True, True)}")
            r += 1
        self._calc_columns(ws)

    # --- Checks ----------------------------------------------------------------------------------
    def _write_checks(self):
        ws = self.ws["Checks"]
        f = self.f
        self._title(ws, "Checks", "Each check is 0 when the model is consistent; the master check counts failures "
                                  "(tolerance 0.01 of a currency unit).")
        for col, t in enumerate(("Check", "Unit", "Value", "Fails (1 = yes)")):
            ws.write_string(HEADER_ROW, col, t, f.get("header_left" if col == 0 else "header"))
        m = self.m
        ws.write_string(FIRST_ROW, 0, "Master check (0 = all checks pass)", f.get("label_bold"))
        ws.write_string(FIRST_ROW, 1, "count", f.get("unit"))
        ws.write_formula(FIRST_ROW, 2, render(m.master_check, None, self.L, "Checks"), f.get("check", "0"),
                         cached_value(self.values[m.master_check]))
        for (label, it), flag in zip(m.checks, m.check_flags):
            r = self.checks_rows[it]
            ws.write_string(r, 0, label)
            ws.write_string(r, 1, it.unit, f.get("unit"))
            ws.write_formula(r, 2, render(it, None, self.L, "Checks"), f.get("scalar", "0.000000"),
                             cached_value(self.values[it]))
            ws.write_formula(r, 3, render(flag, None, self.L, "Checks"), f.get("check", "0"),
                             cached_value(self.values[flag]))
        last = FIRST_ROW + 2 + len(m.checks)
        ws.conditional_format(FIRST_ROW, 2, FIRST_ROW, 2, {"type": "cell", "criteria": "==", "value": 0, "format": f.get("ok")})
        ws.conditional_format(FIRST_ROW, 2, FIRST_ROW, 2, {"type": "cell", "criteria": "!=", "value": 0, "format": f.get("bad")})
        ws.conditional_format(FIRST_ROW + 2, 3, last, 3, {"type": "cell", "criteria": "==", "value": 1, "format": f.get("bad")})
        ws.set_column(0, 0, 70)
        ws.set_column(1, 3, 16)
        ws.freeze_panes(HEADER_ROW + 1, 1)
        r = self._write_price_age(ws, last + 2)
        warnings = getattr(self.run, "warnings", [])
        if warnings:
            r += 1
            ws.write_string(r, 0, "Warnings", f.get("section"))
            for msg in warnings:
                r += 1
                ws.write_string(r, 0, msg)

    def _write_price_age(self, ws, r) -> int:
        """Age of every dated price (ApiPrices, CloudRates, Rental, FX) against price_max_age_months. Stale prices are
        not a model inconsistency: they are flagged red and counted for the Cover, outside the master check.
        Returns the last row written."""
        f = self.f
        ages = getattr(self.run, "price_ages", [])
        self.price_count_cell = None
        if not ages:
            return r
        a0 = ages[0]
        ws.write_string(r, 0, f"Price age at the build date {self.build_date.isoformat()} (not in the master check)",
                        f.get("section"))
        for c in range(1, 4):
            ws.write_blank(r, c, None, f.get("section"))
        r += 1
        ws.write_string(r, 0, "Limit: Scenario price_max_age_months" + (f" ({a0.limit_cell})" if a0.limit_cell else
                                                                         " (blank: default)"))
        ws.write_string(r, 1, "months", f.get("unit"))
        ws.write_number(r, 2, a0.limit_months, f.get("input", "0"))
        limit_ref = xl_rowcol_to_cell(r, 2, True, True)
        r += 1
        for col, t in enumerate(("Dated price (Sheet!Cell of as_of)", "As of", "Age (months)", "Stale (1 = yes)")):
            ws.write_string(r, col, t, f.get("header_left" if col == 0 else "header"))
        first = r + 1
        for a in ages:
            r += 1
            ws.write_string(r, 0, f"{a.cell}: {a.what}, {a.row_id}")
            ws.write_datetime(r, 1, dt.datetime(a.as_of.year, a.as_of.month, a.as_of.day), f.get("input", "yyyy-mm-dd"))
            ws.write_number(r, 2, round(a.age_months, 6), f.get("engine", "0.00"))
            ws.write_formula(r, 3, f"=({xl_rowcol_to_cell(r, 2)}>{limit_ref})*1", f.get("check", "0"),
                             int(round(a.age_months, 6) > a.limit_months))
        ws.conditional_format(first, 3, r, 3, {"type": "cell", "criteria": "==", "value": 1, "format": f.get("bad")})
        r += 1
        ws.write_string(r, 0, "Prices older than the limit", f.get("label_bold"))
        ws.write_string(r, 1, "count", f.get("unit"))
        n_stale = sum(int(round(a.age_months, 6) > a.limit_months) for a in ages)
        ws.write_formula(r, 2, f"=SUM({xl_rowcol_to_cell(first, 3)}:{xl_rowcol_to_cell(r - 1, 3)})", f.get("check", "0"),
                         n_stale)
        ws.conditional_format(r, 2, r, 2, {"type": "cell", "criteria": "==", "value": 0, "format": f.get("ok")})
        ws.conditional_format(r, 2, r, 2, {"type": "cell", "criteria": "!=", "value": 0, "format": f.get("bad")})
        self.price_count_cell = (r, 2, n_stale)
        r += 1
        ws.write_string(r, 0, "Age = whole calendar months from as_of to the build date + the remaining days over the "
                              "length of that month (engine-computed); stale = older than the limit.", f.get("subtitle"))
        return r

    # --- Roofline ---------------------------------------------------------------------------------
    def _write_roofline(self):
        from tcomodel.roofline import check_claim, decode_curve

        ws = self.ws["Roofline"]
        f = self.f
        self._title(ws, "Roofline: memory fit, operating point and throughput",
                    "Engine-computed (purple): physics of hardware x model x precision, calibrated per serving "
                    "engine; the capacity per replica feeds the option sheets via the Inputs sheet.")
        fields = [
            ("weights_gb", "Weights (whole model)", "GB", "#,##0.00"),
            ("weights_gb_per_gpu", "Weights per GPU", "GB", "#,##0.00"),
            ("bits_per_weight", "Bits per weight (with scales)", "bits", "0.00"),
            ("kv_bytes_per_token", "KV cache per token (growing part)", "bytes", "#,##0"),
            ("state_bytes_per_sequence", "Fixed state per sequence", "bytes", "#,##0"),
            ("context_tokens", "Context per sequence", "tokens", "#,##0"),
            ("usable_memory_gb_per_gpu", "Usable memory per GPU", "GB", "#,##0.0"),
            ("fits", "Fits in memory", "yes/no", None),
            ("max_concurrency", "Max concurrent sequences at this context", "sequences", "#,##0"),
            ("batch", "Batch at the operating point", "sequences", "#,##0"),
            ("meets_targets", "Meets the latency targets", "yes/no", None),
            ("decode_tok_s_per_stream", "Decode speed per user", "tok/s", "#,##0.0"),
            ("decode_tok_s_total", "Decode throughput, all streams", "tok/s", "#,##0"),
            ("prefill_tok_s", "Prefill rate", "tok/s", "#,##0"),
            ("ttft_s", "Time to first token", "s", "0.000"),
            ("output_tok_s_total", "Sustained output (prefill included) = capacity", "tok/s", "#,##0.0"),
            ("bound", "Bound at the operating point", "", None),
            ("ideal_bound_tok_s", "Ideal bound: bandwidth / weights, batch 1", "tok/s", "#,##0.0"),
        ]
        r = FIRST_ROW - 2
        chart_row = r
        ests = self.run.operating.estimates
        ids = list(ests)
        ws.write_string(r, 0, "Quantity", f.get("header_left"))
        ws.write_string(r, 1, "Unit", f.get("header"))
        for j, oid in enumerate(ids):
            ws.write_string(r, 2 + j, oid, f.get("header"))
        r += 1
        w = self.sc.workload[0]
        ws.write_string(r, 0, f"Operating point for {w.quarter}: {w.input_tokens_per_request:,.0f} in / "
                              f"{w.output_tokens_per_request:,.0f} out tokens, >= {w.min_user_tok_s:g} tok/s per user, "
                              f"TTFT <= {w.max_ttft_s:g} s", f.get("subtitle"))
        r += 1
        for j, oid in enumerate(ids):
            e = ests[oid][0]
            opt = self.sc.options[oid]
            ws.write_string(r, 2 + j, f"{e.gpus} x {e.hardware_id}", f.get("engine"))
            ws.write_string(r + 1, 2 + j, f"{e.model_id} {e.precision}, KV {e.kv_precision}, {e.engine}", f.get("engine"))
        ws.write_string(r, 0, "Hardware")
        ws.write_string(r + 1, 0, "Model, precision, engine")
        r += 2
        for key, label, unit, num in fields:
            ws.write_string(r, 0, label)
            ws.write_string(r, 1, unit, f.get("unit"))
            for j, oid in enumerate(ids):
                v = getattr(ests[oid][0], key)
                if isinstance(v, bool):
                    ws.write_string(r, 2 + j, "yes" if v else "no", f.get("engine"))
                elif v is None:
                    ws.write_string(r, 2 + j, "n/a", f.get("engine"))
                elif isinstance(v, str):
                    ws.write_string(r, 2 + j, v, f.get("engine"))
                else:
                    ws.write_number(r, 2 + j, float(v), f.get("engine", num))
            r += 1
        for j, oid in enumerate(ids):
            if (self.sc.options[oid].measured_output_tok_s_per_replica is not None
                    or oid in self.sc.benchmarks):
                ws.write_string(r, 2 + j, "measured override used", f.get("subtitle"))
        r += 2
        # throughput vs batch, one table and chart per option
        ws.write_string(r, 0, "Decode throughput against batch (all GPUs of one replica, context of the operating point)",
                        f.get("section"))
        r += 1
        curves = {}
        for oid in ids:
            opt = self.sc.options[oid]
            e = ests[oid][0]
            curves[oid] = decode_curve(opt.hardware_id, opt.model_id, opt.precision,
                                       kv_precision=opt.kv_precision or "bf16", gpus=opt.gpus_per_replica or 1,
                                       tp=e.tp, engine=opt.engine or "vllm", input_tokens=e.input_tokens,
                                       output_tokens=e.output_tokens, hardware_catalogue=self.sc.hardware,
                                       model_catalogue=self.sc.models)
        chart = self.wb.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
        top = r
        col = 0
        for oid in ids:
            rows = curves[oid]
            ws.write_string(r, col, f"{oid}: batch", f.get("header_left"))
            ws.write_string(r, col + 1, "tok/s total", f.get("header"))
            for i, pt in enumerate(rows):
                ws.write_number(r + 1 + i, col, pt["batch"], f.get("engine", "#,##0"))
                ws.write_number(r + 1 + i, col + 1, pt["decode_tok_s_total"], f.get("engine", "#,##0"))
            chart.add_series({"name": oid, "categories": ["Roofline", r + 1, col, r + len(rows), col],
                              "values": ["Roofline", r + 1, col + 1, r + len(rows), col + 1], "marker": {"type": "circle", "size": 4}})
            col += 2
        longest = max(len(v) for v in curves.values()) if curves else 0
        chart.set_title({"name": "Decode throughput vs batch (per replica)"})
        chart.set_x_axis({"name": "concurrent sequences (batch)", "log_base": 2, "min": 1})
        chart.set_y_axis({"name": "output tok/s", "major_gridlines": {"visible": True}})
        chart.set_size({"width": 760, "height": 380})
        if ids:
            ws.insert_chart(chart_row, 2 + len(ids) + 1, chart)
        r = top + longest + 3
        # published claims
        ws.write_string(r, 0, "Published throughput claims checked against the physical bound", f.get("section"))
        r += 1
        heads = ("Claim", "Hardware", "Model", "Bits/weight", "GPUs", "Claimed tok/s", "Bound tok/s (ideal)",
                 "Verdict", "Claim / bound", "Engine's reading; quote and source")
        for c, h in enumerate(heads):
            ws.write_string(r, c, h, f.get("header_left" if c in (0, 9) else "header"))
        r += 1
        for cl in self.sc.claims:
            d = check_claim(cl.hardware_id, cl.model_id, cl.precision or "int4", cl.claimed_tok_s,
                            gpus=cl.gpus or 1, bits_per_weight=cl.bits_per_weight,
                            hardware_catalogue=self.sc.hardware, model_catalogue=self.sc.models)
            ws.write_string(r, 0, cl.claim_id)
            ws.write_string(r, 1, cl.hardware_id)
            ws.write_string(r, 2, cl.model_id)
            if cl.bits_per_weight is not None:
                ws.write_number(r, 3, cl.bits_per_weight, f.get("input", "0.00"))
            else:
                ws.write_string(r, 3, cl.precision or "", f.get("input"))
            ws.write_number(r, 4, cl.gpus or 1, f.get("engine", "0"))
            ws.write_number(r, 5, cl.claimed_tok_s, f.get("input", "#,##0.0"))
            bound = d.get("bound_tok_s")
            if bound is None:
                ws.write_string(r, 6, "n/a", f.get("engine"))
            else:
                ws.write_number(r, 6, float(bound), f.get("engine", "#,##0.0"))
            verdict = d.get("verdict", "")
            ws.write_string(r, 7, verdict.replace("_", " "), f.get("ok" if verdict == "within_bound" else "bad"))
            fac = d.get("factor")
            if fac is None or (isinstance(fac, float) and not math.isfinite(fac)):
                ws.write_string(r, 8, "n/a", f.get("engine"))
            else:
                ws.write_number(r, 8, float(fac), f.get("engine", "0.0"))
            text = f"{d['message']}. Quote: {cl.quote or ''} ({cl.source})"
            ws.write_string(r, 9, text, f.get("wrap"))
            ws.set_row(r, 15 * max(1, math.ceil(len(text) / 85)))  # wrapped text needs its height set for print
            r += 1
        if not self.sc.claims:
            ws.write_string(r, 0, "(no claims on the scenario's Claims sheet)", f.get("subtitle"))
        ws.set_column(0, 0, 48)
        ws.set_column(1, 1, 20)
        ws.set_column(2, 2 + max(len(ids), 8), 20)
        ws.set_column(9, 9, 90)
        ws.freeze_panes(FIRST_ROW - 1, 2)

    # --- Sensitivity --------------------------------------------------------------------------------
    def _write_sensitivity(self):
        from tcomodel.finance.sensitivity import price_volume_grid, tornado

        ws = self.ws["Sensitivity"]
        f = self.f
        m, ccy = self.m, self.ccy
        self._title(ws, "Sensitivity: what moves the answer",
                    "Engine-computed (purple): the whole model re-run with one driver at its low and high value "
                    "(the scenario's Ranges sheet where it names the input, else +/-20%), and on a grid of volume and "
                    "API price. Not formulas: each cell is a separate run of the model.")
        t = tornado(self.run)
        cands = [o for o, om in m.options.items() if o != m.baseline and om.kind != "hosted_api"] or \
            [o for o in m.options if o != m.baseline]
        focus = max(cands, key=lambda o: t.base_npv.get(o, -math.inf)) if cands else m.baseline
        r = FIRST_ROW - 2
        charts_col = 9
        for metric, base, table, unit, num in (
                (f"NPV of switching from {m.baseline} to {focus}", t.base_npv.get(focus), t.npv.get(focus), ccy, "#,##0"),
                (f"Levelized cost of {focus}", t.base_levelized[focus], t.levelized[focus], f"{ccy}/Mtok", "#,##0.00")):
            if table is None:
                continue
            swings = [(abs(hi - lo), i) for i, (lo, hi) in enumerate(table)]
            order = [i for sw, i in sorted(swings, key=lambda x: -x[0]) if sw > 1e-9 * max(1.0, abs(base))][:12]
            ws.write_string(r, 0, f"Tornado: {metric} (base {base:,.2f} {unit})", f.get("section"))
            for c in range(1, 7):
                ws.write_blank(r, c, None, f.get("section"))
            r += 1
            for c, h in enumerate(("Driver", "Low factor", "High factor", f"At low ({unit})", f"At high ({unit})",
                                   "Change at low", "Change at high")):
                ws.write_string(r, c, h, f.get("header_left" if c == 0 else "header"))
            head = r
            r += 1
            first = r
            for i in order:
                d = t.drivers[i]
                lo, hi = table[i]
                ws.write_string(r, 0, f"{d.label} ({d.basis})")
                ws.write_number(r, 1, d.low, f.get("engine", "0.00"))
                ws.write_number(r, 2, d.high, f.get("engine", "0.00"))
                ws.write_number(r, 3, float(lo), f.get("engine", num))
                ws.write_number(r, 4, float(hi), f.get("engine", num))
                ws.write_number(r, 5, float(lo - base), f.get("engine", num))
                ws.write_number(r, 6, float(hi - base), f.get("engine", num))
                r += 1
            if not order:
                ws.write_string(r, 0, "(no driver moves this figure)", f.get("subtitle"))
                r += 1
            else:
                ch = self.wb.add_chart({"type": "bar"})
                for col, name in ((5, "low"), (6, "high")):
                    ch.add_series({"name": f"driver at {name}", "categories": ["Sensitivity", first, 0, r - 1, 0],
                                   "values": ["Sensitivity", first, col, r - 1, col], "gap": 40})
                ch.set_title({"name": f"{metric}: change from base ({unit})"})
                ch.set_y_axis({"reverse": True, "label_position": "low"})
                ch.set_x_axis({"num_format": num, "major_gridlines": {"visible": True}})
                ch.set_legend({"position": "bottom"})
                ch.set_size({"width": 820, "height": 60 + 28 * len(order) + 60})
                ws.insert_chart(head, charts_col, ch)
            r = max(r, head + 2 + len(order)) + 3
            r = max(r, head + int((60 + 28 * len(order) + 80) / 20))
        # volume x price grid
        g = price_volume_grid(self.run)
        ws.write_string(r, 0, f"Cheapest option (lowest levelized cost) by monthly token volume and API price level",
                        f.get("section"))
        for c in range(1, 7):
            ws.write_blank(r, c, None, f.get("section"))
        r += 1
        ws.write_string(r, 0, "Rows: the workload scaled to this many tokens a month (mean over the horizon). "
                              "Columns: every API token price multiplied by this factor.", f.get("subtitle"))
        r += 1
        ws.write_string(r, 0, "Tokens per month \\ API price factor", f.get("header_left"))
        for j, pf in enumerate(g.price_factors):
            ws.write_string(r, 1 + j, f"x{pf:g}", f.get("header"))
        r += 1
        palette = ["#DDEBF7", "#FCE4D6", "#E2EFDA", "#FFF2CC", "#EDE7F6", "#D9D9D9", "#F8CBAD", "#C6E0B4", "#BDD7EE"]
        colour = {oid: palette[i % len(palette)] for i, oid in enumerate(m.options)}
        fmts = {oid: self.wb.add_format({"bg_color": c, "font_color": "#7030A0", "border": 1, "border_color": "#D9D9D9",
                                         "align": "center"}) for oid, c in colour.items()}
        for i, mt in enumerate(g.monthly_tokens):
            ws.write_number(r, 0, mt, f.get("engine", '#,##0" tokens/month"'))
            for j in range(len(g.price_factors)):
                oid = g.cheapest[i][j]
                ws.write_string(r, 1 + j, oid, fmts[oid])
            r += 1
        ws.write_string(r, 0, f"Volume x1 is the scenario's workload ({g.monthly_tokens[g.volume_factors.index(1.0)]:,.0f} "
                              f"tokens a month on average); price x1 the ApiPrices sheet. Self-hosted fleets are re-sized "
                              f"at every volume.", f.get("subtitle"))
        ws.set_column(0, 0, 56)
        ws.set_column(1, 8, 17)

    # --- Summary ------------------------------------------------------------------------------------
    def _write_summary(self):
        ws = self.ws["Summary"]
        f = self.f
        m = self.m
        ccy = self.ccy
        self._title(ws, f"Summary: {self.sc.settings.scenario_name}",
                    f"{len(m.options)} options over {self.n} quarters ({m.quarters[0]}..{m.quarters[-1]}), {ccy}. "
                    f"NPV, IRR and payback are of switching from the baseline '{m.baseline}'. Green cells link to the "
                    f"calculation sheets.")
        scored = [o for o in m.options if self.sc.options[o].quality_score is not None]
        cols = [("Option", None), ("Kind", None), (f"Levelized cost ({ccy}/Mtok)", "lev"),
                (f"Quality-adjusted ({ccy}/Mtok)", "levq"), (f"TCO, PV ({ccy})", "tco_pv"),
                (f"TCO, nominal ({ccy})", "tco_nom"), ("Tokens served", "tokens"),
                (f"NPV vs {m.baseline} ({ccy}; + = switching saves)", "npv"), (f"IRR vs {m.baseline} (per year)", "irr"),
                ("Payback quarter", "payback"), ("Discounted payback", "dpayback"), ("Max replicas", "replicas"),
                ("Capacity per replica (tok/s)", "cap")]
        hr = self._write_known_first(ws, HEADER_ROW)
        head_wrap = self.wb.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F3864", "border": 1,
                                        "text_wrap": True, "align": "center", "valign": "vcenter"})
        for c, (h, _) in enumerate(cols):
            ws.write_string(hr, c, h, head_wrap)
        ws.set_row(hr, 44)
        r = hr + 1
        time_labels = f"Time!${xl_col_to_name(self.L.first_col)}${HEADER_ROW + 1}:${xl_col_to_name(self.L.last_col)}${HEADER_ROW + 1}"
        for oid, om in m.options.items():
            ws.write_string(r, 0, om.label)
            ws.write_string(r, 1, KIND_LABEL[om.kind])
            cmp = m.comparisons.get(oid)
            self._link(ws, r, 2, om.levelized, f.get("link", "#,##0.00"))
            if om.levelized_per_correct is not None:
                self._link(ws, r, 3, om.levelized_per_correct, f.get("link", "#,##0.00"))
            else:
                ws.write_string(r, 3, "no score", f.get("unit"))
            self._link(ws, r, 4, om.tco_pv, f.get("link", "#,##0"))
            self._link(ws, r, 5, om.tco_nominal, f.get("link", "#,##0"))
            self._link(ws, r, 6, om.tokens_total, f.get("link", "#,##0"))
            if cmp is not None:
                self._link(ws, r, 7, cmp.npv, f.get("link", "#,##0"))
                irr_v = self.values[cmp.irr_annual]
                ws.write_formula(r, 8, f'=IFERROR({self._ref(cmp.irr_annual, "Summary")},"n/a")', f.get("link", "0.0%"),
                                 float(irr_v) if math.isfinite(float(irr_v)) else "n/a")
                for col, pb in ((9, cmp.payback_quarter), (10, cmp.discounted_payback_quarter)):
                    v = self.values[pb]
                    q = str(m.quarters[int(v) - 1]) if math.isfinite(float(v)) and 1 <= int(v) <= self.n else "never"
                    ws.write_formula(r, col, f'=IFERROR(INDEX({time_labels},{self._ref(pb, "Summary")}),"never")',
                                     f.get("link"), q)
            else:
                for col in (7, 8, 9, 10):
                    ws.write_string(r, col, "baseline", f.get("unit"))
            if om.fleet is not None:
                loc = self.L.items[om.fleet]
                rng = f"'{loc.sheet}'!{xl_rowcol_to_cell(loc.row, self.L.first_col)}:{xl_rowcol_to_cell(loc.row, self.L.last_col)}"
                ws.write_formula(r, 11, f"=MAX({rng})", f.get("link", "#,##0"), float(np.max(self.values[om.fleet])))
                ws.write_number(r, 12, float(om.throughput_tok_s), f.get("engine", "#,##0"))
            else:
                ws.write_string(r, 11, "n/a (API)", f.get("unit"))
                ws.write_string(r, 12, "n/a (API)", f.get("unit"))
            r += 1
        table_end = r
        ws.conditional_format(hr + 1, 7, table_end - 1, 7, {"type": "cell", "criteria": "<", "value": 0,
                                                             "format": self.wb.add_format({"font_color": "#C00000"})})
        if scored:
            r = self._write_quality_basis(ws, r + 1, scored)
        # breakeven fee of rented options (the unknown price of the current platform)
        r += 1
        ws.write_string(r, 0, "Breakeven monthly fee (PV over the quarters both serve)", f.get("section"))
        for c in range(1, 5):
            ws.write_blank(r, c, None, f.get("section"))
        r += 1
        be_items = {it.name: it for s in m.breakeven for it in s.items}
        for oid, om in m.options.items():
            if om.fee_input is None or oid in m.unknown_fee or oid == m.baseline:
                continue  # an unknown fee leads the Summary (above)
            ws.write_string(r, 0, f"{oid}: fee in the inputs")
            ws.write_formula(r, 2, f"=Inputs!{xl_rowcol_to_cell(self.L.inputs[om.fee_input].row, 2, True, True)}",
                             f.get("link", "#,##0"), self.m.inputs[om.fee_input].value)
            fee_unit = f"{self.sc.rental[oid].currency}/month ex VAT"
            ws.write_string(r, 3, fee_unit, f.get("unit"))
            r += 1
            it = be_items.get(f"breakeven_fee:{oid}:{m.baseline}")
            if it is not None:
                ws.write_string(r, 0, f"   costs the same as {m.baseline} at a fee of")
                self._link(ws, r, 2, it, f.get("link", "#,##0"))
                ws.write_string(r, 3, fee_unit, f.get("unit"))
                r += 1
            r += 1
        if m.pairs:
            r = self._write_pairs(ws, r)
        # charts from the Comparison sheet
        cmp_sections = m.side_by_side
        chart_row = r + 1

        def line_chart(section, title, yname, num):
            ch = self.wb.add_chart({"type": "line"})
            for it in section.items:
                loc = self.L.items[it]
                ch.add_series({"name": it.label,
                               "categories": ["Time", HEADER_ROW, self.L.first_col, HEADER_ROW, self.L.last_col],
                               "values": [loc.sheet, loc.row, self.L.first_col, loc.row, self.L.last_col],
                               "line": {"width": 1.75}})
            ch.set_title({"name": title})
            ch.set_y_axis({"name": yname, "num_format": num, "major_gridlines": {"visible": True}})
            ch.set_x_axis({"name": "quarter", "num_font": {"rotation": -45}})
            ch.set_legend({"position": "bottom"})
            ch.set_size({"width": 900, "height": 460})
            return ch

        cpm_chart = line_chart(cmp_sections[0], f"Cost per million tokens by quarter ({ccy}/Mtok, log scale)",
                               f"{ccy}/Mtok", "#,##0.00")
        cpm_chart.set_y_axis({"name": f"{ccy}/Mtok", "num_format": "#,##0.0", "log_base": 10,
                              "major_gridlines": {"visible": True}})
        ws.insert_chart(chart_row, 0, cpm_chart)
        ch = line_chart(cmp_sections[2], f"Cumulative cash cost ({ccy})", ccy, "#,##0")
        ws.insert_chart(chart_row, 6, ch)
        # cost breakdown by category: a small table of links to the category totals, and a stacked bar
        r = chart_row + 25
        ws.write_string(r, 0, f"Cost by category over the horizon ({ccy}, P&L view)", f.get("section"))
        r += 1
        cats = []
        for om in m.options.values():
            for c in om.categories:
                if c not in cats:
                    cats.append(c)
        ws.write_string(r, 0, "Option", f.get("header_left"))
        for j, c in enumerate(cats):
            ws.write_string(r, 1 + j, c, f.get("header"))
        r += 1
        first = r
        for oid, om in m.options.items():
            ws.write_string(r, 0, oid)
            for j, c in enumerate(cats):
                it = om.categories.get(c)
                if it is None:
                    ws.write_number(r, 1 + j, 0, f.get("formula", "#,##0"))
                    continue
                ws.write_formula(r, 1 + j, f"={self._ref(it, 'Summary')}", f.get("link", "#,##0"),
                                 float(np.sum(self.values[it])))
            r += 1
        bar = self.wb.add_chart({"type": "bar", "subtype": "stacked"})
        for j, c in enumerate(cats):
            bar.add_series({"name": ["Summary", first - 1, 1 + j], "categories": ["Summary", first, 0, r - 1, 0],
                            "values": ["Summary", first, 1 + j, r - 1, 1 + j]})
        bar.set_title({"name": f"Cost breakdown by category ({ccy}, P&L view, whole horizon)"})
        bar.set_x_axis({"num_format": "#,##0", "major_gridlines": {"visible": True}})
        bar.set_y_axis({"reverse": True, "label_position": "low"})
        bar.set_legend({"position": "bottom"})
        bar.set_size({"width": 900, "height": 420})
        ws.insert_chart(r + 1, 0, bar)
        ws.set_column(0, 0, 54)
        ws.set_column(1, 1, 16)
        ws.set_column(2, 12, 15)
        ws.freeze_panes(hr + 1, 1)

    def _write_pairs(self, ws, r) -> int:
        """Switching between two named options (e.g. buy instead of rent the same server)."""
        m, f, ccy = self.m, self.f, self.ccy
        ws.write_string(r, 0, "Switching between named pairs (Pairs sheet)", f.get("section"))
        for c in range(1, 6):
            ws.write_blank(r, c, None, f.get("section"))
        r += 1
        for c, h in enumerate(("From -> to", "", f"NPV ({ccy})", "IRR (per year)", "Payback quarter")):
            ws.write_string(r, c, h, f.get("header_left" if c == 0 else "header"))
        r += 1
        time_labels = (f"Time!${xl_col_to_name(self.L.first_col)}${HEADER_ROW + 1}:"
                       f"${xl_col_to_name(self.L.last_col)}${HEADER_ROW + 1}")
        for (a, b), c in m.pairs.items():
            ws.write_string(r, 0, f"{a} -> {b}")
            self._link(ws, r, 2, c.npv, f.get("link", "#,##0"))
            irr_v = float(self.values[c.irr_annual])
            ws.write_formula(r, 3, f'=IFERROR({self._ref(c.irr_annual, "Summary")},"n/a")', f.get("link", "0.0%"),
                             irr_v if math.isfinite(irr_v) else "n/a")
            v = float(self.values[c.payback_quarter])
            q = str(m.quarters[int(v) - 1]) if math.isfinite(v) and 1 <= int(v) <= self.n else "never"
            ws.write_formula(r, 4, f'=IFERROR(INDEX({time_labels},{self._ref(c.payback_quarter, "Summary")}),"never")',
                             f.get("link"), q)
            r += 1
        return r + 1

    def _write_known_first(self, ws, r) -> int:
        """Where a fee is unknown, the Summary leads with what does not depend on it: the fee at which the
        option costs the same as each other, and the switching NPVs across a range of the fee. Returns the
        row for the options table."""
        m, f, ccy = self.m, self.f, self.ccy
        be_items = {it.name: it for sec in m.breakeven for it in sec.items}
        for oid, table in m.unknown_fee.items():
            om = m.options[oid]
            fee_def = m.inputs[om.fee_input]
            fleet = np.asarray(self.values[om.fleet]) if om.fleet is not None else np.array([1.0])
            n_lo, n_hi = int(fleet.min()), int(fleet.max())
            servers = f"{n_lo}" if n_lo == n_hi else f"{n_lo} to {n_hi}"
            ws.write_string(r, 0, f"Known first: the monthly fee of {oid} per server is unknown; {fee_def.value:,.0f} "
                                  f"{fee_def.unit.split('/')[0]}/month per server is an assumption ({oid} runs "
                                  f"{servers} servers incl. spares: a quote for the whole allocation compares with "
                                  f"the fee x servers)", f.get("section"))
            for c in range(1, 7):
                ws.write_blank(r, c, None, f.get("section"))
            r += 1
            ws.write_string(r, 0, "It costs the same (PV over the quarters both serve) as", f.get("label_bold"))
            ws.write_string(r, 2, "at a monthly fee per server of", f.get("unit"))
            r += 1
            others = sorted((o for o in m.options if o != oid),
                            key=lambda o: (m.options[o].kind == "hosted_api", list(m.options).index(o)))
            for other in others:
                it = be_items.get(f"breakeven_fee:{oid}:{other}")
                if it is None:
                    continue
                ws.write_string(r, 0, f"   {m.options[other].label}")
                self._link(ws, r, 2, it, f.get("link", "#,##0"))
                ws.write_string(r, 3, fee_def.unit, f.get("unit"))
                v = float(self.values[it])
                if math.isfinite(v) and v < 0:
                    ws.write_string(r, 4, "below zero: cannot match even at a zero fee", f.get("unit"))
                r += 1
            r += 1
            ws.write_string(r, 0, f"NPV of switching ({ccy}) if the fee of {oid} is", f.get("label_bold"))
            for j, lv in enumerate(table["levels"]):
                self._link(ws, r, 2 + j, lv, f.get("link", "#,##0"))
            r += 1
            for k, npvs in table["npv"].items():
                ws.write_string(r, 0, f"   switching to {k}")
                for j, it in enumerate(npvs):
                    self._link(ws, r, 2 + j, it, f.get("link", "#,##0"))
                r += 1
            ws.write_string(r, 0, f"Each column re-prices {oid} at that fee; the other options do not depend on it. "
                                  f"The table below uses the assumed fee.", f.get("subtitle"))
            r += 2
        return r

    def _write_quality_basis(self, ws, r, scored) -> int:
        """What each quality-adjusted cost rests on: benchmark, the variant served, score, chance level and the
        share of the range above chance that divides the levelized cost. Returns the next free row."""
        f = self.f
        ws.write_string(r, 0, "Quality basis: quality-adjusted cost = levelized cost / ((score - chance) / (100 - chance))",
                        f.get("section"))
        for c in range(1, 7):
            ws.write_blank(r, c, None, f.get("section"))
        r += 1
        for c, t in enumerate(("Option", "Benchmark", "Score", "Chance level", "Above chance", "Model variant served")):
            ws.write_string(r, c, t, f.get("header_left" if c in (0, 5) else "header"))
        for oid in scored:
            r += 1
            opt, om = self.sc.options[oid], self.m.options[oid]
            ws.write_string(r, 0, oid)
            ws.write_string(r, 1, opt.quality_benchmark or "")
            ws.write_string(r, 5, opt.quality_model_variant or "")  # last: a long name overflows to the right
            for c, name in ((2, f"{oid}.quality_score"), (3, f"{oid}.quality_chance_level")):
                ws.write_formula(r, c, f"=Inputs!{xl_rowcol_to_cell(self.L.inputs[name].row, 2, True, True)}",
                                 f.get("link", "0.0"), self.m.inputs[name].value)
            above = next((it for sec in om.sections for it in sec.items
                          if it.label.startswith("Score above chance")), None)
            if above is not None:
                self._link(ws, r, 4, above, f.get("link", "0.0%"))
                v = float(np.asarray(self.values[above]))
                if not v > 0:
                    ws.write_string(r, 6, "score at or below chance: no quality-adjusted cost (#N/A)", f.get("unit"))
        return r + 2

    # --- Cover ---------------------------------------------------------------------------------------
    def _write_cover(self):
        ws = self.ws["Cover"]
        f = self.f
        s = self.sc.settings
        ws.write_string(0, 0, "tcomodel: TCO and cost per million tokens of LLM inference", f.get("title"))
        ws.write_string(1, 0, "What a million tokens costs on each option over the horizon; when a switch pays back; its "
                              "NPV and IRR.", f.get("subtitle"))
        rows = [
            ("Scenario", s.scenario_name),
            ("Scenario workbook", os.path.basename(self.sc.path)),
            ("Built", self.build_date.isoformat()),
            ("tcomodel version", __version__),
            ("Report currency", s.report_currency),
            ("Timeline", f"{self.m.quarters[0]} .. {self.m.quarters[-1]} ({self.n} quarters)"),
            ("Baseline option", s.baseline_option),
            ("Discount rate", f"{s.discount_rate_annual:.2%} per year"),
            ("Tax rate", f"{s.tax_rate:.0%}"),
        ]
        r = 3
        for k, v in rows:
            ws.write_string(r, 0, k, f.get("label_bold"))
            ws.write_string(r, 1, v)
            r += 1
        r += 1
        ws.write_string(r, 0, "Master check (0 = all checks pass)", f.get("label_bold"))
        ws.write_formula(r, 1, f"=Checks!{xl_rowcol_to_cell(FIRST_ROW, 2, True, True)}", f.get("check", "0"),
                         cached_value(self.values[self.m.master_check]))
        ws.conditional_format(r, 1, r, 1, {"type": "cell", "criteria": "==", "value": 0, "format": f.get("ok")})
        ws.conditional_format(r, 1, r, 1, {"type": "cell", "criteria": "!=", "value": 0, "format": f.get("bad")})
        if getattr(self, "price_count_cell", None) is not None:
            pr, pc, n_stale = self.price_count_cell
            r += 1
            ws.write_string(r, 0, f"Prices older than {self.run.price_ages[0].limit_months} months", f.get("label_bold"))
            ws.write_formula(r, 1, f"=Checks!{xl_rowcol_to_cell(pr, pc, True, True)}", f.get("check", "0"), n_stale)
            ws.conditional_format(r, 1, r, 1, {"type": "cell", "criteria": "==", "value": 0, "format": f.get("ok")})
            ws.conditional_format(r, 1, r, 1, {"type": "cell", "criteria": "!=", "value": 0, "format": f.get("bad")})
            ws.write_string(r, 2, "stale prices are listed on the Checks sheet; they are not in the master check",
                            f.get("unit"))
        r += 2
        ws.write_string(r, 0, "Style key", f.get("section"))
        ws.write_blank(r, 1, None, f.get("section"))
        keys = [("input", "Input from the scenario workbook (edit it there, then rebuild)"),
                ("formula", "Formula (black): calculated from inputs and other lines"),
                ("link", "Link (green): a reference to a cell on another sheet"),
                ("engine", "Engine-computed constant (purple): roofline physics, not a formula"),
                ("scalar", "Result cell: a whole-horizon figure (total, PV, NPV, IRR)"),
                ("ok", "Check passes"), ("bad", "Check fails")]
        for role, text in keys:
            r += 1
            ws.write_string(r, 0, "1,234.56" if role not in ("ok", "bad") else ("0" if role == "ok" else "1"), f.get(role))
            ws.write_string(r, 1, text)
        r += 2
        ws.write_string(r, 0, "Conventions", f.get("section"))
        ws.write_blank(r, 1, None, f.get("section"))
        for text in (
                "Costs are positive; money in the report currency, converted at the FX sheet's rates; prices ex VAT plus "
                "the VAT share that cannot be recovered.",
                "Quarterly cost and cost per million tokens: P&L view (depreciation instead of capex, gain or loss on "
                "disposal against book value).",
                "TCO and levelized cost: cash view. Capex when paid (start of the quarter by default), market value "
                "from the resale curve at retirement and at the horizon end. Cash never depends on book depreciation.",
                "Levelized cost per million tokens = PV of cash cost / PV of tokens served x 1e6.",
                "Discounting: quarterly rate (1 + annual)^(1/4) - 1, each quarter's flow at its end (Excel NPV); a "
                "start-of-quarter payment is carried to the quarter end at that rate.",
                "Unit constants (hours per quarter = 365.25 x 24 / 4 = 2,191.5, months per quarter, tokens per Mtok) "
                "are named cells on the Time sheet.",
                "Tokens served = input + output tokens delivered (reasoning tokens are paid but not delivered). "
                "Self-hosted capacity = roofline operating point (output tok/s per replica, prefill included) meeting "
                "the workload's latency targets; utilization counts output tokens against it.",
                "Peak = average x 7 / working days x 24 / busy hours (or 24 x the busiest hour's share) x the peak "
                "within that hour. Replicas = CEILING(peak output rate / capacity per replica) + spares (N+k); owned "
                "fleets never shrink.",
                "Staff = hours x a loaded hourly rate per role, for every option kind, hosted APIs included.",
                "NPV, IRR and payback are of switching from the baseline; IRR only where the switch starts with an outlay."):
            r += 1
            ws.write_string(r, 0, "•")
            ws.write_string(r, 1, text)
        r += 2
        ws.write_string(r, 0, "Sheets", f.get("section"))
        ws.write_blank(r, 1, None, f.get("section"))
        sheets = [("Summary", "headline metrics per option, charts"), ("Inputs", "every input used, with its origin and source"),
                  ("Time", "the quarterly timeline and flags"), ("Roofline", "memory fit, operating point, throughput vs batch, claims"),
                  ("Demand", "tokens demanded, peak rate, discounting")]
        sheets += [(self.sheet_names[o], f"calculation sheet of option '{o}'") for o in self.m.options]
        sheets += [("Comparison", "options side by side per quarter"), ("Breakeven", "breakeven fee, volume, utilization"),
                   ("NPV_IRR", "switching cash flows, NPV, IRR, payback"),
                   ("Sensitivity", "tornado of key drivers; cheapest option by volume and API price"),
                   ("Checks", "every check and the master check")]
        for name, text in sheets:
            r += 1
            ws.write_url(r, 0, f"internal:'{name}'!A1", string=name)
            ws.write_string(r, 1, text)
        ws.set_column(0, 0, 40)
        ws.set_column(1, 1, 120)

    # --- print setup -----------------------------------------------------------------------------
    def _print_setup(self, ws, name):
        print_one_page_wide(ws, f"&L{self.sc.settings.scenario_name}&C{name}&RPage &P of &N")
        if name not in ("Cover", "Summary", "Roofline", "Checks", "Inputs"):
            ws.repeat_rows(HEADER_ROW)
