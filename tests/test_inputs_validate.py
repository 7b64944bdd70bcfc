"""`tcomodel init` and `tcomodel validate`: the starter workbook is valid, and every class of broken
workbook exits 2 naming Sheet!Cell, with no traceback, and leaves the input file untouched."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tcomodel.cli import main
from tcomodel.inputs import load_scenario
from tests.helpers import column_of, find_row, mutate, sha256

LOCATION = re.compile(r"^[A-Za-z]+(![A-Z]{1,3}\d+)?: ")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "s.xlsx"
    result = CliRunner().invoke(main, ["init", str(path)])
    assert result.exit_code == 0, result.output
    return path


def run_validate(path):
    before = sha256(path) if Path(path).is_file() else None
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    if before is not None:
        assert sha256(path) == before, "validate modified its input"
    return result


def problems(result) -> list[str]:
    lines = result.output.strip().splitlines()
    return [ln for ln in lines if not ln.endswith("problem(s) found:")]


def assert_invalid(path, expected_location: str, *fragments: str):
    result = run_validate(path)
    assert result.exit_code == 2, result.output
    lines = problems(result)
    hits = [ln for ln in lines if ln.startswith(expected_location + ":") or ln.startswith(expected_location + " ")]
    assert hits, f"no problem at {expected_location}; got:\n{result.output}"
    for frag in fragments:
        assert any(frag in h for h in hits), f"{frag!r} not in {hits}"
    return lines


# --- the valid starter ----------------------------------------------------------------------------


def test_init_writes_a_valid_scenario(template):
    result = run_validate(template)
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
    assert "9 options" in result.output and "20 quarters 2027Q1..2031Q4" in result.output and "currency DKK" in result.output


def test_init_refuses_to_overwrite_without_force(template):
    before = sha256(template)
    result = CliRunner().invoke(main, ["init", str(template)])
    assert result.exit_code == 2
    assert "--force" in result.output
    assert sha256(template) == before
    forced = CliRunner().invoke(main, ["init", str(template), "--force"])
    assert forced.exit_code == 0


def test_init_output_is_deterministic(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    a, b = tmp_path / "a" / "s.xlsx", tmp_path / "b" / "s.xlsx"  # one name: init names the scenario after it
    CliRunner().invoke(main, ["init", str(a)])
    CliRunner().invoke(main, ["init", str(b)])
    za, zb = zipfile.ZipFile(a), zipfile.ZipFile(b)
    assert za.namelist() == zb.namelist()
    for name in za.namelist():
        assert za.read(name) == zb.read(name), name


def test_shipped_template_matches_init(tmp_path):
    # init names the scenario after the file: under the default scenario's name it writes the template itself
    template = tmp_path / "aarhusai-vs-alternative.xlsx"
    assert CliRunner().invoke(main, ["init", str(template)]).exit_code == 0
    shipped = Path(__file__).parents[1] / "templates" / "scenario-template.xlsx"
    zs, zt = zipfile.ZipFile(shipped), zipfile.ZipFile(template)
    for name in zt.namelist():
        assert zs.read(name) == zt.read(name), f"templates/scenario-template.xlsx is stale ({name}); regenerate it"


def test_loaded_values_are_typed(template):
    sc = load_scenario(template)
    assert sc.settings.report_currency == "DKK"
    assert str(sc.settings.first_quarter) == "2027Q1" and sc.settings.horizon_quarters == 20
    assert sc.rental["alternative"].fee_per_replica_per_month == 1497.30 and sc.rental["alternative"].currency == "EUR"
    assert sc.rental["alternative"].vat_rate == 0.25 and sc.rental["aarhusai"].minimum_term_months is None
    assert sc.options["alternative"].gpus_per_replica == 1 and isinstance(sc.options["alternative"].gpus_per_replica, int)
    assert sc.fx["USD"] == pytest.approx(6.45) and sc.fx["DKK"] == 1.0
    assert sc.workload[0].cache_hit_share == pytest.approx(0.30)
    assert len(sc.workload) == 20 and str(sc.workload[-1].quarter) == "2031Q4"
    assert sc.api_prices["api-claude-sonnet"].as_of == dt.date(2026, 11, 30)
    assert sc.hardware["rtx-pro-6000-maxq"].memory_mib == 97887


# --- the file itself --------------------------------------------------------------------------


def test_missing_file(tmp_path):
    result = run_validate(tmp_path / "nope.xlsx")
    assert result.exit_code == 2
    assert "file not found" in result.output


def test_text_file(tmp_path):
    p = tmp_path / "notes.xlsx"
    p.write_text("this is not a workbook\n")
    result = run_validate(p)
    assert result.exit_code == 2 and "not an .xlsx workbook" in result.output


def test_old_xls_file(tmp_path):
    p = tmp_path / "old.xls"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)  # OLE2 header, as .xls files start
    result = run_validate(p)
    assert result.exit_code == 2 and ".xls" in result.output and "save it as .xlsx" in result.output


def test_corrupt_zip(tmp_path, template):
    p = tmp_path / "corrupt.xlsx"
    data = template.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    result = run_validate(p)
    assert result.exit_code == 2 and "corrupt" in result.output


def test_password_protected(tmp_path, template):
    from msoffcrypto.format.ooxml import OOXMLFile

    p = tmp_path / "locked.xlsx"
    with open(template, "rb") as src, open(p, "wb") as dst:
        OOXMLFile(src).encrypt("secret", dst)
    result = run_validate(p)
    assert result.exit_code == 2 and "password-protected" in result.output


# --- sheets and columns -------------------------------------------------------------------------


def test_missing_sheet(tmp_path, template):
    p = mutate(template, tmp_path / "b.xlsx", lambda wb: wb.remove(wb["Workload"]))
    lines = assert_invalid(p, "Workload", "sheet 'Workload' is missing")
    assert len(lines) == 1


def test_renamed_column(tmp_path, template):
    def edit(wb):
        ws = wb["Options"]
        ws[f"{column_of(ws, 'kind')}1"] = "type"

    p = mutate(template, tmp_path / "b.xlsx", edit)
    assert_invalid(p, "Options!C1", "column 'kind' is missing", "'type' (renamed?)")


def test_deleted_column(tmp_path, template):
    p = mutate(template, tmp_path / "b.xlsx", lambda wb: wb["ApiPrices"].delete_cols(4))
    result = run_validate(p)
    assert result.exit_code == 2
    assert any(ln.startswith("ApiPrices!") and "column 'input_per_mtok' is missing" in ln for ln in problems(result))


# --- cells ---------------------------------------------------------------------------------------


def _set(sheet, field, row_id, value, id_col="A"):
    def edit(wb):
        ws = wb[sheet]
        row = find_row(ws, id_col, row_id)
        ws[f"{column_of(ws, field)}{row}"] = value

    return edit


def _cell(template, sheet, field, row_id, id_col="A"):
    ws = openpyxl.load_workbook(template)[sheet]
    return f"{sheet}!{column_of(ws, field)}{find_row(ws, id_col, row_id)}"


def test_empty_required_cell(tmp_path, template):
    p = mutate(template, tmp_path / "b.xlsx", _set("Rental", "fee_per_replica_per_month", "alternative", None))
    assert_invalid(p, _cell(template, "Rental", "fee_per_replica_per_month", "alternative"), "is empty but required")


def test_text_in_numeric_cell(tmp_path, template):
    p = mutate(template, tmp_path / "b.xlsx", _set("ApiPrices", "input_per_mtok", "api-claude-sonnet", "three dollars"))
    assert_invalid(p, _cell(template, "ApiPrices", "input_per_mtok", "api-claude-sonnet"),
                   "holds text 'three dollars'", "expected a number from 0 to 1,000,000,000")


@pytest.mark.parametrize("error", ["#REF!", "#DIV/0!", "#N/A"])
def test_excel_error_values(tmp_path, template, error):
    p = mutate(template, tmp_path / "b.xlsx", _set("Workload", "requests", "2027Q3", error))
    assert_invalid(p, _cell(template, "Workload", "requests", "2027Q3"), f"Excel error {error}")


def test_formula_without_cached_value(tmp_path, template):
    # openpyxl writes formulas without cached values, as scripts and some exporters do
    p = mutate(template, tmp_path / "b.xlsx", _set("Workload", "requests", "2027Q2", "=B3*1.08"))
    assert_invalid(p, _cell(template, "Workload", "requests", "2027Q2"), "formula (=B3*1.08) with no saved value")


def test_share_outside_unit_interval(tmp_path, template):
    p = mutate(template, tmp_path / "b.xlsx", _set("Workload", "cache_hit_share", "2027Q1", 25))
    assert_invalid(p, _cell(template, "Workload", "cache_hit_share", "2027Q1"), "25 is not between 0 and 1", "write 0.25 or 25%")


def test_share_accepts_percent_formatted_and_text(tmp_path, template):
    def edit(wb):
        _set("Workload", "cache_hit_share", "2027Q1", 0.25)(wb)
        ws = wb["Workload"]
        ws[f"{column_of(ws, 'cache_hit_share')}{find_row(ws, 'A', '2027Q1')}"].number_format = "0%"
        _set("Workload", "cache_hit_share", "2027Q2", "25%")(wb)

    p = mutate(template, tmp_path / "ok.xlsx", edit)
    assert run_validate(p).exit_code == 0
    sc = load_scenario(p)
    assert sc.workload[0].cache_hit_share == 0.25 and sc.workload[1].cache_hit_share == 0.25


@pytest.mark.parametrize("sheet,field,row_id", [
    ("ApiPrices", "output_per_mtok", "api-gemini-pro"),  # a price
    ("Options", "gpus_per_replica", "alternative"),  # a count
    ("Opex", "power_kw_per_replica", "alternative-owned"),  # a power
])
def test_negative_price_count_power(tmp_path, template, sheet, field, row_id):
    p = mutate(template, tmp_path / "b.xlsx", _set(sheet, field, row_id, -3))
    assert_invalid(p, _cell(template, sheet, field, row_id), "-3 is negative")


@pytest.mark.parametrize("field,bad", [("hardware_id", "h100"), ("model_id", "llama-9-9000b")])
def test_unknown_hardware_or_model(tmp_path, template, field, bad):
    p = mutate(template, tmp_path / "b.xlsx", _set("Options", field, "alternative", bad))
    assert_invalid(p, _cell(template, "Options", field, "alternative"), f"'{bad}' is not on sheet", "known: ")


def test_unknown_option_reference(tmp_path, template):
    p = mutate(template, tmp_path / "b.xlsx", _set("Rental", "option_id", "alternative", "alternativ"))
    result = run_validate(p)
    assert result.exit_code == 2
    cell = _cell(template, "Rental", "option_id", "alternative")
    assert any(ln.startswith(cell) and "'alternativ' is not on sheet Options" in ln for ln in problems(result))


def test_duplicate_ids(tmp_path, template):
    p = mutate(template, tmp_path / "b.xlsx", _set("Options", "option_id", "cloud-h100-mix", "cloud-h100-ondemand"))
    assert_invalid(p, _cell(template, "Options", "option_id", "cloud-h100-mix"), "duplicate option_id 'cloud-h100-ondemand'")


@pytest.mark.parametrize("bad", ["2027-13", "Q1 2027", "2027Q5"])
def test_malformed_quarter(tmp_path, template, bad):
    p = mutate(template, tmp_path / "b.xlsx", _set("Workload", "quarter", "2028Q1", bad))
    assert_invalid(p, _cell(template, "Workload", "quarter", "2028Q1"), "is not a quarter", "2026Q1")


@pytest.mark.parametrize("horizon", [0, 201])
def test_horizon_out_of_range(tmp_path, template, horizon):
    p = mutate(template, tmp_path / "b.xlsx", _set("Scenario", "value", "horizon_quarters", horizon))
    ws = openpyxl.load_workbook(template)["Scenario"]
    assert_invalid(p, f"Scenario!B{find_row(ws, 'A', 'horizon_quarters')}", "from 1 to 200")


def test_currency_without_fx_rate(tmp_path, template):
    p = mutate(template, tmp_path / "b.xlsx", _set("CloudRates", "currency", "cloud-h100-mix", "GBP"))
    assert_invalid(p, _cell(template, "CloudRates", "currency", "cloud-h100-mix"), "'GBP' has no FX rate")


def test_baseline_option_missing(tmp_path, template):
    p = mutate(template, tmp_path / "b.xlsx", _set("Scenario", "value", "baseline_option", "computerome"))
    ws = openpyxl.load_workbook(template)["Scenario"]
    assert_invalid(p, f"Scenario!B{find_row(ws, 'A', 'baseline_option')}", "'computerome' is not an option_id")


def test_every_problem_is_reported_at_once(tmp_path, template):
    def edit(wb):
        _set("ApiPrices", "input_per_mtok", "api-claude-sonnet", "x")(wb)
        _set("Workload", "cache_hit_share", "2027Q1", 2)(wb)
        _set("Options", "kind", "alternative", "leased")(wb)

    result = run_validate(mutate(template, tmp_path / "b.xlsx", edit))
    assert result.exit_code == 2
    lines = problems(result)
    assert len(lines) >= 3 and all(LOCATION.match(ln) for ln in lines), lines


def test_cli_subprocess_prints_no_traceback(tmp_path):
    p = tmp_path / "x.xlsx"
    p.write_text("a,b\n1,2\n")
    proc = subprocess.run([sys.executable, "-m", "tcomodel", "validate", str(p)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "not an .xlsx workbook" in proc.stderr
