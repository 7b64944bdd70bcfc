"""Owned hardware: capex per replica bought when the fleet grows (and replaced at the end of its
economic life), one depreciation corkscrew per purchase quarter, power, hosting, maintenance, staff
and licences."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tcomodel.finance.context import Context, balanced_sum, escalation
from tcomodel.finance.model import CHECK_DECIMALS, QUARTERS_PER_YEAR, Section
from tcomodel.finance.options.common import (
    cash_pl_check, category_section, finish, frame, running_category, running_parts, self_hosted_load,
    staff_and_licences,
)
from tcomodel.sheet.expr import (
    HOURS_PER_QUARTER, IF, MAX, MIN, MONTHS_PER_QUARTER, ROUND, Const, Item, index, inp, item, prev, timeline, total,
)


def build(ctx: Context, oid: str, opt, capacity):
    fr = frame(ctx, oid, opt)
    reg, ccy, n = ctx.reg, ctx.ccy, ctx.n
    load = self_hosted_load(ctx, fr, capacity, never_shrinks=True)
    fleet = load.fleet
    cx = ctx.scenario.capex[oid]
    fx = ctx.fx(cx.currency)
    g = "Hardware and hosting prices"
    cp = f"{oid}.capex"

    def cost(fieldname, label):
        return reg.from_record(cx, fieldname, cp, f"{oid}: {label}", cx.currency, g)

    hardware = item("Resaleable hardware per replica (server and GPUs)", ccy,
                    (cost("server_cost_per_replica", "server cost per replica")
                     + cost("gpu_cost_per_replica", "GPU cost per replica")) * fx)
    unit_cost = item("Capex per replica", ccy,
                     hardware + (cost("network_cost_per_replica", "network cost per replica")
                                 + cost("install_cost_per_replica", "install cost per replica")) * fx)
    salvage = reg.from_record(cx, "salvage_share", cp, f"{oid}: book salvage share", "share", "Financing")
    life_q = int(round(cx.book_life_years * 4))
    econ_q = int(round(cx.economic_life_years * 4)) if cx.economic_life_years is not None else None
    life = reg.scalar(f"{cp}.book_life_quarters", life_q, f"{oid}: book life", "quarters",
                      cx.source, cx.cell("book_life_years") + " (years x 4)", "Financing")
    # structural, not an input: it sets which vintages are replaced (a number cell the formulas reference)
    econ = None if econ_q is None else item(
        f"Economic life ({cx.cell('economic_life_years')} x 4; sets which vintages are replaced)", "quarters",
        Const(econ_q))
    resale = resale_row(ctx, oid)
    growth = item("Replicas added (fleet growth)", "replicas", fleet - prev(fleet, 0))
    v = vintages(n, growth, unit_cost, hardware, resale, salvage, (life_q, life), (econ_q, econ),
                 cx.depreciation_method, ccy)
    last = timeline("last_flag")
    retire_loss = item("Loss (gain) on hardware retired", ccy, v.book_retired - v.proceeds)
    end_loss = item("Loss (gain) on the horizon-end valuation (book value - market value)", ccy,
                    v.nbv * last - v.end_value)
    paid_at_start = reg.scalar("capex_paid_at_start", 1 if ctx.scenario.settings.capex_paid_at == "start" else 0,
                               "Capex paid at the start of the quarter (1) or its end (0)", "flag",
                               ctx.scenario.settings.sources.get("capex_paid_at", ""),
                               ctx.scenario.settings.cells.get("capex_paid_at", "Scenario (blank: default start)"),
                               "Financing")
    start_pay = item("Capex paid at the start of its quarter", ccy, v.capex * paid_at_start)
    # a payment at the start of a quarter is worth (1 + r) of one at its end: the PV basis carries it forward
    carry = item("Capex carried to the quarter end (start-of-quarter payment, for PV)", ccy, start_pay * ctx.rate_q)
    cost_items = [hardware, unit_cost, growth, v.purchases, v.capex, v.depreciation, v.book_retired, v.proceeds,
                  retire_loss, v.nbv, v.negative, v.end_value, end_loss]
    # opex (owned)
    ox = ctx.scenario.opex[oid]
    fxo = ctx.fx(ox.currency)
    op = f"{oid}.opex"
    kw = reg.from_record(ox, "power_kw_per_replica", op, f"{oid}: IT power per replica", "kW", g)
    lf = reg.from_record(ox, "load_factor", op, f"{oid}: load factor", "share", g)
    pue = reg.from_record(ox, "pue", op, f"{oid}: PUE", "ratio", g)
    price = reg.from_record(ox, "power_price_per_kwh", op, f"{oid}: power price", f"{ox.currency}/kWh", g)
    pesc = escalation("Power price index", reg.from_record(ox, "power_escalation_annual", op,
                      f"{oid}: power price escalation", "per year", g, default=0.0))
    oesc = escalation("Other opex index", reg.from_record(ox, "other_escalation_annual", op,
                      f"{oid}: other opex escalation", "per year", g, default=0.0))
    energy = item("Energy at the meter", "kWh", fleet * kw * lf * pue * HOURS_PER_QUARTER)
    power = item("Power", ccy, energy * price * pesc * fxo)
    hosting = item("Hosting / colocation", ccy, fleet * reg.from_record(
        ox, "hosting_per_replica_per_month", op, f"{oid}: hosting per replica", f"{ox.currency}/month", g,
        default=0.0) * MONTHS_PER_QUARTER * oesc * fxo)
    maint = item("Maintenance", ccy, fleet * unit_cost * reg.from_record(
        ox, "maintenance_share_of_capex_annual", op, f"{oid}: maintenance share of capex", "per year", g,
        default=0.0) / QUARTERS_PER_YEAR * oesc)
    cost_items += [pesc, oesc, energy, power, hosting, maint]
    running = staff_and_licences(ctx, fr, other_index=oesc)
    if running is not None:
        cost_items += running.items
    opex = [power, hosting, maint] + running_parts(running)
    # cash never depends on book depreciation: capex out, market value in (at retirement and at the horizon end)
    cash = item("Cash cost", ccy, balanced_sum([v.capex] + opex) - v.proceeds - v.end_value)
    pl = item("P&L cost", ccy, balanced_sum([v.depreciation, retire_loss, end_loss] + opex))
    pv_basis = item("Cash cost, PV basis (capex carried to the quarter end)", ccy, cash + carry)
    dd = item("Depreciation and disposals", ccy, v.depreciation + retire_loss + end_loss)
    categories = {dd.label: dd, "Power": power, "Hosting and maintenance": item("Hosting and maintenance", ccy, hosting + maint)}
    running_category(ctx, running, categories)
    fr.sections.append(Section("Costs", cost_items))
    fr.sections.append(Section("Cost", [cash, pl, start_pay, carry, pv_basis]))
    category_section(fr, categories, cost_items)
    fr.sections.append(Section("Asset vintages: one corkscrew per purchase quarter", v.rows))
    # cash - P&L: market values (at retirement, at the horizon end) enter both and cancel; what is left is the
    # capex not yet expensed as depreciation or written off at retirement, i.e. the book value at the end
    nbv_end = index(v.nbv, inp("horizon_quarters"))
    implied = total(v.capex) - total(v.depreciation) - total(v.book_retired) - nbv_end
    # and the book values close: together the two say cash and P&L agree over the horizon
    closes = item(f"Capex - depreciation - book value retired - book value at the horizon end, {oid}", ccy,
                  ROUND(implied, CHECK_DECIMALS))
    checks = [cash_pl_check(ctx, oid, cash, pl, implied,
                            "capex - depreciation - book value retired - book value at the horizon end"),
              (f"{oid}: book values close: capex - depreciation - book value retired = book value at the horizon "
               "end", closes),
              load.capacity_check]
    return finish(ctx, fr, "owned", checks=checks, cash=cash, pl=pl, cash_bridge=_cash_bridge(v, categories),
                  served_in=load.served_in, served_out=load.served_out, categories=categories, fleet=fleet,
                  utilization=load.utilization, throughput_tok_s=load.throughput_tok_s, replica_months=load.replica_months,
                  capacity_tokens_per_replica_month=load.cap_tokens_rm, nbv_total=v.nbv, depreciation=v.depreciation,
                  nbv_negative=v.negative, vintage_checks=v.checks, vintage_blocks=v.blocks, pv_basis=pv_basis,
                  start_payments=start_pay)


def _cash_bridge(v, categories) -> list:
    """cash - P&L = capex - (depreciation and disposals) - market values received: the Annual sheet's bridge."""
    disposals = categories["Depreciation and disposals"]
    return [("Capex paid", v.capex, 1), ("Depreciation and disposals (not cash)", disposals, -1),
            ("Market value of hardware retired", v.proceeds, -1), ("Market value at the horizon end", v.end_value, -1)]


