"""Monte Carlo sweep: collapsed ranges give the base case exactly, seeds reproduce, a uniform fee gives the
hand-checkable linear range, cheapest-option probabilities sum to 1, bad Ranges rows exit 2 with their cell."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner

import tcomodel
from tcomodel.cli import main
from tcomodel.errors import UsageError
from tcomodel.finance import run_model
from tcomodel.inputs import load_scenario
from tcomodel.inputs.defaults import RANGES
from tcomodel.sweep import run_sweep
from tcomodel.xlsxmanifest import MANIFEST_SHEET
from tests.helpers import column_of, find_row, mutate

RANGES_FIRST_ROW = 3  # Ranges: header, units, then data
FREE = RANGES_FIRST_ROW + len(RANGES)  # the first row after the default's Ranges rows
COL = {"sheet": "A", "row_id": "B", "field": "C", "low": "D", "high": "E", "distribution": "F"}


@pytest.fixture(scope="module")
def default(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sweep") / "default.xlsx"
    res = CliRunner().invoke(main, ["init", str(path)])
    assert res.exit_code == 0, res.output
    return path


@pytest.fixture(scope="module")
def default_run(default):
    return run_model(load_scenario(default))


def _ranges_rows(ws):
    return [r for r in range(RANGES_FIRST_ROW, ws.max_row + 1) if ws[f"A{r}"].value]


def _keep_only(ws, keep_row: int):
    """Delete every Ranges data row except ``keep_row``, and the Correlations rows (they name rows deleted)."""
    for r in sorted(_ranges_rows(ws), reverse=True):
        if r != keep_row:
            ws.delete_rows(r)
    corr = ws.parent["Correlations"]
    corr.delete_rows(RANGES_FIRST_ROW, corr.max_row)


def _levelized_and_npv(run):
    m = run.model
    lev = {o: run.scalar(om.levelized) for o, om in m.options.items()}
    npv = {o: (run.scalar(m.comparisons[o].npv) if o in m.comparisons else 0.0) for o in m.options}
    return lev, npv


def test_collapsed_ranges_give_the_base_case_exactly(default, default_run, tmp_path):
    def collapse(wb):
        ws = wb["Ranges"]
        for r in _ranges_rows(ws):
            sheet, row_id, fieldname = (ws[f"{COL[k]}{r}"].value for k in ("sheet", "row_id", "field"))
            if sheet == "Workload":
                base = 1.0  # Workload low/high are multipliers
            else:
                src = wb[sheet]
                base = src[f"{column_of(src, fieldname)}{find_row(src, 'A', row_id)}"].value
            ws[f"D{r}"], ws[f"E{r}"] = base, base

    path = mutate(default, tmp_path / "collapsed.xlsx", collapse)
    res = run_sweep(run_model(load_scenario(path)), 64, seed=5)
    assert len(res.inputs) == len(RANGES)
    lev, npv = _levelized_and_npv(default_run)
    for i, oid in enumerate(res.options):
        assert np.all(res.levelized[:, i] == lev[oid]), oid
        assert np.all(res.npv[:, i] == npv[oid]), oid
    # like for like: every sample is the base case, so the option with the lowest base quality-adjusted cost (the
    # build's own figure) wins every sample, and among the self-hosted options the lowest base levelized cost does
    m = default_run.model
    per_quality = {o: default_run.scalar(om.levelized_per_correct) for o, om in m.options.items()
                   if om.levelized_per_correct is not None}
    assert sorted(per_quality) == sorted(res.quality_options) and len(per_quality) == 5
    best = min(per_quality, key=per_quality.get)
    assert res.probability_cheapest_quality() == {o: float(o == best) for o in res.quality_options}
    self_hosted = {o: lev[o] for o in ("aarhusai", "alternative", "alternative-owned", "cloud-h100-ondemand",
                                       "cloud-h100-mix")}
    assert res.self_hosted_options == list(self_hosted)
    best = min(self_hosted, key=self_hosted.get)
    assert res.probability_cheapest_self_hosted() == {o: float(o == best) for o in self_hosted}
    out = tmp_path / "collapsed.json"
    cli = CliRunner().invoke(main, ["sweep", str(path), "--samples", "200", "--seed", "1", "-o",
                                    str(tmp_path / "c.xlsx"), "--json", str(out)])
    assert cli.exit_code == 0, cli.output
    doc = json.loads(out.read_text())
    for oid, d in doc["options"].items():
        s = d["levelized_cost_per_mtok"]
        assert s["p10"] == s["p50"] == s["p90"] == lev[oid]
        t = d["npv_vs_baseline"]
        assert t["p10"] == t["p50"] == t["p90"] == npv[oid]


def test_a_fixed_seed_reproduces_results_exactly_whatever_the_chunk_size(default_run):
    a = run_sweep(default_run, 3000, seed=11)
    b = run_sweep(default_run, 3000, seed=11, chunk_samples=700)
    c = run_sweep(default_run, 3000, seed=12)
    assert np.array_equal(a.draws, b.draws) and np.array_equal(a.levelized, b.levelized)
    assert np.array_equal(a.npv, b.npv)
    assert not np.array_equal(a.draws, c.draws)


def test_worker_processes_give_the_results_of_one_process_exactly(default_run):
    """Chunks in forked workers and the drivers' blocks in workers (two blocks of 65,536 draws here): every
    result equal to one process's, bit for bit, whatever the number of workers and the chunk size."""
    one = run_sweep(default_run, 70_000, seed=5, workers=1, chunk_samples=9_000)
    two = run_sweep(default_run, 70_000, seed=5, workers=2)
    three = run_sweep(default_run, 70_000, seed=5, workers=3, chunk_samples=4_000)
    assert one.chunk_samples != two.chunk_samples
    for other in (two, three):
        for name in ("draws", "levelized", "npv", "draw_means", "unknown_fee_draws"):
            np.testing.assert_array_equal(getattr(one, name), getattr(other, name), err_msg=name)
        for metric in ("levelized", "npv"):
            np.testing.assert_array_equal(one.drivers[metric], other.drivers[metric], err_msg=metric)
    assert np.isfinite(one.drivers["npv"]).sum() > 0
    with pytest.raises(UsageError, match="workers must be at least 1"):
        run_sweep(default_run, 10, seed=1, workers=0)


