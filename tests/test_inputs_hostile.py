"""Hostile input: what build, sweep or compare would reject, validate reports at its Sheet!Cell; a deleted or
overwritten units row is an error, not a silently dropped data row; absurd numbers are refused at their cell or,
where only their products break, before anything is written; oversized sheets are refused from their size alone;
allowed ranges read in words."""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tcomodel.cli import main
from tcomodel.errors import InputError, UsageError
from tcomodel.finance import run_model
from tcomodel.inputs import load_scenario
from tcomodel.inputs.defaults import RANGES
from tcomodel.inputs.schema import MAX_ROWS_PER_SHEET, all_sheets
from tests.helpers import column_of, mutate, sha256

DEFAULT = Path(__file__).parents[1] / "assumptions" / "aarhusai-vs-alternative.xlsx"


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def set_cell(tmp_path, sheet, field, row, value, name="m.xlsx") -> Path:
    def edit(wb):
        ws = wb[sheet]
        ws[f"{column_of(ws, field)}{row}"] = value
    return mutate(DEFAULT, tmp_path / name, edit)


def problem_lines(result) -> list[str]:
    return [ln for ln in result.output.strip().splitlines() if not ln.endswith("problem(s) found:")]


# --- a request longer than the served model's context ------------------------------------------------


@pytest.fixture(scope="module")
def long_request(tmp_path_factory) -> Path:
    return set_cell(tmp_path_factory.mktemp("long"), "Workload", "input_tokens_per_request", 3, 150000)


def _assert_context_problem(result):
    assert result.exit_code == 2, result.output
    lines = problem_lines(result)
    # Mistral Small 3.2 (131,072 tokens) is served by option aarhusai (Options!E3); quarter 2027Q1 is row 3
    hit = [ln for ln in lines if ln.startswith("Workload!C3: quarter 2027Q1: a request of 150,000 input")]
    assert hit, result.output
    assert "131,072-token context of mistral-small-3.2-24b" in hit[0] and "option 'aarhusai'" in hit[0]
    assert "Options!E3" in hit[0]


def test_request_longer_than_context_validate_names_the_cell(long_request):
    before = sha256(long_request)
    _assert_context_problem(invoke("validate", long_request))
    assert sha256(long_request) == before


@pytest.mark.parametrize("command", ["build", "sweep", "compare"])
def test_request_longer_than_context_build_sweep_compare_agree(long_request, tmp_path, command):
    out = tmp_path / "out.xlsx"
    args = {"build": ["build", long_request, "-o", out],
            "sweep": ["sweep", long_request, "-n", "20", "--seed", "1", "-o", out],
            "compare": ["compare", DEFAULT, long_request, "-o", out]}[command]
    _assert_context_problem(invoke(*args))
    assert not out.exists()


# --- the units row ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sheet", ["Ranges", "Claims", "Hardware", "Models", "Rental"])
@pytest.mark.parametrize("how", ["deleted", "typed over"])
def test_units_row_deleted_or_typed_over(tmp_path, sheet, how):
    def edit(wb):
        ws = wb[sheet]
        if how == "deleted":
            ws.delete_rows(2)
        else:  # the first data row's values typed into the units row
            for c in range(1, ws.max_column + 1):
                ws.cell(2, c).value = ws.cell(3, c).value
    path = mutate(DEFAULT, tmp_path / "u.xlsx", edit)
    result = invoke("validate", path)
    assert result.exit_code == 2, result.output
    lines = problem_lines(result)
    assert lines[0].startswith(f"{sheet}!A2: expected the units row in row 2, but A2 holds "), result.output
    first = next(s for s in all_sheets() if s.name == sheet).fields[0]  # column A of the shipped sheet
    assert f"under {first.name}, expected '{first.unit_label}'" in lines[0], lines[0]
    assert not any("needs a row on sheet" in ln for ln in lines), result.output  # no misleading follow-on error
    build = invoke("build", path, "-o", tmp_path / "o.xlsx")
    assert build.exit_code == 2 and not (tmp_path / "o.xlsx").exists()


