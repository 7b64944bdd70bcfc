"""Cloud GPU: GPU-hours at on-demand, reserved and spot rates, staff and licences."""

from __future__ import annotations

from tcomodel.finance.context import Context, balanced_sum, escalation
from tcomodel.finance.model import SECONDS_PER_HOUR, Section
from tcomodel.finance.options.common import (
    category_section, finish, frame, running_category, running_parts, self_hosted_load, staff_and_licences,
)
from tcomodel.sheet.expr import HOURS_PER_QUARTER, MAX, item


def build(ctx: Context, oid: str, opt, capacity):
    fr = frame(ctx, oid, opt)
    reg, ccy = ctx.reg, ctx.ccy
    load = self_hosted_load(ctx, fr, capacity, never_shrinks=False)
    fleet, cap, gpus = load.fleet, load.cap, load.gpus
    cr = ctx.scenario.cloud_rates[oid]
    fx = ctx.fx(cr.currency)
    cp = f"{oid}.cloud"
    g = "Hardware and hosting prices"
    od = reg.from_record(cr, "on_demand_per_gpu_hour", cp, f"{oid}: on-demand rate", f"{cr.currency}/GPU-h", g)
    rs = reg.from_record(cr, "reserved_per_gpu_hour", cp, f"{oid}: reserved rate", f"{cr.currency}/GPU-h", g,
                         default=cr.on_demand_per_gpu_hour)
    sp = reg.from_record(cr, "spot_per_gpu_hour", cp, f"{oid}: spot rate", f"{cr.currency}/GPU-h", g,
                         default=cr.on_demand_per_gpu_hour)
    rsh = reg.from_record(cr, "reserved_share", cp, f"{oid}: reserved share of peak fleet", "share",
                          "Utilization and throughput")
    ssh = reg.from_record(cr, "spot_share", cp, f"{oid}: spot share of unreserved hours", "share",
                          "Utilization and throughput")
    ovh = reg.from_record(cr, "spot_interruption_overhead", cp, f"{oid}: spot interruption overhead", "share",
                          "Utilization and throughput")
    resc = escalation("Rate index", reg.from_record(cr, "rate_escalation_annual", cp, f"{oid}: rate escalation",
                                                    "per year", g, default=0.0))
    # One replica stays up all quarter; above that, hours follow the average load (autoscaling).
    demand_h = item("GPU-hours to serve the load", "GPU-h",
                    MAX(load.decoded_out / (cap * SECONDS_PER_HOUR), fr.active * 1 * HOURS_PER_QUARTER) * gpus)
    res_h = item("Reserved GPU-hours (paid whether used or not)", "GPU-h", fleet * rsh * gpus * HOURS_PER_QUARTER)
    unres = item("GPU-hours beyond the reservation", "GPU-h", MAX(0, demand_h - res_h))
    spot_h = item("Spot GPU-hours (with interruption overhead)", "GPU-h", unres * ssh * (1 + ovh))
    od_h = item("On-demand GPU-hours", "GPU-h", unres * (1 - ssh))
    gpu_cost = item("GPU rental", ccy, (res_h * rs + spot_h * sp + od_h * od) * resc * fx)
    cost_items = [resc, demand_h, res_h, unres, spot_h, od_h, gpu_cost]
    parts = [gpu_cost]
    categories = {"Cloud GPU-hours": gpu_cost}
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
    return finish(ctx, fr, "cloud_gpu", cash=cash, pl=pl, served_in=load.served_in, served_out=load.served_out,
                  categories=categories, fleet=fleet, utilization=load.utilization, throughput_tok_s=load.throughput_tok_s,
                  replica_months=load.replica_months, capacity_tokens_per_replica_month=load.cap_tokens_rm)
