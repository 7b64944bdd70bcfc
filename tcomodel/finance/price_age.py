"""How old the scenario's prices are at build time: every ApiPrices, CloudRates and FX row's as_of date
against the Scenario key price_max_age_months (Rental rows too, where they carry a date).

Ages are counted in calendar months: the whole months from the as_of date to the build date, plus the
remaining days as a share of the month that follows (2026-05-01 to 2026-11-30: 6 months + 29/30 = 6.97).
A month that is shorter than the as_of day ends on its last day (2026-01-31 + 1 month = 2026-02-28).
A price is stale when its age exceeds the limit. Stale prices are not a model inconsistency: they give a
build warning and a red row on the Checks sheet, and do not count in the master check.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

# sheet, what a row's date stands for, how its id is shown
_SHEETS = (("ApiPrices", "price list", "option"), ("CloudRates", "GPU rate card", "option"),
           ("Rental", "rental price", "option"), ("FX", "FX rate", "currency"))


def add_months(d: dt.date, n: int) -> dt.date:
    """``d`` moved ``n`` calendar months on; the day is capped at the target month's last day."""
    m = d.month - 1 + n
    year, month = d.year + m // 12, m % 12 + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def months_between(start: dt.date, end: dt.date) -> float:
    """Calendar months from ``start`` to ``end``: whole months plus the remaining days over the length of the
    month they fall in; negative when ``end`` is before ``start``."""
    if end < start:
        return -months_between(end, start)
    n = (end.year - start.year) * 12 + end.month - start.month
    while n > 0 and add_months(start, n) > end:
        n -= 1
    lo, hi = add_months(start, n), add_months(start, n + 1)
    return n + (end - lo).days / (hi - lo).days


@dataclass(frozen=True)
class PriceAge:
    sheet: str
    row_id: str  # option_id or currency
    what: str  # "price list" | "GPU rates" | "FX rate"
    cell: str  # Sheet!Cell of the as_of date
    as_of: dt.date
    age_months: float
    limit_months: int
    limit_cell: str  # Scenario!B.. of price_max_age_months ("" when the key is absent: the default)

    @property
    def stale(self) -> bool:
        return self.age_months > self.limit_months

    @property
    def shown_age_months(self) -> float:
        """The age as the report's Checks sheet shows it (6 decimals)."""
        return round(self.age_months, 6)

    @property
    def shown_stale(self) -> bool:
        """Stale by the Checks sheet's formula, on the age it shows."""
        return self.shown_age_months > self.limit_months

    @property
    def future(self) -> bool:
        return self.age_months < 0

    def warning(self) -> str:
        if self.future:
            return (f"{self.cell}: {self.what} of {self.as_of.isoformat()} ({self.row_id}) is dated after the build "
                    f"date; check the date")
        return (f"{self.cell}: {self.what} of {self.as_of.isoformat()} ({self.row_id}) is {self.age_months:.2f} "
                f"months old (limit {self.limit_months}); update it or raise price_max_age_months")


def price_ages(scenario, build_date: dt.date) -> list[PriceAge]:
    """One PriceAge per dated price row, in sheet order (ApiPrices, CloudRates, FX)."""
    s = scenario.settings
    limit = s.price_max_age_months if s.price_max_age_months is not None else 6
    limit_cell = s.cells.get("price_max_age_months", "")
    tables = {"ApiPrices": scenario.api_prices, "CloudRates": scenario.cloud_rates, "Rental": scenario.rental,
              "FX": scenario.fx_rows}
    out = []
    for sheet, what, _ in _SHEETS:
        for row_id, rec in tables[sheet].items():
            if getattr(rec, "as_of", None) is None or (sheet == "FX" and str(row_id).upper() == s.report_currency):
                continue  # the report currency's rate is 1 whatever its date
            out.append(PriceAge(sheet, str(row_id), what, rec.cell("as_of"), rec.as_of,
                                months_between(rec.as_of, build_date), int(limit), limit_cell))
    return out


def price_warnings(ages: list[PriceAge]) -> list[str]:
    """Warnings for stale and future-dated prices."""
    return [a.warning() for a in ages if a.stale or a.future]
