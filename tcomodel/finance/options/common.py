"""Parts several option kinds share, defined once: the serving flag and quality score, the
self-hosted fleet and load, staff and licences, and the metrics every option reports."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tcomodel.finance.context import Context, balanced_sum, escalation
from tcomodel.finance.model import CHECK_DECIMALS, CHECK_TOLERANCE, SCORE_SCALE_TOP, OptionModel, Section, SECONDS_PER_HOUR
from tcomodel.sheet.expr import (
    CEILING, HOURS_PER_QUARTER, IF, IFERROR, MAX, MILLION, MONTHS_PER_QUARTER, NA, ROUND, Item, inp, item, npv, prev,
    timeline, total,
)


@dataclass
class Frame:
    """What every option has: its id, row, serving flag, optional quality score and chance level inputs, and
    optional reasoning tokens per request (None: the column is blank)."""

    oid: str
    opt: object
    active: Item
    quality: str | None
    sections: list = field(default_factory=list)
    chance: str | None = None
    reasoning: object = None


def frame(ctx: Context, oid: str, opt) -> Frame:
    s = ctx.scenario.settings
    start_idx = (opt.start_quarter - s.first_quarter + 1) if opt.start_quarter is not None else 1
    start = ctx.reg.scalar(f"{oid}.start_qidx", start_idx, f"{oid}: first quarter served (#)", "quarter #",
                           opt.source, opt.cell("start_quarter"), "Other")
    active = item("Serving", "flag", (timeline("qidx") >= start) * 1, total=False)
    quality = chance = reasoning = None
    if opt.quality_score is not None:
        quality = f"{oid}.quality_score"
        what = f"{opt.quality_benchmark}, {opt.quality_model_variant}"
        ctx.reg.scalar(quality, opt.quality_score, f"{oid}: quality score ({what})", "score 0-100", opt.source,
                       opt.cell("quality_score"), "Other")
        chance = f"{oid}.quality_chance_level"
        ctx.reg.from_record(opt, "quality_chance_level", oid, f"{oid}: chance level of {opt.quality_benchmark}",
                            "score 0-100", "Other", default=0.0)
    if opt.reasoning_tokens_per_request is not None:
        reasoning = ctx.reg.from_record(opt, "reasoning_tokens_per_request", oid, f"{oid}: reasoning tokens per request",
                                        "tokens", "Workload volume")
    return Frame(oid, opt, active, quality, chance=chance, reasoning=reasoning)


@dataclass
class Load:
    """A self-hosted option's capacity, fleet and the tokens it serves."""

    cap: object  # output tok/s per replica (row input)
    gpus: object  # GPUs per replica (input)
    spare: object  # spare replicas (input)
    fleet: Item
    served_in: Item
    served_out: Item
    utilization: Item
    cap_tokens_rm: Item
    replica_months: Item
    throughput_tok_s: float
    decoded_out: Item | None = None  # output tokens decoded incl. reasoning (= served_out without reasoning)
    capacity_check: tuple | None = None  # (label, quarters in which the fleet without spares is below the peak)


