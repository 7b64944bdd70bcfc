"""Parts several option kinds share, defined once: the serving flag and quality score, the
self-hosted fleet and load, staff and licences, and the metrics every option reports."""

from __future__ import annotations

from dataclasses import dataclass, field

from tcomodel.finance.context import Context, escalation
from tcomodel.finance.model import OptionModel, Section, SECONDS_PER_HOUR
from tcomodel.sheet.expr import (
    CEILING, HOURS_PER_QUARTER, IFERROR, MAX, MILLION, MONTHS_PER_QUARTER, NA, Item, inp, item, npv, prev,
    timeline, total,
)


@dataclass
class Frame:
    """What every option has: its id, row, serving flag and optional quality score input."""

    oid: str
    opt: object
    active: Item
    quality: str | None
    sections: list = field(default_factory=list)


def frame(ctx: Context, oid: str, opt) -> Frame:
    s = ctx.scenario.settings
    start_idx = (opt.start_quarter - s.first_quarter + 1) if opt.start_quarter is not None else 1
    start = ctx.reg.scalar(f"{oid}.start_qidx", start_idx, f"{oid}: first quarter served (#)", "quarter #",
                           opt.source, opt.cell("start_quarter"), "Other")
    active = item("Serving", "flag", (timeline("qidx") >= start) * 1, total=False)
    quality = None
    if opt.quality_score is not None:
        quality = f"{oid}.quality_score"
        ctx.reg.scalar(quality, opt.quality_score, f"{oid}: quality score", "score 0-100", opt.source,
                       opt.cell("quality_score"), "Other")
    return Frame(oid, opt, active, quality)


@dataclass
class Load:
    """A self-hosted option's capacity, fleet and the tokens it serves."""

    cap: object  # output tok/s per replica (row input)
    gpus: object  # GPUs per replica (input)
    fleet: Item
    served_in: Item
    served_out: Item
    utilization: Item
    cap_tokens_rm: Item
    replica_months: Item
    throughput_tok_s: float


def self_hosted_load(ctx: Context, fr: Frame, capacity, *, never_shrinks: bool) -> Load:
    """Replicas to serve the peak, the fleet (owned fleets never shrink) and the load it carries."""
    oid, opt, d = fr.oid, fr.opt, ctx.demand
    cap_vals = capacity.output_tok_s_per_replica
    cap = ctx.reg.row(f"{oid}.capacity", cap_vals, f"{oid}: output tok/s per replica", "tok/s per replica",
                      capacity.source, "measured (Options sheet)" if capacity.measured else "roofline operating point",
                      "Utilization and throughput", engine=not capacity.measured)
    gpus = ctx.reg.scalar(f"{oid}.gpus_per_replica", opt.gpus_per_replica or 1, f"{oid}: GPUs per replica", "GPUs",
                          opt.source, opt.cell("gpus_per_replica"), "Utilization and throughput")
    needed = item("Replicas needed at peak", "replicas", CEILING(d.peak_output_tok_s / cap, 1) * fr.active, total=False)
    if never_shrinks:
        fleet = item("Replicas in service", "replicas", lambda me: MAX(prev(me, 0), needed), total=False)
    else:
        fleet = item("Replicas in service", "replicas", needed * 1, total=False)
    capacity_out = item("Output capacity of the fleet", "tokens", fleet * cap * d.seconds)
    if opt.load_basis == "utilization":
        ramp = ctx.reg.row(f"{oid}.utilization", ctx.scenario.utilization[oid], f"{oid}: utilization", "share",
                           "Utilization sheet", f"Utilization (option {oid})", "Utilization and throughput")
        served_out = item("Output tokens served", "tokens", capacity_out * ramp * fr.active)
        served_in = item("Input tokens served", "tokens", served_out * d.input_per_request / d.output_per_request)
    else:
        served_out = item("Output tokens served", "tokens", d.output_tokens * fr.active)
        served_in = item("Input tokens served", "tokens", d.input_tokens * fr.active)
    util = item("Utilization of the fleet", "share", IFERROR(served_out / capacity_out, 0), total=False)
    cap_tokens_rm = item("Tokens one replica can serve per month", "tokens/month",
                         cap * d.seconds / MONTHS_PER_QUARTER * (d.input_per_request + d.output_per_request)
                         / d.output_per_request, total=False)
    replica_months = item("Replica-months", "replica-months", fleet * MONTHS_PER_QUARTER)
    fr.sections.append(Section("Capacity and load", [fr.active, needed, fleet, capacity_out, served_out, served_in, util,
                                                     cap_tokens_rm, replica_months]))
    import numpy as np

    return Load(cap, gpus, fleet, served_in, served_out, util, cap_tokens_rm, replica_months,
                float(np.max(cap_vals)))


