"""Rented server: a monthly fee per server (one replica), a setup fee per server added, staff and
licences."""

from __future__ import annotations

from tcomodel.finance.context import Context, balanced_sum, escalation
from tcomodel.finance.model import Section
from tcomodel.finance.options.common import (
    category_section, finish, frame, running_category, running_parts, self_hosted_load, staff_and_licences,
)
from tcomodel.sheet.expr import MAX, MONTHS_PER_QUARTER, item, prev


def build(ctx: Context, oid: str, opt, capacity):
    fr = frame(ctx, oid, opt)
    reg, ccy = ctx.reg, ctx.ccy
    load = self_hosted_load(ctx, fr, capacity, never_shrinks=False)
    fleet = load.fleet
    rt = ctx.scenario.rental[oid]
    fx = ctx.fx(rt.currency)
    rp = f"{oid}.rental"
    g = "Hardware and hosting prices"
    fee_input = f"{rp}.fee_per_replica_per_month"
    fee = reg.from_record(rt, "fee_per_replica_per_month", rp, f"{oid}: monthly fee per server",
                          f"{rt.currency}/month", g)
    fesc = escalation("Fee index", reg.from_record(rt, "fee_escalation_annual", rp, f"{oid}: fee escalation",
                                                   "per year", g, default=0.0))
    fee_units = item("Fee units (server-months x index x FX)", "months", fleet * MONTHS_PER_QUARTER * fesc * fx)
    fee_cost = item("Server fees", ccy, fee_units * fee)
    new_units = item("Servers added", "servers", MAX(0, fleet - prev(fleet, 0)))
    setup = item("Setup fees", ccy, new_units * reg.from_record(
        rt, "setup_fee_per_replica", rp, f"{oid}: setup fee per server", rt.currency, g, default=0.0) * fx)
    cost_items = [fesc, fee_units, fee_cost, new_units, setup]
    parts = [fee_cost, setup]
    categories = {"Server rental": item("Server rental and setup", ccy, fee_cost + setup)}
    running = staff_and_licences(ctx, fr)
    if running is not None:
        cost_items += running.items
    parts += running_parts(running)
    running_category(ctx, running, categories)
    cash = item("Cash cost", ccy, balanced_sum(parts))
    pl = item("P&L cost", ccy, balanced_sum(parts))
    fr.sections.append(Section("Costs", cost_items))
    fr.sections.append(Section("Cost", [cash, pl]))
    category_section(fr, categories, cost_items)
    return finish(ctx, fr, "rented_server", cash=cash, pl=pl, served_in=load.served_in, served_out=load.served_out,
                  categories=categories, fleet=fleet, utilization=load.utilization, throughput_tok_s=load.throughput_tok_s,
                  fee_units=fee_units, fee_input=fee_input, replica_months=load.replica_months,
                  capacity_tokens_per_replica_month=load.cap_tokens_rm)