def test_uniform_fee_gives_the_linear_range_between_its_ends(default, tmp_path):
    # only the aarhusai monthly fee varies: uniform 5,000..25,000 DKK (Ranges row 3 of the default)
    def only_fee(wb):
        ws = wb["Ranges"]
        assert ws["C3"].value == "fee_per_replica_per_month" and ws["F3"].value == "uniform"
        _keep_only(ws, 3)

    path = mutate(default, tmp_path / "fee.xlsx", only_fee)

    def at_fee(fee):
        def edit(wb):
            ws = wb["Rental"]
            ws[f"{column_of(ws, 'fee_per_replica_per_month')}{find_row(ws, 'A', 'aarhusai')}"] = fee
        return _levelized_and_npv(run_model(load_scenario(mutate(path, tmp_path / f"fee{fee}.xlsx", edit))))

    (lev_lo, npv_lo), (lev_hi, npv_hi) = at_fee(5000), at_fee(25000)
    res = run_sweep(run_model(load_scenario(path)), 2000, seed=3)
    fee = res.draws[:, 0]
    assert 5000 <= fee.min() < 5100 and 24900 < fee.max() <= 25000
    i = res.option_ids.index("aarhusai")
    lev = res.levelized[:, i]
    # cost is linear in the fee: every sample lies on the line through the two end runs
    expected = lev_lo["aarhusai"] + (fee - 5000) / 20000 * (lev_hi["aarhusai"] - lev_lo["aarhusai"])
    np.testing.assert_allclose(lev, expected, rtol=1e-9)
    assert lev_lo["aarhusai"] <= lev.min() and lev.max() <= lev_hi["aarhusai"]
    assert lev.min() == pytest.approx(lev_lo["aarhusai"], rel=0.01)
    assert lev.max() == pytest.approx(lev_hi["aarhusai"], rel=0.01)
    # NPV of every other option against aarhusai grows with the fee, linearly too
    for j, oid in enumerate(res.option_ids):
        if oid == "aarhusai":
            continue
        exp = npv_lo[oid] + (fee - 5000) / 20000 * (npv_hi[oid] - npv_lo[oid])
        np.testing.assert_allclose(res.npv[:, j], exp, rtol=1e-9, atol=1e-6)
        assert res.levelized[:, j].min() == res.levelized[:, j].max()  # unaffected by aarhusai's fee
    # P(NPV > 0): switching saves where the fee is above the breakeven fee, where the NPV line crosses 0
    breakeven = 5000 - npv_lo["alternative"] * 20000 / (npv_hi["alternative"] - npv_lo["alternative"])
    assert 5000 < breakeven < 25000
    p_saving = res.probability_saving()
    assert p_saving["alternative"] == np.count_nonzero(fee > breakeven) / 2000
    assert p_saving["alternative"] == pytest.approx((25000 - breakeven) / 20000, abs=0.035)  # uniform: ~4 sd
    assert "aarhusai" not in p_saving
    # a result the fee does not move sits at its own median (a mid-rank), and no note calls its base off-centre
    at_all = res.base_percentile("levelized")
    assert all(at_all[o] == 0.5 for o in res.option_ids if o != "aarhusai")
    assert all(o == "aarhusai" or m == "npv" for o, m, _ in res.base_outside())
    # the base fee 10,000 in a uniform 5,000..25,000 sits at its distribution's P25, and the draws agree
    assert res.input_base_percentile(0) == 0.25 and abs(np.mean(fee <= 10000) - 0.25) < 0.035
    # the breakeven fee the sweep quotes (the build's Breakeven sheet) is where the NPV line crosses 0 (tax 0 here)
    (j, oid, be), = res.unknown_fees
    assert (j, oid) == (0, "aarhusai") and be["alternative"] == pytest.approx(breakeven, rel=1e-9)
    # the base case (fee 10,000) sits where a quarter of the uniform draws are at or below it
    at = res.base_percentile("levelized")["aarhusai"]
    assert abs(at - np.count_nonzero(fee <= 10000) / 2000) <= 1 / 2000 and at == pytest.approx(0.25, abs=0.035)


