"""evaluate() against hand-computed values, the scenario axis, and Excel's conventions."""

import math

import numpy as np
import numpy_financial as npf
import pytest
import xlsxwriter

from tcomodel.sheet import (
    CEILING, IF, IFERROR, MAX, MIN, NA, ROUND, SUM, Layout, SheetError, evaluate, excel_irr, index,
    inp, irr, item, match, npv, prev, row_input, sumproduct, timeline, total, write_block,
    write_inputs, write_rows, written_cells,
)

tokens, flag = row_input("tokens"), timeline("flag")


def test_hand_computed_row():
    price = inp("price")
    cost = item("Cost", "DKK", tokens * price * flag + 1)
    r = evaluate([cost], {"price": 2.0, "tokens": [1.0, 2.0, 3.0], "flag": [0, 1, 1]})
    np.testing.assert_array_equal(r[cost], [1.0, 5.0, 7.0])


def test_corkscrew():
    adds = item("Additions", "DKK", tokens)
    reds = item("Reductions", "DKK", MIN(tokens, 2))
    close = item("Closing", "DKK", lambda s: prev(s, inp("open")) + adds - reds)
    opening = item("Opening", "DKK", prev(close, inp("open")))
    r = evaluate([opening, close], {"open": 10.0, "tokens": [5.0, 1.0, 4.0]})
    # closing: 10+5-2=13, 13+1-1=13, 13+4-2=15
    np.testing.assert_array_equal(r[close], [13.0, 13.0, 15.0])
    np.testing.assert_array_equal(r[opening], [10.0, 13.0, 13.0])
    np.testing.assert_array_equal(r[opening] + r[adds] - r[reds], r[close])


def test_mutual_recurrence_and_declining_balance():
    # depreciation = 25% of opening NBV; NBV closing = opening - depreciation
    nbv = item("NBV closing", "DKK")
    dep = item("Depreciation", "DKK", prev(nbv, 100.0) * 0.25)
    nbv.define(prev(nbv, 100.0) - dep)
    r = evaluate([nbv], {}, periods=3)
    np.testing.assert_allclose(r[dep], [25.0, 18.75, 14.0625])
    np.testing.assert_allclose(r[nbv], [75.0, 56.25, 42.1875])


def test_functions_hand_values():
    x = row_input("x")
    items = {
        "if": item("if", "", IF(x > 1, x * 10, -1)),
        "max": item("max", "", MAX(x, 1.5)),
        "sum": item("sum", "", SUM(x, 1, 2)),
        "round": item("round", "", ROUND(x * 1.25, 1)),
        "ceil": item("ceil", "", CEILING(x, 2)),
        "cmp": item("cmp", "", (x >= 2) + x.eq(0.5)),
    }
    r = evaluate(list(items.values()), {"x": [0.5, 2.0, 3.0, -2.5]})
    np.testing.assert_array_equal(r[items["if"]], [-1, 20, 30, -1])
    np.testing.assert_array_equal(r[items["max"]], [1.5, 2, 3, 1.5])
    np.testing.assert_array_equal(r[items["sum"]], [3.5, 5, 6, 0.5])
    # 0.625 -> 0.6 (not half), 2.5 -> 2.5, 3.75 -> 3.8 (half away from zero), -3.125 -> -3.1
    np.testing.assert_allclose(r[items["round"]], [0.6, 2.5, 3.8, -3.1])
    # CEILING(-2.5, 2) = -2 (toward +inf for negative x, positive significance, Excel 2010+)
    np.testing.assert_array_equal(r[items["ceil"]], [2, 2, 4, -2])
    np.testing.assert_array_equal(r[items["cmp"]], [1, 1, 1, 0])


def test_round_half_away_from_zero_and_approx():
    x = row_input("x")
    it = item("r", "", ROUND(x, 2))
    r = evaluate([it], {"x": [2.675, -2.675, 0.125, 1.005]})
    # Excel and LibreOffice give 2.68, -2.68, 0.13, 1.01 (15-digit correction), numpy.round does not
    np.testing.assert_array_equal(r[it], [2.68, -2.68, 0.13, 1.01])


