"""Hosted API: tokens x prices, with cache reads and writes (prompt caching stated yes or no), reasoning
tokens billed as output, batch, long-context tier, enterprise terms, a price trend and FX."""

from __future__ import annotations

from tcomodel.finance.context import Context, balanced_sum, escalation
from tcomodel.finance.model import Section
from tcomodel.finance.options.common import (
    cash_pl_check, category_section, finish, frame, running_category, running_parts, staff_and_licences,
)
from tcomodel.sheet.expr import IFERROR, MILLION, Const, item


def build(ctx: Context, oid: str, opt, capacity=None):
    fr = frame(ctx, oid, opt)
    reg, d, ccy = ctx.reg, ctx.demand, ctx.ccy
    api = ctx.scenario.api_prices[oid]
    fx = ctx.fx(api.currency)
    ap = f"{oid}.api"
    g = "API prices"
    p_in = reg.from_record(api, "input_per_mtok", ap, f"{oid}: input price", f"{api.currency}/Mtok", g)
    p_out = reg.from_record(api, "output_per_mtok", ap, f"{oid}: output price", f"{api.currency}/Mtok", g)
    if api.prompt_caching == "yes":  # the loader requires both cache prices with yes
        p_cached = reg.from_record(api, "cached_input_per_mtok", ap, f"{oid}: cached input price",
                                   f"{api.currency}/Mtok", g)
        p_write = reg.from_record(api, "cache_write_per_mtok", ap, f"{oid}: cache write price",
                                  f"{api.currency}/Mtok", g)
    else:  # no prompt caching: cache hits and writes are ordinary input
        p_cached = p_write = p_in
    bd = reg.from_record(api, "batch_discount", ap, f"{oid}: batch discount", "share", g)
    lc_in = reg.from_record(api, "long_context_input_per_mtok", ap, f"{oid}: long-context input price",
                            f"{api.currency}/Mtok", g, default=api.input_per_mtok)
    lc_out = reg.from_record(api, "long_context_output_per_mtok", ap, f"{oid}: long-context output price",
                             f"{api.currency}/Mtok", g, default=api.output_per_mtok)
    disc_ent = reg.from_record(api, "enterprise_discount", ap, f"{oid}: enterprise discount", "share", g, default=0.0)
    chg = reg.from_record(api, "annual_price_change", ap, f"{oid}: annual price change", "per year", g, default=0.0)
    lc = d.long_context_share if api.long_context_threshold_tokens is not None else Const(0)
    served_in = item("Input tokens served", "tokens", d.input_tokens * fr.active)
    served_out = item("Output tokens served", "tokens", d.output_tokens * fr.active)
    # reasoning tokens are generated per request and billed as output, but not delivered
    reasoning = (item("Reasoning tokens (billed as output)", "tokens", served_out * fr.reasoning / d.output_per_request)
                 if fr.reasoning is not None else None)
    billed_out = served_out + reasoning if reasoning is not None else served_out
    fresh = item("Fresh input tokens", "tokens", served_in * (1 - d.cache_hit - d.cache_write))
    cached = item("Cached input tokens", "tokens", served_in * d.cache_hit)
    written = item("Cache-write input tokens", "tokens", served_in * d.cache_write)
    # ratios of tier to list price; a zero list price (free tier) has no uplift rather than 0/0
    lc_in_ratio = item("Long-context input price ratio", "ratio", IFERROR(lc_in / p_in, 1), total=False)
    in_mult = item("Long-context uplift, input", "factor", 1 + lc * (lc_in_ratio - 1), total=False)
    out_mult = item("Long-context uplift, output", "factor", 1 + lc * (IFERROR(lc_out / p_out, 1) - 1), total=False)
    price_idx = escalation("Price index", chg)
    terms = item("Batch and enterprise terms", "factor", (1 - d.batch_share * bd) * (1 - disc_ent), total=False)
    fx_item = item("FX rate", f"{ccy}/{api.currency}", fx, total=False) if api.currency != ccy else None
    fxv = fx_item if fx_item is not None else Const(1)
    in_cost = item("Input token cost", ccy, (fresh * p_in + cached * p_cached + written * p_write) * in_mult
                   / MILLION * terms * price_idx * fxv)
    out_cost = item("Output token cost", ccy, billed_out * p_out * out_mult / MILLION * terms * price_idx * fxv)
    running = staff_and_licences(ctx, fr)
    parts = [in_cost, out_cost] + running_parts(running)
    cash = item("Cash cost", ccy, balanced_sum(parts))
    pl = item("P&L cost", ccy, cash * 1)
    categories = {"API tokens": item("API tokens", ccy, in_cost + out_cost)} if running is not None else {"API tokens": cash}
    running_category(ctx, running, categories)
    calc = [served_in, served_out] + ([reasoning] if reasoning is not None else []) + [
        fresh, cached, written, lc_in_ratio, in_mult, out_mult, price_idx, terms]
    if fx_item is not None:
        calc.append(fx_item)
    calc += [in_cost, out_cost] + (running.items if running is not None else [])
    fr.sections.append(Section("Hosted API: tokens and prices", [fr.active] + calc))
    fr.sections.append(Section("Cost", [cash, pl]))
    category_section(fr, categories, calc + [cash, pl])
    # billed per token as used: the P&L is the cash cost, nothing prepaid
    checks = [cash_pl_check(ctx, oid, cash, pl, None, "0 (tokens billed as used, staff and licences in both)")]
    return finish(ctx, fr, "hosted_api", cash=cash, pl=pl, served_in=served_in, served_out=served_out,
                  categories=categories, checks=checks)
