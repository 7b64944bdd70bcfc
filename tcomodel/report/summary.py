"""The Summary sheet: what is known first where a fee is unknown, the headline metrics per option (links to the
calculation sheets), the quality basis, breakeven fees, named pairs, and charts."""

from __future__ import annotations

import math

import numpy as np

from tcomodel.report.annual_sheet import write_annual_budget
from tcomodel.report.checks import STALE_COUNT
from tcomodel.report.inputs_sheet import CASE_INPUT
from tcomodel.report.snapshot_sheet import STATUS, master_status_at_build
from tcomodel.report.report_context import HEADER_ROW, QUARTER_LABELS, ReportContext
from tcomodel.sheet import IF, IFERROR, Item, index, inp, row_max, text, timeline, total


def write_summary(ctx: ReportContext, kind_label: dict):
    ws, m = ctx.ws["Summary"], ctx.m
    ctx.title(ws, f"Summary: {ctx.sc.settings.scenario_name}",
              f"{len(m.options)} options over {ctx.n} quarters ({m.quarters[0]}..{m.quarters[-1]}), {ctx.ccy}. "
              f"NPV, IRR and payback are of switching from the baseline '{m.baseline}'. Green cells link to the "
              f"calculation sheets.")
    _write_case_and_status(ctx, ws, HEADER_ROW - 1)
    hr = _write_known_first(ctx, ws, HEADER_ROW)
    r = _write_options_table(ctx, ws, hr, kind_label)
    r = write_annual_budget(ctx, ws, r + 1)
    scored = [o for o in m.options if ctx.sc.options[o].quality_score is not None]
    if scored:
        r = _write_quality_basis(ctx, ws, r + 1, scored)
    r = _write_breakeven_fees(ctx, ws, r + 1)
    if m.pairs:
        r = _write_pairs(ctx, ws, r)
    r = _write_charts(ctx, ws, r + 1)
    ws.set_h_pagebreaks([r])  # the category table and its chart print together on a page of their own
    _write_categories(ctx, ws, r)
    # every option label fits, also indented under "Known first"
    ws.set_column(0, 0, min(90, max([54] + [len(om.label) + 5 for om in m.options.values()])))
    ws.set_column(1, 1, 16)
    ws.set_column(2, 12, 15)
    ws.freeze_panes(hr + 1, 1)


def _write_case_and_status(ctx: ReportContext, ws, r):
    """Which case the figures are of, and whether they can be trusted (the Checks sheet's master status)."""
    f = ctx.f
    ws.write_string(r, 0, "Case shown (switch: Inputs!C3) and master status", f.get("label_bold"))
    ctx.formula(ws, r, 1, inp(CASE_INPUT), f.get("check"), ctx.run.case_label, "Case")
    ctx.formula(ws, r, 2, inp(STATUS), f.get("check"), master_status_at_build(ctx), "Master status")
    if STALE_COUNT in ctx.L.inputs:  # not in the master check, but what a reader must know before the figures
        limit = ctx.run.price_ages[0].limit_months
        stale, current = f"some prices are older than {limit} months: see Checks", "every price is current"
        ctx.formula(ws, r, 3, IF(inp(STALE_COUNT) > 0, text(stale), text(current)), f.get("label_bold"),
                    stale if ctx.run.stale_price_count else current, "Stale prices")


def _irr_link(ctx: ReportContext, ws, r, c, irr_item: Item):
    """The IRR, or 'n/a' where it is undefined."""
    v = float(ctx.values[irr_item])
    ctx.formula(ws, r, c, IFERROR(irr_item, text("n/a")), ctx.f.get("link_right", "0.0%"), v if math.isfinite(v) else "n/a",
                irr_item.label, irr_item.unit)


def _quarter_link(ctx: ReportContext, ws, r, c, quarter_item: Item):
    """The quarter a quarter-number result names (payback), or 'never'."""
    ctx.formula(ws, r, c, IFERROR(index(timeline(QUARTER_LABELS), quarter_item), text("never")),
                ctx.f.get("link_right"),
                ctx.run.quarter_label(quarter_item), quarter_item.label)