def test_units_row_blank_is_an_error_but_one_blank_unit_is_not(tmp_path):
    def clear_all(wb):
        for c in range(1, wb["Ranges"].max_column + 1):
            wb["Ranges"].cell(2, c).value = None
    result = invoke("validate", mutate(DEFAULT, tmp_path / "a.xlsx", clear_all))
    assert result.exit_code == 2 and "Ranges!A2: expected the units row in row 2, but the row is empty" in result.output

    def clear_one(wb):
        wb["Ranges"]["G2"] = None
    path = mutate(DEFAULT, tmp_path / "b.xlsx", clear_one)
    assert invoke("validate", path).exit_code == 0
    assert len(load_scenario(path).ranges) == len(load_scenario(DEFAULT).ranges) == len(RANGES)  # every row read


def test_units_row_compares_case_and_spacing_leniently(tmp_path):
    def edit(wb):
        wb["Rental"]["B2"] = "  Currency/Month "
    assert invoke("validate", mutate(DEFAULT, tmp_path / "c.xlsx", edit)).exit_code == 0


# --- absurd numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sheet,field,value,cell,limit", [
    ("Rental", "fee_per_replica_per_month", 1.797e308, "Rental!B3", "from 0 to 100,000,000,000 (both included)"),
    ("Workload", "requests", 1e308, "Workload!B3", "from 0 to 1e+15 (both included)"),
])
def test_absurd_numbers_refused_at_their_cell(tmp_path, sheet, field, value, cell, limit):
    path = set_cell(tmp_path, sheet, field, 3, value)
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert problem_lines(result) == [f"{cell}: {field} {value:g} is too large; expected a number {limit}"]
    out, js = tmp_path / "o.xlsx", tmp_path / "o.json"
    build = invoke("build", path, "-o", out, "--json", js)
    assert build.exit_code == 2 and problem_lines(build) == problem_lines(result)
    assert not out.exists() and not js.exists()


def test_every_numeric_field_has_finite_bounds():
    for spec in all_sheets():
        for f in spec.fields:
            if f.kind in ("number", "integer", "share"):
                assert f.min is not None and f.max is not None, (spec.name, f.name)
                assert -1e16 <= f.min <= f.max <= 1e16, (spec.name, f.name, f.min, f.max)
                assert "from " in f.allowed() or f.kind == "share"


def test_non_finite_result_is_refused_at_the_inputs_behind_it():
    """Bypassing the bounds (as a script calling the library could): a fee of 1e308 overflows the rental cost;
    run_model refuses before anything can be written, naming the option and the fee cell first."""
    sc = load_scenario(DEFAULT)
    rec = dataclasses.replace(sc.rental["aarhusai"], fee_per_replica_per_month=1e308)
    sc = dataclasses.replace(sc, rental={**sc.rental, "aarhusai": rec})
    with pytest.raises(InputError) as err:
        run_model(sc)
    (p,) = err.value.problems
    assert (p.sheet, p.cell) == ("Rental", "B3")
    # inf x 0 in a quarter with no fee units: the fee row itself is where the number broke
    assert p.message.startswith("option 'aarhusai' (Options!A3): 'Server fees' (DKK) comes out not a number (#N/A), "
                                "so no report is written. It is computed from Rental!B3 aarhusai: monthly fee per "
                                "server, ex VAT = 1e+308, "), p.message


def test_option_serving_no_tokens_prints_na_not_a_traceback(tmp_path):
    def edit(wb):
        ws = wb["Workload"]
        col = column_of(ws, "requests")
        for r in range(3, ws.max_row + 1):
            if ws[f"A{r}"].value:
                ws[f"{col}{r}"] = 0
    path = mutate(DEFAULT, tmp_path / "z.xlsx", edit)
    assert invoke("validate", path).exit_code == 0
    result = invoke("build", path, "-o", tmp_path / "z-out.xlsx")
    assert result.exit_code == 0, result.output
    assert re.search(r"api-deepseek\s+#N/A DKK/Mtok levelized", result.output), result.output


