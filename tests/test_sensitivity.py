"""Tornado and volume x price grid: each cell equals a separate run of the model with the moved input."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import numpy as np
import pytest

from tcomodel.finance import run_model, to_json_dict
from tcomodel.finance.sensitivity import price_volume_grid, tornado
from tcomodel.inputs import load_scenario
from tests.helpers import column_of, find_row, mutate

DEFAULT = Path(__file__).parents[1] / "assumptions" / "aarhusai-vs-alternative.xlsx"


@pytest.fixture(scope="module")
def run():
    return run_model(load_scenario(DEFAULT))


def test_tornado_uses_the_ranges_sheet_and_matches_a_rebuild(run, tmp_path):
    t = tornado(run)
    fee = next(d for d in t.drivers if d.label == "aarhusai: monthly fee")
    # Ranges: aarhusai fee 5,000..25,000 DKK around the assumed 10,000
    assert (fee.low, fee.high) == (pytest.approx(0.5), pytest.approx(2.5)) and fee.basis == "Ranges!D3"
    i = t.drivers.index(fee)

    def edit(wb):
        ws = wb["Rental"]
        ws[f"{column_of(ws, 'fee_per_replica_per_month')}{find_row(ws, 'A', 'aarhusai')}"] = 25000

    high = to_json_dict(run_model(load_scenario(mutate(DEFAULT, tmp_path / "hi.xlsx", edit))))
    for oid in t.npv:
        assert t.npv[oid][i, 1] == pytest.approx(high["options"][oid]["npv_vs_baseline"], rel=1e-9)
    assert t.levelized["aarhusai"][i, 1] == pytest.approx(high["options"]["aarhusai"]["levelized_cost_per_mtok"], rel=1e-9)


def test_unmoved_figures_stay_at_base(run):
    t = tornado(run)
    i = next(k for k, d in enumerate(t.drivers) if d.label == "api-deepseek: token prices")
    # moving DeepSeek's prices cannot change the alternative's levelized cost
    assert t.levelized["alternative"][i] == pytest.approx([t.base_levelized["alternative"]] * 2, rel=1e-12)
    # ... and scales the token part of DeepSeek's own levelized cost by the factor (its staff cost stays)
    tok = _token_levelized(run, "api-deepseek")
    assert 0 < tok < t.base_levelized["api-deepseek"]
    assert t.levelized["api-deepseek"][i] == pytest.approx([t.base_levelized["api-deepseek"] - 0.2 * tok,
                                                            t.base_levelized["api-deepseek"] + 0.2 * tok], rel=1e-9)


def _token_levelized(run, oid):
    """PV of the API's token cost per Mtok of PV tokens, written out (Excel NPV: flows at quarter ends)."""
    om = run.model.options[oid]
    r_q = (1 + run.scenario.settings.discount_rate_annual) ** 0.25 - 1
    flows = np.asarray(run.values[om.categories["API tokens"]], dtype=float)
    pv = sum(cf / (1 + r_q) ** t for t, cf in enumerate(flows, start=1))
    return pv / float(run.values[om.pv_tokens]) * 1e6


def test_grid_cheapest_is_the_argmin_and_base_cell_matches_the_run(run):
    g = price_volume_grid(run)
    base = to_json_dict(run)
    i, j = g.volume_factors.index(1.0), g.price_factors.index(1.0)
    for oid, arr in g.levelized.items():
        assert arr[i, j] == pytest.approx(base["options"][oid]["levelized_cost_per_mtok"], rel=1e-12)
    for a in range(len(g.volume_factors)):
        for b in range(len(g.price_factors)):
            best = min(g.levelized, key=lambda o: g.levelized[o][a, b])
            assert g.cheapest[a][b] == best
    # the token part of an API's levelized cost is linear in its prices: x2 prices adds it once more
    k = g.price_factors.index(2.0)
    tok = _token_levelized(run, "api-claude-sonnet")
    assert g.levelized["api-claude-sonnet"][i, k] == pytest.approx(g.levelized["api-claude-sonnet"][i, j] + tok, rel=1e-9)


def test_report_has_the_sensitivity_sheet(tmp_path):
    from tcomodel.api import build

    out = tmp_path / "r.xlsx"
    build(DEFAULT, xlsx_path=out)
    ws = openpyxl.load_workbook(out)["Sensitivity"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(t.startswith("Tornado: NPV of switching") for t in texts)
    assert any(t.startswith("Cheapest option") for t in texts)
    assert "aarhusai: monthly fee (Ranges!D3)" in texts and "Discount rate (+/-20%)" in texts  # where low/high come from
    assert len(ws._charts) == 2


def test_staff_rates_are_a_tornado_driver_moving_only_the_staff_part(run):
    """Staff enters the tornado: +/-20% on the loaded rates moves an API's levelized cost by 20% of its staff
    part (levelized cost - token part), and nothing else."""
    t = tornado(run)
    i = next(k for k, d in enumerate(t.drivers) if d.label == "Staff: loaded hourly rates")
    assert t.drivers[i].inputs == ["role.platform-engineer.loaded_rate_per_hour"]
    base = t.base_levelized["api-deepseek"]
    staff_part = base - _token_levelized(run, "api-deepseek")
    lo, hi = t.drivers[i].low, t.drivers[i].high
    assert t.levelized["api-deepseek"][i] == pytest.approx([base + (lo - 1) * staff_part,
                                                            base + (hi - 1) * staff_part], rel=1e-9)
    assert any(d.label == "Staff: hours (all options)" for d in t.drivers)
