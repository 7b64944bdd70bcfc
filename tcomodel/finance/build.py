"""Build the TCO line-item model from a validated scenario and the roofline capacities."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tcomodel.finance.model import (
    GROUPS,
    QUARTERS_PER_YEAR,
    SECONDS_PER_HOUR,
    Comparison,
    InputDef,
    OptionModel,
    RowInputDef,
    Section,
    TcoModel,
)
from tcomodel.sheet.expr import (
    CEILING,
    HOURS_PER_QUARTER,
    IF,
    IFERROR,
    MAX,
    MILLION,
    MIN,
    MONTHS_PER_QUARTER,
    NA,
    Const,
    Item,
    index,
    inp,
    irr,
    item,
    npv,
    prev,
    row_input,
    sumproduct,
    timeline,
    total,
)


@dataclass
class Capacity:
    """Output tokens per second one replica sustains at the workload's operating point, per quarter."""

    output_tok_s_per_replica: np.ndarray
    source: str
    measured: bool = False


class _Registry:
    def __init__(self, scenario):
        self.scenario = scenario
        self.inputs: dict[str, InputDef] = {}
        self.rows: dict[str, RowInputDef] = {}

    def scalar(self, name, value, label, unit, source, origin, group, engine=False):
        if name not in self.inputs:
            self.inputs[name] = InputDef(name, float(value), label, unit, source or "", origin or "", group, engine)
        return inp(name)

    def from_record(self, rec, fieldname, prefix, label, unit, group, default=None, source=None):
        value = getattr(rec, fieldname)
        origin = rec.cell(fieldname)
        if value is None:
            value = default if default is not None else 0.0
            origin = f"{origin} (blank: default {value:g})"
        return self.scalar(f"{prefix}.{fieldname}", value, label, unit, source if source is not None else rec.source,
                           origin, group)

    def row(self, name, values, label, unit, source, origin, group, engine=False):
        if name not in self.rows:
            self.rows[name] = RowInputDef(name, np.asarray(values, dtype=float), label, unit, source, origin, group, engine)
        return row_input(name)


def _escalation(label, rate, unit="index"):
    return item(label, unit, (1 + rate) ** timeline("years_elapsed"), total=False)


