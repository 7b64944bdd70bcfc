"""The printed report: calculation sheets print pages across with their labels and header repeated, no label or
header is cut by its neighbour, empty vintage blocks are grouped and collapsed, and a breakeven fee below zero
reads as words (a live formula LibreOffice recalculates to the same words)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tcomodel.cli import main
from tcomodel.report.report_context import NO_FEE_MATCHES
from tcomodel.verify.recalc import recalculate
from tcomodel.xlsxprint import column_px, periods_per_page

ROOT = Path(__file__).parents[1]
CALC_SHEETS = ["Time", "Demand", "aarhusai", "alternative", "alternative-owned", "cloud-h100-ondemand",
               "cloud-h100-mix", "api-claude-sonnet", "api-gemini-pro", "api-gemini-flash-lite", "api-deepseek",
               "Comparison", "Breakeven", "NPV_IRR"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("print")
    out, js = d / "r.xlsx", d / "r.json"
    result = CliRunner().invoke(main, ["build", str(ROOT / "assumptions" / "aarhusai-vs-alternative.xlsx"),
                                       "-o", str(out), "--json", str(js)])
    assert result.exit_code == 0, result.output
    return out, json.loads(js.read_text())


def test_column_px_is_excels_default_font_width():
    # Excel: 7 px per character of Calibri 11 plus 5 px padding; 8.43 characters = 64 px
    assert column_px(8.43) == 64
    assert column_px(16) == 117
    assert column_px(58) == 411


def test_periods_per_page_by_hand():
    # labels 58+16+15+19 chars = 411+117+110+138 = 776 px; 20 quarters of 117 px over ceil(20/8) = 3 pages:
    # 7 a page, scale floor(100 * 1045 / (776 + 7 * 117)) = floor(65.5) = 65
    assert periods_per_page((58, 16, 15, 19), 16, 20) == (7, 65)
    # labels 90 chars wide: 635+117+110+138 = 1000 px; 7 a page gives 57% (< 60), so 4 pages of 5: 65%
    assert periods_per_page((90, 16, 15, 19), 16, 20) == (5, 65)
    # a short horizon fits one page at full size
    assert periods_per_page((58, 16, 15, 19), 16, 2) == (2, 100)
    # 8 quarters: one page of 8, floor(100 * 1045 / (776 + 8 * 117)) = floor(61.04) = 61
    assert periods_per_page((58, 16, 15, 19), 16, 8) == (8, 61)


def test_calculation_sheets_print_pages_across(report):
    out, _ = report
    wb = openpyxl.load_workbook(out)
    for name in CALC_SHEETS:
        ws = wb[name]
        assert ws.page_setup.orientation == "landscape", name
        assert ws.page_setup.paperSize == 9, name  # A4
        assert ws.page_setup.pageOrder == "overThenDown", name
        assert ws.print_title_cols == "$A:$D", name  # label | unit | value | total on every page
        assert ws.print_title_rows == "$1:$4", name  # title, subtitle and the period header on every page
        # the file holds each width as set plus xlsxwriter's padding (5 px: +0.71); periods_per_page takes it as set
        widths = [math.floor(ws.column_dimensions[c].width) for c in "ABCD"]
        n = 21 if name == "NPV_IRR" else 20  # NPV_IRR: + the 'end of horizon' column
        per_page, _ = periods_per_page(widths, 16, n)
        assert per_page <= 8, name
        breaks = [b.id for b in ws.col_breaks.brk]
        assert breaks == list(range(4 + per_page, 4 + n, per_page)), name  # period 1 is column E (index 4)
        pages = len(breaks) + 1
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (pages, 0), name
    # e.g. Demand: 7 quarters a page, breaks before 2028Q4 (column L) and 2030Q3 (column S)
    assert [b.id for b in wb["Demand"].col_breaks.brk] == [11, 18]
    # the other sheets stay one page wide
    for name in ("Cover", "Summary", "Roofline", "Sensitivity", "Checks"):
        ws = wb[name]
        assert ws.page_setup.orientation == "landscape"
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0  # 1 is the default
        assert ws.col_breaks.brk == []


def _cut_cells(wb) -> list[str]:
    """Text cells wider than their column (about one character width per character) whose right neighbour is
    not empty, so the text is cut on screen and on paper; wrapped cells excepted."""
    out = []
    for ws in wb:
        if ws.sheet_state != "visible":
            continue
        widths = {}
        for dim in ws.column_dimensions.values():
            if dim.min and dim.max:
                for c in range(dim.min, dim.max + 1):
                    widths[c] = dim.width
        for row in ws.iter_rows():
            for cell in row:
                v = cell.value
                if not isinstance(v, str) or v.startswith("=") or cell.alignment.wrap_text:
                    continue
                need = len(v) * (1.1 if cell.font.b else 1.0)
                if need <= widths.get(cell.column, 8.43):
                    continue
                if ws.cell(cell.row, cell.column + 1).value not in (None, ""):
                    out.append(f"{ws.title}!{cell.coordinate}: {v}")
    return out


def test_no_label_or_header_is_cut(report):
    out, _ = report
    wb = openpyxl.load_workbook(out)
    assert _cut_cells(wb) == []
    # the category header of the Summary wraps in a row tall enough for two lines
    ws = wb["Summary"]
    cell = next(c for row in ws.iter_rows() for c in row if c.value == "Depreciation and disposals")
    assert cell.alignment.wrap_text and ws.column_dimensions[cell.column_letter].width < len(cell.value)
    assert ws.row_dimensions[cell.row].height >= 30


def test_the_cut_finder_finds_a_cut_label(report, tmp_path):
    out, _ = report
    wb = openpyxl.load_workbook(out)
    ws = wb["Demand"]
    ws.column_dimensions["A"].width = 20
    assert any(c.startswith("Demand!A") for c in _cut_cells(wb))


def test_empty_vintage_blocks_are_grouped_and_collapsed(report):
    out, _ = report
    wb = openpyxl.load_workbook(out, data_only=True)
    ws = wb["alternative-owned"]
    hidden, shown = {}, {}
    for r in range(1, ws.max_row + 1):
        label = ws.cell(r, 1).value
        if not (isinstance(label, str) and label.startswith("Vintage ")):
            continue
        v = int(label.split(":")[0].split()[1])
        dim = ws.row_dimensions[r]
        (hidden if dim.hidden else shown).setdefault(v, []).append((r, dim.outline_level, label))
    # the default buys both servers in 2027Q1: vintage 1 shows, vintages 2..20 (11 rows each, the purchase quarter included) are grouped
    assert sorted(shown) == [1]
    assert sorted(hidden) == list(range(2, 21))
    assert sum(len(rows) for rows in hidden.values()) == 19 * 11  # vintages 2..20, 11 rows each
    assert all(level == 1 for rows in hidden.values() for _, level, _ in rows)
    assert all(level == 0 for _, level, _ in shown[1])
    for v, rows in hidden.items():  # nothing bought in a hidden vintage
        units_row = next(r for r, _, label in rows if label.endswith("units bought"))
        assert ws.cell(units_row, 3).value == 0  # a scalar: the Value column
    units_row = next(r for r, _, label in shown[1] if label.endswith("units bought"))
    assert ws.cell(units_row, 3).value == 2
    # the outline's + sits on the visible row above the group, which is marked collapsed
    first_hidden = min(r for rows in hidden.values() for r, _, _ in rows)
    assert ws.row_dimensions[first_hidden - 1].collapsed
    assert ws.sheet_properties.outlinePr.summaryBelow is False
    # the hidden rows keep their formulas (references to them hold)
    wf = openpyxl.load_workbook(out)["alternative-owned"]
    # (vintage 2's age row, from its purchase quarter in the second period column on; blank before it)
    assert str(wf.cell(first_hidden + 4, 6).value).startswith("=") and wf.cell(first_hidden + 4, 5).value is None
    # an option without owned hardware has no vintages and nothing hidden
    assert not any(d.hidden for d in wb["alternative"].row_dimensions.values())


def _summary_fee_rows(ws) -> dict:
    """The Summary's 'costs the same as ... at a monthly fee of' rows: label -> row."""
    start = next(c.row for c in ws["A"] if c.value == "It costs the same (PV over the quarters both serve) as")
    rows = {}
    for r in range(start + 1, start + 20):
        label = ws.cell(r, 1).value
        if not label:
            break
        rows[label.strip()] = r
    return rows


