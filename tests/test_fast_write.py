"""Fast report writing (issue 14 item 4): each shortcut gives exactly what the slow path gives.

FastWorksheet against xlsxwriter's own _prepare_formula, the manifest's fast normaliser against openpyxl's
tokenizer, render_periods against a render per period, the manifest hashes worked out from a row's template
against each formula's own, the combined tornado-and-grid evaluation against
the two separate ones, and a whole report written with every shortcut against one written without any.
"""

from __future__ import annotations

import datetime as dt
import inspect
import hashlib
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from xlsxwriter.sharedstrings import SharedStrings, SharedStringTable
from xlsxwriter.worksheet import Worksheet

import tcomodel.report.report_context as report_context
import tcomodel.report.workbook as report_workbook
import tcomodel.sheet.writer as sheet_writer
import tcomodel.xlsxmanifest as xlsxmanifest
from tcomodel.finance import run_model
from tcomodel.finance.sensitivity import price_volume_grid, tornado, tornado_and_grid
from tcomodel.inputs import load_scenario
from tcomodel.report import write_report
from tcomodel.sheet import Layout, SheetError, inp, item, prev, render, row_input, timeline
from tcomodel.sheet.render import fill_periods, render_periods, render_periods_template
from tcomodel.xlsxfast import DYNAMIC_FUNCTIONS, FAST_METHODS, FastSharedStrings, FastWorksheet
from tcomodel.xlsxmanifest import (
    _fast_normalize, formula_hash, normalize_formula, normalize_formula_openpyxl, template_hashes,
)

DEFAULT = Path(__file__).parents[1] / "assumptions" / "aarhusai-vs-alternative.xlsx"
BUILD_DATE = dt.date(2026, 1, 1)


@pytest.fixture(scope="module")
def run():
    return run_model(load_scenario(DEFAULT), build_date=BUILD_DATE)


# --- FastWorksheet ---------------------------------------------------------------------------------

def test_guard_covers_every_function_xlsxwriter_prefixes():
    """Every pattern xlsxwriter substitutes before its use_future_functions test names a guarded function."""
    src = inspect.getsource(Worksheet._prepare_formula)
    dynamic_part = src[:src.index("use_future_functions")]
    names = re.findall(r'r"\\[bS]([A-Za-z0-9_.]+)\\\(', dynamic_part)
    assert len(names) >= 29  # xlsxwriter 3.x lists 29
    assert set(names) <= set(DYNAMIC_FUNCTIONS)


def test_guard_covers_every_dynamic_function_xlsxwriter_looks_for():
    """_write_formula skips xlsxwriter's dynamic-array search where the guard does not match: each name it
    searches for is guarded."""
    from xlsxwriter.worksheet import re_dynamic_function

    names = re.findall(r"\\b([A-Z0-9_.]+)\\\(", re_dynamic_function.pattern)
    assert len(names) >= 29
    assert all(any(g in n for g in DYNAMIC_FUNCTIONS) for n in names)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(
    st.sampled_from(["FILTER(", "SUM(", "XLOOKUP(", "_xlfn.SUM(", "SINGLE(", "IF("]),
    st.sampled_from(list("A1$:!,()+-*/ \"'{}=")), st.sampled_from(["F12", "Inputs!$C$3", "1E6"])),
    max_size=10).map("".join), st.sampled_from([None, 0.5, "", "#N/A", "text", True]), st.booleans())
def test_fast_write_formula_stores_what_xlsxwriter_stores(formula, value, future):
    fast, slow = FastWorksheet(), Worksheet()
    fast.use_future_functions = slow.use_future_functions = future
    assert fast._write_formula(3, 2, formula, None, value) == slow._write_formula(3, 2, formula, None, value)
    assert dict(fast.table) == dict(slow.table)
    assert (fast.dim_rowmin, fast.dim_colmax) == (slow.dim_rowmin, slow.dim_colmax)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(alphabet="ab&<>\"'\n x1", max_size=12), st.integers(0, 500), st.floats(allow_nan=False)))
