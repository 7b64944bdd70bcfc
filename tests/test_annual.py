"""The annual view: budget years of whole quarters (calendar or fiscal), the Annual sheet's SUMIFS against
hand-computed sums and the quarterly totals, the JSON's annual blocks, the SUMIFS function in LibreOffice, and a
start month that splits a quarter refused at its Scenario cell."""

from __future__ import annotations

import json
import math
from collections import ChainMap

import numpy as np
import openpyxl
import pytest
import xlsxwriter
from click.testing import CliRunner

import tcomodel
from tcomodel.cli import main
from tcomodel.errors import InputError
from tcomodel.finance.annual import year_keys, year_label
from tcomodel.inputs.cells import Quarter
from tcomodel.report import write_report
from tcomodel.sheet import Const, Layout, evaluate, item, row_input, sumifs, timeline, write_block, write_rows
from tcomodel.sheet.engine import evaluate_over
from tcomodel.verify import verify_report
from tcomodel.verify.recalc import recalculate
from tests.test_finance_helpers import content, load, option, workload_rows

DEFAULT = "assumptions/aarhusai-vs-alternative.xlsx"


def _quarters(first: str, n: int):
    q = Quarter.parse(first)
    return [q + i for i in range(n)]


def test_fiscal_year_from_july_groups_july_to_june():
    qs = _quarters("2027Q1", 8)
    keys = year_keys(qs, 7)
    # 2027Q1-Q2 belong to the year that began in July 2026; 2027Q3..2028Q2 to FY2027/28; 2028Q3-Q4 to FY2028/29
    assert keys.tolist() == [2026, 2026, 2027, 2027, 2027, 2027, 2028, 2028]
    assert [year_label(k, 7) for k in (2026, 2027, 2099)] == ["FY2026/27", "FY2027/28", "FY2099/00"]
    assert year_keys(qs, 1).tolist() == [2027] * 4 + [2028] * 4 and year_label(2027, 1) == "2027"
    assert year_keys(qs, 4).tolist() == [2026, 2027, 2027, 2027, 2027, 2028, 2028, 2028]
    assert year_keys(qs, 10).tolist() == [2026, 2026, 2026, 2027, 2027, 2027, 2027, 2028]


def _two_apis(start_month: int, first="2027Q3"):
    """base costs 1,400 DKK per 1e6 requests (1e6 x (1000 in x 1 + 200 out x 2) / 1e6); cheap half that."""
    requests = [1e6, 2e6, 3e6, 4e6, 5e6, 6e6]
    wl = workload_rows(requests)
    for w, q in zip(wl, _quarters(first, len(wl))):
        w["quarter"] = str(q)
    c = content([option("base", "hosted_api"), option("cheap", "hosted_api")], wl,
                api=[{"option_id": "base", "input_per_mtok": 1.0, "output_per_mtok": 2.0, "batch_discount": 0.0,
                      "currency": "DKK"},
                     {"option_id": "cheap", "input_per_mtok": 0.5, "output_per_mtok": 1.0, "batch_discount": 0.0,
                      "currency": "DKK"}])
    c["Scenario"] = [row for row in c["Scenario"] if row[0] != "fiscal_year_start_month"]
    c["Scenario"].append(("fiscal_year_start_month", start_month, "month", "test"))
    return c


@pytest.fixture(scope="module")
def fiscal_run(tmp_path_factory):
    return tcomodel.run_model(load(tmp_path_factory.mktemp("fy"), _two_apis(7)))