def test_division_by_zero_is_error_and_iferror_guards():
    bad = item("Per token", "DKK", 10 / tokens)
    guarded = item("Guarded", "DKK", IFERROR(10 / tokens, 0))
    na = item("NA", "DKK", IFERROR(10 / tokens, NA()))
    r = evaluate([bad, guarded, na], {"tokens": [2.0, 0.0]})
    assert r[bad][0] == 5.0 and math.isnan(r[bad][1])
    np.testing.assert_array_equal(r[guarded], [5.0, 0.0])
    assert math.isnan(r[na][1])
    # IF only evaluates the branch it takes, like Excel
    safe = item("Safe", "DKK", IF(tokens > 0, 10 / tokens, 0))
    np.testing.assert_array_equal(evaluate([safe], {"tokens": [2.0, 0.0]})[safe], [5.0, 0.0])


def test_approximate_subtraction_gives_zero():
    # Excel and LibreOffice show 0 for 0.3 - (0.1 + 0.2), not -5.55e-17
    x = row_input("x")
    it = item("d", "", 0.3 - (x + 0.2))
    assert evaluate([it], {"x": [0.1]})[it][0] == 0.0


def test_aggregates():
    cf = item("CF", "DKK", tokens)
    w = item("W", "", flag * 1)
    items = [
        tot := item("Total", "DKK", total(cf)),
        sp := item("SP", "DKK", sumproduct(cf, w)),
        ix := item("Third", "DKK", index(cf, 3)),
        m := item("Where 4", "#", match(4, cf)),
        miss := item("Where 99", "#", match(99, cf)),
    ]
    r = evaluate(items, {"tokens": [1.0, 2.0, 4.0, 8.0], "flag": [1, 0, 1, 0]})
    assert r[tot] == 15.0 and r[sp] == 5.0 and r[ix] == 4.0 and r[m] == 3.0
    assert math.isnan(r[miss])


@pytest.mark.parametrize("pos", [0.0, 1.0, 2.7, 4.0, 5.0, -1.0, float("nan")])
def test_index_of_one_scenario_equals_the_batch(pos):
    """INDEX at one position: one scenario's slice (its own fast path) and a batch of two give the same values,
    #REF! (NaN) outside 1..periods, the position truncated as Excel does."""
    cf = item("CF", "DKK", row_input("t"))
    ix = item("At k", "DKK", index(cf, inp("k")))
    row = [1.0, 2.0, 4.0, 8.0]
    one = evaluate([ix], {"t": row, "k": pos})[ix]
    batch = evaluate([ix], {"t": np.array([row, row]), "k": np.array([pos, pos])})[ix]
    k = int(pos) if math.isfinite(pos) else 0
    expect = row[k - 1] if 1 <= k <= 4 else np.nan
    np.testing.assert_array_equal(np.ravel(one), [expect])
    np.testing.assert_array_equal(batch, [expect, expect])


@pytest.mark.parametrize("rate", [0.0, 0.02, 0.1])
def test_npv_follows_excel_convention(rate):
    cfs = [-100.0, 30.0, 40.0, 50.0, 20.0]
    cf = item("CF", "DKK", row_input("cf"))
    n = item("NPV", "DKK", npv(inp("r"), cf))
    got = evaluate([n], {"cf": cfs, "r": rate})[n]
    # Excel's NPV discounts the first cash flow one period: numpy-financial with a leading 0
    assert got == pytest.approx(npf.npv(rate, [0.0] + cfs), rel=1e-12)
    assert got == pytest.approx(sum(c / (1 + rate) ** (t + 1) for t, c in enumerate(cfs)), rel=1e-12)


def test_irr_matches_numpy_financial_and_npv_at_irr_is_zero():
    cfs = [-100.0, 30.0, 40.0, 50.0, 20.0]
    cf = item("CF", "DKK", row_input("cf"))
    i = item("IRR", "%", irr(cf))
    r = evaluate([i], {"cf": cfs})
    assert r[i] == pytest.approx(npf.irr(cfs), rel=1e-10)
    assert abs(npf.npv(r[i], cfs)) < 1e-9
    assert math.isnan(excel_irr(np.array([1.0, 2.0, 3.0])).item())  # no sign change: #NUM!


