"""Properties on hostile workbooks.

1. Corrupting any cell of the default workbook (text, huge, negative, NaN-like text, dates, formulas, Excel
   errors, blanks) gives exit 0 or exit 2 with Sheet!Cell messages, never a traceback; the input file is
   byte-identical afterwards; and a build that exits 2 leaves no output behind (no partial report or JSON).
2. validate and build agree: for random in-bounds and boundary values of the numeric fields, validate exits 0
   exactly when build does (what build rejects, validate reports).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from pathlib import Path

import openpyxl
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tcomodel.cli import main
from tcomodel.inputs.schema import all_sheets
from tests.helpers import sha256

DEFAULT = Path(__file__).parents[1] / "assumptions" / "aarhusai-vs-alternative.xlsx"
SPECS = {s.name: s for s in all_sheets()}
# Each message line: "Sheet!A1: ...", "Sheet: ..." (a whole sheet), or a file-level line.
MESSAGE = re.compile(r"^([A-Za-z]+(![A-Z]{1,3}\d+(:[A-Z]{1,3}\d+)?)?: .+|.+ problem\(s\) found:)$")

corruptions = st.one_of(
    st.none(),
    # printable text only: openpyxl itself refuses control characters, which Excel cannot store either
    st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=12),
    st.sampled_from(["#REF!", "#DIV/0!", "#N/A", "#VALUE!", "=1/0", "=A1+", "=SUM(B3:B9)", "25%", "-1", "2027Q9",
                     "TRUE", "NaN", "nan", "inf", "-Infinity", "1e999", "1e308", "-1e308", " ", "1,5", "0x10"]),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
    st.sampled_from([1.797e308, -1.797e308, 1e300, 5e-324, 0.0, -0.0, 2**53, 1e15, 1e16]),
    st.integers(min_value=-10**6, max_value=10**6),
    st.booleans(),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)),
)


DEFAULT_BYTES = DEFAULT.read_bytes()


def _run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 2), result.output
    return result


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_corrupting_cells_never_crashes(tmp_path_factory, data):
    wb = openpyxl.load_workbook(io.BytesIO(DEFAULT_BYTES))
    sheets = [n for n in wb.sheetnames if n != "Guide"]
    for _ in range(data.draw(st.integers(1, 3), label="cells")):
        ws = wb[data.draw(st.sampled_from(sheets), label="sheet")]
        cell = ws.cell(row=data.draw(st.integers(1, max(ws.max_row + 1, 3)), label="row"),
                       column=data.draw(st.integers(1, ws.max_column + 1), label="col"))
        cell.value = data.draw(corruptions, label="value")
    tmp = tmp_path_factory.mktemp("fuzz")
    path = tmp / "fuzz.xlsx"
    wb.save(path)
    before = sha256(path)

    result = _run("validate", path)
    if result.exit_code == 2:
        lines = result.output.strip().splitlines()
        assert lines and all(MESSAGE.match(ln) for ln in lines), result.output
    out, js = tmp / "out.xlsx", tmp / "out.json"
    build = _run("build", path, "-o", out, "--json", js)
    # validate also checks what only the sweep reads (the Correlations sheet): a problem there alone stops
    # validate and the sweep, not build
    problems = [ln for ln in result.output.splitlines() if "!" in ln.split(":")[0]]
    sweep_only = bool(problems) and all(ln.startswith("Correlations!") for ln in problems)
    assert build.exit_code == (0 if sweep_only else result.exit_code), (result.output, build.output)
    assert out.exists() == js.exists() == (build.exit_code == 0)  # no partial output
    assert sha256(path) == before
    assert sorted(p.name for p in tmp.iterdir()) == sorted(["fuzz.xlsx"] + (["out.json", "out.xlsx"]
                                                                            if build.exit_code == 0 else []))


def _numeric_cells() -> list[tuple[str, str, int, int, object]]:
    """(sheet, field, row, column, Field) of every numeric data cell of the default workbook."""
    wb = openpyxl.load_workbook(DEFAULT)
    cells = []
    for name, spec in SPECS.items():
        if spec.key_value or name not in wb.sheetnames:
            continue
        ws = wb[name]
        header = {ws.cell(1, c).value: c for c in range(1, ws.max_column + 1)}
        for f in spec.fields:
            if f.kind not in ("number", "integer", "share") or f.name not in header:
                continue
            for row in range(3, ws.max_row + 1):
                if ws.cell(row, 1).value is not None:
                    cells.append((name, f.name, row, header[f.name], f))
    return cells


NUMERIC_CELLS = _numeric_cells()


@st.composite
def in_bounds(draw, f):
    """A value the field's own check accepts: a bound, or log-uniform in between (linear for shares, signed)."""
    lo, hi = f.min, f.max
    if draw(st.booleans()):
        v = draw(st.sampled_from([lo, hi]))
    elif lo >= 0 and hi > 100 * max(lo, 1e-9):
        v = math.exp(draw(st.floats(math.log(max(lo, 1e-9)), math.log(hi))))
    else:
        v = draw(st.floats(lo, hi))
    v = min(max(v, lo), hi)
    return int(round(v)) if f.kind == "integer" else v


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_validate_exit_0_iff_build_exit_0(tmp_path_factory, data):
    wb = openpyxl.load_workbook(io.BytesIO(DEFAULT_BYTES))
    for _ in range(data.draw(st.integers(1, 3), label="cells")):
        sheet, field, row, col, f = data.draw(st.sampled_from(NUMERIC_CELLS), label="cell")
        wb[sheet].cell(row=row, column=col).value = data.draw(in_bounds(f), label=f"{sheet}.{field}")
    tmp = tmp_path_factory.mktemp("prop")
    path = tmp / "p.xlsx"
    wb.save(path)
    valid = _run("validate", path)
    build = _run("build", path, "-o", tmp / "o.xlsx")
    assert valid.exit_code == build.exit_code, (valid.output, build.output)
    if build.exit_code == 2:
        assert not (tmp / "o.xlsx").exists()
