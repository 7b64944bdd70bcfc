"""What every option kind's builder shares: the input registry, the demand block, discounting,
escalation and FX. One definition each, used by every kind in ``finance/options``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tcomodel.finance.model import InputDef, RowInputDef
from tcomodel.sheet.expr import Const, Item, balanced_sum, inp, item, row_input, timeline

__all__ = ["Context", "Demand", "Registry", "balanced_sum", "escalation"]  # balanced_sum lives in sheet/


class Registry:
    """Collects the model's inputs (one Inputs-sheet cell each) with their origin cell and source."""

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


@dataclass
class Demand:
    """The workload as line items and row inputs (the Demand sheet), shared by every option."""

    input_tokens: Item  # demanded per quarter
    output_tokens: Item
    seconds: Item  # seconds per quarter
    peak_output_tok_s: Item
    utilization_ceiling: Item  # 1 / peak to average
    cache_hit: object
    cache_write: object
    batch_share: object
    long_context_share: object
    input_per_request: object
    output_per_request: object


@dataclass
class Context:
    """Everything an option builder needs besides its own rows."""

    reg: Registry
    scenario: object
    demand: Demand
    rate_q: Item  # discount rate per quarter
    timeline: dict
    warnings: list = field(default_factory=list)  # (option_id, message)

    @property
    def ccy(self) -> str:
        return self.scenario.settings.report_currency

    @property
    def n(self) -> int:
        return self.scenario.settings.horizon_quarters

    def fx(self, currency):
        """The FX rate of ``currency`` into the report currency as an input (1 for the report currency)."""
        s = self.scenario
        ccy = s.settings.report_currency
        if currency is None or currency.upper() == ccy:
            return Const(1)
        rec = s.fx_rows[currency.upper()] if currency.upper() in s.fx_rows else s.fx_rows[currency]
        return self.reg.scalar(f"fx.{currency.upper()}", rec.rate_to_report_currency, f"FX {currency.upper()}",
                               f"{ccy} per {currency.upper()}", rec.source, rec.cell("rate_to_report_currency"), "FX")


def escalation(label, rate, unit="index"):
    """(1 + annual rate) ^ years elapsed at the quarter's start."""
    return item(label, unit, (1 + rate) ** timeline("years_elapsed"), total=False)
