"""What every sheet module of the report shares: the workbook, its formats, the layout of placed cells, the
model run, and small writing helpers. Formulas are rendered by ``tcomodel.sheet`` from line items and
expressions; cached values come from the run."""

from __future__ import annotations

import datetime as dt
import math

from tcomodel.report.styles import Formats
from tcomodel.sheet import IF, Item, Layout, absolute_ref, cached_value, render, text, write_block
from tcomodel.sheet.engine import evaluate_over
from tcomodel.sheet.render import render_periods_template
from tcomodel.sheet.writer import note_template_hashes

PERIOD_COL_WIDTH = 16  # 100 billion tokens with separators fit
HEADER_ROW = 3  # 0-based row of the period header on every calculation sheet
FIRST_ROW = 5  # first line item row
QUARTER_LABELS = "quarter_labels"
NO_FEE_MATCHES = "cannot match even at a zero fee"  # shown for a breakeven fee below zero  # the Time sheet's header row of quarter names, as a layout row


class ReportContext:
    def __init__(self, run, wb, build_date: dt.date, sheet_names: dict):
        self.run = run
        self.m = run.model
        self.sc = run.scenario
        self.ccy = self.m.currency
        self.n = len(self.m.quarters)
        self.build_date = build_date
        self.wb = wb
        self.f = Formats(wb, self.ccy)
        self.source_wrap = wb.add_format({"italic": True, "font_color": "#404040", "text_wrap": True, "indent": 1,
                                          "valign": "top"})
        self.L = Layout(periods=self.n)
        self.values = run.values
        self.sheet_names = sheet_names
        self.ws = {}
        self.case_inputs = run.cases.input_values(run.model, run.case)  # the selected case's input values
        self.snapshot: list = []  # the Inputs sheet's constant cells: (kind, row, label, [(layout name, value, col)])
        self.taken_names: set[str] = {"CASE", "CASEINDEX", "MASTERSTATUS"}  # defined names in use (upper case)
        self.label_widths = {}  # sheet name -> widths of the label columns before the periods (for print)

    def define_name(self, name: str, sheet: str, row: int, col: int) -> None:
        """Define ``name`` for one cell (absolute reference)."""
        self.taken_names.add(name.upper())
        self.wb.define_name(name, absolute_ref(sheet, row, col))

    def title(self, ws, title, subtitle):
        ws.write_string(0, 0, title, self.f.get("title"))
        ws.write_string(1, 0, subtitle, self.f.get("subtitle"))

    def title_over_labels(self, ws, title, subtitle):
        """The title, and the subtitle wrapped over the label columns (calc_columns first): these rows repeat on
        every printed page, where a subtitle running on over the period columns would be cut."""
        ws.write_string(0, 0, title, self.f.get("title"))
        widths = self.label_widths[ws.name]
        ws.merge_range(1, 0, 1, len(widths) - 1, subtitle, self.f.get("subtitle_wrap"))
        ws.set_row(1, 15 * max(1, math.ceil(len(subtitle) / (0.95 * sum(widths)))))

    def period_header(self, ws, row=HEADER_ROW, titles=("Line item", "Unit", "Value", "Total")):
        for col, t in enumerate(titles):
            ws.write_string(row, col, t, self.f.get("header_left" if col == 0 else "header"))
        for p, q in enumerate(self.m.quarters):
            ws.write_string(row, self.L.period_col(p), str(q), self.f.get("header"))

    def calc_columns(self, ws, label_width: float = 58, unit_width: float = 16):
        widths = (label_width, unit_width, 15, 19)  # a horizon total of 1e12 tokens with separators fits
        for col, w in enumerate(widths):
            ws.set_column(col, col, w)
        self.label_widths[ws.name] = widths
        ws.set_column(4, 4 + self.n - 1, PERIOD_COL_WIDTH)
        ws.freeze_panes(HEADER_ROW + 1, 4)

    def section(self, ws, row, title, last_col):
        """A section heading across columns 0..last_col."""
        ws.write_string(row, 0, title, self.f.get("section"))
        for c in range(1, last_col + 1):
            ws.write_blank(row, c, None, self.f.get("section"))

    def ok_bad(self, ws, r, c):
        """Green where the cell is 0, red otherwise."""
        ws.conditional_format(r, c, r, c, {"type": "cell", "criteria": "==", "value": 0, "format": self.f.get("ok")})
        ws.conditional_format(r, c, r, c, {"type": "cell", "criteria": "!=", "value": 0, "format": self.f.get("bad")})

    def write_item(self, ws, it: Item, row: int):
        write_block(ws, [it], self.L, self.values, row, self.f.writer_formats(it.unit))

    def cell(self, ws, row, col, it: Item, fmt, value):
        """Place a scalar item at (row, col) and write its formula (rendered by the sheet package), ``value`` cached."""
        self.L.place(it, ws.name, row, col)
        ws.write_formula(row, col, render(it, None, self.L, ws.name), fmt, value)

    def formula(self, ws, row, col, expr, fmt, value, label="formula", unit=""):
        """A scalar cell holding ``expr`` with ``value`` cached (display values such as "n/a" for #N/A)."""
        self.cell(ws, row, col, Item(label, unit, expr), fmt, value)

    def write_row_formula(self, ws, row, expr, fmt, values, label="formula", unit=""):
        """A period row holding ``expr`` in every period column, ``values`` cached."""
        it = Item(label, unit, expr)
        formulas, template = render_periods_template(it, self.L, ws.name)
        note_template_hashes(ws, template, formulas, 0, len(formulas))
        for p, formula in enumerate(formulas):
            ws.write_formula(row, self.L.period_col(p), formula, fmt, cached_value(values[p]))

    def evaluated(self, ws, row, col, expr, fmt, label="formula", unit=""):
        """A scalar cell holding ``expr`` over the run's line items, its cached value evaluated by the
        engine from the same expression the cell renders."""
        value = cached_value(evaluate_over(expr, self.values, len(self.m.quarters)).ravel()[0])
        self.cell(ws, row, col, Item(label, unit, expr), fmt, value)

    def link(self, ws, row, col, target: Item, fmt, label=None):
        """A cell that only references another (scalar) item (a link), with its value cached."""
        self.formula(ws, row, col, target, fmt, cached_value(self.values[target]), label or target.label,
                     target.unit)

    def fee_or_words(self, ws, row, col, fee: Item, fmt, words_only: bool = False):
        """A live cell showing a breakeven fee, or NO_FEE_MATCHES where the fee is below zero (no fee, not even
        zero, makes the option match); ``words_only`` shows nothing for a fee at or above zero. The numeric fee
        stays in its own cell, which formulas reference."""
        v = float(self.values[fee])
        negative = math.isfinite(v) and v < 0
        shown = text("") if words_only else fee
        if negative:
            cached = NO_FEE_MATCHES
        else:  # an error (#N/A) propagates through the IF
            cached = "" if words_only and math.isfinite(v) else cached_value(self.values[fee])
        self.formula(ws, row, col, IF(fee < 0, text(NO_FEE_MATCHES), shown), fmt, cached, fee.label, fee.unit)