def test_probabilities_of_cheapest_sum_to_one_across_apis_and_self_hosted(default, tmp_path):
    # widen the budget API's prices so it no longer always wins: self-hosted and other APIs compete
    def widen(wb):
        ws = wb["Ranges"]
        r = max(_ranges_rows(ws)) + 1
        for k, v in (("sheet", "ApiPrices"), ("row_id", "api-gemini-flash-lite"), ("field", "output_per_mtok"),
                     ("low", 0.1), ("high", 12.0), ("distribution", "uniform")):
            ws[f"{COL[k]}{r}"] = v
        ws[f"G{r}"] = "test"

    res = run_sweep(run_model(load_scenario(mutate(default, tmp_path / "wide.xlsx", widen))), 5000, seed=2)
    prob = res.probability_cheapest()
    assert sum(prob.values()) == pytest.approx(1.0, abs=1e-12)
    assert res.probability_no_cheapest() == 0
    assert sum(1 for p in prob.values() if p > 0) >= 2
    # the same count by hand from the samples
    winners = np.argmin(res.levelized, axis=1)
    for i, oid in enumerate(res.option_ids):
        assert prob[oid] == np.count_nonzero(winners == i) / 5000


@pytest.mark.parametrize("column,value,cell,words", [
    ("field", "fee_per_month", "Ranges!C3", "not a field of sheet Rental"),
    ("row_id", "no-such-option", "Ranges!B3", "not a row of sheet Rental"),
    ("sheet", "Nowhere", "Ranges!A3", "no inputs the sweep can sample"),
])
def test_a_ranges_row_that_maps_to_no_input_exits_2_with_its_cell(default, tmp_path, column, value, cell, words):
    def edit(wb):
        wb["Ranges"][f"{COL[column]}3"] = value

    path = mutate(default, tmp_path / "bad.xlsx", edit)
    res = CliRunner().invoke(main, ["sweep", str(path), "--samples", "10", "-o", str(tmp_path / "o.xlsx")])
    assert res.exit_code == 2
    assert f"{cell}: " in res.output and words in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "o.xlsx").exists()


_SWEEP, _LOW_CASE = ["sweep", "--samples", "10"], ["build", "--case", "low"]
_OUT_OF_BOUNDS = [
    ({"D3": -20000}, "Ranges!D3: low -20000 is outside what Rental!B3 accepts: fee_per_replica_per_month -20000 is "
                     "negative"),
    ({"D4": -1}, "Ranges!D4: low -1 is outside what FX!B3 accepts: rate_to_report_currency -1 is negative"),
    ({"E11": 1.5}, "Ranges!E11: high 1.5 is outside what Rental!E4 accepts: vat_unrecoverable_share 1.5 is not "
                   "between 0 and 1"),
    ({"D5": -0.2}, "Ranges!D5: low -0.2 is a multiplier of Workload!B3:B22 (Workload requests (every quarter)) and "
                   "must be 0 or more"),
]
_WORKLOAD_BELOW_MIN = ({"C5": "input_tokens_per_request", "D5": 0},
                       "Ranges!D5: low 0 scales Workload!C3:C22 to 0..0, outside what Workload input_tokens_per_request "
                       "accepts: a number from 1")
_CAPACITY_ZERO = ({f"A{FREE}": "Capacity", f"B{FREE}": "aarhusai", f"D{FREE}": 0, f"E{FREE}": 1.2,
                   f"F{FREE}": "uniform", f"G{FREE}": "test"}, f"Ranges!D{FREE}: low 0 is a multiplier of")


# Capacity rows are sampled by the sweep alone (the report's cases leave them out), so only the sweep sees that one
@pytest.mark.parametrize("cells,error,command", [(c, e, cmd) for c, e in _OUT_OF_BOUNDS for cmd in (_SWEEP, _LOW_CASE)]
                         + [(*_CAPACITY_ZERO, _SWEEP), (*_WORKLOAD_BELOW_MIN, _SWEEP)])
