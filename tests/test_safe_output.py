"""Hostile input and safe output (issue 11, part A): verify checks formulas as well as values and
refuses workbooks tcomodel did not write; outputs get the usual file mode, refuse devices, FIFOs and
read-only targets, write through symlinks, and leave nothing behind on failure or Ctrl-C; progress
bars only on a terminal; small CLI usage errors; compare names added and removed rows.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from tcomodel.api import build
from tcomodel.cli import Progress, main
from tcomodel.errors import OutputError
from tcomodel.fileio import atomic_paths
from tcomodel.inputs import write_scenario_workbook
from tcomodel.verify import check_formulas, verify_report
from tcomodel.xlsxmanifest import MANIFEST_SHEET, formula_hash, normalize_formula, read_manifest
from tests.helpers import column_of, drop_option, find_row, mutate

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "assumptions" / "aarhusai-vs-alternative.xlsx"


@pytest.fixture(scope="module")
def default(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("safe") / "default.xlsx"
    write_scenario_workbook(p)
    return p


@pytest.fixture(scope="module")
def report(default, tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("safe-report") / "report.xlsx"
    build(default, xlsx_path=p)
    return p


@pytest.fixture
def umask022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _no_temp_files(folder: Path) -> bool:
    return not [p.name for p in folder.iterdir() if p.name.startswith(".")]


# --- verify: formulas, not only values --------------------------------------------------------------

def _sheet_xml(path: Path, sheet: str) -> str:
    """xlsxwriter names worksheet parts sheet1.xml, sheet2.xml, ... in workbook order."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return f"xl/worksheets/sheet{wb.sheetnames.index(sheet) + 1}.xml"
    finally:
        wb.close()


def _edit_cells(src: Path, dst: Path, sheet: str, edits: dict) -> None:
    """Rewrite cells in the sheet XML the way Excel saves an edit (cached values kept, unlike openpyxl):
    ``edits`` maps a cell to (new formula or None for a constant, new cached value)."""
    part = _sheet_xml(src, sheet)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == part:
                xml = data.decode("utf-8")
                for cell, (formula, value) in edits.items():
                    pat = re.compile(rf'<c r="{cell}"([^>]*)><f>[^<]*</f><v>[^<]*</v></c>')
                    assert len(pat.findall(xml)) == 1, cell
                    f = "" if formula is None else f"<f>{formula}</f>"
                    xml = pat.sub(lambda m: f'<c r="{cell}"{m.group(1)}>{f}<v>{value!r}</v></c>', xml)
                data = xml.encode("utf-8")
            zout.writestr(item, data)


def _cell(path: Path, sheet: str, cell: str, data_only: bool):
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    try:
        return wb[sheet][cell].value
    finally:
        wb.close()


def _cached(path: Path, sheet: str, cell: str):
    return _cell(path, sheet, cell, True)


def _formula(path: Path, sheet: str, cell: str):
    return _cell(path, sheet, cell, False)


def test_verify_finds_formulas_typed_over_or_edited_with_their_values(report, tmp_path, soffice_available):
    """Each edit keeps every value consistent, so LibreOffice's recalculation agrees everywhere; only the
    formula manifest can tell. Before issue 11 verify said '... formula cells agree', exit 0."""
    e11 = _formula(report, "aarhusai", "E11")
    row = re.fullmatch(r"=E10\*InputsByQuarter!E\$(\d+)\*Demand!\$C\$14", e11).group(1)  # a per-quarter input
    v = _cached(report, "aarhusai", "E11")
    # Cover!B14 shows the master check (a leaf: nothing refers to it); edit formula and value together
    assert _formula(report, "Cover", "B14") == "=Checks!$C$6" and _cached(report, "Cover", "B14") == 0
    tampered = tmp_path / "tampered.xlsx"
    _edit_cells(report, tampered, "aarhusai", {"E11": (None, v), "F11": (f"F10*InputsByQuarter!F${row}*Demand!$C$14*1", v)})
    tampered2 = tmp_path / "tampered2.xlsx"
    _edit_cells(tampered, tampered2, "Cover", {"B14": ("Checks!$C$6*0", 0)})

    res = verify_report(tampered2, cases=False)
    assert res.mismatches == []  # the value check alone is blind to all three
    assert not res.ok
    assert sorted((c.sheet, c.cell, c.reason) for c in res.formula_changes) == [
        ("Cover", "B14", "formula changed"),
        ("aarhusai", "E11", "formula replaced by a constant"),
        ("aarhusai", "F11", "formula changed")]
    assert res.recorded_formulas == res.formula_cells + 1  # one formula fewer in the file than recorded

    out = _cli("verify", "--no-cases", tampered2)
    assert out.exit_code == 1
    assert f"aarhusai!E11: formula replaced by a constant: {v!r}" in out.output
    assert "Cover!B14: formula changed: '=Checks!$C$6*0'" in out.output
    assert "3 formula problem(s)" in out.output


