"""Helpers for the finance tests: tiny scenario workbooks written from the `tcomodel init` content,
loaded through the real loader, built with a fixed capacity per self-hosted option (no roofline), and
evaluated with the numpy engine.

This module holds no tests of its own beyond a smoke check; the other tests/test_finance_*.py import it.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from pathlib import Path

import numpy as np

from tcomodel.finance import Capacity, build_tco_model
from tcomodel.inputs import default_content, load_scenario, write_scenario_workbook
from tcomodel.sheet import evaluate

HOURS_PER_QUARTER = 2191.5  # 365.25 * 24 / 4
SECONDS_PER_QUARTER = HOURS_PER_QUARTER * 3600  # 7,889,400
AS_OF = dt.date(2026, 5, 1)

# Ids from the built-in catalogue; the capacity is given directly so the roofline never runs.
HW, MODEL, PREC = "rtx-pro-6000-maxq", "qwen3-next-80b-a3b", "nvfp4"

_counter = itertools.count()


def quarters(first_year: int, n: int) -> list[str]:
    return [f"{first_year + i // 4}Q{i % 4 + 1}" for i in range(n)]


def workload_rows(requests, *, inp=1000.0, out=200.0, cache_hit=0.0, cache_write=0.0, batch=0.0,
                  long_context=0.0, peak=1.0, first_year=2027) -> list[dict]:
    """One Workload row per quarter; any keyword may be a scalar or a per-quarter list."""
    n = len(requests)

    def at(v, i):
        return v[i] if isinstance(v, (list, tuple)) else v

    return [{
        "quarter": q, "requests": float(requests[i]), "input_tokens_per_request": at(inp, i),
        "output_tokens_per_request": at(out, i), "cache_hit_share": at(cache_hit, i),
        "cache_write_share": at(cache_write, i), "batch_eligible_share": at(batch, i),
        "long_context_share": at(long_context, i), "peak_to_average": at(peak, i),
        "min_user_tok_s": 10.0, "max_ttft_s": 2.0, "source": "test",
    } for i, q in enumerate(quarters(first_year, n))]


def option(oid: str, kind: str, **kw) -> dict:
    row = {"option_id": oid, "label": oid, "kind": kind, "load_basis": "workload", "source": "test"}
    if kind != "hosted_api":
        row.update(hardware_id=HW, model_id=MODEL, precision=PREC, gpus_per_replica=1)
    row.update(kw)
    return row


def content(options: list[dict], workload: list[dict], *, rate=0.0, tax=0.0, baseline=None, fx=None,
            capex=(), opex=(), rental=(), cloud=(), api=(), currency="DKK", resale=(), roles=(), staff=(),
            pairs=(), profile=(), capex_paid_at="end") -> dict:
    """Scenario content in the shape of ``default_content()``, trimmed to the given rows."""
    c = copy.deepcopy(default_content())
    settings = {k: (v, unit, src) for k, v, unit, src in c["Scenario"]}
    settings.update({
        "scenario_name": ("finance-test", "", "test"),
        "report_currency": (currency, "ISO 4217", "test"),
        "first_quarter": (workload[0]["quarter"], "quarter", "test"),
        "horizon_quarters": (len(workload), "quarters", "test"),
        "discount_rate_annual": (rate, "per year", "test"),
        "baseline_option": (baseline or options[0]["option_id"], "id", "test"),
        "tax_rate": (tax, "share", "test"),
        # end of quarter keeps the hand-computed flows simple; tests of the start timing set "start"
        "capex_paid_at": (capex_paid_at, "", "test"),
    })
    c["Scenario"] = [(k, v, unit, src) for k, (v, unit, src) in settings.items()]
    c["FX"] = [{"currency": k, "rate_to_report_currency": v, "as_of": AS_OF, "source": "test"}
               for k, v in (fx or {}).items()]
    c["Hardware"], c["Models"] = [], []  # the built-in catalogue still applies
    c["Options"] = list(options)
    c["Capex"], c["Opex"], c["Rental"] = list(capex), list(opex), list(rental)
    c["CloudRates"] = [dict({"as_of": AS_OF, "source": "test"}, **r) for r in cloud]
    # prompt caching stated as the row's prices imply unless the test says otherwise
    c["ApiPrices"] = [dict({"as_of": AS_OF, "source": "test", "provider": "p", "api_model": "m",
                            "prompt_caching": "yes" if r.get("cached_input_per_mtok") is not None else "no"}, **r)
                      for r in api]
    c["Capex"] = [dict({"source": "test"}, **r) for r in capex]
    c["Opex"] = [dict({"source": "test"}, **r) for r in opex]
    c["Rental"] = [dict({"source": "test"}, **r) for r in rental]
    c["Workload"] = list(workload)
    c["Utilization"], c["Claims"], c["Ranges"] = [], [], []
    c["Resale"] = [dict({"source": "test"}, option_id=oid, age_years=a, resale_share=sh) for oid, a, sh in resale]
    c["Roles"] = [dict({"source": "test", "currency": currency}, **r) for r in roles]
    c["Staff"] = [dict({"source": "test"}, **r) for r in staff]
    c["Pairs"] = [dict({"source": "test"}, from_option_id=a, to_option_id=b) for a, b in pairs]
    c["HourlyProfile"] = [dict({"source": "test"}, hour=h, share_of_daily_requests=sh) for h, sh in enumerate(profile)]
    return c


def load(tmp_dir: Path, c: dict):
    """Write the content as a scenario workbook and load it through the validating loader."""
    path = Path(tmp_dir) / f"scenario-{next(_counter)}.xlsx"
    write_scenario_workbook(path, c)
    return load_scenario(path)


def build(scenario, capacity: dict[str, float]):
    """Build the model with a constant output tok/s per replica for each self-hosted option; evaluate."""
    n = scenario.settings.horizon_quarters
    caps = {oid: Capacity(np.full(n, float(x)), "test") for oid, x in capacity.items()}
    model = build_tco_model(scenario, caps)
    values = evaluate(model.all_items(), model.values(), periods=n)
    return model, values


class Run:
    """Values of one evaluated model, looked up by option and line-item label."""

    def __init__(self, model, values):
        self.model, self.values = model, values

    def item(self, oid: str, label: str):
        om = self.model.options[oid]
        hits = [it for s in om.sections for it in s.items if it.label == label]
        assert hits, f"{oid}: no line item {label!r}"
        return hits[0]

    def row(self, oid: str, label: str) -> np.ndarray:
        return np.asarray(self.values[self.item(oid, label)], dtype=float)

    def __getitem__(self, it):
        return np.asarray(self.values[it], dtype=float)

    def scalar(self, it) -> float:
        return float(np.asarray(self.values[it]))


def run(tmp_dir, c, capacity=None) -> Run:
    return Run(*build(load(tmp_dir, c), capacity or {}))


def excel_npv(rate: float, flows) -> float:
    """Excel NPV written out: flows at the end of periods 1..N."""
    return sum(cf / (1 + rate) ** t for t, cf in enumerate(flows, start=1))


def requests_for(ratios, cap, peak, out_per_request=200.0):
    """Requests per quarter that make peak output demand / capacity equal the given ratios."""
    peaks = peak if isinstance(peak, (list, tuple)) else [peak] * len(ratios)
    return [x * cap * SECONDS_PER_QUARTER / (out_per_request * p) for x, p in zip(ratios, peaks)]


def test_helpers_build_a_minimal_scenario(tmp_path):
    c = content([option("api", "hosted_api")], workload_rows([1e6, 1e6]),
                api=[{"option_id": "api", "input_per_mtok": 1.0, "output_per_mtok": 2.0, "batch_discount": 0.0,
                      "currency": "DKK"}])
    r = run(tmp_path, c)
    # 1e6 requests x (1000 in x 1 + 200 out x 2) / 1e6 = 1,400 per quarter
    assert r[r.model.options["api"].pl_cost] == __import__("pytest").approx([1400.0, 1400.0], rel=1e-12)


def test_option_model_takes_only_declared_attributes(tmp_path):
    import pytest

    c = content([option("api", "hosted_api")], workload_rows([1e6, 1e6]),
                api=[{"option_id": "api", "input_per_mtok": 1.0, "output_per_mtok": 2.0, "batch_discount": 0.0,
                      "currency": "DKK"}])
    om = run(tmp_path, c).model.options["api"]
    assert om.kind == "hosted_api" and om.fee_units is None  # declared, defaulted
    with pytest.raises(AttributeError):
        om.undeclared_metric = om.levelized