def test_a_range_the_input_sheet_would_refuse_exits_2_with_its_cell(default, tmp_path, cells, error, command):
    """A range reaching values the input's own cell refuses (a negative fee or FX rate, a share over 1, a negative
    or zero multiplier) is refused at its Ranges cell, by the sweep and by the report's Low/High cases."""
    def edit(wb):
        for cell, value in cells.items():
            wb["Ranges"][cell] = value

    path = mutate(default, tmp_path / "bad.xlsx", edit)
    out = tmp_path / "o.xlsx"
    res = CliRunner().invoke(main, [command[0], str(path), *command[1:], "-o", str(out)])
    assert res.exit_code == 2, res.output
    assert error in res.output and "Traceback" not in res.output
    assert not out.exists()


def test_a_workload_field_only_the_roofline_reads_is_refused(default, tmp_path):
    def edit(wb):
        wb["Ranges"]["C5"] = "min_user_tok_s"

    res = CliRunner().invoke(main, ["sweep", str(mutate(default, tmp_path / "lat.xlsx", edit)), "--samples", "10",
                                    "-o", str(tmp_path / "o.xlsx")])
    assert res.exit_code == 2 and "Ranges!C5: " in res.output and "roofline" in res.output


@pytest.mark.parametrize("n", ["0", "10000001", "-3"])
def test_samples_out_of_range_exit_2(default, n):
    res = CliRunner().invoke(main, ["sweep", str(default), "--samples", n])
    assert res.exit_code == 2 and "--samples must be a whole number from 1 to 10,000,000" in res.output