def _model():
    price, rate = inp("price"), inp("rate")
    cost = item("Cost", "DKK", tokens * price * flag)
    cum = item("Cumulative", "DKK", lambda s: prev(s, 0) + cost - 5)
    cf = item("CF", "DKK", cost - 4)
    return [cost, cum, cf,
            item("NPV", "DKK", npv(rate, cf)), item("IRR", "%", irr(cf)), item("Total", "DKK", total(cost))]


def test_scenario_axis_equals_single_evaluations():
    items = _model()
    prices = np.array([1.0, 2.0, 3.5])
    rates = np.array([0.01, 0.02, 0.03])
    tok = np.array([[0.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], [5.0, 1.0, 3.0, 4.0]])
    fl = [1, 1, 1, 0]
    many = evaluate(items, {"price": prices, "rate": rates, "tokens": tok, "flag": fl})
    for s in range(3):
        one = evaluate(items, {"price": prices[s], "rate": rates[s], "tokens": tok[s], "flag": fl})
        for it in items:
            np.testing.assert_allclose(many[it][s], one[it], rtol=1e-14, atol=0)
            assert many[it].shape == ((3, 4) if not it.is_scalar else (3,))


def test_scenario_axis_scalar_inputs_broadcast_over_period_rows():
    price = inp("price")
    cost = item("Cost", "DKK", tokens * price)
    r = evaluate([cost], {"price": np.array([1.0, 2.0]), "tokens": [1.0, 2.0, 3.0]})
    np.testing.assert_array_equal(r[cost], [[1, 2, 3], [2, 4, 6]])


def test_model_errors():
    a = item("A", "x")
    b = item("B", "x", a + 1)
    a.define(b * 2)
    with pytest.raises(SheetError, match="circular"):
        evaluate([a], {}, periods=2)
    with pytest.raises(SheetError, match="no value"):
        evaluate([item("C", "x", inp("missing") * tokens)], {"tokens": [1.0]})
    with pytest.raises(SheetError, match="expected"):
        evaluate([item("D", "x", tokens * 1)], {"tokens": [1.0, 2.0]}, periods=3)


def test_writer_writes_formulas_cached_values_and_na(tmp_path):
    price = inp("price")
    per = item("Per token", "DKK", IFERROR(price / tokens, NA()), total=False)
    cost = item("Cost", "DKK", tokens * price)
    tot = item("Total cost", "DKK", total(cost))
    vals = {"price": 2.0, "tokens": [1.0, 0.0, 4.0]}
    res = evaluate([per, cost, tot], vals)
    wb = xlsxwriter.Workbook(tmp_path / "w.xlsx")
    L = Layout(periods=3)
    inputs, work, calc = wb.add_worksheet("Inputs"), wb.add_worksheet("Workload"), wb.add_worksheet("Calc")
    write_inputs(inputs, L, [("price", "Price", "DKK", 2.0)], start_row=2)
    write_rows(work, L, [("tokens", "Tokens", "tok", vals["tokens"])], start_row=3)
    nxt = write_block(calc, [per, cost, tot], L, res, start_row=5)
    wb.close()
    assert nxt == 8
    formulas = {(w.sheet, w.cell): (w.formula, w.value) for w in written_cells(L, formulas_only=True)}
    assert formulas[("Calc", "E6")] == ("=IFERROR(Inputs!$C$3/Workload!E$4,NA())", 2.0)
    assert formulas[("Calc", "F6")] == ("=IFERROR(Inputs!$C$3/Workload!F$4,NA())", "#N/A")
    assert formulas[("Calc", "G7")] == ("=Workload!G$4*Inputs!$C$3", 8.0)
    assert formulas[("Calc", "D7")] == ("=SUM(E7:G7)", 10.0)
    assert formulas[("Calc", "C8")] == ("=SUM($E$7:$G$7)", 10.0)
    assert ("Calc", "D6") not in formulas  # total=False
    assert [(w.sheet, w.cell) for w in L.errors] == [("Calc", "F6")]
    import openpyxl
    cached = openpyxl.load_workbook(tmp_path / "w.xlsx", data_only=True)
    assert cached["Calc"]["F6"].value == "#N/A"
    assert cached["Calc"]["C8"].value == 10.0