def test_fast_escapes_equal_xlsxwriter(value):
    fast, slow = FastWorksheet(), Worksheet()
    assert fast._escape_attributes(value) == slow._escape_attributes(value)
    assert fast._escape_data(value) == slow._escape_data(value)


def _sst_xml(cls, strings) -> str:
    table = SharedStringTable()
    for text in strings:
        table._get_shared_string_index(text)
    table._sort_string_data()
    sst = cls()
    sst.string_table = table
    fh = io.StringIO()
    sst._set_xml_writer(fh)
    sst._assemble_xml_file()
    return fh.getvalue()


# what xlsxwriter escapes or marks: Excel escapes, control characters, XML's specials, whitespace at either end
# (ASCII and Unicode), rich text; and plain text around them
_SST_PIECES = ["a", "Capex", "x", " ", "\t", "\n", "\r", "\x00", "\x07", "\x0b", "\x1f", "\x7f", "\u00a0", "\u2028",
               "\x85", "&", "<", ">", '"', "'", "_x0041_", "_x00AF_", "_x1f2e_", "_x00g1_", "_X0041_", "_x", "<r>", "</r>", "é", "€", "DKK/Mtok"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_SST_PIECES), max_size=6).map("".join), min_size=1, max_size=12))
def test_fast_shared_strings_write_xlsxwriters_xml(strings):
    assert _sst_xml(FastSharedStrings, strings) == _sst_xml(SharedStrings, strings)


def test_fast_shared_strings_hand_cases():
    strings = ["plain", " lead", "trail ", "tab\t", "a\nb", "end\n", "x\x01y", "_x0041_", "a&b", "<r>rich</r>", "",
               "\u00a0nbsp", "q\"uote"]
    xml = _sst_xml(FastSharedStrings, strings)
    assert xml == _sst_xml(SharedStrings, strings)
    assert "<si><t>plain</t></si>" in xml and '<si><t xml:space="preserve"> lead</t></si>' in xml
    assert "<si><t>x_x0001_y</t></si>" in xml and "<si><t>_x005F_x0041_</t></si>" in xml
    assert "<si><t>a&amp;b</t></si>" in xml and "<si><r>rich</r></si>" in xml


