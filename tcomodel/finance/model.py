"""The quarterly TCO model, written once as line items (evaluated in numpy, rendered as Excel formulas).

Conventions (stated in the report and the README):
- One quarterly timeline; money in the report currency; costs positive.
- Quarterly cost (and cost per million tokens per quarter) is the P&L view: depreciation instead of
  capex. TCO and levelized cost are the cash view: capex when paid, the net book value returned as
  residual value in the last quarter.
- Present values use the quarterly rate (1 + annual)^(1/4) - 1 with Excel's NPV convention: each
  quarter's flow is discounted from the end of that quarter.
- Tokens served = input + output tokens; self-hosted capacity is the roofline operating point in
  output tokens per second per replica (prefill time included).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tcomodel.sheet.expr import Const, Item

SECONDS_PER_HOUR = Const(3600, "seconds per hour")
QUARTERS_PER_YEAR = Const(4, "quarters per year")
SCORE_SCALE_TOP = Const(100, "top of the score scale")  # benchmark scores are percent: 0-100
# Checks: one fails when its absolute value exceeds the tolerance (in the check's own unit); sums that cancel to
# 0 are rounded to CHECK_DECIMALS first, below which Excel, LibreOffice and numpy differ in the last bits.
CHECK_TOLERANCE = Const(0.01, "check tolerance")
# the lowest IRR per quarter shown: at or below it the spreadsheet's IRR has no meaningful root (see build)
IRR_FLOOR = Const(-0.9999, "IRR floor per quarter")
# the NPV-at-IRR check is per this much of the flows' size (the IRR's residual grows with the flows; see build)
CHECK_FLOW_UNIT = Const(1e6, "check flow unit")
CHECK_DECIMALS = Const(6, "check decimals")

# Input groups: the order of the variance bridge in `tcomodel compare` and the Inputs sheet sections.
GROUPS = ("API prices", "Hardware and hosting prices", "FX", "Workload volume", "Utilization and throughput",
          "Financing", "Other")


@dataclass
class InputDef:
    name: str
    value: float
    label: str
    unit: str
    source: str
    origin: str  # Sheet!Cell in the scenario workbook, or "roofline" for engine-computed values
    group: str
    engine_computed: bool = False


@dataclass
class RowInputDef:
    name: str
    values: np.ndarray
    label: str
    unit: str
    source: str
    origin: str
    group: str
    engine_computed: bool = False


@dataclass
class Section:
    """A titled block of line items on one calculation sheet."""

    title: str
    items: list[Item]


@dataclass
class Capacity:
    """Output tokens per second one replica sustains at the workload's operating point, per quarter."""

    output_tok_s_per_replica: np.ndarray
    source: str
    measured: bool = False


@dataclass(slots=True)  # slots: an attribute not declared here cannot be added later
class OptionModel:
    option_id: str
    kind: str
    label: str
    sections: list[Section]
    cash_cost: Item
    pl_cost: Item
    tokens: Item
    input_tokens: Item
    output_tokens: Item
    cost_per_mtok: Item
    tco_nominal: Item
    tco_pv: Item
    pv_tokens: Item
    tokens_total: Item
    levelized: Item
    categories: dict[str, Item]  # cost breakdown (P&L view) for the chart
    # (label, quarterly row, sign): P&L cost + the sum of sign x row is the cash cost (the Annual sheet's bridge);
    # empty where the two are the same
    cash_bridge: list = field(default_factory=list)
    start_payments: Item | None = None  # cash paid at the start of a quarter (in cash_cost too), for the IRR
    pv_basis: Item | None = None  # cash cost with start-of-quarter payments carried to the quarter end (for PV, NPV)
    cost_per_mtok_safe: Item | None = None  # 0 where nothing is served (for the cost x tokens check)
    fleet: Item | None = None
    utilization: Item | None = None
    throughput_tok_s: float | None = None
    fee_units: Item | None = None  # rented servers: cost per unit of monthly fee (for breakeven fee)
    fee_input: str | None = None
    replica_months: Item | None = None
    capacity_tokens_per_replica_month: Item | None = None
    quality: str | None = None  # input name of the quality score
    levelized_per_correct: Item | None = None
    nbv_total: Item | None = None
    depreciation: Item | None = None  # owned: book depreciation (P&L), for the JSON
    nbv_negative: Item | None = None  # owned: sum of negative book values over vintages (check)
    vintage_checks: list = field(default_factory=list)  # (nbv item, salvage item) pairs
    vintage_blocks: list = field(default_factory=list)  # (units bought item, the vintage's rows), per vintage
    checks: list = field(default_factory=list)  # (label, scalar item) rows for the Checks sheet, 0 when fine


@dataclass
class Comparison:
    option_id: str
    incremental_cf: Item
    npv: Item
    irr_quarterly: Item
    irr_annual: Item
    payback_quarter: Item
    discounted_payback_quarter: Item
    items: list[Item]
    npv_check: Item | None = None
    from_option: str | None = None  # the option switched from (the baseline unless a pair)
    irr_row: Item | None = None  # saving at quarter boundaries 0..N-1 (the IRR's flows, with irr_tail)
    irr_tail: Item | None = None  # the saving at boundary N: placed right after irr_row's last period
    nominal_saving: Item | None = None  # cash saving per quarter where it falls, after tax (the annual roll-up's)


@dataclass
class TcoModel:
    inputs: dict[str, InputDef]
    row_inputs: dict[str, RowInputDef]
    timeline: dict[str, np.ndarray]
    quarters: list
    general: list[Section]
    options: dict[str, OptionModel]
    comparisons: dict[str, Comparison]
    breakeven: list[Section]
    checks: list[tuple[str, Item]]
    master_check: Item
    baseline: str
    currency: str
    check_flags: list = field(default_factory=list)
    warnings: list = field(default_factory=list)  # (option_id, message) from building the model
    pairs: dict = field(default_factory=dict)  # (from_id, to_id) -> Comparison, from the Pairs sheet
    unknown_fee: dict = field(default_factory=dict)  # option_id -> levels and NPV items at 50..150% of its fee
    side_by_side: list = field(default_factory=list)  # Sections for the Comparison sheet

    def all_items(self) -> list[Item]:
        out: list[Item] = []
        for s in self.general:
            out += s.items
        for om in self.options.values():
            for s in om.sections:
                out += s.items
        for c in list(self.comparisons.values()) + list(self.pairs.values()):
            out += c.items
        for s in self.breakeven:
            out += s.items
        for s in self.side_by_side:
            out += s.items
        out += [i for _, i in self.checks] + list(self.check_flags) + [self.master_check]
        return out

    def values(self) -> dict:
        """Input values for ``evaluate``: scalars, row inputs and timeline rows by name."""
        vals: dict = {n: np.asarray(d.value, dtype=float) for n, d in self.inputs.items()}
        vals.update({n: d.values for n, d in self.row_inputs.items()})
        vals.update(self.timeline)
        return vals
