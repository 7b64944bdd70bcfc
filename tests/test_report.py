"""The Excel report: LibreOffice agrees with every cached formula value on every shipped scenario, the
Summary answers the headline questions, builds are deterministic and writes are safe."""

from __future__ import annotations

import json
import math
import os
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tcomodel.cli import main
from tcomodel.verify import verify_report
from tcomodel.xlsxmanifest import MANIFEST_SHEET
from tests.helpers import sha256

ROOT = Path(__file__).parents[1]
SHIPPED = sorted((ROOT / "assumptions").glob("*.xlsx"))
EXPECTED_SHEETS = ["Cover", "Summary", "Inputs", "InputsByQuarter", "Time", "Roofline", "Demand", "aarhusai", "alternative",
                   "alternative-owned", "cloud-h100-ondemand", "cloud-h100-mix", "api-claude-sonnet", "api-gemini-pro",
                   "api-gemini-flash-lite", "api-deepseek", "Comparison", "Annual", "Breakeven", "NPV_IRR", "Sensitivity",
                   "Checks", "Snapshot"]


def build(scenario, out, json_out=None):
    args = ["build", str(scenario), "-o", str(out)] + (["--json", str(json_out)] if json_out else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def default_report(tmp_path_factory):
    d = tmp_path_factory.mktemp("rep")
    out, js = d / "r.xlsx", d / "r.json"
    build(ROOT / "assumptions" / "aarhusai-vs-alternative.xlsx", out, js)
    return out, json.loads(js.read_text())


def test_shipped_scenarios_are_the_generated_ones():
    from tcomodel.inputs.shipped import SHIPPED as GENERATED

    assert {str(p.relative_to(ROOT)) for p in SHIPPED} == {k for k in GENERATED if k.startswith("assumptions/")}


@pytest.mark.libreoffice
@pytest.mark.parametrize("scenario", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_verifies_in_libreoffice(tmp_path, scenario, soffice_available):
    before = sha256(scenario)
    out = tmp_path / f"{scenario.stem}.xlsx"
    build(scenario, out)
    assert sha256(scenario) == before, "build modified its input"
    result = verify_report(out, rel_tol=1e-9)  # with all three cases against the scenario
    assert result.ok, (result.summary(), result.cases_summary())
    assert result.cases.checked == ["Low", "Base", "High"] and not result.cases.input_differences
    assert result.formula_cells > 5000
    # the CLI says the same
    cli = CliRunner().invoke(main, ["verify", "--no-cases", str(out)])
    assert cli.exit_code == 0 and "agree with LibreOffice" in cli.output


def test_no_error_values_except_na(default_report):
    out, _ = default_report
    wb = openpyxl.load_workbook(out, data_only=True)
    bad = [f"{ws.title}!{c.coordinate}={c.value}" for ws in wb for row in ws.iter_rows() for c in row
           if isinstance(c.value, str) and c.value.startswith("#") and c.value != "#N/A"]
    assert bad == []


def test_sheets_and_layout(default_report):
    out, _ = default_report
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == EXPECTED_SHEETS + [MANIFEST_SHEET]
    assert wb[MANIFEST_SHEET].sheet_state == "veryHidden"  # the formula list verify checks against
    ws = wb["alternative-owned"]
    assert ws.freeze_panes == "E5"
    assert [ws.cell(row=4, column=c).value for c in (1, 2, 3, 4, 5)] == ["Line item", "Unit", "Value", "Total", "2027Q1"]
    # one formula per row, the same shape in every period column (prev() aside, in the first period)
    for row in ws.iter_rows(min_row=6, max_row=60):
        formulas = [c.value for c in row[5:24] if isinstance(c.value, str) and c.value.startswith("=")]
        if len(formulas) == 19:
            shapes = {_shape(f) for f in formulas}
            assert len(shapes) == 1, (row[0].value, shapes)


def _shape(formula: str) -> str:
    import re
    return re.sub(r"(?<![A-Z$])[A-Z]{1,3}(?=\$?\d)", "C", formula)  # column letters of relative refs


def test_summary_answers_the_headline_questions(default_report):
    out, js = default_report
    ws = openpyxl.load_workbook(out, data_only=True)["Summary"]
    col_a = [ws.cell(row=r, column=1).value for r in range(1, ws.max_row + 1)]
    # the unknown HPC fee comes first: what is known without it (breakeven fees, NPV across its range)
    assert col_a[3].startswith("Known first: the monthly fee of aarhusai per server is unknown")
    hr = col_a.index("Option") + 1  # the options table's header row (1-based)
    assert hr > 4
    header = [c.value for c in ws[hr]]
    rows = {}
    for r in range(hr + 1, hr + 1 + len(js["options"])):
        rows[ws.cell(row=r, column=1).value] = [c.value for c in ws[r]]
    for oid, o in js["options"].items():
        row = rows[o["label"]]
        assert header[2] == "Levelized cost (DKK/Mtok)"
        assert row[2] == pytest.approx(o["levelized_cost_per_mtok"], rel=1e-12)
        if oid == js["baseline"]:
            assert row[7] == "baseline"
            continue
        assert row[7] == pytest.approx(o["npv_vs_baseline"], rel=1e-12)
        assert row[8] == ("n/a" if o["irr_vs_baseline"] is None else pytest.approx(o["irr_vs_baseline"], rel=1e-12))
        expected_pb = "never" if o["payback_quarter"] is None else js["quarters"][o["payback_quarter"] - 1]
        assert row[9] == expected_pb
    lead = {ws.cell(row=r, column=1).value: [c.value for c in ws[r]] for r in range(4, hr)}
    be = js["breakeven"]["fee"]["aarhusai"]["alternative"]
    label = "   " + js["options"]["alternative"]["label"]
    assert lead[label][2] == pytest.approx(be, rel=1e-12)
    table = js["unknown_fee"]["aarhusai"]
    assert table["share_of_assumed_fee"] == [0.5, 0.75, 1.0, 1.25, 1.5]
    for k, npvs in table["npv_of_switching"].items():
        assert lead[f"   switching to {k}"][2:7] == pytest.approx(npvs, rel=1e-12)
        # at 100% of the assumed fee the table is the headline NPV; NPV is linear in the fee
        assert npvs[2] == pytest.approx(js["options"][k]["npv_vs_baseline"], rel=1e-12)
        assert npvs[4] - npvs[2] == pytest.approx(npvs[2] - npvs[0], rel=1e-9)
    # the alternative's NPV crosses zero at the breakeven fee
    lv, npv = table["fee_levels"], table["npv_of_switching"]["alternative"]
    slope = (npv[4] - npv[0]) / (lv[4] - lv[0])
    assert npv[2] + slope * (be - lv[2]) == pytest.approx(0.0, abs=1e-6 * abs(npv[2]))


def test_breakeven_fee_makes_the_options_cost_the_same(tmp_path, default_report):
    """Independent check: set aarhusai's fee to its breakeven value and rebuild; the PVs must match."""
    from tcomodel.inputs import load_scenario
    from tests.helpers import column_of, find_row, mutate

    _, js = default_report
    fee = js["breakeven"]["fee"]["aarhusai"]["alternative"]

    def edit(wb):
        ws = wb["Rental"]
        ws[f"{column_of(ws, 'fee_per_replica_per_month')}{find_row(ws, 'A', 'aarhusai')}"] = fee

    p = mutate(ROOT / "assumptions" / "aarhusai-vs-alternative.xlsx", tmp_path / "be.xlsx", edit)
    from tcomodel.finance import run_model, to_json_dict

    d = to_json_dict(run_model(load_scenario(p)))
    assert d["options"]["aarhusai"]["tco_pv"] == pytest.approx(d["options"]["alternative"]["tco_pv"], rel=1e-9)


def test_two_builds_are_identical(tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    scenario = ROOT / "assumptions" / "aarhusai-vs-alternative.xlsx"
    build(scenario, a)
    build(scenario, b)
    za, zb = zipfile.ZipFile(a), zipfile.ZipFile(b)
    assert za.namelist() == zb.namelist()
    for name in za.namelist():
        assert za.read(name) == zb.read(name), name


def test_default_output_path(tmp_path, monkeypatch):
    import datetime as dt

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", str(ROOT / "assumptions" / "aarhusai-vs-alternative.xlsx")])
    assert result.exit_code == 0, result.output
    expected = tmp_path / "outputs" / f"aarhusai-vs-alternative-{dt.date.today().isoformat()}.xlsx"
    assert expected.is_file()


def test_refuses_to_write_over_the_input(tmp_path):
    scenario = tmp_path / "s.xlsx"
    scenario.write_bytes((ROOT / "assumptions" / "aarhusai-vs-alternative.xlsx").read_bytes())
    before = sha256(scenario)
    result = CliRunner().invoke(main, ["build", str(scenario), "-o", str(scenario)])
    assert result.exit_code == 2 and "over the input" in result.output
    assert sha256(scenario) == before


def test_unwritable_output_path_leaves_no_partial_file(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a folder should be")
    result = CliRunner().invoke(main, ["build", str(ROOT / "assumptions" / "aarhusai-vs-alternative.xlsx"),
                                       "-o", str(blocker / "r.xlsx")])
    assert result.exit_code == 2 and "error:" in result.output and "Traceback" not in result.output
    assert sorted(os.listdir(tmp_path)) == ["not-a-dir"]


def test_open_report_gives_a_clear_error(tmp_path):
    out = tmp_path / "r.xlsx"
    out.write_bytes(b"old report")
    (tmp_path / ".~lock.r.xlsx#").write_text("someone,host,2026")  # LibreOffice's lock file while open
    result = CliRunner().invoke(main, ["build", str(ROOT / "assumptions" / "aarhusai-vs-alternative.xlsx"),
                                       "-o", str(out)])
    assert result.exit_code == 2 and "is open" in result.output
    assert out.read_bytes() == b"old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".~lock.r.xlsx#", "r.xlsx"]


def test_hardware_guide_report_flags_impossible_claims(tmp_path):
    out = tmp_path / "hg.xlsx"
    build(ROOT / "assumptions" / "hardware-guide-claims.xlsx", out)
    ws = openpyxl.load_workbook(out, data_only=True)["Roofline"]
    verdicts = {}
    for row in ws.iter_rows(values_only=True):
        if row[0] and str(row[0]).startswith("guide-"):
            verdicts[row[0]] = (row[7], row[6], row[8])
    assert len(verdicts) == 11
    # LLaMA-70B at 3.5 bits on one RTX 4090: 70.6e9 x 3.5 / 8 = 30.9 GB > 24 GB, and ~1,008 GB/s / 30.9 GB ~ 33 tok/s
    v, bound, factor = verdicts["guide-01-rtx-4090-llama-3-70b"]
    assert v == "does not fit"
    assert 30 < bound < 36 and factor > 50
    assert all(v in ("does not fit", "exceeds bound") for v, _, _ in verdicts.values())