def self_hosted_load(ctx: Context, fr: Frame, capacity, *, never_shrinks: bool) -> Load:
    """Replicas to serve the peak, the fleet (owned fleets never shrink) and the load it carries."""
    oid, opt, d = fr.oid, fr.opt, ctx.demand
    cap_vals = capacity.output_tok_s_per_replica
    cap = ctx.reg.row(f"{oid}.capacity", cap_vals, f"{oid}: output tok/s per replica", "tok/s per replica",
                      capacity.source, "measured (Options sheet)" if capacity.measured else "roofline operating point",
                      "Utilization and throughput", engine=not capacity.measured)
    gpus = ctx.reg.scalar(f"{oid}.gpus_per_replica", opt.gpus_per_replica or 1, f"{oid}: GPUs per replica", "GPUs",
                          opt.source, opt.cell("gpus_per_replica"), "Utilization and throughput")
    spare = ctx.reg.scalar(f"{oid}.redundancy_replicas", opt.redundancy_replicas or 0,
                           f"{oid}: spare replicas (N+k)", "replicas", opt.source, opt.cell("redundancy_replicas"),
                           "Utilization and throughput")
    # reasoning tokens are decoded like output but not delivered: they add to the rate the fleet must decode
    decoded_per_out = peak_rate = None
    if fr.reasoning is not None:
        decoded_per_out = item("Tokens decoded per output token delivered (incl. reasoning)", "ratio",
                               1 + fr.reasoning / d.output_per_request, total=False)
        peak_rate = item("Peak decode rate (incl. reasoning)", "tok/s", d.peak_output_tok_s * decoded_per_out, total=False)
    peak_decode = peak_rate if peak_rate is not None else d.peak_output_tok_s
    at_peak = item("Replicas the peak needs", "replicas", CEILING(peak_decode / cap, 1) * fr.active, total=False)
    needed = item("Replicas needed (peak + spares)", "replicas", (at_peak + spare) * fr.active, total=False)
    if never_shrinks:
        fleet = item("Replicas in service", "replicas", lambda me: MAX(prev(me, 0), needed), total=False)
    else:
        fleet = item("Replicas in service", "replicas", needed * 1, total=False)
    capacity_out = item("Output capacity of the fleet", "tokens", fleet * cap * d.seconds)
    if opt.load_basis == "utilization":
        ramp = ctx.reg.row(f"{oid}.utilization", ctx.scenario.utilization[oid], f"{oid}: utilization", "share",
                           "Utilization sheet", f"Utilization (option {oid})", "Utilization and throughput")
        used = capacity_out * ramp * fr.active
        served_out = item("Output tokens served", "tokens", used / decoded_per_out if decoded_per_out is not None else used)
        served_in = item("Input tokens served", "tokens", served_out * d.input_per_request / d.output_per_request)
    else:
        served_out = item("Output tokens served", "tokens", d.output_tokens * fr.active)
        served_in = item("Input tokens served", "tokens", d.input_tokens * fr.active)
    decoded = (item("Output tokens decoded (incl. reasoning)", "tokens", served_out * decoded_per_out)
               if decoded_per_out is not None else served_out)
    util = item("Utilization of the fleet (average)", "share", IFERROR(decoded / capacity_out, 0), total=False)
    util_peak = item("Utilization of the fleet at the peak", "share",
                     IFERROR(peak_decode * fr.active / (fleet * cap), 0), total=False)
    # delivered (input + output) tokens per replica-month; reasoning uses decode capacity but is not delivered
    per_rm = cap * d.seconds / MONTHS_PER_QUARTER * (d.input_per_request + d.output_per_request) / d.output_per_request
    cap_tokens_rm = item("Tokens one replica can serve per month", "tokens/month",
                         per_rm / decoded_per_out if decoded_per_out is not None else per_rm, total=False)
    replica_months = item("Replica-months", "replica-months", fleet * MONTHS_PER_QUARTER)
    reasoning_items = [decoded_per_out, peak_rate] if decoded_per_out is not None else []
    decoded_items = [decoded] if decoded_per_out is not None else []
    # the spares (N+k) stand by for a failed replica: the peak must be served without them
    serving = item("Serving capacity without the spares", "tok/s", (fleet - spare) * cap * fr.active, total=False)
    short = item("Serving capacity below the peak (1 = yes)", "flag",
                 ((peak_decode - serving) > CHECK_TOLERANCE) * fr.active)
    short_q = item(f"Quarters with serving capacity below the peak, {oid}", "quarters", total(short))
    fr.sections.append(Section("Capacity and load", [fr.active] + reasoning_items + [
        at_peak, needed, fleet, capacity_out, served_out, served_in] + decoded_items + [
        util, util_peak, cap_tokens_rm, replica_months, serving, short]))
    label = (f"{oid}: fleet without spares x output tok/s per replica >= peak decode rate, every quarter "
             "(quarters short)")
    return Load(cap, gpus, spare, fleet, served_in, served_out, util, cap_tokens_rm, replica_months,
                float(np.max(cap_vals)), decoded, (label, short_q))


def cash_pl_check(ctx: Context, oid: str, cash: Item, pl: Item, implied, what: str) -> tuple:
    """Over the horizon, cash cost - P&L cost equals ``implied``, the difference the kind's cash and P&L
    definitions imply (a scalar expression; None where both carry the same costs). ``what`` names its terms."""
    diff = total(cash) - total(pl)
    gap = item(f"Cash - P&L over the horizon - ({what}), {oid}", ctx.ccy,
               ROUND(diff if implied is None else diff - implied, CHECK_DECIMALS))
    return f"{oid}: cash - P&L over the horizon = {what}", gap


@dataclass
class Running:
    """Staff (hours x loaded rate per role, plus any flat monthly amount) and licences of an option."""

    items: list
    staff: Item
    licences: Item | None


