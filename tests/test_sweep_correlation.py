"""Monte Carlo over any input (Inputs, Utilization, Capacity Ranges rows), rank correlations (Correlations sheet),
Latin hypercube strata, reproducibility with a seed, and the drivers (rank correlation of inputs with results)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner

from tcomodel.cli import main
from tcomodel.finance import run_model
from tcomodel.finance.input_ranges import resolve_ranges
from tcomodel.inputs import load_scenario
from tcomodel.inputs.defaults import CORRELATIONS, RANGES
from tcomodel.sheet import evaluate
from tcomodel.sweep import run_sweep
from tcomodel.sweep.montecarlo import average_ranks, draw
from tcomodel.sweep.sampling import DRAW_BLOCK, Sampler, resolve_correlations
from tests.helpers import mutate

FIRST = 3  # first data row of Ranges and Correlations (header, units)


@pytest.fixture(scope="module")
def default(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("mc") / "default.xlsx"
    res = CliRunner().invoke(main, ["init", str(path)])
    assert res.exit_code == 0, res.output
    return path


def _ranges(rows):
    """An edit replacing the Ranges rows with ``rows`` (sheet, row_id, field, low, high, distribution), and
    dropping the Correlations rows, which name the rows replaced."""
    def edit(wb):
        wb["Correlations"].delete_rows(FIRST, wb["Correlations"].max_row)
        ws = wb["Ranges"]
        ws.delete_rows(FIRST, ws.max_row)
        for i, row in enumerate(rows):
            for c, v in enumerate(tuple(row) + ("test",), start=1):
                ws.cell(FIRST + i, c, v)
    return edit


def _correlations(rows):
    """An edit replacing the Correlations rows with ``rows`` (first, second, rank correlation)."""
    def edit(wb):
        ws = wb["Correlations"]
        ws.delete_rows(FIRST, ws.max_row)
        for i, row in enumerate(rows):
            for c, v in enumerate(row[:3] + ("test",), start=1):
                ws.cell(FIRST + i, c, v)
    return edit


def _both(*edits):
    def edit(wb):
        for e in edits:
            e(wb)
    return edit


def _spearman(a, b):
    return float(np.corrcoef(average_ranks(a), average_ranks(b))[0, 1])


PAIR = [("Rental", "aarhusai", "fee_per_replica_per_month", 5000, 25000, "uniform"),
        ("FX", "USD", "rate_to_report_currency", 6.0, 7.2, "triangular"),
        ("Inputs", "discount_rate_annual", None, 0.03, 0.09, "uniform")]


@pytest.mark.parametrize("target,lhs", [(0.7, False), (-0.4, True), (0.95, False)])
def test_a_correlated_pair_hits_its_rank_correlation_within_0_02_at_100k(default, tmp_path, target, lhs):
    # rows referenced both ways: by Ranges row number and by sheet/row_id/field
    path = mutate(default, tmp_path / "c.xlsx", _both(_ranges(PAIR), _correlations(
        [(3, "FX/USD/rate_to_report_currency", target, "test")])))
    sc = load_scenario(path)
    run = run_model(sc)
    inputs, _ = resolve_ranges(sc, run.model, monte_carlo=True)
    pairs, corr = resolve_correlations(sc, inputs)
    assert [(p.first, p.second, p.rank_correlation, p.cell) for p in pairs] == [(0, 1, target, "Correlations!C3")]
    x = draw(inputs, 100_000, seed=7, lhs=lhs, correlation=corr)
    assert abs(_spearman(x[:, 0], x[:, 1]) - target) < 0.02
    assert abs(_spearman(x[:, 0], x[:, 2])) < 0.02 and abs(_spearman(x[:, 1], x[:, 2])) < 0.02  # not correlated
    # the marginals are untouched by the reordering: uniform fee mean 15,000, triangular FX mean (6+6.45+7.2)/3
    assert x[:, 0].mean() == pytest.approx(15000, rel=0.005)
    assert x[:, 1].mean() == pytest.approx((6.0 + 6.45 + 7.2) / 3, rel=0.002)
    assert x[:, 0].min() >= 5000 and x[:, 0].max() <= 25000 and x[:, 1].min() >= 6.0 and x[:, 1].max() <= 7.2


def test_latin_hypercube_hits_each_stratum_once(default, tmp_path):
    path = mutate(default, tmp_path / "l.xlsx", _both(_ranges(PAIR), _correlations([(3, 4, 0.8, "")])))
    sc = load_scenario(path)
    inputs, _ = resolve_ranges(sc, run_model(sc).model, monte_carlo=True)
    _, corr = resolve_correlations(sc, inputs)
    n = 400
    x = draw(inputs, n, seed=3, lhs=True, correlation=corr)
    # uniform inputs: value k of the sorted column lies in stratum k of n equal-width strata
    for j, (lo, hi) in ((0, (5000, 25000)), (2, (0.03, 0.09))):
        strata = np.floor((x[:, j] - lo) / (hi - lo) * n).astype(int)
        assert sorted(strata) == list(range(n))
    # triangular FX: its CDF at each value falls in a distinct stratum
    lo, mode, hi = 6.0, 6.45, 7.2
    v = x[:, 1]
    cdf = np.where(v < mode, (v - lo) ** 2 / ((hi - lo) * (mode - lo)), 1 - (hi - v) ** 2 / ((hi - lo) * (hi - mode)))
    assert sorted(np.floor(cdf * n + 1e-9).astype(int)) == list(range(n))
    # without --lhs, 400 independent draws leave strata empty (expected share empty ~ 1/e)
    y = draw(inputs, n, seed=3, lhs=False, correlation=corr)
    assert len(set(np.floor((y[:, 0] - 5000) / 20000 * n).astype(int))) < 0.8 * n


def test_same_seed_identical_results_whatever_the_chunk_size(default, tmp_path):
    path = mutate(default, tmp_path / "s.xlsx", _correlations([(3, 4, 0.5, ""), (4, 5, -0.3, "")]))
    run = run_model(load_scenario(path))
    a = run_sweep(run, 3000, seed=21, lhs=True)
    b = run_sweep(run, 3000, seed=21, lhs=True, chunk_samples=700)
    c = run_sweep(run, 3000, seed=22, lhs=True)
    for x, y in ((a.draws, b.draws), (a.levelized, b.levelized), (a.npv, b.npv), (a.draw_means, b.draw_means),
                 (a.drivers["npv"], b.drivers["npv"])):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.levelized, c.levelized)
    # across a draw-block boundary, any chunking regenerates the same draws
    sm = Sampler(a.inputs, DRAW_BLOCK + 10, 21, lhs=True, correlation=resolve_correlations(run.scenario, a.inputs)[1])
    whole = sm.probabilities(0, DRAW_BLOCK + 10)
    parts = [sm.probabilities(s, min(s + 7777, DRAW_BLOCK + 10)) for s in range(0, DRAW_BLOCK + 10, 7777)]
    np.testing.assert_array_equal(whole, np.concatenate(parts))


def _collapsed(default, tmp_path, name, rows):
    return run_model(load_scenario(mutate(default, tmp_path / name, _ranges(rows))))


def test_capacity_range_moves_self_hosted_costs_only(default, tmp_path):
    run = _collapsed(default, tmp_path, "cap.xlsx", [("Capacity", "aarhusai", None, 0.3, 1.5, "uniform")])
    res = run_sweep(run, 500, seed=4)
    ids = res.option_ids
    i = ids.index("aarhusai")
    assert res.levelized[:, i].max() > 1.2 * res.levelized[:, i].min()
    # fewer tok/s per replica: more replicas, never cheaper; the draw is the multiplier
    order = np.argsort(res.draws[:, 0])
    assert np.all(np.diff(res.levelized[order, i]) <= 1e-9 * res.levelized[:, i].max())
    assert res.drivers["levelized"][0, i] < -0.9
    for j, oid in enumerate(ids):  # APIs and the other self-hosted options keep their cost
        if oid != "aarhusai":
            assert res.levelized[:, j].min() == res.levelized[:, j].max(), oid
    # a collapsed range at 0.5 is the model with half the capacity in every quarter
    run_half = _collapsed(default, tmp_path, "half.xlsx", [("Capacity", "aarhusai", None, 0.5, 0.5, "uniform")])
    m = run.model
    vals = m.values()
    vals["aarhusai.capacity"] = np.asarray(m.row_inputs["aarhusai.capacity"].values, dtype=float) * 0.5
    lev = m.options["aarhusai"].levelized
    expected = float(evaluate([lev], vals, periods=len(m.quarters))[lev])
    half = run_sweep(run_half, 3, seed=1)
    np.testing.assert_allclose(half.levelized[:, i], expected, rtol=1e-12)
    assert expected > run.scalar(lev)


def test_an_inputs_row_sets_any_input_by_its_id(default, tmp_path):
    run = _collapsed(default, tmp_path, "pue.xlsx", [("Inputs", "alternative-owned.opex.pue", None, 2.0, 2.0, "uniform"),
                                                     ("Inputs", "workload.requests", "*", 1.1, 1.1, "uniform")])
    res = run_sweep(run, 4, seed=1)
    m = run.model
    vals = m.values()
    vals["alternative-owned.opex.pue"] = np.asarray(2.0)
    vals["workload.requests"] = np.asarray(m.row_inputs["workload.requests"].values, dtype=float) * 1.1
    for i, oid in enumerate(res.option_ids):
        lev = m.options[oid].levelized
        want = float(evaluate([lev], vals, periods=len(m.quarters))[lev])
        np.testing.assert_allclose(res.levelized[:, i], want, rtol=1e-12)


def test_drivers_rank_the_only_varying_input_first(default, tmp_path):
    run = _collapsed(default, tmp_path, "fee.xlsx", [PAIR[0], ("FX", "USD", "rate_to_report_currency", 6.45, 6.45,
                                                                "uniform")])
    res = run_sweep(run, 4000, seed=8)
    i = res.option_ids.index("aarhusai")
    # levelized cost is increasing and linear in the fee: rank correlation 1 (estimator error ~ 1/sqrt(n))
    assert res.drivers["levelized"][0, i] == pytest.approx(1.0, abs=0.01)
    assert np.isnan(res.drivers["levelized"][1, i])  # a collapsed range drives nothing
    for j, oid in enumerate(res.option_ids):
        if oid != res.baseline:
            assert res.drivers["npv"][0, j] == pytest.approx(1.0, abs=0.01), oid  # NPV vs aarhusai rises with its fee
        assert np.isnan(res.drivers["npv"][0, res.option_ids.index(res.baseline)])


@pytest.mark.parametrize("rows,cell,words", [
    ([(3, 99, 0.5, "")], "Correlations!B3", "names no sampled Ranges row"),
    ([(3, 4, 1.5, "")], "Correlations!C3", ""),
    ([(3, 3, 0.5, "")], "Correlations!C3", "with itself"),
    ([(3, 4, 0.9, ""), (4, 5, 0.9, ""), (3, 5, -0.9, "")], "Correlations!C3", "not positive semi-definite"),
])
@pytest.mark.parametrize("command", ["sweep", "validate"])  # validate reports what the sweep would reject
def test_bad_correlations_exit_2_naming_the_cell(default, tmp_path, rows, cell, words, command):
    path = mutate(default, tmp_path / "bad.xlsx", _correlations(rows))
    out = tmp_path / "o.xlsx"
    res = CliRunner().invoke(main, [command, str(path)] + (["-n", "10", "-o", str(out)] if command == "sweep" else []))
    assert res.exit_code == 2, res.output
    assert f"{cell}: " in res.output and words in res.output and "Traceback" not in res.output
    assert not out.exists()


@pytest.mark.parametrize("row,cell,words", [
    (("Capacity", "api-deepseek", None, 0.5, 1.5, "uniform"), "Ranges!B3", "hosted API"),
    (("Utilization", "alternative", "*", 0.5, 1.5, "uniform"), "Ranges!B3", "no Utilization rows"),
    (("Inputs", "no.such.input", None, 1, 2, "uniform"), "Ranges!B3", "not an input id"),
    (("Inputs", "alternative-owned.capex.book_life_quarters", None, 8, 20, "uniform"), "Ranges!B3", "structure"),
])
@pytest.mark.parametrize("command", ["sweep", "validate"])
def test_bad_monte_carlo_rows_exit_2_naming_the_cell(default, tmp_path, row, cell, words, command):
    path = mutate(default, tmp_path / "bad.xlsx", _ranges([row]))
    extra = ["-n", "10", "-o", str(tmp_path / "o.xlsx")] if command == "sweep" else []
    res = CliRunner().invoke(main, [command, str(path)] + extra)
    assert res.exit_code == 2 and f"{cell}: " in res.output and words in res.output, res.output


def test_cli_lhs_json_has_drivers_and_correlations(default, tmp_path):
    path = mutate(default, tmp_path / "j.xlsx", _correlations([(3, 4, 0.6, "")]))
    js = tmp_path / "s.json"
    res = CliRunner().invoke(main, ["sweep", str(path), "-n", "800", "--seed", "2", "--lhs", "-o",
                                    str(tmp_path / "s.xlsx"), "--json", str(js)])
    assert res.exit_code == 0, res.output
    doc = json.loads(js.read_text())
    assert doc["lhs"] is True
    achieved = doc["correlations"][0].pop("achieved")
    assert doc["correlations"] == [{"first": "Ranges!D3", "second": "Ranges!D4", "rank_correlation": 0.6,
                                    "cell": "Correlations!C3"}]
    # the rank correlation the draws reached, over every sample (800 x 10 draws are all kept)
    x = openpyxl.load_workbook(tmp_path / "s.xlsx")["Samples"]
    fee, fx = ([x.cell(r, c).value for r in range(2, 802)] for c in (2, 3))
    assert achieved == {"rank_correlation": pytest.approx(_spearman(np.array(fee), np.array(fx)), abs=1e-12),
                        "samples": 800}
    assert abs(achieved["rank_correlation"] - 0.6) < 0.1
    drv = doc["options"]["alternative"]["drivers"]
    assert set(drv) == {"levelized", "npv"} and set(drv["npv"]) == {f"Ranges!D{r}" for r in range(3, 3 + len(RANGES))}
    assert "npv" not in doc["options"][doc["baseline"]]["drivers"]


def test_the_default_samples_every_cloud_on_demand_rate_and_the_h100_pair_together(default, tmp_path):
    """Like for like: both H100 options quote one on-demand rate (Lambda's), so the default sweep samples each
    option's rate, rank-correlated 1 (before, only cloud-h100-mix's moved and cloud-h100-ondemand's stayed at
    base), and the drivers table says the pair's credit is shared."""
    sc = load_scenario(default)
    inputs, _ = resolve_ranges(sc, run_model(sc).model, monte_carlo=True)
    keys = {si.key: j for j, si in enumerate(inputs)}
    rates = [f"CloudRates/{oid}/on_demand_per_gpu_hour" for oid in sc.cloud_rates]  # by option id
    assert len(rates) == 2 and all(k in keys for k in rates)
    pairs, _ = resolve_correlations(sc, inputs)
    assert [(p.first, p.second, p.rank_correlation) for p in pairs if {p.first, p.second} & {keys[r] for r in rates}] \
        == [(keys[rates[1]], keys[rates[0]], 1.0)]
    res = run_sweep(run_model(sc), 20_000, 3)
    rho, n = res.achieved_rank_correlation(keys[rates[0]], keys[rates[1]])
    assert n == 20_000 and rho == pytest.approx(1.0, abs=1e-12)
    # one quantity: the same rate in every sample (the same probabilities, the same range and distribution)
    sm = Sampler(inputs, 5000, 3, correlation=resolve_correlations(sc, inputs)[1])
    drawn = sm.values(sm.probabilities(0, 5000))
    np.testing.assert_array_equal(drawn[:, keys[rates[0]]], drawn[:, keys[rates[1]]])
    # the two options' costs move together: each rate's rank correlation with either option's cost is the same
    lev = res.drivers["levelized"]
    ids = res.option_ids
    for oid in ("cloud-h100-ondemand", "cloud-h100-mix"):
        i = ids.index(oid)
        assert lev[keys[rates[0]], i] == pytest.approx(lev[keys[rates[1]], i], abs=0.01)
        assert lev[keys[rates[0]], i] > 0.3
    out = tmp_path / "s.xlsx"
    cli = CliRunner().invoke(main, ["sweep", str(default), "-n", "300", "-o", str(out)])
    assert cli.exit_code == 0, cli.output
    assert f"{len(CORRELATIONS)} rank-correlated pair(s) (Correlations sheet)" in cli.output
    cells = [c.value for row in openpyxl.load_workbook(out)["Summary"].iter_rows() for c in row]
    cells_of = {inputs[j].ranges_cell for j in (keys[rates[0]], keys[rates[1]])}
    assert cells_of == {"Ranges!D7", "Ranges!D8"}
    assert any(isinstance(v, str) and "Ranges!D7 and Ranges!D8 (rank correlation 1: one quantity; read them as one driver)" in v
               for v in cells)