def _write_options_table(ctx: ReportContext, ws, hr, kind_label) -> int:
    """One row of headline metrics per option; returns the row after the table."""
    m, f, ccy = ctx.m, ctx.f, ctx.ccy
    heads = ("Option", "Kind", f"Levelized cost ({ccy}/Mtok)", f"Quality-adjusted ({ccy}/Mtok)", f"TCO, PV ({ccy})",
             f"TCO, nominal ({ccy})", "Tokens served", f"NPV vs {m.baseline} ({ccy}; + = switching saves)",
             f"IRR vs {m.baseline} (per year)", "Payback quarter", "Discounted payback", "Max replicas",
             "Capacity per replica (tok/s)")
    head_wrap = ctx.wb.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F3864", "border": 1,
                                   "text_wrap": True, "align": "center", "valign": "vcenter"})
    for c, h in enumerate(heads):
        ws.write_string(hr, c, h, head_wrap)
    ws.set_row(hr, 44)
    r = hr + 1
    for oid, om in m.options.items():
        ws.write_string(r, 0, om.label)
        ws.write_string(r, 1, kind_label[om.kind])
        ctx.link(ws, r, 2, om.levelized, f.get("link", "#,##0.00"))
        if om.levelized_per_correct is not None:
            ctx.link(ws, r, 3, om.levelized_per_correct, f.get("link", "#,##0.00"))
        else:
            ws.write_string(r, 3, "no score", f.get("unit_right"))
        ctx.link(ws, r, 4, om.tco_pv, f.get("link", "#,##0"))
        ctx.link(ws, r, 5, om.tco_nominal, f.get("link", "#,##0"))
        ctx.link(ws, r, 6, om.tokens_total, f.get("link", "#,##0"))
        cmp = m.comparisons.get(oid)
        if cmp is not None:
            ctx.link(ws, r, 7, cmp.npv, f.get("link", "#,##0"))
            _irr_link(ctx, ws, r, 8, cmp.irr_annual)
            _quarter_link(ctx, ws, r, 9, cmp.payback_quarter)
            _quarter_link(ctx, ws, r, 10, cmp.discounted_payback_quarter)
        else:
            for col in (7, 8, 9, 10):
                ws.write_string(r, col, "baseline", f.get("unit_right"))
        if om.fleet is not None:
            ctx.evaluated(ws, r, 11, row_max(om.fleet), f.get("link", "#,##0"), "Max replicas", om.fleet.unit)
            ws.write_number(r, 12, float(om.throughput_tok_s), f.get("engine", "#,##0"))
        else:
            ws.write_string(r, 11, "n/a (API)", f.get("unit_right"))
            ws.write_string(r, 12, "n/a (API)", f.get("unit_right"))
        r += 1
    ws.conditional_format(hr + 1, 7, r - 1, 7, {"type": "cell", "criteria": "<", "value": 0,
                                                "format": ctx.wb.add_format({"font_color": "#C00000"})})
    return r


def _fee_and_unit(ctx: ReportContext, ws, r, fee: Item, unit: str):
    """A breakeven fee (C) and its unit (D), live; below zero C reads NO_FEE_MATCHES (right-aligned, it runs
    left over the empty column B) and D is empty."""
    ctx.fee_or_words(ws, r, 2, fee, ctx.f.get("link_right", "#,##0"))
    v = float(ctx.values[fee])
    ctx.formula(ws, r, 3, IFERROR(IF(fee < 0, text(""), text(unit)), text(unit)), ctx.f.get("unit_after"),
                "" if math.isfinite(v) and v < 0 else unit, fee.label, fee.unit)


def _write_breakeven_fees(ctx: ReportContext, ws, r) -> int:
    """Breakeven fee of rented options with a known fee against the baseline."""
    m, f = ctx.m, ctx.f
    ctx.section(ws, r, "Breakeven monthly fee (PV over the quarters both serve)", 4)
    r += 1
    be_items = {it.name: it for s in m.breakeven for it in s.items}
    for oid, om in m.options.items():
        if om.fee_input is None or oid in m.unknown_fee or oid == m.baseline:
            continue  # an unknown fee leads the Summary (above)
        ws.write_string(r, 0, f"{oid}: fee in the inputs")
        fee = m.inputs[om.fee_input]
        ctx.formula(ws, r, 2, inp(om.fee_input), f.get("link", "#,##0"), float(ctx.case_inputs[om.fee_input]),
                    fee.label, fee.unit)
        fee_unit = f"{ctx.sc.rental[oid].currency}/month ex VAT"
        ws.write_string(r, 3, fee_unit, f.get("unit_after"))
        r += 1
        it = be_items.get(f"breakeven_fee:{oid}:{m.baseline}")
        if it is not None:
            ws.write_string(r, 0, f"   costs the same as {m.baseline} at a fee of")
            _fee_and_unit(ctx, ws, r, it, fee_unit)
            r += 1
        r += 1
    return r


CHART_SERIES_MAX = 12  # a line chart of more options is a tangle: past this it shows the baseline and the cheapest


