"""Annual roll-ups of the quarterly model (budgets are annual).

A budget year is the calendar year (``fiscal_year_start_month`` 1) or a fiscal year starting in month 4, 7 or 10,
and always holds whole quarters. The Time sheet carries each quarter's year key (the calendar year in which its
budget year starts); every annual figure of an option is a SUMIFS over its quarterly row keyed on that row, or a
formula over those sums, so the Annual sheet stays live and the engine caches the same expression's value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tcomodel.sheet.engine import evaluate_over_items
from tcomodel.sheet.expr import IFERROR, MILLION, NA, SUM, Const, Item, item, sumifs, timeline, total

YEAR_ROW = "year"  # timeline row name: the year key of each quarter


def year_keys(quarters, start_month: int) -> np.ndarray:
    """Each quarter's budget year, named by the calendar year in which that year starts."""
    return np.array([q.year - (1 if q.start_date.month < start_month else 0) for q in quarters], dtype=float)


def year_label(key: int, start_month: int) -> str:
    """``2027`` for a calendar year; ``FY2027/28`` for a fiscal year starting in 2027 (Danish usage writes a
    year that spans two calendar years as 2027/28)."""
    key = int(key)
    return str(key) if start_month == 1 else f"FY{key}/{(key + 1) % 100:02d}"


@dataclass(frozen=True)
class Year:
    key: int  # the calendar year in which the budget year starts
    label: str
    quarters: int  # quarters of the horizon in this year (4, except a partial first or last year)

    @property
    def partial(self) -> bool:
        return self.quarters < 4


@dataclass
class AnnualRow:
    """One line of the Annual sheet for one option: an item per year and one for the whole horizon.
    ``check`` (where present) is the horizon total of the quarterly row minus ``total``: 0 when the years add up."""

    key: str  # JSON key
    label: str
    unit: str
    years: list[Item]
    total: Item | None = None
    check: Item | None = None


@dataclass
class AnnualOption:
    option_id: str
    categories: list[AnnualRow]  # the option's cost categories (P&L view), in its order
    rows: list[AnnualRow]  # cost (P&L), cash cost, tokens, cost per Mtok, cumulative cash, saving
    bridge: list[AnnualRow] = field(default_factory=list)  # P&L cost + these = cash cost (empty where equal)

    def lines(self) -> list[tuple[AnnualRow, bool]]:
        """The option's rows in the sheet's order, each with whether it is indented (a part of the row after it):
        the categories, the P&L cost, the bridge to cash, the cash cost and the rest."""
        pl, rest = self.rows[0], self.rows[1:]
        return [(r, True) for r in self.categories] + [(pl, False)] + [(r, True) for r in self.bridge] + \
            [(r, False) for r in rest]

    def row(self, key: str) -> AnnualRow | None:
        return next((r for r in self.rows if r.key == key), None)


@dataclass
class AnnualView:
    start_month: int
    years: list[Year]
    keys: list[Const]  # the SUMIFS criterion of each year; the report shows it in a cell
    options: dict[str, AnnualOption]
    baseline: str
    values: dict = field(default_factory=dict)  # Item -> float, once evaluated

    def items(self) -> list[Item]:
        """Every item in an order where each comes after the items it refers to."""
        out: list[Item] = []
        for ao in self.options.values():
            for r, _ in ao.lines():
                out += r.years
        for ao in self.options.values():
            for r, _ in ao.lines():
                out += [x for x in (r.total, r.check) if x is not None]
        return out

    def value(self, it: Item) -> float:
        return self.values[it]


def _summed(key, label, unit, row: Item, keys, oid, sign: int = 1) -> AnnualRow:
    """The quarterly ``row`` summed per year (negated where ``sign`` is -1: a deduction in the cash bridge)."""
    def year_sum(k):
        s = sumifs(row, timeline(YEAR_ROW), k)
        return -s if sign < 0 else s
    years = [item(f"{label}, {oid}, {k.name.removeprefix('year ')}", unit, year_sum(k)) for k in keys]
    tot = item(f"{label}, {oid}, all years", unit, SUM(*years))
    check = item(f"{label}, {oid}: quarterly total - sum of the years", unit,
                 (-total(row) if sign < 0 else total(row)) - tot)
    return AnnualRow(key, label, unit, years, tot, check)


