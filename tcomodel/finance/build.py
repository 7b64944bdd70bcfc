"""Build the TCO line-item model from a validated scenario and the roofline capacities."""

from __future__ import annotations

import numpy as np

from tcomodel.finance.annual import YEAR_ROW, year_keys
from tcomodel.finance.context import Context, Demand, Registry, balanced_sum
from tcomodel.finance.model import (
    CHECK_DECIMALS, CHECK_FLOW_UNIT, CHECK_TOLERANCE, IRR_FLOOR, QUARTERS_PER_YEAR, SECONDS_PER_HOUR, Capacity,
    Comparison, OptionModel, Section, TcoModel,
)
from tcomodel.finance.options import BUILDERS
from tcomodel.kinds import KINDS
from tcomodel.sheet.expr import (
    HOURS_PER_QUARTER, IF, IFERROR, MAX, MILLION, NA, ROUND, SQRT, Const, Item, index, inp, irr_with_tail, item, npv,
    prev, sumproduct, timeline, total,
)


DAYS_PER_WEEK = Const(7, "days per week")
HOURS_PER_DAY = Const(24, "hours per day")


def build_tco_model(scenario, capacities: dict[str, Capacity]) -> TcoModel:
    s = scenario.settings
    ccy, n, baseline_id = s.report_currency, s.horizon_quarters, s.baseline_option
    reg = Registry(scenario)
    tl = _timeline(n)
    tl[YEAR_ROW] = year_keys(scenario.quarters, s.fiscal_year_start_month)  # the Annual sheet's SUMIFS key
    tax, r_q, disc, demand, general = _general(reg, scenario)
    ctx = Context(reg, scenario, demand, r_q, tl)
    option_models: dict[str, OptionModel] = {}
    for oid, opt in scenario.options.items():
        option_models[oid] = BUILDERS[opt.kind](ctx, oid, opt, capacities.get(oid))

    base = option_models[baseline_id]
    comparisons: dict[str, Comparison] = {}
    for oid, om in option_models.items():
        if oid != baseline_id:
            comparisons[oid] = _switching(base, om, tax, r_q, disc, f"switching to {oid}")
    pairs: dict[tuple, Comparison] = {}
    for rec in scenario.pairs:
        a, b = option_models[rec.from_option_id], option_models[rec.to_option_id]
        pairs[(a.option_id, b.option_id)] = _switching(a, b, tax, r_q, disc,
                                                       f"switching from {a.option_id} to {b.option_id}")

    breakeven = _breakeven_fees(reg, scenario, option_models, r_q)
    unknown_fee = _unknown_fee_tables(scenario, option_models, comparisons, baseline_id, tax, r_q, ccy)
    for oid, table in unknown_fee.items():
        breakeven.append(Section(f"NPV of switching at other values of the unknown fee of {oid}", table["items"]))
    breakeven += _breakeven_volumes(option_models, demand.utilization_ceiling, r_q, ccy)
    side = _side_by_side(option_models, ccy)
    checks, flags, master = _checks(option_models, comparisons, pairs, ccy)
    return TcoModel(
        inputs=reg.inputs, row_inputs=reg.rows, timeline=tl, quarters=scenario.quarters, general=general,
        options=option_models, comparisons=comparisons, breakeven=breakeven, checks=checks, master_check=master, check_flags=flags,
        baseline=baseline_id, currency=ccy, side_by_side=side, pairs=pairs,
        unknown_fee=unknown_fee, warnings=ctx.warnings,
    )


def _timeline(n: int) -> dict:
    qidx = np.arange(1, n + 1, dtype=float)
    return {
        "qidx": qidx,
        "years_elapsed": (qidx - 1) / 4.0,
        "first_flag": (qidx == 1).astype(float),
        "last_flag": (qidx == n).astype(float),
    }


def _general(reg, scenario):
    """The general block: financing (tax, quarterly rate, discount factor) and demand from the Workload sheet.
    Returns (tax, rate per quarter, discount factor, Demand, the general sections)."""
    s = scenario.settings
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
    shape_items, peak = _peak_to_average(reg, scenario, wrow)

    d_in = item("Input tokens demanded", "tokens", requests * in_per_req)
    d_out = item("Output tokens demanded", "tokens", requests * out_per_req)
    d_tok = item("Tokens demanded", "tokens", d_in + d_out)
    secs = item("Seconds per quarter", "s", HOURS_PER_QUARTER * SECONDS_PER_HOUR, total=False)
    peak_out = item("Peak output rate demanded", "tok/s", d_out / secs * peak, total=False)
    # sized for the peak, a fleet's average utilization cannot exceed the average over the peak
    util_ceiling = item("Highest reachable average utilization (1 / peak to average)", "share", 1 / peak, total=False)
    general = [
        Section("Financing", [r_q, disc]),
        Section("Demand (from the Workload sheet)", [d_in, d_out, d_tok, secs] + shape_items + [peak_out, util_ceiling]),
    ]
    reg.scalar("horizon_quarters", s.horizon_quarters, "Quarters in the horizon", "quarters",
               s.sources.get("horizon_quarters", ""), s.cells.get("horizon_quarters"), "Other")
    demand = Demand(d_in, d_out, secs, peak_out, util_ceiling, cache_hit, cache_write, batch_share, lc_share, in_per_req, out_per_req)
    return tax, r_q, disc, demand, general