def test_untouched_report_verifies_with_every_formula_recorded(report, soffice_available):
    res = verify_report(report, cases=False)
    assert res.ok and res.kind == "build"
    assert res.recorded_formulas == res.formula_cells > 5000
    out = _cli("verify", "--no-cases", report)
    assert out.exit_code == 0
    assert f"all {res.formula_cells} formulas as tcomodel build wrote them" in out.output


def test_check_formulas_names_missing_sheets_deleted_and_foreign_formulas():
    h = formula_hash
    recorded = {("A", "B2"): h("=1+1"), ("A", "B3"): h("=B2*2"), ("Gone", "C5"): h("=A!B2"), ("Gone", "C6"): h("=1")}
    now = {("A", "B2"): "=1 + 1", ("X", "D4"): "=SUM(A!B2:B3)"}
    got = check_formulas(recorded, now, cached={}, sheets=["A", "X"])
    assert [str(c) for c in got] == [
        "Gone: sheet missing",
        "A!B3: formula deleted (cell empty)",
        "X!D4: formula not written by tcomodel: '=SUM(A!B2:B3)'"]


def test_formula_normalisation_ignores_spacing_case_and_number_spelling_only():
    assert normalize_formula("=sum( a1:a3 )*1E6") == normalize_formula("SUM(A1:A3)*1000000")
    assert formula_hash("=A1*2") != formula_hash("=A1*3")
    assert formula_hash('=IF(A1>0,"a b",0)') != formula_hash('=IF(A1>0,"A B",0)')  # text is case-sensitive


def test_edited_manifest_is_reported(report, tmp_path):
    import openpyxl

    wb = openpyxl.load_workbook(report, read_only=True)
    try:
        manifest_part = f"xl/worksheets/sheet{wb.sheetnames.index(MANIFEST_SHEET) + 1}.xml"
    finally:
        wb.close()
    dst = tmp_path / "m.xlsx"
    with zipfile.ZipFile(report) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == manifest_part:  # drop the last manifest row
                xml = data.decode()
                last = xml.rindex("<row ")
                xml = xml[:last] + xml[xml.index("</row>", last) + len("</row>"):]
                data = xml.encode()
            zout.writestr(item, data)
    _, _, intact = read_manifest(dst)
    assert intact is False
    _, recorded, intact = read_manifest(report)
    assert intact is True and len(recorded) > 5000


def test_verify_on_a_scenario_workbook_exits_2_not_a_report():
    out = _cli("verify", SCENARIO)
    assert out.exit_code == 2
    assert "not a tcomodel report" in out.output and "Traceback" not in out.output


def test_sweep_and_compare_workbooks_verify_too(default, tmp_path, soffice_available):
    sw = tmp_path / "sweep.xlsx"
    assert _cli("sweep", default, "-n", 50, "--seed", 1, "-o", sw).exit_code == 0
    def usd(wb):
        ws = wb["FX"]
        ws[f"{column_of(ws, 'rate_to_report_currency')}{find_row(ws, 'A', 'USD')}"] = 7.0

    new = mutate(default, tmp_path / "new.xlsx", usd)
    cmp = tmp_path / "cmp.xlsx"
    assert _cli("compare", default, new, "-o", cmp).exit_code == 0
    counts = {}
    for path, kind in ((sw, "sweep"), (cmp, "compare")):
        res = verify_report(path, cases=False)
        assert res.ok and res.kind == kind, (path, res.summary(), res.formula_changes[:3], res.mismatches[:3])
        assert res.recorded_formulas == res.formula_cells
        counts[kind] = res.formula_cells
    assert counts["sweep"] == 0  # a sweep holds values only (=NA() where a metric is undefined)
    assert counts["compare"] > 0  # change columns and bridge totals are formulas


