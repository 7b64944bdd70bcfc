"""Cells that are empty by construction (Item.first_period / last_period): a vintage's rows before its purchase
quarter, its additions after it, its depreciation after its book life or retirement, its retirement rows outside
its retirement quarter, its horizon-end value before the last quarter. The report leaves them blank and the engine holds 0 there, as Excel and LibreOffice read a
blank cell, so that even an error value cannot make the two disagree.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import xlsxwriter

from tcomodel.finance import run_model
from tcomodel.inputs import load_scenario
from tcomodel.report import write_report
from tcomodel.sheet import Layout, SheetError, evaluate, inp, item, prev, timeline, write_block, write_period_header
from tcomodel.verify import verify_report

DEFAULT = Path(__file__).parents[1] / "assumptions" / "aarhusai-vs-alternative.xlsx"
P = 6
VALUES = {"a": np.array(2.0), "t": np.arange(1.0, P + 1)}


def test_engine_holds_zero_outside_the_span_even_for_an_error():
    x = item("x", "u", inp("a") * timeline("t"), first_period=2, last_period=3)
    out = evaluate([x], VALUES)[x]
    np.testing.assert_array_equal(out, [0, 0, 6, 8, 0, 0])
    # an error (NaN) in the blank periods does not exist for Excel: a blank reads 0
    err = evaluate([x], dict(VALUES, a=np.array(np.nan)))[x]
    np.testing.assert_array_equal(np.isnan(err), [False, False, True, True, False, False])
    assert err[0] == 0 and err[5] == 0


def test_a_recurrence_reads_its_blank_periods_as_zero():
    """close = prev(close) + add from period 2: periods 0-1 blank (0), so an error added before is not carried."""
    add = item("add", "u", inp("a") * timeline("t"))
    close = item("close", "u", lambda s: prev(s, 0) + add, first_period=2)
    np.testing.assert_array_equal(evaluate([close], VALUES)[close], [0, 0, 6, 14, 24, 36])
    t = np.array([np.nan, np.nan, 3, 4, 5, 6])  # errors in the blank periods only
    np.testing.assert_array_equal(evaluate([close], dict(VALUES, t=t))[close], [0, 0, 6, 14, 24, 36])
    # several of one shape stepped together: each keeps its own span
    closes = [item(f"close {k}", "u", lambda s: prev(s, 0) + add, first_period=k) for k in range(P)]
    res = evaluate(closes, VALUES)
    for k, c in enumerate(closes):
        expect = np.concatenate([np.zeros(k), np.cumsum(2.0 * np.arange(k + 1, P + 1))])
        np.testing.assert_array_equal(res[c], expect)


def test_spans_are_checked_and_written_blank(tmp_path):
    with pytest.raises(SheetError, match="whole numbers >= 0"):
        item("bad", "u", 1, first_period=-1)
    x = item("x", "u", inp("a") * timeline("t"), first_period=2, last_period=3)
    y = item("y", "u", x * 1, first_period=P)  # no cell at all
    vals = evaluate([x, y], VALUES)
    path = tmp_path / "b.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("S")
    layout = Layout(periods=P)
    layout.add_input("a", "S", (0, 2))
    layout.add_row("t", "S", 1)
    write_period_header(ws, layout, 2, [f"q{p}" for p in range(P)])
    write_block(ws, [x, y], layout, {k: v for k, v in vals.items()}, 3)
    wb.close()
    sheet = openpyxl.load_workbook(path)["S"]
    first = layout.first_col
    assert [sheet.cell(4, first + 1 + p).value is None for p in range(P)] == [True, True, False, False, True, True]
    assert all(sheet.cell(5, first + 1 + p).value is None for p in range(P))
    assert str(sheet.cell(4, first + 3).value).startswith("=")


@pytest.mark.libreoffice
def test_retiring_vintages_with_declining_balance_agree_with_libreoffice(tmp_path):
    """Economic life 1 year inside the 20-quarter horizon (vintages retire and are replaced), declining balance,
    demand growing so that several quarters buy: the report with its blank cells recalculates in LibreOffice to
    the engine's values in all three cases."""
    scenario = tmp_path / "retiring.xlsx"
    shutil.copy(DEFAULT, scenario)
    wb = openpyxl.load_workbook(scenario)
    cx = wb["Capex"]
    head = [c.value for c in cx[1]]
    row = next(r for r in range(3, cx.max_row + 1) if cx.cell(r, 1).value == "alternative-owned")
    cx.cell(row, head.index("economic_life_years") + 1).value = 1.0
    cx.cell(row, head.index("depreciation_method") + 1).value = "declining_balance"
    wl = wb["Workload"]
    req = [c.value for c in wl[1]].index("requests") + 1
    for r in range(3, wl.max_row + 1):
        if isinstance(wl.cell(r, req).value, (int, float)):
            wl.cell(r, req).value = wl.cell(r, req).value * (1.0 + 0.25 * (r - 3))  # a steep ramp
    wb.save(scenario)
    run = run_model(load_scenario(scenario), build_date=dt.date(2026, 12, 1))
    om = run.model.options["alternative-owned"]
    items = {it.label: it for s in om.sections for it in s.items}
    bought = [v for v in range(1, 21) if float(run.values[items[f"Vintage {v}: units bought"]]) > 0]
    assert len(bought) >= 4  # growth and replacements: several vintages
    v = bought[1]
    retired = np.asarray(run.values[items[f"Vintage {v}: book value retired"]])
    assert np.count_nonzero(retired) <= 1 and retired[v - 1 + 4 - 1] > 0  # retired at the end of its 4th quarter
    report = tmp_path / "retiring-report.xlsx"
    write_report(run, report, build_date=dt.date(2026, 12, 1))
    ws = openpyxl.load_workbook(report)["alternative-owned"]
    labels = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
    first = 5  # column E: the first quarter
    cells = [ws.cell(labels[f"Vintage {v}: book value retired"], first + p).value for p in range(20)]
    assert [p for p, c in enumerate(cells) if c is not None] == [v - 1 + 4 - 1]  # one formula cell
    adds = [ws.cell(labels[f"Vintage {v}: additions"], first + p).value for p in range(20)]
    assert [p for p, c in enumerate(adds) if c is not None] == [v - 1]
    deps = [ws.cell(labels[f"Vintage {v}: depreciation"], first + p).value for p in range(20)]
    # retired after 4 quarters, inside its 16-quarter book life: it depreciates only until then
    assert [p for p, c in enumerate(deps) if c is not None] == list(range(v - 1, v - 1 + 4))
    res = verify_report(report, scenario=scenario)
    assert res.formula_cells > 10000
    assert res.ok, (res.mismatches[:5], res.formula_changes[:5], res.cases_summary())