# --- bounded work --------------------------------------------------------------------------------------


def _with_claims_rows(n_rows: int, dst: Path, *, dimension: bool = True) -> Path:
    """The default workbook with ``n_rows`` claim rows appended to the Claims sheet's XML (as Excel writes them)."""
    from tcomodel.inputs.loader import _sheet_parts

    with zipfile.ZipFile(DEFAULT) as zin:
        member = dict(_sheet_parts(zin))["Claims"]
        xml = zin.read(member).decode()
        row = ('<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>c{r}</t></is></c><c r="B{r}" t="inlineStr"><is><t>'
               'a100-sxm-80gb</t></is></c><c r="G{r}"><v>42</v></c></row>')
        rows = "".join(row.format(r=r) for r in range(5, 5 + n_rows))
        xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:I{4 + n_rows}"/>' if dimension else "", xml)
        xml = xml.replace("</sheetData>", rows + "</sheetData>")
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                zout.writestr(info, xml if info.filename == member else zin.read(info.filename))
    return dst


@pytest.mark.parametrize("dimension", [True, False])
def test_million_row_sheet_refused_before_any_cell_is_read(tmp_path, monkeypatch, dimension):
    path = _with_claims_rows(1_000_000, tmp_path / "big.xlsx", dimension=dimension)

    def no_openpyxl(*a, **k):
        raise AssertionError("openpyxl was asked to load an oversized workbook")
    monkeypatch.setattr("openpyxl.load_workbook", no_openpyxl)
    with pytest.raises(InputError) as err:
        load_scenario(path)
    (p,) = err.value.problems
    assert p.sheet == "Claims" and p.cell is None
    assert f"at most {MAX_ROWS_PER_SHEET:,} rows are read" in p.message
    if dimension:  # the dimension tag gives the full size at once
        assert "reaches row 1,000,004" in p.message


def test_a_far_away_formatted_row_counts_too(tmp_path):
    def edit(wb):
        wb["Workload"].cell(row=1_000_000, column=1).value = " "
    path = mutate(DEFAULT, tmp_path / "far.xlsx", edit)
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert "Workload: the sheet reaches row 1,000,000; at most 5,000 rows are read" in result.output


def test_rows_within_the_limit_are_read(tmp_path):
    # 4 shipped claims (rows 3-4 on the sheet, header and units above) plus 100 appended rows: within the limit
    path = _with_claims_rows(100, tmp_path / "ok.xlsx")
    result = invoke("validate", path)
    assert result.exit_code == 2  # the appended rows lack a model_id: reported per row, so they were all read
    assert sum(ln.startswith("Claims!C") for ln in problem_lines(result)) == 100


# --- ranges in words ---------------------------------------------------------------------------------


def test_roofline_ranges_read_in_words():
    from tcomodel.roofline import estimate

    with pytest.raises(UsageError) as err:
        estimate("a100-sxm-80gb", "mistral-small-3.2-24b", "bf16", input_tokens=150000, output_tokens=10)
    assert str(err.value) == ("input_tokens=150000 is outside the allowed range: a whole number from 1 to 131,072 "
                              "(both included)")
    with pytest.raises(UsageError) as err:
        estimate("a100-sxm-80gb", "mistral-small-3.2-24b", "bf16", min_user_tok_s=0)
    assert str(err.value) == "min_user_tok_s=0 is outside the allowed range: a number above 0 (0 excluded) and at most 1,000,000"