def _cells_workbook(path, worksheet_class, variant=None):
    """Every kind of cell, with and without a format, through xlsxwriter's documented worksheet_class hook;
    ``variant``: a changed default row height, or Excel 2010's style (each changes every row's tag)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("s", worksheet_class=worksheet_class)
    if variant == "default_row":
        ws.set_default_row(24)
    elif variant == "excel_2010":
        ws.conditional_format("A1:A5", {"type": "data_bar", "data_bar_2010": True})
    fmt, bold = wb.add_format({"num_format": "0.00"}), wb.add_format({"bold": True})
    ws.set_row(7, None, bold)  # a row format, used by cells without their own
    ws.set_column(5, 5, None, bold)
    values = [0.1, 2, -3.5e-12, 1e300, "#N/A", "", "text", True, False]
    for r, v in enumerate(values):
        for c, f in enumerate((fmt, None)):
            ws.write_formula(r, c, "=A1+1&\"<b>\"", f, v)
            ws.write_number(r, c + 2, r / 3 - 0.25, f)  # 16 significant digits
            ws.write_string(r, c + 4, f"label {r} & <{c}>", f)
            ws.write_formula(r + 10, c + 5, "=SUM(B1:B2)", f, v)
        ws.write_string(r, 8, f"plain {r}")  # no format of its own, of its column, or (but row 8) of its row
    ws.write_blank(12, 0, None, fmt)
    ws.write_boolean(13, 0, True, fmt)
    ws.write_rich_string(14, 0, bold, "rich", " text", fmt)
    ws.write_array_formula(15, 0, 15, 1, "{=A1:B1*2}", fmt, 3.0)
    ws.set_row(40, 30, bold)  # a row with a format and no cells
    ws.write_comment(41, 2, "a comment in an empty row")
    ws.write_comment(2, 3, "a comment by a cell")
    wb.close()
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml")


def test_fast_write_cell_writes_xlsxwriters_xml(tmp_path):
    fast = _cells_workbook(tmp_path / "fast.xlsx", FastWorksheet)
    slow = _cells_workbook(tmp_path / "slow.xlsx", Worksheet)
    assert fast == slow
    assert b'<row r="9" spans="1:9">' in fast  # a bare row's tag
    assert fast.count(b"<f>") >= 30 and b"&amp;" in fast  # formulas written, escaping exercised
    assert b'<c r="I1" t="s">' in fast and b'<c r="I8" s="' in fast  # a bare string; one taking its row's format
    assert b'<row r="41"' in fast and b'<row r="42"' in fast  # the empty rows with a format, with a comment


@pytest.mark.parametrize("variant, mark", [("default_row", b' ht="24" customHeight="1"'),
                                           ("excel_2010", b' x14ac:dyDescent="0.25"')])
def test_fast_row_tags_follow_xlsxwriter_where_every_row_changes(tmp_path, variant, mark):
    fast = _cells_workbook(tmp_path / "fast.xlsx", FastWorksheet, variant)
    assert fast == _cells_workbook(tmp_path / "slow.xlsx", Worksheet, variant)
    assert b'<row r="9" spans="1:9"' + mark in fast


def test_fast_worksheet_hand_cases():
    fast = FastWorksheet()
    assert fast._prepare_formula("=SUM(F12:G12)*Inputs!$C$3") == "SUM(F12:G12)*Inputs!$C$3"
    assert fast._prepare_formula("=FILTER(A1:A3,B1:B3)") == "_xlfn._xlws.FILTER(A1:A3,B1:B3)"
    assert fast._prepare_formula("=XLOOKUP(1,A:A,B:B)") == "_xlfn.XLOOKUP(1,A:A,B:B)"
    assert fast._prepare_formula("{=A1:A2*2}") == "A1:A2*2"
    # a future (not dynamic) function is only prefixed when the option asks for it, in both classes
    assert fast._prepare_formula("=STDEV.S(A1:A3)") == "STDEV.S(A1:A3)"
    assert fast._prepare_formula("=STDEV.S(A1:A3)", True) == "_xlfn.STDEV.S(A1:A3)"


_FUNCS = list(DYNAMIC_FUNCTIONS) + ["SINGLE", "SUM", "IF", "NPV", "STDEV.S", "CONCAT", "_xlfn.SUM", "XSINGLE", "ASORT"]
_formula_text = st.lists(st.one_of(st.sampled_from([f + "(" for f in _FUNCS]), st.sampled_from(list("A1$:!,()+-*/ \"'{}=")),
                                   st.sampled_from(["F12", "Inputs!$C$3", "1E6", "sort(", "Filter ("])),
                         max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_formula_text, st.sampled_from(["=E12+F12", "=Time!G$4*2", "={=A1}", "=SORT(A1:A3)"])),
                max_size=5),
       st.sampled_from([0, 4, 16_381, 16_383, 16_384]), st.booleans())
def test_write_formula_row_equals_write_formula_cell_by_cell(formulas, col, future):
    """A row written at once stores what xlsxwriter stores cell by cell, with the same dimensions and status
    (off the sheet's last column, an empty or a dynamic-array formula included)."""
    row, cell_by_cell = FastWorksheet(), Worksheet()
    row.use_future_functions = cell_by_cell.use_future_functions = future
    values = [0.5 * i for i in range(len(formulas))]
    statuses = [cell_by_cell.write_formula(7, col + i, f, None, v) for i, (f, v) in enumerate(zip(formulas, values))]
    assert row.write_formula_row(7, col, formulas, None, values) == next((s for s in statuses if s), 0)
    with pytest.raises(ValueError, match="cached values"):
        row.write_formula_row(8, col, formulas + ["=1"], None, values)  # a value for every formula, or nothing
    assert dict(row.table) == dict(cell_by_cell.table)
    assert ((row.dim_rowmin, row.dim_rowmax, row.dim_colmin, row.dim_colmax)
            == (cell_by_cell.dim_rowmin, cell_by_cell.dim_rowmax, cell_by_cell.dim_colmin, cell_by_cell.dim_colmax))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["", "a", "Calc", "E12", "0badc0de" * 3, "x" * 16_384, "y" * 32_768]), max_size=5),
       st.sampled_from([0, 3, 16_381, 16_383, 16_384]), st.booleans())