def staff_and_licences(ctx: Context, fr: Frame, other_index=None) -> Running | None:
    """Staff from the Staff sheet (hours per month while serving, one-off hours in the first quarter served,
    each at its role's loaded rate) and, from an Opex row, flat staff and licences per month."""
    reg, oid, ccy = ctx.reg, fr.oid, ctx.ccy
    ox = ctx.scenario.opex.get(oid)
    rows = ctx.scenario.staff.get(oid, [])
    if ox is None and not rows:
        return None
    out, parts = [], []
    first_served = (timeline("qidx").eq(inp(f"{oid}.start_qidx"))) * 1
    for rec in rows:
        role = ctx.scenario.roles[rec.role]
        rate = reg.from_record(role, "loaded_rate_per_hour", f"role.{rec.role}", f"role {rec.role}: loaded rate",
                               f"{role.currency}/hour", "Other")
        wage = escalation(f"Wage index, {rec.role}", reg.from_record(
            role, "rate_escalation_annual", f"role.{rec.role}", f"role {rec.role}: wage growth", "per year", "Other",
            default=0.0))
        hours_m = reg.from_record(rec, "hours_per_month", f"{oid}.staff.{rec.role}", f"{oid}: {rec.role} hours per month",
                                  "hours/month", "Other")
        one_off = reg.from_record(rec, "one_off_hours", f"{oid}.staff.{rec.role}", f"{oid}: {rec.role} one-off hours",
                                  "hours", "Other", default=0.0)
        hours = item(f"Staff hours, {rec.role}", "hours", fr.active * hours_m * MONTHS_PER_QUARTER + one_off * first_served)
        cost = item(f"Staff cost, {rec.role}", ccy, hours * rate * wage * ctx.fx(role.currency))
        out += [wage, hours, cost]
        parts.append(cost)
    lic = None
    if ox is not None:
        op = f"{oid}.opex"
        fxo = ctx.fx(ox.currency)
        if other_index is None:
            other_index = escalation("Other opex index", reg.from_record(ox, "other_escalation_annual", op,
                                     f"{oid}: other opex escalation", "per year", "Other", default=0.0))
            out.append(other_index)
        flat = fr.active * reg.from_record(ox, "staff_per_month", op, f"{oid}: staff (flat monthly)",
                                           f"{ox.currency}/month", "Other", default=0.0) * MONTHS_PER_QUARTER * other_index * fxo
        parts.insert(0, flat)
        lic = item("Licences", ccy, fr.active * reg.from_record(ox, "licences_per_month", op, f"{oid}: licences",
                                                                f"{ox.currency}/month", "Other", default=0.0)
                   * MONTHS_PER_QUARTER * other_index * fxo)
    staff = item("Staff", ccy, balanced_sum(parts) * 1)
    out.append(staff)
    if lic is not None:
        out.append(lic)
    return Running(out, staff, lic)


def running_parts(running: Running | None) -> list:
    """The cost rows staff and licences add to an option's cash and P&L."""
    if running is None:
        return []
    return [running.staff] + ([running.licences] if running.licences is not None else [])


def running_category(ctx: Context, running: Running | None, categories: dict) -> None:
    if running is not None:
        parts = running_parts(running)
        categories["Staff and licences"] = item("Staff and licences", ctx.ccy, balanced_sum(parts) * 1)


def finish(ctx: Context, fr: Frame, kind: str, *, cash: Item, pl: Item, served_in: Item, served_out: Item,
           categories: dict, **extra) -> OptionModel:
    """The metrics every option reports, and the OptionModel that carries them."""
    ccy = ctx.ccy
    r_q = ctx.rate_q
    tokens = item("Tokens served", "tokens", served_in + served_out)
    cpm = item("Cost per million tokens", f"{ccy}/Mtok", IFERROR(pl / tokens * MILLION, NA()), total=False)
    cpm_safe = item("Cost per million tokens (0 where nothing is served)", f"{ccy}/Mtok",
                    IFERROR(pl / tokens * MILLION, 0), total=False)
    tco_nom = item("TCO, nominal", ccy, total(cash))
    pv_basis = extra.pop("pv_basis", None) or cash
    tco_pv = item("TCO, present value", ccy, npv(r_q, pv_basis))
    tok_total = item("Tokens served over the horizon", "tokens", total(tokens))
    pv_tok = item("PV of tokens served", "tokens", npv(r_q, tokens))
    lev = item("Levelized cost per million tokens", f"{ccy}/Mtok", IFERROR(tco_pv / pv_tok * MILLION, NA()))
    metrics = [tokens, cpm, cpm_safe, tco_nom, tco_pv, tok_total, pv_tok, lev]
    lev_q = None
    if fr.quality is not None:
        # a random guesser scores the chance level: only the score above it is quality bought
        score, chance = inp(fr.quality), inp(fr.chance)
        above = item("Score above chance, share of the range above chance", "share",
                     (score - chance) / (SCORE_SCALE_TOP - chance), total=False)
        lev_q = item("Quality-adjusted levelized cost (per Mtok, score above chance)", f"{ccy}/Mtok",
                     IF(above > 0, IFERROR(lev / above, NA()), NA()))
        metrics += [above, lev_q]
    fr.sections.append(Section("Metrics", metrics))
    return OptionModel(
        option_id=fr.oid, kind=kind, label=fr.opt.label, sections=fr.sections, cash_cost=cash, pl_cost=pl,
        tokens=tokens, input_tokens=served_in, output_tokens=served_out, cost_per_mtok=cpm, tco_nominal=tco_nom,
        tco_pv=tco_pv, pv_tokens=pv_tok, tokens_total=tok_total, levelized=lev, categories=categories,
        quality=fr.quality, levelized_per_correct=lev_q, cost_per_mtok_safe=cpm_safe, pv_basis=pv_basis, **extra,
    )


def category_section(fr: Frame, categories: dict, cost_items: list) -> None:
    extra = [c for c in categories.values() if c not in cost_items]
    if extra:
        fr.sections.append(Section("Cost by category (P&L view): the categories not already a row above", extra))


__all__ = ["Frame", "Load", "Running", "cash_pl_check", "category_section", "finish", "frame", "self_hosted_load",
           "staff_and_licences", "HOURS_PER_QUARTER", "SECONDS_PER_HOUR"]