def test_cli_writes_summary_histograms_and_samples(default, tmp_path):
    out, js = tmp_path / "s.xlsx", tmp_path / "s.json"
    res = CliRunner().invoke(main, ["sweep", str(default), "--samples", "1500", "--seed", "9", "-o", str(out),
                                    "--json", str(js)])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Summary", "Histograms", "Samples", MANIFEST_SHEET]
    assert wb[MANIFEST_SHEET].sheet_state == "veryHidden"  # the formula list verify checks against
    ws = wb["Samples"]
    assert ws.cell(1001, 1).value == 1000 and ws.cell(1002, 1).value is None  # first 1,000 samples only
    # each input in its unit's format, as on the Summary: the price trend (per year) in %, the fee with 2 decimals
    assert (ws.cell(2, 5).number_format, ws.cell(2, 2).number_format, ws.cell(2, 3).number_format) == \
        ("0.0%", "#,##0.00", "#,##0.0000")
    info = {wb["Summary"].cell(r, 1).value: wb["Summary"].cell(r, 2).value for r in range(3, 15)}
    assert info["Samples"] == 1500 and info["Seed"] == 9 and info["tcomodel version"] == tcomodel.__version__
    hist = wb["Histograms"]
    counts = [hist.cell(r, 4).value for r in range(6, 6 + 30)]  # first block: aarhusai levelized, 30 bins
    assert sum(counts) == 1500
    assert hist["A3"].value == "aarhusai: levelized cost (DKK/Mtok)" and hist["A4"].value.startswith("P10 ")
    # the base case's bin: one count in column F, that bin's own, and its edges hold the base value
    base = json.loads(js.read_text())["options"]["aarhusai"]["levelized_cost_per_mtok"]["base"]
    marked = [r for r in range(6, 6 + 30) if isinstance(hist.cell(r, 6).value, (int, float))]
    assert len(marked) == 1
    (r,) = marked
    assert hist.cell(r, 6).value == hist.cell(r, 4).value and hist.cell(r, 1).value <= base <= hist.cell(r, 2).value
    assert len(hist._charts) == 9 + 8  # levelized per option, NPV per non-baseline option
    doc = json.loads(js.read_text())
    assert doc["samples"] == 1500 and doc["seed"] == 9 and len(doc["sampled_inputs"]) == len(RANGES)
    assert [s["ranges_cell"] for s in doc["sampled_inputs"]] == [f"Ranges!D{r}" for r in range(3, FREE)]
    assert [s["unit"] for s in doc["sampled_inputs"]][:4] == ["DKK/month", "DKK per USD", "multiplier", "per year"]
    # the base run's warnings (the shipped price list is dated) reach the console, the JSON and the Summary
    assert doc["warnings"] and all(f"warning: {w}" in res.output for w in doc["warnings"])
    summary = [c.value for row in wb["Summary"].iter_rows() for c in row if isinstance(c.value, str)]
    assert all(w in summary for w in doc["warnings"])
    # P(NPV > 0) by band of the unknown fee: the Summary's table holds the JSON's shares
    (fee,) = doc["unknown_fees_sampled"]
    assert fee["fee_bands"] == [[5000.0, 10000.0], [10000.0, 15000.0], [15000.0, 20000.0], [20000.0, 25000.0]]
    assert sum(fee["samples_per_band"]) == 1500
    ws = wb["Summary"]
    (head,) = [c for row in ws.iter_rows() for c in row if c.value == "5,000 to 10,000"]
    rows = {ws.cell(r, 1).value: [ws.cell(r, c).value for c in range(4, 8)] for r in range(head.row + 2, head.row + 10)}
    assert rows.keys() == fee["probability_saving_by_band"].keys()
    for o, shares in fee["probability_saving_by_band"].items():
        assert rows[o] == pytest.approx(shares, rel=1e-14), o  # the file keeps 17 significant digits or fewer
    assert doc["settings"] == {"discount_rate_annual": 0.055, "tax_rate": 0.0, "first_quarter": "2027Q1",
                               "last_quarter": "2031Q4", "quarters": 20, "sampled": {}}
    assert doc["options"]["aarhusai"]["probability_saving_vs_baseline"] is None
    # the baseline's fee is marked unknown and is sampled: the NPVs mostly restate that assumption, and it says so
    (fee,) = doc["unknown_fees_sampled"]
    assert (fee["ranges_cell"], fee["option"]) == ("Ranges!D3", "aarhusai") and len(fee["breakeven_fee_vs"]) == 8
    assert any(v.startswith("Ranges!D3 samples aarhusai's fee, which the scenario marks unknown (fee_is_assumption); "
                            "its base value 10,000 DKK/month sits at P") and "Every NPV against aarhusai moves with it "
               "(rank correlation 0." in v and "api-gemini-flash-lite none (dearer even at a zero fee)" in v
               for v in summary)
    assert doc["base_outside_p10_p90"][0]["option"] == "api-claude-sonnet"
    # the Summary's chart draws the P(cheapest) column, wherever the table puts it
    sws = wb["Summary"]
    head = next(r for r in sws.iter_rows() if r[0].value == "Option")
    col = next(c.column_letter for c in head if c.value == "P(cheapest)")
    ref = sws._charts[0].series[0].val.numRef.f
    assert ref.startswith(f"Summary!${col}$") and ref.count(f"${col}$") == 2
    assert "P(NPV > 0): switching from aarhusai saves" in summary
    # the NPV table: every cell under its own head, the baseline's too (it has no NPV of switching to itself)
    rows = list(sws.iter_rows(values_only=True))
    h = [i for i, row in enumerate(rows) if row[0] == "Option"][1]
    col = {name: k for k, name in enumerate(rows[h]) if name}
    by_option = {row[0]: row for row in rows[h + 1:h + 1 + 9]}
    assert list(by_option) == list(doc["options"])
    base_row = by_option["aarhusai"]
    assert base_row[col["Base"]] == "(baseline)" and base_row[col["P(NPV > 0): switching from aarhusai saves"]] \
        == "(baseline)" and base_row[col["#N/A samples"]] == 0
    for oid, row in by_option.items():
        d = doc["options"][oid]
        if oid != "aarhusai":
            assert row[col["Base"]] == pytest.approx(d["npv_vs_baseline"]["base"], rel=1e-12)
            assert row[col["P50"]] == pytest.approx(d["npv_vs_baseline"]["p50"], rel=1e-12)
            # (xlsx keeps 16 significant digits)
            assert row[col["P(NPV > 0): switching from aarhusai saves"]] == pytest.approx(
                d["probability_saving_vs_baseline"], rel=1e-12)
            assert row[col["Base at percentile"]] == pytest.approx(d["base_percentile"]["npv"], rel=1e-12)
    # Sonnet's price trend is sampled one-sided (-50%..0, base 0): the note says its base is outside P10..P90
    assert any("The base case lies outside P10..P90 for api-claude-sonnet (levelized cost, at P9" in v
               for v in summary)


@pytest.mark.parametrize("k", [1, 2, 7])
def test_value_sums_equal_the_sum_of_the_values_array(k):
    """The drivers' pass sums each input's drawn values column by column (no [block, inputs] array of values):
    the same bits as summing the whole array over axis 0, with one input and with several."""
    from tcomodel.finance.input_ranges import SampledInput
    from tcomodel.sweep.sampling import Sampler

    inputs = [SampledInput(f"t!{j}", f"x{j}", f"x{j}", [f"x{j}"], False, None, 1.0 + j, 2.0 + j, 5.0 + 3 * j,
                           "triangular" if j % 2 else "uniform") for j in range(k)]
    sampler = Sampler(inputs, 70_000, seed=3)
    u = sampler.block(0)
    assert u.shape == (65_536, k)
    np.testing.assert_array_equal(sampler.value_sums(u), sampler.values(u).sum(axis=0))


def test_cheapest_of_takes_the_lowest_defined_cost_and_the_first_of_equals():
    from tcomodel.sweep.montecarlo import cheapest_of

    nan = float("nan")
    costs = np.array([[3.0, 1.0, 2.0], [nan, 5.0, 4.0], [nan, nan, nan], [2.0, 2.0, nan], [-1.0, nan, 0.0]])
    ids = np.array([7, 3, 9], dtype=np.int16)  # the columns' option indices
    assert cheapest_of(costs, ids).tolist() == [3, 9, -1, 7, 7]