def test_write_string_row_equals_write_string_cell_by_cell(strings, col, repeat):
    """A row of strings written at once stores what xlsxwriter stores cell by cell: the cells, the dimensions,
    the status (off the sheet, a string over Excel's limit) and the shared-string table."""
    row, cell_by_cell = FastWorksheet(), Worksheet()
    for ws in (row, cell_by_cell):
        ws.str_table = SharedStringTable()
    rows = [strings, strings] if repeat else [strings]
    statuses = [[cell_by_cell.write_string(9 + k, col + i, s) for i, s in enumerate(r)] for k, r in enumerate(rows)]
    for k, r in enumerate(rows):
        assert row.write_string_row(9 + k, col, r) == next((s for s in statuses[k] if s), 0)
    assert dict(row.table) == dict(cell_by_cell.table)
    assert ((row.dim_rowmin, row.dim_rowmax, row.dim_colmin, row.dim_colmax)
            == (cell_by_cell.dim_rowmin, cell_by_cell.dim_rowmax, cell_by_cell.dim_colmin, cell_by_cell.dim_colmax))
    assert row.str_table.string_table == cell_by_cell.str_table.string_table
    assert (row.str_table.count, row.str_table.unique_count) == (cell_by_cell.str_table.count,
                                                                  cell_by_cell.str_table.unique_count)


@settings(max_examples=400, deadline=None)
@given(_formula_text, st.booleans(), st.booleans())
def test_fast_worksheet_equals_xlsxwriter(formula, future, expand):
    fast, slow = FastWorksheet(), Worksheet()
    fast.use_future_functions = slow.use_future_functions = future
    assert fast._prepare_formula(formula, expand) == slow._prepare_formula(formula, expand)


# --- the manifest's normaliser ---------------------------------------------------------------------

def test_normalize_hand_cases():
    assert normalize_formula("=sum( a1:a3 )*1E6") == "SUM( A1:A3 ) * 1000000.0"
    assert normalize_formula("='my-sheet'!$c$3*1.5E-3") == "'MY-SHEET'!$C$3 * 0.0015"
    assert normalize_formula('IF(a1>=0,"Keep Case",-b2)') == 'IF( A1 >= 0.0 , "Keep Case" , - B2 )'
    assert _fast_normalize("=#N/A") is None and normalize_formula("=#N/A") == "#N/A"  # errors go to openpyxl
    assert normalize_formula("=SUM(A1))") == "=SUM(A1))"  # unbalanced: compared as written, as before
    # quoted sheet names take the findall tier; a quote right after an operand is left to the scanner
    assert xlsxmanifest._simple_normalize("='api-copy-001'!F12*2+'Work load'!Z$6") == \
        "'API-COPY-001'!F12 * 2.0 + 'WORK LOAD'!Z$6"
    assert xlsxmanifest._simple_normalize("=A1'b'!C1") is None and xlsxmanifest._simple_normalize("='a'!") is None
    assert normalize_formula("=A1'b'!C1") == normalize_formula_openpyxl("=A1'b'!C1")


_ALPHABET = list("Aab1E5.$:!,()+-*/^&=<>% \"'#{}[];\n\t") + ["1E+", "1.5E-", "SUM(", "'x y'!", '""', "<>", "#N/A", "'", '"']


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(_ALPHABET), max_size=16).map("".join), st.booleans())
def test_fast_normalize_equals_openpyxl(text, with_eq):
    text = ("=" + text) if with_eq else text
    assert normalize_formula(text) == normalize_formula_openpyxl(text)