def test_negative_breakeven_fee_reads_as_words(report):
    out, js = report
    wb_v = openpyxl.load_workbook(out, data_only=True)
    wb_f = openpyxl.load_workbook(out)
    rows = _summary_fee_rows(wb_v["Summary"])
    flash, rented = rows["API budget: Gemini 2.5 Flash-Lite"], rows[js["options"]["alternative"]["label"]]
    ws_v, ws_f = wb_v["Summary"], wb_f["Summary"]
    assert ws_v.cell(flash, 3).value == NO_FEE_MATCHES == "cannot match even at a zero fee"
    assert ws_v.cell(flash, 4).value in (None, "")  # no unit after the words
    formula = ws_f.cell(flash, 3).value
    assert formula.startswith("=IF(Breakeven!$C$") and "<0" in formula
    # the number stays on the Breakeven sheet, where the formula points, with the words beside it
    ref = formula[len("=IF(Breakeven!"):].split("<")[0].replace("$", "")
    fee = wb_v["Breakeven"][ref].value
    assert isinstance(fee, float) and fee < 0
    assert wb_v["Breakeven"].cell(wb_v["Breakeven"][ref].row, 5).value == NO_FEE_MATCHES
    # a fee that can match shows the number and its unit
    assert ws_v.cell(rented, 3).value == pytest.approx(11408, abs=1)
    assert ws_v.cell(rented, 4).value == "DKK/month"
    rented_ref = ws_f.cell(rented, 3).value[len("=IF(Breakeven!"):].split("<")[0].replace("$", "")
    assert wb_v["Breakeven"].cell(wb_v["Breakeven"][rented_ref].row, 5).value in (None, "")


@pytest.mark.libreoffice
def test_negative_fee_words_recalculate_in_libreoffice(report, tmp_path, soffice_available):
    out, js = report
    recalc = recalculate(out, tmp_path)
    ws = openpyxl.load_workbook(recalc, data_only=True)["Summary"]
    rows = _summary_fee_rows(ws)
    assert ws.cell(rows["API budget: Gemini 2.5 Flash-Lite"], 3).value == NO_FEE_MATCHES
    assert ws.cell(rows["API open-weight floor: DeepSeek V4.1-Flash (hosted in China: check compliance)"],
                   3).value == NO_FEE_MATCHES
    assert ws.cell(rows[js["options"]["alternative"]["label"]], 3).value == pytest.approx(11408, abs=1)