# --- safe output ------------------------------------------------------------------------------------

def test_outputs_get_the_umask_mode_not_0600(default, tmp_path, umask022):
    x, j = tmp_path / "r.xlsx", tmp_path / "r.json"
    assert _cli("build", default, "-o", x, "--json", j).exit_code == 0
    assert stat.S_IMODE(x.stat().st_mode) == 0o644 and stat.S_IMODE(j.stat().st_mode) == 0o644
    os.umask(0o027)
    assert _cli("build", default, "-o", x, "--json", j).exit_code == 0
    assert stat.S_IMODE(x.stat().st_mode) == 0o640 and stat.S_IMODE(j.stat().st_mode) == 0o640
    assert _no_temp_files(tmp_path)


def test_read_only_target_is_refused_unless_force(default, tmp_path, umask022):
    x, j = tmp_path / "r.xlsx", tmp_path / "r.json"
    x.write_bytes(b"old report")
    x.chmod(0o444)
    out = _cli("build", default, "-o", x, "--json", j)
    assert out.exit_code == 2 and f"{x} is read-only; pass --force" in out.output
    assert x.read_bytes() == b"old report" and not j.exists()  # checked before anything was written
    out = _cli("build", default, "-o", x, "--json", j, "--force")
    assert out.exit_code == 0, out.output
    assert zipfile.is_zipfile(x) and stat.S_IMODE(x.stat().st_mode) == 0o644
    j.write_text("{}")
    j.chmod(0o400)
    assert _cli("sweep", default, "-n", 10, "--seed", 1, "-o", tmp_path / "s.xlsx", "--json", j).exit_code == 2
    assert j.read_text() == "{}" and not (tmp_path / "s.xlsx").exists()


def test_device_fifo_and_folder_targets_are_refused(default, tmp_path):
    out = _cli("build", default, "-o", os.devnull)
    assert out.exit_code == 2 and "not a regular file" in out.output
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    for args in (["build", default, "--no-xlsx", "--json", fifo],
                 ["sweep", default, "-n", 10, "-o", tmp_path / "s.xlsx", "--json", fifo],
                 ["compare", default, default, "-o", tmp_path / "c.xlsx", "--json", fifo]):
        out = _cli(*args)
        assert out.exit_code == 2 and "not a regular file" in out.output, (args, out.output)
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with pytest.raises(OutputError, match="is a folder"):
        with atomic_paths([tmp_path]):
            pass
    assert _no_temp_files(tmp_path)


def test_symlink_is_written_through_and_stays_a_link(default, tmp_path, umask022):
    real = tmp_path / "dated.xlsx"
    real.write_bytes(b"old")
    link = tmp_path / "latest.xlsx"
    link.symlink_to(real.name)
    assert _cli("build", default, "-o", link).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == real.name
    assert read_manifest(real)[0] == "build"
    to_input = tmp_path / "oops.xlsx"
    to_input.symlink_to(default)
    out = _cli("build", default, "-o", to_input)
    assert out.exit_code == 2 and "refusing to write the report over the input file" in out.output
    dangling = tmp_path / "dangling.xlsx"
    dangling.symlink_to(tmp_path / "no-such-folder" / "x.xlsx")
    out = _cli("build", default, "-o", dangling)
    assert out.exit_code == 2 and "the link's folder does not exist" in out.output
    assert not (tmp_path / "no-such-folder").exists()