def _breakeven_fees(reg, scenario, option_models, r_q) -> list[Section]:
    """For each option with a monthly fee: the fee at which it costs the same as each other option."""
    ccy = scenario.settings.report_currency
    be_items = []
    for oid, om in option_models.items():
        if om.fee_units is None:
            continue
        fee = inp(om.fee_input)
        fee_unit = f"{scenario.rental[oid].currency}/month ex VAT"  # the fee units carry FX, VAT and index
        pv_units = item(f"PV of fee units, {oid}", "months", npv(r_q, om.fee_units))
        be_items.append(pv_units)
        for other_id, other in option_models.items():
            if other_id == oid:
                continue
            if _start_qidx(reg, oid) == _start_qidx(reg, other_id):
                gap, units = other.tco_pv - om.tco_pv, pv_units
            else:
                # different start quarters: compare the quarters both serve (before, the earlier one serves alone
                # either way), so the NPV of switching is 0 at this fee
                both = (timeline("qidx") >= inp(f"{oid}.start_qidx")) * (timeline("qidx") >= inp(f"{other_id}.start_qidx"))
                diff = item(f"Cost of {other_id} - cost of {oid} while both serve (PV basis)", ccy,
                            (other.pv_basis - om.pv_basis) * both)
                units_both = item(f"Fee units of {oid} while {other_id} also serves", "months", om.fee_units * both)
                gap = item(f"PV of that cost difference, {oid} vs {other_id}", ccy, npv(r_q, diff))
                units = item(f"PV of those fee units, {oid} vs {other_id}", "months", npv(r_q, units_both))
                be_items += [diff, units_both, gap, units]
            be_items.append(item(f"Monthly fee of {oid} at which it costs the same as {other_id}", fee_unit,
                                 IFERROR(fee + gap / units, NA()),
                                 name=f"breakeven_fee:{oid}:{other_id}"))
    if be_items:
        return [Section("Breakeven monthly fee (PV over the quarters both options serve)", be_items)]
    return []


def _breakeven_volumes(option_models, util_ceiling, r_q, ccy) -> list[Section]:
    """Each API's levelized cost, and the volume and utilization at which one self-hosted replica matches it."""
    out: list[Section] = []
    vol_items = []
    api_per_token = {}
    for api_id, api in option_models.items():
        if not KINDS[api.kind].self_hosted:  # priced per token
            api_per_token[api_id] = api.levelized
    if api_per_token:
        out.append(Section("Levelized cost of each API (PV of cost / PV of tokens)",
                           [item(f"Levelized cost of {api_id}", f"{ccy}/Mtok", lev, style="link")
                            for api_id, lev in api_per_token.items()]))
    util_cap = item("Highest reachable average utilization (mean of 1 / peak to average over the horizon)", "share",
                    total(util_ceiling) / inp("horizon_quarters"))
    if any(om.replica_months is not None for om in option_models.values()):
        vol_items.append(util_cap)
    for oid, om in option_models.items():
        if om.replica_months is None:
            continue
        pv_rm = item(f"PV of replica-months, {oid}", "replica-months", npv(r_q, om.replica_months))
        cost_rm = item(f"Levelized cost per replica-month, {oid}", f"{ccy}/replica-month", IFERROR(om.tco_pv / pv_rm, NA()))
        cap = item(f"Capacity per replica-month (mean), {oid}", "tokens/month",
                   total(om.capacity_tokens_per_replica_month) / inp("horizon_quarters"))
        vol_items += [pv_rm, cost_rm, cap]
        # with k spares, one serving replica comes with k idle ones: the reachable average falls to 1/(1+k)
        spare = inp(f"{oid}.redundancy_replicas")
        cap_o = item(f"Highest reachable average utilization of {oid} (with its spares)", "share", util_cap / (1 + spare))
        # what the forecast workload gives: a breakeven under the ceiling but above this is not reached (one row per
        # option, beside the ceiling: a flag per API too would be a thousand more cells at 200 options)
        fc = item(f"Forecast average utilization of {oid} (mean of its fleet's over the horizon)", "share",
                  total(om.utilization) / inp("horizon_quarters"), name=f"forecast_util:{oid}")
        vol_items += [cap_o, fc]
        for api_id, per_mtok in api_per_token.items():
            vol = item(f"Breakeven volume of one {oid} replica vs {api_id}", "tokens/month",
                       IFERROR(cost_rm / per_mtok * MILLION, NA()), name=f"breakeven_volume:{oid}:{api_id}")
            util = item(f"Breakeven utilization of {oid} vs {api_id}", "share",
                        IFERROR(vol / cap, NA()), name=f"breakeven_util:{oid}:{api_id}")
            # a fleet sized for the peak cannot average more than 1 / peak-to-average
            ok = item(f"Breakeven of {oid} vs {api_id} under that ceiling (1 = yes)", "flag",
                      IFERROR((util <= cap_o) * 1, 0), name=f"breakeven_util_reachable:{oid}:{api_id}")
            vol_items += [vol, util, ok]
    if vol_items:
        out.append(Section("Breakeven volume and utilization of one self-hosted replica against each API", vol_items))
    return out


