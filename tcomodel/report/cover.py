"""The Cover sheet: what the scenario is, the master check and stale prices, the style key, conventions and an
index of the sheets."""

from __future__ import annotations

import os

from tcomodel.version import __version__
from tcomodel.report.checks import STALE_COUNT
from tcomodel.report.inputs_sheet import CASE_INPUT
from tcomodel.report.snapshot_sheet import STATUS, master_status_at_build
from tcomodel.report.report_context import ReportContext
from tcomodel.sheet import inp, quote_sheet

STYLE_KEY = (("input", "Input from the scenario workbook (edit it there, then rebuild)"),
             ("formula", "Formula (black): calculated from inputs and other lines"),
             ("link", "Link (green): a reference to a cell on another sheet"),
             ("engine", "Engine-computed constant (purple): roofline physics, not a formula"),
             ("scalar", "Result cell: a whole-horizon figure (total, PV, NPV, IRR)"),
             ("ok", "Check passes"), ("bad", "Check fails"))
CONVENTIONS = (
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
    "NPV, IRR and payback are of switching from the baseline; IRR only where the switch starts with an outlay.",
)


def write_cover(ctx: ReportContext):
    ws, f, s = ctx.ws["Cover"], ctx.f, ctx.sc.settings
    ws.write_string(0, 0, "tcomodel: TCO and cost per million tokens of LLM inference", f.get("title"))
    ws.write_string(1, 0, "What a million tokens costs on each option over the horizon; when a switch pays back; its "
                          "NPV and IRR.", f.get("subtitle"))
    rows = [
        ("Scenario", s.scenario_name),
        ("Scenario workbook", os.path.basename(ctx.sc.path)),
        ("Built", ctx.build_date.isoformat()),
        ("tcomodel version", __version__),
        ("Report currency", s.report_currency),
        ("Timeline", f"{ctx.m.quarters[0]} .. {ctx.m.quarters[-1]} ({ctx.n} quarters)"),
        ("Baseline option", s.baseline_option),
        ("Discount rate", f"{s.discount_rate_annual:.2%} per year"),
        ("Tax rate", f"{s.tax_rate:.0%}"),
    ]
    r = 3
    for k, v in rows:
        ws.write_string(r, 0, k, f.get("label_bold"))
        ws.write_string(r, 1, v)
        r += 1
    r = _write_check_cells(ctx, ws, r + 1)
    r = _write_key_and_conventions(ctx, ws, r + 2)
    _write_sheet_index(ctx, ws, r + 2)
    ws.set_column(0, 0, 46)
    ws.set_column(1, 1, 120)


def _write_check_cells(ctx: ReportContext, ws, r) -> int:
    """The master check and the count of stale prices, linked from the Checks sheet; returns the last row."""
    f = ctx.f
    ws.write_string(r, 0, "Master check (0 = all checks pass)", f.get("label_bold"))
    ctx.link(ws, r, 1, ctx.m.master_check, f.get("check", "0"))
    ctx.ok_bad(ws, r, 1)
    r += 1
    ws.write_string(r, 0, "Master status (OK, stale: rebuild, FAIL)", f.get("label_bold"))
    ctx.formula(ws, r, 1, inp(STATUS), f.get("check"), master_status_at_build(ctx), "Master status")
    r += 1
    ws.write_string(r, 0, "Case shown (switch: Inputs sheet, cell C3)", f.get("label_bold"))
    ctx.formula(ws, r, 1, inp(CASE_INPUT), f.get("check"), ctx.run.case_label, "Case")
    if STALE_COUNT in ctx.L.inputs:
        r += 1
        ws.write_string(r, 0, f"Prices older than {ctx.run.price_ages[0].limit_months} months", f.get("label_bold"))
        ctx.formula(ws, r, 1, inp(STALE_COUNT), f.get("check", "0"), ctx.run.stale_price_count, "Stale prices",
                    "count")
        ctx.ok_bad(ws, r, 1)
        ws.write_string(r, 2, "stale prices are listed on the Checks sheet; they are not in the master check",
                        f.get("unit"))
    return r


def _write_key_and_conventions(ctx: ReportContext, ws, r) -> int:
    f = ctx.f
    ctx.section(ws, r, "Style key", 1)
    for role, text in STYLE_KEY:
        r += 1
        ws.write_string(r, 0, "1,234.56" if role not in ("ok", "bad") else ("0" if role == "ok" else "1"), f.get(role))
        ws.write_string(r, 1, text)
    r += 2
    ctx.section(ws, r, "Conventions", 1)
    for text in CONVENTIONS:
        r += 1
        ws.write_string(r, 0, "•")
        ws.write_string(r, 1, text)
    return r


def _write_sheet_index(ctx: ReportContext, ws, r):
    ctx.section(ws, r, "Sheets", 1)
    sheets = [("Summary", "headline metrics per option, charts"), ("Inputs", "every input used, Low / Base / High and the case switch, with origin and source"),
              ("InputsByQuarter", "the per-quarter inputs (workload, engine capacity)"),
              ("Time", "the quarterly timeline and flags"), ("Roofline", "memory fit, operating point, throughput vs batch, claims"),
              ("Demand", "tokens demanded, peak rate, discounting")]
    sheets += [(ctx.sheet_names[o], f"calculation sheet of option '{o}'") for o in ctx.m.options]
    sheets += [("Comparison", "options side by side per quarter"),
               ("Annual", "cost, tokens, cash and savings per budget year"), ("Breakeven", "breakeven fee, volume, utilization"),
               ("NPV_IRR", "switching cash flows, NPV, IRR, payback"),
               ("Sensitivity", "tornado of key drivers; cheapest option by volume and API price"),
               ("Checks", "every check and the master check"),
               ("Snapshot", "the inputs as built, for the stale-input check")]
    for name, text in sheets:
        r += 1
        ws.write_url(r, 0, f"internal:{quote_sheet(name)}!A1", string=name)
        ws.write_string(r, 1, text)