def test_a_failure_inside_the_write_leaves_neither_output_nor_temp_files(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.xlsx"
    b.write_text("previous")
    with pytest.raises(RuntimeError):
        with atomic_paths([a, b]) as (ta, tb):
            ta.write_text("{}")
            tb.write_text("new")
            raise RuntimeError("disk full")
    assert not a.exists() and b.read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.xlsx"]
    with pytest.raises(OutputError, match="same file"):
        with atomic_paths([a, tmp_path / "." / "a.json"]):
            pass


def _large_scenario(path: Path, quarters: int) -> Path:
    """The default scenario over more quarters (later quarters repeat the last Workload row):
    a build whose report takes seconds to write."""
    import copy

    from tcomodel.inputs import default_content
    from tcomodel.inputs.cells import Quarter

    c = copy.deepcopy(default_content())
    c["Scenario"] = [(k, quarters if k == "horizon_quarters" else v, *rest) for k, v, *rest in c["Scenario"]]
    first = Quarter.parse(c["Workload"][0]["quarter"])
    rows = c["Workload"][:quarters]
    while len(rows) < quarters:
        rows.append(dict(rows[-1], quarter=str(first + len(rows))))
    c["Workload"] = rows
    write_scenario_workbook(path, c)
    return path


def test_sigint_during_build_exits_130_and_leaves_nothing(tmp_path):
    """A real SIGINT to a real `tcomodel build --json`, sent once its temporary output files exist
    (the model is evaluated and the report is being written, which takes seconds at 100 quarters)."""
    scenario = _large_scenario(tmp_path / "big.xlsx", 100)
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tcomodel", "build", str(scenario), "-o", str(out / "r.xlsx"), "--json",
         str(out / "r.json")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # a test runner started in the background may inherit SIGINT ignored; Ctrl-C means default here
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while not any(p.name.startswith(".r-") for p in out.iterdir()):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "build never started writing"
            time.sleep(0.005)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (stdout, stderr)
    assert "interrupted: no output written" in stderr and "Traceback" not in stderr
    assert list(out.iterdir()) == []  # neither r.json, r.xlsx nor a temporary file


def test_sweep_on_a_terminal_shows_progress_and_sigint_exits_130_leaving_nothing(default, tmp_path):
    """`tcomodel sweep` on a real pseudo-terminal: the progress bar appears once sampling has run a
    second; a real SIGINT sent when it shows stops the run with 130 and no output files."""
    import pty
    import select

    out = tmp_path / "out"
    out.mkdir()
    master, slave = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tcomodel", "sweep", str(default), "-n", "500000", "--seed", "1",
         "-o", str(out / "s.xlsx"), "--json", str(out / "s.json")],
        env=env, stdin=slave, stdout=slave, stderr=slave, close_fds=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 120
        while b"sampling" not in seen:
            assert proc.poll() is None, seen
            assert time.monotonic() < deadline, seen
            if select.select([master], [], [], 0.05)[0]:
                seen += os.read(master, 4096)
        proc.send_signal(signal.SIGINT)
        while proc.poll() is None and time.monotonic() < deadline:  # keep draining the terminal
            if select.select([master], [], [], 0.05)[0]:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert proc.returncode == 130, seen
    assert b"%" in seen and b"interrupted: no output written" in seen
    assert list(out.iterdir()) == []


# --- progress ---------------------------------------------------------------------------------------

class _FakeTerminal:
    def __init__(self):
        self.text = ""

    def isatty(self):
        return True

    def write(self, s):
        self.text += s

    def flush(self):
        pass


def test_progress_bar_only_on_a_terminal_after_a_delay_and_not_when_quiet():
    term = _FakeTerminal()
    with Progress("sampling", after_s=1.0, file=term) as p:
        p(10, 100, 0.5)  # quick so far: no bar
        assert term.text == ""
        p(50, 100, 1.5)
        p(100, 100, 3.0)
    assert "sampling" in term.text and "100%" in term.text
    quiet = _FakeTerminal()
    with Progress("sampling", quiet=True, file=quiet) as p:
        p(50, 100, 5.0)
    assert quiet.text == ""
    with Progress("sampling") as p:  # CliRunner / pytest stderr is not a terminal
        assert p.enabled is False