def test_fiscal_year_hand_computed(fiscal_run):
    """2027Q3..2028Q2 is FY2027/28 (1+2+3+4 million requests), 2028Q3..Q4 the first half of FY2028/29 (5+6)."""
    d = tcomodel.to_json_dict(fiscal_run)
    assert d["annual"] == {"fiscal_year_start_month": 7, "years": ["FY2027/28", "FY2028/29"],
                           "quarters_in_year": [4, 2]}
    base, cheap = d["options"]["base"]["annual"], d["options"]["cheap"]["annual"]
    assert base["cost"] == pytest.approx([14000.0, 15400.0], rel=1e-12)
    assert base["cash_cost"] == pytest.approx([14000.0, 15400.0], rel=1e-12)
    assert base["cost_by_category"] == {"API tokens": pytest.approx([14000.0, 15400.0], rel=1e-12)}
    assert base["tokens"] == pytest.approx([10e6 * 1200, 11e6 * 1200], rel=1e-12)
    assert base["cost_per_mtok"] == pytest.approx([1400 / 1200] * 2, rel=1e-12)
    assert base["cumulative_cash_cost"] == pytest.approx([14000.0, 29400.0], rel=1e-12)
    assert base["saving_vs_baseline_cash"] == [0.0, 0.0]
    assert cheap["cost"] == pytest.approx([7000.0, 7700.0], rel=1e-12)
    assert cheap["saving_vs_baseline_cash"] == pytest.approx([7000.0, 7700.0], rel=1e-12)


def test_calendar_year_splits_the_same_quarters_differently(tmp_path):
    d = tcomodel.to_json_dict(tcomodel.run_model(load(tmp_path, _two_apis(1))))
    assert d["annual"]["years"] == ["2027", "2028"] and d["annual"]["quarters_in_year"] == [2, 4]
    # 2027: 1+2 million requests; 2028: 3+4+5+6
    assert d["options"]["base"]["annual"]["cost"] == pytest.approx([4200.0, 25200.0], rel=1e-12)


@pytest.mark.libreoffice
def test_fiscal_report_annual_sheet_is_live_and_libreoffice_agrees(fiscal_run, tmp_path, soffice_available):
    out = write_report(fiscal_run, tmp_path / "fy.xlsx")
    ws = openpyxl.load_workbook(out)["Annual"]
    cached = openpyxl.load_workbook(out, data_only=True)["Annual"]
    assert [ws.cell(4, c).value for c in (4, 5)] == ["FY2027/28", "FY2028/29 (part)"]
    r = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Cost (P&L view)")  # base's block is first
    assert ws.cell(r, 4).value.startswith("=SUMIFS(base!") and "Time!" in ws.cell(r, 4).value
    assert [cached.cell(r, c).value for c in (3, 4, 5)] == pytest.approx([29400.0, 14000.0, 15400.0], rel=1e-12)
    assert cached.cell(r, 6).value == 0  # quarterly total - sum of the years
    summary = openpyxl.load_workbook(out)["Summary"]
    links = [summary.cell(rr, cc).value for rr in range(1, summary.max_row + 1) for cc in (2, 3, 4)]
    cash = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Cash cost")
    assert f"=Annual!$D${cash}" in links  # the budget table links to the base option's cash cost in FY2027/28
    result = verify_report(out, rel_tol=1e-9)
    assert result.ok, result.summary()


@pytest.fixture(scope="module")
def default_run():
    return tcomodel.run_model(tcomodel.load_scenario(DEFAULT))


def test_default_scenario_years_add_up_to_the_quarterly_totals(default_run):
    run, view = default_run, default_run.annual
    assert [y.label for y in view.years] == ["2027", "2028", "2029", "2030", "2031"]
    for oid, ao in view.options.items():
        om = run.model.options[oid]
        pairs = [(ao.row("cost"), om.pl_cost), (ao.row("cash_cost"), om.cash_cost), (ao.row("tokens"), om.tokens)]
        pairs += [(r, om.categories[r.label]) for r in ao.categories]
        for row, quarterly in pairs:
            years = [view.value(it) for it in row.years]
            q = np.asarray(run.values[quarterly])
            assert years == pytest.approx([q[4 * i:4 * i + 4].sum() for i in range(5)], rel=1e-12), (oid, row.label)
            assert view.value(row.check) == 0.0
        # the categories are the P&L cost, split
        cats = np.sum([[view.value(it) for it in r.years] for r in ao.categories], axis=0)
        assert cats == pytest.approx([view.value(it) for it in ao.row("cost").years], rel=1e-9)


