"""Variance bridge of two scenarios: how much of each option's change comes from each input group.

Method (sequential substitution, documented in the report and the README):

1. Build the model structure (line items) from NEW. Feed it OLD's input values by input name.
   Whatever that does not reproduce of OLD's own result is the "Structure" step: changes that alter
   the items themselves (baseline, depreciation method, economic life, kind, currency of a row,
   inputs that exist in only one model).
2. Switch the input groups from OLD to NEW one at a time in the fixed ``GROUPS`` order, evaluating
   after each switch; each step's contribution is the change of the metric it causes.
3. The last step lands on NEW's own result, so the steps sum to NEW minus OLD (up to rounding).

All steps are evaluated in one ``evaluate`` call along the leading scenario axis. The order matters
(interactions are credited to the later group), which is why it is fixed: GROUPS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from tcomodel.finance.model import GROUPS
from tcomodel.finance.results import run_model
from tcomodel.inputs import load_scenario
from tcomodel.sheet import evaluate

from tcomodel.compare.diff import Change, diff_scenarios

STRUCTURE = "Structure (not substituted)"
METRICS = {
    "levelized_cost_per_mtok": "Levelized cost per million tokens",
    "npv_vs_baseline": "NPV against the baseline",
}


@dataclass
class Bridge:
    """One option's bridge of one metric: OLD, one contribution per step, NEW."""

    option_id: str
    label: str
    metric: str
    unit: str
    old: float | None
    new: float | None
    steps: list[tuple[str, float | None]]  # (STRUCTURE or a group, contribution), in bridge order
    end_residual: float | None = None  # last substitution step minus NEW's own run: 0 when the method is sound

    @property
    def total_change(self) -> float | None:
        return None if self.old is None or self.new is None else self.new - self.old

    def contribution(self, step: str) -> float | None:
        return dict(self.steps)[step]

    def to_json(self) -> dict:
        return {"option_id": self.option_id, "label": self.label, "unit": self.unit, "old": self.old,
                "new": self.new, "total_change": self.total_change,
                "steps": [{"step": s, "contribution": v} for s, v in self.steps],
                "end_residual": self.end_residual}


@dataclass
class CompareResult:
    old_path: str
    new_path: str
    currency: str
    changes: list[Change]
    bridges: dict[str, dict[str, Bridge]]  # metric -> option_id -> Bridge
    structural: list[str]  # what could not be substituted, in words
    options_old_only: list[str] = field(default_factory=list)
    options_new_only: list[str] = field(default_factory=list)
    inputs_old_only: list[str] = field(default_factory=list)
    inputs_new_only: list[str] = field(default_factory=list)
    bridge_note: str | None = None  # why there is no bridge, when there is none
    baseline: str = ""


def _num(x) -> float | None:
    x = float(np.asarray(x))
    return None if math.isnan(x) or math.isinf(x) else x


def _diff(a, b) -> float | None:
    return None if a is None or b is None else a - b


def compare_scenarios(old_path, new_path) -> CompareResult:
    """Load both workbooks (InputError with Sheet!Cell on a bad one), diff them and bridge every
    option present in both."""
    old_sc = load_scenario(old_path)
    new_sc = load_scenario(new_path)
    return compare_runs(run_model(old_sc), run_model(new_sc), str(old_path), str(new_path))


