"""Run the model for a scenario and collect the results the report and the JSON output show."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from tcomodel.finance.annual import AnnualView, annual_json, build_annual, evaluate_annual
from tcomodel.finance.build import build_tco_model
from tcomodel.finance.cases import CASE_LABEL, CaseTable, case_table, check_case
from tcomodel.finance.capacity import OperatingPoints, claim_checks, decode_curves, operating_points
from tcomodel.errors import InputError
from tcomodel.finance.finite import check_finite
from tcomodel.finance.input_ranges import resolve_ranges
from tcomodel.finance.line_items import line_items
from tcomodel.finance.model import TcoModel
from tcomodel.finance.price_age import PriceAge, price_ages, price_warnings
from tcomodel.provenance import scenario_file
from tcomodel.finance.sensitivity import Grid, Tornado, TornadoTable, tornado_and_grid, tornado_tables
from tcomodel.forked import Forked
from tcomodel.sheet import evaluate
from tcomodel.sheet.functions import row_total
from tcomodel.gcpause import gc_paused


@dataclass
class ModelRun:
    scenario: object
    operating: OperatingPoints
    model: TcoModel
    values: dict  # Item -> numpy array (one scenario)
    build_date: dt.date = field(default_factory=dt.date.today)
    price_ages: list[PriceAge] = field(default_factory=list)
    # what the report shows beyond the line items, computed here so the report only presents (the tornado
    # and grid on first use, or in a forked child while the report's other sheets are written: see
    # start_sensitivity)
    decode_curves: dict = field(default_factory=dict)  # option_id -> decode throughput vs batch
    claim_checks: list[dict] = field(default_factory=list)  # one per scenario.claims row
    case: str = "base"  # the case ``values`` are of: low, base or high (the Ranges sheet's columns)
    cases: CaseTable = field(default_factory=CaseTable)
    base_values: dict | None = None  # the Base case's values (Sensitivity is always around Base)
    annual: AnnualView | None = None  # annual roll-ups (the Annual sheet, the JSON's annual blocks)
    # (tornado, tornado tables, grid), a Forked computing them, or None: not yet asked for
    _sensitivity: object = field(default=None, init=False, repr=False, compare=False)

    @property
    def case_label(self) -> str:
        return CASE_LABEL[self.case]

    def start_sensitivity(self) -> None:
        """Start the tornado and grid (~0.2 s at 200 options) in a forked child, to collect when first read:
        the report writes its other sheets meanwhile. The same numbers as computing them here, which is done
        at once where there is no child (so their memory is freed before the report's is taken)."""
        if self._sensitivity is None:
            f = Forked(_sensitivity_of, self)
            self._sensitivity = f if f.started else _sensitivity_of(self)

    def cancel_sensitivity(self) -> None:
        """End a child started by start_sensitivity whose result is not wanted (the report's write failed)."""
        if isinstance(self._sensitivity, Forked):
            self._sensitivity.cancel()
            self._sensitivity = None

    def __getstate__(self):  # a copy (pickle, deepcopy) does not share the child: it computes its own
        state = dict(self.__dict__)
        if isinstance(state.get("_sensitivity"), Forked):
            state["_sensitivity"] = None
        return state

    def _sensitivity_now(self) -> tuple:
        s = self._sensitivity
        if not isinstance(s, tuple):
            s = self._sensitivity = s.result() if isinstance(s, Forked) else _sensitivity_of(self)
        return s

    @property
    def tornado(self) -> Tornado:
        return self._sensitivity_now()[0]

    @property
    def tornado_tables(self) -> list[TornadoTable]:
        return self._sensitivity_now()[1]

    @property
    def grid(self) -> Grid:  # cheapest option by volume x API price
        return self._sensitivity_now()[2]

    @property
    def warnings(self) -> list[str]:
        """Everything the build warns about: operating points, then stale or future-dated prices."""
        return ([f"{oid}: {msg}" for oid, msg in list(self.operating.warnings) + list(self.model.warnings)]
                + price_warnings(self.price_ages))

    @property
    def stale_price_count(self) -> int:
        """Prices older than the limit, at the precision the report shows their age."""
        return sum(int(a.shown_stale) for a in self.price_ages)

    def fleet_range(self, oid) -> tuple[int, int] | None:
        """Fewest and most replicas of a self-hosted option over the horizon (spares included)."""
        fleet = self.model.options[oid].fleet
        if fleet is None:
            return None
        v = np.asarray(self.values[fleet])
        return int(v.min()), int(v.max())

    def quarter_label(self, it) -> str:
        """The quarter a (1-based) quarter-number result names, e.g. a payback; 'never' where there is none."""
        v = float(self.values[it])
        n = len(self.model.quarters)
        return str(self.model.quarters[int(v) - 1]) if math.isfinite(v) and 1 <= int(v) <= n else "never"

    def value(self, it) -> float | np.ndarray:
        return self.values[it]

    def line_items(self):
        """Every line item as a pandas DataFrame in long form (option, section, line_item, unit, period,
        value); conventions in tcomodel.finance.line_items."""
        return line_items(self.model, self.values)

    def scalar(self, it) -> float | None:
        """A scalar result, None where the model gives #N/A (an undefined IRR, no payback)."""
        v = float(np.asarray(self.values[it]))
        return None if math.isnan(v) else v


@gc_paused
def run_model(scenario, *, build_date: dt.date | None = None, case: str = "base") -> ModelRun:
    """Operating points, line items and their values in ``case`` (low, base or high: the Ranges sheet's
    low or high value for every input that has one); price ages are measured at ``build_date`` (default
    today). The roofline, the Sensitivity sheet's tornado and grid are of the Base case whatever ``case``."""
    build_date = build_date or dt.date.today()
    case = check_case(case)
    ops, model = _operating_points_and_model(scenario)
    cases = case_table(scenario, model)
    periods = scenario.settings.horizon_quarters
    items = model.all_items()
    base_values = evaluate(items, model.values(), periods=periods)
    values = base_values if case == "base" else evaluate(items, cases.input_values(model, case), periods=periods)
    run = ModelRun(scenario, ops, model, values, build_date, price_ages(scenario, build_date), case=case,
                   cases=cases, base_values=base_values)
    check_finite(run)  # before anything is written: every result a number, or an error at its input cells
    run.decode_curves = decode_curves(scenario, ops)
    run.claim_checks = claim_checks(scenario)
    run.annual = evaluate_annual(build_annual(model, scenario.quarters, scenario.settings.fiscal_year_start_month),
                                 model, values)
    return run


def _operating_points_and_model(scenario) -> tuple[OperatingPoints, TcoModel]:
    ops = operating_points(scenario)
    return ops, build_tco_model(scenario, ops.capacities)


def _sensitivity_of(run: ModelRun) -> tuple:
    tornado, grid = tornado_and_grid(run)  # one evaluation for both
    return tornado, tornado_tables(run, tornado), grid


def run_model_every_range_checked(scenario) -> ModelRun:
    """``run_model`` of the Base case, for validate and sweep: where it fails on Ranges rows (those the
    report's cases use), the error also lists the rows only the sweep samples (Capacity, Utilization,
    Inputs), so a workbook's Ranges problems come in one round rather than two."""
    try:
        return run_model(scenario)
    except InputError as err:
        if not err.problems or any(p.sheet != "Ranges" for p in err.problems):
            raise
        _, model = _operating_points_and_model(scenario)  # run_model's, up to the cases that failed
        try:
            resolve_ranges(scenario, model, monte_carlo=True)
        except InputError as every:  # every Ranges row's problem, in row order
            raise every from None
        raise


def _num(x):
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def to_json_dict(run: ModelRun) -> dict:
    """The results as plain JSON types: currency, quarters, baseline and per-option metrics."""
    m, s = run.model, run.scenario
    out = {
        "scenario": s.settings.scenario_name,
        "scenario_file": scenario_file(s.path),  # which workbook: outputs of another are not replaced
        "currency": m.currency,
        "quarters": [str(q) for q in m.quarters],
        "baseline": m.baseline,
        "case": run.case,
        "master_check": _num(run.values[m.master_check]),
        "conventions": {
            "quarterly_cost": "P&L view (depreciation instead of capex)",
            "tco": "cash view: capex when paid (start of quarter by default), market value from the resale curve at "
                   "retirement and at the horizon end; book depreciation never enters cash",
            "discounting": "quarterly rate (1+annual)^(1/4)-1, flows at the end of each quarter (Excel NPV)",
            "tokens": "input + output tokens served",
        },
        "options": {},
    }
    if run.annual is not None:
        out["annual"] = {"fiscal_year_start_month": run.annual.start_month,
                         "years": [y.label for y in run.annual.years],
                         "quarters_in_year": [y.quarters for y in run.annual.years]}
    for oid, om in m.options.items():
        cmp = m.comparisons.get(oid)
        payback = run.scalar(cmp.payback_quarter) if cmp else None
        d = {
            "kind": om.kind,
            "label": om.label,
            "levelized_cost_per_mtok": run.scalar(om.levelized),
            "tco_nominal": run.scalar(om.tco_nominal),
            "tco_pv": run.scalar(om.tco_pv),
            "tokens_served": run.scalar(om.tokens_total),
            "npv_vs_baseline": run.scalar(cmp.npv) if cmp else 0.0,
            "irr_vs_baseline": run.scalar(cmp.irr_annual) if cmp else None,
            "payback_quarter": int(payback) if payback is not None else None,
            "discounted_payback_quarter": (int(run.scalar(cmp.discounted_payback_quarter))
                                           if cmp and run.scalar(cmp.discounted_payback_quarter) is not None else None),
            "replicas_max": run.fleet_range(oid)[1] if om.fleet is not None else None,
            "throughput_tok_s": om.throughput_tok_s,
            "levelized_cost_per_mtok_quality_adjusted": run.scalar(om.levelized_per_correct) if om.levelized_per_correct else None,
            "quality": _quality(s.options[oid]),
            "quarterly": {
                "cost": [_num(x) for x in run.values[om.pl_cost]],
                "cash_cost": [_num(x) for x in run.values[om.cash_cost]],
                "tokens": [_num(x) for x in run.values[om.tokens]],
                "input_tokens": [_num(x) for x in run.values[om.input_tokens]],
                "output_tokens": [_num(x) for x in run.values[om.output_tokens]],
                "cost_per_mtok": [_num(x) for x in run.values[om.cost_per_mtok]],
                "utilization": [_num(x) for x in run.values[om.utilization]] if om.utilization is not None else None,
                "replicas": [_num(x) for x in run.values[om.fleet]] if om.fleet is not None else None,
            },
        }
        d.update(_cost_detail(run, om))
        if run.annual is not None:
            d["annual"] = annual_json(run.annual, oid)
        out["options"][oid] = d
    be = {}
    for sec in m.breakeven:
        for it in sec.items:
            if it.name.startswith(("breakeven_fee:", "breakeven_volume:", "breakeven_util:",
                                   "breakeven_util_reachable:")):
                kind, a, b = it.name.split(":")
                be.setdefault(kind.replace("breakeven_", ""), {}).setdefault(a, {})[b] = run.scalar(it)
            elif it.name.startswith("forecast_util:"):  # beside the breakeven utilizations: what the forecast gives
                be.setdefault("forecast_util", {})[it.name.split(":", 1)[1]] = run.scalar(it)
    out["breakeven"] = be
    out["pairs"] = {f"{a}->{b}": {"npv": run.scalar(c.npv), "irr": run.scalar(c.irr_annual),
                                  "payback_quarter": (int(run.scalar(c.payback_quarter))
                                                      if run.scalar(c.payback_quarter) is not None else None)}
                    for (a, b), c in m.pairs.items()}
    out["unknown_fee"] = {oid: {"fee_levels": [run.scalar(x) for x in t["levels"]],
                                "share_of_assumed_fee": list(t["factors"]),
                                "npv_of_switching": {k: [run.scalar(x) for x in v] for k, v in t["npv"].items()}}
                          for oid, t in m.unknown_fee.items()}
    out["warnings"] = run.warnings
    out["build_date"] = run.build_date.isoformat()
    out["price_age"] = [{"cell": a.cell, "sheet": a.sheet, "id": a.row_id, "as_of": a.as_of.isoformat(),
                         "age_months": round(a.age_months, 4), "limit_months": a.limit_months, "stale": a.stale}
                        for a in run.price_ages]
    return out


def _series(run: ModelRun, it) -> dict:
    v = run.values[it]
    return {"quarterly": [_num(x) for x in v], "total": _num(row_total(v))}


def _cost_detail(run: ModelRun, om) -> dict:
    """Cost by category (the P&L view of the report's category chart); depreciation and closing net book value
    where the option holds assets (None otherwise)."""
    return {
        "cost_categories": {name: _series(run, it) for name, it in om.categories.items()},
        "depreciation": _series(run, om.depreciation) if om.depreciation is not None else None,
        "book_value_closing": ([_num(x) for x in run.values[om.nbv_total]] if om.nbv_total is not None else None),
    }


def _quality(opt) -> dict | None:
    """What the quality-adjusted cost rests on: benchmark, variant served, score and chance level."""
    if opt.quality_score is None:
        return None
    return {"benchmark": opt.quality_benchmark, "model_variant": opt.quality_model_variant,
            "score": opt.quality_score, "chance_level": opt.quality_chance_level or 0.0}