def test_bridge_rows_take_each_years_pl_cost_to_its_cash_cost(default_run):
    run, view = default_run, default_run.annual
    bridged = set()
    for oid, ao in view.options.items():
        om = run.model.options[oid]
        pl, cash = ([view.value(it) for it in ao.row(k).years] for k in ("cost", "cash_cost"))
        bridge = np.sum([[view.value(it) for it in r.years] for r in ao.bridge], axis=0) if ao.bridge else 0.0
        assert np.add(pl, bridge) == pytest.approx(cash, rel=1e-12, abs=1e-6), oid
        for r, (label, quarterly, sign) in zip(ao.bridge, om.cash_bridge):
            q = sign * np.asarray(run.values[quarterly])
            assert [view.value(it) for it in r.years] == pytest.approx([q[4 * i:4 * i + 4].sum() for i in range(5)])
            assert view.value(r.check) == 0.0
            bridged.add((oid, r.label))
        if om.kind != "owned":
            assert ao.bridge == [] and pl == cash, oid
    # the owned option: capex paid in 2027 (2 replicas x 110,000 DKK), its book value expensed over the years, and
    # its market value at the horizon end back in cash in 2031
    owned = view.options["alternative-owned"]
    rows = {r.label: [view.value(it) for it in r.years] for r in owned.bridge}
    assert list(rows) == ["add: Capex paid", "less: Depreciation and disposals (not cash)",
                          "less: Market value of hardware retired", "less: Market value at the horizon end"]
    assert rows["add: Capex paid"] == pytest.approx([220_000, 0, 0, 0, 0])
    assert rows["less: Market value at the horizon end"][:4] == [0, 0, 0, 0]
    assert rows["less: Market value at the horizon end"][4] < 0
    assert ("alternative-owned", "add: Capex paid") in bridged


def test_json_annual_totals_equal_the_horizon_totals(default_run):
    d = tcomodel.to_json_dict(default_run)
    base = d["options"][d["baseline"]]
    for oid, o in d["options"].items():
        a = o["annual"]
        assert sum(a["cash_cost"]) == pytest.approx(o["tco_nominal"], rel=1e-12)
        assert sum(a["tokens"]) == pytest.approx(o["tokens_served"], rel=1e-12)
        assert a["cumulative_cash_cost"][-1] == pytest.approx(o["tco_nominal"], rel=1e-12)
        assert sum(a["cost"]) == pytest.approx(sum(o["quarterly"]["cost"]), rel=1e-12)
        # no tax, every option serves from the first quarter: the cash saving is the difference in nominal TCO
        assert sum(a["saving_vs_baseline_cash"]) == pytest.approx(base["tco_nominal"] - o["tco_nominal"], abs=1e-6)


def test_sumifs_matches_libreoffice(tmp_path, soffice_available):
    """SUMIFS(row, key row, key) written by the sheet package and recalculated: keys that match nothing give 0."""
    vals = {"cost": [1.5, 2.25, 4.0, 8.0, 16.0], "year": [2026.0, 2027, 2027, 2027, 2028]}
    items = [item(f"Year {k}", "DKK", sumifs(row_input("cost"), timeline("year"), Const(k))) for k in (2027, 2029)]
    res = evaluate(items, vals)
    assert [float(res[it]) for it in items] == [14.25, 0.0]
    src = tmp_path / "in" / "sumifs.xlsx"
    src.parent.mkdir()
    wb = xlsxwriter.Workbook(str(src))
    L = Layout(periods=5)
    data, calc = wb.add_worksheet("Data"), wb.add_worksheet("Calc")
    write_rows(data, L, [("cost", "Cost", "DKK", vals["cost"]), ("year", "Year", "year", vals["year"])], 3)
    write_block(calc, items, L, res, 5)
    wb.close()
    lo = openpyxl.load_workbook(recalculate(src, tmp_path / "out"), data_only=True)["Calc"]
    assert openpyxl.load_workbook(src)["Calc"]["C6"].value == "=SUMIFS(Data!$E$4:$I$4,Data!$E$5:$I$5,2027)"
    assert [lo["C6"].value, lo["C7"].value] == [14.25, 0]