def _side_by_side(option_models, ccy) -> list[Section]:
    """Links to each option's rows, and the cumulative cash cost."""
    cpm_links = [item(om.label, f"{ccy}/Mtok", om.cost_per_mtok, total=False, style="link", name=f"cmp_cpm:{oid}")
                 for oid, om in option_models.items()]
    pl_links = [item(om.label, ccy, om.pl_cost, style="link", name=f"cmp_pl:{oid}") for oid, om in option_models.items()]
    cum_cash = []
    for oid, om in option_models.items():
        cum_cash.append(item(om.label, ccy, (lambda cash: (lambda me: prev(me, 0) + cash))(om.cash_cost), total=False,
                             name=f"cmp_cum:{oid}"))
    tok_links = [item(om.label, "tokens", om.tokens, style="link", name=f"cmp_tok:{oid}") for oid, om in option_models.items()]
    return [Section(f"Cost per million tokens ({ccy}/Mtok, P&L view)", cpm_links),
            Section(f"Cost per quarter ({ccy}, P&L view)", pl_links),
            Section(f"Cumulative cash cost ({ccy})", cum_cash),
            Section("Tokens served", tok_links)]


def _checks(option_models, comparisons, pairs, ccy):
    """The model's checks, each 0 when fine; their fail flags and the master check."""
    checks: list[tuple[str, Item]] = []
    for oid, om in option_models.items():
        ident = item(f"Cost per Mtok x tokens - cost, {oid}", ccy,
                     total(om.pl_cost) - sumproduct(om.cost_per_mtok_safe, om.tokens) / MILLION)
        checks.append((f"{oid}: cost per Mtok x tokens / 1e6 equals cost", ident))
        if om.nbv_total is not None:
            neg = item(f"Negative book value, {oid}", ccy, total(om.nbv_negative))
            checks.append((f"{oid}: net book value never negative", neg))
        checks += om.checks
    for oid, c in comparisons.items():
        checks.append((f"{oid}: NPV at the IRR is zero (where an IRR exists)", c.npv_check))
    for (a, b), c in pairs.items():
        checks.append((f"{a} -> {b}: NPV at the IRR is zero (where an IRR exists)", c.npv_check))
    # A check fails when its absolute value exceeds the tolerance (a named cell on the Checks sheet).
    flags = [item(f"Fails: {label}", "flag", (MAX(c, -1 * c) > CHECK_TOLERANCE) * 1) for label, c in checks]
    master = item("Master check (0 = all checks pass)", "count", balanced_sum(flags))
    return checks, flags, master