def build_tco_model(scenario, capacities: dict[str, Capacity]) -> TcoModel:
    s = scenario.settings
    ccy = s.report_currency
    n = s.horizon_quarters
    reg = _Registry(scenario)
    quarters = scenario.quarters
    qidx = np.arange(1, n + 1, dtype=float)
    tl = {
        "qidx": qidx,
        "years_elapsed": (qidx - 1) / 4.0,
        "first_flag": (qidx == 1).astype(float),
        "last_flag": (qidx == n).astype(float),
    }

    # ---- general block: financing and demand --------------------------------------------------
    rate = reg.scalar("discount_rate_annual", s.discount_rate_annual, "Discount rate", "per year",
                      s.sources.get("discount_rate_annual", ""), s.cells.get("discount_rate_annual"), "Financing")
    tax = reg.scalar("tax_rate", s.tax_rate, "Tax rate", "share", s.sources.get("tax_rate", ""),
                     s.cells.get("tax_rate"), "Financing")
    r_q = item("Discount rate per quarter", "per quarter", (1 + rate) ** (1 / QUARTERS_PER_YEAR) - 1)
    disc = item("Discount factor (end of quarter)", "factor", 1 / (1 + r_q) ** timeline("qidx"), total=False)
    wl = scenario.workload

    def wrow(fieldname, label, unit, group, default=0.0):
        vals = [getattr(w, fieldname) if getattr(w, fieldname) is not None else default for w in wl]
        first, last = wl[0].cell(fieldname), wl[-1].cell(fieldname)
        return reg.row(f"workload.{fieldname}", vals, label, unit, wl[0].source, f"{first}:{last.split('!')[1]}", group)

    requests = wrow("requests", "Requests", "requests", "Workload volume")
    in_per_req = wrow("input_tokens_per_request", "Input tokens per request", "tokens", "Workload volume")
    out_per_req = wrow("output_tokens_per_request", "Output tokens per request", "tokens", "Workload volume")
    cache_hit = wrow("cache_hit_share", "Cache-hit share of input", "share", "Workload volume")
    cache_write = wrow("cache_write_share", "Cache-write share of input", "share", "Workload volume")
    batch_share = wrow("batch_eligible_share", "Batch-eligible share", "share", "Workload volume")
    lc_share = wrow("long_context_share", "Long-context share of requests", "share", "Workload volume")
    peak = wrow("peak_to_average", "Peak to average demand", "ratio", "Workload volume")

    d_in = item("Input tokens demanded", "tokens", requests * in_per_req)
    d_out = item("Output tokens demanded", "tokens", requests * out_per_req)
    d_tok = item("Tokens demanded", "tokens", d_in + d_out)
    secs = item("Seconds per quarter", "s", HOURS_PER_QUARTER * SECONDS_PER_HOUR, total=False)
    peak_out = item("Peak output rate demanded", "tok/s", d_out / secs * peak, total=False)
    general = [
        Section("Financing", [r_q, disc]),
        Section("Demand (from the Workload sheet)", [d_in, d_out, d_tok, secs, peak_out]),
    ]

    baseline_id = s.baseline_option
    option_models: dict[str, OptionModel] = {}
    for oid, opt in scenario.options.items():
        option_models[oid] = _build_option(reg, scenario, oid, opt, capacities.get(oid), d_in, d_out, peak_out, secs,
                                           r_q, tl, cache_hit, cache_write, batch_share, lc_share, in_per_req,
                                           out_per_req)

    base = option_models[baseline_id]

    comparisons: dict[str, Comparison] = {}
    for oid, om in option_models.items():
        if oid == baseline_id:
            continue
        # before an option starts serving, the baseline keeps serving: no saving in those quarters
        started = (timeline("qidx") >= inp(f"{oid}.start_qidx")) * 1
        incr = item(f"Saving vs {baseline_id} after tax", ccy,
                    ((base.cash_cost - om.cash_cost) - tax * (base.pl_cost - om.pl_cost)) * started)
        npv_item = item(f"NPV of switching to {oid}", ccy, npv(r_q, incr))
        # IRR only where switching starts with an outlay: otherwise there is no investment to earn a return on.
        irr_q = item("IRR per quarter", "per quarter",
                     IF(index(incr, 1) < 0, IFERROR(irr(incr), NA()), NA()))
        irr_a = item(f"IRR of switching to {oid}", "per year", IFERROR((1 + irr_q) ** QUARTERS_PER_YEAR - 1, NA()))
        cum = item("Cumulative saving", ccy, lambda me: prev(me, 0) + incr, total=False)
        payback, last_neg = _payback(cum, n, "Payback quarter (simple)")
        dcf = item("Discounted saving", ccy, incr * disc)
        dcum = item("Cumulative discounted saving", ccy, lambda me: prev(me, 0) + dcf, total=False)
        dpayback, dlast_neg = _payback(dcum, n, "Payback quarter (discounted)")
        # NPV at the IRR must be zero; written as a check where the IRR exists.
        at_irr = item("PV of savings at the IRR (0 where there is no IRR)", ccy,
                      IFERROR(incr / (1 + irr_q) ** timeline("qidx"), 0))
        npv_check = item(f"NPV at IRR, {oid}", ccy, IFERROR(total(at_irr), 0))
        comparisons[oid] = Comparison(oid, incr, npv_item, irr_q, irr_a, payback, dpayback,
                                      [incr, npv_item, irr_q, irr_a, cum, last_neg, payback, dcf, dcum,
                                       dlast_neg, dpayback, at_irr], npv_check)

    # ---- breakeven ----------------------------------------------------------------------------
    breakeven: list[Section] = []
    be_items = []
    for oid, om in option_models.items():
        if om.fee_units is None:
            continue
        fee = inp(om.fee_input)
        pv_units = item(f"PV of fee units, {oid}", "months", npv(r_q, om.fee_units))
        for other_id, other in option_models.items():
            if other_id == oid:
                continue
            be_items.append(item(f"Monthly fee of {oid} at which it costs the same as {other_id}", f"{ccy}/month",
                                 IFERROR(fee + (other.tco_pv - om.tco_pv) / pv_units, NA()),
                                 name=f"breakeven_fee:{oid}:{other_id}"))
        be_items.insert(len(be_items) - (len(option_models) - 1), pv_units)
    if be_items:
        breakeven.append(Section("Breakeven monthly fee (PV over the horizon)", be_items))
    vol_items = []
    api_per_token = {}
    for api_id, api in option_models.items():
        if api.kind == "hosted_api":
            api_per_token[api_id] = item(f"Levelized API cost per token, {api_id}", f"{ccy}/token",
                                         IFERROR(api.tco_pv / api.pv_tokens, NA()), name=f"api_per_token:{api_id}")
    if api_per_token:
        breakeven.append(Section("Levelized cost per token of each API (PV of cost / PV of tokens)",
                                 list(api_per_token.values())))
    for oid, om in option_models.items():
        if om.replica_months is None:
            continue
        pv_rm = item(f"PV of replica-months, {oid}", "replica-months", npv(r_q, om.replica_months))
        cost_rm = item(f"Levelized cost per replica-month, {oid}", f"{ccy}/replica-month", IFERROR(om.tco_pv / pv_rm, NA()))
        cap = item(f"Capacity per replica-month (mean), {oid}", "tokens/month",
                   total(om.capacity_tokens_per_replica_month) / n)
        vol_items += [pv_rm, cost_rm, cap]
        for api_id, per_tok in api_per_token.items():
            vol = item(f"Breakeven volume of one {oid} replica vs {api_id}", "tokens/month",
                       IFERROR(cost_rm / per_tok, NA()), name=f"breakeven_volume:{oid}:{api_id}")
            util = item(f"Breakeven utilization of {oid} vs {api_id}", "share",
                        IFERROR(vol / cap, NA()), name=f"breakeven_util:{oid}:{api_id}")
            vol_items += [vol, util]
    if vol_items:
        breakeven.append(Section("Breakeven volume and utilization of one self-hosted replica against each API", vol_items))

    # ---- side-by-side comparison: links to each option's rows, and cumulative cash cost -------------
    side: list[Section] = []
    cpm_links = [item(om.label, f"{ccy}/Mtok", om.cost_per_mtok, total=False, style="link", name=f"cmp_cpm:{oid}")
                 for oid, om in option_models.items()]
    pl_links = [item(om.label, ccy, om.pl_cost, style="link", name=f"cmp_pl:{oid}") for oid, om in option_models.items()]
    cum_cash = []
    for oid, om in option_models.items():
        cum_cash.append(item(om.label, ccy, (lambda cash: (lambda me: prev(me, 0) + cash))(om.cash_cost), total=False,
                             name=f"cmp_cum:{oid}"))
    tok_links = [item(om.label, "tokens", om.tokens, style="link", name=f"cmp_tok:{oid}") for oid, om in option_models.items()]
    side = [Section(f"Cost per million tokens ({ccy}/Mtok, P&L view)", cpm_links),
            Section(f"Cost per quarter ({ccy}, P&L view)", pl_links),
            Section(f"Cumulative cash cost ({ccy})", cum_cash),
            Section("Tokens served", tok_links)]

    # ---- checks: each is 0 when fine ------------------------------------------------------------
    checks: list[tuple[str, Item]] = []
    for oid, om in option_models.items():
        ident = item(f"Cost per Mtok x tokens - cost, {oid}", ccy,
                     total(om.pl_cost) - sumproduct(om.cost_per_mtok_safe, om.tokens) / MILLION)
        checks.append((f"{oid}: cost per Mtok x tokens / 1e6 equals cost", ident))
        if om.nbv_total is not None:
            neg = item(f"Negative book value, {oid}", ccy, total(om.nbv_negative))
            checks.append((f"{oid}: net book value never negative", neg))
    for oid, c in comparisons.items():
        checks.append((f"{oid}: NPV at the IRR is zero (where an IRR exists)", c.npv_check))
    # A check fails when its absolute value exceeds one hundredth of a currency unit.
    tolerance = Const(0.01, "tolerance")
    flags = [item(f"Fails: {label}", "flag", (MAX(c, -1 * c) > tolerance) * 1) for label, c in checks]
    master = item("Master check (0 = all checks pass)", "count", _sum(flags))

    return TcoModel(
        inputs=reg.inputs, row_inputs=reg.rows, timeline=tl, quarters=quarters, general=general,
        options=option_models, comparisons=comparisons, breakeven=breakeven, checks=checks, master_check=master, check_flags=flags,
        baseline=baseline_id, currency=ccy, side_by_side=side,
    )


