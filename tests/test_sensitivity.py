"""Tornado and volume x price grid: each cell equals a separate run of the model with the moved input."""

from __future__ import annotations

from pathlib import Path

import openpyxl
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
    assert (fee.low, fee.high) == (pytest.approx(0.5), pytest.approx(2.5)) and fee.basis.startswith("Ranges")
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
    # ... and scales DeepSeek's own levelized cost by the factor (its cost is tokens x price)
    assert t.levelized["api-deepseek"][i] == pytest.approx([0.8 * t.base_levelized["api-deepseek"],
                                                            1.2 * t.base_levelized["api-deepseek"]], rel=1e-9)


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
    # API levelized cost is linear in its prices: x2 prices doubles it
    k = g.price_factors.index(2.0)
    assert g.levelized["api-claude-sonnet"][i, k] == pytest.approx(2 * g.levelized["api-claude-sonnet"][i, j], rel=1e-9)


def test_report_has_the_sensitivity_sheet(tmp_path):
    from tcomodel.api import build

    out = tmp_path / "r.xlsx"
    build(DEFAULT, xlsx_path=out)
    ws = openpyxl.load_workbook(out)["Sensitivity"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(t.startswith("Tornado: NPV of switching") for t in texts)
    assert any(t.startswith("Cheapest option") for t in texts)
    assert len(ws._charts) == 2
