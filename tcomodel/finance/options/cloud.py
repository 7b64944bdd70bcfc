"""Cloud GPU: whole replicas on reserved, spot and on-demand tiers, staff and licences.

A reserved replica is gpus_per_replica GPUs of one tier held for a commitment term (1 or 3 years) and
paid every hour of the term whether used or not. Its rate is a contract price: fixed for the term at
the rate index of the term's first quarter; the term renews at the then-current rate only while a
whole new term fits in the horizon. Upfront payments are cash in the term's first quarter; the P&L
spreads the term's cost evenly over its quarters (a prepaid expense). Replica-hours beyond the
reservation run on spot (with the interruption overhead) or on demand, at rates that follow the
price trend every quarter.
"""

from __future__ import annotations

from tcomodel.finance.context import Context, balanced_sum, escalation
from tcomodel.finance.model import SECONDS_PER_HOUR, Section
from tcomodel.finance.options.common import (
    cash_pl_check, category_section, finish, frame, running_category, running_parts, self_hosted_load,
    staff_and_licences,
)
from tcomodel.sheet.expr import CEILING, HOURS_PER_QUARTER, IF, MAX, MIN, index, inp, item, prev, timeline, total

_UPFRONT = {"none": 0.0, "all": 1.0}


def build(ctx: Context, oid: str, opt, capacity):
    fr = frame(ctx, oid, opt)
    reg, ccy, s = ctx.reg, ctx.ccy, ctx.scenario.settings
    load = self_hosted_load(ctx, fr, capacity, never_shrinks=False)
    fleet, cap, gpus = load.fleet, load.cap, load.gpus
    cr = ctx.scenario.cloud_rates[oid]
    fx = ctx.fx(cr.currency)
    cp = f"{oid}.cloud"
    g, u = "Hardware and hosting prices", "Utilization and throughput"
    od = reg.from_record(cr, "on_demand_per_gpu_hour", cp, f"{oid}: on-demand rate", f"{cr.currency}/GPU-h", g)
    rs = reg.from_record(cr, "reserved_per_gpu_hour", cp, f"{oid}: reserved rate (effective, term's payment option)",
                         f"{cr.currency}/GPU-h", g, default=cr.on_demand_per_gpu_hour)
    sp = reg.from_record(cr, "spot_per_gpu_hour", cp, f"{oid}: spot rate", f"{cr.currency}/GPU-h", g,
                         default=cr.on_demand_per_gpu_hour)
    n_res = reg.from_record(cr, "reserved_replicas", cp, f"{oid}: reserved replicas", "replicas", u, default=0.0)
    term_years = cr.commitment_term_years or 1  # blank only without a reservation (the loader checks)
    term_q = reg.scalar(f"{cp}.commitment_term_quarters", term_years * 4, f"{oid}: commitment term", "quarters",
                        cr.source, cr.cell("commitment_term_years")
                        + (" (years x 4)" if cr.commitment_term_years else " (blank: 1 year)"), "Financing")
    if cr.reservation_start_quarter is not None:
        res_start = reg.scalar(f"{cp}.reservation_start_qidx", cr.reservation_start_quarter - s.first_quarter + 1,
                               f"{oid}: first quarter of the reservation (#)", "quarter #", cr.source,
                               cr.cell("reservation_start_quarter"), "Financing")
    else:
        res_start = inp(f"{oid}.start_qidx")  # blank: the option's first quarter served
    paid_ahead = _upfront_share(reg, cr, cp, oid)
    horizon = reg.scalar("horizon_quarters", ctx.n, "Quarters in the horizon", "quarters",
                         s.sources.get("horizon_quarters", ""), s.cells.get("horizon_quarters"), "Other")
    ssh = reg.from_record(cr, "spot_share", cp, f"{oid}: spot share of replica-hours beyond the reservation", "share", u)
    ovh = reg.from_record(cr, "spot_interruption_overhead", cp, f"{oid}: spot interruption overhead", "share", u)
    resc = escalation("Rate index (on-demand and spot)", reg.from_record(
        cr, "rate_escalation_annual", cp, f"{oid}: rate escalation", "per year", g, default=0.0))

    # Reservation terms: numbered from the reservation start; a term is taken only if it ends within the horizon.
    qidx = timeline("qidx")
    term_no = item("Reservation term number (0 = before the first)", "term #",
                   CEILING(MAX(0, qidx - res_start + 1) / term_q, 1), total=False)
    in_term = item("In a reservation term that ends within the horizon", "flag",
                   (term_no >= 1) * (res_start + term_no * term_q - 1 <= horizon), total=False)
    term_first = item("First quarter of a reservation term", "flag",
                      in_term * (qidx - res_start).eq((term_no - 1) * term_q), total=False)
    res_repl = item("Reserved replicas", "replicas", n_res * in_term, total=False)
    # a contract price: the rate index of the term's first quarter, held to the term's end
    res_index = item("Reserved rate index (fixed at the term's first quarter)", "index",
                     lambda me: IF(term_first, resc, prev(me, 0)) * in_term, total=False)

    # One replica stays up all quarter; above that, replica-hours follow the average load (autoscaling);
    # the spare replicas (N+k) are kept up all quarter as warm standbys.
    demand_rh = item("Replica-hours to serve the load (spares kept up)", "replica-h",
                     MAX(load.decoded_out / (cap * SECONDS_PER_HOUR), fr.active * 1 * HOURS_PER_QUARTER)
                     + load.spare * fr.active * HOURS_PER_QUARTER)
    res_rh = item("Reserved replica-hours (paid whether used or not)", "replica-h", res_repl * HOURS_PER_QUARTER)
    res_used = item("Reserved replica-hours used", "replica-h", MIN(demand_rh, res_rh))
    beyond = item("Replica-hours beyond the reservation", "replica-h", MAX(0, demand_rh - res_rh))
    spot_rh = item("Spot replica-hours (with interruption overhead)", "replica-h", beyond * ssh * (1 + ovh))
    od_rh = item("On-demand replica-hours", "replica-h", beyond * (1 - ssh))
    res_gh = item("Reserved GPU-hours", "GPU-h", res_rh * gpus)
    spot_gh = item("Spot GPU-hours", "GPU-h", spot_rh * gpus)
    od_gh = item("On-demand GPU-hours", "GPU-h", od_rh * gpus)
    res_cost = item("Reserved cost (P&L: the term's cost spread evenly)", ccy, res_gh * rs * res_index * fx)
    spot_cost = item("Spot cost", ccy, spot_gh * sp * resc * fx)
    od_cost = item("On-demand cost", ccy, od_gh * od * resc * fx)
    # Cash: the upfront part of the whole term in its first quarter, the rest as the quarters pass.
    upfront_paid = item("Reservation paid upfront (cash, term's first quarter)", ccy,
                        term_first * paid_ahead * term_q * res_cost)
    res_as_used = item("Reservation paid as the term runs (cash)", ccy, (1 - paid_ahead) * res_cost)
    prepaid_used = item("Prepaid reservation expensed", ccy, paid_ahead * res_cost)
    prepaid = item("Prepaid reservation, closing", ccy, lambda me: prev(me, 0) + upfront_paid - prepaid_used,
                   total=False)
    gpu_pl = item("Cloud GPU cost (P&L)", ccy, res_cost + spot_cost + od_cost)
    gpu_cash = item("Cloud GPU cost (cash)", ccy, upfront_paid + res_as_used + spot_cost + od_cost)
    cost_items = [resc, term_no, in_term, term_first, res_repl, res_index, demand_rh, res_rh, res_used, beyond,
                  spot_rh, od_rh, res_gh, spot_gh, od_gh, res_cost, spot_cost, od_cost, upfront_paid, res_as_used,
                  prepaid_used, prepaid, gpu_pl, gpu_cash]
    cash_parts, pl_parts = [gpu_cash], [gpu_pl]
    categories = {"Cloud GPU-hours": gpu_pl}
    running = staff_and_licences(ctx, fr)
    if running is not None:
        cost_items += running.items
    cash_parts += running_parts(running)
    pl_parts += running_parts(running)
    running_category(ctx, running, categories)
    cash = item("Cash cost", ccy, balanced_sum(cash_parts))
    pl = item("P&L cost", ccy, balanced_sum(pl_parts))
    fr.sections.append(Section("Costs", cost_items))
    fr.sections.append(Section("Cost", [cash, pl]))
    category_section(fr, categories, cost_items)
    # terms never run past the horizon, so every prepayment is expensed by its end
    left = item(f"Prepaid reservation left at the horizon end, {oid}", ccy, index(prepaid, horizon))
    # cash pays reservations upfront, the P&L expenses them as the term runs: the difference is the prepaid flows
    gap = cash_pl_check(ctx, oid, cash, pl, total(upfront_paid) - total(prepaid_used),
                        "reservations paid upfront - prepaid reservations expensed")
    # cash - P&L = reservations paid upfront - prepaid reservations expensed (rows only where some is paid upfront)
    bridge = [] if (cr.upfront or "none") == "none" else [
        ("Reservation paid upfront", upfront_paid, 1), ("Prepaid reservation expensed (not cash)", prepaid_used, -1)]
    return finish(ctx, fr, "cloud_gpu", cash=cash, pl=pl, cash_bridge=bridge, served_in=load.served_in,
                  served_out=load.served_out, categories=categories, fleet=fleet, utilization=load.utilization,
                  throughput_tok_s=load.throughput_tok_s,
                  replica_months=load.replica_months, capacity_tokens_per_replica_month=load.cap_tokens_rm,
                  checks=[(f"{oid}: prepaid reservation expensed by the horizon end", left), gap, load.capacity_check])


def _upfront_share(reg, cr, cp: str, oid: str):
    """Share of a term's reserved cost paid at its start: none 0, all 1, partial upfront_share."""
    choice = cr.upfront or "none"
    if choice == "partial":
        return reg.from_record(cr, "upfront_share", cp, f"{oid}: upfront share of the term's cost", "share", "Financing")
    origin = cr.cell("upfront") + (f" (upfront {choice})" if cr.upfront else " (blank: none)")
    return reg.scalar(f"{cp}.upfront_share", _UPFRONT[choice], f"{oid}: upfront share of the term's cost", "share",
                      cr.source, origin, "Financing")

