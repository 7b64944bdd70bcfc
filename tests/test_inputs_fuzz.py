"""Property: corrupting any input cell of the template gives exit 0 or exit 2 with Sheet!Cell messages,
never a traceback, and the input file is byte-identical afterwards."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tcomodel.cli import main
from tests.helpers import sha256

TEMPLATE = Path(__file__).parents[1] / "templates" / "scenario-template.xlsx"
SHEETS = ["Scenario", "FX", "Options", "Capex", "Opex", "Rental", "CloudRates", "ApiPrices", "Workload", "Claims",
          "Ranges", "Hardware", "Models"]
# Each message line: "Sheet!A1: ...", "Sheet: ..." (a whole sheet), or a file-level line.
MESSAGE = re.compile(r"^([A-Za-z]+(![A-Z]{1,3}\d+)?: .+|.+ problem\(s\) found:)$")

corruptions = st.one_of(
    st.none(),
    # printable text only: openpyxl itself refuses control characters, which Excel cannot store either
    st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=12),
    st.sampled_from(["#REF!", "#DIV/0!", "#N/A", "#VALUE!", "=1/0", "=A1+", "25%", "-1", "2027Q9", "TRUE"]),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
    st.integers(min_value=-10**6, max_value=10**6),
    st.booleans(),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 1, 1)),
)


@pytest.fixture(scope="module")
def template_bytes():
    return TEMPLATE.read_bytes()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sheet=st.sampled_from(SHEETS),
    row=st.integers(min_value=1, max_value=25),
    col=st.integers(min_value=1, max_value=18),
    value=corruptions,
    data=st.data(),
)
def test_corrupting_a_cell_never_crashes(tmp_path, template_bytes, sheet, row, col, value, data):
    wb = openpyxl.load_workbook(io.BytesIO(template_bytes))
    ws = wb[sheet]
    ws.cell(row=row, column=col).value = value
    if data.draw(st.booleans(), label="also corrupt a second cell"):
        other = wb[data.draw(st.sampled_from(SHEETS), label="second sheet")]
        other.cell(row=data.draw(st.integers(1, 25)), column=data.draw(st.integers(1, 18))).value = \
            data.draw(corruptions, label="second value")
    path = tmp_path / f"fuzz-{sheet}-{row}-{col}.xlsx"
    wb.save(path)
    before = sha256(path)

    result = CliRunner().invoke(main, ["validate", str(path)])

    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        lines = result.output.strip().splitlines()
        assert lines and all(MESSAGE.match(ln) for ln in lines), result.output
    assert sha256(path) == before