def test_rank_correlations_of_one_copy_the_leaders_draws():
    """Rank correlation +-1 means one quantity (or its mirror): each tied input takes its group's first input's
    probabilities u (or 1 - u), through chains of pairs, whatever order the pairs come in."""
    from tcomodel.sweep.sampling import Correlation, _ties

    pairs = [Correlation(5, 7, 1.0, "C3"), Correlation(2, 5, -1.0, "C4"), Correlation(1, 3, 0.5, "C5")]
    assert _ties(pairs) == [(5, 2, -1.0), (7, 2, -1.0)]  # 0.5 is no tie
    assert _ties([Correlation(2, 3, -1.0, "C3"), Correlation(3, 4, -1.0, "C4"), Correlation(0, 4, 1.0, "C5")]) \
        == [(2, 0, 1.0), (3, 0, -1.0), (4, 0, 1.0)]


def test_a_tie_at_minus_one_draws_the_mirror(default):
    sc = load_scenario(default)
    inputs, _ = resolve_ranges(sc, run_model(sc).model, monte_carlo=True)
    factor = np.array([[1.0, 0.0], [-1.0, 0.0]])  # the normal scores' factor of rank correlation -1
    sm = Sampler(inputs, 3000, 4, lhs=True, correlation=(np.array([0, 1]), factor, [(1, 0, -1.0)]))
    u = sm.probabilities(0, 3000)
    np.testing.assert_array_equal(u[:, 1], 1.0 - u[:, 0])
    assert np.array_equal(np.sort(np.floor(u[:, 1] * 3000)), np.arange(3000))  # still one draw per stratum