def test_a_share_near_0_or_1_reads_below_0_1_or_above_99_9_percent(tmp_path):
    """A probability a few samples away from 0 or 1 is not shown as never or always; the cell keeps the number."""
    import xlsxwriter

    from tcomodel.sweep.sweep_xlsx import _formats, _put_share

    path = tmp_path / "s.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws, f = wb.add_worksheet("S"), _formats(wb)
    values = [0.0, 0.0003, 0.0005, 0.5, 0.9994, 0.9997, 1.0]
    for r, v in enumerate(values):
        _put_share(ws, r, 0, v, f)
    wb.close()
    cells = [openpyxl.load_workbook(path)["S"].cell(r + 1, 1) for r in range(len(values))]
    assert [c.value for c in cells] == values
    assert [c.number_format for c in cells] == ["0.0%", '"<0.1%"', "0.0%", "0.0%", "0.0%", '">99.9%"', "0.0%"]


def test_quality_adjusted_cheapest_is_the_lowest_cost_per_unit_of_quality(default, tmp_path):
    """With a score on an API (so the scored options are not the first ones, and the quality winner is neither the
    plain winner nor a self-hosted option), P(cheapest, quality-adjusted) equals the shares recomputed from each
    sample's levelized cost divided by the share of the score range above chance."""
    from tcomodel.sweep.montecarlo import cheapest_of

    def score_gemini_pro(wb):  # 61 on GPQA: per unit of quality close to alternative-owned, so each wins sometimes
        ws = wb["Options"]
        r = find_row(ws, "A", "api-gemini-pro")
        for name, v in (("quality_score", 61.0), ("quality_benchmark", "GPQA Diamond"),
                        ("quality_model_variant", "gemini-3.1-pro"), ("quality_chance_level", 25.0)):
            ws[f"{column_of(ws, name)}{r}"] = v

    path = mutate(default, tmp_path / "q.xlsx", score_gemini_pro)
    sc = load_scenario(path)
    res = run_sweep(run_model(sc), 3000, seed=4)
    ids = res.option_ids
    scored = [ids.index(o) for o in res.quality_options]
    assert res.quality_options[-1] == "api-gemini-pro" and scored == [0, 1, 2, 3, 4, 6]  # not a leading block
    above = np.array([(sc.options[ids[i]].quality_score - sc.options[ids[i]].quality_chance_level)
                      / (100.0 - sc.options[ids[i]].quality_chance_level) for i in scored])
    winners = cheapest_of(res.levelized[:, scored] / above, np.array(scored, dtype=np.int16))
    expected = {ids[i]: np.count_nonzero(winners == i) / 3000 for i in scored}
    assert res.probability_cheapest_quality() == expected
    assert 0.05 < expected["api-gemini-pro"] < 0.95  # the winner changes from sample to sample
    assert expected != {o: res.probability_cheapest_self_hosted().get(o, 0.0) for o in expected}
    assert res.probability_cheapest()["api-gemini-pro"] == 0.0  # never the plain winner


