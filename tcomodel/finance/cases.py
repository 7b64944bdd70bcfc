"""The Low, Base and High cases: every input with a range on the scenario's Ranges sheet takes its low or
high value (Workload rows: the quarter's value times the low or high multiplier); every other input keeps its
workbook value. The report carries all three and a switch (the defined name ``Case``); the engine runs any one.

The cases are the Ranges sheet's columns, input by input: "Low" is not a pessimistic or optimistic bundle
(a low fee and a low volume pull cost per Mtok in opposite directions).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tcomodel.errors import UsageError
from tcomodel.finance.input_ranges import SampledInput, resolve_ranges

CASES = ("low", "base", "high")
CASE_LABEL = {"low": "Low", "base": "Base", "high": "High"}  # as the report's drop-down shows them


def check_case(case: str) -> str:
    """The canonical case name ('low', 'base', 'high') of ``case`` (any capitalisation)."""
    c = str(case).strip().lower()
    if c not in CASES:
        raise UsageError(f"case must be one of low, base, high (got {case!r})")
    return c


@dataclass
class ScalarRange:
    name: str  # model input
    low: float
    base: float
    high: float
    ranges_cell: str  # Ranges!Dn of the low value


@dataclass
class RowRange:
    """A Workload row with a range: per-quarter multipliers of the workbook values (1 where no range applies)."""

    name: str
    base: np.ndarray
    low_multiplier: np.ndarray
    high_multiplier: np.ndarray
    clip_share: bool  # a share stays within [0, 1] after scaling
    ranges_cells: list[str] = field(default_factory=list)

    def values(self, case: str) -> np.ndarray:
        mult = {"low": self.low_multiplier, "base": np.ones_like(self.base), "high": self.high_multiplier}[case]
        row = self.base * mult
        return np.clip(row, 0.0, 1.0) if self.clip_share else row


@dataclass
class CaseTable:
    scalars: dict[str, ScalarRange] = field(default_factory=dict)
    rows: dict[str, RowRange] = field(default_factory=dict)
    sampled: list[SampledInput] = field(default_factory=list)

    def input_values(self, model, case: str) -> dict:
        """The evaluate() input dict of ``case``: the model's workbook values with the case's ranges applied."""
        case = check_case(case)
        vals = model.values()
        if case == "base":
            return vals
        for s in self.scalars.values():
            vals[s.name] = np.asarray(s.low if case == "low" else s.high, dtype=float)
        for r in self.rows.values():
            vals[r.name] = r.values(case)
        return vals


def case_table(scenario, model) -> CaseTable:
    """Every Ranges row resolved to the inputs it sets; InputError (naming the Ranges cell) for a row that
    sets nothing the cost model reads."""
    sampled, _notes = resolve_ranges(scenario, model)
    table = CaseTable(sampled=sampled)
    for si in sampled:
        if not si.is_row:
            for name in si.names:
                table.scalars[name] = ScalarRange(name, si.low, float(model.inputs[name].value), si.high,
                                                  si.ranges_cell)
            continue
        for name in si.names:
            base = np.asarray(model.row_inputs[name].values, dtype=float)
            rr = table.rows.get(name)
            if rr is None:
                rr = table.rows[name] = RowRange(name, base, np.ones_like(base), np.ones_like(base), si.clip_share)
            rr.clip_share = rr.clip_share or si.clip_share
            rr.ranges_cells.append(si.ranges_cell)
            where = slice(None) if si.quarter_index is None else slice(si.quarter_index, si.quarter_index + 1)
            rr.low_multiplier[where] *= si.low
            rr.high_multiplier[where] *= si.high
    return table