def test_a_tie_carries_its_partners_correlations(default, tmp_path):
    """With D7 ~ D8 at 1 (the default's H100 pair) and D7 ~ FX at 0.5, D8 ~ FX is 0.5 too without being written
    out (before, the matrix was refused as inconsistent): a tie is one quantity."""
    def add(wb):
        ws = wb["Correlations"]
        for c, v in enumerate(("CloudRates/cloud-h100-mix/on_demand_per_gpu_hour", "FX/USD/rate_to_report_currency",
                               0.5, "test"), start=1):
            ws.cell(FIRST + len(CORRELATIONS), c, v)  # after the default's rows

    sc = load_scenario(mutate(default, tmp_path / "t.xlsx", add))
    inputs, _ = resolve_ranges(sc, run_model(sc).model, monte_carlo=True)
    keys = {si.key: j for j, si in enumerate(inputs)}
    mix, ondemand, fx = (keys[k] for k in ("CloudRates/cloud-h100-mix/on_demand_per_gpu_hour",
                                           "CloudRates/cloud-h100-ondemand/on_demand_per_gpu_hour",
                                           "FX/USD/rate_to_report_currency"))
    pairs, corr = resolve_correlations(sc, inputs)
    assert len(pairs) == len(CORRELATIONS) + 1  # the rows given; D8 ~ FX is implied
    x = draw(inputs, 50_000, seed=5, correlation=corr)
    np.testing.assert_array_equal(x[:, mix], x[:, ondemand])
    assert abs(_spearman(x[:, mix], x[:, fx]) - 0.5) < 0.02 and abs(_spearman(x[:, ondemand], x[:, fx]) - 0.5) < 0.02