@dataclass
class Running:
    """Staff and licences of a self-hosted option (from its Opex row)."""

    items: list
    staff: Item
    licences: Item


def staff_and_licences(ctx: Context, fr: Frame, other_index=None) -> Running | None:
    """Staff and licences per month from the Opex row, escalated by its other-opex index."""
    ox = ctx.scenario.opex.get(fr.oid)
    if ox is None:
        return None
    reg, op = ctx.reg, f"{fr.oid}.opex"
    fxo = ctx.fx(ox.currency)
    out = []
    if other_index is None:
        other_index = escalation("Other opex index", reg.from_record(ox, "other_escalation_annual", op,
                                 f"{fr.oid}: other opex escalation", "per year", "Other", default=0.0))
        out.append(other_index)
    staff = item("Staff", ctx.ccy, fr.active * reg.from_record(ox, "staff_per_month", op, f"{fr.oid}: staff",
                                                               f"{ox.currency}/month", "Other", default=0.0)
                 * MONTHS_PER_QUARTER * other_index * fxo)
    lic = item("Licences", ctx.ccy, fr.active * reg.from_record(ox, "licences_per_month", op, f"{fr.oid}: licences",
                                                                f"{ox.currency}/month", "Other", default=0.0)
               * MONTHS_PER_QUARTER * other_index * fxo)
    return Running(out + [staff, lic], staff, lic)


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
    tco_pv = item("TCO, present value", ccy, npv(r_q, cash))
    tok_total = item("Tokens served over the horizon", "tokens", total(tokens))
    pv_tok = item("PV of tokens served", "tokens", npv(r_q, tokens))
    lev = item("Levelized cost per million tokens", f"{ccy}/Mtok", IFERROR(tco_pv / pv_tok * MILLION, NA()))
    metrics = [tokens, cpm, cpm_safe, tco_nom, tco_pv, tok_total, pv_tok, lev]
    lev_q = None
    if fr.quality is not None:
        lev_q = item("Levelized cost per million correct outputs' tokens", f"{ccy}/Mtok",
                     IFERROR(lev / (inp(fr.quality) / 100), NA()))
        metrics.append(lev_q)
    fr.sections.append(Section("Metrics", metrics))
    return OptionModel(
        option_id=fr.oid, kind=kind, label=fr.opt.label, sections=fr.sections, cash_cost=cash, pl_cost=pl,
        tokens=tokens, input_tokens=served_in, output_tokens=served_out, cost_per_mtok=cpm, tco_nominal=tco_nom,
        tco_pv=tco_pv, pv_tokens=pv_tok, tokens_total=tok_total, levelized=lev, categories=categories,
        quality=fr.quality, levelized_per_correct=lev_q, cost_per_mtok_safe=cpm_safe, **extra,
    )


def category_section(fr: Frame, categories: dict, cost_items: list) -> None:
    extra = [c for c in categories.values() if c not in cost_items]
    if extra:
        fr.sections.append(Section("Cost by category (P&L view)", extra))


__all__ = ["Frame", "Load", "Running", "category_section", "finish", "frame", "self_hosted_load",
           "staff_and_licences", "HOURS_PER_QUARTER", "SECONDS_PER_HOUR"]