@pytest.mark.parametrize("month", [2, 12])
def test_start_month_that_splits_a_quarter_is_refused_at_its_cell(tmp_path, month):
    c = _two_apis(month)
    with pytest.raises(InputError) as exc:
        load(tmp_path, c)
    msgs = [str(p) for p in exc.value.problems]
    assert any(m.startswith("Scenario!B12: fiscal_year_start_month") for m in msgs), msgs
    from tcomodel.inputs import write_scenario_workbook

    path = tmp_path / "bad.xlsx"
    write_scenario_workbook(path, c)
    res = CliRunner().invoke(main, ["validate", str(path)])
    assert res.exit_code == 2 and "Scenario!B12" in res.output and "Traceback" not in res.output


def test_missing_start_month_is_the_calendar_year(tmp_path):
    c = _two_apis(7)
    c["Scenario"] = [row for row in c["Scenario"] if row[0] != "fiscal_year_start_month"]
    assert load(tmp_path, c).settings.fiscal_year_start_month == 1


def test_json_is_plain_and_the_partial_year_cost_per_mtok_defined(fiscal_run):
    text = json.dumps(tcomodel.to_json_dict(fiscal_run), allow_nan=False)
    assert math.isclose(json.loads(text)["options"]["cheap"]["annual"]["cost_per_mtok"][1], 700 / 1200, rel_tol=1e-12)


def _one_cell_at_a_time(run) -> dict:
    """The annual values as the cells were worked out before they were batched: ``evaluate_over`` per item, in
    order, each reading the values of the items before it."""
    view, m = run.annual, run.model
    n = len(m.quarters)
    known = ChainMap({}, run.values)
    for it in view.items():
        known.maps[0][it] = float(np.asarray(evaluate_over(it.expr, known, n, m.values())).ravel()[0])
    return known.maps[0]


def _many_apis_40_quarters_fiscal(n_options: int):
    """``n_options`` hosted APIs at different prices over 40 quarters from 2027Q2, budget years from July (partial
    first and last years)."""
    wl = workload_rows([1e6 * 1.07 ** i for i in range(40)], first_year=2027)[1:] + \
        workload_rows([9e6], first_year=2037)
    opts = [option(f"api{i}", "hosted_api") for i in range(n_options)]
    api = [{"option_id": f"api{i}", "input_per_mtok": 0.3 + 0.1 * i, "output_per_mtok": 1.7 + 0.3 * i,
            "batch_discount": 0.0, "currency": "DKK"} for i in range(n_options)]
    c = content(opts, wl, rate=0.07, api=api)
    c["Scenario"] = [row for row in c["Scenario"] if row[0] != "fiscal_year_start_month"]
    c["Scenario"].append(("fiscal_year_start_month", 7, "month", "test"))
    return c


@pytest.mark.parametrize("which", ["aarhusai-vs-alternative", "hardware-guide-claims", "many-options-40q"])
def test_annual_values_equal_one_cell_at_a_time_to_the_bit(which, tmp_path):
    """evaluate_annual evaluates cells of one formula together (evaluate_over_items): every value is the one the
    interpreter gives cell by cell, bit for bit, on both shipped scenarios and 30 options over 40 quarters."""
    if which == "many-options-40q":
        run = tcomodel.run_model(load(tmp_path, _many_apis_40_quarters_fiscal(30)))
        assert len(run.model.quarters) == 40 and len(run.annual.years) == 11 and run.annual.years[0].partial
    else:
        run = tcomodel.run_model(tcomodel.load_scenario(f"assumptions/{which}.xlsx"))
    expected = _one_cell_at_a_time(run)
    items = run.annual.items()
    assert list(run.annual.values) == items and len(items) > 400
    got = np.array([run.annual.values[it] for it in items])
    want = np.array([expected[it] for it in items])
    assert np.isfinite(got).sum() > 0.9 * len(items)
    assert got.view(np.int64).tolist() == want.view(np.int64).tolist()