def resale_curve_shares(points, n_quarters: int) -> list[float]:
    """Resale share at ages 1..n quarters: linear between the curve's points, 100% when new, flat after the last."""
    ages = [0.0] + [p.age_years for p in points]
    shares = [1.0] + [p.resale_share for p in points]
    if points and points[0].age_years == 0:
        ages, shares = ages[1:], shares[1:]
    return [float(np.interp(k / 4.0, ages, shares)) for k in range(1, n_quarters + 1)]


def resale_row(ctx: Context, oid: str):
    """The resale curve as a row by age in quarters (the column of quarter k holds the share at age k)."""
    points = ctx.scenario.resale.get(oid, [])
    n = ctx.n
    if points:
        values = resale_curve_shares(points, n)
        origin = f"{points[0].cell('resale_share')}:{points[-1].cell('resale_share').split('!')[1]} (linear by age)"
        source = points[0].source
    else:
        values = [0.0] * n
        origin = "no Resale rows: no resale value assumed"
        source = "no resale curve given for this option"
        ctx.warnings.append((oid, "no resale curve on the Resale sheet: the hardware is assumed worth nothing at "
                                  "retirement and at the horizon end"))
    return ctx.reg.row(f"{oid}.resale_share_by_age", values,
                       f"{oid}: resale share of price at age = quarter # (quarters since purchase)", "share", source,
                       origin, "Hardware and hosting prices", engine=bool(points))