def test_core_reports_progress_to_a_callback(default, tmp_path):
    calls = []
    build(default, xlsx_path=tmp_path / "r.xlsx", progress=lambda done, total, elapsed: calls.append((done, total)))
    assert calls[-1] == (100, 100) and [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len(calls) > 10  # the report's sheets tick it along


def test_sweep_and_build_print_no_bar_when_not_on_a_terminal(default, tmp_path):
    out = _cli("sweep", default, "-n", 20000, "--seed", 3, "-o", tmp_path / "s.xlsx")
    # no bar: no label, no percentage before the results (whose first line, the settings, holds rates)
    assert out.exit_code == 0 and "sampling" not in out.output and "%" not in out.output.split("\n  discount rate")[0]
    assert "\r" not in out.output and "[#" not in out.output
    out = _cli("build", default, "-o", tmp_path / "b.xlsx", "--quiet")
    assert out.exit_code == 0 and "building" not in out.output


# --- small ones -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["-1", "nan", "-1e-12"])
def test_negative_or_nan_rel_tol_is_a_usage_error(report, value):
    out = _cli("verify", "--no-cases", f"--rel-tol={value}", report)
    assert out.exit_code == 2 and "--rel-tol" in out.output


def test_no_xlsx_needs_json_and_contradicts_output(default, tmp_path):
    out = _cli("build", default, "--no-xlsx")
    assert out.exit_code == 2 and "--no-xlsx writes nothing without --json" in out.output
    out = _cli("build", default, "--no-xlsx", "--json", tmp_path / "r.json", "-o", tmp_path / "r.xlsx")
    assert out.exit_code == 2 and not (tmp_path / "r.json").exists()
    out = _cli("build", default, "--no-xlsx", "--json", tmp_path / "r.json")
    assert out.exit_code == 0 and json.loads((tmp_path / "r.json").read_text())["currency"] == "DKK"
    assert not (tmp_path / "r.xlsx").exists()


def test_compare_says_row_removed_and_row_added(default, tmp_path):
    def drop(wb):
        drop_option(wb, "api-deepseek")

    fewer = mutate(default, tmp_path / "fewer.xlsx", drop)
    out = _cli("compare", default, fewer, "-o", tmp_path / "c1.xlsx")
    assert out.exit_code == 0, out.output
    lines = [ln for ln in out.output.splitlines() if "api-deepseek: row on sheet" in ln]
    assert len(lines) == 2 and all(ln.endswith(": row removed") for ln in lines)
    assert "None" not in out.output.split("input cell(s) differ", 1)[1].split("Levelized", 1)[0]
    out = _cli("compare", fewer, default, "-o", tmp_path / "c2.xlsx")
    lines = [ln for ln in out.output.splitlines() if "api-deepseek: row on sheet" in ln]
    assert len(lines) == 2 and all(ln.endswith(": row added") for ln in lines)


def test_manifest_runs_split_at_gaps_and_at_their_length_limit(tmp_path):
    """Runs of adjacent formula cells: a gap starts a new run, so does a run's 2,000th cell; every cell reads back
    with its own hash, and a hash the writer gave (FastWorksheet.formula_hashes) is the one recorded."""
    import openpyxl
    import xlsxwriter

    from tcomodel.xlsxfast import FastWorksheet
    from tcomodel.xlsxmanifest import MAX_RUN_CELLS, record_formulas

    path = tmp_path / "runs.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Calc", worksheet_class=FastWorksheet)
    want = {}
    for c in (0, 1, 2, 4, 5):
        ws.write_formula(0, c, f"=1+{c}", None, 1 + c)
        want[("Calc", f"{'ABCDEF'[c]}1")] = formula_hash(f"=1+{c}")
    ws.write_string(0, 3, "not a formula")
    for c in range(MAX_RUN_CELLS + 1):
        ws.write_formula(1, c, f"=A1*{c}", None, 0)
        want[("Calc", f"{xlsxwriter.utility.xl_col_to_name(c)}2")] = formula_hash(f"=A1*{c}")
    ws.formula_hashes["A1*7"] = "0badc0de"  # what a row template would have given: recorded as given
    want[("Calc", "H2")] = "0badc0de"
    assert record_formulas(wb, "build") == len(want) == 5 + MAX_RUN_CELLS + 1
    wb.close()
    kind, recorded, intact = read_manifest(path)
    assert kind == "build" and intact and recorded == want
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = [r[:3] for r in book[MANIFEST_SHEET].iter_rows(min_row=2, values_only=True)]
    finally:
        book.close()
    assert rows == [("Calc", "A1", "C1"), ("Calc", "E1", "F1"), ("Calc", "A2", "BXX2"), ("Calc", "BXY2", "BXY2")]