def _per_mtok(cost: AnnualRow, tokens: AnnualRow, ccy, oid, labels) -> AnnualRow:
    label = "Cost per million tokens (P&L)"
    years = [item(f"{label}, {oid}, {y}", f"{ccy}/Mtok", IFERROR(c / t * MILLION, NA()))
             for y, c, t in zip(labels, cost.years, tokens.years)]
    tot = item(f"{label}, {oid}, all years", f"{ccy}/Mtok", IFERROR(cost.total / tokens.total * MILLION, NA()))
    return AnnualRow("cost_per_mtok", label, f"{ccy}/Mtok", years, tot)


def _cumulative(cash: AnnualRow, ccy, oid, labels) -> AnnualRow:
    label = "Cumulative cash cost"
    years: list[Item] = []
    for y, c in zip(labels, cash.years):
        years.append(item(f"{label}, {oid}, {y}", ccy, (years[-1] + c) if years else c * 1))
    return AnnualRow("cumulative_cash_cost", label, ccy, years)


def build_annual(model, quarters, start_month: int) -> AnnualView:
    """The annual roll-up items of every option, keyed on the timeline's year row."""
    keys_q = year_keys(quarters, start_month)
    uniq = sorted({int(k) for k in keys_q})
    years = [Year(k, year_label(k, start_month), int(np.sum(keys_q == k))) for k in uniq]
    keys = [Const(y.key, f"year {y.label}") for y in years]
    ccy = model.currency
    options: dict[str, AnnualOption] = {}
    for oid, om in model.options.items():
        cats = [_summed(name, name, ccy, it, keys, oid) for name, it in om.categories.items()]
        pl = _summed("cost", "Cost (P&L view)", ccy, om.pl_cost, keys, oid)
        cash = _summed("cash_cost", "Cash cost", ccy, om.cash_cost, keys, oid)
        tok = _summed("tokens", "Tokens served", "tokens", om.tokens, keys, oid)
        labels = [y.label for y in years]
        rows = [pl, cash, tok, _per_mtok(pl, tok, ccy, oid, labels), _cumulative(cash, ccy, oid, labels)]
        cmp = model.comparisons.get(oid)
        if cmp is not None and cmp.nominal_saving is not None:
            rows.append(_summed("saving_vs_baseline", f"Saving vs {model.baseline} (cash, after tax)", ccy,
                                cmp.nominal_saving, keys, oid))
        bridge = [_summed("cash_bridge", ("add: " if sign > 0 else "less: ") + label, ccy, it, keys, oid, sign)
                  for label, it, sign in om.cash_bridge]
        options[oid] = AnnualOption(oid, cats, rows, bridge)
    return AnnualView(start_month, years, keys, options, model.baseline)


def evaluate_annual(view: AnnualView, model, values: dict) -> AnnualView:
    """Each annual item's value, by the engine, from the very expression its cell renders."""
    n = len(next(iter(model.timeline.values())))
    # one formula per option, row and year: evaluated together (the same operations as one cell at a time)
    items = view.items()
    out = evaluate_over_items(items, values, n, model.values())
    view.values.update((it, float(np.ravel(out[it])[0])) for it in items)
    return view


def _num(x):
    x = float(x)
    return None if not np.isfinite(x) else x


def annual_json(view: AnnualView, oid: str) -> dict:
    """One option's annual roll-up as plain JSON types (None where a figure is undefined, e.g. cost per Mtok of a
    year with no tokens)."""
    ao = view.options[oid]

    def vals(r: AnnualRow | None):
        return [_num(view.values[it]) for it in r.years] if r is not None else None

    saving = ao.row("saving_vs_baseline")
    return {
        "years": [y.label for y in view.years],
        "quarters_in_year": [y.quarters for y in view.years],
        "cost_by_category": {r.label: vals(r) for r in ao.categories},
        "cost": vals(ao.row("cost")),
        # P&L cost + these (signed) = cash cost; empty where the two are the same
        "cash_bridge": {r.label: vals(r) for r in ao.bridge},
        "cash_cost": vals(ao.row("cash_cost")),
        "tokens": vals(ao.row("tokens")),
        "cost_per_mtok": vals(ao.row("cost_per_mtok")),
        "cumulative_cash_cost": vals(ao.row("cumulative_cash_cost")),
        "saving_vs_baseline_cash": vals(saving) if saving is not None else [0.0] * len(view.years),
    }