@dataclass(frozen=True)
class Vintages:
    """The rows of the per-purchase-quarter corkscrews and their sums."""

    rows: list  # every vintage's items, in sheet order
    purchases: Item  # units bought per quarter, all vintages
    capex: Item
    depreciation: Item
    book_retired: Item
    proceeds: Item  # resale at retirement
    end_value: Item  # market value at the horizon end (deemed sale)
    nbv: Item  # closing net book value, all vintages
    checks: list  # (nbv item, salvage item) pairs
    blocks: list  # (units bought item, the vintage's rows), per vintage: the report collapses empty ones
    negative: Item  # sum of negative book values over vintages (check)


def vintages(n, growth, unit_cost, hardware, resale, salvage, life, econ, method, ccy) -> Vintages:
    """One corkscrew per purchase quarter (vintage), so every purchase has its own schedule.

    A vintage's units = replicas added that quarter + units of the vintage retired that quarter at the end of
    its economic life (replacement). Depreciation runs over the book life (an accounting choice). At retirement
    the hardware is sold at its market value (resale curve x the resaleable part of its cost) and its book value
    leaves the books; at the horizon end the vintages still in service are valued at market (deemed sale).
    ``life``: the book life in quarters and its input item (structural: the sweep and the cases never vary it, and
    the report's stale-input guard asks for a rebuild if it is edited there). ``econ``: the economic life in
    quarters (sets which vintages are replaced) and its number-cell item, or (None, None).

    Each vintage's purchase quarter is a number in its own cell (the first row of its block), which its
    formulas reference instead of typing the quarter.

    Evaluation: the closing book value (with the book value retired, and declining-balance depreciation, which
    read the opening balance) is a true recurrence, stepped period by period; the vintages share one shape, so
    the engine steps them together as one purchase x period block (``sheet.plan.step_group``), one loop
    over the periods for all vintages. Everything else here is evaluated row at a time.
    """
    econ_q, econ_life = econ
    life_q, life = life
    horizon = inp("horizon_quarters")
    rows = [econ_life] if econ_life is not None else []
    units_by_v: dict[int, object] = {}
    bought: dict[int, Item] = {}
    adds, deps, outs, procs, ends, nbvs, checks, blocks = [], [], [], [], [], [], [], []
    last = timeline("last_flag")
    for v in range(1, n + 1):
        bought_q = item(f"Vintage {v}: purchase quarter", "quarter #", Const(v))
        base_units = index(growth, bought_q)
        if econ_q is not None and v > econ_q:
            units_expr = base_units + units_by_v[v - econ_q]
        else:
            units_expr = base_units
        units = item(f"Vintage {v}: units bought", "replicas", units_expr)
        units_by_v[v] = units
        bought[v] = bought_q
        cost_v = item(f"Vintage {v}: cost", ccy, units * unit_cost)
        salv_v = item(f"Vintage {v}: book salvage value", ccy, cost_v * salvage)
        # a vintage's rows are 0 by construction before its purchase quarter (age 0), its additions after it, its
        # depreciation after its book life or retirement, its retirement rows outside its retirement quarter and
        # its horizon-end value before the last quarter: the report leaves those cells blank (Item.first_period)
        first = v - 1
        retire_q = v - 1 + econ_q - 1 if econ_q is not None else None  # 0-based quarter its economic life ends
        dep_last = first + life_q - 1  # its last quarter of book life (age = life)
        never = n  # no cell at all
        age = item(f"Vintage {v}: age", "quarters", MAX(0, timeline("qidx") - bought_q + 1), total=False,
                   first_period=first)
        add = item(f"Vintage {v}: additions", ccy, cost_v * (age.eq(1)) * 1, first_period=first, last_period=first)
        in_life = (age >= 1) * (age <= life)
        retires_inside = econ_q is not None and econ_q <= n - v + 1
        if econ_q is not None:
            in_life = in_life * (age <= econ_life)  # a retired vintage no longer depreciates
        nbv_holder = item(f"Vintage {v}: net book value, closing", ccy, total=False, first_period=first)
        opening = prev(nbv_holder, 0) + add
        if method == "straight_line":
            dep_expr = in_life * (cost_v - salv_v) / life
        elif method == "sum_of_years":
            dep_expr = in_life * (cost_v - salv_v) * (life - age + 1) * 2 / (life * (life + 1))
        else:  # declining_balance: double declining (Excel DDB), the last year takes the rest down to salvage
            dep_expr = in_life * IF(age >= life, opening - salv_v, MIN(opening * 2 / life, opening - salv_v))
        if retires_inside:
            dep_last = min(dep_last, retire_q)  # a retired vintage no longer depreciates
        dep = item(f"Vintage {v}: depreciation", ccy, dep_expr * 1, first_period=first, last_period=dep_last)
        if retires_inside:
            retire = age.eq(econ_life) * 1
            out = item(f"Vintage {v}: book value retired", ccy, retire * (opening - dep), first_period=retire_q,
                       last_period=retire_q)
            proc = item(f"Vintage {v}: resale proceeds at retirement", ccy,
                        retire * units * hardware * index(resale, econ_life), first_period=retire_q, last_period=retire_q)
            end = item(f"Vintage {v}: market value at horizon end", ccy, Const(0) * age, first_period=never)
        else:
            out = item(f"Vintage {v}: book value retired", ccy, Const(0) * age, first_period=never)
            proc = item(f"Vintage {v}: resale proceeds at retirement", ccy, Const(0) * age, first_period=never)
            end = item(f"Vintage {v}: market value at horizon end", ccy,
                       last * units * hardware * index(resale, horizon - bought_q + 1), first_period=n - 1)
        nbv_holder.define(opening - dep - out)
        rows += [bought_q, units, cost_v, salv_v, age, add, dep, out, proc, nbv_holder, end]
        blocks.append((units, rows[-11:]))
        adds.append(add)
        deps.append(dep)
        outs.append(out)
        procs.append(proc)
        ends.append(end)
        nbvs.append(nbv_holder)
        checks.append((nbv_holder, salv_v))
    purchases = item("Replicas bought (growth + replacements)", "replicas",
                     balanced_sum([units_by_v[v] * (timeline("qidx").eq(bought[v])) for v in range(1, n + 1)]))
    # per vintage: a newer vintage must not hide an older one going negative
    neg = item("Negative net book value, any vintage (check)", ccy, balanced_sum([MAX(0, -1 * x) for x in nbvs]),
               total=True)
    return Vintages(rows=rows, purchases=purchases, capex=item("Capex", ccy, balanced_sum(adds)),
                    depreciation=item("Depreciation", ccy, balanced_sum(deps)),
                    book_retired=item("Book value of hardware retired", ccy, balanced_sum(outs)),
                    proceeds=item("Resale proceeds at retirement", ccy, balanced_sum(procs)),
                    end_value=item("Market value at horizon end (deemed sale)", ccy, balanced_sum(ends)),
                    nbv=item("Net book value, closing", ccy, balanced_sum(nbvs), total=False), checks=checks, blocks=blocks,
                    negative=neg)