_SIMPLE_ALPHABET = list("AaEeIiNnFf1059._$:!,()+-*/^&=<>' ") + [
    "SUM(", "inf", "NaN", "1e5", "E12", "Inputs!$C$3", ">=", "))", "((", "'api-copy-001'!", "'Work load'!", "'a''b'!", "'e-1'!"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_SIMPLE_ALPHABET), max_size=14).map("".join))
def test_simple_normalize_equals_the_scanner(text):
    """The findall tier gives the scanner's text wherever it answers (and the scanner equals openpyxl, above)."""
    simple = xlsxmanifest._simple_normalize("=" + text)
    if simple is not None:
        assert simple == _fast_normalize("=" + text)
        assert simple == normalize_formula_openpyxl("=" + text)


def test_report_formula_hashes_equal_openpyxls(run, tmp_path):
    """Every formula of the default report: the manifest hash its row's template gave (most period cells) or
    the fast scanner's (every other formula, none left to openpyxl) is the hash of openpyxl's normal form."""
    books, seen = [], []
    original_record, original_hash = report_workbook.record_formulas, xlsxmanifest.formula_hash
    mp = pytest.MonkeyPatch()
    mp.setattr(report_workbook, "record_formulas", lambda wb, kind: books.append(wb) or original_record(wb, kind))
    mp.setattr(xlsxmanifest, "formula_hash", lambda text: seen.append(text) or original_hash(text))
    try:
        write_report(run, tmp_path / "r.xlsx", build_date=BUILD_DATE)
    finally:
        mp.undo()
    from_templates = 0
    for ws in books[0].worksheets():
        for cols in ws.table.values():
            for cell in cols.values():
                if type(cell).__name__ != "Formula":
                    continue
                want = hashlib.sha256(normalize_formula_openpyxl(cell.formula).encode()).hexdigest()[:8]
                if cell.formula in ws.formula_hashes:
                    from_templates += 1
                    assert ws.formula_hashes[cell.formula] == want, cell.formula
    assert from_templates > 5_000 and len(seen) > 1_000
    for f in seen:  # the rest: the fast scanner's text is openpyxl's
        fast = _fast_normalize("=" + f)
        assert fast is not None and fast == normalize_formula_openpyxl(f), f