def charted_options(ctx: ReportContext) -> list[str]:
    """The options the Summary's line charts draw: all of them up to CHART_SERIES_MAX, else the baseline and the
    cheapest by levelized cost in the case shown (an undefined cost last; an unknown fee counts at its placeholder,
    as everywhere in the report), in the options' order."""
    m = ctx.m
    oids = list(m.options)
    if len(oids) <= CHART_SERIES_MAX:
        return oids

    def cost(oid):
        v = float(np.ravel(ctx.values[m.options[oid].levelized])[0])
        return v if math.isfinite(v) else math.inf

    others = sorted((o for o in oids if o != m.baseline), key=lambda o: (cost(o), oids.index(o)))
    keep = {m.baseline, *others[:CHART_SERIES_MAX - 1]}
    return [o for o in oids if o in keep]


def _line_chart(ctx: ReportContext, section, title, yname, num, charted):
    ch = ctx.wb.add_chart({"type": "line"})
    L = ctx.L
    for oid, it in zip(ctx.m.options, section.items, strict=True):  # a section has one item per option
        if oid not in charted:
            continue
        loc = L.items[it]
        ch.add_series({"name": it.label, "categories": ["Time", HEADER_ROW, L.first_col, HEADER_ROW, L.last_col],
                       "values": [loc.sheet, loc.row, L.first_col, loc.row, L.last_col], "line": {"width": 1.75}})
    ch.set_title({"name": title})
    ch.set_y_axis({"name": yname, "num_format": num, "major_gridlines": {"visible": True}})
    ch.set_x_axis({"name": "quarter", "num_font": {"rotation": -45}})
    ch.set_legend({"position": "bottom"})
    ch.set_size({"width": 900, "height": 460})
    return ch


def _write_charts(ctx: ReportContext, ws, chart_row) -> int:
    """Cost per Mtok and cumulative cash cost from the Comparison sheet; returns the row below the charts."""
    ccy, sections, n = ctx.ccy, ctx.m.side_by_side, len(ctx.m.options)
    charted = charted_options(ctx)
    some = "" if len(charted) == n else (f"; the baseline and the {len(charted) - 1} cheapest of {n} options, "
                                         f"all on the Comparison sheet")
    cpm_chart = _line_chart(ctx, sections[0], f"Cost per million tokens by quarter ({ccy}/Mtok, log scale{some})",
                            f"{ccy}/Mtok", "#,##0.00", charted)
    cpm_chart.set_y_axis({"name": f"{ccy}/Mtok", "num_format": "#,##0.0", "log_base": 10,
                          "major_gridlines": {"visible": True}})
    ws.insert_chart(chart_row, 0, cpm_chart)
    ws.insert_chart(chart_row, 6, _line_chart(ctx, sections[2], f"Cumulative cash cost ({ccy}{some})", ccy, "#,##0",
                                              charted))
    return chart_row + 25


def _write_categories(ctx: ReportContext, ws, r):
    """Cost by category over the horizon: links to the category totals, and a stacked bar."""
    m, f, ccy = ctx.m, ctx.f, ctx.ccy
    ws.write_string(r, 0, f"Cost by category over the horizon ({ccy}, P&L view)", f.get("section"))
    r += 1
    cats = []
    for om in m.options.values():
        cats += [c for c in om.categories if c not in cats]
    ws.write_string(r, 0, "Option", f.get("header_left"))
    for j, c in enumerate(cats):
        ws.write_string(r, 1 + j, c, f.get("header_wrap"))
    ws.set_row(r, 15 * max(1, max((math.ceil(len(c) / 13) for c in cats), default=1)))  # wrapped: no name cut
    r += 1
    first = r
    for oid, om in m.options.items():
        ws.write_string(r, 0, oid)
        for j, c in enumerate(cats):
            it = om.categories.get(c)
            if it is None:
                ws.write_number(r, 1 + j, 0, f.get("formula", "#,##0"))
            else:
                ctx.evaluated(ws, r, 1 + j, total(it), f.get("link", "#,##0"), it.label, it.unit)
        r += 1
    bar = ctx.wb.add_chart({"type": "bar", "subtype": "stacked"})
    for j, c in enumerate(cats):
        bar.add_series({"name": ["Summary", first - 1, 1 + j], "categories": ["Summary", first, 0, r - 1, 0],
                        "values": ["Summary", first, 1 + j, r - 1, 1 + j]})
    bar.set_title({"name": f"Cost breakdown by category ({ccy}, P&L view, whole horizon)"})
    bar.set_x_axis({"num_format": "#,##0", "major_gridlines": {"visible": True}})
    bar.set_y_axis({"reverse": True, "label_position": "low"})
    bar.set_legend({"position": "bottom"})
    bar.set_size({"width": 900, "height": max(420, 120 + 22 * len(m.options))})  # every option's bar stays legible
    ws.insert_chart(r + 1, 0, bar)


