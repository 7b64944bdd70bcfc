"""`tcomodel init --minimal`, the starter's scenario name, and reports that never overwrite each other:
a build refuses (exit 2, file untouched) to replace an output of another scenario file unless --force."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import xlsxwriter
from click.testing import CliRunner

from tcomodel.api import build
from tcomodel.cli import main
from tcomodel.errors import OutputError
from tcomodel.inputs import load_scenario
from tcomodel.provenance import recorded_origin, refuse_other_scenario
from tests.helpers import find_row, mutate, sha256

ROOT = Path(__file__).parents[1]
BUILD_DATE = dt.date(2026, 12, 1)  # fixed, so the starter's price dates are never stale here


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture(scope="module")
def minimal(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("minimal") / "small-case.xlsx"
    result = invoke("init", "--minimal", path)
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def minimal_run(minimal, tmp_path_factory):
    out = tmp_path_factory.mktemp("minimal-out")
    return build(minimal, xlsx_path=out / "r.xlsx", json_path=out / "r.json", build_date=BUILD_DATE), out


def test_minimal_starter_validates_with_two_options(minimal):
    result = invoke("validate", minimal)
    assert result.exit_code == 0, result.output
    assert "small-case: 2 options [owned (owned), api (hosted_api)], 8 quarters 2027Q1..2028Q4" in result.output
    assert "baseline api" in result.output


def test_minimal_starter_has_no_optional_rows(minimal):
    sc = load_scenario(minimal)
    assert sc.claims == [] and sc.ranges == [] and sc.pairs == [] and sc.staff == {} and sc.roles == {}
    assert sc.utilization_rows == [] and list(sc.resale) == ["owned"]
    assert set(sc.hardware_rows) == {"rtx-pro-6000-maxq"} and set(sc.model_rows) == {"qwen3-next-80b-a3b"}
    assert list(sc.fx_rows) == ["USD"]


def test_every_value_of_the_minimal_starter_is_sourced(minimal):
    wb = openpyxl.load_workbook(minimal, read_only=True)
    missing = []
    for r in wb["Scenario"].iter_rows(min_row=2, values_only=True):
        if r[1] is not None and not r[3]:
            missing.append(f"Scenario {r[0]}")
    for ws in wb.worksheets:
        if ws.title in ("Guide", "Scenario"):
            continue
        header = [c.value for c in next(ws.iter_rows(max_row=1))]
        src = header.index("source")
        for i, row in enumerate(ws.iter_rows(min_row=3, values_only=True), start=3):
            if any(v is not None for v in row) and not row[src]:
                missing.append(f"{ws.title} row {i}")
    wb.close()
    assert missing == []


def test_minimal_build_is_clean_and_the_api_costs_its_blended_price(minimal, minimal_run):
    run, _ = minimal_run
    m = run.model
    assert run.scalar(m.master_check) == 0 and run.warnings == []
    sc = load_scenario(minimal)
    price, w = sc.api_prices["api"], sc.workload[0]
    assert (price.input_per_mtok, price.output_per_mtok, sc.fx["USD"]) == (2.0, 10.0, 6.45)
    assert (w.input_tokens_per_request, w.output_tokens_per_request) == (1500.0, 350.0)
    assert (w.cache_hit_share, w.batch_eligible_share) == (0.0, 0.0)
    # no caching, batch or staff: every quarter's cost per Mtok is the token-weighted list price, in DKK
    blended_dkk = (1500 * 2.0 + 350 * 10.0) / (1500 + 350) * 6.45  # = 22.6622
    assert blended_dkk == pytest.approx(22.662162, abs=1e-6)
    per_quarter = np.asarray(run.value(m.options["api"].cost_per_mtok), dtype=float)
    assert per_quarter.shape == (8,)
    assert per_quarter == pytest.approx(np.full(8, blended_dkk), rel=1e-12)
    assert run.scalar(m.options["api"].levelized) == pytest.approx(blended_dkk, rel=1e-12)


def test_minimal_report_opens_as_a_build_report(minimal, minimal_run):
    _, out = minimal_run
    origin = recorded_origin(out / "r.xlsx")
    assert origin == {"kind": "build", "file": str(minimal.resolve()), "name": "small-case"}
    data = json.loads((out / "r.json").read_text())
    assert data["scenario"] == "small-case" and data["scenario_file"] == str(minimal.resolve())
    assert set(data["options"]) == {"owned", "api"}


def test_minimal_report_recalculates_in_libreoffice(minimal_run):
    _, out = minimal_run
    res = invoke("verify", out / "r.xlsx")
    assert res.exit_code == 0, res.output
    assert re.search(r"^\d+ formula cells agree with LibreOffice within 1e-09; all \d+ formulas", res.output)


# --- the scenario name of a starter -------------------------------------------------------------


@pytest.mark.parametrize("flags", [(), ("--minimal",)])
def test_init_names_the_scenario_after_the_file(tmp_path, flags):
    path = tmp_path / "my-scenario.xlsx"
    assert invoke("init", *flags, path).exit_code == 0
    assert load_scenario(path).settings.scenario_name == "my-scenario"
    ws = openpyxl.load_workbook(path)["Scenario"]
    row = find_row(ws, "A", "scenario_name")
    assert ws[f"B{row}"].value == "my-scenario" and "file's name" in ws[f"D{row}"].value


def test_init_under_the_default_name_is_the_shipped_scenario(tmp_path):
    """Named like the default scenario, the starter is byte for byte the shipped default workbook."""
    path = tmp_path / "aarhusai-vs-alternative.xlsx"
    assert invoke("init", path).exit_code == 0
    shipped = zipfile.ZipFile(ROOT / "assumptions" / "aarhusai-vs-alternative.xlsx")
    mine = zipfile.ZipFile(path)
    assert mine.namelist() == shipped.namelist()
    for name in mine.namelist():
        assert mine.read(name) == shipped.read(name), name


# --- reports never overwrite each other -----------------------------------------------------------


@pytest.fixture()
def two_scenarios(tmp_path, minimal):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    a.write_bytes(minimal.read_bytes())
    b.write_bytes(minimal.read_bytes())  # same content and scenario_name: only the file differs
    report, results = tmp_path / "report.xlsx", tmp_path / "results.json"
    first = invoke("build", a, "-o", report, "--json", results, "-q")
    assert first.exit_code == 0, first.output
    return a, b, report, results


def test_a_report_of_another_scenario_is_refused_and_left_untouched(two_scenarios):
    a, b, report, results = two_scenarios
    before = sha256(report), sha256(results)
    res = invoke("build", b, "-o", report, "-q")
    assert res.exit_code == 2
    assert f"{report} holds the output of another scenario file ({a.resolve()})" in res.output
    assert "--force" in res.output
    res = invoke("build", b, "-o", report.with_name("other.xlsx"), "--json", results, "-q")
    assert res.exit_code == 2 and f"{results} holds the output of another scenario file" in res.output
    assert (sha256(report), sha256(results)) == before
    assert not report.with_name("other.xlsx").exists()  # nothing written when one target is refused


def test_the_same_scenario_file_replaces_its_report(two_scenarios, tmp_path):
    a, _, report, results = two_scenarios

    def rename(wb):  # the same file, its scenario renamed: still the same scenario file
        ws = wb["Scenario"]
        ws[f"B{find_row(ws, 'A', 'scenario_name')}"] = "renamed"

    mutate(a, a, rename)
    res = invoke("build", a, "-o", report, "--json", results, "-q")
    assert res.exit_code == 0, res.output
    assert recorded_origin(report) == {"kind": "build", "file": str(a.resolve()), "name": "renamed"}
    assert json.loads(results.read_text())["scenario"] == "renamed"


def test_force_replaces_a_report_of_another_scenario(two_scenarios):
    _, b, report, results = two_scenarios
    res = invoke("build", b, "-o", report, "--json", results, "-q", "--force")
    assert res.exit_code == 0, res.output
    assert recorded_origin(report)["file"] == str(b.resolve())
    assert json.loads(results.read_text())["scenario_file"] == str(b.resolve())


def test_a_file_that_is_no_tcomodel_output_is_replaced_as_before(tmp_path, minimal):
    target = tmp_path / "notes.json"
    target.write_text('{"scenario": "someone else\'s notes"}')  # JSON, but not tcomodel results
    plain = tmp_path / "plain.xlsx"
    wb = xlsxwriter.Workbook(str(plain))
    wb.add_worksheet().write(0, 0, "not a report")
    wb.close()
    assert recorded_origin(target) is None and recorded_origin(plain) is None
    res = invoke("build", minimal, "-o", plain, "--json", target, "-q")
    assert res.exit_code == 0, res.output
    assert recorded_origin(plain)["file"] == str(minimal.resolve())


def _legacy_report(path: Path, kind: str = "build", title: str = "tcomodel report: small-case") -> Path:
    """A workbook marked as tcomodel's the way reports were before they recorded their scenario file."""
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"title": title})
    wb.set_custom_property("tcomodel_workbook", kind)
    wb.add_worksheet()
    wb.close()
    return path


