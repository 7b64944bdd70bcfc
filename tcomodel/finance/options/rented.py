"""Rented server, as billed: a monthly fee per server in the provider's currency (ex VAT) through FX,
the share of VAT the organisation cannot recover, a setup fee per server added to the contract, a
minimum term and a notice period, staff and licences.

Contract rows (only when a minimum term or notice is given). Needs change at quarter starts; notice
is given at the start of the quarter in which the need falls; servers are interchangeable, so one
still under contract is kept rather than a new one rented. In month j (0, 1, 2) of a quarter, servers
under contract = MAX(notice bound, servers within their minimum term):
- notice bound: the most servers needed in this quarter and in each earlier quarter k whose notice
  still runs, 3(k-1) + j < notice months;
- minimum term: servers added k quarters ago whose term still runs, 3k + j < minimum term months.
The number of lag rows is set by the term and notice of the scenario (capped by the horizon).
"""

from __future__ import annotations

import math

from tcomodel.finance.context import Context, balanced_sum, escalation
from tcomodel.finance.model import Section
from tcomodel.finance.options.common import (
    cash_pl_check, category_section, finish, frame, running_category, running_parts, self_hosted_load,
    staff_and_licences,
)
from tcomodel.sheet.expr import MAX, MONTHS_PER_QUARTER, Const, item, prev


def build(ctx: Context, oid: str, opt, capacity):
    fr = frame(ctx, oid, opt)
    reg, ccy = ctx.reg, ctx.ccy
    load = self_hosted_load(ctx, fr, capacity, never_shrinks=False)
    rt = ctx.scenario.rental[oid]
    fx = ctx.fx(rt.currency)
    rp = f"{oid}.rental"
    g = "Hardware and hosting prices"
    fee_input = f"{rp}.fee_per_replica_per_month"
    fee = reg.from_record(rt, "fee_per_replica_per_month", rp, f"{oid}: monthly fee per server, ex VAT",
                          f"{rt.currency}/month", g)
    setup_fee = reg.from_record(rt, "setup_fee_per_replica", rp, f"{oid}: setup fee per server, ex VAT", rt.currency, g,
                                default=0.0)
    vat_rate = reg.from_record(rt, "vat_rate", rp, f"{oid}: VAT rate on the fee", "share", g, default=0.0)
    vat_lost = reg.from_record(rt, "vat_unrecoverable_share", rp, f"{oid}: share of the VAT not recovered", "share", g,
                               default=0.0)
    # Every factor that multiplies the fee goes into the fee units, so the breakeven fee is ex VAT in the row's currency.
    vat = item("VAT not recovered, as a factor on prices ex VAT", "factor", 1 + vat_rate * vat_lost)
    contract_items, server_months, added = _contract(ctx, oid, rt, load.fleet)
    fesc = escalation("Fee index", reg.from_record(rt, "fee_escalation_annual", rp, f"{oid}: fee escalation",
                                                   "per year", g, default=0.0))
    fee_units = item("Fee units (server-months x index x VAT factor x FX)", "months", server_months * fesc * vat * fx)
    fee_cost = item("Server fees", ccy, fee_units * fee)
    setup = item("Setup fees", ccy, added * setup_fee * vat * fx)
    cost_items = [vat, fesc, fee_units, fee_cost, setup]
    parts = [fee_cost, setup]
    categories = {"Server rental": item("Server rental and setup", ccy, fee_cost + setup)}
    running = staff_and_licences(ctx, fr)
    if running is not None:
        cost_items += running.items
    parts += running_parts(running)
    running_category(ctx, running, categories)
    cash = item("Cash cost", ccy, balanced_sum(parts))
    pl = item("P&L cost", ccy, balanced_sum(parts))
    fr.sections.append(Section("Contract", contract_items))
    fr.sections.append(Section("Costs", cost_items))
    fr.sections.append(Section("Cost", [cash, pl]))
    category_section(fr, categories, cost_items)
    # as billed: fees, setup fees and the VAT not recovered are cash and P&L alike (nothing prepaid or capitalised)
    checks = [cash_pl_check(ctx, oid, cash, pl, None, "0 (fees, setup and unrecovered VAT in both)"),
              load.capacity_check]
    return finish(ctx, fr, "rented_server", checks=checks, cash=cash, pl=pl, served_in=load.served_in, served_out=load.served_out,
                  categories=categories, fleet=load.fleet, utilization=load.utilization,
                  throughput_tok_s=load.throughput_tok_s, fee_units=fee_units, fee_input=fee_input,
                  replica_months=load.replica_months, capacity_tokens_per_replica_month=load.cap_tokens_rm)


def _contract(ctx: Context, oid: str, rt, needed):
    """Servers under contract and the servers added to it (setup fees), from the servers needed.
    Returns (items for the sheet, server-months under contract, servers added)."""
    reg, rp, g = ctx.reg, f"{oid}.rental", "Hardware and hosting prices"
    term = reg.from_record(rt, "minimum_term_months", rp, f"{oid}: minimum term per server (sets rows)", "months", g,
                           default=0.0)
    notice = reg.from_record(rt, "notice_months", rp, f"{oid}: notice period (sets rows)", "months", g, default=0.0)
    # Lag rows: notice binds quarters 1..ceil(notice/3) back; the minimum term quarters 0..ceil(term/3)-1 back.
    lags_notice = min(math.ceil((rt.notice_months or 0.0) / 3), ctx.n - 1)
    lags_term = min(math.ceil((rt.minimum_term_months or 0.0) / 3), ctx.n)
    if lags_notice <= 0 and lags_term <= 1:  # quarterly needs: a term of up to 3 months never binds
        added = item("Servers added", "servers", MAX(0, needed - prev(needed, 0)))
        months = item("Server-months under contract", "server-months", needed * MONTHS_PER_QUARTER)
        return [added, months], months, added
    most = [needed]
    for k in range(1, lags_notice + 1):
        most.append(item(f"Most servers needed, this and {k} quarter(s) before", "servers",
                         MAX(needed, prev(most[-1], 0)), total=False))
    end_of_quarter = item("Servers under contract, month 3 of the quarter", "servers", total=False)
    added = item("Servers added", "servers", MAX(0, needed - prev(end_of_quarter, 0)))
    adds = [added]
    for k in range(1, lags_term):
        adds.append(item(f"Servers added {k} quarter(s) before", "servers", prev(adds[-1], 0), total=False))
    month_rows = []
    for j in range(3):
        bound = needed
        for k in range(1, lags_notice + 1):
            bound = bound + (most[k] - most[k - 1]) * (notice > _months(k - 1, j))
        if lags_term > 1:
            bound = MAX(bound, balanced_sum([a * (term > _months(k, j)) for k, a in enumerate(adds)]))
        if j == 2:
            month_rows.append(end_of_quarter.define(bound))
        else:
            month_rows.append(item(f"Servers under contract, month {j + 1} of the quarter", "servers", bound, total=False))
    months = item("Server-months under contract", "server-months", balanced_sum(month_rows))
    return most[1:] + adds + month_rows + [months], months, added


def _months(quarters: int, month: int):
    """Months from the start of a quarter ``quarters`` back to month ``month`` (0-2) of this quarter."""
    if quarters == 0:
        return Const(month)
    q = MONTHS_PER_QUARTER if quarters == 1 else MONTHS_PER_QUARTER * quarters
    return q + month if month else q