def compare_runs(old_run, new_run, old_path: str = "OLD", new_path: str = "NEW") -> CompareResult:
    om, nm = old_run.model, new_run.model
    so, sn = old_run.scenario.settings, new_run.scenario.settings
    changes = diff_scenarios(old_run.scenario, new_run.scenario, om, nm)
    opts_old_only = [o for o in om.options if o not in nm.options]
    opts_new_only = [o for o in nm.options if o not in om.options]
    common = [o for o in nm.options if o in om.options]
    in_old = set(om.inputs) | set(om.row_inputs)
    in_new = set(nm.inputs) | set(nm.row_inputs)
    inputs_old_only = sorted(in_old - in_new)
    inputs_new_only = sorted(in_new - in_old)

    structural: list[str] = []
    for o in opts_old_only:
        structural.append(f"option {o} is only in OLD: not compared")
    for o in opts_new_only:
        structural.append(f"option {o} is only in NEW: not compared")
    if so.baseline_option != sn.baseline_option:
        structural.append(f"baseline changed from {so.baseline_option} to {sn.baseline_option}: "
                          "the NPV bridge's Structure step holds the switch")
    for c in changes:
        if c.bridge_group == "structural" and c.field != "(row)" and c.sheet != "Scenario":
            structural.append(f"{c.new_cell or c.old_cell}: {c.row_id} {c.field} {c.old} -> {c.new}")
    if inputs_old_only:
        structural.append(f"{len(inputs_old_only)} input(s) only in OLD: " + ", ".join(inputs_old_only))
    if inputs_new_only:
        structural.append(f"{len(inputs_new_only)} input(s) only in NEW (held at NEW's value from the start): "
                          + ", ".join(inputs_new_only))

    result = CompareResult(old_path, new_path, nm.currency, changes, {m: {} for m in METRICS}, structural,
                           opts_old_only, opts_new_only, inputs_old_only, inputs_new_only, baseline=nm.baseline)
    # Only the same timeline and currency give comparable steps.
    blockers = []
    if so.first_quarter != sn.first_quarter or so.horizon_quarters != sn.horizon_quarters:
        blockers.append(f"timeline differs: OLD {old_run.scenario.quarters[0]}..{old_run.scenario.quarters[-1]} "
                        f"({so.horizon_quarters} quarters), NEW {new_run.scenario.quarters[0]}.."
                        f"{new_run.scenario.quarters[-1]} ({sn.horizon_quarters} quarters)")
    if so.report_currency != sn.report_currency:
        blockers.append(f"report currency differs: OLD {so.report_currency}, NEW {sn.report_currency}")
    if blockers:
        result.bridge_note = "no bridge: " + "; ".join(blockers) + ". Make the timeline and currency equal to bridge."
        result.structural[:0] = blockers
        return result

    steps = _substitution_values(om, nm, in_old)
    targets = {"levelized_cost_per_mtok": {o: nm.options[o].levelized for o in common}}
    targets["npv_vs_baseline"] = {o: nm.comparisons[o].npv for o in common if o in nm.comparisons}
    items = [it for d in targets.values() for it in d.values()]
    stepped = evaluate(items, steps, periods=sn.horizon_quarters) if items else {}

    for metric, by_opt in targets.items():
        unit = f"{nm.currency}/Mtok" if metric == "levelized_cost_per_mtok" else nm.currency
        for o in common:
            old_v = _own(old_run, o, metric)
            new_v = _own(new_run, o, metric)
            if o in by_opt:
                pts = [_num(x) for x in stepped[by_opt[o]]]
            else:  # NEW's baseline: its NPV against itself is 0 at every step
                pts = [0.0] * (len(GROUPS) + 1)
            contrib = [(STRUCTURE, _diff(pts[0], old_v))]
            for k, g in enumerate(GROUPS, start=1):
                end = new_v if k == len(GROUPS) else pts[k]
                contrib.append((g, _diff(end, pts[k - 1])))
            result.bridges[metric][o] = Bridge(o, nm.options[o].label, metric, unit, old_v, new_v, contrib,
                                               _diff(pts[-1], new_v))
    return result


def to_json_dict(r: CompareResult) -> dict:
    """The same content as the workbook, in plain JSON types."""
    return {
        "old": r.old_path, "new": r.new_path, "currency": r.currency, "baseline": r.baseline,
        "method": "sequential substitution: NEW's structure fed OLD's inputs (Structure step), then each group "
                  "switched to NEW in the order of 'groups'; steps sum to new - old",
        "groups": list(GROUPS),
        "changes": [c.to_json() for c in r.changes],
        "structural": list(r.structural),
        "options_only_in_old": r.options_old_only, "options_only_in_new": r.options_new_only,
        "inputs_only_in_old": r.inputs_old_only, "inputs_only_in_new": r.inputs_new_only,
        "bridge_note": r.bridge_note,
        "bridges": {m: {o: b.to_json() for o, b in by.items()} for m, by in r.bridges.items()},
    }


def _own(run, option_id: str, metric: str) -> float | None:
    """A metric from a model's own run; the baseline's NPV against itself is 0."""
    m = run.model
    if metric == "levelized_cost_per_mtok":
        return _num(run.values[m.options[option_id].levelized])
    if option_id not in m.comparisons:
        return 0.0
    return _num(run.values[m.comparisons[option_id].npv])


def _substitution_values(old_model, new_model, old_names: set) -> dict:
    """Input values for NEW's structure with a leading step axis: step 0 is all OLD, step k has
    GROUPS[0..k-1] switched to NEW. An input NEW alone has keeps NEW's value at every step."""
    vo, vn = old_model.values(), new_model.values()
    groups = {**{n: d.group for n, d in new_model.inputs.items()},
              **{n: d.group for n, d in new_model.row_inputs.items()}}
    n_steps = len(GROUPS) + 1
    out: dict = {}
    for name, group in groups.items():
        new_v = np.asarray(vn[name], dtype=float)
        old_v = np.asarray(vo[name], dtype=float) if name in old_names else new_v
        if old_v.shape != new_v.shape:
            old_v = new_v
        first_new_step = (GROUPS.index(group) if group in GROUPS else len(GROUPS) - 1) + 1
        out[name] = np.stack([old_v if k < first_new_step else new_v for k in range(n_steps)])
    out.update(new_model.timeline)
    return out
