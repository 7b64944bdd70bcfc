"""Issue 13 items 1, 2, 4: the live case switch, the stale-input guard, named inputs, and verify per case."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner

from tcomodel.cli import main
from tcomodel.finance import run_model
from tcomodel.finance.cases import case_table
from tcomodel.inputs import load_scenario
from tcomodel.verify import verify_report
from tcomodel.verify.case_switch import set_case, set_cell
from tcomodel.verify.mismatches import compare_values, read_formulas, read_values
from tcomodel.verify.recalc import recalculate
from tests.helpers import find_row, mutate

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "assumptions" / "aarhusai-vs-alternative.xlsx"


def _keep_ranges(wb, keep_rows):
    """Delete every Ranges data row (from row 3) except those whose (sheet, row_id, field) is in keep_rows."""
    ws = wb["Ranges"]
    for r in range(ws.max_row, 2, -1):
        key = tuple(ws.cell(r, c).value for c in (1, 2, 3))
        if key not in keep_rows:
            ws.delete_rows(r)


def test_case_table_reads_the_ranges_sheet():
    sc = load_scenario(DEFAULT)
    run = run_model(sc)
    t = case_table(sc, run.model)
    fee = t.scalars["aarhusai.rental.fee_per_replica_per_month"]
    assert (fee.low, fee.base, fee.high) == (5000.0, 10000.0, 25000.0)
    req = t.rows["workload.requests"]
    assert np.allclose(req.low_multiplier, 0.7) and np.allclose(req.high_multiplier, 1.3)


def test_low_case_equals_a_scenario_with_the_low_values_typed_in(tmp_path):
    """Independent of the case code: one Ranges row (aarhusai's fee 5,000..25,000) in the Low case gives the same
    results as the Base case of a copy whose Rental sheet says 5,000."""
    one = mutate(DEFAULT, tmp_path / "one.xlsx",
                 lambda wb: _keep_ranges(wb, {("Rental", "aarhusai", "fee_per_replica_per_month")}))

    def typed(wb):
        _keep_ranges(wb, set())
        ws = wb["Rental"]
        ws.cell(find_row(ws, "A", "aarhusai"), 2).value = 5000

    low_typed = mutate(DEFAULT, tmp_path / "typed.xlsx", typed)
    low = run_model(load_scenario(one), case="low")
    ref = run_model(load_scenario(low_typed))
    for oid, om in low.model.options.items():
        assert low.scalar(om.levelized) == pytest.approx(ref.scalar(ref.model.options[oid].levelized), rel=1e-12)
    base = run_model(load_scenario(one))
    assert base.scalar(base.model.options["aarhusai"].levelized) > low.scalar(low.model.options["aarhusai"].levelized)


def test_workload_multiplier_scales_tokens_in_the_high_case():
    sc = load_scenario(DEFAULT)
    base, high = run_model(sc), run_model(sc, case="high")
    api = base.model.options["api-claude-sonnet"]
    # an API's tokens are the demand: 1.3 x in every quarter
    assert np.allclose(high.values[high.model.options["api-claude-sonnet"].tokens], 1.3 * base.values[api.tokens])


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    d = tmp_path_factory.mktemp("cases")
    out = {}
    for case in ("base", "low", "high"):
        res = CliRunner().invoke(main, ["build", str(DEFAULT), "-o", str(d / f"{case}.xlsx"), "--json",
                                        str(d / f"{case}.json"), "--case", case, "-q"])
        assert res.exit_code == 0, res.output
        out[case] = d / f"{case}.xlsx"
    return d, out


def test_switching_the_case_in_libreoffice_equals_build_case(reports, soffice_available, tmp_path):
    d, paths = reports
    for case, label in (("low", "Low"), ("high", "High")):
        switched = set_case(paths["base"], tmp_path / f"sw-{case}.xlsx", label)
        recalc = read_values(recalculate(switched, tmp_path / f"out-{case}"))
        ref, formulas = read_values(paths[case]), read_formulas(paths[case])
        assert len(formulas) > 10000
        bad = [k for k in formulas if compare_values(ref.get(k), recalc.get(k), 1e-9)]
        assert bad == []
        # and the headline is the JSON's of that case, which differs from Base
        js = json.loads((d / f"{case}.json").read_text())
        base_js = json.loads((d / "base.json").read_text())
        lev = js["options"]["aarhusai"]["levelized_cost_per_mtok"]
        assert lev != pytest.approx(base_js["options"]["aarhusai"]["levelized_cost_per_mtok"], rel=1e-3)
        assert js["case"] == case
        # the switched report shows that case's headline: the Summary's link equals the JSON's figure
        sheet_lev = [v for (s, c), v in recalc.items() if s == "aarhusai" and isinstance(v, float)
                     and v == pytest.approx(lev, rel=1e-9)]
        assert sheet_lev


def test_case_switch_keeps_status_ok_and_an_input_edit_makes_it_stale(reports, soffice_available, tmp_path):
    _, paths = reports
    wb = openpyxl.load_workbook(paths["base"])
    ws = wb["Inputs"]
    row = find_row(ws, "A", "Discount rate")
    assert ws[f"C{row}"].value == f"=$E${row}"  # no range: Value used = Base
    status_ref = wb.defined_names["MasterStatus"].attr_text.replace("$", "")
    sheet, cell = status_ref.split("!")
    switched = set_case(paths["base"], tmp_path / "low.xlsx", "Low")
    assert openpyxl.load_workbook(recalculate(switched, tmp_path / "a"), data_only=True)[sheet][cell].value == "OK"
    edited = set_cell(paths["base"], tmp_path / "edited.xlsx", "Inputs", f"E{row}", 0.09)
    wb2 = openpyxl.load_workbook(recalculate(edited, tmp_path / "b"), data_only=True)
    assert wb2[sheet][cell].value == "stale: rebuild"
    cover = wb2["Cover"]
    assert cover[f"B{find_row(cover, 'A', 'Master status (OK, stale: rebuild, FAIL)')}"].value == "stale: rebuild"
    # the engine's own master count is untouched: the stale flag is the guard, not a failing identity
    assert wb2["Checks"]["C6"].value == 0
    assert wb2["Checks"]["C7"].value == 1  # one input cell differs from the Snapshot


def test_every_input_has_a_defined_name_and_formulas_use_it(reports):
    _, paths = reports
    wb = openpyxl.load_workbook(paths["base"])
    names = {n: wb.defined_names[n].attr_text for n in wb.defined_names}
    assert names["Case"] == "Inputs!$C$3"
    fee = names["aarhusai.rental.fee_per_replica_per_month"]
    row = int(fee.split("$")[-1])
    assert wb["Inputs"][f"C{row}"].value == f"=CHOOSE(CaseIndex,$D${row},$E${row},$F${row})"
    assert names["HoursPerQuarter"].startswith("Time!")
    formulas = read_formulas(paths["base"])
    by_ref = [k for k, f in formulas.items() if re.search(r"Inputs!\$C\$\d", f)]
    assert by_ref == []  # every scalar input is read through its name
    assert any("aarhusai.rental.fee_per_replica_per_month" in f for f in formulas.values())


def test_verify_checks_all_three_cases_and_the_inputs_against_the_scenario(reports, soffice_available):
    _, paths = reports
    res = verify_report(paths["base"])
    assert res.ok, res.cases_summary()
    assert res.cases.checked == ["Low", "Base", "High"]
    assert res.cases.input_differences == []
    assert res.cases.cells > 10000


def test_verify_reports_an_input_that_differs_from_the_scenario(reports, soffice_available, tmp_path):
    _, paths = reports
    wb = openpyxl.load_workbook(paths["base"])
    row = find_row(wb["Inputs"], "A", "Discount rate")
    edited = set_cell(paths["base"], tmp_path / "edited.xlsx", "Inputs", f"E{row}", 0.09)
    res = verify_report(edited, scenario=DEFAULT)
    assert not res.ok
    assert [(d.cell, d.in_report) for d in res.cases.input_differences] == [(f"E{row}", 0.09)]
    assert "Discount rate" in str(res.cases.input_differences[0])


def test_verify_without_the_scenario_says_the_cases_were_not_checked(soffice_available, tmp_path):
    """A report whose scenario file has gone: its own values are still verified, the cases are not, and it says so."""
    scenario = tmp_path / "moved.xlsx"
    scenario.write_bytes(DEFAULT.read_bytes())
    report = tmp_path / "r.xlsx"
    res = CliRunner().invoke(main, ["build", str(scenario), "-o", str(report), "-q"])
    assert res.exit_code == 0, res.output
    scenario.unlink()
    res = verify_report(report)
    assert res.ok and res.cases.checked == [] and res.cases.input_differences == []
    assert "is not there; give --scenario" in res.cases.note
    assert res.cases_summary().startswith("cases: not checked")
    res = CliRunner().invoke(main, ["verify", str(report), "--scenario", str(tmp_path / "missing.xlsx")])
    assert res.exit_code == 2 and "file not found" in res.output


def test_build_rejects_an_unknown_case(tmp_path):
    res = CliRunner().invoke(main, ["build", str(DEFAULT), "-o", str(tmp_path / "x.xlsx"), "--case", "worst"])
    assert res.exit_code == 2
    assert "worst" in res.output and not (tmp_path / "x.xlsx").exists()