def test_manifest_of_a_30_quarter_report_is_each_formulas_own_hash(tmp_path):
    """Past column Z (period 23 on), read back from the file: every formula's manifest hash, most of them worked
    out from their row's template, is the hash of the formula as written."""
    import openpyxl

    from tcomodel.inputs.cells import Quarter
    from tcomodel.xlsxmanifest import MANIFEST_SHEET, read_manifest

    wb = openpyxl.load_workbook(DEFAULT)
    ws = wb["Scenario"]
    next(row for row in ws.iter_rows() if row[0].value == "horizon_quarters")[1].value = 30
    ws = wb["Workload"]
    rows = [r for r in range(1, ws.max_row + 1) if re.fullmatch(r"\d{4}Q[1-4]", str(ws.cell(r, 1).value))]
    first = Quarter.parse(str(ws.cell(rows[0], 1).value))
    for k in range(len(rows), 30):  # the later quarters as the last given one
        for c in range(1, ws.max_column + 1):
            ws.cell(rows[0] + k, c).value = ws.cell(rows[-1], c).value
        ws.cell(rows[0] + k, 1).value = str(first + k)
    wb.save(tmp_path / "s.xlsx")
    run30 = run_model(load_scenario(tmp_path / "s.xlsx"), build_date=BUILD_DATE)
    assert len(run30.model.quarters) == 30
    write_report(run30, tmp_path / "r.xlsx", build_date=BUILD_DATE)
    _, recorded, intact = read_manifest(tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(tmp_path / "r.xlsx", read_only=True)
    try:
        written = {(sh.title, c.coordinate): c.value for sh in book.worksheets if sh.title != MANIFEST_SHEET
                   for row in sh.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")}
    finally:
        book.close()
    assert intact and set(recorded) == set(written) and any(cell.startswith("AH") for _, cell in written)
    assert [k for k, f in written.items() if recorded[k] != formula_hash(f)] == []


def test_template_hashes_hand_case():
    """A template whose columns cross Z -> AA, with a lagged column and a sheet prefix: the hashes are those of
    each formula on its own; a template that would hold the mark is left to the manifest."""
    L = Layout(periods=26)
    L.add_row("flag", "Time", 3)
    adds = item("Additions", "DKK", timeline("flag") * 1E6)
    close = item("Closing", "DKK", lambda s: prev(s, 0) + adds)
    L.place(adds, "Calc", 10)
    L.place(close, "Calc", 11)
    formulas, template = render_periods_template(close, L, "Calc")
    assert template is not None and formulas[25] == "=AC12+AD11"
    got = template_hashes(template, formulas, 1, 26)
    assert got == {f[1:]: formula_hash(f) for f in formulas[1:]} and len(got) == 25
    assert template_hashes(template, formulas, 0, 26) == {}  # the first period is prev()'s initial value
    assert template_hashes(template, formulas, 3, 3) == {}
    with pytest.raises(SheetError, match="no column 1 periods back"):
        fill_periods(template, 0, 26)  # the first period's prev() is its initial value, not a column
    formulas, template = render_periods_template(adds, L, "Calc")
    assert fill_periods(template, 0, 26) == formulas  # no prev(): the first period fills in too
    assert template_hashes(template, formulas, 0, 26) == {f[1:]: formula_hash(f) for f in formulas}
    assert normalize_formula(formulas[7]) == "TIME!L$4 * 1000000.0"
    assert template_hashes(template, formulas, 5, 9) == {f[1:]: formula_hash(f) for f in formulas[5:9]}
    marked = template._replace(lits=[lit + "+QXZJ1" for lit in template.lits])
    assert template_hashes(marked, formulas, 1, 26) == {}


# --- render_periods --------------------------------------------------------------------------------

def test_render_periods_shifts_columns_past_z():
    L = Layout(periods=26)  # period columns E..AD: crosses Z -> AA
    L.add_input("open", "Inputs", "C4")
    L.add_row("flag", "Time", 3)
    L.add_row("tokens", "Work load", 5)
    adds = item("Additions", "DKK", row_input("tokens") * timeline("flag"))
    close = item("Closing", "DKK", lambda s: prev(s, inp("open")) + adds)
    L.place(adds, "Calc", 10)
    L.place(close, "Calc", 11)
    got = render_periods(close, L, "Calc")
    assert got == [render(close, p, L, "Calc") for p in range(26)]
    assert got[0] == "=Inputs!$C$4+E11"
    assert got[22] == "=Z12+AA11" and got[25] == "=AC12+AD11"
    assert render_periods(adds, L, "Other")[21] == "='Work load'!Z$6*Time!Z$4"


def test_render_periods_of_rows_without_a_period_column():
    """A scalar expression forced into a row, and prev() of an item placed as a scalar, render the same text in
    every period (after prev()'s initial value): no column to fill in, as a render per period gives it."""
    L = Layout(periods=4)
    L.add_input("a", "S", "C3")
    forced = item("k", "u", inp("a") * 2, per_period=True)
    s = item("s", "u", inp("a") + 1)
    L.place(s, "S", 2, 5)
    lagged = item("l", "u", prev(s, 1.0) + inp("a"), per_period=True)
    L.place(forced, "S", 10)
    L.place(lagged, "S", 11)
    for it in (forced, lagged):
        formulas, template = render_periods_template(it, L, "S")
        assert formulas == [render(it, p, L, "S") for p in range(4)], it.label
    assert render_periods(forced, L, "S") == ["=$C$3*2"] * 4
    assert render_periods(lagged, L, "S") == ["=1+$C$3"] + ["=$F$3+$C$3"] * 3
    template = render_periods_template(forced, L, "S")[1]
    assert fill_periods(template, 1, 4) == ["=$C$3*2"] * 3 and template_hashes(template, ["=$C$3*2"] * 4, 0, 4) == {
        "$C$3*2": formula_hash("=$C$3*2")}


def test_render_periods_on_the_whole_model(run, tmp_path):
    """Every period line item of the default model, on its own sheet, as a render per period gives it."""
    calls = []
    mp = pytest.MonkeyPatch()
    mp.setattr(sheet_writer, "render_periods_template", lambda it, L, sheet: calls.append((it, L, sheet)) or
               render_periods_template(it, L, sheet))
    try:
        write_report(run, tmp_path / "r.xlsx", build_date=BUILD_DATE)
    finally:
        mp.undo()
    assert len(calls) > 300
    templates = 0
    for it, L, sheet in calls:
        formulas, template = render_periods_template(it, L, sheet)
        assert formulas == render_periods(it, L, sheet) == [render(it, p, L, sheet) for p in range(L.periods)], it.label
        if template is not None:
            templates += 1
            start = 1 if any(template.lags) else 0  # prev()'s first period is its initial value, not the template's
            assert fill_periods(template, start, L.periods) == formulas[start:]
            assert fill_periods(template, 2, 4) == formulas[2:4] and fill_periods(template, 3, 3) == []
            assert template_hashes(template, formulas, start, L.periods) == \
                {f[1:]: formula_hash(f) for f in formulas[start:]}
    assert templates > 300


# --- the sensitivity in one evaluation ---------------------------------------------------------------

def test_tornado_and_grid_together_equal_separately(run):
    t, g = tornado_and_grid(run)
    t1, g1 = tornado(run), price_volume_grid(run)
    assert [d.label for d in t.drivers] == [d.label for d in t1.drivers]
    assert t.base_npv == t1.base_npv and t.base_levelized == t1.base_levelized
    for oid in t1.npv:
        assert np.array_equal(t.npv[oid], t1.npv[oid], equal_nan=True)
    for oid in t1.levelized:
        assert np.array_equal(t.levelized[oid], t1.levelized[oid], equal_nan=True)
        assert np.array_equal(g.levelized[oid], g1.levelized[oid], equal_nan=True)
    assert g.cheapest == g1.cheapest and g.monthly_tokens == g1.monthly_tokens
    assert g.levelized["aarhusai"].shape == (8, 6)


# --- the whole report ------------------------------------------------------------------------------

def _parts(path: Path) -> dict:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_report_identical_with_and_without_the_shortcuts(run, tmp_path):
    fast = write_report(run, tmp_path / "fast.xlsx", build_date=BUILD_DATE)
    mp = pytest.MonkeyPatch()
    for name in FAST_METHODS:
        mp.setattr(FastWorksheet, name, getattr(Worksheet, name))
    mp.setattr(FastSharedStrings, "_write_sst_strings", SharedStrings._write_sst_strings)
    mp.setattr(xlsxmanifest, "_simple_normalize", lambda text: None)
    mp.setattr(xlsxmanifest, "_fast_normalize", lambda text: None)
    slow_periods = (lambda it, L, sheet: ([render(it, p, L, sheet) for p in range(L.periods)], None))  # no templates
    mp.setattr(sheet_writer, "render_periods_template", slow_periods)
    mp.setattr(report_context, "render_periods_template", slow_periods)
    try:
        slow = write_report(run, tmp_path / "slow.xlsx", build_date=BUILD_DATE)
    finally:
        mp.undo()
    a, b = _parts(fast), _parts(slow)
    assert sorted(a) == sorted(b)
    assert [n for n in a if a[n] != b[n]] == []
    assert len(a["xl/worksheets/sheet8.xml"]) > 10_000  # an option sheet: the parts hold the formulas