def _build_option(reg, scenario, oid, opt, capacity, d_in, d_out, peak_out, secs, r_q, tl,
                  cache_hit, cache_write, batch_share, lc_share, in_per_req, out_per_req) -> OptionModel:
    s = scenario.settings
    ccy = s.report_currency
    n = s.horizon_quarters
    p = f"{oid}"
    kind = opt.kind
    sections: list[Section] = []
    categories: dict[str, Item] = {}
    start_idx = (opt.start_quarter - s.first_quarter + 1) if opt.start_quarter is not None else 1
    start = reg.scalar(f"{p}.start_qidx", start_idx, f"{oid}: first quarter served (#)", "quarter #",
                       opt.source, opt.cell("start_quarter"), "Other")
    active = item("Serving", "flag", (timeline("qidx") >= start) * 1, total=False)
    quality = None
    if opt.quality_score is not None:
        quality = f"{p}.quality_score"
        reg.scalar(quality, opt.quality_score, f"{oid}: quality score", "score 0-100", opt.source,
                   opt.cell("quality_score"), "Other")
    fx_of = lambda rec: _fx(reg, scenario, rec.currency)  # noqa: E731

    fleet = util = fee_units = replica_months = cap_tokens_rm = nbv_total = None
    fee_input = None
    vintage_checks = []
    nbv_negative = None
    throughput = None

    if kind == "hosted_api":
        api = scenario.api_prices[oid]
        fx = fx_of(api)
        ap = f"{p}.api"
        g = "API prices"
        p_in = reg.from_record(api, "input_per_mtok", ap, f"{oid}: input price", f"{api.currency}/Mtok", g)
        p_out = reg.from_record(api, "output_per_mtok", ap, f"{oid}: output price", f"{api.currency}/Mtok", g)
        p_cached = reg.from_record(api, "cached_input_per_mtok", ap, f"{oid}: cached input price", f"{api.currency}/Mtok",
                                   g, default=api.input_per_mtok)
        p_write = reg.from_record(api, "cache_write_per_mtok", ap, f"{oid}: cache write price", f"{api.currency}/Mtok",
                                  g, default=api.input_per_mtok)
        bd = reg.from_record(api, "batch_discount", ap, f"{oid}: batch discount", "share", g)
        lc_in = reg.from_record(api, "long_context_input_per_mtok", ap, f"{oid}: long-context input price",
                                f"{api.currency}/Mtok", g, default=api.input_per_mtok)
        lc_out = reg.from_record(api, "long_context_output_per_mtok", ap, f"{oid}: long-context output price",
                                 f"{api.currency}/Mtok", g, default=api.output_per_mtok)
        disc_ent = reg.from_record(api, "enterprise_discount", ap, f"{oid}: enterprise discount", "share", g, default=0.0)
        chg = reg.from_record(api, "annual_price_change", ap, f"{oid}: annual price change", "per year", g, default=0.0)
        lc = lc_share if api.long_context_threshold_tokens is not None else Const(0)
        served_in = item("Input tokens served", "tokens", d_in * active)
        served_out = item("Output tokens served", "tokens", d_out * active)
        fresh = item("Fresh input tokens", "tokens", served_in * (1 - cache_hit - cache_write))
        cached = item("Cached input tokens", "tokens", served_in * cache_hit)
        written = item("Cache-write input tokens", "tokens", served_in * cache_write)
        # ratios of tier to list price; a zero list price (free tier) has no uplift rather than 0/0
        lc_in_ratio = item("Long-context input price ratio", "ratio", IFERROR(lc_in / p_in, 1), total=False)
        in_mult = item("Long-context uplift, input", "factor", 1 + lc * (lc_in_ratio - 1), total=False)
        out_mult = item("Long-context uplift, output", "factor", 1 + lc * (IFERROR(lc_out / p_out, 1) - 1), total=False)
        price_idx = _escalation("Price index", chg)
        terms = item("Batch and enterprise terms", "factor", (1 - batch_share * bd) * (1 - disc_ent), total=False)
        fx_item = item("FX rate", f"{ccy}/{api.currency}", fx, total=False) if api.currency != ccy else None
        fxv = fx_item if fx_item is not None else Const(1)
        in_cost = item("Input token cost", ccy, (fresh * p_in + cached * p_cached + written * p_write) * in_mult
                       / MILLION * terms * price_idx * fxv)
        out_cost = item("Output token cost", ccy, served_out * p_out * out_mult / MILLION * terms * price_idx * fxv)
        cash = item("Cash cost", ccy, in_cost + out_cost)
        pl = item("P&L cost", ccy, cash * 1)
        categories = {"API tokens": cash}
        calc = [served_in, served_out, fresh, cached, written, lc_in_ratio, in_mult, out_mult, price_idx, terms]
        if fx_item is not None:
            calc.append(fx_item)
        calc += [in_cost, out_cost]
        sections.append(Section("Hosted API: tokens and prices", [active] + calc))
        sections.append(Section("Cost", [cash, pl]))
    else:
        cap_vals = capacity.output_tok_s_per_replica
        throughput = float(np.max(cap_vals))
        cap = reg.row(f"{p}.capacity", cap_vals, f"{oid}: output tok/s per replica", "tok/s per replica",
                      capacity.source, "measured (Options sheet)" if capacity.measured else "roofline operating point",
                      "Utilization and throughput", engine=not capacity.measured)
        gpus = reg.scalar(f"{p}.gpus_per_replica", opt.gpus_per_replica or 1, f"{oid}: GPUs per replica", "GPUs",
                          opt.source, opt.cell("gpus_per_replica"), "Utilization and throughput")
        needed = item("Replicas needed at peak", "replicas", CEILING(peak_out / cap, 1) * active, total=False)
        if kind == "owned":
            fleet = item("Replicas in service", "replicas", lambda me: MAX(prev(me, 0), needed), total=False)
        else:
            fleet = item("Replicas in service", "replicas", needed * 1, total=False)
        capacity_out = item("Output capacity of the fleet", "tokens", fleet * cap * secs)
        if opt.load_basis == "utilization":
            ramp = reg.row(f"{p}.utilization", scenario.utilization[oid], f"{oid}: utilization", "share",
                           "Utilization sheet", f"Utilization (option {oid})", "Utilization and throughput")
            served_out = item("Output tokens served", "tokens", capacity_out * ramp * active)
            served_in = item("Input tokens served", "tokens", served_out * in_per_req / out_per_req)
        else:
            served_out = item("Output tokens served", "tokens", d_out * active)
            served_in = item("Input tokens served", "tokens", d_in * active)
        util = item("Utilization of the fleet", "share", IFERROR(served_out / capacity_out, 0), total=False)
        cap_tokens_rm = item("Tokens one replica can serve per month", "tokens/month",
                             cap * secs / MONTHS_PER_QUARTER * (in_per_req + out_per_req) / out_per_req, total=False)
        replica_months = item("Replica-months", "replica-months", fleet * MONTHS_PER_QUARTER)
        ops = [active, needed, fleet, capacity_out, served_out, served_in, util, cap_tokens_rm, replica_months]
        sections.append(Section("Capacity and load", ops))
        cost_items: list[Item] = []
        cash_parts: list[Item] = []
        pl_parts: list[Item] = []
        opex_rec = scenario.opex.get(oid)

        if kind == "owned":
            cx = scenario.capex[oid]
            fx = fx_of(cx)
            g = "Hardware and hosting prices"
            cp = f"{p}.capex"
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
            vint_sections, purchases_units, capex_row, dep_row, wo_row, disp_row, nbv_row, vchecks, neg = _vintages(
                n, growth, unit_cost, salvage, life, life_q, econ_q, cx.depreciation_method, ccy)
            vintage_checks = vchecks
            nbv_negative = neg
            nbv_total = nbv_row
            neg = nbv_negative
            residual = item("Residual value returned at horizon end (NBV)", ccy, nbv_row * timeline("last_flag"))
            cost_items += [unit_cost, growth, purchases_units, capex_row, dep_row, wo_row, disp_row, nbv_row, neg, residual]
            vintage_section = Section("Asset vintages: one corkscrew per purchase quarter", vint_sections)
            cash_parts += [capex_row]
            pl_parts += [dep_row, wo_row]
            # opex (owned)
            ox = opex_rec
            fxo = fx_of(ox)
            op = f"{p}.opex"
            kw = reg.from_record(ox, "power_kw_per_replica", op, f"{oid}: IT power per replica", "kW", g)
            lf = reg.from_record(ox, "load_factor", op, f"{oid}: load factor", "share", g)
            pue = reg.from_record(ox, "pue", op, f"{oid}: PUE", "ratio", g)
            price = reg.from_record(ox, "power_price_per_kwh", op, f"{oid}: power price", f"{ox.currency}/kWh", g)
            pesc = _escalation("Power price index", reg.from_record(ox, "power_escalation_annual", op,
                               f"{oid}: power price escalation", "per year", g, default=0.0))
            oesc = _escalation("Other opex index", reg.from_record(ox, "other_escalation_annual", op,
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
            cash_parts += [power, hosting, maint]
            pl_parts += [power, hosting, maint]
            disposal_cash = disp_row
        else:
            disposal_cash = None
            residual = None
        if kind == "rented_server":
            rt = scenario.rental[oid]
            fx = fx_of(rt)
            rp = f"{p}.rental"
            g = "Hardware and hosting prices"
            fee_input = f"{rp}.fee_per_replica_per_month"
            fee = reg.from_record(rt, "fee_per_replica_per_month", rp, f"{oid}: monthly fee per server",
                                  f"{rt.currency}/month", g)
            fesc = _escalation("Fee index", reg.from_record(rt, "fee_escalation_annual", rp, f"{oid}: fee escalation",
                                                            "per year", g, default=0.0))
            fee_units = item("Fee units (server-months x index x FX)", "months",
                             fleet * MONTHS_PER_QUARTER * fesc * fx)
            fee_cost = item("Server fees", ccy, fee_units * fee)
            new_units = item("Servers added", "servers", MAX(0, fleet - prev(fleet, 0)))
            setup = item("Setup fees", ccy, new_units * reg.from_record(
                rt, "setup_fee_per_replica", rp, f"{oid}: setup fee per server", rt.currency, g, default=0.0) * fx)
            cost_items += [fesc, fee_units, fee_cost, new_units, setup]
            cash_parts += [fee_cost, setup]
            pl_parts += [fee_cost, setup]
        if kind == "cloud_gpu":
            cr = scenario.cloud_rates[oid]
            fx = fx_of(cr)
            cp = f"{p}.cloud"
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
            resc = _escalation("Rate index", reg.from_record(cr, "rate_escalation_annual", cp, f"{oid}: rate escalation",
                                                             "per year", g, default=0.0))
            # One replica stays up all quarter; above that, hours follow the average load (autoscaling).
            demand_h = item("GPU-hours to serve the load", "GPU-h",
                            MAX(served_out / (cap * SECONDS_PER_HOUR), active * 1 * HOURS_PER_QUARTER) * gpus)
            res_h = item("Reserved GPU-hours (paid whether used or not)", "GPU-h", fleet * rsh * gpus * HOURS_PER_QUARTER)
            unres = item("GPU-hours beyond the reservation", "GPU-h", MAX(0, demand_h - res_h))
            spot_h = item("Spot GPU-hours (with interruption overhead)", "GPU-h", unres * ssh * (1 + ovh))
            od_h = item("On-demand GPU-hours", "GPU-h", unres * (1 - ssh))
            gpu_cost = item("GPU rental", ccy, (res_h * rs + spot_h * sp + od_h * od) * resc * fx)
            cost_items += [resc, demand_h, res_h, unres, spot_h, od_h, gpu_cost]
            cash_parts += [gpu_cost]
            pl_parts += [gpu_cost]
        # staff and licences: any self-hosted kind with an Opex row
        if opex_rec is not None:
            fxo = fx_of(opex_rec)
            op = f"{p}.opex"
            if kind != "owned":
                oesc = _escalation("Other opex index", reg.from_record(opex_rec, "other_escalation_annual", op,
                                   f"{oid}: other opex escalation", "per year", "Other", default=0.0))
                cost_items.append(oesc)
            staff = item("Staff", ccy, active * reg.from_record(opex_rec, "staff_per_month", op, f"{oid}: staff",
                                                                f"{opex_rec.currency}/month", "Other", default=0.0)
                         * MONTHS_PER_QUARTER * oesc * fxo)
            lic = item("Licences", ccy, active * reg.from_record(opex_rec, "licences_per_month", op, f"{oid}: licences",
                                                                 f"{opex_rec.currency}/month", "Other", default=0.0)
                       * MONTHS_PER_QUARTER * oesc * fxo)
            cost_items += [staff, lic]
            cash_parts += [staff, lic]
            pl_parts += [staff, lic]
        cash_expr = _sum(cash_parts)
        if disposal_cash is not None:
            cash_expr = cash_expr - disposal_cash - residual
        cash = item("Cash cost", ccy, cash_expr)
        pl = item("P&L cost", ccy, _sum(pl_parts))
        sections.append(Section("Costs", cost_items))
        sections.append(Section("Cost", [cash, pl]))
        # categories for the breakdown chart: map names to items (sum several where needed)
        cats: dict[str, Item] = {}
        if kind == "owned":
            cats["Depreciation and write-offs"] = item("Depreciation and write-offs", ccy, dep_row + wo_row)
            cats["Power"] = power
            cats["Hosting and maintenance"] = item("Hosting and maintenance", ccy, hosting + maint)
        if kind == "rented_server":
            cats["Server rental"] = item("Server rental and setup", ccy, fee_cost + setup)
        if kind == "cloud_gpu":
            cats["Cloud GPU-hours"] = gpu_cost
        if opex_rec is not None:
            cats["Staff and licences"] = item("Staff and licences", ccy, staff + lic)
        extra = [c for c in cats.values() if c not in cost_items]
        if extra:
            sections.append(Section("Cost by category (P&L view)", extra))
        categories = cats
        if kind == "owned":
            sections.append(vintage_section)
    tokens = item("Tokens served", "tokens", served_in + served_out)
    cpm = item("Cost per million tokens", f"{ccy}/Mtok", IFERROR(pl / tokens * MILLION, NA()), total=False)
    cpm_safe = item("Cost per million tokens (0 where nothing is served)", f"{ccy}/Mtok",
                    IFERROR(pl / tokens * MILLION, 0), total=False)
    tco_nom = item("TCO, nominal", ccy, total(cash))
    tco_pv = item("TCO, present value", ccy, npv(r_q, cash))
    tok_total = item("Tokens served over the horizon", "tokens", total(tokens))
    pv_tok = item("PV of tokens served", "tokens", npv(r_q, tokens))
    lev = item("Levelized cost per million tokens", f"{ccy}/Mtok", IFERROR(tco_pv / pv_tok * MILLION, NA()))
    metrics = [tokens, cpm, cpm_safe, tco_nom, tco_pv, tok_total, pv_tok, lev]
    lev_q = None
    if quality is not None:
        lev_q = item("Levelized cost per million correct outputs' tokens", f"{ccy}/Mtok",
                     IFERROR(lev / (inp(quality) / 100), NA()))
        metrics.append(lev_q)
    sections.append(Section("Metrics", metrics))
    om = OptionModel(
        option_id=oid, kind=kind, label=opt.label, sections=sections, cash_cost=cash, pl_cost=pl, tokens=tokens,
        input_tokens=served_in, output_tokens=served_out, cost_per_mtok=cpm, fleet=fleet, utilization=util,
        tco_nominal=tco_nom, tco_pv=tco_pv, pv_tokens=pv_tok, tokens_total=tok_total, levelized=lev,
        categories=categories, throughput_tok_s=throughput, fee_units=fee_units, fee_input=fee_input,
        replica_months=replica_months, capacity_tokens_per_replica_month=cap_tokens_rm, quality=quality,
        levelized_per_correct=lev_q, nbv_total=nbv_total, vintage_checks=vintage_checks,
    )
    om.cost_per_mtok_safe = cpm_safe
    om.nbv_negative = nbv_negative
    return om


def _payback(cum: Item, n: int, label: str) -> Item:
    """First quarter from which the cumulative saving stays >= 0 to the horizon end; #N/A if it ends negative."""
    last_neg = item(f"Last quarter with a negative balance ({label.split('(')[1][:-1]})", "quarter #",
                    lambda me: MAX(prev(me, 0), (cum < 0) * timeline("qidx")), total=False)
    pb = item(label, "quarter #", IF(index(cum, n) < 0, NA(), index(last_neg, n) + 1))
    return pb, last_neg


def _sum(parts):
    """a + b + c ... as a balanced tree: depth log2(n), so hundreds of options or vintages do not
    exhaust recursion when the expression is walked (the rendered formula evaluates in the same order)."""
    parts = list(parts)
    if len(parts) == 1:
        return parts[0]
    mid = len(parts) // 2
    return _sum(parts[:mid]) + _sum(parts[mid:])


def _fx(reg, scenario, currency):
    ccy = scenario.settings.report_currency
    if currency is None or currency.upper() == ccy:
        return Const(1)
    rec = scenario.fx_rows[currency.upper()] if currency.upper() in scenario.fx_rows else scenario.fx_rows[currency]
    return reg.scalar(f"fx.{currency.upper()}", rec.rate_to_report_currency, f"FX {currency.upper()}",
                      f"{ccy} per {currency.upper()}", rec.source, rec.cell("rate_to_report_currency"), "FX")


def _vintages(n, growth, unit_cost, salvage, life, life_q, econ_q, method, ccy):
    """One corkscrew per purchase quarter (vintage), so every purchase has its own schedule.

    A vintage's units = replicas added that quarter + units of the vintage retired that quarter at the
    end of the economic life (replacement). Depreciation runs over the book life; at the end of the
    economic life the remaining book value above salvage is written off and salvage is received.
    """
    sections = []
    units_by_v: dict[int, Item] = {}
    adds, deps, wos, disps, nbvs, checks = [], [], [], [], [], []
    negs = []
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
        sections += [units, cost_v, salv_v, age, add, dep, wo, disp, nbv_holder]
        adds.append(add)
        deps.append(dep)
        wos.append(wo)
        disps.append(disp)
        nbvs.append(nbv_holder)
        checks.append((nbv_holder, salv_v))
    purchases = item("Replicas bought (growth + replacements)", "replicas", _sum([units_by_v[v] * (timeline("qidx").eq(v)) * 1
                                                                                  for v in range(1, n + 1)]))
    capex = item("Capex", ccy, _sum(adds))
    dep_row = item("Depreciation", ccy, _sum(deps))
    wo_row = item("Write-offs at retirement", ccy, _sum(wos))
    disp_row = item("Salvage received", ccy, _sum(disps))
    nbv_row = item("Net book value, closing", ccy, _sum(nbvs), total=False)
    # per vintage: a newer vintage must not hide an older one going negative
    neg = item("Negative net book value, any vintage (check)", ccy, _sum([MAX(0, -1 * v) for v in nbvs]), total=True)
    return sections, purchases, capex, dep_row, wo_row, disp_row, nbv_row, checks, neg