def test_a_sampled_discount_rate_is_shown_as_sampled(default, tmp_path):
    def add_row(wb):
        ws = wb["Ranges"]
        for c, v in zip("ABCDEFG", ["Inputs", "discount_rate_annual", None, 0.03, 0.09, "uniform", "test"]):
            ws[f"{c}{FREE}"] = v

    out = tmp_path / "d.xlsx"
    res = CliRunner().invoke(main, ["sweep", str(mutate(default, tmp_path / "dr.xlsx", add_row)), "-n", "500",
                                    "--seed", "1", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert f"discount rate 5.50% a year at base, sampled (Ranges!D{FREE}), tax 0%" in res.output
    cells = [c.value for row in openpyxl.load_workbook(out)["Summary"].iter_rows() for c in row]
    assert f"5.50% at base; sampled (Ranges!D{FREE}: 3.00% to 9.00%)" in cells
    assert any(isinstance(v, str) and f"discounted at 5.50% at base; sampled (Ranges!D{FREE}" in v for v in cells)


def test_shares_and_base_percentiles_leave_undefined_samples_out():
    """P(NPV > 0) counts an undefined NPV as no saving; the base percentile counts defined samples only, ties half."""
    from tcomodel.sweep.montecarlo import SweepResult

    nan = float("nan")
    lev = np.array([[1.0, 2.0], [2.0, nan], [3.0, 2.0], [4.0, 5.0]])
    npv = np.array([[0.0, 1.0], [0.0, nan], [0.0, -1.0], [0.0, 0.0]])
    res = SweepResult(scenario_name="t", currency="DKK", baseline="a", samples=4, seed=0,
                      options={"a": ("owned", "A"), "b": ("hosted_api", "B")}, inputs=[], draws=np.empty((4, 0)),
                      levelized=lev, npv=npv, base_levelized={"a": 2.5, "b": 2.0}, base_npv={"a": 0.0, "b": 0.0})
    assert res.probability_saving() == {"b": 0.25}  # 1 of 4: the NaN and the 0 are no saving
    at = res.base_percentile("levelized")
    assert at == {"a": 0.5, "b": (0 + 0.5 * 2) / 3}  # b: 3 defined samples, two equal to its base 2.0
    assert res.base_percentile("npv") == {"a": None, "b": (1 + 0.5 * 1) / 3}


def test_saving_by_unknown_fee_band_by_hand():
    """Bands of equal width over the fee's range; a draw on an inner edge goes to the band above, the high end to
    the last band; an empty band has no share."""
    from tcomodel.finance.input_ranges import SampledInput
    from tcomodel.sweep.montecarlo import SweepResult

    fee = SampledInput("Ranges!D3", "fee", "Rental!B3", ["a.rental.fee_per_replica_per_month"], False, None,
                       0.0, 10.0, 40.0, "uniform")
    x = np.array([1.0, 9.0, 10.0, 25.0, 39.0, 40.0])  # bands 0-10, 10-20, 20-30, 30-40: 2, 1, 1, 2 draws
    npv = np.column_stack([np.zeros(6), [-1.0, 2.0, 3.0, -4.0, 5.0, 6.0]])
    res = SweepResult(scenario_name="t", currency="DKK", baseline="a", samples=6, seed=0,
                      options={"a": ("rented_server", "A"), "b": ("hosted_api", "B")}, inputs=[fee],
                      draws=x[:, None], levelized=np.ones((6, 2)), npv=npv, base_levelized={"a": 1.0, "b": 1.0},
                      base_npv={"a": 0.0, "b": 0.0}, unknown_fees=[(0, "a", {})], unknown_fee_draws=x[:, None])
    edges, counts, by_option = res.probability_saving_by_fee(0)
    assert edges.tolist() == [0.0, 10.0, 20.0, 30.0, 40.0] and counts.tolist() == [2, 1, 1, 2]
    assert by_option == {"b": [0.5, 1.0, 0.0, 1.0]}
    edges, counts, by_option = res.probability_saving_by_fee(0, bands=8)  # 5-wide bands: some hold no draw
    assert counts.tolist() == [1, 1, 1, 0, 0, 1, 0, 2] and by_option["b"][3] is None


def test_saving_by_unknown_fee_band_adds_up_to_the_overall_share_and_rises_with_the_fee(default_run):
    res = run_sweep(default_run, 8000, seed=3)
    (j, oid, _), = res.unknown_fees
    assert oid == "aarhusai" == res.baseline and res.inputs[j].ranges_cell == "Ranges!D3"
    assert np.array_equal(res.unknown_fee_draws[:, 0], res.draws[:, j])  # every sample's draw kept
    edges, counts, by_option = res.probability_saving_by_fee(0)
    assert edges.tolist() == [5000.0, 10000.0, 15000.0, 20000.0, 25000.0] and counts.sum() == 8000
    overall = res.probability_saving()
    for o, shares in by_option.items():
        # the bands' shares, weighted by their samples, are the share over every sample
        assert np.dot(shares, counts) / counts.sum() == pytest.approx(overall[o], abs=1e-12), o
        # a dearer baseline makes every switch from it save more often
        assert all(a <= b for a, b in zip(shares, shares[1:])), (o, shares)
    assert by_option["alternative"][0] < 0.1 < 0.9 < by_option["alternative"][2]


def test_bin_of_finds_the_histogram_bin_like_numpy():
    from tcomodel.sweep.sweep_xlsx import _bin_of, histogram

    values = np.array([0.0, 1.0, 2.5, 9.99, 10.0])
    edges, counts = histogram(values, bins=4)  # edges 0, 2.5, 5, 7.5, 10
    assert [_bin_of(edges, v) for v in values] == [0, 0, 1, 3, 3]  # the last bin includes its upper edge
    for v, b in zip(values, [0, 0, 1, 3, 3]):
        assert np.histogram([v], bins=edges)[0][b] == 1  # numpy puts it in the same bin
    assert _bin_of(edges, -0.1) is None and _bin_of(edges, 10.1) is None and _bin_of(edges, None) is None
    assert _bin_of(np.array([3.0, 3.0]), 3.0) == 0  # every sample equal: one bin


@pytest.mark.parametrize("low,mode,high,dist", [(5000, 10000, 25000, "uniform"), (6.0, 6.45, 7.2, "triangular"),
                                                (0.0, 0.0, 1.0, "triangular"), (-0.5, 0.0, 0.0, "uniform")])
def test_cdf_inverts_the_draws_inverse_cdf(low, mode, high, dist):
    """cdf is inverse_cdf's inverse: the base value's percentile is the distribution's own, not a sample's."""
    from tcomodel.sweep.sampling import cdf, inverse_cdf

    u = np.linspace(0.0, 0.999, 37)
    x = inverse_cdf(u, low, mode, high, dist)
    np.testing.assert_allclose([cdf(v, low, mode, high, dist) for v in x], u, atol=1e-12)
    assert cdf(low - 1, low, mode, high, dist) == 0.0 and cdf(high + 1, low, mode, high, dist) == 1.0
    assert cdf(3.0, 3.0, 3.0, 3.0, dist) == 0.5  # a collapsed range: the mid-rank
    if dist == "triangular" and high > low:
        assert cdf(mode, low, mode, high, dist) == pytest.approx((mode - low) / (high - low), abs=1e-15)


def test_share_bound_marks_shares_a_few_samples_from_0_or_1():
    from tcomodel.sweep.montecarlo import share_bound

    assert [share_bound(v) for v in (None, 0.0, 0.0003, 0.0005, 0.5, 0.9994, 0.9995, 0.9999, 1.0)] == \
        [None, None, "<0.1%", None, None, None, ">99.9%", ">99.9%", None]


@pytest.mark.parametrize("command", [["validate"], _SWEEP])
def test_every_ranges_problem_comes_in_one_round(default, tmp_path, command):
    """A bad row the report's cases use (FX, D4) and a bad row only the sweep samples (Capacity, after the default's
    rows): validate and sweep name both at once (they named the second only after the first was fixed); build's
    cases leave Capacity rows out, so build names the first alone."""
    def edit(wb):
        for cell, value in {"D4": -1, **_CAPACITY_ZERO[0]}.items():
            wb["Ranges"][cell] = value

    path = mutate(default, tmp_path / "bad.xlsx", edit)
    extra = ["-o", str(tmp_path / "o.xlsx")] if command[0] == "sweep" else []
    res = CliRunner().invoke(main, [command[0], str(path), *command[1:], *extra])
    assert res.exit_code == 2, res.output
    assert _OUT_OF_BOUNDS[1][1] in res.output and _CAPACITY_ZERO[1] in res.output
    assert res.output.index("Ranges!D4:") < res.output.index(f"Ranges!D{FREE}:")  # in row order
    built = CliRunner().invoke(main, [*_LOW_CASE, str(path), "-o", str(tmp_path / "b.xlsx")])
    assert built.exit_code == 2 and _OUT_OF_BOUNDS[1][1] in built.output and f"Ranges!D{FREE}" not in built.output


def test_a_staff_row_is_sampled_by_option_or_by_option_and_role(default, tmp_path):
    """Staff hours on the Ranges sheet: row_id an option (with one role) or option_id/role; a text field is refused."""
    from tcomodel.finance.input_ranges import resolve_ranges

    def edit(wb):
        ws = wb["Ranges"]
        _keep_only(ws, RANGES_FIRST_ROW)  # the default samples every Staff row already: one Ranges row an input
        r = RANGES_FIRST_ROW + 1
        for k, row in enumerate([("Staff", "aarhusai", "hours_per_month", 8, 60),
                                 ("Staff", "alternative/platform-engineer", "one_off_hours", 80, 240)]):
            for c, v in zip("ABCDE", row):
                ws[f"{c}{r + k}"] = v
            ws[f"F{r + k}"], ws[f"G{r + k}"] = "triangular", "test"

    path = mutate(default, tmp_path / "staff.xlsx", edit)
    sc = load_scenario(path)
    run = run_model(sc)
    inputs, _ = resolve_ranges(sc, run.model, monte_carlo=True)
    hours, once = inputs[-2:]
    assert (hours.names, hours.target, hours.mode) == (["aarhusai.staff.platform-engineer.hours_per_month"],
                                                       "Staff!C3", 24.0)
    assert (once.names, once.target, once.mode) == (["alternative.staff.platform-engineer.one_off_hours"],
                                                    "Staff!D4", 120.0)
    res = run_sweep(run, 2000, seed=4, inputs=inputs)
    drawn = res.draws[:, len(inputs) - 2]
    assert drawn.min() >= 8 and drawn.max() <= 60
    # more hours on the baseline make every switch from it save more: a positive driver of every NPV
    j = len(inputs) - 2
    assert all(res.drivers["npv"][j, i] > 0.05 for i, o in enumerate(res.options) if o != "aarhusai")

    def text_field(wb):
        ws = wb["Ranges"]
        ws["C3"], ws["A3"], ws["B3"] = "role", "Staff", "aarhusai"

    res = CliRunner().invoke(main, ["validate", str(mutate(default, tmp_path / "role.xlsx", text_field))])
    assert res.exit_code == 2
    assert "Ranges!C3: 'role' is not a field of sheet Staff; known: hours_per_month, one_off_hours" in res.output