def _write_pairs(ctx: ReportContext, ws, r) -> int:
    """Switching between two named options (e.g. buy instead of rent the same server)."""
    m, f = ctx.m, ctx.f
    ctx.section(ws, r, "Switching between named pairs (Pairs sheet)", 5)
    r += 1
    for c, h in enumerate(("From -> to", "", f"NPV ({ctx.ccy})", "IRR (per year)", "Payback quarter")):
        ws.write_string(r, c, h, f.get("header_left" if c == 0 else "header"))
    r += 1
    for (a, b), c in m.pairs.items():
        ws.write_string(r, 0, f"{a} -> {b}")
        ctx.link(ws, r, 2, c.npv, f.get("link", "#,##0"))
        _irr_link(ctx, ws, r, 3, c.irr_annual)
        _quarter_link(ctx, ws, r, 4, c.payback_quarter)
        r += 1
    return r + 1


def _write_known_first(ctx: ReportContext, ws, r) -> int:
    """Where a fee is unknown, the Summary leads with what does not depend on it: the fee at which the
    option costs the same as each other, and the switching NPVs across a range of the fee. Returns the
    row for the options table."""
    m, f = ctx.m, ctx.f
    for oid, table in m.unknown_fee.items():
        fee_def = m.inputs[m.options[oid].fee_input]
        n_lo, n_hi = ctx.run.fleet_range(oid) or (1, 1)
        servers = f"{n_lo}" if n_lo == n_hi else f"{n_lo} to {n_hi}"
        ctx.section(ws, r, f"Known first: the monthly fee of {oid} per server is unknown; {fee_def.value:,.0f} "
                           f"{fee_def.unit.split('/')[0]}/month per server is the Base assumption ({oid} runs "
                           f"{servers} servers incl. spares: a quote for the whole allocation compares with "
                           f"the fee x servers)", 6)
        r = _write_fee_breakevens(ctx, ws, r + 1, oid, fee_def)
        ws.write_string(r, 0, f"NPV of switching ({ctx.ccy}) if the fee of {oid} is", f.get("label_bold"))
        for j, lv in enumerate(table["levels"]):
            ctx.link(ws, r, 2 + j, lv, f.get("link", "#,##0"))
        r += 1
        for k, npvs in table["npv"].items():
            ws.write_string(r, 0, f"   switching to {k}")
            for j, it in enumerate(npvs):
                ctx.link(ws, r, 2 + j, it, f.get("link", "#,##0"))
            r += 1
        ws.write_string(r, 0, f"Each column re-prices {oid} at that fee; the other options do not depend on it. "
                              f"The table below uses the assumed fee.", f.get("subtitle"))
        r += 2
    return r


def _write_fee_breakevens(ctx: ReportContext, ws, r, oid, fee_def) -> int:
    """The fee at which ``oid`` costs the same as each other option (self-hosted first)."""
    m, f = ctx.m, ctx.f
    be_items = {it.name: it for sec in m.breakeven for it in sec.items}
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
        _fee_and_unit(ctx, ws, r, it, fee_def.unit)
        r += 1
    return r + 1


def _write_quality_basis(ctx: ReportContext, ws, r, scored) -> int:
    """What each quality-adjusted cost rests on: benchmark, the variant served, score, chance level and the
    share of the range above chance that divides the levelized cost. Returns the next free row."""
    f = ctx.f
    ctx.section(ws, r, "Quality basis: quality-adjusted cost = levelized cost / ((score - chance) / (100 - chance))", 6)
    r += 1
    for c, t in enumerate(("Option", "Benchmark", "Score", "Chance level", "Above chance", "Model variant served")):
        ws.write_string(r, c, t, f.get("header_left" if c == 0 else "header_wrap"))
    ws.set_row(r, 30)  # "Model variant served" wraps in its column
    for oid in scored:
        r += 1
        opt, om = ctx.sc.options[oid], ctx.m.options[oid]
        ws.write_string(r, 0, oid)
        ws.write_string(r, 1, opt.quality_benchmark or "")
        # last: a long name overflows to the right; indented off the figure on its left
        ws.write_string(r, 5, opt.quality_model_variant or "", f.get("text_after"))
        for c, name in ((2, f"{oid}.quality_score"), (3, f"{oid}.quality_chance_level")):
            d = ctx.m.inputs[name]
            ctx.formula(ws, r, c, inp(name), f.get("link", "0.0"), float(ctx.case_inputs[name]), d.label, d.unit)
        above = next((it for sec in om.sections for it in sec.items
                      if it.label.startswith("Score above chance")), None)
        if above is not None:
            ctx.link(ws, r, 4, above, f.get("link", "0.0%"))
            if not float(np.asarray(ctx.values[above])) > 0:
                ws.write_string(r, 6, "score at or below chance: no quality-adjusted cost (#N/A)", f.get("unit"))
    return r + 2
