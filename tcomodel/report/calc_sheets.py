"""The calculation sheets rendered from the model's line items: Demand, one sheet per option, Comparison,
Breakeven and NPV_IRR. Each is planned first (rows placed in the layout, so any formula can reference any
cell), then written."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tcomodel.report.report_context import FIRST_ROW, HEADER_ROW, ReportContext
from tcomodel.sheet import Const, Item, Layout, cached_value, render

LABEL_WIDTH_MIN, LABEL_WIDTH_MAX = 58, 90  # label column: every label fits up to the maximum


@dataclass
class _Entry:
    kind: str  # section | item | blank | note
    payload: object
    row: int = 0


@dataclass
class SheetPlan:
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

    def sections(self, sections, titles=None):
        """Each section's title, its items and a blank row."""
        for i, s in enumerate(sections):
            self.section(s.title if titles is None else titles[i])
            self.items(s.items)
            self.blank()

    def assign_rows(self, layout: Layout, start=FIRST_ROW):
        r = start
        for e in self.entries:
            e.row = r
            if e.kind == "item":
                layout.place(e.payload, self.name, r)
            r += 1
        return r


def plans(ctx: ReportContext, kind_label: dict) -> list[SheetPlan]:
    m = ctx.m
    demand = SheetPlan("Demand", "Demand and financing", "Demand from the Workload sheet; discounting.")
    demand.sections(m.general)
    out = [demand]
    for oid, om in m.options.items():
        blank = (" In the asset vintages a blank cell is 0 by construction (before the purchase quarter, additions "
                 "after it, depreciation after the book life or retirement, retirement rows outside the retirement "
                 "quarter); editing the book life here needs a rebuild (Checks: stale)." if om.kind == "owned" else "")
        p = SheetPlan(ctx.sheet_names[oid], f"{om.label}",
                      f"Option '{oid}', {kind_label[om.kind]}. Quarterly cost is the P&L view; TCO is the cash "
                      f"view. Money in {ctx.ccy}.{blank}")
        p.sections(om.sections)
        out.append(p)
    cmp = SheetPlan("Comparison", "Options side by side", "Links to each option's sheet (green), per quarter.")
    cmp.sections(m.side_by_side)
    out.append(cmp)
    be = SheetPlan("Breakeven", "Breakeven prices, volumes and utilization",
                   "Monthly fee at which a rented option costs the same (PV over the quarters both serve) as another; "
                   "volume and utilization at which one self-hosted replica costs the same as an API.")
    be.note("A fee below zero means the option cannot match the other even if its fee were zero.")
    be.note("Breakeven volume: tokens a month one replica must serve to cost the same per token as the API; "
            "above the replica's capacity (breakeven utilization > 100%) the API is cheaper at any volume.")
    be.sections(m.breakeven)
    out.append(be)
    npv = SheetPlan("NPV_IRR", f"Switching from {m.baseline}: NPV, IRR and payback",
                    "Saving = baseline cost - option cost (cash), after tax on the P&L difference. NPV on the "
                    "PV basis; the IRR on the flows at quarter boundaries (start-of-quarter capex at the "
                    "boundary before its quarter; the last flow in the 'end of horizon' column). IRR only where "
                    "switching starts with an outlay; payback = first quarter from which the cumulative saving "
                    "stays >= 0. #N/A: no IRR (no outlay first, or a saving that never turns positive: no rate "
                    "makes the NPV 0) or no payback within the horizon.")
    npv.sections(list(m.comparisons.values()), [f"Switching from {m.baseline} to {oid}" for oid in m.comparisons])
    npv.sections(list(m.pairs.values()), [f"Switching from {a} to {b} (a pair named on the Pairs sheet)"
                                          for a, b in m.pairs])
    out.append(npv)
    return out


def place_irr_tails(ctx: ReportContext) -> list:
    """Each IRR's last flow (the horizon-end boundary) sits right after its row's last period."""
    tails = []
    for c in list(ctx.m.comparisons.values()) + list(ctx.m.pairs.values()):
        if c.irr_tail is not None:
            row = ctx.L.items[c.irr_row].row
            ctx.L.place(c.irr_tail, "NPV_IRR", row, ctx.L.last_col + 1)
            tails.append((c.irr_tail, row))
    return tails


def write_irr_tails(ctx: ReportContext, tails):
    ws, f = ctx.ws["NPV_IRR"], ctx.f
    col = ctx.L.last_col + 1
    ws.write_string(HEADER_ROW, col, "end of horizon", f.get("header"))
    ws.set_column(col, col, 14)
    for tail, row in tails:
        ws.write_formula(row, col, render(tail, None, ctx.L, "NPV_IRR"), f.get("formula", "#,##0"),
                         cached_value(ctx.values[tail]))


def write_plan(ctx: ReportContext, p: SheetPlan):
    ws = ctx.ws[p.name]
    ctx.period_header(ws)
    items = [e.payload for e in p.entries if e.kind == "item"]
    ctx.calc_columns(ws, min(LABEL_WIDTH_MAX, max([LABEL_WIDTH_MIN] + [len(it.label) + 2 for it in items])),
                     max([16] + [len(it.unit) + 2 for it in items]))
    ctx.title_over_labels(ws, p.title, p.subtitle)
    for e in p.entries:
        if e.kind == "section":
            ctx.section(ws, e.row, e.payload, 3)
        elif e.kind == "item" and isinstance(e.payload.expr, Const):
            _write_number_item(ctx, ws, e.payload, e.row)
        elif e.kind == "item":
            ctx.write_item(ws, e.payload, e.row)
            if e.payload.name.startswith("breakeven_fee:"):
                ctx.fee_or_words(ws, e.row, ctx.L.first_col, e.payload, ctx.f.get("unit"), words_only=True)
        elif e.kind == "note":
            ws.write_string(e.row, 0, e.payload, ctx.f.get("subtitle"))
    _collapse_empty_vintages(ctx, ws, p.name)


def empty_vintage_rows(ctx: ReportContext, sheet: str) -> list[int]:
    """Rows of an owned option's vintages in which nothing is bought (every row of such a block is 0 but its
    age), in sheet order."""
    out = []
    for oid, om in ctx.m.options.items():
        if ctx.sheet_names.get(oid) != sheet:
            continue
        for units, rows in om.vintage_blocks:
            if not np.any(np.asarray(ctx.values[units], dtype=float)):
                out += [(ctx.L.scalars if it.is_scalar else ctx.L.items)[it].row for it in rows]
    return out


def _collapse_empty_vintages(ctx: ReportContext, ws, sheet: str):
    """Group the empty vintage rows in a collapsed outline (level 1, hidden): the formulas stay, so any reference
    to them holds, and a click on + opens them."""
    rows = empty_vintage_rows(ctx, sheet)
    if not rows:
        return
    ws.outline_settings(True, False, True, False)  # summary rows above the detail: the + sits on the row before
    hidden = set(rows)
    for r in rows:
        ws.set_row(r, None, None, {"level": 1, "hidden": True})
        if r - 1 not in hidden:
            ws.set_row(r - 1, None, None, {"collapsed": True})


def _write_number_item(ctx: ReportContext, ws, it: Item, row: int):
    """An item that is only a number (a vintage's purchase quarter, a fee level's share): the number itself in
    its cell, which other formulas reference, rather than a formula such as ``=7``."""
    loc = ctx.L.scalars[it]
    ws.write_string(row, 0, it.label)
    ws.write_string(row, 1, it.unit, ctx.f.get("unit"))
    ws.write_number(loc.row, loc.col, it.expr.value, ctx.f.writer_formats(it.unit)["formula"])