def _switching(base: OptionModel, om: OptionModel, tax, r_q, disc, what: str) -> Comparison:
    """Cash flows, NPV, IRR and payback of switching from ``base`` to ``om`` (saving = base cost - om cost,
    after tax on the P&L difference).

    NPV discounts the saving on the PV basis (a start-of-quarter payment carried to the quarter end at the
    discount rate). The IRR instead takes the flows where they fall, at quarter boundaries: a start-of-quarter
    payment at the boundary before its quarter, everything else at the boundary after; the same flows at the
    discount rate give the NPV."""
    ccy_unit = base.cash_cost.unit
    # before the option starts serving, the one switched from keeps serving: no saving in those quarters
    started = (timeline("qidx") >= inp(f"{om.option_id}.start_qidx")) * 1
    paid_at_start = base.start_payments is not None or om.start_payments is not None
    # with start-of-quarter capex this differs from the nominal saving below: its label says why
    incr = item(f"Saving vs {base.option_id} after tax" + (", PV basis (capex carried to the quarter end)"
                                                            if paid_at_start else ""), ccy_unit,
                ((base.pv_basis - om.pv_basis) - tax * (base.pl_cost - om.pl_cost)) * started)
    npv_item = item(f"NPV of {what}", ccy_unit, npv(r_q, incr))
    flows: list = []
    if paid_at_start:
        zero = Const(0)
        at_start = item("Saving paid at the quarter start (capex)", ccy_unit,
                        ((base.start_payments if base.start_payments is not None else zero)
                         - (om.start_payments if om.start_payments is not None else zero)) * started)
        nominal = item(f"Saving vs {base.option_id} after tax, nominal", ccy_unit,
                       ((base.cash_cost - om.cash_cost) - tax * (base.pl_cost - om.pl_cost)) * started)
        at_end = item("Saving at the quarter end", ccy_unit, nominal - at_start)
        flows = [at_start, nominal, at_end]
    else:
        at_start, at_end, nominal = None, incr, incr
    # boundary t-1 (the start of quarter t) holds quarter t's start payments and quarter t-1's end flows
    boundary = item("Saving at the start of the quarter (IRR flows, boundaries 0..N-1)", ccy_unit,
                    (at_start + prev(at_end, 0)) if at_start is not None else prev(at_end, 0) * 1)
    horizon = inp("horizon_quarters")
    tail = item("Saving at the end of the last quarter (IRR flow, boundary N)", ccy_unit, index(at_end, horizon))
    # IRR only where switching starts with an outlay: otherwise there is no investment to earn a return on.
    # A rate at or below -99.99 % a quarter is no return either: LibreOffice's IRR can end there without a root
    # (near -100 % its Newton steps shrink with 1 + rate, so one falls below 1e-7), or at a root below -100 %.
    raw_irr = irr_with_tail(boundary, tail)
    irr_q = item("IRR per quarter", "per quarter",
                 IF(index(incr, 1) < 0, IFERROR(IF(raw_irr > IRR_FLOOR, raw_irr, NA()), NA()), NA()))
    irr_a = item(f"IRR of {what}", "per year", IFERROR((1 + irr_q) ** QUARTERS_PER_YEAR - 1, NA()))
    # simple payback is undiscounted: the nominal saving, without the PV basis's carry of start-of-quarter capex
    cum = item("Cumulative saving", ccy_unit, lambda me: prev(me, 0) + nominal, total=False)
    payback, last_neg = _payback(cum, "Payback quarter (simple)")
    dcf = item("Discounted saving", ccy_unit, incr * disc)
    dcum = item("Cumulative discounted saving", ccy_unit, lambda me: prev(me, 0) + dcf, total=False)
    dpayback, dlast_neg = _payback(dcum, "Payback quarter (discounted)")
    # NPV of the IRR's own flows at the IRR must be zero; written as a check where the IRR exists.
    at_irr = item("PV of the boundary savings at the IRR (0 where there is no IRR)", ccy_unit,
                  IFERROR(boundary / (1 + irr_q) ** (timeline("qidx") - 1), 0), total=False)
    # The IRR is the spreadsheet's own iterate (its step below 1e-7), so the NPV there is a residual that grows
    # with the flows (0.01 at ~1e8 a quarter over 80 quarters): it is checked per million of the flows' size (the
    # root of their sum of squares), as is for flows under a million, and rounded to a millionth
    size = SQRT(sumproduct(boundary, boundary) + tail * tail)
    npv_check = item(f"NPV at IRR (per million of the flows' size, at least as is), {what}", ccy_unit,
                     IFERROR(ROUND((total(at_irr) + tail / (1 + irr_q) ** horizon) / MAX(1, size / CHECK_FLOW_UNIT),
                                   CHECK_DECIMALS), 0))
    return Comparison(om.option_id, incr, npv_item, irr_q, irr_a, payback, dpayback,
                      [incr, npv_item] + flows + [boundary, irr_q, irr_a, cum, last_neg, payback, dcf, dcum, dlast_neg,
                                                  dpayback, at_irr],
                      npv_check, from_option=base.option_id, irr_row=boundary, irr_tail=tail, nominal_saving=nominal)


UNKNOWN_FEE_FACTORS = (0.5, 0.75, 1.0, 1.25, 1.5)