def test_no_interval_notation_in_field_ranges():
    interval = re.compile(r"[\[(]-?[\d.e+]+, ?-?[\d.e+inf]+[\])]")
    for spec in all_sheets():
        for f in spec.fields:
            assert not interval.search(f.allowed()), (spec.name, f.name, f.allowed())
    shares = [f for spec in all_sheets() for f in spec.fields if f.kind == "share"]
    assert shares[0].allowed() == "a share between 0 and 1 (0.25 or 25%)"


def test_units_row_message_on_a_workbook_opened_without_units_row_in_memory():
    """The template row 2 of every table sheet is exactly what the loader expects (the check and the writer agree)."""
    wb = openpyxl.load_workbook(io.BytesIO(DEFAULT.read_bytes()))
    for spec in all_sheets():
        if spec.key_value or spec.name not in wb.sheetnames:
            continue
        ws = wb[spec.name]
        header = {ws.cell(1, c).value: c for c in range(1, ws.max_column + 1)}
        for f in spec.fields:
            if f.name in header:
                assert ws.cell(2, header[f.name]).value == f.unit_label, (spec.name, f.name)


def test_cleared_header_of_a_column_owned_options_need(tmp_path):
    """Found by the fuzz test: an optional column whose header was cleared reads as blank; the owned option
    that needs it is reported on its sheet (the column has no cell to name) instead of an IndexError."""
    def edit(wb):
        wb["Opex"]["B1"] = None  # power_kw_per_replica
    result = invoke("validate", mutate(DEFAULT, tmp_path / "h.xlsx", edit))
    assert result.exit_code == 2
    assert problem_lines(result) == ["Opex: power_kw_per_replica is required for owned option 'alternative-owned'"]


def test_too_many_cells_within_the_row_limit_is_refused(tmp_path, monkeypatch):
    """1,000 rows of 600 cells: within the row limit, but 600,000 cells are more than a workbook may hold."""
    from tcomodel.inputs.loader import _sheet_parts
    from tcomodel.inputs.schema import MAX_CELLS_PER_WORKBOOK

    dst = tmp_path / "wide.xlsx"
    with zipfile.ZipFile(DEFAULT) as zin:
        member = dict(_sheet_parts(zin))["Pairs"]
        xml = zin.read(member).decode()
        rows = "".join(f'<row r="{r}">' + "".join(f'<c r="{openpyxl.utils.get_column_letter(c)}{r}"><v>1</v></c>'
                                                   for c in range(4, 604)) + "</row>" for r in range(10, 1010))
        xml = xml.replace("</sheetData>", rows + "</sheetData>")
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                zout.writestr(info, xml if info.filename == member else zin.read(info.filename))
    monkeypatch.setattr("openpyxl.load_workbook", lambda *a, **k: pytest.fail("openpyxl loaded an oversized workbook"))
    with pytest.raises(InputError) as err:
        load_scenario(dst)
    (p,) = err.value.problems
    assert (p.sheet, p.cell) == ("Pairs", None)
    assert p.message == (f"the workbook holds more than {MAX_CELLS_PER_WORKBOOK:,} cells (reached on this sheet); "
                         "delete unused rows and columns")


def test_finite_screen_refuses_an_infinity_anywhere_and_nan_only_where_a_number_is_required():
    """check_finite screens all values at once and searches item by item only on a failure: an infinite row
    anywhere, or #N/A in a required result (tokens), is refused; #N/A where it is legitimate (cost per Mtok) passes."""
    from tcomodel.finance.finite import check_finite
    run = run_model(load_scenario(DEFAULT))
    check_finite(run)
    om = run.model.options["aarhusai"]

    def with_value(it, v):
        return dataclasses.replace(run, values={**run.values, it: v})

    na_cost = run.values[om.cost_per_mtok].copy()
    na_cost[3] = float("nan")
    check_finite(with_value(om.cost_per_mtok, na_cost))
    for it, v in ((om.cost_per_mtok, na_cost * float("inf")), (om.tokens_total, float("nan"))):
        with pytest.raises(InputError, match=f"'{re.escape(it.label)}' .* comes out"):
            check_finite(with_value(it, v))