def test_depreciation_after_the_book_life_is_blank_and_a_book_life_edit_is_stale(tmp_path, soffice_available):
    """The default's owned option: straight line over 16 quarters inside a 20-quarter horizon, no economic life.
    Vintage 1's depreciation has cells in quarters 1-16 only, and they add up to its cost less its salvage value
    (the straight-line identity); the engine holds 0 after them. As the blank span follows the book life, the
    book life is structural: edited on the report's Inputs sheet it turns the master status to stale."""
    from tcomodel.verify.case_switch import set_cell
    from tcomodel.verify.recalc import recalculate
    from tests.helpers import find_row

    run = run_model(load_scenario(DEFAULT), build_date=dt.date(2026, 12, 1))
    assert float(run.model.inputs["alternative-owned.capex.book_life_quarters"].value) == 16
    om = run.model.options["alternative-owned"]
    items = {it.label: it for s in om.sections for it in s.items}
    dep = np.asarray(run.values[items["Vintage 1: depreciation"]])
    cost = float(run.values[items["Vintage 1: cost"]])
    salvage = float(run.values[items["Vintage 1: book salvage value"]])
    assert cost > 0
    np.testing.assert_allclose(dep[:16], (cost - salvage) / 16, rtol=1e-12)
    np.testing.assert_array_equal(dep[16:], 0.0)
    report = tmp_path / "default.xlsx"
    write_report(run, report, build_date=dt.date(2026, 12, 1))
    wb = openpyxl.load_workbook(report)
    ws = wb["alternative-owned"]
    row = find_row(ws, "A", "Vintage 1: depreciation")
    cells = [ws.cell(row, 5 + p).value for p in range(20)]
    assert [p for p, c in enumerate(cells) if c is not None] == list(range(16))
    # the book life on the Inputs sheet: edited, the report says it must be rebuilt
    inputs = wb["Inputs"]
    life_row = next(r for r in range(1, inputs.max_row + 1)
                    if "book life" in str(inputs.cell(r, 1).value or "") and "alternative-owned" in
                    str(inputs.cell(r, 1).value or ""))
    status_ref = wb.defined_names["MasterStatus"].attr_text.replace("$", "")
    sheet, cell = status_ref.split("!")
    edited = set_cell(report, tmp_path / "edited.xlsx", "Inputs", f"E{life_row}", 20)
    recalculated = openpyxl.load_workbook(recalculate(edited, tmp_path / "recalc"), data_only=True)
    assert recalculated[sheet][cell].value == "stale: rebuild"