def _unknown_fee_tables(scenario, option_models, comparisons, baseline_id, tax, r_q, ccy) -> dict:
    """Where a rented option's fee is marked unknown, each switching NPV at 50..150% of the assumed fee.

    NPV is linear in the fee: the fee enters cash and P&L alike, so a fee change d moves the after-tax saving by
    d x (1 - tax) x the fee units of the quarters in which the switch applies."""
    out = {}
    for oid, om in option_models.items():
        rec = scenario.rental.get(oid)
        if om.fee_units is None or rec is None or rec.fee_is_assumption != "yes":
            continue
        fee = inp(om.fee_input)
        # each level's share is a number in its own cell of the table (edit it to try another level)
        shares = [item(f"Fee level {i}: share of the assumed fee", "share", Const(f))
                  for i, f in enumerate(UNKNOWN_FEE_FACTORS, start=1)]
        levels = [item(f"Fee of {oid} at level {i}", f"{rec.currency}/month", fee * share,
                       name=f"unknown_fee_level:{oid}:{f}")
                  for i, (f, share) in enumerate(zip(UNKNOWN_FEE_FACTORS, shares), start=1)]
        items, rows = shares + levels, {}
        targets = [k for k in comparisons] if oid == baseline_id else ([oid] if oid in comparisons else [])
        for k in targets:
            started = (timeline("qidx") >= inp(f"{k}.start_qidx")) * 1
            units = item(f"Fee units of {oid} while {k} serves", "months", om.fee_units * started)
            pv_units = item(f"PV of fee units of {oid} while {k} serves", "months", npv(r_q, units))
            sign = 1 if oid == baseline_id else -1  # a dearer baseline raises the saving; a dearer target lowers it
            npvs = [item(f"NPV of switching to {k} at fee level {i}", ccy,
                         comparisons[k].npv + sign * (lv - fee) * (1 - tax) * pv_units,
                         name=f"unknown_fee_npv:{oid}:{k}:{f}")
                    for i, (f, lv) in enumerate(zip(UNKNOWN_FEE_FACTORS, levels), start=1)]
            items += [units, pv_units] + npvs
            rows[k] = npvs
        out[oid] = {"levels": levels, "npv": rows, "items": items, "factors": UNKNOWN_FEE_FACTORS}
    return out



def _peak_to_average(reg, scenario, wrow):
    """Peak over the 24x7 average: given per quarter, or from the demand shape (working days, the busy hours
    or the hourly profile's largest share, and the peak within the busiest hour)."""
    wl = scenario.workload
    if all(w.peak_to_average is not None for w in wl):
        peak = wrow("peak_to_average", "Peak to average demand", "ratio", "Workload volume")
        return [], peak
    days = wrow("working_days_per_week", "Working days per week", "days/week", "Workload volume")
    burst = wrow("intra_hour_peak_factor", "Peak within the busiest hour over its mean", "ratio", "Workload volume")
    if scenario.hourly_profile:
        prof = scenario.hourly_profile
        top = max(prof, key=lambda r: r.share_of_daily_requests)
        share = reg.scalar("demand.peak_hour_share", top.share_of_daily_requests,
                           "Busiest hour's share of a working day's requests", "share", top.source,
                           f"{top.cell('share_of_daily_requests')} (largest of HourlyProfile, hour {top.hour})",
                           "Workload volume")
        busy = item("Busy hours per day (equivalent: 1 / busiest hour's share)", "hours/day", 1 / share)
    else:
        busy = wrow("busy_hours_per_day", "Busy hours per working day", "hours/day", "Workload volume")
    peak = item("Peak to average demand (from the demand shape)", "ratio",
                DAYS_PER_WEEK / days * (HOURS_PER_DAY / busy) * burst, total=False)
    return ([busy] if scenario.hourly_profile else []) + [peak], peak


def _start_qidx(reg, oid) -> float:
    """First quarter an option serves, as a timeline index (1 or earlier: from the first quarter)."""
    return max(1.0, reg.inputs[f"{oid}.start_qidx"].value)


def _payback(cum: Item, label: str) -> tuple[Item, Item]:
    """First quarter from which the cumulative saving stays >= 0 to the horizon end; #N/A if it ends negative."""
    last_neg = item(f"Last quarter with a negative balance ({label.split('(')[1][:-1]})", "quarter #",
                    lambda me: MAX(prev(me, 0), (cum < 0) * timeline("qidx")), total=False)
    horizon = inp("horizon_quarters")
    pb = item(label, "quarter #", IF(index(cum, horizon) < 0, NA(), index(last_neg, horizon) + 1))
    return pb, last_neg


