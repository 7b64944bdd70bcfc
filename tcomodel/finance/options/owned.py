"""Owned hardware: capex per replica bought when the fleet grows (and replaced at the end of its
economic life), one depreciation corkscrew per purchase quarter, power, hosting, maintenance, staff
and licences."""

from __future__ import annotations

from tcomodel.finance.context import Context, balanced_sum, escalation
from tcomodel.finance.model import QUARTERS_PER_YEAR, Section
from tcomodel.finance.options.common import (
    category_section, finish, frame, running_category, running_parts, self_hosted_load, staff_and_licences,
)
from tcomodel.sheet.expr import (
    HOURS_PER_QUARTER, IF, MAX, MIN, MONTHS_PER_QUARTER, Const, index, item, prev, timeline,
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
    unit_cost = item("Capex per replica", ccy,
                     (reg.from_record(cx, "server_cost_per_replica", cp, f"{oid}: server cost per replica", cx.currency, g)
                      + reg.from_record(cx, "gpu_cost_per_replica", cp, f"{oid}: GPU cost per replica", cx.currency, g)
                      + reg.from_record(cx, "network_cost_per_replica", cp, f"{oid}: network cost per replica", cx.currency, g)
                      + reg.from_record(cx, "install_cost_per_replica", cp, f"{oid}: install cost per replica", cx.currency, g))
                     * fx)
    salvage = reg.from_record(cx, "salvage_share", cp, f"{oid}: salvage share", "share", "Financing")
    life_q = int(round(cx.book_life_years * 4))
    econ_q = int(round(cx.economic_life_years * 4)) if cx.economic_life_years is not None else None
    life = reg.scalar(f"{cp}.book_life_quarters", life_q, f"{oid}: book life", "quarters",
                      cx.source, cx.cell("book_life_years") + " (years x 4)", "Financing")
    growth = item("Replicas added (fleet growth)", "replicas", fleet - prev(fleet, 0))
    v = vintages(n, growth, unit_cost, salvage, life, econ_q, cx.depreciation_method, ccy)
    residual = item("Residual value returned at horizon end (NBV)", ccy, v.nbv * timeline("last_flag"))
    cost_items = [unit_cost, growth, v.purchases, v.capex, v.depreciation, v.write_offs, v.disposals, v.nbv,
                  v.negative, residual]
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
    cash_parts = [v.capex, power, hosting, maint]
    pl_parts = [v.depreciation, v.write_offs, power, hosting, maint]
    categories = {"Depreciation and write-offs": item("Depreciation and write-offs", ccy, v.depreciation + v.write_offs),
                  "Power": power, "Hosting and maintenance": item("Hosting and maintenance", ccy, hosting + maint)}
    running = staff_and_licences(ctx, fr, other_index=oesc)
    if running is not None:
        cost_items += running.items
    cash_parts += running_parts(running)
    pl_parts += running_parts(running)
    running_category(ctx, running, categories)
    cash = item("Cash cost", ccy, balanced_sum(cash_parts) - v.disposals - residual)
    pl = item("P&L cost", ccy, balanced_sum(pl_parts))
    fr.sections.append(Section("Costs", cost_items))
    fr.sections.append(Section("Cost", [cash, pl]))
    category_section(fr, categories, cost_items)
    fr.sections.append(Section("Asset vintages: one corkscrew per purchase quarter", v.rows))
    return finish(ctx, fr, "owned", cash=cash, pl=pl, served_in=load.served_in, served_out=load.served_out,
                  categories=categories, fleet=fleet, utilization=load.utilization, throughput_tok_s=load.throughput_tok_s,
                  replica_months=load.replica_months, capacity_tokens_per_replica_month=load.cap_tokens_rm,
                  nbv_total=v.nbv, nbv_negative=v.negative, vintage_checks=v.checks)


class Vintages:
    """The rows of the per-purchase-quarter corkscrews and their sums."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


def vintages(n, growth, unit_cost, salvage, life, econ_q, method, ccy) -> Vintages:
    """One corkscrew per purchase quarter (vintage), so every purchase has its own schedule.

    A vintage's units = replicas added that quarter + units of the vintage retired that quarter at the
    end of the economic life (replacement). Depreciation runs over the book life; at the end of the
    economic life the remaining book value above salvage is written off and salvage is received.
    """
    rows = []
    units_by_v: dict[int, object] = {}
    adds, deps, wos, disps, nbvs, checks = [], [], [], [], [], []
    for v in range(1, n + 1):
        base_units = index(growth, v)
        if econ_q is not None and v > econ_q:
            units_expr = base_units + units_by_v[v - econ_q]
        else:
            units_expr = base_units
        units = item(f"Vintage {v}: units bought", "replicas", units_expr)
        units_by_v[v] = units
        cost_v = item(f"Vintage {v}: cost", ccy, units * unit_cost)
        salv_v = item(f"Vintage {v}: salvage value", ccy, cost_v * salvage)
        age = item(f"Vintage {v}: age", "quarters", MAX(0, timeline("qidx") - (v - 1)), total=False)
        add = item(f"Vintage {v}: additions", ccy, cost_v * (age.eq(1)) * 1)
        in_life = (age >= 1) * (age <= life)
        if econ_q is not None:
            in_life = in_life * (age <= econ_q)  # a retired vintage no longer depreciates
        nbv_holder = item(f"Vintage {v}: net book value, closing", ccy, total=False)
        opening = prev(nbv_holder, 0) + add
        if method == "straight_line":
            dep_expr = in_life * (cost_v - salv_v) / life
        elif method == "sum_of_years":
            dep_expr = in_life * (cost_v - salv_v) * (life - age + 1) * 2 / (life * (life + 1))
        else:  # declining_balance: double declining (Excel DDB), the last year takes the rest down to salvage
            dep_expr = in_life * IF(age >= life, opening - salv_v, MIN(opening * 2 / life, opening - salv_v))
        dep = item(f"Vintage {v}: depreciation", ccy, dep_expr * 1)
        if econ_q is not None:
            retire = age.eq(econ_q) * 1
            wo = item(f"Vintage {v}: write-off at retirement", ccy, retire * MAX(0, opening - dep - salv_v))
            disp = item(f"Vintage {v}: salvage received at retirement", ccy, retire * MIN(salv_v, opening - dep - wo))
        else:
            wo = item(f"Vintage {v}: write-off at retirement", ccy, Const(0) * age)
            disp = item(f"Vintage {v}: salvage received at retirement", ccy, Const(0) * age)
        nbv_holder.define(opening - dep - wo - disp)
        rows += [units, cost_v, salv_v, age, add, dep, wo, disp, nbv_holder]
        adds.append(add)
        deps.append(dep)
        wos.append(wo)
        disps.append(disp)
        nbvs.append(nbv_holder)
        checks.append((nbv_holder, salv_v))
    purchases = item("Replicas bought (growth + replacements)", "replicas",
                     balanced_sum([units_by_v[v] * (timeline("qidx").eq(v)) * 1 for v in range(1, n + 1)]))
    # per vintage: a newer vintage must not hide an older one going negative
    neg = item("Negative net book value, any vintage (check)", ccy, balanced_sum([MAX(0, -1 * x) for x in nbvs]),
               total=True)
    return Vintages(rows=rows, purchases=purchases, capex=item("Capex", ccy, balanced_sum(adds)),
                    depreciation=item("Depreciation", ccy, balanced_sum(deps)),
                    write_offs=item("Write-offs at retirement", ccy, balanced_sum(wos)),
                    disposals=item("Salvage received", ccy, balanced_sum(disps)),
                    nbv=item("Net book value, closing", ccy, balanced_sum(nbvs), total=False), checks=checks, negative=neg)