def test_an_older_report_is_matched_by_its_scenario_name(tmp_path, minimal):
    old = _legacy_report(tmp_path / "old.xlsx")
    assert recorded_origin(old) == {"kind": "build", "file": None, "name": "small-case"}
    refuse_other_scenario([old], minimal, "small-case")  # same name: replaced as before
    with pytest.raises(OutputError, match="a scenario named 'small-case'"):
        refuse_other_scenario([old], minimal, "another-case")
    refuse_other_scenario([old], minimal, "another-case", force=True)


def test_a_workbook_of_another_command_is_refused(tmp_path, minimal):
    sweep = _legacy_report(tmp_path / "sweep.xlsx", kind="sweep", title="tcomodel sweep: small-case")
    before = sha256(sweep)
    res = invoke("build", minimal, "-o", sweep, "-q")
    assert res.exit_code == 2 and "holds a tcomodel sweep workbook" in res.output
    assert sha256(sweep) == before


# --- the README's examples work as written ------------------------------------------------------------


def _readme_block(after: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(re.escape(after) + r"\s*```sh\n(.*?)```", text, re.S)
    assert block, f"no sh block after {after!r}"
    return [ln.split("  #")[0].strip() for ln in block.group(1).splitlines() if ln.strip()]


def test_readme_own_scenario_commands_run_as_written(tmp_path):
    lines = _readme_block("Your own scenario:")
    assert lines[0].startswith("tcomodel init my-scenario.xlsx") and lines[-1].startswith("tcomodel verify ")
    # this checkout's tcomodel, whatever is installed
    shim = f'tcomodel() {{ PYTHONPATH={ROOT} "{sys.executable}" -m tcomodel "$@"; }}\nset -e\n'
    done = subprocess.run(["bash", "-c", shim + "\n".join(lines)], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "results.json").is_file()
    assert re.search(r"\d+ formula cells agree with LibreOffice", done.stdout), done.stdout
    assert "my-scenario: 9 options" in done.stdout  # the starter is named after its file


def test_a_sweep_of_another_scenario_is_refused(tmp_path):
    """Sweeps are named after scenario_name, which copies of one workbook share: the guard covers them too."""
    a, b = tmp_path / "q3.xlsx", tmp_path / "q4.xlsx"
    for p in (a, b):
        p.write_bytes((ROOT / "assumptions" / "aarhusai-vs-alternative.xlsx").read_bytes())
    out, results = tmp_path / "sweep.xlsx", tmp_path / "sweep.json"
    first = invoke("sweep", a, "-n", 20, "--seed", 1, "-o", out, "--json", results, "-q")
    assert first.exit_code == 0, first.output
    assert recorded_origin(out) == {"kind": "sweep", "file": str(a.resolve()), "name": "aarhusai-vs-alternative"}
    assert json.loads(results.read_text())["scenario_file"] == str(a.resolve())
    before = sha256(out), sha256(results)
    res = invoke("sweep", b, "-n", 20, "--seed", 1, "-o", out, "--json", results, "-q")
    assert res.exit_code == 2 and f"{out} holds the output of another scenario file ({a.resolve()})" in res.output
    assert (sha256(out), sha256(results)) == before
    again = invoke("sweep", a, "-n", 20, "--seed", 2, "-o", out, "-q")  # the same file: replaced
    assert again.exit_code == 0, again.output
    forced = invoke("sweep", b, "-n", 20, "--seed", 1, "-o", out, "--json", results, "-q", "--force")
    assert forced.exit_code == 0, forced.output
    assert recorded_origin(out)["file"] == str(b.resolve())
